//! Discovery: from an identity URL (or `acct:user@host`) to the person's
//! PM endpoint and key URL, with every destination checked and the result
//! cached for a while.
//!
//! The steps are free functions over the [`Federation`] port, so the
//! provider (with its cache) and the `cloudim discover` command run the
//! very same code.

use cloudim_protocol::discovery::{Endpoints, Page};
use cloudim_protocol::identity::Target;
use cloudim_protocol::webfinger::{Acct, Jrd, REL_PROFILE};
use cloudim_protocol::{Identity, Tenant};
use url::Url;

use crate::{Discovered, Error, Federation, OutboundError, Provider};

/// Maps a refused or failed fetch to the use-case error.
pub(crate) fn outbound_error(e: OutboundError) -> Error {
    match e {
        OutboundError::Refused(m) => Error::Refused(format!("refused to contact {m}: not a public address")),
        other => Error::Upstream(other.to_string()),
    }
}

/// Fetches a page (every hop checked) and reads the endpoints it names,
/// not yet vetted. Returns the final URL after redirects too.
pub async fn read_page(fed: &dyn Federation, url: &str) -> Result<(Url, Endpoints), Error> {
    let page = fed.fetch_page(url).await.map_err(outbound_error)?;
    let final_url = Url::parse(&page.final_url).map_err(|_| Error::Upstream(format!("{url} redirected to an invalid URL")))?;
    let endpoints = Page { url: &final_url, link_headers: &page.link_headers, content_type: page.content_type.as_deref(), body: &page.body }.endpoints();
    Ok((final_url, endpoints))
}

/// Checks that a discovered endpoint may be contacted: http(s) only, and
/// every address its host resolves to allowed. Nothing is connected to.
pub async fn vet_endpoint(fed: &dyn Federation, found: &Url) -> Result<(), Error> {
    if !matches!(found.scheme(), "http" | "https") {
        return Err(Error::Refused(format!("{found}: only http and https are allowed")));
    }
    fed.vet(found.as_str()).await.map_err(outbound_error)
}

/// Fetches the WebFinger document of `acct` over `scheme`.
pub async fn webfinger(fed: &dyn Federation, acct: &Acct, scheme: &str) -> Result<Jrd, Error> {
    let page = fed.fetch_page(&acct.query_url(scheme)).await.map_err(outbound_error)?;
    serde_json::from_slice(&page.body).map_err(|_| Error::Upstream(format!("{} sent no WebFinger document for {acct}", acct.host)))
}

impl Provider {
    /// Resolves `target` (an identity URL, or `acct:user@host` through
    /// WebFinger) to what its page names. Uses the cache unless `fresh`.
    pub async fn discover(&self, tenant: &Tenant, target: &str, fresh: bool) -> Result<Discovered, Error> {
        let identity = self.identity_of(target).await?;
        self.discover_identity(tenant, &identity, fresh).await
    }

    /// The identity a target names: itself, or a handle's WebFinger profile page.
    pub async fn identity_of(&self, target: &str) -> Result<Identity, Error> {
        match Target::parse(target).map_err(Error::invalid)? {
            Target::Url(identity) => Ok(identity),
            Target::Acct(acct) => {
                let jrd = webfinger(self.ports.federation.as_ref(), &acct, self.settings.handshake.webfinger_scheme).await?;
                let href = jrd.href(REL_PROFILE).ok_or_else(|| Error::NotFound(format!("{acct} has no profile page")))?;
                Identity::parse(href).map_err(|e| Error::Upstream(e.to_string()))
            }
        }
    }

    /// Resolves an identity URL, from the cache when a live entry exists.
    pub async fn discover_identity(&self, tenant: &Tenant, identity: &Identity, fresh: bool) -> Result<Discovered, Error> {
        let now = self.ports.clock.now();
        if !fresh
            && let Some(hit) = self.ports.discovery.get_discovered(tenant, identity).await?
            && hit.expires_at > now
        {
            return Ok(hit);
        }
        let fed = self.ports.federation.as_ref();
        let (final_url, endpoints) = read_page(fed, identity.as_str()).await?;
        // The endpoints themselves must be contactable before anyone relies on them.
        for found in [&endpoints.pm, &endpoints.pgpkey].into_iter().flatten() {
            vet_endpoint(fed, found).await?;
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
}
