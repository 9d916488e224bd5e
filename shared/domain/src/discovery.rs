//! Discovery: from an identity URL (or `acct:user@host`) to the person's
//! PM endpoint and key URL, with every destination checked and the result
//! cached for a while.

use cloudim_protocol::discovery::Page;
use cloudim_protocol::webfinger::{Acct, Jrd, REL_PROFILE};
use cloudim_protocol::{Identity, Tenant};
use url::Url;

use crate::{Discovered, Error, OutboundError, Provider};

/// Maps a refused or failed fetch to the use-case error.
pub(crate) fn outbound_error(e: OutboundError) -> Error {
    match e {
        OutboundError::Refused(m) => Error::Refused(format!("refused to contact {m}: not a public address")),
        other => Error::Upstream(other.to_string()),
    }
}

impl Provider {
    /// Resolves `target` (an identity URL, or `acct:user@host` through
    /// WebFinger) to what its page names. Uses the cache unless `fresh`.
    pub async fn discover(&self, tenant: &Tenant, target: &str, fresh: bool) -> Result<Discovered, Error> {
        let identity = match Acct::parse(target) {
            Some(acct) if !target.trim().starts_with("http") => self.webfinger(&acct).await?,
            _ => Identity::parse(target).map_err(Error::invalid)?,
        };
        self.discover_identity(tenant, &identity, fresh).await
    }

    /// Resolves an identity URL, from the cache when a live entry exists.
    pub async fn discover_identity(&self, tenant: &Tenant, identity: &Identity, fresh: bool) -> Result<Discovered, Error> {
        let now = self.ports.clock.now();
        if !fresh
            && let Some(hit) = self.ports.discovery.get_discovered(tenant, identity).await?
                && hit.expires_at > now {
                    return Ok(hit);
                }
        let page = self.ports.federation.fetch_page(identity.as_str()).await.map_err(outbound_error)?;
        let final_url = Url::parse(&page.final_url).map_err(|_| Error::Upstream(format!("{identity} redirected to an invalid URL")))?;
        let endpoints = Page { url: &final_url, link_headers: &page.link_headers, content_type: page.content_type.as_deref(), body: &page.body }.endpoints();
        // The endpoints themselves must be contactable before anyone relies on them.
        for found in [&endpoints.pm, &endpoints.pgpkey].into_iter().flatten() {
            if !matches!(found.scheme(), "http" | "https") {
                return Err(Error::Refused(format!("{identity} names a {} URL; only http and https are allowed", found.scheme())));
            }
            self.ports.federation.vet(found.as_str()).await.map_err(outbound_error)?;
        }
        let entry = Discovered {
            identity: identity.clone(),
            final_url: final_url.into(),
            pm: endpoints.pm.map(String::from),
            pgpkey: endpoints.pgpkey.map(String::from),
            fetched_at: now,
            expires_at: now + self.settings.handshake.discovery_ttl.as_secs(),
        };
        self.ports.discovery.put_discovered(tenant, &entry).await?;
        Ok(entry)
    }

    /// The PM endpoint an identity names; an error when it names none.
    pub async fn pm_endpoint_of(&self, tenant: &Tenant, identity: &Identity, fresh: bool) -> Result<Url, Error> {
        let d = self.discover_identity(tenant, identity, fresh).await?;
        let pm = d.pm.ok_or_else(|| Error::Invalid(format!("{identity} names no PM endpoint (no rel=\"pm\" link)")))?;
        Url::parse(&pm).map_err(|_| Error::Upstream(format!("{identity} names an invalid PM endpoint")))
    }

    /// Finds the identity page of `acct:user@host` through WebFinger.
    async fn webfinger(&self, acct: &Acct) -> Result<Identity, Error> {
        let url = acct.query_url(self.settings.handshake.webfinger_scheme);
        let page = self.ports.federation.fetch_page(&url).await.map_err(outbound_error)?;
        let jrd: Jrd = serde_json::from_slice(&page.body).map_err(|_| Error::Upstream(format!("{} sent no WebFinger document for {acct}", acct.host)))?;
        let href = jrd.href(REL_PROFILE).ok_or_else(|| Error::NotFound(format!("{acct} has no profile page")))?;
        Identity::parse(href).map_err(|e| Error::Upstream(e.to_string()))
    }
}
