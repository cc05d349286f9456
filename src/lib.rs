//! Rust client for Twilio Trust Hub: Secondary Customer Profiles for ISVs.
//!
//! - [`Client`]: credentials (auth token or API key), edge/region hosts, timeouts, retries that
//!   never repeat a POST Twilio may have processed, tracing without secrets or personal data.
//!   It dereferences to the generated client ([`api`]), so every Trust Hub operation is a
//!   method: `client.customer_profiles().create(..)`, `client.policies().list().into_stream()`.
//! - [`flow`]: the Secondary Customer Profile as one validated, concurrent, resumable
//!   operation ([`SecondaryProfile`]), with readable [`evaluation`]s.
//! - [`sid`]: one type per SID kind (`CustomerProfileSid`, `PolicySid`, ...), validated,
//!   `Copy`, plus the well-known [`sid::policies`];
//! - [`attributes`]: typed business information, authorized representatives and address,
//!   their exact wire attributes, and local validation reporting every problem at once
//!   without echoing personal data;
//! - [`signature`]: checking the signature of status callbacks and reading their events;
//! - [`webhook`]: the handler of status callbacks and Event Streams deliveries: verified,
//!   deduplicated, typed events, for any HTTP server (`trusthub-axum` mounts it in axum).
//!
//! ```
//! use trusthub::attributes::{AuthorizedRepresentative, JobPosition, Validate};
//! use trusthub::sid::{policies, PolicySid};
//!
//! let policy: PolicySid = "RNdfbf3fae0e1107f8aded0e7cead80bf5".parse()?;
//! assert_eq!(policy, policies::SECONDARY_CUSTOMER_PROFILE);
//!
//! let rep = AuthorizedRepresentative {
//!     first_name: "rep1".into(),
//!     last_name: "acme".into(),
//!     email: "rep1@acme.com".into(),
//!     phone_number: "123-456-7890".into(), // not E.164
//!     business_title: "ceo".into(),
//!     job_position: JobPosition::Ceo,
//! };
//! let errors = rep.validate().unwrap_err();
//! assert_eq!(errors.fields().collect::<Vec<_>>(), ["representative_1.phone_number"]);
//! assert!(!errors.to_string().contains("123-456-7890"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![warn(missing_docs)]

pub mod attributes;
pub mod client;
pub use trusthub_generated::runtime::sid;
pub mod signature;
pub mod webhook;

pub use client::{Client, ClientBuilder, ConfigError};
pub use trusthub_generated as api;
pub use trusthub_generated::runtime::{
    ApiError, Error, ErrorKind, Processed, RetryPolicy, TransportErrorKind,
};
pub mod evaluation;
pub mod flow;
pub mod watch;

pub use flow::{FlowError, FlowOptions, FlowReport, SecondaryProfile, Submission};

/// The README's Rust examples, compiled and run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
