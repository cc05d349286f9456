//! The connection loop: every accepted TCP connection is served by hyper's HTTP/1 connection driver around
//! the axum router, wrapped in a service that applies latency and faults to API requests.
//!
//! Commit-then-drop works without panics: the wrapper lets the router handle the request (so the state is
//! committed), discards the response and returns an error; hyper then aborts the connection without
//! writing a byte of response, and the client sees a connection error.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, Response, StatusCode};
use axum::response::IntoResponse;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::task::JoinSet;
use tower::ServiceExt;

use crate::auth;
use crate::faults::FaultKind;
use crate::state::{lock, App};
use crate::wire::ApiError;

/// Path prefix of the control endpoints, which faults never touch.
pub(crate) const CONTROL_PREFIX: &str = "/__emulator/";

/// The error that makes hyper drop a connection after a committed POST.
#[derive(Debug)]
pub(crate) struct DroppedConnection;

impl fmt::Display for DroppedConnection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("connection dropped by the commit-then-drop fault")
    }
}

impl std::error::Error for DroppedConnection {}

/// One connection's service.
#[derive(Clone)]
struct FaultingService {
    router: Router,
    app: App,
}

type BoxFuture = Pin<Box<dyn Future<Output = Result<Response<Body>, DroppedConnection>> + Send>>;

impl hyper::service::Service<Request<Incoming>> for FaultingService {
    type Response = Response<Body>;
    type Error = DroppedConnection;
    type Future = BoxFuture;

    fn call(&self, request: Request<Incoming>) -> Self::Future {
        let router = self.router.clone();
        let app = self.app.clone();
        Box::pin(async move {
            let request = request.map(Body::new);
            if request.uri().path().starts_with(CONTROL_PREFIX) {
                return Ok(route(router, request).await);
            }
            // The account's concurrency limit: a request of the account takes a slot for as long as it
            // is in flight (until this future ends, or is dropped with its connection); one above the
            // limit is refused now, before the fault draw and any handling.
            let slot = if auth::check(&app, request.headers()).is_ok() {
                match admit(&app) {
                    Ok(slot) => Some(slot),
                    Err((in_flight, latency_ms)) => {
                        if latency_ms > 0 {
                            tokio::time::sleep(Duration::from_millis(latency_ms)).await;
                        }
                        let mut answer = ApiError::new(
                            StatusCode::TOO_MANY_REQUESTS,
                            20429,
                            "Too Many Requests",
                        )
                        .into_response();
                        concurrency_header(&mut answer, in_flight);
                        return Ok(answer);
                    }
                }
            } else {
                None
            };
            let (latency_ms, answer_latency_ms, retry_after_secs, fault) = {
                let mut faults = lock(&app.faults);
                let fault = faults.draw(request.method().as_str(), request.uri().path());
                let f = &faults.faults;
                (f.latency_ms, f.answer_latency_ms, f.retry_after_secs, fault)
            };
            {
                let mut state = lock(&app.state);
                let counters = &mut state.counters;
                counters.requests_served += 1;
                if let Some(fault) = fault {
                    counters.requests_faulted += 1;
                    let counter = match fault {
                        FaultKind::TooManyRequests => &mut counters.faults_429,
                        FaultKind::InternalError => &mut counters.faults_500,
                        FaultKind::Unavailable => &mut counters.faults_503,
                        FaultKind::CommitThenDrop | FaultKind::CommitThenStall => {
                            &mut counters.connections_dropped
                        }
                        FaultKind::CommitThenGateway503 => &mut counters.gateway_503_after_commit,
                        FaultKind::CommitThenGateway429 => &mut counters.gateway_429_after_commit,
                    };
                    *counter += 1;
                }
            }
            if latency_ms > 0 {
                tokio::time::sleep(Duration::from_millis(latency_ms)).await;
            }
            let mut answer = if let Some(refused) = oversized_headers(&request) {
                refused.into_response()
            } else {
                match fault {
                    Some(FaultKind::TooManyRequests) => {
                        ApiError::too_many_requests(retry_after_secs).into_response()
                    }
                    Some(FaultKind::InternalError) => ApiError::internal().into_response(),
                    Some(FaultKind::Unavailable) => ApiError::unavailable().into_response(),
                    // Served, or served and then faulted: the request's changes are committed.
                    _ => twilio_shaped(route(router, request).await).await,
                }
            };
            if let Some(slot) = &slot {
                concurrency_header(&mut answer, slot.in_flight);
            }
            // The answer path: whatever the request changed is committed by now.
            if answer_latency_ms > 0 {
                tokio::time::sleep(Duration::from_millis(answer_latency_ms)).await;
            }
            match fault {
                Some(FaultKind::CommitThenStall) => {
                    tokio::time::sleep(Duration::from_millis(crate::faults::MAX_LATENCY_MS)).await;
                    Err(DroppedConnection)
                }
                Some(FaultKind::CommitThenDrop) => {
                    tracing::debug!(
                        status = %answer.status(),
                        "request handled; dropping the connection without a response"
                    );
                    Err(DroppedConnection)
                }
                Some(FaultKind::CommitThenGateway503) => Ok(gateway_answer(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "503 Service Temporarily Unavailable",
                )),
                Some(FaultKind::CommitThenGateway429) => Ok(gateway_answer(
                    StatusCode::TOO_MANY_REQUESTS,
                    "429 Too Many Requests",
                )),
                _ => Ok(answer),
            }
        })
    }
}

/// Admits a request of the account under its concurrency limit: its slot, or (counted as refused) the
/// requests in flight and the latency to wait before the 429.
fn admit(app: &App) -> Result<Slot, (u32, u64)> {
    let (admitted, latency_ms) = {
        let mut faults = lock(&app.faults);
        (faults.admit(), faults.faults.latency_ms)
    };
    let mut state = lock(&app.state);
    let counters = &mut state.counters;
    match admitted {
        Ok(in_flight) => {
            counters.max_in_flight = counters.max_in_flight.max(u64::from(in_flight));
            Ok(Slot {
                app: app.clone(),
                in_flight,
            })
        }
        Err(in_flight) => {
            counters.requests_served += 1;
            counters.account_limit_429 += 1;
            Err((in_flight, latency_ms))
        }
    }
}

/// The slot of an admitted request of the account: freed when dropped (the request answered, or its
/// connection gone).
struct Slot {
    app: App,
    /// The account's requests in flight when it was admitted, itself included.
    in_flight: u32,
}

impl Drop for Slot {
    fn drop(&mut self) {
        lock(&self.app.faults).release();
    }
}

/// `Twilio-Concurrent-Requests`: the account's requests in flight, as Twilio reports them on its answers.
fn concurrency_header(answer: &mut Response<Body>, in_flight: u32) {
    answer.headers_mut().insert(
        "twilio-concurrent-requests",
        axum::http::HeaderValue::from(in_flight),
    );
}

/// Most header bytes an API request may carry; more is answered 431 in Twilio's error shape.
pub(crate) const MAX_HEADER_BYTES: usize = 16 * 1024;
/// Most headers an API request may carry.
pub(crate) const MAX_HEADERS: usize = 100;

/// A 431 for a request whose headers exceed [`MAX_HEADER_BYTES`] or [`MAX_HEADERS`].
fn oversized_headers(request: &Request<Body>) -> Option<ApiError> {
    let headers = request.headers();
    let bytes: usize = headers
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len() + 4)
        .sum();
    (bytes > MAX_HEADER_BYTES || headers.len() > MAX_HEADERS).then(|| {
        ApiError::new(
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            crate::wire::CODE_HEADERS_TOO_LARGE,
            format!(
                "Request Header Fields Too Large: {} headers, {bytes} bytes (at most \
                 {MAX_HEADERS} headers, {MAX_HEADER_BYTES} bytes)",
                headers.len()
            ),
        )
    })
}

/// A gateway's error page: plain text, no Twilio code, `Retry-After: 0`.
fn gateway_answer(status: StatusCode, text: &'static str) -> Response<Body> {
    let mut response = (status, text).into_response();
    response.headers_mut().insert(
        axum::http::header::RETRY_AFTER,
        axum::http::HeaderValue::from_static("0"),
    );
    response
}

/// The router's own refusals (a body over the size limit: 413; an unreadable body: 400) come as
/// plain text from axum; Twilio answers every error with its JSON shape, and so does the emulator.
async fn twilio_shaped(response: Response<Body>) -> Response<Body> {
    let status = response.status();
    let is_json = response
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !status.is_client_error() || is_json {
        return response;
    }
    let detail = axum::body::to_bytes(response.into_body(), 4096)
        .await
        .map(|b| String::from_utf8_lossy(&b).trim().to_owned())
        .unwrap_or_default();
    let error = match status {
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::new(
            status,
            crate::wire::CODE_BODY_TOO_LARGE,
            format!(
                "Request Entity Too Large: the body is larger than {} bytes",
                crate::routes::MAX_BODY_BYTES
            ),
        ),
        _ => ApiError::new(
            status,
            crate::wire::CODE_INVALID_PARAMETER,
            format!("Malformed request: {detail}"),
        ),
    };
    error.into_response()
}

async fn route(router: Router, request: Request<Body>) -> Response<Body> {
    match router.oneshot(request).await {
        Ok(response) => response,
        Err(never) => match never {},
    }
}

/// Serves connections until the task is aborted; aborting drops every open connection with it.
pub(crate) async fn serve(listener: TcpListener, router: Router, app: App) {
    let mut connections: JoinSet<()> = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _peer)) => {
                    let _ = stream.set_nodelay(true);
                    let service = FaultingService { router: router.clone(), app: app.clone() };
                    connections.spawn(async move {
                        let mut builder = hyper::server::conn::http1::Builder::new();
                        // Room for the service to answer oversized headers itself, in Twilio's
                        // shape (hyper's own 431 has no body).
                        builder
                            .timer(TokioTimer::new())
                            .max_buf_size(1 << 20)
                            .max_headers(10 * MAX_HEADERS);
                        if let Err(error) = builder.serve_connection(TokioIo::new(stream), service).await {
                            tracing::debug!(%error, "connection ended with an error");
                        }
                    });
                }
                Err(error) => {
                    tracing::warn!(%error, "accept failed");
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
}
