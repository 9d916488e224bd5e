//! End to end over real sockets on 127.0.0.1: providers, subscribers and
//! clients are separate servers talking HTTP.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by panicking

use std::time::Duration;

use cloudim_protocol::FeedDocument;
use cloudim_tests::*;

const WAIT: Duration = Duration::from_secs(10);

async fn please_notify(app: &TestApp, form: String, json: bool) -> (u16, String) {
    let mut req = client().post(format!("{}/pleaseNotify", app.base)).header("content-type", "application/x-www-form-urlencoded").body(form);
    if json {
        req = req.header("accept", "application/json");
    }
    let resp = req.send().await.unwrap();
    (resp.status().as_u16(), resp.text().await.unwrap())
}

/// Every item of a feed, walking the archive chain: (guid, payload), oldest first.
async fn all_items(url: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut next = Some(url.to_owned());
    while let Some(u) = next {
        let doc = FeedDocument::parse(&client().get(&u).send().await.unwrap().bytes().await.unwrap()).unwrap();
        let mut page: Vec<_> = doc.items.iter().map(|i| (i.guid.to_string(), i.payload.clone())).collect();
        page.append(&mut out);
        out = page;
        next = doc.links.prev_archive;
    }
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn subscribers_register_both_ways_and_hear_every_publish() {
    let Fixture { dir: _dir, app, token, feed_id: id, feed_url: url } = app_with_feed(&[]).await;
    let sub = Subscriber::spawn().await;
    let port = sub.addr.port();

    // Challenge mode (domain given) and test-notification mode (no domain).
    let (status, body) = please_notify(&app, format!("port={port}&path=/challenged&protocol=http-post&url1={url}&domain=127.0.0.1"), false).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains(r#"<notifyResult success="true""#), "{body}");
    assert_eq!(sub.challenges().await.len(), 1);
    let (status, body) = please_notify(&app, format!("notifyProcedure=&port={port}&path=/tested&protocol=http-post&url1={url}"), true).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains(r#""success":true"#), "{body}");
    // XML-RPC registration; notifications come as XML-RPC calls.
    let call = format!(
        "<?xml version=\"1.0\"?><methodCall><methodName>rssCloud.pleaseNotify</methodName><params>\
         <param><value>river.feedUpdated</value></param><param><value><i4>{port}</i4></value></param>\
         <param><value>/rpc</value></param><param><value>xml-rpc</value></param>\
         <param><value><array><data><value>{url}</value></data></array></value></param></params></methodCall>"
    );
    let resp = client().post(format!("{}/RPC2", app.base)).body(call).send().await.unwrap().text().await.unwrap();
    assert!(resp.contains("<boolean>1</boolean>"), "{resp}");
    sub.clear().await;

    assert_eq!(publish(&app, &token, &id, "m1", "hello").await, 201);
    let got = sub.wait_for(3, WAIT).await;
    let expected_form = cloudim_protocol::rsscloud::notification_form(&url);
    assert!(got.contains(&("/challenged".into(), expected_form.clone())), "{got:?}");
    assert!(got.contains(&("/tested".into(), expected_form)), "{got:?}");
    let rpc = got.iter().find(|(p, _)| p == "/rpc").expect("xml-rpc notification");
    assert!(rpc.1.contains("<methodName>river.feedUpdated</methodName>") && rpc.1.contains(&url), "{rpc:?}");

    // A ping notifies again, over REST and over XML-RPC.
    sub.clear().await;
    let resp = client().post(format!("{}/ping", app.base)).form(&[("url", url.as_str())]).send().await.unwrap().text().await.unwrap();
    assert!(resp.contains(r#"<result success="true" msg="Thanks for the ping."/>"#), "{resp}");
    assert_eq!(sub.wait_for(3, WAIT).await.len(), 3);

    // The feed itself: RSS 2.0 with <cloud>, a non-permalink guid, ETag and 304.
    let resp = client().get(&url).send().await.unwrap();
    let etag = resp.headers()["etag"].to_str().unwrap().to_owned();
    let xml = resp.text().await.unwrap();
    assert!(xml.contains(&format!(r#"<cloud domain="127.0.0.1" port="{}" path="/pleaseNotify""#, app.addr.port())), "{xml}");
    assert!(xml.contains(r#"<guid isPermaLink="false">m1</guid>"#));
    let resp = client().get(&url).header("if-none-match", &etag).send().await.unwrap();
    assert_eq!(resp.status(), 304);
    app.stop();
}

#[tokio::test(flavor = "multi_thread")]
async fn fifty_concurrent_publishers_lose_and_duplicate_nothing() {
    let Fixture { dir: _dir, app, token, feed_id: id, feed_url: url } = app_with_feed(&["--head-items", "5", "--page-size", "4"]).await;
    let statuses = futures::future::join_all((0..50).map(|i| {
        let (app, token, id) = (&app, &token, &id);
        async move {
            // Every publisher also retries its own item once: still one item each.
            let a = publish(app, token, id, &format!("item-{i}"), &format!("payload {i}")).await;
            let b = publish(app, token, id, &format!("item-{i}"), &format!("payload {i}")).await;
            (a, b)
        }
    }))
    .await;
    assert!(statuses.iter().all(|s| *s == (201, 200)), "{statuses:?}");
    let items = all_items(&url).await;
    assert_eq!(items.len(), 50, "nothing lost, nothing duplicated");
    let mut ids: Vec<_> = items.iter().map(|(g, _)| g.clone()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 50);
    app.stop();
}

#[tokio::test(flavor = "multi_thread")]
async fn two_hundred_concurrent_registrations_are_all_stored() {
    let Fixture { dir: _dir, app, token, feed_id: id, feed_url: url } = app_with_feed(&[]).await;
    let sub = Subscriber::spawn().await;
    let port = sub.addr.port();
    let results = futures::future::join_all((0..200).map(|i| please_notify(&app, format!("port={port}&path=/cb/{i}&protocol=http-post&url1={url}&domain=127.0.0.1"), false))).await;
    assert!(results.iter().all(|(s, _)| *s == 200), "{:?}", results.iter().find(|(s, _)| *s != 200));
    let tenant = cloudim_protocol::Tenant::parse("127.0.0.1").unwrap();
    let feed = cloudim_protocol::FeedId::parse(&id).unwrap();
    assert_eq!(app.state.provider.ports.subscriptions.list(&tenant, &feed).await.unwrap().len(), 200);
    assert_eq!(publish(&app, &token, &id, "m", "x").await, 201);
    assert_eq!(sub.wait_for(200, WAIT).await.len(), 200, "every subscriber notified");
    app.stop();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failing_subscriber_is_dropped_while_the_others_keep_receiving() {
    let Fixture { dir: _dir, app, token, feed_id: id, feed_url: url } = app_with_feed(&["--fanout-retries", "1", "--fanout-backoff-ms", "10", "--fanout-max-failures", "2", "--fanout-timeout-ms", "2000"]).await;
    let (good, bad) = (Subscriber::spawn().await, Subscriber::spawn().await);
    for s in [&good, &bad] {
        let (status, body) = please_notify(&app, format!("port={}&path=/n&protocol=http-post&url1={url}", s.addr.port()), false).await;
        assert_eq!(status, 200, "{body}");
    }
    good.clear().await;
    bad.set_failing(true);
    let tenant = cloudim_protocol::Tenant::parse("127.0.0.1").unwrap();
    let feed = cloudim_protocol::FeedId::parse(&id).unwrap();
    for i in 0..3 {
        assert_eq!(publish(&app, &token, &id, &format!("m{i}"), "x").await, 201);
        assert_eq!(good.wait_for(i + 1, WAIT).await.len(), i + 1, "the healthy subscriber keeps receiving");
        // Let this fan-out finish with the failing one before the next publish.
        for _ in 0..100 {
            let subs = app.state.provider.ports.subscriptions.list(&tenant, &feed).await.unwrap();
            if subs.len() == 1 || subs.iter().any(|s| s.failures as usize > i) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    let subs = app.state.provider.ports.subscriptions.list(&tenant, &feed).await.unwrap();
    assert_eq!(subs.len(), 1, "dropped after two consecutive failed fan-outs");
    assert!(subs[0].callback.contains(&good.addr.port().to_string()));
    app.stop();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_restart_keeps_feeds_and_subscriptions() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = local_config(dir.path(), &[]);
    let app = spawn_app(&cfg, 0).await;
    let port = app.addr.port();
    let token = create_account(&app, "alice").await;
    let (id, url) = create_feed(&app, &token).await;
    let sub = Subscriber::spawn().await;
    let (status, _) = please_notify(&app, format!("port={}&path=/n&protocol=http-post&url1={url}", sub.addr.port()), false).await;
    assert_eq!(status, 200);
    assert_eq!(publish(&app, &token, &id, "before", "one").await, 201);
    app.stop();
    tokio::time::sleep(Duration::from_millis(100)).await;

    let app = spawn_app(&cfg, port).await;
    sub.clear().await;
    assert_eq!(publish(&app, &token, &id, "after", "two").await, 201, "the token survived");
    assert_eq!(sub.wait_for(1, WAIT).await.len(), 1, "the subscription survived");
    assert_eq!(all_items(&url).await, vec![("before".into(), "one".into()), ("after".into(), "two".into())]);
    app.stop();
}

#[tokio::test(flavor = "multi_thread")]
async fn an_account_follows_a_feed_on_another_provider() {
    let (d1, d2) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let publisher = spawn_app(&local_config(d1.path(), &["--head-items", "2", "--page-size", "2"]), 0).await;
    let reader = spawn_app(&local_config(d2.path(), &[]), 0).await;
    let alice = create_account(&publisher, "alice").await;
    let bob = create_account(&reader, "bob").await;
    let (id, url) = create_feed(&publisher, &alice).await;
    assert_eq!(publish(&publisher, &alice, &id, "m0", "first").await, 201);

    let resp = client().post(format!("{}/follows", reader.base)).bearer_auth(&bob).json(&serde_json::json!({ "url": url })).send().await.unwrap();
    assert_eq!(resp.status(), 201, "{}", resp.text().await.unwrap());
    for i in 1..6 {
        assert_eq!(publish(&publisher, &alice, &id, &format!("m{i}"), &format!("item {i}")).await, 201);
    }
    let inbox = |after: Option<u64>| {
        let (reader, bob, url) = (&reader, &bob, &url);
        async move {
            let mut q = vec![("feed", url.clone())];
            if let Some(a) = after {
                q.push(("after", a.to_string()));
            }
            let v: serde_json::Value = client().get(format!("{}/inbox", reader.base)).bearer_auth(bob).query(&q).send().await.unwrap().json().await.unwrap();
            v["items"].as_array().cloned().unwrap_or_default()
        }
    };
    let mut items = Vec::new();
    for _ in 0..200 {
        items = inbox(None).await;
        if items.len() == 6 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let seqs: Vec<u64> = items.iter().map(|i| i["seq"].as_u64().unwrap()).collect();
    assert_eq!(seqs, vec![0, 1, 2, 3, 4, 5], "every item once, in order");
    assert_eq!(items[0]["payload"], "first");
    assert_eq!(inbox(Some(3)).await.len(), 2);
    publisher.stop();
    reader.stop();
}
