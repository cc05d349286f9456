//! The A2P 10DLC journey: from a customer's data (or an existing secondary profile) to a
//! registered brand and campaign on a Messaging Service with its phone numbers, as Twilio's ISV
//! guide walks through it, in one resumable operation on the flow's engine.
//!
//! Steps, each starting as soon as its inputs exist:
//!
//! 1. the secondary customer profile: the profile flow and its submission
//!    ([`ProfileSource::New`]), or a check that an existing one was submitted
//!    ([`ProfileSource::Existing`]);
//! 2. the A2P Messaging Profile trust product (policy `RNb0d4771c2c98518d916a3d4cd70a8f8b`) and
//!    its `us_a2p_messaging_profile_information` end user, both at once; the end user assigned as
//!    soon as both exist, the secondary profile as soon as it exists; evaluated once the profile
//!    is submitted; submitted;
//! 3. the Messaging Service, created (or reused) at the start, and the phone numbers added to it;
//! 4. the brand registration (a fee), once both bundles are submitted; then its vetting by The
//!    Campaign Registry, which takes minutes to weeks: the run waits up to
//!    [`A2pFlow::wait_for_brand`], then returns [`Stage::BrandPending`] with the brand in the
//!    journal; running again later goes on from there;
//! 5. the campaign (a fee), once the brand is approved: its use case checked against the list
//!    Twilio gives for the brand, then created on the service; its review followed like the
//!    brand's.
//!
//! Every create follows the engine's rules (write-ahead intent, lookup before a re-send, one
//! budget of sends), so a brand or a campaign is never sent twice: a lost brand create is found
//! by its A2P trust product (one brand per trust product), a lost campaign by its service (one
//! campaign per service), the trust product, end user and service by the flow id in their
//! friendly names.
//!
//! Input is checked before anything is sent, every problem at once:
//!
//! ```
//! use trusthub::attributes::{CompanyType, MessagingProfileInformation};
//! use trusthub::flow::a2p::{Campaign, Journey};
//! use trusthub::sid::CustomerProfileSid;
//!
//! let campaign = Campaign {
//!     description: "Too short".into(),
//!     message_samples: vec!["Your code is 1234, valid for 10 minutes.".into()],
//!     ..Campaign::new("2FA")
//! };
//! let errors = Journey::builder()
//!     .existing_profile(CustomerProfileSid::from_static("BU0123456789abcdef0123456789abcdef"))
//!     .trust_product("Acme A2P", "compliance@acme.example.com")
//!     .messaging_profile(MessagingProfileInformation::new(CompanyType::Private))
//!     .messaging_service("Acme notifications")
//!     .campaign(campaign)
//!     .build()
//!     .unwrap_err();
//! let fields: Vec<&str> = errors.fields().collect();
//! assert_eq!(
//!     fields,
//!     ["campaign.description", "campaign.message_flow", "campaign.message_samples"]
//! );
//! assert!(errors.to_string().contains("40 to 4096 characters"));
//! ```

mod handle;
mod run;

use std::collections::BTreeMap;
use std::fmt;

use crate::attributes::{
    http_url_problem, join, MessagingProfileInformation, ProblemKind, Redacted, Validate,
    ValidationErrors, ValidationReport, Warning, WarningKind, MAX_URL_CHARS,
};
use crate::sid::{CustomerProfileSid, MessagingServiceSid, PhoneNumberSid};

use super::digest::Canonical;
use super::trust_product::check_name_and_email;
use super::{DigestKey, FlowError, Journal, SecondaryProfile};

pub use super::ProfileSource;
pub use handle::{A2pFlow, BrandFailure, JourneyReport, Stage};

/// The kind of brand to register.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum BrandType {
    /// A Standard brand: secondary vetting by default, the throughput its trust score gives.
    Standard,
    /// A Low-Volume Standard brand: under 6,000 message segments a day; must skip secondary
    /// vetting (Twilio's ISV guide).
    LowVolumeStandard,
}

impl BrandType {
    /// The wire value of `BrandType`.
    pub fn as_str(self) -> &'static str {
        match self {
            BrandType::Standard => "STANDARD",
            BrandType::LowVolumeStandard => "LOW_VOLUME_STANDARD",
        }
    }
}

impl fmt::Display for BrandType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How the brand is registered.
///
/// ```
/// use trusthub::flow::a2p::{Brand, BrandType};
///
/// let brand = Brand::new(BrandType::LowVolumeStandard);
/// assert!(brand.skips_secondary_vetting()); // low-volume brands must
/// assert!(!Brand::new(BrandType::Standard).skips_secondary_vetting());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Brand {
    /// Standard or Low-Volume Standard.
    pub brand_type: BrandType,
    /// A mock brand (`Mock=true`): for tests, approved without vetting, never billed as a real
    /// brand; its campaigns are mock campaigns.
    pub mock: bool,
    /// `SkipAutomaticSecVet`: `None` is the brand type's default (skipped for Low-Volume
    /// Standard, done for Standard). Skipping it for a Low-Volume Standard brand is required.
    pub skip_automatic_secondary_vetting: Option<bool>,
}

impl Brand {
    /// A real (not mock) brand of `brand_type`, vetting as its type requires.
    pub fn new(brand_type: BrandType) -> Self {
        Brand {
            brand_type,
            mock: false,
            skip_automatic_secondary_vetting: None,
        }
    }

    /// Whether the brand is registered with `SkipAutomaticSecVet=true`.
    pub fn skips_secondary_vetting(&self) -> bool {
        self.skip_automatic_secondary_vetting
            .unwrap_or(self.brand_type == BrandType::LowVolumeStandard)
    }
}

/// The Messaging Service the campaign goes on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MessagingServiceInput {
    /// Create one with this friendly name (at most 64 characters) and optional webhooks.
    New {
        /// The service's friendly name.
        friendly_name: String,
        /// Where Twilio sends incoming messages (`InboundRequestUrl`).
        inbound_request_url: Option<String>,
        /// Where Twilio sends delivery status (`StatusCallback`).
        status_callback: Option<String>,
    },
    /// Use this service (it must hold no campaign yet).
    Existing(MessagingServiceSid),
}

/// The longest Messaging Service friendly name Twilio accepts, in characters.
pub const MAX_SERVICE_NAME_CHARS: usize = 64;

/// The campaign (`UsAppToPerson`): what will be sent, to whom, and how they agreed to it.
///
/// Bounds are the ones Twilio documents for `CreateUsAppToPerson`: description 40-4096
/// characters, message flow 40-2048, 2-5 samples of 20-1024, opt-in/opt-out/help messages
/// 20-320, keywords alphanumeric of at most 255. [`Campaign::new`] sets the use case and leaves
/// the texts empty, so that `build()` names each one still missing.
///
/// ```
/// use trusthub::flow::a2p::Campaign;
///
/// let campaign = Campaign {
///     description: "One-time passcodes for Acme's customers when they sign in.".into(),
///     message_flow: "Users give their number on acme.example.com/signup and tick a box.".into(),
///     message_samples: vec![
///         "Acme: your code is 123456. It expires in 10 minutes.".into(),
///         "Acme: 654321 is your sign-in code. Reply STOP to opt out.".into(),
///     ],
///     ..Campaign::new("2FA")
/// };
/// assert!(campaign.validate_at("campaign").is_ok());
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Campaign {
    /// The use case code (`UsAppToPersonUsecase`), e.g. `2FA`, `MARKETING`, `LOW_VOLUME`;
    /// checked against the list Twilio gives for the brand before the campaign is created.
    pub use_case: String,
    /// What the campaign sends (40-4096 characters).
    pub description: String,
    /// How a recipient opts in (40-2048 characters).
    pub message_flow: String,
    /// Sample messages (2 to 5, each 20-1024 characters).
    pub message_samples: Vec<String>,
    /// Whether messages contain links.
    pub has_embedded_links: bool,
    /// Whether messages contain phone numbers.
    pub has_embedded_phone: bool,
    /// The answer to an opt-in keyword (20-320 characters); required with opt-in keywords.
    pub opt_in_message: Option<String>,
    /// The answer to an opt-out keyword (20-320 characters); required with opt-out keywords.
    pub opt_out_message: Option<String>,
    /// The answer to a help keyword (20-320 characters); required with help keywords.
    pub help_message: Option<String>,
    /// Keywords that opt a recipient in.
    pub opt_in_keywords: Vec<String>,
    /// Keywords that opt a recipient out.
    pub opt_out_keywords: Vec<String>,
    /// Keywords that ask for help.
    pub help_keywords: Vec<String>,
    /// Whether the content is age-gated.
    pub age_gated: bool,
    /// Whether the campaign is about direct lending.
    pub direct_lending: bool,
    /// `SubscriberOptIn`, when the ISV states it.
    pub subscriber_opt_in: Option<bool>,
}

/// Documented bounds of the campaign's texts, in characters, and of its samples.
const DESCRIPTION_CHARS: (usize, usize) = (40, 4096);
const MESSAGE_FLOW_CHARS: (usize, usize) = (40, 2048);
const SAMPLE_CHARS: (usize, usize) = (20, 1024);
const SAMPLES: (usize, usize) = (2, 5);
const REPLY_CHARS: (usize, usize) = (20, 320);
const MAX_KEYWORD_CHARS: usize = 255;

impl Campaign {
    /// A campaign of `use_case` with every text empty and every flag off.
    pub fn new(use_case: impl Into<String>) -> Self {
        Campaign {
            use_case: use_case.into(),
            description: String::new(),
            message_flow: String::new(),
            message_samples: Vec::new(),
            has_embedded_links: false,
            has_embedded_phone: false,
            opt_in_message: None,
            opt_out_message: None,
            help_message: None,
            opt_in_keywords: Vec::new(),
            opt_out_keywords: Vec::new(),
            help_keywords: Vec::new(),
            age_gated: false,
            direct_lending: false,
            subscriber_opt_in: None,
        }
    }

    /// Checks the campaign alone under `path`: the warnings, or every problem at once.
    pub fn validate_at(&self, path: &str) -> Result<Vec<Warning>, ValidationErrors> {
        let mut r = ValidationReport::new();
        self.check(path, &mut r);
        r.finish()
    }

    fn check(&self, path: &str, r: &mut ValidationReport) {
        let code = self.use_case.as_str();
        if code.is_empty()
            || code.len() > 64
            || !code
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
        {
            r.error(
                join(path, "use_case"),
                ProblemKind::Format,
                "a use case code in upper case, e.g. 2FA, MARKETING, LOW_VOLUME",
                describe_len(code),
            );
        }
        length(r, path, "description", &self.description, DESCRIPTION_CHARS);
        length(
            r,
            path,
            "message_flow",
            &self.message_flow,
            MESSAGE_FLOW_CHARS,
        );
        let n = self.message_samples.len();
        if n < SAMPLES.0 || n > SAMPLES.1 {
            r.error(
                join(path, "message_samples"),
                ProblemKind::Count,
                format!("{} to {} sample messages", SAMPLES.0, SAMPLES.1),
                format!("{n}"),
            );
        }
        for (i, sample) in self.message_samples.iter().enumerate() {
            let field = format!("message_samples[{i}]");
            length(r, path, &field, sample, SAMPLE_CHARS);
            if !self.has_embedded_links && has_link(sample) {
                r.error(
                    join(path, &field),
                    ProblemKind::Combination,
                    "no link, since has_embedded_links is false (or set it to true)",
                    "a sample with a link",
                );
            }
        }
        for (field, message, keywords) in [
            ("opt_in", &self.opt_in_message, &self.opt_in_keywords),
            ("opt_out", &self.opt_out_message, &self.opt_out_keywords),
            ("help", &self.help_message, &self.help_keywords),
        ] {
            let message_field = format!("{field}_message");
            match message {
                Some(text) => length(r, path, &message_field, text, REPLY_CHARS),
                None if !keywords.is_empty() => r.error(
                    join(path, &message_field),
                    ProblemKind::Combination,
                    format!("the reply to the {field} keywords (20 to 320 characters)"),
                    "nothing",
                ),
                None => {}
            }
            for (i, keyword) in keywords.iter().enumerate() {
                let n = keyword.chars().count();
                if n == 0 || n > MAX_KEYWORD_CHARS || !keyword.chars().all(char::is_alphanumeric) {
                    r.error(
                        join(path, &format!("{field}_keywords[{i}]")),
                        ProblemKind::Format,
                        format!("an alphanumeric keyword of 1 to {MAX_KEYWORD_CHARS} characters"),
                        describe_keyword(keyword),
                    );
                }
            }
        }
    }

    fn digest(&self, c: &mut Canonical) {
        c.put(&self.use_case)
            .put(&self.description)
            .put(&self.message_flow);
        for s in &self.message_samples {
            c.put("sample").put(s);
        }
        for (name, m) in [
            ("in", &self.opt_in_message),
            ("out", &self.opt_out_message),
            ("help", &self.help_message),
        ] {
            c.put(name).put(m.as_deref().unwrap_or("\u{0}"));
        }
        for (name, k) in [
            ("in", &self.opt_in_keywords),
            ("out", &self.opt_out_keywords),
            ("help", &self.help_keywords),
        ] {
            c.put(name).put(&k.join(","));
        }
        for flag in [
            self.has_embedded_links,
            self.has_embedded_phone,
            self.age_gated,
            self.direct_lending,
        ] {
            c.put(if flag { "1" } else { "0" });
        }
        c.put(match self.subscriber_opt_in {
            None => "-",
            Some(true) => "1",
            Some(false) => "0",
        });
    }
}

impl fmt::Debug for Campaign {
    /// The use case, the flags and the lengths of the texts: a campaign's texts are the ISV's
    /// customer's words (support addresses, names), never printed.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let chars = |s: &str| s.chars().count();
        let optional = |s: &Option<String>| s.as_deref().map(chars);
        f.debug_struct("Campaign")
            .field("use_case", &self.use_case)
            .field("description_chars", &chars(&self.description))
            .field("message_flow_chars", &chars(&self.message_flow))
            .field("message_samples", &self.message_samples.len())
            .field("has_embedded_links", &self.has_embedded_links)
            .field("has_embedded_phone", &self.has_embedded_phone)
            .field("opt_in_message_chars", &optional(&self.opt_in_message))
            .field("opt_out_message_chars", &optional(&self.opt_out_message))
            .field("help_message_chars", &optional(&self.help_message))
            .field("opt_in_keywords", &self.opt_in_keywords.len())
            .field("opt_out_keywords", &self.opt_out_keywords.len())
            .field("help_keywords", &self.help_keywords.len())
            .field("age_gated", &self.age_gated)
            .field("direct_lending", &self.direct_lending)
            .field("subscriber_opt_in", &self.subscriber_opt_in)
            .finish()
    }
}

impl fmt::Debug for Journey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Journey")
            .field("profile", &self.profile)
            .field("trust_product_name", &Redacted(&self.trust_product_name))
            .field("trust_product_email", &Redacted(&self.trust_product_email))
            .field("messaging_profile", &self.messaging_profile)
            .field("brand", &self.brand)
            .field("service", &self.service)
            .field("campaign", &self.campaign)
            .field("phone_numbers", &self.phone_numbers)
            .finish()
    }
}

fn has_link(text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    lower.contains("http://") || lower.contains("https://") || lower.contains("www.")
}

fn describe_len(value: &str) -> String {
    match value.chars().count() {
        0 => "nothing".to_owned(),
        n => format!("{n} characters, not all upper-case letters, digits or '_'"),
    }
}

fn describe_keyword(keyword: &str) -> String {
    let n = keyword.chars().count();
    if n == 0 {
        "an empty keyword".to_owned()
    } else if keyword.chars().all(char::is_alphanumeric) {
        format!("{n} characters")
    } else {
        format!("{n} characters, not all letters or digits")
    }
}

/// A text of `bounds` characters (inclusive).
fn length(r: &mut ValidationReport, path: &str, field: &str, value: &str, bounds: (usize, usize)) {
    let n = value.chars().count();
    if n < bounds.0 || n > bounds.1 {
        r.error(
            join(path, field),
            ProblemKind::Length,
            format!("{} to {} characters", bounds.0, bounds.1),
            if value.trim().is_empty() {
                "nothing".to_owned()
            } else {
                format!("{n} characters")
            },
        );
    }
}

/// One customer's A2P 10DLC journey: validated input (see the [module](self) documentation).
///
/// `Debug` shows the shape of the input, never its personal data: the trust product's name and
/// email are redacted like the profile's fields, the campaign shows its use case, flags and the
/// lengths of its texts.
#[derive(Clone)]
pub struct Journey {
    pub(crate) profile: ProfileSource,
    pub(crate) trust_product_name: String,
    pub(crate) trust_product_email: String,
    pub(crate) messaging_profile: MessagingProfileInformation,
    pub(crate) brand: Brand,
    pub(crate) service: MessagingServiceInput,
    pub(crate) campaign: Campaign,
    pub(crate) phone_numbers: Vec<PhoneNumberSid>,
    pub(crate) warnings: Vec<Warning>,
}

/// Builds a [`Journey`]; [`build`](Self::build) validates everything at once.
#[derive(Clone, Default)]
pub struct JourneyBuilder {
    profile: Option<ProfileSource>,
    trust_product: Option<(String, String)>,
    messaging_profile: Option<MessagingProfileInformation>,
    brand: Option<Brand>,
    service: Option<MessagingServiceInput>,
    campaign: Option<Campaign>,
    phone_numbers: Vec<PhoneNumberSid>,
}

impl fmt::Debug for JourneyBuilder {
    /// Which parts are set, never their values.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JourneyBuilder")
            .field("profile", &self.profile.is_some())
            .field("trust_product", &self.trust_product.is_some())
            .field("messaging_profile", &self.messaging_profile.is_some())
            .field("brand", &self.brand)
            .field("service", &self.service.is_some())
            .field("campaign", &self.campaign.is_some())
            .field("phone_numbers", &self.phone_numbers.len())
            .finish()
    }
}

impl JourneyBuilder {
    /// Start from the customer's data: the profile flow runs first, then the submission.
    pub fn secondary_profile(mut self, profile: SecondaryProfile) -> Self {
        self.profile = Some(ProfileSource::New(profile));
        self
    }

    /// Start from a secondary profile that was submitted already.
    pub fn existing_profile(mut self, profile: CustomerProfileSid) -> Self {
        self.profile = Some(ProfileSource::Existing(profile));
        self
    }

    /// The A2P trust product's friendly name and email (default: the new profile's).
    pub fn trust_product(
        mut self,
        friendly_name: impl Into<String>,
        email: impl Into<String>,
    ) -> Self {
        self.trust_product = Some((friendly_name.into(), email.into()));
        self
    }

    /// The A2P Messaging Profile's end user.
    pub fn messaging_profile(mut self, information: MessagingProfileInformation) -> Self {
        self.messaging_profile = Some(information);
        self
    }

    /// How the brand is registered (default: a Standard brand, [`Brand::new`]).
    pub fn brand(mut self, brand: Brand) -> Self {
        self.brand = Some(brand);
        self
    }

    /// A new Messaging Service of this name.
    pub fn messaging_service(mut self, friendly_name: impl Into<String>) -> Self {
        self.service = Some(MessagingServiceInput::New {
            friendly_name: friendly_name.into(),
            inbound_request_url: None,
            status_callback: None,
        });
        self
    }

    /// The Messaging Service, new with webhooks or existing.
    pub fn messaging_service_input(mut self, service: MessagingServiceInput) -> Self {
        self.service = Some(service);
        self
    }

    /// The campaign.
    pub fn campaign(mut self, campaign: Campaign) -> Self {
        self.campaign = Some(campaign);
        self
    }

    /// Phone numbers (`PN...` of the account) to add to the Messaging Service.
    pub fn phone_numbers(mut self, numbers: impl IntoIterator<Item = PhoneNumberSid>) -> Self {
        self.phone_numbers = numbers.into_iter().collect();
        self
    }

    /// Validates everything locally, reporting every problem at once; nothing is sent.
    pub fn build(self) -> Result<Journey, ValidationErrors> {
        let mut r = ValidationReport::new();
        let (name, email) = match (&self.trust_product, &self.profile) {
            (Some((name, email)), _) => (name.clone(), email.clone()),
            (None, Some(ProfileSource::New(p))) => {
                (format!("{} A2P", p.friendly_name), p.email.clone())
            }
            _ => (String::new(), String::new()),
        };
        match &self.profile {
            None => r.error(
                "profile",
                ProblemKind::Required,
                "a secondary profile to create, or the SID of a submitted one (BU...)",
                "nothing",
            ),
            Some(ProfileSource::New(p)) => {
                for w in p.warnings() {
                    r.warn(w.field().to_owned(), w.kind(), w.message().to_owned());
                }
            }
            Some(ProfileSource::Existing(_)) => {}
        }
        if self.profile.is_some() {
            check_name_and_email(&mut r, "trust_product", &name, &email);
        }
        match &self.messaging_profile {
            Some(m) => {
                r.check(MessagingProfileInformation::DEFAULT_PATH, m);
            }
            None => r.error(
                MessagingProfileInformation::DEFAULT_PATH,
                ProblemKind::Required,
                "the A2P Messaging Profile's information (company type...)",
                "nothing",
            ),
        }
        let brand = self.brand.unwrap_or(Brand::new(BrandType::Standard));
        if brand.brand_type == BrandType::LowVolumeStandard
            && brand.skip_automatic_secondary_vetting == Some(false)
        {
            r.error(
                "brand.skip_automatic_secondary_vetting",
                ProblemKind::Combination,
                "true (or unset) for a Low-Volume Standard brand, which must skip secondary vetting",
                "false",
            );
        }
        match &self.service {
            None => r.error(
                "messaging_service",
                ProblemKind::Required,
                "a Messaging Service to create, or the SID of one (MG...)",
                "nothing",
            ),
            Some(MessagingServiceInput::New {
                friendly_name,
                inbound_request_url,
                status_callback,
            }) => {
                if friendly_name.trim().is_empty() {
                    r.error(
                        "messaging_service.friendly_name",
                        ProblemKind::Required,
                        "the service's name",
                        "nothing",
                    );
                }
                r.text(
                    "messaging_service",
                    "friendly_name",
                    friendly_name,
                    MAX_SERVICE_NAME_CHARS,
                );
                for (field, url) in [
                    ("inbound_request_url", inbound_request_url),
                    ("status_callback", status_callback),
                ] {
                    if let Some(url) = url {
                        if let Some(problem) = http_url_problem(url) {
                            r.error(
                                join("messaging_service", field),
                                ProblemKind::Url,
                                "an http(s) URL",
                                problem,
                            );
                        }
                        r.text("messaging_service", field, url, MAX_URL_CHARS);
                    }
                }
            }
            Some(MessagingServiceInput::Existing(_)) => {}
        }
        match &self.campaign {
            Some(c) => c.check("campaign", &mut r),
            None => r.error(
                "campaign",
                ProblemKind::Required,
                "the campaign (use case, description, message flow, samples)",
                "nothing",
            ),
        }
        let mut unique = std::collections::BTreeSet::new();
        let mut phone_numbers = Vec::new();
        for pn in self.phone_numbers {
            if unique.insert(pn) {
                phone_numbers.push(pn);
            } else {
                r.warn(
                    "phone_numbers",
                    WarningKind::Flow,
                    format!("{pn} is listed twice; added once"),
                );
            }
        }
        let warnings = r.finish()?;
        Ok(Journey {
            profile: self.profile.expect("checked above"),
            trust_product_name: name,
            trust_product_email: email,
            messaging_profile: self.messaging_profile.expect("checked above"),
            brand,
            service: self.service.expect("checked above"),
            campaign: self.campaign.expect("checked above"),
            phone_numbers,
            warnings,
        })
    }
}

/// The parts of a journey's input (beyond a new profile's [`INPUT_PARTS`](super::INPUT_PARTS))
/// that the journal keeps a digest of.
pub const JOURNEY_PARTS: [&str; 5] = [
    "a2p.profile",
    "a2p.trust_product",
    "a2p.brand",
    "a2p.messaging_service",
    "a2p.campaign",
];

impl Journey {
    /// A builder.
    pub fn builder() -> JourneyBuilder {
        JourneyBuilder::default()
    }

    /// Where the secondary profile comes from.
    pub fn profile(&self) -> &ProfileSource {
        &self.profile
    }

    /// The brand's registration options.
    pub fn brand(&self) -> Brand {
        self.brand
    }

    /// The campaign.
    pub fn campaign(&self) -> &Campaign {
        &self.campaign
    }

    /// Warnings found by validation (not fatal).
    pub fn warnings(&self) -> &[Warning] {
        &self.warnings
    }

    /// Keyed digests of the input: a new profile's parts and [`JOURNEY_PARTS`].
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
        put("a2p.profile", profile);
        let mut trust_product = Canonical::default();
        trust_product
            .put(&self.trust_product_name)
            .put(&self.trust_product_email)
            .put(&self.messaging_profile.to_attributes().to_string());
        put("a2p.trust_product", trust_product);
        let mut brand = Canonical::default();
        brand
            .put(self.brand.brand_type.as_str())
            .put(if self.brand.mock { "mock" } else { "real" })
            .put(if self.brand.skips_secondary_vetting() {
                "skip"
            } else {
                "vet"
            });
        put("a2p.brand", brand);
        let mut service = Canonical::default();
        match &self.service {
            MessagingServiceInput::New {
                friendly_name,
                inbound_request_url,
                status_callback,
            } => {
                service
                    .put(friendly_name)
                    .put(inbound_request_url.as_deref().unwrap_or("\u{0}"))
                    .put(status_callback.as_deref().unwrap_or("\u{0}"));
            }
            MessagingServiceInput::Existing(sid) => {
                service.put("existing").put(sid.as_str());
            }
        }
        put("a2p.messaging_service", service);
        let mut campaign = Canonical::default();
        self.campaign.digest(&mut campaign);
        put("a2p.campaign", campaign);
        parts
    }

    /// Checks that `journal` belongs to this journey and returns it ready to resume: the
    /// profile's parts as [`SecondaryProfile::reconcile_journal`] does, then the journey's: a
    /// changed part that something was built from (or may have been: an open intent) is
    /// [`FlowError::StaleJournal`] naming the part, never its values.
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
        let a2p = journal.a2p.clone().unwrap_or_default();
        let intent = |prefix: &str| journal.intents.keys().any(|k| k.starts_with(prefix));
        let mut problems = Vec::new();
        for part in JOURNEY_PARTS {
            if journal.input.get(part) == now.get(part) {
                continue;
            }
            let built = match part {
                "a2p.profile" => {
                    a2p.trust_product
                        .assignments
                        .keys()
                        .any(|o| o.prefix() == "BU")
                        || a2p.brand.is_some()
                }
                "a2p.trust_product" => {
                    a2p.trust_product.sid.is_some()
                        || a2p.trust_product.end_user.is_some()
                        || intent("a2p.trust_product")
                        || intent("a2p.end_user")
                }
                "a2p.brand" => a2p.brand.is_some() || intent("a2p.brand"),
                "a2p.messaging_service" => {
                    a2p.messaging_service.is_some() || intent("a2p.messaging_service")
                }
                "a2p.campaign" => a2p.campaign.is_some() || intent("a2p.campaign"),
                _ => false,
            };
            // A journal without the part (started by the profile flow alone) takes it.
            if built && journal.input.contains_key(part) {
                problems.push(part);
            }
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
            // Parts nothing was built from yet are taken as they are now.
            let mut merged = journal.input.as_ref().clone();
            merged.extend(now);
            journal.input = std::sync::Arc::new(merged);
        }
        Ok(journal)
    }
}
