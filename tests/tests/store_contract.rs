//! One storage contract, run against the embedded store and against the
//! S3/DynamoDB adapters on a real moto server.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by panicking

use std::sync::Arc;

use bytes::Bytes;
use cloudim_domain::*;
use cloudim_protocol::{AccountName, FeedId, ItemId, Tenant};
use cloudim_tests::{emulator_sdk, moto_endpoint};

trait Store: FeedStore + AccountStore + SubscriptionStore + InboxStore + HandshakeStore + DiscoveryCache + TenantStore + 'static {}
impl<T: FeedStore + AccountStore + SubscriptionStore + InboxStore + HandshakeStore + DiscoveryCache + TenantStore + 'static> Store for T {}

fn tenant(s: &str) -> Tenant {
    Tenant::parse(s).unwrap()
}

fn feed_id(n: u8) -> FeedId {
    FeedId::from_bytes([n; 16])
}

fn name(s: &str) -> AccountName {
    AccountName::parse(s).unwrap()
}

fn sub(feed: &FeedId, i: usize, now: u64) -> Subscription {
    cloudim_tests::subscription(feed, &format!("http://a.example/feeds/{feed}"), format!("http://127.0.0.1:9/cb/{i}"), now)
}

async fn contract(store: Arc<dyn StoreDyn>) {
    feeds(&store).await;
    accounts(&store).await;
    subscriptions(&store).await;
    inbox(&store).await;
    handshake(&store).await;
    tenants(&store).await;
}

async fn tenants(store: &Arc<dyn StoreDyn>) {
    let t = store.tenants();
    let (t1, t2) = (tenant("t1.example"), tenant("t2.example"));
    assert!(t.get_tenant(&t1).await.unwrap().is_none());
    assert!(t.list_tenants().await.unwrap().is_empty());
    let record = |tn: &Tenant, max| TenantRecord { tenant: tn.clone(), limits: LimitOverrides { max_accounts: max, ..Default::default() }, created_at: 1, updated_at: 2 };
    t.put_tenant(&record(&t2, None)).await.unwrap();
    t.put_tenant(&record(&t1, Some(3))).await.unwrap();
    assert_eq!(t.get_tenant(&t1).await.unwrap(), Some(record(&t1, Some(3))));
    assert_eq!(t.list_tenants().await.unwrap().iter().map(|r| r.tenant.as_str()).collect::<Vec<_>>(), ["t1.example", "t2.example"]);
    t.put_tenant(&record(&t1, Some(4))).await.unwrap();
    assert_eq!(t.get_tenant(&t1).await.unwrap().unwrap().limits.max_accounts, Some(4), "replaced");

    // Meters: within the max, refused past it with nothing changed, given
    // back never below zero, and separate per tenant and per meter.
    assert_eq!(t.usage(&t1).await.unwrap(), Usage::default());
    assert_eq!(t.add_usage(&t1, Meter::StorageBytes, 60, Some(100)).await.unwrap(), 60);
    assert_eq!(t.add_usage(&t1, Meter::StorageBytes, 40, Some(100)).await.unwrap(), 100);
    assert!(matches!(t.add_usage(&t1, Meter::StorageBytes, 1, Some(100)).await, Err(StoreError::PreconditionFailed)));
    assert!(matches!(t.add_usage(&t2, Meter::StorageBytes, 101, Some(100)).await, Err(StoreError::PreconditionFailed)));
    assert_eq!(t.add_usage(&t1, Meter::StorageBytes, -30, None).await.unwrap(), 70);
    assert_eq!(t.add_usage(&t1, Meter::Accounts, 1, Some(1)).await.unwrap(), 1);
    assert_eq!(t.usage(&t1).await.unwrap(), Usage { accounts: 1, storage_bytes: 70 });
    assert_eq!(t.usage(&t2).await.unwrap(), Usage::default());
    assert!(t.add_usage(&t2, Meter::Accounts, -1, None).await.map_or(true, |v| v == 0), "never below zero");
    assert_eq!(t.usage(&t2).await.unwrap().accounts, 0);
}

fn identity(s: &str) -> cloudim_protocol::Identity {
    cloudim_protocol::Identity::parse(s).unwrap()
}

async fn handshake(store: &Arc<dyn StoreDyn>) {
    let (t1, t2) = (tenant("hs1.example"), tenant("hs2.example"));
    let alice = name("alice");
    let bob = identity("https://bob.example/");

    // A single-use token: of 8 concurrent takers exactly one gets it.
    let token = Token::generate();
    let rec = HandshakeToken {
        hash: token.hash(),
        purpose: TokenPurpose::Verify,
        account: alice.clone(),
        peer: bob.clone(),
        invitation: cloudim_protocol::InvitationId::generate(),
        endpoint: "https://pm.bob.example/pm".into(),
        created_at: 1,
        expires_at: 2_000_000_000,
    };
    store.handshake().put_handshake_token(&t1, &rec).await.unwrap();
    assert!(store.handshake().get_handshake_token(&t2, &rec.hash).await.unwrap().is_none(), "tenant isolation");
    assert_eq!(store.handshake().get_handshake_token(&t1, &rec.hash).await.unwrap().as_ref(), Some(&rec));
    let takers = (0..8).map(|_| {
        let s = store.clone();
        let (t, h) = (t1.clone(), rec.hash.clone());
        tokio::spawn(async move { s.handshake().take_handshake_token(&t, &h).await.unwrap() })
    });
    let taken: Vec<_> = futures::future::join_all(takers).await.into_iter().filter_map(|r| r.unwrap()).collect();
    assert_eq!(taken, vec![rec.clone()]);
    assert!(store.handshake().get_handshake_token(&t1, &rec.hash).await.unwrap().is_none());

    // Invitations and conversations, per account and tenant.
    let inv = Invitation {
        id: cloudim_protocol::InvitationId::generate(),
        account: alice.clone(),
        direction: Direction::Incoming,
        peer: bob.clone(),
        peer_endpoint: "https://pm.bob.example/pm".into(),
        state: InvitationState::Pending,
        feed_url: "https://pm.bob.example/feeds/x".into(),
        key_url: Some("https://bob.example/key.asc".into()),
        fingerprint: Some(cloudim_protocol::Fingerprint::parse(&"C".repeat(40)).unwrap()),
        peer_token: Some("p".repeat(64)),
        issued_token: Some(rec.hash.clone()),
        in_reply_to: None,
        created_at: 5,
        updated_at: 5,
    };
    store.handshake().put_invitation(&t1, &inv).await.unwrap();
    assert_eq!(store.handshake().get_invitation(&t1, &alice, &inv.id).await.unwrap().as_ref(), Some(&inv));
    assert!(store.handshake().get_invitation(&t2, &alice, &inv.id).await.unwrap().is_none());
    let accepted = Invitation { state: InvitationState::Accepted, ..inv.clone() };
    store.handshake().put_invitation(&t1, &accepted).await.unwrap();
    assert_eq!(store.handshake().list_invitations(&t1, &alice).await.unwrap(), vec![accepted]);
    assert!(store.handshake().list_invitations(&t1, &name("carol")).await.unwrap().is_empty());
    let conv = Conversation {
        account: alice.clone(),
        peer: bob.clone(),
        peer_endpoint: inv.peer_endpoint.clone(),
        our_feed_url: "https://a.example/feeds/y".into(),
        their_feed_url: inv.feed_url.clone(),
        their_key_url: "https://bob.example/key.asc".into(),
        their_fingerprint: cloudim_protocol::Fingerprint::parse(&"C".repeat(40)).unwrap(),
        peer_token: "p".repeat(64),
        created_at: 6,
    };
    store.handshake().put_conversation(&t1, &conv).await.unwrap();
    assert_eq!(store.handshake().list_conversations(&t1, &alice).await.unwrap(), vec![conv]);
    assert!(store.handshake().list_conversations(&t2, &alice).await.unwrap().is_empty());

    // Keys, blocks, and counters that count every concurrent hit.
    let key = AccountKey { account: alice.clone(), armored: "k".into(), fingerprint: cloudim_protocol::Fingerprint::parse(&"D".repeat(64)).unwrap(), updated_at: 7 };
    store.handshake().put_key(&t1, &key).await.unwrap();
    assert_eq!(store.handshake().get_key(&t1, &alice).await.unwrap(), Some(key));
    assert!(store.handshake().get_key(&t2, &alice).await.unwrap().is_none());
    assert!(!store.handshake().is_blocked(&t1, &alice, &bob).await.unwrap());
    store.handshake().put_block(&t1, &alice, &bob, 8).await.unwrap();
    assert!(store.handshake().is_blocked(&t1, &alice, &bob).await.unwrap());
    assert!(!store.handshake().is_blocked(&t2, &alice, &bob).await.unwrap());
    let hits = (0..20).map(|_| {
        let s = store.clone();
        let t = t1.clone();
        tokio::spawn(async move { s.handshake().count(&t, "notice-from-x", 3600, 10_800).await.unwrap() })
    });
    let mut counts: Vec<u64> = futures::future::join_all(hits).await.into_iter().map(|r| r.unwrap()).collect();
    counts.sort_unstable();
    assert_eq!(counts, (1..=20).collect::<Vec<u64>>());
    assert_eq!(store.handshake().count(&t1, "notice-from-x", 7200, 14_400).await.unwrap(), 1, "a new window starts at one");

    // The discovery cache.
    let d = Discovered { identity: bob.clone(), final_url: "https://bob.example/".into(), pm: Some("https://pm.bob.example/pm".into()), pgpkey: None, fetched_at: 9, expires_at: 10 };
    store.discovery().put_discovered(&t1, &d).await.unwrap();
    assert_eq!(store.discovery().get_discovered(&t1, &bob).await.unwrap(), Some(d));
    assert!(store.discovery().get_discovered(&t2, &bob).await.unwrap().is_none());
}

/// Object-safe view of a store with every port.
trait StoreDyn: Send + Sync {
    fn feeds(&self) -> &dyn FeedStore;
    fn accounts(&self) -> &dyn AccountStore;
    fn subs(&self) -> &dyn SubscriptionStore;
    fn inbox(&self) -> &dyn InboxStore;
    fn handshake(&self) -> &dyn HandshakeStore;
    fn discovery(&self) -> &dyn DiscoveryCache;
    fn tenants(&self) -> &dyn TenantStore;
}

impl<T: Store> StoreDyn for T {
    fn tenants(&self) -> &dyn TenantStore {
        self
    }
    fn feeds(&self) -> &dyn FeedStore {
        self
    }
    fn accounts(&self) -> &dyn AccountStore {
        self
    }
    fn subs(&self) -> &dyn SubscriptionStore {
        self
    }
    fn inbox(&self) -> &dyn InboxStore {
        self
    }
    fn handshake(&self) -> &dyn HandshakeStore {
        self
    }
    fn discovery(&self) -> &dyn DiscoveryCache {
        self
    }
}

async fn feeds(store: &Arc<dyn StoreDyn>) {
    let (t, other) = (tenant("a.example"), tenant("b.example"));
    let key = DocKey::Head(feed_id(1));
    let f = store.feeds();
    assert_eq!(f.get(&t, &key).await.unwrap(), None);
    assert!(matches!(f.put(&t, &key, Bytes::from("v1"), PutCondition::IfMatch("\"nope\"".into())).await, Err(StoreError::PreconditionFailed)), "If-Match on a missing document");
    let e1 = f.put(&t, &key, Bytes::from("v1"), PutCondition::IfAbsent).await.unwrap();
    assert!(matches!(f.put(&t, &key, Bytes::from("v1b"), PutCondition::IfAbsent).await, Err(StoreError::PreconditionFailed)));
    let got = f.get(&t, &key).await.unwrap().unwrap();
    assert_eq!((got.body.as_ref(), got.etag.as_str()), (&b"v1"[..], e1.as_str()));
    let e2 = f.put(&t, &key, Bytes::from("v2"), PutCondition::IfMatch(e1.clone())).await.unwrap();
    assert_ne!(e1, e2);
    assert!(matches!(f.put(&t, &key, Bytes::from("v3"), PutCondition::IfMatch(e1)).await, Err(StoreError::PreconditionFailed)), "stale ETag");
    assert_eq!(f.get(&t, &key).await.unwrap().unwrap().body.as_ref(), b"v2");
    assert_eq!(f.get(&other, &key).await.unwrap(), None, "tenant isolation");
    f.put(&t, &DocKey::Archive(feed_id(1), 3), Bytes::from("page"), PutCondition::Always).await.unwrap();
    f.put(&t, &DocKey::Archive(feed_id(1), 3), Bytes::from("page"), PutCondition::Always).await.unwrap();
    let marker = DocKey::ItemMarker(feed_id(1), ItemId::parse("m-1").unwrap());
    f.put(&t, &marker, Bytes::from("7"), PutCondition::IfAbsent).await.unwrap();
    assert_eq!(f.get(&t, &marker).await.unwrap().unwrap().body.as_ref(), b"7");

    // Concurrent conditional writers from one ETag: exactly one wins.
    let base = f.get(&t, &key).await.unwrap().unwrap().etag;
    let wins = futures::future::join_all((0..8).map(|i| {
        let store = store.clone();
        let (t, key, base) = (t.clone(), key.clone(), base.clone());
        async move { store.feeds().put(&t, &key, Bytes::from(format!("w{i}")), PutCondition::IfMatch(base)).await.is_ok() }
    }))
    .await;
    assert_eq!(wins.iter().filter(|w| **w).count(), 1, "exactly one conditional writer wins: {wins:?}");
}

async fn accounts(store: &Arc<dyn StoreDyn>) {
    let (t, other) = (tenant("a.example"), tenant("b.example"));
    let a = store.accounts();
    let alice = Account { name: name("alice"), created_at: 5 };
    a.create_account(&t, &alice).await.unwrap();
    assert!(matches!(a.create_account(&t, &alice).await, Err(StoreError::PreconditionFailed)));
    a.create_account(&other, &alice).await.unwrap();
    assert_eq!(a.get_account(&t, &name("alice")).await.unwrap(), Some(alice.clone()));
    assert_eq!(a.get_account(&t, &name("nobody")).await.unwrap(), None);
    let tok = Token::generate();
    let rec = TokenRecord { hash: tok.hash(), account: name("alice"), created_at: 5, expires_at: Some(99) };
    a.put_token(&t, &rec).await.unwrap();
    assert_eq!(a.get_token(&t, &tok.hash()).await.unwrap(), Some(rec));
    assert_eq!(a.get_token(&other, &tok.hash()).await.unwrap(), None);
    a.delete_token(&t, &tok.hash()).await.unwrap();
    assert_eq!(a.get_token(&t, &tok.hash()).await.unwrap(), None);
    let feed = FeedRecord { id: feed_id(2), owner: name("alice"), title: "t ü".into(), created_at: 6 };
    a.create_feed(&t, &feed).await.unwrap();
    assert!(matches!(a.create_feed(&t, &feed).await, Err(StoreError::PreconditionFailed)));
    assert_eq!(a.get_feed(&t, &feed.id).await.unwrap(), Some(feed.clone()));
    assert_eq!(a.get_feed(&other, &feed.id).await.unwrap(), None);
}

async fn subscriptions(store: &Arc<dyn StoreDyn>) {
    let (t, other) = (tenant("a.example"), tenant("b.example"));
    let feed = feed_id(3);
    let s = store.subs();
    let first = sub(&feed, 0, 100);
    s.put(&t, &first).await.unwrap();
    s.put(&t, &Subscription { renewed_at: 200, created_at: 200, expires_at: 90_200, ..first.clone() }).await.unwrap();
    let listed = s.list(&t, &feed).await.unwrap();
    assert_eq!(listed.len(), 1, "a renewal is the same record");
    assert_eq!((listed[0].created_at, listed[0].renewed_at), (100, 200));
    assert_eq!(s.record_failure(&t, &feed, &first.id).await.unwrap(), Some(1));
    assert_eq!(s.record_failure(&t, &feed, &first.id).await.unwrap(), Some(2));
    s.reset_failures(&t, &feed, &first.id).await.unwrap();
    assert_eq!(s.list(&t, &feed).await.unwrap()[0].failures, 0);
    s.delete(&t, &feed, &first.id).await.unwrap();
    assert_eq!(s.record_failure(&t, &feed, &first.id).await.unwrap(), None);
    assert!(s.list(&t, &feed).await.unwrap().is_empty());

    // 200 concurrent registrations: every one stored.
    futures::future::join_all((0..200).map(|i| {
        let (store, t, feed) = (store.clone(), t.clone(), feed.clone());
        async move { store.subs().put(&t, &sub(&feed, i, 300)).await.unwrap() }
    }))
    .await;
    assert_eq!(s.list(&t, &feed).await.unwrap().len(), 200);
    assert!(s.list(&other, &feed).await.unwrap().is_empty(), "tenant isolation");
}

async fn inbox(store: &Arc<dyn StoreDyn>) {
    let t = tenant("a.example");
    let i = store.inbox();
    let url = "http://pub.example/feeds/0123456789abcdef0123456789abcdef";
    let follow = Follow { feed_url: url.into(), account: name("bob"), next_seq: 0, etag: None, created_at: 1, renewed_at: 1, callback_origin: Some("https://a.example".into()) };
    assert!(!i.follow_tenants().await.unwrap().contains(&t));
    i.put_follow(&t, &follow).await.unwrap();
    assert!(i.follow_tenants().await.unwrap().contains(&t), "the tenant is listed for renewals");
    assert_eq!(i.follows_of(&t, url).await.unwrap()[0].callback_origin.as_deref(), Some("https://a.example"));
    i.put_follow(&t, &Follow { account: name("carol"), ..follow.clone() }).await.unwrap();
    i.put_follow(&t, &Follow { feed_url: "http://other.example/f".into(), ..follow.clone() }).await.unwrap();
    assert_eq!(i.follows_of(&t, url).await.unwrap().len(), 2);
    assert_eq!(i.all_follows(&t).await.unwrap().len(), 3);
    i.advance_follow(&t, url, &name("bob"), 5, Some("\"e\"")).await.unwrap();
    i.advance_follow(&t, url, &name("bob"), 3, None).await.unwrap();
    let bob = i.follows_of(&t, url).await.unwrap().into_iter().find(|f| f.account == name("bob")).unwrap();
    assert_eq!((bob.next_seq, bob.etag.as_deref()), (5, Some("\"e\"")), "the cursor never moves back");
    for seq in [2u64, 0, 1, 10] {
        let item = InboxItem { account: name("bob"), feed_url: url.into(), seq, guid: ItemId::parse(&format!("g{seq}")).unwrap(), payload: format!("p{seq}"), received_at: 9 };
        assert!(i.add_item(&t, &item).await.unwrap());
        assert!(!i.add_item(&t, &item).await.unwrap(), "recorded once");
    }
    let seqs = |v: Vec<InboxItem>| v.into_iter().map(|x| x.seq).collect::<Vec<_>>();
    assert_eq!(seqs(i.list_items(&t, &name("bob"), url, None, 100).await.unwrap()), [0, 1, 2, 10]);
    assert_eq!(seqs(i.list_items(&t, &name("bob"), url, Some(1), 2).await.unwrap()), [2, 10]);
    assert!(i.list_items(&t, &name("carol"), url, None, 100).await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn embedded_store_keeps_the_contract() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(cloudim_store_local::LocalStore::open(dir.path()).await.unwrap());
    contract(store).await;
    // And it survives a restart.
    let reopened = cloudim_store_local::LocalStore::open(dir.path()).await.unwrap();
    assert!(AccountStore::get_account(&reopened, &tenant("a.example"), &name("alice")).await.unwrap().is_some());
}

#[tokio::test(flavor = "multi_thread")]
async fn aws_store_on_moto_keeps_the_contract() {
    let Some(endpoint) = moto_endpoint() else { return };
    let sdk = emulator_sdk(&endpoint).await;
    let suffix: u32 = rand::random();
    let names = cloudim_store_aws::AwsNames { bucket: format!("cloudim-test-{suffix}"), table: format!("cloudim-test-{suffix}") };
    let store = cloudim_store_aws::AwsStore::new(&sdk, names);
    store.ensure_resources().await.unwrap();
    store.ensure_resources().await.unwrap(); // idempotent
    contract(Arc::new(store)).await;
}
