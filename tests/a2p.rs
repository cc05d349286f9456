//! The A2P 10DLC journey end to end against the emulator: brand approved and campaign verified
//! with the numbers on the service; a journey that waits for the brand and goes on later; a
//! failed brand's typed reasons and its one-call resubmission; a lost brand create found, not
//! sent again; a crash after every save of the journal, then resume, creating nothing twice and
//! paying one brand and one campaign; 100 journeys under faults.

use std::sync::Arc;
use std::time::Duration;

use crate::fixtures::{self, client, journey, CrashingStore};
use trusthub::api::messaging_v1::{BrandRegistrationsBrandFeedback, BrandRegistrationsStatus};
use trusthub::flow::a2p::{Journey, Stage};
use trusthub::flow::{FlowOptions, Limiter, MemoryStore, Outcome, Step, TrustProductKind};
use trusthub::sid::ObjectSid;
use trusthub::{Client, FlowError, RetryPolicy};
use trusthub_emulator::{start, Counters, Decision, EmulatorConfig, FaultKind, FaultRule, Faults};

const POLL: Duration = Duration::from_millis(10);
const WAIT: Duration = Duration::from_secs(10);

/// What the emulator created that a journey creates once, and what it billed.
fn created(c: &Counters) -> [(&'static str, u64); 8] {
    [
        ("customer_profiles", c.customer_profiles),
        ("trust_products", c.trust_products),
        ("end_users", c.end_users),
        ("entity_assignments", c.entity_assignments),
        ("brand_registrations", c.brand_registrations),
        ("messaging_services", c.messaging_services),
        ("campaigns", c.campaigns),
        ("fees", c.fees),
    ]
}

/// A journey from a new profile with one phone number: 1 profile, 1 trust product, 3 + 1 end
/// users, 5 + 2 entity assignments, 1 brand, 1 service, 1 campaign; fees: the brand and the
/// campaign.
fn per_journey(n: u64) -> [(&'static str, u64); 8] {
    [
        ("customer_profiles", n),
        ("trust_products", n),
        ("end_users", 4 * n),
        ("entity_assignments", 7 * n),
        ("brand_registrations", n),
        ("messaging_services", n),
        ("campaigns", n),
        ("fees", 2 * n),
    ]
}

fn approving() -> EmulatorConfig {
    EmulatorConfig::default()
        .with_auto_decision(Duration::from_millis(20), Decision::Approve)
        .with_brand_decision(Duration::from_millis(20), Decision::Approve)
        .with_campaign_decision(Duration::from_millis(20), Decision::Approve)
}

#[tokio::test]
async fn the_journey_registers_a_brand_and_a_campaign_with_the_numbers_on_the_service() {
    let emulator = start(approving()).await.unwrap();
    let client = client(&emulator);
    let input = journey(&emulator, "Acme Journey", 0).build().unwrap();
    let store = MemoryStore::new();
    let report = client
        .a2p_journey(&input)
        .journal(store.clone())
        .wait_for_brand(WAIT)
        .wait_for_campaign(WAIT)
        .poll(POLL)
        .run()
        .await
        .unwrap();
    let (brand, campaign) = match &report.stage {
        Stage::Registered { brand, campaign } => (*brand, *campaign),
        other => panic!("not registered: {other}"),
    };
    assert_eq!(report.brand(), Some(brand));
    assert_eq!(report.campaign(), Some(campaign));
    assert!(report.trust_product_evaluation.is_compliant());
    assert!(report.profile_evaluation.as_ref().unwrap().is_compliant());
    assert_eq!(created(&emulator.counters()), per_journey(1));
    // The number is on the service, the campaign on the service and the brand.
    let service = report.messaging_service().unwrap();
    let numbers = client
        .services()
        .phone_numbers(service)
        .list()
        .into_stream()
        .collect_all()
        .await
        .unwrap();
    assert_eq!(numbers.len(), 1);
    assert_eq!(
        numbers[0].sid.map(ObjectSid::from),
        Some(emulator.phone_number_sids()[0].parse().unwrap())
    );
    let fetched = client
        .services()
        .usa2p(service)
        .fetch(campaign)
        .send()
        .await
        .unwrap();
    assert_eq!(fetched.brand_registration_sid, Some(brand));
    // Every step is reported once; the profile's first, the campaign's last.
    let step = |s: &Step| report.steps.iter().filter(|r| &r.step == s).count();
    for s in [
        Step::CreateBundle,
        Step::Submit,
        Step::CreateTrustProduct(TrustProductKind::A2pMessagingProfile),
        Step::SubmitTrustProduct(TrustProductKind::A2pMessagingProfile),
        Step::RegisterBrand,
        Step::CreateMessagingService,
        Step::CreateCampaign,
    ] {
        assert_eq!(step(&s), 1, "{s}");
    }
    assert!(matches!(
        report.steps.last().unwrap().step,
        Step::CampaignReview
    ));
    // The journal the store holds is the report's, with no personal data in it.
    assert_eq!(store.latest().as_ref(), Some(&report.journal));
    let json = report.journal.to_json();
    assert!(!json.contains("acme.example.com"), "{json}");
    assert!(report.journal.intents.is_empty());
    // Nor in the Debug output of the input and the report (emails, the campaign's texts).
    for debug in [format!("{input:?}"), format!("{report:?}")] {
        for personal in ["@acme.example.com", "Rep1", "sign-in code", "555 Main"] {
            assert!(!debug.contains(personal), "{personal} in {debug}");
        }
    }

    // Running it again from its journal sends no create.
    let before = emulator.counters();
    let again = client
        .a2p_journey(&input)
        .journal(MemoryStore::new())
        .resuming(report.journal.clone())
        .run()
        .await
        .unwrap();
    assert!(again.stage.is_registered(), "{}", again.stage);
    assert_eq!(created(&emulator.counters()), created(&before));
    assert!(again
        .steps
        .iter()
        .all(|s| matches!(s.outcome, Outcome::Journaled | Outcome::Checked)));
}

#[tokio::test]
async fn a_journey_waiting_for_the_brand_returns_and_goes_on_later_from_its_journal() {
    // No decision for brands: the brand stays PENDING until the test decides it.
    let emulator = start(
        EmulatorConfig::default()
            .with_auto_decision(Duration::from_millis(20), Decision::Approve)
            .with_campaign_decision(Duration::from_millis(20), Decision::Approve),
    )
    .await
    .unwrap();
    let client = client(&emulator);
    let input = journey(&emulator, "Acme Waiting", 0).build().unwrap();
    let store = MemoryStore::new();
    let first = client
        .a2p_journey(&input)
        .journal(store.clone())
        .run()
        .await
        .unwrap();
    let brand = match first.stage {
        Stage::BrandPending { brand, ref status } => {
            assert_eq!(*status, BrandRegistrationsStatus::Pending);
            brand
        }
        ref other => panic!("{other}"),
    };
    assert_eq!(
        first.stage.to_string(),
        format!("waiting for brand {brand} (PENDING)")
    );
    let journal = store.latest().unwrap();
    assert_eq!(journal.a2p.as_ref().unwrap().brand, Some(brand));
    assert_eq!(
        journal.a2p.as_ref().unwrap().brand_status.as_deref(),
        Some("PENDING")
    );
    assert_eq!(emulator.counters().campaigns, 0);

    emulator
        .decide_brand(brand.as_str(), Decision::Approve)
        .await
        .unwrap();
    let later = client
        .a2p_journey(&input)
        .journal(store.clone())
        .resuming(journal)
        .wait_for_campaign(WAIT)
        .poll(POLL)
        .run()
        .await
        .unwrap();
    assert!(later.stage.is_registered(), "{}", later.stage);
    assert_eq!(later.brand(), Some(brand));
    assert_eq!(created(&emulator.counters()), per_journey(1));
}

#[tokio::test]
async fn a_failed_brand_reaches_the_user_typed_and_is_resubmitted_in_one_call() {
    let emulator = start(
        EmulatorConfig::default()
            .with_auto_decision(Duration::from_millis(20), Decision::Approve)
            .with_campaign_decision(Duration::from_millis(20), Decision::Approve),
    )
    .await
    .unwrap();
    let client = client(&emulator);
    let input = journey(&emulator, "Acme Failing", 0).build().unwrap();
    let store = MemoryStore::new();
    let pending = client
        .a2p_journey(&input)
        .journal(store.clone())
        .run()
        .await
        .unwrap();
    let brand = pending.brand().unwrap();
    // TCR's decision with its feedback, through the emulator's control endpoint.
    let decided = reqwest::Client::new()
        .post(format!(
            "{}/__emulator/brand-registrations/{brand}/decision",
            emulator.base_url()
        ))
        .header("Content-Type", "application/json")
        .body(
            serde_json::json!({
                "decision": "reject",
                "reason": "Tax ID does not match the legal company name",
                "feedback": ["TAX_ID"],
            })
            .to_string(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(decided.status(), 200);
    let mut failed = client
        .a2p_journey(&input)
        .journal(store.clone())
        .resuming(store.latest().unwrap())
        .run()
        .await
        .unwrap();
    let Stage::BrandFailed { brand: b, failure } = &failed.stage else {
        panic!("{}", failed.stage);
    };
    assert_eq!(*b, brand);
    assert!(
        failure.to_string().contains("Tax ID does not match"),
        "{failure}"
    );
    let error = &failure.errors[0];
    assert_eq!(
        error.error_code,
        Some(i64::from(trusthub_emulator::BRAND_REJECTION_CODE))
    );
    assert!(
        error
            .description
            .as_deref()
            .is_some_and(|d| d.contains("Tax ID")),
        "{failure:?}"
    );
    assert_eq!(failure.feedback, [BrandRegistrationsBrandFeedback::TaxId]);
    assert!(
        failure.to_string().contains("feedback: TAX_ID"),
        "{failure}"
    );
    assert_eq!(
        emulator.counters().campaigns,
        0,
        "no campaign for a failed brand"
    );

    // One call resubmits; the journal counts it; the brand is vetted again.
    let status = failed.resubmit_brand().await.unwrap();
    assert_eq!(status, BrandRegistrationsStatus::Pending);
    assert_eq!(failed.journal.a2p.as_ref().unwrap().brand_resubmissions, 1);
    assert_eq!(store.latest().as_ref(), Some(&failed.journal));
    assert_eq!(emulator.counters().brand_resubmissions, 1);
    // Asked again for a brand that is not FAILED: refused, nothing sent.
    let again = failed.resubmit_brand().await.unwrap_err();
    assert!(matches!(again, FlowError::BrandNotFailed { .. }), "{again}");
    assert_eq!(emulator.counters().brand_resubmissions, 1);

    emulator
        .decide_brand(brand.as_str(), Decision::Approve)
        .await
        .unwrap();
    let done = client
        .a2p_journey(&input)
        .journal(store.clone())
        .resuming(store.latest().unwrap())
        .wait_for_campaign(WAIT)
        .poll(POLL)
        .run()
        .await
        .unwrap();
    assert!(done.stage.is_registered(), "{}", done.stage);
    assert_eq!(emulator.counters().brand_registrations, 1);
}

#[tokio::test]
async fn a_brand_create_whose_answer_is_lost_is_found_not_sent_again() {
    for kind in [FaultKind::CommitThenDrop, FaultKind::CommitThenGateway503] {
        let faults = Faults::none().with_rule(FaultRule::new(
            "POST",
            "/v1/a2p/BrandRegistrations",
            kind,
            1,
        ));
        let emulator = start(approving().with_faults(faults)).await.unwrap();
        let client = client(&emulator);
        let input = journey(&emulator, "Acme Lost Brand", 0).build().unwrap();
        let report = client
            .a2p_journey(&input)
            .wait_for_brand(WAIT)
            .wait_for_campaign(WAIT)
            .poll(POLL)
            .run()
            .await
            .unwrap();
        assert!(report.stage.is_registered(), "{kind:?}: {}", report.stage);
        let brand_step = report
            .steps
            .iter()
            .find(|s| s.step == Step::RegisterBrand)
            .unwrap();
        assert_eq!(brand_step.outcome, Outcome::Found, "{kind:?}");
        assert_eq!(created(&emulator.counters()), per_journey(1), "{kind:?}");
    }
}

#[tokio::test]
async fn a_crash_after_every_save_then_resume_creates_nothing_twice_and_pays_once() {
    let emulator = start(approving().with_phone_numbers(1)).await.unwrap();
    let client = client(&emulator);
    let run = |input: &Journey, store: Arc<CrashingStore>| {
        let client = client.clone();
        let input = input.clone();
        async move {
            client
                .a2p_journey(&input)
                .journal(store)
                .wait_for_brand(WAIT)
                .wait_for_campaign(WAIT)
                .poll(POLL)
                .run()
                .await
        }
    };
    // How many saves a whole journey makes.
    let counting = Arc::new(CrashingStore::new(usize::MAX));
    let input = journey(&emulator, "Acme Count", 0)
        .phone_numbers([])
        .build()
        .unwrap();
    let report = run(&input, counting.clone()).await.unwrap();
    assert!(report.stage.is_registered());
    let saves = counting.saves();
    assert!(saves >= 20, "{saves} saves");
    let mut found_again = 0;
    // Resumes from the last journal the crashed run saved (none: nothing was sent).
    let resume = |crashing: &CrashingStore, input: &Journey, k: usize| {
        let journal = crashing.inner.latest();
        let client = client.clone();
        let input = input.clone();
        async move {
            let flow = client.a2p_journey(&input).journal(MemoryStore::new());
            let flow = match journal {
                Some(journal) => flow.resuming(journal),
                None => flow,
            };
            flow.wait_for_brand(WAIT)
                .wait_for_campaign(WAIT)
                .poll(POLL)
                .run()
                .await
                .unwrap_or_else(|e| panic!("k={k}: {e}"))
        }
    };
    // One emulator for every crash point, each journey with its own profile, trust product,
    // service, brand and campaign (phone numbers: the flow tests cover their assignment).
    for k in 0..saves {
        let name = format!("Acme Crash {k}");
        let input = journey(&emulator, &name, 0)
            .phone_numbers([])
            .build()
            .unwrap();
        let before = emulator.counters();
        let crashing = Arc::new(CrashingStore::new(k));
        // Concurrent steps share saves, so a run may save less often than the counting one:
        // one that ends before its k-th save had no crash to resume from.
        let report = match run(&input, crashing.clone()).await {
            Ok(report) => {
                assert!(k + 3 >= saves, "k={k} of {saves}: no crash");
                report
            }
            Err(error) => {
                assert!(matches!(error, FlowError::Journal { .. }), "k={k}: {error}");
                resume(&crashing, &input, k).await
            }
        };
        assert!(report.stage.is_registered(), "k={k}: {}", report.stage);
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
        assert_eq!(delta, per_journey(1).to_vec(), "k={k}: created twice");
    }
    assert!(found_again > 0, "no resume had to look anything up");
    eprintln!("a2p resume: {found_again} resources found by lookup across {saves} crash points");
}

#[tokio::test]
async fn a_hundred_journeys_under_faults_all_register_with_no_duplicates() {
    let faults = Faults::none()
        .with_rate_429(0.08, 0)
        .with_rate_503(0.04)
        .with_rate_commit_then_drop(0.03)
        .with_rate_commit_then_503(0.02);
    const JOURNEYS: usize = 100;
    let emulator = start(
        approving()
            .with_seed(12)
            .with_phone_numbers(JOURNEYS)
            .with_faults(faults),
    )
    .await
    .unwrap();
    let client = Client::builder()
        .account_sid(emulator.account_sid().parse().unwrap())
        .auth_token(emulator.auth_token())
        .base_url(emulator.base_url())
        .retry_policy(RetryPolicy {
            max_attempts: 8,
            initial_backoff: Duration::from_millis(5),
            max_backoff: Duration::from_millis(50),
            max_elapsed: Duration::from_secs(30),
        })
        .build()
        .unwrap();
    let options = FlowOptions {
        limiter: Limiter::new(32),
        ..FlowOptions::default()
    };
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..JOURNEYS {
        let input = journey(&emulator, &format!("Acme Fault {i}"), i)
            .build()
            .unwrap();
        let client = client.clone();
        let options = options.clone();
        tasks.spawn(async move {
            client
                .a2p_journey(&input)
                .journal(MemoryStore::new())
                .options(options)
                .wait_for_brand(WAIT)
                .wait_for_campaign(WAIT)
                .poll(Duration::from_millis(20))
                .run()
                .await
        });
    }
    let mut done = 0;
    while let Some(result) = tasks.join_next().await {
        let report = result
            .unwrap()
            .unwrap_or_else(|e| panic!("a journey failed under faults: {e}"));
        assert!(report.stage.is_registered(), "{}", report.stage);
        done += 1;
    }
    assert_eq!(done, JOURNEYS);
    let counters = emulator.counters();
    assert!(
        counters.faults_429 > 0 && counters.connections_dropped > 0,
        "{counters:?}"
    );
    assert_eq!(
        created(&counters),
        per_journey(JOURNEYS as u64),
        "{counters:?}"
    );
    assert_eq!(counters.messaging_service_phone_numbers, JOURNEYS as u64);
}

#[tokio::test]
async fn an_existing_profile_that_was_not_submitted_is_refused_before_anything_is_created() {
    let emulator = start(approving()).await.unwrap();
    let client = client(&emulator);
    // A profile the flow created but did not submit: still a draft.
    let profile_input = fixtures::input(&emulator, "Acme Draft").build().unwrap();
    let flow = client
        .secondary_profile(&profile_input)
        .run()
        .await
        .unwrap();
    let input = journey(&emulator, "Acme Draft", 0)
        .existing_profile(flow.bundle())
        .trust_product("Acme Draft A2P", "compliance@acme.example.com")
        .build()
        .unwrap();
    let before = emulator.counters();
    let error = client.a2p_journey(&input).run().await.unwrap_err();
    let FlowError::ProfileNotSubmitted { profile, .. } = &error else {
        panic!("{error}");
    };
    assert_eq!(*profile, flow.bundle());
    assert!(error.to_string().contains("draft"), "{error}");
    // The check comes before every create: nothing was created.
    assert_eq!(created(&emulator.counters()), created(&before));
}

#[tokio::test]
async fn a_campaign_changed_after_its_create_is_a_stale_journal_naming_the_part() {
    let emulator = start(approving()).await.unwrap();
    let client = client(&emulator);
    let input = journey(&emulator, "Acme Stale", 0).build().unwrap();
    let store = MemoryStore::new();
    let report = client
        .a2p_journey(&input)
        .journal(store.clone())
        .wait_for_brand(WAIT)
        .poll(POLL)
        .run()
        .await
        .unwrap();
    assert!(report.campaign().is_some(), "{}", report.stage);
    let changed = journey(&emulator, "Acme Stale", 0)
        .campaign(trusthub::flow::a2p::Campaign {
            description: "A different description of what the campaign sends to customers.".into(),
            ..fixtures::campaign()
        })
        .build()
        .unwrap();
    let before = emulator.counters();
    let error = client
        .a2p_journey(&changed)
        .resuming(store.latest().unwrap())
        .run()
        .await
        .unwrap_err();
    let FlowError::StaleJournal { detail } = &error else {
        panic!("{error}");
    };
    assert_eq!(
        detail,
        "the input changed since the journal was written, in parts that resources were created \
         from: a2p.campaign"
    );
    assert_eq!(emulator.counters().requests_served, before.requests_served);
}

#[tokio::test]
async fn a_brand_resubmission_whose_answer_is_lost_is_not_sent_again() {
    // The resubmission is committed, then its answer lost: the brand's status settles it.
    let faults = Faults::none().with_rule(FaultRule::new(
        "POST",
        "/v1/a2p/BrandRegistrations/*",
        FaultKind::CommitThenDrop,
        1,
    ));
    let emulator = start(
        EmulatorConfig::default()
            .with_auto_decision(Duration::from_millis(20), Decision::Approve)
            .with_brand_decision(
                Duration::from_millis(20),
                Decision::Reject {
                    reason: "Tax ID does not match".into(),
                },
            )
            .with_faults(faults),
    )
    .await
    .unwrap();
    let client = client(&emulator);
    let input = journey(&emulator, "Acme Lost Resubmission", 0)
        .build()
        .unwrap();
    let store = MemoryStore::new();
    let mut report = client
        .a2p_journey(&input)
        .journal(store.clone())
        .wait_for_brand(WAIT)
        .poll(POLL)
        .run()
        .await
        .unwrap();
    assert!(
        matches!(report.stage, Stage::BrandFailed { .. }),
        "{}",
        report.stage
    );
    let status = report.resubmit_brand().await.unwrap();
    assert_eq!(status, BrandRegistrationsStatus::Pending);
    assert!(report.journal.intents.is_empty());
    assert_eq!(report.journal.a2p.as_ref().unwrap().brand_resubmissions, 1);
    let counters = emulator.counters();
    assert_eq!(counters.connections_dropped, 1);
    assert_eq!(counters.brand_resubmissions, 1);
    assert_eq!(counters.fees, 2, "one brand, one resubmission");
}
