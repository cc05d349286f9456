//! Enqueueing, finishing, parking, releasing and counting.

use std::time::Duration;

use trusthub::flow::JournalStore;
use trusthub_postgres::conformance::journal;
use trusthub_postgres::{
    is_lease_lost, Counts, Enqueued, Error, JobState, Outcome, PgQueue, StoreKey,
};

use crate::support::Cluster;

const LEASE: Duration = Duration::from_secs(60);

async fn queue(cluster: &Cluster, db: &str) -> PgQueue {
    let url = cluster.database(db).await;
    PgQueue::connect(&url, StoreKey::generate().unwrap())
        .await
        .unwrap()
}

#[tokio::test]
async fn enqueueing_a_customer_twice_is_one_job() {
    let cluster = Cluster::start();
    let queue = queue(&cluster, "idempotent").await;
    let Enqueued::New(job) = queue.enqueue("crm-1", b"input 1").await.unwrap() else {
        panic!("a new job")
    };
    assert_eq!(
        queue.enqueue("crm-1", b"input 1").await.unwrap(),
        Enqueued::Existing(job, JobState::Queued)
    );
    let other = queue.enqueue("crm-2", b"input 2").await.unwrap();
    assert!(matches!(other, Enqueued::New(j) if j != job), "{other:?}");
    // Producers enqueueing the same customer at once: one job.
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let queue = queue.clone();
        tasks.push(tokio::spawn(async move {
            queue.enqueue("crm-3", b"input 3").await.unwrap()
        }));
    }
    let mut new = 0;
    for task in tasks {
        if matches!(task.await.unwrap(), Enqueued::New(_)) {
            new += 1;
        }
    }
    assert_eq!(new, 1);
    assert_eq!(queue.counts().await.unwrap().queued, 3);
    let status = queue.status("crm-1").await.unwrap().unwrap();
    assert_eq!((status.job, status.state), (job, JobState::Queued));
    assert_eq!(status.customer, queue.customer_digest("crm-1"));
    assert!(queue.status("crm-unknown").await.unwrap().is_none());
    assert!(matches!(
        queue.enqueue("", b"x").await,
        Err(Error::Invalid(_))
    ));
}

#[tokio::test]
async fn a_changed_input_updates_a_waiting_job_and_is_refused_while_running_or_done() {
    let cluster = Cluster::start();
    let queue = queue(&cluster, "changed").await;
    let job = queue.enqueue("crm-1", b"first").await.unwrap().job();
    assert_eq!(
        queue.enqueue("crm-1", b"second").await.unwrap(),
        Enqueued::Updated(job)
    );
    let lease = queue.lease("w1", LEASE).await.unwrap().unwrap();
    assert_eq!(lease.input().as_bytes(), b"second");
    let refused = queue.enqueue("crm-1", b"third").await.unwrap_err();
    assert!(matches!(refused, Error::InputChanged(_)), "{refused:?}");
    assert!(
        refused.to_string().contains("a worker runs it"),
        "{refused}"
    );
    assert!(
        !refused.to_string().contains("crm-1"),
        "never the customer key: {refused}"
    );
    assert_eq!(
        queue.enqueue("crm-1", b"second").await.unwrap(),
        Enqueued::Existing(job, JobState::Running)
    );
    queue.finish(&lease, Outcome::Done).await.unwrap();
    let refused = queue.enqueue("crm-1", b"third").await.unwrap_err();
    assert!(refused.to_string().contains("is done"), "{refused}");

    // A failed job takes a corrected input and runs again from a clean slate.
    let failed = queue.enqueue("crm-2", b"bad").await.unwrap().job();
    let lease = queue.lease("w1", LEASE).await.unwrap().unwrap();
    assert_eq!(lease.job(), failed);
    queue
        .finish(&lease, Outcome::Failed("field `email` is invalid".into()))
        .await
        .unwrap();
    assert_eq!(
        queue.enqueue("crm-2", b"fixed").await.unwrap(),
        Enqueued::Updated(failed)
    );
    let status = queue.status("crm-2").await.unwrap().unwrap();
    assert_eq!(status.state, JobState::Queued);
    assert_eq!((status.attempts, status.last_error), (0, None));
    let lease = queue.lease("w1", LEASE).await.unwrap().unwrap();
    assert_eq!(lease.input().as_bytes(), b"fixed");
}

#[tokio::test]
async fn finished_jobs_are_counted_and_failures_listed_with_their_reasons() {
    let cluster = Cluster::start();
    let queue = queue(&cluster, "finish").await;
    for n in 1..=5 {
        queue
            .enqueue(&format!("crm-{n}"), format!("input {n}").as_bytes())
            .await
            .unwrap();
    }
    let mut leases = Vec::new();
    for _ in 0..4 {
        leases.push(queue.lease("w1", LEASE).await.unwrap().unwrap());
    }
    assert_eq!(
        queue.counts().await.unwrap(),
        Counts {
            queued: 1,
            running: 4,
            ..Counts::default()
        }
    );
    queue.finish(&leases[0], Outcome::Done).await.unwrap();
    queue
        .finish(
            &leases[1],
            Outcome::Failed("the policy check refused\nfield `email`".into()),
        )
        .await
        .unwrap();
    queue
        .park(&leases[2], Duration::from_secs(3600))
        .await
        .unwrap();
    queue.release(&leases[3]).await.unwrap();
    assert_eq!(
        queue.counts().await.unwrap(),
        Counts {
            queued: 2,
            parked: 1,
            done: 1,
            failed: 1,
            ..Counts::default()
        }
    );
    let failed = queue.failed().await.unwrap();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].job, leases[1].job());
    assert_eq!(failed[0].customer, leases[1].customer());
    assert_eq!(failed[0].reason, "the policy check refused field `email`");
    assert_eq!(failed[0].attempts, 1);
    // An ended lease ends nothing more.
    for lease in &leases {
        let again = queue.finish(lease, Outcome::Done).await.unwrap_err();
        assert!(again.is_lease_lost(), "{again:?}");
    }
    let done = queue.status("crm-1").await.unwrap().unwrap();
    assert_eq!(done.state, JobState::Done);
    assert_eq!((done.lease_owner, done.lease_expires), (None, None));
    // Done and failed jobs are never leased again; the two queued ones are.
    let a = queue.lease("w2", LEASE).await.unwrap().unwrap();
    let b = queue.lease("w2", LEASE).await.unwrap().unwrap();
    assert!(queue.lease("w2", LEASE).await.unwrap().is_none());
    let mut got = vec![a.job(), b.job()];
    got.sort();
    let mut expected = vec![
        leases[3].job(),
        queue.status("crm-5").await.unwrap().unwrap().job,
    ];
    expected.sort();
    assert_eq!(got, expected);
}

#[tokio::test]
async fn a_parked_job_holds_no_worker_and_wakes_up_at_its_time() {
    let cluster = Cluster::start();
    let queue = queue(&cluster, "park").await;
    let job = queue.enqueue("crm-1", b"input").await.unwrap().job();
    let lease = queue.lease("w1", LEASE).await.unwrap().unwrap();
    let store = lease.store();
    let mut saved = journal("th-park", store.digest_key());
    saved.submitted = true;
    store.save(&saved).unwrap();
    queue.park(&lease, Duration::from_secs(2)).await.unwrap();
    assert_eq!(queue.counts().await.unwrap().parked, 1);
    let status = queue.status("crm-1").await.unwrap().unwrap();
    assert_eq!(status.state, JobState::Parked);
    assert!(status.wake_at.is_some() && status.lease_owner.is_none());
    let error = store.save(&saved).unwrap_err();
    assert!(
        is_lease_lost(&error),
        "a parked job's old lease saves nothing: {error}"
    );
    assert!(queue.lease("w2", LEASE).await.unwrap().is_none(), "asleep");
    tokio::time::sleep(Duration::from_millis(2200)).await;
    let mut woken = queue.lease("w2", LEASE).await.unwrap().expect("awake");
    assert_eq!(woken.job(), job);
    assert_eq!(woken.attempts(), 2);
    assert_eq!(woken.took_over_from(), None, "a wake-up is no takeover");
    assert_eq!(woken.take_journal(), Some(saved));

    // A parked job can be woken at once by asking for its customer.
    queue.park(&woken, Duration::from_secs(3600)).await.unwrap();
    assert!(queue.lease("w3", LEASE).await.unwrap().is_none());
    let early = queue
        .lease_customer("w3", "crm-1", LEASE)
        .await
        .unwrap()
        .expect("woken early");
    assert_eq!(early.job(), job);
    assert!(
        queue
            .lease_customer("w4", "crm-1", LEASE)
            .await
            .unwrap()
            .is_none(),
        "held by w3"
    );
}

#[tokio::test]
async fn a_release_queues_the_job_again_at_once_and_ends_the_lease() {
    let cluster = Cluster::start();
    let queue = queue(&cluster, "release").await;
    for n in 1..=3 {
        queue.enqueue(&format!("crm-{n}"), b"input").await.unwrap();
    }
    let first = queue.lease("w1", LEASE).await.unwrap().unwrap();
    let store = first.store();
    let saved = journal("th-release", store.digest_key());
    store.save(&saved).unwrap();
    queue.release(&first).await.unwrap();
    let error = store.save(&saved).unwrap_err();
    assert!(is_lease_lost(&error), "{error}");
    assert!(
        error.to_string().contains("ended (the job is queued)"),
        "{error}"
    );
    // The next worker resumes it (ready since its release, after the two others' enqueueing:
    // it comes last).
    let mut others = Vec::new();
    for _ in 0..3 {
        others.push(queue.lease("w2", LEASE).await.unwrap().unwrap());
    }
    assert_eq!(others[2].job(), first.job());
    assert_eq!(others[2].journal(), Some(&saved));
    // A stopping worker releases everything it holds.
    assert_eq!(queue.release_all("w2").await.unwrap(), 3);
    assert_eq!(queue.counts().await.unwrap().queued, 3);
    for lease in &others {
        assert!(lease.store().save(&saved).is_err());
    }
}

#[tokio::test]
async fn a_renewed_lease_outlives_its_first_expiry() {
    let cluster = Cluster::start();
    let queue = queue(&cluster, "renew").await;
    queue.enqueue("crm-1", b"input").await.unwrap();
    let mut lease = queue
        .lease("w1", Duration::from_secs(2))
        .await
        .unwrap()
        .unwrap();
    let first_expiry = lease.expires_at();
    queue
        .renew(&mut lease, Duration::from_secs(30))
        .await
        .unwrap();
    assert!(lease.expires_at() > first_expiry);
    tokio::time::sleep(Duration::from_millis(2300)).await;
    assert!(
        queue.lease("w2", LEASE).await.unwrap().is_none(),
        "still held"
    );
    let store = lease.store();
    store
        .save(&journal("th-renew", store.digest_key()))
        .unwrap();
    assert_eq!(queue.counts().await.unwrap().expired, 0);
    assert!(matches!(
        queue.renew(&mut lease, Duration::ZERO).await,
        Err(Error::Invalid(_))
    ));
    assert!(matches!(
        queue.lease("", LEASE).await,
        Err(Error::Invalid(_))
    ));
}

#[tokio::test]
async fn an_idle_worker_is_woken_by_a_change_and_told_when_the_next_job_is_ready() {
    let cluster = Cluster::start();
    let queue = queue(&cluster, "wakeups").await;
    let wakeups = queue.wakeups().await.unwrap();
    assert_eq!(queue.next_ready().await.unwrap(), None, "no job");
    // Nothing changed yet: no wake-up.
    let quiet = tokio::time::timeout(Duration::from_millis(300), wakeups.changed()).await;
    assert!(quiet.is_err(), "woken with nothing changed");

    // An enqueue (from another connection: another process, say) wakes it.
    let other = PgQueue::connect(&cluster.url("wakeups"), queue.key().clone())
        .await
        .unwrap();
    let wait = tokio::time::timeout(Duration::from_secs(10), wakeups.changed());
    let (woken, _) = tokio::join!(wait, other.enqueue("crm-1", b"input"));
    woken.expect("an enqueue wakes an idle worker");
    assert_eq!(queue.next_ready().await.unwrap(), Some(Duration::ZERO));

    // A lease wakes nobody; its expiry is when the job is ready next.
    let lease = queue
        .lease("w1", Duration::from_secs(30))
        .await
        .unwrap()
        .unwrap();
    let quiet = tokio::time::timeout(Duration::from_millis(300), wakeups.changed()).await;
    assert!(quiet.is_err(), "a lease woke an idle worker");
    let next = queue.next_ready().await.unwrap().expect("running");
    assert!(
        next > Duration::from_secs(25) && next <= Duration::from_secs(30),
        "{next:?}"
    );
    // A park tells its wake-up time; a release wakes at once; so does a finish.
    other.park(&lease, Duration::from_secs(600)).await.unwrap();
    tokio::time::timeout(Duration::from_secs(10), wakeups.changed())
        .await
        .expect("a park wakes");
    let next = queue.next_ready().await.unwrap().expect("parked");
    assert!(next > Duration::from_secs(590), "{next:?}");
    let lease = queue
        .lease_customer("w1", "crm-1", LEASE)
        .await
        .unwrap()
        .unwrap();
    other.release(&lease).await.unwrap();
    tokio::time::timeout(Duration::from_secs(10), wakeups.changed())
        .await
        .expect("a release wakes");
    let lease = queue.lease("w1", LEASE).await.unwrap().unwrap();
    queue.finish(&lease, Outcome::Done).await.unwrap();
    tokio::time::timeout(Duration::from_secs(10), wakeups.changed())
        .await
        .expect("a finish wakes");
    assert_eq!(queue.next_ready().await.unwrap(), None, "done");
}

#[tokio::test]
async fn retries_are_counted_until_progress_and_failed_jobs_can_be_queued_again() {
    let cluster = Cluster::start();
    let queue = queue(&cluster, "retries").await;
    let job = queue.enqueue("crm-1", b"input").await.unwrap().job();
    queue.enqueue("crm-2", b"input").await.unwrap();
    // Three failures that may pass next time: counted, the reason kept, the job parked.
    for n in 0..3u32 {
        let lease = queue.lease_customer("w1", "crm-1", LEASE).await.unwrap();
        let lease = lease.expect("woken at once (a retry of 0 s)");
        assert_eq!(lease.retries(), n);
        queue
            .retry(&lease, Duration::ZERO, "HTTP 503 from a gateway")
            .await
            .unwrap();
        let status = queue.status("crm-1").await.unwrap().unwrap();
        assert_eq!(status.state, JobState::Parked);
        assert_eq!(status.retries, n + 1);
        assert_eq!(
            status.last_error.as_deref(),
            Some("HTTP 503 from a gateway")
        );
    }
    // Progress (a park for a review) clears them.
    let lease = queue
        .lease_customer("w1", "crm-1", LEASE)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(lease.retries(), 3);
    queue.park(&lease, Duration::ZERO).await.unwrap();
    let status = queue.status("crm-1").await.unwrap().unwrap();
    assert_eq!((status.retries, status.last_error), (0, None));
    // A worker that gives up fails it; failed jobs are queued again, counters cleared.
    let lease = queue
        .lease_customer("w1", "crm-1", LEASE)
        .await
        .unwrap()
        .unwrap();
    queue
        .retry(&lease, Duration::ZERO, "timeout")
        .await
        .unwrap();
    let lease = queue
        .lease_customer("w1", "crm-1", LEASE)
        .await
        .unwrap()
        .unwrap();
    queue
        .finish(
            &lease,
            Outcome::Failed("gave up after 2 tries: timeout".into()),
        )
        .await
        .unwrap();
    // The listing: every job, or those of some states.
    let all = queue.jobs(&[], 100).await.unwrap();
    assert_eq!(all.len(), 2);
    assert_eq!(all[0].job, job);
    let failed = queue.jobs(&[JobState::Failed], 100).await.unwrap();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].attempts, 6);
    assert_eq!(
        queue
            .jobs(&[JobState::Queued, JobState::Running], 100)
            .await
            .unwrap()
            .len(),
        1
    );
    assert_eq!(queue.jobs(&[], 1).await.unwrap().len(), 1, "the limit");
    assert_eq!(queue.requeue_failed().await.unwrap(), 1);
    assert_eq!(queue.requeue_failed().await.unwrap(), 0);
    let status = queue.status("crm-1").await.unwrap().unwrap();
    assert_eq!(status.state, JobState::Queued);
    assert_eq!((status.attempts, status.retries), (0, 0));
    assert_eq!(status.last_error, None);
}
