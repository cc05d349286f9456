//! Local validation: every problem at once, named by field path, without echoing PII.
//!
//! Validation runs before any request is sent. It collects *every* problem into a
//! [`ValidationReport`]; each [`ValidationError`] names the field path
//! (`representative_2.phone_number`), the expected form and a description of what came
//! that never repeats the value itself when it may be personal data
//! (e.g. `"12 characters, no '@'"`). Advice that does not block a submission is a
//! [`Warning`].
//!
//! The individual checks are public so that forms can reuse them:
//! [`http_url_problem`], [`email_problem`], [`e164_problem`] (with [`nanp_problem`], its rule
//! for `+1` numbers), [`is_po_box`].

use std::borrow::Cow;
use std::fmt;

use super::countries::is_iso_country;

/// Which rule a [`ValidationError`] broke.
///
/// ```
/// use trusthub::attributes::{AuthorizedRepresentative, JobPosition, ProblemKind, Validate};
///
/// let rep = AuthorizedRepresentative {
///     first_name: " ".into(),
///     last_name: "Lovelace".into(),
///     email: "ada.example.com".into(),
///     phone_number: "+0123456789".into(),
///     business_title: "CEO".into(),
///     job_position: JobPosition::Ceo,
/// };
/// let errors = rep.validate().unwrap_err();
/// let kinds: Vec<ProblemKind> = errors.iter().map(|e| e.kind()).collect();
/// assert_eq!(
///     kinds,
///     [ProblemKind::Required, ProblemKind::Email, ProblemKind::PhoneNumber]
/// );
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ProblemKind {
    /// A required value is empty (or only whitespace).
    Required,
    /// Not an `http://` or `https://` URL with a host containing a dot.
    Url,
    /// Not shaped like an email address.
    Email,
    /// Not an E.164 phone number (`+` then 8 to 15 digits, the first not 0), or a `+1` number
    /// outside the North American Numbering Plan ([`nanp_problem`]).
    PhoneNumber,
    /// A PO box where a physical street address is required.
    PoBox,
    /// Not an ISO 3166-1 alpha-2 country code.
    Country,
    /// Longer than the API accepts.
    TooLong,
    /// `Other` registration type without the name of that type.
    MissingOtherTypeName,
    /// An enum value given with `unlisted(..)` that cannot be sent (empty, or containing
    /// the list separator `,`).
    UnlistedValue,
    /// An empty list where at least one value is required.
    EmptyList,
    /// A control character (NUL, a line break, a tab, the start of an escape sequence...) in a
    /// one-line text field.
    ControlCharacter,
    /// Not of the documented form (a ticker, a keyword that is not alphanumeric, a use case
    /// code).
    Format,
    /// Shorter or longer than the documented bounds (a campaign's description, message flow,
    /// samples and messages).
    Length,
    /// Fewer or more items than the documented bounds (a campaign's message samples).
    Count,
    /// A value that the other values of the input rule out or call for (a low-volume brand
    /// with secondary vetting, opt-in keywords without an opt-in message, a sample with a link
    /// in a campaign that says it sends none).
    Combination,
}

/// The longest value of a one-line text field (names, titles, street, city, region, postal code,
/// registration number), in characters. Twilio documents no bound for most of these fields; this
/// one is ours, far above any real value, so that a runaway value (a whole file pasted in a
/// cell) is refused before anything is sent rather than by a 413 halfway through a flow.
pub const MAX_TEXT_CHARS: usize = 255;
/// The longest email address, in characters (RFC 5321's limit on a path).
pub const MAX_EMAIL_CHARS: usize = 254;
/// The longest URL, in characters (ours, as [`MAX_TEXT_CHARS`]).
pub const MAX_URL_CHARS: usize = 2048;

/// One problem found by local validation.
///
/// `Display` gives `"<field>: expected <form>; found <description>"`. Neither `Display`
/// nor `Debug` contains the offending value when it may be personal data.
///
/// ```
/// use trusthub::attributes::{AuthorizedRepresentative, JobPosition, ProblemKind, Validate};
///
/// let rep = AuthorizedRepresentative {
///     first_name: "Grace".into(),
///     last_name: "Hopper".into(),
///     email: "grace.acme.example.com".into(),
///     phone_number: "+14155550102".into(),
///     business_title: "CFO".into(),
///     job_position: JobPosition::Cfo,
/// };
/// let errors = rep.validate().unwrap_err();
/// let error = &errors.errors()[0];
/// assert_eq!(error.field(), "representative_1.email");
/// assert_eq!(error.kind(), ProblemKind::Email);
/// assert_eq!(error.found(), "22 characters, no '@'");
/// assert_eq!(
///     error.to_string(),
///     "representative_1.email: expected an email address such as name@example.com; \
///      found 22 characters, no '@'"
/// );
/// assert!(!format!("{error:?}").contains("grace"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidationError {
    field: String,
    kind: ProblemKind,
    expected: Cow<'static, str>,
    found: String,
}

impl ValidationError {
    /// A problem of `field`: what was `expected` and a description of what was `found` (never
    /// the value itself when it may be personal data).
    pub fn new(
        field: impl Into<String>,
        kind: ProblemKind,
        expected: impl Into<Cow<'static, str>>,
        found: impl Into<String>,
    ) -> Self {
        ValidationError {
            field: field.into(),
            kind,
            expected: expected.into(),
            found: found.into(),
        }
    }

    /// The field path, e.g. `"business_information.website_url"`.
    pub fn field(&self) -> &str {
        &self.field
    }

    /// The rule that was broken.
    pub fn kind(&self) -> ProblemKind {
        self.kind
    }

    /// The expected form, e.g. `"an E.164 phone number such as +12015550123"`.
    pub fn expected(&self) -> &str {
        &self.expected
    }

    /// What came, described without the value itself when that may be PII.
    pub fn found(&self) -> &str {
        &self.found
    }
}

impl fmt::Display for ValidationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: expected {}; found {}",
            self.field, self.expected, self.found
        )
    }
}

/// Which advice a [`Warning`] gives.
///
/// ```
/// use trusthub::attributes::*;
///
/// let mut business = BusinessInformation {
///     business_name: "Acme Corp".into(),
///     business_identity: BusinessIdentity::DirectCustomer,
///     business_type: BusinessType::Corporation,
///     business_industry: BusinessIndustry::Technology,
///     business_registration_identifier: RegistrationIdentifier::Duns,
///     business_registration_number: "150483782".into(),
///     business_regions_of_operation: Regions::from([Region::UsaAndCanada, Region::UsaAndCanada]),
///     website_url: "https://acme.example.com".into(),
///     social_media_profile_urls: vec![],
/// };
/// // Advice, not errors: validation passes and says what to reconsider.
/// let kinds = |b: &BusinessInformation| -> Vec<WarningKind> {
///     b.validate().unwrap().iter().map(Warning::kind).collect()
/// };
/// assert_eq!(kinds(&business), [WarningKind::DunsForUsEntity, WarningKind::DuplicateRegion]);
///
/// business.business_regions_of_operation = Region::UsaAndCanada.into();
/// business.business_registration_identifier = RegistrationIdentifier::Ein;
/// business.business_registration_number = "12-34567".into(); // 7 digits
/// assert_eq!(kinds(&business), [WarningKind::EinShape]);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum WarningKind {
    /// DUNS used for a US entity; Twilio advises EIN to avoid brand registration failures.
    DunsForUsEntity,
    /// CCN is no longer accepted for A2P 10DLC registration; use CBN.
    CcnNotAcceptedForA2p,
    /// The same region is listed twice.
    DuplicateRegion,
    /// An EIN that does not have 9 digits.
    EinShape,
    /// Something the flow will report at its policy check or evaluation (a representative
    /// not given, a phone number listed twice, a policy requirement the input lacks).
    Flow,
    /// A value given that is not sent, because the rest of the input makes it meaningless (a
    /// ticker for a private company).
    Ignored,
}

/// Advice that does not block a submission.
///
/// ```
/// use trusthub::attributes::*;
///
/// let business = BusinessInformation {
///     business_name: "Acme Corp".into(),
///     business_identity: BusinessIdentity::DirectCustomer,
///     business_type: BusinessType::Corporation,
///     business_industry: BusinessIndustry::Technology,
///     business_registration_identifier: RegistrationIdentifier::Duns,
///     business_registration_number: "150483782".into(),
///     business_regions_of_operation: Region::Europe.into(),
///     website_url: "https://acme.example.com".into(),
///     social_media_profile_urls: vec![],
/// };
/// assert!(business.validate()?.is_empty());
///
/// // Knowing the address is in the US, DUNS gets the advice to use an EIN.
/// let mut report = ValidationReport::new();
/// business.validate_for_country("business_information", "US", &mut report);
/// let warnings = report.finish()?;
/// let warning = &warnings[0];
/// assert_eq!(warning.kind(), WarningKind::DunsForUsEntity);
/// assert_eq!(warning.field(), "business_information.business_registration_identifier");
/// assert!(warning.message().contains("EIN"));
/// assert!(warning
///     .to_string()
///     .starts_with("business_information.business_registration_identifier: "));
///
/// // Forms can add their own.
/// let own = Warning::new("phone_numbers", WarningKind::Flow, "no phone number to assign");
/// assert_eq!(own.to_string(), "phone_numbers: no phone number to assign");
/// # Ok::<(), ValidationErrors>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    field: String,
    kind: WarningKind,
    message: Cow<'static, str>,
}

impl Warning {
    /// A warning about `field`.
    pub fn new(
        field: impl Into<String>,
        kind: WarningKind,
        message: impl Into<Cow<'static, str>>,
    ) -> Self {
        Warning {
            field: field.into(),
            kind,
            message: message.into(),
        }
    }

    /// The field path the advice is about.
    pub fn field(&self) -> &str {
        &self.field
    }

    /// Which advice this is.
    pub fn kind(&self) -> WarningKind {
        self.kind
    }

    /// The advice, in words.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

/// Every problem found, plus the warnings gathered along the way.
///
/// ```
/// use trusthub::attributes::{AuthorizedRepresentative, JobPosition, Validate};
///
/// let rep = AuthorizedRepresentative {
///     first_name: "Ada".into(),
///     last_name: "Lovelace".into(),
///     email: "ada@acme".into(),
///     phone_number: "4155550101".into(),
///     business_title: "CEO".into(),
///     job_position: JobPosition::Ceo,
/// };
/// let errors = rep.validate().unwrap_err();
/// assert_eq!(errors.len(), 2);
/// assert!(errors.warnings().is_empty());
/// for error in &errors {
///     assert!(error.field().starts_with("representative_1."));
/// }
/// let text = errors.to_string();
/// assert!(text.starts_with(
///     "2 problems found by local validation:\n  - representative_1.email: "
/// ));
/// assert!(text.contains("\n  - representative_1.phone_number: "));
/// assert!(!text.contains("4155550101") && !text.contains("ada@acme"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidationErrors {
    errors: Vec<ValidationError>,
    warnings: Vec<Warning>,
}

impl ValidationErrors {
    /// The problems, in the order the fields were checked. Never empty.
    pub fn errors(&self) -> &[ValidationError] {
        &self.errors
    }

    /// Warnings found alongside the errors.
    pub fn warnings(&self) -> &[Warning] {
        &self.warnings
    }

    /// How many problems were found.
    pub fn len(&self) -> usize {
        self.errors.len()
    }

    /// Always `false`: a `ValidationErrors` holds at least one error.
    pub fn is_empty(&self) -> bool {
        self.errors.is_empty()
    }

    /// The field paths with problems, in order (a field may appear more than once).
    pub fn fields(&self) -> impl Iterator<Item = &str> {
        self.errors.iter().map(ValidationError::field)
    }

    /// Iterates over the problems.
    pub fn iter(&self) -> std::slice::Iter<'_, ValidationError> {
        self.errors.iter()
    }
}

impl<'a> IntoIterator for &'a ValidationErrors {
    type Item = &'a ValidationError;
    type IntoIter = std::slice::Iter<'a, ValidationError>;

    fn into_iter(self) -> Self::IntoIter {
        self.errors.iter()
    }
}

impl fmt::Display for ValidationErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.errors.len();
        write!(
            f,
            "{n} problem{} found by local validation:",
            if n == 1 { "" } else { "s" }
        )?;
        for e in &self.errors {
            write!(f, "\n  - {e}")?;
        }
        for w in &self.warnings {
            write!(f, "\n  - warning: {w}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ValidationErrors {}

/// Collects problems and warnings from one or more [`Validate`] values.
///
/// ```
/// use trusthub::attributes::{AuthorizedRepresentative, JobPosition, Validate, ValidationReport};
///
/// let rep = AuthorizedRepresentative {
///     first_name: "Ada".into(),
///     last_name: "Lovelace".into(),
///     email: "ada.example.com".into(),
///     phone_number: "+14155550102".into(),
///     business_title: "CEO".into(),
///     job_position: JobPosition::Ceo,
/// };
/// let mut report = ValidationReport::new();
/// report.check("representative_1", &rep);
/// report.check("representative_2", &rep);
/// let errors = report.finish().unwrap_err();
/// assert_eq!(
///     errors.fields().collect::<Vec<_>>(),
///     ["representative_1.email", "representative_2.email"]
/// );
/// ```
#[derive(Debug, Default)]
pub struct ValidationReport {
    errors: Vec<ValidationError>,
    warnings: Vec<Warning>,
}

impl ValidationReport {
    /// An empty report.
    pub fn new() -> Self {
        Self::default()
    }

    /// Validates `value` with its fields under `path`.
    pub fn check<V: Validate + ?Sized>(&mut self, path: &str, value: &V) -> &mut Self {
        value.validate_at(path, self);
        self
    }

    /// Records a problem found elsewhere (a checked type's constructor).
    pub fn push(&mut self, error: ValidationError) {
        self.errors.push(error);
    }

    /// Records a problem. `found` must describe the value without repeating PII.
    pub fn error(
        &mut self,
        field: impl Into<String>,
        kind: ProblemKind,
        expected: impl Into<Cow<'static, str>>,
        found: impl Into<String>,
    ) {
        self.errors.push(ValidationError {
            field: field.into(),
            kind,
            expected: expected.into(),
            found: found.into(),
        });
    }

    /// Records a warning.
    pub fn warn(
        &mut self,
        field: impl Into<String>,
        kind: WarningKind,
        message: impl Into<Cow<'static, str>>,
    ) {
        self.warnings.push(Warning {
            field: field.into(),
            kind,
            message: message.into(),
        });
    }

    /// The problems recorded so far.
    pub fn errors(&self) -> &[ValidationError] {
        &self.errors
    }

    /// The warnings recorded so far.
    pub fn warnings(&self) -> &[Warning] {
        &self.warnings
    }

    /// `Ok(warnings)` when no problem was recorded, otherwise every problem (and the
    /// warnings).
    pub fn finish(self) -> Result<Vec<Warning>, ValidationErrors> {
        if self.errors.is_empty() {
            Ok(self.warnings)
        } else {
            Err(ValidationErrors {
                errors: self.errors,
                warnings: self.warnings,
            })
        }
    }

    // ---- shared field checks (used by the attribute types) ----

    /// Required non-empty text. Returns whether it was present.
    pub(crate) fn required(
        &mut self,
        path: &str,
        field: &str,
        value: &str,
        what: &'static str,
    ) -> bool {
        if value.trim().is_empty() {
            self.error(
                join(path, field),
                ProblemKind::Required,
                format!("a non-empty {what}"),
                blank_description(value),
            );
            false
        } else {
            true
        }
    }

    /// A required `http(s)` URL.
    pub(crate) fn http_url(&mut self, path: &str, field: &str, value: &str) {
        if let Some(found) = http_url_problem(value) {
            self.error(join(path, field), ProblemKind::Url, EXPECTED_URL, found);
        }
    }

    /// A required email address.
    pub(crate) fn email(&mut self, path: &str, field: &str, value: &str) {
        if let Some(found) = email_problem(value) {
            self.error(
                join(path, field),
                ProblemKind::Email,
                "an email address such as name@example.com",
                found,
            );
        }
    }

    /// A required E.164 phone number; a `+1` number must also follow the North American
    /// Numbering Plan (see [`nanp_problem`]), and the expected form then says so.
    pub(crate) fn e164(&mut self, path: &str, field: &str, value: &str) {
        let (expected, found) = match e164_shape_problem(value) {
            Some(found) => (EXPECTED_E164, found),
            None => match nanp_problem(value) {
                Some(found) => (EXPECTED_NANP, found),
                None => return,
            },
        };
        self.error(join(path, field), ProblemKind::PhoneNumber, expected, found);
    }

    /// A street line that must not be a PO box.
    pub(crate) fn not_po_box(&mut self, path: &str, field: &str, value: &str) {
        if is_po_box(value) {
            self.error(
                join(path, field),
                ProblemKind::PoBox,
                "a physical street address (Twilio does not accept PO boxes)",
                format!("{}, reads as a PO box", char_count(value)),
            );
        }
    }

    /// An ISO 3166-1 alpha-2 code.
    pub(crate) fn iso_country(&mut self, path: &str, field: &str, value: &str) {
        if is_iso_country(value) {
            return;
        }
        let upper = value.trim().to_ascii_uppercase();
        let found = if value.trim().is_empty() {
            blank_description(value)
        } else if value.len() == 2 && value.bytes().all(|b| b.is_ascii_alphabetic()) {
            if is_iso_country(&upper) {
                format!("{value:?}, which is not upper case (use {upper:?})")
            } else {
                format!("{value:?}, which is not an assigned code")
            }
        } else if is_iso_country(&upper) {
            format!("{value:?} with surrounding whitespace or lower case (use {upper:?})")
        } else {
            format!("{}, not two letters", char_count(value))
        };
        self.error(
            join(path, field),
            ProblemKind::Country,
            "an ISO 3166-1 alpha-2 country code such as US",
            found,
        );
    }

    /// One-line text: no control characters, at most `max` characters.
    pub(crate) fn text(&mut self, path: &str, field: &str, value: &str, max: usize) {
        if let Some(position) = value.chars().position(char::is_control) {
            self.error(
                join(path, field),
                ProblemKind::ControlCharacter,
                "one line of text without control characters (NUL, line breaks, tabs, escape \
                 sequences)",
                format!(
                    "{}, a control character at position {}",
                    char_count(value),
                    position + 1
                ),
            );
        }
        self.max_chars(path, field, value, max);
    }

    /// At most `max` characters.
    pub(crate) fn max_chars(&mut self, path: &str, field: &str, value: &str, max: usize) {
        let n = value.chars().count();
        if n > max {
            self.error(
                join(path, field),
                ProblemKind::TooLong,
                format!("at most {max} characters"),
                format!("{n} characters"),
            );
        }
    }

    /// An `Unlisted` enum value must be non-empty (and free of `,` where the value is
    /// joined into a list).
    pub(crate) fn unlisted(&mut self, path: &str, field: &str, wire: &str, in_list: bool) {
        self.text(path, field, wire, MAX_TEXT_CHARS);
        if wire.trim().is_empty() {
            self.error(
                join(path, field),
                ProblemKind::UnlistedValue,
                "a non-empty value",
                format!("an unlisted value that is {}", blank_description(wire)),
            );
        } else if in_list && wire.contains(',') {
            self.error(
                join(path, field),
                ProblemKind::UnlistedValue,
                "a value without ',' (',' separates values on the wire)",
                format!("the unlisted value {wire:?}, which contains ','"),
            );
        }
    }
}

/// Something that validates locally, reporting into a [`ValidationReport`].
///
/// Implement it for your own input to report its problems together with the crate's:
///
/// ```
/// use trusthub::attributes::{email_problem, ProblemKind, Validate, ValidationReport};
///
/// struct Contact {
///     email: String,
/// }
///
/// impl Validate for Contact {
///     const DEFAULT_PATH: &'static str = "contact";
///
///     fn validate_at(&self, path: &str, report: &mut ValidationReport) {
///         if let Some(found) = email_problem(&self.email) {
///             let field = format!("{path}.email");
///             report.error(field, ProblemKind::Email, "an email address", found);
///         }
///     }
/// }
///
/// let nobody = Contact { email: "nobody".into() };
/// let errors = nobody.validate().unwrap_err();
/// assert_eq!(
///     errors.errors()[0].to_string(),
///     "contact.email: expected an email address; found 6 characters, no '@'"
/// );
///
/// let mut report = ValidationReport::new();
/// report
///     .check("billing", &nobody)
///     .check("support", &Contact { email: "help@acme.example.com".into() });
/// let fields: Vec<String> = report.errors().iter().map(|e| e.field().to_owned()).collect();
/// assert_eq!(fields, ["billing.email"]);
/// ```
pub trait Validate {
    /// The path prefix [`Validate::validate`] uses, e.g. `"business_information"`.
    const DEFAULT_PATH: &'static str;

    /// Reports every problem of `self` into `report`, with field paths under `path`
    /// (`path.field`; just `field` when `path` is empty).
    fn validate_at(&self, path: &str, report: &mut ValidationReport);

    /// Validates `self` alone under [`Validate::DEFAULT_PATH`]: the warnings, or every
    /// problem at once.
    fn validate(&self) -> Result<Vec<Warning>, ValidationErrors> {
        let mut report = ValidationReport::new();
        self.validate_at(Self::DEFAULT_PATH, &mut report);
        report.finish()
    }
}

/// `path.field`, or `field` alone when `path` is empty.
pub(crate) fn join(path: &str, field: &str) -> String {
    if path.is_empty() {
        field.to_owned()
    } else {
        format!("{path}.{field}")
    }
}

pub(crate) const EXPECTED_URL: &str =
    "an http:// or https:// URL whose host contains a dot, such as https://www.example.com";
pub(crate) const EXPECTED_E164: &str =
    "an E.164 phone number: '+' then 8 to 15 digits, the first not 0, such as +12015550123";
pub(crate) const EXPECTED_NANP: &str = "a North American number (+1 then a 10-digit number \
     whose area code and exchange start with 2-9, the area code neither an N11 service code \
     such as 911 nor with 9 as its second digit), such as +12015550123";

/// `"N characters"` (singular aware).
fn char_count(value: &str) -> String {
    let n = value.chars().count();
    if n == 1 {
        "1 character".to_owned()
    } else {
        format!("{n} characters")
    }
}

/// Describes an empty or whitespace-only value.
fn blank_description(value: &str) -> String {
    if value.is_empty() {
        "an empty string".to_owned()
    } else {
        format!("only whitespace ({})", char_count(value))
    }
}

/// Why `value` is not a website URL, described without repeating the value; `None` if it is
/// one. A website is `http://` or `https://` followed by a host with a dot, or such a host with
/// no scheme at all (the seed document's own example sends `test.com`). The URL is read as a
/// browser reads it (the WHATWG URL standard): an international domain name is a domain name
/// (`https://bücher.example`), an IPv4 address has its dots, a port is a number from 1 to
/// 65535. An IPv6 literal (`http://[::1]:8080/`) is refused: it is not a domain name.
///
/// ```
/// use trusthub::attributes::http_url_problem;
///
/// assert_eq!(http_url_problem("https://www.example.com/about"), None);
/// assert_eq!(http_url_problem("test.com"), None);
/// assert_eq!(http_url_problem("https://bücher.example:8443/"), None);
/// assert_eq!(
///     http_url_problem("localhost").as_deref(),
///     Some("9 characters, a host without a '.'")
/// );
/// ```
pub fn http_url_problem(value: &str) -> Option<String> {
    let what = |p: &str| Some(format!("{}, {p}", char_count(value)));
    if value.trim().is_empty() {
        return Some(blank_description(value));
    }
    // The URL parser drops tabs and newlines and trims spaces: refuse them before it does.
    if value.chars().any(char::is_whitespace) {
        return what("contains whitespace");
    }
    let lower_head: String = value
        .chars()
        .take(8)
        .collect::<String>()
        .to_ascii_lowercase();
    let (url, after_scheme) = if lower_head.starts_with("https://") {
        (Cow::Borrowed(value), &value[8..])
    } else if lower_head.starts_with("http://") {
        (Cow::Borrowed(value), &value[7..])
    } else if value.contains("://") {
        return what("a scheme other than http or https");
    } else {
        // The seed document's own example sends "test.com": a bare domain is a website too.
        (Cow::Owned(format!("http://{value}")), value)
    };
    // The parser reads `https://@host` as `https://host`; an '@' in the authority is refused
    // whether or not a user name precedes it.
    let authority = after_scheme
        .split(['/', '\\', '?', '#'])
        .next()
        .unwrap_or_default();
    if authority.contains('@') {
        return what("user information ('@') before the host");
    }
    let url = match url::Url::parse(&url) {
        Ok(url) => url,
        Err(error) => {
            return what(match error {
                url::ParseError::EmptyHost => "no host after the scheme",
                url::ParseError::InvalidPort => "a port that is not a number from 1 to 65535",
                url::ParseError::InvalidIpv4Address => {
                    "a host ending in a number that is not an IPv4 address"
                }
                url::ParseError::InvalidIpv6Address => "an IPv6 literal host that does not parse",
                // The parser reports a forbidden character and a broken international name
                // alike (both fail its IDNA step): told apart by the host's characters.
                url::ParseError::InvalidDomainCharacter | url::ParseError::IdnaError
                    if authority
                        .chars()
                        .any(|c| !c.is_alphanumeric() && !matches!(c, '-' | '.' | ':')) =>
                {
                    "a host character that is not a letter, digit, '-' or '.'"
                }
                url::ParseError::InvalidDomainCharacter | url::ParseError::IdnaError => {
                    "a host that is not a valid international domain name"
                }
                _ => "not a URL a browser could open",
            });
        }
    };
    if url.port() == Some(0) {
        return what("a port that is not a number from 1 to 65535");
    }
    let host = match url.host() {
        // The parser gives a domain in its ASCII form (an international name in punycode).
        Some(url::Host::Domain(host)) => host,
        // Dotted like a domain; `http://127.0.0.1:8080/callbacks` is a reachable callback.
        Some(url::Host::Ipv4(_)) => return None,
        Some(url::Host::Ipv6(_)) => return what("an IPv6 literal host, not a domain name"),
        None => return what("no host after the scheme"),
    };
    if !host.contains('.') {
        return what("a host without a '.'");
    }
    for label in host.split('.') {
        if label.is_empty() {
            return what("an empty label in the host (leading, trailing or doubled '.')");
        }
        if !label
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        {
            return what("a host character that is not a letter, digit, '-' or '.'");
        }
        if label.starts_with('-') || label.ends_with('-') {
            return what("a host label starting or ending with '-'");
        }
    }
    None
}

/// Why `value` is not shaped like an email address, described without repeating it;
/// `None` if it is.
///
/// The check is deliberately shallow (one `@`, something before it, a dotted domain after
/// it, no whitespace): Twilio sends mail to it, which is the real test.
///
/// ```
/// use trusthub::attributes::email_problem;
///
/// assert_eq!(email_problem("rep1@acme.com"), None);
/// assert_eq!(email_problem("rep1.acme.com").as_deref(), Some("13 characters, no '@'"));
/// ```
pub fn email_problem(value: &str) -> Option<String> {
    let what = |p: &str| Some(format!("{}, {p}", char_count(value)));
    if value.trim().is_empty() {
        return Some(blank_description(value));
    }
    if value.chars().any(char::is_whitespace) {
        return what("contains whitespace");
    }
    let ats = value.matches('@').count();
    if ats == 0 {
        return what("no '@'");
    }
    if ats > 1 {
        return what(&format!("{ats} '@' characters"));
    }
    let (local, domain) = value.split_once('@').unwrap_or((value, ""));
    if local.is_empty() {
        return what("nothing before '@'");
    }
    if domain.is_empty() {
        return what("nothing after '@'");
    }
    if !domain.contains('.') {
        return what("no '.' after '@'");
    }
    if domain.split('.').any(str::is_empty) {
        return what("an empty label after '@' (leading, trailing or doubled '.')");
    }
    if local.chars().count() > 64 || value.chars().count() > 254 {
        return what("longer than an email address may be (64 before '@', 254 in all)");
    }
    None
}

/// Why `value` is not an E.164 phone number (`+`, then 8 to 15 digits, the first not 0), or,
/// for a number of country code 1, why it is not a North American number (see
/// [`nanp_problem`]), described without repeating it; `None` if it is one.
///
/// Twilio's evaluation refuses a `+1` number outside the North American Numbering Plan
/// (error 22218, "Phone number is invalid.") even though it is E.164-shaped, so this check
/// refuses it before anything is sent.
///
/// ```
/// use trusthub::attributes::e164_problem;
///
/// assert_eq!(e164_problem("+14155550102"), None);
/// assert_eq!(e164_problem("+447700900123"), None); // other countries: E.164 only
/// assert_eq!(
///     e164_problem("123-456-7890").as_deref(),
///     Some("12 characters, does not start with '+'")
/// );
/// assert_eq!(
///     e164_problem("+11234567890").as_deref(),
///     Some("12 characters, the area code 123 starts with 1")
/// );
/// ```
pub fn e164_problem(value: &str) -> Option<String> {
    e164_shape_problem(value).or_else(|| nanp_problem(value))
}

/// The E.164 shape alone: `+`, then 8 to 15 digits, the first not 0.
fn e164_shape_problem(value: &str) -> Option<String> {
    let what = |p: &str| Some(format!("{}, {p}", char_count(value)));
    if value.trim().is_empty() {
        return Some(blank_description(value));
    }
    let Some(digits) = value.strip_prefix('+') else {
        return what("does not start with '+'");
    };
    if let Some((i, c)) = digits
        .chars()
        .enumerate()
        .find(|(_, c)| !c.is_ascii_digit())
    {
        let kind = match c {
            ' ' => "a space".to_owned(),
            c if c.is_whitespace() => "whitespace".to_owned(),
            c if c.is_ascii_punctuation() => format!("{c:?}"),
            c if c.is_alphabetic() => "a letter".to_owned(),
            _ => "not a digit".to_owned(),
        };
        // Position in the whole string, 0-based ('+' is position 0).
        return what(&format!("the character at position {} is {kind}", i + 1));
    }
    let n = digits.len();
    if !(8..=15).contains(&n) {
        return what(&format!("{n} digits after '+', expected 8 to 15"));
    }
    if digits.starts_with('0') {
        return what("the country code starts with 0");
    }
    None
}

/// Why a number of country code 1 (`+1...`) is not a North American number, described
/// without repeating it; `None` if it is one, and for anything else (another country code,
/// or a value that is not `'+'` then digits: [`e164_problem`] describes those).
///
/// The rules are the North American Numbering Plan's: after `+1` come exactly 10 digits,
/// `NPA-NXX-XXXX`: a 3-digit area code (NPA), a 3-digit exchange (NXX) and 4 digits; the
/// area code and the exchange start with 2 to 9 (never 0 or 1); the area code is not an N11
/// service code (211, 311, ... 911) and has no 9 as its second digit (those codes are kept
/// for expanding the plan). Only rules of the plan's format are checked: whether an area
/// code is in service is not.
///
/// The description names the area code only when it breaks a rule (such a code identifies
/// no one); the exchange and the line number are never repeated.
///
/// ```
/// use trusthub::attributes::nanp_problem;
///
/// assert_eq!(nanp_problem("+14155550102"), None);
/// assert_eq!(nanp_problem("+447700900123"), None); // not a +1 number
/// assert_eq!(
///     nanp_problem("+11234567890").as_deref(),
///     Some("12 characters, the area code 123 starts with 1")
/// );
/// assert_eq!(
///     nanp_problem("+19115550102").as_deref(),
///     Some("12 characters, the area code 911 is an N11 service code")
/// );
/// assert_eq!(
///     nanp_problem("+14151234567").as_deref(),
///     Some("12 characters, the exchange (the 3 digits after the area code) starts with 1")
/// );
/// assert_eq!(
///     nanp_problem("+1415555010").as_deref(),
///     Some("11 characters, 9 digits after '+1', expected 10")
/// );
/// ```
pub fn nanp_problem(value: &str) -> Option<String> {
    let what = |p: &str| Some(format!("{}, {p}", char_count(value)));
    let digits = value.strip_prefix("+1")?;
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if digits.len() != 10 {
        return what(&format!(
            "{} digit{} after '+1', expected 10",
            digits.len(),
            if digits.len() == 1 { "" } else { "s" }
        ));
    }
    let (area, exchange) = (&digits[..3], &digits[3..6]);
    let area_digits = area.as_bytes();
    if matches!(area_digits[0], b'0' | b'1') {
        return what(&format!(
            "the area code {area} starts with {}",
            char::from(area_digits[0])
        ));
    }
    if &area[1..] == "11" {
        return what(&format!("the area code {area} is an N11 service code"));
    }
    if area_digits[1] == b'9' {
        return what(&format!(
            "the area code {area} has 9 as its second digit (kept for expanding the plan)"
        ));
    }
    let first = exchange.as_bytes()[0];
    if matches!(first, b'0' | b'1') {
        return what(&format!(
            "the exchange (the 3 digits after the area code) starts with {}",
            char::from(first)
        ));
    }
    None
}

/// Whether a street line reads as a post office box, which Twilio refuses as a business
/// address.
///
/// The line is lower-cased, split into words at every character that is not a letter or
/// digit, and at every change between letters and digits (`"box12"` -> `box`, `12`).
/// It is a PO box when the words contain:
/// - `po box`, `p o box` (covers `P.O. Box`, `P O Box`, `p.o.box`), `post office box` or
///   `postoffice box`, anywhere;
/// - `pobox` followed by a number or at the end (`"pobox 12"`, `"POBox12"`, `"pobox"`);
/// - `pob` or `p o b` followed by a number (`"POB 12"`, `"P.O.B. 12"`).
///
/// Decided: the fused `pobox` *followed by a word* is not a PO box, so `"Pobox Street"`
/// passes; so do `"Boxwood Rd"` and `"Polo Box Ave"`, whose words are not `po box`.
///
/// ```
/// use trusthub::attributes::is_po_box;
///
/// assert!(is_po_box("P.O. Box 123"));
/// assert!(is_po_box("pobox 9"));
/// assert!(!is_po_box("555 Boxwood Rd"));
/// ```
pub fn is_po_box(value: &str) -> bool {
    let words = words(value);
    let w: Vec<&str> = words.iter().map(String::as_str).collect();
    let is_number = |i: usize| {
        w.get(i)
            .is_some_and(|s| s.starts_with(|c: char| c.is_ascii_digit()))
    };
    for i in 0..w.len() {
        let at = |offset: usize, word: &str| w.get(i + offset) == Some(&word);
        let always = (at(0, "po") && at(1, "box"))
            || (at(0, "p") && at(1, "o") && at(2, "box"))
            || (at(0, "post") && at(1, "office") && at(2, "box"))
            || (at(0, "postoffice") && at(1, "box"));
        let fused = at(0, "pobox") && (i + 1 == w.len() || is_number(i + 1));
        let short = (at(0, "pob") && is_number(i + 1))
            || (at(0, "p") && at(1, "o") && at(2, "b") && is_number(i + 3));
        if always || fused || short {
            return true;
        }
    }
    false
}

/// Lower-cased words: split at non-alphanumerics and at letter/digit boundaries.
fn words(value: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut current = String::new();
    let mut current_is_digit = false;
    for c in value.chars() {
        if !c.is_alphanumeric() {
            if !current.is_empty() {
                out.push(std::mem::take(&mut current));
            }
            continue;
        }
        let is_digit = c.is_ascii_digit();
        if !current.is_empty() && is_digit != current_is_digit {
            out.push(std::mem::take(&mut current));
        }
        current_is_digit = is_digit;
        current.extend(c.to_lowercase());
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}
