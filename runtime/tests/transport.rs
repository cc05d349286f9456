//! The transport against a local HTTP server: headers, retries, bounds, redirects, timeouts.

use crate::common;

use std::time::Duration;

use common::*;
use serde_json::json;
use trusthub_runtime::{
    Credentials, ErrorKind, FormBody, Request, RetryPolicy, Transport, TransportErrorKind,
};

fn policies_request() -> Request {
    let mut request = Request::new(&LIST_POLICIES, "/v1/Policies");
    request.query.push(("PageSize", "20".to_owned()));
    request.query.push(("FriendlyName", "a b+c".to_owned()));
    request
}

fn create_request() -> Request {
    let mut form = FormBody::new();
    form.push("FriendlyName", "auth_rep_1");
    form.push("Type", "authorized_representative_1");
    form.push_json(
        "Attributes",
        &json!({"first_name": "rep 1", "email": "rep1@acme.com"}),
    );
    Request {
        operation: &CREATE_END_USER,
        path: "/v1/EndUsers".to_owned(),
        query: Vec::new(),
        form: Some(form),
    }
}

fn assert_user_agent(value: &str, product: &str, extensions: &str) {
    let head = format!(
        "{product} ({} {}) rust/",
        std::env::consts::OS,
        std::env::consts::ARCH
    );
    let rest = value
        .strip_prefix(&head)
        .unwrap_or_else(|| panic!("User-Agent {value:?} does not start with {head:?}"));
    let (version, tail) = rest.split_once(' ').unwrap_or((rest, ""));
    let parts: Vec<&str> = version.split('.').collect();
    assert!(
        parts.len() >= 3 && parts[..2].iter().all(|p| p.parse::<u32>().is_ok()),
        "rust version {version:?} in {value:?}"
    );
    assert_eq!(tail, extensions, "extensions of {value:?}");
}

#[tokio::test]
async fn get_sends_exact_auth_user_agent_accept_and_query() {
    let server = TestServer::start(|_, _| Reply::json(200, json!({"results": []}))).await;
    let transport = builder_for(&server)
        .user_agent_product("trusthub", "0.1.0")
        .user_agent_extension("isv-app/2.1")
        .user_agent_extension("ci")
        .build()
        .unwrap();
    let response = transport.execute(policies_request()).await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.body(), br#"{"results":[]}"#);

    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    let request = &requests[0];
    assert_eq!(request.method, "GET");
    assert_eq!(
        request.target,
        "/v1/Policies?PageSize=20&FriendlyName=a%20b%2Bc"
    );
    assert_eq!(request.header("authorization"), Some(AUTH_TOKEN_HEADER));
    assert_eq!(request.header("accept"), Some("application/json"));
    assert_eq!(request.header("content-type"), None);
    assert_user_agent(
        request.header("user-agent").unwrap(),
        "trusthub/0.1.0",
        "isv-app/2.1 ci",
    );
}

#[tokio::test]
async fn post_sends_api_key_auth_form_content_type_and_body() {
    let server = TestServer::start(|_, _| {
        Reply::json(201, json!({"sid": "ITaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}))
            .header("Twilio-Request-Id", "RQ0001")
    })
    .await;
    let transport = builder_for(&server)
        .credentials(Credentials::api_key(AC, SK, "key-secret"))
        .build()
        .unwrap();
    let response = transport.execute(create_request()).await.unwrap();
    assert_eq!(response.status(), 201);
    assert_eq!(response.request_id(), Some("RQ0001"));

    let request = &server.requests()[0];
    assert_eq!(request.method, "POST");
    assert_eq!(request.target, "/v1/EndUsers");
    assert_eq!(request.header("authorization"), Some(API_KEY_HEADER));
    assert_eq!(
        request.header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
    assert_eq!(request.header("accept"), Some("application/json"));
    assert_eq!(
        request.body,
        "FriendlyName=auth_rep_1&Type=authorized_representative_1&Attributes=\
         %7B%22first_name%22%3A%22rep%201%22%2C%22email%22%3A%22rep1%40acme.com%22%7D"
    );
    assert_user_agent(
        request.header("user-agent").unwrap(),
        &format!("trusthub-runtime/{}", env!("CARGO_PKG_VERSION")),
        "",
    );
}

#[tokio::test]
async fn override_with_a_prefix_prefixes_the_operation_path() {
    let server = TestServer::start(|_, _| Reply::json(200, json!({}))).await;
    let transport = builder_for(&server)
        .base_url_override(format!("{}/prefix/", server.base_url()))
        .build()
        .unwrap();
    transport
        .execute(Request::new(&FETCH_POLICY, "/v1/Policies/RN1"))
        .await
        .unwrap();
    assert_eq!(server.requests()[0].target, "/prefix/v1/Policies/RN1");
}

#[tokio::test]
async fn rate_limit_429_honors_retry_after_then_succeeds() {
    let server = TestServer::start(|index, _| match index {
        0 => Reply::json(
            429,
            json!({"code": 20429, "message": "Too Many Requests", "status": 429}),
        )
        .header("Retry-After", "1"),
        _ => Reply::json(201, json!({"sid": "ITb"})),
    })
    .await;
    // Twilio's 429 (code 20429) is retried even for a POST: Twilio did not process it.
    let transport = builder_for(&server).build().unwrap();
    let response = transport.execute(create_request()).await.unwrap();
    assert_eq!(response.status(), 201);
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    // The backoff alone would be at most 1 ms; the second request waited for Retry-After.
    // (A lower bound only: sleeping never ends early.)
    let gap = requests[1].at - requests[0].at;
    assert!(
        gap >= Duration::from_millis(950),
        "second request after {gap:?}"
    );
    assert_eq!(requests[0].body, requests[1].body);
}

#[tokio::test]
async fn retry_after_beyond_the_budget_stops_at_once() {
    let server = TestServer::start(|_, _| {
        Reply::json(429, json!({"code": 20429, "message": "Too Many Requests"}))
            .header("Retry-After", "3600")
    })
    .await;
    let transport = builder_for(&server)
        .retry(RetryPolicy {
            max_elapsed: Duration::from_secs(5),
            ..fast_retries(4)
        })
        .build()
        .unwrap();
    let error = transport.execute(policies_request()).await.unwrap_err();
    assert_eq!(server.count(), 1);
    assert_eq!(error.kind(), ErrorKind::Api, "expected Api, got {error:?}");
    assert_eq!(error.attempts(), 1);
    let api = error.api_error().expect("an Api error holds its answer");
    assert_eq!(api.status(), 429);
    assert_eq!(api.retry_after(), Some(Duration::from_secs(3600)));
    assert_eq!(error.retry_after(), Some(Duration::from_secs(3600)));
    assert_eq!(error.code(), Some(20429));
}

#[tokio::test]
async fn post_is_not_repeated_after_a_gateway_429_503_500_502_504_or_a_dropped_connection() {
    type MakeReply = fn() -> Reply;
    // A gateway's 429 or 503 (no Twilio code 20429) may follow a commit behind it.
    let replies: [(&str, MakeReply); 7] = [
        ("429", || Reply::status(429).header("Retry-After", "0")),
        ("503", || Reply::status(503)),
        ("503", || {
            Reply::json(
                503,
                json!({"code": 20503, "message": "Service Unavailable"}),
            )
        }),
        ("500", || {
            Reply::json(500, json!({"code": 20500, "message": "Internal"}))
        }),
        ("502", || Reply::status(502)),
        ("504", || Reply::status(504)),
        ("drop", || Reply::Drop),
    ];
    for (name, reply) in replies {
        let server = TestServer::start(move |_, _| reply()).await;
        let transport = builder_for(&server).build().unwrap();
        let error = transport.execute(create_request()).await.unwrap_err();
        assert_eq!(server.count(), 1, "{name}: the POST was sent again");
        assert_eq!(error.attempts(), 1, "{name}: {error:?}");
        match (name, error.kind()) {
            ("drop", ErrorKind::Transport) => {
                let kind = error
                    .transport_kind()
                    .expect("a Transport error has its kind");
                assert_ne!(kind, TransportErrorKind::Connect, "{error}")
            }
            ("drop", _) => panic!("drop: expected Transport, got {error:?}"),
            (_, ErrorKind::Api) => {
                let status = error
                    .api_error()
                    .expect("an Api error holds its answer")
                    .status();
                assert_eq!(status.to_string(), name)
            }
            (_, _) => panic!("{name}: expected Api, got {error:?}"),
        }
    }
}

#[tokio::test]
async fn post_is_not_repeated_after_a_timeout() {
    let server = TestServer::start(|_, _| Reply::Stall).await;
    let transport = builder_for(&server)
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let error = transport.execute(create_request()).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Timeout, "{error:?}");
    assert_eq!(error.attempts(), 1, "{error:?}");
    assert_eq!(error.operation(), Some("CreateEndUser"));
    assert_eq!(error.timeout(), Some(Duration::from_millis(300)));
    assert_eq!(server.count(), 1);
}

#[tokio::test]
async fn post_is_retried_on_connect_errors() {
    // A port nobody listens on: the connection is refused, so the request never left.
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let transport = Transport::builder()
        .credentials(Credentials::auth_token(AC, TOKEN))
        .base_url_override(format!("http://127.0.0.1:{port}"))
        .retry(fast_retries(3))
        .build()
        .unwrap();
    let error = transport.execute(create_request()).await.unwrap_err();
    assert_eq!(
        error.attempts(),
        3,
        "expected RetriesExhausted, got {error:?}"
    );
    assert_eq!(error.kind(), ErrorKind::Transport, "{error:?}");
    assert_eq!(
        error.transport_kind(),
        Some(TransportErrorKind::Connect),
        "{error:?}"
    );
    let text = error.to_string();
    assert!(text.contains("gave up after 3 attempts"), "{text}");
    assert!(
        !text.contains(&port.to_string()),
        "the URL leaked into {text}"
    );
}

#[tokio::test]
async fn get_is_retried_on_502_and_a_dropped_connection() {
    let server = TestServer::start(|index, _| match index {
        0 => Reply::status(502),
        1 => Reply::Drop,
        _ => Reply::json(200, json!({"sid": "RN1"})),
    })
    .await;
    let transport = builder_for(&server).build().unwrap();
    let response = transport
        .execute(Request::new(&FETCH_POLICY, "/v1/Policies/RN1"))
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(server.count(), 3);
}

#[tokio::test]
async fn delete_is_retried_on_504() {
    let server = TestServer::start(|index, _| match index {
        0 => Reply::status(504),
        _ => Reply::status(204),
    })
    .await;
    let transport = builder_for(&server).build().unwrap();
    let response = transport
        .execute(Request::new(&DELETE_END_USER, "/v1/EndUsers/IT1"))
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    assert_eq!(server.count(), 2);
    assert_eq!(server.requests()[1].method, "DELETE");
}

#[tokio::test]
async fn get_is_not_retried_on_500_or_404() {
    for status in [500u16, 404] {
        let server = TestServer::start(move |_, _| {
            Reply::json(
                status,
                json!({"code": 20000 + i64::from(status), "message": "no"}),
            )
        })
        .await;
        let transport = builder_for(&server).build().unwrap();
        let error = transport
            .execute(Request::new(&FETCH_POLICY, "/v1/Policies/RN1"))
            .await
            .unwrap_err();
        assert_eq!(server.count(), 1, "HTTP {status} was retried");
        assert_eq!(error.status(), Some(status));
    }
}

#[tokio::test]
async fn attempts_are_bounded_by_max_attempts() {
    let server = TestServer::start(|_, _| {
        Reply::json(503, json!({"code": 20503, "message": "unavailable"}))
            .header("Twilio-Request-Id", "RQlast")
    })
    .await;
    let transport = builder_for(&server).retry(fast_retries(3)).build().unwrap();
    let error = transport.execute(policies_request()).await.unwrap_err();
    assert_eq!(server.count(), 3);
    assert_eq!(error.attempts(), 3, "{error:?}");
    assert_eq!(error.operation(), Some("ListPolicies"));
    assert_eq!(error.kind(), ErrorKind::Api);
    assert_eq!(error.status(), Some(503));
    assert_eq!(error.request_id(), Some("RQlast"));
    assert!(error.is_retryable());
    assert!(error.to_string().starts_with(
        "ListPolicies: gave up after 3 attempts; last error: ListPolicies failed with HTTP 503"
    ));
}

#[tokio::test]
async fn elapsed_budget_is_honored() {
    // Every answer asks for 1 s; with a 1.5 s budget the second retry (ending near 2 s) is not
    // started although 10 attempts are allowed.
    let server = TestServer::start(|_, _| Reply::status(503).header("Retry-After", "1")).await;
    let transport = builder_for(&server)
        .retry(RetryPolicy {
            max_attempts: 10,
            initial_backoff: Duration::from_millis(1),
            max_backoff: Duration::from_millis(1),
            max_elapsed: Duration::from_millis(1500),
        })
        .build()
        .unwrap();
    let error = transport.execute(policies_request()).await.unwrap_err();
    assert_eq!(server.count(), 2);
    assert_eq!(error.attempts(), 2, "{error:?}");
}

#[tokio::test]
async fn redirects_are_not_followed_and_credentials_stay_home() {
    let target = TestServer::start(|_, _| Reply::json(200, json!({}))).await;
    let location = format!("{}/steal", target.base_url());
    for status in [301u16, 302, 307, 308] {
        let location = location.clone();
        let server =
            TestServer::start(move |_, _| Reply::status(status).header("Location", &location))
                .await;
        let transport = builder_for(&server).build().unwrap();
        let error = transport
            .execute(Request::new(&FETCH_POLICY, "/v1/Policies/RN1"))
            .await
            .unwrap_err();
        assert_eq!(error.status(), Some(status));
        assert!(
            error.to_string().contains("redirect not followed"),
            "{error}"
        );
        assert_eq!(server.count(), 1);
    }
    assert_eq!(target.count(), 0, "a redirect target received a request");
}

#[tokio::test]
async fn body_over_the_limit_is_refused() {
    let server = TestServer::start(|index, _| match index {
        // Declared length over the limit.
        0 => Reply::Respond {
            status: 200,
            headers: vec![("content-type".into(), "application/json".into())],
            body: vec![b' '; 2000],
        },
        // No declared length (chunked): stopped while reading.
        1 => {
            let mut raw =
                b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n"
                    .to_vec();
            for _ in 0..4 {
                raw.extend_from_slice(b"1f4\r\n");
                raw.extend_from_slice(&[b' '; 500]);
                raw.extend_from_slice(b"\r\n");
            }
            raw.extend_from_slice(b"0\r\n\r\n");
            Reply::Raw(raw)
        }
        // Exactly at the limit.
        _ => Reply::Respond {
            status: 200,
            headers: Vec::new(),
            body: vec![b' '; 1000],
        },
    })
    .await;
    let transport = builder_for(&server)
        .max_response_bytes(1000)
        .build()
        .unwrap();
    for _ in 0..2 {
        let error = transport
            .execute(Request::new(&FETCH_POLICY, "/v1/Policies/RN1"))
            .await
            .unwrap_err();
        assert_eq!(error.kind(), ErrorKind::BodyTooLarge, "{error:?}");
        assert_eq!(error.attempts(), 1, "{error:?}");
        assert_eq!(error.operation(), Some("FetchPolicy"));
        assert_eq!(error.body_limit(), Some(1000));
    }
    let response = transport
        .execute(Request::new(&FETCH_POLICY, "/v1/Policies/RN1"))
        .await
        .unwrap();
    assert_eq!(response.body().len(), 1000);
    assert_eq!(server.count(), 3);
}

#[tokio::test]
async fn slow_server_times_out() {
    let server = TestServer::start(|_, _| Reply::Stall).await;
    let transport = builder_for(&server)
        .timeout(Duration::from_millis(200))
        .retry(RetryPolicy::none())
        .build()
        .unwrap();
    let error = transport
        .execute(Request::new(&FETCH_POLICY, "/v1/Policies/RN1"))
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Timeout, "{error:?}");
    assert_eq!(error.attempts(), 1, "{error:?}");
    assert_eq!(error.operation(), Some("FetchPolicy"));
    assert_eq!(error.timeout(), Some(Duration::from_millis(200)));
    assert!(error.is_retryable());
    assert!(error
        .to_string()
        .contains("FetchPolicy: no complete answer within 200ms"));
    assert_eq!(server.count(), 1);
}

#[tokio::test]
async fn error_answers_keep_status_code_and_request_id() {
    let server = TestServer::start(|index, _| match index {
        0 => Reply::json(
            404,
            json!({"code": 20404, "message": "The requested resource /v1/Policies/RN1 was not found", "more_info": "https://www.twilio.com/docs/errors/20404", "status": 404}),
        )
        .header("Twilio-Request-Id", "RQ404"),
        _ => Reply::Respond {
            status: 502,
            headers: vec![("content-type".into(), "text/html".into())],
            body: b"<html><body>Bad Gateway</body></html>".to_vec(),
        },
    })
    .await;
    let transport = builder_for(&server)
        .retry(RetryPolicy::none())
        .build()
        .unwrap();
    let error = transport
        .execute(Request::new(&FETCH_POLICY, "/v1/Policies/RN1"))
        .await
        .unwrap_err();
    assert_eq!(error.status(), Some(404));
    assert_eq!(error.code(), Some(20404));
    assert_eq!(error.request_id(), Some("RQ404"));
    assert!(error
        .to_string()
        .starts_with("FetchPolicy failed with HTTP 404 (Twilio error 20404)"));

    let error = transport
        .execute(Request::new(&FETCH_POLICY, "/v1/Policies/RN1"))
        .await
        .unwrap_err();
    let Some(api) = error.api_error() else {
        panic!("expected Api, got {error:?}")
    };
    assert_eq!(error.attempts(), 1);
    assert_eq!(
        api.message(),
        "HTTP 502 Bad Gateway with a non-JSON body (text/html, 37 bytes)"
    );
}

#[tokio::test]
async fn transport_clones_share_settings() {
    let server = TestServer::start(|_, _| Reply::json(200, json!({}))).await;
    let transport = builder_for(&server).build().unwrap();
    let clone = transport.clone();
    let (a, b) = tokio::join!(
        transport.execute(Request::new(&FETCH_POLICY, "/v1/Policies/RN1")),
        clone.execute(Request::new(&FETCH_POLICY, "/v1/Policies/RN2")),
    );
    assert!(a.is_ok() && b.is_ok());
    assert_eq!(server.count(), 2);
    assert_eq!(clone.account_sid(), AC);
    assert!(server
        .requests()
        .iter()
        .all(|r| r.header("authorization") == Some(AUTH_TOKEN_HEADER)));
}
