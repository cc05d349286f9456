//! Crash safety between the boundaries, with the real binary against an emulator started by the
//! test: kill -9 at random moments with latency on the answer path, two processes on one
//! journal, a CSV edited between runs, a full filesystem, a submission whose answer is lost, a
//! gateway's error after the commit, a wrong primary profile. Each test counts the resources by
//! listing them from the emulator, and checks that every one is named by exactly one customer's
//! journal (no orphan, nothing held twice).

use crate::support;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use support::{
    customer, journal_customers, owned_sids, read_report, set, temp_dir, write_csv, TestEmulator,
};
use trusthub_emulator::{FaultKind, FaultRule, Faults};

/// `trusthub onboard CSV --journal JOURNAL` with `extra` arguments.
fn onboard(emulator: &TestEmulator, csv: &Path, journal: &Path, extra: &[&str]) -> Command {
    let mut cmd = emulator.command();
    cmd.arg("onboard")
        .arg(csv)
        .arg("--journal")
        .arg(journal)
        .args(extra);
    cmd
}

fn run(mut cmd: Command) -> (Option<i32>, String, String) {
    let Output {
        status,
        stdout,
        stderr,
    } = cmd.output().unwrap();
    (
        status.code(),
        String::from_utf8(stdout).unwrap(),
        String::from_utf8(stderr).unwrap(),
    )
}

/// `rows` generated customers, written to `dir/customers.csv`; returns the path and the bundle
/// names.
fn customers(dir: &Path, emulator: &TestEmulator, rows: u64) -> (PathBuf, Vec<String>) {
    let (primary, phone) = (emulator.primary_profile(), emulator.phone_number());
    let rows: Vec<Vec<String>> = (1..=rows).map(|i| customer(i, &primary, &phone)).collect();
    let csv = dir.join("customers.csv");
    write_csv(&csv, &rows);
    (csv, rows.iter().map(|r| r[0].clone()).collect())
}

/// The SIDs each customer of the journal holds, and whether any create is still open.
fn journal_holdings(journal: &Path) -> (Vec<Vec<String>>, usize) {
    let customers = journal_customers(journal);
    let open = customers
        .values()
        .filter(|j| j["intents"].as_object().is_some_and(|i| !i.is_empty()))
        .count();
    (customers.values().map(owned_sids).collect(), open)
}

fn kill_9(child: &mut Child) {
    let _ = child.kill(); // SIGKILL on Unix
    let _ = child.wait();
}

#[test]
fn kill_9_at_random_moments_then_resuming_creates_exactly_one_of_everything() {
    const ROWS: u64 = 200;
    const KILLS: usize = 10;
    // 150 ms between the commit and the answer: most kills land after Twilio created something
    // and before the command heard of it.
    let emulator =
        TestEmulator::with_faults(Faults::none().with_answer_latency(Duration::from_millis(150)));
    let dir = temp_dir("kill-9");
    let (csv, names) = customers(&dir, &emulator, ROWS);
    let journal = dir.join("onboard.journal");
    let seed = std::env::var("TRUSTHUB_KILL_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_millis() as u64
        });
    eprintln!("kill moments from seed {seed} (TRUSTHUB_KILL_SEED={seed} repeats them)");
    let mut rng = fastrand::Rng::with_seed(seed);
    let args = ["--concurrency", "32", "--submit"];
    let mut kills = 0;
    let mut in_flight_at_kills = 0;
    while kills < KILLS {
        let mut child = onboard(&emulator, &csv, &journal, &args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let moment = Duration::from_millis(rng.u64(300..1500));
        std::thread::sleep(moment);
        if child.try_wait().unwrap().is_some() {
            break; // finished before this kill: the batch is done
        }
        kill_9(&mut child);
        kills += 1;
        let (_, open) = journal_holdings(&journal);
        in_flight_at_kills += open;
        eprintln!("kill {kills} after {moment:?}: {open} customers with a create in flight");
    }
    assert!(
        kills >= KILLS / 2,
        "only {kills} kills landed before the batch ended"
    );
    // The kills landed inside the window: creates sent, their answers not yet recorded.
    assert!(in_flight_at_kills > 0, "no kill caught a create in flight");

    let (code, stdout, stderr) = run(onboard(&emulator, &csv, &journal, &args));
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    assert!(
        stdout.starts_with(&format!("{ROWS} rows: {ROWS} compliant")),
        "{stdout}"
    );
    let (header, report) = read_report(&dir.join("onboard.report.csv"));
    assert_eq!(header[0], "row");
    let rows: Vec<u64> = report.iter().map(|r| r["row"].parse().unwrap()).collect();
    assert_eq!(rows, (1..=ROWS).collect::<Vec<_>>(), "every row once");
    for r in &report {
        assert_eq!(r["result"], "compliant", "{r:?}");
        assert!(!r["submitted_status"].is_empty(), "{r:?}");
    }
    let (owned, open) = journal_holdings(&journal);
    assert_eq!(open, 0, "creates left open in the journal");
    assert_eq!(owned.len(), ROWS as usize);
    emulator.set_faults(Faults::none()); // listing needs no latency
    let inventory = emulator.inventory();
    inventory.assert_exactly_one_each(&names, &owned);
    // Submitted once each: a second submission of a bundle in review is refused by Twilio.
    assert!(inventory
        .bundles
        .iter()
        .all(|b| b.status == "in-review" || b.status == "pending-review"));
    let counters = emulator.counters();
    assert_eq!(counters.customer_profiles, ROWS, "{counters:?}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_second_process_on_the_same_journal_is_refused() {
    const ROWS: u64 = 12;
    let emulator = TestEmulator::start(Duration::from_millis(40));
    let dir = temp_dir("two-processes");
    let (csv, names) = customers(&dir, &emulator, ROWS);
    let journal = dir.join("onboard.journal");
    let first = onboard(&emulator, &csv, &journal, &["--concurrency", "2"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while journal_customers(&journal).is_empty() {
        assert!(Instant::now() < deadline, "the first process never wrote");
        std::thread::sleep(Duration::from_millis(10));
    }
    let (code, _, stderr) = run(onboard(&emulator, &csv, &journal, &[]));
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains(&format!("is in use by pid {} on ", first.id())),
        "{stderr}"
    );
    assert!(stderr.contains("(trusthub onboard)"), "{stderr}");
    let output = first.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(0));
    let (owned, _) = journal_holdings(&journal);
    emulator.inventory().assert_exactly_one_each(&names, &owned);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_csv_edited_between_runs_onboards_the_new_customer_and_touches_nothing_else() {
    let emulator = TestEmulator::start(Duration::ZERO);
    let dir = temp_dir("edited");
    let (primary, phone) = (emulator.primary_profile(), emulator.phone_number());
    let mut rows: Vec<Vec<String>> = (1..=5).map(|i| customer(i, &primary, &phone)).collect();
    let csv = dir.join("customers.csv");
    let journal = dir.join("onboard.journal");
    write_csv(&csv, &rows);
    let (code, stdout, _) = run(onboard(&emulator, &csv, &journal, &[]));
    assert_eq!(code, Some(0), "{stdout}");
    let (_, first) = read_report(&dir.join("onboard.report.csv"));
    let before = emulator.counters();
    let served = before.requests_served;

    // A new customer at the top: every row moves down by one.
    rows.insert(0, customer(100, &primary, &phone));
    write_csv(&csv, &rows);
    let (code, stdout, stderr) = run(onboard(&emulator, &csv, &journal, &[]));
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    assert!(stdout.starts_with("6 rows: 6 compliant"), "{stdout}");
    let (_, second) = read_report(&dir.join("onboard.report.csv"));
    assert_eq!(second[0]["run"], "new");
    for (old, new) in first.iter().zip(&second[1..]) {
        assert_eq!(new["run"], "earlier", "{new:?}");
        assert_eq!(
            new["bundle_sid"], old["bundle_sid"],
            "a customer kept its bundle"
        );
    }
    let after = emulator.counters();
    assert_eq!(after.customer_profiles, before.customer_profiles + 1);
    assert_eq!(after.end_users, before.end_users + 3);
    assert_eq!(after.entity_assignments, before.entity_assignments + 5);
    let (owned, _) = journal_holdings(&journal);
    let names: Vec<String> = rows.iter().map(|r| r[0].clone()).collect();
    emulator.inventory().assert_exactly_one_each(&names, &owned);
    assert!(after.requests_served > served);

    // A finished customer whose data changed is refused, naming what changed, and nothing is
    // created; a row removed from the CSV is noted and left alone.
    set(
        &mut rows[3],
        "representative_1.email",
        "someone.else@zephyr3.example.com",
    );
    rows.remove(5);
    write_csv(&csv, &rows);
    let (code, stdout, stderr) = run(onboard(&emulator, &csv, &journal, &[]));
    assert_eq!(code, Some(1), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("this customer was onboarded from other input")
            && stdout.contains("representative_1 (its end user)"),
        "{stdout}"
    );
    assert!(!stdout.contains("someone.else"), "{stdout}");
    assert!(
        stderr.contains("holds 1 customer that no valid row of"),
        "{stderr}"
    );
    assert_eq!(
        emulator.counters().end_users,
        after.end_users,
        "nothing created"
    );

    // Two rows for one customer: the second is refused.
    let mut twice = rows[0].clone();
    set(&mut twice, "friendly_name", "Another Name");
    let rows = vec![rows[0].clone(), rows[1].clone(), twice];
    write_csv(&csv, &rows);
    let (code, stdout, _) = run(onboard(&emulator, &csv, &journal, &[]));
    assert_eq!(code, Some(1), "{stdout}");
    assert!(
        stdout.contains(
            "business_information.business_registration_number: expected a customer no other row \
             has; found the business registration"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains("of row 1 (the same customer twice)"),
        "{stdout}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_full_filesystem_stops_the_batch_within_one_row_and_the_rerun_creates_nothing_twice() {
    const ROWS: u64 = 30;
    let emulator = TestEmulator::start(Duration::ZERO);
    let dir = temp_dir("full-disk");
    let (csv, names) = customers(&dir, &emulator, ROWS);
    let (full, out, reports) = (dir.join("full"), dir.join("out"), dir.join("reports"));
    for d in [&full, &out, &reports] {
        std::fs::create_dir_all(d).unwrap();
    }
    // A 48 KiB tmpfs, mounted in a mount namespace of its own (no privilege needed beyond
    // unprivileged user namespaces): the journal fills it after a few rows. What the process
    // wrote is copied out when it ends, since the mount ends with it.
    let binary = assert_cmd::cargo::cargo_bin("trusthub");
    let script = r#"mount -t tmpfs -o size=48k tmpfs "$FULL" || exit 99
"$BIN" onboard "$CSV" --journal "$FULL/onboard.journal" --concurrency 1 --report-dir "$REPORTS"
rc=$?
cp -a "$FULL/." "$OUT/"
exit $rc"#;
    let mut cmd = Command::new("unshare");
    cmd.args(["--user", "--map-root-user", "--mount", "sh", "-c", script])
        .env("FULL", &full)
        .env("OUT", &out)
        .env("REPORTS", &reports)
        .env("CSV", &csv)
        .env("BIN", &binary);
    emulator.environment(&mut cmd);
    let (code, stdout, stderr) = run(cmd);
    assert_ne!(
        code,
        Some(99),
        "this test needs to mount a tmpfs in a user namespace (util-linux unshare): {stderr}"
    );
    assert_eq!(code, Some(1), "{stdout}\n{stderr}");
    assert!(stderr.contains("could not be written"), "{stderr}");
    assert!(stderr.contains("No space left on device"), "{stderr}");
    let (_, report) = read_report(&reports.join("onboard.report.csv"));
    let compliant = report.iter().filter(|r| r["result"] == "compliant").count();
    let started = emulator.inventory().bundles.len();
    assert!(compliant >= 1, "the tmpfs holds a few rows: {stdout}");
    assert!(
        started <= compliant + 1,
        "{started} bundles for {compliant} finished rows: the batch went on after the disk filled"
    );
    assert!(report.iter().any(|r| r["run"] == "stopped"), "{report:?}");

    // Room again (the journal moved to a normal disk): the same command finishes the batch.
    let journal = out.join("onboard.journal");
    let (code, stdout, stderr) = run(onboard(
        &emulator,
        &csv,
        &journal,
        &["--report-dir", reports.to_str().unwrap()],
    ));
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    let (owned, open) = journal_holdings(&journal);
    assert_eq!(open, 0);
    emulator.inventory().assert_exactly_one_each(&names, &owned);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_submission_whose_answer_never_comes_resumes_to_submitted() {
    let emulator = TestEmulator::start(Duration::ZERO);
    let dir = temp_dir("lost-submit");
    let (csv, names) = customers(&dir, &emulator, 3);
    let journal = dir.join("onboard.journal");
    // The first submission is committed; its answer never comes, and the process is killed
    // while it waits.
    let stall = || {
        Faults::none().with_rule(FaultRule::new(
            "POST",
            "/v1/CustomerProfiles/*",
            FaultKind::CommitThenStall,
            1,
        ))
    };
    emulator.set_faults(stall());
    let kill_once_submitted = |mut child: Child| {
        let deadline = Instant::now() + Duration::from_secs(60);
        while !emulator
            .inventory()
            .bundles
            .iter()
            .any(|b| b.status != "draft")
        {
            assert!(Instant::now() < deadline, "nothing was submitted");
            assert!(child.try_wait().unwrap().is_none(), "ended before a submit");
            std::thread::sleep(Duration::from_millis(20));
        }
        kill_9(&mut child);
    };
    let child = onboard(&emulator, &csv, &journal, &["--submit"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    kill_once_submitted(child);
    let (code, stdout, stderr) = run(onboard(&emulator, &csv, &journal, &["--submit"]));
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    assert!(stdout.starts_with("3 rows: 3 compliant"), "{stdout}");
    let (_, report) = read_report(&dir.join("onboard.report.csv"));
    assert!(report.iter().all(|r| !r["submitted_status"].is_empty()));
    let (owned, open) = journal_holdings(&journal);
    assert_eq!(open, 0);
    emulator.inventory().assert_exactly_one_each(&names, &owned);

    // `profile create --journal --submit` the same way.
    let file = dir.join("customer.toml");
    let example = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/customer.toml"),
    )
    .unwrap()
    .replace(
        "# primary_profile_sid = \"BU...\"",
        &format!("primary_profile_sid = \"{}\"", emulator.primary_profile()),
    );
    std::fs::write(&file, example).unwrap();
    let profile_journal = dir.join("profile.journal");
    let create = || {
        let mut cmd = emulator.command();
        cmd.args(["profile", "create", "--submit", "--file"])
            .arg(&file)
            .arg("--journal")
            .arg(&profile_journal);
        cmd
    };
    let submitted_before = emulator
        .inventory()
        .bundles
        .iter()
        .filter(|b| b.status != "draft")
        .count();
    emulator.set_faults(stall());
    let mut child = create()
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while emulator
        .inventory()
        .bundles
        .iter()
        .filter(|b| b.status != "draft")
        .count()
        == submitted_before
    {
        assert!(Instant::now() < deadline, "nothing was submitted");
        std::thread::sleep(Duration::from_millis(20));
    }
    kill_9(&mut child);
    let (code, stdout, stderr) = run(create());
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("submitted for review: in-review"),
        "{stdout}"
    );
    assert_eq!(emulator.counters().customer_profiles, 4);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn gateway_errors_after_the_commit_create_nothing_twice() {
    const ROWS: u64 = 30;
    let emulator = TestEmulator::with_faults(
        Faults::none()
            .with_rate_commit_then_503(0.10)
            .with_rate_commit_then_429(0.05)
            .with_rate_commit_then_drop(0.05),
    );
    let dir = temp_dir("gateway");
    let (csv, names) = customers(&dir, &emulator, ROWS);
    let journal = dir.join("onboard.journal");
    let (code, stdout, stderr) = run(onboard(&emulator, &csv, &journal, &["--submit"]));
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    let counters = emulator.counters();
    assert!(
        counters.gateway_503_after_commit > 0 && counters.gateway_429_after_commit > 0,
        "{counters:?}"
    );
    let (owned, _) = journal_holdings(&journal);
    emulator.inventory().assert_exactly_one_each(&names, &owned);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_wrong_primary_profile_is_refused_before_anything_is_created() {
    let emulator = TestEmulator::start(Duration::ZERO);
    let dir = temp_dir("wrong-primary");
    let (primary, phone) = (emulator.primary_profile(), emulator.phone_number());
    let wrong = "BU0123456789abcdef0123456789abcdef";
    let rows: Vec<Vec<String>> = (1..=4).map(|i| customer(i, wrong, &phone)).collect();
    let csv = dir.join("customers.csv");
    write_csv(&csv, &rows);
    let journal = dir.join("onboard.journal");
    for extra in [&["--dry-run"][..], &[][..]] {
        let (code, stdout, stderr) = run(onboard(&emulator, &csv, &journal, extra));
        assert_eq!(code, Some(1), "{extra:?}: {stdout}\n{stderr}");
        assert!(
            stdout.contains(&format!(
                "the primary customer profile {wrong} cannot carry secondary profiles, so nothing \
                 was created: it does not exist in this account"
            )),
            "{extra:?}: {stdout}"
        );
    }
    let inventory = emulator.inventory();
    assert!(
        inventory.bundles.is_empty() && inventory.end_users.is_empty(),
        "{inventory:?}"
    );
    // The same batch with only the primary profile corrected runs through.
    let rows: Vec<Vec<String>> = (1..=4).map(|i| customer(i, &primary, &phone)).collect();
    write_csv(&csv, &rows);
    let (code, stdout, _) = run(onboard(&emulator, &csv, &journal, &[]));
    assert_eq!(code, Some(0), "{stdout}");
    let (owned, _) = journal_holdings(&journal);
    let names: Vec<String> = rows.iter().map(|r| r[0].clone()).collect();
    emulator.inventory().assert_exactly_one_each(&names, &owned);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn customers_sharing_a_bundles_fields_each_get_one_after_lost_answers() {
    // Two customers (two registrations) whose bundles share name, email and policy, created at
    // the same moment, both answers lost: each lookup finds both bundles. Neither may take the
    // other's, and neither may stop as ambiguous for ever: they share the two out.
    let emulator = TestEmulator::with_faults(Faults::none().with_rule(FaultRule::new(
        "POST",
        "/v1/CustomerProfiles",
        FaultKind::CommitThenDrop,
        2,
    )));
    let dir = temp_dir("shared-fields");
    let (primary, phone) = (emulator.primary_profile(), emulator.phone_number());
    let rows: Vec<Vec<String>> = (1..=2)
        .map(|i| {
            let mut row = customer(i, &primary, &phone);
            set(&mut row, "friendly_name", "Zephyrwidget Franchise");
            set(&mut row, "email", "compliance@franchise.example.com");
            row
        })
        .collect();
    let csv = dir.join("customers.csv");
    write_csv(&csv, &rows);
    let journal = dir.join("onboard.journal");
    let (code, stdout, stderr) = run(onboard(&emulator, &csv, &journal, &["--concurrency", "2"]));
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    assert_eq!(emulator.counters().connections_dropped, 2);
    let inventory = emulator.inventory();
    assert_eq!(inventory.bundles.len(), 2, "{inventory:?}");
    let (owned, open) = journal_holdings(&journal);
    assert_eq!(open, 0);
    let customers = journal_customers(&journal);
    let bundles: std::collections::BTreeSet<&str> = customers
        .values()
        .filter_map(|j| j["bundle"].as_str())
        .collect();
    assert_eq!(bundles.len(), 2, "each customer has its own bundle");
    for b in &inventory.bundles {
        assert!(
            owned.iter().any(|sids| sids.contains(&b.sid)),
            "orphan {}",
            b.sid
        );
        assert_eq!(b.entities.len(), 5);
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
