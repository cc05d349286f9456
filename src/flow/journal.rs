//! The flow's progress: which resources exist, their SIDs, what is assigned. Handed to a
//! [`JournalStore`] after every step, so a crashed flow can be resumed without creating anything
//! twice. A journal holds SIDs, a digest of the input and times: never personal data.

use std::collections::BTreeMap;
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::sid::{
    AddressSid, ChannelEndpointAssignmentSid, CustomerProfileSid, EndUserSid, EntityAssignmentSid,
    EvaluationSid, PolicySid, SupportingDocumentSid,
};

/// The journal format this version writes and reads.
pub const JOURNAL_FORMAT: u32 = 1;

/// Progress of one Secondary Customer Profile flow.
///
/// ```
/// use trusthub::flow::{Journal, JOURNAL_FORMAT};
/// use trusthub::sid::CustomerProfileSid;
///
/// let text = r#"{
///   "format": 1,
///   "flow_id": "th-0123456789abcdef",
///   "input_digest": "00112233aabbccdd",
///   "started_at": "2026-01-05T10:00:00Z",
///   "bundle": "BU0123456789abcdef0123456789abcdef",
///   "end_users": { "business_information": "IT0123456789abcdef0123456789abcdef" },
///   "address_created": false,
///   "entity_assignments": {},
///   "channel_endpoint_assignments": {},
///   "submitted": false
/// }"#;
/// let journal = Journal::from_json(text)?;
/// assert_eq!(journal.format, JOURNAL_FORMAT);
/// assert_eq!(
///     journal.bundle,
///     Some(CustomerProfileSid::from_static("BU0123456789abcdef0123456789abcdef"))
/// );
/// assert_eq!(journal.end_users.len(), 1);
/// assert_eq!(journal.evaluation, None); // not evaluated yet
/// assert_eq!(Journal::from_json(&journal.to_json())?, journal);
///
/// // SIDs are checked on reading: a policy SID is not a bundle.
/// let wrong = text.replace("\"BU0123", "\"RN0123");
/// assert!(Journal::from_json(&wrong)
///     .unwrap_err()
///     .to_string()
///     .contains("invalid CustomerProfileSid"));
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Journal {
    /// Format version ([`JOURNAL_FORMAT`]).
    pub format: u32,
    /// This flow's identifier; the friendly names of the end users, address and document the
    /// flow creates end with it, which is how a create whose answer was lost is found again.
    pub flow_id: String,
    /// Digest of the flow's input: resuming with different input is refused.
    pub input_digest: String,
    /// When the flow first started (lower bound when looking for resources it may have created).
    #[serde(with = "time::serde::rfc3339")]
    pub started_at: OffsetDateTime,
    /// The policy, once confirmed against the input.
    pub policy: Option<PolicySid>,
    /// The secondary customer profile (the bundle).
    pub bundle: Option<CustomerProfileSid>,
    /// End users by role (`business_information`, `representative_1`, `representative_2`).
    pub end_users: BTreeMap<String, EndUserSid>,
    /// The address, created by the flow or given.
    pub address: Option<AddressSid>,
    /// Whether the flow created the address (cleanup deletes only what the flow created).
    pub address_created: bool,
    /// The `customer_profile_address` supporting document.
    pub document: Option<SupportingDocumentSid>,
    /// Entity assignments by assigned object SID.
    pub entity_assignments: BTreeMap<String, EntityAssignmentSid>,
    /// Channel endpoint assignments by phone number SID.
    pub channel_endpoint_assignments: BTreeMap<String, ChannelEndpointAssignmentSid>,
    /// The latest evaluation.
    pub evaluation: Option<EvaluationSid>,
    /// Whether the latest evaluation was compliant.
    pub compliant: Option<bool>,
    /// Whether the bundle was submitted for review (step 10).
    pub submitted: bool,
}

impl Journal {
    pub(crate) fn new(flow_id: String, input_digest: String) -> Self {
        Journal {
            format: JOURNAL_FORMAT,
            flow_id,
            input_digest,
            started_at: OffsetDateTime::now_utc(),
            policy: None,
            bundle: None,
            end_users: BTreeMap::new(),
            address: None,
            address_created: false,
            document: None,
            entity_assignments: BTreeMap::new(),
            channel_endpoint_assignments: BTreeMap::new(),
            evaluation: None,
            compliant: None,
            submitted: false,
        }
    }

    /// The journal as JSON text.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a journal always serializes")
    }

    /// A journal from JSON text (as [`Journal::to_json`] or a [`FileStore`] wrote it).
    pub fn from_json(text: &str) -> Result<Journal, serde_json::Error> {
        serde_json::from_str(text)
    }
}

/// Where the flow hands its journal after every step. Saving must be durable when it returns:
/// the flow treats a saved step as done.
///
/// A store keeping every version, e.g. for an audit trail:
///
/// ```
/// use std::io;
/// use std::sync::{Arc, Mutex};
/// use trusthub::flow::{Journal, JournalStore};
///
/// #[derive(Default)]
/// struct History(Mutex<Vec<String>>);
///
/// impl JournalStore for History {
///     fn save(&self, journal: &Journal) -> io::Result<()> {
///         self.0.lock().unwrap().push(journal.to_json());
///         Ok(())
///     }
/// }
///
/// # let journal = trusthub::flow::Journal::from_json(r#"{"format": 1,
/// #     "flow_id": "th-0123456789abcdef", "input_digest": "00112233aabbccdd",
/// #     "started_at": "2026-01-05T10:00:00Z", "end_users": {}, "address_created": false,
/// #     "entity_assignments": {}, "channel_endpoint_assignments": {}, "submitted": false}"#)?;
/// let history = Arc::new(History::default());
/// let store: Arc<dyn JournalStore> = history.clone(); // as `SecondaryProfile::run` takes it
/// store.save(&journal)?;
/// let mut submitted = journal.clone();
/// submitted.submitted = true;
/// store.save(&submitted)?;
///
/// let versions = history.0.lock().unwrap();
/// assert_eq!(versions.len(), 2);
/// assert!(!Journal::from_json(&versions[0])?.submitted);
/// assert!(Journal::from_json(&versions[1])?.submitted);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub trait JournalStore: Send + Sync {
    /// Stores `journal`, replacing the previous one.
    fn save(&self, journal: &Journal) -> io::Result<()>;
}

/// Keeps nothing: a flow that cannot be resumed after a crash.
///
/// [`SecondaryProfile::create`](super::SecondaryProfile::create) runs with it.
///
/// ```
/// use std::sync::Arc;
/// use trusthub::flow::{JournalStore, NoStore};
///
/// # let journal = trusthub::flow::Journal::from_json(r#"{"format": 1,
/// #     "flow_id": "th-0123456789abcdef", "input_digest": "00112233aabbccdd",
/// #     "started_at": "2026-01-05T10:00:00Z", "end_users": {}, "address_created": false,
/// #     "entity_assignments": {}, "channel_endpoint_assignments": {}, "submitted": false}"#)?;
/// assert!(NoStore.save(&journal).is_ok()); // accepts every journal, keeps none
/// let store: Arc<dyn JournalStore> = Arc::new(NoStore);
/// assert!(store.save(&journal).is_ok());
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct NoStore;

impl JournalStore for NoStore {
    fn save(&self, _journal: &Journal) -> io::Result<()> {
        Ok(())
    }
}

/// Keeps the latest journal in memory (tests, or callers that persist it themselves).
///
/// ```
/// use std::sync::Arc;
/// use trusthub::flow::{JournalStore, MemoryStore};
///
/// # let journal = trusthub::flow::Journal::from_json(r#"{"format": 1,
/// #     "flow_id": "th-0123456789abcdef", "input_digest": "00112233aabbccdd",
/// #     "started_at": "2026-01-05T10:00:00Z", "end_users": {}, "address_created": false,
/// #     "entity_assignments": {}, "channel_endpoint_assignments": {}, "submitted": false}"#)?;
/// let store = MemoryStore::new();
/// assert_eq!(store.latest(), None);
///
/// // Clones share the journal: hand one to the flow, read the other.
/// let handed: Arc<dyn JournalStore> = Arc::new(store.clone());
/// handed.save(&journal)?;
/// let mut evaluated = journal.clone();
/// evaluated.compliant = Some(true);
/// handed.save(&evaluated)?;
/// assert_eq!(store.latest(), Some(evaluated)); // only the latest is kept
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct MemoryStore {
    latest: Arc<Mutex<Option<Journal>>>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// The latest journal saved, if any.
    pub fn latest(&self) -> Option<Journal> {
        self.latest.lock().expect("journal lock").clone()
    }
}

impl JournalStore for MemoryStore {
    fn save(&self, journal: &Journal) -> io::Result<()> {
        *self.latest.lock().expect("journal lock") = Some(journal.clone());
        Ok(())
    }
}

/// A journal file written atomically: a temporary file beside it, `fsync`, `rename`, then an
/// `fsync` of the directory. After a crash the file holds either the previous or the new
/// journal, never a mix.
///
/// ```
/// use std::{fs, io};
/// use trusthub::flow::{FileStore, JournalStore};
///
/// # let journal = trusthub::flow::Journal::from_json(r#"{"format": 1,
/// #     "flow_id": "th-0123456789abcdef", "input_digest": "00112233aabbccdd",
/// #     "started_at": "2026-01-05T10:00:00Z", "end_users": {}, "address_created": false,
/// #     "entity_assignments": {}, "channel_endpoint_assignments": {}, "submitted": false}"#)?;
/// let dir = std::env::temp_dir().join(format!("trusthub-doc-{}", std::process::id()));
/// fs::create_dir_all(&dir)?;
/// let store = FileStore::new(dir.join("flow.json"));
/// assert_eq!(store.load()?, None); // no file yet: a new flow
///
/// store.save(&journal)?;
/// assert_eq!(store.load()?, Some(journal));
/// assert_eq!(fs::read_dir(&dir)?.count(), 1); // the temporary file was renamed into place
///
/// // A file that is not a journal is an error, not a fresh start.
/// fs::write(store.path(), "{}")?;
/// assert_eq!(store.load().unwrap_err().kind(), io::ErrorKind::InvalidData);
/// fs::remove_dir_all(&dir)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct FileStore {
    path: PathBuf,
}

impl FileStore {
    /// A store writing `path`.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        FileStore { path: path.into() }
    }

    /// The journal file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The journal in the file, if the file exists.
    pub fn load(&self) -> io::Result<Option<Journal>> {
        match fs::read_to_string(&self.path) {
            Ok(text) => Journal::from_json(&text).map(Some).map_err(|e| {
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("{} is not a flow journal: {e}", self.path.display()),
                )
            }),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }
}

impl JournalStore for FileStore {
    fn save(&self, journal: &Journal) -> io::Result<()> {
        let dir = match self.path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let name = self.path.file_name().ok_or_else(|| {
            io::Error::new(io::ErrorKind::InvalidInput, "journal path names no file")
        })?;
        let mut temp_name = name.to_os_string();
        temp_name.push(".tmp");
        let temp = dir.join(temp_name);
        {
            let mut file = fs::File::create(&temp)?;
            file.write_all(journal.to_json().as_bytes())?;
            file.sync_all()?;
        }
        fs::rename(&temp, &self.path)?;
        // Make the rename itself durable.
        if let Ok(d) = fs::File::open(&dir) {
            let _ = d.sync_all();
        }
        Ok(())
    }
}

impl<S: JournalStore + ?Sized> JournalStore for Arc<S> {
    fn save(&self, journal: &Journal) -> io::Result<()> {
        (**self).save(journal)
    }
}

impl<S: JournalStore + ?Sized> JournalStore for &S {
    fn save(&self, journal: &Journal) -> io::Result<()> {
        (**self).save(journal)
    }
}
