//! Status callbacks: checking Twilio's request signature and reading the event.
//!
//! Twilio signs every request it sends in the `X-Twilio-Signature` header, with the auth token
//! of the account as the key, in one of two schemes:
//!
//! - **form bodies** (`application/x-www-form-urlencoded`, e.g. a bundle's status callback):
//!   `base64(HMAC-SHA1(auth_token, url + k1 + v1 + k2 + v2 + ...))` over the parameters sorted
//!   by key; [`validate_signature`];
//! - **other bodies** (JSON, e.g. Event Streams deliveries): the URL Twilio calls carries
//!   `bodySHA256=<hex SHA-256 of the body>` and the signature is
//!   `base64(HMAC-SHA1(auth_token, url))`, no parameter appended; [`validate_signature_with_body`]
//!   checks the signature and the body's hash.
//!
//! Both agree with the validator of twilio-node (`validateRequest`,
//! `validateRequestWithBody`) on every vector of `tests/fixtures/signature_vectors.json`
//! (`cargo xtask signature-vectors` runs twilio-node on them), so that a genuine callback is
//! never refused by us when Twilio's own libraries accept it, and no forgery is accepted:
//!
//! - the URL is tried as received and as a WHATWG URL parser normalises it (scheme and host in
//!   lower case, spaces and other characters percent-encoded, dot segments resolved, an
//!   international host in punycode), each with and without its port, and the normalised form
//!   also with its query re-encoded as Node's `querystring` does (for back ends that signed
//!   `%20` for a `+`);
//! - parameters are sorted by key in UTF-16 code units (as JavaScript sorts), a repeated key's
//!   values deduplicated and sorted the same way;
//! - the header is compared as it is: no whitespace is trimmed, only the canonical base64 of the
//!   20-byte MAC passes; the comparison is constant-time.
//!
//! [`StatusCallbackEvent::from_form`] reads a bundle's event; [`verify_and_parse`] does both from
//! the raw body. [`crate::webhook`] builds the handler of both kinds of callbacks on these.
//!
//! ```
//! use trusthub::signature::{compute_signature, validate_signature};
//!
//! let url = "https://mycompany.com/myapp.php?foo=1&bar=2";
//! let params = [("Digits", "1234"), ("CallSid", "CA1234567890ABCDE")];
//! let header = compute_signature("12345", url, &params);
//! assert!(validate_signature("12345", url, &params, &header).is_ok());
//! assert!(validate_signature("12345", url, &[("Digits", "1235")], &header).is_err());
//! // The URL as a proxy or a framework may spell it: capitals, a default port.
//! let seen = "HTTPS://MyCompany.com:443/myapp.php?foo=1&bar=2";
//! assert!(validate_signature("12345", seen, &params, &header).is_ok());
//! ```
//!
//! Neither errors nor `Debug` output contain the auth token, the signature or parameter
//! values.

use std::cmp::Ordering;
use std::fmt;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha1::Sha1;
use sha2::{Digest, Sha256};

use crate::api::runtime::StringEnum;
use crate::api::trusthub_v1::CustomerProfileStatus;
use crate::sid::{AccountSid, CustomerProfileSid, SidError};

/// Name of the HTTP header carrying the signature.
pub const SIGNATURE_HEADER: &str = "X-Twilio-Signature";

/// The query parameter carrying the SHA-256 (lower-case hex) of a body that is not a form.
pub const BODY_HASH_PARAMETER: &str = "bodySHA256";

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
/// // Twilio's libraries compare the header as it is: a space around it is not the signature.
/// assert_eq!(check("auth token", url, &format!("{header} ")), Err(SignatureError::Malformed));
/// assert_eq!(check("other token", url, &header), Err(SignatureError::Mismatch));
/// // A proxy that spells out the default port does not break the check.
/// let with_port = "https://isv.example.com:443/trusthub/status";
/// assert_eq!(check("auth token", with_port, &header), Ok(()));
/// assert!(!SignatureError::Mismatch.to_string().contains(&header));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SignatureError {
    /// The header is missing, empty or blank.
    #[error("the X-Twilio-Signature header is missing or empty")]
    Missing,
    /// The header is not exactly the base64 of a 20-byte HMAC-SHA1 (no surrounding space).
    #[error(
        "the X-Twilio-Signature header is not a base64-encoded HMAC-SHA1 (28 characters, \
         nothing around them)"
    )]
    Malformed,
    /// The signature does not match this URL, these parameters and this auth token.
    #[error(
        "the X-Twilio-Signature does not match the URL, parameters and auth token \
         (check that the URL is exactly the one Twilio called, including the query string)"
    )]
    Mismatch,
    /// The signature matches the URL, but the URL carries no `bodySHA256`: nothing vouches for
    /// the body.
    #[error(
        "the request URL has no bodySHA256 parameter: the signature does not cover a body \
         that is not a form"
    )]
    BodyHashMissing,
    /// The signature matches the URL, but the body is not the one whose hash it carries.
    #[error("the body does not match the bodySHA256 of the signed URL: it changed on the way")]
    BodyHashMismatch,
}

/// Compares two strings by UTF-16 code units, as JavaScript's default sort does (Twilio's
/// libraries sort parameter names this way; it differs from Rust's byte order for characters
/// beyond the Basic Multilingual Plane against those from U+E000 on).
fn utf16_cmp(a: &str, b: &str) -> Ordering {
    if a.is_ascii() && b.is_ascii() {
        return a.cmp(b);
    }
    a.encode_utf16().cmp(b.encode_utf16())
}

/// The parameters in the order they are signed: keys sorted by UTF-16 code units, each key's
/// distinct values sorted the same way (a value sent twice under one key is signed once).
fn signing_order<K: AsRef<str>, V: AsRef<str>>(params: &[(K, V)]) -> Vec<(&str, &str)> {
    let mut pairs: Vec<(&str, &str)> = params
        .iter()
        .map(|(k, v)| (k.as_ref(), v.as_ref()))
        .collect();
    pairs.sort_by(|a, b| utf16_cmp(a.0, b.0).then_with(|| utf16_cmp(a.1, b.1)));
    pairs.dedup();
    pairs
}

fn new_mac(key: &[u8]) -> HmacSha1 {
    // HMAC takes keys of any length: `new_from_slice` cannot fail.
    match HmacSha1::new_from_slice(key) {
        Ok(mac) => mac,
        Err(_) => unreachable!("HMAC accepts keys of any length"),
    }
}

/// The MAC over `url` and the parameters in signing order.
fn mac_for(auth_token: &[u8], url: &str, signed: &[(&str, &str)]) -> HmacSha1 {
    let mut mac = new_mac(auth_token);
    mac.update(url.as_bytes());
    for (k, v) in signed {
        mac.update(k.as_bytes());
        mac.update(v.as_bytes());
    }
    mac
}

/// The signature Twilio sends for a request to `url` with form `params`: base64 of
/// HMAC-SHA1 keyed with `auth_token` over the URL followed by every key and value in signing
/// order (keys sorted, a key's distinct values sorted). Useful to sign test requests; for a
/// body under the `bodySHA256` scheme, sign the URL carrying the hash with no parameter.
pub fn compute_signature<K: AsRef<str>, V: AsRef<str>>(
    auth_token: &str,
    url: &str,
    params: &[(K, V)],
) -> String {
    let signed = signing_order(params);
    STANDARD.encode(
        mac_for(auth_token.as_bytes(), url, &signed)
            .finalize()
            .into_bytes(),
    )
}

/// The lower-case hex SHA-256 of `body`: the value of `bodySHA256` in the URL Twilio calls
/// with a body that is not a form.
///
/// ```
/// use trusthub::signature::body_sha256;
///
/// assert_eq!(
///     body_sha256(b"[]"),
///     "4f53cda18c2baa0c0354bb5f9a3ecbe5ed12ab4d8e11ba873c2f11161202b945"
/// );
/// ```
pub fn body_sha256(body: &[u8]) -> String {
    let digest = Sha256::digest(body);
    let mut out = String::with_capacity(64);
    for byte in digest {
        out.push_str(&format!("{byte:02x}"));
    }
    out
}

/// Checks `signature_header` (the `X-Twilio-Signature` value) for a request to `url` with
/// form `params`, in constant time.
///
/// `url` is the full URL Twilio called, query string included, as your server saw it. As
/// twilio-node does, it is also tried with its port removed or the scheme's default port
/// added, and as a WHATWG parser normalises it (see the [module](self)).
pub fn validate_signature<K: AsRef<str>, V: AsRef<str>>(
    auth_token: &str,
    url: &str,
    params: &[(K, V)],
    signature_header: &str,
) -> Result<(), SignatureError> {
    verify_params(&[auth_token], url, params, signature_header)
}

/// Checks a request whose body is not a form (a JSON body, under Twilio's `bodySHA256`
/// scheme): the signature must match `url` alone (no parameters appended), and `body` must
/// hash to the `bodySHA256` query parameter of `url`.
///
/// ```
/// use trusthub::signature::*;
///
/// let body = br#"[{"id":"NO0123456789abcdef0123456789abcdef"}]"#;
/// let url = format!("https://isv.example.com/events?bodySHA256={}", body_sha256(body));
/// let header = compute_signature("token", &url, &[] as &[(&str, &str)]);
/// assert_eq!(validate_signature_with_body("token", &url, body, &header), Ok(()));
/// assert_eq!(
///     validate_signature_with_body("token", &url, b"[]", &header),
///     Err(SignatureError::BodyHashMismatch)
/// );
/// let bare = "https://isv.example.com/events";
/// let header = compute_signature("token", bare, &[] as &[(&str, &str)]);
/// assert_eq!(
///     validate_signature_with_body("token", bare, body, &header),
///     Err(SignatureError::BodyHashMissing)
/// );
/// ```
pub fn validate_signature_with_body(
    auth_token: &str,
    url: &str,
    body: &[u8],
    signature_header: &str,
) -> Result<(), SignatureError> {
    verify_body(&[auth_token], url, body, signature_header)
}

/// The 20 bytes a header stands for, if it is exactly their canonical base64.
fn decode_header(signature_header: &str) -> Result<Vec<u8>, SignatureError> {
    if signature_header.trim().is_empty() {
        return Err(SignatureError::Missing);
    }
    // The standard engine requires canonical padding and zero trailing bits and refuses
    // whitespace: exactly one spelling of each MAC passes, as in twilio-node's string compare.
    let expected = STANDARD
        .decode(signature_header)
        .map_err(|_| SignatureError::Malformed)?;
    if expected.len() != 20 {
        return Err(SignatureError::Malformed);
    }
    Ok(expected)
}

/// Whether any token signed any candidate of `url` with `signed` params. Every combination is
/// computed (no early exit that would tell which one matched).
fn any_matches<T: AsRef<str>>(
    tokens: &[T],
    url: &str,
    signed: &[(&str, &str)],
    expected: &[u8],
) -> bool {
    let mut ok = false;
    for candidate in candidate_urls(url) {
        for token in tokens {
            ok |= mac_for(token.as_ref().as_bytes(), &candidate, signed)
                .verify_slice(expected)
                .is_ok();
        }
    }
    ok
}

/// [`validate_signature`] under any of several auth tokens (a rotation, subaccounts).
pub(crate) fn verify_params<T: AsRef<str>, K: AsRef<str>, V: AsRef<str>>(
    tokens: &[T],
    url: &str,
    params: &[(K, V)],
    signature_header: &str,
) -> Result<(), SignatureError> {
    let expected = decode_header(signature_header)?;
    let signed = signing_order(params);
    if any_matches(tokens, url, &signed, &expected) {
        Ok(())
    } else {
        Err(SignatureError::Mismatch)
    }
}

/// [`validate_signature_with_body`] under any of several auth tokens.
pub(crate) fn verify_body<T: AsRef<str>>(
    tokens: &[T],
    url: &str,
    body: &[u8],
    signature_header: &str,
) -> Result<(), SignatureError> {
    let expected = decode_header(signature_header)?;
    // twilio-node reads bodySHA256 from the URL as its WHATWG parser gives it; an unparsable
    // URL is refused there.
    let Ok(parsed) = url::Url::parse(url) else {
        return Err(SignatureError::Mismatch);
    };
    let claimed = parsed
        .query_pairs()
        .find(|(k, _)| k == BODY_HASH_PARAMETER)
        .map(|(_, v)| v.into_owned());
    if !any_matches(tokens, url, &[], &expected) {
        return Err(SignatureError::Mismatch);
    }
    let Some(claimed) = claimed else {
        return Err(SignatureError::BodyHashMissing);
    };
    let actual = body_sha256(body);
    // Not secret, but compared without an early exit all the same.
    let same = claimed.len() == actual.len()
        && claimed
            .bytes()
            .zip(actual.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0;
    if same {
        Ok(())
    } else {
        Err(SignatureError::BodyHashMismatch)
    }
}

/// The URLs a signature is checked against, as twilio-node's `validateRequest` tries them:
/// `url` as received without and with its port, then (when it parses) its WHATWG
/// normalisation without and with its port, and both of these with the query re-encoded by
/// Node's legacy `querystring`. Duplicates are dropped.
fn candidate_urls(url: &str) -> Vec<String> {
    let mut out: Vec<String> = vec![remove_port(url), add_port(url)];
    if let Ok(parsed) = url::Url::parse(url) {
        let normalised = parsed.as_str();
        let without = remove_port(normalised);
        let with = add_port(normalised);
        out.push(legacy_query(&without));
        out.push(legacy_query(&with));
        out.push(without);
        out.push(with);
    }
    let mut unique: Vec<String> = Vec::with_capacity(out.len());
    for candidate in out {
        if !unique.contains(&candidate) {
            unique.push(candidate);
        }
    }
    unique
}

/// A URL's parts, split without normalising anything (twilio-node's `splitUrl`): `scheme://`,
/// the user info with its `@`, the host, the port with its `:`, and everything after the
/// authority. `None` without a `scheme://` prefix.
struct UrlParts<'a> {
    scheme: &'a str,
    user_info: &'a str,
    host: &'a str,
    port: &'a str,
    rest: &'a str,
}

fn split_url(url: &str) -> Option<UrlParts<'_>> {
    let bytes = url.as_bytes();
    if !bytes.first()?.is_ascii_alphabetic() {
        return None;
    }
    let scheme_len = bytes
        .iter()
        .position(|&b| !(b.is_ascii_alphanumeric() || matches!(b, b'+' | b'.' | b'-')))?;
    if !url[scheme_len..].starts_with("://") {
        return None;
    }
    let prefix = scheme_len + 3;
    let authority_len = url[prefix..]
        .find(['/', '?', '#'])
        .unwrap_or(url.len() - prefix);
    let authority = &url[prefix..prefix + authority_len];
    let user_info_len = authority.rfind('@').map_or(0, |i| i + 1);
    let host_and_port = &authority[user_info_len..];
    // A colon starts the port only after the closing bracket of an IPv6 literal.
    let search_from = host_and_port.rfind(']').map_or(0, |i| i + 1);
    let port_start = host_and_port[search_from..]
        .find(':')
        .map(|i| i + search_from);
    let (host, port) = match port_start {
        Some(i) => host_and_port.split_at(i),
        None => (host_and_port, ""),
    };
    Some(UrlParts {
        scheme: &url[..prefix],
        user_info: &authority[..user_info_len],
        host,
        port,
        rest: &url[prefix + authority_len..],
    })
}

/// `url` with the scheme's default port (`:443` for https, `:80` otherwise) when it has none.
fn add_port(url: &str) -> String {
    match split_url(url) {
        Some(p) if p.port.is_empty() => {
            let port = if p.scheme.eq_ignore_ascii_case("https://") {
                ":443"
            } else {
                ":80"
            };
            format!("{}{}{}{port}{}", p.scheme, p.user_info, p.host, p.rest)
        }
        _ => url.to_owned(),
    }
}

/// `url` without its port, whatever it is.
fn remove_port(url: &str) -> String {
    match split_url(url) {
        Some(p) => format!("{}{}{}{}", p.scheme, p.user_info, p.host, p.rest),
        None => url.to_owned(),
    }
}

/// `url` with everything after its first `?` decoded and re-encoded as Node's legacy
/// `querystring.parse` and `stringify` do: pieces split on `&` (the first 1000), each at its
/// first `=`, `+` read as a space, escapes decoded leniently; repeated keys grouped at their
/// first place, keys that are array indices first in numeric order; everything but
/// `A-Za-z0-9!'()*-._~` percent-encoded as UTF-8 with upper-case hex.
fn legacy_query(url: &str) -> String {
    let Some(start) = url.find('?') else {
        return url.to_owned();
    };
    if start == url.len() - 1 {
        return url.to_owned();
    }
    let mut keys: Vec<(String, Vec<String>)> = Vec::new();
    for piece in url[start + 1..].split('&').take(1000) {
        if piece.is_empty() {
            continue;
        }
        let (key, value) = piece.split_once('=').unwrap_or((piece, ""));
        let key = lenient_unescape(&key.replace('+', " "));
        let value = lenient_unescape(&value.replace('+', " "));
        match keys.iter_mut().find(|(k, _)| *k == key) {
            Some((_, values)) => values.push(value),
            None => keys.push((key, vec![value])),
        }
    }
    // JavaScript objects list integer-like keys first, ascending, then the others in order.
    let index = |k: &str| -> Option<u64> {
        let digits = !k.is_empty() && k.len() <= 10 && k.bytes().all(|b| b.is_ascii_digit());
        if !digits || (k.len() > 1 && k.starts_with('0')) {
            return None;
        }
        let n: u64 = k.parse().ok()?;
        (n < u64::from(u32::MAX)).then_some(n)
    };
    keys.sort_by_key(|(k, _)| match index(k) {
        Some(n) => (0, n),
        None => (1, 0),
    });
    let mut query = String::new();
    for (key, values) in &keys {
        for value in values {
            if !query.is_empty() {
                query.push('&');
            }
            query.push_str(&legacy_escape(key));
            query.push('=');
            query.push_str(&legacy_escape(value));
        }
    }
    format!("{}?{query}", &url[..start])
}

/// Percent-decodes what is a valid escape, keeps the rest as it is, then reads the bytes as
/// UTF-8 with replacement characters (Node's `querystring.unescape`).
fn lenient_unescape(text: &str) -> String {
    let hex = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let (Some(hi), Some(lo)) = (
                bytes.get(i + 1).copied().and_then(hex),
                bytes.get(i + 2).copied().and_then(hex),
            )
        {
            out.push((hi << 4) | lo);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Node's `querystring.escape`: UTF-8 percent-encoding of everything but `A-Za-z0-9!'()*-._~`.
fn legacy_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for &b in text.as_bytes() {
        if b.is_ascii_alphanumeric()
            || matches!(
                b,
                b'!' | b'\'' | b'(' | b')' | b'*' | b'-' | b'.' | b'_' | b'~'
            )
        {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
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
