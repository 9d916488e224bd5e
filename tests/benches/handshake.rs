//! Benchmark: the full handshake between two strict local providers over
//! loopback (embedded store): invite (notice → request → deliver) and accept
//! (follow + the reverse handshake), for 100 pairs of people.
//! Run: `cargo bench -p cloudim-tests --bench handshake`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // benchmarks fail loudly by panicking

use std::time::{Duration, Instant};

use cloudim_tests::*;

const PAIRS: usize = 100;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn report(what: &str, mut t: Vec<Duration>) {
    t.sort();
    println!(
        "{what:<8} n={}  p50 {:.2} ms  p99 {:.2} ms  max {:.2} ms",
        t.len(),
        percentile(&t, 0.5).as_secs_f64() * 1e3,
        percentile(&t, 0.99).as_secs_f64() * 1e3,
        t[t.len() - 1].as_secs_f64() * 1e3
    );
}

#[tokio::main]
async fn main() {
    let limits = ["--notices-per-identity-hour", "1000", "--notices-per-provider-hour", "100000"];
    let (pa, pb, _dirs) = two_local_providers(&limits).await;
    let (mut invites, mut accepts) = (Vec::new(), Vec::new());
    for i in 0..PAIRS {
        let a = Person::join(&pa, &format!("a{i}")).await;
        let b = Person::join(&pb, &format!("b{i}")).await;
        let t = Instant::now();
        let (status, _) = a.invite(&b.identity).await;
        invites.push(t.elapsed());
        assert_eq!(status, 201);
        let id = b.incoming("pending").await[0]["id"].as_str().unwrap().to_owned();
        let t = Instant::now();
        let (status, _) = b.decide(&id, "accept").await;
        accepts.push(t.elapsed());
        assert_eq!(status, 200);
    }
    report("invite", invites);
    report("accept", accepts);
}
