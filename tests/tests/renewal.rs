//! Our follows are registered again before their 25-hour subscriptions
//! lapse: on a schedule in the local provider, and through the
//! `/internal/renew` event an EventBridge schedule sends on AWS. A lapsed
//! subscription comes back and missed items are caught up.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by panicking

use std::time::Duration;

use cloudim_protocol::{AccountName, FeedId, Tenant};
use cloudim_tests::*;
use tower::ServiceExt;

/// Bob on `b` follows Alice's feed on `a`; returns (alice's token, feed id, feed URL).
async fn follow(a: &TestApp, b: &TestApp) -> (String, String, String) {
    let alice = create_account(a, "alice").await;
    let bob = create_account(b, "bob").await;
    let (id, url) = create_feed(a, &alice).await;
    let resp = client().post(format!("{}/follows", b.base)).bearer_auth(&bob).json(&serde_json::json!({ "url": url })).send().await.unwrap();
    assert_eq!(resp.status(), 201, "{}", resp.text().await.unwrap());
    (alice, id, url)
}

/// Makes it look as if Bob's follow was registered 13 hours ago and
/// Alice's provider had forgotten the subscription (it lapsed).
async fn lapse(a: &TestApp, b: &TestApp, id: &str, url: &str) {
    let t = Tenant::parse("127.0.0.1").unwrap();
    let feed = FeedId::parse(id).unwrap();
    for s in a.state.provider.ports.subscriptions.list(&t, &feed).await.unwrap() {
        a.state.provider.ports.subscriptions.delete(&t, &feed, &s.id).await.unwrap();
    }
    let inbox = &b.state.provider.ports.inbox;
    let mut f = inbox.follows_of(&t, url).await.unwrap().remove(0);
    f.renewed_at -= 13 * 3600;
    inbox.put_follow(&t, &f).await.unwrap();
}

async fn subscribers(a: &TestApp, id: &str) -> usize {
    a.state.provider.ports.subscriptions.list(&Tenant::parse("127.0.0.1").unwrap(), &FeedId::parse(id).unwrap()).await.unwrap().len()
}

async fn inbox_len(b: &TestApp, url: &str) -> usize {
    let bob = AccountName::parse("bob").unwrap();
    b.state.provider.inbox_items(&Tenant::parse("127.0.0.1").unwrap(), &bob, url, None, 100).await.unwrap().len()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_local_provider_renews_follows_on_a_schedule() {
    let (a, b, _dirs) = two_local_providers(&["--renew-every-secs", "1"]).await;
    let (alice, id, url) = follow(&a, &b).await;
    assert_eq!(subscribers(&a, &id).await, 1);
    lapse(&a, &b, &id, &url).await;
    // Published while the subscription was gone: nobody was told.
    assert_eq!(publish(&a, &alice, &id, "missed", "payload one").await, 201);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while subscribers(&a, &id).await == 0 || inbox_len(&b, &url).await == 0 {
        assert!(tokio::time::Instant::now() < deadline, "the schedule renewed the follow and caught up");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Registered again: the next item arrives by notification.
    assert_eq!(publish(&a, &alice, &id, "after", "payload two").await, 201);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while inbox_len(&b, &url).await < 2 {
        assert!(tokio::time::Instant::now() < deadline);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_renew_event_renews_what_is_due_and_nothing_else() {
    let (a, b, _dirs) = two_local_providers(&["--renew-every-secs", "0"]).await;
    let (_, id, url) = follow(&a, &b).await;
    let notify = cloudim_bootstrap::lambda_router(cloudim_http::notify::router(b.state.clone()));
    let run = |router: axum::Router| async move {
        let event = cloudim_store_aws::renew_event().to_string();
        let req = lambda_http::request::from_str(&event).unwrap().map(|body| axum::body::Body::from(body.to_vec()));
        let resp = router.oneshot(req).await.unwrap();
        let status = resp.status().as_u16();
        (status, String::from_utf8(axum::body::to_bytes(resp.into_body(), 1 << 16).await.unwrap().to_vec()).unwrap())
    };
    assert_eq!(run(notify.clone()).await, (200, r#"{"renewed":0}"#.to_owned()), "a fresh follow is not due");
    lapse(&a, &b, &id, &url).await;
    assert_eq!(run(notify.clone()).await, (200, r#"{"renewed":1}"#.to_owned()));
    assert_eq!(subscribers(&a, &id).await, 1);
    assert_eq!(run(notify).await.1, r#"{"renewed":0}"#);
    // Only a direct invocation reaches the route.
    assert_eq!(run(cloudim_http::notify::router(b.state.clone())).await.0, 404);
    assert_eq!(client().post(format!("{}/internal/renew", b.base)).send().await.unwrap().status(), 404);
}
