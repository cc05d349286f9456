//! The journal store of a leased job: every save checks the lease, in the statement that writes
//! the journal, the SIDs it owns and its open intents.

use std::fmt;
use std::io;
use std::sync::{Arc, Mutex, PoisonError};

use tokio_postgres::types::{Json, Type};
use trusthub::flow::{DigestKey, Intent, Journal, JournalStore};
use trusthub::sid::ObjectSid;

use crate::queue::{lost, JobId, Shared};
use crate::Error;

/// Saves the journal if the lease is still held (same fencing token, running, not expired), and
/// in the same statement (one round trip, one transaction) records the SIDs the journal owns
/// (the first owner stays the owner) and replaces the job's open intents.
const SAVE: &str = "
WITH job AS (
    UPDATE trusthub.jobs SET journal = $3, updated_at = now()
    WHERE id = $1 AND lease = $2 AND state = 'running' AND lease_expires > now()
    RETURNING id
), owned AS (
    INSERT INTO trusthub.owned_sids (sid, job)
    SELECT sid, job.id FROM job, unnest($4::text[]) AS sid
    ON CONFLICT (sid) DO NOTHING
), settled AS (
    DELETE FROM trusthub.intents AS i USING job
    WHERE i.job = job.id AND NOT (i.key = ANY ($5::text[]))
), open AS (
    INSERT INTO trusthub.intents (job, key, criteria)
    SELECT job.id, k.key, k.criteria FROM job, unnest($5::text[], $6::text[]) AS k (key, criteria)
    ON CONFLICT (job, key) DO UPDATE SET criteria = EXCLUDED.criteria
)
SELECT count(*) FROM job";

/// The journal store of one leased job ([`Leased::store`](crate::Leased::store)): what its flow
/// saves to. Clones share the lease.
///
/// - [`save`](JournalStore::save) writes the journal (JSONB) only while the lease is held: once
///   it expired, was taken over, or ended, the save fails ([`is_lease_lost`](crate::is_lease_lost)
///   tells), and the flow stops before sending anything more. That is what makes a takeover
///   safe: the old holder can no longer record anything, nor send a create (the flow saves the
///   create's intent first).
/// - [`digest_key`](JournalStore::digest_key) is the store key's digest key.
/// - Like the batch journal's row stores, it answers for the other jobs of the database:
///   [`held_elsewhere`](JournalStore::held_elsewhere) (a SID another job's journal holds or
///   claimed), [`try_claim`](JournalStore::try_claim) (atomic across workers: the first claim
///   wins) and [`rivals`](JournalStore::rivals) (other jobs with an open intent of the same key
///   and criteria).
///
/// The methods block the calling thread for one round trip to the database (on a
/// multi-threaded Tokio runtime, the runtime's other tasks move off it first), as a file
/// store's `fsync` does. When the database cannot answer one of the three questions, the answer
/// is the one that takes nothing from another job (held elsewhere; not claimed; no rivals) and
/// a warning is traced.
#[derive(Clone)]
pub struct PgJournalStore {
    pub(crate) inner: Arc<LeaseInner>,
}

pub(crate) struct LeaseInner {
    pub(crate) shared: Arc<Shared>,
    /// Held across a save: two saves of one job never race (the later one lands last).
    pub(crate) saving: Mutex<()>,
    pub(crate) job: JobId,
    pub(crate) token: i64,
    pub(crate) worker: String,
}

impl fmt::Debug for PgJournalStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PgJournalStore")
            .field("job", &self.inner.job.0)
            .field("lease", &self.inner.token)
            .field("worker", &self.inner.worker)
            .finish()
    }
}

impl PgJournalStore {
    /// The job whose flow saves here.
    pub fn job(&self) -> JobId {
        self.inner.job
    }

    fn warn(&self, what: &str, e: &Error) {
        tracing::warn!(job = self.inner.job.0, error = %e, "trusthub-postgres {what} failed; answering conservatively");
    }
}

impl JournalStore for PgJournalStore {
    fn save(&self, journal: &Journal) -> io::Result<()> {
        let value = serde_json::to_value(journal).map_err(io::Error::other)?;
        let sids: Vec<String> = journal
            .owned_sids()
            .iter()
            .map(ToString::to_string)
            .collect();
        let keys: Vec<String> = journal.intents.keys().cloned().collect();
        let criteria: Vec<Option<String>> = journal
            .intents
            .values()
            .map(|i| i.criteria.clone())
            .collect();
        let job = self.inner.job;
        let token = self.inner.token;
        let _turn = self
            .inner
            .saving
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        self.inner
            .shared
            .db
            .call_blocking(move |conn| async move {
                let row = conn
                    .query_typed_one(
                        SAVE,
                        &[
                            (&job.0, Type::INT8),
                            (&token, Type::INT8),
                            (&Json(&value), Type::JSONB),
                            (&sids, Type::TEXT_ARRAY),
                            (&keys, Type::TEXT_ARRAY),
                            (&criteria, Type::TEXT_ARRAY),
                        ],
                    )
                    .await
                    .map_err(Error::db)?;
                if row.get::<_, i64>(0) == 1 {
                    Ok(())
                } else {
                    Err(lost(&conn, job, token, "the journal save").await)
                }
            })
            .map_err(io::Error::from)
    }

    fn digest_key(&self) -> &DigestKey {
        self.inner.shared.key.digest_key()
    }

    fn held_elsewhere(&self, _journal: &Journal, sid: ObjectSid) -> bool {
        let job = self.inner.job;
        let sid = sid.to_string();
        let owner = self.inner.shared.db.call_blocking(move |conn| async move {
            let row = conn
                .query_typed_opt(
                    "SELECT job FROM trusthub.owned_sids WHERE sid = $1",
                    &[(&sid, Type::TEXT)],
                )
                .await
                .map_err(Error::db)?;
            Ok(row.map(|r| r.get::<_, i64>(0)))
        });
        match owner {
            Ok(owner) => owner.is_some_and(|owner| owner != job.0),
            Err(e) => {
                self.warn("held_elsewhere", &e);
                true
            }
        }
    }

    fn try_claim(&self, _journal: &Journal, sid: ObjectSid) -> bool {
        let job = self.inner.job;
        let sid = sid.to_string();
        // The row's owner after the statement: this job when the claim was first, the earlier
        // owner otherwise (DO UPDATE locks and returns the existing row, changing nothing).
        let owner = self.inner.shared.db.call_blocking(move |conn| async move {
            let row = conn
                .query_typed_one(
                    "INSERT INTO trusthub.owned_sids AS o (sid, job) VALUES ($1, $2)
                     ON CONFLICT (sid) DO UPDATE SET job = o.job
                     RETURNING job",
                    &[(&sid, Type::TEXT), (&job.0, Type::INT8)],
                )
                .await
                .map_err(Error::db)?;
            Ok(row.get::<_, i64>(0))
        });
        match owner {
            Ok(owner) => owner == job.0,
            Err(e) => {
                self.warn("try_claim", &e);
                false
            }
        }
    }

    fn rivals(&self, _journal: &Journal, key: &str, intent: &Intent) -> usize {
        let Some(criteria) = intent.criteria.clone() else {
            return 0;
        };
        let job = self.inner.job;
        let key = key.to_owned();
        let count = self.inner.shared.db.call_blocking(move |conn| async move {
            let row = conn
                .query_typed_one(
                    "SELECT count(*) FROM trusthub.intents
                     WHERE key = $1 AND criteria = $2 AND job <> $3",
                    &[
                        (&key, Type::TEXT),
                        (&criteria, Type::TEXT),
                        (&job.0, Type::INT8),
                    ],
                )
                .await
                .map_err(Error::db)?;
            Ok(row.get::<_, i64>(0))
        });
        match count {
            Ok(n) => n.max(0) as usize,
            Err(e) => {
                self.warn("rivals", &e);
                0
            }
        }
    }
}
