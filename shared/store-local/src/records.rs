//! The JSON records of the embedded store, and their conversions to and
//! from domain records. A record that no longer parses is reported as a
//! backend error, never silently skipped.

use cloudim_domain::{Account, FeedRecord, Follow, InboxItem, StoreError, SubscriberId, Subscription, TokenHash, TokenRecord};
use cloudim_protocol::{AccountName, FeedId, ItemId, NotifyProtocol};
use serde::{Deserialize, Serialize};

fn corrupt(what: &str) -> StoreError {
    StoreError::Backend(format!("local store: corrupt {what} record"))
}

fn name(s: &str) -> Result<AccountName, StoreError> {
    AccountName::parse(s).map_err(|_| corrupt("account name"))
}

#[derive(Serialize, Deserialize)]
pub(crate) struct AccountRec {
    name: String,
    created_at: u64,
}

impl From<&Account> for AccountRec {
    fn from(a: &Account) -> Self {
        Self { name: a.name.to_string(), created_at: a.created_at }
    }
}

impl TryFrom<AccountRec> for Account {
    type Error = StoreError;
    fn try_from(r: AccountRec) -> Result<Self, StoreError> {
        Ok(Self { name: name(&r.name)?, created_at: r.created_at })
    }
}

#[derive(Serialize, Deserialize)]
pub(crate) struct TokenRec {
    hash: String,
    account: String,
    created_at: u64,
    expires_at: Option<u64>,
}

impl From<&TokenRecord> for TokenRec {
    fn from(t: &TokenRecord) -> Self {
        Self { hash: t.hash.as_str().to_owned(), account: t.account.to_string(), created_at: t.created_at, expires_at: t.expires_at }
    }
}

impl TryFrom<TokenRec> for TokenRecord {
    type Error = StoreError;
    fn try_from(r: TokenRec) -> Result<Self, StoreError> {
        Ok(Self { hash: TokenHash::from_stored(r.hash), account: name(&r.account)?, created_at: r.created_at, expires_at: r.expires_at })
    }
}

#[derive(Serialize, Deserialize)]
pub(crate) struct FeedRec {
    id: String,
    owner: String,
    title: String,
    created_at: u64,
}

impl From<&FeedRecord> for FeedRec {
    fn from(f: &FeedRecord) -> Self {
        Self { id: f.id.to_string(), owner: f.owner.to_string(), title: f.title.clone(), created_at: f.created_at }
    }
}

impl TryFrom<FeedRec> for FeedRecord {
    type Error = StoreError;
    fn try_from(r: FeedRec) -> Result<Self, StoreError> {
        Ok(Self { id: FeedId::parse(&r.id).map_err(|_| corrupt("feed"))?, owner: name(&r.owner)?, title: r.title, created_at: r.created_at })
    }
}

#[derive(Serialize, Deserialize)]
pub(crate) struct SubRec {
    feed: String,
    id: String,
    resource: String,
    protocol: String,
    callback: String,
    procedure: Option<String>,
    created_at: u64,
    renewed_at: u64,
    expires_at: u64,
    pub(crate) failures: u32,
}

impl From<&Subscription> for SubRec {
    fn from(s: &Subscription) -> Self {
        Self {
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
}

impl TryFrom<SubRec> for Subscription {
    type Error = StoreError;
    fn try_from(r: SubRec) -> Result<Self, StoreError> {
        Ok(Self {
            feed: FeedId::parse(&r.feed).map_err(|_| corrupt("subscription"))?,
            id: SubscriberId::from_stored(r.id),
            resource: r.resource,
            protocol: NotifyProtocol::parse(&r.protocol).map_err(|_| corrupt("subscription"))?,
            callback: r.callback,
            procedure: r.procedure,
            created_at: r.created_at,
            renewed_at: r.renewed_at,
            expires_at: r.expires_at,
            failures: r.failures,
        })
    }
}

#[derive(Serialize, Deserialize)]
pub(crate) struct FollowRec {
    feed_url: String,
    account: String,
    pub(crate) next_seq: u64,
    pub(crate) etag: Option<String>,
    created_at: u64,
    renewed_at: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    callback_origin: Option<String>,
}

impl From<&Follow> for FollowRec {
    fn from(f: &Follow) -> Self {
        Self {
            feed_url: f.feed_url.clone(),
            account: f.account.to_string(),
            next_seq: f.next_seq,
            etag: f.etag.clone(),
            created_at: f.created_at,
            renewed_at: f.renewed_at,
            callback_origin: f.callback_origin.clone(),
        }
    }
}

impl TryFrom<FollowRec> for Follow {
    type Error = StoreError;
    fn try_from(r: FollowRec) -> Result<Self, StoreError> {
        Ok(Self { feed_url: r.feed_url, account: name(&r.account)?, next_seq: r.next_seq, etag: r.etag, created_at: r.created_at, renewed_at: r.renewed_at, callback_origin: r.callback_origin })
    }
}

#[derive(Serialize, Deserialize)]
pub(crate) struct ItemRec {
    account: String,
    feed_url: String,
    seq: u64,
    guid: String,
    payload: String,
    received_at: u64,
}

impl From<&InboxItem> for ItemRec {
    fn from(i: &InboxItem) -> Self {
        Self { account: i.account.to_string(), feed_url: i.feed_url.clone(), seq: i.seq, guid: i.guid.to_string(), payload: i.payload.clone(), received_at: i.received_at }
    }
}

impl TryFrom<ItemRec> for InboxItem {
    type Error = StoreError;
    fn try_from(r: ItemRec) -> Result<Self, StoreError> {
        Ok(Self {
            account: name(&r.account)?,
            feed_url: r.feed_url,
            seq: r.seq,
            guid: ItemId::parse(&r.guid).map_err(|_| corrupt("inbox item"))?,
            payload: r.payload,
            received_at: r.received_at,
        })
    }
}
