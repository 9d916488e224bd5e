//! Chat benchmarks, printed as figures:
//!
//! - send → watch: Alice sends 1,000 messages back to back (then 200, 50 ms
//!   apart); Bob's watch (a long poll on his provider) shows each; the
//!   time from the start of `send` to Bob's client having decrypted and
//!   verified it.
//! - seal (sign + encrypt) and open (decrypt + verify) per message, at
//!   100 B, 4 KiB and 64 KiB (one full part).
//!
//! `cargo bench -p cloudim --bench chat` (two local providers on
//! 127.0.0.1, embedded store, release build).

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

#[path = "../tests/support/mod.rs"]
mod support;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use cloudim::chat::Messenger;
use cloudim::chat::messenger::WatchState;
use cloudim_crypto::{SecretKey, open, seal};

fn pct(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn report(name: &str, mut d: Vec<Duration>) {
    d.sort();
    let ms = |x: Duration| x.as_secs_f64() * 1000.0;
    println!(
        "{name:<34} n={:<5} p50 {:>8.3} ms   p99 {:>8.3} ms   max {:>8.3} ms",
        d.len(),
        ms(pct(&d, 0.5)),
        ms(pct(&d, 0.99)),
        ms(*d.last().unwrap())
    );
}

fn crypto() {
    let alice = SecretKey::generate("alice <https://a.example/u/alice>").unwrap();
    let bob = SecretKey::generate("bob <https://b.example/u/bob>").unwrap();
    let (ap, bp) = (alice.public(), bob.public());
    for size in [100usize, 4096, 65536] {
        let body: Vec<u8> = (0..size).map(|i| b"abcdefghij"[i % 10]).collect();
        let mut seals = Vec::new();
        let mut opens = Vec::new();
        for _ in 0..200 {
            let t = Instant::now();
            let sealed = seal(&body, &alice, &[&bp, &ap]).unwrap();
            seals.push(t.elapsed());
            let t = Instant::now();
            let opened = open(sealed.as_bytes(), &bob, &[&ap]).unwrap();
            opens.push(t.elapsed());
            assert_eq!(opened.plaintext, body);
        }
        report(&format!("seal (sign+encrypt) {size} B"), seals);
        report(&format!("open (decrypt+verify) {size} B"), opens);
    }
}

async fn send_to_watch(n: usize, spacing: Duration) {
    let (_w, alice, bob) = support::pair().await;

    let arrived: Arc<Mutex<HashMap<String, Instant>>> = Arc::default();
    let watcher = {
        let (home, arrived) = (bob.home.clone(), arrived.clone());
        tokio::spawn(async move {
            let bob = Messenger::open(home, None).unwrap();
            let mut st = WatchState::default();
            let mut seen = 0;
            while seen < n {
                let (msgs, warnings) = bob.watch_once(&mut st, Duration::from_secs(5)).await.unwrap();
                assert!(warnings.is_empty(), "{warnings:?}");
                let now = Instant::now();
                let mut a = arrived.lock().unwrap();
                for m in msgs {
                    a.insert(m.text, now);
                    seen += 1;
                }
            }
        })
    };
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut started = Vec::with_capacity(n);
    let mut send_only = Vec::with_capacity(n);
    let t0 = Instant::now();
    for i in 0..n {
        let text = format!("message {i}");
        let t = Instant::now();
        alice.send("bob", text.as_bytes()).await.unwrap();
        send_only.push(t.elapsed());
        started.push((text, t));
        tokio::time::sleep(spacing).await;
    }
    tokio::time::timeout(Duration::from_secs(120), watcher).await.expect("every message arrived").unwrap();
    let total = t0.elapsed();
    let arrived = arrived.lock().unwrap();
    let latencies: Vec<Duration> = started.iter().map(|(text, t)| arrived[text].duration_since(*t)).collect();
    let how = if spacing.is_zero() { "back to back".to_owned() } else { format!("{} ms apart", spacing.as_millis()) };
    println!("{n} messages, {how}: sent and shown in {:.2} s", total.as_secs_f64());
    report("  send (seal, queue, publish)", send_only);
    report("  send → shown by watch", latencies);
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    crypto();
    send_to_watch(1000, Duration::ZERO).await;
    send_to_watch(200, Duration::from_millis(50)).await;
}
