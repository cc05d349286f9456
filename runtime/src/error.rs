//! The one error type of the runtime and the decoded Twilio error answer.
//!
//! Messages say which operation failed, what happened and what to do. They never hold secrets,
//! request or response bodies, query or form values. The one piece of server text shown is the
//! error `message` (or RFC 9457 `detail`) of an error answer, as Twilio wrote it.

use std::fmt;
use std::time::Duration;

use reqwest::header::{HeaderMap, CONTENT_TYPE, RETRY_AFTER};
use reqwest::StatusCode;

use crate::retry::parse_retry_after;

/// Longest error message kept from a server answer, in characters.
const MAX_MESSAGE_CHARS: usize = 2000;

/// Header holding Twilio's request id, quoted to Twilio support.
pub(crate) const REQUEST_ID_HEADER: &str = "twilio-request-id";

/// Which step of an exchange failed, for [`Error::Transport`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TransportErrorKind {
    /// No connection could be made (DNS, refused, TLS handshake, connect timeout): the request
    /// provably never reached the server, so it is safe to send again, even a `POST`.
    Connect,
    /// The connection failed while the request was sent or the answer awaited (reset, closed
    /// without answer): the server may have processed the request.
    Request,
    /// The answer's body could not be read to its end.
    Body,
    /// Any other failure of the HTTP client.
    Other,
}

impl TransportErrorKind {
    pub(crate) fn of(error: &reqwest::Error) -> Self {
        if error.is_connect() {
            TransportErrorKind::Connect
        } else if error.is_body() || error.is_decode() {
            TransportErrorKind::Body
        } else if error.is_request() {
            TransportErrorKind::Request
        } else {
            TransportErrorKind::Other
        }
    }
}

impl fmt::Display for TransportErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TransportErrorKind::Connect => "could not connect",
            TransportErrorKind::Request => "connection failed after the request was sent",
            TransportErrorKind::Body => "could not read the answer's body",
            TransportErrorKind::Other => "HTTP client failure",
        })
    }
}

/// Twilio's error code for "too many concurrent requests": its 429 answers carry it, and it
/// means the request was not processed.
pub const TOO_MANY_REQUESTS_CODE: i64 = 20429;

/// Whether Twilio may have acted on a request that failed ([`Error::processed`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Processed {
    /// Provably not acted on: nothing was sent, or Twilio answered that it did not process
    /// the request (its 429 with code 20429). Sending it again cannot create anything twice.
    No,
    /// Twilio read the request and refused it with an error answer (a 4xx with a Twilio code
    /// other than 20429): nothing was created or changed; the same request fails again.
    Refused,
    /// Unknown: the request may have been acted on (a dropped connection, a timeout, a 5xx, a
    /// gateway's 429 or 503 without Twilio's code). Look before sending a create again.
    Maybe,
    /// Acted on: a 2xx answer whose body could not be read (undecodable or too large).
    Yes,
}

/// Everything that can go wrong in the runtime.
///
/// `RetriesExhausted` wraps the last error whenever MORE THAN ONE attempt was made (whatever
/// stopped the retries: attempts, elapsed budget, a `Retry-After` beyond the budget, or a final
/// answer that is not retryable); an error on the first and only attempt is returned as it is.
/// [`Error::status`], [`Error::code`], [`Error::request_id`] and [`Error::is_retryable`] look
/// through the wrapper.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The server answered with a non-2xx status (3xx included: redirects are never followed).
    Api(Box<ApiError>),
    /// A client-side check failed before anything was sent.
    InvalidParameter {
        /// The operation (`operationId`) or facade step.
        operation: &'static str,
        /// The parameter's name as in the spec, e.g. `FriendlyName`.
        parameter: &'static str,
        /// The expected form, e.g. `^BU[0-9a-fA-F]{32}$` or `1 to 64 characters`.
        expected: String,
        /// What came, described without echoing personal data, e.g. `length 30`.
        found: String,
    },
    /// Bad builder settings (missing credentials, refused base URL, ...).
    Config(String),
    /// The HTTP exchange failed without an answer.
    Transport {
        /// The operation.
        operation: &'static str,
        /// Which step failed; [`TransportErrorKind::Connect`] means nothing was sent.
        kind: TransportErrorKind,
        /// The client's error, with its URL removed.
        source: reqwest::Error,
    },
    /// No complete answer within the per-attempt timeout.
    Timeout {
        /// The operation.
        operation: &'static str,
        /// The per-attempt timeout that expired.
        after: Duration,
    },
    /// A 2xx answer whose body does not match the expected type.
    Decode {
        /// The operation.
        operation: &'static str,
        /// The HTTP status of the answer.
        status: u16,
        /// Where and why: serde path, category, line and column; never body text or values.
        detail: String,
    },
    /// The answer's body is larger than `max_response_bytes`.
    BodyTooLarge {
        /// The operation.
        operation: &'static str,
        /// The configured limit in bytes.
        limit: usize,
    },
    /// More than one attempt was made and the last one failed.
    RetriesExhausted {
        /// The operation.
        operation: &'static str,
        /// How many attempts were sent (at least 2).
        attempts: u32,
        /// The error of the last attempt.
        last: Box<Error>,
    },
    /// A list answer's next-page link cannot be followed (not a path or http(s) URL).
    InvalidNextPage {
        /// The list operation.
        operation: &'static str,
        /// What is wrong with the link (the link itself is not echoed).
        detail: String,
    },
}

impl Error {
    /// The HTTP status of an error answer (or of an undecodable 2xx answer).
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Api(api) => Some(api.status),
            Error::Decode { status, .. } => Some(*status),
            Error::RetriesExhausted { last, .. } => last.status(),
            _ => None,
        }
    }

    /// Twilio's error code (`20404`, `20003`, ...), when the answer carried one.
    pub fn code(&self) -> Option<i64> {
        match self {
            Error::Api(api) => api.code,
            Error::RetriesExhausted { last, .. } => last.code(),
            _ => None,
        }
    }

    /// The `Twilio-Request-Id` of the failed answer, to quote to Twilio support.
    pub fn request_id(&self) -> Option<&str> {
        match self {
            Error::Api(api) => api.request_id.as_deref(),
            Error::RetriesExhausted { last, .. } => last.request_id(),
            _ => None,
        }
    }

    /// The delay the server asked for with `Retry-After`, if any.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Error::Api(api) => api.retry_after,
            Error::RetriesExhausted { last, .. } => last.retry_after(),
            _ => None,
        }
    }

    /// `true` when an identical request later may succeed: 429, 502, 503, 504, network
    /// failures and timeouts. It does NOT say that repeating is safe: a `POST` that timed out
    /// may have been processed (list the resources to reconcile before creating again).
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Api(api) => matches!(api.status, 429 | 502 | 503 | 504),
            Error::Transport { .. } | Error::Timeout { .. } => true,
            Error::RetriesExhausted { last, .. } => last.is_retryable(),
            _ => false,
        }
    }

    /// Whether Twilio may have acted on the request: the one answer to "was it processed?"
    /// that the transport's retries, the flows' lookups and the command line all use.
    ///
    /// Only what Twilio documents as not processed is [`Processed::No`]: nothing was sent
    /// (a connect error, a parameter refused before sending) or Twilio's own 429 with its code
    /// 20429. A gateway's 429 or 503, a 5xx, a timeout or a dropped connection may follow a
    /// commit: [`Processed::Maybe`], so a create is looked up before it is sent again.
    ///
    /// ```
    /// use trusthub_runtime::reqwest::header::HeaderMap;
    /// use trusthub_runtime::{ApiError, Error, Processed};
    ///
    /// let answer = |status, body: &str| {
    ///     Error::Api(Box::new(ApiError::from_response("CreateEndUser", status, HeaderMap::new(), body.as_bytes())))
    /// };
    /// let twilio_429 = r#"{"code": 20429, "message": "Too Many Requests", "status": 429}"#;
    /// assert_eq!(answer(429, twilio_429).processed(), Processed::No);
    /// assert_eq!(answer(429, "<html>slow down</html>").processed(), Processed::Maybe);
    /// assert_eq!(answer(503, r#"{"code": 20503, "message": "Service Unavailable"}"#).processed(), Processed::Maybe);
    /// let invalid = r#"{"code": 20001, "message": "Missing required parameter Type", "status": 400}"#;
    /// assert_eq!(answer(400, invalid).processed(), Processed::Refused);
    /// ```
    pub fn processed(&self) -> Processed {
        match self {
            Error::Api(api) => match api.status {
                429 if api.code == Some(TOO_MANY_REQUESTS_CODE) => Processed::No,
                400..=499 if api.code.is_some() && api.status != 429 => Processed::Refused,
                _ => Processed::Maybe,
            },
            Error::InvalidParameter { .. } | Error::Config(_) | Error::InvalidNextPage { .. } => {
                Processed::No
            }
            Error::Transport { kind, .. } => match kind {
                TransportErrorKind::Connect => Processed::No,
                _ => Processed::Maybe,
            },
            Error::Timeout { .. } => Processed::Maybe,
            Error::Decode { .. } | Error::BodyTooLarge { .. } => Processed::Yes,
            Error::RetriesExhausted { last, .. } => last.processed(),
        }
    }

    /// The operation the error belongs to, `None` for configuration errors.
    pub fn operation(&self) -> Option<&'static str> {
        match self {
            Error::Api(api) => Some(api.operation),
            Error::InvalidParameter { operation, .. }
            | Error::Transport { operation, .. }
            | Error::Timeout { operation, .. }
            | Error::Decode { operation, .. }
            | Error::BodyTooLarge { operation, .. }
            | Error::RetriesExhausted { operation, .. }
            | Error::InvalidNextPage { operation, .. } => Some(operation),
            Error::Config(_) => None,
        }
    }

    /// Builds [`Error::Transport`] (or [`Error::Timeout`] is chosen by the caller), dropping the
    /// URL from the client error so that no query string ends up in messages.
    pub(crate) fn transport(operation: &'static str, source: reqwest::Error) -> Self {
        Error::Transport {
            operation,
            kind: TransportErrorKind::of(&source),
            source: source.without_url(),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Api(api) => fmt::Display::fmt(api, f),
            Error::InvalidParameter {
                operation,
                parameter,
                expected,
                found,
            } => write!(
                f,
                "{operation}: invalid {parameter}: expected {expected}, found {found}; \
                 fix the value (nothing was sent)"
            ),
            Error::Config(message) => write!(f, "invalid client configuration: {message}"),
            Error::Transport {
                operation,
                kind,
                source,
            } => {
                write!(f, "{operation}: {kind} ({source}")?;
                let mut cause = std::error::Error::source(source);
                while let Some(inner) = cause {
                    write!(f, ": {inner}")?;
                    cause = inner.source();
                }
                let advice = match kind {
                    TransportErrorKind::Connect => {
                        "nothing was sent; check the network and the base URL, then retry"
                    }
                    _ => {
                        "the server may have processed the request; for a create, list before \
                         sending it again"
                    }
                };
                write!(f, "); {advice}")
            }
            Error::Timeout { operation, after } => write!(
                f,
                "{operation}: no complete answer within {after:?}; the server may have processed \
                 the request (for a create, list before sending it again); raise the timeout \
                 with TransportBuilder::timeout if answers are slow"
            ),
            Error::Decode {
                operation,
                status,
                detail,
            } => write!(
                f,
                "{operation}: the HTTP {status} answer does not match the expected shape: \
                 {detail}; the client and the API disagree, report it with the operation name"
            ),
            Error::BodyTooLarge { operation, limit } => write!(
                f,
                "{operation}: the answer's body is larger than the {limit}-byte limit; raise \
                 TransportBuilder::max_response_bytes or ask for smaller pages (PageSize)"
            ),
            Error::RetriesExhausted {
                operation,
                attempts,
                last,
            } => write!(
                f,
                "{operation}: gave up after {attempts} attempts; last error: {last}"
            ),
            Error::InvalidNextPage { operation, detail } => write!(
                f,
                "{operation}: cannot follow the next-page link: {detail}; restart the listing"
            ),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Transport { source, .. } => Some(source),
            Error::RetriesExhausted { last, .. } => Some(last.as_ref()),
            _ => None,
        }
    }
}

/// A non-2xx answer, decoded from Twilio's JSON error (`{code, message, more_info, status,
/// details}`), an RFC 9457 problem (`{type, title, status, detail, instance, errors, code}`), or
/// any other body (HTML from a gateway, empty).
///
/// `Debug` shows the decoded fields and the header NAMES, never header values or the body.
pub struct ApiError {
    /// The operation (`operationId`).
    pub operation: &'static str,
    /// The HTTP status of the answer.
    pub status: u16,
    /// Twilio's error code, e.g. `20404`.
    pub code: Option<i64>,
    /// Twilio's `message` (or RFC 9457 `detail`, or `title`), or a description of the body
    /// when it holds none, e.g. `HTTP 502 Bad Gateway with a non-JSON body (text/html, 1234 bytes)`.
    pub message: String,
    /// Twilio's `more_info` link to the error's documentation.
    pub more_info: Option<String>,
    /// Twilio's `details` object.
    pub details: Option<serde_json::Value>,
    /// RFC 9457 `type`.
    pub problem_type: Option<String>,
    /// RFC 9457 `title`.
    pub title: Option<String>,
    /// RFC 9457 `instance`.
    pub instance: Option<String>,
    /// RFC 9457 `errors`.
    pub errors: Option<serde_json::Value>,
    /// The `Twilio-Request-Id` header.
    pub request_id: Option<String>,
    /// All headers of the answer.
    pub headers: HeaderMap,
    /// The `Retry-After` header as a delay (seconds or HTTP-date).
    pub retry_after: Option<Duration>,
}

impl ApiError {
    /// Decodes an error answer. Never fails: whatever the body, the status and headers are kept
    /// and `message` says what came.
    ///
    /// ```
    /// use trusthub_runtime::ApiError;
    /// use trusthub_runtime::reqwest::header::HeaderMap;
    ///
    /// let body = br#"{"code": 20404, "message": "The requested resource was not found", "more_info": "https://www.twilio.com/docs/errors/20404", "status": 404}"#;
    /// let error = ApiError::from_response("FetchCustomerProfile", 404, HeaderMap::new(), body);
    /// assert_eq!(error.code, Some(20404));
    /// assert_eq!(error.message, "The requested resource was not found");
    /// ```
    pub fn from_response(
        operation: &'static str,
        status: u16,
        headers: HeaderMap,
        body: &[u8],
    ) -> ApiError {
        let mut error = ApiError::bare(operation, status, headers);
        let parsed = if body.iter().all(u8::is_ascii_whitespace) {
            None
        } else {
            Some(serde_json::from_slice::<serde_json::Value>(body))
        };
        error.message = match parsed {
            None => format!("{} with an empty body", error.status_line()),
            Some(Ok(serde_json::Value::Object(object))) => {
                error.fill_from_json(&object);
                first_text(&object, &["message", "detail", "title"])
                    .map(truncate)
                    .unwrap_or_else(|| {
                        format!(
                            "{} with a JSON body holding no error message ({} bytes)",
                            error.status_line(),
                            body.len()
                        )
                    })
            }
            Some(Ok(_)) => format!(
                "{} with a JSON body that is not an error object ({} bytes)",
                error.status_line(),
                body.len()
            ),
            Some(Err(_)) => format!(
                "{} with a non-JSON body ({}, {} bytes)",
                error.status_line(),
                error.content_type(),
                body.len()
            ),
        };
        if (300..400).contains(&status) {
            error.message = format!(
                "{}: redirect not followed (credentials are never sent to another location)",
                error.status_line()
            );
        }
        error
    }

    /// An error answer whose body was not read because it exceeds `limit` bytes.
    pub(crate) fn oversized(
        operation: &'static str,
        status: u16,
        headers: HeaderMap,
        limit: usize,
    ) -> ApiError {
        let mut error = ApiError::bare(operation, status, headers);
        error.message = format!(
            "{} with a body over the {limit}-byte limit (not read)",
            error.status_line()
        );
        error
    }

    fn bare(operation: &'static str, status: u16, headers: HeaderMap) -> ApiError {
        let request_id = headers
            .get(REQUEST_ID_HEADER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let retry_after = headers
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| parse_retry_after(v, time::OffsetDateTime::now_utc()));
        ApiError {
            operation,
            status,
            code: None,
            message: String::new(),
            more_info: None,
            details: None,
            problem_type: None,
            title: None,
            instance: None,
            errors: None,
            request_id,
            headers,
            retry_after,
        }
    }

    fn fill_from_json(&mut self, object: &serde_json::Map<String, serde_json::Value>) {
        self.code = object.get("code").and_then(|code| match code {
            serde_json::Value::Number(n) => n.as_i64(),
            serde_json::Value::String(s) => s.trim().parse().ok(),
            _ => None,
        });
        self.more_info = first_text(object, &["more_info"]);
        self.details = non_null(object.get("details"));
        self.problem_type = first_text(object, &["type"]);
        self.title = first_text(object, &["title"]);
        self.instance = first_text(object, &["instance"]);
        self.errors = non_null(object.get("errors"));
    }

    /// `HTTP 502 Bad Gateway`.
    fn status_line(&self) -> String {
        match StatusCode::from_u16(self.status)
            .ok()
            .and_then(|s| s.canonical_reason())
        {
            Some(reason) => format!("HTTP {} {reason}", self.status),
            None => format!("HTTP {}", self.status),
        }
    }

    /// The media type of the body (`text/html`), without parameters; `no content type` when
    /// absent or unreadable.
    fn content_type(&self) -> String {
        self.headers
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|v| {
                v.split(';')
                    .next()
                    .unwrap_or("")
                    .trim()
                    .to_ascii_lowercase()
            })
            .filter(|v| {
                !v.is_empty()
                    && v.len() <= 100
                    && v.bytes().all(|b| {
                        b.is_ascii_alphanumeric() || matches!(b, b'/' | b'-' | b'+' | b'.')
                    })
            })
            .unwrap_or_else(|| "no content type".to_owned())
    }

    fn advice(&self) -> &'static str {
        match self.status {
            300..=399 => "point the client at the final URL instead",
            400 => "fix the parameter the message names and send again",
            401 => "check the account SID and the auth token or API key credentials",
            403 => {
                "these credentials may not do this; check the account and the API key's permissions"
            }
            404 => "check the SID and that the resource belongs to this account",
            409 => "the resource's state conflicts with the request; fetch it and decide again",
            429 => "too many requests; slow down and retry later",
            500..=599 => {
                "Twilio or a gateway failed; retry later and quote the request id to Twilio \
                 support if it persists"
            }
            _ => "the request was refused; see the message",
        }
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} failed with HTTP {}", self.operation, self.status)?;
        if let Some(code) = self.code {
            write!(f, " (Twilio error {code})")?;
        }
        write!(f, ": {}", self.message)?;
        if let Some(more_info) = &self.more_info {
            write!(f, " (see {more_info})")?;
        }
        if let Some(request_id) = &self.request_id {
            write!(f, " [request id {request_id}]")?;
        }
        write!(f, "; {}", self.advice())
    }
}

impl fmt::Debug for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiError")
            .field("operation", &self.operation)
            .field("status", &self.status)
            .field("code", &self.code)
            .field("message", &self.message)
            .field("more_info", &self.more_info)
            .field("details", &self.details.as_ref().map(|_| "{..}"))
            .field("problem_type", &self.problem_type)
            .field("title", &self.title)
            .field("instance", &self.instance)
            .field("errors", &self.errors.as_ref().map(|_| ".."))
            .field("request_id", &self.request_id)
            .field("header_names", &self.headers.keys().collect::<Vec<_>>())
            .field("retry_after", &self.retry_after)
            .finish()
    }
}

impl std::error::Error for ApiError {}

/// The first non-blank text among `keys`, made printable ([`crate::text::printable`]): a
/// server's text never reaches a terminal with its control characters.
fn first_text(
    object: &serde_json::Map<String, serde_json::Value>,
    keys: &[&str],
) -> Option<String> {
    keys.iter()
        .filter_map(|key| object.get(*key))
        .find_map(|value| match value {
            serde_json::Value::String(s) if !s.trim().is_empty() => {
                Some(crate::text::printable(s).into_owned())
            }
            _ => None,
        })
}

fn non_null(value: Option<&serde_json::Value>) -> Option<serde_json::Value> {
    value.filter(|v| !v.is_null()).cloned()
}

fn truncate(text: String) -> String {
    if text.chars().count() <= MAX_MESSAGE_CHARS {
        return text;
    }
    let mut cut: String = text.chars().take(MAX_MESSAGE_CHARS).collect();
    cut.push_str("...");
    cut
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_str(value).unwrap());
        }
        map
    }

    #[test]
    fn control_characters_of_a_server_message_are_escaped() {
        let body = "{\"code\": 20001, \"message\": \"Bad \\u001b[2J\\u001b]0;owned\\u0007 value\\u202e\", \"more_info\": \"https://x\\u001b[31m\"}";
        let api = ApiError::from_response("CreateEndUser", 400, HeaderMap::new(), body.as_bytes());
        assert_eq!(
            api.message,
            "Bad \\u{1b}[2J\\u{1b}]0;owned\\u{7} value\\u{202e}"
        );
        assert_eq!(api.more_info.as_deref(), Some("https://x\\u{1b}[31m"));
        let shown = Error::Api(Box::new(api)).to_string();
        assert!(!shown.chars().any(crate::text::is_unprintable), "{shown:?}");
    }

    #[test]
    fn twilio_json_error() {
        let body = br#"{"code": 20001, "message": "Missing required parameter FriendlyName in the post body", "more_info": "https://www.twilio.com/docs/errors/20001", "status": 400, "details": {"field": "FriendlyName"}}"#;
        let api = ApiError::from_response(
            "CreateCustomerProfile",
            400,
            headers(&[
                ("twilio-request-id", "RQ0123456789abcdef0123456789abcdef"),
                ("content-type", "application/json"),
            ]),
            body,
        );
        assert_eq!(api.status, 400);
        assert_eq!(api.code, Some(20001));
        assert_eq!(
            api.message,
            "Missing required parameter FriendlyName in the post body"
        );
        assert_eq!(
            api.more_info.as_deref(),
            Some("https://www.twilio.com/docs/errors/20001")
        );
        assert_eq!(
            api.details,
            Some(serde_json::json!({"field": "FriendlyName"}))
        );
        assert_eq!(
            api.request_id.as_deref(),
            Some("RQ0123456789abcdef0123456789abcdef")
        );
        let error = Error::Api(Box::new(api));
        assert_eq!(error.status(), Some(400));
        assert_eq!(error.code(), Some(20001));
        assert_eq!(
            error.request_id(),
            Some("RQ0123456789abcdef0123456789abcdef")
        );
        assert!(!error.is_retryable());
        let text = error.to_string();
        assert!(text.starts_with("CreateCustomerProfile failed with HTTP 400 (Twilio error 20001): Missing required parameter FriendlyName"), "{text}");
        assert!(
            text.contains("RQ0123456789abcdef0123456789abcdef"),
            "{text}"
        );
        assert!(text.contains("fix the parameter"), "{text}");
    }

    #[test]
    fn rfc9457_problem() {
        let body = br#"{"type": "https://www.twilio.com/docs/errors/20404", "title": "Not Found", "status": 404, "code": 20404, "detail": "Profile BUxx was not found", "instance": "/v1/CustomerProfiles/BUxx", "errors": [{"pointer": "/Sid"}]}"#;
        let api = ApiError::from_response(
            "FetchCustomerProfile",
            404,
            headers(&[("content-type", "application/problem+json")]),
            body,
        );
        assert_eq!(api.code, Some(20404));
        assert_eq!(api.message, "Profile BUxx was not found");
        assert_eq!(
            api.problem_type.as_deref(),
            Some("https://www.twilio.com/docs/errors/20404")
        );
        assert_eq!(api.title.as_deref(), Some("Not Found"));
        assert_eq!(api.instance.as_deref(), Some("/v1/CustomerProfiles/BUxx"));
        assert_eq!(api.errors, Some(serde_json::json!([{"pointer": "/Sid"}])));
        assert!(api.to_string().contains("FetchCustomerProfile"));
    }

    #[test]
    fn problem_with_title_only_uses_the_title() {
        let api = ApiError::from_response(
            "X",
            409,
            HeaderMap::new(),
            br#"{"title": "Conflict", "code": "20409"}"#,
        );
        assert_eq!(api.message, "Conflict");
        assert_eq!(api.code, Some(20409));
    }

    #[test]
    fn html_502_body() {
        let html = format!("<html><body>{}</body></html>", "x".repeat(1208));
        assert_eq!(html.len(), 1234);
        let api = ApiError::from_response(
            "ListPolicies",
            502,
            headers(&[
                ("content-type", "text/html; charset=utf-8"),
                ("twilio-request-id", "RQ1"),
            ]),
            html.as_bytes(),
        );
        assert_eq!(
            api.message,
            "HTTP 502 Bad Gateway with a non-JSON body (text/html, 1234 bytes)"
        );
        assert_eq!(api.request_id.as_deref(), Some("RQ1"));
        let error = Error::Api(Box::new(api));
        assert!(error.is_retryable());
        assert!(error
            .to_string()
            .starts_with("ListPolicies failed with HTTP 502"));
        assert!(!format!("{error:?}").contains("<html>"));
    }

    #[test]
    fn empty_body() {
        let api = ApiError::from_response("DeleteEndUser", 404, HeaderMap::new(), b"");
        assert_eq!(api.message, "HTTP 404 Not Found with an empty body");
        assert_eq!(api.code, None);
        let api = ApiError::from_response("DeleteEndUser", 503, HeaderMap::new(), b" \r\n");
        assert_eq!(
            api.message,
            "HTTP 503 Service Unavailable with an empty body"
        );
    }

    #[test]
    fn redirect_is_described() {
        let api = ApiError::from_response(
            "ListPolicies",
            302,
            headers(&[("location", "https://elsewhere.example/steal")]),
            b"",
        );
        assert!(
            api.message.contains("redirect not followed"),
            "{}",
            api.message
        );
        assert!(!api.message.contains("elsewhere"));
    }

    #[test]
    fn debug_does_not_dump_body_or_header_values() {
        let body =
            br#"{"code": 20001, "message": "bad", "details": {"email": "jane@example.com"}}"#;
        let api = ApiError::from_response(
            "CreateEndUser",
            400,
            headers(&[("set-cookie", "session=abcdef")]),
            body,
        );
        let debug = format!("{api:?}");
        assert!(!debug.contains("jane@example.com"), "{debug}");
        assert!(!debug.contains("abcdef"), "{debug}");
        assert!(debug.contains("set-cookie"), "{debug}");
    }

    #[test]
    fn retry_after_seconds_are_kept() {
        let api = ApiError::from_response(
            "ListPolicies",
            429,
            headers(&[("retry-after", "7")]),
            br#"{"code": 20429, "message": "Too Many Requests", "status": 429}"#,
        );
        assert_eq!(api.retry_after, Some(Duration::from_secs(7)));
    }

    #[test]
    fn retries_exhausted_delegates() {
        let api = ApiError::from_response(
            "ListPolicies",
            503,
            headers(&[("twilio-request-id", "RQ9")]),
            br#"{"code": 20503, "message": "Service unavailable"}"#,
        );
        let error = Error::RetriesExhausted {
            operation: "ListPolicies",
            attempts: 4,
            last: Box::new(Error::Api(Box::new(api))),
        };
        assert_eq!(error.status(), Some(503));
        assert_eq!(error.code(), Some(20503));
        assert_eq!(error.request_id(), Some("RQ9"));
        assert!(error.is_retryable());
        let text = error.to_string();
        assert!(
            text.starts_with("ListPolicies: gave up after 4 attempts"),
            "{text}"
        );
        assert!(std::error::Error::source(&error).is_some());
    }

    #[test]
    fn invalid_parameter_display() {
        let error = Error::InvalidParameter {
            operation: "FetchCustomerProfile",
            parameter: "Sid",
            expected: "^BU[0-9a-fA-F]{32}$".to_owned(),
            found: "length 30".to_owned(),
        };
        assert_eq!(
            error.to_string(),
            "FetchCustomerProfile: invalid Sid: expected ^BU[0-9a-fA-F]{32}$, found length 30; \
             fix the value (nothing was sent)"
        );
        assert_eq!(error.operation(), Some("FetchCustomerProfile"));
    }
}
