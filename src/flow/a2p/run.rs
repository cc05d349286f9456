//! The journey's steps on the flow's engine: each a call to `ensure` (or the engine's
//! submission), joined as soon as its inputs exist.

use std::ops::Deref;
use std::time::{Duration, Instant};

use futures_util::future::join_all;
use trusthub_generated::messaging_v1::{
    BrandRegistration, BrandRegistrationsStatus, PhoneNumber, Service, UsAppToPerson,
    UsAppToPersonCampaignStatus,
};
use trusthub_generated::runtime::StringEnum;

use super::super::engine::{created_sid, step_error, Engine, CLOCK_SKEW};
use super::super::run::ProfilePhase;
use super::super::trust_product::{TrustProductInput, TrustProductSteps};
use super::super::{A2pProgress, FlowError, Intent, Journal, Outcome, Step, TrustProductKind};
use super::{Journey, MessagingServiceInput};
use crate::attributes::MessagingProfileInformation;
use crate::evaluation::Evaluation;
use crate::sid::{
    BrandRegistrationSid, CustomerProfileSid, MessagingServiceSid, ObjectSid, PhoneNumberSid,
    TrustProductSid, UsAppToPersonSid,
};

/// How long a run follows the brand's and the campaign's reviews, and how often it looks.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Waits {
    pub brand: Duration,
    pub campaign: Duration,
    pub poll: Duration,
}

/// Where a run ended.
pub(crate) enum Ended {
    Brand(BrandRegistration),
    Campaign(BrandRegistrationSid, UsAppToPerson),
}

/// What a run produced besides the journal.
pub(crate) struct Produced {
    pub profile_evaluation: Option<Evaluation>,
    pub trust_product_evaluation: Evaluation,
    pub ended: Ended,
}

pub(crate) fn progress(j: &mut Journal) -> &mut A2pProgress {
    j.a2p.get_or_insert_with(A2pProgress::default)
}

fn read<T>(j: &Journal, f: impl FnOnce(&A2pProgress) -> T) -> Option<T> {
    j.a2p.as_ref().map(f)
}

/// The journey's steps: the engine and the input.
pub(crate) struct JourneySteps<'a> {
    engine: &'a Engine<'a>,
    input: &'a Journey,
}

impl<'a> Deref for JourneySteps<'a> {
    type Target = Engine<'a>;
    fn deref(&self) -> &Engine<'a> {
        self.engine
    }
}

impl<'a> JourneySteps<'a> {
    pub(crate) fn new(engine: &'a Engine<'a>, input: &'a Journey) -> Self {
        JourneySteps { engine, input }
    }

    /// The A2P Messaging Profile's trust product steps.
    fn messaging_profile(&self) -> TrustProductSteps<'a> {
        TrustProductSteps::new(
            self.engine,
            TrustProductKind::A2pMessagingProfile,
            TrustProductInput {
                friendly_name: &self.input.trust_product_name,
                email: &self.input.trust_product_email,
                criteria_part: "a2p.trust_product",
            },
        )
    }

    fn a2p<T>(&self, f: impl FnOnce(&A2pProgress) -> Option<T>) -> Option<T> {
        self.journal(|j| read(j, f).flatten())
    }

    /// The whole journey, or what the journal leaves of it.
    pub(crate) async fn run(&self, waits: Waits) -> Result<Produced, FlowError> {
        let input = self.input;
        // Before anything is created: the profile's checks (its policy and the primary
        // profile), or that the existing profile was submitted.
        let confirmed = self.a2p(|a| Some(a.profile_confirmed)).unwrap_or(false);
        let (profile_phase, ready_rx) =
            ProfilePhase::check(self.engine, &input.profile, confirmed, |j| {
                progress(j).profile_confirmed = true
            })
            .await?;
        let profile_phase = profile_phase.build_and_submit();
        let attributes = input.messaging_profile.to_attributes();
        let messaging_profile = self.messaging_profile();
        let trust_product_phase = messaging_profile.build(
            Some((MessagingProfileInformation::END_USER_TYPE, &attributes)),
            ready_rx,
        );
        let service_phase = async {
            let service = self.service().await?;
            let added = join_all(
                self.input
                    .phone_numbers
                    .iter()
                    .map(|pn| self.add_phone_number(service, *pn)),
            )
            .await;
            for result in added {
                result?;
            }
            Ok::<_, FlowError>(service)
        };
        // `join!`: a failed branch lets the others finish and be journaled.
        let (profile, trust_product, service) =
            tokio::join!(profile_phase, trust_product_phase, service_phase);
        let (bundle, profile_evaluation) = profile?;
        let trust_product = trust_product?.expect("the profile phase succeeded");
        let service = service?;

        let (trust_product_evaluation, _) =
            messaging_profile.evaluate_and_submit(trust_product).await?;
        let brand = self.brand(bundle, trust_product).await?;
        let journaled_campaign = self.a2p(|a| a.campaign);
        // The use case is checked while the brand is followed: Twilio lists a brand's use cases
        // from its creation on.
        let (answer, use_case) = tokio::join!(self.follow_brand(brand, waits), async {
            match journaled_campaign {
                Some(_) => Ok(()),
                None => self.check_use_case(service, brand).await,
            }
        });
        let answer = answer?;
        if answer.status != Some(BrandRegistrationsStatus::Approved) {
            return Ok(Produced {
                profile_evaluation,
                trust_product_evaluation,
                ended: Ended::Brand(answer),
            });
        }
        use_case?;
        let campaign = match journaled_campaign {
            Some(campaign) => campaign,
            None => self.campaign(service, brand).await?,
        };
        let answer = self.follow_campaign(service, campaign, waits).await?;
        Ok(Produced {
            profile_evaluation,
            trust_product_evaluation,
            ended: Ended::Campaign(brand, answer),
        })
    }

    // ---- the messaging service and its numbers ----

    async fn service(&self) -> Result<MessagingServiceSid, FlowError> {
        let step = Step::CreateMessagingService;
        let (friendly_name, inbound, callback) = match &self.input.service {
            MessagingServiceInput::Existing(sid) => {
                let sid = *sid;
                let began = Instant::now();
                if self.a2p(|a| a.messaging_service).is_some() {
                    self.reuse(step, sid.into(), began).await?;
                    return Ok(sid);
                }
                self.call(self.client.services().fetch(sid).send())
                    .await
                    .map_err(|e| step_error(&step, Some(sid.into()), e))?;
                self.finish(step, Some(sid.into()), began, Outcome::Checked, |j| {
                    let a2p = progress(j);
                    a2p.messaging_service = Some(sid);
                    a2p.service_created = false;
                })
                .await?;
                return Ok(sid);
            }
            MessagingServiceInput::New {
                friendly_name,
                inbound_request_url,
                status_callback,
            } => (friendly_name, inbound_request_url, status_callback),
        };
        let create = || async {
            let mut request = self.creates.services().create(friendly_name.as_str());
            if let Some(url) = inbound {
                request = request.inbound_request_url(url.as_str());
            }
            if let Some(url) = callback {
                request = request.status_callback(url.as_str());
            }
            let service = self
                .call(request.send())
                .await
                .map_err(|e| step_error(&step, None, e))?;
            created_sid(&step, "CreateService", service.sid)
        };
        let find = || {
            let list = self.client.services().list().page_size(1000).into_stream();
            let matches = |s: &Service| s.friendly_name.as_deref() == Some(friendly_name.as_str());
            self.lookup(&step, None, list, matches, |s| (s.sid, s.date_created))
        };
        let criteria = self.journal(|j| j.input.get("a2p.messaging_service").cloned());
        self.ensure(
            step.clone(),
            |j| read(j, |a| a.messaging_service).flatten(),
            criteria,
            create,
            find,
            |j, sid| {
                let a2p = progress(j);
                a2p.messaging_service = Some(sid);
                a2p.service_created = true;
            },
        )
        .await
    }

    async fn add_phone_number(
        &self,
        service: MessagingServiceSid,
        number: PhoneNumberSid,
    ) -> Result<PhoneNumberSid, FlowError> {
        let step = Step::AddPhoneNumber(number);
        let create = || async {
            let added = self
                .call(
                    self.creates
                        .services()
                        .phone_numbers(service)
                        .create(number)
                        .send(),
                )
                .await
                .map_err(|e| step_error(&step, Some(service.into()), e))?;
            created_sid(&step, "CreatePhoneNumber", added.sid)
        };
        let find = || {
            let list = self
                .client
                .services()
                .phone_numbers(service)
                .list()
                .page_size(1000)
                .into_stream();
            let matches = |p: &PhoneNumber| p.sid == Some(number);
            self.lookup(&step, None, list, matches, |p| (p.sid, p.date_created))
        };
        self.ensure(
            step.clone(),
            |j| read(j, |a| a.phone_numbers.get(&number).copied()).flatten(),
            None,
            create,
            find,
            |j, sid| {
                progress(j).phone_numbers.insert(sid);
            },
        )
        .await
    }

    // ---- the brand ----

    async fn brand(
        &self,
        bundle: CustomerProfileSid,
        trust_product: TrustProductSid,
    ) -> Result<BrandRegistrationSid, FlowError> {
        let step = Step::RegisterBrand;
        let brand = self.input.brand;
        let create = || async {
            let mut request = self
                .creates
                .brand_registrations()
                .create(bundle, trust_product)
                .brand_type(brand.brand_type.as_str())
                .skip_automatic_sec_vet(brand.skips_secondary_vetting());
            if brand.mock {
                request = request.mock(true);
            }
            let created = self
                .call(request.send())
                .await
                .map_err(|e| step_error(&step, Some(trust_product.into()), e))?;
            created_sid(&step, "CreateBrandRegistrations", created.sid)
        };
        // One brand per A2P trust product: a lost create is found by its trust product.
        let find = || {
            let list = self
                .client
                .brand_registrations()
                .list()
                .page_size(1000)
                .into_stream();
            let matches = |b: &BrandRegistration| b.a2p_profile_bundle_sid == Some(trust_product);
            self.lookup(&step, None, list, matches, |b| (b.sid, b.date_created))
        };
        self.ensure(
            step.clone(),
            |j| read(j, |a| a.brand).flatten(),
            None,
            create,
            find,
            |j, sid| {
                let a2p = progress(j);
                a2p.brand = Some(sid);
                a2p.brand_status = Some(BrandRegistrationsStatus::Pending.as_str().to_owned());
            },
        )
        .await
    }

    /// Follows the brand until TCR decides or `waits.brand` passes; the status seen last is
    /// journaled ("waiting for brand BN...").
    pub(crate) async fn follow_brand(
        &self,
        brand: BrandRegistrationSid,
        waits: Waits,
    ) -> Result<BrandRegistration, FlowError> {
        let step = Step::BrandReview;
        let fetch = || async {
            self.call(self.client.brand_registrations().fetch(brand).send())
                .await
                .map_err(|e| step_error(&step, Some(brand.into()), e))
        };
        let decided = |b: &BrandRegistration| {
            matches!(
                b.status,
                Some(BrandRegistrationsStatus::Approved | BrandRegistrationsStatus::Failed)
            )
        };
        let status = |b: &BrandRegistration| b.status.as_ref().map(|s| s.as_str().to_owned());
        self.follow(
            step.clone(),
            brand.into(),
            waits.brand,
            waits.poll,
            fetch,
            decided,
            |j, b| progress(j).brand_status = status(b),
        )
        .await
    }

    // ---- the campaign ----

    async fn check_use_case(
        &self,
        service: MessagingServiceSid,
        brand: BrandRegistrationSid,
    ) -> Result<(), FlowError> {
        let step = Step::ChooseUseCase;
        let began = Instant::now();
        let answer = self
            .call(
                self.client
                    .services()
                    .usecases(service)
                    .fetch()
                    .brand_registration_sid(brand)
                    .send(),
            )
            .await
            .map_err(|e| step_error(&step, Some(brand.into()), e))?;
        let offered: Vec<String> = answer
            .us_app_to_person_usecases
            .iter()
            .flatten()
            .filter_map(|u| u.get("code").and_then(|c| c.as_str()).map(str::to_owned))
            .collect();
        let wanted = &self.input.campaign.use_case;
        if !offered.iter().any(|code| code == wanted) {
            return Err(FlowError::UseCaseUnavailable {
                brand,
                use_case: wanted.clone(),
                offered,
            });
        }
        self.record(step, Some(brand.into()), began, Outcome::Checked);
        Ok(())
    }

    async fn campaign(
        &self,
        service: MessagingServiceSid,
        brand: BrandRegistrationSid,
    ) -> Result<UsAppToPersonSid, FlowError> {
        let step = Step::CreateCampaign;
        let c = &self.input.campaign;
        let create = || async {
            let mut request = self
                .creates
                .services()
                .usa2p(service)
                .create(
                    brand,
                    c.description.as_str(),
                    c.message_flow.as_str(),
                    c.message_samples.iter().map(String::as_str),
                    c.use_case.as_str(),
                    c.has_embedded_links,
                    c.has_embedded_phone,
                )
                .age_gated(c.age_gated)
                .direct_lending(c.direct_lending);
            if let Some(m) = &c.opt_in_message {
                request = request.opt_in_message(m.as_str());
            }
            if let Some(m) = &c.opt_out_message {
                request = request.opt_out_message(m.as_str());
            }
            if let Some(m) = &c.help_message {
                request = request.help_message(m.as_str());
            }
            if !c.opt_in_keywords.is_empty() {
                request = request.opt_in_keywords(c.opt_in_keywords.iter().map(String::as_str));
            }
            if !c.opt_out_keywords.is_empty() {
                request = request.opt_out_keywords(c.opt_out_keywords.iter().map(String::as_str));
            }
            if !c.help_keywords.is_empty() {
                request = request.help_keywords(c.help_keywords.iter().map(String::as_str));
            }
            if let Some(s) = c.subscriber_opt_in {
                request = request.subscriber_opt_in(s);
            }
            let created = self
                .call(request.send())
                .await
                .map_err(|e| step_error(&step, Some(service.into()), e))?;
            created_sid(&step, "CreateUsAppToPerson", created.sid)
        };
        // One campaign per Messaging Service: a lost create is found on its service.
        let find = || {
            let list = self
                .client
                .services()
                .usa2p(service)
                .list()
                .page_size(1000)
                .into_stream();
            let matches = |u: &UsAppToPerson| u.brand_registration_sid == Some(brand);
            self.lookup(&step, None, list, matches, |u| (u.sid, u.date_created))
        };
        self.ensure(
            step.clone(),
            |j| read(j, |a| a.campaign).flatten(),
            None,
            create,
            find,
            |j, sid| {
                let a2p = progress(j);
                a2p.campaign = Some(sid);
                a2p.campaign_status =
                    Some(UsAppToPersonCampaignStatus::InProgress.as_str().to_owned());
            },
        )
        .await
    }

    async fn follow_campaign(
        &self,
        service: MessagingServiceSid,
        campaign: UsAppToPersonSid,
        waits: Waits,
    ) -> Result<UsAppToPerson, FlowError> {
        let step = Step::CampaignReview;
        let fetch = || async {
            self.call(self.client.services().usa2p(service).fetch(campaign).send())
                .await
                .map_err(|e| step_error(&step, Some(campaign.into()), e))
        };
        let decided = |c: &UsAppToPerson| {
            matches!(
                c.campaign_status,
                Some(UsAppToPersonCampaignStatus::Verified | UsAppToPersonCampaignStatus::Failed)
            )
        };
        self.follow(
            step.clone(),
            campaign.into(),
            waits.campaign,
            waits.poll,
            fetch,
            decided,
            |j, c| {
                progress(j).campaign_status =
                    c.campaign_status.as_ref().map(|s| s.as_str().to_owned());
            },
        )
        .await
    }
}

impl Engine<'_> {
    /// Fetches a resource under review until `decided` or `wait` passes (at least one fetch),
    /// then journals what was seen (`note`) and reports the step as checked.
    #[allow(clippy::too_many_arguments)]
    async fn follow<T, F, FF>(
        &self,
        step: Step,
        resource: ObjectSid,
        wait: Duration,
        poll: Duration,
        fetch: F,
        decided: impl Fn(&T) -> bool,
        note: impl FnOnce(&mut Journal, &T),
    ) -> Result<T, FlowError>
    where
        F: Fn() -> FF,
        FF: std::future::Future<Output = Result<T, FlowError>>,
    {
        let began = Instant::now();
        let deadline = began + wait;
        let answer = loop {
            let answer = fetch().await?;
            if decided(&answer) || Instant::now() + poll > deadline {
                break answer;
            }
            tokio::time::sleep(poll).await;
        };
        self.save(&step, |j| note(j, &answer)).await?;
        self.record(step, Some(resource), began, Outcome::Checked);
        Ok(answer)
    }
}

/// Resubmits a FAILED brand once: the intent first; a resubmission whose answer was lost is
/// recognised by the brand's status (anything but FAILED means it went through).
pub(crate) async fn resubmit_brand(
    engine: &Engine<'_>,
    brand: BrandRegistrationSid,
) -> Result<BrandRegistration, FlowError> {
    let step = Step::ResubmitBrand;
    let key = step.intent_key().expect("a resubmission has an intent");
    let began = Instant::now();
    let client = engine.client;
    let fetch = || async {
        client
            .brand_registrations()
            .fetch(brand)
            .send()
            .await
            .map_err(|e| step_error(&step, Some(brand.into()), e))
    };
    let failed = |b: &BrandRegistration| b.status == Some(BrandRegistrationsStatus::Failed);
    // Whether a resubmission sent after `intent` went through: the brand left FAILED, or failed
    // again since (updated after the intent, clock skew counted the safe way: rather not
    // resubmit than pay twice).
    let went_through = |b: &BrandRegistration, intent: &Intent| {
        !failed(b)
            || b.date_updated
                .is_some_and(|updated| updated >= intent.at - CLOCK_SKEW)
    };
    let mut current = fetch().await?;
    // A journaled intent: an earlier resubmission was sent and its answer (or journal line) lost.
    let earlier = engine.journal(|j| j.intents.get(&key).cloned());
    if !earlier.is_some_and(|intent| went_through(&current, &intent)) {
        if !failed(&current) {
            return Err(FlowError::BrandNotFailed {
                brand,
                status: current
                    .status
                    .unwrap_or_else(|| BrandRegistrationsStatus::from_wire("")),
            });
        }
        let intent = engine.intend(&step, None).await?;
        current = match client.brand_registrations().update(brand).send().await {
            Ok(answer) => answer,
            Err(e) => {
                let now = fetch().await?;
                if !went_through(&now, &intent) {
                    return Err(step_error(&step, Some(brand.into()), e));
                }
                now
            }
        };
    }
    let status = current.status.as_ref().map(|s| s.as_str().to_owned());
    engine
        .finish(step, Some(brand.into()), began, Outcome::Created, |j| {
            let a2p = progress(j);
            a2p.brand_resubmissions += 1;
            a2p.brand_status = status;
        })
        .await?;
    Ok(current)
}
