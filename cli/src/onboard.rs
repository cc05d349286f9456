//! `trusthub onboard`: one Secondary Customer Profile flow per CSV row, or, for a row with A2P
//! columns, the A2P 10DLC journey ([`Journey`]: the profile, submitted, then the A2P trust
//! product, the brand, the Messaging Service and the campaign), and for a row with voice
//! columns, the voice trust products ([`VoiceProducts`]: SHAKEN/STIR and CNAM, after the
//! profile, submitted; a row with both runs the journey, then the voice products, on the same
//! journal).
//!
//! 1. Every row is read and validated; a row with problems is reported (every problem) and
//!    skipped, the others go on. Rows are identified by their customer key (the `customer_key`
//!    column, or the business registration): two rows with one key are refused as the same
//!    customer twice, and rows keep their journal when the CSV is edited (rows inserted, moved,
//!    removed). The report's destination is checked before anything is sent.
//! 2. Each policy and primary profile the valid rows use is checked once
//!    ([`Preflight`]): a primary profile that cannot carry secondary profiles, or a row the
//!    policy refuses, creates nothing. `--dry-run` stops here.
//! 3. Customers the journal shows finished are reported, not redone (their input, changed since,
//!    is refused naming the changed parts); customers it shows started are resumed
//!    ([`SecondaryProfile::resume`](trusthub::flow::SecondaryProfile::resume)); the others
//!    start. At most `--concurrency` rows run at once, and all of them share one [`Limiter`] of
//!    `--concurrency` requests in flight.
//! 4. Before every create its intent, and after every step its result, is appended to the batch
//!    journal (see [`crate::batch_journal`]), which one process holds at a time. When a write
//!    fails (a full disk), no new row starts and the running ones stop at their next save; no
//!    create is sent whose intent could not be saved.
//! 5. Ctrl-C, SIGTERM and SIGHUP stop starting rows and make each running flow stop right after
//!    its next saved step: the journal then knows every resource the row created, and running
//!    the same command again resumes it without creating anything twice. A second signal stops
//!    at once (the journal's intents still cover what was in flight).
//!    A row that is only waiting for a review (its brand exists, no create in flight) stops at
//!    once on the first signal: it only fetches.
//! 6. The brand's vetting and the campaign's review take minutes to weeks. An A2P row follows
//!    them for `--brand-wait` / `--campaign-wait` (default: one look) and then ends `waiting`
//!    (its journal holds the brand or campaign); `--refresh` runs only such rows, which fetch
//!    their brand and campaign and go on to create the campaign once the brand is approved.
//!    Brands and campaigns are never created twice (the journal's intents, and one brand per
//!    A2P trust product, one campaign per service).
//!    `--refresh` also brings every row's submitted resources up to date
//!    ([`trusthub::watch::refresh`]: the profile, the trust products, the brand, the campaign),
//!    prints what changed and reports the current statuses.
//! 7. `--fix` runs [`Client::fix_profile`] for the rows whose profile Twilio rejected, with the
//!    row as corrected: the journal's digests say which parts changed, and only their resources
//!    are updated before the profile is evaluated and submitted again. Rows whose profile is not
//!    rejected are reported `unchanged`; a rejected row that did not change is not resubmitted
//!    (unless `--resubmit-unchanged`); nothing else starts.
//! 8. The report (CSV and JSON) lists every row; the exit code is 0 when every row is compliant
//!    (A2P rows: registered; `--refresh`: approved; `--fix`: resubmitted or unchanged), 1 when
//!    some row is invalid, failed, not compliant or rejected (or, with `--refresh` / `--fix`,
//!    unfinished), 3 when none failed but some wait for a review, 130 when interrupted.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use tokio::task::JoinSet;
use tracing::Instrument;
use trusthub::api::runtime::text::printable;
use trusthub::api::trusthub_v1::{
    BundleError, CustomerProfileEvaluationStatus, CustomerProfileStatus,
};
use trusthub::evaluation::Evaluation;
use trusthub::flow::a2p::Journey;
use trusthub::flow::voice::VoiceProducts;
use trusthub::flow::{
    DigestKey, FlowOptions, Journal, JournalStore, Limiter, Preflight, TrustProductKind,
    INPUT_PARTS,
};
use trusthub::sid::{CustomerProfileSid, EvaluationSid, ObjectSid, PolicySid, TrustProductSid};
use trusthub::watch;
use trusthub::{Client, FlowError};

use crate::batch_journal::{awaiting_review, finished, is_stopping, BatchJournal, Goal, RowStore};
use crate::context::{CliError, Context};
use crate::input::{self, Customer, CustomerKey, Defaults, Record};
use crate::output::{column, Column, Output};
use crate::report::{
    self, evaluation_failures, trust_product_name, Change, Outcome, Report, RowReport, Run,
    Summary, TWILIO_APPROVED, TWILIO_REJECTED, UPDATED_SEPARATOR,
};
use crate::{EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, EXIT_WAITING};

/// `trusthub onboard`.
#[derive(Debug, clap::Args)]
pub struct OnboardArgs {
    /// The customers: CSV with a header row of keys (`trusthub schema`), one customer per row.
    pub csv: PathBuf,
    /// The batch journal (created if missing, with its `.key` and `.lock` files beside it). Run
    /// the same command again to resume.
    #[arg(
        long,
        value_name = "FILE",
        required_unless_present = "store",
        conflicts_with = "store"
    )]
    pub journal: Option<PathBuf>,
    /// Enqueue every valid row as a job of this PostgreSQL job store instead of running it
    /// (`trusthub worker` runs the jobs): `postgresql://user@host/db` or `host=... dbname=...`.
    /// No credentials are needed to enqueue; the same row twice is one job.
    #[arg(long, value_name = "URL", requires = "store_key",
          conflicts_with_all = ["submit", "refresh", "fix", "report_dir"])]
    pub store: Option<String>,
    /// The job store's key file (created, owner-only, when missing); every worker needs the
    /// same file. Keep it out of the database and its backups.
    #[arg(long, value_name = "FILE", requires = "store")]
    pub store_key: Option<PathBuf>,
    /// A PEM file of the CA certificate(s) that signed the job store's TLS certificate,
    /// trusted instead of Mozilla's roots (see `worker --help`).
    #[arg(long, value_name = "FILE", requires = "store")]
    pub store_ca: Option<PathBuf>,
    /// Rows in flight at once, and requests in flight across all of them.
    #[arg(long, default_value_t = 8, value_name = "N",
          value_parser = clap::value_parser!(u16).range(1..=512))]
    pub concurrency: u16,
    /// Submit each compliant profile for review (step 10). A2P rows always submit theirs: a
    /// brand needs it.
    #[arg(long)]
    pub submit: bool,
    /// Check every row (its input, the policy and the primary profile, as a run does before it
    /// creates anything) and the journal, report every row valid or invalid in the chosen
    /// output format (-o), and create nothing. Exit 0 when every row is valid, 1 otherwise.
    #[arg(long, conflicts_with = "submit")]
    pub dry_run: bool,
    /// Refresh the statuses: fetch what every row submitted and Twilio has not decided yet (the
    /// profile, the trust products, the brand, the campaign), print what changed and report the
    /// current statuses; the A2P rows waiting for a review go on (their campaign is created once
    /// their brand is approved). Nothing else starts or resumes. Exit 0 when everything is
    /// approved, 1 when something was rejected (or a row is unfinished), 3 when something is
    /// still under review.
    #[arg(long, conflicts_with = "dry_run")]
    pub refresh: bool,
    /// Fix the rows whose profile Twilio rejected, from this (corrected) CSV: update only what
    /// changed since the profile was submitted (an end user, the address, the profile's name,
    /// email or callback), evaluate it again and submit it again. Rows whose profile is not
    /// rejected are reported `unchanged` and not touched; nothing else starts.
    #[arg(long, conflicts_with_all = ["dry_run", "refresh", "submit"])]
    pub fix: bool,
    /// With --fix: also resubmit rejected rows whose input did not change (after a fix made
    /// elsewhere, such as a document replaced in the Console, or to finish a fix interrupted
    /// after its evaluation).
    #[arg(long, requires = "fix")]
    pub resubmit_unchanged: bool,
    /// A2P rows: follow the brand's vetting for up to SECS (fractions allowed) before the row
    /// ends `waiting` (0: one look). A waiting row holds its place among the rows in flight.
    #[arg(long, value_name = "SECS", default_value = "0", value_parser = seconds)]
    pub brand_wait: Duration,
    /// A2P rows: follow the campaign's review for up to SECS before the row ends `waiting`
    /// (0: one look).
    #[arg(long, value_name = "SECS", default_value = "0", value_parser = seconds)]
    pub campaign_wait: Duration,
    /// A2P rows: how often a review is looked at while waiting, in seconds.
    #[arg(long, value_name = "SECS", default_value = "5", value_parser = seconds)]
    pub poll: Duration,
    /// Where to write the report (default: beside the journal).
    #[arg(long, value_name = "DIR")]
    pub report_dir: Option<PathBuf>,
    /// The ISV's primary customer profile, for rows without primary_profile_sid.
    #[arg(long, value_name = "BU...")]
    pub primary_profile: Option<CustomerProfileSid>,
}

/// A duration in seconds, fractions allowed (`0`, `2.5`, `600`).
pub fn seconds(text: &str) -> Result<Duration, String> {
    let value: f64 = text
        .trim()
        .parse()
        .map_err(|_| "expected a number of seconds, e.g. 0, 2.5 or 600".to_owned())?;
    Duration::try_from_secs_f64(value)
        .map_err(|_| "expected a number of seconds of 0 or more".to_owned())
}

/// How long A2P rows follow their reviews.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Waits {
    pub(crate) brand: Duration,
    pub(crate) campaign: Duration,
    pub(crate) poll: Duration,
}

/// What a row's task does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Work {
    /// Start or resume its flow (the profile, the journey, the voice products).
    Onboard,
    /// `--refresh`: fetch the statuses of what it submitted (and go on with a waiting journey).
    Refresh,
    /// `--fix`: fix its rejected profile and submit it again.
    Fix {
        /// `--resubmit-unchanged`.
        unchanged: bool,
    },
}

/// A row to run.
pub(crate) struct Job {
    pub(crate) row: u64,
    /// The customer key's digest: the row's name in the journal.
    pub(crate) key: String,
    pub(crate) customer: Customer,
    pub(crate) journal: Option<Journal>,
    pub(crate) preflight: Arc<Preflight>,
    pub(crate) work: Work,
}

impl Job {
    fn goal(&self, submit: bool) -> Goal {
        goal(&self.customer, submit)
    }
}

pub(crate) fn goal(customer: &Customer, submit: bool) -> Goal {
    let kinds = customer
        .voice
        .as_ref()
        .map(VoiceProducts::kinds)
        .unwrap_or_default();
    Goal {
        journey: customer.journey.is_some(),
        shaken_stir: kinds.contains(&TrustProductKind::ShakenStir),
        cnam: kinds.contains(&TrustProductKind::Cnam),
        ..Goal::profile(submit)
    }
}

/// The voice part of a customer's goal alone (its journey and profile set aside).
fn voice_goal(customer: &Customer) -> Goal {
    Goal {
        journey: false,
        ..goal(customer, true)
    }
}

/// Checks that `journal` belongs to the customer's input (the profile's, the journey's, the voice
/// products'), as resuming would.
pub(crate) fn reconcile(
    customer: &Customer,
    journal: Journal,
    key: &DigestKey,
) -> Result<Journal, FlowError> {
    let journal = match &customer.journey {
        Some(journey) => journey.reconcile_journal(journal, key)?,
        None => customer.profile.reconcile_journal(journal, key)?,
    };
    match &customer.voice {
        Some(voice) => voice.reconcile_journal(journal, key),
        None => Ok(journal),
    }
}

/// Reads the CSV: checks the header, then one record per row (numbered from 1).
pub(crate) fn read_csv(path: &Path) -> Result<Vec<(u64, Record)>, CliError> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .trim(csv::Trim::All)
        .from_path(path)
        .map_err(|e| {
            CliError::usage(format!("cannot read {}: {}", path.display(), csv_error(&e)))
        })?;
    let header: Vec<String> = reader
        .headers()
        .map_err(|e| CliError::usage(format!("{}: {}", path.display(), csv_error(&e))))?
        .iter()
        .map(str::to_owned)
        .collect();
    input::check_csv_header(&header)
        .map_err(|e| CliError::usage(format!("{}: {e}", path.display())))?;
    let mut rows = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let row = i as u64 + 1;
        let record = record.map_err(|e| {
            CliError::usage(format!("{}: row {row}: {}", path.display(), csv_error(&e)))
        })?;
        rows.push((
            row,
            Record::from_cells(header.iter().map(String::as_str).zip(record.iter())),
        ));
    }
    if rows.is_empty() {
        return Err(CliError::usage(format!(
            "{}: no rows after the header",
            path.display()
        )));
    }
    Ok(rows)
}

/// A CSV error without the record's text.
fn csv_error(e: &csv::Error) -> String {
    match e.kind() {
        csv::ErrorKind::Io(io) => io.to_string(),
        csv::ErrorKind::Utf8 { .. } => "not valid UTF-8".into(),
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => format!("{len} fields where the header has {expected_len}"),
        _ => "unreadable CSV".into(),
    }
}

/// What a row asks for besides its profile: (A2P journey, voice products).
#[derive(Debug, Clone, Copy, Default)]
struct Parts {
    a2p: bool,
    voice: bool,
}

impl Parts {
    fn of(customer: &Customer) -> Parts {
        Parts {
            a2p: customer.journey.is_some(),
            voice: customer.voice.is_some(),
        }
    }

    fn of_record(record: &Record) -> Parts {
        Parts {
            a2p: record.is_a2p(),
            voice: record.is_voice(),
        }
    }

    fn report(self, row: u64, result: Outcome, run: Run) -> RowReport {
        RowReport::new(row, result, run, self.a2p).with_voice(self.voice)
    }
}

fn invalid(row: u64, parts: Parts, failures: Vec<String>) -> RowReport {
    RowReport {
        failures,
        ..parts.report(row, Outcome::Invalid, Run::Skipped)
    }
}

fn pending(row: u64, parts: Parts, journal: Option<&Journal>, run: Run) -> RowReport {
    let mut report = parts.report(row, Outcome::Pending, run);
    if let Some(journal) = journal {
        report.fill_from(journal);
    }
    report
}

/// The failures of a profile's evaluation, fetched.
async fn fetch_evaluation_failures(
    client: &Client,
    bundle: CustomerProfileSid,
    evaluation: EvaluationSid,
) -> Vec<String> {
    match client
        .customer_profiles()
        .evaluations(bundle)
        .fetch(evaluation)
        .send()
        .await
    {
        Ok(answer) => evaluation_failures(&Evaluation::from(answer)),
        Err(e) => vec![format!("cannot fetch evaluation {evaluation}: {e}")],
    }
}

/// A row an earlier run finished: reported from the journal (plus the evaluation's failures
/// and the current statuses of the profile and the voice products, fetched). Nothing is created.
/// An A2P row is finished once registered: its brand and campaign are reported as the journal
/// last saw them.
async fn report_earlier(client: &Client, row: u64, journal: Journal, parts: Parts) -> RowReport {
    let compliant = journal.compliant == Some(true);
    let result = match (parts.a2p, compliant) {
        (true, _) => Outcome::Registered,
        (false, true) => Outcome::Compliant,
        (false, false) => Outcome::Noncompliant,
    };
    let mut report = RowReport {
        evaluation_status: Some(if compliant {
            CustomerProfileEvaluationStatus::Compliant
        } else {
            CustomerProfileEvaluationStatus::Noncompliant
        }),
        ..parts.report(row, result, Run::Earlier)
    };
    report.fill_from(&journal);
    let Some(bundle) = journal.bundle else {
        return report;
    };
    if let (false, Some(evaluation)) = (compliant, journal.evaluation) {
        report.failures = fetch_evaluation_failures(client, bundle, evaluation).await;
    }
    if journal.submitted {
        match client.customer_profiles().fetch(bundle).send().await {
            Ok(profile) => report.submitted_status = profile.status,
            Err(e) => report.failures.push(format!(
                "submitted earlier; its status could not be fetched: {e}"
            )),
        }
    }
    if parts.voice {
        for (kind, sid) in [
            (TrustProductKind::ShakenStir, report.shaken_stir_sid),
            (TrustProductKind::Cnam, report.cnam_sid),
        ] {
            let Some(sid) = sid else { continue };
            match client.trust_products().fetch(sid).send().await {
                Ok(product) => {
                    let status = product.status.map(|s| s.as_str().to_owned());
                    match kind {
                        TrustProductKind::ShakenStir => report.shaken_stir_status = status,
                        _ => report.cnam_status = status,
                    }
                }
                Err(e) => report.failures.push(format!(
                    "{} {sid}: submitted earlier; its status could not be fetched: {e}",
                    trust_product_name(kind)
                )),
            }
        }
    }
    report
}

/// Runs one row's task: its flow (and submission), its A2P journey and / or its voice products,
/// its refresh or its fix, to its report.
pub(crate) async fn run_row(
    client: Client,
    job: Job,
    store: RowStore,
    options: FlowOptions,
    submit: bool,
    waits: Waits,
) -> RowReport {
    match job.work {
        Work::Onboard => {}
        Work::Refresh => return refresh_row(&client, job, store, options, submit, waits).await,
        Work::Fix { unchanged } => return fix_row(&client, job, store, options, unchanged).await,
    }
    let parts = Parts::of(&job.customer);
    let Job {
        row,
        customer,
        journal,
        ..
    } = job;
    let run = if journal.is_some() {
        Run::Resumed
    } else {
        Run::New
    };
    if let Some(journey) = &customer.journey {
        let report = run_journey(
            &client,
            row,
            journey,
            journal,
            store.clone(),
            options.clone(),
            waits,
            run,
        )
        .await
        .with_voice(parts.voice);
        return match &customer.voice {
            // The journey went as far as it goes today (registered, waiting for a review, or
            // rejected): the voice products go on from its journal.
            Some(voice)
                if matches!(
                    report.result,
                    Outcome::Registered | Outcome::Waiting | Outcome::Rejected
                ) =>
            {
                let journal = store.latest();
                run_voice(&client, voice, journal, store, options, report).await
            }
            _ => report,
        };
    }
    if let Some(voice) = &customer.voice {
        let report = parts.report(row, Outcome::Compliant, run);
        return run_voice(&client, voice, journal, store, options, report).await;
    }
    let shared: Arc<dyn JournalStore> = Arc::new(store.clone());
    let result = match journal {
        Some(journal) => {
            client
                .secondary_profile(&customer.profile)
                .journal(shared)
                .resuming(journal)
                .options(options)
                .run()
                .await
        }
        None => {
            client
                .secondary_profile(&customer.profile)
                .journal(shared)
                .options(options)
                .run()
                .await
        }
    };
    let mut report = RowReport::new(row, Outcome::Error, run, false);
    let error = match result {
        Ok(mut flow) => {
            report.bundle_sid = Some(flow.bundle());
            report.evaluation_status = flow.evaluation.status().cloned();
            if !flow.evaluation.is_compliant() {
                report.result = Outcome::Noncompliant;
                report.failures = evaluation_failures(&flow.evaluation);
                return report;
            }
            report.result = Outcome::Compliant;
            if !submit {
                return report;
            }
            match flow.submit(trusthub::Submission::WhenCompliant).await {
                Ok(status) => {
                    report.submitted_status = Some(status);
                    return report;
                }
                Err(e) => e,
            }
        }
        Err(e) => e,
    };
    if report.bundle_sid.is_none() {
        report.bundle_sid = store.latest().and_then(|j| j.bundle);
    }
    journal_error(report, error)
}

/// Runs one row's voice products (after its journey, when it has one: `report` is then the
/// journey's) to its report: the trust products with the status their submission answered, or
/// why they failed (a failure overrides the journey's outcome).
async fn run_voice(
    client: &Client,
    voice: &VoiceProducts,
    journal: Option<Journal>,
    store: RowStore,
    options: FlowOptions,
    mut report: RowReport,
) -> RowReport {
    let shared: Arc<dyn JournalStore> = Arc::new(store.clone());
    let mut flow = client
        .voice_products(voice)
        .journal(shared)
        .options(options);
    if let Some(journal) = journal {
        flow = flow.resuming(journal);
    }
    let error = match flow.run().await {
        Ok(done) => {
            if let Some(evaluation) = &done.profile_evaluation {
                report.evaluation_status = report
                    .evaluation_status
                    .take()
                    .or_else(|| evaluation.status().cloned());
            }
            for product in &done.products {
                let (sid, status) = match product.kind {
                    TrustProductKind::ShakenStir => {
                        (&mut report.shaken_stir_sid, &mut report.shaken_stir_status)
                    }
                    TrustProductKind::Cnam => (&mut report.cnam_sid, &mut report.cnam_status),
                    _ => continue,
                };
                *sid = Some(product.trust_product);
                *status = Some(product.status.as_str().to_owned());
            }
            report.fill_from(&done.journal);
            // The profile was submitted before the products: its status now.
            if report.submitted_status.is_none()
                && let Some(bundle) = done.journal.bundle
                && let Ok(profile) = client.customer_profiles().fetch(bundle).send().await
            {
                report.submitted_status = profile.status;
            }
            return report;
        }
        Err(error) => error,
    };
    let journal = store.latest();
    if let Some(journal) = &journal {
        report.fill_from(journal);
    }
    match error {
        FlowError::NotCompliant {
            bundle: Some(bundle),
        } => {
            report.result = Outcome::Noncompliant;
            report.evaluation_status = Some(CustomerProfileEvaluationStatus::Noncompliant);
            match journal.and_then(|j| j.evaluation) {
                Some(evaluation) => {
                    report.failures = fetch_evaluation_failures(client, bundle, evaluation).await
                }
                None => report.failures.push(
                    FlowError::NotCompliant {
                        bundle: Some(bundle),
                    }
                    .to_string(),
                ),
            }
            report
        }
        FlowError::TrustProductNotCompliant {
            trust_product,
            failures,
        } => {
            report.result = Outcome::Noncompliant;
            let progress = journal.as_ref().and_then(|j| {
                j.voice
                    .iter()
                    .find(|(_, p)| p.sid == Some(trust_product))
                    .map(|(kind, p)| (*kind, p.evaluation))
            });
            let name = progress.map_or("trust product", |(kind, _)| trust_product_name(kind));
            // The evaluation's failures with their codes, when it can be fetched.
            let fetched = match progress.and_then(|(_, evaluation)| evaluation) {
                Some(evaluation) => client
                    .trust_products()
                    .evaluations(trust_product)
                    .fetch(evaluation)
                    .send()
                    .await
                    .ok()
                    .map(|answer| evaluation_failures(&Evaluation::from(answer))),
                None => None,
            };
            let lines = fetched.unwrap_or(failures);
            report
                .failures
                .extend(lines.iter().map(|f| format!("{name} {trust_product}: {f}")));
            report
        }
        error => journal_error(report, error),
    }
}

/// `--refresh` of one row: every resource it submitted that Twilio has not decided yet is
/// fetched ([`watch::refresh`], which journals the statuses), an A2P journey waiting for a review
/// goes on, and the row is reported with its current statuses: `rejected` when something was
/// rejected, `waiting` while something is under review, `approved` (A2P: `registered`) when
/// everything is approved. An unfinished row is reported as such, left for a run without
/// `--refresh`.
async fn refresh_row(
    client: &Client,
    job: Job,
    store: RowStore,
    options: FlowOptions,
    submit: bool,
    waits: Waits,
) -> RowReport {
    let parts = Parts::of(&job.customer);
    let goal = job.goal(submit);
    let Job {
        row,
        customer,
        journal,
        ..
    } = job;
    let Some(mut journal) = journal else {
        return pending(row, parts, None, Run::Skipped);
    };
    // What the journey saw of its brand and campaign is what they were: a change is from there.
    if let Some(a2p) = &journal.a2p {
        for (sid, status) in [
            (a2p.brand.map(ObjectSid::from), a2p.brand_status.clone()),
            (
                a2p.campaign.map(ObjectSid::from),
                a2p.campaign_status.clone(),
            ),
        ] {
            if let (Some(sid), Some(status)) = (sid, status) {
                journal.statuses.entry(sid).or_insert(status);
            }
        }
    }
    let changes = match watch::refresh(client, &mut journal, &store).await {
        Ok(changes) => changes,
        Err(error) => {
            let mut report = parts.report(row, Outcome::Error, Run::Refreshed);
            report.fill_from(&journal);
            return journal_error(report, error);
        }
    };
    let journal = store.latest().unwrap_or(journal);
    let journey_waiting = customer.journey.as_ref().filter(|_| {
        journal.a2p.as_ref().is_some_and(|a| a.brand.is_some())
            && !finished(&journal, Goal::JOURNEY)
            && finished(&journal, voice_goal(&customer))
    });
    let mut report = if let Some(journey) = journey_waiting {
        run_journey(
            client,
            row,
            journey,
            Some(journal.clone()),
            store.clone(),
            options,
            waits,
            Run::Resumed,
        )
        .await
        .with_voice(parts.voice)
    } else if !finished(&journal, goal) {
        let mut report = pending(row, parts, Some(&journal), Run::Skipped);
        report.failures.push(
            "unfinished, and not waiting for a review: --refresh leaves it; run without \
             --refresh to finish it"
                .to_owned(),
        );
        report
    } else {
        let mut report = parts.report(
            row,
            match (parts.a2p, journal.compliant) {
                (true, _) => Outcome::Registered,
                (false, Some(false)) => Outcome::Noncompliant,
                (false, _) => Outcome::Compliant,
            },
            Run::Refreshed,
        );
        report.evaluation_status = journal.compliant.map(|c| {
            if c {
                CustomerProfileEvaluationStatus::Compliant
            } else {
                CustomerProfileEvaluationStatus::Noncompliant
            }
        });
        if let (Some(false), Some(bundle), Some(evaluation)) =
            (journal.compliant, journal.bundle, journal.evaluation)
        {
            report.failures = fetch_evaluation_failures(client, bundle, evaluation).await;
        }
        report
    };
    let journal = store.latest().unwrap_or(journal);
    report.fill_from(&journal);
    report.changes = changes.iter().map(Change::from_status_change).collect();
    judge_statuses(client, &mut report).await;
    report
}

/// Whether a status is Twilio's decision to reject (a profile's, a trust product's, a brand's,
/// a campaign's).
fn is_rejection(status: &str) -> bool {
    matches!(status, TWILIO_REJECTED | "FAILED")
}

/// Whether a status is Twilio's approval.
fn is_approval(status: &str) -> bool {
    matches!(status, TWILIO_APPROVED | "APPROVED" | "VERIFIED")
}

/// Turns a refreshed row's outcome into what its statuses say: `rejected` when Twilio rejected
/// its profile or a trust product (with the rejection's codes, fetched), `waiting` while
/// something is under review, `approved` when everything it submitted was approved (an A2P row
/// stays `registered`). Failures and unfinished rows are left as they are.
async fn judge_statuses(client: &Client, report: &mut RowReport) {
    if !matches!(
        report.result,
        Outcome::Compliant | Outcome::Registered | Outcome::Waiting | Outcome::Rejected
    ) {
        return;
    }
    let bundles = report.bundles();
    let mut a2p_statuses = Vec::new();
    if report.brand_sid.is_some() {
        a2p_statuses.extend(report.brand_status.clone());
    }
    if report.campaign_sid.is_some() {
        a2p_statuses.extend(report.campaign_status.clone());
    }
    let rejected: Vec<&(&str, String, Option<String>)> = bundles
        .iter()
        .filter(|(_, _, s)| s.as_deref().is_some_and(is_rejection))
        .collect();
    let reviewing = bundles
        .iter()
        .filter_map(|(_, _, s)| s.as_deref())
        .chain(a2p_statuses.iter().map(String::as_str))
        .any(|s| !is_rejection(s) && !is_approval(s));
    if !rejected.is_empty() || a2p_statuses.iter().any(|s| is_rejection(s)) {
        report.result = Outcome::Rejected;
        for (what, sid, _) in rejected {
            report
                .failures
                .push(rejection_failure(client, what, sid, true).await);
        }
    } else if reviewing || report.result == Outcome::Waiting {
        report.result = Outcome::Waiting;
    } else if !bundles.is_empty() && report.result == Outcome::Compliant {
        report.result = Outcome::Approved;
    }
}

/// A rejected profile's or trust product's report line: its error codes with the requirement
/// and fields they name (Twilio's messages are left out: they may quote the business's data).
async fn rejection_failure(client: &Client, what: &str, sid: &str, hint: bool) -> String {
    let errors: Result<Option<Vec<BundleError>>, String> = if what == "profile" {
        match sid.parse::<CustomerProfileSid>() {
            Ok(sid) => client
                .customer_profiles()
                .fetch(sid)
                .send()
                .await
                .map(|p| p.errors)
                .map_err(|e| e.to_string()),
            Err(e) => Err(e.to_string()),
        }
    } else {
        match sid.parse::<TrustProductSid>() {
            Ok(sid) => client
                .trust_products()
                .fetch(sid)
                .send()
                .await
                .map(|p| p.errors)
                .map_err(|e| e.to_string()),
            Err(e) => Err(e.to_string()),
        }
    };
    let hint = if hint && what == "profile" {
        "; correct the row and run `trusthub onboard ... --fix`"
    } else {
        ""
    };
    match errors {
        Ok(errors) => {
            let codes: Vec<String> = errors.iter().flatten().map(bundle_error).collect();
            if codes.is_empty() {
                format!("{what} {sid}: {TWILIO_REJECTED} without an error code{hint}")
            } else {
                format!(
                    "{what} {sid}: {TWILIO_REJECTED}: {}{hint}",
                    codes.join(", ")
                )
            }
        }
        Err(e) => format!("{what} {sid}: {TWILIO_REJECTED}; its errors could not be fetched: {e}"),
    }
}

/// One entry of a bundle's `errors`: `error CODE (requirement: field, field)`.
fn bundle_error(error: &BundleError) -> String {
    let code = error.code.map_or_else(
        || "an error without a code".to_owned(),
        |c| format!("error {c}"),
    );
    let requirement = error
        .extra
        .get("requirement_name")
        .and_then(|v| v.as_str())
        .filter(|s| !s.is_empty());
    let fields: Vec<&str> = error
        .extra
        .get("fields")
        .and_then(|v| v.as_array())
        .into_iter()
        .flatten()
        .filter_map(|f| f.as_str())
        .collect();
    match (requirement, fields.is_empty()) {
        (Some(r), true) => format!("{code} ({})", printable(r)),
        (Some(r), false) => format!(
            "{code} ({}: {})",
            printable(r),
            printable(&fields.join(", "))
        ),
        (None, false) => format!("{code} (fields: {})", printable(&fields.join(", "))),
        (None, true) => code,
    }
}

/// A profile status from its wire text (any text: unknown ones are kept as they came).
fn profile_status(text: &str) -> CustomerProfileStatus {
    text.parse().unwrap_or_else(|never| match never {})
}

/// Whether a fix of this journal's profile was started and not finished: its mark
/// ([`trusthub::flow::FIX_KEY`]) or the resubmission's intent is open, or an update dropped the
/// evaluation.
fn fix_in_progress(journal: &Journal) -> bool {
    journal.intents.contains_key(trusthub::flow::FIX_KEY)
        || journal.intents.contains_key("resubmit")
        || journal.evaluation.is_none()
}

/// `--fix` of one row whose journal holds a submitted profile: when Twilio rejected it, the parts
/// of the row that changed since (the journal's digests) are updated, the profile evaluated and
/// submitted again ([`Client::fix_profile`]). A profile not rejected is left `unchanged`; a
/// rejected one whose row did not change is not resubmitted unless `resubmit_unchanged`.
async fn fix_row(
    client: &Client,
    job: Job,
    store: RowStore,
    options: FlowOptions,
    resubmit_unchanged: bool,
) -> RowReport {
    let parts = Parts::of(&job.customer);
    let Job {
        row,
        customer,
        journal,
        ..
    } = job;
    let mut report = parts.report(row, Outcome::Error, Run::Fixed);
    let Some((journal, bundle)) = journal.and_then(|j| {
        let bundle = j.bundle.filter(|_| j.submitted)?;
        Some((j, bundle))
    }) else {
        return pending(row, parts, None, Run::Skipped);
    };
    report.fill_from(&journal);
    let status = match client.customer_profiles().fetch(bundle).send().await {
        Ok(profile) => profile.status.unwrap_or_else(|| profile_status("")),
        Err(e) => {
            report
                .failures
                .push(format!("cannot fetch the status of profile {bundle}: {e}"));
            return report;
        }
    };
    report.submitted_status = Some(status.clone());
    let in_progress = fix_in_progress(&journal);
    if status.as_str() != TWILIO_REJECTED && !in_progress {
        report.result = Outcome::Unchanged;
        report.run = Run::Skipped;
        return report;
    }
    let now = customer.profile.input_digests(store.digest_key());
    let changed = INPUT_PARTS
        .iter()
        .any(|part| journal.input.get(*part) != now.get(*part));
    if !changed && !in_progress && !resubmit_unchanged {
        report.result = Outcome::Rejected;
        report.run = Run::Skipped;
        report
            .failures
            .push(rejection_failure(client, "profile", bundle.as_str(), false).await);
        report.failures.push(
            "the row did not change since its profile was submitted: not resubmitted (correct \
             what the rejection names, or pass --resubmit-unchanged after a fix made elsewhere)"
                .to_owned(),
        );
        return report;
    }
    let result = client
        .fix_profile(&customer.profile, journal)
        .journal(store.clone())
        .options(options)
        .run()
        .await;
    let error = match result {
        Ok(fixed) => {
            report.result = Outcome::Resubmitted;
            report.updated = fixed.updated;
            report.evaluation_status = fixed.evaluation.status().cloned();
            report.submitted_status = Some(fixed.status);
            report.fill_from(&fixed.journal);
            return report;
        }
        Err(error) => error,
    };
    let latest = store.latest();
    if let Some(journal) = &latest {
        report.fill_from(journal);
    }
    match error {
        FlowError::NotRejected { status, .. } => {
            report.result = Outcome::Unchanged;
            report.run = Run::Skipped;
            report.submitted_status = Some(status);
            report
        }
        FlowError::NotCompliant { .. } => {
            report.result = Outcome::Noncompliant;
            report.evaluation_status = Some(CustomerProfileEvaluationStatus::Noncompliant);
            report.failures = match latest.and_then(|j| j.evaluation) {
                Some(evaluation) => fetch_evaluation_failures(client, bundle, evaluation).await,
                None => Vec::new(),
            };
            report.failures.push(
                "the corrected row does not evaluate compliant: the updates were made, the \
                 profile was not resubmitted; correct the row and run --fix again"
                    .to_owned(),
            );
            report
        }
        FlowError::StaleJournal { detail } => {
            report.failures.push(format!(
                "cannot be fixed by an update: {detail}; nothing was changed (a new profile \
                 needs a new customer_key)"
            ));
            report
        }
        error => journal_error(report, error),
    }
}

/// The report of a row whose flow failed with `error`: a journal error leaves it pending
/// (interrupted, or stopped by a failed write); anything else is an error.
fn journal_error(mut report: RowReport, error: FlowError) -> RowReport {
    if let FlowError::Journal { source, .. } = &error {
        report.result = Outcome::Pending;
        report.evaluation_status = None;
        if is_stopping(source) {
            report.run = Run::Interrupted;
            return report;
        }
        // A write that failed (disk full): resumable once the journal can be written again.
        report.run = Run::Stopped;
        report.failures = vec![error.to_string()];
        return report;
    }
    report.result = Outcome::Error;
    // What may pass next time (429, 5xx of a gateway, the network): a worker retries it later.
    report.retryable = matches!(&error, FlowError::Step { source, .. } if source.is_retryable());
    report.failures = vec![error.to_string()];
    report
}

/// Runs one row's A2P journey to its report: where it stopped (registered, waiting for the
/// brand or the campaign, rejected) with the SIDs and statuses, or why it failed.
#[allow(clippy::too_many_arguments)]
async fn run_journey(
    client: &Client,
    row: u64,
    journey: &Journey,
    journal: Option<Journal>,
    store: RowStore,
    options: FlowOptions,
    waits: Waits,
    run: Run,
) -> RowReport {
    let shared: Arc<dyn JournalStore> = Arc::new(store.clone());
    let mut flow = client
        .a2p_journey(journey)
        .journal(shared)
        .options(options)
        .wait_for_brand(waits.brand)
        .wait_for_campaign(waits.campaign)
        .poll(waits.poll);
    if let Some(journal) = journal {
        flow = flow.resuming(journal);
    }
    let mut report = RowReport::new(row, Outcome::Error, run, true);
    let error = match flow.run().await {
        Ok(done) => {
            report.evaluation_status = done
                .profile_evaluation
                .as_ref()
                .and_then(|e| e.status().cloned());
            report.fill_from(&done.journal);
            report.set_stage(&done.stage);
            return report;
        }
        Err(error) => error,
    };
    if let Some(journal) = store.latest() {
        report.fill_from(&journal);
    }
    match error {
        FlowError::NotCompliant {
            bundle: Some(bundle),
        } => {
            report.result = Outcome::Noncompliant;
            report.evaluation_status = Some(CustomerProfileEvaluationStatus::Noncompliant);
            match store.latest().and_then(|j| j.evaluation) {
                Some(evaluation) => {
                    report.failures = fetch_evaluation_failures(client, bundle, evaluation).await
                }
                None => report.failures.push(
                    FlowError::NotCompliant {
                        bundle: Some(bundle),
                    }
                    .to_string(),
                ),
            }
            report
        }
        FlowError::TrustProductNotCompliant {
            trust_product,
            failures,
        } => {
            report.result = Outcome::Noncompliant;
            report.failures = failures
                .iter()
                .map(|f| format!("A2P trust product {trust_product}: {f}"))
                .collect();
            report
        }
        error => journal_error(report, error),
    }
}

/// The progress bar: done / waiting / failed / in flight, and the rate.
struct Progress {
    bar: ProgressBar,
    done: u64,
    waiting: u64,
    failed: u64,
    in_flight: u64,
}

impl Progress {
    fn new(rows: u64, visible: bool) -> Progress {
        let target = if visible {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        };
        let bar = ProgressBar::with_draw_target(Some(rows), target);
        bar.set_style(
            ProgressStyle::with_template(
                "{spinner} {elapsed_precise} [{bar:30}] {pos}/{len} rows  {msg}",
            )
            .expect("the template is valid")
            .progress_chars("=> "),
        );
        if visible {
            bar.enable_steady_tick(Duration::from_millis(200));
        }
        let progress = Progress {
            bar,
            done: 0,
            waiting: 0,
            failed: 0,
            in_flight: 0,
        };
        progress.refresh();
        progress
    }

    fn refresh(&self) {
        let elapsed = self.bar.elapsed().as_secs_f64();
        let rate = if elapsed > 0.0 {
            (self.done + self.waiting + self.failed) as f64 / elapsed
        } else {
            0.0
        };
        let waiting = if self.waiting > 0 {
            format!("{} waiting for review · ", self.waiting)
        } else {
            String::new()
        };
        self.bar.set_message(format!(
            "{} done · {waiting}{} failed · {} in flight · {rate:.1} rows/s",
            self.done, self.failed, self.in_flight
        ));
    }

    fn started(&mut self) {
        self.in_flight += 1;
        self.refresh();
    }

    fn ended(&mut self, outcome: Outcome) {
        self.in_flight = self.in_flight.saturating_sub(1);
        match outcome {
            Outcome::Compliant
            | Outcome::Registered
            | Outcome::Approved
            | Outcome::Resubmitted
            | Outcome::Unchanged => {
                self.done += 1;
                self.bar.inc(1);
            }
            Outcome::Waiting => {
                self.waiting += 1;
                self.bar.inc(1);
            }
            Outcome::Pending => {}
            Outcome::Noncompliant | Outcome::Invalid | Outcome::Error | Outcome::Rejected => {
                self.failed += 1;
                self.bar.inc(1);
            }
        }
        self.refresh();
    }

    fn note(&self, message: &str) {
        if self.bar.is_hidden() {
            eprintln!("{message}");
        } else {
            self.bar.println(message);
        }
    }
}

/// The command line as typed, for the resume hint (arguments are paths and flags).
fn command_line() -> String {
    command_line_without(&[])
}

/// The command line as typed without these flags (flags without values).
fn command_line_without(flags: &[&str]) -> String {
    std::env::args()
        .filter(|a| !flags.contains(&a.as_str()))
        .map(|a| {
            if !a.is_empty()
                && a.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@".contains(c))
            {
                a
            } else {
                format!("'{}'", a.replace('\'', r"'\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Checks once each policy and primary profile the customers use. A primary profile that cannot
/// carry secondary profiles is a finding (its rows are refused), not an error of the command.
async fn preflights(
    client: &Client,
    customers: &[(u64, Customer)],
) -> Result<BTreeMap<(PolicySid, CustomerProfileSid), Result<Arc<Preflight>, String>>, CliError> {
    let wanted: BTreeSet<(PolicySid, CustomerProfileSid)> = customers
        .iter()
        .map(|(_, c)| (c.profile.policy(), c.profile.primary_profile()))
        .collect();
    let mut checked = BTreeMap::new();
    for (policy, primary) in wanted {
        let result = match Preflight::check(client, policy, primary).await {
            Ok(preflight) => Ok(Arc::new(preflight)),
            Err(e @ FlowError::PrimaryProfile { .. }) => Err(e.to_string()),
            Err(e) => {
                return Err(CliError::failed(format!(
                    "cannot check policy {policy} and primary profile {primary}: {e}"
                )));
            }
        };
        checked.insert((policy, primary), result);
    }
    Ok(checked)
}

/// Checks that the report can be written where it goes, before anything is sent.
fn check_report_destination(csv_path: &Path, json_path: &Path) -> Result<(), CliError> {
    for path in [csv_path, json_path] {
        let dir = trusthub::flow::files::parent_dir(path);
        let refused = |e: std::io::Error| {
            CliError::usage(format!(
                "the report cannot be written to {} ({e}); choose another --report-dir",
                path.display()
            ))
        };
        std::fs::create_dir_all(&dir).map_err(refused)?;
        if path.is_dir() {
            return Err(refused(std::io::Error::other("it is a directory")));
        }
        let probe = trusthub::flow::files::sibling(path, ".probe");
        std::fs::write(&probe, b"").map_err(refused)?;
        let _ = std::fs::remove_file(&probe);
    }
    Ok(())
}

/// `trusthub onboard`.
pub async fn onboard(ctx: &Context, args: &OnboardArgs) -> Result<u8, CliError> {
    let started = Instant::now();
    let journal_path = args
        .journal
        .as_deref()
        .ok_or_else(|| CliError::usage("onboard needs --journal FILE (or --store URL)"))?;
    let rows = read_csv(&args.csv)?;
    let (csv_path, json_path) = report::paths(journal_path, args.report_dir.as_deref());
    if !args.dry_run {
        check_report_destination(&csv_path, &json_path)?;
    }
    let defaults = Defaults {
        primary_profile: ctx.default_primary_profile(args.primary_profile),
    };

    let mut reports: BTreeMap<u64, RowReport> = BTreeMap::new();
    let mut valid: Vec<(u64, Customer)> = Vec::new();
    let mut first_row_of: HashMap<CustomerKey, u64> = HashMap::new();
    // Records are consumed as they are built: a large CSV is not held twice.
    for (row, record) in rows {
        let parts = Parts::of_record(&record);
        match input::build(&record, &defaults) {
            Ok(customer) => match first_row_of.get(&customer.key) {
                Some(first) => {
                    reports.insert(
                        row,
                        invalid(
                            row,
                            parts,
                            vec![format!(
                                "{}: expected a customer no other row has; found the {} of row \
                                 {first} (the same customer twice)",
                                customer.key.field(),
                                customer.key.describe()
                            )],
                        ),
                    );
                }
                None => {
                    first_row_of.insert(customer.key.clone(), row);
                    valid.push((row, customer));
                }
            },
            Err(problems) => {
                reports.insert(
                    row,
                    invalid(row, parts, problems.iter().map(|p| p.to_string()).collect()),
                );
            }
        }
    }
    drop(first_row_of);
    // The journal is opened once the input is read: an unreadable CSV leaves no journal behind.
    let open_journal = !args.dry_run || journal_path.exists();
    let (journal_file, mut loaded) = if open_journal {
        let (file, loaded) = BatchJournal::open(journal_path, "trusthub onboard")
            .map_err(|e| CliError::usage(format!("journal {}: {e}", journal_path.display())))?;
        (Some(file), loaded)
    } else {
        (None, Default::default())
    };
    if loaded.dropped_torn_line {
        eprintln!(
            "note: the last line of {} was cut short (a crash while saving); it was dropped",
            journal_path.display()
        );
    }
    if let Some(lines) = loaded.compacted_from {
        eprintln!(
            "note: {} compacted from {lines} lines to one per customer ({})",
            journal_path.display(),
            loaded.customers.len()
        );
    }
    let checked = preflights(&ctx.client, &valid).await?;
    let digest_key = journal_file.as_ref().map(|f| f.key().clone());
    let mut jobs = Vec::new();
    let mut earlier = Vec::new();
    for (row, customer) in valid {
        let parts = Parts::of(&customer);
        let key = digest_key
            .as_ref()
            .map(|k| customer.key.digest(k))
            .unwrap_or_default();
        let journal = loaded.customers.remove(&key);
        let policy_sid = customer.profile.policy();
        let preflight = match &checked[&(policy_sid, customer.profile.primary_profile())] {
            Ok(preflight) => preflight.clone(),
            Err(refused) => {
                reports.insert(row, invalid(row, parts, vec![refused.clone()]));
                continue;
            }
        };
        let mismatches = customer.profile.check_policy(preflight.policy());
        if !mismatches.is_empty() {
            let failures = mismatches
                .iter()
                .map(|p| format!("policy {policy_sid} requires {p}"))
                .collect();
            reports.insert(row, invalid(row, parts, failures));
            continue;
        }
        let job = |journal: Option<Journal>, work: Work| Job {
            row,
            key: key.clone(),
            customer: customer.clone(),
            journal,
            preflight: preflight.clone(),
            work,
        };
        if args.fix {
            // `--fix` touches only submitted profiles (and fixes only the rejected ones).
            match journal {
                Some(journal) if journal.submitted && journal.bundle.is_some() => {
                    let work = Work::Fix {
                        unchanged: args.resubmit_unchanged,
                    };
                    jobs.push(job(Some(journal), work));
                }
                journal => {
                    let mut r = pending(row, parts, journal.as_ref(), Run::Skipped);
                    r.failures.push(
                        "no submitted profile: --fix fixes only profiles Twilio rejected; run \
                         without --fix to onboard it"
                            .to_owned(),
                    );
                    reports.insert(row, r);
                }
            }
            continue;
        }
        if args.refresh {
            match journal {
                Some(journal) => jobs.push(job(Some(journal), Work::Refresh)),
                None => {
                    let mut r = pending(row, parts, None, Run::Skipped);
                    r.failures.push(
                        "not started: --refresh starts nothing; run without --refresh to \
                         onboard it"
                            .to_owned(),
                    );
                    reports.insert(row, r);
                }
            }
            continue;
        }
        match journal {
            Some(journal) if finished(&journal, goal(&customer, args.submit)) => {
                let digest_key = digest_key.as_ref().expect("a journal was read");
                match reconcile(&customer, journal.clone(), digest_key) {
                    Ok(_) => earlier.push((row, journal, parts)),
                    Err(e) => {
                        let mut r = pending(row, parts, Some(&journal), Run::Skipped);
                        r.result = Outcome::Error;
                        r.failures.push(format!(
                            "this customer was onboarded from other input: {e} (its {} \
                             already; a profile Twilio rejected is fixed from the corrected row \
                             with `onboard ... --fix`; otherwise fix it at Twilio, or give the \
                             row a new customer_key to onboard it again)",
                            if parts.a2p {
                                "campaign is verified"
                            } else if parts.voice {
                                "voice trust products are submitted"
                            } else {
                                "bundle is evaluated"
                            }
                        ));
                        reports.insert(row, r);
                    }
                }
            }
            journal => jobs.push(job(journal, Work::Onboard)),
        }
    }
    let unmatched = loaded.customers.len();
    if unmatched > 0 {
        eprintln!(
            "note: {} holds {unmatched} customer{} that no valid row of {} names (removed from \
             the CSV, their key changed, or their row is invalid); they are left as they are",
            journal_path.display(),
            if unmatched == 1 { "" } else { "s" },
            args.csv.display()
        );
    }

    if args.dry_run {
        return Ok(print_dry_run(ctx, &reports, &jobs, &earlier));
    }
    let journal_file = journal_file.expect("opened unless --dry-run");

    let concurrency = usize::from(args.concurrency);
    let client = &ctx.client;
    let earlier_reports: Vec<RowReport> = futures_util::stream::iter(earlier)
        .map(|(row, journal, parts)| report_earlier(client, row, journal, parts))
        .buffer_unordered(concurrency)
        .collect()
        .await;
    for r in earlier_reports {
        reports.insert(r.row, r);
    }

    let visible = !ctx.json && !ctx.verbose && std::io::stderr().is_terminal();
    let mut progress = Progress::new(jobs.len() as u64, visible);
    let stop = Arc::new(AtomicBool::new(false));
    let limiter = Limiter::new(concurrency);
    let mut interrupts = crate::interrupt::watch().await;
    let mut queue = jobs.into_iter();
    let mut tasks: JoinSet<RowReport> = JoinSet::new();
    let mut running: HashMap<tokio::task::Id, Running> = HashMap::new();
    let waits = Waits {
        brand: args.brand_wait,
        campaign: args.campaign_wait,
        poll: args.poll,
    };
    let mut stopping = false;
    let mut aborted = false;
    let mut journal_failure_noted = false;
    loop {
        if journal_file.failed() && !journal_failure_noted {
            journal_failure_noted = true;
            stopping = true;
            stop.store(true, Ordering::SeqCst);
            progress.note(&format!(
                "stopping: {} could not be written; no new rows start (nothing is sent whose \
                 intent could not be saved)",
                journal_path.display()
            ));
        }
        while !stopping && tasks.len() < concurrency {
            let Some(job) = queue.next() else { break };
            let (row, work) = (job.row, job.work);
            let parts = Parts::of(&job.customer);
            let store = RowStore::new(
                journal_file.clone(),
                job.key.clone(),
                job.goal(args.submit),
                stop.clone(),
                job.journal.clone(),
            );
            let options = FlowOptions {
                limiter: limiter.clone(),
                preflight: Some(job.preflight.clone()),
                ..FlowOptions::default()
            };
            let span = tracing::debug_span!("row", row);
            let handle = tasks.spawn(
                run_row(
                    client.clone(),
                    job,
                    store.clone(),
                    options,
                    args.submit,
                    waits,
                )
                .instrument(span),
            );
            running.insert(
                handle.id(),
                Running {
                    row,
                    parts,
                    work,
                    store,
                    handle,
                },
            );
            progress.started();
        }
        if tasks.is_empty() {
            break;
        }
        tokio::select! {
            joined = tasks.join_next_with_id() => match joined {
                Some(Ok((id, report))) => {
                    running.remove(&id);
                    progress.ended(report.result);
                    reports.insert(report.row, report);
                }
                Some(Err(e)) => {
                    if let Some(Running { row, parts, store, .. }) = running.remove(&e.id()) {
                        let mut r = pending(row, parts, store.latest().as_ref(), Run::Interrupted);
                        if e.is_panic() {
                            r.result = Outcome::Error;
                            r.failures.push("internal error: the row's task panicked".into());
                        }
                        progress.ended(r.result);
                        reports.insert(row, r);
                    }
                }
                None => {}
            },
            Some(signal) = interrupts.recv(), if !aborted => {
                if !stopping {
                    stopping = true;
                    stop.store(true, Ordering::SeqCst);
                    // Rows only waiting for a review (nothing in flight but fetches) stop now;
                    // a row reaching that point later stops at the save that gets it there.
                    let mut waiting = 0;
                    for r in running.values() {
                        let only_fetching = match r.work {
                            Work::Refresh => {
                                r.store.latest().is_some_and(|j| j.intents.is_empty())
                            }
                            Work::Onboard => {
                                r.parts.a2p && r.store.latest().is_some_and(|j| awaiting_review(&j))
                            }
                            Work::Fix { .. } => false,
                        };
                        if only_fetching {
                            r.handle.abort();
                            waiting += 1;
                        }
                    }
                    let waiting = if waiting > 0 {
                        format!(" ({waiting} of them only waiting for a review stop now)")
                    } else {
                        String::new()
                    };
                    progress.note(&format!(
                        "{signal}: stopping: no new rows; the {} rows in flight stop after their \
                         next saved step{waiting} ({signal} again to stop at once)",
                        tasks.len()
                    ));
                } else {
                    aborted = true;
                    tasks.abort_all();
                    progress.note(&format!("{signal}: stopping now"));
                }
            }
        }
    }
    progress.bar.finish_and_clear();
    for job in queue {
        let parts = Parts::of(&job.customer);
        reports.insert(
            job.row,
            pending(job.row, parts, job.journal.as_ref(), Run::NotStarted),
        );
    }

    let rows: Vec<RowReport> = reports.into_values().collect();
    let report = Report {
        summary: Summary::of(&rows),
        elapsed_secs: started.elapsed().as_secs_f64(),
        rows,
    };
    let written = report::write(&report, &csv_path, &json_path);

    let s = &report.summary;
    if ctx.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&report).expect("reports serialize")
        );
    } else if ctx.output.is_delimited() {
        let rows: Vec<Vec<String>> = report.rows.iter().map(report::cells).collect();
        print!("{}", ctx.output.render(&report::columns(), &rows));
        eprintln!("report: {} and {}", csv_path.display(), json_path.display());
    } else {
        print_summary(&report, &csv_path, &json_path, args.refresh, ctx.output);
    }
    written.map_err(|e| {
        CliError::failed(format!(
            "cannot write the report ({} / {}): {e}",
            csv_path.display(),
            json_path.display()
        ))
    })?;
    if journal_file.failed() {
        eprintln!(
            "error: {} could not be written ({}), so the batch stopped ({} rows unfinished; \
             nothing was sent that the journal does not cover). Make room (or fix the error) \
             and resume with the same command:\n  {}",
            journal_path.display(),
            journal_file.first_error().unwrap_or_default(),
            s.pending,
            command_line()
        );
        return Ok(EXIT_FAILED);
    }
    // Rows left pending by a signal (rows `--refresh` skipped are pending too, but not stopped).
    let stopped = report
        .rows
        .iter()
        .filter(|r| r.result == Outcome::Pending && r.run != Run::Skipped)
        .count();
    if stopped > 0 {
        let interrupted = report
            .rows
            .iter()
            .filter(|r| r.run == Run::Interrupted)
            .count();
        eprintln!(
            "interrupted: {} rows finished, {interrupted} stopped after a saved step, {} not \
             started; {} holds their progress.\nResume (nothing is created twice) with the same \
             command:\n  {}",
            s.rows - stopped,
            stopped - interrupted,
            journal_path.display(),
            command_line()
        );
        return Ok(EXIT_INTERRUPTED);
    }
    let unfinished = s.pending > 0;
    if s.waiting > 0 {
        let refresh = if args.refresh { "" } else { " --refresh" };
        let (rows, what) = if args.refresh {
            ("row", "a profile, trust product, brand or campaign")
        } else {
            ("A2P row", "brand or campaign")
        };
        let a2p_waiting = report
            .rows
            .iter()
            .any(|r| r.a2p && r.result == Outcome::Waiting);
        let campaign = if a2p_waiting {
            "; the campaign is created once the brand is approved"
        } else {
            ""
        };
        eprintln!(
            "{} {rows}{} wait{} for a review ({what}): that takes minutes to weeks. Look again \
             later (nothing is created twice{campaign}) with:\n  {}{refresh}",
            s.waiting,
            if s.waiting == 1 { "" } else { "s" },
            if s.waiting == 1 { "s" } else { "" },
            command_line()
        );
    }
    if s.resubmitted > 0 {
        eprintln!(
            "{} profile{} fixed and submitted again: Twilio reviews {} again. See the decision \
             later with:\n  {} --refresh",
            s.resubmitted,
            if s.resubmitted == 1 { "" } else { "s" },
            if s.resubmitted == 1 { "it" } else { "them" },
            command_line_without(&["--fix", "--resubmit-unchanged"])
        );
    }
    let failed = report.rows.iter().any(|r| r.result.is_failure());
    Ok(if failed || unfinished {
        EXIT_FAILED
    } else if s.waiting > 0 {
        EXIT_WAITING
    } else {
        EXIT_OK
    })
}

/// A row in flight: what a signal or a failed task needs.
struct Running {
    row: u64,
    parts: Parts,
    work: Work,
    store: RowStore,
    handle: tokio::task::AbortHandle,
}

/// `--dry-run`'s columns with `-o csv|tsv`: `result` is `valid` or `invalid`; `journal` says
/// what a run would do with a valid row: `new` (start it), `resume` (go on from the journal),
/// `finished` (report what an earlier run finished); `failures` joins the problems with ` | `.
pub const DRY_RUN_COLUMNS: [Column; 4] = [
    column("ROW", "row"),
    column("RESULT", "result"),
    column("JOURNAL", "journal"),
    column("FAILURES", "failures"),
];

/// `--dry-run`: every row, valid (what a run would do with it) or invalid (every problem found,
/// the policy's and the primary profile's included); exit 0 when every row is valid.
fn print_dry_run(
    ctx: &Context,
    reports: &BTreeMap<u64, RowReport>,
    jobs: &[Job],
    earlier: &[(u64, Journal, Parts)],
) -> u8 {
    // Row number -> what a run would do with a valid row (`new`, `resume`, `finished`), or its
    // report when it is refused.
    let mut rows: BTreeMap<u64, Result<&'static str, &RowReport>> = BTreeMap::new();
    for job in jobs {
        let journal = if job.journal.is_some() {
            "resume"
        } else {
            "new"
        };
        rows.insert(job.row, Ok(journal));
    }
    for (row, _, _) in earlier {
        rows.insert(*row, Ok("finished"));
    }
    for r in reports.values() {
        rows.insert(r.row, Err(r));
    }
    let refused: Vec<&RowReport> = reports.values().collect();
    if ctx.json {
        let all: Vec<serde_json::Value> = rows
            .iter()
            .map(|(row, state)| match state {
                Ok(journal) => serde_json::json!({
                    "row": row, "result": "valid", "journal": journal, "failures": [],
                }),
                Err(r) => serde_json::json!({
                    "row": row, "result": "invalid", "journal": null, "failures": r.failures,
                }),
            })
            .collect();
        println!(
            "{}",
            serde_json::json!({
                "dry_run": true,
                "rows_to_run": jobs.len(),
                "rows_finished_earlier": earlier.len(),
                "rows_refused": refused,
                "rows": all,
            })
        );
    } else if ctx.output.is_delimited() {
        let lines: Vec<Vec<String>> = rows
            .iter()
            .map(|(row, state)| match state {
                Ok(journal) => vec![
                    row.to_string(),
                    "valid".into(),
                    (*journal).into(),
                    String::new(),
                ],
                Err(r) => vec![
                    row.to_string(),
                    "invalid".into(),
                    String::new(),
                    r.failures.join(report::FAILURE_SEPARATOR),
                ],
            })
            .collect();
        print!("{}", ctx.output.render(&DRY_RUN_COLUMNS, &lines));
    } else {
        println!(
            "dry run: {} rows to run, {} finished by an earlier run, {} refused; nothing was \
             created",
            jobs.len(),
            earlier.len(),
            refused.len()
        );
        for (row, state) in &rows {
            match state {
                Ok(journal) => println!("row {row}: valid ({journal})"),
                Err(r) => {
                    println!("row {row}: invalid");
                    for f in &r.failures {
                        println!("    {f}");
                    }
                }
            }
        }
    }
    if refused.is_empty() {
        EXIT_OK
    } else {
        EXIT_FAILED
    }
}

fn print_summary(
    report: &Report,
    csv_path: &Path,
    json_path: &Path,
    refresh: bool,
    output: Output,
) {
    let s = &report.summary;
    let a2p_rows: Vec<&RowReport> = report.rows.iter().filter(|r| r.a2p).collect();
    let voice_rows: Vec<&RowReport> = report.rows.iter().filter(|r| r.voice).collect();
    let mut parts = Vec::new();
    let others = s.approved + s.resubmitted + s.unchanged;
    if s.compliant > 0 || (a2p_rows.len() < s.rows && others == 0) {
        parts.push(format!("{} compliant", s.compliant));
    }
    if !a2p_rows.is_empty() {
        parts.push(format!("{} registered", s.registered));
    }
    for (n, word) in [
        (s.approved, "approved"),
        (s.resubmitted, "resubmitted"),
        (s.unchanged, "unchanged"),
        (s.waiting, "waiting for review"),
        (s.rejected, "rejected"),
        (s.noncompliant, "noncompliant"),
        (s.invalid, "invalid"),
        (s.error, "failed"),
        (s.pending, "pending"),
    ] {
        if n > 0 {
            parts.push(format!("{n} {word}"));
        }
    }
    let earlier = report.rows.iter().filter(|r| r.run == Run::Earlier).count();
    println!(
        "{} rows: {} ({:.1} s{})",
        s.rows,
        parts.join(", "),
        report.elapsed_secs,
        if earlier > 0 {
            format!("; {earlier} finished by an earlier run, reported")
        } else {
            String::new()
        }
    );
    let changes: Vec<(u64, &Change)> = report
        .rows
        .iter()
        .flat_map(|r| r.changes.iter().map(move |c| (r.row, c)))
        .collect();
    if !changes.is_empty() {
        println!("statuses changed:");
        for (row, change) in changes {
            println!("  row {row}: {change}");
        }
    } else if refresh {
        println!("no status changed since the last look");
    }
    for r in &report.rows {
        if r.result == Outcome::Resubmitted {
            println!(
                "row {}: resubmitted {} (updated: {}): {}",
                r.row,
                r.bundle_sid.map(|b| b.to_string()).unwrap_or_default(),
                if r.updated.is_empty() {
                    "nothing".to_owned()
                } else {
                    r.updated.join(UPDATED_SEPARATOR)
                },
                r.submitted_status
                    .as_ref()
                    .map_or("unknown", |s| s.as_str())
            );
            continue;
        }
        if r.result.is_done() || (r.result == Outcome::Pending && r.failures.is_empty()) {
            continue;
        }
        if let Some(what) = r.waiting_for() {
            println!("row {}: waiting for {what}", r.row);
            continue;
        }
        println!(
            "row {}: {}{}",
            r.row,
            r.result.as_str(),
            r.bundle_sid.map(|b| format!(" ({b})")).unwrap_or_default()
        );
        for f in &r.failures {
            println!("    {f}");
        }
    }
    if !a2p_rows.is_empty() {
        print!("{}", a2p_table(&a2p_rows, output));
    }
    if !voice_rows.is_empty() {
        print!("{}", voice_table(&voice_rows, output));
    }
    println!("report: {} and {}", csv_path.display(), json_path.display());
}

/// The voice rows as a table: the SHAKEN/STIR and CNAM trust products, with their statuses
/// (the first [`A2P_TABLE_ROWS`], then only those not done).
fn voice_table(rows: &[&RowReport], output: Output) -> String {
    let all = rows.len() <= A2P_TABLE_ROWS;
    let cell = |s: Option<String>| s.unwrap_or_else(|| "-".to_owned());
    let lines: Vec<Vec<String>> = rows
        .iter()
        .filter(|r| all || !r.result.is_done())
        .map(|r| {
            vec![
                r.row.to_string(),
                r.result.as_str().to_owned(),
                cell(r.shaken_stir_sid.map(|b| b.to_string())),
                cell(r.shaken_stir_status.clone()),
                cell(r.cnam_sid.map(|c| c.to_string())),
                cell(r.cnam_status.clone()),
            ]
        })
        .collect();
    let title = if all {
        "voice rows:\n".to_owned()
    } else {
        format!(
            "voice rows not done ({} of {}; the report lists them all):\n",
            lines.len(),
            rows.len()
        )
    };
    format!(
        "{title}{}",
        output.render(
            &[
                column("ROW", "row"),
                column("RESULT", "result"),
                column("SHAKEN/STIR", "shaken_stir_sid"),
                column("STATUS", "shaken_stir_status"),
                column("CNAM", "cnam_sid"),
                column("CNAM STATUS", "cnam_status"),
            ],
            &lines
        )
    )
}

/// The most A2P rows the summary lists in full; beyond, only those not registered.
const A2P_TABLE_ROWS: usize = 100;

/// The A2P rows as a table: brand and campaign, with their statuses.
fn a2p_table(rows: &[&RowReport], output: Output) -> String {
    let all = rows.len() <= A2P_TABLE_ROWS;
    let cell = |s: Option<String>| s.unwrap_or_else(|| "-".to_owned());
    let lines: Vec<Vec<String>> = rows
        .iter()
        .filter(|r| all || r.result != Outcome::Registered)
        .map(|r| {
            vec![
                r.row.to_string(),
                r.result.as_str().to_owned(),
                cell(r.brand_sid.map(|b| b.to_string())),
                cell(r.brand_status.clone()),
                cell(r.campaign_sid.map(|c| c.to_string())),
                cell(r.campaign_status.clone()),
            ]
        })
        .collect();
    let title = if all {
        "A2P rows:\n".to_owned()
    } else {
        format!(
            "A2P rows not registered ({} of {}; the report lists them all):\n",
            lines.len(),
            rows.len()
        )
    };
    format!(
        "{title}{}",
        output.render(
            &[
                column("ROW", "row"),
                column("RESULT", "result"),
                column("BRAND", "brand_sid"),
                column("BRAND STATUS", "brand_status"),
                column("CAMPAIGN", "campaign_sid"),
                column("CAMPAIGN STATUS", "campaign_status"),
            ],
            &lines
        )
    )
}
