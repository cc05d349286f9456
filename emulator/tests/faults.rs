//! Each fault kind observed over HTTP, the control endpoints untouched by faults, and counters that show
//! what was created.

use crate::common;

use std::time::{Duration, Instant};

use common::Api;
use serde_json::Value;
use trusthub_emulator::{policies, start, EmulatorConfig, FaultKind, FaultRule, Faults};

fn profile_form(name: &str) -> Vec<(&str, &str)> {
    vec![
        ("FriendlyName", name),
        ("Email", "c@example.com"),
        ("PolicySid", policies::SECONDARY_CUSTOMER_PROFILE),
    ]
}

#[tokio::test]
async fn rate_limits_carry_retry_after() {
    let emulator =
        start(EmulatorConfig::default().with_faults(Faults::none().with_rate_429(1.0, 0)))
            .await
            .unwrap();
    let api = Api::new(&emulator);
    let limited = api.get("/v1/Policies").await;
    assert_eq!(limited.status, 429);
    assert_eq!(limited.code(), 20429);
    assert_eq!(limited.headers["retry-after"], "0");

    emulator.set_faults(Faults::none().with_rate_429(1.0, 1));
    let post = api.post("/v1/CustomerProfiles", &profile_form("x")).await;
    assert_eq!(post.status, 429);
    assert_eq!(post.headers["retry-after"], "1");
    assert_eq!(Faults::default().retry_after_secs, 1);

    emulator.set_faults(Faults::none());
    assert_eq!(api.get("/v1/Policies").await.status, 200);
    let counters = emulator.counters();
    assert_eq!(counters.faults_429, 2);
    assert_eq!(counters.requests_faulted, 2);
    assert_eq!(counters.requests_served, 3);
    assert_eq!(counters.customer_profiles, 0, "a 429 creates nothing");
    emulator.shutdown().await;
}

#[tokio::test]
async fn server_errors_create_nothing() {
    let emulator = start(EmulatorConfig::default()).await.unwrap();
    let api = Api::new(&emulator);
    emulator.set_faults(Faults::none().with_rate_500(1.0));
    let reply = api.post("/v1/CustomerProfiles", &profile_form("x")).await;
    assert_eq!(reply.status, 500);
    assert_eq!(reply.code(), 20500);
    emulator.set_faults(Faults::none().with_rate_503(1.0));
    let reply = api.post("/v1/CustomerProfiles", &profile_form("x")).await;
    assert_eq!(reply.status, 503);
    assert_eq!(reply.code(), 20503);
    let counters = emulator.counters();
    assert_eq!((counters.faults_500, counters.faults_503), (1, 1));
    assert_eq!(counters.customer_profiles, 0);
    emulator.shutdown().await;
}

#[tokio::test]
async fn commit_then_drop_creates_but_never_answers() {
    let emulator = start(
        EmulatorConfig::default().with_faults(Faults::none().with_rate_commit_then_drop(1.0)),
    )
    .await
    .unwrap();
    let api = Api::new(&emulator);
    // GETs are not dropped.
    assert_eq!(api.get("/v1/Policies").await.status, 200);

    let outcome = api
        .http
        .post(format!("{}/v1/CustomerProfiles", emulator.base_url()))
        .basic_auth(emulator.account_sid(), Some(emulator.auth_token()))
        .form(&profile_form("Lost Response Inc"))
        .send()
        .await;
    let error = outcome.expect_err("the connection closes without a response");
    assert!(!error.is_status(), "{error}");
    let counters = emulator.counters();
    assert_eq!(counters.customer_profiles, 1, "the profile was committed");
    assert_eq!(counters.connections_dropped, 1);

    // Reconciling by FriendlyName finds exactly the one committed profile.
    emulator.set_faults(Faults::none());
    let found = api
        .get("/v1/CustomerProfiles?FriendlyName=Lost%20Response%20Inc")
        .await;
    let results = found.json["results"].as_array().unwrap();
    assert_eq!(results.len(), 1);
    assert_eq!(results[0]["status"], "draft");
    emulator.shutdown().await;
}

#[tokio::test]
async fn latency_delays_api_requests() {
    let emulator = start(EmulatorConfig::default()).await.unwrap();
    let api = Api::new(&emulator);
    emulator.set_faults(Faults::none().with_latency(Duration::from_millis(300)));
    let started = Instant::now();
    assert_eq!(api.get("/v1/Policies").await.status, 200);
    // A lower bound only: the injected delay is a minimum the server sleeps before handling.
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert_eq!(emulator.faults().latency_ms, 300);
    emulator.shutdown().await;
}

#[tokio::test]
async fn control_endpoints_are_never_faulted() {
    let emulator = start(EmulatorConfig::default().with_seed(5)).await.unwrap();
    let api = Api::new(&emulator);
    let set = api
        .control_post("/__emulator/faults", r#"{"rate_500": 1.0}"#)
        .await;
    assert_eq!(set.status(), 200);
    assert_eq!(emulator.faults().rate_500, 1.0);
    assert_eq!(
        emulator.faults().retry_after_secs,
        1,
        "missing fields take defaults"
    );
    assert_eq!(api.get("/v1/Policies").await.status, 500);

    let counters = api.control_get("/__emulator/counters").await;
    assert_eq!(counters.status(), 200);
    let counters: Value = serde_json::from_slice(&counters.bytes().await.unwrap()).unwrap();
    assert_eq!(counters["faults_500"], 1);
    assert_eq!(counters["requests_served"], 1);

    let info = api.control_get("/__emulator/info").await;
    assert_eq!(info.status(), 200);
    let info: Value = serde_json::from_slice(&info.bytes().await.unwrap()).unwrap();
    assert_eq!(info["account_sid"], emulator.account_sid());
    assert_eq!(
        info["primary_customer_profile_sid"],
        emulator.primary_profile_sid()
    );
    assert_eq!(info["phone_numbers"].as_array().unwrap().len(), 3);

    let invalid = api
        .control_post(
            "/__emulator/faults",
            r#"{"rate_500": 0.7, "rate_503": 0.7}"#,
        )
        .await;
    assert_eq!(invalid.status(), 400);
    let unknown_field = api
        .control_post("/__emulator/faults", r#"{"rate_999": 0.1}"#)
        .await;
    assert_eq!(unknown_field.status(), 400);
    assert_eq!(
        emulator.faults().rate_500,
        1.0,
        "refused settings change nothing"
    );
    emulator.shutdown().await;
}

async fn fault_statuses(seed: u64) -> Vec<u16> {
    let faults = Faults::none()
        .with_rate_429(0.2, 0)
        .with_rate_500(0.2)
        .with_rate_503(0.2);
    let emulator = start(
        EmulatorConfig::default()
            .with_seed(seed)
            .with_faults(faults),
    )
    .await
    .unwrap();
    let api = Api::new(&emulator);
    let mut statuses = Vec::new();
    for _ in 0..30 {
        statuses.push(api.get("/v1/Policies").await.status);
    }
    emulator.shutdown().await;
    statuses
}

#[tokio::test]
async fn faults_repeat_under_a_seed() {
    let a = fault_statuses(21).await;
    assert_eq!(a, fault_statuses(21).await);
    for status in [200, 429, 500, 503] {
        assert!(a.contains(&status), "{status} missing from {a:?}");
    }
}

#[tokio::test]
async fn answer_latency_comes_after_the_commit() {
    let emulator = start(EmulatorConfig::default()).await.unwrap();
    let api = Api::new(&emulator);
    emulator.set_faults(Faults::none().with_answer_latency(Duration::from_millis(400)));
    let base = emulator.base_url();
    let (user, password) = (
        emulator.account_sid().to_owned(),
        emulator.auth_token().to_owned(),
    );
    let started = Instant::now();
    let post = tokio::spawn(async move {
        reqwest::Client::new()
            .post(format!("{base}/v1/CustomerProfiles"))
            .basic_auth(user, Some(password))
            .form(&profile_form("Answer Path Inc"))
            .send()
            .await
            .map(|r| r.status().as_u16())
    });
    // The profile exists while its answer is still on its way.
    while emulator.counters().customer_profiles == 0 {
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "never committed"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let committed_after = started.elapsed();
    assert!(!post.is_finished(), "answered before the answer latency");
    assert_eq!(post.await.unwrap().unwrap(), 201);
    assert!(
        started.elapsed() >= committed_after + Duration::from_millis(300),
        "committed after {committed_after:?}, answered after {:?}",
        started.elapsed()
    );
    emulator.set_faults(Faults::none());
    assert_eq!(api.get("/v1/Policies").await.status, 200);
    emulator.shutdown().await;
}

#[tokio::test]
async fn a_gateway_503_or_429_can_follow_the_commit() {
    let emulator = start(EmulatorConfig::default()).await.unwrap();
    let api = Api::new(&emulator);
    for (faults, status) in [
        (Faults::none().with_rate_commit_then_503(1.0), 503),
        (Faults::none().with_rate_commit_then_429(1.0), 429),
    ] {
        emulator.set_faults(faults);
        let response = api
            .http
            .post(format!("{}/v1/CustomerProfiles", emulator.base_url()))
            .basic_auth(emulator.account_sid(), Some(emulator.auth_token()))
            .form(&profile_form("Gateway Inc"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), status);
        let text = response.text().await.unwrap();
        assert!(
            serde_json::from_str::<Value>(&text).is_err(),
            "a gateway's page, not Twilio's JSON: {text}"
        );
    }
    let counters = emulator.counters();
    assert_eq!(counters.customer_profiles, 2, "both were committed");
    assert_eq!(
        (
            counters.gateway_503_after_commit,
            counters.gateway_429_after_commit
        ),
        (1, 1)
    );
    emulator.shutdown().await;
}

#[tokio::test]
async fn a_rule_faults_only_the_requests_it_names_and_counts_down() {
    let rule = FaultRule::new(
        "POST",
        "/v1/CustomerProfiles/*",
        FaultKind::CommitThenDrop,
        1,
    );
    let emulator = start(EmulatorConfig::default().with_faults(Faults::none().with_rule(rule)))
        .await
        .unwrap();
    let api = Api::new(&emulator);
    let bundle = api
        .create("/v1/CustomerProfiles", &profile_form("Rule Inc"))
        .await;
    let update = api
        .http
        .post(format!(
            "{}/v1/CustomerProfiles/{bundle}",
            emulator.base_url()
        ))
        .basic_auth(emulator.account_sid(), Some(emulator.auth_token()))
        .form(&[("Email", "d@example.com")])
        .send()
        .await;
    assert!(update.is_err(), "the update's answer is lost");
    assert!(emulator.faults().rules.is_empty(), "used up");
    let fetched = api.get(&format!("/v1/CustomerProfiles/{bundle}")).await;
    assert_eq!(fetched.json["email"], "d@example.com", "committed");
    emulator.shutdown().await;
}

#[tokio::test]
async fn oversized_bodies_and_headers_get_twilio_shaped_answers() {
    let emulator = start(EmulatorConfig::default()).await.unwrap();
    let api = Api::new(&emulator);
    let huge = "x".repeat(2 * 1024 * 1024);
    let reply = api
        .post("/v1/CustomerProfiles", &[("FriendlyName", huge.as_str())])
        .await;
    assert_eq!(reply.status, 413);
    assert_eq!(reply.code(), 20413);
    assert!(
        reply.message().starts_with("Request Entity Too Large"),
        "{}",
        reply.json
    );
    assert_eq!(reply.json["status"], 413);

    let mut request = api.http.get(format!("{}/v1/Policies", emulator.base_url()));
    for i in 0..150 {
        request = request.header(format!("x-extra-{i}"), "v");
    }
    let reply = api.send(request).await;
    assert_eq!(reply.status, 431);
    assert_eq!(reply.code(), 20431);
    assert!(reply.json["more_info"].as_str().unwrap().ends_with("20431"));
    assert_eq!(emulator.counters().customer_profiles, 0);
    emulator.shutdown().await;
}
