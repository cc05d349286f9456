//! Serde helpers for `Option<time::OffsetDateTime>` fields in Twilio's two date formats.
//!
//! Use with `#[serde(default, with = "trusthub_runtime::date::iso8601_option")]`. `null`, `""`
//! and a missing field (thanks to `default`) give `None`; a malformed date is a decode error
//! naming the expected format (never a silent `None`), and the error does not echo the value.
//!
//! ```
//! use serde::{Deserialize, Serialize};
//! use time::OffsetDateTime;
//!
//! #[derive(Deserialize, Serialize)]
//! struct Profile {
//!     #[serde(default, with = "trusthub_runtime::date::iso8601_option")]
//!     date_created: Option<OffsetDateTime>,
//!     #[serde(default, with = "trusthub_runtime::date::rfc2822_option")]
//!     date_updated: Option<OffsetDateTime>,
//! }
//!
//! let p: Profile = serde_json::from_str(
//!     r#"{"date_created": "2019-07-30T22:29:24Z", "date_updated": "Tue, 18 Aug 2015 17:07:30 +0000"}"#,
//! )?;
//! assert_eq!(p.date_created.unwrap().unix_timestamp(), 1_564_525_764);
//! let p: Profile = serde_json::from_str("{}")?;
//! assert!(p.date_created.is_none() && p.date_updated.is_none());
//! # Ok::<(), serde_json::Error>(())
//! ```

use std::fmt;

use serde::de::{self, Deserializer, Visitor};
use serde::Serializer;
use time::format_description::well_known::{Rfc2822, Rfc3339};
use time::OffsetDateTime;

/// A date format: how to parse and print, and how to name it in errors.
trait Format {
    /// Starts with "expected " so that [`decode_json`](crate::decode_json) keeps the message.
    const EXPECTED: &'static str;
    fn parse(text: &str) -> Option<OffsetDateTime>;
    fn format(value: &OffsetDateTime) -> Result<String, time::error::Format>;
}

struct Iso8601;

impl Format for Iso8601 {
    const EXPECTED: &'static str =
        "expected an ISO 8601 (RFC 3339) date-time like 2019-07-30T22:29:24Z";
    fn parse(text: &str) -> Option<OffsetDateTime> {
        OffsetDateTime::parse(text, &Rfc3339).ok()
    }
    fn format(value: &OffsetDateTime) -> Result<String, time::error::Format> {
        value.format(&Rfc3339)
    }
}

struct Rfc2822Date;

impl Format for Rfc2822Date {
    const EXPECTED: &'static str =
        "expected an RFC 2822 date-time like Tue, 18 Aug 2015 17:07:30 +0000";
    fn parse(text: &str) -> Option<OffsetDateTime> {
        OffsetDateTime::parse(text, &Rfc2822).ok()
    }
    fn format(value: &OffsetDateTime) -> Result<String, time::error::Format> {
        value.format(&Rfc2822)
    }
}

struct OptionVisitor<F>(std::marker::PhantomData<F>);

impl<'de, F: Format> Visitor<'de> for OptionVisitor<F> {
    type Value = Option<OffsetDateTime>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // serde writes "invalid type: X, expected <this>".
        f.write_str(F::EXPECTED.trim_start_matches("expected "))?;
        f.write_str(", null or an empty string")
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_str(self)
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<Self::Value, E> {
        let trimmed = text.trim();
        if trimmed.is_empty() {
            return Ok(None);
        }
        F::parse(trimmed).map(Some).ok_or_else(|| {
            E::custom(format_args!(
                "{} (got a {}-character string that is not one)",
                F::EXPECTED,
                text.chars().count()
            ))
        })
    }
}

fn deserialize<'de, F: Format, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<OffsetDateTime>, D::Error> {
    deserializer.deserialize_option(OptionVisitor::<F>(std::marker::PhantomData))
}

fn serialize<F: Format, S: Serializer>(
    value: &Option<OffsetDateTime>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match value {
        Some(date) => {
            let text = F::format(date).map_err(|e| {
                serde::ser::Error::custom(format_args!("cannot format the date-time: {e}"))
            })?;
            serializer.serialize_str(&text)
        }
        None => serializer.serialize_none(),
    }
}

/// Trust Hub dates: ISO 8601 / RFC 3339 (`2019-07-30T22:29:24Z`). Serializes RFC 3339 (UTC as `Z`).
pub mod iso8601_option {
    use super::*;

    /// Deserializes `"2019-07-30T22:29:24Z"` to `Some`, `null` / `""` to `None`.
    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<OffsetDateTime>, D::Error> {
        super::deserialize::<Iso8601, D>(deserializer)
    }

    /// Serializes `Some` as RFC 3339 text, `None` as `null`.
    pub fn serialize<S: Serializer>(
        value: &Option<OffsetDateTime>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        super::serialize::<Iso8601, S>(value, serializer)
    }
}

/// 2010 API dates: RFC 2822 (`Tue, 18 Aug 2015 17:07:30 +0000`). Serializes RFC 2822.
pub mod rfc2822_option {
    use super::*;

    /// Deserializes `"Tue, 18 Aug 2015 17:07:30 +0000"` to `Some`, `null` / `""` to `None`.
    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<OffsetDateTime>, D::Error> {
        super::deserialize::<Rfc2822Date, D>(deserializer)
    }

    /// Serializes `Some` as RFC 2822 text, `None` as `null`.
    pub fn serialize<S: Serializer>(
        value: &Option<OffsetDateTime>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        super::serialize::<Rfc2822Date, S>(value, serializer)
    }
}

#[cfg(test)]
mod tests {
    use serde::{Deserialize, Serialize};
    use time::macros::datetime;
    use time::OffsetDateTime;

    #[derive(Debug, Deserialize, Serialize, PartialEq)]
    struct Dates {
        #[serde(default, with = "super::iso8601_option")]
        iso: Option<OffsetDateTime>,
        #[serde(default, with = "super::rfc2822_option")]
        rfc: Option<OffsetDateTime>,
    }

    fn parse(json: &str) -> Result<Dates, serde_json::Error> {
        serde_json::from_str(json)
    }

    #[test]
    fn both_formats_parse() {
        let dates =
            parse(r#"{"iso": "2019-07-30T22:29:24Z", "rfc": "Tue, 18 Aug 2015 17:07:30 +0000"}"#)
                .unwrap();
        assert_eq!(dates.iso, Some(datetime!(2019-07-30 22:29:24 UTC)));
        assert_eq!(dates.rfc, Some(datetime!(2015-08-18 17:07:30 UTC)));
        let offset = parse(
            r#"{"iso": "2019-07-30T22:29:24.5+02:00", "rfc": "Tue, 18 Aug 2015 17:07:30 -0700"}"#,
        )
        .unwrap();
        assert_eq!(offset.iso, Some(datetime!(2019-07-30 22:29:24.5 +2)));
        assert_eq!(offset.rfc, Some(datetime!(2015-08-18 17:07:30 -7)));
    }

    #[test]
    fn empty_null_and_missing_are_none() {
        let none = Dates {
            iso: None,
            rfc: None,
        };
        assert_eq!(parse(r#"{"iso": "", "rfc": ""}"#).unwrap(), none);
        assert_eq!(parse(r#"{"iso": null, "rfc": null}"#).unwrap(), none);
        assert_eq!(parse("{}").unwrap(), none);
    }

    #[test]
    fn malformed_is_an_error_naming_the_format_without_the_value() {
        let error = parse(r#"{"iso": "30/07/2019 22:29"}"#)
            .unwrap_err()
            .to_string();
        assert!(error.contains("RFC 3339"), "{error}");
        assert!(!error.contains("30/07/2019"), "{error}");
        // An RFC 2822 date where ISO is expected, and the reverse: Twilio's libraries once
        // mixed these up.
        let error = parse(r#"{"iso": "Tue, 18 Aug 2015 17:07:30 +0000"}"#)
            .unwrap_err()
            .to_string();
        assert!(error.contains("ISO 8601"), "{error}");
        let error = parse(r#"{"rfc": "2019-07-30T22:29:24Z"}"#)
            .unwrap_err()
            .to_string();
        assert!(error.contains("RFC 2822"), "{error}");
        let error = parse(r#"{"iso": 1564525764}"#).unwrap_err().to_string();
        assert!(error.contains("RFC 3339"), "{error}");
    }

    #[test]
    fn serializes_in_the_same_formats() {
        let dates = Dates {
            iso: Some(datetime!(2019-07-30 22:29:24 UTC)),
            rfc: Some(datetime!(2015-08-18 17:07:30 UTC)),
        };
        let json = serde_json::to_string(&dates).unwrap();
        assert_eq!(
            json,
            r#"{"iso":"2019-07-30T22:29:24Z","rfc":"Tue, 18 Aug 2015 17:07:30 +0000"}"#
        );
        assert_eq!(parse(&json).unwrap(), dates);
        let none = serde_json::to_string(&Dates {
            iso: None,
            rfc: None,
        })
        .unwrap();
        assert_eq!(none, r#"{"iso":null,"rfc":null}"#);
    }
}
