//! The HTTP surface: Trust Hub v1, the 2010 API's Addresses and IncomingPhoneNumbers, and the control
//! endpoints under `/__emulator/`.
//!
//! API routes sit behind Basic authentication; an unknown path is 404 (code 20404) and a known path with
//! the wrong method 405 (code 20004). The control endpoints need no credentials.

use std::convert::Infallible;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, Uri};
use axum::middleware;
use axum::Router;

use crate::auth;
use crate::state::App;
use crate::wire::{ApiError, PageRequest, Params};

pub(crate) mod api2010;
pub(crate) mod control;
pub(crate) mod trusthub;

/// The whole router, state applied.
pub(crate) fn router(app: App) -> Router {
    let api = trusthub::routes()
        .merge(api2010::routes())
        .method_not_allowed_fallback(method_not_allowed)
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(
            app.clone(),
            auth::require_auth,
        ));
    control::routes().merge(api).with_state(app)
}

async fn not_found(uri: Uri) -> ApiError {
    ApiError::not_found(uri.path())
}

async fn method_not_allowed() -> ApiError {
    ApiError::method_not_allowed()
}

/// What every handler needs from the request line and headers.
pub(crate) struct Ctx {
    pub app: App,
    /// `http://HOST` from the request's `Host` header, or the bound address.
    pub base: String,
    pub path: String,
    pub query: Option<String>,
}

fn plausible_host(host: &str) -> bool {
    !host.is_empty()
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'))
}

impl FromRequestParts<App> for Ctx {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Self, Self::Rejection> {
        let base = parts
            .headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .filter(|h| plausible_host(h))
            .map(|h| format!("http://{h}"))
            .unwrap_or_else(|| app.fallback_base());
        Ok(Ctx {
            app: app.clone(),
            base,
            path: parts.uri.path().to_owned(),
            query: parts.uri.query().map(str::to_owned),
        })
    }
}

/// A list request: its query parameters, its page, and the filters it sent (echoed in page links).
pub(crate) struct ListRequest {
    pub params: Params,
    pub page: PageRequest,
    pub filters: Vec<(&'static str, String)>,
}

impl ListRequest {
    /// Parses the query; `filter_names` are the spec's filters for this list, in the spec's order.
    pub fn parse(ctx: &Ctx, filter_names: &[&'static str]) -> Result<Self, ApiError> {
        let params = Params::from_query(ctx.query.as_deref())?;
        let page = PageRequest::from_params(&params)?;
        let filters = filter_names
            .iter()
            .filter_map(|name| params.get(name).map(|v| (*name, v.to_owned())))
            .collect();
        Ok(ListRequest {
            params,
            page,
            filters,
        })
    }

    /// A filter's value when sent non-empty.
    pub fn filter(&self, name: &str) -> Option<&str> {
        self.params.get(name).filter(|v| !v.is_empty())
    }
}
