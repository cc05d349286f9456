//! `cargo xtask bench-size`: what the `trusthub` command costs with and without the embedded
//! emulator (the `trusthub-cli` crate's default `emulator` feature): the number of distinct
//! crates it links (normal dependencies, `cargo tree`) and the size of its release binary, built
//! both ways in the workspace's target directory (the binary of each build is measured before
//! the next build replaces it).

use std::collections::BTreeSet;

use crate::tasks::{cargo, run};
use crate::{fail, workspace_root, Result};

/// One way of building the command.
struct Build {
    name: &'static str,
    features: &'static [&'static str],
}

const BUILDS: [Build; 2] = [
    Build {
        name: "default features (the emulator embedded)",
        features: &[],
    },
    Build {
        name: "--no-default-features (no emulator)",
        features: &["--no-default-features"],
    },
];

/// The distinct packages (name and version) `trusthub-cli` links with `features`.
fn crates(features: &[&str]) -> Result<BTreeSet<String>> {
    let mut tree = cargo();
    tree.args([
        "tree",
        "-p",
        "trusthub-cli",
        "-e",
        "normal",
        "--prefix",
        "none",
    ])
    .args(["--format", "{p}"])
    .args(features);
    let out = tree
        .output()
        .map_err(|e| fail!("cannot run `cargo tree`: {e}"))?;
    if !out.status.success() {
        return Err(fail!(
            "`cargo tree` failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            // `name vX.Y.Z (path)` or with ` (*)` for a repeat: keep name and version.
            let mut words = l.split_whitespace();
            Some(format!("{} {}", words.next()?, words.next()?))
        })
        .collect())
}

pub fn bench_size() -> Result<()> {
    let binary = workspace_root().join("target/release/trusthub");
    let mut rows = Vec::new();
    let mut sets = Vec::new();
    for build in &BUILDS {
        let set = crates(build.features)?;
        let mut cmd = cargo();
        cmd.args(["build", "--quiet", "--release", "-p", "trusthub-cli"])
            .args(build.features);
        run(
            cmd,
            &format!(
                "cargo build --release -p trusthub-cli {}",
                build.features.join(" ")
            ),
        )?;
        let bytes = std::fs::metadata(&binary)
            .map_err(|e| fail!("{}: {e}", binary.display()))?
            .len();
        rows.push((build.name, set.len(), bytes));
        sets.push(set);
    }
    println!("trusthub (release, {}):", std::env::consts::ARCH);
    for (name, count, bytes) in &rows {
        println!(
            "  {name}: {count} crates, binary {:.1} MiB ({bytes} bytes)",
            *bytes as f64 / (1024.0 * 1024.0)
        );
    }
    let only: Vec<&String> = sets[0].difference(&sets[1]).collect();
    println!(
        "  crates only with the emulator ({}): {}",
        only.len(),
        only.iter()
            .map(|c| c.split(' ').next().unwrap_or_default())
            .collect::<Vec<_>>()
            .join(", ")
    );
    if rows[1].1 >= rows[0].1 {
        return Err(fail!(
            "the build without the emulator links as many crates as with it"
        ));
    }
    Ok(())
}
