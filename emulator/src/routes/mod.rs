//! The HTTP surface: Trust Hub v1, the 2010 API's Addresses and IncomingPhoneNumbers, Messaging v1's A2P
//! 10DLC resources, and the control endpoints under `/__emulator/`.
//!
//! API routes sit behind Basic authentication; an unknown path is 404 (code 20404) and a known path with
//! the wrong method 405 (code 20004). The control endpoints need no credentials.

use std::convert::Infallible;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, StatusCode, Uri};
use axum::middleware;
use axum::response::Response;
use axum::Router;
use serde_json::Value;

use crate::auth;
use crate::state::{App, State};
use crate::wire::{
    api2010_envelope, json_response, page_links, paginate, trusthub_envelope, ApiError,
    PageRequest, Params, Record,
};

pub(crate) mod api2010;
pub(crate) mod control;
pub(crate) mod messaging;
pub(crate) mod trusthub;

/// The largest request body accepted (413 beyond, in Twilio's error shape).
pub(crate) const MAX_BODY_BYTES: usize = 1024 * 1024;

/// The whole router, state applied.
pub(crate) fn router(app: App) -> Router {
    let api = trusthub::routes()
        .merge(api2010::routes())
        .merge(messaging::routes())
        .method_not_allowed_fallback(method_not_allowed)
        .fallback(not_found)
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY_BYTES))
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

    /// Serves the requested page of `items` (`seq_of` resolves page tokens), each item rendered by
    /// `render`, in the list envelope of the API the request's path belongs to.
    pub fn reply<T: Record>(
        &self,
        ctx: &Ctx,
        key: &str,
        items: Vec<&T>,
        seq_of: impl Fn(&str) -> Option<u64>,
        render: impl Fn(&T) -> Value,
    ) -> Result<Response, ApiError> {
        let style = ListStyle::of(&ctx.path);
        let prefix = match style {
            ListStyle::TrustHub => format!("{}{}", ctx.base, ctx.path),
            ListStyle::Api2010 => ctx.path.clone(),
        };
        let page = paginate(items, &self.page, seq_of)?;
        let links = page_links(&prefix, &self.filters, &self.page, &page);
        let values = page.items.iter().map(|item| render(item)).collect();
        let body = match style {
            ListStyle::TrustHub => trusthub_envelope(key, values, &self.page, links),
            ListStyle::Api2010 => api2010_envelope(key, values, &self.page, page.start, links),
        };
        Ok(json_response(StatusCode::OK, &body))
    }
}

/// The two list conventions.
#[derive(Clone, Copy)]
enum ListStyle {
    /// Trust Hub v1 and Messaging v1: absolute page URLs in a `meta` object.
    TrustHub,
    /// The 2010 API: page URIs relative to the host, beside `start` and `end`.
    Api2010,
}

impl ListStyle {
    /// The 2010 API's paths start with `/2010-04-01/`; every other list (Trust Hub's, Messaging's) has the
    /// `meta` envelope.
    fn of(path: &str) -> Self {
        if path.starts_with("/2010-04-01/") {
            ListStyle::Api2010
        } else {
            ListStyle::TrustHub
        }
    }
}

/// Serves the requested page of state records (see [`ListRequest::reply`]).
pub(crate) fn list_reply<T: Record>(
    ctx: &Ctx,
    state: &State,
    list: &ListRequest,
    key: &str,
    items: Vec<&T>,
    render: impl Fn(&T) -> Value,
) -> Result<Response, ApiError> {
    list.reply(ctx, key, items, |sid| state.seq_of(sid), render)
}
