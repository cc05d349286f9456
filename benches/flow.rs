//! Flow benchmarks (`cargo bench --bench flow`), figures recorded in BENCHMARKS.md:
//!
//! 1. With 50 ms of emulator latency per request: one flow (steps 1-10) against its critical
//!    path: seven round trips when the flow checks the policy and the primary profile itself (two
//!    for the checks, five for steps 2-10), five when the checks were done once for a batch
//!    (`FlowOptions::preflight`); and against the same requests sent one at a time.
//!    Then one A2P 10DLC journey (the profile to a verified campaign, TCR deciding at once)
//!    against its critical path of 13 round trips.
//! 2. With no latency: 1000 flows, 64 at a time, sharing one preflight as a batch does: the
//!    client's CPU time per flow and the process's peak RSS.
//! 3. With no latency: the client's CPU time per flow and peak RSS against bare reqwest sending
//!    the same requests, at 1, 16 and 64 flows at once, each side in a child process of its own
//!    (this binary with `--child`) against one emulator in this process.
//!
//! The emulator runs in this process on its own runtime, on threads named `emulator*`; CPU time is
//! read per thread from /proc so the client's share excludes the emulator's. Linux only.

use std::sync::Arc;
use std::time::{Duration, Instant};

#[path = "../tests/fixtures/mod.rs"]
mod fixtures;

use trusthub::flow::{FlowOptions, Limiter, MemoryStore, Preflight, SecondaryProfile};
use trusthub::Submission;
use trusthub_emulator::{Decision, EmulatorConfig, Faults};

/// The A2P journey's critical path: the profile's two checks; the profile's creates beside the
/// trust product, its end user and the service; the document beside the trust product's
/// assignments and the service's number; the profile's assignments; its evaluation; its
/// submission; the trust product's evaluation; its submission; the brand; the brand's review
/// beside the use case check; the campaign; the campaign's review.
const JOURNEY_ROUND_TRIPS: u32 = 13;

fn profile(emulator: &trusthub_emulator::Emulator, n: usize) -> SecondaryProfile {
    fixtures::input(emulator, &format!("Bench {n}"))
        .build()
        .expect("valid bench input")
}

/// CPU time (user + system) of this process's threads, split by whether the thread's name
/// starts with `emulator`.
fn cpu_split() -> (Duration, Duration) {
    let ticks = 100.0; // USER_HZ on Linux
    let (mut emulator, mut other) = (0u64, 0u64);
    for entry in std::fs::read_dir("/proc/self/task").expect("/proc/self/task") {
        let path = entry.unwrap().path();
        let Ok(stat) = std::fs::read_to_string(path.join("stat")) else {
            continue;
        };
        let comm_end = stat.rfind(')').unwrap();
        let comm = &stat[stat.find('(').unwrap() + 1..comm_end];
        let fields: Vec<&str> = stat[comm_end + 2..].split(' ').collect();
        // Fields after the comm: state is index 0, utime 11, stime 12.
        let t = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
        if comm.starts_with("emulator") {
            emulator += t;
        } else {
            other += t;
        }
    }
    (
        Duration::from_secs_f64(other as f64 / ticks),
        Duration::from_secs_f64(emulator as f64 / ticks),
    )
}

fn peak_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse().ok())
        .unwrap_or(0)
}

/// Starts an emulator on its own runtime and threads (named `emulator*`).
fn start_emulator(
    config: EmulatorConfig,
) -> (trusthub_emulator::Emulator, tokio::runtime::Runtime) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("emulator")
        .enable_all()
        .build()
        .unwrap();
    let emulator = runtime.block_on(trusthub_emulator::start(config)).unwrap();
    (emulator, runtime)
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(at) = args.iter().position(|a| a == "--child") {
        child(&args[at + 1..]);
        return;
    }
    // `cargo bench` passes `--bench`. Without it (`cargo test --all-targets` runs this binary as
    // a test) a smoke run checks that the benchmark works, with small counts and no figures.
    let full = args.iter().any(|a| a == "--bench");
    // `cargo bench -p trusthub --bench flow -- --baseline-only`: section 3 alone.
    if args.iter().any(|a| a == "--baseline-only") {
        against_bare_reqwest(full);
        return;
    }
    let (samples, flows, concurrency) = if full { (5, 1000, 64) } else { (1, 20, 8) };
    if !full {
        println!("smoke run (no --bench): small counts, figures not meaningful");
    }
    let client_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("client")
        .enable_all()
        .build()
        .unwrap();

    // 1. Latency-bound: one flow against its critical path and against the sequential order.
    let latency = Duration::from_millis(50);
    let (emulator, emulator_rt) =
        start_emulator(EmulatorConfig::default().with_faults(Faults::none().with_latency(latency)));
    let client = fixtures::client(&emulator);
    let (round_trip, alone, concurrent, sequential) = client_rt.block_on(async {
        // One round trip: a GET under the same latency.
        let mut trips = Vec::new();
        for _ in 0..10 {
            let t = Instant::now();
            client
                .policies()
                .fetch("RNdfbf3fae0e1107f8aded0e7cead80bf5")
                .send()
                .await
                .unwrap();
            trips.push(t.elapsed());
        }
        let checked = Arc::new(
            Preflight::check(
                &client,
                profile(&emulator, 0).policy(),
                profile(&emulator, 0).primary_profile(),
            )
            .await
            .unwrap(),
        );
        let run = |limiter: Limiter, n: usize, preflight: Option<Arc<Preflight>>| {
            let client = client.clone();
            let flow = profile(&emulator, n);
            async move {
                let options = FlowOptions {
                    limiter,
                    preflight,
                    ..FlowOptions::default()
                };
                let t = Instant::now();
                let mut report = client
                    .secondary_profile(&flow)
                    .journal(MemoryStore::new())
                    .options(options)
                    .run()
                    .await
                    .unwrap();
                report.submit(Submission::WhenCompliant).await.unwrap();
                t.elapsed()
            }
        };
        let mut alone = Vec::new();
        let mut batched = Vec::new();
        let mut sequential = Vec::new();
        for i in 0..samples {
            alone.push(run(Limiter::new(8), i, None).await);
            batched.push(run(Limiter::new(8), 50 + i, Some(checked.clone())).await);
            sequential.push(run(Limiter::new(1), 100 + i, Some(checked.clone())).await);
        }
        (
            median(trips),
            median(alone),
            median(batched),
            median(sequential),
        )
    });
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!(
        "flow with {} ms latency per request (median of {samples}, steps 1-10):",
        latency.as_millis()
    );
    println!(
        "  one round trip (GET):                  {:>7.1} ms",
        ms(round_trip)
    );
    println!(
        "  flow checking policy and primary itself: {:>7.1} ms  = {:.2}x its critical path of 7 round trips, {:.1} ms (target <= 1.15x)",
        ms(alone),
        alone.as_secs_f64() / (round_trip * 7).as_secs_f64(),
        ms(round_trip * 7)
    );
    println!(
        "  flow with the batch's checks:          {:>7.1} ms  = {:.2}x its critical path of 5 round trips, {:.1} ms (target <= 1.15x)",
        ms(concurrent),
        concurrent.as_secs_f64() / (round_trip * 5).as_secs_f64(),
        ms(round_trip * 5)
    );
    println!(
        "  sequential (one request at a time):    {:>7.1} ms  = {:.2}x slower than concurrent (target >= 2.5x)",
        ms(sequential),
        sequential.as_secs_f64() / concurrent.as_secs_f64()
    );
    drop(client);
    emulator_rt.block_on(emulator.shutdown());
    drop(emulator_rt);

    // 1b. Latency-bound: one A2P 10DLC journey (profile, trust product, brand, service, campaign)
    // against its critical path, TCR deciding at once.
    let (emulator, emulator_rt) = start_emulator(
        EmulatorConfig::default()
            .with_phone_numbers(samples + 1)
            .with_brand_decision(Duration::ZERO, Decision::Approve)
            .with_campaign_decision(Duration::ZERO, Decision::Approve)
            .with_faults(Faults::none().with_latency(latency)),
    );
    let client = fixtures::client(&emulator);
    let journeys = client_rt.block_on(async {
        let mut took = Vec::new();
        for i in 0..samples {
            let input = fixtures::journey(&emulator, &format!("Bench Journey {i}"), i)
                .build()
                .unwrap();
            let t = Instant::now();
            let report = client
                .a2p_journey(&input)
                .journal(MemoryStore::new())
                .wait_for_brand(Duration::from_secs(5))
                .wait_for_campaign(Duration::from_secs(5))
                .poll(Duration::from_millis(1))
                .run()
                .await
                .unwrap();
            assert!(report.stage.is_registered(), "{}", report.stage);
            took.push(t.elapsed());
        }
        median(took)
    });
    println!(
        "  A2P journey (profile to verified campaign): {:>7.1} ms  = {:.2}x its critical path of {JOURNEY_ROUND_TRIPS} round trips, {:.1} ms (target <= 1.15x)",
        ms(journeys),
        journeys.as_secs_f64() / (round_trip * JOURNEY_ROUND_TRIPS).as_secs_f64(),
        ms(round_trip * JOURNEY_ROUND_TRIPS)
    );
    drop(client);
    emulator_rt.block_on(emulator.shutdown());
    drop(emulator_rt);

    // 2. CPU-bound: 1000 flows, 64 at a time, no latency.
    let (emulator, emulator_rt) = start_emulator(EmulatorConfig::default());
    let client = fixtures::client(&emulator);
    let inputs: Vec<SecondaryProfile> = (0..flows).map(|i| profile(&emulator, i)).collect();
    let (cpu_before, emu_before) = cpu_split();
    let started = Instant::now();
    let checked = client_rt.block_on(async {
        Arc::new(
            Preflight::check(&client, inputs[0].policy(), inputs[0].primary_profile())
                .await
                .unwrap(),
        )
    });
    let compliant = client_rt.block_on(async {
        let gate = Arc::new(tokio::sync::Semaphore::new(concurrency));
        let mut tasks = tokio::task::JoinSet::new();
        for flow in inputs {
            let client = client.clone();
            let gate = gate.clone();
            let options = FlowOptions {
                preflight: Some(checked.clone()),
                ..FlowOptions::default()
            };
            tasks.spawn(async move {
                let _slot = gate.acquire_owned().await.unwrap();
                let mut report = client
                    .secondary_profile(&flow)
                    .journal(MemoryStore::new())
                    .options(options)
                    .run()
                    .await
                    .unwrap();
                report.submit(Submission::WhenCompliant).await.unwrap();
                report.evaluation.is_compliant()
            });
        }
        let mut compliant = 0;
        while let Some(done) = tasks.join_next().await {
            compliant += usize::from(done.unwrap());
        }
        compliant
    });
    let wall = started.elapsed();
    let (cpu_after, emu_after) = cpu_split();
    let client_cpu = cpu_after.saturating_sub(cpu_before);
    let counters = emulator.counters();
    println!(
        "{flows} flows (steps 1-10, sharing one preflight), {concurrency} at a time, no latency, {} cores:",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    println!(
        "  compliant:               {compliant}/{flows}; requests served by the emulator: {}",
        counters.requests_served
    );
    println!(
        "  wall time:               {:>8.2} s ({:.0} flows/s)",
        wall.as_secs_f64(),
        flows as f64 / wall.as_secs_f64()
    );
    println!(
        "  client CPU time:         {:>8.2} s = {:.3} ms per flow (target < 2 ms)",
        client_cpu.as_secs_f64(),
        client_cpu.as_secs_f64() * 1e3 / flows as f64
    );
    println!(
        "  emulator CPU time:       {:>8.2} s",
        emu_after.saturating_sub(emu_before).as_secs_f64()
    );
    println!(
        "  peak RSS (whole process, emulator state included): {:.1} MiB (target < 100 MB)",
        peak_rss_kib() as f64 / 1024.0
    );
    drop(client);
    emulator_rt.block_on(emulator.shutdown());
    drop(emulator_rt);

    // 3. Client CPU and peak RSS against bare reqwest, at 1, 16 and 64 flows at once.
    against_bare_reqwest(full);
}

// ---- 3. Client CPU and peak RSS against bare reqwest ----

/// What a child process measures: CPU time and peak RSS of the whole process.
struct Measured {
    cpu: Duration,
    peak_rss_kib: u64,
}

/// CPU time (user + system) of this whole process, exited threads included, to the nanosecond
/// (`CLOCK_PROCESS_CPUTIME_ID`; /proc's clock ticks are 10 ms).
fn process_cpu() -> Duration {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `now` is a valid, writable timespec; the clock id is a constant Linux knows.
    let status = unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut now) };
    assert_eq!(status, 0, "clock_gettime(CLOCK_PROCESS_CPUTIME_ID) failed");
    Duration::new(now.tv_sec as u64, now.tv_nsec as u32)
}

/// Where a child process finds the emulator, from its environment.
struct Target {
    base_url: String,
    account: String,
    token: String,
    primary: String,
    phone: String,
}

impl Target {
    const VARS: [&'static str; 5] = [
        "BENCH_BASE_URL",
        "BENCH_ACCOUNT",
        "BENCH_TOKEN",
        "BENCH_PRIMARY",
        "BENCH_PHONE",
    ];

    fn of(emulator: &trusthub_emulator::Emulator) -> Vec<(&'static str, String)> {
        let values = [
            emulator.base_url().to_owned(),
            emulator.account_sid().to_owned(),
            emulator.auth_token().to_owned(),
            emulator.primary_profile_sid().to_owned(),
            emulator.phone_number_sids()[0].clone(),
        ];
        Self::VARS.into_iter().zip(values).collect()
    }

    fn from_env() -> Target {
        let var = |name: &str| std::env::var(name).unwrap_or_else(|_| panic!("{name} is not set"));
        Target {
            base_url: var("BENCH_BASE_URL"),
            account: var("BENCH_ACCOUNT"),
            token: var("BENCH_TOKEN"),
            primary: var("BENCH_PRIMARY"),
            phone: var("BENCH_PHONE"),
        }
    }
}

/// Runs `flows` flows (steps 2-10), `concurrency` at a time, through this crate's client.
async fn client_flows(target: &Target, flows: usize, concurrency: usize) -> Measured {
    let client = trusthub::Client::builder()
        .account_sid(target.account.parse().unwrap())
        .auth_token(target.token.clone())
        .base_url(target.base_url.clone())
        .build()
        .unwrap();
    let primary = target.primary.parse().unwrap();
    let phone = target.phone.parse().unwrap();
    let input = move |n: usize| {
        fixtures::input_for(primary, phone, &format!("Bench {n}"))
            .build()
            .unwrap()
    };
    // The checks are made once, as a batch does, and not counted: the baseline makes none.
    let checked = Arc::new(
        Preflight::check(&client, input(0).policy(), primary)
            .await
            .unwrap(),
    );
    let start = process_cpu();
    let gate = Arc::new(tokio::sync::Semaphore::new(concurrency));
    let mut tasks = tokio::task::JoinSet::new();
    for n in 0..flows {
        let client = client.clone();
        let gate = gate.clone();
        let options = FlowOptions {
            preflight: Some(checked.clone()),
            ..FlowOptions::default()
        };
        tasks.spawn(async move {
            let _slot = gate.acquire_owned().await.unwrap();
            // Each customer's input is built and validated in its task, as a batch does (and
            // as the baseline builds its bodies): counted.
            let flow = input(n);
            let mut report = client
                .secondary_profile(&flow)
                .journal(MemoryStore::new())
                .options(options)
                .run()
                .await
                .unwrap();
            report.submit(Submission::WhenCompliant).await.unwrap();
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.unwrap();
    }
    Measured {
        cpu: process_cpu().saturating_sub(start),
        peak_rss_kib: peak_rss_kib(),
    }
}

/// The same requests as one flow (steps 2-10, in the same rounds), sent with bare reqwest: form
/// bodies built by hand, answers read as JSON values for their `sid`.
struct Bare {
    http: reqwest::Client,
    base: String,
    account: String,
    authorization: reqwest::header::HeaderValue,
    primary: String,
    phone: String,
    business: String,
    representatives: [String; 2],
}

impl Bare {
    fn new(target: &Target) -> Bare {
        use base64::Engine as _;
        let credentials = base64::engine::general_purpose::STANDARD
            .encode(format!("{}:{}", target.account, target.token));
        Bare {
            http: reqwest::Client::new(),
            base: target.base_url.trim_end_matches('/').to_owned(),
            account: target.account.clone(),
            authorization: format!("Basic {credentials}").parse().unwrap(),
            primary: target.primary.clone(),
            phone: target.phone.clone(),
            business: fixtures::business().to_attributes().to_string(),
            representatives: [
                fixtures::representative(1).to_attributes().to_string(),
                fixtures::representative(2).to_attributes().to_string(),
            ],
        }
    }

    /// POSTs `form` to `path` and returns the answer's `sid`.
    async fn post<const N: usize>(&self, path: &str, form: [(&str, &str); N]) -> String {
        let answer: serde_json::Value = self
            .http
            .post(format!("{}{path}", self.base))
            .header(reqwest::header::AUTHORIZATION, self.authorization.clone())
            .form(&form[..])
            .send()
            .await
            .unwrap()
            .error_for_status()
            .unwrap()
            .bytes()
            .await
            .map(|body| serde_json::from_slice(&body).unwrap())
            .unwrap();
        answer["sid"].as_str().unwrap_or_default().to_owned()
    }

    async fn flow(&self, n: usize) {
        let tag = format!("th-bench{n:012}");
        let policy = "RNdfbf3fae0e1107f8aded0e7cead80bf5";
        let name = format!("Bench {n}");
        let users = [
            (
                "business_information",
                "customer_profile_business_information",
                &self.business,
            ),
            (
                "representative_1",
                "authorized_representative_1",
                &self.representatives[0],
            ),
            (
                "representative_2",
                "authorized_representative_2",
                &self.representatives[1],
            ),
        ];
        let user_names: Vec<String> = users
            .iter()
            .map(|(key, ..)| format!("{key} {tag}"))
            .collect();
        let address_name = format!("address {tag}");
        let addresses = format!("/2010-04-01/Accounts/{}/Addresses.json", self.account);
        let (bundle, end_users, address) = tokio::join!(
            self.post(
                "/v1/CustomerProfiles",
                [
                    ("FriendlyName", &name),
                    ("Email", "compliance@acme.example.com"),
                    ("PolicySid", policy),
                ],
            ),
            futures_util::future::join_all(users.iter().zip(&user_names).map(
                |((_, kind, attributes), user_name)| self.post(
                    "/v1/EndUsers",
                    [
                        ("FriendlyName", user_name),
                        ("Type", kind),
                        ("Attributes", attributes)
                    ],
                )
            )),
            self.post(
                &addresses,
                [
                    ("CustomerName", "Acme Corp"),
                    ("Street", "555 Main Street"),
                    ("City", "San Francisco"),
                    ("Region", "CA"),
                    ("PostalCode", "94105"),
                    ("IsoCountry", "US"),
                    ("FriendlyName", &address_name),
                    ("StreetSecondary", "Suite 200"),
                ],
            ),
        );
        let document_attributes = serde_json::json!({ "address_sids": address }).to_string();
        let document_name = format!("customer_profile_address {tag}");
        let document = self
            .post(
                "/v1/SupportingDocuments",
                [
                    ("FriendlyName", document_name.as_str()),
                    ("Type", "customer_profile_address"),
                    ("Attributes", document_attributes.as_str()),
                ],
            )
            .await;
        let entities = format!("/v1/CustomerProfiles/{bundle}/EntityAssignments");
        let channels = format!("/v1/CustomerProfiles/{bundle}/ChannelEndpointAssignments");
        let objects: Vec<&str> = end_users
            .iter()
            .map(String::as_str)
            .chain([document.as_str(), self.primary.as_str()])
            .collect();
        let (_, _) = tokio::join!(
            futures_util::future::join_all(
                objects
                    .iter()
                    .map(|object| self.post(&entities, [("ObjectSid", object)]))
            ),
            self.post(
                &channels,
                [
                    ("ChannelEndpointType", "phone-number"),
                    ("ChannelEndpointSid", &self.phone),
                ],
            ),
        );
        self.post(
            &format!("/v1/CustomerProfiles/{bundle}/Evaluations"),
            [("PolicySid", policy)],
        )
        .await;
        self.post(
            &format!("/v1/CustomerProfiles/{bundle}"),
            [("Status", "pending-review")],
        )
        .await;
    }
}

/// Runs `flows` bare flows, `concurrency` at a time.
async fn bare_flows(target: &Target, flows: usize, concurrency: usize) -> Measured {
    let bare = Arc::new(Bare::new(target));
    let start = process_cpu();
    let gate = Arc::new(tokio::sync::Semaphore::new(concurrency));
    let mut tasks = tokio::task::JoinSet::new();
    for n in 0..flows {
        let bare = bare.clone();
        let gate = gate.clone();
        tasks.spawn(async move {
            let _slot = gate.acquire_owned().await.unwrap();
            bare.flow(n).await;
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.unwrap();
    }
    Measured {
        cpu: process_cpu().saturating_sub(start),
        peak_rss_kib: peak_rss_kib(),
    }
}

/// The child process: `--child <bare|client> <concurrency> <flows>`; prints `cpu_us rss_kib`.
fn child(args: &[String]) {
    let (mode, concurrency, flows) = (
        args[0].as_str(),
        args[1].parse().unwrap(),
        args[2].parse().unwrap(),
    );
    let target = Target::from_env();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let measured = runtime.block_on(async {
        match mode {
            "bare" => bare_flows(&target, flows, concurrency).await,
            _ => client_flows(&target, flows, concurrency).await,
        }
    });
    println!("{} {}", measured.cpu.as_micros(), measured.peak_rss_kib);
}

/// Runs one child process against `emulator` and reads what it measured.
fn measure(
    emulator: &[(&'static str, String)],
    mode: &str,
    concurrency: usize,
    flows: usize,
) -> Measured {
    let output = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--child",
            mode,
            &concurrency.to_string(),
            &flows.to_string(),
        ])
        .envs(emulator.iter().map(|(k, v)| (*k, v.as_str())))
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{mode} child failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = String::from_utf8(output.stdout).unwrap();
    let mut numbers = text.split_whitespace().map(|n| n.parse::<u64>().unwrap());
    Measured {
        cpu: Duration::from_micros(numbers.next().unwrap()),
        peak_rss_kib: numbers.next().unwrap(),
    }
}

/// Client CPU per flow and peak RSS, this crate's client against bare reqwest, each in a child
/// process of its own against a fresh emulator in this process (an emulator holding thousands of
/// bundles answers more slowly, which costs its clients CPU in wake-ups).
fn against_bare_reqwest(full: bool) {
    let (runs, flows) = if full { (5, 1000) } else { (1, 8) };
    let levels: &[usize] = if full { &[1, 16, 64] } else { &[1, 16] };
    println!(
        "client CPU per flow against bare reqwest (the same 14 requests per flow, steps 2-10, \
         inputs built and validated per flow; {flows} flows per run, each side in a process of \
         its own against a fresh emulator, median of {runs} runs; peak RSS the largest run):"
    );
    println!(
        "  at once  bare CPU/flow  client CPU/flow  ratio (target <= 1.20x)  bare peak RSS  client peak RSS (target <= 2x bare + 10 MiB)"
    );
    let mib = |kib: u64| kib as f64 / 1024.0;
    let fresh = |mode: &str, concurrency: usize| {
        let (emulator, emulator_rt) = start_emulator(EmulatorConfig::default());
        let measured = measure(&Target::of(&emulator), mode, concurrency, flows);
        emulator_rt.block_on(emulator.shutdown());
        measured
    };
    for &concurrency in levels {
        let (mut bare, mut ours) = (Vec::new(), Vec::new());
        for _ in 0..runs {
            bare.push(fresh("bare", concurrency));
            ours.push(fresh("client", concurrency));
        }
        let cpu = |all: &[Measured]| median(all.iter().map(|m| m.cpu).collect()) / flows as u32;
        let rss = |all: &[Measured]| all.iter().map(|m| m.peak_rss_kib).max().unwrap_or(0);
        let (bare_cpu, our_cpu) = (cpu(&bare), cpu(&ours));
        let (bare_rss, our_rss) = (rss(&bare), rss(&ours));
        let ratio = our_cpu.as_secs_f64() / bare_cpu.as_secs_f64().max(1e-9);
        println!(
            "  {concurrency:>7}  {:>9.3} ms  {:>12.3} ms  {:>8.2}x {:<14} {:>9.1} MiB  {:>10.1} MiB {}",
            bare_cpu.as_secs_f64() * 1e3,
            our_cpu.as_secs_f64() * 1e3,
            ratio,
            if ratio <= 1.2 { "(met)" } else { "(missed)" },
            mib(bare_rss),
            mib(our_rss),
            if mib(our_rss) <= 2.0 * mib(bare_rss) + 10.0 {
                "(met)"
            } else {
                "(missed)"
            },
        );
    }
}
