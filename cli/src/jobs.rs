//! The PostgreSQL job store from the command line (`trusthub_postgres`): `onboard CSV --store`
//! enqueues every valid row as a job, `trusthub worker` runs the jobs (many workers, one account),
//! `trusthub status --store` counts and lists them, `trusthub requeue` queues failed ones again.
//!
//! A worker runs each leased job as the batch runs a row ([`onboard::run_row`]: the profile flow,
//! submitted with `--submit`, the A2P journey, the voice products), with the lease's journal
//! store (every save checks the lease) and the job's journal to resume. Its lease is renewed every
//! third of `--lease` while the flow runs. Then:
//!
//! - finished (compliant, registered): `finish(Done)`;
//! - waiting for a review (an A2P brand or campaign): `park(--park)`, holding no worker;
//! - invalid, noncompliant, rejected, or failed for good: `finish(Failed(reason))`, the reason
//!   naming fields and SIDs, never values;
//! - failed with what may pass next time (Twilio's 429, a gateway's 5xx, the network, a
//!   preflight that could not be checked): `retry(--retry-after)`, tried again later, its reason
//!   kept; after `--max-retries` of them in a row, `finish(Failed(reason))` (`trusthub requeue`
//!   queues failed jobs again);
//! - stopped by a signal at its next saved step: `release` (queued again at once);
//! - a save refused because the lease is over (it expired, another worker took it over): nothing:
//!   the job is the new holder's, and nothing more was sent (a create's intent is saved first).
//!
//! The first SIGINT / SIGTERM / SIGHUP stops leasing and makes the flows in flight stop at their
//! next saved step (those only waiting for a review stop at once), then releases their jobs; a
//! second one stops at once and releases every job of the worker. A worker killed outright leaves
//! its leases to expire: the next worker to lease such a job resumes its journal.

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinSet;
use tracing::Instrument;
use trusthub::flow::{FlowOptions, JournalStore, Limiter, Preflight};
use trusthub::sid::{CustomerProfileSid, PolicySid};
use trusthub::FlowError;
use trusthub_postgres::{Enqueued, Leased, PgOptions, PgQueue, StoreKey};

use crate::batch_journal::{awaiting_review, finished, RowStore};
use crate::context::{CliError, Context};
use crate::input::{self, CustomerKey, Defaults, Record};
use crate::onboard::{self, Job, OnboardArgs, Waits, Work};
use crate::output::{column, Column, Output};
use crate::report::{Outcome, RowReport, Run};
use crate::{EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK};

/// `trusthub worker`.
#[derive(Debug, clap::Args)]
pub struct WorkerArgs {
    /// The PostgreSQL job store (`postgresql://user@host/db` or `host=... dbname=...`); or
    /// TRUSTHUB_STORE, which keeps a password out of the process list.
    #[arg(
        long,
        value_name = "URL",
        env = "TRUSTHUB_STORE",
        hide_env_values = true
    )]
    pub store: String,
    /// The job store's key file (the one `onboard --store` created).
    #[arg(long, value_name = "FILE")]
    pub store_key: std::path::PathBuf,
    /// A PEM file of the CA certificate(s) that signed the job store's TLS certificate (a
    /// private or self-signed cluster CA, a managed service's CA bundle), trusted instead of
    /// Mozilla's roots. TLS is then required and verified (chain and host name), whatever the
    /// URL's sslmode; without it, sslmode decides (prefer, the default: TLS when the server
    /// offers it, verified against Mozilla's roots, else plain; require: verified TLS or no
    /// connection).
    #[arg(long, value_name = "FILE")]
    pub store_ca: Option<std::path::PathBuf>,
    /// Jobs in flight at once, and requests in flight across all of them. With
    /// --account-limit, also at most half as many again as the requests the worker's share
    /// allows in flight (more jobs would only make each one slower and hold more leases).
    #[arg(long, default_value_t = 8, value_name = "N",
          value_parser = clap::value_parser!(u16).range(1..=512))]
    pub concurrency: u16,
    /// The account's budget of requests in flight, shared by all the workers of the store: each
    /// caps its requests at its share (N split between the live workers, refreshed every half
    /// second through the store) and lowers it further on Twilio's 429 (adaptive), so that adding
    /// workers does not add 429s. Without it, each worker sends up to --concurrency requests.
    #[arg(long, value_name = "N",
          value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub account_limit: Option<u32>,
    /// How long a lease lasts, in seconds; renewed every third of it while the job runs. A
    /// crashed worker's jobs go to another worker once their lease expires.
    #[arg(long, value_name = "SECS", default_value = "300", value_parser = lease_seconds)]
    pub lease: Duration,
    /// The longest a worker with nothing to do waits before looking for a job again, in
    /// seconds (it looks at once when a job is enqueued, released or finished, and when the
    /// next lease expires or parked job wakes up); also how often a journey's review is polled.
    #[arg(long, value_name = "SECS", default_value = "5", value_parser = onboard::seconds)]
    pub poll: Duration,
    /// How long a job waiting for a review (an A2P brand or campaign) is parked before a worker
    /// looks again, in seconds.
    #[arg(long, value_name = "SECS", default_value = "600", value_parser = onboard::seconds)]
    pub park: Duration,
    /// How long a job that failed with what may pass next time (Twilio's 429, a gateway's
    /// error, the network) waits before it is tried again, in seconds.
    #[arg(long, value_name = "SECS", default_value = "60", value_parser = onboard::seconds)]
    pub retry_after: Duration,
    /// Give up on a job after N such failures in a row (each followed by --retry-after): it is
    /// failed with its last reason, and `trusthub requeue` queues the failed jobs again once
    /// what failed them is fixed. Progress (a park for a review) starts the count again.
    #[arg(long, value_name = "N", default_value_t = 10,
          value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub max_retries: u32,
    /// Submit each compliant profile for review (step 10). A2P and voice rows always do.
    #[arg(long)]
    pub submit: bool,
    /// Exit (0) once no job is queued or running anywhere (jobs parked for a review are left
    /// to later workers): for tests and batch jobs.
    #[arg(long)]
    pub exit_when_empty: bool,
    /// A2P rows: follow the brand's vetting for up to SECS before the job is parked.
    #[arg(long, value_name = "SECS", default_value = "0", value_parser = onboard::seconds)]
    pub brand_wait: Duration,
    /// A2P rows: follow the campaign's review for up to SECS before the job is parked.
    #[arg(long, value_name = "SECS", default_value = "0", value_parser = onboard::seconds)]
    pub campaign_wait: Duration,
}

/// `trusthub status --store`.
#[derive(Debug, clap::Args)]
pub struct StatusArgs {
    /// The PostgreSQL job store; or TRUSTHUB_STORE, which keeps a password out of the process
    /// list.
    #[arg(
        long,
        value_name = "URL",
        env = "TRUSTHUB_STORE",
        hide_env_values = true
    )]
    pub store: String,
    /// The job store's key file.
    #[arg(long, value_name = "FILE")]
    pub store_key: std::path::PathBuf,
    /// A PEM file of the CA certificate(s) that signed the job store's TLS certificate,
    /// trusted instead of Mozilla's roots (see `worker --help`).
    #[arg(long, value_name = "FILE")]
    pub store_ca: Option<std::path::PathBuf>,
    /// List the jobs in this state (repeat it for several; `all` for every job) instead of the
    /// failed ones: job, customer digest, state, leases, retries, lease holder and expiry,
    /// wake-up time, last error.
    #[arg(long, value_name = "STATE", value_enum)]
    pub state: Vec<StateArg>,
    /// With --state: list at most N jobs, oldest first.
    #[arg(long, value_name = "N", default_value_t = 1000, requires = "state",
          value_parser = clap::value_parser!(u32).range(1..))]
    pub limit: u32,
}

/// `trusthub requeue`.
#[derive(Debug, clap::Args)]
pub struct RequeueArgs {
    /// The PostgreSQL job store; or TRUSTHUB_STORE, which keeps a password out of the process
    /// list.
    #[arg(
        long,
        value_name = "URL",
        env = "TRUSTHUB_STORE",
        hide_env_values = true
    )]
    pub store: String,
    /// The job store's key file.
    #[arg(long, value_name = "FILE")]
    pub store_key: std::path::PathBuf,
    /// A PEM file of the CA certificate(s) that signed the job store's TLS certificate,
    /// trusted instead of Mozilla's roots (see `worker --help`).
    #[arg(long, value_name = "FILE")]
    pub store_ca: Option<std::path::PathBuf>,
}

/// A job state on the command line (`status --state`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum StateArg {
    /// Waiting for a worker.
    Queued,
    /// Leased to a worker.
    Running,
    /// Waiting for a review or a retry, until its wake-up time.
    Parked,
    /// Finished.
    Done,
    /// Failed, with its reason.
    Failed,
    /// Every job.
    All,
}

fn lease_seconds(text: &str) -> Result<Duration, String> {
    let d = onboard::seconds(text)?;
    if d < Duration::from_secs(3) {
        return Err("a lease lasts 3 seconds or more (it is renewed every third of it)".into());
    }
    Ok(d)
}

/// Loads the store key; with `create`, writes a new one (owner-only) when the file is missing.
/// Returns whether it was created.
fn load_key(path: &Path, create: bool) -> Result<(StoreKey, bool), CliError> {
    match StoreKey::load(path) {
        Ok(key) => Ok((key, false)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && create => {
            match StoreKey::create(path) {
                Ok(key) => Ok((key, true)),
                // Another enqueuer created it meanwhile.
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => StoreKey::load(path)
                    .map(|k| (k, false))
                    .map_err(|e| CliError::usage(format!("store key {}: {e}", path.display()))),
                Err(e) => Err(CliError::usage(format!(
                    "cannot create the store key {}: {e}",
                    path.display()
                ))),
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(CliError::usage(format!(
            "store key {}: no such file; workers need the key file `trusthub onboard ... \
             --store URL --store-key FILE` created (copy it, owner-only)",
            path.display()
        ))),
        Err(e) => Err(CliError::usage(format!(
            "store key {}: {e}",
            path.display()
        ))),
    }
}

/// Connects to the job store (migrating it when new); errors never show the URL.
async fn connect(
    url: &str,
    ca: Option<&Path>,
    key: StoreKey,
    connections: usize,
) -> Result<PgQueue, CliError> {
    let mut options = PgOptions::default();
    options.connections = connections.max(1);
    options.ca_file = ca.map(Path::to_path_buf);
    PgQueue::connect_with(url, key, options)
        .await
        .map_err(|e| match e {
            trusthub_postgres::Error::Config(_)
            | trusthub_postgres::Error::WrongKey(_)
            | trusthub_postgres::Error::Schema(_) => CliError::usage(format!("the job store: {e}")),
            e => CliError::failed(format!("the job store: {e}")),
        })
}

/// What `onboard --store` did with one row.
#[derive(Debug, serde::Serialize)]
struct Enqueue {
    row: u64,
    /// `queued`, `already queued`, `updated`, `refused`, `invalid`.
    result: &'static str,
    /// The job (not for invalid rows).
    #[serde(skip_serializing_if = "Option::is_none")]
    job: Option<i64>,
    /// The job's state, for `already queued`.
    #[serde(skip_serializing_if = "Option::is_none")]
    state: Option<String>,
    /// Problems by column, or why the store refused the row (no values).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    problems: Vec<String>,
}

/// `trusthub onboard CSV --store URL --store-key FILE`: every valid row enqueued once.
pub async fn enqueue(args: &OnboardArgs, output: Output) -> Result<u8, CliError> {
    let (Some(url), Some(key_path)) = (args.store.as_deref(), args.store_key.as_deref()) else {
        return Err(CliError::usage("--store needs --store-key FILE"));
    };
    let rows = onboard::read_csv(&args.csv)?;
    let defaults = Defaults {
        primary_profile: args.primary_profile,
    };
    let mut results = Vec::new();
    let mut ready: Vec<(u64, CustomerKey, Vec<u8>)> = Vec::new();
    let mut first_row_of: HashMap<CustomerKey, u64> = HashMap::new();
    for (row, mut record) in rows {
        match input::build(&record, &defaults) {
            Ok(customer) => {
                if let Some(first) = first_row_of.get(&customer.key) {
                    results.push(invalid(
                        row,
                        vec![format!(
                            "{}: expected a customer no other row has; found the {} of row \
                             {first} (the same customer twice)",
                            customer.key.field(),
                            customer.key.describe()
                        )],
                    ));
                    continue;
                }
                first_row_of.insert(customer.key.clone(), row);
                // The job holds what the worker needs: the row as a customer file, with the
                // command's default primary profile written in.
                if let Some(primary) = args.primary_profile {
                    record.set_default("primary_profile_sid", primary.as_str());
                }
                let document = record_bytes(&record);
                ready.push((row, customer.key, document));
            }
            Err(problems) => results.push(invalid(
                row,
                problems.iter().map(|p| p.to_string()).collect(),
            )),
        }
    }
    if !args.dry_run && !ready.is_empty() {
        let (key, created) = load_key(key_path, true)?;
        let queue = match connect(url, args.store_ca.as_deref(), key, 2).await {
            Ok(queue) => queue,
            Err(e) => {
                if created {
                    // A key nobody used: another one may be the store's.
                    let _ = std::fs::remove_file(key_path);
                }
                return Err(e);
            }
        };
        if created {
            eprintln!(
                "note: created the store key {} (owner-only): every worker needs this file; keep \
                 it out of the database and its backups",
                key_path.display()
            );
        }
        for (row, customer, document) in ready {
            let result = match queue.enqueue(&customer.text(), &document).await {
                Ok(Enqueued::New(job)) => enqueued(row, "queued", job.0, None),
                Ok(Enqueued::Existing(job, state)) => {
                    enqueued(row, "already queued", job.0, Some(state.to_string()))
                }
                Ok(Enqueued::Updated(job)) => enqueued(row, "updated", job.0, None),
                Err(trusthub_postgres::Error::InputChanged(why)) => Enqueue {
                    row,
                    result: "refused",
                    job: None,
                    state: None,
                    problems: vec![why],
                },
                Err(e) => {
                    return Err(CliError::failed(format!(
                        "the job store: row {row}: {e} (rows before it were enqueued; run the \
                         same command again: nothing is enqueued twice)"
                    )))
                }
            };
            results.push(result);
        }
    } else {
        for (row, _, _) in ready {
            results.push(Enqueue {
                row,
                result: "valid",
                job: None,
                state: None,
                problems: Vec::new(),
            });
        }
    }
    results.sort_by_key(|r| r.row);
    let count = |word: &str| results.iter().filter(|r| r.result == word).count();
    if output.is_json() {
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({ "rows": results }))
                .expect("serializes")
        );
    } else if output.is_delimited() {
        let rows: Vec<Vec<String>> = results
            .iter()
            .map(|r| {
                vec![
                    r.row.to_string(),
                    r.result.to_owned(),
                    r.job.map(|j| j.to_string()).unwrap_or_default(),
                    r.state.clone().unwrap_or_default(),
                    r.problems.join(crate::report::FAILURE_SEPARATOR),
                ]
            })
            .collect();
        print!("{}", output.render(&ENQUEUE_COLUMNS, &rows));
    } else {
        for r in &results {
            let job = r.job.map(|j| format!(" (job {j})")).unwrap_or_default();
            let state = r
                .state
                .as_deref()
                .map(|s| format!(", {s}"))
                .unwrap_or_default();
            println!("row {}: {}{job}{state}", r.row, r.result);
            for p in &r.problems {
                println!("    {p}");
            }
        }
        println!(
            "{} rows: {} queued, {} already queued, {} updated, {} refused, {} invalid{}",
            results.len(),
            count("queued"),
            count("already queued"),
            count("updated"),
            count("refused"),
            count("invalid"),
            if args.dry_run {
                " (dry run: nothing was enqueued)"
            } else {
                ""
            }
        );
    }
    Ok(if count("invalid") + count("refused") > 0 {
        EXIT_FAILED
    } else {
        EXIT_OK
    })
}

/// `onboard --store`'s columns with `-o csv|tsv`: `result` is `queued`, `already queued`,
/// `updated`, `refused`, `invalid` or (`--dry-run`) `valid`; `problems` joined with ` | `.
pub const ENQUEUE_COLUMNS: [Column; 5] = [
    column("ROW", "row"),
    column("RESULT", "result"),
    column("JOB", "job"),
    column("STATE", "state"),
    column("PROBLEMS", "problems"),
];

/// `worker`'s columns with `-o csv|tsv`, one row per job as it ends (the header first).
pub const WORKER_COLUMNS: [Column; 7] = [
    column("JOB", "job"),
    column("CUSTOMER", "customer"),
    column("RESULT", "result"),
    column("OUTCOME", "outcome"),
    column("BUNDLE", "bundle_sid"),
    column("REASON", "reason"),
    column("TAKEN OVER FROM", "took_over_from"),
];

/// `status --state`'s columns with `-o csv|tsv`.
pub const JOB_COLUMNS: [Column; 9] = [
    column("JOB", "job"),
    column("CUSTOMER", "customer"),
    column("STATE", "state"),
    column("LEASES", "attempts"),
    column("RETRIES", "retries"),
    column("HELD BY", "lease_owner"),
    column("LEASE EXPIRES", "lease_expires"),
    column("WAKES AT", "wake_at"),
    column("LAST ERROR", "last_error"),
];

/// `status --store`'s columns with `-o csv|tsv`: one row per failed job (the counts by state go
/// to stderr).
pub const FAILED_COLUMNS: [Column; 5] = [
    column("JOB", "job"),
    column("CUSTOMER", "customer"),
    column("ATTEMPTS", "attempts"),
    column("FAILED AT", "failed_at"),
    column("REASON", "reason"),
];

fn invalid(row: u64, problems: Vec<String>) -> Enqueue {
    Enqueue {
        row,
        result: "invalid",
        job: None,
        state: None,
        problems,
    }
}

fn enqueued(row: u64, result: &'static str, job: i64, state: Option<String>) -> Enqueue {
    Enqueue {
        row,
        result,
        job: Some(job),
        state,
        problems: Vec::new(),
    }
}

/// A record as the job's input: the customer file's JSON.
fn record_bytes(record: &Record) -> Vec<u8> {
    serde_json::to_vec(&record.to_document()).expect("JSON serializes")
}

/// This worker's id: host, process id and a random part (never personal data).
fn worker_id() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| {
            h.trim()
                .chars()
                .filter(|c| c.is_ascii_alphanumeric() || "-._".contains(*c))
                .take(64)
                .collect::<String>()
        })
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "host".to_owned());
    format!("{host}:{}:{:08x}", std::process::id(), fastrand::u32(..))
}

/// How one job ended, as the worker prints it.
#[derive(Debug, serde::Serialize)]
struct JobLine {
    job: i64,
    /// The customer key's digest.
    customer: String,
    /// `done`, `parked`, `retry`, `failed`, `released`, `lost`.
    result: &'static str,
    /// The row's outcome (`compliant`, `waiting`, ...), when its flow ran.
    #[serde(skip_serializing_if = "Option::is_none")]
    outcome: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    bundle_sid: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
    /// The worker whose expired lease this one took over (a crashed or stalled worker).
    #[serde(skip_serializing_if = "Option::is_none")]
    took_over_from: Option<String>,
}

/// What every job task of a worker shares.
struct Shared {
    queue: PgQueue,
    client: trusthub::Client,
    limiter: Limiter,
    stop: Arc<AtomicBool>,
    defaults: Defaults,
    preflights: tokio::sync::Mutex<HashMap<(PolicySid, CustomerProfileSid), Arc<Preflight>>>,
    args: WorkerSettings,
}

#[derive(Clone, Copy)]
struct WorkerSettings {
    lease: Duration,
    park: Duration,
    retry_after: Duration,
    max_retries: u32,
    submit: bool,
    waits: Waits,
}

/// The ending of a job, decided from its row's report.
enum End {
    Done,
    Park(Duration),
    Retry(Duration, String),
    Failed(String),
    Release,
    /// The lease is over: nothing to do (another worker holds the job, or will).
    Lost(String),
}

/// `trusthub worker`.
pub async fn worker(ctx: &Context, args: &WorkerArgs) -> Result<u8, CliError> {
    let (key, _) = load_key(&args.store_key, false)?;
    let concurrency = usize::from(args.concurrency);
    // Saves of the flows in flight and the worker's own calls side by side.
    let queue = connect(
        &args.store,
        args.store_ca.as_deref(),
        key,
        concurrency.min(16) + 2,
    )
    .await?;
    let worker = worker_id();
    let limiter = match args.account_limit {
        None => Limiter::new(concurrency),
        Some(limit) => {
            // Joins, lets workers started with it join too, then reads its share: workers
            // started together do not each take the whole budget until their next heartbeat.
            let share = async {
                queue.budget_share(&worker, limit, BUDGET_TTL).await?;
                tokio::time::sleep(BUDGET_SETTLE).await;
                queue.budget_share(&worker, limit, BUDGET_TTL).await
            }
            .await
            .map_err(|e| CliError::failed(format!("the job store: {e}")))?;
            let share = share as usize;
            eprintln!(
                "worker {worker}: a share of {share} of the account's {limit} requests in flight"
            );
            Limiter::adaptive(1, share, share)
        }
    };
    // Keeps this worker's share current as workers come and go (the heartbeat).
    let budget = args.account_limit.map(|limit| {
        let (queue, worker, limiter) = (queue.clone(), worker.clone(), limiter.clone());
        tokio::spawn(async move {
            let mut last = limiter.current().max;
            loop {
                tokio::time::sleep(BUDGET_EVERY).await;
                match queue.budget_share(&worker, limit, BUDGET_TTL).await {
                    Ok(share) => {
                        let share = share as usize;
                        if share != last {
                            tracing::debug!(share, "worker's share of the account's budget");
                            last = share;
                        }
                        limiter.set_share(share);
                    }
                    Err(e) => eprintln!(
                        "worker {worker}: cannot refresh its share of the account's budget: {e}"
                    ),
                }
            }
        })
    });
    let code = work(ctx, args, &queue, &worker, limiter).await;
    if let Some(task) = budget {
        task.abort();
        if let Err(e) = queue.leave_budget(&worker).await {
            eprintln!(
                "worker {worker}: could not leave the account's budget ({e}); its share goes \
                 to the others within {} s",
                BUDGET_TTL.as_secs()
            );
        }
    }
    code
}

/// How often a worker with `--account-limit` refreshes its share, and how long a worker that
/// stopped heart-beating keeps one.
const BUDGET_EVERY: Duration = Duration::from_millis(500);
const BUDGET_TTL: Duration = Duration::from_secs(2);
/// How long a worker with `--account-limit` waits between joining the budget and reading its
/// first share.
const BUDGET_SETTLE: Duration = Duration::from_millis(500);

/// The shortest wait of an idle worker (a job ready now but locked by another worker's lease).
const MIN_IDLE: Duration = Duration::from_millis(50);

/// Returns when the store changed (never without a listener).
async fn changed(wakeups: Option<&trusthub_postgres::Wakeups>) {
    match wakeups {
        Some(wakeups) => wakeups.changed().await,
        None => std::future::pending().await,
    }
}

/// How many jobs a worker holds at once: `--concurrency`, and with a share of the account's
/// budget at most half as many again as the share. A job waits now and then on a save or a poll,
/// so a few more jobs than requests keep the share busy; many more only queue for the same
/// requests, making every job slower (the last ones of a batch end later) and holding leases a
/// crash would strand.
fn job_room(concurrency: usize, share: Option<usize>) -> usize {
    match share {
        Some(share) => concurrency.min((share * 3).div_ceil(2)).max(1),
        None => concurrency,
    }
}

/// The worker's loop: leases and runs jobs until a signal or, with `--exit-when-empty`, none is
/// left.
async fn work(
    ctx: &Context,
    args: &WorkerArgs,
    queue: &PgQueue,
    worker: &str,
    limiter: Limiter,
) -> Result<u8, CliError> {
    let concurrency = usize::from(args.concurrency);
    let worker = worker.to_owned();
    let shared = Arc::new(Shared {
        queue: queue.clone(),
        client: ctx.client.clone(),
        limiter,
        stop: Arc::new(AtomicBool::new(false)),
        defaults: Defaults {
            primary_profile: ctx.default_primary_profile(None),
        },
        preflights: Default::default(),
        args: WorkerSettings {
            lease: args.lease,
            park: args.park,
            retry_after: args.retry_after,
            max_retries: args.max_retries,
            submit: args.submit,
            waits: Waits {
                brand: args.brand_wait,
                campaign: args.campaign_wait,
                poll: args.poll,
            },
        },
    });
    eprintln!(
        "worker {worker}: up to {concurrency} jobs at once, leases of {} s",
        args.lease.as_secs_f64()
    );
    if ctx.output.is_delimited() && ctx.output.header {
        // Rows follow as jobs end.
        let header = Output {
            header: true,
            ..ctx.output
        };
        print!("{}", header.render(&WORKER_COLUMNS, &[]));
    }
    let mut interrupts = crate::interrupt::watch().await;
    // Woken when a job is enqueued, released or finished, instead of at the next poll.
    let wakeups = match queue.wakeups().await {
        Ok(wakeups) => Some(wakeups),
        Err(e) => {
            eprintln!(
                "worker {worker}: cannot listen for the store's changes ({e}); looking for jobs \
                 every {} s instead",
                args.poll.as_secs_f64()
            );
            None
        }
    };
    let mut tasks: JoinSet<()> = JoinSet::new();
    // The row store of each job in flight: a signal stops at once those only waiting for a
    // review.
    let running: Arc<std::sync::Mutex<HashMap<i64, (RowStore, bool)>>> = Default::default();
    let mut handles: HashMap<i64, tokio::task::AbortHandle> = HashMap::new();
    let mut stopping = false;
    let mut idle_until: Option<tokio::time::Instant> = None;
    let mut code = EXIT_OK;
    loop {
        // Lease while there is room and something is ready.
        let room = job_room(
            concurrency,
            args.account_limit.map(|_| shared.limiter.current().max),
        );
        while !stopping && tasks.len() < room && idle_until.is_none() {
            match queue.lease(&worker, args.lease).await {
                Ok(Some(lease)) => {
                    let job = lease.job().0;
                    let span = tracing::debug_span!("job", job);
                    let handle = tasks.spawn(
                        run_job(shared.clone(), lease, running.clone(), ctx.output)
                            .instrument(span),
                    );
                    handles.insert(job, handle);
                }
                Ok(None) => {
                    if args.exit_when_empty && tasks.is_empty() {
                        match queue.counts().await {
                            Ok(c) if c.queued == 0 && c.running == 0 => {
                                eprintln!(
                                    "worker {worker}: no job queued or running{}; exiting",
                                    if c.parked > 0 {
                                        format!(" ({} parked for a review)", c.parked)
                                    } else {
                                        String::new()
                                    }
                                );
                                return Ok(EXIT_OK);
                            }
                            Ok(_) => {}
                            Err(e) => eprintln!("worker {worker}: the job store: {e}"),
                        }
                    }
                    // Until the next lease expiry or wake-up, a change, or the poll.
                    let wait = match queue.next_ready().await {
                        Ok(Some(next)) => next.clamp(MIN_IDLE, args.poll.max(MIN_IDLE)),
                        Ok(None) | Err(_) => args.poll,
                    };
                    idle_until = Some(tokio::time::Instant::now() + wait);
                }
                Err(trusthub_postgres::Error::Damaged(why)) => {
                    eprintln!("worker {worker}: {why}");
                }
                Err(e) => {
                    eprintln!(
                        "worker {worker}: cannot lease a job: {e}; trying again in {} s",
                        args.poll.as_secs_f64()
                    );
                    idle_until = Some(tokio::time::Instant::now() + args.poll);
                }
            }
        }
        if stopping && tasks.is_empty() {
            break;
        }
        let idle = async {
            match idle_until {
                Some(at) => tokio::time::sleep_until(at).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            joined = tasks.join_next_with_id(), if !tasks.is_empty() => {
                if let Some(joined) = joined {
                    let id = match &joined {
                        Ok((id, ())) => *id,
                        Err(e) => e.id(),
                    };
                    handles.retain(|_, h| h.id() != id);
                    if let Err(e) = joined
                        && e.is_panic()
                    {
                        eprintln!("worker {worker}: internal error: a job's task panicked");
                        code = EXIT_FAILED;
                    }
                }
                // Room again: lease at once.
                idle_until = None;
            }
            _ = idle => { idle_until = None; }
            () = changed(wakeups.as_ref()) => { idle_until = None; }
            Some(signal) = interrupts.recv() => {
                if !stopping {
                    stopping = true;
                    shared.stop.store(true, Ordering::SeqCst);
                    // Jobs only waiting for a review (nothing in flight but fetches) stop now.
                    let mut waiting = 0;
                    for (job, (store, a2p)) in running.lock().expect("not poisoned").iter() {
                        if *a2p && store.latest().is_some_and(|j| awaiting_review(&j))
                            && let Some(handle) = handles.get(job)
                        {
                            handle.abort();
                            waiting += 1;
                        }
                    }
                    eprintln!(
                        "worker {worker}: {signal}: stopping: no new jobs; the {} jobs in flight \
                         stop after their next saved step and are released{} ({signal} again to \
                         stop at once)",
                        tasks.len(),
                        if waiting > 0 {
                            format!(" ({waiting} only waiting for a review stop now)")
                        } else {
                            String::new()
                        }
                    );
                } else {
                    eprintln!("worker {worker}: {signal}: stopping now");
                    tasks.abort_all();
                    while tasks.join_next().await.is_some() {}
                    break;
                }
            }
        }
    }
    // Whatever is still leased to this worker (jobs aborted mid-flight) is queued again at once.
    match queue.release_all(&worker).await {
        Ok(0) => {}
        Ok(n) => eprintln!("worker {worker}: released {n} jobs"),
        Err(e) => eprintln!(
            "worker {worker}: could not release its jobs ({e}); they go to other workers when \
             their leases expire"
        ),
    }
    if stopping {
        eprintln!("worker {worker}: stopped");
        return Ok(EXIT_INTERRUPTED);
    }
    Ok(code)
}

/// Runs one leased job to its end (see the module's docs), and prints it.
async fn run_job(
    shared: Arc<Shared>,
    mut lease: Leased,
    running: Arc<std::sync::Mutex<HashMap<i64, (RowStore, bool)>>>,
    output: Output,
) {
    let job = lease.job().0;
    let customer_digest = lease.customer().to_owned();
    let mut line = JobLine {
        job,
        customer: customer_digest.clone(),
        result: "failed",
        outcome: None,
        bundle_sid: None,
        reason: None,
        took_over_from: lease.took_over_from().map(str::to_owned),
    };
    let end = decide(&shared, &mut lease, &running, &mut line).await;
    running.lock().expect("not poisoned").remove(&job);
    let queue = &shared.queue;
    let ended = match end {
        End::Done => {
            line.result = "done";
            queue.finish(&lease, trusthub_postgres::Outcome::Done).await
        }
        End::Park(wake_in) => {
            line.result = "parked";
            queue.park(&lease, wake_in).await
        }
        End::Retry(_, reason) if lease.retries() + 1 >= shared.args.max_retries => {
            let tries = lease.retries() + 1;
            let reason = format!(
                "gave up after {tries} tries in a row (--max-retries {}): {reason}",
                shared.args.max_retries
            );
            line.result = "failed";
            let ended = queue
                .finish(&lease, trusthub_postgres::Outcome::Failed(reason.clone()))
                .await;
            line.reason = Some(reason);
            ended
        }
        End::Retry(wake_in, reason) => {
            line.result = "retry";
            let parked = queue.retry(&lease, wake_in, &reason).await;
            line.reason = Some(reason);
            parked
        }
        End::Failed(reason) => {
            line.result = "failed";
            let ended = queue
                .finish(&lease, trusthub_postgres::Outcome::Failed(reason.clone()))
                .await;
            line.reason = Some(reason);
            ended
        }
        End::Release => {
            line.result = "released";
            queue.release(&lease).await
        }
        End::Lost(why) => {
            line.result = "lost";
            line.reason = Some(why);
            Ok(())
        }
    };
    if let Err(e) = ended {
        line.reason = Some(match line.reason.take() {
            Some(reason) => format!("{reason}; then: {e}"),
            None => e.to_string(),
        });
        line.result = if e.is_lease_lost() { "lost" } else { "unended" };
    }
    if output.is_json() {
        println!("{}", serde_json::to_string(&line).expect("serializes"));
    } else if output.is_delimited() {
        let row = vec![
            line.job.to_string(),
            line.customer.clone(),
            line.result.to_owned(),
            line.outcome.unwrap_or_default().to_owned(),
            line.bundle_sid.clone().unwrap_or_default(),
            line.reason.clone().unwrap_or_default(),
            line.took_over_from.clone().unwrap_or_default(),
        ];
        let body = Output {
            header: false,
            ..output
        };
        print!("{}", body.render(&WORKER_COLUMNS, &[row]));
    } else {
        println!(
            "job {job} (customer {}{}): {}{}{}{}",
            line.customer,
            line.took_over_from
                .as_deref()
                .map(|w| format!(", taken over from worker {w}"))
                .unwrap_or_default(),
            line.result,
            line.outcome.map(|o| format!(", {o}")).unwrap_or_default(),
            line.bundle_sid
                .as_deref()
                .map(|b| format!(" ({b})"))
                .unwrap_or_default(),
            line.reason
                .as_deref()
                .map(|r| format!(": {r}"))
                .unwrap_or_default()
        );
    }
}

/// Rebuilds the job's customer, checks it, runs its flow under the renewed lease and decides how
/// the job ends.
async fn decide(
    shared: &Arc<Shared>,
    lease: &mut Leased,
    running: &Arc<std::sync::Mutex<HashMap<i64, (RowStore, bool)>>>,
    line: &mut JobLine,
) -> End {
    let settings = shared.args;
    let document: serde_json::Value = match serde_json::from_slice(lease.input().as_bytes()) {
        Ok(document) => document,
        Err(_) => {
            return End::Failed(
                "its stored input is not a customer file's JSON (enqueue it with `trusthub \
                 onboard CSV --store`)"
                    .into(),
            )
        }
    };
    let record = Record::from_document(&document);
    let customer = match input::build(&record, &shared.defaults) {
        Ok(customer) => customer,
        Err(problems) => {
            line.outcome = Some(Outcome::Invalid.as_str());
            let problems: Vec<String> = problems.iter().map(|p| p.to_string()).collect();
            return End::Failed(format!("invalid: {}", problems.join(" | ")));
        }
    };
    let (policy, primary) = (
        customer.profile.policy(),
        customer.profile.primary_profile(),
    );
    let preflight = {
        let mut cache = shared.preflights.lock().await;
        match cache.get(&(policy, primary)) {
            Some(p) => p.clone(),
            None => {
                match Preflight::check_limited(&shared.client, policy, primary, &shared.limiter)
                    .await
                {
                    Ok(p) => {
                        let p = Arc::new(p);
                        cache.insert((policy, primary), p.clone());
                        p
                    }
                    Err(e @ FlowError::PrimaryProfile { .. }) => {
                        line.outcome = Some(Outcome::Invalid.as_str());
                        return End::Failed(format!("invalid: {e}"));
                    }
                    Err(e) => {
                        return End::Retry(
                            settings.retry_after,
                            format!(
                                "cannot check policy {policy} and primary profile {primary}: {e}"
                            ),
                        )
                    }
                }
            }
        }
    };
    let mismatches = customer.profile.check_policy(preflight.policy());
    if !mismatches.is_empty() {
        line.outcome = Some(Outcome::Invalid.as_str());
        let lines: Vec<String> = mismatches
            .iter()
            .map(|p| format!("policy {policy} requires {p}"))
            .collect();
        return End::Failed(format!("invalid: {}", lines.join(" | ")));
    }
    let goal = onboard::goal(&customer, settings.submit);
    let journal = lease.take_journal();
    // Finished before its lease ended (a worker died between its last save and `finish`).
    if let Some(journal) = &journal
        && finished(journal, goal)
    {
        if let Err(e) = onboard::reconcile(&customer, journal.clone(), lease.store().digest_key()) {
            return End::Failed(format!("this customer was onboarded from other input: {e}"));
        }
        line.outcome = Some(if journal.compliant == Some(false) && !goal.journey {
            Outcome::Noncompliant.as_str()
        } else {
            "finished earlier"
        });
        line.bundle_sid = journal.bundle.map(|b| b.to_string());
        return if journal.compliant == Some(false) && !goal.journey && !goal.voice() {
            End::Failed("noncompliant (evaluated by an earlier lease)".into())
        } else {
            End::Done
        };
    }
    let store = RowStore::leased(lease.store(), goal, shared.stop.clone(), journal.clone());
    let a2p = customer.journey.is_some();
    running
        .lock()
        .expect("not poisoned")
        .insert(lease.job().0, (store.clone(), a2p));
    let job = Job {
        row: lease.job().0.max(0) as u64,
        key: lease.customer().to_owned(),
        customer,
        journal,
        preflight: preflight.clone(),
        work: Work::Onboard,
    };
    let options = FlowOptions {
        limiter: shared.limiter.clone(),
        preflight: Some(preflight),
        ..FlowOptions::default()
    };
    let flow = onboard::run_row(
        shared.client.clone(),
        job,
        store.clone(),
        options,
        settings.submit,
        settings.waits,
    );
    tokio::pin!(flow);
    let every = settings.lease / 3;
    let mut renew = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    let report: RowReport = loop {
        tokio::select! {
            report = &mut flow => break report,
            _ = renew.tick() => {
                if let Err(e) = shared.queue.renew(lease, settings.lease).await {
                    if e.is_lease_lost() {
                        // Dropping the flow stops it: whatever it was sending had its intent
                        // saved; the new holder looks it up.
                        return End::Lost(e.to_string());
                    }
                    tracing::warn!(job = lease.job().0, "renewing the lease failed: {e}");
                }
            }
        }
    };
    line.outcome = Some(report.result.as_str());
    line.bundle_sid = report.bundle_sid.map(|b| b.to_string());
    if store.lease_lost() {
        return End::Lost(
            "a journal save was refused: the lease is over; the worker holding the job now \
             resumes it"
                .into(),
        );
    }
    end_of(&report, settings)
}

/// How a job ends, from its row's report.
fn end_of(report: &RowReport, settings: WorkerSettings) -> End {
    let reason = || {
        let failures = report.failures.join(" | ");
        if failures.is_empty() {
            report.result.as_str().to_owned()
        } else {
            format!("{}: {failures}", report.result.as_str())
        }
    };
    match report.result {
        Outcome::Compliant | Outcome::Registered | Outcome::Approved => End::Done,
        Outcome::Waiting => End::Park(settings.park),
        Outcome::Pending => match report.run {
            // Stopped by the signal at a saved step.
            Run::Interrupted => End::Release,
            // A save failed (the database unreachable): another worker, or this one, goes on.
            _ => End::Retry(settings.retry_after, reason()),
        },
        Outcome::Error if report.retryable => End::Retry(settings.retry_after, reason()),
        Outcome::Noncompliant
        | Outcome::Invalid
        | Outcome::Error
        | Outcome::Rejected
        | Outcome::Resubmitted
        | Outcome::Unchanged => End::Failed(reason()),
    }
}

/// `trusthub requeue`: every failed job queued again (journal kept, counters cleared).
pub async fn requeue(args: &RequeueArgs) -> Result<u8, CliError> {
    let (key, _) = load_key(&args.store_key, false)?;
    let queue = connect(&args.store, args.store_ca.as_deref(), key, 1).await?;
    let n = queue
        .requeue_failed()
        .await
        .map_err(|e| CliError::failed(format!("the job store: {e}")))?;
    println!(
        "{n} failed jobs queued again (their journals kept: a worker resumes each, creating \
         nothing twice)"
    );
    Ok(EXIT_OK)
}

/// `status --state`: the jobs of those states, in the output format.
async fn list_jobs(queue: &PgQueue, args: &StatusArgs, output: Output) -> Result<u8, CliError> {
    use trusthub_postgres::JobState;
    let states: Vec<JobState> = if args.state.contains(&StateArg::All) {
        Vec::new()
    } else {
        args.state
            .iter()
            .map(|s| match s {
                StateArg::Queued => JobState::Queued,
                StateArg::Running => JobState::Running,
                StateArg::Parked => JobState::Parked,
                StateArg::Done => JobState::Done,
                StateArg::Failed | StateArg::All => JobState::Failed,
            })
            .collect()
    };
    let jobs = queue
        .jobs(&states, args.limit)
        .await
        .map_err(|e| CliError::failed(format!("the job store: {e}")))?;
    let time = |t: Option<time::OffsetDateTime>| {
        t.and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
    };
    if output.is_json() {
        let jobs: Vec<serde_json::Value> = jobs
            .iter()
            .map(|j| {
                serde_json::json!({
                    "job": j.job.0,
                    "customer": j.customer,
                    "state": j.state.as_str(),
                    "attempts": j.attempts,
                    "retries": j.retries,
                    "lease_owner": j.lease_owner,
                    "lease_expires": time(j.lease_expires),
                    "wake_at": time(j.wake_at),
                    "last_error": j.last_error,
                })
            })
            .collect();
        println!(
            "{}",
            serde_json::to_string_pretty(&jobs).expect("serializes")
        );
    } else {
        let rows: Vec<Vec<String>> = jobs
            .iter()
            .map(|j| {
                vec![
                    j.job.0.to_string(),
                    j.customer.clone(),
                    j.state.as_str().to_owned(),
                    j.attempts.to_string(),
                    j.retries.to_string(),
                    j.lease_owner.clone().unwrap_or_default(),
                    time(j.lease_expires).unwrap_or_default(),
                    time(j.wake_at).unwrap_or_default(),
                    j.last_error.clone().unwrap_or_default(),
                ]
            })
            .collect();
        print!("{}", output.render(&JOB_COLUMNS, &rows));
    }
    Ok(EXIT_OK)
}

/// `trusthub status --store`: the jobs counted by state, and the failed ones with their reasons.
pub async fn status(args: &StatusArgs, output: Output) -> Result<u8, CliError> {
    let (key, _) = load_key(&args.store_key, false)?;
    let queue = connect(&args.store, args.store_ca.as_deref(), key, 1).await?;
    let counts = queue
        .counts()
        .await
        .map_err(|e| CliError::failed(format!("the job store: {e}")))?;
    let failed = queue
        .failed()
        .await
        .map_err(|e| CliError::failed(format!("the job store: {e}")))?;
    let total = counts.queued + counts.running + counts.parked + counts.done + counts.failed;
    if !args.state.is_empty() {
        eprintln!(
            "{total} jobs: {} queued, {} running ({} of them expired), {} parked, {} done, {} \
             failed",
            counts.queued,
            counts.running,
            counts.expired,
            counts.parked,
            counts.done,
            counts.failed
        );
        return list_jobs(&queue, args, output).await;
    }
    let summary = format!(
        "{total} jobs: {} queued, {} running ({} of them expired), {} parked, {} done, {} failed",
        counts.queued, counts.running, counts.expired, counts.parked, counts.done, counts.failed
    );
    if output.is_delimited() {
        eprintln!("{summary}");
        let rows: Vec<Vec<String>> = failed
            .iter()
            .map(|f| {
                vec![
                    f.job.0.to_string(),
                    f.customer.clone(),
                    f.attempts.to_string(),
                    f.failed_at
                        .format(&time::format_description::well_known::Rfc3339)
                        .unwrap_or_default(),
                    f.reason.clone(),
                ]
            })
            .collect();
        print!("{}", output.render(&FAILED_COLUMNS, &rows));
    } else if output.is_json() {
        let failed: Vec<serde_json::Value> = failed
            .iter()
            .map(|f| {
                serde_json::json!({
                    "job": f.job.0,
                    "customer": f.customer,
                    "reason": f.reason,
                    "attempts": f.attempts,
                    "failed_at": f.failed_at
                        .format(&time::format_description::well_known::Rfc3339)
                        .unwrap_or_default(),
                })
            })
            .collect();
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({
                "jobs": total,
                "queued": counts.queued,
                "running": counts.running,
                "expired": counts.expired,
                "parked": counts.parked,
                "done": counts.done,
                "failed": counts.failed,
                "failed_jobs": failed,
            }))
            .expect("serializes")
        );
    } else {
        println!("{summary}");
        for f in &failed {
            println!(
                "job {} (customer {}): failed after {} leases: {}",
                f.job.0, f.customer, f.attempts, f.reason
            );
        }
    }
    Ok(if counts.failed > 0 {
        EXIT_FAILED
    } else {
        EXIT_OK
    })
}

#[cfg(test)]
mod tests {
    use super::job_room;

    #[test]
    fn a_worker_holds_half_as_many_jobs_again_as_its_share() {
        // Without a budget: --concurrency.
        assert_eq!(job_room(20, None), 20);
        // A share of 7: 11 jobs (10.5 rounded up), below --concurrency 20.
        assert_eq!(job_room(20, Some(7)), 11);
        assert_eq!(job_room(20, Some(6)), 9);
        // --concurrency stays the ceiling; a share of 1 still holds 2, never 0.
        assert_eq!(job_room(8, Some(20)), 8);
        assert_eq!(job_room(20, Some(1)), 2);
        assert_eq!(job_room(20, Some(0)), 1);
    }
}
