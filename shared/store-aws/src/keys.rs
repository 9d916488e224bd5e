//! Every S3 key and DynamoDB key, built in one place. All are prefixed by
//! the tenant; components are validated identifiers or hex hashes.

use cloudim_domain::{DocKey, FeedUrlKey, SubscriberId, TokenHash};
use cloudim_protocol::{AccountName, FeedId, Identity, InvitationId, Tenant};

/// The S3 key of a feed document.
pub(crate) fn object(tenant: &Tenant, key: &DocKey) -> String {
    match key {
        DocKey::Head(f) => format!("{tenant}/feeds/{f}/head.xml"),
        DocKey::Archive(f, page) => format!("{tenant}/feeds/{f}/archive/{page:012}.xml"),
        DocKey::ItemMarker(f, item) => format!("{tenant}/feeds/{f}/items/{item}"),
    }
}

/// A DynamoDB primary key.
pub(crate) struct Key {
    pub pk: String,
    pub sk: String,
}

pub(crate) fn account(t: &Tenant, name: &AccountName) -> Key {
    Key { pk: format!("T#{t}#ACCOUNT#{name}"), sk: "ACCOUNT".into() }
}

pub(crate) fn token(t: &Tenant, hash: &TokenHash) -> Key {
    Key { pk: format!("T#{t}#TOKEN#{}", hash.as_str()), sk: "TOKEN".into() }
}

pub(crate) fn feed(t: &Tenant, id: &FeedId) -> Key {
    Key { pk: format!("T#{t}#FEED#{id}"), sk: "META".into() }
}

/// Subscriptions share their feed's partition: one item per subscriber.
pub(crate) fn subscription(t: &Tenant, feed: &FeedId, id: &SubscriberId) -> Key {
    Key { pk: format!("T#{t}#FEED#{feed}"), sk: format!("{SUB_PREFIX}{}", id.as_str()) }
}

pub(crate) const SUB_PREFIX: &str = "SUB#";

pub(crate) fn subscriptions_pk(t: &Tenant, feed: &FeedId) -> String {
    format!("T#{t}#FEED#{feed}")
}

/// Follows of a tenant share one partition, sorted by feed then account.
pub(crate) fn follow(t: &Tenant, feed_url: &str, account: &AccountName) -> Key {
    Key { pk: follows_pk(t), sk: format!("{}{account}", follows_of_prefix(feed_url)) }
}

/// The partition listing every tenant with follows.
pub(crate) const FOLLOW_TENANTS_PK: &str = "FOLLOW-TENANTS";

pub(crate) fn follows_pk(t: &Tenant) -> String {
    format!("T#{t}#FOLLOWS")
}

pub(crate) fn follows_of_prefix(feed_url: &str) -> String {
    format!("{}#", FeedUrlKey::of(feed_url).as_str())
}

/// Inbox items of one account from one feed, sorted by sequence number.
pub(crate) fn inbox_pk(t: &Tenant, account: &AccountName, feed_url: &str) -> String {
    format!("T#{t}#INBOX#{account}#{}", FeedUrlKey::of(feed_url).as_str())
}

pub(crate) fn inbox_sk(seq: u64) -> String {
    format!("{seq:020}")
}

pub(crate) fn account_key(t: &Tenant, a: &AccountName) -> Key {
    Key { pk: format!("T#{t}#ACCOUNT#{a}"), sk: "KEY".into() }
}

/// Invitations of an account share one partition, sorted by id.
pub(crate) fn invitations_pk(t: &Tenant, a: &AccountName) -> String {
    format!("T#{t}#ACCOUNT#{a}#INV")
}

pub(crate) fn invitation(t: &Tenant, a: &AccountName, id: &InvitationId) -> Key {
    Key { pk: invitations_pk(t, a), sk: id.to_string() }
}

/// Conversations of an account share one partition, one item per peer.
pub(crate) fn conversations_pk(t: &Tenant, a: &AccountName) -> String {
    format!("T#{t}#ACCOUNT#{a}#CONV")
}

pub(crate) fn conversation(t: &Tenant, a: &AccountName, peer: &Identity) -> Key {
    Key { pk: conversations_pk(t, a), sk: FeedUrlKey::of(peer.as_str()).as_str().to_owned() }
}

pub(crate) fn handshake_token(t: &Tenant, hash: &TokenHash) -> Key {
    Key { pk: format!("T#{t}#HSTOKEN#{}", hash.as_str()), sk: "TOKEN".into() }
}

pub(crate) fn block(t: &Tenant, a: &AccountName, peer: &Identity) -> Key {
    Key { pk: format!("T#{t}#ACCOUNT#{a}#BLOCK"), sk: FeedUrlKey::of(peer.as_str()).as_str().to_owned() }
}

pub(crate) fn counter(t: &Tenant, key: &str, window: u64) -> Key {
    Key { pk: format!("T#{t}#COUNT#{}#{window}", FeedUrlKey::of(key).as_str()), sk: "COUNT".into() }
}

pub(crate) fn discovered(t: &Tenant, identity: &Identity) -> Key {
    Key { pk: format!("T#{t}#DISCOVERY#{}", FeedUrlKey::of(identity.as_str()).as_str()), sk: "DISCOVERED".into() }
}

/// Registered tenants share one partition, sorted by domain.
pub(crate) const TENANTS_PK: &str = "TENANTS";

pub(crate) fn tenant(t: &Tenant) -> Key {
    Key { pk: TENANTS_PK.into(), sk: t.to_string() }
}

/// A tenant's usage meters: one item, one number attribute per meter.
pub(crate) fn usage(t: &Tenant) -> Key {
    Key { pk: format!("T#{t}#USAGE"), sk: "USAGE".into() }
}
