//! The asynchronous fan-out on AWS, through real parts: a publish on a
//! provider configured with `--fanout-function` returns at once and makes
//! one `Invoke` call (`InvocationType=Event`, AWS SDK over a real socket) to
//! a Lambda API stand-in on 127.0.0.1; the event it carries, run through
//! the notify function's router exactly as the Lambda runtime would
//! (`lambda_http`'s event parsing and the runner's layer), notifies the
//! feed's subscriber. The same route is unreachable any other way.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by panicking

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use cloudim_protocol::{FeedId, Tenant};
use cloudim_tests::*;
use tower::ServiceExt;

type Invocations = Arc<Mutex<Vec<(String, String, String)>>>;

/// Answers `POST /2015-03-31/functions/{name}/invocations` like Lambda does
/// for an `Event` invocation (202, empty body), and records it.
async fn fake_lambda() -> (String, Invocations) {
    let seen: Invocations = Arc::default();
    let app = axum::Router::new()
        .route(
            "/2015-03-31/functions/{name}/invocations",
            axum::routing::post(|State(seen): State<Invocations>, Path(name): Path<String>, headers: HeaderMap, body: String| async move {
                let kind = headers.get("x-amz-invocation-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
                seen.lock().unwrap().push((name, kind, body));
                StatusCode::ACCEPTED
            }),
        )
        .with_state(seen.clone());
    let l = bind().await;
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(l, app).await });
    (format!("http://{addr}"), seen)
}

/// Runs a Lambda event through a router as the function would.
async fn deliver(router: axum::Router, event: &str) -> (StatusCode, String) {
    let req = lambda_http::request::from_str(event).unwrap();
    let req = req.map(|b| axum::body::Body::from(b.to_vec()));
    let resp = router.oneshot(req).await.unwrap();
    let status = resp.status();
    let body = axum::body::to_bytes(resp.into_body(), 1 << 20).await.unwrap();
    (status, String::from_utf8_lossy(&body).into_owned())
}

#[tokio::test(flavor = "multi_thread")]
async fn publish_invokes_notify_asynchronously_and_the_event_fans_out() {
    let (lambda, seen) = fake_lambda().await;
    let dir = tempfile::tempdir().unwrap();
    let config = local_config(dir.path(), &["--fanout-function", "cloudim-notify"]);
    let app = spawn_on(bind().await, &config, Some(emulator_sdk(&lambda).await)).await;
    let token = create_account(&app, "alice").await;
    let (id, url) = create_feed(&app, &token).await;
    let sub = Subscriber::spawn().await;
    let (tenant, feed) = (Tenant::parse("127.0.0.1").unwrap(), FeedId::parse(&id).unwrap());
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    let callback = format!("http://{}/notify", sub.addr);
    app.state.provider.ports.subscriptions.put(&tenant, &subscription(&feed, &url, callback, now)).await.unwrap();

    assert_eq!(publish(&app, &token, &id, "m1", "-----BEGIN PGP MESSAGE-----\nx\n-----END PGP MESSAGE-----").await, 201);
    let invocations = seen.lock().unwrap().clone();
    assert_eq!(invocations.len(), 1, "one asynchronous invocation per publish");
    let (function, kind, event) = &invocations[0];
    assert_eq!((function.as_str(), kind.as_str()), ("cloudim-notify", "Event"));
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(sub.received().await.is_empty(), "nothing fans out in the publishing process");

    // The notify function handles the event: the subscriber hears of the feed.
    let notify = cloudim_bootstrap::lambda_router(cloudim_http::notify::router(app.state.clone()));
    let (status, body) = deliver(notify.clone(), event).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.contains("\"delivered\":1"), "{body}");
    let got = sub.wait_for(1, Duration::from_secs(5)).await;
    assert_eq!(got.len(), 1);
    let fields: Vec<(String, String)> = url::form_urlencoded::parse(got[0].1.as_bytes()).into_owned().collect();
    assert_eq!(fields, [("url".to_owned(), url.clone())], "{got:?}");

    // Not reachable without the direct invocation's mark: through the
    // local server, or with another apiId (a function URL or API Gateway).
    let c = client();
    let resp = c.post(format!("{}/internal/fanout", app.base)).json(&serde_json::json!({ "tenant": "127.0.0.1", "feed": id })).send().await.unwrap();
    assert_eq!(resp.status(), 404);
    let forged = event.replace(cloudim_store_aws::INTERNAL_API_ID, "abcdefghij");
    assert_eq!(deliver(notify.clone(), &forged).await.0, StatusCode::NOT_FOUND);
    assert_eq!(deliver(cloudim_http::notify::router(app.state.clone()), event).await.0, StatusCode::NOT_FOUND);
    assert_eq!(sub.received().await.len(), 1);
    app.stop();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failed_invocation_does_not_fail_the_publish() {
    // Nothing listens where the Lambda API should be: the item is stored,
    // the publish succeeds, and the failure is logged (Lambda's own retries
    // and failure destination cover the invocations that do get through).
    let dead = {
        let l = bind().await;
        format!("http://{}", l.local_addr().unwrap())
    };
    let dir = tempfile::tempdir().unwrap();
    let config = local_config(dir.path(), &["--fanout-function", "cloudim-notify"]);
    let app = spawn_on(bind().await, &config, Some(emulator_sdk(&dead).await)).await;
    let token = create_account(&app, "alice").await;
    let (id, url) = create_feed(&app, &token).await;
    assert_eq!(publish(&app, &token, &id, "m1", "payload").await, 201);
    let doc = cloudim_protocol::FeedDocument::parse(&client().get(&url).send().await.unwrap().bytes().await.unwrap()).unwrap();
    assert_eq!(doc.items.len(), 1);
    app.stop();
}
