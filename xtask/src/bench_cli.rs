//! The `trusthub` command's benchmarks: `cargo xtask bench-cli` (a 1000-row batch under 50 ms of
//! latency: wall time and peak RSS) and `cargo xtask bench-journal` (what resuming costs after a
//! large batch: the journal's size, and the time and peak RSS of opening it before and after its
//! history is compacted). Both build the command in release, run the emulator as its own process
//! (`trusthub --json emulator`), generate distinct valid customers, and read each measured
//! process's peak RSS (`VmHWM` of `/proc/<pid>/status`, sampled every 10 ms).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use crate::tasks::{cargo, median, run};
use crate::{fail, workspace_root, Result};

/// A `trusthub emulator` process and the credentials it printed.
struct EmulatorProcess {
    child: Child,
    info: serde_json::Value,
}

impl EmulatorProcess {
    fn start(binary: &Path, latency_ms: u64) -> Result<EmulatorProcess> {
        let mut child = Command::new(binary)
            .args(["--json", "emulator", "--port", "0", "--latency-ms"])
            .arg(latency_ms.to_string())
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|e| fail!("cannot start `{} emulator`: {e}", binary.display()))?;
        let mut first_line = String::new();
        BufReader::new(child.stdout.take().expect("piped"))
            .read_line(&mut first_line)
            .map_err(|e| fail!("reading the emulator's credentials: {e}"))?;
        let info = serde_json::from_str(&first_line)
            .map_err(|e| fail!("the emulator printed no credentials ({e}): {first_line}"))?;
        Ok(EmulatorProcess { child, info })
    }

    fn field(&self, key: &str) -> String {
        self.info[key].as_str().unwrap_or_default().to_owned()
    }

    /// `trusthub ARGS` with the emulator's credentials.
    fn command(&self, binary: &Path) -> Command {
        let mut cmd = Command::new(binary);
        cmd.env("TWILIO_ACCOUNT_SID", self.field("account_sid"))
            .env("TWILIO_AUTH_TOKEN", self.field("auth_token"))
            .env("TWILIO_BASE_URL", self.field("base_url"))
            .env_remove("TWILIO_API_KEY")
            .env_remove("TWILIO_API_SECRET");
        cmd
    }

    /// Stops it as Ctrl-C would, then for good.
    fn stop(mut self) {
        let _ = Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while matches!(self.child.try_wait(), Ok(None)) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Builds the command in release; returns its path and a scratch directory named `scratch`.
pub(crate) fn build(scratch: &str) -> Result<(PathBuf, PathBuf)> {
    let mut build = cargo();
    build.args(["build", "--quiet", "--release", "-p", "trusthub-cli"]);
    run(build, "cargo build --release -p trusthub-cli")?;
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target"));
    let dir = target.join(scratch);
    std::fs::create_dir_all(&dir)?;
    Ok((target.join("release/trusthub"), dir))
}

/// A CSV of `rows` distinct valid customers (every value free of ',' and '"').
pub(crate) fn customers_csv(rows: u64, primary: &str, phone: &str) -> String {
    let mut csv = String::from(
        "friendly_name,email,primary_profile_sid,phone_number_sids,\
         business_information.business_name,business_information.business_identity,\
         business_information.business_type,business_information.business_industry,\
         business_information.business_registration_identifier,\
         business_information.business_registration_number,\
         business_information.business_regions_of_operation,business_information.website_url,\
         representative_1.first_name,representative_1.last_name,representative_1.email,\
         representative_1.phone_number,representative_1.business_title,representative_1.job_position,\
         representative_2.first_name,representative_2.last_name,representative_2.email,\
         representative_2.phone_number,representative_2.business_title,representative_2.job_position,\
         address.customer_name,address.street,address.city,address.region,address.postal_code,\
         address.iso_country\n",
    );
    for i in 1..=rows {
        csv.push_str(&format!(
            "Bench Business {i},ops{i}@bench{i}.example.com,{primary},{phone},Bench Business {i},\
             direct_customer,Limited Liability Corporation,TECHNOLOGY,EIN,{:02}-{:07},USA_AND_CANADA,\
             https://bench{i}.example.com,Ann{i},Example,ann{i}@bench{i}.example.com,+1415555{:04},CEO,CEO,\
             Bo{i},Example,bo{i}@bench{i}.example.com,+1415666{:04},CFO,CFO,Bench Business {i},\
             {} Main Street,San Francisco,CA,94105,US\n",
            10 + i % 80,
            1_000_000 + i,
            i % 10_000,
            i % 10_000,
            100 + i
        ));
    }
    csv
}

/// Runs `cmd` to its end, with stdout to `stdout`; returns its exit status, wall time and peak
/// RSS in KiB.
fn measure(mut cmd: Command, stdout: &Path) -> Result<(ExitStatus, Duration, u64)> {
    let started = Instant::now();
    let mut child = cmd
        .stdout(std::fs::File::create(stdout)?)
        .spawn()
        .map_err(|e| fail!("cannot start `trusthub`: {e}"))?;
    let status_file = format!("/proc/{}/status", child.id());
    let mut peak_kib = 0u64;
    let status = loop {
        // VmHWM is the high-water mark of the resident set: the last reading is the peak up to
        // about 10 ms before the exit.
        if let Ok(text) = std::fs::read_to_string(&status_file)
            && let Some(kib) = text
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        {
            peak_kib = peak_kib.max(kib);
        }
        if let Some(status) = child.try_wait()? {
            break status;
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    Ok((status, started.elapsed(), peak_kib))
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

/// Runs `trusthub --json onboard CSV --journal JOURNAL ARGS` and checks that every row ends
/// `expected` (`compliant`, or finished earlier for a dry run).
fn onboard(
    emulator: &EmulatorProcess,
    binary: &Path,
    dir: &Path,
    csv: &Path,
    journal: &Path,
    args: &[&str],
    rows: u64,
) -> Result<(Duration, u64)> {
    let mut cmd = emulator.command(binary);
    cmd.args(["--json", "onboard"])
        .arg(csv)
        .arg("--journal")
        .arg(journal)
        .args(args);
    let out = dir.join("stdout.json");
    let (status, wall, peak) = measure(cmd, &out)?;
    let answer: serde_json::Value = serde_json::from_slice(&std::fs::read(&out)?)
        .map_err(|e| fail!("`trusthub onboard --json` printed no JSON: {e}"))?;
    let done = answer["summary"]["compliant"]
        .as_u64()
        .or_else(|| answer["rows_finished_earlier"].as_u64())
        .unwrap_or(0);
    if !status.success() || done != rows {
        return Err(fail!(
            "`trusthub onboard {}` exited with {status}: {done} of {rows} rows done (output in {})",
            args.join(" "),
            out.display()
        ));
    }
    Ok((wall, peak))
}

/// `cargo xtask bench-cli`: `trusthub onboard` of a generated 1000-row CSV against the emulator
/// with 50 ms of latency per request, at concurrency 32; wall time and peak RSS of the onboard
/// process, 3 runs, each from an empty journal.
pub fn bench_cli() -> Result<()> {
    const ROWS: u64 = 1000;
    const LATENCY_MS: u64 = 50;
    const CONCURRENCY: &str = "32";
    const RUNS: usize = 3;
    let (binary, dir) = build("bench-cli")?;
    let emulator = EmulatorProcess::start(&binary, LATENCY_MS)?;
    let (csv, journal) = fresh_batch(&emulator, &dir, ROWS)?;
    let mut walls = Vec::new();
    let mut peak_kib = 0;
    let mut outcome = Ok(());
    for _ in 0..RUNS {
        remove_journal(&journal);
        match onboard(
            &emulator,
            &binary,
            &dir,
            &csv,
            &journal,
            &["--concurrency", CONCURRENCY],
            ROWS,
        ) {
            Ok((wall, peak)) => {
                println!(
                    "run: {ROWS} rows compliant in {:.2} s ({:.0} rows/s)",
                    wall.as_secs_f64(),
                    ROWS as f64 / wall.as_secs_f64()
                );
                walls.push(wall);
                peak_kib = peak_kib.max(peak);
            }
            Err(e) => {
                outcome = Err(e);
                break;
            }
        }
    }
    emulator.stop();
    outcome?;
    let median_wall = median(walls.clone());
    println!(
        "trusthub onboard, {ROWS} rows, emulator latency {LATENCY_MS} ms, concurrency {CONCURRENCY} \
         ({RUNS} runs): wall median {:.2} s ({:.1} rows/s), min {:.2} s; peak RSS {:.1} MiB",
        median_wall.as_secs_f64(),
        ROWS as f64 / median_wall.as_secs_f64(),
        walls
            .iter()
            .min()
            .copied()
            .unwrap_or_default()
            .as_secs_f64(),
        mib(peak_kib)
    );
    Ok(())
}

/// Writes a CSV of `rows` customers of the emulator's account into `dir`; returns its path and
/// the journal's.
fn fresh_batch(emulator: &EmulatorProcess, dir: &Path, rows: u64) -> Result<(PathBuf, PathBuf)> {
    let csv = dir.join("customers.csv");
    let phone = emulator.info["phone_number_sids"][0]
        .as_str()
        .unwrap_or_default();
    std::fs::write(
        &csv,
        customers_csv(rows, &emulator.field("primary_profile_sid"), phone),
    )?;
    Ok((csv, dir.join("bench.journal")))
}

/// Deletes a journal with its key and lock files: the next run starts from nothing.
fn remove_journal(journal: &Path) {
    for suffix in ["", ".key", ".lock"] {
        let mut name = journal.as_os_str().to_owned();
        name.push(suffix);
        let _ = std::fs::remove_file(PathBuf::from(name));
    }
}

/// `cargo xtask bench-journal [ROWS]`: one batch of ROWS customers (default 15,500) against the
/// emulator without latency, then `onboard --dry-run` twice on the same journal: the first opens
/// the journal with the whole run's history and compacts it, the second opens the compacted
/// journal. Prints the journal's size at each stage and each run's wall time and peak RSS.
pub fn bench_journal(rows: u64) -> Result<()> {
    let (binary, dir) = build("bench-journal")?;
    let emulator = EmulatorProcess::start(&binary, 0)?;
    let (csv, journal) = fresh_batch(&emulator, &dir, rows)?;
    remove_journal(&journal);
    let size = |path: &Path| -> Result<(u64, usize)> {
        let text = std::fs::read(path)?;
        Ok((
            text.len() as u64,
            text.iter().filter(|b| **b == b'\n').count(),
        ))
    };
    let outcome = (|| -> Result<()> {
        let (wall, peak) = onboard(
            &emulator,
            &binary,
            &dir,
            &csv,
            &journal,
            &["--concurrency", "64"],
            rows,
        )?;
        let (bytes, lines) = size(&journal)?;
        println!(
            "batch of {rows} rows (concurrency 64, no latency): {:.1} s, peak RSS {:.1} MiB; \
             journal {:.1} MB, {lines} lines ({} bytes per customer)",
            wall.as_secs_f64(),
            mib(peak),
            bytes as f64 / 1e6,
            bytes / rows
        );
        for stage in [
            "first resume (reads the run's history, compacts it)",
            "resume of the compacted journal",
        ] {
            let (wall, peak) = onboard(
                &emulator,
                &binary,
                &dir,
                &csv,
                &journal,
                &["--dry-run"],
                rows,
            )?;
            let (bytes, lines) = size(&journal)?;
            println!(
                "{stage}: `onboard --dry-run` {:.2} s, peak RSS {:.1} MiB; journal then {:.1} MB, \
                 {lines} lines",
                wall.as_secs_f64(),
                mib(peak),
                bytes as f64 / 1e6
            );
        }
        Ok(())
    })();
    emulator.stop();
    outcome
}
