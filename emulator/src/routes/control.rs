//! Control endpoints under `/__emulator/` (no credentials, never faulted), for the binary and for tests in
//! other languages:
//!
//! - `GET /__emulator/info`: base URL, credentials, primary profile SID, phone numbers, policy SIDs;
//! - `GET /__emulator/counters`: the [`Counters`](crate::Counters) as JSON;
//! - `GET /__emulator/faults` / `POST /__emulator/faults` (JSON [`Faults`], missing fields default);
//! - `POST /__emulator/customer-profiles/{sid}/decision` (and `/trust-products/{sid}/decision`) with
//!   `{"decision": "approve" | "reject", "reason": "..."}`: 200 with `{sid, status}`, 404 for an unknown
//!   bundle, 409 (code 20409) when it is not `in-review`.

use axum::body::Bytes;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use serde::Deserialize;
use serde_json::json;

use super::Ctx;
use crate::config::Decision;
use crate::faults::Faults;
use crate::lifecycle::{self, DecideError};
use crate::policies;
use crate::state::{find, lock, App};
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
            "expected a JSON object with latency_ms, rate_429, retry_after_secs, rate_500, rate_503, rate_commit_then_drop: {e}"
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
}

async fn decide(ctx: Ctx, Path(sid): Path<String>, body: Bytes) -> Reply {
    let request: DecisionBody = serde_json::from_slice(&body).map_err(|e| {
        ApiError::bad_request(format!(
            "expected {{\"decision\": \"approve\" | \"reject\", \"reason\": \"...\"}}: {e}"
        ))
    })?;
    let decision = match request.decision.as_str() {
        "approve" => Decision::Approve,
        "reject" => Decision::Reject {
            reason: request.reason.unwrap_or_else(|| {
                String::from("Rejected through the emulator's control endpoint")
            }),
        },
        _ => {
            return Err(ApiError::bad_request(
                "decision must be \"approve\" or \"reject\"",
            ));
        }
    };
    match lifecycle::decide(&ctx.app, &sid, &decision) {
        Ok(()) => {}
        Err(DecideError::UnknownBundle(_)) => return Err(ApiError::not_found(&ctx.path)),
        Err(error @ DecideError::NotInReview { .. }) => {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                20409,
                error.to_string(),
            ));
        }
    }
    let state = lock(&ctx.app.state);
    let status = find(&state.bundles, &sid)
        .map(|b| b.status.as_str())
        .unwrap_or("unknown");
    Ok(json_response(
        StatusCode::OK,
        &json!({"sid": sid, "status": status}),
    ))
}
