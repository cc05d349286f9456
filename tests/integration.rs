//! The facade's integration tests.
//!
//! One test binary (one link) for these suites; each module is one file of this directory.
//! Suites that install a process-wide tracing subscriber or change the environment keep binaries
//! of their own.

mod fixtures;
mod support;

mod a2p;
mod attributes;
mod bad_input;
mod client;
mod emulator_generated;
mod flow;
mod generated_wire;
mod hostile_server;
mod journal;
mod limiter;
mod policy_check;
mod resubmit;
mod sid_props;
mod signature;
mod voice;
mod watch;
mod webhook;
