//! The server-to-server messages of the handshake, POSTed as JSON to a PM
//! endpoint (the URL an identity links with `rel="pm"`). One endpoint takes
//! every message; the `type` field says which. Unknown fields are ignored,
//! so later versions can add some.
//!
//! ```
//! use cloudim_protocol::pm::PmMessage;
//! let m: PmMessage = serde_json::from_str(r#"{"type":"notice","invitation":"0123456789abcdef0123456789abcdef",
//!     "from":"https://alice.example/","to":"https://bob.example/"}"#).unwrap();
//! assert!(matches!(m, PmMessage::Notice(_)));
//! ```

use serde::{Deserialize, Serialize};

use crate::{Fingerprint, Identity, InvitationId};

/// The protocol name and version a PM endpoint's metadata announces.
pub const PM_PROTOCOL: &str = "cloudim-pm/1";

/// The largest PM message accepted, in bytes.
pub const MAX_PM_MESSAGE: usize = 16 * 1024;

/// Any message a PM endpoint accepts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum PmMessage {
    /// Step 2: "invitation *id* from *from* to *to*". Unauthenticated; the
    /// receiver verifies it by discovery before believing a word of it.
    Notice(Notice),
    /// Step 3: the recipient's provider asks the sender's *discovered*
    /// endpoint to deliver the invitation, with a token it generated.
    Request(DeliveryRequest),
    /// Step 4: the sender's provider delivers the invitation with that token.
    Deliver(Delivery),
    /// The recipient declined; authenticated by the conversation token.
    Decline(Decline),
}

/// An invitation notice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notice {
    /// The invitation's id, chosen by the sender's provider.
    pub invitation: InvitationId,
    /// The claimed sender.
    pub from: Identity,
    /// The recipient, an identity the receiving endpoint serves.
    pub to: Identity,
}

/// A request to deliver an invitation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryRequest {
    /// The invitation asked for.
    pub invitation: InvitationId,
    /// Its sender, as the notice claimed.
    pub from: Identity,
    /// Its recipient.
    pub to: Identity,
    /// Where to deliver: the requester's PM endpoint, which `to` must name.
    pub endpoint: String,
    /// The single-use token the delivery must carry.
    pub token: String,
}

/// The invitation itself, delivered to the recipient's endpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delivery {
    /// The invitation's id.
    pub invitation: InvitationId,
    /// The token from the request (single use).
    pub token: String,
    /// The sender.
    pub from: Identity,
    /// The recipient.
    pub to: Identity,
    /// The sender's conversation feed (sender → recipient).
    pub feed: String,
    /// The sender's key URL.
    pub key: String,
    /// The sender's key fingerprint.
    pub fingerprint: Fingerprint,
    /// A token the recipient's provider presents on later calls about this
    /// conversation.
    pub conversation_token: String,
    /// Set when this invitation accepts an earlier one in the other direction.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub in_reply_to: Option<InvitationId>,
}

/// The answer to a delivery.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delivered {
    /// The token the sender's provider presents on later calls about this
    /// conversation.
    pub conversation_token: String,
}

/// A decline of an invitation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decline {
    /// The declined invitation.
    pub invitation: InvitationId,
    /// The conversation token its delivery carried.
    pub token: String,
}

/// The metadata `GET` of a PM endpoint returns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndpointInfo {
    /// Always [`PM_PROTOCOL`].
    pub protocol: String,
    /// The endpoint itself.
    pub endpoint: String,
    /// The message types it accepts.
    pub accepts: Vec<String>,
}
