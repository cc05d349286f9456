//! Sending requests: authentication, headers, timeouts, bounded bodies, retries, tracing.
//!
//! Choices, in one place:
//! - **Redirects are never followed.** A 3xx becomes an [`ErrorKind::Api`](crate::ErrorKind::Api) error; credentials never go to
//!   a location named by a server.
//! - **Environment proxies are ignored by default** (`HTTP_PROXY`, `HTTPS_PROXY`, which reqwest
//!   would otherwise read): a variable set for other tools must not silently reroute requests
//!   carrying credentials, nor capture the loopback traffic of a local emulator. Opt in with
//!   [`TransportBuilder::env_proxy`], or name the proxy with [`TransportBuilder::proxy`].
//!   Precedence: a loopback base URL override is never proxied; else an explicit proxy; else,
//!   with `env_proxy(true)`, the environment's; else none. The proxy's URL (its user info may
//!   hold a password) is never shown.
//! - **TLS**: rustls with Mozilla's roots by default; the crate's features choose rustls with
//!   the platform's roots (`native-roots`) or the platform's TLS library (`native-tls`). When
//!   several are on, native-tls wins; with rustls, every enabled root set is trusted. Plain
//!   `http://` goes to loopback hosts only.
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
use url::Url;

use crate::credentials::Credentials;
use crate::error::{ApiError, Error, ErrorKind};
use crate::hosts::Hosts;
use crate::operation::{HttpMethod, Operation, Request};
use crate::response::Response;
use crate::retry::{retry_reason, RetryPolicy};
use crate::secret::Secret;
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
    /// How requests reach their host, for `Debug`.
    proxy: &'static str,
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
            .field("proxy", &inner.proxy)
            .field("tls", &tls::BACKEND)
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
        let url = Url::parse(url).map_err(|_| {
            Error::config(format!(
                "{}: the base URL and the path do not form a valid URL",
                operation.id
            ))
        })?;
        tls::check_scheme(&url)
            .map_err(|problem| Error::config(format!("{}: {problem}", operation.id)))?;
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
        url: &Url,
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
        url: &Url,
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
/// `//host/path`, or `/path?query`), without its fragment, as the URL parser normalises them
/// (dot segments resolved, characters outside the URL's set percent-encoded). The error says
/// what is wrong without echoing the link.
fn next_page_path(next: &str) -> Result<String, &'static str> {
    let next = next.trim();
    // The parser would drop tabs and newlines and encode spaces: a link carrying them is broken
    // (or hostile), not something to repair.
    if next.bytes().any(|b| b.is_ascii_control() || b == b' ') {
        return Err("the link contains spaces or control characters");
    }
    // Only the scheme and authority of this base can be taken by a link; both are discarded.
    static BASE: std::sync::OnceLock<Url> = std::sync::OnceLock::new();
    let base = BASE.get_or_init(|| Url::parse("https://next-page.invalid/").expect("a valid URL"));
    let has_scheme = next.split_once(':').is_some_and(|(scheme, _)| {
        scheme.starts_with(|c: char| c.is_ascii_alphabetic())
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
    });
    if !has_scheme && !next.starts_with('/') {
        return Err("the link is neither an http(s) URL nor a path starting with '/'");
    }
    let url = base
        .join(next)
        .map_err(|_| "the link does not parse as a URL")?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err("the link is neither an http(s) URL nor a path");
    }
    Ok(match url.query() {
        Some(query) => format!("{}?{query}", url.path()),
        None => url.path().to_owned(),
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
    /// The whole URL is secret: its user info may hold a password.
    proxy: Option<Secret>,
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
            proxy: None,
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
    /// `NO_PROXY`, lower-case spellings too), read when the transport is built. Default `false`:
    /// environment proxies are ignored (see the module docs). Has no effect with
    /// [`TransportBuilder::proxy`] or a loopback base URL override.
    pub fn env_proxy(mut self, enabled: bool) -> Self {
        self.env_proxy = enabled;
        self
    }

    /// Sends every request through this proxy, `http://` or `https://`
    /// (`http://[user:password@]host[:port]`): an `https://` request goes through a `CONNECT`
    /// tunnel, so the proxy sees its host and port but neither its headers nor its body. User
    /// info, percent-decoded, is sent to the proxy as Basic auth (`Proxy-Authorization`). The URL
    /// is kept as a [`Secret`](crate::Secret): never in `Debug` output, errors or traces.
    ///
    /// Wins over [`TransportBuilder::env_proxy`] (the environment is then not read). A loopback
    /// base URL override is never proxied: a proxy's loopback is not this machine's.
    pub fn proxy(mut self, url: impl Into<String>) -> Self {
        self.proxy = Some(Secret::new(url));
        self
    }

    /// Checks the settings and builds the client. An [`ErrorKind::Config`] error for: no credentials,
    /// malformed credentials, a base URL override that is not `http(s)`, plain `http://` to a
    /// host that is not loopback, a bad edge/region, zero `max_attempts`, zero timeouts or
    /// body limit, a User-Agent part that is not visible ASCII, a proxy URL that is not an
    /// `http(s)://host[:port]` URL.
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
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .referer(false)
            .connect_timeout(self.connect_timeout)
            .user_agent(user_agent_value)
            .default_headers(default_headers);
        let client = tls::select(client);
        // Checked even when unused (a loopback base URL): a bad setting is reported, not kept.
        let explicit = self.proxy.as_ref().map(proxy_from_url).transpose()?;
        let proxy = if hosts.override_is_loopback() {
            ProxyMode::Direct
        } else if let Some(proxy) = explicit {
            ProxyMode::Explicit(Box::new(proxy))
        } else if self.env_proxy {
            ProxyMode::Environment
        } else {
            ProxyMode::Direct
        };
        let proxy_label = proxy.label();
        let client = match proxy {
            // Without a proxy of its own, reqwest reads the environment when it builds.
            ProxyMode::Environment => client,
            ProxyMode::Direct => client.no_proxy(),
            ProxyMode::Explicit(proxy) => client.no_proxy().proxy(*proxy),
        };
        // reqwest's messages here name a TLS or resolver failure, never a setting's value.
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
            proxy: proxy_label,
        })))
    }
}

/// How requests reach their host.
enum ProxyMode {
    Direct,
    Environment,
    Explicit(Box<reqwest::Proxy>),
}

impl ProxyMode {
    /// For `Debug`: which mode, never the proxy's URL.
    fn label(&self) -> &'static str {
        match self {
            ProxyMode::Direct => "none",
            ProxyMode::Environment => "from the environment",
            ProxyMode::Explicit(_) => "explicit [redacted]",
        }
    }
}

/// A proxy for every request, its user info as Basic auth. Errors describe the URL's problem
/// without repeating the URL (its user info may hold a password).
fn proxy_from_url(url: &Secret) -> Result<reqwest::Proxy, Error> {
    let parsed = Url::parse(url.expose()).map_err(|e| {
        Error::config(format!(
            "the proxy is not an absolute URL ({e}); give one like http://proxy.example.com:3128"
        ))
    })?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(Error::config(
            "the proxy must be an http:// or https:// URL, such as http://proxy.example.com:3128"
                .to_owned(),
        ));
    }
    if parsed.query().is_some() || parsed.fragment().is_some() || parsed.path() != "/" {
        return Err(Error::config(
            "the proxy URL must be scheme://[user:password@]host[:port], without a path, query \
             or fragment"
                .to_owned(),
        ));
    }
    // reqwest (hyper-util) turns the URL's user info into `Proxy-Authorization: Basic`,
    // percent-decoded and marked sensitive.
    reqwest::Proxy::all(parsed).map_err(|_| {
        Error::config(
            "the proxy URL is not usable as a proxy; give scheme://host[:port]".to_owned(),
        )
    })
}

/// The TLS backend the crate's features select (see the crate's `Cargo.toml`): native-tls when
/// its feature is on, else rustls when a rustls root feature (`webpki-roots`, `native-roots`)
/// is; with none, `https://` requests are refused ([`tls::check_scheme`]).
mod tls {
    /// The backend, for `Debug`.
    #[cfg(feature = "native-tls")]
    pub(super) const BACKEND: &str = "native-tls";
    #[cfg(all(
        not(feature = "native-tls"),
        any(feature = "webpki-roots", feature = "native-roots")
    ))]
    pub(super) const BACKEND: &str = match (
        cfg!(feature = "webpki-roots"),
        cfg!(feature = "native-roots"),
    ) {
        (true, true) => "rustls (webpki and platform roots)",
        (false, true) => "rustls (platform roots)",
        _ => "rustls (webpki roots)",
    };
    #[cfg(not(any(
        feature = "native-tls",
        feature = "webpki-roots",
        feature = "native-roots"
    )))]
    pub(super) const BACKEND: &str = "none (http:// to loopback only)";

    /// Sets the backend on `builder`.
    pub(super) fn select(builder: reqwest::ClientBuilder) -> reqwest::ClientBuilder {
        #[cfg(feature = "native-tls")]
        let builder = builder.use_native_tls();
        #[cfg(all(
            not(feature = "native-tls"),
            any(feature = "webpki-roots", feature = "native-roots")
        ))]
        let builder = builder.use_rustls_tls();
        builder
    }

    /// `Err` with what to do for an `https://` URL when the build has no TLS backend.
    pub(super) fn check_scheme(url: &url::Url) -> Result<(), &'static str> {
        let tls = cfg!(any(
            feature = "native-tls",
            feature = "webpki-roots",
            feature = "native-roots"
        ));
        if tls || url.scheme() != "https" {
            Ok(())
        } else {
            Err(
                "this build has no TLS backend, so https:// cannot be used; enable one of \
                 trusthub's features webpki-roots (the default), native-roots or native-tls",
            )
        }
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
        assert!(next_page_path("/v1/Policies\t?a=b").is_err());
    }

    #[test]
    fn next_page_links_with_ipv6_hosts_ports_and_international_names() {
        // Whatever the host, only the path and query are kept.
        assert_eq!(next_page_path("http://[::1]:8080/x").unwrap(), "/x");
        assert_eq!(
            next_page_path("https://[2001:db8::7]/v1/Policies?Page=2").unwrap(),
            "/v1/Policies?Page=2"
        );
        assert_eq!(
            next_page_path("https://trusthub.twilio.com:8443/v1/X?PageToken=PT2").unwrap(),
            "/v1/X?PageToken=PT2"
        );
        assert_eq!(
            next_page_path("https://bücher.example/v1/X?Page=1").unwrap(),
            "/v1/X?Page=1"
        );
        // A path and query with characters outside the URL's set are sent percent-encoded;
        // dot segments are resolved; a colon in the query is not a scheme.
        assert_eq!(next_page_path("/v1/Ä?q=ü").unwrap(), "/v1/%C3%84?q=%C3%BC");
        assert_eq!(next_page_path("/v1/a/../Policies").unwrap(), "/v1/Policies");
        assert_eq!(next_page_path("/v1/X?t=a:b").unwrap(), "/v1/X?t=a:b");
        // Broken authorities and other schemes are refused, and the error never repeats them.
        for bad in [
            "http://[::1/x",
            "https://host:99999/x",
            "mailto:someone@example.com",
            "data:text/plain,x",
        ] {
            let error = next_page_path(bad).unwrap_err();
            assert!(!error.contains(bad), "{error}");
        }
    }

    #[test]
    fn an_explicit_proxy_is_checked_and_never_shown() {
        let creds = || Credentials::auth_token(AC, "token");
        let transport = Transport::builder()
            .credentials(creds())
            .proxy("http://proxy-user:proxy-pa%40ss@proxy.example.com:3128")
            .build()
            .unwrap();
        let debug = format!("{transport:?}");
        assert!(debug.contains("proxy: \"explicit [redacted]\""), "{debug}");
        assert!(
            !debug.contains("proxy-pa") && !debug.contains("proxy.example"),
            "{debug}"
        );
        let builder = Transport::builder()
            .credentials(creds())
            .proxy("http://u:proxy-secret@proxy.example.com:3128");
        assert!(!format!("{builder:?}").contains("proxy-secret"));
        for bad in [
            "socks5://u:proxy-secret@corp-proxy.internal:1080",
            "u:proxy-secret@corp-proxy.internal:3128",
            "http://u:proxy-secret@corp-proxy.internal:3128/path",
            "http://u:proxy-secret@corp-proxy.internal:3128/?x=1",
            "http://u:proxy-secret@[::1:3128",
            "http://u:proxy-secret@corp-proxy.internal:99999",
        ] {
            let error = Transport::builder()
                .credentials(creds())
                .proxy(bad)
                .build()
                .unwrap_err();
            assert_eq!(error.kind(), ErrorKind::Config, "{bad}");
            let shown = format!("{error} {error:?}");
            assert!(!shown.contains("proxy-secret"), "{bad}: {shown}");
            assert!(!shown.contains("corp-proxy"), "{bad}: {shown}");
        }
    }

    #[test]
    fn proxies_apply_to_remote_hosts_only() {
        let creds = || Credentials::auth_token(AC, "token");
        let mode = |builder: TransportBuilder| builder.build().unwrap().0.proxy;
        assert_eq!(mode(Transport::builder().credentials(creds())), "none");
        assert_eq!(
            mode(Transport::builder().credentials(creds()).env_proxy(true)),
            "from the environment"
        );
        // The explicit proxy wins over the environment.
        assert_eq!(
            mode(
                Transport::builder()
                    .credentials(creds())
                    .env_proxy(true)
                    .proxy("http://127.0.0.1:3128")
            ),
            "explicit [redacted]"
        );
        // A loopback base URL is this machine: never through a proxy.
        for base in [
            "http://127.0.0.1:4010",
            "http://[::1]:4010",
            "http://localhost:4010",
        ] {
            assert_eq!(
                mode(
                    Transport::builder()
                        .credentials(creds())
                        .base_url_override(base)
                        .env_proxy(true)
                        .proxy("http://127.0.0.1:3128")
                ),
                "none",
                "{base}"
            );
        }
        // Unused there, a bad proxy is still refused.
        let error = Transport::builder()
            .credentials(creds())
            .base_url_override("http://127.0.0.1:4010")
            .proxy("ftp://127.0.0.1:21")
            .build()
            .unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Config);
        assert_eq!(
            mode(
                Transport::builder()
                    .credentials(creds())
                    .base_url_override("https://mock.example.com")
                    .proxy("http://127.0.0.1:3128")
            ),
            "explicit [redacted]"
        );
    }

    #[test]
    fn the_tls_backend_is_the_one_the_features_select() {
        let transport = Transport::builder()
            .credentials(Credentials::auth_token(AC, "token"))
            .build()
            .unwrap();
        let debug = format!("{transport:?}");
        let expected = if cfg!(feature = "native-tls") {
            "tls: \"native-tls\""
        } else if cfg!(feature = "webpki-roots") || cfg!(feature = "native-roots") {
            "tls: \"rustls ("
        } else {
            "tls: \"none"
        };
        assert!(debug.contains(expected), "{debug}");
        let https = Url::parse("https://trusthub.twilio.com/v1").unwrap();
        let tls = cfg!(any(
            feature = "native-tls",
            feature = "webpki-roots",
            feature = "native-roots"
        ));
        assert_eq!(tls::check_scheme(&https).is_ok(), tls);
        assert!(tls::check_scheme(&Url::parse("http://127.0.0.1:1/").unwrap()).is_ok());
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
