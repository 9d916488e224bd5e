//! The use cases against the in-memory fakes.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by panicking

use std::sync::Arc;

use cloudim_domain::fakes::*;
use cloudim_domain::*;
use cloudim_protocol::{FeedDocument, Origin, Paging, Ping, PleaseNotify};

struct World {
    provider: Arc<Provider>,
    outbound: Arc<RecordingOutbound>,
    dispatched: Arc<CountingDispatcher>,
    clock: Arc<ManualClock>,
}

fn world(head: usize, page: usize) -> World {
    let records = Arc::new(MemoryRecords::default());
    let outbound = Arc::new(RecordingOutbound::default());
    let dispatched = Arc::new(CountingDispatcher::default());
    let clock = Arc::new(ManualClock::at(1_800_000_000));
    let settings = Settings {
        paging: Paging::new(head, page),
        max_item_bytes: 1000,
        fanout: FanoutSettings { retries: 0, backoff: std::time::Duration::ZERO, max_failures: 2, ..Default::default() },
        ..Settings::default()
    };
    let provider = Arc::new(Provider::new(
        Ports {
            feeds: Arc::new(MemoryFeedStore::default()),
            accounts: records.clone(),
            subscriptions: records.clone(),
            inbox: records.clone(),
            handshake: records.clone(),
            discovery: records.clone(),
            tenants: records,
            outbound: outbound.clone(),
            federation: outbound.clone(),
            dispatcher: dispatched.clone(),
            clock: clock.clone(),
        },
        settings,
    ));
    World { provider, outbound, dispatched, clock }
}

fn origin() -> Origin {
    Origin::from_host(false, "a.example:8080").unwrap()
}

#[tokio::test]
async fn append_is_idempotent_paged_and_owner_only() {
    let w = world(3, 2);
    let o = origin();
    let (alice, token) = w.provider.create_account(o.tenant(), "alice").await.unwrap();
    assert_eq!(w.provider.authenticate(o.tenant(), token.expose()).await.unwrap(), alice.name);
    assert!(matches!(w.provider.create_account(o.tenant(), "alice").await, Err(Error::Conflict(_))));
    let feed = w.provider.create_feed(&o, &alice.name, Some("a→b")).await.unwrap();

    for i in 0..20 {
        let r = w.provider.append(&o, &alice.name, &feed.id, &format!("m{i}"), format!("payload {i}")).await.unwrap();
        assert_eq!(r, publish::Appended { seq: i, duplicate: false });
    }
    // A repeat of an item still in the head, and of one long archived.
    assert!(w.provider.append(&o, &alice.name, &feed.id, "m19", "other".into()).await.unwrap().duplicate);
    assert_eq!(w.provider.append(&o, &alice.name, &feed.id, "m0", "x".into()).await.unwrap(), publish::Appended { seq: 0, duplicate: true });
    assert_eq!(w.dispatched.0.lock().unwrap().len(), 20, "one fan-out per new item");

    // The head plus the archive chain hold all 20 items once, in order.
    let head = FeedDocument::parse(&w.provider.read_feed(o.tenant(), &feed.id, None).await.unwrap().body).unwrap();
    assert!(head.items.len() >= 3 && head.items.len() < 5);
    let mut all: Vec<String> = head.items.iter().map(|i| i.payload.clone()).collect();
    let mut prev = head.links.prev_archive.clone();
    while let Some(url) = prev {
        let page: u64 = url.rsplit('/').next().unwrap().parse().unwrap();
        let doc = FeedDocument::parse(&w.provider.read_feed(o.tenant(), &feed.id, Some(page)).await.unwrap().body).unwrap();
        assert_eq!(doc.items.len(), 2);
        all.splice(0..0, doc.items.iter().map(|i| i.payload.clone()));
        prev = doc.links.prev_archive;
    }
    assert_eq!(all, (0..20).map(|i| format!("payload {i}")).collect::<Vec<_>>());

    let (bob, _) = w.provider.create_account(o.tenant(), "bob").await.unwrap();
    assert!(matches!(w.provider.append(&o, &bob.name, &feed.id, "z", "x".into()).await, Err(Error::Forbidden(_))));
    assert!(matches!(w.provider.append(&o, &alice.name, &feed.id, "big", "x".repeat(1001)).await, Err(Error::TooLarge(_))));
    assert!(matches!(w.provider.append(&o, &alice.name, &feed.id, "bad id", "x".into()).await, Err(Error::Invalid(_))));
    // Another tenant sees nothing of this one.
    let other = Origin::from_host(false, "b.example:8080").unwrap();
    assert!(matches!(w.provider.read_feed(other.tenant(), &feed.id, None).await, Err(Error::NotFound(_))));
    assert!(w.provider.authenticate(other.tenant(), token.expose()).await.is_err());
}

#[tokio::test]
async fn please_notify_verifies_before_storing_and_fanout_drops_failing_and_expired() {
    let w = world(50, 50);
    let o = origin();
    let (alice, _) = w.provider.create_account(o.tenant(), "alice").await.unwrap();
    let feed = w.provider.create_feed(&o, &alice.name, None).await.unwrap();
    let url = format!("http://a.example:8080/feeds/{}", feed.id);
    let caller = "127.0.0.1".parse().unwrap();

    let form = |port: u16, extra: &str| PleaseNotify::from_form(format!("port={port}&path=/cb&protocol=http-post&url1={url}{extra}").as_bytes()).unwrap();
    // Not a feed of this tenant.
    let foreign = PleaseNotify::from_form(b"port=1&path=/cb&protocol=http-post&url1=http://elsewhere.example/feeds/00000000000000000000000000000000").unwrap();
    assert!(matches!(w.provider.please_notify(&o, caller, &foreign).await, Err(Error::NotFound(_))));
    // A failing handler: nothing stored.
    w.outbound.failing.lock().unwrap().push("http://127.0.0.1:9/cb".into());
    assert!(matches!(w.provider.please_notify(&o, caller, &form(9, "")).await, Err(Error::VerificationFailed(_))));
    // With a domain, a challenge; without, a test notification.
    w.provider.please_notify(&o, caller, &form(10, "&domain=sub.example")).await.unwrap();
    assert_eq!(w.outbound.challenged.lock().unwrap().len(), 1);
    w.provider.please_notify(&o, caller, &form(11, "")).await.unwrap();
    w.provider.please_notify(&o, caller, &form(11, "")).await.unwrap(); // a renewal: still one record
    assert_eq!(w.provider.ports.subscriptions.list(o.tenant(), &feed.id).await.unwrap().len(), 2);

    w.outbound.notified.lock().unwrap().clear();
    let r = w.provider.fanout(o.tenant(), &feed.id).await.unwrap();
    assert_eq!(r.delivered, 2);
    // One subscriber starts failing: dropped after two consecutive failed fan-outs.
    w.outbound.failing.lock().unwrap().push("http://127.0.0.1:11/cb".into());
    assert_eq!(w.provider.fanout(o.tenant(), &feed.id).await.unwrap().failed, 1);
    let r = w.provider.fanout(o.tenant(), &feed.id).await.unwrap();
    assert_eq!((r.delivered, r.dropped), (1, 1));
    assert_eq!(w.provider.ports.subscriptions.list(o.tenant(), &feed.id).await.unwrap().len(), 1);
    // 25 hours later the other has expired and is never notified.
    w.clock.advance(25 * 3600);
    w.outbound.notified.lock().unwrap().clear();
    let r = w.provider.fanout(o.tenant(), &feed.id).await.unwrap();
    assert_eq!((r.delivered, r.dropped), (0, 1));
    assert!(w.outbound.notified.lock().unwrap().is_empty());

    let ping = Ping::from_form(format!("url={url}").as_bytes()).unwrap();
    w.provider.ping(&o, &ping).await.unwrap();
    let unknown = Ping::from_form(b"url=http://a.example:8080/feeds/ffffffffffffffffffffffffffffffff").unwrap();
    assert!(matches!(w.provider.ping(&o, &unknown).await, Err(Error::NotFound(_))));
}

#[tokio::test]
async fn following_records_each_item_once_in_order_and_catches_up_through_archives() {
    // The publisher's side, with small pages.
    let publisher = world(2, 2);
    let po = Origin::from_host(false, "pub.example:80").unwrap();
    let (alice, _) = publisher.provider.create_account(po.tenant(), "alice").await.unwrap();
    let feed = publisher.provider.create_feed(&po, &alice.name, None).await.unwrap();
    let url = format!("http://pub.example/feeds/{}", feed.id);

    let sub = world(50, 50);
    let so = Origin::from_host(false, "sub.example:8081").unwrap();
    let (bob, _) = sub.provider.create_account(so.tenant(), "bob").await.unwrap();
    publisher.provider.append(&po, &alice.name, &feed.id, "m0", "zero".into()).await.unwrap();
    *sub.outbound.documents.lock().unwrap() = futures_docs(&publisher, &feed.id, &url).await;
    sub.provider.follow(&so, &bob.name, &url).await.unwrap();
    let reg = sub.outbound.registrations.lock().unwrap().clone();
    assert_eq!(reg[0].0, "http://pub.example:80/pleaseNotify");
    assert!(reg[0].1.contains("domain=sub.example") && reg[0].1.contains("port=8081"));

    // Ten more items arrive while we hear nothing; most are archived by now.
    for i in 1..11 {
        publisher.provider.append(&po, &alice.name, &feed.id, &format!("m{i}"), format!("item {i}")).await.unwrap();
    }
    *sub.outbound.documents.lock().unwrap() = futures_docs(&publisher, &feed.id, &url).await;
    assert_eq!(sub.provider.on_notification(so.tenant(), &url).await.unwrap(), 10);
    assert_eq!(sub.provider.on_notification(so.tenant(), &url).await.unwrap(), 0, "a repeat notification records nothing");
    let items = sub.provider.inbox_items(so.tenant(), &bob.name, &url, None, 100).await.unwrap();
    assert_eq!(items.iter().map(|i| i.seq).collect::<Vec<_>>(), (0..11).collect::<Vec<_>>());
    assert_eq!(items[0].payload, "zero");
    assert_eq!(sub.provider.inbox_items(so.tenant(), &bob.name, &url, Some(8), 100).await.unwrap().len(), 2);
    assert!(matches!(sub.provider.on_notification(so.tenant(), "http://unknown.example/f").await, Err(Error::NotFound(_))));
}

/// Every document of a feed, by URL, as the publisher serves them.
async fn futures_docs(w: &World, feed: &cloudim_protocol::FeedId, url: &str) -> std::collections::HashMap<String, bytes::Bytes> {
    let tenant = cloudim_protocol::Tenant::parse("pub.example").unwrap();
    let mut docs = std::collections::HashMap::new();
    docs.insert(url.to_owned(), w.provider.read_feed(&tenant, feed, None).await.unwrap().body);
    for page in 0..100 {
        match w.provider.read_feed(&tenant, feed, Some(page)).await {
            Ok(d) => docs.insert(format!("{url}/archive/{page}"), d.body),
            Err(_) => break,
        };
    }
    docs
}

/// Serves an identity page naming `pm` as its PM endpoint.
fn identity_page(w: &World, identity: &str, pm: &str) {
    let body = format!(r#"<html><head><link rel="pm" href="{pm}"></head></html>"#);
    w.outbound.pages.lock().unwrap().insert(identity.to_owned(), ("text/html".into(), vec![], body));
}

/// The token of the last delivery request this provider sent.
fn last_request_token(w: &World) -> String {
    let (_, json) = w.outbound.pm_posts.lock().unwrap().last().cloned().expect("a PM post");
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["type"], "request", "{json}");
    v["token"].as_str().unwrap().to_owned()
}

fn delivery(invitation: &cloudim_protocol::InvitationId, token: &str, from: &str, to: &str) -> cloudim_protocol::pm::Delivery {
    cloudim_protocol::pm::Delivery {
        invitation: invitation.clone(),
        token: token.to_owned(),
        from: cloudim_protocol::Identity::parse(from).unwrap(),
        to: cloudim_protocol::Identity::parse(to).unwrap(),
        feed: "https://alice.example/feeds/00000000000000000000000000000000".into(),
        key: "https://alice.example/u/alice/key.asc".into(),
        fingerprint: cloudim_protocol::Fingerprint::parse(&"AB".repeat(20)).unwrap(),
        conversation_token: "c".repeat(64),
        in_reply_to: None,
    }
}

#[tokio::test]
async fn delivery_tokens_are_single_use_bound_to_their_invitation_and_expire() {
    let w = world(5, 5);
    let o = origin();
    w.provider.create_account(o.tenant(), "bob").await.unwrap();
    let (alice, bob) = ("https://alice.example/", "http://a.example:8080/u/bob");
    identity_page(&w, alice, "https://pm.alice.example/pm");
    let notice = |id: &cloudim_protocol::InvitationId| cloudim_protocol::pm::Notice {
        invitation: id.clone(),
        from: cloudim_protocol::Identity::parse(alice).unwrap(),
        to: cloudim_protocol::Identity::parse(bob).unwrap(),
    };

    // The notice makes us ask the sender's discovered endpoint, with a token.
    let first = cloudim_protocol::InvitationId::generate();
    w.provider.on_notice(&o, notice(&first)).await.unwrap();
    assert_eq!(w.outbound.pm_posts.lock().unwrap().last().unwrap().0, "https://pm.alice.example/pm");
    let token = last_request_token(&w);

    // A wrong token, or the right one for another invitation, is refused.
    let other = cloudim_protocol::InvitationId::generate();
    assert!(matches!(w.provider.on_deliver(&o, delivery(&first, &"x".repeat(64), alice, bob)).await, Err(Error::Forbidden(_))));
    let second = cloudim_protocol::InvitationId::generate();
    w.provider.on_notice(&o, notice(&second)).await.unwrap();
    let token2 = last_request_token(&w);
    assert!(matches!(w.provider.on_deliver(&o, delivery(&other, &token2, alice, bob)).await, Err(Error::Forbidden(_))));

    // The right token works once; a replay is refused.
    w.provider.on_deliver(&o, delivery(&first, &token, alice, bob)).await.unwrap();
    assert!(matches!(w.provider.on_deliver(&o, delivery(&first, &token, alice, bob)).await, Err(Error::Forbidden(_))));
    let bob_name = cloudim_protocol::AccountName::parse("bob").unwrap();
    let pending = w.provider.invitations(o.tenant(), &bob_name).await.unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].state, InvitationState::Pending);

    // An expired token is refused.
    let third = cloudim_protocol::InvitationId::generate();
    w.provider.on_notice(&o, notice(&third)).await.unwrap();
    let token3 = last_request_token(&w);
    w.clock.advance(601);
    assert!(matches!(w.provider.on_deliver(&o, delivery(&third, &token3, alice, bob)).await, Err(Error::Forbidden(_))));
    assert_eq!(w.provider.invitations(o.tenant(), &bob_name).await.unwrap().len(), 1);

    // Too many notices from one identity within the hour are refused.
    w.clock.advance(3600);
    let mut limited = 0;
    for _ in 0..25 {
        if let Err(Error::RateLimited { .. }) = w.provider.on_notice(&o, notice(&cloudim_protocol::InvitationId::generate())).await {
            limited += 1;
        }
    }
    assert_eq!(limited, 5, "the default allows 20 per identity per hour");
}

#[tokio::test]
async fn discovery_is_cached_for_its_ttl_and_refuses_forbidden_endpoints() {
    let w = world(5, 5);
    let o = origin();
    identity_page(&w, "https://carol.example/", "https://pm.carol.example/pm");
    let d = w.provider.discover(o.tenant(), "https://carol.example/", false).await.unwrap();
    assert_eq!(d.pm.as_deref(), Some("https://pm.carol.example/pm"));
    w.provider.discover(o.tenant(), "https://carol.example/", false).await.unwrap();
    assert_eq!(w.outbound.page_fetches.lock().unwrap().len(), 1, "the second lookup is served from the cache");
    // Another tenant has its own cache.
    let other = Origin::from_host(false, "b.example").unwrap();
    w.provider.discover(other.tenant(), "https://carol.example/", false).await.unwrap();
    assert_eq!(w.outbound.page_fetches.lock().unwrap().len(), 2);
    // Expired entries, and fresh lookups, fetch again.
    w.clock.advance(3601);
    w.provider.discover(o.tenant(), "https://carol.example/", false).await.unwrap();
    w.provider.discover(o.tenant(), "https://carol.example/", true).await.unwrap();
    assert_eq!(w.outbound.page_fetches.lock().unwrap().len(), 4);

    // An endpoint on a forbidden address is refused, not returned or cached.
    identity_page(&w, "https://dave.example/", "http://169.254.169.254/pm");
    assert!(matches!(w.provider.discover(o.tenant(), "https://dave.example/", false).await, Err(Error::Refused(_))));
    identity_page(&w, "https://erin.example/", "javascript:alert(1)");
    assert!(matches!(w.provider.discover(o.tenant(), "https://erin.example/", false).await, Err(Error::Refused(_))));
}
