//! What a flow checks before it creates anything: the policy (against the input) and the ISV's
//! primary customer profile.

use futures_util::future::join_all;
use futures_util::TryStreamExt;
use trusthub_generated::runtime::Error;
use trusthub_generated::trusthub_v1::{CustomerProfileStatus, Policy};

use super::{FlowError, Limiter, Step};
use crate::attributes::{BusinessIdentity, BusinessInformation};
use crate::sid::{policies, CustomerProfileSid, EndUserSid, ObjectSid, PolicySid};
use crate::Client;

/// The policy of a flow, fetched, and its primary customer profile, checked: done once before a
/// flow creates anything, and shareable between the flows of a batch
/// ([`FlowOptions::preflight`](super::FlowOptions::preflight)).
///
/// The primary profile must exist in the client's account, be `twilio-approved`, be a primary
/// customer profile (policy [`policies::PRIMARY_BUSINESS_PROFILE`]) and, for the Secondary
/// Customer Profile policy, have `isv_reseller_or_partner` as its business identity: Twilio
/// refuses secondary profiles under any other ("Secondary Customer Profile for direct_customer
/// can only be created through Twilio console"). Each problem is named; nothing is created.
///
/// ```
/// use trusthub::flow::Preflight;
/// use trusthub::sid::{policies, CustomerProfileSid};
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
/// let primary: CustomerProfileSid = emulator.primary_profile_sid().parse()?;
/// let checked = Preflight::check(&client, policies::SECONDARY_CUSTOMER_PROFILE, primary).await?;
/// assert_eq!(checked.primary_profile(), primary);
///
/// // A well-formed SID that is not the account's approved primary profile is refused.
/// let wrong = CustomerProfileSid::from_static("BU0123456789abcdef0123456789abcdef");
/// let err = Preflight::check(&client, policies::SECONDARY_CUSTOMER_PROFILE, wrong).await.unwrap_err();
/// assert!(matches!(err, FlowError::PrimaryProfile { .. }), "{err}");
/// assert!(err.to_string().contains("does not exist in this account"), "{err}");
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct Preflight {
    policy_sid: PolicySid,
    policy: Policy,
    primary: CustomerProfileSid,
}

impl Preflight {
    /// Fetches `policy` and checks `primary` (three requests in parallel, then one per end
    /// user assigned to the primary profile).
    pub async fn check(
        client: &Client,
        policy: PolicySid,
        primary: CustomerProfileSid,
    ) -> Result<Preflight, FlowError> {
        Self::check_inner(client, policy, primary, None).await
    }

    /// [`check`](Self::check) with each request under `limiter` (a permit per request, its
    /// answer reported), so that the checks count with the flows that share it.
    pub async fn check_limited(
        client: &Client,
        policy: PolicySid,
        primary: CustomerProfileSid,
        limiter: &Limiter,
    ) -> Result<Preflight, FlowError> {
        Self::check_inner(client, policy, primary, Some(limiter)).await
    }

    async fn check_inner(
        client: &Client,
        policy: PolicySid,
        primary: CustomerProfileSid,
        limiter: Option<&Limiter>,
    ) -> Result<Preflight, FlowError> {
        let assignments = client.customer_profiles().entity_assignments(primary);
        let (fetched_policy, profile, assigned) = tokio::join!(
            limited(limiter, client.policies().fetch(policy).send()),
            limited(limiter, client.customer_profiles().fetch(primary).send()),
            limited(
                limiter,
                assignments
                    .list()
                    .page_size(1000)
                    .into_stream()
                    .try_collect::<Vec<_>>()
            ),
        );
        let step_error = |step: Step, resource: ObjectSid, e: Error| FlowError::Step {
            step,
            resource: Some(resource),
            source: Box::new(e),
        };
        let fetched_policy =
            fetched_policy.map_err(|e| step_error(Step::ConfirmPolicy, policy.into(), e))?;
        let refuse = |problems: Vec<String>| FlowError::PrimaryProfile {
            profile: primary,
            problems,
        };
        let profile = match profile {
            Ok(profile) => profile,
            Err(e) if e.status() == Some(404) => {
                return Err(refuse(vec![format!(
                    "it does not exist in this account ({}; HTTP 404): give the SID of the \
                     account's twilio-approved primary customer profile",
                    client.account_sid()
                )]));
            }
            Err(e) => return Err(step_error(Step::ConfirmPrimaryProfile, primary.into(), e)),
        };
        let mut problems = Vec::new();
        let account = client.account_sid();
        if let Some(owner) = profile
            .account_sid
            .filter(|a| a.as_str() != account.as_str())
        {
            problems.push(format!(
                "it belongs to account {owner}, not to {account} (the credentials' account)"
            ));
        }
        let status = profile.status.as_ref().map(|s| s.as_str().to_owned());
        if profile.status != Some(CustomerProfileStatus::TwilioApproved) {
            problems.push(format!(
                "its status is `{}`, not `twilio-approved`: Twilio must approve the primary \
                 profile before secondary profiles can be created under it",
                status.as_deref().unwrap_or("unknown")
            ));
        }
        let primary_policy = policies::PRIMARY_BUSINESS_PROFILE;
        match profile.policy_sid {
            Some(p) if p == primary_policy => {}
            other => problems.push(format!(
                "it is not a primary customer profile (its policy is {}, a primary profile's is \
                 {primary_policy})",
                other.map_or_else(|| "unknown".to_owned(), |p| p.to_string())
            )),
        }
        if policy == policies::SECONDARY_CUSTOMER_PROFILE {
            let assigned =
                assigned.map_err(|e| step_error(Step::ConfirmPrimaryProfile, primary.into(), e))?;
            let end_users: Vec<EndUserSid> = assigned
                .iter()
                .filter_map(|a| a.object_sid)
                .filter_map(|sid| EndUserSid::try_from(sid).ok())
                .collect();
            let fetched = join_all(
                end_users
                    .iter()
                    .map(|sid| limited(limiter, client.end_users().fetch(sid).send())),
            )
            .await;
            let mut identity = None;
            for user in fetched {
                let user =
                    user.map_err(|e| step_error(Step::ConfirmPrimaryProfile, primary.into(), e))?;
                if user.type_.as_deref() == Some(BusinessInformation::END_USER_TYPE) {
                    identity = Some(
                        user.attributes
                            .as_ref()
                            .and_then(|a| a.get("business_identity"))
                            .and_then(|v| v.as_str())
                            .unwrap_or_default()
                            .to_owned(),
                    );
                }
            }
            let isv = BusinessIdentity::IsvResellerOrPartner.as_str();
            match identity {
                Some(found) if found == isv => {}
                Some(found) => problems.push(format!(
                    "its business identity is `{}`, not `{isv}`: Twilio creates Secondary \
                     Customer Profiles through the API only under an ISV's primary profile \
                     (otherwise: \"Secondary Customer Profile for direct_customer can only be \
                     created through Twilio console\")",
                    trusthub_generated::runtime::text::printable(&found)
                )),
                None => problems.push(format!(
                    "it has no business information end user, so it cannot be an ISV's \
                     (`{isv}`) primary profile"
                )),
            }
        }
        if !problems.is_empty() {
            return Err(refuse(problems));
        }
        Ok(Preflight {
            policy_sid: policy,
            policy: fetched_policy,
            primary,
        })
    }

    /// The policy checked.
    pub fn policy_sid(&self) -> PolicySid {
        self.policy_sid
    }

    /// The policy as fetched.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// The primary customer profile checked.
    pub fn primary_profile(&self) -> CustomerProfileSid {
        self.primary
    }
}

/// One request, under `limiter` when there is one (its answer reported to it).
async fn limited<T>(
    limiter: Option<&Limiter>,
    request: impl std::future::Future<Output = Result<T, Error>>,
) -> Result<T, Error> {
    match limiter {
        Some(limiter) => {
            let permit = limiter.acquire().await;
            let answer = request.await;
            permit.record(&answer);
            answer
        }
        None => request.await,
    }
}
