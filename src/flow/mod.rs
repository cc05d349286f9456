//! The Secondary Customer Profile flow: the seed document's ten steps as one validated,
//! concurrent, resumable operation that never creates anything twice, whatever moment the
//! process dies at.
//!
//! - [`SecondaryProfile::builder`] takes typed input; `build()` validates everything locally and
//!   reports every problem at once (nothing is sent).
//! - [`Client::secondary_profile`](crate::Client::secondary_profile) binds an input to its
//!   client as a [`ProfileFlow`]; its [`run`](ProfileFlow::run) performs steps 1-9. Before anything
//!   is created, the policy is fetched and the input checked against it, and the ISV's primary
//!   profile is checked ([`Preflight`]); then the bundle, the three end users, the address and
//!   its supporting document are created, assigned with the primary profile and the phone
//!   numbers, and evaluated. Each step starts as soon as its inputs exist: five round trips from
//!   the checks to the submission (bundle ∥ end users ∥ address; document; assignments;
//!   evaluation; submission), two more for the checks unless a batch shares them.
//! - Progress is a [`Journal`] handed to a [`JournalStore`]: before every create, its intent
//!   (write-ahead: a create is never sent that the journal does not know may exist); after
//!   every step, its SID. [`ProfileFlow::resuming`] finishes a flow from it: journaled SIDs
//!   are reused, journaled intents looked up before anything is sent (the end users, address and
//!   document carry the flow id in their friendly names, the bundle is matched on its fields and
//!   creation time, assignments on the object they assign). A create whose answer says it may
//!   have been processed (a dropped connection, a timeout, a 5xx, a gateway's error) is looked up
//!   the same way before it is sent again.
//! - [`FlowReport::submit`] (step 10) submits only a compliant bundle unless forced, its intent
//!   saved first; a submission whose answer was lost is recognised by the bundle's status.
//!   [`FlowReport::wait_for_review`] follows the status.
//!
//! [`cleanup`] deletes what a failed flow created.
//!
//! Input is checked before anything is sent, every problem at once (`examples/secondary_profile.rs`
//! runs the whole flow against the embedded emulator):
//!
//! ```
//! use trusthub::flow::SecondaryProfile;
//!
//! let errors = SecondaryProfile::builder()
//!     .friendly_name("Acme Corp")
//!     .email("not-an-email")
//!     .build()
//!     .unwrap_err();
//! let fields: Vec<&str> = errors.fields().collect();
//! assert!(fields.contains(&"email"));
//! assert!(fields.contains(&"business_information"));
//! assert!(fields.contains(&"address"));
//! assert!(fields.contains(&"primary_profile"));
//! ```

pub mod a2p;
mod digest;
mod engine;
mod error;
pub mod files;
mod handle;
mod journal;
mod preflight;
mod resubmit;
mod run;
mod trust_product;
pub mod voice;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Semaphore;

use crate::api::trusthub_v1::CustomerProfileStatus;
use crate::attributes::{
    email_problem, http_url_problem, Address, AuthorizedRepresentative, BusinessInformation,
    ProblemKind, RepresentativeSlot, ValidationErrors, ValidationReport, Warning, WarningKind,
    MAX_EMAIL_CHARS, MAX_TEXT_CHARS, MAX_URL_CHARS,
};
use crate::evaluation::Evaluation;
use crate::sid::{policies, AddressSid, CustomerProfileSid, ObjectSid, PhoneNumberSid, PolicySid};

use digest::Canonical;
pub use digest::DigestKey;
pub use error::FlowError;
pub use files::JournalLock;
pub use handle::ProfileFlow;
pub use journal::{
    A2pProgress, FileStore, Intent, Journal, JournalStore, MemoryStore, NoStore, TrustProductKind,
    TrustProductProgress, JOURNAL_FORMAT,
};
pub use preflight::Preflight;
pub use resubmit::{FixReport, ProfileFix, FIX_KEY};
pub use run::{cleanup, CleanupReport};

/// The end users a secondary profile holds.
///
/// ```
/// use trusthub::flow::EndUserRole;
///
/// let types: Vec<&str> = EndUserRole::ALL.iter().map(|r| r.end_user_type()).collect();
/// assert_eq!(
///     types,
///     [
///         "customer_profile_business_information",
///         "authorized_representative_1",
///         "authorized_representative_2"
///     ]
/// );
/// // The key of the role in `Journal::end_users` and in the friendly names the flow sends.
/// assert_eq!(EndUserRole::Representative2.key(), "representative_2");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EndUserRole {
    /// `customer_profile_business_information`.
    BusinessInformation,
    /// `authorized_representative_1`.
    Representative1,
    /// `authorized_representative_2`.
    Representative2,
}

impl EndUserRole {
    /// Every role, in the seed's order.
    pub const ALL: [EndUserRole; 3] = [
        EndUserRole::BusinessInformation,
        EndUserRole::Representative1,
        EndUserRole::Representative2,
    ];

    /// The key in the journal and in friendly names.
    pub fn key(self) -> &'static str {
        match self {
            EndUserRole::BusinessInformation => "business_information",
            EndUserRole::Representative1 => "representative_1",
            EndUserRole::Representative2 => "representative_2",
        }
    }

    /// The EndUser `Type`.
    pub fn end_user_type(self) -> &'static str {
        match self {
            EndUserRole::BusinessInformation => BusinessInformation::END_USER_TYPE,
            EndUserRole::Representative1 => RepresentativeSlot::First.end_user_type(),
            EndUserRole::Representative2 => RepresentativeSlot::Second.end_user_type(),
        }
    }
}

/// One step of the flow.
///
/// ```
/// use trusthub::flow::{EndUserRole, Step};
/// use trusthub::sid::{ObjectSid, PhoneNumberSid};
/// use trusthub::FlowError;
///
/// let step = Step::CreateEndUser(EndUserRole::Representative1);
/// assert_eq!(step.to_string(), "create end user representative_1");
/// let pn = PhoneNumberSid::from_static("PN0123456789abcdef0123456789abcdef");
/// assert_eq!(
///     Step::AssignPhoneNumber(pn).to_string(),
///     "assign phone number PN0123456789abcdef0123456789abcdef"
/// );
/// // The key of the step's write-ahead intent in the journal.
/// assert_eq!(step.intent_key().as_deref(), Some("end_user.representative_1"));
/// assert_eq!(Step::ConfirmPolicy.intent_key(), None); // creates nothing
///
/// // Errors name the step they happened at.
/// let err = FlowError::Ambiguous {
///     step: Step::CreateAddress,
///     candidates: vec![ObjectSid::from_static("AD0123456789abcdef0123456789abcdef")],
/// };
/// assert_eq!(err.step(), Some(&Step::CreateAddress));
/// assert!(err.to_string().starts_with("step `create address`: "));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Step {
    /// 1: fetch the policy and check the input against its requirements.
    ConfirmPolicy,
    /// Before anything is created: check the ISV's primary customer profile ([`Preflight`]).
    ConfirmPrimaryProfile,
    /// 2: create the empty bundle.
    CreateBundle,
    /// 3-4: create an end user.
    CreateEndUser(EndUserRole),
    /// 5: create the address.
    CreateAddress,
    /// 6: create the `customer_profile_address` supporting document.
    CreateDocument,
    /// 7-8: assign an object (end user, document, primary profile) to the bundle.
    AssignEntity {
        /// What the object is (`representative_1`, `address document`, `primary profile`).
        what: &'static str,
        /// The object assigned.
        object: ObjectSid,
    },
    /// 9: assign a phone number to the bundle.
    AssignPhoneNumber(PhoneNumberSid),
    /// 9: evaluate the bundle against the policy.
    Evaluate,
    /// 10: submit for review.
    Submit,
    /// Following the status after submission.
    Review,
    /// Deleting what a failed flow created.
    Cleanup,
    /// Check that an existing secondary profile was submitted (the A2P journey, the voice
    /// products).
    ConfirmProfile,
    /// Fix: update the bundle's name, email or status callback.
    UpdateBundle,
    /// Fix: update an end user's attributes.
    UpdateEndUser(EndUserRole),
    /// Fix: update the address.
    UpdateAddress,
    /// Fix: submit the fixed bundle again.
    Resubmit,
    /// Create a trust product (the A2P Messaging Profile, SHAKEN/STIR, CNAM).
    CreateTrustProduct(TrustProductKind),
    /// Create a trust product's end user (`us_a2p_messaging_profile_information`,
    /// `cnam_information`).
    CreateTrustProductEndUser(TrustProductKind),
    /// Assign an object (its end user, the secondary profile) to a trust product.
    AssignToTrustProduct {
        /// Which trust product.
        kind: TrustProductKind,
        /// What the object is (`end user`, `secondary profile`).
        what: &'static str,
        /// The object assigned.
        object: ObjectSid,
    },
    /// Assign a phone number to a voice trust product.
    AssignNumberToTrustProduct {
        /// Which trust product.
        kind: TrustProductKind,
        /// The number.
        number: PhoneNumberSid,
    },
    /// Evaluate a trust product.
    EvaluateTrustProduct(TrustProductKind),
    /// Submit a trust product for review.
    SubmitTrustProduct(TrustProductKind),
    /// A2P journey: create (or check) the Messaging Service.
    CreateMessagingService,
    /// A2P journey: add a phone number to the Messaging Service.
    AddPhoneNumber(PhoneNumberSid),
    /// A2P journey: register the brand (a fee).
    RegisterBrand,
    /// A2P journey: follow the brand's vetting by The Campaign Registry.
    BrandReview,
    /// A2P journey: resubmit a failed brand.
    ResubmitBrand,
    /// A2P journey: check the campaign's use case against the brand's list.
    ChooseUseCase,
    /// A2P journey: create the campaign (a fee).
    CreateCampaign,
    /// A2P journey: follow the campaign's review.
    CampaignReview,
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Step::ConfirmPolicy => f.write_str("confirm policy"),
            Step::ConfirmPrimaryProfile => f.write_str("confirm primary profile"),
            Step::CreateBundle => f.write_str("create bundle"),
            Step::CreateEndUser(role) => write!(f, "create end user {}", role.key()),
            Step::CreateAddress => f.write_str("create address"),
            Step::CreateDocument => f.write_str("create address document"),
            Step::AssignEntity { what, object } => write!(f, "assign {what} {object}"),
            Step::AssignPhoneNumber(pn) => write!(f, "assign phone number {pn}"),
            Step::Evaluate => f.write_str("evaluate"),
            Step::Submit => f.write_str("submit for review"),
            Step::Review => f.write_str("follow review"),
            Step::Cleanup => f.write_str("cleanup"),
            Step::ConfirmProfile => f.write_str("confirm secondary profile"),
            Step::UpdateBundle => f.write_str("update bundle"),
            Step::UpdateEndUser(role) => write!(f, "update end user {}", role.key()),
            Step::UpdateAddress => f.write_str("update address"),
            Step::Resubmit => f.write_str("resubmit for review"),
            Step::CreateTrustProduct(kind) => write!(f, "create {} trust product", kind.name()),
            Step::CreateTrustProductEndUser(kind) => {
                write!(f, "create {} end user", kind.name())
            }
            Step::AssignToTrustProduct { kind, what, object } => {
                write!(
                    f,
                    "assign {what} {object} to the {} trust product",
                    kind.name()
                )
            }
            Step::AssignNumberToTrustProduct { kind, number } => {
                write!(f, "assign {number} to the {} trust product", kind.name())
            }
            Step::EvaluateTrustProduct(kind) => {
                write!(f, "evaluate {} trust product", kind.name())
            }
            Step::SubmitTrustProduct(kind) => write!(f, "submit {} trust product", kind.name()),
            Step::CreateMessagingService => f.write_str("create messaging service"),
            Step::AddPhoneNumber(pn) => write!(f, "add phone number {pn} to the service"),
            Step::RegisterBrand => f.write_str("register brand"),
            Step::BrandReview => f.write_str("follow brand vetting"),
            Step::ResubmitBrand => f.write_str("resubmit brand"),
            Step::ChooseUseCase => f.write_str("check campaign use case"),
            Step::CreateCampaign => f.write_str("create campaign"),
            Step::CampaignReview => f.write_str("follow campaign review"),
        }
    }
}

impl Step {
    /// The key of the step's create in [`Journal::intents`] (`None` for steps that create
    /// nothing).
    pub fn intent_key(&self) -> Option<String> {
        Some(match self {
            Step::CreateBundle => "bundle".to_owned(),
            Step::CreateEndUser(role) => format!("end_user.{}", role.key()),
            Step::CreateAddress => "address".to_owned(),
            Step::CreateDocument => "document".to_owned(),
            Step::AssignEntity { object, .. } => format!("entity.{object}"),
            Step::AssignPhoneNumber(pn) => format!("phone_number.{pn}"),
            Step::Evaluate => "evaluation".to_owned(),
            Step::Submit => "submit".to_owned(),
            Step::Resubmit => "resubmit".to_owned(),
            Step::CreateTrustProduct(kind) => format!("{}.trust_product", kind.key()),
            Step::CreateTrustProductEndUser(kind) => format!("{}.end_user", kind.key()),
            Step::AssignToTrustProduct { kind, object, .. } => {
                format!("{}.entity.{object}", kind.key())
            }
            Step::AssignNumberToTrustProduct { kind, number } => {
                format!("{}.channel.{number}", kind.key())
            }
            Step::EvaluateTrustProduct(kind) => format!("{}.evaluation", kind.key()),
            Step::SubmitTrustProduct(kind) => format!("{}.submit", kind.key()),
            Step::CreateMessagingService => "a2p.messaging_service".to_owned(),
            Step::AddPhoneNumber(pn) => format!("a2p.phone_number.{pn}"),
            Step::RegisterBrand => "a2p.brand".to_owned(),
            Step::ResubmitBrand => "a2p.brand_resubmit".to_owned(),
            Step::CreateCampaign => "a2p.campaign".to_owned(),
            _ => return None,
        })
    }
}

/// How a step's resource came to be.
///
/// Resuming a finished flow from its journal creates nothing; a SID the journal lost is
/// found again rather than created twice:
///
/// ```
/// use std::sync::Arc;
/// use trusthub::flow::{FlowOptions, MemoryStore, Outcome, Step};
/// use trusthub::Client;
///
/// # use trusthub::attributes::*;
/// # use trusthub::flow::SecondaryProfileBuilder;
/// # use trusthub_emulator::Emulator;
/// # fn input(emulator: &Emulator, name: &str) -> SecondaryProfileBuilder {
/// #     let rep = |n: u8, job_position| AuthorizedRepresentative {
/// #         first_name: format!("Rep{n}"),
/// #         last_name: "Acme".into(),
/// #         email: format!("rep{n}@acme.example.com"),
/// #         phone_number: format!("+1415555010{n}"),
/// #         business_title: "Officer".into(),
/// #         job_position,
/// #     };
/// #     trusthub::flow::SecondaryProfile::builder()
/// #         .friendly_name(name)
/// #         .email("compliance@acme.example.com")
/// #         .business(BusinessInformation {
/// #             business_name: name.into(),
/// #             business_identity: BusinessIdentity::DirectCustomer,
/// #             business_type: BusinessType::LimitedLiabilityCorporation,
/// #             business_industry: BusinessIndustry::Technology,
/// #             business_registration_identifier: RegistrationIdentifier::Ein,
/// #             business_registration_number: "12-3456789".into(),
/// #             business_regions_of_operation: Region::UsaAndCanada.into(),
/// #             website_url: "https://acme.example.com".into(),
/// #             social_media_profile_urls: vec![],
/// #         })
/// #         .representatives(rep(1, JobPosition::Ceo), rep(2, JobPosition::Cfo))
/// #         .address(Address {
/// #             customer_name: name.into(),
/// #             street: "555 Main Street".into(),
/// #             city: "San Francisco".into(),
/// #             region: "CA".into(),
/// #             postal_code: "94105".into(),
/// #             iso_country: "US".into(),
/// #             ..Address::default()
/// #         })
/// #         .primary_profile(emulator.primary_profile_sid().parse().unwrap())
/// #         .phone_numbers([emulator.phone_number_sids()[0].parse().unwrap()])
/// # }
/// #
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let emulator = trusthub_emulator::start(Default::default()).await?; // a local Twilio
/// let client = Client::builder()
///     .account_sid(emulator.account_sid().parse()?)
///     .auth_token(emulator.auth_token())
///     .base_url(emulator.base_url())
///     .build()?;
/// // `input` gives a valid builder for the emulator's account (see `SecondaryProfile`).
/// let flow = input(&emulator, "Acme Corp").build()?;
/// let store = MemoryStore::new();
/// let first = client.secondary_profile(&flow).journal(store.clone()).run().await?;
/// assert!(first.steps.iter().all(|s| match s.step {
///     Step::ConfirmPolicy | Step::ConfirmPrimaryProfile => s.outcome == Outcome::Checked,
///     _ => s.outcome == Outcome::Created,
/// }));
///
/// // Say the process died after sending the evaluation, before its SID was saved: the journal
/// // then holds the evaluation's intent (saved before the create was sent), not its SID.
/// let mut journal = store.latest().unwrap();
/// let intent = trusthub::flow::Intent { at: journal.started_at, criteria: None };
/// journal.evaluation = None;
/// journal.intents.insert("evaluation".into(), intent);
/// let resumed = client
///     .secondary_profile(&flow)
///     .journal(store.clone())
///     .resuming(journal)
///     .run()
///     .await?;
/// for s in &resumed.steps {
///     let expected = if s.step == Step::Evaluate { Outcome::Found } else { Outcome::Journaled };
///     assert_eq!(s.outcome, expected, "{}", s.step);
/// }
/// assert!(resumed.journal.intents.is_empty());
/// assert_eq!(resumed.bundle(), first.bundle());
/// assert_eq!(emulator.counters().evaluations, 1); // nothing was created twice
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Created by this run.
    Created,
    /// Already in the journal (a resumed flow).
    Journaled,
    /// Found by looking it up: a create whose answer was lost, or a resumed flow.
    Found,
    /// Fetched or checked, nothing created.
    Checked,
}

/// A finished step.
///
/// ```
/// use std::time::Duration;
/// use trusthub::flow::{EndUserRole, Outcome, Step, StepRecord};
///
/// let record = |step, started_ms, elapsed_ms| StepRecord {
///     step,
///     sid: None,
///     started: Duration::from_millis(started_ms),
///     elapsed: Duration::from_millis(elapsed_ms),
///     outcome: Outcome::Created,
/// };
/// // Steps run concurrently: the policy and an end user start together.
/// let steps = [
///     record(Step::ConfirmPolicy, 0, 90),
///     record(Step::CreateEndUser(EndUserRole::BusinessInformation), 0, 120),
///     record(Step::CreateBundle, 90, 80),
/// ];
/// let slowest = steps.iter().max_by_key(|s| s.started + s.elapsed).unwrap();
/// assert_eq!(slowest.step, Step::CreateBundle); // ends at 170 ms
/// let busy: Duration = steps.iter().map(|s| s.elapsed).sum();
/// assert_eq!(busy, Duration::from_millis(290)); // more than the 170 ms of wall time
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepRecord {
    /// The step.
    pub step: Step,
    /// The SID it produced or used (the evaluation's too).
    pub sid: Option<ObjectSid>,
    /// Time from the start of the run to the start of the step.
    pub started: Duration,
    /// How long the step took (0 for journaled steps).
    pub elapsed: Duration,
    /// How the resource came to be.
    pub outcome: Outcome,
}

/// Receives every finished step (progress bars, logs). Must be quick.
///
/// ```
/// use std::sync::{Arc, Mutex};
/// use std::time::Duration;
/// use trusthub::flow::{FlowOptions, Observer, Outcome, Step, StepRecord};
/// use trusthub::sid::ObjectSid;
///
/// let lines = Arc::new(Mutex::new(Vec::new()));
/// let sink = Arc::clone(&lines);
/// let observer: Observer = Arc::new(move |r: &StepRecord| {
///     let sid = r.sid.as_ref().map_or("-", |sid| sid.as_str());
///     sink.lock().unwrap().push(format!("{} {sid} {:?}", r.step, r.outcome));
/// });
/// let options = FlowOptions {
///     observer: Some(Arc::clone(&observer)),
///     ..FlowOptions::default()
/// };
/// assert!(options.observer.is_some());
///
/// // The flow calls it once per finished step, like this:
/// observer(&StepRecord {
///     step: Step::Evaluate,
///     sid: Some(ObjectSid::from_static("EL0123456789abcdef0123456789abcdef")),
///     started: Duration::from_millis(410),
///     elapsed: Duration::from_millis(95),
///     outcome: Outcome::Created,
/// });
/// assert_eq!(
///     *lines.lock().unwrap(),
///     ["evaluate EL0123456789abcdef0123456789abcdef Created"]
/// );
/// ```
pub type Observer = Arc<dyn Fn(&StepRecord) + Send + Sync>;

/// Caps the requests in flight. Clones share the cap, so one limiter can bound many
/// concurrent flows (a batch shares one between its rows).
///
/// Every API call of a flow takes a permit for as long as it is in flight (its transport retries
/// included) and reports how it ended. Two modes:
///
/// - **Fixed** ([`Limiter::new`]): at most `n` requests at once, whatever the answers.
/// - **Adaptive** ([`Limiter::adaptive`]): the cap moves between `min` and `max` with Twilio's
///   answers, additive increase and multiplicative decrease (AIMD, as TCP's congestion window),
///   for one account whose concurrency limit is unknown or shared with other clients:
///   - *Decrease.* A request answered 429 (Twilio's, code 20429, or a gateway's without it), or
///     answered by Twilio as not processed ([`Processed::No`](crate::Processed::No) with an API
///     answer), halves the cap (rounded down, not below `min`) and puts increases on hold for
///     [`Limiter::DEFAULT_HOLD`] (see [`Limiter::with_hold`]), or for the answer's `Retry-After`
///     when that is longer. Once per window: the answers to requests sent before the last
///     decrease were caused by the cap before it and do not halve it again, so a burst of 429s
///     halves the cap once, and the next halving needs a 429 of a request sent under the new cap.
///   - *Increase.* Outside the hold, every `cap` successful requests sent while the limiter was
///     full (the request waited for its permit or took the last one) raise the cap by one, up to
///     `max`: about one step per round trip at full use. Requests sent while it was not full say
///     nothing about a higher cap, so an idle or lightly used limiter does not creep up.
///   - Any other answer (a success of a request sent below the cap, a 5xx, a timeout, a refusal)
///     changes nothing. Requests in flight when the cap drops finish; no new one starts until
///     fewer than the new cap are in flight.
///
/// Retries are not the limiter's: the transport's and the flow's rules stay as they are (a
/// create Twilio answered 429 is sent again after the backoff, within the client's
/// [`RetryPolicy`](crate::RetryPolicy)). A read the transport retried after a 429 and then
/// answered counts as one success (the limiter sees the call, not its attempts); the flows'
/// creates are sent without transport retries, so each of their 429s reaches the limiter.
///
/// Headers: Twilio documents `Twilio-Concurrent-Requests` (the account's requests in flight) and
/// `Twilio-Request-Duration` on its REST answers for watching concurrency, and per-method
/// `X-Rate-Limit-*` headers for TaskRouter only; it documents no header that gives the account's
/// concurrency limit for the Trust Hub, 2010 or Messaging APIs, nor `Retry-After` on 20429. The
/// client does not surface answers' header values (only `Retry-After`, through
/// [`Error::retry_after`](crate::Error::retry_after)), so the limiter honours `Retry-After` when
/// present (a longer hold) and otherwise learns from the statuses alone.
///
/// Two flows at once, never more than two requests in flight between them:
///
/// ```
/// use std::sync::Arc;
/// use trusthub::flow::{FlowOptions, Limiter, NoStore};
/// use trusthub::Client;
///
/// # use trusthub::attributes::*;
/// # use trusthub::flow::SecondaryProfileBuilder;
/// # use trusthub_emulator::Emulator;
/// # fn input(emulator: &Emulator, name: &str) -> SecondaryProfileBuilder {
/// #     let rep = |n: u8, job_position| AuthorizedRepresentative {
/// #         first_name: format!("Rep{n}"),
/// #         last_name: "Acme".into(),
/// #         email: format!("rep{n}@acme.example.com"),
/// #         phone_number: format!("+1415555010{n}"),
/// #         business_title: "Officer".into(),
/// #         job_position,
/// #     };
/// #     trusthub::flow::SecondaryProfile::builder()
/// #         .friendly_name(name)
/// #         .email("compliance@acme.example.com")
/// #         .business(BusinessInformation {
/// #             business_name: name.into(),
/// #             business_identity: BusinessIdentity::DirectCustomer,
/// #             business_type: BusinessType::LimitedLiabilityCorporation,
/// #             business_industry: BusinessIndustry::Technology,
/// #             business_registration_identifier: RegistrationIdentifier::Ein,
/// #             business_registration_number: "12-3456789".into(),
/// #             business_regions_of_operation: Region::UsaAndCanada.into(),
/// #             website_url: "https://acme.example.com".into(),
/// #             social_media_profile_urls: vec![],
/// #         })
/// #         .representatives(rep(1, JobPosition::Ceo), rep(2, JobPosition::Cfo))
/// #         .address(Address {
/// #             customer_name: name.into(),
/// #             street: "555 Main Street".into(),
/// #             city: "San Francisco".into(),
/// #             region: "CA".into(),
/// #             postal_code: "94105".into(),
/// #             iso_country: "US".into(),
/// #             ..Address::default()
/// #         })
/// #         .primary_profile(emulator.primary_profile_sid().parse().unwrap())
/// #         .phone_numbers([emulator.phone_number_sids()[0].parse().unwrap()])
/// # }
/// #
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let emulator = trusthub_emulator::start(Default::default()).await?; // a local Twilio
/// let client = Client::builder()
///     .account_sid(emulator.account_sid().parse()?)
///     .auth_token(emulator.auth_token())
///     .base_url(emulator.base_url())
///     .build()?;
/// let options = FlowOptions {
///     limiter: Limiter::new(2),
///     ..FlowOptions::default()
/// };
/// // `input` gives a valid builder for the emulator's account (see `SecondaryProfile`).
/// let acme = input(&emulator, "Acme Corp").build()?;
/// let globex = input(&emulator, "Globex").build()?;
/// let (a, b) = tokio::join!(
///     client.secondary_profile(&acme).options(options.clone()).run(),
///     client.secondary_profile(&globex).options(options.clone()).run(), // the clone shares the cap
/// );
/// let (a, b) = (a?, b?);
/// assert!(a.evaluation.is_compliant() && b.evaluation.is_compliant());
/// assert_ne!(a.bundle(), b.bundle());
/// assert_eq!(emulator.counters().customer_profiles, 2);
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct Limiter(Arc<LimiterShared>);

/// What the clones of a limiter share.
struct LimiterShared {
    permits: Semaphore,
    /// The adaptive mode's state; `None` for a fixed cap.
    aimd: Option<std::sync::Mutex<Aimd>>,
    /// The fixed mode's cap.
    fixed: usize,
    in_flight: std::sync::atomic::AtomicUsize,
    successes: std::sync::atomic::AtomicU64,
    overloads: std::sync::atomic::AtomicU64,
}

/// The adaptive mode's arithmetic (no I/O, no clock of its own: `now` is passed in).
#[derive(Debug, Clone)]
struct Aimd {
    min: usize,
    max: usize,
    cap: usize,
    hold: Duration,
    /// No increase before this instant (set by a decrease).
    held_until: Option<std::time::Instant>,
    /// Bumped by every decrease: a request remembers the window it was sent in, and only a 429
    /// of the current window lowers the cap.
    window: u64,
    /// Successful full-use requests since the cap last changed.
    credit: usize,
    /// Permits to retire as they come back: the cap was lowered while they were in use.
    debt: usize,
    decreases: u64,
    increases: u64,
}

impl Aimd {
    fn new(min: usize, start: usize, max: usize, hold: Duration) -> Self {
        let max = max.clamp(1, Semaphore::MAX_PERMITS);
        let min = min.clamp(1, max);
        Aimd {
            min,
            max,
            cap: start.clamp(min, max),
            hold,
            held_until: None,
            window: 0,
            credit: 0,
            debt: 0,
            decreases: 0,
            increases: 0,
        }
    }

    /// A request sent in `window` was answered "overloaded" at `now`: halves the cap (not below
    /// `min`) once per window and holds increases. Returns by how much the cap dropped.
    fn overload(
        &mut self,
        window: u64,
        now: std::time::Instant,
        retry_after: Option<Duration>,
    ) -> usize {
        if window != self.window {
            return 0;
        }
        let cap = (self.cap / 2).max(self.min);
        let dropped = self.cap - cap;
        self.cap = cap;
        self.window += 1;
        self.credit = 0;
        self.held_until = Some(now + self.hold.max(retry_after.unwrap_or_default()));
        if dropped > 0 {
            self.decreases += 1;
        }
        dropped
    }

    /// A request succeeded at `now`; `full`: the limiter was full when it was sent. Returns whether
    /// the cap rose by one.
    fn success(&mut self, full: bool, now: std::time::Instant) -> bool {
        if !full || self.cap >= self.max || self.held(now) {
            return false;
        }
        self.credit += 1;
        if self.credit < self.cap {
            return false;
        }
        self.credit = 0;
        self.cap += 1;
        self.increases += 1;
        true
    }

    /// A new highest cap (at least 1): clamps `min` and the cap to it. Returns by how much the
    /// cap dropped.
    fn set_max(&mut self, max: usize) -> usize {
        let max = max.clamp(1, Semaphore::MAX_PERMITS);
        self.max = max;
        self.min = self.min.min(max);
        if self.cap <= max {
            return 0;
        }
        let dropped = self.cap - max;
        self.cap = max;
        self.credit = 0;
        dropped
    }

    fn held(&self, now: std::time::Instant) -> bool {
        self.held_until.is_some_and(|until| now < until)
    }
}

/// How a call ended, for the limiter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Signal {
    Success,
    /// 429, or an API answer Twilio did not process; with its `Retry-After`, if any.
    Overload(Option<Duration>),
    /// Anything else: says nothing about the account's concurrency.
    Neutral,
}

impl Signal {
    fn of<T>(result: &Result<T, crate::Error>) -> Signal {
        match result {
            Ok(_) => Signal::Success,
            Err(e)
                if e.status() == Some(429)
                    || (e.kind() == crate::ErrorKind::Api
                        && e.processed() == crate::Processed::No) =>
            {
                Signal::Overload(e.retry_after())
            }
            Err(_) => Signal::Neutral,
        }
    }
}

/// A limiter's state and counters ([`Limiter::current`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct LimiterState {
    /// Whether the cap adapts ([`Limiter::adaptive`]).
    pub adaptive: bool,
    /// Requests allowed in flight now.
    pub cap: usize,
    /// The lowest cap (the fixed cap in the fixed mode).
    pub min: usize,
    /// The highest cap (the fixed cap in the fixed mode).
    pub max: usize,
    /// Requests in flight now (a lowered cap lets the ones already sent finish: this can exceed
    /// `cap` for a while).
    pub in_flight: usize,
    /// Calls that succeeded.
    pub successes: u64,
    /// Calls answered 429 (or not processed by Twilio), counted in both modes.
    pub overloads: u64,
    /// Times the cap was halved.
    pub decreases: u64,
    /// Times the cap rose by one.
    pub increases: u64,
    /// Whether increases are on hold after a recent decrease.
    pub holding: bool,
}

impl fmt::Debug for Limiter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.current();
        f.debug_struct("Limiter")
            .field("adaptive", &state.adaptive)
            .field("cap", &state.cap)
            .field("in_flight", &state.in_flight)
            .finish()
    }
}

impl Limiter {
    /// How long increases wait after a decrease, unless [`Limiter::with_hold`] says otherwise:
    /// a few of Twilio's round trips, so that the lowered cap is tried before it grows again.
    pub const DEFAULT_HOLD: Duration = Duration::from_secs(1);

    /// At most `max_in_flight` requests at once (at least 1), whatever the answers.
    pub fn new(max_in_flight: usize) -> Self {
        let cap = max_in_flight.max(1);
        Limiter::with(Semaphore::new(cap), None, cap)
    }

    /// An adaptive cap (see [`Limiter`]): starts at `start`, moves between `min` and `max`
    /// (`max` at least 1, `min` between 1 and `max`); `start` is clamped into that range.
    ///
    /// ```
    /// use trusthub::flow::Limiter;
    ///
    /// let limiter = Limiter::adaptive(2, 32, 64);
    /// let state = limiter.current();
    /// assert!(state.adaptive);
    /// assert_eq!((state.min, state.cap, state.max), (2, 32, 64));
    /// assert_eq!(state.in_flight, 0);
    /// assert_eq!(Limiter::adaptive(0, 100, 8).current().cap, 8);
    /// assert_eq!(Limiter::adaptive(16, 4, 8).current().min, 8);
    /// assert!(!Limiter::new(8).current().adaptive);
    /// ```
    pub fn adaptive(min: usize, start: usize, max: usize) -> Self {
        let aimd = Aimd::new(min, start, max, Self::DEFAULT_HOLD);
        Limiter::with(
            Semaphore::new(aimd.cap),
            Some(std::sync::Mutex::new(aimd)),
            0,
        )
    }

    /// Sets how long increases wait after a decrease (adaptive mode; a fixed limiter ignores
    /// it). Clones share it.
    pub fn with_hold(self, hold: Duration) -> Self {
        if let Some(aimd) = &self.0.aimd {
            aimd.lock().unwrap_or_else(|e| e.into_inner()).hold = hold;
        }
        self
    }

    /// Sets the highest cap of an adaptive limiter (at least 1), for every clone: a worker's
    /// share of an account-wide budget that changes as workers come and go, say.
    ///
    /// - A lower `max` clamps `min` and the cap to it: free permits above the new cap go at
    ///   once, those in use are retired as they come back (as after a 429: requests in flight
    ///   finish, no new one starts until fewer than the new cap are in flight).
    /// - A higher `max` leaves the cap where it is: it grows by the usual additive increase (one
    ///   step per `cap` successes at full use, outside the hold). `min` stays.
    ///
    /// A fixed limiter ([`Limiter::new`]) does not resize: it ignores `set_max` (its cap, `min`
    /// and `max` stay `n`); share a budget with an adaptive one.
    ///
    /// ```
    /// use trusthub::flow::Limiter;
    ///
    /// let limiter = Limiter::adaptive(4, 6, 6);
    /// limiter.set_max(2);
    /// let state = limiter.current();
    /// assert_eq!((state.min, state.cap, state.max), (2, 2, 2));
    /// limiter.set_max(6);
    /// let state = limiter.current();
    /// assert_eq!((state.min, state.cap, state.max), (2, 2, 6), "grows by AIMD");
    /// let fixed = Limiter::new(6);
    /// fixed.set_max(2);
    /// assert_eq!(fixed.current().cap, 6, "a fixed cap stays");
    /// ```
    pub fn set_max(&self, max: usize) {
        let Some(aimd) = &self.0.aimd else {
            return;
        };
        let mut aimd = aimd.lock().unwrap_or_else(|e| e.into_inner());
        let dropped = aimd.set_max(max);
        if dropped > 0 {
            // Free permits go at once; those in use are retired as they come back.
            let retired = self.0.permits.forget_permits(dropped);
            aimd.debt += dropped - retired;
        }
    }

    /// Sets an adaptive limiter's share of a budget ([`set_max`](Self::set_max)) and, unless a
    /// 429 is holding the cap down, moves the cap to it at once: a share is what the account
    /// grants this process now (a worker left, its share is free), not a guess to grow towards.
    /// A fixed limiter ignores it, as it ignores `set_max`.
    ///
    /// ```
    /// use trusthub::flow::Limiter;
    ///
    /// let limiter = Limiter::adaptive(1, 2, 2);
    /// limiter.set_share(6);
    /// let state = limiter.current();
    /// assert_eq!((state.cap, state.max), (6, 6), "no 429 seen: the whole share at once");
    /// limiter.set_share(3);
    /// assert_eq!(limiter.current().cap, 3);
    /// ```
    pub fn set_share(&self, share: usize) {
        self.set_max(share);
        let Some(aimd) = &self.0.aimd else {
            return;
        };
        let mut aimd = aimd.lock().unwrap_or_else(|e| e.into_inner());
        if aimd.held(std::time::Instant::now()) || aimd.cap >= aimd.max {
            return;
        }
        let mut grown = aimd.max - aimd.cap;
        aimd.cap = aimd.max;
        // Permits still owed to an earlier decrease are forgiven first.
        let forgiven = grown.min(aimd.debt);
        aimd.debt -= forgiven;
        grown -= forgiven;
        if grown > 0 {
            self.0.permits.add_permits(grown);
        }
    }

    /// The cap now, the requests in flight and what the limiter has seen.
    pub fn current(&self) -> LimiterState {
        use std::sync::atomic::Ordering::Relaxed;
        let shared = &self.0;
        let mut state = LimiterState {
            adaptive: false,
            cap: shared.fixed,
            min: shared.fixed,
            max: shared.fixed,
            in_flight: shared.in_flight.load(Relaxed),
            successes: shared.successes.load(Relaxed),
            overloads: shared.overloads.load(Relaxed),
            decreases: 0,
            increases: 0,
            holding: false,
        };
        if let Some(aimd) = &shared.aimd {
            let aimd = aimd.lock().unwrap_or_else(|e| e.into_inner());
            state.adaptive = true;
            state.cap = aimd.cap;
            state.min = aimd.min;
            state.max = aimd.max;
            state.decreases = aimd.decreases;
            state.increases = aimd.increases;
            state.holding = aimd.held(std::time::Instant::now());
        }
        state
    }

    fn with(permits: Semaphore, aimd: Option<std::sync::Mutex<Aimd>>, fixed: usize) -> Self {
        Limiter(Arc::new(LimiterShared {
            permits,
            aimd,
            fixed,
            in_flight: Default::default(),
            successes: Default::default(),
            overloads: Default::default(),
        }))
    }

    /// A permit for one call; [`LimiterPermit::record`] reports how it ended.
    pub(crate) async fn acquire(&self) -> LimiterPermit<'_> {
        use std::sync::atomic::Ordering::Relaxed;
        let shared = &*self.0;
        let Some(aimd) = &shared.aimd else {
            let permit = shared.permits.acquire().await;
            shared.in_flight.fetch_add(1, Relaxed);
            return LimiterPermit {
                shared,
                permit: Some(permit.expect("the limiter is never closed")),
                window: 0,
                full: false,
            };
        };
        let (permit, waited) = match shared.permits.try_acquire() {
            Ok(permit) => (permit, false),
            Err(_) => (
                shared
                    .permits
                    .acquire()
                    .await
                    .expect("the limiter is never closed"),
                true,
            ),
        };
        let in_flight = shared.in_flight.fetch_add(1, Relaxed) + 1;
        let aimd = aimd.lock().unwrap_or_else(|e| e.into_inner());
        LimiterPermit {
            shared,
            permit: Some(permit),
            window: aimd.window,
            full: waited || in_flight >= aimd.cap,
        }
    }
}

/// One call's place under a [`Limiter`]: held while the call is in flight.
pub(crate) struct LimiterPermit<'a> {
    shared: &'a LimiterShared,
    permit: Option<tokio::sync::SemaphorePermit<'a>>,
    /// The adaptive window the call was sent in.
    window: u64,
    /// The limiter was full when the call was sent.
    full: bool,
}

impl LimiterPermit<'_> {
    /// Reports how the call ended: counted in both modes; in the adaptive one, a 429 may lower the
    /// cap and a success raise it.
    pub(crate) fn record<T>(&self, result: &Result<T, crate::Error>) {
        use std::sync::atomic::Ordering::Relaxed;
        let shared = self.shared;
        let signal = Signal::of(result);
        match signal {
            Signal::Success => shared.successes.fetch_add(1, Relaxed),
            Signal::Overload(_) => shared.overloads.fetch_add(1, Relaxed),
            Signal::Neutral => return,
        };
        let Some(aimd) = &shared.aimd else {
            return;
        };
        let now = std::time::Instant::now();
        let mut aimd = aimd.lock().unwrap_or_else(|e| e.into_inner());
        match signal {
            Signal::Success => {
                if aimd.success(self.full, now) {
                    if aimd.debt > 0 {
                        aimd.debt -= 1;
                    } else {
                        shared.permits.add_permits(1);
                    }
                }
            }
            Signal::Overload(retry_after) => {
                let dropped = aimd.overload(self.window, now, retry_after);
                if dropped > 0 {
                    // Free permits go at once; those in use are retired as they come back.
                    let retired = shared.permits.forget_permits(dropped);
                    aimd.debt += dropped - retired;
                    tracing::debug!(
                        cap = aimd.cap,
                        in_flight = shared.in_flight.load(Relaxed),
                        "trusthub.flow limiter lowered its cap after a 429"
                    );
                }
            }
            Signal::Neutral => {}
        }
    }
}

impl Drop for LimiterPermit<'_> {
    fn drop(&mut self) {
        self.shared
            .in_flight
            .fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
        let (Some(aimd), Some(permit)) = (&self.shared.aimd, self.permit.take()) else {
            return;
        };
        let mut aimd = aimd.lock().unwrap_or_else(|e| e.into_inner());
        if aimd.debt > 0 {
            aimd.debt -= 1;
            permit.forget();
        }
    }
}

#[cfg(test)]
mod limiter_tests {
    use super::*;
    use std::time::Instant;

    const HOLD: Duration = Duration::from_millis(100);

    #[test]
    fn a_429_halves_the_cap_once_per_window_and_not_below_min() {
        let now = Instant::now();
        let mut aimd = Aimd::new(2, 32, 64, HOLD);
        assert_eq!(aimd.overload(0, now, None), 16);
        assert_eq!(aimd.cap, 16);
        // Answers to requests sent before the decrease do not halve it again.
        for _ in 0..23 {
            assert_eq!(aimd.overload(0, now, None), 0);
        }
        assert_eq!(aimd.cap, 16);
        assert_eq!(aimd.overload(1, now, None), 8);
        assert_eq!(aimd.overload(2, now, None), 4);
        assert_eq!(aimd.overload(3, now, None), 2);
        assert_eq!(aimd.overload(4, now, None), 0, "never below min");
        assert_eq!(aimd.cap, 2);
        assert_eq!(aimd.decreases, 4);
        let mut odd = Aimd::new(1, 9, 64, HOLD);
        odd.overload(0, now, None);
        assert_eq!(odd.cap, 4, "halved, rounded down");
    }

    #[test]
    fn successes_add_one_per_cap_outside_the_hold_and_only_at_full_use() {
        let start = Instant::now();
        let mut aimd = Aimd::new(1, 8, 10, HOLD);
        // Not full: nothing learnt.
        assert!((0..100).all(|_| !aimd.success(false, start)));
        assert_eq!(aimd.cap, 8);
        // Eight full successes: +1.
        assert!((0..7).all(|_| !aimd.success(true, start)));
        assert!(aimd.success(true, start));
        assert_eq!(aimd.cap, 9);
        // Nine more: +1; then the max stops it.
        assert_eq!((0..9).filter(|_| aimd.success(true, start)).count(), 1);
        assert_eq!(aimd.cap, 10);
        assert!((0..100).all(|_| !aimd.success(true, start)));
        assert_eq!((aimd.cap, aimd.increases), (10, 2));

        // After a decrease, increases wait for the hold.
        aimd.overload(aimd.window, start, None);
        assert_eq!(aimd.cap, 5);
        assert!((0..100).all(|_| !aimd.success(true, start + HOLD / 2)));
        assert_eq!(aimd.cap, 5);
        let later = start + HOLD;
        assert_eq!((0..5).filter(|_| aimd.success(true, later)).count(), 1);
        assert_eq!(aimd.cap, 6);
    }

    #[test]
    fn retry_after_lengthens_the_hold() {
        let now = Instant::now();
        let mut aimd = Aimd::new(1, 8, 16, HOLD);
        aimd.overload(0, now, Some(Duration::from_secs(5)));
        assert!(aimd.held(now + Duration::from_secs(4)));
        assert!(!aimd.held(now + Duration::from_secs(5)));
        let mut short = Aimd::new(1, 8, 16, HOLD);
        short.overload(0, now, Some(Duration::ZERO));
        assert!(short.held(now + HOLD / 2), "never shorter than the hold");
    }

    #[test]
    fn what_counts_as_overload() {
        let answer = |status: u16, body: &str| -> Result<(), crate::Error> {
            Err(crate::Error::from_api(crate::ApiError::from_answer(
                "CreateEndUser",
                status,
                None,
                None,
                body.as_bytes(),
            )))
        };
        let twilio_429 = r#"{"code": 20429, "message": "Too Many Requests", "status": 429}"#;
        assert_eq!(Signal::of(&answer(429, twilio_429)), Signal::Overload(None));
        assert_eq!(
            Signal::of(&answer(429, "<html>slow down</html>")),
            Signal::Overload(None),
            "a gateway's 429 too"
        );
        let retry = Err::<(), _>(crate::Error::from_api(crate::ApiError::from_answer(
            "CreateEndUser",
            429,
            None,
            Some(Duration::from_secs(2)),
            twilio_429.as_bytes(),
        )));
        assert_eq!(
            Signal::of(&retry),
            Signal::Overload(Some(Duration::from_secs(2)))
        );
        assert_eq!(Signal::of(&Ok::<_, crate::Error>(())), Signal::Success);
        for (status, body) in [
            (503, r#"{"code": 20503, "message": "Service Unavailable"}"#),
            (
                500,
                r#"{"code": 20500, "message": "Internal Server Error"}"#,
            ),
            (
                400,
                r#"{"code": 20001, "message": "Missing required parameter"}"#,
            ),
        ] {
            assert_eq!(
                Signal::of(&answer(status, body)),
                Signal::Neutral,
                "{status}"
            );
        }
    }

    #[tokio::test]
    async fn permits_follow_the_cap() {
        let twilio_429: Result<(), crate::Error> =
            Err(crate::Error::from_api(crate::ApiError::from_answer(
                "Op",
                429,
                None,
                None,
                br#"{"code": 20429, "message": "Too Many Requests", "status": 429}"#,
            )));
        let limiter = Limiter::adaptive(1, 4, 8).with_hold(Duration::ZERO);
        let held: Vec<_> = futures_util::future::join_all((0..4).map(|_| limiter.acquire())).await;
        assert_eq!(limiter.current().in_flight, 4);
        assert!(held.iter().all(|p| p.window == 0));
        assert_eq!(
            held.iter().filter(|p| p.full).count(),
            1,
            "the last took the last permit"
        );
        // One 429 halves the cap to 2; the other three answers of the same window do not.
        for permit in &held {
            permit.record(&twilio_429);
        }
        let state = limiter.current();
        assert_eq!((state.cap, state.overloads, state.decreases), (2, 4, 1));
        // The four permits in use: two retire as they come back, two return.
        drop(held);
        assert_eq!(limiter.current().in_flight, 0);
        assert_eq!(limiter.0.permits.available_permits(), 2);
        // Two successes at full use (cap 2) raise the cap to 3; those below it count for nothing.
        for _ in 0..2 {
            let a = limiter.acquire().await;
            let b = limiter.acquire().await;
            assert!(!a.full && b.full);
            a.record(&Ok::<_, crate::Error>(()));
            b.record(&Ok::<_, crate::Error>(()));
        }
        let state = limiter.current();
        assert_eq!((state.cap, state.increases, state.successes), (3, 1, 4));
        assert_eq!(limiter.0.permits.available_permits(), 3);

        // The fixed mode counts but never moves.
        let fixed = Limiter::new(2);
        let permit = fixed.acquire().await;
        permit.record(&twilio_429);
        drop(permit);
        let state = fixed.current();
        assert_eq!((state.cap, state.overloads, state.in_flight), (2, 1, 0));
        assert_eq!(fixed.0.permits.available_permits(), 2);
    }

    #[tokio::test]
    async fn set_max_lowers_the_cap_as_permits_come_back_and_a_higher_max_grows_by_aimd() {
        let limiter = Limiter::adaptive(3, 6, 6).with_hold(Duration::ZERO);
        let held: Vec<_> = futures_util::future::join_all((0..4).map(|_| limiter.acquire())).await;
        // Four in use, two free: the cap drops to 2, the two free permits go now, two of the
        // four in use retire as they come back.
        limiter.set_max(2);
        let state = limiter.current();
        assert_eq!((state.min, state.cap, state.max), (2, 2, 2));
        assert_eq!(limiter.0.permits.available_permits(), 0);
        assert_eq!(state.in_flight, 4, "requests in flight finish");
        drop(held);
        assert_eq!(limiter.0.permits.available_permits(), 2);
        // The same max again, or a lower one than the cap that is not: nothing moves.
        limiter.set_max(2);
        assert_eq!(limiter.0.permits.available_permits(), 2);

        // A higher max: the cap stays, then grows by one per `cap` successes at full use.
        limiter.set_max(4);
        let state = limiter.current();
        assert_eq!((state.min, state.cap, state.max), (2, 2, 4));
        for cap in [2, 3] {
            // `cap` rounds at full use: only the request that took the last permit counts.
            for _ in 0..cap {
                assert_eq!(limiter.current().cap, cap);
                let permits: Vec<_> =
                    futures_util::future::join_all((0..cap).map(|_| limiter.acquire())).await;
                for p in &permits {
                    p.record(&Ok::<_, crate::Error>(()));
                }
            }
            assert_eq!(limiter.current().cap, cap + 1);
        }
        assert_eq!(limiter.0.permits.available_permits(), 4);
        // Never above the max.
        let permits: Vec<_> =
            futures_util::future::join_all((0..4).map(|_| limiter.acquire())).await;
        for p in &permits {
            p.record(&Ok::<_, crate::Error>(()));
        }
        drop(permits);
        assert_eq!(limiter.current().cap, 4);
        assert_eq!(limiter.0.permits.available_permits(), 4);

        // A 429's debt and a lower max add up: every retired permit is one the cap lost.
        let held: Vec<_> = futures_util::future::join_all((0..4).map(|_| limiter.acquire())).await;
        limiter.set_max(1);
        assert_eq!(limiter.current().cap, 1);
        drop(held);
        assert_eq!(limiter.0.permits.available_permits(), 1);
        assert_eq!(limiter.current().min, 1);
        assert_eq!(Aimd::new(1, 1, 8, HOLD).set_max(0), 0, "at least 1");

        // A fixed limiter does not resize.
        let fixed = Limiter::new(3);
        fixed.set_max(1);
        let state = fixed.current();
        assert_eq!((state.min, state.cap, state.max), (3, 3, 3));
        assert_eq!(fixed.0.permits.available_permits(), 3);
        fixed.set_max(9);
        assert_eq!(fixed.0.permits.available_permits(), 3);
    }
}

/// How a flow runs.
///
/// How often a create is sent is not an option of the flow but the client's
/// [`RetryPolicy`](crate::RetryPolicy): one create is sent at most `max_attempts` times in all,
/// whether Twilio did not process it (its 429, a connect error: sent again after the backoff
/// or `Retry-After`) or a lookup after an answer that may have been processed (a dropped
/// connection, a 5xx, a gateway's error) did not find it.
///
/// ```
/// use std::sync::Arc;
/// use trusthub::flow::{FlowOptions, Limiter, StepRecord};
///
/// let defaults = FlowOptions::default();
/// assert!(!defaults.allow_incomplete);
/// assert!(defaults.observer.is_none());
///
/// // Create the bundle even if the policy asks for more than the input has (the evaluation
/// // then says what fails), at most 2 requests at once, each step printed.
/// let options = FlowOptions {
///     limiter: Limiter::new(2),
///     allow_incomplete: true,
///     observer: Some(Arc::new(|r: &StepRecord| eprintln!("{} in {:?}", r.step, r.elapsed))),
///     ..FlowOptions::default()
/// };
/// assert!(format!("{options:?}").ends_with("allow_incomplete: true, observer: true, preflight: None }"));
/// ```
#[derive(Clone)]
pub struct FlowOptions {
    /// Requests in flight at once; default [`FlowOptions::DEFAULT_MAX_IN_FLIGHT`] per flow.
    pub limiter: Limiter,
    /// Create the bundle even when the policy asks for something the input lacks (the
    /// evaluation then says what fails); default `false`: such input stops the flow.
    pub allow_incomplete: bool,
    /// Called after every step.
    pub observer: Option<Observer>,
    /// The policy and primary profile already checked ([`Preflight::check`]), e.g. once for a
    /// whole batch; used when it is for the flow's own policy and primary profile, else the flow
    /// checks them itself before creating anything.
    pub preflight: Option<Arc<Preflight>>,
}

impl fmt::Debug for FlowOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FlowOptions")
            .field("limiter", &self.limiter)
            .field("allow_incomplete", &self.allow_incomplete)
            .field("observer", &self.observer.is_some())
            .field(
                "preflight",
                &self.preflight.as_ref().map(|p| p.primary_profile()),
            )
            .finish()
    }
}

impl FlowOptions {
    /// Default requests in flight per flow: 8, well under Twilio's concurrency limits.
    pub const DEFAULT_MAX_IN_FLIGHT: usize = 8;
}

impl Default for FlowOptions {
    fn default() -> Self {
        FlowOptions {
            limiter: Limiter::new(Self::DEFAULT_MAX_IN_FLIGHT),
            allow_incomplete: false,
            observer: None,
            preflight: None,
        }
    }
}

/// Where the profile's address comes from.
///
/// [`SecondaryProfileBuilder::address`] gives `New`, [`SecondaryProfileBuilder::existing_address`]
/// gives `Existing`.
///
/// ```
/// use trusthub::attributes::Address;
/// use trusthub::flow::{AddressInput, SecondaryProfile};
/// use trusthub::sid::AddressSid;
///
/// // A new address is validated before anything is sent: no PO box.
/// let po_box = Address {
///     customer_name: "Acme Corp".into(),
///     street: "P.O. Box 123".into(),
///     city: "San Francisco".into(),
///     region: "CA".into(),
///     postal_code: "94105".into(),
///     iso_country: "US".into(),
///     ..Address::default()
/// };
/// let errors = SecondaryProfile::builder().address(po_box.clone()).build().unwrap_err();
/// assert!(errors.fields().any(|f| f == "address.street"));
/// assert!(!format!("{:?}", AddressInput::New(po_box)).contains("Box 123"));
///
/// // An existing address skips step 5: nothing to check but its SID's form.
/// let sid = AddressSid::from_static("AD0123456789abcdef0123456789abcdef");
/// let errors = SecondaryProfile::builder().existing_address(sid).build().unwrap_err();
/// assert!(!errors.fields().any(|f| f.starts_with("address")));
/// ```
#[derive(Debug, Clone)]
pub enum AddressInput {
    /// Create this address (step 5).
    New(Address),
    /// Use an address that exists (the seed: "skip this step if you already have an address sid").
    Existing(AddressSid),
}

/// A validated Secondary Customer Profile, ready to run. Build with
/// [`SecondaryProfile::builder`].
///
/// The input of the seed document, typed (see [`FlowReport`] for a run):
///
/// ```
/// use trusthub::attributes::*;
/// use trusthub::flow::SecondaryProfile;
/// use trusthub::sid::{policies, PhoneNumberSid};
///
/// let representative = |first: &str, email: &str, phone: &str, job_position| {
///     AuthorizedRepresentative {
///         first_name: first.into(),
///         last_name: "Acme".into(),
///         email: email.into(),
///         phone_number: phone.into(),
///         business_title: "Officer".into(),
///         job_position,
///     }
/// };
/// let pn: PhoneNumberSid = "PN0123456789abcdef0123456789abcdef".parse()?;
/// let builder = SecondaryProfile::builder()
///     .friendly_name("Acme Corp")
///     .email("compliance@acme.example.com")
///     .business(BusinessInformation {
///         business_name: "Acme Corp".into(),
///         business_identity: BusinessIdentity::DirectCustomer,
///         business_type: BusinessType::LimitedLiabilityCorporation,
///         business_industry: BusinessIndustry::Technology,
///         business_registration_identifier: RegistrationIdentifier::Duns,
///         business_registration_number: "150483782".into(),
///         business_regions_of_operation: Region::UsaAndCanada.into(),
///         website_url: "https://acme.example.com".into(),
///         social_media_profile_urls: vec![],
///     })
///     .representatives(
///         representative("Ada", "ada@acme.example.com", "+14155550101", JobPosition::Ceo),
///         representative("Grace", "grace@acme.example.com", "+14155550102", JobPosition::Cfo),
///     )
///     .address(Address {
///         customer_name: "Acme Corp".into(),
///         street: "555 Main Street".into(),
///         city: "San Francisco".into(),
///         region: "CA".into(),
///         postal_code: "94105".into(),
///         iso_country: "US".into(),
///         ..Address::default()
///     })
///     .primary_profile("BU0123456789abcdef0123456789abcdef".parse()?)
///     .phone_numbers([pn, pn]);
/// let flow = builder.clone().build()?;
/// assert_eq!(flow.policy(), policies::SECONDARY_CUSTOMER_PROFILE); // the default
///
/// // Advice that does not stop the flow: DUNS for a US business, a number listed twice.
/// let advice: Vec<&str> = flow.warnings().iter().map(|w| w.field()).collect();
/// assert_eq!(
///     advice,
///     ["business_information.business_registration_identifier", "phone_numbers"]
/// );
///
/// // The digest ties a journal to its input; `Debug` shows no personal data.
/// let key = trusthub::flow::DigestKey::generate()?;
/// let digests = flow.input_digests(&key);
/// assert_eq!(digests, builder.clone().build()?.input_digests(&key));
/// let renamed = builder.friendly_name("Acme Inc").build()?.input_digests(&key);
/// assert_ne!(digests["bundle"], renamed["bundle"]); // only the bundle's part changed
/// assert_eq!(digests["address"], renamed["address"]);
/// assert!(!format!("{flow:?}").contains("ada@acme.example.com"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct SecondaryProfile {
    pub(crate) friendly_name: String,
    pub(crate) email: String,
    pub(crate) status_callback: Option<String>,
    pub(crate) policy: PolicySid,
    pub(crate) business: BusinessInformation,
    pub(crate) representative_1: Option<AuthorizedRepresentative>,
    pub(crate) representative_2: Option<AuthorizedRepresentative>,
    pub(crate) address: AddressInput,
    pub(crate) primary_profile: CustomerProfileSid,
    pub(crate) phone_numbers: Vec<PhoneNumberSid>,
    pub(crate) warnings: Vec<Warning>,
}

impl fmt::Debug for SecondaryProfile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SecondaryProfile")
            .field("policy", &self.policy)
            .field("business", &self.business)
            .field("representative_1", &self.representative_1)
            .field("representative_2", &self.representative_2)
            .field("address", &self.address)
            .field("primary_profile", &self.primary_profile)
            .field("phone_numbers", &self.phone_numbers)
            .finish_non_exhaustive()
    }
}

/// Collects the input of a [`SecondaryProfile`].
///
/// `build()` checks everything and reports every problem at once:
///
/// ```
/// use trusthub::flow::SecondaryProfile;
/// use trusthub::sid::AddressSid;
///
/// let errors = SecondaryProfile::builder()
///     .friendly_name(" ")
///     .email("compliance.acme.example.com")
///     .status_callback("ftp://acme.example.com/trusthub")
///     .existing_address(AddressSid::from_static("AD0123456789abcdef0123456789abcdef"))
///     .build()
///     .unwrap_err();
/// assert_eq!(
///     errors.fields().collect::<Vec<_>>(),
///     ["friendly_name", "email", "status_callback", "business_information", "primary_profile"]
/// );
/// // Missing representatives are only warnings here: the policy check (step 1) stops the
/// // flow, or the evaluation fails with `allow_incomplete`.
/// let warned: Vec<&str> = errors.warnings().iter().map(|w| w.field()).collect();
/// assert_eq!(warned, ["representative_1", "representative_2"]);
/// assert!(!errors.to_string().contains("compliance.acme"));
/// ```
#[derive(Default, Clone)]
pub struct SecondaryProfileBuilder {
    friendly_name: Option<String>,
    email: Option<String>,
    status_callback: Option<String>,
    policy: Option<PolicySid>,
    business: Option<BusinessInformation>,
    representative_1: Option<AuthorizedRepresentative>,
    representative_2: Option<AuthorizedRepresentative>,
    address: Option<AddressInput>,
    primary_profile: Option<CustomerProfileSid>,
    phone_numbers: Vec<PhoneNumberSid>,
}

impl fmt::Debug for SecondaryProfileBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SecondaryProfileBuilder")
            .finish_non_exhaustive()
    }
}

impl SecondaryProfileBuilder {
    /// The bundle's friendly name (how you find it in the Console), e.g. the business name.
    pub fn friendly_name(mut self, name: impl Into<String>) -> Self {
        self.friendly_name = Some(name.into());
        self
    }

    /// The email that receives status updates of the bundle.
    pub fn email(mut self, email: impl Into<String>) -> Self {
        self.email = Some(email.into());
        self
    }

    /// The URL Twilio calls on status changes (verify them with [`crate::signature`]).
    pub fn status_callback(mut self, url: impl Into<String>) -> Self {
        self.status_callback = Some(url.into());
        self
    }

    /// The policy; default [`policies::SECONDARY_CUSTOMER_PROFILE`].
    pub fn policy(mut self, policy: PolicySid) -> Self {
        self.policy = Some(policy);
        self
    }

    /// The business information (step 3).
    pub fn business(mut self, business: BusinessInformation) -> Self {
        self.business = Some(business);
        self
    }

    /// Both authorized representatives (step 4).
    pub fn representatives(
        mut self,
        first: AuthorizedRepresentative,
        second: AuthorizedRepresentative,
    ) -> Self {
        self.representative_1 = Some(first);
        self.representative_2 = Some(second);
        self
    }

    /// The first authorized representative.
    pub fn representative_1(mut self, representative: AuthorizedRepresentative) -> Self {
        self.representative_1 = Some(representative);
        self
    }

    /// The second authorized representative.
    pub fn representative_2(mut self, representative: AuthorizedRepresentative) -> Self {
        self.representative_2 = Some(representative);
        self
    }

    /// The business address, created by the flow (step 5).
    pub fn address(mut self, address: Address) -> Self {
        self.address = Some(AddressInput::New(address));
        self
    }

    /// An address that already exists instead of a new one.
    pub fn existing_address(mut self, address: AddressSid) -> Self {
        self.address = Some(AddressInput::Existing(address));
        self
    }

    /// The ISV's primary customer profile (must be twilio-approved).
    pub fn primary_profile(mut self, profile: CustomerProfileSid) -> Self {
        self.primary_profile = Some(profile);
        self
    }

    /// Phone numbers to assign to the profile (step 9).
    pub fn phone_numbers(mut self, numbers: impl IntoIterator<Item = PhoneNumberSid>) -> Self {
        self.phone_numbers = numbers.into_iter().collect();
        self
    }

    /// Validates everything locally, reporting every problem at once; nothing is sent.
    pub fn build(self) -> Result<SecondaryProfile, ValidationErrors> {
        let mut r = ValidationReport::new();
        let friendly_name = self.friendly_name.unwrap_or_default();
        if friendly_name.trim().is_empty() {
            r.error(
                "friendly_name",
                ProblemKind::Required,
                "the bundle's name",
                "nothing",
            );
        }
        r.text("", "friendly_name", &friendly_name, MAX_TEXT_CHARS);
        let email = self.email.unwrap_or_default();
        if let Some(problem) = email_problem(&email) {
            r.error("email", ProblemKind::Email, "an email address", problem);
        }
        r.text("", "email", &email, MAX_EMAIL_CHARS);
        if let Some(url) = &self.status_callback {
            if let Some(problem) = http_url_problem(url) {
                r.error(
                    "status_callback",
                    ProblemKind::Url,
                    "an http(s) URL",
                    problem,
                );
            }
            r.text("", "status_callback", url, MAX_URL_CHARS);
        }
        let iso_country = match &self.address {
            Some(AddressInput::New(a)) => Some(a.iso_country.clone()),
            _ => None,
        };
        match &self.business {
            Some(b) => match &iso_country {
                Some(country) => b.validate_for_country("business_information", country, &mut r),
                None => {
                    r.check("business_information", b);
                }
            },
            None => r.error(
                "business_information",
                ProblemKind::Required,
                "the business information",
                "nothing",
            ),
        }
        for (slot, rep) in [
            (RepresentativeSlot::First, &self.representative_1),
            (RepresentativeSlot::Second, &self.representative_2),
        ] {
            match rep {
                Some(rep) => {
                    r.check(slot.path(), rep);
                }
                None => r.warn(
                    slot.path(),
                    WarningKind::Flow,
                    "not given: the Secondary Customer Profile policy requires two authorized \
                     representatives, so the flow stops at the policy check (or, with \
                     allow_incomplete, the evaluation fails)",
                ),
            }
        }
        match &self.address {
            Some(AddressInput::New(a)) => {
                r.check("address", a);
            }
            Some(AddressInput::Existing(_)) => {}
            None => r.error(
                "address",
                ProblemKind::Required,
                "an address or an existing AD SID",
                "nothing",
            ),
        }
        if self.primary_profile.is_none() {
            r.error(
                "primary_profile",
                ProblemKind::Required,
                "the SID of the ISV's twilio-approved primary customer profile (BU...)",
                "nothing",
            );
        }
        let mut seen = std::collections::BTreeSet::new();
        for pn in &self.phone_numbers {
            if !seen.insert(*pn) {
                r.warn(
                    "phone_numbers",
                    WarningKind::Flow,
                    format!("{pn} is listed twice; assigned once"),
                );
            }
        }
        let warnings = r.finish()?;
        let mut phone_numbers = self.phone_numbers;
        phone_numbers.dedup();
        let mut unique = std::collections::BTreeSet::new();
        phone_numbers.retain(|pn| unique.insert(*pn));
        Ok(SecondaryProfile {
            friendly_name,
            email,
            status_callback: self.status_callback,
            policy: self.policy.unwrap_or(policies::SECONDARY_CUSTOMER_PROFILE),
            business: self.business.expect("checked above"),
            representative_1: self.representative_1,
            representative_2: self.representative_2,
            address: self.address.expect("checked above"),
            primary_profile: self.primary_profile.expect("checked above"),
            phone_numbers,
            warnings,
        })
    }
}

/// The parts of an input that the journal keeps a digest of, each with what is built from it.
pub const INPUT_PARTS: [&str; 6] = [
    "bundle",
    "business_information",
    "representative_1",
    "representative_2",
    "address",
    "primary_profile",
];

impl SecondaryProfile {
    /// A builder.
    pub fn builder() -> SecondaryProfileBuilder {
        SecondaryProfileBuilder::default()
    }

    /// Warnings found by validation (not fatal), e.g. DUNS given for a US business.
    pub fn warnings(&self) -> &[Warning] {
        &self.warnings
    }

    /// The policy the flow follows.
    pub fn policy(&self) -> PolicySid {
        self.policy
    }

    /// The ISV's primary customer profile.
    pub fn primary_profile(&self) -> CustomerProfileSid {
        self.primary_profile
    }

    /// Keyed digests of the input, one per part of [`INPUT_PARTS`]: what a journal keeps to
    /// recognise its input. Without `key`, nothing about the input can be confirmed from them.
    pub fn input_digests(&self, key: &DigestKey) -> BTreeMap<String, String> {
        let mut parts = BTreeMap::new();
        let mut put = |name: &str, canonical: Canonical| {
            parts.insert(name.to_owned(), key.digest(name, canonical.bytes()));
        };
        let mut bundle = Canonical::default();
        bundle
            .put(&self.friendly_name)
            .put(&self.email)
            .put(self.status_callback.as_deref().unwrap_or(""))
            .put(self.policy.as_str());
        put("bundle", bundle);
        let mut business = Canonical::default();
        business.put(&self.business.to_attributes().to_string());
        put("business_information", business);
        for (name, rep) in [
            ("representative_1", &self.representative_1),
            ("representative_2", &self.representative_2),
        ] {
            let mut c = Canonical::default();
            if let Some(rep) = rep {
                c.put(&rep.to_attributes().to_string());
            }
            put(name, c);
        }
        let mut address = Canonical::default();
        match &self.address {
            AddressInput::New(a) => {
                for (k, v) in a.to_form_params() {
                    address.put(k).put(&v);
                }
            }
            AddressInput::Existing(sid) => {
                address.put("existing").put(sid.as_str());
            }
        }
        put("address", address);
        let mut primary = Canonical::default();
        primary.put(self.primary_profile.as_str());
        put("primary_profile", primary);
        parts
    }

    /// Checks that `journal` belongs to this input (digests made with `key`) and returns it ready
    /// to resume. A part of the input that changed is accepted when nothing was built from it yet
    /// (say only the primary profile was corrected after it was refused): the journal then takes
    /// the new input and the flow evaluates again. A change to a part something was built from
    /// (or may have been: an open intent), any change after submission, another journal format
    /// or another key is [`FlowError::StaleJournal`] naming the parts, never their values.
    pub fn reconcile_journal(
        &self,
        journal: Journal,
        key: &DigestKey,
    ) -> Result<Journal, FlowError> {
        let stale = |detail: String| Err(FlowError::StaleJournal { detail });
        let mut journal = check_format_and_key(journal, key)?;
        let now = self.input_digests(key);
        let changed: Vec<&str> = INPUT_PARTS
            .iter()
            .copied()
            .filter(|part| journal.input.get(*part) != now.get(*part))
            .collect();
        let mut problems: Vec<String> = changed
            .iter()
            .filter_map(|part| built_from(&journal, part).map(|what| format!("{part} ({what})")))
            .collect();
        let listed: BTreeSet<String> = self.phone_numbers.iter().map(|p| p.to_string()).collect();
        for pn in journal
            .channel_endpoint_assignments
            .keys()
            .map(|pn| pn.to_string())
            .chain(
                journal
                    .intents
                    .keys()
                    .filter_map(|k| k.strip_prefix("phone_number.").map(str::to_owned)),
            )
        {
            if !listed.contains(&pn) {
                problems.push(format!(
                    "phone_numbers ({pn} was assigned; the input no longer lists it)"
                ));
            }
        }
        if journal.submitted && !changed.is_empty() && problems.is_empty() {
            problems.push(format!("{} (the bundle was submitted)", changed.join(", ")));
        }
        if !problems.is_empty() {
            return stale(format!(
                "the input changed since the journal was written, in parts that resources were \
                 created from: {}",
                problems.join("; ")
            ));
        }
        if !changed.is_empty() {
            if changed.contains(&"primary_profile") {
                journal.policy = None; // check the new primary profile before going on
            }
            journal.evaluation = None;
            journal.compliant = None;
            // Other parts (a journey's) stay: their own check decides about them.
            let mut merged = journal.input.as_ref().clone();
            merged.extend(now);
            journal.input = Arc::new(merged);
        }
        Ok(journal)
    }

    /// What `policy` asks that this input does not provide, one line each (end user types,
    /// field names and requirement names only: no personal data). The flow runs this check
    /// before it creates anything; call it yourself to refuse an input early (fetch the policy
    /// with `client.policies().fetch(sid)`). Empty when the input meets the policy.
    pub fn check_policy(&self, policy: &trusthub_generated::trusthub_v1::Policy) -> Vec<String> {
        run::check_policy(self, policy)
    }
}

/// A journal of this format, whose digests were made with `key`; else
/// [`FlowError::StaleJournal`] saying what to do.
pub(crate) fn check_format_and_key(
    journal: Journal,
    key: &DigestKey,
) -> Result<Journal, FlowError> {
    let stale = |detail: String| Err(FlowError::StaleJournal { detail });
    if journal.format != JOURNAL_FORMAT {
        return stale(format!(
            "journal format {}, this version reads {JOURNAL_FORMAT} (finish a format-1 \
             journal with trusthub 0.1)",
            journal.format
        ));
    }
    if journal.key_id != key.id() {
        return stale(format!(
            "its digests were made with digest key {}, the store's key is {}: resume with \
             the key file the journal was written with",
            journal.key_id,
            key.id()
        ));
    }
    Ok(journal)
}

/// What in `journal` was built from input `part`, if anything (or may have been: an intent).
fn built_from(journal: &Journal, part: &str) -> Option<String> {
    let intent = |key: &str| journal.intents.contains_key(key);

    match part {
        "bundle" => (journal.bundle.is_some() || intent("bundle")).then(|| "the bundle".to_owned()),
        "business_information" | "representative_1" | "representative_2" => {
            let role = part;
            (journal.end_users.contains_key(role) || intent(&format!("end_user.{role}")))
                .then(|| "its end user".to_owned())
        }
        "address" => ((journal.address_created && journal.address.is_some())
            || intent("address")
            || journal.document.is_some()
            || intent("document"))
        .then(|| "the address or its document".to_owned()),
        "primary_profile" => journal
            .entity_assignments
            .keys()
            .map(|object| object.prefix() == "BU")
            .chain(
                journal
                    .intents
                    .keys()
                    .filter_map(|k| k.strip_prefix("entity."))
                    .map(|object| object.starts_with("BU")),
            )
            .any(|primary| primary)
            .then(|| "its assignment to the bundle".to_owned()),
        _ => None,
    }
}

/// Where the secondary customer profile of a flow that goes on from one (the A2P journey, the
/// voice trust products) comes from.
#[derive(Debug, Clone)]
#[allow(clippy::large_enum_variant)]
pub enum ProfileSource {
    /// Create it with the profile flow, then submit it (the journey's first step).
    New(SecondaryProfile),
    /// Use a profile that was submitted already (`pending-review`, `in-review` or
    /// `twilio-approved`); checked before anything is created.
    Existing(CustomerProfileSid),
}

/// Whether [`FlowReport::submit`] sends a bundle whose evaluation is not compliant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Submission {
    /// Submit only a bundle whose latest evaluation is compliant; otherwise
    /// [`FlowError::NotCompliant`] and nothing is sent.
    WhenCompliant,
    /// Submit whatever the evaluation said (Twilio's review decides).
    Force,
}

/// What steps 1-9 produced.
///
/// A whole flow against the embedded emulator: steps 1-9, then submission (step 10) and
/// Twilio's review.
///
/// ```
/// use std::sync::{Arc, Mutex};
/// use std::time::Duration;
/// use trusthub::attributes::*;
/// use trusthub::api::trusthub_v1::CustomerProfileStatus;
/// use trusthub::flow::{
///     FlowOptions, MemoryStore, Outcome, SecondaryProfile, Step, StepRecord, Submission,
/// };
/// use trusthub::Client;
/// use trusthub_emulator::{start, Decision, EmulatorConfig};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let emulator = start(EmulatorConfig::default()).await?; // a local Twilio
/// let client = Client::builder()
///     .account_sid(emulator.account_sid().parse()?)
///     .auth_token(emulator.auth_token())
///     .base_url(emulator.base_url())
///     .build()?;
/// # let business = BusinessInformation {
/// #     business_name: "Acme Corp".into(),
/// #     business_identity: BusinessIdentity::DirectCustomer,
/// #     business_type: BusinessType::LimitedLiabilityCorporation,
/// #     business_industry: BusinessIndustry::Technology,
/// #     business_registration_identifier: RegistrationIdentifier::Ein,
/// #     business_registration_number: "12-3456789".into(),
/// #     business_regions_of_operation: Region::UsaAndCanada.into(),
/// #     website_url: "https://acme.example.com".into(),
/// #     social_media_profile_urls: vec![],
/// # };
/// # let rep = |n: u8, job_position| AuthorizedRepresentative {
/// #     first_name: format!("Rep{n}"),
/// #     last_name: "Acme".into(),
/// #     email: format!("rep{n}@acme.example.com"),
/// #     phone_number: format!("+1415555010{n}"),
/// #     business_title: "Officer".into(),
/// #     job_position,
/// # };
/// # let address = Address {
/// #     customer_name: "Acme Corp".into(),
/// #     street: "555 Main Street".into(),
/// #     street_secondary: None,
/// #     city: "San Francisco".into(),
/// #     region: "CA".into(),
/// #     postal_code: "94105".into(),
/// #     iso_country: "US".into(),
/// #     friendly_name: None,
/// #     emergency_enabled: None,
/// #     auto_correct_address: None,
/// # };
/// // `business`, `rep(..)` and `address` are valid input (see `SecondaryProfile`).
/// let flow = SecondaryProfile::builder()
///     .friendly_name("Acme Corp")
///     .email("compliance@acme.example.com")
///     .business(business)
///     .representatives(rep(1, JobPosition::Ceo), rep(2, JobPosition::Cfo))
///     .address(address)
///     .primary_profile(emulator.primary_profile_sid().parse()?)
///     .phone_numbers([emulator.phone_number_sids()[0].parse()?])
///     .build()?;
///
/// let store = MemoryStore::new();
/// let finished = Arc::new(Mutex::new(0));
/// let counter = Arc::clone(&finished);
/// let options = FlowOptions {
///     observer: Some(Arc::new(move |_: &StepRecord| *counter.lock().unwrap() += 1)),
///     ..FlowOptions::default()
/// };
/// let mut report = client
///     .secondary_profile(&flow)
///     .journal(store.clone())
///     .options(options)
///     .run()
///     .await?;
///
/// assert!(report.evaluation.is_compliant(), "{}", report.evaluation);
/// // Policy and primary profile checked, bundle, 3 end users, address, document, 5 entity
/// // assignments (3 end users, the document, the primary profile), 1 phone number, evaluation.
/// assert_eq!(report.steps.len(), 15);
/// assert_eq!(*finished.lock().unwrap(), 15);
/// assert!(report.steps.iter().all(|s| s.outcome != Outcome::Journaled));
/// assert!(matches!(report.steps.last().unwrap().step, Step::Evaluate));
/// // The journal the store holds is the report's: every SID, no personal data.
/// assert_eq!(store.latest().as_ref(), Some(&report.journal));
/// assert_eq!(report.journal.bundle, Some(report.bundle()));
/// assert!(!report.journal.to_json().contains("rep1@acme.example.com"));
///
/// // Step 10, then Twilio's review (the emulator decides when told to).
/// let status = report.submit(Submission::WhenCompliant).await?;
/// assert_eq!(status, CustomerProfileStatus::PendingReview);
/// // The report's typed SIDs go straight into the generated calls.
/// let profile = client.customer_profiles().fetch(report.bundle()).send().await?;
/// assert_eq!(profile.sid, Some(report.bundle()));
/// assert!(matches!(
///     profile.status,
///     Some(CustomerProfileStatus::PendingReview | CustomerProfileStatus::InReview)
/// ));
/// let (timeout, poll) = (Duration::from_secs(5), Duration::from_millis(20));
/// let status = report.wait_for_review(timeout, poll).await?;
/// assert_eq!(status, CustomerProfileStatus::InReview);
/// emulator.decide(report.bundle().as_str(), Decision::Approve).await?;
/// let status = report.wait_for_decision(timeout, poll).await?;
/// assert_eq!(status, CustomerProfileStatus::TwilioApproved);
/// # Ok(())
/// # }
/// ```
pub struct FlowReport {
    /// Every SID, as journaled.
    pub journal: Journal,
    /// The evaluation of step 9.
    pub evaluation: Evaluation,
    /// Every step, in the order they finished.
    pub steps: Vec<StepRecord>,
    /// Validation and policy warnings.
    pub warnings: Vec<Warning>,
    /// Wall time of the run.
    pub elapsed: Duration,
    pub(crate) client: crate::Client,
    pub(crate) store: Arc<dyn JournalStore>,
    /// The run's options: the submission goes through the same limiter.
    pub(crate) options: FlowOptions,
}

impl fmt::Debug for FlowReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FlowReport")
            .field("journal", &self.journal)
            .field("evaluation", &self.evaluation)
            .field("steps", &self.steps)
            .field("elapsed", &self.elapsed)
            .finish_non_exhaustive()
    }
}

impl FlowReport {
    /// The secondary customer profile created (or resumed).
    pub fn bundle(&self) -> CustomerProfileSid {
        self.journal
            .bundle
            .expect("a report exists only once the bundle does")
    }

    /// Step 10: submits the bundle for review (`Status=pending-review`). With
    /// [`Submission::WhenCompliant`], refused with [`FlowError::NotCompliant`] when the evaluation
    /// is not compliant. Returns the status Twilio answered (usually `pending-review`).
    pub async fn submit(
        &mut self,
        submission: Submission,
    ) -> Result<CustomerProfileStatus, FlowError> {
        Box::pin(run::submit(
            &self.client,
            &mut self.journal,
            self.store.as_ref(),
            &self.options,
            submission,
        ))
        .await
    }

    /// Follows the bundle's status until review has started or ended: `in-review`,
    /// `twilio-approved` or `twilio-rejected` (polling every `poll`, up to `timeout`).
    pub async fn wait_for_review(
        &self,
        timeout: Duration,
        poll: Duration,
    ) -> Result<CustomerProfileStatus, FlowError> {
        run::wait_for_status(
            &self.client,
            self.bundle(),
            &[
                CustomerProfileStatus::InReview,
                CustomerProfileStatus::TwilioApproved,
                CustomerProfileStatus::TwilioRejected,
            ],
            timeout,
            poll,
        )
        .await
    }

    /// Follows the bundle's status until Twilio decides: `twilio-approved` or `twilio-rejected`.
    pub async fn wait_for_decision(
        &self,
        timeout: Duration,
        poll: Duration,
    ) -> Result<CustomerProfileStatus, FlowError> {
        run::wait_for_status(
            &self.client,
            self.bundle(),
            &[
                CustomerProfileStatus::TwilioApproved,
                CustomerProfileStatus::TwilioRejected,
            ],
            timeout,
            poll,
        )
        .await
    }
}
