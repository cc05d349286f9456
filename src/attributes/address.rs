//! The business address: a 2010 API Address and the `customer_profile_address`
//! supporting document that points at it.

use std::fmt;

use serde_json::{Map, Value};

use super::validation::{Validate, ValidationReport, MAX_TEXT_CHARS};
use super::{Redacted, RedactedOption};
use crate::sid::AddressSid;

/// The parameters of `POST /2010-04-01/Accounts/{AccountSid}/Addresses.json`: the
/// physical headquarters address of the business. PO boxes are refused (see
/// [`is_po_box`](super::is_po_box)).
///
/// Everything but `iso_country`, `emergency_enabled` and `auto_correct_address` is PII:
/// `Debug` redacts it and validation never repeats it.
///
/// ```
/// use trusthub::attributes::{Address, Validate};
///
/// let address = Address {
///     customer_name: "name".into(),
///     street: "555 AnyStreet".into(),
///     street_secondary: Some("Apt B".into()),
///     city: "Any City".into(),
///     region: "Any Region".into(),
///     postal_code: "12345".into(),
///     iso_country: "US".into(),
///     ..Address::default()
/// };
/// assert!(address.validate().is_ok());
/// assert!(address.to_form_params().contains(&("IsoCountry", "US".to_owned())));
/// ```
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Address {
    /// Name to associate with the address (`CustomerName`).
    pub customer_name: String,
    /// Number and street (`Street`).
    pub street: String,
    /// Additional street line (`StreetSecondary`), optional.
    pub street_secondary: Option<String>,
    /// City (`City`).
    pub city: String,
    /// State or region (`Region`).
    pub region: String,
    /// Postal code (`PostalCode`).
    pub postal_code: String,
    /// ISO 3166-1 alpha-2 country code, upper case (`IsoCountry`), e.g. `"US"`.
    pub iso_country: String,
    /// Descriptive name, up to 64 characters (`FriendlyName`), optional.
    pub friendly_name: Option<String>,
    /// Whether to enable emergency calling on the address (`EmergencyEnabled`), optional.
    pub emergency_enabled: Option<bool>,
    /// Whether Twilio may correct the address (`AutoCorrectAddress`, Twilio's default is
    /// `true`), optional.
    pub auto_correct_address: Option<bool>,
}

impl Address {
    /// Maximum length of `friendly_name`, per the API documentation.
    pub const FRIENDLY_NAME_MAX_CHARS: usize = 64;

    /// The form parameters of the create request, with the API's PascalCase names.
    /// Optional values that are `None` (or an empty string) are left out; booleans are
    /// `"true"`/`"false"`.
    pub fn to_form_params(&self) -> Vec<(&'static str, String)> {
        let mut out = vec![
            ("CustomerName", self.customer_name.clone()),
            ("Street", self.street.clone()),
        ];
        if let Some(s) = self.street_secondary.as_deref().filter(|s| !s.is_empty()) {
            out.push(("StreetSecondary", s.to_owned()));
        }
        out.push(("City", self.city.clone()));
        out.push(("Region", self.region.clone()));
        out.push(("PostalCode", self.postal_code.clone()));
        out.push(("IsoCountry", self.iso_country.clone()));
        if let Some(s) = self.friendly_name.as_deref().filter(|s| !s.is_empty()) {
            out.push(("FriendlyName", s.to_owned()));
        }
        if let Some(b) = self.emergency_enabled {
            out.push(("EmergencyEnabled", b.to_string()));
        }
        if let Some(b) = self.auto_correct_address {
            out.push(("AutoCorrectAddress", b.to_string()));
        }
        out
    }
}

impl Validate for Address {
    const DEFAULT_PATH: &'static str = "address";

    fn validate_at(&self, path: &str, r: &mut ValidationReport) {
        r.required(path, "customer_name", &self.customer_name, "customer name");
        if r.required(path, "street", &self.street, "street") {
            r.not_po_box(path, "street", &self.street);
        }
        if let Some(s) = &self.street_secondary {
            r.not_po_box(path, "street_secondary", s);
            r.text(path, "street_secondary", s, MAX_TEXT_CHARS);
        }
        r.required(path, "city", &self.city, "city");
        r.required(path, "region", &self.region, "state or region");
        r.required(path, "postal_code", &self.postal_code, "postal code");
        for (field, value) in [
            ("customer_name", &self.customer_name),
            ("street", &self.street),
            ("city", &self.city),
            ("region", &self.region),
            ("postal_code", &self.postal_code),
        ] {
            r.text(path, field, value, MAX_TEXT_CHARS);
        }
        r.iso_country(path, "iso_country", &self.iso_country);
        if let Some(name) = &self.friendly_name {
            r.text(path, "friendly_name", name, Self::FRIENDLY_NAME_MAX_CHARS);
        }
    }
}

impl fmt::Debug for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Address")
            .field("customer_name", &Redacted(&self.customer_name))
            .field("street", &Redacted(&self.street))
            .field(
                "street_secondary",
                &RedactedOption(self.street_secondary.as_deref()),
            )
            .field("city", &Redacted(&self.city))
            .field("region", &Redacted(&self.region))
            .field("postal_code", &Redacted(&self.postal_code))
            .field("iso_country", &self.iso_country)
            .field(
                "friendly_name",
                &RedactedOption(self.friendly_name.as_deref()),
            )
            .field("emergency_enabled", &self.emergency_enabled)
            .field("auto_correct_address", &self.auto_correct_address)
            .finish()
    }
}

/// The attributes of the supporting document of type
/// [`CustomerProfileAddress::SUPPORTING_DOCUMENT_TYPE`]: the SID of the business address.
///
/// ```
/// use trusthub::attributes::CustomerProfileAddress;
/// use trusthub::sid::AddressSid;
///
/// let doc = CustomerProfileAddress {
///     address_sid: "ADaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa".parse::<AddressSid>()?,
/// };
/// assert_eq!(
///     doc.to_attributes(),
///     serde_json::json!({"address_sids": "ADaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"})
/// );
/// # Ok::<(), trusthub::sid::SidError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CustomerProfileAddress {
    /// The address (sent as the `address_sids` attribute, a single SID string as in the
    /// seed's example).
    pub address_sid: AddressSid,
}

impl CustomerProfileAddress {
    /// Supporting document `Type`.
    pub const SUPPORTING_DOCUMENT_TYPE: &'static str = "customer_profile_address";

    /// The `Attributes` object: `{"address_sids": "AD..."}`.
    pub fn to_attributes(&self) -> Value {
        let mut m = Map::new();
        m.insert(
            "address_sids".to_owned(),
            Value::String(self.address_sid.as_str().to_owned()),
        );
        Value::Object(m)
    }
}

impl From<AddressSid> for CustomerProfileAddress {
    fn from(address_sid: AddressSid) -> Self {
        CustomerProfileAddress { address_sid }
    }
}
