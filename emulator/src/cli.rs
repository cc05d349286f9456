//! The emulator's one command line: the flags of the `trusthub-emulator` binary and of the
//! `trusthub emulator` command (which flattens [`EmulatorArgs`]), and [`serve`], which both run.
//! Behind the `cli` feature (clap).

use std::future::Future;
use std::time::Duration;

use serde_json::json;

use crate::{start, Decision, EmulatorConfig, Faults};

/// How to run the emulator, from the command line.
#[derive(Debug, Clone, Default, PartialEq, Eq, clap::Args)]
pub struct EmulatorArgs {
    /// Port on 127.0.0.1 (0: a free port).
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub port: u16,
    /// Seed of the SIDs it generates and of its fault draws.
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub seed: u64,
    /// Latency added to every API request before it is handled, in milliseconds.
    #[arg(long, default_value_t = 0, value_name = "MS")]
    pub latency_ms: u64,
    /// Latency added after every API request was handled (its changes committed), before the
    /// answer is sent, in milliseconds: the window in which answers get lost.
    #[arg(long, default_value_t = 0, value_name = "MS")]
    pub answer_latency_ms: u64,
    /// Approve every submitted profile, A2P brand registration and A2P campaign this many
    /// milliseconds after it enters review. Without it, only mock brands and their campaigns are
    /// approved (after 50 ms).
    #[arg(long, value_name = "MS", alias = "auto-approve-ms")]
    pub approve_after: Option<u64>,
    /// POST A2P brand and campaign decisions to this URL as Event Streams CloudEvents (a
    /// loopback URL).
    #[arg(long, value_name = "URL")]
    pub event_sink: Option<String>,
    /// At most N API requests of the account in flight; more are answered 429 with code 20429,
    /// unprocessed (Twilio's per-account concurrency limit). Default: no limit.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub account_concurrency_limit: Option<u32>,
}

impl EmulatorArgs {
    /// The emulator's configuration these flags describe.
    pub fn config(&self) -> EmulatorConfig {
        let mut config = EmulatorConfig::default()
            .with_port(self.port)
            .with_seed(self.seed)
            .with_faults(
                Faults::none()
                    .with_latency(Duration::from_millis(self.latency_ms))
                    .with_answer_latency(Duration::from_millis(self.answer_latency_ms)),
            );
        if let Some(ms) = self.approve_after {
            let delay = Duration::from_millis(ms);
            config = config
                .with_auto_decision(delay, Decision::Approve)
                .with_brand_decision(delay, Decision::Approve)
                .with_campaign_decision(delay, Decision::Approve);
        }
        if let Some(url) = &self.event_sink {
            config = config.with_event_sink(url.clone());
        }
        if let Some(limit) = self.account_concurrency_limit {
            config = config.with_account_concurrency_limit(limit);
        }
        config
    }
}

/// Starts the emulator `args` describe, prints where it listens and its test credentials on
/// stdout (one JSON object with `json`, otherwise lines of `export` a shell can paste, ending
/// with `Ctrl-C stops it.`), runs until `stop` completes, then shuts it down.
pub async fn serve(
    args: &EmulatorArgs,
    json: bool,
    stop: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let emulator = start(args.config()).await?;
    if json {
        println!(
            "{}",
            json!({
                "base_url": emulator.base_url(),
                "account_sid": emulator.account_sid(),
                "auth_token": emulator.auth_token(),
                "primary_profile_sid": emulator.primary_profile_sid(),
                "phone_number_sids": emulator.phone_number_sids(),
            })
        );
    } else {
        println!(
            "Trust Hub emulator listening on {} (test credentials, not Twilio's):",
            emulator.base_url()
        );
        println!("  export TWILIO_ACCOUNT_SID={}", emulator.account_sid());
        println!("  export TWILIO_AUTH_TOKEN={}", emulator.auth_token());
        println!("  export TWILIO_BASE_URL={}", emulator.base_url());
        println!("primary profile SID:  {}", emulator.primary_profile_sid());
        println!(
            "phone number SIDs:    {}",
            emulator.phone_number_sids().join(", ")
        );
        println!(
            "control:              {}/__emulator/info",
            emulator.base_url()
        );
        println!("Ctrl-C stops it.");
    }
    stop.await;
    emulator.shutdown().await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(flatten)]
        args: EmulatorArgs,
    }

    fn parse(text: &str) -> Result<EmulatorArgs, String> {
        Cli::try_parse_from(std::iter::once("emulator").chain(text.split_whitespace()))
            .map(|c| c.args)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn flags_parse() {
        let args = parse(
            "--port 4010 --seed=7 --latency-ms 5 --answer-latency-ms 3 --approve-after 100 \
             --event-sink http://127.0.0.1:9/e --account-concurrency-limit 8",
        )
        .unwrap();
        assert_eq!(
            args,
            EmulatorArgs {
                port: 4010,
                seed: 7,
                latency_ms: 5,
                answer_latency_ms: 3,
                approve_after: Some(100),
                event_sink: Some("http://127.0.0.1:9/e".into()),
                account_concurrency_limit: Some(8),
            }
        );
        assert_eq!(parse("").unwrap(), EmulatorArgs::default());
        // The binary's old name of --approve-after.
        assert_eq!(parse("--auto-approve-ms 5").unwrap().approve_after, Some(5));
        for (bad, says) in [
            ("--account-concurrency-limit 0", "0"),
            ("--port 70000", "70000"),
            ("--bogus 1", "--bogus"),
            ("--seed", "--seed"),
            ("--seed x", "x"),
        ] {
            let error = parse(bad).unwrap_err();
            assert!(error.contains(says), "{bad}: {error}");
        }
    }
}
