//! `trusthub-emulator`: runs the Trust Hub (and Messaging A2P 10DLC) emulator on 127.0.0.1 until
//! Ctrl-C. The same flags as `trusthub emulator` ([`trusthub_emulator::cli::EmulatorArgs`]):
//!
//! ```text
//! cargo run -p trusthub-emulator -- --port 4010 [--seed N] [--latency-ms MS] [--answer-latency-ms MS]
//!     [--approve-after MS] [--event-sink URL] [--account-concurrency-limit N] [--json]
//! ```
//!
//! Prints the base URL, the (test) credentials, the primary profile SID and the phone number SIDs.

use std::process::ExitCode;

use clap::Parser;
use trusthub_emulator::cli::{serve, EmulatorArgs};

/// The Trust Hub (and Messaging A2P 10DLC) emulator, on 127.0.0.1 until Ctrl-C.
#[derive(Debug, Parser)]
#[command(name = "trusthub-emulator", version)]
struct Cli {
    #[command(flatten)]
    args: EmulatorArgs,
    /// Print the base URL and credentials as one JSON object.
    #[arg(long)]
    json: bool,
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let stop = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            eprintln!("error: cannot wait for Ctrl-C: {error}");
        }
    };
    match serve(&cli.args, cli.json, stop).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: cannot start the emulator: {error}");
            ExitCode::FAILURE
        }
    }
}
