//! The journey as a handle bound to its client, and what a run of it reports.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use trusthub_generated::messaging_v1::{
    BrandRegistration, BrandRegistrationsBrandFeedback, BrandRegistrationsStatus,
    RegistrationError, UsAppToPerson, UsAppToPersonCampaignStatus,
};
use trusthub_generated::runtime::text::printable;
use trusthub_generated::runtime::StringEnum;

use super::run::{progress, resubmit_brand, Ended, JourneySteps, Waits};
use super::Journey;
use crate::attributes::Warning;
use crate::evaluation::Evaluation;
use crate::flow::engine::Engine;
use crate::flow::run::new_flow_id;
use crate::flow::{FlowError, FlowOptions, Journal, JournalStore, NoStore, StepRecord};
use crate::sid::{BrandRegistrationSid, MessagingServiceSid, TrustProductSid, UsAppToPersonSid};
use crate::Client;

/// One customer's A2P 10DLC journey bound to its client (see [`super`]).
///
/// The brand's and the campaign's reviews take minutes to weeks: a run follows each for at
/// most [`wait_for_brand`](Self::wait_for_brand) / [`wait_for_campaign`](Self::wait_for_campaign)
/// (default: one look) and then returns its [`Stage`]; the journal holds the brand or campaign,
/// and running the journey again from it later ([`resuming`](Self::resuming)) goes on from
/// there, creating nothing twice.
#[must_use = "a journey does nothing until `.run().await`"]
pub struct A2pFlow<'a> {
    client: &'a Client,
    input: &'a Journey,
    store: Arc<dyn JournalStore>,
    resume: Option<Journal>,
    options: FlowOptions,
    waits: Waits,
}

impl fmt::Debug for A2pFlow<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("A2pFlow")
            .field("input", &self.input)
            .field("resume", &self.resume.as_ref().map(|j| j.flow_id.as_str()))
            .field("options", &self.options)
            .field("waits", &self.waits)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// The A2P 10DLC journey of `input`, bound to this client; see [`A2pFlow`].
    pub fn a2p_journey<'a>(&'a self, input: &'a Journey) -> A2pFlow<'a> {
        A2pFlow {
            client: self,
            input,
            store: Arc::new(NoStore),
            resume: None,
            options: FlowOptions::default(),
            waits: Waits {
                brand: Duration::ZERO,
                campaign: Duration::ZERO,
                poll: Duration::from_secs(5),
            },
        }
    }
}

impl A2pFlow<'_> {
    /// Where the journal goes (before every create and after every step).
    pub fn journal(mut self, store: impl JournalStore + 'static) -> Self {
        self.store = Arc::new(store);
        self
    }

    /// Goes on from `journal` (a journey's, or a finished profile flow's) instead of starting
    /// a new one.
    pub fn resuming(mut self, journal: Journal) -> Self {
        self.resume = Some(journal);
        self
    }

    /// How the journey runs: the in-flight cap, the observer, a shared preflight.
    pub fn options(mut self, options: FlowOptions) -> Self {
        self.options = options;
        self
    }

    /// Follow the brand's vetting for up to `wait` before returning [`Stage::BrandPending`].
    pub fn wait_for_brand(mut self, wait: Duration) -> Self {
        self.waits.brand = wait;
        self
    }

    /// Follow the campaign's review for up to `wait` before returning
    /// [`Stage::CampaignPending`].
    pub fn wait_for_campaign(mut self, wait: Duration) -> Self {
        self.waits.campaign = wait;
        self
    }

    /// How often a review is looked at while waiting (default 5 s).
    pub fn poll(mut self, every: Duration) -> Self {
        self.waits.poll = every;
        self
    }

    /// Runs the journey (or what the journal to resume leaves of it).
    pub async fn run(self) -> Result<JourneyReport, FlowError> {
        let key = self.store.digest_key();
        let journal = match self.resume {
            Some(journal) => self.input.reconcile_journal(journal, key)?,
            None => Journal::new(new_flow_id(), key.id(), self.input.input_digests(key)),
        };
        let input = self.input;
        let engine = Engine::new(
            self.client,
            journal,
            self.store.as_ref(),
            &self.options,
            input.warnings.clone(),
        );
        engine.update(|j| {
            progress(j);
        });
        let produced = Box::pin(JourneySteps::new(&engine, input).run(self.waits)).await?;
        let (journal, steps, warnings, elapsed) = engine.into_parts();
        let stage = Stage::from_ended(produced.ended);
        Ok(JourneyReport {
            journal,
            stage,
            profile_evaluation: produced.profile_evaluation,
            trust_product_evaluation: produced.trust_product_evaluation,
            steps,
            warnings,
            elapsed,
            client: self.client.clone(),
            store: self.store,
            options: self.options,
        })
    }
}

/// Why The Campaign Registry failed a brand, as Twilio reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct BrandFailure {
    /// Twilio's reason (deprecated upstream in favour of `errors`; kept when sent).
    pub failure_reason: Option<String>,
    /// Each problem: a code, a description, the fields at fault.
    pub errors: Vec<RegistrationError>,
    /// What to improve (`TAX_ID`, `STOCK_SYMBOL`...).
    pub feedback: Vec<BrandRegistrationsBrandFeedback>,
}

impl fmt::Display for BrandFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts: Vec<String> = Vec::new();
        if let Some(reason) = &self.failure_reason {
            parts.push(printable(reason).into_owned());
        }
        for e in &self.errors {
            let mut line = String::new();
            if let Some(code) = e.error_code {
                line.push_str(&format!("[{code}] "));
            }
            line.push_str(&printable(
                e.description.as_deref().unwrap_or("no description"),
            ));
            if let Some(fields) = e.fields.as_ref().filter(|f| !f.is_empty()) {
                line.push_str(&format!(" (fields: {})", printable(&fields.join(", "))));
            }
            parts.push(line);
        }
        if !self.feedback.is_empty() {
            let feedback: Vec<&str> = self.feedback.iter().map(|f| f.as_str()).collect();
            parts.push(format!("feedback: {}", printable(&feedback.join(", "))));
        }
        if parts.is_empty() {
            f.write_str("no reason given")
        } else {
            f.write_str(&parts.join("; "))
        }
    }
}

/// Where a run of the journey stopped.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Stage {
    /// The brand is registered and under vetting: run the journey again later.
    BrandPending {
        /// The brand.
        brand: BrandRegistrationSid,
        /// Its status (`PENDING`, `IN_REVIEW`).
        status: BrandRegistrationsStatus,
    },
    /// TCR failed the brand: fix what the reasons say, then
    /// [`JourneyReport::resubmit_brand`] and run the journey again.
    BrandFailed {
        /// The brand.
        brand: BrandRegistrationSid,
        /// Why.
        failure: BrandFailure,
    },
    /// The brand is approved and the campaign created, under review: run again later.
    CampaignPending {
        /// The brand.
        brand: BrandRegistrationSid,
        /// The campaign.
        campaign: UsAppToPersonSid,
        /// Its status (`IN_PROGRESS`).
        status: UsAppToPersonCampaignStatus,
    },
    /// The campaign's review failed.
    CampaignFailed {
        /// The brand.
        brand: BrandRegistrationSid,
        /// The campaign.
        campaign: UsAppToPersonSid,
        /// Why: each problem with its code and fields.
        errors: Vec<RegistrationError>,
    },
    /// Brand approved, campaign verified, numbers on the service: the customer can send.
    Registered {
        /// The brand.
        brand: BrandRegistrationSid,
        /// The campaign.
        campaign: UsAppToPersonSid,
    },
}

impl Stage {
    fn from_ended(ended: Ended) -> Stage {
        match ended {
            Ended::Brand(b) => brand_stage(b),
            Ended::Campaign(brand, c) => campaign_stage(brand, c),
        }
    }

    /// Whether the journey is done (the campaign verified).
    pub fn is_registered(&self) -> bool {
        matches!(self, Stage::Registered { .. })
    }
}

fn brand_stage(b: BrandRegistration) -> Stage {
    let brand = b.sid.expect("a brand fetched by its SID has one");
    match b.status {
        Some(BrandRegistrationsStatus::Failed) => Stage::BrandFailed {
            brand,
            failure: BrandFailure {
                failure_reason: b.failure_reason.filter(|r| !r.is_empty()),
                errors: b.errors.unwrap_or_default(),
                feedback: b.brand_feedback.unwrap_or_default(),
            },
        },
        status => Stage::BrandPending {
            brand,
            status: status.unwrap_or_else(|| BrandRegistrationsStatus::from_wire("")),
        },
    }
}

fn campaign_stage(brand: BrandRegistrationSid, c: UsAppToPerson) -> Stage {
    let campaign = c.sid.expect("a campaign fetched by its SID has one");
    match c.campaign_status {
        Some(UsAppToPersonCampaignStatus::Verified) => Stage::Registered { brand, campaign },
        Some(UsAppToPersonCampaignStatus::Failed) => Stage::CampaignFailed {
            brand,
            campaign,
            errors: c.errors.unwrap_or_default(),
        },
        status => Stage::CampaignPending {
            brand,
            campaign,
            status: status.unwrap_or_else(|| UsAppToPersonCampaignStatus::from_wire("")),
        },
    }
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Stage::BrandPending { brand, status } => {
                write!(f, "waiting for brand {brand} ({status})")
            }
            Stage::BrandFailed { brand, failure } => write!(f, "brand {brand} failed: {failure}"),
            Stage::CampaignPending {
                campaign, status, ..
            } => write!(f, "waiting for campaign {campaign} ({status})"),
            Stage::CampaignFailed {
                campaign, errors, ..
            } => {
                let failure = BrandFailure {
                    failure_reason: None,
                    errors: errors.clone(),
                    feedback: Vec::new(),
                };
                write!(f, "campaign {campaign} failed: {failure}")
            }
            Stage::Registered { brand, campaign } => {
                write!(
                    f,
                    "registered: brand {brand} approved, campaign {campaign} verified"
                )
            }
        }
    }
}

/// What a run of the journey produced.
pub struct JourneyReport {
    /// Every SID, as journaled (the profile's and the journey's, in [`Journal::a2p`]).
    pub journal: Journal,
    /// Where the run stopped.
    pub stage: Stage,
    /// The new profile's evaluation (none for an existing profile).
    pub profile_evaluation: Option<Evaluation>,
    /// The A2P trust product's evaluation.
    pub trust_product_evaluation: Evaluation,
    /// Every step, in the order they finished.
    pub steps: Vec<StepRecord>,
    /// Validation warnings.
    pub warnings: Vec<Warning>,
    /// Wall time of the run.
    pub elapsed: Duration,
    client: Client,
    store: Arc<dyn JournalStore>,
    /// The run's options: a resubmission goes through the same limiter.
    options: FlowOptions,
}

impl fmt::Debug for JourneyReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JourneyReport")
            .field("journal", &self.journal)
            .field("stage", &self.stage)
            .field("steps", &self.steps)
            .field("elapsed", &self.elapsed)
            .finish_non_exhaustive()
    }
}

impl JourneyReport {
    fn a2p<T>(&self, f: impl FnOnce(&crate::flow::A2pProgress) -> Option<T>) -> Option<T> {
        self.journal.a2p.as_ref().and_then(f)
    }

    /// The A2P trust product.
    pub fn trust_product(&self) -> Option<TrustProductSid> {
        self.a2p(|a| a.trust_product.sid)
    }

    /// The brand registration.
    pub fn brand(&self) -> Option<BrandRegistrationSid> {
        self.a2p(|a| a.brand)
    }

    /// The Messaging Service.
    pub fn messaging_service(&self) -> Option<MessagingServiceSid> {
        self.a2p(|a| a.messaging_service)
    }

    /// The campaign.
    pub fn campaign(&self) -> Option<UsAppToPersonSid> {
        self.a2p(|a| a.campaign)
    }

    /// Resubmits the FAILED brand (after fixing what its reasons say), once: the intent is
    /// journaled first and a lost answer is settled by the brand's status. Returns the status
    /// Twilio answered (usually `PENDING`); run the journey again to follow it. Twilio caps
    /// resubmissions; each is a fee.
    pub async fn resubmit_brand(&mut self) -> Result<BrandRegistrationsStatus, FlowError> {
        let brand = self
            .brand()
            .ok_or(FlowError::NotCompliant { bundle: None })?;
        let engine = Engine::new(
            &self.client,
            self.journal.clone(),
            self.store.as_ref(),
            &self.options,
            Vec::new(),
        );
        let answer = resubmit_brand(&engine, brand).await;
        self.journal = engine.into_parts().0;
        let answer = answer?;
        self.stage = brand_stage(answer.clone());
        Ok(answer
            .status
            .unwrap_or_else(|| BrandRegistrationsStatus::from_wire("")))
    }
}
