//! Helpers for end-to-end tests and benchmarks: real providers on
//! 127.0.0.1 port 0, real subscriber servers, and the moto emulator.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{StatusCode, Uri};
use cloudim_bootstrap::Config;
use cloudim_http::AppState;
use tokio::sync::{Mutex, Notify};

pub mod fake_site;
pub mod people;
pub use fake_site::{ConnectionCounter, FakeSite};
pub use people::{Person, armored_key};

/// A running provider.
pub struct TestApp {
    /// Where it listens.
    pub addr: SocketAddr,
    /// `http://127.0.0.1:port`.
    pub base: String,
    /// Its state (for assertions on storage).
    pub state: AppState,
    server: tokio::task::JoinHandle<()>,
}

impl TestApp {
    /// Stops the server (the data stays where the config put it).
    pub fn stop(self) {
        self.server.abort();
    }
}

/// A configuration for a local provider with its data in `dir`, plus flags.
pub fn local_config(dir: &Path, extra: &[&str]) -> Config {
    let mut args = vec!["--store", "local", "--data-dir", dir.to_str().unwrap_or("."), "--allow-private-targets", "--admin-token", ADMIN_TOKEN];
    args.extend_from_slice(extra);
    Config::from_args(args).unwrap_or_else(|e| panic!("bad test config: {e}"))
}

/// A configuration that refuses private addresses except the exact
/// `host:port` entries of `allow`, as a provider on Lambda would.
pub fn strict_config(store: &StoreChoice, allow: &[SocketAddr], extra: &[&str]) -> Config {
    let allow = allow.iter().map(|a| a.to_string()).collect::<Vec<_>>().join(",");
    let mut args: Vec<String> = match store {
        StoreChoice::Local(dir) => vec!["--store".into(), "local".into(), "--data-dir".into(), dir.to_string_lossy().into_owned()],
        StoreChoice::Emulator { bucket, table, .. } => {
            vec!["--store".into(), "aws".into(), "--bucket".into(), bucket.clone(), "--table".into(), table.clone(), "--create-resources".into()]
        }
    };
    args.extend(["--admin-token".into(), ADMIN_TOKEN.into()]);
    if !allow.is_empty() {
        args.extend(["--allow".into(), allow]);
    }
    args.extend(extra.iter().map(|s| s.to_string()));
    Config::from_args(args).unwrap_or_else(|e| panic!("bad test config: {e}"))
}

/// Where a test provider keeps its data.
pub enum StoreChoice {
    /// The embedded store in this directory.
    Local(std::path::PathBuf),
    /// S3 and DynamoDB on the emulator, under fresh names.
    Emulator {
        /// The emulator's endpoint.
        endpoint: String,
        /// A bucket of this provider's own.
        bucket: String,
        /// A table of this provider's own.
        table: String,
    },
}

impl StoreChoice {
    /// An emulator store with names unique to this call.
    pub fn emulator(endpoint: &str) -> Self {
        let n: u64 = rand::random();
        Self::Emulator { endpoint: endpoint.to_owned(), bucket: format!("cloudim-test-{n:x}"), table: format!("cloudim-test-{n:x}") }
    }

    /// The SDK configuration this store needs, if any.
    pub async fn sdk(&self) -> Option<aws_config::SdkConfig> {
        match self {
            Self::Local(_) => None,
            Self::Emulator { endpoint, .. } => Some(emulator_sdk(endpoint).await),
        }
    }
}

/// Two strict providers, each allowing only the other's exact address.
pub async fn two_providers(a: &StoreChoice, b: &StoreChoice, extra: &[&str]) -> (TestApp, TestApp) {
    let (la, lb) = (bind().await, bind().await);
    let (aa, ab) = (la.local_addr().unwrap_or_else(|e| panic!("{e}")), lb.local_addr().unwrap_or_else(|e| panic!("{e}")));
    let pa = spawn_on(la, &strict_config(a, &[ab], extra), a.sdk().await).await;
    let pb = spawn_on(lb, &strict_config(b, &[aa], extra), b.sdk().await).await;
    (pa, pb)
}

/// Two strict providers on the embedded store, each in a fresh directory
/// that lives as long as the returned guard.
pub async fn two_local_providers(extra: &[&str]) -> (TestApp, TestApp, [tempfile::TempDir; 2]) {
    let dirs = [tempfile::tempdir().unwrap_or_else(|e| panic!("{e}")), tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"))];
    let (a, b) = two_providers(&StoreChoice::Local(dirs[0].path().into()), &StoreChoice::Local(dirs[1].path().into()), extra).await;
    (a, b, dirs)
}

/// Binds a listener on 127.0.0.1, port 0.
pub async fn bind() -> tokio::net::TcpListener {
    tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap_or_else(|e| panic!("bind: {e}"))
}

/// The admin token every test provider uses.
pub const ADMIN_TOKEN: &str = "test-admin-token-0123456789";

/// Starts a provider (all four functions) on 127.0.0.1, port 0 or `port`.
pub async fn spawn_app(config: &Config, port: u16) -> TestApp {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await.unwrap_or_else(|e| panic!("bind: {e}"));
    spawn_on(listener, config, None).await
}

/// Starts a provider on an already bound listener, with an AWS SDK
/// configuration for the emulator when given.
pub async fn spawn_on(listener: tokio::net::TcpListener, config: &Config, sdk: Option<aws_config::SdkConfig>) -> TestApp {
    let built = cloudim_bootstrap::build_with_sdk(config, sdk).await.unwrap_or_else(|e| panic!("build: {e:#}"));
    let addr = listener.local_addr().unwrap_or_else(|e| panic!("{e}"));
    let app = cloudim_http::all_in_one(built.state.clone());
    let server = tokio::spawn(async move {
        let _ = cloudim_bootstrap::serve_local(listener, app).await;
    });
    TestApp { addr, base: format!("http://{addr}"), state: built.state, server }
}

/// An HTTP client for tests.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().timeout(Duration::from_secs(30)).build().unwrap_or_else(|e| panic!("{e}"))
}

/// Creates an account through the admin endpoint; returns its token.
pub async fn create_account(app: &TestApp, name: &str) -> String {
    let resp = client().post(format!("{}/admin/accounts", app.base)).bearer_auth(ADMIN_TOKEN).json(&serde_json::json!({ "name": name })).send().await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(resp.status(), 201, "create account");
    let v: serde_json::Value = resp.json().await.unwrap_or_else(|e| panic!("{e}"));
    v["token"].as_str().unwrap_or_default().to_owned()
}

/// Creates a feed; returns (id, url).
pub async fn create_feed(app: &TestApp, token: &str) -> (String, String) {
    let resp = client().post(format!("{}/feeds", app.base)).bearer_auth(token).json(&serde_json::json!({ "title": "test" })).send().await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(resp.status(), 201, "create feed");
    let v: serde_json::Value = resp.json().await.unwrap_or_else(|e| panic!("{e}"));
    (v["id"].as_str().unwrap_or_default().to_owned(), v["url"].as_str().unwrap_or_default().to_owned())
}

/// Publishes one item; returns the status.
pub async fn publish(app: &TestApp, token: &str, feed: &str, id: &str, payload: &str) -> u16 {
    client()
        .post(format!("{}/feeds/{feed}/items", app.base))
        .bearer_auth(token)
        .json(&serde_json::json!({ "id": id, "payload": payload }))
        .send()
        .await
        .map(|r| r.status().as_u16())
        .unwrap_or_else(|e| panic!("{e}"))
}

/// A subscriber: an HTTP server that answers challenges, records every
/// notification (path and body) and can be told to fail.
#[derive(Clone)]
pub struct Subscriber {
    /// Where it listens.
    pub addr: SocketAddr,
    inner: Arc<SubscriberInner>,
}

struct SubscriberInner {
    received: Mutex<Vec<(String, String)>>,
    challenges: Mutex<Vec<String>>,
    arrived: Notify,
    failing: AtomicBool,
}

impl Subscriber {
    /// Starts a subscriber on 127.0.0.1 port 0.
    pub async fn spawn() -> Self {
        let inner = Arc::new(SubscriberInner { received: Mutex::default(), challenges: Mutex::default(), arrived: Notify::new(), failing: AtomicBool::new(false) });
        let app = Router::new().fallback(subscriber_handler).with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap_or_else(|e| panic!("{e}"));
        let addr = listener.local_addr().unwrap_or_else(|e| panic!("{e}"));
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self { addr, inner }
    }

    /// Makes every later request fail with 500 (or succeed again).
    pub fn set_failing(&self, failing: bool) {
        self.inner.failing.store(failing, Ordering::SeqCst);
    }

    /// Notifications received so far: (path, body).
    pub async fn received(&self) -> Vec<(String, String)> {
        self.inner.received.lock().await.clone()
    }

    /// Challenges answered so far.
    pub async fn challenges(&self) -> Vec<String> {
        self.inner.challenges.lock().await.clone()
    }

    /// Waits until at least `n` notifications arrived, or the timeout passes.
    pub async fn wait_for(&self, n: usize, timeout: Duration) -> Vec<(String, String)> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let notified = self.inner.arrived.notified();
            let got = self.received().await;
            if got.len() >= n || tokio::time::Instant::now() >= deadline {
                return got;
            }
            let _ = tokio::time::timeout_at(deadline, notified).await;
        }
    }

    /// Clears what was received.
    pub async fn clear(&self) {
        self.inner.received.lock().await.clear();
    }
}

async fn subscriber_handler(State(s): State<Arc<SubscriberInner>>, method: axum::http::Method, uri: Uri, Query(q): Query<Vec<(String, String)>>, body: Bytes) -> (StatusCode, String) {
    if s.failing.load(Ordering::SeqCst) {
        return (StatusCode::INTERNAL_SERVER_ERROR, "down".into());
    }
    if method == axum::http::Method::GET {
        let challenge = q.iter().find(|(k, _)| k == "challenge").map(|(_, v)| v.clone()).unwrap_or_default();
        s.challenges.lock().await.push(challenge.clone());
        return (StatusCode::OK, challenge);
    }
    s.received.lock().await.push((uri.path().to_owned(), String::from_utf8_lossy(&body).into_owned()));
    s.arrived.notify_waiters();
    (StatusCode::OK, "thanks".into())
}

/// The moto server endpoint for AWS-path tests: `CLOUDIM_TEST_AWS_ENDPOINT`
/// (`.ci/run` starts moto and sets it). Without it the test fails loudly,
/// in CI and outside, unless `CLOUDIM_SKIP_EMULATOR=1` was set explicitly,
/// in which case a loud notice is printed and `None` returned.
pub fn moto_endpoint() -> Option<String> {
    if let Ok(ep) = std::env::var("CLOUDIM_TEST_AWS_ENDPOINT") {
        return Some(ep);
    }
    if skip_allowed("CLOUDIM_SKIP_EMULATOR", "AWS-path tests NOT RUN: CLOUDIM_SKIP_EMULATOR=1 and no moto server.\n!! Run `bash .ci/run` to test the S3 and DynamoDB adapters for real.") {
        return None;
    }
    panic!("no AWS emulator: set CLOUDIM_TEST_AWS_ENDPOINT to a running moto server (`bash .ci/run` starts one), or CLOUDIM_SKIP_EMULATOR=1 to skip the AWS-path tests outside CI");
}

/// Whether a test whose prerequisites are missing may skip: only outside
/// CI, and only when `var=1` was set explicitly. Prints `notice` loudly
/// when it does.
pub fn skip_allowed(var: &str, notice: &str) -> bool {
    let ci = std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false");
    let skip = !ci && std::env::var(var).is_ok_and(|v| v == "1");
    if skip {
        eprintln!("\n!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n!! {notice}\n!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n");
    }
    skip
}

/// Percent-encodes a form or query value.
pub fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// An API Gateway HTTP API (v2) event, as API Gateway (or a function URL)
/// hands a request to a Lambda function. The host is `headers.host`.
pub fn apigw_v2_event(method: &str, path: &str, query: &str, headers: serde_json::Value, body: &str) -> serde_json::Value {
    let host = headers["host"].as_str().unwrap_or("127.0.0.1").to_owned();
    serde_json::json!({
        "version": "2.0", "routeKey": "$default", "rawPath": path, "rawQueryString": query,
        "headers": headers,
        "requestContext": {
            "accountId": "123456789012", "apiId": "a1b2c3d4e5", "domainName": host, "domainPrefix": "api",
            "http": { "method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1", "userAgent": "cloudim-tests" },
            "requestId": format!("req-{:08x}", rand::random::<u32>()), "routeKey": "$default", "stage": "$default",
            "time": "21/Nov/2026:12:00:00 +0000", "timeEpoch": 1_795_262_400_000u64
        },
        "body": body, "isBase64Encoded": false
    })
}

/// An AWS SDK configuration for the emulator at `endpoint`.
pub async fn emulator_sdk(endpoint: &str) -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_s3::config::Credentials::new("test", "test", None, None, "cloudim-tests"))
        .load()
        .await
}

/// A provider with its data in a fresh temporary directory, an account
/// `alice` and one feed of hers.
pub struct Fixture {
    /// Keeps the data directory alive as long as the fixture.
    pub dir: tempfile::TempDir,
    /// The running provider.
    pub app: TestApp,
    /// Alice's token.
    pub token: String,
    /// The feed's id.
    pub feed_id: String,
    /// The feed's URL.
    pub feed_url: String,
}

/// Starts a provider (with extra flags) holding one account and one feed.
pub async fn app_with_feed(extra: &[&str]) -> Fixture {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let app = spawn_app(&local_config(dir.path(), extra), 0).await;
    let token = create_account(&app, "alice").await;
    let (feed_id, feed_url) = create_feed(&app, &token).await;
    Fixture { dir, app, token, feed_id, feed_url }
}

/// A live http-post subscription record (expiring 25 hours after `now`).
pub fn subscription(feed: &cloudim_protocol::FeedId, resource: &str, callback: String, now: u64) -> cloudim_domain::Subscription {
    use cloudim_protocol::NotifyProtocol;
    cloudim_domain::Subscription {
        feed: feed.clone(),
        id: cloudim_domain::SubscriberId::derive(NotifyProtocol::HttpPost, &callback, None),
        resource: resource.to_owned(),
        protocol: NotifyProtocol::HttpPost,
        callback,
        procedure: None,
        created_at: now,
        renewed_at: now,
        expires_at: now + 90_000,
        failures: 0,
    }
}
