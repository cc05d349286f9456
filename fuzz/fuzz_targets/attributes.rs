//! Attribute validation: business information, representatives and address built from
//! arbitrary text (one field per line). Validation never panics, `to_attributes()` always gives
//! an object of JSON strings, and descriptions of personal data stay short: a value is described,
//! never repeated (a long value would make a long description).

#![no_main]

use libfuzzer_sys::fuzz_target;
use trusthub::attributes::{
    e164_problem, email_problem, http_url_problem, is_po_box, Address, AuthorizedRepresentative,
    BusinessIdentity, BusinessIndustry, BusinessInformation, BusinessType, JobPosition,
    ProblemKind, Regions, RegistrationIdentifier, Validate, ValidationErrors,
};
use trusthub::flow::SecondaryProfile;

/// Longest description of a personal-data value, in characters.
const MAX_FOUND: usize = 160;

fn check_errors(errors: &ValidationErrors) {
    assert!(!errors.is_empty());
    for error in errors {
        let personal = matches!(
            error.kind(),
            ProblemKind::Required
                | ProblemKind::Email
                | ProblemKind::PhoneNumber
                | ProblemKind::PoBox
                | ProblemKind::TooLong
                | ProblemKind::Url
        );
        if personal {
            assert!(
                error.found().chars().count() <= MAX_FOUND,
                "{}: a description of {} characters",
                error.field(),
                error.found().chars().count()
            );
        }
    }
    let _ = errors.to_string();
}

fn all_strings(value: &serde_json::Value) {
    let object = value.as_object().expect("attributes are an object");
    for (key, v) in object {
        assert!(v.is_string(), "attribute {key} is not a JSON string");
    }
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut lines = text.split('\n');
    let mut next = || lines.next().unwrap_or("").to_owned();
    let business = BusinessInformation {
        business_name: next(),
        business_identity: BusinessIdentity::from_wire(&next()),
        business_type: BusinessType::from_wire(&next()),
        business_industry: BusinessIndustry::from_wire(&next()),
        business_registration_identifier: RegistrationIdentifier::from_wire(&next()),
        business_registration_number: next(),
        business_regions_of_operation: Regions::from_wire(&next()),
        website_url: next(),
        social_media_profile_urls: next()
            .split(',')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
    };
    let representative = AuthorizedRepresentative {
        first_name: next(),
        last_name: next(),
        email: next(),
        phone_number: next(),
        business_title: next(),
        job_position: JobPosition::from_wire(&next()),
    };
    let secondary = next();
    let address = Address {
        customer_name: next(),
        street: next(),
        street_secondary: (!secondary.is_empty()).then_some(secondary),
        city: next(),
        region: next(),
        postal_code: next(),
        iso_country: next(),
        friendly_name: Some(next()).filter(|s| !s.is_empty()),
        emergency_enabled: None,
        auto_correct_address: Some(data.len() % 2 == 0),
    };
    for result in [
        business.validate(),
        representative.validate(),
        address.validate(),
    ] {
        if let Err(errors) = result {
            check_errors(&errors);
        }
    }
    all_strings(&business.to_attributes());
    all_strings(&representative.to_attributes());
    let _ = address.to_form_params();
    let _ = format!("{business:?}{representative:?}{address:?}");
    for line in text.split('\n') {
        for problem in [
            e164_problem(line),
            email_problem(line),
            http_url_problem(line),
        ]
        .into_iter()
        .flatten()
        {
            assert!(problem.chars().count() <= MAX_FOUND, "{problem}");
        }
        let _ = is_po_box(line);
    }
    let built = SecondaryProfile::builder()
        .friendly_name(business.business_name.clone())
        .email(representative.email.clone())
        .business(business)
        .representatives(representative.clone(), representative)
        .address(address)
        .primary_profile(
            "BU0123456789abcdef0123456789abcdef"
                .parse()
                .expect("a valid SID"),
        )
        .build();
    if let Err(errors) = built {
        check_errors(&errors);
    }
});
