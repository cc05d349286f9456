//! Maintainer commands for the workspace.
//!
//! ```text
//! cargo xtask spec               fetch and verify the pinned Twilio specs into .cache/spec
//! cargo xtask codegen [--check]  generate the `generated` crate (or fail if it is stale)
//! cargo xtask test               every test suite (the README's test command): the workspace's
//!                                tests, the TESTING.md check, the contract tests, the signature
//!                                vectors against twilio-node, the fuzzers
//! cargo xtask contract           the generated client and the flow against Prism (the official specs)
//! cargo xtask signature-vectors  our X-Twilio-Signature verdicts against twilio-node's (Twilio's validator)
//! cargo xtask fuzz [RUNS]        every fuzz target: corpus replay, then RUNS inputs each
//! cargo xtask bench-codegen      codegen wall time and the clean build time of the generated crate
//! cargo xtask bench-emulator     requests/s of the emulator under concurrent keep-alive clients
//! cargo xtask bench-cli          `trusthub onboard` of 1000 rows against the emulator: wall time, peak RSS
//! cargo xtask bench-workers      500 rows, 3 `trusthub worker`s (one SIGKILLed twice, or --kills N) on PostgreSQL, account limit 20
//! cargo xtask bench-journal      the batch journal after a large batch: size, resume time and peak RSS
//! cargo xtask bench-size         the `trusthub` binary's size and crate count with and without the emulator
//! ```

mod bench_cli;
mod bench_size;
mod bench_workers;
mod contract;
mod emit;
mod ensure;
mod fuzz;
mod ir;
mod overlay;
mod pin;
#[cfg(test)]
mod public_api;
mod signature_vectors;
#[cfg(test)]
mod snapshots;
mod tasks;
mod testing_md;

use std::path::PathBuf;
use std::process::ExitCode;

/// An error of a maintainer command: a message for a human, already saying what to do.
#[derive(Debug)]
pub struct Failure(pub String);

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl<E: std::error::Error> From<E> for Failure {
    fn from(e: E) -> Self {
        Failure(e.to_string())
    }
}

/// Shorthand for fallible maintainer steps.
pub type Result<T, E = Failure> = std::result::Result<T, E>;

/// Builds a [`Failure`] from a format string.
#[macro_export]
macro_rules! fail {
    ($($arg:tt)*) => { $crate::Failure(format!($($arg)*)) };
}

/// The workspace root (the parent of this crate's directory).
pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the workspace root")
        .to_path_buf()
}

const USAGE: &str = "usage: cargo xtask <command>

commands:
  spec                 fetch the pinned Twilio OpenAPI specs with npm and verify them
  codegen [--check]    regenerate generated/ (with --check: fail if it differs)
  test                 run every test suite (what CI runs)
  contract             run the contract tests against Prism (installs it with npm)
  signature-vectors    compare our X-Twilio-Signature verdicts with twilio-node's (installs it with npm)
  fuzz [RUNS]          build the fuzz targets (libFuzzer) and run each for RUNS inputs
  bench-codegen        measure codegen wall time and the generated crate's clean debug build
  bench-emulator [-- --clients N --requests N --seconds S]
                       measure the emulator's requests/s (release build, loopback, keep-alive clients)
  bench-cli            `trusthub onboard` of 1000 rows, emulator latency 50 ms, concurrency 32: wall time, peak RSS
  bench-workers [--kills N]
                       500 rows through 3 `trusthub worker`s on a throwaway PostgreSQL, one SIGKILLed
                       N times (default 2, at most 3); emulator latency 50 ms, account limit 20:
                       duplicates, 429s, wall/bound
  bench-journal [ROWS] the batch journal after ROWS rows (default 15500): size, resume time and peak RSS
                       before and after compaction
  bench-size           the `trusthub` release binary's size and crate count with and without the
                       embedded emulator (the CLI's `emulator` feature)";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("spec") if args.len() == 1 => pin::ensure_specs().map(|files| {
            for f in files {
                println!("verified {}", f.display());
            }
        }),
        Some("codegen") => match &args[1..] {
            [] => tasks::codegen(false),
            [flag] if flag == "--check" => tasks::codegen(true),
            _ => Err(fail!("{USAGE}")),
        },
        Some("test") if args.len() == 1 => tasks::test_all(),
        Some("contract") if args.len() == 1 => contract::contract(),
        Some("signature-vectors") if args.len() == 1 => signature_vectors::signature_vectors(),
        Some("fuzz") => match &args[1..] {
            [] => fuzz::fuzz(fuzz::DEFAULT_RUNS),
            [runs] => match runs.parse() {
                Ok(runs) => fuzz::fuzz(runs),
                Err(_) => Err(fail!("{USAGE}")),
            },
            _ => Err(fail!("{USAGE}")),
        },
        Some("bench-codegen") if args.len() == 1 => tasks::bench_codegen(),
        Some("bench-emulator") => tasks::bench_emulator(&args[1..]),
        Some("bench-cli") if args.len() == 1 => bench_cli::bench_cli(),
        Some("bench-size") if args.len() == 1 => bench_size::bench_size(),
        Some("bench-workers") => match &args[1..] {
            [] => bench_workers::bench_workers(2),
            [flag, n] if flag == "--kills" => match n.parse() {
                Ok(kills) => bench_workers::bench_workers(kills),
                Err(_) => Err(fail!("{USAGE}")),
            },
            _ => Err(fail!("{USAGE}")),
        },
        Some("bench-journal") => match &args[1..] {
            [] => bench_cli::bench_journal(15_500),
            [rows] => match rows.parse() {
                Ok(rows) => bench_cli::bench_journal(rows),
                Err(_) => Err(fail!("{USAGE}")),
            },
            _ => Err(fail!("{USAGE}")),
        },
        _ => Err(fail!("{USAGE}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
