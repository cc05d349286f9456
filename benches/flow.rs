//! Flow benchmarks (`cargo bench --bench flow`), figures recorded in BENCHMARKS.md:
//!
//! 1. With 50 ms of emulator latency per request: one flow (steps 1-10) against its critical
//!    path: seven round trips when the flow checks the policy and the primary profile itself (two
//!    for the checks, five for steps 2-10), five when the checks were done once for a batch
//!    (`FlowOptions::preflight`); and against the same requests sent one at a time.
//! 2. With no latency: 1000 flows, 64 at a time, sharing one preflight as a batch does: the
//!    client's CPU time per flow and the process's peak RSS.
//!
//! The emulator runs in this process on its own runtime, on threads named `emulator*`; CPU time is
//! read per thread from /proc so the client's share excludes the emulator's. Linux only.

use std::sync::Arc;
use std::time::{Duration, Instant};

#[path = "../tests/fixtures/mod.rs"]
mod fixtures;

use trusthub::flow::{FlowOptions, Limiter, MemoryStore, Preflight, SecondaryProfile};
use trusthub::Submission;
use trusthub_emulator::{EmulatorConfig, Faults};

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
    // `cargo bench` passes `--bench`. Without it (`cargo test --all-targets` runs this binary as
    // a test) a smoke run checks that the benchmark works, with small counts and no figures.
    let full = std::env::args().any(|a| a == "--bench");
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
                let mut report = flow
                    .run(&client, Arc::new(MemoryStore::new()), options)
                    .await
                    .unwrap();
                report
                    .submit(&client, Submission::WhenCompliant)
                    .await
                    .unwrap();
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
                let mut report = flow
                    .run(&client, Arc::new(MemoryStore::new()), options)
                    .await
                    .unwrap();
                report
                    .submit(&client, Submission::WhenCompliant)
                    .await
                    .unwrap();
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
}
