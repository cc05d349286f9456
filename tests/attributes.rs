//! Typed attributes: exact wire form, validation reporting every problem, no PII leaks.

use proptest::prelude::*;
use serde_json::json;
use trusthub::attributes::*;
use trusthub::sid::AddressSid;

fn seed_business() -> BusinessInformation {
    // The seed's "Create EndUser of type: customer_profile_business_information" example.
    BusinessInformation {
        business_name: "acme business".into(),
        business_identity: BusinessIdentity::DirectCustomer,
        business_type: BusinessType::Partnership,
        business_industry: BusinessIndustry::Education,
        business_registration_identifier: RegistrationIdentifier::Duns,
        business_registration_number: "123456789".into(),
        business_regions_of_operation: Region::UsaAndCanada.into(),
        website_url: "test.com".into(),
        social_media_profile_urls: vec![],
    }
}

fn good_business() -> BusinessInformation {
    BusinessInformation {
        business_registration_identifier: RegistrationIdentifier::Ein,
        business_registration_number: "12-3456789".into(),
        website_url: "https://acme.example.com".into(),
        ..seed_business()
    }
}

fn rep(
    first: &str,
    last: &str,
    email: &str,
    phone: &str,
    title: &str,
    job: JobPosition,
) -> AuthorizedRepresentative {
    AuthorizedRepresentative {
        first_name: first.into(),
        last_name: last.into(),
        email: email.into(),
        phone_number: phone.into(),
        business_title: title.into(),
        job_position: job,
    }
}

fn good_address() -> Address {
    // The seed's "Create an Address" example.
    Address {
        customer_name: "name".into(),
        street: "555 AnyStreet".into(),
        street_secondary: Some("Apt B".into()),
        city: "Any City".into(),
        region: "Any Region".into(),
        postal_code: "12345".into(),
        iso_country: "US".into(),
        ..Address::default()
    }
}

// ---------- exact wire form ----------

#[test]
fn seed_business_information_attributes_are_reproduced_exactly() {
    let expected = json!({
        "business_name": "acme business",
        "social_media_profile_urls": "",
        "website_url": "test.com",
        "business_regions_of_operation": "USA_AND_CANADA",
        "business_type": "Partnership",
        "business_registration_identifier": "DUNS",
        "business_identity": "direct_customer",
        "business_industry": "EDUCATION",
        "business_registration_number": "123456789",
    });
    assert_eq!(seed_business().to_attributes(), expected);
    assert_eq!(
        BusinessInformation::END_USER_TYPE,
        "customer_profile_business_information"
    );
}

#[test]
fn business_attribute_keys_are_the_policy_requirement_fields() {
    // The `fields` of the seed policy's customer_profile_business_information requirement.
    let mut policy_fields = vec![
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
    policy_fields.sort_unstable();
    let attrs = good_business().to_attributes();
    let mut keys: Vec<&str> = attrs
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(keys, policy_fields);
    assert!(attrs.as_object().unwrap().values().all(|v| v.is_string()));
}

#[test]
fn seed_representative_attributes_are_reproduced_exactly() {
    let rep1 = rep(
        "rep1",
        "acme",
        "rep1@acme.com",
        "+11234567890",
        "ceo",
        JobPosition::Ceo,
    );
    assert_eq!(
        rep1.to_attributes(),
        json!({
            "job_position": "CEO",
            "last_name": "acme",
            "phone_number": "+11234567890",
            "first_name": "rep1",
            "email": "rep1@acme.com",
            "business_title": "ceo",
        })
    );
    let rep2 = rep(
        "rep2",
        "acme",
        "rep2@acme.com",
        "+14345678900",
        "cfo",
        JobPosition::Cfo,
    );
    assert_eq!(
        rep2.to_attributes(),
        json!({
            "job_position": "CFO",
            "last_name": "acme",
            "phone_number": "+14345678900",
            "first_name": "rep2",
            "email": "rep2@acme.com",
            "business_title": "cfo",
        })
    );
    // The seed's first number is E.164-shaped but not a North American number (its area
    // code starts with 1): Twilio's evaluation refuses it (22218), local validation too.
    let errors = rep1.validate().unwrap_err();
    assert_eq!(
        errors.fields().collect::<Vec<_>>(),
        ["representative_1.phone_number"]
    );
    assert!(rep2.validate().is_ok());
    assert_eq!(
        RepresentativeSlot::First.end_user_type(),
        "authorized_representative_1"
    );
    assert_eq!(
        RepresentativeSlot::Second.end_user_type(),
        "authorized_representative_2"
    );
}

#[test]
fn seed_address_document_attributes_are_reproduced_exactly() {
    let sid: AddressSid = "ADaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa".parse().unwrap();
    let doc = CustomerProfileAddress::from(sid);
    assert_eq!(
        doc.to_attributes(),
        json!({"address_sids": "ADaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"})
    );
    assert_eq!(
        CustomerProfileAddress::SUPPORTING_DOCUMENT_TYPE,
        "customer_profile_address"
    );
}

#[test]
fn seed_address_form_params() {
    let mut address = good_address();
    assert_eq!(
        address.to_form_params(),
        vec![
            ("CustomerName", "name".to_owned()),
            ("Street", "555 AnyStreet".to_owned()),
            ("StreetSecondary", "Apt B".to_owned()),
            ("City", "Any City".to_owned()),
            ("Region", "Any Region".to_owned()),
            ("PostalCode", "12345".to_owned()),
            ("IsoCountry", "US".to_owned()),
        ]
    );
    address.street_secondary = None;
    address.friendly_name = Some("HQ".into());
    address.emergency_enabled = Some(false);
    address.auto_correct_address = Some(true);
    let params = address.to_form_params();
    assert!(!params.iter().any(|(k, _)| *k == "StreetSecondary"));
    assert!(params.contains(&("FriendlyName", "HQ".to_owned())));
    assert!(params.contains(&("EmergencyEnabled", "false".to_owned())));
    assert!(params.contains(&("AutoCorrectAddress", "true".to_owned())));
    assert!(address.validate().is_ok());
}

#[test]
fn other_registration_type_carries_its_name() {
    let business = BusinessInformation {
        business_registration_identifier: RegistrationIdentifier::other("SIRET"),
        ..good_business()
    };
    let attrs = business.to_attributes();
    assert_eq!(attrs["business_registration_identifier"], "Other");
    assert_eq!(attrs[RegistrationIdentifier::OTHER_TYPE_NAME_KEY], "SIRET");
    assert_eq!(
        RegistrationIdentifier::OTHER_TYPE_NAME_KEY,
        "business_registration_identifier_other"
    );
    assert!(business.validate().is_ok());
    // Not sent unless Other is chosen.
    assert!(good_business()
        .to_attributes()
        .get(RegistrationIdentifier::OTHER_TYPE_NAME_KEY)
        .is_none());

    for blank in ["", "   "] {
        let business = BusinessInformation {
            business_registration_identifier: RegistrationIdentifier::other(blank),
            ..good_business()
        };
        let errors = business.validate().unwrap_err();
        assert_eq!(errors.len(), 1);
        assert_eq!(
            errors.errors()[0].field(),
            "business_information.business_registration_identifier"
        );
        assert_eq!(errors.errors()[0].kind(), ProblemKind::MissingOtherTypeName);
    }
    // "Other" from a string has no name yet: validation says so.
    let parsed: RegistrationIdentifier = "Other".parse().unwrap();
    assert_eq!(parsed.other_type_name(), Some(""));
}

#[test]
fn several_regions_and_social_urls_are_joined_with_commas() {
    let business = BusinessInformation {
        business_regions_of_operation: Regions::from([Region::UsaAndCanada, Region::Europe]),
        social_media_profile_urls: vec![
            "https://twitter.com/acme".into(),
            "https://www.linkedin.com/company/acme".into(),
        ],
        ..good_business()
    };
    let attrs = business.to_attributes();
    assert_eq!(
        attrs["business_regions_of_operation"],
        "USA_AND_CANADA,EUROPE"
    );
    assert_eq!(
        attrs["social_media_profile_urls"],
        "https://twitter.com/acme,https://www.linkedin.com/company/acme"
    );
    assert!(business.validate().is_ok());
}

#[test]
fn regions_parse_strictly_and_deserialize_leniently() {
    let regions: Regions = "USA_AND_CANADA, EUROPE".parse().unwrap();
    assert_eq!(regions.as_slice(), &[Region::UsaAndCanada, Region::Europe]);
    let err = "USA_AND_CANADA,CANADA".parse::<Regions>().unwrap_err();
    assert_eq!(err.found(), "CANADA");
    assert_eq!(err.type_name(), "Region");
    assert!("".parse::<Regions>().unwrap().is_empty());

    let lenient: Regions = serde_json::from_value(json!("USA_AND_CANADA,CANADA")).unwrap();
    assert_eq!(
        lenient.as_slice(),
        &[Region::UsaAndCanada, Region::unlisted("CANADA")]
    );
    let from_array: Regions = serde_json::from_value(json!(["ASIA", "AFRICA"])).unwrap();
    assert_eq!(from_array.as_slice(), &[Region::Asia, Region::Africa]);
    assert_eq!(
        serde_json::to_value(&from_array).unwrap(),
        json!("ASIA,AFRICA")
    );
}

// ---------- every problem at once ----------

#[test]
fn five_bad_fields_give_five_errors_naming_five_fields() {
    let business = BusinessInformation {
        business_name: "   ".into(),
        business_registration_identifier: RegistrationIdentifier::Ein,
        business_registration_number: String::new(),
        business_regions_of_operation: Regions::default(),
        website_url: "acme".into(),
        social_media_profile_urls: vec!["ftp://acme.example.com".into()],
        ..seed_business()
    };
    let errors = business.validate().unwrap_err();
    let fields: Vec<&str> = errors.fields().collect();
    assert_eq!(
        fields,
        [
            "business_information.business_name",
            "business_information.business_registration_number",
            "business_information.business_regions_of_operation",
            "business_information.website_url",
            "business_information.social_media_profile_urls[0]",
        ]
    );
    let kinds: Vec<ProblemKind> = errors.iter().map(ValidationError::kind).collect();
    assert_eq!(
        kinds,
        [
            ProblemKind::Required,
            ProblemKind::Required,
            ProblemKind::EmptyList,
            ProblemKind::Url,
            ProblemKind::Url,
        ]
    );
    let text = errors.to_string();
    assert!(text.starts_with("5 problems"), "{text}");
    for f in &fields {
        assert!(text.contains(f), "{text}");
    }
}

#[test]
fn a_whole_profile_reports_every_problem_with_paths() {
    let business = BusinessInformation {
        website_url: "http://localhost".into(),
        ..good_business()
    };
    let rep1 = rep(
        "Ada",
        "",
        "ada@example.com",
        "+14155550102",
        "CEO",
        JobPosition::Ceo,
    );
    let rep2 = rep(
        "Bob",
        "Smith",
        "bob@example",
        "0044 20 7183 8750",
        "CFO",
        JobPosition::Cfo,
    );
    let address = Address {
        street: "P.O. Box 12".into(),
        iso_country: "UK".into(),
        ..good_address()
    };
    let mut report = ValidationReport::new();
    report
        .check("business_information", &business)
        .check(RepresentativeSlot::First.path(), &rep1)
        .check(RepresentativeSlot::Second.path(), &rep2)
        .check("address", &address);
    let errors = report.finish().unwrap_err();
    assert_eq!(
        errors.fields().collect::<Vec<_>>(),
        [
            "business_information.website_url",
            "representative_1.last_name",
            "representative_2.email",
            "representative_2.phone_number",
            "address.street",
            "address.iso_country",
        ]
    );
    let by_field = |f: &str| errors.iter().find(|e| e.field() == f).unwrap();
    assert_eq!(by_field("address.street").kind(), ProblemKind::PoBox);
    assert_eq!(by_field("address.iso_country").kind(), ProblemKind::Country);
    assert_eq!(
        by_field("representative_2.phone_number").kind(),
        ProblemKind::PhoneNumber
    );
    assert!(by_field("representative_2.phone_number")
        .found()
        .contains("does not start with '+'"));
}

#[test]
fn valid_values_pass_without_warnings() {
    assert_eq!(good_business().validate(), Ok(vec![]));
    assert_eq!(good_address().validate(), Ok(vec![]));
}

// ---------- warnings ----------

#[test]
fn duns_for_a_us_entity_is_a_warning_not_an_error() {
    let business = BusinessInformation {
        website_url: "https://acme.example.com".into(),
        ..seed_business()
    };
    let warnings = business.validate().unwrap();
    assert_eq!(warnings.len(), 1);
    assert_eq!(warnings[0].kind(), WarningKind::DunsForUsEntity);
    assert_eq!(
        warnings[0].field(),
        "business_information.business_registration_identifier"
    );

    // Not in USA_AND_CANADA, but the address is in the US.
    let european = BusinessInformation {
        business_regions_of_operation: Region::Europe.into(),
        ..business.clone()
    };
    assert_eq!(european.validate(), Ok(vec![]));
    let mut report = ValidationReport::new();
    european.validate_for_country("business_information", "US", &mut report);
    let warnings = report.finish().unwrap();
    assert_eq!(warnings.len(), 1);
    assert_eq!(warnings[0].kind(), WarningKind::DunsForUsEntity);

    let mut report = ValidationReport::new();
    european.validate_for_country("business_information", "DE", &mut report);
    assert_eq!(report.finish(), Ok(vec![]));
}

#[test]
fn ccn_is_a_warning() {
    let business = BusinessInformation {
        business_registration_identifier: RegistrationIdentifier::Ccn,
        ..good_business()
    };
    let warnings = business.validate().unwrap();
    assert_eq!(
        warnings.iter().map(Warning::kind).collect::<Vec<_>>(),
        [WarningKind::CcnNotAcceptedForA2p]
    );
    assert!(warnings[0].message().contains("CBN"));
}

#[test]
fn warnings_survive_alongside_errors() {
    let business = BusinessInformation {
        business_registration_identifier: RegistrationIdentifier::Ccn,
        business_name: String::new(),
        ..good_business()
    };
    let errors = business.validate().unwrap_err();
    assert_eq!(errors.len(), 1);
    assert_eq!(errors.warnings().len(), 1);
}

#[test]
fn ein_with_the_wrong_number_of_digits_is_a_warning() {
    let business = BusinessInformation {
        business_registration_number: "98-765432".into(),
        ..good_business()
    };
    let warnings = business.validate().unwrap();
    assert_eq!(warnings.len(), 1);
    assert_eq!(warnings[0].kind(), WarningKind::EinShape);
    assert!(!warnings[0].to_string().contains("98-765432"));
}

#[test]
fn duplicate_regions_are_a_warning() {
    let business = BusinessInformation {
        business_regions_of_operation: Regions::from([Region::Asia, Region::Asia]),
        ..good_business()
    };
    let warnings = business.validate().unwrap();
    assert_eq!(warnings.len(), 1);
    assert_eq!(warnings[0].kind(), WarningKind::DuplicateRegion);
    assert_eq!(
        warnings[0].field(),
        "business_information.business_regions_of_operation[1]"
    );
}

// ---------- no PII in errors or Debug ----------

#[test]
fn errors_and_debug_never_echo_pii() {
    let pii = [
        "Zelda Quixote-Pii",
        "Zyxwvut Pii-Lastname",
        "zelda.quixote.pii.example",
        "555-0199-PII",
        "9876543210XYZ",
        "Zorro Business Pii",
        "P.O. Box 4242 Piiville",
        "Secret Lane 7\u{0}",
        "Piiton City",
    ];
    let rep = rep(
        "Zelda Quixote-Pii",
        "Zyxwvut Pii-Lastname",
        "zelda.quixote.pii.example",
        "555-0199-PII",
        "Owner",
        JobPosition::Other,
    );
    let business = BusinessInformation {
        business_name: "Zorro Business Pii".into(),
        business_registration_number: "9876543210XYZ".into(),
        website_url: "acme site".into(),
        ..good_business()
    };
    let address = Address {
        customer_name: "Zelda Quixote-Pii".into(),
        street: "P.O. Box 4242 Piiville".into(),
        street_secondary: Some("Secret Lane 7\u{0}".into()),
        city: "Piiton City".into(),
        iso_country: "usa".into(),
        ..good_address()
    };
    let mut report = ValidationReport::new();
    report
        .check("representative_1", &rep)
        .check("business_information", &business)
        .check("address", &address);
    let errors = report.finish().unwrap_err();
    // email, phone, website, EIN shape is a warning, street (PO box), street_secondary (a NUL),
    // iso_country.
    assert_eq!(
        errors.fields().collect::<Vec<_>>(),
        [
            "representative_1.email",
            "representative_1.phone_number",
            "business_information.website_url",
            "address.street",
            "address.street_secondary",
            "address.iso_country",
        ]
    );
    let outputs = [
        errors.to_string(),
        format!("{errors:?}"),
        format!("{rep:?}"),
        format!("{business:?}"),
        format!("{address:?}"),
    ];
    for out in &outputs {
        for value in pii {
            assert!(!out.contains(value), "{value:?} leaked in {out}");
        }
        assert!(!out.to_lowercase().contains("pii"), "leak in {out}");
    }
    // What is shown instead: descriptions and enum values.
    let email = errors
        .iter()
        .find(|e| e.field() == "representative_1.email")
        .unwrap();
    assert_eq!(email.found(), "25 characters, no '@'");
    assert!(format!("{rep:?}").contains("job_position: Other"));
    assert!(format!("{business:?}").contains("business_name: <redacted>"));
    assert!(format!("{address:?}").contains("iso_country: \"usa\""));
}

#[test]
fn debug_shows_empty_fields_as_empty() {
    let r = rep("", "x", "y", "z", "t", JobPosition::Vp);
    let d = format!("{r:?}");
    assert!(d.contains("first_name: <empty>"), "{d}");
    assert!(d.contains("last_name: <redacted>"), "{d}");
}

// ---------- PO boxes ----------

#[test]
fn po_box_table() {
    let refused = [
        "PO Box 123",
        "P.O. Box 123",
        "p.o. box 123",
        "P O Box 123",
        "P. O. Box 123",
        "PO-Box 123",
        "POBox 123",
        "pobox 123",
        "pobox",
        "POBOX123",
        "PO Box",
        "POB 12",
        "P.O.B. 12",
        "Post Office Box 77",
        "post-office box 77",
        "Postoffice Box 77",
        "Apt 4, PO Box 9",
        "  po   box   9  ",
        "PO BOX#12",
    ];
    let accepted = [
        "555 AnyStreet",
        "Boxwood Rd",
        "12 Boxwood Rd",
        "Polo Box Ave",
        "Pobox Street",
        "Pob Street",
        "Post Office Road 5",
        "1 Expo Boxing Way",
        "Apt B",
        "Box Hill 3",
        "Tapo Box Lane",
        "Poland Street 1",
    ];
    for s in refused {
        assert!(is_po_box(s), "{s:?} should read as a PO box");
        let address = Address {
            street: s.into(),
            ..good_address()
        };
        let errors = address.validate().unwrap_err();
        assert_eq!(errors.fields().collect::<Vec<_>>(), ["address.street"]);
        assert_eq!(errors.errors()[0].kind(), ProblemKind::PoBox);
    }
    for s in accepted {
        assert!(!is_po_box(s), "{s:?} should not read as a PO box");
        let address = Address {
            street: s.into(),
            ..good_address()
        };
        assert!(address.validate().is_ok(), "{s:?}");
    }
}

#[test]
fn po_box_in_the_secondary_street_is_refused_too() {
    let address = Address {
        street_secondary: Some("PO Box 5".into()),
        ..good_address()
    };
    let errors = address.validate().unwrap_err();
    assert_eq!(
        errors.fields().collect::<Vec<_>>(),
        ["address.street_secondary"]
    );
}

// ---------- E.164, email, URL ----------

#[test]
fn e164_table() {
    let ok = [
        "+14155550102",
        "+14345678900",
        "+18005550100", // toll free: an area code with two equal digits
        "+442071838750",
        "+447700900123",    // other countries keep the E.164 check alone
        "+49301234",        // 8 digits: the shortest accepted
        "+491234567890123", // 15 digits: the longest
    ];
    for s in ok {
        assert_eq!(e164_problem(s), None, "{s}");
    }
    let bad = [
        ("", "an empty string"),
        ("   ", "only whitespace (3 characters)"),
        ("11234567890", "11 characters, does not start with '+'"),
        ("123-456-7890", "12 characters, does not start with '+'"),
        (
            "+1 234 567 8901",
            "15 characters, the character at position 2 is a space",
        ),
        (
            "+1-234-567-8901",
            "15 characters, the character at position 2 is '-'",
        ),
        (
            "+1234567a890",
            "12 characters, the character at position 8 is a letter",
        ),
        (
            "+1234567",
            "8 characters, 7 digits after '+', expected 8 to 15",
        ),
        (
            "+1234567890123456",
            "17 characters, 16 digits after '+', expected 8 to 15",
        ),
        ("+", "1 character, 0 digits after '+', expected 8 to 15"),
        (
            "+01234567890",
            "12 characters, the country code starts with 0",
        ),
        (
            "++11234567890",
            "13 characters, the character at position 1 is '+'",
        ),
    ];
    for (s, found) in bad {
        assert_eq!(e164_problem(s).as_deref(), Some(found), "{s:?}");
    }
}

#[test]
fn north_american_numbers_follow_the_numbering_plan() {
    for ok in [
        "+14155550102",
        "+12025550123",
        "+18885550100",
        "+15005550006",
        "+19875550100",
    ] {
        assert_eq!(nanp_problem(ok), None, "{ok}");
        assert_eq!(e164_problem(ok), None, "{ok}");
    }
    // Not +1 numbers: not this rule's business.
    for other in [
        "+447700900123",
        "+491234567890123",
        "+1 415 555 0102",
        "4155550102",
    ] {
        assert_eq!(nanp_problem(other), None, "{other}");
    }
    let bad = [
        (
            "+11234567890",
            "12 characters, the area code 123 starts with 1",
        ),
        (
            "+10234567890",
            "12 characters, the area code 023 starts with 0",
        ),
        (
            "+12115550102",
            "12 characters, the area code 211 is an N11 service code",
        ),
        (
            "+19115550102",
            "12 characters, the area code 911 is an N11 service code",
        ),
        (
            "+12955550102",
            "12 characters, the area code 295 has 9 as its second digit (kept for expanding \
             the plan)",
        ),
        (
            "+14151234567",
            "12 characters, the exchange (the 3 digits after the area code) starts with 1",
        ),
        (
            "+14150234567",
            "12 characters, the exchange (the 3 digits after the area code) starts with 0",
        ),
        (
            "+12345678",
            "9 characters, 7 digits after '+1', expected 10",
        ),
        (
            "+1415555010",
            "11 characters, 9 digits after '+1', expected 10",
        ),
        (
            "+141555501020",
            "13 characters, 11 digits after '+1', expected 10",
        ),
    ];
    for (s, found) in bad {
        assert_eq!(nanp_problem(s).as_deref(), Some(found), "{s:?}");
        // e164_problem applies the rule too: the shape is fine, the plan is not.
        assert_eq!(e164_problem(s).as_deref(), Some(found), "{s:?}");
    }
    // Through a representative: the expected form names the plan's rule.
    let representative = rep(
        "Ada",
        "Lovelace",
        "ada@example.com",
        "+11234567890",
        "CEO",
        JobPosition::Ceo,
    );
    let errors = representative.validate().unwrap_err();
    let error = &errors.errors()[0];
    assert_eq!(error.kind(), ProblemKind::PhoneNumber);
    assert!(
        error
            .expected()
            .starts_with("a North American number (+1 then a 10-digit number"),
        "{error}"
    );
    // An E.164 shape problem of a +1 number keeps the E.164 form.
    let representative = AuthorizedRepresentative {
        phone_number: "+1-415-555-0102".into(),
        ..representative
    };
    let errors = representative.validate().unwrap_err();
    assert!(errors.errors()[0]
        .expected()
        .starts_with("an E.164 phone number"));
}

#[test]
fn the_emulator_accepts_the_same_country_codes() {
    // The emulator keeps its own copy of the list (it shares no code with the client): the two
    // must not drift apart.
    assert_eq!(ISO_3166_1_ALPHA_2, trusthub_emulator::ISO_COUNTRIES);
}

#[test]
fn email_table() {
    for ok in ["rep1@acme.com", "a.b+c@sub.example.co.uk", "x@y.z"] {
        assert_eq!(email_problem(ok), None, "{ok}");
    }
    let bad = [
        ("", "an empty string"),
        ("rep1.acme.com", "13 characters, no '@'"),
        ("a@b@c.com", "9 characters, 2 '@' characters"),
        ("@acme.com", "9 characters, nothing before '@'"),
        ("rep1@", "5 characters, nothing after '@'"),
        ("rep1@acme", "9 characters, no '.' after '@'"),
        (
            "rep1@acme..com",
            "14 characters, an empty label after '@' (leading, trailing or doubled '.')",
        ),
        ("rep 1@acme.com", "14 characters, contains whitespace"),
    ];
    for (s, found) in bad {
        assert_eq!(email_problem(s).as_deref(), Some(found), "{s:?}");
    }
}

#[test]
fn url_table() {
    for ok in [
        "https://acme.example.com",
        "http://acme.com/about?x=1#top",
        "HTTPS://ACME.COM",
        "https://acme.com:8443/",
        "https://bücher.example/",
        "test.com",
        "www.acme.com/about",
        // International domain names, with or without a scheme, ports and paths.
        "https://bücher.example:8443/katalog?q=ä",
        "https://xn--bcher-kva.example/",
        "münchen.example",
        "http://例え.テスト/",
        // Ports: 1 to 65535; the scheme's default is a port too.
        "https://acme.com:1/",
        "http://acme.com:65535",
        "https://acme.com:443",
        // IPv4 addresses are dotted hosts (a callback on this machine, in tests).
        "http://127.0.0.1:8080/callbacks",
    ] {
        assert_eq!(http_url_problem(ok), None, "{ok}");
    }
    let bad = [
        ("localhost", "a host without a '.'"),
        ("acme", "a host without a '.'"),
        ("ftp://acme.com", "a scheme other than http or https"),
        ("https://", "no host after the scheme"),
        ("https://localhost/", "a host without a '.'"),
        ("https://acme..com", "an empty label in the host"),
        ("https://acme.com.", "an empty label in the host"),
        (
            "https://user@acme.com",
            "user information ('@') before the host",
        ),
        (
            "https://acme.com:0",
            "a port that is not a number from 1 to 65535",
        ),
        (
            "https://acme.com:99999",
            "a port that is not a number from 1 to 65535",
        ),
        (
            "https://ac_me.com",
            "a host character that is not a letter, digit, '-' or '.'",
        ),
        (
            "https://-acme.com",
            "a host label starting or ending with '-'",
        ),
        ("https://acme .com", "contains whitespace"),
        ("https://[::1]/", "an IPv6 literal host, not a domain name"),
        (
            "http://[::1]:8080/x",
            "19 characters, an IPv6 literal host, not a domain name",
        ),
        (
            "http://[::1:8080/x",
            "an IPv6 literal host that does not parse",
        ),
        (
            "https://acme.com:8o8o/",
            "a port that is not a number from 1 to 65535",
        ),
        (
            "https://acme.com:-1/",
            "a port that is not a number from 1 to 65535",
        ),
        (
            "https://acme.123/",
            "a host ending in a number that is not an IPv4 address",
        ),
        (
            "https://xn--a.example/",
            "a host that is not a valid international domain name",
        ),
        (
            "https://acme<.com/",
            "a host character that is not a letter, digit, '-' or '.'",
        ),
        (
            "https://@acme.com/",
            "user information ('@') before the host",
        ),
        (
            "https://jane:pw@acme.com/",
            "user information ('@') before the host",
        ),
        (
            "mailto://jane@acme.com",
            "a scheme other than http or https",
        ),
        ("ftp://bücher.example/", "a scheme other than http or https"),
        (
            "javascript://acme.com/%0a",
            "a scheme other than http or https",
        ),
    ];
    for (s, found) in bad {
        let problem = http_url_problem(s).unwrap_or_else(|| panic!("{s:?} accepted"));
        assert!(problem.contains(found), "{s:?}: {problem}");
        // A description, never the URL or its parts.
        for part in ["acme", "bücher", "jane", "pw@", "::1"] {
            assert!(!problem.contains(part), "{s:?} echoed in {problem}");
        }
    }
}

#[test]
fn social_url_with_a_comma_is_refused() {
    let business = BusinessInformation {
        social_media_profile_urls: vec![
            "https://twitter.com/acme".into(),
            "https://a.com/x,y".into(),
        ],
        ..good_business()
    };
    let errors = business.validate().unwrap_err();
    assert_eq!(
        errors.fields().collect::<Vec<_>>(),
        ["business_information.social_media_profile_urls[1]"]
    );
}

// ---------- countries ----------

#[test]
fn iso_countries() {
    assert_eq!(ISO_3166_1_ALPHA_2.len(), 249);
    for ok in [
        "US", "CA", "GB", "DE", "FR", "AU", "IN", "IL", "EE", "RO", "AX", "SS",
    ] {
        assert!(is_iso_country(ok), "{ok}");
    }
    // XK (Kosovo) is user-assigned, not an ISO code.
    for bad in ["XK", "UK", "EU", "us", "USA", "U", "", "ZZ"] {
        assert!(!is_iso_country(bad), "{bad}");
    }
    let cases = [
        ("us", "\"us\", which is not upper case (use \"US\")"),
        ("UK", "\"UK\", which is not an assigned code"),
        ("USA", "3 characters, not two letters"),
        ("", "an empty string"),
    ];
    for (code, found) in cases {
        let address = Address {
            iso_country: code.into(),
            ..good_address()
        };
        let errors = address.validate().unwrap_err();
        assert_eq!(errors.fields().collect::<Vec<_>>(), ["address.iso_country"]);
        assert_eq!(errors.errors()[0].found(), found);
    }
}

#[test]
fn friendly_name_is_limited_to_64_characters() {
    let ok = Address {
        friendly_name: Some("x".repeat(64)),
        ..good_address()
    };
    assert!(ok.validate().is_ok());
    let long = Address {
        friendly_name: Some("x".repeat(65)),
        ..good_address()
    };
    let errors = long.validate().unwrap_err();
    assert_eq!(errors.errors()[0].kind(), ProblemKind::TooLong);
    assert_eq!(errors.errors()[0].found(), "65 characters");
}

// ---------- unlisted values ----------

#[test]
fn unlisted_values_are_deliberate() {
    let canada = Region::unlisted("CANADA");
    assert!(canada.is_unlisted());
    assert_eq!(canada.as_str(), "CANADA");
    assert_eq!(canada.to_string(), "CANADA");
    assert_eq!(serde_json::to_value(&canada).unwrap(), json!("CANADA"));

    // FromStr never produces Unlisted; it explains how to send one.
    let err = "CANADA".parse::<Region>().unwrap_err();
    assert!(err.to_string().contains("Region::unlisted"), "{err}");
    assert_eq!(err.expected(), Region::LISTED_WIRE);

    // A listed value given to `unlisted` is the listed variant: equal wire, equal value.
    assert_eq!(Region::unlisted("EUROPE"), Region::Europe);
    assert!(!Region::unlisted("EUROPE").is_unlisted());

    // Reading back from Twilio keeps unknown values instead of failing.
    let read: BusinessIndustry = serde_json::from_value(json!("SPACE_TOURISM")).unwrap();
    assert_eq!(read, BusinessIndustry::unlisted("SPACE_TOURISM"));

    let business = BusinessInformation {
        business_regions_of_operation: Regions::from([Region::UsaAndCanada, canada]),
        business_industry: BusinessIndustry::unlisted("SPACE_TOURISM"),
        ..good_business()
    };
    assert_eq!(
        business.to_attributes()["business_regions_of_operation"],
        "USA_AND_CANADA,CANADA"
    );
    assert_eq!(
        business.to_attributes()["business_industry"],
        "SPACE_TOURISM"
    );
    assert!(business.validate().is_ok());
}

#[test]
fn unsendable_unlisted_values_are_reported() {
    let business = BusinessInformation {
        business_regions_of_operation: Regions::from([Region::unlisted("ASIA,EUROPE2")]),
        business_type: BusinessType::unlisted(""),
        business_registration_identifier: RegistrationIdentifier::unlisted("  "),
        ..good_business()
    };
    let errors = business.validate().unwrap_err();
    assert_eq!(
        errors.fields().collect::<Vec<_>>(),
        [
            "business_information.business_type",
            "business_information.business_registration_identifier",
            "business_information.business_regions_of_operation[0]",
        ]
    );
    assert!(errors
        .iter()
        .all(|e| e.kind() == ProblemKind::UnlistedValue));
}

#[test]
fn unknown_value_error_suggests_the_listed_spelling() {
    let err = "education".parse::<BusinessIndustry>().unwrap_err();
    assert_eq!(err.suggestion(), Some("EDUCATION"));
    let err = "limited liability corporation"
        .parse::<BusinessType>()
        .unwrap_err();
    assert_eq!(err.suggestion(), Some("Limited Liability Corporation"));
    assert!(err.to_string().contains("did you mean"), "{err}");
    let err = "general-counsel".parse::<JobPosition>().unwrap_err();
    assert_eq!(err.suggestion(), Some("General Counsel"));
}

#[test]
fn listed_value_counts_match_the_seed() {
    assert_eq!(BusinessIdentity::LISTED.len(), 3);
    assert_eq!(BusinessType::LISTED.len(), 6);
    assert_eq!(BusinessIndustry::LISTED.len(), 31);
    assert_eq!(Region::LISTED.len(), 6);
    assert_eq!(JobPosition::LISTED.len(), 7);
    assert_eq!(RegistrationIdentifier::LISTED_WIRE.len(), 11);
    assert_eq!(
        BusinessType::LISTED_WIRE,
        [
            "Sole Proprietorship",
            "Partnership",
            "Limited Liability Corporation",
            "Co-operative",
            "Non-profit Corporation",
            "Corporation"
        ]
    );
}

// ---------- enum wire strings: property round trips ----------

/// Every listed value of every enum, as (type name, wire string).
fn all_listed() -> Vec<(&'static str, &'static str)> {
    let mut v = Vec::new();
    v.extend(
        BusinessIdentity::LISTED_WIRE
            .iter()
            .map(|w| ("BusinessIdentity", *w)),
    );
    v.extend(
        BusinessType::LISTED_WIRE
            .iter()
            .map(|w| ("BusinessType", *w)),
    );
    v.extend(
        BusinessIndustry::LISTED_WIRE
            .iter()
            .map(|w| ("BusinessIndustry", *w)),
    );
    v.extend(Region::LISTED_WIRE.iter().map(|w| ("Region", *w)));
    v.extend(JobPosition::LISTED_WIRE.iter().map(|w| ("JobPosition", *w)));
    v.extend(
        RegistrationIdentifier::LISTED_WIRE
            .iter()
            .map(|w| ("RegistrationIdentifier", *w)),
    );
    v
}

/// Round-trips `wire` through `T`'s `FromStr`, `as_str`, `Display` and serde.
fn round_trip<T>(wire: &str) -> Result<(), TestCaseError>
where
    T: std::str::FromStr
        + std::fmt::Display
        + serde::Serialize
        + serde::de::DeserializeOwned
        + PartialEq
        + std::fmt::Debug,
    T::Err: std::fmt::Debug,
{
    let v: T = wire.parse().unwrap();
    prop_assert_eq!(v.to_string(), wire);
    let json = serde_json::to_value(&v).unwrap();
    prop_assert_eq!(&json, &json!(wire));
    prop_assert_eq!(serde_json::from_value::<T>(json).unwrap(), v);
    Ok(())
}

proptest! {
    #[test]
    fn north_american_problems_never_repeat_the_number(digits in "[0-9]{10}") {
        let number = format!("+1{digits}");
        let valid = matches!(digits.as_bytes()[0], b'2'..=b'9')
            && &digits[1..3] != "11"
            && digits.as_bytes()[1] != b'9'
            && matches!(digits.as_bytes()[3], b'2'..=b'9');
        let problem = nanp_problem(&number);
        prop_assert_eq!(problem.is_none(), valid, "{:?}", problem);
        if let Some(found) = problem {
            // At most the area code, and only when it breaks a rule: never the rest.
            prop_assert!(!found.contains(&digits[3..]), "{}", found);
            prop_assert!(!found.contains(&digits[..6]), "{}", found);
        }
    }

    #[test]
    fn listed_wire_strings_round_trip((type_name, wire) in prop::sample::select(all_listed())) {
        match type_name {
            "BusinessIdentity" => round_trip::<BusinessIdentity>(wire)?,
            "BusinessType" => round_trip::<BusinessType>(wire)?,
            "BusinessIndustry" => round_trip::<BusinessIndustry>(wire)?,
            "Region" => round_trip::<Region>(wire)?,
            "JobPosition" => round_trip::<JobPosition>(wire)?,
            _ => round_trip::<RegistrationIdentifier>(wire)?,
        }
    }

    #[test]
    fn arbitrary_strings_parse_only_when_listed(s in "[A-Za-z_ -]{0,30}") {
        let listed = BusinessIndustry::LISTED_WIRE.contains(&s.as_str());
        prop_assert_eq!(s.parse::<BusinessIndustry>().is_ok(), listed);
        let any = BusinessIndustry::unlisted(s.clone());
        prop_assert_eq!(any.as_str(), s.as_str());
        prop_assert_eq!(any.is_unlisted(), !listed);
        let back: BusinessIndustry = serde_json::from_value(serde_json::to_value(&any).unwrap()).unwrap();
        prop_assert_eq!(back, any);
    }

    #[test]
    fn regions_round_trip_through_the_wire(idx in prop::collection::vec(0usize..6, 1..6)) {
        let regions: Regions = idx.iter().map(|&i| Region::LISTED[i].clone()).collect();
        let wire = regions.to_wire();
        prop_assert_eq!(wire.parse::<Regions>().unwrap(), regions.clone());
        prop_assert_eq!(Regions::from_wire(&wire), regions.clone());
        prop_assert_eq!(wire.split(',').count(), idx.len());
    }
}
