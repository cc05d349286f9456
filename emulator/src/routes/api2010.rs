//! The 2010 API's Addresses (create, list, fetch, update, delete) and IncomingPhoneNumbers (list, fetch of
//! the seeded numbers). Dates are RFC 2822; list links are relative URIs. A path naming another account
//! (or a malformed Account SID) is 404, as is any resource path not ending in `.json`.

use axum::body::Bytes;
use axum::extract::Path;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde_json::{json, Value};

use super::{list_reply, Ctx, ListRequest};
use crate::sid;
use crate::state::{find, find_mut, lock, Address, App, PhoneNumber, State};
use crate::wire::{self, check_iso_country, json_response, parse_bool, ApiError, Params};

type Reply = Result<Response, ApiError>;

/// Longest `FriendlyName` of an address (the spec: "up to 64 characters").
const FRIENDLY_NAME_MAX: usize = 64;

/// The 2010 routes (state not yet applied).
pub(crate) fn routes() -> Router<App> {
    Router::new()
        .route(
            "/2010-04-01/Accounts/{account}/Addresses.json",
            get(list_addresses).post(create_address),
        )
        .route(
            "/2010-04-01/Accounts/{account}/Addresses/{file}",
            get(fetch_address)
                .post(update_address)
                .delete(delete_address),
        )
        .route(
            "/2010-04-01/Accounts/{account}/IncomingPhoneNumbers.json",
            get(list_phone_numbers),
        )
        .route(
            "/2010-04-01/Accounts/{account}/IncomingPhoneNumbers/{file}",
            get(fetch_phone_number),
        )
}

/// The path's account must be the configured one.
fn check_account(ctx: &Ctx, account: &str) -> Result<(), ApiError> {
    if account == ctx.app.account_sid {
        Ok(())
    } else {
        Err(ApiError::not_found(&ctx.path))
    }
}

/// `<SID>.json` -> the SID, if it has the prefix's shape.
fn sid_of_file<'a>(ctx: &Ctx, file: &'a str, prefix: &str) -> Result<&'a str, ApiError> {
    file.strip_suffix(".json")
        .filter(|sid| sid::has_prefix_shape(sid, prefix))
        .ok_or_else(|| ApiError::not_found(&ctx.path))
}

fn address_uri(account_sid: &str, sid: &str) -> String {
    format!("/2010-04-01/Accounts/{account_sid}/Addresses/{sid}.json")
}

fn address_json(account_sid: &str, a: &Address) -> Value {
    json!({
        "account_sid": account_sid,
        "city": a.city,
        "customer_name": a.customer_name,
        "date_created": wire::rfc2822(a.date_created),
        "date_updated": wire::rfc2822(a.date_updated),
        "emergency_enabled": a.emergency_enabled,
        "friendly_name": a.friendly_name,
        "iso_country": a.iso_country,
        "postal_code": a.postal_code,
        "region": a.region,
        "sid": a.sid,
        "street": a.street,
        "street_secondary": a.street_secondary,
        "validated": false,
        "verified": false,
        "uri": address_uri(account_sid, &a.sid),
    })
}

/// A seeded number as the spec's `api.v2010.account.incoming_phone_number` schema has it. Twilio's own
/// example shows `""` for unset SIDs and URLs and a `subresource_uris` key, both of which that schema
/// refuses (`^AP[0-9a-fA-F]{32}$`, `format: uri`, no such property); the emulator follows the schema:
/// unset values are `null` and only the schema's keys are sent (`tests/spec_conformance.rs`).
fn phone_number_json(account_sid: &str, n: &PhoneNumber) -> Value {
    let uri = format!(
        "/2010-04-01/Accounts/{account_sid}/IncomingPhoneNumbers/{}.json",
        n.sid
    );
    json!({
        "account_sid": account_sid,
        "address_requirements": "none",
        "address_sid": Value::Null,
        "api_version": "2010-04-01",
        "beta": false,
        "capabilities": {"voice": true, "sms": true, "mms": true, "fax": false},
        "date_created": wire::rfc2822(n.date_created),
        "date_updated": wire::rfc2822(n.date_created),
        "emergency_status": "Inactive",
        "emergency_address_sid": Value::Null,
        "emergency_address_status": "unregistered",
        "friendly_name": n.friendly_name,
        "identity_sid": Value::Null,
        "origin": "twilio",
        "phone_number": n.phone_number,
        "sid": n.sid,
        "sms_application_sid": Value::Null,
        "sms_fallback_method": "POST",
        "sms_fallback_url": Value::Null,
        "sms_method": "POST",
        "sms_url": Value::Null,
        "status_callback": Value::Null,
        "status_callback_method": "POST",
        "trunk_sid": Value::Null,
        "uri": uri,
        "voice_application_sid": Value::Null,
        "voice_caller_id_lookup": false,
        "voice_fallback_method": "POST",
        "voice_fallback_url": Value::Null,
        "voice_method": "POST",
        "voice_url": Value::Null,
        "voice_receive_mode": "voice",
        "status": "in-use",
        "bundle_sid": Value::Null,
    })
}

fn check_friendly_name(value: &str) -> Result<(), ApiError> {
    let n = value.chars().count();
    if n > FRIENDLY_NAME_MAX {
        Err(ApiError::invalid(
            "FriendlyName",
            format!("must be at most {FRIENDLY_NAME_MAX} characters, received {n}"),
        ))
    } else {
        Ok(())
    }
}

async fn list_addresses(ctx: Ctx, Path(account): Path<String>) -> Reply {
    check_account(&ctx, &account)?;
    let list = ListRequest::parse(
        &ctx,
        &[
            "CustomerName",
            "FriendlyName",
            "EmergencyEnabled",
            "IsoCountry",
        ],
    )?;
    let emergency = match list.filter("EmergencyEnabled") {
        Some(v) => Some(parse_bool("EmergencyEnabled", v)?),
        None => None,
    };
    if let Some(country) = list.filter("IsoCountry") {
        check_iso_country("IsoCountry", country)?;
    }
    let customer_name = list.filter("CustomerName");
    let friendly_name = list.filter("FriendlyName");
    let iso_country = list.filter("IsoCountry");
    let state = lock(&ctx.app.state);
    let items: Vec<&Address> = state
        .addresses
        .iter()
        .filter(|a| customer_name.is_none_or(|c| a.customer_name == c))
        .filter(|a| friendly_name.is_none_or(|f| a.friendly_name.as_deref() == Some(f)))
        .filter(|a| emergency.is_none_or(|e| a.emergency_enabled == e))
        .filter(|a| iso_country.is_none_or(|c| a.iso_country == c))
        .collect();
    let account = ctx.app.account_sid.clone();
    list_reply(&ctx, &state, &list, "addresses", items, |a| {
        address_json(&account, a)
    })
}

async fn create_address(
    ctx: Ctx,
    Path(account): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Reply {
    check_account(&ctx, &account)?;
    let params = Params::from_body(&headers, &body)?;
    let customer_name = params.required("CustomerName")?;
    let street = params.required("Street")?;
    let city = params.required("City")?;
    let region = params.required("Region")?;
    let postal_code = params.required("PostalCode")?;
    let iso_country = params.required("IsoCountry")?;
    check_iso_country("IsoCountry", iso_country)?;
    let friendly_name = params.get("FriendlyName").filter(|s| !s.is_empty());
    if let Some(name) = friendly_name {
        check_friendly_name(name)?;
    }
    let emergency_enabled = match params.get("EmergencyEnabled") {
        Some(v) => parse_bool("EmergencyEnabled", v)?,
        None => false,
    };
    if let Some(v) = params.get("AutoCorrectAddress") {
        parse_bool("AutoCorrectAddress", v)?;
    }
    let street_secondary = params.get("StreetSecondary").filter(|s| !s.is_empty());

    let mut state = lock(&ctx.app.state);
    let (seq, sid) = state.mint("AD");
    let now = wire::now();
    state.addresses.push(Address {
        seq,
        sid: sid.clone(),
        customer_name: customer_name.to_owned(),
        street: street.to_owned(),
        street_secondary: street_secondary.map(str::to_owned),
        city: city.to_owned(),
        region: region.to_owned(),
        postal_code: postal_code.to_owned(),
        iso_country: iso_country.to_owned(),
        friendly_name: friendly_name.map(str::to_owned),
        emergency_enabled,
        date_created: now,
        date_updated: now,
        revision: 0,
    });
    state.counters.addresses += 1;
    let address = find(&state.addresses, &sid).ok_or_else(ApiError::internal)?;
    Ok(json_response(
        StatusCode::CREATED,
        &address_json(&ctx.app.account_sid, address),
    ))
}

fn address_at<'a>(state: &'a State, sid: &str, path: &str) -> Result<&'a Address, ApiError> {
    find(&state.addresses, sid).ok_or_else(|| ApiError::not_found(path))
}

async fn fetch_address(ctx: Ctx, Path((account, file)): Path<(String, String)>) -> Reply {
    check_account(&ctx, &account)?;
    let sid = sid_of_file(&ctx, &file, "AD")?;
    let state = lock(&ctx.app.state);
    let address = address_at(&state, sid, &ctx.path)?;
    Ok(json_response(
        StatusCode::OK,
        &address_json(&ctx.app.account_sid, address),
    ))
}

async fn update_address(
    ctx: Ctx,
    Path((account, file)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Reply {
    check_account(&ctx, &account)?;
    let sid = sid_of_file(&ctx, &file, "AD")?.to_owned();
    let params = Params::from_body(&headers, &body)?;
    let customer_name = params.non_blank("CustomerName")?;
    let street = params.non_blank("Street")?;
    let city = params.non_blank("City")?;
    let region = params.non_blank("Region")?;
    let postal_code = params.non_blank("PostalCode")?;
    let friendly_name = params.get("FriendlyName");
    if let Some(name) = friendly_name {
        check_friendly_name(name)?;
    }
    let emergency_enabled = match params.get("EmergencyEnabled") {
        Some(v) => Some(parse_bool("EmergencyEnabled", v)?),
        None => None,
    };
    if let Some(v) = params.get("AutoCorrectAddress") {
        parse_bool("AutoCorrectAddress", v)?;
    }
    let street_secondary = params.get("StreetSecondary");

    let mut state = lock(&ctx.app.state);
    address_at(&state, &sid, &ctx.path)?;
    if let Some(address) = find_mut(&mut state.addresses, &sid) {
        let set = |slot: &mut String, value: Option<&str>| {
            if let Some(v) = value {
                *slot = v.to_owned();
            }
        };
        set(&mut address.customer_name, customer_name);
        set(&mut address.street, street);
        set(&mut address.city, city);
        set(&mut address.region, region);
        set(&mut address.postal_code, postal_code);
        if let Some(name) = friendly_name {
            address.friendly_name = Some(name.to_owned()).filter(|n| !n.is_empty());
        }
        if let Some(secondary) = street_secondary {
            address.street_secondary = Some(secondary.to_owned()).filter(|s| !s.is_empty());
        }
        if let Some(e) = emergency_enabled {
            address.emergency_enabled = e;
        }
        address.date_updated = wire::now();
    }
    state.touch();
    let version = state.version;
    if let Some(address) = find_mut(&mut state.addresses, &sid) {
        address.revision = version;
    }
    state.counters.address_updates += 1;
    let address = address_at(&state, &sid, &ctx.path)?;
    Ok(json_response(
        StatusCode::OK,
        &address_json(&ctx.app.account_sid, address),
    ))
}

async fn delete_address(ctx: Ctx, Path((account, file)): Path<(String, String)>) -> Reply {
    check_account(&ctx, &account)?;
    let sid = sid_of_file(&ctx, &file, "AD")?.to_owned();
    let mut state = lock(&ctx.app.state);
    address_at(&state, &sid, &ctx.path)?;
    state.addresses.retain(|a| a.sid != sid);
    state.touch();
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `PhoneNumber` filter: a substring of the number, `*` matching any one character.
fn number_matches(number: &str, pattern: &str) -> bool {
    let number: Vec<char> = number.chars().collect();
    let pattern: Vec<char> = pattern.chars().collect();
    if pattern.len() > number.len() {
        return false;
    }
    number.windows(pattern.len()).any(|window| {
        window
            .iter()
            .zip(&pattern)
            .all(|(n, p)| *p == '*' || n == p)
    })
}

async fn list_phone_numbers(ctx: Ctx, Path(account): Path<String>) -> Reply {
    check_account(&ctx, &account)?;
    let list = ListRequest::parse(&ctx, &["Beta", "FriendlyName", "PhoneNumber", "Origin"])?;
    if let Some(beta) = list.filter("Beta") {
        parse_bool("Beta", beta)?;
    }
    let friendly_name = list.filter("FriendlyName");
    let number = list.filter("PhoneNumber");
    let origin = list.filter("Origin");
    let state = lock(&ctx.app.state);
    let items: Vec<&PhoneNumber> = state
        .phone_numbers
        .iter()
        .filter(|n| friendly_name.is_none_or(|f| n.friendly_name == f))
        .filter(|n| number.is_none_or(|p| number_matches(&n.phone_number, p)))
        .filter(|_| origin.is_none_or(|o| o == "twilio"))
        .collect();
    let account = ctx.app.account_sid.clone();
    list_reply(&ctx, &state, &list, "incoming_phone_numbers", items, |n| {
        phone_number_json(&account, n)
    })
}

async fn fetch_phone_number(ctx: Ctx, Path((account, file)): Path<(String, String)>) -> Reply {
    check_account(&ctx, &account)?;
    let sid = sid_of_file(&ctx, &file, "PN")?;
    let state = lock(&ctx.app.state);
    let number = find(&state.phone_numbers, sid).ok_or_else(|| ApiError::not_found(&ctx.path))?;
    Ok(json_response(
        StatusCode::OK,
        &phone_number_json(&ctx.app.account_sid, number),
    ))
}

#[cfg(test)]
mod tests {
    use super::number_matches;

    #[test]
    fn phone_number_patterns() {
        assert!(number_matches("+15555550001", "5550001"));
        assert!(number_matches("+15555550001", "+1555*550001"));
        assert!(!number_matches("+15555550001", "999"));
    }
}
