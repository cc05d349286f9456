//! `trusthub onboard` against an emulator started by the test: a batch with bad rows, and a
//! batch interrupted with SIGINT, or with SIGTERM, then resumed without duplicates.

use crate::support;

use std::collections::{BTreeSet, HashMap};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use assert_cmd::assert::OutputAssertExt;
use support::{
    created, customer, journal_customers, per_row, pii, read_report, set, temp_dir, write_csv,
    TestEmulator,
};

/// Every file and output of a run must be free of every row's personal data.
fn assert_no_pii(rows: u64, texts: &[(&str, &str)]) {
    for i in 1..=rows {
        for value in pii(i) {
            for (what, text) in texts {
                assert!(
                    !text.contains(&value),
                    "row {i}'s personal data {value:?} appears in {what}"
                );
            }
        }
    }
}

#[test]
fn a_batch_with_bad_rows_reports_them_and_onboards_the_others() {
    let emulator = TestEmulator::start(Duration::ZERO);
    let dir = temp_dir("batch");
    let (primary, phone) = (emulator.primary_profile(), emulator.phone_number());
    let mut rows: Vec<Vec<String>> = (1..=50).map(|i| customer(i, &primary, &phone)).collect();
    // Five bad rows, each with a problem of its own (row numbers are 1-based).
    set(
        &mut rows[6],
        "representative_1.email",
        "quillon7.zephyr7.example.com",
    );
    set(&mut rows[13], "address.street", "P.O. Box 114");
    set(
        &mut rows[20],
        "business_information.business_industry",
        "technology",
    );
    set(&mut rows[27], "representative_2.phone_number", "");
    set(
        &mut rows[34],
        "business_information.website_url",
        "zephyr35",
    );
    set(&mut rows[34], "address.iso_country", "us");
    let bad: BTreeSet<u64> = [7, 14, 21, 28, 35].into();
    let csv = dir.join("customers.csv");
    write_csv(&csv, &rows);
    let journal = dir.join("onboard.journal");

    let output = emulator
        .command()
        .arg("onboard")
        .arg(&csv)
        .arg("--journal")
        .arg(&journal)
        .args(["--concurrency", "8"])
        .output()
        .unwrap();
    let output = output.assert().code(1).get_output().clone();
    let stdout = String::from_utf8(output.stdout.clone()).unwrap();
    let stderr = String::from_utf8(output.stderr.clone()).unwrap();
    assert!(
        stdout.starts_with("50 rows: 45 compliant, 5 invalid"),
        "{stdout}"
    );

    // The report, beside the journal.
    let (header, report) = read_report(&dir.join("onboard.report.csv"));
    assert_eq!(header, support::REPORT_COLUMNS);
    assert_eq!(report.len(), 50);
    let mut bundles = BTreeSet::new();
    for (i, r) in report.iter().enumerate() {
        let row = i as u64 + 1;
        assert_eq!(r["row"], row.to_string());
        if bad.contains(&row) {
            assert_eq!(r["result"], "invalid", "{r:?}");
            assert_eq!(r["run"], "skipped", "{r:?}");
            assert_eq!(r["bundle_sid"], "", "{r:?}");
        } else {
            assert_eq!(r["result"], "compliant", "{r:?}");
            assert_eq!(r["evaluation_status"], "compliant", "{r:?}");
            assert_eq!(r["run"], "new", "{r:?}");
            assert!(r["bundle_sid"].starts_with("BU"), "{r:?}");
            assert!(bundles.insert(r["bundle_sid"].clone()), "a bundle twice");
        }
    }
    let failures = |row: usize| report[row - 1]["failures"].clone();
    assert!(failures(7).starts_with("representative_1.email: expected an email"));
    assert!(failures(14).starts_with("address.street: expected a physical street address"));
    assert!(failures(21).contains("did you mean \"TECHNOLOGY\"?"));
    assert!(failures(28).starts_with("representative_2.phone_number:"));
    // Every problem of a row, not just the first.
    assert!(
        failures(35).contains("business_information.website_url:")
            && failures(35).contains(" | address.iso_country:"),
        "{}",
        failures(35)
    );

    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("onboard.report.json")).unwrap()).unwrap();
    assert_eq!(json["summary"]["compliant"], 45);
    assert_eq!(json["summary"]["invalid"], 5);
    assert_eq!(json["rows"][6]["failures"].as_array().unwrap().len(), 1);

    // Exactly one of everything per good row: nothing for the bad ones.
    assert_eq!(created(&emulator.counters()), per_row(45));

    let journal_text = std::fs::read_to_string(&journal).unwrap();
    let csv_report = std::fs::read_to_string(dir.join("onboard.report.csv")).unwrap();
    let json_report = std::fs::read_to_string(dir.join("onboard.report.json")).unwrap();
    assert_no_pii(
        50,
        &[
            ("stdout", &stdout),
            ("stderr", &stderr),
            ("the journal", &journal_text),
            ("the CSV report", &csv_report),
            ("the JSON report", &json_report),
        ],
    );

    // Running it again redoes nothing: the good rows are reported from the journal.
    let before = emulator.counters();
    let output = emulator
        .command()
        .arg("--json")
        .arg("onboard")
        .arg(&csv)
        .arg("--journal")
        .arg(&journal)
        .output()
        .unwrap();
    let again: serde_json::Value =
        serde_json::from_slice(&output.assert().code(1).get_output().stdout).unwrap();
    assert_eq!(again["summary"]["compliant"], 45);
    assert!(again["rows"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["result"] == "compliant")
        .all(|r| r["run"] == "earlier"));
    assert_eq!(created(&emulator.counters()), created(&before));
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Customers whose journal holds an evaluation, and customers early in their flow: with a
/// journal but nothing assigned yet, so at least two round trips (assignments, evaluation) from
/// their last saves.
fn journal_progress(journal: &Path) -> (usize, usize) {
    let customers = journal_customers(journal);
    let evaluated = customers
        .values()
        .filter(|j| j["evaluation"].is_string())
        .count();
    let early = customers
        .values()
        .filter(|j| {
            j["entity_assignments"]
                .as_object()
                .is_none_or(|a| a.is_empty())
        })
        .count();
    (evaluated, early)
}

#[test]
fn an_interrupted_batch_resumes_without_duplicates() {
    interrupted_then_resumed("INT");
}

#[test]
fn sigterm_stops_like_ctrl_c() {
    interrupted_then_resumed("TERM");
}

#[test]
fn sighup_stops_like_ctrl_c() {
    interrupted_then_resumed("HUP");
}

/// Stops a batch with `signal` while rows are in flight: the same report and exit code (130)
/// whichever signal, and the same command resumes without duplicates.
fn interrupted_then_resumed(signal: &str) {
    const ROWS: u64 = 24;
    let emulator = TestEmulator::start(Duration::from_millis(50));
    let dir = temp_dir(&format!("interrupt-{signal}"));
    let (primary, phone) = (emulator.primary_profile(), emulator.phone_number());
    let rows: Vec<Vec<String>> = (1..=ROWS).map(|i| customer(i, &primary, &phone)).collect();
    let csv = dir.join("customers.csv");
    write_csv(&csv, &rows);
    let journal = dir.join("onboard.journal");
    let command = || {
        let mut cmd = emulator.command();
        cmd.arg("onboard")
            .arg(&csv)
            .arg("--journal")
            .arg(&journal)
            .args(["--concurrency", "4", "--submit"]);
        cmd
    };

    let mut child = command()
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    // Interrupt once some rows are done and some other row is early in its flow: that row
    // must stop at its next step and resume later.
    loop {
        let (evaluated, early) = journal_progress(&journal);
        if evaluated >= 3 && early >= 1 {
            break;
        }
        assert!(
            child.try_wait().unwrap().is_none(),
            "the batch ended before it was interrupted"
        );
        assert!(Instant::now() < deadline, "no row finished in time");
        std::thread::sleep(Duration::from_millis(10));
    }
    let status = Command::new("kill")
        .args([format!("-{signal}"), child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8(output.stderr.clone()).unwrap();
    assert_eq!(output.status.code(), Some(130), "{stderr}");
    let name = match signal {
        "INT" => "Ctrl-C".to_owned(),
        other => format!("SIG{other}"),
    };
    assert!(
        stderr.contains(&format!("{name}: stopping: no new rows")),
        "{stderr}"
    );
    assert!(
        stderr.contains("Resume (nothing is created twice) with the same command:"),
        "{stderr}"
    );
    assert!(stderr.contains("--journal"), "{stderr}");

    let (_, first) = read_report(&dir.join("onboard.report.csv"));
    assert_eq!(first.len() as u64, ROWS);
    let count = |rows: &[HashMap<String, String>], key: &str, value: &str| {
        rows.iter().filter(|r| r[key] == value).count()
    };
    let finished_first = count(&first, "result", "compliant");
    assert!(finished_first >= 3, "{first:?}");
    assert!(count(&first, "result", "pending") > 0, "{first:?}");
    assert!(count(&first, "run", "interrupted") > 0, "{first:?}");
    for r in first.iter().filter(|r| r["result"] == "compliant") {
        assert_eq!(r["submitted_status"], "pending-review", "{r:?}");
    }
    let after_interrupt = emulator.counters();
    assert!(
        after_interrupt.customer_profiles < ROWS,
        "{after_interrupt:?}"
    );

    // The same command again: every unfinished row resumed, finished ones reported.
    let output = command().output().unwrap();
    let output = output.assert().success().get_output().clone();
    let stdout = String::from_utf8(output.stdout.clone()).unwrap();
    assert!(
        stdout.starts_with(&format!("{ROWS} rows: {ROWS} compliant")),
        "{stdout}"
    );
    let (_, second) = read_report(&dir.join("onboard.report.csv"));
    assert_eq!(
        count(&second, "result", "compliant") as u64,
        ROWS,
        "{second:?}"
    );
    assert_eq!(
        count(&second, "run", "earlier"),
        finished_first,
        "{second:?}"
    );
    assert!(count(&second, "run", "resumed") > 0, "{second:?}");
    for r in &second {
        assert!(!r["submitted_status"].is_empty(), "{r:?}");
    }
    // Bundles kept their SIDs across the interruption.
    for (a, b) in first.iter().zip(&second) {
        if !a["bundle_sid"].is_empty() {
            assert_eq!(a["bundle_sid"], b["bundle_sid"]);
        }
    }

    // No duplicate: exactly one of everything per row (submission re-evaluates, so
    // evaluations are checked apart).
    let counters = emulator.counters();
    let without_evaluations = |v: Vec<(&'static str, u64)>| {
        v.into_iter()
            .filter(|(n, _)| *n != "evaluations")
            .collect::<Vec<_>>()
    };
    assert_eq!(
        without_evaluations(created(&counters)),
        without_evaluations(per_row(ROWS)),
        "{counters:?}"
    );
    assert!(counters.evaluations >= ROWS, "{counters:?}");

    let journal_text = std::fs::read_to_string(&journal).unwrap();
    let report_text = std::fs::read_to_string(dir.join("onboard.report.json")).unwrap();
    assert_no_pii(
        ROWS,
        &[
            ("stderr", &stderr),
            ("stdout", &stdout),
            ("the journal", &journal_text),
            ("the JSON report", &report_text),
        ],
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn an_unwritable_report_destination_is_refused_before_anything_is_sent() {
    let emulator = TestEmulator::start(Duration::ZERO);
    let dir = temp_dir("report-destination");
    let (primary, phone) = (emulator.primary_profile(), emulator.phone_number());
    let rows: Vec<Vec<String>> = (1..=3).map(|i| customer(i, &primary, &phone)).collect();
    let csv = dir.join("customers.csv");
    write_csv(&csv, &rows);
    // A report directory under a regular file cannot exist, whoever runs the command.
    let blocker = dir.join("not-a-directory");
    std::fs::write(&blocker, "").unwrap();
    let output = emulator
        .command()
        .arg("onboard")
        .arg(&csv)
        .arg("--journal")
        .arg(dir.join("onboard.journal"))
        .arg("--report-dir")
        .arg(blocker.join("reports"))
        .output()
        .unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("the report cannot be written to") && stderr.contains("--report-dir"),
        "{stderr}"
    );
    assert_eq!(emulator.counters().requests_served, 0, "nothing was sent");
    assert!(
        !dir.join("onboard.journal").exists(),
        "no journal was started"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
