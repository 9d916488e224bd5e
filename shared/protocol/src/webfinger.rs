//! WebFinger (RFC 7033) for `acct:user@host`: the second way to find a
//! person's identity page, PM endpoint and key.

use serde::{Deserialize, Serialize};

use crate::AccountName;

/// The relation type of a profile page (the identity URL).
pub const REL_PROFILE: &str = "http://webfinger.net/rel/profile-page";

/// An `acct:` URI: a user at a host (the host may carry a port).
///
/// ```
/// use cloudim_protocol::webfinger::Acct;
/// let a = Acct::parse("acct:bob@Example.org").unwrap();
/// assert_eq!((a.user.as_str(), a.host.as_str()), ("bob", "example.org"));
/// assert_eq!(Acct::parse("bob@127.0.0.1:8080").unwrap().to_string(), "acct:bob@127.0.0.1:8080");
/// assert!(Acct::parse("https://bob.example/").is_none());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Acct {
    /// The part before `@`.
    pub user: String,
    /// The host (and port), lowercased.
    pub host: String,
}

impl Acct {
    /// Parses `acct:user@host` or `user@host`.
    pub fn parse(s: &str) -> Option<Self> {
        let s = s.trim();
        let rest = s.strip_prefix("acct:").unwrap_or(s);
        let (user, host) = rest.rsplit_once('@')?;
        let valid_host = !host.is_empty() && host.len() <= 260 && host.bytes().all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b));
        let valid_user = !user.is_empty() && user.len() <= 64 && !user.contains(['/', '@', ':', ' ']);
        (valid_host && valid_user).then(|| Self { user: user.to_owned(), host: host.to_ascii_lowercase() })
    }

    /// The account this names, if the user part is a valid account name.
    pub fn account(&self) -> Option<AccountName> {
        AccountName::parse(&self.user).ok()
    }

    /// The WebFinger query URL for this account on `scheme`.
    pub fn query_url(&self, scheme: &str) -> String {
        let resource = crate::form::encode_form(&[("resource", &self.to_string())]);
        format!("{scheme}://{}/.well-known/webfinger?{resource}", self.host)
    }
}

impl std::fmt::Display for Acct {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "acct:{}@{}", self.user, self.host)
    }
}

/// A JSON Resource Descriptor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Jrd {
    /// The resource described.
    pub subject: String,
    /// Other URIs of the same resource.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    /// Its links.
    #[serde(default)]
    pub links: Vec<JrdLink>,
}

/// One link of a JRD.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JrdLink {
    /// The relation type.
    pub rel: String,
    /// The target.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub href: Option<String>,
    /// The target's media type.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
}

impl Jrd {
    /// The first target of a relation type.
    pub fn href(&self, rel: &str) -> Option<&str> {
        self.links.iter().find(|l| l.rel.eq_ignore_ascii_case(rel)).and_then(|l| l.href.as_deref())
    }
}
