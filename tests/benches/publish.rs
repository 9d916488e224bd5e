//! Benchmark: publish latency with a feed history of 10 items vs 100,000
//! items, through the domain on the embedded store (head 50, pages of 50).
//! Run: `cargo bench -p cloudim-tests --bench publish`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by panicking

use std::sync::Arc;
use std::time::Instant;

use cloudim_domain::dispatch::LocalDispatcher;
use cloudim_domain::*;
use cloudim_protocol::Origin;

const SAMPLES: usize = 300;

#[tokio::main]
async fn main() {
    let history: usize = std::env::var("CLOUDIM_BENCH_HISTORY").ok().and_then(|v| v.parse().ok()).unwrap_or(100_000);
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(cloudim_store_local::LocalStore::open(dir.path()).await.unwrap());
    let (dispatcher, _queue) = LocalDispatcher::new();
    let outbound = Arc::new(cloudim_domain::fakes::RecordingOutbound::default());
    let provider = Provider::new(
        Ports {
            feeds: store.clone(),
            accounts: store.clone(),
            subscriptions: store.clone(),
            inbox: store.clone(),
            handshake: store.clone(),
            discovery: store.clone(),
            tenants: store,
            outbound: outbound.clone(),
            federation: outbound,
            dispatcher: Arc::new(dispatcher),
            clock: Arc::new(SystemClock),
        },
        // Unthrottled: the bench measures appends, not the tenant's rate limit.
        Settings { tenant_limits: Limits { publishes_per_minute: u64::MAX, ..Limits::default() }, ..Settings::default() },
    );
    let origin = Origin::from_host(false, "bench.example").unwrap();
    let (alice, _) = provider.create_account(origin.tenant(), "alice").await.unwrap();
    let payload = "-----BEGIN PGP MESSAGE-----\n".to_owned() + &"wcBMA0x1y2z3".repeat(60) + "\n-----END PGP MESSAGE-----";
    for target in [10usize, history] {
        let feed = provider.create_feed(&origin, &alice.name, None).await.unwrap();
        let fill = Instant::now();
        for i in 0..target {
            provider.append(&origin, &alice.name, &feed.id, &format!("h{i}"), payload.clone()).await.unwrap();
        }
        let fill = fill.elapsed();
        let mut lat = Vec::with_capacity(SAMPLES);
        for i in 0..SAMPLES {
            let t = Instant::now();
            provider.append(&origin, &alice.name, &feed.id, &format!("s{i}"), payload.clone()).await.unwrap();
            lat.push(t.elapsed());
        }
        lat.sort();
        let ms = |d: std::time::Duration| d.as_secs_f64() * 1e3;
        println!("publish at history {target:>7}: p50 {:.3} ms, p99 {:.3} ms over {SAMPLES} appends (filling took {:.1} s)",
            ms(lat[SAMPLES / 2]), ms(lat[SAMPLES * 99 / 100]), fill.as_secs_f64());
    }
}
