//! A shared PostgreSQL store of trusthub onboarding jobs, for many workers on one Twilio
//! account: one row per customer, leased to one worker at a time, its flow journal saved under
//! the lease.
//!
//! The file journal ([`FileStore`](trusthub::flow::FileStore), the CLI's batch journal) stays
//! the embedded default; this store is for ISVs running several worker processes (or machines)
//! against one database. Both pass the same store test suite ([`conformance`]).
//!
//! # Using it
//!
//! ```no_run
//! use std::time::Duration;
//! use trusthub::flow::JournalStore;
//! use trusthub_postgres::{Enqueued, Outcome, PgQueue, StoreKey};
//!
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let key = StoreKey::load("/etc/trusthub/store.key")?; // StoreKey::create once, kept apart
//! let queue = PgQueue::connect("postgresql://trusthub@db.internal/trusthub", key).await?;
//!
//! // A producer: the same customer key twice is one job.
//! let input = br#"{"business_name": "..."}"#; // what your worker needs, any bytes
//! assert!(matches!(queue.enqueue("crm-customer-4711", input).await?, Enqueued::New(_)));
//!
//! // A worker: lease, run the flow on the lease's journal store, end the lease.
//! if let Some(mut lease) = queue.lease("worker-a:1234", Duration::from_secs(300)).await? {
//!     let store = lease.store(); // a JournalStore: every save checks the lease
//!     let resume = lease.take_journal(); // the journal to resume, if the job ran before
//!     // ... run the profile flow with `store` (and `resume`), renewing the lease meanwhile ...
//!     # let _ = (store.digest_key(), resume);
//!     queue.finish(&lease, Outcome::Done).await?;
//! }
//! # Ok(()) }
//! ```
//!
//! # Leases
//!
//! [`PgQueue::lease`] hands a worker the next ready job (`FOR UPDATE SKIP LOCKED`: workers
//! leasing at once get distinct jobs): a queued job, a parked job whose wake-up time passed, or a
//! running job whose lease expired (a crashed worker's: the new lease takes it over and resumes
//! its journal). Every lease increments the job's fencing token (`lease`); a save, renewal,
//! park, release or finish names its token and fails with [`Error::LeaseLost`] once the lease
//! expired or another holds the job. The flow saves each create's intent before sending it, so a
//! worker that lost its lease stops before sending anything more: the new holder looks up what
//! the old one may have created, as after a crash. Expired means lost: a lease is renewed
//! ([`PgQueue::renew`]) before it expires, never after. All times are the database's clock.
//!
//! A lease should outlast the longest request of a flow with a margin (Twilio requests time out
//! after 30 s per attempt): a worker renewing every minute a lease of five minutes, say.
//!
//! A job waiting for Twilio (a review, a vetting) is [parked](PgQueue::park) with a wake-up
//! time instead of holding a worker; a stopping worker [releases](PgQueue::release) its jobs
//! (queued again at once) or, after its flows stopped, [`PgQueue::release_all`]. A job that
//! failed with what may pass next time is parked by [`PgQueue::retry`], its reason kept and its
//! retries counted, so that a worker can give up after some; [`PgQueue::requeue_failed`]
//! queues the failed jobs again, and [`PgQueue::jobs`] lists the jobs of some states.
//!
//! # The account's request budget
//!
//! Twilio limits the requests of one account in flight at once (429, code 20429, above it), and
//! every worker of the store sends on the same account. [`PgQueue::budget_share`] splits a limit
//! between the live workers: each heart-beats (every few seconds) and caps its requests at its
//! share, so that adding workers does not add 429s; [`PgQueue::leave_budget`] gives the share
//! back on a clean exit, and a worker that stops heart-beating (crashed) drops out after the
//! callers' `ttl`, or at the next heartbeat of a worker on the same machine, which looks its
//! process up ([`WorkerProcess`]). Until the others' next heartbeat, a worker that joins or
//! leaves makes the shares sum to more (or less) than the limit for a moment. Shares are soft
//! (a share too large for a moment costs a 429, which Twilio never processed), so a short `ttl`
//! is safe; leases are not (a job taken over while its first worker still sends could be created
//! twice), so a job's lease always runs out before another worker takes it.
//!
//! Idle workers wait on [`PgQueue::wakeups`] (`LISTEN`/`NOTIFY`) and
//! [`PgQueue::next_ready`] instead of polling: they lease the moment a job is enqueued,
//! released or finished, or a lease or park runs out.
//!
//! # What the database holds, and why
//!
//! The database never holds a customer's key or data in clear. It holds:
//!
//! `trusthub.jobs`, one row per customer:
//!
//! | column | what | why |
//! | --- | --- | --- |
//! | `id` | bigint identity | the job's id in messages and in the other tables |
//! | `customer` | HMAC-SHA256 (128 bits, hex) of the ISV's customer key under the store's digest key, unique | the idempotency key: enqueueing a customer twice is one job; without the key file, a guessed customer key cannot be confirmed |
//! | `input` | the customer's input, AES-256-GCM under the store's encryption key: `1 ‖ nonce (12 bytes, random per write) ‖ ciphertext ‖ tag (16 bytes)`, the customer digest as associated data | the worker needs the input to run (and resume) the flow; encrypted because it is personal data (names, email, phone, address, tax numbers); bound to its row, so it cannot be moved to another |
//! | `journal` | JSONB: the flow's [`Journal`](trusthub::flow::Journal) (SIDs, intents, keyed digests of the input, times) | what a worker resumes from; the journal holds no personal data, as in a journal file |
//! | `state` | `queued`, `running`, `parked`, `done`, `failed` | the job's lifecycle |
//! | `ready_at` | when the job may next be leased: its enqueueing or release, a parked job's wake-up time, a running job's lease expiry; none once done or failed | the queue's order and its index |
//! | `lease` | bigint, incremented by every lease | the fencing token: an old holder's writes are refused |
//! | `lease_owner` | the worker id given to [`PgQueue::lease`] (a host and process id: never personal data) | who holds the job; named in a takeover |
//! | `lease_expires` | timestamptz | when the job can be taken over |
//! | `wake_at` | timestamptz | when a parked job wakes up |
//! | `attempts` | how many times the job was leased (reset when its input is updated) | a job that keeps crashing workers shows it |
//! | `last_error` | the reason a job failed, or why it waits to be tried again, as the worker gave it (the flow's errors name fields, never values) | [`PgQueue::failed`], [`PgQueue::jobs`] |
//! | `retries` | failures in a row that may pass next time ([`PgQueue::retry`]; reset by progress, an input update, a requeue) | a worker gives up after some |
//! | `created_at`, `updated_at`, `finished_at` | timestamptz | operations |
//!
//! `trusthub.owned_sids` (`sid`, `job`, `claimed_at`): every SID a job's journal holds or its
//! lookup claimed; the first owner stays the owner. `trusthub.intents` (`job`, `key`,
//! `criteria`): the open intents of every journal, with their criteria (a keyed digest). Both
//! are written in the statement that saves the journal, and are what keeps two workers from
//! adopting each other's lost creates (as the batch journal's registry does in memory).
//!
//! `trusthub.store` holds the id of the store key (never the key): a queue connected with
//! another key is refused. `trusthub.schema_migrations` holds the applied schema versions with
//! the SHA-256 of each migration's text. `trusthub.workers` (`worker`, `heartbeat`, `process`):
//! the workers sharing the account's request budget ([`PgQueue::budget_share`]), each with its
//! last heartbeat (the database's clock) and its process ([`WorkerProcess`]: boot id, PID
//! namespace, process id, start time); a row goes when its worker leaves, stops heart-beating,
//! or a worker of the same machine finds its process gone.
//! The triggers of `trusthub.jobs` notify the channel `trusthub_jobs` with a job's new state
//! when it is enqueued, released, parked, done or failed ([`PgQueue::wakeups`]): the payload is
//! a state name, nothing else.
//!
//! The input of a done job stays (encrypted): a later fix or refresh of its profile needs it.
//! Deleting a job's row erases it (its owned SIDs and intents go with it).
//!
//! # The store key
//!
//! One secret, kept outside the database ([`StoreKey::create`] writes an owner-only key file,
//! like a journal's `.key`), derives with HKDF-SHA256 the input encryption key and the digest
//! key (see [`StoreKey`]). Lose it and no job can run again; leak it with the database and the
//! inputs decrypt. A random 96-bit nonce per write keeps AES-GCM safe for far more writes than a
//! store makes (NIST's bound: 2³² per key).
//!
//! # Connections
//!
//! The journal store's trait is synchronous; its methods are called from the flow's async
//! tasks. So the queue talks to PostgreSQL from a thread of its own (a current-thread Tokio
//! runtime with a small pool of `tokio-postgres` connections, [`PgOptions`]); async methods
//! await its answers, journal saves wait for them. A save is one statement (one round trip,
//! one transaction). Errors never show the database URL.
//!
//! ## TLS
//!
//! Connections speak TLS through rustls (its ring provider, as the `trusthub` crate's HTTP
//! client), as the URL's `sslmode` says:
//!
//! | `sslmode` | TLS | the server's certificate |
//! | --- | --- | --- |
//! | `disable` | never | not looked at |
//! | `prefer` (the default, as libpq's) | when the server offers it; a handshake that fails (a certificate that does not verify) is tried again without TLS, with a warning, as libpq does | verified when TLS is used |
//! | `require` | always: a server without TLS is refused | verified: its chain and its names (libpq's `verify-full`) |
//!
//! The chain is verified against the webpki roots (Mozilla's CA list, compiled in) or, when
//! [`PgOptions::ca_file`] names a PEM file, against that file's certificates only: a private or
//! self-signed cluster CA, or a managed service's CA bundle (RDS, Cloud SQL and Azure sign their
//! servers' certificates with CAs of their own). The certificate's subject alternative names
//! are checked against the URL's `host` (a DNS name or an IP address; with `hostaddr`, `host`
//! is still the name checked). A CA file asks for verified TLS: `prefer` then acts as
//! `require`, and `disable` with a CA file is refused. No connection is ever TLS without being
//! verified: libpq's `require` without a root certificate (encrypted, not verified) has no
//! equivalent here.
//!
//! `prefer` protects against nothing an attacker on the network could not undo: answering the
//! client's TLS request with "no", or presenting a certificate that does not verify, makes the
//! connection plain (the password then goes as the server's authentication method sends it).
//! It stays the default for the unix sockets and loopback addresses that worked without TLS
//! before; on any network you do not trust, use `sslmode=require` or a CA file.
//!
//! The URL is parsed by tokio-postgres, which knows `sslmode=disable|prefer|require` only:
//! libpq's `verify-full` is `require` here, and `verify-ca` (the chain, any name) has no
//! equivalent (`require` checks the name too); both are refused with what to write instead.
//! libpq's `sslrootcert=` in the URL is refused too, naming [`PgOptions::ca_file`]; client
//! certificates (`sslcert`, `sslkey`) and revocation lists are not supported.
//! `channel_binding=require` works (SCRAM-SHA-256-PLUS, bound to the server's certificate when
//! its signature names one hash: RSA PKCS#1 v1.5 or ECDSA); the handshake offers the ALPN
//! protocol `postgresql`, which PostgreSQL 17 needs for `sslnegotiation=direct` (with
//! `require`). Unix-socket hosts never use TLS, whatever `sslmode` says
//! (PostgreSQL does not speak it there; libpq ignores `sslmode` for them too).
//!
//! A failed connection says what failed and what to do, without the URL: a server that does
//! not offer TLS when it is required, a certificate that does not verify (signed by an unknown
//! CA, issued for another name, expired) are [`Error::Connect`]; an unreadable CA file, or one
//! without a certificate, is [`Error::Config`].
//!
//! # Schema versions
//!
//! Migrations are embedded and applied by [`PgQueue::connect`] in one transaction under an
//! advisory lock (workers starting at once wait for each other); migrating twice is a no-op; a
//! database of a newer schema, or whose applied migration differs from this crate's text, is
//! refused ([`Error::Schema`]). A database already at this version gets no DDL: the first
//! connect (and an upgrade) needs the right to create a schema in the database; workers of a
//! migrated database need only `USAGE` on the schema `trusthub` and `SELECT`, `INSERT`,
//! `UPDATE`, `DELETE` on its tables. PostgreSQL 12 or later (tested with the distribution's).

#![warn(missing_docs)]

mod conn;
mod error;
mod key;
mod process;
mod queue;
mod schema;
mod store;
mod tls;

pub mod conformance;

pub use error::{is_lease_lost, Error};
pub use key::StoreKey;
pub use process::WorkerProcess;
pub use queue::{
    Counts, Enqueued, FailedJob, Input, JobId, JobState, JobStatus, Leased, Outcome, PgOptions,
    PgQueue, Wakeups,
};
pub use schema::SCHEMA_VERSION;
pub use store::PgJournalStore;
