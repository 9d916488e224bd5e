//! `cloudim discover`: the provider's own discovery steps
//! (`cloudim_domain::discovery`), run from the command line with the same
//! fetching rules as a provider on Lambda (private addresses refused unless
//! allowed).

use std::time::Duration;

use cloudim_domain::Error;
use cloudim_domain::discovery::{read_page, vet_endpoint, webfinger};
use cloudim_net::{HttpOutbound, OutboundPolicy};
use cloudim_protocol::discovery::{REL_PGPKEY, REL_PM};
use cloudim_protocol::identity::Target;
use cloudim_protocol::webfinger::REL_PROFILE;
use url::Url;

use crate::args::Rel;

/// How `cloudim discover` ends; the exit code is documented in `--help`.
#[derive(Debug)]
pub enum Outcome {
    /// Found: the endpoint.
    Found(Url),
    /// The page names no such endpoint.
    None,
    /// A destination was refused.
    Refused(String),
    /// Anything else went wrong.
    Error(String),
}

impl Outcome {
    /// The process exit code.
    pub fn code(&self) -> u8 {
        match self {
            Self::Found(_) => 0,
            Self::None => 1,
            Self::Refused(_) => 3,
            Self::Error(_) => 4,
        }
    }
}

impl From<Error> for Outcome {
    fn from(e: Error) -> Self {
        match e {
            Error::Refused(m) => Self::Refused(m),
            other => Self::Error(other.to_string()),
        }
    }
}

/// Discovers `rel` for `target` (an identity URL or `acct:user@host`).
pub async fn discover(target: &str, rel: Rel, allow: Vec<String>, allow_private: bool) -> Outcome {
    let rel = match rel {
        Rel::Pm => REL_PM,
        Rel::Pgpkey => REL_PGPKEY,
    };
    let policy = OutboundPolicy { allow_private, allow, deny: Vec::new() };
    // As on a provider: WebFinger over http only in local development.
    let scheme = if policy.allow_private || !policy.allow.is_empty() { "http" } else { "https" };
    let fed = match HttpOutbound::new(policy, Duration::from_secs(10)) {
        Ok(h) => h,
        Err(e) => return Outcome::Error(e.to_string()),
    };
    match find(&fed, target, rel, scheme).await {
        Ok(Some(url)) => Outcome::Found(url),
        Ok(None) => Outcome::None,
        Err(e) => e.into(),
    }
}

async fn find(fed: &HttpOutbound, target: &str, rel: &str, scheme: &str) -> Result<Option<Url>, Error> {
    let page = match Target::parse(target).map_err(Error::invalid)? {
        Target::Url(identity) => identity.to_string(),
        Target::Acct(acct) => {
            let jrd = webfinger(fed, &acct, scheme).await?;
            // A JRD may name the endpoint itself; otherwise its profile page does.
            if let Some(href) = jrd.href(rel).and_then(|h| Url::parse(h).ok()) {
                vet_endpoint(fed, &href).await?;
                return Ok(Some(href));
            }
            match jrd.href(REL_PROFILE) {
                Some(p) => p.to_owned(),
                None => return Ok(None),
            }
        }
    };
    let (_, endpoints) = read_page(fed, &page).await?;
    let found = if rel == REL_PM { endpoints.pm } else { endpoints.pgpkey };
    if let Some(url) = &found {
        vet_endpoint(fed, url).await?;
    }
    Ok(found)
}
