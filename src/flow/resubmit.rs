//! Fix and resubmit a rejected secondary profile: the corrected input against the journal's
//! digests says which parts changed; only their resources are updated (an end user's
//! attributes, the address, the bundle's name, email or callback), nothing is created but a new
//! evaluation, and the bundle is submitted again once, its intent journaled first.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use trusthub_generated::trusthub_v1::CustomerProfileStatus;

use super::engine::{step_error, Engine};
use super::run::{evaluate_profile, status_of};
use super::{
    check_format_and_key, AddressInput, EndUserRole, FlowError, FlowOptions, Intent, Journal,
    JournalStore, NoStore, Outcome, SecondaryProfile, Step, StepRecord, INPUT_PARTS,
};
use crate::evaluation::Evaluation;
use crate::sid::{CustomerProfileSid, ObjectSid};
use crate::Client;

/// The journal's mark of a fix in progress (its updates may have begun; its resubmission not
/// recorded yet).
pub const FIX_KEY: &str = "fix";

/// A rejected profile's fix, bound to its client: see [`Client::fix_profile`].
#[must_use = "a fix does nothing until `.run().await`"]
pub struct ProfileFix<'a> {
    client: &'a Client,
    input: &'a SecondaryProfile,
    journal: Journal,
    store: Arc<dyn JournalStore>,
    options: FlowOptions,
}

impl fmt::Debug for ProfileFix<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProfileFix")
            .field("input", &self.input)
            .field("flow_id", &self.journal.flow_id)
            .finish_non_exhaustive()
    }
}

/// What a fix did.
#[derive(Debug)]
pub struct FixReport {
    /// The journal after the fix (the corrected input's digests, the new evaluation, the
    /// resubmission counted).
    pub journal: Journal,
    /// The parts of the input that changed and were updated at Twilio (`business_information`,
    /// `representative_1`, `address`, `bundle`...).
    pub updated: Vec<String>,
    /// The new evaluation.
    pub evaluation: Evaluation,
    /// The status Twilio answered to the resubmission (`pending-review`, or the bundle's status
    /// when an earlier run's resubmission went through).
    pub status: CustomerProfileStatus,
    /// Every step, in the order they finished.
    pub steps: Vec<StepRecord>,
    /// Wall time.
    pub elapsed: Duration,
}

impl Client {
    /// Fixes the rejected profile `journal` recorded with the corrected `input` and resubmits it
    /// (see [`ProfileFix::run`]).
    ///
    /// ```
    /// # use trusthub::flow::{MemoryStore, SecondaryProfile};
    /// # async fn demo(client: trusthub::Client, corrected: SecondaryProfile, store: MemoryStore) -> Result<(), trusthub::FlowError> {
    /// let journal = store.latest().expect("the profile's journal");
    /// let fixed = client.fix_profile(&corrected, journal).journal(store).run().await?;
    /// println!("updated {:?}, now {}", fixed.updated, fixed.status);
    /// # Ok(()) }
    /// ```
    pub fn fix_profile<'a>(
        &'a self,
        input: &'a SecondaryProfile,
        journal: Journal,
    ) -> ProfileFix<'a> {
        ProfileFix {
            client: self,
            input,
            journal,
            store: Arc::new(NoStore),
            options: FlowOptions::default(),
        }
    }
}

impl ProfileFix<'_> {
    /// Where the journal goes.
    pub fn journal(mut self, store: impl JournalStore + 'static) -> Self {
        self.store = Arc::new(store);
        self
    }

    /// How requests are sent (the in-flight cap, the observer).
    pub fn options(mut self, options: FlowOptions) -> Self {
        self.options = options;
        self
    }

    /// Updates what changed, evaluates again and resubmits, once.
    ///
    /// Refused before anything is sent: a journal of another format or key, a profile the
    /// journal does not hold as submitted, a change no update can make (the policy, the primary
    /// profile, an address's country or an address given by SID: create a new profile)
    /// ([`FlowError::StaleJournal`]), a profile Twilio has not rejected
    /// ([`FlowError::NotRejected`]), and a corrected input whose evaluation is not compliant
    /// ([`FlowError::NotCompliant`], after the updates). A resubmission whose answer was lost
    /// is recognised by the bundle's status; running the fix again then sends nothing.
    pub async fn run(self) -> Result<FixReport, FlowError> {
        let key = self.store.digest_key();
        let journal = check_format_and_key(self.journal, key)?;
        let bundle = journal
            .bundle
            .filter(|_| journal.submitted)
            .ok_or_else(|| FlowError::StaleJournal {
                detail: "the journal holds no submitted profile to fix".into(),
            })?;
        let now = self.input.input_digests(key);
        let changed: Vec<&'static str> = INPUT_PARTS
            .iter()
            .copied()
            .filter(|part| journal.input.get(*part) != now.get(*part))
            .collect();
        let refused: Vec<String> = changed
            .iter()
            .filter_map(|part| not_updatable(&journal, self.input, part))
            .collect();
        if !refused.is_empty() {
            return Err(FlowError::StaleJournal {
                detail: format!(
                    "these changes cannot be made by an update: {}",
                    refused.join("; ")
                ),
            });
        }
        let engine = Engine::new(
            self.client,
            journal,
            self.store.as_ref(),
            &self.options,
            self.input.warnings.clone(),
        );
        let fixed = Box::pin(fix(&engine, self.input, bundle, &changed, &now)).await;
        let (journal, steps, _, elapsed) = engine.into_parts();
        let (evaluation, status) = fixed?;
        Ok(FixReport {
            journal,
            updated: changed.iter().map(|p| (*p).to_owned()).collect(),
            evaluation,
            status,
            steps,
            elapsed,
        })
    }
}

/// Why a changed part cannot be fixed by an update, if it cannot.
fn not_updatable(journal: &Journal, input: &SecondaryProfile, part: &str) -> Option<String> {
    match part {
        "primary_profile" => Some("primary_profile (a profile's primary profile is fixed)".into()),
        "bundle" if journal.policy.is_some_and(|p| p != input.policy) => {
            Some("the policy (a profile's policy is fixed)".into())
        }
        "address" => match (&input.address, journal.address_created) {
            (AddressInput::New(_), true) => None,
            _ => Some("address (an address given by SID is not the flow's to update)".into()),
        },
        "representative_1" | "representative_2" | "business_information"
            if !journal.end_users.contains_key(part) =>
        {
            Some(format!("{part} (no end user of it was created)"))
        }
        _ => None,
    }
}

async fn fix(
    engine: &Engine<'_>,
    input: &SecondaryProfile,
    bundle: CustomerProfileSid,
    changed: &[&'static str],
    now: &std::collections::BTreeMap<String, String>,
) -> Result<(Evaluation, CustomerProfileStatus), FlowError> {
    let client = engine.client;
    // The bundle must be rejected, or an earlier run's resubmission went through.
    let step = Step::Review;
    let status = status_of(
        engine
            .call(client.customer_profiles().fetch(bundle).send())
            .await
            .map_err(|e| step_error(&step, Some(bundle.into()), e))?,
    );
    let in_progress =
        engine.journal(|j| j.intents.contains_key(FIX_KEY) || j.intents.contains_key("resubmit"));
    if status != CustomerProfileStatus::TwilioRejected && !in_progress {
        return Err(FlowError::NotRejected { bundle, status });
    }
    // Marked before the first update: a fix interrupted anywhere after this is recognised as
    // one in progress (by this call and by a batch), and running it again finishes it.
    engine
        .save(&Step::Resubmit, |j| {
            j.intents.entry(FIX_KEY.to_owned()).or_insert(Intent {
                at: time::OffsetDateTime::now_utc(),
                criteria: None,
            });
        })
        .await?;
    // Only what changed is updated; each update journals the part's new digest.
    let updates = changed
        .iter()
        .map(|part| update(engine, input, bundle, part, now));
    for result in futures_util::future::join_all(updates).await {
        result?;
    }
    // A new evaluation when something was updated (each update dropped the old one, which
    // judged the old input); the journaled one otherwise (a fix resumed after its evaluation).
    let evaluation = evaluate_profile(engine, bundle, input.policy).await?;
    if !evaluation.is_compliant() {
        return Err(FlowError::NotCompliant {
            bundle: Some(bundle),
        });
    }
    let status = engine
        .submit_once(
            Step::Resubmit,
            bundle.into(),
            |_| false,
            |j| {
                j.intents.remove(FIX_KEY);
                j.resubmissions += 1;
                // Watched again: its review starts over.
                j.statuses
                    .insert(bundle.into(), "pending-review".to_owned());
            },
            || async {
                client
                    .customer_profiles()
                    .fetch(bundle)
                    .send()
                    .await
                    .map(status_of)
            },
            || async {
                client
                    .customer_profiles()
                    .update(bundle)
                    .status(CustomerProfileStatus::PendingReview)
                    .send()
                    .await
                    .map(status_of)
            },
            |s| *s == CustomerProfileStatus::TwilioRejected,
        )
        .await?;
    Ok((evaluation, status))
}

/// Updates the resource built from `part` and journals the part's new digest.
async fn update(
    engine: &Engine<'_>,
    input: &SecondaryProfile,
    bundle: CustomerProfileSid,
    part: &'static str,
    now: &std::collections::BTreeMap<String, String>,
) -> Result<(), FlowError> {
    let client = engine.client;
    let began = Instant::now();
    let (step, resource): (Step, ObjectSid) = match part {
        "bundle" => {
            let step = Step::UpdateBundle;
            let mut request = client
                .customer_profiles()
                .update(bundle)
                .friendly_name(input.friendly_name.as_str())
                .email(input.email.as_str());
            if let Some(url) = &input.status_callback {
                request = request.status_callback(url.as_str());
            }
            engine
                .call(request.send())
                .await
                .map_err(|e| step_error(&step, Some(bundle.into()), e))?;
            (step, bundle.into())
        }
        "address" => {
            let step = Step::UpdateAddress;
            let (AddressInput::New(a), Some(sid)) = (&input.address, engine.journal(|j| j.address))
            else {
                unreachable!("checked by not_updatable")
            };
            // Twilio does not update an address's country: a new country is a new profile.
            let current = engine
                .call(client.addresses().fetch(sid).send())
                .await
                .map_err(|e| step_error(&step, Some(sid.into()), e))?;
            if current.iso_country.as_deref() != Some(a.iso_country.as_str()) {
                return Err(FlowError::StaleJournal {
                    detail: "these changes cannot be made by an update: address.iso_country (an \
                             address's country is fixed)"
                        .into(),
                });
            }
            let mut request = client
                .addresses()
                .update(sid)
                .customer_name(a.customer_name.as_str())
                .street(a.street.as_str())
                .city(a.city.as_str())
                .region(a.region.as_str())
                .postal_code(a.postal_code.as_str());
            if let Some(s) = a.street_secondary.as_deref().filter(|s| !s.is_empty()) {
                request = request.street_secondary(s);
            }
            engine
                .call(request.send())
                .await
                .map_err(|e| step_error(&step, Some(sid.into()), e))?;
            (step, sid.into())
        }
        role_key => {
            let role = EndUserRole::ALL
                .into_iter()
                .find(|r| r.key() == role_key)
                .expect("the other parts are end users");
            let step = Step::UpdateEndUser(role);
            let sid = engine
                .journal(|j| j.end_users.get(role_key).copied())
                .expect("checked by not_updatable");
            let attributes = match role {
                EndUserRole::BusinessInformation => input.business.to_attributes(),
                EndUserRole::Representative1 => input
                    .representative_1
                    .as_ref()
                    .map(|r| r.to_attributes())
                    .unwrap_or_default(),
                EndUserRole::Representative2 => input
                    .representative_2
                    .as_ref()
                    .map(|r| r.to_attributes())
                    .unwrap_or_default(),
            };
            engine
                .call(client.end_users().update(sid).attributes(attributes).send())
                .await
                .map_err(|e| step_error(&step, Some(sid.into()), e))?;
            (step, sid.into())
        }
    };
    let digest = now.get(part).cloned().unwrap_or_default();
    engine
        .finish(step, Some(resource), began, Outcome::Created, |j| {
            let mut input = j.input.as_ref().clone();
            input.insert(part.to_owned(), digest);
            j.input = Arc::new(input);
            // The evaluation judged the old input.
            j.evaluation = None;
            j.compliant = None;
        })
        .await
}
