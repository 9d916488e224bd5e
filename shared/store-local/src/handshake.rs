//! Keys, invitations, conversations, handshake tokens, blocks, counters and
//! the discovery cache as JSON records on disk (the domain records' own
//! serde form).

use async_trait::async_trait;
use cloudim_domain::*;
use cloudim_protocol::{AccountName, Identity, InvitationId, Tenant};

use crate::{LocalStore, list_json, read_json, remove, write_json};

#[async_trait]
impl HandshakeStore for LocalStore {
    async fn put_key(&self, t: &Tenant, key: &AccountKey) -> Result<(), StoreError> {
        write_json(&self.key_path(t, &key.account), key).await
    }
    async fn get_key(&self, t: &Tenant, account: &AccountName) -> Result<Option<AccountKey>, StoreError> {
        read_json(&self.key_path(t, account)).await
    }
    async fn put_invitation(&self, t: &Tenant, inv: &Invitation) -> Result<(), StoreError> {
        write_json(&self.invitation_path(t, &inv.account, &inv.id), inv).await
    }
    async fn get_invitation(&self, t: &Tenant, account: &AccountName, id: &InvitationId) -> Result<Option<Invitation>, StoreError> {
        read_json(&self.invitation_path(t, account, id)).await
    }
    async fn list_invitations(&self, t: &Tenant, account: &AccountName) -> Result<Vec<Invitation>, StoreError> {
        list_json(&self.invitations_dir(t, account)).await
    }
    async fn put_conversation(&self, t: &Tenant, c: &Conversation) -> Result<(), StoreError> {
        write_json(&self.conversation_path(t, &c.account, &c.peer), c).await
    }
    async fn list_conversations(&self, t: &Tenant, account: &AccountName) -> Result<Vec<Conversation>, StoreError> {
        list_json(&self.conversations_dir(t, account)).await
    }
    async fn put_handshake_token(&self, t: &Tenant, token: &HandshakeToken) -> Result<(), StoreError> {
        write_json(&self.handshake_token_path(t, &token.hash), token).await
    }
    async fn take_handshake_token(&self, t: &Tenant, hash: &TokenHash) -> Result<Option<HandshakeToken>, StoreError> {
        let path = self.handshake_token_path(t, hash);
        let _guard = self.write_lock.lock().await;
        let found = read_json(&path).await?;
        remove(&path).await?;
        Ok(found)
    }
    async fn get_handshake_token(&self, t: &Tenant, hash: &TokenHash) -> Result<Option<HandshakeToken>, StoreError> {
        read_json(&self.handshake_token_path(t, hash)).await
    }
    async fn put_block(&self, t: &Tenant, account: &AccountName, peer: &Identity, at: u64) -> Result<(), StoreError> {
        write_json(&self.block_path(t, account, peer), &serde_json::json!({ "peer": peer, "at": at })).await
    }
    async fn is_blocked(&self, t: &Tenant, account: &AccountName, peer: &Identity) -> Result<bool, StoreError> {
        Ok(tokio::fs::try_exists(self.block_path(t, account, peer)).await.unwrap_or(false))
    }
    async fn count(&self, t: &Tenant, key: &str, window: u64, expires_at: u64) -> Result<u64, StoreError> {
        let path = self.counter_path(t, key, window);
        let _guard = self.write_lock.lock().await;
        let n = read_json::<serde_json::Value>(&path).await?.and_then(|v| v["count"].as_u64()).unwrap_or(0) + 1;
        write_json(&path, &serde_json::json!({ "count": n, "expires_at": expires_at })).await?;
        Ok(n)
    }
}

#[async_trait]
impl DiscoveryCache for LocalStore {
    async fn get_discovered(&self, t: &Tenant, identity: &Identity) -> Result<Option<Discovered>, StoreError> {
        read_json(&self.discovered_path(t, identity)).await
    }
    async fn put_discovered(&self, t: &Tenant, entry: &Discovered) -> Result<(), StoreError> {
        write_json(&self.discovered_path(t, &entry.identity), entry).await
    }
}
