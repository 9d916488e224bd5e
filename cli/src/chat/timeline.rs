//! From feed items to messages: open each item, check its inner header
//! against where it was found, check the sender's numbering, and join the
//! parts of long messages. Anything that does not check out becomes a
//! warning, never a message.

use cloudim_crypto::{PublicKey, SecretKey, open};
use cloudim_protocol::envelope::{Envelope, InnerHeader};
use serde::Serialize;

/// Where an item was found, which its signed header must repeat.
pub struct Expect<'a> {
    /// The sender's identity.
    pub from: &'a str,
    /// The recipient's identity.
    pub to: &'a str,
    /// The feed's URL.
    pub feed: &'a str,
}

/// One opened and checked item.
#[derive(Debug, Clone)]
pub struct Part {
    /// Its sequence number in the feed.
    pub feed_seq: u64,
    /// Its signed header.
    pub header: InnerHeader,
    /// Its body.
    pub body: Vec<u8>,
}

/// A whole message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChatMessage {
    /// The conversation's peer (identity URL).
    pub peer: String,
    /// Whether we sent it.
    pub from_me: bool,
    /// The sender's identity URL.
    pub sender: String,
    /// The message id.
    pub msg: String,
    /// When the sender composed it (Unix milliseconds).
    pub sent_at_ms: u64,
    /// The text (exactly the bytes sent; lossy only if they are not UTF-8).
    pub text: String,
    /// The exact bytes sent.
    #[serde(skip)]
    pub body: Vec<u8>,
    /// The feed sequence number of its last part.
    pub last_feed_seq: u64,
}

/// Opens one item with any of our keys (the current one first; earlier
/// ones still open old messages) and checks its header. `Err` says why it
/// is not shown.
pub fn check_item(keys: &[&SecretKey], trusted: &[&PublicKey], expect: &Expect<'_>, feed_seq: u64, guid: &str, payload: &str) -> Result<Part, String> {
    if trusted.is_empty() {
        return Err("no key is pinned for the sender, so nothing from them can be verified".into());
    }
    let mut result = Err(cloudim_crypto::CryptoError::NotForUs);
    for key in keys {
        result = open(payload.as_bytes(), key, trusted);
        if !matches!(result, Err(cloudim_crypto::CryptoError::NotForUs)) {
            break;
        }
    }
    let opened = result.map_err(|e| e.to_string())?;
    let env = Envelope::decode(&opened.plaintext).map_err(|e| e.to_string())?;
    let h = &env.header;
    let mismatch = |what: &str, got: &str, want: &str| Err(format!("its signed header names {what} {got}, but it was found as {want}"));
    if h.from != expect.from {
        return mismatch("sender", &h.from, expect.from);
    }
    if h.to != expect.to {
        return mismatch("recipient", &h.to, expect.to);
    }
    if h.feed != expect.feed {
        return mismatch("feed", &h.feed, expect.feed);
    }
    if h.guid != guid {
        return mismatch("guid", &h.guid, guid);
    }
    Ok(Part { feed_seq, header: env.header, body: env.body })
}

/// Checks the sender's numbering over consecutive parts (`last` is the
/// highest number already accepted) and joins parts into messages.
/// Returns the messages, the warnings, the new highest number, and the
/// parts of a message still incomplete at the end.
pub fn assemble(peer: &str, from_me: bool, mut last: u64, parts: Vec<Part>) -> (Vec<ChatMessage>, Vec<String>, u64, Vec<Part>) {
    let mut messages = Vec::new();
    let mut warnings = Vec::new();
    let mut pending: Vec<Part> = Vec::new();
    for part in parts {
        let seq = part.header.seq;
        if seq <= last {
            warnings.push(format!(
                "an item from {} numbered {seq} came after {last}: replayed or out of order, not shown",
                part.header.from
            ));
            continue;
        }
        if seq > last + 1 {
            let missing = seq - last - 1;
            warnings.push(format!("{missing} item(s) from {} are missing before number {seq} (dropped or withheld)", part.header.from));
        }
        last = seq;
        if pending.first().is_some_and(|p| p.header.msg != part.header.msg) {
            warnings.push(format!("message {} from {} is incomplete", pending[0].header.msg, pending[0].header.from));
            pending.clear();
        }
        if part.header.part as usize != pending.len() {
            warnings.push(format!("part {} of message {} arrived out of order; not shown", part.header.part, part.header.msg));
            pending.clear();
            continue;
        }
        let parts = part.header.parts as usize;
        pending.push(part);
        if pending.len() == parts {
            let first = &pending[0].header;
            let body: Vec<u8> = pending.iter().flat_map(|p| p.body.iter().copied()).collect();
            messages.push(ChatMessage {
                peer: peer.to_owned(),
                from_me,
                sender: first.from.clone(),
                msg: first.msg.clone(),
                sent_at_ms: first.sent_at_ms,
                text: String::from_utf8_lossy(&body).into_owned(),
                body,
                last_feed_seq: pending.last().map(|p| p.feed_seq).unwrap_or(0),
            });
            pending.clear();
        }
    }
    (messages, warnings, last, pending)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use cloudim_crypto::seal;

    const A: &str = "https://a.example/u/alice";
    const B: &str = "https://b.example/u/bob";
    const FEED: &str = "https://a.example/feeds/0123";

    fn header(seq: u64, guid: &str, msg: &str, part: u32, parts: u32) -> InnerHeader {
        InnerHeader { from: A.into(), to: B.into(), feed: FEED.into(), guid: guid.into(), seq, msg: msg.into(), part, parts, sent_at_ms: seq }
    }

    fn part(seq: u64, msg: &str, part_no: u32, parts: u32, body: &str) -> Part {
        Part { feed_seq: seq, header: header(seq, &format!("g{seq}"), msg, part_no, parts), body: body.as_bytes().to_vec() }
    }

    #[test]
    fn a_header_that_does_not_match_where_the_item_was_found_is_refused() {
        let alice = SecretKey::generate("alice").unwrap();
        let bob = SecretKey::generate("bob").unwrap();
        let item = seal(&Envelope { header: header(1, "g1", "m", 0, 1), body: b"hi".to_vec() }.encode(), &alice, &[&bob.public()]).unwrap();
        let trusted = [&alice.public()];
        let here = Expect { from: A, to: B, feed: FEED };
        assert_eq!(check_item(&[&bob], &trusted, &here, 0, "g1", &item).unwrap().body, b"hi");
        // Replayed into another feed, under another GUID, or claimed for another sender.
        let other_feed = Expect { feed: "https://a.example/feeds/9999", ..here };
        assert!(check_item(&[&bob], &trusted, &other_feed, 0, "g1", &item).unwrap_err().contains("names feed"));
        assert!(check_item(&[&bob], &trusted, &here, 5, "g2", &item).unwrap_err().contains("names guid"));
        let as_carol = Expect { from: "https://c.example/u/carol", ..here };
        assert!(check_item(&[&bob], &trusted, &as_carol, 0, "g1", &item).unwrap_err().contains("names sender"));
        // Signed by a key not pinned for the sender.
        let mallory = SecretKey::generate("mallory").unwrap();
        let forged = seal(&Envelope { header: header(1, "g1", "m", 0, 1), body: b"hi".to_vec() }.encode(), &mallory, &[&bob.public()]).unwrap();
        assert!(check_item(&[&bob], &trusted, &here, 0, "g1", &forged).unwrap_err().contains("not signed by the expected key"));
        // Not an envelope at all, though properly sealed.
        let raw = seal(b"just text", &alice, &[&bob.public()]).unwrap();
        assert!(check_item(&[&bob], &trusted, &here, 0, "g1", &raw).unwrap_err().contains("not a cloudim envelope"));
        // Nothing pinned: nothing verifies.
        assert!(check_item(&[&bob], &[], &here, 0, "g1", &item).unwrap_err().contains("no key is pinned"));
    }

    #[test]
    fn numbering_reveals_replays_reordering_and_gaps() {
        let (msgs, warnings, last, held) = assemble(A, false, 0, vec![part(1, "m1", 0, 1, "one"), part(2, "m2", 0, 1, "two")]);
        assert_eq!((msgs.len(), warnings.len(), last, held.len()), (2, 0, 2, 0));

        let (msgs, warnings, _, _) = assemble(A, false, 2, vec![part(2, "m2", 0, 1, "two again"), part(3, "m3", 0, 1, "three")]);
        assert_eq!(msgs.iter().map(|m| m.text.as_str()).collect::<Vec<_>>(), ["three"]);
        assert!(warnings[0].contains("replayed or out of order"), "{warnings:?}");

        let (msgs, warnings, last, _) = assemble(A, false, 3, vec![part(6, "m6", 0, 1, "six")]);
        assert_eq!((msgs.len(), last), (1, 6));
        assert!(warnings[0].contains("2 item(s)") && warnings[0].contains("missing"), "{warnings:?}");
    }

    #[test]
    fn parts_join_in_order_and_an_unfinished_message_is_held() {
        let (msgs, warnings, _, held) = assemble(A, false, 0, vec![part(1, "m", 0, 3, "ab"), part(2, "m", 1, 3, "cd"), part(3, "m", 2, 3, "ef"), part(4, "n", 0, 2, "x")]);
        assert!(warnings.is_empty(), "{warnings:?}");
        assert_eq!(msgs.len(), 1);
        assert_eq!(msgs[0].body, b"abcdef");
        assert_eq!(msgs[0].last_feed_seq, 3);
        assert_eq!(held.len(), 1, "the second message waits for its last part");
        let (msgs, _, _, held) = assemble(A, false, 4, held.into_iter().chain([part(5, "n", 1, 2, "y")]).collect::<Vec<_>>()[1..].to_vec());
        assert!(msgs.is_empty() && held.is_empty(), "a part without its first part is not shown");
    }
}
