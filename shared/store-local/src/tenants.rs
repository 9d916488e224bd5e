//! Registered tenants (`registry/{tenant}.json`) and each tenant's usage
//! meters (`tenants/{tenant}/usage.json`).

use async_trait::async_trait;
use cloudim_domain::tenants::apply_usage;
use cloudim_domain::{Meter, StoreError, TenantRecord, TenantStore, Usage};
use cloudim_protocol::Tenant;

use crate::{LocalStore, list_json, read_json, write_json};

#[async_trait]
impl TenantStore for LocalStore {
    async fn put_tenant(&self, record: &TenantRecord) -> Result<(), StoreError> {
        write_json(&self.registry_path(&record.tenant), record).await
    }
    async fn get_tenant(&self, t: &Tenant) -> Result<Option<TenantRecord>, StoreError> {
        read_json(&self.registry_path(t)).await
    }
    async fn list_tenants(&self) -> Result<Vec<TenantRecord>, StoreError> {
        list_json(&self.registry_dir()).await
    }
    async fn add_usage(&self, t: &Tenant, meter: Meter, delta: i64, max: Option<u64>) -> Result<u64, StoreError> {
        let path = self.usage_path(t);
        let _guard = self.write_lock.lock().await;
        let mut usage: Usage = read_json(&path).await?.unwrap_or_default();
        let slot = usage.meter_mut(meter);
        *slot = apply_usage(*slot, delta, max).ok_or(StoreError::PreconditionFailed)?;
        let now = *slot;
        write_json(&path, &usage).await?;
        Ok(now)
    }
    async fn usage(&self, t: &Tenant) -> Result<Usage, StoreError> {
        Ok(read_json(&self.usage_path(t)).await?.unwrap_or_default())
    }
}
