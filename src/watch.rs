//! Reconciliation: status callbacks are delivered at least once but may be lost, so what a
//! journal says of its bundles, brand and campaign is brought up to date by looking.
//!
//! [`watched`] lists what a journal submitted (the profile, its trust products, the brand, the
//! campaign); [`refresh`] fetches every one not settled yet, records the status in
//! [`Journal::statuses`] and returns what changed since the journal last knew;
//! [`record_event`] records a status a webhook brought (so a later refresh reports only what
//! the webhooks missed); [`Watcher::settle`] refreshes journals with backoff until everything is
//! settled or a deadline passes.
//!
//! ```
//! use trusthub::flow::Journal;
//! use trusthub::watch::{record_event, watched, Watched};
//!
//! let mut journal = Journal::from_json(r#"{
//!   "format": 2, "flow_id": "th-0123456789abcdef", "key_id": "00112233aabbccdd",
//!   "started_at": "2026-01-05T10:00:00Z",
//!   "bundle": "BU0123456789abcdef0123456789abcdef", "submitted": true
//! }"#)?;
//! let profile = watched(&journal);
//! assert!(matches!(profile[..], [Watched::Profile(_)]));
//! // A webhook said it is in review; a second delivery of the same event changes nothing.
//! assert!(record_event(&mut journal, profile[0].sid(), "in-review"));
//! assert!(!record_event(&mut journal, profile[0].sid(), "in-review"));
//! # Ok::<(), serde_json::Error>(())
//! ```

use std::time::{Duration, Instant};

use futures_util::future::join_all;
use trusthub_generated::runtime::Error;

use crate::flow::{FlowError, Journal, JournalStore, Step, TrustProductKind};
use crate::sid::{
    BrandRegistrationSid, CustomerProfileSid, MessagingServiceSid, ObjectSid, TrustProductSid,
    UsAppToPersonSid,
};
use crate::Client;

/// Something whose status Twilio decides after submission.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Watched {
    /// The secondary customer profile.
    Profile(CustomerProfileSid),
    /// A trust product (A2P, SHAKEN/STIR, CNAM).
    TrustProduct {
        /// Which.
        kind: TrustProductKind,
        /// Its SID.
        sid: TrustProductSid,
    },
    /// The A2P brand registration.
    Brand(BrandRegistrationSid),
    /// The A2P campaign, on its Messaging Service.
    Campaign {
        /// The service.
        service: MessagingServiceSid,
        /// The campaign.
        campaign: UsAppToPersonSid,
    },
}

impl Watched {
    /// Its SID.
    pub fn sid(&self) -> ObjectSid {
        match *self {
            Watched::Profile(sid) => sid.into(),
            Watched::TrustProduct { sid, .. } => sid.into(),
            Watched::Brand(sid) => sid.into(),
            Watched::Campaign { campaign, .. } => campaign.into(),
        }
    }

    /// Whether `status` is Twilio's decision (approved, or rejected / failed): nothing moves
    /// until someone acts (a fix records its resubmission's status, so it is watched again).
    pub fn is_settled(&self, status: &str) -> bool {
        match self {
            Watched::Profile(_) | Watched::TrustProduct { .. } => {
                matches!(status, "twilio-approved" | "twilio-rejected")
            }
            Watched::Brand(_) => matches!(status, "APPROVED" | "FAILED"),
            Watched::Campaign { .. } => matches!(status, "VERIFIED" | "FAILED"),
        }
    }

    async fn fetch(&self, client: &Client) -> Result<String, Error> {
        let text = |s: Option<&str>| s.unwrap_or_default().to_owned();
        Ok(match *self {
            Watched::Profile(sid) => {
                let p = client.customer_profiles().fetch(sid).send().await?;
                text(p.status.as_ref().map(|s| s.as_str()))
            }
            Watched::TrustProduct { sid, .. } => {
                let p = client.trust_products().fetch(sid).send().await?;
                text(p.status.as_ref().map(|s| s.as_str()))
            }
            Watched::Brand(sid) => {
                let b = client.brand_registrations().fetch(sid).send().await?;
                text(b.status.as_ref().map(|s| s.as_str()))
            }
            Watched::Campaign { service, campaign } => {
                let c = client
                    .services()
                    .usa2p(service)
                    .fetch(campaign)
                    .send()
                    .await?;
                text(c.campaign_status.as_ref().map(|s| s.as_str()))
            }
        })
    }
}

/// A status that changed since the journal last knew it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusChange {
    /// What changed.
    pub resource: Watched,
    /// The status the journal knew (none: never looked at).
    pub previous: Option<String>,
    /// The status now.
    pub current: String,
}

/// What `journal` submitted and Twilio reviews: the profile once submitted, each trust product
/// once submitted, the brand, the campaign.
pub fn watched(journal: &Journal) -> Vec<Watched> {
    let mut out = Vec::new();
    if let (Some(bundle), true) = (journal.bundle, journal.submitted) {
        out.push(Watched::Profile(bundle));
    }
    let products = journal
        .a2p
        .iter()
        .map(|a| (TrustProductKind::A2pMessagingProfile, &a.trust_product))
        .chain(journal.voice.iter().map(|(k, p)| (*k, p)));
    for (kind, progress) in products {
        if let (Some(sid), true) = (progress.sid, progress.submitted) {
            out.push(Watched::TrustProduct { kind, sid });
        }
    }
    if let Some(a2p) = &journal.a2p {
        if let Some(brand) = a2p.brand {
            out.push(Watched::Brand(brand));
        }
        if let (Some(service), Some(campaign)) = (a2p.messaging_service, a2p.campaign) {
            out.push(Watched::Campaign { service, campaign });
        }
    }
    out
}

/// Records a status an event (a webhook) brought; returns whether it changed what the journal
/// knew. The journal is not saved: save it with its store.
pub fn record_event(journal: &mut Journal, sid: ObjectSid, status: &str) -> bool {
    let changed = journal.statuses.get(&sid).map(String::as_str) != Some(status);
    if changed {
        journal.statuses.insert(sid, status.to_owned());
        if let Some(a2p) = journal.a2p.as_mut() {
            if a2p.brand.map(ObjectSid::from) == Some(sid) {
                a2p.brand_status = Some(status.to_owned());
            }
            if a2p.campaign.map(ObjectSid::from) == Some(sid) {
                a2p.campaign_status = Some(status.to_owned());
            }
        }
    }
    changed
}

/// Fetches every watched resource of `journal` not settled yet (concurrently), records its
/// status and returns what changed; the journal is saved to `store` when something did.
pub async fn refresh(
    client: &Client,
    journal: &mut Journal,
    store: &dyn JournalStore,
) -> Result<Vec<StatusChange>, FlowError> {
    let pending: Vec<Watched> = watched(journal)
        .into_iter()
        .filter(|w| {
            !journal
                .statuses
                .get(&w.sid())
                .is_some_and(|s| w.is_settled(s))
        })
        .collect();
    let fetched = join_all(pending.iter().map(|w| w.fetch(client))).await;
    let mut changes = Vec::new();
    for (resource, status) in pending.into_iter().zip(fetched) {
        let status = status.map_err(|e| FlowError::Step {
            step: Step::Review,
            resource: Some(resource.sid()),
            source: Box::new(e),
        })?;
        let previous = journal.statuses.get(&resource.sid()).cloned();
        if record_event(journal, resource.sid(), &status) {
            changes.push(StatusChange {
                resource,
                previous,
                current: status,
            });
        }
    }
    if !changes.is_empty() {
        store.save(journal).map_err(|source| FlowError::Journal {
            step: Step::Review,
            source,
        })?;
    }
    Ok(changes)
}

/// Refreshes journals with backoff until everything they watch is settled.
///
/// The first look is at once; then the pause doubles from `initial` up to `max` while nothing
/// changes, and falls back to `initial` when something does (a review that moved is likely to
/// move again soon).
#[derive(Debug, Clone, Copy)]
pub struct Watcher {
    /// The first pause.
    pub initial: Duration,
    /// The longest pause.
    pub max: Duration,
}

impl Default for Watcher {
    /// One second, then up to five minutes.
    fn default() -> Self {
        Watcher {
            initial: Duration::from_secs(1),
            max: Duration::from_secs(300),
        }
    }
}

impl Watcher {
    /// Refreshes `journals` (each saved to its store) until every watched resource is settled
    /// or `deadline` passes; returns every change seen, in order.
    pub async fn settle(
        &self,
        client: &Client,
        journals: &mut [(Journal, &dyn JournalStore)],
        deadline: Duration,
    ) -> Result<Vec<StatusChange>, FlowError> {
        let until = Instant::now() + deadline;
        let mut pause = self.initial;
        let mut all = Vec::new();
        loop {
            let mut changed = false;
            for (journal, store) in journals.iter_mut() {
                let changes = refresh(client, journal, *store).await?;
                changed |= !changes.is_empty();
                all.extend(changes);
            }
            let settled = journals.iter().all(|(j, _)| {
                watched(j)
                    .iter()
                    .all(|w| j.statuses.get(&w.sid()).is_some_and(|s| w.is_settled(s)))
            });
            if settled || Instant::now() + pause > until {
                return Ok(all);
            }
            tokio::time::sleep(pause).await;
            pause = if changed {
                self.initial
            } else {
                (pause * 2).min(self.max)
            };
        }
    }
}
