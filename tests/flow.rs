//! The Secondary Customer Profile flow end to end against the emulator: the happy path to
//! approval, a missing representative, a PO box refused locally, faults without duplicates,
//! resume from every step boundary, and cleanup.

use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

mod fixtures;

use fixtures::{address, business, client, input, representative};
use trusthub::flow::{
    cleanup, FlowOptions, Journal, JournalStore, Limiter, MemoryStore, Outcome, SecondaryProfile,
    Step,
};
use trusthub::{Client, FlowError, RetryPolicy};
use trusthub_emulator::{start, Counters, Decision, EmulatorConfig, Faults};

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
    let mut report = flow
        .run(&client, Arc::new(store.clone()), FlowOptions::default())
        .await
        .unwrap();

    assert!(report.evaluation.is_compliant(), "{}", report.evaluation);
    assert!(
        report.evaluation.to_string().contains("compliant ("),
        "{}",
        report.evaluation
    );
    // Every step reported once, with its SID.
    assert_eq!(report.steps.len(), 14, "{:#?}", report.steps);
    assert!(report
        .steps
        .iter()
        .all(|s| s.sid.is_some() && s.outcome != Outcome::Journaled));
    // The journal holds every SID and was saved.
    let journal = store.latest().unwrap();
    assert_eq!(journal, report.journal);
    assert_eq!(journal.end_users.len(), 3);
    assert_eq!(journal.entity_assignments.len(), 5);
    assert!(journal
        .entity_assignments
        .contains_key(emulator.primary_profile_sid()));
    assert_eq!(journal.channel_endpoint_assignments.len(), 1);
    assert_eq!(journal.compliant, Some(true));
    assert_eq!(created(&emulator.counters()), per_flow(1));

    let status = report.submit(&client, false).await.unwrap();
    assert_eq!(status, "pending-review");
    assert!(store.latest().unwrap().submitted);
    let status = report
        .wait_for_review(&client, Duration::from_secs(5), Duration::from_millis(20))
        .await
        .unwrap();
    assert_eq!(status, "in-review");
    emulator
        .decide(report.bundle().as_str(), Decision::Approve)
        .await
        .unwrap();
    let status = report
        .wait_for_decision(&client, Duration::from_secs(5), Duration::from_millis(20))
        .await
        .unwrap();
    assert_eq!(status, "twilio-approved");
    // Submitting twice sends nothing new.
    assert_eq!(
        report.submit(&client, false).await.unwrap(),
        "twilio-approved"
    );
}

#[tokio::test]
async fn each_step_starts_as_soon_as_its_inputs_exist() {
    // With 60 ms per request, the order of starts and ends shows the dependency graph: end users
    // and the address start while the policy is being fetched, the bundle right after the
    // policy, the document right after the address, every assignment together, then the
    // evaluation (five round trips on the critical path, not fourteen).
    let emulator = start(
        EmulatorConfig::default()
            .with_faults(Faults::none().with_latency(Duration::from_millis(60))),
    )
    .await
    .unwrap();
    let client = client(&emulator);
    let report = input(&emulator, "Acme Corp")
        .build()
        .unwrap()
        .create(&client)
        .await
        .unwrap();
    let find = |f: &dyn Fn(&Step) -> bool| {
        report
            .steps
            .iter()
            .filter(|s| f(&s.step))
            .collect::<Vec<_>>()
    };
    let policy = find(&|s| matches!(s, Step::ConfirmPolicy))[0];
    let policy_end = policy.started + policy.elapsed;
    let address = find(&|s| matches!(s, Step::CreateAddress))[0];
    for user in find(&|s| matches!(s, Step::CreateEndUser(_))) {
        assert!(user.started < policy_end, "end users wait for nothing");
    }
    assert!(
        address.started < policy_end,
        "the address waits for nothing"
    );
    assert!(find(&|s| matches!(s, Step::CreateBundle))[0].started >= policy_end);
    assert!(
        find(&|s| matches!(s, Step::CreateDocument))[0].started
            >= address.started + address.elapsed
    );
    let assignments = find(&|s| matches!(s, Step::AssignEntity(_) | Step::AssignPhoneNumber(_)));
    assert_eq!(assignments.len(), 6);
    let first_assignment_end = assignments
        .iter()
        .map(|a| a.started + a.elapsed)
        .min()
        .unwrap();
    for a in &assignments {
        assert!(a.started < first_assignment_end, "assignments run together");
    }
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

    // Default: the policy check stops the flow before the bundle is created.
    let error = flow.create(&client).await.unwrap_err();
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
    assert_eq!(emulator.counters().customer_profiles, 0);

    // Opting in: Twilio's evaluation says what fails, and nothing is submitted.
    let options = FlowOptions {
        allow_incomplete: true,
        ..FlowOptions::default()
    };
    let mut report = flow
        .run(&client, Arc::new(MemoryStore::new()), options)
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
    let error = report.submit(&client, false).await.unwrap_err();
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

/// A store that fails after `allowed` saves, keeping the last saved journal: a crash at a step
/// boundary.
struct CrashingStore {
    inner: MemoryStore,
    allowed: usize,
    saves: AtomicUsize,
}

impl JournalStore for CrashingStore {
    fn save(&self, journal: &Journal) -> io::Result<()> {
        if self.saves.fetch_add(1, Ordering::SeqCst) >= self.allowed {
            return Err(io::Error::other("simulated crash"));
        }
        self.inner.save(journal)
    }
}

#[tokio::test]
async fn resume_from_every_step_boundary_creates_nothing_twice() {
    let emulator = start(EmulatorConfig::default()).await.unwrap();
    let client = client(&emulator);
    const STEPS: usize = 14;
    let mut found_again = 0;
    for k in 0..STEPS {
        let flow = input(&emulator, &format!("Acme Resume {k}"))
            .build()
            .unwrap();
        let before = emulator.counters();
        let crashing = Arc::new(CrashingStore {
            inner: MemoryStore::new(),
            allowed: k,
            saves: AtomicUsize::new(0),
        });
        let error = flow
            .run(&client, crashing.clone(), FlowOptions::default())
            .await
            .unwrap_err();
        assert!(matches!(error, FlowError::Journal { .. }), "k={k}: {error}");
        let journal = match crashing.inner.latest() {
            Some(j) => j,
            // Crashed before the first save: nothing is journaled, start again under a new id.
            None => {
                let report = flow.create(&client).await.unwrap();
                assert!(report.evaluation.is_compliant());
                continue;
            }
        };
        let store = MemoryStore::new();
        let report = flow
            .resume(
                &client,
                journal,
                Arc::new(store.clone()),
                FlowOptions::default(),
            )
            .await
            .unwrap();
        assert!(
            report.evaluation.is_compliant(),
            "k={k}: {}",
            report.evaluation
        );
        assert!(
            report.steps.iter().any(|s| s.outcome == Outcome::Journaled),
            "k={k}"
        );
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
    // Creates that were sent but not journaled when the store failed were looked up, not redone.
    assert!(found_again > 0, "no resume had to look anything up");
    eprintln!("resume: {found_again} resources found by lookup across {STEPS} crash points");
}

#[tokio::test]
async fn cleanup_deletes_what_a_flow_created() {
    let emulator = start(EmulatorConfig::default()).await.unwrap();
    let client = client(&emulator);
    let store = MemoryStore::new();
    let report = input(&emulator, "Acme Cleanup")
        .build()
        .unwrap()
        .run(&client, Arc::new(store.clone()), FlowOptions::default())
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
    let faults = Faults::none()
        .with_rate_429(0.10, 0)
        .with_rate_503(0.05)
        .with_rate_commit_then_drop(0.03);
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
        create_attempts: 6,
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
            flow.run(&client, Arc::new(MemoryStore::new()), options)
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
        counters.faults_429 > 0 && counters.faults_503 > 0 && counters.connections_dropped > 0,
        "{counters:?}"
    );
    assert_eq!(created(&counters), per_flow(FLOWS as u64), "{counters:?}");
}
