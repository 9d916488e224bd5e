//! The ports: what the use cases need from storage, the network and the
//! runtime. Few, object-safe, held as `Arc<dyn …>`.

use async_trait::async_trait;
use bytes::Bytes;
use cloudim_protocol::{AccountName, FeedId, Identity, InvitationId, ItemId, Tenant};

use crate::model::*;
use crate::tenants::{Meter, TenantRecord, Usage};
use crate::{StoreError, TokenHash};

/// Which document of a feed.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum DocKey {
    /// The head (subscription) document.
    Head(FeedId),
    /// An immutable archive page.
    Archive(FeedId, u64),
    /// The idempotency marker of an item id (holds its sequence number).
    ItemMarker(FeedId, ItemId),
}

/// The condition of a conditional write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PutCondition {
    /// Write whatever is there.
    Always,
    /// Write only if nothing is stored yet.
    IfAbsent,
    /// Write only if the stored ETag is this one.
    IfMatch(String),
}

/// A stored document and its entity tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredDoc {
    /// The bytes as stored.
    pub body: Bytes,
    /// The entity tag, quoted as in HTTP (`"…"`).
    pub etag: String,
}

/// Feed documents: blobs with ETags and conditional writes (S3 or disk).
#[async_trait]
pub trait FeedStore: Send + Sync {
    /// Reads a document, or `None` when absent.
    async fn get(&self, tenant: &Tenant, key: &DocKey) -> Result<Option<StoredDoc>, StoreError>;
    /// Writes a document under a condition; returns the new ETag, or
    /// [`StoreError::PreconditionFailed`] when the condition does not hold.
    async fn put(&self, tenant: &Tenant, key: &DocKey, body: Bytes, cond: PutCondition) -> Result<String, StoreError>;
}

/// Accounts, their tokens, and feed ownership.
#[async_trait]
pub trait AccountStore: Send + Sync {
    /// Creates an account; `PreconditionFailed` if the name is taken.
    async fn create_account(&self, tenant: &Tenant, account: &Account) -> Result<(), StoreError>;
    /// Reads an account.
    async fn get_account(&self, tenant: &Tenant, name: &AccountName) -> Result<Option<Account>, StoreError>;
    /// Stores a token record (by its hash).
    async fn put_token(&self, tenant: &Tenant, token: &TokenRecord) -> Result<(), StoreError>;
    /// Finds a token record by hash.
    async fn get_token(&self, tenant: &Tenant, hash: &TokenHash) -> Result<Option<TokenRecord>, StoreError>;
    /// Deletes a token record (revocation).
    async fn delete_token(&self, tenant: &Tenant, hash: &TokenHash) -> Result<(), StoreError>;
    /// Records a new feed; `PreconditionFailed` if the id exists.
    async fn create_feed(&self, tenant: &Tenant, feed: &FeedRecord) -> Result<(), StoreError>;
    /// Reads a feed's record.
    async fn get_feed(&self, tenant: &Tenant, id: &FeedId) -> Result<Option<FeedRecord>, StoreError>;
}

/// rssCloud subscriptions: one record per (feed, subscriber).
#[async_trait]
pub trait SubscriptionStore: Send + Sync {
    /// Creates or renews a subscription (overwrites the same subscriber's record).
    async fn put(&self, tenant: &Tenant, sub: &Subscription) -> Result<(), StoreError>;
    /// Every stored subscription of a feed, expired ones included.
    async fn list(&self, tenant: &Tenant, feed: &FeedId) -> Result<Vec<Subscription>, StoreError>;
    /// Atomically adds one to the failure count; returns the new count, or
    /// `None` if the subscription no longer exists.
    async fn record_failure(&self, tenant: &Tenant, feed: &FeedId, id: &SubscriberId) -> Result<Option<u32>, StoreError>;
    /// Sets the failure count back to zero, if the subscription exists.
    async fn reset_failures(&self, tenant: &Tenant, feed: &FeedId, id: &SubscriberId) -> Result<(), StoreError>;
    /// Removes a subscription.
    async fn delete(&self, tenant: &Tenant, feed: &FeedId, id: &SubscriberId) -> Result<(), StoreError>;
}

/// The subscriber side: what our accounts follow, and what arrived.
#[async_trait]
pub trait InboxStore: Send + Sync {
    /// Creates or replaces a follow.
    async fn put_follow(&self, tenant: &Tenant, follow: &Follow) -> Result<(), StoreError>;
    /// Every follow of one feed URL.
    async fn follows_of(&self, tenant: &Tenant, feed_url: &str) -> Result<Vec<Follow>, StoreError>;
    /// Every follow of a tenant (for renewals).
    async fn all_follows(&self, tenant: &Tenant) -> Result<Vec<Follow>, StoreError>;
    /// Every tenant that has ever stored a follow (for scheduled renewals).
    async fn follow_tenants(&self) -> Result<Vec<Tenant>, StoreError>;
    /// Moves a follow's cursor forward to `next_seq` (never backward) and
    /// records the ETag; a no-op if the stored cursor is already there.
    async fn advance_follow(&self, tenant: &Tenant, feed_url: &str, account: &AccountName, next_seq: u64, etag: Option<&str>) -> Result<(), StoreError>;
    /// Records an item once: returns `false` if that (account, feed, seq) is already recorded.
    async fn add_item(&self, tenant: &Tenant, item: &InboxItem) -> Result<bool, StoreError>;
    /// Items of one followed feed for an account, in sequence order, after `after` (exclusive).
    async fn list_items(&self, tenant: &Tenant, account: &AccountName, feed_url: &str, after: Option<u64>, limit: usize) -> Result<Vec<InboxItem>, StoreError>;
}

/// What a fetch of a remote feed returned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fetched {
    /// 304: unchanged since the ETag given.
    NotModified,
    /// 200 with the body and its ETag.
    Body {
        /// The document.
        body: Bytes,
        /// Its entity tag, if the server sent one.
        etag: Option<String>,
    },
}

/// Why an outbound request failed. Texts are for logs and callers alike:
/// they never contain bodies or secrets.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OutboundError {
    /// The destination is not allowed (private, loopback, … addresses).
    #[error("refused to contact {0}: not a public address")]
    Refused(String),
    /// Could not connect, or the connection failed.
    #[error("could not reach {0}")]
    Unreachable(String),
    /// No answer within the time allowed.
    #[error("{0} did not answer in time")]
    Timeout(String),
    /// An answer, but not the one needed.
    #[error("{0}")]
    Rejected(String),
}

/// Outbound HTTP: notifications, verification, fetching and registering.
#[async_trait]
pub trait Outbound: Send + Sync {
    /// Delivers one notification that `resource` changed.
    async fn notify(&self, target: &NotifyTarget, resource: &str) -> Result<(), OutboundError>;
    /// Sends the verification GET with a challenge; Ok only if the body echoes it.
    async fn challenge(&self, callback: &str, resource: &str, challenge: &str) -> Result<(), OutboundError>;
    /// Fetches a feed document, conditionally when an ETag is given.
    async fn fetch(&self, url: &str, etag: Option<&str>) -> Result<Fetched, OutboundError>;
    /// POSTs a `pleaseNotify` form to a remote cloud; Ok only on `success="true"`.
    async fn please_notify(&self, endpoint: &str, form: &str) -> Result<(), OutboundError>;
}

/// Hands "this feed changed" to the fan-out without making the caller wait.
#[async_trait]
pub trait Dispatcher: Send + Sync {
    /// Schedules a fan-out for one feed.
    async fn feed_changed(&self, tenant: &Tenant, feed: &FeedId) -> Result<(), StoreError>;
}

/// The handshake's records: keys, invitations, conversations, tokens
/// issued to other providers, blocks and rate-limit counters.
#[async_trait]
pub trait HandshakeStore: Send + Sync {
    /// Stores (replaces) an account's key.
    async fn put_key(&self, tenant: &Tenant, key: &AccountKey) -> Result<(), StoreError>;
    /// Reads an account's key.
    async fn get_key(&self, tenant: &Tenant, account: &AccountName) -> Result<Option<AccountKey>, StoreError>;
    /// Stores (replaces) an invitation.
    async fn put_invitation(&self, tenant: &Tenant, invitation: &Invitation) -> Result<(), StoreError>;
    /// Reads one invitation of an account.
    async fn get_invitation(&self, tenant: &Tenant, account: &AccountName, id: &InvitationId) -> Result<Option<Invitation>, StoreError>;
    /// Every invitation of an account.
    async fn list_invitations(&self, tenant: &Tenant, account: &AccountName) -> Result<Vec<Invitation>, StoreError>;
    /// Stores (replaces) a conversation.
    async fn put_conversation(&self, tenant: &Tenant, conversation: &Conversation) -> Result<(), StoreError>;
    /// Every conversation of an account.
    async fn list_conversations(&self, tenant: &Tenant, account: &AccountName) -> Result<Vec<Conversation>, StoreError>;
    /// Stores a token record (by hash).
    async fn put_handshake_token(&self, tenant: &Tenant, token: &HandshakeToken) -> Result<(), StoreError>;
    /// Removes and returns a token record in one atomic step, so a token
    /// can be used once only.
    async fn take_handshake_token(&self, tenant: &Tenant, hash: &TokenHash) -> Result<Option<HandshakeToken>, StoreError>;
    /// Reads a token record.
    async fn get_handshake_token(&self, tenant: &Tenant, hash: &TokenHash) -> Result<Option<HandshakeToken>, StoreError>;
    /// Records that an account blocks an identity.
    async fn put_block(&self, tenant: &Tenant, account: &AccountName, peer: &Identity, at: u64) -> Result<(), StoreError>;
    /// Whether an account blocks an identity.
    async fn is_blocked(&self, tenant: &Tenant, account: &AccountName, peer: &Identity) -> Result<bool, StoreError>;
    /// Adds one to the counter `key` of the window starting at `window`
    /// (forgotten after `expires_at`) and returns the new count, atomically.
    async fn count(&self, tenant: &Tenant, key: &str, window: u64, expires_at: u64) -> Result<u64, StoreError>;
}

/// Registered tenants and what each uses of its metered limits.
#[async_trait]
pub trait TenantStore: Send + Sync {
    /// Creates or replaces a tenant's registration.
    async fn put_tenant(&self, record: &TenantRecord) -> Result<(), StoreError>;
    /// A tenant's registration.
    async fn get_tenant(&self, tenant: &Tenant) -> Result<Option<TenantRecord>, StoreError>;
    /// Every registered tenant, in domain order.
    async fn list_tenants(&self) -> Result<Vec<TenantRecord>, StoreError>;
    /// Adds `delta` to a meter atomically and returns the new value. With
    /// `max`, only if the result stays at or under it: otherwise nothing
    /// changes and the answer is [`StoreError::PreconditionFailed`].
    async fn add_usage(&self, tenant: &Tenant, meter: Meter, delta: i64, max: Option<u64>) -> Result<u64, StoreError>;
    /// What a tenant uses (zero for a tenant that never used anything).
    async fn usage(&self, tenant: &Tenant) -> Result<Usage, StoreError>;
}

/// The discovery cache: what identity pages named, for a while.
#[async_trait]
pub trait DiscoveryCache: Send + Sync {
    /// A cached entry, expired ones included (the caller checks).
    async fn get_discovered(&self, tenant: &Tenant, identity: &Identity) -> Result<Option<Discovered>, StoreError>;
    /// Stores an entry.
    async fn put_discovered(&self, tenant: &Tenant, entry: &Discovered) -> Result<(), StoreError>;
}

/// A fetched page, for discovery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchedPage {
    /// The URL after redirects.
    pub final_url: String,
    /// Every `Link` header value, in order.
    pub link_headers: Vec<String>,
    /// The `Content-Type`.
    pub content_type: Option<String>,
    /// The body (capped).
    pub body: Bytes,
}

/// What a PM endpoint answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PmReply {
    /// The HTTP status.
    pub status: u16,
    /// The body (capped).
    pub body: Bytes,
}

/// Outbound HTTP for discovery and the handshake.
#[async_trait]
pub trait Federation: Send + Sync {
    /// GETs a page (identity page, WebFinger document), following redirects
    /// with every hop checked.
    async fn fetch_page(&self, url: &str) -> Result<FetchedPage, OutboundError>;
    /// POSTs a JSON PM message; redirects are not followed.
    async fn post_pm(&self, endpoint: &str, json: &str) -> Result<PmReply, OutboundError>;
    /// Checks that a URL may be contacted (scheme, allowlist, and every
    /// address its host resolves to), without connecting.
    async fn vet(&self, url: &str) -> Result<(), OutboundError>;
}
