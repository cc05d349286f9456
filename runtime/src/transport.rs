//! Sending requests: authentication, headers, timeouts, bounded bodies, retries, tracing.
//!
//! Choices, in one place:
//! - **Redirects are never followed.** A 3xx becomes an [`ErrorKind::Api`](crate::ErrorKind::Api) error; credentials never go to
//!   a location named by a server.
//! - **Environment proxies are ignored by default** (`HTTP_PROXY`, `HTTPS_PROXY`, which reqwest
//!   would otherwise read): a variable set for other tools must not silently reroute requests
//!   carrying credentials, nor capture the loopback traffic of a local emulator. Opt in with
//!   [`TransportBuilder::env_proxy`].
//! - **Next-page links are re-based**: only their path and query are used, sent to the host
//!   configured for the operation; a host named in a response never receives credentials.
//! - **Timeouts are per attempt** and cover connecting, sending and reading the whole body.
//! - **Tracing**: one span `trusthub.request` per call with `operation`, `method`, `path` (the
//!   TEMPLATE), `attempt`, `status`, `latency_ms`, `request_id`; DEBUG events per attempt and
//!   retry decision. Header values, bodies, query and form values, URLs and credentials are
//!   never recorded, at any level.
//!
//! Retry rules: see [`crate::retry`].

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use reqwest::header::{HeaderMap, HeaderValue, ACCEPT, AUTHORIZATION, CONTENT_TYPE};
use tracing::field::Empty;
use tracing::{debug, Instrument};

use crate::credentials::Credentials;
use crate::error::{ApiError, Error, ErrorKind};
use crate::hosts::Hosts;
use crate::operation::{HttpMethod, Operation, Request};
use crate::response::Response;
use crate::retry::{retry_reason, RetryPolicy};
use crate::user_agent::{user_agent, DEFAULT_PRODUCT, DEFAULT_VERSION};

/// Default connect timeout.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Default per-attempt timeout.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// Default largest response body: 16 MiB.
pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 16 * 1024 * 1024;

const FORM_CONTENT_TYPE: &str = "application/x-www-form-urlencoded";

/// The HTTP client of the generated code: cheap to clone (one `Arc`), `Send + Sync`; clones share
/// the connection pool. `Debug` shows the settings, never the secret.
///
/// ```
/// use std::time::Duration;
/// use trusthub_runtime::{Credentials, RetryPolicy, Transport};
///
/// let transport = Transport::builder()
///     .credentials(Credentials::auth_token("AC0123456789abcdef0123456789abcdef", "token"))
///     .base_url_override("http://127.0.0.1:4010")
///     .timeout(Duration::from_secs(5))
///     .retry(RetryPolicy::none())
///     .user_agent_product("trusthub", "0.1.0")
///     .build()?;
/// assert_eq!(transport.account_sid(), "AC0123456789abcdef0123456789abcdef");
/// assert!(!format!("{transport:?}").contains("token\""));
/// # Ok::<(), trusthub_runtime::Error>(())
/// ```
#[derive(Clone)]
pub struct Transport(Arc<Inner>);

#[derive(Clone)]
struct Inner {
    client: reqwest::Client,
    credentials: Credentials,
    authorization: HeaderValue,
    hosts: Hosts,
    retry: RetryPolicy,
    timeout: Duration,
    connect_timeout: Duration,
    user_agent: String,
    max_response_bytes: usize,
}

impl fmt::Debug for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = &self.0;
        f.debug_struct("Transport")
            .field("credentials", &inner.credentials)
            .field("hosts", &inner.hosts)
            .field("retry", &inner.retry)
            .field("timeout", &inner.timeout)
            .field("connect_timeout", &inner.connect_timeout)
            .field("user_agent", &inner.user_agent)
            .field("max_response_bytes", &inner.max_response_bytes)
            .finish()
    }
}

/// The result of reading a body within the limit.
enum Body {
    Complete(Bytes),
    TooLarge,
}

impl Transport {
    /// A builder; only [`TransportBuilder::credentials`] is required.
    pub fn builder() -> TransportBuilder {
        TransportBuilder::default()
    }

    /// The account the credentials act on (fills `{AccountSid}` of 2010 paths).
    pub fn account_sid(&self) -> &str {
        self.0.credentials.account_sid()
    }

    /// Where the requests go.
    pub fn hosts(&self) -> &Hosts {
        &self.0.hosts
    }

    /// The retry policy.
    pub fn retry_policy(&self) -> &RetryPolicy {
        &self.0.retry
    }

    /// The same transport (connection pool, credentials, hosts) under another retry policy:
    /// how a caller that retries itself (the flows' creates) turns the transport's retries off.
    pub fn with_retry(&self, policy: RetryPolicy) -> Transport {
        let mut inner = Inner::clone(&self.0);
        inner.retry = policy;
        Transport(Arc::new(inner))
    }

    /// The `User-Agent` header sent.
    pub fn user_agent(&self) -> &str {
        &self.0.user_agent
    }

    /// Sends `request` (with retries, see [`crate::retry`]). `Ok` only for a 2xx answer, whose
    /// body is read in full; any other status is an [`ErrorKind::Api`](crate::ErrorKind::Api) error.
    #[doc(hidden)]
    pub async fn execute(&self, request: Request) -> Result<Response, Error> {
        let operation = request.operation;
        if !request.path.starts_with('/') {
            return Err(Error::config(format!(
                "{}: the request path must start with '/'",
                operation.id
            )));
        }
        let base = self.0.hosts.base(operation.base_url);
        let mut url = format!("{}{}{}", base.origin, base.prefix, request.path);
        let query = request.encoded_query();
        if !query.is_empty() {
            url.push('?');
            url.push_str(&query);
        }
        let body = request.form.as_ref().map(|form| Bytes::from(form.encode()));
        self.send(operation, operation.method, &url, body).await
    }

    /// Fetches the next page of a list: `next` is `meta.next_page_url` (absolute, Trust Hub) or
    /// `next_page_uri` (relative `/2010-04-01/...`). Only its path and query are used; the `GET`
    /// goes to the configured host of `operation.base_url` (override, edge and region applied),
    /// never to a host taken from the response. With an override carrying a path prefix, the
    /// prefix is added unless the link's path already starts with it.
    pub async fn execute_next_page(
        &self,
        operation: &'static Operation,
        next: &str,
    ) -> Result<Response, Error> {
        let path_and_query = next_page_path(next)
            .map_err(|detail| Error::invalid_next_page(operation.id, detail))?;
        let base = self.0.hosts.base(operation.base_url);
        let has_prefix = !base.prefix.is_empty()
            && path_and_query
                .strip_prefix(&base.prefix)
                .is_some_and(|rest| rest.starts_with(['/', '?']));
        let url = if has_prefix {
            format!("{}{}", base.origin, path_and_query)
        } else {
            format!("{}{}{}", base.origin, base.prefix, path_and_query)
        };
        self.send(operation, HttpMethod::Get, &url, None).await
    }

    /// The retry loop around [`Transport::attempt`], inside the request span.
    async fn send(
        &self,
        operation: &'static Operation,
        method: HttpMethod,
        url: &str,
        body: Option<Bytes>,
    ) -> Result<Response, Error> {
        let url = reqwest::Url::parse(url).map_err(|_| {
            Error::config(format!(
                "{}: the base URL and the path do not form a valid URL",
                operation.id
            ))
        })?;
        let span = tracing::info_span!(
            "trusthub.request",
            operation = operation.id,
            method = method.as_str(),
            path = operation.path_template,
            attempt = Empty,
            status = Empty,
            latency_ms = Empty,
            request_id = Empty,
        );
        let attempts = self.retry_loop(operation, method, &url, body.as_ref(), &span);
        if span.is_disabled() {
            // No subscriber wants it: no span to enter on every poll.
            attempts.await
        } else {
            attempts.instrument(span.clone()).await
        }
    }

    async fn retry_loop(
        &self,
        operation: &'static Operation,
        method: HttpMethod,
        url: &reqwest::Url,
        body: Option<&Bytes>,
        span: &tracing::Span,
    ) -> Result<Response, Error> {
        let policy = &self.0.retry;
        let started = Instant::now();
        let mut attempt: u32 = 0;
        loop {
            attempt += 1;
            span.record("attempt", attempt);
            debug!(attempt, "sending request");
            let attempt_started = Instant::now();
            let result = self.attempt(operation, method, url, body).await;
            let latency_ms =
                u64::try_from(attempt_started.elapsed().as_millis()).unwrap_or(u64::MAX);
            span.record("latency_ms", latency_ms);
            let error = match result {
                Ok(response) => {
                    span.record("status", response.status);
                    if let Some(request_id) = response.request_id() {
                        span.record("request_id", request_id);
                    }
                    debug!(
                        attempt,
                        status = response.status,
                        latency_ms,
                        "response received"
                    );
                    return Ok(response);
                }
                Err(error) => error,
            };
            if let Some(api) = error.api_error() {
                span.record("status", api.status());
                if let Some(request_id) = api.request_id() {
                    span.record("request_id", request_id);
                }
            }
            let outcome = outcome(&error);
            let Some(reason) = retry_reason(method, &error) else {
                debug!(
                    attempt,
                    outcome, latency_ms, "attempt failed; not retryable for this method"
                );
                return Err(finish(operation, error, attempt));
            };
            if attempt >= policy.max_attempts {
                debug!(attempt, outcome, reason, "attempt failed; no attempt left");
                return Err(finish(operation, error, attempt));
            }
            let server_delay = error.retry_after();
            let delay = server_delay.unwrap_or_else(|| policy.backoff(attempt - 1));
            let delay_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX);
            if started.elapsed().saturating_add(delay) > policy.max_elapsed {
                debug!(
                    attempt,
                    outcome,
                    reason,
                    delay_ms,
                    retry_after = server_delay.is_some(),
                    "attempt failed; the delay would exceed the elapsed-time budget"
                );
                return Err(finish(operation, error, attempt));
            }
            debug!(
                attempt,
                outcome,
                reason,
                delay_ms,
                retry_after = server_delay.is_some(),
                "retrying"
            );
            tokio::time::sleep(delay).await;
        }
    }

    /// One exchange, bounded by the per-attempt timeout.
    async fn attempt(
        &self,
        operation: &'static Operation,
        method: HttpMethod,
        url: &reqwest::Url,
        body: Option<&Bytes>,
    ) -> Result<Response, Error> {
        let inner = &self.0;
        let mut builder = inner
            .client
            .request(method.to_reqwest(), url.clone())
            .header(AUTHORIZATION, inner.authorization.clone());
        if let Some(body) = body {
            builder = builder
                .header(CONTENT_TYPE, HeaderValue::from_static(FORM_CONTENT_TYPE))
                .body(body.clone());
        }
        let exchange = async {
            let mut response = builder
                .send()
                .await
                .map_err(|e| Error::transport(operation.id, e))?;
            let status = response.status().as_u16();
            let headers = std::mem::take(response.headers_mut());
            let body = read_bounded(response, inner.max_response_bytes)
                .await
                .map_err(|e| Error::transport(operation.id, e))?;
            Ok::<_, Error>((status, headers, body))
        };
        let (status, headers, body) = tokio::time::timeout(inner.timeout, exchange)
            .await
            .map_err(|_| Error::timed_out(operation.id, inner.timeout))??;
        match (status, body) {
            (200..=299, Body::Complete(body)) => Ok(Response {
                status,
                headers,
                body,
            }),
            (200..=299, Body::TooLarge) => Err(Error::body_too_large(
                operation.id,
                inner.max_response_bytes,
            )),
            (_, Body::Complete(body)) => Err(Error::api(ApiError::from_response(
                operation.id,
                status,
                &headers,
                &body,
            ))),
            (_, Body::TooLarge) => Err(Error::api(ApiError::oversized(
                operation.id,
                status,
                &headers,
                inner.max_response_bytes,
            ))),
        }
    }
}

/// Reads the body chunk by chunk, stopping as soon as it exceeds `limit` bytes (a declared
/// `Content-Length` over the limit stops before reading).
async fn read_bounded(
    mut response: reqwest::Response,
    limit: usize,
) -> Result<Body, reqwest::Error> {
    if let Some(length) = response.content_length()
        && usize::try_from(length).map_or(true, |length| length > limit)
    {
        return Ok(Body::TooLarge);
    }
    let capacity = response
        .content_length()
        .and_then(|length| usize::try_from(length).ok())
        .unwrap_or(0)
        .min(limit);
    // Most answers come in one chunk: kept as it is, without a copy.
    let Some(first) = response.chunk().await? else {
        return Ok(Body::Complete(Bytes::new()));
    };
    if first.len() > limit {
        return Ok(Body::TooLarge);
    }
    let Some(second) = response.chunk().await? else {
        return Ok(Body::Complete(first));
    };
    let mut buffer = BytesMut::with_capacity(capacity.max(first.len() + second.len()));
    for chunk in [first, second] {
        if buffer.len() + chunk.len() > limit {
            return Ok(Body::TooLarge);
        }
        buffer.extend_from_slice(&chunk);
    }
    while let Some(chunk) = response.chunk().await? {
        if buffer.len() + chunk.len() > limit {
            return Ok(Body::TooLarge);
        }
        buffer.extend_from_slice(&chunk);
    }
    Ok(Body::Complete(buffer.freeze()))
}

/// Wraps the last error with the attempt count when more than one attempt was made.
fn finish(operation: &'static Operation, error: Error, attempts: u32) -> Error {
    if attempts > 1 {
        Error::retries_exhausted(operation.id, attempts, error)
    } else {
        error
    }
}

/// A short label of an attempt's failure for traces (no values).
fn outcome(error: &Error) -> String {
    match (error.kind(), error.status(), error.transport_kind()) {
        (ErrorKind::Api, Some(status), _) => format!("HTTP {status}"),
        (ErrorKind::Transport, _, Some(kind)) => format!("transport: {kind}"),
        (ErrorKind::Timeout, ..) => "timeout".to_owned(),
        (ErrorKind::BodyTooLarge, ..) => "body too large".to_owned(),
        _ => "other error".to_owned(),
    }
}

/// The path and query of a next-page link (absolute `http(s)://host/path?query`, scheme-relative
/// `//host/path`, or `/path?query`), without its fragment. The error says what is wrong without
/// echoing the link.
fn next_page_path(next: &str) -> Result<String, &'static str> {
    let next = next.trim();
    if next.bytes().any(|b| b.is_ascii_control() || b == b' ') {
        return Err("the link contains spaces or control characters");
    }
    let after_authority = |rest: &str| -> String {
        match rest.find(['/', '?', '#']) {
            Some(i) => rest[i..].to_owned(),
            None => String::new(),
        }
    };
    let path = if let Some(i) = next.find("://") {
        let scheme = &next[..i];
        if !scheme.eq_ignore_ascii_case("https") && !scheme.eq_ignore_ascii_case("http") {
            return Err("the link is neither an http(s) URL nor a path");
        }
        after_authority(&next[i + 3..])
    } else if let Some(rest) = next.strip_prefix("//") {
        after_authority(rest)
    } else if next.starts_with('/') {
        next.to_owned()
    } else {
        return Err("the link is neither an http(s) URL nor a path starting with '/'");
    };
    let path = path.split('#').next().unwrap_or("").to_owned();
    Ok(if path.is_empty() || path.starts_with('?') {
        format!("/{path}")
    } else {
        path
    })
}

/// Settings of a [`Transport`]; every setter takes and returns the builder by value.
#[derive(Debug, Clone)]
pub struct TransportBuilder {
    credentials: Option<Credentials>,
    base_url_override: Option<String>,
    edge: Option<String>,
    region: Option<String>,
    connect_timeout: Duration,
    timeout: Duration,
    retry: RetryPolicy,
    product: String,
    version: String,
    extensions: Vec<String>,
    max_response_bytes: usize,
    env_proxy: bool,
}

impl Default for TransportBuilder {
    fn default() -> Self {
        TransportBuilder {
            credentials: None,
            base_url_override: None,
            edge: None,
            region: None,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            timeout: DEFAULT_TIMEOUT,
            retry: RetryPolicy::default(),
            product: DEFAULT_PRODUCT.to_owned(),
            version: DEFAULT_VERSION.to_owned(),
            extensions: Vec::new(),
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
            env_proxy: false,
        }
    }
}

impl TransportBuilder {
    /// The credentials (required).
    pub fn credentials(mut self, credentials: Credentials) -> Self {
        self.credentials = Some(credentials);
        self
    }

    /// Sends every product (Trust Hub and 2010 API alike) to this `scheme://host[:port][/prefix]`
    /// (an emulator, a mock server), keeping each operation's path. Plain `http://` is accepted
    /// only for loopback hosts. Edge and region are ignored when set.
    pub fn base_url_override(mut self, url: impl Into<String>) -> Self {
        self.base_url_override = Some(url.into());
        self
    }

    /// Twilio edge location, e.g. `sydney` (region defaults to `us1`).
    pub fn edge(mut self, edge: impl Into<String>) -> Self {
        self.edge = Some(edge.into());
        self
    }

    /// Twilio processing region, e.g. `ie1`.
    pub fn region(mut self, region: impl Into<String>) -> Self {
        self.region = Some(region.into());
        self
    }

    /// Timeout for establishing a connection (default 10 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Timeout of one attempt, from connecting to the end of the body (default 30 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The retry policy (default [`RetryPolicy::default`]).
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// The product at the head of the `User-Agent` (default `trusthub-runtime/<crate version>`).
    pub fn user_agent_product(mut self, name: &str, version: &str) -> Self {
        self.product = name.to_owned();
        self.version = version.to_owned();
        self
    }

    /// Appends a `User-Agent` extension (space separated); may be called repeatedly.
    pub fn user_agent_extension(mut self, extension: impl Into<String>) -> Self {
        self.extensions.push(extension.into());
        self
    }

    /// Largest body read (default 16 MiB); a larger 2xx body is an
    /// [`ErrorKind::BodyTooLarge`] error.
    pub fn max_response_bytes(mut self, limit: usize) -> Self {
        self.max_response_bytes = limit;
        self
    }

    /// Whether to use the proxies named by `HTTP_PROXY` / `HTTPS_PROXY` / `ALL_PROXY` (and
    /// `NO_PROXY`). Default `false`: environment proxies are ignored (see the module docs).
    pub fn env_proxy(mut self, enabled: bool) -> Self {
        self.env_proxy = enabled;
        self
    }

    /// Checks the settings and builds the client. An [`ErrorKind::Config`] error for: no credentials,
    /// malformed credentials, a base URL override that is not `http(s)`, plain `http://` to a
    /// host that is not loopback, a bad edge/region, zero `max_attempts`, zero timeouts or
    /// body limit, a User-Agent part that is not visible ASCII.
    pub fn build(self) -> Result<Transport, Error> {
        let credentials = self.credentials.ok_or_else(|| {
            Error::config(
                "no credentials; call TransportBuilder::credentials with Credentials::auth_token \
                 or Credentials::api_key"
                    .to_owned(),
            )
        })?;
        credentials.validate()?;
        let authorization = credentials.authorization()?;
        let hosts = Hosts::new(
            self.base_url_override.as_deref(),
            self.edge.as_deref(),
            self.region.as_deref(),
        )?;
        if self.retry.max_attempts == 0 {
            return Err(Error::config(
                "retry policy max_attempts must be at least 1 (1 = no retry)".to_owned(),
            ));
        }
        if self.timeout.is_zero() || self.connect_timeout.is_zero() {
            return Err(Error::config(
                "timeouts must be greater than zero".to_owned(),
            ));
        }
        if self.max_response_bytes == 0 {
            return Err(Error::config(
                "max_response_bytes must be greater than zero".to_owned(),
            ));
        }
        let user_agent = user_agent(&self.product, &self.version, &self.extensions)?;
        let user_agent_value = HeaderValue::from_str(&user_agent)
            .map_err(|_| Error::config("the User-Agent is not a valid header value".to_owned()))?;
        let mut default_headers = HeaderMap::new();
        default_headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
        let mut client = reqwest::Client::builder()
            .use_rustls_tls()
            .redirect(reqwest::redirect::Policy::none())
            .referer(false)
            .connect_timeout(self.connect_timeout)
            .user_agent(user_agent_value)
            .default_headers(default_headers);
        if !self.env_proxy {
            client = client.no_proxy();
        }
        let client = client
            .build()
            .map_err(|e| Error::config(format!("cannot build the HTTP client: {e}")))?;
        Ok(Transport(Arc::new(Inner {
            client,
            credentials,
            authorization,
            hosts,
            retry: self.retry,
            timeout: self.timeout,
            connect_timeout: self.connect_timeout,
            user_agent,
            max_response_bytes: self.max_response_bytes,
        })))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const AC: &str = "AC0123456789abcdef0123456789abcdef";

    #[test]
    fn next_page_links() {
        assert_eq!(
            next_page_path(
                "https://trusthub.twilio.com/v1/Policies?PageSize=2&Page=1&PageToken=PT1"
            )
            .unwrap(),
            "/v1/Policies?PageSize=2&Page=1&PageToken=PT1"
        );
        assert_eq!(
            next_page_path("/2010-04-01/Accounts/AC1/Addresses.json?Page=1#frag").unwrap(),
            "/2010-04-01/Accounts/AC1/Addresses.json?Page=1"
        );
        assert_eq!(
            next_page_path("HTTP://evil.example:8080?x=1").unwrap(),
            "/?x=1"
        );
        assert_eq!(next_page_path("//evil.example/v1/X").unwrap(), "/v1/X");
        assert_eq!(next_page_path("https://evil.example").unwrap(), "/");
        assert!(next_page_path("javascript:alert(1)").is_err());
        assert!(next_page_path("ftp://host/x").is_err());
        assert!(next_page_path("v1/Policies").is_err());
        assert!(next_page_path("/v1/Policies?a=b c").is_err());
    }

    #[test]
    fn build_requires_valid_settings() {
        let creds = || Credentials::auth_token(AC, "token");
        assert!(
            matches!(Transport::builder().build(), Err(e) if e.kind() == ErrorKind::Config && e.detail().unwrap().contains("no credentials"))
        );
        assert!(Transport::builder().credentials(creds()).build().is_ok());
        for builder in [
            Transport::builder()
                .credentials(creds())
                .base_url_override("http://192.168.1.10"),
            Transport::builder()
                .credentials(creds())
                .base_url_override("ftp://127.0.0.1"),
            Transport::builder().credentials(creds()).edge("a.b"),
            Transport::builder()
                .credentials(creds())
                .retry(RetryPolicy {
                    max_attempts: 0,
                    ..RetryPolicy::default()
                }),
            Transport::builder()
                .credentials(creds())
                .timeout(Duration::ZERO),
            Transport::builder()
                .credentials(creds())
                .max_response_bytes(0),
            Transport::builder()
                .credentials(creds())
                .user_agent_product("my product", "1"),
            Transport::builder()
                .credentials(creds())
                .user_agent_extension("a\nb"),
            Transport::builder().credentials(Credentials::auth_token("AC1", "t")),
        ] {
            assert!(matches!(builder.build(), Err(e) if e.kind() == ErrorKind::Config));
        }
    }

    #[test]
    fn debug_hides_the_token() {
        let transport = Transport::builder()
            .credentials(Credentials::auth_token(AC, "very-secret-token"))
            .build()
            .unwrap();
        let debug = format!("{transport:?}");
        assert!(debug.contains(AC), "{debug}");
        assert!(!debug.contains("very-secret-token"), "{debug}");
        let builder =
            Transport::builder().credentials(Credentials::auth_token(AC, "very-secret-token"));
        assert!(!format!("{builder:?}").contains("very-secret-token"));
    }

    #[test]
    fn transport_is_send_sync_and_streams_are_send() {
        fn assert_send_sync<T: Send + Sync + 'static>() {}
        assert_send_sync::<Transport>();
        assert_send_sync::<Error>();
        assert_send_sync::<crate::ApiError>();
        assert_send_sync::<Credentials>();
        fn assert_send<T: Send>(_: &T) {}
        static OP: Operation = Operation {
            id: "FetchPolicy",
            method: HttpMethod::Get,
            base_url: "https://trusthub.twilio.com",
            path_template: "/v1/Policies/{Sid}",
        };
        let transport = Transport::builder()
            .credentials(Credentials::auth_token(AC, "t"))
            .build()
            .unwrap();
        let future = transport.execute(Request::new(&OP, "/v1/Policies/RN1"));
        assert_send(&future);
        let next = transport.execute_next_page(&OP, "/v1/Policies?Page=1");
        assert_send(&next);
    }
}
