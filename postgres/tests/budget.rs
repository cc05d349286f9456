//! The account's request budget shared by the live workers (`PgQueue::budget_share`).

use std::time::Duration;

use trusthub_postgres::{Error, PgQueue, StoreKey, WorkerProcess};

use crate::support::Cluster;

const TTL: Duration = Duration::from_secs(10);

async fn live(cluster: &Cluster, db: &str) -> Vec<String> {
    cluster
        .client(db)
        .await
        .query("SELECT worker FROM trusthub.workers ORDER BY worker", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect()
}

#[tokio::test]
async fn the_shares_of_the_live_workers_sum_to_the_limit() {
    let cluster = Cluster::start();
    let url = cluster.database("budget_sum").await;
    let queue = PgQueue::connect(&url, StoreKey::generate().unwrap())
        .await
        .unwrap();
    let workers = ["w-a", "w-b", "w-c"];
    for limit in [1u32, 2, 6, 7, 8] {
        for n in 1..=workers.len() {
            // Each heart-beats once so all are live, then each reads its share.
            for w in &workers[..n] {
                queue.budget_share(w, limit, TTL).await.unwrap();
            }
            let mut shares = Vec::new();
            for w in &workers[..n] {
                shares.push(queue.budget_share(w, limit, TTL).await.unwrap());
            }
            assert!(shares.iter().all(|&s| s >= 1), "{limit} / {n}: {shares:?}");
            let expected = limit.max(n as u32); // at least 1 each
            assert_eq!(
                shares.iter().sum::<u32>(),
                expected,
                "{limit} / {n}: {shares:?}"
            );
            // The remainder goes to the first workers by id.
            assert!(shares.windows(2).all(|w| w[0] >= w[1]), "{shares:?}");
            for w in &workers[..n] {
                queue.leave_budget(w).await.unwrap();
            }
        }
    }
    // 7 between three: 3, 2, 2.
    for w in workers {
        queue.budget_share(w, 7, TTL).await.unwrap();
    }
    let mut shares = Vec::new();
    for w in workers {
        shares.push(queue.budget_share(w, 7, TTL).await.unwrap());
    }
    assert_eq!(shares, [3, 2, 2]);
    assert_eq!(live(&cluster, "budget_sum").await, workers);
}

#[tokio::test]
async fn workers_sharing_at_once_each_see_the_others() {
    let cluster = Cluster::start();
    let url = cluster.database("budget_at_once").await;
    let key = StoreKey::generate().unwrap();
    let mut queues = Vec::new();
    for _ in 0..3 {
        queues.push(PgQueue::connect(&url, key.clone()).await.unwrap());
    }
    let tasks: Vec<_> = queues
        .iter()
        .enumerate()
        .map(|(i, q)| {
            let q = q.clone();
            tokio::spawn(async move { q.budget_share(&format!("w-{i}"), 6, TTL).await })
        })
        .collect();
    let mut first = Vec::new();
    for t in tasks {
        first.push(t.await.unwrap().unwrap());
    }
    // Serialised: the first sees 1 worker, the next 2, the last 3 (in some order).
    first.sort();
    assert_eq!(first, [2, 3, 6]);
    let mut again = Vec::new();
    for (i, q) in queues.iter().enumerate() {
        again.push(q.budget_share(&format!("w-{i}"), 6, TTL).await.unwrap());
    }
    assert_eq!(again, [2, 2, 2]);
}

#[tokio::test]
async fn a_worker_that_stops_heart_beating_drops_out_after_the_ttl() {
    let cluster = Cluster::start();
    let url = cluster.database("budget_ttl").await;
    let queue = PgQueue::connect(&url, StoreKey::generate().unwrap())
        .await
        .unwrap();
    let ttl = Duration::from_secs(2);
    for w in ["w-a", "w-b", "w-c"] {
        queue.budget_share(w, 6, ttl).await.unwrap();
    }
    assert_eq!(queue.budget_share("w-a", 6, ttl).await.unwrap(), 2);
    // w-c crashed: it heart-beats no more; the others do.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(
        queue.budget_share("w-b", 6, ttl).await.unwrap(),
        2,
        "not yet"
    );
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(queue.budget_share("w-a", 6, ttl).await.unwrap(), 3);
    assert_eq!(queue.budget_share("w-b", 6, ttl).await.unwrap(), 3);
    assert_eq!(live(&cluster, "budget_ttl").await, ["w-a", "w-b"]);
    // It comes back: it is in again.
    assert_eq!(queue.budget_share("w-c", 6, ttl).await.unwrap(), 2);
}

#[tokio::test]
async fn leaving_frees_the_share_at_once() {
    let cluster = Cluster::start();
    let url = cluster.database("budget_leave").await;
    let queue = PgQueue::connect(&url, StoreKey::generate().unwrap())
        .await
        .unwrap();
    for w in ["w-a", "w-b"] {
        queue.budget_share(w, 6, TTL).await.unwrap();
    }
    assert_eq!(queue.budget_share("w-b", 6, TTL).await.unwrap(), 3);
    queue.leave_budget("w-a").await.unwrap();
    assert_eq!(queue.budget_share("w-b", 6, TTL).await.unwrap(), 6);
    assert_eq!(live(&cluster, "budget_leave").await, ["w-b"]);
    // Leaving twice, or never having joined, is nothing.
    queue.leave_budget("w-a").await.unwrap();
    queue.leave_budget("w-z").await.unwrap();

    for refused in [
        queue.budget_share("", 6, TTL).await.unwrap_err(),
        queue.budget_share("w-b", 0, TTL).await.unwrap_err(),
        queue
            .budget_share("w-b", 6, Duration::from_millis(10))
            .await
            .unwrap_err(),
        queue.leave_budget("").await.unwrap_err(),
    ] {
        assert!(matches!(refused, Error::Invalid(_)), "{refused:?}");
    }
}

#[tokio::test]
async fn a_worker_whose_process_is_gone_gives_its_share_back_at_the_next_heartbeat() {
    let cluster = Cluster::start();
    let url = cluster.database("budget_gone").await;
    let queue = PgQueue::connect(&url, StoreKey::generate().unwrap())
        .await
        .unwrap();
    // A worker in another process of this machine (a child), one in this process, and one
    // whose process is not known (another machine, say).
    let mut child = std::process::Command::new("sleep")
        .arg("60")
        .spawn()
        .unwrap();
    let other = WorkerProcess::of(child.id()).expect("Linux: /proc tells");
    assert_ne!(Some(&other), WorkerProcess::current().as_ref());
    queue
        .budget_share_in("w-child", Some(&other), 6, TTL)
        .await
        .unwrap();
    queue
        .budget_share_in("w-remote", None, 6, TTL)
        .await
        .unwrap();
    assert_eq!(queue.budget_share("w-here", 6, TTL).await.unwrap(), 2);
    assert_eq!(
        live(&cluster, "budget_gone").await,
        ["w-child", "w-here", "w-remote"],
        "its process lives: it stays"
    );
    // Killed outright: its heartbeat is fresh (TTL is 10 s), its process is gone.
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(queue.budget_share("w-here", 6, TTL).await.unwrap(), 3);
    assert_eq!(
        live(&cluster, "budget_gone").await,
        ["w-here", "w-remote"],
        "the unknown process stays until its heartbeat lapses"
    );
}
