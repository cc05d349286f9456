//! The job queue: enqueue customers, lease jobs to workers, renew, park, release and finish
//! leases, and count what the queue holds.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use time::OffsetDateTime;
use tokio_postgres::types::Type;
use tokio_postgres::{Client, Row};
use trusthub::flow::Journal;

use crate::conn::{Db, Listen};
use crate::store::{LeaseInner, PgJournalStore};
use crate::{schema, Error, StoreKey, WorkerProcess};

/// How a [`PgQueue`] connects.
///
/// Whether a connection speaks TLS is the URL's `sslmode` (see the crate's [TLS](crate#tls));
/// the server's certificate is checked against the webpki roots (Mozilla's), or against
/// [`ca_file`](PgOptions::ca_file) when given.
///
/// ```
/// let mut options = trusthub_postgres::PgOptions::default();
/// options.connections = 8; // flows saving at once, per worker process
/// options.ca_file = Some("/etc/trusthub/db-ca.pem".into()); // the cluster's own CA
/// assert_eq!(options.timeout, std::time::Duration::from_secs(30));
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct PgOptions {
    /// Connections opened at most (on demand), each serving one request at a time: journal saves
    /// of concurrent flows and queue calls run side by side up to this many. Default 4.
    pub connections: usize,
    /// How long a request (connecting included) may take before it fails. Default 30 s.
    pub timeout: Duration,
    /// A PEM file of the CA certificate(s) that signed the database server's certificate (a
    /// private or self-signed cluster CA, a managed service's CA bundle: libpq's
    /// `sslrootcert`): these become the only CAs trusted, instead of the webpki roots. It asks
    /// for verified TLS: `sslmode=prefer` (the default) then acts as `require`, and
    /// `sslmode=disable` is refused as contradictory. Read when connecting; an unreadable file,
    /// or one without a certificate, is [`Error::Config`]. Default none.
    pub ca_file: Option<PathBuf>,
}

impl Default for PgOptions {
    fn default() -> Self {
        PgOptions {
            connections: 4,
            timeout: Duration::from_secs(30),
            ca_file: None,
        }
    }
}

/// A job's id (the row's primary key).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct JobId(pub i64);

impl fmt::Display for JobId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "job {}", self.0)
    }
}

/// Where a job is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JobState {
    /// Waiting for a worker (new, released, or its input updated).
    Queued,
    /// Leased by a worker (or by a crashed one, until its lease expires).
    Running,
    /// Waiting for Twilio (a review, a vetting) until its wake-up time; no worker holds it.
    Parked,
    /// Finished.
    Done,
    /// Failed, with its reason; not leased again until its input is updated.
    Failed,
}

impl JobState {
    /// Its name in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Queued => "queued",
            JobState::Running => "running",
            JobState::Parked => "parked",
            JobState::Done => "done",
            JobState::Failed => "failed",
        }
    }
}

impl fmt::Display for JobState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for JobState {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        Ok(match s {
            "queued" => JobState::Queued,
            "running" => JobState::Running,
            "parked" => JobState::Parked,
            "done" => JobState::Done,
            "failed" => JobState::Failed,
            other => {
                return Err(Error::Damaged(format!(
                    "a job's state `{}` is none of queued, running, parked, done, failed",
                    trusthub::api::runtime::text::printable(other)
                )))
            }
        })
    }
}

/// What [`PgQueue::enqueue`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Enqueued {
    /// A new job, queued.
    New(JobId),
    /// The customer's job exists with the same input: nothing changed (whatever its state).
    Existing(JobId, JobState),
    /// The customer's job was queued, parked or failed with another input: the input was
    /// replaced and the job queued again (attempts and last error cleared). Its journal is kept:
    /// the flow checks the new input against it and refuses a change to a part that has
    /// something built from it.
    Updated(JobId),
}

impl Enqueued {
    /// The job.
    pub fn job(self) -> JobId {
        match self {
            Enqueued::New(job) | Enqueued::Existing(job, _) | Enqueued::Updated(job) => job,
        }
    }
}

/// How a leased job ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Finished: never leased again.
    Done,
    /// Failed, with the reason (stored as `last_error`: it must hold no personal data, as the
    /// flow's errors do not; control characters are replaced and it is cut at 2,000 characters).
    Failed(String),
}

/// How many jobs are in each state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Waiting for a worker.
    pub queued: u64,
    /// Leased (including `expired`).
    pub running: u64,
    /// Of the running, those whose lease expired (a crashed or stalled worker's): the next lease
    /// takes them over.
    pub expired: u64,
    /// Waiting for their wake-up time.
    pub parked: u64,
    /// Finished.
    pub done: u64,
    /// Failed.
    pub failed: u64,
}

/// A failed job, as [`PgQueue::failed`] lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailedJob {
    /// The job.
    pub job: JobId,
    /// The customer key's digest ([`PgQueue::customer_digest`]).
    pub customer: String,
    /// Why it failed.
    pub reason: String,
    /// Leases it had.
    pub attempts: u32,
    /// When it failed.
    pub failed_at: OffsetDateTime,
}

/// A job as [`PgQueue::status`] reports it (its input excluded).
#[derive(Debug, Clone, PartialEq)]
pub struct JobStatus {
    /// The job.
    pub job: JobId,
    /// The customer key's digest.
    pub customer: String,
    /// Where it is.
    pub state: JobState,
    /// Its journal, once a flow saved one.
    pub journal: Option<Journal>,
    /// Leases it had.
    pub attempts: u32,
    /// The worker holding it (running jobs).
    pub lease_owner: Option<String>,
    /// When that lease expires (running jobs).
    pub lease_expires: Option<OffsetDateTime>,
    /// When a parked job wakes up.
    pub wake_at: Option<OffsetDateTime>,
    /// Why it failed (failed jobs), or why it waits to be tried again (parked by
    /// [`PgQueue::retry`]).
    pub last_error: Option<String>,
    /// Failures in a row that may pass next time ([`PgQueue::retry`]).
    pub retries: u32,
}

/// The input of a leased job: the bytes given to [`PgQueue::enqueue`], decrypted. `Debug` shows
/// its length only.
#[derive(Clone, PartialEq, Eq)]
pub struct Input(Vec<u8>);

impl Input {
    /// The bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The bytes, owned.
    pub fn into_bytes(self) -> Vec<u8> {
        self.0
    }
}

impl fmt::Debug for Input {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Input({} bytes)", self.0.len())
    }
}

/// A job leased to a worker: its input, its journal (to resume) and the journal store its flow
/// saves to, which checks the lease on every save.
///
/// End it with [`PgQueue::finish`], [`PgQueue::park`] or [`PgQueue::release`]; keep it with
/// [`PgQueue::renew`] before [`expires_at`](Self::expires_at). A lease not renewed expires and
/// the job goes to the next worker that asks, which resumes its journal; from then on this
/// lease's saves fail.
#[derive(Debug)]
pub struct Leased {
    job: JobId,
    customer: String,
    input: Input,
    journal: Option<Journal>,
    attempts: u32,
    retries: u32,
    took_over_from: Option<String>,
    expires_at: OffsetDateTime,
    store: PgJournalStore,
}

impl Leased {
    /// The job.
    pub fn job(&self) -> JobId {
        self.job
    }

    /// The customer key's digest.
    pub fn customer(&self) -> &str {
        &self.customer
    }

    /// The customer's input, decrypted.
    pub fn input(&self) -> &Input {
        &self.input
    }

    /// The journal the job's flow saved last, to resume (none: a new flow).
    pub fn journal(&self) -> Option<&Journal> {
        self.journal.as_ref()
    }

    /// The journal, taken (for [`ProfileFlow::resume`](trusthub::flow::ProfileFlow)).
    pub fn take_journal(&mut self) -> Option<Journal> {
        self.journal.take()
    }

    /// Leases the job had, this one included.
    pub fn attempts(&self) -> u32 {
        self.attempts
    }

    /// The failures in a row that may pass next time before this lease ([`PgQueue::retry`]);
    /// 0 after progress (a park for a review), an input update or a requeue.
    pub fn retries(&self) -> u32 {
        self.retries
    }

    /// The worker whose expired lease this one took over, if any (it crashed or stalled).
    pub fn took_over_from(&self) -> Option<&str> {
        self.took_over_from.as_deref()
    }

    /// When the lease expires (the database's clock), as of the lease or the last renewal.
    pub fn expires_at(&self) -> OffsetDateTime {
        self.expires_at
    }

    /// The journal store of the job's flow (a handle: clones share the lease).
    pub fn store(&self) -> PgJournalStore {
        self.store.clone()
    }

    /// The worker holding the lease.
    pub fn worker(&self) -> &str {
        &self.store.inner.worker
    }
}

pub(crate) struct Shared {
    pub(crate) db: Db,
    pub(crate) key: StoreKey,
}

/// The job store of many workers: one PostgreSQL database, one row per customer.
///
/// [`connect`](Self::connect) checks the database (migrating its `trusthub` schema, checking
/// the store key); then producers [`enqueue`](Self::enqueue) customers and workers
/// [`lease`](Self::lease) jobs. Clones share the connection thread.
#[derive(Clone)]
pub struct PgQueue {
    shared: Arc<Shared>,
}

impl fmt::Debug for PgQueue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never the URL: it may hold a password.
        f.debug_struct("PgQueue")
            .field("key", &self.shared.key)
            .finish_non_exhaustive()
    }
}

/// The channel of schema version 3's trigger (`trusthub.notify_jobs`).
const WAKEUP_CHANNEL: &str = "trusthub_jobs";

/// Wake-ups of an idle worker ([`PgQueue::wakeups`]); the listener stops when this is dropped.
pub struct Wakeups {
    notify: Arc<tokio::sync::Notify>,
    _stop: tokio::sync::oneshot::Sender<()>,
}

impl fmt::Debug for Wakeups {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Wakeups").finish_non_exhaustive()
    }
}

impl Wakeups {
    /// Returns when a job was enqueued, released, parked, finished or failed since the last
    /// call returned (at once when one was), or when the listener reconnected after losing its
    /// connection (what changed meanwhile is unknown). Several changes before a call wake it once.
    pub async fn changed(&self) {
        self.notify.notified().await;
    }
}

/// The longest lease and the longest park.
const MAX_LEASE: Duration = Duration::from_secs(7 * 24 * 3600);
const MAX_PARK: Duration = Duration::from_secs(366 * 24 * 3600);
const MAX_REASON: usize = 2000;

impl PgQueue {
    /// Connects to the database at `url` (a `postgresql://` URL or `key=value` settings; a
    /// `host` may be a unix socket directory) with the default [`PgOptions`]; over TLS as the
    /// URL's `sslmode` says (see [TLS](crate#tls)).
    pub async fn connect(url: &str, key: StoreKey) -> Result<PgQueue, Error> {
        Self::connect_with(url, key, PgOptions::default()).await
    }

    /// Connects with `options`: migrates the schema (a no-op when it is current; refused when
    /// it is newer), records the store key's id in a new database and refuses another key.
    pub async fn connect_with(
        url: &str,
        key: StoreKey,
        options: PgOptions,
    ) -> Result<PgQueue, Error> {
        let config = crate::tls::parse(url)?;
        let (config, tls) = crate::tls::prepare(config, options.ca_file.as_deref())?;
        let db = Db::start(config, tls, options.connections, options.timeout)?;
        let key_id = key.id();
        db.call(move |mut conn| async move {
            schema::migrate(&mut conn).await?;
            let row = conn
                .query_typed_one(
                    "WITH ins AS (
                         INSERT INTO trusthub.store (key_id) VALUES ($1)
                         ON CONFLICT (singleton) DO NOTHING RETURNING key_id)
                     SELECT key_id FROM ins UNION ALL SELECT key_id FROM trusthub.store",
                    &[(&key_id, Type::TEXT)],
                )
                .await;
            let stored: String = match row {
                Ok(row) => row.get(0),
                // Two workers creating the store at once: the other's row is there now.
                Err(_) => conn
                    .query_one("SELECT key_id FROM trusthub.store", &[])
                    .await
                    .map_err(Error::db)?
                    .get(0),
            };
            if stored != key_id {
                return Err(Error::WrongKey(format!(
                    "the job store was created with store key {stored}, and this worker has key \
                     {key_id}: its customers' digests would match nothing and their inputs \
                     would not decrypt; use the store's key file"
                )));
            }
            Ok(())
        })
        .await?;
        Ok(PgQueue {
            shared: Arc::new(Shared { db, key }),
        })
    }

    /// The store key.
    pub fn key(&self) -> &StoreKey {
        &self.shared.key
    }

    /// The digest a customer key is stored under.
    pub fn customer_digest(&self, customer_key: &str) -> String {
        self.shared.key.customer_digest(customer_key)
    }

    /// The schema version of the database.
    pub async fn schema_version(&self) -> Result<i32, Error> {
        self.shared
            .db
            .call(|conn| async move { schema::version(&conn).await })
            .await
    }

    /// Adds a customer's job, once: `customer_key` is the ISV's own key of the customer (stored
    /// as its keyed digest only), `input` what the worker needs to run its flow (stored
    /// encrypted). The same key again is the same job ([`Enqueued::Existing`] when the input is
    /// the same). Another input updates a queued, parked or failed job ([`Enqueued::Updated`])
    /// and is refused ([`Error::InputChanged`]) for a running job (a worker runs it with the
    /// old input: enqueue again once it is parked, failed or done) or a done one (its profile
    /// exists: fix it rather than onboard it again).
    pub async fn enqueue(&self, customer_key: &str, input: &[u8]) -> Result<Enqueued, Error> {
        if customer_key.is_empty() {
            return Err(Error::Invalid("a customer key is not empty".into()));
        }
        let key = self.shared.key.clone();
        let customer = key.customer_digest(customer_key);
        let sealed = key
            .seal(&customer, input)
            .map_err(|e| Error::Invalid(e.to_string()))?;
        let input = input.to_vec();
        self.shared
            .db
            .call(move |mut conn| async move {
                let tx = conn.transaction().await.map_err(Error::db)?;
                let inserted = tx
                    .query_typed_opt(
                        "INSERT INTO trusthub.jobs (customer, input, state, ready_at)
                         VALUES ($1, $2, 'queued', now())
                         ON CONFLICT (customer) DO NOTHING RETURNING id",
                        &[(&customer, Type::TEXT), (&sealed, Type::BYTEA)],
                    )
                    .await
                    .map_err(Error::db)?;
                if let Some(row) = inserted {
                    tx.commit().await.map_err(Error::db)?;
                    return Ok(Enqueued::New(JobId(row.get(0))));
                }
                let row = tx
                    .query_typed_one(
                        "SELECT id, state, input FROM trusthub.jobs WHERE customer = $1 FOR UPDATE",
                        &[(&customer, Type::TEXT)],
                    )
                    .await
                    .map_err(Error::db)?;
                let job = JobId(row.get(0));
                let state: JobState = row.get::<_, &str>(1).parse()?;
                let stored: &[u8] = row.get(2);
                if key.open(&customer, stored).as_deref() == Some(&input[..]) {
                    tx.commit().await.map_err(Error::db)?;
                    return Ok(Enqueued::Existing(job, state));
                }
                match state {
                    JobState::Queued | JobState::Parked | JobState::Failed => {
                        tx.execute_typed(
                            "UPDATE trusthub.jobs
                             SET input = $2, state = 'queued', ready_at = now(), wake_at = NULL,
                                 attempts = 0, retries = 0, last_error = NULL,
                                 finished_at = NULL, updated_at = now()
                             WHERE id = $1",
                            &[(&job.0, Type::INT8), (&sealed, Type::BYTEA)],
                        )
                        .await
                        .map_err(Error::db)?;
                        tx.commit().await.map_err(Error::db)?;
                        Ok(Enqueued::Updated(job))
                    }
                    JobState::Running => Err(Error::InputChanged(format!(
                        "customer {customer} ({job}) is enqueued with another input while a \
                         worker runs it with the old one: nothing was changed; enqueue it again \
                         once it is parked, failed or done"
                    ))),
                    JobState::Done => Err(Error::InputChanged(format!(
                        "customer {customer} ({job}) is done and enqueued with another input: \
                         nothing was changed; its resources exist, fix them rather than \
                         onboarding the customer again"
                    ))),
                }
            })
            .await
    }

    /// Leases the next job to `worker` for `lease_for`: a queued job, a parked job whose
    /// wake-up time has passed, or a running job whose lease expired (its worker crashed or
    /// stalled: this lease takes it over), the one ready longest first. `None` when no job is
    /// ready. Workers leasing at once get distinct jobs (`FOR UPDATE SKIP LOCKED`).
    ///
    /// A job whose stored input or journal does not read is marked failed with the reason and
    /// reported as [`Error::Damaged`]; the next call goes on with the next job.
    pub async fn lease(&self, worker: &str, lease_for: Duration) -> Result<Option<Leased>, Error> {
        self.lease_where(worker, lease_for, None).await
    }

    /// Leases the job of `customer_key` to `worker`, whether its turn came or not: a queued
    /// job, a parked job (woken now), or a running job whose lease expired. `None` when it has
    /// no job, or its job is done, failed or held by a live lease.
    pub async fn lease_customer(
        &self,
        worker: &str,
        customer_key: &str,
        lease_for: Duration,
    ) -> Result<Option<Leased>, Error> {
        let customer = self.customer_digest(customer_key);
        self.lease_where(worker, lease_for, Some(customer)).await
    }

    async fn lease_where(
        &self,
        worker: &str,
        lease_for: Duration,
        customer: Option<String>,
    ) -> Result<Option<Leased>, Error> {
        let worker = check_worker(worker)?;
        let secs = check_duration("a lease", lease_for, Duration::from_secs(1), MAX_LEASE)?;
        let key = self.shared.key.clone();
        let worker_arg = worker.clone();
        let leased = self
            .shared
            .db
            .call(move |conn| async move {
                let next = match &customer {
                    None => {
                        "SELECT id, state AS was, lease_owner AS previous FROM trusthub.jobs
                         WHERE state IN ('queued', 'running', 'parked') AND ready_at <= now()
                         ORDER BY ready_at, id LIMIT 1 FOR UPDATE SKIP LOCKED"
                    }
                    Some(_) => {
                        "SELECT id, state AS was, lease_owner AS previous FROM trusthub.jobs
                         WHERE customer = $3 AND (state IN ('queued', 'parked')
                             OR state = 'running' AND lease_expires <= now())
                         FOR UPDATE SKIP LOCKED"
                    }
                };
                let sql = format!(
                    "WITH next AS ({next})
                     UPDATE trusthub.jobs AS j
                     SET state = 'running', lease = j.lease + 1, lease_owner = $1,
                         lease_expires = now() + make_interval(secs => $2),
                         ready_at = now() + make_interval(secs => $2),
                         wake_at = NULL, attempts = j.attempts + 1, updated_at = now()
                     FROM next WHERE j.id = next.id
                     RETURNING j.id, j.customer, j.input, j.journal, j.lease, j.attempts,
                         j.lease_expires, next.was, next.previous, j.retries"
                );
                let row = match &customer {
                    None => {
                        conn.query_typed_opt(
                            &sql,
                            &[(&worker_arg, Type::TEXT), (&secs, Type::FLOAT8)],
                        )
                        .await
                    }
                    Some(customer) => {
                        conn.query_typed_opt(
                            &sql,
                            &[
                                (&worker_arg, Type::TEXT),
                                (&secs, Type::FLOAT8),
                                (customer, Type::TEXT),
                            ],
                        )
                        .await
                    }
                }
                .map_err(Error::db)?;
                let Some(row) = row else {
                    return Ok(None);
                };
                match decode_lease(&key, &row) {
                    Ok(leased) => Ok(Some(leased)),
                    Err(reason) => {
                        let job: i64 = row.get(0);
                        let token: i64 = row.get(4);
                        mark_damaged(&conn, job, token, &reason).await?;
                        Err(Error::Damaged(format!(
                            "job {job} was marked failed: {reason}"
                        )))
                    }
                }
            })
            .await?;
        Ok(leased.map(|row| {
            if let Some(previous) = &row.took_over_from {
                tracing::info!(
                    job = row.job.0,
                    previous = %previous,
                    "trusthub-postgres took over an expired lease"
                );
            }
            Leased {
                job: row.job,
                customer: row.customer,
                input: Input(row.input),
                journal: row.journal,
                attempts: row.attempts,
                retries: row.retries,
                took_over_from: row.took_over_from,
                expires_at: row.expires_at,
                store: PgJournalStore {
                    inner: Arc::new(LeaseInner {
                        shared: self.shared.clone(),
                        saving: std::sync::Mutex::new(()),
                        job: row.job,
                        token: row.token,
                        worker,
                    }),
                },
            }
        }))
    }

    /// Extends `lease` by `lease_for` from now (the database's clock); fails with
    /// [`Error::LeaseLost`] when it already expired or ended. Renew well before
    /// [`Leased::expires_at`] (at a third of the lease, say).
    pub async fn renew(&self, lease: &mut Leased, lease_for: Duration) -> Result<(), Error> {
        let secs = check_duration("a lease", lease_for, Duration::from_secs(1), MAX_LEASE)?;
        let expires = self
            .end_or_extend(
                lease,
                "the renewal",
                "lease_expires = now() + make_interval(secs => $3),
                 ready_at = now() + make_interval(secs => $3)",
                vec![Arg::Float(secs)],
            )
            .await?;
        if let Some(expires) = expires {
            lease.expires_at = expires;
        }
        Ok(())
    }

    /// Ends `lease` with the job's outcome: done, or failed with a reason (no personal data).
    pub async fn finish(&self, lease: &Leased, outcome: Outcome) -> Result<(), Error> {
        let (state, reason) = match outcome {
            Outcome::Done => ("done", None),
            Outcome::Failed(reason) => ("failed", Some(clean_reason(&reason))),
        };
        self.end_or_extend(
            lease,
            "finishing the job",
            "state = $3, lease_owner = NULL, lease_expires = NULL, ready_at = NULL,
             last_error = $4, finished_at = now()",
            vec![Arg::Text(Some(state.into())), Arg::Text(reason)],
        )
        .await
        .map(drop)
    }

    /// Ends `lease` with the job parked until `wake_in` from now (the database's clock): a job
    /// waiting for Twilio (a review, a vetting) holds no worker. A worker leases it again once
    /// that time has passed.
    pub async fn park(&self, lease: &Leased, wake_in: Duration) -> Result<(), Error> {
        let secs = check_duration("a park", wake_in, Duration::ZERO, MAX_PARK)?;
        self.end_or_extend(
            lease,
            "parking the job",
            "state = 'parked', wake_at = now() + make_interval(secs => $3),
             ready_at = now() + make_interval(secs => $3),
             lease_owner = NULL, lease_expires = NULL, retries = 0, last_error = NULL",
            vec![Arg::Float(secs)],
        )
        .await
        .map(drop)
    }

    /// Ends `lease` with the job parked for `wake_in` after a failure that may pass next time
    /// (Twilio's 429, a gateway's error, the network): like [`park`](Self::park), but `reason`
    /// is kept as the job's last error (no personal data, as for
    /// [`Outcome::Failed`]) and its [retries](Leased::retries) counted, so that a worker can give
    /// up after some (finish it [`Outcome::Failed`]) instead of retrying for ever.
    pub async fn retry(
        &self,
        lease: &Leased,
        wake_in: Duration,
        reason: &str,
    ) -> Result<(), Error> {
        let secs = check_duration("a retry", wake_in, Duration::ZERO, MAX_PARK)?;
        self.end_or_extend(
            lease,
            "parking the job for a retry",
            "state = 'parked', wake_at = now() + make_interval(secs => $3),
             ready_at = now() + make_interval(secs => $3),
             lease_owner = NULL, lease_expires = NULL, retries = retries + 1,
             last_error = $4",
            vec![Arg::Float(secs), Arg::Text(Some(clean_reason(reason)))],
        )
        .await
        .map(drop)
    }

    /// Queues every failed job again (its journal kept, its attempts, retries and last error
    /// cleared), after what failed them was fixed (an outage over, a limit raised); returns how
    /// many. Their flows resume from their journals: nothing is created twice.
    pub async fn requeue_failed(&self) -> Result<u64, Error> {
        self.shared
            .db
            .call(|conn| async move {
                conn.execute(
                    "UPDATE trusthub.jobs
                     SET state = 'queued', ready_at = now(), attempts = 0, retries = 0,
                         last_error = NULL, finished_at = NULL, updated_at = now()
                     WHERE state = 'failed'",
                    &[],
                )
                .await
                .map_err(Error::db)
            })
            .await
    }

    /// The jobs in `states` (every job when empty), oldest first, at most `limit`, without
    /// their inputs: the operations view of a store (which jobs run where, which wait for a
    /// review and until when, which wait to be tried again and why).
    pub async fn jobs(&self, states: &[JobState], limit: u32) -> Result<Vec<JobStatus>, Error> {
        let states: Vec<String> = states.iter().map(|s| s.as_str().to_owned()).collect();
        let limit = i64::from(limit);
        self.shared
            .db
            .call(move |conn| async move {
                let rows = conn
                    .query_typed(
                        "SELECT id, customer, state, journal, attempts, lease_owner,
                                lease_expires, wake_at, last_error, retries
                         FROM trusthub.jobs
                         WHERE cardinality($1::text[]) = 0 OR state = ANY($1)
                         ORDER BY id LIMIT $2",
                        &[(&states, Type::TEXT_ARRAY), (&limit, Type::INT8)],
                    )
                    .await
                    .map_err(Error::db)?;
                rows.iter().map(job_status).collect()
            })
            .await
    }

    /// Ends `lease` with the job queued again at once (a worker stopping: SIGTERM); the next
    /// worker resumes its journal.
    pub async fn release(&self, lease: &Leased) -> Result<(), Error> {
        self.end_or_extend(
            lease,
            "releasing the job",
            "state = 'queued', ready_at = now(), lease_owner = NULL, lease_expires = NULL",
            vec![],
        )
        .await
        .map(drop)
    }

    /// Queues again every job `worker` holds (its shutdown, once its flows stopped); returns
    /// how many. Their leases are over: their stores' saves fail from now on.
    pub async fn release_all(&self, worker: &str) -> Result<u64, Error> {
        let worker = check_worker(worker)?;
        self.shared
            .db
            .call(move |conn| async move {
                conn.execute_typed(
                    "UPDATE trusthub.jobs
                     SET state = 'queued', ready_at = now(), lease_owner = NULL,
                         lease_expires = NULL, updated_at = now()
                     WHERE state = 'running' AND lease_owner = $1",
                    &[(&worker, Type::TEXT)],
                )
                .await
                .map_err(Error::db)
            })
            .await
    }

    /// Updates the job of `lease` if the lease is still held (same token, running, not
    /// expired): `set` are the assignments (`$1` the job, `$2` the token, then `args`). Returns
    /// the new lease expiry (a running job's); [`Error::LeaseLost`] when the lease is over.
    async fn end_or_extend(
        &self,
        lease: &Leased,
        what: &'static str,
        set: &'static str,
        args: Vec<Arg>,
    ) -> Result<Option<OffsetDateTime>, Error> {
        let job = lease.store.inner.job;
        let token = lease.store.inner.token;
        self.shared
            .db
            .call(move |conn| async move {
                let sql = format!(
                    "UPDATE trusthub.jobs SET {set}, updated_at = now()
                     WHERE id = $1 AND lease = $2 AND state = 'running' AND lease_expires > now()
                     RETURNING lease_expires"
                );
                let mut params: Vec<(&(dyn tokio_postgres::types::ToSql + Sync), Type)> =
                    vec![(&job.0, Type::INT8), (&token, Type::INT8)];
                for arg in &args {
                    params.push(match arg {
                        Arg::Float(v) => (v, Type::FLOAT8),
                        Arg::Text(v) => (v, Type::TEXT),
                    });
                }
                match conn
                    .query_typed_opt(&sql, &params)
                    .await
                    .map_err(Error::db)?
                {
                    Some(row) => Ok(row.get::<_, Option<OffsetDateTime>>(0)),
                    None => Err(lost(&conn, job, token, what).await),
                }
            })
            .await
    }

    /// How many jobs are in each state.
    pub async fn counts(&self) -> Result<Counts, Error> {
        self.shared
            .db
            .call(|conn| async move {
                let rows = conn
                    .query(
                        "SELECT state, count(*),
                                count(*) FILTER (WHERE lease_expires <= now())
                         FROM trusthub.jobs GROUP BY state",
                        &[],
                    )
                    .await
                    .map_err(Error::db)?;
                let mut counts = Counts::default();
                for row in rows {
                    let n = row.get::<_, i64>(1) as u64;
                    match row.get::<_, &str>(0).parse()? {
                        JobState::Queued => counts.queued = n,
                        JobState::Running => {
                            counts.running = n;
                            counts.expired = row.get::<_, i64>(2) as u64;
                        }
                        JobState::Parked => counts.parked = n,
                        JobState::Done => counts.done = n,
                        JobState::Failed => counts.failed = n,
                    }
                }
                Ok(counts)
            })
            .await
    }

    /// This worker's share of an account-wide limit of `account_limit` requests in flight
    /// (Twilio's concurrency limit, or less), split between the live workers: in one transaction,
    /// records `worker`'s heartbeat (the database's clock), drops the workers whose heartbeat is
    /// older than `ttl`, and returns `account_limit / live`, the remainder given one each to the
    /// first workers in id order, so the live workers' shares sum to exactly `account_limit`
    /// (at least 1 each: with more workers than the limit, they sum to more).
    ///
    /// Call it every fraction of `ttl` (a third, say) and cap the worker's requests at the
    /// answer; call [`leave_budget`](Self::leave_budget) on a clean exit. Calls of many workers
    /// at once serialise on the table's lock, so each sees the others' heartbeats.
    ///
    /// ```no_run
    /// # async fn f(queue: trusthub_postgres::PgQueue) -> Result<(), trusthub_postgres::Error> {
    /// use std::time::Duration;
    /// let share = queue.budget_share("worker-a:1234", 6, Duration::from_secs(10)).await?;
    /// let limiter = trusthub::flow::Limiter::adaptive(1, share as usize, share as usize);
    /// # let _ = limiter; Ok(()) }
    /// ```
    pub async fn budget_share(
        &self,
        worker: &str,
        account_limit: u32,
        ttl: Duration,
    ) -> Result<u32, Error> {
        self.budget_share_in(
            worker,
            WorkerProcess::current().as_ref(),
            account_limit,
            ttl,
        )
        .await
    }

    /// [`budget_share`](Self::budget_share) for a worker running in `process` (`None`: not
    /// known). Besides the workers whose heartbeat is older than `ttl`, drops those whose process
    /// ran on this machine (and PID namespace) and is gone: a worker killed outright gives its
    /// share back at the next call of any worker beside it, not when its heartbeat lapses.
    pub async fn budget_share_in(
        &self,
        worker: &str,
        process: Option<&WorkerProcess>,
        account_limit: u32,
        ttl: Duration,
    ) -> Result<u32, Error> {
        let worker = check_worker(worker)?;
        if account_limit == 0 {
            return Err(Error::Invalid(
                "an account's request limit is at least 1".into(),
            ));
        }
        let ttl = check_duration(
            "a worker's heartbeat ttl",
            ttl,
            Duration::from_secs(1),
            MAX_LEASE,
        )?;
        let process = process.map(|p| p.as_str().to_owned());
        self.shared
            .db
            .call(move |mut conn| async move {
                let tx = conn.transaction().await.map_err(Error::db)?;
                // One writer at a time: each call sees every heartbeat committed before it.
                tx.batch_execute("LOCK TABLE trusthub.workers IN SHARE ROW EXCLUSIVE MODE")
                    .await
                    .map_err(Error::db)?;
                tx.execute_typed(
                    "INSERT INTO trusthub.workers (worker, heartbeat, process)
                     VALUES ($1, now(), $2)
                     ON CONFLICT (worker) DO UPDATE SET heartbeat = now(), process = $2",
                    &[(&worker, Type::TEXT), (&process, Type::TEXT)],
                )
                .await
                .map_err(Error::db)?;
                tx.execute_typed(
                    "DELETE FROM trusthub.workers
                     WHERE heartbeat < now() - make_interval(secs => $1)",
                    &[(&ttl, Type::FLOAT8)],
                )
                .await
                .map_err(Error::db)?;
                if let Some(prefix) = WorkerProcess::local_prefix() {
                    let local = tx
                        .query_typed(
                            "SELECT worker, process FROM trusthub.workers
                             WHERE starts_with(process, $1) AND worker <> $2",
                            &[(&prefix, Type::TEXT), (&worker, Type::TEXT)],
                        )
                        .await
                        .map_err(Error::db)?;
                    let gone: Vec<String> = local
                        .iter()
                        .filter(|row| WorkerProcess::is_gone(row.get::<_, &str>(1)))
                        .map(|row| row.get(0))
                        .collect();
                    if !gone.is_empty() {
                        tracing::info!(
                            workers = gone.len(),
                            "trusthub-postgres: workers of this machine are gone; their shares \
                             of the budget go to the others"
                        );
                        tx.execute_typed(
                            "DELETE FROM trusthub.workers WHERE worker = ANY($1)",
                            &[(&gone, Type::TEXT_ARRAY)],
                        )
                        .await
                        .map_err(Error::db)?;
                    }
                }
                let row = tx
                    .query_typed_one(
                        "SELECT count(*), count(*) FILTER (WHERE worker < $1)
                         FROM trusthub.workers",
                        &[(&worker, Type::TEXT)],
                    )
                    .await
                    .map_err(Error::db)?;
                tx.commit().await.map_err(Error::db)?;
                let live = u32::try_from(row.get::<_, i64>(0).max(1)).unwrap_or(u32::MAX);
                let before = u32::try_from(row.get::<_, i64>(1)).unwrap_or(u32::MAX);
                Ok(share(account_limit, live, before))
            })
            .await
    }

    /// Takes `worker` out of the account's budget at once (a clean exit): the others' next
    /// [`budget_share`](Self::budget_share) splits the limit without it. Nothing when it was
    /// not in.
    pub async fn leave_budget(&self, worker: &str) -> Result<(), Error> {
        let worker = check_worker(worker)?;
        self.shared
            .db
            .call(move |conn| async move {
                conn.execute_typed(
                    "DELETE FROM trusthub.workers WHERE worker = $1",
                    &[(&worker, Type::TEXT)],
                )
                .await
                .map_err(Error::db)?;
                Ok(())
            })
            .await
    }

    /// Wake-ups for an idle worker: [`Wakeups::changed`] returns when a job of the store was
    /// enqueued, released, parked, finished or failed since the last call (PostgreSQL's
    /// `LISTEN`/`NOTIFY` on a connection of its own, outside the pool), so a worker with nothing
    /// to do leases the moment there is something instead of at its next poll. Changes only time
    /// brings (a lease expiring, a parked job's wake-up time) notify nobody: wait for
    /// [`next_ready`](Self::next_ready) too. The listener stops when the `Wakeups` is dropped.
    ///
    /// ```no_run
    /// # async fn f(queue: trusthub_postgres::PgQueue) -> Result<(), trusthub_postgres::Error> {
    /// use std::time::Duration;
    /// let wakeups = queue.wakeups().await?;
    /// loop {
    ///     if let Some(lease) = queue.lease("worker-a:1234", Duration::from_secs(300)).await? {
    ///         // run it, then finish, park or release it
    ///         # let _ = lease;
    ///         continue;
    ///     }
    ///     let wait = queue.next_ready().await?.unwrap_or(Duration::from_secs(60));
    ///     tokio::select! {
    ///         () = wakeups.changed() => {}
    ///         () = tokio::time::sleep(wait.min(Duration::from_secs(60))) => {}
    ///     }
    /// }
    /// # }
    /// ```
    pub async fn wakeups(&self) -> Result<Wakeups, Error> {
        let notify = Arc::new(tokio::sync::Notify::new());
        let (stop_tx, stop) = tokio::sync::oneshot::channel();
        self.shared
            .db
            .listen(Listen {
                channel: WAKEUP_CHANNEL,
                notify: notify.clone(),
                stop,
            })
            .await?;
        Ok(Wakeups {
            notify,
            _stop: stop_tx,
        })
    }

    /// How long until the next job can be leased: zero when one is ready now, the time to the
    /// earliest parked job's wake-up or running job's lease expiry otherwise, `None` when no job
    /// is queued, running or parked.
    pub async fn next_ready(&self) -> Result<Option<Duration>, Error> {
        self.shared
            .db
            .call(|conn| async move {
                let row = conn
                    .query_one(
                        "SELECT extract(epoch FROM min(ready_at) - now())::float8
                         FROM trusthub.jobs WHERE state IN ('queued', 'running', 'parked')",
                        &[],
                    )
                    .await
                    .map_err(Error::db)?;
                let secs: Option<f64> = row.get(0);
                Ok(secs.map(|s| Duration::from_secs_f64(s.clamp(0.0, MAX_PARK.as_secs_f64()))))
            })
            .await
    }

    /// The failed jobs, oldest failure first, with their reasons.
    pub async fn failed(&self) -> Result<Vec<FailedJob>, Error> {
        self.shared
            .db
            .call(|conn| async move {
                let rows = conn
                    .query(
                        "SELECT id, customer, coalesce(last_error, ''), attempts, finished_at
                         FROM trusthub.jobs WHERE state = 'failed' ORDER BY finished_at, id",
                        &[],
                    )
                    .await
                    .map_err(Error::db)?;
                Ok(rows
                    .iter()
                    .map(|row| FailedJob {
                        job: JobId(row.get(0)),
                        customer: row.get(1),
                        reason: row.get(2),
                        attempts: row.get::<_, i32>(3).max(0) as u32,
                        failed_at: row.get(4),
                    })
                    .collect())
            })
            .await
    }

    /// The job of `customer_key`, if it has one.
    pub async fn status(&self, customer_key: &str) -> Result<Option<JobStatus>, Error> {
        let customer = self.customer_digest(customer_key);
        self.shared
            .db
            .call(move |conn| async move {
                let row = conn
                    .query_typed_opt(
                        "SELECT id, customer, state, journal, attempts, lease_owner,
                                lease_expires, wake_at, last_error, retries
                         FROM trusthub.jobs WHERE customer = $1",
                        &[(&customer, Type::TEXT)],
                    )
                    .await
                    .map_err(Error::db)?;
                row.as_ref().map(job_status).transpose()
            })
            .await
    }
}

/// A [`JobStatus`] from `id, customer, state, journal, attempts, lease_owner, lease_expires,
/// wake_at, last_error, retries`.
fn job_status(row: &Row) -> Result<JobStatus, Error> {
    Ok(JobStatus {
        job: JobId(row.get(0)),
        customer: row.get(1),
        state: row.get::<_, &str>(2).parse()?,
        journal: decode_journal(row.get(3)).map_err(Error::Damaged)?,
        attempts: row.get::<_, i32>(4).max(0) as u32,
        lease_owner: row.get(5),
        lease_expires: row.get(6),
        wake_at: row.get(7),
        last_error: row.get(8),
        retries: row.get::<_, i32>(9).max(0) as u32,
    })
}

/// An argument of [`PgQueue::end_or_extend`].
enum Arg {
    Float(f64),
    Text(Option<String>),
}

/// A leased row, decoded on the connection thread.
struct LeasedRow {
    job: JobId,
    customer: String,
    input: Vec<u8>,
    journal: Option<Journal>,
    token: i64,
    attempts: u32,
    expires_at: OffsetDateTime,
    took_over_from: Option<String>,
    retries: u32,
}

fn decode_lease(key: &StoreKey, row: &Row) -> Result<LeasedRow, String> {
    let customer: String = row.get(1);
    let sealed: &[u8] = row.get(2);
    let input = key.open(&customer, sealed).ok_or_else(|| {
        "its stored input does not decrypt with the store key (the row was altered or damaged)"
            .to_owned()
    })?;
    let journal = decode_journal(row.get(3))?;
    let was: &str = row.get(7);
    Ok(LeasedRow {
        job: JobId(row.get(0)),
        customer,
        input,
        journal,
        token: row.get(4),
        attempts: row.get::<_, i32>(5).max(0) as u32,
        expires_at: row.get(6),
        took_over_from: if was == "running" { row.get(8) } else { None },
        retries: row.get::<_, i32>(9).max(0) as u32,
    })
}

fn decode_journal(value: Option<serde_json::Value>) -> Result<Option<Journal>, String> {
    value
        .map(|v| {
            serde_json::from_value::<Journal>(v).map_err(|e| {
                format!(
                    "its stored journal does not read as a flow journal ({e}); it was not resumed"
                )
            })
        })
        .transpose()
}

async fn mark_damaged(conn: &Client, job: i64, token: i64, reason: &str) -> Result<(), Error> {
    conn.execute_typed(
        "UPDATE trusthub.jobs
         SET state = 'failed', last_error = $3, lease_owner = NULL, lease_expires = NULL,
             ready_at = NULL, finished_at = now(), updated_at = now()
         WHERE id = $1 AND lease = $2",
        &[
            (&job, Type::INT8),
            (&token, Type::INT8),
            (&clean_reason(reason), Type::TEXT),
        ],
    )
    .await
    .map_err(Error::db)
    .map(drop)
}

/// Why a lease is over, for the error refusing `what`.
pub(crate) async fn lost(conn: &Client, job: JobId, token: i64, what: &str) -> Error {
    let row = conn
        .query_typed_opt(
            "SELECT state, lease, lease_owner, lease_expires, lease_expires <= now()
             FROM trusthub.jobs WHERE id = $1",
            &[(&job.0, Type::INT8)],
        )
        .await;
    let row = match row {
        Ok(Some(row)) => row,
        Ok(None) => {
            return Error::LeaseLost(format!("{job} no longer exists: {what} was refused"));
        }
        Err(e) => return Error::db(e),
    };
    let state: String = row.get(0);
    let lease: i64 = row.get(1);
    let owner: Option<String> = row.get(2);
    let expires: Option<OffsetDateTime> = row.get(3);
    let expired: Option<bool> = row.get(4);
    let message = if lease != token && state == "running" {
        format!(
            "the lease of {job} was taken over by worker {} after this worker's lease expired: \
             {what} was refused; stop this flow (the new holder resumes its journal)",
            owner.as_deref().unwrap_or("?")
        )
    } else if lease != token {
        format!(
            "{job} was leased again since this worker's lease (it is {state} now): {what} was \
             refused; stop this flow"
        )
    } else if state == "running" && expired == Some(true) {
        format!(
            "this worker's lease of {job} expired{}: {what} was refused; stop this flow (the \
             next worker to lease the job resumes its journal) and renew leases before they \
             expire",
            expires
                .and_then(|t| t
                    .format(&time::format_description::well_known::Rfc3339)
                    .ok())
                .map(|t| format!(" at {t}"))
                .unwrap_or_default()
        )
    } else {
        format!("this worker's lease of {job} ended (the job is {state}): {what} was refused")
    };
    Error::LeaseLost(message)
}

/// The share of the worker with `before` live workers before it in id order, of `live`.
fn share(limit: u32, live: u32, before: u32) -> u32 {
    let live = live.max(1);
    (limit / live + u32::from(before < limit % live)).max(1)
}

fn check_worker(worker: &str) -> Result<String, Error> {
    if worker.is_empty() || worker.chars().count() > 200 || worker.chars().any(char::is_control) {
        return Err(Error::Invalid(
            "a worker id is 1 to 200 characters, none a control character (a host name and \
             process id, say: never personal data)"
                .into(),
        ));
    }
    Ok(worker.to_owned())
}

fn check_duration(what: &str, d: Duration, min: Duration, max: Duration) -> Result<f64, Error> {
    if d < min || d > max {
        return Err(Error::Invalid(format!(
            "{what} lasts from {} s to {} s; {} s was asked",
            min.as_secs(),
            max.as_secs(),
            d.as_secs_f64()
        )));
    }
    Ok(d.as_secs_f64())
}

/// A failure's reason as stored: control characters replaced, at most [`MAX_REASON`] characters.
fn clean_reason(reason: &str) -> String {
    reason
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(MAX_REASON)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_round_trip_and_unknown_ones_are_damage() {
        for state in [
            JobState::Queued,
            JobState::Running,
            JobState::Parked,
            JobState::Done,
            JobState::Failed,
        ] {
            assert_eq!(state.as_str().parse::<JobState>().unwrap(), state);
        }
        assert!(matches!(
            "sleeping".parse::<JobState>(),
            Err(Error::Damaged(_))
        ));
    }

    #[test]
    fn shares_sum_to_the_limit() {
        for limit in 1..=20 {
            for live in 1..=limit {
                let shares: Vec<u32> = (0..live).map(|i| share(limit, live, i)).collect();
                assert_eq!(shares.iter().sum::<u32>(), limit, "{limit} / {live}");
                assert!(shares.iter().all(|&s| s >= 1));
                assert!(
                    shares.windows(2).all(|w| w[0] >= w[1]),
                    "the first get more"
                );
            }
        }
        assert_eq!(share(2, 3, 2), 1, "at least 1, above the limit");
    }

    #[test]
    fn arguments_are_checked() {
        assert!(check_worker("host-1:4242").is_ok());
        assert!(check_worker("").is_err());
        assert!(check_worker("a\nb").is_err());
        assert!(check_worker(&"w".repeat(201)).is_err());
        assert!(
            check_duration("a lease", Duration::ZERO, Duration::from_secs(1), MAX_LEASE).is_err()
        );
        assert!(check_duration(
            "a lease",
            Duration::from_secs(60),
            Duration::from_secs(1),
            MAX_LEASE
        )
        .is_ok());
        assert_eq!(clean_reason("a\nb"), "a b");
        assert_eq!(clean_reason(&"x".repeat(5000)).len(), MAX_REASON);
        assert_eq!(format!("{:?}", Input(b"secret".to_vec())), "Input(6 bytes)");
    }
}
