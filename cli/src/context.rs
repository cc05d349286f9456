//! What every command runs with: the client (from the environment, a twilio-cli profile, or an
//! embedded emulator), the output mode, and the command-line error type.

use std::fmt;
#[cfg(feature = "emulator")]
use std::time::Duration;

use trusthub::sid::CustomerProfileSid;
use trusthub::Client;
#[cfg(feature = "emulator")]
use trusthub_emulator::Emulator;

use crate::credentials;
use crate::output::Output;
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

/// The client and the output settings.
pub struct Context {
    /// The Trust Hub client.
    pub client: Client,
    /// The embedded emulator, with `--emulator` (kept alive for the command's duration).
    #[cfg(feature = "emulator")]
    pub emulator: Option<Emulator>,
    /// `-o json` (or `--json`): machine output on stdout.
    pub json: bool,
    /// `-o` and `--no-header`: how rows are printed.
    pub output: Output,
    /// Tracing on stderr (`--verbose` or `RUST_LOG`).
    pub verbose: bool,
}

/// Where the command connects to, from the global flags.
#[derive(Debug, Clone, Copy, Default)]
pub struct Target<'a> {
    /// `--emulator`: an embedded emulator instead of Twilio.
    #[cfg(feature = "emulator")]
    pub emulator: bool,
    /// `--emulator-approve-after`: the embedded emulator approves what enters review so late.
    #[cfg(feature = "emulator")]
    pub approve: Option<Duration>,
    /// `-p/--profile`: a twilio-cli profile's credentials.
    pub profile: Option<&'a str>,
    /// `--no-env-proxy`: no proxy from the environment.
    pub no_env_proxy: bool,
}

impl Context {
    /// A client from the environment or a twilio-cli profile ([`crate::credentials`]), or
    /// against an embedded emulator (said on stderr) that approves what enters review `approve`
    /// after it does, when given.
    pub async fn connect(
        target: Target<'_>,
        output: Output,
        verbose: bool,
    ) -> Result<Context, CliError> {
        let json = output.is_json();
        #[cfg(feature = "emulator")]
        if target.emulator {
            return Self::embedded(target.approve, output, verbose).await;
        }
        {
            let lookup = credentials::process_env;
            let resolved = credentials::resolve(target.profile, &lookup)?;
            let env_proxy = credentials::env_proxy(target.no_env_proxy, &lookup)?;
            for note in &resolved.notes {
                eprintln!("note: {note}");
            }
            match &resolved.source {
                credentials::Source::Environment => {
                    tracing::debug!(env_proxy, "credentials from the environment")
                }
                credentials::Source::Profile { name, path, chosen } => tracing::debug!(
                    env_proxy,
                    profile = %name,
                    config = %path.display(),
                    chosen = ?chosen,
                    "credentials from a twilio-cli profile"
                ),
            }
            let client = resolved.builder.env_proxy(env_proxy).build().map_err(|e| {
                CliError::usage(format!(
                    "{e} (or pass --emulator to run against an embedded emulator)"
                ))
            })?;
            Ok(Context {
                client,
                #[cfg(feature = "emulator")]
                emulator: None,
                json,
                output,
                verbose,
            })
        }
    }

    /// A client against an embedded emulator that approves what enters review `approve` after
    /// it does, when given.
    #[cfg(feature = "emulator")]
    async fn embedded(
        approve: Option<Duration>,
        output: Output,
        verbose: bool,
    ) -> Result<Context, CliError> {
        let json = output.is_json();
        let config = trusthub_emulator::cli::EmulatorArgs {
            approve_after: approve.map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
            ..Default::default()
        }
        .config();
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
            // Loopback traffic never goes through a proxy.
            .env_proxy(false)
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
            output,
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
        #[cfg(feature = "emulator")]
        {
            let emulator = self.emulator.as_ref()?;
            let sid = emulator.primary_profile_sid().parse().ok()?;
            eprintln!(
                "note: --emulator: inputs without primary_profile_sid use the emulator's approved \
                 primary profile {sid}"
            );
            Some(sid)
        }
        #[cfg(not(feature = "emulator"))]
        None
    }
}
