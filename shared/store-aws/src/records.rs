//! The DynamoDB items, typed: every attribute name lives here. Each record
//! carries its key (`pk`, `sk`) and, where it expires, `expires_at` (the
//! table's TTL attribute; expiry is also checked on read, since DynamoDB
//! deletes expired items only eventually and emulators never do).

use cloudim_domain::{Account, FeedRecord, Follow, InboxItem, StoreError, SubscriberId, Subscription, TokenHash, TokenRecord};
use cloudim_protocol::{AccountName, FeedId, ItemId, NotifyProtocol};
use serde::{Deserialize, Serialize};

use crate::keys::Key;

fn corrupt(what: &str) -> StoreError {
    StoreError::Backend(format!("dynamodb: corrupt {what} item"))
}

fn name(s: &str) -> Result<AccountName, StoreError> {
    AccountName::parse(s).map_err(|_| corrupt("account name"))
}

#[derive(Serialize, Deserialize)]
pub(crate) struct AccountItem {
    pk: String,
    sk: String,
    name: String,
    created_at: u64,
}

impl AccountItem {
    pub fn new(k: Key, a: &Account) -> Self {
        Self { pk: k.pk, sk: k.sk, name: a.name.to_string(), created_at: a.created_at }
    }
    pub fn into_domain(self) -> Result<Account, StoreError> {
        Ok(Account { name: name(&self.name)?, created_at: self.created_at })
    }
}

#[derive(Serialize, Deserialize)]
pub(crate) struct TokenItem {
    pk: String,
    sk: String,
    hash: String,
    account: String,
    created_at: u64,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    expires_at: Option<u64>,
}

impl TokenItem {
    pub fn new(k: Key, t: &TokenRecord) -> Self {
        Self { pk: k.pk, sk: k.sk, hash: t.hash.as_str().to_owned(), account: t.account.to_string(), created_at: t.created_at, expires_at: t.expires_at }
    }
    pub fn into_domain(self) -> Result<TokenRecord, StoreError> {
        Ok(TokenRecord { hash: TokenHash::from_stored(self.hash), account: name(&self.account)?, created_at: self.created_at, expires_at: self.expires_at })
    }
}

#[derive(Serialize, Deserialize)]
pub(crate) struct FeedItem {
    pk: String,
    sk: String,
    id: String,
    owner: String,
    title: String,
    created_at: u64,
}

impl FeedItem {
    pub fn new(k: Key, f: &FeedRecord) -> Self {
        Self { pk: k.pk, sk: k.sk, id: f.id.to_string(), owner: f.owner.to_string(), title: f.title.clone(), created_at: f.created_at }
    }
    pub fn into_domain(self) -> Result<FeedRecord, StoreError> {
        Ok(FeedRecord { id: FeedId::parse(&self.id).map_err(|_| corrupt("feed"))?, owner: name(&self.owner)?, title: self.title, created_at: self.created_at })
    }
}

/// The attribute holding a subscription's consecutive failures.
pub(crate) const FAILURES: &str = "failures";
/// The attribute holding a subscription's first registration time.
pub(crate) const CREATED_AT: &str = "created_at";
/// The attribute holding a follow's cursor.
pub(crate) const NEXT_SEQ: &str = "next_seq";
/// The attribute holding a follow's last ETag.
pub(crate) const ETAG: &str = "etag";

#[derive(Serialize, Deserialize)]
pub(crate) struct SubscriptionItem {
    pub pk: String,
    pub sk: String,
    feed: String,
    id: String,
    resource: String,
    protocol: String,
    callback: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    procedure: Option<String>,
    created_at: u64,
    renewed_at: u64,
    expires_at: u64,
    failures: u32,
}

impl SubscriptionItem {
    pub fn new(k: Key, s: &Subscription) -> Self {
        Self {
            pk: k.pk,
            sk: k.sk,
            feed: s.feed.to_string(),
            id: s.id.as_str().to_owned(),
            resource: s.resource.clone(),
            protocol: s.protocol.as_str().to_owned(),
            callback: s.callback.clone(),
            procedure: s.procedure.clone(),
            created_at: s.created_at,
            renewed_at: s.renewed_at,
            expires_at: s.expires_at,
            failures: s.failures,
        }
    }
    pub fn into_domain(self) -> Result<Subscription, StoreError> {
        Ok(Subscription {
            feed: FeedId::parse(&self.feed).map_err(|_| corrupt("subscription"))?,
            id: SubscriberId::from_stored(self.id),
            resource: self.resource,
            protocol: NotifyProtocol::parse(&self.protocol).map_err(|_| corrupt("subscription"))?,
            callback: self.callback,
            procedure: self.procedure,
            created_at: self.created_at,
            renewed_at: self.renewed_at,
            expires_at: self.expires_at,
            failures: self.failures,
        })
    }
}

#[derive(Serialize, Deserialize)]
pub(crate) struct FollowItem {
    pk: String,
    sk: String,
    feed_url: String,
    account: String,
    next_seq: u64,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    etag: Option<String>,
    created_at: u64,
    renewed_at: u64,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    callback_origin: Option<String>,
}

impl FollowItem {
    pub fn new(k: Key, f: &Follow) -> Self {
        Self {
            pk: k.pk,
            sk: k.sk,
            feed_url: f.feed_url.clone(),
            account: f.account.to_string(),
            next_seq: f.next_seq,
            etag: f.etag.clone(),
            created_at: f.created_at,
            renewed_at: f.renewed_at,
            callback_origin: f.callback_origin.clone(),
        }
    }
    pub fn into_domain(self) -> Result<Follow, StoreError> {
        Ok(Follow {
            feed_url: self.feed_url,
            account: name(&self.account)?,
            next_seq: self.next_seq,
            etag: self.etag,
            created_at: self.created_at,
            renewed_at: self.renewed_at,
            callback_origin: self.callback_origin,
        })
    }
}

/// Marks a tenant as having follows (one item per tenant, written with
/// every follow), so scheduled renewals find tenants without a scan.
#[derive(Serialize, Deserialize)]
pub(crate) struct TenantMark {
    pub pk: String,
    pub sk: String,
}

#[derive(Serialize, Deserialize)]
pub(crate) struct InboxEntry {
    pk: String,
    sk: String,
    account: String,
    feed_url: String,
    seq: u64,
    guid: String,
    payload: String,
    received_at: u64,
}

impl InboxEntry {
    pub fn new(pk: String, sk: String, i: &InboxItem) -> Self {
        Self { pk, sk, account: i.account.to_string(), feed_url: i.feed_url.clone(), seq: i.seq, guid: i.guid.to_string(), payload: i.payload.clone(), received_at: i.received_at }
    }
    pub fn into_domain(self) -> Result<InboxItem, StoreError> {
        Ok(InboxItem {
            account: name(&self.account)?,
            feed_url: self.feed_url,
            seq: self.seq,
            guid: ItemId::parse(&self.guid).map_err(|_| corrupt("inbox item"))?,
            payload: self.payload,
            received_at: self.received_at,
        })
    }
}

/// A handshake record (key, invitation, conversation, token, block,
/// discovery entry) stored as the domain record's JSON in `data`, with
/// `expires_at` as the TTL attribute where it expires.
#[derive(Serialize, Deserialize)]
pub(crate) struct JsonItem {
    pk: String,
    sk: String,
    data: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    expires_at: Option<u64>,
}

impl JsonItem {
    pub fn new<T: Serialize>(k: Key, record: &T, expires_at: Option<u64>) -> Result<Self, StoreError> {
        let data = serde_json::to_string(record).map_err(|e| StoreError::Backend(format!("encode record: {e}")))?;
        Ok(Self { pk: k.pk, sk: k.sk, data, expires_at })
    }
    pub fn into_domain<T: serde::de::DeserializeOwned>(self) -> Result<T, StoreError> {
        serde_json::from_str(&self.data).map_err(|_| corrupt("record"))
    }
}

/// The attribute holding a rate-limit counter.
pub(crate) const COUNT: &str = "count";
