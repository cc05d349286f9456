//! HTTP runtime of the generated Twilio Trust Hub client.
//!
//! The generated crate describes each API operation as a static [`Operation`], builds a
//! [`Request`] per call (path, query, [`FormBody`]) and hands it to a [`Transport`], which
//! authenticates, sends, retries (see [`retry`]), bounds and decodes answers ([`decode_json`],
//! [`ApiError`]) and streams lists across pages ([`paginate`]). Serde helpers for Twilio's dates
//! ([`date`]) and open string enums ([`StringEnum`], [`string_enum_impls!`]) and client-side
//! checks ([`validate`]) complete it.
//!
//! ```no_run
//! use trusthub_runtime::{decode_json, Credentials, HttpMethod, Operation, Request, Transport};
//!
//! static FETCH_POLICY: Operation = Operation {
//!     id: "FetchPolicy",
//!     method: HttpMethod::Get,
//!     base_url: "https://trusthub.twilio.com",
//!     path_template: "/v1/Policies/{Sid}",
//! };
//!
//! # async fn demo() -> Result<(), trusthub_runtime::Error> {
//! let transport = Transport::builder()
//!     .credentials(Credentials::auth_token("AC0123456789abcdef0123456789abcdef", "token"))
//!     .build()?;
//! let sid = "RNdfbf3fae0e1107f8aded0e7cead80bf5";
//! let _: trusthub_runtime::sid::PolicySid = trusthub_runtime::validate::sid(FETCH_POLICY.id, "Sid", sid)?;
//! let path = format!("/v1/Policies/{}", trusthub_runtime::encode_path_param(sid));
//! let response = transport.execute(Request::new(&FETCH_POLICY, path)).await?;
//! let policy: serde_json::Value = decode_json(&FETCH_POLICY, &response)?;
//! # let _ = policy; Ok(()) }
//! ```

#![warn(missing_docs)]

mod credentials;
pub mod date;
pub mod enum_value;
mod error;
mod form;
mod hosts;
mod operation;
mod page;
mod response;
pub mod retry;
mod secret;
pub mod sid;
pub mod text;
mod transport;
pub mod user_agent;
pub mod validate;

pub use futures_core;
pub use reqwest;
pub use serde;
pub use serde_json;
pub use time;

pub use credentials::Credentials;
pub use date::{iso8601_option, rfc2822_option};
pub use enum_value::StringEnum;
pub use error::{
    ApiError, Error, ErrorKind, Processed, TransportErrorKind, TOO_MANY_REQUESTS_CODE,
};
pub use form::{percent_encode, FormBody};
pub use hosts::Hosts;
pub use operation::{encode_path_param, HttpMethod, Operation, Request};
pub use page::{error_stream, paginate, ItemStream, ListMeta, Page};
pub use response::{decode_json, Response};
pub use retry::RetryPolicy;
pub use secret::Secret;
/// What `Debug` shows in place of a redacted value.
pub const REDACTED: &str = "[redacted]";

pub use transport::{
    Transport, TransportBuilder, DEFAULT_CONNECT_TIMEOUT, DEFAULT_MAX_RESPONSE_BYTES,
    DEFAULT_TIMEOUT,
};
