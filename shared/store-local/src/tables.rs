//! Accounts, tokens, feeds, subscriptions, follows and inbox items as JSON
//! records on disk.

use async_trait::async_trait;
use cloudim_domain::*;
use cloudim_protocol::{AccountName, FeedId, Tenant};

use crate::records::*;
use crate::{LocalStore, list_dirs, list_json, read_json, remove, write_json};

impl LocalStore {
    /// Writes a record only if none exists at that path.
    async fn create<T: serde::Serialize>(&self, path: &std::path::Path, rec: &T) -> Result<(), StoreError> {
        let _guard = self.write_lock.lock().await;
        if tokio::fs::try_exists(path).await.unwrap_or(false) {
            return Err(StoreError::PreconditionFailed);
        }
        write_json(path, rec).await
    }
}

fn convert<R, D: TryFrom<R, Error = StoreError>>(r: Option<R>) -> Result<Option<D>, StoreError> {
    r.map(D::try_from).transpose()
}

#[async_trait]
impl AccountStore for LocalStore {
    async fn create_account(&self, tenant: &Tenant, account: &Account) -> Result<(), StoreError> {
        self.create(&self.account_path(tenant, &account.name), &AccountRec::from(account)).await
    }
    async fn get_account(&self, tenant: &Tenant, name: &AccountName) -> Result<Option<Account>, StoreError> {
        convert(read_json::<AccountRec>(&self.account_path(tenant, name)).await?)
    }
    async fn put_token(&self, tenant: &Tenant, token: &TokenRecord) -> Result<(), StoreError> {
        write_json(&self.token_path(tenant, &token.hash), &TokenRec::from(token)).await
    }
    async fn get_token(&self, tenant: &Tenant, hash: &TokenHash) -> Result<Option<TokenRecord>, StoreError> {
        convert(read_json::<TokenRec>(&self.token_path(tenant, hash)).await?)
    }
    async fn delete_token(&self, tenant: &Tenant, hash: &TokenHash) -> Result<(), StoreError> {
        remove(&self.token_path(tenant, hash)).await
    }
    async fn create_feed(&self, tenant: &Tenant, feed: &FeedRecord) -> Result<(), StoreError> {
        self.create(&self.feed_meta_path(tenant, &feed.id), &FeedRec::from(feed)).await
    }
    async fn get_feed(&self, tenant: &Tenant, id: &FeedId) -> Result<Option<FeedRecord>, StoreError> {
        convert(read_json::<FeedRec>(&self.feed_meta_path(tenant, id)).await?)
    }
}

#[async_trait]
impl SubscriptionStore for LocalStore {
    async fn put(&self, tenant: &Tenant, sub: &Subscription) -> Result<(), StoreError> {
        let path = self.sub_path(tenant, &sub.feed, &sub.id);
        let _guard = self.write_lock.lock().await;
        let created_at = match read_json::<SubRec>(&path).await? {
            Some(old) => Subscription::try_from(old)?.created_at,
            None => sub.created_at,
        };
        write_json(&path, &SubRec::from(&Subscription { created_at, ..sub.clone() })).await
    }
    async fn list(&self, tenant: &Tenant, feed: &FeedId) -> Result<Vec<Subscription>, StoreError> {
        list_json::<SubRec>(&self.subs_dir(tenant, feed)).await?.into_iter().map(Subscription::try_from).collect()
    }
    async fn record_failure(&self, tenant: &Tenant, feed: &FeedId, id: &SubscriberId) -> Result<Option<u32>, StoreError> {
        let path = self.sub_path(tenant, feed, id);
        let _guard = self.write_lock.lock().await;
        let Some(mut rec) = read_json::<SubRec>(&path).await? else { return Ok(None) };
        rec.failures += 1;
        write_json(&path, &rec).await?;
        Ok(Some(rec.failures))
    }
    async fn reset_failures(&self, tenant: &Tenant, feed: &FeedId, id: &SubscriberId) -> Result<(), StoreError> {
        let path = self.sub_path(tenant, feed, id);
        let _guard = self.write_lock.lock().await;
        if let Some(mut rec) = read_json::<SubRec>(&path).await? {
            rec.failures = 0;
            write_json(&path, &rec).await?;
        }
        Ok(())
    }
    async fn delete(&self, tenant: &Tenant, feed: &FeedId, id: &SubscriberId) -> Result<(), StoreError> {
        let _guard = self.write_lock.lock().await;
        remove(&self.sub_path(tenant, feed, id)).await
    }
}

#[async_trait]
impl InboxStore for LocalStore {
    async fn put_follow(&self, tenant: &Tenant, follow: &Follow) -> Result<(), StoreError> {
        let _guard = self.write_lock.lock().await;
        write_json(&self.follow_path(tenant, &follow.feed_url, &follow.account), &FollowRec::from(follow)).await
    }
    async fn follows_of(&self, tenant: &Tenant, feed_url: &str) -> Result<Vec<Follow>, StoreError> {
        list_json::<FollowRec>(&self.follows_dir(tenant, feed_url)).await?.into_iter().map(Follow::try_from).collect()
    }
    async fn follow_tenants(&self) -> Result<Vec<Tenant>, StoreError> {
        let mut out = Vec::new();
        for name in list_dirs(&self.root().join("tenants")).await? {
            if let Ok(t) = Tenant::parse(&name)
                && tokio::fs::try_exists(self.follows_root(&t)).await.unwrap_or(false)
            {
                out.push(t);
            }
        }
        out.sort_by(|a, b| a.as_str().cmp(b.as_str()));
        Ok(out)
    }
    async fn all_follows(&self, tenant: &Tenant) -> Result<Vec<Follow>, StoreError> {
        let root = self.follows_root(tenant);
        let mut out = Vec::new();
        for dir in list_dirs(&root).await? {
            for rec in list_json::<FollowRec>(&root.join(dir)).await? {
                out.push(Follow::try_from(rec)?);
            }
        }
        Ok(out)
    }
    async fn advance_follow(&self, tenant: &Tenant, feed_url: &str, account: &AccountName, next_seq: u64, etag: Option<&str>) -> Result<(), StoreError> {
        let path = self.follow_path(tenant, feed_url, account);
        let _guard = self.write_lock.lock().await;
        if let Some(mut rec) = read_json::<FollowRec>(&path).await?
            && next_seq >= rec.next_seq {
                rec.next_seq = next_seq;
                rec.etag = etag.map(str::to_owned);
                write_json(&path, &rec).await?;
            }
        Ok(())
    }
    async fn add_item(&self, tenant: &Tenant, item: &InboxItem) -> Result<bool, StoreError> {
        let path = self.inbox_dir(tenant, &item.account, &item.feed_url).join(format!("{:020}.json", item.seq));
        match self.create(&path, &ItemRec::from(item)).await {
            Ok(()) => Ok(true),
            Err(StoreError::PreconditionFailed) => Ok(false),
            Err(e) => Err(e),
        }
    }
    async fn list_items(&self, tenant: &Tenant, account: &AccountName, feed_url: &str, after: Option<u64>, limit: usize) -> Result<Vec<InboxItem>, StoreError> {
        let all = list_json::<ItemRec>(&self.inbox_dir(tenant, account, feed_url)).await?;
        all.into_iter()
            .map(InboxItem::try_from)
            .filter(|i| i.as_ref().map_or(true, |i| after.is_none_or(|a| i.seq > a)))
            .take(limit)
            .collect()
    }
}
