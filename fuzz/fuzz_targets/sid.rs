//! SID parsing: every typed SID, `ObjectSid` and `AssignableSid` on arbitrary text. Accepted
//! strings match their pattern and round-trip through serde; refused ones get a short
//! `SidError`; the runtime's parameter check (`validate::sid`) agrees and its error names the
//! pattern.

#![no_main]

use libfuzzer_sys::fuzz_target;
use trusthub::api::runtime::validate;
use trusthub::sid::{
    AccountSid, AddressSid, ApiKeySid, ApplicationSid, AssignableSid, BundleSid,
    ChannelEndpointAssignmentSid, CustomerProfileSid, EndUserSid, EndUserTypeSid,
    EntityAssignmentSid, EvaluationSid, IdentitySid, ObjectSid, PhoneNumberSid, PolicySid,
    SupportingDocumentSid, SupportingDocumentTypeSid, TrunkSid, TrustProductSid,
};

fn pattern_holds(s: &str, prefix: Option<&str>) -> bool {
    let b = s.as_bytes();
    b.len() == 34
        && match prefix {
            Some(p) => s.starts_with(p),
            None => b[0].is_ascii_alphabetic() && b[1].is_ascii_alphabetic(),
        }
        && b[2..].iter().all(u8::is_ascii_hexdigit)
}

macro_rules! check_kinds {
    ($s:expr; $($t:ty),+) => {$({
        let s: &str = $s;
        let parsed = s.parse::<$t>();
        let runtime = validate::sid::<$t>("Fuzz", "Sid", s);
        assert_eq!(
            parsed.is_ok(),
            runtime.is_ok(),
            "{} and validate::sid disagree on {s:?}",
            stringify!($t)
        );
        if let Err(error) = runtime {
            assert!(error.to_string().contains(<$t>::PATTERN), "{error}");
        }
        assert_eq!(parsed.is_ok(), pattern_holds(s, Some(<$t>::PREFIX)), "{s:?}");
        match parsed {
            Ok(sid) => {
                assert_eq!(sid.as_str(), s);
                let json = serde_json::to_string(&sid).expect("a SID serializes");
                let back: $t = serde_json::from_str(&json).expect("a SID deserializes");
                assert_eq!(back, sid);
                assert_eq!(ObjectSid::from(sid).as_str(), s);
            }
            Err(error) => {
                let text = error.to_string();
                assert!(text.contains(<$t>::PATTERN), "{text}");
                assert!(text.len() < 200, "an error longer than expected: {text}");
            }
        }
    })+};
}

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    check_kinds!(s; AccountSid, CustomerProfileSid, TrustProductSid, PolicySid, EndUserSid,
        SupportingDocumentSid, EntityAssignmentSid, ChannelEndpointAssignmentSid, EvaluationSid,
        AddressSid, PhoneNumberSid, ApiKeySid, BundleSid, ApplicationSid, IdentitySid, TrunkSid,
        EndUserTypeSid, SupportingDocumentTypeSid);
    let object = s.parse::<ObjectSid>();
    assert_eq!(object.is_ok(), pattern_holds(s, None), "{s:?}");
    assert_eq!(
        object.is_ok(),
        validate::sid::<ObjectSid>("Fuzz", "Sid", s).is_ok(),
        "ObjectSid and validate::sid disagree on {s:?}"
    );
    match s.parse::<AssignableSid>() {
        Ok(sid) => {
            assert_eq!(sid.as_str(), s);
            assert!(["IT", "RD", "AD", "BU"].contains(&&s[..2]), "{s:?}");
            assert_eq!(sid.to_object_sid().as_str(), s);
        }
        Err(error) => assert!(error.to_string().len() < 200),
    }
});
