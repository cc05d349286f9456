//! The engine of the flow: steps as futures joined as soon as their inputs exist, each create
//! guarded against lost answers, the journal saved after every step.

use std::collections::hash_map::RandomState;
use std::future::Future;
use std::hash::{BuildHasher, Hasher};
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::future::join_all;
use futures_util::TryStreamExt;
use serde_json::Value;
use time::OffsetDateTime;
use trusthub_generated::runtime::{Error as ApiError, ItemStream, StringEnum, TransportErrorKind};
use trusthub_generated::trusthub_v1::{
    CustomerProfile, CustomerProfileChannelEndpointAssignment, CustomerProfileEntityAssignment,
    CustomerProfileStatus, EndUser, Policy, SupportingDocument,
};

use super::{
    AddressInput, EndUserRole, FlowError, FlowOptions, FlowReport, Journal, JournalStore, Outcome,
    SecondaryProfile, Step, StepRecord,
};
use crate::attributes::{CustomerProfileAddress, Warning, WarningKind};
use crate::evaluation::Evaluation;
use crate::sid::{
    AddressSid, ChannelEndpointAssignmentSid, CustomerProfileSid, EndUserSid, EntityAssignmentSid,
    EvaluationSid, ObjectSid, PhoneNumberSid, PolicySid, SupportingDocumentSid,
};
use crate::Client;

/// How far back (from the flow's start) a lost create is looked for: clock skew between this
/// machine and Twilio.
const CLOCK_SKEW: time::Duration = time::Duration::minutes(2);

/// A fresh flow id: `th-` and 16 hex digits.
pub(crate) fn new_flow_id() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut h = RandomState::new().build_hasher();
    h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default(),
    );
    format!("th-{:016x}", h.finish())
}

/// Whether a create that failed this way may nonetheless have been committed by Twilio.
fn maybe_committed(error: &ApiError) -> bool {
    match error {
        ApiError::RetriesExhausted { last, .. } => maybe_committed(last),
        ApiError::Transport { kind, .. } => *kind != TransportErrorKind::Connect,
        ApiError::Timeout { .. } | ApiError::Decode { .. } | ApiError::BodyTooLarge { .. } => true,
        ApiError::Api(api) => api.status >= 500 && api.status != 503,
        _ => false,
    }
}

/// Whether a create that failed this way was surely not committed and may be sent again.
fn transient(error: &ApiError) -> bool {
    match error {
        ApiError::RetriesExhausted { last, .. } => transient(last),
        ApiError::Transport { kind, .. } => *kind == TransportErrorKind::Connect,
        ApiError::Api(api) => api.status == 429 || api.status == 503,
        _ => false,
    }
}

fn parse_sid<T: FromStr>(
    step: &Step,
    operation: &'static str,
    value: Option<String>,
) -> Result<T, FlowError>
where
    T::Err: std::fmt::Display,
{
    let text = value.unwrap_or_default();
    text.parse::<T>().map_err(|e| FlowError::Step {
        step: step.clone(),
        resource: None,
        source: Box::new(ApiError::Decode {
            operation,
            status: 200,
            detail: format!("the answer's `sid` is not a valid SID: {e}"),
        }),
    })
}

struct Runner<'a> {
    client: &'a Client,
    input: &'a SecondaryProfile,
    options: &'a FlowOptions,
    journal: Mutex<Journal>,
    store: &'a dyn JournalStore,
    resumed: bool,
    records: Mutex<Vec<StepRecord>>,
    warnings: Mutex<Vec<Warning>>,
    started: Instant,
}

impl Runner<'_> {
    fn step_error(step: &Step, resource: Option<String>, source: ApiError) -> FlowError {
        FlowError::Step {
            step: step.clone(),
            resource,
            source: Box::new(source),
        }
    }

    /// Applies `update` to the journal and saves it; then records the step.
    fn finish(
        &self,
        step: Step,
        sid: Option<String>,
        began: Instant,
        outcome: Outcome,
        update: impl FnOnce(&mut Journal),
    ) -> Result<(), FlowError> {
        {
            let mut journal = self.journal.lock().expect("journal lock");
            update(&mut journal);
            if outcome != Outcome::Journaled {
                self.store
                    .save(&journal)
                    .map_err(|source| FlowError::Journal {
                        step: step.clone(),
                        source,
                    })?;
            }
        }
        let record = StepRecord {
            step,
            sid,
            started: began.duration_since(self.started),
            elapsed: if outcome == Outcome::Journaled {
                Duration::ZERO
            } else {
                began.elapsed()
            },
            outcome,
        };
        tracing::debug!(step = %record.step, outcome = ?record.outcome, elapsed_ms = record.elapsed.as_millis() as u64, "trusthub.flow step");
        if let Some(observer) = &self.options.observer {
            observer(&record);
        }
        self.records.lock().expect("records lock").push(record);
        Ok(())
    }

    fn journal<T>(&self, read: impl FnOnce(&Journal) -> T) -> T {
        read(&self.journal.lock().expect("journal lock"))
    }

    /// One API call under the in-flight cap.
    async fn call<T>(&self, fut: impl Future<Output = Result<T, ApiError>>) -> Result<T, ApiError> {
        let _permit = self.options.limiter.acquire().await;
        fut.await
    }

    /// Creates a resource: looks it up first when resuming; when an answer is lost, looks it up
    /// before sending again; sends again after transient refusals. Bounded attempts.
    async fn create<S, C, CF, F, FF>(
        &self,
        step: &Step,
        create: C,
        find: F,
    ) -> Result<(S, Outcome), FlowError>
    where
        C: Fn() -> CF,
        CF: Future<Output = Result<S, FlowError>>,
        F: Fn() -> FF,
        FF: Future<Output = Result<Vec<S>, FlowError>>,
        S: Candidate,
    {
        let found = |mut candidates: Vec<S>| -> Result<Option<(S, Outcome)>, FlowError> {
            match candidates.len() {
                0 => Ok(None),
                1 => Ok(Some((candidates.remove(0), Outcome::Found))),
                _ => Err(FlowError::Ambiguous {
                    step: step.clone(),
                    candidates: candidates.iter().map(Candidate::sid).collect(),
                }),
            }
        };
        if self.resumed {
            if let Some(hit) = found(find().await?)? {
                return Ok(hit);
            }
        }
        let attempts = self.options.create_attempts.max(1);
        let mut attempt = 0;
        loop {
            attempt += 1;
            match create().await {
                Ok(sid) => return Ok((sid, Outcome::Created)),
                Err(FlowError::Step { source, .. })
                    if attempt < attempts && maybe_committed(&source) =>
                {
                    tracing::debug!(step = %step, attempt, "trusthub.flow create answer lost; looking it up");
                    if let Some(hit) = found(find().await?)? {
                        return Ok(hit);
                    }
                }
                Err(FlowError::Step { source, .. }) if attempt < attempts && transient(&source) => {
                    tracing::debug!(step = %step, attempt, "trusthub.flow create refused as transient; sending again");
                }
                Err(e) => return Err(e),
            }
            tokio::time::sleep(Duration::from_millis(50 * u64::from(attempt))).await;
        }
    }

    /// A step that creates one resource: reuses the journal's SID, else [`Self::create`]s it,
    /// then records it in the journal.
    async fn ensure<S, C, CF, F, FF>(
        &self,
        step: Step,
        journaled: impl FnOnce(&Journal) -> Option<S>,
        create: C,
        find: F,
        record: impl FnOnce(&mut Journal, S),
    ) -> Result<S, FlowError>
    where
        C: Fn() -> CF,
        CF: Future<Output = Result<S, FlowError>>,
        F: Fn() -> FF,
        FF: Future<Output = Result<Vec<S>, FlowError>>,
        S: Candidate + Copy,
    {
        let began = Instant::now();
        if let Some(sid) = self.journal(journaled) {
            self.finish(step, Some(sid.sid()), began, Outcome::Journaled, |_| {})?;
            return Ok(sid);
        }
        let (sid, outcome) = self.create(&step, create, find).await?;
        self.finish(step, Some(sid.sid()), began, outcome, |j| record(j, sid))?;
        Ok(sid)
    }

    /// Lists every item of `list` and keeps the SIDs of the items `matches` accepts: how a
    /// resource whose create answer was lost is found again.
    async fn lookup<T, S>(
        &self,
        step: &Step,
        bundle: Option<CustomerProfileSid>,
        list: ItemStream<T>,
        matches: impl Fn(&T) -> bool,
        sid: impl Fn(T) -> Option<String>,
    ) -> Result<Vec<S>, FlowError>
    where
        S: FromStr,
    {
        let all: Vec<T> = self
            .call(list.try_collect::<Vec<_>>())
            .await
            .map_err(|e| Self::step_error(step, bundle.map(|b| b.to_string()), e))?;
        Ok(all
            .into_iter()
            .filter(|item| matches(item))
            .filter_map(|item| sid(item).and_then(|s| s.parse().ok()))
            .collect())
    }

    fn tag(&self, what: &str) -> String {
        format!("{what} {}", self.journal(|j| j.flow_id.clone()))
    }

    fn since(&self) -> OffsetDateTime {
        self.journal(|j| j.started_at) - CLOCK_SKEW
    }

    // ---- step 1 ----

    async fn confirm_policy(&self) -> Result<PolicySid, FlowError> {
        let step = Step::ConfirmPolicy;
        let began = Instant::now();
        if let Some(policy) = self.journal(|j| j.policy) {
            self.finish(
                step,
                Some(policy.to_string()),
                began,
                Outcome::Journaled,
                |_| {},
            )?;
            return Ok(policy);
        }
        let policy_sid = self.input.policy;
        let policy = self
            .call(self.client.policies().fetch(policy_sid.as_str()).send())
            .await
            .map_err(|e| Self::step_error(&step, Some(policy_sid.to_string()), e))?;
        let problems = check_policy(self.input, &policy);
        if !problems.is_empty() {
            if !self.options.allow_incomplete {
                return Err(FlowError::PolicyMismatch {
                    policy: policy_sid.to_string(),
                    problems,
                });
            }
            let mut warnings = self.warnings.lock().expect("warnings lock");
            for p in problems {
                warnings.push(Warning::new("policy", WarningKind::Flow, p));
            }
        }
        self.finish(
            step,
            Some(policy_sid.to_string()),
            began,
            Outcome::Checked,
            |j| j.policy = Some(policy_sid),
        )?;
        Ok(policy_sid)
    }

    // ---- step 2 ----

    async fn bundle(&self) -> Result<CustomerProfileSid, FlowError> {
        let step = Step::CreateBundle;
        let input = self.input;
        let create = || async {
            let mut request = self.client.customer_profiles().create(
                input.friendly_name.as_str(),
                input.email.as_str(),
                input.policy.as_str(),
            );
            if let Some(url) = &input.status_callback {
                request = request.status_callback(url.as_str());
            }
            let profile = self
                .call(request.send())
                .await
                .map_err(|e| Self::step_error(&step, None, e))?;
            parse_sid::<CustomerProfileSid>(&step, "CreateCustomerProfile", profile.sid)
        };
        let since = self.since();
        let find = || {
            let list = self
                .client
                .customer_profiles()
                .list()
                .friendly_name(input.friendly_name.as_str())
                .policy_sid(input.policy.as_str())
                .page_size(50)
                .into_stream();
            let matches = |p: &CustomerProfile| {
                p.email.as_deref() == Some(input.email.as_str())
                    && p.date_created.is_none_or(|d| d >= since)
            };
            self.lookup(&step, None, list, matches, |p| p.sid)
        };
        self.ensure(
            step.clone(),
            |j| j.bundle,
            create,
            find,
            |j, sid| j.bundle = Some(sid),
        )
        .await
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
                    self.client
                        .end_users()
                        .create(name.as_str(), role.end_user_type())
                        .attributes(attributes.clone())
                        .send(),
                )
                .await
                .map_err(|e| Self::step_error(&step, None, e))?;
            parse_sid::<EndUserSid>(&step, "CreateEndUser", user.sid)
        };
        let find = || {
            let list = self.client.end_users().list().page_size(1000).into_stream();
            let matches = |u: &EndUser| u.friendly_name.as_deref() == Some(name.as_str());
            self.lookup(&step, None, list, matches, |u| u.sid)
        };
        self.ensure(
            step.clone(),
            |j| j.end_users.get(role.key()).copied(),
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
                self.finish(step, Some(sid.to_string()), Instant::now(), outcome, |j| {
                    j.address = Some(sid);
                    j.address_created = false;
                })?;
                return Ok(sid);
            }
            AddressInput::New(address) => address,
        };
        let name = self.tag("address");
        let create = || async {
            let mut request = self
                .client
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
                .map_err(|e| Self::step_error(&step, None, e))?;
            parse_sid::<AddressSid>(&step, "CreateAddress", created.sid)
        };
        let find = || {
            let list = self
                .client
                .addresses()
                .list()
                .friendly_name(name.as_str())
                .into_stream();
            self.lookup(&step, None, list, |_| true, |a| a.sid)
        };
        self.ensure(
            step.clone(),
            |j| j.address,
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
                    self.client
                        .supporting_documents()
                        .create(
                            name.as_str(),
                            CustomerProfileAddress::SUPPORTING_DOCUMENT_TYPE,
                        )
                        .attributes(attributes.clone())
                        .send(),
                )
                .await
                .map_err(|e| Self::step_error(&step, Some(address.to_string()), e))?;
            parse_sid::<SupportingDocumentSid>(&step, "CreateSupportingDocument", document.sid)
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
            self.lookup(&step, None, list, matches, |d| d.sid)
        };
        self.ensure(
            step.clone(),
            |j| j.document,
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
        what: &str,
        object: ObjectSid,
    ) -> Result<EntityAssignmentSid, FlowError> {
        let step = Step::AssignEntity(format!("{what} {object}"));
        let key = object.to_string();
        let assignments = self
            .client
            .customer_profiles()
            .entity_assignments(bundle.as_str());
        let create = || async {
            let assignment = self
                .call(assignments.create(object.as_str()).send())
                .await
                .map_err(|e| Self::step_error(&step, Some(bundle.to_string()), e))?;
            parse_sid::<EntityAssignmentSid>(
                &step,
                "CreateCustomerProfileEntityAssignment",
                assignment.sid,
            )
        };
        let find = || {
            let list = assignments.list().page_size(1000).into_stream();
            let matches = |a: &CustomerProfileEntityAssignment| {
                a.object_sid.as_deref() == Some(object.as_str())
            };
            self.lookup(&step, Some(bundle), list, matches, |a| a.sid)
        };
        let journaled = |j: &Journal| j.entity_assignments.get(&key).copied();
        let record = |j: &mut Journal, sid| {
            j.entity_assignments.insert(key.clone(), sid);
        };
        self.ensure(step.clone(), journaled, create, find, record)
            .await
    }

    // ---- step 9: phone numbers ----

    async fn assign_phone_number(
        &self,
        bundle: CustomerProfileSid,
        number: PhoneNumberSid,
    ) -> Result<ChannelEndpointAssignmentSid, FlowError> {
        let step = Step::AssignPhoneNumber(number);
        let key = number.to_string();
        let assignments = self
            .client
            .customer_profiles()
            .channel_endpoint_assignments(bundle.as_str());
        let create = || async {
            let assignment = self
                .call(assignments.create("phone-number", number.as_str()).send())
                .await
                .map_err(|e| Self::step_error(&step, Some(bundle.to_string()), e))?;
            parse_sid::<ChannelEndpointAssignmentSid>(
                &step,
                "CreateCustomerProfileChannelEndpointAssignment",
                assignment.sid,
            )
        };
        let find = || {
            let list = assignments
                .list()
                .channel_endpoint_sid(number.as_str())
                .into_stream();
            let matches = |a: &CustomerProfileChannelEndpointAssignment| {
                a.channel_endpoint_sid.as_deref() == Some(number.as_str())
            };
            self.lookup(&step, Some(bundle), list, matches, |a| a.sid)
        };
        let journaled = |j: &Journal| j.channel_endpoint_assignments.get(&key).copied();
        let record = |j: &mut Journal, sid| {
            j.channel_endpoint_assignments.insert(key.clone(), sid);
        };
        self.ensure(step.clone(), journaled, create, find, record)
            .await
    }

    // ---- step 9: evaluation ----

    async fn evaluate(
        &self,
        bundle: CustomerProfileSid,
        policy: PolicySid,
    ) -> Result<Evaluation, FlowError> {
        let step = Step::Evaluate;
        let began = Instant::now();
        let evaluations = self.client.customer_profiles().evaluations(bundle.as_str());
        if let Some(sid) = self.journal(|j| j.evaluation) {
            let answer = self
                .call(evaluations.fetch(sid.as_str()).send())
                .await
                .map_err(|e| Self::step_error(&step, Some(sid.to_string()), e))?;
            self.finish(
                step,
                Some(sid.to_string()),
                began,
                Outcome::Journaled,
                |_| {},
            )?;
            return Ok(Evaluation::from(answer));
        }
        let create = || async {
            self.call(evaluations.create(policy.as_str()).send())
                .await
                .map_err(|e| Self::step_error(&step, Some(bundle.to_string()), e))
        };
        let find = || async {
            let since = self.since();
            let mut all: Vec<_> = self
                .call(evaluations.list().into_stream().try_collect::<Vec<_>>())
                .await
                .map_err(|e| Self::step_error(&step, Some(bundle.to_string()), e))?;
            all.retain(|e| e.date_created.is_none_or(|d| d >= since));
            // The newest evaluation is the one that counts; older ones are not duplicates.
            all.sort_by_key(|e| e.date_created);
            Ok(all.pop().into_iter().collect())
        };
        let (answer, outcome) = self.create(&step, create, find).await?;
        let sid = parse_sid::<EvaluationSid>(
            &step,
            "CreateCustomerProfileEvaluation",
            answer.sid.clone(),
        )?;
        let evaluation = Evaluation::from(answer);
        let compliant = evaluation.is_compliant();
        self.finish(step, Some(sid.to_string()), began, outcome, |j| {
            j.evaluation = Some(sid);
            j.compliant = Some(compliant);
        })?;
        Ok(evaluation)
    }
}

/// What a lookup can find: something with a SID to name when several match.
trait Candidate {
    fn sid(&self) -> String;
}

macro_rules! sid_candidates {
    ($($t:ty),*) => { $(impl Candidate for $t { fn sid(&self) -> String { self.to_string() } })* };
}

sid_candidates!(
    CustomerProfileSid,
    EndUserSid,
    AddressSid,
    SupportingDocumentSid,
    EntityAssignmentSid,
    ChannelEndpointAssignmentSid
);

impl Candidate for trusthub_generated::trusthub_v1::CustomerProfileEvaluation {
    fn sid(&self) -> String {
        self.sid.clone().unwrap_or_default()
    }
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
    resumed: bool,
    store: Arc<dyn JournalStore>,
    options: FlowOptions,
) -> Result<FlowReport, FlowError> {
    let runner = Runner {
        client,
        input,
        options: &options,
        journal: Mutex::new(journal),
        store: store.as_ref(),
        resumed,
        records: Mutex::new(Vec::new()),
        warnings: Mutex::new(input.warnings.clone()),
        started: Instant::now(),
    };
    let r = &runner;
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
    // Round trip 1: policy, end users, address. Round trip 2: bundle, document.
    // `join!`, not `try_join!`: when one step fails the others still finish and are journaled,
    // so nothing is left created but unrecorded (cleanup and resume see everything).
    let (chain, business, rep_1, rep_2, document) = tokio::join!(
        async {
            let policy = r.confirm_policy().await?;
            Ok::<_, FlowError>((policy, r.bundle().await?))
        },
        end_user(EndUserRole::BusinessInformation),
        end_user(EndUserRole::Representative1),
        end_user(EndUserRole::Representative2),
        async { r.document(r.address().await?).await },
    );
    let (policy, bundle) = chain?;
    let (business, rep_1, rep_2, document) = (business?, rep_1?, rep_2?, document?);
    // Round trip 3: every assignment at once.
    let mut objects: Vec<(&str, ObjectSid)> = Vec::new();
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
    let evaluation = r.evaluate(bundle, policy).await?;
    let Runner {
        journal,
        records,
        warnings,
        started,
        ..
    } = runner;
    Ok(FlowReport {
        journal: journal.into_inner().expect("journal lock"),
        evaluation,
        steps: records.into_inner().expect("records lock"),
        warnings: warnings.into_inner().expect("warnings lock"),
        elapsed: started.elapsed(),
        store,
    })
}

async fn fetch_status(
    client: &Client,
    bundle: CustomerProfileSid,
    step: &Step,
) -> Result<String, FlowError> {
    let profile = client
        .customer_profiles()
        .fetch(bundle.as_str())
        .send()
        .await
        .map_err(|e| FlowError::Step {
            step: step.clone(),
            resource: Some(bundle.to_string()),
            source: Box::new(e),
        })?;
    Ok(profile
        .status
        .as_ref()
        .map(|s| s.as_str().to_owned())
        .unwrap_or_default())
}

pub(crate) async fn submit(
    client: &Client,
    journal: &mut Journal,
    store: &dyn JournalStore,
    force: bool,
) -> Result<String, FlowError> {
    let step = Step::Submit;
    let bundle = journal.bundle.ok_or_else(|| FlowError::NotCompliant {
        bundle: "(no bundle yet)".into(),
    })?;
    if journal.submitted {
        return fetch_status(client, bundle, &step).await;
    }
    if !force && journal.compliant != Some(true) {
        return Err(FlowError::NotCompliant {
            bundle: bundle.to_string(),
        });
    }
    let sent = client
        .customer_profiles()
        .update(bundle.as_str())
        .status(CustomerProfileStatus::PendingReview)
        .send()
        .await;
    let status = match sent {
        Ok(profile) => profile
            .status
            .as_ref()
            .map(|s| s.as_str().to_owned())
            .unwrap_or_default(),
        Err(e) if maybe_committed(&e) || transient(&e) => {
            // The answer was lost or refused: the bundle's status says whether it went through.
            let status = fetch_status(client, bundle, &step).await?;
            if status == "draft" {
                let profile = client
                    .customer_profiles()
                    .update(bundle.as_str())
                    .status(CustomerProfileStatus::PendingReview)
                    .send()
                    .await
                    .map_err(|e| FlowError::Step {
                        step: step.clone(),
                        resource: Some(bundle.to_string()),
                        source: Box::new(e),
                    })?;
                profile
                    .status
                    .as_ref()
                    .map(|s| s.as_str().to_owned())
                    .unwrap_or_default()
            } else {
                status
            }
        }
        Err(e) => {
            return Err(FlowError::Step {
                step,
                resource: Some(bundle.to_string()),
                source: Box::new(e),
            })
        }
    };
    journal.submitted = true;
    store
        .save(journal)
        .map_err(|source| FlowError::Journal { step, source })?;
    Ok(status)
}

pub(crate) async fn wait_for_status(
    client: &Client,
    bundle: CustomerProfileSid,
    targets: &[&str],
    timeout: Duration,
    poll: Duration,
) -> Result<String, FlowError> {
    let step = Step::Review;
    let deadline = Instant::now() + timeout;
    loop {
        let status = fetch_status(client, bundle, &step).await?;
        if targets.contains(&status.as_str()) {
            return Ok(status);
        }
        if Instant::now() + poll > deadline {
            return Err(FlowError::ReviewTimeout {
                bundle: bundle.to_string(),
                last_status: status,
            });
        }
        tokio::time::sleep(poll).await;
    }
}

/// What [`cleanup`] deleted and what it could not.
///
/// A flow stopped by the policy check (only one representative given) has already created
/// the end users, the address and its document; `cleanup` deletes them:
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
/// let store = MemoryStore::new();
/// let err = flow
///     .run(&client, Arc::new(store.clone()), FlowOptions::default())
///     .await
///     .unwrap_err();
/// assert!(matches!(err, FlowError::PolicyMismatch { .. }), "{err}");
///
/// let mut journal = store.latest().expect("what was created is journaled");
/// assert_eq!(journal.bundle, None);
/// let report: CleanupReport = cleanup(&client, &mut journal, &store).await;
/// assert!(report.failed.is_empty(), "{report:?}");
/// assert_eq!(report.deleted.len(), 4); // the document, two end users, the address
/// assert!(journal.end_users.is_empty());
/// assert_eq!((journal.document, journal.address), (None, None));
/// assert_eq!(store.latest(), Some(journal)); // the emptied journal was saved
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Default)]
pub struct CleanupReport {
    /// SIDs deleted.
    pub deleted: Vec<String>,
    /// SIDs that could not be deleted, with the error.
    pub failed: Vec<(String, FlowError)>,
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
    let outcome = |report: &mut CleanupReport, sid: String, result: Result<(), ApiError>| -> bool {
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
                report.failed.push((
                    sid.clone(),
                    FlowError::Step {
                        step: step.clone(),
                        resource: Some(sid),
                        source: Box::new(e),
                    },
                ));
                false
            }
        }
    };
    if let (Some(bundle), false) = (journal.bundle, journal.submitted) {
        let b = bundle.as_str();
        for (key, sid) in journal.channel_endpoint_assignments.clone() {
            let r = client
                .customer_profiles()
                .channel_endpoint_assignments(b)
                .delete(sid.as_str())
                .send()
                .await;
            if outcome(&mut report, sid.to_string(), r) {
                journal.channel_endpoint_assignments.remove(&key);
            }
        }
        for (key, sid) in journal.entity_assignments.clone() {
            let r = client
                .customer_profiles()
                .entity_assignments(b)
                .delete(sid.as_str())
                .send()
                .await;
            if outcome(&mut report, sid.to_string(), r) {
                journal.entity_assignments.remove(&key);
            }
        }
        let r = client.customer_profiles().delete(b).send().await;
        if outcome(&mut report, bundle.to_string(), r) {
            journal.bundle = None;
            journal.evaluation = None;
        }
    }
    if let Some(sid) = journal.document {
        let r = client
            .supporting_documents()
            .delete(sid.as_str())
            .send()
            .await;
        if outcome(&mut report, sid.to_string(), r) {
            journal.document = None;
        }
    }
    for (key, sid) in journal.end_users.clone() {
        let r = client.end_users().delete(sid.as_str()).send().await;
        if outcome(&mut report, sid.to_string(), r) {
            journal.end_users.remove(&key);
        }
    }
    if let (Some(sid), true) = (journal.address, journal.address_created) {
        let r = client.addresses().delete(sid.as_str()).send().await;
        if outcome(&mut report, sid.to_string(), r) {
            journal.address = None;
        }
    }
    if let Err(source) = store.save(journal) {
        report
            .failed
            .push(("journal".into(), FlowError::Journal { step, source }));
    }
    report
}
