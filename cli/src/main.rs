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
//! trusthub status --store URL --store-key FILE                   jobs by state, failures
//! ```
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
//! `TWILIO_AUTH_TOKEN`, or `TWILIO_API_KEY` + `TWILIO_API_SECRET`; `TWILIO_BASE_URL`, ...);
//! `--emulator` runs any command against an embedded emulator instead
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
mod input;
mod interrupt;
mod jobs;
mod onboard;
mod report;
mod table;

use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use trusthub::sid::{CustomerProfileSid, PolicySid};

use context::{CliError, Context};

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
    after_help = "Credentials: TWILIO_ACCOUNT_SID with TWILIO_AUTH_TOKEN (or TWILIO_API_KEY and \
                  TWILIO_API_SECRET); optional TWILIO_BASE_URL, TWILIO_EDGE, TWILIO_REGION.\n\
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
    #[arg(long, global = true)]
    emulator: bool,
    /// With --emulator: approve every submitted profile, A2P brand and A2P campaign this many
    /// milliseconds after it enters review (otherwise only mock brands and their campaigns are
    /// approved, after 50 ms).
    #[arg(long, global = true, value_name = "MS", requires = "emulator")]
    emulator_approve_after: Option<u64>,
    /// Debug tracing on stderr (never secrets nor personal data).
    #[arg(long, short, global = true)]
    verbose: bool,
    /// Machine-readable JSON on stdout.
    #[arg(long, global = true)]
    json: bool,
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
    /// Trust Hub policies.
    Policies {
        #[command(subcommand)]
        command: PoliciesCommand,
    },
    /// Start the Trust Hub emulator and print its credentials; runs until Ctrl-C.
    Emulator(commands::EmulatorArgs),
    /// The input keys (TOML/JSON) and CSV columns, with their accepted values.
    Schema,
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

fn init_tracing(verbose: bool) {
    if !verbose {
        return;
    }
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    // The library's events carry operation names, path templates, statuses, SIDs and timings;
    // never a secret, never personal data. Other crates (connection pools...) only warn.
    let filter = tracing_subscriber::filter::Targets::new()
        .with_target("trusthub", tracing::Level::DEBUG)
        .with_default(tracing::Level::WARN);
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_max_level(tracing::Level::DEBUG)
        .finish()
        .with(filter)
        .init();
}

async fn run(cli: Cli) -> Result<u8, CliError> {
    let g = &cli.global;
    match &cli.command {
        Command::Schema => Ok(commands::schema(g.json)),
        Command::Emulator(args) => commands::emulator(args, g.json).await,
        // Enqueueing and counting jobs need no Twilio credentials.
        Command::Onboard(args) if args.store.is_some() => jobs::enqueue(args, g.json).await,
        Command::Status(args) => jobs::status(args, g.json).await,
        command => {
            let approve = g.emulator_approve_after.map(Duration::from_millis);
            let ctx = Context::connect(g.emulator, approve, g.json, g.verbose).await?;
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
                Command::Schema | Command::Emulator(_) | Command::Status(_) => {
                    unreachable!("handled above")
                }
            }
        }
    }
}

fn main() -> ExitCode {
    // Usage errors exit with clap's code 2.
    let cli = Cli::parse();
    init_tracing(cli.global.verbose);
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
    let result = runtime.block_on(run(cli));
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
