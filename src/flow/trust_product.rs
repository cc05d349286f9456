//! A trust product's steps on the flow's engine, shared by every flow that builds one (the A2P
//! Messaging Profile, SHAKEN/STIR, CNAM): create it, its end user, assign the end user, the
//! secondary profile and phone numbers, evaluate, submit. Each is a call to `ensure` (or the
//! engine's evaluation and submission); the progress lives where [`TrustProductKind`] says.

use std::ops::Deref;

use futures_util::TryStreamExt;
use serde_json::Value;
use tokio::sync::watch;
use trusthub_generated::runtime::StringEnum;
use trusthub_generated::trusthub_v1::{
    EndUser, TrustProduct, TrustProductChannelEndpointAssignment, TrustProductEntityAssignment,
    TrustProductEvaluation, TrustProductStatus,
};

use super::engine::{created_sid, step_error, Engine};
use super::{FlowError, Step, TrustProductKind};
use crate::attributes::{
    email_problem, join, ProblemKind, ValidationReport, MAX_EMAIL_CHARS, MAX_TEXT_CHARS,
};
use crate::evaluation::Evaluation;
use crate::sid::{
    ChannelEndpointAssignmentSid, CustomerProfileSid, EndUserSid, EntityAssignmentSid, ObjectSid,
    PhoneNumberSid, TrustProductSid,
};

/// Checks a trust product's friendly name and status email under `path` (`trust_product`,
/// `shaken_stir`, `cnam`): a name, one line of bounded text; an email address.
pub(crate) fn check_name_and_email(r: &mut ValidationReport, path: &str, name: &str, email: &str) {
    if name.trim().is_empty() {
        r.error(
            join(path, "friendly_name"),
            ProblemKind::Required,
            "the trust product's name (given, or the new profile's)",
            "nothing",
        );
    }
    r.text(path, "friendly_name", name, MAX_TEXT_CHARS);
    if let Some(problem) = email_problem(email) {
        r.error(
            join(path, "email"),
            ProblemKind::Email,
            "an email address such as name@example.com",
            problem,
        );
    }
    r.text(path, "email", email, MAX_EMAIL_CHARS);
}

/// What a trust product is created from.
pub(crate) struct TrustProductInput<'a> {
    /// Its friendly name.
    pub friendly_name: &'a str,
    /// Its status email.
    pub email: &'a str,
    /// The journal's input part whose digest is the lookup's criteria.
    pub criteria_part: &'static str,
}

/// One trust product's steps: the engine, which product, its input.
pub(crate) struct TrustProductSteps<'a> {
    engine: &'a Engine<'a>,
    kind: TrustProductKind,
    input: TrustProductInput<'a>,
}

impl<'a> Deref for TrustProductSteps<'a> {
    type Target = Engine<'a>;
    fn deref(&self) -> &Engine<'a> {
        self.engine
    }
}

impl<'a> TrustProductSteps<'a> {
    pub(crate) fn new(
        engine: &'a Engine<'a>,
        kind: TrustProductKind,
        input: TrustProductInput<'a>,
    ) -> Self {
        TrustProductSteps {
            engine,
            kind,
            input,
        }
    }

    /// Creates the trust product (or reuses or finds it); found by its fields, like the
    /// bundle: other flows of the store may share them (their lost creates are rivals).
    pub(crate) async fn create(&self) -> Result<TrustProductSid, FlowError> {
        let kind = self.kind;
        let step = Step::CreateTrustProduct(kind);
        let input = &self.input;
        let create = || async {
            let product = self
                .call(
                    self.creates
                        .trust_products()
                        .create(input.friendly_name, input.email, kind.policy())
                        .send(),
                )
                .await
                .map_err(|e| step_error(&step, None, e))?;
            created_sid(&step, "CreateTrustProduct", product.sid)
        };
        let find = || {
            let list = self
                .client
                .trust_products()
                .list()
                .friendly_name(input.friendly_name)
                .policy_sid(kind.policy())
                .page_size(50)
                .into_stream();
            let matches = |p: &TrustProduct| p.email.as_deref() == Some(input.email);
            self.lookup(&step, None, list, matches, |p| (p.sid, p.date_created))
        };
        let criteria = self.journal(|j| j.input.get(input.criteria_part).cloned());
        self.ensure(
            step.clone(),
            |j| kind.progress(j).and_then(|p| p.sid),
            criteria,
            create,
            find,
            |j, sid| kind.progress_mut(j).sid = Some(sid),
        )
        .await
    }

    /// Creates the trust product's end user (found by the flow id in its name).
    pub(crate) async fn end_user(
        &self,
        end_user_type: &'static str,
        attributes: &Value,
    ) -> Result<EndUserSid, FlowError> {
        let kind = self.kind;
        let step = Step::CreateTrustProductEndUser(kind);
        let name = self.tag(&format!("{}_profile", kind.key()));
        let create = || async {
            let user = self
                .call(
                    self.creates
                        .end_users()
                        .create(name.as_str(), end_user_type)
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
            |j| kind.progress(j).and_then(|p| p.end_user),
            None,
            create,
            find,
            |j, sid| kind.progress_mut(j).end_user = Some(sid),
        )
        .await
    }

    /// Assigns an object (its end user, the secondary profile) to the trust product.
    pub(crate) async fn assign(
        &self,
        trust_product: TrustProductSid,
        what: &'static str,
        object: ObjectSid,
    ) -> Result<EntityAssignmentSid, FlowError> {
        let kind = self.kind;
        let step = Step::AssignToTrustProduct { kind, what, object };
        let create = || async {
            let assignment = self
                .call(
                    self.creates
                        .trust_products()
                        .entity_assignments(trust_product)
                        .create(object)
                        .send(),
                )
                .await
                .map_err(|e| step_error(&step, Some(trust_product.into()), e))?;
            created_sid(&step, "CreateTrustProductEntityAssignment", assignment.sid)
        };
        let find = || {
            let list = self
                .client
                .trust_products()
                .entity_assignments(trust_product)
                .list()
                .page_size(1000)
                .into_stream();
            let matches = |a: &TrustProductEntityAssignment| a.object_sid == Some(object);
            self.lookup(&step, None, list, matches, |a| (a.sid, a.date_created))
        };
        self.ensure(
            step.clone(),
            |j| {
                kind.progress(j)
                    .and_then(|p| p.assignments.get(&object).copied())
            },
            None,
            create,
            find,
            |j, sid| {
                kind.progress_mut(j).assignments.insert(object, sid);
            },
        )
        .await
    }

    /// Evaluates the trust product against its policy.
    pub(crate) async fn evaluate(
        &self,
        trust_product: TrustProductSid,
    ) -> Result<Evaluation, FlowError> {
        let kind = self.kind;
        let evaluations = self.client.trust_products().evaluations(trust_product);
        self.evaluation(
            Step::EvaluateTrustProduct(kind),
            trust_product.into(),
            "CreateTrustProductEvaluation",
            self.journal(|j| kind.progress(j).and_then(|p| p.evaluation)),
            |sid| evaluations.fetch(sid).send(),
            || {
                self.creates
                    .trust_products()
                    .evaluations(trust_product)
                    .create(kind.policy())
                    .send()
            },
            || evaluations.list().into_stream().try_collect::<Vec<_>>(),
            |e: &TrustProductEvaluation| (e.sid, e.date_created),
            |j, sid, compliant| {
                let progress = kind.progress_mut(j);
                progress.evaluation = Some(sid);
                progress.compliant = Some(compliant);
            },
        )
        .await
    }

    /// Submits the trust product for review, once (see [`Engine::submit_once`]).
    pub(crate) async fn submit(
        &self,
        trust_product: TrustProductSid,
    ) -> Result<TrustProductStatus, FlowError> {
        let kind = self.kind;
        let client = self.client;
        let status = |p: TrustProduct| {
            p.status
                .unwrap_or_else(|| TrustProductStatus::from_wire(""))
        };
        self.submit_once(
            Step::SubmitTrustProduct(kind),
            trust_product.into(),
            |j| kind.progress(j).is_some_and(|p| p.submitted),
            |j| kind.progress_mut(j).submitted = true,
            || async {
                client
                    .trust_products()
                    .fetch(trust_product)
                    .send()
                    .await
                    .map(status)
            },
            || async {
                client
                    .trust_products()
                    .update(trust_product)
                    .status(TrustProductStatus::PendingReview)
                    .send()
                    .await
                    .map(status)
            },
            |s| *s == TrustProductStatus::Draft,
        )
        .await
    }

    /// The trust product and its end user (if its policy has one) together; the end user assigned
    /// as soon as both exist, the secondary profile as soon as `profile` gives its bundle. `None`
    /// when the profile never came (its flow failed: the caller reports that error).
    pub(crate) async fn build(
        &self,
        end_user: Option<(&'static str, &Value)>,
        mut profile: watch::Receiver<Option<CustomerProfileSid>>,
    ) -> Result<Option<TrustProductSid>, FlowError> {
        let user = async {
            match end_user {
                Some((end_user_type, attributes)) => {
                    self.end_user(end_user_type, attributes).await.map(Some)
                }
                None => Ok(None),
            }
        };
        let (trust_product, user) = tokio::join!(self.create(), user);
        let (trust_product, user) = (trust_product?, user?);
        let profile_assigned = async {
            // The sender is dropped when the profile phase fails: nothing to assign.
            let Ok(bundle) = profile.wait_for(Option::is_some).await.map(|b| *b) else {
                return Ok(false);
            };
            let bundle = bundle.expect("waited for a bundle");
            self.assign(trust_product, "secondary profile", bundle.into())
                .await
                .map(|_| true)
        };
        let user_assigned = async {
            match user {
                Some(user) => self
                    .assign(trust_product, "end user", user.into())
                    .await
                    .map(|_| ()),
                None => Ok(()),
            }
        };
        let (user, profile) = tokio::join!(user_assigned, profile_assigned);
        user?;
        Ok(profile?.then_some(trust_product))
    }

    /// Evaluates the trust product and submits it when compliant (a noncompliant one is
    /// [`FlowError::TrustProductNotCompliant`] unless it was submitted already).
    pub(crate) async fn evaluate_and_submit(
        &self,
        trust_product: TrustProductSid,
    ) -> Result<(Evaluation, TrustProductStatus), FlowError> {
        let kind = self.kind;
        let evaluation = self.evaluate(trust_product).await?;
        let submitted = self.journal(|j| kind.progress(j).is_some_and(|p| p.submitted));
        if !evaluation.is_compliant() && !submitted {
            return Err(FlowError::TrustProductNotCompliant {
                trust_product,
                failures: evaluation
                    .failures()
                    .into_iter()
                    .map(|f| format!("{} ({})", f.requirement, f.reason))
                    .collect(),
            });
        }
        let status = self.submit(trust_product).await?;
        Ok((evaluation, status))
    }

    /// Assigns a phone number (already on the secondary profile) to a voice trust product.
    pub(crate) async fn assign_number(
        &self,
        trust_product: TrustProductSid,
        number: PhoneNumberSid,
    ) -> Result<ChannelEndpointAssignmentSid, FlowError> {
        let kind = self.kind;
        let step = Step::AssignNumberToTrustProduct { kind, number };
        let create = || async {
            let assignment = self
                .call(
                    self.creates
                        .trust_products()
                        .channel_endpoint_assignments(trust_product)
                        .create("phone-number", number)
                        .send(),
                )
                .await
                .map_err(|e| step_error(&step, Some(trust_product.into()), e))?;
            created_sid(
                &step,
                "CreateTrustProductChannelEndpointAssignment",
                assignment.sid,
            )
        };
        let find = || {
            let list = self
                .client
                .trust_products()
                .channel_endpoint_assignments(trust_product)
                .list()
                .channel_endpoint_sid(number)
                .into_stream();
            let matches = |a: &TrustProductChannelEndpointAssignment| {
                a.channel_endpoint_sid == Some(ObjectSid::from(number))
            };
            self.lookup(&step, None, list, matches, |a| (a.sid, a.date_created))
        };
        self.ensure(
            step.clone(),
            |j| {
                kind.progress(j)
                    .and_then(|p| p.phone_numbers.get(&number).copied())
            },
            None,
            create,
            find,
            |j, sid| {
                kind.progress_mut(j).phone_numbers.insert(number, sid);
            },
        )
        .await
    }
}
