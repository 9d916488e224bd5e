//! Benchmark: one ping → 1,000 loopback subscribers; time until every one
//! has been notified. Run: `cargo bench -p cloudim-tests --bench fanout`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by panicking

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use cloudim_protocol::{FeedId, Tenant};
use cloudim_tests::*;
use tokio::sync::Notify;

const SUBSCRIBERS: usize = 1000;
const SERVERS: usize = 10;
const RUNS: usize = 7;

#[tokio::main]
async fn main() {
    let Fixture { dir: _dir, app, feed_id: id, feed_url: url, .. } = app_with_feed(&[]).await;
    let count = Arc::new(AtomicUsize::new(0));
    let done = Arc::new(Notify::new());
    let mut ports = Vec::new();
    for _ in 0..SERVERS {
        let (count, done) = (count.clone(), done.clone());
        let app = Router::new().fallback(move || {
            let (count, done) = (count.clone(), done.clone());
            async move {
                if count.fetch_add(1, Ordering::SeqCst) + 1 == SUBSCRIBERS {
                    done.notify_one();
                }
                "ok"
            }
        });
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        ports.push(l.local_addr().unwrap().port());
        tokio::spawn(async move { axum::serve(l, app).await });
    }
    let tenant = Tenant::parse("127.0.0.1").unwrap();
    let feed = FeedId::parse(&id).unwrap();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    for i in 0..SUBSCRIBERS {
        let callback = format!("http://127.0.0.1:{}/n/{i}", ports[i % SERVERS]);
        let sub = subscription(&feed, &url, callback, now);
        app.state.provider.ports.subscriptions.put(&tenant, &sub).await.unwrap();
    }
    let c = client();
    let mut times = Vec::new();
    for run in 0..RUNS {
        count.store(0, Ordering::SeqCst);
        let start = Instant::now();
        let resp = c.post(format!("{}/ping", app.base)).form(&[("url", url.as_str())]).send().await.unwrap();
        assert_eq!(resp.status(), 200);
        tokio::time::timeout(Duration::from_secs(30), done.notified()).await.expect("all notified");
        let t = start.elapsed();
        if run > 0 {
            times.push(t); // the first run warms the connection pool
        }
        println!("run {run}: {SUBSCRIBERS} subscribers notified in {:.1} ms", t.as_secs_f64() * 1e3);
    }
    times.sort();
    println!("fanout: ping -> {SUBSCRIBERS} loopback subscribers: median {:.1} ms, best {:.1} ms, worst {:.1} ms (over {} warm runs)",
        times[times.len() / 2].as_secs_f64() * 1e3, times[0].as_secs_f64() * 1e3, times[times.len() - 1].as_secs_f64() * 1e3, times.len());
}
