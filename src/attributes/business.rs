//! Business information: the EndUser of type `customer_profile_business_information`.

use std::fmt;
use std::str::FromStr;

use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::{Deserialize, Serialize, Serializer};
use serde_json::{Map, Value};

use super::validation::{
    join, ProblemKind, Validate, ValidationReport, WarningKind, MAX_TEXT_CHARS, MAX_URL_CHARS,
};
use super::wire_enum::{wire_enum, UnknownValueError, Unlisted};
use super::{Redacted, RedactedList};

wire_enum! {
    /// `business_identity`: how the business relates to the ISV.
    ///
    /// ```
    /// use trusthub::attributes::BusinessIdentity;
    ///
    /// let identity: BusinessIdentity = "isv_reseller_or_partner".parse()?;
    /// assert_eq!(identity, BusinessIdentity::IsvResellerOrPartner);
    /// assert_eq!(BusinessIdentity::DirectCustomer.as_str(), "direct_customer");
    ///
    /// // Parsing is strict, with a hint; reading Twilio's answers is lenient.
    /// let err = "Direct Customer".parse::<BusinessIdentity>().unwrap_err();
    /// assert_eq!(err.suggestion(), Some("direct_customer"));
    /// let read: BusinessIdentity = serde_json::from_str(r#""marketplace""#)?;
    /// assert!(read.is_unlisted());
    /// assert_eq!(serde_json::to_string(&read)?, r#""marketplace""#);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub enum BusinessIdentity {
        /// The business buys Twilio services for itself.
        DirectCustomer = "direct_customer",
        /// The business resells Twilio services or is a partner.
        IsvResellerOrPartner = "isv_reseller_or_partner",
        /// Not known.
        Unknown = "unknown",
    }
}

wire_enum! {
    /// `business_type`: the legal form. Wire strings contain spaces and capitals exactly as
    /// listed (e.g. `"Limited Liability Corporation"`).
    ///
    /// ```
    /// use trusthub::attributes::BusinessType;
    ///
    /// assert_eq!(BusinessType::LISTED.len(), 6);
    /// assert_eq!(
    ///     BusinessType::LimitedLiabilityCorporation.to_string(),
    ///     "Limited Liability Corporation"
    /// );
    /// assert_eq!(
    ///     serde_json::to_string(&BusinessType::NonProfitCorporation)?,
    ///     r#""Non-profit Corporation""#
    /// );
    /// assert_eq!("Co-operative".parse::<BusinessType>()?, BusinessType::CoOperative);
    /// // Exact case only: "LLC" or "corporation" are not listed values.
    /// assert!("corporation".parse::<BusinessType>().is_err());
    /// assert!(BusinessType::listed("LLC").is_none());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub enum BusinessType {
        /// Sole proprietorship.
        SoleProprietorship = "Sole Proprietorship",
        /// Partnership.
        Partnership = "Partnership",
        /// Limited liability corporation (LLC).
        LimitedLiabilityCorporation = "Limited Liability Corporation",
        /// Co-operative.
        CoOperative = "Co-operative",
        /// Non-profit corporation.
        NonProfitCorporation = "Non-profit Corporation",
        /// Corporation.
        Corporation = "Corporation",
    }
}

wire_enum! {
    /// `business_industry`: the 31 industries the seed document lists.
    ///
    /// ```
    /// use trusthub::attributes::BusinessIndustry;
    ///
    /// assert_eq!(BusinessIndustry::LISTED.len(), 31);
    /// assert_eq!(BusinessIndustry::LISTED_WIRE[0], "AUTOMOTIVE");
    /// assert_eq!(BusinessIndustry::OilAndGas.as_str(), "OIL_AND_GAS");
    ///
    /// let err = "oil and gas".parse::<BusinessIndustry>().unwrap_err();
    /// assert_eq!(err.suggestion(), Some("OIL_AND_GAS"));
    /// // `unlisted` never wraps a listed value: equal wire strings are equal values.
    /// assert_eq!(BusinessIndustry::unlisted("FINTECH"), BusinessIndustry::Fintech);
    /// assert!(BusinessIndustry::unlisted("GAMING").is_unlisted());
    /// ```
    pub enum BusinessIndustry {
        /// Automotive.
        Automotive = "AUTOMOTIVE",
        /// Agriculture.
        Agriculture = "AGRICULTURE",
        /// Banking.
        Banking = "BANKING",
        /// Consumer.
        Consumer = "CONSUMER",
        /// Education.
        Education = "EDUCATION",
        /// Engineering.
        Engineering = "ENGINEERING",
        /// Energy.
        Energy = "ENERGY",
        /// Oil and gas.
        OilAndGas = "OIL_AND_GAS",
        /// Fast-moving consumer goods.
        FastMovingConsumerGoods = "FAST_MOVING_CONSUMER_GOODS",
        /// Financial.
        Financial = "FINANCIAL",
        /// Fintech.
        Fintech = "FINTECH",
        /// Food and beverage.
        FoodAndBeverage = "FOOD_AND_BEVERAGE",
        /// Government.
        Government = "GOVERNMENT",
        /// Healthcare.
        Healthcare = "HEALTHCARE",
        /// Hospitality.
        Hospitality = "HOSPITALITY",
        /// Insurance.
        Insurance = "INSURANCE",
        /// Legal.
        Legal = "LEGAL",
        /// Manufacturing.
        Manufacturing = "MANUFACTURING",
        /// Media.
        Media = "MEDIA",
        /// Online.
        Online = "ONLINE",
        /// Raw materials.
        RawMaterials = "RAW_MATERIALS",
        /// Real estate.
        RealEstate = "REAL_ESTATE",
        /// Religion.
        Religion = "RELIGION",
        /// Retail.
        Retail = "RETAIL",
        /// Jewelry.
        Jewelry = "JEWELRY",
        /// Technology.
        Technology = "TECHNOLOGY",
        /// Telecommunications.
        Telecommunications = "TELECOMMUNICATIONS",
        /// Transportation.
        Transportation = "TRANSPORTATION",
        /// Travel.
        Travel = "TRAVEL",
        /// Electronics.
        Electronics = "ELECTRONICS",
        /// Not for profit.
        NotForProfit = "NOT_FOR_PROFIT",
    }
}

wire_enum! {
    /// One of the `business_regions_of_operation`. Public integrations also send values
    /// the documentation does not list; send one deliberately with
    /// `Region::unlisted("CANADA")`.
    ///
    /// ```
    /// use trusthub::attributes::{Region, Regions};
    ///
    /// assert_eq!(Region::LatinAmerica.as_str(), "LATIN_AMERICA");
    /// assert_eq!(Region::from_wire("EUROPE"), Region::Europe);
    ///
    /// // "CANADA" is not listed: `FromStr` refuses it, `unlisted` sends it on purpose.
    /// assert!("CANADA".parse::<Region>().is_err());
    /// let canada = Region::unlisted("CANADA");
    /// assert!(canada.is_unlisted());
    /// assert_eq!(Regions::from([Region::Europe, canada]).to_wire(), "EUROPE,CANADA");
    /// ```
    pub enum Region {
        /// Africa.
        Africa = "AFRICA",
        /// Asia.
        Asia = "ASIA",
        /// Europe.
        Europe = "EUROPE",
        /// Latin America.
        LatinAmerica = "LATIN_AMERICA",
        /// USA and Canada.
        UsaAndCanada = "USA_AND_CANADA",
        /// Australia.
        Australia = "AUSTRALIA",
    }
}

/// `business_regions_of_operation`: one or more [`Region`]s.
///
/// # Wire form (decided here, once)
///
/// Twilio's attribute is **one JSON string**. Every public example carries a single
/// region and the documentation does not say how several are joined; this crate joins
/// them with a comma and no spaces, in the order given: `"USA_AND_CANADA,EUROPE"`.
/// [`Regions::to_wire`] is the only place that joins, [`FromStr`] (strict) and
/// [`Regions::from_wire`] (lenient) the only places that split (they also trim spaces
/// around each region). Deserialization also accepts a JSON array of strings.
///
/// ```
/// use trusthub::attributes::{Region, Regions};
///
/// let regions = Regions::from([Region::UsaAndCanada, Region::Europe]);
/// assert_eq!(regions.to_wire(), "USA_AND_CANADA,EUROPE");
/// assert_eq!("USA_AND_CANADA, EUROPE".parse::<Regions>().unwrap(), regions);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Regions(Vec<Region>);

impl Regions {
    /// The separator between regions on the wire.
    pub const SEPARATOR: char = ',';

    /// Regions in the given order.
    pub fn new(regions: impl IntoIterator<Item = Region>) -> Self {
        Regions(regions.into_iter().collect())
    }

    /// The regions, in order.
    pub fn as_slice(&self) -> &[Region] {
        &self.0
    }

    /// How many regions there are.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there is none (validation refuses that: at least one is required).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether `region` is one of them.
    pub fn contains(&self, region: &Region) -> bool {
        self.0.contains(region)
    }

    /// Appends a region.
    pub fn push(&mut self, region: Region) {
        self.0.push(region);
    }

    /// The wire string: the regions joined with `,` (see the type's documentation).
    pub fn to_wire(&self) -> String {
        let mut out = String::new();
        for (i, r) in self.0.iter().enumerate() {
            if i > 0 {
                out.push(Self::SEPARATOR);
            }
            out.push_str(r.as_str());
        }
        out
    }

    /// Lenient split for values read from Twilio: unknown regions become
    /// `Region::Unlisted`, empty pieces are skipped.
    pub fn from_wire(wire: &str) -> Self {
        Regions(
            wire.split(Self::SEPARATOR)
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(Region::from_wire)
                .collect(),
        )
    }
}

impl FromStr for Regions {
    type Err = UnknownValueError;

    /// Strict split: every piece must be a listed region. The empty string gives no
    /// regions.
    fn from_str(s: &str) -> Result<Self, UnknownValueError> {
        if s.trim().is_empty() {
            return Ok(Regions::default());
        }
        s.split(Self::SEPARATOR)
            .map(|piece| piece.trim().parse::<Region>())
            .collect::<Result<Vec<_>, _>>()
            .map(Regions)
    }
}

impl fmt::Display for Regions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_wire())
    }
}

impl From<Region> for Regions {
    fn from(region: Region) -> Self {
        Regions(vec![region])
    }
}

impl From<Vec<Region>> for Regions {
    fn from(regions: Vec<Region>) -> Self {
        Regions(regions)
    }
}

impl<const N: usize> From<[Region; N]> for Regions {
    fn from(regions: [Region; N]) -> Self {
        Regions(regions.into())
    }
}

impl FromIterator<Region> for Regions {
    fn from_iter<I: IntoIterator<Item = Region>>(iter: I) -> Self {
        Regions::new(iter)
    }
}

impl<'a> IntoIterator for &'a Regions {
    type Item = &'a Region;
    type IntoIter = std::slice::Iter<'a, Region>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl Serialize for Regions {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_wire())
    }
}

impl<'de> Deserialize<'de> for Regions {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct RegionsVisitor;

        impl<'de> Visitor<'de> for RegionsVisitor {
            type Value = Regions;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a comma-separated string of regions or an array of regions")
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<Regions, E> {
                Ok(Regions::from_wire(v))
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Regions, A::Error> {
                let mut out = Vec::new();
                while let Some(r) = seq.next_element::<Region>()? {
                    out.push(r);
                }
                Ok(Regions(out))
            }
        }

        deserializer.deserialize_any(RegionsVisitor)
    }
}

/// `business_registration_identifier`: the kind of registration number.
///
/// `Other` carries the name of the other registration type, which the seed lists as
/// required when `Other` is chosen. **Assumption:** the seed does not name the attribute
/// key of that name; this crate sends it as
/// [`OTHER_TYPE_NAME_KEY`](RegistrationIdentifier::OTHER_TYPE_NAME_KEY)
/// (`business_registration_identifier_other`), only when `Other` is chosen.
///
/// On its own (`as_str`, `FromStr`, serde) the value is the wire string only; `"Other"`
/// parses to `Other` with an empty name, which validation reports.
///
/// ```
/// use trusthub::attributes::*;
///
/// let gst = RegistrationIdentifier::other("GST");
/// assert_eq!(gst.as_str(), "Other");
/// assert_eq!(gst.other_type_name(), Some("GST"));
///
/// let mut business = BusinessInformation {
///     business_name: "Acme Pty Ltd".into(),
///     business_identity: BusinessIdentity::DirectCustomer,
///     business_type: BusinessType::Corporation,
///     business_industry: BusinessIndustry::Retail,
///     business_registration_identifier: gst,
///     business_registration_number: "51824753556".into(),
///     business_regions_of_operation: Region::Australia.into(),
///     website_url: "https://acme.example.com.au".into(),
///     social_media_profile_urls: vec![],
/// };
/// let attributes = business.to_attributes();
/// assert_eq!(attributes["business_registration_identifier"], "Other");
/// assert_eq!(attributes[RegistrationIdentifier::OTHER_TYPE_NAME_KEY], "GST");
///
/// // "Other" read from a string has no type name: validation asks for one.
/// business.business_registration_identifier = "Other".parse()?;
/// let errors = business.validate().unwrap_err();
/// assert_eq!(errors.errors()[0].kind(), ProblemKind::MissingOtherTypeName);
/// assert_eq!(
///     errors.errors()[0].field(),
///     "business_information.business_registration_identifier"
/// );
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum RegistrationIdentifier {
    /// US: Employer Identification Number (`EIN`). Twilio advises EIN for US entities.
    Ein,
    /// US: DUNS number, Dun & Bradstreet (`DUNS`). Twilio advises against it for US
    /// entities (use EIN).
    Duns,
    /// Canada: Canadian Corporation Number (`CCN`). No longer accepted for A2P 10DLC; use
    /// CBN.
    Ccn,
    /// Canada: Canadian Business Number (`CBN`).
    Cbn,
    /// Great Britain: Company Number (`CN`).
    Cn,
    /// Australia: Company Number from ASIC (`ACN`).
    Acn,
    /// India: Corporate Identity Number (`CIN`).
    Cin,
    /// Estonia: VAT Number (`VAT`).
    Vat,
    /// Romania: VAT Registration Number (`VATRN`).
    Vatrn,
    /// Israel: Registration Number (`RN`).
    Rn,
    /// `Other`, with the (required) name of the other registration type.
    Other(String),
    /// A value Twilio accepts but the documentation does not list.
    Unlisted(Unlisted),
}

impl RegistrationIdentifier {
    /// The listed wire strings, in the documentation's order.
    pub const LISTED_WIRE: &'static [&'static str] = &[
        "EIN", "DUNS", "CCN", "CBN", "CN", "ACN", "CIN", "VAT", "VATRN", "RN", "Other",
    ];

    /// Attribute key of the name of an `Other` registration type (an assumption; see the
    /// type's documentation).
    pub const OTHER_TYPE_NAME_KEY: &'static str = "business_registration_identifier_other";

    /// `Other` with the name of the other registration type.
    pub fn other(type_name: impl Into<String>) -> Self {
        RegistrationIdentifier::Other(type_name.into())
    }

    /// The exact wire string (`"Other"` for [`Self::Other`]).
    pub fn as_str(&self) -> &str {
        match self {
            Self::Ein => "EIN",
            Self::Duns => "DUNS",
            Self::Ccn => "CCN",
            Self::Cbn => "CBN",
            Self::Cn => "CN",
            Self::Acn => "ACN",
            Self::Cin => "CIN",
            Self::Vat => "VAT",
            Self::Vatrn => "VATRN",
            Self::Rn => "RN",
            Self::Other(_) => "Other",
            Self::Unlisted(u) => u.as_str(),
        }
    }

    /// The name of the other registration type, for [`Self::Other`].
    pub fn other_type_name(&self) -> Option<&str> {
        match self {
            Self::Other(name) => Some(name),
            _ => None,
        }
    }

    /// The listed value with exactly this wire string (`"Other"` gives `Other` with an
    /// empty name).
    pub fn listed(wire: &str) -> Option<Self> {
        Some(match wire {
            "EIN" => Self::Ein,
            "DUNS" => Self::Duns,
            "CCN" => Self::Ccn,
            "CBN" => Self::Cbn,
            "CN" => Self::Cn,
            "ACN" => Self::Acn,
            "CIN" => Self::Cin,
            "VAT" => Self::Vat,
            "VATRN" => Self::Vatrn,
            "RN" => Self::Rn,
            "Other" => Self::Other(String::new()),
            _ => return None,
        })
    }

    /// Deliberately sends a value Twilio accepts but the documentation does not list.
    /// A listed wire string gives its listed variant instead.
    pub fn unlisted(value: impl Into<String>) -> Self {
        let value = value.into();
        Self::listed(&value).unwrap_or_else(|| Self::Unlisted(Unlisted::new_unchecked(value)))
    }

    /// Lenient conversion for values read from Twilio (unknown values become `Unlisted`).
    pub fn from_wire(wire: &str) -> Self {
        Self::unlisted(wire)
    }

    /// Whether this is an `Unlisted` value.
    pub fn is_unlisted(&self) -> bool {
        matches!(self, Self::Unlisted(_))
    }
}

impl FromStr for RegistrationIdentifier {
    type Err = UnknownValueError;

    /// Strict: only listed wire strings (exact case).
    fn from_str(s: &str) -> Result<Self, UnknownValueError> {
        Self::listed(s)
            .ok_or_else(|| UnknownValueError::new("RegistrationIdentifier", s, Self::LISTED_WIRE))
    }
}

impl fmt::Display for RegistrationIdentifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for RegistrationIdentifier {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for RegistrationIdentifier {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        Ok(Self::from_wire(&s))
    }
}

/// Business information of a secondary customer profile: the attributes of the EndUser
/// of type [`BusinessInformation::END_USER_TYPE`].
///
/// Every field holds the value of the attribute of the same name. `Debug` redacts the
/// business name, the registration number and the social media URLs.
///
/// ```
/// use trusthub::attributes::*;
///
/// let business = BusinessInformation {
///     business_name: "acme business".into(),
///     business_identity: BusinessIdentity::DirectCustomer,
///     business_type: BusinessType::Partnership,
///     business_industry: BusinessIndustry::Education,
///     business_registration_identifier: RegistrationIdentifier::Ein,
///     business_registration_number: "12-3456789".into(),
///     business_regions_of_operation: Region::UsaAndCanada.into(),
///     website_url: "https://acme.example.com".into(),
///     social_media_profile_urls: vec![],
/// };
/// assert!(business.validate()?.is_empty());
/// assert_eq!(business.to_attributes()["business_type"], "Partnership");
/// # Ok::<(), ValidationErrors>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct BusinessInformation {
    /// Legal business name. PII.
    pub business_name: String,
    /// How the business relates to the ISV.
    pub business_identity: BusinessIdentity,
    /// Legal form.
    pub business_type: BusinessType,
    /// Industry.
    pub business_industry: BusinessIndustry,
    /// Kind of registration number (EIN, DUNS, ..., `Other(name)`).
    pub business_registration_identifier: RegistrationIdentifier,
    /// The registration number itself. PII.
    pub business_registration_number: String,
    /// Where the business operates: at least one region (see [`Regions`] for the wire
    /// form).
    pub business_regions_of_operation: Regions,
    /// Business website: an `http(s)` URL.
    pub website_url: String,
    /// Social media profile URLs, optional. Sent as one string joined with `,`
    /// (`""` when there is none, as in the seed's example).
    pub social_media_profile_urls: Vec<String>,
}

impl BusinessInformation {
    /// EndUser `Type` of business information.
    pub const END_USER_TYPE: &'static str = "customer_profile_business_information";

    /// The `Attributes` object of the EndUser: the keys of the seed's example, every value
    /// a JSON string, plus [`RegistrationIdentifier::OTHER_TYPE_NAME_KEY`] when the
    /// registration identifier is `Other`.
    pub fn to_attributes(&self) -> Value {
        let mut m = Map::new();
        let mut put = |k: &str, v: &str| {
            m.insert(k.to_owned(), Value::String(v.to_owned()));
        };
        put("business_name", &self.business_name);
        put(
            "social_media_profile_urls",
            &self.social_media_profile_urls.join(","),
        );
        put("website_url", &self.website_url);
        put(
            "business_regions_of_operation",
            &self.business_regions_of_operation.to_wire(),
        );
        put("business_type", self.business_type.as_str());
        put(
            "business_registration_identifier",
            self.business_registration_identifier.as_str(),
        );
        if let Some(name) = self.business_registration_identifier.other_type_name() {
            put(RegistrationIdentifier::OTHER_TYPE_NAME_KEY, name);
        }
        put("business_identity", self.business_identity.as_str());
        put("business_industry", self.business_industry.as_str());
        put(
            "business_registration_number",
            &self.business_registration_number,
        );
        Value::Object(m)
    }

    /// Validates like [`Validate::validate_at`], also knowing the ISO country of the
    /// business address: with `"US"`, choosing DUNS gives the
    /// [`WarningKind::DunsForUsEntity`] warning (Twilio advises EIN for US entities).
    pub fn validate_for_country(
        &self,
        path: &str,
        iso_country: &str,
        report: &mut ValidationReport,
    ) {
        self.check(path, Some(iso_country), report);
    }

    fn check(&self, path: &str, iso_country: Option<&str>, r: &mut ValidationReport) {
        r.required(path, "business_name", &self.business_name, "business name");
        r.text(path, "business_name", &self.business_name, MAX_TEXT_CHARS);
        r.text(
            path,
            "business_registration_number",
            &self.business_registration_number,
            MAX_TEXT_CHARS,
        );
        r.text(path, "website_url", &self.website_url, MAX_URL_CHARS);
        if let RegistrationIdentifier::Other(name) = &self.business_registration_identifier {
            r.text(
                path,
                "business_registration_identifier_other",
                name,
                MAX_TEXT_CHARS,
            );
        }

        for (field, wire, unlisted) in [
            (
                "business_identity",
                self.business_identity.as_str(),
                self.business_identity.is_unlisted(),
            ),
            (
                "business_type",
                self.business_type.as_str(),
                self.business_type.is_unlisted(),
            ),
            (
                "business_industry",
                self.business_industry.as_str(),
                self.business_industry.is_unlisted(),
            ),
        ] {
            if unlisted {
                r.unlisted(path, field, wire, false);
            }
        }

        let id_field = "business_registration_identifier";
        match &self.business_registration_identifier {
            RegistrationIdentifier::Other(name) if name.trim().is_empty() => r.error(
                join(path, id_field),
                ProblemKind::MissingOtherTypeName,
                "the name of the other registration type: RegistrationIdentifier::other(\"...\")",
                "Other without a type name",
            ),
            RegistrationIdentifier::Unlisted(u) => r.unlisted(path, id_field, u.as_str(), false),
            RegistrationIdentifier::Ccn => r.warn(
                join(path, id_field),
                WarningKind::CcnNotAcceptedForA2p,
                "CCN is no longer accepted for A2P 10DLC registration; use CBN",
            ),
            RegistrationIdentifier::Duns => {
                let us_region = self
                    .business_regions_of_operation
                    .contains(&Region::UsaAndCanada);
                let us_country = iso_country.is_some_and(|c| c.trim().eq_ignore_ascii_case("US"));
                if us_region || us_country {
                    r.warn(
                        join(path, id_field),
                        WarningKind::DunsForUsEntity,
                        "Twilio advises EIN, not DUNS, for US entities and international tax \
                         IDs, to avoid brand registration failures",
                    );
                }
            }
            _ => {}
        }

        let number_field = "business_registration_number";
        if r.required(
            path,
            number_field,
            &self.business_registration_number,
            "registration number",
        ) && self.business_registration_identifier == RegistrationIdentifier::Ein
        {
            let n = &self.business_registration_number;
            let digits = n.chars().filter(char::is_ascii_digit).count();
            let other = n
                .chars()
                .filter(|c| !c.is_ascii_digit() && *c != '-' && *c != ' ')
                .count();
            if digits != 9 || other != 0 {
                r.warn(
                    join(path, number_field),
                    WarningKind::EinShape,
                    format!(
                        "an EIN has 9 digits (e.g. 12-3456789); found {digits} digits and \
                         {other} other characters besides '-' and spaces"
                    ),
                );
            }
        }

        let regions_field = "business_regions_of_operation";
        let regions = self.business_regions_of_operation.as_slice();
        if regions.is_empty() {
            r.error(
                join(path, regions_field),
                ProblemKind::EmptyList,
                "at least one region of operation",
                "no region",
            );
        }
        for (i, region) in regions.iter().enumerate() {
            let field = format!("{regions_field}[{i}]");
            if let Region::Unlisted(u) = region {
                r.unlisted(path, &field, u.as_str(), true);
            }
            if regions[..i].contains(region) {
                r.warn(
                    join(path, &field),
                    WarningKind::DuplicateRegion,
                    format!("{} is listed more than once", region.as_str()),
                );
            }
        }

        r.http_url(path, "website_url", &self.website_url);

        for (i, url) in self.social_media_profile_urls.iter().enumerate() {
            let field = format!("social_media_profile_urls[{i}]");
            r.text(path, &field, url, MAX_URL_CHARS);
            if url.contains(',') {
                r.error(
                    join(path, &field),
                    ProblemKind::Url,
                    "a URL without ',' (',' separates the URLs on the wire)",
                    format!("{} characters, contains ','", url.chars().count()),
                );
            } else {
                r.http_url(path, &field, url);
            }
        }
    }
}

impl Validate for BusinessInformation {
    const DEFAULT_PATH: &'static str = "business_information";

    fn validate_at(&self, path: &str, report: &mut ValidationReport) {
        self.check(path, None, report);
    }
}

impl fmt::Debug for BusinessInformation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BusinessInformation")
            .field("business_name", &Redacted(&self.business_name))
            .field("business_identity", &self.business_identity)
            .field("business_type", &self.business_type)
            .field("business_industry", &self.business_industry)
            .field(
                "business_registration_identifier",
                &self.business_registration_identifier,
            )
            .field(
                "business_registration_number",
                &Redacted(&self.business_registration_number),
            )
            .field(
                "business_regions_of_operation",
                &self.business_regions_of_operation,
            )
            .field("website_url", &self.website_url)
            .field(
                "social_media_profile_urls",
                &RedactedList(self.social_media_profile_urls.len()),
            )
            .finish()
    }
}
