//! Twilio's per-account concurrency limit: at most N API requests of the account in flight, the next
//! one answered 429 with code 20429 before any handling; control endpoints and requests of no account
//! are not counted; the limit is settable through the faults endpoint.

use crate::common;

use std::time::Duration;

use common::{Api, Reply};
use serde_json::Value;
use trusthub_emulator::{policies, start, EmulatorConfig, Faults};

/// Long enough that every request of a burst arrives while the first ones are still in flight.
const SLOW: Duration = Duration::from_millis(300);

fn limited(limit: u32) -> EmulatorConfig {
    EmulatorConfig::default()
        .with_faults(Faults::none().with_latency(SLOW))
        .with_account_concurrency_limit(limit)
}

fn clone(api: &Api) -> Api {
    Api {
        http: api.http.clone(),
        base: api.base.clone(),
        user: api.user.clone(),
        password: api.password.clone(),
    }
}

/// `n` requests sent at once (`form`: a POST of it, else a GET), their answers in any order.
async fn all_at_once(api: &Api, n: usize, path: &str, form: Option<&[(&str, &str)]>) -> Vec<Reply> {
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..n {
        let api = clone(api);
        let path = path.to_owned();
        let form: Option<Vec<(String, String)>> = form.map(|f| {
            f.iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect()
        });
        tasks.spawn(async move {
            match form {
                Some(form) => {
                    let form: Vec<(&str, &str)> =
                        form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
                    api.post(&path, &form).await
                }
                None => api.get(&path).await,
            }
        });
    }
    tasks.join_all().await
}

/// `n` GETs of the policies sent at once.
async fn burst(api: &Api, n: usize) -> Vec<Reply> {
    all_at_once(api, n, "/v1/Policies", None).await
}

fn concurrent_requests(reply: &Reply) -> Option<u32> {
    reply
        .headers
        .get("twilio-concurrent-requests")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
}

#[tokio::test]
async fn requests_above_the_limit_are_refused_with_20429() {
    let emulator = start(limited(2)).await.unwrap();
    let api = Api::new(&emulator);
    let replies = burst(&api, 5).await;
    let served: Vec<&Reply> = replies.iter().filter(|r| r.status == 200).collect();
    let refused: Vec<&Reply> = replies.iter().filter(|r| r.status == 429).collect();
    assert_eq!((served.len(), refused.len()), (2, 3), "statuses");
    for reply in &refused {
        assert_eq!(reply.code(), 20429);
        assert_eq!(reply.message(), "Too Many Requests");
        assert!(
            reply.headers.get("retry-after").is_none(),
            "Twilio documents no Retry-After for 20429"
        );
        assert_eq!(concurrent_requests(reply), Some(2));
    }
    let mut counts: Vec<u32> = served
        .iter()
        .filter_map(|r| concurrent_requests(r))
        .collect();
    counts.sort_unstable();
    assert_eq!(
        counts,
        [1, 2],
        "Twilio-Concurrent-Requests counts the request itself"
    );

    // The slots are free again once the answers are out.
    assert_eq!(api.get("/v1/Policies").await.status, 200);
    let counters = emulator.counters();
    assert_eq!(counters.account_limit_429, 3);
    assert_eq!(counters.max_in_flight, 2);
    assert_eq!(counters.requests_served, 6);
    assert_eq!(counters.requests_faulted, 0, "the limit is not a fault");
    assert_eq!(counters.faults_429, 0);
    emulator.shutdown().await;
}

#[tokio::test]
async fn a_refused_create_creates_nothing() {
    let emulator = start(limited(1)).await.unwrap();
    let api = Api::new(&emulator);
    let form = [
        ("FriendlyName", "Acme"),
        ("Email", "c@example.com"),
        ("PolicySid", policies::SECONDARY_CUSTOMER_PROFILE),
    ];
    let replies = all_at_once(&api, 4, "/v1/CustomerProfiles", Some(&form)).await;
    let created = replies.iter().filter(|r| r.status == 201).count();
    let refused = replies
        .iter()
        .filter(|r| r.status == 429 && r.code() == 20429)
        .count();
    assert_eq!((created, refused), (1, 3));
    let counters = emulator.counters();
    assert_eq!(
        counters.customer_profiles, 1,
        "only the admitted one is handled"
    );
    assert_eq!(counters.account_limit_429, 3);
    emulator.shutdown().await;
}

#[tokio::test]
async fn control_endpoints_and_strangers_are_not_counted() {
    let emulator = start(limited(1)).await.unwrap();
    let api = Api::new(&emulator);
    let slow = api.get("/v1/Policies");
    let others = async {
        // Sent while the one slot is taken.
        tokio::time::sleep(SLOW / 3).await;
        let counters = api
            .control_get("/__emulator/counters")
            .await
            .status()
            .as_u16();
        let faults = api
            .control_get("/__emulator/faults")
            .await
            .status()
            .as_u16();
        let stranger = async {
            api.http
                .get(format!("{}/v1/Policies", api.base))
                .basic_auth(emulator.account_sid(), Some("not-the-token"))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        };
        // Both arrive while the slot is still taken (control requests have no latency).
        let (stranger, limited) = tokio::join!(stranger, api.get("/v1/Policies"));
        (counters, faults, stranger, limited)
    };
    let (first, (counters, faults, stranger, limited)) = tokio::join!(slow, others);
    assert_eq!(first.status, 200);
    assert_eq!(
        (counters, faults),
        (200, 200),
        "control endpoints are never limited"
    );
    assert_eq!(
        stranger, 401,
        "a request of no account is not the account's"
    );
    assert_eq!((limited.status, limited.code()), (429, 20429));
    let counters = emulator.counters();
    assert_eq!(counters.account_limit_429, 1);
    assert_eq!(counters.max_in_flight, 1);
    emulator.shutdown().await;
}

#[tokio::test]
async fn the_limit_is_set_and_lifted_through_the_faults_endpoint() {
    let emulator = start(EmulatorConfig::default()).await.unwrap();
    let api = Api::new(&emulator);
    // No limit by default; the high-water mark is kept anyway.
    let replies = burst(&api, 3).await;
    assert!(replies.iter().all(|r| r.status == 200));
    assert!(emulator.counters().max_in_flight >= 1);

    let set = api
        .control_post(
            "/__emulator/faults",
            r#"{"latency_ms": 300, "account_concurrency_limit": 1}"#,
        )
        .await;
    assert_eq!(set.status(), 200);
    let shown: Value = serde_json::from_slice(
        &api.control_get("/__emulator/faults")
            .await
            .bytes()
            .await
            .unwrap(),
    )
    .unwrap();
    assert_eq!(shown["account_concurrency_limit"], 1);
    let replies = burst(&api, 3).await;
    let refused = replies.iter().filter(|r| r.status == 429).count();
    assert_eq!(refused, 2);

    let zero = api
        .control_post("/__emulator/faults", r#"{"account_concurrency_limit": 0}"#)
        .await;
    assert_eq!(zero.status(), 400, "a limit of 0 would refuse everything");
    emulator.set_faults(Faults::none());
    assert!(burst(&api, 3).await.iter().all(|r| r.status == 200));
    let counters = emulator.counters();
    assert_eq!(counters.account_limit_429, 2);
    let counters: Value = serde_json::from_slice(
        &api.control_get("/__emulator/counters")
            .await
            .bytes()
            .await
            .unwrap(),
    )
    .unwrap();
    assert_eq!(counters["account_limit_429"], 2);
    emulator.shutdown().await;
}
