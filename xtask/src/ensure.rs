//! Writing generated files, or checking that they are up to date.

use std::path::Path;

use crate::{fail, Result};

/// Writes `contents` to `path` when it differs; under `check`, fails instead, naming the file,
/// showing a diff and the command to run.
pub fn ensure_file_contents(path: &Path, contents: &str, check: bool) -> Result<bool> {
    let current = std::fs::read_to_string(path).ok();
    if current.as_deref() == Some(contents) {
        return Ok(false);
    }
    if check {
        let old = current.unwrap_or_default();
        let diff = similar::TextDiff::from_lines(old.as_str(), contents)
            .unified_diff()
            .context_radius(2)
            .header(
                &format!("{} (checked in)", path.display()),
                &format!("{} (generated)", path.display()),
            )
            .to_string();
        let shown: String = diff.lines().take(60).collect::<Vec<_>>().join("\n");
        let more = diff.lines().count().saturating_sub(60);
        return Err(fail!(
            "generated code is out of date: {} differs from what the generator writes \
             (was it edited by hand, or did spec/, xtask/ or the pin change?).\n{shown}{}\n\
             Run `cargo xtask codegen` and commit the result.",
            path.display(),
            if more > 0 {
                format!("\n... {more} more diff lines")
            } else {
                String::new()
            }
        ));
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(path, contents)?;
    Ok(true)
}
