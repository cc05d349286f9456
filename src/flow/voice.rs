//! The voice trust products of a secondary profile: SHAKEN/STIR (policy
//! `RN7a97559effdf62d00f4298208492a5ea`, calls signed as the business's) and CNAM (policy
//! `RNf3db3cd1fe25fcfd3c3ded065c8fea53`, the caller name shown on the business's calls), as
//! Twilio's ISV guides walk through them: the trust product (CNAM's with its `cnam_information`
//! end user), the secondary profile and the phone numbers assigned, evaluated, submitted.
//!
//! On the flow's engine, like the profile flow and the A2P journey: the profile's checks (or an
//! existing profile's submission) before anything is created; both trust products built beside
//! the profile's steps, the profile assigned as soon as its bundle exists; the numbers (which
//! must be on the profile first) once the profile is built and submitted; then each trust
//! product's evaluation and submission. Every create's intent is journaled first; a lost one is
//! looked up (the trust product by its fields, its end user by the flow id in its name,
//! assignments by their object).
//!
//! ```
//! use trusthub::flow::voice::{CnamDisplayName, VoiceProducts};
//! use trusthub::sid::{CustomerProfileSid, PhoneNumberSid};
//!
//! // CNAM: at most 15 characters, a letter first, then letters, digits, '.', ',' and spaces.
//! assert!(CnamDisplayName::new("Acme Corp").is_ok());
//! let error = CnamDisplayName::new("1-800 ACME CORPORATION").unwrap_err();
//! assert_eq!(
//!     error.to_string(),
//!     "cnam.display_name: expected at most 15 characters, a letter first, then letters, \
//!      digits, '.', ',' and spaces; found 22 characters, starting with a digit, with other \
//!      symbols"
//! );
//!
//! let errors = VoiceProducts::builder()
//!     .existing_profile(CustomerProfileSid::from_static("BU0123456789abcdef0123456789abcdef"))
//!     .build()
//!     .unwrap_err();
//! assert_eq!(errors.fields().collect::<Vec<_>>(), ["shaken_stir", "phone_numbers"]);
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use futures_util::future::join_all;
use serde_json::{json, Value};
use trusthub_generated::trusthub_v1::TrustProductStatus;

use super::digest::Canonical;
use super::engine::Engine;
use super::run::{new_flow_id, ProfilePhase};
use super::trust_product::{check_name_and_email, TrustProductInput, TrustProductSteps};
use super::{
    DigestKey, FlowError, FlowOptions, Journal, JournalStore, NoStore, ProfileSource,
    SecondaryProfile, StepRecord, TrustProductKind,
};
use crate::attributes::{
    ProblemKind, Redacted, RegistrationIdentifier, ValidationError, ValidationErrors,
    ValidationReport, Warning, WarningKind,
};
use crate::evaluation::Evaluation;
use crate::sid::{CustomerProfileSid, PhoneNumberSid, TrustProductSid};
use crate::Client;

/// The longest CNAM display name, in characters.
pub const MAX_CNAM_CHARS: usize = 15;

/// A CNAM display name as Twilio documents it: at most 15 characters, a letter first, then
/// letters, digits, periods, commas and spaces.
#[derive(Clone, PartialEq, Eq)]
pub struct CnamDisplayName(String);

impl CnamDisplayName {
    /// The end user type that carries it.
    pub const END_USER_TYPE: &'static str = "cnam_information";

    /// A checked display name; the error names the rule and never repeats the value.
    pub fn new(name: impl Into<String>) -> Result<Self, ValidationError> {
        let name = name.into();
        let n = name.chars().count();
        let first_letter = name.chars().next().is_some_and(char::is_alphabetic);
        let allowed = name
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '.' | ',' | ' '));
        if n == 0 || n > MAX_CNAM_CHARS || !first_letter || !allowed {
            let mut found = vec![format!("{n} characters")];
            if n > 0 && !first_letter {
                found.push(match name.chars().next() {
                    Some(c) if c.is_ascii_digit() => "starting with a digit".to_owned(),
                    _ => "not starting with a letter".to_owned(),
                });
            }
            if !allowed {
                found.push("with other symbols".to_owned());
            }
            return Err(ValidationError::new(
                "cnam.display_name",
                ProblemKind::Format,
                format!(
                    "at most {MAX_CNAM_CHARS} characters, a letter first, then letters, digits, \
                     '.', ',' and spaces"
                ),
                found.join(", "),
            ));
        }
        Ok(CnamDisplayName(name))
    }

    /// The name as sent.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The `Attributes` of the `cnam_information` end user.
    pub fn to_attributes(&self) -> Value {
        json!({ "cnam_display_name": self.0 })
    }
}

impl fmt::Debug for CnamDisplayName {
    /// The business's name on its calls is its customer's data: its length only.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "CnamDisplayName(<{} characters>)",
            self.0.chars().count()
        )
    }
}

/// A voice trust product's name and status email.
#[derive(Clone, PartialEq, Eq)]
struct Product {
    friendly_name: String,
    email: String,
}

impl fmt::Debug for Product {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Product")
            .field("friendly_name", &Redacted(&self.friendly_name))
            .field("email", &Redacted(&self.email))
            .finish()
    }
}

/// The voice trust products of one secondary profile: validated input (see the
/// [module](self) documentation).
#[derive(Debug, Clone)]
pub struct VoiceProducts {
    profile: ProfileSource,
    shaken_stir: Option<Product>,
    cnam: Option<(Product, CnamDisplayName)>,
    phone_numbers: Vec<PhoneNumberSid>,
    warnings: Vec<Warning>,
}

/// Builds [`VoiceProducts`]; [`build`](Self::build) validates everything at once.
#[derive(Clone, Default)]
pub struct VoiceProductsBuilder {
    profile: Option<ProfileSource>,
    shaken_stir: Option<(Option<String>, Option<String>)>,
    cnam: Option<(Option<String>, Option<String>, String)>,
    phone_numbers: Vec<PhoneNumberSid>,
}

impl fmt::Debug for VoiceProductsBuilder {
    /// Which parts are set, never their values.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VoiceProductsBuilder")
            .field("profile", &self.profile.is_some())
            .field("shaken_stir", &self.shaken_stir.is_some())
            .field("cnam", &self.cnam.is_some())
            .field("phone_numbers", &self.phone_numbers.len())
            .finish()
    }
}

impl VoiceProductsBuilder {
    /// Start from the customer's data: the profile flow runs first, then its submission.
    pub fn secondary_profile(mut self, profile: SecondaryProfile) -> Self {
        self.profile = Some(ProfileSource::New(profile));
        self
    }

    /// Start from a secondary profile that was submitted already (its numbers assigned).
    pub fn existing_profile(mut self, profile: CustomerProfileSid) -> Self {
        self.profile = Some(ProfileSource::Existing(profile));
        self
    }

    /// A SHAKEN/STIR trust product named after the new profile (" SHAKEN/STIR"), with its email.
    pub fn shaken_stir(mut self) -> Self {
        self.shaken_stir = Some((None, None));
        self
    }

    /// A SHAKEN/STIR trust product with this name and status email.
    pub fn shaken_stir_named(
        mut self,
        friendly_name: impl Into<String>,
        email: impl Into<String>,
    ) -> Self {
        self.shaken_stir = Some((Some(friendly_name.into()), Some(email.into())));
        self
    }

    /// A CNAM trust product showing `display_name`, named after the new profile (" CNAM").
    pub fn cnam(mut self, display_name: impl Into<String>) -> Self {
        self.cnam = Some((None, None, display_name.into()));
        self
    }

    /// A CNAM trust product with this name and status email.
    pub fn cnam_named(
        mut self,
        display_name: impl Into<String>,
        friendly_name: impl Into<String>,
        email: impl Into<String>,
    ) -> Self {
        self.cnam = Some((
            Some(friendly_name.into()),
            Some(email.into()),
            display_name.into(),
        ));
        self
    }

    /// The phone numbers (`PN...`, on the secondary profile) the products are for.
    pub fn phone_numbers(mut self, numbers: impl IntoIterator<Item = PhoneNumberSid>) -> Self {
        self.phone_numbers = numbers.into_iter().collect();
        self
    }

    /// Validates everything locally, reporting every problem at once; nothing is sent.
    pub fn build(self) -> Result<VoiceProducts, ValidationErrors> {
        let mut r = ValidationReport::new();
        let new_profile = match &self.profile {
            Some(ProfileSource::New(p)) => Some(p),
            _ => None,
        };
        if self.profile.is_none() {
            r.error(
                "profile",
                ProblemKind::Required,
                "a secondary profile to create, or the SID of a submitted one (BU...)",
                "nothing",
            );
        }
        if let Some(p) = new_profile {
            for w in p.warnings() {
                r.warn(w.field().to_owned(), w.kind(), w.message().to_owned());
            }
        }
        let mut product =
            |path: &str, suffix: &str, name: Option<String>, email: Option<String>| {
                let name = name
                    .or_else(|| new_profile.map(|p| format!("{} {suffix}", p.friendly_name)))
                    .unwrap_or_default();
                let email = email
                    .or_else(|| new_profile.map(|p| p.email.clone()))
                    .unwrap_or_default();
                check_name_and_email(&mut r, path, &name, &email);
                Product {
                    friendly_name: name,
                    email,
                }
            };
        let shaken_stir = self
            .shaken_stir
            .map(|(name, email)| product("shaken_stir", "SHAKEN/STIR", name, email));
        let cnam = match self.cnam {
            Some((name, email, display)) => {
                let product = product("cnam", "CNAM", name, email);
                match CnamDisplayName::new(display) {
                    Ok(display) => Some((product, display)),
                    Err(e) => {
                        r.push(e);
                        None
                    }
                }
            }
            None => None,
        };
        if shaken_stir.is_none() && cnam.is_none() && r.errors().is_empty() {
            r.error(
                "shaken_stir",
                ProblemKind::Required,
                "a SHAKEN/STIR or a CNAM trust product (or both)",
                "neither",
            );
        }
        if let (Some(p), true) = (new_profile, cnam.is_some()) {
            let identifier = &p.business.business_registration_identifier;
            if !matches!(
                identifier,
                RegistrationIdentifier::Ein | RegistrationIdentifier::Duns
            ) {
                r.error(
                    "business_information.business_registration_identifier",
                    ProblemKind::Combination,
                    "EIN or DUNS: CNAM needs a profile registered with one",
                    identifier.as_str().to_owned(),
                );
            }
        }
        if self.phone_numbers.is_empty() {
            r.error(
                "phone_numbers",
                ProblemKind::EmptyList,
                "the phone numbers (PN...) the trust products are for",
                "none",
            );
        }
        let mut phone_numbers = Vec::new();
        for pn in self.phone_numbers {
            if phone_numbers.contains(&pn) {
                r.warn(
                    "phone_numbers",
                    WarningKind::Flow,
                    format!("{pn} is listed twice; assigned once"),
                );
                continue;
            }
            if let Some(p) = new_profile
                && !p.phone_numbers.contains(&pn)
            {
                r.error(
                    "phone_numbers",
                    ProblemKind::Combination,
                    "numbers of the new profile (a voice trust product takes only numbers on its \
                     secondary profile)",
                    format!("{pn}, which the profile does not list"),
                );
            }
            phone_numbers.push(pn);
        }
        let warnings = r.finish()?;
        Ok(VoiceProducts {
            profile: self.profile.expect("checked above"),
            shaken_stir,
            cnam,
            phone_numbers,
            warnings,
        })
    }
}

/// The parts of the voice products' input the journal keeps a digest of (beside a new
/// profile's).
pub const VOICE_PARTS: [&str; 4] = [
    "voice.profile",
    "voice.shaken_stir",
    "voice.cnam",
    "voice.phone_numbers",
];

impl VoiceProducts {
    /// A builder.
    pub fn builder() -> VoiceProductsBuilder {
        VoiceProductsBuilder::default()
    }

    /// Warnings found by validation (not fatal).
    pub fn warnings(&self) -> &[Warning] {
        &self.warnings
    }

    /// The trust products asked for.
    pub fn kinds(&self) -> Vec<TrustProductKind> {
        let mut kinds = Vec::new();
        if self.shaken_stir.is_some() {
            kinds.push(TrustProductKind::ShakenStir);
        }
        if self.cnam.is_some() {
            kinds.push(TrustProductKind::Cnam);
        }
        kinds
    }

    /// Keyed digests of the input: a new profile's parts and [`VOICE_PARTS`].
    pub fn input_digests(&self, key: &DigestKey) -> BTreeMap<String, String> {
        let mut parts = match &self.profile {
            ProfileSource::New(p) => p.input_digests(key),
            ProfileSource::Existing(_) => BTreeMap::new(),
        };
        let mut put = |name: &str, canonical: Canonical| {
            parts.insert(name.to_owned(), key.digest(name, canonical.bytes()));
        };
        let mut profile = Canonical::default();
        match &self.profile {
            ProfileSource::New(_) => profile.put("new"),
            ProfileSource::Existing(sid) => profile.put("existing").put(sid.as_str()),
        };
        put("voice.profile", profile);
        let mut shaken = Canonical::default();
        if let Some(p) = &self.shaken_stir {
            shaken.put(&p.friendly_name).put(&p.email);
        }
        put("voice.shaken_stir", shaken);
        let mut cnam = Canonical::default();
        if let Some((p, display)) = &self.cnam {
            cnam.put(&p.friendly_name)
                .put(&p.email)
                .put(display.as_str());
        }
        put("voice.cnam", cnam);
        let mut numbers = Canonical::default();
        for pn in &self.phone_numbers {
            numbers.put(pn.as_str());
        }
        put("voice.phone_numbers", numbers);
        parts
    }

    /// Checks that `journal` belongs to this input and returns it ready to resume: the
    /// profile's parts as [`SecondaryProfile::reconcile_journal`] does, then the products': a
    /// changed product that was created (or may have been), or a number removed after its
    /// assignment, is [`FlowError::StaleJournal`] naming the part, never its values.
    pub fn reconcile_journal(
        &self,
        journal: Journal,
        key: &DigestKey,
    ) -> Result<Journal, FlowError> {
        let mut journal = match &self.profile {
            ProfileSource::New(p) => p.reconcile_journal(journal, key)?,
            ProfileSource::Existing(_) => super::check_format_and_key(journal, key)?,
        };
        let now = self.input_digests(key);
        let mut problems = Vec::new();
        let built = |kind: TrustProductKind| {
            journal.voice.contains_key(&kind)
                || journal
                    .intents
                    .keys()
                    .any(|k| k.starts_with(&format!("{}.", kind.key())))
        };
        for (part, kind) in [
            ("voice.shaken_stir", TrustProductKind::ShakenStir),
            ("voice.cnam", TrustProductKind::Cnam),
        ] {
            if journal.input.contains_key(part)
                && journal.input.get(part) != now.get(part)
                && built(kind)
            {
                problems.push(part.to_owned());
            }
        }
        for (kind, progress) in &journal.voice {
            for pn in progress.phone_numbers.keys() {
                if !self.phone_numbers.contains(pn) {
                    problems.push(format!(
                        "voice.phone_numbers ({pn} was assigned to the {} trust product; the \
                         input no longer lists it)",
                        kind.name()
                    ));
                }
            }
        }
        if journal.input.contains_key("voice.profile")
            && journal.input.get("voice.profile") != now.get("voice.profile")
            && !journal.voice.is_empty()
        {
            problems.push("voice.profile".to_owned());
        }
        if !problems.is_empty() {
            return Err(FlowError::StaleJournal {
                detail: format!(
                    "the input changed since the journal was written, in parts that resources \
                     were created from: {}",
                    problems.join(", ")
                ),
            });
        }
        if journal.input.as_ref() != &now {
            let mut merged = journal.input.as_ref().clone();
            merged.extend(now);
            journal.input = Arc::new(merged);
        }
        Ok(journal)
    }
}

/// One voice trust product after a run.
#[derive(Debug, Clone)]
pub struct VoiceProductReport {
    /// SHAKEN/STIR or CNAM.
    pub kind: TrustProductKind,
    /// The trust product.
    pub trust_product: TrustProductSid,
    /// Its evaluation.
    pub evaluation: Evaluation,
    /// The status Twilio answered to its submission (or its status, when it was submitted by an
    /// earlier run).
    pub status: TrustProductStatus,
}

/// What a run of the voice products produced.
#[derive(Debug)]
pub struct VoiceReport {
    /// Every SID, as journaled (the products' in [`Journal::voice`]).
    pub journal: Journal,
    /// The new profile's evaluation (none for an existing profile).
    pub profile_evaluation: Option<Evaluation>,
    /// Each trust product, SHAKEN/STIR first.
    pub products: Vec<VoiceProductReport>,
    /// Every step, in the order they finished.
    pub steps: Vec<StepRecord>,
    /// Validation warnings.
    pub warnings: Vec<Warning>,
    /// Wall time of the run.
    pub elapsed: Duration,
}

impl VoiceReport {
    /// The trust product of `kind`, if it was asked for.
    pub fn product(&self, kind: TrustProductKind) -> Option<&VoiceProductReport> {
        self.products.iter().find(|p| p.kind == kind)
    }
}

/// The voice trust products of one profile, bound to a client; see the [module](self)
/// documentation.
#[must_use = "a flow does nothing until `.run().await`"]
pub struct VoiceFlow<'a> {
    client: &'a Client,
    input: &'a VoiceProducts,
    store: Arc<dyn JournalStore>,
    resume: Option<Journal>,
    options: FlowOptions,
}

impl fmt::Debug for VoiceFlow<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VoiceFlow")
            .field("input", &self.input)
            .field("resume", &self.resume.as_ref().map(|j| j.flow_id.as_str()))
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// The voice trust products of `input`, bound to this client; see [`VoiceFlow`].
    pub fn voice_products<'a>(&'a self, input: &'a VoiceProducts) -> VoiceFlow<'a> {
        VoiceFlow {
            client: self,
            input,
            store: Arc::new(NoStore),
            resume: None,
            options: FlowOptions::default(),
        }
    }
}

impl VoiceFlow<'_> {
    /// Where the journal goes (before every create and after every step).
    pub fn journal(mut self, store: impl JournalStore + 'static) -> Self {
        self.store = Arc::new(store);
        self
    }

    /// Goes on from `journal` (the products', an A2P journey's or a profile flow's of the same
    /// profile) instead of starting a new one.
    pub fn resuming(mut self, journal: Journal) -> Self {
        self.resume = Some(journal);
        self
    }

    /// How the flow runs: the in-flight cap, the observer, a shared preflight.
    pub fn options(mut self, options: FlowOptions) -> Self {
        self.options = options;
        self
    }

    /// Runs the flow (or what the journal to resume leaves of it).
    pub async fn run(self) -> Result<VoiceReport, FlowError> {
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
        let (profile_evaluation, products) = Box::pin(run(&engine, input)).await?;
        let (journal, steps, warnings, elapsed) = engine.into_parts();
        Ok(VoiceReport {
            journal,
            profile_evaluation,
            products,
            steps,
            warnings,
            elapsed,
        })
    }
}

async fn run(
    engine: &Engine<'_>,
    input: &VoiceProducts,
) -> Result<(Option<Evaluation>, Vec<VoiceProductReport>), FlowError> {
    // Before anything is created: the profile's checks, or the existing profile's submission.
    let (profile, ready) = ProfilePhase::check(engine, &input.profile, false, |_| {}).await?;
    let mut products: Vec<(TrustProductKind, TrustProductSteps<'_>, Option<Value>)> = Vec::new();
    if let Some(p) = &input.shaken_stir {
        products.push((
            TrustProductKind::ShakenStir,
            steps(engine, TrustProductKind::ShakenStir, p, "voice.shaken_stir"),
            None,
        ));
    }
    if let Some((p, display)) = &input.cnam {
        products.push((
            TrustProductKind::Cnam,
            steps(engine, TrustProductKind::Cnam, p, "voice.cnam"),
            Some(display.to_attributes()),
        ));
    }
    // The trust products beside the profile's steps; `join!` lets every branch finish and be
    // journaled when one fails.
    let built = join_all(products.iter().map(|(kind, steps, attributes)| {
        let end_user = attributes.as_ref().map(|a| (end_user_type(*kind), a));
        steps.build(end_user, ready.clone())
    }));
    drop(ready);
    let (profile, built) = tokio::join!(profile.build_and_submit(), built);
    let (_, profile_evaluation) = profile?;
    let mut sids = Vec::new();
    for result in built {
        sids.push(result?.expect("the profile phase succeeded"));
    }
    // The numbers are on the profile now; each product takes them, then is evaluated and
    // submitted.
    let finished = join_all(
        products
            .iter()
            .zip(&sids)
            .map(|((kind, steps, _), sid)| async move {
                let assigned = join_all(
                    input
                        .phone_numbers
                        .iter()
                        .map(|pn| steps.assign_number(*sid, *pn)),
                )
                .await;
                for result in assigned {
                    result?;
                }
                let (evaluation, status) = steps.evaluate_and_submit(*sid).await?;
                Ok::<_, FlowError>(VoiceProductReport {
                    kind: *kind,
                    trust_product: *sid,
                    evaluation,
                    status,
                })
            }),
    )
    .await;
    let mut reports = Vec::new();
    for result in finished {
        reports.push(result?);
    }
    Ok((profile_evaluation, reports))
}

fn steps<'a>(
    engine: &'a Engine<'a>,
    kind: TrustProductKind,
    product: &'a Product,
    criteria_part: &'static str,
) -> TrustProductSteps<'a> {
    TrustProductSteps::new(
        engine,
        kind,
        TrustProductInput {
            friendly_name: &product.friendly_name,
            email: &product.email,
            criteria_part,
        },
    )
}

fn end_user_type(kind: TrustProductKind) -> &'static str {
    match kind {
        TrustProductKind::Cnam => CnamDisplayName::END_USER_TYPE,
        _ => unreachable!("only CNAM has an end user among the voice products"),
    }
}
