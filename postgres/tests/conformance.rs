//! The one store test suite (`trusthub_postgres::conformance`) on the facade's memory and file
//! stores and on the PostgreSQL store.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use trusthub::flow::{FileStore, Journal, JournalStore, MemoryStore};
use trusthub_postgres::conformance::{self, Fixture};
use trusthub_postgres::{Leased, PgQueue, StoreKey};

use crate::support::Cluster;

/// One [`MemoryStore`] per flow.
#[derive(Default)]
struct Memory(HashMap<String, MemoryStore>);

impl Fixture for Memory {
    fn shared(&self) -> bool {
        false
    }

    async fn open(&mut self, name: &str) -> Arc<dyn JournalStore> {
        let store = MemoryStore::new();
        self.0.insert(name.to_owned(), store.clone());
        Arc::new(store)
    }

    async fn reopen(&mut self, name: &str) -> (Arc<dyn JournalStore>, Option<Journal>) {
        let store = self.0[name].clone();
        let latest = store.latest();
        (Arc::new(store), latest)
    }
}

/// One journal file per flow, in a directory of its own.
struct Files(PathBuf);

impl Files {
    fn new() -> Files {
        let dir = std::env::temp_dir().join(format!(
            "trusthub-pg-conformance-files-{}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Files(dir)
    }
}

impl Drop for Files {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

impl Fixture for Files {
    fn shared(&self) -> bool {
        false
    }

    async fn open(&mut self, name: &str) -> Arc<dyn JournalStore> {
        Arc::new(FileStore::open(self.0.join(format!("{name}.journal"))).unwrap())
    }

    async fn reopen(&mut self, name: &str) -> (Arc<dyn JournalStore>, Option<Journal>) {
        // The suite dropped its handles: the file's lock is free again.
        let store = FileStore::open(self.0.join(format!("{name}.journal"))).unwrap();
        let journal = store.load().unwrap();
        (Arc::new(store), journal)
    }
}

/// One job per flow, leased by this worker; resuming releases and leases it again.
struct Postgres {
    queue: PgQueue,
    leases: HashMap<String, Leased>,
}

const LEASE: Duration = Duration::from_secs(120);

impl Fixture for Postgres {
    fn shared(&self) -> bool {
        true
    }

    async fn open(&mut self, name: &str) -> Arc<dyn JournalStore> {
        self.queue
            .enqueue(name, format!("input of {name}").as_bytes())
            .await
            .unwrap();
        let lease = self
            .queue
            .lease_customer("conformance", name, LEASE)
            .await
            .unwrap()
            .expect("its job");
        assert!(lease.journal().is_none(), "a new job");
        let store = Arc::new(lease.store());
        self.leases.insert(name.to_owned(), lease);
        store
    }

    async fn reopen(&mut self, name: &str) -> (Arc<dyn JournalStore>, Option<Journal>) {
        let old = self.leases.remove(name).expect("opened");
        self.queue.release(&old).await.unwrap();
        let mut lease = self
            .queue
            .lease_customer("conformance", name, LEASE)
            .await
            .unwrap()
            .expect("its job again");
        assert_eq!(
            lease.input().as_bytes(),
            format!("input of {name}").as_bytes()
        );
        let journal = lease.take_journal();
        let store = Arc::new(lease.store());
        self.leases.insert(name.to_owned(), lease);
        (store, journal)
    }
}

#[tokio::test]
async fn the_memory_store_passes_the_store_suite() {
    conformance::run(&mut Memory::default()).await;
}

#[tokio::test]
async fn the_file_store_passes_the_store_suite() {
    conformance::run(&mut Files::new()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_postgres_store_passes_the_store_suite() {
    let cluster = Cluster::start();
    let url = cluster.database("conformance").await;
    let mut fixture = Postgres {
        queue: PgQueue::connect(&url, StoreKey::generate().unwrap())
            .await
            .unwrap(),
        leases: HashMap::new(),
    };
    conformance::run(&mut fixture).await;
}

#[tokio::test]
async fn the_postgres_store_passes_the_store_suite_on_a_current_thread_runtime() {
    let cluster = Cluster::start();
    let url = cluster.database("conformance").await;
    let mut fixture = Postgres {
        queue: PgQueue::connect(&url, StoreKey::generate().unwrap())
            .await
            .unwrap(),
        leases: HashMap::new(),
    };
    conformance::run(&mut fixture).await;
}
