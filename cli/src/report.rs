//! The batch report: one line per row, as CSV and JSON, free of personal data.
//!
//! A row is named by its number only (the friendly name is often the business name). What a
//! row holds: the bundle SID, the evaluation and submission statuses, and failure reasons taken
//! from Twilio's evaluation (`requirement.field: reason [code]`), from local validation
//! (`field: expected ...; found <description>`) or from the flow's error.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use serde::Serialize;
use trusthub::api::trusthub_v1::{CustomerProfileEvaluationStatus, CustomerProfileStatus};
use trusthub::evaluation::Evaluation;
use trusthub::flow::files::write_atomic;
use trusthub::sid::CustomerProfileSid;

/// How a row ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// Evaluated compliant (and submitted, when asked).
    Compliant,
    /// Evaluated, not compliant.
    Noncompliant,
    /// Refused by local validation or the policy check; nothing was created.
    Invalid,
    /// The flow or the submission failed.
    Error,
    /// Not finished: interrupted or not started. Running the command again finishes it.
    Pending,
}

impl Outcome {
    /// The report's word.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Compliant => "compliant",
            Outcome::Noncompliant => "noncompliant",
            Outcome::Invalid => "invalid",
            Outcome::Error => "error",
            Outcome::Pending => "pending",
        }
    }
}

/// What this run did with a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Run {
    /// Started from scratch.
    New,
    /// Resumed from the journal.
    Resumed,
    /// Finished by an earlier run: reported, not redone.
    Earlier,
    /// Stopped by Ctrl-C (or SIGTERM, SIGHUP) at a saved step.
    Interrupted,
    /// Stopped because the journal could not be written (a full disk): resumable once it can.
    Stopped,
    /// Not started (a signal or a failed journal write came first).
    NotStarted,
    /// Not run: the input is invalid.
    Skipped,
}

impl Run {
    /// The report's word.
    pub fn as_str(self) -> &'static str {
        match self {
            Run::New => "new",
            Run::Resumed => "resumed",
            Run::Earlier => "earlier",
            Run::Interrupted => "interrupted",
            Run::Stopped => "stopped",
            Run::NotStarted => "not-started",
            Run::Skipped => "skipped",
        }
    }
}

/// One row of the report.
#[derive(Debug, Clone, Serialize)]
pub struct RowReport {
    /// The row number: 1 is the first data row after the header.
    pub row: u64,
    /// How it ended.
    pub result: Outcome,
    /// The secondary customer profile, once created.
    pub bundle_sid: Option<CustomerProfileSid>,
    /// `compliant` / `noncompliant`, once evaluated.
    pub evaluation_status: Option<CustomerProfileEvaluationStatus>,
    /// The status after submission (`pending-review`, ...), when submitted.
    pub submitted_status: Option<CustomerProfileStatus>,
    /// What this run did with it.
    pub run: Run,
    /// Why it is not compliant, one reason each.
    pub failures: Vec<String>,
}

/// Counts by outcome.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct Summary {
    /// Rows in the file.
    pub rows: usize,
    /// Compliant rows.
    pub compliant: usize,
    /// Noncompliant rows.
    pub noncompliant: usize,
    /// Invalid rows.
    pub invalid: usize,
    /// Rows whose flow failed.
    pub error: usize,
    /// Unfinished rows.
    pub pending: usize,
}

impl Summary {
    /// Counts `rows`.
    pub fn of(rows: &[RowReport]) -> Summary {
        let mut s = Summary {
            rows: rows.len(),
            ..Summary::default()
        };
        for r in rows {
            match r.result {
                Outcome::Compliant => s.compliant += 1,
                Outcome::Noncompliant => s.noncompliant += 1,
                Outcome::Invalid => s.invalid += 1,
                Outcome::Error => s.error += 1,
                Outcome::Pending => s.pending += 1,
            }
        }
        s
    }
}

/// The whole report (the JSON file's shape).
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// Counts.
    pub summary: Summary,
    /// Wall time of this run, in seconds.
    pub elapsed_secs: f64,
    /// Every row, in file order.
    pub rows: Vec<RowReport>,
}

/// The evaluation's failures, one line per failed field (or per requirement without fields):
/// `requirement.field: reason [code]`.
pub fn evaluation_failures(evaluation: &Evaluation) -> Vec<String> {
    let code = |c: Option<i64>| c.map(|c| format!(" [{c}]")).unwrap_or_default();
    let mut out = Vec::new();
    for failure in evaluation.failures() {
        if failure.fields.is_empty() {
            out.push(format!(
                "{}: {}{}",
                failure.requirement,
                failure.reason,
                code(failure.error_code)
            ));
        }
        for field in &failure.fields {
            out.push(format!(
                "{}.{}: {}{}",
                failure.requirement,
                field.field,
                field.reason,
                code(field.error_code)
            ));
        }
    }
    out
}

/// The CSV columns, in order.
pub const CSV_COLUMNS: [&str; 7] = [
    "row",
    "result",
    "bundle_sid",
    "evaluation_status",
    "submitted_status",
    "run",
    "failures",
];

/// Separator of the failures in one CSV cell.
pub const FAILURE_SEPARATOR: &str = " | ";

/// The report as CSV text.
pub fn to_csv(report: &Report) -> io::Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(CSV_COLUMNS)?;
    for r in &report.rows {
        w.write_record([
            r.row.to_string().as_str(),
            r.result.as_str(),
            r.bundle_sid.as_ref().map_or("", |s| s.as_str()),
            r.evaluation_status.as_ref().map_or("", |s| s.as_str()),
            r.submitted_status.as_ref().map_or("", |s| s.as_str()),
            r.run.as_str(),
            r.failures.join(FAILURE_SEPARATOR).as_str(),
        ])?;
    }
    w.into_inner().map_err(|e| e.into_error())
}

/// Where the report files go: `<dir>/<journal stem>.report.csv` and `.json`, `dir` being
/// `--report-dir` or the journal's directory.
pub fn paths(journal: &Path, report_dir: Option<&Path>) -> (PathBuf, PathBuf) {
    let dir = match report_dir {
        Some(d) => d.to_path_buf(),
        None => journal
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .map_or_else(|| PathBuf::from("."), Path::to_path_buf),
    };
    let stem = journal
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "onboard".into());
    (
        dir.join(format!("{stem}.report.csv")),
        dir.join(format!("{stem}.report.json")),
    )
}

/// Writes both files, each atomically (never half a report; see
/// [`trusthub::flow::files::write_atomic`]), creating their directory when needed.
pub fn write(report: &Report, csv_path: &Path, json_path: &Path) -> io::Result<()> {
    for path in [csv_path, json_path] {
        if let Some(dir) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            fs::create_dir_all(dir)?;
        }
    }
    write_atomic(csv_path, &to_csv(report)?)?;
    let mut json = serde_json::to_vec_pretty(report).map_err(io::Error::other)?;
    json.push(b'\n');
    write_atomic(json_path, &json)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_has_the_columns_and_joins_failures() {
        let report = Report {
            summary: Summary::default(),
            elapsed_secs: 0.0,
            rows: vec![RowReport {
                row: 3,
                result: Outcome::Invalid,
                bundle_sid: None,
                evaluation_status: None,
                submitted_status: None,
                run: Run::Skipped,
                failures: vec!["a: expected x; found y".into(), "b, c".into()],
            }],
        };
        let text = String::from_utf8(to_csv(&report).unwrap()).unwrap();
        let mut lines = text.lines();
        assert_eq!(
            lines.next().unwrap(),
            "row,result,bundle_sid,evaluation_status,submitted_status,run,failures"
        );
        assert_eq!(
            lines.next().unwrap(),
            "3,invalid,,,,skipped,\"a: expected x; found y | b, c\""
        );
    }

    #[test]
    fn report_paths_follow_the_journal_or_the_report_dir() {
        let (csv, json) = paths(Path::new("work/onboard.journal"), None);
        assert_eq!(csv, Path::new("work/onboard.report.csv"));
        assert_eq!(json, Path::new("work/onboard.report.json"));
        let (csv, _) = paths(Path::new("onboard.journal"), Some(Path::new("out")));
        assert_eq!(csv, Path::new("out/onboard.report.csv"));
        let (csv, _) = paths(Path::new("onboard.journal"), None);
        assert_eq!(csv, Path::new("./onboard.report.csv"));
    }
}
