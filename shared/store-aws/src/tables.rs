//! Accounts, tokens, feeds, subscriptions, follows and inbox items in one
//! DynamoDB table.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};
use cloudim_domain::*;
use cloudim_protocol::{AccountName, FeedId, Tenant};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::keys::{self, Key};
use crate::records::*;
use crate::{AwsStore, backend};

type Item = HashMap<String, AttributeValue>;

fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

fn n(v: u64) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

/// Whether a DynamoDB error is a failed condition expression.
pub(crate) fn condition_failed<E: aws_sdk_dynamodb::error::ProvideErrorMetadata, R>(e: &aws_sdk_dynamodb::error::SdkError<E, R>) -> bool {
    e.as_service_error().and_then(|s| s.code()) == Some("ConditionalCheckFailedException")
}

impl AwsStore {
    /// An `UpdateItem` on this table for one key.
    pub(crate) fn update(&self, k: Key) -> aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder {
        self.ddb.update_item().table_name(&self.names.table).key("pk", s(k.pk)).key("sk", s(k.sk))
    }

    pub(crate) async fn get_item<T: DeserializeOwned>(&self, k: Key) -> Result<Option<T>, StoreError> {
        let out = self
            .ddb
            .get_item()
            .table_name(&self.names.table)
            .key("pk", s(k.pk))
            .key("sk", s(k.sk))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| backend("get item", e))?;
        out.item.map(|i| serde_dynamo::from_item(i).map_err(|e| backend("decode item", e))).transpose()
    }

    /// Puts an item; with `only_new`, fails with `PreconditionFailed` if it exists.
    pub(crate) async fn put_item<T: Serialize>(&self, item: &T, only_new: bool) -> Result<(), StoreError> {
        let item: Item = serde_dynamo::to_item(item).map_err(|e| backend("encode item", e))?;
        let mut req = self.ddb.put_item().table_name(&self.names.table).set_item(Some(item));
        if only_new {
            req = req.condition_expression("attribute_not_exists(pk)");
        }
        match req.send().await {
            Ok(_) => Ok(()),
            Err(e) if condition_failed(&e) => Err(StoreError::PreconditionFailed),
            Err(e) => Err(backend("put item", e)),
        }
    }

    async fn delete_item(&self, k: Key) -> Result<(), StoreError> {
        self.ddb.delete_item().table_name(&self.names.table).key("pk", s(k.pk)).key("sk", s(k.sk)).send().await.map_err(|e| backend("delete item", e))?;
        Ok(())
    }

    /// Every item of a partition whose sort key starts with `prefix` (or is
    /// greater than `after`), following pagination, up to `limit`.
    pub(crate) async fn query<T: DeserializeOwned>(&self, pk: String, prefix: Option<String>, after: Option<String>, limit: usize) -> Result<Vec<T>, StoreError> {
        let mut out = Vec::new();
        let mut start: Option<Item> = None;
        loop {
            let mut req = self.ddb.query().table_name(&self.names.table).consistent_read(true).expression_attribute_values(":pk", s(pk.clone()));
            let mut cond = "pk = :pk".to_owned();
            if let Some(p) = &prefix {
                cond.push_str(" AND begins_with(sk, :p)");
                req = req.expression_attribute_values(":p", s(p.clone()));
            }
            if let Some(a) = &after {
                cond.push_str(" AND sk > :a");
                req = req.expression_attribute_values(":a", s(a.clone()));
            }
            let page = req.key_condition_expression(cond).set_exclusive_start_key(start.take()).send().await.map_err(|e| backend("query", e))?;
            for item in page.items.unwrap_or_default() {
                out.push(serde_dynamo::from_item(item).map_err(|e| backend("decode item", e))?);
                if out.len() >= limit {
                    return Ok(out);
                }
            }
            match page.last_evaluated_key {
                Some(k) if !k.is_empty() => start = Some(k),
                _ => return Ok(out),
            }
        }
    }
}

#[async_trait]
impl AccountStore for AwsStore {
    async fn create_account(&self, t: &Tenant, a: &Account) -> Result<(), StoreError> {
        self.put_item(&AccountItem::new(keys::account(t, &a.name), a), true).await
    }
    async fn get_account(&self, t: &Tenant, name: &AccountName) -> Result<Option<Account>, StoreError> {
        self.get_item::<AccountItem>(keys::account(t, name)).await?.map(AccountItem::into_domain).transpose()
    }
    async fn put_token(&self, t: &Tenant, token: &TokenRecord) -> Result<(), StoreError> {
        self.put_item(&TokenItem::new(keys::token(t, &token.hash), token), false).await
    }
    async fn get_token(&self, t: &Tenant, hash: &TokenHash) -> Result<Option<TokenRecord>, StoreError> {
        self.get_item::<TokenItem>(keys::token(t, hash)).await?.map(TokenItem::into_domain).transpose()
    }
    async fn delete_token(&self, t: &Tenant, hash: &TokenHash) -> Result<(), StoreError> {
        self.delete_item(keys::token(t, hash)).await
    }
    async fn create_feed(&self, t: &Tenant, f: &FeedRecord) -> Result<(), StoreError> {
        self.put_item(&FeedItem::new(keys::feed(t, &f.id), f), true).await
    }
    async fn get_feed(&self, t: &Tenant, id: &FeedId) -> Result<Option<FeedRecord>, StoreError> {
        self.get_item::<FeedItem>(keys::feed(t, id)).await?.map(FeedItem::into_domain).transpose()
    }
}

#[async_trait]
impl SubscriptionStore for AwsStore {
    async fn put(&self, t: &Tenant, sub: &Subscription) -> Result<(), StoreError> {
        // One UpdateItem: every attribute is set, but a renewal keeps the
        // first registration time. No read-modify-write.
        let item: Item = serde_dynamo::to_item(SubscriptionItem::new(keys::subscription(t, &sub.feed, &sub.id), sub)).map_err(|e| backend("encode item", e))?;
        let mut sets = Vec::new();
        let mut names = HashMap::new();
        let mut values = HashMap::new();
        for (i, (attr, value)) in item.into_iter().filter(|(a, _)| a != "pk" && a != "sk").enumerate() {
            if attr == CREATED_AT {
                sets.push(format!("#a{i} = if_not_exists(#a{i}, :v{i})"));
            } else {
                sets.push(format!("#a{i} = :v{i}"));
            }
            names.insert(format!("#a{i}"), attr);
            values.insert(format!(":v{i}"), value);
        }
        let k = keys::subscription(t, &sub.feed, &sub.id);
        self.update(k)
            .update_expression(format!("SET {}", sets.join(", ")))
            .set_expression_attribute_names(Some(names))
            .set_expression_attribute_values(Some(values))
            .send()
            .await
            .map_err(|e| backend("put subscription", e))?;
        Ok(())
    }
    async fn list(&self, t: &Tenant, feed: &FeedId) -> Result<Vec<Subscription>, StoreError> {
        let items: Vec<SubscriptionItem> = self.query(keys::subscriptions_pk(t, feed), Some(keys::SUB_PREFIX.into()), None, usize::MAX).await?;
        items.into_iter().map(SubscriptionItem::into_domain).collect()
    }
    async fn record_failure(&self, t: &Tenant, feed: &FeedId, id: &SubscriberId) -> Result<Option<u32>, StoreError> {
        let k = keys::subscription(t, feed, id);
        let out = self.update(k)
            .update_expression("ADD #f :one")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_names("#f", FAILURES)
            .expression_attribute_values(":one", n(1))
            .return_values(ReturnValue::UpdatedNew)
            .send()
            .await;
        match out {
            Ok(o) => Ok(o.attributes.and_then(|a| a.get(FAILURES).and_then(|v| v.as_n().ok()).and_then(|v| v.parse().ok()))),
            Err(e) if condition_failed(&e) => Ok(None),
            Err(e) => Err(backend("record failure", e)),
        }
    }
    async fn reset_failures(&self, t: &Tenant, feed: &FeedId, id: &SubscriberId) -> Result<(), StoreError> {
        let k = keys::subscription(t, feed, id);
        let out = self.update(k)
            .update_expression("SET #f = :zero")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_names("#f", FAILURES)
            .expression_attribute_values(":zero", n(0))
            .send()
            .await;
        match out {
            Ok(_) => Ok(()),
            Err(e) if condition_failed(&e) => Ok(()),
            Err(e) => Err(backend("reset failures", e)),
        }
    }
    async fn delete(&self, t: &Tenant, feed: &FeedId, id: &SubscriberId) -> Result<(), StoreError> {
        self.delete_item(keys::subscription(t, feed, id)).await
    }
}

#[async_trait]
impl InboxStore for AwsStore {
    async fn put_follow(&self, t: &Tenant, f: &Follow) -> Result<(), StoreError> {
        self.put_item(&TenantMark { pk: keys::FOLLOW_TENANTS_PK.to_owned(), sk: t.as_str().to_owned() }, false).await?;
        self.put_item(&FollowItem::new(keys::follow(t, &f.feed_url, &f.account), f), false).await
    }
    async fn follow_tenants(&self) -> Result<Vec<Tenant>, StoreError> {
        let marks: Vec<TenantMark> = self.query(keys::FOLLOW_TENANTS_PK.to_owned(), None, None, usize::MAX).await?;
        Ok(marks.into_iter().filter_map(|m| Tenant::parse(&m.sk).ok()).collect())
    }
    async fn follows_of(&self, t: &Tenant, feed_url: &str) -> Result<Vec<Follow>, StoreError> {
        let items: Vec<FollowItem> = self.query(keys::follows_pk(t), Some(keys::follows_of_prefix(feed_url)), None, usize::MAX).await?;
        items.into_iter().map(FollowItem::into_domain).collect()
    }
    async fn all_follows(&self, t: &Tenant) -> Result<Vec<Follow>, StoreError> {
        let items: Vec<FollowItem> = self.query(keys::follows_pk(t), None, None, usize::MAX).await?;
        items.into_iter().map(FollowItem::into_domain).collect()
    }
    async fn advance_follow(&self, t: &Tenant, feed_url: &str, account: &AccountName, next_seq: u64, etag: Option<&str>) -> Result<(), StoreError> {
        let k = keys::follow(t, feed_url, account);
        let mut req = self.update(k)
            .condition_expression("attribute_exists(pk) AND #n <= :n")
            .expression_attribute_names("#n", NEXT_SEQ)
            .expression_attribute_names("#e", ETAG)
            .expression_attribute_values(":n", n(next_seq));
        req = match etag {
            Some(e) => req.update_expression("SET #n = :n, #e = :e").expression_attribute_values(":e", s(e)),
            None => req.update_expression("SET #n = :n REMOVE #e"),
        };
        match req.send().await {
            Ok(_) => Ok(()),
            Err(e) if condition_failed(&e) => Ok(()),
            Err(e) => Err(backend("advance follow", e)),
        }
    }
    async fn add_item(&self, t: &Tenant, item: &InboxItem) -> Result<bool, StoreError> {
        let entry = InboxEntry::new(keys::inbox_pk(t, &item.account, &item.feed_url), keys::inbox_sk(item.seq), item);
        match self.put_item(&entry, true).await {
            Ok(()) => Ok(true),
            Err(StoreError::PreconditionFailed) => Ok(false),
            Err(e) => Err(e),
        }
    }
    async fn list_items(&self, t: &Tenant, account: &AccountName, feed_url: &str, after: Option<u64>, limit: usize) -> Result<Vec<InboxItem>, StoreError> {
        let items: Vec<InboxEntry> = self.query(keys::inbox_pk(t, account, feed_url), None, after.map(keys::inbox_sk), limit).await?;
        items.into_iter().map(InboxEntry::into_domain).collect()
    }
}
