//! Authorized representatives: EndUsers of type `authorized_representative_1` / `_2`.

use std::fmt;

use serde_json::{Map, Value};

use super::validation::{Validate, ValidationReport, MAX_EMAIL_CHARS, MAX_TEXT_CHARS};
use super::wire_enum::wire_enum;
use super::Redacted;

wire_enum! {
    /// `job_position` of an authorized representative.
    ///
    /// ```
    /// use trusthub::attributes::JobPosition;
    ///
    /// assert_eq!(JobPosition::Gm.as_str(), "GM");
    /// assert_eq!(JobPosition::GeneralCounsel.to_string(), "General Counsel");
    /// assert_eq!("VP".parse::<JobPosition>()?, JobPosition::Vp);
    ///
    /// let err = "ceo".parse::<JobPosition>().unwrap_err();
    /// assert_eq!(err.suggestion(), Some("CEO"));
    /// assert_eq!(err.expected(), JobPosition::LISTED_WIRE);
    /// # Ok::<(), trusthub::attributes::UnknownValueError>(())
    /// ```
    pub enum JobPosition {
        /// Director.
        Director = "Director",
        /// General manager.
        Gm = "GM",
        /// Vice president.
        Vp = "VP",
        /// Chief executive officer.
        Ceo = "CEO",
        /// Chief financial officer.
        Cfo = "CFO",
        /// General counsel.
        GeneralCounsel = "General Counsel",
        /// Other position.
        Other = "Other",
    }
}

/// Which of the two representatives of a profile: decides the EndUser type and the
/// validation path.
///
/// ```
/// use trusthub::attributes::{AuthorizedRepresentative, JobPosition, RepresentativeSlot};
/// use trusthub::attributes::ValidationReport;
///
/// let slot = RepresentativeSlot::Second;
/// assert_eq!(slot.end_user_type(), "authorized_representative_2");
///
/// let rep = AuthorizedRepresentative {
///     first_name: "Grace".into(),
///     last_name: "Hopper".into(),
///     email: "grace@acme.example.com".into(),
///     phone_number: "+1 415 555 0102".into(), // spaces: not E.164
///     business_title: "CFO".into(),
///     job_position: JobPosition::Cfo,
/// };
/// let mut report = ValidationReport::new();
/// report.check(slot.path(), &rep);
/// let errors = report.finish().unwrap_err();
/// assert_eq!(errors.fields().collect::<Vec<_>>(), ["representative_2.phone_number"]);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RepresentativeSlot {
    /// Authorized representative 1.
    First,
    /// Authorized representative 2.
    Second,
}

impl RepresentativeSlot {
    /// The EndUser `Type`: `authorized_representative_1` or `authorized_representative_2`.
    pub const fn end_user_type(self) -> &'static str {
        match self {
            RepresentativeSlot::First => "authorized_representative_1",
            RepresentativeSlot::Second => "authorized_representative_2",
        }
    }

    /// The validation path prefix: `representative_1` or `representative_2`.
    pub const fn path(self) -> &'static str {
        match self {
            RepresentativeSlot::First => "representative_1",
            RepresentativeSlot::Second => "representative_2",
        }
    }
}

/// An authorized representative of the business: the attributes of an EndUser of type
/// [`RepresentativeSlot::end_user_type`].
///
/// Names, email and phone number are PII: `Debug` redacts them and validation errors
/// describe them without repeating them.
///
/// ```
/// use trusthub::attributes::{AuthorizedRepresentative, JobPosition, RepresentativeSlot, Validate};
///
/// let rep = AuthorizedRepresentative {
///     first_name: "rep1".into(),
///     last_name: "acme".into(),
///     email: "rep1@acme.com".into(),
///     phone_number: "+14155550102".into(),
///     business_title: "ceo".into(),
///     job_position: JobPosition::Ceo,
/// };
/// let mut report = trusthub::attributes::ValidationReport::new();
/// report.check(RepresentativeSlot::Second.path(), &rep);
/// assert!(report.finish().is_ok());
/// assert!(!format!("{rep:?}").contains("rep1@acme.com"));
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct AuthorizedRepresentative {
    /// First name. PII.
    pub first_name: String,
    /// Last name. PII.
    pub last_name: String,
    /// Email address. PII.
    pub email: String,
    /// Phone number in E.164 form, e.g. `+14155550102` (country code included); a `+1` number
    /// follows the North American Numbering Plan ([`nanp_problem`](super::nanp_problem)). PII.
    pub phone_number: String,
    /// Business title, free text (e.g. `"Head of Product Management"`).
    pub business_title: String,
    /// Job position.
    pub job_position: JobPosition,
}

impl AuthorizedRepresentative {
    /// The `Attributes` object of the EndUser: exactly the keys of the seed's example,
    /// every value a JSON string.
    pub fn to_attributes(&self) -> Value {
        let mut m = Map::new();
        for (k, v) in [
            ("job_position", self.job_position.as_str()),
            ("last_name", &self.last_name),
            ("phone_number", &self.phone_number),
            ("first_name", &self.first_name),
            ("email", &self.email),
            ("business_title", &self.business_title),
        ] {
            m.insert(k.to_owned(), Value::String(v.to_owned()));
        }
        Value::Object(m)
    }
}

impl Validate for AuthorizedRepresentative {
    /// The path of the first representative; use [`RepresentativeSlot::path`] with
    /// [`ValidationReport::check`] for the second.
    const DEFAULT_PATH: &'static str = "representative_1";

    fn validate_at(&self, path: &str, r: &mut ValidationReport) {
        r.required(path, "first_name", &self.first_name, "first name");
        r.required(path, "last_name", &self.last_name, "last name");
        r.email(path, "email", &self.email);
        r.e164(path, "phone_number", &self.phone_number);
        r.required(
            path,
            "business_title",
            &self.business_title,
            "business title",
        );
        for (field, value, max) in [
            ("first_name", &self.first_name, MAX_TEXT_CHARS),
            ("last_name", &self.last_name, MAX_TEXT_CHARS),
            ("email", &self.email, MAX_EMAIL_CHARS),
            ("business_title", &self.business_title, MAX_TEXT_CHARS),
        ] {
            r.text(path, field, value, max);
        }
        if let JobPosition::Unlisted(u) = &self.job_position {
            r.unlisted(path, "job_position", u.as_str(), false);
        }
    }
}

impl fmt::Debug for AuthorizedRepresentative {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthorizedRepresentative")
            .field("first_name", &Redacted(&self.first_name))
            .field("last_name", &Redacted(&self.last_name))
            .field("email", &Redacted(&self.email))
            .field("phone_number", &Redacted(&self.phone_number))
            .field("business_title", &self.business_title)
            .field("job_position", &self.job_position)
            .finish()
    }
}
