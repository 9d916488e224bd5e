//! Feed documents on disk, with content-hash ETags and conditional writes.

use async_trait::async_trait;
use bytes::Bytes;
use cloudim_domain::{DocKey, FeedStore, PutCondition, StoreError, StoredDoc};
use cloudim_protocol::Tenant;
use sha2::{Digest, Sha256};

use crate::{LocalStore, read_bytes, write_bytes};

fn etag_of(body: &[u8]) -> String {
    format!("\"{}\"", hex::encode(&Sha256::digest(body)[..16]))
}

#[async_trait]
impl FeedStore for LocalStore {
    async fn get(&self, tenant: &Tenant, key: &DocKey) -> Result<Option<StoredDoc>, StoreError> {
        Ok(read_bytes(&self.doc_path(tenant, key)).await?.map(|b| {
            let etag = etag_of(&b);
            StoredDoc { body: Bytes::from(b), etag }
        }))
    }

    async fn put(&self, tenant: &Tenant, key: &DocKey, body: Bytes, cond: PutCondition) -> Result<String, StoreError> {
        let path = self.doc_path(tenant, key);
        let _guard = self.write_lock.lock().await;
        if cond != PutCondition::Always {
            let current = read_bytes(&path).await?.map(|b| etag_of(&b));
            let holds = match (&cond, &current) {
                (PutCondition::IfAbsent, None) => true,
                (PutCondition::IfMatch(want), Some(have)) => want == have,
                _ => false,
            };
            if !holds {
                return Err(StoreError::PreconditionFailed);
            }
        }
        write_bytes(&path, &body).await?;
        Ok(etag_of(&body))
    }
}
