//! Publishing: creating feeds, appending items (idempotent, paged, safe
//! under concurrent writers), and reading feed documents.

use std::time::Duration;

use bytes::Bytes;
use cloudim_protocol::{
    AccountName, CloudElement, FeedDocument, FeedId, FeedItem, FeedKind, FeedLinks, ItemId, Origin, PublisherKey, Tenant,
};
use rand::Rng;

use crate::{DocKey, Error, FeedRecord, Meter, Provider, PutCondition, StoreError, StoredDoc};

/// The longest channel title accepted.
pub const MAX_TITLE_CHARS: usize = 200;

/// What an append did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Appended {
    /// The item's sequence number in the feed.
    pub seq: u64,
    /// `true` when the id was already stored and nothing was written.
    pub duplicate: bool,
}

/// The URL of a feed's head as served by this provider.
pub fn feed_url(origin: &Origin, feed: &FeedId) -> String {
    format!("{}/feeds/{feed}", origin.base_url())
}

/// The `<cloud>` element this provider writes into its feeds.
pub fn cloud_element(origin: &Origin) -> CloudElement {
    CloudElement {
        domain: origin.tenant().as_str().trim_start_matches('[').trim_end_matches(']').to_owned(),
        port: origin.port(),
        path: "/pleaseNotify".to_owned(),
        register_procedure: String::new(),
        protocol: if origin.scheme() == "https" { "https-post" } else { "http-post" }.to_owned(),
    }
}

impl Provider {
    /// Creates a feed owned by `owner`, with an empty head document.
    pub async fn create_feed(&self, origin: &Origin, owner: &AccountName, title: Option<&str>) -> Result<FeedRecord, Error> {
        let title = match title.map(str::trim).filter(|t| !t.is_empty()) {
            Some(t) if t.chars().count() > MAX_TITLE_CHARS || t.chars().any(char::is_control) => {
                return Err(Error::Invalid(format!(
                    "a title is at most {MAX_TITLE_CHARS} characters, without control characters"
                )));
            }
            Some(t) => t.to_owned(),
            None => format!("{owner}'s feed"),
        };
        let mut bytes = [0u8; 16];
        rand::rng().fill(&mut bytes);
        let record = FeedRecord { id: FeedId::from_bytes(bytes), owner: owner.clone(), title, created_at: self.ports.clock.now() };
        let tenant = origin.tenant();
        self.ports.accounts.create_feed(tenant, &record).await?;
        let publisher = self.publisher_key(tenant, owner).await?;
        let head = FeedDocument { publisher, ..self.head_document(origin, &record, 0, Vec::new(), None) };
        match self.ports.feeds.put(tenant, &DocKey::Head(record.id.clone()), Bytes::from(head.render()), PutCondition::IfAbsent).await {
            Ok(_) | Err(StoreError::PreconditionFailed) => {}
            Err(e) => return Err(e.into()),
        }
        tracing::info!(tenant = %tenant, feed = %record.id, owner = %owner, "feed created");
        Ok(record)
    }

    /// Appends an item to a feed the account owns. The same item id twice
    /// stores one item; concurrent appends lose and duplicate nothing.
    pub async fn append(
        &self,
        origin: &Origin,
        account: &AccountName,
        feed: &FeedId,
        item_id: &str,
        payload: String,
    ) -> Result<Appended, Error> {
        let tenant = origin.tenant();
        let record = self.owned_feed(tenant, account, feed).await?;
        let item_id = ItemId::parse(item_id).map_err(Error::invalid)?;
        let item = FeedItem::new(item_id.clone(), payload, self.settings.max_item_bytes).map_err(|e| match e {
            cloudim_protocol::FeedError::PayloadTooLarge { .. } => Error::TooLarge(e.to_string()),
            other => Error::invalid(other),
        })?;

        let limits = self.admit(tenant).await?.limits;
        self.count_publish(tenant, &limits).await?;
        let publisher = self.publisher_key(tenant, &record.owner).await?;
        let _local = self.feed_lock(tenant, feed).lock().await;
        if let Some(seq) = self.marker(tenant, feed, &item_id).await? {
            return Ok(Appended { seq, duplicate: true });
        }
        // The payload's bytes are taken from the tenant's storage limit
        // first, and given back unless a new item was stored.
        let size = item.payload.len() as u64;
        self.take(tenant, &limits, Meter::StorageBytes, size).await?;
        let written = self.write_item(origin, &record, item, publisher).await;
        if !matches!(written, Ok(Appended { duplicate: false, .. })) {
            self.give_back(tenant, Meter::StorageBytes, size).await;
        }
        written
    }

    /// Writes a new item into the head (cutting an archive page when it is
    /// full) with conditional writes, retrying when another writer won.
    async fn write_item(&self, origin: &Origin, record: &FeedRecord, item: FeedItem, publisher: Option<PublisherKey>) -> Result<Appended, Error> {
        let tenant = origin.tenant();
        let feed = &record.id;
        let item_id = &item.guid;
        for attempt in 0..self.settings.publish_attempts {
            let head = self.ports.feeds.get(tenant, &DocKey::Head(feed.clone())).await?;
            let (doc, cond) = match head {
                Some(StoredDoc { body, etag }) => {
                    let doc = FeedDocument::parse(&body).map_err(|e| Error::Store(StoreError::Backend(format!("stored head unreadable: {e}"))))?;
                    (doc, PutCondition::IfMatch(etag))
                }
                None => (self.head_document(origin, record, 0, Vec::new(), None), PutCondition::IfAbsent),
            };
            if let Some(pos) = doc.items.iter().position(|i| i.guid == *item_id) {
                let seq = doc.first_seq + pos as u64;
                self.write_marker(tenant, feed, item_id, seq).await?;
                return Ok(Appended { seq, duplicate: true });
            }
            let seq = doc.next_seq();
            let mut items = doc.items;
            items.push(item.clone());
            let mut first_seq = doc.first_seq;
            let mut prev_archive = doc.links.prev_archive;
            if let Some(cut) = self.settings.paging.cut(first_seq, items.len()) {
                let page_items: Vec<FeedItem> = items.drain(..cut.count).collect();
                let page = FeedDocument { publisher: publisher.clone(), ..self.archive_document(origin, record, cut.page, first_seq, page_items) };
                self.ports.feeds
                    .put(tenant, &DocKey::Archive(feed.clone(), cut.page), Bytes::from(page.render()), PutCondition::Always)
                    .await?;
                first_seq += cut.count as u64;
                prev_archive = Some(FeedLinks::archive_url(&feed_url(origin, feed), cut.page));
            }
            let updated = httpdate::fmt_http_date(std::time::UNIX_EPOCH + Duration::from_secs(self.ports.clock.now()));
            let head = self.head_document(origin, record, first_seq, items, Some(updated));
            let head = FeedDocument { links: FeedLinks { prev_archive, ..head.links }, publisher: publisher.clone(), ..head };
            match self.ports.feeds.put(tenant, &DocKey::Head(feed.clone()), Bytes::from(head.render()), cond).await {
                Ok(_) => {
                    self.write_marker(tenant, feed, item_id, seq).await?;
                    if let Err(e) = self.ports.dispatcher.feed_changed(tenant, feed).await {
                        tracing::warn!(tenant = %tenant, feed = %feed, error = %e, "fan-out could not be scheduled");
                    }
                    return Ok(Appended { seq, duplicate: false });
                }
                Err(StoreError::PreconditionFailed) => {
                    let ceiling = 2u64.saturating_pow(attempt.min(6)).min(50);
                    let wait = rand::rng().random_range(0..=ceiling);
                    tokio::time::sleep(Duration::from_millis(wait)).await;
                }
                Err(e) => return Err(e.into()),
            }
        }
        Err(Error::Busy)
    }

    /// Reads a feed document: the head, or an archive page.
    pub async fn read_feed(&self, tenant: &Tenant, feed: &FeedId, page: Option<u64>) -> Result<StoredDoc, Error> {
        let key = match page {
            None => DocKey::Head(feed.clone()),
            Some(p) => DocKey::Archive(feed.clone(), p),
        };
        self.ports.feeds.get(tenant, &key).await?.ok_or_else(|| match page {
            None => Error::NotFound("there is no such feed".into()),
            Some(_) => Error::NotFound("there is no such archive page".into()),
        })
    }

    /// The owner's key as the channel carries it, if the owner published one.
    async fn publisher_key(&self, tenant: &Tenant, owner: &AccountName) -> Result<Option<PublisherKey>, Error> {
        let key = self.ports.handshake.get_key(tenant, owner).await?;
        Ok(key.map(|k| PublisherKey { fingerprint: k.fingerprint.as_str().to_owned(), armored: k.armored.trim().to_owned() }))
    }

    async fn owned_feed(&self, tenant: &Tenant, account: &AccountName, feed: &FeedId) -> Result<FeedRecord, Error> {
        let record = self.ports.accounts.get_feed(tenant, feed).await?.ok_or_else(|| Error::NotFound("there is no such feed".into()))?;
        if &record.owner != account {
            return Err(Error::Forbidden("only the feed's owner may publish to it".into()));
        }
        Ok(record)
    }

    async fn marker(&self, tenant: &Tenant, feed: &FeedId, item: &ItemId) -> Result<Option<u64>, Error> {
        let doc = self.ports.feeds.get(tenant, &DocKey::ItemMarker(feed.clone(), item.clone())).await?;
        Ok(doc.and_then(|d| std::str::from_utf8(&d.body).ok()?.trim().parse().ok()))
    }

    async fn write_marker(&self, tenant: &Tenant, feed: &FeedId, item: &ItemId, seq: u64) -> Result<(), Error> {
        let key = DocKey::ItemMarker(feed.clone(), item.clone());
        match self.ports.feeds.put(tenant, &key, Bytes::from(seq.to_string()), PutCondition::IfAbsent).await {
            Ok(_) | Err(StoreError::PreconditionFailed) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    fn head_document(&self, origin: &Origin, record: &FeedRecord, first_seq: u64, items: Vec<FeedItem>, updated: Option<String>) -> FeedDocument {
        let head = feed_url(origin, &record.id);
        let prev_archive = (first_seq > 0).then(|| {
            FeedLinks::archive_url(&head, self.settings.paging.page_of(first_seq) - 1)
        });
        FeedDocument {
            kind: FeedKind::Head,
            title: record.title.clone(),
            links: FeedLinks { head, prev_archive },
            cloud: Some(cloud_element(origin)),
            publisher: None,
            first_seq,
            last_build_date: updated,
            items,
        }
    }

    fn archive_document(&self, origin: &Origin, record: &FeedRecord, page: u64, first_seq: u64, items: Vec<FeedItem>) -> FeedDocument {
        let head = feed_url(origin, &record.id);
        let prev_archive = (page > 0).then(|| FeedLinks::archive_url(&head, page - 1));
        FeedDocument {
            kind: FeedKind::Archive { page },
            title: record.title.clone(),
            links: FeedLinks { head, prev_archive },
            cloud: None,
            publisher: None,
            first_seq,
            last_build_date: None,
            items,
        }
    }
}
