//! The flow's progress: which resources exist, their SIDs, what is assigned, and which creates
//! were sent without their answer being recorded yet (the write-ahead intents). Handed to a
//! [`JournalStore`] before every create and after every step, so a crashed flow can be resumed
//! without creating anything twice. A journal holds SIDs, keyed digests of the input and times:
//! never personal data.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::digest::DigestKey;
use super::files::{self, JournalLock};
use crate::sid::{
    AddressSid, BrandRegistrationSid, ChannelEndpointAssignmentSid, CustomerProfileSid, EndUserSid,
    EntityAssignmentSid, EvaluationSid, MessagingServiceSid, ObjectSid, PhoneNumberSid, PolicySid,
    SupportingDocumentSid, TrustProductSid, UsAppToPersonSid,
};

/// The journal format this version writes and reads.
///
/// Format 1 (trusthub 0.1) held one unkeyed digest of the whole input and no intents; this
/// version refuses it with [`FlowError::StaleJournal`](super::FlowError::StaleJournal): finish
/// such a flow with the version that started it.
pub const JOURNAL_FORMAT: u32 = 2;

/// A create that was sent, or is about to be, whose SID is not in the journal yet.
///
/// The flow records it durably BEFORE sending the create; resuming looks up every recorded
/// intent before creating anything, so a create whose answer was lost (a crash, a dropped
/// connection, a gateway's error after the commit) is found instead of created twice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Intent {
    /// When it was recorded: what it created is no older than this (give or take clock skew).
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// For creates found by their fields rather than by a tag naming the flow (the bundle): the
    /// keyed digest of those fields, so that a store holding several flows can tell which other
    /// flows' lost creates could match the same lookup.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub criteria: Option<String>,
}

/// Progress of one Secondary Customer Profile flow.
///
/// ```
/// use trusthub::flow::{Journal, JOURNAL_FORMAT};
/// use trusthub::sid::CustomerProfileSid;
///
/// let text = r#"{
///   "format": 2,
///   "flow_id": "th-0123456789abcdef",
///   "key_id": "00112233aabbccdd",
///   "input": { "bundle": "0123456789abcdef0123456789abcdef" },
///   "started_at": "2026-01-05T10:00:00Z",
///   "bundle": "BU0123456789abcdef0123456789abcdef",
///   "end_users": { "business_information": "IT0123456789abcdef0123456789abcdef" },
///   "intents": { "address": { "at": "2026-01-05T10:00:01Z" } }
/// }"#;
/// let journal = Journal::from_json(text)?;
/// assert_eq!(journal.format, JOURNAL_FORMAT);
/// assert_eq!(
///     journal.bundle,
///     Some(CustomerProfileSid::from_static("BU0123456789abcdef0123456789abcdef"))
/// );
/// assert_eq!(journal.end_users.len(), 1);
/// // The address's create was sent, its answer never recorded: resuming looks it up first.
/// assert!(journal.intents.contains_key("address"));
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
    /// The id of the [`DigestKey`] the input digests were made with.
    pub key_id: String,
    /// Keyed digests of the input, one per part (`bundle`, `business_information`,
    /// `representative_1`, `representative_2`, `address`, `primary_profile`): resuming refuses
    /// an input whose changed part has something built from it. Shared: a copy of the journal
    /// (the snapshot a save takes) does not copy the digests.
    #[serde(default)]
    pub input: Arc<BTreeMap<String, String>>,
    /// When the flow first started.
    #[serde(with = "time::serde::rfc3339")]
    pub started_at: OffsetDateTime,
    /// The policy, once it and the primary profile were checked against the input.
    #[serde(default)]
    pub policy: Option<PolicySid>,
    /// The secondary customer profile (the bundle).
    #[serde(default)]
    pub bundle: Option<CustomerProfileSid>,
    /// End users by role (`business_information`, `representative_1`, `representative_2`).
    #[serde(default)]
    pub end_users: BTreeMap<String, EndUserSid>,
    /// The address, created by the flow or given.
    #[serde(default)]
    pub address: Option<AddressSid>,
    /// Whether the flow created the address (cleanup deletes only what the flow created).
    #[serde(default)]
    pub address_created: bool,
    /// The `customer_profile_address` supporting document.
    #[serde(default)]
    pub document: Option<SupportingDocumentSid>,
    /// Entity assignments by assigned object SID.
    #[serde(default)]
    pub entity_assignments: BTreeMap<ObjectSid, EntityAssignmentSid>,
    /// Channel endpoint assignments by phone number SID.
    #[serde(default)]
    pub channel_endpoint_assignments: BTreeMap<PhoneNumberSid, ChannelEndpointAssignmentSid>,
    /// The latest evaluation.
    #[serde(default)]
    pub evaluation: Option<EvaluationSid>,
    /// Whether the latest evaluation was compliant.
    #[serde(default)]
    pub compliant: Option<bool>,
    /// Whether the bundle was submitted for review (step 10).
    #[serde(default)]
    pub submitted: bool,
    /// The last status seen of each submitted resource (the profile, trust products, brand,
    /// campaign), by a refresh or an event ([`crate::watch`]).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub statuses: BTreeMap<ObjectSid, String>,
    /// Resubmissions after a rejection ([`Client::fix_profile`](crate::Client::fix_profile)).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub resubmissions: u32,
    /// Creates sent (or about to be) whose SID is not recorded yet, by step key (`bundle`,
    /// `end_user.representative_1`, `address`, `document`, `entity.<SID>`,
    /// `phone_number.<SID>`, `evaluation`, `submit`; the A2P journey's start with `a2p.`).
    #[serde(default)]
    pub intents: BTreeMap<String, Intent>,
    /// The A2P 10DLC journey's progress, once a journey ran on this journal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub a2p: Option<A2pProgress>,
    /// The voice trust products' progress (SHAKEN/STIR, CNAM), once their flow ran.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub voice: BTreeMap<TrustProductKind, TrustProductProgress>,
}

/// Which trust product a [`TrustProductProgress`] is: the policy it follows and the key its
/// progress and intents are kept under.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum TrustProductKind {
    /// The A2P Messaging Profile (policy `RNb0d4771c2c98518d916a3d4cd70a8f8b`), kept in
    /// [`Journal::a2p`], intents under `a2p.`.
    A2pMessagingProfile,
    /// SHAKEN/STIR (policy `RN7a97559effdf62d00f4298208492a5ea`), kept in [`Journal::voice`],
    /// intents under `shaken_stir.`.
    ShakenStir,
    /// CNAM (policy `RNf3db3cd1fe25fcfd3c3ded065c8fea53`), kept in [`Journal::voice`], intents
    /// under `cnam.`.
    Cnam,
}

impl TrustProductKind {
    /// The prefix of its intent keys and its name in the journal.
    pub fn key(self) -> &'static str {
        match self {
            TrustProductKind::A2pMessagingProfile => "a2p",
            TrustProductKind::ShakenStir => "shaken_stir",
            TrustProductKind::Cnam => "cnam",
        }
    }

    /// Its policy.
    pub fn policy(self) -> PolicySid {
        match self {
            TrustProductKind::A2pMessagingProfile => crate::sid::policies::A2P_TRUST_PRODUCT,
            TrustProductKind::ShakenStir => crate::sid::policies::SHAKEN_STIR,
            TrustProductKind::Cnam => crate::sid::policies::CNAM,
        }
    }

    /// How reports name it.
    pub fn name(self) -> &'static str {
        match self {
            TrustProductKind::A2pMessagingProfile => "A2P",
            TrustProductKind::ShakenStir => "SHAKEN/STIR",
            TrustProductKind::Cnam => "CNAM",
        }
    }

    /// The progress of this trust product in `journal`, if any.
    pub fn progress(self, journal: &Journal) -> Option<&TrustProductProgress> {
        match self {
            TrustProductKind::A2pMessagingProfile => journal.a2p.as_ref().map(|a| &a.trust_product),
            kind => journal.voice.get(&kind),
        }
    }

    /// The progress of this trust product in `journal`, created empty if absent.
    pub(crate) fn progress_mut(self, journal: &mut Journal) -> &mut TrustProductProgress {
        match self {
            TrustProductKind::A2pMessagingProfile => {
                &mut journal
                    .a2p
                    .get_or_insert_with(A2pProgress::default)
                    .trust_product
            }
            kind => journal.voice.entry(kind).or_default(),
        }
    }
}

/// A trust product's progress: its SID, end user, assignments, evaluation and submission.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrustProductProgress {
    /// The trust product.
    #[serde(default, rename = "trust_product")]
    pub sid: Option<TrustProductSid>,
    /// Its end user (the A2P Messaging Profile's information, CNAM's display name), if its
    /// policy has one.
    #[serde(default)]
    pub end_user: Option<EndUserSid>,
    /// Entity assignments by assigned object SID (the end user, the secondary profile).
    #[serde(default, rename = "trust_product_assignments")]
    pub assignments: BTreeMap<ObjectSid, EntityAssignmentSid>,
    /// Phone numbers assigned (channel endpoint assignments), for the voice products.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub phone_numbers: BTreeMap<PhoneNumberSid, ChannelEndpointAssignmentSid>,
    /// The latest evaluation.
    #[serde(default)]
    pub evaluation: Option<EvaluationSid>,
    /// Whether that evaluation was compliant.
    #[serde(default)]
    pub compliant: Option<bool>,
    /// Whether the trust product was submitted for review.
    #[serde(default)]
    pub submitted: bool,
}

impl TrustProductProgress {
    /// Every SID the flow created for this trust product.
    pub fn owned_sids(&self) -> Vec<ObjectSid> {
        let mut out: Vec<ObjectSid> = Vec::new();
        out.extend(self.sid.map(ObjectSid::from));
        out.extend(self.end_user.map(ObjectSid::from));
        out.extend(self.assignments.values().copied().map(ObjectSid::from));
        out.extend(self.phone_numbers.values().copied().map(ObjectSid::from));
        out.extend(self.evaluation.map(ObjectSid::from));
        out
    }
}

/// The A2P 10DLC journey's part of a [`Journal`]: SIDs, flags and the last statuses seen.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct A2pProgress {
    /// The existing secondary profile was checked (submitted, of this account).
    #[serde(default)]
    pub profile_confirmed: bool,
    /// The A2P Messaging Profile trust product (its fields sit beside the journey's in JSON).
    #[serde(flatten)]
    pub trust_product: TrustProductProgress,
    /// The brand registration (a fee: never created twice).
    #[serde(default)]
    pub brand: Option<BrandRegistrationSid>,
    /// The brand's status when last seen (`PENDING`, `APPROVED`, `FAILED`...).
    #[serde(default)]
    pub brand_status: Option<String>,
    /// Resubmissions of the brand sent by this journal.
    #[serde(default)]
    pub brand_resubmissions: u32,
    /// The Messaging Service, created by the journey or given.
    #[serde(default)]
    pub messaging_service: Option<MessagingServiceSid>,
    /// Whether the journey created the service.
    #[serde(default)]
    pub service_created: bool,
    /// Phone numbers added to the service.
    #[serde(default)]
    pub phone_numbers: BTreeSet<PhoneNumberSid>,
    /// The campaign (a fee: never created twice).
    #[serde(default)]
    pub campaign: Option<UsAppToPersonSid>,
    /// The campaign's status when last seen (`IN_PROGRESS`, `VERIFIED`, `FAILED`).
    #[serde(default)]
    pub campaign_status: Option<String>,
}

impl A2pProgress {
    /// Every SID the journey created (the given service excluded).
    pub fn owned_sids(&self) -> Vec<ObjectSid> {
        let mut out = self.trust_product.owned_sids();
        out.extend(self.brand.map(ObjectSid::from));
        if self.service_created {
            out.extend(self.messaging_service.map(ObjectSid::from));
        }
        out.extend(self.campaign.map(ObjectSid::from));
        out
    }
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

impl Journal {
    pub(crate) fn new(flow_id: String, key_id: String, input: BTreeMap<String, String>) -> Self {
        let input = Arc::new(input);
        Journal {
            format: JOURNAL_FORMAT,
            flow_id,
            key_id,
            input,
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
            statuses: BTreeMap::new(),
            resubmissions: 0,
            intents: BTreeMap::new(),
            a2p: None,
            voice: BTreeMap::new(),
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

    /// Every SID the journal holds (what this flow owns at Twilio), the policy and the given
    /// address excluded.
    pub fn owned_sids(&self) -> Vec<ObjectSid> {
        let mut out: Vec<ObjectSid> = Vec::new();
        out.extend(self.bundle.map(ObjectSid::from));
        out.extend(self.end_users.values().copied().map(ObjectSid::from));
        if self.address_created {
            out.extend(self.address.map(ObjectSid::from));
        }
        out.extend(self.document.map(ObjectSid::from));
        out.extend(
            self.entity_assignments
                .values()
                .copied()
                .map(ObjectSid::from),
        );
        out.extend(
            self.channel_endpoint_assignments
                .values()
                .copied()
                .map(ObjectSid::from),
        );
        out.extend(self.evaluation.map(ObjectSid::from));
        if let Some(a2p) = &self.a2p {
            out.extend(a2p.owned_sids());
        }
        for product in self.voice.values() {
            out.extend(product.owned_sids());
        }
        out
    }
}

/// Where the flow hands its journal: before every create (with the create's [`Intent`]) and
/// after every step. Saving must be durable when it returns: the flow sends a create only once
/// its intent is saved, and treats a saved step as done.
///
/// A store also keeps the [`DigestKey`] of the input digests, and may hold several flows (a batch
/// journal): it then tells the flow which SIDs other flows already own, so that a lookup never
/// takes another flow's resource.
///
/// A store keeping every version, e.g. for an audit trail:
///
/// ```
/// use std::io;
/// use std::sync::{Arc, Mutex};
/// use trusthub::flow::{DigestKey, Journal, JournalStore};
///
/// struct History {
///     versions: Mutex<Vec<String>>,
///     key: DigestKey,
/// }
///
/// impl JournalStore for History {
///     fn save(&self, journal: &Journal) -> io::Result<()> {
///         self.versions.lock().unwrap().push(journal.to_json());
///         Ok(())
///     }
///     fn digest_key(&self) -> &DigestKey {
///         &self.key // kept apart from the journals (here: in memory)
///     }
/// }
///
/// # let journal = trusthub::flow::Journal::from_json(r#"{"format": 2,
/// #     "flow_id": "th-0123456789abcdef", "key_id": "00",
/// #     "started_at": "2026-01-05T10:00:00Z"}"#)?;
/// let history = Arc::new(History { versions: Mutex::default(), key: DigestKey::generate()? });
/// let store: Arc<dyn JournalStore> = history.clone(); // as `SecondaryProfile::run` takes it
/// store.save(&journal)?;
/// let mut submitted = journal.clone();
/// submitted.submitted = true;
/// store.save(&submitted)?;
///
/// let versions = history.versions.lock().unwrap();
/// assert_eq!(versions.len(), 2);
/// assert!(!Journal::from_json(&versions[0])?.submitted);
/// assert!(Journal::from_json(&versions[1])?.submitted);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub trait JournalStore: Send + Sync {
    /// Stores `journal`, replacing the previous one of its flow.
    fn save(&self, journal: &Journal) -> io::Result<()>;

    /// [`save`](Self::save), given the journal by value (the flow saves a snapshot it no
    /// longer needs): a store that keeps the journal itself, in memory, overrides it to keep
    /// this one instead of a copy.
    fn save_owned(&self, journal: Journal) -> io::Result<()> {
        self.save(&journal)
    }

    /// The key of the journal's input digests, kept apart from the journal.
    fn digest_key(&self) -> &DigestKey;

    /// Whether another flow of this store already owns `sid` (a store of one flow: never).
    fn held_elsewhere(&self, journal: &Journal, sid: ObjectSid) -> bool {
        let _ = (journal, sid);
        false
    }

    /// Claims `sid`, found by a lookup, for the flow of `journal`; `false` when another flow of
    /// this store owns or claimed it first. Must be atomic between the store's flows.
    fn try_claim(&self, journal: &Journal, sid: ObjectSid) -> bool {
        !self.held_elsewhere(journal, sid)
    }

    /// How many other flows of this store have an open intent `key` with the same criteria as
    /// `intent`: their lost creates match the same lookup, so as many candidates may be theirs.
    fn rivals(&self, journal: &Journal, key: &str, intent: &Intent) -> usize {
        let _ = (journal, key, intent);
        0
    }
}

/// A key for stores whose journals live in this process only (nothing to keep apart).
fn process_key() -> &'static DigestKey {
    static KEY: OnceLock<DigestKey> = OnceLock::new();
    KEY.get_or_init(DigestKey::ephemeral)
}

/// Keeps nothing: a flow that cannot be resumed after a crash.
///
/// A [`ProfileFlow`](super::ProfileFlow) without a [`journal`](super::ProfileFlow::journal)
/// runs with it.
///
/// ```
/// use std::sync::Arc;
/// use trusthub::flow::{JournalStore, NoStore};
///
/// # let journal = trusthub::flow::Journal::from_json(r#"{"format": 2,
/// #     "flow_id": "th-0123456789abcdef", "key_id": "00", "started_at": "2026-01-05T10:00:00Z"}"#)?;
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

    fn digest_key(&self) -> &DigestKey {
        process_key()
    }
}

/// Keeps the latest journal in memory (tests, or callers that persist it themselves).
///
/// ```
/// use std::sync::Arc;
/// use trusthub::flow::{JournalStore, MemoryStore};
///
/// # let journal = trusthub::flow::Journal::from_json(r#"{"format": 2,
/// #     "flow_id": "th-0123456789abcdef", "key_id": "00", "started_at": "2026-01-05T10:00:00Z"}"#)?;
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
        self.save_owned(journal.clone())
    }

    fn save_owned(&self, journal: Journal) -> io::Result<()> {
        *self.latest.lock().expect("journal lock") = Some(journal);
        Ok(())
    }

    fn digest_key(&self) -> &DigestKey {
        process_key()
    }
}

/// A journal file, held by one process at a time, written atomically: a temporary file beside
/// it, `fsync`, `rename`, then an `fsync` of the directory. After a crash the file holds either
/// the previous or the new journal, never a mix.
///
/// [`FileStore::open`] takes the journal's lock (`<path>.lock`, see [`JournalLock`]) for as long
/// as the store (or a clone) lives, and loads or creates its digest key (`<path>.key`, readable
/// by its owner only; it must travel with the journal).
///
/// ```
/// use std::{fs, io};
/// use trusthub::flow::{FileStore, JournalStore};
///
/// # let journal = trusthub::flow::Journal::from_json(r#"{"format": 2,
/// #     "flow_id": "th-0123456789abcdef", "key_id": "00", "started_at": "2026-01-05T10:00:00Z"}"#)?;
/// let dir = std::env::temp_dir().join(format!("trusthub-doc-{}", std::process::id()));
/// fs::create_dir_all(&dir)?;
/// let store = FileStore::open(dir.join("flow.json"))?;
/// assert_eq!(store.load()?, None); // no file yet: a new flow
///
/// store.save(&journal)?;
/// assert_eq!(store.load()?, Some(journal));
/// // A second writer is refused while this one holds the journal.
/// assert!(FileStore::open(dir.join("flow.json")).is_err());
///
/// // An emptied file is an error, not a fresh start.
/// fs::write(store.path(), "")?;
/// assert_eq!(store.load().unwrap_err().kind(), io::ErrorKind::InvalidData);
/// drop(store);
/// fs::remove_dir_all(&dir)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct FileStore {
    path: PathBuf,
    key: DigestKey,
    _lock: Arc<JournalLock>,
}

impl FileStore {
    /// Opens the journal at `path` (which need not exist yet): takes its lock, refused with
    /// [`io::ErrorKind::WouldBlock`] naming the holder when another process writes it, and loads
    /// its digest key (created when the journal is new).
    pub fn open(path: impl Into<PathBuf>) -> io::Result<FileStore> {
        let path = path.into();
        let lock = JournalLock::acquire(&path, "a trusthub flow journal")?;
        let key = files::load_or_create_key(&path, path.exists())?;
        Ok(FileStore {
            path,
            key,
            _lock: Arc::new(lock),
        })
    }

    /// The journal file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The journal in the file, if the file exists. An empty or unreadable file is an error
    /// ([`io::ErrorKind::InvalidData`]): a truncated journal never silently restarts a flow.
    pub fn load(&self) -> io::Result<Option<Journal>> {
        match fs::read_to_string(&self.path) {
            Ok(text) if text.trim().is_empty() => Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "{} is empty: the journal was truncated, so what the flow created is not \
                     known; nothing was resumed. Restore the journal, or, if you are sure the \
                     flow created nothing, delete the file to start over",
                    self.path.display()
                ),
            )),
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
        if self.path.file_name().is_none() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "journal path names no file",
            ));
        }
        files::write_atomic(&self.path, journal.to_json().as_bytes())
    }

    fn digest_key(&self) -> &DigestKey {
        &self.key
    }
}

/// Forwards every method of [`JournalStore`] through a pointer to a store.
macro_rules! forward_store {
    ($($pointer:ty),*) => {$(
        impl<S: JournalStore + ?Sized> JournalStore for $pointer {
            fn save(&self, journal: &Journal) -> io::Result<()> {
                (**self).save(journal)
            }
            fn save_owned(&self, journal: Journal) -> io::Result<()> {
                (**self).save_owned(journal)
            }
            fn digest_key(&self) -> &DigestKey {
                (**self).digest_key()
            }
            fn held_elsewhere(&self, journal: &Journal, sid: ObjectSid) -> bool {
                (**self).held_elsewhere(journal, sid)
            }
            fn try_claim(&self, journal: &Journal, sid: ObjectSid) -> bool {
                (**self).try_claim(journal, sid)
            }
            fn rivals(&self, journal: &Journal, key: &str, intent: &Intent) -> usize {
                (**self).rivals(journal, key, intent)
            }
        }
    )*};
}

forward_store!(Arc<S>, &S);
