//! The test clusters (`cluster.rs`: a throwaway PostgreSQL per test, see there) and the tests'
//! own SQL on them.

#![allow(dead_code)]

#[path = "cluster.rs"]
mod cluster;

pub use cluster::*;

impl Cluster {
    /// A direct connection to `db` (for the tests' own SQL), its connection driven by a task of
    /// the caller's runtime.
    pub async fn client(&self, db: &str) -> tokio_postgres::Client {
        let (client, connection) = tokio_postgres::connect(&self.url(db), tokio_postgres::NoTls)
            .await
            .unwrap_or_else(|e| fail(format!("cannot connect to {db}: {e}")));
        tokio::spawn(async move {
            let _ = connection.await;
        });
        client
    }

    /// Creates database `name`; returns its URL.
    pub async fn database(&self, name: &str) -> String {
        let admin = self.client("postgres").await;
        admin
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .await
            .unwrap_or_else(|e| fail(format!("cannot create database {name}: {e}")));
        self.url(name)
    }

    /// Moves the lease of job `job` of database `db` into the past, as if its worker had
    /// stalled past it: takeovers are tested without waiting on the clock (the lease tests
    /// that do wait check expiry itself).
    pub async fn expire_lease(&self, db: &str, job: trusthub_postgres::JobId) {
        let changed = self
            .client(db)
            .await
            .execute(
                "UPDATE trusthub.jobs SET lease_expires = now() - interval '1 second', \
                 ready_at = now() - interval '1 second' WHERE id = $1 AND state = 'running'",
                &[&job.0],
            )
            .await
            .unwrap();
        assert_eq!(changed, 1, "{job} is not running");
    }
}
