//! Leases under concurrency, expiry and takeover, damaged rows, and claims across workers.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use trusthub::flow::{Intent, JournalStore};
use trusthub_postgres::conformance::{journal, sid};
use trusthub_postgres::{is_lease_lost, Error, JobState, Outcome, PgOptions, PgQueue, StoreKey};

use crate::support::Cluster;

const LEASE: Duration = Duration::from_secs(60);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workers_leasing_at_once_get_distinct_jobs() {
    let cluster = Cluster::start();
    let url = cluster.database("skip_locked").await;
    let key = StoreKey::generate().unwrap();
    let producer = PgQueue::connect(&url, key.clone()).await.unwrap();
    const JOBS: usize = 60;
    for n in 0..JOBS {
        producer
            .enqueue(&format!("crm-{n}"), b"input")
            .await
            .unwrap();
    }
    // Six worker processes (a queue each: connections of their own), each with four flows
    // leasing at once.
    let mut tasks = Vec::new();
    for w in 0..6 {
        let mut options = PgOptions::default();
        options.connections = 4;
        let queue = PgQueue::connect_with(&url, key.clone(), options)
            .await
            .unwrap();
        for t in 0..4 {
            let queue = queue.clone();
            tasks.push(tokio::spawn(async move {
                let mut got = Vec::new();
                while let Some(lease) = queue.lease(&format!("w{w}-{t}"), LEASE).await.unwrap() {
                    got.push(lease);
                }
                got
            }));
        }
    }
    let mut jobs = Vec::new();
    let mut workers = BTreeSet::new();
    for task in tasks {
        for lease in task.await.unwrap() {
            workers.insert(lease.worker().to_owned());
            jobs.push(lease.job());
        }
    }
    let distinct: BTreeSet<_> = jobs.iter().copied().collect();
    assert_eq!(jobs.len(), JOBS, "every job leased once: {jobs:?}");
    assert_eq!(distinct.len(), JOBS, "no job leased twice");
    assert!(workers.len() > 1, "the work was shared: {workers:?}");
    let counts = producer.counts().await.unwrap();
    assert_eq!((counts.running, counts.queued), (JOBS as u64, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_lease_is_taken_over_and_the_old_holders_save_fails() {
    let cluster = Cluster::start();
    let url = cluster.database("takeover").await;
    let key = StoreKey::generate().unwrap();
    // Two worker processes.
    let a = PgQueue::connect(&url, key.clone()).await.unwrap();
    let b = PgQueue::connect(&url, key.clone()).await.unwrap();
    let job = a.enqueue("crm-1", b"input").await.unwrap().job();
    let mut old = a.lease("worker-a", LEASE).await.unwrap().unwrap();
    let old_store = old.store();
    let mut progress = journal("th-takeover", old_store.digest_key());
    progress.bundle = Some(sid("BU", 1).to_string().parse().unwrap());
    progress.intents.insert(
        "end_user.business_information".into(),
        Intent {
            at: progress.started_at,
            criteria: None,
        },
    );
    old_store.save(&progress).unwrap();
    // Worker A stalls (or crashed); its lease expires; B takes the job over.
    assert!(
        b.lease("worker-b", LEASE).await.unwrap().is_none(),
        "not yet"
    );
    cluster.expire_lease("takeover", job).await;
    assert_eq!(b.counts().await.unwrap().expired, 1);
    let mut new = b
        .lease("worker-b", LEASE)
        .await
        .unwrap()
        .expect("taken over");
    assert_eq!(new.job(), job);
    assert_eq!(new.took_over_from(), Some("worker-a"));
    assert_eq!(new.attempts(), 2);
    assert_eq!(
        new.take_journal(),
        Some(progress.clone()),
        "the journal resumed"
    );

    // A comes back: every write of its lease is refused, saying why.
    let mut late = progress.clone();
    late.intents.clear();
    late.end_users.insert(
        "business_information".into(),
        sid("IT", 1).to_string().parse().unwrap(),
    );
    let error = old_store.save(&late).unwrap_err();
    assert!(is_lease_lost(&error), "{error}");
    assert!(
        error.to_string().contains("taken over by worker worker-b"),
        "{error}"
    );
    for refused in [
        a.renew(&mut old, LEASE).await.unwrap_err(),
        a.finish(&old, Outcome::Done).await.unwrap_err(),
        a.park(&old, LEASE).await.unwrap_err(),
        a.release(&old).await.unwrap_err(),
    ] {
        assert!(refused.is_lease_lost(), "{refused:?}");
    }
    // Nothing of A's late save reached the database: not its journal, not its SID.
    let status = b.status("crm-1").await.unwrap().unwrap();
    assert_eq!(status.journal, Some(progress.clone()));
    assert_eq!(status.lease_owner.as_deref(), Some("worker-b"));
    let new_store = new.store();
    assert!(!new_store.held_elsewhere(&progress, sid("IT", 1)));
    // B goes on from the journal.
    new_store.save(&late).unwrap();
    b.finish(&new, Outcome::Done).await.unwrap();
    let status = b.status("crm-1").await.unwrap().unwrap();
    assert_eq!((status.state, status.journal), (JobState::Done, Some(late)));
}

#[tokio::test]
async fn a_save_after_the_lease_expired_fails_before_any_takeover() {
    let cluster = Cluster::start();
    let url = cluster.database("expired").await;
    let queue = PgQueue::connect(&url, StoreKey::generate().unwrap())
        .await
        .unwrap();
    queue.enqueue("crm-1", b"input").await.unwrap();
    // The database's clock, for real: a two-second lease, and a worker back after it.
    let mut lease = queue
        .lease("w1", Duration::from_secs(2))
        .await
        .unwrap()
        .unwrap();
    let store = lease.store();
    let saved = journal("th-expired", store.digest_key());
    tokio::time::sleep(Duration::from_millis(2200)).await;
    let error = store.save(&saved).unwrap_err();
    assert!(is_lease_lost(&error), "{error}");
    assert!(error.to_string().contains("expired at"), "{error}");
    // Expired means lost: no renewal after the fact.
    assert!(queue
        .renew(&mut lease, LEASE)
        .await
        .unwrap_err()
        .is_lease_lost());
    // The same worker leasing again gets it back, as a takeover of its own old lease.
    let again = queue.lease("w1", LEASE).await.unwrap().unwrap();
    assert_eq!(again.took_over_from(), Some("w1"));
    assert!(store.save(&saved).is_err(), "the old lease stays lost");
    again.store().save(&saved).unwrap();
}

#[tokio::test]
async fn a_save_from_a_current_thread_runtime_and_from_a_plain_thread() {
    let cluster = Cluster::start();
    let url = cluster.database("threads").await;
    let queue = PgQueue::connect(&url, StoreKey::generate().unwrap())
        .await
        .unwrap();
    queue.enqueue("crm-1", b"input").await.unwrap();
    let lease = queue.lease("w1", LEASE).await.unwrap().unwrap();
    let store = lease.store();
    // This test's runtime is a current-thread one: a blocking save does not deadlock it.
    store.save(&journal("th-1", store.digest_key())).unwrap();
    let moved = store.clone();
    std::thread::spawn(move || moved.save(&journal("th-1", moved.digest_key())))
        .join()
        .unwrap()
        .unwrap();
    let inside = store.clone();
    tokio::task::spawn_blocking(move || inside.save(&journal("th-1", inside.digest_key())))
        .await
        .unwrap()
        .unwrap();
}

#[tokio::test]
async fn a_damaged_row_is_marked_failed_and_the_next_job_is_leased() {
    let cluster = Cluster::start();
    let url = cluster.database("damaged").await;
    let queue = PgQueue::connect(&url, StoreKey::generate().unwrap())
        .await
        .unwrap();
    let first = queue.enqueue("crm-1", b"input 1").await.unwrap().job();
    let second = queue.enqueue("crm-2", b"input 2").await.unwrap().job();
    let admin = cluster.client("damaged").await;
    // A byte of the ciphertext flipped; the other row's input moved onto this row.
    admin
        .execute(
            "UPDATE trusthub.jobs SET input = (SELECT input FROM trusthub.jobs WHERE id = $2) \
             WHERE id = $1",
            &[&first.0, &second.0],
        )
        .await
        .unwrap();
    let error = queue.lease("w1", LEASE).await.unwrap_err();
    assert!(matches!(error, Error::Damaged(_)), "{error:?}");
    assert!(error.to_string().contains("does not decrypt"), "{error}");
    let failed = queue.failed().await.unwrap();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].job, first);
    assert!(failed[0].reason.contains("does not decrypt"));
    let next = queue.lease("w1", LEASE).await.unwrap().unwrap();
    assert_eq!(
        (next.job(), next.input().as_bytes()),
        (second, &b"input 2"[..])
    );

    // A journal that does not read is damage too, not a fresh start.
    queue.enqueue("crm-3", b"input 3").await.unwrap();
    admin
        .batch_execute(
            "UPDATE trusthub.jobs SET journal = '{\"format\": 2, \"flow_id\": 7}' \
             WHERE state = 'queued'",
        )
        .await
        .unwrap();
    let error = queue.lease("w1", LEASE).await.unwrap_err();
    assert!(
        error
            .to_string()
            .contains("does not read as a flow journal"),
        "{error}"
    );
    assert_eq!(queue.counts().await.unwrap().failed, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_claim_is_atomic_across_workers() {
    let cluster = Cluster::start();
    let url = cluster.database("claims").await;
    let key = StoreKey::generate().unwrap();
    let mut stores = Vec::new();
    for w in 0..6 {
        let queue = PgQueue::connect(&url, key.clone()).await.unwrap();
        queue.enqueue(&format!("crm-{w}"), b"input").await.unwrap();
        let lease = queue
            .lease_customer(&format!("w{w}"), &format!("crm-{w}"), LEASE)
            .await
            .unwrap()
            .unwrap();
        stores.push((queue, lease));
    }
    let barrier = Arc::new(std::sync::Barrier::new(stores.len()));
    let contested = sid("BU", 99);
    let winners: Vec<bool> = std::thread::scope(|s| {
        let handles: Vec<_> = stores
            .iter()
            .map(|(_, lease)| {
                let store = lease.store();
                let barrier = barrier.clone();
                s.spawn(move || {
                    let mine = journal("th-claim", store.digest_key());
                    barrier.wait();
                    store.try_claim(&mine, contested)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(winners.iter().filter(|w| **w).count(), 1, "{winners:?}");
    let winner = winners.iter().position(|w| *w).unwrap();
    for (i, (_, lease)) in stores.iter().enumerate() {
        let store = lease.store();
        let mine = journal("th-claim", store.digest_key());
        assert_eq!(store.held_elsewhere(&mine, contested), i != winner);
    }
}
