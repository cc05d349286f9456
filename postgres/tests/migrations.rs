//! The schema's versions, the store key check, and connection errors that show no secret.

use trusthub_postgres::{Error, PgQueue, StoreKey, SCHEMA_VERSION};

use crate::support::Cluster;

async fn migration_rows(cluster: &Cluster, db: &str) -> Vec<(i32, String)> {
    cluster
        .client(db)
        .await
        .query(
            "SELECT version, name FROM trusthub.schema_migrations ORDER BY version",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect()
}

#[tokio::test]
async fn migrating_twice_is_a_no_op_and_a_newer_schema_is_refused() {
    let cluster = Cluster::start();
    let url = cluster.database("migrations").await;
    let key = StoreKey::generate().unwrap();
    let first = PgQueue::connect(&url, key.clone()).await.unwrap();
    assert_eq!(first.schema_version().await.unwrap(), SCHEMA_VERSION);
    first.enqueue("customer-1", b"input").await.unwrap();
    // Connecting again (another worker, a restart) changes nothing.
    let second = PgQueue::connect(&url, key.clone()).await.unwrap();
    assert_eq!(second.schema_version().await.unwrap(), SCHEMA_VERSION);
    assert_eq!(
        migration_rows(&cluster, "migrations").await,
        vec![
            (1, "jobs".to_owned()),
            (2, "workers".to_owned()),
            (3, "liveness".to_owned()),
            (4, "retries".to_owned())
        ]
    );
    assert_eq!(
        second.counts().await.unwrap().queued,
        1,
        "the job is still there"
    );

    // A newer version of the crate migrated the database: this one refuses it.
    let admin = cluster.client("migrations").await;
    admin
        .batch_execute(&format!(
            "INSERT INTO trusthub.schema_migrations (version, name, checksum) \
             VALUES ({}, 'from the future', 'x')",
            SCHEMA_VERSION + 1
        ))
        .await
        .unwrap();
    let refused = PgQueue::connect(&url, key.clone()).await.unwrap_err();
    assert!(matches!(refused, Error::Schema(_)), "{refused:?}");
    let message = refused.to_string();
    assert!(
        message.contains(&format!("version {}", SCHEMA_VERSION + 1)),
        "{message}"
    );
    assert!(
        message.contains(&format!("version {SCHEMA_VERSION}")),
        "{message}"
    );
    assert!(message.contains("upgrade trusthub-postgres"), "{message}");
    assert_eq!(
        migration_rows(&cluster, "migrations").await.len(),
        SCHEMA_VERSION as usize + 1,
        "nothing changed"
    );
    drop(second);
    assert_eq!(first.counts().await.unwrap().queued, 1);
}

#[tokio::test]
async fn an_applied_migration_that_differs_from_this_version_is_refused() {
    let cluster = Cluster::start();
    let url = cluster.database("edited").await;
    let key = StoreKey::generate().unwrap();
    PgQueue::connect(&url, key.clone()).await.unwrap();
    cluster
        .client("edited")
        .await
        .batch_execute(
            "UPDATE trusthub.schema_migrations SET checksum = 'edited' WHERE version = 1",
        )
        .await
        .unwrap();
    let refused = PgQueue::connect(&url, key).await.unwrap_err();
    assert!(matches!(refused, Error::Schema(_)), "{refused:?}");
    assert!(refused.to_string().contains("differs"), "{refused}");
}

#[tokio::test]
async fn workers_starting_at_once_migrate_once() {
    let cluster = Cluster::start();
    let url = cluster.database("at_once").await;
    let key = StoreKey::generate().unwrap();
    let mut tasks = Vec::new();
    for _ in 0..6 {
        let (url, key) = (url.clone(), key.clone());
        tasks.push(tokio::spawn(
            async move { PgQueue::connect(&url, key).await },
        ));
    }
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    assert_eq!(
        migration_rows(&cluster, "at_once").await,
        vec![
            (1, "jobs".to_owned()),
            (2, "workers".to_owned()),
            (3, "liveness".to_owned()),
            (4, "retries".to_owned())
        ]
    );
}

#[tokio::test]
async fn another_store_key_is_refused() {
    let cluster = Cluster::start();
    let url = cluster.database("keys").await;
    let key = StoreKey::generate().unwrap();
    PgQueue::connect(&url, key.clone()).await.unwrap();
    let other = StoreKey::generate().unwrap();
    let refused = PgQueue::connect(&url, other.clone()).await.unwrap_err();
    assert!(matches!(refused, Error::WrongKey(_)), "{refused:?}");
    let message = refused.to_string();
    assert!(
        message.contains(&key.id()) && message.contains(&other.id()),
        "{message}"
    );
    // The same key again is fine.
    PgQueue::connect(&url, key).await.unwrap();
}

#[tokio::test]
async fn connection_errors_never_show_the_url_or_its_password() {
    let cluster = Cluster::start();
    let url = cluster.database("secrets").await;
    let key = StoreKey::generate().unwrap();

    let queue = PgQueue::connect(&url, key.clone()).await.unwrap();
    assert!(!format!("{queue:?}").contains(cluster.password()));

    let wrong = url.replace(cluster.password(), "Wr0ngPassw0rdZ");
    let refused = PgQueue::connect(&wrong, key.clone()).await.unwrap_err();
    assert!(matches!(refused, Error::Connect(_)), "{refused:?}");
    for shown in [refused.to_string(), format!("{refused:?}")] {
        assert!(!shown.contains("Wr0ngPassw0rdZ"), "{shown}");
        assert!(shown.contains("password authentication failed"), "{shown}");
    }

    let unparsable = format!(
        "postgresql://trusthub_test:{}@127.0.0.1:notaport/secrets",
        cluster.password()
    );
    let refused = PgQueue::connect(&unparsable, key.clone())
        .await
        .unwrap_err();
    assert!(matches!(refused, Error::Config(_)), "{refused:?}");
    for shown in [refused.to_string(), format!("{refused:?}")] {
        assert!(!shown.contains(cluster.password()), "{shown}");
        assert!(!shown.contains("127.0.0.1"), "{shown}");
    }

    let tls = format!("{url}?sslmode=require");
    let refused = PgQueue::connect(&tls, key.clone()).await.unwrap_err();
    assert!(refused.to_string().contains("sslmode=require"), "{refused}");
    assert!(!refused.to_string().contains(cluster.password()));

    // Nothing listens there: refused, and neither the host nor the password shown.
    let closed = format!(
        "postgresql://trusthub_test:{}@127.0.0.1:1/secrets",
        cluster.password()
    );
    let refused = PgQueue::connect(&closed, key.clone()).await.unwrap_err();
    assert!(matches!(refused, Error::Connect(_)), "{refused:?}");
    assert!(!format!("{refused:?}").contains(cluster.password()));
}

#[tokio::test]
async fn a_unix_socket_in_a_directory_is_a_database_url_too() {
    let cluster = Cluster::start();
    cluster.database("socket").await;
    let queue = PgQueue::connect(&cluster.socket_url("socket"), StoreKey::generate().unwrap())
        .await
        .unwrap();
    assert_eq!(queue.schema_version().await.unwrap(), SCHEMA_VERSION);
}

#[tokio::test]
async fn a_worker_role_without_ddl_rights_works_on_a_migrated_database() {
    let cluster = Cluster::start();
    let url = cluster.database("least").await;
    let key = StoreKey::generate().unwrap();
    // The owner migrates once (a deployment step)...
    PgQueue::connect(&url, key.clone()).await.unwrap();
    let admin = cluster.client("least").await;
    admin
        .batch_execute(
            "CREATE ROLE worker LOGIN PASSWORD 'worker-pw';
             GRANT USAGE ON SCHEMA trusthub TO worker;
             GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA trusthub TO worker;
             REVOKE CREATE ON DATABASE least FROM PUBLIC;",
        )
        .await
        .unwrap();
    // ...and the workers connect with data rights only.
    let worker_url = format!(
        "postgresql://worker:worker-pw@127.0.0.1:{}/least",
        cluster.port()
    );
    let queue = PgQueue::connect(&worker_url, key).await.unwrap();
    queue.enqueue("crm-1", b"input").await.unwrap();
    let lease = queue
        .lease("w1", std::time::Duration::from_secs(60))
        .await
        .unwrap()
        .unwrap();
    use trusthub::flow::JournalStore;
    let store = lease.store();
    let journal = trusthub_postgres::conformance::journal("th-least", store.digest_key());
    store.save(&journal).unwrap();
    assert!(store.try_claim(&journal, trusthub_postgres::conformance::sid("BU", 1)));
    queue
        .finish(&lease, trusthub_postgres::Outcome::Done)
        .await
        .unwrap();
    // A worker cannot create the schema of an empty database: the error says so.
    let empty_url = cluster.database("empty").await;
    admin
        .batch_execute("CREATE ROLE worker2 LOGIN PASSWORD 'worker2-pw'")
        .await
        .unwrap();
    let empty_worker = empty_url.replace(
        &format!("{}:{}", crate::support::USER, cluster.password()),
        "worker2:worker2-pw",
    );
    let refused = PgQueue::connect(&empty_worker, StoreKey::generate().unwrap())
        .await
        .unwrap_err();
    assert!(matches!(refused, Error::Database(_)), "{refused:?}");
    assert!(
        refused.to_string().contains("permission denied"),
        "{refused}"
    );
}
