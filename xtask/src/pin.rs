//! The pin of the upstream specs (`spec/pin.toml`) and their verified cache.

use std::path::{Path, PathBuf};
use std::process::Command;

use base64::Engine as _;
use serde::Deserialize;
use sha2::{Digest, Sha256, Sha512};

use crate::{fail, workspace_root, Result};

/// `spec/pin.toml`.
#[derive(Debug, Deserialize)]
pub struct Pin {
    /// The npm package that ships the specs.
    pub package: Package,
    /// One entry per generated module.
    pub spec: Vec<SpecPin>,
}

/// The npm package of the pin.
#[derive(Debug, Deserialize)]
pub struct Package {
    pub name: String,
    pub version: String,
    pub integrity: String,
}

/// One spec file and the operations kept from it.
#[derive(Debug, Deserialize)]
pub struct SpecPin {
    pub module: String,
    pub file: String,
    pub sha256: String,
    pub operations: Operations,
    pub expected_operations: usize,
    #[serde(default)]
    pub ambient_path_params: Vec<String>,
}

/// Which operations of a spec file are generated.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum Operations {
    /// `"all"`.
    All(String),
    /// Exactly these operationIds.
    Only(Vec<String>),
}

impl Operations {
    /// Whether `operation_id` is kept.
    pub fn keeps(&self, operation_id: &str) -> bool {
        match self {
            Operations::All(_) => true,
            Operations::Only(ids) => ids.iter().any(|id| id == operation_id),
        }
    }
}

/// Reads and checks `spec/pin.toml`.
pub fn load() -> Result<Pin> {
    let path = workspace_root().join("spec/pin.toml");
    let text =
        std::fs::read_to_string(&path).map_err(|e| fail!("cannot read {}: {e}", path.display()))?;
    let pin: Pin =
        toml::from_str(&text).map_err(|e| fail!("{} is not a valid pin: {e}", path.display()))?;
    for spec in &pin.spec {
        if let Operations::All(word) = &spec.operations
            && word != "all"
        {
            return Err(fail!(
                    "{}: `operations` of module {} must be \"all\" or a list of operationIds, found {word:?}",
                    path.display(),
                    spec.module
                ));
        }
    }
    Ok(pin)
}

/// The directory that holds the verified spec files of `package`.
pub fn cache_dir(package: &Package) -> PathBuf {
    let name = package.name.trim_start_matches('@').replace('/', "-");
    workspace_root()
        .join(".cache/spec")
        .join(format!("{name}-{}", package.version))
}

/// The cached path of one pinned file.
pub fn cached_file(package: &Package, spec: &SpecPin) -> PathBuf {
    let base = Path::new(&spec.file)
        .file_name()
        .expect("pinned spec files name a file");
    cache_dir(package).join(base)
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn file_is_verified(path: &Path, sha256: &str) -> bool {
    std::fs::read(path)
        .map(|bytes| sha256_hex(&bytes) == sha256)
        .unwrap_or(false)
}

/// Makes sure every pinned spec file is in the cache and verified; fetches with npm when not.
/// Returns the verified paths in pin order.
pub fn ensure_specs() -> Result<Vec<PathBuf>> {
    let pin = load()?;
    let files: Vec<PathBuf> = pin
        .spec
        .iter()
        .map(|s| cached_file(&pin.package, s))
        .collect();
    if pin
        .spec
        .iter()
        .zip(&files)
        .all(|(s, f)| file_is_verified(f, &s.sha256))
    {
        return Ok(files);
    }
    fetch(&pin)?;
    for (spec, file) in pin.spec.iter().zip(&files) {
        if !file_is_verified(file, &spec.sha256) {
            return Err(fail!(
                "{} does not match the sha256 pinned in spec/pin.toml ({}); the package content changed \
                 or the pin is wrong. Re-pin deliberately after reviewing the upstream change.",
                file.display(),
                spec.sha256
            ));
        }
    }
    Ok(files)
}

fn fetch(pin: &Pin) -> Result<()> {
    let dir = cache_dir(&pin.package);
    let staging = dir.with_extension("staging");
    let _ = std::fs::remove_dir_all(&staging);
    std::fs::create_dir_all(&staging)?;
    let spec = format!("{}@{}", pin.package.name, pin.package.version);
    eprintln!("fetching {spec} with npm pack ...");
    let output = Command::new("npm")
        .args(["pack", &spec, "--silent", "--pack-destination"])
        .arg(&staging)
        .output()
        .map_err(|e| {
            fail!(
                "cannot run npm ({e}). The pinned specs ship in the npm package {spec}; install Node.js \
                 and npm (e.g. `apt-get install nodejs npm`), then run `cargo xtask spec`."
            )
        })?;
    if !output.status.success() {
        return Err(fail!(
            "`npm pack {spec}` failed ({}): {}\nCheck that the npm registry is reachable, then run `cargo xtask spec`.",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    let tarball = std::fs::read_dir(&staging)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.extension().is_some_and(|x| x == "tgz"))
        .ok_or_else(|| fail!("`npm pack {spec}` wrote no .tgz into {}", staging.display()))?;
    let bytes = std::fs::read(&tarball)?;
    let actual = format!(
        "sha512-{}",
        base64::engine::general_purpose::STANDARD.encode(Sha512::digest(&bytes))
    );
    if actual != pin.package.integrity {
        return Err(fail!(
            "integrity mismatch for {spec}:\n  pinned:  {}\n  fetched: {actual}\nThe registry served \
             different bytes than the pin; do not regenerate from them. Review the package and re-pin \
             spec/pin.toml deliberately.",
            pin.package.integrity
        ));
    }
    let mut tar = Command::new("tar");
    tar.arg("-xzf").arg(&tarball).arg("-C").arg(&staging);
    for s in &pin.spec {
        tar.arg(&s.file);
    }
    let status = tar
        .status()
        .map_err(|e| fail!("cannot run tar to unpack {}: {e}", tarball.display()))?;
    if !status.success() {
        return Err(fail!(
            "tar could not extract the pinned files from {} ({status}); does the package still ship them?",
            tarball.display()
        ));
    }
    std::fs::create_dir_all(&dir)?;
    for s in &pin.spec {
        let target = cached_file(&pin.package, s);
        std::fs::rename(staging.join(&s.file), &target)?;
    }
    std::fs::remove_dir_all(&staging)?;
    Ok(())
}
