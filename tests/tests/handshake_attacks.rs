//! Attacks on discovery and the handshake, and bad input, each refused with
//! a clear 4xx and nothing stored. Real servers on 127.0.0.1; providers are
//! strict (private addresses refused) except for exact allowlisted ports.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by panicking

use std::net::SocketAddr;
use std::time::Duration;

use cloudim_tests::*;
use serde_json::{Value, json};

/// A strict provider on the embedded store allowing exactly `allow`.
async fn provider(allow: &[SocketAddr], extra: &[&str]) -> (tempfile::TempDir, TestApp) {
    let dir = tempfile::tempdir().unwrap();
    let app = spawn_on(bind().await, &strict_config(&StoreChoice::Local(dir.path().into()), allow, extra), None).await;
    (dir, app)
}

async fn post_pm(app: &TestApp, body: Value) -> (u16, Value) {
    let resp = client().post(format!("{}/pm", app.base)).json(&body).send().await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

fn id() -> String {
    cloudim_protocol::InvitationId::generate().to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_notice_claiming_an_identity_whose_pm_names_another_provider_creates_nothing() {
    let (pa, pb, _dirs) = two_local_providers(&[]).await;
    let alice = Person::join(&pa, "alice").await;
    let bob = Person::join(&pb, "bob").await;

    // Mallory claims to be Alice; Bob's provider asks Alice's real endpoint, which knows nothing of it.
    let (status, body) = post_pm(&pb, json!({ "type": "notice", "invitation": id(), "from": alice.identity, "to": bob.identity })).await;
    assert_eq!(status, 403, "{body}");
    assert!(body["error"].as_str().unwrap().contains("did not confirm"), "{body}");
    assert!(bob.invitations().await.is_empty());
    assert!(alice.invitations().await.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn replayed_wrong_and_expired_delivery_tokens_are_refused() {
    let mallory = FakeSite::spawn().await;
    mallory.identity("/mallory", &format!("{}/pm", mallory.base)).await;
    let (_d, pb) = provider(&[mallory.addr], &["--verify-token-ttl-secs", "2"]).await;
    let bob = Person::join(&pb, "bob").await;
    let from = format!("{}/mallory", mallory.base);
    let notice = |inv: &str| json!({ "type": "notice", "invitation": inv, "from": from, "to": bob.identity });
    let deliver = |inv: &str, token: &str| {
        json!({ "type": "deliver", "invitation": inv, "token": token, "from": from, "to": bob.identity,
                "feed": format!("{}/feed", mallory.base), "key": format!("{}/key.asc", mallory.base),
                "fingerprint": "0123456789ABCDEF0123456789ABCDEF01234567", "conversation_token": "m".repeat(64) })
    };

    // The notice makes Bob's provider ask Mallory's discovered endpoint, with a fresh token.
    let first = id();
    assert_eq!(post_pm(&pb, notice(&first)).await.0, 202);
    let request = mallory.pm_received().await.pop().unwrap();
    assert_eq!(request["type"], "request");
    assert_eq!(request["endpoint"], format!("{}/pm", pb.base));
    let token = request["token"].as_str().unwrap().to_owned();
    assert!(token.len() >= 32, "at least 128 random bits");

    // A wrong token is refused; the right one works once; a replay is refused.
    let (status, body) = post_pm(&pb, deliver(&first, &"w".repeat(64))).await;
    assert_eq!(status, 403, "{body}");
    let (status, body) = post_pm(&pb, deliver(&first, &token)).await;
    assert_eq!(status, 200, "{body}");
    assert!(body["conversation_token"].as_str().is_some_and(|t| t.len() >= 32), "{body}");
    let (status, body) = post_pm(&pb, deliver(&first, &token)).await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(bob.incoming("pending").await.len(), 1);

    // A token for one invitation does not deliver another.
    let second = id();
    assert_eq!(post_pm(&pb, notice(&second)).await.0, 202);
    let token2 = mallory.pm_received().await.pop().unwrap()["token"].as_str().unwrap().to_owned();
    assert_eq!(post_pm(&pb, deliver(&id(), &token2)).await.0, 403);

    // An expired token is refused.
    let third = id();
    assert_eq!(post_pm(&pb, notice(&third)).await.0, 202);
    let token3 = mallory.pm_received().await.pop().unwrap()["token"].as_str().unwrap().to_owned();
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let (status, body) = post_pm(&pb, deliver(&third, &token3)).await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(bob.invitations().await.len(), 1, "only the one valid delivery was stored");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_delivery_aimed_at_an_endpoint_the_recipient_does_not_name_is_refused() {
    let victim = FakeSite::spawn().await;
    victim.identity("/victim", &format!("{}/pm", victim.base)).await;
    let mallory = FakeSite::spawn().await;
    let (_d, pa) = provider(&[victim.addr, mallory.addr], &[]).await;
    let alice = Person::join(&pa, "alice").await;
    let to = format!("{}/victim", victim.base);

    // Alice invites the victim; the victim's endpoint only records the notice.
    let (status, inv) = alice.invite(&to).await;
    assert_eq!((status, inv["state"].as_str()), (201, Some("sent")), "{inv}");
    let inv_id = inv["id"].as_str().unwrap().to_owned();
    assert_eq!(victim.pm_received().await[0]["type"], "notice");

    // Mallory asks Alice's provider to deliver to Mallory's endpoint: refused, nothing sent.
    let request = |endpoint: String| json!({ "type": "request", "invitation": inv_id, "from": alice.identity, "to": to, "endpoint": endpoint, "token": "t".repeat(40) });
    let (status, body) = post_pm(&pa, request(format!("{}/pm", mallory.base))).await;
    assert_eq!(status, 403, "{body}");
    assert!(body["error"].as_str().unwrap().contains("names another PM endpoint"), "{body}");
    assert!(mallory.pm_received().await.is_empty());
    // An invitation id that does not exist, or was addressed to someone else, is not found.
    let (status, _) = post_pm(&pa, json!({ "type": "request", "invitation": id(), "from": alice.identity, "to": to, "endpoint": format!("{}/pm", victim.base), "token": "t".repeat(40) })).await;
    assert_eq!(status, 404);
    let (status, _) = post_pm(&pa, json!({ "type": "request", "invitation": inv_id, "from": alice.identity, "to": format!("{}/other", victim.base), "endpoint": format!("{}/pm", victim.base), "token": "t".repeat(40) })).await;
    assert_eq!(status, 404);
    assert_eq!(alice.invitations().await[0]["state"], "sent");

    // The endpoint the victim's identity names gets the delivery, once.
    let (status, body) = post_pm(&pa, request(format!("{}/pm", victim.base))).await;
    // The fake endpoint answers without a conversation token, which Alice's provider reports.
    assert_eq!(status, 502, "{body}");
    let delivered = victim.pm_received().await.pop().unwrap();
    assert_eq!(delivered["type"], "deliver");
    assert_eq!(delivered["token"], "t".repeat(40));
    assert_eq!(delivered["feed"], inv["feed"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn invitation_floods_from_one_identity_or_one_provider_are_rate_limited() {
    let site = FakeSite::spawn().await;
    for who in ["mallory", "m1", "m2", "m3"] {
        site.identity(&format!("/{who}"), &format!("{}/pm", site.base)).await;
    }
    let la = bind().await;
    let aa = la.local_addr().unwrap();
    let (_db, pb) = provider(&[site.addr, aa], &["--notices-per-identity-hour", "3", "--notices-per-provider-hour", "5"]).await;
    let bob = Person::join(&pb, "bob").await;
    let notice = |who: &str| json!({ "type": "notice", "invitation": id(), "from": format!("{}/{who}", site.base), "to": bob.identity });

    for _ in 0..3 {
        assert_eq!(post_pm(&pb, notice("mallory")).await.0, 202);
    }
    let resp = client().post(format!("{}/pm", pb.base)).json(&notice("mallory")).send().await.unwrap();
    assert_eq!(resp.status(), 429);
    assert!(resp.headers().get("retry-after").is_some());
    let body: Value = resp.json().await.unwrap();
    assert!(body["error"].as_str().unwrap().contains("from this identity"), "{body}");

    // Other identities on the same provider share its budget of 5.
    assert_eq!(post_pm(&pb, notice("m1")).await.0, 202);
    assert_eq!(post_pm(&pb, notice("m2")).await.0, 202);
    let (status, body) = post_pm(&pb, notice("m3")).await;
    assert_eq!(status, 429, "{body}");
    assert!(body["error"].as_str().unwrap().contains("from this provider"), "{body}");

    // A real provider's user hitting the limit hears 429 too.
    let da = tempfile::tempdir().unwrap();
    let pa = spawn_on(la, &strict_config(&StoreChoice::Local(da.path().into()), &[pb.addr], &[]), None).await;
    let alice = Person::join(&pa, "alice").await;
    for _ in 0..3 {
        assert_eq!(alice.invite(&bob.identity).await.0, 201);
    }
    let (status, body) = alice.invite(&bob.identity).await;
    assert_eq!(status, 429, "{body}");
}

#[tokio::test(flavor = "multi_thread")]
async fn discovery_of_private_addresses_and_redirects_into_them_is_refused_without_connecting() {
    let hidden = ConnectionCounter::spawn().await;
    let site = FakeSite::spawn().await;
    site.redirect("/hop", &format!("http://{}/inside", hidden.addr)).await;
    site.identity("/metadata", "http://169.254.169.254/pm").await;
    site.identity("/loopback", &format!("http://{}/pm", hidden.addr)).await;
    site.identity("/decimal", "http://2852039166/pm").await;
    site.page("/keyonly", "text/html", &[("link", "<http://[::ffff:169.254.169.254]/k>; rel=pgpkey")], "").await;
    let (_d, pa) = provider(&[site.addr], &[]).await;
    let alice = Person::join(&pa, "alice").await;

    let discover = |target: String| {
        let alice = alice.clone();
        async move { alice.call("GET", &format!("/discover?target={}", url::form_urlencoded::byte_serialize(target.as_bytes()).collect::<String>()), None).await }
    };
    for target in [
        format!("http://{}/", hidden.addr),
        format!("{}/hop", site.base),
        format!("{}/metadata", site.base),
        format!("{}/loopback", site.base),
        format!("{}/decimal", site.base),
        format!("{}/keyonly", site.base),
        "http://169.254.169.254/latest/meta-data/".to_owned(),
        "http://0xA9FEA9FE/".to_owned(),
        "http://[::1]:9/".to_owned(),
        "http://localhost:9/".to_owned(),
    ] {
        let (status, body) = discover(target.clone()).await;
        assert_eq!(status, 403, "{target}: {body}");
        assert!(body["error"].as_str().unwrap().contains("refused"), "{target}: {body}");
    }
    let (status, body) = discover("ftp://example.com/".into()).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(hidden.connections(), 0, "a refused destination was contacted");

    // An invitation to such an identity is refused before anything is created.
    let (status, body) = alice.invite(&format!("{}/metadata", site.base)).await;
    assert_eq!(status, 403, "{body}");
    assert!(alice.invitations().await.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn malformed_or_oversized_handshake_requests_get_a_clear_4xx_and_store_nothing() {
    let (dir, pb) = provider(&[], &[]).await;
    let bob = Person::join(&pb, "bob").await;
    let raw = |method: &str, path: &str, body: String, auth: bool| {
        let (base, token) = (pb.base.clone(), bob.token.clone());
        let (method, path) = (method.to_owned(), path.to_owned());
        async move {
            let url = format!("{base}{path}");
            let mut req = match method.as_str() {
                "GET" => client().get(url),
                "PUT" => client().put(url),
                _ => client().post(url),
            };
            if auth {
                req = req.bearer_auth(token);
            }
            let resp = req.header("content-type", "application/json").body(body).send().await.unwrap();
            let status = resp.status().as_u16();
            (status, resp.text().await.unwrap())
        }
    };
    let (accept_unknown, explode) = (format!("/invitations/{}/accept", id()), format!("/invitations/{}/explode", id()));
    let cases: Vec<(&str, &str, String, bool, u16)> = vec![
        ("POST", "/pm", "not json".into(), false, 400),
        ("POST", "/pm", json!({ "type": "hello" }).to_string(), false, 400),
        ("POST", "/pm", json!({ "type": "notice", "invitation": "xyz", "from": "https://x.example/", "to": bob.identity }).to_string(), false, 400),
        ("POST", "/pm", json!({ "type": "notice", "invitation": id(), "from": "ftp://x.example/", "to": bob.identity }).to_string(), false, 400),
        ("POST", "/pm", json!({ "type": "notice", "invitation": id(), "from": "https://x.example/", "to": "https://elsewhere.example/u/bob" }).to_string(), false, 404),
        ("POST", "/pm", json!({ "type": "notice", "invitation": id(), "from": bob.identity, "to": bob.identity }).to_string(), false, 400),
        ("POST", "/pm", json!({ "type": "deliver", "invitation": id() }).to_string(), false, 400),
        ("POST", "/pm", json!({ "type": "deliver", "invitation": id(), "token": "short", "from": "https://x.example/", "to": bob.identity, "feed": "https://x.example/f", "key": "https://x.example/k", "fingerprint": "A".repeat(40), "conversation_token": "c".repeat(40) }).to_string(), false, 403),
        ("POST", "/pm", json!({ "type": "deliver", "invitation": id(), "token": "t".repeat(40), "from": "https://x.example/", "to": bob.identity, "feed": "https://x.example/f", "key": "https://x.example/k", "fingerprint": "XYZ", "conversation_token": "c".repeat(40) }).to_string(), false, 400),
        ("POST", "/pm", json!({ "type": "decline", "invitation": id(), "token": "t".repeat(40) }).to_string(), false, 403),
        ("POST", "/pm", format!(r#"{{"type":"notice","pad":"{}"}}"#, "x".repeat(20_000)), false, 413),
        ("PUT", "/account/key", json!({ "armored": "not a key", "fingerprint": "A".repeat(40) }).to_string(), true, 400),
        ("PUT", "/account/key", json!({ "armored": armored_key("bob"), "fingerprint": "123" }).to_string(), true, 400),
        ("PUT", "/account/key", json!({ "armored": "k".repeat(200_000), "fingerprint": "A".repeat(40) }).to_string(), true, 413),
        ("PUT", "/account/key", json!({ "armored": armored_key("bob"), "fingerprint": "A".repeat(40) }).to_string(), false, 401),
        ("POST", "/invitations", json!({ "to": "not a url" }).to_string(), true, 400),
        ("POST", "/invitations", json!({ "to": "" }).to_string(), true, 400),
        ("POST", "/invitations", json!({ "to": "https://x.example/", "extra": 1 }).to_string(), true, 400),
        ("POST", "/invitations", json!({ "to": bob.identity }).to_string(), true, 400),
        ("POST", "/invitations", json!({ "to": "https://x.example/" }).to_string(), false, 401),
        ("POST", "/invitations", format!(r#"{{"to":"https://x.example/{}"}}"#, "a".repeat(5000)), true, 413),
        ("POST", "/invitations/xyz/accept", String::new(), true, 400),
        ("POST", &accept_unknown, String::new(), true, 404),
        ("POST", &explode, String::new(), true, 404),
        ("GET", "/discover", String::new(), true, 400),
        ("GET", "/discover?target=https://x.example/", String::new(), false, 401),
        ("GET", "/.well-known/webfinger?resource=https://x.example/", String::new(), false, 400),
        ("GET", "/.well-known/webfinger", String::new(), false, 400),
        ("GET", "/u/nobody", String::new(), false, 404),
        ("GET", "/u/NOBODY", String::new(), false, 404),
        ("GET", "/u/bob/key.asc", String::new(), false, 200),
    ];
    for (method, path, body, auth, want) in cases {
        let (status, text) = raw(method, path, body, auth).await;
        assert_eq!(status, want, "{method} {path}: {text}");
        if status >= 400 {
            let v: Value = serde_json::from_str(&text).unwrap_or_else(|_| panic!("{method} {path}: not JSON: {text}"));
            assert!(v["error"].as_str().is_some_and(|m| m.len() > 10), "{method} {path}: {text}");
        }
    }
    assert!(bob.invitations().await.is_empty());
    for stored in ["invitations", "handshake-tokens", "conversations", "blocks", "feeds"] {
        let path = dir.path().join("tenants/127.0.0.1").join(stored);
        assert!(!path.exists(), "{stored} was written: {}", path.display());
    }
}
