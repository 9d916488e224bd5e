//! Bad input gets a 4xx with a message a person understands, and nothing is
//! stored. No input panics the server.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::type_complexity)] // tests fail loudly by panicking

use cloudim_protocol::{FeedDocument, FeedId, Tenant};
use cloudim_tests::*;

#[tokio::test(flavor = "multi_thread")]
async fn bad_requests_get_clear_4xx_and_store_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let app = spawn_app(&local_config(dir.path(), &["--max-item-bytes", "1000"]), 0).await;
    let token = create_account(&app, "alice").await;
    let (id, url) = create_feed(&app, &token).await;
    assert_eq!(publish(&app, &token, &id, "ok-1", "fine").await, 201);
    let b = &app.base;
    let form = "application/x-www-form-urlencoded";
    let unknown = "ffffffffffffffffffffffffffffffff";
    let dead = "http://127.0.0.1:1/x"; // nothing listens there

    let cursors: serde_json::Map<String, serde_json::Value> = (0..1001).map(|i| (format!("http://x.example/feeds/{i}"), serde_json::Value::Null)).collect();
    let too_many_cursors = serde_json::to_vec(&serde_json::json!({ "cursors": cursors })).unwrap();
    // (method, path, content type, auth, body, status, words the message must contain)
    let cases: Vec<(&str, String, &str, Option<&str>, Vec<u8>, u16, &str)> = vec![
        ("POST", "/pleaseNotify".into(), form, None, b"port=80&path=/x&protocol=http-post".to_vec(), 400, "url1"),
        ("POST", "/pleaseNotify".into(), form, None, format!("path=/x&protocol=http-post&url1={url}").into_bytes(), 400, "port&apos; is missing"),
        ("POST", "/pleaseNotify".into(), form, None, format!("port=70000&path=/x&protocol=http-post&url1={url}").into_bytes(), 400, "1 to 65535"),
        ("POST", "/pleaseNotify".into(), form, None, format!("port=80&path=/x&protocol=smtp&url1={url}").into_bytes(), 400, "smtp&apos; is not supported"),
        ("POST", "/pleaseNotify".into(), form, None, b"port=80&path=/x&protocol=http-post&url1=not%20a%20url".to_vec(), 400, "not an absolute http"),
        ("POST", "/pleaseNotify".into(), form, None, format!("port=80&path=/x%FF&protocol=http-post&url1={url}").into_bytes(), 400, "UTF-8"),
        ("POST", "/pleaseNotify".into(), form, None, b"\xff\xfe\x00".to_vec(), 400, "UTF-8"),
        ("POST", "/pleaseNotify".into(), form, None, format!("port=80&path=/x&protocol=http-post&url1={b}/feeds/{unknown}").into_bytes(), 404, "not a feed hosted here"),
        ("POST", "/pleaseNotify".into(), form, None, format!("port=1&path=/x&protocol=http-post&url1={url}").into_bytes(), 400, "failed when we tested the handler"),
        ("POST", "/pleaseNotify".into(), form, None, vec![b'a'; 70 * 1024], 413, ""),
        ("POST", "/ping".into(), form, None, b"".to_vec(), 400, "url&apos; is missing"),
        ("POST", "/ping".into(), form, None, format!("url={b}/feeds/{unknown}").into_bytes(), 404, "not a feed hosted here"),
        ("POST", "/feeds".into(), "application/json", Some("wrong-token-0123456789"), b"{}".to_vec(), 401, "bearer token"),
        ("POST", "/feeds".into(), "application/json", None, b"{}".to_vec(), 401, "bearer token"),
        ("POST", "/feeds".into(), "application/json", Some(&token), b"{\"title\": 5}".to_vec(), 400, "must be JSON"),
        ("POST", format!("/feeds/{id}/items"), "application/json", Some(&token), b"not json".to_vec(), 400, "must be JSON"),
        ("POST", format!("/feeds/{id}/items"), "application/json", Some(&token), b"{\"id\":\"x\"}".to_vec(), 400, "payload"),
        ("POST", format!("/feeds/{id}/items"), "application/json", Some(&token), b"{\"id\":\"has space\",\"payload\":\"p\"}".to_vec(), 400, "item id"),
        ("POST", format!("/feeds/{id}/items"), "application/json", Some(&token), serde_json::to_vec(&serde_json::json!({"id":"big","payload":"x".repeat(1001)})).unwrap(), 413, "limit is 1000 bytes"),
        ("POST", format!("/feeds/{id}/items"), "application/json", Some(&token), serde_json::to_vec(&serde_json::json!({"id":"cr","payload":"a\r\nb"})).unwrap(), 400, "carriage returns"),
        ("POST", format!("/feeds/{id}/items"), "application/json", Some(&token), b"\xff\xfe".to_vec(), 400, "must be JSON"),
        ("POST", format!("/feeds/{unknown}/items"), "application/json", Some(&token), b"{\"id\":\"a\",\"payload\":\"p\"}".to_vec(), 404, "no such feed"),
        ("POST", "/feeds/not-an-id/items".into(), "application/json", Some(&token), b"{\"id\":\"a\",\"payload\":\"p\"}".to_vec(), 404, "no such feed"),
        ("GET", format!("/feeds/{unknown}"), "", None, vec![], 404, "no such feed"),
        ("GET", format!("/feeds/{id}/archive/0"), "", None, vec![], 404, "no such archive page"),
        ("GET", format!("/feeds/{id}/archive/x"), "", None, vec![], 404, "no such archive page"),
        ("POST", "/admin/accounts".into(), "application/json", Some("wrong-admin-token"), b"{\"name\":\"eve\"}".to_vec(), 401, "admin token"),
        ("POST", "/admin/accounts".into(), "application/json", Some(ADMIN_TOKEN), b"{\"name\":\"Eve!\"}".to_vec(), 400, "account name"),
        ("POST", "/admin/accounts".into(), "application/json", Some(ADMIN_TOKEN), b"{\"name\":\"alice\"}".to_vec(), 409, "already exists"),
        ("POST", "/follows".into(), "application/json", Some(&token), format!("{{\"url\":\"{dead}\"}}").into_bytes(), 502, "could not reach"),
        ("POST", "/follows".into(), "application/json", Some(&token), b"{\"url\":\"ftp://x\"}".to_vec(), 400, "not an absolute http"),
        ("POST", "/rsscloud/callback".into(), form, None, format!("url={b}/feeds/{unknown}").into_bytes(), 404, "no account here follows"),
        ("GET", "/inbox?feed=nope".into(), "", Some(&token), vec![], 400, "not an absolute http"),
        ("POST", "/inbox/watch".into(), "application/json", None, b"{\"cursors\":{}}".to_vec(), 401, "bearer token"),
        ("POST", "/inbox/watch".into(), "application/json", Some(&token), b"{\"cursors\":[]}".to_vec(), 400, "must be JSON"),
        ("POST", "/inbox/watch".into(), "application/json", Some(&token), b"{\"cursors\":{\"ftp://x\":1}}".to_vec(), 400, "not an absolute http"),
        ("POST", "/inbox/watch".into(), "application/json", Some(&token), b"{\"cursors\":{},\"wait\":5}".to_vec(), 400, "unknown field"),
        ("POST", "/inbox/watch".into(), "application/json", Some(&token), too_many_cursors, 400, "at most 1000 feeds"),
        ("POST", "/inbox/watch".into(), "application/json", Some(&token), vec![b' '; 300 * 1024], 413, ""),
        ("POST", "/accounts".into(), "application/json", None, b"{\"name\":\"mallory\"}".to_vec(), 403, "does not take open registrations"),
        ("GET", "/account".into(), "", None, vec![], 401, "bearer token"),
    ];
    let c = client();
    for (method, path, ctype, auth, body, status, words) in cases {
        let mut req = c.request(method.parse().unwrap(), format!("{b}{path}"));
        if !ctype.is_empty() {
            req = req.header("content-type", ctype);
        }
        if let Some(t) = auth {
            req = req.bearer_auth(t);
        }
        let resp = req.body(body).send().await.unwrap();
        let got = resp.status().as_u16();
        let text = resp.text().await.unwrap();
        assert_eq!(got, status, "{method} {path}: {text}");
        assert!(text.contains(words), "{method} {path}: the message {text:?} should say {words:?}");
    }
    // XML-RPC garbage gets faults, not crashes.
    for body in ["", "<methodCall>", "<methodCall><methodName>rssCloud.nope</methodName></methodCall>", "<methodCall><methodName>rssCloud.ping</methodName><params></params></methodCall>"] {
        let text = c.post(format!("{b}/RPC2")).body(body).send().await.unwrap().text().await.unwrap();
        assert!(text.contains("<fault>") && text.contains("faultString"), "{body}: {text}");
    }
    // A request without a usable Host header.
    let resp = c.get(format!("{b}/feeds/{id}")).header("host", "bad host!").send().await.unwrap();
    assert_eq!(resp.status(), 400);

    // Nothing was stored by any of it.
    let tenant = Tenant::parse("127.0.0.1").unwrap();
    let feed = FeedId::parse(&id).unwrap();
    assert!(app.state.provider.ports.subscriptions.list(&tenant, &feed).await.unwrap().is_empty());
    let doc = FeedDocument::parse(&c.get(&url).send().await.unwrap().bytes().await.unwrap()).unwrap();
    assert_eq!(doc.items.iter().map(|i| i.guid.to_string()).collect::<Vec<_>>(), ["ok-1"]);
    app.stop();
}

#[tokio::test(flavor = "multi_thread")]
async fn open_registration_is_validated_and_rate_limited() {
    let dir = tempfile::tempdir().unwrap();
    let app = spawn_app(&local_config(dir.path(), &["--open-registration", "--registrations-per-hour", "2"]), 0).await;
    let c = client();
    let register = |name: &'static str| c.post(format!("{}/accounts", app.base)).json(&serde_json::json!({ "name": name })).send();
    let r = register("Bad Name").await.unwrap();
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("account name"));
    let r = register("alice").await.unwrap();
    assert_eq!(r.status(), 201);
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["identity"], format!("{}/u/alice", app.base));
    let me: serde_json::Value = c.get(format!("{}/account", app.base)).bearer_auth(v["token"].as_str().unwrap()).send().await.unwrap().json().await.unwrap();
    assert_eq!(me["name"], "alice");
    assert_eq!(register("alice").await.unwrap().status(), 409);
    let r = register("carol").await.unwrap();
    assert_eq!(r.status(), 429, "two registrations an hour");
    assert!(r.headers().contains_key("retry-after"));
    assert!(r.text().await.unwrap().contains("too many registrations"));
    app.stop();
}
