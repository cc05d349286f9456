//! The Secondary Customer Profile flow's steps on the engine ([`super::engine`]): each step as a
//! future joined as soon as its inputs exist; the submission (step 10), the review and cleanup.

use std::ops::Deref;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::future::join_all;
use futures_util::TryStreamExt;
use serde_json::Value;
use tokio::sync::watch;
use trusthub_generated::runtime::{Error, StringEnum};
use trusthub_generated::trusthub_v1::{
    CustomerProfile, CustomerProfileChannelEndpointAssignment, CustomerProfileEntityAssignment,
    CustomerProfileEvaluation, CustomerProfileStatus, EndUser, Policy, SupportingDocument,
};

use super::engine::{created_sid, step_error, Engine};
use super::{
    AddressInput, EndUserRole, FlowError, FlowOptions, FlowReport, Journal, JournalStore, Outcome,
    Preflight, ProfileSource, SecondaryProfile, Step, Submission,
};
use crate::attributes::{CustomerProfileAddress, Warning, WarningKind};
use crate::evaluation::Evaluation;
use crate::sid::{
    AddressSid, ChannelEndpointAssignmentSid, CustomerProfileSid, EndUserSid, EntityAssignmentSid,
    ObjectSid, PhoneNumberSid, PolicySid, SupportingDocumentSid,
};
use crate::Client;

pub(crate) use super::engine::new_flow_id;

/// The profile flow's steps: the engine, the input, and (in a journey that goes on from the
/// profile) who to tell as soon as the bundle exists (dropped with the steps: no bundle will
/// come).
pub(crate) struct ProfileSteps<'a> {
    engine: &'a Engine<'a>,
    input: &'a SecondaryProfile,
    bundle_ready: Option<watch::Sender<Option<CustomerProfileSid>>>,
}

impl<'a> Deref for ProfileSteps<'a> {
    type Target = Engine<'a>;
    fn deref(&self) -> &Engine<'a> {
        self.engine
    }
}

impl<'a> ProfileSteps<'a> {
    pub(crate) fn new(
        engine: &'a Engine<'a>,
        input: &'a SecondaryProfile,
        bundle_ready: Option<watch::Sender<Option<CustomerProfileSid>>>,
    ) -> Self {
        ProfileSteps {
            engine,
            input,
            bundle_ready,
        }
    }
    /// Steps 1-9: the checks, then every create and assignment, then the evaluation.
    pub(crate) async fn steps(&self) -> Result<Evaluation, FlowError> {
        // Before anything is created: the policy against the input, and the primary profile.
        let policy = self.preflight().await?;
        self.after_checks(policy).await
    }

    /// Steps 2-9, once the checks passed.
    pub(crate) async fn after_checks(&self, policy: PolicySid) -> Result<Evaluation, FlowError> {
        let r = self;
        let input = self.input;
        let end_user = |role: EndUserRole| async move {
            let attributes = match role {
                EndUserRole::BusinessInformation => Some(input.business.to_attributes()),
                EndUserRole::Representative1 => {
                    input.representative_1.as_ref().map(|x| x.to_attributes())
                }
                EndUserRole::Representative2 => {
                    input.representative_2.as_ref().map(|x| x.to_attributes())
                }
            };
            match attributes {
                Some(a) => r.end_user(role, a).await.map(Some),
                None => Ok(None),
            }
        };
        // Round trip 1: bundle, end users, address. Round trip 2: document.
        // `join!`, not `try_join!`: when one step fails the others still finish and are journaled,
        // so nothing is left created but unrecorded (cleanup and resume see everything).
        let (bundle, business, rep_1, rep_2, document) = tokio::join!(
            r.bundle(),
            end_user(EndUserRole::BusinessInformation),
            end_user(EndUserRole::Representative1),
            end_user(EndUserRole::Representative2),
            async { r.document(r.address().await?).await },
        );
        let (bundle, business, rep_1, rep_2, document) =
            (bundle?, business?, rep_1?, rep_2?, document?);
        // Round trip 3: every assignment at once.
        let mut objects: Vec<(&'static str, ObjectSid)> = Vec::new();
        for (role, sid) in [
            (EndUserRole::BusinessInformation, business),
            (EndUserRole::Representative1, rep_1),
            (EndUserRole::Representative2, rep_2),
        ] {
            if let Some(sid) = sid {
                objects.push((role.key(), sid.into()));
            }
        }
        objects.push(("address document", document.into()));
        objects.push(("primary profile", input.primary_profile.into()));
        let (entities, numbers) = tokio::join!(
            join_all(
                objects
                    .iter()
                    .map(|(what, object)| r.assign(bundle, what, *object))
            ),
            join_all(
                input
                    .phone_numbers
                    .iter()
                    .map(|pn| r.assign_phone_number(bundle, *pn))
            ),
        );
        for result in entities {
            result?;
        }
        for result in numbers {
            result?;
        }
        // Round trip 4: evaluation.
        r.evaluate(bundle, policy).await
    }

    // ---- before anything is created ----

    /// Step 1 and the primary profile: checked (or reused from the options) before any create.
    pub(crate) async fn preflight(&self) -> Result<PolicySid, FlowError> {
        let began = Instant::now();
        let primary = self.input.primary_profile;
        if let Some(policy) = self.journal(|j| j.policy) {
            self.reuse(Step::ConfirmPrimaryProfile, primary.into(), began)
                .await?;
            self.reuse(Step::ConfirmPolicy, policy.into(), began)
                .await?;
            return Ok(policy);
        }
        let policy_sid = self.input.policy;
        let given = self
            .options
            .preflight
            .clone()
            .filter(|p| p.policy_sid() == policy_sid && p.primary_profile() == primary);
        let checked = match given {
            Some(checked) => checked,
            None => Arc::new(
                Preflight::check_limited(self.client, policy_sid, primary, &self.options.limiter)
                    .await?,
            ),
        };
        let problems = check_policy(self.input, checked.policy());
        if !problems.is_empty() {
            if !self.options.allow_incomplete {
                return Err(FlowError::PolicyMismatch {
                    policy: policy_sid,
                    problems,
                });
            }
            let mut warnings = self.warnings.lock().expect("warnings lock");
            for p in problems {
                warnings.push(Warning::new("policy", WarningKind::Flow, p));
            }
        }
        // One save records both checks.
        self.save(&Step::ConfirmPolicy, |j| j.policy = Some(policy_sid))
            .await?;
        for (step, sid) in [
            (Step::ConfirmPrimaryProfile, ObjectSid::from(primary)),
            (Step::ConfirmPolicy, policy_sid.into()),
        ] {
            self.record(step, Some(sid), began, Outcome::Checked);
        }
        Ok(policy_sid)
    }

    // ---- step 2 ----

    async fn bundle(&self) -> Result<CustomerProfileSid, FlowError> {
        let step = Step::CreateBundle;
        let input = self.input;
        let create = || async {
            let mut request = self.creates.customer_profiles().create(
                input.friendly_name.as_str(),
                input.email.as_str(),
                input.policy,
            );
            if let Some(url) = &input.status_callback {
                request = request.status_callback(url.as_str());
            }
            let profile = self
                .call(request.send())
                .await
                .map_err(|e| step_error(&step, None, e))?;
            created_sid(&step, "CreateCustomerProfile", profile.sid)
        };
        let find = || {
            let list = self
                .client
                .customer_profiles()
                .list()
                .friendly_name(input.friendly_name.as_str())
                .policy_sid(input.policy)
                .page_size(50)
                .into_stream();
            let matches = |p: &CustomerProfile| {
                p.email.as_deref() == Some(input.email.as_str())
                    && p.status_callback.as_deref().filter(|u| !u.is_empty())
                        == input.status_callback.as_deref()
            };
            self.lookup(&step, None, list, matches, |p| (p.sid, p.date_created))
        };
        // The bundle carries no tag of the flow: it is found by its fields, which other flows
        // of the same store may share (their lost creates are rivals).
        let criteria = self.journal(|j| j.input.get("bundle").cloned());
        let bundle = self
            .ensure(
                step.clone(),
                |j| j.bundle,
                criteria,
                create,
                find,
                |j, sid| j.bundle = Some(sid),
            )
            .await?;
        if let Some(ready) = &self.bundle_ready {
            ready.send_replace(Some(bundle));
        }
        Ok(bundle)
    }

    // ---- steps 3-4 ----

    async fn end_user(
        &self,
        role: EndUserRole,
        attributes: Value,
    ) -> Result<EndUserSid, FlowError> {
        let step = Step::CreateEndUser(role);
        let name = self.tag(role.key());
        let create = || async {
            let user = self
                .call(
                    self.creates
                        .end_users()
                        .create(name.as_str(), role.end_user_type())
                        .attributes(attributes.clone())
                        .send(),
                )
                .await
                .map_err(|e| step_error(&step, None, e))?;
            created_sid(&step, "CreateEndUser", user.sid)
        };
        let find = || {
            let list = self.client.end_users().list().page_size(1000).into_stream();
            let matches = |u: &EndUser| u.friendly_name.as_deref() == Some(name.as_str());
            self.lookup(&step, None, list, matches, |u| (u.sid, u.date_created))
        };
        self.ensure(
            step.clone(),
            |j| j.end_users.get(role.key()).copied(),
            None,
            create,
            find,
            |j, sid| {
                j.end_users.insert(role.key().to_owned(), sid);
            },
        )
        .await
    }

    // ---- step 5 ----

    async fn address(&self) -> Result<AddressSid, FlowError> {
        let step = Step::CreateAddress;
        let address = match &self.input.address {
            AddressInput::Existing(sid) => {
                let sid = *sid;
                let outcome = if self.journal(|j| j.address.is_some()) {
                    Outcome::Journaled
                } else {
                    Outcome::Checked
                };
                self.finish(step, Some(sid.into()), Instant::now(), outcome, |j| {
                    j.address = Some(sid);
                    j.address_created = false;
                })
                .await?;
                return Ok(sid);
            }
            AddressInput::New(address) => address,
        };
        let name = self.tag("address");
        let create = || async {
            let mut request = self
                .creates
                .addresses()
                .create(
                    address.customer_name.as_str(),
                    address.street.as_str(),
                    address.city.as_str(),
                    address.region.as_str(),
                    address.postal_code.as_str(),
                    address.iso_country.as_str(),
                )
                .friendly_name(name.as_str());
            if let Some(s) = address
                .street_secondary
                .as_deref()
                .filter(|s| !s.is_empty())
            {
                request = request.street_secondary(s);
            }
            if let Some(e) = address.emergency_enabled {
                request = request.emergency_enabled(e);
            }
            if let Some(a) = address.auto_correct_address {
                request = request.auto_correct_address(a);
            }
            let created = self
                .call(request.send())
                .await
                .map_err(|e| step_error(&step, None, e))?;
            created_sid(&step, "CreateAddress", created.sid)
        };
        let find = || {
            let list = self
                .client
                .addresses()
                .list()
                .friendly_name(name.as_str())
                .into_stream();
            // The 2010 API's RFC 2822 dates have no sub-second part; the tag makes the match.
            self.lookup(&step, None, list, |_| true, |a| (a.sid, None))
        };
        self.ensure(
            step.clone(),
            |j| j.address,
            None,
            create,
            find,
            |j, sid| {
                j.address = Some(sid);
                j.address_created = true;
            },
        )
        .await
    }

    // ---- step 6 ----

    async fn document(&self, address: AddressSid) -> Result<SupportingDocumentSid, FlowError> {
        let step = Step::CreateDocument;
        let name = self.tag(CustomerProfileAddress::SUPPORTING_DOCUMENT_TYPE);
        let attributes = CustomerProfileAddress {
            address_sid: address,
        }
        .to_attributes();
        let create = || async {
            let document = self
                .call(
                    self.creates
                        .supporting_documents()
                        .create(
                            name.as_str(),
                            CustomerProfileAddress::SUPPORTING_DOCUMENT_TYPE,
                        )
                        .attributes(attributes.clone())
                        .send(),
                )
                .await
                .map_err(|e| step_error(&step, Some(address.into()), e))?;
            created_sid(&step, "CreateSupportingDocument", document.sid)
        };
        let find = || {
            let list = self
                .client
                .supporting_documents()
                .list()
                .page_size(1000)
                .into_stream();
            let matches =
                |d: &SupportingDocument| d.friendly_name.as_deref() == Some(name.as_str());
            self.lookup(&step, None, list, matches, |d| (d.sid, d.date_created))
        };
        self.ensure(
            step.clone(),
            |j| j.document,
            None,
            create,
            find,
            |j, sid| j.document = Some(sid),
        )
        .await
    }

    // ---- steps 7-8 ----

    async fn assign(
        &self,
        bundle: CustomerProfileSid,
        what: &'static str,
        object: ObjectSid,
    ) -> Result<EntityAssignmentSid, FlowError> {
        let step = Step::AssignEntity { what, object };
        let key = object;
        let assignments = self.client.customer_profiles().entity_assignments(bundle);
        let create = || async {
            let assignment = self
                .call(
                    self.creates
                        .customer_profiles()
                        .entity_assignments(bundle)
                        .create(object)
                        .send(),
                )
                .await
                .map_err(|e| step_error(&step, Some(bundle.into()), e))?;
            created_sid(
                &step,
                "CreateCustomerProfileEntityAssignment",
                assignment.sid,
            )
        };
        let find = || {
            let list = assignments.list().page_size(1000).into_stream();
            let matches = |a: &CustomerProfileEntityAssignment| a.object_sid == Some(object);
            self.lookup(&step, Some(bundle), list, matches, |a| {
                (a.sid, a.date_created)
            })
        };
        let journaled = |j: &Journal| j.entity_assignments.get(&key).copied();
        let record = |j: &mut Journal, sid| {
            j.entity_assignments.insert(key, sid);
        };
        self.ensure(step.clone(), journaled, None, create, find, record)
            .await
    }

    // ---- step 9: phone numbers ----

    async fn assign_phone_number(
        &self,
        bundle: CustomerProfileSid,
        number: PhoneNumberSid,
    ) -> Result<ChannelEndpointAssignmentSid, FlowError> {
        let step = Step::AssignPhoneNumber(number);
        let key = number;
        let assignments = self
            .client
            .customer_profiles()
            .channel_endpoint_assignments(bundle);
        let create = || async {
            let assignment = self
                .call(
                    self.creates
                        .customer_profiles()
                        .channel_endpoint_assignments(bundle)
                        .create("phone-number", number)
                        .send(),
                )
                .await
                .map_err(|e| step_error(&step, Some(bundle.into()), e))?;
            created_sid(
                &step,
                "CreateCustomerProfileChannelEndpointAssignment",
                assignment.sid,
            )
        };
        let find = || {
            let list = assignments
                .list()
                .channel_endpoint_sid(number)
                .into_stream();
            let matches = |a: &CustomerProfileChannelEndpointAssignment| {
                a.channel_endpoint_sid == Some(ObjectSid::from(number))
            };
            self.lookup(&step, Some(bundle), list, matches, |a| {
                (a.sid, a.date_created)
            })
        };
        let journaled = |j: &Journal| j.channel_endpoint_assignments.get(&key).copied();
        let record = |j: &mut Journal, sid| {
            j.channel_endpoint_assignments.insert(key, sid);
        };
        self.ensure(step.clone(), journaled, None, create, find, record)
            .await
    }

    // ---- step 9: evaluation ----

    async fn evaluate(
        &self,
        bundle: CustomerProfileSid,
        policy: PolicySid,
    ) -> Result<Evaluation, FlowError> {
        evaluate_profile(self.engine, bundle, policy).await
    }
}

/// The profile's evaluation step (step 9; again after a fix): the journaled evaluation, or a
/// new one.
pub(crate) async fn evaluate_profile(
    engine: &Engine<'_>,
    bundle: CustomerProfileSid,
    policy: PolicySid,
) -> Result<Evaluation, FlowError> {
    let evaluations = engine.client.customer_profiles().evaluations(bundle);
    engine
        .evaluation(
            Step::Evaluate,
            bundle.into(),
            "CreateCustomerProfileEvaluation",
            engine.journal(|j| j.evaluation),
            |sid| evaluations.fetch(sid).send(),
            || {
                engine
                    .creates
                    .customer_profiles()
                    .evaluations(bundle)
                    .create(policy)
                    .send()
            },
            || evaluations.list().into_stream().try_collect::<Vec<_>>(),
            |e: &CustomerProfileEvaluation| (e.sid, e.date_created),
            |j, sid, compliant| {
                j.evaluation = Some(sid);
                j.compliant = Some(compliant);
            },
        )
        .await
}

/// The secondary profile part of a flow that goes on from it (the A2P journey, the voice trust
/// products): its checks before anything is created, then its steps and submission, telling
/// the rest of the flow as soon as its bundle exists.
pub(crate) enum ProfilePhase<'a> {
    /// A new profile, checked: steps 2-9 and the submission are left.
    New {
        /// Its steps (they hold the sender the bundle is announced on).
        steps: ProfileSteps<'a>,
        /// The policy checked.
        policy: PolicySid,
    },
    /// An existing profile, confirmed submitted.
    Existing(CustomerProfileSid),
}

impl<'a> ProfilePhase<'a> {
    /// Runs the checks (a new profile's policy and primary profile; an existing profile's
    /// submission, unless `confirmed` says an earlier run saw it, `mark` journaling that it did)
    /// and returns the rest of the phase and where the bundle will be announced.
    pub(crate) async fn check(
        engine: &'a Engine<'a>,
        source: &'a ProfileSource,
        confirmed: bool,
        mark: impl FnOnce(&mut Journal),
    ) -> Result<(Self, watch::Receiver<Option<CustomerProfileSid>>), FlowError> {
        let (ready_tx, ready_rx) = watch::channel(None);
        let phase = match source {
            ProfileSource::New(profile) => {
                let steps = ProfileSteps::new(engine, profile, Some(ready_tx));
                let policy = steps.preflight().await?;
                ProfilePhase::New { steps, policy }
            }
            ProfileSource::Existing(bundle) => {
                confirm_submitted(engine, *bundle, confirmed, mark).await?;
                ready_tx.send_replace(Some(*bundle));
                ProfilePhase::Existing(*bundle)
            }
        };
        Ok((phase, ready_rx))
    }

    /// Steps 2-9 and the submission of a new profile (a noncompliant one is
    /// [`FlowError::NotCompliant`] unless it was submitted already); nothing for an existing
    /// one. Returns the bundle and the new profile's evaluation.
    pub(crate) async fn build_and_submit(
        self,
    ) -> Result<(CustomerProfileSid, Option<Evaluation>), FlowError> {
        let (steps, policy) = match self {
            ProfilePhase::Existing(bundle) => return Ok((bundle, None)),
            ProfilePhase::New { steps, policy } => (steps, policy),
        };
        let engine = steps.engine;
        let evaluation = steps.after_checks(policy).await;
        // The bundle exists or never will: who waits for it stops waiting.
        drop(steps);
        let evaluation = evaluation?;
        let bundle = engine
            .journal(|j| j.bundle)
            .expect("the profile flow created the bundle");
        if !evaluation.is_compliant() && !engine.journal(|j| j.submitted) {
            return Err(FlowError::NotCompliant {
                bundle: Some(bundle),
            });
        }
        submit_profile(engine, bundle).await?;
        Ok((bundle, Some(evaluation)))
    }
}

/// Checks that an existing profile is this account's and submitted (`pending-review`,
/// `in-review` or `twilio-approved`): what goes on from it needs it reviewed.
async fn confirm_submitted(
    engine: &Engine<'_>,
    bundle: CustomerProfileSid,
    confirmed: bool,
    mark: impl FnOnce(&mut Journal),
) -> Result<(), FlowError> {
    let step = Step::ConfirmProfile;
    let began = Instant::now();
    if confirmed {
        return engine.reuse(step, bundle.into(), began).await;
    }
    let profile = engine
        .call(engine.client.customer_profiles().fetch(bundle).send())
        .await
        .map_err(|e| step_error(&step, Some(bundle.into()), e))?;
    let status = status_of(profile);
    if !matches!(
        status,
        CustomerProfileStatus::PendingReview
            | CustomerProfileStatus::InReview
            | CustomerProfileStatus::TwilioApproved
    ) {
        return Err(FlowError::ProfileNotSubmitted {
            profile: bundle,
            status,
        });
    }
    engine.save(&step, mark).await?;
    engine.record(step, Some(bundle.into()), began, Outcome::Checked);
    Ok(())
}

/// What the policy asks that the input does not provide.
pub(crate) fn check_policy(input: &SecondaryProfile, policy: &Policy) -> Vec<String> {
    let mut problems = Vec::new();
    let Some(requirements) = &policy.requirements else {
        return vec!["the policy has no requirements to check the input against".into()];
    };
    for requirement in requirements.end_user.iter().flatten() {
        let kind = requirement.type_.as_deref().unwrap_or_default();
        let attributes = match kind {
            t if t == EndUserRole::BusinessInformation.end_user_type() => {
                Some(input.business.to_attributes())
            }
            t if t == EndUserRole::Representative1.end_user_type() => {
                input.representative_1.as_ref().map(|r| r.to_attributes())
            }
            t if t == EndUserRole::Representative2.end_user_type() => {
                input.representative_2.as_ref().map(|r| r.to_attributes())
            }
            other => {
                problems.push(format!(
                    "end user of type `{other}`, which this flow does not create"
                ));
                continue;
            }
        };
        let Some(attributes) = attributes else {
            problems.push(format!("end user `{kind}`, which the input does not have"));
            continue;
        };
        for field in requirement.fields.iter().flatten() {
            if attributes.get(field).is_none() {
                problems.push(format!(
                    "field `{field}` of `{kind}`, which the typed attributes do not carry"
                ));
            }
        }
    }
    for alternatives in requirements.supporting_document.iter().flatten() {
        let satisfied = alternatives.iter().any(|requirement| {
            requirement.accepted_documents.iter().flatten().any(|d| {
                d.type_.as_deref() == Some(CustomerProfileAddress::SUPPORTING_DOCUMENT_TYPE)
            })
        });
        if !satisfied {
            let names: Vec<&str> = alternatives
                .iter()
                .filter_map(|r| r.requirement_name.as_deref().or(r.name.as_deref()))
                .collect();
            problems.push(format!(
                "supporting document `{}`, which this flow does not create",
                names.join("` or `")
            ));
        }
    }
    if requirements
        .supporting_trust_products
        .as_ref()
        .is_some_and(|t| !t.is_empty())
    {
        problems.push("supporting trust products, which this flow does not assign".into());
    }
    problems
}

pub(crate) async fn run(
    input: &SecondaryProfile,
    client: &Client,
    journal: Journal,
    store: Arc<dyn JournalStore>,
    options: FlowOptions,
) -> Result<FlowReport, FlowError> {
    let engine = Engine::new(
        client,
        journal,
        store.as_ref(),
        &options,
        input.warnings.clone(),
    );
    let evaluation = ProfileSteps::new(&engine, input, None).steps().await?;
    let (journal, steps, warnings, elapsed) = engine.into_parts();
    Ok(FlowReport {
        journal,
        evaluation,
        steps,
        warnings,
        elapsed,
        client: client.clone(),
        store,
        options,
    })
}

/// The bundle's status; an answer without one reads as an empty `Unlisted` status.
async fn fetch_status(
    client: &Client,
    bundle: CustomerProfileSid,
    step: &Step,
) -> Result<CustomerProfileStatus, FlowError> {
    let profile = client
        .customer_profiles()
        .fetch(bundle)
        .send()
        .await
        .map_err(|e| step_error(step, Some(bundle.into()), e))?;
    Ok(status_of(profile))
}

pub(crate) fn status_of(profile: CustomerProfile) -> CustomerProfileStatus {
    profile
        .status
        .unwrap_or_else(|| CustomerProfileStatus::from_wire(""))
}

/// Step 10 (see [`Engine::submit_once`]): submits the bundle unless the journal says it was.
pub(crate) async fn submit(
    client: &Client,
    journal: &mut Journal,
    store: &dyn JournalStore,
    options: &FlowOptions,
    submission: Submission,
) -> Result<CustomerProfileStatus, FlowError> {
    let bundle = journal
        .bundle
        .ok_or(FlowError::NotCompliant { bundle: None })?;
    if !journal.submitted
        && submission == Submission::WhenCompliant
        && journal.compliant != Some(true)
    {
        return Err(FlowError::NotCompliant {
            bundle: Some(bundle),
        });
    }
    // Under the run's options: its limiter counts the submission with the flow's requests.
    let engine = Engine::new(client, journal.clone(), store, options, Vec::new());
    let status = submit_profile(&engine, bundle).await;
    *journal = engine.into_parts().0;
    status
}

/// Submits `bundle` once, its intent saved first (see [`Engine::submit_once`]).
pub(crate) async fn submit_profile(
    engine: &Engine<'_>,
    bundle: CustomerProfileSid,
) -> Result<CustomerProfileStatus, FlowError> {
    let client = engine.client;
    engine
        .submit_once(
            Step::Submit,
            bundle.into(),
            |j| j.submitted,
            |j| j.submitted = true,
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
            |status| *status == CustomerProfileStatus::Draft,
        )
        .await
}

pub(crate) async fn wait_for_status(
    client: &Client,
    bundle: CustomerProfileSid,
    targets: &[CustomerProfileStatus],
    timeout: Duration,
    poll: Duration,
) -> Result<CustomerProfileStatus, FlowError> {
    let step = Step::Review;
    let deadline = Instant::now() + timeout;
    loop {
        let status = fetch_status(client, bundle, &step).await?;
        if targets.contains(&status) {
            return Ok(status);
        }
        if Instant::now() + poll > deadline {
            return Err(FlowError::ReviewTimeout {
                bundle,
                last_status: status,
            });
        }
        tokio::time::sleep(poll).await;
    }
}

/// What [`cleanup`] deleted and what it could not.
///
/// A flow that ran without the second representative the policy asks for (allowed with
/// `allow_incomplete`) ends with a bundle that is not compliant; `cleanup` deletes what it
/// created:
///
/// ```
/// use std::sync::Arc;
/// use trusthub::attributes::*;
/// use trusthub::flow::{cleanup, CleanupReport, FlowOptions, MemoryStore, SecondaryProfile};
/// use trusthub::{Client, FlowError};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let emulator = trusthub_emulator::start(Default::default()).await?; // a local Twilio
/// let client = Client::builder()
///     .account_sid(emulator.account_sid().parse()?)
///     .auth_token(emulator.auth_token())
///     .base_url(emulator.base_url())
///     .build()?;
/// # let business = BusinessInformation {
/// #     business_name: "Acme Corp".into(),
/// #     business_identity: BusinessIdentity::DirectCustomer,
/// #     business_type: BusinessType::LimitedLiabilityCorporation,
/// #     business_industry: BusinessIndustry::Technology,
/// #     business_registration_identifier: RegistrationIdentifier::Ein,
/// #     business_registration_number: "12-3456789".into(),
/// #     business_regions_of_operation: Region::UsaAndCanada.into(),
/// #     website_url: "https://acme.example.com".into(),
/// #     social_media_profile_urls: vec![],
/// # };
/// # let ada = AuthorizedRepresentative {
/// #     first_name: "Ada".into(),
/// #     last_name: "Acme".into(),
/// #     email: "ada@acme.example.com".into(),
/// #     phone_number: "+14155550101".into(),
/// #     business_title: "Officer".into(),
/// #     job_position: JobPosition::Ceo,
/// # };
/// # let address = Address {
/// #     customer_name: "Acme Corp".into(),
/// #     street: "555 Main Street".into(),
/// #     city: "San Francisco".into(),
/// #     region: "CA".into(),
/// #     postal_code: "94105".into(),
/// #     iso_country: "US".into(),
/// #     ..Address::default()
/// # };
/// let flow = SecondaryProfile::builder()
///     .friendly_name("Acme Corp")
///     .email("compliance@acme.example.com")
///     .business(business)
///     .representative_1(ada) // the policy asks for two
///     .address(address)
///     .primary_profile(emulator.primary_profile_sid().parse()?)
///     .build()?;
/// // By default the policy check refuses it before anything is created.
/// let refused = client.secondary_profile(&flow).run().await.unwrap_err();
/// assert!(matches!(refused, FlowError::PolicyMismatch { .. }), "{refused}");
///
/// let store = MemoryStore::new();
/// let options = FlowOptions { allow_incomplete: true, ..FlowOptions::default() };
/// let flow_report = client
///     .secondary_profile(&flow)
///     .journal(store.clone())
///     .options(options)
///     .run()
///     .await?;
/// assert!(!flow_report.evaluation.is_compliant());
///
/// let mut journal = store.latest().expect("what was created is journaled");
/// let report: CleanupReport = cleanup(&client, &mut journal, &store).await;
/// assert!(report.failed.is_empty(), "{report:?}");
/// // 4 entity assignments (2 end users, the document, the primary profile), the bundle, the
/// // document, 2 end users, the address.
/// assert_eq!(report.deleted.len(), 9);
/// assert!(journal.end_users.is_empty());
/// assert_eq!((journal.bundle, journal.document, journal.address), (None, None, None));
/// assert_eq!(store.latest(), Some(journal)); // the emptied journal was saved
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Default)]
pub struct CleanupReport {
    /// SIDs deleted.
    pub deleted: Vec<ObjectSid>,
    /// What could not be deleted: each a [`FlowError::Step`] naming its resource, or the
    /// [`FlowError::Journal`] of a journal that could not be saved afterwards.
    pub failed: Vec<FlowError>,
}

/// Deletes what a failed flow created, newest first: assignments, the bundle (unless
/// submitted), the document, the end users, and the address if the flow created it. Resources
/// already gone count as deleted. The journal is updated (and saved) as things go.
pub async fn cleanup(
    client: &Client,
    journal: &mut Journal,
    store: &dyn JournalStore,
) -> CleanupReport {
    let mut report = CleanupReport::default();
    let step = Step::Cleanup;
    let outcome = |report: &mut CleanupReport, sid: ObjectSid, result: Result<(), Error>| -> bool {
        match result {
            Ok(()) => {
                report.deleted.push(sid);
                true
            }
            Err(e) if e.status() == Some(404) => {
                report.deleted.push(sid);
                true
            }
            Err(e) => {
                report.failed.push(FlowError::Step {
                    step: step.clone(),
                    resource: Some(sid),
                    source: Box::new(e),
                });
                false
            }
        }
    };
    if let (Some(bundle), false) = (journal.bundle, journal.submitted) {
        let b = bundle;
        for (key, sid) in journal.channel_endpoint_assignments.clone() {
            let r = client
                .customer_profiles()
                .channel_endpoint_assignments(b)
                .delete(sid)
                .send()
                .await;
            if outcome(&mut report, sid.into(), r) {
                journal.channel_endpoint_assignments.remove(&key);
            }
        }
        for (key, sid) in journal.entity_assignments.clone() {
            let r = client
                .customer_profiles()
                .entity_assignments(b)
                .delete(sid)
                .send()
                .await;
            if outcome(&mut report, sid.into(), r) {
                journal.entity_assignments.remove(&key);
            }
        }
        let r = client.customer_profiles().delete(b).send().await;
        if outcome(&mut report, bundle.into(), r) {
            journal.bundle = None;
            journal.evaluation = None;
        }
    }
    if let Some(sid) = journal.document {
        let r = client.supporting_documents().delete(sid).send().await;
        if outcome(&mut report, sid.into(), r) {
            journal.document = None;
        }
    }
    for (key, sid) in journal.end_users.clone() {
        let r = client.end_users().delete(sid).send().await;
        if outcome(&mut report, sid.into(), r) {
            journal.end_users.remove(&key);
        }
    }
    if let (Some(sid), true) = (journal.address, journal.address_created) {
        let r = client.addresses().delete(sid).send().await;
        if outcome(&mut report, sid.into(), r) {
            journal.address = None;
        }
    }
    if let Err(source) = store.save(journal) {
        report.failed.push(FlowError::Journal { step, source });
    }
    report
}
