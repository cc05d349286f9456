//! The files that go with a journal file: its lock (one writer at a time) and its digest key.
//!
//! For a journal `onboard.journal`:
//! - `onboard.journal.lock` is locked exclusively (`flock` on Unix, `LockFileEx` on Windows) for as
//!   long as a process writes the journal, and names that process (pid, host, start time, what it
//!   runs). The operating system releases the lock when the process ends, however it ends (kill -9
//!   included), so a crash never leaves a stale lock. The file itself stays.
//! - `onboard.journal.key` holds the [`DigestKey`] of the journal's input digests, readable by its
//!   owner only. It is created with the journal and must travel with it.

use std::fs::{self, File, OpenOptions, TryLockError};
use std::io::{self, Read, Seek, Write};
use std::path::{Path, PathBuf};

use super::digest::DigestKey;

/// First line of a key file.
const KEY_FILE_HEADER: &str = "trusthub journal digest key v1";

/// `path` with `suffix` appended to its file name (`a.journal` + `.lock`).
pub fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// The directory holding `path` (`.` for a bare file name).
pub fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Makes the directory entries of `dir` durable (a created or renamed file survives a power loss).
pub fn sync_dir(dir: &Path) {
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}

/// Writes `contents` to `path` through a temporary file beside it, `fsync`, `rename` and an
/// `fsync` of the directory: after a crash `path` holds the old or the new contents, never a mix.
pub fn write_atomic(path: &Path, contents: &[u8]) -> io::Result<()> {
    let temp = sibling(path, ".tmp");
    {
        let mut file = File::create(&temp)?;
        file.write_all(contents)?;
        file.sync_all()?;
    }
    fs::rename(&temp, path)?;
    sync_dir(&parent_dir(path));
    Ok(())
}

/// The exclusive lock of a journal: while it is held, no other process (or other lock in this
/// process) can write the journal. Dropping it releases the lock.
///
/// ```
/// use trusthub::flow::JournalLock;
///
/// let dir = std::env::temp_dir().join(format!("trusthub-doc-lock-{}", std::process::id()));
/// std::fs::create_dir_all(&dir)?;
/// let journal = dir.join("onboard.journal");
/// let held = JournalLock::acquire(&journal, "trusthub onboard")?;
/// // A second writer is refused, and told who holds the journal.
/// let refused = JournalLock::acquire(&journal, "trusthub onboard").unwrap_err();
/// assert_eq!(refused.kind(), std::io::ErrorKind::WouldBlock);
/// assert!(refused.to_string().contains(&format!("pid {}", std::process::id())), "{refused}");
/// drop(held);
/// assert!(JournalLock::acquire(&journal, "trusthub onboard").is_ok());
/// std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug)]
pub struct JournalLock {
    _file: File,
    path: PathBuf,
}

impl JournalLock {
    /// Takes the lock of the journal at `journal` (the file `<journal>.lock`) and records this
    /// process as its holder, running `what`. When another holds it, fails with
    /// [`io::ErrorKind::WouldBlock`] and a message naming the holder.
    pub fn acquire(journal: &Path, what: &str) -> io::Result<JournalLock> {
        let path = sibling(journal, ".lock");
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| {
                io::Error::new(
                    e.kind(),
                    format!("cannot open the lock file {}: {e}", path.display()),
                )
            })?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let mut holder = String::new();
                let _ = file.read_to_string(&mut holder);
                let holder = holder.trim();
                let holder = if holder.is_empty() {
                    "another process (it has not written its name yet)".to_owned()
                } else {
                    trusthub_generated::runtime::text::printable(holder).into_owned()
                };
                return Err(io::Error::new(
                    io::ErrorKind::WouldBlock,
                    format!(
                        "the journal {} is in use by {holder}; one process at a time writes a \
                         journal: wait for that one to end (or stop it), then run again",
                        journal.display()
                    ),
                ));
            }
            Err(TryLockError::Error(e)) => {
                return Err(io::Error::new(
                    e.kind(),
                    format!("cannot lock {}: {e}", path.display()),
                ));
            }
        }
        let started = time::OffsetDateTime::now_utc()
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default();
        let holder = format!(
            "pid {} on {} since {started} ({what})\n",
            std::process::id(),
            hostname()
        );
        file.set_len(0)?;
        file.rewind()?;
        file.write_all(holder.as_bytes())?;
        Ok(JournalLock { _file: file, path })
    }

    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// This machine's name, for the lock holder's description.
fn hostname() -> String {
    fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .or_else(|| std::env::var("COMPUTERNAME").ok())
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "this host".to_owned())
}

/// The key file of the journal at `journal`: `<journal>.key`.
pub fn key_path(journal: &Path) -> PathBuf {
    sibling(journal, ".key")
}

/// Loads the digest key of the journal at `journal`, creating it when the journal is new
/// (`journal_exists` false). A journal that exists without its key is an error: its digests
/// could not be checked, and its rows not recognised.
pub fn load_or_create_key(journal: &Path, journal_exists: bool) -> io::Result<DigestKey> {
    let path = key_path(journal);
    match fs::read_to_string(&path) {
        Ok(text) => {
            let mut lines = text.lines();
            if lines.next() != Some(KEY_FILE_HEADER) {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!(
                        "{} is not a journal key file (its first line is not `{KEY_FILE_HEADER}`)",
                        path.display()
                    ),
                ));
            }
            DigestKey::from_hex(lines.next().unwrap_or_default())
                .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", path.display())))
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound && !journal_exists => {
            let key = DigestKey::generate()?;
            write_key(&path, &key)?;
            Ok(key)
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => Err(io::Error::new(
            io::ErrorKind::NotFound,
            format!(
                "the journal {} has no key file {}: the key of its input digests is kept there, \
                 and without it the journal cannot be checked against the input; restore the key \
                 file from where the journal came from",
                journal.display(),
                path.display()
            ),
        )),
        Err(e) => Err(io::Error::new(
            e.kind(),
            format!("cannot read {}: {e}", path.display()),
        )),
    }
}

/// Writes a key file readable by its owner only.
fn write_key(path: &Path, key: &DigestKey) -> io::Result<()> {
    let temp = sibling(path, ".tmp");
    {
        let mut options = OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = options.open(&temp)?;
        writeln!(file, "{KEY_FILE_HEADER}\n{}", key.to_hex())?;
        file.sync_all()?;
    }
    fs::rename(&temp, path)?;
    sync_dir(&parent_dir(path));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("trusthub-files-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir.join("flow.journal")
    }

    #[test]
    fn a_key_is_created_with_a_new_journal_and_required_with_an_old_one() {
        let journal = temp("key");
        let key = load_or_create_key(&journal, false).unwrap();
        assert_eq!(load_or_create_key(&journal, true).unwrap(), key);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(key_path(&journal))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        fs::remove_file(key_path(&journal)).unwrap();
        let missing = load_or_create_key(&journal, true).unwrap_err();
        assert_eq!(missing.kind(), io::ErrorKind::NotFound);
        assert!(missing.to_string().contains("has no key file"), "{missing}");
        fs::write(key_path(&journal), "something else\n").unwrap();
        let wrong = load_or_create_key(&journal, true).unwrap_err();
        assert!(
            wrong.to_string().contains("not a journal key file"),
            "{wrong}"
        );
        fs::remove_dir_all(journal.parent().unwrap()).unwrap();
    }
}
