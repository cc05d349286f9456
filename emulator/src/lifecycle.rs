//! The review lifecycles: a bundle's (customer profile or trust product), an A2P brand registration's and
//! an A2P campaign's.
//!
//! ```text
//! draft --(API: Status=pending-review)--> pending-review
//! pending-review --(latest evaluation compliant)--> in-review
//! pending-review --(latest evaluation noncompliant)--> twilio-rejected   (errors filled)
//! in-review --(control call or auto decision)--> twilio-approved | twilio-rejected
//! ```
//!
//! Only `draft -> pending-review` can be requested through the API. The submission evaluates the bundle
//! against its policy when it has no evaluation yet or when anything that can change the outcome changed
//! since its latest one (assignments, attribute or address edits, deletions, status changes); otherwise the
//! latest evaluation decides. The evaluation step runs within the submitting request: the response shows
//! `pending-review` (as the seed's example does) and the next fetch already shows `in-review` or
//! `twilio-rejected`. Every change is reported to the bundle's `StatusCallback`, in order.
//!
//! ```text
//! brand:    (API: create) --> PENDING --(decision)--> APPROVED | FAILED
//!           FAILED --(API: POST /v1/a2p/BrandRegistrations/{Sid}, at most N times)--> PENDING
//! campaign: (API: create) --> IN_PROGRESS --(decision)--> VERIFIED | FAILED
//!           FAILED --(API: update)--> IN_PROGRESS
//! ```
//!
//! A brand or campaign entering its pending status is decided by the configured decision after its delay
//! ([`EmulatorConfig::brand_decision`](crate::EmulatorConfig::brand_decision),
//! [`EmulatorConfig::campaign_decision`](crate::EmulatorConfig::campaign_decision)), else, when it is a
//! mock, approved after [`MOCK_DECISION_DELAY`]; else it waits for [`decide_brand`] / [`decide_campaign`]
//! (the `Emulator` methods and the control endpoints). A scheduled decision applies only to the round it
//! was scheduled for: a brand decided by hand and resubmitted meanwhile waits for its own.

use std::time::Duration;

use crate::callbacks::CallbackJob;
use crate::catalog;
use crate::config::Decision;
use crate::evaluation::{self, RequirementResult};
use crate::state::{
    find, find_mut, lock, App, BrandStatus, BundleError, BundleStatus, CampaignStatus,
    EvaluationRecord, RegistrationError, State,
};
use crate::wire;

/// Code of the `errors` entry a manual (or automatic) rejection leaves on a bundle: the code of the
/// `errors` example in Twilio's spec for bundles.
pub const MANUAL_REJECTION_CODE: u32 = 18601;

/// Code of the `errors` entry a rejected brand registration carries (`error_code`; the emulator's choice,
/// in Twilio's 307xx range of brand registration errors).
pub const BRAND_REJECTION_CODE: u32 = 30794;

/// Code of the `errors` entry a rejected campaign carries (`error_code`; the code of the rejected
/// campaign in the spec's `readFailed` example).
pub const CAMPAIGN_REJECTION_CODE: u32 = 30897;

/// How long a mock brand or campaign waits before it is approved when no decision is configured.
pub const MOCK_DECISION_DELAY: Duration = Duration::from_millis(50);

/// The `brand_score` of an approved brand.
pub(crate) const APPROVED_BRAND_SCORE: u32 = 75;

/// Why [`Emulator::decide`](crate::Emulator::decide),
/// [`Emulator::decide_brand`](crate::Emulator::decide_brand) or
/// [`Emulator::decide_campaign`](crate::Emulator::decide_campaign) refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DecideError {
    /// No customer profile or trust product has this SID.
    UnknownBundle(String),
    /// The bundle is not `in-review`; carries its current status.
    NotInReview {
        /// The bundle's SID.
        sid: String,
        /// Its current status (e.g. `draft`).
        status: String,
    },
    /// No brand registration has this SID.
    UnknownBrand(String),
    /// The brand registration is not `PENDING`; carries its current status.
    BrandNotPending {
        /// The brand registration's SID.
        sid: String,
        /// Its current status (e.g. `APPROVED`).
        status: String,
    },
    /// No campaign has this SID.
    UnknownCampaign(String),
    /// The campaign is not `IN_PROGRESS`; carries its current status.
    CampaignNotInProgress {
        /// The campaign's SID.
        sid: String,
        /// Its current status (e.g. `VERIFIED`).
        status: String,
    },
}

impl std::fmt::Display for DecideError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DecideError::UnknownBundle(sid) => {
                write!(f, "no customer profile or trust product {sid}")
            }
            DecideError::NotInReview { sid, status } => write!(
                f,
                "bundle {sid} is {status}; only an in-review bundle can be approved or rejected"
            ),
            DecideError::UnknownBrand(sid) => write!(f, "no brand registration {sid}"),
            DecideError::BrandNotPending { sid, status } => write!(
                f,
                "brand registration {sid} is {status}; only a PENDING brand registration can be approved or rejected"
            ),
            DecideError::UnknownCampaign(sid) => write!(f, "no US A2P campaign {sid}"),
            DecideError::CampaignNotInProgress { sid, status } => write!(
                f,
                "campaign {sid} is {status}; only an IN_PROGRESS campaign can be verified or rejected"
            ),
        }
    }
}

impl std::error::Error for DecideError {}

/// Queues the status callback of the bundle's current status, if it has a callback URL.
fn notify(app: &App, state: &State, bundle_sid: &str, failure_reason: Option<&str>) {
    let Some(bundle) = find(&state.bundles, bundle_sid) else {
        return;
    };
    let Some(url) = bundle.status_callback.clone() else {
        return;
    };
    let mut params = vec![
        (String::from("AccountSid"), app.account_sid.clone()),
        (String::from("BundleSid"), bundle.sid.clone()),
        (String::from("Status"), bundle.status.as_str().to_owned()),
    ];
    if let Some(reason) = failure_reason {
        params.push((String::from("FailureReason"), reason.to_owned()));
    }
    // The receiver only goes away when the emulator stops; a lost callback then is expected.
    let _ = app.callbacks.send(CallbackJob { url, params });
}

/// Sets a bundle's status, bumps the version and notifies.
fn set_status(
    app: &App,
    state: &mut State,
    bundle_sid: &str,
    status: BundleStatus,
    errors: Option<Vec<BundleError>>,
    failure_reason: Option<&str>,
) {
    let now = wire::now();
    if let Some(bundle) = find_mut(&mut state.bundles, bundle_sid) {
        bundle.status = status;
        bundle.date_updated = now;
        bundle.errors = errors;
        if status == BundleStatus::TwilioApproved {
            bundle.valid_until = Some(now + time::Duration::days(365));
        }
    }
    state.touch();
    notify(app, state, bundle_sid, failure_reason);
}

/// Runs an evaluation of `bundle_sid` against `policy_sid`, stores it (counted) and returns its SID.
pub(crate) fn run_evaluation(
    state: &mut State,
    bundle_sid: &str,
    policy_sid: &str,
) -> Option<String> {
    let policy = catalog::policy(policy_sid)?;
    let outcome = evaluation::evaluate(state, bundle_sid, policy);
    let (seq, sid) = state.mint("EL");
    let version = state.version;
    state.evaluations.push(EvaluationRecord {
        seq,
        sid: sid.clone(),
        bundle_sid: bundle_sid.to_owned(),
        policy_sid: policy_sid.to_owned(),
        compliant: outcome.compliant,
        results: outcome.results,
        date_created: wire::now(),
        version,
    });
    state.counters.evaluations += 1;
    Some(sid)
}

fn errors_of(results: &[RequirementResult]) -> Vec<BundleError> {
    results
        .iter()
        .filter(|r| !r.passed)
        .map(|r| BundleError {
            code: r.error_code.unwrap_or(evaluation::CODE_FIELD_INVALID),
            message: r.failure_reason.clone().unwrap_or_default(),
            fields: r.invalid.iter().map(|f| f.object_field.clone()).collect(),
        })
        .collect()
}

/// `draft -> pending-review`. The caller checked the bundle is a draft. Returns the state version before
/// the change, for [`review_submission`].
pub(crate) fn begin_submission(app: &App, state: &mut State, bundle_sid: &str) -> u64 {
    // The bundle's own move to pending-review changes nothing an evaluation of it looks at.
    let version_before = state.version;
    set_status(
        app,
        state,
        bundle_sid,
        BundleStatus::PendingReview,
        None,
        None,
    );
    version_before
}

/// `pending-review -> in-review | twilio-rejected`, from the latest evaluation when it is still current
/// (`version_before` is what [`begin_submission`] returned), else from a new one.
pub(crate) fn review_submission(
    app: &App,
    state: &mut State,
    bundle_sid: &str,
    version_before: u64,
) {
    let Some(policy_sid) = find(&state.bundles, bundle_sid).map(|b| b.policy_sid.clone()) else {
        return;
    };
    let fresh = state
        .evaluations
        .iter()
        .rev()
        .find(|e| e.bundle_sid == bundle_sid && e.policy_sid == policy_sid)
        .filter(|e| e.version == version_before)
        .map(|e| e.sid.clone());
    let evaluation_sid = match fresh {
        Some(sid) => Some(sid),
        None => run_evaluation(state, bundle_sid, &policy_sid),
    };
    let Some(record) = evaluation_sid.and_then(|sid| find(&state.evaluations, &sid)) else {
        return;
    };
    if record.compliant {
        set_status(app, state, bundle_sid, BundleStatus::InReview, None, None);
        if let Some((delay, decision)) = app.auto_decision.clone() {
            let app = app.clone();
            let sid = bundle_sid.to_owned();
            app.clone().spawn_task(async move {
                tokio::time::sleep(delay).await;
                if let Err(error) = decide(&app, &sid, &decision) {
                    tracing::debug!(%error, "automatic decision skipped");
                }
            });
        }
    } else {
        let errors = errors_of(&record.results);
        let reason = errors
            .iter()
            .map(|e| e.message.as_str())
            .collect::<Vec<_>>()
            .join(" ");
        set_status(
            app,
            state,
            bundle_sid,
            BundleStatus::TwilioRejected,
            Some(errors),
            Some(&reason),
        );
    }
}

/// `in-review -> twilio-approved | twilio-rejected`.
pub(crate) fn decide(app: &App, bundle_sid: &str, decision: &Decision) -> Result<(), DecideError> {
    let mut state = lock(&app.state);
    let bundle = find(&state.bundles, bundle_sid)
        .ok_or_else(|| DecideError::UnknownBundle(bundle_sid.to_owned()))?;
    if bundle.status != BundleStatus::InReview {
        return Err(DecideError::NotInReview {
            sid: bundle_sid.to_owned(),
            status: bundle.status.as_str().to_owned(),
        });
    }
    match decision {
        Decision::Approve => set_status(
            app,
            &mut state,
            bundle_sid,
            BundleStatus::TwilioApproved,
            None,
            None,
        ),
        Decision::Reject { reason } => set_status(
            app,
            &mut state,
            bundle_sid,
            BundleStatus::TwilioRejected,
            Some(vec![BundleError {
                code: MANUAL_REJECTION_CODE,
                message: reason.clone(),
                fields: Vec::new(),
            }]),
            Some(reason),
        ),
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------------------
// A2P brand registrations and campaigns
// ---------------------------------------------------------------------------------------------------------

/// The Trust Hub attribute a brand feedback value points at (what the customer would correct).
fn feedback_field(feedback: &str) -> Option<&'static str> {
    match feedback {
        "TAX_ID" => Some("business_registration_number"),
        "STOCK_SYMBOL" => Some("stock_ticker"),
        "NONPROFIT" | "GOVERNMENT_ENTITY" => Some("company_type"),
        _ => None,
    }
}

/// The decision to apply to a brand or campaign entering its pending status: the configured one, else
/// approval after [`MOCK_DECISION_DELAY`] for a mock.
fn scheduled(
    configured: &Option<(Duration, Decision)>,
    mock: bool,
) -> Option<(Duration, Decision)> {
    configured
        .clone()
        .or_else(|| mock.then_some((MOCK_DECISION_DELAY, Decision::Approve)))
}

/// Schedules the decision of a brand registration that just entered `PENDING` (see the module docs).
pub(crate) fn schedule_brand_review(app: &App, state: &State, brand_sid: &str) {
    let Some(brand) = find(&state.brands, brand_sid) else {
        return;
    };
    let Some((delay, decision)) = scheduled(&app.brand_decision, brand.mock) else {
        return;
    };
    let round = brand.round;
    let task_app = app.clone();
    let sid = brand_sid.to_owned();
    app.spawn_task(async move {
        tokio::time::sleep(delay).await;
        let mut state = lock(&task_app.state);
        let current = find(&state.brands, &sid)
            .is_some_and(|b| b.round == round && b.status == BrandStatus::Pending);
        if current {
            apply_brand_decision(&mut state, &sid, &decision, &[]);
        } else {
            tracing::debug!(brand = %sid, "automatic brand decision skipped: decided or resubmitted since");
        }
    });
}

/// Sets a `PENDING` brand's outcome.
fn apply_brand_decision(
    state: &mut State,
    brand_sid: &str,
    decision: &Decision,
    feedback: &[String],
) {
    let now = wire::now();
    let Some(brand) = find_mut(&mut state.brands, brand_sid) else {
        return;
    };
    brand.date_updated = now;
    match decision {
        Decision::Approve => {
            brand.status = BrandStatus::Approved;
            brand.tcr_id = Some(brand.registry_id.clone());
            brand.brand_score = Some(APPROVED_BRAND_SCORE);
            brand.identity_status = "VERIFIED";
            brand.failure_reason = None;
            brand.errors = Vec::new();
            brand.feedback = Vec::new();
        }
        Decision::Reject { reason } => {
            let mut fields: Vec<String> = Vec::new();
            for field in feedback.iter().filter_map(|f| feedback_field(f)) {
                if !fields.iter().any(|known| known == field) {
                    fields.push(field.to_owned());
                }
            }
            brand.status = BrandStatus::Failed;
            brand.brand_score = None;
            brand.identity_status = "UNVERIFIED";
            brand.failure_reason = Some(reason.clone());
            brand.errors = vec![RegistrationError::new(
                BRAND_REJECTION_CODE,
                reason.clone(),
                fields,
            )];
            brand.feedback = feedback.to_vec();
        }
    }
}

/// `PENDING -> APPROVED | FAILED`; `feedback` (values of `brand_registrations_enum_brand_feedback`, checked
/// by the caller) goes with a rejection.
pub(crate) fn decide_brand(
    app: &App,
    brand_sid: &str,
    decision: &Decision,
    feedback: &[String],
) -> Result<(), DecideError> {
    let mut state = lock(&app.state);
    let brand = find(&state.brands, brand_sid)
        .ok_or_else(|| DecideError::UnknownBrand(brand_sid.to_owned()))?;
    if brand.status != BrandStatus::Pending {
        return Err(DecideError::BrandNotPending {
            sid: brand_sid.to_owned(),
            status: brand.status.as_str().to_owned(),
        });
    }
    apply_brand_decision(&mut state, brand_sid, decision, feedback);
    Ok(())
}

/// Schedules the decision of a campaign that just entered `IN_PROGRESS` (see the module docs).
pub(crate) fn schedule_campaign_review(app: &App, state: &State, campaign_sid: &str) {
    let Some(campaign) = find(&state.campaigns, campaign_sid) else {
        return;
    };
    let Some((delay, decision)) = scheduled(&app.campaign_decision, campaign.mock) else {
        return;
    };
    let round = campaign.round;
    let task_app = app.clone();
    let sid = campaign_sid.to_owned();
    app.spawn_task(async move {
        tokio::time::sleep(delay).await;
        let mut state = lock(&task_app.state);
        let current = find(&state.campaigns, &sid)
            .is_some_and(|c| c.round == round && c.status == CampaignStatus::InProgress);
        if current {
            apply_campaign_decision(&mut state, &sid, &decision);
        } else {
            tracing::debug!(campaign = %sid, "automatic campaign decision skipped: decided, updated or deleted since");
        }
    });
}

/// Sets an `IN_PROGRESS` campaign's outcome.
fn apply_campaign_decision(state: &mut State, campaign_sid: &str, decision: &Decision) {
    let now = wire::now();
    let Some(campaign) = find_mut(&mut state.campaigns, campaign_sid) else {
        return;
    };
    campaign.date_updated = now;
    match decision {
        Decision::Approve => {
            campaign.status = CampaignStatus::Verified;
            campaign.errors = Vec::new();
        }
        Decision::Reject { reason } => {
            campaign.status = CampaignStatus::Failed;
            campaign.errors = vec![RegistrationError::new(
                CAMPAIGN_REJECTION_CODE,
                reason.clone(),
                Vec::new(),
            )];
        }
    }
}

/// `IN_PROGRESS -> VERIFIED | FAILED`.
pub(crate) fn decide_campaign(
    app: &App,
    campaign_sid: &str,
    decision: &Decision,
) -> Result<(), DecideError> {
    let mut state = lock(&app.state);
    let campaign = find(&state.campaigns, campaign_sid)
        .ok_or_else(|| DecideError::UnknownCampaign(campaign_sid.to_owned()))?;
    if campaign.status != CampaignStatus::InProgress {
        return Err(DecideError::CampaignNotInProgress {
            sid: campaign_sid.to_owned(),
            status: campaign.status.as_str().to_owned(),
        });
    }
    apply_campaign_decision(&mut state, campaign_sid, decision);
    Ok(())
}
