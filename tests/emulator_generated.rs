//! The generated client against the emulator: pagination across pages in both envelopes, the
//! error classes, the evaluation of an empty bundle, and a signed status callback verified with
//! `trusthub::signature`.

use crate::fixtures;
use crate::support;

use std::time::Duration;

use futures_util::TryStreamExt as _;
use serde_json::json;
use support::CaptureServer;
use trusthub::api::trusthub_v1::CustomerProfileStatus;
use trusthub::signature::verify_and_parse;
use trusthub_emulator::{start, EmulatorConfig};

const SECONDARY: &str = "RNdfbf3fae0e1107f8aded0e7cead80bf5";

#[tokio::test]
async fn lists_page_through_the_emulator_in_both_envelopes() {
    let emulator = start(EmulatorConfig::default().with_phone_numbers(5))
        .await
        .unwrap();
    let client = fixtures::client(&emulator);
    // The seeded primary profile has end users of its own.
    let seeded: Vec<_> = client
        .end_users()
        .list()
        .into_stream()
        .try_collect()
        .await
        .unwrap();
    for i in 0..7 {
        client
            .end_users()
            .create(format!("user {i}"), "authorized_representative_1")
            .attributes(json!({"first_name": "x"}))
            .send()
            .await
            .unwrap();
    }
    let before = emulator.counters().requests_served;
    let users: Vec<_> = client
        .end_users()
        .list()
        .page_size(3)
        .into_stream()
        .try_collect()
        .await
        .unwrap();
    let total = seeded.len() + 7;
    assert_eq!(users.len(), total);
    assert_eq!(
        emulator.counters().requests_served - before,
        total.div_ceil(3) as u64,
        "pages of three, each fetched once"
    );
    let limited: Vec<_> = client
        .end_users()
        .list()
        .page_size(3)
        .limit(4)
        .into_stream()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(limited.len(), 4);
    let numbers: Vec<_> = client
        .incoming_phone_numbers()
        .list()
        .page_size(2)
        .into_stream()
        .try_collect()
        .await
        .unwrap();
    let mut sids: Vec<String> = numbers.iter().map(|n| n.sid.unwrap().to_string()).collect();
    sids.sort();
    let mut expected = emulator.phone_number_sids();
    expected.sort();
    assert_eq!(sids, expected);
    assert!(
        numbers.iter().all(|n| n.date_created.is_some()),
        "RFC 2822 dates parse"
    );
}

#[tokio::test]
async fn error_classes_decode_with_status_and_code() {
    let emulator = start(EmulatorConfig::default()).await.unwrap();
    let client = fixtures::client(&emulator);
    // 401: wrong credentials.
    let wrong = trusthub::Client::builder()
        .account_sid(emulator.account_sid().parse().unwrap())
        .auth_token("not-the-token")
        .base_url(emulator.base_url())
        .build()
        .unwrap();
    let e = wrong.policies().fetch(SECONDARY).send().await.unwrap_err();
    assert_eq!((e.status(), e.code()), (Some(401), Some(20003)), "{e}");
    // 404: a well-formed SID that does not exist.
    let e = client
        .customer_profiles()
        .fetch("BU00000000000000000000000000000000")
        .send()
        .await
        .unwrap_err();
    assert_eq!((e.status(), e.code()), (Some(404), Some(20404)), "{e}");
    // 400: a value only the server checks (StatusCallback must be a URI), naming the parameter.
    let e = client
        .customer_profiles()
        .create("Acme", "ops@acme.example.com", SECONDARY)
        .status_callback("not a url")
        .send()
        .await
        .unwrap_err();
    assert_eq!((e.status(), e.code()), (Some(400), Some(20001)), "{e}");
    assert!(e.to_string().contains("StatusCallback"), "{e}");
}

#[tokio::test]
async fn an_empty_bundle_evaluates_like_the_seed_example() {
    let emulator = start(EmulatorConfig::default()).await.unwrap();
    let client = fixtures::client(&emulator);
    let bundle = client
        .customer_profiles()
        .create("Empty", "ops@acme.example.com", SECONDARY)
        .send()
        .await
        .unwrap();
    let bundle = bundle.sid.unwrap();
    let answer = client
        .customer_profiles()
        .evaluations(bundle)
        .create(SECONDARY)
        .send()
        .await
        .unwrap();
    let evaluation = trusthub::evaluation::Evaluation::from(answer);
    assert!(!evaluation.is_compliant());
    let failures = evaluation.failures();
    assert_eq!(
        failures.len(),
        evaluation.results().len(),
        "every requirement fails"
    );
    let by_name = |n: &str| {
        failures
            .iter()
            .find(|f| f.requirement == n)
            .unwrap_or_else(|| panic!("{n}: {evaluation}"))
    };
    let business = by_name("customer_profile_business_information");
    assert_eq!(business.error_code, Some(22214));
    assert!(business
        .fields
        .iter()
        .any(|f| f.field == "business_name" && f.error_code == Some(22215)));
    assert_eq!(
        by_name("authorized_representative_2").error_code,
        Some(22214)
    );
    assert_eq!(by_name("customer_profile_address").error_code, Some(22216));
    assert!(evaluation.results().iter().all(|r| r.valid.is_some()
        && r.invalid.is_some()
        && r.requirement_friendly_name.is_some()));
}

#[tokio::test]
async fn a_status_callback_arrives_signed_and_verifies() {
    let emulator = start(EmulatorConfig::default()).await.unwrap();
    let client = fixtures::client(&emulator);
    let receiver = CaptureServer::start().await;
    for _ in 0..4 {
        receiver.answer(support::Canned::json(200, "{}"));
    }
    let callback_url = format!("{}/trusthub/status?tenant=42", receiver.base_url);
    let flow = fixtures::input(&emulator, "Acme Callback")
        .status_callback(callback_url.clone())
        .build()
        .unwrap();
    let mut report = client.secondary_profile(&flow).run().await.unwrap();
    report
        .submit(trusthub::Submission::WhenCompliant)
        .await
        .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while receiver.requests().is_empty() && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let requests = receiver.requests();
    assert!(!requests.is_empty(), "no callback arrived");
    let callback = &requests[0];
    assert_eq!(callback.method, "POST");
    assert_eq!(callback.target, "/trusthub/status?tenant=42");
    let header = callback
        .header("x-twilio-signature")
        .expect("a signature header");
    let event = verify_and_parse(emulator.auth_token(), &callback_url, &callback.body, header)
        .expect("a valid signature");
    assert_eq!(event.customer_profile_sid, report.bundle());
    assert!(
        matches!(
            event.status,
            CustomerProfileStatus::PendingReview | CustomerProfileStatus::InReview
        ),
        "{:?}",
        event.status
    );
    // The same callback with another token, URL or body is refused.
    assert!(verify_and_parse("another-token", &callback_url, &callback.body, header).is_err());
    assert!(verify_and_parse(
        emulator.auth_token(),
        &format!("{callback_url}&x=1"),
        &callback.body,
        header
    )
    .is_err());
    let mut tampered = callback.body.clone();
    tampered.extend_from_slice(b"&Status=twilio-approved");
    assert!(verify_and_parse(emulator.auth_token(), &callback_url, &tampered, header).is_err());
}
