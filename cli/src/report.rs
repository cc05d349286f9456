//! The batch report: one line per row, as CSV and JSON, free of personal data.
//!
//! A row is named by its number only (the friendly name is often the business name). What a
//! row holds: the bundle SID, the evaluation and submission statuses, for an A2P row its A2P
//! trust product, Messaging Service, brand and campaign with their last statuses seen, and
//! failure reasons taken from Twilio's evaluation (`requirement.field: reason [code]`), from
//! local validation (`field: expected ...; found <description>`), from a failed brand or
//! campaign (`brand: error CODE (fields: ...)`, `brand: TCR feedback: TAX_ID`: codes, field
//! names and feedback categories only, since a reviewer's words may quote the business's data)
//! or from the flow's error.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use serde::Serialize;
use trusthub::api::messaging_v1::RegistrationError;
use trusthub::api::runtime::text::printable;
use trusthub::api::trusthub_v1::{CustomerProfileEvaluationStatus, CustomerProfileStatus};
use trusthub::evaluation::Evaluation;
use trusthub::flow::a2p::{BrandFailure, Stage};
use trusthub::flow::files::write_atomic;
use trusthub::flow::{Journal, TrustProductKind};
use trusthub::sid::{
    BrandRegistrationSid, CustomerProfileSid, MessagingServiceSid, ObjectSid, TrustProductSid,
    UsAppToPersonSid,
};
use trusthub::watch::{StatusChange, Watched};

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
    /// An A2P row: brand approved, campaign verified (and the profile submitted).
    Registered,
    /// An A2P row waiting for a review: its brand (The Campaign Registry) or its campaign.
    /// Not a failure: `onboard --refresh` later looks again and goes on.
    Waiting,
    /// A row whose brand or campaign failed its review (fix what the reasons say, then resubmit
    /// it: the brand in the Console or through the API), or (`--refresh`) whose profile or trust
    /// product Twilio rejected (correct the row, then `onboard --fix`).
    Rejected,
    /// `--refresh`: everything the row submitted (profile, trust products) was approved.
    Approved,
    /// `--fix`: the rejected profile was updated from the corrected row and submitted again.
    Resubmitted,
    /// `--fix`: the profile is not rejected; nothing was sent.
    Unchanged,
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
            Outcome::Registered => "registered",
            Outcome::Waiting => "waiting",
            Outcome::Rejected => "rejected",
            Outcome::Approved => "approved",
            Outcome::Resubmitted => "resubmitted",
            Outcome::Unchanged => "unchanged",
        }
    }

    /// Whether the row reached its goal (compliant profile, registered journey, approved,
    /// resubmitted after a fix, or not rejected and left as it is).
    pub fn is_done(self) -> bool {
        matches!(
            self,
            Outcome::Compliant
                | Outcome::Registered
                | Outcome::Approved
                | Outcome::Resubmitted
                | Outcome::Unchanged
        )
    }

    /// Whether the row failed (invalid, error, noncompliant, rejected).
    pub fn is_failure(self) -> bool {
        matches!(
            self,
            Outcome::Noncompliant | Outcome::Invalid | Outcome::Error | Outcome::Rejected
        )
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
    /// Not run: the input is invalid, or `--refresh` / `--fix` leaves the row (not started,
    /// unfinished, not rejected).
    Skipped,
    /// `--refresh`: the statuses of what the row submitted were fetched; nothing was created.
    Refreshed,
    /// `--fix`: the rejected profile was fixed (updated, evaluated, submitted again).
    Fixed,
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
            Run::Refreshed => "refreshed",
            Run::Fixed => "fixed",
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
    /// Whether the row runs the A2P 10DLC journey.
    pub a2p: bool,
    /// The A2P Messaging Profile trust product, once created.
    pub trust_product_sid: Option<TrustProductSid>,
    /// The Messaging Service, once created (or given).
    pub messaging_service_sid: Option<MessagingServiceSid>,
    /// The brand registration, once created.
    pub brand_sid: Option<BrandRegistrationSid>,
    /// The brand's status when last seen (`PENDING`, `IN_REVIEW`, `APPROVED`, `FAILED`...).
    pub brand_status: Option<String>,
    /// The campaign, once created.
    pub campaign_sid: Option<UsAppToPersonSid>,
    /// The campaign's status when last seen (`IN_PROGRESS`, `VERIFIED`, `FAILED`).
    pub campaign_status: Option<String>,
    /// Whether the row asks for voice trust products (SHAKEN/STIR, CNAM).
    pub voice: bool,
    /// The A2P trust product's status when last seen (submitted: `pending-review`,
    /// `in-review`, `twilio-approved`, `twilio-rejected`).
    pub trust_product_status: Option<String>,
    /// The SHAKEN/STIR trust product, once created.
    pub shaken_stir_sid: Option<TrustProductSid>,
    /// Its status when last seen.
    pub shaken_stir_status: Option<String>,
    /// The CNAM trust product, once created.
    pub cnam_sid: Option<TrustProductSid>,
    /// Its status when last seen.
    pub cnam_status: Option<String>,
    /// `--fix`: the parts of the input updated at Twilio (`representative_1`, `address`,
    /// `bundle`...).
    pub updated: Vec<String>,
    /// `--refresh`: the statuses that changed since the journal last knew them.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub changes: Vec<Change>,
    /// An error that may pass next time (Twilio's 429, a gateway's 5xx, the network): a
    /// worker retries the job later instead of failing it. Not reported.
    #[serde(skip)]
    pub retryable: bool,
}

/// A status that changed since the journal last knew it (`--refresh`): SIDs and statuses only.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Change {
    /// What it is: `profile`, `A2P trust product`, `SHAKEN/STIR trust product`,
    /// `CNAM trust product`, `brand`, `campaign`.
    pub resource: String,
    /// Its SID.
    pub sid: String,
    /// The status the journal knew (none: never looked at).
    pub previous: Option<String>,
    /// The status now.
    pub current: String,
}

impl Change {
    /// From the facade's change.
    pub fn from_status_change(change: &StatusChange) -> Change {
        Change {
            resource: watched_name(&change.resource).to_owned(),
            sid: change.resource.sid().to_string(),
            previous: change
                .previous
                .as_deref()
                .map(|s| printable(s).into_owned()),
            current: printable(&change.current).into_owned(),
        }
    }
}

impl std::fmt::Display for Change {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.previous {
            Some(previous) => write!(
                f,
                "{} {}: {previous} -> {}",
                self.resource, self.sid, self.current
            ),
            None => write!(
                f,
                "{} {}: {} (first look)",
                self.resource, self.sid, self.current
            ),
        }
    }
}

/// How the report names a watched resource.
pub fn watched_name(watched: &Watched) -> &'static str {
    match watched {
        Watched::Profile(_) => "profile",
        Watched::TrustProduct { kind, .. } => trust_product_name(*kind),
        Watched::Brand(_) => "brand",
        Watched::Campaign { .. } => "campaign",
        _ => "resource",
    }
}

/// How the report names a trust product.
pub fn trust_product_name(kind: TrustProductKind) -> &'static str {
    match kind {
        TrustProductKind::A2pMessagingProfile => "A2P trust product",
        TrustProductKind::ShakenStir => "SHAKEN/STIR trust product",
        TrustProductKind::Cnam => "CNAM trust product",
        _ => "trust product",
    }
}

/// The Trust Hub status (a profile's, a trust product's) of Twilio's rejection.
pub const TWILIO_REJECTED: &str = "twilio-rejected";
/// The Trust Hub status of Twilio's approval.
pub const TWILIO_APPROVED: &str = "twilio-approved";

impl RowReport {
    /// A row with nothing known yet but its outcome and what this run did.
    pub fn new(row: u64, result: Outcome, run: Run, a2p: bool) -> RowReport {
        RowReport {
            row,
            result,
            bundle_sid: None,
            evaluation_status: None,
            submitted_status: None,
            run,
            failures: Vec::new(),
            a2p,
            trust_product_sid: None,
            messaging_service_sid: None,
            brand_sid: None,
            brand_status: None,
            campaign_sid: None,
            campaign_status: None,
            voice: false,
            trust_product_status: None,
            shaken_stir_sid: None,
            shaken_stir_status: None,
            cnam_sid: None,
            cnam_status: None,
            updated: Vec::new(),
            changes: Vec::new(),
            retryable: false,
        }
    }

    /// The same row, marked as asking for voice trust products (or not).
    pub fn with_voice(mut self, voice: bool) -> RowReport {
        self.voice = voice;
        self
    }

    /// Fills what is not known yet from the row's journal: the bundle and, for an A2P row, its
    /// A2P SIDs, for a voice row its trust products, and the statuses last seen.
    pub fn fill_from(&mut self, journal: &Journal) {
        if self.bundle_sid.is_none() {
            self.bundle_sid = journal.bundle;
        }
        let status = |sid: Option<ObjectSid>| {
            sid.and_then(|sid| journal.statuses.get(&sid))
                .map(|s| printable(s).into_owned())
        };
        if self.submitted_status.is_none() && journal.submitted {
            self.submitted_status = status(journal.bundle.map(ObjectSid::from))
                .map(|s| s.parse().unwrap_or_else(|never| match never {}));
        }
        if self.voice {
            for (kind, sid, status_of) in [
                (
                    TrustProductKind::ShakenStir,
                    &mut self.shaken_stir_sid,
                    &mut self.shaken_stir_status,
                ),
                (
                    TrustProductKind::Cnam,
                    &mut self.cnam_sid,
                    &mut self.cnam_status,
                ),
            ] {
                let Some(progress) = journal.voice.get(&kind) else {
                    continue;
                };
                *sid = sid.or(progress.sid);
                if status_of.is_none() {
                    *status_of = status(progress.sid.map(ObjectSid::from));
                }
            }
        }
        let Some(a2p) = journal.a2p.as_ref().filter(|_| self.a2p) else {
            return;
        };
        if self.trust_product_status.is_none() {
            self.trust_product_status = status(a2p.trust_product.sid.map(ObjectSid::from));
        }
        self.trust_product_sid = self.trust_product_sid.or(a2p.trust_product.sid);
        self.messaging_service_sid = self.messaging_service_sid.or(a2p.messaging_service);
        self.brand_sid = self.brand_sid.or(a2p.brand);
        if self.brand_status.is_none() && a2p.brand.is_some() {
            self.brand_status = a2p.brand_status.clone();
        }
        self.campaign_sid = self.campaign_sid.or(a2p.campaign);
        if self.campaign_status.is_none() && a2p.campaign.is_some() {
            self.campaign_status = a2p.campaign_status.clone();
        }
    }

    /// Takes the outcome, the statuses and the failure reasons of where the journey stopped.
    pub fn set_stage(&mut self, stage: &Stage) {
        match stage {
            Stage::BrandPending { brand, status } => {
                self.result = Outcome::Waiting;
                self.brand_sid = Some(*brand);
                self.brand_status = Some(status.as_str().to_owned());
            }
            Stage::BrandFailed { brand, failure } => {
                self.result = Outcome::Rejected;
                self.brand_sid = Some(*brand);
                self.brand_status = Some("FAILED".to_owned());
                self.failures.extend(brand_failures(failure));
            }
            Stage::CampaignPending {
                brand,
                campaign,
                status,
            } => {
                self.result = Outcome::Waiting;
                self.brand_sid = Some(*brand);
                self.brand_status = Some("APPROVED".to_owned());
                self.campaign_sid = Some(*campaign);
                self.campaign_status = Some(status.as_str().to_owned());
            }
            Stage::CampaignFailed {
                brand,
                campaign,
                errors,
            } => {
                self.result = Outcome::Rejected;
                self.brand_sid = Some(*brand);
                self.brand_status = Some("APPROVED".to_owned());
                self.campaign_sid = Some(*campaign);
                self.campaign_status = Some("FAILED".to_owned());
                self.failures
                    .extend(registration_errors("campaign", errors));
                if errors.is_empty() {
                    self.failures.push(
                        "campaign: failed its review without an error code (see the campaign in \
                         the Twilio Console); update the campaign to resubmit it"
                            .to_owned(),
                    );
                }
            }
            Stage::Registered { brand, campaign } => {
                self.result = Outcome::Registered;
                self.brand_sid = Some(*brand);
                self.brand_status = Some("APPROVED".to_owned());
                self.campaign_sid = Some(*campaign);
                self.campaign_status = Some(CAMPAIGN_VERIFIED.to_owned());
            }
            // A stage this version does not know: reported by its own words.
            other => {
                self.result = Outcome::Waiting;
                self.failures
                    .push(printable(&other.to_string()).into_owned());
            }
        }
    }

    /// What the row waits for, in words (`brand BN... (PENDING)`), when it waits: its campaign or
    /// brand, else (`--refresh`) its trust products and profile under review.
    pub fn waiting_for(&self) -> Option<String> {
        if self.result != Outcome::Waiting {
            return None;
        }
        let status = |s: &Option<String>| s.as_deref().unwrap_or("unknown").to_owned();
        let settled = |s: &Option<String>| {
            matches!(
                s.as_deref(),
                Some("APPROVED" | "VERIFIED" | "FAILED" | TWILIO_APPROVED | TWILIO_REJECTED)
            )
        };
        let mut waiting = Vec::new();
        match (self.campaign_sid, self.brand_sid) {
            (Some(campaign), _) if !settled(&self.campaign_status) => waiting.push(format!(
                "campaign {campaign} ({})",
                status(&self.campaign_status)
            )),
            (None, Some(brand)) if !settled(&self.brand_status) => {
                waiting.push(format!("brand {brand} ({})", status(&self.brand_status)))
            }
            _ => {}
        }
        for (what, sid, s) in self.bundles() {
            if s.is_some() && !settled(&s) {
                waiting.push(format!("{what} {sid} ({})", status(&s)));
            }
        }
        (!waiting.is_empty()).then(|| waiting.join(", "))
    }

    /// The profile (once a status of it is known) and the trust products with the status last
    /// seen: (name, SID, status).
    pub fn bundles(&self) -> Vec<(&'static str, String, Option<String>)> {
        let mut out = Vec::new();
        if let (Some(bundle), Some(status)) = (self.bundle_sid, &self.submitted_status) {
            out.push((
                "profile",
                bundle.to_string(),
                Some(status.as_str().to_owned()),
            ));
        }
        for (what, sid, status) in [
            (
                TrustProductKind::A2pMessagingProfile,
                self.trust_product_sid,
                &self.trust_product_status,
            ),
            (
                TrustProductKind::ShakenStir,
                self.shaken_stir_sid,
                &self.shaken_stir_status,
            ),
            (TrustProductKind::Cnam, self.cnam_sid, &self.cnam_status),
        ] {
            if let Some(sid) = sid {
                out.push((trust_product_name(what), sid.to_string(), status.clone()));
            }
        }
        out
    }
}

const CAMPAIGN_VERIFIED: &str = crate::batch_journal::CAMPAIGN_VERIFIED;

/// A failed registration's errors as report lines: `what: error CODE (fields: a, b)`. Twilio's
/// descriptions are left out: a reviewer's words may quote the business's data.
pub fn registration_errors(what: &str, errors: &[RegistrationError]) -> Vec<String> {
    errors
        .iter()
        .map(|e| {
            let code = e.error_code.map_or_else(
                || "an error without a code".to_owned(),
                |c| format!("error {c}"),
            );
            match e.fields.as_ref().filter(|f| !f.is_empty()) {
                Some(fields) => {
                    format!("{what}: {code} (fields: {})", printable(&fields.join(", ")))
                }
                None => format!("{what}: {code}"),
            }
        })
        .collect()
}

/// A failed brand's reasons as report lines: its errors and TCR's feedback categories.
pub fn brand_failures(failure: &BrandFailure) -> Vec<String> {
    let mut out = registration_errors("brand", &failure.errors);
    if !failure.feedback.is_empty() {
        let feedback: Vec<&str> = failure.feedback.iter().map(|f| f.as_str()).collect();
        out.push(format!(
            "brand: TCR feedback: {}",
            printable(&feedback.join(", "))
        ));
    }
    if out.is_empty() {
        out.push(
            "brand: failed vetting without an error code (see the brand in the Twilio Console)"
                .to_owned(),
        );
    }
    out.push(
        "brand: fix the data the reasons name, then resubmit the brand (Console or API) and run \
         `trusthub onboard --refresh`"
            .to_owned(),
    );
    out
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
    /// A2P rows registered (brand approved, campaign verified).
    pub registered: usize,
    /// A2P rows waiting for a review (brand or campaign).
    pub waiting: usize,
    /// Rows whose brand or campaign failed its review, or (`--refresh`) whose profile or trust
    /// product Twilio rejected.
    pub rejected: usize,
    /// `--refresh`: rows whose profile and trust products Twilio approved.
    pub approved: usize,
    /// `--fix`: rows whose rejected profile was fixed and submitted again.
    pub resubmitted: usize,
    /// `--fix`: rows whose profile is not rejected, left as they are.
    pub unchanged: usize,
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
                Outcome::Registered => s.registered += 1,
                Outcome::Waiting => s.waiting += 1,
                Outcome::Rejected => s.rejected += 1,
                Outcome::Approved => s.approved += 1,
                Outcome::Resubmitted => s.resubmitted += 1,
                Outcome::Unchanged => s.unchanged += 1,
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

/// The CSV columns, in order (the A2P ones after those of earlier versions, which keep their
/// places; then the voice products', the A2P trust product's status and the parts a fix
/// updated).
pub const CSV_COLUMNS: [&str; 19] = [
    "row",
    "result",
    "bundle_sid",
    "evaluation_status",
    "submitted_status",
    "run",
    "failures",
    "trust_product_sid",
    "messaging_service_sid",
    "brand_sid",
    "brand_status",
    "campaign_sid",
    "campaign_status",
    "trust_product_status",
    "shaken_stir_sid",
    "shaken_stir_status",
    "cnam_sid",
    "cnam_status",
    "updated",
];

/// Separator of the parts a fix updated in one CSV cell.
pub const UPDATED_SEPARATOR: &str = ", ";

/// Separator of the failures in one CSV cell.
pub const FAILURE_SEPARATOR: &str = " | ";

/// [`CSV_COLUMNS`] as output columns (`-o csv|tsv` of `onboard` prints the report's rows).
pub fn columns() -> Vec<crate::output::Column> {
    CSV_COLUMNS
        .iter()
        .map(|name| crate::output::column(name, name))
        .collect()
}

/// One report row's cells, in the order of [`CSV_COLUMNS`].
pub fn cells(r: &RowReport) -> Vec<String> {
    let text = |s: Option<&str>| s.unwrap_or_default().to_owned();
    vec![
        r.row.to_string(),
        r.result.as_str().to_owned(),
        text(r.bundle_sid.as_ref().map(|s| s.as_str())),
        text(r.evaluation_status.as_ref().map(|s| s.as_str())),
        text(r.submitted_status.as_ref().map(|s| s.as_str())),
        r.run.as_str().to_owned(),
        r.failures.join(FAILURE_SEPARATOR),
        text(r.trust_product_sid.as_ref().map(|s| s.as_str())),
        text(r.messaging_service_sid.as_ref().map(|s| s.as_str())),
        text(r.brand_sid.as_ref().map(|s| s.as_str())),
        text(r.brand_status.as_deref()),
        text(r.campaign_sid.as_ref().map(|s| s.as_str())),
        text(r.campaign_status.as_deref()),
        text(r.trust_product_status.as_deref()),
        text(r.shaken_stir_sid.as_ref().map(|s| s.as_str())),
        text(r.shaken_stir_status.as_deref()),
        text(r.cnam_sid.as_ref().map(|s| s.as_str())),
        text(r.cnam_status.as_deref()),
        r.updated.join(UPDATED_SEPARATOR),
    ]
}

/// The report as CSV text.
pub fn to_csv(report: &Report) -> io::Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(CSV_COLUMNS)?;
    for r in &report.rows {
        w.write_record(cells(r))?;
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
                failures: vec!["a: expected x; found y".into(), "b, c".into()],
                ..RowReport::new(3, Outcome::Invalid, Run::Skipped, false)
            }],
        };
        let text = String::from_utf8(to_csv(&report).unwrap()).unwrap();
        let mut lines = text.lines();
        assert_eq!(
            lines.next().unwrap(),
            "row,result,bundle_sid,evaluation_status,submitted_status,run,failures,\
             trust_product_sid,messaging_service_sid,brand_sid,brand_status,campaign_sid,\
             campaign_status,trust_product_status,shaken_stir_sid,shaken_stir_status,cnam_sid,\
             cnam_status,updated"
        );
        assert_eq!(
            lines.next().unwrap(),
            "3,invalid,,,,skipped,\"a: expected x; found y | b, c\",,,,,,,,,,,,"
        );
    }

    #[test]
    fn stages_give_outcomes_statuses_and_reasons_without_descriptions() {
        use trusthub::api::messaging_v1::{
            BrandRegistrationsBrandFeedback, BrandRegistrationsStatus, UsAppToPersonCampaignStatus,
        };
        let brand = BrandRegistrationSid::from_static("BN0123456789abcdef0123456789abcdef");
        let campaign = UsAppToPersonSid::from_static("QE0123456789abcdef0123456789abcdef");
        let mut r = RowReport::new(1, Outcome::Error, Run::New, true);
        r.set_stage(&Stage::BrandPending {
            brand,
            status: BrandRegistrationsStatus::InReview,
        });
        assert_eq!(r.result, Outcome::Waiting);
        assert_eq!(r.brand_status.as_deref(), Some("IN_REVIEW"));
        assert_eq!(
            r.waiting_for().unwrap(),
            format!("brand {brand} (IN_REVIEW)")
        );

        let mut r = RowReport::new(2, Outcome::Error, Run::New, true);
        r.set_stage(&Stage::BrandFailed {
            brand,
            failure: BrandFailure {
                failure_reason: Some("EIN 12-3456789 does not match Zephyr LLC".into()),
                errors: vec![{
                    let mut e = RegistrationError::default();
                    e.error_code = Some(30794);
                    e.description = Some("EIN 12-3456789 does not match Zephyr LLC".into());
                    e.fields = Some(vec!["tax_id".into()]);
                    e
                }],
                feedback: vec![BrandRegistrationsBrandFeedback::TaxId],
            },
        });
        assert_eq!(r.result, Outcome::Rejected);
        assert_eq!(r.failures[0], "brand: error 30794 (fields: tax_id)");
        assert_eq!(r.failures[1], "brand: TCR feedback: TAX_ID");
        let text = r.failures.join(" ");
        assert!(
            !text.contains("3456789") && !text.contains("Zephyr"),
            "{text}"
        );

        let mut r = RowReport::new(3, Outcome::Error, Run::New, true);
        r.set_stage(&Stage::CampaignPending {
            brand,
            campaign,
            status: UsAppToPersonCampaignStatus::InProgress,
        });
        assert_eq!(r.result, Outcome::Waiting);
        assert_eq!(
            r.waiting_for().unwrap(),
            format!("campaign {campaign} (IN_PROGRESS)")
        );
        r.set_stage(&Stage::Registered { brand, campaign });
        assert_eq!(r.result, Outcome::Registered);
        assert_eq!(r.campaign_status.as_deref(), Some("VERIFIED"));
        assert!(r.result.is_done() && !r.result.is_failure());
        assert!(Outcome::Rejected.is_failure() && !Outcome::Waiting.is_failure());
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
