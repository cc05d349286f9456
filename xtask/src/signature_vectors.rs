//! `cargo xtask signature-vectors`: our `X-Twilio-Signature` verdicts against twilio-node's, the
//! validator of Twilio's own Node library.
//!
//! 1. twilio-node is installed from `tools/twilio-node/` (`package.json` pins `twilio` to an exact
//!    version, `package-lock.json` pins the whole tree without any registry URL) with `npm ci`
//!    into `tools/twilio-node/node_modules` (git-ignored), unless the pinned version is there.
//! 2. `node tools/twilio-node/verdicts.js` gives twilio-node's verdict on every vector of
//!    `tests/fixtures/signature_vectors.json`, into `.cache/twilio-node/verdicts.json`;
//!    `node tools/twilio-node/random-vectors.js` writes seeded random requests (URL spellings,
//!    ports, query strings, repeated and non-ASCII keys, JSON bodies; some signed over another
//!    spelling, some altered) with twilio-node's verdicts into
//!    `.cache/twilio-node/random_vectors.json`.
//! 3. `cargo test -p trusthub --test integration signature_vectors_agree_with_twilio_node` runs
//!    with `TWILIO_NODE_VERDICTS` and `TWILIO_NODE_RANDOM_VECTORS` set: it fails on any
//!    disagreement (naming each) and prints the agreement count.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::{fail, tasks, workspace_root, Result};

/// Where twilio-node's npm project lives, relative to the workspace.
pub const TWILIO_NODE_DIR: &str = "tools/twilio-node";
/// The committed vectors, relative to the workspace.
pub const VECTORS: &str = "tests/fixtures/signature_vectors.json";
/// How many random requests the differential run makes.
const RANDOM_CASES: &str = "5000";

/// `cargo xtask signature-vectors`.
pub fn signature_vectors() -> Result<()> {
    let root = workspace_root();
    let version = install_twilio_node(&root)?;
    let cache = root.join(".cache/twilio-node");
    std::fs::create_dir_all(&cache).map_err(|e| fail!("{}: {e}", cache.display()))?;
    let verdicts = cache.join("verdicts.json");
    node_to_file(
        &root,
        &[&format!("{TWILIO_NODE_DIR}/verdicts.js"), VECTORS],
        &verdicts,
    )?;
    let random = cache.join("random_vectors.json");
    node_to_file(
        &root,
        &[
            &format!("{TWILIO_NODE_DIR}/random-vectors.js"),
            RANDOM_CASES,
        ],
        &random,
    )?;
    println!(
        "signature-vectors: twilio-node {version}; its verdicts in {}",
        cache.display()
    );
    let mut test = tasks::cargo();
    test.args([
        "test",
        "-p",
        "trusthub",
        "--test",
        "integration",
        "signature_vectors_agree_with_twilio_node",
        "--",
        "--nocapture",
    ])
    .env("TWILIO_NODE_VERDICTS", &verdicts)
    .env("TWILIO_NODE_RANDOM_VECTORS", &random);
    tasks::run(
        test,
        "cargo test -p trusthub --test integration signature_vectors_agree_with_twilio_node \
         (TWILIO_NODE_VERDICTS, TWILIO_NODE_RANDOM_VECTORS set)",
    )
}

/// Runs `node args...` in the workspace, its standard output into `out`.
fn node_to_file(root: &Path, args: &[&str], out: &Path) -> Result<()> {
    eprintln!("$ node {} > {}", args.join(" "), out.display());
    let output = Command::new("node")
        .current_dir(root)
        .args(args)
        .output()
        .map_err(|e| fail!("cannot run node ({e}): install Node.js and npm and run again"))?;
    if !output.status.success() {
        return Err(fail!(
            "`node {}` failed ({}): {}",
            args.join(" "),
            output.status,
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    std::fs::write(out, &output.stdout).map_err(|e| fail!("{}: {e}", out.display()))
}

/// The exact version `tools/twilio-node/package.json` pins, after checking that the lock names
/// no registry.
fn pinned_version(dir: &Path) -> Result<String> {
    let manifest = read_json(&dir.join("package.json"))?;
    let pinned = manifest["dependencies"]["twilio"]
        .as_str()
        .ok_or_else(|| fail!("{TWILIO_NODE_DIR}/package.json pins no twilio"))?
        .to_owned();
    if pinned.is_empty() || !pinned.chars().all(|c| c.is_ascii_digit() || c == '.') {
        return Err(fail!(
            "{TWILIO_NODE_DIR}/package.json must pin twilio to an exact version, not {pinned:?}"
        ));
    }
    let lock = std::fs::read_to_string(dir.join("package-lock.json"))
        .map_err(|e| fail!("{TWILIO_NODE_DIR}/package-lock.json: {e}"))?;
    if lock.contains("\"resolved\"") {
        return Err(fail!(
            "{TWILIO_NODE_DIR}/package-lock.json holds `resolved` URLs; remove them (the registry \
             is npm's configured one, integrity hashes pin the contents)"
        ));
    }
    Ok(pinned)
}

/// Installs twilio-node with `npm ci` unless the pinned version is installed; returns it.
fn install_twilio_node(root: &Path) -> Result<String> {
    let dir: PathBuf = root.join(TWILIO_NODE_DIR);
    let pinned = pinned_version(&dir)?;
    let installed = dir.join("node_modules/twilio/package.json");
    let up_to_date = read_json(&installed)
        .ok()
        .and_then(|v| v["version"].as_str().map(|v| v == pinned))
        .unwrap_or(false);
    if !up_to_date {
        let mut npm = Command::new("npm");
        npm.current_dir(&dir)
            .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"]);
        eprintln!("$ (cd {TWILIO_NODE_DIR} && npm ci)");
        let status = npm.status().map_err(|e| {
            fail!(
                "cannot run npm ({e}): the signature vectors need Node.js and npm to install \
                 twilio-node; install them (e.g. apt-get install nodejs npm) and run again"
            )
        })?;
        if !status.success() {
            return Err(fail!("`npm ci` in {TWILIO_NODE_DIR} failed ({status})"));
        }
    }
    Ok(pinned)
}

fn read_json(path: &Path) -> Result<Value> {
    let text = std::fs::read_to_string(path).map_err(|e| fail!("{}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| fail!("{} is not JSON: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_twilio_node_pin_is_exact_and_the_lock_has_no_registry_urls() {
        let dir = workspace_root().join(TWILIO_NODE_DIR);
        let version = pinned_version(&dir).unwrap();
        let lock = std::fs::read_to_string(dir.join("package-lock.json")).unwrap();
        assert!(!lock.contains("\"tarball\""));
        // The only addresses left are the packages' own (funding pages), never a download URL.
        for (at, _) in lock.match_indices("://") {
            let key_start = lock[..at].rfind('\n').unwrap_or(0);
            assert!(
                lock[key_start..at].trim_start().starts_with("\"url\""),
                "an address outside a funding entry: {}",
                &lock[key_start..at + 20]
            );
        }
        let lock: Value = serde_json::from_str(&lock).unwrap();
        assert_eq!(lock["packages"]["node_modules/twilio"]["version"], version);
        let npmrc = std::fs::read_to_string(dir.join(".npmrc")).unwrap();
        assert!(npmrc.contains("omit-lockfile-registry-resolved=true"));
    }

    #[test]
    fn the_vectors_are_many_distinct_and_verdicted() {
        let file = read_json(&workspace_root().join(VECTORS)).unwrap();
        let vectors = file["vectors"].as_array().unwrap();
        assert!(vectors.len() >= 40, "{}", vectors.len());
        let mut ids: Vec<&str> = vectors.iter().map(|v| v["id"].as_str().unwrap()).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), vectors.len(), "vector ids must be unique");
        for v in vectors {
            let expected = v["expected"].as_str().unwrap();
            let category = v["category"].as_str().unwrap();
            assert_eq!(
                expected,
                if category == "genuine" {
                    "accept"
                } else {
                    "reject"
                },
                "{}",
                v["id"]
            );
            assert!(
                v["form"].is_string() != v["json"].is_string(),
                "{}",
                v["id"]
            );
        }
        for category in ["genuine", "forgery"] {
            assert!(vectors.iter().filter(|v| v["category"] == category).count() >= 15);
        }
        assert_eq!(
            file["twilio_node"],
            pinned_version(&workspace_root().join(TWILIO_NODE_DIR)).unwrap()
        );
    }
}
