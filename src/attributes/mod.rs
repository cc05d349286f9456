//! Typed attributes of a Secondary Customer Profile, with local validation.
//!
//! - [`BusinessInformation`]: EndUser `customer_profile_business_information`;
//! - [`AuthorizedRepresentative`]: EndUsers `authorized_representative_1` and `_2`;
//! - [`Address`]: the 2010 API Address, and [`CustomerProfileAddress`], the
//!   `customer_profile_address` supporting document pointing at it.
//!
//! `to_attributes()` gives the JSON object Twilio expects in the `Attributes` form field:
//! exactly the keys of the seed document's examples, every value a JSON string.
//!
//! Every accepted-value list of the seed document is an enum made by one macro: a variant
//! per listed value, `as_str()` with the exact wire string, strict `FromStr`, serde, and
//! a deliberate escape hatch for values Twilio accepts but does not document
//! (`Region::unlisted("CANADA")`), held as [`Unlisted`].
//!
//! [`Validate::validate`] checks everything locally and reports every problem at once (see
//! [`validation`]). `Debug` of every type holding personal data redacts it.
//!
//! ```
//! use trusthub::attributes::{Region, Regions};
//!
//! let regions = Regions::from([Region::UsaAndCanada, Region::unlisted("CANADA")]);
//! assert_eq!(regions.to_wire(), "USA_AND_CANADA,CANADA");
//! assert!("CANADA".parse::<Region>().is_err()); // FromStr accepts listed values only
//! ```

use std::fmt;

mod address;
mod business;
mod countries;
mod messaging;
mod representative;
pub mod validation;
mod wire_enum;

pub use address::{Address, CustomerProfileAddress};
pub use business::{
    BusinessIdentity, BusinessIndustry, BusinessInformation, BusinessType, Region, Regions,
    RegistrationIdentifier,
};
pub use countries::{is_iso_country, ISO_3166_1_ALPHA_2};
pub use messaging::{
    CompanyType, MessagingProfileInformation, StockExchange, MAX_STOCK_TICKER_CHARS,
};
pub use representative::{AuthorizedRepresentative, JobPosition, RepresentativeSlot};
pub(crate) use validation::join;
pub use validation::{
    e164_problem, email_problem, http_url_problem, is_po_box, nanp_problem, ProblemKind, Validate,
    ValidationError, ValidationErrors, ValidationReport, Warning, WarningKind, MAX_EMAIL_CHARS,
    MAX_TEXT_CHARS, MAX_URL_CHARS,
};
pub use wire_enum::{UnknownValueError, Unlisted};

/// `Debug` of a PII string: `<redacted>`, or `<empty>` when there is nothing to hide.
pub(crate) struct Redacted<'a>(pub(crate) &'a str);

impl fmt::Debug for Redacted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            f.write_str("<empty>")
        } else {
            f.write_str("<redacted>")
        }
    }
}

/// `Debug` of an optional PII string.
pub(crate) struct RedactedOption<'a>(pub(crate) Option<&'a str>);

impl fmt::Debug for RedactedOption<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            None => f.write_str("None"),
            Some(s) => f.debug_tuple("Some").field(&Redacted(s)).finish(),
        }
    }
}

/// `Debug` of a list of PII strings: only how many there are.
pub(crate) struct RedactedList(pub(crate) usize);

impl fmt::Debug for RedactedList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[<{} redacted>]", self.0)
    }
}
