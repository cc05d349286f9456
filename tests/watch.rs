//! Reconciliation: with 30% of the status callbacks lost, the statuses the webhooks brought plus
//! one refresh bring every journal up to date, and the refresh reports exactly what the
//! webhooks missed.

use std::time::Duration;

use crate::fixtures::{client, input};
use crate::support::{Canned, CaptureServer};
use trusthub::flow::{Journal, MemoryStore, NoStore};
use trusthub::signature::decode_form;
use trusthub::watch::{self, Watched, Watcher};
use trusthub::Submission;
use trusthub_emulator::{start, Decision, EmulatorConfig, Faults};

#[tokio::test]
async fn with_a_third_of_the_callbacks_lost_a_refresh_brings_every_status_up_to_date() {
    const PROFILES: usize = 12;
    let receiver = CaptureServer::start().await;
    for _ in 0..PROFILES * 6 {
        receiver.answer(Canned::json(200, "{}"));
    }
    let emulator = start(
        EmulatorConfig::default()
            .with_seed(30)
            .with_auto_decision(Duration::from_millis(20), Decision::Approve)
            .with_faults(Faults::none().with_callback_loss_rate(0.3)),
    )
    .await
    .unwrap();
    let client = client(&emulator);
    let mut journals: Vec<Journal> = Vec::new();
    for i in 0..PROFILES {
        let profile = input(&emulator, &format!("Acme Watch {i}"))
            .status_callback(format!("{}/callbacks", receiver.base_url))
            .build()
            .unwrap();
        let store = MemoryStore::new();
        let mut report = client
            .secondary_profile(&profile)
            .journal(store.clone())
            .run()
            .await
            .unwrap();
        report.submit(Submission::WhenCompliant).await.unwrap();
        journals.push(report.journal);
    }
    // Twilio decides every profile (the emulator, 20 ms after review starts).
    for journal in &journals {
        let bundle = journal.bundle.unwrap();
        for _ in 0..200 {
            let p = client
                .customer_profiles()
                .fetch(bundle)
                .send()
                .await
                .unwrap();
            if p.status.as_ref().map(|s| s.as_str()) == Some("twilio-approved") {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
    tokio::time::sleep(Duration::from_millis(200)).await; // the last callbacks' delivery
                                                          // What the webhooks brought, in the order they came.
    for request in receiver.requests() {
        let form = decode_form(&request.body).unwrap();
        let get = |k: &str| form.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
        let (Some(bundle), Some(status)) = (get("BundleSid"), get("Status")) else {
            continue;
        };
        let journal = journals
            .iter_mut()
            .find(|j| j.bundle.map(|b| b.to_string()) == Some(bundle.clone()))
            .expect("a callback of one of the profiles");
        watch::record_event(journal, journal.bundle.unwrap().into(), &status);
    }
    let lost_finals = journals
        .iter()
        .filter(|j| {
            j.statuses
                .get(&j.bundle.unwrap().into())
                .map(String::as_str)
                != Some("twilio-approved")
        })
        .count();
    let counters = emulator.counters();
    assert!(counters.status_callbacks_lost > 0, "{counters:?}");
    assert!(
        lost_finals > 0,
        "no final status was lost: the test proves nothing"
    );

    // One refresh per journal: exactly the statuses the webhooks missed.
    let mut changed = 0;
    for journal in &mut journals {
        let changes = watch::refresh(&client, journal, &NoStore).await.unwrap();
        for change in &changes {
            assert!(matches!(change.resource, Watched::Profile(_)));
            assert_eq!(change.current, "twilio-approved");
        }
        changed += changes.len();
        assert_eq!(
            journal
                .statuses
                .get(&journal.bundle.unwrap().into())
                .map(String::as_str),
            Some("twilio-approved")
        );
    }
    assert_eq!(changed, lost_finals);
    // Everything is decided: settling sends nothing more.
    let before = emulator.counters().requests_served;
    let mut with_stores: Vec<(Journal, &dyn trusthub::flow::JournalStore)> =
        journals.into_iter().map(|j| (j, &NoStore as _)).collect();
    let changes = Watcher::default()
        .settle(&client, &mut with_stores, Duration::from_secs(1))
        .await
        .unwrap();
    assert!(changes.is_empty());
    assert_eq!(emulator.counters().requests_served, before);
    eprintln!(
        "watch: {} callbacks lost of {}, {lost_finals} final statuses brought by the refresh",
        counters.status_callbacks_lost,
        counters.status_callbacks_sent + counters.status_callbacks_lost
    );
}

#[tokio::test]
async fn the_watcher_settles_journals_whose_reviews_end_later() {
    let emulator = start(
        EmulatorConfig::default().with_auto_decision(Duration::from_millis(150), Decision::Approve),
    )
    .await
    .unwrap();
    let client = client(&emulator);
    let mut report = client
        .secondary_profile(&input(&emulator, "Acme Settle").build().unwrap())
        .run()
        .await
        .unwrap();
    report.submit(Submission::WhenCompliant).await.unwrap();
    let watcher = Watcher {
        initial: Duration::from_millis(20),
        max: Duration::from_millis(80),
    };
    let mut journals: Vec<(Journal, &dyn trusthub::flow::JournalStore)> =
        vec![(report.journal.clone(), &NoStore)];
    let changes = watcher
        .settle(&client, &mut journals, Duration::from_secs(5))
        .await
        .unwrap();
    let statuses: Vec<&str> = changes.iter().map(|c| c.current.as_str()).collect();
    assert_eq!(statuses.last(), Some(&"twilio-approved"), "{changes:?}");
    assert_eq!(changes[0].previous, None);
}
