//! Deliveries at least once: bundle status callbacks and Event Streams events received by a loopback
//! receiver that checks every signature with its own HMAC code (the classic form scheme, and the
//! `bodySHA256` scheme for JSON), under each delivery fault: duplicates (identical, same idempotency
//! token or CloudEvent `id`), losses (never sent, the draws repeating under a seed), reordering, forged
//! copies (every one refused, none reaching the user) and retries with backoff.

use crate::common;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::Router;
use base64::Engine as _;
use common::{assign_all, create_parts, Api};
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha1::Sha1;
use sha2::{Digest, Sha256};
use trusthub_emulator::{
    start, Counters, Decision, Emulator, EmulatorConfig, Faults, RequirementRejection,
    BRAND_REJECTION_CODE, CAMPAIGN_REJECTION_CODE,
};

use crate::messaging::{a2p, campaign_form, create_brand, create_service, form, usa2p};

// =========================================================================================================
// A receiver that checks signatures
// =========================================================================================================

/// base64(HMAC-SHA1(key, data)), computed here, independently of the emulator.
fn hmac_sha1_base64(key: &str, data: &str) -> String {
    let mut mac = Hmac::<Sha1>::new_from_slice(key.as_bytes()).unwrap();
    mac.update(data.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// Twilio's form signature: the URL, then each parameter's key and value, sorted by key.
fn form_signature(token: &str, url: &str, params: &[(String, String)]) -> String {
    let mut sorted = params.to_vec();
    sorted.sort();
    let data: String = std::iter::once(url.to_owned())
        .chain(sorted.iter().map(|(k, v)| format!("{k}{v}")))
        .collect();
    hmac_sha1_base64(token, &data)
}

fn sha256_hex(body: &[u8]) -> String {
    Sha256::digest(body)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Decodes one `application/x-www-form-urlencoded` component.
fn decode_component(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap();
                out.push(u8::from_str_radix(hex, 16).unwrap());
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).unwrap()
}

fn decode_form(body: &[u8]) -> Vec<(String, String)> {
    String::from_utf8_lossy(body)
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (decode_component(k), decode_component(v))
        })
        .collect()
}

fn param<'a>(params: &'a [(String, String)], key: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

/// One request the receiver got.
#[derive(Clone, Debug)]
struct Received {
    /// Path and query, as sent.
    path: String,
    signature: String,
    /// `I-Twilio-Idempotency-Token`, if any.
    token: Option<String>,
    /// The idempotency token (forms) or the CloudEvent `id` (JSON).
    key: String,
    body: Vec<u8>,
    /// Whether the signature (and for JSON the body hash) checked out.
    genuine: bool,
    answered: u16,
}

#[derive(Default)]
struct Log {
    received: Vec<Received>,
    /// Genuine attempts per key.
    attempts: HashMap<String, usize>,
    /// What the user sees: each genuine event once, in the order accepted.
    accepted: Vec<(String, Vec<u8>)>,
}

/// A loopback webhook receiver: checks signatures (403 when they do not check out), answers 500 to the
/// first `fail_first` genuine attempts of each event, and hands each genuine event to "the user" once.
#[derive(Clone)]
struct Receiver {
    base: String,
    auth_token: String,
    fail_first: usize,
    log: Arc<Mutex<Log>>,
}

impl Receiver {
    async fn start(auth_token: &str, fail_first: usize) -> (Receiver, tokio::task::JoinHandle<()>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let receiver = Receiver {
            base: format!("http://{}", listener.local_addr().unwrap()),
            auth_token: auth_token.to_owned(),
            fail_first,
            log: Arc::new(Mutex::new(Log::default())),
        };
        let app = Router::new().fallback(receive).with_state(receiver.clone());
        let server = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        (receiver, server)
    }

    fn received(&self) -> Vec<Received> {
        self.log.lock().unwrap().received.clone()
    }

    fn accepted(&self) -> Vec<(String, Vec<u8>)> {
        self.log.lock().unwrap().accepted.clone()
    }

    /// The accepted status callbacks' forms.
    fn accepted_forms(&self) -> Vec<Vec<(String, String)>> {
        self.accepted()
            .iter()
            .map(|(_, body)| decode_form(body))
            .collect()
    }

    /// Waits until `done` holds for the log (at most 20 s).
    async fn wait(&self, what: &str, done: impl Fn(&Log) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if done(&self.log.lock().unwrap()) {
                return;
            }
            assert!(Instant::now() < deadline, "timed out waiting for {what}");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

async fn receive(
    State(r): State<Receiver>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let path = uri
        .path_and_query()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_default();
    let url = format!("{}{path}", r.base);
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let signature = header("x-twilio-signature").unwrap_or_default();
    let token = header("i-twilio-idempotency-token");
    let json = header("content-type").is_some_and(|t| t.starts_with("application/json"));
    let (key, genuine) = if json {
        let claimed = reqwest::Url::parse(&url)
            .unwrap()
            .query_pairs()
            .find(|(k, _)| k == "bodySHA256")
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default();
        let id = serde_json::from_slice::<Value>(&body)
            .ok()
            .and_then(|v| v[0]["id"].as_str().map(str::to_owned))
            .unwrap_or_default();
        let genuine =
            claimed == sha256_hex(&body) && signature == hmac_sha1_base64(&r.auth_token, &url);
        (id, genuine)
    } else {
        let params = decode_form(&body);
        let genuine = signature == form_signature(&r.auth_token, &url, &params);
        (token.clone().unwrap_or_default(), genuine)
    };
    let mut log = r.log.lock().unwrap();
    let answered = if !genuine {
        StatusCode::FORBIDDEN
    } else {
        let attempts = log.attempts.entry(key.clone()).or_default();
        *attempts += 1;
        if *attempts <= r.fail_first {
            StatusCode::INTERNAL_SERVER_ERROR
        } else if log.accepted.iter().any(|(k, _)| *k == key) {
            // A duplicate: acknowledged, not handed to the user again.
            StatusCode::OK
        } else {
            log.accepted.push((key.clone(), body.to_vec()));
            StatusCode::NO_CONTENT
        }
    };
    log.received.push(Received {
        path,
        signature,
        token,
        key,
        body: body.to_vec(),
        genuine,
        answered: answered.as_u16(),
    });
    answered
}

// =========================================================================================================
// Helpers
// =========================================================================================================

/// A compliant secondary profile reporting to `callback`, submitted (`in-review`).
async fn submitted(api: &Api, emulator: &Emulator, callback: &str, street: &str) -> String {
    let flow = create_parts(api, street, Some(callback)).await;
    assign_all(api, &flow, emulator.primary_profile_sid()).await;
    let path = format!("/v1/CustomerProfiles/{}", flow.profile);
    let submitted = api.post(&path, &[("Status", "pending-review")]).await;
    assert_eq!(submitted.status, 200, "{}", submitted.json);
    flow.profile
}

/// Waits until the emulator's counters satisfy `done` (at most 20 s).
async fn wait_counters(emulator: &Emulator, what: &str, done: impl Fn(&Counters) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let counters = emulator.counters();
        if done(&counters) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what}: {counters:?}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

const LIFECYCLE: [&str; 3] = ["pending-review", "in-review", "twilio-approved"];

// =========================================================================================================
// Status callbacks
// =========================================================================================================

#[tokio::test]
async fn duplicated_callbacks_are_identical_and_reach_the_user_once() {
    let emulator = start(
        EmulatorConfig::default()
            .with_seed(21)
            .with_faults(Faults::none().with_callback_duplicate_rate(1.0)),
    )
    .await
    .unwrap();
    let api = Api::new(&emulator);
    let (receiver, server) = Receiver::start(emulator.auth_token(), 0).await;
    let callback = format!("{}/status?tenant=acme", receiver.base);
    let profile = submitted(&api, &emulator, &callback, "1 Main St").await;
    emulator.decide(&profile, Decision::Approve).await.unwrap();
    receiver
        .wait("3 events, twice each", |log| log.received.len() == 6)
        .await;
    wait_counters(&emulator, "6 deliveries", |c| c.status_callbacks_sent == 6).await;

    let received = receiver.received();
    assert!(received
        .iter()
        .all(|r| r.genuine && r.path == "/status?tenant=acme"));
    // Each event twice in a row: same token, signature and body; another token per event.
    let mut tokens = Vec::new();
    for pair in received.chunks(2) {
        let (a, b) = (&pair[0], &pair[1]);
        assert_eq!(a.token, b.token);
        assert_eq!(a.signature, b.signature);
        assert_eq!(a.body, b.body);
        let token = a.token.clone().expect("an idempotency token");
        assert_eq!(token.len(), 32);
        assert!(token
            .chars()
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
        tokens.push(token);
        assert_eq!(a.answered, 204, "the first copy is handed to the user");
        assert_eq!(b.answered, 200, "the second is acknowledged only");
    }
    assert_eq!(tokens.iter().collect::<BTreeSet<_>>().len(), 3);
    let statuses: Vec<String> = receiver
        .accepted_forms()
        .iter()
        .map(|p| param(p, "Status").unwrap().to_owned())
        .collect();
    assert_eq!(
        statuses, LIFECYCLE,
        "without jitter, in the order of the changes"
    );
    let counters = emulator.counters();
    assert_eq!(counters.status_callbacks_duplicated, 3);
    assert_eq!(counters.status_callbacks_failed, 0);
    assert_eq!(counters.status_callbacks_lost, 0);
    server.abort();
    emulator.shutdown().await;
}

#[tokio::test]
async fn under_reordering_duplicates_and_forgeries_every_genuine_event_arrives_once() {
    let emulator = start(
        EmulatorConfig::default().with_seed(5).with_faults(
            Faults::none()
                .with_callback_duplicate_rate(0.5)
                .with_callback_tamper_rate(1.0)
                .with_callback_reorder(Duration::from_millis(60)),
        ),
    )
    .await
    .unwrap();
    let api = Api::new(&emulator);
    let (receiver, server) = Receiver::start(emulator.auth_token(), 0).await;
    let callback = format!("{}/hooks/trusthub", receiver.base);
    let mut profiles = Vec::new();
    for street in ["1 Main St", "2 Main St", "3 Main St"] {
        let profile = submitted(&api, &emulator, &callback, street).await;
        emulator.decide(&profile, Decision::Approve).await.unwrap();
        profiles.push(profile);
    }
    let events = 3 * profiles.len() as u64;
    wait_counters(&emulator, "every delivery", |c| {
        c.status_callbacks_tampered == events
            && c.status_callbacks_sent == events + c.status_callbacks_duplicated
    })
    .await;
    receiver
        .wait("every forged copy", |log| {
            log.received.iter().filter(|r| !r.genuine).count() as u64 == events
        })
        .await;

    let counters = emulator.counters();
    assert!(counters.status_callbacks_duplicated > 0);
    assert_eq!(
        counters.status_callbacks_tampered_accepted, 0,
        "every forged copy was refused"
    );
    let received = receiver.received();
    let forged: Vec<&Received> = received.iter().filter(|r| !r.genuine).collect();
    assert!(forged.iter().all(|r| r.answered == 403));
    // Forgeries of both kinds, each replaying a genuine event's token.
    let genuine_body: HashMap<&str, &[u8]> = received
        .iter()
        .filter(|r| r.genuine)
        .map(|r| (r.key.as_str(), r.body.as_slice()))
        .collect();
    let changed_body = forged
        .iter()
        .filter(|r| genuine_body.get(r.key.as_str()) != Some(&r.body.as_slice()))
        .count();
    assert!(forged
        .iter()
        .all(|r| genuine_body.contains_key(r.key.as_str())));
    assert!(
        changed_body > 0 && changed_body < forged.len(),
        "{changed_body} of {}",
        forged.len()
    );

    // The user saw each genuine event exactly once: every profile's three statuses.
    let accepted = receiver.accepted();
    assert_eq!(accepted.len() as u64, events);
    assert_eq!(
        accepted
            .iter()
            .map(|(k, _)| k)
            .collect::<BTreeSet<_>>()
            .len() as u64,
        events
    );
    let mut seen: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for params in receiver.accepted_forms() {
        seen.entry(param(&params, "BundleSid").unwrap().to_owned())
            .or_default()
            .insert(param(&params, "Status").unwrap().to_owned());
    }
    let lifecycle: BTreeSet<String> = LIFECYCLE.iter().map(|s| s.to_string()).collect();
    assert_eq!(seen.len(), profiles.len());
    assert!(seen.values().all(|statuses| *statuses == lifecycle));
    server.abort();
    emulator.shutdown().await;
}

/// Four profiles through their review, one after the other, with 30% of the callbacks lost: what the
/// receiver got (bundle, status) and what was lost.
async fn lossy_run(seed: u64) -> (Vec<(String, String)>, u64) {
    let emulator = start(EmulatorConfig::default().with_seed(seed))
        .await
        .unwrap();
    let api = Api::new(&emulator);
    // Set through the control endpoint, as tests in other languages would.
    let set = api
        .control_post(
            "/__emulator/faults",
            r#"{"callback_loss_rate": 0.3, "callback_reorder": 0}"#,
        )
        .await;
    assert_eq!(set.status(), 200);
    assert_eq!(emulator.faults().callback_loss_rate, 0.3);
    let (receiver, server) = Receiver::start(emulator.auth_token(), 0).await;
    let callback = format!("{}/cb", receiver.base);
    let mut profiles = Vec::new();
    for n in 1..=4 {
        let profile = submitted(&api, &emulator, &callback, &format!("{n} Main St")).await;
        emulator.decide(&profile, Decision::Approve).await.unwrap();
        profiles.push(profile);
    }
    wait_counters(&emulator, "12 events sent or lost", |c| {
        c.status_callbacks_sent + c.status_callbacks_lost == 12
    })
    .await;
    // Whatever was lost, every status is up to date for a reader that reconciles.
    for profile in &profiles {
        let fetched = api.get(&format!("/v1/CustomerProfiles/{profile}")).await;
        assert_eq!(fetched.json["status"], "twilio-approved");
    }
    let got: Vec<(String, String)> = receiver
        .accepted_forms()
        .iter()
        .map(|p| {
            (
                param(p, "BundleSid").unwrap().to_owned(),
                param(p, "Status").unwrap().to_owned(),
            )
        })
        .collect();
    let lost = emulator.counters().status_callbacks_lost;
    assert_eq!(
        receiver.received().len() as u64,
        12 - lost,
        "lost ones are never sent"
    );
    server.abort();
    emulator.shutdown().await;
    (got, lost)
}

#[tokio::test]
async fn lost_callbacks_are_never_sent_and_the_losses_repeat_under_a_seed() {
    let (first, lost) = lossy_run(8).await;
    assert!(lost > 0 && lost < 12, "{lost} of 12 lost");
    assert_eq!(first.len() as u64, 12 - lost);
    let (second, lost_again) = lossy_run(8).await;
    assert_eq!(
        (first, lost),
        (second, lost_again),
        "the same seed loses the same events"
    );
}

#[tokio::test]
async fn failed_deliveries_are_retried_with_backoff_until_answered() {
    let emulator = start(
        EmulatorConfig::default()
            .with_seed(2)
            .with_faults(Faults::none().with_callback_retries(3, Duration::from_millis(5))),
    )
    .await
    .unwrap();
    let api = Api::new(&emulator);
    // The receiver answers 500 to the first two attempts of every event.
    let (receiver, server) = Receiver::start(emulator.auth_token(), 2).await;
    let profile = submitted(
        &api,
        &emulator,
        &format!("{}/cb", receiver.base),
        "1 Main St",
    )
    .await;
    emulator.decide(&profile, Decision::Approve).await.unwrap();
    wait_counters(&emulator, "3 deliveries", |c| c.status_callbacks_sent == 3).await;
    let counters = emulator.counters();
    assert_eq!(counters.status_callbacks_retried, 6);
    assert_eq!(counters.status_callbacks_failed, 0);
    let received = receiver.received();
    assert_eq!(received.len(), 9);
    for attempts in received.chunks(3) {
        assert_eq!(
            attempts.iter().map(|r| r.answered).collect::<Vec<_>>(),
            [500, 500, 204]
        );
        assert!(attempts.iter().all(|r| r.token == attempts[0].token
            && r.body == attempts[0].body
            && r.signature == attempts[0].signature));
    }
    let statuses: Vec<String> = receiver
        .accepted_forms()
        .iter()
        .map(|p| param(p, "Status").unwrap().to_owned())
        .collect();
    assert_eq!(statuses, LIFECYCLE);

    // Nobody listening: each event is tried 1 + 3 times, then counted as failed.
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap()
    };
    let before = emulator.counters();
    let unreachable = submitted(&api, &emulator, &format!("http://{closed}/cb"), "2 Main St").await;
    emulator
        .decide(&unreachable, Decision::Approve)
        .await
        .unwrap();
    wait_counters(&emulator, "3 failures", |c| {
        c.status_callbacks_failed == before.status_callbacks_failed + 3
    })
    .await;
    let after = emulator.counters();
    assert_eq!(
        after.status_callbacks_retried - before.status_callbacks_retried,
        9
    );
    assert_eq!(after.status_callbacks_sent, before.status_callbacks_sent);
    server.abort();
    emulator.shutdown().await;
}

// =========================================================================================================
// Event Streams
// =========================================================================================================

/// The accepted events, parsed: each body is a JSON array of one CloudEvent.
fn events(receiver: &Receiver) -> Vec<Value> {
    receiver
        .accepted()
        .iter()
        .map(|(_, body)| {
            let value: Value = serde_json::from_slice(body).unwrap();
            let array = value.as_array().expect("a JSON array");
            assert_eq!(array.len(), 1);
            array[0].clone()
        })
        .collect()
}

fn event_of<'a>(events: &'a [Value], kind: &str, sid_key: &str, sid: &str) -> &'a Value {
    events
        .iter()
        .find(|e| {
            e["type"] == format!("com.twilio.messaging.compliance.{kind}")
                && e["data"][sid_key] == sid
        })
        .unwrap_or_else(|| panic!("no {kind} event for {sid}: {events:?}"))
}

#[tokio::test]
async fn a2p_decisions_are_cloudevents_signed_over_the_url_with_the_body_hash() {
    // The sink is configured at start, so the receiver (which needs the auth token) starts first.
    let (receiver, server) = Receiver::start(trusthub_emulator::DEFAULT_AUTH_TOKEN, 0).await;
    let emulator = start(
        EmulatorConfig::default()
            .with_seed(4)
            .with_event_sink(format!("{}/events?tenant=acme", receiver.base))
            .with_faults(
                Faults::none()
                    .with_callback_duplicate_rate(1.0)
                    .with_callback_tamper_rate(1.0),
            ),
    )
    .await
    .unwrap();
    let api = Api::new(&emulator);
    let a2p = a2p(&api, &emulator).await;

    // A brand registered, a brand failed (control endpoint: feedback and a requirement).
    let registered = create_brand(&api, &a2p, &[]).await;
    emulator
        .decide_brand(&registered, Decision::Approve)
        .await
        .unwrap();
    let failed = create_brand(&api, &a2p, &[]).await;
    let decided = api
        .control_post(
            &format!("/__emulator/brand-registrations/{failed}/decision"),
            r#"{"decision": "reject", "reason": "Tax ID mismatch", "feedback": ["TAX_ID"],
                "requirements": [{"requirement": "business_information",
                                  "fields": ["business_registration_number", "business_name"],
                                  "code": 30795, "message": "The submitted US EIN is invalid."}]}"#,
        )
        .await;
    assert_eq!(decided.status(), 200);
    // A campaign approved, a campaign failed.
    let mut campaigns = Vec::new();
    for name in ["approved", "failed"] {
        let service = create_service(&api, name).await;
        let campaign = api
            .create(
                &usa2p(&service),
                &form(&campaign_form(&registered, "MARKETING")),
            )
            .await;
        campaigns.push((service, campaign));
    }
    emulator
        .decide_campaign(&campaigns[0].1, Decision::Approve)
        .await
        .unwrap();
    emulator
        .decide_campaign(
            &campaigns[1].1,
            Decision::reject("Opt-in unclear")
                .with_requirement(RequirementRejection::new("campaign").field("message_flow")),
        )
        .await
        .unwrap();

    wait_counters(&emulator, "4 events, twice each, and 4 forgeries", |c| {
        c.events_sent == 8 && c.events_tampered == 4
    })
    .await;
    receiver
        .wait("the forgeries", |log| log.received.len() == 12)
        .await;
    let counters = emulator.counters();
    assert_eq!(counters.events_duplicated, 4);
    assert_eq!(counters.events_tampered_accepted, 0);
    assert_eq!(counters.events_failed + counters.events_lost, 0);
    assert_eq!(
        counters.status_callbacks_sent, 0,
        "the bundles have no StatusCallback"
    );

    // Every genuine copy: the sink's path and query, then bodySHA256; the signature over that URL.
    let received = receiver.received();
    for r in received.iter().filter(|r| r.genuine) {
        let (path, query) = r.path.split_once('?').unwrap();
        assert_eq!(path, "/events");
        assert_eq!(
            query,
            format!("tenant=acme&bodySHA256={}", sha256_hex(&r.body))
        );
        assert_eq!(r.token, None);
    }
    // Copies of one event share their id, signature and body; the forgeries were all refused.
    let mut by_id: BTreeMap<&str, Vec<&Received>> = BTreeMap::new();
    for r in &received {
        by_id.entry(r.key.as_str()).or_default().push(r);
    }
    assert_eq!(by_id.len(), 4);
    for copies in by_id.values() {
        let genuine: Vec<&&Received> = copies.iter().filter(|r| r.genuine).collect();
        assert_eq!(genuine.len(), 2);
        assert_eq!(genuine[0].body, genuine[1].body);
        assert_eq!(genuine[0].signature, genuine[1].signature);
        assert!(copies
            .iter()
            .filter(|r| !r.genuine)
            .all(|r| r.answered == 403));
    }

    let events = events(&receiver);
    assert_eq!(events.len(), 4, "each event reached the user once");
    for event in &events {
        assert_eq!(event["specversion"], "1.0");
        assert_eq!(event["datacontenttype"], "application/json");
        let id = event["id"].as_str().unwrap();
        assert!(id.starts_with("NO") && id.len() == 34, "{id}");
        assert!(event["time"].as_str().unwrap().ends_with('Z'));
        assert!(event["source"].as_str().is_some());
        assert_eq!(event["data"]["accountsid"], emulator.account_sid());
        assert!(event["data"]["createddate"].as_i64().unwrap() > 1_600_000_000_000);
        assert!(event["data"]["updateddate"].as_i64().is_some());
    }

    let brand = api
        .get(&format!("/v1/a2p/BrandRegistrations/{registered}"))
        .await;
    let event = event_of(
        &events,
        "brand-registration.brand-registered",
        "brandsid",
        &registered,
    );
    assert_eq!(
        event["dataschema"],
        "https://events-schemas.twilio.com/A2P.BrandRegistered/2"
    );
    assert_eq!(event["data"]["brandstatus"], "registered");
    assert_eq!(event["data"]["externalbrandid"], brand.json["tcr_id"]);

    let event = event_of(
        &events,
        "brand-registration.brand-failure",
        "brandsid",
        &failed,
    );
    assert_eq!(
        event["dataschema"],
        "https://events-schemas.twilio.com/A2P.BrandRegistrationFailure/3"
    );
    assert_eq!(event["data"]["brandstatus"], "registration_failed");
    assert_eq!(event["data"]["brandfeedback"], "TAX_ID");
    assert_eq!(
        event["data"]["brandregistrationerrors"],
        json!([{
            "registrationerrorcode": 30795,
            "registrationerrordescription": "The submitted US EIN is invalid.",
            "registrationerrorurl": "https://www.twilio.com/docs/api/errors/30795",
            "registrationerrorfields": ["business_registration_number", "business_name"],
        }])
    );
    assert_ne!(BRAND_REJECTION_CODE, 30795, "the requirement's code won");

    let (service, campaign) = &campaigns[0];
    let fetched = api.get(&format!("{}/{campaign}", usa2p(service))).await;
    let event = event_of(
        &events,
        "campaign-registration.campaign-approved",
        "campaignsid",
        campaign,
    );
    assert_eq!(
        event["dataschema"],
        "https://events-schemas.twilio.com/A2P.CampaignRegistrationApproved/1"
    );
    let data = &event["data"];
    assert_eq!(data["brandsid"], registered.as_str());
    assert_eq!(data["messagingservicesid"], service.as_str());
    assert_eq!(data["campaignstatus"], "VERIFIED");
    assert_eq!(data["campaignregistrationstatus"], "success");
    assert_eq!(data["externalcampaignid"], fetched.json["campaign_id"]);
    assert_eq!(data["a2pusecase"], "MARKETING");
    assert!(data.get("campaignregistrationerrors").is_none());

    let (service, campaign) = &campaigns[1];
    let event = event_of(
        &events,
        "campaign-registration.campaign-failure",
        "campaignsid",
        campaign,
    );
    let data = &event["data"];
    assert_eq!(data["messagingservicesid"], service.as_str());
    assert_eq!(data["campaignstatus"], "FAILED");
    assert_eq!(data["campaignregistrationstatus"], "failure");
    assert_eq!(
        data["campaignregistrationerrors"][0]["registrationerrorcode"],
        CAMPAIGN_REJECTION_CODE
    );
    assert_eq!(
        data["campaignregistrationerrors"][0]["registrationerrordescription"],
        "Opt-in unclear"
    );
    assert_eq!(
        data["campaignregistrationerrors"][0]["registrationerrorfields"],
        json!(["message_flow"])
    );
    server.abort();
    emulator.shutdown().await;
}

#[tokio::test]
async fn an_event_sink_must_be_a_loopback_url() {
    let error = start(EmulatorConfig::default().with_event_sink("https://hooks.example.com/e"))
        .await
        .unwrap_err();
    assert_eq!(error.kind(), std::io::ErrorKind::InvalidInput);
    assert!(error.to_string().starts_with("event_sink"), "{error}");
}
