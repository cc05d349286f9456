//! The skeleton every flow runs on (the secondary profile, the A2P 10DLC journey): the journal
//! with its group-committed saves, write-ahead intents, the one create-or-reuse path of a step
//! (`ensure`), the lookup of a create whose answer was lost (`adopt`) and the one retry loop of
//! a create (`create`). A flow is its steps, each a call to `ensure` with where the journal keeps
//! its SID, its create and its lookup; the rules come with the engine, not with the step.

use std::collections::hash_map::RandomState;
use std::future::Future;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use futures_util::TryStreamExt;
use time::OffsetDateTime;
use tokio::sync::Notify;
use trusthub_generated::runtime::{Error, ItemStream, Processed, RetryPolicy};

use super::{FlowError, FlowOptions, Intent, Journal, JournalStore, Outcome, Step, StepRecord};
use crate::attributes::Warning;
use crate::evaluation::Evaluation;
use crate::sid::{CustomerProfileSid, EvaluationSid, ObjectSid};
use crate::Client;

/// How far back from an intent a lost create is looked for: clock skew between this machine
/// and Twilio.
pub(crate) const CLOCK_SKEW: time::Duration = time::Duration::minutes(2);

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

/// The SID of a created resource; an answer without one is a decode error of the step.
pub(crate) fn created_sid<S>(
    step: &Step,
    operation: &'static str,
    sid: Option<S>,
) -> Result<S, FlowError> {
    sid.ok_or_else(|| FlowError::Step {
        step: step.clone(),
        resource: None,
        source: Box::new(Error::decode(operation, 200, "the answer has no `sid`")),
    })
}

pub(crate) fn step_error(step: &Step, resource: Option<ObjectSid>, source: Error) -> FlowError {
    FlowError::Step {
        step: step.clone(),
        resource,
        source: Box::new(source),
    }
}

/// What a step creates: a SID, or something that carries one (an evaluation and its answer).
pub(crate) trait Created {
    /// The SID, in the form the journal store and the report keep.
    fn object_sid(&self) -> ObjectSid;
}

impl<T: Into<ObjectSid> + Copy> Created for T {
    fn object_sid(&self) -> ObjectSid {
        (*self).into()
    }
}

/// An evaluation created or found, with its answer (the results are in it).
struct Evaluated<A> {
    sid: EvaluationSid,
    answer: A,
}

impl<A> Created for Evaluated<A> {
    fn object_sid(&self) -> ObjectSid {
        self.sid.into()
    }
}

/// A resource a lookup found: its SID and when Twilio created it.
pub(crate) struct Found<S> {
    pub(crate) sid: S,
    pub(crate) created: Option<OffsetDateTime>,
}

/// The journal with its save state: changes bump `version`; `saved` is the newest version known
/// to be durable.
struct Book {
    journal: Journal,
    version: u64,
    saved: u64,
    saving: bool,
}

pub(crate) struct Engine<'a> {
    pub(crate) client: &'a Client,
    /// The client the creates are sent with: its transport does not retry, [`Runner::create`]
    /// does, under the client's retry policy (one budget of sends per create).
    pub(crate) creates: trusthub_generated::Client,
    pub(crate) options: &'a FlowOptions,
    pub(crate) store: &'a dyn JournalStore,
    book: Mutex<Book>,
    /// Woken when a save ends (group commit: concurrent steps share saves).
    save_ended: Notify,
    pub(crate) records: Mutex<Vec<StepRecord>>,
    pub(crate) warnings: Mutex<Vec<Warning>>,
    pub(crate) started: Instant,
}

impl<'a> Engine<'a> {
    pub(crate) fn journal<T>(&self, read: impl FnOnce(&Journal) -> T) -> T {
        read(&self.book.lock().expect("journal lock").journal)
    }

    /// Applies `change` to the journal; returns the version that holds it.
    pub(crate) fn update(&self, change: impl FnOnce(&mut Journal)) -> u64 {
        let mut book = self.book.lock().expect("journal lock");
        change(&mut book.journal);
        book.version += 1;
        book.version
    }

    /// Returns once version `target` of the journal is durable in the store. Concurrent callers
    /// share saves: one saves the newest version while the others wait for it.
    pub(crate) async fn persist(&self, target: u64) -> std::io::Result<()> {
        loop {
            let ended = self.save_ended.notified();
            tokio::pin!(ended);
            let turn = {
                let mut book = self.book.lock().expect("journal lock");
                if book.saved >= target {
                    return Ok(());
                }
                if book.saving {
                    // Registered before the lock is released: the end of that save is not missed.
                    ended.as_mut().enable();
                    None
                } else {
                    book.saving = true;
                    Some((book.journal.clone(), book.version))
                }
            };
            let Some((snapshot, version)) = turn else {
                ended.await;
                continue;
            };
            let result = self.store.save_owned(snapshot);
            {
                let mut book = self.book.lock().expect("journal lock");
                book.saving = false;
                if result.is_ok() {
                    book.saved = book.saved.max(version);
                }
            }
            self.save_ended.notify_waiters();
            result?;
        }
    }

    /// Applies `change` and saves; `step` names where in the flow a failed save happened.
    pub(crate) async fn save(
        &self,
        step: &Step,
        change: impl FnOnce(&mut Journal),
    ) -> Result<(), FlowError> {
        let version = self.update(change);
        self.persist(version)
            .await
            .map_err(|source| FlowError::Journal {
                step: step.clone(),
                source,
            })
    }

    /// Records a finished step: applies `change` to the journal and saves it (unless the step
    /// came from the journal), then reports the step.
    pub(crate) async fn finish(
        &self,
        step: Step,
        sid: Option<ObjectSid>,
        began: Instant,
        outcome: Outcome,
        change: impl FnOnce(&mut Journal),
    ) -> Result<(), FlowError> {
        if outcome == Outcome::Journaled {
            self.update(change);
        } else {
            let key = step.intent_key();
            self.save(&step, |j| {
                change(j);
                if let Some(key) = key {
                    j.intents.remove(&key);
                }
            })
            .await?;
        }
        self.record(step, sid, began, outcome);
        Ok(())
    }

    /// A step whose resource the journal already holds: reported, nothing sent or saved.
    pub(crate) async fn reuse(
        &self,
        step: Step,
        sid: ObjectSid,
        began: Instant,
    ) -> Result<(), FlowError> {
        self.finish(step, Some(sid), began, Outcome::Journaled, |_| {})
            .await
    }

    /// Reports a finished step (the journal already saved).
    pub(crate) fn record(
        &self,
        step: Step,
        sid: Option<ObjectSid>,
        began: Instant,
        outcome: Outcome,
    ) {
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
    }

    /// One API call under the in-flight cap; how it ended is reported to the limiter (an adaptive
    /// one lowers its cap on a 429 and raises it on successes at full use).
    pub(crate) async fn call<T>(
        &self,
        fut: impl Future<Output = Result<T, Error>>,
    ) -> Result<T, Error> {
        let permit = self.options.limiter.acquire().await;
        let result = fut.await;
        permit.record(&result);
        result
    }

    /// Saves the intent of `step`'s create (write-ahead): returns once it is durable, so that a
    /// create is never sent without a journal that says it may exist.
    pub(crate) async fn intend(
        &self,
        step: &Step,
        criteria: Option<String>,
    ) -> Result<Intent, FlowError> {
        let key = step.intent_key().expect("a step that creates");
        if let Some(intent) = self.journal(|j| j.intents.get(&key).cloned()) {
            return Ok(intent);
        }
        let intent = Intent {
            at: OffsetDateTime::now_utc(),
            criteria,
        };
        let recorded = intent.clone();
        self.save(step, |j| {
            j.intents.entry(key).or_insert(recorded);
        })
        .await?;
        Ok(intent)
    }

    /// Decides which of the resources a lookup found is this flow's: created since its intent
    /// (clock skew allowed), not owned by another flow of the store, and unambiguous: at most as
    /// many candidates as flows whose lost creates could match them (this one and its rivals),
    /// each flow then claiming one.
    pub(crate) fn adopt<S: Created>(
        &self,
        step: &Step,
        intent: &Intent,
        mut found: Vec<Found<S>>,
    ) -> Result<Option<S>, FlowError> {
        let key = step.intent_key().expect("a step that creates");
        let journal = self.journal(Journal::clone);
        let since = intent.at - CLOCK_SKEW;
        found.retain(|f| f.created.is_none_or(|d| d >= since));
        found.retain(|f| !self.store.held_elsewhere(&journal, f.sid.object_sid()));
        if found.is_empty() {
            return Ok(None);
        }
        found.sort_by_key(|f| (f.created, f.sid.object_sid()));
        let rivals = self.store.rivals(&journal, &key, intent);
        if found.len() > rivals + 1 {
            return Err(FlowError::Ambiguous {
                step: step.clone(),
                candidates: found.iter().map(|f| f.sid.object_sid()).collect(),
            });
        }
        for candidate in found {
            if self.store.try_claim(&journal, candidate.sid.object_sid()) {
                return Ok(Some(candidate.sid));
            }
        }
        Ok(None)
    }

    /// Creates a resource: when an intent of it is journaled (an earlier run may have sent it),
    /// looks it up first; saves the intent before sending; when the answer says the create may
    /// have been processed, looks it up before sending again; sends again what Twilio did not
    /// process. Bounded attempts.
    pub(crate) async fn create<S, C, CF, F, FF>(
        &self,
        step: &Step,
        criteria: Option<String>,
        create: C,
        find: F,
    ) -> Result<(S, Outcome), FlowError>
    where
        C: Fn() -> CF,
        CF: Future<Output = Result<S, FlowError>>,
        F: Fn() -> FF,
        FF: Future<Output = Result<Vec<Found<S>>, FlowError>>,
        S: Created,
    {
        let key = step.intent_key().expect("a step that creates");
        if let Some(intent) = self.journal(|j| j.intents.get(&key).cloned()) {
            tracing::debug!(step = %step, "trusthub.flow intent journaled; looking it up");
            if let Some(sid) = self.adopt(step, &intent, find().await?)? {
                return Ok((sid, Outcome::Found));
            }
        }
        // One budget of sends per create: the client's retry policy. The transport of
        // `self.creates` does not retry; this loop does, for what Twilio did not process (after
        // the backoff or its `Retry-After`) and for what a lookup did not find.
        let policy = self.client.transport().retry_policy();
        let max_sends = policy.max_attempts.max(1);
        let first_send = Instant::now();
        let mut sends = 0;
        loop {
            let intent = self.intend(step, criteria.clone()).await?;
            sends += 1;
            let error = match create().await {
                Ok(sid) => return Ok((sid, Outcome::Created)),
                Err(e) => e,
            };
            let FlowError::Step { source, .. } = &error else {
                return Err(error);
            };
            match source.processed() {
                Processed::Refused => return Err(error),
                // Refused before sending (a parameter, the configuration): the same again.
                Processed::No if !source.is_retryable() => return Err(error),
                Processed::No => {
                    tracing::debug!(step = %step, sends, "trusthub.flow create not processed");
                }
                _ => {
                    tracing::debug!(step = %step, sends, "trusthub.flow create may have been processed; looking it up");
                    if let Some(sid) = self.adopt(step, &intent, find().await?)? {
                        return Ok((sid, Outcome::Found));
                    }
                }
            }
            if sends >= max_sends {
                return Err(error);
            }
            let delay = source
                .retry_after()
                .unwrap_or_else(|| policy.backoff(sends - 1));
            if first_send.elapsed() + delay > policy.max_elapsed {
                return Err(error);
            }
            tokio::time::sleep(delay).await;
        }
    }

    /// A step that creates one resource: reuses the journal's SID, else [`Self::create`]s it,
    /// then records it in the journal.
    pub(crate) async fn ensure<S, C, CF, F, FF>(
        &self,
        step: Step,
        journaled: impl FnOnce(&Journal) -> Option<S>,
        criteria: Option<String>,
        create: C,
        find: F,
        record: impl FnOnce(&mut Journal, S),
    ) -> Result<S, FlowError>
    where
        C: Fn() -> CF,
        CF: Future<Output = Result<S, FlowError>>,
        F: Fn() -> FF,
        FF: Future<Output = Result<Vec<Found<S>>, FlowError>>,
        S: Created + Copy,
    {
        let began = Instant::now();
        if let Some(sid) = self.journal(journaled) {
            self.reuse(step, sid.object_sid(), began).await?;
            return Ok(sid);
        }
        let (sid, outcome) = self.create(&step, criteria, create, find).await?;
        self.finish(step, Some(sid.object_sid()), began, outcome, |j| {
            record(j, sid)
        })
        .await?;
        Ok(sid)
    }

    /// Lists every item of `list` and keeps those `matches` accepts, with their SID and creation
    /// time: how a resource whose create answer was lost is found again.
    pub(crate) async fn lookup<T, S>(
        &self,
        step: &Step,
        bundle: Option<CustomerProfileSid>,
        list: ItemStream<T>,
        matches: impl Fn(&T) -> bool,
        read: impl Fn(T) -> (Option<S>, Option<OffsetDateTime>),
    ) -> Result<Vec<Found<S>>, FlowError> {
        let all: Vec<T> = self
            .call(list.try_collect::<Vec<_>>())
            .await
            .map_err(|e| step_error(step, bundle.map(ObjectSid::from), e))?;
        Ok(all
            .into_iter()
            .filter(|item| matches(item))
            .filter_map(|item| {
                let (sid, created) = read(item);
                sid.map(|sid| Found { sid, created })
            })
            .collect())
    }

    pub(crate) fn tag(&self, what: &str) -> String {
        format!("{what} {}", self.journal(|j| j.flow_id.clone()))
    }

    /// An evaluation step (a profile's, a trust product's): a journaled evaluation is fetched and
    /// reused; else one is created under the create rules, a lost one found as the newest of
    /// the bundle's evaluations (older ones are not duplicates); `record` journals its SID and
    /// whether it was compliant.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn evaluation<A, FE, FEF, C, CF, L, LF>(
        &self,
        step: Step,
        bundle: ObjectSid,
        operation: &'static str,
        journaled: Option<EvaluationSid>,
        fetch: FE,
        create: C,
        list: L,
        read: impl Fn(&A) -> (Option<EvaluationSid>, Option<OffsetDateTime>),
        record: impl FnOnce(&mut Journal, EvaluationSid, bool),
    ) -> Result<Evaluation, FlowError>
    where
        A: Into<Evaluation>,
        FE: FnOnce(EvaluationSid) -> FEF,
        FEF: Future<Output = Result<A, Error>>,
        C: Fn() -> CF,
        CF: Future<Output = Result<A, Error>>,
        L: Fn() -> LF,
        LF: Future<Output = Result<Vec<A>, Error>>,
    {
        let began = Instant::now();
        if let Some(sid) = journaled {
            let answer = self
                .call(fetch(sid))
                .await
                .map_err(|e| step_error(&step, Some(sid.into()), e))?;
            self.reuse(step, sid.into(), began).await?;
            return Ok(answer.into());
        }
        let create = || async {
            let answer = self
                .call(create())
                .await
                .map_err(|e| step_error(&step, Some(bundle), e))?;
            let sid = created_sid(&step, operation, read(&answer).0)?;
            Ok(Evaluated { sid, answer })
        };
        let find = || async {
            let mut all = self
                .call(list())
                .await
                .map_err(|e| step_error(&step, Some(bundle), e))?;
            all.sort_by_key(|a| read(a).1);
            Ok(all
                .pop()
                .and_then(|answer| {
                    let (sid, created) = read(&answer);
                    Some(Found {
                        sid: Evaluated { sid: sid?, answer },
                        created,
                    })
                })
                .into_iter()
                .collect())
        };
        let (Evaluated { sid, answer }, outcome) = self.create(&step, None, create, find).await?;
        let evaluation: Evaluation = answer.into();
        let compliant = evaluation.is_compliant();
        self.finish(step, Some(sid.into()), began, outcome, |j| {
            record(j, sid, compliant)
        })
        .await?;
        Ok(evaluation)
    }

    /// Submits a bundle for review exactly once. The submission's intent is saved before it is
    /// sent; when an intent is journaled already (an earlier run sent it and its answer, or its
    /// journal line, was lost), or when the answer does not say it went through, the bundle's
    /// status decides: anything but draft means it was submitted. A submission is never sent to
    /// a bundle that left draft. `submitted` reads and `mark` records the journal's flag.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn submit_once<St, FS, FF, SS, SF>(
        &self,
        step: Step,
        resource: ObjectSid,
        submitted: impl Fn(&Journal) -> bool,
        mark: impl FnOnce(&mut Journal),
        fetch: FS,
        send: SS,
        is_draft: impl Fn(&St) -> bool,
    ) -> Result<St, FlowError>
    where
        FS: Fn() -> FF,
        FF: Future<Output = Result<St, Error>>,
        SS: Fn() -> SF,
        SF: Future<Output = Result<St, Error>>,
    {
        let began = Instant::now();
        let key = step.intent_key().expect("a submission has an intent");
        let current = || async {
            self.call(fetch())
                .await
                .map_err(|e| step_error(&step, Some(resource), e))
        };
        if self.journal(&submitted) {
            let status = current().await?;
            self.reuse(step, resource, began).await?;
            return Ok(status);
        }
        let mut status = None;
        if self.journal(|j| j.intents.contains_key(&key)) {
            let now = current().await?;
            if !is_draft(&now) {
                status = Some(now);
            }
        } else {
            self.intend(&step, None).await?;
        }
        let policy = self.client.transport().retry_policy();
        let mut attempts = 0;
        let status = loop {
            if let Some(status) = status.take() {
                break status;
            }
            attempts += 1;
            match self.call(send()).await {
                Ok(answer) => break answer,
                Err(e) if e.processed() == Processed::No => {
                    return Err(step_error(&step, Some(resource), e));
                }
                Err(e) => {
                    // Lost, refused (say `in-review` cannot go to `pending-review`), a 5xx or
                    // undecodable: the status says whether the submission went through; when it
                    // did not, it is sent again within the client's retry budget.
                    let now = current().await?;
                    if !is_draft(&now) {
                        status = Some(now);
                    } else if e.processed() == Processed::Refused
                        || attempts >= policy.max_attempts.max(1)
                    {
                        return Err(step_error(&step, Some(resource), e));
                    } else {
                        let delay = e
                            .retry_after()
                            .unwrap_or_else(|| policy.backoff(attempts - 1));
                        tokio::time::sleep(delay).await;
                    }
                }
            }
        };
        self.finish(step, Some(resource), began, Outcome::Created, mark)
            .await?;
        Ok(status)
    }

    /// An engine for `journal`: creates go through a transport with retries off (the engine's
    /// `create` is their only retry).
    pub(crate) fn new(
        client: &'a Client,
        journal: Journal,
        store: &'a dyn JournalStore,
        options: &'a FlowOptions,
        warnings: Vec<Warning>,
    ) -> Self {
        Engine {
            client,
            creates: trusthub_generated::Client::new(
                client.transport().with_retry(RetryPolicy::none()),
            ),
            options,
            store,
            book: Mutex::new(Book {
                journal,
                version: 0,
                saved: 0,
                saving: false,
            }),
            save_ended: Notify::new(),
            records: Mutex::new(Vec::new()),
            warnings: Mutex::new(warnings),
            started: Instant::now(),
        }
    }

    /// What the run leaves: the journal, the steps in the order they finished, the warnings and
    /// the wall time.
    pub(crate) fn into_parts(self) -> (Journal, Vec<StepRecord>, Vec<Warning>, Duration) {
        (
            self.book.into_inner().expect("journal lock").journal,
            self.records.into_inner().expect("records lock"),
            self.warnings.into_inner().expect("warnings lock"),
            self.started.elapsed(),
        )
    }
}
