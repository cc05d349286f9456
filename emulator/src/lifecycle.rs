//! The review lifecycle of a bundle (customer profile or trust product).
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

use crate::callbacks::CallbackJob;
use crate::catalog;
use crate::config::Decision;
use crate::evaluation::{self, RequirementResult};
use crate::state::{find, find_mut, lock, App, BundleError, BundleStatus, EvaluationRecord, State};
use crate::wire;

/// Code of the `errors` entry a manual (or automatic) rejection leaves on a bundle: the code of the
/// `errors` example in Twilio's spec for bundles.
pub const MANUAL_REJECTION_CODE: u32 = 18601;

/// Why [`Emulator::decide`](crate::Emulator::decide) refused.
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
