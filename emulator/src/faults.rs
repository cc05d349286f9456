//! Injected faults: latency, 429 with `Retry-After`, 500, 503, and commit-then-drop (a POST is handled and
//! its state committed, then the connection is closed without any response).
//!
//! Faults never apply to the control endpoints under `/__emulator/`. Each API request draws one number from
//! a generator seeded from the configured seed, so a seed and a sequence of requests always fault the same
//! way. The rates are cumulative bands of `[0, 1)`: 429, then 500, then 503, then commit-then-drop (which
//! only applies to POST; a non-POST request drawing that band is served normally).

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Fault settings, set at start ([`EmulatorConfig::with_faults`](crate::EmulatorConfig::with_faults)), with
/// [`Emulator::set_faults`](crate::Emulator::set_faults) or by `POST /__emulator/faults` with this JSON shape
/// (missing fields take their defaults).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Faults {
    /// Fixed delay before every API request is handled, in milliseconds.
    pub latency_ms: u64,
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
}

impl Default for Faults {
    fn default() -> Self {
        Faults {
            latency_ms: 0,
            rate_429: 0.0,
            retry_after_secs: 1,
            rate_500: 0.0,
            rate_503: 0.0,
            rate_commit_then_drop: 0.0,
        }
    }
}

impl Faults {
    /// No faults at all (the default).
    pub fn none() -> Self {
        Faults::default()
    }

    /// Sets the fixed per-request latency.
    pub fn with_latency(mut self, latency: Duration) -> Self {
        self.latency_ms = u64::try_from(latency.as_millis()).unwrap_or(u64::MAX);
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

    /// Checks every rate is within `[0, 1]` and that they add up to at most 1.
    pub fn validate(&self) -> Result<(), String> {
        let rates = [
            ("rate_429", self.rate_429),
            ("rate_500", self.rate_500),
            ("rate_503", self.rate_503),
            ("rate_commit_then_drop", self.rate_commit_then_drop),
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
        Ok(())
    }
}

/// What one request suffers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Fault {
    None,
    TooManyRequests { retry_after_secs: u64 },
    InternalError,
    Unavailable,
    CommitThenDrop,
}

/// The fault settings and their generator.
pub(crate) struct FaultState {
    pub faults: Faults,
    rng: fastrand::Rng,
}

/// Mixed into the seed so the fault generator is independent of the SID generator.
const FAULT_SEED_SALT: u64 = 0x5eed_fa17_0000_0001;

impl FaultState {
    pub fn new(faults: Faults, seed: u64) -> Self {
        FaultState {
            faults,
            rng: fastrand::Rng::with_seed(seed ^ FAULT_SEED_SALT),
        }
    }

    /// Draws the fault of one API request (one draw per request, whatever the rates).
    pub fn draw(&mut self, is_post: bool) -> Fault {
        let x = self.rng.f64();
        let f = &self.faults;
        let mut band = f.rate_429;
        if x < band {
            return Fault::TooManyRequests {
                retry_after_secs: f.retry_after_secs,
            };
        }
        band += f.rate_500;
        if x < band {
            return Fault::InternalError;
        }
        band += f.rate_503;
        if x < band {
            return Fault::Unavailable;
        }
        band += f.rate_commit_then_drop;
        if x < band && is_post {
            return Fault::CommitThenDrop;
        }
        Fault::None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bands_are_cumulative_and_drop_is_post_only() {
        let mut all_429 = FaultState::new(Faults::none().with_rate_429(1.0, 0), 1);
        assert_eq!(
            all_429.draw(false),
            Fault::TooManyRequests {
                retry_after_secs: 0
            }
        );
        let mut drops = FaultState::new(Faults::none().with_rate_commit_then_drop(1.0), 1);
        assert_eq!(drops.draw(true), Fault::CommitThenDrop);
        assert_eq!(drops.draw(false), Fault::None);
        let mut none = FaultState::new(Faults::none(), 1);
        assert!((0..100).all(|_| none.draw(true) == Fault::None));
    }

    #[test]
    fn draws_repeat_under_a_seed() {
        let faults = Faults::none().with_rate_500(0.3).with_rate_503(0.3);
        let mut a = FaultState::new(faults.clone(), 9);
        let mut b = FaultState::new(faults, 9);
        let xs: Vec<Fault> = (0..50).map(|_| a.draw(true)).collect();
        let ys: Vec<Fault> = (0..50).map(|_| b.draw(true)).collect();
        assert_eq!(xs, ys);
        assert!(xs.contains(&Fault::InternalError));
        assert!(xs.contains(&Fault::Unavailable));
        assert!(xs.contains(&Fault::None));
    }

    #[test]
    fn validation_names_the_bad_rate() {
        assert!(Faults::none().validate().is_ok());
        let err = Faults::none().with_rate_500(1.5).validate().unwrap_err();
        assert!(err.contains("rate_500"));
        let err = Faults::none()
            .with_rate_500(0.6)
            .with_rate_503(0.6)
            .validate()
            .unwrap_err();
        assert!(err.contains("add up"));
    }
}
