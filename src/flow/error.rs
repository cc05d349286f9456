//! Errors of the flow: each names the step and, where there is one, the resource.

use std::fmt;

use trusthub_generated::runtime::text::printable;

use crate::api::messaging_v1::BrandRegistrationsStatus;
use crate::api::trusthub_v1::CustomerProfileStatus;
use crate::attributes::ValidationErrors;
use crate::sid::{BrandRegistrationSid, CustomerProfileSid, ObjectSid, PolicySid, TrustProductSid};
use crate::Error;

use super::Step;

/// What went wrong in a flow.
///
/// ```
/// use std::error::Error as _;
/// use std::io;
/// use trusthub::flow::{SecondaryProfile, Step};
/// use trusthub::FlowError;
///
/// // Invalid input: every problem, and nothing was sent.
/// let invalid = FlowError::Invalid(SecondaryProfile::builder().build().unwrap_err());
/// assert!(invalid.to_string().starts_with("invalid input, nothing was sent: 5 problems"));
/// assert_eq!(invalid.step(), None);
///
/// // A journal that cannot be saved stops the flow at a step; it can be resumed.
/// let stopped = FlowError::Journal {
///     step: Step::CreateBundle,
///     source: io::Error::new(io::ErrorKind::PermissionDenied, "journal.json is read-only"),
/// };
/// assert_eq!(stopped.step(), Some(&Step::CreateBundle));
/// assert_eq!(stopped.source().unwrap().to_string(), "journal.json is read-only");
/// assert!(stopped
///     .to_string()
///     .starts_with("could not save the journal at step `create bundle`"));
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum FlowError {
    /// The input is invalid; nothing was sent. Every problem is listed.
    Invalid(ValidationErrors),
    /// The policy asks for something the input does not provide (or that this flow cannot
    /// create). Raised before anything is created; see
    /// [`FlowOptions::allow_incomplete`](super::FlowOptions::allow_incomplete).
    PolicyMismatch {
        /// The policy checked.
        policy: PolicySid,
        /// One line per unmet requirement.
        problems: Vec<String>,
    },
    /// The ISV's primary customer profile cannot carry secondary profiles (missing, another
    /// account's, not approved, not a primary profile, not an ISV's). Raised before anything is
    /// created; see [`Preflight`](super::Preflight).
    PrimaryProfile {
        /// The primary profile given.
        profile: CustomerProfileSid,
        /// One line per problem.
        problems: Vec<String>,
    },
    /// A call to Twilio failed.
    Step {
        /// The step.
        step: Step,
        /// The resource the step worked on, when known.
        resource: Option<ObjectSid>,
        /// The error.
        source: Box<Error>,
    },
    /// A create's answer was lost and looking the resource up found several candidates.
    Ambiguous {
        /// The step.
        step: Step,
        /// The candidate SIDs.
        candidates: Vec<ObjectSid>,
    },
    /// The journal could not be saved; the flow stopped so that it can be resumed.
    Journal {
        /// The step after which saving failed.
        step: Step,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The journal belongs to another input (or format), so resuming would mix two flows.
    StaleJournal {
        /// What differs.
        detail: String,
    },
    /// Submitting was asked for a bundle whose latest evaluation is not compliant.
    NotCompliant {
        /// The bundle, if the flow created one.
        bundle: Option<CustomerProfileSid>,
    },
    /// Waiting for review ended before a final status.
    ReviewTimeout {
        /// The bundle.
        bundle: CustomerProfileSid,
        /// The last status seen.
        last_status: CustomerProfileStatus,
    },
    /// The A2P journey's existing secondary profile was not submitted (or was rejected): a
    /// brand needs a profile under review or approved. Raised before anything is created.
    ProfileNotSubmitted {
        /// The profile given.
        profile: CustomerProfileSid,
        /// Its status.
        status: CustomerProfileStatus,
    },
    /// The A2P trust product's evaluation is not compliant, so it was not submitted and no
    /// brand was registered.
    TrustProductNotCompliant {
        /// The trust product.
        trust_product: TrustProductSid,
        /// One line per failed requirement (names and Twilio's reasons).
        failures: Vec<String>,
    },
    /// The campaign's use case is not one Twilio offers for the brand; no campaign was created.
    UseCaseUnavailable {
        /// The brand.
        brand: BrandRegistrationSid,
        /// The use case asked for.
        use_case: String,
        /// The use cases Twilio offers for the brand.
        offered: Vec<String>,
    },
    /// A fix was asked for a profile Twilio has not rejected.
    NotRejected {
        /// The bundle.
        bundle: CustomerProfileSid,
        /// Its status.
        status: CustomerProfileStatus,
    },
    /// A resubmission was asked for a brand that has not failed.
    BrandNotFailed {
        /// The brand.
        brand: BrandRegistrationSid,
        /// Its status.
        status: BrandRegistrationsStatus,
    },
}

impl fmt::Display for FlowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FlowError::Invalid(errors) => {
                write!(f, "invalid input, nothing was sent: {errors}")
            }
            FlowError::PolicyMismatch { policy, problems } => write!(
                f,
                "policy {policy} requires what the input does not provide, so nothing was created: {}",
                problems.join("; ")
            ),
            FlowError::PrimaryProfile { profile, problems } => write!(
                f,
                "the primary customer profile {profile} cannot carry secondary profiles, so nothing \
                 was created: {}",
                problems.join("; ")
            ),
            FlowError::Step {
                step,
                resource,
                source,
            } => {
                write!(f, "step `{step}`")?;
                if let Some(r) = resource {
                    write!(f, " ({r})")?;
                }
                write!(f, " failed: {source}")
            }
            FlowError::Ambiguous { step, candidates } => write!(
                f,
                "step `{step}`: the answer to a create was lost and {} resources match it ({}); \
                 delete the extra ones or record the right SID in the journal, then resume",
                candidates.len(),
                candidates
                    .iter()
                    .map(ObjectSid::as_str)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            FlowError::Journal { step, source } => write!(
                f,
                "could not save the journal at step `{step}` ({source}); the flow stopped (a create \
                 whose intent could not be saved was not sent) and can be resumed from the last \
                 saved journal"
            ),
            FlowError::StaleJournal { detail } => write!(
                f,
                "the journal does not belong to this input ({detail}); resume with the input that \
                 started it, or start a new flow"
            ),
            FlowError::NotCompliant { bundle: None } => {
                f.write_str("there is no bundle to submit: the flow has not created one")
            }
            FlowError::NotCompliant {
                bundle: Some(bundle),
            } => write!(
                f,
                "bundle {bundle} is not compliant: fix the failures of its evaluation and evaluate \
                 again, or force the submission"
            ),
            FlowError::ReviewTimeout {
                bundle,
                last_status,
            } => write!(
                f,
                "bundle {bundle} is still {last_status}: review did not end in time"
            ),
            FlowError::ProfileNotSubmitted { profile, status } => write!(
                f,
                "the secondary profile {profile} is {status}: a brand needs a profile that was \
                 submitted (pending-review, in-review or twilio-approved), so nothing was created"
            ),
            FlowError::TrustProductNotCompliant {
                trust_product,
                failures,
            } => write!(
                f,
                "the A2P trust product {trust_product} is not compliant, so no brand was \
                 registered: {}",
                failures.join("; ")
            ),
            FlowError::UseCaseUnavailable {
                brand,
                use_case,
                offered,
            } => write!(
                f,
                "use case `{}` is not offered for brand {brand} (offered: {}); no campaign was \
                 created",
                printable(use_case),
                printable(&offered.join(", "))
            ),
            FlowError::NotRejected { bundle, status } => write!(
                f,
                "bundle {bundle} is {status}: only a twilio-rejected profile is fixed and \
                 resubmitted; nothing was sent"
            ),
            FlowError::BrandNotFailed { brand, status } => write!(
                f,
                "brand {brand} is {status}: only a FAILED brand can be resubmitted"
            ),
        }
    }
}

impl std::error::Error for FlowError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            FlowError::Invalid(e) => Some(e),
            FlowError::Step { source, .. } => Some(source),
            FlowError::Journal { source, .. } => Some(source),
            _ => None,
        }
    }
}

impl FlowError {
    /// The step the error happened at, if it happened at one.
    pub fn step(&self) -> Option<&Step> {
        match self {
            FlowError::Step { step, .. }
            | FlowError::Ambiguous { step, .. }
            | FlowError::Journal { step, .. } => Some(step),
            _ => None,
        }
    }
}
