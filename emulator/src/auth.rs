//! HTTP Basic authentication: the account's SID and auth token, or the configured API key (`SK...` SID and
//! secret) acting on that account. Anything else is 401 with code 20003. Messages never echo what was
//! sent.

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine as _;

use crate::state::App;
use crate::wire::ApiError;

/// Compares two strings in time independent of where they differ.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// Checks the `Authorization` header.
pub(crate) fn check(app: &App, headers: &HeaderMap) -> Result<(), ApiError> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Err(ApiError::unauthorized(
            "Authentication Error - No credentials provided",
        ));
    };
    let invalid = || ApiError::unauthorized("Authentication Error - invalid username or password");
    let text = value.to_str().map_err(|_| invalid())?;
    let (scheme, encoded) = text.split_once(' ').ok_or_else(invalid)?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return Err(ApiError::unauthorized(
            "Authentication Error - only HTTP Basic authentication is accepted",
        ));
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .map_err(|_| invalid())?;
    let decoded = String::from_utf8(decoded).map_err(|_| invalid())?;
    let (user, password) = decoded.split_once(':').ok_or_else(invalid)?;
    let account = same(user, &app.account_sid) && same(password, &app.auth_token);
    let key = app
        .api_key
        .as_ref()
        .is_some_and(|k| same(user, &k.sid) && same(password, &k.secret));
    if account || key {
        Ok(())
    } else {
        Err(invalid())
    }
}

/// Middleware guarding every API route (not the control endpoints).
pub(crate) async fn require_auth(State(app): State<App>, request: Request, next: Next) -> Response {
    match check(&app, request.headers()) {
        Ok(()) => next.run(request).await,
        Err(error) => error.into_response(),
    }
}
