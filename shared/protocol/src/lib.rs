//! Pure wire formats of cloudim: feeds (RSS 2.0 with RFC 5005 archive
//! paging), rssCloud requests and replies, XML-RPC, and the validated
//! identifiers that appear in them.
//!
//! Nothing here performs I/O or knows about AWS or an HTTP framework: every
//! function turns bytes into typed values or typed values into bytes.

pub mod archive;
pub mod feed;
pub mod form;
pub mod ids;
pub mod rsscloud;
pub mod tenant;
pub mod xmlrpc;

pub use archive::{ArchiveCut, Paging};
pub use feed::{CloudElement, FeedDocument, FeedError, FeedItem, FeedKind, FeedLinks};
pub use ids::{AccountName, FeedId, IdError, ItemId};
pub use rsscloud::{NotifyProtocol, NotifyResult, Ping, PleaseNotify, RssCloudError};
pub use tenant::{Origin, Tenant, TenantError};
