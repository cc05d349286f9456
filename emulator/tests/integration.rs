//! The emulator's tests over HTTP.
//!
//! One test binary (one link) for these suites; each module is one file of this directory.
//! Suites that install a process-wide tracing subscriber or change the environment keep binaries
//! of their own.

mod common;

mod account_limit;
mod api;
mod deliveries;
mod faults;
mod flow;
mod messaging;
mod review;
mod spec_conformance;
