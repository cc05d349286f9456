//! The adaptive limiter against an account with a concurrency limit: 40 flows share one limiter
//! over an emulator that refuses (429, code 20429) more than 8 requests in flight, with 50 ms of
//! latency. The adaptive limiter, starting at 32, lowers its cap to the account's limit: every flow
//! succeeds and the account sees a fraction of the 429s a fixed cap of 32 causes.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::fixtures::{client, input};

use trusthub::flow::{
    FlowOptions, Limiter, LimiterState, MemoryStore, Preflight, SecondaryProfile,
};
use trusthub_emulator::{start, Counters, EmulatorConfig, Faults};

/// Requests of the account the emulator lets be in flight.
const ACCOUNT_LIMIT: u32 = 8;
const FLOWS: usize = 40;
const LATENCY: Duration = Duration::from_millis(50);
/// After this, the adaptive cap is expected to have come down to the account's limit.
const SETTLING: Duration = Duration::from_millis(1000);

struct Run {
    succeeded: usize,
    failed: usize,
    counters: Counters,
    limiter: LimiterState,
    /// The highest cap seen after [`SETTLING`].
    settled_peak: usize,
    elapsed: Duration,
}

async fn run(limiter: Limiter) -> Run {
    let emulator = start(
        EmulatorConfig::default()
            .with_seed(7)
            .with_faults(Faults::none().with_latency(LATENCY))
            .with_account_concurrency_limit(ACCOUNT_LIMIT),
    )
    .await
    .unwrap();
    let client = client(&emulator);
    let flows: Vec<SecondaryProfile> = (0..FLOWS)
        .map(|i| {
            input(&emulator, &format!("Acme Limit {i}"))
                .build()
                .unwrap()
        })
        .collect();
    // Checked once for the whole batch, as `trusthub onboard` does.
    let preflight = Arc::new(
        Preflight::check(&client, flows[0].policy(), flows[0].primary_profile())
            .await
            .unwrap(),
    );
    let options = FlowOptions {
        limiter: limiter.clone(),
        preflight: Some(preflight),
        ..FlowOptions::default()
    };
    let began = Instant::now();
    // The highest cap after the settling time, sampled every 10 ms.
    let peak = Arc::new(AtomicUsize::new(0));
    let sampler = {
        let (limiter, peak) = (limiter.clone(), peak.clone());
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_millis(10)).await;
                if began.elapsed() >= SETTLING {
                    peak.fetch_max(limiter.current().cap, Ordering::Relaxed);
                }
            }
        })
    };
    let mut tasks = tokio::task::JoinSet::new();
    for flow in flows {
        let client = client.clone();
        let options = options.clone();
        tasks.spawn(async move {
            client
                .secondary_profile(&flow)
                .journal(MemoryStore::new())
                .options(options)
                .run()
                .await
        });
    }
    let (mut succeeded, mut failed) = (0, 0);
    while let Some(result) = tasks.join_next().await {
        match result.unwrap() {
            Ok(report) if report.evaluation.is_compliant() => succeeded += 1,
            _ => failed += 1,
        }
    }
    let elapsed = began.elapsed();
    sampler.abort();
    let counters = emulator.counters();
    emulator.shutdown().await;
    Run {
        succeeded,
        failed,
        counters,
        limiter: limiter.current(),
        settled_peak: peak.load(Ordering::Relaxed),
        elapsed,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_adaptive_limiter_settles_at_the_account_limit() {
    // Both batches at once, each against an emulator of its own.
    let (adaptive, fixed) = tokio::join!(run(Limiter::adaptive(1, 32, 64)), run(Limiter::new(32)));
    let report = |name: &str, run: &Run| {
        eprintln!(
            "{name}: {} ok, {} failed in {:?}; account 429s {}, most in flight {}; limiter {:?}, \
             peak cap after {SETTLING:?}: {}",
            run.succeeded,
            run.failed,
            run.elapsed,
            run.counters.account_limit_429,
            run.counters.max_in_flight,
            run.limiter,
            run.settled_peak,
        )
    };
    report("adaptive", &adaptive);
    report("fixed", &fixed);

    assert_eq!((adaptive.succeeded, adaptive.failed), (FLOWS, 0));
    assert_eq!(adaptive.counters.customer_profiles, FLOWS as u64);
    // The 429s the account sent are the ones the limiter saw (the creates are sent without
    // transport retries, and the batch's checks were made before).
    assert_eq!(
        adaptive.limiter.overloads, adaptive.counters.account_limit_429,
        "every 429 reached the limiter"
    );
    assert!(
        adaptive.counters.account_limit_429 * 4 < fixed.counters.account_limit_429,
        "adaptive: {} 429s, fixed at 32: {}",
        adaptive.counters.account_limit_429,
        fixed.counters.account_limit_429
    );
    // Down from 32 to the account's limit (halvings: 32 -> 16 -> 8 at least), and kept there.
    assert!(adaptive.limiter.decreases >= 2, "{:?}", adaptive.limiter);
    let limit = ACCOUNT_LIMIT as usize;
    assert!(
        adaptive.settled_peak <= limit + 1,
        "the cap went back up to {} after settling",
        adaptive.settled_peak
    );
    assert!(adaptive.limiter.cap <= limit + 1, "{:?}", adaptive.limiter);
    assert_eq!(adaptive.limiter.in_flight, 0);
    // The fixed cap kept sending 32 at once.
    assert_eq!(fixed.limiter.cap, 32);
    assert!(fixed.counters.account_limit_429 > 0);
}
