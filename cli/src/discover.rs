//! `cloudim discover`: endpoint discovery from the command line, with the
//! same fetching rules as a provider on Lambda (private addresses refused
//! unless allowed).

use std::time::Duration;

use cloudim_domain::{Federation, OutboundError};
use cloudim_net::{HttpOutbound, OutboundPolicy};
use cloudim_protocol::discovery::{Page, REL_PGPKEY, REL_PM};
use cloudim_protocol::webfinger::{Acct, Jrd, REL_PROFILE};
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

fn failed(e: OutboundError) -> Outcome {
    match e {
        OutboundError::Refused(m) => Outcome::Refused(format!("refused to contact {m}: not a public address")),
        other => Outcome::Error(other.to_string()),
    }
}

/// Discovers `rel` for `target`.
pub async fn discover(target: &str, rel: Rel, allow: Vec<String>, allow_private: bool) -> Outcome {
    let rel = match rel {
        Rel::Pm => REL_PM,
        Rel::Pgpkey => REL_PGPKEY,
    };
    let policy = OutboundPolicy { allow_private, allow, deny: Vec::new() };
    let local = policy.allow_private || !policy.allow.is_empty();
    let http = match HttpOutbound::new(policy, Duration::from_secs(10)) {
        Ok(h) => h,
        Err(e) => return Outcome::Error(e.to_string()),
    };
    let page_url = match Acct::parse(target).filter(|_| !target.trim().starts_with("http")) {
        Some(acct) => {
            let jrd_url = acct.query_url(if local { "http" } else { "https" });
            let page = match http.fetch_page(&jrd_url).await {
                Ok(p) => p,
                Err(e) => return failed(e),
            };
            let Ok(jrd) = serde_json::from_slice::<Jrd>(&page.body) else { return Outcome::Error(format!("{} sent no WebFinger document", acct.host)) };
            if let Some(href) = jrd.href(rel).and_then(|h| Url::parse(h).ok()) {
                return vetted(&http, href).await;
            }
            match jrd.href(REL_PROFILE) {
                Some(p) => p.to_owned(),
                None => return Outcome::None,
            }
        }
        None => target.trim().to_owned(),
    };
    if let Err(e) = cloudim_protocol::identity::parse_endpoint(&page_url) {
        return Outcome::Error(e.to_string());
    }
    let page = match http.fetch_page(&page_url).await {
        Ok(p) => p,
        Err(e) => return failed(e),
    };
    let Ok(final_url) = Url::parse(&page.final_url) else { return Outcome::Error("the final URL is invalid".into()) };
    let found = Page { url: &final_url, link_headers: &page.link_headers, content_type: page.content_type.as_deref(), body: &page.body }.find(rel);
    match found {
        Some(url) => vetted(&http, url).await,
        None => Outcome::None,
    }
}

/// The endpoint itself must be contactable under the same rules.
async fn vetted(http: &HttpOutbound, url: Url) -> Outcome {
    if !matches!(url.scheme(), "http" | "https") {
        return Outcome::Refused(format!("{url}: only http and https are allowed"));
    }
    match http.vet(url.as_str()).await {
        Ok(()) => Outcome::Found(url),
        Err(e) => failed(e),
    }
}
