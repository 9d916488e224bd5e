//! In-memory implementations of every port, for tests of the use cases and
//! of the HTTP edge. They keep the same contracts as the real adapters.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use async_trait::async_trait;
use bytes::Bytes;
use cloudim_protocol::{AccountName, FeedId, Identity, InvitationId, Tenant};
use sha2::{Digest, Sha256};

use crate::model::*;
use crate::*;

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// The ETag of a body: its SHA-256, quoted.
pub fn etag_of(body: &[u8]) -> String {
    format!("\"{}\"", hex::encode(&Sha256::digest(body)[..16]))
}

/// Feed documents in memory.
#[derive(Default)]
pub struct MemoryFeedStore {
    docs: Mutex<HashMap<(Tenant, DocKey), StoredDoc>>,
}

#[async_trait]
impl FeedStore for MemoryFeedStore {
    async fn get(&self, tenant: &Tenant, key: &DocKey) -> Result<Option<StoredDoc>, StoreError> {
        Ok(lock(&self.docs).get(&(tenant.clone(), key.clone())).cloned())
    }

    async fn put(&self, tenant: &Tenant, key: &DocKey, body: Bytes, cond: PutCondition) -> Result<String, StoreError> {
        let mut docs = lock(&self.docs);
        let k = (tenant.clone(), key.clone());
        let current = docs.get(&k).map(|d| d.etag.clone());
        let ok = match (&cond, &current) {
            (PutCondition::Always, _) | (PutCondition::IfAbsent, None) => true,
            (PutCondition::IfMatch(want), Some(have)) => want == have,
            _ => false,
        };
        if !ok {
            return Err(StoreError::PreconditionFailed);
        }
        let etag = etag_of(&body);
        docs.insert(k, StoredDoc { body, etag: etag.clone() });
        Ok(etag)
    }
}

/// Accounts, tokens, feeds, subscriptions, follows and inbox in memory.
#[derive(Default)]
pub struct MemoryRecords {
    accounts: Mutex<HashMap<(Tenant, AccountName), Account>>,
    tokens: Mutex<HashMap<(Tenant, String), TokenRecord>>,
    feeds: Mutex<HashMap<(Tenant, FeedId), FeedRecord>>,
    subs: Mutex<BTreeMap<(Tenant, FeedId, SubscriberId), Subscription>>,
    follows: Mutex<BTreeMap<(Tenant, String, AccountName), Follow>>,
    items: Mutex<BTreeMap<(Tenant, AccountName, String, u64), InboxItem>>,
    keys: Mutex<HashMap<(Tenant, AccountName), AccountKey>>,
    invitations: Mutex<BTreeMap<(Tenant, AccountName, InvitationId), Invitation>>,
    conversations: Mutex<BTreeMap<(Tenant, AccountName, Identity), Conversation>>,
    handshake_tokens: Mutex<HashMap<(Tenant, String), HandshakeToken>>,
    blocks: Mutex<HashMap<(Tenant, AccountName, Identity), u64>>,
    counters: Mutex<HashMap<(Tenant, String, u64), u64>>,
    discovered: Mutex<HashMap<(Tenant, Identity), Discovered>>,
    tenants: Mutex<BTreeMap<Tenant, TenantRecord>>,
    usage: Mutex<HashMap<Tenant, Usage>>,
}

#[async_trait]
impl TenantStore for MemoryRecords {
    async fn put_tenant(&self, record: &TenantRecord) -> Result<(), StoreError> {
        lock(&self.tenants).insert(record.tenant.clone(), record.clone());
        Ok(())
    }
    async fn get_tenant(&self, t: &Tenant) -> Result<Option<TenantRecord>, StoreError> {
        Ok(lock(&self.tenants).get(t).cloned())
    }
    async fn list_tenants(&self) -> Result<Vec<TenantRecord>, StoreError> {
        Ok(lock(&self.tenants).values().cloned().collect())
    }
    async fn add_usage(&self, t: &Tenant, meter: Meter, delta: i64, max: Option<u64>) -> Result<u64, StoreError> {
        let mut m = lock(&self.usage);
        let v = m.entry(t.clone()).or_default().meter_mut(meter);
        *v = crate::tenants::apply_usage(*v, delta, max).ok_or(StoreError::PreconditionFailed)?;
        Ok(*v)
    }
    async fn usage(&self, t: &Tenant) -> Result<Usage, StoreError> {
        Ok(lock(&self.usage).get(t).copied().unwrap_or_default())
    }
}

#[async_trait]
impl HandshakeStore for MemoryRecords {
    async fn put_key(&self, t: &Tenant, key: &AccountKey) -> Result<(), StoreError> {
        lock(&self.keys).insert((t.clone(), key.account.clone()), key.clone());
        Ok(())
    }
    async fn get_key(&self, t: &Tenant, account: &AccountName) -> Result<Option<AccountKey>, StoreError> {
        Ok(lock(&self.keys).get(&(t.clone(), account.clone())).cloned())
    }
    async fn put_invitation(&self, t: &Tenant, inv: &Invitation) -> Result<(), StoreError> {
        lock(&self.invitations).insert((t.clone(), inv.account.clone(), inv.id.clone()), inv.clone());
        Ok(())
    }
    async fn get_invitation(&self, t: &Tenant, account: &AccountName, id: &InvitationId) -> Result<Option<Invitation>, StoreError> {
        Ok(lock(&self.invitations).get(&(t.clone(), account.clone(), id.clone())).cloned())
    }
    async fn list_invitations(&self, t: &Tenant, account: &AccountName) -> Result<Vec<Invitation>, StoreError> {
        Ok(lock(&self.invitations).iter().filter(|((tt, a, _), _)| tt == t && a == account).map(|(_, i)| i.clone()).collect())
    }
    async fn put_conversation(&self, t: &Tenant, c: &Conversation) -> Result<(), StoreError> {
        lock(&self.conversations).insert((t.clone(), c.account.clone(), c.peer.clone()), c.clone());
        Ok(())
    }
    async fn list_conversations(&self, t: &Tenant, account: &AccountName) -> Result<Vec<Conversation>, StoreError> {
        Ok(lock(&self.conversations).iter().filter(|((tt, a, _), _)| tt == t && a == account).map(|(_, c)| c.clone()).collect())
    }
    async fn put_handshake_token(&self, t: &Tenant, token: &HandshakeToken) -> Result<(), StoreError> {
        lock(&self.handshake_tokens).insert((t.clone(), token.hash.as_str().to_owned()), token.clone());
        Ok(())
    }
    async fn take_handshake_token(&self, t: &Tenant, hash: &TokenHash) -> Result<Option<HandshakeToken>, StoreError> {
        Ok(lock(&self.handshake_tokens).remove(&(t.clone(), hash.as_str().to_owned())))
    }
    async fn get_handshake_token(&self, t: &Tenant, hash: &TokenHash) -> Result<Option<HandshakeToken>, StoreError> {
        Ok(lock(&self.handshake_tokens).get(&(t.clone(), hash.as_str().to_owned())).cloned())
    }
    async fn put_block(&self, t: &Tenant, account: &AccountName, peer: &Identity, at: u64) -> Result<(), StoreError> {
        lock(&self.blocks).insert((t.clone(), account.clone(), peer.clone()), at);
        Ok(())
    }
    async fn is_blocked(&self, t: &Tenant, account: &AccountName, peer: &Identity) -> Result<bool, StoreError> {
        Ok(lock(&self.blocks).contains_key(&(t.clone(), account.clone(), peer.clone())))
    }
    async fn count(&self, t: &Tenant, key: &str, window: u64, _expires_at: u64) -> Result<u64, StoreError> {
        let mut m = lock(&self.counters);
        let n = m.entry((t.clone(), key.to_owned(), window)).or_insert(0);
        *n += 1;
        Ok(*n)
    }
}

#[async_trait]
impl DiscoveryCache for MemoryRecords {
    async fn get_discovered(&self, t: &Tenant, identity: &Identity) -> Result<Option<Discovered>, StoreError> {
        Ok(lock(&self.discovered).get(&(t.clone(), identity.clone())).cloned())
    }
    async fn put_discovered(&self, t: &Tenant, entry: &Discovered) -> Result<(), StoreError> {
        lock(&self.discovered).insert((t.clone(), entry.identity.clone()), entry.clone());
        Ok(())
    }
}

#[async_trait]
impl AccountStore for MemoryRecords {
    async fn create_account(&self, tenant: &Tenant, account: &Account) -> Result<(), StoreError> {
        let mut m = lock(&self.accounts);
        let k = (tenant.clone(), account.name.clone());
        if m.contains_key(&k) {
            return Err(StoreError::PreconditionFailed);
        }
        m.insert(k, account.clone());
        Ok(())
    }
    async fn get_account(&self, tenant: &Tenant, name: &AccountName) -> Result<Option<Account>, StoreError> {
        Ok(lock(&self.accounts).get(&(tenant.clone(), name.clone())).cloned())
    }
    async fn put_token(&self, tenant: &Tenant, token: &TokenRecord) -> Result<(), StoreError> {
        lock(&self.tokens).insert((tenant.clone(), token.hash.as_str().to_owned()), token.clone());
        Ok(())
    }
    async fn get_token(&self, tenant: &Tenant, hash: &TokenHash) -> Result<Option<TokenRecord>, StoreError> {
        Ok(lock(&self.tokens).get(&(tenant.clone(), hash.as_str().to_owned())).cloned())
    }
    async fn delete_token(&self, tenant: &Tenant, hash: &TokenHash) -> Result<(), StoreError> {
        lock(&self.tokens).remove(&(tenant.clone(), hash.as_str().to_owned()));
        Ok(())
    }
    async fn create_feed(&self, tenant: &Tenant, feed: &FeedRecord) -> Result<(), StoreError> {
        let mut m = lock(&self.feeds);
        let k = (tenant.clone(), feed.id.clone());
        if m.contains_key(&k) {
            return Err(StoreError::PreconditionFailed);
        }
        m.insert(k, feed.clone());
        Ok(())
    }
    async fn get_feed(&self, tenant: &Tenant, id: &FeedId) -> Result<Option<FeedRecord>, StoreError> {
        Ok(lock(&self.feeds).get(&(tenant.clone(), id.clone())).cloned())
    }
}

#[async_trait]
impl SubscriptionStore for MemoryRecords {
    async fn put(&self, tenant: &Tenant, sub: &Subscription) -> Result<(), StoreError> {
        let mut m = lock(&self.subs);
        let k = (tenant.clone(), sub.feed.clone(), sub.id.clone());
        let created_at = m.get(&k).map_or(sub.created_at, |s| s.created_at);
        m.insert(k, Subscription { created_at, ..sub.clone() });
        Ok(())
    }
    async fn list(&self, tenant: &Tenant, feed: &FeedId) -> Result<Vec<Subscription>, StoreError> {
        Ok(lock(&self.subs).iter().filter(|((t, f, _), _)| t == tenant && f == feed).map(|(_, s)| s.clone()).collect())
    }
    async fn record_failure(&self, tenant: &Tenant, feed: &FeedId, id: &SubscriberId) -> Result<Option<u32>, StoreError> {
        Ok(lock(&self.subs).get_mut(&(tenant.clone(), feed.clone(), id.clone())).map(|s| {
            s.failures += 1;
            s.failures
        }))
    }
    async fn reset_failures(&self, tenant: &Tenant, feed: &FeedId, id: &SubscriberId) -> Result<(), StoreError> {
        if let Some(s) = lock(&self.subs).get_mut(&(tenant.clone(), feed.clone(), id.clone())) {
            s.failures = 0;
        }
        Ok(())
    }
    async fn delete(&self, tenant: &Tenant, feed: &FeedId, id: &SubscriberId) -> Result<(), StoreError> {
        lock(&self.subs).remove(&(tenant.clone(), feed.clone(), id.clone()));
        Ok(())
    }
}

#[async_trait]
impl InboxStore for MemoryRecords {
    async fn put_follow(&self, tenant: &Tenant, follow: &Follow) -> Result<(), StoreError> {
        lock(&self.follows).insert((tenant.clone(), follow.feed_url.clone(), follow.account.clone()), follow.clone());
        Ok(())
    }
    async fn follow_tenants(&self) -> Result<Vec<Tenant>, StoreError> {
        let mut out: Vec<Tenant> = lock(&self.follows).keys().map(|(t, _, _)| t.clone()).collect();
        out.sort_by(|a, b| a.as_str().cmp(b.as_str()));
        out.dedup();
        Ok(out)
    }
    async fn follows_of(&self, tenant: &Tenant, feed_url: &str) -> Result<Vec<Follow>, StoreError> {
        Ok(lock(&self.follows).iter().filter(|((t, u, _), _)| t == tenant && u == feed_url).map(|(_, f)| f.clone()).collect())
    }
    async fn all_follows(&self, tenant: &Tenant) -> Result<Vec<Follow>, StoreError> {
        Ok(lock(&self.follows).iter().filter(|((t, _, _), _)| t == tenant).map(|(_, f)| f.clone()).collect())
    }
    async fn advance_follow(&self, tenant: &Tenant, feed_url: &str, account: &AccountName, next_seq: u64, etag: Option<&str>) -> Result<(), StoreError> {
        if let Some(f) = lock(&self.follows).get_mut(&(tenant.clone(), feed_url.to_owned(), account.clone()))
            && next_seq >= f.next_seq {
                f.next_seq = next_seq;
                f.etag = etag.map(str::to_owned);
            }
        Ok(())
    }
    async fn add_item(&self, tenant: &Tenant, item: &InboxItem) -> Result<bool, StoreError> {
        let mut m = lock(&self.items);
        let k = (tenant.clone(), item.account.clone(), item.feed_url.clone(), item.seq);
        if m.contains_key(&k) {
            return Ok(false);
        }
        m.insert(k, item.clone());
        Ok(true)
    }
    async fn list_items(&self, tenant: &Tenant, account: &AccountName, feed_url: &str, after: Option<u64>, limit: usize) -> Result<Vec<InboxItem>, StoreError> {
        Ok(lock(&self.items)
            .iter()
            .filter(|((t, a, u, s), _)| t == tenant && a == account && u == feed_url && after.is_none_or(|x| *s > x))
            .take(limit)
            .map(|(_, i)| i.clone())
            .collect())
    }
}

/// A clock that moves only when told.
#[derive(Default)]
pub struct ManualClock(AtomicU64);

impl ManualClock {
    /// A clock at `t`.
    pub fn at(t: u64) -> Self {
        Self(AtomicU64::new(t))
    }
    /// Moves the clock forward.
    pub fn advance(&self, secs: u64) {
        self.0.fetch_add(secs, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> u64 {
        self.0.load(Ordering::SeqCst)
    }
}

/// A page `fetch_page` serves: (content type, Link headers, body).
pub type FakePage = (String, Vec<String>, String);

/// Outbound HTTP that records calls and fails for callbacks it is told to.
#[derive(Default)]
pub struct RecordingOutbound {
    /// Every notification sent: (callback, resource).
    pub notified: Mutex<Vec<(String, String)>>,
    /// Every challenge sent: (callback, resource).
    pub challenged: Mutex<Vec<(String, String)>>,
    /// Callbacks that fail.
    pub failing: Mutex<Vec<String>>,
    /// Documents served by `fetch`, by URL.
    pub documents: Mutex<HashMap<String, Bytes>>,
    /// Every pleaseNotify sent: (endpoint, form).
    pub registrations: Mutex<Vec<(String, String)>>,
    /// Pages served by `fetch_page`, by URL: (content type, Link headers, body).
    pub pages: Mutex<HashMap<String, FakePage>>,
    /// Every page fetched, in order.
    pub page_fetches: Mutex<Vec<String>>,
    /// Every PM message posted: (endpoint, JSON).
    pub pm_posts: Mutex<Vec<(String, String)>>,
    /// The answer to every PM post: (status, body); 200 `{}` by default.
    pub pm_reply: Mutex<Option<(u16, String)>>,
}

#[async_trait]
impl Federation for RecordingOutbound {
    async fn fetch_page(&self, url: &str) -> Result<FetchedPage, OutboundError> {
        lock(&self.page_fetches).push(url.to_owned());
        let (ctype, links, body) = lock(&self.pages).get(url).cloned().ok_or_else(|| OutboundError::Rejected(format!("{url} answered 404")))?;
        Ok(FetchedPage { final_url: url.to_owned(), link_headers: links, content_type: Some(ctype), body: Bytes::from(body) })
    }
    async fn post_pm(&self, endpoint: &str, json: &str) -> Result<PmReply, OutboundError> {
        lock(&self.pm_posts).push((endpoint.to_owned(), json.to_owned()));
        let (status, body) = lock(&self.pm_reply).clone().unwrap_or((200, "{}".to_owned()));
        Ok(PmReply { status, body: Bytes::from(body) })
    }
    async fn vet(&self, url: &str) -> Result<(), OutboundError> {
        if url.contains("169.254.") || url.contains("127.0.0.") {
            return Err(OutboundError::Refused(url.to_owned()));
        }
        Ok(())
    }
}

#[async_trait]
impl Outbound for RecordingOutbound {
    async fn notify(&self, target: &NotifyTarget, resource: &str) -> Result<(), OutboundError> {
        if lock(&self.failing).contains(&target.callback) {
            return Err(OutboundError::Unreachable(target.callback.clone()));
        }
        lock(&self.notified).push((target.callback.clone(), resource.to_owned()));
        Ok(())
    }
    async fn challenge(&self, callback: &str, resource: &str, _challenge: &str) -> Result<(), OutboundError> {
        if lock(&self.failing).iter().any(|f| f == callback) {
            return Err(OutboundError::Rejected("the challenge was not echoed".into()));
        }
        lock(&self.challenged).push((callback.to_owned(), resource.to_owned()));
        Ok(())
    }
    async fn fetch(&self, url: &str, etag: Option<&str>) -> Result<Fetched, OutboundError> {
        let body = lock(&self.documents).get(url).cloned().ok_or_else(|| OutboundError::Rejected(format!("{url} answered 404")))?;
        let tag = etag_of(&body);
        if etag == Some(tag.as_str()) {
            return Ok(Fetched::NotModified);
        }
        Ok(Fetched::Body { body, etag: Some(tag) })
    }
    async fn please_notify(&self, endpoint: &str, form: &str) -> Result<(), OutboundError> {
        lock(&self.registrations).push((endpoint.to_owned(), form.to_owned()));
        Ok(())
    }
}

/// A dispatcher that only counts what it was asked to do.
#[derive(Default)]
pub struct CountingDispatcher(pub Mutex<Vec<(Tenant, FeedId)>>);

#[async_trait]
impl Dispatcher for CountingDispatcher {
    async fn feed_changed(&self, tenant: &Tenant, feed: &FeedId) -> Result<(), StoreError> {
        lock(&self.0).push((tenant.clone(), feed.clone()));
        Ok(())
    }
}
