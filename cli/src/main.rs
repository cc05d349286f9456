//! `trusthub`: onboard one customer or a whole CSV of them as Twilio Secondary Customer
//! Profiles, and through A2P 10DLC registration (brand and campaign), with progress, resume and a
//! report.
//!
//! ```text
//! trusthub profile create --file customer.toml [--submit] [--dry-run] [--journal FILE]
//! trusthub onboard customers.csv --journal onboard.journal [--concurrency N] [--submit] [--dry-run]
//!          [--brand-wait SECS] [--campaign-wait SECS] [--poll SECS]
//! trusthub onboard customers.csv --journal onboard.journal --refresh   statuses, A2P rows under review
//! trusthub onboard corrected.csv --journal onboard.journal --fix       fix the rejected profiles
//! trusthub profile status BU...        trusthub profile evaluate BU...
//! trusthub policies list               trusthub emulator [--port N] [--approve-after MS]
//! trusthub schema                      the input keys and their accepted values
//! trusthub onboard customers.csv --store URL --store-key FILE    enqueue every valid row
//! trusthub worker --store URL --store-key FILE [--concurrency N] [--lease SECS] [--submit]
//! trusthub status --store URL --store-key FILE [--state S]       jobs by state, failures
//! trusthub requeue --store URL --store-key FILE                  failed jobs queued again
//! trusthub completions bash|zsh|fish   a shell completion script
//! ```
//!
//! Global flags: `-o table|json|csv|tsv` (`--json` is `-o json`) and `--no-header` choose how
//! rows are printed ([`output`]); `-p NAME` uses a twilio-cli profile's credentials;
//! `--no-env-proxy` keeps requests off the environment's proxy; `-v` (or `RUST_LOG`) traces on
//! stderr.
//!
//! A customer (a CSV row, a TOML/JSON file) with any `a2p.*`, `brand.*`, `messaging_service.*`
//! or `campaign.*` key runs the A2P 10DLC journey: its profile (always submitted), the A2P
//! Messaging Profile trust product, the brand registration, the Messaging Service with its
//! numbers and the campaign (`trusthub schema` lists the keys). The brand's vetting and the
//! campaign's review take minutes to weeks: a run looks once (or follows them for
//! `--brand-wait` / `--campaign-wait` seconds) and the row ends `waiting`, its brand or campaign
//! in the journal; `onboard ... --refresh` later looks again at those rows only, and creates the
//! campaign once the brand is approved. Nothing is created twice, brands and campaigns (each a
//! fee) included.
//!
//! A customer with `voice.shaken_stir = true` or a `voice.cnam_display_name` gets those voice
//! trust products (SHAKEN/STIR, CNAM) for its `phone_number_sids` after its profile (submitted);
//! a row with A2P keys too runs the journey, then the voice products, on the same journal.
//! `onboard --refresh` fetches the statuses of everything every row submitted (profile, trust
//! products, brand, campaign) and prints what changed; `onboard corrected.csv --fix` updates the
//! rows whose profile Twilio rejected with what changed in the CSV, and submits them again.
//!
//! Credentials come from the library's environment variables (`TWILIO_ACCOUNT_SID` with
//! `TWILIO_AUTH_TOKEN`, or `TWILIO_API_KEY` + `TWILIO_API_SECRET`; `TWILIO_BASE_URL`, ...) or
//! from a twilio-cli profile (`-p NAME`, `TWILIO_PROFILE`, twilio-cli's active profile: see
//! [`credentials`]); `--emulator` runs any command against an embedded emulator instead
//! (`--emulator-approve-after MS` has it approve profiles, brands and campaigns). Exit codes:
//! 0 success (every row compliant, every A2P row registered; with `--refresh`: everything
//! approved; with `--fix`: every rejected row resubmitted), 1 some row or profile failed, is
//! invalid, not compliant, or was rejected (its profile, a trust product, its brand or campaign;
//! with `--refresh` / `--fix`: or is left unfinished), 2 usage (bad arguments, unreadable input
//! file, a journal held by another process, missing credentials), 3 nothing failed but some rows
//! wait for a review (run `onboard --refresh` later), 130 interrupted by Ctrl-C, SIGTERM or
//! SIGHUP (resumable). A run with failures exits 1 even when other rows wait.
#![warn(missing_docs)]

mod batch_journal;
mod commands;
mod context;
mod credentials;
mod input;
mod interrupt;
mod jobs;
mod onboard;
mod output;
mod report;
mod table;

use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, CommandFactory, Parser, Subcommand};
use trusthub::sid::{CustomerProfileSid, PolicySid};

use context::{CliError, Context, Target};
use output::{Format, Output};

/// Exit code: everything succeeded (every row or profile compliant).
pub const EXIT_OK: u8 = 0;
/// Exit code: some row or profile failed, is invalid, is not compliant, or was rejected (its
/// profile or a trust product by Twilio, its A2P brand or campaign; with `--refresh` / `--fix`:
/// or is left unfinished). Takes precedence over [`EXIT_WAITING`].
pub const EXIT_FAILED: u8 = 1;
/// Exit code: usage error (clap's own code for bad arguments), unreadable input, no credentials.
pub const EXIT_USAGE: u8 = 2;
/// Exit code: nothing failed, but some rows wait for a review (an A2P brand's vetting or a
/// campaign's; with `--refresh`, also a profile's or a trust product's); `trusthub onboard ...
/// --refresh` later goes on.
pub const EXIT_WAITING: u8 = 3;
/// Exit code: interrupted by Ctrl-C, SIGTERM or SIGHUP; the same command resumes.
pub const EXIT_INTERRUPTED: u8 = 130;

/// Onboard ISV customers to Twilio Trust Hub as Secondary Customer Profiles, and through A2P
/// 10DLC registration.
#[derive(Debug, Parser)]
#[command(
    name = "trusthub",
    version,
    after_help = "Credentials: -p NAME (a twilio-cli profile, from \
                  $TWILIO_CONFIG_DIR/config.json, default ~/.twilio-cli/config.json), else \
                  TWILIO_ACCOUNT_SID with TWILIO_AUTH_TOKEN (or TWILIO_API_KEY and \
                  TWILIO_API_SECRET), else TWILIO_PROFILE=NAME, else twilio-cli's active profile; \
                  optional TWILIO_BASE_URL, TWILIO_EDGE, TWILIO_REGION.\n\
                  Proxy: HTTPS_PROXY, HTTP_PROXY, ALL_PROXY and NO_PROXY apply to requests to \
                  Twilio (not to an emulator on a loopback address) unless --no-env-proxy or \
                  TRUSTHUB_NO_ENV_PROXY=1.\n\
                  Job store: TRUSTHUB_STORE is the --store URL of worker, status and requeue \
                  (never of onboard, where --store switches to enqueueing).\n\
                  Logs: RUST_LOG (tracing directives, e.g. `debug` or `trusthub=debug,warn`) \
                  chooses what is traced on stderr; -v is `warn,trusthub=debug`; RUST_LOG wins \
                  when both are given.\n\
                  Exit codes: 0 success (every row compliant, every A2P row registered), 1 some \
                  row/profile failed, is not compliant or was rejected, 2 usage, 3 nothing failed \
                  but some rows wait for a review (run `onboard ... --refresh` later), 130 \
                  interrupted by Ctrl-C, SIGTERM or SIGHUP (run the same command again to \
                  resume)."
)]
struct Cli {
    #[command(flatten)]
    global: Global,
    #[command(subcommand)]
    command: Command,
}

/// Flags every command takes.
#[derive(Debug, Args)]
struct Global {
    /// Run against an embedded emulator (in this process) instead of Twilio.
    #[cfg(feature = "emulator")]
    #[arg(long, global = true)]
    emulator: bool,
    /// With --emulator: approve every submitted profile, A2P brand and A2P campaign this many
    /// milliseconds after it enters review (otherwise only mock brands and their campaigns are
    /// approved, after 50 ms).
    #[cfg(feature = "emulator")]
    #[arg(long, global = true, value_name = "MS", requires = "emulator")]
    emulator_approve_after: Option<u64>,
    /// Debug tracing on stderr (never secrets nor personal data): the filter
    /// `warn,trusthub=debug`. RUST_LOG, when set, chooses the filter instead (e.g.
    /// RUST_LOG=debug), with or without -v.
    #[arg(long, short, global = true)]
    verbose: bool,
    /// The same as `-o json`: machine-readable JSON on stdout.
    #[arg(long, global = true, conflicts_with = "output")]
    json: bool,
    /// How rows are printed on stdout: `table` (default, for people), `json` (each command's
    /// JSON document), `csv` (RFC 4180 quoting; header of machine names) or `tsv` (tab-separated;
    /// a backslash, tab, line feed or carriage return in a value is written \\, \t, \n, \r).
    /// Commands that print no rows (`profile create`, `emulator`, `completions`, `requeue`) take table or
    /// json only.
    #[arg(long, short = 'o', global = true, value_name = "FORMAT", value_enum)]
    output: Option<Format>,
    /// Print rows without the header row (table, csv and tsv).
    #[arg(long, global = true)]
    no_header: bool,
    /// Use the credentials of this twilio-cli profile (`twilio profiles:list`), read from
    /// $TWILIO_CONFIG_DIR/config.json (default ~/.twilio-cli/config.json); they win over
    /// TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, TWILIO_API_KEY and TWILIO_API_SECRET. Without -p:
    /// those variables, else the profile named by TWILIO_PROFILE, else twilio-cli's active
    /// profile.
    #[arg(
        long,
        short = 'p',
        global = true,
        value_name = "NAME",
        conflicts_with = "emulator"
    )]
    profile: Option<String>,
    /// Do not send requests to Twilio through the proxy of HTTPS_PROXY / HTTP_PROXY / ALL_PROXY
    /// (used by default, except for NO_PROXY's hosts and for an emulator on a loopback
    /// address). TRUSTHUB_NO_ENV_PROXY=1 (or true, yes, on) does the same.
    #[arg(long, global = true)]
    no_env_proxy: bool,
}

impl Global {
    /// `-o`, `--json` and `--no-header`.
    fn output(&self) -> Output {
        Output {
            format: if self.json {
                Format::Json
            } else {
                self.output.unwrap_or(Format::Table)
            },
            header: !self.no_header,
        }
    }
}

#[derive(Debug, Subcommand)]
enum Command {
    /// One secondary customer profile.
    Profile {
        #[command(subcommand)]
        command: ProfileCommand,
    },
    /// One profile (or, for rows with A2P columns, the A2P 10DLC journey; with voice columns, the
    /// SHAKEN/STIR and CNAM trust products) per CSV row, with progress, resume (same command
    /// again), `--refresh` of the statuses, `--fix` of rejected profiles, and a report.
    #[command(
        after_help = "Row outcomes: compliant, registered (A2P: brand approved, campaign \
                            verified), approved (--refresh: everything submitted approved), \
                            waiting (under review; not a failure), rejected (brand or campaign \
                            failed its review; --refresh: profile or trust product rejected), \
                            resubmitted (--fix: fixed and submitted again), unchanged (--fix: \
                            not rejected, not touched), noncompliant, invalid, error, pending \
                            (interrupted or not started).\n\
                            Exit codes: 0 every row compliant, registered, approved or \
                            resubmitted; 1 some row invalid, error, noncompliant or rejected \
                            (with --refresh or --fix: or left unfinished); 3 none failed but \
                            some wait for a review; 130 interrupted (the same command resumes)."
    )]
    Onboard(onboard::OnboardArgs),
    /// Run the jobs of a PostgreSQL job store (`onboard CSV --store` enqueued them): many
    /// workers, on one machine or many, onboard one account; each job is leased to one worker at
    /// a time and its journal saved under the lease.
    #[command(
        after_help = "Exit codes: 0 stopped by --exit-when-empty (no job queued or running), 1 a                       job's task failed internally, 2 usage (store key, URL, credentials), 130                       stopped by Ctrl-C, SIGTERM or SIGHUP (its jobs were released)."
    )]
    Worker(jobs::WorkerArgs),
    /// The jobs of a PostgreSQL job store by state, and the failed ones with their reasons
    /// (customers by digest). Exit 0 when no job failed, 1 when some did.
    Status(jobs::StatusArgs),
    /// Queue the failed jobs of a PostgreSQL job store again (after what failed them is fixed:
    /// an outage over, a limit raised, the data corrected): their journals are kept, so workers
    /// resume them creating nothing twice.
    Requeue(jobs::RequeueArgs),
    /// Trust Hub policies.
    Policies {
        #[command(subcommand)]
        command: PoliciesCommand,
    },
    /// Start the Trust Hub emulator and print its credentials; runs until Ctrl-C. The same
    /// flags and output as the `trusthub-emulator` program.
    #[cfg(feature = "emulator")]
    Emulator(trusthub_emulator::cli::EmulatorArgs),
    /// The input keys (TOML/JSON) and CSV columns, with their accepted values.
    Schema,
    /// Print a shell completion script on stdout, e.g. `trusthub completions bash >
    /// ~/.local/share/bash-completion/completions/trusthub`, `trusthub completions zsh >
    /// ~/.zfunc/_trusthub`, `trusthub completions fish > ~/.config/fish/completions/trusthub.fish`.
    Completions {
        /// The shell: bash, zsh, fish, elvish or powershell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

#[derive(Debug, Subcommand)]
enum ProfileCommand {
    /// Create (steps 1-9), optionally submit (step 10), from a TOML or JSON file; with A2P
    /// sections, the A2P 10DLC journey (exit 3 while the brand or campaign is under review).
    Create(commands::CreateArgs),
    /// Show the status of customer profiles.
    Status {
        /// Customer profile SIDs (BU...).
        #[arg(required = true)]
        bundles: Vec<CustomerProfileSid>,
    },
    /// Evaluate customer profiles against their policy and show the result as a table.
    Evaluate {
        /// Customer profile SIDs (BU...).
        #[arg(required = true)]
        bundles: Vec<CustomerProfileSid>,
        /// The policy to evaluate against (default: each profile's own).
        #[arg(long)]
        policy: Option<PolicySid>,
    },
}

#[derive(Debug, Subcommand)]
enum PoliciesCommand {
    /// Every policy with what it requires.
    List,
}

/// The tracing filter of `-v`: the library's debug events, other crates' warnings.
const VERBOSE_FILTER: &str = "warn,trusthub=debug";

/// Installs the tracing subscriber on stderr: RUST_LOG's filter when it is set, else `-v`'s,
/// else none. Returns whether one was installed; a RUST_LOG that does not parse is refused.
fn init_tracing(verbose: bool) -> Result<bool, CliError> {
    use tracing_subscriber::EnvFilter;
    // The library's events carry operation names, path templates, statuses, SIDs and timings;
    // never a secret, never personal data.
    let filter = match std::env::var("RUST_LOG") {
        Ok(directives) if !directives.trim().is_empty() => {
            EnvFilter::builder().parse(&directives).map_err(|e| {
                CliError::usage(format!(
                    "RUST_LOG: {e}: expected tracing directives such as `debug`, \
                     `trusthub=debug,warn` or `info,trusthub_runtime=trace`; found {:?}",
                    trusthub::api::runtime::text::printable(&directives)
                ))
            })?
        }
        _ if verbose => EnvFilter::new(VERBOSE_FILTER),
        _ => return Ok(false),
    };
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(filter)
        .init();
    Ok(true)
}

/// A usage error for commands that print no rows when `-o csv` or `-o tsv` asks for them.
fn no_rows(command: &str, output: Output) -> Result<(), CliError> {
    if output.is_delimited() {
        return Err(CliError::usage(format!(
            "-o {}: `trusthub {command}` prints no rows; use -o table or -o json",
            output.format.name()
        )));
    }
    Ok(())
}

/// `trusthub completions SHELL`.
fn completions(shell: clap_complete::Shell) -> u8 {
    let mut command = Cli::command();
    clap_complete::generate(shell, &mut command, "trusthub", &mut std::io::stdout());
    EXIT_OK
}

async fn run(cli: Cli, verbose: bool) -> Result<u8, CliError> {
    let g = &cli.global;
    let output = g.output();
    match &cli.command {
        Command::Schema => Ok(commands::schema(output)),
        Command::Completions { shell } => {
            no_rows("completions", output)?;
            Ok(completions(*shell))
        }
        #[cfg(feature = "emulator")]
        Command::Emulator(args) => {
            no_rows("emulator", output)?;
            commands::emulator(args, output.is_json()).await
        }
        // Enqueueing and counting jobs need no Twilio credentials.
        Command::Onboard(args) if args.store.is_some() => jobs::enqueue(args, output).await,
        Command::Status(args) => jobs::status(args, output).await,
        Command::Requeue(args) => {
            no_rows("requeue", output)?;
            jobs::requeue(args).await
        }
        command => {
            if let Command::Profile {
                command: ProfileCommand::Create(_),
            } = command
            {
                no_rows("profile create", output)?;
            }
            let target = Target {
                #[cfg(feature = "emulator")]
                emulator: g.emulator,
                #[cfg(feature = "emulator")]
                approve: g.emulator_approve_after.map(Duration::from_millis),
                profile: g.profile.as_deref(),
                no_env_proxy: g.no_env_proxy,
            };
            let ctx = Context::connect(target, output, verbose).await?;
            match command {
                Command::Profile {
                    command: ProfileCommand::Create(args),
                } => commands::profile_create(&ctx, args).await,
                Command::Profile {
                    command: ProfileCommand::Status { bundles },
                } => commands::profile_status(&ctx, bundles).await,
                Command::Profile {
                    command: ProfileCommand::Evaluate { bundles, policy },
                } => commands::profile_evaluate(&ctx, bundles, *policy).await,
                Command::Policies {
                    command: PoliciesCommand::List,
                } => commands::policies_list(&ctx).await,
                Command::Onboard(args) => onboard::onboard(&ctx, args).await,
                Command::Worker(args) => jobs::worker(&ctx, args).await,
                #[cfg(feature = "emulator")]
                Command::Emulator(_) => unreachable!("handled above"),
                Command::Schema
                | Command::Status(_)
                | Command::Requeue(_)
                | Command::Completions { .. } => {
                    unreachable!("handled above")
                }
            }
        }
    }
}

fn main() -> ExitCode {
    // Usage errors exit with clap's code 2.
    let cli = Cli::parse();
    let verbose = match init_tracing(cli.global.verbose) {
        Ok(installed) => installed,
        Err(e) => {
            eprintln!("error: {}", e.message);
            return ExitCode::from(e.code);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(EXIT_FAILED);
        }
    };
    let result = runtime.block_on(run(cli, verbose));
    // Rows aborted by a second signal may hold a worker in a journal sync: do not wait long.
    runtime.shutdown_timeout(Duration::from_secs(2));
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("error: {}", e.message);
            ExitCode::from(e.code)
        }
    }
}
