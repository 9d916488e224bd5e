//! The provider: every port and setting the use cases need, built once at
//! start and shared by every request.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use cloudim_protocol::{FeedId, Tenant};
use tokio::sync::Mutex;

use crate::{AccountStore, Clock, DiscoveryCache, Dispatcher, FeedStore, Federation, HandshakeStore, InboxStore, Outbound, Settings, SubscriptionStore, TenantStore};

const LOCK_STRIPES: usize = 64;

/// The ports and settings of one provider. Cheap to share behind an `Arc`.
pub struct Provider {
    /// Storage, network and runtime.
    pub ports: Ports,
    /// Tunables.
    pub settings: Settings,
    /// Striped in-process locks that keep this process's own publishes to
    /// one feed from racing each other; conditional writes still guard
    /// against every other process.
    feed_locks: Vec<Mutex<()>>,
    /// Wakes this process's inbox watchers.
    pub signals: crate::watch::InboxSignals,
    /// What this process last read of each tenant's registration.
    pub(crate) tenants_cache: crate::tenants::TenantCache,
}

/// The ports a provider is built from.
pub struct Ports {
    /// Feed documents.
    pub feeds: Arc<dyn FeedStore>,
    /// Accounts, tokens and feed ownership.
    pub accounts: Arc<dyn AccountStore>,
    /// rssCloud subscriptions.
    pub subscriptions: Arc<dyn SubscriptionStore>,
    /// Follows and received items.
    pub inbox: Arc<dyn InboxStore>,
    /// Keys, invitations, conversations, handshake tokens, blocks, counters.
    pub handshake: Arc<dyn HandshakeStore>,
    /// The discovery cache.
    pub discovery: Arc<dyn DiscoveryCache>,
    /// Registered tenants and their usage.
    pub tenants: Arc<dyn TenantStore>,
    /// Outbound HTTP for rssCloud.
    pub outbound: Arc<dyn Outbound>,
    /// Outbound HTTP for discovery and the handshake.
    pub federation: Arc<dyn Federation>,
    /// Where fan-outs are handed off.
    pub dispatcher: Arc<dyn Dispatcher>,
    /// The time.
    pub clock: Arc<dyn Clock>,
}

impl Provider {
    /// Assembles a provider.
    pub fn new(ports: Ports, settings: Settings) -> Self {
        Self {
            ports,
            settings,
            feed_locks: (0..LOCK_STRIPES).map(|_| Mutex::new(())).collect(),
            signals: crate::watch::InboxSignals::default(),
            tenants_cache: Default::default(),
        }
    }

    pub(crate) fn feed_lock(&self, tenant: &Tenant, feed: &FeedId) -> &Mutex<()> {
        let mut h = DefaultHasher::new();
        (tenant, feed).hash(&mut h);
        &self.feed_locks[(h.finish() as usize) % LOCK_STRIPES]
    }
}
