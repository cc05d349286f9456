//! `-o table|json|csv|tsv` and `--no-header`, `onboard --dry-run`, `completions` and RUST_LOG,
//! running the real binary against an emulator started by the test.

use crate::support;

use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use assert_cmd::cargo::CommandCargoExt;
use support::{
    created, customer, per_row, pii, set, temp_dir, write_csv, TestEmulator, REPORT_COLUMNS,
};

fn run(cmd: &mut Command) -> (Option<i32>, String, String) {
    let output: Output = cmd.output().unwrap();
    (
        output.status.code(),
        String::from_utf8(output.stdout).unwrap(),
        String::from_utf8(output.stderr).unwrap(),
    )
}

fn onboard(emulator: &TestEmulator, csv: &Path, journal: &Path, flags: &[&str]) -> Command {
    let mut cmd = emulator.command();
    // Global flags (-o, --no-header, --json, -v) may follow the subcommand too.
    cmd.arg("onboard")
        .arg(csv)
        .arg("--journal")
        .arg(journal)
        .args(flags);
    cmd
}

/// Records of CSV text, with or without a header row.
fn records(text: &str, header: bool) -> (Vec<String>, Vec<Vec<String>>) {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(header)
        .from_reader(text.as_bytes());
    let head = if header {
        reader.headers().unwrap().iter().map(String::from).collect()
    } else {
        Vec::new()
    };
    let rows = reader
        .records()
        .map(|r| r.unwrap().iter().map(String::from).collect())
        .collect();
    (head, rows)
}

fn assert_no_pii(rows: u64, texts: &[&str]) {
    for i in 1..=rows {
        for value in pii(i) {
            for text in texts {
                assert!(!text.contains(&value), "row {i}'s {value:?} in {text}");
            }
        }
    }
}

#[test]
fn a_batch_report_prints_as_csv_or_tsv_with_its_documented_columns() {
    let emulator = TestEmulator::start(Duration::ZERO);
    let dir = temp_dir("output-batch");
    let (primary, phone) = (emulator.primary_profile(), emulator.phone_number());
    let mut rows: Vec<Vec<String>> = (1..=3).map(|i| customer(i, &primary, &phone)).collect();
    set(
        &mut rows[1],
        "representative_1.email",
        "not an email, \"quoted\"",
    );
    let csv_path = dir.join("customers.csv");
    write_csv(&csv_path, &rows);
    let journal = dir.join("onboard.journal");

    let (code, stdout, stderr) = run(&mut onboard(&emulator, &csv_path, &journal, &["-o", "csv"]));
    assert_eq!(code, Some(1), "one row is invalid: {stdout}\n{stderr}");
    let (header, records_) = records(&stdout, true);
    assert_eq!(header, REPORT_COLUMNS);
    assert_eq!(records_.len(), 3, "{stdout}");
    let results: Vec<(&str, &str)> = records_
        .iter()
        .map(|r| (r[0].as_str(), r[1].as_str()))
        .collect();
    assert_eq!(
        results,
        [("1", "compliant"), ("2", "invalid"), ("3", "compliant")]
    );
    assert!(records_[0][2].starts_with("BU"), "{stdout}");
    assert!(
        records_[1][6].contains("representative_1.email"),
        "{stdout}"
    );
    assert!(stderr.contains("report: "), "{stderr}");
    // The same rows as the report file beside the journal.
    let file = std::fs::read_to_string(dir.join("onboard.report.csv")).unwrap();
    assert_eq!(records(&file, true), (header.clone(), records_.clone()));

    // Again (the finished rows are reported from the journal), without the header.
    let (code, stdout, _) = run(&mut onboard(
        &emulator,
        &csv_path,
        &journal,
        &["--output", "csv", "--no-header"],
    ));
    assert_eq!(code, Some(1));
    let (_, bare) = records(&stdout, false);
    assert_eq!(bare.len(), 3, "{stdout}");
    assert_eq!(bare[0][0], "1");
    assert!(bare.iter().all(|r| r.len() == REPORT_COLUMNS.len()));

    // TSV: one line per row, every tab a separator.
    let (code, stdout, _) = run(&mut onboard(&emulator, &csv_path, &journal, &["-o", "tsv"]));
    assert_eq!(code, Some(1));
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 4, "{stdout}");
    assert_eq!(lines[0], REPORT_COLUMNS.join("\t"));
    for line in &lines {
        assert_eq!(line.split('\t').count(), REPORT_COLUMNS.len(), "{line}");
    }
    assert_eq!(lines[2].split('\t').nth(1), Some("invalid"));
    assert_no_pii(3, &[&stdout]);
    // Nothing created twice by the later runs.
    assert_eq!(created(&emulator.counters()), per_row(2));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn other_commands_print_their_rows_in_every_format() {
    let emulator = TestEmulator::start(Duration::ZERO);
    let policy = "RNdfbf3fae0e1107f8aded0e7cead80bf5";
    let list = |flags: &[&str]| {
        let (code, stdout, stderr) = run(emulator.command().args(flags).args(["policies", "list"]));
        assert_eq!(code, Some(0), "{stderr}");
        stdout
    };
    let (header, rows) = records(&list(&["-o", "csv"]), true);
    assert_eq!(
        header,
        ["policy_sid", "friendly_name", "end_users", "documents"]
    );
    let secondary = rows.iter().find(|r| r[0] == policy).unwrap();
    assert_eq!(
        secondary[2],
        "customer_profile_business_information, authorized_representative_1, \
         authorized_representative_2"
    );
    let tsv = list(&["-o", "tsv", "--no-header"]);
    assert!(
        tsv.lines().any(|l| l.starts_with(&format!("{policy}\t"))),
        "{tsv}"
    );
    let table = list(&["--no-header"]);
    assert!(table.starts_with("RN"), "{table}");
    let json: serde_json::Value = serde_json::from_str(&list(&["-o", "json"])).unwrap();
    assert_eq!(
        json,
        serde_json::from_str::<serde_json::Value>(&list(&["--json"])).unwrap()
    );

    // profile status and evaluate of the seeded primary profile.
    let primary = emulator.primary_profile();
    let (code, stdout, _) = run(emulator
        .command()
        .args(["-o", "csv", "profile", "status", &primary]));
    assert_eq!(code, Some(0));
    let (header, rows) = records(&stdout, true);
    assert_eq!(
        header,
        [
            "bundle_sid",
            "status",
            "policy_sid",
            "valid_until",
            "date_updated",
            "errors"
        ]
    );
    assert_eq!(
        rows[0][..2],
        [primary.clone(), "twilio-approved".to_owned()]
    );
    let (code, stdout, _) = run(emulator.command().args([
        "-o", "tsv", "profile", "evaluate", &primary, "--policy", policy,
    ]));
    assert_eq!(
        code,
        Some(1),
        "the primary profile fails the secondary policy"
    );
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        lines[0],
        "bundle_sid\tevaluation_sid\tevaluation_status\trequirement\tresult\tfield\tcode\treason"
    );
    assert!(
        lines[1..]
            .iter()
            .all(|l| l.starts_with(&format!("{primary}\tEL"))),
        "{stdout}"
    );
    assert!(lines.iter().any(|l| l.contains("\tFAIL\t")), "{stdout}");

    // schema needs no credentials.
    let (code, stdout, _) = run(emulator.command().args(["schema", "-o", "csv"]));
    assert_eq!(code, Some(0));
    let (header, rows) = records(&stdout, true);
    assert_eq!(header[0], "key");
    assert!(
        rows.iter().any(|r| r[0] == "address.iso_country"),
        "{stdout}"
    );

    // Commands without rows take table or json only; --json and -o together are refused.
    for flags in [
        &["-o", "csv", "profile", "create", "--file", "x.toml"][..],
        &["-o", "tsv", "emulator"][..],
        &["--json", "-o", "csv", "schema"][..],
        &["-o", "yaml", "schema"][..],
    ] {
        let (code, _, stderr) = run(emulator.command().args(flags));
        assert_eq!(code, Some(2), "{flags:?}: {stderr}");
    }
}

#[test]
fn dry_run_reports_every_row_and_creates_nothing() {
    let emulator = TestEmulator::start(Duration::ZERO);
    let dir = temp_dir("output-dry-run");
    let (primary, phone) = (emulator.primary_profile(), emulator.phone_number());
    let mut rows: Vec<Vec<String>> = (1..=4).map(|i| customer(i, &primary, &phone)).collect();
    // Row 2 fails local validation; row 4 names a primary profile the account does not have
    // (the preflight of a real run refuses it).
    set(&mut rows[1], "address.street", "PO Box 12");
    set(
        &mut rows[3],
        "primary_profile_sid",
        "BU0123456789abcdef0123456789abcdef",
    );
    let csv_path = dir.join("customers.csv");
    write_csv(&csv_path, &rows);
    let journal = dir.join("onboard.journal");

    let (code, stdout, stderr) = run(&mut onboard(
        &emulator,
        &csv_path,
        &journal,
        &["-o", "csv", "--dry-run"],
    ));
    assert_eq!(code, Some(1), "{stdout}\n{stderr}");
    let (header, records_) = records(&stdout, true);
    assert_eq!(header, ["row", "result", "journal", "failures"]);
    let summary: Vec<(&str, &str, &str)> = records_
        .iter()
        .map(|r| (r[0].as_str(), r[1].as_str(), r[2].as_str()))
        .collect();
    assert_eq!(
        summary,
        [
            ("1", "valid", "new"),
            ("2", "invalid", ""),
            ("3", "valid", "new"),
            ("4", "invalid", "")
        ]
    );
    assert!(records_[1][3].starts_with("address.street: "), "{stdout}");
    assert!(
        records_[3][3].contains("cannot carry secondary profiles"),
        "{stdout}"
    );
    assert_no_pii(4, &[&stdout, &stderr]);
    // The checks ran (the policy, the primary profiles) but nothing was created.
    let counters = emulator.counters();
    assert!(counters.requests_served > 0, "{counters:?}");
    assert!(
        created(&counters).iter().all(|(_, n)| *n == 0),
        "{counters:?}"
    );
    assert!(!journal.exists(), "a dry run writes no journal");

    // The valid rows alone: exit 0, every row listed, in the table format too.
    write_csv(&csv_path, &[rows[0].clone(), rows[2].clone()]);
    let (code, stdout, stderr) = run(&mut onboard(&emulator, &csv_path, &journal, &["--dry-run"]));
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    assert!(
        stdout.starts_with("dry run: 2 rows to run, 0 finished by an earlier run, 0 refused"),
        "{stdout}"
    );
    assert!(
        stdout.contains("row 1: valid (new)\nrow 2: valid (new)\n"),
        "{stdout}"
    );
    let (code, stdout, _) = run(&mut onboard(
        &emulator,
        &csv_path,
        &journal,
        &["--json", "--dry-run"],
    ));
    assert_eq!(code, Some(0));
    let json: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(json["rows"][1]["result"], "valid", "{json}");
    assert!(created(&emulator.counters()).iter().all(|(_, n)| *n == 0));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn completions_are_generated_for_bash_zsh_and_fish() {
    for shell in ["bash", "zsh", "fish"] {
        let mut cmd = Command::cargo_bin("trusthub").unwrap();
        let (code, stdout, stderr) = run(cmd.args(["completions", shell]));
        assert_eq!(code, Some(0), "{shell}: {stderr}");
        assert!(stdout.len() > 1000, "{shell}: {stdout}");
        for word in ["onboard", "policies", "profile", "no-env-proxy", "dry-run"] {
            assert!(stdout.contains(word), "{shell}: no {word} in {stdout}");
        }
    }
    let mut cmd = Command::cargo_bin("trusthub").unwrap();
    let (code, _, _) = run(cmd.args(["completions", "tcsh"]));
    assert_eq!(code, Some(2));
}

/// Standard base64 (RFC 4648, padded): how an Authorization header would carry the token.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[test]
fn rust_log_chooses_the_traces_without_v_and_they_hold_no_secret_nor_personal_data() {
    let emulator = TestEmulator::start(Duration::ZERO);
    let dir = temp_dir("output-rust-log");
    let (primary, phone) = (emulator.primary_profile(), emulator.phone_number());
    let rows: Vec<Vec<String>> = (1..=2).map(|i| customer(i, &primary, &phone)).collect();
    let csv_path = dir.join("customers.csv");
    write_csv(&csv_path, &rows);

    // Without RUST_LOG nor -v: no trace.
    let (code, _, quiet) = run(&mut onboard(
        &emulator,
        &csv_path,
        &dir.join("a.journal"),
        &[],
    ));
    assert_eq!(code, Some(0), "{quiet}");
    assert!(
        !quiet.contains("trusthub.request") && !quiet.contains("DEBUG"),
        "{quiet}"
    );

    // RUST_LOG=debug: every request's span and debug events, without -v.
    let mut cmd = onboard(&emulator, &csv_path, &dir.join("b.journal"), &[]);
    let (code, _, traced) = run(cmd.env("RUST_LOG", "debug"));
    assert_eq!(code, Some(0), "{traced}");
    assert!(
        traced.contains("DEBUG") && traced.contains("trusthub.request"),
        "{traced}"
    );
    let token = trusthub_emulator::DEFAULT_AUTH_TOKEN;
    let basic = base64(format!("{}:{token}", emulator.account_sid()).as_bytes());
    assert!(
        !traced.contains(token) && !traced.contains(&basic),
        "a secret in {traced}"
    );
    assert_no_pii(2, &[&traced]);

    // RUST_LOG wins over -v: `error` hides -v's debug events.
    let mut cmd = onboard(&emulator, &csv_path, &dir.join("c.journal"), &["-v"]);
    let (code, _, errors_only) = run(cmd.env("RUST_LOG", "error"));
    assert_eq!(code, Some(0), "{errors_only}");
    assert!(!errors_only.contains("DEBUG"), "{errors_only}");

    // A RUST_LOG that does not parse is refused, naming the variable, before anything is sent.
    let served = emulator.counters().requests_served;
    let mut cmd = emulator.command();
    let (code, _, stderr) = run(cmd
        .env("RUST_LOG", "trusthub=loud")
        .args(["policies", "list"]));
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.starts_with("error: RUST_LOG: "), "{stderr}");
    assert!(stderr.contains("found \"trusthub=loud\""), "{stderr}");
    assert_eq!(emulator.counters().requests_served, served);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The long flags of the Options list of `trusthub ARGS --help`.
fn flags_of(args: &[&str]) -> Vec<String> {
    let out = Command::cargo_bin("trusthub")
        .unwrap()
        .args(args)
        .arg("--help")
        .output()
        .unwrap();
    assert!(out.status.success(), "trusthub {args:?} --help");
    let help = String::from_utf8(out.stdout).unwrap();
    let options = help.split("Options:").nth(1).unwrap_or_default();
    options
        .lines()
        .filter_map(|line| {
            let line = line.trim_start();
            let line = match line.strip_prefix('-') {
                Some(rest) if !rest.starts_with('-') => rest.split_once(", ")?.1,
                _ => line,
            };
            let name = line.strip_prefix("--")?;
            let name: String = name
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
                .collect();
            (!name.is_empty()).then(|| format!("--{name}"))
        })
        .filter(|f| f != "--help" && f != "--version")
        .collect()
}

#[test]
fn the_readme_lists_every_flag_and_environment_variable() {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md"))
            .unwrap();
    let start = readme
        .find("### Flags and environment variables")
        .expect("README has the section");
    let end = readme[start..]
        .find("**Credentials**")
        .map(|e| start + e)
        .expect("the tables end before the credentials rule");
    let tables = &readme[start..end];
    let mut missing = Vec::new();
    let commands: [&[&str]; 12] = [
        &[],
        &["onboard"],
        &["worker"],
        &["status"],
        &["requeue"],
        &["emulator"],
        &["schema"],
        &["completions"],
        &["profile", "create"],
        &["profile", "status"],
        &["profile", "evaluate"],
        &["policies", "list"],
    ];
    let mut seen = 0;
    for command in commands {
        for flag in flags_of(command) {
            seen += 1;
            if !tables.contains(&format!("`{flag}")) && !tables.contains(&format!(", {flag}")) {
                missing.push(format!("trusthub {} {flag}", command.join(" ")));
            }
        }
    }
    assert!(seen > 40, "only {seen} flags read from the help texts");
    // The variables the top-level help names.
    let out = Command::cargo_bin("trusthub")
        .unwrap()
        .arg("--help")
        .output()
        .unwrap();
    let help = String::from_utf8(out.stdout).unwrap();
    let mut variables: Vec<&str> = help
        .split(|c: char| !(c.is_ascii_uppercase() || c == '_'))
        .filter(|w| {
            w.starts_with("TWILIO_")
                || w.starts_with("TRUSTHUB_")
                || w.ends_with("_PROXY")
                || *w == "RUST_LOG"
        })
        .collect();
    variables.sort_unstable();
    variables.dedup();
    assert!(variables.len() >= 12, "{variables:?}");
    for variable in variables {
        if !tables.contains(&format!("`{variable}`")) {
            missing.push(variable.to_owned());
        }
    }
    assert!(
        missing.is_empty(),
        "README.md's flag and variable tables miss: {missing:?}"
    );
}
