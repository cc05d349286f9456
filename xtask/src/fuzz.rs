//! `cargo xtask fuzz [RUNS]`: the coverage-guided fuzz targets of `fuzz/`, on the stable
//! toolchain.
//!
//! cargo-fuzz needs nightly (for `-Zsanitizer`), which these machines do not have. libFuzzer
//! itself does not: `libfuzzer-sys` builds it from source (a C++ compiler is needed), and rustc's
//! stable `-Cpasses=sancov-module` with `-Cllvm-args=-sanitizer-coverage-*` adds the coverage
//! instrumentation (8-bit counters, PC table, comparison tracing) that guides it. What is left
//! out is AddressSanitizer (nightly only); see TESTING.md.
//!
//! Each target replays its committed corpus `fuzz/corpus/<target>` (every input must pass), then
//! runs RUNS new inputs (bounded also in time), keeping what it finds under
//! `target/fuzz/corpus/<target>` and crashing inputs under `target/fuzz/artifacts/<target>/`.

use std::path::Path;
use std::process::Command;

use crate::{fail, workspace_root, Result};

/// Fuzz targets, as named in `fuzz/Cargo.toml`.
pub const TARGETS: [&str; 4] = ["sid", "attributes", "form", "decode"];
/// Inputs per target in `cargo xtask test` (and `cargo xtask fuzz` without RUNS).
pub const DEFAULT_RUNS: u64 = 20_000;
/// Upper bound of one target's run, in seconds, whatever RUNS says.
const MAX_SECONDS: u32 = 120;

const SANCOV_FLAGS: &str = "-Cpasses=sancov-module \
    -Cllvm-args=-sanitizer-coverage-level=4 \
    -Cllvm-args=-sanitizer-coverage-inline-8bit-counters \
    -Cllvm-args=-sanitizer-coverage-pc-table \
    -Cllvm-args=-sanitizer-coverage-trace-compares \
    --cfg fuzzing";

fn host_triple() -> Result<String> {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".to_owned());
    let output = Command::new(rustc)
        .arg("-vV")
        .output()
        .map_err(|e| fail!("cannot run rustc -vV: {e}"))?;
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("host: ").map(str::to_owned))
        .ok_or_else(|| fail!("rustc -vV names no host triple"))
}

/// `cargo xtask fuzz [RUNS]`.
pub fn fuzz(runs: u64) -> Result<()> {
    let root = workspace_root();
    let cxx = std::env::var("CXX").unwrap_or_else(|_| "c++".to_owned());
    if Command::new(&cxx).arg("--version").output().is_err() {
        return Err(fail!(
            "no C++ compiler ({cxx}): libfuzzer-sys builds libFuzzer from source; install one \
             (e.g. apt-get install g++) and run again"
        ));
    }
    let triple = host_triple()?;
    let target_dir = root.join("target/fuzz");
    // The flags go to the fuzz targets only: with an explicit --target, build scripts and proc
    // macros are built without them.
    let mut build = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned()));
    build
        .current_dir(&root)
        .args([
            "build",
            "--release",
            "--bins",
            "--manifest-path",
            "fuzz/Cargo.toml",
        ])
        .args(["--target", &triple])
        .arg("--target-dir")
        .arg(&target_dir)
        .env("RUSTFLAGS", SANCOV_FLAGS)
        .env_remove("CARGO_ENCODED_RUSTFLAGS");
    eprintln!(
        "$ RUSTFLAGS='-Cpasses=sancov-module ...' cargo build --release --manifest-path fuzz/Cargo.toml --target {triple}"
    );
    let status = build
        .status()
        .map_err(|e| fail!("cannot start cargo build: {e}"))?;
    if !status.success() {
        return Err(fail!("building the fuzz targets failed ({status})"));
    }
    let bin_dir = target_dir.join(&triple).join("release");
    let mut total = 0u64;
    for target in TARGETS {
        let report = run_target(&root, &bin_dir.join(target), target, runs)?;
        println!(
            "fuzz {target}: {} corpus inputs replayed ({} committed), {} runs in {} s, coverage {} \
             edges, 0 crashes",
            report.corpus, report.committed, report.runs, report.seconds, report.coverage
        );
        total += report.runs;
    }
    println!(
        "fuzz: {} targets, {total} runs, 0 crashes (coverage-guided libFuzzer, no sanitizer)",
        TARGETS.len()
    );
    Ok(())
}

/// What one target's run printed.
#[derive(Debug, Default, PartialEq, Eq)]
struct Report {
    /// Inputs of the committed corpus (`fuzz/corpus/<target>`).
    committed: u64,
    /// Inputs replayed: the committed ones and those kept from earlier runs.
    corpus: u64,
    runs: u64,
    seconds: u64,
    coverage: u64,
}

fn run_target(root: &Path, binary: &Path, target: &str, runs: u64) -> Result<Report> {
    let seeds = root.join("fuzz/corpus").join(target);
    let work = root.join("target/fuzz/corpus").join(target);
    let artifacts = root.join("target/fuzz/artifacts").join(target);
    for dir in [&work, &artifacts] {
        std::fs::create_dir_all(dir).map_err(|e| fail!("{}: {e}", dir.display()))?;
    }
    let seed_count = std::fs::read_dir(&seeds)
        .map_err(|e| {
            fail!(
                "{}: {e}; every target keeps a corpus in the repo",
                seeds.display()
            )
        })?
        .count();
    if seed_count == 0 {
        return Err(fail!(
            "{} is empty; keep at least one input",
            seeds.display()
        ));
    }
    let output = Command::new(binary)
        .arg(format!("-runs={runs}"))
        .arg(format!("-max_total_time={MAX_SECONDS}"))
        .args([
            "-max_len=8192",
            "-rss_limit_mb=2048",
            "-timeout=10",
            "-print_final_stats=1",
        ])
        .arg(format!("-artifact_prefix={}/", artifacts.display()))
        .arg(&work)
        .arg(&seeds)
        .current_dir(root)
        .output()
        .map_err(|e| fail!("cannot run {}: {e}", binary.display()))?;
    let log = String::from_utf8_lossy(&output.stderr);
    if !output.status.success() {
        let tail: Vec<&str> = log.lines().rev().take(40).collect();
        return Err(fail!(
            "fuzz target {target} failed ({}); the crashing input is under {}; the end of its \
             output:\n{}",
            output.status,
            artifacts.display(),
            tail.into_iter().rev().collect::<Vec<_>>().join("\n")
        ));
    }
    let mut report = parse_report(&log);
    report.committed = seed_count as u64;
    if report.runs == 0 && runs > 0 {
        return Err(fail!(
            "fuzz target {target} ran no input; its output:\n{log}"
        ));
    }
    Ok(report)
}

/// Reads libFuzzer's `INFO: seed corpus: files: N`, `Done N runs in S second(s)` and
/// `stat::... cov`/`cov: N` lines.
fn parse_report(log: &str) -> Report {
    let number_after = |line: &str, key: &str| -> Option<u64> {
        let rest = &line[line.find(key)? + key.len()..];
        rest.split_whitespace().next()?.parse().ok()
    };
    let mut report = Report::default();
    for line in log.lines() {
        if line.contains("INFO: seed corpus: files:") {
            report.corpus = number_after(line, "files:").unwrap_or(0);
        } else if let Some(rest) = line.strip_prefix("Done ") {
            let mut words = rest.split_whitespace();
            report.runs = words.next().and_then(|n| n.parse().ok()).unwrap_or(0);
            report.seconds = number_after(line, "runs in").unwrap_or(0);
        }
        if let Some(cov) = number_after(line, "cov: ") {
            report.coverage = report.coverage.max(cov);
        }
    }
    report
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn libfuzzer_output_is_read() {
        let log =
            "INFO: Seed: 1\nINFO: seed corpus: files: 5 min: 2b max: 40b total: 90b rss: 30Mb\n\
                   #6\tINITED cov: 312 ft: 400 corp: 5/90b exec/s: 0 rss: 31Mb\n\
                   #4096\tpulse  cov: 350 ft: 520 corp: 40/1Kb lim: 43 exec/s: 2048 rss: 40Mb\n\
                   Done 20000 runs in 3 second(s)\nstat::number_of_executed_units: 20000\n";
        assert_eq!(
            parse_report(log),
            Report {
                committed: 0,
                corpus: 5,
                runs: 20000,
                seconds: 3,
                coverage: 350
            }
        );
    }

    #[test]
    fn every_target_has_a_committed_corpus_and_a_source() {
        let root = workspace_root();
        let manifest = std::fs::read_to_string(root.join("fuzz/Cargo.toml")).unwrap();
        for target in TARGETS {
            assert!(
                manifest.contains(&format!("name = \"{target}\"")),
                "{target}"
            );
            assert!(root.join(format!("fuzz/fuzz_targets/{target}.rs")).exists());
            let seeds = std::fs::read_dir(root.join("fuzz/corpus").join(target)).unwrap();
            assert!(seeds.count() > 0, "fuzz/corpus/{target} is empty");
        }
    }
}
