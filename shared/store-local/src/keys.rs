//! Every path of the embedded store, built in one place. Every component is
//! a validated identifier or a hex hash, so no path can leave its tenant.

use std::path::PathBuf;

use cloudim_domain::{DocKey, FeedUrlKey, SubscriberId, TokenHash};
use cloudim_protocol::{AccountName, FeedId, Tenant};

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
