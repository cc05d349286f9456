//! `trusthub onboard --refresh` and `--fix`: a submitted batch under review (exit 3), rejected by
//! Twilio (exit 1, the rejection's codes in the report), fixed from a corrected CSV (only the
//! changed end users updated, nothing created, a rejected row that did not change left alone),
//! then approved (exit 0); every status change printed, no personal data anywhere.

use crate::support;

use std::collections::HashMap;
use std::path::Path;
use std::process::Output;
use std::time::Duration;

use support::{customer, pii, read_report, set, temp_dir, write_csv, TestEmulator};
use trusthub_emulator::{Decision, EmulatorConfig, RequirementRejection};

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).unwrap()
}

fn onboard(emulator: &TestEmulator, csv: &Path, journal: &Path, extra: &[&str]) -> Output {
    emulator
        .command()
        .arg("onboard")
        .arg(csv)
        .arg("--journal")
        .arg(journal)
        .args(extra)
        .output()
        .unwrap()
}

/// Runs `onboard` and returns (exit code, stdout, stderr, the report's rows).
fn run(
    emulator: &TestEmulator,
    dir: &Path,
    csv: &Path,
    extra: &[&str],
) -> (Option<i32>, String, String, Vec<HashMap<String, String>>) {
    let output = onboard(emulator, csv, &dir.join("onboard.journal"), extra);
    let (_, report) = read_report(&dir.join("onboard.report.csv"));
    (
        output.status.code(),
        text(&output.stdout),
        text(&output.stderr),
        report,
    )
}

/// The corrected phone number of row `i`'s first representative.
fn corrected_phone(i: u64) -> String {
    format!("+1415999{i:04}")
}

/// Twilio's rejection: the first representative's phone number could not be verified (the
/// message quotes it, as a reviewer's words may).
fn rejection(i: u64) -> Decision {
    Decision::reject(format!("Cannot verify +1415777{i:04}")).with_requirement(
        RequirementRejection::new("authorized_representative_1")
            .field("phone_number")
            .message(format!("Quillon{i} does not answer at +1415777{i:04}")),
    )
}

#[test]
fn rejected_profiles_are_fixed_from_a_corrected_csv_and_refresh_reports_every_decision() {
    const ROWS: u64 = 3;
    let emulator = TestEmulator::with_config(EmulatorConfig::default());
    let dir = temp_dir("fix");
    let (primary, phone) = (emulator.primary_profile(), emulator.phone_number());
    let rows: Vec<Vec<String>> = (1..=ROWS).map(|i| customer(i, &primary, &phone)).collect();
    let csv = dir.join("customers.csv");
    write_csv(&csv, &rows);
    let mut outputs = String::new();

    let (code, stdout, stderr, report) = run(&emulator, &dir, &csv, &["--submit"]);
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    let bundles: Vec<String> = report.iter().map(|r| r["bundle_sid"].clone()).collect();
    outputs.push_str(&stdout);
    outputs.push_str(&stderr);

    // Under review: a refresh says so, and exits 3.
    let (code, stdout, stderr, report) = run(&emulator, &dir, &csv, &["--refresh"]);
    assert_eq!(code, Some(3), "{stdout}\n{stderr}");
    assert!(
        stdout.starts_with("3 rows: 0 compliant, 3 waiting for review"),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!(
            "row 1: profile {}: in-review (first look)",
            bundles[0]
        )),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!(
            "row 2: waiting for profile {} (in-review)",
            bundles[1]
        )),
        "{stdout}"
    );
    for r in &report {
        assert_eq!(
            (r["result"].as_str(), r["run"].as_str()),
            ("waiting", "refreshed")
        );
        assert_eq!(r["submitted_status"], "in-review");
    }
    assert!(stderr.contains("--refresh"), "{stderr}");
    outputs.push_str(&stdout);
    outputs.push_str(&stderr);
    // Nothing changed since: nothing printed as changed.
    let (code, stdout, ..) = run(&emulator, &dir, &csv, &["--refresh"]);
    assert_eq!(code, Some(3));
    assert!(!stdout.contains("statuses changed"), "{stdout}");
    assert!(
        stdout.contains("no status changed since the last look"),
        "{stdout}"
    );

    // Twilio rejects every profile: the first representative's phone number.
    for (i, bundle) in (1..=ROWS).zip(&bundles) {
        emulator.decide(bundle, rejection(i));
    }
    let (code, stdout, stderr, report) = run(&emulator, &dir, &csv, &["--refresh"]);
    assert_eq!(code, Some(1), "{stdout}\n{stderr}");
    assert!(
        stdout.starts_with("3 rows: 0 compliant, 3 rejected"),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!(
            "row 3: profile {}: in-review -> twilio-rejected",
            bundles[2]
        )),
        "{stdout}"
    );
    for (r, bundle) in report.iter().zip(&bundles) {
        assert_eq!(r["result"], "rejected", "{r:?}");
        assert_eq!(r["submitted_status"], "twilio-rejected", "{r:?}");
        assert_eq!(
            r["failures"],
            format!(
                "profile {bundle}: twilio-rejected: error 18604 (authorized_representative_1: \
                 phone_number); correct the row and run `trusthub onboard ... --fix`"
            ),
            "{r:?}"
        );
    }
    outputs.push_str(&stdout);
    outputs.push_str(&stderr);

    // Rows 1 and 2 corrected; row 3 not yet.
    let mut corrected = rows.clone();
    for i in 1..=2u64 {
        set(
            &mut corrected[i as usize - 1],
            "representative_1.phone_number",
            &corrected_phone(i),
        );
    }
    let fixed_csv = dir.join("corrected.csv");
    write_csv(&fixed_csv, &corrected);
    let before = emulator.counters();
    let (code, stdout, stderr, report) = run(&emulator, &dir, &fixed_csv, &["--fix"]);
    assert_eq!(code, Some(1), "row 3 is still rejected: {stdout}\n{stderr}");
    assert!(
        stdout.starts_with("3 rows: 2 resubmitted, 1 rejected"),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!(
            "row 1: resubmitted {} (updated: representative_1): pending-review",
            bundles[0]
        )),
        "{stdout}"
    );
    for r in &report[..2] {
        assert_eq!(
            (r["result"].as_str(), r["run"].as_str()),
            ("resubmitted", "fixed"),
            "{r:?}"
        );
        assert_eq!(r["updated"], "representative_1", "{r:?}");
        assert_eq!(r["submitted_status"], "pending-review", "{r:?}");
        assert_eq!(r["evaluation_status"], "compliant", "{r:?}");
    }
    let r = &report[2];
    assert_eq!(
        (r["result"].as_str(), r["run"].as_str()),
        ("rejected", "skipped"),
        "{r:?}"
    );
    assert!(
        r["failures"].contains("the row did not change since its profile was submitted"),
        "{r:?}"
    );
    assert!(stderr.contains("--refresh"), "{stderr}");
    assert!(!stderr.contains("--fix"), "the hint drops --fix: {stderr}");
    let after = emulator.counters();
    // Only the two changed end users were updated; nothing was created but the evaluations.
    assert_eq!(after.end_users, before.end_users);
    assert_eq!(after.end_user_updates - before.end_user_updates, 2);
    assert_eq!(after.customer_profiles, before.customer_profiles);
    assert_eq!(after.addresses, before.addresses);
    assert_eq!(after.address_updates, before.address_updates);
    assert_eq!(after.bundle_updates, before.bundle_updates);
    assert_eq!(after.entity_assignments, before.entity_assignments);
    assert_eq!(after.bundle_resubmissions - before.bundle_resubmissions, 2);
    outputs.push_str(&stdout);
    outputs.push_str(&stderr);

    // The fix again: nothing is sent but the statuses (rows 1-2 are in review, row 3 unchanged).
    let before = emulator.counters();
    let (code, stdout, ..) = run(&emulator, &dir, &fixed_csv, &["--fix"]);
    assert_eq!(code, Some(1), "{stdout}");
    assert!(
        stdout.starts_with("3 rows: 2 unchanged, 1 rejected"),
        "{stdout}"
    );
    let after = emulator.counters();
    assert_eq!(after.end_user_updates, before.end_user_updates);
    assert_eq!(after.bundle_resubmissions, before.bundle_resubmissions);
    assert_eq!(after.evaluations, before.evaluations);

    // Twilio approves the fixed profiles; row 3 is corrected and fixed in turn.
    for bundle in &bundles[..2] {
        emulator.decide(bundle, Decision::Approve);
    }
    set(
        &mut corrected[2],
        "representative_1.phone_number",
        &corrected_phone(3),
    );
    write_csv(&fixed_csv, &corrected);
    let (code, stdout, stderr, report) = run(&emulator, &dir, &fixed_csv, &["--fix"]);
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    assert!(
        stdout.starts_with("3 rows: 1 resubmitted, 2 unchanged"),
        "{stdout}"
    );
    assert_eq!(report[0]["submitted_status"], "twilio-approved");
    assert_eq!(report[2]["result"], "resubmitted");
    outputs.push_str(&stdout);
    outputs.push_str(&stderr);

    // One under review still: exit 3; then everything approved: exit 0.
    let (code, stdout, ..) = run(&emulator, &dir, &fixed_csv, &["--refresh"]);
    assert_eq!(code, Some(3), "{stdout}");
    assert!(
        stdout.starts_with("3 rows: 2 approved, 1 waiting for review"),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!(
            "row 1: profile {}: pending-review -> twilio-approved",
            bundles[0]
        )),
        "{stdout}"
    );
    emulator.decide(&bundles[2], Decision::Approve);
    let (code, stdout, stderr, report) = run(&emulator, &dir, &fixed_csv, &["--refresh"]);
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    assert!(stdout.starts_with("3 rows: 3 approved"), "{stdout}");
    for r in &report {
        assert_eq!(r["result"], "approved", "{r:?}");
        assert_eq!(r["submitted_status"], "twilio-approved", "{r:?}");
    }
    outputs.push_str(&stdout);
    outputs.push_str(&stderr);
    // The journal counts the resubmissions and knows the last statuses.
    let journals = support::journal_customers(&dir.join("onboard.journal"));
    for j in journals.values() {
        assert_eq!(j["resubmissions"], 1, "{j}");
        let bundle = j["bundle"].as_str().unwrap();
        assert_eq!(j["statuses"][bundle], "twilio-approved", "{j}");
    }

    // No personal data, nor Twilio's rejection messages, anywhere.
    let journal_text = std::fs::read_to_string(dir.join("onboard.journal")).unwrap();
    let report_text = std::fs::read_to_string(dir.join("onboard.report.json")).unwrap();
    for i in 1..=ROWS {
        let mut values = pii(i);
        values.push(corrected_phone(i));
        values.push("does not answer".to_owned());
        values.push("Cannot verify".to_owned());
        for value in values {
            for (what, text) in [
                ("an output", &outputs),
                ("the journal", &journal_text),
                ("the report", &report_text),
            ] {
                assert!(!text.contains(&value), "{value:?} appears in {what}");
            }
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn fix_touches_nothing_that_was_never_submitted() {
    let emulator = TestEmulator::start(Duration::ZERO);
    let dir = temp_dir("fix-unsubmitted");
    let (primary, phone) = (emulator.primary_profile(), emulator.phone_number());
    let rows: Vec<Vec<String>> = (1..=2).map(|i| customer(i, &primary, &phone)).collect();
    let csv = dir.join("customers.csv");
    write_csv(&csv, &rows[..1]);
    // Row 1 evaluated, not submitted; row 2 never started.
    let (code, ..) = run(&emulator, &dir, &csv, &[]);
    assert_eq!(code, Some(0));
    write_csv(&csv, &rows);
    let before = emulator.counters();
    let (code, stdout, _, report) = run(&emulator, &dir, &csv, &["--fix"]);
    assert_eq!(code, Some(1), "{stdout}");
    for r in &report {
        assert_eq!(
            (r["result"].as_str(), r["run"].as_str()),
            ("pending", "skipped"),
            "{r:?}"
        );
        assert!(r["failures"].starts_with("no submitted profile"), "{r:?}");
    }
    let after = emulator.counters();
    assert_eq!(
        (
            after.customer_profiles,
            after.evaluations,
            after.bundle_submissions
        ),
        (
            before.customer_profiles,
            before.evaluations,
            before.bundle_submissions
        )
    );
    // --fix is refused with --refresh, --submit or --dry-run; --resubmit-unchanged needs --fix.
    for flags in [
        &["--fix", "--refresh"][..],
        &["--fix", "--submit"],
        &["--fix", "--dry-run"],
        &["--resubmit-unchanged"],
    ] {
        let output = onboard(&emulator, &csv, &dir.join("onboard.journal"), flags);
        assert_eq!(output.status.code(), Some(2), "{flags:?}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
