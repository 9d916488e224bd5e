//! Registered tenants (one partition, `TENANTS`) and each tenant's usage
//! meters (one item per tenant, updated with conditional `ADD`s).

use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};
use async_trait::async_trait;
use cloudim_domain::{Meter, StoreError, TenantRecord, TenantStore, Usage};
use cloudim_protocol::Tenant;

use crate::keys;
use crate::tables::condition_failed;
use crate::{AwsStore, backend};

#[async_trait]
impl TenantStore for AwsStore {
    async fn put_tenant(&self, record: &TenantRecord) -> Result<(), StoreError> {
        self.put_json(keys::tenant(&record.tenant), record, None).await
    }
    async fn get_tenant(&self, t: &Tenant) -> Result<Option<TenantRecord>, StoreError> {
        self.get_json(keys::tenant(t)).await
    }
    async fn list_tenants(&self) -> Result<Vec<TenantRecord>, StoreError> {
        self.list_json(keys::TENANTS_PK.to_owned()).await
    }
    async fn add_usage(&self, t: &Tenant, meter: Meter, delta: i64, max: Option<u64>) -> Result<u64, StoreError> {
        let mut req = self
            .update(keys::usage(t))
            .update_expression("ADD #m :d")
            .expression_attribute_names("#m", meter.as_str())
            .expression_attribute_values(":d", AttributeValue::N(delta.to_string()))
            .return_values(ReturnValue::UpdatedNew);
        // One conditional update: the meter moves only if the result stays
        // within the limit (or, giving back, does not go below zero).
        if delta > 0 {
            if let Some(max) = max {
                let Some(room) = max.checked_sub(delta as u64) else { return Err(StoreError::PreconditionFailed) };
                req = req.condition_expression("attribute_not_exists(#m) OR #m <= :room").expression_attribute_values(":room", AttributeValue::N(room.to_string()));
            }
        } else if delta < 0 {
            req = req.condition_expression("#m >= :back").expression_attribute_values(":back", AttributeValue::N(delta.unsigned_abs().to_string()));
        }
        match req.send().await {
            Ok(out) => Ok(out.attributes.and_then(|a| a.get(meter.as_str()).and_then(|v| v.as_n().ok()).and_then(|v| v.parse().ok())).unwrap_or(0)),
            Err(e) if condition_failed(&e) => Err(StoreError::PreconditionFailed),
            Err(e) => Err(backend("usage", e)),
        }
    }
    async fn usage(&self, t: &Tenant) -> Result<Usage, StoreError> {
        // The meters are the item's number attributes, named as Usage's fields.
        Ok(self.get_item::<Usage>(keys::usage(t)).await?.unwrap_or_default())
    }
}
