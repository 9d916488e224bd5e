//! The emulated stack: the four **release Lambda binaries** (built by
//! `cargo lambda build --release`) run under `cargo lambda watch
//! --only-lambda-apis`, a local Lambda Runtime API, with the AWS adapters
//! on moto. They are driven through the Lambda path only: API Gateway v2
//! events sent to the emulator's Invoke API, and plain HTTP requests to its
//! function URLs, which it turns into function-URL events. Publish hands
//! its fan-out to notify through the Lambda Invoke API of the same
//! emulator, as on AWS.
//!
//! Needs `CLOUDIM_LAMBDA_DIR` (the x86_64 `cargo lambda build` output) and
//! `cargo-lambda` (on `PATH` or `CLOUDIM_CARGO_LAMBDA`); `.ci/run` provides
//! both.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by panicking

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use cloudim_tests::*;
use serde_json::{Value, json};

const TENANT: &str = "chat.example";
const FUNCTIONS: [&str; 4] = ["discovery", "handshake", "publish", "notify"];

/// Where the release binaries are, and the `cargo-lambda` binary; `None`
/// (with a loud notice) only outside CI with `CLOUDIM_SKIP_EMULATED_STACK=1`.
fn prerequisites() -> Option<(PathBuf, PathBuf)> {
    let lambda_dir = std::env::var_os("CLOUDIM_LAMBDA_DIR").map(PathBuf::from);
    let cargo_lambda = std::env::var_os("CLOUDIM_CARGO_LAMBDA").map(PathBuf::from).or_else(|| which("cargo-lambda"));
    match (lambda_dir, cargo_lambda) {
        (Some(d), Some(c)) if FUNCTIONS.iter().all(|f| d.join(format!("cloudim-fn-{f}/bootstrap")).is_file()) => Some((d, c)),
        _ if skip_allowed("CLOUDIM_SKIP_EMULATED_STACK", "Emulated-stack test NOT RUN (CLOUDIM_SKIP_EMULATED_STACK=1).\n!! Run `bash .ci/run` to build the release Lambda binaries and run it.") => None,
        (d, c) => panic!(
            "the emulated stack needs CLOUDIM_LAMBDA_DIR with the four release bootstraps (`cargo lambda build --release --lambda-dir DIR`) and cargo-lambda; got {d:?} and {c:?}. `bash .ci/run` sets both up (CLOUDIM_SKIP_EMULATED_STACK=1 skips outside CI)"
        ),
    }
}

fn which(bin: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|p| std::env::split_paths(&p).map(|d| d.join(bin)).find(|c| c.is_file()))
}

/// Kills its processes when dropped, so a failing test stops them too.
struct Procs(Vec<Child>);

impl Drop for Procs {
    fn drop(&mut self) {
        for c in &mut self.0 {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

struct Stack {
    /// The emulator: Invoke API, function URLs and the Runtime API.
    base: String,
    logs: tempfile::TempDir,
    _procs: Procs,
}

impl Stack {
    async fn start(lambda_dir: &std::path::Path, cargo_lambda: &std::path::Path, moto: &str, allow: &str) -> Self {
        let port = free_port().await;
        let mut procs = Procs(Vec::new());
        let logs = tempfile::tempdir().unwrap();
        let workspace = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
        procs.0.push(
            Command::new(cargo_lambda)
                .args(["lambda", "watch", "--only-lambda-apis", "-A", "127.0.0.1", "-P", &port.to_string()])
                .current_dir(&workspace)
                .stdout(Stdio::null())
                .stderr(std::fs::File::create(logs.path().join("watch-1.log")).unwrap())
                .spawn()
                .unwrap(),
        );
        let base = format!("http://127.0.0.1:{port}");
        wait_for_port(port).await;

        // The resources exist before the functions start, as on AWS.
        let n: u64 = rand::random();
        let (bucket, table) = (format!("cloudim-emulated-{n:x}"), format!("cloudim-emulated-{n:x}"));
        let sdk = emulator_sdk(moto).await;
        cloudim_store_aws::AwsStore::new(&sdk, cloudim_store_aws::AwsNames { bucket: bucket.clone(), table: table.clone() }).ensure_resources().await.unwrap();

        // Two instances of notify, as Lambda would run: a ping handled by one
        // hands its fan-out to another (the emulator's Invoke API answers an
        // `Event` invocation only when the function has run).
        for (f, instance) in FUNCTIONS.iter().map(|f| (*f, 1)).chain([("notify", 2)]) {
            let name = format!("cloudim-fn-{f}");
            let mut cmd = Command::new(lambda_dir.join(format!("cloudim-fn-{f}/bootstrap")));
            for (k, _) in std::env::vars_os() {
                let k = k.to_string_lossy().into_owned();
                if k.starts_with("AWS_") || k.starts_with("CLOUDIM_") {
                    cmd.env_remove(k);
                }
            }
            cmd.envs([
                ("AWS_LAMBDA_RUNTIME_API", format!("http://127.0.0.1:{port}/.rt/{name}")),
                ("AWS_LAMBDA_FUNCTION_NAME", name.clone()),
                ("AWS_LAMBDA_FUNCTION_VERSION", "1".into()),
                ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256".into()),
                // What the template's LoggingConfig sets on AWS.
                ("AWS_LAMBDA_LOG_FORMAT", "JSON".into()),
                ("AWS_LAMBDA_LOG_LEVEL", "DEBUG".into()),
                // Our crates at DEBUG (checked for secrets below); the SDK's own chatter at INFO.
                ("RUST_LOG", "info,cloudim_domain=debug,cloudim_http=debug,cloudim_store_aws=debug,cloudim_net=debug,cloudim_bootstrap=debug,lambda_runtime=debug".into()),
                ("AWS_REGION", "us-east-1".into()),
                ("AWS_ACCESS_KEY_ID", "test".into()),
                ("AWS_SECRET_ACCESS_KEY", "test".into()),
                ("AWS_ENDPOINT_URL", moto.to_owned()),
                // Publish invokes notify through the emulator's Invoke API.
                ("AWS_ENDPOINT_URL_LAMBDA", base.clone()),
                ("CLOUDIM_STORE", "aws".into()),
                ("CLOUDIM_BUCKET", bucket.clone()),
                ("CLOUDIM_TABLE", table.clone()),
                ("CLOUDIM_TENANTS", TENANT.into()),
                ("CLOUDIM_PUBLIC_HTTPS", "true".into()),
                ("CLOUDIM_ADMIN_TOKEN", ADMIN_TOKEN.into()),
                ("CLOUDIM_FANOUT_FUNCTION", "cloudim-fn-notify".into()),
                ("CLOUDIM_RENEW_EVERY_SECS", "0".into()),
                ("CLOUDIM_OUTBOUND_ALLOW", allow.to_owned()),
            ]);
            cmd.stdout(Stdio::null()).stderr(std::fs::File::create(logs.path().join(format!("{f}-{instance}.log"))).unwrap());
            procs.0.push(cmd.spawn().unwrap());
        }
        Self { base, logs, _procs: procs }
    }

    /// Invokes a function with an API Gateway v2 event; returns (status, body).
    async fn invoke(&self, function: &str, event: Value) -> (u16, String) {
        let sent = client().post(format!("{}/2015-03-31/functions/cloudim-fn-{function}/invocations", self.base)).json(&event).send().await;
        let resp = sent.unwrap_or_else(|e| panic!("invoking {function}: {e}\n{function}'s log:\n{}\nwatch:\n{}", self.tail(function), self.tail("watch")));
        assert_eq!(resp.status(), 200, "the Invoke API answered {}", resp.status());
        let out: Value = resp.json().await.unwrap();
        let body = out["body"].as_str().unwrap_or_default();
        let body = if out["isBase64Encoded"].as_bool() == Some(true) {
            String::from_utf8(base64::Engine::decode(&base64::engine::general_purpose::STANDARD, body).unwrap()).unwrap()
        } else {
            body.to_owned()
        };
        (out["statusCode"].as_u64().unwrap_or(0) as u16, body)
    }

    /// A plain HTTP request through the emulator's function URL.
    fn url(&self, function: &str, path: &str) -> String {
        format!("{}/lambda-url/cloudim-fn-{function}{path}", self.base)
    }

    /// Everything a function's instances (or the emulator, `watch`) logged.
    fn log(&self, function: &str) -> String {
        (1..=2).map(|i| std::fs::read_to_string(self.logs.path().join(format!("{function}-{i}.log"))).unwrap_or_default()).collect()
    }

    /// The last lines of a log, for failure messages.
    fn tail(&self, function: &str) -> String {
        let log = self.log(function);
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(30)..].join("\n")
    }
}

async fn free_port() -> u16 {
    bind().await.local_addr().unwrap().port()
}

async fn wait_for_port(port: u16) {
    for _ in 0..300 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("cargo lambda watch did not listen on {port}");
}

/// An API Gateway HTTP API (v2) event for the tenant, as the template's API sends it.
fn event(method: &str, path: &str, query: &str, token: Option<&str>, content_type: &str, body: &str) -> Value {
    let mut headers = json!({ "host": TENANT, "x-forwarded-proto": "https", "content-type": content_type });
    if let Some(t) = token {
        headers["authorization"] = json!(format!("Bearer {t}"));
    }
    apigw_v2_event(method, path, query, headers, body)
}

#[tokio::test(flavor = "multi_thread")]
async fn release_binaries_serve_every_function_through_the_lambda_runtime() {
    let Some(endpoint) = moto_endpoint() else { return };
    let Some((lambda_dir, cargo_lambda)) = prerequisites() else { return };
    let sub = Subscriber::spawn().await;
    let stack = Stack::start(&lambda_dir, &cargo_lambda, &endpoint, &sub.addr.to_string()).await;

    // publish: the operator creates an account (admin route).
    let (s, body) = stack.invoke("publish", event("POST", "/admin/accounts", "", Some(ADMIN_TOKEN), "application/json", r#"{"name":"alice"}"#)).await;
    assert_eq!(s, 201, "{body}");
    let token = serde_json::from_str::<Value>(&body).unwrap()["token"].as_str().unwrap().to_owned();

    // handshake: the account, with its identity on the tenant's https origin.
    let (s, body) = stack.invoke("handshake", event("GET", "/account", "", Some(&token), "application/json", "")).await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(serde_json::from_str::<Value>(&body).unwrap()["identity"], "https://chat.example/u/alice");
    let (s, body) = stack.invoke("handshake", event("GET", "/pm", "", None, "application/json", "")).await;
    assert_eq!(s, 200, "{body}");

    // discovery: the identity page, through a function URL.
    let page = client().get(stack.url("discovery", "/u/alice")).header("host", TENANT).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains(r#"rel="pm""#) && html.contains("https://chat.example/pm"), "{html}");
    // A host the deployment does not serve.
    let other = client().get(stack.url("discovery", "/u/alice")).header("host", "other.example").send().await.unwrap();
    assert_eq!(other.status(), 421);

    // publish: a feed.
    let (s, body) = stack.invoke("publish", event("POST", "/feeds", "", Some(&token), "application/json", r#"{"title":"t"}"#)).await;
    assert_eq!(s, 201, "{body}");
    let feed: Value = serde_json::from_str(&body).unwrap();
    let (feed_id, feed_url) = (feed["id"].as_str().unwrap().to_owned(), feed["url"].as_str().unwrap().to_owned());
    assert_eq!(feed_url, format!("https://chat.example/feeds/{feed_id}"));

    // notify: pleaseNotify, test-notification mode (the caller's address).
    let form = format!("notifyProcedure=&port={}&path=/hook&protocol=http-post&url1={}", sub.addr.port(), urlencode(&feed_url));
    let (s, body) = stack.invoke("notify", event("POST", "/pleaseNotify", "", None, "application/x-www-form-urlencoded", &form)).await;
    assert_eq!(s, 200, "{body}");
    assert!(body.contains(r#"success="true""#), "{body}");
    sub.clear().await;

    // publish: an item; its fan-out is an asynchronous invocation of notify
    // (through the emulator's Invoke API), which notifies the subscriber.
    let secret_payload = "-----BEGIN PGP MESSAGE-----\nc2VjcmV0IG1lc3NhZ2UgYm9keQ==\n-----END PGP MESSAGE-----";
    let item = json!({ "id": "m1", "payload": secret_payload }).to_string();
    let (s, body) = stack.invoke("publish", event("POST", &format!("/feeds/{feed_id}/items"), "", Some(&token), "application/json", &item)).await;
    assert_eq!(s, 201, "{body}");
    let got = sub.wait_for(1, Duration::from_secs(20)).await;
    assert_eq!(got[0], ("/hook".to_owned(), format!("url={}", urlencode(&feed_url))));

    // notify: a ping fans out again, the same way.
    sub.clear().await;
    let (s, body) = stack.invoke("notify", event("POST", "/ping", "", None, "application/x-www-form-urlencoded", &format!("url={}", urlencode(&feed_url)))).await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(sub.wait_for(1, Duration::from_secs(20)).await.len(), 1);

    // publish: the feed, through a function URL, with its ETag.
    let resp = client().get(stack.url("publish", &format!("/feeds/{feed_id}"))).header("host", TENANT).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let etag = resp.headers().get("etag").unwrap().to_str().unwrap().to_owned();
    let doc = cloudim_protocol::FeedDocument::parse(&resp.bytes().await.unwrap()).unwrap();
    assert_eq!(doc.items.iter().map(|i| i.guid.to_string()).collect::<Vec<_>>(), ["m1"]);
    assert_eq!(doc.items[0].payload, secret_payload);
    let again = client().get(stack.url("publish", &format!("/feeds/{feed_id}"))).header("host", TENANT).header("if-none-match", &etag).send().await.unwrap();
    assert_eq!(again.status(), 304);

    // The internal routes exist only for direct invocations marked as such.
    let (s, _) = stack.invoke("notify", event("POST", "/internal/renew", "", None, "application/json", "{}")).await;
    assert_eq!(s, 404);
    let (s, body) = stack.invoke("notify", cloudim_store_aws::renew_event()).await;
    assert_eq!(s, 200, "the scheduled renewal event: {body}");

    // Logs: JSON lines, each invocation's carrying its request id, and no
    // token, key or message body anywhere (at DEBUG).
    tokio::time::sleep(Duration::from_millis(200)).await;
    for f in FUNCTIONS {
        let log = stack.log(f);
        let lines: Vec<Value> = log.lines().filter(|l| !l.trim().is_empty()).map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{f}: not JSON ({e}): {l}"))).collect();
        assert!(!lines.is_empty(), "{f} logged nothing");
        let with_id = lines.iter().filter(|l| l["spans"].as_array().is_some_and(|s| s.iter().any(|s| s["requestId"].as_str().is_some_and(|r| !r.is_empty())))).count();
        assert!(with_id > 0, "{f}: no line carries a requestId:\n{log}");
        for secret in [token.as_str(), ADMIN_TOKEN, "c2VjcmV0IG1lc3NhZ2UgYm9keQ", "BEGIN PGP"] {
            assert!(!log.contains(secret), "{f} logged a secret ({secret}):\n{log}");
        }
    }
}
