//! Snapshot tests of the generator: each `xtask/snapshots/<case>.json` holds a small spec (with
//! its pin and why it exists); lowering and emitting it must give exactly `<case>.rs`, or, for a
//! spec the generator refuses, exactly the error in `<case>.err`. The project's own overlay
//! (`spec/overlay.json`) applies: its SID kinds and redactions, none of its module patches.
//!
//! After a deliberate change of the output: `UPDATE_SNAPSHOTS=1 cargo test -p xtask snapshots`,
//! then review the diff of `xtask/snapshots/`.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::emit::{self, Provenance};
use crate::pin::SpecPin;
use crate::{ir, overlay, workspace_root, Result};

/// One case file.
#[derive(Deserialize)]
struct Case {
    /// What the case covers.
    why: String,
    pin: SpecPin,
    spec: serde_json::Value,
}

/// The generator's output for one case: the module's source, or the error text.
fn run(case: &Case) -> Result<String> {
    let overlay = overlay::load()?;
    let mut doc = case.spec.clone();
    overlay.apply(&case.pin.module, &mut doc)?;
    let openapi: openapiv3::OpenAPI = serde_json::from_value(doc)
        .map_err(|e| crate::fail!("not an OpenAPI 3.0 document: {e}"))?;
    let api = ir::lower(&case.pin, &openapi, &overlay)?;
    let provenance = Provenance {
        package: "snapshot".to_owned(),
        version: "0".to_owned(),
    };
    emit::emit_module(&api, &provenance)
}

fn cases() -> Vec<PathBuf> {
    let dir = workspace_root().join("xtask/snapshots");
    let mut cases: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.expect("a directory entry").path())
        .filter(|path| path.extension().is_some_and(|e| e == "json"))
        .collect();
    cases.sort();
    cases
}

/// Compares `actual` with the file at `path` (or writes it when updating); returns a failure.
fn compare(path: &Path, actual: &str, update: bool) -> Option<String> {
    if update {
        std::fs::write(path, actual).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        return None;
    }
    match std::fs::read_to_string(path) {
        Ok(expected) if expected == actual => None,
        Ok(expected) => {
            let diff = similar::TextDiff::from_lines(expected.as_str(), actual)
                .unified_diff()
                .header("expected", "generated")
                .to_string();
            Some(format!("{} differs:\n{diff}", path.display()))
        }
        Err(e) => Some(format!(
            "{}: {e}; run UPDATE_SNAPSHOTS=1 cargo test -p xtask snapshots",
            path.display()
        )),
    }
}

#[test]
fn every_snapshot_case_generates_exactly_its_snapshot() {
    let update = std::env::var_os("UPDATE_SNAPSHOTS").is_some();
    let mut failures = Vec::new();
    let (mut generated, mut refused) = (0, 0);
    for path in cases() {
        let text = std::fs::read_to_string(&path).expect("a case file");
        let case: Case = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{}: not a case: {e}", path.display()));
        assert!(!case.why.trim().is_empty(), "{}: no why", path.display());
        let name = path.file_stem().and_then(|s| s.to_str()).expect("a name");
        let expects_error = name.starts_with("error_");
        let (snapshot, actual) = match run(&case) {
            Ok(source) => (path.with_extension("rs"), source),
            Err(error) => (path.with_extension("err"), format!("{error}\n")),
        };
        match (expects_error, snapshot.extension().and_then(|e| e.to_str())) {
            (true, Some("rs")) => failures.push(format!("{name}: generated, expected an error")),
            (false, Some("err")) => failures.push(format!("{name}: refused: {actual}")),
            _ => {
                if expects_error {
                    refused += 1;
                } else {
                    generated += 1;
                }
                failures.extend(compare(&snapshot, &actual, update));
            }
        }
    }
    println!("generator snapshots: {generated} generated, {refused} refused, as recorded");
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    assert!(generated >= 4 && refused >= 10, "cases are missing");
}
