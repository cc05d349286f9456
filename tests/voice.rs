//! The voice trust products (SHAKEN/STIR and CNAM) end to end against the emulator: from a new
//! profile and from an existing one, then a crash after every save of the journal and a resume
//! that creates nothing twice; input the products refuse before anything is sent.

use std::sync::Arc;
use std::time::Duration;

use crate::fixtures::{client, input, CrashingStore};
use trusthub::api::trusthub_v1::TrustProductStatus;
use trusthub::attributes::RegistrationIdentifier;
use trusthub::flow::voice::VoiceProducts;
use trusthub::flow::{MemoryStore, Outcome, Step, TrustProductKind};
use trusthub::sid::{PhoneNumberSid, TrustProductSid};
use trusthub::FlowError;
use trusthub_emulator::{start, Counters, Decision, EmulatorConfig};

/// What the emulator created that the voice products create once (evaluations aside: the
/// emulator also counts those its reviews run).
fn created(c: &Counters) -> [(&'static str, u64); 6] {
    [
        ("customer_profiles", c.customer_profiles),
        ("trust_products", c.trust_products),
        ("end_users", c.end_users),
        ("entity_assignments", c.entity_assignments),
        (
            "channel_endpoint_assignments",
            c.channel_endpoint_assignments,
        ),
        ("bundle_submissions", c.bundle_submissions),
    ]
}

/// A new profile with one number, then SHAKEN/STIR and CNAM: 1 profile, 2 trust products, 3 + 1
/// end users, 5 + 2 + 1 entity assignments, 1 + 2 channel assignments, 3 submissions.
fn per_profile(n: u64) -> [(&'static str, u64); 6] {
    [
        ("customer_profiles", n),
        ("trust_products", 2 * n),
        ("end_users", 4 * n),
        ("entity_assignments", 8 * n),
        ("channel_endpoint_assignments", 3 * n),
        ("bundle_submissions", 3 * n),
    ]
}

fn products(emulator: &trusthub_emulator::Emulator, name: &str) -> VoiceProducts {
    let phone: PhoneNumberSid = emulator.phone_number_sids()[0].parse().unwrap();
    VoiceProducts::builder()
        .secondary_profile(input(emulator, name).build().unwrap())
        .shaken_stir()
        .cnam("Acme Corp")
        .phone_numbers([phone])
        .build()
        .unwrap()
}

#[tokio::test]
async fn shaken_stir_and_cnam_are_built_submitted_and_approved() {
    let emulator = start(
        EmulatorConfig::default().with_auto_decision(Duration::from_millis(20), Decision::Approve),
    )
    .await
    .unwrap();
    let client = client(&emulator);
    let input = products(&emulator, "Acme Voice");
    let store = MemoryStore::new();
    let report = client
        .voice_products(&input)
        .journal(store.clone())
        .run()
        .await
        .unwrap();
    assert!(report.profile_evaluation.as_ref().unwrap().is_compliant());
    assert_eq!(report.products.len(), 2);
    for product in &report.products {
        assert!(
            product.evaluation.is_compliant(),
            "{:?}: {}",
            product.kind,
            product.evaluation
        );
        assert_eq!(product.status, TrustProductStatus::PendingReview);
    }
    assert_eq!(created(&emulator.counters()), per_profile(1));
    let evaluations = report
        .steps
        .iter()
        .filter(|s| {
            matches!(s.step, Step::Evaluate | Step::EvaluateTrustProduct(_))
                && s.outcome == Outcome::Created
        })
        .count();
    assert_eq!(evaluations, 3, "one per bundle");
    // The journal holds both products, no personal data, no open intent.
    assert_eq!(store.latest().as_ref(), Some(&report.journal));
    assert!(report.journal.intents.is_empty());
    let json = report.journal.to_json();
    assert!(
        !json.contains("Acme Corp") && !json.contains("@acme"),
        "{json}"
    );
    let cnam = report
        .product(TrustProductKind::Cnam)
        .unwrap()
        .trust_product;
    let fetched = client.trust_products().fetch(cnam).send().await.unwrap();
    assert_eq!(fetched.policy_sid, Some(TrustProductKind::Cnam.policy()));
    // Twilio's review (the emulator approves after 20 ms).
    for _ in 0..100 {
        let status = client
            .trust_products()
            .fetch(cnam)
            .send()
            .await
            .unwrap()
            .status;
        if status == Some(TrustProductStatus::TwilioApproved) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let status = client
        .trust_products()
        .fetch(cnam)
        .send()
        .await
        .unwrap()
        .status;
    assert_eq!(status, Some(TrustProductStatus::TwilioApproved));

    // Again from its journal: nothing created.
    let before = emulator.counters();
    let again = client
        .voice_products(&input)
        .journal(MemoryStore::new())
        .resuming(report.journal.clone())
        .run()
        .await
        .unwrap();
    assert_eq!(created(&emulator.counters()), created(&before));
    assert!(again
        .steps
        .iter()
        .all(|s| matches!(s.outcome, Outcome::Journaled | Outcome::Checked)));
    let kinds: Vec<TrustProductSid> = again.products.iter().map(|p| p.trust_product).collect();
    assert_eq!(
        kinds,
        report
            .products
            .iter()
            .map(|p| p.trust_product)
            .collect::<Vec<_>>()
    );
}

#[tokio::test]
async fn voice_products_go_on_from_an_existing_submitted_profile() {
    let emulator = start(EmulatorConfig::default()).await.unwrap();
    let client = client(&emulator);
    let phone: PhoneNumberSid = emulator.phone_number_sids()[0].parse().unwrap();
    let mut flow = client
        .secondary_profile(&input(&emulator, "Acme Existing").build().unwrap())
        .run()
        .await
        .unwrap();
    flow.submit(trusthub::Submission::WhenCompliant)
        .await
        .unwrap();
    let input = VoiceProducts::builder()
        .existing_profile(flow.bundle())
        .shaken_stir_named("Acme SHAKEN/STIR", "compliance@acme.example.com")
        .phone_numbers([phone])
        .build()
        .unwrap();
    let report = client.voice_products(&input).run().await.unwrap();
    let product = report.product(TrustProductKind::ShakenStir).unwrap();
    assert!(product.evaluation.is_compliant(), "{}", product.evaluation);
    assert!(report.steps.iter().any(|s| s.step == Step::ConfirmProfile));
    assert_eq!(emulator.counters().trust_products, 1);
}

#[tokio::test]
async fn a_crash_after_every_save_then_resume_creates_nothing_twice() {
    let emulator = start(EmulatorConfig::default()).await.unwrap();
    let client = client(&emulator);
    let counting = Arc::new(CrashingStore::new(usize::MAX));
    client
        .voice_products(&products(&emulator, "Acme Voice Count"))
        .journal(counting.clone())
        .run()
        .await
        .unwrap();
    let saves = counting.saves();
    assert!(saves >= 15, "{saves} saves");
    let mut found_again = 0;
    for k in 0..saves {
        let input = products(&emulator, &format!("Acme Voice Crash {k}"));
        let before = emulator.counters();
        let crashing = Arc::new(CrashingStore::new(k));
        let report = match client
            .voice_products(&input)
            .journal(crashing.clone())
            .run()
            .await
        {
            // Concurrent steps share saves: a run may save less often than the counting one.
            Ok(report) => {
                assert!(k + 3 >= saves, "k={k} of {saves}: no crash");
                report
            }
            Err(error) => {
                assert!(matches!(error, FlowError::Journal { .. }), "k={k}: {error}");
                let flow = client.voice_products(&input).journal(MemoryStore::new());
                let flow = match crashing.inner.latest() {
                    Some(journal) => flow.resuming(journal),
                    None => flow,
                };
                flow.run().await.unwrap_or_else(|e| panic!("k={k}: {e}"))
            }
        };
        assert_eq!(report.products.len(), 2, "k={k}");
        assert!(report.journal.intents.is_empty(), "k={k}");
        found_again += report
            .steps
            .iter()
            .filter(|s| s.outcome == Outcome::Found)
            .count();
        let after = emulator.counters();
        let delta: Vec<(&str, u64)> = created(&after)
            .iter()
            .zip(created(&before))
            .map(|((name, a), (_, b))| (*name, a - b))
            .collect();
        assert_eq!(delta, per_profile(1).to_vec(), "k={k}: created twice");
    }
    assert!(found_again > 0, "no resume had to look anything up");
    eprintln!("voice resume: {found_again} resources found by lookup across {saves} crash points");
}

#[test]
fn voice_input_is_checked_before_anything_is_sent() {
    let emulator_number: PhoneNumberSid = "PN0123456789abcdef0123456789abcdef".parse().unwrap();
    let mut business = crate::fixtures::business();
    business.business_registration_identifier = RegistrationIdentifier::Vat;
    let profile = crate::fixtures::input_for(
        "BU0123456789abcdef0123456789abcdef".parse().unwrap(),
        "PN1111111111111111111111111111111a".parse().unwrap(),
        "Acme",
    )
    .business(business)
    .build()
    .unwrap();
    let errors = VoiceProducts::builder()
        .secondary_profile(profile)
        .cnam("9 to 5 Corp")
        .phone_numbers([emulator_number])
        .build()
        .unwrap_err();
    let fields: Vec<&str> = errors.fields().collect();
    assert_eq!(fields, ["cnam.display_name", "phone_numbers"], "{errors}");
    let text = errors.to_string();
    assert!(text.contains("starting with a digit"), "{text}");
    assert!(!text.contains("9 to 5"), "{text}");
}
