//! What Twilio publishes and the emulator serves read-only: policies (regulations) with their
//! requirements, EndUserTypes, SupportingDocumentTypes and the attribute fields they carry.
//!
//! The Secondary Customer Profile policy has exactly the requirements of the seed document's Policies
//! example (business information with 9 fields, two authorized representatives with 6 fields each, one
//! physical business address document), plus one thing the seed's example lists as `[]`:
//! `supporting_customer_profiles` holds one requirement, `primary_customer_profile` (type
//! `primary_customer_profile_type_business`, shaped like the ISV Starter policy example in Twilio's spec).
//! The seed's prerequisites say the secondary profile is only compliant with the account's twilio-approved
//! primary profile assigned (`ObjectSid` = primary profile SID), so the emulator models that rule as a
//! requirement, evaluated like the others.
//!
//! The A2P messaging trust product policy follows Twilio's ISV A2P 10DLC guide: one
//! `us_a2p_messaging_profile_information` end user whose required field is `company_type` (`public`,
//! `private`, `non-profit` or `government`); a `public` company also needs `stock_exchange`, `stock_ticker`
//! and `brand_contact_email` (checked by the evaluation, see [`crate::evaluation`]); and, as its
//! `supporting_customer_profiles` requirement, the customer's secondary customer profile assigned as an
//! entity, in any status but draft.
//!
//! The voice trust products follow Twilio's SHAKEN/STIR onboarding guides (Trust Hub REST API, ISVs) and its
//! CNAM guide ("Brand your calls using CNAM"):
//!
//! - SHAKEN/STIR ([`SHAKEN_STIR`]): no end user and no document; the Business Profile assigned as an entity
//!   (the customer's secondary customer profile, or a direct customer's primary one), submitted
//!   (`pending-review`, `in-review` or `twilio-approved`);
//! - CNAM ([`CNAM`]): one `cnam_information` end user with `cnam_display_name` (at most 15 characters,
//!   starting with a letter, only letters, digits, periods, commas and spaces, not a generic value such as a
//!   US state's name) and the Business Profile as for SHAKEN/STIR, whose business information must give an
//!   EIN or a DUNS number as `business_registration_identifier` (Twilio: "Your Business Profile must be
//!   associated with an EIN or DUNS").
//!
//! For both, phone numbers are channel endpoint assignments of the trust product, and only numbers already
//! assigned to the trust product's Business Profile are eligible (the assignment is refused otherwise, see
//! the Trust Hub routes); they are not evaluated (Twilio's guides let them be added before or after the
//! submission). What the guides do not say, and the emulator chose: the profile's accepted statuses (the
//! guides submit the profile, then create and submit the trust product at once; A-level attestation needs
//! both approved), the requirement's `requirement_name` (`customer_profile`) and display names, the
//! policies' friendly names, and which "generic" display names are refused (only the 50 states' names).

use serde_json::{json, Map, Value};

use crate::policies::{
    A2P_TRUST_PRODUCT, CNAM, ISV_STARTER_PROFILE, PRIMARY_BUSINESS_PROFILE,
    SECONDARY_CUSTOMER_PROFILE, SHAKEN_STIR,
};
use crate::state::{BundleKind, BundleStatus};

/// Attribute key carrying the name of the registration type when `business_registration_identifier` is
/// `Other`. The seed document names the field ("Name of Other Registration Type") but not its key; this
/// key is an assumption shared with the facade's notes.
pub(crate) const OTHER_REGISTRATION_TYPE_FIELD: &str = "business_registration_identifier_other";

/// One attribute field as EndUserTypes / SupportingDocumentTypes publish it.
pub(crate) struct Field {
    pub machine_name: &'static str,
    pub friendly_name: &'static str,
    pub constraint: &'static str,
}

const fn field(
    machine_name: &'static str,
    friendly_name: &'static str,
    constraint: &'static str,
) -> Field {
    Field {
        machine_name,
        friendly_name,
        constraint,
    }
}

/// Every attribute field the emulator knows, with its display name (used in evaluation messages too).
pub(crate) const FIELDS: &[Field] = &[
    field("business_name", "Business Name", "String"),
    field("business_type", "Business Type", "String"),
    field(
        "business_registration_number",
        "Business Registration Number",
        "String",
    ),
    field(
        "business_registration_identifier",
        "Business Registration ID Type",
        "String",
    ),
    field(
        OTHER_REGISTRATION_TYPE_FIELD,
        "Name of Other Registration Type",
        "String",
    ),
    field("business_identity", "Business Identity", "String"),
    field("business_industry", "Business Industry", "String"),
    field("website_url", "Website URL", "String"),
    field(
        "business_regions_of_operation",
        "Business Regions of Operations",
        "String",
    ),
    field(
        "social_media_profile_urls",
        "Social Media Profile URL",
        "String",
    ),
    field("first_name", "First Name", "String"),
    field("last_name", "Last Name", "String"),
    field("email", "Email", "String"),
    field("phone_number", "Phone Number", "String"),
    field("business_title", "Business Title", "String"),
    field("job_position", "Job Position", "String"),
    field("address_sids", "Address sid(s)", "List"),
    field("company_type", "Company Type", "String"),
    field("stock_exchange", "Stock Exchange", "String"),
    field("stock_ticker", "Stock Ticker", "String"),
    field("brand_contact_email", "Brand Contact Email", "String"),
    field("cnam_display_name", "CNAM Display Name", "String"),
];

/// The display name of an attribute field (its machine name when unknown).
pub(crate) fn field_name(machine_name: &str) -> &str {
    FIELDS
        .iter()
        .find(|f| f.machine_name == machine_name)
        .map(|f| f.friendly_name)
        .unwrap_or(machine_name)
}

/// An EndUserType or SupportingDocumentType.
pub(crate) struct ObjectType {
    pub machine_name: &'static str,
    pub friendly_name: &'static str,
    pub fields: &'static [&'static str],
}

const BUSINESS_INFORMATION_FIELDS: &[&str] = &[
    "business_type",
    "business_registration_number",
    "business_name",
    "business_registration_identifier",
    "business_identity",
    "business_industry",
    "website_url",
    "business_regions_of_operation",
    "social_media_profile_urls",
];

const BUSINESS_INFORMATION_TYPE_FIELDS: &[&str] = &[
    "business_type",
    "business_registration_number",
    "business_name",
    "business_registration_identifier",
    OTHER_REGISTRATION_TYPE_FIELD,
    "business_identity",
    "business_industry",
    "website_url",
    "business_regions_of_operation",
    "social_media_profile_urls",
];

const REPRESENTATIVE_FIELDS: &[&str] = &[
    "first_name",
    "last_name",
    "email",
    "phone_number",
    "business_title",
    "job_position",
];

const STARTER_FIELDS: &[&str] = &["first_name", "last_name", "email", "phone_number"];

/// The A2P messaging profile's fields: `company_type` always, the other three for a `public` company.
const A2P_PROFILE_FIELDS: &[&str] = &[
    "company_type",
    "stock_exchange",
    "stock_ticker",
    "brand_contact_email",
];

/// The fields a `public` company's A2P messaging profile must also carry.
pub(crate) const PUBLIC_COMPANY_FIELDS: &[&str] =
    &["stock_exchange", "stock_ticker", "brand_contact_email"];

/// End-user type of a profile's business information.
pub(crate) const BUSINESS_INFORMATION_TYPE: &str = "customer_profile_business_information";

/// EndUserTypes served under `/v1/EndUserTypes` (fetchable by their `OY` SID or machine name).
pub(crate) const END_USER_TYPES: &[ObjectType] = &[
    ObjectType {
        machine_name: BUSINESS_INFORMATION_TYPE,
        friendly_name: "Customer Profile Business Information",
        fields: BUSINESS_INFORMATION_TYPE_FIELDS,
    },
    ObjectType {
        machine_name: "authorized_representative_1",
        friendly_name: "Authorized Representative one",
        fields: REPRESENTATIVE_FIELDS,
    },
    ObjectType {
        machine_name: "authorized_representative_2",
        friendly_name: "Authorized Representative two",
        fields: REPRESENTATIVE_FIELDS,
    },
    ObjectType {
        machine_name: "starter_customer_profile_information",
        friendly_name: "Starter Customer Profile Information",
        fields: STARTER_FIELDS,
    },
    ObjectType {
        machine_name: "us_a2p_messaging_profile_information",
        friendly_name: "US A2P Messaging Profile Information",
        fields: A2P_PROFILE_FIELDS,
    },
    ObjectType {
        machine_name: CNAM_INFORMATION_TYPE,
        friendly_name: "CNAM Information",
        fields: &["cnam_display_name"],
    },
];

/// SupportingDocumentTypes served under `/v1/SupportingDocumentTypes`.
pub(crate) const SUPPORTING_DOCUMENT_TYPES: &[ObjectType] = &[
    ObjectType {
        machine_name: "customer_profile_address",
        friendly_name: "Customer profile address",
        fields: &["address_sids"],
    },
    ObjectType {
        machine_name: "starter_customer_profile_address",
        friendly_name: "Starter customer profile address",
        fields: &["address_sids"],
    },
];

/// An end-user requirement of a policy.
pub(crate) struct EndUserRequirement {
    pub end_user_type: &'static str,
    pub name: &'static str,
    pub requirement_name: &'static str,
    pub fields: &'static [&'static str],
}

/// A document type that satisfies a document requirement.
pub(crate) struct AcceptedDocument {
    pub document_type: &'static str,
    pub name: &'static str,
    pub fields: &'static [&'static str],
}

/// A supporting-document requirement of a policy.
pub(crate) struct DocumentRequirement {
    pub description: &'static str,
    pub name: &'static str,
    pub requirement_name: &'static str,
    pub accepted: &'static [AcceptedDocument],
}

/// A supporting customer profile requirement: an assigned bundle (`ObjectSid` = `BU...`) created under one
/// of `accepted_policies`, in one of `accepted_statuses`, when `require_isv`, whose business information
/// says `business_identity` = `isv_reseller_or_partner`, and when `registration_identifiers` is not empty,
/// whose business information's `business_registration_identifier` is one of them.
pub(crate) struct ProfileRequirement {
    pub profile_type: &'static str,
    pub name: &'static str,
    pub requirement_name: &'static str,
    pub accepted_policies: &'static [&'static str],
    pub accepted_statuses: &'static [BundleStatus],
    pub require_isv: bool,
    pub registration_identifiers: &'static [&'static str],
    /// What to assign, said when no accepted profile is assigned.
    pub missing_hint: &'static str,
}

/// Only a twilio-approved profile.
const APPROVED_ONLY: &[BundleStatus] = &[BundleStatus::TwilioApproved];

/// Any status but draft.
const SUBMITTED: &[BundleStatus] = &[
    BundleStatus::PendingReview,
    BundleStatus::InReview,
    BundleStatus::TwilioRejected,
    BundleStatus::TwilioApproved,
];

/// Submitted and not rejected.
const SUBMITTED_NOT_REJECTED: &[BundleStatus] = &[
    BundleStatus::PendingReview,
    BundleStatus::InReview,
    BundleStatus::TwilioApproved,
];

const ASSIGN_PRIMARY: &str = "Please assign your twilio-approved primary customer profile to the bundle (EntityAssignments, ObjectSid = its BU SID).";

/// A policy (regulation).
pub(crate) struct Policy {
    pub sid: &'static str,
    pub friendly_name: &'static str,
    /// The bundle kind a policy applies to: CustomerProfiles or TrustProducts.
    pub kind: BundleKind,
    pub end_users: &'static [EndUserRequirement],
    /// Outer list: every group is required; inner list: any one requirement of the group satisfies it.
    pub documents: &'static [&'static [DocumentRequirement]],
    pub profiles: &'static [ProfileRequirement],
}

const BUSINESS_INFORMATION: EndUserRequirement = EndUserRequirement {
    end_user_type: BUSINESS_INFORMATION_TYPE,
    name: "Business Information",
    requirement_name: "customer_profile_business_information",
    fields: BUSINESS_INFORMATION_FIELDS,
};

const REPRESENTATIVE_1: EndUserRequirement = EndUserRequirement {
    end_user_type: "authorized_representative_1",
    name: "Authorized Representative 1",
    requirement_name: "authorized_representative_1",
    fields: REPRESENTATIVE_FIELDS,
};

const REPRESENTATIVE_2: EndUserRequirement = EndUserRequirement {
    end_user_type: "authorized_representative_2",
    name: "Authorized Representative 2",
    requirement_name: "authorized_representative_2",
    fields: REPRESENTATIVE_FIELDS,
};

const PHYSICAL_ADDRESS: DocumentRequirement = DocumentRequirement {
    description: "Customer Profile HQ Physical Address",
    name: "Physical Business Address",
    requirement_name: "customer_profile_address",
    accepted: &[AcceptedDocument {
        document_type: "customer_profile_address",
        name: "Physical Business Address",
        fields: &["address_sids"],
    }],
};

const STARTER_ADDRESS: DocumentRequirement = DocumentRequirement {
    description: "Customer Profile Address",
    name: "Customer Profile Address",
    requirement_name: "customer_profile_address",
    accepted: &[
        AcceptedDocument {
            document_type: "customer_profile_address",
            name: "Legal Company Address",
            fields: &["address_sids"],
        },
        AcceptedDocument {
            document_type: "starter_customer_profile_address",
            name: "Legal Company Address",
            fields: &["address_sids"],
        },
    ],
};

const PRIMARY_PROFILE: ProfileRequirement = ProfileRequirement {
    profile_type: "primary_customer_profile_type_business",
    name: "Primary Customer Profile Bundle",
    requirement_name: "primary_customer_profile",
    accepted_policies: &[PRIMARY_BUSINESS_PROFILE],
    accepted_statuses: APPROVED_ONLY,
    require_isv: true,
    registration_identifiers: &[],
    missing_hint: ASSIGN_PRIMARY,
};

const ASSIGN_BUSINESS_PROFILE: &str = "Please assign the Business Profile whose phone numbers the trust product covers: your customer's secondary customer profile, or your primary one as a direct customer, submitted for review (EntityAssignments, ObjectSid = its BU SID).";

/// SHAKEN/STIR's Business Profile.
const VOICE_BUSINESS_PROFILE: ProfileRequirement = ProfileRequirement {
    profile_type: "customer_profile_type_business",
    name: "Business Profile Bundle",
    requirement_name: "customer_profile",
    accepted_policies: &[SECONDARY_CUSTOMER_PROFILE, PRIMARY_BUSINESS_PROFILE],
    accepted_statuses: SUBMITTED_NOT_REJECTED,
    require_isv: false,
    registration_identifiers: &[],
    missing_hint: ASSIGN_BUSINESS_PROFILE,
};

/// The `business_registration_identifier` values CNAM accepts.
pub(crate) const CNAM_REGISTRATION_IDENTIFIERS: &[&str] = &["EIN", "DUNS"];

/// CNAM's Business Profile: as SHAKEN/STIR's, with an EIN or a DUNS number.
const CNAM_BUSINESS_PROFILE: ProfileRequirement = ProfileRequirement {
    registration_identifiers: CNAM_REGISTRATION_IDENTIFIERS,
    ..VOICE_BUSINESS_PROFILE
};

/// The CNAM end-user type.
pub(crate) const CNAM_INFORMATION_TYPE: &str = "cnam_information";

/// The A2P trust product's customer profile: the customer's secondary profile, submitted (any status but
/// draft).
const A2P_CUSTOMER_PROFILE: ProfileRequirement = ProfileRequirement {
    profile_type: "customer_profile_type_business",
    name: "Secondary Customer Profile Bundle",
    requirement_name: "customer_profile",
    accepted_policies: &[SECONDARY_CUSTOMER_PROFILE],
    accepted_statuses: SUBMITTED,
    require_isv: false,
    registration_identifiers: &[],
    missing_hint: "Please assign the customer's secondary customer profile, submitted for review, to the trust product (EntityAssignments, ObjectSid = its BU SID).",
};

/// Every policy the emulator serves, in list order.
pub(crate) const POLICIES: &[Policy] = &[
    Policy {
        sid: SECONDARY_CUSTOMER_PROFILE,
        friendly_name: "Secondary Customer Profile of type Business",
        kind: BundleKind::CustomerProfile,
        end_users: &[BUSINESS_INFORMATION, REPRESENTATIVE_1, REPRESENTATIVE_2],
        documents: &[&[PHYSICAL_ADDRESS]],
        profiles: &[PRIMARY_PROFILE],
    },
    Policy {
        sid: PRIMARY_BUSINESS_PROFILE,
        friendly_name: "Primary Customer Profile of type Business",
        kind: BundleKind::CustomerProfile,
        end_users: &[BUSINESS_INFORMATION, REPRESENTATIVE_1, REPRESENTATIVE_2],
        documents: &[&[PHYSICAL_ADDRESS]],
        profiles: &[],
    },
    Policy {
        sid: ISV_STARTER_PROFILE,
        friendly_name: "Starter Customer Profile of type Business",
        kind: BundleKind::CustomerProfile,
        end_users: &[EndUserRequirement {
            end_user_type: "starter_customer_profile_information",
            name: "Information",
            requirement_name: "starter_customer_profile_information",
            fields: STARTER_FIELDS,
        }],
        documents: &[&[STARTER_ADDRESS]],
        profiles: &[PRIMARY_PROFILE],
    },
    Policy {
        sid: A2P_TRUST_PRODUCT,
        friendly_name: "A2P Messaging Profile of type Business",
        kind: BundleKind::TrustProduct,
        end_users: &[EndUserRequirement {
            end_user_type: "us_a2p_messaging_profile_information",
            name: "US A2P Messaging Profile Information",
            requirement_name: "us_a2p_messaging_profile_information",
            fields: &["company_type"],
        }],
        documents: &[],
        profiles: &[A2P_CUSTOMER_PROFILE],
    },
    Policy {
        sid: SHAKEN_STIR,
        friendly_name: "SHAKEN/STIR Trust Product",
        kind: BundleKind::TrustProduct,
        end_users: &[],
        documents: &[],
        profiles: &[VOICE_BUSINESS_PROFILE],
    },
    Policy {
        sid: CNAM,
        friendly_name: "CNAM Trust Product",
        kind: BundleKind::TrustProduct,
        end_users: &[EndUserRequirement {
            end_user_type: CNAM_INFORMATION_TYPE,
            name: "CNAM Information",
            requirement_name: "cnam_information",
            fields: &["cnam_display_name"],
        }],
        documents: &[],
        profiles: &[CNAM_BUSINESS_PROFILE],
    },
];

/// The policy with this SID.
pub(crate) fn policy(sid: &str) -> Option<&'static Policy> {
    POLICIES.iter().find(|p| p.sid == sid)
}

/// Whether a policy is a voice trust product's (SHAKEN/STIR, CNAM): their phone numbers must be on their
/// Business Profile first.
pub(crate) fn is_voice(policy_sid: &str) -> bool {
    policy_sid == SHAKEN_STIR || policy_sid == CNAM
}

impl Policy {
    /// The `requirements` object, shaped like the seed's Policies example.
    pub fn requirements_json(&self) -> Value {
        let end_user: Vec<Value> = self
            .end_users
            .iter()
            .map(|r| {
                json!({
                    "url": format!("/EndUserTypes/{}", r.end_user_type),
                    "fields": r.fields,
                    "type": r.end_user_type,
                    "name": r.name,
                    "requirement_name": r.requirement_name,
                })
            })
            .collect();
        let supporting_document: Vec<Value> = self
            .documents
            .iter()
            .map(|group| {
                Value::Array(
                    group
                        .iter()
                        .map(|r| {
                            let accepted: Vec<Value> = r
                                .accepted
                                .iter()
                                .map(|a| {
                                    json!({
                                        "url": format!("/SupportingDocumentTypes/{}", a.document_type),
                                        "fields": a.fields,
                                        "type": a.document_type,
                                        "name": a.name,
                                    })
                                })
                                .collect();
                            json!({
                                "description": r.description,
                                "type": "document",
                                "name": r.name,
                                "accepted_documents": accepted,
                                "requirement_name": r.requirement_name,
                            })
                        })
                        .collect(),
                )
            })
            .collect();
        let profiles: Vec<Value> = self
            .profiles
            .iter()
            .map(|r| {
                json!({
                    "type": r.profile_type,
                    "name": r.name,
                    "requirement_name": r.requirement_name,
                })
            })
            .collect();
        let mut requirements = Map::new();
        requirements.insert(String::from("end_user"), Value::Array(end_user));
        requirements.insert(
            String::from("supporting_trust_products"),
            Value::Array(Vec::new()),
        );
        requirements.insert(
            String::from("supporting_document"),
            Value::Array(supporting_document),
        );
        requirements.insert(
            String::from("supporting_customer_profiles"),
            Value::Array(profiles),
        );
        Value::Object(requirements)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_secondary_policy_matches_the_seed() {
        let policy = policy(SECONDARY_CUSTOMER_PROFILE).unwrap();
        let requirements = policy.requirements_json();
        let end_users = requirements["end_user"].as_array().unwrap();
        assert_eq!(end_users.len(), 3);
        assert_eq!(end_users[0]["fields"].as_array().unwrap().len(), 9);
        assert_eq!(end_users[1]["fields"].as_array().unwrap().len(), 6);
        assert_eq!(
            end_users[2]["requirement_name"],
            "authorized_representative_2"
        );
        assert_eq!(
            requirements["supporting_document"][0][0]["accepted_documents"][0]["fields"][0],
            "address_sids"
        );
        assert_eq!(
            requirements["supporting_customer_profiles"][0]["requirement_name"],
            "primary_customer_profile"
        );
    }

    #[test]
    fn every_field_a_policy_or_type_names_has_a_display_name() {
        let mut names: Vec<&str> = Vec::new();
        for t in END_USER_TYPES.iter().chain(SUPPORTING_DOCUMENT_TYPES) {
            names.extend(t.fields);
        }
        for p in POLICIES {
            for r in p.end_users {
                names.extend(r.fields);
                assert!(END_USER_TYPES
                    .iter()
                    .any(|t| t.machine_name == r.end_user_type));
            }
            for group in p.documents {
                for r in *group {
                    for a in r.accepted {
                        names.extend(a.fields);
                        assert!(SUPPORTING_DOCUMENT_TYPES
                            .iter()
                            .any(|t| t.machine_name == a.document_type));
                    }
                }
            }
        }
        for name in names {
            assert_ne!(field_name(name), name, "{name} has no display name");
        }
    }
}
