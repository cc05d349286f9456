//! `trusthub-emulator`: runs the Trust Hub (and Messaging A2P 10DLC) emulator on 127.0.0.1 until Ctrl-C.
//!
//! ```text
//! cargo run -p trusthub-emulator -- --port 4010 [--seed N] [--latency-ms N] [--auto-approve-ms N]
//!     [--event-sink URL] [--account-concurrency-limit N]
//! ```
//!
//! Prints the base URL, the (test) credentials, the primary profile SID and the phone number SIDs.

use std::process::ExitCode;
use std::time::Duration;

use trusthub_emulator::{start, Decision, EmulatorConfig, Faults};

const USAGE: &str = "\
usage: trusthub-emulator [--port N] [--seed N] [--latency-ms N] [--auto-approve-ms N] [--event-sink URL]
                         [--account-concurrency-limit N]

  --port N             port on 127.0.0.1 (default 0: a free port)
  --seed N             seed of SIDs and fault draws (default 0)
  --latency-ms N       fixed latency added to every API request (default 0)
  --auto-approve-ms N  approve every bundle N ms after it enters in-review, and every A2P brand
                       registration and campaign N ms after it enters PENDING / IN_PROGRESS
                       (default: never; mock brands and campaigns are approved after 50 ms)
  --event-sink URL     POST A2P brand and campaign decisions there as Event Streams CloudEvents
                       (a loopback URL; default: none)
  --account-concurrency-limit N
                       at most N API requests of the account in flight; more are answered
                       429 with code 20429, unprocessed (default: no limit)
  --help               this text";

/// What the command line asked for.
#[derive(Debug, PartialEq)]
struct Options {
    port: u16,
    seed: u64,
    latency_ms: u64,
    auto_approve_ms: Option<u64>,
    event_sink: Option<String>,
    account_concurrency_limit: Option<u32>,
}

/// Parses the flags (`--flag N` or `--flag=N`); `Ok(None)` means `--help`.
fn parse(args: &[String]) -> Result<Option<Options>, String> {
    let mut options = Options {
        port: 0,
        seed: 0,
        latency_ms: 0,
        auto_approve_ms: None,
        event_sink: None,
        account_concurrency_limit: None,
    };
    let mut i = 0;
    while i < args.len() {
        let arg = &args[i];
        if arg == "--help" || arg == "-h" {
            return Ok(None);
        }
        let (flag, inline) = match arg.split_once('=') {
            Some((flag, value)) => (flag, Some(value.to_owned())),
            None => (arg.as_str(), None),
        };
        const FLAGS: [&str; 6] = [
            "--port",
            "--seed",
            "--latency-ms",
            "--auto-approve-ms",
            "--event-sink",
            "--account-concurrency-limit",
        ];
        if !FLAGS.contains(&flag) {
            return Err(format!("unknown flag '{flag}'"));
        }
        let value = match inline {
            Some(value) => value,
            None => {
                i += 1;
                args.get(i)
                    .cloned()
                    .ok_or_else(|| format!("{flag} needs a value"))?
            }
        };
        let number = |what: &str| -> Result<u64, String> {
            value
                .parse::<u64>()
                .map_err(|_| format!("{what} expects a non-negative integer, got '{value}'"))
        };
        match flag {
            "--port" => {
                options.port = u16::try_from(number("--port")?)
                    .map_err(|_| format!("--port must be at most 65535, got {value}"))?
            }
            "--seed" => options.seed = number("--seed")?,
            "--latency-ms" => options.latency_ms = number("--latency-ms")?,
            "--auto-approve-ms" => options.auto_approve_ms = Some(number("--auto-approve-ms")?),
            "--event-sink" => options.event_sink = Some(value.clone()),
            "--account-concurrency-limit" => {
                let limit = number("--account-concurrency-limit")?;
                options.account_concurrency_limit = match u32::try_from(limit) {
                    Ok(limit) if limit > 0 => Some(limit),
                    _ => {
                        return Err(format!(
                            "--account-concurrency-limit must be between 1 and {}, got {value}",
                            u32::MAX
                        ))
                    }
                };
            }
            other => return Err(format!("unknown flag '{other}'")),
        }
        i += 1;
    }
    Ok(Some(options))
}

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let options = match parse(&args) {
        Ok(Some(options)) => options,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(problem) => {
            eprintln!("error: {problem}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let mut config = EmulatorConfig::default()
        .with_port(options.port)
        .with_seed(options.seed)
        .with_faults(Faults::none().with_latency(Duration::from_millis(options.latency_ms)));
    if let Some(ms) = options.auto_approve_ms {
        let delay = Duration::from_millis(ms);
        config = config
            .with_auto_decision(delay, Decision::Approve)
            .with_brand_decision(delay, Decision::Approve)
            .with_campaign_decision(delay, Decision::Approve);
    }
    if let Some(url) = options.event_sink {
        config = config.with_event_sink(url);
    }
    if let Some(limit) = options.account_concurrency_limit {
        config = config.with_account_concurrency_limit(limit);
    }
    let emulator = match start(config).await {
        Ok(emulator) => emulator,
        Err(error) => {
            eprintln!("error: cannot start the emulator: {error}");
            return ExitCode::FAILURE;
        }
    };
    println!("Trust Hub emulator listening on {}", emulator.base_url());
    println!("  account SID:          {}", emulator.account_sid());
    println!("  auth token (test):    {}", emulator.auth_token());
    println!("  primary profile SID:  {}", emulator.primary_profile_sid());
    println!(
        "  phone number SIDs:    {}",
        emulator.phone_number_sids().join(", ")
    );
    println!(
        "  control:              {}/__emulator/info",
        emulator.base_url()
    );
    println!("Ctrl-C stops it.");
    if let Err(error) = tokio::signal::ctrl_c().await {
        eprintln!("error: cannot wait for Ctrl-C: {error}");
    }
    emulator.shutdown().await;
    ExitCode::SUCCESS
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(text: &str) -> Vec<String> {
        text.split_whitespace().map(str::to_owned).collect()
    }

    #[test]
    fn flags_parse() {
        let options = parse(&args(
            "--port 4010 --seed=7 --latency-ms 5 --auto-approve-ms 100 --event-sink http://127.0.0.1:9/e \
             --account-concurrency-limit 8",
        ))
        .unwrap()
        .unwrap();
        assert_eq!(
            options,
            Options {
                port: 4010,
                seed: 7,
                latency_ms: 5,
                auto_approve_ms: Some(100),
                event_sink: Some(String::from("http://127.0.0.1:9/e")),
                account_concurrency_limit: Some(8),
            }
        );
        assert!(parse(&args("--account-concurrency-limit 0"))
            .unwrap_err()
            .contains("between 1"));
        assert_eq!(parse(&args("--help")).unwrap(), None);
        assert!(parse(&args("--port 70000")).unwrap_err().contains("65535"));
        assert!(parse(&args("--bogus 1"))
            .unwrap_err()
            .contains("unknown flag"));
        assert!(parse(&args("--bogus"))
            .unwrap_err()
            .contains("unknown flag"));
        assert!(parse(&args("--seed"))
            .unwrap_err()
            .contains("needs a value"));
        assert!(parse(&args("--seed x"))
            .unwrap_err()
            .contains("non-negative"));
    }
}
