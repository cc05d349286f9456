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

/// Which step of an exchange failed: [`Error::transport_kind`] of an [`ErrorKind::Transport`]
/// error.
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

/// What went wrong, in one word: the answer of [`Error::kind`].
///
/// Retries are not a kind of their own: an error after several attempts has the kind of the
/// last attempt's error, and [`Error::attempts`] says how many were made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The server answered with a non-2xx status (3xx included: redirects are never followed),
    /// or a 2xx answer carried Twilio's error object. [`Error::status`], [`Error::code`],
    /// [`Error::message`] and [`Error::api_error`] tell more.
    Api,
    /// A client-side check failed before anything was sent: [`Error::parameter`],
    /// [`Error::expected`], [`Error::found`].
    InvalidParameter,
    /// Bad builder settings (missing credentials, refused base URL, ...): [`Error::detail`].
    Config,
    /// The HTTP exchange failed without an answer: [`Error::transport_kind`] says at which step
    /// ([`TransportErrorKind::Connect`] means nothing was sent).
    Transport,
    /// No complete answer within the per-attempt timeout: [`Error::timeout`].
    Timeout,
    /// A 2xx answer whose body does not match the expected type: [`Error::detail`] gives where
    /// and why (serde path, category, line and column; never body text or values).
    Decode,
    /// The answer's body is larger than `max_response_bytes`: [`Error::body_limit`].
    BodyTooLarge,
    /// A list answer's next-page link cannot be followed (not a path or http(s) URL, or pages
    /// that loop): [`Error::detail`].
    InvalidNextPage,
}

/// Everything that can go wrong with a call: one opaque error, read through [`Error::kind`]
/// and accessors.
///
/// When MORE THAN ONE attempt was made (whatever stopped the retries: attempts, elapsed budget,
/// a `Retry-After` beyond the budget, or a final answer that is not retryable), the error wraps
/// the last attempt's error: its message starts with `gave up after N attempts`,
/// [`Error::attempts`] is N, and every other accessor ([`Error::kind`], [`Error::status`],
/// [`Error::code`], [`Error::processed`], ...) answers for the last attempt. An error on the
/// first and only attempt is returned as it is ([`Error::attempts`] is 1).
///
/// `Display` says which operation failed, what happened and what to do; neither `Display` nor
/// `Debug` shows secrets, bodies, header values, query or form values.
///
/// ```
/// use trusthub_runtime::{Error, ErrorKind, Processed};
/// # use trusthub_runtime::ApiError;
/// # let body = br#"{"code": 20404, "message": "The requested resource was not found", "status": 404}"#;
/// # let error = Error::from_api(ApiError::from_answer("FetchCustomerProfile", 404, Some("RQ1"), None, body));
///
/// // `error` came back from a call.
/// match error.kind() {
///     ErrorKind::Api => {
///         assert_eq!(error.status(), Some(404));
///         assert_eq!(error.code(), Some(20404));
///         assert_eq!(error.request_id(), Some("RQ1"));
///     }
///     ErrorKind::InvalidParameter => eprintln!("fix {:?}", error.parameter()),
///     ErrorKind::Transport | ErrorKind::Timeout => eprintln!("no answer: {error}"),
///     _ => eprintln!("{error}"),
/// }
/// // Twilio read the request and refused it: nothing was created, sending it again fails again.
/// assert_eq!(error.processed(), Processed::Refused);
/// assert!(!error.is_retryable());
/// ```
pub struct Error(Box<Repr>);

/// What an [`Error`] holds.
#[derive(Debug)]
pub(crate) enum Repr {
    Api(Box<ApiError>),
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
    Config(String),
    Transport {
        operation: &'static str,
        kind: TransportErrorKind,
        /// The client's error, with its URL removed.
        source: reqwest::Error,
    },
    Timeout {
        operation: &'static str,
        /// The per-attempt timeout that expired.
        after: Duration,
    },
    Decode {
        operation: &'static str,
        status: u16,
        detail: String,
    },
    BodyTooLarge {
        operation: &'static str,
        limit: usize,
    },
    /// More than one attempt was made and the last one failed.
    RetriesExhausted {
        operation: &'static str,
        /// How many attempts were sent (at least 2).
        attempts: u32,
        last: Error,
    },
    InvalidNextPage {
        operation: &'static str,
        detail: String,
    },
}

impl Error {
    fn new(repr: Repr) -> Self {
        Error(Box::new(repr))
    }

    /// An error answer ([`ErrorKind::Api`]).
    pub(crate) fn api(api: ApiError) -> Self {
        Error::new(Repr::Api(Box::new(api)))
    }

    /// An error answer ([`ErrorKind::Api`]), for tests and examples.
    #[doc(hidden)]
    pub fn from_api(api: ApiError) -> Self {
        Error::api(api)
    }

    /// A client-side check that failed ([`ErrorKind::InvalidParameter`]).
    pub(crate) fn invalid_parameter(
        operation: &'static str,
        parameter: &'static str,
        expected: impl Into<String>,
        found: impl Into<String>,
    ) -> Self {
        Error::new(Repr::InvalidParameter {
            operation,
            parameter,
            expected: expected.into(),
            found: found.into(),
        })
    }

    /// Bad settings ([`ErrorKind::Config`]).
    pub(crate) fn config(message: impl Into<String>) -> Self {
        Error::new(Repr::Config(message.into()))
    }

    /// A failed exchange ([`ErrorKind::Transport`]), dropping the URL from the client error so
    /// that no query string ends up in messages. (A timeout is [`Error::timed_out`].)
    pub(crate) fn transport(operation: &'static str, source: reqwest::Error) -> Self {
        Error::new(Repr::Transport {
            operation,
            kind: TransportErrorKind::of(&source),
            source: source.without_url(),
        })
    }

    /// No complete answer within `after` ([`ErrorKind::Timeout`]).
    pub(crate) fn timed_out(operation: &'static str, after: Duration) -> Self {
        Error::new(Repr::Timeout { operation, after })
    }

    /// A 2xx answer of `status` that does not decode ([`ErrorKind::Decode`]); `detail` says
    /// where and why, never with body text or values. Public for the facade (an answer lacking
    /// what a step needs) and for tests.
    #[doc(hidden)]
    pub fn decode(operation: &'static str, status: u16, detail: impl Into<String>) -> Self {
        Error::new(Repr::Decode {
            operation,
            status,
            detail: detail.into(),
        })
    }

    /// A 2xx body over `limit` bytes ([`ErrorKind::BodyTooLarge`]).
    pub(crate) fn body_too_large(operation: &'static str, limit: usize) -> Self {
        Error::new(Repr::BodyTooLarge { operation, limit })
    }

    /// The last error of `attempts` (more than one) attempts.
    pub(crate) fn retries_exhausted(operation: &'static str, attempts: u32, last: Error) -> Self {
        Error::new(Repr::RetriesExhausted {
            operation,
            attempts,
            last,
        })
    }

    /// A next-page link that cannot be followed ([`ErrorKind::InvalidNextPage`]).
    pub(crate) fn invalid_next_page(operation: &'static str, detail: impl Into<String>) -> Self {
        Error::new(Repr::InvalidNextPage {
            operation,
            detail: detail.into(),
        })
    }

    /// What the error holds, looking through retries: the last attempt's error.
    fn last(&self) -> &Repr {
        let mut repr = &*self.0;
        while let Repr::RetriesExhausted { last, .. } = repr {
            repr = &last.0;
        }
        repr
    }

    /// What went wrong (of the last attempt, when several were made).
    pub fn kind(&self) -> ErrorKind {
        match self.last() {
            Repr::Api(_) => ErrorKind::Api,
            Repr::InvalidParameter { .. } => ErrorKind::InvalidParameter,
            Repr::Config(_) => ErrorKind::Config,
            Repr::Transport { .. } => ErrorKind::Transport,
            Repr::Timeout { .. } => ErrorKind::Timeout,
            Repr::Decode { .. } => ErrorKind::Decode,
            Repr::BodyTooLarge { .. } => ErrorKind::BodyTooLarge,
            Repr::InvalidNextPage { .. } => ErrorKind::InvalidNextPage,
            Repr::RetriesExhausted { .. } => unreachable!("looked through by Error::last"),
        }
    }

    /// How many requests were sent: 1 unless the request was retried (0 is never returned,
    /// even when nothing was sent).
    pub fn attempts(&self) -> u32 {
        match &*self.0 {
            Repr::RetriesExhausted { attempts, .. } => *attempts,
            _ => 1,
        }
    }

    /// The decoded error answer of an [`ErrorKind::Api`] error.
    pub fn api_error(&self) -> Option<&ApiError> {
        match self.last() {
            Repr::Api(api) => Some(api),
            _ => None,
        }
    }

    /// The HTTP status of an error answer (or of an undecodable 2xx answer).
    pub fn status(&self) -> Option<u16> {
        match self.last() {
            Repr::Api(api) => Some(api.status),
            Repr::Decode { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// Twilio's error code (`20404`, `20003`, ...), when the answer carried one.
    pub fn code(&self) -> Option<i64> {
        self.api_error().and_then(ApiError::code)
    }

    /// Twilio's error message of an error answer (or RFC 9457 `detail` or `title`, or a
    /// description of the body when it holds none; see [`ApiError::message`]).
    pub fn message(&self) -> Option<&str> {
        self.api_error().map(ApiError::message)
    }

    /// Twilio's `more_info` link to the documentation of the error answer's code.
    pub fn more_info(&self) -> Option<&str> {
        self.api_error().and_then(ApiError::more_info)
    }

    /// The `Twilio-Request-Id` of the failed answer, to quote to Twilio support.
    pub fn request_id(&self) -> Option<&str> {
        self.api_error().and_then(ApiError::request_id)
    }

    /// The delay the server asked for with `Retry-After`, if any.
    pub fn retry_after(&self) -> Option<Duration> {
        self.api_error().and_then(ApiError::retry_after)
    }

    /// The refused parameter's name as in the spec (`FriendlyName`, `Sid`) of an
    /// [`ErrorKind::InvalidParameter`] error.
    pub fn parameter(&self) -> Option<&'static str> {
        match self.last() {
            Repr::InvalidParameter { parameter, .. } => Some(parameter),
            _ => None,
        }
    }

    /// The form the refused parameter should have, e.g. `^BU[0-9a-fA-F]{32}$` or
    /// `1 to 64 characters` ([`ErrorKind::InvalidParameter`]).
    pub fn expected(&self) -> Option<&str> {
        match self.last() {
            Repr::InvalidParameter { expected, .. } => Some(expected),
            _ => None,
        }
    }

    /// What came instead, described without echoing personal data, e.g. `length 30`
    /// ([`ErrorKind::InvalidParameter`]).
    pub fn found(&self) -> Option<&str> {
        match self.last() {
            Repr::InvalidParameter { found, .. } => Some(found),
            _ => None,
        }
    }

    /// Which step of the exchange failed ([`ErrorKind::Transport`]);
    /// [`TransportErrorKind::Connect`] means nothing was sent.
    pub fn transport_kind(&self) -> Option<TransportErrorKind> {
        match self.last() {
            Repr::Transport { kind, .. } => Some(*kind),
            _ => None,
        }
    }

    /// The per-attempt timeout that expired ([`ErrorKind::Timeout`]).
    pub fn timeout(&self) -> Option<Duration> {
        match self.last() {
            Repr::Timeout { after, .. } => Some(*after),
            _ => None,
        }
    }

    /// What is wrong, for the kinds that say it in words: where and why a 2xx answer does not
    /// decode ([`ErrorKind::Decode`]: serde path, category, line and column, never body text or
    /// values), why a next-page link cannot be followed ([`ErrorKind::InvalidNextPage`]; the
    /// link itself is not echoed), or which setting is refused ([`ErrorKind::Config`]).
    pub fn detail(&self) -> Option<&str> {
        match self.last() {
            Repr::Decode { detail, .. }
            | Repr::InvalidNextPage { detail, .. }
            | Repr::Config(detail) => Some(detail),
            _ => None,
        }
    }

    /// The configured body limit in bytes that the answer exceeded ([`ErrorKind::BodyTooLarge`]).
    pub fn body_limit(&self) -> Option<usize> {
        match self.last() {
            Repr::BodyTooLarge { limit, .. } => Some(*limit),
            _ => None,
        }
    }

    /// `true` when an identical request later may succeed: 429, 502, 503, 504, network
    /// failures and timeouts. It does NOT say that repeating is safe: a `POST` that timed out
    /// may have been processed (list the resources to reconcile before creating again).
    pub fn is_retryable(&self) -> bool {
        match self.last() {
            Repr::Api(api) => matches!(api.status, 429 | 502 | 503 | 504),
            Repr::Transport { .. } | Repr::Timeout { .. } => true,
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
    /// use trusthub_runtime::Processed;
    /// # use trusthub_runtime::{ApiError, Error};
    /// # let answer = |status, body: &str| {
    /// #     Error::from_api(ApiError::from_answer("CreateEndUser", status, None, None, body.as_bytes()))
    /// # };
    ///
    /// // `answer(status, body)` is the error of a call answered with that status and body.
    /// let twilio_429 = r#"{"code": 20429, "message": "Too Many Requests", "status": 429}"#;
    /// assert_eq!(answer(429, twilio_429).processed(), Processed::No);
    /// assert_eq!(answer(429, "<html>slow down</html>").processed(), Processed::Maybe);
    /// assert_eq!(answer(503, r#"{"code": 20503, "message": "Service Unavailable"}"#).processed(), Processed::Maybe);
    /// let invalid = r#"{"code": 20001, "message": "Missing required parameter Type", "status": 400}"#;
    /// assert_eq!(answer(400, invalid).processed(), Processed::Refused);
    /// ```
    pub fn processed(&self) -> Processed {
        match self.last() {
            Repr::Api(api) => match api.status {
                429 if api.code == Some(TOO_MANY_REQUESTS_CODE) => Processed::No,
                400..=499 if api.code.is_some() && api.status != 429 => Processed::Refused,
                _ => Processed::Maybe,
            },
            Repr::InvalidParameter { .. } | Repr::Config(_) | Repr::InvalidNextPage { .. } => {
                Processed::No
            }
            Repr::Transport { kind, .. } => match kind {
                TransportErrorKind::Connect => Processed::No,
                _ => Processed::Maybe,
            },
            Repr::Timeout { .. } => Processed::Maybe,
            Repr::Decode { .. } | Repr::BodyTooLarge { .. } => Processed::Yes,
            Repr::RetriesExhausted { .. } => unreachable!("looked through by Error::last"),
        }
    }

    /// The operation the error belongs to, `None` for configuration errors.
    pub fn operation(&self) -> Option<&'static str> {
        match &*self.0 {
            Repr::Api(api) => Some(api.operation),
            Repr::InvalidParameter { operation, .. }
            | Repr::Transport { operation, .. }
            | Repr::Timeout { operation, .. }
            | Repr::Decode { operation, .. }
            | Repr::BodyTooLarge { operation, .. }
            | Repr::RetriesExhausted { operation, .. }
            | Repr::InvalidNextPage { operation, .. } => Some(operation),
            Repr::Config(_) => None,
        }
    }
}

/// Shows what the error holds (the kind and its fields, an error answer's decoded fields and
/// header NAMES), never header values, bodies or secrets.
impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &*self.0 {
            Repr::Api(api) => fmt::Display::fmt(api, f),
            Repr::InvalidParameter {
                operation,
                parameter,
                expected,
                found,
            } => write!(
                f,
                "{operation}: invalid {parameter}: expected {expected}, found {found}; \
                 fix the value (nothing was sent)"
            ),
            Repr::Config(message) => write!(f, "invalid client configuration: {message}"),
            Repr::Transport {
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
            Repr::Timeout { operation, after } => write!(
                f,
                "{operation}: no complete answer within {after:?}; the server may have processed \
                 the request (for a create, list before sending it again); raise the timeout \
                 with TransportBuilder::timeout if answers are slow"
            ),
            Repr::Decode {
                operation,
                status,
                detail,
            } => write!(
                f,
                "{operation}: the HTTP {status} answer does not match the expected shape: \
                 {detail}; the client and the API disagree, report it with the operation name"
            ),
            Repr::BodyTooLarge { operation, limit } => write!(
                f,
                "{operation}: the answer's body is larger than the {limit}-byte limit; raise \
                 TransportBuilder::max_response_bytes or ask for smaller pages (PageSize)"
            ),
            Repr::RetriesExhausted {
                operation,
                attempts,
                last,
            } => write!(
                f,
                "{operation}: gave up after {attempts} attempts; last error: {last}"
            ),
            Repr::InvalidNextPage { operation, detail } => write!(
                f,
                "{operation}: cannot follow the next-page link: {detail}; restart the listing"
            ),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &*self.0 {
            Repr::Transport { source, .. } => Some(source),
            Repr::RetriesExhausted { last, .. } => Some(last),
            _ => None,
        }
    }
}

/// A non-2xx answer, decoded from Twilio's JSON error (`{code, message, more_info, status,
/// details}`), an RFC 9457 problem (`{type, title, status, detail, instance, errors, code}`), or
/// any other body (HTML from a gateway, empty). [`Error::api_error`] gives it.
///
/// `Debug` shows the decoded fields and the header NAMES, never header values or the body.
pub struct ApiError {
    operation: &'static str,
    status: u16,
    code: Option<i64>,
    message: String,
    more_info: Option<String>,
    details: Option<serde_json::Value>,
    problem_type: Option<String>,
    title: Option<String>,
    instance: Option<String>,
    errors: Option<serde_json::Value>,
    request_id: Option<String>,
    /// The names (never the values) of the answer's headers, for `Debug`.
    header_names: Vec<String>,
    retry_after: Option<Duration>,
}

/// What an error answer's headers say, read once; the values themselves are not kept.
struct AnswerHeaders {
    request_id: Option<String>,
    retry_after: Option<Duration>,
    /// The media type of the body (`text/html`), when present and plain.
    content_type: Option<String>,
    names: Vec<String>,
}

impl AnswerHeaders {
    fn read(headers: &HeaderMap) -> Self {
        let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
        AnswerHeaders {
            request_id: text(REQUEST_ID_HEADER).map(str::to_owned),
            retry_after: text(RETRY_AFTER.as_str())
                .and_then(|v| parse_retry_after(v, time::OffsetDateTime::now_utc())),
            content_type: text(CONTENT_TYPE.as_str()).and_then(media_type),
            names: headers
                .keys()
                .map(|name| name.as_str().to_owned())
                .collect(),
        }
    }
}

impl ApiError {
    /// Decodes an error answer of `status` whose `Twilio-Request-Id` and `Retry-After` headers
    /// were already read. Never fails: whatever the body, `message` says what came.
    ///
    /// The transport builds every [`ApiError`] it returns; this is for tests and tools that
    /// decode an answer they received otherwise.
    ///
    /// ```
    /// use trusthub_runtime::ApiError;
    ///
    /// let body = br#"{"code": 20404, "message": "The requested resource was not found", "more_info": "https://www.twilio.com/docs/errors/20404", "status": 404}"#;
    /// let error = ApiError::from_answer("FetchCustomerProfile", 404, Some("RQ1"), None, body);
    /// assert_eq!(error.code(), Some(20404));
    /// assert_eq!(error.message(), "The requested resource was not found");
    /// assert_eq!(error.request_id(), Some("RQ1"));
    ///
    /// let html = ApiError::from_answer("FetchCustomerProfile", 502, None, None, b"<html>oops</html>");
    /// assert_eq!(html.message(), "HTTP 502 Bad Gateway with a non-JSON body (no content type, 17 bytes)");
    /// ```
    pub fn from_answer(
        operation: &'static str,
        status: u16,
        request_id: Option<&str>,
        retry_after: Option<Duration>,
        body: &[u8],
    ) -> ApiError {
        let headers = AnswerHeaders {
            request_id: request_id.map(|id| crate::text::printable(id).into_owned()),
            retry_after,
            content_type: None,
            names: Vec::new(),
        };
        ApiError::parse(operation, status, headers, body)
    }

    /// Decodes an error answer with its headers (see [`ApiError::from_answer`]).
    pub(crate) fn from_response(
        operation: &'static str,
        status: u16,
        headers: &HeaderMap,
        body: &[u8],
    ) -> ApiError {
        ApiError::parse(operation, status, AnswerHeaders::read(headers), body)
    }

    fn parse(
        operation: &'static str,
        status: u16,
        headers: AnswerHeaders,
        body: &[u8],
    ) -> ApiError {
        let content_type = headers.content_type.clone();
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
                content_type.as_deref().unwrap_or("no content type"),
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
        headers: &HeaderMap,
        limit: usize,
    ) -> ApiError {
        let mut error = ApiError::bare(operation, status, AnswerHeaders::read(headers));
        error.message = format!(
            "{} with a body over the {limit}-byte limit (not read)",
            error.status_line()
        );
        error
    }

    fn bare(operation: &'static str, status: u16, headers: AnswerHeaders) -> ApiError {
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
            request_id: headers.request_id,
            header_names: headers.names,
            retry_after: headers.retry_after,
        }
    }

    /// The operation (`operationId`).
    pub fn operation(&self) -> &'static str {
        self.operation
    }

    /// The HTTP status of the answer.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// Twilio's error code, e.g. `20404`.
    pub fn code(&self) -> Option<i64> {
        self.code
    }

    /// Twilio's `message` (or RFC 9457 `detail`, or `title`), made printable and cut at 2000
    /// characters, or a description of the body when it holds none, e.g.
    /// `HTTP 502 Bad Gateway with a non-JSON body (text/html, 1234 bytes)`.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// Twilio's `more_info` link to the error's documentation.
    pub fn more_info(&self) -> Option<&str> {
        self.more_info.as_deref()
    }

    /// Twilio's `details` object.
    pub fn details(&self) -> Option<&serde_json::Value> {
        self.details.as_ref()
    }

    /// RFC 9457 `type`.
    pub fn problem_type(&self) -> Option<&str> {
        self.problem_type.as_deref()
    }

    /// RFC 9457 `title`.
    pub fn title(&self) -> Option<&str> {
        self.title.as_deref()
    }

    /// RFC 9457 `instance`.
    pub fn instance(&self) -> Option<&str> {
        self.instance.as_deref()
    }

    /// RFC 9457 `errors`.
    pub fn errors(&self) -> Option<&serde_json::Value> {
        self.errors.as_ref()
    }

    /// The `Twilio-Request-Id` header, to quote to Twilio support.
    pub fn request_id(&self) -> Option<&str> {
        self.request_id.as_deref()
    }

    /// The `Retry-After` header as a delay (seconds or HTTP-date).
    pub fn retry_after(&self) -> Option<Duration> {
        self.retry_after
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

/// The media type of a `Content-Type` value (`text/html`), without parameters, lowercase; `None`
/// when empty or not plainly a media type.
fn media_type(value: &str) -> Option<String> {
    let media = value
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let plain = !media.is_empty()
        && media.len() <= 100
        && media
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'/' | b'-' | b'+' | b'.'));
    plain.then_some(media)
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
            .field("header_names", &self.header_names)
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
        let api = ApiError::from_response("CreateEndUser", 400, &HeaderMap::new(), body.as_bytes());
        assert_eq!(
            api.message(),
            "Bad \\u{1b}[2J\\u{1b}]0;owned\\u{7} value\\u{202e}"
        );
        assert_eq!(api.more_info(), Some("https://x\\u{1b}[31m"));
        let shown = Error::api(api).to_string();
        assert!(!shown.chars().any(crate::text::is_unprintable), "{shown:?}");
    }

    #[test]
    fn twilio_json_error() {
        let body = br#"{"code": 20001, "message": "Missing required parameter FriendlyName in the post body", "more_info": "https://www.twilio.com/docs/errors/20001", "status": 400, "details": {"field": "FriendlyName"}}"#;
        let api = ApiError::from_response(
            "CreateCustomerProfile",
            400,
            &headers(&[
                ("twilio-request-id", "RQ0123456789abcdef0123456789abcdef"),
                ("content-type", "application/json"),
            ]),
            body,
        );
        assert_eq!(api.status(), 400);
        assert_eq!(api.code(), Some(20001));
        assert_eq!(
            api.message(),
            "Missing required parameter FriendlyName in the post body"
        );
        assert_eq!(
            api.more_info(),
            Some("https://www.twilio.com/docs/errors/20001")
        );
        assert_eq!(
            api.details(),
            Some(&serde_json::json!({"field": "FriendlyName"}))
        );
        assert_eq!(api.request_id(), Some("RQ0123456789abcdef0123456789abcdef"));
        let error = Error::api(api);
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
            &headers(&[("content-type", "application/problem+json")]),
            body,
        );
        assert_eq!(api.code(), Some(20404));
        assert_eq!(api.message(), "Profile BUxx was not found");
        assert_eq!(
            api.problem_type(),
            Some("https://www.twilio.com/docs/errors/20404")
        );
        assert_eq!(api.title(), Some("Not Found"));
        assert_eq!(api.instance(), Some("/v1/CustomerProfiles/BUxx"));
        assert_eq!(
            api.errors(),
            Some(&serde_json::json!([{"pointer": "/Sid"}]))
        );
        assert!(api.to_string().contains("FetchCustomerProfile"));
    }

    #[test]
    fn problem_with_title_only_uses_the_title() {
        let api = ApiError::from_response(
            "X",
            409,
            &HeaderMap::new(),
            br#"{"title": "Conflict", "code": "20409"}"#,
        );
        assert_eq!(api.message(), "Conflict");
        assert_eq!(api.code(), Some(20409));
    }

    #[test]
    fn html_502_body() {
        let html = format!("<html><body>{}</body></html>", "x".repeat(1208));
        assert_eq!(html.len(), 1234);
        let api = ApiError::from_response(
            "ListPolicies",
            502,
            &headers(&[
                ("content-type", "text/html; charset=utf-8"),
                ("twilio-request-id", "RQ1"),
            ]),
            html.as_bytes(),
        );
        assert_eq!(
            api.message(),
            "HTTP 502 Bad Gateway with a non-JSON body (text/html, 1234 bytes)"
        );
        assert_eq!(api.request_id(), Some("RQ1"));
        let error = Error::api(api);
        assert!(error.is_retryable());
        assert!(error
            .to_string()
            .starts_with("ListPolicies failed with HTTP 502"));
        assert!(!format!("{error:?}").contains("<html>"));
    }

    #[test]
    fn empty_body() {
        let api = ApiError::from_response("DeleteEndUser", 404, &HeaderMap::new(), b"");
        assert_eq!(api.message(), "HTTP 404 Not Found with an empty body");
        assert_eq!(api.code(), None);
        let api = ApiError::from_response("DeleteEndUser", 503, &HeaderMap::new(), b" \r\n");
        assert_eq!(
            api.message(),
            "HTTP 503 Service Unavailable with an empty body"
        );
    }

    #[test]
    fn redirect_is_described() {
        let api = ApiError::from_response(
            "ListPolicies",
            302,
            &headers(&[("location", "https://elsewhere.example/steal")]),
            b"",
        );
        assert!(
            api.message().contains("redirect not followed"),
            "{}",
            api.message()
        );
        assert!(!api.message().contains("elsewhere"));
    }

    #[test]
    fn debug_does_not_dump_body_or_header_values() {
        let body =
            br#"{"code": 20001, "message": "bad", "details": {"email": "jane@example.com"}}"#;
        let api = ApiError::from_response(
            "CreateEndUser",
            400,
            &headers(&[("set-cookie", "session=abcdef")]),
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
            &headers(&[("retry-after", "7")]),
            br#"{"code": 20429, "message": "Too Many Requests", "status": 429}"#,
        );
        assert_eq!(api.retry_after(), Some(Duration::from_secs(7)));
    }

    #[test]
    fn retries_exhausted_delegates() {
        let api = ApiError::from_response(
            "ListPolicies",
            503,
            &headers(&[("twilio-request-id", "RQ9")]),
            br#"{"code": 20503, "message": "Service unavailable"}"#,
        );
        let error = Error::retries_exhausted("ListPolicies", 4, Error::api(api));
        assert_eq!(error.kind(), ErrorKind::Api);
        assert_eq!(error.attempts(), 4);
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
        let error = Error::invalid_parameter(
            "FetchCustomerProfile",
            "Sid",
            "^BU[0-9a-fA-F]{32}$",
            "length 30",
        );
        assert_eq!(
            error.to_string(),
            "FetchCustomerProfile: invalid Sid: expected ^BU[0-9a-fA-F]{32}$, found length 30; \
             fix the value (nothing was sent)"
        );
        assert_eq!(error.operation(), Some("FetchCustomerProfile"));
    }

    #[test]
    fn invalid_parameter_accessors() {
        let error = Error::invalid_parameter("FetchCustomerProfile", "Sid", "^BU", "length 30");
        assert_eq!(error.kind(), ErrorKind::InvalidParameter);
        assert_eq!(error.parameter(), Some("Sid"));
        assert_eq!(error.expected(), Some("^BU"));
        assert_eq!(error.found(), Some("length 30"));
        assert_eq!(error.processed(), Processed::No);
        assert_eq!(error.attempts(), 1);
        assert_eq!(
            (error.status(), error.code(), error.message()),
            (None, None, None)
        );
        assert!(error.api_error().is_none());
    }

    #[test]
    fn accessors_of_each_kind_look_through_retries() {
        let timeout = Error::timed_out("Op", Duration::from_millis(300));
        assert_eq!(timeout.kind(), ErrorKind::Timeout);
        assert_eq!(timeout.timeout(), Some(Duration::from_millis(300)));
        let retried = Error::retries_exhausted("Op", 3, timeout);
        assert_eq!(retried.kind(), ErrorKind::Timeout);
        assert_eq!(retried.timeout(), Some(Duration::from_millis(300)));
        assert_eq!(retried.attempts(), 3);
        assert_eq!(retried.operation(), Some("Op"));
        assert!(retried.is_retryable());
        assert_eq!(retried.processed(), Processed::Maybe);

        let decode = Error::decode("Op", 201, "at sid: data error");
        assert_eq!(decode.kind(), ErrorKind::Decode);
        assert_eq!(decode.status(), Some(201));
        assert_eq!(decode.detail(), Some("at sid: data error"));
        assert_eq!(decode.processed(), Processed::Yes);

        let large = Error::body_too_large("Op", 1000);
        assert_eq!(large.kind(), ErrorKind::BodyTooLarge);
        assert_eq!(large.body_limit(), Some(1000));
        assert_eq!(large.detail(), None);

        let next = Error::invalid_next_page("Op", "the pages loop");
        assert_eq!(next.kind(), ErrorKind::InvalidNextPage);
        assert_eq!(next.detail(), Some("the pages loop"));

        let config = Error::config("no credentials");
        assert_eq!(config.kind(), ErrorKind::Config);
        assert_eq!(config.detail(), Some("no credentials"));
        assert_eq!(config.operation(), None);
        assert_eq!(
            config.to_string(),
            "invalid client configuration: no credentials"
        );

        let body = br#"{"code": 20404, "message": "Not here", "more_info": "https://x/20404"}"#;
        let api = Error::from_api(ApiError::from_answer(
            "Op",
            404,
            Some("RQ1"),
            Some(Duration::from_secs(2)),
            body,
        ));
        assert_eq!(api.kind(), ErrorKind::Api);
        assert_eq!(api.message(), Some("Not here"));
        assert_eq!(api.more_info(), Some("https://x/20404"));
        assert_eq!(api.retry_after(), Some(Duration::from_secs(2)));
        assert_eq!(api.transport_kind(), None);
        let api = Error::retries_exhausted("Op", 2, api);
        assert_eq!(api.api_error().map(ApiError::status), Some(404));
        assert_eq!(api.code(), Some(20404));
    }

    #[test]
    fn from_answer_escapes_the_request_id_and_matches_from_response() {
        let body = br#"{"code": 20001, "message": "bad"}"#;
        let api = ApiError::from_answer("Op", 400, Some("RQ\u{1b}[2J"), None, body);
        assert_eq!(api.request_id(), Some("RQ\\u{1b}[2J"));
        let api = ApiError::from_answer("Op", 400, Some("RQ\u{7}"), None, body);
        assert!(!api.to_string().chars().any(crate::text::is_unprintable));
        let from_headers =
            ApiError::from_response("Op", 400, &headers(&[("twilio-request-id", "RQ1")]), body);
        let from_answer = ApiError::from_answer("Op", 400, Some("RQ1"), None, body);
        assert_eq!(from_headers.to_string(), from_answer.to_string());
    }

    #[test]
    fn error_debug_hides_bodies_and_header_values() {
        let body =
            br#"{"code": 20001, "message": "bad", "details": {"email": "jane@example.com"}}"#;
        let api = ApiError::from_response(
            "Op",
            400,
            &headers(&[("set-cookie", "session=abcdef")]),
            body,
        );
        let error = Error::retries_exhausted("Op", 2, Error::api(api));
        let debug = format!("{error:?}");
        assert!(
            debug.starts_with(
                "RetriesExhausted { operation: \"Op\", attempts: 2, last: Api(ApiError {"
            ),
            "{debug}"
        );
        assert!(
            !debug.contains("jane@example.com") && !debug.contains("abcdef"),
            "{debug}"
        );
        assert!(debug.contains("set-cookie"), "{debug}");
    }
}
