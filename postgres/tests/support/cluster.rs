//! A throwaway PostgreSQL cluster per test: `initdb` into a temporary directory, `postgres` on a
//! free port of 127.0.0.1 (and a unix socket in that directory), waited for until it accepts
//! connections, stopped by PID when the guard drops (a panicking test included).
//!
//! PostgreSQL refuses to run as root: as root (this machine, CI), `initdb` and `postgres` run as
//! the `postgres` user (the Debian package creates it) or else `nobody`, with the directory
//! handed to that user. The binaries are looked up on PATH, then in `/usr/lib/postgresql/*/bin`;
//! when they are missing the test FAILS, naming the package to install: no test is skipped
//! because PostgreSQL is absent.
//!
//! `Cluster::start_tls` starts one with `ssl=on` and the test's certificate and key (written
//! beside the data directory, the key owner-only and owned by the server's user, as PostgreSQL
//! requires).
//!
//! Stopping: SIGQUIT to the postmaster's PID (what `pg_ctl stop -m immediate` sends), then
//! SIGKILL if it has not exited within 10 s. The postmaster is this process's own child, and is
//! also killed by the kernel should the test process die without dropping the guard
//! (`PR_SET_PDEATHSIG`).
//!
//! This file needs only the standard library, `libc` and `getrandom`: the store's and the
//! command's tests include it through `support/mod.rs` (which adds SQL helpers), and
//! `cargo xtask bench-workers` includes it as it is.

#![allow(dead_code)]

use std::fs::{self, File};
use std::io::Read;
use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// The superuser of a test cluster.
pub const USER: &str = "trusthub_test";

/// A running cluster; stopped and removed when dropped.
pub struct Cluster {
    root: PathBuf,
    port: u16,
    password: String,
    child: Option<Child>,
}

/// A server certificate (its chain, PEM) and its private key (PEM), for a cluster with `ssl=on`.
pub struct ServerTls {
    /// The certificate, then any intermediate CA certificates.
    pub cert_pem: String,
    /// The certificate's private key.
    pub key_pem: String,
}

/// Who the server runs as: `None` for this process's own user.
#[derive(Clone, Copy)]
struct RunAs {
    uid: libc::uid_t,
    gid: libc::gid_t,
}

/// Ends the test (or the command) with what broke.
pub fn fail(message: impl std::fmt::Display) -> ! {
    panic!("test PostgreSQL cluster: {message}")
}

/// The directory of `initdb` and `postgres`.
/// The directory of PostgreSQL's server programs (PATH, then `/usr/lib/postgresql/*/bin`).
pub fn bin_dir() -> PathBuf {
    find_bin_dir(std::env::var_os("PATH"), Path::new("/usr/lib/postgresql"))
        .unwrap_or_else(|missing| fail(missing))
}

/// The directory of `initdb` and `postgres`: the first directory of `path` holding both, else
/// the newest `<lib>/<version>/bin` holding both; else what to install.
pub fn find_bin_dir(path: Option<std::ffi::OsString>, lib: &Path) -> Result<PathBuf, String> {
    let has_both = |dir: &Path| dir.join("initdb").is_file() && dir.join("postgres").is_file();
    if let Some(path) = path {
        for dir in std::env::split_paths(&path) {
            if has_both(&dir) {
                // A symlink into the versioned directory (as /usr/local/bin's): use its target's.
                let real = fs::canonicalize(dir.join("initdb"))
                    .ok()
                    .and_then(|p| p.parent().map(Path::to_path_buf))
                    .unwrap_or(dir);
                return Ok(real);
            }
        }
    }
    let mut versions: Vec<(u32, PathBuf)> = fs::read_dir(lib)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let version = e.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = e.path().join("bin");
            has_both(&bin).then_some((version, bin))
        })
        .collect();
    versions.sort();
    match versions.pop() {
        Some((_, bin)) => Ok(bin),
        None => Err(format!(
            "PostgreSQL's server programs (initdb, postgres) are neither on PATH nor in \
             {}/*/bin: install the Debian package `postgresql` (apt-get install postgresql), as \
             .ci/run does. These tests need a real server and are never skipped.",
            lib.display()
        )),
    }
}

/// As root, the unprivileged user to run the server as.
fn run_as() -> Option<RunAs> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return None;
    }
    for name in [c"postgres", c"nobody"] {
        // SAFETY: a valid C string; the result is read at once, before any other getpw* call of
        // this thread (tests creating clusters at once may race on the static buffer, so the
        // fields are copied immediately; a torn read would only pick the other user).
        let entry = unsafe { libc::getpwnam(name.as_ptr()) };
        if !entry.is_null() {
            // SAFETY: non-null, points to a passwd record.
            let (uid, gid) = unsafe { ((*entry).pw_uid, (*entry).pw_gid) };
            if uid != 0 {
                return Some(RunAs { uid, gid });
            }
        }
    }
    fail(
        "this process runs as root, and PostgreSQL refuses to: neither a `postgres` nor a \
         `nobody` user exists to run it as. Install the Debian package `postgresql` (it creates \
         the `postgres` user).",
    )
}

/// A command of the server's, run as `user`: its group and user set before `exec`, and (for the
/// server) killed with this process.
fn command(
    bin: &Path,
    program: &str,
    user: Option<RunAs>,
    cwd: &Path,
    die_with_us: bool,
) -> Command {
    let mut cmd = Command::new(bin.join(program));
    cmd.current_dir(cwd).env_remove("PGDATA").env("LC_ALL", "C");
    // SAFETY: the closure runs in the child between fork and exec and calls only
    // async-signal-safe functions (setgroups, setgid, setuid, prctl, getppid).
    unsafe {
        cmd.pre_exec(move || {
            if let Some(user) = user
                && (libc::setgroups(0, std::ptr::null()) != 0
                    || libc::setgid(user.gid) != 0
                    || libc::setuid(user.uid) != 0)
            {
                return Err(std::io::Error::last_os_error());
            }
            if die_with_us {
                // After the user change, which would clear it.
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                if libc::getppid() == 1 {
                    return Err(std::io::Error::other("the test process is gone"));
                }
            }
            Ok(())
        });
    }
    cmd
}

fn chown(path: &Path, user: Option<RunAs>) {
    if let Some(user) = user {
        std::os::unix::fs::chown(path, Some(user.uid), Some(user.gid)).unwrap_or_else(|e| {
            fail(format!(
                "cannot hand {} to the server's user: {e}",
                path.display()
            ))
        });
    }
}

/// Where clusters are made: the temporary directory, unless the server's user could not reach
/// it (a `TMPDIR` under root's home): then `/tmp`.
fn base_dir(user: Option<RunAs>) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let temp = std::env::temp_dir();
    if user.is_none() {
        return temp;
    }
    let reachable = temp
        .ancestors()
        .all(|dir| fs::metadata(dir).is_ok_and(|m| m.permissions().mode() & 0o001 != 0));
    if reachable {
        temp
    } else {
        PathBuf::from("/tmp")
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or_else(|e| fail(format!("no free port on 127.0.0.1: {e}")))
}

fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    getrandom::getrandom(&mut buf).expect("random bytes");
    buf.iter().map(|b| format!("{b:02x}")).collect()
}

fn tail(path: &Path) -> String {
    let mut text = String::new();
    if let Ok(mut f) = File::open(path) {
        let _ = f.read_to_string(&mut text);
    }
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(20)..].join("\n")
}

impl Cluster {
    /// Creates and starts a cluster; panics (the test fails) saying what is missing or broke.
    pub fn start() -> Cluster {
        Self::start_with(None)
    }

    /// Creates and starts a cluster with `ssl=on`, serving `tls`'s certificate (its TCP clients
    /// may still connect without TLS: `host` lines of pg_hba.conf).
    pub fn start_tls(tls: &ServerTls) -> Cluster {
        Self::start_with(Some(tls))
    }

    fn start_with(tls: Option<&ServerTls>) -> Cluster {
        static SEQ: AtomicU32 = AtomicU32::new(0);
        let bin = bin_dir();
        let user = run_as();
        let root = base_dir(user).join(format!(
            "trusthub-pg-{}-{}",
            std::process::id(),
            SEQ.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = fs::remove_dir_all(&root);
        fs::create_dir_all(&root).unwrap_or_else(|e| fail(format!("{}: {e}", root.display())));
        chown(&root, user);
        let mut cluster = Cluster {
            root: root.clone(),
            port: 0,
            password: random_hex(16),
            child: None,
        };
        let pwfile = root.join("pw");
        fs::write(&pwfile, &cluster.password).expect("the password file");
        chown(&pwfile, user);
        let data = root.join("data");
        let log = root.join("initdb.log");
        let status = command(&bin, "initdb", user, &root, false)
            .args(["-D"])
            .arg(&data)
            .args(["-U", USER, "-E", "UTF8", "--locale=C", "-N"])
            .args(["--auth-local=trust", "--auth-host=scram-sha-256"])
            .arg(format!("--pwfile={}", pwfile.display()))
            .stdout(File::create(&log).expect("a log file"))
            .stderr(File::create(root.join("initdb.err")).expect("a log file"))
            .status()
            .unwrap_or_else(|e| fail(format!("cannot run {}/initdb: {e}", bin.display())));
        if !status.success() {
            fail(format!(
                "initdb failed ({status}):\n{}",
                tail(&root.join("initdb.err"))
            ));
        }
        let _ = fs::remove_file(&pwfile);
        let mut ssl = vec!["ssl=off".to_owned()];
        if let Some(tls) = tls {
            use std::io::Write;
            use std::os::unix::fs::OpenOptionsExt;
            let cert = root.join("server.crt");
            let key = root.join("server.key");
            for (path, pem) in [(&cert, &tls.cert_pem), (&key, &tls.key_pem)] {
                // Owner-only from the start (PostgreSQL refuses a key others may read).
                fs::OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .mode(0o600)
                    .open(path)
                    .and_then(|mut f| f.write_all(pem.as_bytes()))
                    .unwrap_or_else(|e| fail(format!("{}: {e}", path.display())));
                chown(path, user);
            }
            ssl = vec![
                "ssl=on".to_owned(),
                format!("ssl_cert_file={}", cert.display()),
                format!("ssl_key_file={}", key.display()),
            ];
        }
        for attempt in 1..=3 {
            let port = free_port();
            let log = root.join("server.log");
            let child = command(&bin, "postgres", user, &root, true)
                .arg("-D")
                .arg(&data)
                .args(["-p", &port.to_string(), "-k"])
                .arg(&root)
                .args([
                    "-c",
                    "listen_addresses=127.0.0.1",
                    "-c",
                    "fsync=off",
                    "-c",
                    "synchronous_commit=off",
                    "-c",
                    "full_page_writes=off",
                    "-c",
                    "shared_buffers=16MB",
                    "-c",
                    "max_connections=60",
                    "-c",
                    "logging_collector=off",
                ])
                .args(ssl.iter().flat_map(|setting| ["-c", setting.as_str()]))
                .stdin(Stdio::null())
                .stdout(File::create(&log).expect("a log file"))
                .stderr(
                    fs::OpenOptions::new()
                        .append(true)
                        .open(&log)
                        .expect("a log file"),
                )
                .spawn()
                .unwrap_or_else(|e| fail(format!("cannot start {}/postgres: {e}", bin.display())));
            cluster.port = port;
            cluster.child = Some(child);
            match cluster.wait_ready(&data) {
                Ok(()) => return cluster,
                Err(why) if attempt < 3 && why.contains("already in use") => {
                    cluster.stop();
                }
                Err(why) => fail(format!("the server did not start: {why}")),
            }
        }
        unreachable!()
    }

    /// Waits until the postmaster says it is ready (the status line of `postmaster.pid`).
    fn wait_ready(&mut self, data: &Path) -> Result<(), String> {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let child = self.child.as_mut().expect("started");
            if let Ok(Some(status)) = child.try_wait() {
                self.child = None;
                return Err(format!(
                    "it exited ({status}):\n{}",
                    tail(&self.root.join("server.log"))
                ));
            }
            let ready = fs::read_to_string(data.join("postmaster.pid"))
                .ok()
                .and_then(|text| text.lines().nth(7).map(|l| l.trim() == "ready"))
                .unwrap_or(false);
            if ready {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "not ready within 60 s:\n{}",
                    tail(&self.root.join("server.log"))
                ));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The server's PID.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("running").id()
    }

    /// The cluster's directory (data, socket, logs).
    pub fn dir(&self) -> &Path {
        &self.root
    }

    /// The port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The superuser's password (for the tests that check it never shows).
    pub fn password(&self) -> &str {
        &self.password
    }

    /// The URL of database `db` over TCP, with the password.
    pub fn url(&self, db: &str) -> String {
        format!(
            "postgresql://{USER}:{}@127.0.0.1:{}/{db}",
            self.password, self.port
        )
    }

    /// Settings for database `db` over the unix socket in the cluster's directory.
    pub fn socket_url(&self, db: &str) -> String {
        format!(
            "host={} port={} user={USER} dbname={db}",
            self.root.display(),
            self.port
        )
    }

    fn stop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        // SAFETY: signalling our own child by its PID (it has not been reaped: no reuse).
        unsafe {
            libc::kill(child.id() as libc::pid_t, libc::SIGQUIT);
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = child.kill();
        let _ = child.wait();
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        self.stop();
        let _ = fs::remove_dir_all(&self.root);
    }
}
