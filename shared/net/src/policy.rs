//! Which destinations outbound requests may reach.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use url::{Host, Url};

/// The outbound policy, built once from configuration.
#[derive(Debug, Clone, Default)]
pub struct OutboundPolicy {
    /// Allow every non-public address (local development only).
    pub allow_private: bool,
    /// Exact `host:port` entries allowed even when they resolve to
    /// non-public addresses (for local federation and tests).
    pub allow: Vec<String>,
    /// Exact `host:port` entries refused even when allowed otherwise (the
    /// Lambda runtime API, `AWS_LAMBDA_RUNTIME_API`).
    pub deny: Vec<String>,
}

impl OutboundPolicy {
    /// Whether a URL may be requested, judged by scheme, allowlist and, for
    /// IP-literal hosts, the address. Host names are judged again at
    /// resolution time by [`OutboundPolicy::ip_allowed_for_host`].
    pub fn url_allowed(&self, url: &Url) -> Result<(), String> {
        if !matches!(url.scheme(), "http" | "https") {
            return Err(format!("{}: only http and https are allowed", url.scheme()));
        }
        let host = url.host().ok_or_else(|| "a URL without a host".to_owned())?;
        let port = url.port_or_known_default().unwrap_or(0);
        let host_text = match &host {
            Host::Domain(d) => d.to_ascii_lowercase(),
            Host::Ipv4(ip) => ip.to_string(),
            Host::Ipv6(ip) => format!("[{ip}]"),
        };
        if self.deny.iter().any(|d| d.eq_ignore_ascii_case(&format!("{host_text}:{port}"))) {
            return Err(host_text);
        }
        if self.allowlisted(&host_text, port) || self.allow_private {
            return Ok(());
        }
        match host {
            Host::Ipv4(ip) if !is_public(IpAddr::V4(ip)) => Err(host_text),
            Host::Ipv6(ip) if !is_public(IpAddr::V6(ip)) => Err(host_text),
            Host::Domain(d) if d.eq_ignore_ascii_case("localhost") || d.to_ascii_lowercase().ends_with(".localhost") => Err(host_text),
            _ => Ok(()),
        }
    }

    /// Whether a resolved address may be used for a host name.
    pub fn ip_allowed_for_host(&self, host: &str, ip: IpAddr) -> bool {
        self.allow_private || is_public(ip) || self.allow.iter().any(|a| a.rsplit_once(':').is_some_and(|(h, _)| h.eq_ignore_ascii_case(host)))
    }

    /// Whether a URL's exact `host:port` is on the allowlist.
    pub fn url_allowlisted(&self, url: &Url) -> bool {
        let host = match url.host() {
            Some(Host::Domain(d)) => d.to_ascii_lowercase(),
            Some(Host::Ipv4(ip)) => ip.to_string(),
            Some(Host::Ipv6(ip)) => format!("[{ip}]"),
            None => return false,
        };
        self.allowlisted(&host, url.port_or_known_default().unwrap_or(0))
    }

    fn allowlisted(&self, host: &str, port: u16) -> bool {
        self.allow.iter().any(|a| a.eq_ignore_ascii_case(&format!("{host}:{port}")))
    }
}

/// Whether an address is publicly routable (and so safe to contact).
///
/// ```
/// use cloudim_net::policy::is_public;
/// assert!(is_public("93.184.216.34".parse().unwrap()));
/// for bad in ["127.0.0.1", "10.1.2.3", "169.254.169.254", "100.64.0.1", "::1", "fd00::1",
///             "fe80::1", "::ffff:169.254.169.254", "2002:a9fe:a9fe::", "64:ff9b::a9fe:a9fe", "0.0.0.0", "224.0.0.1"] {
///     assert!(!is_public(bad.parse().unwrap()), "{bad}");
/// }
/// ```
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_broadcast()
        || ip.is_documentation()
        || ip.is_multicast()
        || a == 0
        || (a == 100 && (64..128).contains(&b)) // CGNAT 100.64.0.0/10
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 198 && (b == 18 || b == 19)) // benchmarking
        || a >= 240) // reserved
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    let seg = ip.segments();
    if let Some(v4) = ip.to_ipv4_mapped() {
        return is_public_v4(v4);
    }
    let embedded = |hi: u16, lo: u16| Ipv4Addr::new((hi >> 8) as u8, hi as u8, (lo >> 8) as u8, lo as u8);
    if seg[0] == 0x2002 {
        return is_public_v4(embedded(seg[1], seg[2])); // 6to4
    }
    if seg[0] == 0x64 && seg[1] == 0xff9b {
        return is_public_v4(embedded(seg[6], seg[7])); // NAT64
    }
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_multicast()
        || (seg[0] & 0xfe00) == 0xfc00 // unique local
        || (seg[0] & 0xffc0) == 0xfe80 // link-local
        || (seg[0] & 0xffc0) == 0xfec0 // site-local (deprecated)
        || (seg[0] == 0x2001 && seg[1] == 0x0db8) // documentation
        || seg[..6].iter().all(|s| *s == 0)) // IPv4-compatible ::a.b.c.d
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn every_spelling_of_the_metadata_address_is_refused() {
        let p = OutboundPolicy::default();
        // The URL parser normalises decimal, hex, octal and short forms.
        for s in ["http://169.254.169.254/", "http://2852039166/", "http://0xA9FEA9FE/", "http://0251.0376.0251.0376/",
                  "http://169.254.43518/", "http://[::ffff:169.254.169.254]/", "http://[::ffff:a9fe:a9fe]/", "http://127.1/",
                  "http://0/", "http://localhost:8080/", "http://[::1]:9001/", "ftp://example.com/"] {
            assert!(p.url_allowed(&url(s)).is_err(), "{s}");
        }
        assert!(p.url_allowed(&url("https://example.com/feed")).is_ok());
    }

    #[test]
    fn allowlist_opens_exact_host_and_port_only() {
        let p = OutboundPolicy { allow_private: false, allow: vec!["127.0.0.1:8080".into(), "localhost:9000".into()], deny: vec![] };
        assert!(p.url_allowed(&url("http://127.0.0.1:8080/x")).is_ok());
        assert!(p.url_allowed(&url("http://127.0.0.1:8081/x")).is_err());
        assert!(p.url_allowed(&url("http://localhost:9000/x")).is_ok());
        assert!(p.ip_allowed_for_host("localhost", "127.0.0.1".parse().unwrap()));
        assert!(!p.ip_allowed_for_host("evil.example", "127.0.0.1".parse().unwrap()));
    }

    #[test]
    fn the_lambda_runtime_api_is_refused_even_when_private_targets_are_allowed() {
        let p = OutboundPolicy { allow_private: true, allow: vec!["127.0.0.1:9001".into()], deny: vec!["127.0.0.1:9001".into()] };
        assert!(p.url_allowed(&url("http://127.0.0.1:9001/2018-06-01/runtime/invocation/next")).is_err());
        assert!(p.url_allowed(&url("http://127.0.0.1:9002/")).is_ok());
    }
}
