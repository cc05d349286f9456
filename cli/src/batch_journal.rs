//! The batch journal: one append-only JSON-lines file holding the flow journal of every customer
//! of a batch, keyed by the customer's key (never by row number: rows move when a CSV is edited).
//!
//! - The first line is a header (`{"trusthub_batch_journal":2,"key_id":...}`); a journal file is
//!   created with it atomically, so an existing journal without one was truncated or is not a
//!   batch journal, and is refused rather than silently restarted.
//! - Each save of a customer's flow appends one line, `{"key":K,"journal":{...}}` the first time
//!   and `{"key":K,"patch":{...}}` after that: a JSON merge patch (RFC 7396) of what changed,
//!   typically under 200 bytes. The save returns only once the line is on disk (`fdatasync`).
//!   Saves arriving while a sync is under way wait for the next one and share it (group
//!   commit): with dozens of flows in flight, a few syncs cover many lines.
//! - Loading replays the lines. A last line cut short by a crash (no newline, or not JSON) is
//!   dropped and cut off before anything is appended; any other unreadable line is an error
//!   naming its line number. When the file holds more than twice as many lines as customers (the
//!   history of earlier runs), it is compacted first: rewritten with one full line per customer
//!   (temporary file, `fsync`, `rename`), so a resume reads no more than the last run's history.
//! - The file is written by one process at a time ([`JournalLock`], `<journal>.lock`), and its
//!   digest key lives in `<journal>.key` (see [`trusthub::flow::files`]).
//! - Across customers, the journal knows which SIDs each one owns and which creates each one
//!   has in flight: a lookup of one customer's lost create never takes another's resource.
//!
//! The lines hold what [`Journal`] holds: SIDs, the flow id, keyed digests of the input, times,
//! and the keyed digest of the customer key. Never personal data. A customer of the A2P 10DLC
//! journey has its progress in the journal's nested `a2p` object (trust product, brand, service,
//! campaign, last statuses seen); patches reach into it like into any object, its SIDs are
//! owned like the profile's ([`Journal::owned_sids`]), and its intents (`a2p.*` keys) count as
//! rivals like the bundle's: two customers whose trust products (or new services) share their
//! name and email are never handed each other's lost create.

use std::collections::{BTreeMap, HashMap};
use std::fs::{File, OpenOptions};
use std::io::{self, BufRead, BufReader, Write};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use trusthub::flow::{
    files, DigestKey, Intent, Journal, JournalLock, JournalStore, TrustProductKind,
};
use trusthub::sid::ObjectSid;

/// The batch journal format this version writes and reads.
pub const BATCH_FORMAT: u32 = 2;

/// The first line.
#[derive(Serialize, Deserialize)]
struct Header {
    trusthub_batch_journal: u32,
    key_id: String,
    created: String,
}

/// Every other line.
#[derive(Serialize, Deserialize)]
struct Line {
    key: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    journal: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    patch: Option<Value>,
}

/// What [`BatchJournal::open`] found in an existing file.
#[derive(Debug, Default)]
pub struct Loaded {
    /// The latest journal of each customer, by customer key digest.
    pub customers: BTreeMap<String, Journal>,
    /// Lines read (the header excluded).
    pub lines: usize,
    /// Whether a torn last line was dropped.
    pub dropped_torn_line: bool,
    /// Lines before compaction, when the file was compacted on opening.
    pub compacted_from: Option<usize>,
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

/// Who owns what, across the customers of the journal.
#[derive(Debug, Default)]
struct Registry {
    /// SID -> the customer key digest that owns (or claimed) it.
    owners: HashMap<ObjectSid, String>,
    /// Customer key digest -> its open intents.
    intents: HashMap<String, BTreeMap<String, Intent>>,
}

impl Registry {
    fn record(&mut self, customer: &str, journal: &Journal) {
        for sid in journal.owned_sids() {
            self.owners
                .entry(sid)
                .or_insert_with(|| customer.to_owned());
        }
        if journal.intents.is_empty() {
            self.intents.remove(customer);
        } else {
            self.intents
                .insert(customer.to_owned(), journal.intents.clone());
        }
    }
}

/// The open batch journal. Shared by every customer's [`RowStore`].
#[derive(Debug)]
pub struct BatchJournal {
    file: File,
    key: DigestKey,
    state: Mutex<SyncState>,
    synced: Condvar,
    registry: Mutex<Registry>,
    /// Set by the first failed write: the batch starts no new customer after it.
    failed: AtomicBool,
    /// The first failed write's error.
    first_error: Mutex<Option<String>>,
    _lock: JournalLock,
}

fn lock<T>(state: &Mutex<T>) -> MutexGuard<'_, T> {
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

fn invalid(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message)
}

/// The JSON merge patch (RFC 7396) that turns `old` into `new`; `None` when they are equal.
pub fn merge_patch(old: &Value, new: &Value) -> Option<Value> {
    match (old, new) {
        (Value::Object(a), Value::Object(b)) => {
            let mut patch = Map::new();
            for (k, v) in b {
                match a.get(k) {
                    Some(old) => {
                        if let Some(p) = merge_patch(old, v) {
                            patch.insert(k.clone(), p);
                        }
                    }
                    None if v.is_null() => {}
                    None => {
                        patch.insert(k.clone(), v.clone());
                    }
                }
            }
            for k in a.keys() {
                if !b.contains_key(k) || (b[k].is_null() && !a[k].is_null()) {
                    patch.insert(k.clone(), Value::Null);
                }
            }
            (!patch.is_empty()).then_some(Value::Object(patch))
        }
        _ if old == new => None,
        _ => Some(new.clone()),
    }
}

/// Applies a JSON merge patch (RFC 7396) to `target`.
pub fn apply_patch(target: &mut Value, patch: &Value) {
    let Value::Object(fields) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    let object = target.as_object_mut().expect("made an object above");
    for (k, v) in fields {
        if v.is_null() {
            object.remove(k);
        } else {
            apply_patch(object.entry(k.clone()).or_insert(Value::Null), v);
        }
    }
}

impl BatchJournal {
    /// Opens (or creates) the journal at `path` for this process (`what` names the command in
    /// the lock), and loads what it holds. Refused when another process holds it, when its key
    /// file is missing, or when it is empty, truncated at its header or of another format.
    pub fn open(path: &Path, what: &str) -> io::Result<(Arc<BatchJournal>, Loaded)> {
        let lock = JournalLock::acquire(path, what)?;
        let exists = path.exists();
        let key = files::load_or_create_key(path, exists)?;
        let mut loaded = Loaded::default();
        let mut replayed: BTreeMap<String, Replay> = BTreeMap::new();
        let valid_len = if exists {
            read_lines(path, &key, &mut replayed, &mut loaded)?
        } else {
            let header = header_line(&key)?;
            files::write_atomic(path, &header)?;
            header.len() as u64
        };
        for (customer, state) in replayed {
            let journal = state.into_journal().map_err(|e| {
                invalid(format!(
                    "{}: the journal of customer {customer} does not read as a flow journal \
                     ({e}); the file is damaged",
                    path.display()
                ))
            })?;
            loaded.customers.insert(customer, journal);
        }
        let mut valid_len = valid_len;
        if loaded.lines > 2 * loaded.customers.len() + 64 {
            valid_len = compact(path, &key, &loaded.customers)?;
            loaded.compacted_from = Some(loaded.lines);
        }
        let file = OpenOptions::new().append(true).open(path)?;
        if loaded.dropped_torn_line && loaded.compacted_from.is_none() {
            file.set_len(valid_len)?;
            file.sync_all()?;
        }
        let mut registry = Registry::default();
        for (customer, journal) in &loaded.customers {
            registry.record(customer, journal);
        }
        let journal = BatchJournal {
            file,
            key,
            state: Mutex::new(SyncState {
                len: valid_len,
                ..SyncState::default()
            }),
            synced: Condvar::new(),
            registry: Mutex::new(registry),
            failed: AtomicBool::new(false),
            first_error: Mutex::new(None),
            _lock: lock,
        };
        Ok((Arc::new(journal), loaded))
    }

    /// The key of the input digests (and of the customer keys' digests).
    pub fn key(&self) -> &DigestKey {
        &self.key
    }

    /// Whether a write failed (disk full, I/O error): the batch must start no new customer.
    pub fn failed(&self) -> bool {
        self.failed.load(Ordering::SeqCst)
    }

    /// The first failed write's error, if a write failed.
    pub fn first_error(&self) -> Option<String> {
        lock(&self.first_error).clone()
    }

    /// Appends one line and returns once it is on disk.
    fn append(&self, line: &Line) -> io::Result<()> {
        let mut bytes = serde_json::to_vec(line).map_err(|e| invalid(e.to_string()))?;
        bytes.push(b'\n');
        let result = blocking(|| {
            let ticket = {
                let mut state = lock(&self.state);
                // Written under the lock: lines never interleave.
                if let Err(e) = (&self.file).write_all(&bytes) {
                    // Do not leave half a line for the next one to be glued to.
                    let _ = self.file.set_len(state.len);
                    return Err(e);
                }
                state.len += bytes.len() as u64;
                state.written += 1;
                state.written
            };
            self.wait_durable(ticket)
        });
        if let Err(e) = &result {
            lock(&self.first_error).get_or_insert_with(|| e.to_string());
            self.failed.store(true, Ordering::SeqCst);
        }
        result
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

fn header_line(key: &DigestKey) -> io::Result<Vec<u8>> {
    let header = Header {
        trusthub_batch_journal: BATCH_FORMAT,
        key_id: key.id(),
        created: time::OffsetDateTime::now_utc()
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default(),
    };
    let mut bytes = serde_json::to_vec(&header).map_err(|e| invalid(e.to_string()))?;
    bytes.push(b'\n');
    Ok(bytes)
}

/// A customer's journal while the file is replayed: typed (a full line read, the compact form),
/// or as JSON once a patch had to be applied (the history of a run).
enum Replay {
    Journal(Box<Journal>),
    Value(Value),
}

impl Replay {
    fn patch(&mut self, patch: &Value) -> serde_json::Result<()> {
        if let Replay::Journal(journal) = self {
            *self = Replay::Value(serde_json::to_value(&*journal)?);
        }
        if let Replay::Value(value) = self {
            apply_patch(value, patch);
        }
        Ok(())
    }

    fn into_journal(self) -> serde_json::Result<Journal> {
        match self {
            Replay::Journal(journal) => Ok(*journal),
            Replay::Value(value) => serde_json::from_value(value),
        }
    }
}

/// Replays the file into `replayed`; returns the length of its complete, valid lines.
fn read_lines(
    path: &Path,
    key: &DigestKey,
    replayed: &mut BTreeMap<String, Replay>,
    loaded: &mut Loaded,
) -> io::Result<u64> {
    let mut reader = BufReader::new(File::open(path)?);
    let mut buffer = Vec::new();
    let mut valid_len = 0u64;
    let mut line_no = 0usize;
    loop {
        buffer.clear();
        let read = reader.read_until(b'\n', &mut buffer)?;
        if read == 0 {
            break;
        }
        line_no += 1;
        let terminated = buffer.last() == Some(&b'\n');
        let content = if terminated {
            &buffer[..buffer.len() - 1]
        } else {
            &buffer[..]
        };
        if line_no == 1 {
            if !terminated {
                return Err(invalid(format!(
                    "{} holds no complete header line: the journal was truncated, so what its \
                     customers created is not known; nothing was resumed. Restore it, or, if \
                     you are sure no customer was started with it, delete it to start over",
                    path.display()
                )));
            }
            check_header(path, key, content)?;
            valid_len += read as u64;
            continue;
        }
        let parsed = serde_json::from_slice::<Line>(content);
        let at_end = !terminated || reader.fill_buf()?.is_empty();
        match parsed {
            Ok(line) if terminated => {
                match (line.journal, line.patch) {
                    (Some(journal), None) => {
                        // Typed at once: a compacted journal never holds JSON trees.
                        let journal =
                            serde_json::from_value(journal).map_err(|_| damaged(path, line_no))?;
                        replayed.insert(line.key, Replay::Journal(Box::new(journal)));
                    }
                    (None, Some(patch)) => match replayed.get_mut(&line.key) {
                        Some(state) => state.patch(&patch).map_err(|_| damaged(path, line_no))?,
                        None => return Err(damaged(path, line_no)),
                    },
                    _ => return Err(damaged(path, line_no)),
                }
                loaded.lines += 1;
                valid_len += read as u64;
            }
            _ if at_end => loaded.dropped_torn_line = true,
            _ => return Err(damaged(path, line_no)),
        }
    }
    if line_no == 0 {
        return Err(invalid(format!(
            "{} is empty: the journal was truncated, so what its customers created is not \
             known; nothing was resumed. Restore it, or, if you are sure no customer was \
             started with it, delete it to start over",
            path.display()
        )));
    }
    Ok(valid_len)
}

fn check_header(path: &Path, key: &DigestKey, content: &[u8]) -> io::Result<()> {
    match serde_json::from_slice::<Header>(content) {
        Ok(header) if header.trusthub_batch_journal != BATCH_FORMAT => Err(invalid(format!(
            "{} is a batch journal of format {}, this version reads {BATCH_FORMAT}",
            path.display(),
            header.trusthub_batch_journal
        ))),
        Ok(header) if header.key_id != key.id() => Err(invalid(format!(
            "{} was written with digest key {}, but its key file holds key {}: put back the key \
             file the journal was written with",
            path.display(),
            header.key_id,
            key.id()
        ))),
        Ok(_) => Ok(()),
        Err(_) => {
            let v1 = serde_json::from_slice::<Value>(content)
                .ok()
                .is_some_and(|v| v.get("row").is_some());
            Err(invalid(if v1 {
                format!(
                    "{} was written by trusthub 0.1 (format 1, rows by number): finish that \
                     batch with trusthub 0.1, or start a new journal",
                    path.display()
                )
            } else {
                format!(
                    "{}: line 1 is not a batch journal header (the file is damaged, or is not a \
                     `trusthub onboard` journal)",
                    path.display()
                )
            }))
        }
    }
}

fn damaged(path: &Path, line_no: usize) -> io::Error {
    invalid(format!(
        "{}: line {line_no} is not a batch journal line (the file is damaged, or is not a \
         `trusthub onboard` journal); move the file away to start over, or delete that line to \
         resume the other customers",
        path.display()
    ))
}

/// Rewrites the journal with one full line per customer; returns its new length.
fn compact(path: &Path, key: &DigestKey, customers: &BTreeMap<String, Journal>) -> io::Result<u64> {
    let mut bytes = header_line(key)?;
    for (customer, journal) in customers {
        let line = Line {
            key: customer.clone(),
            journal: Some(serde_json::to_value(journal).map_err(|e| invalid(e.to_string()))?),
            patch: None,
        };
        serde_json::to_writer(&mut bytes, &line).map_err(|e| invalid(e.to_string()))?;
        bytes.push(b'\n');
    }
    files::write_atomic(path, &bytes)?;
    Ok(bytes.len() as u64)
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

/// Where a customer's flow ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Goal {
    /// The profile flow's `--submit` (a journey or voice products always submit the profile).
    pub submit: bool,
    /// The A2P 10DLC journey: the campaign verified.
    pub journey: bool,
    /// The SHAKEN/STIR trust product submitted.
    pub shaken_stir: bool,
    /// The CNAM trust product submitted.
    pub cnam: bool,
}

impl Goal {
    /// The profile flow alone: evaluated, and submitted when `submit` and compliant.
    pub const fn profile(submit: bool) -> Goal {
        Goal {
            submit,
            journey: false,
            shaken_stir: false,
            cnam: false,
        }
    }

    /// The A2P 10DLC journey.
    pub const JOURNEY: Goal = Goal {
        submit: true,
        journey: true,
        shaken_stir: false,
        cnam: false,
    };

    /// Whether voice trust products are asked for.
    pub fn voice(self) -> bool {
        self.shaken_stir || self.cnam
    }
}

/// The campaign status of a registered customer, as the journal keeps it.
pub const CAMPAIGN_VERIFIED: &str = "VERIFIED";

/// Whether a customer's journal shows it done. A profile: evaluated, and submitted when
/// `submit` asks for it and the evaluation was compliant. A journey: its campaign verified
/// (anything short of that, a failed brand or campaign included, is looked at again by the
/// next run, which only fetches what exists). Voice products: each one asked for submitted
/// (with the journey's goal, when the row has both).
pub fn finished(journal: &Journal, goal: Goal) -> bool {
    let voice = [
        (goal.shaken_stir, TrustProductKind::ShakenStir),
        (goal.cnam, TrustProductKind::Cnam),
    ]
    .into_iter()
    .filter(|(asked, _)| *asked)
    .all(|(_, kind)| journal.voice.get(&kind).is_some_and(|p| p.submitted));
    let main = if goal.journey {
        journal
            .a2p
            .as_ref()
            .is_some_and(|a| a.campaign_status.as_deref() == Some(CAMPAIGN_VERIFIED))
    } else if goal.voice() {
        // The voice products are submitted after the profile: nothing more to ask.
        true
    } else {
        journal.evaluation.is_some()
            && journal.compliant.is_some()
            && (!goal.submit || journal.submitted || journal.compliant == Some(false))
    };
    main && voice
}

/// Whether a journey's journal shows it waiting for a review (or a failed one): its brand
/// exists and no create is in flight, so what runs now only fetches (until the brand is
/// approved and the campaign is to be created, which saves its intent first).
pub fn awaiting_review(journal: &Journal) -> bool {
    journal.intents.is_empty() && journal.a2p.as_ref().is_some_and(|a| a.brand.is_some())
}

/// The journal store of one customer: appends to the batch journal, remembers the latest journal,
/// answers for the other customers of the journal (who owns what), and, once `stop` is set, ends
/// the flow at its next step with the step saved (unless that step finished the customer: then
/// there is nothing left to stop). A worker's row store saves to its job's lease instead
/// ([`RowStore::leased`]), with the same stop and the same memory of the latest journal.
#[derive(Debug, Clone)]
pub struct RowStore {
    backend: Backend,
    goal: Goal,
    stop: Arc<AtomicBool>,
    latest: Arc<Mutex<Option<Journal>>>,
}

/// Where a [`RowStore`] saves.
#[derive(Debug, Clone)]
enum Backend {
    /// A customer of the batch journal.
    Batch {
        file: Arc<BatchJournal>,
        customer: String,
        /// What the file holds for this customer (the base of the next patch).
        on_disk: Arc<Mutex<Option<Value>>>,
    },
    /// A job of the PostgreSQL store, under its lease.
    Lease {
        store: trusthub_postgres::PgJournalStore,
        /// Set when a save was refused because the lease is over (another worker owns the job).
        lost: Arc<AtomicBool>,
    },
}

impl RowStore {
    /// The store of the customer whose key digest is `customer`, starting from the journal it
    /// already has (if any); `goal` says where the customer's flow ends.
    pub fn new(
        file: Arc<BatchJournal>,
        customer: String,
        goal: Goal,
        stop: Arc<AtomicBool>,
        latest: Option<Journal>,
    ) -> Self {
        let on_disk = latest.as_ref().and_then(|j| serde_json::to_value(j).ok());
        RowStore {
            backend: Backend::Batch {
                file,
                customer,
                on_disk: Arc::new(Mutex::new(on_disk)),
            },
            goal,
            stop,
            latest: Arc::new(Mutex::new(latest)),
        }
    }

    /// The store of a leased job of the PostgreSQL store (`store`: the lease's), starting from
    /// the journal the job has (if any).
    pub fn leased(
        store: trusthub_postgres::PgJournalStore,
        goal: Goal,
        stop: Arc<AtomicBool>,
        latest: Option<Journal>,
    ) -> Self {
        RowStore {
            backend: Backend::Lease {
                store,
                lost: Arc::new(AtomicBool::new(false)),
            },
            goal,
            stop,
            latest: Arc::new(Mutex::new(latest)),
        }
    }

    /// The latest journal saved for the customer.
    pub fn latest(&self) -> Option<Journal> {
        lock(&self.latest).clone()
    }

    /// Whether a save was refused because the job's lease is over (a leased store only): the
    /// job belongs to whichever worker holds it now.
    pub fn lease_lost(&self) -> bool {
        match &self.backend {
            Backend::Lease { lost, .. } => lost.load(Ordering::SeqCst),
            Backend::Batch { .. } => false,
        }
    }

    fn inner(&self) -> Option<&dyn JournalStore> {
        match &self.backend {
            Backend::Lease { store, .. } => Some(store),
            Backend::Batch { .. } => None,
        }
    }
}

impl JournalStore for RowStore {
    fn save(&self, journal: &Journal) -> io::Result<()> {
        match &self.backend {
            Backend::Batch {
                file,
                customer,
                on_disk,
            } => {
                let value = serde_json::to_value(journal).map_err(|e| invalid(e.to_string()))?;
                {
                    // Held across the append: two saves of one customer never race their patches.
                    let mut on_disk = lock(on_disk);
                    let line = match on_disk.as_ref() {
                        None => Some(Line {
                            key: customer.clone(),
                            journal: Some(value.clone()),
                            patch: None,
                        }),
                        Some(old) => merge_patch(old, &value).map(|patch| Line {
                            key: customer.clone(),
                            journal: None,
                            patch: Some(patch),
                        }),
                    };
                    if let Some(line) = line {
                        file.append(&line)?;
                        *on_disk = Some(value);
                    }
                }
                lock(&file.registry).record(customer, journal);
            }
            Backend::Lease { store, lost } => {
                if let Err(e) = store.save(journal) {
                    if trusthub_postgres::is_lease_lost(&e) {
                        lost.store(true, Ordering::SeqCst);
                    }
                    return Err(e);
                }
            }
        }
        *lock(&self.latest) = Some(journal.clone());
        if self.stop.load(Ordering::SeqCst) && !finished(journal, self.goal) {
            return Err(io::Error::new(io::ErrorKind::Interrupted, Stopping));
        }
        Ok(())
    }

    fn digest_key(&self) -> &DigestKey {
        match &self.backend {
            Backend::Batch { file, .. } => &file.key,
            Backend::Lease { store, .. } => store.digest_key(),
        }
    }

    fn held_elsewhere(&self, journal: &Journal, sid: ObjectSid) -> bool {
        if let Some(inner) = self.inner() {
            return inner.held_elsewhere(journal, sid);
        }
        let Backend::Batch { file, customer, .. } = &self.backend else {
            unreachable!("a batch store")
        };
        lock(&file.registry)
            .owners
            .get(&sid)
            .is_some_and(|owner| owner != customer)
    }

    fn try_claim(&self, journal: &Journal, sid: ObjectSid) -> bool {
        if let Some(inner) = self.inner() {
            return inner.try_claim(journal, sid);
        }
        let Backend::Batch { file, customer, .. } = &self.backend else {
            unreachable!("a batch store")
        };
        let mut registry = lock(&file.registry);
        match registry.owners.get(&sid) {
            Some(owner) => owner == customer,
            None => {
                registry.owners.insert(sid, customer.clone());
                true
            }
        }
    }

    fn rivals(&self, journal: &Journal, key: &str, intent: &Intent) -> usize {
        if let Some(inner) = self.inner() {
            return inner.rivals(journal, key, intent);
        }
        let Backend::Batch { file, customer, .. } = &self.backend else {
            unreachable!("a batch store")
        };
        let Some(criteria) = &intent.criteria else {
            return 0;
        };
        lock(&file.registry)
            .intents
            .iter()
            .filter(|(c, intents)| {
                c.as_str() != customer.as_str()
                    && intents
                        .get(key)
                        .is_some_and(|i| i.criteria.as_ref() == Some(criteria))
            })
            .count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;
    use std::path::PathBuf;

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
            r#"{{"format":2,"flow_id":"{flow}","key_id":"00","started_at":"2026-01-01T00:00:00Z"}}"#
        ))
        .unwrap()
    }

    fn store(file: &Arc<BatchJournal>, customer: &str) -> RowStore {
        RowStore::new(
            file.clone(),
            customer.into(),
            Goal::profile(true),
            Arc::new(AtomicBool::new(false)),
            None,
        )
    }

    #[test]
    fn patches_round_trip() {
        let old = serde_json::json!({"a": 1, "b": {"c": "x", "d": "y"}, "e": null, "f": [1]});
        let new = serde_json::json!({"a": 1, "b": {"c": "z"}, "e": "set", "f": [1, 2], "g": null});
        let patch = merge_patch(&old, &new).unwrap();
        assert_eq!(
            patch,
            serde_json::json!({"b": {"c": "z", "d": null}, "e": "set", "f": [1, 2]})
        );
        let mut applied = old.clone();
        apply_patch(&mut applied, &patch);
        assert_eq!(
            applied,
            serde_json::json!({"a": 1, "b": {"c": "z"}, "e": "set", "f": [1, 2]})
        );
        assert_eq!(merge_patch(&new, &new), None);
    }

    #[test]
    fn the_last_state_of_each_customer_wins_and_a_torn_line_is_dropped() {
        let path = temp("torn");
        {
            let (file, loaded) = BatchJournal::open(&path, "test").unwrap();
            assert!(loaded.customers.is_empty());
            let a = store(&file, "ka");
            let b = store(&file, "kb");
            a.save(&journal("th-a")).unwrap();
            b.save(&journal("th-b")).unwrap();
            let mut later = journal("th-a");
            later.submitted = true;
            a.save(&later).unwrap();
        }
        // A crash in the middle of a line.
        let mut f = OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(br#"{"key":"kb","patch":{"submit"#).unwrap();
        drop(f);
        let (file, loaded) = BatchJournal::open(&path, "test").unwrap();
        assert!(loaded.dropped_torn_line);
        assert_eq!(loaded.lines, 3);
        assert!(loaded.customers["ka"].submitted);
        assert_eq!(loaded.customers["kb"].flow_id, "th-b");
        // The torn tail was cut: new lines stay readable.
        let b = RowStore::new(
            file.clone(),
            "kb".into(),
            Goal::profile(true),
            Arc::new(AtomicBool::new(false)),
            Some(loaded.customers["kb"].clone()),
        );
        let mut evaluated = journal("th-b");
        evaluated.compliant = Some(true);
        b.save(&evaluated).unwrap();
        drop((b, file));
        let (_, loaded) = BatchJournal::open(&path, "test").unwrap();
        assert!(!loaded.dropped_torn_line);
        assert_eq!(loaded.customers["kb"].compliant, Some(true));
        fs::remove_dir_all(path.parent().unwrap()).unwrap();
    }

    #[test]
    fn a_damaged_middle_line_an_empty_file_or_a_second_writer_are_errors() {
        let path = temp("damaged");
        {
            let (file, _) = BatchJournal::open(&path, "test").unwrap();
            let second = BatchJournal::open(&path, "test").unwrap_err();
            assert_eq!(second.kind(), io::ErrorKind::WouldBlock);
            store(&file, "ka").save(&journal("th-a")).unwrap();
        }
        let text = fs::read(&path).unwrap();
        let mut f = OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(b"not json\n").unwrap();
        f.write_all(&text[text.iter().position(|b| *b == b'\n').unwrap() + 1..])
            .unwrap();
        drop(f);
        let error = BatchJournal::open(&path, "test").unwrap_err().to_string();
        assert!(error.contains("line 3"), "{error}");
        fs::write(&path, "").unwrap();
        let error = BatchJournal::open(&path, "test").unwrap_err().to_string();
        assert!(error.contains("is empty"), "{error}");
        fs::write(&path, "{\"row\":1,\"journal\":{}}\n").unwrap();
        let error = BatchJournal::open(&path, "test").unwrap_err().to_string();
        assert!(error.contains("trusthub 0.1"), "{error}");
        fs::remove_dir_all(path.parent().unwrap()).unwrap();
    }

    #[test]
    fn a_stopping_store_saves_then_stops() {
        let path = temp("stop");
        let (file, _) = BatchJournal::open(&path, "test").unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let goal = Goal::profile(true);
        let store = RowStore::new(file, "k7".into(), goal, stop.clone(), None);
        store.save(&journal("th-1")).unwrap();
        stop.store(true, Ordering::SeqCst);
        let mut evaluated = journal("th-1");
        evaluated.evaluation = Some("EL0123456789abcdef0123456789abcdef".parse().unwrap());
        evaluated.compliant = Some(true);
        let error = store.save(&evaluated).unwrap_err();
        assert!(is_stopping(&error));
        assert_eq!(store.latest().unwrap(), evaluated);
        drop(store);
        let (file, loaded) = BatchJournal::open(&path, "test").unwrap();
        assert_eq!(loaded.customers["k7"], evaluated);
        // The save that finishes the customer (here, the submission) does not stop it.
        let store = RowStore::new(file, "k7".into(), goal, stop, Some(evaluated.clone()));
        evaluated.submitted = true;
        store.save(&evaluated).unwrap();
        fs::remove_dir_all(path.parent().unwrap()).unwrap();
    }

    #[test]
    fn history_is_compacted_on_opening() {
        let path = temp("compact");
        {
            let (file, _) = BatchJournal::open(&path, "test").unwrap();
            let a = store(&file, "ka");
            for i in 0..200 {
                let mut j = journal("th-a");
                j.intents.insert(
                    format!("entity.BU{i:032}"),
                    Intent {
                        at: j.started_at,
                        criteria: None,
                    },
                );
                a.save(&j).unwrap();
            }
        }
        let before = fs::metadata(&path).unwrap().len();
        let (_, loaded) = BatchJournal::open(&path, "test").unwrap();
        assert_eq!(loaded.compacted_from, Some(200));
        let after = fs::metadata(&path).unwrap().len();
        assert!(after * 10 < before, "{before} -> {after} bytes");
        assert_eq!(fs::read_to_string(&path).unwrap().lines().count(), 2);
        assert_eq!(loaded.customers["ka"].intents.len(), 1);
        fs::remove_dir_all(path.parent().unwrap()).unwrap();
    }

    #[test]
    fn customers_never_take_each_others_resources() {
        let path = temp("claims");
        let (file, _) = BatchJournal::open(&path, "test").unwrap();
        let (a, b) = (store(&file, "ka"), store(&file, "kb"));
        let mut owned = journal("th-a");
        owned.bundle = Some("BU0123456789abcdef0123456789abcdef".parse().unwrap());
        a.save(&owned).unwrap();
        let sid = ObjectSid::from_static("BU0123456789abcdef0123456789abcdef");
        assert!(b.held_elsewhere(&journal("th-b"), sid));
        assert!(!b.try_claim(&journal("th-b"), sid));
        assert!(a.try_claim(&owned, sid));
        let free = ObjectSid::from_static("BU0123456789abcdef0123456789abcdee");
        assert!(b.try_claim(&journal("th-b"), free));
        assert!(!a.try_claim(&owned, free), "claimed by b first");
        // An open intent with the same criteria is a rival.
        let intent = Intent {
            at: owned.started_at,
            criteria: Some("c1".into()),
        };
        let mut pending = journal("th-b");
        pending.intents.insert("bundle".into(), intent.clone());
        b.save(&pending).unwrap();
        assert_eq!(a.rivals(&owned, "bundle", &intent), 1);
        assert_eq!(b.rivals(&pending, "bundle", &intent), 0);
        fs::remove_dir_all(path.parent().unwrap()).unwrap();
    }

    fn a2p_journal(flow: &str, n: u8) -> Journal {
        let sid = |prefix: &str| format!("{prefix}{n:02}23456789abcdef0123456789abcdef");
        let mut j = journal(flow);
        j.bundle = Some(sid("BU").parse().unwrap());
        j.evaluation = Some(sid("EL").parse().unwrap());
        j.compliant = Some(true);
        j.submitted = true;
        let mut a2p = trusthub::flow::A2pProgress {
            trust_product: trusthub::flow::TrustProductProgress {
                sid: Some(sid("BU").replace("BU0", "BU9").parse().unwrap()),
                end_user: Some(sid("IT").parse().unwrap()),
                submitted: true,
                ..Default::default()
            },
            brand: Some(sid("BN").parse().unwrap()),
            brand_status: Some("PENDING".into()),
            messaging_service: Some(sid("MG").parse().unwrap()),
            service_created: true,
            ..Default::default()
        };
        a2p.phone_numbers.insert(sid("PN").parse().unwrap());
        a2p.trust_product.assignments.insert(
            ObjectSid::from(a2p.trust_product.end_user.unwrap()),
            sid("BV").parse().unwrap(),
        );
        j.a2p = Some(a2p);
        j
    }

    #[test]
    fn a2p_progress_survives_patches_reopening_and_compaction() {
        let path = temp("a2p");
        let mut last = a2p_journal("th-a", 1);
        {
            let (file, _) = BatchJournal::open(&path, "test").unwrap();
            let a = RowStore::new(
                file.clone(),
                "ka".into(),
                Goal::JOURNEY,
                Arc::new(AtomicBool::new(false)),
                None,
            );
            // The profile flow alone first (no `a2p` object), then the journey's progress.
            a.save(&journal("th-a")).unwrap();
            a.save(&last).unwrap();
            assert!(!finished(&last, Goal::JOURNEY));
            assert!(awaiting_review(&last));
            // The campaign's intent, then its SID and status: patches inside `a2p`.
            last.intents.insert(
                "a2p.campaign".into(),
                Intent {
                    at: last.started_at,
                    criteria: None,
                },
            );
            a.save(&last).unwrap();
            assert!(!awaiting_review(&last), "a create is in flight");
            last.intents.clear();
            let a2p = last.a2p.as_mut().unwrap();
            a2p.brand_status = Some("APPROVED".into());
            a2p.campaign = Some("QE0123456789abcdef0123456789abcdef".parse().unwrap());
            a2p.campaign_status = Some("IN_PROGRESS".into());
            a.save(&last).unwrap();
            // The other customer cannot take any of its SIDs.
            let b = store(&file, "kb");
            for sid in last.owned_sids() {
                assert!(b.held_elsewhere(&journal("th-b"), sid), "{sid}");
            }
            let brand = ObjectSid::from(last.a2p.as_ref().unwrap().brand.unwrap());
            assert!(!b.try_claim(&journal("th-b"), brand));
        }
        let patched = fs::read_to_string(&path).unwrap();
        assert!(
            patched
                .lines()
                .last()
                .unwrap()
                .contains(r#""a2p":{"brand_status":"APPROVED","campaign":"QE"#),
            "{patched}"
        );
        let (_, loaded) = BatchJournal::open(&path, "test").unwrap();
        assert_eq!(loaded.customers["ka"], last);
        drop(loaded);
        // A long history is compacted to one line holding the whole `a2p` object.
        {
            let (file, loaded) = BatchJournal::open(&path, "test").unwrap();
            let a = RowStore::new(
                file,
                "ka".into(),
                Goal::JOURNEY,
                Arc::new(AtomicBool::new(false)),
                Some(loaded.customers["ka"].clone()),
            );
            for i in 0..80 {
                last.a2p.as_mut().unwrap().campaign_status = Some(format!("IN_PROGRESS_{i}"));
                a.save(&last).unwrap();
            }
            last.a2p.as_mut().unwrap().campaign_status = Some(CAMPAIGN_VERIFIED.into());
            a.save(&last).unwrap();
        }
        let (_, loaded) = BatchJournal::open(&path, "test").unwrap();
        assert!(loaded.compacted_from.is_some());
        assert_eq!(fs::read_to_string(&path).unwrap().lines().count(), 2);
        assert_eq!(loaded.customers["ka"], last);
        assert!(finished(&last, Goal::JOURNEY));
        fs::remove_dir_all(path.parent().unwrap()).unwrap();
    }

    #[test]
    fn open_a2p_intents_of_other_customers_are_rivals() {
        let path = temp("a2p-rivals");
        let (file, _) = BatchJournal::open(&path, "test").unwrap();
        let (a, b, c) = (store(&file, "ka"), store(&file, "kb"), store(&file, "kc"));
        let started = journal("th-a").started_at;
        let intent = |criteria: &str| Intent {
            at: started,
            criteria: Some(criteria.into()),
        };
        for key in ["a2p.trust_product", "a2p.messaging_service"] {
            let mut jb = journal("th-b");
            jb.intents.insert(key.into(), intent("same"));
            b.save(&jb).unwrap();
            let mut jc = journal("th-c");
            jc.intents.insert(key.into(), intent("other"));
            c.save(&jc).unwrap();
            let mine = journal("th-a");
            assert_eq!(a.rivals(&mine, key, &intent("same")), 1, "{key}");
            assert_eq!(a.rivals(&mine, key, &intent("other")), 1, "{key}");
            assert_eq!(a.rivals(&mine, key, &intent("none")), 0, "{key}");
            assert_eq!(b.rivals(&jb, key, &intent("same")), 0, "{key}: not its own");
            // Settled intents are no rivals.
            b.save(&journal("th-b")).unwrap();
            c.save(&journal("th-c")).unwrap();
            assert_eq!(a.rivals(&mine, key, &intent("same")), 0, "{key}");
        }
        fs::remove_dir_all(path.parent().unwrap()).unwrap();
    }

    #[test]
    fn concurrent_appends_are_all_durable_and_whole() {
        let path = temp("concurrent");
        let (file, _) = BatchJournal::open(&path, "test").unwrap();
        std::thread::scope(|s| {
            for t in 0..8u64 {
                let file = &file;
                s.spawn(move || {
                    for i in 0..25u64 {
                        store(file, &format!("k{t}-{i}"))
                            .save(&journal(&format!("th-{t}-{i}")))
                            .unwrap();
                    }
                });
            }
        });
        drop(file);
        let (_, loaded) = BatchJournal::open(&path, "test").unwrap();
        assert_eq!(loaded.lines, 200);
        assert_eq!(loaded.customers.len(), 200);
        assert_eq!(loaded.customers["k7-24"].flow_id, "th-7-24");
        fs::remove_dir_all(path.parent().unwrap()).unwrap();
    }
}
