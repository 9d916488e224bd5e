//! Conversation feeds as RSS 2.0 documents.
//!
//! A feed document is either the head (the feed's URL) or an immutable
//! archive page (RFC 5005). Items carry only a GUID (the client-chosen id)
//! and an opaque payload in `<description>`: an armored OpenPGP message the
//! provider never reads. The channel carries the sequence number of its
//! oldest item in the cloudim namespace, so a reader knows exactly which
//! items it has and which it missed.

use std::collections::BTreeMap;

use rss::extension::atom::{AtomExtension, Link};
use rss::extension::{Extension, ExtensionMap};
use rss::{Channel, Cloud, Guid, Item};

use crate::ItemId;

/// The cloudim XML namespace for channel-level elements.
pub const CLOUDIM_NS: &str = "urn:cloudim:feed:1";
/// The RFC 5005 feed-history namespace (`fh:archive`).
pub const HISTORY_NS: &str = "http://purl.org/syndication/history/1.0";

const FIRST_SEQ: &str = "firstSeq";
const FINGERPRINT: &str = "fingerprint";
const KEY: &str = "key";

/// The publisher's OpenPGP certificate, as the channel carries it
/// (`<cloudim:fingerprint>` and `<cloudim:key>`). Readers compare it with
/// the fingerprint they pinned and warn when it changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublisherKey {
    /// The certificate's fingerprint (hex).
    pub fingerprint: String,
    /// The ASCII-armored certificate.
    pub armored: String,
}

/// Why a document is not a usable cloudim feed, or an item not storable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FeedError {
    /// The bytes are not an RSS 2.0 document.
    #[error("not an RSS 2.0 document: {0}")]
    NotRss(String),
    /// An item has no GUID, or its GUID is not a valid item id.
    #[error("an item has no valid guid")]
    BadGuid,
    /// An item has no `<description>` payload.
    #[error("an item has no payload")]
    MissingPayload,
    /// The payload is empty.
    #[error("the payload is empty")]
    EmptyPayload,
    /// The payload is larger than the configured limit.
    #[error("the payload is {size} bytes; the limit is {limit} bytes")]
    PayloadTooLarge {
        /// The payload's size in bytes.
        size: usize,
        /// The configured limit in bytes.
        limit: usize,
    },
    /// The payload has characters an XML document cannot carry exactly.
    #[error(
        "the payload contains a control character (carriage returns included); use \\n line endings and printable text"
    )]
    PayloadControlChar,
    /// `firstSeq` is present but not a number.
    #[error("the feed's firstSeq is not a number")]
    BadSequence,
}

/// One item: its GUID and its opaque payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedItem {
    /// The client-chosen id, rendered as `<guid isPermaLink="false">`.
    pub guid: ItemId,
    /// The opaque payload, rendered as `<description>`.
    pub payload: String,
}

impl FeedItem {
    /// Checks a payload against the size limit and the characters XML can
    /// carry byte-exact (no control characters but tab and line feed).
    ///
    /// Leading and trailing white space is not part of a payload (RSS
    /// readers trim it, and armored OpenPGP ignores it), so it is removed
    /// here: what is stored is exactly what every reader gets back.
    ///
    /// ```
    /// use cloudim_protocol::{FeedItem, ItemId};
    /// let id = ItemId::parse("m1").unwrap();
    /// assert!(FeedItem::new(id.clone(), "-----BEGIN PGP MESSAGE-----\n...".into(), 1024).is_ok());
    /// assert!(FeedItem::new(id.clone(), "x".repeat(2000), 1024).is_err());
    /// assert!(FeedItem::new(id.clone(), "a\r\nb".into(), 1024).is_err());
    /// assert_eq!(FeedItem::new(id, " x \n".into(), 1024).unwrap().payload, "x");
    /// ```
    pub fn new(guid: ItemId, payload: String, max_bytes: usize) -> Result<Self, FeedError> {
        let trimmed = payload.trim();
        let payload = if trimmed.len() == payload.len() { payload } else { trimmed.to_owned() };
        if payload.is_empty() {
            return Err(FeedError::EmptyPayload);
        }
        if payload.len() > max_bytes {
            return Err(FeedError::PayloadTooLarge { size: payload.len(), limit: max_bytes });
        }
        let bad = |c: char| {
            (c.is_control() && c != '\n' && c != '\t') || matches!(c, '\u{FFFE}' | '\u{FFFF}')
        };
        if payload.chars().any(bad) {
            return Err(FeedError::PayloadControlChar);
        }
        Ok(Self { guid, payload })
    }
}

/// The rssCloud `<cloud>` element of a channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloudElement {
    /// Host of the cloud's endpoint.
    pub domain: String,
    /// Port of the cloud's endpoint.
    pub port: u16,
    /// Path of the `pleaseNotify` endpoint.
    pub path: String,
    /// XML-RPC procedure name (empty for REST clouds).
    pub register_procedure: String,
    /// `http-post`, `https-post` or `xml-rpc`.
    pub protocol: String,
}

/// Whether a document is the head of a feed or one of its archive pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeedKind {
    /// The feed's subscription document.
    Head,
    /// An immutable archive page.
    Archive {
        /// The page number.
        page: u64,
    },
}

/// The URLs a document links to (RFC 5005 `current` and `prev-archive`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedLinks {
    /// The head document's URL (the feed URL).
    pub head: String,
    /// The previous archive page, when there is one.
    pub prev_archive: Option<String>,
}

impl FeedLinks {
    /// The URL of archive page `page` of a feed served by cloudim.
    ///
    /// ```
    /// assert_eq!(cloudim_protocol::FeedLinks::archive_url("http://h/feeds/x", 3), "http://h/feeds/x/archive/3");
    /// ```
    pub fn archive_url(head: &str, page: u64) -> String {
        format!("{head}/archive/{page}")
    }
}

/// A feed document, head or archive page, with items oldest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedDocument {
    /// Head or archive page.
    pub kind: FeedKind,
    /// The channel title.
    pub title: String,
    /// The URLs this document links to.
    pub links: FeedLinks,
    /// The rssCloud endpoint to register with for updates.
    pub cloud: Option<CloudElement>,
    /// The publisher's key, when the publisher has published one.
    pub publisher: Option<PublisherKey>,
    /// Sequence number of the first (oldest) item in `items`.
    pub first_seq: u64,
    /// When the feed last changed (RFC 822 date), if known.
    pub last_build_date: Option<String>,
    /// The items, oldest first.
    pub items: Vec<FeedItem>,
}

impl FeedDocument {
    /// The URL of this very document.
    pub fn self_url(&self) -> String {
        match self.kind {
            FeedKind::Head => self.links.head.clone(),
            FeedKind::Archive { page } => FeedLinks::archive_url(&self.links.head, page),
        }
    }

    /// The sequence number the next appended item gets.
    pub fn next_seq(&self) -> u64 {
        self.first_seq + self.items.len() as u64
    }

    /// Renders the document as RSS 2.0 (items newest first, as readers expect).
    /// The output is a pure function of the document.
    pub fn render(&self) -> Vec<u8> {
        let mut channel = Channel {
            title: self.title.clone(),
            link: self.links.head.clone(),
            description: match self.kind {
                FeedKind::Head => "cloudim conversation feed".to_owned(),
                FeedKind::Archive { page } => format!("cloudim conversation feed, archive page {page}"),
            },
            generator: Some("cloudim".to_owned()),
            docs: Some("https://www.rssboard.org/rss-specification".to_owned()),
            last_build_date: self.last_build_date.clone(),
            ..Channel::default()
        };
        channel.cloud = self.cloud.as_ref().map(|c| Cloud {
            domain: c.domain.clone(),
            port: c.port.to_string(),
            path: c.path.clone(),
            register_procedure: c.register_procedure.clone(),
            protocol: c.protocol.clone(),
        });
        let link = |rel: &str, href: String| Link {
            href,
            rel: rel.to_owned(),
            mime_type: Some("application/rss+xml".to_owned()),
            ..Link::default()
        };
        let mut links = vec![link("self", self.self_url())];
        if matches!(self.kind, FeedKind::Archive { .. }) {
            links.push(link("current", self.links.head.clone()));
        }
        if let Some(prev) = &self.links.prev_archive {
            links.push(link("prev-archive", prev.clone()));
        }
        channel.atom_ext = Some(AtomExtension { links });

        let mut namespaces = BTreeMap::new();
        namespaces.insert("cloudim".to_owned(), CLOUDIM_NS.to_owned());
        let mut ext = ExtensionMap::new();
        ext.entry("cloudim".to_owned()).or_default().insert(
            FIRST_SEQ.to_owned(),
            vec![Extension {
                name: format!("cloudim:{FIRST_SEQ}"),
                value: Some(self.first_seq.to_string()),
                ..Extension::default()
            }],
        );
        if let Some(key) = &self.publisher {
            let ns = ext.entry("cloudim".to_owned()).or_default();
            for (name, value) in [(FINGERPRINT, &key.fingerprint), (KEY, &key.armored)] {
                ns.insert(
                    name.to_owned(),
                    vec![Extension { name: format!("cloudim:{name}"), value: Some(value.clone()), ..Extension::default() }],
                );
            }
        }
        if matches!(self.kind, FeedKind::Archive { .. }) {
            namespaces.insert("fh".to_owned(), HISTORY_NS.to_owned());
            ext.entry("fh".to_owned()).or_default().insert(
                "archive".to_owned(),
                vec![Extension { name: "fh:archive".to_owned(), ..Extension::default() }],
            );
        }
        channel.namespaces = namespaces;
        channel.extensions = ext;
        channel.items = self
            .items
            .iter()
            .rev()
            .map(|it| Item {
                guid: Some(Guid { value: it.guid.as_str().to_owned(), permalink: false }),
                description: Some(it.payload.clone()),
                ..Item::default()
            })
            .collect();
        // Writing into a Vec cannot fail for I/O reasons, and every string
        // is escaped by the writer.
        channel.write_to(Vec::new()).unwrap_or_default()
    }

    /// Parses a feed document (ours, or another cloudim provider's).
    pub fn parse(bytes: &[u8]) -> Result<Self, FeedError> {
        let channel = Channel::read_from(bytes).map_err(|e| FeedError::NotRss(e.to_string()))?;
        let prefix_of = |ns: &str, default: &str| {
            channel
                .namespaces
                .iter()
                .find(|(_, uri)| uri.as_str() == ns)
                .map(|(p, _)| p.clone())
                .unwrap_or_else(|| default.to_owned())
        };
        let ext_value = |prefix: &str, name: &str| {
            channel.extensions.get(prefix).and_then(|m| m.get(name)).and_then(|v| v.first())
        };
        let ours = prefix_of(CLOUDIM_NS, "cloudim");
        let text_of = |name: &str| ext_value(&ours, name).and_then(|e| e.value.clone()).map(|v| v.trim().to_owned());
        let publisher = match (text_of(FINGERPRINT), text_of(KEY)) {
            (Some(fingerprint), Some(armored)) if !fingerprint.is_empty() && !armored.is_empty() => {
                Some(PublisherKey { fingerprint, armored })
            }
            _ => None,
        };
        let first_seq = match ext_value(&ours, FIRST_SEQ) {
            Some(e) => e
                .value
                .as_deref()
                .map(str::trim)
                .unwrap_or("")
                .parse()
                .map_err(|_| FeedError::BadSequence)?,
            None => 0,
        };
        let atom_links = channel.atom_ext.as_ref().map(|a| a.links.as_slice()).unwrap_or(&[]);
        let find_link = |rel: &str| atom_links.iter().find(|l| l.rel == rel).map(|l| l.href.clone());
        let is_archive = ext_value(&prefix_of(HISTORY_NS, "fh"), "archive").is_some();
        let kind = match (is_archive, find_link("self")) {
            (true, Some(url)) => FeedKind::Archive { page: page_from_url(&url).unwrap_or(0) },
            (true, None) => FeedKind::Archive { page: 0 },
            (false, _) => FeedKind::Head,
        };
        let head = find_link("current").filter(|_| is_archive).unwrap_or_else(|| channel.link.clone());
        let mut items = channel
            .items
            .iter()
            .map(|item| {
                let guid = item.guid.as_ref().ok_or(FeedError::BadGuid)?;
                let guid = ItemId::parse(guid.value.trim()).map_err(|_| FeedError::BadGuid)?;
                let payload = item.description.clone().ok_or(FeedError::MissingPayload)?;
                Ok(FeedItem { guid, payload })
            })
            .collect::<Result<Vec<_>, FeedError>>()?;
        items.reverse();
        Ok(Self {
            kind,
            title: channel.title.clone(),
            links: FeedLinks { head, prev_archive: find_link("prev-archive") },
            cloud: channel.cloud.as_ref().and_then(|c| {
                Some(CloudElement {
                    domain: c.domain.clone(),
                    port: c.port.trim().parse().ok()?,
                    path: c.path.clone(),
                    register_procedure: c.register_procedure.clone(),
                    protocol: c.protocol.clone(),
                })
            }),
            publisher,
            first_seq,
            last_build_date: channel.last_build_date.clone(),
            items,
        })
    }
}

fn page_from_url(url: &str) -> Option<u64> {
    url.rsplit_once("/archive/").and_then(|(_, n)| n.parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn doc(kind: FeedKind, items: Vec<FeedItem>) -> FeedDocument {
        FeedDocument {
            kind,
            title: "alice → bob".into(),
            links: FeedLinks {
                head: "http://a.example:8080/feeds/0123456789abcdef0123456789abcdef".into(),
                prev_archive: Some("http://a.example:8080/feeds/0123456789abcdef0123456789abcdef/archive/1".into()),
            },
            cloud: Some(CloudElement {
                domain: "a.example".into(),
                port: 8080,
                path: "/pleaseNotify".into(),
                register_procedure: String::new(),
                protocol: "http-post".into(),
            }),
            publisher: Some(PublisherKey {
                fingerprint: "0123456789ABCDEF0123456789ABCDEF01234567".into(),
                armored: "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nxjMEZ<&>\n=abcd\n-----END PGP PUBLIC KEY BLOCK-----".into(),
            }),
            first_seq: 40,
            last_build_date: Some("Sat, 21 Nov 2026 11:19:58 GMT".into()),
            items,
        }
    }

    fn item(id: &str, payload: &str) -> FeedItem {
        FeedItem::new(ItemId::parse(id).unwrap(), payload.into(), 1 << 20).unwrap()
    }

    #[test]
    fn head_round_trips_and_renders_rss_elements() {
        let d = doc(FeedKind::Head, vec![item("a", "<&>\"'"), item("b", "-----BEGIN PGP MESSAGE-----\n\nwcBMA\n")]);
        let xml = String::from_utf8(d.render()).unwrap();
        assert!(xml.contains(r#"<guid isPermaLink="false">b</guid>"#), "{xml}");
        assert!(xml.contains(r#"<cloud domain="a.example" port="8080" path="/pleaseNotify""#), "{xml}");
        assert!(xml.contains(r#"rel="prev-archive""#));
        assert!(xml.find(">b</guid>").unwrap() < xml.find(">a</guid>").unwrap(), "newest first");
        assert!(!xml.contains("fh:archive"));
        assert!(xml.contains("<cloudim:fingerprint>0123456789ABCDEF0123456789ABCDEF01234567</cloudim:fingerprint>"), "{xml}");
        assert_eq!(FeedDocument::parse(xml.as_bytes()).unwrap(), d);
    }

    #[test]
    fn archive_page_round_trips_with_fh_archive_and_current() {
        let d = doc(FeedKind::Archive { page: 2 }, vec![item("x", "p")]);
        let xml = String::from_utf8(d.render()).unwrap();
        assert!(xml.contains("<fh:archive"), "{xml}");
        assert!(xml.contains(r#"rel="current""#));
        assert_eq!(FeedDocument::parse(xml.as_bytes()).unwrap(), d);
    }

    #[test]
    fn rejects_non_rss_and_bad_items() {
        assert!(matches!(FeedDocument::parse(b"<html></html>"), Err(FeedError::NotRss(_))));
        assert!(matches!(FeedDocument::parse(b"\xff\xfe"), Err(FeedError::NotRss(_))));
        let no_guid = br#"<rss version="2.0"><channel><title>t</title><link>l</link><description>d</description><item><description>x</description></item></channel></rss>"#;
        assert_eq!(FeedDocument::parse(no_guid), Err(FeedError::BadGuid));
        let plain = br#"<rss version="2.0"><channel><title>t</title><link>http://x/f</link><description>d</description><item><guid>g1</guid><description>x</description></item></channel></rss>"#;
        let parsed = FeedDocument::parse(plain).unwrap();
        assert_eq!(parsed.first_seq, 0);
        assert_eq!(parsed.items.len(), 1);
        assert_eq!(parsed.kind, FeedKind::Head);
    }

    proptest! {
        #[test]
        fn any_valid_payload_round_trips(payloads in proptest::collection::vec("[^\\p{Cc}\u{FFFE}\u{FFFF}]{0,40}x(\n[^\\p{Cc}]{0,20})? ?\n?", 0..8)) {
            let items: Vec<FeedItem> = payloads.iter().enumerate()
                .map(|(i, p)| item(&format!("id-{i}"), p)).collect();
            let d = doc(FeedKind::Head, items);
            prop_assert_eq!(FeedDocument::parse(&d.render()).unwrap(), d);
        }
    }
}
