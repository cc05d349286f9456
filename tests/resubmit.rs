//! Fix and resubmit: a profile the emulator rejects is fixed from corrected input with one call,
//! updating only what changed (request counts asserted), evaluated again, resubmitted once, and
//! approved; a fix that cannot be an update, or of a profile not rejected, is refused before
//! anything is sent.

use std::time::Duration;

use crate::fixtures::{client, input, representative};
use trusthub::api::trusthub_v1::CustomerProfileStatus;
use trusthub::flow::{MemoryStore, Step};
use trusthub::{FlowError, Submission};
use trusthub_emulator::{start, Decision, EmulatorConfig};

#[tokio::test]
async fn a_rejected_profile_is_fixed_and_resubmitted_with_one_call() {
    let emulator = start(EmulatorConfig::default()).await.unwrap();
    let client = client(&emulator);
    let first = input(&emulator, "Acme Fix").build().unwrap();
    let store = MemoryStore::new();
    let mut report = client
        .secondary_profile(&first)
        .journal(store.clone())
        .run()
        .await
        .unwrap();
    report.submit(Submission::WhenCompliant).await.unwrap();
    let bundle = report.bundle();
    let (timeout, poll) = (Duration::from_secs(5), Duration::from_millis(10));
    report.wait_for_review(timeout, poll).await.unwrap();
    emulator
        .decide(
            bundle.as_str(),
            Decision::Reject {
                reason: "The authorized representative's phone number does not match".into(),
            },
        )
        .await
        .unwrap();
    assert_eq!(
        report.wait_for_decision(timeout, poll).await.unwrap(),
        CustomerProfileStatus::TwilioRejected
    );

    // The corrected input: the first representative's phone number.
    let mut fixed_rep = representative(1);
    fixed_rep.phone_number = "+14155550199".into();
    let corrected = input(&emulator, "Acme Fix")
        .representative_1(fixed_rep)
        .build()
        .unwrap();
    let before = emulator.counters();
    let fixed = client
        .fix_profile(&corrected, store.latest().unwrap())
        .journal(store.clone())
        .run()
        .await
        .unwrap();
    assert_eq!(fixed.updated, ["representative_1"]);
    assert!(fixed.evaluation.is_compliant(), "{}", fixed.evaluation);
    assert_eq!(fixed.status, CustomerProfileStatus::PendingReview);
    assert_eq!(fixed.journal.resubmissions, 1);
    assert!(fixed.journal.intents.is_empty());
    assert_eq!(store.latest().as_ref(), Some(&fixed.journal));
    let steps: Vec<&Step> = fixed.steps.iter().map(|s| &s.step).collect();
    assert_eq!(
        steps,
        [
            &Step::UpdateEndUser(trusthub::flow::EndUserRole::Representative1),
            &Step::Evaluate,
            &Step::Resubmit
        ]
    );
    // Requests: the status, one end user update, one evaluation, one resubmission; nothing
    // created but the evaluation.
    let after = emulator.counters();
    assert_eq!(after.requests_served - before.requests_served, 4);
    assert_eq!(after.end_users, before.end_users);
    assert_eq!(after.customer_profiles, before.customer_profiles);
    assert_eq!(
        after.evaluations,
        before.evaluations + 1 + 1,
        "the fix's and the review's"
    );

    // Twilio's review of the fixed profile.
    assert_eq!(
        report.wait_for_review(timeout, poll).await.unwrap(),
        CustomerProfileStatus::InReview
    );
    emulator
        .decide(bundle.as_str(), Decision::Approve)
        .await
        .unwrap();
    let status = report.wait_for_decision(timeout, poll).await.unwrap();
    assert_eq!(status, CustomerProfileStatus::TwilioApproved);

    // The fix again: nothing sent (the profile is not rejected any more).
    let again = client
        .fix_profile(&corrected, store.latest().unwrap())
        .run()
        .await
        .unwrap_err();
    assert!(matches!(again, FlowError::NotRejected { .. }), "{again}");
}

#[tokio::test]
async fn a_fix_that_no_update_can_make_is_refused_before_anything_is_sent() {
    let emulator = start(EmulatorConfig::default()).await.unwrap();
    let client = client(&emulator);
    let first = input(&emulator, "Acme Unfixable").build().unwrap();
    let store = MemoryStore::new();
    let mut report = client
        .secondary_profile(&first)
        .journal(store.clone())
        .run()
        .await
        .unwrap();
    report.submit(Submission::WhenCompliant).await.unwrap();
    let other_primary = "BU9999999999999999999999999999999a".parse().unwrap();
    let corrected = input(&emulator, "Acme Unfixable")
        .primary_profile(other_primary)
        .build()
        .unwrap();
    let before = emulator.counters().requests_served;
    let error = client
        .fix_profile(&corrected, store.latest().unwrap())
        .run()
        .await
        .unwrap_err();
    let FlowError::StaleJournal { detail } = &error else {
        panic!("{error}");
    };
    assert!(detail.contains("primary_profile"), "{detail}");
    assert_eq!(emulator.counters().requests_served, before);
}

#[tokio::test]
async fn a_fix_interrupted_at_any_save_finishes_with_one_resubmission() {
    use crate::fixtures::CrashingStore;
    use std::sync::Arc;
    let emulator = start(EmulatorConfig::default()).await.unwrap();
    let client = client(&emulator);
    let (timeout, poll) = (Duration::from_secs(5), Duration::from_millis(10));
    let mut k = 0;
    loop {
        let name = format!("Acme Fix Crash {k}");
        let store = MemoryStore::new();
        let mut report = client
            .secondary_profile(&input(&emulator, &name).build().unwrap())
            .journal(store.clone())
            .run()
            .await
            .unwrap();
        report.submit(Submission::WhenCompliant).await.unwrap();
        report.wait_for_review(timeout, poll).await.unwrap();
        emulator
            .decide(
                report.bundle().as_str(),
                Decision::Reject {
                    reason: "the representative's phone number does not match".into(),
                },
            )
            .await
            .unwrap();
        report.wait_for_decision(timeout, poll).await.unwrap();
        let mut rep = representative(1);
        rep.phone_number = "+14155550199".into();
        let corrected = input(&emulator, &name)
            .representative_1(rep)
            .build()
            .unwrap();
        let before = emulator.counters();
        // The fix dies at its k-th save, then runs again from the last saved journal.
        let crashing = Arc::new(CrashingStore::new(k));
        let first = client
            .fix_profile(&corrected, store.latest().unwrap())
            .journal(crashing.clone())
            .run()
            .await;
        let finished = match first {
            Ok(fixed) => fixed,
            Err(e) => {
                assert!(matches!(e, FlowError::Journal { .. }), "k={k}: {e}");
                let journal = crashing
                    .inner
                    .latest()
                    .unwrap_or_else(|| store.latest().unwrap());
                client
                    .fix_profile(&corrected, journal)
                    .run()
                    .await
                    .unwrap_or_else(|e| panic!("k={k}: {e}"))
            }
        };
        // Sent by this run, or by the interrupted one and read back from the bundle.
        assert!(
            matches!(
                finished.status,
                CustomerProfileStatus::PendingReview | CustomerProfileStatus::InReview
            ),
            "k={k}: {}",
            finished.status
        );
        assert!(finished.journal.intents.is_empty(), "k={k}");
        let after = emulator.counters();
        assert_eq!(
            after.bundle_resubmissions - before.bundle_resubmissions,
            1,
            "k={k}: resubmitted twice"
        );
        assert_eq!(after.end_users, before.end_users, "k={k}");
        if crashing.saves() <= k {
            break; // the fix saved fewer times than k: every crash point was tried
        }
        k += 1;
    }
    assert!(k >= 3, "a fix saves at least three times ({k})");
}
