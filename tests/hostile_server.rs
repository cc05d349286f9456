//! The facade client against servers that answer garbage: truncated JSON, an HTML 502, a 200
//! carrying an error body, a huge body, a slow-loris answer, redirects to another host, unknown
//! enum values and missing fields. Every case ends in a typed value or a typed error with a
//! message that says what happened; nothing panics, nothing waits forever, nothing reads without
//! bound, and no credentials reach a host the client was not configured with.
//!
//! Servers are loopback ones on free ports (see `support`); each stops when dropped.

use crate::support;

use std::time::Duration;

use futures_util::TryStreamExt as _;
use support::{raw_answer, Canned, CaptureServer, Script, ScriptedServer};
use trusthub::api::runtime::{Error, ErrorKind, TransportErrorKind};
use trusthub::api::trusthub_v1::{
    CustomerProfile, CustomerProfileEvaluationStatus, CustomerProfileStatus,
    SupportingDocumentStatus,
};
use trusthub::evaluation::Evaluation;
use trusthub::{Client, RetryPolicy};

const ACCOUNT: &str = "AC0123456789abcdef0123456789abcdef";
const TOKEN: &str = "hostile-test-token";
const BU: &str = "BU0123456789abcdef0123456789abcdef";
const IT: &str = "IT0123456789abcdef0123456789abcdef";
const POLICY: &str = "RNdfbf3fae0e1107f8aded0e7cead80bf5";
/// The default largest body a client reads (`trusthub::api::runtime::DEFAULT_MAX_RESPONSE_BYTES`).
const LIMIT: usize = trusthub::api::runtime::DEFAULT_MAX_RESPONSE_BYTES;

/// A facade client sending everything to `base_url`, without retries.
fn client(base_url: &str) -> Client {
    Client::builder()
        .account_sid(ACCOUNT.parse().unwrap())
        .auth_token(TOKEN)
        .base_url(base_url)
        .no_retries()
        .build()
        .unwrap()
}

/// Up to two attempts with a negligible backoff, and a short per-attempt timeout.
fn client_with_one_retry(base_url: &str, timeout: Duration) -> Client {
    Client::builder()
        .account_sid(ACCOUNT.parse().unwrap())
        .auth_token(TOKEN)
        .base_url(base_url)
        .timeout(timeout)
        .retry_policy(RetryPolicy {
            max_attempts: 2,
            initial_backoff: Duration::from_millis(1),
            max_backoff: Duration::from_millis(1),
            max_elapsed: Duration::from_secs(60),
        })
        .build()
        .unwrap()
}

async fn fetch_profile(client: &Client) -> Result<CustomerProfile, Error> {
    client.customer_profiles().fetch(BU).send().await
}

#[tokio::test]
async fn truncated_json_is_a_decode_error_that_names_the_place_not_the_content() {
    let server = CaptureServer::start().await;
    // Complete HTTP framing, JSON cut in the middle of a string holding personal data.
    server.answer(Canned::json(
        200,
        &format!(r#"{{"sid":"{BU}","friendly_name":"Jane Secret-Person","status":"dra"#),
    ));
    let error = fetch_profile(&client(&server.base_url)).await.unwrap_err();
    assert_eq!(
        error.kind(),
        ErrorKind::Decode,
        "expected a Decode error, got {error:?}"
    );
    assert_eq!(error.attempts(), 1, "{error:?}");
    assert_eq!(
        (error.operation(), error.status()),
        (Some("FetchCustomerProfile"), Some(200))
    );
    assert_eq!(
        error.detail(),
        Some("at status: unexpected end of input at line 1 column 94")
    );
    let text = error.to_string();
    assert!(text.contains("does not match the expected shape"), "{text}");
    assert!(
        !text.contains("Jane") && !format!("{error:?}").contains("Jane"),
        "{text}"
    );

    // A list page cut short ends the stream with the same typed error.
    server.answer(Canned::json(200, r#"{"results":[{"sid":"RN1"},{"sid":"#));
    let error = client(&server.base_url)
        .policies()
        .list()
        .into_stream()
        .try_collect::<Vec<_>>()
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Decode, "{error:?}");
    assert_eq!(error.attempts(), 1, "{error:?}");
    assert_eq!(error.operation(), Some("ListPolicies"));
}

#[tokio::test]
async fn a_body_cut_short_by_the_connection_is_a_transport_error_of_the_body() {
    // Content-Length promises 400 bytes; 30 come, then the connection closes.
    let server = ScriptedServer::start(Script::Raw(raw_answer(
        "200 OK",
        &[("Content-Type", "application/json")],
        format!(r#"{{"sid":"{BU}","#).as_bytes(),
        Some(400),
    )))
    .await;
    let error = fetch_profile(&client(&server.base_url)).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Transport, "{error:?}");
    assert_eq!(error.attempts(), 1, "{error:?}");
    assert_eq!(error.operation(), Some("FetchCustomerProfile"));
    assert_eq!(error.transport_kind(), Some(TransportErrorKind::Body));
    assert!(error.is_retryable());
    let text = error.to_string();
    assert!(text.contains("could not read the answer's body"), "{text}");
    assert!(
        !text.contains(&server.base_url),
        "the URL is not echoed: {text}"
    );
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn an_html_502_is_an_api_error_with_its_status_and_request_id() {
    let server = CaptureServer::start().await;
    let html = "<html><body><h1>502 Bad Gateway</h1>upstream jane@example.com</body></html>";
    for _ in 0..2 {
        server.answer(Canned {
            status: 502,
            headers: vec![
                ("Content-Type".into(), "text/html".into()),
                (
                    "Twilio-Request-Id".into(),
                    "RQ0000000000000000000000000000502".into(),
                ),
            ],
            body: html.into(),
        });
    }
    // A GET is retried on 502; after the last attempt the error keeps the status and request id.
    let client = client_with_one_retry(&server.base_url, Duration::from_secs(10));
    let error = fetch_profile(&client).await.unwrap_err();
    assert_eq!(error.attempts(), 2, "{error:?}");
    assert_eq!(error.kind(), ErrorKind::Api, "{error:?}");
    assert_eq!(error.status(), Some(502));
    assert_eq!(error.code(), None);
    assert_eq!(
        error.request_id(),
        Some("RQ0000000000000000000000000000502")
    );
    assert!(error.is_retryable());
    let text = error.to_string();
    assert!(
        text.contains(&format!(
            "HTTP 502 Bad Gateway with a non-JSON body (text/html, {} bytes)",
            html.len()
        )),
        "{text}"
    );
    assert!(
        !text.contains("<html>") && !text.contains("jane@"),
        "{text}"
    );
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test]
async fn a_200_carrying_an_error_body_never_passes_for_a_resource() {
    let server = CaptureServer::start().await;
    let error_body = r#"{"code":20404,"message":"The requested resource was not found","more_info":"https://www.twilio.com/docs/errors/20404","status":404}"#;
    // Whatever the model (typed `status` or not, every field optional), Twilio's error shape in
    // a 2xx answer is an error, never an empty resource.
    server.answer(Canned::json(200, error_body));
    let error = fetch_profile(&client(&server.base_url)).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Api, "{error:?}");
    assert_eq!(error.attempts(), 1, "{error:?}");
    assert_eq!((error.status(), error.code()), (Some(200), Some(20404)));
    assert!(
        error
            .to_string()
            .contains("The requested resource was not found"),
        "{error}"
    );
    server.answer(Canned::json(200, error_body));
    let error = client(&server.base_url)
        .end_users()
        .fetch(IT)
        .send()
        .await
        .unwrap_err();
    assert_eq!(error.code(), Some(20404), "{error}");
    // A resource that merely has `code` and `message` fields (and a SID) still decodes.
    server.answer(Canned::json(
        200,
        r#"{"sid":"ITaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","code":1,"message":"m","status":500}"#,
    ));
    let user = client(&server.base_url)
        .end_users()
        .fetch(IT)
        .send()
        .await
        .unwrap();
    assert_eq!(
        user.sid.as_ref().map(|sid| sid.as_str()),
        Some("ITaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")
    );
}

#[tokio::test]
async fn a_huge_body_is_refused_at_the_limit_with_a_clear_error() {
    // Declared larger than the limit: nothing of the body is read.
    let server = ScriptedServer::start(Script::Raw(raw_answer(
        "200 OK",
        &[("Content-Type", "application/json")],
        b"{\"sid\":",
        Some(1 << 30),
    )))
    .await;
    let error = fetch_profile(&client(&server.base_url)).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::BodyTooLarge, "{error:?}");
    assert_eq!(error.attempts(), 1, "{error:?}");
    assert_eq!(error.operation(), Some("FetchCustomerProfile"));
    assert_eq!(error.body_limit(), Some(LIMIT));
    let text = error.to_string();
    assert!(
        text.contains(&format!("larger than the {LIMIT}-byte limit"))
            && text.contains("max_response_bytes"),
        "{text}"
    );

    // No length, an endless chunked body: reading stops just past the limit and the client
    // hangs up long before the server's bound of four times the limit.
    let flood = ScriptedServer::start(Script::Flood {
        chunk: 64 * 1024,
        max_bytes: 4 * LIMIT,
    })
    .await;
    let error = client(&flood.base_url)
        .policies()
        .list()
        .send()
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::BodyTooLarge, "{error:?}");
    assert_eq!(error.attempts(), 1, "{error:?}");
    assert_eq!(error.body_limit(), Some(LIMIT), "{error:?}");
    assert!(
        flood.body_bytes_written() < 4 * LIMIT,
        "the client read {} bytes: it did not stop at the limit",
        flood.body_bytes_written()
    );

    // An oversized error answer keeps its status and says the body was not read.
    let server = ScriptedServer::start(Script::Raw(raw_answer(
        "500 Internal Server Error",
        &[("Content-Type", "application/json")],
        b"{",
        Some(LIMIT + 1),
    )))
    .await;
    let error = fetch_profile(&client(&server.base_url)).await.unwrap_err();
    assert_eq!(error.status(), Some(500));
    assert!(error.to_string().contains("limit (not read)"), "{error}");
}

#[tokio::test]
async fn a_slow_loris_answer_times_out_per_attempt() {
    let body = format!(r#"{{"sid":"{BU}","friendly_name":"{}"}}"#, "x".repeat(400));
    let head = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    let server = ScriptedServer::start(Script::Trickle {
        head: head.into_bytes(),
        body: body.into_bytes(),
        every: Duration::from_millis(50),
    })
    .await;
    let timeout = Duration::from_millis(300);
    let client = client_with_one_retry(&server.base_url, timeout);

    // A GET: each attempt has its own timeout, and the GET is sent once more.
    let error = fetch_profile(&client).await.unwrap_err();
    assert_eq!(
        error.attempts(),
        2,
        "expected RetriesExhausted, got {error:?}"
    );
    assert_eq!(error.kind(), ErrorKind::Timeout, "{error:?}");
    let last = std::error::Error::source(&error).expect("the last attempt's error");
    assert!(
        last.to_string()
            .starts_with("FetchCustomerProfile: no complete answer within 300ms"),
        "{last}"
    );
    assert_eq!(error.timeout(), Some(timeout));
    assert!(error.is_retryable());
    assert!(
        error
            .to_string()
            .contains("no complete answer within 300ms"),
        "{error}"
    );
    assert_eq!(server.requests().len(), 2);

    // A POST that timed out may have been processed: it is not sent again.
    let error = client
        .end_users()
        .create("Acme", "customer_profile_business_information")
        .send()
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Timeout, "{error:?}");
    assert_eq!(error.attempts(), 1, "{error:?}");
    assert_eq!(error.operation(), Some("CreateEndUser"));
    assert!(
        error.to_string().contains("list before sending it again"),
        "{error}"
    );
    assert_eq!(server.requests().len(), 3);
}

#[tokio::test]
async fn a_redirect_to_another_host_is_not_followed_and_that_host_receives_nothing() {
    let other = CaptureServer::start().await;
    let server = CaptureServer::start().await;
    let elsewhere = format!("{}/v1/CustomerProfiles/{BU}", other.base_url);
    let client = client(&server.base_url);
    for status in [301, 302, 303, 307, 308] {
        server.answer(Canned {
            status,
            headers: vec![("Location".into(), elsewhere.clone())],
            body: String::new(),
        });
        let error = fetch_profile(&client).await.unwrap_err();
        assert_eq!(error.status(), Some(status));
        let text = error.to_string();
        assert!(text.contains("redirect not followed"), "{text}");
        assert!(!text.contains(&other.base_url), "{text}");
    }
    // A POST answered with a redirect is not re-sent anywhere either.
    server.answer(Canned {
        status: 307,
        headers: vec![("Location".into(), elsewhere.clone())],
        body: String::new(),
    });
    let error = client
        .customer_profiles()
        .create("Acme", "ops@acme.example", POLICY)
        .send()
        .await
        .unwrap_err();
    assert_eq!(error.status(), Some(307));

    // A next-page link naming the other host: the next page is asked of the configured host.
    server.answer(Canned::json(
        200,
        &format!(
            r#"{{"results":[{{"sid":"{POLICY}"}}],"meta":{{"key":"results","next_page_url":"{}/v1/Policies?Page=1&PageToken=PT1"}}}}"#,
            other.base_url
        ),
    ));
    server.answer(Canned::json(
        200,
        r#"{"results":[],"meta":{"key":"results","next_page_url":null}}"#,
    ));
    let policies: Vec<_> = client
        .policies()
        .list()
        .into_stream()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(policies.len(), 1);

    let received = server.requests();
    assert_eq!(received.len(), 8);
    assert_eq!(received[7].target, "/v1/Policies?Page=1&PageToken=PT1");
    assert!(
        received.iter().all(|r| r
            .header("authorization")
            .is_some_and(|a| a.starts_with("Basic "))),
        "the configured host gets the credentials"
    );
    assert!(
        other.requests().is_empty(),
        "the other host received {} requests",
        other.requests().len()
    );
}

#[tokio::test]
async fn unknown_enum_values_are_kept_and_sent_back_as_they_came() {
    let server = CaptureServer::start().await;
    server.answer(Canned::json(
        200,
        &format!(r#"{{"sid":"{BU}","status":"twilio-paused"}}"#),
    ));
    server.answer(Canned::json(
        201,
        r#"{"sid":"ELaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","status":"partially-compliant","results":[]}"#,
    ));
    server.answer(Canned::json(
        200,
        r#"{"sid":"RDaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","status":"pending-review"}"#,
    ));
    let client = client(&server.base_url);
    let profile = fetch_profile(&client).await.unwrap();
    let status = profile.status.clone().unwrap();
    assert_eq!(
        status,
        CustomerProfileStatus::Unlisted("twilio-paused".into())
    );
    assert_eq!(status.as_str(), "twilio-paused");
    // Serialized back exactly as received.
    let json = serde_json::to_value(&profile).unwrap();
    assert_eq!(json["status"], "twilio-paused");

    let answer = client
        .customer_profiles()
        .evaluations(BU)
        .create(POLICY)
        .send()
        .await
        .unwrap();
    assert_eq!(
        answer.status,
        Some(CustomerProfileEvaluationStatus::Unlisted(
            "partially-compliant".into()
        ))
    );
    // The facade does not take an unknown evaluation status for compliance.
    let evaluation = Evaluation::from(answer);
    assert!(!evaluation.is_compliant());
    assert_eq!(
        evaluation.status().map(|s| s.as_str()),
        Some("partially-compliant")
    );

    let document = client
        .supporting_documents()
        .fetch("RDaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")
        .send()
        .await
        .unwrap();
    // The spec lists `PENDING_REVIEW`; Twilio has sent this enum in another case before. A
    // spelling the spec does not list is kept, not refused.
    assert_eq!(
        document.status,
        Some(SupportingDocumentStatus::Unlisted("pending-review".into()))
    );
}

#[tokio::test]
async fn missing_fields_are_none_and_nothing_panics() {
    let server = CaptureServer::start().await;
    let client = client(&server.base_url);
    server.answer(Canned::json(200, "{}"));
    let profile = fetch_profile(&client).await.unwrap();
    assert_eq!(
        (profile.sid, profile.status, profile.date_created),
        (None, None, None)
    );
    // An evaluation with no status and no results: not compliant, no failure invented, and its
    // report renders.
    server.answer(Canned::json(201, "{}"));
    let evaluation = Evaluation::from(
        client
            .customer_profiles()
            .evaluations(BU)
            .create(POLICY)
            .send()
            .await
            .unwrap(),
    );
    assert!(!evaluation.is_compliant());
    assert!(evaluation.failures().is_empty());
    assert!(!evaluation.to_string().is_empty());
    // A list without `meta` or items is an empty list; items without fields are kept as such.
    server.answer(Canned::json(200, "{}"));
    server.answer(Canned::json(200, r#"{"results":[{},{}]}"#));
    let none: Vec<_> = client
        .policies()
        .list()
        .into_stream()
        .try_collect()
        .await
        .unwrap();
    assert!(none.is_empty());
    let bare: Vec<_> = client
        .policies()
        .list()
        .into_stream()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(bare.len(), 2);
    assert!(bare
        .iter()
        .all(|p| p.sid.is_none() && p.requirements.is_none()));
    // The 2010 envelope likewise.
    server.answer(Canned::json(200, r#"{"addresses":[{}]}"#));
    let addresses = client.addresses().list().send().await.unwrap();
    assert_eq!(addresses.addresses.len(), 1);
    assert_eq!(addresses.addresses[0].sid, None);
    assert_eq!(addresses.next_page_uri, None);
}

#[tokio::test]
async fn sid_fields_read_an_empty_string_as_none_and_refuse_another_kind_naming_the_field() {
    let server = CaptureServer::start().await;
    let client = client(&server.base_url);
    server.answer(Canned::json(200, r#"{"sid": "", "policy_sid": null}"#));
    let profile = fetch_profile(&client).await.unwrap();
    assert_eq!((profile.sid, profile.policy_sid), (None, None));
    // A policy SID where the profile's own SID belongs: a decode error naming the field.
    server.answer(Canned::json(
        200,
        r#"{"sid": "RNdfbf3fae0e1107f8aded0e7cead80bf5"}"#,
    ));
    let error = fetch_profile(&client).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Decode, "{error:?}");
    let detail = error.detail().unwrap();
    assert!(detail.starts_with("at sid: "), "{detail}");
    assert!(
        !detail.contains("dfbf3fae"),
        "the value is not echoed: {detail}"
    );
}

#[tokio::test]
async fn garbage_bodies_give_typed_errors_never_panics() {
    let server = CaptureServer::start().await;
    let client = client(&server.base_url);
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let cases: Vec<(&str, String)> = vec![
        ("empty body", String::new()),
        ("null", "null".into()),
        ("a JSON string", r#""BU0123""#.into()),
        ("an array of numbers", "[42]".into()),
        ("trailing garbage", r#"{"sid":null} <html>"#.into()),
        ("a wrong type", r#"{"sid":42}"#.into()),
        ("a bad date", r#"{"date_created":"yesterday"}"#.into()),
        ("nesting 100000 deep", deep),
        ("invalid UTF-8 escape", r#"{"sid":"\uD800"}"#.into()),
    ];
    for (what, body) in &cases {
        server.answer(Canned::json(200, body));
        match fetch_profile(&client).await {
            Err(error) if error.kind() == ErrorKind::Decode && error.status() == Some(200) => {}
            other => panic!("{what}: expected a Decode error, got {other:?}"),
        }
    }
    assert_eq!(server.requests().len(), cases.len());
}
