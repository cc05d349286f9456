//! Status callback signatures and events.

use trusthub::api::trusthub_v1::CustomerProfileStatus;
use trusthub::sid::{AccountSid, CustomerProfileSid, SidProblem};
use trusthub::signature::*;

const TOKEN: &str = "12345";
const URL: &str = "https://mycompany.com/myapp.php?foo=1&bar=2";
/// Twilio's documented example signature (checked with Python's hmac module too).
const SIGNATURE: &str = "0/KCTR6DLpKmkAf8muzZqo1nDgQ=";

fn example_params() -> Vec<(String, String)> {
    [
        ("CallSid", "CA1234567890ABCDE"),
        ("Caller", "+12349013030"),
        ("Digits", "1234"),
        ("From", "+12349013030"),
        ("To", "+18005551212"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

#[test]
fn twilio_documented_example_validates() {
    let params = example_params();
    assert_eq!(compute_signature(TOKEN, URL, &params), SIGNATURE);
    assert_eq!(validate_signature(TOKEN, URL, &params, SIGNATURE), Ok(()));
}

#[test]
fn parameter_order_does_not_matter() {
    let mut params = example_params();
    params.reverse();
    assert_eq!(validate_signature(TOKEN, URL, &params, SIGNATURE), Ok(()));
}

#[test]
fn tampered_url_is_rejected() {
    let params = example_params();
    for url in [
        "https://mycompany.com/myapp.php?foo=1&bar=3",
        "https://mycompany.com/myapp.php?bar=2&foo=1",
        "https://mycompany.com/myapp.php",
        "http://mycompany.com/myapp.php?foo=1&bar=2",
        "https://evil.com/myapp.php?foo=1&bar=2",
        "https://mycompany.com/myapp.php?foo=1&bar=2/",
    ] {
        assert_eq!(
            validate_signature(TOKEN, url, &params, SIGNATURE),
            Err(SignatureError::Mismatch),
            "{url}"
        );
    }
}

#[test]
fn tampered_params_are_rejected() {
    let base = example_params();
    let mut changed_value = base.clone();
    changed_value[2].1 = "1235".into();
    let mut changed_key = base.clone();
    changed_key[2].0 = "digits".into();
    let mut extra = base.clone();
    extra.push(("Extra".into(), "1".into()));
    let mut missing = base.clone();
    missing.remove(0);
    // Moving a character from one value to the next key keeps the concatenation order
    // but changes the sorting: still rejected.
    let mut shifted = base.clone();
    shifted[3].1 = "+1234901303".into();
    for (what, params) in [
        ("value", changed_value),
        ("key", changed_key),
        ("extra", extra),
        ("missing", missing),
        ("shifted", shifted),
    ] {
        assert_eq!(
            validate_signature(TOKEN, URL, &params, SIGNATURE),
            Err(SignatureError::Mismatch),
            "{what}"
        );
    }
}

#[test]
fn tampered_header_or_token_is_rejected() {
    let params = example_params();
    // A different valid-looking signature (last significant character changed).
    assert_eq!(
        validate_signature(TOKEN, URL, &params, "0/KCTR6DLpKmkAf8muzZqo1nDgA="),
        Err(SignatureError::Mismatch)
    );
    assert_eq!(
        validate_signature("12346", URL, &params, SIGNATURE),
        Err(SignatureError::Mismatch)
    );
    assert_eq!(
        validate_signature(TOKEN, URL, &params, ""),
        Err(SignatureError::Missing)
    );
    assert_eq!(
        validate_signature(TOKEN, URL, &params, "not base64!"),
        Err(SignatureError::Malformed)
    );
    // Valid base64 of the wrong length (a truncated signature).
    assert_eq!(
        validate_signature(TOKEN, URL, &params, "0/KCTR6DLpKmkAf8"),
        Err(SignatureError::Malformed)
    );
    // The header is compared as it is, as Twilio's libraries do: surrounding whitespace is not
    // part of a signature.
    for padded in [
        format!(" {SIGNATURE}"),
        format!("{SIGNATURE} "),
        format!("{SIGNATURE}\n"),
    ] {
        assert_eq!(
            validate_signature(TOKEN, URL, &params, &padded),
            Err(SignatureError::Malformed),
            "{padded:?}"
        );
    }
    assert_eq!(
        validate_signature(TOKEN, URL, &params, "   "),
        Err(SignatureError::Missing)
    );
}

#[test]
fn default_port_is_tolerated_both_ways() {
    let params = example_params();
    // Signed without a port, received with :443.
    assert_eq!(
        validate_signature(
            TOKEN,
            "https://mycompany.com:443/myapp.php?foo=1&bar=2",
            &params,
            SIGNATURE
        ),
        Ok(())
    );
    // Signed with a port, received without.
    let with_port = "http://mycompany.com:80/cb";
    let sig = compute_signature(TOKEN, with_port, &params);
    assert_eq!(
        validate_signature(TOKEN, "http://mycompany.com/cb", &params, &sig),
        Ok(())
    );
    // Any explicit port is removed for the second attempt, as in Twilio's libraries.
    assert_eq!(
        validate_signature(
            TOKEN,
            "https://mycompany.com:8443/myapp.php?foo=1&bar=2",
            &params,
            SIGNATURE
        ),
        Ok(()),
        "an explicit port is removed for the second attempt, as Twilio's libraries do"
    );
    assert_eq!(
        validate_signature(
            TOKEN,
            "https://mycompany.com:8443/myapp.php?foo=1&bar=3",
            &params,
            SIGNATURE
        ),
        Err(SignatureError::Mismatch)
    );
}

#[test]
fn errors_do_not_reveal_the_signature_or_token() {
    let params = example_params();
    let err = validate_signature("secret-token-xyz", URL, &params, SIGNATURE).unwrap_err();
    let text = format!("{err} {err:?}");
    assert!(!text.contains("secret-token-xyz"));
    assert!(!text.contains(&compute_signature("secret-token-xyz", URL, &params)));
}

// ---------- form decoding ----------

#[test]
fn form_decoding() {
    let pairs = decode_form(b"a=1&b=x+y&c=%2B1%20%e2%82%ac&&d&e=&=f&a=2").unwrap();
    let expected: Vec<(String, String)> = [
        ("a", "1"),
        ("b", "x y"),
        ("c", "+1 \u{20ac}"),
        ("d", ""),
        ("e", ""),
        ("", "f"),
        ("a", "2"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    assert_eq!(pairs, expected);
    assert_eq!(decode_form(b"").unwrap(), vec![]);
    assert_eq!(
        decode_form(b"ok=1&bad=%zz"),
        Err(FormDecodeError::BadPercentEscape { offset: 9 })
    );
    assert_eq!(
        decode_form(b"bad=%4"),
        Err(FormDecodeError::BadPercentEscape { offset: 4 })
    );
    assert_eq!(
        decode_form(b"x=1&y=%ff"),
        Err(FormDecodeError::InvalidUtf8 { index: 1 })
    );
}

// ---------- events ----------

const BU: &str = "BUaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const AC: &str = "ACbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

#[test]
fn event_from_pascal_case_form() {
    let event = StatusCallbackEvent::from_form(&[
        ("AccountSid", AC),
        ("BundleSid", BU),
        ("Status", "twilio-rejected"),
        ("FailureReason", "Business name does not match"),
    ])
    .unwrap();
    assert_eq!(
        event,
        StatusCallbackEvent {
            customer_profile_sid: BU.parse::<CustomerProfileSid>().unwrap(),
            status: CustomerProfileStatus::TwilioRejected,
            failure_reason: Some("Business name does not match".into()),
            account_sid: Some(AC.parse::<AccountSid>().unwrap()),
        }
    );
    assert_eq!(
        event.to_string(),
        format!("{BU} is now twilio-rejected: Business name does not match")
    );
}

#[test]
fn event_from_snake_case_form_with_optional_fields_absent() {
    let event =
        StatusCallbackEvent::from_form(&[("bundle_sid", BU), ("status", "in-review")]).unwrap();
    assert_eq!(event.status, CustomerProfileStatus::InReview);
    assert_eq!(event.failure_reason, None);
    assert_eq!(event.account_sid, None);

    let event = StatusCallbackEvent::from_form(&[
        ("BundleSid", BU),
        ("Status", "twilio-approved"),
        ("FailureReason", ""),
    ])
    .unwrap();
    assert_eq!(event.status, CustomerProfileStatus::TwilioApproved);
    assert_eq!(event.failure_reason, None);
}

#[test]
fn every_listed_status_is_read() {
    for (wire, status) in [
        ("draft", CustomerProfileStatus::Draft),
        ("pending-review", CustomerProfileStatus::PendingReview),
        ("in-review", CustomerProfileStatus::InReview),
        ("twilio-rejected", CustomerProfileStatus::TwilioRejected),
        ("twilio-approved", CustomerProfileStatus::TwilioApproved),
        ("TWILIO_APPROVED", CustomerProfileStatus::TwilioApproved),
        ("Pending_Review", CustomerProfileStatus::PendingReview),
    ] {
        let event = StatusCallbackEvent::from_form(&[("BundleSid", BU), ("Status", wire)]).unwrap();
        assert_eq!(event.status, status, "{wire}");
    }
}

#[test]
fn unknown_status_is_kept() {
    let event =
        StatusCallbackEvent::from_form(&[("BundleSid", BU), ("Status", "twilio-suspended")])
            .unwrap();
    assert!(matches!(event.status, CustomerProfileStatus::Unlisted(_)));
    assert_eq!(event.status.as_str(), "twilio-suspended");
}

#[test]
fn missing_or_invalid_parameters_are_errors() {
    assert_eq!(
        StatusCallbackEvent::from_form(&[("Status", "draft")]),
        Err(CallbackError::MissingParameter {
            names: params::BUNDLE_SID
        })
    );
    assert_eq!(
        StatusCallbackEvent::from_form(&[("BundleSid", BU)]),
        Err(CallbackError::MissingParameter {
            names: params::STATUS
        })
    );
    match StatusCallbackEvent::from_form(&[
        ("BundleSid", "RNaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"),
        ("Status", "draft"),
    ]) {
        Err(CallbackError::InvalidSid { parameter, source }) => {
            assert_eq!(parameter, "BundleSid");
            assert_eq!(source.problem(), &SidProblem::Prefix { found: "RN".into() });
        }
        other => panic!("unexpected {other:?}"),
    }
    match StatusCallbackEvent::from_form(&[
        ("BundleSid", BU),
        ("Status", "draft"),
        ("AccountSid", "AC12"),
    ]) {
        Err(CallbackError::InvalidSid { parameter, source }) => {
            assert_eq!(parameter, "AccountSid");
            assert_eq!(source.problem(), &SidProblem::Length { found: 4 });
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn verify_and_parse_accepts_twilios_example_body() {
    // Twilio's documented example as the form body it would POST ('+' encoded as %2B).
    let body = b"CallSid=CA1234567890ABCDE&Caller=%2B12349013030&Digits=1234&From=%2B12349013030&To=%2B18005551212";
    // It is correctly signed but is not a status callback: the signature passes, the
    // event parsing then reports the missing bundle SID.
    assert_eq!(
        verify_and_parse(TOKEN, URL, body, SIGNATURE),
        Err(CallbackError::MissingParameter {
            names: params::BUNDLE_SID
        })
    );
    // A '+' left unencoded decodes to a space and breaks the signature.
    let raw_plus = b"CallSid=CA1234567890ABCDE&Caller=+12349013030&Digits=1234&From=+12349013030&To=+18005551212";
    assert_eq!(
        verify_and_parse(TOKEN, URL, raw_plus, SIGNATURE),
        Err(CallbackError::Signature(SignatureError::Mismatch))
    );
}

#[test]
fn verify_and_parse_a_status_callback() {
    let url = "https://isv.example.com/trusthub/status?tenant=42";
    let params = [
        ("AccountSid", AC),
        ("BundleSid", BU),
        ("Status", "twilio-approved"),
    ];
    let header = compute_signature("tok", url, &params);
    let body = format!("AccountSid={AC}&BundleSid={BU}&Status=twilio-approved");
    let event = verify_and_parse("tok", url, body.as_bytes(), &header).unwrap();
    assert_eq!(event.status, CustomerProfileStatus::TwilioApproved);
    assert_eq!(event.customer_profile_sid, BU);

    // Tampered body: the status changed in transit.
    let forged = format!("AccountSid={AC}&BundleSid={BU}&Status=twilio-rejected");
    assert_eq!(
        verify_and_parse("tok", url, forged.as_bytes(), &header),
        Err(CallbackError::Signature(SignatureError::Mismatch))
    );
    assert_eq!(
        verify_and_parse("tok", url, b"Status=%zz", &header),
        Err(CallbackError::Form(FormDecodeError::BadPercentEscape {
            offset: 7
        }))
    );
}

// ---------- agreement with Twilio's own validator ----------

/// Our verdict on one vector of `tests/fixtures/signature_vectors.json`.
fn our_verdict(vector: &serde_json::Value) -> Result<(), String> {
    let field = |name: &str| vector[name].as_str().unwrap_or_default();
    let (token, url, header) = (field("token"), field("url"), field("signature"));
    if let Some(body) = vector["json"].as_str() {
        return validate_signature_with_body(token, url, body.as_bytes(), header)
            .map_err(|e| format!("{e:?}"));
    }
    let params = decode_form(field("form").as_bytes()).map_err(|e| format!("{e:?}"))?;
    validate_signature(token, url, &params, header).map_err(|e| format!("{e:?}"))
}

/// The vectors of `tests/fixtures/signature_vectors.json` (written by
/// `tools/twilio-node/make-vectors.js`): every genuine request is accepted and every forgery
/// refused, as twilio-node decides. The verdicts compared are those recorded in the file, or,
/// when `TWILIO_NODE_VERDICTS` names the output of `tools/twilio-node/verdicts.js` (as
/// `cargo xtask signature-vectors` does), twilio-node's verdicts computed now.
#[test]
fn signature_vectors_agree_with_twilio_node() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/signature_vectors.json"
    );
    let file: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let vectors = file["vectors"].as_array().unwrap();
    assert!(vectors.len() >= 40, "{} vectors", vectors.len());
    let live: Option<serde_json::Value> = std::env::var_os("TWILIO_NODE_VERDICTS").map(|p| {
        let text = std::fs::read_to_string(&p)
            .unwrap_or_else(|e| panic!("TWILIO_NODE_VERDICTS={}: {e}", p.to_string_lossy()));
        serde_json::from_str(&text).unwrap()
    });
    let (source, version) = match &live {
        Some(live) => (
            "computed now",
            live["twilio_node"].as_str().unwrap().to_owned(),
        ),
        None => ("recorded", file["twilio_node"].as_str().unwrap().to_owned()),
    };
    let mut disagreements = Vec::new();
    let (mut genuine, mut forgeries) = (0, 0);
    for vector in vectors {
        let id = vector["id"].as_str().unwrap();
        let recorded = vector["expected"].as_str().unwrap();
        let node = match &live {
            Some(live) => live["verdicts"][id]
                .as_str()
                .unwrap_or_else(|| panic!("twilio-node gave no verdict on {id}")),
            None => recorded,
        };
        assert_eq!(
            node, recorded,
            "{id}: twilio-node {version} now says {node}, the file records {recorded}; \
             regenerate the vectors (tools/twilio-node/make-vectors.js)"
        );
        let ours = our_verdict(vector);
        let agrees = match node {
            "accept" => ours.is_ok(),
            "reject" => ours.is_err(),
            other => panic!("{id}: verdict {other:?}"),
        };
        if !agrees {
            disagreements.push(format!("{id}: twilio-node says {node}, we say {ours:?}"));
        }
        match vector["category"].as_str() {
            Some("genuine") => genuine += 1,
            _ => forgeries += 1,
        }
    }
    println!(
        "signature vectors: {}/{} agree with twilio-node {version} ({source}): {genuine} genuine \
         requests, {forgeries} forgeries",
        vectors.len() - disagreements.len(),
        vectors.len()
    );
    assert!(
        disagreements.is_empty(),
        "{} disagreements with twilio-node {version}:\n  {}",
        disagreements.len(),
        disagreements.join("\n  ")
    );
    // Seeded random requests with twilio-node's verdicts (tools/twilio-node/random-vectors.js).
    if let Some(path) = std::env::var_os("TWILIO_NODE_RANDOM_VECTORS") {
        let text = std::fs::read_to_string(&path).unwrap();
        let random: serde_json::Value = serde_json::from_str(&text).unwrap();
        let vectors = random["vectors"].as_array().unwrap();
        let mut disagreements = Vec::new();
        let mut accepted = 0;
        for vector in vectors {
            let node = vector["expected"].as_str().unwrap() == "accept";
            accepted += usize::from(node);
            let ours = our_verdict(vector);
            if ours.is_ok() != node {
                disagreements.push(format!(
                    "{}: twilio-node accepts: {node}, we say {ours:?}; url {:?}",
                    vector["id"], vector["url"]
                ));
            }
        }
        println!(
            "random vectors: {}/{} agree with twilio-node {version} ({accepted} accepted by it)",
            vectors.len() - disagreements.len(),
            vectors.len()
        );
        assert!(
            disagreements.is_empty(),
            "{} disagreements on random vectors:\n  {}",
            disagreements.len(),
            disagreements.join("\n  ")
        );
    }
}
