//! Identities (a person's home-page URL) and the URLs a provider serves for
//! the accounts it hosts.

use std::fmt;

use url::Url;

use crate::rsscloud::parse_http_url;
use crate::webfinger::Acct;
use crate::{AccountName, Origin};

/// Why a string is not an identity URL.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{0}' is not an identity: give an absolute http(s) URL without credentials or fragment, at most 2048 characters")]
pub struct IdentityError(pub String);

/// A person's identity: an absolute http(s) URL, normalised (lowercase
/// host, default port dropped, `/` for an empty path), without credentials
/// or fragment. Two identities are the same when their normalised forms are.
///
/// ```
/// use cloudim_protocol::Identity;
/// let a = Identity::parse("HTTPS://Bob.Example:443").unwrap();
/// assert_eq!(a.as_str(), "https://bob.example/");
/// assert!(Identity::parse("ftp://bob.example/").is_err());
/// assert!(Identity::parse("https://u:p@bob.example/").is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Identity(Url);

impl Identity {
    /// Parses and normalises an identity URL.
    pub fn parse(s: &str) -> Result<Self, IdentityError> {
        parse_endpoint(s).map(Self)
    }

    /// The identity URL as text.
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    /// The identity as a URL.
    pub fn url(&self) -> &Url {
        &self.0
    }
}

impl TryFrom<String> for Identity {
    type Error = IdentityError;
    fn try_from(s: String) -> Result<Self, IdentityError> {
        Self::parse(&s)
    }
}

impl From<Identity> for String {
    fn from(i: Identity) -> String {
        i.0.into()
    }
}

impl fmt::Display for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.as_str())
    }
}

/// Parses an absolute http(s) URL of bounded length, without credentials
/// (the rssCloud URL rules) and without fragment, normalised by the URL parser.
pub fn parse_endpoint(s: &str) -> Result<Url, IdentityError> {
    let bad = || IdentityError(s.chars().take(100).collect());
    let url = parse_http_url(s.trim()).map_err(|_| bad())?;
    if url.fragment().is_some() { Err(bad()) } else { Ok(url) }
}

/// Whom a person names: an identity URL, or an `acct:user@host` handle to
/// resolve through WebFinger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// An identity URL.
    Url(Identity),
    /// A WebFinger handle.
    Acct(Acct),
}

impl Target {
    /// `http://…` and `https://…` are identity URLs; `acct:user@host` and
    /// `user@host` are handles.
    ///
    /// ```
    /// use cloudim_protocol::identity::Target;
    /// assert!(matches!(Target::parse("https://bob.example/"), Ok(Target::Url(_))));
    /// assert!(matches!(Target::parse("acct:bob@bob.example"), Ok(Target::Acct(_))));
    /// assert!(matches!(Target::parse("bob@127.0.0.1:8080"), Ok(Target::Acct(_))));
    /// assert!(Target::parse("nonsense").is_err());
    /// ```
    pub fn parse(s: &str) -> Result<Self, IdentityError> {
        let t = s.trim();
        let is_url = ["http://", "https://"].iter().any(|p| t.get(..p.len()).is_some_and(|h| h.eq_ignore_ascii_case(p)));
        match Acct::parse(t) {
            Some(acct) if !is_url => Ok(Self::Acct(acct)),
            _ => Identity::parse(t).map(Self::Url),
        }
    }
}

/// Whether two endpoint URLs are the same after normalisation.
pub fn same_endpoint(a: &Url, b: &Url) -> bool {
    a.as_str() == b.as_str()
}

/// The hosted identity page of an account: `{base}/u/{name}`.
pub fn hosted_identity(origin: &Origin, account: &AccountName) -> Result<Identity, IdentityError> {
    Identity::parse(&format!("{}/u/{account}", origin.base_url()))
}

/// The armored key of a hosted account: `{base}/u/{name}/key.asc`.
pub fn hosted_key_url(origin: &Origin, account: &AccountName) -> String {
    format!("{}/u/{account}/key.asc", origin.base_url())
}

/// This provider's PM endpoint (one per tenant): `{base}/pm`.
pub fn pm_endpoint(origin: &Origin) -> String {
    format!("{}/pm", origin.base_url())
}

/// The account an identity names, if it is one this origin hosts.
///
/// ```
/// use cloudim_protocol::{Identity, Origin, identity::hosted_account};
/// let origin = Origin::from_host(false, "127.0.0.1:8080").unwrap();
/// let bob = Identity::parse("http://127.0.0.1:8080/u/bob").unwrap();
/// assert_eq!(hosted_account(&origin, &bob).unwrap().as_str(), "bob");
/// assert!(hosted_account(&origin, &Identity::parse("http://127.0.0.1:9090/u/bob").unwrap()).is_none());
/// ```
pub fn hosted_account(origin: &Origin, identity: &Identity) -> Option<AccountName> {
    let prefix = format!("{}/u/", origin.base_url());
    let name = identity.as_str().strip_prefix(&prefix)?;
    AccountName::parse(name).ok()
}
