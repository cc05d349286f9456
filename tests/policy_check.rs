//! `SecondaryProfile::check_policy`: what a policy asks that the input does not provide.

use crate::fixtures;

use trusthub::api::trusthub_v1::Policy;
use trusthub::flow::{SecondaryProfile, SecondaryProfileBuilder};

fn input() -> SecondaryProfileBuilder {
    SecondaryProfile::builder()
        .friendly_name("Acme Corp")
        .email("compliance@acme.example.com")
        .business(fixtures::business())
        .representative_1(fixtures::representative(1))
        .address(fixtures::address())
        .primary_profile("BU0123456789abcdef0123456789abcdef".parse().unwrap())
}

fn policy() -> Policy {
    serde_json::from_value(serde_json::json!({
        "sid": "RNdfbf3fae0e1107f8aded0e7cead80bf5",
        "requirements": {
            "end_user": [
                {"type": "customer_profile_business_information", "fields": ["business_name", "website_url"]},
                {"type": "authorized_representative_1", "fields": ["first_name"]},
                {"type": "authorized_representative_2", "fields": ["first_name", "shoe_size"]}
            ],
            "supporting_document": [
                [{"requirement_name": "customer_profile_address", "accepted_documents": [{"type": "customer_profile_address"}]}],
                [{"requirement_name": "passport", "accepted_documents": [{"type": "passport"}]}]
            ]
        }
    }))
    .unwrap()
}

#[test]
fn unmet_requirements_are_named_one_per_line() {
    let complete = input()
        .representative_2(fixtures::representative(2))
        .build()
        .unwrap();
    assert_eq!(
        complete.check_policy(&policy()),
        [
            "field `shoe_size` of `authorized_representative_2`, which the typed attributes do not carry",
            "supporting document `passport`, which this flow does not create",
        ]
    );
    let one_representative = input().build().unwrap();
    let found = one_representative.check_policy(&policy());
    assert_eq!(
        found[0],
        "end user `authorized_representative_2`, which the input does not have"
    );
}

#[test]
fn the_seeds_policy_is_met_by_complete_input() {
    // The Secondary Customer Profile policy as the seed document's step 1 shows it.
    let policy: Policy = serde_json::from_value(serde_json::json!({
        "sid": "RNdfbf3fae0e1107f8aded0e7cead80bf5",
        "requirements": {
            "end_user": [
                {"type": "customer_profile_business_information", "fields": [
                    "business_type", "business_registration_number", "business_name",
                    "business_registration_identifier", "business_identity", "business_industry",
                    "website_url", "business_regions_of_operation", "social_media_profile_urls"]},
                {"type": "authorized_representative_1", "fields": ["first_name", "last_name", "email", "phone_number", "business_title", "job_position"]},
                {"type": "authorized_representative_2", "fields": ["first_name", "last_name", "email", "phone_number", "business_title", "job_position"]}
            ],
            "supporting_trust_products": [],
            "supporting_document": [[{"requirement_name": "customer_profile_address", "type": "document",
                "accepted_documents": [{"type": "customer_profile_address", "fields": ["address_sids"]}]}]],
            "supporting_customer_profiles": []
        }
    }))
    .unwrap();
    let complete = input()
        .representative_2(fixtures::representative(2))
        .build()
        .unwrap();
    assert!(
        complete.check_policy(&policy).is_empty(),
        "{:?}",
        complete.check_policy(&policy)
    );
    let found = input().build().unwrap().check_policy(&policy);
    assert_eq!(found.len(), 1, "{found:?}");
}
