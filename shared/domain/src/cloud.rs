//! The rssCloud side of a feed we host: registering subscribers (with
//! verification) and accepting pings.

use std::net::IpAddr;

use cloudim_protocol::{FeedId, Origin, Ping, PleaseNotify, Tenant};
use rand::RngCore;
use url::Url;

use crate::{Error, NotifyTarget, Provider, SubscriberId, Subscription};

/// The message of a successful registration, as the reference server words it.
pub const REGISTERED_MSG: &str = "Thanks for the registration. It worked. When the feed updates we'll notify you. Don't forget to re-register after 24 hours, your subscription will expire in 25. Keep on truckin!";
/// The message of an accepted ping.
pub const PING_MSG: &str = "Thanks for the ping.";

impl Provider {
    /// Registers (or renews) a subscriber for each URL, after verifying its
    /// callback: a challenge GET when `domain` is given, otherwise a test
    /// notification to the caller's address. Nothing is stored unless every
    /// URL is one of this tenant's feeds and verification passes.
    pub async fn please_notify(&self, origin: &Origin, caller: IpAddr, req: &PleaseNotify) -> Result<usize, Error> {
        let tenant = origin.tenant();
        let mut feeds = Vec::with_capacity(req.urls.len());
        for url in &req.urls {
            feeds.push((self.hosted_feed(tenant, url).await?, url.as_str().to_owned()));
        }
        let callback = req.callback_url(caller);
        let target = NotifyTarget { protocol: req.protocol, callback: callback.clone(), procedure: req.notify_procedure.clone() };
        for (_, resource) in &feeds {
            let verified = match (&req.domain, req.protocol) {
                (Some(_), p) if p != cloudim_protocol::NotifyProtocol::XmlRpc => {
                    let mut bytes = [0u8; 16];
                    rand::rng().fill_bytes(&mut bytes);
                    self.ports.outbound.challenge(&callback, resource, &hex::encode(bytes)).await
                }
                _ => self.ports.outbound.notify(&target, resource).await,
            };
            if let Err(e) = verified {
                return Err(Error::VerificationFailed(format!(
                    "The subscription was cancelled because the call failed when we tested the handler: {e}"
                )));
            }
        }
        let now = self.ports.clock.now();
        let ttl = self.settings.subscription_ttl.as_secs();
        for (feed, resource) in &feeds {
            let sub = Subscription {
                feed: feed.clone(),
                id: SubscriberId::derive(req.protocol, &callback, req.notify_procedure.as_deref()),
                resource: resource.clone(),
                protocol: req.protocol,
                callback: callback.clone(),
                procedure: req.notify_procedure.clone(),
                created_at: now,
                renewed_at: now,
                expires_at: now + ttl,
                failures: 0,
            };
            self.ports.subscriptions.put(tenant, &sub).await?;
        }
        tracing::info!(tenant = %tenant, feeds = feeds.len(), protocol = req.protocol.as_str(), "subscription registered");
        Ok(feeds.len())
    }

    /// Accepts a ping for one of this tenant's feeds and schedules its fan-out.
    pub async fn ping(&self, origin: &Origin, ping: &Ping) -> Result<(), Error> {
        let tenant = origin.tenant();
        let feed = self.hosted_feed(tenant, &ping.url).await?;
        self.ports.dispatcher.feed_changed(tenant, &feed).await?;
        Ok(())
    }

    /// Maps a resource URL to one of this tenant's feeds, or explains why not.
    async fn hosted_feed(&self, tenant: &Tenant, url: &Url) -> Result<FeedId, Error> {
        let not_ours = || Error::NotFound(format!("{url} is not a feed hosted here"));
        let host = url.host_str().map(|h| h.to_ascii_lowercase()).ok_or_else(not_ours)?;
        if host != tenant.as_str() {
            return Err(not_ours());
        }
        let id = url.path().strip_prefix("/feeds/").filter(|s| !s.contains('/')).ok_or_else(not_ours)?;
        let feed = FeedId::parse(id).map_err(|_| not_ours())?;
        self.ports.accounts.get_feed(tenant, &feed).await?.ok_or_else(not_ours)?;
        Ok(feed)
    }
}
