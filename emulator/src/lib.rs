#![warn(missing_docs)]
//! A stateful, in-memory emulator of Twilio Trust Hub (Secondary Customer Profiles and trust products), of
//! the 2010 API's Addresses and IncomingPhoneNumbers, and of Messaging v1's A2P 10DLC resources (brand
//! registrations, Messaging Services, campaigns), for tests, examples and local development.
//!
//! It speaks HTTP only and never uses this workspace's client crates (`trusthub`, `trusthub-runtime`,
//! `trusthub-generated`): it is an independent oracle implementing Twilio's rules on its own, from the
//! seed document (Twilio's "API: Create a Secondary Customer Profile" page) and Twilio's OpenAPI
//! description. **This duplicates the client's validation rules on purpose: an oracle that shares the
//! client's rules passes the client's bugs.** The rules live in [`evaluation`](self#evaluation) (attribute
//! checks and requirement results), `lifecycle` (status transitions) and the route modules (parameter
//! checks).
//!
//! # What it serves
//!
//! - Trust Hub v1 (`/v1/...`, ISO 8601 dates, absolute URLs built on the request's `Host`):
//!   CustomerProfiles and TrustProducts with EntityAssignments, ChannelEndpointAssignments and
//!   Evaluations; EndUsers; SupportingDocuments; Policies; EndUserTypes; SupportingDocumentTypes.
//! - The 2010 API (`/2010-04-01/Accounts/{AccountSid}/...`, RFC 2822 dates, relative URIs): Addresses and
//!   the seeded IncomingPhoneNumbers.
//! - Messaging v1 (`/v1/a2p/...` and `/v1/Services/...`, ISO 8601 dates, Trust Hub's `meta` list envelope
//!   with absolute URLs; the paths do not collide with Trust Hub's, so both APIs share the one base URL):
//!   BrandRegistrations (create, list, fetch, resubmit with `POST /{Sid}`) with their SmsOtp and Vettings;
//!   Services (create, list, fetch, update, delete) with their PhoneNumbers and their US A2P campaign
//!   (`Compliance/Usa2p`: create, list, fetch, update, delete) and its `Usecases`; `Services/Usecases`;
//!   `Services/PreregisteredUsa2p`. See [the A2P 10DLC journey](self#the-a2p-10dlc-journey).
//! - Control endpoints under `/__emulator/` (see below).
//!
//! Requests are form-encoded with PascalCase keys; `Attributes` is one field of compact JSON text. Errors
//! are Twilio's JSON `{code, message, more_info, status}`: 401/20003 bad or missing credentials,
//! 404/20404 unknown path, resource or account, 405/20004 wrong method, 400/20001 missing or invalid
//! parameter (the message names the parameter) or a refused state change, 409/[`CODE_NUMBER_IN_THIS_SERVICE`]
//! and 409/[`CODE_NUMBER_IN_ANOTHER_SERVICE`] for a phone number already in a Messaging Service (the
//! emulator's choice of status, with Twilio's codes), 429/20429, 500/20500 and 503/20503 when faults are
//! on, 429/20429 above the account's concurrency limit when one is set. Array parameters (`MessageSamples`, `OptInKeywords`, ...) repeat their key; booleans are `true` /
//! `false`.
//!
//! # Seeded account
//!
//! One account (default [`DEFAULT_ACCOUNT_SID`] / [`DEFAULT_AUTH_TOKEN`], optionally an API key), a
//! `twilio-approved` primary customer profile under [`policies::PRIMARY_BUSINESS_PROFILE`] whose business
//! information says `isv_reseller_or_partner` ([`Emulator::primary_profile_sid`]), the policies of
//! [`policies`], their EndUserTypes and SupportingDocumentTypes, and phone numbers `+1555555000N`
//! ([`Emulator::phone_number_sids`]). Every SID is `prefix + 32 lowercase hex` from
//! `fastrand::Rng::with_seed(seed)`: the same seed and the same requests give the same SIDs.
//!
//! # Evaluation
//!
//! `POST .../Evaluations` evaluates the assigned objects against a policy; one result per requirement,
//! shaped like the seed's example; `compliant` iff all pass. Codes 22214 (end user missing), 22215
//! (field missing, one entry per field), 22216 (document missing), 22217 (value invalid, PO box), 22218
//! (a `+1` phone number outside the North American Numbering Plan: "Phone number is invalid."), 22219
//! (address missing or unknown), and the emulator's own 22220 (supporting customer profile not assigned)
//! and 22221 (supporting profile in a status the policy does not accept, or not an ISV/partner
//! profile). The Secondary Customer Profile policy models the seed's prerequisite as a
//! `supporting_customer_profiles` requirement (`primary_customer_profile`): assign the primary profile's
//! SID as an entity.
//!
//! The A2P messaging trust product policy ([`policies::A2P_TRUST_PRODUCT`]) requires a
//! `us_a2p_messaging_profile_information` end user with `company_type` (`public`, `private`, `non-profit`,
//! `government`; else 22217 naming the field); a `public` company also needs `stock_exchange` (a listed
//! exchange or `NONE` / `OTHER`), `stock_ticker` and `brand_contact_email` (22215 per missing field); and,
//! as its `supporting_customer_profiles` requirement, the customer's secondary customer profile assigned,
//! in any status but draft (22220 when none is assigned, 22221 when it is a draft).
//!
//! The voice trust products follow Twilio's SHAKEN/STIR and CNAM onboarding guides (Trust Hub REST API).
//! SHAKEN/STIR ([`policies::SHAKEN_STIR`]) has one requirement, `customer_profile`: the Business Profile
//! (the customer's secondary customer profile, or a direct customer's primary one) assigned as an entity,
//! `pending-review`, `in-review` or `twilio-approved` (22220 when none is assigned, 22221 otherwise). CNAM
//! ([`policies::CNAM`]) adds a `cnam_information` end user whose `cnam_display_name` has at most 15
//! characters, starts with a letter and holds only letters, digits, periods, commas and spaces, and is not a
//! generic value (the emulator refuses the US states' names) (22215 when missing, 22217 otherwise, the value
//! never echoed), and its Business Profile must give `business_registration_identifier` `EIN` or `DUNS`
//! (22221). For both, phone numbers are the trust product's channel endpoint assignments and only numbers
//! already assigned to its Business Profile are eligible: any other is refused (400 naming
//! `ChannelEndpointSid`), and so is a number while no customer profile is assigned; numbers are not
//! evaluated (Twilio lets them be added before or after the submission).
//!
//! # Lifecycle and callbacks
//!
//! `draft -> pending-review` (a submission) and `twilio-rejected -> pending-review` (a resubmission) are
//! accepted from the API (other changes: 400). The submission then moves the bundle to `in-review` when its
//! latest evaluation (re-run if anything changed since; always re-run for a resubmission) is compliant,
//! else to `twilio-rejected` with `errors`, one per failed requirement. `in-review` ends with
//! [`Emulator::decide`], the control endpoint, [`EmulatorConfig::review_decisions`] (a script: the n-th
//! review of each bundle gets the n-th decision) or [`EmulatorConfig::auto_decision`].
//!
//! A `twilio-rejected` bundle can be fixed: its `FriendlyName`, `Email` and `StatusCallback` updated, its
//! entity assignments created and deleted (as while it is a draft), its end users, supporting documents
//! and addresses updated (in any status); [`Counters`] count those updates (`end_user_updates`,
//! `supporting_document_updates`, `address_updates`, `bundle_updates`, `entity_assignment_deletions`) and
//! the (re)submissions, so a test can assert that only what changed was sent.
//!
//! # Rejections per requirement
//!
//! A bundle's `errors` entries (the spec types their items as any object; its examples show `code`) are
//! `{code, message, fields, requirement_name, object_type, object_sid}`: the code, the message, the
//! attribute fields to fix, the policy requirement, the object type it asks for and the SID of the
//! assigned object that meets it (`null` when none is assigned). A rejection at submission has one per
//! failed requirement (the evaluation's codes and failing fields). A review's rejection has one per
//! requirement it names ([`Decision::RejectRequirements`], [`Decision::with_requirement`], the control
//! endpoint's `requirements`), with the code given, else the one Twilio documents for that part of a
//! customer profile (18602 business registration fields of the business information, 18603 the address,
//! 18604 / 18605 the authorized representatives, else [`MANUAL_REJECTION_CODE`], 18601) and its
//! description as message; a requirement or field the bundle's policy does not have is refused
//! ([`DecideError::InvalidDecision`], 400 at the control endpoint). A plain [`Decision::Reject`] leaves one
//! entry with [`MANUAL_REJECTION_CODE`], the reason and nulls. A resubmission in which none of the objects
//! a review's rejection named (the end user, the document and its addresses) was updated or unassigned is
//! rejected again at once, with the same errors, as a reviewer would.
//!
//! # Callbacks and Event Streams
//!
//! Every status change of a bundle is POSTed to its `StatusCallback` (form `AccountSid`, `BundleSid`,
//! `Status`, `FailureReason` when rejected) with `X-Twilio-Signature` (base64 HMAC-SHA1 of the URL and the
//! sorted parameters, keyed by the auth token) and `I-Twilio-Idempotency-Token` (32 hex digits, the same
//! for every delivery of one event, another for each event). With [`EmulatorConfig::event_sink`], every A2P
//! brand decision (`com.twilio.messaging.compliance.brand-registration.brand-registered` /
//! `.brand-failure`) and campaign decision (`...campaign-registration.campaign-approved` /
//! `.campaign-failure`) is POSTed there as `application/json`: a JSON array of one CloudEvent
//! (`specversion`, `type`, `source`, `id` = `NO` + 32 hex digits, the same for every delivery, `dataschema`,
//! `datacontenttype`, `time`, `data`) shaped like Twilio's Event Streams examples: brands `accountsid`,
//! `brandsid`, `brandstatus` (`registered` / `registration_failed`), `externalbrandid` (registered),
//! `brandregistrationerrors` (`[{registrationerrorcode, registrationerrordescription,
//! registrationerrorurl, registrationerrorfields}]`) and `brandfeedback` (failed), `createddate` and
//! `updateddate` (epoch milliseconds); campaigns `a2pusecase`, `accountsid`, `brandsid`, `campaignsid`
//! (`QE...`), `messagingservicesid`, `campaignstatus` (the resource's `VERIFIED` / `FAILED`),
//! `campaignregistrationstatus` (`success` / `failure`), `externalcampaignid` (approved),
//! `campaignregistrationerrors` (failed), `createddate`, `updateddate`, `timestamp`. Events are signed the
//! way Twilio signs JSON webhooks: the request goes to the sink URL with `bodySHA256=<lowercase hex SHA-256
//! of the body>` appended to its query, and `X-Twilio-Signature` is base64 HMAC-SHA1 of that URL alone.
//!
//! Deliveries are at least once: one answered non-2xx, or failing to connect, is retried with backoff
//! ([`Faults::callback_retries`], default 3, [`Faults::callback_retry_backoff_ms`], doubled each time).
//! The delivery faults of [`Faults`] are drawn per event from a generator seeded by the seed:
//! [`Faults::callback_duplicate_rate`] (a second identical copy), [`Faults::callback_loss_rate`] (never
//! sent), [`Faults::callback_reorder_ms`] (a random delay per copy, so copies and events can arrive out of
//! order; without it deliveries keep the order of the changes) and [`Faults::callback_tamper_rate`] (an
//! extra forged copy: a changed body under the genuine signature, or a wrong signature, replaying the
//! genuine token or `id`). [`Counters`] count them for status callbacks and events apart
//! (`status_callbacks_*`, `events_*`: sent, failed, skipped, duplicated, lost, tampered,
//! tampered_accepted, retried). Only loopback hosts are called.
//!
//! # The A2P 10DLC journey
//!
//! Trust product (A2P policy, submitted) -> brand registration -> Messaging Service -> campaign -> phone
//! numbers. A brand registration needs a customer profile and an A2P trust product of the account, each
//! `pending-review`, `in-review` or `twilio-approved`; it starts `PENDING` (`tcr_id` and `brand_score`
//! null) and ends `APPROVED` (`tcr_id` `B` + 6 upper-case letters or digits, `brand_score` 75,
//! `identity_status` `VERIFIED`) or `FAILED` (`failure_reason`, `brand_feedback`, `errors` =
//! `[{error_code, description, fields, url}]` with [`BRAND_REJECTION_CODE`], the shape of the spec's
//! examples; `fields` name the Trust Hub attributes the feedback points at). A `FAILED` brand can be
//! resubmitted (`POST /v1/a2p/BrandRegistrations/{Sid}`, 202, back to `PENDING`) at most
//! [`EmulatorConfig::max_brand_resubmissions`] times; any other status is refused with "only FAILED brands
//! can be updated". A second brand for the same trust product is created, as Twilio would (and charge):
//! [`Counters::fees`] shows it. A campaign (`IN_PROGRESS`, `campaign_id` `C` + 6) needs an `APPROVED`
//! brand and a service without a campaign, and ends `VERIFIED` or `FAILED` (`errors` with
//! [`CAMPAIGN_REJECTION_CODE`]); an update of a `FAILED` one resubmits it. A service's
//! `us_app_to_person_registered` is true once its campaign is `VERIFIED`. Brands and
//! campaigns are decided by [`Emulator::decide_brand`] / [`Emulator::decide_campaign`], the control
//! endpoints, [`EmulatorConfig::brand_decision`] / [`EmulatorConfig::campaign_decision`] (applied to every
//! brand or campaign entering its pending status, after the delay), and, without a configured decision,
//! mock ones (`Mock=true` brands and their campaigns) are approved after [`MOCK_DECISION_DELAY`].
//!
//! Refusals (400 / 20001 with the parameter named, unless said otherwise):
//!
//! - brand create: `CustomerProfileBundleSid` / `A2PProfileBundleSid` missing, not `BU` + 32 hex, not a
//!   customer profile / trust product of the account, not `pending-review`, `in-review` or
//!   `twilio-approved`, or (the trust product) not under the A2P policy; `BrandType` not `STANDARD`,
//!   `LOW_VOLUME_STANDARD` or `SOLE_PROPRIETOR`; `SkipAutomaticSecVet` not `true` for a
//!   `LOW_VOLUME_STANDARD` brand; `Mock` / `SkipAutomaticSecVet` not a boolean;
//! - brand resubmission: the brand is not `FAILED` ("only FAILED brands can be updated"), or it was
//!   resubmitted [`EmulatorConfig::max_brand_resubmissions`] times already ("cannot be resubmitted again");
//! - SmsOtp: the brand is not `SOLE_PROPRIETOR`; vettings: `VettingProvider` missing or not
//!   `campaign-verify` (aegis vettings are Twilio's own), or the brand is not `APPROVED`; an imported
//!   vetting is `IN_PROGRESS`, then `SUCCESS` [`MOCK_DECISION_DELAY`] later;
//! - service create / update: `FriendlyName` missing (create), blank or over 64 characters; a URL that is
//!   not absolute http(s) (an empty one clears it); `InboundMethod` / `FallbackMethod` not `GET` / `POST`;
//!   `ScanMessageContent` not `inherit` / `enable` / `disable`; `ValidityPeriod` not 1..=36000; `Usecase`
//!   not one of `GET /v1/Services/Usecases`; a boolean that is not `true` / `false`;
//! - service phone number: `PhoneNumberSid` missing, not `PN` + 32 hex, or not one of the account's
//!   IncomingPhoneNumbers; already in this service: 409 / [`CODE_NUMBER_IN_THIS_SERVICE`]; already in
//!   another: 409 / [`CODE_NUMBER_IN_ANOTHER_SERVICE`];
//! - campaign create: the service already holds a campaign ("a Messaging Service holds one campaign");
//!   `BrandRegistrationSid` unknown or not `APPROVED` ("not approved"), or a `SOLE_PROPRIETOR` brand that
//!   has its one campaign; `UsAppToPersonUsecase` not a use case of the brand's type (the standard eleven,
//!   plus `LOW_VOLUME` for `LOW_VOLUME_STANDARD`, only `SOLE_PROPRIETOR` for `SOLE_PROPRIETOR`);
//!   `Description` not 40..=4096 characters, `MessageFlow` not 40..=2048, `MessageSamples` not 2..=5
//!   values of 20..=1024, `OptInMessage` / `OptOutMessage` / `HelpMessage` not 20..=320 when given, a
//!   keyword (`OptInKeywords`, `OptOutKeywords`, `HelpKeywords`) not letters and digits or over 255
//!   characters; `HasEmbeddedLinks` / `HasEmbeddedPhone` missing or not booleans;
//! - campaign update: the `UpdateUsAppToPerson` parameters as above (`AgeGated` and `DirectLending`
//!   required too); refused while `IN_PROGRESS` and for a preregistered campaign;
//! - use cases: `BrandRegistrationSid` (optional) malformed or unknown; PreregisteredUsa2p: `CampaignId`
//!   or `MessagingServiceSid` missing, the service unknown or already holding a campaign.
//!
//! Deleting a service deletes its phone numbers and its campaign. Unknown services, brands, campaigns,
//! vettings and numbers in a path are 404.
//!
//! # Faults
//!
//! [`Faults`] (the delivery faults of callbacks and events are described above): fixed latency before the
//! handling and after the commit (on the answer path, where a real network loses answers to committed
//! requests), 429 with `Retry-After`, 500, 503, and the failures that
//! follow a commit: commit-then-drop (the connection is closed with no response) and a gateway's plain-text
//! 503 or 429 (no Twilio code); drawn deterministically from the seed, or aimed at requests by method and
//! path with [`FaultRule`]s; never applied to the control endpoints. Latencies are capped at
//! [`MAX_LATENCY_MS`]. Faults wrap the whole router, so the Messaging routes suffer them like the others.
//! [`Counters`] count every created resource (brand registrations, resubmissions, vettings, Messaging
//! Services, their phone numbers and campaigns included, with [`Counters::fees`] summing what Twilio
//! charges for) and every served and faulted request, so tests can assert nothing was created twice. A
//! body over 1 MiB is answered 413 (the emulator's own code 20413) and more than 100 headers or 16 KiB of
//! them 431 (code 20431), in Twilio's error shape.
//!
//! Twilio's per-account concurrency limit ([`EmulatorConfig::with_account_concurrency_limit`],
//! [`Faults::account_concurrency_limit`]): at most N API requests of the account in flight, from arrival to
//! the end of the answer; one above it is answered 429 with code 20429 at once (after the fixed latency,
//! without `Retry-After`, before the fault draw and any handling) and counted in
//! [`Counters::account_limit_429`]; [`Counters::max_in_flight`] keeps the high-water mark. Answers to the
//! account's requests carry `Twilio-Concurrent-Requests` (its requests in flight, as Twilio reports them).
//!
//! # Control endpoints
//!
//! `GET /__emulator/info`, `GET /__emulator/counters`, `GET|POST /__emulator/faults` (JSON [`Faults`],
//! the delivery faults included), `POST /__emulator/customer-profiles/{sid}/decision` (and
//! `/trust-products/{sid}/decision`) with `{"decision": "approve" | "reject", "reason": "...",
//! "requirements": [{"requirement": "...", "fields": [...], "code": 18602, "message": "..."}]}`
//! (`requirements` optional, see [`RequirementRejection`]; 409 when not `in-review`, 400 for a requirement
//! or field the policy does not have), `POST /__emulator/brand-registrations/{sid}/decision` with
//! `{"decision": "approve" | "reject", "reason": "...", "feedback": ["TAX_ID", ...], "requirements": [...]}`
//! (`feedback` and `requirements` optional; 409 when not `PENDING`) and
//! `POST /__emulator/campaigns/{sid}/decision` with `{"decision": "approve" | "reject", "reason": "...",
//! "requirements": [...]}` (409 when not `IN_PROGRESS`); an unknown SID is 404. They need no credentials.
//!
//! # Conformance and throughput
//!
//! `tests/spec_conformance.rs` drives the whole flow and the list / fetch / update / delete calls over
//! HTTP, the A2P 10DLC journey's calls, a rejection per requirement, the fix and the resubmission, and the
//! SHAKEN/STIR and CNAM trust products, and validates every response body against the pinned official
//! spec's response schema (Trust Hub, 2010 API and Messaging; unknown keys included).
//! `examples/throughput.rs` (`cargo xtask bench-emulator`) measures requests per second from concurrent
//! keep-alive clients; figures in the workspace's BENCHMARKS.md.
//!
//! # Example
//!
//! ```
//! use trusthub_emulator::{start, Decision, EmulatorConfig};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> std::io::Result<()> {
//! let emulator = start(EmulatorConfig::default().with_seed(7)).await?;
//! assert!(emulator.base_url().starts_with("http://127.0.0.1:"));
//! assert_eq!(emulator.phone_number_sids().len(), 3);
//! // Nothing is in review yet, so a decision is refused.
//! assert!(emulator
//!     .decide(emulator.primary_profile_sid(), Decision::Approve)
//!     .await
//!     .is_err());
//! emulator.shutdown().await;
//! # Ok(())
//! # }
//! ```

use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};

use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio::task::{JoinHandle, JoinSet};

mod auth;
mod callbacks;
mod catalog;
#[cfg(feature = "cli")]
pub mod cli;
mod config;
mod countries;
mod evaluation;
mod faults;
mod lifecycle;
pub mod policies;
mod routes;
mod server;
pub mod sid;
mod state;
mod wire;

pub use config::{
    ApiKey, Decision, EmulatorConfig, RequirementRejection, DEFAULT_ACCOUNT_SID,
    DEFAULT_AUTH_TOKEN, DEFAULT_MAX_BRAND_RESUBMISSIONS, DEFAULT_PHONE_NUMBERS,
};
pub use countries::ISO_COUNTRIES;
pub use faults::{FaultKind, FaultRule, Faults, MAX_CALLBACK_RETRIES, MAX_LATENCY_MS};
pub use lifecycle::{
    DecideError, BRAND_REJECTION_CODE, CAMPAIGN_REJECTION_CODE, MANUAL_REJECTION_CODE,
    MOCK_DECISION_DELAY,
};
pub use routes::messaging::{CODE_NUMBER_IN_ANOTHER_SERVICE, CODE_NUMBER_IN_THIS_SERVICE};
pub use state::Counters;

use state::{lock, App, Inner, State};

/// A running emulator. Dropping it stops the server (its tasks are aborted); [`Emulator::shutdown`] also
/// waits for the accept loop to end.
pub struct Emulator {
    app: App,
    server: JoinHandle<()>,
    callback_worker: JoinHandle<()>,
}

impl std::fmt::Debug for Emulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Emulator")
            .field("base_url", &self.base_url())
            .field("account_sid", &self.app.account_sid)
            .finish_non_exhaustive()
    }
}

/// Starts an emulator on `127.0.0.1:config.port` (0 = a free port). Must run inside a Tokio runtime.
///
/// Fails with [`io::ErrorKind::InvalidInput`] when the configuration is invalid (see
/// [`EmulatorConfig::validate`]) or with the bind error.
pub async fn start(config: EmulatorConfig) -> io::Result<Emulator> {
    config
        .validate()
        .map_err(|why| io::Error::new(io::ErrorKind::InvalidInput, why))?;
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, config.port)).await?;
    let local_addr = listener.local_addr()?;
    let state = State::seeded(&config);
    let primary_profile_sid = state
        .bundles
        .iter()
        .find(|b| b.friendly_name == state::PRIMARY_PROFILE_NAME)
        .map(|b| b.sid.clone())
        .unwrap_or_default();
    let (callbacks, jobs) = mpsc::unbounded_channel();
    let inner = Arc::new(Inner {
        account_sid: config.account_sid.clone(),
        auth_token: config.auth_token.clone(),
        api_key: config.api_key.clone(),
        local_addr,
        primary_profile_sid,
        auto_decision: config.auto_decision.clone(),
        brand_decision: config.brand_decision.clone(),
        campaign_decision: config.campaign_decision.clone(),
        max_brand_resubmissions: config.max_brand_resubmissions,
        review_decisions: config.review_decisions.clone(),
        event_sink: config.event_sink.clone(),
        state: Mutex::new(state),
        faults: Mutex::new(faults::FaultState::new(config.faults.clone(), config.seed)),
        callbacks,
        tasks: Mutex::new(JoinSet::new()),
    });
    let callback_worker = callbacks::spawn_worker(Arc::downgrade(&inner), jobs, config.seed);
    let app = App(inner);
    let router = routes::router(app.clone());
    let server = tokio::spawn(server::serve(listener, router, app.clone()));
    Ok(Emulator {
        app,
        server,
        callback_worker,
    })
}

impl Emulator {
    /// `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.app.local_addr)
    }

    /// The bound address.
    pub fn local_addr(&self) -> SocketAddr {
        self.app.local_addr
    }

    /// The account's SID.
    pub fn account_sid(&self) -> &str {
        &self.app.account_sid
    }

    /// The account's auth token (Basic auth password and callback signing key).
    pub fn auth_token(&self) -> &str {
        &self.app.auth_token
    }

    /// The configured API key, if any.
    pub fn api_key(&self) -> Option<&ApiKey> {
        self.app.api_key.as_ref()
    }

    /// The seeded `twilio-approved` primary customer profile (an ISV).
    pub fn primary_profile_sid(&self) -> &str {
        &self.app.primary_profile_sid
    }

    /// The seeded phone numbers' SIDs (`PN...`), in creation order.
    pub fn phone_number_sids(&self) -> Vec<String> {
        lock(&self.app.state)
            .phone_numbers
            .iter()
            .map(|n| n.sid.clone())
            .collect()
    }

    /// A snapshot of the counters.
    pub fn counters(&self) -> Counters {
        lock(&self.app.state).counters.clone()
    }

    /// The faults in effect.
    pub fn faults(&self) -> Faults {
        lock(&self.app.faults).faults.clone()
    }

    /// Replaces the faults (the fault generator keeps its sequence).
    ///
    /// # Panics
    ///
    /// When `faults` is invalid (see [`Faults::validate`]): a test bug, reported where it happens.
    pub fn set_faults(&self, faults: Faults) {
        if let Err(why) = faults.validate() {
            panic!("invalid faults: {why}");
        }
        lock(&self.app.faults).faults = faults;
    }

    /// Ends the review of an `in-review` customer profile or trust product: `twilio-approved` or
    /// `twilio-rejected` (with the reason as the callback's `FailureReason`, and in `errors` one entry for
    /// the reason or, for [`Decision::RejectRequirements`], one per requirement; see the crate docs,
    /// "Rejections per requirement"). A requirement or field the bundle's policy does not have is refused
    /// with [`DecideError::InvalidDecision`] and changes nothing.
    pub async fn decide(
        &self,
        customer_profile_sid: &str,
        decision: Decision,
    ) -> Result<(), DecideError> {
        lifecycle::decide(&self.app, customer_profile_sid, &decision)
    }

    /// Ends the review of a `PENDING` A2P brand registration: `APPROVED` (with its `tcr_id`, `brand_score`
    /// and `identity_status` `VERIFIED`) or `FAILED` (with the reason as `failure_reason` and in `errors`,
    /// one entry per requirement of a [`Decision::RejectRequirements`]; the control endpoint also takes
    /// `brand_feedback`). The decision is sent to the event sink, if any.
    pub async fn decide_brand(
        &self,
        brand_registration_sid: &str,
        decision: Decision,
    ) -> Result<(), DecideError> {
        lifecycle::decide_brand(&self.app, brand_registration_sid, &decision, &[])
    }

    /// Ends the review of an `IN_PROGRESS` A2P campaign (`QE...`): `VERIFIED` or `FAILED` (with the reason
    /// in `errors`, one entry per requirement of a [`Decision::RejectRequirements`]). The decision is sent to
    /// the event sink, if any.
    pub async fn decide_campaign(
        &self,
        campaign_sid: &str,
        decision: Decision,
    ) -> Result<(), DecideError> {
        lifecycle::decide_campaign(&self.app, campaign_sid, &decision)
    }

    /// Stops the server and its background tasks, waiting for the accept loop to end.
    pub async fn shutdown(mut self) {
        self.stop();
        let _ = (&mut self.server).await;
        let _ = (&mut self.callback_worker).await;
    }

    fn stop(&self) {
        self.server.abort();
        self.callback_worker.abort();
        lock(&self.app.tasks).abort_all();
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        self.stop();
    }
}
