//! `trusthub profile ...`, `policies list` and usage errors, running the real binary against an
//! emulator started by the test.

use crate::support;

use std::path::{Path, PathBuf};
use std::time::Duration;

use assert_cmd::assert::OutputAssertExt;
use support::{created, per_row, temp_dir, TestEmulator};

/// The example file of the repository, pointed at the emulator's primary profile and phone
/// number.
fn customer_file(dir: &Path, emulator: &TestEmulator) -> PathBuf {
    let example = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/customer.toml"),
    )
    .expect("examples/customer.toml");
    let text = example
        .replace(
            "# primary_profile_sid = \"BU...\"",
            &format!("primary_profile_sid = \"{}\"", emulator.primary_profile()),
        )
        .replace(
            "# phone_number_sids = [\"PN...\"]",
            &format!("phone_number_sids = [\"{}\"]", emulator.phone_number()),
        );
    assert_ne!(text, example, "the example's placeholders changed");
    let path = dir.join("customer.toml");
    std::fs::write(&path, text).unwrap();
    path
}

fn stdout_json(output: &std::process::Output) -> serde_json::Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}): {}",
            String::from_utf8_lossy(&output.stdout)
        )
    })
}

#[test]
fn create_submits_a_compliant_profile_then_status_and_evaluate_show_it() {
    let emulator = TestEmulator::start(Duration::ZERO);
    let dir = temp_dir("create");
    let file = customer_file(&dir, &emulator);

    let output = emulator
        .command()
        .args(["--json", "profile", "create", "--submit", "--file"])
        .arg(&file)
        .output()
        .unwrap();
    let output = output.assert().success().get_output().clone();
    let answer = stdout_json(&output);
    let bundle = answer["bundle_sid"].as_str().unwrap().to_owned();
    assert!(bundle.starts_with("BU"), "{answer}");
    assert_eq!(answer["evaluation"]["compliant"], true, "{answer}");
    assert_eq!(answer["submitted_status"], "pending-review", "{answer}");
    assert_eq!(answer["steps"].as_array().unwrap().len(), 15, "{answer}");
    let counters = emulator.counters();
    // The submission may evaluate again; everything else exactly once.
    let mut expected = per_row(1);
    expected.retain(|(name, _)| *name != "evaluations");
    let mut got = created(&counters);
    got.retain(|(name, _)| *name != "evaluations");
    assert_eq!(got, expected);
    // Nothing personal in the output.
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    for pii in [
        "ada@acme.example.com",
        "+14155550101",
        "555 Main Street",
        "12-3456789",
    ] {
        assert!(!all.contains(pii), "{pii} in the output");
    }

    let status = emulator
        .command()
        .args(["profile", "status", &bundle])
        .output()
        .unwrap();
    let text = String::from_utf8(status.assert().success().get_output().stdout.clone()).unwrap();
    assert!(text.starts_with("BUNDLE"), "{text}");
    assert!(
        text.contains(&bundle) && (text.contains("in-review") || text.contains("pending-review")),
        "{text}"
    );

    let evaluate = emulator
        .command()
        .args(["profile", "evaluate", &bundle])
        .output()
        .unwrap();
    let text = String::from_utf8(evaluate.assert().success().get_output().stdout.clone()).unwrap();
    assert!(text.contains("REQUIREMENT"), "{text}");
    assert!(
        text.contains(": compliant (5 of 5 requirements passed)"),
        "{text}"
    );
    assert!(
        text.lines().any(|l| l
            .split_whitespace()
            .eq(["authorized_representative_2", "ok"])),
        "{text}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn evaluate_shows_the_failures_of_a_profile_and_exits_1() {
    let emulator = TestEmulator::start(Duration::ZERO);
    // The command line refuses to create a profile its policy would fail, so evaluate the
    // primary profile against the secondary profile policy: it lacks most of what that asks.
    let output = emulator
        .command()
        .args([
            "profile",
            "evaluate",
            &emulator.primary_profile(),
            "--policy",
            "RNdfbf3fae0e1107f8aded0e7cead80bf5",
        ])
        .output()
        .unwrap();
    let text = String::from_utf8(output.assert().code(1).get_output().stdout.clone()).unwrap();
    assert!(text.contains("noncompliant"), "{text}");
    assert!(text.contains("FAIL"), "{text}");
}

#[test]
fn dry_run_checks_the_policy_and_the_primary_profile_and_creates_nothing() {
    let emulator = TestEmulator::start(Duration::ZERO);
    let dir = temp_dir("dry-run");
    let file = customer_file(&dir, &emulator);
    let output = emulator
        .command()
        .args(["profile", "create", "--dry-run", "--file"])
        .arg(&file)
        .output()
        .unwrap();
    let text = String::from_utf8(output.assert().success().get_output().stdout.clone()).unwrap();
    assert!(
        text.contains("meets policy RNdfbf3fae0e1107f8aded0e7cead80bf5"),
        "{text}"
    );
    assert!(text.contains("nothing was created"), "{text}");
    let counters = emulator.counters();
    assert!(
        created(&counters).iter().all(|(_, n)| *n == 0),
        "{counters:?}"
    );
    // The policy, the primary profile, its assignments and its business information.
    assert_eq!(counters.requests_served, 4, "only checks were sent");

    // A well-formed primary profile that is not the account's approved ISV profile is refused
    // by the dry run too.
    let wrong = std::fs::read_to_string(&file).unwrap().replace(
        &emulator.primary_profile(),
        "BU0123456789abcdef0123456789abcdef",
    );
    let wrong_file = dir.join("wrong-primary.toml");
    std::fs::write(&wrong_file, wrong).unwrap();
    let output = emulator
        .command()
        .args(["profile", "create", "--dry-run", "--file"])
        .arg(&wrong_file)
        .output()
        .unwrap();
    let text = String::from_utf8(output.assert().code(1).get_output().stdout.clone()).unwrap();
    assert!(
        text.starts_with(
            "the primary customer profile BU0123456789abcdef0123456789abcdef cannot carry \
             secondary profiles, so nothing was created: it does not exist in this account"
        ),
        "{text}"
    );
    let served = emulator.counters().requests_served;

    // Invalid input: every problem, named by key, no value echoed, nothing sent.
    let text = std::fs::read_to_string(&file).unwrap();
    let broken = text
        .replace("ada@acme.example.com", "ada-at-acme.example.com")
        .replace("+14155550102", "415 555 0102")
        .replace("\"TECHNOLOGY\"", "\"Technology\"")
        .replace("555 Main Street", "PO Box 555");
    std::fs::write(&file, broken).unwrap();
    let output = emulator
        .command()
        .args(["--json", "profile", "create", "--dry-run", "--file"])
        .arg(&file)
        .output()
        .unwrap();
    let output = output.assert().code(1).get_output().clone();
    let answer = stdout_json(&output);
    assert_eq!(answer["valid"], false);
    let fields: Vec<&str> = answer["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        [
            "business_information.business_industry",
            "representative_1.email",
            "representative_2.phone_number",
            "address.street"
        ]
    );
    let out = String::from_utf8_lossy(&output.stdout);
    for pii in ["ada-at-acme", "415 555 0102", "PO Box 555"] {
        assert!(!out.contains(pii), "{pii} echoed: {out}");
    }
    assert_eq!(
        emulator.counters().requests_served,
        served,
        "nothing more was sent"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn policies_list_shows_the_secondary_profile_policy() {
    let emulator = TestEmulator::start(Duration::ZERO);
    let output = emulator
        .command()
        .args(["policies", "list"])
        .output()
        .unwrap();
    let text = String::from_utf8(output.assert().success().get_output().stdout.clone()).unwrap();
    let line = text
        .lines()
        .find(|l| l.starts_with("RNdfbf3fae0e1107f8aded0e7cead80bf5"))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(line.contains("authorized_representative_2"), "{line}");
}

#[test]
fn usage_errors_exit_2() {
    let emulator = TestEmulator::start(Duration::ZERO);
    let dir = temp_dir("usage");
    // Unknown flag: clap's usage error.
    emulator
        .command()
        .args(["profile", "create", "--fiel", "x.toml"])
        .assert()
        .code(2);
    // A bad SID argument.
    emulator
        .command()
        .args(["profile", "status", "BUnothex"])
        .assert()
        .code(2);
    // No credentials.
    let mut cmd = emulator.command();
    cmd.env_remove("TWILIO_AUTH_TOKEN")
        .args(["policies", "list"]);
    let output = cmd.output().unwrap();
    let err = String::from_utf8(output.assert().code(2).get_output().stderr.clone()).unwrap();
    assert!(err.contains("TWILIO_AUTH_TOKEN"), "{err}");
    // A CSV with an unknown column: refused before anything runs.
    let csv = dir.join("bad.csv");
    std::fs::write(&csv, "friendly_name,emial\nAcme,x@acme.example.com\n").unwrap();
    let output = emulator
        .command()
        .arg("onboard")
        .arg(&csv)
        .arg("--journal")
        .arg(dir.join("j.journal"))
        .output()
        .unwrap();
    let err = String::from_utf8(output.assert().code(2).get_output().stderr.clone()).unwrap();
    assert!(err.contains("unknown column `emial`"), "{err}");
    assert_eq!(emulator.counters().requests_served, 0);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn create_with_a_journal_resumes_instead_of_creating_again() {
    let emulator = TestEmulator::start(Duration::ZERO);
    let dir = temp_dir("create-journal");
    let file = customer_file(&dir, &emulator);
    let journal = dir.join("acme.journal");
    let run = || {
        let output = emulator
            .command()
            .args(["--json", "profile", "create", "--file"])
            .arg(&file)
            .arg("--journal")
            .arg(&journal)
            .output()
            .unwrap();
        stdout_json(output.assert().success().get_output())
    };
    let first = run();
    assert_eq!(first["resumed"], false, "{first}");
    let after_first = created(&emulator.counters());
    assert_eq!(after_first, per_row(1));
    let second = run();
    assert_eq!(second["resumed"], true, "{second}");
    assert_eq!(second["bundle_sid"], first["bundle_sid"]);
    assert!(second["steps"]
        .as_array()
        .unwrap()
        .iter()
        .all(|s| s["outcome"] == "journaled"));
    assert_eq!(
        created(&emulator.counters()),
        after_first,
        "nothing created twice"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn verbose_traces_requests_without_secrets_or_personal_data() {
    let emulator = TestEmulator::start(Duration::ZERO);
    let dir = temp_dir("verbose");
    let file = customer_file(&dir, &emulator);
    let output = emulator
        .command()
        .args(["--verbose", "profile", "create", "--file"])
        .arg(&file)
        .output()
        .unwrap();
    let stderr = String::from_utf8(output.assert().success().get_output().stderr.clone()).unwrap();
    assert!(stderr.contains("DEBUG"), "{stderr}");
    assert!(stderr.contains("trusthub.request"), "{stderr}");
    for secret_or_pii in [
        trusthub_emulator::DEFAULT_AUTH_TOKEN,
        "Acme Corp",
        "ada@acme.example.com",
        "+14155550101",
        "555 Main Street",
        "12-3456789",
    ] {
        assert!(
            !stderr.contains(secret_or_pii),
            "{secret_or_pii} in the trace"
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
