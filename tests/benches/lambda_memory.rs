//! Peak memory of the release `publish` and `notify` Lambda binaries,
//! running under a Lambda Runtime API stand-in (this program) and driven
//! by API Gateway v2 events:
//!
//! - publish: an account, a feed, 2,000 appends of 1 KiB items (archive
//!   pages included), 200 feed reads;
//! - notify: 100 `pleaseNotify` registrations (each verified by a test
//!   notification to a subscriber here), then 200 fan-out events (the
//!   asynchronous path publish uses on AWS), each notifying all 100.
//!
//! Prints each binary's size and its peak resident set (`VmHWM`). Build
//! the binaries first: `cargo build --release -p cloudim-fn-publish -p
//! cloudim-fn-notify`, then `cargo bench -p cloudim-tests --bench
//! lambda_memory`. The embedded store is used, or S3/DynamoDB on the
//! emulator named by `CLOUDIM_TEST_AWS_ENDPOINT`.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue};
use axum::response::IntoResponse;
use serde_json::{Value, json};
use tokio::sync::{Mutex, mpsc, oneshot};

/// One invocation: request id, event, and where its answer goes.
type Invocation = (String, Value, oneshot::Sender<Value>);

/// The runtime API: events go out on `next`, answers come back by request id.
#[derive(Clone)]
struct Runtime {
    events: Arc<Mutex<mpsc::Receiver<Invocation>>>,
    waiting: Arc<Mutex<HashMap<String, oneshot::Sender<Value>>>>,
}

async fn next(State(rt): State<Runtime>) -> impl IntoResponse {
    let (id, event, reply) = rt.events.lock().await.recv().await.expect("events");
    rt.waiting.lock().await.insert(id.clone(), reply);
    let mut h = HeaderMap::new();
    h.insert("lambda-runtime-aws-request-id", HeaderValue::from_str(&id).unwrap());
    h.insert("lambda-runtime-deadline-ms", HeaderValue::from_str(&(now_ms() + 60_000).to_string()).unwrap());
    h.insert("lambda-runtime-invoked-function-arn", HeaderValue::from_static("arn:aws:lambda:us-east-1:000000000000:function:bench"));
    h.insert("lambda-runtime-trace-id", HeaderValue::from_static("Root=1-00000000-000000000000000000000000"));
    (h, axum::Json(event))
}

async fn response(State(rt): State<Runtime>, Path(id): Path<String>, body: String) -> &'static str {
    if let Some(tx) = rt.waiting.lock().await.remove(&id) {
        let _ = tx.send(serde_json::from_str(&body).unwrap_or(Value::String(body)));
    }
    "ok"
}

async fn error(Path(id): Path<String>, body: String) -> &'static str {
    panic!("invocation {id} failed: {body}");
}

fn now_ms() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as u64
}

/// One function process under the stand-in runtime.
struct Function {
    name: &'static str,
    child: std::process::Child,
    tx: mpsc::Sender<Invocation>,
    n: usize,
}

impl Function {
    async fn start(name: &'static str, env: &[(String, String)]) -> Self {
        let (tx, rx) = mpsc::channel(1);
        let rt = Runtime { events: Arc::new(Mutex::new(rx)), waiting: Arc::default() };
        let app = axum::Router::new()
            .route("/2018-06-01/runtime/invocation/next", axum::routing::get(next))
            .route("/2018-06-01/runtime/invocation/{id}/response", axum::routing::post(response))
            .route("/2018-06-01/runtime/invocation/{id}/error", axum::routing::post(error))
            .with_state(rt);
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(l, app).await });
        let bin = binary(name);
        let child = std::process::Command::new(&bin)
            .env_clear()
            .env("AWS_LAMBDA_RUNTIME_API", addr.to_string())
            .env("AWS_LAMBDA_FUNCTION_NAME", name)
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_LAMBDA_LOG_STREAM_NAME", "bench")
            .env("AWS_LAMBDA_LOG_GROUP_NAME", "bench")
            .env("RUST_LOG", "warn")
            .envs(env.iter().cloned())
            .spawn()
            .unwrap_or_else(|e| panic!("{}: {e}", bin.display()));
        Self { name, child, tx, n: 0 }
    }

    async fn call(&mut self, ev: Value) -> Value {
        self.n += 1;
        let (reply, rx) = oneshot::channel();
        self.tx.send((format!("req-{}", self.n), ev, reply)).await.unwrap();
        tokio::time::timeout(Duration::from_secs(60), rx).await.expect("the function answered").unwrap()
    }

    fn peak_kib(&self) -> u64 {
        let pid = self.child.id();
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
        status.lines().find(|l| l.starts_with("VmHWM:")).and_then(|l| l.split_whitespace().nth(1)).unwrap().parse().unwrap()
    }

    fn report(&self, what: &str) {
        let size = std::fs::metadata(binary(self.name)).unwrap().len();
        println!("{:<8} binary {:>5.1} MB   peak RSS {:>6.1} MB   after {what}", self.name, size as f64 / 1e6, self.peak_kib() as f64 / 1024.0);
    }
}

impl Drop for Function {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn binary(name: &str) -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"));
    let bin = target.join("release").join(format!("cloudim-fn-{name}"));
    assert!(bin.exists(), "{} is missing: cargo build --release -p cloudim-fn-publish -p cloudim-fn-notify", bin.display());
    bin
}

fn status_of(v: &Value) -> u64 {
    v["statusCode"].as_u64().unwrap_or(0)
}

fn body_of(v: &Value) -> Value {
    serde_json::from_str(v["body"].as_str().unwrap_or("null")).unwrap_or(Value::Null)
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let dir = tempfile::tempdir().unwrap();
    let mut env: Vec<(String, String)> = vec![("CLOUDIM_ADMIN_TOKEN".into(), "bench-admin-token-0123456789".into()), ("CLOUDIM_ALLOW_PRIVATE_TARGETS".into(), "true".into())];
    match std::env::var("CLOUDIM_TEST_AWS_ENDPOINT") {
        Ok(endpoint) => {
            let suffix = now_ms();
            println!("store: S3 + DynamoDB on {endpoint}");
            for (k, v) in [
                ("CLOUDIM_STORE", "aws".to_owned()),
                ("CLOUDIM_BUCKET", format!("bench-{suffix}")),
                ("CLOUDIM_TABLE", format!("bench-{suffix}")),
                ("CLOUDIM_CREATE_RESOURCES", "true".to_owned()),
                ("AWS_ENDPOINT_URL", endpoint),
                ("AWS_ACCESS_KEY_ID", "test".to_owned()),
                ("AWS_SECRET_ACCESS_KEY", "test".to_owned()),
                ("AWS_REGION", "us-east-1".to_owned()),
            ] {
                env.push((k.into(), v));
            }
        }
        Err(_) => {
            println!("store: embedded, in {}", dir.path().display());
            env.push(("CLOUDIM_STORE".into(), "local".into()));
            env.push(("CLOUDIM_DATA_DIR".into(), dir.path().display().to_string()));
        }
    }
    let json_headers = |token: &str| json!({ "host": "127.0.0.1", "content-type": "application/json", "authorization": format!("Bearer {token}") });

    let mut publish = Function::start("publish", &env).await;
    let admin = "bench-admin-token-0123456789";
    let r = publish.call(cloudim_tests::apigw_v2_event("POST", "/admin/accounts", "", json_headers(admin), r#"{"name":"alice"}"#)).await;
    assert_eq!(status_of(&r), 201, "{r}");
    let token = body_of(&r)["token"].as_str().unwrap().to_owned();
    let r = publish.call(cloudim_tests::apigw_v2_event("POST", "/feeds", "", json_headers(&token), "{}")).await;
    let feed = body_of(&r)["id"].as_str().unwrap().to_owned();
    publish.report("start, an account and a feed");
    let payload = format!("-----BEGIN PGP MESSAGE-----\n{}\n-----END PGP MESSAGE-----", "A".repeat(1024));
    let t = Instant::now();
    for i in 0..2000 {
        let body = json!({ "id": format!("item-{i}"), "payload": payload }).to_string();
        let r = publish.call(cloudim_tests::apigw_v2_event("POST", &format!("/feeds/{feed}/items"), "", json_headers(&token), &body)).await;
        assert_eq!(status_of(&r), 201, "{r}");
    }
    let appends = t.elapsed();
    for _ in 0..200 {
        let r = publish.call(cloudim_tests::apigw_v2_event("GET", &format!("/feeds/{feed}"), "", json!({ "host": "127.0.0.1" }), "")).await;
        assert_eq!(status_of(&r), 200);
    }
    publish.report(&format!("2,000 appends ({:.2} ms each through the runtime API) and 200 reads", appends.as_secs_f64() * 1000.0 / 2000.0));

    // Subscribers for notify.
    let count = Arc::new(AtomicUsize::new(0));
    let sub = {
        let count = count.clone();
        axum::Router::new().fallback(move || {
            let count = count.clone();
            async move {
                count.fetch_add(1, Ordering::SeqCst);
                "ok"
            }
        })
    };
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = l.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(l, sub).await });

    let mut notify = Function::start("notify", &env).await;
    let url = format!("http://127.0.0.1/feeds/{feed}");
    for i in 0..100 {
        let form = format!("notifyProcedure=&port={port}&path=/n/{i}&protocol=http-post&url1={}", url.replace(':', "%3A").replace('/', "%2F"));
        let r = notify.call(cloudim_tests::apigw_v2_event("POST", "/pleaseNotify", "", json!({ "host": "127.0.0.1", "content-type": "application/x-www-form-urlencoded", "accept": "application/json" }), &form)).await;
        assert_eq!(status_of(&r), 200, "{r}");
    }
    notify.report("100 pleaseNotify registrations");
    count.store(0, Ordering::SeqCst);
    let t = Instant::now();
    for _ in 0..200 {
        let mut ev = cloudim_store_aws::fanout_event(&cloudim_protocol::Tenant::parse("127.0.0.1").unwrap(), &cloudim_protocol::FeedId::parse(&feed).unwrap());
        ev["requestContext"]["timeEpoch"] = json!(0);
        let r = notify.call(ev).await;
        assert_eq!(status_of(&r), 200, "{r}");
    }
    let fanouts = t.elapsed();
    assert_eq!(count.load(Ordering::SeqCst), 200 * 100);
    notify.report(&format!("200 fan-out events to 100 subscribers each ({:.1} ms per fan-out)", fanouts.as_secs_f64() * 1000.0 / 200.0));
}
