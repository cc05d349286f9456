//! `cargo xtask bench-workers`: the scale run of many workers on one account. A throwaway
//! PostgreSQL cluster, the standalone emulator (`trusthub-emulator`: 50 ms per request, at most
//! 20 of the account's requests in flight, auto-approval), 500 generated rows enqueued with
//! `trusthub onboard CSV --store`, then 3 `trusthub worker --account-limit 20 --concurrency 20`
//! processes, one of them SIGKILLed and restarted twice (`--kills N`: N times, 0 to 3). Prints the
//! rows done, the duplicates check, the account-limit 429s, the requests served in each second
//! and the wall time against the bound
//! `rows × requests per row / 20 in flight × 50 ms`. Fails if a row is not done or a resource was
//! created twice; the targets (429s < 1% of requests, wall <= 1.2 × bound) are only reported.
//! Every process it starts is stopped by PID when its guard drops (an error included).

use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::bench_cli::{build, customers_csv};
use crate::tasks::{cargo, run};
use crate::{fail, Result};

const ROWS: u64 = 500;
const LATENCY_MS: u64 = 50;
const LIMIT: u64 = 20;
const WORKERS: usize = 3;
const AUTO_APPROVE_MS: u64 = 100;
/// The requests per row assumed to schedule the kills (the bound uses the measured figure).
const ASSUMED_REQUESTS_PER_ROW: f64 = 16.0;

/// The standalone emulator and what it printed.
struct Emulator {
    child: Child,
    base_url: String,
    account_sid: String,
    auth_token: String,
    primary: String,
    phone: String,
}

impl Emulator {
    fn start(binary: &Path) -> Result<Emulator> {
        let mut child = Command::new(binary)
            .args(["--port", "0", "--latency-ms", &LATENCY_MS.to_string()])
            .args(["--account-concurrency-limit", &LIMIT.to_string()])
            .args(["--approve-after", &AUTO_APPROVE_MS.to_string()])
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|e| fail!("cannot start {}: {e}", binary.display()))?;
        let mut out = BufReader::new(child.stdout.take().expect("piped"));
        let mut text = String::new();
        // Its banner ends with "Ctrl-C stops it.".
        loop {
            let mut line = String::new();
            if out.read_line(&mut line)? == 0 || line.starts_with("Ctrl-C") {
                break;
            }
            text.push_str(&line);
        }
        // Keep reading (and dropping) its stdout so that it never blocks on a full pipe.
        std::thread::spawn(move || std::io::copy(&mut out, &mut std::io::sink()));
        let field = |prefix: &str| {
            text.lines()
                .find_map(|l| l.trim().strip_prefix(prefix))
                .map(|v| v.trim().to_owned())
                .unwrap_or_default()
        };
        let emulator = Emulator {
            base_url: field("export TWILIO_BASE_URL="),
            account_sid: field("export TWILIO_ACCOUNT_SID="),
            auth_token: field("export TWILIO_AUTH_TOKEN="),
            primary: field("primary profile SID:"),
            phone: field("phone number SIDs:")
                .split(',')
                .next()
                .unwrap_or_default()
                .trim()
                .to_owned(),
            child,
        };
        if emulator.base_url.is_empty() || emulator.account_sid.is_empty() {
            return Err(fail!(
                "the emulator printed no base URL or credentials:\n{text}"
            ));
        }
        Ok(emulator)
    }

    /// `trusthub` with the emulator's credentials (as bench-cli passes them).
    fn command(&self, binary: &Path) -> Command {
        let mut cmd = Command::new(binary);
        cmd.env("TWILIO_ACCOUNT_SID", &self.account_sid)
            .env("TWILIO_AUTH_TOKEN", &self.auth_token)
            .env("TWILIO_BASE_URL", &self.base_url)
            .env_remove("TWILIO_API_KEY")
            .env_remove("TWILIO_API_SECRET");
        cmd
    }

    /// `GET /__emulator/counters` (no credentials needed), over a bare HTTP/1.0 request.
    fn counters(&self) -> Result<serde_json::Value> {
        counters_at(&self.base_url)
    }
}

/// The emulator's counters (`GET /__emulator/counters`).
fn counters_at(base_url: &str) -> Result<serde_json::Value> {
    {
        let authority = base_url
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .to_owned();
        let mut stream = std::net::TcpStream::connect(&authority)?;
        stream.set_read_timeout(Some(Duration::from_secs(10)))?;
        write!(
            stream,
            "GET /__emulator/counters HTTP/1.0\r\nHost: {authority}\r\nConnection: close\r\n\r\n"
        )?;
        let mut answer = String::new();
        stream.read_to_string(&mut answer)?;
        let body = answer
            .split_once("\r\n\r\n")
            .map(|(_, b)| b)
            .ok_or_else(|| fail!("no answer from /__emulator/counters: {answer}"))?;
        serde_json::from_str(body).map_err(|e| fail!("/__emulator/counters: {e}: {body}"))
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        stop_child(&mut self.child, libc::SIGINT);
    }
}

/// Signals `child` by its PID, waits up to 5 s, then SIGKILLs it.
fn stop_child(child: &mut Child, signal: libc::c_int) {
    if matches!(child.try_wait(), Ok(None)) {
        // SAFETY: our own unreaped child: its PID cannot have been reused.
        unsafe {
            libc::kill(child.id() as libc::pid_t, signal);
        }
        let deadline = Instant::now() + Duration::from_secs(5);
        while matches!(child.try_wait(), Ok(None)) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// The worker processes; any still running are killed by PID when dropped.
struct Workers(Vec<Child>);

impl Drop for Workers {
    fn drop(&mut self) {
        for w in &mut self.0 {
            stop_child(w, libc::SIGTERM);
        }
    }
}

fn as_u64(v: &serde_json::Value, key: &str) -> u64 {
    v[key].as_u64().unwrap_or(0)
}

pub fn bench_workers(kill_count: usize) -> Result<()> {
    let (trusthub, dir) = build("bench-workers")?;
    let mut emu_build = cargo();
    emu_build.args(["build", "--quiet", "--release", "-p", "trusthub-emulator"]);
    run(emu_build, "cargo build --release -p trusthub-emulator")?;
    let emulator_bin = trusthub.with_file_name("trusthub-emulator");

    let cluster = cluster::Cluster::start();
    let url = create_database(&cluster, "bench")?;
    let emulator = Emulator::start(&emulator_bin)?;
    println!(
        "PostgreSQL (pid {}) on 127.0.0.1:{}; emulator (pid {}) at {}: latency {LATENCY_MS} ms, \
         account concurrency limit {LIMIT}, approve after {AUTO_APPROVE_MS} ms",
        cluster.pid(),
        cluster.port(),
        emulator.child.id(),
        emulator.base_url
    );

    let csv = dir.join("rows.csv");
    std::fs::write(
        &csv,
        customers_csv(ROWS, &emulator.primary, &emulator.phone),
    )?;
    let key = dir.join("store.key");
    let _ = std::fs::remove_file(&key);
    let out = emulator
        .command(&trusthub)
        .arg("onboard")
        .arg(&csv)
        .args(["--store", &url, "--store-key"])
        .arg(&key)
        .output()?;
    if !out.status.success() {
        return Err(fail!(
            "`trusthub onboard rows.csv --store` exited with {}: {}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let enqueued = String::from_utf8_lossy(&out.stdout);
    println!("enqueue: {}", enqueued.lines().last().unwrap_or_default());
    let before = emulator.counters()?;

    let log = dir.join("workers.log");
    let _ = std::fs::remove_file(&log);
    let limit = LIMIT.to_string();
    let spawn = || -> Result<Child> {
        let file = || {
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&log)
        };
        Ok(emulator
            .command(&trusthub)
            .args(["worker", "--store", &url, "--store-key"])
            .arg(&key)
            .args(["--account-limit", &limit, "--concurrency", &limit])
            .args(["--submit", "--exit-when-empty", "--lease", "6"])
            .stdout(file()?)
            .stderr(file()?)
            .spawn()?)
    };
    let expected = Duration::from_secs_f64(
        ROWS as f64 * ASSUMED_REQUESTS_PER_ROW / LIMIT as f64 * LATENCY_MS as f64 / 1000.0,
    );
    // The requests served in each second of the run, sampled from the emulator's counters.
    let sampling = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
    let sampler = {
        let (base_url, sampling) = (emulator.base_url.clone(), sampling.clone());
        let first = as_u64(&before, "requests_served");
        std::thread::spawn(move || {
            let mut per_second = Vec::new();
            let mut last = first;
            let started = Instant::now();
            let mut next = started;
            while sampling.load(std::sync::atomic::Ordering::Relaxed) {
                next += Duration::from_secs(1);
                std::thread::sleep(next.saturating_duration_since(Instant::now()));
                if let Ok(c) = counters_at(&base_url) {
                    let served = as_u64(&c, "requests_served");
                    per_second.push(served.saturating_sub(last));
                    last = served;
                }
            }
            per_second
        })
    };
    let started = Instant::now();
    let mut workers = Workers(Vec::new());
    for _ in 0..WORKERS {
        workers.0.push(spawn()?);
    }
    let mut kills = Vec::new();
    for fraction in [0.25, 0.5, 0.75].into_iter().take(kill_count) {
        let at = expected.mul_f64(fraction);
        if let Some(wait) = at.checked_sub(started.elapsed()) {
            std::thread::sleep(wait);
        }
        let victim = &mut workers.0[0];
        if victim.try_wait()?.is_some() {
            println!(
                "kill at {:.1} s: worker 0 had already exited",
                at.as_secs_f64()
            );
            continue;
        }
        let pid = victim.id();
        victim.kill()?; // SIGKILL
        victim.wait()?;
        workers.0[0] = spawn()?;
        kills.push(started.elapsed());
        println!(
            "SIGKILL worker pid {pid} at {:.2} s; restarted as pid {}",
            started.elapsed().as_secs_f64(),
            workers.0[0].id()
        );
    }
    let deadline = started + Duration::from_secs(600);
    let mut codes = Vec::new();
    for w in &mut workers.0 {
        let status = loop {
            if let Some(status) = w.try_wait()? {
                break status;
            }
            if Instant::now() > deadline {
                return Err(fail!(
                    "a worker did not exit within 600 s (log: {})",
                    log.display()
                ));
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        codes.push(status.code());
    }
    let wall = started.elapsed();
    sampling.store(false, std::sync::atomic::Ordering::Relaxed);
    let per_second = sampler.join().unwrap_or_default();

    let after = emulator.counters()?;
    let status = emulator
        .command(&trusthub)
        .args(["status", "--json", "--store", &url, "--store-key"])
        .arg(&key)
        .output()?;
    let report: serde_json::Value = serde_json::from_slice(&status.stdout).map_err(|e| {
        fail!(
            "`trusthub status --json` printed no JSON ({e}): {}{}",
            String::from_utf8_lossy(&status.stdout),
            String::from_utf8_lossy(&status.stderr)
        )
    })?;

    // Figures.
    let delta = |k: &str| as_u64(&after, k).saturating_sub(as_u64(&before, k));
    let served = delta("requests_served");
    let refused = delta("account_limit_429");
    let arrived = served + refused;
    let per_row = served as f64 / ROWS as f64;
    let bound = ROWS as f64 * per_row / LIMIT as f64 * LATENCY_MS as f64 / 1000.0;
    let ratio = wall.as_secs_f64() / bound;
    let share = if arrived == 0 {
        0.0
    } else {
        refused as f64 / arrived as f64
    };

    println!("workers' exit codes: {codes:?} (log: {})", log.display());
    println!(
        "rows: {} jobs, {} done, {} failed, {} queued, {} running, {} parked",
        as_u64(&report, "jobs"),
        as_u64(&report, "done"),
        as_u64(&report, "failed"),
        as_u64(&report, "queued"),
        as_u64(&report, "running"),
        as_u64(&report, "parked")
    );
    let expected_created = [
        ("customer_profiles", ROWS),
        ("end_users", 3 * ROWS),
        ("addresses", ROWS),
        ("supporting_documents", ROWS),
        ("entity_assignments", 5 * ROWS),
        ("channel_endpoint_assignments", ROWS),
    ];
    let mut duplicates = Vec::new();
    let mut line = Vec::new();
    for (name, want) in expected_created {
        let got = as_u64(&after, name);
        line.push(format!("{name} {got}/{want}"));
        if got != want {
            duplicates.push(format!("{name}: {got}, expected {want}"));
        }
    }
    println!(
        "duplicates check: {} (evaluations {}, bundle submissions {}): {}",
        line.join(", "),
        as_u64(&after, "evaluations"),
        as_u64(&after, "bundle_submissions"),
        if duplicates.is_empty() {
            "exactly one of each per row"
        } else {
            "MISMATCH"
        }
    );
    println!(
        "requests: {arrived} arrived during the run, {served} served ({per_row:.2} per row), \
         {refused} refused 429 by the account's limit ({:.3}%); max in flight {}",
        share * 100.0,
        as_u64(&after, "max_in_flight")
    );
    println!(
        "requests served in each second (at most {} with {LIMIT} in flight): {}",
        LIMIT * 1000 / LATENCY_MS,
        per_second
            .iter()
            .map(u64::to_string)
            .collect::<Vec<_>>()
            .join(" ")
    );
    println!(
        "wall {:.2} s; bound {ROWS} rows × {per_row:.2} requests / {LIMIT} in flight × \
         {LATENCY_MS} ms = {bound:.2} s; wall/bound {ratio:.2}x",
        wall.as_secs_f64()
    );
    println!(
        "targets: 429 share < 1%: {}; wall/bound <= 1.2x: {}",
        if share < 0.01 { "met" } else { "MISSED" },
        if ratio <= 1.2 { "met" } else { "MISSED" }
    );

    let done = as_u64(&report, "done");
    if done != ROWS || as_u64(&report, "jobs") != ROWS {
        return Err(fail!("{done} of {ROWS} rows done: {report}"));
    }
    if !duplicates.is_empty() {
        return Err(fail!(
            "resources created more than once: {}",
            duplicates.join("; ")
        ));
    }
    drop(workers);
    drop(emulator);
    drop(cluster);
    Ok(())
}

/// The throwaway PostgreSQL cluster of the store's and the command's tests (the same file:
/// `initdb` into a temporary directory, `postgres` on a free port of 127.0.0.1 as an
/// unprivileged user when this process is root, stopped by PID when dropped, killed by the
/// kernel should xtask die). It ends the command with a panic naming what is missing or broke.
#[path = "../../postgres/tests/support/cluster.rs"]
mod cluster;

/// Creates database `name` in `cluster` (`createdb` over TCP: xtask has no PostgreSQL client);
/// returns its URL.
fn create_database(cluster: &cluster::Cluster, name: &str) -> Result<String> {
    let createdb = cluster::bin_dir().join("createdb");
    let out = Command::new(&createdb)
        .args(["-h", "127.0.0.1", "-p", &cluster.port().to_string()])
        .args(["-U", cluster::USER, name])
        .env("PGPASSWORD", cluster.password())
        .output()
        .map_err(|e| fail!("cannot run {}: {e}", createdb.display()))?;
    if !out.status.success() {
        return Err(fail!(
            "createdb {name} failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(cluster.url(name))
}
