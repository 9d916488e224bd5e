//! The domain's records: what the use cases store and read back through the
//! ports. Adapters convert these to their own storage records.

use cloudim_protocol::{AccountName, FeedId, ItemId, NotifyProtocol};
use sha2::{Digest, Sha256};

use crate::TokenHash;

/// An account of a tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    /// The account's name, unique within its tenant.
    pub name: AccountName,
    /// When it was created (Unix seconds).
    pub created_at: u64,
}

/// A stored bearer token: only its hash and whom it authenticates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRecord {
    /// SHA-256 of the token.
    pub hash: TokenHash,
    /// The account it authenticates.
    pub account: AccountName,
    /// When it was issued.
    pub created_at: u64,
    /// When it stops working, if ever.
    pub expires_at: Option<u64>,
}

/// A feed and its owner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedRecord {
    /// The feed's id.
    pub id: FeedId,
    /// The account allowed to publish to it.
    pub owner: AccountName,
    /// The channel title.
    pub title: String,
    /// When it was created.
    pub created_at: u64,
}

/// The stable id of one subscriber of one feed: a hash of how and where it
/// is notified, so a renewal overwrites the same record.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SubscriberId(String);

impl SubscriberId {
    /// Derives the id from protocol, callback URL and procedure.
    pub fn derive(protocol: NotifyProtocol, callback: &str, procedure: Option<&str>) -> Self {
        let mut h = Sha256::new();
        for part in [protocol.as_str(), callback, procedure.unwrap_or("")] {
            h.update(part.as_bytes());
            h.update([0u8]);
        }
        Self(hex::encode(&h.finalize()[..16]))
    }

    /// Wraps a stored id.
    pub fn from_stored(s: String) -> Self {
        Self(s)
    }

    /// The id as text (32 hex characters).
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// One rssCloud subscription: one subscriber of one feed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscription {
    /// The feed watched.
    pub feed: FeedId,
    /// The subscriber.
    pub id: SubscriberId,
    /// The resource URL exactly as the subscriber registered it; notifications carry it.
    pub resource: String,
    /// How to notify.
    pub protocol: NotifyProtocol,
    /// Where to notify.
    pub callback: String,
    /// The XML-RPC procedure, for xml-rpc subscribers.
    pub procedure: Option<String>,
    /// When it was first registered.
    pub created_at: u64,
    /// When it was last registered or renewed.
    pub renewed_at: u64,
    /// When it expires unless renewed.
    pub expires_at: u64,
    /// Consecutive failed fan-outs.
    pub failures: u32,
}

/// Where one notification goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotifyTarget {
    /// How to notify.
    pub protocol: NotifyProtocol,
    /// The callback URL.
    pub callback: String,
    /// The XML-RPC procedure, for xml-rpc.
    pub procedure: Option<String>,
}

impl Subscription {
    /// Where this subscription's notifications go.
    pub fn target(&self) -> NotifyTarget {
        NotifyTarget { protocol: self.protocol, callback: self.callback.clone(), procedure: self.procedure.clone() }
    }
}

/// A key for a remote feed URL, safe for any storage key (SHA-256 prefix).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FeedUrlKey(String);

impl FeedUrlKey {
    /// Derives the key of a feed URL.
    pub fn of(url: &str) -> Self {
        Self(hex::encode(&Sha256::digest(url.as_bytes())[..16]))
    }

    /// The key as text (32 hex characters).
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A local account's subscription to a feed elsewhere (the subscriber side).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Follow {
    /// The followed feed's URL.
    pub feed_url: String,
    /// The local account that follows it.
    pub account: AccountName,
    /// The sequence number of the next item not yet recorded.
    pub next_seq: u64,
    /// The ETag of the head last fetched, for conditional GETs.
    pub etag: Option<String>,
    /// When the follow was created.
    pub created_at: u64,
    /// When we last registered with the feed's cloud.
    pub renewed_at: u64,
}

/// An item of a followed feed, recorded for a local account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboxItem {
    /// The account it is recorded for.
    pub account: AccountName,
    /// The feed it came from.
    pub feed_url: String,
    /// Its sequence number in that feed.
    pub seq: u64,
    /// Its GUID.
    pub guid: ItemId,
    /// Its opaque payload.
    pub payload: String,
    /// When we recorded it.
    pub received_at: u64,
}
