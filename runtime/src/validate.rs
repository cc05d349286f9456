//! Client-side checks emitted by generated setters and `send()`. Each failure is an
//! [`Error::InvalidParameter`] that names the parameter and the expected form and describes what
//! came without echoing personal data.
//!
//! ```
//! use trusthub_runtime::validate;
//!
//! validate::sid("FetchCustomerProfile", "Sid", "BUaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", Some("BU"))?;
//! let error = validate::sid("FetchCustomerProfile", "Sid", "BU123", Some("BU")).unwrap_err();
//! assert!(error.to_string().contains("length 5"));
//! validate::length("CreateEndUser", "FriendlyName", "Acme", Some(1), Some(64))?;
//! validate::range("ListPolicies", "PageSize", 50, Some(1), Some(1000))?;
//! # Ok::<(), trusthub_runtime::Error>(())
//! ```

use crate::error::Error;

/// Hex digits after the two-letter prefix of every Twilio SID.
const SID_HEX_LEN: usize = 32;

/// Checks a Twilio SID: with `prefix` `Some("BU")`, `^BU[0-9a-fA-F]{32}$`; with `None`, any two
/// letters, `^[a-zA-Z]{2}[0-9a-fA-F]{32}$`. `found` describes the first problem: the length, the
/// prefix, or the position of the first non-hex character.
pub fn sid(
    operation: &'static str,
    parameter: &'static str,
    value: &str,
    prefix: Option<&str>,
) -> Result<(), Error> {
    let expected = match prefix {
        Some(p) => format!("^{p}[0-9a-fA-F]{{{SID_HEX_LEN}}}$"),
        None => format!("^[a-zA-Z]{{2}}[0-9a-fA-F]{{{SID_HEX_LEN}}}$"),
    };
    let fail = |found: String| {
        Err(Error::InvalidParameter {
            operation,
            parameter,
            expected: expected.clone(),
            found,
        })
    };
    let chars: Vec<char> = value.chars().collect();
    let prefix_len = prefix.map_or(2, |p| p.chars().count());
    if chars.len() != prefix_len + SID_HEX_LEN {
        return fail(if chars.is_empty() {
            "an empty value".to_owned()
        } else {
            format!("length {}", chars.len())
        });
    }
    let head: String = chars[..prefix_len].iter().collect();
    let head_ok = match prefix {
        Some(p) => head == p,
        None => chars[..2].iter().all(char::is_ascii_alphabetic),
    };
    if !head_ok {
        let shown = if head.chars().all(|c| c.is_ascii_alphanumeric()) {
            format!("prefix \"{head}\"")
        } else {
            "a prefix with characters that are not letters".to_owned()
        };
        return fail(shown);
    }
    if let Some(position) = chars[prefix_len..]
        .iter()
        .position(|c| !c.is_ascii_hexdigit())
    {
        return fail(format!(
            "a non-hex character at position {} (counting from 1)",
            prefix_len + position + 1
        ));
    }
    Ok(())
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
    Err(Error::InvalidParameter {
        operation,
        parameter,
        expected: bounds_text(min, max, "characters"),
        found: format!("{count} characters"),
    })
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
    Err(Error::InvalidParameter {
        operation,
        parameter,
        expected: bounds_text(min, max, "").trim_end().to_owned(),
        found: value.to_string(),
    })
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

    fn found(result: Result<(), Error>) -> (String, String) {
        match result {
            Err(Error::InvalidParameter {
                expected, found, ..
            }) => (expected, found),
            other => panic!("expected InvalidParameter, got {other:?}"),
        }
    }

    const BU: &str = "BU0123456789abcdefABCDEF0123456789";

    #[test]
    fn good_sids_pass() {
        assert_eq!(BU.len(), 34);
        assert!(sid("Op", "Sid", BU, Some("BU")).is_ok());
        assert!(sid("Op", "Sid", BU, None).is_ok());
        assert!(sid(
            "Op",
            "Sid",
            "RNdfbf3fae0e1107f8aded0e7cead80bf5",
            Some("RN")
        )
        .is_ok());
    }

    #[test]
    fn bad_sids_are_described() {
        let (expected, what) = found(sid("Op", "Sid", "BU123", Some("BU")));
        assert_eq!(expected, "^BU[0-9a-fA-F]{32}$");
        assert_eq!(what, "length 5");
        let (_, what) = found(sid("Op", "Sid", "", Some("BU")));
        assert_eq!(what, "an empty value");
        let (_, what) = found(sid(
            "Op",
            "Sid",
            "IT0123456789abcdefABCDEF0123456789",
            Some("BU"),
        ));
        assert_eq!(what, "prefix \"IT\"");
        let (expected, what) = found(sid("Op", "Sid", "120123456789abcdefABCDEF0123456789", None));
        assert_eq!(expected, "^[a-zA-Z]{2}[0-9a-fA-F]{32}$");
        assert_eq!(what, "prefix \"12\"");
        let (_, what) = found(sid(
            "Op",
            "Sid",
            "BU0123456789abcdefABCDEF012345678g",
            Some("BU"),
        ));
        assert_eq!(what, "a non-hex character at position 34 (counting from 1)");
    }

    #[test]
    fn a_pasted_email_is_not_echoed() {
        let email = "jane.doe.compliance@example-corp.com";
        assert_eq!(email.chars().count(), 36);
        let error = sid("Op", "Sid", email, Some("BU")).unwrap_err().to_string();
        assert!(!error.contains("jane"), "{error}");
        let email34 = "jane.doe.compliance@example-co.com";
        assert_eq!(email34.len(), 34);
        let error = sid("Op", "Sid", email34, None).unwrap_err().to_string();
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
