//! Keys, invitations, conversations, handshake tokens, blocks, counters and
//! the discovery cache in the one DynamoDB table.

use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};
use async_trait::async_trait;
use cloudim_domain::*;
use cloudim_protocol::{AccountName, Identity, InvitationId, Tenant};

use crate::keys::{self, Key};
use crate::records::{COUNT, JsonItem};
use crate::{AwsStore, backend};

impl AwsStore {
    pub(crate) async fn put_json<T: serde::Serialize>(&self, k: Key, record: &T, expires_at: Option<u64>) -> Result<(), StoreError> {
        self.put_item(&JsonItem::new(k, record, expires_at)?, false).await
    }

    pub(crate) async fn get_json<T: serde::de::DeserializeOwned>(&self, k: Key) -> Result<Option<T>, StoreError> {
        self.get_item::<JsonItem>(k).await?.map(JsonItem::into_domain).transpose()
    }

    pub(crate) async fn list_json<T: serde::de::DeserializeOwned>(&self, pk: String) -> Result<Vec<T>, StoreError> {
        let items: Vec<JsonItem> = self.query(pk, None, None, usize::MAX).await?;
        items.into_iter().map(JsonItem::into_domain).collect()
    }
}

#[async_trait]
impl HandshakeStore for AwsStore {
    async fn put_key(&self, t: &Tenant, key: &AccountKey) -> Result<(), StoreError> {
        self.put_json(keys::account_key(t, &key.account), key, None).await
    }
    async fn get_key(&self, t: &Tenant, account: &AccountName) -> Result<Option<AccountKey>, StoreError> {
        self.get_json(keys::account_key(t, account)).await
    }
    async fn put_invitation(&self, t: &Tenant, inv: &Invitation) -> Result<(), StoreError> {
        self.put_json(keys::invitation(t, &inv.account, &inv.id), inv, None).await
    }
    async fn get_invitation(&self, t: &Tenant, account: &AccountName, id: &InvitationId) -> Result<Option<Invitation>, StoreError> {
        self.get_json(keys::invitation(t, account, id)).await
    }
    async fn list_invitations(&self, t: &Tenant, account: &AccountName) -> Result<Vec<Invitation>, StoreError> {
        self.list_json(keys::invitations_pk(t, account)).await
    }
    async fn put_conversation(&self, t: &Tenant, c: &Conversation) -> Result<(), StoreError> {
        self.put_json(keys::conversation(t, &c.account, &c.peer), c, None).await
    }
    async fn list_conversations(&self, t: &Tenant, account: &AccountName) -> Result<Vec<Conversation>, StoreError> {
        self.list_json(keys::conversations_pk(t, account)).await
    }
    async fn put_handshake_token(&self, t: &Tenant, token: &HandshakeToken) -> Result<(), StoreError> {
        self.put_json(keys::handshake_token(t, &token.hash), token, Some(token.expires_at)).await
    }
    async fn take_handshake_token(&self, t: &Tenant, hash: &TokenHash) -> Result<Option<HandshakeToken>, StoreError> {
        // One DeleteItem returning the old item: of two concurrent takers,
        // only one sees the token.
        let k = keys::handshake_token(t, hash);
        let out = self
            .ddb
            .delete_item()
            .table_name(&self.names.table)
            .key("pk", AttributeValue::S(k.pk))
            .key("sk", AttributeValue::S(k.sk))
            .return_values(ReturnValue::AllOld)
            .send()
            .await
            .map_err(|e| backend("take token", e))?;
        match out.attributes {
            Some(item) if !item.is_empty() => {
                let rec: JsonItem = serde_dynamo::from_item(item).map_err(|e| backend("decode item", e))?;
                rec.into_domain().map(Some)
            }
            _ => Ok(None),
        }
    }
    async fn get_handshake_token(&self, t: &Tenant, hash: &TokenHash) -> Result<Option<HandshakeToken>, StoreError> {
        self.get_json(keys::handshake_token(t, hash)).await
    }
    async fn put_block(&self, t: &Tenant, account: &AccountName, peer: &Identity, at: u64) -> Result<(), StoreError> {
        self.put_json(keys::block(t, account, peer), &serde_json::json!({ "peer": peer, "at": at }), None).await
    }
    async fn is_blocked(&self, t: &Tenant, account: &AccountName, peer: &Identity) -> Result<bool, StoreError> {
        Ok(self.get_item::<JsonItem>(keys::block(t, account, peer)).await?.is_some())
    }
    async fn count(&self, t: &Tenant, key: &str, window: u64, expires_at: u64) -> Result<u64, StoreError> {
        let out = self
            .update(keys::counter(t, key, window))
            .update_expression("ADD #c :one SET expires_at = :e")
            .expression_attribute_names("#c", COUNT)
            .expression_attribute_values(":one", AttributeValue::N("1".into()))
            .expression_attribute_values(":e", AttributeValue::N(expires_at.to_string()))
            .return_values(ReturnValue::UpdatedNew)
            .send()
            .await
            .map_err(|e| backend("count", e))?;
        out.attributes
            .and_then(|a| a.get(COUNT).and_then(|v| v.as_n().ok()).and_then(|v| v.parse().ok()))
            .ok_or_else(|| StoreError::Backend("dynamodb: the counter update returned no count".into()))
    }
}

#[async_trait]
impl DiscoveryCache for AwsStore {
    async fn get_discovered(&self, t: &Tenant, identity: &Identity) -> Result<Option<Discovered>, StoreError> {
        self.get_json(keys::discovered(t, identity)).await
    }
    async fn put_discovered(&self, t: &Tenant, entry: &Discovered) -> Result<(), StoreError> {
        self.put_json(keys::discovered(t, &entry.identity), entry, Some(entry.expires_at)).await
    }
}
