//! Our overlay (`spec/overlay.json`): typing for what upstream leaves untyped.

use serde::Deserialize;
use serde_json::Value;

use crate::{fail, workspace_root, Result};

/// `spec/overlay.json`.
#[derive(Debug, Deserialize)]
pub struct Overlay {
    #[serde(default)]
    schemas: Vec<AddedSchema>,
    #[serde(default)]
    patches: Vec<Patch>,
    #[serde(default)]
    pub renames: Vec<Rename>,
    pub redact: Redact,
    pub sid_kinds: SidKinds,
}

/// Which SID type of `trusthub_runtime::sid` each SID pattern of the specs means.
#[derive(Debug, Deserialize)]
pub struct SidKinds {
    why: String,
    rules: Vec<SidKindRule>,
}

/// One prefix (in one context) and its SID type.
#[derive(Debug, Deserialize)]
struct SidKindRule {
    /// The two letters of the pattern; empty for any two letters.
    prefix: String,
    /// Applies only where the context contains this.
    #[serde(default)]
    context: Option<String>,
    kind: String,
    why: String,
}

impl SidKinds {
    /// The SID type for a pattern's `prefix` where the context is `context`: the first rule
    /// whose prefix matches and whose context, if any, `context` contains.
    pub fn kind(&self, prefix: &str, context: &str) -> Option<&str> {
        self.rules
            .iter()
            .find(|rule| {
                rule.prefix == prefix && rule.context.as_deref().is_none_or(|c| context.contains(c))
            })
            .map(|rule| rule.kind.as_str())
    }
}

#[derive(Debug, Deserialize)]
struct AddedSchema {
    module: String,
    name: String,
    why: String,
    schema: Value,
}

#[derive(Debug, Deserialize)]
struct Patch {
    module: String,
    pointer: String,
    why: String,
    schema: Value,
    /// The pointer names a new key of an existing object (otherwise it must exist upstream).
    #[serde(default)]
    add: bool,
}

/// A model renamed from its upstream schema name.
#[derive(Debug, Deserialize)]
pub struct Rename {
    pub module: String,
    pub schema: String,
    pub name: String,
    pub why: String,
}

/// Properties whose values `Debug` never shows.
#[derive(Debug, Deserialize)]
pub struct Redact {
    pub why: String,
    pub properties: Vec<String>,
}

impl Redact {
    /// Whether `property` of `schema` is redacted (an unqualified entry covers every schema).
    pub fn covers(&self, schema: &str, property: &str) -> bool {
        self.properties
            .iter()
            .any(|entry| match entry.split_once('#') {
                Some((s, p)) => s == schema && p == property,
                None => entry == property,
            })
    }
}

/// Reads `spec/overlay.json`; every entry must say why it exists.
pub fn load() -> Result<Overlay> {
    let path = workspace_root().join("spec/overlay.json");
    let text =
        std::fs::read_to_string(&path).map_err(|e| fail!("cannot read {}: {e}", path.display()))?;
    let overlay: Overlay = serde_json::from_str(&text)
        .map_err(|e| fail!("{} is not a valid overlay: {e}", path.display()))?;
    let whys = overlay
        .schemas
        .iter()
        .map(|s| (&s.name, &s.why))
        .chain(overlay.patches.iter().map(|p| (&p.pointer, &p.why)))
        .chain(overlay.renames.iter().map(|r| (&r.schema, &r.why)))
        .chain(std::iter::once((&overlay.redact.why, &overlay.redact.why)))
        .chain(std::iter::once((
            &overlay.sid_kinds.why,
            &overlay.sid_kinds.why,
        )))
        .chain(overlay.sid_kinds.rules.iter().map(|r| (&r.kind, &r.why)));
    for (what, why) in whys {
        if why.trim().is_empty() {
            return Err(fail!("{}: entry {what} has no `why`", path.display()));
        }
    }
    Ok(overlay)
}

impl Overlay {
    /// Applies the added schemas and patches of `module` to its raw spec document.
    pub fn apply(&self, module: &str, doc: &mut Value) -> Result<()> {
        for added in self.schemas.iter().filter(|s| s.module == module) {
            let schemas = doc
                .pointer_mut("/components/schemas")
                .and_then(Value::as_object_mut)
                .ok_or_else(|| fail!("overlay: module {module} has no /components/schemas"))?;
            if schemas.contains_key(&added.name) {
                return Err(fail!(
                    "overlay: schema {} already exists upstream in {module}; the overlay must not shadow it",
                    added.name
                ));
            }
            schemas.insert(added.name.clone(), added.schema.clone());
        }
        for patch in self.patches.iter().filter(|p| p.module == module) {
            if patch.add {
                let (parent, key) = patch
                    .pointer
                    .rsplit_once('/')
                    .ok_or_else(|| fail!("overlay: {} is not a JSON pointer", patch.pointer))?;
                let object = doc
                    .pointer_mut(parent)
                    .and_then(Value::as_object_mut)
                    .ok_or_else(|| {
                        fail!("overlay: {parent} not found in {module}; update spec/overlay.json")
                    })?;
                if object.contains_key(key) {
                    return Err(fail!(
                        "overlay: {} now exists upstream in {module}; drop `add` or the patch",
                        patch.pointer
                    ));
                }
                object.insert(key.to_owned(), patch.schema.clone());
                continue;
            }
            let slot = doc.pointer_mut(&patch.pointer).ok_or_else(|| {
                fail!(
                    "overlay: {} not found in {module}; upstream moved it, update spec/overlay.json",
                    patch.pointer
                )
            })?;
            *slot = patch.schema.clone();
        }
        Ok(())
    }

    /// The model name chosen for `schema` of `module`, if renamed.
    pub fn rename(&self, module: &str, schema: &str) -> Option<&str> {
        self.renames
            .iter()
            .find(|r| r.module == module && r.schema == schema)
            .map(|r| r.name.as_str())
    }
}
