//! Properties of the SID types: round trips, precise rejections, conversions.

use std::collections::HashSet;
use std::str::FromStr;

use proptest::prelude::*;
use trusthub::sid::*;

/// Checks every round trip of one valid SID string for type `T`.
fn round_trips<T>(s: &str) -> Result<(), TestCaseError>
where
    T: FromStr<Err = SidError>
        + for<'a> TryFrom<&'a str, Error = SidError>
        + TryFrom<String, Error = SidError>
        + std::fmt::Display
        + AsRef<str>
        + serde::Serialize
        + serde::de::DeserializeOwned
        + PartialEq
        + std::fmt::Debug
        + Copy,
{
    let parsed: T = s.parse().map_err(|e| TestCaseError::fail(format!("{e}")))?;
    prop_assert_eq!(parsed.to_string(), s);
    prop_assert_eq!(parsed.as_ref(), s);
    prop_assert_eq!(T::try_from(s).unwrap(), parsed);
    prop_assert_eq!(T::try_from(s.to_owned()).unwrap(), parsed);
    let json = serde_json::to_string(&parsed).unwrap();
    prop_assert_eq!(&json, &format!("\"{s}\""));
    let back: T = serde_json::from_str(&json).unwrap();
    prop_assert_eq!(back, parsed);
    Ok(())
}

/// (prefix, type name) of every specific kind, for the generic assertions below.
const KINDS: &[(&str, &str)] = &[
    ("AC", "AccountSid"),
    ("BU", "CustomerProfileSid"),
    ("BU", "TrustProductSid"),
    ("RN", "PolicySid"),
    ("IT", "EndUserSid"),
    ("RD", "SupportingDocumentSid"),
    ("BV", "EntityAssignmentSid"),
    ("RA", "ChannelEndpointAssignmentSid"),
    ("EL", "EvaluationSid"),
    ("AD", "AddressSid"),
    ("PN", "PhoneNumberSid"),
    ("SK", "ApiKeySid"),
];

/// Parses `s` as the kind named `name`, giving the result as `Result<String, SidError>`
/// and, on success, the `ObjectSid` it converts into.
fn parse_kind(name: &str, s: &str) -> Result<(String, ObjectSid), SidError> {
    fn go<T>(s: &str) -> Result<(String, ObjectSid), SidError>
    where
        T: FromStr<Err = SidError> + Into<ObjectSid> + std::fmt::Display + Copy,
    {
        let v: T = s.parse()?;
        Ok((v.to_string(), v.into()))
    }
    match name {
        "AccountSid" => go::<AccountSid>(s),
        "CustomerProfileSid" => go::<CustomerProfileSid>(s),
        "TrustProductSid" => go::<TrustProductSid>(s),
        "PolicySid" => go::<PolicySid>(s),
        "EndUserSid" => go::<EndUserSid>(s),
        "SupportingDocumentSid" => go::<SupportingDocumentSid>(s),
        "EntityAssignmentSid" => go::<EntityAssignmentSid>(s),
        "ChannelEndpointAssignmentSid" => go::<ChannelEndpointAssignmentSid>(s),
        "EvaluationSid" => go::<EvaluationSid>(s),
        "AddressSid" => go::<AddressSid>(s),
        "PhoneNumberSid" => go::<PhoneNumberSid>(s),
        "ApiKeySid" => go::<ApiKeySid>(s),
        other => panic!("unknown kind {other}"),
    }
}

fn hex32() -> impl Strategy<Value = String> {
    "[0-9a-fA-F]{32}"
}

fn kind() -> impl Strategy<Value = (&'static str, &'static str)> {
    prop::sample::select(KINDS)
}

proptest! {
    #[test]
    fn every_valid_sid_round_trips(hex in hex32()) {
        round_trips::<AccountSid>(&format!("AC{hex}"))?;
        round_trips::<CustomerProfileSid>(&format!("BU{hex}"))?;
        round_trips::<TrustProductSid>(&format!("BU{hex}"))?;
        round_trips::<PolicySid>(&format!("RN{hex}"))?;
        round_trips::<EndUserSid>(&format!("IT{hex}"))?;
        round_trips::<SupportingDocumentSid>(&format!("RD{hex}"))?;
        round_trips::<EntityAssignmentSid>(&format!("BV{hex}"))?;
        round_trips::<ChannelEndpointAssignmentSid>(&format!("RA{hex}"))?;
        round_trips::<EvaluationSid>(&format!("EL{hex}"))?;
        round_trips::<AddressSid>(&format!("AD{hex}"))?;
        round_trips::<PhoneNumberSid>(&format!("PN{hex}"))?;
        round_trips::<ApiKeySid>(&format!("SK{hex}"))?;
    }

    #[test]
    fn object_sid_accepts_any_two_letters(prefix in "[a-zA-Z]{2}", hex in hex32()) {
        let s = format!("{prefix}{hex}");
        round_trips::<ObjectSid>(&s)?;
        let object: ObjectSid = s.parse().unwrap();
        prop_assert_eq!(object.prefix(), prefix.as_str());
    }

    #[test]
    fn specific_sids_convert_into_the_same_object_sid((prefix, name) in kind(), hex in hex32()) {
        let s = format!("{prefix}{hex}");
        let (display, object) = parse_kind(name, &s).unwrap();
        prop_assert_eq!(&display, &s);
        prop_assert_eq!(object.as_str(), s.as_str());
        prop_assert_eq!(object, s.parse::<ObjectSid>().unwrap());
    }

    #[test]
    fn wrong_prefix_is_rejected_naming_it((prefix, name) in kind(), other in "[A-Z]{2}", hex in hex32()) {
        prop_assume!(other != prefix);
        let err = parse_kind(name, &format!("{other}{hex}")).unwrap_err();
        prop_assert_eq!(err.kind(), name);
        prop_assert_eq!(err.problem(), &SidProblem::Prefix { found: other.clone() });
        prop_assert_eq!(err.pattern(), format!("^{prefix}[0-9a-fA-F]{{32}}$"));
        let msg = err.to_string();
        prop_assert!(msg.contains(name), "{}", msg);
        prop_assert!(msg.contains(&format!("^{prefix}[0-9a-fA-F]{{32}}$")), "{}", msg);
        prop_assert!(msg.contains(&format!("{other:?}")), "{}", msg);
    }

    #[test]
    fn lower_case_prefix_is_rejected((prefix, name) in kind(), hex in hex32()) {
        let lower = prefix.to_ascii_lowercase();
        let err = parse_kind(name, &format!("{lower}{hex}")).unwrap_err();
        prop_assert_eq!(err.problem(), &SidProblem::Prefix { found: lower });
    }

    #[test]
    fn wrong_length_is_rejected_with_the_length((prefix, name) in kind(), len in 0usize..80) {
        prop_assume!(len != 32);
        let s = format!("{prefix}{}", "a".repeat(len));
        let err = parse_kind(name, &s).unwrap_err();
        prop_assert_eq!(err.kind(), name);
        prop_assert_eq!(err.problem(), &SidProblem::Length { found: len + 2 });
        let expected = format!("found {} characters", len + 2);
        prop_assert!(err.to_string().contains(&expected), "{}", err);
    }

    #[test]
    fn non_hex_is_rejected_at_its_position(
        (prefix, name) in kind(),
        hex in hex32(),
        pos in 0usize..32,
        bad in "[g-zG-Z_ .+-]",
    ) {
        let mut chars: Vec<char> = hex.chars().collect();
        let bad = bad.chars().next().unwrap();
        chars[pos] = bad;
        let s = format!("{prefix}{}", chars.iter().collect::<String>());
        let err = parse_kind(name, &s).unwrap_err();
        prop_assert_eq!(err.problem(), &SidProblem::NotHex { position: pos + 2, found: bad });
        let expected = format!("position {}", pos + 2);
        prop_assert!(err.to_string().contains(&expected), "{}", err);
    }

    #[test]
    fn only_the_first_non_hex_character_is_reported(hex in hex32(), a in 0usize..31) {
        let mut chars: Vec<char> = hex.chars().collect();
        chars[a] = 'x';
        chars[31] = 'z';
        let s = format!("BU{}", chars.iter().collect::<String>());
        let err = s.parse::<CustomerProfileSid>().unwrap_err();
        prop_assert_eq!(err.problem(), &SidProblem::NotHex { position: a + 2, found: 'x' });
    }

    #[test]
    fn arbitrary_strings_never_panic_and_accepted_ones_match_the_pattern(s in "\\PC{0,40}") {
        if let Ok(sid) = s.parse::<ObjectSid>() {
            prop_assert_eq!(sid.as_str(), s.as_str());
            prop_assert_eq!(s.len(), 34);
            prop_assert!(s[..2].bytes().all(|b| b.is_ascii_alphabetic()));
            prop_assert!(s[2..].bytes().all(|b| b.is_ascii_hexdigit()));
        }
    }

    #[test]
    fn deserialize_rejects_invalid_strings((prefix, _name) in kind(), hex in "[0-9a-f]{31}") {
        let json = format!("\"{prefix}{hex}\"");
        let err = serde_json::from_str::<CustomerProfileSid>(&json).unwrap_err();
        prop_assert!(err.to_string().contains("CustomerProfileSid"), "{}", err);
    }

    #[test]
    fn case_of_hex_digits_is_kept_and_significant(hex in "[0-9a-f]{32}") {
        prop_assume!(hex.bytes().any(|b| b.is_ascii_alphabetic()));
        let lower: EndUserSid = format!("IT{hex}").parse().unwrap();
        let upper: EndUserSid = format!("IT{}", hex.to_ascii_uppercase()).parse().unwrap();
        prop_assert_eq!(lower.as_str(), format!("IT{hex}"));
        prop_assert_ne!(lower, upper);
    }

    #[test]
    fn assignable_sid_dispatches_on_prefix(prefix in prop::sample::select(&["IT", "RD", "AD", "BU"][..]), hex in hex32()) {
        let s = format!("{prefix}{hex}");
        let sid: AssignableSid = s.parse().unwrap();
        let expected = match prefix {
            "IT" => AssignableSid::EndUser(s.parse().unwrap()),
            "RD" => AssignableSid::SupportingDocument(s.parse().unwrap()),
            "AD" => AssignableSid::Address(s.parse().unwrap()),
            _ => AssignableSid::CustomerProfile(s.parse().unwrap()),
        };
        prop_assert_eq!(sid, expected);
        prop_assert_eq!(sid.as_str(), s.as_str());
        prop_assert_eq!(ObjectSid::from(sid), s.parse::<ObjectSid>().unwrap());
        let json = serde_json::to_string(&sid).unwrap();
        prop_assert_eq!(serde_json::from_str::<AssignableSid>(&json).unwrap(), sid);
    }

    #[test]
    fn assignable_sid_rejects_other_prefixes((prefix, _name) in kind(), hex in hex32()) {
        prop_assume!(!["IT", "RD", "AD", "BU"].contains(&prefix));
        let err = format!("{prefix}{hex}").parse::<AssignableSid>().unwrap_err();
        prop_assert_eq!(err.kind(), "AssignableSid");
        prop_assert_eq!(err.problem(), &SidProblem::Prefix { found: prefix.to_owned() });
    }
}

#[test]
fn object_sid_rejects_non_letter_prefix() {
    let err = format!("1B{}", "a".repeat(32))
        .parse::<ObjectSid>()
        .unwrap_err();
    assert_eq!(err.kind(), "ObjectSid");
    assert_eq!(err.pattern(), "^[a-zA-Z]{2}[0-9a-fA-F]{32}$");
    assert_eq!(
        err.problem(),
        &SidProblem::Prefix {
            found: "1B".to_owned()
        }
    );
}

#[test]
fn seed_placeholder_with_non_hex_x_is_rejected() {
    // The seed document shows "RDXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX": 'X' is not hex.
    let err = "RDXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX"
        .parse::<SupportingDocumentSid>()
        .unwrap_err();
    assert_eq!(
        err.problem(),
        &SidProblem::NotHex {
            position: 2,
            found: 'X'
        }
    );
}

#[test]
fn object_sid_converts_back_only_to_the_matching_kind() {
    let object: ObjectSid = "ITaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa".parse().unwrap();
    let end_user = EndUserSid::try_from(object).unwrap();
    assert_eq!(end_user.as_str(), object.as_str());
    let err = CustomerProfileSid::try_from(object).unwrap_err();
    assert_eq!(
        err.problem(),
        &SidProblem::Prefix {
            found: "IT".to_owned()
        }
    );
    assert_eq!(
        AssignableSid::try_from(object).unwrap(),
        AssignableSid::EndUser(end_user)
    );
}

#[test]
fn sids_are_copy_hash_and_ordered() {
    let a: PolicySid = "RN00000000000000000000000000000000".parse().unwrap();
    let b: PolicySid = "RN00000000000000000000000000000001".parse().unwrap();
    let a2 = a; // Copy
    assert_eq!(a, a2);
    assert!(a < b);
    let set: HashSet<PolicySid> = [a, b, a2].into_iter().collect();
    assert_eq!(set.len(), 2);
    assert_eq!(std::mem::size_of::<PolicySid>(), 34);
}

#[test]
fn well_known_policies() {
    assert_eq!(
        policies::SECONDARY_CUSTOMER_PROFILE,
        "RNdfbf3fae0e1107f8aded0e7cead80bf5"
    );
    assert_eq!(
        policies::PRIMARY_BUSINESS_PROFILE,
        "RN6433641899984f951173ef1738c3bdd0"
    );
    assert_eq!(
        policies::ISV_STARTER_PROFILE,
        "RN806dd6cd175f314e1f96a9727ee271f4"
    );
    assert_eq!(
        policies::A2P_TRUST_PRODUCT,
        "RNb0d4771c2c98518d916a3d4cd70a8f8b"
    );
    assert_eq!(policies::SHAKEN_STIR, "RN7a97559effdf62d00f4298208492a5ea");
    assert_eq!(policies::CNAM, "RNf3db3cd1fe25fcfd3c3ded065c8fea53");
}

#[test]
fn from_static_builds_in_const_context() {
    const SID: AccountSid = AccountSid::from_static("ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
    assert_eq!(SID.as_str(), "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
}

#[test]
#[should_panic(expected = "invalid PolicySid literal")]
fn from_static_panics_on_a_bad_literal() {
    // Not in a const: the panic happens at run time and can be observed.
    let s: &'static str =
        Box::leak(String::from("BUaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa").into_boxed_str());
    let _ = PolicySid::from_static(s);
}

#[test]
fn deserialize_rejects_non_strings() {
    assert!(serde_json::from_str::<AccountSid>("42").is_err());
    assert!(serde_json::from_str::<AccountSid>("null").is_err());
}
