//! The customer input: one schema, three file formats.
//!
//! A customer is a flat set of keys (`friendly_name`, `business_information.business_name`,
//! `representative_1.email`, ...). In TOML and JSON the part before the dot is a table
//! (`[business_information]`); in CSV every key is a column header as written. [`FIELDS`] is the
//! one list of keys: the parser, the `trusthub schema` command and the error messages all read it.
//!
//! A customer with any `a2p.*`, `brand.*`, `messaging_service.*` or `campaign.*` key is an A2P
//! customer: besides its profile it gets the A2P 10DLC journey ([`Journey`]), and the keys the
//! journey needs become required (each missing one reported by its key). Sample messages are the
//! one list whose items may hold commas: in a CSV cell (or a TOML/JSON string) they are
//! separated by `|` ([`MESSAGE_SEPARATOR`]).
//!
//! Enum values are the facade enums' wire strings (`BusinessType::LISTED_WIRE`, ...), matched
//! exactly; `unlisted:VALUE` deliberately sends a value Twilio accepts but does not document.
//! Every problem of a customer is collected at once, named by key, and never repeats a value
//! that may be personal data (the facade's validation guarantees that for its checks; the
//! checks here only echo enum values and SIDs).

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use serde_json::Value as Json;
use trusthub::attributes::MAX_TEXT_CHARS;
use trusthub::attributes::{
    Address, AuthorizedRepresentative, BusinessIdentity, BusinessIndustry, BusinessInformation,
    BusinessType, CompanyType, JobPosition, MessagingProfileInformation, Region, Regions,
    RegistrationIdentifier, StockExchange, UnknownValueError,
};
use trusthub::flow::a2p::{Brand, BrandType, Campaign, Journey, MessagingServiceInput};
use trusthub::flow::voice::VoiceProducts;
use trusthub::flow::{DigestKey, SecondaryProfile};
use trusthub::sid::{
    AddressSid, CustomerProfileSid, MessagingServiceSid, PhoneNumberSid, PolicySid,
};

/// What kind of value a key holds.
#[derive(Debug, Clone, Copy)]
pub enum Kind {
    /// Free text.
    Text,
    /// One of these wire strings (or `unlisted:VALUE`).
    Enum(&'static [&'static str]),
    /// A list of these wire strings.
    EnumList(&'static [&'static str]),
    /// A list of free text (URLs).
    TextList,
    /// A list of keywords (letters and digits).
    Keywords,
    /// A list of messages, separated by `|` ([`MESSAGE_SEPARATOR`]) in one CSV cell: messages
    /// hold commas.
    Messages,
    /// A SID with this two-letter prefix.
    Sid(&'static str),
    /// A list of SIDs with this prefix.
    SidList(&'static str),
    /// `true` or `false`.
    Bool,
}

impl Kind {
    /// Whether the value is a list (comma-separated in CSV, an array or a comma-separated
    /// string in TOML/JSON; messages are `|`-separated instead).
    pub fn is_list(self) -> bool {
        matches!(
            self,
            Kind::EnumList(_) | Kind::TextList | Kind::Keywords | Kind::Messages | Kind::SidList(_)
        )
    }

    /// What separates a list's items in a CSV cell (or a TOML/JSON string); none for one value.
    pub fn separator(self) -> Option<char> {
        match self {
            Kind::Messages => Some(MESSAGE_SEPARATOR),
            kind if kind.is_list() => Some(','),
            _ => None,
        }
    }

    /// The accepted wire strings, for enums.
    pub fn accepted(self) -> &'static [&'static str] {
        match self {
            Kind::Enum(values) | Kind::EnumList(values) => values,
            _ => &[],
        }
    }

    /// A short description of the form, e.g. `BU... SID`.
    pub fn form(self) -> String {
        match self {
            Kind::Text => "text".into(),
            Kind::Enum(_) => "one of the accepted values".into(),
            Kind::EnumList(_) => "list of the accepted values".into(),
            Kind::TextList => "list of URLs".into(),
            Kind::Keywords => "list of keywords (letters and digits)".into(),
            Kind::Messages => {
                format!("list of messages ({MESSAGE_SEPARATOR}-separated in one CSV cell)")
            }
            Kind::Sid(prefix) => format!("{prefix}... SID"),
            Kind::SidList(prefix) => format!("list of {prefix}... SIDs"),
            Kind::Bool => "true or false".into(),
        }
    }
}

/// Whether a key must be given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// Always.
    Required,
    /// Never.
    Optional,
    /// In some cases, described in words.
    When(&'static str),
}

/// One key of the schema.
#[derive(Debug, Clone, Copy)]
pub struct Field {
    /// The key: a CSV header, or `section.key` in TOML/JSON.
    pub key: &'static str,
    /// The kind of value.
    pub kind: Kind,
    /// Whether it must be given.
    pub need: Need,
    /// What it is.
    pub doc: &'static str,
}

const fn field(key: &'static str, kind: Kind, need: Need, doc: &'static str) -> Field {
    Field {
        key,
        kind,
        need,
        doc,
    }
}

/// Every key of a customer, in the order of the documentation.
#[rustfmt::skip]
pub const FIELDS: &[Field] = &[
    field("customer_key", Kind::Text, Need::Optional, "your own identifier of the customer (an account id, not personal data), up to 255 characters: how `onboard` recognises the customer across runs and edits of the CSV; default: the business registration identifier and number. Two rows with one key are the same customer"),
    field("friendly_name", Kind::Text, Need::Required, "the bundle's name in the Console (often the business name: personal data, never logged)"),
    field("email", Kind::Text, Need::Required, "the email that receives the bundle's status updates"),
    field("status_callback", Kind::Text, Need::Optional, "an http(s) URL Twilio calls on status changes"),
    field("policy_sid", Kind::Sid("RN"), Need::Optional, "the policy; default RNdfbf3fae0e1107f8aded0e7cead80bf5 (Secondary Customer Profile)"),
    field("primary_profile_sid", Kind::Sid("BU"), Need::When("unless --primary-profile is given"), "the ISV's twilio-approved primary customer profile"),
    field("phone_number_sids", Kind::SidList("PN"), Need::Optional, "phone numbers to assign to the profile"),
    field("address_sid", Kind::Sid("AD"), Need::When("instead of the address.* keys"), "an address that already exists"),
    field("business_information.business_name", Kind::Text, Need::Required, "legal business name"),
    field("business_information.business_identity", Kind::Enum(BusinessIdentity::LISTED_WIRE), Need::Required, "how the business relates to the ISV"),
    field("business_information.business_type", Kind::Enum(BusinessType::LISTED_WIRE), Need::Required, "legal form"),
    field("business_information.business_industry", Kind::Enum(BusinessIndustry::LISTED_WIRE), Need::Required, "industry"),
    field("business_information.business_registration_identifier", Kind::Enum(RegistrationIdentifier::LISTED_WIRE), Need::Required, "kind of registration number"),
    field("business_information.business_registration_identifier_other", Kind::Text, Need::When("with identifier Other"), "the name of the other registration type"),
    field("business_information.business_registration_number", Kind::Text, Need::Required, "the registration number (EIN: 9 digits)"),
    field("business_information.business_regions_of_operation", Kind::EnumList(Region::LISTED_WIRE), Need::Required, "where the business operates (at least one)"),
    field("business_information.website_url", Kind::Text, Need::Required, "business website"),
    field("business_information.social_media_profile_urls", Kind::TextList, Need::Optional, "social media profile URLs"),
    field("representative_1.first_name", Kind::Text, Need::Required, "first authorized representative: first name"),
    field("representative_1.last_name", Kind::Text, Need::Required, "last name"),
    field("representative_1.email", Kind::Text, Need::Required, "email"),
    field("representative_1.phone_number", Kind::Text, Need::Required, "phone number, E.164 (+12015550123); a +1 number follows the North American Numbering Plan"),
    field("representative_1.business_title", Kind::Text, Need::Required, "business title, free text"),
    field("representative_1.job_position", Kind::Enum(JobPosition::LISTED_WIRE), Need::Required, "job position"),
    field("representative_2.first_name", Kind::Text, Need::Required, "second authorized representative: first name"),
    field("representative_2.last_name", Kind::Text, Need::Required, "last name"),
    field("representative_2.email", Kind::Text, Need::Required, "email"),
    field("representative_2.phone_number", Kind::Text, Need::Required, "phone number, E.164"),
    field("representative_2.business_title", Kind::Text, Need::Required, "business title"),
    field("representative_2.job_position", Kind::Enum(JobPosition::LISTED_WIRE), Need::Required, "job position"),
    field("address.customer_name", Kind::Text, Need::When("unless address_sid"), "name on the address"),
    field("address.street", Kind::Text, Need::When("unless address_sid"), "number and street (no PO box)"),
    field("address.street_secondary", Kind::Text, Need::Optional, "second street line"),
    field("address.city", Kind::Text, Need::When("unless address_sid"), "city"),
    field("address.region", Kind::Text, Need::When("unless address_sid"), "state or region"),
    field("address.postal_code", Kind::Text, Need::When("unless address_sid"), "postal code"),
    field("address.iso_country", Kind::Text, Need::When("unless address_sid"), "ISO 3166-1 alpha-2 country code, upper case (US, GB, ...)"),
    field("address.friendly_name", Kind::Text, Need::Optional, "the address's name, up to 64 characters"),
    field("address.emergency_enabled", Kind::Bool, Need::Optional, "enable emergency calling on the address"),
    field("address.auto_correct_address", Kind::Bool, Need::Optional, "let Twilio correct the address (Twilio's default: true)"),
    field("a2p.company_type", Kind::Enum(CompanyType::LISTED_WIRE), Need::When("A2P rows"), "A2P 10DLC: the kind of organisation the brand is. A row (or file) with any a2p.*, brand.*, messaging_service.* or campaign.* key runs the A2P journey after its profile (A2P trust product, brand, Messaging Service, campaign; the profile is always submitted); the others onboard the profile only"),
    field("a2p.stock_exchange", Kind::Enum(StockExchange::LISTED_WIRE), Need::When("public companies"), "the exchange the company trades on"),
    field("a2p.stock_ticker", Kind::Text, Need::When("public companies"), "the company's ticker: 1 to 10 letters, digits, '.' or '-'"),
    field("a2p.brand_contact_email", Kind::Text, Need::When("public companies"), "where The Campaign Registry sends a public brand's verification email"),
    field("a2p.trust_product_name", Kind::Text, Need::Optional, "the A2P Messaging Profile trust product's name; default: friendly_name followed by \" A2P\""),
    field("a2p.trust_product_email", Kind::Text, Need::Optional, "the A2P trust product's status email; default: email"),
    field("brand.type", Kind::Enum(BRAND_TYPES), Need::Optional, "the brand's type (no unlisted: values); default STANDARD. LOW_VOLUME_STANDARD: under 6,000 message segments a day, skips secondary vetting"),
    field("brand.mock", Kind::Bool, Need::Optional, "register a mock brand (for tests: approved without vetting, its campaign a mock campaign); default false"),
    field("brand.skip_secondary_vetting", Kind::Bool, Need::Optional, "skip TCR's automatic secondary vetting (SkipAutomaticSecVet); default: true for LOW_VOLUME_STANDARD (which must skip it), false for STANDARD"),
    field("messaging_service.friendly_name", Kind::Text, Need::When("A2P rows, unless messaging_service.sid"), "the name of the Messaging Service to create, up to 64 characters"),
    field("messaging_service.sid", Kind::Sid("MG"), Need::When("instead of messaging_service.friendly_name"), "a Messaging Service that exists (holding no campaign yet)"),
    field("messaging_service.inbound_request_url", Kind::Text, Need::Optional, "a new service's webhook for incoming messages, http(s)"),
    field("messaging_service.status_callback", Kind::Text, Need::Optional, "a new service's webhook for delivery statuses, http(s)"),
    field("messaging_service.phone_number_sids", Kind::SidList("PN"), Need::Optional, "phone numbers to add to the service (each in no other service); phone_number_sids are not added unless listed here too"),
    field("campaign.use_case", Kind::Text, Need::When("A2P rows"), "the use case code, e.g. 2FA, ACCOUNT_NOTIFICATION, CUSTOMER_CARE, DELIVERY_NOTIFICATION, MARKETING, MIXED, LOW_VOLUME (LOW_VOLUME_STANDARD brands); checked against the ones Twilio offers the brand before the campaign is created"),
    field("campaign.description", Kind::Text, Need::When("A2P rows"), "what the campaign sends, 40 to 4096 characters"),
    field("campaign.message_flow", Kind::Text, Need::When("A2P rows"), "how recipients opt in, 40 to 2048 characters"),
    field("campaign.message_samples", Kind::Messages, Need::When("A2P rows"), "2 to 5 sample messages of 20 to 1024 characters each"),
    field("campaign.has_embedded_links", Kind::Bool, Need::Optional, "whether messages hold links (then samples may); default false"),
    field("campaign.has_embedded_phone", Kind::Bool, Need::Optional, "whether messages hold phone numbers; default false"),
    field("campaign.opt_in_keywords", Kind::Keywords, Need::Optional, "keywords that opt a recipient in"),
    field("campaign.opt_out_keywords", Kind::Keywords, Need::Optional, "keywords that opt a recipient out"),
    field("campaign.help_keywords", Kind::Keywords, Need::Optional, "keywords that ask for help"),
    field("campaign.opt_in_message", Kind::Text, Need::When("with campaign.opt_in_keywords"), "the reply to an opt-in keyword, 20 to 320 characters"),
    field("campaign.opt_out_message", Kind::Text, Need::When("with campaign.opt_out_keywords"), "the reply to an opt-out keyword, 20 to 320 characters"),
    field("campaign.help_message", Kind::Text, Need::When("with campaign.help_keywords"), "the reply to a help keyword, 20 to 320 characters"),
    field("campaign.age_gated", Kind::Bool, Need::Optional, "whether the content is age-gated; default false"),
    field("campaign.direct_lending", Kind::Bool, Need::Optional, "whether the campaign is about direct lending; default false"),
    field("campaign.subscriber_opt_in", Kind::Bool, Need::Optional, "states that recipients opted in (SubscriberOptIn); default: not stated"),
    field("voice.shaken_stir", Kind::Bool, Need::Optional, "voice: create a SHAKEN/STIR trust product for the row's phone_number_sids (true or false). A row (or file) with voice.shaken_stir true or a voice.cnam_display_name runs the voice products after its profile (which is then always submitted): the trust products, the profile and the numbers assigned, evaluated and submitted"),
    field("voice.cnam_display_name", Kind::Text, Need::Optional, "voice: create a CNAM trust product showing this caller name on the row's phone_number_sids: at most 15 characters, a letter first, then letters, digits, '.', ',' and spaces; the business must be registered with EIN or DUNS"),
    field("voice.shaken_stir_name", Kind::Text, Need::Optional, "the SHAKEN/STIR trust product's name; default: friendly_name followed by \" SHAKEN/STIR\""),
    field("voice.cnam_name", Kind::Text, Need::Optional, "the CNAM trust product's name; default: friendly_name followed by \" CNAM\""),
    field("voice.trust_product_email", Kind::Text, Need::Optional, "the voice trust products' status email; default: email"),
];

/// The accepted values of `brand.type`.
pub const BRAND_TYPES: &[&str] = &["STANDARD", "LOW_VOLUME_STANDARD"];

/// The sections whose keys make a customer an A2P customer.
pub const A2P_SECTIONS: [&str; 4] = ["a2p", "brand", "messaging_service", "campaign"];

/// The section whose keys ask for the voice trust products (SHAKEN/STIR, CNAM).
pub const VOICE_SECTION: &str = "voice";

/// What separates the items of a message list (`campaign.message_samples`) in a CSV cell or a
/// TOML/JSON string: messages hold commas.
pub const MESSAGE_SEPARATOR: char = '|';

/// The prefix that sends an enum value the documentation does not list.
pub const UNLISTED_PREFIX: &str = "unlisted:";

/// Whether `key` belongs to the A2P 10DLC journey (one of [`A2P_SECTIONS`]).
pub fn is_a2p_key(key: &str) -> bool {
    A2P_SECTIONS
        .iter()
        .any(|s| key.strip_prefix(s).is_some_and(|r| r.starts_with('.')))
}

/// Whether `key` belongs to the voice trust products (`voice.*`).
pub fn is_voice_key(key: &str) -> bool {
    key.strip_prefix(VOICE_SECTION)
        .is_some_and(|r| r.starts_with('.'))
}

/// The schema entry of `key`.
pub fn field_of(key: &str) -> Option<&'static Field> {
    FIELDS.iter().find(|f| f.key == key)
}

/// One problem with a customer's input. `Display`: `field: expected ...; found ...`. Never holds
/// a value that may be personal data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The input key (or a key with a list index, `...[1]`).
    pub field: String,
    /// The expected form.
    pub expected: String,
    /// What came, described.
    pub found: String,
}

impl Problem {
    fn new(
        field: impl Into<String>,
        expected: impl Into<String>,
        found: impl Into<String>,
    ) -> Self {
        Problem {
            field: field.into(),
            expected: expected.into(),
            found: found.into(),
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: expected {}; found {}",
            self.field, self.expected, self.found
        )
    }
}

/// A value as read from a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RawValue {
    /// One text value.
    Text(String),
    /// A list (TOML/JSON array).
    List(Vec<String>),
}

/// One customer as read: keys to values, plus what could not be read (unknown keys, values of
/// the wrong shape).
#[derive(Debug, Clone, Default)]
pub struct Record {
    values: BTreeMap<String, RawValue>,
    problems: Vec<Problem>,
}

impl Record {
    /// A record from `(key, cell)` pairs (CSV); empty cells count as absent. Keys must be known
    /// (CSV headers are checked once, beforehand).
    pub fn from_cells<'a>(cells: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        let mut record = Record::default();
        for (key, cell) in cells {
            if cell.trim().is_empty() {
                continue;
            }
            record
                .values
                .insert(key.to_owned(), RawValue::Text(cell.to_owned()));
        }
        record
    }

    /// A record from a parsed TOML or JSON document: tables become `section.key`.
    pub fn from_document(document: &Json) -> Self {
        let mut record = Record::default();
        match document {
            Json::Object(map) => record.flatten("", map),
            other => record.problems.push(Problem::new(
                "(document)",
                "a table of keys",
                json_kind(other),
            )),
        }
        record
    }

    fn flatten(&mut self, prefix: &str, map: &serde_json::Map<String, Json>) {
        for (name, value) in map {
            let key = if prefix.is_empty() {
                name.clone()
            } else {
                format!("{prefix}.{name}")
            };
            let is_section = FIELDS.iter().any(|f| {
                f.key
                    .strip_prefix(key.as_str())
                    .is_some_and(|r| r.starts_with('.'))
            });
            match value {
                Json::Object(inner) if is_section => self.flatten(&key, inner),
                _ if is_section => {
                    self.problems
                        .push(Problem::new(key, "a table of keys", json_kind(value)))
                }
                _ if field_of(&key).is_none() => self.problems.push(Problem::new(
                    key,
                    "no such key (see `trusthub schema`)",
                    "an unknown key",
                )),
                Json::Null => {}
                Json::Array(_) if !field_of(&key).is_some_and(|f| f.kind.is_list()) => self
                    .problems
                    .push(Problem::new(key, "one value, not a list", "a list")),
                Json::Array(items) => {
                    let mut list = Vec::new();
                    for (i, item) in items.iter().enumerate() {
                        match scalar_text(item) {
                            Some(text) => list.push(text),
                            None => self.problems.push(Problem::new(
                                format!("{key}[{i}]"),
                                "text",
                                json_kind(item),
                            )),
                        }
                    }
                    self.values.insert(key, RawValue::List(list));
                }
                other => match scalar_text(other) {
                    Some(text) => {
                        self.values.insert(key, RawValue::Text(text));
                    }
                    None => self
                        .problems
                        .push(Problem::new(key, "text", json_kind(other))),
                },
            }
        }
    }

    /// The record as a customer file's JSON document (`section.key` as tables), which
    /// [`Record::from_document`] reads back to the same values: a CSV row's input as the job
    /// store keeps it. Deterministic (keys in order), so the same row is the same bytes.
    pub fn to_document(&self) -> Json {
        let mut root = serde_json::Map::new();
        for (key, value) in &self.values {
            let value = match value {
                RawValue::Text(t) => Json::String(t.clone()),
                RawValue::List(items) => {
                    Json::Array(items.iter().cloned().map(Json::String).collect())
                }
            };
            let mut parts: Vec<&str> = key.split('.').collect();
            let last = parts.pop().unwrap_or_default();
            let mut table = &mut root;
            for part in parts {
                let entry = table
                    .entry(part.to_owned())
                    .or_insert_with(|| Json::Object(Default::default()));
                if !entry.is_object() {
                    *entry = Json::Object(Default::default());
                }
                table = entry.as_object_mut().expect("just made a table");
            }
            table.insert(last.to_owned(), value);
        }
        Json::Object(root)
    }

    /// Sets `key` to `value` when the record has no value for it (a default of the command).
    pub fn set_default(&mut self, key: &str, value: &str) {
        self.values
            .entry(key.to_owned())
            .or_insert_with(|| RawValue::Text(value.to_owned()));
    }

    fn text(&self, key: &str) -> Option<&str> {
        match self.values.get(key) {
            Some(RawValue::Text(t)) => Some(t.as_str()),
            _ => None,
        }
    }

    /// A list value: an array, or one string split at commas (at `|` for messages); empty
    /// items dropped.
    fn list(&self, key: &str) -> Vec<String> {
        let separator = field_of(key)
            .and_then(|f| f.kind.separator())
            .unwrap_or(',');
        match self.values.get(key) {
            Some(RawValue::List(items)) => items
                .iter()
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
                .collect(),
            Some(RawValue::Text(text)) => text
                .split(separator)
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
                .collect(),
            None => Vec::new(),
        }
    }

    fn has_section(&self, section: &str) -> bool {
        self.values
            .keys()
            .any(|k| k.strip_prefix(section).is_some_and(|r| r.starts_with('.')))
    }

    /// Whether the customer asks for the A2P journey: it has a key of an A2P section.
    pub fn is_a2p(&self) -> bool {
        self.values.keys().any(|k| is_a2p_key(k))
    }

    /// Whether the customer asks for voice trust products: it has a `voice.*` key, other than a
    /// lone `voice.shaken_stir` of `false` (a CSV column filled for every row).
    pub fn is_voice(&self) -> bool {
        self.values.keys().any(|k| {
            is_voice_key(k)
                && !(k == "voice.shaken_stir"
                    && self
                        .text(k)
                        .is_some_and(|t| t.trim().eq_ignore_ascii_case("false")))
        })
    }
}

fn scalar_text(value: &Json) -> Option<String> {
    match value {
        Json::String(s) => Some(s.clone()),
        Json::Number(n) => Some(n.to_string()),
        Json::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn json_kind(value: &Json) -> &'static str {
    match value {
        Json::Null => "nothing",
        Json::Bool(_) => "a boolean",
        Json::Number(_) => "a number",
        Json::String(_) => "text",
        Json::Array(_) => "a list",
        Json::Object(_) => "a table",
    }
}

/// Why a file could not be read at all (it is then not a list of problems with one customer).
#[derive(Debug)]
pub struct FileError(pub String);

impl fmt::Display for FileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Line and column (1-based) of a byte offset.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

/// Reads one customer from a `.toml` or `.json` file. Syntax errors name the line and column
/// and never quote the file's text.
pub fn read_customer_file(path: &Path) -> Result<Record, FileError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| FileError(format!("cannot read {}: {e}", path.display())))?;
    let extension = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or_default()
        .to_ascii_lowercase();
    let document: Json = match extension.as_str() {
        "toml" => toml::from_str(&text).map_err(|e| {
            let at = e
                .span()
                .map(|s| {
                    let (line, col) = line_col(&text, s.start);
                    format!(" at line {line}, column {col}")
                })
                .unwrap_or_default();
            // `message()` is the error without the quoted source line, which may hold personal data.
            FileError(format!(
                "{} is not valid TOML{at}: {}",
                path.display(),
                e.message().trim()
            ))
        })?,
        "json" => serde_json::from_str(&text).map_err(|e| {
            FileError(format!(
                "{} is not valid JSON at line {}, column {}: {}",
                path.display(),
                e.line(),
                e.column(),
                json_error_kind(&e)
            ))
        })?,
        _ => {
            return Err(FileError(format!(
                "{}: expected a .toml or .json file",
                path.display()
            )));
        }
    };
    Ok(Record::from_document(&document))
}

fn json_error_kind(e: &serde_json::Error) -> &'static str {
    match e.classify() {
        serde_json::error::Category::Syntax => "syntax error",
        serde_json::error::Category::Eof => "unexpected end of file",
        serde_json::error::Category::Data => "unexpected data",
        serde_json::error::Category::Io => "read error",
    }
}

/// The CSV header, checked: every column a known key. Unknown columns are refused before any
/// row is read (a typo would otherwise silently drop a value from every row).
pub fn check_csv_header(header: &[String]) -> Result<(), FileError> {
    let mut unknown = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for name in header {
        let name = name.trim();
        if field_of(name).is_none() {
            unknown.push(format!("`{name}`"));
        } else if !seen.insert(name) {
            return Err(FileError(format!("column `{name}` appears twice")));
        }
    }
    if !unknown.is_empty() {
        return Err(FileError(format!(
            "unknown column{} {}; `trusthub schema` lists the columns",
            if unknown.len() == 1 { "" } else { "s" },
            unknown.join(", ")
        )));
    }
    Ok(())
}

/// Who a customer is, across runs and edits of a CSV: its `customer_key`, or its business
/// registration (identifier and number, spaces and dashes ignored). The batch journal keeps only
/// a keyed digest of it.
#[derive(Clone, PartialEq, Eq, Hash)]
pub enum CustomerKey {
    /// The `customer_key` column.
    Given(String),
    /// The registration identifier (wire value) and the number, normalised.
    Registration(String, String),
}

impl CustomerKey {
    /// The digest the batch journal files the customer under.
    pub fn digest(&self, key: &DigestKey) -> String {
        key.digest("customer", self.text().as_bytes())
    }

    /// The key as one text (what the batch journal digests, and the job store's customer key,
    /// which the store keeps as its keyed digest only). Personal data: never printed.
    pub fn text(&self) -> String {
        match self {
            CustomerKey::Given(k) => format!("given\u{0}{k}"),
            CustomerKey::Registration(kind, number) => {
                format!("registration\u{0}{kind}\u{0}{number}")
            }
        }
    }

    /// The input key that holds it.
    pub fn field(&self) -> &'static str {
        match self {
            CustomerKey::Given(_) => "customer_key",
            CustomerKey::Registration(..) => "business_information.business_registration_number",
        }
    }

    /// What two rows with this key share, for the message refusing the second.
    pub fn describe(&self) -> &'static str {
        match self {
            CustomerKey::Given(_) => "customer_key",
            CustomerKey::Registration(..) => {
                "business registration (give each row a customer_key to onboard one business \
                 twice)"
            }
        }
    }
}

impl fmt::Debug for CustomerKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CustomerKey([redacted])")
    }
}

/// A validated customer: the flow input and the typed parts the policy check reads.
#[derive(Debug, Clone)]
pub struct Customer {
    /// Who the customer is.
    pub key: CustomerKey,
    /// The flow input.
    pub profile: SecondaryProfile,
    /// The A2P 10DLC journey, for an A2P customer (its profile is [`Customer::profile`]).
    pub journey: Option<Journey>,
    /// The voice trust products (SHAKEN/STIR, CNAM), for a voice customer (its profile is
    /// [`Customer::profile`], its numbers the profile's).
    pub voice: Option<VoiceProducts>,
    /// The business information as parsed (the tests read it; the flow input holds it).
    #[cfg(test)]
    pub business: BusinessInformation,
    /// The two representatives as parsed (the tests read them).
    #[cfg(test)]
    pub representatives: [Option<AuthorizedRepresentative>; 2],
    /// Warnings of the local validation (advice, not blocking).
    pub warnings: Vec<String>,
}

/// Settings that apply to every customer.
#[derive(Debug, Clone, Default)]
pub struct Defaults {
    /// `--primary-profile`: used when a customer has no `primary_profile_sid`.
    pub primary_profile: Option<CustomerProfileSid>,
}

/// Turns a record into a validated customer, or every problem at once.
pub fn build(record: &Record, defaults: &Defaults) -> Result<Customer, Vec<Problem>> {
    let mut problems = record.problems.clone();
    let mut b = SecondaryProfile::builder();

    if let Some(name) = record.text("friendly_name") {
        b = b.friendly_name(name);
    }
    if let Some(email) = record.text("email") {
        b = b.email(email);
    }
    if let Some(url) = record.text("status_callback") {
        b = b.status_callback(url);
    }
    if let Some(policy) = sid::<PolicySid>(record, "policy_sid", &mut problems) {
        b = b.policy(policy);
    }
    let primary = sid::<CustomerProfileSid>(record, "primary_profile_sid", &mut problems)
        .or(defaults.primary_profile);
    if let Some(primary) = primary {
        b = b.primary_profile(primary);
    }
    let mut phone_numbers = Vec::new();
    for (i, text) in record.list("phone_number_sids").iter().enumerate() {
        match text.parse::<PhoneNumberSid>() {
            Ok(pn) => phone_numbers.push(pn),
            Err(e) => problems.push(Problem::new(
                format!("phone_number_sids[{i}]"),
                "PN... SID",
                e.problem().to_string(),
            )),
        }
    }
    b = b.phone_numbers(phone_numbers.clone());

    let business = business(record, &mut problems);
    if let Some(business) = &business {
        b = b.business(business.clone());
    }
    let representatives = [
        representative(record, "representative_1", &mut problems),
        representative(record, "representative_2", &mut problems),
    ];
    if let Some(rep) = &representatives[0] {
        b = b.representative_1(rep.clone());
    }
    if let Some(rep) = &representatives[1] {
        b = b.representative_2(rep.clone());
    }

    let existing = sid::<AddressSid>(record, "address_sid", &mut problems);
    let has_address = record.has_section("address");
    match (existing, has_address) {
        (Some(_), true) => problems.push(Problem::new(
            "address_sid",
            "either address_sid or the address.* keys",
            "both",
        )),
        (Some(sid), false) => b = b.existing_address(sid),
        (None, true) => b = b.address(address(record, &mut problems)),
        (None, false) => {}
    }

    // The facade validates everything else (and reports required values) without echoing them.
    let built = b.build();
    let (profile, mut warnings) = match built {
        Ok(profile) => {
            let warnings = profile.warnings().iter().map(|w| w.to_string()).collect();
            (Some(profile), warnings)
        }
        Err(errors) => {
            for e in errors.errors() {
                let field = input_key(e.field());
                // A value this module already refused (an unknown enum value replaced by a
                // placeholder, a malformed SID) is not reported twice.
                if problems.iter().any(|p| p.field == field) {
                    continue;
                }
                problems.push(Problem::new(field, e.expected(), e.found()));
            }
            (None, Vec::new())
        }
    };
    let journey = if record.is_a2p() {
        journey(record, profile.as_ref(), &mut problems, &mut warnings)
    } else {
        None
    };
    let voice = if record.is_voice() {
        voice(
            record,
            profile.as_ref(),
            business.as_ref(),
            phone_numbers,
            &mut problems,
            &mut warnings,
        )
    } else {
        None
    };
    let key = customer_key(record, business.as_ref(), &mut problems);
    match (profile, business, key) {
        (Some(profile), Some(_business), Some(key)) if problems.is_empty() => Ok(Customer {
            key,
            profile,
            journey,
            voice,
            #[cfg(test)]
            business: _business,
            #[cfg(test)]
            representatives,
            warnings,
        }),
        _ => Err(problems),
    }
}

/// The A2P journey of an A2P customer. Its problems are added to `problems` (named by input
/// key); with a profile that did not build, the A2P keys are still checked, against a
/// placeholder profile, so that every problem is reported at once.
fn journey(
    record: &Record,
    profile: Option<&SecondaryProfile>,
    problems: &mut Vec<Problem>,
    warnings: &mut Vec<String>,
) -> Option<Journey> {
    let company_type = required_enum(
        record,
        "a2p.company_type",
        CompanyType::LISTED,
        |s| s.parse(),
        CompanyType::unlisted,
        problems,
    );
    let stock_exchange = record.text("a2p.stock_exchange").and_then(|text| {
        enum_value(
            "a2p.stock_exchange",
            text,
            |s| s.parse::<StockExchange>(),
            StockExchange::unlisted,
            problems,
        )
    });
    let optional = |key: &str| record.text(key).map(|t| t.trim().to_owned());
    let messaging_profile = MessagingProfileInformation {
        company_type,
        stock_exchange,
        stock_ticker: optional("a2p.stock_ticker"),
        brand_contact_email: optional("a2p.brand_contact_email"),
    };

    let brand_type = match record.text("brand.type").map(str::trim) {
        None | Some("STANDARD") => BrandType::Standard,
        Some("LOW_VOLUME_STANDARD") => BrandType::LowVolumeStandard,
        Some(other) => {
            let upper = other.to_ascii_uppercase().replace(['-', ' '], "_");
            let found = match BRAND_TYPES.iter().find(|t| **t == upper) {
                Some(t) => format!("{other:?} (did you mean {t:?}?)"),
                None => format!(
                    "a value that is not listed ({} characters)",
                    other.chars().count()
                ),
            };
            problems.push(Problem::new(
                "brand.type",
                "one of \"STANDARD\", \"LOW_VOLUME_STANDARD\"",
                found,
            ));
            BrandType::Standard
        }
    };
    let brand = Brand {
        brand_type,
        mock: boolean(record, "brand.mock", problems).unwrap_or(false),
        skip_automatic_secondary_vetting: boolean(record, "brand.skip_secondary_vetting", problems),
    };

    let service_sid = sid::<MessagingServiceSid>(record, "messaging_service.sid", problems);
    let service_name = optional("messaging_service.friendly_name");
    let new_only = [
        "messaging_service.inbound_request_url",
        "messaging_service.status_callback",
    ];
    let service = match (service_sid, service_name) {
        (Some(sid), None) => {
            for key in new_only {
                if record.text(key).is_some() {
                    problems.push(Problem::new(
                        key,
                        "nothing with messaging_service.sid (webhooks are set on a new service)",
                        "a value",
                    ));
                }
            }
            MessagingServiceInput::Existing(sid)
        }
        (Some(_), Some(_)) => {
            problems.push(Problem::new(
                "messaging_service.sid",
                "either messaging_service.sid or messaging_service.friendly_name",
                "both",
            ));
            MessagingServiceInput::New {
                friendly_name: String::new(),
                inbound_request_url: None,
                status_callback: None,
            }
        }
        (None, name) => {
            if name.is_none() && record.text("messaging_service.sid").is_none() {
                problems.push(Problem::new(
                    "messaging_service.friendly_name",
                    "the name of the Messaging Service to create (or messaging_service.sid)",
                    "nothing",
                ));
            }
            MessagingServiceInput::New {
                // A placeholder keeps the facade's other checks going.
                friendly_name: name.unwrap_or_else(|| "-".to_owned()),
                inbound_request_url: optional(new_only[0]),
                status_callback: optional(new_only[1]),
            }
        }
    };
    let mut service_numbers = Vec::new();
    const NUMBERS: &str = "messaging_service.phone_number_sids";
    for (i, text) in record.list(NUMBERS).iter().enumerate() {
        match text.parse::<PhoneNumberSid>() {
            Ok(pn) => service_numbers.push(pn),
            Err(e) => problems.push(Problem::new(
                format!("{NUMBERS}[{i}]"),
                "PN... SID",
                e.problem().to_string(),
            )),
        }
    }

    let flag =
        |key: &str, problems: &mut Vec<Problem>| boolean(record, key, problems).unwrap_or(false);
    let mut campaign = Campaign::new(optional("campaign.use_case").unwrap_or_default());
    campaign.description = text(record, "campaign.description").trim().to_owned();
    campaign.message_flow = text(record, "campaign.message_flow").trim().to_owned();
    campaign.message_samples = record.list("campaign.message_samples");
    campaign.has_embedded_links = flag("campaign.has_embedded_links", problems);
    campaign.has_embedded_phone = flag("campaign.has_embedded_phone", problems);
    campaign.opt_in_message = optional("campaign.opt_in_message");
    campaign.opt_out_message = optional("campaign.opt_out_message");
    campaign.help_message = optional("campaign.help_message");
    campaign.opt_in_keywords = record.list("campaign.opt_in_keywords");
    campaign.opt_out_keywords = record.list("campaign.opt_out_keywords");
    campaign.help_keywords = record.list("campaign.help_keywords");
    campaign.age_gated = flag("campaign.age_gated", problems);
    campaign.direct_lending = flag("campaign.direct_lending", problems);
    campaign.subscriber_opt_in = boolean(record, "campaign.subscriber_opt_in", problems);

    // The trust product's name and email, as the facade defaults them, but given explicitly so
    // that they are checked even when the profile did not build.
    let name = optional("a2p.trust_product_name").unwrap_or_else(|| {
        record
            .text("friendly_name")
            .map(|n| format!("{} A2P", n.trim()))
            .unwrap_or_default()
    });
    let email = optional("a2p.trust_product_email")
        .or_else(|| optional("email"))
        .unwrap_or_default();
    let builder = Journey::builder()
        .trust_product(name, email)
        .messaging_profile(messaging_profile)
        .brand(brand)
        .messaging_service_input(service)
        .campaign(campaign)
        .phone_numbers(service_numbers);
    let builder = match profile {
        Some(profile) => builder.secondary_profile(profile.clone()),
        // Only validated: never run (the customer has problems).
        None => builder.existing_profile(CustomerProfileSid::from_static(
            "BU00000000000000000000000000000000",
        )),
    };
    match builder.build() {
        Ok(journey) => {
            // The profile's warnings are already listed; the journey's own are added.
            let profile_warnings = profile.map_or(0, |p| p.warnings().len());
            warnings.extend(
                journey
                    .warnings()
                    .iter()
                    .skip(profile_warnings)
                    .map(|w| format!("{}: {}", a2p_input_key(record, w.field()), w.message())),
            );
            profile.is_some().then_some(journey)
        }
        Err(errors) => {
            for e in errors.errors() {
                let field = a2p_input_key(record, e.field());
                if problems.iter().any(|p| p.field == field) {
                    continue;
                }
                problems.push(Problem::new(field, e.expected(), e.found()));
            }
            None
        }
    }
}

/// The voice trust products of a voice customer. Their problems are added to `problems` (named
/// by input key); with a profile that did not build, the voice keys are still checked, against a
/// placeholder profile, so that every problem is reported at once.
fn voice(
    record: &Record,
    profile: Option<&SecondaryProfile>,
    business: Option<&BusinessInformation>,
    phone_numbers: Vec<PhoneNumberSid>,
    problems: &mut Vec<Problem>,
    warnings: &mut Vec<String>,
) -> Option<VoiceProducts> {
    let optional = |key: &str| record.text(key).map(|t| t.trim().to_owned());
    let shaken_stir = boolean(record, "voice.shaken_stir", problems).unwrap_or(false);
    // The names and email as the facade defaults them, given explicitly so that they are
    // checked even when the profile did not build.
    let friendly_name = record.text("friendly_name").map(str::trim).unwrap_or("");
    let name = |key: &str, suffix: &str| {
        optional(key).unwrap_or_else(|| {
            if friendly_name.is_empty() {
                String::new()
            } else {
                format!("{friendly_name} {suffix}")
            }
        })
    };
    let email = optional("voice.trust_product_email")
        .or_else(|| optional("email"))
        .unwrap_or_default();
    let mut builder = VoiceProducts::builder().phone_numbers(phone_numbers);
    if shaken_stir {
        builder = builder.shaken_stir_named(name("voice.shaken_stir_name", "SHAKEN/STIR"), &email);
    }
    let display = record.text("voice.cnam_display_name");
    if let Some(display) = display {
        builder = builder.cnam_named(display, name("voice.cnam_name", "CNAM"), &email);
    }
    // CNAM needs a business registered with EIN or DUNS: said by the CNAM column, the one that
    // asks for it (the profile alone is fine).
    if let (Some(business), Some(_)) = (business, display) {
        let identifier = &business.business_registration_identifier;
        if !matches!(
            identifier,
            RegistrationIdentifier::Ein | RegistrationIdentifier::Duns
        ) {
            problems.push(Problem::new(
                "voice.cnam_display_name",
                "nothing unless business_information.business_registration_identifier is EIN or \
                 DUNS (CNAM needs a profile registered with one)",
                format!("a CNAM name, with identifier {}", identifier.as_str()),
            ));
        }
    }
    let builder = match profile {
        Some(profile) => builder.secondary_profile(profile.clone()),
        // Only validated: never run (the customer has problems).
        None => builder.existing_profile(CustomerProfileSid::from_static(
            "BU00000000000000000000000000000000",
        )),
    };
    match builder.build() {
        Ok(voice) => {
            let profile_warnings = profile.map_or(0, |p| p.warnings().len());
            warnings.extend(
                voice
                    .warnings()
                    .iter()
                    .skip(profile_warnings)
                    .map(|w| format!("{}: {}", voice_input_key(record, w.field()), w.message())),
            );
            profile.is_some().then_some(voice)
        }
        Err(errors) => {
            for e in errors.errors() {
                if e.field() == "business_information.business_registration_identifier" {
                    continue; // reported above, by the CNAM column
                }
                let field = voice_input_key(record, e.field());
                if problems.iter().any(|p| p.field == field) {
                    continue;
                }
                problems.push(Problem::new(field, e.expected(), e.found()));
            }
            None
        }
    }
}

/// The input key of a facade validation path of the voice products. A trust product's name or
/// email that was not given comes from `friendly_name` or `email`: its problem is theirs.
fn voice_input_key(record: &Record, facade_field: &str) -> String {
    let given = |key: &str| record.text(key).is_some();
    match facade_field {
        "shaken_stir" => "voice.shaken_stir".to_owned(),
        "cnam.display_name" => "voice.cnam_display_name".to_owned(),
        "shaken_stir.friendly_name" if given("voice.shaken_stir_name") => {
            "voice.shaken_stir_name".to_owned()
        }
        "cnam.friendly_name" if given("voice.cnam_name") => "voice.cnam_name".to_owned(),
        "shaken_stir.friendly_name" | "cnam.friendly_name" => "friendly_name".to_owned(),
        "shaken_stir.email" | "cnam.email" if given("voice.trust_product_email") => {
            "voice.trust_product_email".to_owned()
        }
        "shaken_stir.email" | "cnam.email" => "email".to_owned(),
        other => other
            .strip_prefix("phone_numbers")
            .map(|rest| format!("phone_number_sids{rest}"))
            .unwrap_or_else(|| other.to_owned()),
    }
}

/// The input key of a facade validation path of the journey. A trust product's name or email
/// that was not given comes from `friendly_name` or `email`: its problem is theirs.
fn a2p_input_key(record: &Record, facade_field: &str) -> String {
    let given = |key: &str| record.text(key).is_some();
    if let Some(rest) = facade_field.strip_prefix("a2p_profile.") {
        return format!("a2p.{rest}");
    }
    match facade_field {
        "trust_product.friendly_name" if given("a2p.trust_product_name") => {
            "a2p.trust_product_name".to_owned()
        }
        "trust_product.friendly_name" => "friendly_name".to_owned(),
        "trust_product.email" if given("a2p.trust_product_email") => {
            "a2p.trust_product_email".to_owned()
        }
        "trust_product.email" => "email".to_owned(),
        "brand.skip_automatic_secondary_vetting" => "brand.skip_secondary_vetting".to_owned(),
        "phone_numbers" => "messaging_service.phone_number_sids".to_owned(),
        other => other
            .strip_prefix("phone_numbers")
            .map(|rest| format!("messaging_service.phone_number_sids{rest}"))
            .unwrap_or_else(|| other.to_owned()),
    }
}

/// The customer's key: the `customer_key` column, else its business registration.
fn customer_key(
    record: &Record,
    business: Option<&BusinessInformation>,
    problems: &mut Vec<Problem>,
) -> Option<CustomerKey> {
    if let Some(given) = record.text("customer_key") {
        let given = given.trim();
        let n = given.chars().count();
        if given.chars().any(char::is_control) {
            problems.push(Problem::new(
                "customer_key",
                "one line of text without control characters",
                format!("{n} characters, with a control character"),
            ));
        } else if n > MAX_TEXT_CHARS {
            problems.push(Problem::new(
                "customer_key",
                format!("at most {MAX_TEXT_CHARS} characters"),
                format!("{n} characters"),
            ));
        }
        return Some(CustomerKey::Given(given.to_owned()));
    }
    let business = business?;
    let number: String = business
        .business_registration_number
        .chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_uppercase)
        .collect();
    Some(CustomerKey::Registration(
        business
            .business_registration_identifier
            .as_str()
            .to_owned(),
        number,
    ))
}

/// The input key of a facade validation path.
fn input_key(facade_field: &str) -> String {
    match facade_field {
        "primary_profile" => "primary_profile_sid".to_owned(),
        "phone_numbers" => "phone_number_sids".to_owned(),
        other => other.to_owned(),
    }
}

fn sid<T>(record: &Record, key: &str, problems: &mut Vec<Problem>) -> Option<T>
where
    T: std::str::FromStr<Err = trusthub::sid::SidError>,
{
    let text = record.text(key)?;
    match text.trim().parse::<T>() {
        Ok(sid) => Some(sid),
        Err(e) => {
            let form = field_of(key).map(|f| f.kind.form()).unwrap_or_default();
            problems.push(Problem::new(key, form, e.problem().to_string()));
            None
        }
    }
}

/// Parses an enum value: exact wire string, or `unlisted:VALUE`. On a problem, records it and
/// returns `None`.
fn enum_value<T>(
    field: &str,
    text: &str,
    parse: impl Fn(&str) -> Result<T, UnknownValueError>,
    unlisted: impl Fn(String) -> T,
    problems: &mut Vec<Problem>,
) -> Option<T> {
    let text = text.trim();
    if let Some(value) = text.strip_prefix(UNLISTED_PREFIX) {
        return Some(unlisted(value.to_owned()));
    }
    match parse(text) {
        Ok(value) => Some(value),
        Err(e) => {
            // The value is echoed only when it is a listed value written differently: a
            // column mix-up could otherwise put personal data in the message.
            let found = match e.suggestion() {
                Some(s) => format!("{:?} (did you mean {s:?}?)", e.found()),
                None => format!(
                    "a value that is not listed ({} characters)",
                    e.found().chars().count()
                ),
            };
            let listed = e.expected();
            let expected = if listed.len() <= 12 {
                format!(
                    "one of {} (or {UNLISTED_PREFIX}VALUE for a value Twilio accepts but does not list)",
                    listed
                        .iter()
                        .map(|v| format!("{v:?}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            } else {
                format!(
                    "one of the {} listed values, exactly as `trusthub schema` writes them (or \
                     {UNLISTED_PREFIX}VALUE for a value Twilio accepts but does not list)",
                    listed.len()
                )
            };
            problems.push(Problem::new(field, expected, found));
            None
        }
    }
}

/// A required enum: missing or unknown values are problems; the placeholder keeps the rest of
/// the validation going.
fn required_enum<T: Clone>(
    record: &Record,
    key: &str,
    listed: &[T],
    parse: impl Fn(&str) -> Result<T, UnknownValueError>,
    unlisted: impl Fn(String) -> T,
    problems: &mut Vec<Problem>,
) -> T {
    let placeholder = listed[0].clone();
    match record.text(key) {
        Some(text) => enum_value(key, text, parse, unlisted, problems).unwrap_or(placeholder),
        None => {
            problems.push(Problem::new(key, "one of the accepted values", "nothing"));
            placeholder
        }
    }
}

fn text(record: &Record, key: &str) -> String {
    record.text(key).unwrap_or_default().to_owned()
}

fn business(record: &Record, problems: &mut Vec<Problem>) -> Option<BusinessInformation> {
    const S: &str = "business_information";
    if !record.has_section(S) {
        return None;
    }
    let k = |name: &str| format!("{S}.{name}");
    let identity = required_enum(
        record,
        &k("business_identity"),
        BusinessIdentity::LISTED,
        |s| s.parse(),
        BusinessIdentity::unlisted,
        problems,
    );
    let business_type = required_enum(
        record,
        &k("business_type"),
        BusinessType::LISTED,
        |s| s.parse(),
        BusinessType::unlisted,
        problems,
    );
    let industry = required_enum(
        record,
        &k("business_industry"),
        BusinessIndustry::LISTED,
        |s| s.parse(),
        BusinessIndustry::unlisted,
        problems,
    );
    let other_key = k("business_registration_identifier_other");
    let other = record.text(&other_key).map(str::to_owned);
    let mut identifier = required_enum(
        record,
        &k("business_registration_identifier"),
        &[RegistrationIdentifier::Ein],
        |s| s.parse(),
        RegistrationIdentifier::unlisted,
        problems,
    );
    match (&identifier, other) {
        (RegistrationIdentifier::Other(_), Some(name)) => {
            identifier = RegistrationIdentifier::other(name)
        }
        (RegistrationIdentifier::Other(_), None) => {}
        (_, Some(_)) => problems.push(Problem::new(
            other_key,
            "nothing unless business_registration_identifier is Other",
            "a value",
        )),
        (_, None) => {}
    }
    let regions_key = k("business_regions_of_operation");
    let mut regions = Vec::new();
    for (i, item) in record.list(&regions_key).iter().enumerate() {
        if let Some(region) = enum_value(
            &format!("{regions_key}[{i}]"),
            item,
            |s| s.parse::<Region>(),
            Region::unlisted,
            problems,
        ) {
            regions.push(region);
        }
    }
    Some(BusinessInformation {
        business_name: text(record, &k("business_name")),
        business_identity: identity,
        business_type,
        business_industry: industry,
        business_registration_identifier: identifier,
        business_registration_number: text(record, &k("business_registration_number")),
        business_regions_of_operation: Regions::new(regions),
        website_url: text(record, &k("website_url")),
        social_media_profile_urls: record.list(&k("social_media_profile_urls")),
    })
}

fn representative(
    record: &Record,
    section: &str,
    problems: &mut Vec<Problem>,
) -> Option<AuthorizedRepresentative> {
    if !record.has_section(section) {
        return None;
    }
    let k = |name: &str| format!("{section}.{name}");
    Some(AuthorizedRepresentative {
        first_name: text(record, &k("first_name")),
        last_name: text(record, &k("last_name")),
        email: text(record, &k("email")),
        phone_number: text(record, &k("phone_number")),
        business_title: text(record, &k("business_title")),
        job_position: required_enum(
            record,
            &k("job_position"),
            JobPosition::LISTED,
            |s| s.parse(),
            JobPosition::unlisted,
            problems,
        ),
    })
}

fn boolean(record: &Record, key: &str, problems: &mut Vec<Problem>) -> Option<bool> {
    let text = record.text(key)?;
    match text.trim().to_ascii_lowercase().as_str() {
        "true" => Some(true),
        "false" => Some(false),
        _ => {
            problems.push(Problem::new(
                key,
                "true or false",
                format!("{} characters", text.chars().count()),
            ));
            None
        }
    }
}

fn address(record: &Record, problems: &mut Vec<Problem>) -> Address {
    let optional = |key: &str| record.text(key).map(str::to_owned);
    Address {
        customer_name: text(record, "address.customer_name"),
        street: text(record, "address.street"),
        street_secondary: optional("address.street_secondary"),
        city: text(record, "address.city"),
        region: text(record, "address.region"),
        postal_code: text(record, "address.postal_code"),
        iso_country: text(record, "address.iso_country"),
        friendly_name: optional("address.friendly_name"),
        emergency_enabled: boolean(record, "address.emergency_enabled", problems),
        auto_correct_address: boolean(record, "address.auto_correct_address", problems),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn good() -> Json {
        serde_json::json!({
            "friendly_name": "Acme Corp",
            "email": "compliance@acme.example.com",
            "primary_profile_sid": "BU0123456789abcdef0123456789abcdef",
            "phone_number_sids": ["PN0123456789abcdef0123456789abcdef"],
            "business_information": {
                "business_name": "Acme Corp",
                "business_identity": "direct_customer",
                "business_type": "Limited Liability Corporation",
                "business_industry": "TECHNOLOGY",
                "business_registration_identifier": "EIN",
                "business_registration_number": 123456789,
                "business_regions_of_operation": "USA_AND_CANADA, EUROPE",
                "website_url": "https://acme.example.com"
            },
            "representative_1": {
                "first_name": "Ada", "last_name": "Lovelace", "email": "ada@acme.example.com",
                "phone_number": "+14155550101", "business_title": "CEO", "job_position": "CEO"
            },
            "representative_2": {
                "first_name": "Bob", "last_name": "Builder", "email": "bob@acme.example.com",
                "phone_number": "+14155550102", "business_title": "CFO", "job_position": "CFO"
            },
            "address": {
                "customer_name": "Acme Corp", "street": "555 Main Street", "city": "San Francisco",
                "region": "CA", "postal_code": "94105", "iso_country": "US",
                "emergency_enabled": "false"
            }
        })
    }

    #[test]
    fn a_complete_document_builds() {
        let customer = build(&Record::from_document(&good()), &Defaults::default()).unwrap();
        assert_eq!(
            customer.business.business_regions_of_operation.to_wire(),
            "USA_AND_CANADA,EUROPE"
        );
        // A number where text is expected is taken as its text.
        assert_eq!(customer.business.business_registration_number, "123456789");
        assert!(customer.representatives.iter().all(Option::is_some));
    }

    #[test]
    fn every_problem_is_reported_without_personal_data() {
        let mut doc = good();
        doc["email"] = "compliance.example.com".into();
        doc["business_information"]["business_industry"] = "technology".into();
        doc["business_information"]["business_regions_of_operation"] =
            serde_json::json!(["USA_AND_CANADA", "MARS"]);
        doc["representative_2"]["phone_number"] = "415-555-0102".into();
        doc["address"]["street"] = "P.O. Box 77123".into();
        doc["address"]["emergency_enabled"] = "maybe".into();
        doc["colour"] = "blue".into();
        doc["representative_1"]["first_name"] = serde_json::json!(["Ada", "Augusta"]);
        doc["primary_profile_sid"] = "XX0123".into();
        let problems = build(&Record::from_document(&doc), &Defaults::default()).unwrap_err();
        let fields: Vec<&str> = problems.iter().map(|p| p.field.as_str()).collect();
        for expected in [
            "colour",
            "representative_1.first_name",
            "primary_profile_sid",
            "email",
            "business_information.business_industry",
            "business_information.business_regions_of_operation[1]",
            "representative_2.phone_number",
            "address.street",
            "address.emergency_enabled",
        ] {
            assert!(fields.contains(&expected), "{expected} not in {fields:?}");
        }
        let text: String = problems.iter().map(|p| format!("{p}\n")).collect();
        for pii in ["compliance.example.com", "415-555-0102", "77123", "maybe"] {
            assert!(!text.contains(pii), "{pii} leaked: {text}");
        }
        // Enum values are not personal data: the suggestion helps.
        assert!(text.contains("did you mean \"TECHNOLOGY\"?"), "{text}");
    }

    #[test]
    fn unlisted_values_are_sent_deliberately() {
        let mut doc = good();
        doc["business_information"]["business_regions_of_operation"] = "unlisted:CANADA".into();
        let customer = build(&Record::from_document(&doc), &Defaults::default()).unwrap();
        assert_eq!(
            customer.business.business_regions_of_operation.to_wire(),
            "CANADA"
        );
    }

    #[test]
    fn the_primary_profile_can_come_from_the_command_line() {
        let mut doc = good();
        doc.as_object_mut().unwrap().remove("primary_profile_sid");
        let problems = build(&Record::from_document(&doc), &Defaults::default()).unwrap_err();
        assert_eq!(problems[0].field, "primary_profile_sid");
        let defaults = Defaults {
            primary_profile: Some("BU0123456789abcdef0123456789abcdef".parse().unwrap()),
        };
        assert!(build(&Record::from_document(&doc), &defaults).is_ok());
    }

    #[test]
    fn other_needs_its_name_and_address_sid_excludes_the_address() {
        let mut doc = good();
        doc["business_information"]["business_registration_identifier"] = "Other".into();
        doc["address_sid"] = "AD0123456789abcdef0123456789abcdef".into();
        let problems = build(&Record::from_document(&doc), &Defaults::default()).unwrap_err();
        let fields: Vec<&str> = problems.iter().map(|p| p.field.as_str()).collect();
        assert!(fields.contains(&"address_sid"), "{fields:?}");
        assert!(
            fields.contains(&"business_information.business_registration_identifier"),
            "{fields:?}"
        );
        doc["business_information"]["business_registration_identifier_other"] =
            "State license".into();
        doc.as_object_mut().unwrap().remove("address");
        let customer = build(&Record::from_document(&doc), &Defaults::default()).unwrap();
        assert_eq!(
            customer
                .business
                .business_registration_identifier
                .other_type_name(),
            Some("State license")
        );
    }

    #[test]
    fn csv_headers_are_checked_and_cells_split() {
        let header: Vec<String> = ["friendly_name", "emial"].map(String::from).to_vec();
        let error = check_csv_header(&header).unwrap_err().to_string();
        assert!(error.contains("`emial`"), "{error}");
        let record = Record::from_cells([
            (
                "phone_number_sids",
                "PN0123456789abcdef0123456789abcdef, PN0123456789abcdef0123456789abcdee",
            ),
            ("email", "  "),
        ]);
        assert_eq!(record.list("phone_number_sids").len(), 2);
        assert_eq!(record.text("email"), None);
    }

    #[test]
    fn a_record_as_a_document_reads_back_the_same() {
        // As a CSV row: flat keys, lists as one cell.
        let flat = Record::from_document(&a2p());
        let cells: Vec<(String, String)> = flat
            .values
            .iter()
            .map(|(k, v)| match v {
                RawValue::Text(t) => (k.clone(), t.clone()),
                RawValue::List(items) => (k.clone(), items.join(",")),
            })
            .collect();
        let row = Record::from_cells(cells.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        let document = row.to_document();
        assert!(document["business_information"].is_object(), "{document}");
        let back = Record::from_document(&document);
        assert!(back.problems.is_empty(), "{:?}", back.problems);
        assert_eq!(back.values, row.values);
        // The same row is the same bytes (the job store's idempotency compares them).
        assert_eq!(
            serde_json::to_vec(&document).unwrap(),
            serde_json::to_vec(&back.to_document()).unwrap()
        );
        let defaults = Defaults::default();
        let (a, b) = (
            build(&row, &defaults).unwrap(),
            build(&back, &defaults).unwrap(),
        );
        assert!(a.key == b.key && a.journey.is_some() && b.journey.is_some());
        assert_eq!(a.key.text(), b.key.text());
    }

    fn a2p() -> Json {
        let mut doc = good();
        doc["a2p"] = serde_json::json!({"company_type": "private"});
        doc["brand"] = serde_json::json!({"type": "LOW_VOLUME_STANDARD", "mock": "true"});
        doc["messaging_service"] = serde_json::json!({"friendly_name": "Acme notifications"});
        doc["campaign"] = serde_json::json!({
            "use_case": "LOW_VOLUME",
            "description": "Appointment reminders and one-time codes for Acme's customers.",
            "message_flow": "Customers give their number on the sign-up form and tick a box.",
            // A string is split at `|`: the messages keep their commas.
            "message_samples": "Acme: your visit is tomorrow, 10am.|Acme: code 123456, valid 10 min.",
            "opt_out_keywords": "STOP, QUIT",
            "opt_out_message": "You are unsubscribed from Acme messages.",
        });
        doc
    }

    #[test]
    fn a_customer_without_a2p_keys_has_no_journey() {
        let record = Record::from_document(&good());
        assert!(!record.is_a2p());
        assert!(build(&record, &Defaults::default())
            .unwrap()
            .journey
            .is_none());
    }

    #[test]
    fn a2p_keys_build_the_journey() {
        let record = Record::from_document(&a2p());
        assert!(record.is_a2p());
        let customer = build(&record, &Defaults::default()).unwrap();
        let journey = customer.journey.expect("an A2P customer");
        let campaign = journey.campaign();
        assert_eq!(
            campaign.message_samples,
            [
                "Acme: your visit is tomorrow, 10am.",
                "Acme: code 123456, valid 10 min."
            ]
        );
        assert_eq!(campaign.opt_out_keywords, ["STOP", "QUIT"]);
        assert_eq!(journey.brand().brand_type, BrandType::LowVolumeStandard);
        assert!(journey.brand().mock);
        assert!(journey.brand().skips_secondary_vetting());
        // Arrays work as well.
        let mut doc = a2p();
        doc["campaign"]["message_samples"] = serde_json::json!([
            "Acme: your visit is tomorrow, 10am.",
            "Acme: code 123456, valid 10 min.",
            "Acme: see you soon | reply STOP to stop."
        ]);
        let customer = build(&Record::from_document(&doc), &Defaults::default()).unwrap();
        assert_eq!(
            customer.journey.unwrap().campaign().message_samples.len(),
            3
        );
    }

    #[test]
    fn a2p_problems_are_named_by_key_and_never_twice() {
        let mut doc = a2p();
        doc["email"] = "compliance.example.com".into();
        doc["a2p"]["company_type"] = "public".into();
        doc["brand"]["skip_secondary_vetting"] = "false".into();
        doc["messaging_service"]["sid"] = "MG0123456789abcdef0123456789abcdef".into();
        doc["campaign"]["description"] = "Secret words".into();
        doc["campaign"].as_object_mut().unwrap().remove("use_case");
        doc["campaign"]["opt_in_keywords"] = "JOIN".into();
        let problems = build(&Record::from_document(&doc), &Defaults::default()).unwrap_err();
        let fields: Vec<&str> = problems.iter().map(|p| p.field.as_str()).collect();
        for expected in [
            "email",
            "a2p.stock_exchange",
            "a2p.stock_ticker",
            "a2p.brand_contact_email",
            "brand.skip_secondary_vetting",
            "messaging_service.sid",
            "campaign.use_case",
            "campaign.description",
            "campaign.opt_in_message",
        ] {
            assert!(fields.contains(&expected), "{expected} not in {fields:?}");
        }
        // The trust product's email defaults to `email`: its problem is reported once, there.
        assert_eq!(
            fields.iter().filter(|f| **f == "email").count(),
            1,
            "{fields:?}"
        );
        assert!(!fields.contains(&"a2p.trust_product_email"), "{fields:?}");
        let text: String = problems.iter().map(|p| format!("{p}\n")).collect();
        for value in ["compliance.example.com", "Secret words"] {
            assert!(!text.contains(value), "{value} leaked: {text}");
        }
        // A missing service is named by the key to give.
        let mut doc = a2p();
        doc.as_object_mut().unwrap().remove("messaging_service");
        let problems = build(&Record::from_document(&doc), &Defaults::default()).unwrap_err();
        assert_eq!(
            problems[0].field, "messaging_service.friendly_name",
            "{problems:?}"
        );
        assert_eq!(problems.len(), 1, "{problems:?}");
    }

    #[test]
    fn voice_keys_build_the_voice_products() {
        let mut doc = good();
        doc["voice"] = serde_json::json!({"shaken_stir": "true", "cnam_display_name": "Acme Corp"});
        let customer = build(&Record::from_document(&doc), &Defaults::default()).unwrap();
        let voice = customer.voice.expect("a voice customer");
        assert_eq!(
            voice.kinds(),
            [
                trusthub::flow::TrustProductKind::ShakenStir,
                trusthub::flow::TrustProductKind::Cnam
            ]
        );
        assert!(customer.journey.is_none());
        // A lone `false` (a CSV column filled for every row) asks for nothing.
        let mut doc = good();
        doc["voice"] = serde_json::json!({"shaken_stir": "false"});
        let record = Record::from_document(&doc);
        assert!(!record.is_voice());
        assert!(build(&record, &Defaults::default())
            .unwrap()
            .voice
            .is_none());
    }

    #[test]
    fn voice_problems_are_named_by_key_without_their_values() {
        // A CNAM name too long, starting with a digit; a SHAKEN/STIR name too long; the email
        // the products default to is the profile's, its problem reported once.
        let mut doc = good();
        doc["email"] = "compliance.example.com".into();
        doc["voice"] = serde_json::json!({
            "shaken_stir": true,
            "cnam_display_name": "1-800 Quorvane Widgets",
            "shaken_stir_name": "Q".repeat(300),
        });
        let problems = build(&Record::from_document(&doc), &Defaults::default()).unwrap_err();
        let fields: Vec<&str> = problems.iter().map(|p| p.field.as_str()).collect();
        assert_eq!(
            fields,
            ["email", "voice.shaken_stir_name", "voice.cnam_display_name"],
            "{problems:?}"
        );
        let text: String = problems.iter().map(|p| format!("{p}\n")).collect();
        assert!(
            !text.contains("Quorvane") && !text.contains("QQQ"),
            "{text}"
        );
        assert!(
            text.contains("found 22 characters, starting with a digit"),
            "{text}"
        );

        // CNAM for a business registered with VAT: refused by the CNAM column.
        let mut doc = good();
        doc["business_information"]["business_registration_identifier"] = "VAT".into();
        doc["voice"] = serde_json::json!({"cnam_display_name": "Acme Corp"});
        let problems = build(&Record::from_document(&doc), &Defaults::default()).unwrap_err();
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(problems[0].field, "voice.cnam_display_name");
        assert!(
            problems[0].found.ends_with("identifier VAT"),
            "{problems:?}"
        );
        assert!(!problems[0].to_string().contains("Acme"), "{problems:?}");

        // A name without a product; no phone number for the products.
        let mut doc = good();
        doc.as_object_mut().unwrap().remove("phone_number_sids");
        doc["voice"] = serde_json::json!({"cnam_name": "Acme caller name"});
        let problems = build(&Record::from_document(&doc), &Defaults::default()).unwrap_err();
        let fields: Vec<&str> = problems.iter().map(|p| p.field.as_str()).collect();
        assert_eq!(
            fields,
            ["voice.shaken_stir", "phone_number_sids"],
            "{problems:?}"
        );
    }

    #[test]
    fn toml_errors_name_the_place_without_quoting_it() {
        let dir = std::env::temp_dir().join(format!("trusthub-cli-input-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("bad.toml");
        std::fs::write(
            &path,
            "friendly_name = \"Secret Name\"\nemail = \"secret@x.example\n",
        )
        .unwrap();
        let error = read_customer_file(&path).unwrap_err().to_string();
        assert!(error.contains("line 2"), "{error}");
        assert!(!error.contains("secret@x"), "{error}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
