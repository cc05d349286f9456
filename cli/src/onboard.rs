//! `trusthub onboard`: one Secondary Customer Profile flow per CSV row.
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
//! 6. The report (CSV and JSON) lists every row; the exit code is 0 when every row is compliant,
//!    1 when some row is invalid, failed or not compliant, 130 when interrupted.

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
use trusthub::api::trusthub_v1::CustomerProfileEvaluationStatus;
use trusthub::evaluation::Evaluation;
use trusthub::flow::{FlowOptions, Journal, JournalStore, Limiter, Preflight};
use trusthub::sid::{CustomerProfileSid, PolicySid};
use trusthub::{Client, FlowError};

use crate::batch_journal::{finished, is_stopping, BatchJournal, RowStore};
use crate::context::{CliError, Context};
use crate::input::{self, Customer, CustomerKey, Defaults, Record};
use crate::report::{self, evaluation_failures, Outcome, Report, RowReport, Run, Summary};
use crate::{EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK};

/// `trusthub onboard`.
#[derive(Debug, clap::Args)]
pub struct OnboardArgs {
    /// The customers: CSV with a header row of keys (`trusthub schema`), one customer per row.
    pub csv: PathBuf,
    /// The batch journal (created if missing, with its `.key` and `.lock` files beside it). Run
    /// the same command again to resume.
    #[arg(long, value_name = "FILE")]
    pub journal: PathBuf,
    /// Rows in flight at once, and requests in flight across all of them.
    #[arg(long, default_value_t = 8, value_name = "N",
          value_parser = clap::value_parser!(u16).range(1..=512))]
    pub concurrency: u16,
    /// Submit each compliant profile for review (step 10).
    #[arg(long)]
    pub submit: bool,
    /// Check every row, the policies and the primary profiles, the journal and the report's
    /// destination; create nothing.
    #[arg(long, conflicts_with = "submit")]
    pub dry_run: bool,
    /// Where to write the report (default: beside the journal).
    #[arg(long, value_name = "DIR")]
    pub report_dir: Option<PathBuf>,
    /// The ISV's primary customer profile, for rows without primary_profile_sid.
    #[arg(long, value_name = "BU...")]
    pub primary_profile: Option<CustomerProfileSid>,
}

/// A row to run.
struct Job {
    row: u64,
    /// The customer key's digest: the row's name in the journal.
    key: String,
    customer: Customer,
    journal: Option<Journal>,
    preflight: Arc<Preflight>,
}

/// Reads the CSV: checks the header, then one record per row (numbered from 1).
fn read_csv(path: &Path) -> Result<Vec<(u64, Record)>, CliError> {
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

fn invalid(row: u64, failures: Vec<String>) -> RowReport {
    RowReport {
        row,
        result: Outcome::Invalid,
        bundle_sid: None,
        evaluation_status: None,
        submitted_status: None,
        run: Run::Skipped,
        failures,
    }
}

fn pending(row: u64, journal: Option<&Journal>, run: Run) -> RowReport {
    RowReport {
        row,
        result: Outcome::Pending,
        bundle_sid: journal.and_then(|j| j.bundle),
        evaluation_status: None,
        submitted_status: None,
        run,
        failures: Vec::new(),
    }
}

/// A row an earlier run finished: reported from the journal (plus the evaluation's failures
/// and the current status, fetched). Nothing is created.
async fn report_earlier(client: &Client, row: u64, journal: Journal) -> RowReport {
    let compliant = journal.compliant == Some(true);
    let mut report = RowReport {
        row,
        result: if compliant {
            Outcome::Compliant
        } else {
            Outcome::Noncompliant
        },
        bundle_sid: journal.bundle,
        evaluation_status: Some(if compliant {
            CustomerProfileEvaluationStatus::Compliant
        } else {
            CustomerProfileEvaluationStatus::Noncompliant
        }),
        submitted_status: None,
        run: Run::Earlier,
        failures: Vec::new(),
    };
    let Some(bundle) = journal.bundle else {
        return report;
    };
    if let (false, Some(evaluation)) = (compliant, journal.evaluation) {
        match client
            .customer_profiles()
            .evaluations(bundle)
            .fetch(evaluation)
            .send()
            .await
        {
            Ok(answer) => report.failures = evaluation_failures(&Evaluation::from(answer)),
            Err(e) => report
                .failures
                .push(format!("cannot fetch evaluation {evaluation}: {e}")),
        }
    }
    if journal.submitted {
        match client.customer_profiles().fetch(bundle).send().await {
            Ok(profile) => report.submitted_status = profile.status,
            Err(e) => report.failures.push(format!(
                "submitted earlier; its status could not be fetched: {e}"
            )),
        }
    }
    report
}

/// Runs one row's flow (and submission) to its report.
async fn run_row(
    client: Client,
    job: Job,
    store: RowStore,
    options: FlowOptions,
    submit: bool,
) -> RowReport {
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
    let mut report = RowReport {
        row,
        result: Outcome::Error,
        bundle_sid: None,
        evaluation_status: None,
        submitted_status: None,
        run,
        failures: Vec::new(),
    };
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
    report.failures = vec![error.to_string()];
    report
}

/// The progress bar: done / failed / in flight, and the rate.
struct Progress {
    bar: ProgressBar,
    done: u64,
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
            failed: 0,
            in_flight: 0,
        };
        progress.refresh();
        progress
    }

    fn refresh(&self) {
        let elapsed = self.bar.elapsed().as_secs_f64();
        let rate = if elapsed > 0.0 {
            (self.done + self.failed) as f64 / elapsed
        } else {
            0.0
        };
        self.bar.set_message(format!(
            "{} done · {} failed · {} in flight · {rate:.1} rows/s",
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
            Outcome::Compliant => {
                self.done += 1;
                self.bar.inc(1);
            }
            Outcome::Pending => {}
            _ => {
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
    std::env::args()
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
    let rows = read_csv(&args.csv)?;
    let (csv_path, json_path) = report::paths(&args.journal, args.report_dir.as_deref());
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
        match input::build(&record, &defaults) {
            Ok(customer) => match first_row_of.get(&customer.key) {
                Some(first) => {
                    reports.insert(
                        row,
                        invalid(
                            row,
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
                    invalid(row, problems.iter().map(|p| p.to_string()).collect()),
                );
            }
        }
    }
    drop(first_row_of);
    // The journal is opened once the input is read: an unreadable CSV leaves no journal behind.
    let open_journal = !args.dry_run || args.journal.exists();
    let (journal_file, mut loaded) = if open_journal {
        let (file, loaded) = BatchJournal::open(&args.journal, "trusthub onboard")
            .map_err(|e| CliError::usage(format!("journal {}: {e}", args.journal.display())))?;
        (Some(file), loaded)
    } else {
        (None, Default::default())
    };
    if loaded.dropped_torn_line {
        eprintln!(
            "note: the last line of {} was cut short (a crash while saving); it was dropped",
            args.journal.display()
        );
    }
    if let Some(lines) = loaded.compacted_from {
        eprintln!(
            "note: {} compacted from {lines} lines to one per customer ({})",
            args.journal.display(),
            loaded.customers.len()
        );
    }
    let checked = preflights(&ctx.client, &valid).await?;
    let digest_key = journal_file.as_ref().map(|f| f.key().clone());
    let mut jobs = Vec::new();
    let mut earlier = Vec::new();
    for (row, customer) in valid {
        let key = digest_key
            .as_ref()
            .map(|k| customer.key.digest(k))
            .unwrap_or_default();
        let journal = loaded.customers.remove(&key);
        let policy_sid = customer.profile.policy();
        let preflight = match &checked[&(policy_sid, customer.profile.primary_profile())] {
            Ok(preflight) => preflight.clone(),
            Err(refused) => {
                reports.insert(row, invalid(row, vec![refused.clone()]));
                continue;
            }
        };
        let mismatches = customer.profile.check_policy(preflight.policy());
        if !mismatches.is_empty() {
            let failures = mismatches
                .iter()
                .map(|p| format!("policy {policy_sid} requires {p}"))
                .collect();
            reports.insert(row, invalid(row, failures));
            continue;
        }
        match journal {
            Some(journal) if finished(&journal, args.submit) => {
                let digest_key = digest_key.as_ref().expect("a journal was read");
                match customer
                    .profile
                    .reconcile_journal(journal.clone(), digest_key)
                {
                    Ok(_) => earlier.push((row, journal)),
                    Err(e) => {
                        let mut r = pending(row, Some(&journal), Run::Skipped);
                        r.result = Outcome::Error;
                        r.failures.push(format!(
                            "this customer was onboarded from other input: {e} (its bundle is \
                             already evaluated; fix the bundle at Twilio, or give the row a new \
                             customer_key to onboard it again)"
                        ));
                        reports.insert(row, r);
                    }
                }
            }
            journal => jobs.push(Job {
                row,
                key,
                customer,
                journal,
                preflight,
            }),
        }
    }
    let unmatched = loaded.customers.len();
    if unmatched > 0 {
        eprintln!(
            "note: {} holds {unmatched} customer{} that no valid row of {} names (removed from \
             the CSV, their key changed, or their row is invalid); they are left as they are",
            args.journal.display(),
            if unmatched == 1 { "" } else { "s" },
            args.csv.display()
        );
    }

    if args.dry_run {
        return Ok(print_dry_run(ctx, &reports, jobs.len(), earlier.len()));
    }
    let journal_file = journal_file.expect("opened unless --dry-run");

    let concurrency = usize::from(args.concurrency);
    let client = &ctx.client;
    let earlier_reports: Vec<RowReport> = futures_util::stream::iter(earlier)
        .map(|(row, journal)| report_earlier(client, row, journal))
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
    let mut running: HashMap<tokio::task::Id, (u64, RowStore)> = HashMap::new();
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
                args.journal.display()
            ));
        }
        while !stopping && tasks.len() < concurrency {
            let Some(job) = queue.next() else { break };
            let row = job.row;
            let store = RowStore::new(
                journal_file.clone(),
                job.key.clone(),
                args.submit,
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
                run_row(client.clone(), job, store.clone(), options, args.submit).instrument(span),
            );
            running.insert(handle.id(), (row, store));
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
                    if let Some((row, store)) = running.remove(&e.id()) {
                        let mut r = pending(row, store.latest().as_ref(), Run::Interrupted);
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
                    progress.note(&format!(
                        "{signal}: stopping: no new rows; the {} rows in flight stop after their \
                         next saved step ({signal} again to stop at once)",
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
        reports.insert(
            job.row,
            pending(job.row, job.journal.as_ref(), Run::NotStarted),
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
    } else {
        print_summary(&report, &csv_path, &json_path);
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
            args.journal.display(),
            journal_file.first_error().unwrap_or_default(),
            s.pending,
            command_line()
        );
        return Ok(EXIT_FAILED);
    }
    if s.pending > 0 {
        let interrupted = report
            .rows
            .iter()
            .filter(|r| r.run == Run::Interrupted)
            .count();
        eprintln!(
            "interrupted: {} rows finished, {interrupted} stopped after a saved step, {} not \
             started; {} holds their progress.\nResume (nothing is created twice) with the same \
             command:\n  {}",
            s.rows - s.pending,
            s.pending - interrupted,
            args.journal.display(),
            command_line()
        );
        return Ok(EXIT_INTERRUPTED);
    }
    Ok(if s.compliant == s.rows {
        EXIT_OK
    } else {
        EXIT_FAILED
    })
}

/// `--dry-run`: what a run would do, and every problem found; exit 0 when every row is ready.
fn print_dry_run(
    ctx: &Context,
    reports: &BTreeMap<u64, RowReport>,
    start: usize,
    earlier: usize,
) -> u8 {
    let refused: Vec<&RowReport> = reports.values().collect();
    if ctx.json {
        println!(
            "{}",
            serde_json::json!({
                "dry_run": true,
                "rows_to_run": start,
                "rows_finished_earlier": earlier,
                "rows_refused": refused,
            })
        );
    } else {
        println!(
            "dry run: {start} rows to run, {earlier} finished by an earlier run, {} refused; \
             nothing was created",
            refused.len()
        );
        for r in &refused {
            println!("row {}: {}", r.row, r.result.as_str());
            for f in &r.failures {
                println!("    {f}");
            }
        }
    }
    if refused.is_empty() {
        EXIT_OK
    } else {
        EXIT_FAILED
    }
}

fn print_summary(report: &Report, csv_path: &Path, json_path: &Path) {
    let s = &report.summary;
    let mut parts = vec![format!("{} compliant", s.compliant)];
    for (n, word) in [
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
    for r in &report.rows {
        if r.result == Outcome::Compliant || (r.result == Outcome::Pending && r.failures.is_empty())
        {
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
    println!("report: {} and {}", csv_path.display(), json_path.display());
}
