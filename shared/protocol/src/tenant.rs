//! The tenant a request belongs to: the host it arrived on.
//!
//! One deployment serves many domains; every stored key is scoped by the
//! tenant, and a tenant is derived from the `Host` header alone.

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

/// Why a `Host` value does not name a tenant.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TenantError {
    /// The host is empty, too long, or has characters a host name cannot have.
    #[error("the Host header is not a valid host name")]
    InvalidHost,
    /// The port after the host is not a number from 1 to 65535.
    #[error("the port in the Host header is not a number from 1 to 65535")]
    InvalidPort,
}

/// A tenant: a lowercase host name or IP address, without port.
///
/// ```
/// use cloudim_protocol::Tenant;
/// assert_eq!(Tenant::parse("Alice.Example").unwrap().as_str(), "alice.example");
/// assert!(Tenant::parse("../etc").is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Tenant(String);

impl TryFrom<String> for Tenant {
    type Error = TenantError;
    fn try_from(s: String) -> Result<Self, TenantError> {
        Self::parse(&s)
    }
}

impl From<Tenant> for String {
    fn from(t: Tenant) -> String {
        t.0
    }
}

impl Tenant {
    /// Parses a host name (no port): DNS labels of `a-z 0-9 -`, an IPv4
    /// address, or a bracketed IPv6 address.
    pub fn parse(host: &str) -> Result<Self, TenantError> {
        let host = host.to_ascii_lowercase();
        if let Some(inner) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
            let ip: Ipv6Addr = inner.parse().map_err(|_| TenantError::InvalidHost)?;
            return Ok(Self(format!("[{ip}]")));
        }
        if host.parse::<Ipv4Addr>().is_ok() {
            return Ok(Self(host));
        }
        let host = host.strip_suffix('.').unwrap_or(&host);
        let valid_label = |l: &str| {
            (1..=63).contains(&l.len())
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !l.starts_with('-')
                && !l.ends_with('-')
        };
        if host.is_empty() || host.len() > 253 || !host.split('.').all(valid_label) {
            return Err(TenantError::InvalidHost);
        }
        Ok(Self(host.to_owned()))
    }

    /// The tenant as text; safe to use as a path segment or key prefix.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Tenant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Where a request arrived: scheme and `Host` (with port when given); the
/// base of every URL this provider writes into documents for that tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    scheme: &'static str,
    tenant: Tenant,
    port: Option<u16>,
}

impl Origin {
    /// Parses a `Host` header value under a scheme (`http` or `https`).
    ///
    /// ```
    /// use cloudim_protocol::Origin;
    /// let o = Origin::from_host(false, "bob.example:8080").unwrap();
    /// assert_eq!(o.base_url(), "http://bob.example:8080");
    /// assert_eq!(o.tenant().as_str(), "bob.example");
    /// assert_eq!(o.port(), 8080);
    /// ```
    pub fn from_host(https: bool, host: &str) -> Result<Self, TenantError> {
        let (name, port) = split_host_port(host)?;
        let default = if https { 443 } else { 80 };
        let port = port.filter(|p| *p != default);
        Ok(Self { scheme: if https { "https" } else { "http" }, tenant: Tenant::parse(name)?, port })
    }

    /// The tenant (host without port).
    pub fn tenant(&self) -> &Tenant {
        &self.tenant
    }

    /// The scheme, `http` or `https`.
    pub fn scheme(&self) -> &'static str {
        self.scheme
    }

    /// The port, explicit or the scheme's default.
    pub fn port(&self) -> u16 {
        self.port.unwrap_or(if self.scheme == "https" { 443 } else { 80 })
    }

    /// `scheme://host[:port]` without a trailing slash; a default port is
    /// left out, as URL parsers canonicalise it.
    pub fn base_url(&self) -> String {
        match self.port {
            Some(p) => format!("{}://{}:{p}", self.scheme, self.tenant),
            None => format!("{}://{}", self.scheme, self.tenant),
        }
    }
}

fn split_host_port(host: &str) -> Result<(&str, Option<u16>), TenantError> {
    let port_sep = if host.starts_with('[') {
        host.find(']').map(|i| i + 1).filter(|&i| i < host.len())
    } else {
        host.rfind(':')
    };
    match port_sep {
        Some(i) if host.as_bytes()[i] == b':' => {
            let port: u16 = host[i + 1..].parse().map_err(|_| TenantError::InvalidPort)?;
            if port == 0 {
                return Err(TenantError::InvalidPort);
            }
            Ok((&host[..i], Some(port)))
        }
        Some(_) => Err(TenantError::InvalidHost),
        None => Ok((host, None)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_with_ports_and_ipv6() {
        let o = Origin::from_host(true, "[::1]:8443").unwrap();
        assert_eq!(o.tenant().as_str(), "[::1]");
        assert_eq!(o.base_url(), "https://[::1]:8443");
        let o = Origin::from_host(true, "a.example").unwrap();
        assert_eq!(o.port(), 443);
        assert_eq!(Origin::from_host(false, "a.example:80").unwrap().base_url(), "http://a.example");
        assert_eq!(Origin::from_host(false, "a.example:0"), Err(TenantError::InvalidPort));
        assert_eq!(Origin::from_host(false, "a.example:x"), Err(TenantError::InvalidPort));
        assert!(Origin::from_host(false, "a b").is_err());
        assert!(Origin::from_host(false, "").is_err());
        assert!(Tenant::parse("a..b").is_err());
        assert!(Tenant::parse("-a.b").is_err());
        assert_eq!(Tenant::parse("A.Example.").unwrap().as_str(), "a.example");
    }
}
