//! Maintainer commands for the workspace.
//!
//! ```text
//! cargo xtask spec               fetch and verify the pinned Twilio specs into .cache/spec
//! cargo xtask codegen [--check]  generate the `generated` crate (or fail if it is stale)
//! cargo xtask test               every test suite of the workspace (the README's test command)
//! cargo xtask bench-codegen      codegen wall time and the clean build time of the generated crate
//! ```

mod emit;
mod ensure;
mod ir;
mod overlay;
mod pin;
mod tasks;

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
  bench-codegen        measure codegen wall time and the generated crate's clean debug build";

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
        Some("bench-codegen") if args.len() == 1 => tasks::bench_codegen(),
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
