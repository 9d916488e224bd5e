//! Tenants on one deployment: which hosts are served, per-tenant limits,
//! and isolation of accounts, feeds, subscriptions and tokens, over real
//! sockets, on the embedded store and on S3 + DynamoDB (moto).

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by panicking

use std::time::Duration;

use cloudim_protocol::FeedDocument;
use cloudim_tests::*;
use serde_json::{Value, json};

/// Requests to one deployment as one tenant: the `Host` header names it.
struct As {
    base: String,
    host: String,
}

impl As {
    fn new(app: &TestApp, domain: &str) -> Self {
        Self { base: app.base.clone(), host: format!("{domain}:{}", app.addr.port()) }
    }

    async fn call(&self, method: reqwest::Method, path: &str, token: Option<&str>, body: Option<Value>) -> (u16, Value, reqwest::header::HeaderMap) {
        let mut req = client().request(method, format!("{}{path}", self.base)).header("host", &self.host);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.unwrap();
        let (status, headers) = (resp.status().as_u16(), resp.headers().clone());
        let text = resp.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::String(text)), headers)
    }

    async fn post(&self, path: &str, token: Option<&str>, body: Value) -> (u16, Value) {
        let (s, v, _) = self.call(reqwest::Method::POST, path, token, Some(body)).await;
        (s, v)
    }

    async fn get(&self, path: &str, token: Option<&str>) -> (u16, Value) {
        let (s, v, _) = self.call(reqwest::Method::GET, path, token, None).await;
        (s, v)
    }

    async fn account(&self, name: &str) -> String {
        let (s, v) = self.post("/admin/accounts", Some(ADMIN_TOKEN), json!({ "name": name })).await;
        assert_eq!(s, 201, "{v}");
        v["token"].as_str().unwrap().to_owned()
    }

    async fn feed(&self, token: &str) -> (String, String) {
        let (s, v) = self.post("/feeds", Some(token), json!({ "title": "t" })).await;
        assert_eq!(s, 201, "{v}");
        (v["id"].as_str().unwrap().to_owned(), v["url"].as_str().unwrap().to_owned())
    }

    async fn publish(&self, token: &str, feed: &str, id: &str, payload: &str) -> (u16, Value) {
        self.post(&format!("/feeds/{feed}/items"), Some(token), json!({ "id": id, "payload": payload })).await
    }

    async fn please_notify(&self, port: u16, path: &str, feed_url: &str) -> u16 {
        let form = format!("notifyProcedure=&port={port}&path={path}&protocol=http-post&url1={feed_url}");
        let resp = client().post(format!("{}/pleaseNotify", self.base)).header("host", &self.host).header("content-type", "application/x-www-form-urlencoded").body(form).send().await.unwrap();
        resp.status().as_u16()
    }

    async fn items(&self, feed: &str) -> Vec<String> {
        let resp = client().get(format!("{}/feeds/{feed}", self.base)).header("host", &self.host).send().await.unwrap();
        assert_eq!(resp.status(), 200);
        FeedDocument::parse(&resp.bytes().await.unwrap()).unwrap().items.iter().map(|i| i.guid.to_string()).collect()
    }
}

async fn deployment(store: &StoreChoice) -> TestApp {
    // Two domains by configuration; more by registration.
    let config = strict_config(store, &[], &["--tenants", "a.example,b.example", "--allow-private-targets"]);
    let listener = bind().await;
    spawn_on(listener, &config, store.sdk().await).await
}

async fn tenants_are_isolated_and_limited(store: StoreChoice) {
    let app = deployment(&store).await;
    let (a, b, c) = (As::new(&app, "a.example"), As::new(&app, "b.example"), As::new(&app, "c.example"));

    // A host the deployment does not serve gets 421 with the host named,
    // on every function, and nothing is created for it.
    let (s, v) = c.get("/u/alice", None).await;
    assert_eq!((s, v["error"].as_str().unwrap()), (421, "this provider serves no tenant at c.example"));
    let (s, _) = c.post("/accounts", None, json!({ "name": "x" })).await;
    assert_eq!(s, 421);
    let (s, v) = c.post("/admin/accounts", Some(ADMIN_TOKEN), json!({ "name": "x" })).await;
    assert_eq!(s, 404, "{v}");
    assert!(v["error"].as_str().unwrap().contains("cloudim admin tenant add"), "{v}");

    // Same account name in both tenants: two accounts, two identities.
    let (ta, tb) = (a.account("alice").await, b.account("alice").await);
    let (_, me_a) = a.get("/account", Some(&ta)).await;
    let (_, me_b) = b.get("/account", Some(&tb)).await;
    assert_ne!(me_a["identity"], me_b["identity"]);
    assert!(me_a["identity"].as_str().unwrap().starts_with("http://a.example:"), "{me_a}");

    // Tokens work only in their own tenant.
    assert_eq!(b.get("/account", Some(&ta)).await.0, 401);
    assert_eq!(a.get("/account", Some(&tb)).await.0, 401);
    assert_eq!(b.get("/invitations", Some(&ta)).await.0, 401);

    // Feeds: invisible and untouchable from the other tenant.
    let (fa, url_a) = a.feed(&ta).await;
    let (fb, url_b) = b.feed(&tb).await;
    assert!(url_a.starts_with("http://a.example:"));
    assert_eq!(a.publish(&ta, &fa, "a1", "from a").await.0, 201);
    assert_eq!(b.get(&format!("/feeds/{fa}"), None).await.0, 404, "another tenant's feed is invisible");
    assert_eq!(b.publish(&tb, &fa, "x", "y").await.0, 404);
    assert_eq!(b.publish(&ta, &fa, "x", "y").await.0, 401);
    assert_eq!(a.items(&fa).await, ["a1"]);

    // Subscriptions: a feed of A cannot be subscribed to through B, and a
    // subscriber of B's feed hears nothing of A's publishes.
    let sub_a = Subscriber::spawn().await;
    let sub_b = Subscriber::spawn().await;
    assert_eq!(a.please_notify(sub_a.addr.port(), "/a", &url_a).await, 200);
    assert_ne!(b.please_notify(sub_a.addr.port(), "/x", &url_a).await, 200, "B does not take subscriptions to A's feeds");
    assert_eq!(b.please_notify(sub_b.addr.port(), "/b", &url_b).await, 200);
    sub_a.clear().await;
    sub_b.clear().await;
    assert_eq!(a.publish(&ta, &fa, "a2", "again").await.0, 201);
    let got = sub_a.wait_for(1, Duration::from_secs(10)).await;
    assert_eq!(got[0].1, format!("url={}", urlencode(&url_a)));
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(sub_b.received().await.is_empty(), "B's subscriber heard A's publish");

    // Registering a tenant serves it at once, with its own limits.
    let (s, v) = a.post("/admin/tenants", Some(ADMIN_TOKEN), json!({ "domain": "c.example", "max_accounts": 1 })).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!((v["registered"].as_bool(), v["limits"]["max_accounts"].as_u64()), (Some(true), Some(1)));
    c.account("carol").await;
    let (s, v) = c.post("/admin/accounts", Some(ADMIN_TOKEN), json!({ "name": "dave" })).await;
    assert_eq!(s, 403, "{v}");
    assert_eq!(v["error"], "c.example has reached its limit of 1 accounts (max_accounts)");
    // ... and through the API's own host, naming the tenant.
    let (s, _) = a.post("/admin/accounts", Some(ADMIN_TOKEN), json!({ "name": "dave", "tenant": "c.example" })).await;
    assert_eq!(s, 403);
    let (s, v) = a.post("/admin/accounts", Some(ADMIN_TOKEN), json!({ "name": "dave", "tenant": "b.example" })).await;
    assert_eq!((s, v["tenant"].as_str()), (201, Some("b.example")), "{v}");

    // Publishes per minute: A is throttled with the limit named; B is not.
    let (s, _) = a.post("/admin/tenants", Some(ADMIN_TOKEN), json!({ "domain": "a.example", "publishes_per_minute": 4 })).await;
    assert_eq!(s, 200);
    let (s, v, h) = {
        // a1 and a2 count in this minute unless it just turned over; publish until refused.
        let mut last = (0, Value::Null, reqwest::header::HeaderMap::new());
        for i in 0..6 {
            last = a.call(reqwest::Method::POST, &format!("/feeds/{fa}/items"), Some(&ta), Some(json!({ "id": format!("r{i}"), "payload": "p" }))).await;
            if last.0 != 201 {
                break;
            }
        }
        last
    };
    assert_eq!(s, 429, "{v}");
    assert_eq!(v["error"], "publishes on a.example: at most 4 per minute (publishes_per_minute)");
    assert!(h.get("retry-after").is_some());
    for i in 0..6 {
        assert_eq!(b.publish(&tb, &fb, &format!("b{i}"), "p").await.0, 201, "B is not throttled by A's limit");
    }

    // Storage: B may hold 20 more bytes; an item that does not fit is
    // refused whole, with the limit named, and nothing of it is stored.
    let (_, status) = a.get("/admin/tenants/b.example", Some(ADMIN_TOKEN)).await;
    let used = status["usage"]["storage_bytes"].as_u64().unwrap();
    assert_eq!(used, 6, "six one-byte items");
    let (s, _) = a.post("/admin/tenants", Some(ADMIN_TOKEN), json!({ "domain": "b.example", "max_storage_bytes": used + 20 })).await;
    assert_eq!(s, 200);
    assert_eq!(b.publish(&tb, &fb, "fits", &"x".repeat(15)).await.0, 201);
    let (s, v) = b.publish(&tb, &fb, "too-big", &"y".repeat(15)).await;
    assert_eq!(s, 403, "{v}");
    assert_eq!(v["error"], format!("b.example has reached its storage limit of {} bytes (max_storage_bytes); nothing was stored", used + 20));
    assert!(!b.items(&fb).await.contains(&"too-big".to_owned()));
    let (_, status) = a.get("/admin/tenants/b.example", Some(ADMIN_TOKEN)).await;
    assert_eq!(status["usage"]["storage_bytes"].as_u64(), Some(used + 15), "the refused item took nothing");
    // A duplicate of a stored item is answered without taking storage.
    assert_eq!(b.publish(&tb, &fb, "fits", &"x".repeat(15)).await.0, 200);

    // The operator sees every tenant with its limits and usage.
    let (s, v) = a.get("/admin/tenants", Some(ADMIN_TOKEN)).await;
    assert_eq!(s, 200);
    let listed: Vec<(&str, u64)> = v["tenants"].as_array().unwrap().iter().map(|t| (t["tenant"].as_str().unwrap(), t["usage"]["accounts"].as_u64().unwrap())).collect();
    assert_eq!(listed, [("a.example", 1), ("b.example", 2), ("c.example", 1)]);
    assert_eq!(a.get("/admin/tenants", None).await.0, 401);
    assert_eq!(a.get("/admin/tenants", Some("wrong")).await.0, 401);
    let (s, _) = a.post("/admin/tenants", Some(ADMIN_TOKEN), json!({ "domain": "../etc" })).await;
    assert_eq!(s, 400);
    let (s, _) = a.post("/admin/tenants", Some(ADMIN_TOKEN), json!({ "domain": "d.example", "max_acounts": 3 })).await;
    assert_eq!(s, 400, "a misspelt limit is refused, not ignored");
    app.stop();
}

#[tokio::test(flavor = "multi_thread")]
async fn tenants_on_the_embedded_store_are_isolated_and_limited() {
    let dir = tempfile::tempdir().unwrap();
    tenants_are_isolated_and_limited(StoreChoice::Local(dir.path().into())).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn tenants_on_s3_and_dynamodb_are_isolated_and_limited() {
    let Some(endpoint) = moto_endpoint() else { return };
    tenants_are_isolated_and_limited(StoreChoice::emulator(&endpoint)).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn account_limit_holds_under_concurrent_creation() {
    let Some(endpoint) = moto_endpoint() else { return };
    let store = StoreChoice::emulator(&endpoint);
    let app = deployment(&store).await;
    let a = As::new(&app, "a.example");
    let (s, _) = a.post("/admin/tenants", Some(ADMIN_TOKEN), json!({ "domain": "a.example", "max_accounts": 5 })).await;
    assert_eq!(s, 200);
    let tries = (0..20).map(|i| {
        let a = As::new(&app, "a.example");
        async move { a.post("/admin/accounts", Some(ADMIN_TOKEN), json!({ "name": format!("u{i}") })).await.0 }
    });
    let statuses = futures::future::join_all(tries).await;
    assert_eq!(statuses.iter().filter(|s| **s == 201).count(), 5, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 403).count(), 15, "{statuses:?}");
    let (_, v) = a.get("/admin/tenants/a.example", Some(ADMIN_TOKEN)).await;
    assert_eq!(v["usage"]["accounts"].as_u64(), Some(5));
    app.stop();
}
