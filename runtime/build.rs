//! Captures the version of the compiler building this crate, for the User-Agent header
//! (`rust/<version>`). Falls back to `unknown` when `rustc --version` cannot be run.

use std::process::Command;

fn main() {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".to_owned());
    let version = Command::new(rustc)
        .arg("--version")
        .output()
        .ok()
        .filter(|output| output.status.success())
        .and_then(|output| String::from_utf8(output.stdout).ok())
        .and_then(|text| parse_version(&text))
        .unwrap_or_else(|| "unknown".to_owned());
    println!("cargo:rustc-env=TRUSTHUB_RUSTC_VERSION={version}");
    println!("cargo:rerun-if-env-changed=RUSTC");
    println!("cargo:rerun-if-changed=build.rs");
}

/// `rustc 1.95.0 (59807616e 2026-04-14)` -> `1.95.0`; only characters that are safe in a
/// User-Agent product version are kept.
fn parse_version(text: &str) -> Option<String> {
    let version = text.split_whitespace().nth(1)?;
    let safe = version
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '+'));
    (safe && !version.is_empty()).then(|| version.to_owned())
}
