//! What every command runs with: the client (from the environment, or an embedded emulator),
//! the output mode, and the command-line error type.

use std::fmt;
use std::time::Duration;

use trusthub::sid::CustomerProfileSid;
use trusthub::Client;
use trusthub_emulator::{Decision, Emulator, EmulatorConfig};

use crate::{EXIT_FAILED, EXIT_USAGE};

/// An error that ends the command: its message (already saying what to do) and exit code.
#[derive(Debug)]
pub struct CliError {
    /// The process exit code.
    pub code: u8,
    /// The message, printed as `error: <message>` on stderr.
    pub message: String,
}

impl CliError {
    /// Exit code 2: the command cannot run as asked (arguments, input file, credentials).
    pub fn usage(message: impl fmt::Display) -> Self {
        CliError {
            code: EXIT_USAGE,
            message: message.to_string(),
        }
    }

    /// Exit code 1: the command ran and failed.
    pub fn failed(message: impl fmt::Display) -> Self {
        CliError {
            code: EXIT_FAILED,
            message: message.to_string(),
        }
    }
}

/// `config` deciding every submitted profile, A2P brand and A2P campaign: approved `delay` after
/// it enters review.
pub fn approve_after(config: EmulatorConfig, delay: Duration) -> EmulatorConfig {
    config
        .with_auto_decision(delay, Decision::Approve)
        .with_brand_decision(delay, Decision::Approve)
        .with_campaign_decision(delay, Decision::Approve)
}

/// The client and the output settings.
pub struct Context {
    /// The Trust Hub client.
    pub client: Client,
    /// The embedded emulator, with `--emulator` (kept alive for the command's duration).
    pub emulator: Option<Emulator>,
    /// `--json`: machine output on stdout.
    pub json: bool,
    /// `--verbose`: debug tracing on stderr.
    pub verbose: bool,
}

impl Context {
    /// A client from the environment, or against an embedded emulator (said on stderr) that
    /// approves what enters review `approve` after it does, when given.
    pub async fn connect(
        emulator: bool,
        approve: Option<Duration>,
        json: bool,
        verbose: bool,
    ) -> Result<Context, CliError> {
        if !emulator {
            let client = Client::from_env().map_err(|e| {
                CliError::usage(format!(
                    "{e} (or pass --emulator to run against an embedded emulator)"
                ))
            })?;
            return Ok(Context {
                client,
                emulator: None,
                json,
                verbose,
            });
        }
        let config = match approve {
            Some(delay) => approve_after(EmulatorConfig::default(), delay),
            None => EmulatorConfig::default(),
        };
        let emulator = trusthub_emulator::start(config)
            .await
            .map_err(|e| CliError::failed(format!("cannot start the embedded emulator: {e}")))?;
        let client = Client::builder()
            .account_sid(
                emulator
                    .account_sid()
                    .parse()
                    .map_err(|e| CliError::failed(format!("embedded emulator: {e}")))?,
            )
            .auth_token(emulator.auth_token())
            .base_url(emulator.base_url())
            .build()
            .map_err(|e| CliError::failed(format!("embedded emulator: {e}")))?;
        eprintln!(
            "note: --emulator: running against an embedded Trust Hub emulator at {} (nothing \
             reaches Twilio; its state ends with this command)",
            emulator.base_url()
        );
        Ok(Context {
            client,
            emulator: Some(emulator),
            json,
            verbose,
        })
    }

    /// The primary profile to use when the input names none: `--primary-profile`, else the
    /// embedded emulator's seeded one (said on stderr).
    pub fn default_primary_profile(
        &self,
        flag: Option<CustomerProfileSid>,
    ) -> Option<CustomerProfileSid> {
        if flag.is_some() {
            return flag;
        }
        let emulator = self.emulator.as_ref()?;
        let sid = emulator.primary_profile_sid().parse().ok()?;
        eprintln!(
            "note: --emulator: inputs without primary_profile_sid use the emulator's approved \
             primary profile {sid}"
        );
        Some(sid)
    }
}
