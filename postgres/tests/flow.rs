//! The profile flow on the emulator with the PostgreSQL store: a worker crashes mid-flow, another
//! takes the job over when its lease expires and finishes it from the journal, creating nothing
//! twice; the first worker, back, can save nothing and sends no create.

use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use trusthub::attributes::{
    Address, AuthorizedRepresentative, BusinessIdentity, BusinessIndustry, BusinessInformation,
    BusinessType, JobPosition, Region, Regions, RegistrationIdentifier,
};
use trusthub::flow::{DigestKey, FlowError, Intent, Journal, JournalStore, SecondaryProfile};
use trusthub::sid::ObjectSid;
use trusthub::Client;
use trusthub_postgres::{is_lease_lost, Outcome, PgJournalStore, PgQueue, StoreKey};

use crate::support::Cluster;

fn input(primary: &str) -> SecondaryProfile {
    let representative =
        |first: &str, email: &str, phone: &str, position| AuthorizedRepresentative {
            first_name: first.into(),
            last_name: "Example".into(),
            email: email.into(),
            phone_number: phone.into(),
            business_title: "Officer".into(),
            job_position: position,
        };
    SecondaryProfile::builder()
        .friendly_name("Acme Corp")
        .email("compliance@acme.example.com")
        .business(BusinessInformation {
            business_name: "Acme Corp".into(),
            business_identity: BusinessIdentity::DirectCustomer,
            business_type: BusinessType::LimitedLiabilityCorporation,
            business_industry: BusinessIndustry::Technology,
            business_registration_identifier: RegistrationIdentifier::Ein,
            business_registration_number: "123456789".into(),
            business_regions_of_operation: Regions::from([Region::UsaAndCanada]),
            website_url: "https://acme.example.com".into(),
            social_media_profile_urls: vec![],
        })
        .representatives(
            representative(
                "Ada",
                "ada@acme.example.com",
                "+14155550101",
                JobPosition::Ceo,
            ),
            representative(
                "Grace",
                "grace@acme.example.com",
                "+14155550102",
                JobPosition::Cfo,
            ),
        )
        .address(Address {
            customer_name: "Acme Corp".into(),
            street: "555 Main Street".into(),
            street_secondary: Some("Suite 200".into()),
            city: "San Francisco".into(),
            region: "CA".into(),
            postal_code: "94105".into(),
            iso_country: "US".into(),
            friendly_name: None,
            emergency_enabled: None,
            auto_correct_address: None,
        })
        .primary_profile(primary.parse().unwrap())
        .build()
        .unwrap()
}

/// A worker that dies at the first save of a journal holding an end user: that end user was
/// created at Twilio and its SID never saved (a lost create, its intent journaled). Every save
/// from then on fails, as if the process had ended there, and the flow stops.
struct Crashing {
    inner: PgJournalStore,
    crashed: AtomicBool,
}

impl JournalStore for Crashing {
    fn save(&self, journal: &Journal) -> io::Result<()> {
        if !journal.end_users.is_empty() {
            self.crashed.store(true, Ordering::SeqCst);
        }
        if self.crashed.load(Ordering::SeqCst) {
            return Err(io::Error::other("the worker crashed"));
        }
        self.inner.save(journal)
    }
    fn digest_key(&self) -> &DigestKey {
        self.inner.digest_key()
    }
    fn held_elsewhere(&self, journal: &Journal, sid: ObjectSid) -> bool {
        self.inner.held_elsewhere(journal, sid)
    }
    fn try_claim(&self, journal: &Journal, sid: ObjectSid) -> bool {
        self.inner.try_claim(journal, sid)
    }
    fn rivals(&self, journal: &Journal, key: &str, intent: &Intent) -> usize {
        self.inner.rivals(journal, key, intent)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crashed_flow_is_taken_over_and_finished_creating_nothing_twice() {
    let cluster = Cluster::start();
    let url = cluster.database("flow").await;
    let key = StoreKey::generate().unwrap();
    let emulator = trusthub_emulator::start(trusthub_emulator::EmulatorConfig::default())
        .await
        .unwrap();
    let client = Client::builder()
        .account_sid(emulator.account_sid().parse().unwrap())
        .auth_token(emulator.auth_token())
        .base_url(emulator.base_url())
        .build()
        .unwrap();
    let input = input(emulator.primary_profile_sid());

    let a = PgQueue::connect(&url, key.clone()).await.unwrap();
    let b = PgQueue::connect(&url, key.clone()).await.unwrap();
    a.enqueue("crm-acme", b"the row of Acme Corp")
        .await
        .unwrap();

    // Worker A: its flow creates an end user whose SID it never saves: A dies there.
    let lease_a = a
        .lease("worker-a", Duration::from_secs(60))
        .await
        .unwrap()
        .unwrap();
    assert!(lease_a.journal().is_none());
    let crashed = client
        .secondary_profile(&input)
        .journal(Crashing {
            inner: lease_a.store(),
            crashed: AtomicBool::new(false),
        })
        .run()
        .await
        .unwrap_err();
    assert!(matches!(crashed, FlowError::Journal { .. }), "{crashed}");
    let partial = a
        .status("crm-acme")
        .await
        .unwrap()
        .unwrap()
        .journal
        .unwrap();
    // The steps run concurrently: the bundle's SID may or may not have been saved before; its
    // intent and the end users' were.
    assert!(partial.end_users.is_empty(), "no end user saved");
    assert!(
        partial.intents.keys().any(|k| k.starts_with("end_user.")),
        "their intents were: {partial:?}"
    );
    assert!(partial.bundle.is_some() || partial.intents.contains_key("bundle"));
    let at_crash = emulator.counters();
    assert!(at_crash.end_users >= 1, "an end user was created, and lost");

    // Its lease expires; worker B takes the job over and finishes the flow from the journal.
    cluster.expire_lease("flow", lease_a.job()).await;
    let mut lease_b = b
        .lease("worker-b", Duration::from_secs(60))
        .await
        .unwrap()
        .expect("taken over");
    assert_eq!(lease_b.took_over_from(), Some("worker-a"));
    let resumed = lease_b.take_journal().expect("the journal");
    assert_eq!(resumed, partial);
    let report = client
        .secondary_profile(&input)
        .journal(lease_b.store())
        .resuming(resumed)
        .run()
        .await
        .unwrap();
    if partial.bundle.is_some() {
        assert_eq!(report.journal.bundle, partial.bundle, "the same profile");
    }
    b.finish(&lease_b, Outcome::Done).await.unwrap();
    let done = emulator.counters();
    assert_eq!(done.customer_profiles, 1, "one profile");
    assert_eq!(
        done.end_users,
        report.journal.end_users.len() as u64,
        "each end user once"
    );
    assert_eq!(done.addresses, 1);
    assert_eq!(done.supporting_documents, 1);
    assert!(
        report.journal.end_users.len() as u64 >= at_crash.end_users,
        "the lost end users were adopted"
    );

    // The database knows every SID the job owns.
    let owned: Vec<String> = cluster
        .client("flow")
        .await
        .query("SELECT sid FROM trusthub.owned_sids", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    for sid in report.journal.owned_sids() {
        assert!(owned.contains(&sid.to_string()), "{sid} not recorded");
    }

    // Worker A comes back with what it had: its lease is gone, its first save is refused, and it
    // sends no create.
    let stale = client
        .secondary_profile(&input)
        .journal(lease_a.store())
        .resuming(partial)
        .run()
        .await
        .unwrap_err();
    let FlowError::Journal { source, .. } = &stale else {
        panic!("a journal error: {stale}")
    };
    assert!(is_lease_lost(source), "{source}");
    let after = emulator.counters();
    assert_eq!(
        (
            after.customer_profiles,
            after.end_users,
            after.addresses,
            after.supporting_documents,
            after.entity_assignments,
            after.evaluations
        ),
        (
            done.customer_profiles,
            done.end_users,
            done.addresses,
            done.supporting_documents,
            done.entity_assignments,
            done.evaluations
        ),
        "nothing created by the stale worker"
    );
    emulator.shutdown().await;
}
