//! Everything traced at TRACE level through requests carrying a token, PII in a form and in a
//! query, a retry, an error answer echoing PII and a failed connection: no secret or personal
//! value appears; the span and its documented fields do.
//!
//! One test in its own binary, so that the global subscriber sees every thread.

mod common;

use std::io;
use std::sync::{Arc, Mutex};

use common::*;
use serde_json::json;
use tracing_subscriber::fmt::format::FmtSpan;
use trusthub_runtime::{Credentials, FormBody, Request, Transport};

const SECRET_TOKEN: &str = "tok-9f8e7d6c5b4a-SECRET";
const EMAIL: &str = "jane.doe@acme-example.com";
const PHONE: &str = "+15555550123";
const NAME: &str = "Janet Doolittle";
const QUERY_VALUE: &str = "Query-Only-Value-77";

#[derive(Clone, Default)]
struct Buffer(Arc<Mutex<Vec<u8>>>);

impl io::Write for Buffer {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn traces_never_hold_secrets_or_personal_data() {
    let buffer = Buffer::default();
    let writer = buffer.clone();
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_span_events(FmtSpan::FULL)
        .with_ansi(false)
        .without_time()
        .with_writer(move || writer.clone())
        .init();

    let server = TestServer::start(|index, _| match index {
        0 => Reply::json(429, json!({"code": 20429, "message": "slow down"}))
            .header("Retry-After", "0")
            .header("Twilio-Request-Id", "RQtrace1"),
        1 => Reply::json(
            400,
            json!({"code": 20001, "message": format!("Invalid email {EMAIL} for {NAME}")}),
        )
        .header("Twilio-Request-Id", "RQtrace2"),
        _ => Reply::json(200, json!({"results": [], "meta": {}, "echo": EMAIL}))
            .header("Set-Cookie", "session=cookie-value-xyz"),
    })
    .await;
    let transport = Transport::builder()
        .credentials(Credentials::auth_token(AC, SECRET_TOKEN))
        .base_url_override(server.base_url())
        .retry(fast_retries(3))
        .build()
        .unwrap();

    let mut form = FormBody::new();
    form.push("FriendlyName", NAME);
    form.push_json(
        "Attributes",
        &json!({"email": EMAIL, "phone_number": PHONE, "first_name": NAME}),
    );
    let request = Request {
        operation: &CREATE_END_USER,
        path: "/v1/EndUsers".to_owned(),
        query: Vec::new(),
        form: Some(form),
    };
    let error = transport.execute(request).await.unwrap_err();
    assert_eq!(error.status(), Some(400));

    let mut list = Request::new(&LIST_POLICIES, "/v1/Policies");
    list.query.push(("FriendlyName", QUERY_VALUE.to_owned()));
    list.query.push(("Email", EMAIL.to_owned()));
    transport.execute(list).await.unwrap();

    // A connection failure too (nobody listens on this port).
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let unreachable = Transport::builder()
        .credentials(Credentials::auth_token(AC, SECRET_TOKEN))
        .base_url_override(format!("http://127.0.0.1:{port}"))
        .retry(fast_retries(2))
        .build()
        .unwrap();
    let mut list = Request::new(&LIST_POLICIES, "/v1/Policies");
    list.query.push(("FriendlyName", QUERY_VALUE.to_owned()));
    assert!(unreachable.execute(list).await.is_err());

    let output = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();

    // The capture works and holds what the runtime promises to trace.
    for expected in [
        "trusthub.request",
        "operation=\"CreateEndUser\"",
        "operation=\"ListPolicies\"",
        "method=\"POST\"",
        "path=\"/v1/EndUsers\"",
        "attempt=2",
        "status=400",
        "request_id=\"RQtrace2\"",
        "latency_ms=",
        "retrying",
        "rate limited by Twilio (429, code 20429)",
        "connect error",
    ] {
        assert!(
            output.contains(expected),
            "{expected:?} missing from:\n{output}"
        );
    }

    // And nothing it promises not to.
    let authorization = AUTH_TOKEN_HEADER.trim_start_matches("Basic ");
    for forbidden in [
        SECRET_TOKEN,
        authorization,
        "Basic ",
        EMAIL,
        "jane.doe",
        PHONE,
        "5555550123",
        NAME,
        "Janet",
        QUERY_VALUE,
        "cookie-value-xyz",
        "FriendlyName=",
        "Attributes",
        // No URL with its path and query (hyper-util traces host and port only).
        "/v1/Policies?",
        "/v1/EndUsers?",
        "Email=",
    ] {
        assert!(
            !output.contains(forbidden),
            "{forbidden:?} leaked into the traces:\n{output}"
        );
    }
}
