//! Many workers, one account: `onboard CSV --store` enqueues the rows of a CSV in a throwaway
//! PostgreSQL cluster, `trusthub worker` processes run them against an emulator of the test
//! process; workers are killed with SIGKILL at random moments (their leases expire and other
//! workers resume the jobs) or stopped with SIGTERM (their jobs are released at once).

use crate::support;

use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use support::pg::Cluster;
use support::{created, customer, owned_sids, per_row, pii, temp_dir, write_csv, TestEmulator};

/// A runtime for the tests' own SQL.
fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// `rows` generated customers in `dir/customers.csv`; returns the path and the bundle names.
fn customers(dir: &Path, emulator: &TestEmulator, rows: u64) -> (PathBuf, Vec<String>) {
    let (primary, phone) = (emulator.primary_profile(), emulator.phone_number());
    let rows: Vec<Vec<String>> = (1..=rows).map(|i| customer(i, &primary, &phone)).collect();
    let csv = dir.join("customers.csv");
    write_csv(&csv, &rows);
    (csv, rows.iter().map(|r| r[0].clone()).collect())
}

fn output(mut cmd: Command) -> (Option<i32>, String, String) {
    let out = cmd.output().unwrap();
    (
        out.status.code(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

fn enqueue(emulator: &TestEmulator, csv: &Path, url: &str, key: &Path) -> Command {
    let mut cmd = emulator.command();
    cmd.arg("onboard")
        .arg(csv)
        .args(["--store", url, "--store-key"])
        .arg(key);
    cmd
}

/// A worker process, its output appended to `log`.
fn worker(emulator: &TestEmulator, url: &str, key: &Path, log: &Path, extra: &[&str]) -> Child {
    let file = || {
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .unwrap()
    };
    let mut cmd = emulator.command();
    cmd.args(["worker", "--store", url, "--store-key"])
        .arg(key)
        .args(["--poll", "0.2", "--submit"])
        .args(extra)
        .stdout(file())
        .stderr(file())
        .spawn()
        .unwrap()
}

fn wait(child: &mut Child, limit: Duration) -> Option<i32> {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status.code();
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("a worker did not exit within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn status(emulator: &TestEmulator, url: &str, key: &Path) -> (Option<i32>, serde_json::Value) {
    let mut cmd = emulator.command();
    cmd.args(["status", "--json", "--store", url, "--store-key"])
        .arg(key);
    let (code, stdout, stderr) = output(cmd);
    let value = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}{stderr}"));
    (code, value)
}

/// Every job's state and journal (JSON), read with SQL.
fn jobs(
    rt: &tokio::runtime::Runtime,
    cluster: &Cluster,
    db: &str,
) -> Vec<(String, serde_json::Value)> {
    rt.block_on(async {
        let client = cluster.client(db).await;
        client
            .query("SELECT state, journal FROM trusthub.jobs ORDER BY id", &[])
            .await
            .unwrap()
            .iter()
            .map(|row| {
                (
                    row.get::<_, String>(0),
                    row.get::<_, Option<serde_json::Value>>(1)
                        .unwrap_or(serde_json::Value::Null),
                )
            })
            .collect()
    })
}

#[test]
fn three_workers_killed_at_random_onboard_every_row_exactly_once() {
    const ROWS: u64 = 40;
    let cluster = Cluster::start();
    let rt = runtime();
    let url = rt.block_on(cluster.database("workers"));
    // Latency on the answer path: kills land between Twilio's commit and the worker hearing of it.
    let emulator = TestEmulator::with_faults(
        trusthub_emulator::Faults::none().with_answer_latency(Duration::from_millis(40)),
    );
    let dir = temp_dir("workers-kill");
    let key = dir.join("store.key");
    let (csv, names) = customers(&dir, &emulator, ROWS);

    let (code, stdout, stderr) = output(enqueue(&emulator, &csv, &url, &key));
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert!(
        stdout.contains(&format!("{ROWS} rows: {ROWS} queued, 0 already queued")),
        "{stdout}"
    );
    assert!(stderr.contains("created the store key"), "{stderr}");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&key).unwrap().permissions().mode() & 0o777,
        0o600
    );

    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    eprintln!("kill moments from seed {seed}");
    let mut rng = fastrand::Rng::with_seed(seed);
    let log = dir.join("workers.log");
    let args = ["--concurrency", "2", "--lease", "3", "--exit-when-empty"];
    let mut workers: Vec<Child> = (0..3)
        .map(|_| worker(&emulator, &url, &key, &log, &args))
        .collect();
    let mut kills = 0;
    for _ in 0..2 {
        std::thread::sleep(Duration::from_millis(rng.u64(400..1200)));
        let victim = &mut workers[0];
        if victim.try_wait().unwrap().is_some() {
            break;
        }
        let _ = victim.kill(); // SIGKILL
        let _ = victim.wait();
        kills += 1;
        workers[0] = worker(&emulator, &url, &key, &log, &args);
    }
    assert_eq!(kills, 2, "the run ended before both kills");
    for w in &mut workers {
        assert_eq!(wait(w, Duration::from_secs(45)), Some(0));
    }

    // Every row done and compliant, each job holding its own resources.
    let jobs = jobs(&rt, &cluster, "workers");
    assert_eq!(jobs.len(), ROWS as usize);
    for (state, journal) in &jobs {
        assert_eq!(state, "done", "{journal}");
        assert_eq!(journal["compliant"], true, "{journal}");
        assert_eq!(journal["submitted"], true, "{journal}");
        assert!(
            journal["intents"].as_object().is_none_or(|i| i.is_empty()),
            "{journal}"
        );
    }
    // The kills caught jobs in flight: other workers took them over once their leases expired.
    let taken_over: i64 = rt.block_on(async {
        let client = cluster.client("workers").await;
        client
            .query_one("SELECT count(*) FROM trusthub.jobs WHERE attempts > 1", &[])
            .await
            .unwrap()
            .get(0)
    });
    assert!(taken_over > 0, "no kill caught a job in flight");
    let owned: Vec<Vec<String>> = jobs.iter().map(|(_, j)| owned_sids(j)).collect();
    let counters = emulator.counters();
    // Submission may evaluate again: evaluations are checked by the inventory, per bundle.
    let without_evaluations = |v: Vec<(&'static str, u64)>| {
        v.into_iter()
            .filter(|(n, _)| *n != "evaluations")
            .collect::<Vec<_>>()
    };
    assert_eq!(
        without_evaluations(created(&counters)),
        without_evaluations(per_row(ROWS)),
        "exactly one of everything per row: {counters:?}"
    );
    emulator.set_faults(trusthub_emulator::Faults::none());
    emulator.inventory().assert_exactly_one_each(&names, &owned);

    let (code, report) = status(&emulator, &url, &key);
    assert_eq!(code, Some(0), "{report}");
    assert_eq!(report["jobs"], ROWS);
    assert_eq!(report["done"], ROWS);
    assert_eq!(report["failed"], 0);
    assert_eq!(report["failed_jobs"], serde_json::json!([]));

    // The same CSV again creates nothing.
    let (code, stdout, stderr) = output(enqueue(&emulator, &csv, &url, &key));
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert!(
        stdout.contains(&format!("{ROWS} rows: 0 queued, {ROWS} already queued")),
        "{stdout}"
    );
    let (_, report) = status(&emulator, &url, &key);
    assert_eq!(report["jobs"], ROWS);

    // The same as CSV and TSV rows: one per CSV row, and the failed jobs (none).
    let mut cmd = enqueue(&emulator, &csv, &url, &key);
    cmd.args(["-o", "csv"]);
    let (code, stdout, stderr) = output(cmd);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    let mut reader = csv::Reader::from_reader(stdout.as_bytes());
    assert_eq!(
        reader.headers().unwrap(),
        vec!["row", "result", "job", "state", "problems"]
    );
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), ROWS as usize, "{stdout}");
    assert!(
        rows.iter()
            .all(|r| &r[1] == "already queued" && &r[3] == "done"),
        "{stdout}"
    );
    let mut cmd = emulator.command();
    cmd.args(["status", "-o", "tsv", "--store", &url, "--store-key"])
        .arg(&key);
    let (code, stdout, stderr) = output(cmd);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert_eq!(stdout, "job\tcustomer\tattempts\tfailed_at\treason\n");
    assert!(
        stderr.contains(&format!("{ROWS} jobs: 0 queued")),
        "{stderr}"
    );

    // No personal data in anything the workers printed.
    let printed = std::fs::read_to_string(&log).unwrap();
    assert!(printed.contains(": done"), "{printed}");
    for i in 1..=ROWS {
        for value in pii(i) {
            assert!(
                !printed.contains(&value),
                "row {i}'s data in the workers' output"
            );
        }
    }
}

#[test]
fn a_worker_stopped_with_sigterm_releases_its_jobs_at_once() {
    const ROWS: u64 = 6;
    let cluster = Cluster::start();
    let rt = runtime();
    let url = rt.block_on(cluster.database("sigterm"));
    let emulator = TestEmulator::start(Duration::from_millis(150));
    let dir = temp_dir("workers-sigterm");
    let key = dir.join("store.key");
    let (csv, names) = customers(&dir, &emulator, ROWS);
    let (code, stdout, stderr) = output(enqueue(&emulator, &csv, &url, &key));
    assert_eq!(code, Some(0), "{stdout}{stderr}");

    // A lease far longer than the test: only a release lets another worker take the jobs.
    let log = dir.join("workers.log");
    let mut first = worker(
        &emulator,
        &url,
        &key,
        &log,
        &["--concurrency", "3", "--lease", "600"],
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let running = jobs(&rt, &cluster, "sigterm")
            .iter()
            .filter(|(state, journal)| state == "running" && !journal.is_null())
            .count();
        if running >= 2 {
            break;
        }
        assert!(Instant::now() < deadline, "no job started");
        std::thread::sleep(Duration::from_millis(50));
    }
    // SAFETY: signalling our own child by its PID (not yet reaped).
    unsafe {
        libc::kill(first.id() as libc::pid_t, libc::SIGTERM);
    }
    assert_eq!(wait(&mut first, Duration::from_secs(20)), Some(130));
    let after = jobs(&rt, &cluster, "sigterm");
    assert!(
        after.iter().all(|(state, _)| state != "running"),
        "{after:?}"
    );
    assert!(after.iter().any(|(state, _)| state == "queued"));

    let started = Instant::now();
    let mut second = worker(
        &emulator,
        &url,
        &key,
        &log,
        &["--concurrency", "3", "--lease", "600", "--exit-when-empty"],
    );
    assert_eq!(wait(&mut second, Duration::from_secs(40)), Some(0));
    assert!(started.elapsed() < Duration::from_secs(40));
    let (code, report) = status(&emulator, &url, &key);
    assert_eq!(code, Some(0), "{report}");
    assert_eq!(report["done"], ROWS, "{report}");
    let jobs = jobs(&rt, &cluster, "sigterm");
    let owned: Vec<Vec<String>> = jobs.iter().map(|(_, j)| owned_sids(j)).collect();
    emulator.inventory().assert_exactly_one_each(&names, &owned);
    let printed = std::fs::read_to_string(&log).unwrap();
    assert!(printed.contains("SIGTERM: stopping"), "{printed}");
    assert!(printed.contains(": released"), "{printed}");
}

#[test]
fn workers_sharing_the_account_limit_through_the_store_stay_under_it() {
    const ROWS: u64 = 30;
    const LIMIT: u32 = 6;
    let cluster = Cluster::start();
    let rt = runtime();
    let url = rt.block_on(cluster.database("budget"));
    // Twilio's limit of the account: a 7th request in flight is answered 429 (20429).
    let emulator = TestEmulator::with_config(
        trusthub_emulator::EmulatorConfig::default()
            .with_faults(
                trusthub_emulator::Faults::none().with_answer_latency(Duration::from_millis(40)),
            )
            .with_account_concurrency_limit(LIMIT),
    );
    let dir = temp_dir("workers-budget");
    let key = dir.join("store.key");
    let (csv, names) = customers(&dir, &emulator, ROWS);
    let (code, stdout, stderr) = output(enqueue(&emulator, &csv, &url, &key));
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    let enqueue_429 = emulator.counters().account_limit_429;

    // Each worker alone would send up to 6 requests at once: 18 between them without the budget.
    let log = dir.join("workers.log");
    let args = [
        "--concurrency",
        "6",
        "--account-limit",
        "6",
        "--lease",
        "30",
        "--retry-after",
        "1",
        "--exit-when-empty",
    ];
    let started = Instant::now();
    let mut workers: Vec<Child> = (0..3)
        .map(|_| worker(&emulator, &url, &key, &log, &args))
        .collect();
    for w in &mut workers {
        assert_eq!(wait(w, Duration::from_secs(45)), Some(0));
    }
    let took = started.elapsed();

    let jobs = jobs(&rt, &cluster, "budget");
    assert_eq!(jobs.len(), ROWS as usize);
    for (state, journal) in &jobs {
        assert_eq!(state, "done", "{journal}");
    }
    let owned: Vec<Vec<String>> = jobs.iter().map(|(_, j)| owned_sids(j)).collect();
    let counters = emulator.counters();
    let printed = std::fs::read_to_string(&log).unwrap();
    eprintln!(
        "{ROWS} rows in {took:?}: account_limit_429 {}, max_in_flight {}",
        counters.account_limit_429 - enqueue_429,
        counters.max_in_flight
    );
    // The shares sum to the account's limit (2 + 2 + 2 here) and every request of a worker (its
    // preflight and its submissions included) goes through its limiter, so the account's limit
    // refuses (next to) nothing: the bar is under 1% of the requests (0 measured in
    // three runs). Without the budget, 18 requests may be in flight against a limit of 6.
    let refused = counters.account_limit_429 - enqueue_429;
    assert!(
        refused * 100 < counters.requests_served,
        "{refused} of {} requests refused by the account's limit: {counters:?}\n{printed}",
        counters.requests_served
    );
    assert!(counters.max_in_flight <= u64::from(LIMIT), "{counters:?}");
    assert!(
        printed.contains("of the account's 6 requests in flight"),
        "{printed}"
    );
    // Every worker left the budget on its way out.
    let left: i64 = rt.block_on(async {
        let client = cluster.client("budget").await;
        client
            .query_one("SELECT count(*) FROM trusthub.workers", &[])
            .await
            .unwrap()
            .get(0)
    });
    assert_eq!(left, 0);
    emulator.set_faults(trusthub_emulator::Faults::none());
    emulator.inventory().assert_exactly_one_each(&names, &owned);
}

#[test]
fn a_job_that_keeps_failing_for_now_is_given_up_after_max_retries_and_can_be_queued_again() {
    let cluster = Cluster::start();
    let rt = runtime();
    let url = rt.block_on(cluster.database("retries"));
    let emulator = TestEmulator::start(Duration::ZERO);
    let dir = temp_dir("workers-retries");
    let key = dir.join("store.key");
    let (csv, _) = customers(&dir, &emulator, 2);
    let (code, stdout, stderr) = output(enqueue(&emulator, &csv, &url, &key));
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    // The commands of a Twilio that cannot be reached: the emulator is gone, its port closed.
    let command = |args: &[&str]| {
        let mut cmd = emulator.command();
        cmd.args(args)
            .args(["--store", &url, "--store-key"])
            .arg(&key);
        cmd
    };
    let mut work = command(&["worker"]);
    work.args([
        "--retry-after",
        "0",
        "--max-retries",
        "3",
        "--exit-when-empty",
    ])
    .args(["--poll", "0.2", "-o", "csv", "--no-header"]);
    let listing = command(&["-o", "csv", "status", "--state", "all"]);
    let requeue = command(&["requeue"]);
    let queued = command(&["-o", "tsv", "--no-header", "status", "--state", "queued"]);
    let failed = command(&["status", "--json"]);
    drop(emulator);

    let (code, stdout, stderr) = output(work);
    assert_eq!(code, Some(0), "exit-when-empty: {stdout}{stderr}");
    // Each job: tried, retried twice (its reason kept), then failed naming the cap.
    let lines: Vec<&str> = stdout.lines().collect();
    let results: Vec<&str> = lines
        .iter()
        .map(|l| l.split(',').nth(2).unwrap_or_default())
        .collect();
    assert_eq!(
        results.iter().filter(|r| **r == "retry").count(),
        4,
        "{stdout}"
    );
    assert_eq!(
        results.iter().filter(|r| **r == "failed").count(),
        2,
        "{stdout}"
    );
    assert!(
        stdout.contains("gave up after 3 tries in a row (--max-retries 3)"),
        "{stdout}"
    );

    let (code, stdout, stderr) = output(listing);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    let mut reader = csv::Reader::from_reader(stdout.as_bytes());
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(
        header,
        [
            "job",
            "customer",
            "state",
            "attempts",
            "retries",
            "lease_owner",
            "lease_expires",
            "wake_at",
            "last_error"
        ]
    );
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 2, "{stdout}");
    for row in &rows {
        assert_eq!(&row[2], "failed", "{row:?}");
        assert_eq!(&row[3], "3", "three leases: {row:?}");
        assert_eq!(&row[4], "2", "two retries before giving up: {row:?}");
        assert!(row[8].starts_with("gave up after 3 tries"), "{row:?}");
    }
    assert!(stderr.contains("2 jobs: 0 queued"), "{stderr}");

    let (code, stdout, stderr) = output(failed);
    assert_eq!(code, Some(1), "failed jobs: {stdout}{stderr}");
    let (code, stdout, stderr) = output(requeue);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert!(stdout.contains("2 failed jobs queued again"), "{stdout}");
    let (code, stdout, stderr) = output(queued);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    let lines: Vec<Vec<&str>> = stdout.lines().map(|l| l.split('\t').collect()).collect();
    assert_eq!(lines.len(), 2, "{stdout}");
    assert!(
        lines
            .iter()
            .all(|l| l[2] == "queued" && l[3] == "0" && l[4] == "0" && l[8].is_empty()),
        "{stdout}"
    );
}
