//! Typed configuration, read once from flags and `CLOUDIM_*` variables.

use std::fmt;
use std::path::PathBuf;

/// Which storage adapters to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum StoreKind {
    /// Files under the data directory.
    Local,
    /// S3 and DynamoDB (AWS, or an emulator via `AWS_ENDPOINT_URL`).
    Aws,
}

/// The provider's configuration. Every field has a flag and a variable.
#[derive(Clone, clap::Args)]
pub struct Config {
    /// Storage: `local` (embedded, on disk) or `aws` (S3 + DynamoDB).
    #[arg(long, env = "CLOUDIM_STORE", value_enum, default_value = "local")]
    pub store: StoreKind,
    /// Data directory of the embedded store.
    #[arg(long, env = "CLOUDIM_DATA_DIR", default_value = "cloudim-data")]
    pub data_dir: PathBuf,
    /// S3 bucket for feeds (aws store).
    #[arg(long, env = "CLOUDIM_BUCKET", default_value = "cloudim-feeds")]
    pub bucket: String,
    /// DynamoDB table for everything else (aws store).
    #[arg(long, env = "CLOUDIM_TABLE", default_value = "cloudim")]
    pub table: String,
    /// Create the bucket and table at start if missing (emulators, first runs).
    #[arg(long, env = "CLOUDIM_CREATE_RESOURCES", default_value_t = false)]
    pub create_resources: bool,
    /// Public URLs use https (set when TLS is terminated in front).
    #[arg(long, env = "CLOUDIM_PUBLIC_HTTPS", default_value_t = false)]
    pub public_https: bool,
    /// Token for `/admin/*` routes; without it they are disabled.
    #[arg(long, env = "CLOUDIM_ADMIN_TOKEN", hide_env_values = true)]
    pub admin_token: Option<String>,
    /// Fewest items the head document keeps.
    #[arg(long, env = "CLOUDIM_HEAD_ITEMS", default_value_t = 50)]
    pub head_items: usize,
    /// Items per archive page.
    #[arg(long, env = "CLOUDIM_PAGE_SIZE", default_value_t = 50)]
    pub page_size: usize,
    /// Largest item payload, in bytes.
    #[arg(long, env = "CLOUDIM_MAX_ITEM_BYTES", default_value_t = 128 * 1024)]
    pub max_item_bytes: usize,
    /// Notifications in flight at once per feed.
    #[arg(long, env = "CLOUDIM_FANOUT_CONCURRENCY", default_value_t = 256)]
    pub fanout_concurrency: usize,
    /// Time allowed per notification attempt, in milliseconds.
    #[arg(long, env = "CLOUDIM_FANOUT_TIMEOUT_MS", default_value_t = 5000)]
    pub fanout_timeout_ms: u64,
    /// Retries per notification within one fan-out.
    #[arg(long, env = "CLOUDIM_FANOUT_RETRIES", default_value_t = 2)]
    pub fanout_retries: u32,
    /// Backoff before the first retry, in milliseconds (doubles).
    #[arg(long, env = "CLOUDIM_FANOUT_BACKOFF_MS", default_value_t = 200)]
    pub fanout_backoff_ms: u64,
    /// Consecutive failed fan-outs before a subscription is dropped.
    #[arg(long, env = "CLOUDIM_FANOUT_MAX_FAILURES", default_value_t = 3)]
    pub fanout_max_failures: u32,
    /// Allow outbound requests to private and loopback addresses (local development only).
    #[arg(long, env = "CLOUDIM_ALLOW_PRIVATE_TARGETS", default_value_t = false)]
    pub allow_private_targets: bool,
    /// Seconds a discovery result is reused.
    #[arg(long, env = "CLOUDIM_DISCOVERY_TTL_SECS", default_value_t = 3600)]
    pub discovery_ttl_secs: u64,
    /// Seconds a single-use delivery token lives.
    #[arg(long, env = "CLOUDIM_VERIFY_TOKEN_TTL_SECS", default_value_t = 600)]
    pub verify_token_ttl_secs: u64,
    /// Invitation notices accepted per sender identity per hour.
    #[arg(long, env = "CLOUDIM_NOTICES_PER_IDENTITY_HOUR", default_value_t = 20)]
    pub notices_per_identity_hour: u64,
    /// Invitation notices accepted per sending provider per hour.
    #[arg(long, env = "CLOUDIM_NOTICES_PER_PROVIDER_HOUR", default_value_t = 200)]
    pub notices_per_provider_hour: u64,
    /// On AWS: the notify function (name or ARN) that publish invokes
    /// asynchronously for each fan-out. Without it, fan-outs run in-process.
    #[arg(long, env = "CLOUDIM_FANOUT_FUNCTION")]
    pub fanout_function: Option<String>,
    /// Seconds between scheduled renewals of our follows in this process (0:
    /// none; on AWS an EventBridge schedule sends `/internal/renew` instead).
    #[arg(long, env = "CLOUDIM_RENEW_EVERY_SECS", default_value_t = 3600)]
    pub renew_every_secs: u64,
    /// Let anyone create an account with `POST /accounts` (`cloudim init --name`).
    #[arg(long, env = "CLOUDIM_OPEN_REGISTRATION", default_value_t = false)]
    pub open_registration: bool,
    /// Accounts open registration creates per tenant per hour.
    #[arg(long, env = "CLOUDIM_REGISTRATIONS_PER_HOUR", default_value_t = 60)]
    pub registrations_per_hour: u64,
    /// How often a waiting inbox watch re-reads the store, in milliseconds
    /// (items recorded by another process, as on Lambda).
    #[arg(long, env = "CLOUDIM_INBOX_POLL_MS", default_value_t = 500)]
    pub inbox_poll_ms: u64,
    /// The domains served without a registration, comma-separated, or `*`
    /// for any host (local development). Tenants registered with
    /// `cloudim admin tenant add` are served as well.
    #[arg(long, env = "CLOUDIM_TENANTS", default_value = "*")]
    pub tenants: String,
    /// Accounts a tenant may hold, unless its registration says otherwise.
    #[arg(long, env = "CLOUDIM_TENANT_MAX_ACCOUNTS", default_value_t = 10_000)]
    pub tenant_max_accounts: u64,
    /// Items a tenant's accounts may publish per minute, together, unless its registration says otherwise.
    #[arg(long, env = "CLOUDIM_TENANT_PUBLISHES_PER_MINUTE", default_value_t = 6_000)]
    pub tenant_publishes_per_minute: u64,
    /// Bytes of item payloads a tenant may store, unless its registration says otherwise.
    #[arg(long, env = "CLOUDIM_TENANT_MAX_STORAGE_BYTES", default_value_t = 10 * 1024 * 1024 * 1024)]
    pub tenant_max_storage_bytes: u64,
    /// Exact `host:port` destinations allowed even on private addresses (comma-separated).
    #[arg(long = "allow", env = "CLOUDIM_OUTBOUND_ALLOW", value_delimiter = ',')]
    pub outbound_allow: Vec<String>,
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("store", &self.store)
            .field("data_dir", &self.data_dir)
            .field("bucket", &self.bucket)
            .field("table", &self.table)
            .field("admin_token", &self.admin_token.as_ref().map(|_| "<redacted>"))
            .finish_non_exhaustive()
    }
}

/// Parses just the configuration, from variables only (Lambda has no flags).
#[derive(clap::Parser)]
struct EnvOnly {
    #[command(flatten)]
    config: Config,
}

impl Config {
    /// Reads the configuration from `CLOUDIM_*` variables.
    pub fn from_env() -> Result<Self, clap::Error> {
        Self::from_args(std::iter::empty::<&str>())
    }

    /// Reads the configuration from flags (then `CLOUDIM_*` variables, then defaults).
    pub fn from_args<I: IntoIterator<Item = S>, S: Into<std::ffi::OsString> + Clone>(args: I) -> Result<Self, clap::Error> {
        use clap::Parser;
        let argv = std::iter::once(std::ffi::OsString::from("cloudim")).chain(args.into_iter().map(Into::into));
        EnvOnly::try_parse_from(argv).map(|e| e.config)
    }
}
