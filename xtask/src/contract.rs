//! `cargo xtask contract`: the generated client and the flow against Prism, the OpenAPI mock
//! server that validates every request against the pinned official specs.
//!
//! 1. Prism is installed from `tools/prism/` (`package.json` pins `@stoplight/prism-cli` to an
//!    exact version, `package-lock.json` pins the whole tree without any registry URL) with
//!    `npm ci` into `tools/prism/node_modules` (git-ignored).
//! 2. The pinned Trust Hub spec is served as it is; the 2010 and Messaging specs are cut to the
//!    operations `spec/pin.toml` keeps (and the components they reach) into `.cache/prism/`.
//! 3. One `prism mock` per spec, on free loopback ports, each waited for until it answers HTTP;
//!    their output goes to `.cache/prism/*.log`.
//! 4. `cargo test -p trusthub --features contract --test contract` runs with
//!    `PRISM_TRUSTHUB_URL`, `PRISM_API_URL` and `PRISM_MESSAGING_URL` set; it prints
//!    `prism: N requests, M rejected`
//!    and fails when a request was rejected (see `tests/contract.rs`).
//! 5. The Prism processes are stopped by PID, whatever happened.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Map, Value};

use crate::{fail, pin, workspace_root, Result};

/// Where Prism's npm project lives, relative to the workspace.
const PRISM_DIR: &str = "tools/prism";
/// How long one Prism may take to load its spec and answer.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(180);

/// `cargo xtask contract`.
pub fn contract() -> Result<()> {
    let root = workspace_root();
    pin::ensure_specs()?;
    let prism = install_prism(&root)?;
    let pin = pin::load()?;
    let cache = root.join(".cache/prism");
    std::fs::create_dir_all(&cache).map_err(|e| fail!("{}: {e}", cache.display()))?;
    let mut trusthub = None;
    let mut api = None;
    let mut messaging = None;
    for spec in &pin.spec {
        let source = pin::cached_file(&pin.package, spec);
        // The 2010 and Messaging specs are served cut to the operations the pin keeps.
        let cut_to_kept = |label: &str| -> Result<PathBuf> {
            let cut = cache.join(format!("twilio_{}.kept.json", spec.module));
            let kept = write_cut(&source, &cut, |id| spec.operations.keeps(id))?;
            println!(
                "contract: {label} spec cut to {kept} operations -> {}",
                cut.display()
            );
            Ok(cut)
        };
        match spec.module.as_str() {
            "trusthub_v1" => trusthub = Some(source.clone()),
            "api_v2010" => api = Some(cut_to_kept("2010")?),
            "messaging_v1" => messaging = Some(cut_to_kept("Messaging")?),
            other => {
                return Err(fail!(
                    "spec/pin.toml: module {other} has no Prism server here"
                ));
            }
        }
    }
    let (Some(trusthub), Some(api), Some(messaging)) = (trusthub, api, messaging) else {
        return Err(fail!(
            "spec/pin.toml must pin trusthub_v1, api_v2010 and messaging_v1"
        ));
    };
    let trusthub = Prism::start(&prism, &trusthub, &cache.join("trusthub.log"))?;
    let api = Prism::start(&prism, &api, &cache.join("api.log"))?;
    let messaging = Prism::start(&prism, &messaging, &cache.join("messaging.log"))?;
    trusthub.wait_ready()?;
    api.wait_ready()?;
    messaging.wait_ready()?;
    println!(
        "contract: Prism serving Trust Hub at {} (pid {}), the 2010 API at {} (pid {}) and \
         Messaging at {} (pid {})",
        trusthub.url(),
        trusthub.pid(),
        api.url(),
        api.pid(),
        messaging.url(),
        messaging.pid()
    );
    let mut test = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned()));
    test.current_dir(&root)
        .args([
            "test",
            "-p",
            "trusthub",
            "--features",
            "contract",
            "--test",
            "contract",
            "--",
            "--nocapture",
        ])
        .env("PRISM_TRUSTHUB_URL", trusthub.url())
        .env("PRISM_API_URL", api.url())
        .env("PRISM_MESSAGING_URL", messaging.url());
    eprintln!("$ cargo test -p trusthub --features contract --test contract -- --nocapture");
    let status = test
        .status()
        .map_err(|e| fail!("cannot start cargo test: {e}"))?;
    // The three servers are dropped (Prism stopped by PID) on every path out of here.
    if !status.success() {
        return Err(fail!(
            "the contract tests failed ({status}); Prism's logs: {}",
            cache.display()
        ));
    }
    Ok(())
}

/// Installs Prism with `npm ci` unless the installed version is the pinned one; returns the
/// path of the `prism` executable.
fn install_prism(root: &Path) -> Result<PathBuf> {
    let dir = root.join(PRISM_DIR);
    let manifest: Value = read_json(&dir.join("package.json"))?;
    let pinned = manifest["dependencies"]["@stoplight/prism-cli"]
        .as_str()
        .ok_or_else(|| fail!("{PRISM_DIR}/package.json pins no @stoplight/prism-cli"))?
        .to_owned();
    if !pinned.chars().all(|c| c.is_ascii_digit() || c == '.') {
        return Err(fail!(
            "{PRISM_DIR}/package.json must pin @stoplight/prism-cli to an exact version, not {pinned:?}"
        ));
    }
    let lock = std::fs::read_to_string(dir.join("package-lock.json"))
        .map_err(|e| fail!("{PRISM_DIR}/package-lock.json: {e}"))?;
    if lock.contains("\"resolved\"") {
        return Err(fail!(
            "{PRISM_DIR}/package-lock.json holds `resolved` URLs; remove them (the registry is \
             npm's configured one, integrity hashes pin the contents)"
        ));
    }
    let installed = dir.join("node_modules/@stoplight/prism-cli/package.json");
    let up_to_date = read_json(&installed)
        .ok()
        .and_then(|v| v["version"].as_str().map(|v| v == pinned))
        .unwrap_or(false);
    if !up_to_date {
        let mut npm = Command::new("npm");
        npm.current_dir(&dir)
            .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"]);
        eprintln!("$ (cd {PRISM_DIR} && npm ci)");
        let status = npm.status().map_err(|e| {
            fail!(
                "cannot run npm ({e}): the contract tests need Node.js and npm to install Prism; \
                 install them (e.g. apt-get install nodejs npm) and run again"
            )
        })?;
        if !status.success() {
            return Err(fail!("`npm ci` in {PRISM_DIR} failed ({status})"));
        }
    }
    let prism = dir.join("node_modules/.bin/prism");
    if !prism.exists() {
        return Err(fail!("{} is missing after npm ci", prism.display()));
    }
    println!("contract: @stoplight/prism-cli {pinned} in {PRISM_DIR}");
    Ok(prism)
}

fn read_json(path: &Path) -> Result<Value> {
    let text = std::fs::read_to_string(path).map_err(|e| fail!("{}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| fail!("{} is not JSON: {e}", path.display()))
}

const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// Writes to `target` the spec at `source` keeping only the operations whose id `keep` accepts
/// and the components they reach (transitively); returns how many operations were kept.
pub fn write_cut(source: &Path, target: &Path, keep: impl Fn(&str) -> bool) -> Result<usize> {
    let mut doc = read_json(source)?;
    let kept = cut(&mut doc, keep)?;
    let text = serde_json::to_string(&doc)?;
    std::fs::write(target, text).map_err(|e| fail!("{}: {e}", target.display()))?;
    Ok(kept)
}

/// Cuts `doc` in place (see [`write_cut`]).
pub fn cut(doc: &mut Value, keep: impl Fn(&str) -> bool) -> Result<usize> {
    let paths = doc
        .get_mut("paths")
        .and_then(Value::as_object_mut)
        .ok_or_else(|| fail!("the spec has no paths"))?;
    let mut kept = 0;
    let mut new_paths = Map::new();
    for (path, item) in std::mem::take(paths) {
        let Value::Object(mut item) = item else {
            continue;
        };
        let mut any = false;
        for method in METHODS {
            let keep_it = item
                .get(method)
                .and_then(|op| op.get("operationId"))
                .and_then(Value::as_str)
                .is_some_and(&keep);
            if keep_it {
                any = true;
                kept += 1;
            } else {
                item.remove(method);
            }
        }
        if any {
            new_paths.insert(path, Value::Object(item));
        }
    }
    *paths = new_paths;
    // Keep the components reachable from what is left (everything but `components` itself).
    let components = doc
        .get("components")
        .cloned()
        .unwrap_or_else(|| Value::Object(Map::new()));
    let mut reached: std::collections::BTreeSet<(String, String)> = Default::default();
    let mut pending: Vec<Value> = doc
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(k, _)| *k != "components")
        .map(|(_, v)| v.clone())
        .collect();
    // Security schemes are referenced by name, not by $ref: keep them all.
    while let Some(value) = pending.pop() {
        for reference in refs(&value) {
            let Some(rest) = reference.strip_prefix("#/components/") else {
                continue;
            };
            let Some((kind, name)) = rest.split_once('/') else {
                continue;
            };
            let key = (kind.to_owned(), name.replace("~1", "/").replace("~0", "~"));
            if reached.insert(key.clone()) {
                let target = components
                    .get(&key.0)
                    .and_then(|k| k.get(&key.1))
                    .ok_or_else(|| fail!("the spec refers to the missing {reference}"))?;
                pending.push(target.clone());
            }
        }
    }
    let mut new_components = Map::new();
    if let Value::Object(all) = &components {
        for (kind, entries) in all {
            let Value::Object(entries) = entries else {
                continue;
            };
            let keep_all = kind == "securitySchemes";
            let kept_entries: Map<String, Value> = entries
                .iter()
                .filter(|(name, _)| keep_all || reached.contains(&(kind.clone(), (*name).clone())))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            if !kept_entries.is_empty() {
                new_components.insert(kind.clone(), Value::Object(kept_entries));
            }
        }
    }
    if let Some(object) = doc.as_object_mut() {
        object.insert("components".to_owned(), Value::Object(new_components));
    }
    Ok(kept)
}

/// Every `$ref` string in `value`.
fn refs(value: &Value) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![value];
    while let Some(v) = stack.pop() {
        match v {
            Value::Object(map) => {
                for (k, child) in map {
                    match (k.as_str(), child) {
                        ("$ref", Value::String(s)) => out.push(s.clone()),
                        _ => stack.push(child),
                    }
                }
            }
            Value::Array(items) => stack.extend(items),
            _ => {}
        }
    }
    out
}

/// A free loopback port (bound, read, released).
fn free_port() -> Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?.port())
}

/// A running `prism mock`; dropping it kills the process by its PID.
struct Prism {
    child: Child,
    port: u16,
    log: PathBuf,
}

impl Prism {
    fn start(prism: &Path, spec: &Path, log: &Path) -> Result<Prism> {
        let port = free_port()?;
        let out = std::fs::File::create(log).map_err(|e| fail!("{}: {e}", log.display()))?;
        let err = out.try_clone()?;
        let child = Command::new(prism)
            .arg("mock")
            .arg(spec)
            .args(["--host", "127.0.0.1", "--port", &port.to_string()])
            .args(["--multiprocess=false", "--dynamic=false", "--cors=false"])
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .map_err(|e| fail!("cannot start {}: {e}", prism.display()))?;
        Ok(Prism {
            child,
            port,
            log: log.to_path_buf(),
        })
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits until Prism answers an HTTP request (any status), or fails with the end of its log
    /// when it exits or does not answer in time.
    fn wait_ready(&self) -> Result<()> {
        let started = Instant::now();
        let mut child_status = None;
        while started.elapsed() < STARTUP_TIMEOUT {
            if answers_http(self.port) {
                return Ok(());
            }
            // `try_wait` needs `&mut`; poll the PID through /proc instead of borrowing mutably.
            if !Path::new(&format!("/proc/{}", self.child.id())).exists() {
                child_status = Some("exited");
                break;
            }
            std::thread::sleep(Duration::from_millis(250));
        }
        let log = std::fs::read_to_string(&self.log).unwrap_or_default();
        let tail: Vec<&str> = log.lines().rev().take(20).collect();
        Err(fail!(
            "Prism on port {} {} before answering; the end of {}:\n{}",
            self.port,
            child_status.unwrap_or("did not answer within the startup timeout"),
            self.log.display(),
            tail.into_iter().rev().collect::<Vec<_>>().join("\n")
        ))
    }
}

impl Drop for Prism {
    fn drop(&mut self) {
        let pid = self.child.id();
        let _ = self.child.kill();
        let _ = self.child.wait();
        println!("contract: stopped Prism (pid {pid})");
    }
}

/// Whether something on `port` answers an HTTP request with a status line.
fn answers_http(port: u16) -> bool {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    if stream
        .write_all(b"GET /__ready HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        .is_err()
    {
        return false;
    }
    let mut head = [0u8; 12];
    matches!(stream.read(&mut head), Ok(n) if n >= 8 && head.starts_with(b"HTTP/1."))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn cut_keeps_the_operations_and_the_components_they_reach() {
        let mut doc = json!({
            "openapi": "3.0.1",
            "paths": {
                "/a": {
                    "servers": [{"url": "https://api.twilio.com"}],
                    "get": {"operationId": "FetchA", "responses": {"200": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/a"}}}}}},
                    "post": {"operationId": "UpdateA", "responses": {"200": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/unused"}}}}}}
                },
                "/b": {"get": {"operationId": "FetchB"}}
            },
            "components": {
                "schemas": {
                    "a": {"properties": {"x": {"$ref": "#/components/schemas/a~1x"}}},
                    "a/x": {"type": "string"},
                    "unused": {"type": "string"}
                },
                "securitySchemes": {"basic": {"type": "http", "scheme": "basic"}}
            }
        });
        let kept = cut(&mut doc, |id| id == "FetchA").unwrap();
        assert_eq!(kept, 1);
        assert_eq!(doc["paths"].as_object().unwrap().len(), 1);
        assert!(doc["paths"]["/a"]["post"].is_null());
        assert!(doc["paths"]["/a"]["servers"].is_array());
        let schemas = doc["components"]["schemas"].as_object().unwrap();
        let names: Vec<&str> = schemas.keys().map(String::as_str).collect();
        assert_eq!(names, ["a", "a/x"]);
        assert!(doc["components"]["securitySchemes"]["basic"].is_object());
    }

    #[test]
    fn a_dangling_reference_is_an_error() {
        let mut doc = json!({
            "paths": {"/a": {"get": {"operationId": "A", "x": {"$ref": "#/components/schemas/nope"}}}}
        });
        let error = cut(&mut doc, |_| true).unwrap_err().to_string();
        assert!(error.contains("#/components/schemas/nope"), "{error}");
    }

    #[test]
    fn the_prism_pin_is_exact_and_the_lock_has_no_registry_urls() {
        let dir = workspace_root().join(PRISM_DIR);
        let manifest = read_json(&dir.join("package.json")).unwrap();
        let version = manifest["dependencies"]["@stoplight/prism-cli"]
            .as_str()
            .unwrap();
        assert!(
            version.chars().all(|c| c.is_ascii_digit() || c == '.'),
            "{version}"
        );
        let lock = std::fs::read_to_string(dir.join("package-lock.json")).unwrap();
        assert!(!lock.contains("\"resolved\"") && !lock.contains("\"tarball\""));
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
        assert_eq!(
            lock["packages"]["node_modules/@stoplight/prism-cli"]["version"],
            version
        );
    }
}
