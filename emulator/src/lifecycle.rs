//! The review lifecycles: a bundle's (customer profile or trust product), an A2P brand registration's and
//! an A2P campaign's.
//!
//! ```text
//! draft | twilio-rejected --(API: Status=pending-review)--> pending-review
//! pending-review --(latest evaluation compliant)--> in-review
//! pending-review --(latest evaluation noncompliant)--> twilio-rejected   (errors filled)
//! pending-review --(resubmitted with nothing a review named changed)--> twilio-rejected (same errors)
//! in-review --(control call, scripted or auto decision)--> twilio-approved | twilio-rejected
//! ```
//!
//! Only `draft -> pending-review` and `twilio-rejected -> pending-review` (a resubmission) can be requested
//! through the API. The submission evaluates the bundle against its policy when it has no evaluation yet or
//! when anything that can change the outcome changed since its latest one (assignments, attribute or
//! address edits, deletions, status changes); otherwise the latest evaluation decides. The evaluation step
//! runs within the submitting request: the response shows `pending-review` (as the seed's example does) and
//! the next fetch already shows `in-review` or `twilio-rejected`. A review's rejection per requirement is
//! remembered with the objects it is about (the end user, the document and its addresses); a resubmission
//! in which none of them was updated or unassigned since is rejected again at once with the same errors.
//! Every change is reported to the bundle's `StatusCallback`.
//!
//! ```text
//! brand:    (API: create) --> PENDING --(decision)--> APPROVED | FAILED
//!           FAILED --(API: POST /v1/a2p/BrandRegistrations/{Sid}, at most N times)--> PENDING
//! campaign: (API: create) --> IN_PROGRESS --(decision)--> VERIFIED | FAILED
//!           FAILED --(API: update)--> IN_PROGRESS
//! ```
//!
//! A bundle entering `in-review` for the n-th time (from 0) is decided by the n-th of
//! [`EmulatorConfig::review_decisions`](crate::EmulatorConfig::review_decisions), else by
//! [`EmulatorConfig::auto_decision`](crate::EmulatorConfig::auto_decision), after its delay, if it is still in
//! that review then. Brand and campaign decisions are also sent to the Event Streams sink, if one is
//! configured (see [`crate::callbacks`]).
//!
//! A brand or campaign entering its pending status is decided by the configured decision after its delay
//! ([`EmulatorConfig::brand_decision`](crate::EmulatorConfig::brand_decision),
//! [`EmulatorConfig::campaign_decision`](crate::EmulatorConfig::campaign_decision)), else, when it is a
//! mock, approved after [`MOCK_DECISION_DELAY`]; else it waits for [`decide_brand`] / [`decide_campaign`]
//! (the `Emulator` methods and the control endpoints). A scheduled decision applies only to the round it
//! was scheduled for: a brand decided by hand and resubmitted meanwhile waits for its own.

use std::time::Duration;

use serde_json::{json, Map, Value};
use time::OffsetDateTime;

use crate::callbacks::Delivery;
use crate::catalog::{self, Policy};
use crate::config::{Decision, RequirementRejection};
use crate::evaluation::{self, RequirementResult};
use crate::state::{
    find, find_mut, lock, App, BrandStatus, BundleError, BundleStatus, CampaignStatus,
    EvaluationRecord, RegistrationError, ReviewRejection, State,
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
    /// A rejection names a requirement the bundle's policy does not have, or a field that requirement
    /// does not have.
    InvalidDecision {
        /// The bundle's SID.
        sid: String,
        /// What is wrong, naming the valid requirements or fields.
        why: String,
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
            DecideError::InvalidDecision { sid, why } => {
                write!(f, "cannot decide bundle {sid}: {why}")
            }
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
    let _ = app.callbacks.send(Delivery::Status { url, params });
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

/// The `errors` of a rejection at submission: one per failed requirement.
fn errors_of(
    state: &State,
    bundle_sid: &str,
    policy: Option<&Policy>,
    results: &[RequirementResult],
) -> Vec<BundleError> {
    results
        .iter()
        .filter(|r| !r.passed)
        .map(|r| {
            let located =
                policy.and_then(|p| evaluation::locate(state, bundle_sid, p, &r.requirement_name));
            BundleError {
                code: r.error_code.unwrap_or(evaluation::CODE_FIELD_INVALID),
                message: r.failure_reason.clone().unwrap_or_default(),
                fields: r.invalid.iter().map(|f| f.object_field.clone()).collect(),
                requirement_name: Some(r.requirement_name.clone()),
                object_type: Some(r.object_type.clone()),
                object_sid: located.and_then(|l| l.object_sid),
            }
        })
        .collect()
}

/// `draft | twilio-rejected -> pending-review`. The caller checked the bundle may be submitted. Returns the
/// state version before the change, for [`review_submission`], or `None` for a resubmission, which is
/// always evaluated afresh (Twilio reviews a resubmitted bundle again).
pub(crate) fn begin_submission(app: &App, state: &mut State, bundle_sid: &str) -> Option<u64> {
    let resubmission =
        find(&state.bundles, bundle_sid).is_some_and(|b| b.status == BundleStatus::TwilioRejected);
    state.counters.bundle_submissions += 1;
    if resubmission {
        state.counters.bundle_resubmissions += 1;
    }
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
    (!resubmission).then_some(version_before)
}

/// Whether an object a review's rejection named is as it was then: it exists, an end user or document is
/// still assigned to the bundle, and none was updated since `version`.
fn unchanged_since(state: &State, bundle_sid: &str, object_sid: &str, version: u64) -> bool {
    let assigned = || {
        state
            .entity_assignments
            .iter()
            .any(|a| a.bundle_sid == bundle_sid && a.object_sid == object_sid)
    };
    if let Some(user) = find(&state.end_users, object_sid) {
        user.revision <= version && assigned()
    } else if let Some(document) = find(&state.documents, object_sid) {
        document.revision <= version && assigned()
    } else if let Some(address) = find(&state.addresses, object_sid) {
        address.revision <= version
    } else {
        false
    }
}

/// `pending-review -> in-review | twilio-rejected`: rejected again at once when a review's rejection per
/// requirement named objects none of which changed; else from the latest evaluation when it is still
/// current (`version_before` is what [`begin_submission`] returned; `None` never is), else from a new one.
pub(crate) fn review_submission(
    app: &App,
    state: &mut State,
    bundle_sid: &str,
    version_before: Option<u64>,
) {
    let rejection =
        find_mut(&mut state.bundles, bundle_sid).and_then(|b| b.review_rejection.take());
    if let Some(rejection) = rejection {
        let unchanged = !rejection.objects.is_empty()
            && rejection
                .objects
                .iter()
                .all(|o| unchanged_since(state, bundle_sid, o, rejection.version));
        if unchanged {
            let reason = format!(
                "{} (resubmitted without changing what the review named)",
                rejection.reason
            );
            set_status(
                app,
                state,
                bundle_sid,
                BundleStatus::TwilioRejected,
                Some(rejection.errors.clone()),
                Some(&reason),
            );
            if let Some(bundle) = find_mut(&mut state.bundles, bundle_sid) {
                bundle.review_rejection = Some(rejection);
            }
            return;
        }
    }
    let Some(policy_sid) = find(&state.bundles, bundle_sid).map(|b| b.policy_sid.clone()) else {
        return;
    };
    let fresh = state
        .evaluations
        .iter()
        .rev()
        .find(|e| e.bundle_sid == bundle_sid && e.policy_sid == policy_sid)
        .filter(|e| Some(e.version) == version_before)
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
        schedule_review(app, state, bundle_sid);
    } else {
        let results = record.results.clone();
        let errors = errors_of(state, bundle_sid, catalog::policy(&policy_sid), &results);
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

/// Counts a bundle's entry into `in-review` and schedules its scripted or automatic decision, if any; the
/// decision applies only if the bundle is still in that review when its delay ends.
fn schedule_review(app: &App, state: &mut State, bundle_sid: &str) {
    let Some(bundle) = find_mut(&mut state.bundles, bundle_sid) else {
        return;
    };
    let round = bundle.reviews;
    bundle.reviews += 1;
    let scripted = app
        .review_decisions
        .as_ref()
        .and_then(|(delay, decisions)| {
            usize::try_from(round)
                .ok()
                .and_then(|n| decisions.get(n))
                .map(|d| (*delay, d.clone()))
        });
    let Some((delay, decision)) = scripted.or_else(|| app.auto_decision.clone()) else {
        return;
    };
    let task_app = app.clone();
    let sid = bundle_sid.to_owned();
    app.spawn_task(async move {
        tokio::time::sleep(delay).await;
        let mut state = lock(&task_app.state);
        let current = find(&state.bundles, &sid)
            .is_some_and(|b| b.reviews == round + 1 && b.status == BundleStatus::InReview);
        if !current {
            tracing::debug!(bundle = %sid, "automatic decision skipped: decided or resubmitted since");
            return;
        }
        if let Err(error) = apply_review(&task_app, &mut state, &sid, &decision) {
            tracing::warn!(%error, "automatic decision skipped");
        }
    });
}

/// The code Twilio documents for a rejected part of a customer profile (its changelog "Introducing Error
/// Codes for Customer Profiles"), else [`MANUAL_REJECTION_CODE`].
fn default_code(requirement: &str, fields: &[String]) -> u32 {
    let registration = fields.iter().any(|f| {
        matches!(
            f.as_str(),
            "business_registration_number" | "business_registration_identifier"
        )
    });
    match requirement {
        "customer_profile_business_information" if registration => 18602,
        "customer_profile_address" => 18603,
        "authorized_representative_1" => 18604,
        "authorized_representative_2" => 18605,
        _ => MANUAL_REJECTION_CODE,
    }
}

/// The description Twilio documents for a customer profile rejection code.
fn code_description(code: u32) -> Option<&'static str> {
    match code {
        18601 => Some("The association between business name and website cannot be verified"),
        18602 => Some("The Business ID you provided could not be verified"),
        18603 => Some("The address could not be verified"),
        18604 => Some("Unable to verify Authorized representative #1"),
        18605 => Some("Unable to verify Authorized representative #2"),
        18606 => Some("The Email domain doesn't match the website domain"),
        _ => None,
    }
}

/// The `errors` of a review's rejection and the objects they are about, checked against the bundle's
/// policy.
fn review_errors(
    state: &State,
    bundle_sid: &str,
    reason: &str,
    requirements: &[RequirementRejection],
) -> Result<(Vec<BundleError>, Vec<String>), DecideError> {
    let invalid = |why: String| DecideError::InvalidDecision {
        sid: bundle_sid.to_owned(),
        why,
    };
    if requirements.is_empty() {
        return Ok((
            vec![BundleError {
                code: MANUAL_REJECTION_CODE,
                message: reason.to_owned(),
                fields: Vec::new(),
                requirement_name: None,
                object_type: None,
                object_sid: None,
            }],
            Vec::new(),
        ));
    }
    let policy = find(&state.bundles, bundle_sid)
        .and_then(|b| catalog::policy(&b.policy_sid))
        .ok_or_else(|| invalid(String::from("its policy is unknown")))?;
    let mut errors = Vec::new();
    let mut objects: Vec<String> = Vec::new();
    for requirement in requirements {
        let located = evaluation::locate(state, bundle_sid, policy, &requirement.requirement)
            .ok_or_else(|| {
                invalid(format!(
                    "'{}' is not a requirement of its policy {}; its requirements: {}",
                    wire::shorten(&requirement.requirement, 60),
                    policy.sid,
                    evaluation::requirement_names(policy).join(", ")
                ))
            })?;
        if let Some(field) = requirement
            .fields
            .iter()
            .find(|f| !located.fields.contains(&f.as_str()))
        {
            return Err(invalid(format!(
                "'{}' is not a field of the requirement {}; its fields: {}",
                wire::shorten(field, 60),
                requirement.requirement,
                located.fields.join(", ")
            )));
        }
        let code = requirement
            .code
            .unwrap_or_else(|| default_code(&requirement.requirement, &requirement.fields));
        let message = requirement
            .message
            .clone()
            .or_else(|| code_description(code).map(str::to_owned))
            .unwrap_or_else(|| reason.to_owned());
        for object in &located.related {
            if !objects.contains(object) {
                objects.push(object.clone());
            }
        }
        errors.push(BundleError {
            code,
            message,
            fields: requirement.fields.clone(),
            requirement_name: Some(requirement.requirement.clone()),
            object_type: Some(located.object_type),
            object_sid: located.object_sid,
        });
    }
    Ok((errors, objects))
}

/// Applies a review's outcome to an `in-review` bundle (checked by the caller).
fn apply_review(
    app: &App,
    state: &mut State,
    bundle_sid: &str,
    decision: &Decision,
) -> Result<(), DecideError> {
    let Some(reason) = decision.reason() else {
        if let Some(bundle) = find_mut(&mut state.bundles, bundle_sid) {
            bundle.review_rejection = None;
        }
        set_status(
            app,
            state,
            bundle_sid,
            BundleStatus::TwilioApproved,
            None,
            None,
        );
        return Ok(());
    };
    let (errors, objects) = review_errors(state, bundle_sid, reason, decision.requirements())?;
    set_status(
        app,
        state,
        bundle_sid,
        BundleStatus::TwilioRejected,
        Some(errors.clone()),
        Some(reason),
    );
    let version = state.version;
    if let Some(bundle) = find_mut(&mut state.bundles, bundle_sid) {
        bundle.review_rejection = (!objects.is_empty()).then(|| ReviewRejection {
            version,
            objects,
            errors,
            reason: reason.to_owned(),
        });
    }
    Ok(())
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
    apply_review(app, &mut state, bundle_sid, decision)
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
            apply_brand_decision(&task_app, &mut state, &sid, &decision, &[]);
        } else {
            tracing::debug!(brand = %sid, "automatic brand decision skipped: decided or resubmitted since");
        }
    });
}

/// The registration errors of a rejection: one per named requirement, else one for the reason with
/// `fields`.
fn registration_errors(
    decision: &Decision,
    reason: &str,
    default_code: u32,
    fields: Vec<String>,
) -> Vec<RegistrationError> {
    if decision.requirements().is_empty() {
        return vec![RegistrationError::new(
            default_code,
            reason.to_owned(),
            fields,
        )];
    }
    decision
        .requirements()
        .iter()
        .map(|r| {
            RegistrationError::new(
                r.code.unwrap_or(default_code),
                r.message.clone().unwrap_or_else(|| reason.to_owned()),
                r.fields.clone(),
            )
        })
        .collect()
}

/// Milliseconds since the Unix epoch, as Event Streams' A2P events carry dates.
fn epoch_ms(t: OffsetDateTime) -> i64 {
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

/// A registration error as Event Streams' A2P events carry them.
fn event_error(e: &RegistrationError) -> Value {
    json!({
        "registrationerrorcode": e.error_code,
        "registrationerrordescription": e.description,
        "registrationerrorurl": e.url,
        "registrationerrorfields": e.fields,
    })
}

/// Queues a CloudEvent for the event sink, if one is configured. `kind` is the event type's last part
/// after `com.twilio.messaging.compliance.`, `schema` the data schema's name and version.
fn emit_event(app: &App, kind: &str, schema: &str, source: String, data: Map<String, Value>) {
    let Some(url) = app.event_sink.clone() else {
        return;
    };
    let mut event = Map::new();
    event.insert(String::from("specversion"), json!("1.0"));
    event.insert(
        String::from("type"),
        json!(format!("com.twilio.messaging.compliance.{kind}")),
    );
    event.insert(String::from("source"), json!(source));
    event.insert(
        String::from("dataschema"),
        json!(format!("https://events-schemas.twilio.com/{schema}")),
    );
    event.insert(String::from("datacontenttype"), json!("application/json"));
    event.insert(String::from("time"), json!(wire::iso8601(wire::now())));
    event.insert(String::from("data"), Value::Object(data));
    // The receiver only goes away when the emulator stops; a lost event then is expected.
    let _ = app.callbacks.send(Delivery::Event { url, event });
}

/// The event of a brand's decision: `brand-registered` or `brand-failure`.
fn brand_event(app: &App, state: &State, brand_sid: &str) {
    let Some(brand) = find(&state.brands, brand_sid) else {
        return;
    };
    let mut data = Map::new();
    data.insert(String::from("accountsid"), json!(app.account_sid));
    data.insert(String::from("brandsid"), json!(brand.sid));
    let (kind, schema) = if brand.status == BrandStatus::Approved {
        data.insert(String::from("brandstatus"), json!("registered"));
        data.insert(String::from("externalbrandid"), json!(brand.registry_id));
        (
            "brand-registration.brand-registered",
            "A2P.BrandRegistered/2",
        )
    } else {
        data.insert(String::from("brandstatus"), json!("registration_failed"));
        data.insert(
            String::from("brandregistrationerrors"),
            Value::Array(brand.errors.iter().map(event_error).collect()),
        );
        if !brand.feedback.is_empty() {
            data.insert(
                String::from("brandfeedback"),
                json!(brand.feedback.join(",")),
            );
        }
        (
            "brand-registration.brand-failure",
            "A2P.BrandRegistrationFailure/3",
        )
    };
    data.insert(
        String::from("createddate"),
        json!(epoch_ms(brand.date_created)),
    );
    data.insert(
        String::from("updateddate"),
        json!(epoch_ms(brand.date_updated)),
    );
    emit_event(
        app,
        kind,
        schema,
        format!("/v1/a2p/BrandRegistrations/{}", brand.sid),
        data,
    );
}

/// Sets a `PENDING` brand's outcome and sends its event.
fn apply_brand_decision(
    app: &App,
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
    match decision.reason() {
        None => {
            brand.status = BrandStatus::Approved;
            brand.tcr_id = Some(brand.registry_id.clone());
            brand.brand_score = Some(APPROVED_BRAND_SCORE);
            brand.identity_status = "VERIFIED";
            brand.failure_reason = None;
            brand.errors = Vec::new();
            brand.feedback = Vec::new();
        }
        Some(reason) => {
            let mut fields: Vec<String> = Vec::new();
            for field in feedback.iter().filter_map(|f| feedback_field(f)) {
                if !fields.iter().any(|known| known == field) {
                    fields.push(field.to_owned());
                }
            }
            brand.status = BrandStatus::Failed;
            brand.brand_score = None;
            brand.identity_status = "UNVERIFIED";
            brand.failure_reason = Some(reason.to_owned());
            brand.errors = registration_errors(decision, reason, BRAND_REJECTION_CODE, fields);
            brand.feedback = feedback.to_vec();
        }
    }
    brand_event(app, state, brand_sid);
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
    apply_brand_decision(app, &mut state, brand_sid, decision, feedback);
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
            apply_campaign_decision(&task_app, &mut state, &sid, &decision);
        } else {
            tracing::debug!(campaign = %sid, "automatic campaign decision skipped: decided, updated or deleted since");
        }
    });
}

/// The event of a campaign's decision: `campaign-approved` or `campaign-failure`.
fn campaign_event(app: &App, state: &State, campaign_sid: &str) {
    let Some(campaign) = find(&state.campaigns, campaign_sid) else {
        return;
    };
    let approved = campaign.status == CampaignStatus::Verified;
    let mut data = Map::new();
    if let Some(content) = &campaign.content {
        data.insert(String::from("a2pusecase"), json!(content.usecase));
    }
    data.insert(String::from("accountsid"), json!(app.account_sid));
    data.insert(String::from("brandsid"), json!(campaign.brand_sid));
    data.insert(
        String::from("campaignregistrationstatus"),
        json!(if approved { "success" } else { "failure" }),
    );
    data.insert(
        String::from("campaignstatus"),
        json!(campaign.status.as_str()),
    );
    data.insert(String::from("campaignsid"), json!(campaign.sid));
    data.insert(
        String::from("createddate"),
        json!(epoch_ms(campaign.date_created)),
    );
    if approved {
        data.insert(
            String::from("externalcampaignid"),
            json!(campaign.campaign_id),
        );
    } else {
        data.insert(
            String::from("campaignregistrationerrors"),
            Value::Array(campaign.errors.iter().map(event_error).collect()),
        );
    }
    data.insert(
        String::from("messagingservicesid"),
        json!(campaign.service_sid),
    );
    data.insert(String::from("timestamp"), json!(epoch_ms(wire::now())));
    data.insert(
        String::from("updateddate"),
        json!(epoch_ms(campaign.date_updated)),
    );
    let (kind, schema) = if approved {
        (
            "campaign-registration.campaign-approved",
            "A2P.CampaignRegistrationApproved/1",
        )
    } else {
        (
            "campaign-registration.campaign-failure",
            "A2P.CampaignRegistrationFailure/1",
        )
    };
    emit_event(
        app,
        kind,
        schema,
        format!(
            "/v1/Services/{}/Compliance/Usa2p/{}",
            campaign.service_sid, campaign.sid
        ),
        data,
    );
}

/// Sets an `IN_PROGRESS` campaign's outcome and sends its event.
fn apply_campaign_decision(app: &App, state: &mut State, campaign_sid: &str, decision: &Decision) {
    let now = wire::now();
    let Some(campaign) = find_mut(&mut state.campaigns, campaign_sid) else {
        return;
    };
    campaign.date_updated = now;
    match decision.reason() {
        None => {
            campaign.status = CampaignStatus::Verified;
            campaign.errors = Vec::new();
        }
        Some(reason) => {
            campaign.status = CampaignStatus::Failed;
            campaign.errors =
                registration_errors(decision, reason, CAMPAIGN_REJECTION_CODE, Vec::new());
        }
    }
    campaign_event(app, state, campaign_sid);
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
    apply_campaign_decision(app, &mut state, campaign_sid, decision);
    Ok(())
}
