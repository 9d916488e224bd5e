//! The domain's records: what the use cases store and read back through the
//! ports. Adapters convert these to their own storage records.

use cloudim_protocol::{AccountName, FeedId, Fingerprint, Identity, InvitationId, ItemId, NotifyProtocol};
use serde::{Deserialize, Serialize};
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
    /// Our own base URL (`scheme://host[:port]`) the cloud calls back; a
    /// renewal registers the same callback again.
    pub callback_origin: Option<String>,
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

/// An account's OpenPGP certificate as its client uploaded it. The
/// provider serves it and treats it as opaque text; clients verify it
/// against the fingerprint they pinned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountKey {
    /// Whose key.
    pub account: AccountName,
    /// The ASCII-armored certificate.
    pub armored: String,
    /// Its fingerprint, as the owner declared it.
    pub fingerprint: Fingerprint,
    /// When it was uploaded.
    pub updated_at: u64,
}

/// What discovery found on an identity page (cached with a TTL).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Discovered {
    /// The identity asked about.
    pub identity: Identity,
    /// The page's URL after redirects.
    pub final_url: String,
    /// The `rel="pm"` endpoint, if any.
    pub pm: Option<String>,
    /// The `rel="pgpkey"` URL, if any.
    pub pgpkey: Option<String>,
    /// When it was fetched.
    pub fetched_at: u64,
    /// When the cached entry stops being used.
    pub expires_at: u64,
}

/// Which way an invitation goes, seen from the local account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Our account invited someone.
    Outgoing,
    /// Someone invited our account.
    Incoming,
}

/// Where an invitation stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InvitationState {
    /// Outgoing: noticed, not yet delivered.
    Sent,
    /// Outgoing: delivered to the recipient's provider.
    Delivered,
    /// Incoming: waiting for our account to decide.
    Pending,
    /// Both: the conversation is open.
    Accepted,
    /// Both: declined.
    Declined,
    /// Incoming: declined and the sender blocked.
    Blocked,
    /// Outgoing: the recipient's provider could not be reached or refused.
    Failed,
}

impl InvitationState {
    /// The state's wire and storage name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sent => "sent",
            Self::Delivered => "delivered",
            Self::Pending => "pending",
            Self::Accepted => "accepted",
            Self::Declined => "declined",
            Self::Blocked => "blocked",
            Self::Failed => "failed",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<Self> {
        [Self::Sent, Self::Delivered, Self::Pending, Self::Accepted, Self::Declined, Self::Blocked, Self::Failed]
            .into_iter()
            .find(|v| v.as_str() == s)
    }
}

impl Direction {
    /// The direction's wire and storage name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Outgoing => "outgoing",
            Self::Incoming => "incoming",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "outgoing" => Some(Self::Outgoing),
            "incoming" => Some(Self::Incoming),
            _ => None,
        }
    }
}

/// An invitation, as one side records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Invitation {
    /// Its id (chosen by the sender's provider).
    pub id: InvitationId,
    /// The local account.
    pub account: AccountName,
    /// Which way it goes.
    pub direction: Direction,
    /// The other person.
    pub peer: Identity,
    /// The other person's PM endpoint, as we discovered it.
    pub peer_endpoint: String,
    /// Where it stands.
    pub state: InvitationState,
    /// Outgoing: our feed to the peer. Incoming: the peer's feed to us.
    pub feed_url: String,
    /// Incoming: the peer's key URL.
    pub key_url: Option<String>,
    /// Incoming: the peer's key fingerprint.
    pub fingerprint: Option<Fingerprint>,
    /// The token the peer's provider issued us for calls about this
    /// conversation (we present it; the peer stores only its hash).
    pub peer_token: Option<String>,
    /// The hash of the conversation token we issued the peer for it (to
    /// revoke on decline or block).
    pub issued_token: Option<TokenHash>,
    /// Set when it accepts an earlier invitation in the other direction.
    pub in_reply_to: Option<InvitationId>,
    /// When it was created.
    pub created_at: u64,
    /// When it last changed.
    pub updated_at: u64,
}

/// An open conversation of a local account with one peer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Conversation {
    /// The local account.
    pub account: AccountName,
    /// The other person.
    pub peer: Identity,
    /// Their PM endpoint.
    pub peer_endpoint: String,
    /// Our feed to them.
    pub our_feed_url: String,
    /// Their feed to us (we follow it through rssCloud).
    pub their_feed_url: String,
    /// Their key URL.
    pub their_key_url: String,
    /// Their key's fingerprint, as delivered at the handshake.
    pub their_fingerprint: Fingerprint,
    /// The token their provider issued us.
    pub peer_token: String,
    /// When it opened.
    pub created_at: u64,
}

/// What a handshake token is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenPurpose {
    /// Single use: the delivery of one invitation must carry it.
    Verify,
    /// Authenticates the peer provider's later calls about one conversation.
    Conversation,
}

impl TokenPurpose {
    /// The purpose's storage name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Verify => "verify",
            Self::Conversation => "conversation",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "verify" => Some(Self::Verify),
            "conversation" => Some(Self::Conversation),
            _ => None,
        }
    }
}

/// A token this provider issued to another provider, stored by hash only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HandshakeToken {
    /// SHA-256 of the token.
    pub hash: TokenHash,
    /// What it is for.
    pub purpose: TokenPurpose,
    /// The local account concerned.
    pub account: AccountName,
    /// The remote identity concerned.
    pub peer: Identity,
    /// The invitation it was issued for.
    pub invitation: InvitationId,
    /// The remote PM endpoint it was handed to.
    pub endpoint: String,
    /// When it was issued.
    pub created_at: u64,
    /// When it stops working (also the storage TTL).
    pub expires_at: u64,
}
