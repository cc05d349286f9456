//! The schema's versions: migrations embedded in the crate, applied in order, each once, in the
//! transaction that records it in `trusthub.schema_migrations` (with the SHA-256 of its text).
//!
//! Migrating twice is a no-op. Workers starting at once serialise on an advisory lock. A database
//! whose schema is newer than this crate's, or one of whose applied migrations differs from this
//! crate's text, is refused: this version would misread it.

use sha2::{Digest, Sha256};
use tokio_postgres::types::Type;
use tokio_postgres::Client;

use crate::Error;

/// One version of the schema.
struct Migration {
    version: i32,
    name: &'static str,
    sql: &'static str,
}

/// Every migration, in order; a new one is appended, an applied one is never edited.
const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "jobs",
        sql: include_str!("../migrations/0001_jobs.sql"),
    },
    Migration {
        version: 2,
        name: "workers",
        sql: include_str!("../migrations/0002_workers.sql"),
    },
    Migration {
        version: 3,
        name: "liveness",
        sql: include_str!("../migrations/0003_liveness.sql"),
    },
    Migration {
        version: 4,
        name: "retries",
        sql: include_str!("../migrations/0004_retries.sql"),
    },
];

/// The schema version this crate writes and reads.
pub const SCHEMA_VERSION: i32 = 4;

/// The advisory lock the migrations run under ("trusthub" in ASCII, as a number).
const MIGRATION_LOCK: i64 = 0x7472_7573_7468_7562;

fn checksum(sql: &str) -> String {
    Sha256::digest(sql.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Brings the database's `trusthub` schema to [`SCHEMA_VERSION`]; returns the migrations
/// applied now (none when it already was).
pub(crate) async fn migrate(client: &mut Client) -> Result<Vec<i32>, Error> {
    let tx = client.transaction().await.map_err(Error::db)?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
        .await
        .map_err(Error::db)?;
    // A database already migrated needs no DDL (nor the privilege to create a schema).
    let exists: bool = tx
        .query_one(
            "SELECT to_regclass('trusthub.schema_migrations') IS NOT NULL",
            &[],
        )
        .await
        .map_err(Error::db)?
        .get(0);
    if !exists {
        tx.batch_execute(
            "CREATE SCHEMA IF NOT EXISTS trusthub;
         CREATE TABLE IF NOT EXISTS trusthub.schema_migrations (
             version integer PRIMARY KEY,
             name text NOT NULL,
             checksum text NOT NULL,
             applied_at timestamptz NOT NULL DEFAULT now()
         );",
        )
        .await
        .map_err(Error::db)?;
    }
    let applied = tx
        .query(
            "SELECT version, checksum FROM trusthub.schema_migrations ORDER BY version",
            &[],
        )
        .await
        .map_err(Error::db)?;
    let mut done = Vec::new();
    for row in &applied {
        let version: i32 = row.get(0);
        let sum: String = row.get(1);
        match MIGRATIONS.iter().find(|m| m.version == version) {
            None if version > SCHEMA_VERSION => {
                return Err(Error::Schema(format!(
                    "the database's trusthub schema is at version {}, newer than this version \
                     of trusthub-postgres knows (version {SCHEMA_VERSION}): upgrade \
                     trusthub-postgres on every worker; nothing was changed",
                    applied
                        .last()
                        .map(|r| r.get::<_, i32>(0))
                        .unwrap_or(version)
                )));
            }
            None => {
                return Err(Error::Schema(format!(
                    "the database's trusthub schema records migration {version}, which this \
                     version of trusthub-postgres does not have; nothing was changed"
                )));
            }
            Some(m) if checksum(m.sql) != sum => {
                return Err(Error::Schema(format!(
                    "migration {version} ({}) applied to the database differs from this \
                     version's text (checksum {sum}, here {}): the schema may not be what this \
                     version expects; nothing was changed",
                    m.name,
                    checksum(m.sql)
                )));
            }
            Some(_) => done.push(version),
        }
    }
    let mut now = Vec::new();
    for m in MIGRATIONS.iter().filter(|m| !done.contains(&m.version)) {
        tx.batch_execute(m.sql).await.map_err(|e| {
            Error::Schema(format!(
                "migration {} ({}) failed, nothing was changed: {}",
                m.version,
                m.name,
                Error::db(e)
            ))
        })?;
        tx.execute_typed(
            "INSERT INTO trusthub.schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
            &[
                (&m.version, Type::INT4),
                (&m.name, Type::TEXT),
                (&checksum(m.sql), Type::TEXT),
            ],
        )
        .await
        .map_err(Error::db)?;
        now.push(m.version);
    }
    tx.commit().await.map_err(Error::db)?;
    Ok(now)
}

/// The schema version the database is at (0: none yet).
pub(crate) async fn version(client: &Client) -> Result<i32, Error> {
    let exists: bool = client
        .query_one(
            "SELECT to_regclass('trusthub.schema_migrations') IS NOT NULL",
            &[],
        )
        .await
        .map_err(Error::db)?
        .get(0);
    if !exists {
        return Ok(0);
    }
    let row = client
        .query_one(
            "SELECT coalesce(max(version), 0) FROM trusthub.schema_migrations",
            &[],
        )
        .await
        .map_err(Error::db)?;
    Ok(row.get(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_are_numbered_from_one_without_gaps() {
        for (i, m) in MIGRATIONS.iter().enumerate() {
            assert_eq!(m.version, i as i32 + 1, "{}", m.name);
        }
        assert_eq!(MIGRATIONS.last().unwrap().version, SCHEMA_VERSION);
    }
}
