//! Trust Hub v1: CustomerProfiles and TrustProducts (one implementation, two collections) with their
//! EntityAssignments, ChannelEndpointAssignments and Evaluations; EndUsers; SupportingDocuments; Policies;
//! EndUserTypes; SupportingDocumentTypes. Dates are ISO 8601; URLs are absolute, built on the request's
//! `Host`.
//!
//! State rules beyond the spec's parameter checks:
//! - a bundle's FriendlyName, Email and StatusCallback change only while it is `draft` or
//!   `twilio-rejected`; its Status only `draft -> pending-review` or `twilio-rejected -> pending-review`
//!   (a resubmission; see [`crate::lifecycle`]);
//! - entity assignments are created and deleted only while the bundle is `draft` or `twilio-rejected`; an
//!   object is assigned to a bundle at most once; it must exist in the account (EndUser `IT`,
//!   SupportingDocument `RD`, or another bundle `BU`; addresses are assigned through a
//!   `customer_profile_address` document);
//! - end users and supporting documents can be updated whatever the status of the bundles holding them
//!   (counted in `end_user_updates` / `supporting_document_updates`);
//! - channel endpoint assignments take `ChannelEndpointType` `phone-number` and a seeded `PN` number, once
//!   per bundle, in any status; a voice trust product's (SHAKEN/STIR, CNAM) only take numbers already
//!   assigned to a customer profile assigned to it (its Business Profile), as Twilio's guides say;
//! - end users, supporting documents and bundles still assigned to a bundle cannot be deleted.

use axum::body::Bytes;
use axum::extract::Path;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use std::sync::OnceLock;

use serde::Serialize;
use serde_json::{json, Map, Value};
use time::OffsetDateTime;

use super::{list_reply, Ctx, ListRequest};
use crate::catalog::{
    self, ObjectType, Policy, END_USER_TYPES, POLICIES, SUPPORTING_DOCUMENT_TYPES,
};
use crate::lifecycle;
use crate::sid;
use crate::state::{
    find, find_mut, lock, App, Bundle, BundleKind, BundleStatus, ChannelAssignment, Counters,
    EndUser, EntityAssignment, EvaluationRecord, State, SupportingDocument, TypeRecord,
};
use crate::wire::{
    self, check_enum, check_object_sid, check_sid, check_uri, json_response, ApiError, Params,
    Record,
};

type Reply = Result<Response, ApiError>;

/// The Trust Hub routes (state not yet applied).
pub(crate) fn routes() -> Router<App> {
    let mut router = Router::new();
    for kind in [BundleKind::CustomerProfile, BundleKind::TrustProduct] {
        let c = kind.collection();
        router = router
            .route(
                &format!("/v1/{c}"),
                get(move |ctx: Ctx| list_bundles(kind, ctx)).post(
                    move |ctx: Ctx, headers: HeaderMap, body: Bytes| {
                        create_bundle(kind, ctx, headers, body)
                    },
                ),
            )
            .route(
                &format!("/v1/{c}/{{sid}}"),
                get(move |ctx: Ctx, Path(sid): Path<String>| fetch_bundle(kind, ctx, sid))
                    .post(
                        move |ctx: Ctx,
                              Path(sid): Path<String>,
                              headers: HeaderMap,
                              body: Bytes| {
                            update_bundle(kind, ctx, sid, headers, body)
                        },
                    )
                    .delete(move |ctx: Ctx, Path(sid): Path<String>| delete_bundle(kind, ctx, sid)),
            )
            .route(
                &format!("/v1/{c}/{{bundle}}/EntityAssignments"),
                get(move |ctx: Ctx, Path(bundle): Path<String>| {
                    list_entity_assignments(kind, ctx, bundle)
                })
                .post(
                    move |ctx: Ctx, Path(bundle): Path<String>, headers: HeaderMap, body: Bytes| {
                        create_entity_assignment(kind, ctx, bundle, headers, body)
                    },
                ),
            )
            .route(
                &format!("/v1/{c}/{{bundle}}/EntityAssignments/{{sid}}"),
                get(move |ctx: Ctx, Path(ids): Path<(String, String)>| {
                    fetch_entity_assignment(kind, ctx, ids)
                })
                .delete(move |ctx: Ctx, Path(ids): Path<(String, String)>| {
                    delete_entity_assignment(kind, ctx, ids)
                }),
            )
            .route(
                &format!("/v1/{c}/{{bundle}}/ChannelEndpointAssignments"),
                get(move |ctx: Ctx, Path(bundle): Path<String>| {
                    list_channel_assignments(kind, ctx, bundle)
                })
                .post(
                    move |ctx: Ctx, Path(bundle): Path<String>, headers: HeaderMap, body: Bytes| {
                        create_channel_assignment(kind, ctx, bundle, headers, body)
                    },
                ),
            )
            .route(
                &format!("/v1/{c}/{{bundle}}/ChannelEndpointAssignments/{{sid}}"),
                get(move |ctx: Ctx, Path(ids): Path<(String, String)>| {
                    fetch_channel_assignment(kind, ctx, ids)
                })
                .delete(move |ctx: Ctx, Path(ids): Path<(String, String)>| {
                    delete_channel_assignment(kind, ctx, ids)
                }),
            )
            .route(
                &format!("/v1/{c}/{{bundle}}/Evaluations"),
                get(move |ctx: Ctx, Path(bundle): Path<String>| {
                    list_evaluations(kind, ctx, bundle)
                })
                .post(
                    move |ctx: Ctx, Path(bundle): Path<String>, headers: HeaderMap, body: Bytes| {
                        create_evaluation(kind, ctx, bundle, headers, body)
                    },
                ),
            )
            .route(
                &format!("/v1/{c}/{{bundle}}/Evaluations/{{sid}}"),
                get(move |ctx: Ctx, Path(ids): Path<(String, String)>| {
                    fetch_evaluation(kind, ctx, ids)
                }),
            );
    }
    router = attributed_routes::<EndUser>(router);
    router = attributed_routes::<SupportingDocument>(router);
    router
        .route("/v1/Policies", get(list_policies))
        .route("/v1/Policies/{sid}", get(fetch_policy))
        .route("/v1/EndUserTypes", get(list_end_user_types))
        .route("/v1/EndUserTypes/{sid}", get(fetch_end_user_type))
        .route("/v1/SupportingDocumentTypes", get(list_document_types))
        .route(
            "/v1/SupportingDocumentTypes/{sid}",
            get(fetch_document_type),
        )
}

// ---------------------------------------------------------------------------------------------------------
// Rendering
// ---------------------------------------------------------------------------------------------------------

fn bundle_url(base: &str, bundle: &Bundle) -> String {
    format!("{base}/v1/{}/{}", bundle.kind.collection(), bundle.sid)
}

fn bundle_json(base: &str, account_sid: &str, bundle: &Bundle) -> Value {
    let url = bundle_url(base, bundle);
    let prefix = bundle.kind.link_prefix();
    let mut links = Map::new();
    links.insert(
        format!("{prefix}_entity_assignments"),
        Value::String(format!("{url}/EntityAssignments")),
    );
    links.insert(
        format!("{prefix}_evaluations"),
        Value::String(format!("{url}/Evaluations")),
    );
    links.insert(
        format!("{prefix}_channel_endpoint_assignment"),
        Value::String(format!("{url}/ChannelEndpointAssignments")),
    );
    json!({
        "sid": bundle.sid,
        "account_sid": account_sid,
        "policy_sid": bundle.policy_sid,
        "friendly_name": bundle.friendly_name,
        "status": bundle.status.as_str(),
        "email": bundle.email,
        "status_callback": bundle.status_callback,
        "valid_until": bundle.valid_until.map(wire::iso8601),
        "date_created": wire::iso8601(bundle.date_created),
        "date_updated": wire::iso8601(bundle.date_updated),
        "url": url,
        "links": links,
        "errors": bundle.errors,
    })
}

fn entity_assignment_json(
    base: &str,
    account_sid: &str,
    kind: BundleKind,
    a: &EntityAssignment,
) -> Value {
    let mut value = json!({
        "sid": a.sid,
        "account_sid": account_sid,
        "object_sid": a.object_sid,
        "date_created": wire::iso8601(a.date_created),
        "url": format!("{base}/v1/{}/{}/EntityAssignments/{}", kind.collection(), a.bundle_sid, a.sid),
    });
    value[kind.parent_field()] = Value::String(a.bundle_sid.clone());
    value
}

fn channel_assignment_json(
    base: &str,
    account_sid: &str,
    kind: BundleKind,
    a: &ChannelAssignment,
) -> Value {
    let mut value = json!({
        "sid": a.sid,
        "account_sid": account_sid,
        "channel_endpoint_sid": a.channel_endpoint_sid,
        "channel_endpoint_type": a.channel_endpoint_type,
        "date_created": wire::iso8601(a.date_created),
        "url": format!(
            "{base}/v1/{}/{}/ChannelEndpointAssignments/{}",
            kind.collection(),
            a.bundle_sid,
            a.sid
        ),
    });
    value[kind.parent_field()] = Value::String(a.bundle_sid.clone());
    value
}

fn evaluation_json(base: &str, account_sid: &str, kind: BundleKind, e: &EvaluationRecord) -> Value {
    let mut value = json!({
        "sid": e.sid,
        "account_sid": account_sid,
        "policy_sid": e.policy_sid,
        "status": if e.compliant { "compliant" } else { "noncompliant" },
        "date_created": wire::iso8601(e.date_created),
        "url": format!("{base}/v1/{}/{}/Evaluations/{}", kind.collection(), e.bundle_sid, e.sid),
        "results": e.results,
    });
    value[kind.parent_field()] = Value::String(e.bundle_sid.clone());
    value
}

/// Each policy's `requirements`, rendered once: the catalog is static and its links are relative, so
/// only the policy's own `url` depends on the request.
fn requirements_of(policy: &Policy) -> &'static Value {
    static RENDERED: OnceLock<Vec<Value>> = OnceLock::new();
    static NONE: Value = Value::Null;
    let rendered =
        RENDERED.get_or_init(|| POLICIES.iter().map(Policy::requirements_json).collect());
    POLICIES
        .iter()
        .position(|p| p.sid == policy.sid)
        .map_or(&NONE, |at| &rendered[at])
}

/// A policy as served; serialized straight from the cached requirements, without copying them.
#[derive(Serialize)]
struct PolicyBody<'a> {
    url: String,
    requirements: &'static Value,
    friendly_name: &'a str,
    sid: &'a str,
}

fn policy_body<'a>(base: &str, p: &'a Policy) -> PolicyBody<'a> {
    PolicyBody {
        url: format!("{base}/v1/Policies/{}", p.sid),
        requirements: requirements_of(p),
        friendly_name: p.friendly_name,
        sid: p.sid,
    }
}

fn policy_json(base: &str, p: &Policy) -> Value {
    serde_json::to_value(policy_body(base, p)).unwrap_or(Value::Null)
}

fn type_json(base: &str, collection: &str, t: &TypeRecord) -> Value {
    let fields: Vec<Value> = t
        .def
        .fields
        .iter()
        .map(|name| {
            let field = catalog::FIELDS.iter().find(|f| f.machine_name == *name);
            json!({
                "machine_name": name,
                "friendly_name": field.map(|f| f.friendly_name).unwrap_or(name),
                "constraint": field.map(|f| f.constraint).unwrap_or("String"),
            })
        })
        .collect();
    json!({
        "url": format!("{base}/v1/{collection}/{}", t.sid),
        "fields": fields,
        "machine_name": t.def.machine_name,
        "friendly_name": t.def.friendly_name,
        "sid": t.sid,
    })
}

fn no_content() -> Response {
    StatusCode::NO_CONTENT.into_response()
}

// ---------------------------------------------------------------------------------------------------------
// Shared checks
// ---------------------------------------------------------------------------------------------------------

/// The bundle at this path, or 404 (wrong shape, unknown, or of the other collection).
fn bundle_at<'a>(
    state: &'a State,
    kind: BundleKind,
    sid: &str,
    path: &str,
) -> Result<&'a Bundle, ApiError> {
    if !sid::has_prefix_shape(sid, "BU") {
        return Err(ApiError::not_found(path));
    }
    find(&state.bundles, sid)
        .filter(|b| b.kind == kind)
        .ok_or_else(|| ApiError::not_found(path))
}

/// Refuses a change to a bundle that is neither `draft` nor `twilio-rejected` (being fixed).
fn require_editable(bundle: &Bundle, what: &str) -> Result<(), ApiError> {
    if matches!(
        bundle.status,
        BundleStatus::Draft | BundleStatus::TwilioRejected
    ) {
        Ok(())
    } else {
        Err(ApiError::bad_request(format!(
            "{} {} is {}: {what} only while it is draft or twilio-rejected",
            bundle.kind.resource(),
            bundle.sid,
            bundle.status.as_str()
        )))
    }
}

/// Parses the `Attributes` form field: one JSON object as compact text.
fn parse_attributes(raw: &str) -> Result<Map<String, Value>, ApiError> {
    match serde_json::from_str::<Value>(raw) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(other) => {
            let kind = match other {
                Value::Array(_) => "an array",
                Value::String(_) => "a string",
                Value::Number(_) => "a number",
                Value::Bool(_) => "a boolean",
                _ => "null",
            };
            Err(ApiError::invalid(
                "Attributes",
                format!(
                    "expected a JSON object such as {{\"business_name\":\"...\"}}, received {kind}"
                ),
            ))
        }
        Err(error) => Err(ApiError::invalid(
            "Attributes",
            format!(
                "expected one form field holding a JSON object (compact JSON text), received {} that are not valid JSON (error at line {}, column {})",
                wire::describe_text(raw),
                error.line(),
                error.column()
            ),
        )),
    }
}

// ---------------------------------------------------------------------------------------------------------
// Bundles
// ---------------------------------------------------------------------------------------------------------

async fn list_bundles(kind: BundleKind, ctx: Ctx) -> Reply {
    let list = ListRequest::parse(&ctx, &["Status", "FriendlyName", "PolicySid"])?;
    let status = match list.filter("Status") {
        Some(s) => BundleStatus::parse(check_enum("Status", s, &BundleStatus::WIRE)?),
        None => None,
    };
    if let Some(policy) = list.filter("PolicySid") {
        check_sid("PolicySid", policy, "RN")?;
    }
    let friendly_name = list.filter("FriendlyName");
    let policy_sid = list.filter("PolicySid");
    let state = lock(&ctx.app.state);
    let items: Vec<&Bundle> = state
        .bundles
        .iter()
        .filter(|b| b.kind == kind)
        .filter(|b| status.is_none_or(|s| b.status == s))
        .filter(|b| friendly_name.is_none_or(|f| b.friendly_name == f))
        .filter(|b| policy_sid.is_none_or(|p| b.policy_sid == p))
        .collect();
    let account = ctx.app.account_sid.clone();
    list_reply(&ctx, &state, &list, "results", items, |b| {
        bundle_json(&ctx.base, &account, b)
    })
}

async fn create_bundle(kind: BundleKind, ctx: Ctx, headers: HeaderMap, body: Bytes) -> Reply {
    let params = Params::from_body(&headers, &body)?;
    let friendly_name = params.required("FriendlyName")?;
    let email = params.required("Email")?;
    let policy_sid = params.required("PolicySid")?;
    check_sid("PolicySid", policy_sid, "RN")?;
    let status_callback = params.get("StatusCallback").filter(|s| !s.is_empty());
    if let Some(url) = status_callback {
        check_uri("StatusCallback", url)?;
    }
    let policy = catalog::policy(policy_sid).ok_or_else(|| {
        ApiError::invalid(
            "PolicySid",
            format!("no policy {policy_sid}; GET /v1/Policies lists the available ones"),
        )
    })?;
    if policy.kind != kind {
        return Err(ApiError::invalid(
            "PolicySid",
            format!(
                "{policy_sid} is a {} policy; create this bundle under /v1/{}",
                policy.kind.resource(),
                policy.kind.collection()
            ),
        ));
    }
    let mut state = lock(&ctx.app.state);
    let (seq, sid) = state.mint("BU");
    let now = wire::now();
    state.bundles.push(Bundle {
        seq,
        sid: sid.clone(),
        kind,
        policy_sid: policy_sid.to_owned(),
        friendly_name: friendly_name.to_owned(),
        email: email.to_owned(),
        status: BundleStatus::Draft,
        status_callback: status_callback.map(str::to_owned),
        valid_until: None,
        date_created: now,
        date_updated: now,
        errors: None,
        reviews: 0,
        review_rejection: None,
    });
    match kind {
        BundleKind::CustomerProfile => state.counters.customer_profiles += 1,
        BundleKind::TrustProduct => state.counters.trust_products += 1,
    }
    let bundle = find(&state.bundles, &sid).ok_or_else(ApiError::internal)?;
    Ok(json_response(
        StatusCode::CREATED,
        &bundle_json(&ctx.base, &ctx.app.account_sid, bundle),
    ))
}

async fn fetch_bundle(kind: BundleKind, ctx: Ctx, sid: String) -> Reply {
    let state = lock(&ctx.app.state);
    let bundle = bundle_at(&state, kind, &sid, &ctx.path)?;
    Ok(json_response(
        StatusCode::OK,
        &bundle_json(&ctx.base, &ctx.app.account_sid, bundle),
    ))
}

async fn update_bundle(
    kind: BundleKind,
    ctx: Ctx,
    sid: String,
    headers: HeaderMap,
    body: Bytes,
) -> Reply {
    let params = Params::from_body(&headers, &body)?;
    let status = match params.get("Status") {
        Some(s) => BundleStatus::parse(check_enum("Status", s, &BundleStatus::WIRE)?),
        None => None,
    };
    let status_callback = match params.get("StatusCallback") {
        None => None,
        Some("") => Some(None),
        Some(url) => {
            check_uri("StatusCallback", url)?;
            Some(Some(url.to_owned()))
        }
    };
    let friendly_name = params.non_blank("FriendlyName")?;
    let email = params.non_blank("Email")?;

    let mut state = lock(&ctx.app.state);
    let bundle = bundle_at(&state, kind, &sid, &ctx.path)?;
    let edits = friendly_name.is_some() || email.is_some() || status_callback.is_some();
    if edits {
        require_editable(
            bundle,
            "FriendlyName, Email and StatusCallback can be updated",
        )?;
    }
    let submit = match status {
        None => false,
        Some(s) if s == bundle.status => false,
        Some(BundleStatus::PendingReview)
            if matches!(
                bundle.status,
                BundleStatus::Draft | BundleStatus::TwilioRejected
            ) =>
        {
            true
        }
        Some(s) => {
            return Err(ApiError::invalid(
                "Status",
                format!(
                    "cannot change {} {} from {} to {}: only draft -> pending-review and twilio-rejected -> pending-review (a resubmission) can be requested through the API; the other statuses are set by Twilio's review",
                    kind.resource(),
                    sid,
                    bundle.status.as_str(),
                    s.as_str()
                ),
            ));
        }
    };
    if let Some(bundle) = find_mut(&mut state.bundles, &sid) {
        if let Some(name) = friendly_name {
            bundle.friendly_name = name.to_owned();
        }
        if let Some(email) = email {
            bundle.email = email.to_owned();
        }
        if let Some(callback) = status_callback {
            bundle.status_callback = callback;
        }
        if edits {
            bundle.date_updated = wire::now();
        }
    }
    if edits {
        state.counters.bundle_updates += 1;
    }
    let version_before = submit.then(|| lifecycle::begin_submission(&ctx.app, &mut state, &sid));
    let bundle = find(&state.bundles, &sid).ok_or_else(ApiError::internal)?;
    let reply = bundle_json(&ctx.base, &ctx.app.account_sid, bundle);
    if let Some(version) = version_before {
        lifecycle::review_submission(&ctx.app, &mut state, &sid, version);
    }
    Ok(json_response(StatusCode::OK, &reply))
}

async fn delete_bundle(kind: BundleKind, ctx: Ctx, sid: String) -> Reply {
    let mut state = lock(&ctx.app.state);
    bundle_at(&state, kind, &sid, &ctx.path)?;
    let holders: Vec<String> = state
        .bundles_holding(&sid)
        .into_iter()
        .filter(|b| *b != sid)
        .collect();
    if !holders.is_empty() {
        return Err(ApiError::bad_request(format!(
            "{} {sid} is assigned to {}; delete those entity assignments first",
            kind.resource(),
            holders.join(", ")
        )));
    }
    state.bundles.retain(|b| b.sid != sid);
    state.entity_assignments.retain(|a| a.bundle_sid != sid);
    state.channel_assignments.retain(|a| a.bundle_sid != sid);
    state.evaluations.retain(|e| e.bundle_sid != sid);
    state.touch();
    Ok(no_content())
}

// ---------------------------------------------------------------------------------------------------------
// Entity assignments
// ---------------------------------------------------------------------------------------------------------

const OBJECT_TYPES: &[&str] = &[
    "end_user",
    "supporting_document",
    "customer_profile",
    "trust_product",
];

async fn list_entity_assignments(kind: BundleKind, ctx: Ctx, bundle: String) -> Reply {
    let list = ListRequest::parse(&ctx, &["ObjectType"])?;
    let object_type = match list.filter("ObjectType") {
        Some(t) => Some(check_enum("ObjectType", t, OBJECT_TYPES)?),
        None => None,
    };
    let state = lock(&ctx.app.state);
    bundle_at(&state, kind, &bundle, &ctx.path)?;
    let items: Vec<&EntityAssignment> = state
        .entity_assignments
        .iter()
        .filter(|a| a.bundle_sid == bundle)
        .filter(|a| object_type.is_none_or(|t| state.object_kind(&a.object_sid) == Some(t)))
        .collect();
    let account = ctx.app.account_sid.clone();
    list_reply(&ctx, &state, &list, "results", items, |a| {
        entity_assignment_json(&ctx.base, &account, kind, a)
    })
}

async fn create_entity_assignment(
    kind: BundleKind,
    ctx: Ctx,
    bundle_sid: String,
    headers: HeaderMap,
    body: Bytes,
) -> Reply {
    let params = Params::from_body(&headers, &body)?;
    let object_sid = params.required("ObjectSid")?;
    check_object_sid("ObjectSid", object_sid)?;
    let mut state = lock(&ctx.app.state);
    let bundle = bundle_at(&state, kind, &bundle_sid, &ctx.path)?;
    if state.object_kind(object_sid).is_none() {
        let hint = if object_sid.starts_with("AD") {
            "; addresses are not assigned directly: create a customer_profile_address SupportingDocument with address_sids and assign that"
        } else {
            ""
        };
        return Err(ApiError::invalid(
            "ObjectSid",
            format!(
                "no EndUser, SupportingDocument, CustomerProfile or TrustProduct {object_sid} in this account{hint}"
            ),
        ));
    }
    if object_sid == bundle_sid {
        return Err(ApiError::invalid(
            "ObjectSid",
            "a bundle cannot be assigned to itself",
        ));
    }
    require_editable(bundle, "entity assignments can change")?;
    if let Some(existing) = state
        .entity_assignments
        .iter()
        .find(|a| a.bundle_sid == bundle_sid && a.object_sid == object_sid)
    {
        return Err(ApiError::invalid(
            "ObjectSid",
            format!(
                "{object_sid} is already assigned to {bundle_sid} (assignment {})",
                existing.sid
            ),
        ));
    }
    let (seq, sid) = state.mint("BV");
    state.entity_assignments.push(EntityAssignment {
        seq,
        sid: sid.clone(),
        bundle_sid,
        object_sid: object_sid.to_owned(),
        date_created: wire::now(),
    });
    state.counters.entity_assignments += 1;
    state.touch();
    let assignment = find(&state.entity_assignments, &sid).ok_or_else(ApiError::internal)?;
    Ok(json_response(
        StatusCode::CREATED,
        &entity_assignment_json(&ctx.base, &ctx.app.account_sid, kind, assignment),
    ))
}

fn entity_assignment_at<'a>(
    state: &'a State,
    kind: BundleKind,
    (bundle, sid): (&str, &str),
    path: &str,
) -> Result<&'a EntityAssignment, ApiError> {
    bundle_at(state, kind, bundle, path)?;
    if !sid::has_prefix_shape(sid, "BV") {
        return Err(ApiError::not_found(path));
    }
    find(&state.entity_assignments, sid)
        .filter(|a| a.bundle_sid == bundle)
        .ok_or_else(|| ApiError::not_found(path))
}

async fn fetch_entity_assignment(kind: BundleKind, ctx: Ctx, ids: (String, String)) -> Reply {
    let state = lock(&ctx.app.state);
    let a = entity_assignment_at(&state, kind, (&ids.0, &ids.1), &ctx.path)?;
    Ok(json_response(
        StatusCode::OK,
        &entity_assignment_json(&ctx.base, &ctx.app.account_sid, kind, a),
    ))
}

async fn delete_entity_assignment(kind: BundleKind, ctx: Ctx, ids: (String, String)) -> Reply {
    let mut state = lock(&ctx.app.state);
    entity_assignment_at(&state, kind, (&ids.0, &ids.1), &ctx.path)?;
    let bundle = bundle_at(&state, kind, &ids.0, &ctx.path)?;
    require_editable(bundle, "entity assignments can change")?;
    state.entity_assignments.retain(|a| a.sid != ids.1);
    state.counters.entity_assignment_deletions += 1;
    state.touch();
    Ok(no_content())
}

// ---------------------------------------------------------------------------------------------------------
// Channel endpoint assignments
// ---------------------------------------------------------------------------------------------------------

const CHANNEL_ENDPOINT_TYPES: &[&str] = &["phone-number"];

async fn list_channel_assignments(kind: BundleKind, ctx: Ctx, bundle: String) -> Reply {
    let list = ListRequest::parse(&ctx, &["ChannelEndpointSid", "ChannelEndpointSids"])?;
    let one = list.filter("ChannelEndpointSid");
    if let Some(sid) = one {
        check_object_sid("ChannelEndpointSid", sid)?;
    }
    let many: Option<Vec<&str>> = list
        .filter("ChannelEndpointSids")
        .map(|s| s.split(',').map(str::trim).collect());
    if let Some(sids) = &many {
        for sid in sids {
            check_object_sid("ChannelEndpointSids", sid)?;
        }
    }
    let state = lock(&ctx.app.state);
    bundle_at(&state, kind, &bundle, &ctx.path)?;
    let items: Vec<&ChannelAssignment> = state
        .channel_assignments
        .iter()
        .filter(|a| a.bundle_sid == bundle)
        .filter(|a| one.is_none_or(|s| a.channel_endpoint_sid == s))
        .filter(|a| {
            many.as_ref()
                .is_none_or(|m| m.contains(&a.channel_endpoint_sid.as_str()))
        })
        .collect();
    let account = ctx.app.account_sid.clone();
    list_reply(&ctx, &state, &list, "results", items, |a| {
        channel_assignment_json(&ctx.base, &account, kind, a)
    })
}

async fn create_channel_assignment(
    kind: BundleKind,
    ctx: Ctx,
    bundle_sid: String,
    headers: HeaderMap,
    body: Bytes,
) -> Reply {
    let params = Params::from_body(&headers, &body)?;
    let endpoint_type = params.required("ChannelEndpointType")?;
    let endpoint_sid = params.required("ChannelEndpointSid")?;
    let endpoint_type = check_enum("ChannelEndpointType", endpoint_type, CHANNEL_ENDPOINT_TYPES)?;
    check_object_sid("ChannelEndpointSid", endpoint_sid)?;
    let mut state = lock(&ctx.app.state);
    let bundle = bundle_at(&state, kind, &bundle_sid, &ctx.path)?;
    if find(&state.phone_numbers, endpoint_sid).is_none() {
        return Err(ApiError::invalid(
            "ChannelEndpointSid",
            format!("no phone number {endpoint_sid} in this account (see IncomingPhoneNumbers)"),
        ));
    }
    if catalog::is_voice(&bundle.policy_sid) {
        check_voice_number(&state, &bundle_sid, endpoint_sid)?;
    }
    if let Some(existing) = state
        .channel_assignments
        .iter()
        .find(|a| a.bundle_sid == bundle_sid && a.channel_endpoint_sid == endpoint_sid)
    {
        return Err(ApiError::invalid(
            "ChannelEndpointSid",
            format!(
                "{endpoint_sid} is already assigned to {bundle_sid} (assignment {})",
                existing.sid
            ),
        ));
    }
    let (seq, sid) = state.mint("RA");
    state.channel_assignments.push(ChannelAssignment {
        seq,
        sid: sid.clone(),
        bundle_sid,
        channel_endpoint_type: endpoint_type.to_owned(),
        channel_endpoint_sid: endpoint_sid.to_owned(),
        date_created: wire::now(),
    });
    state.counters.channel_endpoint_assignments += 1;
    let assignment = find(&state.channel_assignments, &sid).ok_or_else(ApiError::internal)?;
    Ok(json_response(
        StatusCode::CREATED,
        &channel_assignment_json(&ctx.base, &ctx.app.account_sid, kind, assignment),
    ))
}

/// A voice trust product's number must already be assigned to its Business Profile: a customer profile
/// assigned to the trust product.
fn check_voice_number(state: &State, trust_product: &str, number: &str) -> Result<(), ApiError> {
    let profiles: Vec<&str> = state
        .entity_assignments
        .iter()
        .filter(|a| a.bundle_sid == trust_product)
        .filter(|a| {
            find(&state.bundles, &a.object_sid)
                .is_some_and(|b| b.kind == BundleKind::CustomerProfile)
        })
        .map(|a| a.object_sid.as_str())
        .collect();
    if profiles.is_empty() {
        return Err(ApiError::invalid(
            "ChannelEndpointSid",
            format!(
                "the trust product {trust_product} has no Business Profile assigned yet: assign the customer profile first (EntityAssignments), then its phone numbers"
            ),
        ));
    }
    let on_profile = state
        .channel_assignments
        .iter()
        .any(|a| a.channel_endpoint_sid == number && profiles.contains(&a.bundle_sid.as_str()));
    if on_profile {
        Ok(())
    } else {
        Err(ApiError::invalid(
            "ChannelEndpointSid",
            format!(
                "{number} is not assigned to the trust product's Business Profile ({}): only phone numbers already assigned to it are eligible",
                profiles.join(", ")
            ),
        ))
    }
}

fn channel_assignment_at<'a>(
    state: &'a State,
    kind: BundleKind,
    (bundle, sid): (&str, &str),
    path: &str,
) -> Result<&'a ChannelAssignment, ApiError> {
    bundle_at(state, kind, bundle, path)?;
    if !sid::has_prefix_shape(sid, "RA") {
        return Err(ApiError::not_found(path));
    }
    find(&state.channel_assignments, sid)
        .filter(|a| a.bundle_sid == bundle)
        .ok_or_else(|| ApiError::not_found(path))
}

async fn fetch_channel_assignment(kind: BundleKind, ctx: Ctx, ids: (String, String)) -> Reply {
    let state = lock(&ctx.app.state);
    let a = channel_assignment_at(&state, kind, (&ids.0, &ids.1), &ctx.path)?;
    Ok(json_response(
        StatusCode::OK,
        &channel_assignment_json(&ctx.base, &ctx.app.account_sid, kind, a),
    ))
}

async fn delete_channel_assignment(kind: BundleKind, ctx: Ctx, ids: (String, String)) -> Reply {
    let mut state = lock(&ctx.app.state);
    channel_assignment_at(&state, kind, (&ids.0, &ids.1), &ctx.path)?;
    state.channel_assignments.retain(|a| a.sid != ids.1);
    Ok(no_content())
}

// ---------------------------------------------------------------------------------------------------------
// Evaluations
// ---------------------------------------------------------------------------------------------------------

async fn list_evaluations(kind: BundleKind, ctx: Ctx, bundle: String) -> Reply {
    let list = ListRequest::parse(&ctx, &[])?;
    let state = lock(&ctx.app.state);
    bundle_at(&state, kind, &bundle, &ctx.path)?;
    let items: Vec<&EvaluationRecord> = state
        .evaluations
        .iter()
        .filter(|e| e.bundle_sid == bundle)
        .collect();
    let account = ctx.app.account_sid.clone();
    list_reply(&ctx, &state, &list, "results", items, |e| {
        evaluation_json(&ctx.base, &account, kind, e)
    })
}

async fn create_evaluation(
    kind: BundleKind,
    ctx: Ctx,
    bundle_sid: String,
    headers: HeaderMap,
    body: Bytes,
) -> Reply {
    let params = Params::from_body(&headers, &body)?;
    let policy_sid = params.required("PolicySid")?;
    check_sid("PolicySid", policy_sid, "RN")?;
    let mut state = lock(&ctx.app.state);
    bundle_at(&state, kind, &bundle_sid, &ctx.path)?;
    let sid = lifecycle::run_evaluation(&mut state, &bundle_sid, policy_sid).ok_or_else(|| {
        ApiError::invalid(
            "PolicySid",
            format!("no policy {policy_sid}; GET /v1/Policies lists the available ones"),
        )
    })?;
    let evaluation = find(&state.evaluations, &sid).ok_or_else(ApiError::internal)?;
    Ok(json_response(
        StatusCode::CREATED,
        &evaluation_json(&ctx.base, &ctx.app.account_sid, kind, evaluation),
    ))
}

async fn fetch_evaluation(kind: BundleKind, ctx: Ctx, ids: (String, String)) -> Reply {
    let state = lock(&ctx.app.state);
    bundle_at(&state, kind, &ids.0, &ctx.path)?;
    if !sid::has_prefix_shape(&ids.1, "EL") {
        return Err(ApiError::not_found(&ctx.path));
    }
    let evaluation = find(&state.evaluations, &ids.1)
        .filter(|e| e.bundle_sid == ids.0)
        .ok_or_else(|| ApiError::not_found(&ctx.path))?;
    Ok(json_response(
        StatusCode::OK,
        &evaluation_json(&ctx.base, &ctx.app.account_sid, kind, evaluation),
    ))
}

// ---------------------------------------------------------------------------------------------------------
// End users and supporting documents
// ---------------------------------------------------------------------------------------------------------

/// An end user or a supporting document: the two account resources made of a `FriendlyName`, a `Type`
/// from the catalog and JSON `Attributes`, served by the same list / create / fetch / update / delete
/// handlers under `/v1/{COLLECTION}`.
trait Attributed: Record + Send + Sync + Sized + 'static {
    /// Path segment under `/v1`: `EndUsers` / `SupportingDocuments`.
    const COLLECTION: &'static str;
    /// Resource name in messages.
    const RESOURCE: &'static str;
    /// SID prefix.
    const PREFIX: &'static str;
    /// The accepted `Type` values.
    const TYPES: &'static [ObjectType];

    /// A record as created (`date_created` = `date_updated` = `now`).
    fn new(
        seq: u64,
        sid: String,
        friendly_name: String,
        object_type: String,
        attributes: Map<String, Value>,
        now: OffsetDateTime,
    ) -> Self;
    /// The account's records, oldest first.
    fn records(state: &State) -> &Vec<Self>;
    /// The account's records, mutably.
    fn records_mut(state: &mut State) -> &mut Vec<Self>;
    /// Counts one created record.
    fn count_created(counters: &mut Counters);
    /// Counts one updated record.
    fn count_updated(counters: &mut Counters);
    /// Records the state version after an update.
    fn set_revision(&mut self, version: u64);
    /// The editable fields: `FriendlyName`, `Attributes` and `date_updated`.
    fn editable(&mut self) -> (&mut String, &mut Map<String, Value>, &mut OffsetDateTime);
    /// The record as served.
    fn to_json(&self, base: &str, account_sid: &str) -> Value;
}

impl Attributed for EndUser {
    const COLLECTION: &'static str = "EndUsers";
    const RESOURCE: &'static str = "EndUser";
    const PREFIX: &'static str = "IT";
    const TYPES: &'static [ObjectType] = END_USER_TYPES;

    fn new(
        seq: u64,
        sid: String,
        friendly_name: String,
        end_user_type: String,
        attributes: Map<String, Value>,
        now: OffsetDateTime,
    ) -> Self {
        EndUser {
            seq,
            sid,
            friendly_name,
            end_user_type,
            attributes,
            date_created: now,
            date_updated: now,
            revision: 0,
        }
    }
    fn records(state: &State) -> &Vec<Self> {
        &state.end_users
    }
    fn records_mut(state: &mut State) -> &mut Vec<Self> {
        &mut state.end_users
    }
    fn count_created(counters: &mut Counters) {
        counters.end_users += 1;
    }
    fn count_updated(counters: &mut Counters) {
        counters.end_user_updates += 1;
    }
    fn set_revision(&mut self, version: u64) {
        self.revision = version;
    }
    fn editable(&mut self) -> (&mut String, &mut Map<String, Value>, &mut OffsetDateTime) {
        (
            &mut self.friendly_name,
            &mut self.attributes,
            &mut self.date_updated,
        )
    }
    fn to_json(&self, base: &str, account_sid: &str) -> Value {
        json!({
            "date_updated": wire::iso8601(self.date_updated),
            "sid": self.sid,
            "friendly_name": self.friendly_name,
            "account_sid": account_sid,
            "url": format!("{base}/v1/EndUsers/{}", self.sid),
            "date_created": wire::iso8601(self.date_created),
            "attributes": self.attributes,
            "type": self.end_user_type,
        })
    }
}

impl Attributed for SupportingDocument {
    const COLLECTION: &'static str = "SupportingDocuments";
    const RESOURCE: &'static str = "SupportingDocument";
    const PREFIX: &'static str = "RD";
    const TYPES: &'static [ObjectType] = SUPPORTING_DOCUMENT_TYPES;

    fn new(
        seq: u64,
        sid: String,
        friendly_name: String,
        document_type: String,
        attributes: Map<String, Value>,
        now: OffsetDateTime,
    ) -> Self {
        SupportingDocument {
            seq,
            sid,
            friendly_name,
            document_type,
            attributes,
            date_created: now,
            date_updated: now,
            revision: 0,
        }
    }
    fn records(state: &State) -> &Vec<Self> {
        &state.documents
    }
    fn records_mut(state: &mut State) -> &mut Vec<Self> {
        &mut state.documents
    }
    fn count_created(counters: &mut Counters) {
        counters.supporting_documents += 1;
    }
    fn count_updated(counters: &mut Counters) {
        counters.supporting_document_updates += 1;
    }
    fn set_revision(&mut self, version: u64) {
        self.revision = version;
    }
    fn editable(&mut self) -> (&mut String, &mut Map<String, Value>, &mut OffsetDateTime) {
        (
            &mut self.friendly_name,
            &mut self.attributes,
            &mut self.date_updated,
        )
    }
    /// Supporting documents report `DRAFT`, the spec's enum spelling (the seed's example shows `draft`).
    fn to_json(&self, base: &str, account_sid: &str) -> Value {
        json!({
            "status": "DRAFT",
            "date_updated": wire::iso8601(self.date_updated),
            "friendly_name": self.friendly_name,
            "account_sid": account_sid,
            "url": format!("{base}/v1/SupportingDocuments/{}", self.sid),
            "date_created": wire::iso8601(self.date_created),
            "sid": self.sid,
            "attributes": self.attributes,
            "type": self.document_type,
            "mime_type": Value::Null,
        })
    }
}

/// `/v1/{COLLECTION}` (list, create) and `/v1/{COLLECTION}/{sid}` (fetch, update, delete).
fn attributed_routes<R: Attributed>(router: Router<App>) -> Router<App> {
    router
        .route(
            &format!("/v1/{}", R::COLLECTION),
            get(list_attributed::<R>).post(create_attributed::<R>),
        )
        .route(
            &format!("/v1/{}/{{sid}}", R::COLLECTION),
            get(fetch_attributed::<R>)
                .post(update_attributed::<R>)
                .delete(delete_attributed::<R>),
        )
}

fn type_names(types: &[ObjectType]) -> Vec<&'static str> {
    types.iter().map(|t| t.machine_name).collect()
}

async fn list_attributed<R: Attributed>(ctx: Ctx) -> Reply {
    let list = ListRequest::parse(&ctx, &[])?;
    let state = lock(&ctx.app.state);
    let items: Vec<&R> = R::records(&state).iter().collect();
    let account = ctx.app.account_sid.clone();
    list_reply(&ctx, &state, &list, "results", items, |r| {
        r.to_json(&ctx.base, &account)
    })
}

async fn create_attributed<R: Attributed>(ctx: Ctx, headers: HeaderMap, body: Bytes) -> Reply {
    let params = Params::from_body(&headers, &body)?;
    let friendly_name = params.required("FriendlyName")?;
    let object_type = params.required("Type")?;
    let object_type = check_enum("Type", object_type, &type_names(R::TYPES))?;
    let attributes = match params.get("Attributes") {
        None | Some("") => Map::new(),
        Some(raw) => parse_attributes(raw)?,
    };
    let mut state = lock(&ctx.app.state);
    let (seq, sid) = state.mint(R::PREFIX);
    let record = R::new(
        seq,
        sid.clone(),
        friendly_name.to_owned(),
        object_type.to_owned(),
        attributes,
        wire::now(),
    );
    R::records_mut(&mut state).push(record);
    R::count_created(&mut state.counters);
    let record = find(R::records(&state), &sid).ok_or_else(ApiError::internal)?;
    Ok(json_response(
        StatusCode::CREATED,
        &record.to_json(&ctx.base, &ctx.app.account_sid),
    ))
}

/// The record at this path, or 404 (wrong shape or unknown).
fn attributed_at<'a, R: Attributed>(
    state: &'a State,
    sid: &str,
    path: &str,
) -> Result<&'a R, ApiError> {
    if !sid::has_prefix_shape(sid, R::PREFIX) {
        return Err(ApiError::not_found(path));
    }
    find(R::records(state), sid).ok_or_else(|| ApiError::not_found(path))
}

async fn fetch_attributed<R: Attributed>(ctx: Ctx, Path(sid): Path<String>) -> Reply {
    let state = lock(&ctx.app.state);
    let record = attributed_at::<R>(&state, &sid, &ctx.path)?;
    Ok(json_response(
        StatusCode::OK,
        &record.to_json(&ctx.base, &ctx.app.account_sid),
    ))
}

async fn update_attributed<R: Attributed>(
    ctx: Ctx,
    Path(sid): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Reply {
    let params = Params::from_body(&headers, &body)?;
    let friendly_name = params.non_blank("FriendlyName")?;
    let attributes = match params.get("Attributes") {
        None => None,
        Some("") => Some(Map::new()),
        Some(raw) => Some(parse_attributes(raw)?),
    };
    let mut state = lock(&ctx.app.state);
    attributed_at::<R>(&state, &sid, &ctx.path)?;
    if let Some(record) = find_mut(R::records_mut(&mut state), &sid) {
        let (name_slot, attributes_slot, date_updated) = record.editable();
        if let Some(name) = friendly_name {
            *name_slot = name.to_owned();
        }
        if let Some(attributes) = attributes {
            *attributes_slot = attributes;
        }
        *date_updated = wire::now();
    }
    state.touch();
    let version = state.version;
    if let Some(record) = find_mut(R::records_mut(&mut state), &sid) {
        record.set_revision(version);
    }
    R::count_updated(&mut state.counters);
    let record = attributed_at::<R>(&state, &sid, &ctx.path)?;
    Ok(json_response(
        StatusCode::OK,
        &record.to_json(&ctx.base, &ctx.app.account_sid),
    ))
}

fn refuse_if_assigned(state: &State, resource: &str, sid: &str) -> Result<(), ApiError> {
    let holders = state.bundles_holding(sid);
    if holders.is_empty() {
        Ok(())
    } else {
        Err(ApiError::bad_request(format!(
            "{resource} {sid} is assigned to {}; delete those entity assignments first",
            holders.join(", ")
        )))
    }
}

async fn delete_attributed<R: Attributed>(ctx: Ctx, Path(sid): Path<String>) -> Reply {
    let mut state = lock(&ctx.app.state);
    attributed_at::<R>(&state, &sid, &ctx.path)?;
    refuse_if_assigned(&state, R::RESOURCE, &sid)?;
    R::records_mut(&mut state).retain(|r| r.sid() != sid);
    state.touch();
    Ok(no_content())
}

// ---------------------------------------------------------------------------------------------------------
// Policies and types (read-only catalog)
// ---------------------------------------------------------------------------------------------------------

/// A policy as a listable record (its position orders the list).
struct PolicyItem {
    seq: u64,
    sid: &'static str,
    policy: &'static Policy,
}

impl Record for PolicyItem {
    fn seq(&self) -> u64 {
        self.seq
    }
    fn sid(&self) -> &str {
        self.sid
    }
}

async fn list_policies(ctx: Ctx) -> Reply {
    let list = ListRequest::parse(&ctx, &[])?;
    let items: Vec<PolicyItem> = POLICIES
        .iter()
        .enumerate()
        .map(|(i, policy)| PolicyItem {
            seq: i as u64,
            sid: policy.sid,
            policy,
        })
        .collect();
    list.reply(
        &ctx,
        "results",
        items.iter().collect(),
        |sid| items.iter().find(|p| p.sid == sid).map(|p| p.seq),
        |p| policy_json(&ctx.base, p.policy),
    )
}

async fn fetch_policy(ctx: Ctx, Path(sid): Path<String>) -> Reply {
    let policy = catalog::policy(&sid).ok_or_else(|| ApiError::not_found(&ctx.path))?;
    Ok(json_response(
        StatusCode::OK,
        &policy_body(&ctx.base, policy),
    ))
}

async fn list_end_user_types(ctx: Ctx) -> Reply {
    let list = ListRequest::parse(&ctx, &[])?;
    let state = lock(&ctx.app.state);
    let items: Vec<&TypeRecord> = state.end_user_types.iter().collect();
    list_reply(&ctx, &state, &list, "end_user_types", items, |t| {
        type_json(&ctx.base, "EndUserTypes", t)
    })
}

/// A type by `OY` SID or by machine name (policies link to `/EndUserTypes/<machine_name>`).
fn type_at<'a>(types: &'a [TypeRecord], key: &str, path: &str) -> Result<&'a TypeRecord, ApiError> {
    types
        .iter()
        .find(|t| t.sid == key || t.def.machine_name == key)
        .ok_or_else(|| ApiError::not_found(path))
}

async fn fetch_end_user_type(ctx: Ctx, Path(sid): Path<String>) -> Reply {
    let state = lock(&ctx.app.state);
    let t = type_at(&state.end_user_types, &sid, &ctx.path)?;
    Ok(json_response(
        StatusCode::OK,
        &type_json(&ctx.base, "EndUserTypes", t),
    ))
}

async fn list_document_types(ctx: Ctx) -> Reply {
    let list = ListRequest::parse(&ctx, &[])?;
    let state = lock(&ctx.app.state);
    let items: Vec<&TypeRecord> = state.document_types.iter().collect();
    list_reply(
        &ctx,
        &state,
        &list,
        "supporting_document_types",
        items,
        |t| type_json(&ctx.base, "SupportingDocumentTypes", t),
    )
}

async fn fetch_document_type(ctx: Ctx, Path(sid): Path<String>) -> Reply {
    let state = lock(&ctx.app.state);
    let t = type_at(&state.document_types, &sid, &ctx.path)?;
    Ok(json_response(
        StatusCode::OK,
        &type_json(&ctx.base, "SupportingDocumentTypes", t),
    ))
}
