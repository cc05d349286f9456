//! What travels on the wire: form bodies and query strings, Twilio's JSON error bodies, the two date
//! formats, parameter validation and the two list envelopes (Trust Hub's `meta` envelope with absolute
//! URLs, the 2010 API's flat envelope with relative URIs).
//!
//! Error messages name the parameter and the expected form; they echo only values that are not personal
//! data (SIDs, enum values, country codes) and otherwise describe what came (e.g. "12 characters").

use std::fmt::Display;

use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::{json, Value};
use time::OffsetDateTime;

use crate::sid;

/// Prefix of every error's `more_info` link; the code is appended.
pub(crate) const MORE_INFO: &str = "https://www.twilio.com/docs/errors/";

/// Twilio error code for a missing or invalid parameter.
pub(crate) const CODE_INVALID_PARAMETER: u32 = 20001;
/// The emulator's own code for a request body over the size limit (HTTP 413); Twilio documents none.
pub(crate) const CODE_BODY_TOO_LARGE: u32 = 20413;
/// The emulator's own code for request headers over the limit (HTTP 431); Twilio documents none.
pub(crate) const CODE_HEADERS_TOO_LARGE: u32 = 20431;

/// An error answered as Twilio's JSON error body `{code, message, more_info, status}`.
#[derive(Debug, Clone)]
pub(crate) struct ApiError {
    pub status: StatusCode,
    pub code: u32,
    pub message: String,
    pub retry_after: Option<u64>,
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    code: u32,
    message: &'a str,
    more_info: String,
    status: u16,
}

impl ApiError {
    pub fn new(status: StatusCode, code: u32, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            retry_after: None,
        }
    }

    /// 400 / 20001 "Missing required parameter X in the post body".
    pub fn missing(param: &str) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            CODE_INVALID_PARAMETER,
            format!("Missing required parameter {param} in the post body"),
        )
    }

    /// 400 / 20001 "Invalid parameter X: detail".
    pub fn invalid(param: &str, detail: impl Display) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            CODE_INVALID_PARAMETER,
            format!("Invalid parameter {param}: {detail}"),
        )
    }

    /// 400 / 20001 with a free message (state rules, e.g. a refused status transition).
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, CODE_INVALID_PARAMETER, message)
    }

    /// 404 / 20404 for an unknown path or resource.
    pub fn not_found(path: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            20404,
            format!("The requested resource {path} was not found"),
        )
    }

    /// 401 / 20003.
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, 20003, message)
    }

    /// 405 / 20004.
    pub fn method_not_allowed() -> Self {
        Self::new(StatusCode::METHOD_NOT_ALLOWED, 20004, "Method not allowed")
    }

    /// 429 / 20429 with a `Retry-After` header.
    pub fn too_many_requests(retry_after_secs: u64) -> Self {
        let mut error = Self::new(StatusCode::TOO_MANY_REQUESTS, 20429, "Too Many Requests");
        error.retry_after = Some(retry_after_secs);
        error
    }

    /// 500 / 20500.
    pub fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            20500,
            "Internal Server Error",
        )
    }

    /// 503 / 20503.
    pub fn unavailable() -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            20503,
            "Service Unavailable",
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            code: self.code,
            message: &self.message,
            more_info: format!("{MORE_INFO}{}", self.code),
            status: self.status.as_u16(),
        };
        let text = serde_json::to_string(&body).unwrap_or_else(|_| String::from("{}"));
        let mut response = (self.status, text).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        if let Some(seconds) = self.retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        if self.status == StatusCode::UNAUTHORIZED {
            headers.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"Twilio API\""),
            );
        }
        response
    }
}

/// A JSON response with the given status (a `Value` or any serializable body).
pub(crate) fn json_response<T: Serialize + ?Sized>(status: StatusCode, body: &T) -> Response {
    let text = serde_json::to_string(body).unwrap_or_else(|_| String::from("{}"));
    let mut response = (status, text).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

// ---------------------------------------------------------------------------------------------------------
// Forms and query strings
// ---------------------------------------------------------------------------------------------------------

/// Decoded `application/x-www-form-urlencoded` pairs, in the order they came. Keys are case-sensitive
/// (Twilio's PascalCase); when a key repeats, the first occurrence wins.
#[derive(Default)]
pub(crate) struct Params {
    pairs: Vec<(String, String)>,
}

impl Params {
    /// Decodes `a=b&c=d` text: `+` and `%20` both become a space, `%XX` a byte; the result must be UTF-8.
    pub fn parse(raw: &[u8]) -> Result<Self, String> {
        let mut pairs = Vec::new();
        for part in raw.split(|b| *b == b'&') {
            if part.is_empty() {
                continue;
            }
            let (key, value) = match part.iter().position(|b| *b == b'=') {
                Some(at) => (&part[..at], &part[at + 1..]),
                None => (part, &b""[..]),
            };
            pairs.push((decode_component(key)?, decode_component(value)?));
        }
        Ok(Params { pairs })
    }

    /// Parses a POST body. An empty body has no parameters; a non-empty one must be declared as
    /// `application/x-www-form-urlencoded`.
    pub fn from_body(headers: &HeaderMap, body: &[u8]) -> Result<Self, ApiError> {
        if body.is_empty() {
            return Ok(Params::default());
        }
        let content_type = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let essence = content_type
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        if essence != "application/x-www-form-urlencoded" {
            let shown = if content_type.is_empty() {
                String::from("no Content-Type")
            } else {
                format!("Content-Type '{essence}'")
            };
            return Err(ApiError::bad_request(format!(
                "Unsupported request body: received {shown}; send the parameters as application/x-www-form-urlencoded"
            )));
        }
        Params::parse(body)
            .map_err(|why| ApiError::bad_request(format!("Malformed form body: {why}")))
    }

    /// Parses a raw query string (`None` when the URL has none).
    pub fn from_query(query: Option<&str>) -> Result<Self, ApiError> {
        match query {
            None => Ok(Params::default()),
            Some(q) => Params::parse(q.as_bytes())
                .map_err(|why| ApiError::bad_request(format!("Malformed query string: {why}"))),
        }
    }

    /// The first value of `key`, as sent (possibly empty).
    pub fn get(&self, key: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Every value of `key`, in the order sent: Twilio's arrays travel as the key repeated
    /// (`MessageSamples=a&MessageSamples=b`).
    pub fn all(&self, key: &str) -> Vec<&str> {
        self.pairs
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// An optional boolean (`true` / `false`, any case); blank counts as absent.
    pub fn bool(&self, key: &str) -> Result<Option<bool>, ApiError> {
        match self.get(key) {
            None => Ok(None),
            Some(value) if value.trim().is_empty() => Ok(None),
            Some(value) => parse_bool(key, value).map(Some),
        }
    }

    /// A required boolean.
    pub fn required_bool(&self, key: &str) -> Result<bool, ApiError> {
        parse_bool(key, self.required(key)?)
    }

    /// A required parameter: absent or blank is "Missing required parameter".
    pub fn required(&self, key: &str) -> Result<&str, ApiError> {
        match self.get(key) {
            Some(value) if !value.trim().is_empty() => Ok(value),
            _ => Err(ApiError::missing(key)),
        }
    }

    /// An optional parameter that must not be blank when present.
    pub fn non_blank(&self, key: &str) -> Result<Option<&str>, ApiError> {
        match self.get(key) {
            None => Ok(None),
            Some(value) if value.trim().is_empty() => {
                Err(ApiError::invalid(key, "must not be empty when given"))
            }
            Some(value) => Ok(Some(value)),
        }
    }
}

fn hex_value(byte: u8) -> Option<u8> {
    match byte {
        b'0'..=b'9' => Some(byte - b'0'),
        b'a'..=b'f' => Some(byte - b'a' + 10),
        b'A'..=b'F' => Some(byte - b'A' + 10),
        _ => None,
    }
}

/// Decodes one form component: `+` is a space, `%XX` a byte.
pub(crate) fn decode_component(raw: &[u8]) -> Result<String, String> {
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        match raw[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let high = raw.get(i + 1).copied().and_then(hex_value);
                let low = raw.get(i + 2).copied().and_then(hex_value);
                match (high, low) {
                    (Some(h), Some(l)) => out.push(h * 16 + l),
                    _ => return Err(format!("bad percent-encoding at byte {i}")),
                }
                i += 2;
            }
            other => out.push(other),
        }
        i += 1;
    }
    String::from_utf8(out).map_err(|_| String::from("decoded text is not UTF-8"))
}

/// Percent-encodes everything but RFC 3986 unreserved characters; a space becomes `%20`.
pub(crate) fn encode_component(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// Encodes pairs as a form body / query string.
pub(crate) fn encode_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    pairs
        .into_iter()
        .map(|(k, v)| format!("{}={}", encode_component(k), encode_component(v)))
        .collect::<Vec<_>>()
        .join("&")
}

// ---------------------------------------------------------------------------------------------------------
// Parameter validation
// ---------------------------------------------------------------------------------------------------------

/// `value` must match `^{prefix}[0-9a-fA-F]{32}$`.
pub(crate) fn check_sid(param: &str, value: &str, prefix: &str) -> Result<(), ApiError> {
    if sid::has_prefix_shape(value, prefix) {
        Ok(())
    } else {
        Err(ApiError::invalid(
            param,
            format!(
                "expected a SID matching ^{prefix}[0-9a-fA-F]{{32}}$ (34 characters), received {}",
                sid::describe(value)
            ),
        ))
    }
}

/// `value` must match `^[a-zA-Z]{2}[0-9a-fA-F]{32}$`.
pub(crate) fn check_object_sid(param: &str, value: &str) -> Result<(), ApiError> {
    if sid::is_object_sid(value) {
        Ok(())
    } else {
        Err(ApiError::invalid(
            param,
            format!(
                "expected a SID matching ^[a-zA-Z]{{2}}[0-9a-fA-F]{{32}}$ (34 characters), received {}",
                sid::describe(value)
            ),
        ))
    }
}

/// `format: uri`: an absolute http(s) URL with a host.
pub(crate) fn check_uri(param: &str, value: &str) -> Result<(), ApiError> {
    let ok = reqwest::Url::parse(value)
        .map(|url| matches!(url.scheme(), "http" | "https") && url.host_str().is_some())
        .unwrap_or(false);
    if ok {
        Ok(())
    } else {
        Err(ApiError::invalid(
            param,
            format!(
                "expected an absolute http or https URL, received {} that do not form one",
                describe_text(value)
            ),
        ))
    }
}

/// Twilio's booleans: `true` or `false` (any case).
pub(crate) fn parse_bool(param: &str, value: &str) -> Result<bool, ApiError> {
    if value.eq_ignore_ascii_case("true") {
        Ok(true)
    } else if value.eq_ignore_ascii_case("false") {
        Ok(false)
    } else {
        Err(ApiError::invalid(
            param,
            format!("expected true or false, received {}", describe_text(value)),
        ))
    }
}

/// One of an enum's wire values (enum values are not personal data, so the received value is echoed,
/// shortened to 40 characters).
pub(crate) fn check_enum<'a>(
    param: &str,
    value: &str,
    allowed: &[&'a str],
) -> Result<&'a str, ApiError> {
    allowed
        .iter()
        .copied()
        .find(|a| *a == value)
        .ok_or_else(|| {
            ApiError::invalid(
                param,
                format!(
                    "'{}' is not one of: {}",
                    shorten(value, 40),
                    allowed.join(", ")
                ),
            )
        })
}

/// `format: iso-country-code`: an ISO 3166-1 alpha-2 code, upper case.
pub(crate) fn check_iso_country(param: &str, value: &str) -> Result<(), ApiError> {
    if crate::countries::is_iso_country(value) {
        Ok(())
    } else {
        Err(ApiError::invalid(
            param,
            format!(
                "expected an ISO 3166-1 alpha-2 country code such as US, received '{}'",
                shorten(value, 8)
            ),
        ))
    }
}

/// Describes free text without echoing it.
pub(crate) fn describe_text(value: &str) -> String {
    let n = value.chars().count();
    if n == 1 {
        String::from("1 character")
    } else {
        format!("{n} characters")
    }
}

/// The first `max` characters of a non-personal value, with an ellipsis when cut.
pub(crate) fn shorten(value: &str, max: usize) -> String {
    if value.chars().count() <= max {
        value.to_owned()
    } else {
        let mut cut: String = value.chars().take(max).collect();
        cut.push('…');
        cut
    }
}

// ---------------------------------------------------------------------------------------------------------
// Dates
// ---------------------------------------------------------------------------------------------------------

/// Now, UTC, whole seconds.
pub(crate) fn now() -> OffsetDateTime {
    let t = OffsetDateTime::now_utc();
    t.replace_nanosecond(0).unwrap_or(t)
}

/// Trust Hub dates: `2019-07-30T22:29:24Z`.
pub(crate) fn iso8601(t: OffsetDateTime) -> String {
    let format =
        time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    t.to_offset(time::UtcOffset::UTC)
        .format(&format)
        .unwrap_or_default()
}

/// 2010 API dates: `Tue, 18 Aug 2015 17:07:30 +0000`.
pub(crate) fn rfc2822(t: OffsetDateTime) -> String {
    t.to_offset(time::UtcOffset::UTC)
        .format(&time::format_description::well_known::Rfc2822)
        .unwrap_or_default()
}

// ---------------------------------------------------------------------------------------------------------
// Pagination
// ---------------------------------------------------------------------------------------------------------

/// A record that can be listed: its creation sequence number orders lists, its SID names page tokens.
pub(crate) trait Record {
    fn seq(&self) -> u64;
    fn sid(&self) -> &str;
}

/// `PageSize`, `Page` and `PageToken` of a list request.
pub(crate) struct PageRequest {
    pub size: usize,
    pub page: u64,
    pub token: Option<String>,
}

/// Default `PageSize`.
pub(crate) const DEFAULT_PAGE_SIZE: usize = 50;
/// Largest `PageSize`.
pub(crate) const MAX_PAGE_SIZE: usize = 1000;

impl PageRequest {
    pub fn from_params(params: &Params) -> Result<Self, ApiError> {
        let size = match params.get("PageSize") {
            None => DEFAULT_PAGE_SIZE,
            Some(raw) => match raw.parse::<usize>() {
                Ok(n) if (1..=MAX_PAGE_SIZE).contains(&n) => n,
                _ => {
                    return Err(ApiError::invalid(
                        "PageSize",
                        format!(
                            "expected an integer from 1 to {MAX_PAGE_SIZE}, received '{}'",
                            shorten(raw, 20)
                        ),
                    ));
                }
            },
        };
        let page = match params.get("Page") {
            None => 0,
            Some(raw) => raw.parse::<u64>().map_err(|_| {
                ApiError::invalid(
                    "Page",
                    format!(
                        "expected an integer of at least 0, received '{}'",
                        shorten(raw, 20)
                    ),
                )
            })?,
        };
        let token = match params.get("PageToken") {
            None | Some("") => None,
            Some(raw) => Some(raw.to_owned()),
        };
        Ok(PageRequest { size, page, token })
    }
}

/// One page of a filtered, creation-ordered list.
pub(crate) struct Page<'a, T> {
    pub items: Vec<&'a T>,
    /// Offset of the first item in the filtered list.
    pub start: usize,
    /// Token of the following page (`PA` + SID of this page's last item).
    pub next_token: Option<String>,
    /// Token of the preceding page (`PB` + SID of this page's first item).
    pub previous_token: Option<String>,
}

/// Cuts a page. Tokens are `PA<sid>` (items created after that SID) and `PB<sid>` (the page before it);
/// without a token, `Page` × `PageSize` is the offset. `seq_of` resolves any SID ever issued, so tokens
/// survive deletions.
pub(crate) fn paginate<'a, T: Record>(
    items: Vec<&'a T>,
    request: &PageRequest,
    seq_of: impl Fn(&str) -> Option<u64>,
) -> Result<Page<'a, T>, ApiError> {
    let bad_token = || {
        ApiError::invalid(
            "PageToken",
            "not a page token issued by this API; use the next_page_url / previous_page_url as returned",
        )
    };
    let start = match request.token.as_deref() {
        None => usize::try_from(request.page)
            .ok()
            .and_then(|p| p.checked_mul(request.size))
            .unwrap_or(usize::MAX)
            .min(items.len()),
        Some(token) => {
            let (direction, anchor) = token.split_at(token.len().min(2));
            let seq = seq_of(anchor).ok_or_else(bad_token)?;
            match direction {
                "PA" => items.partition_point(|item| item.seq() <= seq),
                "PB" => items
                    .partition_point(|item| item.seq() < seq)
                    .saturating_sub(request.size),
                _ => return Err(bad_token()),
            }
        }
    };
    let end = start.saturating_add(request.size).min(items.len());
    let page: Vec<&T> = items[start..end].to_vec();
    let next_token = if end < items.len() {
        page.last().map(|last| format!("PA{}", last.sid()))
    } else {
        None
    };
    // An empty page past the end has no anchor for a previous token, hence no previous link.
    let previous_token = if start > 0 {
        page.first().map(|first| format!("PB{}", first.sid()))
    } else {
        None
    };
    Ok(Page {
        items: page,
        start,
        next_token,
        previous_token,
    })
}

/// The four links of a list page, built from a prefix (absolute URL for Trust Hub, relative URI for the
/// 2010 API), the filters as sent, and the page.
pub(crate) struct PageLinks {
    pub first: String,
    pub current: String,
    pub next: Option<String>,
    pub previous: Option<String>,
}

pub(crate) fn page_links<T>(
    prefix: &str,
    filters: &[(&str, String)],
    request: &PageRequest,
    page: &Page<'_, T>,
) -> PageLinks {
    let link = |page_number: u64, token: Option<&str>| {
        let size = request.size.to_string();
        let number = page_number.to_string();
        let mut pairs: Vec<(&str, &str)> = filters.iter().map(|(k, v)| (*k, v.as_str())).collect();
        pairs.push(("PageSize", &size));
        pairs.push(("Page", &number));
        if let Some(token) = token {
            pairs.push(("PageToken", token));
        }
        format!("{prefix}?{}", encode_pairs(pairs))
    };
    PageLinks {
        first: link(0, None),
        current: link(request.page, request.token.as_deref()),
        next: page
            .next_token
            .as_deref()
            .map(|t| link(request.page.saturating_add(1), Some(t))),
        previous: page
            .previous_token
            .as_deref()
            .map(|t| link(request.page.saturating_sub(1), Some(t))),
    }
}

/// Trust Hub's envelope: `{"<key>": [...], "meta": {page, page_size, first_page_url, previous_page_url,
/// url, next_page_url, key}}`.
pub(crate) fn trusthub_envelope(
    key: &str,
    items: Vec<Value>,
    request: &PageRequest,
    links: PageLinks,
) -> Value {
    json!({
        key: items,
        "meta": {
            "page": request.page,
            "page_size": request.size,
            "first_page_url": links.first,
            "previous_page_url": links.previous,
            "url": links.current,
            "next_page_url": links.next,
            "key": key,
        }
    })
}

/// The 2010 API's flat envelope: `{"<key>": [...], end, first_page_uri, next_page_uri, page, page_size,
/// previous_page_uri, start, uri}`.
pub(crate) fn api2010_envelope(
    key: &str,
    items: Vec<Value>,
    request: &PageRequest,
    start: usize,
    links: PageLinks,
) -> Value {
    let end = (start + items.len()).saturating_sub(1);
    json!({
        key: items,
        "end": end,
        "first_page_uri": links.first,
        "next_page_uri": links.next,
        "page": request.page,
        "page_size": request.size,
        "previous_page_uri": links.previous,
        "start": start,
        "uri": links.current,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_decode_plus_and_percent_spaces() {
        let p =
            Params::parse(b"FriendlyName=acme+business&Email=a%40b.example&X=a%20b&Empty=&Flag")
                .unwrap();
        assert_eq!(p.get("FriendlyName"), Some("acme business"));
        assert_eq!(p.get("Email"), Some("a@b.example"));
        assert_eq!(p.get("X"), Some("a b"));
        assert_eq!(p.get("Empty"), Some(""));
        assert_eq!(p.get("Flag"), Some(""));
        assert_eq!(p.get("friendlyname"), None);
        assert!(Params::parse(b"A=%zz").is_err());
        assert!(Params::parse(b"A=%C3").is_err());
    }

    #[test]
    fn encoding_round_trips() {
        let text = "a b+c&d=é/{\"x\":1}";
        let encoded = encode_component(text);
        assert!(!encoded.contains(' '));
        assert!(encoded.contains("%20"));
        assert_eq!(decode_component(encoded.as_bytes()).unwrap(), text);
    }

    #[test]
    fn dates_have_both_formats() {
        let t = time::macros::datetime!(2015-08-18 17:07:30 UTC);
        assert_eq!(iso8601(t), "2015-08-18T17:07:30Z");
        assert_eq!(rfc2822(t), "Tue, 18 Aug 2015 17:07:30 +0000");
    }

    struct Item(u64, String);
    impl Record for Item {
        fn seq(&self) -> u64 {
            self.0
        }
        fn sid(&self) -> &str {
            &self.1
        }
    }

    #[test]
    fn tokens_walk_forward_and_back() {
        let items: Vec<Item> = (1..=5).map(|i| Item(i * 10, format!("S{i}"))).collect();
        let refs: Vec<&Item> = items.iter().collect();
        let seq_of = |sid: &str| items.iter().find(|i| i.1 == sid).map(|i| i.0);
        let mut request = PageRequest {
            size: 2,
            page: 0,
            token: None,
        };
        let first = paginate(refs.clone(), &request, seq_of).unwrap();
        assert_eq!(first.items.len(), 2);
        assert_eq!(first.next_token.as_deref(), Some("PAS2"));
        assert!(first.previous_token.is_none());
        request.token = first.next_token.clone();
        request.page = 1;
        let second = paginate(refs.clone(), &request, seq_of).unwrap();
        assert_eq!(second.items[0].1, "S3");
        assert_eq!(second.previous_token.as_deref(), Some("PBS3"));
        request.token = second.previous_token.clone();
        let back = paginate(refs.clone(), &request, seq_of).unwrap();
        assert_eq!(back.items[0].1, "S1");
        request.token = Some(String::from("PAnope"));
        assert!(paginate(refs, &request, seq_of).is_err());
    }
}
