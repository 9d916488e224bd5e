//! Tunables of the use cases, with the defaults a deployment starts from.

use std::time::Duration;

use cloudim_protocol::Paging;

use crate::tenants::{Admission, Limits};

/// How notifications fan out to subscribers.
#[derive(Debug, Clone)]
pub struct FanoutSettings {
    /// Notifications in flight at once for one feed.
    pub concurrency: usize,
    /// Time allowed for one delivery attempt.
    pub attempt_timeout: Duration,
    /// Extra attempts after the first fails, within one fan-out.
    pub retries: u32,
    /// Wait before the first retry; doubles each time.
    pub backoff: Duration,
    /// Consecutive failed fan-outs after which a subscription is dropped.
    pub max_failures: u32,
}

impl Default for FanoutSettings {
    fn default() -> Self {
        Self {
            concurrency: 256,
            attempt_timeout: Duration::from_secs(5),
            retries: 2,
            backoff: Duration::from_millis(200),
            max_failures: 3,
        }
    }
}

/// Everything the use cases can be tuned by.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Head and archive page sizes.
    pub paging: Paging,
    /// The largest item payload accepted, in bytes.
    pub max_item_bytes: usize,
    /// How long a subscription lives after its last renewal.
    pub subscription_ttl: Duration,
    /// Conditional-write attempts per publish before giving up as busy.
    pub publish_attempts: u32,
    /// Fan-out behaviour.
    pub fanout: FanoutSettings,
    /// Path of our rssCloud callback, registered with remote clouds.
    pub callback_path: String,
    /// The most archive pages walked back when catching up on a followed feed.
    pub max_catch_up_pages: usize,
    /// Discovery and the handshake.
    pub handshake: HandshakeSettings,
    /// How often a waiting inbox watch re-reads the store (for items
    /// recorded by another process).
    pub inbox_poll_interval: Duration,
    /// Follows registered longer ago than this are registered again by
    /// the scheduled renewal (subscriptions lapse after 25 hours).
    pub follow_renew_after: Duration,
    /// Whether anyone may create an account with `POST /accounts`.
    pub open_registration: bool,
    /// Accounts created through open registration per tenant per hour.
    pub registrations_per_hour: u64,
    /// Which hosts are tenants without a registration.
    pub admission: Admission,
    /// The limits of a tenant whose registration does not override them.
    pub tenant_limits: Limits,
    /// How long a process trusts what it read of a tenant's registration.
    pub tenant_cache_ttl: Duration,
}

/// Discovery and handshake tunables.
#[derive(Debug, Clone)]
pub struct HandshakeSettings {
    /// How long a discovery result is reused.
    pub discovery_ttl: Duration,
    /// How long a single-use delivery token lives.
    pub verify_token_ttl: Duration,
    /// How long a conversation token lives.
    pub conversation_token_ttl: Duration,
    /// Notices accepted per sender identity per hour, per tenant.
    pub notices_per_identity_hour: u64,
    /// Notices accepted per sending provider (PM endpoint host) per hour, per tenant.
    pub notices_per_provider_hour: u64,
    /// The scheme of WebFinger lookups: `https`, or `http` for local development.
    pub webfinger_scheme: &'static str,
}

impl Default for HandshakeSettings {
    fn default() -> Self {
        Self {
            discovery_ttl: Duration::from_secs(3600),
            verify_token_ttl: Duration::from_secs(600),
            conversation_token_ttl: Duration::from_secs(365 * 24 * 3600),
            notices_per_identity_hour: 20,
            notices_per_provider_hour: 200,
            webfinger_scheme: "https",
        }
    }
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            paging: Paging::new(50, 50),
            max_item_bytes: 128 * 1024,
            subscription_ttl: Duration::from_secs(25 * 3600),
            publish_attempts: 200,
            fanout: FanoutSettings::default(),
            callback_path: "/rsscloud/callback".to_owned(),
            max_catch_up_pages: 1000,
            handshake: HandshakeSettings::default(),
            inbox_poll_interval: Duration::from_millis(500),
            follow_renew_after: Duration::from_secs(12 * 3600),
            open_registration: false,
            registrations_per_hour: 60,
            admission: Admission::AnyHost,
            tenant_limits: Limits::default(),
            tenant_cache_ttl: Duration::from_secs(30),
        }
    }
}
