//! Feed documents as S3 objects with conditional writes.

use async_trait::async_trait;
use aws_sdk_s3::primitives::ByteStream;
use bytes::Bytes;
use cloudim_domain::{DocKey, FeedStore, PutCondition, StoreError, StoredDoc};
use cloudim_protocol::Tenant;

use crate::{AwsStore, backend, keys};

#[async_trait]
impl FeedStore for AwsStore {
    async fn get(&self, tenant: &Tenant, key: &DocKey) -> Result<Option<StoredDoc>, StoreError> {
        let out = self.s3.get_object().bucket(&self.names.bucket).key(keys::object(tenant, key)).send().await;
        match out {
            Ok(o) => {
                let etag = o.e_tag().unwrap_or_default().to_owned();
                let body = o.body.collect().await.map_err(|e| backend("read object", e))?.into_bytes();
                Ok(Some(StoredDoc { body, etag }))
            }
            Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_key()) => Ok(None),
            Err(e) => Err(backend("get object", e)),
        }
    }

    async fn put(&self, tenant: &Tenant, key: &DocKey, body: Bytes, cond: PutCondition) -> Result<String, StoreError> {
        let content_type = match key {
            DocKey::ItemMarker(..) => "text/plain",
            _ => "application/rss+xml; charset=utf-8",
        };
        let mut req = self
            .s3
            .put_object()
            .bucket(&self.names.bucket)
            .key(keys::object(tenant, key))
            .content_type(content_type)
            .body(ByteStream::from(body));
        req = match &cond {
            PutCondition::Always => req,
            PutCondition::IfAbsent => req.if_none_match("*"),
            PutCondition::IfMatch(etag) => req.if_match(etag),
        };
        match req.send().await {
            Ok(o) => Ok(o.e_tag().unwrap_or_default().to_owned()),
            Err(e) => {
                // 412: the condition failed; 409: a concurrent conditional
                // write is in progress; 404: If-Match on a missing object.
                let status = e.raw_response().map(|r| r.status().as_u16());
                if matches!(status, Some(412 | 409)) || (status == Some(404) && cond != PutCondition::Always) {
                    Err(StoreError::PreconditionFailed)
                } else {
                    Err(backend("put object", e))
                }
            }
        }
    }
}
