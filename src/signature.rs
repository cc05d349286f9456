//! Status callbacks: checking Twilio's request signature and reading the event.
//!
//! When a customer profile changes status, Twilio POSTs a form to the profile's
//! `StatusCallback` URL, signed in the `X-Twilio-Signature` header:
//! `base64(HMAC-SHA1(auth_token, url + k1 + v1 + k2 + v2 + ...))` with the form
//! parameters sorted by key (then value). [`validate_signature`] checks it in constant
//! time; [`StatusCallbackEvent::from_form`] reads the event; [`verify_and_parse`] does
//! both from the raw body.
//!
//! ```
//! use trusthub::signature::{compute_signature, validate_signature};
//!
//! let url = "https://mycompany.com/myapp.php?foo=1&bar=2";
//! let params = [("Digits", "1234"), ("CallSid", "CA1234567890ABCDE")];
//! let header = compute_signature("12345", url, &params);
//! assert!(validate_signature("12345", url, &params, &header).is_ok());
//! assert!(validate_signature("12345", url, &[("Digits", "1235")], &header).is_err());
//! ```
//!
//! Neither errors nor `Debug` output contain the auth token, the signature or parameter
//! values.

use std::fmt;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha1::Sha1;

use crate::api::runtime::StringEnum;
use crate::api::trusthub_v1::CustomerProfileStatus;
use crate::sid::{AccountSid, CustomerProfileSid, SidError};

/// Name of the HTTP header carrying the signature.
pub const SIGNATURE_HEADER: &str = "X-Twilio-Signature";

type HmacSha1 = Hmac<Sha1>;

/// Why a signature was rejected. Says nothing about the expected signature.
///
/// ```
/// use trusthub::signature::{compute_signature, validate_signature, SignatureError};
///
/// let url = "https://isv.example.com/trusthub/status";
/// let params = [("BundleSid", "BU0123456789abcdef0123456789abcdef"), ("Status", "in-review")];
/// let header = compute_signature("auth token", url, &params);
///
/// let check = |token: &str, url: &str, header: &str| {
///     validate_signature(token, url, &params, header)
/// };
/// assert_eq!(check("auth token", url, &header), Ok(()));
/// assert_eq!(check("auth token", url, " "), Err(SignatureError::Missing));
/// assert_eq!(check("auth token", url, "c2lnbmF0dXJl"), Err(SignatureError::Malformed));
/// assert_eq!(check("other token", url, &header), Err(SignatureError::Mismatch));
/// // A proxy that spells out the default port does not break the check.
/// let with_port = "https://isv.example.com:443/trusthub/status";
/// assert_eq!(check("auth token", with_port, &header), Ok(()));
/// assert!(!SignatureError::Mismatch.to_string().contains(&header));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SignatureError {
    /// The header is missing or empty.
    #[error("the X-Twilio-Signature header is missing or empty")]
    Missing,
    /// The header is not the base64 of a 20-byte HMAC-SHA1.
    #[error("the X-Twilio-Signature header is not a base64-encoded HMAC-SHA1 (20 bytes)")]
    Malformed,
    /// The signature does not match this URL, these parameters and this auth token.
    #[error(
        "the X-Twilio-Signature does not match the URL, parameters and auth token \
         (check that the URL is exactly the one Twilio called, including the query string)"
    )]
    Mismatch,
}

/// The MAC over `url` and the sorted parameters.
fn mac_for<K: AsRef<str>, V: AsRef<str>>(
    auth_token: &str,
    url: &str,
    params: &[(K, V)],
) -> HmacSha1 {
    let mut sorted: Vec<(&str, &str)> = params
        .iter()
        .map(|(k, v)| (k.as_ref(), v.as_ref()))
        .collect();
    sorted.sort_unstable();
    // HMAC takes keys of any length: `new_from_slice` cannot fail.
    let mut mac = match HmacSha1::new_from_slice(auth_token.as_bytes()) {
        Ok(mac) => mac,
        Err(_) => unreachable!("HMAC accepts keys of any length"),
    };
    mac.update(url.as_bytes());
    for (k, v) in sorted {
        mac.update(k.as_bytes());
        mac.update(v.as_bytes());
    }
    mac
}

/// The signature Twilio sends for a request to `url` with form `params`: base64 of
/// HMAC-SHA1 keyed with `auth_token` over the URL followed by every key and value,
/// sorted by key then value. Useful to sign test requests.
pub fn compute_signature<K: AsRef<str>, V: AsRef<str>>(
    auth_token: &str,
    url: &str,
    params: &[(K, V)],
) -> String {
    STANDARD.encode(mac_for(auth_token, url, params).finalize().into_bytes())
}

/// Checks `signature_header` (the `X-Twilio-Signature` value) for a request to `url` with
/// form `params`, in constant time.
///
/// `url` is the full URL Twilio called, query string included. As Twilio's own libraries
/// do, the URL is also tried with its default port added (`:443`/`:80`) when it has none,
/// or with its port removed when it has one, since proxies may change that part.
///
/// Not supported: the `bodySHA256` scheme Twilio uses for JSON bodies (status callbacks
/// are forms).
pub fn validate_signature<K: AsRef<str>, V: AsRef<str>>(
    auth_token: &str,
    url: &str,
    params: &[(K, V)],
    signature_header: &str,
) -> Result<(), SignatureError> {
    let header = signature_header.trim();
    if header.is_empty() {
        return Err(SignatureError::Missing);
    }
    let expected = STANDARD
        .decode(header)
        .map_err(|_| SignatureError::Malformed)?;
    if expected.len() != 20 {
        return Err(SignatureError::Malformed);
    }
    let alternative = toggle_port(url);
    let candidates = std::iter::once(url).chain(alternative.as_deref());
    let mut ok = false;
    for candidate in candidates {
        // Evaluate every candidate: no early exit that would reveal which one matched.
        ok |= mac_for(auth_token, candidate, params)
            .verify_slice(&expected)
            .is_ok();
    }
    if ok {
        Ok(())
    } else {
        Err(SignatureError::Mismatch)
    }
}

/// The URL with its explicit port removed, or with the scheme's default port added;
/// `None` when neither applies (unknown scheme, unparsable URL).
fn toggle_port(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let default_port = match scheme.to_ascii_lowercase().as_str() {
        "https" => "443",
        "http" => "80",
        _ => return None,
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let host_start = authority.rfind('@').map_or(0, |i| i + 1);
    let host_port = &authority[host_start..];
    // A port is ':' digits after the host (after ']' for IPv6 literals).
    let search_from = host_port.rfind(']').unwrap_or(0);
    let port_colon = host_port[search_from..]
        .rfind(':')
        .map(|i| i + search_from)
        .filter(|&i| {
            let port = &host_port[i + 1..];
            !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit())
        });
    let new_authority = match port_colon {
        Some(i) => format!("{}{}", &authority[..host_start], &host_port[..i]),
        None if host_port.is_empty() => return None,
        None => format!("{authority}:{default_port}"),
    };
    Some(format!("{scheme}://{new_authority}{tail}"))
}

/// A form body could not be decoded.
///
/// ```
/// use trusthub::signature::{decode_form, FormDecodeError};
///
/// assert_eq!(
///     decode_form(b"Status=draft&FailureReason=100%"),
///     Err(FormDecodeError::BadPercentEscape { offset: 30 })
/// );
/// let err = decode_form(b"Status=draft&FailureReason=%FF").unwrap_err();
/// assert_eq!(err, FormDecodeError::InvalidUtf8 { index: 1 });
/// assert_eq!(
///     err.to_string(),
///     "form parameter number 1 (0-based) is not valid UTF-8 once decoded"
/// );
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FormDecodeError {
    /// A `%` is not followed by two hexadecimal digits.
    #[error("invalid percent-escape at byte {offset} of the form body")]
    BadPercentEscape {
        /// Byte offset of the `%` in the body.
        offset: usize,
    },
    /// A decoded key or value is not UTF-8.
    #[error("form parameter number {index} (0-based) is not valid UTF-8 once decoded")]
    InvalidUtf8 {
        /// Index of the `key=value` pair.
        index: usize,
    },
}

/// Decodes an `application/x-www-form-urlencoded` body: pairs separated by `&`, key and
/// value by the first `=`, `+` is a space, `%XX` a byte. Empty pairs are skipped; a pair
/// without `=` has an empty value. Order and duplicates are kept.
///
/// ```
/// use trusthub::signature::decode_form;
///
/// let pairs = decode_form(b"Status=twilio-approved&FailureReason=a+b%2Cc")?;
/// assert_eq!(pairs[1], ("FailureReason".to_owned(), "a b,c".to_owned()));
/// # Ok::<(), trusthub::signature::FormDecodeError>(())
/// ```
pub fn decode_form(body: &[u8]) -> Result<Vec<(String, String)>, FormDecodeError> {
    let mut out = Vec::new();
    let mut offset = 0;
    for (index, pair) in body.split(|&b| b == b'&').enumerate() {
        let start = offset;
        offset += pair.len() + 1;
        if pair.is_empty() {
            continue;
        }
        let eq = pair.iter().position(|&b| b == b'=');
        let (key, value, value_start) = match eq {
            Some(i) => (&pair[..i], &pair[i + 1..], start + i + 1),
            None => (pair, &pair[pair.len()..], start + pair.len()),
        };
        let key = percent_decode(key, start)?;
        let value = percent_decode(value, value_start)?;
        let key = String::from_utf8(key).map_err(|_| FormDecodeError::InvalidUtf8 { index })?;
        let value = String::from_utf8(value).map_err(|_| FormDecodeError::InvalidUtf8 { index })?;
        out.push((key, value));
    }
    Ok(out)
}

/// Decodes `+` and `%XX` in one key or value starting at byte `base` of the body.
fn percent_decode(bytes: &[u8], base: usize) -> Result<Vec<u8>, FormDecodeError> {
    let hex = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hi = bytes.get(i + 1).copied().and_then(hex);
                let lo = bytes.get(i + 2).copied().and_then(hex);
                match (hi, lo) {
                    (Some(hi), Some(lo)) => out.push((hi << 4) | lo),
                    _ => return Err(FormDecodeError::BadPercentEscape { offset: base + i }),
                }
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    Ok(out)
}

/// Parameter names read for each field of a [`StatusCallbackEvent`], first match wins.
///
/// **Assumption:** Twilio does not document the body of Trust Hub status callbacks. These
/// names follow its other bundle callbacks (PascalCase, `BundleSid`), with the snake_case
/// forms of the resource's JSON accepted too.
pub mod params {
    /// The profile (bundle) SID.
    pub const BUNDLE_SID: &[&str] = &[
        "BundleSid",
        "bundle_sid",
        "CustomerProfileSid",
        "customer_profile_sid",
    ];
    /// The new status.
    pub const STATUS: &[&str] = &["Status", "status"];
    /// Why the profile was rejected.
    pub const FAILURE_REASON: &[&str] = &["FailureReason", "failure_reason"];
    /// The account owning the profile.
    pub const ACCOUNT_SID: &[&str] = &["AccountSid", "account_sid"];
}

/// A status change of a customer profile, read from a status callback.
///
/// ```
/// use trusthub::api::trusthub_v1::CustomerProfileStatus;
/// use trusthub::signature::{decode_form, StatusCallbackEvent};
///
/// let body = b"AccountSid=AC0123456789abcdef0123456789abcdef\
///     &BundleSid=BU0123456789abcdef0123456789abcdef\
///     &Status=twilio-rejected&FailureReason=Address+does+not+match";
/// let event = StatusCallbackEvent::from_form(&decode_form(body)?)?;
/// assert_eq!(event.customer_profile_sid, "BU0123456789abcdef0123456789abcdef");
/// assert_eq!(event.status, CustomerProfileStatus::TwilioRejected);
/// assert_eq!(event.failure_reason.as_deref(), Some("Address does not match"));
/// assert!(event.account_sid.is_some());
/// assert_eq!(
///     event.to_string(),
///     "BU0123456789abcdef0123456789abcdef is now twilio-rejected: Address does not match"
/// );
///
/// // snake_case names and upper-case statuses are read too.
/// let event = StatusCallbackEvent::from_form(&[
///     ("bundle_sid", "BU0123456789abcdef0123456789abcdef"),
///     ("status", "TWILIO_APPROVED"),
/// ])?;
/// assert_eq!(event.status, CustomerProfileStatus::TwilioApproved);
/// assert_eq!((event.failure_reason, event.account_sid), (None, None));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusCallbackEvent {
    /// The profile whose status changed (parameter `BundleSid` or `bundle_sid`).
    pub customer_profile_sid: CustomerProfileSid,
    /// The new status; values this crate does not list are kept as `Unlisted`.
    pub status: CustomerProfileStatus,
    /// Why the profile was rejected, when Twilio says (parameter `FailureReason`).
    pub failure_reason: Option<String>,
    /// The account owning the profile (parameter `AccountSid`), when sent.
    pub account_sid: Option<AccountSid>,
}

/// A status callback could not be accepted.
///
/// ```
/// use trusthub::signature::*;
///
/// let url = "https://isv.example.com/trusthub/status";
/// let body = b"BundleSid=BU0123456789abcdef0123456789abcdef&Status=in-review";
/// let header = compute_signature("auth token", url, &decode_form(body)?);
/// assert!(verify_and_parse("auth token", url, body, &header).is_ok());
///
/// let tampered = b"BundleSid=BU0123456789abcdef0123456789abcdef&Status=twilio-approved";
/// assert_eq!(
///     verify_and_parse("auth token", url, tampered, &header).unwrap_err(),
///     CallbackError::Signature(SignatureError::Mismatch)
/// );
/// assert!(matches!(
///     StatusCallbackEvent::from_form(&[("BundleSid", "BU0123456789abcdef0123456789abcdef")]),
///     Err(CallbackError::MissingParameter { names }) if names == params::STATUS
/// ));
/// let wrong_kind = [("BundleSid", "RN0123456789abcdef0123456789abcdef"), ("Status", "draft")];
/// match StatusCallbackEvent::from_form(&wrong_kind).unwrap_err() {
///     CallbackError::InvalidSid { parameter, source } => {
///         assert_eq!(parameter, "BundleSid");
///         assert_eq!(source.kind(), "CustomerProfileSid");
///     }
///     other => panic!("unexpected {other}"),
/// }
/// # Ok::<(), FormDecodeError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CallbackError {
    /// The signature check failed.
    #[error(transparent)]
    Signature(#[from] SignatureError),
    /// The body is not a valid form.
    #[error(transparent)]
    Form(#[from] FormDecodeError),
    /// A required parameter is absent (or empty).
    #[error("status callback parameter missing: expected one of {names:?}")]
    MissingParameter {
        /// The names that were looked for.
        names: &'static [&'static str],
    },
    /// A SID parameter does not match its pattern.
    #[error("status callback parameter {parameter}: {source}")]
    InvalidSid {
        /// The parameter name found.
        parameter: String,
        /// What is wrong with it.
        source: SidError,
    },
}

impl StatusCallbackEvent {
    /// Reads the event from decoded form parameters (names in [`params`]).
    ///
    /// The status is matched exactly first, then ignoring case and `_`/`-`
    /// (`TWILIO_APPROVED` reads as [`CustomerProfileStatus::TwilioApproved`]); anything else is
    /// kept as `CustomerProfileStatus::Unlisted`. An empty `FailureReason` is `None`.
    pub fn from_form<K: AsRef<str>, V: AsRef<str>>(
        params: &[(K, V)],
    ) -> Result<Self, CallbackError> {
        let customer_profile_sid =
            sid_param(params, params::BUNDLE_SID)?.ok_or(CallbackError::MissingParameter {
                names: params::BUNDLE_SID,
            })?;
        let (_, status) =
            find_param(params, params::STATUS).ok_or(CallbackError::MissingParameter {
                names: params::STATUS,
            })?;
        let status = match CustomerProfileStatus::from_wire(status) {
            CustomerProfileStatus::Unlisted(kept) => {
                let folded = kept.trim().to_ascii_lowercase().replace('_', "-");
                match CustomerProfileStatus::from_wire(&folded) {
                    CustomerProfileStatus::Unlisted(_) => CustomerProfileStatus::Unlisted(kept),
                    listed => listed,
                }
            }
            listed => listed,
        };
        let failure_reason = find_param(params, params::FAILURE_REASON).map(|(_, v)| v.to_owned());
        let account_sid: Option<AccountSid> = sid_param(params, params::ACCOUNT_SID)?;
        Ok(StatusCallbackEvent {
            customer_profile_sid,
            status,
            failure_reason,
            account_sid,
        })
    }
}

/// The first non-empty parameter named by one of `names` (in the order of `names`).
fn find_param<'a, K: AsRef<str>, V: AsRef<str>>(
    params: &'a [(K, V)],
    names: &'static [&'static str],
) -> Option<(&'a str, &'a str)> {
    names.iter().find_map(|name| {
        params
            .iter()
            .map(|(k, v)| (k.as_ref(), v.as_ref()))
            .find(|(k, _)| k == name)
            .filter(|(_, v)| !v.trim().is_empty())
    })
}

/// The SID parameter named by one of `names`, parsed; `Ok(None)` when absent.
fn sid_param<T, K, V>(
    params: &[(K, V)],
    names: &'static [&'static str],
) -> Result<Option<T>, CallbackError>
where
    T: std::str::FromStr<Err = SidError>,
    K: AsRef<str>,
    V: AsRef<str>,
{
    match find_param(params, names) {
        None => Ok(None),
        Some((k, v)) => v
            .trim()
            .parse()
            .map(Some)
            .map_err(|source| CallbackError::InvalidSid {
                parameter: k.to_owned(),
                source,
            }),
    }
}

impl fmt::Display for StatusCallbackEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} is now {}", self.customer_profile_sid, self.status)?;
        if let Some(reason) = &self.failure_reason {
            write!(f, ": {reason}")?;
        }
        Ok(())
    }
}

/// Decodes a status callback's form `body`, checks its `X-Twilio-Signature`
/// (`signature_header`) against `url` and `auth_token`, and reads the event.
///
/// `url` must be the full URL Twilio called, as configured in `StatusCallback`.
pub fn verify_and_parse(
    auth_token: &str,
    url: &str,
    body: &[u8],
    signature_header: &str,
) -> Result<StatusCallbackEvent, CallbackError> {
    let params = decode_form(body)?;
    validate_signature(auth_token, url, &params, signature_header)?;
    StatusCallbackEvent::from_form(&params)
}
