//! The flow as a handle: [`Client::secondary_profile`] binds an input to its client, then the
//! journal store, a journal to resume and the options are set, and [`ProfileFlow::run`] runs it.

use std::fmt;
use std::sync::Arc;

use super::{
    run, FlowError, FlowOptions, FlowReport, Journal, JournalStore, NoStore, SecondaryProfile,
};
use crate::Client;

/// One Secondary Customer Profile flow, bound to its client: steps 1-9 when run, then the
/// [`FlowReport`] (bound to the same client and store) submits and follows the review.
///
/// Without [`journal`](Self::journal) nothing is kept ([`NoStore`]): a crash loses the flow.
/// With a journal to resume ([`resuming`](Self::resuming)) the journal is checked against the
/// input first ([`SecondaryProfile::reconcile_journal`]); what it holds is reused, every create
/// it recorded an intent for is looked up and created only if absent.
///
/// ```
/// use trusthub::flow::{FlowOptions, Limiter, MemoryStore};
/// # use trusthub::attributes::*;
/// # use trusthub::flow::SecondaryProfileBuilder;
/// # use trusthub_emulator::Emulator;
/// # fn input(e: &Emulator) -> SecondaryProfileBuilder {
/// #     let rep = |n: u8| AuthorizedRepresentative { first_name: format!("Rep{n}"), last_name: "Acme".into(),
/// #         email: format!("rep{n}@acme.example.com"), phone_number: format!("+1415555010{n}"),
/// #         business_title: "Officer".into(), job_position: JobPosition::Ceo };
/// #     trusthub::flow::SecondaryProfile::builder()
/// #         .friendly_name("Acme Handle").email("compliance@acme.example.com")
/// #         .business(BusinessInformation {
/// #             business_name: "Acme Corp".into(), business_identity: BusinessIdentity::DirectCustomer,
/// #             business_type: BusinessType::LimitedLiabilityCorporation, business_industry: BusinessIndustry::Technology,
/// #             business_registration_identifier: RegistrationIdentifier::Ein, business_registration_number: "123456789".into(),
/// #             business_regions_of_operation: Regions::from([Region::UsaAndCanada]),
/// #             website_url: "https://acme.example.com".into(), social_media_profile_urls: vec![] })
/// #         .representatives(rep(1), rep(2))
/// #         .address(Address { customer_name: "Acme Corp".into(), street: "555 Main Street".into(),
/// #             street_secondary: None, city: "San Francisco".into(), region: "CA".into(),
/// #             postal_code: "94105".into(), iso_country: "US".into(), friendly_name: None,
/// #             emergency_enabled: None, auto_correct_address: None })
/// #         .primary_profile(e.primary_profile_sid().parse().unwrap())
/// #         .phone_numbers([e.phone_number_sids()[0].parse().unwrap()])
/// # }
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let emulator = trusthub_emulator::start(Default::default()).await?;
/// # let client = trusthub::Client::builder().account_sid(emulator.account_sid().parse()?)
/// #     .auth_token(emulator.auth_token()).base_url(emulator.base_url()).build()?;
/// let input = input(&emulator).build()?;
/// let store = MemoryStore::new();
/// let report = client
///     .secondary_profile(&input)
///     .journal(store.clone())
///     .options(FlowOptions { limiter: Limiter::new(4), ..FlowOptions::default() })
///     .run()
///     .await?;
/// assert!(report.evaluation.is_compliant());
///
/// // Resuming the finished flow from its journal sends nothing new.
/// let again = client
///     .secondary_profile(&input)
///     .journal(store.clone())
///     .resuming(store.latest().unwrap())
///     .run()
///     .await?;
/// assert_eq!(again.bundle(), report.bundle());
/// # Ok(()) }
/// ```
#[must_use = "a flow does nothing until `.run().await`"]
pub struct ProfileFlow<'a> {
    client: &'a Client,
    input: &'a SecondaryProfile,
    store: Arc<dyn JournalStore>,
    resume: Option<Journal>,
    options: FlowOptions,
}

impl fmt::Debug for ProfileFlow<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProfileFlow")
            .field("input", &self.input)
            .field("resume", &self.resume.as_ref().map(|j| j.flow_id.as_str()))
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// The Secondary Customer Profile flow of `input`, bound to this client; see [`ProfileFlow`].
    pub fn secondary_profile<'a>(&'a self, input: &'a SecondaryProfile) -> ProfileFlow<'a> {
        ProfileFlow {
            client: self,
            input,
            store: Arc::new(NoStore),
            resume: None,
            options: FlowOptions::default(),
        }
    }
}

impl<'a> ProfileFlow<'a> {
    /// Where the journal goes: before anything is sent (so a crash at any moment leaves a
    /// journal naming the flow), before every create (its intent) and after every step.
    pub fn journal(mut self, store: impl JournalStore + 'static) -> Self {
        self.store = Arc::new(store);
        self
    }

    /// Finishes the flow `journal` recorded instead of starting a new one.
    pub fn resuming(mut self, journal: Journal) -> Self {
        self.resume = Some(journal);
        self
    }

    /// How the flow runs (default [`FlowOptions::default`]).
    pub fn options(mut self, options: FlowOptions) -> Self {
        self.options = options;
        self
    }

    /// Runs steps 1-9 (or what the journal to resume leaves of them).
    pub async fn run(self) -> Result<FlowReport, FlowError> {
        let key = self.store.digest_key();
        let journal = match self.resume {
            Some(journal) => self.input.reconcile_journal(journal, key)?,
            None => Journal::new(run::new_flow_id(), key.id(), self.input.input_digests(key)),
        };
        // Boxed: a flow's state is large, and a caller holding many flows that have not started
        // (tasks waiting for a slot) should not hold that much memory for each.
        Box::pin(run::run(
            self.input,
            self.client,
            journal,
            self.store,
            self.options,
        ))
        .await
    }
}
