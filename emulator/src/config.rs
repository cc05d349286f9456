//! Emulator configuration: the seeded account, credentials, faults, the automatic review decisions (bundles,
//! A2P brand registrations, A2P campaigns) and the brand resubmission limit.

use std::fmt;
use std::time::Duration;

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
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Bundle `in-review` -> `twilio-approved`; brand `PENDING` -> `APPROVED`; campaign `IN_PROGRESS` ->
    /// `VERIFIED`.
    Approve,
    /// Bundle `in-review` -> `twilio-rejected`, with the reason sent as the callback's `FailureReason` and
    /// kept in the bundle's `errors`; brand `PENDING` -> `FAILED` and campaign `IN_PROGRESS` -> `FAILED`,
    /// with the reason in their `errors` (and the brand's `failure_reason`).
    Reject {
        /// Why it was rejected.
        reason: String,
    },
}

/// How to start an emulator. `Default` gives the well-known test credentials ([`DEFAULT_ACCOUNT_SID`],
/// [`DEFAULT_AUTH_TOKEN`]), no API key, seed 0, a free port, three phone numbers, no faults, no automatic
/// decision (bundles, brands or campaigns; mock brands and campaigns are still approved after 50 ms) and
/// [`DEFAULT_MAX_BRAND_RESUBMISSIONS`] brand resubmissions.
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
///     .with_max_brand_resubmissions(1);
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

    /// Checks the credentials' shapes and the fault rates. The message names the field and the expected
    /// form without echoing secrets.
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
}
