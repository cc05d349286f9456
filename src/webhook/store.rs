//! What a webhook remembers: the deliveries it handed over, and the last status of each SID.

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, SystemTime};

use time::OffsetDateTime;

/// The identity of one event, the same for every delivery of it: a hex digest of the
/// `I-Twilio-Idempotency-Token` and the signed parameters of a bundle callback, or of the
/// CloudEvent's `source` and `id`. Holds no personal data; fit to be a key in a shared store.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DeliveryKey(String);

impl DeliveryKey {
    /// The key from its parts (hashed, so that any text makes a short, uniform key).
    pub(crate) fn from_parts(parts: &[&[u8]]) -> Self {
        use sha2::{Digest, Sha256};
        let mut hash = Sha256::new();
        for part in parts {
            hash.update((part.len() as u64).to_be_bytes());
            hash.update(part);
        }
        let mut hex = String::with_capacity(64);
        for byte in hash.finalize() {
            hex.push_str(&format!("{byte:02x}"));
        }
        DeliveryKey(hex)
    }

    /// The key as 64 lower-case hex digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for DeliveryKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DeliveryKey({})", &self.0[..12])
    }
}

impl fmt::Display for DeliveryKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What [`DeliveryStore::claim`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claim {
    /// Never seen (or forgotten): the caller now holds it, hands the event over, then calls
    /// [`DeliveryStore::complete`] (or [`DeliveryStore::release`] if it could not).
    New,
    /// Another delivery of the same event is being handed over right now (its claim is younger
    /// than the store's lease): answer so that Twilio tries again later.
    InProgress,
    /// Already handed over: acknowledge, do not hand it over again.
    Done,
}

/// A status to record for a SID ([`DeliveryStore::advance`]).
#[derive(Debug, Clone, Copy)]
pub struct StatusUpdate<'a> {
    /// The SID whose status changed.
    pub sid: &'a str,
    /// The new status, as on the wire.
    pub status: &'a str,
    /// When it changed: Twilio's `updateddate` (or the CloudEvent's `time`) when the event has
    /// one, else when it arrived.
    pub at: OffsetDateTime,
    /// The event that carries it (a delivery handed over again after a release records nothing
    /// new).
    pub delivery: Option<&'a DeliveryKey>,
}

/// What [`DeliveryStore::advance`] knew before an update.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Advance {
    /// The status recorded before this event (`None` the first time the SID is seen); for a
    /// stale event, the newer status that stays recorded.
    pub previous: Option<String>,
    /// The event is older than the status recorded (its time is earlier): it changed nothing.
    pub stale: bool,
}

/// Where a [`Webhook`](super::Webhook) keeps what it has handed over and the last status of
/// each SID. [`MemoryStore`] is the default.
///
/// **Replicas.** Several servers behind one URL must share one store, or each would hand over
/// the deliveries it sees once. Each method is one atomic step on a shared database, e.g. with
/// Redis: `claim` is `SET key claimed NX PX <lease>` (`New` when set; else `GET`: `done` is
/// `Done`, `claimed` is `InProgress`), `complete` is `SET key done PX <ttl>`, `release` is
/// `DEL key` if it still says `claimed`, and `advance` a compare-and-set of the SID's record
/// (`{status, at, delivery, before}`) in a transaction or script, following the rule of
/// [`MemoryStore`]'s `advance`. Keys are hex digests and SIDs: no personal data.
pub trait DeliveryStore: Send + Sync {
    /// Claims `key` for handing its event over (see [`Claim`]).
    fn claim(&self, key: &DeliveryKey, now: SystemTime) -> Claim;
    /// The event of `key` was handed over: later deliveries of it are [`Claim::Done`].
    fn complete(&self, key: &DeliveryKey, now: SystemTime);
    /// The event of `key` could not be handed over: forget the claim, so that Twilio's next
    /// delivery is [`Claim::New`].
    fn release(&self, key: &DeliveryKey);
    /// Records `update` unless a newer status is recorded for its SID, and says what was known.
    ///
    /// The rule: nothing recorded → record, no previous status. Recorded by the same delivery
    /// (a delivery handed over again after a release) → keep, the previous status is the one
    /// recorded before it. Recorded later than `update.at` → keep, `stale`, the previous status
    /// is the newer one. Otherwise (same time or later) → record, the previous status is the one
    /// replaced.
    fn advance(&self, update: &StatusUpdate<'_>) -> Advance;
}

/// The status recorded for a SID.
#[derive(Debug, Clone)]
struct StatusRecord {
    status: String,
    at: OffsetDateTime,
    delivery: Option<DeliveryKey>,
    before: Option<String>,
    /// Insertion stamp for eviction (oldest updated first).
    stamp: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DeliveryState {
    Claimed,
    Done,
}

#[derive(Debug, Clone, Copy)]
struct DeliveryRecord {
    state: DeliveryState,
    at: SystemTime,
    stamp: u64,
}

#[derive(Debug, Default)]
struct Inner {
    deliveries: HashMap<DeliveryKey, DeliveryRecord>,
    /// Delivery keys by stamp, oldest first (entries whose stamp is outdated are skipped).
    delivery_order: VecDeque<(u64, DeliveryKey)>,
    statuses: HashMap<String, StatusRecord>,
    status_order: VecDeque<(u64, String)>,
    next_stamp: u64,
}

/// The default [`DeliveryStore`]: in this process's memory, bounded, with expiry.
///
/// A completed delivery is remembered for `ttl` (48 hours by default: Twilio's retries of one
/// event are over long before), a claim for `lease` (60 seconds: a handler that died without
/// releasing it does not block the event longer), at most `capacity` deliveries and as many
/// SIDs (100 000 each; the oldest go first). Lost on restart, and not shared between
/// processes: for replicas, implement [`DeliveryStore`] on a shared database.
///
/// ```
/// use std::time::{Duration, SystemTime};
/// use trusthub::webhook::{Claim, DeliveryStore, MemoryStore};
/// # use trusthub::webhook::DeliveryKey;
///
/// let store = MemoryStore::new().ttl(Duration::from_secs(3600)).capacity(10_000);
/// # let key = trusthub::webhook::__key_for_doctests("event");
/// let now = SystemTime::now();
/// assert_eq!(store.claim(&key, now), Claim::New);
/// assert_eq!(store.claim(&key, now), Claim::InProgress);
/// store.complete(&key, now);
/// assert_eq!(store.claim(&key, now), Claim::Done);
/// assert_eq!(store.claim(&key, now + Duration::from_secs(3601)), Claim::New);
/// ```
pub struct MemoryStore {
    inner: Mutex<Inner>,
    ttl: Duration,
    lease: Duration,
    capacity: usize,
}

impl Default for MemoryStore {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = self.lock();
        f.debug_struct("MemoryStore")
            .field("deliveries", &inner.deliveries.len())
            .field("sids", &inner.statuses.len())
            .field("ttl", &self.ttl)
            .field("lease", &self.lease)
            .field("capacity", &self.capacity)
            .finish()
    }
}

impl MemoryStore {
    /// An empty store: 48 hours of memory, a 60-second lease, 100 000 entries of each kind.
    pub fn new() -> Self {
        MemoryStore {
            inner: Mutex::new(Inner::default()),
            ttl: Duration::from_secs(48 * 3600),
            lease: Duration::from_secs(60),
            capacity: 100_000,
        }
    }

    /// How long a completed delivery is remembered.
    pub fn ttl(mut self, ttl: Duration) -> Self {
        self.ttl = ttl;
        self
    }

    /// How long a claim holds before another delivery of the same event may take it over.
    pub fn lease(mut self, lease: Duration) -> Self {
        self.lease = lease;
        self
    }

    /// How many deliveries, and how many SIDs, are kept at most (at least 1).
    pub fn capacity(mut self, capacity: usize) -> Self {
        self.capacity = capacity.max(1);
        self
    }

    /// How many deliveries are remembered now (expired ones included until they are swept).
    pub fn deliveries(&self) -> usize {
        self.lock().deliveries.len()
    }

    /// The status recorded for `sid`, if any.
    pub fn status_of(&self, sid: &str) -> Option<String> {
        self.lock().statuses.get(sid).map(|r| r.status.clone())
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock leaves consistent maps (each step is one insert or
        // remove): go on with them.
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn expired(&self, record: &DeliveryRecord, now: SystemTime) -> bool {
        let age = now.duration_since(record.at).unwrap_or_default();
        match record.state {
            DeliveryState::Claimed => age >= self.lease,
            DeliveryState::Done => age >= self.ttl,
        }
    }

    /// Drops expired deliveries from the front and the oldest beyond capacity.
    fn sweep_deliveries(&self, inner: &mut Inner, now: SystemTime) {
        while let Some((stamp, key)) = inner.delivery_order.front().cloned() {
            match inner.deliveries.get(&key).copied() {
                Some(record) if record.stamp == stamp => {
                    let over = inner.deliveries.len() > self.capacity;
                    if over || self.expired(&record, now) {
                        inner.deliveries.remove(&key);
                        inner.delivery_order.pop_front();
                    } else {
                        break;
                    }
                }
                // Outdated entry: the key was updated (or removed) since.
                _ => {
                    inner.delivery_order.pop_front();
                }
            }
        }
        // Entries behind a live one may be outdated: compact before they pile up.
        if inner.delivery_order.len() > 2 * inner.deliveries.len() + 64 {
            let deliveries = &inner.deliveries;
            inner
                .delivery_order
                .retain(|(stamp, key)| deliveries.get(key).is_some_and(|r| r.stamp == *stamp));
        }
    }

    /// Drops the SIDs updated longest ago beyond capacity.
    fn sweep_statuses(&self, inner: &mut Inner) {
        while inner.statuses.len() > self.capacity {
            let Some((stamp, sid)) = inner.status_order.pop_front() else {
                break;
            };
            if inner.statuses.get(&sid).is_some_and(|r| r.stamp == stamp) {
                inner.statuses.remove(&sid);
            }
        }
        if inner.status_order.len() > 2 * inner.statuses.len() + 64 {
            let statuses = &inner.statuses;
            inner
                .status_order
                .retain(|(stamp, sid)| statuses.get(sid).is_some_and(|r| r.stamp == *stamp));
        }
    }

    fn put_delivery(
        &self,
        inner: &mut Inner,
        key: &DeliveryKey,
        state: DeliveryState,
        now: SystemTime,
    ) {
        inner.next_stamp += 1;
        let stamp = inner.next_stamp;
        inner.deliveries.insert(
            key.clone(),
            DeliveryRecord {
                state,
                at: now,
                stamp,
            },
        );
        inner.delivery_order.push_back((stamp, key.clone()));
        self.sweep_deliveries(inner, now);
    }
}

impl DeliveryStore for MemoryStore {
    fn claim(&self, key: &DeliveryKey, now: SystemTime) -> Claim {
        let mut inner = self.lock();
        if let Some(record) = inner.deliveries.get(key).copied()
            && !self.expired(&record, now)
        {
            return match record.state {
                DeliveryState::Claimed => Claim::InProgress,
                DeliveryState::Done => Claim::Done,
            };
        }
        self.put_delivery(&mut inner, key, DeliveryState::Claimed, now);
        Claim::New
    }

    fn complete(&self, key: &DeliveryKey, now: SystemTime) {
        let mut inner = self.lock();
        self.put_delivery(&mut inner, key, DeliveryState::Done, now);
    }

    fn release(&self, key: &DeliveryKey) {
        let mut inner = self.lock();
        if inner
            .deliveries
            .get(key)
            .is_some_and(|r| r.state == DeliveryState::Claimed)
        {
            inner.deliveries.remove(key);
        }
    }

    fn advance(&self, update: &StatusUpdate<'_>) -> Advance {
        let mut inner = self.lock();
        let current = inner.statuses.get(update.sid).cloned();
        let (advance, record) = match current {
            None => (Advance::default(), Some(None)),
            Some(record)
                if update.delivery.is_some() && record.delivery.as_ref() == update.delivery =>
            {
                let advance = Advance {
                    previous: record.before.clone(),
                    stale: false,
                };
                (advance, None)
            }
            Some(record) if update.at < record.at => {
                let advance = Advance {
                    previous: Some(record.status),
                    stale: true,
                };
                (advance, None)
            }
            Some(record) => (
                Advance {
                    previous: Some(record.status.clone()),
                    stale: false,
                },
                Some(Some(record.status)),
            ),
        };
        if let Some(before) = record {
            inner.next_stamp += 1;
            let stamp = inner.next_stamp;
            inner.statuses.insert(
                update.sid.to_owned(),
                StatusRecord {
                    status: update.status.to_owned(),
                    at: update.at,
                    delivery: update.delivery.cloned(),
                    before,
                    stamp,
                },
            );
            inner.status_order.push_back((stamp, update.sid.to_owned()));
            self.sweep_statuses(&mut inner);
        }
        advance
    }
}
