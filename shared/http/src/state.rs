//! The state every handler shares, built once at start.

use std::fmt;
use std::sync::Arc;

use cloudim_domain::Provider;

/// A secret from configuration that never prints.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret.
    pub fn new(s: String) -> Self {
        Self(s)
    }
    /// The secret's value, for comparison only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// Shared handler state: the provider and the edge's own settings.
#[derive(Clone)]
pub struct AppState {
    /// The use cases and their ports.
    pub provider: Arc<Provider>,
    /// Whether public URLs use https (behind TLS termination).
    pub https: bool,
    /// The admin token for `/admin/*`; admin routes answer 403 without one.
    pub admin_token: Option<Secret>,
}
