//! Evaluation results a person can read.
//!
//! Twilio answers an evaluation with one result per policy requirement; [`Evaluation`] keeps the
//! typed answer and renders it as a per-requirement list (requirement, field, reason, error
//! code) through `Display`.
//!
//! ```
//! use trusthub::api::trusthub_v1::CustomerProfileEvaluation;
//! use trusthub::evaluation::Evaluation;
//!
//! let answer: CustomerProfileEvaluation = serde_json::from_value(serde_json::json!({
//!     "sid": "EL0123456789abcdef0123456789abcdef",
//!     "status": "noncompliant",
//!     "results": [{
//!         "requirement_name": "authorized_representative_2",
//!         "requirement_friendly_name": "Authorized Representative 2",
//!         "passed": false,
//!         "error_code": 22214,
//!         "failure_reason": "An Authorized Representative 2 End-User is missing.",
//!         "valid": [],
//!         "invalid": [{"object_field": "first_name", "friendly_name": "First Name",
//!                      "failure_reason": "The First Name is missing.", "error_code": 22215}]
//!     }]
//! }))?;
//! let evaluation = Evaluation::from(answer);
//! assert!(!evaluation.is_compliant());
//! let text = evaluation.to_string();
//! assert!(text.contains("authorized_representative_2"));
//! assert!(text.contains("first_name: The First Name is missing. [22215]"));
//! # Ok::<(), serde_json::Error>(())
//! ```

use std::fmt;

use crate::sid::EvaluationSid;
use trusthub_generated::runtime::text::printable;
use trusthub_generated::runtime::StringEnum;
use trusthub_generated::trusthub_v1::{
    CustomerProfileEvaluation, CustomerProfileEvaluationStatus, EvaluationResult,
    TrustProductEvaluation,
};

/// A typed evaluation of a customer profile against its policy.
///
/// ```
/// use trusthub::api::trusthub_v1::{CustomerProfileEvaluation, CustomerProfileEvaluationStatus};
/// use trusthub::evaluation::Evaluation;
///
/// let answer: CustomerProfileEvaluation = serde_json::from_value(serde_json::json!({
///     "sid": "EL0123456789abcdef0123456789abcdef",
///     "status": "noncompliant",
///     "results": [
///         {"requirement_name": "customer_profile_address",
///          "requirement_friendly_name": "Business Address", "passed": true},
///         {"requirement_name": "business_info",
///          "requirement_friendly_name": "Business Information", "passed": false,
///          "failure_reason": "The Business Information is incomplete.", "error_code": 22215,
///          "invalid": [{"object_field": "website_url", "error_code": 22215,
///                       "failure_reason": "The Website URL is missing."}]}
///     ]
/// }))?;
/// let evaluation = Evaluation::from(answer);
/// assert!(!evaluation.is_compliant());
/// assert_eq!(
///     evaluation.status(),
///     Some(&CustomerProfileEvaluationStatus::Noncompliant)
/// );
/// assert_eq!(
///     evaluation.sid().map(|sid| sid.to_string()).as_deref(),
///     Some("EL0123456789abcdef0123456789abcdef")
/// );
/// assert_eq!(evaluation.results().len(), 2);
/// assert_eq!(evaluation.failures().len(), 1);
/// let text = evaluation.to_string();
/// assert!(text.starts_with(
///     "evaluation EL0123456789abcdef0123456789abcdef: noncompliant (1 of 2 requirements passed)"
/// ));
/// assert!(text.contains("  ok    customer_profile_address (Business Address)"));
/// assert!(text.contains("  FAIL  business_info (Business Information): "));
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Evaluation {
    answer: CustomerProfileEvaluation,
}

/// One failed field of a requirement.
///
/// ```
/// use trusthub::api::trusthub_v1::CustomerProfileEvaluation;
/// use trusthub::evaluation::{Evaluation, FieldFailure};
///
/// let answer: CustomerProfileEvaluation = serde_json::from_value(serde_json::json!({
///     "status": "noncompliant",
///     "results": [{
///         "requirement_name": "authorized_representative_1", "passed": false,
///         "invalid": [
///             {"object_field": "email", "error_code": 22215,
///              "failure_reason": "The Email is missing."},
///             {"friendly_name": "Phone Number", "failure_reason": "The Phone Number is invalid."}
///         ]
///     }]
/// }))?;
/// let fields: Vec<FieldFailure> = Evaluation::from(answer).failures().remove(0).fields;
/// assert_eq!(fields[0].field, "email");
/// assert_eq!(fields[0].error_code, Some(22215));
/// // Without an `object_field`, the friendly name names the field.
/// assert_eq!(fields[1].field, "Phone Number");
/// assert_eq!(fields[1].reason, "The Phone Number is invalid.");
/// assert_eq!(fields[1].error_code, None);
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldFailure {
    /// Attribute key, e.g. `business_name`.
    pub field: String,
    /// Twilio's reason.
    pub reason: String,
    /// Twilio's error code (22214-22219), when given.
    pub error_code: Option<i64>,
}

/// One failed requirement.
///
/// ```
/// use trusthub::api::trusthub_v1::CustomerProfileEvaluation;
/// use trusthub::evaluation::Evaluation;
///
/// let answer: CustomerProfileEvaluation = serde_json::from_value(serde_json::json!({
///     "status": "noncompliant",
///     "results": [
///         {"requirement_name": "business_info", "passed": true},
///         {"requirement_name": "authorized_representative_2",
///          "requirement_friendly_name": "Authorized Representative 2", "passed": false,
///          "failure_reason": "An Authorized Representative 2 End-User is missing.",
///          "error_code": 22214, "invalid": []}
///     ]
/// }))?;
/// let failures = Evaluation::from(answer).failures();
/// assert_eq!(failures.len(), 1); // passed requirements are not failures
/// let failure = &failures[0];
/// assert_eq!(failure.requirement, "authorized_representative_2");
/// assert_eq!(failure.friendly_name, "Authorized Representative 2");
/// assert_eq!(failure.error_code, Some(22214));
/// assert!(failure.reason.contains("is missing"));
/// assert!(failure.fields.is_empty());
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequirementFailure {
    /// Machine name, e.g. `authorized_representative_2`.
    pub requirement: String,
    /// Human name, e.g. `Authorized Representative 2`.
    pub friendly_name: String,
    /// Twilio's reason for the requirement as a whole.
    pub reason: String,
    /// Twilio's error code, when given.
    pub error_code: Option<i64>,
    /// The fields that failed.
    pub fields: Vec<FieldFailure>,
}

impl From<CustomerProfileEvaluation> for Evaluation {
    fn from(answer: CustomerProfileEvaluation) -> Self {
        Evaluation { answer }
    }
}

/// A trust product's evaluation reads like a profile's: the same results, the status by its wire
/// value; [`Evaluation::answer`] then has no `customer_profile_sid`.
impl From<TrustProductEvaluation> for Evaluation {
    fn from(answer: TrustProductEvaluation) -> Self {
        let mut same = CustomerProfileEvaluation::default();
        same.sid = answer.sid;
        same.account_sid = answer.account_sid;
        same.policy_sid = answer.policy_sid;
        same.status = answer
            .status
            .map(|s| CustomerProfileEvaluationStatus::from_wire(s.as_str()));
        same.results = answer.results;
        same.date_created = answer.date_created;
        same.url = answer.url;
        Evaluation { answer: same }
    }
}

/// Twilio's text, printable: a server's control characters never reach a terminal or a report.
fn text(value: &Option<String>) -> String {
    printable(value.as_deref().unwrap_or_default()).into_owned()
}

impl Evaluation {
    /// Whether Twilio found the bundle compliant.
    pub fn is_compliant(&self) -> bool {
        self.answer.status == Some(CustomerProfileEvaluationStatus::Compliant)
    }

    /// The status Twilio answered (`Compliant`, `Noncompliant`, or a value not listed yet),
    /// when the answer had one.
    pub fn status(&self) -> Option<&CustomerProfileEvaluationStatus> {
        self.answer.status.as_ref()
    }

    /// The status as text, `unknown` when the answer had none.
    fn status_text(&self) -> &str {
        self.status().map_or("unknown", |s| s.as_str())
    }

    /// The evaluation's SID (`EL...`), when the answer had one.
    pub fn sid(&self) -> Option<EvaluationSid> {
        self.answer.sid
    }

    /// Every requirement result as Twilio sent it.
    pub fn results(&self) -> &[EvaluationResult] {
        self.answer.results.as_deref().unwrap_or_default()
    }

    /// The requirements that failed, with their fields.
    pub fn failures(&self) -> Vec<RequirementFailure> {
        self.results()
            .iter()
            .filter(|r| r.passed != Some(true))
            .map(|r| RequirementFailure {
                requirement: text(&r.requirement_name),
                friendly_name: text(
                    &r.requirement_friendly_name
                        .clone()
                        .or_else(|| r.friendly_name.clone()),
                ),
                reason: text(&r.failure_reason),
                error_code: r.error_code,
                fields: r
                    .invalid
                    .iter()
                    .flatten()
                    .map(|f| FieldFailure {
                        field: text(&f.object_field.clone().or_else(|| f.friendly_name.clone())),
                        reason: text(&f.failure_reason),
                        error_code: f.error_code,
                    })
                    .collect(),
            })
            .collect()
    }

    /// The typed answer as the generated client decoded it.
    pub fn answer(&self) -> &CustomerProfileEvaluation {
        &self.answer
    }
}

fn code(code: Option<i64>) -> String {
    code.map(|c| format!(" [{c}]")).unwrap_or_default()
}

impl fmt::Display for Evaluation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let results = self.results();
        let failed = self.failures();
        writeln!(
            f,
            "evaluation {}: {} ({} of {} requirements passed)",
            self.sid()
                .as_ref()
                .map_or("(no sid)", EvaluationSid::as_str),
            self.status_text(),
            results.len() - failed.len(),
            results.len()
        )?;
        for r in results {
            let name = printable(
                r.requirement_name
                    .as_deref()
                    .unwrap_or("(unnamed requirement)"),
            );
            let friendly = printable(
                r.requirement_friendly_name
                    .as_deref()
                    .or(r.friendly_name.as_deref())
                    .unwrap_or(""),
            );
            if r.passed == Some(true) {
                writeln!(f, "  ok    {name} ({friendly})")?;
                continue;
            }
            writeln!(
                f,
                "  FAIL  {name} ({friendly}): {}{}",
                printable(r.failure_reason.as_deref().unwrap_or("no reason given")),
                code(r.error_code)
            )?;
            for field in r.invalid.iter().flatten() {
                writeln!(
                    f,
                    "          {}: {}{}",
                    printable(
                        field
                            .object_field
                            .as_deref()
                            .or(field.friendly_name.as_deref())
                            .unwrap_or("?")
                    ),
                    printable(field.failure_reason.as_deref().unwrap_or("no reason given")),
                    code(field.error_code)
                )?;
            }
        }
        Ok(())
    }
}
