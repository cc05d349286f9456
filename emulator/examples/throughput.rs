//! Throughput of the emulator: requests per second for simple requests, from N concurrent keep-alive
//! clients on the same machine over loopback.
//!
//! ```text
//! cargo xtask bench-emulator [-- --clients N --requests N --seconds S]
//! cargo run --release -p trusthub-emulator --example throughput -- [--clients N] [--requests N] [--seconds S]
//! ```
//!
//! The emulator runs in-process on a multi-threaded Tokio runtime with one worker per core; the clients
//! (one `reqwest::Client`, hence one keep-alive connection, each) run on the same runtime, so client and
//! server share the machine's cores, as they do in a test suite. Each scenario runs until `--requests`
//! requests have been answered or `--seconds` have passed, whichever comes first, after a short warm-up.
//! Every answer's status is checked; any unexpected answer fails the run.
//!
//! Scenarios: `GET /v1/Policies/{Sid}` (the Secondary Customer Profile policy) and `POST /v1/EndUsers`
//! (a business-information end user with its JSON `Attributes`).

use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::Method;
use trusthub_emulator::{policies, start, Emulator, EmulatorConfig};

const USAGE: &str = "\
usage: throughput [--clients N] [--requests N] [--seconds S]

  --clients N    concurrent keep-alive clients (default 32)
  --requests N   requests per scenario, at most (default 200000)
  --seconds S    time per scenario, at most (default 10)";

/// Command-line settings.
#[derive(Debug, Clone, Copy)]
struct Options {
    clients: usize,
    requests: u64,
    seconds: u64,
}

fn parse(args: &[String]) -> Result<Option<Options>, String> {
    let mut options = Options {
        clients: 32,
        requests: 200_000,
        seconds: 10,
    };
    let mut i = 0;
    while i < args.len() {
        let flag = args[i].as_str();
        if flag == "--help" || flag == "-h" {
            return Ok(None);
        }
        let value = args
            .get(i + 1)
            .ok_or_else(|| format!("{flag} needs a value"))?;
        let number = value
            .parse::<u64>()
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(|| format!("{flag} expects a positive integer, got '{value}'"))?;
        match flag {
            "--clients" => {
                options.clients = usize::try_from(number)
                    .map_err(|_| format!("--clients {number} is too large"))?
            }
            "--requests" => options.requests = number,
            "--seconds" => options.seconds = number,
            other => return Err(format!("unknown flag '{other}'")),
        }
        i += 2;
    }
    Ok(Some(options))
}

/// One request of a scenario.
#[derive(Clone)]
struct Request {
    method: Method,
    url: String,
    form: Option<String>,
    expected: u16,
}

/// What a scenario measured.
struct Measured {
    requests: u64,
    elapsed: Duration,
    latencies: Vec<Duration>,
}

impl Measured {
    fn per_second(&self) -> f64 {
        self.requests as f64 / self.elapsed.as_secs_f64()
    }

    fn percentile(&self, p: f64) -> Duration {
        if self.latencies.is_empty() {
            return Duration::ZERO;
        }
        let at = ((self.latencies.len() - 1) as f64 * p).round() as usize;
        self.latencies[at]
    }
}

/// Runs `request` from `clients` concurrent clients until `limit` requests were answered or `time` passed.
async fn run(
    emulator: &Emulator,
    request: &Request,
    clients: usize,
    limit: u64,
    time: Duration,
) -> Result<Measured, String> {
    let issued = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let deadline = started + time;
    let mut workers = Vec::with_capacity(clients);
    for _ in 0..clients {
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(1)
            .tcp_nodelay(true)
            .build()
            .map_err(|e| format!("cannot build a client: {e}"))?;
        let request = request.clone();
        let issued = Arc::clone(&issued);
        let account = emulator.account_sid().to_owned();
        let token = emulator.auth_token().to_owned();
        workers.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            // Bounded twice: a shared request budget and a deadline.
            while issued.fetch_add(1, Ordering::Relaxed) < limit && Instant::now() < deadline {
                let mut builder = http
                    .request(request.method.clone(), &request.url)
                    .basic_auth(&account, Some(&token));
                if let Some(form) = &request.form {
                    builder = builder
                        .header("Content-Type", "application/x-www-form-urlencoded")
                        .body(form.clone());
                }
                let sent = Instant::now();
                let response = builder
                    .send()
                    .await
                    .map_err(|e| format!("request failed: {e}"))?;
                let status = response.status().as_u16();
                let body = response
                    .bytes()
                    .await
                    .map_err(|e| format!("reading the body failed: {e}"))?;
                latencies.push(sent.elapsed());
                if status != request.expected || body.is_empty() {
                    return Err(format!(
                        "{} {} answered {status}: {}",
                        request.method,
                        request.url,
                        String::from_utf8_lossy(&body)
                    ));
                }
            }
            Ok::<Vec<Duration>, String>(latencies)
        }));
    }
    let mut latencies = Vec::new();
    for worker in workers {
        let mine = worker
            .await
            .map_err(|e| format!("a client task failed: {e}"))??;
        latencies.extend(mine);
    }
    let elapsed = started.elapsed();
    latencies.sort_unstable();
    Ok(Measured {
        requests: latencies.len() as u64,
        elapsed,
        latencies,
    })
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

async fn bench(options: Options, cores: usize) -> Result<(), String> {
    let emulator = start(EmulatorConfig::default())
        .await
        .map_err(|e| format!("cannot start the emulator: {e}"))?;
    let base = emulator.base_url();
    let attributes = r#"{"business_name":"acme business","social_media_profile_urls":"","website_url":"https://acme.example.com","business_regions_of_operation":"USA_AND_CANADA","business_type":"Partnership","business_registration_identifier":"EIN","business_identity":"direct_customer","business_industry":"EDUCATION","business_registration_number":"123456789"}"#;
    let form = format!(
        "FriendlyName=bench%20business&Type=customer_profile_business_information&Attributes={}",
        encode(attributes)
    );
    let scenarios = [
        (
            "GET  /v1/Policies/{Sid}",
            Request {
                method: Method::GET,
                url: format!(
                    "{base}/v1/Policies/{}",
                    policies::SECONDARY_CUSTOMER_PROFILE
                ),
                form: None,
                expected: 200,
            },
        ),
        (
            "POST /v1/EndUsers",
            Request {
                method: Method::POST,
                url: format!("{base}/v1/EndUsers"),
                form: Some(form),
                expected: 201,
            },
        ),
    ];
    println!(
        "emulator throughput: {cores} cores (std::thread::available_parallelism), {} keep-alive clients over loopback, \
         client and emulator in one process; each scenario at most {} requests or {} s",
        options.clients, options.requests, options.seconds
    );
    let mut created = 0;
    for (name, request) in &scenarios {
        let warm_up = run(
            &emulator,
            request,
            options.clients,
            (options.clients as u64) * 20,
            Duration::from_secs(2),
        )
        .await?;
        let measured = run(
            &emulator,
            request,
            options.clients,
            options.requests,
            Duration::from_secs(options.seconds),
        )
        .await?;
        if request.method == Method::POST {
            created += warm_up.requests + measured.requests;
        }
        println!(
            "  {name:<24} {:>9.0} req/s  ({} requests in {:.2} s; latency p50 {}, p99 {}, max {})",
            measured.per_second(),
            measured.requests,
            measured.elapsed.as_secs_f64(),
            ms(measured.percentile(0.5)),
            ms(measured.percentile(0.99)),
            ms(measured.percentile(1.0)),
        );
    }
    let counters = emulator.counters();
    if counters.end_users != created {
        return Err(format!(
            "the emulator counted {} end users created, the clients saw {created} answers 201",
            counters.end_users
        ));
    }
    emulator.shutdown().await;
    Ok(())
}

/// Percent-encodes a form value (RFC 3986 unreserved characters kept).
fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 3);
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

fn main() -> ExitCode {
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
    if cfg!(debug_assertions) {
        eprintln!(
            "warning: a debug build; measure with --release (cargo xtask bench-emulator does)"
        );
    }
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(cores)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start a Tokio runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(bench(options, cores)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(problem) => {
            eprintln!("error: {problem}");
            ExitCode::FAILURE
        }
    }
}
