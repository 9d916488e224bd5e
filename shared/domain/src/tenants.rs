//! Tenants: which domains a deployment serves, and the limits each lives
//! within (accounts, publishes per minute, stored bytes).
//!
//! A tenant is served when the deployment's configuration lists it (or
//! serves any host, for local development) or when an operator registered
//! it with the admin command; adding a tenant never needs a redeploy.
//! Each request checks its tenant against a short-lived in-process cache,
//! so registrations reach every Lambda instance within
//! [`Settings::tenant_cache_ttl`](crate::Settings).

use std::collections::{BTreeSet, HashMap};
use std::sync::Mutex;

use cloudim_protocol::Tenant;
use serde::{Deserialize, Serialize};

use crate::{Error, Provider, StoreError};

/// Limits a tenant lives within. The deployment's defaults are one of
/// these; a tenant's record may override each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limits {
    /// Accounts the tenant may hold.
    pub max_accounts: u64,
    /// Items its accounts may publish per minute, together.
    pub publishes_per_minute: u64,
    /// Bytes of item payloads its feeds may hold.
    pub max_storage_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self { max_accounts: 10_000, publishes_per_minute: 6_000, max_storage_bytes: 10 * 1024 * 1024 * 1024 }
    }
}

/// A tenant's own overrides of the deployment's default limits.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LimitOverrides {
    /// Overrides [`Limits::max_accounts`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_accounts: Option<u64>,
    /// Overrides [`Limits::publishes_per_minute`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub publishes_per_minute: Option<u64>,
    /// Overrides [`Limits::max_storage_bytes`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_storage_bytes: Option<u64>,
}

impl LimitOverrides {
    /// These overrides over `defaults`.
    pub fn over(&self, defaults: Limits) -> Limits {
        Limits {
            max_accounts: self.max_accounts.unwrap_or(defaults.max_accounts),
            publishes_per_minute: self.publishes_per_minute.unwrap_or(defaults.publishes_per_minute),
            max_storage_bytes: self.max_storage_bytes.unwrap_or(defaults.max_storage_bytes),
        }
    }

    /// `self` with every override `newer` sets replacing the old one.
    pub fn merged(self, newer: LimitOverrides) -> Self {
        Self {
            max_accounts: newer.max_accounts.or(self.max_accounts),
            publishes_per_minute: newer.publishes_per_minute.or(self.publishes_per_minute),
            max_storage_bytes: newer.max_storage_bytes.or(self.max_storage_bytes),
        }
    }
}

/// A tenant an operator registered (the admin command).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TenantRecord {
    /// The domain.
    pub tenant: Tenant,
    /// Its limits, where they differ from the deployment's defaults.
    pub limits: LimitOverrides,
    /// When it was registered (Unix seconds).
    pub created_at: u64,
    /// When it was last changed (Unix seconds).
    pub updated_at: u64,
}

/// What a tenant uses of its metered limits. Field names are the meters'
/// names ([`Meter::as_str`]); a meter never used reads as zero.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Usage {
    /// Accounts held.
    pub accounts: u64,
    /// Bytes of item payloads stored.
    pub storage_bytes: u64,
}

/// A metered quantity of a tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Meter {
    /// Accounts held.
    Accounts,
    /// Bytes of item payloads stored.
    StorageBytes,
}

impl Usage {
    /// The count of one meter.
    pub fn meter_mut(&mut self, meter: Meter) -> &mut u64 {
        match meter {
            Meter::Accounts => &mut self.accounts,
            Meter::StorageBytes => &mut self.storage_bytes,
        }
    }
}

impl Meter {
    /// The attribute or field name the stores use.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Accounts => "accounts",
            Self::StorageBytes => "storage_bytes",
        }
    }
}

/// The meter arithmetic every store shares: `current + delta` (never
/// below zero), or `None` when a `max` is given and the result would pass it.
pub fn apply_usage(current: u64, delta: i64, max: Option<u64>) -> Option<u64> {
    let next = current.saturating_add_signed(delta);
    match max {
        Some(max) if delta > 0 && next > max => None,
        _ => Some(next),
    }
}

/// Which hosts a deployment serves without a registration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Admission {
    /// Every host is a tenant (local development; a single-domain provider
    /// behind a proxy that only forwards its own host).
    AnyHost,
    /// These hosts, plus every tenant registered with the admin command.
    Listed(BTreeSet<Tenant>),
}

impl Admission {
    /// Parses the configured list: `*` for any host, else comma-separated domains.
    pub fn parse(list: &str) -> Result<Self, String> {
        let list = list.trim();
        if list == "*" {
            return Ok(Self::AnyHost);
        }
        let mut set = BTreeSet::new();
        for d in list.split(',').map(str::trim).filter(|d| !d.is_empty()) {
            set.insert(Tenant::parse(d).map_err(|e| format!("tenant domain {d:?}: {e}"))?);
        }
        Ok(Self::Listed(set))
    }
}

/// A tenant's standing, as checked at the start of each request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantPolicy {
    /// The limits in force.
    pub limits: Limits,
    /// Whether an operator registered it (else it is served by configuration).
    pub registered: bool,
}

/// Caches tenant lookups per process for a short while.
#[derive(Default)]
pub(crate) struct TenantCache(Mutex<HashMap<Tenant, (u64, Option<TenantRecord>)>>);

/// Entries kept before the cache starts over (a flood of unknown hosts).
const CACHE_ENTRIES: usize = 10_000;

impl TenantCache {
    fn get(&self, tenant: &Tenant, now: u64, ttl: u64) -> Option<Option<TenantRecord>> {
        let map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        map.get(tenant).filter(|(at, _)| now < at + ttl).map(|(_, r)| r.clone())
    }

    fn put(&self, tenant: &Tenant, now: u64, record: Option<TenantRecord>) {
        let mut map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() >= CACHE_ENTRIES {
            map.clear();
        }
        map.insert(tenant.clone(), (now, record));
    }

    fn forget(&self, tenant: &Tenant) {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).remove(tenant);
    }
}

/// A tenant's registration, limits and usage, for operators.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TenantStatus {
    /// The domain.
    pub tenant: Tenant,
    /// Whether an operator registered it.
    pub registered: bool,
    /// Whether the configuration lists it (or serves any host).
    pub configured: bool,
    /// The limits in force.
    pub limits: Limits,
    /// What it uses.
    pub usage: Usage,
}

impl Provider {
    /// Whether this deployment serves `tenant`, and under which limits.
    /// Answers [`Error::UnknownTenant`] for a host it does not serve.
    pub async fn admit(&self, tenant: &Tenant) -> Result<TenantPolicy, Error> {
        let record = self.tenant_record(tenant).await?;
        let configured = self.is_configured(tenant);
        if record.is_none() && !configured {
            return Err(Error::UnknownTenant(format!("this provider serves no tenant at {tenant}")));
        }
        Ok(TenantPolicy { limits: self.limits_of(record.as_ref()), registered: record.is_some() })
    }

    /// The limits in force: the registration's overrides over the defaults.
    fn limits_of(&self, record: Option<&TenantRecord>) -> Limits {
        record.map_or(self.settings.tenant_limits, |r| r.limits.over(self.settings.tenant_limits))
    }

    fn is_configured(&self, tenant: &Tenant) -> bool {
        match &self.settings.admission {
            Admission::AnyHost => true,
            Admission::Listed(set) => set.contains(tenant),
        }
    }

    async fn tenant_record(&self, tenant: &Tenant) -> Result<Option<TenantRecord>, Error> {
        let now = self.ports.clock.now();
        let ttl = self.settings.tenant_cache_ttl.as_secs();
        if let Some(hit) = self.tenants_cache.get(tenant, now, ttl) {
            return Ok(hit);
        }
        let record = self.ports.tenants.get_tenant(tenant).await?;
        self.tenants_cache.put(tenant, now, record.clone());
        Ok(record)
    }

    /// Registers a tenant, or changes the limits of a registered one (only
    /// the limits given change). The admin command.
    pub async fn put_tenant(&self, tenant: &Tenant, limits: LimitOverrides) -> Result<TenantStatus, Error> {
        let now = self.ports.clock.now();
        let record = match self.ports.tenants.get_tenant(tenant).await? {
            Some(old) => TenantRecord { limits: old.limits.merged(limits), updated_at: now, ..old },
            None => TenantRecord { tenant: tenant.clone(), limits, created_at: now, updated_at: now },
        };
        self.ports.tenants.put_tenant(&record).await?;
        self.tenants_cache.forget(tenant);
        tracing::info!(tenant = %tenant, "tenant registered");
        self.tenant_status(tenant).await
    }

    /// A tenant's registration, limits and usage.
    pub async fn tenant_status(&self, tenant: &Tenant) -> Result<TenantStatus, Error> {
        let record = self.ports.tenants.get_tenant(tenant).await?;
        let configured = self.is_configured(tenant);
        if record.is_none() && !configured {
            return Err(Error::NotFound(format!("{tenant} is neither registered nor configured")));
        }
        let usage = self.ports.tenants.usage(tenant).await?;
        Ok(TenantStatus { tenant: tenant.clone(), registered: record.is_some(), configured, limits: self.limits_of(record.as_ref()), usage })
    }

    /// Every registered tenant and every configured one, with limits and usage.
    pub async fn tenants(&self) -> Result<Vec<TenantStatus>, Error> {
        let mut names: BTreeSet<Tenant> = self.ports.tenants.list_tenants().await?.into_iter().map(|r| r.tenant).collect();
        if let Admission::Listed(set) = &self.settings.admission {
            names.extend(set.iter().cloned());
        }
        let mut out = Vec::with_capacity(names.len());
        for t in names {
            out.push(self.tenant_status(&t).await?);
        }
        Ok(out)
    }

    /// Takes `amount` of a metered limit (of the `limits` the caller's
    /// [`admit`](Self::admit) returned), or refuses with the limit named and
    /// nothing taken.
    pub(crate) async fn take(&self, tenant: &Tenant, limits: &Limits, meter: Meter, amount: u64) -> Result<(), Error> {
        let (max, refusal) = match meter {
            Meter::Accounts => (limits.max_accounts, format!("{tenant} has reached its limit of {} accounts (max_accounts)", limits.max_accounts)),
            Meter::StorageBytes => (
                limits.max_storage_bytes,
                format!("{tenant} has reached its storage limit of {} bytes (max_storage_bytes); nothing was stored", limits.max_storage_bytes),
            ),
        };
        match self.ports.tenants.add_usage(tenant, meter, amount as i64, Some(max)).await {
            Ok(_) => Ok(()),
            Err(StoreError::PreconditionFailed) => Err(Error::LimitReached(refusal)),
            Err(e) => Err(e.into()),
        }
    }

    /// Gives back what [`take`](Self::take) took, when the operation failed.
    pub(crate) async fn give_back(&self, tenant: &Tenant, meter: Meter, amount: u64) {
        if let Err(e) = self.ports.tenants.add_usage(tenant, meter, -(amount as i64), None).await {
            tracing::warn!(tenant = %tenant, meter = meter.as_str(), error = %e, "could not give back usage");
        }
    }

    /// Counts one publish against the tenant's per-minute limit.
    pub(crate) async fn count_publish(&self, tenant: &Tenant, limits: &Limits) -> Result<(), Error> {
        let max = limits.publishes_per_minute;
        self.limit_window(tenant, "publishes".to_owned(), max, 60, &format!("publishes on {tenant}: at most {max} per minute (publishes_per_minute)")).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admission_parses_any_host_and_lists() {
        assert_eq!(Admission::parse("*"), Ok(Admission::AnyHost));
        let Ok(Admission::Listed(set)) = Admission::parse(" A.example, b.example ,") else { panic!("a list") };
        assert_eq!(set.iter().map(Tenant::as_str).collect::<Vec<_>>(), ["a.example", "b.example"]);
        assert!(Admission::parse("a.example,../x").is_err());
    }

    #[test]
    fn usage_stays_within_max_and_above_zero() {
        assert_eq!(apply_usage(4, 1, Some(5)), Some(5));
        assert_eq!(apply_usage(5, 1, Some(5)), None);
        assert_eq!(apply_usage(0, 6, Some(5)), None);
        assert_eq!(apply_usage(5, -1, Some(0)), Some(4));
        assert_eq!(apply_usage(1, -3, None), Some(0));
    }

    #[test]
    fn overrides_replace_only_what_they_set() {
        let d = Limits { max_accounts: 5, publishes_per_minute: 6, max_storage_bytes: 7 };
        let o = LimitOverrides { max_accounts: Some(1), ..Default::default() };
        assert_eq!(o.over(d), Limits { max_accounts: 1, ..d });
        let m = o.merged(LimitOverrides { max_storage_bytes: Some(9), ..Default::default() });
        assert_eq!(m.over(d), Limits { max_accounts: 1, publishes_per_minute: 6, max_storage_bytes: 9 });
    }
}
