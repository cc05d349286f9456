//! Control endpoints under `/__emulator/` (no credentials, never faulted), for the binary and for tests in
//! other languages:
//!
//! - `GET /__emulator/info`: base URL, credentials, primary profile SID, phone numbers, policy SIDs;
//! - `GET /__emulator/counters`: the [`Counters`](crate::Counters) as JSON;
//! - `GET /__emulator/faults` / `POST /__emulator/faults` (JSON [`Faults`], missing fields default);
//! - `POST /__emulator/customer-profiles/{sid}/decision` (and `/trust-products/{sid}/decision`) with
//!   `{"decision": "approve" | "reject", "reason": "...", "requirements": [{"requirement": "...", "fields":
//!   ["..."], "code": 18602, "message": "..."}]}` (`requirements` optional, see
//!   [`RequirementRejection`](crate::RequirementRejection)): 200 with `{sid, status}`, 404 for an unknown
//!   bundle, 409 (code 20409) when it is not `in-review`, 400 for a requirement or field its policy does
//!   not have;
//! - `POST /__emulator/brand-registrations/{sid}/decision` with `{"decision": "approve" | "reject",
//!   "reason": "...", "feedback": ["TAX_ID", ...], "requirements": [...]}` (`feedback` optional, values of
//!   the spec's `brand_registrations_enum_brand_feedback`; `requirements` optional, one registration error
//!   each): 200 with `{sid, status}`, 404 for an unknown brand, 409 (code 20409) when it is not `PENDING`;
//! - `POST /__emulator/campaigns/{sid}/decision` with `{"decision": "approve" | "reject", "reason": "...",
//!   "requirements": [...]}`: 200 with `{sid, status}`, 404 for an unknown campaign, 409 (code 20409) when
//!   it is not `IN_PROGRESS`.

use axum::body::Bytes;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use serde::Deserialize;
use serde_json::json;

use super::Ctx;
use crate::config::{Decision, RequirementRejection};
use crate::faults::Faults;
use crate::lifecycle::{self, DecideError};
use crate::policies;
use crate::state::{find, lock, App};

/// The values a brand's `feedback` may take (the spec's `brand_registrations_enum_brand_feedback`).
const BRAND_FEEDBACK: [&str; 5] = [
    "TAX_ID",
    "STOCK_SYMBOL",
    "NONPROFIT",
    "GOVERNMENT_ENTITY",
    "OTHERS",
];
use crate::wire::{json_response, ApiError};

type Reply = Result<Response, ApiError>;

/// The control routes (state not yet applied).
pub(crate) fn routes() -> Router<App> {
    Router::new()
        .route("/__emulator/info", get(info))
        .route("/__emulator/counters", get(counters))
        .route("/__emulator/faults", get(get_faults).post(set_faults))
        .route("/__emulator/customer-profiles/{sid}/decision", post(decide))
        .route("/__emulator/trust-products/{sid}/decision", post(decide))
        .route(
            "/__emulator/brand-registrations/{sid}/decision",
            post(decide_brand),
        )
        .route(
            "/__emulator/campaigns/{sid}/decision",
            post(decide_campaign),
        )
}

async fn info(ctx: Ctx) -> Reply {
    let state = lock(&ctx.app.state);
    let numbers: Vec<_> = state
        .phone_numbers
        .iter()
        .map(|n| json!({"sid": n.sid, "phone_number": n.phone_number}))
        .collect();
    let body = json!({
        "base_url": ctx.base,
        "account_sid": ctx.app.account_sid,
        "auth_token": ctx.app.auth_token,
        "api_key_sid": ctx.app.api_key.as_ref().map(|k| k.sid.clone()),
        "api_key_secret": ctx.app.api_key.as_ref().map(|k| k.secret.clone()),
        "primary_customer_profile_sid": ctx.app.primary_profile_sid,
        "phone_numbers": numbers,
        "policies": {
            "secondary_customer_profile": policies::SECONDARY_CUSTOMER_PROFILE,
            "primary_business_profile": policies::PRIMARY_BUSINESS_PROFILE,
            "isv_starter_profile": policies::ISV_STARTER_PROFILE,
            "a2p_trust_product": policies::A2P_TRUST_PRODUCT,
            "shaken_stir": policies::SHAKEN_STIR,
            "cnam": policies::CNAM,
        },
    });
    Ok(json_response(StatusCode::OK, &body))
}

async fn counters(ctx: Ctx) -> Reply {
    let counters = lock(&ctx.app.state).counters.clone();
    let body = serde_json::to_value(counters).map_err(|_| ApiError::internal())?;
    Ok(json_response(StatusCode::OK, &body))
}

async fn get_faults(ctx: Ctx) -> Reply {
    let faults = lock(&ctx.app.faults).faults.clone();
    let body = serde_json::to_value(faults).map_err(|_| ApiError::internal())?;
    Ok(json_response(StatusCode::OK, &body))
}

async fn set_faults(ctx: Ctx, body: Bytes) -> Reply {
    let faults: Faults = serde_json::from_slice(&body).map_err(|e| {
        ApiError::bad_request(format!(
            "expected a JSON object with latency_ms, answer_latency_ms, rate_429, retry_after_secs, rate_500, rate_503, rate_commit_then_drop, rate_commit_then_503, rate_commit_then_429, rules, callback_duplicate_rate, callback_loss_rate, callback_reorder_ms, callback_tamper_rate, callback_retries, callback_retry_backoff_ms, account_concurrency_limit: {e}"
        ))
    })?;
    faults.validate().map_err(ApiError::bad_request)?;
    lock(&ctx.app.faults).faults = faults.clone();
    let body = serde_json::to_value(faults).map_err(|_| ApiError::internal())?;
    Ok(json_response(StatusCode::OK, &body))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DecisionBody {
    decision: String,
    reason: Option<String>,
    #[serde(default)]
    requirements: Vec<RequirementRejection>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BrandDecisionBody {
    decision: String,
    reason: Option<String>,
    #[serde(default)]
    feedback: Vec<String>,
    #[serde(default)]
    requirements: Vec<RequirementRejection>,
}

/// `approve` / `reject` (with the reason, or a default one, and the requirements, if any).
fn decision_of(
    decision: &str,
    reason: Option<String>,
    requirements: Vec<RequirementRejection>,
) -> Result<Decision, ApiError> {
    match decision {
        "approve" if requirements.is_empty() => Ok(Decision::Approve),
        "approve" => Err(ApiError::bad_request(
            "requirements go with \"reject\", not \"approve\"",
        )),
        "reject" => {
            let reason = reason.unwrap_or_else(|| {
                String::from("Rejected through the emulator's control endpoint")
            });
            Ok(if requirements.is_empty() {
                Decision::Reject { reason }
            } else {
                Decision::RejectRequirements {
                    reason,
                    requirements,
                }
            })
        }
        _ => Err(ApiError::bad_request(
            "decision must be \"approve\" or \"reject\"",
        )),
    }
}

/// A decision's refusal: 404 for an unknown resource, 400 for a decision that does not fit the bundle, 409
/// (code 20409) for one not under review.
fn refusal(ctx: &Ctx, error: DecideError) -> ApiError {
    match error {
        DecideError::UnknownBundle(_)
        | DecideError::UnknownBrand(_)
        | DecideError::UnknownCampaign(_) => ApiError::not_found(&ctx.path),
        DecideError::InvalidDecision { .. } => ApiError::bad_request(error.to_string()),
        other => ApiError::new(StatusCode::CONFLICT, 20409, other.to_string()),
    }
}

async fn decide(ctx: Ctx, Path(sid): Path<String>, body: Bytes) -> Reply {
    let request: DecisionBody = serde_json::from_slice(&body).map_err(|e| {
        ApiError::bad_request(format!(
            "expected {{\"decision\": \"approve\" | \"reject\", \"reason\": \"...\", \"requirements\": [{{\"requirement\": \"...\", \"fields\": [...], \"code\": 18602, \"message\": \"...\"}}]}}: {e}"
        ))
    })?;
    let decision = decision_of(&request.decision, request.reason, request.requirements)?;
    lifecycle::decide(&ctx.app, &sid, &decision).map_err(|e| refusal(&ctx, e))?;
    let state = lock(&ctx.app.state);
    let status = find(&state.bundles, &sid)
        .map(|b| b.status.as_str())
        .unwrap_or("unknown");
    Ok(json_response(
        StatusCode::OK,
        &json!({"sid": sid, "status": status}),
    ))
}

async fn decide_brand(ctx: Ctx, Path(sid): Path<String>, body: Bytes) -> Reply {
    let request: BrandDecisionBody = serde_json::from_slice(&body).map_err(|e| {
        ApiError::bad_request(format!(
            "expected {{\"decision\": \"approve\" | \"reject\", \"reason\": \"...\", \"feedback\": [\"TAX_ID\", ...]}}: {e}"
        ))
    })?;
    if let Some(unknown) = request
        .feedback
        .iter()
        .find(|f| !BRAND_FEEDBACK.contains(&f.as_str()))
    {
        return Err(ApiError::bad_request(format!(
            "feedback '{}' is not one of: {}",
            crate::wire::shorten(unknown, 40),
            BRAND_FEEDBACK.join(", ")
        )));
    }
    let decision = decision_of(&request.decision, request.reason, request.requirements)?;
    lifecycle::decide_brand(&ctx.app, &sid, &decision, &request.feedback)
        .map_err(|e| refusal(&ctx, e))?;
    let state = lock(&ctx.app.state);
    let status = find(&state.brands, &sid)
        .map(|b| b.status.as_str())
        .unwrap_or("unknown");
    Ok(json_response(
        StatusCode::OK,
        &json!({"sid": sid, "status": status}),
    ))
}

async fn decide_campaign(ctx: Ctx, Path(sid): Path<String>, body: Bytes) -> Reply {
    let request: DecisionBody = serde_json::from_slice(&body).map_err(|e| {
        ApiError::bad_request(format!(
            "expected {{\"decision\": \"approve\" | \"reject\", \"reason\": \"...\", \"requirements\": [...]}}: {e}"
        ))
    })?;
    let decision = decision_of(&request.decision, request.reason, request.requirements)?;
    lifecycle::decide_campaign(&ctx.app, &sid, &decision).map_err(|e| refusal(&ctx, e))?;
    let state = lock(&ctx.app.state);
    let status = find(&state.campaigns, &sid)
        .map(|c| c.status.as_str())
        .unwrap_or("unknown");
    Ok(json_response(
        StatusCode::OK,
        &json!({"sid": sid, "status": status}),
    ))
}
