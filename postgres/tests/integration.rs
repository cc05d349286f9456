//! trusthub-postgres against real PostgreSQL servers: each test starts a throwaway cluster of
//! its own (`support::Cluster`), so tests run in parallel without sharing a database.

mod support;

mod budget;
mod conformance;
mod flow;
mod harness;
mod leases;
mod migrations;
mod privacy;
mod queue;
mod tls;
