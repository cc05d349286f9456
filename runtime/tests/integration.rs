//! The runtime's tests against local servers.
//!
//! One test binary (one link) for these suites; each module is one file of this directory.
//! Suites that install a process-wide tracing subscriber or change the environment keep binaries
//! of their own.

mod common;

mod pagination;
mod transport;
