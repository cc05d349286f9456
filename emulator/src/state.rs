//! The emulator's in-memory state: one account, its bundles (customer profiles and trust products),
//! assignments, evaluations, end users, supporting documents, addresses and phone numbers, its A2P 10DLC
//! resources (brand registrations and their vettings, Messaging Services with their phone numbers and
//! campaigns), plus the counters tests read.
//!
//! Everything lives behind one `std::sync::Mutex` that is never held across an `.await`.

use std::collections::HashMap;
use std::future::Future;
use std::net::SocketAddr;
use std::ops::Deref;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use time::OffsetDateTime;
use tokio::sync::mpsc;
use tokio::task::JoinSet;

use crate::callbacks::Delivery;
use crate::catalog::{self, ObjectType};
use crate::config::{ApiKey, Decision, EmulatorConfig};
use crate::evaluation::RequirementResult;
use crate::faults::FaultState;
use crate::policies::PRIMARY_BUSINESS_PROFILE;
use crate::sid;
use crate::wire::{self, Record};

/// Locks a mutex, recovering the data if a panicking thread poisoned it.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Counts of what the emulator created and served since it started (seeded resources are not counted).
/// Tests use them to assert that a retried or reconciled flow created nothing twice.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counters {
    /// Customer profiles created (`POST /v1/CustomerProfiles`).
    pub customer_profiles: u64,
    /// Trust products created.
    pub trust_products: u64,
    /// End users created.
    pub end_users: u64,
    /// Supporting documents created.
    pub supporting_documents: u64,
    /// Addresses created (2010 API).
    pub addresses: u64,
    /// Entity assignments created (customer profiles and trust products).
    pub entity_assignments: u64,
    /// Channel endpoint assignments created.
    pub channel_endpoint_assignments: u64,
    /// Evaluations created, through the API or run at submission.
    pub evaluations: u64,
    /// A2P brand registrations created (`POST /v1/a2p/BrandRegistrations`); each one is a registration
    /// fee at Twilio, including a second brand for the same A2P trust product.
    pub brand_registrations: u64,
    /// Resubmissions of `FAILED` brand registrations (`POST /v1/a2p/BrandRegistrations/{Sid}`).
    pub brand_resubmissions: u64,
    /// Brand vettings created (`POST /v1/a2p/BrandRegistrations/{BrandSid}/Vettings`).
    pub brand_vettings: u64,
    /// Messaging Services created (`POST /v1/Services`).
    pub messaging_services: u64,
    /// Phone numbers added to Messaging Services (`POST /v1/Services/{ServiceSid}/PhoneNumbers`).
    pub messaging_service_phone_numbers: u64,
    /// US A2P campaigns created (`POST /v1/Services/{MessagingServiceSid}/Compliance/Usa2p`).
    pub campaigns: u64,
    /// What costs the customer money at Twilio: brand registrations + brand resubmissions + brand vettings
    /// + campaigns created.
    pub fees: u64,
    /// API requests received (control endpoints excluded), faulted or not.
    pub requests_served: u64,
    /// API requests that suffered a fault (429, 500, 503, a dropped connection or a gateway's error after
    /// the commit).
    pub requests_faulted: u64,
    /// Requests answered 429.
    pub faults_429: u64,
    /// Requests answered 500.
    pub faults_500: u64,
    /// Requests answered 503.
    pub faults_503: u64,
    /// POSTs handled and then dropped without a response.
    pub connections_dropped: u64,
    /// POSTs handled and then answered by a gateway's 503.
    pub gateway_503_after_commit: u64,
    /// POSTs handled and then answered by a gateway's 429.
    pub gateway_429_after_commit: u64,
    /// API requests refused by the account's concurrency limit (429 with code 20429, not handled; see
    /// [`Faults::account_concurrency_limit`](crate::Faults::account_concurrency_limit)). Not counted in
    /// `requests_faulted` nor `faults_429`.
    pub account_limit_429: u64,
    /// The most API requests of the account in flight at once (from arrival to the end of the answer),
    /// whether a limit is set or not.
    pub max_in_flight: u64,
    /// End users updated (`POST /v1/EndUsers/{Sid}`).
    pub end_user_updates: u64,
    /// Supporting documents updated (`POST /v1/SupportingDocuments/{Sid}`).
    pub supporting_document_updates: u64,
    /// Addresses updated (2010 API, `POST .../Addresses/{Sid}.json`).
    pub address_updates: u64,
    /// Bundle updates that changed `FriendlyName`, `Email` or `StatusCallback` (a status change alone is not
    /// counted here).
    pub bundle_updates: u64,
    /// Bundle submissions: `draft` or `twilio-rejected` -> `pending-review`.
    pub bundle_submissions: u64,
    /// The resubmissions among [`Counters::bundle_submissions`]: `twilio-rejected` -> `pending-review`.
    pub bundle_resubmissions: u64,
    /// Entity assignments deleted.
    pub entity_assignment_deletions: u64,
    /// Genuine status callback deliveries (first copies and duplicates) answered 2xx.
    pub status_callbacks_sent: u64,
    /// Genuine status callback deliveries that got no 2xx answer after all their retries.
    pub status_callbacks_failed: u64,
    /// Status callbacks not sent because their host is not a loopback address.
    pub status_callbacks_skipped: u64,
    /// Status callback events delivered a second time (the duplicate fault).
    pub status_callbacks_duplicated: u64,
    /// Status callback events never delivered (the loss fault).
    pub status_callbacks_lost: u64,
    /// Forged status callbacks sent (the tamper fault).
    pub status_callbacks_tampered: u64,
    /// Forged status callbacks the receiver answered 2xx (it should refuse them all).
    pub status_callbacks_tampered_accepted: u64,
    /// Status callback attempts that were retries of a failed attempt.
    pub status_callbacks_retried: u64,
    /// Genuine Event Streams deliveries (first copies and duplicates) answered 2xx.
    pub events_sent: u64,
    /// Genuine Event Streams deliveries that got no 2xx answer after all their retries.
    pub events_failed: u64,
    /// Events not sent because the sink's host is not a loopback address (only possible if the sink was
    /// not checked; [`EmulatorConfig::validate`](crate::EmulatorConfig::validate) refuses such sinks).
    pub events_skipped: u64,
    /// Events delivered a second time (the duplicate fault).
    pub events_duplicated: u64,
    /// Events never delivered (the loss fault).
    pub events_lost: u64,
    /// Forged events sent (the tamper fault).
    pub events_tampered: u64,
    /// Forged events the sink answered 2xx (it should refuse them all).
    pub events_tampered_accepted: u64,
    /// Event delivery attempts that were retries of a failed attempt.
    pub events_retried: u64,
}

/// The shared application handle (cheap to clone).
#[derive(Clone)]
pub(crate) struct App(pub Arc<Inner>);

impl Deref for App {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

/// What the handlers share.
pub(crate) struct Inner {
    pub account_sid: String,
    pub auth_token: String,
    pub api_key: Option<ApiKey>,
    pub local_addr: SocketAddr,
    pub primary_profile_sid: String,
    pub auto_decision: Option<(Duration, Decision)>,
    pub brand_decision: Option<(Duration, Decision)>,
    pub campaign_decision: Option<(Duration, Decision)>,
    pub max_brand_resubmissions: u32,
    pub review_decisions: Option<(Duration, Vec<Decision>)>,
    pub event_sink: Option<String>,
    pub state: Mutex<State>,
    pub faults: Mutex<FaultState>,
    pub callbacks: mpsc::UnboundedSender<Delivery>,
    pub tasks: Mutex<JoinSet<()>>,
}

impl App {
    /// `http://127.0.0.1:PORT`, used when a request carries no `Host` header.
    pub fn fallback_base(&self) -> String {
        format!("http://{}", self.local_addr)
    }

    /// Runs a background task that stops with the emulator.
    pub fn spawn_task(&self, task: impl Future<Output = ()> + Send + 'static) {
        let mut tasks = lock(&self.tasks);
        while tasks.try_join_next().is_some() {}
        tasks.spawn(task);
    }
}

/// Which Trust Hub collection a bundle (`BU...`) belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum BundleKind {
    CustomerProfile,
    TrustProduct,
}

impl BundleKind {
    /// Path segment: `CustomerProfiles` / `TrustProducts`.
    pub fn collection(self) -> &'static str {
        match self {
            BundleKind::CustomerProfile => "CustomerProfiles",
            BundleKind::TrustProduct => "TrustProducts",
        }
    }

    /// Prefix of the `links` keys: `customer_profiles` / `trust_products`.
    pub fn link_prefix(self) -> &'static str {
        match self {
            BundleKind::CustomerProfile => "customer_profiles",
            BundleKind::TrustProduct => "trust_products",
        }
    }

    /// The parent SID field of child resources: `customer_profile_sid` / `trust_product_sid`.
    pub fn parent_field(self) -> &'static str {
        match self {
            BundleKind::CustomerProfile => "customer_profile_sid",
            BundleKind::TrustProduct => "trust_product_sid",
        }
    }

    /// Resource name in messages.
    pub fn resource(self) -> &'static str {
        match self {
            BundleKind::CustomerProfile => "CustomerProfile",
            BundleKind::TrustProduct => "TrustProduct",
        }
    }
}

/// A bundle's status (`customer_profile_enum_status` / `trust_product_enum_status`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum BundleStatus {
    Draft,
    PendingReview,
    InReview,
    TwilioRejected,
    TwilioApproved,
}

impl BundleStatus {
    /// Wire values, in the spec's order.
    pub const WIRE: [&'static str; 5] = [
        "draft",
        "pending-review",
        "in-review",
        "twilio-rejected",
        "twilio-approved",
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            BundleStatus::Draft => "draft",
            BundleStatus::PendingReview => "pending-review",
            BundleStatus::InReview => "in-review",
            BundleStatus::TwilioRejected => "twilio-rejected",
            BundleStatus::TwilioApproved => "twilio-approved",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        [
            BundleStatus::Draft,
            BundleStatus::PendingReview,
            BundleStatus::InReview,
            BundleStatus::TwilioRejected,
            BundleStatus::TwilioApproved,
        ]
        .into_iter()
        .find(|s| s.as_str() == value)
    }
}

/// One entry of a bundle's `errors`: `{code, message, fields, requirement_name, object_type, object_sid}`.
/// After a rejection at submission there is one per failed requirement (its error code, failure reason,
/// the failing attribute fields, the requirement, the object type it asks for and the assigned object, if
/// any); after a review's rejection per requirement, one per named requirement; after a plain review
/// rejection, one with code [`crate::lifecycle::MANUAL_REJECTION_CODE`], the reason and nulls.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct BundleError {
    pub code: u32,
    pub message: String,
    pub fields: Vec<String>,
    pub requirement_name: Option<String>,
    pub object_type: Option<String>,
    pub object_sid: Option<String>,
}

/// What a review's rejection per requirement named, kept until the next submission: resubmitting with none
/// of those objects changed (nor unassigned) is rejected again at once, as a reviewer would.
pub(crate) struct ReviewRejection {
    /// [`State::version`] at the rejection.
    pub version: u64,
    /// The end users, documents and addresses the rejection is about.
    pub objects: Vec<String>,
    pub errors: Vec<BundleError>,
    pub reason: String,
}

/// A customer profile or trust product.
pub(crate) struct Bundle {
    pub seq: u64,
    pub sid: String,
    pub kind: BundleKind,
    pub policy_sid: String,
    pub friendly_name: String,
    pub email: String,
    pub status: BundleStatus,
    pub status_callback: Option<String>,
    pub valid_until: Option<OffsetDateTime>,
    pub date_created: OffsetDateTime,
    pub date_updated: OffsetDateTime,
    pub errors: Option<Vec<BundleError>>,
    /// How many times it entered `in-review` (the index of its next review).
    pub reviews: u32,
    /// The last review's rejection per requirement, until the next submission.
    pub review_rejection: Option<ReviewRejection>,
}

/// An entity assignment (`BV...`): an end user, supporting document or bundle assigned to a bundle.
pub(crate) struct EntityAssignment {
    pub seq: u64,
    pub sid: String,
    pub bundle_sid: String,
    pub object_sid: String,
    pub date_created: OffsetDateTime,
}

/// A channel endpoint assignment (`RA...`).
pub(crate) struct ChannelAssignment {
    pub seq: u64,
    pub sid: String,
    pub bundle_sid: String,
    pub channel_endpoint_type: String,
    pub channel_endpoint_sid: String,
    pub date_created: OffsetDateTime,
}

/// An evaluation (`EL...`).
pub(crate) struct EvaluationRecord {
    pub seq: u64,
    pub sid: String,
    pub bundle_sid: String,
    pub policy_sid: String,
    pub compliant: bool,
    pub results: Vec<RequirementResult>,
    pub date_created: OffsetDateTime,
    /// [`State::version`] when it ran: a newer version means the bundle may have changed since.
    pub version: u64,
}

/// An end user (`IT...`). Attributes are personal data: never logged.
pub(crate) struct EndUser {
    pub seq: u64,
    pub sid: String,
    pub friendly_name: String,
    pub end_user_type: String,
    pub attributes: Map<String, Value>,
    pub date_created: OffsetDateTime,
    pub date_updated: OffsetDateTime,
    /// [`State::version`] after its last update (0 if never updated).
    pub revision: u64,
}

/// A supporting document (`RD...`).
pub(crate) struct SupportingDocument {
    pub seq: u64,
    pub sid: String,
    pub friendly_name: String,
    pub document_type: String,
    pub attributes: Map<String, Value>,
    pub date_created: OffsetDateTime,
    pub date_updated: OffsetDateTime,
    /// [`State::version`] after its last update (0 if never updated).
    pub revision: u64,
}

/// A 2010 API address (`AD...`). Personal data: never logged.
pub(crate) struct Address {
    pub seq: u64,
    pub sid: String,
    pub customer_name: String,
    pub street: String,
    pub street_secondary: Option<String>,
    pub city: String,
    pub region: String,
    pub postal_code: String,
    pub iso_country: String,
    pub friendly_name: Option<String>,
    pub emergency_enabled: bool,
    pub date_created: OffsetDateTime,
    pub date_updated: OffsetDateTime,
    /// [`State::version`] after its last update (0 if never updated).
    pub revision: u64,
}

/// A seeded incoming phone number (`PN...`).
pub(crate) struct PhoneNumber {
    pub seq: u64,
    pub sid: String,
    pub phone_number: String,
    pub friendly_name: String,
    pub date_created: OffsetDateTime,
}

/// A brand registration's type (`BrandType`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum BrandType {
    Standard,
    LowVolumeStandard,
    SoleProprietor,
}

impl BrandType {
    /// Wire values.
    pub const WIRE: [&'static str; 3] = ["STANDARD", "LOW_VOLUME_STANDARD", "SOLE_PROPRIETOR"];

    pub fn as_str(self) -> &'static str {
        match self {
            BrandType::Standard => "STANDARD",
            BrandType::LowVolumeStandard => "LOW_VOLUME_STANDARD",
            BrandType::SoleProprietor => "SOLE_PROPRIETOR",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        [
            BrandType::Standard,
            BrandType::LowVolumeStandard,
            BrandType::SoleProprietor,
        ]
        .into_iter()
        .find(|t| t.as_str() == value)
    }
}

/// A brand registration's status (`brand_registrations_enum_status`; the emulator uses three of its
/// values).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum BrandStatus {
    Pending,
    Approved,
    Failed,
}

impl BrandStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            BrandStatus::Pending => "PENDING",
            BrandStatus::Approved => "APPROVED",
            BrandStatus::Failed => "FAILED",
        }
    }
}

/// One entry of a brand's or campaign's `errors`, shaped like the spec's examples: `{error_code,
/// description, fields, url}`.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct RegistrationError {
    pub error_code: u32,
    pub description: String,
    pub fields: Vec<String>,
    pub url: String,
}

impl RegistrationError {
    pub fn new(error_code: u32, description: String, fields: Vec<String>) -> Self {
        RegistrationError {
            error_code,
            description,
            fields,
            url: format!("https://www.twilio.com/docs/api/errors/{error_code}"),
        }
    }
}

/// An A2P brand registration (`BN...`).
pub(crate) struct BrandRegistration {
    pub seq: u64,
    pub sid: String,
    pub customer_profile_bundle_sid: String,
    pub a2p_profile_bundle_sid: String,
    pub brand_type: BrandType,
    pub mock: bool,
    pub skip_automatic_sec_vet: bool,
    pub status: BrandStatus,
    /// TCR's brand ID (`B` + 6 upper-case letters or digits), drawn at creation (within the request, so
    /// SIDs stay deterministic under a seed whenever decisions happen) and shown from the first approval on.
    pub registry_id: String,
    /// The `tcr_id` served: `registry_id` once approved.
    pub tcr_id: Option<String>,
    pub brand_score: Option<u32>,
    /// `SELF_DECLARED` while pending, `VERIFIED` once approved, `UNVERIFIED` when failed (the spec's enum
    /// is not nullable).
    pub identity_status: &'static str,
    /// Whether the A2P profile said `company_type` `government` when the brand was created.
    pub government_entity: bool,
    pub failure_reason: Option<String>,
    pub errors: Vec<RegistrationError>,
    pub feedback: Vec<String>,
    /// Resubmissions so far.
    pub resubmissions: u32,
    /// Bumped each time the brand enters `PENDING`: a scheduled decision for an earlier round is dropped.
    pub round: u64,
    pub date_created: OffsetDateTime,
    pub date_updated: OffsetDateTime,
}

/// A brand vetting (`VT...`).
pub(crate) struct BrandVetting {
    pub seq: u64,
    pub sid: String,
    pub brand_sid: String,
    pub vetting_provider: &'static str,
    pub vetting_id: Option<String>,
    pub vetting_class: &'static str,
    pub vetting_status: &'static str,
    pub date_created: OffsetDateTime,
    pub date_updated: OffsetDateTime,
}

/// A Messaging Service (`MG...`) and the settings the Service resource reports.
pub(crate) struct MessagingService {
    pub seq: u64,
    pub sid: String,
    pub friendly_name: String,
    pub inbound_request_url: Option<String>,
    pub inbound_method: &'static str,
    pub fallback_url: Option<String>,
    pub fallback_method: &'static str,
    pub status_callback: Option<String>,
    pub sticky_sender: bool,
    pub mms_converter: bool,
    pub smart_encoding: bool,
    pub scan_message_content: &'static str,
    pub fallback_to_long_code: bool,
    pub area_code_geomatch: bool,
    pub validity_period: u32,
    pub synchronous_validation: bool,
    pub usecase: &'static str,
    pub use_inbound_webhook_on_number: bool,
    pub date_created: OffsetDateTime,
    pub date_updated: OffsetDateTime,
}

/// A seeded phone number added to a Messaging Service: its SID is the number's `PN` SID and its `seq`
/// the number's, so lists of them are sorted by `seq` before paging.
pub(crate) struct ServicePhoneNumber {
    pub seq: u64,
    pub sid: String,
    pub service_sid: String,
    pub date_created: OffsetDateTime,
}

/// A campaign's status (`campaign_status`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CampaignStatus {
    InProgress,
    Verified,
    Failed,
}

impl CampaignStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            CampaignStatus::InProgress => "IN_PROGRESS",
            CampaignStatus::Verified => "VERIFIED",
            CampaignStatus::Failed => "FAILED",
        }
    }
}

/// What a campaign registered through `Compliance/Usa2p` says about itself (free text is not personal
/// data, but it is never logged either).
pub(crate) struct CampaignContent {
    pub description: String,
    pub message_flow: String,
    pub message_samples: Vec<String>,
    pub usecase: String,
    pub has_embedded_links: bool,
    pub has_embedded_phone: bool,
    pub subscriber_opt_in: bool,
    pub age_gated: bool,
    pub direct_lending: bool,
    pub opt_in_message: Option<String>,
    pub opt_out_message: Option<String>,
    pub help_message: Option<String>,
    pub opt_in_keywords: Vec<String>,
    pub opt_out_keywords: Vec<String>,
    pub help_keywords: Vec<String>,
}

/// A US A2P campaign (`QE...`) of a Messaging Service: registered here (`content` and a brand), or
/// elsewhere and attached with `PreregisteredUsa2p` (`external`, neither content nor brand).
pub(crate) struct Campaign {
    pub seq: u64,
    pub sid: String,
    pub service_sid: String,
    pub brand_sid: Option<String>,
    pub content: Option<CampaignContent>,
    pub brand_type: Option<BrandType>,
    pub status: CampaignStatus,
    pub campaign_id: String,
    pub mock: bool,
    pub external: bool,
    pub errors: Vec<RegistrationError>,
    /// Bumped each time the campaign enters `IN_PROGRESS` (see [`BrandRegistration::round`]).
    pub round: u64,
    pub date_created: OffsetDateTime,
    pub date_updated: OffsetDateTime,
}

/// An EndUserType or SupportingDocumentType with its seeded `OY` SID.
pub(crate) struct TypeRecord {
    pub seq: u64,
    pub sid: String,
    pub def: &'static ObjectType,
}

macro_rules! impl_record {
    ($($t:ty),* $(,)?) => {
        $(impl Record for $t {
            fn seq(&self) -> u64 {
                self.seq
            }
            fn sid(&self) -> &str {
                &self.sid
            }
        })*
    };
}

impl_record!(
    Bundle,
    EntityAssignment,
    ChannelAssignment,
    EvaluationRecord,
    EndUser,
    SupportingDocument,
    Address,
    PhoneNumber,
    TypeRecord,
    BrandRegistration,
    BrandVetting,
    MessagingService,
    ServicePhoneNumber,
    Campaign,
);

/// The record with this SID. Searches from the newest record: a handler reading back what it just
/// pushed finds it at once, so creating stays O(1) however many records exist (SIDs are unique, so the
/// direction changes nothing else).
pub(crate) fn find<'a, T: Record>(items: &'a [T], sid: &str) -> Option<&'a T> {
    items.iter().rev().find(|item| item.sid() == sid)
}

/// The record with this SID, mutably (newest first, as [`find`]).
pub(crate) fn find_mut<'a, T: Record>(items: &'a mut [T], sid: &str) -> Option<&'a mut T> {
    items.iter_mut().rev().find(|item| item.sid() == sid)
}

/// All mutable state.
pub(crate) struct State {
    rng: fastrand::Rng,
    next_seq: u64,
    /// Every SID ever issued and its sequence number (page tokens survive deletions).
    issued: HashMap<String, u64>,
    /// Bumped by every change that can alter an evaluation's outcome (assignments, attribute or address
    /// edits, deletions, status changes).
    pub version: u64,
    pub bundles: Vec<Bundle>,
    pub entity_assignments: Vec<EntityAssignment>,
    pub channel_assignments: Vec<ChannelAssignment>,
    pub evaluations: Vec<EvaluationRecord>,
    pub end_users: Vec<EndUser>,
    pub documents: Vec<SupportingDocument>,
    pub addresses: Vec<Address>,
    pub phone_numbers: Vec<PhoneNumber>,
    pub end_user_types: Vec<TypeRecord>,
    pub document_types: Vec<TypeRecord>,
    pub brands: Vec<BrandRegistration>,
    pub vettings: Vec<BrandVetting>,
    pub services: Vec<MessagingService>,
    pub service_numbers: Vec<ServicePhoneNumber>,
    pub campaigns: Vec<Campaign>,
    pub counters: Counters,
}

/// Friendly name of the seeded primary profile.
pub(crate) const PRIMARY_PROFILE_NAME: &str = "Emulator ISV primary business profile";

impl State {
    /// The seeded state. SIDs come from `fastrand::Rng::with_seed(config.seed)` in this order: EndUserTypes,
    /// SupportingDocumentTypes, the primary profile, its business information end user and entity
    /// assignment, then the phone numbers; later SIDs follow in request order.
    pub fn seeded(config: &EmulatorConfig) -> State {
        let mut state = State {
            rng: fastrand::Rng::with_seed(config.seed),
            next_seq: 0,
            issued: HashMap::new(),
            version: 0,
            bundles: Vec::new(),
            entity_assignments: Vec::new(),
            channel_assignments: Vec::new(),
            evaluations: Vec::new(),
            end_users: Vec::new(),
            documents: Vec::new(),
            addresses: Vec::new(),
            phone_numbers: Vec::new(),
            end_user_types: Vec::new(),
            document_types: Vec::new(),
            brands: Vec::new(),
            vettings: Vec::new(),
            services: Vec::new(),
            service_numbers: Vec::new(),
            campaigns: Vec::new(),
            counters: Counters::default(),
        };
        for def in catalog::END_USER_TYPES {
            let (seq, sid) = state.mint("OY");
            state.end_user_types.push(TypeRecord { seq, sid, def });
        }
        for def in catalog::SUPPORTING_DOCUMENT_TYPES {
            let (seq, sid) = state.mint("OY");
            state.document_types.push(TypeRecord { seq, sid, def });
        }
        let now = wire::now();
        let (seq, primary) = state.mint("BU");
        state.bundles.push(Bundle {
            seq,
            sid: primary.clone(),
            kind: BundleKind::CustomerProfile,
            policy_sid: PRIMARY_BUSINESS_PROFILE.to_owned(),
            friendly_name: PRIMARY_PROFILE_NAME.to_owned(),
            email: String::from("compliance@isv.example.com"),
            status: BundleStatus::TwilioApproved,
            status_callback: None,
            valid_until: Some(now + time::Duration::days(365)),
            date_created: now,
            date_updated: now,
            errors: None,
            reviews: 1,
            review_rejection: None,
        });
        let attributes = [
            ("business_name", "Emulator ISV Inc."),
            ("business_identity", "isv_reseller_or_partner"),
            ("business_type", "Corporation"),
            ("business_industry", "TECHNOLOGY"),
            ("business_registration_identifier", "EIN"),
            ("business_registration_number", "12-3456789"),
            ("business_regions_of_operation", "USA_AND_CANADA"),
            ("website_url", "https://isv.example.com"),
            ("social_media_profile_urls", ""),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), Value::String(v.to_owned())))
        .collect();
        let (seq, end_user) = state.mint("IT");
        state.end_users.push(EndUser {
            seq,
            sid: end_user.clone(),
            friendly_name: String::from("Emulator ISV business information"),
            end_user_type: catalog::BUSINESS_INFORMATION_TYPE.to_owned(),
            attributes,
            date_created: now,
            date_updated: now,
            revision: 0,
        });
        let (seq, assignment) = state.mint("BV");
        state.entity_assignments.push(EntityAssignment {
            seq,
            sid: assignment,
            bundle_sid: primary,
            object_sid: end_user,
            date_created: now,
        });
        for i in 0..config.phone_numbers {
            let (seq, sid) = state.mint("PN");
            let number = format!("+1555555{:04}", (i + 1) % 10_000);
            state.phone_numbers.push(PhoneNumber {
                seq,
                sid,
                friendly_name: format!("({}) {}-{}", &number[2..5], &number[5..8], &number[8..]),
                phone_number: number,
                date_created: now,
            });
        }
        state
    }

    /// Mints a SID and its sequence number.
    pub fn mint(&mut self, prefix: &str) -> (u64, String) {
        self.next_seq += 1;
        let sid = loop {
            let candidate = sid::generate(&mut self.rng, prefix);
            if !self.issued.contains_key(&candidate) {
                break candidate;
            }
        };
        self.issued.insert(sid.clone(), self.next_seq);
        (self.next_seq, sid)
    }

    /// A registry ID from the seeded generator: `prefix` and six upper-case letters or digits (TCR's brand
    /// `B...` and campaign `C...` IDs). Drawn within requests only, never by background decisions, so that
    /// a seed and a sequence of requests always give the same SIDs.
    pub fn registry_id(&mut self, prefix: char) -> String {
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
        let mut id = String::with_capacity(7);
        id.push(prefix);
        for _ in 0..6 {
            id.push(char::from(ALPHABET[self.rng.usize(..ALPHABET.len())]));
        }
        id
    }

    /// Records a created resource that costs the customer money at Twilio.
    pub fn charge(&mut self) {
        self.counters.fees += 1;
    }

    /// The sequence number of any SID ever issued (for page tokens).
    pub fn seq_of(&self, sid: &str) -> Option<u64> {
        self.issued.get(sid).copied()
    }

    /// Records a change that may alter evaluation outcomes.
    pub fn touch(&mut self) {
        self.version += 1;
    }

    /// Whether `sid` names an object that can be assigned to a bundle, and what it is.
    pub fn object_kind(&self, sid: &str) -> Option<&'static str> {
        if find(&self.end_users, sid).is_some() {
            Some("end_user")
        } else if find(&self.documents, sid).is_some() {
            Some("supporting_document")
        } else if let Some(bundle) = find(&self.bundles, sid) {
            Some(match bundle.kind {
                BundleKind::CustomerProfile => "customer_profile",
                BundleKind::TrustProduct => "trust_product",
            })
        } else {
            None
        }
    }

    /// SIDs of the bundles an object is assigned to.
    pub fn bundles_holding(&self, object_sid: &str) -> Vec<String> {
        self.entity_assignments
            .iter()
            .filter(|a| a.object_sid == object_sid)
            .map(|a| a.bundle_sid.clone())
            .collect()
    }
}
