//! Pure wire formats of cloudim: feeds (RSS 2.0 with RFC 5005 archive
//! paging), rssCloud requests and replies, XML-RPC, endpoint discovery (Link
//! headers and HTML), the handshake's PM messages, WebFinger, and the validated
//! identifiers that appear in them.
//!
//! Nothing here performs I/O or knows about AWS or an HTTP framework: every
//! function turns bytes into typed values or typed values into bytes.

pub mod archive;
pub mod discovery;
pub mod envelope;
pub mod feed;
pub mod form;
pub mod identity;
pub mod ids;
pub mod link_header;
pub mod pm;
pub mod rsscloud;
pub mod tenant;
pub mod webfinger;
pub mod xmlrpc;

pub use archive::{ArchiveCut, Paging};
pub use feed::{CloudElement, FeedDocument, FeedError, FeedItem, FeedKind, FeedLinks, PublisherKey};
pub use identity::{Identity, IdentityError};
pub use ids::{AccountName, FeedId, Fingerprint, IdError, InvitationId, ItemId};
pub use rsscloud::{NotifyProtocol, NotifyResult, Ping, PleaseNotify, RssCloudError};
pub use tenant::{Origin, Tenant, TenantError};
