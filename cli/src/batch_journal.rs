//! The batch journal: one append-only JSON-lines file holding the flow journal of every row.
//!
//! Each save of a row's flow appends one line, `{"row":N,"journal":{...}}`, and returns only
//! once the line is on disk (`fdatasync`). Saves arriving while a sync is under way wait for
//! the next one and share it (group commit): with dozens of flows in flight, a few syncs cover
//! many lines, so durability does not serialize the batch.
//!
//! Loading keeps the last line of each row. A last line cut short by a crash (no newline, or
//! not JSON) is ignored and cut off before anything is appended; any other unreadable line is
//! an error naming its line number (the file was damaged or is not a batch journal).
//!
//! The lines hold what [`Journal`] holds: SIDs, the flow id, a digest of the input, times, and
//! the row number. Never personal data.

use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};

use serde::{Deserialize, Serialize};
use trusthub::flow::{Journal, JournalStore};

/// One line of the file.
#[derive(Serialize, Deserialize)]
struct Line<J> {
    row: u64,
    journal: J,
}

/// What [`BatchJournal::open`] found in an existing file.
#[derive(Debug, Default)]
pub struct Loaded {
    /// The latest journal of each row.
    pub rows: BTreeMap<u64, Journal>,
    /// Complete lines read.
    pub lines: usize,
    /// Whether a torn last line was dropped.
    pub dropped_torn_line: bool,
}

#[derive(Debug, Default)]
struct SyncState {
    /// Bytes in the file (complete lines only).
    len: u64,
    /// Lines written so far (a ticket per line).
    written: u64,
    /// Lines known to be on disk.
    synced: u64,
    /// Whether a thread is syncing right now.
    syncing: bool,
}

/// The open batch journal. Shared by every row's [`RowStore`].
#[derive(Debug)]
pub struct BatchJournal {
    file: File,
    state: Mutex<SyncState>,
    synced: Condvar,
}

fn lock(state: &Mutex<SyncState>) -> MutexGuard<'_, SyncState> {
    state.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Runs blocking I/O without stalling the other tasks of a multi-threaded Tokio runtime.
fn blocking<T>(f: impl FnOnce() -> T) -> T {
    use tokio::runtime::{Handle, RuntimeFlavor};
    match Handle::try_current() {
        Ok(handle) if handle.runtime_flavor() == RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(f)
        }
        _ => f(),
    }
}

impl BatchJournal {
    /// Opens (or creates) the file at `path` and loads what it holds.
    pub fn open(path: &Path) -> io::Result<(Arc<BatchJournal>, Loaded)> {
        let existed = path.exists();
        let text = match fs::read(path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(e),
        };
        let mut loaded = Loaded::default();
        let mut valid_len = 0usize;
        let mut start = 0usize;
        let mut line_no = 0usize;
        while start < text.len() {
            line_no += 1;
            let end = text[start..]
                .iter()
                .position(|b| *b == b'\n')
                .map(|i| start + i);
            let (content, next, terminated) = match end {
                Some(end) => (&text[start..end], end + 1, true),
                None => (&text[start..], text.len(), false),
            };
            let is_last = next >= text.len();
            match serde_json::from_slice::<Line<Journal>>(content) {
                Ok(line) if terminated => {
                    loaded.rows.insert(line.row, line.journal);
                    loaded.lines += 1;
                    valid_len = next;
                }
                _ if is_last => {
                    loaded.dropped_torn_line = true;
                }
                Ok(_) | Err(_) => {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        format!(
                            "{}: line {line_no} is not a batch journal line (the file is damaged, \
                             or is not a `trusthub onboard` journal); move the file away to start \
                             over, or delete that line to resume the other rows",
                            path.display()
                        ),
                    ))
                }
            }
            start = next;
        }
        let file = OpenOptions::new().create(true).append(true).open(path)?;
        if loaded.dropped_torn_line {
            file.set_len(valid_len as u64)?;
            file.sync_all()?;
        }
        if !existed {
            // Make the new file's directory entry durable too.
            let dir = match path.parent() {
                Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
                _ => PathBuf::from("."),
            };
            if let Ok(d) = File::open(dir) {
                let _ = d.sync_all();
            }
        }
        let journal = BatchJournal {
            file,
            state: Mutex::new(SyncState {
                len: valid_len as u64,
                ..SyncState::default()
            }),
            synced: Condvar::new(),
        };
        Ok((Arc::new(journal), loaded))
    }

    /// Appends the line of `row` and returns once it is on disk.
    pub fn append(&self, row: u64, journal: &Journal) -> io::Result<()> {
        let mut line = serde_json::to_vec(&Line { row, journal })
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
        line.push(b'\n');
        blocking(|| {
            let ticket = {
                let mut state = lock(&self.state);
                // Written under the lock: lines never interleave.
                if let Err(e) = (&self.file).write_all(&line) {
                    // Do not leave half a line for the next one to be glued to.
                    let _ = self.file.set_len(state.len);
                    return Err(e);
                }
                state.len += line.len() as u64;
                state.written += 1;
                state.written
            };
            self.wait_durable(ticket)
        })
    }

    /// Waits until line `ticket` is synced, syncing itself when no one else is.
    fn wait_durable(&self, ticket: u64) -> io::Result<()> {
        let mut state = lock(&self.state);
        loop {
            if state.synced >= ticket {
                return Ok(());
            }
            if state.syncing {
                state = self
                    .synced
                    .wait(state)
                    .unwrap_or_else(PoisonError::into_inner);
                continue;
            }
            state.syncing = true;
            let target = state.written;
            drop(state);
            let result = self.file.sync_data();
            state = lock(&self.state);
            state.syncing = false;
            if result.is_ok() {
                state.synced = state.synced.max(target);
            }
            self.synced.notify_all();
            result?;
        }
    }
}

/// The error a [`RowStore`] returns once the batch is stopping: the line was saved, and the
/// flow stops here (the facade reports it as a journal error at this step).
#[derive(Debug)]
pub struct Stopping;

impl std::fmt::Display for Stopping {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the batch is stopping (progress saved)")
    }
}

impl std::error::Error for Stopping {}

/// Whether an I/O error is [`Stopping`].
pub fn is_stopping(error: &io::Error) -> bool {
    error.get_ref().is_some_and(|e| e.is::<Stopping>())
}

/// Whether a row's journal shows it done: evaluated, and submitted when `submit` asks for it
/// and the evaluation was compliant.
pub fn finished(journal: &Journal, submit: bool) -> bool {
    journal.evaluation.is_some()
        && journal.compliant.is_some()
        && (!submit || journal.submitted || journal.compliant == Some(false))
}

/// The journal store of one row: appends to the batch journal, remembers the latest journal,
/// and, once `stop` is set, ends the flow at its next step with the step saved (unless that
/// step finished the row: then there is nothing left to stop).
#[derive(Debug, Clone)]
pub struct RowStore {
    file: Arc<BatchJournal>,
    row: u64,
    submit: bool,
    stop: Arc<AtomicBool>,
    latest: Arc<Mutex<Option<Journal>>>,
}

impl RowStore {
    /// The store of `row`, starting from the journal it already has (if any); `submit` says
    /// whether the row ends with its submission.
    pub fn new(
        file: Arc<BatchJournal>,
        row: u64,
        submit: bool,
        stop: Arc<AtomicBool>,
        latest: Option<Journal>,
    ) -> Self {
        RowStore {
            file,
            row,
            submit,
            stop,
            latest: Arc::new(Mutex::new(latest)),
        }
    }

    /// The latest journal saved for the row.
    pub fn latest(&self) -> Option<Journal> {
        self.latest
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

impl JournalStore for RowStore {
    fn save(&self, journal: &Journal) -> io::Result<()> {
        self.file.append(self.row, journal)?;
        *self.latest.lock().unwrap_or_else(PoisonError::into_inner) = Some(journal.clone());
        if self.stop.load(Ordering::SeqCst) && !finished(journal, self.submit) {
            return Err(io::Error::new(io::ErrorKind::Interrupted, Stopping));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "trusthub-cli-journal-{name}-{}",
            std::process::id()
        ));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir.join("batch.journal")
    }

    fn journal(flow: &str) -> Journal {
        Journal::from_json(&format!(
            r#"{{"format":1,"flow_id":"{flow}","input_digest":"00","started_at":"2026-01-01T00:00:00Z",
            "policy":null,"bundle":null,"end_users":{{}},"address":null,"address_created":false,
            "document":null,"entity_assignments":{{}},"channel_endpoint_assignments":{{}},
            "evaluation":null,"compliant":null,"submitted":false}}"#
        ))
        .unwrap()
    }

    #[test]
    fn the_last_line_of_each_row_wins_and_a_torn_line_is_dropped() {
        let path = temp("torn");
        {
            let (file, loaded) = BatchJournal::open(&path).unwrap();
            assert!(loaded.rows.is_empty());
            file.append(1, &journal("th-a")).unwrap();
            file.append(2, &journal("th-b")).unwrap();
            file.append(1, &journal("th-c")).unwrap();
        }
        // A crash in the middle of a line.
        let mut f = OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(br#"{"row":2,"journal":{"format":1,"flow_"#)
            .unwrap();
        drop(f);
        let (file, loaded) = BatchJournal::open(&path).unwrap();
        assert!(loaded.dropped_torn_line);
        assert_eq!(loaded.lines, 3);
        assert_eq!(loaded.rows[&1].flow_id, "th-c");
        assert_eq!(loaded.rows[&2].flow_id, "th-b");
        // The torn tail was cut: new lines stay readable.
        file.append(2, &journal("th-d")).unwrap();
        drop(file);
        let (_, loaded) = BatchJournal::open(&path).unwrap();
        assert!(!loaded.dropped_torn_line);
        assert_eq!(loaded.rows[&2].flow_id, "th-d");
        fs::remove_dir_all(path.parent().unwrap()).unwrap();
    }

    #[test]
    fn a_damaged_middle_line_is_an_error_naming_it() {
        let path = temp("damaged");
        {
            let (file, _) = BatchJournal::open(&path).unwrap();
            file.append(1, &journal("th-a")).unwrap();
        }
        let good_line = fs::read(&path).unwrap();
        let mut f = OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(b"not json\n").unwrap();
        f.write_all(&good_line).unwrap();
        drop(f);
        let error = BatchJournal::open(&path).unwrap_err().to_string();
        assert!(error.contains("line 2"), "{error}");
        fs::remove_dir_all(path.parent().unwrap()).unwrap();
    }

    #[test]
    fn a_stopping_store_saves_then_stops() {
        let path = temp("stop");
        let (file, _) = BatchJournal::open(&path).unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let store = RowStore::new(file, 7, true, stop.clone(), None);
        store.save(&journal("th-1")).unwrap();
        stop.store(true, Ordering::SeqCst);
        let mut evaluated = journal("th-1");
        evaluated.evaluation = Some("EL0123456789abcdef0123456789abcdef".parse().unwrap());
        evaluated.compliant = Some(true);
        let error = store.save(&evaluated).unwrap_err();
        assert!(is_stopping(&error));
        assert_eq!(store.latest().unwrap(), evaluated);
        let (_, loaded) = BatchJournal::open(&path).unwrap();
        assert_eq!(loaded.rows[&7], evaluated);
        // The save that finishes the row (here, the submission) does not stop it.
        evaluated.submitted = true;
        store.save(&evaluated).unwrap();
        fs::remove_dir_all(path.parent().unwrap()).unwrap();
    }

    #[test]
    fn concurrent_appends_are_all_durable_and_whole() {
        let path = temp("concurrent");
        let (file, _) = BatchJournal::open(&path).unwrap();
        std::thread::scope(|s| {
            for t in 0..8u64 {
                let file = &file;
                s.spawn(move || {
                    for i in 0..25u64 {
                        file.append(t * 100 + i, &journal(&format!("th-{t}-{i}")))
                            .unwrap();
                    }
                });
            }
        });
        let (_, loaded) = BatchJournal::open(&path).unwrap();
        assert_eq!(loaded.lines, 200);
        assert_eq!(loaded.rows.len(), 200);
        assert_eq!(loaded.rows[&724].flow_id, "th-7-24");
        fs::remove_dir_all(path.parent().unwrap()).unwrap();
    }
}
