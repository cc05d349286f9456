//! The test suite every [`JournalStore`] passes: the facade's [`MemoryStore`] and [`FileStore`]
//! (stores of one flow each) and this crate's [`PgJournalStore`] (a store of many flows) run it
//! in this crate's tests; a new store runs it too.
//!
//! A [`Fixture`] opens a store per flow and resumes a flow; [`run`] checks, with a message
//! naming what broke:
//!
//! - a save replaces the flow's journal (by reference and by value), and resuming hands back the
//!   last one, equal field for field (the A2P and voice progress, intents with their criteria,
//!   statuses included);
//! - the digest key is stable, survives resuming, and its digests reveal nothing of their input;
//! - stores of one flow each never answer for another flow (nothing held elsewhere, every claim
//!   granted, no rivals); the flows of a shared store answer like the batch journal's row
//!   stores: a SID another flow's journal holds, or that it claimed first, is held elsewhere
//!   and cannot be claimed (still after that flow dropped it from its journal, and after
//!   either resumed); a flow's own SIDs and claims stay its own; another flow's open intent of
//!   the same key and criteria is a rival, its own intents and settled ones are not, nor is an
//!   intent without criteria.
//!
//! [`MemoryStore`]: trusthub::flow::MemoryStore
//! [`FileStore`]: trusthub::flow::FileStore
//! [`PgJournalStore`]: crate::PgJournalStore

use std::future::Future;
use std::sync::Arc;

use trusthub::flow::{DigestKey, Intent, Journal, JournalStore, TrustProductKind};
use trusthub::sid::ObjectSid;

/// How the suite reaches a store.
pub trait Fixture {
    /// Whether the flows this fixture opens share one store, which then answers for each of
    /// them about the others (`held_elsewhere`, `try_claim`, `rivals`).
    fn shared(&self) -> bool;

    /// A store for a new flow `name` (each name is opened once).
    fn open(&mut self, name: &str) -> impl Future<Output = Arc<dyn JournalStore>>;

    /// Resumes flow `name`, whose store handles the suite has all dropped: a store of the flow
    /// again, and the journal it hands the flow to resume (the last one saved).
    fn reopen(
        &mut self,
        name: &str,
    ) -> impl Future<Output = (Arc<dyn JournalStore>, Option<Journal>)>;
}

/// A new journal of flow `flow` made with `key`, as a flow's first save holds it.
pub fn journal(flow: &str, key: &DigestKey) -> Journal {
    Journal::from_json(&format!(
        r#"{{"format":2,"flow_id":"{flow}","key_id":"{}","started_at":"2026-01-05T10:00:00Z",
            "input":{{"bundle":"{}"}}}}"#,
        key.id(),
        key.digest("bundle", b"Example Corp|ops@example.com")
    ))
    .expect("a valid journal")
}

/// A SID of kind `prefix` numbered `n`.
pub fn sid(prefix: &str, n: u32) -> ObjectSid {
    format!("{prefix}{n:08}0123456789abcdef01234567")
        .parse()
        .expect("a valid SID")
}

fn intent(criteria: Option<&str>) -> Intent {
    Intent {
        at: time::macros::datetime!(2026-01-05 10:00:01 UTC),
        criteria: criteria.map(str::to_owned),
    }
}

/// A journal with something in every part: the profile's SIDs, an A2P journey and a voice
/// product, statuses, open intents with and without criteria.
fn full_journal(flow: &str, key: &DigestKey, n: u32) -> Journal {
    let mut j = journal(flow, key);
    j.policy = Some(
        "RNdfbf3fae0e1107f8aded0e7cead80bf5"
            .parse()
            .expect("policy"),
    );
    j.bundle = Some(sid("BU", n).to_string().parse().expect("bundle"));
    j.end_users.insert(
        "business_information".into(),
        sid("IT", n).to_string().parse().expect("end user"),
    );
    j.address = Some(sid("AD", n).to_string().parse().expect("address"));
    j.address_created = true;
    j.evaluation = Some(sid("EL", n).to_string().parse().expect("evaluation"));
    j.compliant = Some(true);
    j.submitted = true;
    j.statuses.insert(sid("BU", n), "in-review".into());
    let voice = trusthub::flow::TrustProductProgress {
        sid: Some(
            sid("BU", n + 500)
                .to_string()
                .parse()
                .expect("trust product"),
        ),
        ..Default::default()
    };
    j.voice.insert(TrustProductKind::ShakenStir, voice);
    let a2p = trusthub::flow::A2pProgress {
        brand: Some(sid("BN", n).to_string().parse().expect("brand")),
        brand_status: Some("PENDING".into()),
        ..Default::default()
    };
    j.a2p = Some(a2p);
    j.intents.insert("document".into(), intent(None));
    j.intents
        .insert("a2p.trust_product".into(), intent(Some("c-tp")));
    j
}

/// Runs the suite on `fixture`; panics with what broke.
pub async fn run<F: Fixture>(fixture: &mut F) {
    saves_replace_and_resume(fixture).await;
    the_digest_key_is_stable(fixture).await;
    if fixture.shared() {
        flows_of_a_shared_store_never_take_each_others(fixture).await;
    } else {
        stores_of_one_flow_answer_for_no_other(fixture).await;
    }
}

async fn saves_replace_and_resume<F: Fixture>(fixture: &mut F) {
    let store = fixture.open("replace").await;
    let key = store.digest_key().clone();
    let first = journal("th-replace", &key);
    store.save(&first).expect("the first save");
    let mut second = first.clone();
    second.bundle = Some(sid("BU", 1).to_string().parse().expect("bundle"));
    second
        .intents
        .insert("end_user.business_information".into(), intent(None));
    store.save(&second).expect("a second save");
    let last = full_journal("th-replace", &key, 2);
    store.save_owned(last.clone()).expect("a save by value");
    drop(store);
    let (store, resumed) = fixture.reopen("replace").await;
    assert_eq!(
        resumed.as_ref(),
        Some(&last),
        "resuming hands back the last journal saved, field for field"
    );
    // A save after resuming replaces it again (an intent settled, a status seen).
    let mut after = last.clone();
    after.intents.remove("document");
    after
        .statuses
        .insert(sid("BU", 2), "twilio-approved".into());
    store.save(&after).expect("a save after resuming");
    drop(store);
    let (_store, resumed) = fixture.reopen("replace").await;
    assert_eq!(
        resumed,
        Some(after),
        "the save after resuming replaced the journal"
    );
}

async fn the_digest_key_is_stable<F: Fixture>(fixture: &mut F) {
    let store = fixture.open("key").await;
    let id = store.digest_key().id();
    assert_eq!(
        store.digest_key().id(),
        id,
        "the digest key does not change"
    );
    let digest = store.digest_key().digest("address", b"555 Main Street");
    assert_eq!(
        store.digest_key().digest("address", b"555 Main Street"),
        digest,
        "digests are deterministic"
    );
    // (Not "555": a hex digest holds those digits by chance in about one run in seventy.)
    assert!(
        !digest.contains("Main") && !digest.contains("Street") && digest.len() >= 32,
        "a digest reveals nothing of its input: {digest}"
    );
    assert_ne!(
        store.digest_key().digest("address", b"555 Main Street"),
        store.digest_key().digest("address", b"556 Main Street"),
    );
    store
        .save(&journal("th-key", store.digest_key()))
        .expect("a save");
    drop(store);
    let (store, resumed) = fixture.reopen("key").await;
    assert_eq!(
        store.digest_key().id(),
        id,
        "a resumed flow has the key its journal's digests were made with"
    );
    assert_eq!(resumed.expect("a journal").key_id, id);
}

async fn stores_of_one_flow_answer_for_no_other<F: Fixture>(fixture: &mut F) {
    let a = fixture.open("solo-a").await;
    let b = fixture.open("solo-b").await;
    let owned = full_journal("th-solo-a", a.digest_key(), 10);
    a.save(&owned).expect("a save");
    let mine = journal("th-solo-b", b.digest_key());
    for sid in owned.owned_sids() {
        assert!(
            !b.held_elsewhere(&mine, sid),
            "a store of one flow knows no other flow ({sid})"
        );
    }
    assert!(b.try_claim(&mine, sid("BU", 10)), "every claim is granted");
    assert!(a.try_claim(&owned, sid("BU", 10)));
    assert_eq!(
        b.rivals(&mine, "a2p.trust_product", &intent(Some("c-tp"))),
        0,
        "a store of one flow has no rivals"
    );
}

async fn flows_of_a_shared_store_never_take_each_others<F: Fixture>(fixture: &mut F) {
    let a = fixture.open("shared-a").await;
    let b = fixture.open("shared-b").await;
    let c = fixture.open("shared-c").await;
    assert_eq!(
        a.digest_key().id(),
        b.digest_key().id(),
        "the flows of a store share its digest key"
    );
    // `a` owns everything its journal holds.
    let owned = full_journal("th-shared-a", a.digest_key(), 20);
    a.save(&owned).expect("a's save");
    let jb = journal("th-shared-b", b.digest_key());
    for sid in owned.owned_sids() {
        assert!(b.held_elsewhere(&jb, sid), "{sid}: held by a");
        assert!(!a.held_elsewhere(&owned, sid), "{sid}: a's own");
    }
    let bundle = sid("BU", 20);
    assert!(
        !b.try_claim(&jb, bundle),
        "another flow's SID cannot be claimed"
    );
    assert!(a.try_claim(&owned, bundle), "a flow's own SID is its own");
    // A free SID goes to the first claim, and stays its.
    let free = sid("BU", 21);
    assert!(!a.held_elsewhere(&owned, free), "nobody owns it yet");
    assert!(b.try_claim(&jb, free), "the first claim wins");
    assert!(b.try_claim(&jb, free), "claiming again what it claimed");
    assert!(!a.try_claim(&owned, free), "claimed by b first");
    assert!(
        a.held_elsewhere(&owned, free),
        "b's claim is held elsewhere"
    );
    assert!(!c.held_elsewhere(&journal("th-shared-c", c.digest_key()), sid("BU", 22)));
    // Open intents of the same key and criteria are rivals; their own, settled ones and
    // intents without criteria are not.
    for key in ["bundle", "a2p.trust_product", "a2p.messaging_service"] {
        let mut pending_b = journal("th-shared-b", b.digest_key());
        pending_b.intents.insert(key.into(), intent(Some("same")));
        b.save(&pending_b).expect("b's save");
        let mut pending_c = journal("th-shared-c", c.digest_key());
        pending_c.intents.insert(key.into(), intent(Some("other")));
        pending_c.intents.insert("document".into(), intent(None));
        c.save(&pending_c).expect("c's save");
        assert_eq!(a.rivals(&owned, key, &intent(Some("same"))), 1, "{key}: b");
        assert_eq!(a.rivals(&owned, key, &intent(Some("other"))), 1, "{key}: c");
        assert_eq!(a.rivals(&owned, key, &intent(Some("none"))), 0, "{key}");
        assert_eq!(
            a.rivals(&owned, key, &intent(None)),
            0,
            "{key}: no criteria"
        );
        assert_eq!(
            b.rivals(&pending_b, key, &intent(Some("same"))),
            0,
            "{key}: not its own"
        );
        assert_eq!(
            a.rivals(&owned, "document", &intent(None)),
            0,
            "an intent without criteria is no rival"
        );
        // Settled intents are no rivals.
        b.save(&journal("th-shared-b", b.digest_key()))
            .expect("b settles");
        c.save(&journal("th-shared-c", c.digest_key()))
            .expect("c settles");
        assert_eq!(
            a.rivals(&owned, key, &intent(Some("same"))),
            0,
            "{key}: settled"
        );
        assert_eq!(
            a.rivals(&owned, key, &intent(Some("other"))),
            0,
            "{key}: settled"
        );
    }
    // Two rivals at once are counted as two.
    for (store, flow) in [(&b, "th-shared-b"), (&c, "th-shared-c")] {
        let mut pending = journal(flow, store.digest_key());
        pending
            .intents
            .insert("bundle".into(), intent(Some("twice")));
        store.save(&pending).expect("a save");
    }
    assert_eq!(a.rivals(&owned, "bundle", &intent(Some("twice"))), 2);
    // A SID stays its owner's after the owner's journal dropped it (cleanup), and after either
    // flow resumed.
    let mut dropped = owned.clone();
    dropped.bundle = None;
    a.save(&dropped).expect("a drops its bundle");
    assert!(b.held_elsewhere(&jb, bundle), "still a's");
    drop((a, b));
    let (a, resumed_a) = fixture.reopen("shared-a").await;
    let (b, _) = fixture.reopen("shared-b").await;
    let resumed_a = resumed_a.expect("a's journal");
    assert!(
        b.held_elsewhere(&jb, bundle),
        "still a's after both resumed"
    );
    assert!(b.held_elsewhere(&jb, sid("EL", 20)), "a's evaluation");
    assert!(!b.try_claim(&jb, sid("BN", 20)), "a's brand");
    assert!(a.try_claim(&resumed_a, bundle), "a's own after resuming");
    assert!(b.try_claim(&jb, free), "b's claim after resuming");
    assert!(a.held_elsewhere(&resumed_a, free));
    assert_eq!(
        a.rivals(&resumed_a, "bundle", &intent(Some("twice"))),
        2,
        "rivals after resuming"
    );
}
