//! The plaintext of one conversation item, before it is signed and
//! encrypted: a signed inner header, then the body.
//!
//! ```text
//! cloudim-envelope/1\n
//! {"from":…,"to":…,"feed":…,"guid":…,"seq":…,"msg":…,"part":…,"parts":…,"sent_at_ms":…}\n
//! <body bytes>
//! ```
//!
//! Everything but the item's GUID lives in here, inside the OpenPGP
//! message. The header binds the item to its sender, its recipient, its
//! feed and its GUID, and numbers the sender's items in that feed (1, 2,
//! 3, …) so a reader notices an item replayed from elsewhere, reordered,
//! or missing. A message longer than one item's worth is split into parts
//! that share `msg` and are numbered `part` of `parts`.

use serde::{Deserialize, Serialize};

/// The first line of every envelope.
pub const ENVELOPE_MAGIC: &str = "cloudim-envelope/1";

/// The most body bytes one item carries; longer messages are split.
/// Sealed and armored, a full part stays well under the provider's
/// default item limit of 128 KiB.
pub const MAX_PART_BYTES: usize = 64 * 1024;

/// The signed inner header of an item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InnerHeader {
    /// The sender's identity URL.
    pub from: String,
    /// The recipient's identity URL.
    pub to: String,
    /// The URL of the feed the item is published in.
    pub feed: String,
    /// The item's GUID in that feed.
    pub guid: String,
    /// The sender's running number of items in this feed, from 1.
    pub seq: u64,
    /// The id of the message this item is a part of.
    pub msg: String,
    /// Which part, from 0.
    pub part: u32,
    /// How many parts the message has.
    pub parts: u32,
    /// When the sender composed it (Unix milliseconds).
    pub sent_at_ms: u64,
}

/// Why bytes are not an envelope.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EnvelopeError {
    /// The first line is not [`ENVELOPE_MAGIC`].
    #[error("not a cloudim envelope (the first line must be {ENVELOPE_MAGIC})")]
    Magic,
    /// The header line is missing or not valid JSON of the right shape.
    #[error("the envelope header is unreadable: {0}")]
    Header(String),
    /// The part numbers do not make sense.
    #[error("the envelope says part {part} of {parts}")]
    Parts {
        /// The part number given.
        part: u32,
        /// The number of parts given.
        parts: u32,
    },
}

/// A header and its body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    /// The signed header.
    pub header: InnerHeader,
    /// The body (one part of the message), byte-exact.
    pub body: Vec<u8>,
}

impl Envelope {
    /// The bytes to sign and encrypt.
    pub fn encode(&self) -> Vec<u8> {
        let header = serde_json::to_vec(&self.header).unwrap_or_default();
        let mut out = Vec::with_capacity(ENVELOPE_MAGIC.len() + header.len() + self.body.len() + 2);
        out.extend_from_slice(ENVELOPE_MAGIC.as_bytes());
        out.push(b'\n');
        out.extend_from_slice(&header);
        out.push(b'\n');
        out.extend_from_slice(&self.body);
        out
    }

    /// Reads decrypted bytes back.
    ///
    /// ```
    /// use cloudim_protocol::envelope::{Envelope, InnerHeader};
    /// let header = InnerHeader {
    ///     from: "https://a.example/".into(), to: "https://b.example/".into(),
    ///     feed: "https://a.example/feeds/x".into(), guid: "g1".into(), seq: 1,
    ///     msg: "m1".into(), part: 0, parts: 1, sent_at_ms: 5,
    /// };
    /// let e = Envelope { header, body: b"line 1\n\nline 3\n".to_vec() };
    /// assert_eq!(Envelope::decode(&e.encode()).unwrap(), e);
    /// assert!(Envelope::decode(b"hello").is_err());
    /// ```
    pub fn decode(bytes: &[u8]) -> Result<Self, EnvelopeError> {
        let rest = bytes.strip_prefix(ENVELOPE_MAGIC.as_bytes()).and_then(|r| r.strip_prefix(b"\n")).ok_or(EnvelopeError::Magic)?;
        let end = rest.iter().position(|b| *b == b'\n').ok_or_else(|| EnvelopeError::Header("no header line".into()))?;
        let header: InnerHeader = serde_json::from_slice(&rest[..end]).map_err(|e| EnvelopeError::Header(e.to_string()))?;
        if header.parts == 0 || header.part >= header.parts {
            return Err(EnvelopeError::Parts { part: header.part, parts: header.parts });
        }
        Ok(Self { header, body: rest[end + 1..].to_vec() })
    }
}

/// Splits a message body into parts of at most [`MAX_PART_BYTES`]; an
/// empty body is one empty part.
///
/// ```
/// use cloudim_protocol::envelope::{split_body, MAX_PART_BYTES};
/// assert_eq!(split_body(b"").len(), 1);
/// let big = vec![1u8; MAX_PART_BYTES * 2 + 1];
/// let parts = split_body(&big);
/// assert_eq!(parts.len(), 3);
/// assert_eq!(parts.concat(), big);
/// ```
pub fn split_body(body: &[u8]) -> Vec<Vec<u8>> {
    if body.is_empty() {
        return vec![Vec::new()];
    }
    body.chunks(MAX_PART_BYTES).map(<[u8]>::to_vec).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn any_body_round_trips(body in proptest::collection::vec(any::<u8>(), 0..4096), seq in 1u64..u64::MAX, from in "\\PC{0,40}") {
            let header = InnerHeader { from, to: "t".into(), feed: "f".into(), guid: "g".into(), seq, msg: "m".into(), part: 0, parts: 1, sent_at_ms: 1 };
            let e = Envelope { header, body };
            prop_assert_eq!(Envelope::decode(&e.encode()).unwrap(), e);
        }
    }

    #[test]
    fn bad_part_numbers_are_refused() {
        let header = InnerHeader { from: "a".into(), to: "b".into(), feed: "f".into(), guid: "g".into(), seq: 1, msg: "m".into(), part: 2, parts: 2, sent_at_ms: 1 };
        let bytes = Envelope { header, body: vec![] }.encode();
        assert_eq!(Envelope::decode(&bytes), Err(EnvelopeError::Parts { part: 2, parts: 2 }));
    }
}
