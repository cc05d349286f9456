//! HTTP runtime and vocabulary of the generated Twilio Trust Hub client.
//!
//! What a user of the client meets: the one [`Error`] (with [`ErrorKind`], the decoded error
//! answer [`ApiError`] and [`Processed`], the answer to "was it processed?"), typed SIDs
//! ([`sid`]), open string enums ([`StringEnum`]), the [`RetryPolicy`], the [`Transport`]
//! (credentials, hosts, timeouts, retries), and what a request builder gives: its [`Request`]
//! (`to_request()`), an [`Answer`] with the status and `Twilio-Request-Id`
//! (`send_with_answer()`), an [`ItemStream`] of a list's items across pages (`into_stream()`).
//!
//! Everything else here is support for the generated code (decoding, pagination, parameter
//! checks, serde helpers): public only so that the generated crate can call it, hidden from
//! these docs and free to change. No type of the HTTP client (reqwest, http) is public.
//!
//! ```no_run
//! use trusthub_runtime::{Credentials, ErrorKind, Transport};
//!
//! # fn demo() -> Result<(), trusthub_runtime::Error> {
//! let transport = Transport::builder()
//!     .credentials(Credentials::auth_token("AC0123456789abcdef0123456789abcdef", "token"))
//!     .build()?;
//! assert_eq!(transport.account_sid(), "AC0123456789abcdef0123456789abcdef");
//! let error = Transport::builder().build().unwrap_err();
//! assert_eq!(error.kind(), ErrorKind::Config);
//! # Ok(()) }
//! ```

#![warn(missing_docs)]

// The public vocabulary: errors, SIDs, open enums, retries, the transport and what a request
// builder gives (a `Request`, an `Answer`, an `ItemStream`). What only the generated code calls
// (serde helpers, pagination, decoding, parameter checks) is `#[doc(hidden)]`: not part of the
// documented API, free to change. No type of the HTTP client (reqwest, http) is public.

mod credentials;
#[doc(hidden)]
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
#[doc(hidden)]
pub mod text;
mod transport;
#[doc(hidden)]
pub mod user_agent;
#[doc(hidden)]
pub mod validate;

// Types of these crates appear in generated models (JSON values, dates) and derives.
#[doc(hidden)]
pub use serde;
pub use serde_json;
pub use time;

pub use credentials::Credentials;
#[doc(hidden)]
pub use date::{iso8601_option, rfc2822_option};
pub use enum_value::StringEnum;
pub use error::{
    ApiError, Error, ErrorKind, Processed, TransportErrorKind, TOO_MANY_REQUESTS_CODE,
};
#[doc(hidden)]
pub use form::percent_encode;
pub use form::FormBody;
pub use hosts::Hosts;
#[doc(hidden)]
pub use operation::encode_path_param;
pub use operation::{HttpMethod, Operation, Request};
#[doc(hidden)]
pub use page::{error_stream, paginate};
pub use page::{ItemStream, ListMeta, Page};
pub use response::Answer;
#[doc(hidden)]
pub use response::{decode_answer, decode_json, Response};
pub use retry::RetryPolicy;
pub use secret::Secret;
/// What `Debug` shows in place of a redacted value.
pub const REDACTED: &str = "[redacted]";

pub use transport::{
    Transport, TransportBuilder, DEFAULT_CONNECT_TIMEOUT, DEFAULT_MAX_RESPONSE_BYTES,
    DEFAULT_TIMEOUT,
};
