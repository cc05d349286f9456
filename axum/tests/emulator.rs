//! End to end: the webhook mounted in an axum server on 127.0.0.1, the emulator delivering the
//! status callbacks of secondary profiles and the Event Streams events of A2P brands and campaigns
//! at least once, with duplicates, reordering and forged copies (a changed body under the genuine
//! signature, or the genuine body under a wrong one, each carrying the genuine idempotency token or
//! CloudEvent id). Every genuine event reaches the user exactly once; every forged copy is refused.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use trusthub::attributes::{
    Address, AuthorizedRepresentative, BusinessIdentity, BusinessIndustry, BusinessInformation,
    BusinessType, CompanyType, JobPosition, MessagingProfileInformation, Region, Regions,
    RegistrationIdentifier,
};
use trusthub::flow::a2p::{Brand, BrandType, Campaign, Journey, Stage};
use trusthub::flow::{MemoryStore, SecondaryProfile};
use trusthub::webhook::{Change, Event, Webhook};
use trusthub::Client;
use trusthub_axum::{from_fn, TwilioWebhook};
use trusthub_emulator::{Counters, Decision, Emulator, EmulatorConfig, Faults};

fn representative(first: &str, position: JobPosition) -> AuthorizedRepresentative {
    AuthorizedRepresentative {
        first_name: first.into(),
        last_name: "Example".into(),
        email: format!("{}@acme.example.com", first.to_lowercase()),
        phone_number: "+14155550101".into(),
        business_title: "Officer".into(),
        job_position: position,
    }
}

/// One customer's A2P journey, its profile reporting to `callback`.
fn journey(emulator: &Emulator, n: usize, callback: &str) -> Journey {
    let phone = emulator.phone_number_sids()[n].parse().unwrap();
    let name = format!("Acme {n} Corp");
    let profile = SecondaryProfile::builder()
        .friendly_name(&name)
        .email(format!("compliance{n}@acme.example.com"))
        .status_callback(callback)
        .business(BusinessInformation {
            business_name: name.clone(),
            business_identity: BusinessIdentity::DirectCustomer,
            business_type: BusinessType::LimitedLiabilityCorporation,
            business_industry: BusinessIndustry::Technology,
            business_registration_identifier: RegistrationIdentifier::Ein,
            business_registration_number: format!("12345678{n}"),
            business_regions_of_operation: Regions::from([Region::UsaAndCanada]),
            website_url: "https://acme.example.com".into(),
            social_media_profile_urls: vec![],
        })
        .representatives(
            representative("Ada", JobPosition::Ceo),
            representative("Grace", JobPosition::Cfo),
        )
        .address(Address {
            customer_name: name,
            street: format!("{} Main Street", 100 + n),
            city: "San Francisco".into(),
            region: "CA".into(),
            postal_code: "94105".into(),
            iso_country: "US".into(),
            ..Address::default()
        })
        .primary_profile(emulator.primary_profile_sid().parse().unwrap())
        .phone_numbers([phone])
        .build()
        .unwrap();
    let campaign = Campaign {
        description: "One-time passcodes that Acme sends to its customers when they sign in."
            .into(),
        message_flow: "Customers give their mobile number on acme.example.com/signup and tick a \
                       box agreeing to receive sign-in codes."
            .into(),
        message_samples: vec![
            "Acme: your sign-in code is 123456. It expires in 10 minutes.".into(),
            "Acme: 654321 is your code. Reply STOP to opt out, HELP for help.".into(),
        ],
        opt_out_keywords: vec!["STOP".into()],
        opt_out_message: Some("Acme: you are unsubscribed and will get no more messages.".into()),
        help_keywords: vec!["HELP".into()],
        help_message: Some("Acme: for help write to support@acme.example.com.".into()),
        ..Campaign::new("2FA")
    };
    Journey::builder()
        .secondary_profile(profile)
        .messaging_profile(MessagingProfileInformation::new(CompanyType::Private))
        .brand(Brand::new(BrandType::LowVolumeStandard))
        .messaging_service(format!("Acme {n} sign-in codes"))
        .campaign(campaign)
        .phone_numbers([phone])
        .build()
        .unwrap()
}

/// Waits until the emulator's counters satisfy `done` (at most 30 s).
async fn wait_counters(emulator: &Emulator, what: &str, done: impl Fn(&Counters) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let counters = emulator.counters();
        if done(&counters) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what}: {counters:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_emulators_deliveries_reach_the_user_once_and_forgeries_never() {
    const CUSTOMERS: usize = 3;
    // The user's side: a server on a free loopback port, the events in a log.
    let received: Arc<Mutex<Vec<Event>>> = Arc::default();
    let log = Arc::clone(&received);
    let sink = from_fn(move |event: Event| {
        let log = Arc::clone(&log);
        async move {
            log.lock().unwrap().push(event);
            Ok::<(), std::convert::Infallible>(())
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let hook = TwilioWebhook::new(Webhook::new(trusthub_emulator::DEFAULT_AUTH_TOKEN), sink)
        .public_base_url(&base);
    let app = axum::Router::new()
        .route_service("/twilio/status", hook.clone())
        .route_service("/twilio/events", hook);
    let server = tokio::spawn(async move { axum::serve(listener, app).await });

    // Twilio's side: duplicates, forged copies of every event, copies sent out of order.
    let decide = Duration::from_millis(30);
    let emulator = trusthub_emulator::start(
        EmulatorConfig::default()
            .with_seed(11)
            .with_phone_numbers(CUSTOMERS)
            .with_auto_decision(decide, Decision::Approve)
            .with_brand_decision(decide, Decision::Approve)
            .with_campaign_decision(decide, Decision::Approve)
            .with_event_sink(format!("{base}/twilio/events?sink=a2p"))
            .with_faults(
                Faults::none()
                    .with_callback_duplicate_rate(0.6)
                    .with_callback_tamper_rate(1.0)
                    .with_callback_reorder(Duration::from_millis(40))
                    .with_callback_retries(5, Duration::from_millis(20)),
            ),
    )
    .await
    .unwrap();
    let client = Client::builder()
        .account_sid(emulator.account_sid().parse().unwrap())
        .auth_token(emulator.auth_token())
        .base_url(emulator.base_url())
        .build()
        .unwrap();
    let callback = format!("{base}/twilio/status?tenant=acme");
    let mut profiles = BTreeSet::new();
    let mut brands = BTreeSet::new();
    let mut campaigns = BTreeSet::new();
    for n in 0..CUSTOMERS {
        let journey = journey(&emulator, n, &callback);
        let report = client
            .a2p_journey(&journey)
            .journal(MemoryStore::new())
            .wait_for_brand(Duration::from_secs(20))
            .wait_for_campaign(Duration::from_secs(20))
            .poll(Duration::from_millis(20))
            .run()
            .await
            .unwrap();
        assert!(
            matches!(report.stage, Stage::Registered { .. }),
            "{}",
            report.stage
        );
        profiles.insert(report.journal.bundle.expect("a profile").to_string());
        brands.insert(report.brand().expect("a brand").to_string());
        campaigns.insert(report.campaign().expect("a campaign").to_string());
    }

    // Every copy answered: each event's genuine copies (2xx) and its forged one.
    wait_counters(&emulator, "every delivery answered", |c| {
        let callbacks = c.status_callbacks_sent - c.status_callbacks_duplicated;
        let events = c.events_sent - c.events_duplicated;
        callbacks == 3 * CUSTOMERS as u64
            && c.status_callbacks_tampered == callbacks
            && events == 2 * CUSTOMERS as u64
            && c.events_tampered == events
    })
    .await;
    // The forged copies are sent once, at most `reorder` after their event: let them land.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let counters = emulator.counters();
    let genuine_callbacks = counters.status_callbacks_sent - counters.status_callbacks_duplicated;
    let genuine_events = counters.events_sent - counters.events_duplicated;
    assert!(
        counters.status_callbacks_duplicated + counters.events_duplicated > 0,
        "{counters:?}"
    );
    assert_eq!(
        counters.status_callbacks_tampered_accepted, 0,
        "a forged callback was accepted"
    );
    assert_eq!(
        counters.events_tampered_accepted, 0,
        "a forged event was accepted"
    );
    assert_eq!(
        counters.status_callbacks_failed + counters.status_callbacks_lost,
        0
    );
    assert_eq!(counters.events_failed + counters.events_lost, 0);

    println!(
        "emulator: {genuine_callbacks} status callbacks and {genuine_events} A2P events, {} \
         duplicate copies, {} forged copies (all refused), {} retries",
        counters.status_callbacks_duplicated + counters.events_duplicated,
        counters.status_callbacks_tampered + counters.events_tampered,
        counters.status_callbacks_retried + counters.events_retried,
    );
    // Exactly once: as many events as Twilio's distinct genuine events, no id twice.
    let received = received.lock().unwrap().clone();
    assert_eq!(
        received.len() as u64,
        genuine_callbacks + genuine_events,
        "{counters:?}\n{received:#?}"
    );
    let ids: BTreeSet<&str> = received
        .iter()
        .map(|e| e.id.as_deref().expect("an id"))
        .collect();
    assert_eq!(ids.len(), received.len(), "an event reached the user twice");
    // And they are the genuine ones: each profile's lifecycle, each brand and campaign approved.
    let mut statuses: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for event in &received {
        statuses
            .entry(event.change.sid().to_string())
            .or_default()
            .insert(event.change.status().to_owned());
        match &event.change {
            Change::Bundle { .. } => {}
            Change::Brand { sid, status, .. } => {
                assert!(brands.contains(sid.as_str()));
                assert_eq!(
                    status.as_str(),
                    "registered",
                    "a forged brand failure got through"
                );
            }
            Change::Campaign { sid, status, .. } => {
                assert!(campaigns.contains(sid.as_str()));
                assert!(
                    status.is_approved(),
                    "a forged campaign failure got through: {status}"
                );
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    for profile in &profiles {
        let seen = &statuses[profile];
        assert!(
            seen.contains("in-review") && seen.contains("twilio-approved"),
            "{profile}: {seen:?}"
        );
        assert!(
            !seen.contains("twilio-rejected"),
            "a forged rejection got through"
        );
    }
    emulator.shutdown().await;
    server.abort();
}
