//! Twilio's status callbacks and Event Streams deliveries in an axum server: [`trusthub::webhook`]
//! as a tower service that hands each verified event to you once.
//!
//! ```no_run
//! use trusthub::webhook::{BundleKind, Webhook};
//! use trusthub_axum::TwilioWebhook;
//!
//! # async fn demo() -> std::io::Result<()> {
//! let (events, mut received) = tokio::sync::mpsc::channel(64);
//! let webhook = Webhook::new(std::env::var("TWILIO_AUTH_TOKEN").unwrap_or_default())
//!     .bundle_kind(|_| BundleKind::CustomerProfile);
//! // The URL Twilio calls, as configured there (StatusCallback, the Event Streams sink).
//! let hook = TwilioWebhook::new(webhook, events).public_base_url("https://isv.example.com");
//! let app = axum::Router::new()
//!     .route_service("/twilio/status", hook.clone())
//!     .route_service("/twilio/events", hook);
//! tokio::spawn(async move {
//!     while let Some(event) = received.recv().await {
//!         println!("{event}");
//!     }
//! });
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
//! axum::serve(listener, app).await
//! # }
//! ```
//!
//! For each request, [`TwilioWebhook`] rebuilds the URL Twilio called (the configured public base
//! URL and the request's path and query; without a base, `https://` and the `Host` header), reads
//! the body (up to the webhook's limit), and answers:
//!
//! - 200 once the new events are handed to the [`EventSink`] (an mpsc sender or an async closure)
//!   and recorded as handed over; a delivery of events handed over before is answered 200 too,
//!   handing over nothing;
//! - 503 when the sink refuses them (closed channel, an error from the closure): nothing is
//!   recorded, so Twilio's next delivery hands them over again;
//! - the [`Rejection`]'s status otherwise (405 with `Allow: POST`, 413, 415, 403, 400, 409), with
//!   its reason as text, which never holds the auth token, the signature or a body value.
//!
//! The `Webhook` (and so its store) is shared by every clone of the service.

#![warn(missing_docs)]

use std::convert::Infallible;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::body::Body;
use axum::extract::{OriginalUri, Request};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use trusthub::webhook::{Event, Rejection, Webhook};

/// A boxed, sendable future.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// The events of a delivery could not be handed over.
#[derive(Debug)]
pub struct SinkError(Box<dyn std::error::Error + Send + Sync>);

impl SinkError {
    /// A sink error from any error (or message).
    pub fn new(error: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        SinkError(error.into())
    }
}

impl fmt::Display for SinkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the events could not be handed over: {}", self.0)
    }
}

impl std::error::Error for SinkError {}

/// Where verified events go. Implemented by tokio's mpsc senders (each event sent in turn; a
/// full bounded channel holds the answer back until there is room) and by [`from_fn`].
pub trait EventSink: Send + Sync + 'static {
    /// Takes the new events of one delivery (never empty), in order. `Ok` means they are yours:
    /// the delivery is answered 200 and never handed over again.
    fn deliver(&self, events: Vec<Event>) -> BoxFuture<'_, Result<(), SinkError>>;
}

impl EventSink for tokio::sync::mpsc::Sender<Event> {
    fn deliver(&self, events: Vec<Event>) -> BoxFuture<'_, Result<(), SinkError>> {
        Box::pin(async move {
            for event in events {
                self.send(event)
                    .await
                    .map_err(|_| SinkError::new("the event channel is closed"))?;
            }
            Ok(())
        })
    }
}

impl EventSink for tokio::sync::mpsc::UnboundedSender<Event> {
    fn deliver(&self, events: Vec<Event>) -> BoxFuture<'_, Result<(), SinkError>> {
        let result = events.into_iter().try_for_each(|event| {
            self.send(event)
                .map_err(|_| SinkError::new("the event channel is closed"))
        });
        Box::pin(std::future::ready(result))
    }
}

/// An [`EventSink`] calling an async closure on each event in turn.
pub struct FnSink<F>(F);

/// Hands each event to `f` (`async move |event| -> Result<(), E>`); an error stops the delivery
/// (503, Twilio delivers again later, including the events before the failing one).
///
/// ```
/// let sink = trusthub_axum::from_fn(|event: trusthub::webhook::Event| async move {
///     println!("{event}");
///     Ok::<(), std::io::Error>(())
/// });
/// # let _ = sink;
/// ```
pub fn from_fn<F, Fut, E>(f: F) -> FnSink<F>
where
    F: Fn(Event) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), E>> + Send,
    E: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    FnSink(f)
}

impl<F, Fut, E> EventSink for FnSink<F>
where
    F: Fn(Event) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), E>> + Send,
    E: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    fn deliver(&self, events: Vec<Event>) -> BoxFuture<'_, Result<(), SinkError>> {
        Box::pin(async move {
            for event in events {
                (self.0)(event).await.map_err(SinkError::new)?;
            }
            Ok(())
        })
    }
}

struct Inner<S> {
    webhook: Webhook,
    sink: S,
    public_base: Option<String>,
    scheme: &'static str,
}

/// The webhook as a tower service (and axum handler): see the [crate docs](crate).
pub struct TwilioWebhook<S> {
    inner: Arc<Inner<S>>,
}

impl<S> Clone for TwilioWebhook<S> {
    fn clone(&self) -> Self {
        TwilioWebhook {
            inner: Arc::clone(&self.inner),
        }
    }
}

impl<S> fmt::Debug for TwilioWebhook<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TwilioWebhook")
            .field("webhook", &self.inner.webhook)
            .field("public_base", &self.inner.public_base)
            .finish_non_exhaustive()
    }
}

impl<S: EventSink> TwilioWebhook<S> {
    /// Verifies requests with `webhook` and hands their new events to `sink`.
    pub fn new(webhook: Webhook, sink: S) -> Self {
        TwilioWebhook {
            inner: Arc::new(Inner {
                webhook,
                sink,
                public_base: None,
                scheme: "https",
            }),
        }
    }

    /// The scheme, host and port Twilio calls (`https://isv.example.com`), as configured at
    /// Twilio: behind a proxy or a load balancer, the public one. The request's path and query
    /// are appended. Without it, the URL is `https://` and the request's `Host` header.
    pub fn public_base_url(self, base: impl Into<String>) -> Self {
        let mut base = base.into();
        while base.ends_with('/') {
            base.pop();
        }
        self.with(|inner| inner.public_base = Some(base))
    }

    /// Without a public base URL, rebuild the URL with plain `http://` and the `Host` header
    /// (a server Twilio reaches without TLS, or a local test).
    pub fn plain_http(self) -> Self {
        self.with(|inner| inner.scheme = "http")
    }

    fn with(self, change: impl FnOnce(&mut Inner<S>)) -> Self {
        let mut inner = match Arc::try_unwrap(self.inner) {
            Ok(inner) => inner,
            Err(_) => panic!("configure TwilioWebhook before cloning it"),
        };
        change(&mut inner);
        TwilioWebhook {
            inner: Arc::new(inner),
        }
    }

    /// The webhook in use (its store, its body limit).
    pub fn webhook(&self) -> &Webhook {
        &self.inner.webhook
    }

    /// An axum router serving the webhook at `path` (every method: a wrong one is answered 405
    /// by the webhook, with `Allow: POST`).
    pub fn router(self, path: &str) -> axum::Router {
        axum::Router::new().route_service(path, self)
    }

    /// Handles one request.
    pub async fn handle(&self, request: Request) -> Response {
        let inner = &self.inner;
        let (parts, body) = request.into_parts();
        let path_and_query = parts
            .extensions
            .get::<OriginalUri>()
            .map(|original| &original.0)
            .unwrap_or(&parts.uri)
            .path_and_query()
            .map(|pq| pq.as_str().to_owned())
            .unwrap_or_else(|| "/".to_owned());
        let url = match &inner.public_base {
            Some(base) => format!("{base}{path_and_query}"),
            None => match parts
                .headers
                .get(header::HOST)
                .and_then(|h| h.to_str().ok())
            {
                Some(host) => format!("{}://{host}{path_and_query}", inner.scheme),
                None => {
                    return text(
                        StatusCode::BAD_REQUEST,
                        "no Host header: the URL Twilio called cannot be rebuilt",
                    );
                }
            },
        };
        let limit = inner.webhook.body_limit();
        let body = match axum::body::to_bytes(body, limit).await {
            Ok(body) => body,
            Err(_) => {
                return text(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    &format!("the body is larger than {limit} bytes, or could not be read"),
                );
            }
        };
        let headers: Vec<(&str, &str)> = parts
            .headers
            .iter()
            .filter_map(|(name, value)| Some((name.as_str(), value.to_str().ok()?)))
            .collect();
        let delivery = match inner
            .webhook
            .handle(parts.method.as_str(), &url, &headers, &body)
        {
            Ok(delivery) => delivery,
            Err(rejection) => return rejected(&rejection),
        };
        if !delivery.events().is_empty() {
            let events = delivery.events().to_vec();
            if let Err(error) = inner.sink.deliver(events).await {
                tracing::warn!(%error, "webhook: events not handed over; answering 503 so that Twilio delivers again");
                // Dropping the delivery forgets its events.
                drop(delivery);
                return text(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "the events could not be handed over; deliver again later",
                );
            }
        }
        tracing::debug!(
            events = delivery.events().len(),
            duplicates = delivery.duplicates(),
            ignored = delivery.ignored(),
            "webhook: delivery accepted"
        );
        delivery.complete();
        StatusCode::OK.into_response()
    }
}

/// The answer to a refused request.
fn rejected(rejection: &Rejection) -> Response {
    tracing::debug!(status = rejection.status(), reason = %rejection.reason(), "webhook: request refused");
    let status = StatusCode::from_u16(rejection.status()).unwrap_or(StatusCode::BAD_REQUEST);
    let mut response = text(status, &rejection.reason().to_string());
    if let Some(allow) = rejection.allow() {
        response
            .headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static(allow));
    }
    response
}

fn text(status: StatusCode, message: &str) -> Response {
    let mut response = Response::new(Body::from(format!("{message}\n")));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

impl<S: EventSink> tower::Service<Request> for TwilioWebhook<S> {
    type Response = Response;
    type Error = Infallible;
    type Future = BoxFuture<'static, Result<Response, Infallible>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request) -> Self::Future {
        let this = self.clone();
        Box::pin(async move { Ok(this.handle(request).await) })
    }
}
