//! Every path of the embedded store, built in one place. Every component is
//! a validated identifier or a hex hash, so no path can leave its tenant.

use std::path::PathBuf;

use cloudim_domain::{DocKey, FeedUrlKey, SubscriberId, TokenHash};
use cloudim_protocol::{AccountName, FeedId, Identity, InvitationId, Tenant};

use crate::LocalStore;

impl LocalStore {
    fn tenant_dir(&self, tenant: &Tenant) -> PathBuf {
        self.root.join("tenants").join(tenant.as_str())
    }

    pub(crate) fn doc_path(&self, tenant: &Tenant, key: &DocKey) -> PathBuf {
        let feeds = self.tenant_dir(tenant).join("feeds");
        match key {
            DocKey::Head(f) => feeds.join(f.as_str()).join("head.xml"),
            DocKey::Archive(f, page) => feeds.join(f.as_str()).join("archive").join(format!("{page:012}.xml")),
            DocKey::ItemMarker(f, item) => feeds.join(f.as_str()).join("items").join(item.as_str()),
        }
    }

    pub(crate) fn account_path(&self, tenant: &Tenant, name: &AccountName) -> PathBuf {
        self.tenant_dir(tenant).join("accounts").join(format!("{name}.json"))
    }

    pub(crate) fn token_path(&self, tenant: &Tenant, hash: &TokenHash) -> PathBuf {
        self.tenant_dir(tenant).join("tokens").join(format!("{}.json", hash.as_str()))
    }

    pub(crate) fn feed_meta_path(&self, tenant: &Tenant, feed: &FeedId) -> PathBuf {
        self.tenant_dir(tenant).join("feedmeta").join(format!("{feed}.json"))
    }

    pub(crate) fn subs_dir(&self, tenant: &Tenant, feed: &FeedId) -> PathBuf {
        self.tenant_dir(tenant).join("subs").join(feed.as_str())
    }

    pub(crate) fn sub_path(&self, tenant: &Tenant, feed: &FeedId, id: &SubscriberId) -> PathBuf {
        self.subs_dir(tenant, feed).join(format!("{}.json", id.as_str()))
    }

    pub(crate) fn follows_root(&self, tenant: &Tenant) -> PathBuf {
        self.tenant_dir(tenant).join("follows")
    }

    pub(crate) fn follows_dir(&self, tenant: &Tenant, feed_url: &str) -> PathBuf {
        self.follows_root(tenant).join(FeedUrlKey::of(feed_url).as_str())
    }

    pub(crate) fn follow_path(&self, tenant: &Tenant, feed_url: &str, account: &AccountName) -> PathBuf {
        self.follows_dir(tenant, feed_url).join(format!("{account}.json"))
    }

    pub(crate) fn inbox_dir(&self, tenant: &Tenant, account: &AccountName, feed_url: &str) -> PathBuf {
        self.tenant_dir(tenant).join("inbox").join(account.as_str()).join(FeedUrlKey::of(feed_url).as_str())
    }
}

impl LocalStore {
    pub(crate) fn key_path(&self, tenant: &Tenant, account: &AccountName) -> PathBuf {
        self.tenant_dir(tenant).join("keys").join(format!("{account}.json"))
    }

    pub(crate) fn invitations_dir(&self, tenant: &Tenant, account: &AccountName) -> PathBuf {
        self.tenant_dir(tenant).join("invitations").join(account.as_str())
    }

    pub(crate) fn invitation_path(&self, tenant: &Tenant, account: &AccountName, id: &InvitationId) -> PathBuf {
        self.invitations_dir(tenant, account).join(format!("{id}.json"))
    }

    pub(crate) fn conversations_dir(&self, tenant: &Tenant, account: &AccountName) -> PathBuf {
        self.tenant_dir(tenant).join("conversations").join(account.as_str())
    }

    pub(crate) fn conversation_path(&self, tenant: &Tenant, account: &AccountName, peer: &Identity) -> PathBuf {
        self.conversations_dir(tenant, account).join(format!("{}.json", FeedUrlKey::of(peer.as_str()).as_str()))
    }

    pub(crate) fn handshake_token_path(&self, tenant: &Tenant, hash: &TokenHash) -> PathBuf {
        self.tenant_dir(tenant).join("handshake-tokens").join(format!("{}.json", hash.as_str()))
    }

    pub(crate) fn block_path(&self, tenant: &Tenant, account: &AccountName, peer: &Identity) -> PathBuf {
        self.tenant_dir(tenant).join("blocks").join(account.as_str()).join(format!("{}.json", FeedUrlKey::of(peer.as_str()).as_str()))
    }

    /// Counter keys are hashed, so any key is a safe file name.
    pub(crate) fn counter_path(&self, tenant: &Tenant, key: &str, window: u64) -> PathBuf {
        self.tenant_dir(tenant).join("counters").join(format!("{}-{window}.json", FeedUrlKey::of(key).as_str()))
    }

    pub(crate) fn discovered_path(&self, tenant: &Tenant, identity: &Identity) -> PathBuf {
        self.tenant_dir(tenant).join("discovery").join(format!("{}.json", FeedUrlKey::of(identity.as_str()).as_str()))
    }

    /// Registered tenants live outside every tenant's directory.
    pub(crate) fn registry_dir(&self) -> PathBuf {
        self.root.join("registry")
    }

    pub(crate) fn registry_path(&self, tenant: &Tenant) -> PathBuf {
        self.registry_dir().join(format!("{tenant}.json"))
    }

    pub(crate) fn usage_path(&self, tenant: &Tenant) -> PathBuf {
        self.tenant_dir(tenant).join("usage.json")
    }
}
