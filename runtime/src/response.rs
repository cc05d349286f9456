//! A successful answer and its JSON decoding.

use std::fmt;

use bytes::Bytes;
use reqwest::header::HeaderMap;

use crate::error::{Error, REQUEST_ID_HEADER};
use crate::operation::Operation;

/// A 2xx answer, its body read in full (within `max_response_bytes`): what
/// [`Transport::execute`](crate::Transport::execute) gives the generated code to decode.
///
/// `Debug` shows the status, the header names and the body length, never the body.
pub struct Response {
    pub(crate) status: u16,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Bytes,
}

impl Response {
    /// An answer of `status` with `body` and no header (tests and fuzzing).
    #[doc(hidden)]
    pub fn from_parts(status: u16, body: impl Into<Vec<u8>>) -> Response {
        Response {
            status,
            headers: HeaderMap::new(),
            body: Bytes::from(body.into()),
        }
    }

    /// The HTTP status (2xx).
    pub fn status(&self) -> u16 {
        self.status
    }

    /// The body.
    pub fn body(&self) -> &[u8] {
        &self.body
    }

    /// The `Twilio-Request-Id` header, to quote to Twilio support.
    pub fn request_id(&self) -> Option<&str> {
        self.headers
            .get(REQUEST_ID_HEADER)
            .and_then(|v| v.to_str().ok())
    }
}

/// A decoded 2xx answer with what Twilio said about it: its status and `Twilio-Request-Id`
/// (every generated request's `send_with_answer`).
#[derive(Debug, Clone, PartialEq)]
pub struct Answer<T> {
    value: T,
    status: u16,
    request_id: Option<String>,
}

impl<T> Answer<T> {
    /// The decoded value (the resource, the page, or `()`).
    pub fn value(&self) -> &T {
        &self.value
    }

    /// The decoded value, the answer's status and request id dropped.
    pub fn into_value(self) -> T {
        self.value
    }

    /// The HTTP status (2xx), e.g. `201` for a create.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// The `Twilio-Request-Id` header, to quote to Twilio support.
    pub fn request_id(&self) -> Option<&str> {
        self.request_id.as_deref()
    }
}

impl Answer<()> {
    /// The answer of an operation whose success has no body (a delete).
    #[doc(hidden)]
    pub fn empty(response: &Response) -> Answer<()> {
        Answer {
            value: (),
            status: response.status,
            request_id: response.request_id().map(str::to_owned),
        }
    }
}

/// [`decode_json`] with the answer's status and request id kept.
#[doc(hidden)]
pub fn decode_answer<T: serde::de::DeserializeOwned>(
    operation: &'static Operation,
    response: &Response,
) -> Result<Answer<T>, Error> {
    Ok(Answer {
        value: decode_json(operation, response)?,
        status: response.status,
        request_id: response.request_id().map(str::to_owned),
    })
}

impl fmt::Debug for Response {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Response")
            .field("status", &self.status)
            .field("header_names", &self.headers.keys().collect::<Vec<_>>())
            .field("body_len", &self.body.len())
            .finish()
    }
}

/// Decodes the body of `response` as JSON into `T`.
///
/// A mismatch is an [`ErrorKind::Decode`](crate::ErrorKind::Decode) error whose
/// [`detail`](Error::detail) gives the path of the offending field
/// (`results[3].date_created`), the category (syntax, data, end of input), the line and column
/// and serde's reason with any value removed, e.g.
/// `at results[0].status: data error (invalid type: integer, expected a string) at line 1
/// column 88`. Body text and values are never included.
///
/// ```
/// use trusthub_runtime::{decode_json, Error, ErrorKind, HttpMethod, Operation, Response};
///
/// static FETCH: Operation = Operation {
///     id: "FetchPolicy", method: HttpMethod::Get,
///     base_url: "https://trusthub.twilio.com", path_template: "/v1/Policies/{Sid}",
/// };
/// #[derive(serde::Deserialize)]
/// struct Policy { sid: String }
///
/// let ok = Response::from_parts(200, r#"{"sid": "RN1"}"#);
/// assert_eq!(decode_json::<Policy>(&FETCH, &ok)?.sid, "RN1");
///
/// let bad = Response::from_parts(200, r#"{"sid": 7}"#);
/// let Err(error) = decode_json::<Policy>(&FETCH, &bad) else { panic!() };
/// assert_eq!(error.kind(), ErrorKind::Decode);
/// let detail = error.detail().unwrap();
/// assert!(detail.starts_with("at sid: data error (invalid type: integer, expected a string)"));
/// # Ok::<(), Error>(())
/// ```
#[doc(hidden)]
pub fn decode_json<T: serde::de::DeserializeOwned>(
    operation: &'static Operation,
    response: &Response,
) -> Result<T, Error> {
    // Models are lenient (every field optional), so an error body sent with a 2xx status would
    // otherwise decode as an empty resource. Twilio's error shape is refused here instead.
    if carries_error(&response.body) {
        let api = crate::error::ApiError::from_response(
            operation.id,
            response.status,
            &response.headers,
            &response.body,
        );
        // Only an error object that decodes as one (with its code) is reported as such.
        if api.code().is_some() {
            return Err(Error::api(api));
        }
    }
    // The common case decodes without tracking the path; only a failure is decoded again with
    // serde_path_to_error to say where it failed.
    if let Ok(value) = serde_json::from_slice(&response.body) {
        return Ok(value);
    }
    let mut deserializer = serde_json::Deserializer::from_slice(&response.body);
    let result = serde_path_to_error::deserialize(&mut deserializer)
        .map_err(|e| (e.path().to_string(), e.into_inner()))
        .and_then(|value| {
            deserializer
                .end()
                .map(|()| value)
                .map_err(|e| (".".to_owned(), e))
        });
    result.map_err(|(path, error)| {
        Error::decode(operation.id, response.status, describe(&path, &error))
    })
}

/// Whether a body is Twilio's error object (`code`, `message` and an error `status`, no `sid`)
/// rather than a resource. A cheap byte check first: resources rarely hold both keys.
fn carries_error(body: &[u8]) -> bool {
    fn contains(body: &[u8], needle: &[u8]) -> bool {
        memchr::memmem::find(body, needle).is_some()
    }
    if !contains(body, b"\"code\"") || !contains(body, b"\"message\"") {
        return false;
    }
    #[derive(serde::Deserialize)]
    struct Probe {
        code: Option<serde_json::Value>,
        message: Option<serde_json::Value>,
        status: Option<serde_json::Value>,
        sid: Option<serde::de::IgnoredAny>,
    }
    match serde_json::from_slice::<Probe>(body) {
        Ok(p) => {
            p.sid.is_none()
                && p.code.as_ref().is_some_and(serde_json::Value::is_i64)
                && p.message.as_ref().is_some_and(serde_json::Value::is_string)
                && p.status
                    .as_ref()
                    .and_then(serde_json::Value::as_i64)
                    .is_some_and(|s| s >= 400)
        }
        Err(_) => false,
    }
}

fn describe(path: &str, error: &serde_json::Error) -> String {
    use serde_json::error::Category;
    let category = match error.classify() {
        Category::Io => "I/O error",
        Category::Syntax => "syntax error (not valid JSON)",
        Category::Data => "data error",
        Category::Eof => "unexpected end of input",
    };
    let mut detail = if path == "." {
        category.to_owned()
    } else {
        format!("at {path}: {category}")
    };
    if error.classify() == Category::Data
        && let Some(reason) = sanitized_reason(&error.to_string())
    {
        detail.push_str(&format!(" ({reason})"));
    }
    if error.line() != 0 {
        detail.push_str(&format!(
            " at line {} column {}",
            error.line(),
            error.column()
        ));
    }
    detail
}

/// serde's reason without the offending value, for the forms serde itself produces; `None` for
/// messages of unknown shape (they might hold a value).
fn sanitized_reason(message: &str) -> Option<String> {
    // serde_json appends " at line N column M"; drop it (line and column are added separately).
    let message = match message.rfind(" at line ") {
        Some(i) => &message[..i],
        None => message,
    };
    let expected_part = |rest: &str| {
        rest.find(", expected ")
            .map(|i| rest[i + 2..].to_owned())
            .unwrap_or_default()
    };
    for (prefix, label) in [
        ("invalid type: ", "invalid type"),
        ("invalid value: ", "invalid value"),
    ] {
        if let Some(rest) = message.strip_prefix(prefix) {
            // rest = "<kind> [`value` | \"value\"], expected <what>"
            let kind: String = rest
                .split([' ', ','])
                .next()
                .unwrap_or("")
                .chars()
                .filter(char::is_ascii_alphabetic)
                .collect();
            let kind = match kind.as_str() {
                "floating" => "floating point",
                "unit" => "unit value",
                "newtype" => "newtype struct",
                "unit_variant" | "newtype_variant" | "tuple_variant" | "struct_variant" => {
                    "variant"
                }
                other => other,
            };
            return Some(format!("{label}: {kind}, {}", expected_part(rest)));
        }
    }
    if let Some(rest) = message.strip_prefix("invalid length ") {
        return Some(format!("invalid length {}", rest.trim()));
    }
    for (prefix, label) in [
        ("missing field `", "missing field"),
        ("duplicate field `", "duplicate field"),
        ("unknown field `", "unknown field"),
    ] {
        if let Some(rest) = message.strip_prefix(prefix) {
            // Field names come from the Rust type or the JSON keys of the answer: not values.
            let name = rest.split('`').next().unwrap_or("");
            return Some(format!("{label} `{name}`"));
        }
    }
    if let Some(rest) = message.strip_prefix("unknown variant `") {
        return Some(format!("unknown variant, {}", expected_part(rest)));
    }
    // Messages of this crate's own deserializers (dates) start with "expected " and hold no value.
    if message.starts_with("expected ") {
        return Some(message.to_owned());
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::operation::HttpMethod;
    use serde::Deserialize;

    static OP: Operation = Operation {
        id: "ListEndUsers",
        method: HttpMethod::Get,
        base_url: "https://trusthub.twilio.com",
        path_template: "/v1/EndUsers",
    };

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Item {
        sid: String,
        count: Option<u32>,
        #[serde(default, with = "crate::date::iso8601_option")]
        date_created: Option<time::OffsetDateTime>,
    }

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Page {
        results: Vec<Item>,
    }

    fn decode(body: &str) -> Result<Page, Error> {
        decode_json(
            &OP,
            &Response {
                status: 200,
                headers: HeaderMap::new(),
                body: Bytes::copy_from_slice(body.as_bytes()),
            },
        )
    }

    fn detail(body: &str) -> String {
        match decode(body) {
            Err(error) if error.kind() == crate::ErrorKind::Decode => {
                assert_eq!(
                    (error.operation(), error.status()),
                    (Some("ListEndUsers"), Some(200))
                );
                error.detail().unwrap().to_owned()
            }
            other => panic!("expected Decode, got {other:?}"),
        }
    }

    #[test]
    fn good_body_decodes() {
        let page = decode(r#"{"results": [{"sid": "IT1", "count": 2}], "meta": {}}"#).unwrap();
        assert_eq!(page.results[0].sid, "IT1");
    }

    #[test]
    fn type_mismatch_names_the_path_not_the_value() {
        let text = detail(
            r#"{"results": [{"sid": "IT1"}, {"sid": "jane@example.com", "count": "jane@example.com"}]}"#,
        );
        assert!(
            text.starts_with(
                "at results[1].count: data error (invalid type: string, expected u32)"
            ),
            "{text}"
        );
        assert!(text.contains("line 1 column"), "{text}");
        assert!(!text.contains("jane"), "{text}");
    }

    #[test]
    fn malformed_date_is_a_decode_error_naming_the_format() {
        let text = detail(r#"{"results": [{"sid": "IT1", "date_created": "1999/12/31"}]}"#);
        assert!(
            text.starts_with("at results[0].date_created: data error (expected an ISO 8601"),
            "{text}"
        );
        assert!(!text.contains("1999"), "{text}");
    }

    #[test]
    fn missing_field_is_named() {
        let text = detail(r#"{"results": [{"count": 1}]}"#);
        assert!(text.contains("missing field `sid`"), "{text}");
    }

    #[test]
    fn syntax_error_and_trailing_garbage() {
        let text = detail(r#"{"results": [{"sid": "secret-value""#);
        assert!(
            text.contains("unexpected end of input") || text.contains("syntax"),
            "{text}"
        );
        assert!(!text.contains("secret-value"), "{text}");
        let text = detail(r#"{"results": []} <html>"#);
        assert!(text.starts_with("syntax error"), "{text}");
        let text = detail("<html>502</html>");
        assert!(text.contains("syntax error"), "{text}");
    }

    #[test]
    fn unknown_shapes_are_withheld() {
        assert_eq!(
            sanitized_reason("some custom message with jane@example.com"),
            None
        );
        assert_eq!(
            sanitized_reason("unknown variant `jane`, expected one of `a`, `b` at line 1 column 2")
                .as_deref(),
            Some("unknown variant, expected one of `a`, `b`")
        );
        assert_eq!(
            sanitized_reason("invalid value: integer `-5`, expected u8").as_deref(),
            Some("invalid value: integer, expected u8")
        );
        assert_eq!(
            sanitized_reason("invalid type: floating point `1.5`, expected i64").as_deref(),
            Some("invalid type: floating point, expected i64")
        );
    }

    #[test]
    fn response_debug_and_request_id() {
        let mut headers = HeaderMap::new();
        headers.insert("twilio-request-id", "RQabc".parse().unwrap());
        let response = Response {
            status: 201,
            headers,
            body: Bytes::from_static(b"{\"email\":\"jane@example.com\"}"),
        };
        assert_eq!(response.request_id(), Some("RQabc"));
        let debug = format!("{response:?}");
        assert!(
            !debug.contains("jane") && !debug.contains("RQabc"),
            "{debug}"
        );
    }
}
