//! `trusthub onboard`: one Secondary Customer Profile flow per CSV row.
//!
//! 1. Every row is read and validated; a row with problems is reported (every problem) and
//!    skipped, the others go on. Each policy the valid rows use is fetched once and every row is
//!    checked against it, so a row the policy refuses creates nothing.
//! 2. Rows the journal shows finished are reported, not redone; rows it shows started are
//!    resumed ([`SecondaryProfile::resume`](trusthub::flow::SecondaryProfile::resume)); the
//!    others start. At most `--concurrency` rows run at once, and all of them share one
//!    [`Limiter`] of `--concurrency` requests in flight.
//! 3. Every step of every row is appended to the batch journal before the flow goes on (see
//!    [`crate::batch_journal`]).
//! 4. Ctrl-C stops starting rows and makes each running flow stop right after its next saved
//!    step: the journal then knows every resource the row created, and running the same command
//!    again resumes it without creating anything twice. A second Ctrl-C stops at once.
//! 5. The report (CSV and JSON) lists every row; the exit code is 0 when every row is compliant,
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
use trusthub::api::trusthub_v1::Policy;
use trusthub::evaluation::Evaluation;
use trusthub::flow::{FlowOptions, Journal, JournalStore, Limiter};
use trusthub::sid::{CustomerProfileSid, PolicySid};
use trusthub::{Client, FlowError};

use crate::batch_journal::{finished, is_stopping, BatchJournal, RowStore};
use crate::commands::fetch_policy;
use crate::context::{CliError, Context};
use crate::input::{self, Customer, Defaults, Record};
use crate::report::{self, evaluation_failures, Outcome, Report, RowReport, Run, Summary};
use crate::{EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK};

/// `trusthub onboard`.
#[derive(Debug, clap::Args)]
pub struct OnboardArgs {
    /// The customers: CSV with a header row of keys (`trusthub schema`), one customer per row.
    pub csv: PathBuf,
    /// The batch journal (created if missing). Run the same command again to resume.
    #[arg(long, value_name = "FILE")]
    pub journal: PathBuf,
    /// Rows in flight at once, and requests in flight across all of them.
    #[arg(long, default_value_t = 8, value_name = "N",
          value_parser = clap::value_parser!(u16).range(1..=512))]
    pub concurrency: u16,
    /// Submit each compliant profile for review (step 10).
    #[arg(long)]
    pub submit: bool,
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
    customer: Customer,
    journal: Option<Journal>,
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
        bundle_sid: journal.and_then(|j| j.bundle).map(|b| b.to_string()),
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
        bundle_sid: journal.bundle.map(|b| b.to_string()),
        evaluation_status: Some(
            if compliant {
                "compliant"
            } else {
                "noncompliant"
            }
            .into(),
        ),
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
            .evaluations(bundle.as_str())
            .fetch(evaluation.as_str())
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
        report.submitted_status = Some(
            match client
                .customer_profiles()
                .fetch(bundle.as_str())
                .send()
                .await
            {
                Ok(profile) => profile
                    .status
                    .map(|s| s.to_string())
                    .unwrap_or_else(|| "submitted".into()),
                Err(_) => "submitted (status unavailable)".into(),
            },
        );
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
    } = job;
    let run = if journal.is_some() {
        Run::Resumed
    } else {
        Run::New
    };
    let shared: Arc<dyn JournalStore> = Arc::new(store.clone());
    let result = match journal {
        Some(journal) => {
            customer
                .profile
                .resume(&client, journal, shared, options)
                .await
        }
        None => customer.profile.run(&client, shared, options).await,
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
            report.bundle_sid = Some(flow.bundle().to_string());
            report.evaluation_status = Some(flow.evaluation.status().to_owned());
            if !flow.evaluation.is_compliant() {
                report.result = Outcome::Noncompliant;
                report.failures = evaluation_failures(&flow.evaluation);
                return report;
            }
            report.result = Outcome::Compliant;
            if !submit {
                return report;
            }
            match flow.submit(&client, false).await {
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
        report.bundle_sid = store.latest().and_then(|j| j.bundle).map(|b| b.to_string());
    }
    if let FlowError::Journal { source, .. } = &error {
        if is_stopping(source) {
            report.result = Outcome::Pending;
            report.run = Run::Interrupted;
            report.evaluation_status = None;
            return report;
        }
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

/// Fetches every policy the customers use, once each.
async fn fetch_policies(
    client: &Client,
    customers: &[(u64, Customer)],
) -> Result<BTreeMap<PolicySid, Policy>, CliError> {
    let wanted: BTreeSet<PolicySid> = customers.iter().map(|(_, c)| c.profile.policy()).collect();
    let mut policies = BTreeMap::new();
    for sid in wanted {
        policies.insert(sid, fetch_policy(client, sid).await?);
    }
    Ok(policies)
}

/// `trusthub onboard`.
pub async fn onboard(ctx: &Context, args: &OnboardArgs) -> Result<u8, CliError> {
    let started = Instant::now();
    let rows = read_csv(&args.csv)?;
    let (journal_file, loaded) = BatchJournal::open(&args.journal)
        .map_err(|e| CliError::usage(format!("journal {}: {e}", args.journal.display())))?;
    if loaded.dropped_torn_line {
        eprintln!(
            "note: the last line of {} was cut short (a crash while saving); it was dropped",
            args.journal.display()
        );
    }
    let defaults = Defaults {
        primary_profile: ctx.default_primary_profile(args.primary_profile),
    };

    let mut reports: BTreeMap<u64, RowReport> = BTreeMap::new();
    let mut valid = Vec::new();
    for (row, record) in &rows {
        match input::build(record, &defaults) {
            Ok(customer) => valid.push((*row, customer)),
            Err(problems) => {
                reports.insert(
                    *row,
                    invalid(*row, problems.iter().map(|p| p.to_string()).collect()),
                );
            }
        }
    }
    let policies = fetch_policies(&ctx.client, &valid).await?;
    let mut jobs = Vec::new();
    let mut earlier = Vec::new();
    for (row, customer) in valid {
        let policy_sid = customer.profile.policy();
        let mismatches = customer.profile.check_policy(&policies[&policy_sid]);
        if !mismatches.is_empty() {
            let failures = mismatches
                .iter()
                .map(|p| format!("policy {policy_sid} requires {p}"))
                .collect();
            reports.insert(row, invalid(row, failures));
            continue;
        }
        match loaded.rows.get(&row) {
            Some(journal) if finished(journal, args.submit) => {
                if journal.input_digest == customer.profile.digest() {
                    earlier.push((row, journal.clone()));
                } else {
                    let mut r = pending(row, Some(journal), Run::Skipped);
                    r.result = Outcome::Error;
                    r.failures.push(format!(
                        "the journal's row {row} was finished for other input (the row changed \
                         since); remove the row's lines from {} or use a new journal to onboard \
                         it again",
                        args.journal.display()
                    ));
                    reports.insert(row, r);
                }
            }
            journal => jobs.push(Job {
                row,
                customer,
                journal: journal.cloned(),
            }),
        }
    }

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
    loop {
        while !stopping && tasks.len() < concurrency {
            let Some(job) = queue.next() else { break };
            let row = job.row;
            let store = RowStore::new(
                journal_file.clone(),
                row,
                args.submit,
                stop.clone(),
                job.journal.clone(),
            );
            let options = FlowOptions {
                limiter: limiter.clone(),
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
            Some(()) = interrupts.recv(), if !aborted => {
                if !stopping {
                    stopping = true;
                    stop.store(true, Ordering::SeqCst);
                    progress.note(&format!(
                        "stopping: no new rows; the {} rows in flight stop after their next saved \
                         step (Ctrl-C again to stop at once)",
                        tasks.len()
                    ));
                } else {
                    aborted = true;
                    tasks.abort_all();
                    progress.note("stopping now");
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
    let (csv_path, json_path) = report::paths(&args.journal, args.report_dir.as_deref());
    report::write(&report, &csv_path, &json_path).map_err(|e| {
        CliError::failed(format!(
            "cannot write the report ({} / {}): {e}",
            csv_path.display(),
            json_path.display()
        ))
    })?;

    let s = &report.summary;
    if ctx.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&report).expect("reports serialize")
        );
    } else {
        print_summary(&report, &csv_path, &json_path);
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
        if r.result == Outcome::Compliant || r.result == Outcome::Pending {
            continue;
        }
        println!(
            "row {}: {}{}",
            r.row,
            r.result.as_str(),
            r.bundle_sid
                .as_deref()
                .map(|b| format!(" ({b})"))
                .unwrap_or_default()
        );
        for f in &r.failures {
            println!("    {f}");
        }
    }
    println!("report: {} and {}", csv_path.display(), json_path.display());
}
