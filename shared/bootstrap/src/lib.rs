//! The one place that reads configuration and builds clients and state.
//! Everything is built once at start; a bad configuration fails there,
//! never per request.

mod config;
mod run;

pub use config::{Config, StoreKind};
pub use run::{init_tracing, lambda_router, run_lambda, serve_local};

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use cloudim_domain::dispatch::{LocalDispatcher, run_fanouts};
use cloudim_domain::{
    AccountStore, Admission, DiscoveryCache, Dispatcher, FanoutSettings, FeedStore, HandshakeSettings, HandshakeStore, InboxStore, Limits, Ports, Provider, Settings, SubscriptionStore, SystemClock, TenantStore,
};
use cloudim_http::AppState;
use cloudim_http::state::Secret;
use cloudim_net::{HttpOutbound, OutboundPolicy};
use cloudim_protocol::Paging;

/// Everything built from a configuration.
pub struct Built {
    /// The state every router shares.
    pub state: AppState,
    /// The fan-out worker (runs until the provider is dropped).
    pub fanout: tokio::task::JoinHandle<()>,
}

/// The whole of a Lambda function's `main`: logging, configuration from
/// `CLOUDIM_*` variables, state built once, then `router` on the runtime.
pub async fn run_function(router: fn(AppState) -> axum::Router) -> Result<(), lambda_http::Error> {
    init_tracing();
    let config = Config::from_env()?;
    let built = build(&config).await?;
    run_lambda(router(built.state)).await
}

/// Renews our follows every `every`, until the provider is dropped.
async fn renew_periodically(provider: std::sync::Weak<Provider>, every: Duration) {
    let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    loop {
        tick.tick().await;
        let Some(p) = provider.upgrade() else { break };
        match p.renew_due().await {
            Ok(0) => {}
            Ok(n) => tracing::info!(renewed = n, "follows renewed"),
            Err(e) => tracing::warn!(error = %e, "renewing follows failed"),
        }
    }
}

/// Builds the provider and the handler state from configuration.
pub async fn build(config: &Config) -> anyhow::Result<Built> {
    build_with_sdk(config, None).await
}

/// Like [`build`], with an AWS SDK configuration given instead of loaded
/// from the environment (tests against an emulator).
pub async fn build_with_sdk(config: &Config, sdk: Option<aws_config::SdkConfig>) -> anyhow::Result<Built> {
    let admission = Admission::parse(&config.tenants).map_err(|e| anyhow::anyhow!("CLOUDIM_TENANTS: {e}"))?;
    #[allow(clippy::type_complexity)]
    let (feeds, accounts, subscriptions, inbox, handshake, discovery, tenants): (
        Arc<dyn FeedStore>,
        Arc<dyn AccountStore>,
        Arc<dyn SubscriptionStore>,
        Arc<dyn InboxStore>,
        Arc<dyn HandshakeStore>,
        Arc<dyn DiscoveryCache>,
        Arc<dyn TenantStore>,
    ) =
        match config.store {
            StoreKind::Local => {
                let store = Arc::new(cloudim_store_local::LocalStore::open(&config.data_dir).await.with_context(|| format!("opening the data directory {}", config.data_dir.display()))?);
                tracing::info!(data_dir = %config.data_dir.display(), "embedded store");
                (store.clone(), store.clone(), store.clone(), store.clone(), store.clone(), store.clone(), store)
            }
            StoreKind::Aws => {
                let sdk = match &sdk {
                    Some(sdk) => sdk.clone(),
                    None => aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await,
                };
                let names = cloudim_store_aws::AwsNames { bucket: config.bucket.clone(), table: config.table.clone() };
                let store = Arc::new(cloudim_store_aws::AwsStore::new(&sdk, names));
                if config.create_resources {
                    store.ensure_resources().await.context("creating the bucket and table")?;
                }
                tracing::info!(bucket = %config.bucket, table = %config.table, endpoint = sdk.endpoint_url().unwrap_or("aws"), "AWS store");
                (store.clone(), store.clone(), store.clone(), store.clone(), store.clone(), store.clone(), store)
            }
        };
    // The Lambda runtime API is never a destination, whatever else is allowed.
    let deny = std::env::var("AWS_LAMBDA_RUNTIME_API").ok().into_iter().collect();
    let policy = OutboundPolicy { allow_private: config.allow_private_targets, allow: config.outbound_allow.clone(), deny };
    // WebFinger is https, except in local development (private targets or an allowlist).
    let webfinger_scheme = if policy.allow_private || !policy.allow.is_empty() { "http" } else { "https" };
    if policy.allow_private {
        tracing::warn!("outbound requests to private and loopback addresses are allowed (local development only)");
    }
    let outbound = Arc::new(HttpOutbound::new(policy, Duration::from_millis(config.fanout_timeout_ms)).context("building the HTTP client")?);
    let (local, queue) = LocalDispatcher::new();
    let dispatcher: Arc<dyn Dispatcher> = match &config.fanout_function {
        Some(function) => {
            let sdk = match sdk {
                Some(sdk) => sdk,
                None => aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await,
            };
            tracing::info!(function = %function, "fan-outs are asynchronous Lambda invocations");
            Arc::new(cloudim_store_aws::LambdaDispatcher::new(&sdk, function))
        }
        None => Arc::new(local),
    };
    let settings = Settings {
        paging: Paging::new(config.head_items, config.page_size),
        max_item_bytes: config.max_item_bytes,
        fanout: FanoutSettings {
            concurrency: config.fanout_concurrency,
            attempt_timeout: Duration::from_millis(config.fanout_timeout_ms),
            retries: config.fanout_retries,
            backoff: Duration::from_millis(config.fanout_backoff_ms),
            max_failures: config.fanout_max_failures,
        },
        handshake: HandshakeSettings {
            discovery_ttl: Duration::from_secs(config.discovery_ttl_secs),
            verify_token_ttl: Duration::from_secs(config.verify_token_ttl_secs),
            notices_per_identity_hour: config.notices_per_identity_hour,
            notices_per_provider_hour: config.notices_per_provider_hour,
            webfinger_scheme,
            ..HandshakeSettings::default()
        },
        open_registration: config.open_registration,
        registrations_per_hour: config.registrations_per_hour,
        inbox_poll_interval: Duration::from_millis(config.inbox_poll_ms.max(50)),
        admission,
        tenant_limits: Limits {
            max_accounts: config.tenant_max_accounts,
            publishes_per_minute: config.tenant_publishes_per_minute,
            max_storage_bytes: config.tenant_max_storage_bytes,
        },
        ..Settings::default()
    };
    let provider = Arc::new(Provider::new(
        Ports {
            feeds,
            accounts,
            subscriptions,
            inbox,
            handshake,
            discovery,
            tenants,
            outbound: outbound.clone(),
            federation: outbound,
            dispatcher,
            clock: Arc::new(SystemClock),
        },
        settings,
    ));
    let fanout = tokio::spawn(run_fanouts(Arc::downgrade(&provider), queue));
    if config.renew_every_secs > 0 {
        tokio::spawn(renew_periodically(Arc::downgrade(&provider), Duration::from_secs(config.renew_every_secs)));
    }
    let state = AppState { provider, https: config.public_https, admin_token: config.admin_token.clone().map(Secret::new) };
    Ok(Built { state, fanout })
}
