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
use axum::http::{Method, Request, Response};
use axum::response::IntoResponse;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::task::JoinSet;
use tower::ServiceExt;

use crate::faults::Fault;
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
            let (latency_ms, fault) = {
                let mut faults = lock(&app.faults);
                let fault = faults.draw(request.method() == Method::POST);
                (faults.faults.latency_ms, fault)
            };
            {
                let mut state = lock(&app.state);
                let counters = &mut state.counters;
                counters.requests_served += 1;
                if fault != Fault::None {
                    counters.requests_faulted += 1;
                }
                match fault {
                    Fault::None => {}
                    Fault::TooManyRequests { .. } => counters.faults_429 += 1,
                    Fault::InternalError => counters.faults_500 += 1,
                    Fault::Unavailable => counters.faults_503 += 1,
                    Fault::CommitThenDrop => counters.connections_dropped += 1,
                }
            }
            if latency_ms > 0 {
                tokio::time::sleep(Duration::from_millis(latency_ms)).await;
            }
            match fault {
                Fault::None => Ok(route(router, request).await),
                Fault::TooManyRequests { retry_after_secs } => {
                    Ok(ApiError::too_many_requests(retry_after_secs).into_response())
                }
                Fault::InternalError => Ok(ApiError::internal().into_response()),
                Fault::Unavailable => Ok(ApiError::unavailable().into_response()),
                Fault::CommitThenDrop => {
                    let committed = route(router, request).await;
                    tracing::debug!(
                        status = %committed.status(),
                        "request handled; dropping the connection without a response"
                    );
                    Err(DroppedConnection)
                }
            }
        })
    }
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
                        builder.timer(TokioTimer::new());
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
