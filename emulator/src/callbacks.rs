//! Signed deliveries: bundle status callbacks and Event Streams events, at least once, with the delivery
//! faults of [`Faults`](crate::Faults).
//!
//! **Status callbacks.** Every status change of a bundle with a `StatusCallback` POSTs a form (`AccountSid`,
//! `BundleSid`, `Status`, and `FailureReason` when rejected) to that URL with an `X-Twilio-Signature` header:
//! base64(HMAC-SHA1(auth token, full URL + each parameter's key and value concatenated, sorted by key)), and
//! an `I-Twilio-Idempotency-Token` header: 32 lowercase hex digits, the same for every delivery of one
//! event (its retries and its duplicate), another for each event.
//!
//! **Events.** With an event sink ([`EmulatorConfig::event_sink`](crate::EmulatorConfig::event_sink)), each
//! A2P brand or campaign decision POSTs `application/json`: a JSON array holding one CloudEvent whose `id`
//! (`NO` + 32 hex digits) is the same for every delivery of that event. The request goes to the sink URL
//! with `bodySHA256=<lowercase hex SHA-256 of the raw body>` appended to its query, and `X-Twilio-Signature`
//! is base64(HMAC-SHA1(auth token, that whole URL)) with no parameters: Twilio's scheme for JSON bodies.
//!
//! **Delivery.** A delivery answered non-2xx or failing to connect is retried up to
//! [`Faults::callback_retries`](crate::Faults::callback_retries) times, after
//! [`Faults::callback_retry_backoff_ms`](crate::Faults::callback_retry_backoff_ms), doubled before each
//! next retry. One worker takes the events in the order the changes happened and draws each event's faults
//! from its own generator, seeded from the emulator's seed (the same seed and the same changes give the same
//! draws): lost (no genuine copy sent), duplicated (a second identical copy), forged (an extra, forged copy: a
//! changed body under the genuine signature, or the genuine body under a wrong signature, carrying the
//! genuine token or `id`; never retried), and, when [`Faults::callback_reorder_ms`](crate::Faults::callback_reorder_ms) is not
//! 0, a random delay for each copy, the copies then being sent independently (so they can arrive out of
//! order). Without that jitter the worker sends each event's copies, retries included, before the next
//! event's. Only loopback hosts (`localhost`, 127.0.0.0/8, `::1`) are called; other hosts are logged (the
//! host only: a URL's query may hold tokens) and counted as skipped, never contacted.

use std::net::IpAddr;
use std::sync::Weak;
use std::time::Duration;

use base64::Engine as _;
use hmac::{Hmac, Mac};
use serde_json::{Map, Value};
use sha1::Sha1;
use sha2::{Digest, Sha256};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::faults::{Faults, MAX_LATENCY_MS};
use crate::state::{lock, App, Counters, Inner};
use crate::wire;

/// The header carrying an event's idempotency token on status callbacks.
pub(crate) const IDEMPOTENCY_HEADER: &str = "I-Twilio-Idempotency-Token";

/// The signature header.
pub(crate) const SIGNATURE_HEADER: &str = "X-Twilio-Signature";

/// Mixed into the seed so the delivery generator is independent of the SID and request-fault generators.
const DELIVERY_SEED_SALT: u64 = 0x5eed_ca11_bac4_0002;

/// One event to deliver.
pub(crate) enum Delivery {
    /// A bundle's status callback: the form to POST to its `StatusCallback`.
    Status {
        url: String,
        params: Vec<(String, String)>,
    },
    /// An Event Streams event for the sink: the CloudEvent without its `id` (the worker gives it one).
    Event {
        url: String,
        event: Map<String, Value>,
    },
}

impl Delivery {
    fn url(&self) -> &str {
        match self {
            Delivery::Status { url, .. } | Delivery::Event { url, .. } => url,
        }
    }

    fn channel(&self) -> Channel {
        match self {
            Delivery::Status { .. } => Channel::Status,
            Delivery::Event { .. } => Channel::Event,
        }
    }
}

/// Which counters a delivery counts in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Channel {
    Status,
    Event,
}

/// What one counter records.
#[derive(Clone, Copy)]
enum Tally {
    Sent,
    Failed,
    Skipped,
    Duplicated,
    Lost,
    Tampered,
    TamperedAccepted,
    Retried,
}

fn count(app: &Inner, channel: Channel, tally: Tally) {
    let mut state = lock(&app.state);
    let c: &mut Counters = &mut state.counters;
    let slot = match (channel, tally) {
        (Channel::Status, Tally::Sent) => &mut c.status_callbacks_sent,
        (Channel::Status, Tally::Failed) => &mut c.status_callbacks_failed,
        (Channel::Status, Tally::Skipped) => &mut c.status_callbacks_skipped,
        (Channel::Status, Tally::Duplicated) => &mut c.status_callbacks_duplicated,
        (Channel::Status, Tally::Lost) => &mut c.status_callbacks_lost,
        (Channel::Status, Tally::Tampered) => &mut c.status_callbacks_tampered,
        (Channel::Status, Tally::TamperedAccepted) => &mut c.status_callbacks_tampered_accepted,
        (Channel::Status, Tally::Retried) => &mut c.status_callbacks_retried,
        (Channel::Event, Tally::Sent) => &mut c.events_sent,
        (Channel::Event, Tally::Failed) => &mut c.events_failed,
        (Channel::Event, Tally::Skipped) => &mut c.events_skipped,
        (Channel::Event, Tally::Duplicated) => &mut c.events_duplicated,
        (Channel::Event, Tally::Lost) => &mut c.events_lost,
        (Channel::Event, Tally::Tampered) => &mut c.events_tampered,
        (Channel::Event, Tally::TamperedAccepted) => &mut c.events_tampered_accepted,
        (Channel::Event, Tally::Retried) => &mut c.events_retried,
    };
    *slot += 1;
}

/// base64(HMAC-SHA1(key, data)).
fn hmac_sha1_base64(key: &str, data: &str) -> String {
    let mut mac = <Hmac<Sha1> as Mac>::new_from_slice(key.as_bytes())
        .expect("HMAC accepts keys of any length");
    mac.update(data.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// Twilio's request signature: base64(HMAC-SHA1(auth_token, url + sorted key/value pairs)).
pub(crate) fn signature(auth_token: &str, url: &str, params: &[(String, String)]) -> String {
    let mut sorted: Vec<&(String, String)> = params.iter().collect();
    sorted.sort();
    let mut data = String::from(url);
    for (key, value) in sorted {
        data.push_str(key);
        data.push_str(value);
    }
    hmac_sha1_base64(auth_token, &data)
}

/// Lowercase hex SHA-256 of a body.
pub(crate) fn body_sha256_hex(body: &[u8]) -> String {
    Sha256::digest(body)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The sink URL with `bodySHA256=<hex>` appended to its query: the URL a JSON delivery is sent to and
/// signed with.
pub(crate) fn signed_sink_url(sink: &str, body: &[u8]) -> Result<String, String> {
    let mut url = reqwest::Url::parse(sink).map_err(|e| format!("does not parse as a URL: {e}"))?;
    url.query_pairs_mut()
        .append_pair("bodySHA256", &body_sha256_hex(body));
    Ok(url.to_string())
}

/// Whether the URL's host is a loopback address or `localhost`.
pub(crate) fn is_loopback(url: &str) -> bool {
    let Ok(parsed) = reqwest::Url::parse(url) else {
        return false;
    };
    match parsed.host_str() {
        Some(host) if host.eq_ignore_ascii_case("localhost") => true,
        Some(host) => host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
            .map(|ip| ip.is_loopback())
            .unwrap_or(false),
        None => false,
    }
}

/// Checks an event sink: an http(s) URL on a loopback host. The message describes the problem without
/// repeating the URL (its query may hold tokens).
pub(crate) fn check_sink(url: &str) -> Result<(), String> {
    let parsed = reqwest::Url::parse(url)
        .map_err(|e| format!("must be an absolute http(s) URL on a loopback host ({e})"))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(format!(
            "must be an http(s) URL, not {}",
            wire::shorten(parsed.scheme(), 20)
        ));
    }
    if !is_loopback(url) {
        return Err(String::from(
            "must be on a loopback host (localhost, 127.0.0.0/8 or ::1): the emulator calls no other host",
        ));
    }
    Ok(())
}

/// A URL for logs and `Debug`: scheme, host, port and path, without the query (it may hold tokens).
pub(crate) fn redacted_url(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(mut parsed) => {
            let had_query = parsed.query().is_some();
            parsed.set_query(None);
            parsed.set_fragment(None);
            if had_query {
                format!("{parsed}?<redacted>")
            } else {
                parsed.to_string()
            }
        }
        Err(_) => String::from("<unparsable URL>"),
    }
}

/// The host of a URL, for logs.
fn host_of(url: &str) -> String {
    reqwest::Url::parse(url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned))
        .unwrap_or_else(|| String::from("<unparsable URL>"))
}

/// The delivery settings of the faults in effect when an event is taken.
#[derive(Clone, Copy)]
struct Settings {
    duplicate_rate: f64,
    loss_rate: f64,
    tamper_rate: f64,
    reorder_ms: u64,
    retries: u32,
    backoff_ms: u64,
}

impl Settings {
    fn of(faults: &Faults) -> Self {
        Settings {
            duplicate_rate: faults.callback_duplicate_rate,
            loss_rate: faults.callback_loss_rate,
            tamper_rate: faults.callback_tamper_rate,
            reorder_ms: faults.callback_reorder_ms.min(MAX_LATENCY_MS),
            retries: faults.callback_retries,
            backoff_ms: faults.callback_retry_backoff_ms.min(MAX_LATENCY_MS),
        }
    }
}

/// One event's draws, always the same number of them, whatever the settings: the sequence of draws depends
/// on the seed and the number of events only.
struct Plan {
    loss: f64,
    duplicate: f64,
    tamper: f64,
    tamper_body: bool,
    jitter: [f64; 3],
    token: String,
}

impl Plan {
    fn draw(rng: &mut fastrand::Rng) -> Self {
        Plan {
            loss: rng.f64(),
            duplicate: rng.f64(),
            tamper: rng.f64(),
            tamper_body: rng.bool(),
            jitter: [rng.f64(), rng.f64(), rng.f64()],
            token: format!("{:016x}{:016x}", rng.u64(..), rng.u64(..)),
        }
    }
}

/// One request, ready to send (and to send again).
#[derive(Clone)]
struct Outgoing {
    url: String,
    content_type: &'static str,
    signature: String,
    idempotency_token: Option<String>,
    body: Vec<u8>,
}

/// Which copy of an event a request is.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Copy {
    Genuine,
    Forged,
}

const FORM: &str = "application/x-www-form-urlencoded";
const JSON: &str = "application/json";

/// Another bundle status than `status`, for a forged callback.
fn other_status(status: &str) -> &'static str {
    if status == "twilio-approved" {
        "twilio-rejected"
    } else {
        "twilio-approved"
    }
}

/// The CloudEvent with the opposite outcome (type and status fields swapped), for a forged event.
fn forged_event(event: &Map<String, Value>) -> Map<String, Value> {
    const SWAPS: [(&str, &str); 2] = [
        (
            "com.twilio.messaging.compliance.brand-registration.brand-registered",
            "com.twilio.messaging.compliance.brand-registration.brand-failure",
        ),
        (
            "com.twilio.messaging.compliance.campaign-registration.campaign-approved",
            "com.twilio.messaging.compliance.campaign-registration.campaign-failure",
        ),
    ];
    const STATUS_SWAPS: [(&str, &str, &str); 3] = [
        ("brandstatus", "registered", "registration_failed"),
        ("campaignstatus", "VERIFIED", "FAILED"),
        ("campaignregistrationstatus", "success", "failure"),
    ];
    let mut forged = event.clone();
    if let Some(Value::String(kind)) = forged.get_mut("type") {
        for (a, b) in SWAPS {
            if kind == a {
                *kind = b.to_owned();
            } else if kind == b {
                *kind = a.to_owned();
            }
        }
    }
    if let Some(Value::Object(data)) = forged.get_mut("data") {
        for (key, a, b) in STATUS_SWAPS {
            if let Some(Value::String(value)) = data.get_mut(key) {
                *value = if value == a {
                    b.to_owned()
                } else {
                    a.to_owned()
                };
            }
        }
    }
    forged
}

fn event_body(event: &Map<String, Value>, id: &str) -> Vec<u8> {
    let mut event = event.clone();
    event.insert(String::from("id"), Value::String(id.to_owned()));
    let mut ordered = Map::new();
    // CloudEvents attributes first, in the order Twilio's examples show them.
    for key in [
        "specversion",
        "type",
        "source",
        "id",
        "dataschema",
        "datacontenttype",
        "time",
    ] {
        if let Some(value) = event.remove(key) {
            ordered.insert(key.to_owned(), value);
        }
    }
    ordered.extend(event);
    serde_json::to_vec(&Value::Array(vec![Value::Object(ordered)])).unwrap_or_default()
}

/// The genuine request of an event and its forged copy.
fn requests(auth_token: &str, job: &Delivery, plan: &Plan) -> Result<(Outgoing, Outgoing), String> {
    // A wrong key, unrelated to the auth token (and never equal to it).
    const FORGER_KEY: &str = "the emulator's forger";
    let wrong_key = if auth_token == FORGER_KEY {
        "the emulator's other forger"
    } else {
        FORGER_KEY
    };
    match job {
        Delivery::Status { url, params } => {
            let genuine = Outgoing {
                url: url.clone(),
                content_type: FORM,
                signature: signature(auth_token, url, params),
                idempotency_token: Some(plan.token.clone()),
                body: wire::encode_pairs(params.iter().map(|(k, v)| (k.as_str(), v.as_str())))
                    .into_bytes(),
            };
            let forged = if plan.tamper_body {
                let changed: Vec<(String, String)> = params
                    .iter()
                    .map(|(k, v)| {
                        if k == "Status" {
                            (k.clone(), other_status(v).to_owned())
                        } else {
                            (k.clone(), v.clone())
                        }
                    })
                    .collect();
                Outgoing {
                    body: wire::encode_pairs(changed.iter().map(|(k, v)| (k.as_str(), v.as_str())))
                        .into_bytes(),
                    ..genuine.clone()
                }
            } else {
                Outgoing {
                    signature: signature(wrong_key, url, params),
                    ..genuine.clone()
                }
            };
            Ok((genuine, forged))
        }
        Delivery::Event { url, event } => {
            let id = format!("NO{}", plan.token);
            let body = event_body(event, &id);
            let signed = signed_sink_url(url, &body)?;
            let genuine = Outgoing {
                signature: signature(auth_token, &signed, &[]),
                url: signed,
                content_type: JSON,
                idempotency_token: None,
                body,
            };
            let forged = if plan.tamper_body {
                Outgoing {
                    body: event_body(&forged_event(event), &id),
                    ..genuine.clone()
                }
            } else {
                Outgoing {
                    signature: signature(wrong_key, &genuine.url, &[]),
                    ..genuine.clone()
                }
            };
            Ok((genuine, forged))
        }
    }
}

/// Starts the delivery worker. It holds the application weakly, so it never keeps a stopped emulator
/// alive.
pub(crate) fn spawn_worker(
    app: Weak<Inner>,
    mut jobs: mpsc::UnboundedReceiver<Delivery>,
    seed: u64,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build();
        let client = match client {
            Ok(client) => client,
            Err(error) => {
                tracing::error!(%error, "callbacks disabled: cannot build an HTTP client");
                return;
            }
        };
        let mut rng = fastrand::Rng::with_seed(seed ^ DELIVERY_SEED_SALT);
        while let Some(job) = jobs.recv().await {
            let Some(inner) = app.upgrade() else { break };
            let app = App(inner);
            let settings = Settings::of(&lock(&app.faults).faults);
            let plan = Plan::draw(&mut rng);
            dispatch(&client, &app, job, settings, plan).await;
        }
    })
}

/// Sends one event's copies, as its draws say.
async fn dispatch(
    client: &reqwest::Client,
    app: &App,
    job: Delivery,
    settings: Settings,
    plan: Plan,
) {
    let channel = job.channel();
    if !is_loopback(job.url()) {
        tracing::info!(
            host = %host_of(job.url()),
            "callback not sent: the emulator only calls loopback hosts"
        );
        count(app, channel, Tally::Skipped);
        return;
    }
    let (genuine, forged) = match requests(&app.auth_token, &job, &plan) {
        Ok(requests) => requests,
        Err(why) => {
            tracing::warn!(host = %host_of(job.url()), %why, "callback not sent");
            count(app, channel, Tally::Failed);
            return;
        }
    };
    let mut copies: Vec<(Copy, Outgoing)> = Vec::with_capacity(3);
    if plan.loss < settings.loss_rate {
        count(app, channel, Tally::Lost);
    } else {
        copies.push((Copy::Genuine, genuine.clone()));
        if plan.duplicate < settings.duplicate_rate {
            count(app, channel, Tally::Duplicated);
            copies.push((Copy::Genuine, genuine));
        }
    }
    if plan.tamper < settings.tamper_rate {
        count(app, channel, Tally::Tampered);
        copies.push((Copy::Forged, forged));
    }
    if settings.reorder_ms == 0 {
        for (copy, request) in copies {
            deliver(client, app, channel, copy, request, settings).await;
        }
        return;
    }
    for (i, (copy, request)) in copies.into_iter().enumerate() {
        let fraction = plan.jitter.get(i).copied().unwrap_or(0.5);
        // `fraction` is in [0, 1), so the delay is in [0, reorder_ms].
        let delay = Duration::from_millis((fraction * (settings.reorder_ms + 1) as f64) as u64);
        let client = client.clone();
        let task_app = app.clone();
        app.spawn_task(async move {
            tokio::time::sleep(delay).await;
            deliver(&client, &task_app, channel, copy, request, settings).await;
        });
    }
}

/// Sends one copy: a genuine one until it is answered 2xx or its retries are spent, a forged one once.
async fn deliver(
    client: &reqwest::Client,
    app: &App,
    channel: Channel,
    copy: Copy,
    request: Outgoing,
    settings: Settings,
) {
    let attempts = if copy == Copy::Forged {
        1
    } else {
        settings.retries.saturating_add(1)
    };
    let mut backoff = Duration::from_millis(settings.backoff_ms);
    for attempt in 0..attempts {
        if attempt > 0 {
            count(app, channel, Tally::Retried);
            tokio::time::sleep(backoff).await;
            backoff = backoff.saturating_mul(2);
        }
        let mut builder = client
            .post(&request.url)
            .header(reqwest::header::CONTENT_TYPE, request.content_type)
            .header(SIGNATURE_HEADER, &request.signature)
            .body(request.body.clone());
        if let Some(token) = &request.idempotency_token {
            builder = builder.header(IDEMPOTENCY_HEADER, token);
        }
        let accepted = match builder.send().await {
            Ok(response) => {
                let status = response.status();
                // Read the answer so the connection can be reused.
                let _ = response.bytes().await;
                if !status.is_success() && copy == Copy::Genuine {
                    tracing::warn!(host = %host_of(&request.url), %status, attempt, "callback refused");
                }
                status.is_success()
            }
            Err(error) => {
                if copy == Copy::Genuine {
                    tracing::warn!(host = %host_of(&request.url), error = %error.without_url(), attempt, "callback failed");
                }
                false
            }
        };
        match (copy, accepted) {
            (Copy::Forged, true) => {
                count(app, channel, Tally::TamperedAccepted);
                return;
            }
            (Copy::Forged, false) => return,
            (Copy::Genuine, true) => {
                count(app, channel, Tally::Sent);
                return;
            }
            (Copy::Genuine, false) => {}
        }
    }
    count(app, channel, Tally::Failed);
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn twilio_documented_example_signature() {
        let params: Vec<(String, String)> = [
            ("CallSid", "CA1234567890ABCDE"),
            ("Caller", "+12349013030"),
            ("Digits", "1234"),
            ("From", "+12349013030"),
            ("To", "+18005551212"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let mut reversed = params.clone();
        reversed.reverse();
        let url = "https://mycompany.com/myapp.php?foo=1&bar=2";
        let expected = signature("12345", url, &params);
        assert_eq!(expected, signature("12345", url, &reversed));
        assert_eq!(expected, "0/KCTR6DLpKmkAf8muzZqo1nDgQ=");
        assert_ne!(expected, signature("12346", url, &params));
    }

    #[test]
    fn only_loopback_hosts_are_called() {
        assert!(is_loopback("http://127.0.0.1:9999/cb"));
        assert!(is_loopback("http://localhost/cb"));
        assert!(is_loopback("http://[::1]:80/cb"));
        assert!(!is_loopback("http://www.example.com/cb"));
        assert!(!is_loopback("http://10.0.0.1/cb"));
        assert!(!is_loopback("not a url"));
        assert!(check_sink("http://127.0.0.1:1/x").is_ok());
        assert!(check_sink("http://example.com/x").is_err());
    }

    #[test]
    fn the_body_hash_goes_into_the_query() {
        assert_eq!(
            body_sha256_hex(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        let url = signed_sink_url("http://127.0.0.1:8080/sink?tenant=a", b"").unwrap();
        assert_eq!(
            url,
            "http://127.0.0.1:8080/sink?tenant=a&bodySHA256=e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(
            redacted_url("http://127.0.0.1:8080/sink?tenant=a"),
            "http://127.0.0.1:8080/sink?<redacted>"
        );
    }

    #[test]
    fn forged_events_claim_the_opposite_outcome() {
        let event = json!({
            "type": "com.twilio.messaging.compliance.campaign-registration.campaign-approved",
            "data": {"campaignstatus": "VERIFIED", "campaignregistrationstatus": "success"},
        });
        let forged = forged_event(event.as_object().unwrap());
        assert_eq!(
            forged["type"],
            "com.twilio.messaging.compliance.campaign-registration.campaign-failure"
        );
        assert_eq!(forged["data"]["campaignstatus"], "FAILED");
        assert_eq!(forged["data"]["campaignregistrationstatus"], "failure");
    }

    #[test]
    fn plans_repeat_under_a_seed() {
        let mut a = fastrand::Rng::with_seed(7);
        let mut b = fastrand::Rng::with_seed(7);
        let xs: Vec<String> = (0..5).map(|_| Plan::draw(&mut a).token).collect();
        let ys: Vec<String> = (0..5).map(|_| Plan::draw(&mut b).token).collect();
        assert_eq!(xs, ys);
        assert!(xs.iter().all(|t| t.len() == 32));
        assert_ne!(xs[0], xs[1]);
    }
}
