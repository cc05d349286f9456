//! The webhook mounted in a real axum server on 127.0.0.1, called over HTTP with requests signed
//! here: every genuine event reaches the sink once, duplicates are acknowledged, tampered
//! requests refused, a sink that fails gets the events again on Twilio's next delivery.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use trusthub::signature::{body_sha256, compute_signature, decode_form};
use trusthub::webhook::{BundleKind, Change, Event, Webhook};
use trusthub_axum::{from_fn, EventSink, TwilioWebhook};

const TOKEN: &str = "axum-test-auth-token";
const AC: &str = "AC0123456789abcdef0123456789abcdef";
const BU: &str = "BU0123456789abcdef0123456789abcdef";
const BN: &str = "BN0123456789abcdef0123456789abcdef";

/// Serves `hook` at /twilio/status and /twilio/events on a free loopback port; the server stops
/// with the test's runtime.
async fn serve<S: EventSink>(make: impl FnOnce(String) -> TwilioWebhook<S>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let hook = make(base.clone());
    let app = axum::Router::new()
        .route_service("/twilio/status", hook.clone())
        .nest("/nested", hook.router("/events"));
    tokio::spawn(async move { axum::serve(listener, app).await });
    base
}

struct Sent {
    status: u16,
    allow: Option<String>,
    text: String,
}

async fn post(
    client: &reqwest::Client,
    method: reqwest::Method,
    url: &str,
    content_type: &str,
    headers: &[(&str, &str)],
    body: Vec<u8>,
) -> Sent {
    let mut request = client
        .request(method, url)
        .header("Content-Type", content_type)
        .body(body);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let allow = response
        .headers()
        .get("allow")
        .map(|v| v.to_str().unwrap().to_owned());
    Sent {
        status,
        allow,
        text: response.text().await.unwrap(),
    }
}

fn callback(url: &str, status: &str) -> (Vec<u8>, String) {
    let body = format!("AccountSid={AC}&BundleSid={BU}&Status={status}");
    let params = decode_form(body.as_bytes()).unwrap();
    (body.into_bytes(), compute_signature(TOKEN, url, &params))
}

fn brand_events(id: &str, status: &str, updated: i64) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!([{
        "specversion": "1.0",
        "type": "com.twilio.messaging.compliance.brand-registration.brand-registered",
        "source": "/v1/a2p/BrandRegistrations",
        "id": id,
        "data": {"accountsid": AC, "brandsid": BN, "brandstatus": status, "updateddate": updated},
    }]))
    .unwrap()
}

async fn no_more(received: &mut mpsc::Receiver<Event>) {
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(
        received.try_recv().is_err(),
        "an event was handed over twice"
    );
}

#[tokio::test]
async fn the_axum_handler_hands_each_genuine_event_over_once() {
    let (events, mut received) = mpsc::channel(16);
    let base = serve(|base| {
        let webhook = Webhook::new(TOKEN).bundle_kind(|_| BundleKind::CustomerProfile);
        TwilioWebhook::new(webhook, events).public_base_url(base)
    })
    .await;
    let client = reqwest::Client::new();
    let form = "application/x-www-form-urlencoded";

    // A bundle callback, then its duplicate (same idempotency token).
    let url = format!("{base}/twilio/status?tenant=acme");
    let (body, signature) = callback(&url, "in-review");
    let headers = [
        ("X-Twilio-Signature", signature.as_str()),
        (
            "I-Twilio-Idempotency-Token",
            "0123456789abcdef0123456789abcdef",
        ),
    ];
    for _ in 0..2 {
        let sent = post(
            &client,
            reqwest::Method::POST,
            &url,
            form,
            &headers,
            body.clone(),
        )
        .await;
        assert_eq!(sent.status, 200, "{}", sent.text);
    }
    let event = received.recv().await.unwrap();
    assert!(matches!(event.change, Change::CustomerProfile { .. }));
    assert_eq!(event.change.status(), "in-review");
    no_more(&mut received).await;

    // Tampered: refused with 403, nothing handed over; the reason names no secret.
    let forged = String::from_utf8(body.clone())
        .unwrap()
        .replace("in-review", "twilio-approved");
    let sent = post(
        &client,
        reqwest::Method::POST,
        &url,
        form,
        &headers,
        forged.into_bytes(),
    )
    .await;
    assert_eq!(sent.status, 403);
    assert!(
        !sent.text.contains(&signature) && !sent.text.contains(TOKEN),
        "{}",
        sent.text
    );
    // Wrong method, wrong type, too large.
    let sent = post(
        &client,
        reqwest::Method::PUT,
        &url,
        form,
        &headers,
        body.clone(),
    )
    .await;
    assert_eq!((sent.status, sent.allow.as_deref()), (405, Some("POST")));
    let sent = post(
        &client,
        reqwest::Method::POST,
        &url,
        "text/plain",
        &headers,
        body.clone(),
    )
    .await;
    assert_eq!(sent.status, 415);
    let sent = post(
        &client,
        reqwest::Method::POST,
        &url,
        form,
        &headers,
        vec![b'a'; 2 * 1024 * 1024],
    )
    .await;
    assert_eq!(sent.status, 413);
    no_more(&mut received).await;

    // Event Streams, under a nested router: the URL carries the body's hash.
    let body = brand_events("NO0123456789abcdef0123456789abcdef", "registered", 1_000);
    let events_url = format!("{base}/nested/events?bodySHA256={}", body_sha256(&body));
    let signature = compute_signature(TOKEN, &events_url, &[] as &[(&str, &str)]);
    let headers = [("X-Twilio-Signature", signature.as_str())];
    for _ in 0..3 {
        let sent = post(
            &client,
            reqwest::Method::POST,
            &events_url,
            "application/json",
            &headers,
            body.clone(),
        )
        .await;
        assert_eq!(sent.status, 200, "{}", sent.text);
    }
    let event = received.recv().await.unwrap();
    assert!(matches!(event.change, Change::Brand { .. }));
    assert_eq!(event.change.status(), "registered");
    no_more(&mut received).await;
    let tampered = String::from_utf8(body)
        .unwrap()
        .replace("registered", "registration_failed");
    let sent = post(
        &client,
        reqwest::Method::POST,
        &events_url,
        "application/json",
        &headers,
        tampered.into_bytes(),
    )
    .await;
    assert_eq!(sent.status, 403);
    no_more(&mut received).await;
}

#[tokio::test]
async fn a_failing_sink_gets_the_events_on_the_next_delivery() {
    let calls = Arc::new(AtomicUsize::new(0));
    let (events, mut received) = mpsc::unbounded_channel();
    let counter = Arc::clone(&calls);
    let base = serve(move |base| {
        let sink = from_fn(move |event: Event| {
            let attempt = counter.fetch_add(1, Ordering::SeqCst);
            let events = events.clone();
            async move {
                if attempt == 0 {
                    return Err("the database is down");
                }
                events.send(event).map_err(|_| "closed")?;
                Ok(())
            }
        });
        TwilioWebhook::new(Webhook::new(TOKEN), sink).public_base_url(base)
    })
    .await;
    let client = reqwest::Client::new();
    let url = format!("{base}/twilio/status");
    let (body, signature) = callback(&url, "twilio-approved");
    let headers = [
        ("X-Twilio-Signature", signature.as_str()),
        (
            "I-Twilio-Idempotency-Token",
            "fedcba9876543210fedcba9876543210",
        ),
    ];
    let form = "application/x-www-form-urlencoded";
    let first = post(
        &client,
        reqwest::Method::POST,
        &url,
        form,
        &headers,
        body.clone(),
    )
    .await;
    assert_eq!(first.status, 503);
    let retry = post(
        &client,
        reqwest::Method::POST,
        &url,
        form,
        &headers,
        body.clone(),
    )
    .await;
    assert_eq!(retry.status, 200);
    let again = post(&client, reqwest::Method::POST, &url, form, &headers, body).await;
    assert_eq!(again.status, 200);
    let event = received.recv().await.unwrap();
    assert_eq!(event.change.status(), "twilio-approved");
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(received.try_recv().is_err());
    assert_eq!(calls.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn without_a_base_url_the_host_header_is_used() {
    let (events, mut received) = mpsc::channel(4);
    let base = serve(|_| TwilioWebhook::new(Webhook::new(TOKEN), events).plain_http()).await;
    let client = reqwest::Client::new();
    let url = format!("{base}/twilio/status");
    let (body, signature) = callback(&url, "draft");
    let sent = post(
        &client,
        reqwest::Method::POST,
        &url,
        "application/x-www-form-urlencoded",
        &[("X-Twilio-Signature", signature.as_str())],
        body,
    )
    .await;
    assert_eq!(sent.status, 200, "{}", sent.text);
    assert!(matches!(
        received.recv().await.unwrap().change,
        Change::Bundle { .. }
    ));
}
