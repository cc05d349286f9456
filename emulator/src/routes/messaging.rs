//! Messaging v1, the A2P 10DLC resources: brand registrations (with their SMS OTP and vettings),
//! Messaging Services with their phone numbers, the US A2P campaign of a service (`Compliance/Usa2p`) and
//! its use cases, the Messaging Service use cases, and campaigns registered elsewhere
//! (`PreregisteredUsa2p`). Dates are ISO 8601; lists use Trust Hub's `meta` envelope with absolute URLs
//! built on the request's `Host`.
//!
//! State rules beyond the spec's parameter checks (each refusal is 400 / 20001 naming the parameter,
//! unless said otherwise):
//! - a brand registration needs a customer profile (`CustomerProfileBundleSid`) and an A2P trust product
//!   (`A2PProfileBundleSid`, policy [`A2P_TRUST_PRODUCT`]) of this account, each `pending-review`,
//!   `in-review` or `twilio-approved`; `BrandType` is `STANDARD` (default), `LOW_VOLUME_STANDARD` (which
//!   needs `SkipAutomaticSecVet=true`: low-volume brands skip secondary vetting) or `SOLE_PROPRIETOR`; a
//!   second brand for the same trust product is created (and charged) like the first;
//! - `POST /v1/a2p/BrandRegistrations/{Sid}` resubmits a `FAILED` brand (202, back to `PENDING`), at most
//!   [`EmulatorConfig::max_brand_resubmissions`](crate::EmulatorConfig::max_brand_resubmissions) times;
//! - the SMS OTP is for `SOLE_PROPRIETOR` brands only; vettings take `VettingProvider=campaign-verify`
//!   (aegis vettings are Twilio's own) on an `APPROVED` brand, start `IN_PROGRESS` and are `SUCCESS`
//!   [`MOCK_DECISION_DELAY`] later;
//! - a phone number joins a service when it is one of the account's seeded IncomingPhoneNumbers and in no
//!   service yet: 409 with code [`CODE_NUMBER_IN_THIS_SERVICE`] when it is already in this one, 409 with
//!   [`CODE_NUMBER_IN_ANOTHER_SERVICE`] when it is in another;
//! - a Messaging Service holds one campaign (registered here or preregistered); a campaign needs an
//!   `APPROVED` brand and one of the use cases its brand may use (see `campaign_usecases`): the standard
//!   ones, `LOW_VOLUME` for a `LOW_VOLUME_STANDARD` brand, only `SOLE_PROPRIETOR` (once per brand) for a
//!   `SOLE_PROPRIETOR` brand; the text lengths, sample counts and keyword forms of the spec's parameter
//!   descriptions are enforced;
//! - a campaign can be updated once its review ended (`VERIFIED` or `FAILED`); an update of a `FAILED` one
//!   resubmits it (`IN_PROGRESS`);
//! - deleting a service deletes its phone numbers and its campaign.

use axum::body::Bytes;
use axum::extract::Path;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde_json::{json, Value};

use super::{list_reply, Ctx, ListRequest};
use crate::lifecycle::{self, MOCK_DECISION_DELAY};
use crate::policies::A2P_TRUST_PRODUCT;
use crate::sid;
use crate::state::{
    find, find_mut, lock, App, BrandRegistration, BrandStatus, BrandType, BrandVetting, Bundle,
    BundleKind, BundleStatus, Campaign, CampaignContent, CampaignStatus, MessagingService,
    ServicePhoneNumber, State,
};
use crate::wire::{self, check_enum, check_sid, check_uri, json_response, ApiError, Params};

type Reply = Result<Response, ApiError>;

/// The emulator's code for a phone number already in this Messaging Service (HTTP 409); Twilio's
/// "Phone Number is already in the Messaging Service".
pub const CODE_NUMBER_IN_THIS_SERVICE: u32 = 21710;
/// The emulator's code for a phone number already in another Messaging Service (HTTP 409); Twilio's
/// "Phone Number or Short Code is associated with another Messaging Service".
pub const CODE_NUMBER_IN_ANOTHER_SERVICE: u32 = 21712;

/// The bundle statuses a brand registration accepts for its customer profile and A2P trust product.
const BRAND_READY: [BundleStatus; 3] = [
    BundleStatus::PendingReview,
    BundleStatus::InReview,
    BundleStatus::TwilioApproved,
];

/// The Messaging v1 routes (state not yet applied).
pub(crate) fn routes() -> Router<App> {
    Router::new()
        .route(
            "/v1/a2p/BrandRegistrations",
            get(list_brands).post(create_brand),
        )
        .route(
            "/v1/a2p/BrandRegistrations/{sid}",
            get(fetch_brand).post(resubmit_brand),
        )
        .route(
            "/v1/a2p/BrandRegistrations/{sid}/SmsOtp",
            post(create_brand_otp),
        )
        .route(
            "/v1/a2p/BrandRegistrations/{sid}/Vettings",
            get(list_vettings).post(create_vetting),
        )
        .route(
            "/v1/a2p/BrandRegistrations/{sid}/Vettings/{vetting}",
            get(fetch_vetting),
        )
        .route("/v1/Services", get(list_services).post(create_service))
        .route("/v1/Services/Usecases", get(service_usecases))
        .route(
            "/v1/Services/PreregisteredUsa2p",
            post(create_external_campaign),
        )
        .route(
            "/v1/Services/{sid}",
            get(fetch_service)
                .post(update_service)
                .delete(delete_service),
        )
        .route(
            "/v1/Services/{sid}/PhoneNumbers",
            get(list_service_numbers).post(add_service_number),
        )
        .route(
            "/v1/Services/{sid}/PhoneNumbers/{number}",
            get(fetch_service_number).delete(remove_service_number),
        )
        .route(
            "/v1/Services/{sid}/Compliance/Usa2p",
            get(list_campaigns).post(create_campaign),
        )
        .route(
            "/v1/Services/{sid}/Compliance/Usa2p/Usecases",
            get(campaign_usecases),
        )
        .route(
            "/v1/Services/{sid}/Compliance/Usa2p/{campaign}",
            get(fetch_campaign)
                .post(update_campaign)
                .delete(delete_campaign),
        )
}

// ---------------------------------------------------------------------------------------------------------
// Use cases (static catalogs)
// ---------------------------------------------------------------------------------------------------------

/// Which brands may register a campaign use case.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Audience {
    /// `STANDARD` and `LOW_VOLUME_STANDARD` brands.
    Standard,
    /// `LOW_VOLUME_STANDARD` brands only.
    LowVolume,
    /// `SOLE_PROPRIETOR` brands only (and the only use case they may register).
    SoleProprietor,
}

/// A US A2P campaign use case: code, name, description, whether it needs post-approval, who may use it.
struct CampaignUsecase {
    code: &'static str,
    name: &'static str,
    description: &'static str,
    post_approval_required: bool,
    audience: Audience,
}

const fn usecase(
    code: &'static str,
    name: &'static str,
    description: &'static str,
    audience: Audience,
) -> CampaignUsecase {
    CampaignUsecase {
        code,
        name,
        description,
        post_approval_required: false,
        audience,
    }
}

/// The campaign use cases served, in the spec example's (alphabetical) order.
const CAMPAIGN_USECASES: &[CampaignUsecase] = &[
    usecase(
        "2FA",
        "Two-Factor authentication (2FA)",
        "Two-Factor authentication, one-time use password, password reset",
        Audience::Standard,
    ),
    usecase(
        "ACCOUNT_NOTIFICATION",
        "Account Notification",
        "All reminders, alerts, and notifications. (Examples include: flight delayed, hotel booked, appointment reminders.)",
        Audience::Standard,
    ),
    usecase(
        "CUSTOMER_CARE",
        "Customer Care",
        "All customer care messaging, including account management and support",
        Audience::Standard,
    ),
    usecase(
        "DELIVERY_NOTIFICATION",
        "Delivery Notification",
        "Information about the status of the delivery of a product or service",
        Audience::Standard,
    ),
    usecase(
        "FRAUD_ALERT",
        "Fraud Alert Messaging",
        "Fraud alert notification",
        Audience::Standard,
    ),
    usecase(
        "HIGHER_EDUCATION",
        "Higher Education",
        "For campaigns created on behalf of Colleges or Universities and will also include School Districts etc that fall outside of any \"free to the consumer\" messaging model",
        Audience::Standard,
    ),
    usecase(
        "LOW_VOLUME",
        "Low Volume Mixed",
        "Low throughput, any combination of use-cases. Examples include:  test, demo accounts",
        Audience::LowVolume,
    ),
    usecase(
        "MARKETING",
        "Marketing",
        "Any communication with marketing and/or promotional content",
        Audience::Standard,
    ),
    usecase(
        "MIXED",
        "Mixed",
        "Mixed messaging reserved for specific consumer service industry",
        Audience::Standard,
    ),
    usecase(
        "POLLING_VOTING",
        "Polling and voting",
        "Polling and voting",
        Audience::Standard,
    ),
    usecase(
        "PUBLIC_SERVICE_ANNOUNCEMENT",
        "Public Service Announcement",
        "An informational message that is meant to raise the audience awareness about an important issue",
        Audience::Standard,
    ),
    usecase(
        "SECURITY_ALERT",
        "Security Alert",
        "A notification that the security of a system, either software or hardware, has been compromised in some way and there is an action you need to take",
        Audience::Standard,
    ),
    usecase(
        "SOLE_PROPRIETOR",
        "Sole Proprietor",
        "Limited to sole proprietor brands: low throughput messaging of any kind by an individual or a business without a tax ID",
        Audience::SoleProprietor,
    ),
];

/// The use cases a brand of this type may register (`None`: no brand named, a standard brand's list).
fn usecases_for(brand_type: Option<BrandType>) -> Vec<&'static CampaignUsecase> {
    CAMPAIGN_USECASES
        .iter()
        .filter(|u| match brand_type {
            None | Some(BrandType::Standard) => u.audience == Audience::Standard,
            Some(BrandType::LowVolumeStandard) => u.audience != Audience::SoleProprietor,
            Some(BrandType::SoleProprietor) => u.audience == Audience::SoleProprietor,
        })
        .collect()
}

/// The Messaging Service use cases (`GET /v1/Services/Usecases`) and the `Usecase` values a service takes.
const SERVICE_USECASES: &[(&str, &str, &str)] = &[
    (
        "notifications",
        "Transactional notifications and Alerts for any Delivery, Account, Reminder, Order, Fraud, Security, Public Service, or Emergency announcements.",
        "Notify my users.",
    ),
    (
        "marketing",
        "Marketing messages may contain product information, offers, and calls to action to engage with your organization.",
        "Market my services.",
    ),
    (
        "verification",
        "Send one-time passcodes and other verification messages to confirm the identity of your users.",
        "Verify users.",
    ),
    (
        "discussion",
        "Two-way conversations between your organization and your users, such as customer support.",
        "Converse with my users.",
    ),
    (
        "poll",
        "Polls, surveys and votes sent to your users and their answers.",
        "Poll my users.",
    ),
    (
        "undeclared",
        "A Messaging Service whose use is not declared (the default).",
        "Not declared.",
    ),
];

fn service_usecase_names() -> Vec<&'static str> {
    SERVICE_USECASES.iter().map(|(name, _, _)| *name).collect()
}

async fn service_usecases(_ctx: Ctx) -> Reply {
    let usecases: Vec<Value> = SERVICE_USECASES
        .iter()
        .map(|(usecase, description, purpose)| {
            json!({"usecase": usecase, "description": description, "purpose": purpose})
        })
        .collect();
    Ok(json_response(
        StatusCode::OK,
        &json!({ "usecases": usecases }),
    ))
}

// ---------------------------------------------------------------------------------------------------------
// Rendering
// ---------------------------------------------------------------------------------------------------------

fn brand_url(base: &str, sid: &str) -> String {
    format!("{base}/v1/a2p/BrandRegistrations/{sid}")
}

fn brand_json(base: &str, account_sid: &str, b: &BrandRegistration) -> Value {
    let url = brand_url(base, &b.sid);
    json!({
        "sid": b.sid,
        "account_sid": account_sid,
        "customer_profile_bundle_sid": b.customer_profile_bundle_sid,
        "a2p_profile_bundle_sid": b.a2p_profile_bundle_sid,
        "date_created": wire::iso8601(b.date_created),
        "date_updated": wire::iso8601(b.date_updated),
        "brand_type": b.brand_type.as_str(),
        "status": b.status.as_str(),
        "tcr_id": b.tcr_id,
        "failure_reason": b.failure_reason,
        "url": url,
        "brand_score": b.brand_score,
        "brand_feedback": b.feedback,
        "identity_status": b.identity_status,
        "russell_3000": false,
        "government_entity": b.government_entity,
        "tax_exempt_status": Value::Null,
        "skip_automatic_sec_vet": b.skip_automatic_sec_vet,
        "errors": b.errors,
        "mock": b.mock,
        "links": {
            "brand_vettings": format!("{url}/Vettings"),
            "brand_registration_otps": format!("{url}/SmsOtp"),
        },
    })
}

fn vetting_json(base: &str, account_sid: &str, v: &BrandVetting) -> Value {
    json!({
        "account_sid": account_sid,
        "brand_sid": v.brand_sid,
        "brand_vetting_sid": v.sid,
        "vetting_provider": v.vetting_provider,
        "vetting_id": v.vetting_id,
        "vetting_class": v.vetting_class,
        "vetting_status": v.vetting_status,
        "date_created": wire::iso8601(v.date_created),
        "date_updated": wire::iso8601(v.date_updated),
        "url": format!("{}/Vettings/{}", brand_url(base, &v.brand_sid), v.sid),
    })
}

fn service_url(base: &str, sid: &str) -> String {
    format!("{base}/v1/Services/{sid}")
}

fn service_json(base: &str, account_sid: &str, state: &State, s: &MessagingService) -> Value {
    let url = service_url(base, &s.sid);
    let registered = state
        .campaigns
        .iter()
        .any(|c| c.service_sid == s.sid && c.status == CampaignStatus::Verified);
    json!({
        "sid": s.sid,
        "account_sid": account_sid,
        "friendly_name": s.friendly_name,
        "date_created": wire::iso8601(s.date_created),
        "date_updated": wire::iso8601(s.date_updated),
        "inbound_request_url": s.inbound_request_url,
        "inbound_method": s.inbound_method,
        "fallback_url": s.fallback_url,
        "fallback_method": s.fallback_method,
        "status_callback": s.status_callback,
        "sticky_sender": s.sticky_sender,
        "mms_converter": s.mms_converter,
        "smart_encoding": s.smart_encoding,
        "scan_message_content": s.scan_message_content,
        "fallback_to_long_code": s.fallback_to_long_code,
        "area_code_geomatch": s.area_code_geomatch,
        "synchronous_validation": s.synchronous_validation,
        "validity_period": s.validity_period,
        "url": url,
        "links": {
            "phone_numbers": format!("{url}/PhoneNumbers"),
            "us_app_to_person": format!("{url}/Compliance/Usa2p"),
            "us_app_to_person_usecases": format!("{url}/Compliance/Usa2p/Usecases"),
        },
        "usecase": s.usecase,
        "us_app_to_person_registered": registered,
        "use_inbound_webhook_on_number": s.use_inbound_webhook_on_number,
    })
}

fn service_number_json(
    base: &str,
    account_sid: &str,
    state: &State,
    n: &ServicePhoneNumber,
) -> Value {
    let number = find(&state.phone_numbers, &n.sid);
    json!({
        "sid": n.sid,
        "account_sid": account_sid,
        "service_sid": n.service_sid,
        "date_created": wire::iso8601(n.date_created),
        "date_updated": wire::iso8601(n.date_created),
        "phone_number": number.map(|p| p.phone_number.clone()),
        "country_code": "US",
        "capabilities": ["MMS", "SMS", "Voice"],
        "url": format!("{}/PhoneNumbers/{}", service_url(base, &n.service_sid), n.sid),
    })
}

/// Carrier rate limits by brand type (illustrative values shaped like the spec's example).
fn rate_limits(brand_type: Option<BrandType>) -> Value {
    match brand_type {
        None => Value::Null,
        Some(BrandType::Standard) => json!({
            "att": {"mps": 600, "msg_class": "A"},
            "tmobile": {"brand_tier": "TOP"},
        }),
        Some(BrandType::LowVolumeStandard) => json!({
            "att": {"mps": 75, "msg_class": "T"},
            "tmobile": {"brand_tier": "LOW"},
        }),
        Some(BrandType::SoleProprietor) => json!({
            "att": {"mps": 1, "msg_class": "E"},
            "tmobile": {"brand_tier": "LOW"},
        }),
    }
}

fn campaign_json(base: &str, account_sid: &str, c: &Campaign) -> Value {
    let content = c.content.as_ref();
    json!({
        "sid": c.sid,
        "account_sid": account_sid,
        "brand_registration_sid": c.brand_sid,
        "messaging_service_sid": c.service_sid,
        "description": content.map(|x| x.description.clone()),
        "message_samples": content.map(|x| x.message_samples.clone()),
        "us_app_to_person_usecase": content.map(|x| x.usecase.clone()),
        "has_embedded_links": content.map(|x| x.has_embedded_links),
        "has_embedded_phone": content.map(|x| x.has_embedded_phone),
        "subscriber_opt_in": content.map(|x| x.subscriber_opt_in),
        "age_gated": content.map(|x| x.age_gated),
        "direct_lending": content.map(|x| x.direct_lending),
        "campaign_status": c.status.as_str(),
        "campaign_id": c.campaign_id,
        "is_externally_registered": c.external,
        "rate_limits": rate_limits(c.brand_type),
        "message_flow": content.map(|x| x.message_flow.clone()),
        "opt_in_message": content.and_then(|x| x.opt_in_message.clone()),
        "opt_out_message": content.and_then(|x| x.opt_out_message.clone()),
        "help_message": content.and_then(|x| x.help_message.clone()),
        "opt_in_keywords": content.map(|x| x.opt_in_keywords.clone()),
        "opt_out_keywords": content.map(|x| x.opt_out_keywords.clone()),
        "help_keywords": content.map(|x| x.help_keywords.clone()),
        "date_created": wire::iso8601(c.date_created),
        "date_updated": wire::iso8601(c.date_updated),
        "url": format!("{}/Compliance/Usa2p/{}", service_url(base, &c.service_sid), c.sid),
        "mock": c.mock,
        "errors": c.errors,
    })
}

fn no_content() -> Response {
    StatusCode::NO_CONTENT.into_response()
}

// ---------------------------------------------------------------------------------------------------------
// Shared checks
// ---------------------------------------------------------------------------------------------------------

/// The record with this SID and prefix at this path, or 404.
fn at_path<'a, T: wire::Record>(
    items: &'a [T],
    sid: &str,
    prefix: &str,
    path: &str,
) -> Result<&'a T, ApiError> {
    if !sid::has_prefix_shape(sid, prefix) {
        return Err(ApiError::not_found(path));
    }
    find(items, sid).ok_or_else(|| ApiError::not_found(path))
}

/// A text parameter's length must be within `min..=max` characters (described, never echoed).
fn check_length(param: &str, value: &str, min: usize, max: usize) -> Result<(), ApiError> {
    let n = value.chars().count();
    if (min..=max).contains(&n) {
        Ok(())
    } else {
        Err(ApiError::invalid(
            param,
            format!(
                "expected {min} to {max} characters, received {}",
                wire::describe_text(value)
            ),
        ))
    }
}

/// A required text parameter of `min..=max` characters.
fn required_text(params: &Params, param: &str, min: usize, max: usize) -> Result<String, ApiError> {
    let value = params.required(param)?;
    check_length(param, value, min, max)?;
    Ok(value.to_owned())
}

/// An optional text parameter of `min..=max` characters (blank counts as absent).
fn optional_text(
    params: &Params,
    param: &str,
    min: usize,
    max: usize,
) -> Result<Option<String>, ApiError> {
    match params.get(param) {
        None => Ok(None),
        Some(value) if value.trim().is_empty() => Ok(None),
        Some(value) => {
            check_length(param, value, min, max)?;
            Ok(Some(value.to_owned()))
        }
    }
}

/// `MessageSamples`: 2 to 5 values (the key repeated), each 20 to 1024 characters.
fn message_samples(params: &Params) -> Result<Vec<String>, ApiError> {
    let samples: Vec<&str> = params
        .all("MessageSamples")
        .into_iter()
        .filter(|s| !s.trim().is_empty())
        .collect();
    if samples.is_empty() {
        return Err(ApiError::missing("MessageSamples"));
    }
    if !(2..=5).contains(&samples.len()) {
        return Err(ApiError::invalid(
            "MessageSamples",
            format!(
                "expected 2 to 5 samples (the key repeated, one value each), received {}",
                samples.len()
            ),
        ));
    }
    for (i, sample) in samples.iter().enumerate() {
        let n = sample.chars().count();
        if !(20..=1024).contains(&n) {
            return Err(ApiError::invalid(
                "MessageSamples",
                format!(
                    "sample {} has {}; each sample must have 20 to 1024 characters",
                    i + 1,
                    wire::describe_text(sample)
                ),
            ));
        }
    }
    Ok(samples.into_iter().map(str::to_owned).collect())
}

/// A keyword list (`OptInKeywords`, `OptOutKeywords`, `HelpKeywords`): the key repeated, each value
/// letters and digits only, at most 255 characters.
fn keywords(params: &Params, param: &str) -> Result<Vec<String>, ApiError> {
    let values = params.all(param);
    let mut out = Vec::with_capacity(values.len());
    for (i, keyword) in values.iter().enumerate() {
        let n = keyword.chars().count();
        if n == 0 || n > 255 {
            return Err(ApiError::invalid(
                param,
                format!(
                    "keyword {} has {}; each keyword must have 1 to 255 characters",
                    i + 1,
                    wire::describe_text(keyword)
                ),
            ));
        }
        if !keyword.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(ApiError::invalid(
                param,
                format!(
                    "keyword {} is not alphanumeric: keywords are letters and digits only, one keyword per value (repeat the key for several)",
                    i + 1
                ),
            ));
        }
        out.push((*keyword).to_owned());
    }
    Ok(out)
}

/// The `company_type` of the A2P messaging profile assigned to a trust product, if any.
fn a2p_company_type(state: &State, trust_product_sid: &str) -> Option<String> {
    state
        .entity_assignments
        .iter()
        .filter(|a| a.bundle_sid == trust_product_sid)
        .filter_map(|a| find(&state.end_users, &a.object_sid))
        .find(|u| u.end_user_type == "us_a2p_messaging_profile_information")
        .and_then(|u| u.attributes.get("company_type"))
        .and_then(Value::as_str)
        .map(str::to_owned)
}

/// A bundle named by a brand registration parameter: of `kind`, in one of [`BRAND_READY`].
fn brand_bundle<'a>(
    state: &'a State,
    param: &str,
    sid: &str,
    kind: BundleKind,
) -> Result<&'a Bundle, ApiError> {
    let what = match kind {
        BundleKind::CustomerProfile => "customer profile",
        BundleKind::TrustProduct => "trust product",
    };
    let bundle = find(&state.bundles, sid)
        .filter(|b| b.kind == kind)
        .ok_or_else(|| {
            ApiError::invalid(
                param,
                format!(
                    "no {what} {sid} in this account (see /v1/{})",
                    kind.collection()
                ),
            )
        })?;
    if !BRAND_READY.contains(&bundle.status) {
        return Err(ApiError::invalid(
            param,
            format!(
                "the {what} {sid} is {}; a brand registration needs it pending-review, in-review or twilio-approved",
                bundle.status.as_str()
            ),
        ));
    }
    Ok(bundle)
}

// ---------------------------------------------------------------------------------------------------------
// Brand registrations
// ---------------------------------------------------------------------------------------------------------

async fn list_brands(ctx: Ctx) -> Reply {
    let list = ListRequest::parse(&ctx, &[])?;
    let state = lock(&ctx.app.state);
    let items: Vec<&BrandRegistration> = state.brands.iter().collect();
    let account = ctx.app.account_sid.clone();
    list_reply(&ctx, &state, &list, "data", items, |b| {
        brand_json(&ctx.base, &account, b)
    })
}

async fn create_brand(ctx: Ctx, headers: HeaderMap, body: Bytes) -> Reply {
    let params = Params::from_body(&headers, &body)?;
    let customer_profile = params.required("CustomerProfileBundleSid")?;
    check_sid("CustomerProfileBundleSid", customer_profile, "BU")?;
    let a2p_profile = params.required("A2PProfileBundleSid")?;
    check_sid("A2PProfileBundleSid", a2p_profile, "BU")?;
    let brand_type = match params.get("BrandType").filter(|t| !t.trim().is_empty()) {
        None => BrandType::Standard,
        Some(value) => BrandType::parse(check_enum("BrandType", value, &BrandType::WIRE)?)
            .ok_or_else(ApiError::internal)?,
    };
    let mock = params.bool("Mock")?.unwrap_or(false);
    let skip_sec_vet = params.bool("SkipAutomaticSecVet")?.unwrap_or(false);
    if brand_type == BrandType::LowVolumeStandard && !skip_sec_vet {
        return Err(ApiError::invalid(
            "SkipAutomaticSecVet",
            "a LOW_VOLUME_STANDARD brand must skip secondary vetting: send SkipAutomaticSecVet=true",
        ));
    }

    let mut state = lock(&ctx.app.state);
    brand_bundle(
        &state,
        "CustomerProfileBundleSid",
        customer_profile,
        BundleKind::CustomerProfile,
    )?;
    let trust_product = brand_bundle(
        &state,
        "A2PProfileBundleSid",
        a2p_profile,
        BundleKind::TrustProduct,
    )?;
    if trust_product.policy_sid != A2P_TRUST_PRODUCT {
        return Err(ApiError::invalid(
            "A2PProfileBundleSid",
            format!(
                "the trust product {a2p_profile} is under policy {}, not the A2P messaging policy {A2P_TRUST_PRODUCT}",
                trust_product.policy_sid
            ),
        ));
    }
    let government_entity = a2p_company_type(&state, a2p_profile).as_deref() == Some("government");
    let (seq, sid) = state.mint("BN");
    let registry_id = state.registry_id('B');
    let now = wire::now();
    state.brands.push(BrandRegistration {
        seq,
        sid: sid.clone(),
        customer_profile_bundle_sid: customer_profile.to_owned(),
        a2p_profile_bundle_sid: a2p_profile.to_owned(),
        brand_type,
        mock,
        skip_automatic_sec_vet: skip_sec_vet,
        status: BrandStatus::Pending,
        registry_id,
        tcr_id: None,
        brand_score: None,
        identity_status: "SELF_DECLARED",
        government_entity,
        failure_reason: None,
        errors: Vec::new(),
        feedback: Vec::new(),
        resubmissions: 0,
        round: 0,
        date_created: now,
        date_updated: now,
    });
    state.counters.brand_registrations += 1;
    state.charge();
    lifecycle::schedule_brand_review(&ctx.app, &state, &sid);
    let brand = find(&state.brands, &sid).ok_or_else(ApiError::internal)?;
    Ok(json_response(
        StatusCode::CREATED,
        &brand_json(&ctx.base, &ctx.app.account_sid, brand),
    ))
}

async fn fetch_brand(ctx: Ctx, Path(sid): Path<String>) -> Reply {
    let state = lock(&ctx.app.state);
    let brand = at_path(&state.brands, &sid, "BN", &ctx.path)?;
    Ok(json_response(
        StatusCode::OK,
        &brand_json(&ctx.base, &ctx.app.account_sid, brand),
    ))
}

/// `POST /v1/a2p/BrandRegistrations/{Sid}`: resubmits a `FAILED` brand (no parameters).
async fn resubmit_brand(
    ctx: Ctx,
    Path(sid): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Reply {
    Params::from_body(&headers, &body)?;
    let max = ctx.app.max_brand_resubmissions;
    let mut state = lock(&ctx.app.state);
    let brand = at_path(&state.brands, &sid, "BN", &ctx.path)?;
    if brand.status != BrandStatus::Failed {
        return Err(ApiError::bad_request(format!(
            "Brand registration {sid} is {}: only FAILED brands can be updated (resubmitted)",
            brand.status.as_str()
        )));
    }
    if brand.resubmissions >= max {
        return Err(ApiError::bad_request(format!(
            "Brand registration {sid} has been resubmitted {} time(s), the most allowed ({max}); it cannot be resubmitted again",
            brand.resubmissions
        )));
    }
    if let Some(brand) = find_mut(&mut state.brands, &sid) {
        brand.status = BrandStatus::Pending;
        brand.resubmissions += 1;
        brand.round += 1;
        brand.errors = Vec::new();
        brand.feedback = Vec::new();
        brand.failure_reason = None;
        brand.identity_status = "SELF_DECLARED";
        brand.date_updated = wire::now();
    }
    state.counters.brand_resubmissions += 1;
    state.charge();
    lifecycle::schedule_brand_review(&ctx.app, &state, &sid);
    let brand = find(&state.brands, &sid).ok_or_else(ApiError::internal)?;
    Ok(json_response(
        StatusCode::ACCEPTED,
        &brand_json(&ctx.base, &ctx.app.account_sid, brand),
    ))
}

async fn create_brand_otp(
    ctx: Ctx,
    Path(sid): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Reply {
    Params::from_body(&headers, &body)?;
    let state = lock(&ctx.app.state);
    let brand = at_path(&state.brands, &sid, "BN", &ctx.path)?;
    if brand.brand_type != BrandType::SoleProprietor {
        return Err(ApiError::bad_request(format!(
            "Brand registration {sid} is a {} brand: an SMS OTP is sent for SOLE_PROPRIETOR brands only",
            brand.brand_type.as_str()
        )));
    }
    Ok(json_response(
        StatusCode::CREATED,
        &json!({"account_sid": ctx.app.account_sid, "brand_registration_sid": sid}),
    ))
}

const VETTING_PROVIDERS: [&str; 2] = ["campaign-verify", "aegis"];

async fn list_vettings(ctx: Ctx, Path(sid): Path<String>) -> Reply {
    let list = ListRequest::parse(&ctx, &["VettingProvider"])?;
    let provider = match list.filter("VettingProvider") {
        Some(p) => Some(check_enum("VettingProvider", p, &VETTING_PROVIDERS)?),
        None => None,
    };
    let state = lock(&ctx.app.state);
    at_path(&state.brands, &sid, "BN", &ctx.path)?;
    let items: Vec<&BrandVetting> = state
        .vettings
        .iter()
        .filter(|v| v.brand_sid == sid)
        .filter(|v| provider.is_none_or(|p| v.vetting_provider == p))
        .collect();
    let account = ctx.app.account_sid.clone();
    list_reply(&ctx, &state, &list, "data", items, |v| {
        vetting_json(&ctx.base, &account, v)
    })
}

async fn create_vetting(
    ctx: Ctx,
    Path(sid): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Reply {
    let params = Params::from_body(&headers, &body)?;
    let provider = params.required("VettingProvider")?;
    let provider = check_enum("VettingProvider", provider, &VETTING_PROVIDERS)?;
    if provider != "campaign-verify" {
        return Err(ApiError::invalid(
            "VettingProvider",
            "aegis vettings are Twilio's own secondary vetting; import a Campaign Verify token with campaign-verify",
        ));
    }
    let vetting_id = params.non_blank("VettingId")?.map(str::to_owned);
    let mut state = lock(&ctx.app.state);
    let brand = at_path(&state.brands, &sid, "BN", &ctx.path)?;
    if brand.status != BrandStatus::Approved {
        return Err(ApiError::bad_request(format!(
            "Brand registration {sid} is {}: a vetting can be imported for an APPROVED brand only",
            brand.status.as_str()
        )));
    }
    let (seq, vetting_sid) = state.mint("VT");
    let now = wire::now();
    state.vettings.push(BrandVetting {
        seq,
        sid: vetting_sid.clone(),
        brand_sid: sid,
        vetting_provider: provider,
        vetting_id,
        vetting_class: "POLITICAL",
        vetting_status: "IN_PROGRESS",
        date_created: now,
        date_updated: now,
    });
    state.counters.brand_vettings += 1;
    state.charge();
    let app = ctx.app.clone();
    let finished = vetting_sid.clone();
    ctx.app.spawn_task(async move {
        tokio::time::sleep(MOCK_DECISION_DELAY).await;
        let mut state = lock(&app.state);
        if let Some(vetting) = find_mut(&mut state.vettings, &finished) {
            vetting.vetting_status = "SUCCESS";
            vetting.date_updated = wire::now();
        }
    });
    let vetting = find(&state.vettings, &vetting_sid).ok_or_else(ApiError::internal)?;
    Ok(json_response(
        StatusCode::CREATED,
        &vetting_json(&ctx.base, &ctx.app.account_sid, vetting),
    ))
}

async fn fetch_vetting(ctx: Ctx, Path((sid, vetting)): Path<(String, String)>) -> Reply {
    let state = lock(&ctx.app.state);
    at_path(&state.brands, &sid, "BN", &ctx.path)?;
    let vetting = at_path(&state.vettings, &vetting, "VT", &ctx.path)?;
    if vetting.brand_sid != sid {
        return Err(ApiError::not_found(&ctx.path));
    }
    Ok(json_response(
        StatusCode::OK,
        &vetting_json(&ctx.base, &ctx.app.account_sid, vetting),
    ))
}

// ---------------------------------------------------------------------------------------------------------
// Messaging Services
// ---------------------------------------------------------------------------------------------------------

/// Longest `FriendlyName` of a service (the spec: "up to 64 characters").
const SERVICE_NAME_MAX: usize = 64;
const HTTP_METHODS: [&str; 2] = ["GET", "POST"];
const SCAN_MESSAGE_CONTENT: [&str; 3] = ["inherit", "enable", "disable"];

/// The settings of a create or update request, each `None` when not sent; a URL is `Some(None)` when sent
/// empty (cleared).
#[derive(Default)]
struct ServiceForm {
    friendly_name: Option<String>,
    inbound_request_url: Option<Option<String>>,
    inbound_method: Option<&'static str>,
    fallback_url: Option<Option<String>>,
    fallback_method: Option<&'static str>,
    status_callback: Option<Option<String>>,
    sticky_sender: Option<bool>,
    mms_converter: Option<bool>,
    smart_encoding: Option<bool>,
    scan_message_content: Option<&'static str>,
    fallback_to_long_code: Option<bool>,
    area_code_geomatch: Option<bool>,
    validity_period: Option<u32>,
    synchronous_validation: Option<bool>,
    usecase: Option<&'static str>,
    use_inbound_webhook_on_number: Option<bool>,
}

fn url_param(params: &Params, param: &str) -> Result<Option<Option<String>>, ApiError> {
    match params.get(param) {
        None => Ok(None),
        Some("") => Ok(Some(None)),
        Some(url) => {
            check_uri(param, url)?;
            Ok(Some(Some(url.to_owned())))
        }
    }
}

fn enum_param(
    params: &Params,
    param: &str,
    allowed: &[&'static str],
) -> Result<Option<&'static str>, ApiError> {
    match params.get(param).filter(|v| !v.trim().is_empty()) {
        None => Ok(None),
        Some(value) => check_enum(param, value, allowed).map(Some),
    }
}

impl ServiceForm {
    fn parse(params: &Params) -> Result<Self, ApiError> {
        let friendly_name = match params.non_blank("FriendlyName")? {
            None => None,
            Some(name) => {
                let n = name.chars().count();
                if n > SERVICE_NAME_MAX {
                    return Err(ApiError::invalid(
                        "FriendlyName",
                        format!("must be at most {SERVICE_NAME_MAX} characters, received {n}"),
                    ));
                }
                Some(name.to_owned())
            }
        };
        let validity_period = match params.get("ValidityPeriod").filter(|v| !v.is_empty()) {
            None => None,
            Some(raw) => match raw.parse::<u32>() {
                Ok(n) if (1..=36_000).contains(&n) => Some(n),
                _ => {
                    return Err(ApiError::invalid(
                        "ValidityPeriod",
                        format!(
                            "expected an integer from 1 to 36000 (seconds), received '{}'",
                            wire::shorten(raw, 20)
                        ),
                    ));
                }
            },
        };
        Ok(ServiceForm {
            friendly_name,
            inbound_request_url: url_param(params, "InboundRequestUrl")?,
            inbound_method: enum_param(params, "InboundMethod", &HTTP_METHODS)?,
            fallback_url: url_param(params, "FallbackUrl")?,
            fallback_method: enum_param(params, "FallbackMethod", &HTTP_METHODS)?,
            status_callback: url_param(params, "StatusCallback")?,
            sticky_sender: params.bool("StickySender")?,
            mms_converter: params.bool("MmsConverter")?,
            smart_encoding: params.bool("SmartEncoding")?,
            scan_message_content: enum_param(params, "ScanMessageContent", &SCAN_MESSAGE_CONTENT)?,
            fallback_to_long_code: params.bool("FallbackToLongCode")?,
            area_code_geomatch: params.bool("AreaCodeGeomatch")?,
            validity_period,
            synchronous_validation: params.bool("SynchronousValidation")?,
            usecase: enum_param(params, "Usecase", &service_usecase_names())?,
            use_inbound_webhook_on_number: params.bool("UseInboundWebhookOnNumber")?,
        })
    }

    /// Applies what was sent.
    fn apply(self, s: &mut MessagingService) {
        if let Some(v) = self.friendly_name {
            s.friendly_name = v;
        }
        if let Some(v) = self.inbound_request_url {
            s.inbound_request_url = v;
        }
        if let Some(v) = self.inbound_method {
            s.inbound_method = v;
        }
        if let Some(v) = self.fallback_url {
            s.fallback_url = v;
        }
        if let Some(v) = self.fallback_method {
            s.fallback_method = v;
        }
        if let Some(v) = self.status_callback {
            s.status_callback = v;
        }
        if let Some(v) = self.sticky_sender {
            s.sticky_sender = v;
        }
        if let Some(v) = self.mms_converter {
            s.mms_converter = v;
        }
        if let Some(v) = self.smart_encoding {
            s.smart_encoding = v;
        }
        if let Some(v) = self.scan_message_content {
            s.scan_message_content = v;
        }
        if let Some(v) = self.fallback_to_long_code {
            s.fallback_to_long_code = v;
        }
        if let Some(v) = self.area_code_geomatch {
            s.area_code_geomatch = v;
        }
        if let Some(v) = self.validity_period {
            s.validity_period = v;
        }
        if let Some(v) = self.synchronous_validation {
            s.synchronous_validation = v;
        }
        if let Some(v) = self.usecase {
            s.usecase = v;
        }
        if let Some(v) = self.use_inbound_webhook_on_number {
            s.use_inbound_webhook_on_number = v;
        }
    }
}

async fn list_services(ctx: Ctx) -> Reply {
    let list = ListRequest::parse(&ctx, &[])?;
    let state = lock(&ctx.app.state);
    let items: Vec<&MessagingService> = state.services.iter().collect();
    let account = ctx.app.account_sid.clone();
    list_reply(&ctx, &state, &list, "services", items, |s| {
        service_json(&ctx.base, &account, &state, s)
    })
}

async fn create_service(ctx: Ctx, headers: HeaderMap, body: Bytes) -> Reply {
    let params = Params::from_body(&headers, &body)?;
    params.required("FriendlyName")?;
    let form = ServiceForm::parse(&params)?;
    let mut state = lock(&ctx.app.state);
    let (seq, sid) = state.mint("MG");
    let now = wire::now();
    // Twilio's defaults for what the request does not set.
    let mut service = MessagingService {
        seq,
        sid: sid.clone(),
        friendly_name: String::new(),
        inbound_request_url: None,
        inbound_method: "POST",
        fallback_url: None,
        fallback_method: "POST",
        status_callback: None,
        sticky_sender: true,
        mms_converter: true,
        smart_encoding: true,
        scan_message_content: "inherit",
        fallback_to_long_code: true,
        area_code_geomatch: true,
        validity_period: 36_000,
        synchronous_validation: false,
        usecase: "undeclared",
        use_inbound_webhook_on_number: false,
        date_created: now,
        date_updated: now,
    };
    form.apply(&mut service);
    state.services.push(service);
    state.counters.messaging_services += 1;
    let service = find(&state.services, &sid).ok_or_else(ApiError::internal)?;
    Ok(json_response(
        StatusCode::CREATED,
        &service_json(&ctx.base, &ctx.app.account_sid, &state, service),
    ))
}

async fn fetch_service(ctx: Ctx, Path(sid): Path<String>) -> Reply {
    let state = lock(&ctx.app.state);
    let service = at_path(&state.services, &sid, "MG", &ctx.path)?;
    Ok(json_response(
        StatusCode::OK,
        &service_json(&ctx.base, &ctx.app.account_sid, &state, service),
    ))
}

async fn update_service(
    ctx: Ctx,
    Path(sid): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Reply {
    let params = Params::from_body(&headers, &body)?;
    let form = ServiceForm::parse(&params)?;
    let mut state = lock(&ctx.app.state);
    at_path(&state.services, &sid, "MG", &ctx.path)?;
    if let Some(service) = find_mut(&mut state.services, &sid) {
        form.apply(service);
        service.date_updated = wire::now();
    }
    let service = find(&state.services, &sid).ok_or_else(ApiError::internal)?;
    Ok(json_response(
        StatusCode::OK,
        &service_json(&ctx.base, &ctx.app.account_sid, &state, service),
    ))
}

async fn delete_service(ctx: Ctx, Path(sid): Path<String>) -> Reply {
    let mut state = lock(&ctx.app.state);
    at_path(&state.services, &sid, "MG", &ctx.path)?;
    state.services.retain(|s| s.sid != sid);
    state.service_numbers.retain(|n| n.service_sid != sid);
    state.campaigns.retain(|c| c.service_sid != sid);
    Ok(no_content())
}

// ---------------------------------------------------------------------------------------------------------
// Service phone numbers
// ---------------------------------------------------------------------------------------------------------

async fn list_service_numbers(ctx: Ctx, Path(sid): Path<String>) -> Reply {
    let list = ListRequest::parse(&ctx, &[])?;
    let state = lock(&ctx.app.state);
    at_path(&state.services, &sid, "MG", &ctx.path)?;
    let mut items: Vec<&ServicePhoneNumber> = state
        .service_numbers
        .iter()
        .filter(|n| n.service_sid == sid)
        .collect();
    // Their sequence numbers are the numbers', not the order they joined: sort for the page tokens.
    items.sort_by_key(|n| n.seq);
    let account = ctx.app.account_sid.clone();
    list_reply(&ctx, &state, &list, "phone_numbers", items, |n| {
        service_number_json(&ctx.base, &account, &state, n)
    })
}

async fn add_service_number(
    ctx: Ctx,
    Path(sid): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Reply {
    let params = Params::from_body(&headers, &body)?;
    let number_sid = params.required("PhoneNumberSid")?;
    check_sid("PhoneNumberSid", number_sid, "PN")?;
    let mut state = lock(&ctx.app.state);
    at_path(&state.services, &sid, "MG", &ctx.path)?;
    let Some(number) = find(&state.phone_numbers, number_sid) else {
        return Err(ApiError::invalid(
            "PhoneNumberSid",
            format!("no phone number {number_sid} in this account (see IncomingPhoneNumbers)"),
        ));
    };
    let seq = number.seq;
    if let Some(existing) = state.service_numbers.iter().find(|n| n.sid == number_sid) {
        return Err(if existing.service_sid == sid {
            ApiError::new(
                StatusCode::CONFLICT,
                CODE_NUMBER_IN_THIS_SERVICE,
                format!("Phone number {number_sid} is already in the Messaging Service {sid}"),
            )
        } else {
            ApiError::new(
                StatusCode::CONFLICT,
                CODE_NUMBER_IN_ANOTHER_SERVICE,
                format!(
                    "Phone number {number_sid} is already in another Messaging Service ({}); remove it there first",
                    existing.service_sid
                ),
            )
        });
    }
    state.service_numbers.push(ServicePhoneNumber {
        seq,
        sid: number_sid.to_owned(),
        service_sid: sid,
        date_created: wire::now(),
    });
    state.counters.messaging_service_phone_numbers += 1;
    let added = find(&state.service_numbers, number_sid).ok_or_else(ApiError::internal)?;
    Ok(json_response(
        StatusCode::CREATED,
        &service_number_json(&ctx.base, &ctx.app.account_sid, &state, added),
    ))
}

fn service_number_at<'a>(
    state: &'a State,
    (service, number): (&str, &str),
    path: &str,
) -> Result<&'a ServicePhoneNumber, ApiError> {
    at_path(&state.services, service, "MG", path)?;
    let found = at_path(&state.service_numbers, number, "PN", path)?;
    if found.service_sid == service {
        Ok(found)
    } else {
        Err(ApiError::not_found(path))
    }
}

async fn fetch_service_number(ctx: Ctx, Path(ids): Path<(String, String)>) -> Reply {
    let state = lock(&ctx.app.state);
    let number = service_number_at(&state, (&ids.0, &ids.1), &ctx.path)?;
    Ok(json_response(
        StatusCode::OK,
        &service_number_json(&ctx.base, &ctx.app.account_sid, &state, number),
    ))
}

async fn remove_service_number(ctx: Ctx, Path(ids): Path<(String, String)>) -> Reply {
    let mut state = lock(&ctx.app.state);
    service_number_at(&state, (&ids.0, &ids.1), &ctx.path)?;
    state.service_numbers.retain(|n| n.sid != ids.1);
    Ok(no_content())
}

// ---------------------------------------------------------------------------------------------------------
// Campaigns
// ---------------------------------------------------------------------------------------------------------

/// The refusal of a second campaign for a service.
fn one_campaign_per_service(state: &State, service_sid: &str) -> Result<(), ApiError> {
    match state.campaigns.iter().find(|c| c.service_sid == service_sid) {
        None => Ok(()),
        Some(existing) => Err(ApiError::bad_request(format!(
            "Messaging Service {service_sid} already has a US A2P campaign ({}): a Messaging Service holds one campaign; delete it before registering another",
            existing.sid
        ))),
    }
}

/// The parameters a campaign's create and update share (the update requires `AgeGated` and
/// `DirectLending` too).
struct CampaignText {
    description: String,
    message_flow: String,
    message_samples: Vec<String>,
    has_embedded_links: bool,
    has_embedded_phone: bool,
}

fn campaign_text(params: &Params) -> Result<CampaignText, ApiError> {
    Ok(CampaignText {
        description: required_text(params, "Description", 40, 4096)?,
        message_flow: required_text(params, "MessageFlow", 40, 2048)?,
        message_samples: message_samples(params)?,
        has_embedded_links: params.required_bool("HasEmbeddedLinks")?,
        has_embedded_phone: params.required_bool("HasEmbeddedPhone")?,
    })
}

async fn list_campaigns(ctx: Ctx, Path(sid): Path<String>) -> Reply {
    let list = ListRequest::parse(&ctx, &[])?;
    let state = lock(&ctx.app.state);
    at_path(&state.services, &sid, "MG", &ctx.path)?;
    let items: Vec<&Campaign> = state
        .campaigns
        .iter()
        .filter(|c| c.service_sid == sid)
        .collect();
    let account = ctx.app.account_sid.clone();
    list_reply(&ctx, &state, &list, "compliance", items, |c| {
        campaign_json(&ctx.base, &account, c)
    })
}

async fn create_campaign(
    ctx: Ctx,
    Path(service_sid): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Reply {
    let params = Params::from_body(&headers, &body)?;
    let brand_sid = params.required("BrandRegistrationSid")?;
    check_sid("BrandRegistrationSid", brand_sid, "BN")?;
    let text = campaign_text(&params)?;
    let usecase = params.required("UsAppToPersonUsecase")?;
    let opt_in_message = optional_text(&params, "OptInMessage", 20, 320)?;
    let opt_out_message = optional_text(&params, "OptOutMessage", 20, 320)?;
    let help_message = optional_text(&params, "HelpMessage", 20, 320)?;
    let opt_in_keywords = keywords(&params, "OptInKeywords")?;
    let opt_out_keywords = keywords(&params, "OptOutKeywords")?;
    let help_keywords = keywords(&params, "HelpKeywords")?;
    let subscriber_opt_in = params.bool("SubscriberOptIn")?.unwrap_or(false);
    let age_gated = params.bool("AgeGated")?.unwrap_or(false);
    let direct_lending = params.bool("DirectLending")?.unwrap_or(false);

    let mut state = lock(&ctx.app.state);
    at_path(&state.services, &service_sid, "MG", &ctx.path)?;
    one_campaign_per_service(&state, &service_sid)?;
    let brand = find(&state.brands, brand_sid).ok_or_else(|| {
        ApiError::invalid(
            "BrandRegistrationSid",
            format!("no brand registration {brand_sid} in this account"),
        )
    })?;
    if brand.status != BrandStatus::Approved {
        return Err(ApiError::invalid(
            "BrandRegistrationSid",
            format!(
                "the brand {brand_sid} is not approved (it is {}): a campaign needs an APPROVED brand",
                brand.status.as_str()
            ),
        ));
    }
    let allowed: Vec<&str> = usecases_for(Some(brand.brand_type))
        .iter()
        .map(|u| u.code)
        .collect();
    if !allowed.contains(&usecase) {
        return Err(ApiError::invalid(
            "UsAppToPersonUsecase",
            format!(
                "'{}' is not a use case a {} brand can register; one of: {}",
                wire::shorten(usecase, 40),
                brand.brand_type.as_str(),
                allowed.join(", ")
            ),
        ));
    }
    if brand.brand_type == BrandType::SoleProprietor
        && let Some(existing) = state
            .campaigns
            .iter()
            .find(|c| c.brand_sid.as_deref() == Some(brand_sid))
    {
        return Err(ApiError::invalid(
            "BrandRegistrationSid",
            format!(
                "the SOLE_PROPRIETOR brand {brand_sid} already has its one campaign ({})",
                existing.sid
            ),
        ));
    }
    let (mock, brand_type) = (brand.mock, brand.brand_type);
    let (seq, sid) = state.mint("QE");
    let campaign_id = state.registry_id('C');
    let now = wire::now();
    state.campaigns.push(Campaign {
        seq,
        sid: sid.clone(),
        service_sid,
        brand_sid: Some(brand_sid.to_owned()),
        content: Some(CampaignContent {
            description: text.description,
            message_flow: text.message_flow,
            message_samples: text.message_samples,
            usecase: usecase.to_owned(),
            has_embedded_links: text.has_embedded_links,
            has_embedded_phone: text.has_embedded_phone,
            subscriber_opt_in,
            age_gated,
            direct_lending,
            opt_in_message,
            opt_out_message,
            help_message,
            opt_in_keywords,
            opt_out_keywords,
            help_keywords,
        }),
        brand_type: Some(brand_type),
        status: CampaignStatus::InProgress,
        campaign_id,
        mock,
        external: false,
        errors: Vec::new(),
        round: 0,
        date_created: now,
        date_updated: now,
    });
    state.counters.campaigns += 1;
    state.charge();
    lifecycle::schedule_campaign_review(&ctx.app, &state, &sid);
    let campaign = find(&state.campaigns, &sid).ok_or_else(ApiError::internal)?;
    Ok(json_response(
        StatusCode::CREATED,
        &campaign_json(&ctx.base, &ctx.app.account_sid, campaign),
    ))
}

fn campaign_at<'a>(
    state: &'a State,
    (service, campaign): (&str, &str),
    path: &str,
) -> Result<&'a Campaign, ApiError> {
    at_path(&state.services, service, "MG", path)?;
    let found = at_path(&state.campaigns, campaign, "QE", path)?;
    if found.service_sid == service {
        Ok(found)
    } else {
        Err(ApiError::not_found(path))
    }
}

async fn fetch_campaign(ctx: Ctx, Path(ids): Path<(String, String)>) -> Reply {
    let state = lock(&ctx.app.state);
    let campaign = campaign_at(&state, (&ids.0, &ids.1), &ctx.path)?;
    Ok(json_response(
        StatusCode::OK,
        &campaign_json(&ctx.base, &ctx.app.account_sid, campaign),
    ))
}

async fn update_campaign(
    ctx: Ctx,
    Path(ids): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Reply {
    let params = Params::from_body(&headers, &body)?;
    let text = campaign_text(&params)?;
    let age_gated = params.required_bool("AgeGated")?;
    let direct_lending = params.required_bool("DirectLending")?;
    let mut state = lock(&ctx.app.state);
    let campaign = campaign_at(&state, (&ids.0, &ids.1), &ctx.path)?;
    if campaign.external {
        return Err(ApiError::bad_request(format!(
            "Campaign {} was registered elsewhere (PreregisteredUsa2p): update it where it was registered",
            campaign.sid
        )));
    }
    if campaign.status == CampaignStatus::InProgress {
        return Err(ApiError::bad_request(format!(
            "Campaign {} is IN_PROGRESS: a campaign can be updated once its review ended (VERIFIED or FAILED)",
            campaign.sid
        )));
    }
    let resubmitted = campaign.status == CampaignStatus::Failed;
    if let Some(campaign) = find_mut(&mut state.campaigns, &ids.1) {
        if let Some(content) = campaign.content.as_mut() {
            content.description = text.description;
            content.message_flow = text.message_flow;
            content.message_samples = text.message_samples;
            content.has_embedded_links = text.has_embedded_links;
            content.has_embedded_phone = text.has_embedded_phone;
            content.age_gated = age_gated;
            content.direct_lending = direct_lending;
        }
        if resubmitted {
            campaign.status = CampaignStatus::InProgress;
            campaign.errors = Vec::new();
            campaign.round += 1;
        }
        campaign.date_updated = wire::now();
    }
    if resubmitted {
        lifecycle::schedule_campaign_review(&ctx.app, &state, &ids.1);
    }
    let campaign = campaign_at(&state, (&ids.0, &ids.1), &ctx.path)?;
    Ok(json_response(
        StatusCode::OK,
        &campaign_json(&ctx.base, &ctx.app.account_sid, campaign),
    ))
}

async fn delete_campaign(ctx: Ctx, Path(ids): Path<(String, String)>) -> Reply {
    let mut state = lock(&ctx.app.state);
    campaign_at(&state, (&ids.0, &ids.1), &ctx.path)?;
    state.campaigns.retain(|c| c.sid != ids.1);
    Ok(no_content())
}

/// `GET .../Compliance/Usa2p/Usecases[?BrandRegistrationSid=BN...]`: the use cases the brand may register
/// (a standard brand's without one).
async fn campaign_usecases(ctx: Ctx, Path(service_sid): Path<String>) -> Reply {
    let query = Params::from_query(ctx.query.as_deref())?;
    let brand_sid = query.get("BrandRegistrationSid").filter(|s| !s.is_empty());
    if let Some(brand_sid) = brand_sid {
        check_sid("BrandRegistrationSid", brand_sid, "BN")?;
    }
    let state = lock(&ctx.app.state);
    at_path(&state.services, &service_sid, "MG", &ctx.path)?;
    let brand_type = match brand_sid {
        None => None,
        Some(brand_sid) => Some(
            find(&state.brands, brand_sid)
                .ok_or_else(|| {
                    ApiError::invalid(
                        "BrandRegistrationSid",
                        format!("no brand registration {brand_sid} in this account"),
                    )
                })?
                .brand_type,
        ),
    };
    let usecases: Vec<Value> = usecases_for(brand_type)
        .into_iter()
        .map(|u| {
            json!({
                "code": u.code,
                "name": u.name,
                "description": u.description,
                "post_approval_required": u.post_approval_required,
            })
        })
        .collect();
    Ok(json_response(
        StatusCode::OK,
        &json!({ "us_app_to_person_usecases": usecases }),
    ))
}

/// `POST /v1/Services/PreregisteredUsa2p`: attaches a campaign registered elsewhere to a service.
async fn create_external_campaign(ctx: Ctx, headers: HeaderMap, body: Bytes) -> Reply {
    let params = Params::from_body(&headers, &body)?;
    let campaign_id = params.required("CampaignId")?;
    let service_sid = params.required("MessagingServiceSid")?;
    check_sid("MessagingServiceSid", service_sid, "MG")?;
    params.bool("CnpMigration")?;
    let mut state = lock(&ctx.app.state);
    if find(&state.services, service_sid).is_none() {
        return Err(ApiError::invalid(
            "MessagingServiceSid",
            format!("no Messaging Service {service_sid} in this account"),
        ));
    }
    one_campaign_per_service(&state, service_sid)?;
    let (seq, sid) = state.mint("QE");
    let now = wire::now();
    state.campaigns.push(Campaign {
        seq,
        sid: sid.clone(),
        service_sid: service_sid.to_owned(),
        brand_sid: None,
        content: None,
        brand_type: None,
        status: CampaignStatus::Verified,
        campaign_id: campaign_id.to_owned(),
        mock: false,
        external: true,
        errors: Vec::new(),
        round: 0,
        date_created: now,
        date_updated: now,
    });
    Ok(json_response(
        StatusCode::CREATED,
        &json!({
            "sid": sid,
            "account_sid": ctx.app.account_sid,
            "campaign_id": campaign_id,
            "messaging_service_sid": service_sid,
            "date_created": wire::iso8601(now),
        }),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog;

    #[test]
    fn use_cases_depend_on_the_brand_type() {
        let codes = |t| -> Vec<&str> { usecases_for(t).iter().map(|u| u.code).collect() };
        let standard = codes(Some(BrandType::Standard));
        assert_eq!(standard.len(), 11);
        assert_eq!(codes(None), standard);
        assert!(!standard.contains(&"LOW_VOLUME") && !standard.contains(&"SOLE_PROPRIETOR"));
        let low = codes(Some(BrandType::LowVolumeStandard));
        assert_eq!(low.len(), 12);
        assert!(low.contains(&"LOW_VOLUME") && low.contains(&"MARKETING"));
        assert_eq!(codes(Some(BrandType::SoleProprietor)), ["SOLE_PROPRIETOR"]);
        assert!(catalog::FIELDS
            .iter()
            .any(|f| f.machine_name == "brand_contact_email"));
    }

    #[test]
    fn keywords_are_alphanumeric() {
        let params = Params::parse(b"OptInKeywords=START&OptInKeywords=YES2").unwrap();
        assert_eq!(
            keywords(&params, "OptInKeywords").unwrap(),
            ["START", "YES2"]
        );
        let params = Params::parse(b"OptInKeywords=START%2CYES").unwrap();
        let error = keywords(&params, "OptInKeywords").unwrap_err();
        assert!(error.message.contains("OptInKeywords"), "{}", error.message);
        let params = Params::parse(b"MessageSamples=only+one+sample+of+enough+length").unwrap();
        let error = message_samples(&params).unwrap_err();
        assert!(error.message.contains("2 to 5"), "{}", error.message);
    }
}
