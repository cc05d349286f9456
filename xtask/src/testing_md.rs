//! TESTING.md names the test behind each row of its bad-input table as `` `file::test_name` ``,
//! and SECURITY.md the test behind each claim; this checks that every test so named exists (the
//! file is there and defines `fn test_name`), so that neither can point at a test that was
//! renamed or deleted.

use std::path::Path;

use crate::{fail, Result};

/// The `(file, test)` pairs named in `text`: every backticked span of the form
/// `path/to/file.rs::test_name`, in order, duplicates kept.
pub fn named_tests(text: &str) -> Vec<(String, String)> {
    let mut found = Vec::new();
    for (i, span) in text.split('`').enumerate() {
        // Odd pieces are inside backticks.
        if i % 2 == 0 {
            continue;
        }
        let Some((file, name)) = span.split_once("::") else {
            continue;
        };
        let file_ok = file.ends_with(".rs")
            && file
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '/'));
        let name_ok = name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if file_ok && name_ok {
            found.push((file.to_owned(), name.to_owned()));
        }
    }
    found
}

/// Whether `source` defines a function `name` (`fn name(`, `fn name<`, also inside `proptest!`).
fn defines(source: &str, name: &str) -> bool {
    let needle = format!("fn {name}");
    source.match_indices(&needle).any(|(at, _)| {
        let before_ok = at == 0 || !source.as_bytes()[at - 1].is_ascii_alphanumeric();
        let after = source[at + needle.len()..].chars().next();
        before_ok && matches!(after, Some('(' | '<' | ' '))
    })
}

/// Checks every test named in `text` against the files under `root`; returns how many names
/// were checked, or an error listing every missing one.
pub fn check_text(root: &Path, text: &str) -> Result<usize> {
    let named = named_tests(text);
    let mut missing = Vec::new();
    for (file, name) in &named {
        match std::fs::read_to_string(root.join(file)) {
            Ok(source) if defines(&source, name) => {}
            Ok(_) => missing.push(format!("{file}::{name} (no `fn {name}` in {file})")),
            Err(e) => missing.push(format!("{file}::{name} ({file}: {e})")),
        }
    }
    if named.is_empty() {
        return Err(fail!("no test is named (`file.rs::test_name`)"));
    }
    if !missing.is_empty() {
        return Err(fail!(
            "it names tests that do not exist; rename them in the document or restore the \
             tests:\n  {}",
            missing.join("\n  ")
        ));
    }
    Ok(named.len())
}

/// The documents whose named tests are checked.
pub const DOCUMENTS: [&str; 2] = ["TESTING.md", "SECURITY.md"];

/// Checks every document of [`DOCUMENTS`] at the workspace root; returns how many test names
/// they hold in all.
pub fn check(root: &Path) -> Result<usize> {
    let mut total = 0;
    for document in DOCUMENTS {
        let path = root.join(document);
        let text = std::fs::read_to_string(&path).map_err(|e| fail!("{}: {e}", path.display()))?;
        total += check_text(root, &text).map_err(|e| fail!("{document}: {e}"))?;
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workspace_root;

    #[test]
    fn every_test_named_in_testing_md_exists() {
        let count = check(&workspace_root()).unwrap_or_else(|e| panic!("{e}"));
        assert!(count >= 40, "only {count} tests named");
    }

    #[test]
    fn names_are_read_from_backticks_only() {
        let text =
            "| a | `tests/x.rs::one`, `tests/y.rs::two_2` | tests/z.rs::three | `not::a_test` \
                    | `src/a.rs::Type::method` |";
        assert_eq!(
            named_tests(text),
            [
                ("tests/x.rs".to_owned(), "one".to_owned()),
                ("tests/y.rs".to_owned(), "two_2".to_owned())
            ]
        );
    }

    #[test]
    fn a_missing_test_or_file_is_named_in_the_error() {
        let root = workspace_root();
        let text = "`xtask/src/testing_md.rs::names_are_read_from_backticks_only` \
                    `xtask/src/testing_md.rs::no_such_test` `tests/no_such_file.rs::x`";
        let error = check_text(&root, text).unwrap_err().to_string();
        assert!(
            error.contains("xtask/src/testing_md.rs::no_such_test"),
            "{error}"
        );
        assert!(error.contains("tests/no_such_file.rs::x"), "{error}");
        assert!(!error.contains("names_are_read"), "{error}");
        // A prefix of a real name is not that name.
        assert!(check_text(&root, "`xtask/src/testing_md.rs::names_are`").is_err());
    }
}
