//! The Secondary Customer Profile flow end to end against the emulator: the happy path to
//! approval, a missing representative, a PO box refused locally, a wrong primary profile refused
//! before anything is created, faults (gateway errors after the commit included) without
//! duplicates, resume from every save of the journal, a lost submission, and cleanup.

use std::sync::Arc;
use std::time::Duration;

use crate::fixtures;

use fixtures::{address, business, client, input, representative, CrashingStore};
use trusthub::api::trusthub_v1::CustomerProfileStatus;
use trusthub::flow::{
    cleanup, FlowOptions, Limiter, MemoryStore, Outcome, SecondaryProfile, Step, StepRecord,
};
use trusthub::sid::{policies, CustomerProfileSid, ObjectSid};
use trusthub::{Client, FlowError, RetryPolicy, Submission};
use trusthub_emulator::{start, Counters, Decision, EmulatorConfig, FaultKind, FaultRule, Faults};

/// Resources a flow with one phone number creates.
fn per_flow(flows: u64) -> [(&'static str, u64); 7] {
    [
        ("customer_profiles", flows),
        ("end_users", 3 * flows),
        ("addresses", flows),
        ("supporting_documents", flows),
        ("entity_assignments", 5 * flows),
        ("channel_endpoint_assignments", flows),
        ("evaluations", flows),
    ]
}

fn created(counters: &Counters) -> [(&'static str, u64); 7] {
    [
        ("customer_profiles", counters.customer_profiles),
        ("end_users", counters.end_users),
        ("addresses", counters.addresses),
        ("supporting_documents", counters.supporting_documents),
        ("entity_assignments", counters.entity_assignments),
        (
            "channel_endpoint_assignments",
            counters.channel_endpoint_assignments,
        ),
        ("evaluations", counters.evaluations),
    ]
}

#[tokio::test]
async fn happy_path_reaches_in_review_then_approved() {
    let emulator = start(EmulatorConfig::default()).await.unwrap();
    let client = client(&emulator);
    let flow = input(&emulator, "Acme Corp").build().unwrap();
    let store = MemoryStore::new();
    let mut report = client
        .secondary_profile(&flow)
        .journal(store.clone())
        .run()
        .await
        .unwrap();

    assert!(report.evaluation.is_compliant(), "{}", report.evaluation);
    assert!(
        report.evaluation.to_string().contains("compliant ("),
        "{}",
        report.evaluation
    );
    // Every step reported once, with its SID: the two checks, 13 creates.
    assert_eq!(report.steps.len(), 15, "{:#?}", report.steps);
    assert!(report
        .steps
        .iter()
        .all(|s| s.sid.is_some() && s.outcome != Outcome::Journaled));
    // The journal holds every SID and was saved.
    let journal = store.latest().unwrap();
    assert_eq!(journal, report.journal);
    assert!(journal.intents.is_empty(), "{:?}", journal.intents);
    assert_eq!(journal.end_users.len(), 3);
    assert_eq!(journal.entity_assignments.len(), 5);
    assert!(journal
        .entity_assignments
        .contains_key(&emulator.primary_profile_sid().parse::<ObjectSid>().unwrap()));
    assert_eq!(journal.channel_endpoint_assignments.len(), 1);
    assert_eq!(journal.compliant, Some(true));
    assert_eq!(created(&emulator.counters()), per_flow(1));

    let status = report.submit(Submission::WhenCompliant).await.unwrap();
    assert_eq!(status, CustomerProfileStatus::PendingReview);
    assert!(store.latest().unwrap().submitted);
    let status = report
        .wait_for_review(Duration::from_secs(5), Duration::from_millis(20))
        .await
        .unwrap();
    assert_eq!(status, CustomerProfileStatus::InReview);
    emulator
        .decide(report.bundle().as_str(), Decision::Approve)
        .await
        .unwrap();
    let status = report
        .wait_for_decision(Duration::from_secs(5), Duration::from_millis(20))
        .await
        .unwrap();
    assert_eq!(status, CustomerProfileStatus::TwilioApproved);
    // Submitting twice sends nothing new.
    assert_eq!(
        report.submit(Submission::WhenCompliant).await.unwrap(),
        CustomerProfileStatus::TwilioApproved
    );
}

/// Every step of `steps` started before the first of them ended: none waited for another.
fn assert_start_together(steps: &[&StepRecord]) {
    let first_end = steps.iter().map(|s| s.started + s.elapsed).min().unwrap();
    for s in steps {
        assert!(s.started < first_end, "{} waited for another step", s.step);
    }
}

#[tokio::test]
async fn each_step_starts_as_soon_as_its_inputs_exist() {
    // With 60 ms per request, the order of starts and ends shows the dependency graph: nothing
    // is created before the policy and the primary profile are checked; then the bundle, the end
    // users and the address start together, the document right after the address, every
    // assignment together, then the evaluation.
    let emulator = start(
        EmulatorConfig::default()
            .with_faults(Faults::none().with_latency(Duration::from_millis(60))),
    )
    .await
    .unwrap();
    let client = client(&emulator);
    let report = client
        .secondary_profile(&input(&emulator, "Acme Corp").build().unwrap())
        .run()
        .await
        .unwrap();
    let find = |f: &dyn Fn(&Step) -> bool| {
        report
            .steps
            .iter()
            .filter(|s| f(&s.step))
            .collect::<Vec<_>>()
    };
    let checks_end = find(&|s| matches!(s, Step::ConfirmPolicy | Step::ConfirmPrimaryProfile))
        .iter()
        .map(|s| s.started + s.elapsed)
        .max()
        .unwrap();
    let creates = find(&|s| s.intent_key().is_some());
    assert_eq!(creates.len(), 13);
    for create in &creates {
        assert!(
            create.started >= checks_end,
            "{} before the checks",
            create.step
        );
    }
    let first_round = find(&|s| {
        matches!(
            s,
            Step::CreateBundle | Step::CreateEndUser(_) | Step::CreateAddress
        )
    });
    assert_eq!(first_round.len(), 5);
    assert_start_together(&first_round);
    let address = find(&|s| matches!(s, Step::CreateAddress))[0];
    assert!(
        find(&|s| matches!(s, Step::CreateDocument))[0].started
            >= address.started + address.elapsed
    );
    let assignments =
        find(&|s| matches!(s, Step::AssignEntity { .. } | Step::AssignPhoneNumber(_)));
    assert_eq!(assignments.len(), 6);
    assert_start_together(&assignments);
    let last_assignment_end = assignments
        .iter()
        .map(|a| a.started + a.elapsed)
        .max()
        .unwrap();
    assert!(find(&|s| matches!(s, Step::Evaluate))[0].started >= last_assignment_end);
}

#[tokio::test]
async fn a_missing_representative_stops_at_the_policy_or_yields_the_typed_evaluation() {
    let emulator = start(EmulatorConfig::default()).await.unwrap();
    let client = client(&emulator);
    let flow = input(&emulator, "Acme Corp")
        .representatives(representative(1), representative(2))
        .build()
        .unwrap();
    drop(flow);
    let builder = SecondaryProfile::builder()
        .friendly_name("Acme One Rep")
        .email("compliance@acme.example.com")
        .business(business())
        .representative_1(representative(1))
        .address(address())
        .primary_profile(emulator.primary_profile_sid().parse().unwrap());
    let flow = builder.build().unwrap();
    assert!(flow
        .warnings()
        .iter()
        .any(|w| w.field() == "representative_2"));

    // Default: the policy check stops the flow before anything is created.
    let error = client.secondary_profile(&flow).run().await.unwrap_err();
    match &error {
        FlowError::PolicyMismatch { problems, .. } => {
            assert!(
                problems
                    .iter()
                    .any(|p| p.contains("authorized_representative_2")),
                "{problems:?}"
            )
        }
        other => panic!("expected a policy mismatch, got {other}"),
    }
    let nothing = emulator.counters();
    assert_eq!(
        (
            nothing.customer_profiles,
            nothing.end_users,
            nothing.addresses
        ),
        (0, 0, 0)
    );

    // Opting in: Twilio's evaluation says what fails, and nothing is submitted.
    let options = FlowOptions {
        allow_incomplete: true,
        ..FlowOptions::default()
    };
    let mut report = client
        .secondary_profile(&flow)
        .journal(MemoryStore::new())
        .options(options)
        .run()
        .await
        .unwrap();
    assert!(!report.evaluation.is_compliant());
    let failures = report.evaluation.failures();
    let rep = failures
        .iter()
        .find(|f| f.requirement == "authorized_representative_2")
        .unwrap_or_else(|| panic!("{}", report.evaluation));
    assert_eq!(rep.error_code, Some(22214));
    assert!(
        report
            .evaluation
            .to_string()
            .contains("FAIL  authorized_representative_2"),
        "{}",
        report.evaluation
    );
    let error = report.submit(Submission::WhenCompliant).await.unwrap_err();
    assert!(matches!(error, FlowError::NotCompliant { .. }), "{error}");
    let profile = client
        .customer_profiles()
        .fetch(report.bundle().as_str())
        .send()
        .await
        .unwrap();
    assert_eq!(profile.status.unwrap().to_string(), "draft");
}

#[tokio::test]
async fn a_po_box_is_refused_before_any_request() {
    let emulator = start(EmulatorConfig::default()).await.unwrap();
    let mut po_box = address();
    po_box.street = "P.O. Box 123".into();
    let errors = input(&emulator, "Acme Corp")
        .address(po_box)
        .build()
        .unwrap_err();
    assert_eq!(errors.fields().collect::<Vec<_>>(), ["address.street"]);
    assert!(!errors.to_string().contains("123"), "{errors}");
    assert_eq!(emulator.counters().requests_served, 0);
}

#[tokio::test]
async fn every_problem_of_the_input_is_reported_at_once() {
    let emulator = start(EmulatorConfig::default()).await.unwrap();
    let mut rep = representative(2);
    rep.phone_number = "555-0100".into();
    let mut bad_business = business();
    bad_business.website_url = "not a url".into();
    let errors = input(&emulator, "")
        .email("nobody")
        .business(bad_business)
        .representative_2(rep)
        .build()
        .unwrap_err();
    let fields: Vec<&str> = errors.fields().collect();
    for expected in [
        "friendly_name",
        "email",
        "business_information.website_url",
        "representative_2.phone_number",
    ] {
        assert!(fields.contains(&expected), "{fields:?}");
    }
}

/// A store that fails after `allowed` saves, keeping the last saved journal: the process dies
/// at that save (a create whose intent it held is never sent).
#[tokio::test]
async fn resume_from_every_save_of_the_journal_creates_nothing_twice() {
    let emulator = start(EmulatorConfig::default()).await.unwrap();
    let client = client(&emulator);
    // How many saves a whole flow makes (intents and steps; concurrent ones may share a save).
    let counting = Arc::new(CrashingStore::new(usize::MAX));
    client
        .secondary_profile(&input(&emulator, "Acme Count").build().unwrap())
        .journal(counting.clone())
        .run()
        .await
        .unwrap();
    let saves = counting.saves();
    assert!(saves >= 10, "{saves} saves");
    let mut found_again = 0;
    for k in 0..saves {
        let flow = input(&emulator, &format!("Acme Resume {k}"))
            .build()
            .unwrap();
        let before = emulator.counters();
        let crashing = Arc::new(CrashingStore::new(k));
        let error = client
            .secondary_profile(&flow)
            .journal(crashing.clone())
            .run()
            .await
            .unwrap_err();
        assert!(matches!(error, FlowError::Journal { .. }), "k={k}: {error}");
        let report = match crashing.inner.latest() {
            Some(journal) => client
                .secondary_profile(&flow)
                .journal(MemoryStore::new())
                .resuming(journal)
                .run()
                .await
                .unwrap(),
            // Died at the first save: nothing was sent, so starting again creates nothing twice.
            None => client.secondary_profile(&flow).run().await.unwrap(),
        };
        assert!(
            report.evaluation.is_compliant(),
            "k={k}: {}",
            report.evaluation
        );
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
        assert_eq!(
            delta,
            per_flow(1).to_vec(),
            "k={k}: resume created something twice"
        );
    }
    // Creates sent before the store failed (their intents saved, their SIDs not) were looked up.
    assert!(found_again > 0, "no resume had to look anything up");
    eprintln!("resume: {found_again} resources found by lookup across {saves} crash points");
}

#[tokio::test]
async fn a_wrong_primary_profile_is_refused_before_anything_is_created() {
    let emulator = start(EmulatorConfig::default()).await.unwrap();
    let client = client(&emulator);
    // A draft bundle of this account (well formed, exists, but not an approved primary profile).
    let draft: CustomerProfileSid = client
        .customer_profiles()
        .create(
            "Not A Primary",
            "c@example.com",
            policies::PRIMARY_BUSINESS_PROFILE.as_str(),
        )
        .send()
        .await
        .unwrap()
        .sid
        .unwrap();
    let missing = CustomerProfileSid::from_static("BU0123456789abcdef0123456789abcdef");
    let before = emulator.counters();
    for (primary, expected) in [
        (missing, "does not exist in this account"),
        (draft, "its status is `draft`, not `twilio-approved`"),
    ] {
        let flow = input(&emulator, "Acme Wrong Primary")
            .primary_profile(primary)
            .build()
            .unwrap();
        let error = client.secondary_profile(&flow).run().await.unwrap_err();
        match &error {
            FlowError::PrimaryProfile { profile, problems } => {
                assert_eq!(profile, &primary);
                assert!(
                    problems.iter().any(|p| p.contains(expected)),
                    "{problems:?}"
                );
            }
            other => panic!("expected PrimaryProfile, got {other}"),
        }
        assert!(error.to_string().contains("nothing was created"), "{error}");
    }
    assert_eq!(created(&emulator.counters()), created(&before));

    // A store that began with the wrong primary (nothing created) resumes with the right one.
    let store = MemoryStore::new();
    let wrong = input(&emulator, "Acme Fixed Primary")
        .primary_profile(draft)
        .build()
        .unwrap();
    assert!(client
        .secondary_profile(&wrong)
        .journal(store.clone())
        .run()
        .await
        .is_err());
    let right = input(&emulator, "Acme Fixed Primary").build().unwrap();
    let report = match store.latest() {
        Some(journal) => client
            .secondary_profile(&right)
            .journal(store.clone())
            .resuming(journal)
            .run()
            .await
            .unwrap(),
        None => client.secondary_profile(&right).run().await.unwrap(),
    };
    assert!(report.evaluation.is_compliant());
    let delta: Vec<u64> = created(&emulator.counters())
        .iter()
        .zip(created(&before))
        .map(|((_, a), (_, b))| a - b)
        .collect();
    assert_eq!(delta, per_flow(1).map(|(_, n)| n).to_vec());
}

#[tokio::test]
async fn a_lost_submission_resumes_to_submitted() {
    // The submission is committed, then its answer is lost; the journal's last save (the one
    // that says `submitted`) never happens. Resuming reads the bundle's status instead of
    // sending the submission again (which Twilio would refuse: in-review to pending-review).
    let emulator = start(EmulatorConfig::default()).await.unwrap();
    let client = Client::builder()
        .account_sid(emulator.account_sid().parse().unwrap())
        .auth_token(emulator.auth_token())
        .base_url(emulator.base_url())
        .no_retries()
        .build()
        .unwrap();
    let store = MemoryStore::new();
    let mut report = client
        .secondary_profile(&input(&emulator, "Acme Lost Submit").build().unwrap())
        .journal(store.clone())
        .run()
        .await
        .unwrap();
    emulator.set_faults(Faults::none().with_rule(FaultRule::new(
        "POST",
        "/v1/CustomerProfiles/*",
        FaultKind::CommitThenDrop,
        1,
    )));
    // Twice lost: the submission, then the status fetched to check it. Only the intent is saved.
    emulator.set_faults(emulator.faults().with_rule(FaultRule::new(
        "GET",
        "/v1/CustomerProfiles/*",
        FaultKind::InternalError,
        1,
    )));
    let error = report.submit(Submission::WhenCompliant).await.unwrap_err();
    assert!(matches!(error, FlowError::Step { .. }), "{error}");
    let journal = store.latest().unwrap();
    assert!(!journal.submitted);
    assert!(journal.intents.contains_key("submit"));

    // A new process: the flow resumes from the journal and submits.
    let flow = input(&emulator, "Acme Lost Submit").build().unwrap();
    let mut resumed = client
        .secondary_profile(&flow)
        .journal(store.clone())
        .resuming(journal)
        .run()
        .await
        .unwrap();
    let status = resumed.submit(Submission::WhenCompliant).await.unwrap();
    assert_eq!(status, CustomerProfileStatus::InReview);
    let journal = store.latest().unwrap();
    assert!(journal.submitted && journal.intents.is_empty());
    assert_eq!(emulator.counters().customer_profiles, 1);
}

#[tokio::test]
async fn cleanup_deletes_what_a_flow_created() {
    let emulator = start(EmulatorConfig::default()).await.unwrap();
    let client = client(&emulator);
    let store = MemoryStore::new();
    let report = client
        .secondary_profile(&input(&emulator, "Acme Cleanup").build().unwrap())
        .journal(store.clone())
        .run()
        .await
        .unwrap();
    let mut journal = report.journal.clone();
    let bundle = report.bundle();
    let result = cleanup(&client, &mut journal, &store).await;
    assert!(result.failed.is_empty(), "{:?}", result.failed);
    // 5 entity + 1 channel assignments, bundle, document, 3 end users, address.
    assert_eq!(result.deleted.len(), 12, "{:?}", result.deleted);
    let gone = client
        .customer_profiles()
        .fetch(bundle.as_str())
        .send()
        .await
        .unwrap_err();
    assert_eq!(gone.status(), Some(404));
    assert!(journal.bundle.is_none() && journal.end_users.is_empty() && journal.address.is_none());
}

#[tokio::test]
async fn two_hundred_flows_under_faults_create_exactly_one_of_each() {
    // Twilio's 429s (never processed), 503s, dropped answers, and a gateway's 503 or 429 after
    // the commit (no Twilio code: processed, though the answer says otherwise).
    let faults = Faults::none()
        .with_rate_429(0.10, 0)
        .with_rate_503(0.05)
        .with_rate_commit_then_drop(0.03)
        .with_rate_commit_then_503(0.03)
        .with_rate_commit_then_429(0.02);
    let emulator = start(EmulatorConfig::default().with_seed(11).with_faults(faults))
        .await
        .unwrap();
    let client = Client::builder()
        .account_sid(emulator.account_sid().parse().unwrap())
        .auth_token(emulator.auth_token())
        .base_url(emulator.base_url())
        .retry_policy(RetryPolicy {
            max_attempts: 6,
            initial_backoff: Duration::from_millis(5),
            max_backoff: Duration::from_millis(50),
            max_elapsed: Duration::from_secs(30),
        })
        .build()
        .unwrap();
    const FLOWS: usize = 200;
    let options = FlowOptions {
        limiter: Limiter::new(32),
        ..FlowOptions::default()
    };
    let flows: Vec<SecondaryProfile> = (0..FLOWS)
        .map(|i| {
            input(&emulator, &format!("Acme Fault {i}"))
                .build()
                .unwrap()
        })
        .collect();
    let mut tasks = tokio::task::JoinSet::new();
    for flow in flows {
        let client = client.clone();
        let options = options.clone();
        tasks.spawn(async move {
            client
                .secondary_profile(&flow)
                .journal(MemoryStore::new())
                .options(options)
                .run()
                .await
        });
    }
    let mut done = 0;
    while let Some(result) = tasks.join_next().await {
        let report = result
            .unwrap()
            .unwrap_or_else(|e| panic!("a flow failed under faults: {e}"));
        assert!(report.evaluation.is_compliant(), "{}", report.evaluation);
        done += 1;
    }
    assert_eq!(done, FLOWS);
    let counters = emulator.counters();
    assert!(
        counters.faults_429 > 0
            && counters.faults_503 > 0
            && counters.connections_dropped > 0
            && counters.gateway_503_after_commit > 0
            && counters.gateway_429_after_commit > 0,
        "{counters:?}"
    );
    assert_eq!(created(&counters), per_flow(FLOWS as u64), "{counters:?}");
}

/// One create is sent at most `RetryPolicy::max_attempts` times in all: the transport does not
/// retry a create on top of the flow's re-sends. A create Twilio did not process (its 429) or
/// that a lookup did not find (a 503) is sent exactly that often, then the flow stops; a create
/// whose answer was lost after the commit (a dropped connection, a gateway's 503) is sent once
/// and found.
#[tokio::test]
async fn one_create_is_sent_at_most_max_attempts_times() {
    const MAX_SENDS: u32 = 3;
    let cases = [
        (FaultKind::TooManyRequests, MAX_SENDS, 0),
        (FaultKind::Unavailable, MAX_SENDS, 0),
        (FaultKind::CommitThenDrop, 1, 1),
        (FaultKind::CommitThenGateway503, 1, 1),
    ];
    for (fault, sends, bundles) in cases {
        // Every create of a bundle fails this way (Retry-After: 0 on the 429s).
        let faults = Faults::none()
            .with_rate_429(0.0, 0)
            .with_rule(FaultRule::new("POST", "/v1/CustomerProfiles", fault, 100));
        let emulator = start(EmulatorConfig::default().with_faults(faults))
            .await
            .unwrap();
        let client = Client::builder()
            .account_sid(emulator.account_sid().parse().unwrap())
            .auth_token(emulator.auth_token())
            .base_url(emulator.base_url())
            .retry_policy(RetryPolicy {
                max_attempts: MAX_SENDS,
                initial_backoff: Duration::from_millis(1),
                max_backoff: Duration::from_millis(5),
                max_elapsed: Duration::from_secs(10),
            })
            .build()
            .unwrap();
        let flow = input(&emulator, "Acme Sends").build().unwrap();
        let result = client.secondary_profile(&flow).run().await;
        let counters = emulator.counters();
        let sent = counters.faults_429
            + counters.faults_503
            + counters.connections_dropped
            + counters.gateway_503_after_commit;
        assert_eq!(sent, u64::from(sends), "{fault:?}: {counters:?}");
        assert_eq!(
            counters.customer_profiles, bundles,
            "{fault:?}: {counters:?}"
        );
        match bundles {
            0 => assert!(
                matches!(
                    result,
                    Err(FlowError::Step {
                        step: Step::CreateBundle,
                        ..
                    })
                ),
                "{fault:?}: {result:?}"
            ),
            _ => {
                let report = result.unwrap_or_else(|e| panic!("{fault:?}: {e}"));
                assert!(report.evaluation.is_compliant(), "{}", report.evaluation);
            }
        }
    }
}
