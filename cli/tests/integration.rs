//! The `trusthub` command's tests: it is run as a process against an emulator in the test process.
//!
//! One test binary (one link) for these suites; each module is one file of this directory.
//! Suites that install a process-wide tracing subscriber or change the environment keep binaries
//! of their own.

mod support;

mod a2p;
mod crash;
mod credentials;
mod fix;
mod onboard;
mod output;
mod profile;
mod voice;
mod workers;
