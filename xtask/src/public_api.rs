//! The public-API check: no type of the HTTP stack (reqwest, http, hyper, ...) appears in the
//! public API of the client crates (`trusthub-runtime`, `trusthub-generated`, `trusthub`), so that
//! an upgrade of the HTTP client is never a breaking change of ours.
//!
//! Each crate's source is parsed with `syn`, following `mod` declarations from `lib.rs`. Every
//! `pub` item counts, hidden (`#[doc(hidden)]`) ones included, in any module but `#[cfg(test)]`
//! ones: the signatures of public functions and methods (of public types), public fields, enum
//! variants, type aliases, constants and statics, trait items, trait impls of public types, and
//! `pub use` re-exports. A type names the HTTP stack when a path in it starts with one of
//! [`FORBIDDEN_CRATES`] or uses a name the file imported from one of them.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use quote::ToTokens;
use syn::{Attribute, Fields, ImplItem, Item, TraitItem, UseTree, Visibility};

use crate::{fail, Result};

/// Crates whose types must not appear in our public API.
pub const FORBIDDEN_CRATES: &[&str] = &[
    "reqwest",
    "http",
    "http_body",
    "hyper",
    "hyper_util",
    "h2",
    "tower",
    "axum",
];

/// The crates checked, by their `lib.rs`.
pub const CHECKED: &[&str] = &["runtime/src/lib.rs", "generated/src/lib.rs", "src/lib.rs"];

/// One file being checked: the names it imported from the forbidden crates.
struct FileScope {
    path: PathBuf,
    imported: BTreeSet<String>,
    /// Types defined without `pub` in the file: their impls are not public API.
    private_types: BTreeSet<String>,
}

/// Checks the crates of [`CHECKED`] under `root`; returns every violation, one line each.
pub fn check(root: &Path) -> Result<Vec<String>> {
    let mut violations = Vec::new();
    for lib in CHECKED {
        check_file(&root.join(lib), true, &mut violations)?;
    }
    Ok(violations)
}

fn has_attr(attrs: &[Attribute], name: &str, arg: &str) -> bool {
    attrs
        .iter()
        .any(|a| a.path().is_ident(name) && a.meta.to_token_stream().to_string().contains(arg))
}

fn is_test_only(attrs: &[Attribute]) -> bool {
    has_attr(attrs, "cfg", "test") || has_attr(attrs, "cfg", "doctest")
}

fn is_pub(vis: &Visibility) -> bool {
    matches!(vis, Visibility::Public(_))
}

/// Collects the local names a `use` tree binds from a forbidden crate.
fn forbidden_imports(tree: &UseTree, under_forbidden: bool, out: &mut BTreeSet<String>) {
    match tree {
        UseTree::Path(path) => {
            let name = path.ident.to_string();
            let forbidden = under_forbidden || FORBIDDEN_CRATES.contains(&name.as_str());
            forbidden_imports(&path.tree, forbidden, out);
        }
        UseTree::Name(name) if under_forbidden => {
            out.insert(name.ident.to_string());
        }
        UseTree::Rename(rename) if under_forbidden => {
            out.insert(rename.rename.to_string());
        }
        UseTree::Group(group) => {
            for tree in &group.items {
                forbidden_imports(tree, under_forbidden, out);
            }
        }
        _ => {}
    }
}

/// The forbidden names in a piece of Rust (a type, a signature).
fn forbidden_in(tokens: &impl ToTokens, scope: &FileScope) -> Vec<String> {
    let text = tokens.to_token_stream().to_string();
    let words: Vec<&str> = text
        .split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .filter(|w| !w.is_empty())
        .collect();
    let mut found = Vec::new();
    for (i, word) in words.iter().enumerate() {
        let path_start = i == 0 || !text.contains(&format!(":: {word}"));
        let crate_path =
            FORBIDDEN_CRATES.contains(word) && path_start && text.contains(&format!("{word} ::"));
        if crate_path || scope.imported.contains(*word) {
            found.push((*word).to_owned());
        }
    }
    found.sort();
    found.dedup();
    found
}

fn report(scope: &FileScope, what: &str, tokens: &impl ToTokens, violations: &mut Vec<String>) {
    let found = forbidden_in(tokens, scope);
    if !found.is_empty() {
        violations.push(format!(
            "{}: {what} names {}",
            scope.path.display(),
            found.join(", ")
        ));
    }
}

/// The file of `mod name;` declared in `file`.
fn module_file(file: &Path, is_root: bool, name: &str) -> Option<PathBuf> {
    let dir = if is_root || file.file_name().is_some_and(|n| n == "mod.rs") {
        file.parent()?.to_path_buf()
    } else {
        file.with_extension("")
    };
    [
        dir.join(format!("{name}.rs")),
        dir.join(name).join("mod.rs"),
    ]
    .into_iter()
    .find(|p| p.exists())
}

fn check_file(path: &Path, is_root: bool, violations: &mut Vec<String>) -> Result<()> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| fail!("public API check: cannot read {}: {e}", path.display()))?;
    let file = syn::parse_file(&text)
        .map_err(|e| fail!("public API check: cannot parse {}: {e}", path.display()))?;
    let mut scope = FileScope {
        path: path.to_path_buf(),
        imported: BTreeSet::new(),
        private_types: BTreeSet::new(),
    };
    collect(&file.items, &mut scope);
    check_items(&file.items, &scope, violations);
    for item in &file.items {
        if let Item::Mod(module) = item
            && module.content.is_none()
            && !is_test_only(&module.attrs)
        {
            let name = module.ident.to_string();
            let child = module_file(path, is_root, &name).ok_or_else(|| {
                fail!(
                    "public API check: no file for `mod {name};` of {}",
                    path.display()
                )
            })?;
            check_file(&child, false, violations)?;
        }
    }
    Ok(())
}

/// Imports from forbidden crates and private type names, in `items` and inline modules.
fn collect(items: &[Item], scope: &mut FileScope) {
    for item in items {
        match item {
            Item::Use(u) => forbidden_imports(&u.tree, false, &mut scope.imported),
            Item::Struct(s) if !is_pub(&s.vis) => {
                scope.private_types.insert(s.ident.to_string());
            }
            Item::Enum(e) if !is_pub(&e.vis) => {
                scope.private_types.insert(e.ident.to_string());
            }
            Item::Mod(m) => {
                if let Some((_, inner)) = &m.content {
                    collect(inner, scope);
                }
            }
            _ => {}
        }
    }
}

fn self_type_name(ty: &syn::Type) -> String {
    match ty {
        syn::Type::Path(p) => p
            .path
            .segments
            .last()
            .map(|s| s.ident.to_string())
            .unwrap_or_default(),
        _ => String::new(),
    }
}

fn check_items(items: &[Item], scope: &FileScope, violations: &mut Vec<String>) {
    for item in items {
        match item {
            Item::Fn(f) if is_pub(&f.vis) => {
                report(scope, &format!("fn {}", f.sig.ident), &f.sig, violations)
            }
            Item::Struct(s) if is_pub(&s.vis) => {
                let fields: Vec<_> = match &s.fields {
                    Fields::Named(named) => named.named.iter().collect(),
                    Fields::Unnamed(unnamed) => unnamed.unnamed.iter().collect(),
                    Fields::Unit => Vec::new(),
                };
                for field in fields.into_iter().filter(|f| is_pub(&f.vis)) {
                    report(
                        scope,
                        &format!("a field of {}", s.ident),
                        &field.ty,
                        violations,
                    );
                }
            }
            Item::Enum(e) if is_pub(&e.vis) => {
                for variant in &e.variants {
                    report(
                        scope,
                        &format!("{}::{}", e.ident, variant.ident),
                        &variant.fields,
                        violations,
                    );
                }
            }
            Item::Type(t) if is_pub(&t.vis) => {
                report(scope, &format!("type {}", t.ident), &t.ty, violations)
            }
            Item::Const(c) if is_pub(&c.vis) => {
                report(scope, &format!("const {}", c.ident), &c.ty, violations)
            }
            Item::Static(s) if is_pub(&s.vis) => {
                report(scope, &format!("static {}", s.ident), &s.ty, violations)
            }
            Item::Trait(t) if is_pub(&t.vis) => {
                for trait_item in &t.items {
                    if let TraitItem::Fn(f) = trait_item {
                        report(
                            scope,
                            &format!("{}::{}", t.ident, f.sig.ident),
                            &f.sig,
                            violations,
                        );
                    }
                }
            }
            Item::Impl(i) if !is_test_only(&i.attrs) => {
                let owner = self_type_name(&i.self_ty);
                if scope.private_types.contains(&owner) {
                    continue;
                }
                if let Some((_, trait_path, _)) = &i.trait_ {
                    report(
                        scope,
                        &format!("an impl for {owner}"),
                        trait_path,
                        violations,
                    );
                }
                for impl_item in &i.items {
                    if let ImplItem::Fn(f) = impl_item
                        && (i.trait_.is_some() || is_pub(&f.vis))
                    {
                        report(
                            scope,
                            &format!("{owner}::{}", f.sig.ident),
                            &f.sig,
                            violations,
                        );
                    }
                }
            }
            Item::Use(u) if is_pub(&u.vis) => {
                let mut reexported = BTreeSet::new();
                forbidden_imports(&u.tree, false, &mut reexported);
                let root_forbidden = matches!(&u.tree, UseTree::Name(n)
                    if FORBIDDEN_CRATES.contains(&n.ident.to_string().as_str()));
                if root_forbidden || !reexported.is_empty() {
                    violations.push(format!(
                        "{}: `pub use` re-exports the HTTP stack ({})",
                        scope.path.display(),
                        u.tree.to_token_stream()
                    ));
                }
            }
            Item::Mod(m) if !is_test_only(&m.attrs) => {
                if let Some((_, inner)) = &m.content {
                    check_items(inner, scope, violations);
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn violations_of(source: &str) -> Vec<String> {
        let dir = std::env::temp_dir().join(format!("public-api-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("lib.rs");
        std::fs::write(&path, source).unwrap();
        let mut violations = Vec::new();
        check_file(&path, true, &mut violations).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        violations
    }

    #[test]
    fn http_types_in_public_items_are_found() {
        let source = r#"
            use reqwest::header::{HeaderMap, HeaderValue as Value};
            pub use reqwest;
            pub struct Answer { pub headers: HeaderMap, kept: Value }
            pub enum Failure { Transport(reqwest::Error) }
            pub fn send(status: http::StatusCode) {}
            pub struct Transport;
            impl Transport { pub fn raw(&self) -> Value { self.value() } fn private(&self) -> HeaderMap { self.map() } }
            impl From<reqwest::Error> for Failure { fn from(e: reqwest::Error) -> Self { Failure::Transport(e) } }
            struct Inner;
            impl From<reqwest::Error> for Inner { fn from(_: reqwest::Error) -> Self { Inner } }
            #[cfg(test)] mod tests { pub fn helper(h: HeaderMap) {} }
            pub fn fine(map: std::collections::HashMap<String, String>, url: &str) {}
        "#;
        let found = violations_of(source);
        let text = found.join("\n");
        for expected in [
            "re-exports the HTTP stack (reqwest)",
            "a field of Answer names HeaderMap",
            "Failure::Transport names reqwest",
            "fn send names http",
            "Transport::raw names Value",
            "an impl for Failure names reqwest",
        ] {
            assert!(text.contains(expected), "missing {expected:?} in:\n{text}");
        }
        assert_eq!(found.len(), 7, "{text}");
        assert!(!text.contains("Inner") && !text.contains("private") && !text.contains("helper"));
    }

    #[test]
    fn the_client_crates_expose_no_http_type() {
        let violations = check(&crate::workspace_root()).unwrap();
        assert!(
            violations.is_empty(),
            "types of the HTTP stack in the public API:\n{}",
            violations.join("\n")
        );
    }
}
