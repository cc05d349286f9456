//! Evaluation of a bundle against a policy: the emulator's own statement of Twilio's rules, written from
//! the seed document. It duplicates the client's validation rules on purpose: an oracle that shares the
//! client's rules passes the client's bugs.
//!
//! One result per requirement, in policy order (end users, supporting document groups, supporting customer
//! profiles), each shaped like the seed's Evaluation example. Error codes:
//!
//! | code  | meaning |
//! |-------|---------|
//! | 22214 | required end user missing from the bundle |
//! | 22215 | required attribute field missing (one `invalid` entry per missing field) |
//! | 22216 | required supporting document missing |
//! | 22217 | attribute value invalid (not a listed value, not a URL, not E.164, a PO box address...) |
//! | 22218 | `phone_number` is a `+1` number outside the North American Numbering Plan; the field's `failure_reason` is Twilio's own "Phone number is invalid." |
//! | 22219 | address missing, or `address_sids` names an address that does not exist in the account |
//! | 22220 | emulator's choice: required supporting customer profile (primary; secondary for A2P) not assigned |
//! | 22221 | emulator's choice: the assigned profile's status is not accepted (twilio-approved for the secondary profile's primary; for A2P, any but draft; for SHAKEN/STIR and CNAM, pending-review, in-review or twilio-approved), it is not an ISV/partner profile (the primary), or, for CNAM, its business registration is neither an EIN nor a DUNS number |
//!
//! Attribute rules: every value is a JSON string; blank counts as missing. `business_identity`,
//! `business_type`, `business_industry` (31 values), `business_registration_identifier` and `job_position`
//! take exactly the seed's listed values; `Other` as registration identifier also needs the
//! [`OTHER_REGISTRATION_TYPE_FIELD`] name. `business_regions_of_operation` is a comma-separated list
//! (spaces around commas ignored) whose every item is a listed region. `website_url` is an http(s) URL or a
//! bare host with a dot (the seed's own example sends `test.com`); `social_media_profile_urls` is optional,
//! empty or a comma-separated list of such URLs. `email` has one `@`, a non-empty local part and a dotted
//! domain. `phone_number` is E.164: `+`, then 7 to 15 digits, the first not 0 (else 22217); a number of
//! country code 1 must also be a North American number (else 22218): exactly 10 digits after `+1`
//! (area code, exchange, line), an area code and an exchange that start with 2 to 9, an area code that is
//! not an N11 service code (211 ... 911) and has no 9 as its second digit. `address_sids` is one
//! `AD` SID, several separated by commas, or a JSON array of them; each must exist in the account and
//! neither its street nor street_secondary may be a PO box ("PO Box", "P.O. Box", "P O Box", "POBox",
//! "Post Office Box", any case, spacing and dots).
//!
//! A2P messaging profile (`us_a2p_messaging_profile_information`): `company_type` is one of `public`,
//! `private`, `non-profit`, `government`; for `public`, `stock_exchange` (one of [`STOCK_EXCHANGES`]),
//! `stock_ticker` and `brand_contact_email` (an email address) are required too, one 22215 entry per
//! missing field. The A2P policy's supporting customer profile is the customer's secondary profile in any
//! status but draft.
//!
//! CNAM information (`cnam_information`): `cnam_display_name` has at most 15 characters, starts with an
//! ASCII letter, holds only ASCII letters, digits, periods, commas and spaces, and is not a generic value
//! (the emulator refuses the 50 US states' names, in any case); else 22217, described without echoing the
//! value. Its Business Profile must say `business_registration_identifier` `EIN` or `DUNS` (22221).
//!
//! Failure messages name the field and the expected form; they echo listed-value fields (enums, regions)
//! and SIDs, never names, emails, phone numbers, registration numbers or addresses.

use serde::Serialize;
use serde_json::{Map, Value};

use crate::catalog::{
    self, AcceptedDocument, DocumentRequirement, EndUserRequirement, Policy, ProfileRequirement,
    OTHER_REGISTRATION_TYPE_FIELD, PUBLIC_COMPANY_FIELDS,
};
use crate::state::{find, Bundle, BundleStatus, EndUser, State, SupportingDocument};
use crate::wire;

/// End user missing.
pub(crate) const CODE_END_USER_MISSING: u32 = 22214;
/// Field missing.
pub(crate) const CODE_FIELD_MISSING: u32 = 22215;
/// Supporting document missing.
pub(crate) const CODE_DOCUMENT_MISSING: u32 = 22216;
/// Field value invalid or mismatched.
pub(crate) const CODE_FIELD_INVALID: u32 = 22217;
/// Phone number invalid: a `+1` number outside the North American Numbering Plan.
pub(crate) const CODE_PHONE_INVALID: u32 = 22218;
/// Twilio's `failure_reason` of a 22218 field, word for word (as its evaluations answer it).
pub(crate) const PHONE_INVALID_REASON: &str = "Phone number is invalid.";
/// Address missing or unknown.
pub(crate) const CODE_ADDRESS: u32 = 22219;
/// Emulator's choice: supporting (primary) customer profile not assigned.
pub(crate) const CODE_PROFILE_MISSING: u32 = 22220;
/// Emulator's choice: supporting (primary) customer profile not twilio-approved or not an ISV profile.
pub(crate) const CODE_PROFILE_NOT_ACCEPTED: u32 = 22221;

/// `business_identity` values.
pub(crate) const BUSINESS_IDENTITIES: &[&str] =
    &["direct_customer", "isv_reseller_or_partner", "unknown"];
/// `business_type` values.
pub(crate) const BUSINESS_TYPES: &[&str] = &[
    "Sole Proprietorship",
    "Partnership",
    "Limited Liability Corporation",
    "Co-operative",
    "Non-profit Corporation",
    "Corporation",
];
/// `business_industry` values (31).
pub(crate) const BUSINESS_INDUSTRIES: &[&str] = &[
    "AUTOMOTIVE",
    "AGRICULTURE",
    "BANKING",
    "CONSUMER",
    "EDUCATION",
    "ENGINEERING",
    "ENERGY",
    "OIL_AND_GAS",
    "FAST_MOVING_CONSUMER_GOODS",
    "FINANCIAL",
    "FINTECH",
    "FOOD_AND_BEVERAGE",
    "GOVERNMENT",
    "HEALTHCARE",
    "HOSPITALITY",
    "INSURANCE",
    "LEGAL",
    "MANUFACTURING",
    "MEDIA",
    "ONLINE",
    "RAW_MATERIALS",
    "REAL_ESTATE",
    "RELIGION",
    "RETAIL",
    "JEWELRY",
    "TECHNOLOGY",
    "TELECOMMUNICATIONS",
    "TRANSPORTATION",
    "TRAVEL",
    "ELECTRONICS",
    "NOT_FOR_PROFIT",
];
/// `business_registration_identifier` values.
pub(crate) const REGISTRATION_IDENTIFIERS: &[&str] = &[
    "EIN", "DUNS", "CCN", "CBN", "CN", "ACN", "CIN", "VAT", "VATRN", "RN", "Other",
];
/// `business_regions_of_operation` values.
pub(crate) const REGIONS: &[&str] = &[
    "AFRICA",
    "ASIA",
    "EUROPE",
    "LATIN_AMERICA",
    "USA_AND_CANADA",
    "AUSTRALIA",
];
/// `job_position` values.
pub(crate) const JOB_POSITIONS: &[&str] = &[
    "Director",
    "GM",
    "VP",
    "CEO",
    "CFO",
    "General Counsel",
    "Other",
];
/// `company_type` values (A2P messaging profile end user).
pub(crate) const COMPANY_TYPES: &[&str] = &["public", "private", "non-profit", "government"];
/// `stock_exchange` values (A2P messaging profile of a `public` company), as Twilio's ISV guide lists them.
pub(crate) const STOCK_EXCHANGES: &[&str] = &[
    "NONE", "NASDAQ", "NYSE", "AMEX", "AMX", "ASX", "B3", "BME", "BSE", "FRA", "ICEX", "JPX",
    "JSE", "KRX", "LON", "NSE", "OMX", "SEHK", "SGX", "SSE", "STO", "SWX", "SZSE", "TSX", "TWSE",
    "VSE", "OTHER",
];

/// One field of a requirement result (`valid` entries carry null reason and code).
#[derive(Clone, Debug, Serialize)]
pub(crate) struct FieldResult {
    pub friendly_name: String,
    pub object_field: String,
    pub failure_reason: Option<String>,
    pub error_code: Option<u32>,
}

/// One requirement's result, shaped like the seed's Evaluation example.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct RequirementResult {
    pub friendly_name: String,
    pub object_type: String,
    pub passed: bool,
    pub failure_reason: Option<String>,
    pub error_code: Option<u32>,
    pub valid: Vec<FieldResult>,
    pub invalid: Vec<FieldResult>,
    pub requirement_friendly_name: String,
    pub requirement_name: String,
}

/// A whole evaluation.
pub(crate) struct Outcome {
    pub compliant: bool,
    pub results: Vec<RequirementResult>,
}

/// Evaluates the objects assigned to `bundle_sid` against `policy`.
pub(crate) fn evaluate(state: &State, bundle_sid: &str, policy: &Policy) -> Outcome {
    let assigned: Vec<&str> = state
        .entity_assignments
        .iter()
        .filter(|a| a.bundle_sid == bundle_sid)
        .map(|a| a.object_sid.as_str())
        .collect();
    let end_users: Vec<&EndUser> = assigned
        .iter()
        .filter_map(|sid| find(&state.end_users, sid))
        .collect();
    let documents: Vec<&SupportingDocument> = assigned
        .iter()
        .filter_map(|sid| find(&state.documents, sid))
        .collect();
    let bundles: Vec<&Bundle> = assigned
        .iter()
        .filter(|sid| **sid != bundle_sid)
        .filter_map(|sid| find(&state.bundles, sid))
        .collect();

    let mut results = Vec::new();
    for requirement in policy.end_users {
        results.push(end_user_result(state, requirement, &end_users));
    }
    for group in policy.documents {
        results.push(document_group_result(state, group, &documents));
    }
    for requirement in policy.profiles {
        results.push(profile_result(state, requirement, &bundles));
    }
    Outcome {
        compliant: results.iter().all(|r| r.passed),
        results,
    }
}

/// Where a requirement of a bundle's policy points: the object type it asks for, the assigned object that
/// meets it (if any), the objects a fix of it may touch (that object, and for a document its addresses) and
/// the fields it has.
pub(crate) struct Located {
    pub object_type: String,
    pub object_sid: Option<String>,
    pub related: Vec<String>,
    pub fields: Vec<&'static str>,
}

/// Locates the requirement named `requirement_name` of `policy` in the bundle; `None` when the policy has
/// no such requirement.
pub(crate) fn locate(
    state: &State,
    bundle_sid: &str,
    policy: &Policy,
    requirement_name: &str,
) -> Option<Located> {
    let assigned: Vec<&str> = state
        .entity_assignments
        .iter()
        .filter(|a| a.bundle_sid == bundle_sid)
        .map(|a| a.object_sid.as_str())
        .collect();
    if let Some(requirement) = policy
        .end_users
        .iter()
        .find(|r| r.requirement_name == requirement_name)
    {
        let user = assigned
            .iter()
            .filter_map(|sid| find(&state.end_users, sid))
            .find(|u| u.end_user_type == requirement.end_user_type);
        let mut fields = requirement.fields.to_vec();
        if fields.contains(&"business_registration_identifier") {
            fields.push(OTHER_REGISTRATION_TYPE_FIELD);
        }
        if fields.contains(&"company_type") {
            fields.extend(PUBLIC_COMPANY_FIELDS);
        }
        return Some(Located {
            object_type: requirement.end_user_type.to_owned(),
            object_sid: user.map(|u| u.sid.clone()),
            related: user.map(|u| vec![u.sid.clone()]).unwrap_or_default(),
            fields,
        });
    }
    for group in policy.documents {
        let Some(requirement) = group
            .iter()
            .find(|r| r.requirement_name == requirement_name)
        else {
            continue;
        };
        let accepted: Vec<&str> = group
            .iter()
            .flat_map(|r| r.accepted.iter().map(|a| a.document_type))
            .collect();
        let document = assigned
            .iter()
            .filter_map(|sid| find(&state.documents, sid))
            .find(|d| accepted.contains(&d.document_type.as_str()));
        let mut related = Vec::new();
        if let Some(document) = document {
            related.push(document.sid.clone());
            let addresses = match document.attributes.get("address_sids") {
                Some(Value::String(s)) => s.split(',').map(|a| a.trim().to_owned()).collect(),
                Some(Value::Array(items)) => items
                    .iter()
                    .filter_map(Value::as_str)
                    .map(|a| a.trim().to_owned())
                    .collect(),
                _ => Vec::new(),
            };
            related.extend(
                addresses
                    .into_iter()
                    .filter(|a| find(&state.addresses, a).is_some()),
            );
        }
        let mut fields: Vec<&'static str> = Vec::new();
        for accepted in requirement.accepted {
            for field in accepted.fields {
                if !fields.contains(field) {
                    fields.push(field);
                }
            }
        }
        return Some(Located {
            object_type: document
                .map(|d| d.document_type.clone())
                .or_else(|| {
                    requirement
                        .accepted
                        .first()
                        .map(|a| a.document_type.to_owned())
                })
                .unwrap_or_else(|| String::from("document")),
            object_sid: document.map(|d| d.sid.clone()),
            related,
            fields,
        });
    }
    if let Some(requirement) = policy
        .profiles
        .iter()
        .find(|r| r.requirement_name == requirement_name)
    {
        let profile = assigned
            .iter()
            .filter(|sid| **sid != bundle_sid)
            .filter_map(|sid| find(&state.bundles, sid))
            .find(|b| {
                requirement
                    .accepted_policies
                    .contains(&b.policy_sid.as_str())
            });
        return Some(Located {
            object_type: requirement.profile_type.to_owned(),
            object_sid: profile.map(|b| b.sid.clone()),
            related: Vec::new(),
            fields: vec!["customer_profile_sid"],
        });
    }
    None
}

/// The `requirement_name`s of a policy, in policy order.
pub(crate) fn requirement_names(policy: &Policy) -> Vec<&'static str> {
    let mut names: Vec<&'static str> = policy
        .end_users
        .iter()
        .map(|r| r.requirement_name)
        .collect();
    for group in policy.documents {
        names.extend(group.iter().map(|r| r.requirement_name));
    }
    names.extend(policy.profiles.iter().map(|r| r.requirement_name));
    names
}

/// "a" or "an" before a display name.
fn article(name: &str) -> &'static str {
    match name.chars().next().map(|c| c.to_ascii_lowercase()) {
        Some('a' | 'e' | 'i' | 'o' | 'u') => "An",
        _ => "A",
    }
}

/// What one attribute check found.
enum Check {
    Valid,
    Missing,
    Invalid {
        code: u32,
        detail: String,
    },
    /// Refused with Twilio's own words as the field's whole `failure_reason`.
    Refused {
        code: u32,
        reason: &'static str,
    },
}

fn invalid(detail: impl Into<String>) -> Check {
    Check::Invalid {
        code: CODE_FIELD_INVALID,
        detail: detail.into(),
    }
}

/// How a field is checked and whether it is required.
enum Rule {
    Text,
    OneOf(&'static [&'static str]),
    Regions,
    WebsiteUrl,
    UrlList,
    Email,
    E164,
    AddressSids,
    CnamDisplayName,
}

fn rule(field: &str) -> (Rule, bool) {
    match field {
        "business_type" => (Rule::OneOf(BUSINESS_TYPES), true),
        "business_identity" => (Rule::OneOf(BUSINESS_IDENTITIES), true),
        "business_industry" => (Rule::OneOf(BUSINESS_INDUSTRIES), true),
        "business_registration_identifier" => (Rule::OneOf(REGISTRATION_IDENTIFIERS), true),
        "business_regions_of_operation" => (Rule::Regions, true),
        "website_url" => (Rule::WebsiteUrl, true),
        "social_media_profile_urls" => (Rule::UrlList, false),
        "email" => (Rule::Email, true),
        "phone_number" => (Rule::E164, true),
        "job_position" => (Rule::OneOf(JOB_POSITIONS), true),
        "company_type" => (Rule::OneOf(COMPANY_TYPES), true),
        "stock_exchange" => (Rule::OneOf(STOCK_EXCHANGES), true),
        "brand_contact_email" => (Rule::Email, true),
        "address_sids" => (Rule::AddressSids, true),
        "cnam_display_name" => (Rule::CnamDisplayName, true),
        _ => (Rule::Text, true),
    }
}

/// The attribute as a string: `Ok(None)` when absent or blank, `Err` when not a JSON string.
fn string_attribute<'a>(
    attributes: &'a Map<String, Value>,
    field: &str,
) -> Result<Option<&'a str>, ()> {
    match attributes.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(()),
    }
}

fn check_field(state: &State, attributes: &Map<String, Value>, field: &str) -> Check {
    let (rule, required) = rule(field);
    if let Rule::AddressSids = rule {
        return check_address_sids(state, attributes.get(field));
    }
    let value = match string_attribute(attributes, field) {
        Err(()) => return invalid("the value must be a JSON string"),
        Ok(None) => {
            return if required {
                Check::Missing
            } else {
                Check::Valid
            };
        }
        Ok(Some(v)) => v,
    };
    match rule {
        Rule::Text | Rule::AddressSids => Check::Valid,
        Rule::OneOf(allowed) => {
            if allowed.contains(&value) {
                Check::Valid
            } else {
                invalid(format!(
                    "'{}' is not one of: {}",
                    wire::shorten(value, 40),
                    allowed.join(", ")
                ))
            }
        }
        Rule::Regions => check_regions(value),
        Rule::WebsiteUrl => match url_problem(value) {
            None => Check::Valid,
            Some(problem) => invalid(format!(
                "'{}' is not a website URL ({problem})",
                wire::shorten(value, 80)
            )),
        },
        Rule::UrlList => {
            for (i, item) in value.split(',').map(str::trim).enumerate() {
                if let Some(problem) = url_problem(item) {
                    return invalid(format!(
                        "item {} of the comma-separated list is not a URL ({problem}; {})",
                        i + 1,
                        wire::describe_text(item)
                    ));
                }
            }
            Check::Valid
        }
        Rule::Email => match email_problem(value) {
            None => Check::Valid,
            Some(problem) => invalid(format!(
                "expected an email address like name@example.com, received {}, {problem}",
                wire::describe_text(value)
            )),
        },
        Rule::E164 => match e164_problem(value) {
            None if outside_north_american_plan(value) => Check::Refused {
                code: CODE_PHONE_INVALID,
                reason: PHONE_INVALID_REASON,
            },
            None => Check::Valid,
            Some(problem) => invalid(format!(
                "expected an E.164 number like +14155550102, received a value that {problem}"
            )),
        },
        Rule::CnamDisplayName => match cnam_problem(value) {
            None => Check::Valid,
            Some(problem) => invalid(format!(
                "expected at most 15 letters, digits, periods, commas and spaces starting with a letter, received a value that {problem}"
            )),
        },
    }
}

/// The 50 US states: generic values a CNAM display name cannot be.
const US_STATES: &[&str] = &[
    "Alabama",
    "Alaska",
    "Arizona",
    "Arkansas",
    "California",
    "Colorado",
    "Connecticut",
    "Delaware",
    "Florida",
    "Georgia",
    "Hawaii",
    "Idaho",
    "Illinois",
    "Indiana",
    "Iowa",
    "Kansas",
    "Kentucky",
    "Louisiana",
    "Maine",
    "Maryland",
    "Massachusetts",
    "Michigan",
    "Minnesota",
    "Mississippi",
    "Missouri",
    "Montana",
    "Nebraska",
    "Nevada",
    "New Hampshire",
    "New Jersey",
    "New Mexico",
    "New York",
    "North Carolina",
    "North Dakota",
    "Ohio",
    "Oklahoma",
    "Oregon",
    "Pennsylvania",
    "Rhode Island",
    "South Carolina",
    "South Dakota",
    "Tennessee",
    "Texas",
    "Utah",
    "Vermont",
    "Virginia",
    "Washington",
    "West Virginia",
    "Wisconsin",
    "Wyoming",
];

/// Why `value` is not a CNAM display name, if it is not (described without echoing it).
pub(crate) fn cnam_problem(value: &str) -> Option<String> {
    let length = value.chars().count();
    if length > 15 {
        return Some(format!("has {length} characters"));
    }
    if !value
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic())
    {
        return Some(String::from("does not start with a letter"));
    }
    if let Some(pos) = value
        .chars()
        .position(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | ',' | ' ')))
    {
        return Some(format!(
            "has a character other than a letter, digit, period, comma or space at position {}",
            pos + 1
        ));
    }
    let normalized = value.split_whitespace().collect::<Vec<_>>().join(" ");
    if US_STATES
        .iter()
        .any(|state| state.eq_ignore_ascii_case(&normalized))
    {
        return Some(String::from(
            "is a generic value (a US state's name), not a business's name",
        ));
    }
    None
}

fn check_regions(value: &str) -> Check {
    let items: Vec<&str> = value.split(',').map(str::trim).collect();
    if items.iter().any(|i| i.is_empty()) {
        return invalid(format!(
            "expected a comma-separated list of: {}; the list has an empty item",
            REGIONS.join(", ")
        ));
    }
    let unlisted: Vec<String> = items
        .iter()
        .filter(|i| !REGIONS.contains(i))
        .map(|i| format!("'{}'", wire::shorten(i, 40)))
        .collect();
    if unlisted.is_empty() {
        Check::Valid
    } else {
        invalid(format!(
            "{} not among the listed regions: {}",
            unlisted.join(", "),
            REGIONS.join(", ")
        ))
    }
}

/// Why `value` is not an http(s) URL or bare host with a dot, if it is not.
pub(crate) fn url_problem(value: &str) -> Option<&'static str> {
    if value.chars().any(char::is_whitespace) {
        return Some("contains whitespace");
    }
    let with_scheme = if value.contains("://") {
        value.to_owned()
    } else {
        format!("https://{value}")
    };
    let Ok(url) = reqwest::Url::parse(&with_scheme) else {
        return Some("does not parse as a URL");
    };
    if !matches!(url.scheme(), "http" | "https") {
        return Some("the scheme is not http or https");
    }
    match url.host_str() {
        Some(host) if host.contains('.') && !host.starts_with('.') && !host.ends_with('.') => None,
        Some(_) => Some("the host has no dot"),
        None => Some("there is no host"),
    }
}

/// Why `value` is not an email address, if it is not (described without echoing it).
pub(crate) fn email_problem(value: &str) -> Option<&'static str> {
    if value.chars().any(char::is_whitespace) {
        return Some("contains whitespace");
    }
    let mut parts = value.split('@');
    let (Some(local), Some(domain), None) = (parts.next(), parts.next(), parts.next()) else {
        return Some(if value.contains('@') {
            "more than one '@'"
        } else {
            "no '@'"
        });
    };
    if local.is_empty() {
        return Some("nothing before the '@'");
    }
    if !domain.contains('.') || domain.starts_with('.') || domain.ends_with('.') {
        return Some("the domain after '@' has no inner '.'");
    }
    None
}

/// Why `value` is not E.164, if it is not (described without echoing it).
pub(crate) fn e164_problem(value: &str) -> Option<String> {
    let Some(digits) = value.strip_prefix('+') else {
        return Some(String::from("does not start with '+'"));
    };
    if let Some(pos) = digits.chars().position(|c| !c.is_ascii_digit()) {
        return Some(format!(
            "has a non-digit at position {} after the '+'",
            pos + 1
        ));
    }
    if digits.starts_with('0') {
        return Some(String::from("starts with 0 after the '+'"));
    }
    if !(7..=15).contains(&digits.len()) {
        return Some(format!("has {} digits (expected 7 to 15)", digits.len()));
    }
    None
}

/// Whether an E.164 number of country code 1 breaks the North American Numbering Plan (NPA-NXX-XXXX):
/// not 10 digits after `+1`, an area code (NPA) or exchange (NXX) starting with 0 or 1, an N11 area code
/// (a service code such as 911) or one with 9 as its middle digit (kept for expanding the plan). Numbers of
/// other country codes are not concerned.
pub(crate) fn outside_north_american_plan(value: &str) -> bool {
    let Some(national) = value.strip_prefix("+1") else {
        return false;
    };
    let digits: Vec<u8> = national.bytes().map(|b| b.wrapping_sub(b'0')).collect();
    if digits.len() != 10 || digits.iter().any(|d| *d > 9) {
        return true;
    }
    let (npa, nxx) = (&digits[0..3], &digits[3..6]);
    npa[0] < 2 || npa[1..] == [1, 1] || npa[1] == 9 || nxx[0] < 2
}

/// Whether a street line is a PO box: the word sequences PO BOX, P O BOX, POBOX or POST OFFICE BOX, in any
/// case, with any spacing, dots, dashes or commas between the parts. "Polo Box Ave" and "Boxwood Rd" pass.
pub(crate) fn is_po_box(line: &str) -> bool {
    let words: Vec<String> = line
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect();
    let patterns: [&[&str]; 4] = [
        &["po", "box"],
        &["p", "o", "box"],
        &["pobox"],
        &["post", "office", "box"],
    ];
    patterns.iter().any(|pattern| {
        words
            .windows(pattern.len())
            .any(|window| window.iter().zip(pattern.iter()).all(|(w, p)| w == p))
    })
}

fn check_address_sids(state: &State, value: Option<&Value>) -> Check {
    let sids: Vec<String> = match value {
        None | Some(Value::Null) => return Check::Missing,
        Some(Value::String(s)) => s
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
        Some(Value::Array(items)) => {
            let mut sids = Vec::new();
            for item in items {
                match item {
                    Value::String(s) if !s.trim().is_empty() => sids.push(s.trim().to_owned()),
                    _ => return invalid("every item of the list must be an Address SID string"),
                }
            }
            sids
        }
        Some(_) => {
            return invalid("expected an Address SID (AD...) or a comma-separated list of them");
        }
    };
    if sids.is_empty() {
        return Check::Missing;
    }
    for sid in &sids {
        if !crate::sid::has_prefix_shape(sid, "AD") {
            return Check::Invalid {
                code: CODE_ADDRESS,
                detail: format!(
                    "expected Address SIDs matching ^AD[0-9a-fA-F]{{32}}$, received {}",
                    crate::sid::describe(sid)
                ),
            };
        }
        let Some(address) = find(&state.addresses, sid) else {
            return Check::Invalid {
                code: CODE_ADDRESS,
                detail: format!("the Address {sid} does not exist in this account"),
            };
        };
        let secondary = address.street_secondary.as_deref().unwrap_or("");
        if is_po_box(&address.street) || is_po_box(secondary) {
            return invalid(format!(
                "the Address {sid} is a PO Box (street or street_secondary); PO Boxes are not accepted for a physical business address"
            ));
        }
    }
    Check::Valid
}

fn field_result(
    field: &str,
    check: &Check,
    holder: &str,
    missing_code: u32,
) -> (bool, FieldResult) {
    let friendly = catalog::field_name(field).to_owned();
    let (reason, code) = match check {
        Check::Valid => {
            return (
                true,
                FieldResult {
                    friendly_name: friendly,
                    object_field: field.to_owned(),
                    failure_reason: None,
                    error_code: None,
                },
            );
        }
        Check::Missing if field == "address_sids" => (
            format!("The Address is missing. Please enter in the address shown on the {holder}."),
            CODE_ADDRESS,
        ),
        Check::Missing => (
            format!("The {friendly} is missing. Please enter in a {friendly} on the {holder}."),
            missing_code,
        ),
        Check::Invalid { code, detail } => (
            format!(
                "The {friendly} is invalid: {detail}. Please correct the {friendly} on the {holder}."
            ),
            *code,
        ),
        Check::Refused { code, reason } => ((*reason).to_owned(), *code),
    };
    (
        false,
        FieldResult {
            friendly_name: friendly,
            object_field: field.to_owned(),
            failure_reason: Some(reason),
            error_code: Some(code),
        },
    )
}

/// The fields checked for one object: the requirement's list, plus the Other registration type's name
/// when `business_registration_identifier` is `Other`, plus the stock and contact fields when
/// `company_type` is `public`.
fn fields_to_check(fields: &[&'static str], attributes: &Map<String, Value>) -> Vec<&'static str> {
    let mut list = fields.to_vec();
    let other = attributes.get("business_registration_identifier") == Some(&Value::from("Other"));
    if other && fields.contains(&"business_registration_identifier") {
        list.push(OTHER_REGISTRATION_TYPE_FIELD);
    }
    let public = attributes.get("company_type") == Some(&Value::from("public"));
    if public && fields.contains(&"company_type") {
        list.extend(PUBLIC_COMPANY_FIELDS);
    }
    list
}

fn summarize(passed: bool, invalid: &[FieldResult], holder: &str) -> (Option<String>, Option<u32>) {
    if passed {
        return (None, None);
    }
    let names: Vec<&str> = invalid.iter().map(|f| f.object_field.as_str()).collect();
    let code = if invalid
        .iter()
        .any(|f| f.error_code == Some(CODE_FIELD_MISSING))
    {
        CODE_FIELD_MISSING
    } else {
        invalid
            .first()
            .and_then(|f| f.error_code)
            .unwrap_or(CODE_FIELD_INVALID)
    };
    (
        Some(format!(
            "The {holder} has {} missing or invalid field(s): {}.",
            names.len(),
            names.join(", ")
        )),
        Some(code),
    )
}

fn end_user_result(
    state: &State,
    requirement: &EndUserRequirement,
    end_users: &[&EndUser],
) -> RequirementResult {
    let name = requirement.name;
    let candidate = end_users
        .iter()
        .find(|u| u.end_user_type == requirement.end_user_type);
    let mut result = RequirementResult {
        friendly_name: name.to_owned(),
        object_type: requirement.end_user_type.to_owned(),
        passed: false,
        failure_reason: None,
        error_code: None,
        valid: Vec::new(),
        invalid: Vec::new(),
        requirement_friendly_name: name.to_owned(),
        requirement_name: requirement.requirement_name.to_owned(),
    };
    match candidate {
        None => {
            for field in requirement.fields {
                if rule(field).1 {
                    let (_, entry) = field_result(field, &Check::Missing, name, CODE_FIELD_MISSING);
                    result.invalid.push(entry);
                }
            }
            result.failure_reason = Some(format!(
                "{} {name} End-User is missing. Please add one to the regulatory bundle.",
                article(name)
            ));
            result.error_code = Some(CODE_END_USER_MISSING);
        }
        Some(user) => {
            for field in fields_to_check(requirement.fields, &user.attributes) {
                let check = check_field(state, &user.attributes, field);
                let (ok, entry) = field_result(field, &check, name, CODE_FIELD_MISSING);
                if ok {
                    result.valid.push(entry);
                } else {
                    result.invalid.push(entry);
                }
            }
            result.passed = result.invalid.is_empty();
            let (reason, code) =
                summarize(result.passed, &result.invalid, &format!("{name} End-User"));
            result.failure_reason = reason;
            result.error_code = code;
        }
    }
    result
}

fn document_result(
    state: &State,
    requirement: &DocumentRequirement,
    accepted: &AcceptedDocument,
    document: &SupportingDocument,
) -> RequirementResult {
    let mut result = RequirementResult {
        friendly_name: requirement.name.to_owned(),
        object_type: accepted.document_type.to_owned(),
        passed: false,
        failure_reason: None,
        error_code: None,
        valid: Vec::new(),
        invalid: Vec::new(),
        requirement_friendly_name: requirement.name.to_owned(),
        requirement_name: requirement.requirement_name.to_owned(),
    };
    for field in fields_to_check(accepted.fields, &document.attributes) {
        let check = check_field(state, &document.attributes, field);
        let (ok, entry) = field_result(field, &check, requirement.name, CODE_FIELD_MISSING);
        if ok {
            result.valid.push(entry);
        } else {
            result.invalid.push(entry);
        }
    }
    result.passed = result.invalid.is_empty();
    let (reason, code) = summarize(result.passed, &result.invalid, requirement.name);
    result.failure_reason = reason;
    result.error_code = code;
    result
}

fn missing_document_result(requirement: &DocumentRequirement) -> RequirementResult {
    let accepted = requirement.accepted.first();
    let mut invalid = Vec::new();
    for field in accepted.map(|a| a.fields).unwrap_or(&[]) {
        let (_, entry) = field_result(field, &Check::Missing, requirement.name, CODE_FIELD_MISSING);
        invalid.push(entry);
    }
    RequirementResult {
        friendly_name: requirement.name.to_owned(),
        object_type: accepted
            .map(|a| a.document_type)
            .unwrap_or("document")
            .to_owned(),
        passed: false,
        failure_reason: Some(format!(
            "{} {} is missing. Please add one to the regulatory bundle.",
            article(requirement.name),
            requirement.name
        )),
        error_code: Some(CODE_DOCUMENT_MISSING),
        valid: Vec::new(),
        invalid,
        requirement_friendly_name: requirement.name.to_owned(),
        requirement_name: requirement.requirement_name.to_owned(),
    }
}

/// A group passes when any of its requirements is met by an assigned document of an accepted type; a
/// failing group reports the first assigned candidate's problems, or the first requirement as missing.
fn document_group_result(
    state: &State,
    group: &[DocumentRequirement],
    documents: &[&SupportingDocument],
) -> RequirementResult {
    let mut first_failure: Option<RequirementResult> = None;
    for requirement in group {
        for accepted in requirement.accepted {
            for document in documents
                .iter()
                .filter(|d| d.document_type == accepted.document_type)
            {
                let result = document_result(state, requirement, accepted, document);
                if result.passed {
                    return result;
                }
                first_failure.get_or_insert(result);
            }
        }
    }
    first_failure.unwrap_or_else(|| match group.first() {
        Some(requirement) => missing_document_result(requirement),
        None => RequirementResult {
            friendly_name: String::from("Supporting Document"),
            object_type: String::from("document"),
            passed: true,
            failure_reason: None,
            error_code: None,
            valid: Vec::new(),
            invalid: Vec::new(),
            requirement_friendly_name: String::from("Supporting Document"),
            requirement_name: String::from("supporting_document"),
        },
    })
}

/// The business information end users assigned to a profile.
fn business_information<'a>(
    state: &'a State,
    bundle_sid: &'a str,
) -> impl Iterator<Item = &'a EndUser> {
    state
        .entity_assignments
        .iter()
        .filter(move |a| a.bundle_sid == bundle_sid)
        .filter_map(|a| find(&state.end_users, &a.object_sid))
        .filter(|u| u.end_user_type == catalog::BUSINESS_INFORMATION_TYPE)
}

/// Whether a profile's business information says it is an ISV / reseller / partner.
fn is_isv(state: &State, bundle_sid: &str) -> bool {
    business_information(state, bundle_sid).any(|u| {
        u.attributes.get("business_identity") == Some(&Value::from("isv_reseller_or_partner"))
    })
}

/// Whether a profile's business information gives one of these registration identifiers.
fn registered_as(state: &State, bundle_sid: &str, identifiers: &[&str]) -> bool {
    business_information(state, bundle_sid).any(|u| {
        u.attributes
            .get("business_registration_identifier")
            .and_then(Value::as_str)
            .is_some_and(|id| identifiers.contains(&id))
    })
}

fn profile_result(
    state: &State,
    requirement: &ProfileRequirement,
    bundles: &[&Bundle],
) -> RequirementResult {
    let name = requirement.name;
    let entry = |reason: Option<String>, code: Option<u32>| FieldResult {
        friendly_name: String::from("Customer Profile SID"),
        object_field: String::from("customer_profile_sid"),
        failure_reason: reason,
        error_code: code,
    };
    let mut result = RequirementResult {
        friendly_name: name.to_owned(),
        object_type: requirement.profile_type.to_owned(),
        passed: false,
        failure_reason: None,
        error_code: None,
        valid: Vec::new(),
        invalid: Vec::new(),
        requirement_friendly_name: name.to_owned(),
        requirement_name: requirement.requirement_name.to_owned(),
    };
    let candidates: Vec<&&Bundle> = bundles
        .iter()
        .filter(|b| {
            requirement
                .accepted_policies
                .contains(&b.policy_sid.as_str())
        })
        .collect();
    let problem = |bundle: &Bundle| -> Option<String> {
        if !requirement.accepted_statuses.contains(&bundle.status) {
            Some(
                if requirement.accepted_statuses == [BundleStatus::TwilioApproved] {
                    format!(
                    "The {name} {} is {}; only a twilio-approved profile can support this bundle.",
                    bundle.sid,
                    bundle.status.as_str()
                )
                } else {
                    let accepted: Vec<&str> = requirement
                        .accepted_statuses
                        .iter()
                        .map(|s| s.as_str())
                        .collect();
                    format!(
                    "The {name} {} is {}; only a profile that is {} can support this bundle (submit it for review first).",
                    bundle.sid,
                    bundle.status.as_str(),
                    accepted.join(", ")
                )
                },
            )
        } else if requirement.require_isv && !is_isv(state, &bundle.sid) {
            Some(format!(
                "The {name} {} is not an ISV/reseller/partner profile: its business information must have business_identity isv_reseller_or_partner.",
                bundle.sid
            ))
        } else if !requirement.registration_identifiers.is_empty()
            && !registered_as(state, &bundle.sid, requirement.registration_identifiers)
        {
            Some(format!(
                "The {name} {} is not registered with an accepted authority: its business information must have business_registration_identifier {}.",
                bundle.sid,
                requirement.registration_identifiers.join(" or ")
            ))
        } else {
            None
        }
    };
    if candidates.is_empty() {
        let reason = format!(
            "{} {name} is missing. {}",
            article(name),
            requirement.missing_hint
        );
        result
            .invalid
            .push(entry(Some(reason.clone()), Some(CODE_PROFILE_MISSING)));
        result.failure_reason = Some(reason);
        result.error_code = Some(CODE_PROFILE_MISSING);
        return result;
    }
    if candidates.iter().any(|b| problem(b).is_none()) {
        result.passed = true;
        result.valid.push(entry(None, None));
        return result;
    }
    let reason = problem(candidates[0]).unwrap_or_default();
    result
        .invalid
        .push(entry(Some(reason.clone()), Some(CODE_PROFILE_NOT_ACCEPTED)));
    result.failure_reason = Some(reason);
    result.error_code = Some(CODE_PROFILE_NOT_ACCEPTED);
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn po_boxes_are_recognized_in_their_spellings() {
        for yes in [
            "PO Box 12",
            "P.O. Box 12",
            "p o box 12",
            "POBox 5",
            "Post Office Box 9",
            "post  office   BOX",
            "Suite 4, P.O.Box 77",
            "PO-Box 3",
        ] {
            assert!(is_po_box(yes), "{yes}");
        }
        for no in [
            "555 AnyStreet",
            "Polo Box Ave",
            "Boxwood Rd",
            "Tempo Boxing Club",
            "Apt B",
            "Post Road",
        ] {
            assert!(!is_po_box(no), "{no}");
        }
    }

    #[test]
    fn e164_and_email_problems_are_described() {
        assert!(e164_problem("+14155550102").is_none());
        // E.164-shaped: the North American rule (22218) is checked apart.
        assert!(e164_problem("+11234567890").is_none());
        assert_eq!(
            e164_problem("11234567890").unwrap(),
            "does not start with '+'"
        );
        assert!(e164_problem("+1 123").unwrap().contains("non-digit"));
        assert!(e164_problem("+0123456789")
            .unwrap()
            .contains("starts with 0"));
        assert!(e164_problem("+1234567890123456")
            .unwrap()
            .contains("16 digits"));
        assert!(email_problem("rep1@acme.com").is_none());
        assert_eq!(email_problem("rep1acme.com"), Some("no '@'"));
        assert_eq!(email_problem("a@b@c.com"), Some("more than one '@'"));
        assert!(email_problem("rep@acme").is_some());
    }

    #[test]
    fn north_american_numbers_follow_the_plan() {
        for ok in [
            "+14155550102",
            "+12025550123",
            "+18005550100",
            "+15555550001",
            "+447700900123",
            "+33612345678",
        ] {
            assert!(!outside_north_american_plan(ok), "{ok}");
        }
        for bad in [
            "+11234567890",  // area code starting with 1
            "+10234567890",  // area code starting with 0
            "+14151234567",  // exchange starting with 1
            "+14150234567",  // exchange starting with 0
            "+14115550102",  // N11 area code
            "+19115550102",  // N11 area code
            "+12955550102",  // 9 as the area code's middle digit
            "+1415555010",   // 9 digits
            "+141555501023", // 11 digits
        ] {
            assert!(outside_north_american_plan(bad), "{bad}");
        }
    }

    #[test]
    fn urls_accept_the_seed_bare_host() {
        assert!(url_problem("test.com").is_none());
        assert!(url_problem("https://acme.example.com/about").is_none());
        assert!(url_problem("ftp://acme.example.com").is_some());
        assert!(url_problem("localhost").is_some());
        assert!(url_problem("acme .com").is_some());
    }

    #[test]
    fn regions_are_each_listed() {
        assert!(matches!(check_regions("USA_AND_CANADA"), Check::Valid));
        assert!(matches!(
            check_regions("USA_AND_CANADA, EUROPE"),
            Check::Valid
        ));
        match check_regions("USA_AND_CANADA,CANADA") {
            Check::Invalid { detail, .. } => assert!(detail.contains("'CANADA'")),
            _ => panic!("CANADA is not listed"),
        }
        assert!(matches!(check_regions("EUROPE,"), Check::Invalid { .. }));
    }

    #[test]
    fn cnam_display_names_follow_twilio_conditions() {
        for ok in ["Acme Barns, LLC", "J.R. Sheds 2", "ABCDEFGHIJKLMNO", "A"] {
            assert!(cnam_problem(ok).is_none(), "{ok}");
        }
        assert!(cnam_problem("ABCDEFGHIJKLMNOP")
            .unwrap()
            .contains("16 characters"));
        assert!(cnam_problem("1 Barns")
            .unwrap()
            .contains("start with a letter"));
        assert!(cnam_problem("").unwrap().contains("start with a letter"));
        assert!(cnam_problem("Barns & Co").unwrap().contains("position 7"));
        assert!(cnam_problem("new  york").unwrap().contains("generic"));
        assert!(cnam_problem("Café").is_some(), "ASCII letters only");
    }

    #[test]
    fn the_industry_list_has_31_values() {
        assert_eq!(BUSINESS_INDUSTRIES.len(), 31);
    }
}
