//! Client-side checks emitted by generated setters and `send()`. Each failure is an
//! [`ErrorKind::InvalidParameter`](crate::ErrorKind::InvalidParameter) error that names the parameter and the expected form and describes what
//! came without echoing personal data.
//!
//! ```
//! use trusthub_runtime::validate;
//!
//! use trusthub_runtime::sid::CustomerProfileSid;
//!
//! let sid: CustomerProfileSid =
//!     validate::sid("FetchCustomerProfile", "Sid", "BUaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")?;
//! let error = validate::sid::<CustomerProfileSid>("FetchCustomerProfile", "Sid", "BU123").unwrap_err();
//! assert!(error.to_string().contains("length 5"));
//! validate::length("CreateEndUser", "FriendlyName", "Acme", Some(1), Some(64))?;
//! validate::range("ListPolicies", "PageSize", 50, Some(1), Some(1000))?;
//! # Ok::<(), trusthub_runtime::Error>(())
//! ```

use std::str::FromStr;

use crate::error::Error;
use crate::sid::{SidError, SidProblem};

/// Checks a SID argument of a generated call: a typed SID passes as is; a string that was not a
/// SID of the expected kind becomes an [`ErrorKind::InvalidParameter`](crate::ErrorKind::InvalidParameter)
/// error naming the operation, the
/// parameter and the pattern, and describing the first problem (the length, the prefix or the
/// position of the first non-hex character) without echoing the value.
pub fn sid_arg<T: Copy>(
    operation: &'static str,
    parameter: &'static str,
    arg: &Result<T, SidError>,
) -> Result<T, Error> {
    match arg {
        Ok(sid) => Ok(*sid),
        Err(error) => Err(invalid_sid(operation, parameter, error)),
    }
}

/// Parses `value` as a SID of kind `T`, failing like [`sid_arg`].
pub fn sid<T: FromStr<Err = SidError>>(
    operation: &'static str,
    parameter: &'static str,
    value: &str,
) -> Result<T, Error> {
    value
        .parse()
        .map_err(|error| invalid_sid(operation, parameter, &error))
}

/// The [`ErrorKind::InvalidParameter`](crate::ErrorKind::InvalidParameter) error of a string that is not a SID.
fn invalid_sid(operation: &'static str, parameter: &'static str, error: &SidError) -> Error {
    let found = match error.problem() {
        SidProblem::Length { found: 0 } => "an empty value".to_owned(),
        SidProblem::Length { found } => format!("length {found}"),
        SidProblem::Prefix { found } if found.chars().all(|c| c.is_ascii_alphanumeric()) => {
            format!("prefix \"{found}\"")
        }
        SidProblem::Prefix { .. } => "a prefix with characters that are not letters".to_owned(),
        SidProblem::NotHex { position, .. } => format!(
            "a non-hex character at position {} (counting from 1)",
            position + 1
        ),
    };
    Error::invalid_parameter(operation, parameter, error.pattern().to_owned(), found)
}

/// Checks the length of a text parameter in characters (Unicode scalar values, as OpenAPI's
/// `minLength` / `maxLength`). The value is never echoed.
pub fn length(
    operation: &'static str,
    parameter: &'static str,
    value: &str,
    min: Option<usize>,
    max: Option<usize>,
) -> Result<(), Error> {
    let count = value.chars().count();
    let too_short = min.is_some_and(|m| count < m);
    let too_long = max.is_some_and(|m| count > m);
    if !too_short && !too_long {
        return Ok(());
    }
    Err(Error::invalid_parameter(
        operation,
        parameter,
        bounds_text(min, max, "characters"),
        format!("{count} characters"),
    ))
}

/// Checks an integer parameter against inclusive bounds. Numbers are not personal data and are
/// echoed.
pub fn range(
    operation: &'static str,
    parameter: &'static str,
    value: i64,
    min: Option<i64>,
    max: Option<i64>,
) -> Result<(), Error> {
    let too_small = min.is_some_and(|m| value < m);
    let too_large = max.is_some_and(|m| value > m);
    if !too_small && !too_large {
        return Ok(());
    }
    Err(Error::invalid_parameter(
        operation,
        parameter,
        bounds_text(min, max, "").trim_end().to_owned(),
        value.to_string(),
    ))
}

fn bounds_text<T: std::fmt::Display>(min: Option<T>, max: Option<T>, unit: &str) -> String {
    match (min, max) {
        (Some(lo), Some(hi)) => format!("{lo} to {hi} {unit}"),
        (Some(lo), None) => format!("at least {lo} {unit}"),
        (None, Some(hi)) => format!("at most {hi} {unit}"),
        (None, None) => format!("any number of {unit}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::sid::{CustomerProfileSid, ObjectSid, PolicySid};

    fn bu(value: &str) -> Result<(), Error> {
        sid::<CustomerProfileSid>("Op", "Sid", value).map(drop)
    }

    fn any(value: &str) -> Result<(), Error> {
        sid::<ObjectSid>("Op", "Sid", value).map(drop)
    }

    fn found(result: Result<(), Error>) -> (String, String) {
        match result {
            Err(error) if error.kind() == crate::ErrorKind::InvalidParameter => (
                error.expected().unwrap().to_owned(),
                error.found().unwrap().to_owned(),
            ),
            other => panic!("expected InvalidParameter, got {other:?}"),
        }
    }

    const BU: &str = "BU0123456789abcdefABCDEF0123456789";

    #[test]
    fn good_sids_pass() {
        assert_eq!(BU.len(), 34);
        assert!(bu(BU).is_ok());
        assert!(any(BU).is_ok());
        assert!(
            sid::<PolicySid>("Op", "Sid", "RNdfbf3fae0e1107f8aded0e7cead80bf5")
                .map(drop)
                .is_ok()
        );
    }

    #[test]
    fn bad_sids_are_described() {
        let (expected, what) = found(bu("BU123"));
        assert_eq!(expected, "^BU[0-9a-fA-F]{32}$");
        assert_eq!(what, "length 5");
        let (_, what) = found(bu(""));
        assert_eq!(what, "an empty value");
        let (_, what) = found(bu("IT0123456789abcdefABCDEF0123456789"));
        assert_eq!(what, "prefix \"IT\"");
        let (expected, what) = found(any("120123456789abcdefABCDEF0123456789"));
        assert_eq!(expected, "^[a-zA-Z]{2}[0-9a-fA-F]{32}$");
        assert_eq!(what, "prefix \"12\"");
        let (_, what) = found(bu("BU0123456789abcdefABCDEF012345678g"));
        assert_eq!(what, "a non-hex character at position 34 (counting from 1)");
    }

    #[test]
    fn a_pasted_email_is_not_echoed() {
        let email = "jane.doe.compliance@example-corp.com";
        assert_eq!(email.chars().count(), 36);
        let error = bu(email).unwrap_err().to_string();
        assert!(!error.contains("jane"), "{error}");
        let email34 = "jane.doe.compliance@example-co.com";
        assert_eq!(email34.len(), 34);
        let error = any(email34).unwrap_err().to_string();
        assert!(!error.contains("example"), "{error}");
        assert!(error.contains("position"), "{error}");
    }

    #[test]
    fn length_bounds() {
        assert!(length("Op", "FriendlyName", "abc", Some(1), Some(3)).is_ok());
        assert!(length("Op", "FriendlyName", "日本語", Some(3), Some(3)).is_ok());
        let (expected, what) = found(length("Op", "FriendlyName", "", Some(1), Some(64)));
        assert_eq!(
            (expected.as_str(), what.as_str()),
            ("1 to 64 characters", "0 characters")
        );
        let result = length("Op", "FriendlyName", "Jane Doe", None, Some(4));
        let text = result.unwrap_err().to_string();
        assert!(text.contains("at most 4 characters") && text.contains("8 characters"));
        assert!(!text.contains("Jane"), "{text}");
    }

    #[test]
    fn range_bounds() {
        assert!(range("Op", "PageSize", 1, Some(1), Some(1000)).is_ok());
        assert!(range("Op", "PageSize", 1000, Some(1), Some(1000)).is_ok());
        let (expected, what) = found(range("Op", "PageSize", 1001, Some(1), Some(1000)));
        assert_eq!((expected.as_str(), what.as_str()), ("1 to 1000", "1001"));
        let (expected, what) = found(range("Op", "Page", -1, Some(0), None));
        assert_eq!((expected.as_str(), what.as_str()), ("at least 0", "-1"));
    }
}
