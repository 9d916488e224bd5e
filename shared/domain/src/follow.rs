//! The subscriber side: our accounts follow feeds hosted elsewhere. We
//! register our callback with the feed's cloud, and on each notification
//! fetch the feed (conditional GET) and record new items for every local
//! follower, once each and in order, catching up through archive pages when
//! items were archived in between.

use std::collections::HashSet;

use cloudim_protocol::form::encode_form;
use cloudim_protocol::rsscloud::parse_http_url;
use cloudim_protocol::{AccountName, FeedDocument, FeedItem, Origin, Tenant};

use crate::{Error, Fetched, Follow, InboxItem, Provider};

/// The origin a stored callback base URL names, if it belongs to `tenant`.
fn origin_of(base: &str, tenant: &Tenant) -> Option<Origin> {
    let url = url::Url::parse(base).ok()?;
    let host = match url.port() {
        Some(p) => format!("{}:{p}", url.host_str()?),
        None => url.host_str()?.to_owned(),
    };
    Origin::from_host(url.scheme() == "https", &host).ok().filter(|o| o.tenant() == tenant)
}

impl Provider {
    /// Makes `account` follow the feed at `feed_url`: fetch it, register our
    /// callback with its cloud, and record everything it already holds.
    pub async fn follow(&self, origin: &Origin, account: &AccountName, feed_url: &str) -> Result<Follow, Error> {
        let url = parse_http_url(feed_url.trim()).map_err(Error::invalid)?;
        let feed_url = url.as_str();
        let tenant = origin.tenant();
        let now = self.ports.clock.now();
        let existing = self.ports.inbox.follows_of(tenant, feed_url).await?.into_iter().find(|f| &f.account == account);
        let follow = match existing {
            Some(f) => Follow { renewed_at: now, callback_origin: Some(origin.base_url()), ..f },
            None => Follow {
                feed_url: feed_url.to_owned(),
                account: account.clone(),
                next_seq: 0,
                etag: None,
                created_at: now,
                renewed_at: now,
                callback_origin: Some(origin.base_url()),
            },
        };
        // Recorded first: the cloud verifies our callback with a challenge
        // that is answered only for followed feeds.
        self.ports.inbox.put_follow(tenant, &follow).await?;
        self.register_with_cloud(origin, feed_url).await?;
        self.sync_feed(tenant, feed_url).await?;
        Ok(follow)
    }

    /// Handles a notification that `feed_url` changed.
    pub async fn on_notification(&self, tenant: &Tenant, feed_url: &str) -> Result<usize, Error> {
        let url = parse_http_url(feed_url.trim()).map_err(Error::invalid)?;
        self.sync_feed(tenant, url.as_str()).await
    }

    /// Whether any local account follows this feed (for challenge replies).
    pub async fn is_followed(&self, tenant: &Tenant, feed_url: &str) -> Result<bool, Error> {
        Ok(!self.ports.inbox.follows_of(tenant, feed_url).await?.is_empty())
    }

    /// Registers again, with each feed's cloud, every follow of every
    /// tenant last registered more than `settings.follow_renew_after` ago
    /// (subscriptions lapse 25 hours after registration), then catches up
    /// on anything missed. Runs on a schedule: hourly in the local
    /// provider, from an EventBridge schedule on AWS. One feed failing does
    /// not stop the others; the count of follows renewed is returned.
    pub async fn renew_due(&self) -> Result<usize, Error> {
        let now = self.ports.clock.now();
        let max_age = self.settings.follow_renew_after.as_secs();
        let mut renewed = 0;
        for tenant in self.ports.inbox.follow_tenants().await? {
            let mut done: Vec<(String, String)> = Vec::new();
            for f in self.ports.inbox.all_follows(&tenant).await? {
                if now.saturating_sub(f.renewed_at) < max_age {
                    continue;
                }
                let Some(origin) = f.callback_origin.as_deref().and_then(|o| origin_of(o, &tenant)) else {
                    tracing::warn!(tenant = %tenant, "a follow without a callback origin cannot be renewed; follow the feed again");
                    continue;
                };
                let key = (origin.base_url(), f.feed_url.clone());
                if !done.contains(&key) {
                    if let Err(e) = self.register_with_cloud(&origin, &f.feed_url).await {
                        tracing::warn!(tenant = %tenant, error = %e, "renewing a follow failed; retried at the next run");
                        continue;
                    }
                    done.push(key);
                }
                self.ports.inbox.put_follow(&tenant, &Follow { renewed_at: now, ..f.clone() }).await?;
                renewed += 1;
                if let Err(e) = self.sync_feed(&tenant, &f.feed_url).await {
                    tracing::warn!(tenant = %tenant, error = %e, "catching up after a renewal failed");
                }
            }
        }
        Ok(renewed)
    }

    /// Items recorded for an account from one followed feed, after a sequence number.
    pub async fn inbox_items(&self, tenant: &Tenant, account: &AccountName, feed_url: &str, after: Option<u64>, limit: usize) -> Result<Vec<InboxItem>, Error> {
        Ok(self.ports.inbox.list_items(tenant, account, feed_url, after, limit.clamp(1, 500)).await?)
    }

    async fn register_with_cloud(&self, origin: &Origin, feed_url: &str) -> Result<(), Error> {
        let doc = match self.ports.outbound.fetch(feed_url, None).await.map_err(|e| Error::Upstream(e.to_string()))? {
            Fetched::Body { body, .. } => FeedDocument::parse(&body).map_err(|e| Error::Upstream(format!("{feed_url}: {e}")))?,
            Fetched::NotModified => return Err(Error::Upstream(format!("{feed_url} answered 304 to an unconditional GET"))),
        };
        let cloud = doc.cloud.ok_or_else(|| Error::Upstream(format!("{feed_url} names no rssCloud endpoint")))?;
        let scheme = if cloud.protocol == "https-post" || cloud.port == 443 { "https" } else { "http" };
        let host = if cloud.domain.contains(':') { format!("[{}]", cloud.domain) } else { cloud.domain.clone() };
        let endpoint = format!("{scheme}://{host}:{}{}", cloud.port, cloud.path);
        let port = origin.port().to_string();
        let protocol = if origin.scheme() == "https" { "https-post" } else { "http-post" };
        let form = encode_form(&[
            ("notifyProcedure", ""),
            ("port", &port),
            ("path", &self.settings.callback_path),
            ("protocol", protocol),
            ("url1", feed_url),
            ("domain", origin.tenant().as_str()),
        ]);
        self.ports.outbound.please_notify(&endpoint, &form).await.map_err(|e| Error::Upstream(e.to_string()))
    }

    /// Fetches a followed feed and records what each follower has not seen.
    async fn sync_feed(&self, tenant: &Tenant, feed_url: &str) -> Result<usize, Error> {
        let follows = self.ports.inbox.follows_of(tenant, feed_url).await?;
        if follows.is_empty() {
            return Err(Error::NotFound(format!("no account here follows {feed_url}")));
        }
        let shared_etag = follows[0].etag.clone().filter(|e| follows.iter().all(|f| f.etag.as_deref() == Some(e)));
        let (head, etag) = match self.ports.outbound.fetch(feed_url, shared_etag.as_deref()).await.map_err(|e| Error::Upstream(e.to_string()))? {
            Fetched::NotModified => return Ok(0),
            Fetched::Body { body, etag } => {
                (FeedDocument::parse(&body).map_err(|e| Error::Upstream(format!("{feed_url}: {e}")))?, etag)
            }
        };
        let oldest_needed = follows.iter().map(|f| f.next_seq).min().unwrap_or(0);
        let items = self.items_since(head, oldest_needed).await?;
        let now = self.ports.clock.now();
        let mut recorded = 0;
        for f in &follows {
            let before = recorded;
            let mut next = f.next_seq;
            for (seq, item) in items.iter().filter(|(s, _)| *s >= f.next_seq) {
                let rec = InboxItem {
                    account: f.account.clone(),
                    feed_url: feed_url.to_owned(),
                    seq: *seq,
                    guid: item.guid.clone(),
                    payload: item.payload.clone(),
                    received_at: now,
                };
                if self.ports.inbox.add_item(tenant, &rec).await? {
                    recorded += 1;
                }
                next = seq + 1;
            }
            self.ports.inbox.advance_follow(tenant, feed_url, &f.account, next, etag.as_deref()).await?;
            if recorded > before {
                self.signals.wake(tenant, &f.account);
            }
        }
        if recorded > 0 {
            tracing::info!(tenant = %tenant, items = recorded, "new items recorded");
        }
        Ok(recorded)
    }

    /// Every item with a sequence number of at least `since`, oldest first,
    /// walking back through archive pages as far as needed.
    async fn items_since(&self, head: FeedDocument, since: u64) -> Result<Vec<(u64, FeedItem)>, Error> {
        let mut docs = vec![head];
        let mut seen: HashSet<String> = HashSet::new();
        while let Some(oldest) = docs.last() {
            if oldest.first_seq <= since || docs.len() > self.settings.max_catch_up_pages {
                break;
            }
            let Some(prev) = oldest.links.prev_archive.clone() else { break };
            if !seen.insert(prev.clone()) {
                break;
            }
            let page = match self.ports.outbound.fetch(&prev, None).await.map_err(|e| Error::Upstream(e.to_string()))? {
                Fetched::Body { body, .. } => FeedDocument::parse(&body).map_err(|e| Error::Upstream(format!("{prev}: {e}")))?,
                Fetched::NotModified => break,
            };
            docs.push(page);
        }
        let mut out = Vec::new();
        for doc in docs.into_iter().rev() {
            let first = doc.first_seq;
            for (i, item) in doc.items.into_iter().enumerate() {
                let seq = first + i as u64;
                if seq >= since && out.last().is_none_or(|(s, _): &(u64, FeedItem)| *s < seq) {
                    out.push((seq, item));
                }
            }
        }
        Ok(out)
    }
}
