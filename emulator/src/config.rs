//! Emulator configuration: the seeded account, credentials, faults, the automatic review decisions (bundles,
//! A2P brand registrations, A2P campaigns), the brand resubmission limit and the Event Streams sink.

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::callbacks;
use crate::faults::Faults;
use crate::sid;

/// Well-known Account SID of the default configuration.
pub const DEFAULT_ACCOUNT_SID: &str = "AC0123456789abcdef0123456789abcdef";
/// Well-known auth token of the default configuration (a test credential, never a real one).
pub const DEFAULT_AUTH_TOKEN: &str = "fedcba9876543210fedcba9876543210";
/// How many phone numbers the default configuration seeds.
pub const DEFAULT_PHONE_NUMBERS: usize = 3;
/// How many times the default configuration lets a `FAILED` brand registration be resubmitted.
pub const DEFAULT_MAX_BRAND_RESUBMISSIONS: u32 = 3;

/// An API key (`SK...` SID and secret) that authenticates as the configured account.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey {
    /// The key's SID, `SK` + 32 hex digits.
    pub sid: String,
    /// The key's secret.
    pub secret: String,
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiKey")
            .field("sid", &self.sid)
            .field("secret", &"<redacted>")
            .finish()
    }
}

/// A review outcome: Twilio's for a bundle that is `in-review`, The Campaign Registry's for a brand
/// registration that is `PENDING`, the carriers' for a campaign that is `IN_PROGRESS`.
///
/// A rejection can name what is wrong, requirement by requirement ([`Decision::RejectRequirements`], built
/// with [`Decision::with_requirement`]), so that a client can read which end user, document or field to fix:
///
/// ```
/// use trusthub_emulator::{Decision, RequirementRejection};
///
/// let decision = Decision::reject("The Business ID you provided could not be verified")
///     .with_requirement(
///         RequirementRejection::new("customer_profile_business_information")
///             .field("business_registration_number"),
///     );
/// assert_eq!(decision.requirements().len(), 1);
/// assert_eq!(decision.reason(), Some("The Business ID you provided could not be verified"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Bundle `in-review` -> `twilio-approved`; brand `PENDING` -> `APPROVED`; campaign `IN_PROGRESS` ->
    /// `VERIFIED`.
    Approve,
    /// Bundle `in-review` -> `twilio-rejected`, with the reason sent as the callback's `FailureReason` and
    /// kept in the bundle's `errors` (one entry, code [`MANUAL_REJECTION_CODE`](crate::MANUAL_REJECTION_CODE));
    /// brand `PENDING` -> `FAILED` and campaign `IN_PROGRESS` -> `FAILED`, with the reason in their `errors`
    /// (and the brand's `failure_reason`).
    Reject {
        /// Why it was rejected.
        reason: String,
    },
    /// Like [`Decision::Reject`], with one `errors` entry per named requirement instead of one for the
    /// reason: for a bundle, each entry carries the requirement, the fields, the code and the message, and
    /// the SID of the assigned object the requirement is about (see the crate docs, "Rejections per
    /// requirement"); for a brand or a campaign, each entry is a registration error with the fields.
    RejectRequirements {
        /// Why it was rejected (the callback's `FailureReason`, the brand's `failure_reason`).
        reason: String,
        /// What is wrong, one entry per requirement.
        requirements: Vec<RequirementRejection>,
    },
}

impl Decision {
    /// A rejection for `reason` ([`Decision::Reject`]).
    pub fn reject(reason: impl Into<String>) -> Self {
        Decision::Reject {
            reason: reason.into(),
        }
    }

    /// Adds a requirement to a rejection, turning [`Decision::Reject`] into
    /// [`Decision::RejectRequirements`]. Applied to [`Decision::Approve`] it makes a rejection whose reason
    /// is "Rejected by the emulator's review".
    pub fn with_requirement(self, requirement: RequirementRejection) -> Self {
        match self {
            Decision::Approve => Decision::RejectRequirements {
                reason: String::from("Rejected by the emulator's review"),
                requirements: vec![requirement],
            },
            Decision::Reject { reason } => Decision::RejectRequirements {
                reason,
                requirements: vec![requirement],
            },
            Decision::RejectRequirements {
                reason,
                mut requirements,
            } => {
                requirements.push(requirement);
                Decision::RejectRequirements {
                    reason,
                    requirements,
                }
            }
        }
    }

    /// The reason of a rejection (`None` for an approval).
    pub fn reason(&self) -> Option<&str> {
        match self {
            Decision::Approve => None,
            Decision::Reject { reason } | Decision::RejectRequirements { reason, .. } => {
                Some(reason)
            }
        }
    }

    /// The requirements a rejection names (empty for an approval and a plain rejection).
    pub fn requirements(&self) -> &[RequirementRejection] {
        match self {
            Decision::RejectRequirements { requirements, .. } => requirements,
            _ => &[],
        }
    }
}

/// One requirement a rejection names ([`Decision::RejectRequirements`]); also the JSON shape of the items of
/// the control endpoints' `requirements` (`{"requirement": "...", "fields": [...], "code": 18602, "message":
/// "..."}`, only `requirement` required).
///
/// For a bundle, `requirement` is the `requirement_name` of one of its policy's requirements (as
/// `GET /v1/Policies/{Sid}` and the evaluations show them, e.g. `customer_profile_business_information`,
/// `authorized_representative_1`, `customer_profile_address`, `cnam_information`) and `fields` are fields of
/// that requirement; anything else is refused ([`DecideError::InvalidDecision`](crate::DecideError::InvalidDecision)). Brands
/// and campaigns take any requirement name (it is not served) and fields (Trust Hub attribute names).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequirementRejection {
    /// The requirement's `requirement_name`.
    pub requirement: String,
    /// The fields to fix (attribute machine names such as `business_registration_number`).
    #[serde(default)]
    pub fields: Vec<String>,
    /// The error code; when `None`, a bundle gets the code Twilio documents for that part of a customer
    /// profile (18602 business registration, 18603 address, 18604 / 18605 authorized representatives,
    /// else [`MANUAL_REJECTION_CODE`](crate::MANUAL_REJECTION_CODE)), a brand
    /// [`BRAND_REJECTION_CODE`](crate::BRAND_REJECTION_CODE) and a campaign
    /// [`CAMPAIGN_REJECTION_CODE`](crate::CAMPAIGN_REJECTION_CODE).
    #[serde(default)]
    pub code: Option<u32>,
    /// The message; when `None`, the code's description (for Twilio's documented codes) or the
    /// decision's reason.
    #[serde(default)]
    pub message: Option<String>,
}

impl RequirementRejection {
    /// A requirement with no fields, the default code and message.
    pub fn new(requirement: impl Into<String>) -> Self {
        RequirementRejection {
            requirement: requirement.into(),
            fields: Vec::new(),
            code: None,
            message: None,
        }
    }

    /// Adds a field to fix.
    pub fn field(mut self, field: impl Into<String>) -> Self {
        self.fields.push(field.into());
        self
    }

    /// Sets the error code.
    pub fn code(mut self, code: u32) -> Self {
        self.code = Some(code);
        self
    }

    /// Sets the message.
    pub fn message(mut self, message: impl Into<String>) -> Self {
        self.message = Some(message.into());
        self
    }
}

/// How to start an emulator. `Default` gives the well-known test credentials ([`DEFAULT_ACCOUNT_SID`],
/// [`DEFAULT_AUTH_TOKEN`]), no API key, seed 0, a free port, three phone numbers, no faults, no automatic
/// decision (bundles, brands or campaigns; mock brands and campaigns are still approved after 50 ms),
/// [`DEFAULT_MAX_BRAND_RESUBMISSIONS`] brand resubmissions and no Event Streams sink.
///
/// ```
/// use std::time::Duration;
/// use trusthub_emulator::{Decision, EmulatorConfig, Faults};
///
/// let config = EmulatorConfig::default()
///     .with_seed(42)
///     .with_api_key("SK0123456789abcdef0123456789abcdef", "key-secret")
///     .with_faults(Faults::none().with_rate_429(0.1, 0))
///     .with_auto_decision(Duration::from_millis(50), Decision::Approve)
///     .with_brand_decision(Duration::from_millis(50), Decision::Approve)
///     .with_campaign_decision(
///         Duration::from_millis(80),
///         Decision::Reject { reason: String::from("Opt-in flow unclear") },
///     )
///     .with_max_brand_resubmissions(1)
///     .with_review_decisions(
///         Duration::from_millis(20),
///         vec![Decision::reject("Blurry documents"), Decision::Approve],
///     )
///     .with_event_sink("http://127.0.0.1:9/events");
/// assert_eq!(config.seed, 42);
/// assert_eq!(config.max_brand_resubmissions, 1);
/// assert!(config.validate().is_ok());
/// ```
#[derive(Clone)]
pub struct EmulatorConfig {
    /// Port to bind on 127.0.0.1; 0 picks a free one.
    pub port: u16,
    /// Seed of every generated SID and of the fault draws.
    pub seed: u64,
    /// The account's SID (`AC` + 32 hex digits).
    pub account_sid: String,
    /// The account's auth token (Basic auth password; also the key of callback signatures).
    pub auth_token: String,
    /// An optional API key acting on the account.
    pub api_key: Option<ApiKey>,
    /// How many `IncomingPhoneNumbers` to seed.
    pub phone_numbers: usize,
    /// Faults from the start.
    pub faults: Faults,
    /// When set, every bundle entering `in-review` is decided this way after this delay.
    pub auto_decision: Option<(Duration, Decision)>,
    /// When set, every A2P brand registration entering `PENDING` (created or resubmitted) is decided this
    /// way after this delay. When unset, mock brands (`Mock=true`) are approved after 50 ms and the others
    /// wait for [`Emulator::decide_brand`](crate::Emulator::decide_brand) or the control endpoint.
    pub brand_decision: Option<(Duration, Decision)>,
    /// When set, every A2P campaign entering `IN_PROGRESS` (created, or updated after `FAILED`) is decided
    /// this way after this delay. When unset, mock campaigns (those of mock brands) are verified after
    /// 50 ms and the others wait for [`Emulator::decide_campaign`](crate::Emulator::decide_campaign) or the
    /// control endpoint.
    pub campaign_decision: Option<(Duration, Decision)>,
    /// How many times one brand registration may be resubmitted (`POST /v1/a2p/BrandRegistrations/{Sid}`
    /// after `FAILED`); the next resubmission is refused with 400.
    pub max_brand_resubmissions: u32,
    /// When set, a bundle's n-th review (its n-th entry into `in-review`, counting from 0: the first
    /// submission, then each resubmission) is decided by the n-th decision after this delay; reviews beyond
    /// the list fall back to [`EmulatorConfig::auto_decision`], if set. A script such as "reject, then
    /// approve" exercises the fix-and-resubmit path without calling [`Emulator::decide`](crate::Emulator::decide).
    pub review_decisions: Option<(Duration, Vec<Decision>)>,
    /// The Event Streams webhook sink: A2P brand and campaign decisions are POSTed there as CloudEvents
    /// (see the crate docs, "Event Streams"). Loopback hosts only (`localhost`, 127.0.0.0/8, `::1`).
    pub event_sink: Option<String>,
}

impl Default for EmulatorConfig {
    fn default() -> Self {
        EmulatorConfig {
            port: 0,
            seed: 0,
            account_sid: DEFAULT_ACCOUNT_SID.to_owned(),
            auth_token: DEFAULT_AUTH_TOKEN.to_owned(),
            api_key: None,
            phone_numbers: DEFAULT_PHONE_NUMBERS,
            faults: Faults::default(),
            auto_decision: None,
            brand_decision: None,
            campaign_decision: None,
            max_brand_resubmissions: DEFAULT_MAX_BRAND_RESUBMISSIONS,
            review_decisions: None,
            event_sink: None,
        }
    }
}

impl fmt::Debug for EmulatorConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EmulatorConfig")
            .field("port", &self.port)
            .field("seed", &self.seed)
            .field("account_sid", &self.account_sid)
            .field("auth_token", &"<redacted>")
            .field("api_key", &self.api_key)
            .field("phone_numbers", &self.phone_numbers)
            .field("faults", &self.faults)
            .field("auto_decision", &self.auto_decision)
            .field("brand_decision", &self.brand_decision)
            .field("campaign_decision", &self.campaign_decision)
            .field("max_brand_resubmissions", &self.max_brand_resubmissions)
            .field("review_decisions", &self.review_decisions)
            .field(
                "event_sink",
                &self.event_sink.as_deref().map(callbacks::redacted_url),
            )
            .finish()
    }
}

impl EmulatorConfig {
    /// Sets the port (0 = a free port).
    pub fn with_port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// Sets the seed.
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Sets the account SID and auth token.
    pub fn with_credentials(
        mut self,
        account_sid: impl Into<String>,
        auth_token: impl Into<String>,
    ) -> Self {
        self.account_sid = account_sid.into();
        self.auth_token = auth_token.into();
        self
    }

    /// Adds an API key (`SK...`) acting on the account.
    pub fn with_api_key(mut self, sid: impl Into<String>, secret: impl Into<String>) -> Self {
        self.api_key = Some(ApiKey {
            sid: sid.into(),
            secret: secret.into(),
        });
        self
    }

    /// Sets how many phone numbers are seeded.
    pub fn with_phone_numbers(mut self, count: usize) -> Self {
        self.phone_numbers = count;
        self
    }

    /// Sets the faults active from the start.
    pub fn with_faults(mut self, faults: Faults) -> Self {
        self.faults = faults;
        self
    }

    /// Sets Twilio's per-account concurrency limit: at most `max_in_flight` API requests of the account
    /// in flight, the next one answered 429 with code 20429 before any handling
    /// ([`Faults::account_concurrency_limit`]). It is part of the faults: set it after
    /// [`EmulatorConfig::with_faults`] (which replaces them all), or on the [`Faults`] given to it; at run
    /// time through [`Emulator::set_faults`](crate::Emulator::set_faults) or `POST /__emulator/faults`.
    ///
    /// ```
    /// use std::time::Duration;
    /// use trusthub_emulator::{EmulatorConfig, Faults};
    ///
    /// let config = EmulatorConfig::default()
    ///     .with_faults(Faults::none().with_latency(Duration::from_millis(50)))
    ///     .with_account_concurrency_limit(8);
    /// assert_eq!(config.faults.account_concurrency_limit, Some(8));
    /// assert_eq!(config.faults.latency_ms, 50);
    /// assert!(EmulatorConfig::default().with_account_concurrency_limit(0).validate().is_err());
    /// ```
    pub fn with_account_concurrency_limit(mut self, max_in_flight: u32) -> Self {
        self.faults.account_concurrency_limit = Some(max_in_flight);
        self
    }

    /// Decides every bundle entering `in-review` after `delay`.
    pub fn with_auto_decision(mut self, delay: Duration, decision: Decision) -> Self {
        self.auto_decision = Some((delay, decision));
        self
    }

    /// Decides every A2P brand registration entering `PENDING` (created or resubmitted) after `delay`.
    pub fn with_brand_decision(mut self, delay: Duration, decision: Decision) -> Self {
        self.brand_decision = Some((delay, decision));
        self
    }

    /// Decides every A2P campaign entering `IN_PROGRESS` after `delay`.
    pub fn with_campaign_decision(mut self, delay: Duration, decision: Decision) -> Self {
        self.campaign_decision = Some((delay, decision));
        self
    }

    /// Sets how many times one brand registration may be resubmitted.
    pub fn with_max_brand_resubmissions(mut self, max: u32) -> Self {
        self.max_brand_resubmissions = max;
        self
    }

    /// Decides each bundle's n-th review by the n-th of `decisions` after `delay` (see
    /// [`EmulatorConfig::review_decisions`]).
    pub fn with_review_decisions(mut self, delay: Duration, decisions: Vec<Decision>) -> Self {
        self.review_decisions = Some((delay, decisions));
        self
    }

    /// Sets the Event Streams webhook sink (a loopback URL).
    pub fn with_event_sink(mut self, url: impl Into<String>) -> Self {
        self.event_sink = Some(url.into());
        self
    }

    /// Checks the credentials' shapes, the fault rates and the event sink (an http(s) URL on a loopback
    /// host). The message names the field and the expected form without echoing secrets.
    pub fn validate(&self) -> Result<(), String> {
        if !sid::has_prefix_shape(&self.account_sid, "AC") {
            return Err(format!(
                "account_sid must match ^AC[0-9a-fA-F]{{32}}$, got {}",
                sid::describe(&self.account_sid)
            ));
        }
        if self.auth_token.is_empty() {
            return Err(String::from("auth_token must not be empty"));
        }
        if let Some(key) = &self.api_key {
            if !sid::has_prefix_shape(&key.sid, "SK") {
                return Err(format!(
                    "api_key.sid must match ^SK[0-9a-fA-F]{{32}}$, got {}",
                    sid::describe(&key.sid)
                ));
            }
            if key.secret.is_empty() {
                return Err(String::from("api_key.secret must not be empty"));
            }
        }
        if let Some(url) = &self.event_sink {
            callbacks::check_sink(url).map_err(|why| format!("event_sink {why}"))?;
        }
        self.faults.validate()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_debug_hides_secrets() {
        let config = EmulatorConfig::default()
            .with_api_key("SK0123456789abcdef0123456789abcdef", "very-secret-value");
        assert!(config.validate().is_ok());
        let debug = format!("{config:?}");
        assert!(!debug.contains(DEFAULT_AUTH_TOKEN));
        assert!(!debug.contains("very-secret-value"));
        assert!(debug.contains(DEFAULT_ACCOUNT_SID));
    }

    #[test]
    fn bad_credentials_are_named() {
        let err = EmulatorConfig::default()
            .with_credentials("ACshort", "t")
            .validate()
            .unwrap_err();
        assert!(err.starts_with("account_sid"));
        let err = EmulatorConfig::default()
            .with_api_key("XX0123456789abcdef0123456789abcdef", "s")
            .validate()
            .unwrap_err();
        assert!(err.starts_with("api_key.sid"));
    }

    #[test]
    fn the_event_sink_is_loopback_only_and_its_query_stays_out_of_debug() {
        let config =
            EmulatorConfig::default().with_event_sink("http://127.0.0.1:8080/sink?token=s3cr3t");
        assert!(config.validate().is_ok());
        assert!(!format!("{config:?}").contains("s3cr3t"));
        let err = EmulatorConfig::default()
            .with_event_sink("https://events.example.com/sink")
            .validate()
            .unwrap_err();
        assert!(err.starts_with("event_sink"), "{err}");
        let err = EmulatorConfig::default()
            .with_event_sink("ftp://127.0.0.1/sink")
            .validate()
            .unwrap_err();
        assert!(err.starts_with("event_sink"), "{err}");
    }

    #[test]
    fn requirements_turn_a_rejection_into_one_per_requirement() {
        let decision =
            Decision::Approve.with_requirement(RequirementRejection::new("cnam_information"));
        assert_eq!(decision.reason(), Some("Rejected by the emulator's review"));
        let decision = Decision::reject("no")
            .with_requirement(
                RequirementRejection::new("a")
                    .field("x")
                    .code(1)
                    .message("m"),
            )
            .with_requirement(RequirementRejection::new("b"));
        assert_eq!(decision.requirements().len(), 2);
        assert_eq!(decision.requirements()[0].fields, ["x"]);
        assert!(Decision::Approve.requirements().is_empty());
        let parsed: RequirementRejection =
            serde_json::from_str(r#"{"requirement":"a","fields":["x"]}"#).unwrap();
        assert_eq!(parsed, RequirementRejection::new("a").field("x"));
    }
}
