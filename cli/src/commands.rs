//! The single-profile commands: `profile create|status|evaluate`, `policies list`,
//! `emulator` and `schema`.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use futures_util::TryStreamExt;
use serde_json::{json, Value};
use trusthub::api::runtime::text::printable;
use trusthub::api::trusthub_v1::Policy;
use trusthub::evaluation::Evaluation;
use trusthub::flow::a2p::Journey;
use trusthub::flow::{
    FileStore, FlowOptions, FlowReport, JournalStore, NoStore, Outcome, Preflight,
};
use trusthub::sid::{CustomerProfileSid, PolicySid};
use trusthub::{FlowError, Submission};

use crate::context::{CliError, Context};
use crate::input::{self, Defaults, Need, Problem, FIELDS, MESSAGE_SEPARATOR, UNLISTED_PREFIX};
use crate::output::{column, Column, Output};
use crate::report::{evaluation_failures, Outcome as ReportOutcome, RowReport, Run as ReportRun};
use crate::{EXIT_FAILED, EXIT_OK, EXIT_WAITING};

/// `profile create`.
#[derive(Debug, clap::Args)]
pub struct CreateArgs {
    /// The customer: a .toml or .json file (`trusthub schema` lists the keys).
    #[arg(long, short)]
    pub file: PathBuf,
    /// Submit for review (step 10) when the evaluation is compliant.
    #[arg(long)]
    pub submit: bool,
    /// Validate locally and against the policy; create nothing.
    #[arg(long, conflicts_with = "submit")]
    pub dry_run: bool,
    /// The ISV's primary customer profile, for an input without primary_profile_sid.
    #[arg(long, value_name = "BU...")]
    pub primary_profile: Option<CustomerProfileSid>,
    /// Journal file: saved after every step; if it exists, the flow resumes from it (an A2P
    /// journey goes on from where it stopped: run it again later to follow the reviews).
    #[arg(long, value_name = "FILE")]
    pub journal: Option<PathBuf>,
    /// A2P input: follow the brand's vetting for up to SECS (0: one look).
    #[arg(long, value_name = "SECS", default_value = "0", value_parser = crate::onboard::seconds)]
    pub brand_wait: Duration,
    /// A2P input: follow the campaign's review for up to SECS (0: one look).
    #[arg(long, value_name = "SECS", default_value = "0", value_parser = crate::onboard::seconds)]
    pub campaign_wait: Duration,
    /// A2P input: how often a review is looked at while waiting, in seconds.
    #[arg(long, value_name = "SECS", default_value = "5", value_parser = crate::onboard::seconds)]
    pub poll: Duration,
}

fn print_json(value: &Value) {
    println!(
        "{}",
        serde_json::to_string_pretty(value).expect("JSON values serialize")
    );
}

fn problems_json(problems: &[Problem]) -> Value {
    Value::Array(
        problems
            .iter()
            .map(|p| json!({"field": p.field, "expected": p.expected, "found": p.found}))
            .collect(),
    )
}

/// The evaluation as JSON: status, the results as Twilio sent them, and the failure lines.
pub fn evaluation_json(evaluation: &Evaluation) -> Value {
    json!({
        "sid": evaluation.sid(),
        "status": evaluation.status(),
        "compliant": evaluation.is_compliant(),
        "results": evaluation.results(),
        "failures": evaluation_failures(evaluation),
    })
}

/// The evaluation as a table (without its header row with `--no-header`): one line per
/// requirement, one more per failed field.
fn evaluation_table_with(evaluation: &Evaluation, output: Output) -> String {
    let rows = evaluation_rows(evaluation);
    let passed = evaluation
        .results()
        .iter()
        .filter(|r| r.passed == Some(true))
        .count();
    format!(
        "evaluation {}: {} ({passed} of {} requirements passed)\n{}",
        evaluation
            .sid()
            .map_or_else(|| "(no sid)".to_owned(), |sid| sid.to_string()),
        evaluation.status().map_or("unknown", |s| s.as_str()),
        evaluation.results().len(),
        output.render(&EVALUATE_COLUMNS[3..], &rows)
    )
}

/// The evaluation's rows: requirement, result (`ok`/`FAIL`), field, code, reason; one per
/// requirement, one more per failed field.
fn evaluation_rows(evaluation: &Evaluation) -> Vec<Vec<String>> {
    let code = |c: Option<i64>| c.map(|c| c.to_string()).unwrap_or_default();
    let mut rows = Vec::new();
    for r in evaluation.results() {
        let name = printable(r.requirement_name.as_deref().unwrap_or_default()).into_owned();
        if r.passed == Some(true) {
            rows.push(vec![
                name,
                "ok".into(),
                String::new(),
                String::new(),
                String::new(),
            ]);
            continue;
        }
        rows.push(vec![
            name,
            "FAIL".into(),
            String::new(),
            code(r.error_code),
            printable(r.failure_reason.as_deref().unwrap_or_default()).into_owned(),
        ]);
        for field in r.invalid.iter().flatten() {
            rows.push(vec![
                String::new(),
                String::new(),
                printable(
                    field
                        .object_field
                        .as_deref()
                        .or(field.friendly_name.as_deref())
                        .unwrap_or_default(),
                )
                .into_owned(),
                code(field.error_code),
                printable(field.failure_reason.as_deref().unwrap_or_default()).into_owned(),
            ]);
        }
    }
    rows
}

fn outcome_word(outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::Created => "created",
        Outcome::Journaled => "journaled",
        Outcome::Found => "found",
        Outcome::Checked => "checked",
    }
}

/// `trusthub profile create`.
pub async fn profile_create(ctx: &Context, args: &CreateArgs) -> Result<u8, CliError> {
    let record = input::read_customer_file(&args.file).map_err(CliError::usage)?;
    let defaults = Defaults {
        primary_profile: ctx.default_primary_profile(args.primary_profile),
    };
    let customer = match input::build(&record, &defaults) {
        Ok(customer) => customer,
        Err(problems) => {
            if ctx.json {
                print_json(&json!({"valid": false, "problems": problems_json(&problems)}));
            } else {
                println!(
                    "{}: {} problem{}, nothing was sent:",
                    args.file.display(),
                    problems.len(),
                    if problems.len() == 1 { "" } else { "s" }
                );
                for p in &problems {
                    println!("  - {p}");
                }
            }
            return Ok(EXIT_FAILED);
        }
    };
    if customer.voice.is_some() {
        return Err(CliError::usage(format!(
            "{}: the voice.* keys (SHAKEN/STIR, CNAM) are run by `trusthub onboard` (a CSV of one \
             row, with --journal, works); `profile create` runs the profile and the A2P journey \
             only; nothing was sent",
            args.file.display()
        )));
    }
    let policy_sid = customer.profile.policy();
    let primary = customer.profile.primary_profile();
    let preflight = match Preflight::check(&ctx.client, policy_sid, primary).await {
        Ok(preflight) => Arc::new(preflight),
        Err(e @ FlowError::PrimaryProfile { .. }) => {
            if ctx.json {
                print_json(
                    &json!({"valid": false, "primary_profile": primary.to_string(), "problems": [e.to_string()]}),
                );
            } else {
                println!("{e}");
            }
            return Ok(EXIT_FAILED);
        }
        Err(e) => return Err(CliError::failed(e)),
    };
    let policy = preflight.policy();
    let mismatches = customer.profile.check_policy(policy);
    if !mismatches.is_empty() {
        if ctx.json {
            print_json(&json!({
                "valid": false,
                "policy": policy_sid.to_string(),
                "policy_problems": mismatches,
                "warnings": customer.warnings,
            }));
        } else {
            println!(
                "policy {policy_sid} requires what the input does not provide; nothing was created:"
            );
            for p in &mismatches {
                println!("  - {p}");
            }
        }
        return Ok(EXIT_FAILED);
    }
    if args.dry_run {
        if ctx.json {
            print_json(&json!({
                "valid": true,
                "policy": policy_sid.to_string(),
                "problems": [],
                "warnings": customer.warnings,
            }));
        } else {
            println!(
                "dry run: the input is valid and meets policy {policy_sid} ({}), and the primary \
                 profile {primary} can carry it; nothing was created",
                policy.friendly_name.as_deref().unwrap_or("unnamed")
            );
            for w in &customer.warnings {
                println!("  warning: {w}");
            }
        }
        return Ok(EXIT_OK);
    }
    if !ctx.json {
        for w in &customer.warnings {
            eprintln!("warning: {w}");
        }
    }

    let (store, journal): (Arc<dyn JournalStore>, _) = match &args.journal {
        Some(path) => {
            let journal_error =
                |e: std::io::Error| CliError::usage(format!("journal {}: {e}", path.display()));
            let store = FileStore::open(path).map_err(journal_error)?;
            let journal = store.load().map_err(journal_error)?;
            (Arc::new(store), journal)
        }
        None => (Arc::new(NoStore), None),
    };
    let resumed = journal.is_some();
    let options = FlowOptions {
        preflight: Some(preflight.clone()),
        ..FlowOptions::default()
    };
    if let Some(journey) = &customer.journey {
        return journey_create(ctx, args, journey, store, journal, options).await;
    }
    let result = match journal {
        Some(journal) => {
            ctx.client
                .secondary_profile(&customer.profile)
                .journal(store)
                .resuming(journal)
                .options(options)
                .run()
                .await
        }
        None => {
            ctx.client
                .secondary_profile(&customer.profile)
                .journal(store)
                .options(options)
                .run()
                .await
        }
    };
    let mut report: FlowReport = result.map_err(|e| {
        let hint = match &args.journal {
            Some(path) => format!(
                "; the journal {} holds the progress: run the same command again to resume",
                path.display()
            ),
            None => String::new(),
        };
        CliError::failed(format!("{e}{hint}"))
    })?;
    let compliant = report.evaluation.is_compliant();
    let submitted = if args.submit && compliant {
        Some(
            report
                .submit(Submission::WhenCompliant)
                .await
                .map_err(|e| {
                    CliError::failed(format!("{} evaluated compliant, but {e}", report.bundle()))
                })?,
        )
    } else {
        None
    };

    if ctx.json {
        let steps: Vec<Value> = report
            .steps
            .iter()
            .map(|s| {
                json!({
                    "step": s.step.to_string(),
                    "sid": s.sid,
                    "outcome": outcome_word(s.outcome),
                    "elapsed_ms": s.elapsed.as_millis() as u64,
                })
            })
            .collect();
        print_json(&json!({
            "bundle_sid": report.bundle().to_string(),
            "resumed": resumed,
            "evaluation": evaluation_json(&report.evaluation),
            "submitted_status": submitted,
            "steps": steps,
            "warnings": report.warnings.iter().map(|w| w.to_string()).collect::<Vec<_>>(),
            "elapsed_ms": report.elapsed.as_millis() as u64,
        }));
    } else {
        println!(
            "{} {} in {} ms ({} steps)",
            if resumed { "resumed" } else { "created" },
            report.bundle(),
            report.elapsed.as_millis(),
            report.steps.len()
        );
        let rows: Vec<Vec<String>> = report
            .steps
            .iter()
            .map(|s| {
                vec![
                    s.step.to_string(),
                    s.sid.map(|sid| sid.to_string()).unwrap_or_default(),
                    outcome_word(s.outcome).to_owned(),
                    s.elapsed.as_millis().to_string(),
                ]
            })
            .collect();
        print!("{}", ctx.output.render(&STEP_COLUMNS, &rows));
        print!("{}", evaluation_table_with(&report.evaluation, ctx.output));
        match &submitted {
            Some(status) => println!("submitted for review: {status}"),
            None if args.submit => {
                println!("not submitted: the evaluation is not compliant")
            }
            None => {
                println!("not submitted (pass --submit to submit a compliant profile for review)")
            }
        }
    }
    Ok(if compliant && (submitted.is_some() || !args.submit) {
        EXIT_OK
    } else {
        EXIT_FAILED
    })
}

/// `trusthub profile create` of an A2P input: the journey, then where it stopped.
async fn journey_create(
    ctx: &Context,
    args: &CreateArgs,
    journey: &Journey,
    store: Arc<dyn JournalStore>,
    journal: Option<trusthub::flow::Journal>,
    options: FlowOptions,
) -> Result<u8, CliError> {
    let resumed = journal.is_some();
    let mut flow = ctx
        .client
        .a2p_journey(journey)
        .journal(store)
        .options(options)
        .wait_for_brand(args.brand_wait)
        .wait_for_campaign(args.campaign_wait)
        .poll(args.poll);
    if let Some(journal) = journal {
        flow = flow.resuming(journal);
    }
    let done = flow.run().await.map_err(|e| {
        let hint = match &args.journal {
            Some(path) => format!(
                "; the journal {} holds the progress: run the same command again to resume",
                path.display()
            ),
            None => String::new(),
        };
        CliError::failed(format!("{e}{hint}"))
    })?;
    let mut row = RowReport::new(0, ReportOutcome::Error, ReportRun::New, true);
    row.fill_from(&done.journal);
    row.set_stage(&done.stage);
    let later = match &args.journal {
        Some(_) => "run the same command again later to follow it (nothing is created twice)",
        None => "pass --journal to follow it later without creating anything twice",
    };
    if ctx.json {
        let steps: Vec<Value> = done
            .steps
            .iter()
            .map(|s| {
                json!({
                    "step": s.step.to_string(),
                    "sid": s.sid,
                    "outcome": outcome_word(s.outcome),
                    "elapsed_ms": s.elapsed.as_millis() as u64,
                })
            })
            .collect();
        print_json(&json!({
            "bundle_sid": row.bundle_sid,
            "resumed": resumed,
            "result": row.result,
            "trust_product_sid": row.trust_product_sid,
            "messaging_service_sid": row.messaging_service_sid,
            "brand_sid": row.brand_sid,
            "brand_status": row.brand_status,
            "campaign_sid": row.campaign_sid,
            "campaign_status": row.campaign_status,
            "failures": row.failures,
            "steps": steps,
            "warnings": done.warnings.iter().map(|w| w.to_string()).collect::<Vec<_>>(),
            "elapsed_ms": done.elapsed.as_millis() as u64,
        }));
    } else {
        println!(
            "{} the A2P journey of {} in {} ms ({} steps)",
            if resumed { "resumed" } else { "ran" },
            row.bundle_sid
                .map_or_else(|| "(no profile)".to_owned(), |b| b.to_string()),
            done.elapsed.as_millis(),
            done.steps.len()
        );
        let rows: Vec<Vec<String>> = done
            .steps
            .iter()
            .map(|s| {
                vec![
                    s.step.to_string(),
                    s.sid.map(|sid| sid.to_string()).unwrap_or_default(),
                    outcome_word(s.outcome).to_owned(),
                    s.elapsed.as_millis().to_string(),
                ]
            })
            .collect();
        print!("{}", ctx.output.render(&STEP_COLUMNS, &rows));
        let cell = |s: Option<String>| s.unwrap_or_else(|| "-".to_owned());
        print!(
            "{}",
            ctx.output.render(
                &[
                    column("RESOURCE", "resource"),
                    column("SID", "sid"),
                    column("STATUS", "status"),
                ],
                &[
                    vec![
                        "A2P trust product".into(),
                        cell(row.trust_product_sid.map(|s| s.to_string())),
                        String::new(),
                    ],
                    vec![
                        "Messaging Service".into(),
                        cell(row.messaging_service_sid.map(|s| s.to_string())),
                        String::new(),
                    ],
                    vec![
                        "brand".into(),
                        cell(row.brand_sid.map(|s| s.to_string())),
                        cell(row.brand_status.clone()),
                    ],
                    vec![
                        "campaign".into(),
                        cell(row.campaign_sid.map(|s| s.to_string())),
                        cell(row.campaign_status.clone()),
                    ],
                ]
            )
        );
        match row.waiting_for() {
            Some(what) => println!("waiting for {what}: {later}"),
            None => println!("{}", row.result.as_str()),
        }
        for f in &row.failures {
            println!("  - {f}");
        }
    }
    Ok(match row.result {
        ReportOutcome::Registered => EXIT_OK,
        ReportOutcome::Waiting => EXIT_WAITING,
        _ => EXIT_FAILED,
    })
}

fn date(d: Option<time::OffsetDateTime>) -> String {
    d.and_then(|d| {
        d.format(&time::format_description::well_known::Rfc3339)
            .ok()
    })
    .unwrap_or_default()
}

/// `trusthub profile status`.
pub async fn profile_status(ctx: &Context, bundles: &[CustomerProfileSid]) -> Result<u8, CliError> {
    let mut rows = Vec::new();
    let mut out = Vec::new();
    let mut failed = false;
    for bundle in bundles {
        match ctx
            .client
            .customer_profiles()
            .fetch(bundle.as_str())
            .send()
            .await
        {
            Ok(profile) => {
                let status = profile
                    .status
                    .as_ref()
                    .map(|s| s.to_string())
                    .unwrap_or_default();
                // Rejection messages may quote the business's data: codes only.
                let codes: Vec<String> = profile
                    .errors
                    .iter()
                    .flatten()
                    .filter_map(|e| e.code.map(|c| c.to_string()))
                    .collect();
                rows.push(vec![
                    bundle.to_string(),
                    status.clone(),
                    profile
                        .policy_sid
                        .map(|p| p.to_string())
                        .unwrap_or_default(),
                    date(profile.valid_until),
                    date(profile.date_updated),
                    codes.join(","),
                ]);
                out.push(json!({
                    "sid": bundle.to_string(),
                    "status": status,
                    "policy_sid": profile.policy_sid,
                    "valid_until": date(profile.valid_until),
                    "date_updated": date(profile.date_updated),
                    "error_codes": codes,
                }));
            }
            Err(e) => {
                failed = true;
                rows.push(vec![
                    bundle.to_string(),
                    "(error)".into(),
                    String::new(),
                    String::new(),
                    String::new(),
                    e.to_string(),
                ]);
                out.push(json!({"sid": bundle.to_string(), "error": e.to_string()}));
            }
        }
    }
    if ctx.json {
        print_json(&Value::Array(out));
    } else {
        print!("{}", ctx.output.render(&STATUS_COLUMNS, &rows));
    }
    Ok(if failed { EXIT_FAILED } else { EXIT_OK })
}

/// `profile create`'s steps (a table: `profile create` takes `-o table` or `json`).
const STEP_COLUMNS: [Column; 4] = [
    column("STEP", "step"),
    column("SID", "sid"),
    column("OUTCOME", "outcome"),
    column("MS", "elapsed_ms"),
];

/// `profile status`'s columns: a failed fetch has the status `(error)` and the error in
/// `errors`; otherwise `errors` holds the rejection codes, comma-separated.
pub const STATUS_COLUMNS: [Column; 6] = [
    column("BUNDLE", "bundle_sid"),
    column("STATUS", "status"),
    column("POLICY", "policy_sid"),
    column("VALID UNTIL", "valid_until"),
    column("UPDATED", "date_updated"),
    column("ERRORS", "errors"),
];

/// `profile evaluate`'s columns with `-o csv|tsv`: one row per requirement, one more per failed
/// field (`requirement` empty); a profile that could not be evaluated has the result `error`
/// and the error in `reason`.
pub const EVALUATE_COLUMNS: [Column; 8] = [
    column("BUNDLE", "bundle_sid"),
    column("EVALUATION", "evaluation_sid"),
    column("STATUS", "evaluation_status"),
    column("REQUIREMENT", "requirement"),
    column("RESULT", "result"),
    column("FIELD", "field"),
    column("CODE", "code"),
    column("REASON", "reason"),
];

/// `policies list`'s columns: the end-user types comma-separated; the documents by requirement,
/// comma-separated, each requirement's alternatives separated by `|`.
pub const POLICY_COLUMNS: [Column; 4] = [
    column("POLICY", "policy_sid"),
    column("NAME", "friendly_name"),
    column("END USERS", "end_users"),
    column("DOCUMENTS", "documents"),
];

/// `schema`'s columns with `-o csv|tsv` (the table shows key, need and a description with the
/// accepted values): the accepted values separated by ` | `.
pub const SCHEMA_COLUMNS: [Column; 9] = [
    column("KEY", "key"),
    column("REQUIRED", "required"),
    column("FORM", "form"),
    column("LIST", "list"),
    column("SEPARATOR", "separator"),
    column("A2P", "a2p"),
    column("VOICE", "voice"),
    column("ACCEPTED", "accepted"),
    column("DESCRIPTION", "description"),
];

/// `trusthub profile evaluate`.
pub async fn profile_evaluate(
    ctx: &Context,
    bundles: &[CustomerProfileSid],
    policy: Option<PolicySid>,
) -> Result<u8, CliError> {
    let mut all_compliant = true;
    let mut out = Vec::new();
    let mut rows: Vec<Vec<String>> = Vec::new();
    let delimited = ctx.output.is_delimited();
    for bundle in bundles {
        let result = async {
            let policy = match policy {
                Some(p) => p,
                None => ctx
                    .client
                    .customer_profiles()
                    .fetch(bundle)
                    .send()
                    .await?
                    .policy_sid
                    .unwrap_or(trusthub::sid::policies::SECONDARY_CUSTOMER_PROFILE),
            };
            ctx.client
                .customer_profiles()
                .evaluations(bundle)
                .create(policy)
                .send()
                .await
        }
        .await;
        match result {
            Ok(answer) => {
                let evaluation = Evaluation::from(answer);
                all_compliant &= evaluation.is_compliant();
                if ctx.json {
                    let mut value = evaluation_json(&evaluation);
                    value["bundle_sid"] = bundle.to_string().into();
                    out.push(value);
                } else if delimited {
                    let sid = evaluation.sid().map(|s| s.to_string()).unwrap_or_default();
                    let status = evaluation.status().map_or("", |s| s.as_str());
                    for row in evaluation_rows(&evaluation) {
                        let mut line = vec![bundle.to_string(), sid.clone(), status.to_owned()];
                        line.extend(row);
                        rows.push(line);
                    }
                } else {
                    println!("{bundle}");
                    print!("{}", evaluation_table_with(&evaluation, ctx.output));
                }
            }
            Err(e) => {
                all_compliant = false;
                if ctx.json {
                    out.push(json!({"bundle_sid": bundle.to_string(), "error": e.to_string()}));
                } else if delimited {
                    let mut line = vec![bundle.to_string()];
                    line.extend([String::new(), String::new(), String::new()]);
                    line.extend(["error".to_owned(), String::new(), String::new()]);
                    line.push(e.to_string());
                    rows.push(line);
                } else {
                    println!("{bundle}: cannot evaluate: {e}");
                }
            }
        }
    }
    if ctx.json {
        print_json(&Value::Array(out));
    } else if delimited {
        print!("{}", ctx.output.render(&EVALUATE_COLUMNS, &rows));
    }
    Ok(if all_compliant { EXIT_OK } else { EXIT_FAILED })
}

/// `trusthub policies list`.
pub async fn policies_list(ctx: &Context) -> Result<u8, CliError> {
    let policies: Vec<Policy> = ctx
        .client
        .policies()
        .list()
        .page_size(100)
        .into_stream()
        .try_collect()
        .await
        .map_err(|e| CliError::failed(format!("cannot list policies: {e}")))?;
    if ctx.json {
        print_json(&serde_json::to_value(&policies).expect("policies serialize"));
        return Ok(EXIT_OK);
    }
    let rows: Vec<Vec<String>> = policies
        .iter()
        .map(|p| {
            let req = p.requirements.as_ref();
            let end_users: Vec<&str> = req
                .and_then(|r| r.end_user.as_ref())
                .into_iter()
                .flatten()
                .filter_map(|e| e.type_.as_deref())
                .collect();
            let documents: Vec<String> = req
                .and_then(|r| r.supporting_document.as_ref())
                .into_iter()
                .flatten()
                .map(|alternatives| {
                    alternatives
                        .iter()
                        .filter_map(|d| d.requirement_name.as_deref().or(d.name.as_deref()))
                        .collect::<Vec<_>>()
                        .join("|")
                })
                .collect();
            vec![
                p.sid.map(|sid| sid.to_string()).unwrap_or_default(),
                p.friendly_name.clone().unwrap_or_default(),
                end_users.join(", "),
                documents.join(", "),
            ]
        })
        .collect();
    print!("{}", ctx.output.render(&POLICY_COLUMNS, &rows));
    Ok(EXIT_OK)
}

/// `trusthub emulator`: the emulator's own front end ([`trusthub_emulator::cli`]), run until
/// Ctrl-C (or SIGTERM).
#[cfg(feature = "emulator")]
pub async fn emulator(
    args: &trusthub_emulator::cli::EmulatorArgs,
    json: bool,
) -> Result<u8, CliError> {
    let mut interrupts = crate::interrupt::watch().await;
    let stop = async {
        interrupts.recv().await;
    };
    trusthub_emulator::cli::serve(args, json, stop)
        .await
        .map_err(|e| CliError::failed(format!("cannot start the emulator: {e}")))?;
    if !json {
        eprintln!("emulator stopped");
    }
    Ok(EXIT_OK)
}

/// `trusthub schema`: every input key, from [`FIELDS`].
pub fn schema(output: Output) -> u8 {
    let need = |need: Need| match need {
        Need::Required => "required".to_owned(),
        Need::Optional => "optional".to_owned(),
        Need::When(when) => when.to_owned(),
    };
    if output.is_delimited() {
        let rows: Vec<Vec<String>> = FIELDS
            .iter()
            .map(|f| {
                vec![
                    f.key.to_owned(),
                    need(f.need),
                    f.kind.form(),
                    f.kind.is_list().to_string(),
                    f.kind.separator().map(String::from).unwrap_or_default(),
                    input::is_a2p_key(f.key).to_string(),
                    input::is_voice_key(f.key).to_string(),
                    f.kind.accepted().join(" | "),
                    f.doc.to_owned(),
                ]
            })
            .collect();
        print!("{}", output.render(&SCHEMA_COLUMNS, &rows));
        return EXIT_OK;
    }
    if output.is_json() {
        let fields: Vec<Value> = FIELDS
            .iter()
            .map(|f| {
                json!({
                    "key": f.key,
                    "form": f.kind.form(),
                    "list": f.kind.is_list(),
                    "separator": f.kind.separator().map(String::from),
                    "a2p": input::is_a2p_key(f.key),
                    "voice": input::is_voice_key(f.key),
                    "required": match f.need {
                        Need::Required => "yes".to_owned(),
                        Need::Optional => "no".to_owned(),
                        Need::When(when) => when.to_owned(),
                    },
                    "accepted": f.kind.accepted(),
                    "description": f.doc,
                })
            })
            .collect();
        print_json(&Value::Array(fields));
        return EXIT_OK;
    }
    println!(
        "Keys of a customer. CSV: one column per key, header row as written, lists \
         comma-separated in one cell (sample messages: {MESSAGE_SEPARATOR}-separated, since \
         messages hold commas).\nTOML/JSON: the part before the dot is a table; lists are \
         arrays (or a separated string).\nEnum values are matched exactly; \
         {UNLISTED_PREFIX}VALUE sends a value Twilio accepts but does not list.\nA2P 10DLC: a \
         customer with any a2p.*, brand.*, messaging_service.* or campaign.* key runs the A2P \
         journey (its keys marked \"A2P rows\" then required); the others onboard the profile \
         only.\nVoice: a customer with voice.shaken_stir true or a voice.cnam_display_name gets \
         those trust products for its phone_number_sids after its profile (submitted); `onboard` \
         runs them (a row may have A2P keys too: the journey, then the voice products).\n"
    );
    let rows: Vec<Vec<String>> = FIELDS
        .iter()
        .map(|f| {
            let accepted = f.kind.accepted();
            let what = if accepted.is_empty() {
                format!("{}: {}", f.kind.form(), f.doc)
            } else {
                format!("{}: {}", f.doc, accepted.join(" | "))
            };
            vec![f.key.to_owned(), need(f.need), what]
        })
        .collect();
    let columns = [
        column("KEY", "key"),
        column("NEEDED", "required"),
        column("VALUE", "description"),
    ];
    print!("{}", output.render(&columns, &rows));
    EXIT_OK
}
