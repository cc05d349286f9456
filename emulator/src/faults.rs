//! Injected faults: latency before the handling and after the commit (on the answer path), 429 with
//! `Retry-After`, 500, 503, and the failures that follow a commit: commit-then-drop (a POST is handled, its
//! state committed, then the connection is closed without any response) and a gateway's 503 or 429 after
//! the commit (a plain-text answer without Twilio's error code, as a proxy in front of Twilio sends it).
//!
//! Faults never apply to the control endpoints under `/__emulator/`. Each API request draws one number from
//! a generator seeded from the configured seed, so a seed and a sequence of requests always fault the same
//! way (a request refused by the account's concurrency limit draws none). The rates are cumulative bands of `[0, 1)`: 429, then 500, then 503, then commit-then-drop, then
//! commit-then-503, then commit-then-429 (the last three only apply to POST; a non-POST request drawing one
//! of them is served normally). Targeted [`FaultRule`]s apply before the draw: the first rule matching the
//! request's method and path is used and counts down.
//!
//! The account's concurrency limit ([`Faults::account_concurrency_limit`]) is Twilio's own: at most N API
//! requests of the account (authenticated with its credentials or API key) in flight at once, counted from
//! the request's arrival to the end of its answer (both latencies included). A request above it is refused
//! at arrival, before the fault draw and any handling: 429 with code 20429 ("Too Many Requests") and no
//! `Retry-After` (Twilio documents none for 20429), after the fixed latency; a refused request holds no
//! slot. Every answer to a request of the account carries `Twilio-Concurrent-Requests`, the account's
//! requests in flight when it arrived (itself included), the header Twilio documents for watching the
//! account's concurrency.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// The largest latency accepted, in milliseconds: a longer one is a configuration mistake that would make a
/// test wait for minutes.
pub const MAX_LATENCY_MS: u64 = 60_000;

/// Fault settings, set at start ([`EmulatorConfig::with_faults`](crate::EmulatorConfig::with_faults)), with
/// [`Emulator::set_faults`](crate::Emulator::set_faults) or by `POST /__emulator/faults` with this JSON shape
/// (missing fields take their defaults): the request faults (latencies, error answers, failures after the
/// commit, rules) and the delivery faults of status callbacks and Event Streams events (`callback_*`, see
/// the crate docs, "Callbacks and Event Streams").
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Faults {
    /// Fixed delay before every API request is handled, in milliseconds (at most [`MAX_LATENCY_MS`]).
    pub latency_ms: u64,
    /// Fixed delay after every API request was handled (its changes committed) and before the answer is
    /// sent, in milliseconds (at most [`MAX_LATENCY_MS`]): the window in which a real network can lose an
    /// answer to a committed request, or the client can die.
    pub answer_latency_ms: u64,
    /// Share of requests answered 429 (code 20429) with a `Retry-After` header.
    pub rate_429: f64,
    /// The `Retry-After` value of those 429s, in seconds (0 allowed). Default 1.
    pub retry_after_secs: u64,
    /// Share of requests answered 500 (code 20500).
    pub rate_500: f64,
    /// Share of requests answered 503 (code 20503).
    pub rate_503: f64,
    /// Share of POST requests that are handled as usual (whatever they create or change stays committed)
    /// and then see their connection closed without a response.
    pub rate_commit_then_drop: f64,
    /// Share of POST requests that are handled as usual and then answered 503 by a gateway: a plain-text
    /// body without Twilio's error code.
    pub rate_commit_then_503: f64,
    /// Share of POST requests that are handled as usual and then answered 429 by a gateway (plain text, no
    /// Twilio code, `Retry-After: 0`).
    pub rate_commit_then_429: f64,
    /// Targeted faults, tried in order before the random draw.
    pub rules: Vec<FaultRule>,
    /// Share of callback events (bundle status callbacks and Event Streams events) delivered twice: a
    /// second, identical copy (same body, signature and idempotency token or CloudEvent `id`) follows the
    /// first. Counted in `status_callbacks_duplicated` / `events_duplicated`.
    pub callback_duplicate_rate: f64,
    /// Share of callback events never delivered: no genuine copy is sent (a forged one still can be), and
    /// the event is counted as lost.
    pub callback_loss_rate: f64,
    /// Random delay of every delivery, up to this many milliseconds (at most [`MAX_LATENCY_MS`]): when not
    /// 0, each copy of each event is sent on its own after its delay, so deliveries (of one resource too)
    /// can arrive out of order. 0 (the default) delivers one after the other, in the order of the changes.
    /// The JSON also accepts `callback_reorder`.
    #[serde(alias = "callback_reorder")]
    pub callback_reorder_ms: u64,
    /// Share of callback events that are also delivered as a forged copy: either a changed body (another
    /// `Status`, or another status in the event's data) under the genuine signature, or the genuine body
    /// under a wrong signature; the forged copy carries the genuine idempotency token or CloudEvent `id`
    /// (a replay), is never retried, and is counted in `*_tampered` (and in `*_tampered_accepted` when the
    /// receiver answered it 2xx: a receiver that checks signatures keeps that at 0).
    pub callback_tamper_rate: f64,
    /// How many times a delivery answered non-2xx (or failing to connect) is retried, at most 10. Default 3.
    pub callback_retries: u32,
    /// The backoff before the first retry, doubled before each next one, in milliseconds (at most
    /// [`MAX_LATENCY_MS`]). Default 100.
    pub callback_retry_backoff_ms: u64,
    /// At most this many API requests of the account in flight at once (at least 1); a request above it
    /// is answered 429 with code 20429 before any handling and counted in `account_limit_429` (see the
    /// module docs). `None` (the default): no limit. The high-water mark of requests in flight is counted
    /// in `max_in_flight` either way.
    pub account_concurrency_limit: Option<u32>,
}

/// The most retries [`Faults::callback_retries`] may ask for.
pub const MAX_CALLBACK_RETRIES: u32 = 10;

impl Default for Faults {
    fn default() -> Self {
        Faults {
            latency_ms: 0,
            answer_latency_ms: 0,
            rate_429: 0.0,
            retry_after_secs: 1,
            rate_500: 0.0,
            rate_503: 0.0,
            rate_commit_then_drop: 0.0,
            rate_commit_then_503: 0.0,
            rate_commit_then_429: 0.0,
            rules: Vec::new(),
            callback_duplicate_rate: 0.0,
            callback_loss_rate: 0.0,
            callback_reorder_ms: 0,
            callback_tamper_rate: 0.0,
            callback_retries: 3,
            callback_retry_backoff_ms: 100,
            account_concurrency_limit: None,
        }
    }
}

/// A fault for the next `times` requests whose method and path match.
///
/// `path` is a pattern of `/`-separated segments where `*` matches any one segment:
/// `/v1/CustomerProfiles/*` matches the update of any customer profile (`POST /v1/CustomerProfiles/BU...`)
/// but neither the create (`/v1/CustomerProfiles`) nor an assignment (`.../BU.../EntityAssignments`).
///
/// ```
/// use trusthub_emulator::{FaultKind, FaultRule, Faults};
///
/// // The next submission (or other update) of a customer profile is committed, then its answer lost.
/// let faults = Faults::none().with_rule(FaultRule::new("POST", "/v1/CustomerProfiles/*", FaultKind::CommitThenDrop, 1));
/// assert!(faults.validate().is_ok());
/// assert!(faults.rules[0].matches("POST", "/v1/CustomerProfiles/BU0123456789abcdef0123456789abcdef"));
/// assert!(!faults.rules[0].matches("POST", "/v1/CustomerProfiles"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultRule {
    /// The HTTP method, upper case (`POST`).
    pub method: String,
    /// The path pattern (`*` matches one segment).
    pub path: String,
    /// What the matching requests suffer.
    pub fault: FaultKind,
    /// How many matching requests it applies to; the rule is removed once used up.
    pub times: u32,
}

impl FaultRule {
    /// A rule for the next `times` requests matching `method` and `path`.
    pub fn new(
        method: impl Into<String>,
        path: impl Into<String>,
        fault: FaultKind,
        times: u32,
    ) -> Self {
        FaultRule {
            method: method.into(),
            path: path.into(),
            fault,
            times,
        }
    }

    /// Whether a request with this method and path matches.
    pub fn matches(&self, method: &str, path: &str) -> bool {
        if !self.method.eq_ignore_ascii_case(method) {
            return false;
        }
        let mut pattern = self.path.split('/');
        let mut actual = path.split('/');
        loop {
            match (pattern.next(), actual.next()) {
                (None, None) => return true,
                (Some("*"), Some(segment)) if !segment.is_empty() => {}
                (Some(p), Some(segment)) if p == segment => {}
                _ => return false,
            }
        }
    }
}

/// What a request suffers ([`FaultRule::fault`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultKind {
    /// 429 with code 20429 (not processed).
    TooManyRequests,
    /// 500 with code 20500 (not processed).
    InternalError,
    /// 503 with code 20503 (not processed).
    Unavailable,
    /// Handled and committed, then the connection is closed without an answer.
    CommitThenDrop,
    /// Handled and committed, then a gateway's plain-text 503.
    CommitThenGateway503,
    /// Handled and committed, then a gateway's plain-text 429.
    CommitThenGateway429,
    /// Handled and committed, then no answer for [`MAX_LATENCY_MS`] before the connection is
    /// closed: a client waiting for it can be killed in that window.
    CommitThenStall,
}

impl Faults {
    /// No faults at all (the default).
    pub fn none() -> Self {
        Faults::default()
    }

    /// Sets the fixed per-request latency before the handling.
    pub fn with_latency(mut self, latency: Duration) -> Self {
        self.latency_ms = u64::try_from(latency.as_millis()).unwrap_or(u64::MAX);
        self
    }

    /// Sets the fixed per-request latency after the commit, before the answer is sent.
    pub fn with_answer_latency(mut self, latency: Duration) -> Self {
        self.answer_latency_ms = u64::try_from(latency.as_millis()).unwrap_or(u64::MAX);
        self
    }

    /// Sets the share of 429 answers and their `Retry-After` seconds.
    pub fn with_rate_429(mut self, rate: f64, retry_after_secs: u64) -> Self {
        self.rate_429 = rate;
        self.retry_after_secs = retry_after_secs;
        self
    }

    /// Sets the share of 500 answers.
    pub fn with_rate_500(mut self, rate: f64) -> Self {
        self.rate_500 = rate;
        self
    }

    /// Sets the share of 503 answers.
    pub fn with_rate_503(mut self, rate: f64) -> Self {
        self.rate_503 = rate;
        self
    }

    /// Sets the share of POSTs whose connection is dropped after the state was committed.
    pub fn with_rate_commit_then_drop(mut self, rate: f64) -> Self {
        self.rate_commit_then_drop = rate;
        self
    }

    /// Sets the share of POSTs answered by a gateway's 503 after the state was committed.
    pub fn with_rate_commit_then_503(mut self, rate: f64) -> Self {
        self.rate_commit_then_503 = rate;
        self
    }

    /// Sets the share of POSTs answered by a gateway's 429 after the state was committed.
    pub fn with_rate_commit_then_429(mut self, rate: f64) -> Self {
        self.rate_commit_then_429 = rate;
        self
    }

    /// Adds a targeted rule (tried in the order added).
    pub fn with_rule(mut self, rule: FaultRule) -> Self {
        self.rules.push(rule);
        self
    }

    /// Sets the share of callback events delivered twice.
    pub fn with_callback_duplicate_rate(mut self, rate: f64) -> Self {
        self.callback_duplicate_rate = rate;
        self
    }

    /// Sets the share of callback events never delivered.
    pub fn with_callback_loss_rate(mut self, rate: f64) -> Self {
        self.callback_loss_rate = rate;
        self
    }

    /// Sets the random delay of every delivery (0 keeps deliveries in order).
    pub fn with_callback_reorder(mut self, jitter: Duration) -> Self {
        self.callback_reorder_ms = u64::try_from(jitter.as_millis()).unwrap_or(u64::MAX);
        self
    }

    /// Sets the share of callback events also delivered as a forged copy.
    pub fn with_callback_tamper_rate(mut self, rate: f64) -> Self {
        self.callback_tamper_rate = rate;
        self
    }

    /// Sets how many times a failed delivery is retried and the first backoff (doubled each time).
    pub fn with_callback_retries(mut self, retries: u32, backoff: Duration) -> Self {
        self.callback_retries = retries;
        self.callback_retry_backoff_ms = u64::try_from(backoff.as_millis()).unwrap_or(u64::MAX);
        self
    }

    /// Sets the account's concurrency limit: at most `max_in_flight` API requests in flight, the next
    /// one answered 429 (code 20429).
    pub fn with_account_concurrency_limit(mut self, max_in_flight: u32) -> Self {
        self.account_concurrency_limit = Some(max_in_flight);
        self
    }

    /// Checks every rate is within `[0, 1]`, that the request faults' rates add up to at most 1 (the callback
    /// rates are drawn independently of each other), that latencies, the callback jitter and backoff are at
    /// most [`MAX_LATENCY_MS`], that retries are at most [`MAX_CALLBACK_RETRIES`], that rules name a
    /// method and a path and that the account's concurrency limit, when set, is at least 1.
    pub fn validate(&self) -> Result<(), String> {
        if self.account_concurrency_limit == Some(0) {
            return Err(String::from(
                "account_concurrency_limit must be at least 1 (leave it out for no limit)",
            ));
        }
        let rates = [
            ("rate_429", self.rate_429),
            ("rate_500", self.rate_500),
            ("rate_503", self.rate_503),
            ("rate_commit_then_drop", self.rate_commit_then_drop),
            ("rate_commit_then_503", self.rate_commit_then_503),
            ("rate_commit_then_429", self.rate_commit_then_429),
        ];
        for (name, rate) in rates {
            if !(0.0..=1.0).contains(&rate) {
                return Err(format!("{name} must be between 0 and 1, got {rate}"));
            }
        }
        let total: f64 = rates.iter().map(|(_, r)| r).sum();
        if total > 1.0 + 1e-9 {
            return Err(format!("the fault rates add up to {total}, more than 1"));
        }
        for (name, rate) in [
            ("callback_duplicate_rate", self.callback_duplicate_rate),
            ("callback_loss_rate", self.callback_loss_rate),
            ("callback_tamper_rate", self.callback_tamper_rate),
        ] {
            if !(0.0..=1.0).contains(&rate) {
                return Err(format!("{name} must be between 0 and 1, got {rate}"));
            }
        }
        if self.callback_retries > MAX_CALLBACK_RETRIES {
            return Err(format!(
                "callback_retries must be at most {MAX_CALLBACK_RETRIES}, got {}",
                self.callback_retries
            ));
        }
        for (name, ms) in [
            ("latency_ms", self.latency_ms),
            ("answer_latency_ms", self.answer_latency_ms),
            ("callback_reorder_ms", self.callback_reorder_ms),
            ("callback_retry_backoff_ms", self.callback_retry_backoff_ms),
        ] {
            if ms > MAX_LATENCY_MS {
                return Err(format!(
                    "{name} must be at most {MAX_LATENCY_MS} (one minute), got {ms}"
                ));
            }
        }
        for (i, rule) in self.rules.iter().enumerate() {
            if rule.method.trim().is_empty() || !rule.path.starts_with('/') {
                return Err(format!(
                    "rules[{i}] needs a method and a path starting with '/'"
                ));
            }
        }
        Ok(())
    }
}

impl FaultKind {
    /// Whether the request is handled (and its changes committed) before the fault strikes.
    pub(crate) fn commits(self) -> bool {
        matches!(
            self,
            FaultKind::CommitThenDrop
                | FaultKind::CommitThenGateway503
                | FaultKind::CommitThenGateway429
                | FaultKind::CommitThenStall
        )
    }
}

/// The fault settings, their generator and the account's requests in flight.
pub(crate) struct FaultState {
    pub faults: Faults,
    rng: fastrand::Rng,
    /// The account's API requests in flight (admitted and not yet answered).
    in_flight: u32,
}

/// Mixed into the seed so the fault generator is independent of the SID generator.
const FAULT_SEED_SALT: u64 = 0x5eed_fa17_0000_0001;

impl FaultState {
    pub fn new(faults: Faults, seed: u64) -> Self {
        FaultState {
            faults,
            rng: fastrand::Rng::with_seed(seed ^ FAULT_SEED_SALT),
            in_flight: 0,
        }
    }

    /// Admits one request of the account under [`Faults::account_concurrency_limit`]: `Ok` with the
    /// requests in flight, itself included (its slot is taken until [`FaultState::release`]), or `Err`
    /// with the requests in flight when the limit is reached (no slot taken).
    pub fn admit(&mut self) -> Result<u32, u32> {
        match self.faults.account_concurrency_limit {
            Some(limit) if self.in_flight >= limit => Err(self.in_flight),
            _ => {
                self.in_flight += 1;
                Ok(self.in_flight)
            }
        }
    }

    /// Frees the slot of an admitted request.
    pub fn release(&mut self) {
        self.in_flight = self.in_flight.saturating_sub(1);
    }

    /// Draws the fault of one API request (one draw per request, whatever the rates and rules);
    /// `None` when it is served normally.
    pub fn draw(&mut self, method: &str, path: &str) -> Option<FaultKind> {
        let x = self.rng.f64();
        let f = &mut self.faults;
        if let Some(i) = f
            .rules
            .iter()
            .position(|r| r.times > 0 && r.matches(method, path))
        {
            let rule = &mut f.rules[i];
            rule.times -= 1;
            let fault = rule.fault;
            if rule.times == 0 {
                f.rules.remove(i);
            }
            return Some(fault);
        }
        let is_post = method.eq_ignore_ascii_case("POST");
        let bands = [
            (f.rate_429, FaultKind::TooManyRequests),
            (f.rate_500, FaultKind::InternalError),
            (f.rate_503, FaultKind::Unavailable),
            (f.rate_commit_then_drop, FaultKind::CommitThenDrop),
            (f.rate_commit_then_503, FaultKind::CommitThenGateway503),
            (f.rate_commit_then_429, FaultKind::CommitThenGateway429),
        ];
        let mut band = 0.0;
        for (rate, fault) in bands {
            band += rate;
            if x < band {
                // What follows a commit is drawn for POSTs only.
                return (is_post || !fault.commits()).then_some(fault);
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bands_are_cumulative_and_commit_faults_are_post_only() {
        let mut all_429 = FaultState::new(Faults::none().with_rate_429(1.0, 0), 1);
        assert_eq!(
            all_429.draw("GET", "/v1/Policies"),
            Some(FaultKind::TooManyRequests)
        );
        let mut drops = FaultState::new(Faults::none().with_rate_commit_then_drop(1.0), 1);
        assert_eq!(
            drops.draw("POST", "/v1/EndUsers"),
            Some(FaultKind::CommitThenDrop)
        );
        assert_eq!(drops.draw("GET", "/v1/EndUsers"), None);
        let mut gateway = FaultState::new(Faults::none().with_rate_commit_then_503(1.0), 1);
        assert_eq!(
            gateway.draw("POST", "/v1/EndUsers"),
            Some(FaultKind::CommitThenGateway503)
        );
        assert_eq!(gateway.draw("DELETE", "/v1/EndUsers/IT1"), None);
        let mut none = FaultState::new(Faults::none(), 1);
        assert!((0..100).all(|_| none.draw("POST", "/v1/EndUsers").is_none()));
    }

    #[test]
    fn draws_repeat_under_a_seed() {
        let faults = Faults::none().with_rate_500(0.3).with_rate_503(0.3);
        let mut a = FaultState::new(faults.clone(), 9);
        let mut b = FaultState::new(faults, 9);
        let xs: Vec<Option<FaultKind>> = (0..50).map(|_| a.draw("POST", "/v1/EndUsers")).collect();
        let ys: Vec<Option<FaultKind>> = (0..50).map(|_| b.draw("POST", "/v1/EndUsers")).collect();
        assert_eq!(xs, ys);
        assert!(xs.contains(&Some(FaultKind::InternalError)));
        assert!(xs.contains(&Some(FaultKind::Unavailable)));
        assert!(xs.contains(&None));
    }

    #[test]
    fn rules_match_by_segment_and_count_down() {
        let rule = FaultRule::new(
            "POST",
            "/v1/CustomerProfiles/*",
            FaultKind::CommitThenDrop,
            2,
        );
        assert!(rule.matches("post", "/v1/CustomerProfiles/BU1"));
        assert!(!rule.matches("POST", "/v1/CustomerProfiles"));
        assert!(!rule.matches("POST", "/v1/CustomerProfiles/"));
        assert!(!rule.matches("POST", "/v1/CustomerProfiles/BU1/EntityAssignments"));
        assert!(!rule.matches("GET", "/v1/CustomerProfiles/BU1"));
        let mut state = FaultState::new(Faults::none().with_rule(rule), 3);
        assert_eq!(state.draw("POST", "/v1/EndUsers"), None);
        assert_eq!(
            state.draw("POST", "/v1/CustomerProfiles/BU1"),
            Some(FaultKind::CommitThenDrop)
        );
        assert_eq!(
            state.draw("POST", "/v1/CustomerProfiles/BU2"),
            Some(FaultKind::CommitThenDrop)
        );
        assert!(state.faults.rules.is_empty());
        assert_eq!(state.draw("POST", "/v1/CustomerProfiles/BU1"), None);
    }

    #[test]
    fn validation_names_the_bad_setting() {
        assert!(Faults::none().validate().is_ok());
        let err = Faults::none().with_rate_500(1.5).validate().unwrap_err();
        assert!(err.contains("rate_500"));
        let err = Faults::none()
            .with_rate_500(0.6)
            .with_rate_503(0.6)
            .validate()
            .unwrap_err();
        assert!(err.contains("add up"));
        let err = Faults::none()
            .with_answer_latency(Duration::from_secs(3600))
            .validate()
            .unwrap_err();
        assert!(
            err.starts_with("answer_latency_ms must be at most 60000"),
            "{err}"
        );
        let err = Faults::none()
            .with_rule(FaultRule::new("POST", "v1", FaultKind::InternalError, 1))
            .validate()
            .unwrap_err();
        assert!(err.starts_with("rules[0]"), "{err}");
        let err = Faults::none()
            .with_callback_loss_rate(1.5)
            .validate()
            .unwrap_err();
        assert!(err.starts_with("callback_loss_rate"), "{err}");
        let err = Faults::none()
            .with_callback_retries(11, Duration::ZERO)
            .validate()
            .unwrap_err();
        assert!(err.starts_with("callback_retries"), "{err}");
        let err = Faults::none()
            .with_callback_reorder(Duration::from_secs(120))
            .validate()
            .unwrap_err();
        assert!(err.starts_with("callback_reorder_ms"), "{err}");
        // The callback rates are independent draws: all at 1 is valid.
        assert!(Faults::none()
            .with_rate_500(1.0)
            .with_callback_duplicate_rate(1.0)
            .with_callback_loss_rate(1.0)
            .with_callback_tamper_rate(1.0)
            .validate()
            .is_ok());
    }

    #[test]
    fn the_account_limit_admits_up_to_n_and_frees_slots() {
        let mut state = FaultState::new(Faults::none().with_account_concurrency_limit(2), 1);
        assert_eq!(state.admit(), Ok(1));
        assert_eq!(state.admit(), Ok(2));
        assert_eq!(
            state.admit(),
            Err(2),
            "a third is refused and takes no slot"
        );
        state.release();
        assert_eq!(state.admit(), Ok(2));
        let mut unlimited = FaultState::new(Faults::none(), 1);
        assert!((1..=100).all(|n| unlimited.admit() == Ok(n)));
        let err = Faults::none()
            .with_account_concurrency_limit(0)
            .validate()
            .unwrap_err();
        assert!(err.starts_with("account_concurrency_limit"), "{err}");
        let faults: Faults = serde_json::from_str(r#"{"account_concurrency_limit": 8}"#).unwrap();
        assert_eq!(faults.account_concurrency_limit, Some(8));
    }

    #[test]
    fn callback_settings_take_json_with_the_short_reorder_name() {
        let faults: Faults = serde_json::from_str(
            r#"{"callback_duplicate_rate": 0.5, "callback_reorder": 40, "callback_tamper_rate": 0.1}"#,
        )
        .unwrap();
        assert_eq!(faults.callback_duplicate_rate, 0.5);
        assert_eq!(faults.callback_reorder_ms, 40);
        assert_eq!(faults.callback_tamper_rate, 0.1);
        assert_eq!(faults.callback_retries, 3, "missing fields take defaults");
        assert_eq!(faults.callback_retry_backoff_ms, 100);
    }
}
