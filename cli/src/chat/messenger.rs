//! The client's use cases: set up, pin keys at the handshake, send
//! (through the outbox), read history, list chats, watch, trust.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::time::Duration;

use cloudim_crypto::{PublicKey, SecretKey, seal};
use cloudim_protocol::envelope::{Envelope, InnerHeader, split_body};
use cloudim_protocol::FeedDocument;
use rand::Rng;
use serde::Serialize;

use super::api::{Api, Got, InboxItem};
use super::home::{AccountFile, Home, write_json, write_private};
use super::state::{Outbox, PeerState, Queued, lock};
use super::timeline::{Expect, Part, assemble, check_item};
use super::ChatError;

pub use super::timeline::ChatMessage;

/// One client: an account, its secret key, its provider.
pub struct Messenger {
    /// Where things are kept.
    pub home: Home,
    /// The account.
    pub account: AccountFile,
    key: SecretKey,
    old_keys: Vec<SecretKey>,
    api: Api,
}

/// What `send` did.
#[derive(Debug, Clone, Serialize)]
pub struct SendReport {
    /// The message id.
    pub msg: String,
    /// How many items it became.
    pub parts: usize,
    /// Whether it is still in the outbox (the provider was unreachable).
    pub queued: bool,
    /// Items of earlier messages the provider refused (set aside).
    pub refused: Vec<String>,
}

/// What flushing the outbox did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Flushed {
    /// Items published.
    pub sent: usize,
    /// Items still waiting (the provider is unreachable).
    pub waiting: usize,
    /// Why items were refused (they are set aside in `outbox/refused`).
    pub refused: Vec<String>,
}

/// One line of `cloudim chats`.
#[derive(Debug, Clone, Serialize)]
pub struct Chat {
    /// The peer's identity URL.
    pub peer: String,
    /// Messages from them not yet read on this device.
    pub unread: usize,
    /// Last activity (Unix milliseconds; 0 when none).
    pub last_activity_ms: u64,
    /// Their pinned fingerprint.
    pub fingerprint: Option<String>,
    /// A warning about their key, if any.
    pub warning: Option<String>,
}

/// A pending incoming invitation, for `cloudim chats`.
#[derive(Debug, Clone, Serialize)]
pub struct PendingInvitation {
    /// Its id (for `cloudim accept`).
    pub id: String,
    /// Who invites.
    pub peer: String,
    /// Their key's fingerprint as delivered.
    pub fingerprint: String,
}

/// History of one conversation.
#[derive(Debug, Clone, Serialize)]
pub struct History {
    /// Messages both ways, oldest first.
    pub messages: Vec<ChatMessage>,
    /// What did not check out.
    pub warnings: Vec<String>,
}

/// What a watch keeps between polls.
#[derive(Default)]
pub struct WatchState {
    cursors: HashMap<String, Option<u64>>,
    held: HashMap<String, Vec<Part>>,
    synced: Option<std::time::Instant>,
}

/// How often a watch asks the provider for new conversations.
const WATCH_SYNC_EVERY: Duration = Duration::from_secs(5);

/// Unix milliseconds now.
pub fn now_ms() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

fn random_id() -> String {
    let mut b = [0u8; 16];
    rand::rng().fill(&mut b);
    b.iter().map(|x| format!("{x:02x}")).collect()
}

impl Messenger {
    /// Sets up an account in `home`: registers `name` (open registration)
    /// or signs in with `token`; generates a key or uses `key_file`; and
    /// publishes the public key. Refuses to replace a key the account has
    /// already published with a new one.
    pub async fn init(
        home: Home,
        provider: &str,
        name: Option<&str>,
        token: Option<&str>,
        key_file: Option<&Path>,
        passphrase: Option<&str>,
    ) -> Result<Self, ChatError> {
        if home.is_initialised() {
            return Err(ChatError::Local(format!("{} already holds an account; use --home DIR for another", home.config.display())));
        }
        let anonymous = Api::new(provider, None)?;
        let (token, name, identity) = match (name, token) {
            (_, Some(t)) => {
                let api = Api::new(provider, Some(t.to_owned()))?;
                let (name, identity) = api.whoami().await?;
                (t.to_owned(), name, identity)
            }
            (Some(n), None) => {
                let (t, identity) = anonymous.register(n).await?;
                (t, n.to_owned(), identity)
            }
            (None, None) => return Err(ChatError::Local("give --name NAME (a new account) or --token TOKEN (an existing one)".into())),
        };
        let api = Api::new(provider, Some(token.clone()))?;
        let published = api.published_fingerprint().await?;
        let key = match key_file {
            Some(f) => {
                let bytes = std::fs::read(f).map_err(|e| ChatError::Local(format!("reading {}: {e}", f.display())))?;
                SecretKey::parse(&bytes, passphrase)?
            }
            None if published.is_some() => {
                return Err(ChatError::Local(format!(
                    "this account already has key {}; bring it from your other device (`cloudim key export` there, then `cloudim init --token … --key FILE` here)",
                    published.unwrap_or_default()
                )));
            }
            None => SecretKey::generate(&format!("{name} <{identity}>"))?,
        };
        let fingerprint = key.fingerprint();
        if published.as_deref() != Some(fingerprint.as_str()) {
            api.publish_key(&key.public().armored(), fingerprint.as_str()).await?;
        }
        let account = AccountFile { provider: api.base().to_owned(), name, identity, token };
        write_private(&home.key_path(), key.export(passphrase)?.as_bytes())?;
        write_json(&home.account_path(), &account)?;
        Ok(Self { home, account, key, old_keys: Vec::new(), api })
    }

    /// Opens the account set up in `home`.
    pub fn open(home: Home, passphrase: Option<&str>) -> Result<Self, ChatError> {
        let account = home.account()?;
        let bytes = std::fs::read(home.key_path()).map_err(|e| ChatError::Local(format!("reading {}: {e}", home.key_path().display())))?;
        let key = SecretKey::parse(&bytes, passphrase)?;
        let mut old_keys = Vec::new();
        if let Ok(entries) = std::fs::read_dir(home.config.join("old-keys")) {
            for e in entries.flatten() {
                let bytes = std::fs::read(e.path())?;
                old_keys.push(SecretKey::parse(&bytes, passphrase)?);
            }
        }
        let api = Api::new(&account.provider, Some(account.token.clone()))?;
        Ok(Self { home, account, key, old_keys, api })
    }

    /// Our current key first, then earlier ones (for old messages).
    fn keys(&self) -> Vec<&SecretKey> {
        std::iter::once(&self.key).chain(&self.old_keys).collect()
    }

    /// The provider client.
    pub fn api(&self) -> &Api {
        &self.api
    }

    /// Our key's fingerprint.
    pub fn fingerprint(&self) -> String {
        self.key.fingerprint().as_str().to_owned()
    }

    /// Our secret key, armored (protected when a passphrase is given).
    pub fn export_key(&self, passphrase: Option<&str>) -> Result<String, ChatError> {
        Ok(self.key.export(passphrase)?)
    }

    /// Replaces this device's key with `file`. If the account has published
    /// another key, `publish` must be set: that is a key change everyone
    /// you talk to will be warned about.
    pub async fn import_key(&mut self, file: &Path, passphrase: Option<&str>, publish: bool) -> Result<String, ChatError> {
        let bytes = std::fs::read(file).map_err(|e| ChatError::Local(format!("reading {}: {e}", file.display())))?;
        let key = SecretKey::parse(&bytes, passphrase)?;
        let fingerprint = key.fingerprint().as_str().to_owned();
        let published = self.api.published_fingerprint().await?;
        if published.as_deref() != Some(fingerprint.as_str()) {
            if !publish {
                return Err(ChatError::Local(format!(
                    "{fingerprint} is not the key your account publishes ({}); add --publish to switch keys (everyone you talk to will be warned)",
                    published.unwrap_or_else(|| "none".into())
                )));
            }
            self.api.publish_key(&key.public().armored(), &fingerprint).await?;
        }
        if self.key.fingerprint() != key.fingerprint() {
            // The old key still opens the messages sent to it.
            let old = self.home.config.join("old-keys").join(format!("{}.asc", self.key.fingerprint().as_str()));
            write_private(&old, self.key.export(passphrase)?.as_bytes())?;
        }
        write_private(&self.home.key_path(), key.export(passphrase)?.as_bytes())?;
        let old = std::mem::replace(&mut self.key, key);
        if old.fingerprint() != self.key.fingerprint() {
            self.old_keys.push(old);
        }
        Ok(fingerprint)
    }

    /// The conversations this device knows, without asking the provider.
    pub fn peers(&self) -> Result<Vec<PeerState>, ChatError> {
        PeerState::all(&self.home)
    }

    /// Learns the provider's conversations and pins each new peer's key:
    /// the key at their key URL, which must have the fingerprint their
    /// provider delivered at the handshake.
    pub async fn sync(&self) -> Result<Vec<PeerState>, ChatError> {
        let remote = self.api.conversations().await?;
        for c in remote {
            let seed = PeerState {
                identity: c.peer.clone(),
                our_feed: c.our_feed.clone(),
                their_feed: c.their_feed.clone(),
                their_key_url: c.their_key.clone(),
                handshake_fingerprint: c.their_fingerprint.clone(),
                trusted: Vec::new(),
                pinned: None,
                warning: None,
                changed_to: None,
                next_seq: 1,
                their_last_seq: 0,
                read_upto: None,
                last_activity_ms: 0,
            };
            let known = PeerState::load(&self.home, &c.peer)?;
            if known.as_ref().is_some_and(|k| k.pinned.is_some() || k.warning.is_some()) {
                continue;
            }
            let fetched = self.fetch_key(&seed.their_key_url).await;
            PeerState::update(&self.home, &seed, |e| {
                if e.pinned.is_some() || e.warning.is_some() {
                    return;
                }
                match fetched {
                    Ok(key) if key.fingerprint().as_str() == e.handshake_fingerprint => {
                        e.pinned = Some(e.handshake_fingerprint.clone());
                        e.trusted.push(key.armored());
                    }
                    Ok(key) => {
                        e.warning = Some(format!(
                            "the key at {} ({}) is not the one delivered at the handshake ({}); nothing is pinned",
                            e.their_key_url,
                            key.fingerprint(),
                            e.handshake_fingerprint
                        ));
                    }
                    Err(_) => {} // tried again at the next sync
                }
            })
            .await?;
        }
        self.peers()
    }

    async fn fetch_key(&self, url: &str) -> Result<PublicKey, ChatError> {
        match self.api.get(url, None).await? {
            Got::Body(bytes, _) => Ok(PublicKey::parse(&bytes)?),
            Got::NotModified => Err(ChatError::Api(format!("{url} answered 304 to a plain GET"))),
        }
    }

    /// Finds a conversation by identity URL, `acct:name@host`, or name.
    pub async fn resolve(&self, peer: &str) -> Result<PeerState, ChatError> {
        if let Some(p) = find_peer(self.peers()?, peer)? {
            return Ok(p);
        }
        match self.sync().await {
            Ok(all) => find_peer(all, peer)?.ok_or_else(|| ChatError::UnknownPeer(peer.to_owned())),
            Err(ChatError::Unreachable(_)) => Err(ChatError::UnknownPeer(peer.to_owned())),
            Err(e) => Err(e),
        }
    }

    /// Seals a message to `peer` and sends it (through the outbox: when the
    /// provider is unreachable it waits there, sealed, for the next try).
    pub async fn send(&self, peer: &str, body: &[u8]) -> Result<SendReport, ChatError> {
        let p = self.resolve(peer).await?;
        if let Some(w) = &p.warning {
            return Err(self.key_changed(&p, w));
        }
        let pinned = p.trusted.last().ok_or_else(|| ChatError::Local(format!("no key is pinned for {} yet: their key could not be fetched; try again", p.identity)))?;
        let theirs = PublicKey::parse(pinned.as_bytes())?;
        // A changed key at their key URL stops the send until trusted.
        if let Ok(now) = self.fetch_key(&p.their_key_url).await
            && now.fingerprint() != theirs.fingerprint()
        {
            let warning = format!("their key URL now serves {}", now.fingerprint());
            let now_fpr = now.fingerprint().as_str().to_owned();
            PeerState::update(&self.home, &p, |e| {
                e.warning = Some(warning);
                e.changed_to = Some(now_fpr);
            })
            .await?;
            return Err(ChatError::KeyChanged { peer: p.identity.clone(), pinned: theirs.fingerprint().as_str().to_owned(), now: now.fingerprint().as_str().to_owned() });
        }
        let in_feed = self.next_seq_in_own_feed(&p).await.unwrap_or(1);
        let msg = random_id();
        let chunks = split_body(body);
        let parts = chunks.len() as u32;
        let sent_at_ms = now_ms();
        let me = self.key.public();
        {
            // Numbers are taken and items queued in one step, so two sends
            // at once (two processes) still queue in number order.
            let _outbox = lock(&self.home, "outbox").await?;
            let (_, first) = PeerState::update(&self.home, &p, |e| {
                let first = e.next_seq.max(in_feed);
                e.next_seq = first + u64::from(parts);
                e.last_activity_ms = e.last_activity_ms.max(sent_at_ms);
                first
            })
            .await?;
            let mut queued = Vec::with_capacity(chunks.len());
            for (i, chunk) in chunks.into_iter().enumerate() {
                let guid = random_id();
                let header = InnerHeader {
                    from: self.account.identity.clone(),
                    to: p.identity.clone(),
                    feed: p.our_feed.clone(),
                    guid: guid.clone(),
                    seq: first + i as u64,
                    msg: msg.clone(),
                    part: i as u32,
                    parts,
                    sent_at_ms,
                };
                let payload = seal(&Envelope { header, body: chunk }.encode(), &self.key, &[&theirs, &me])?;
                queued.push(Queued { peer: p.identity.clone(), feed: p.our_feed.clone(), guid, payload });
            }
            Outbox::of(&self.home).push(&queued)?;
        }
        let flushed = self.flush().await?;
        Ok(SendReport { msg, parts: parts as usize, queued: flushed.waiting > 0, refused: flushed.refused })
    }

    fn key_changed(&self, p: &PeerState, warning: &str) -> ChatError {
        match &p.changed_to {
            Some(now) => ChatError::KeyChanged { peer: p.identity.clone(), pinned: p.pinned.clone().unwrap_or_else(|| "nothing".into()), now: now.clone() },
            None => ChatError::Local(format!("{}: {warning}", p.identity)),
        }
    }

    /// The number after the highest one in our own feed (another device of
    /// ours may have sent since).
    async fn next_seq_in_own_feed(&self, p: &PeerState) -> Result<u64, ChatError> {
        let Got::Body(bytes, _) = self.api.get(&p.our_feed, None).await? else { return Ok(1) };
        let doc = FeedDocument::parse(&bytes).map_err(|e| ChatError::Api(e.to_string()))?;
        let me = self.key.public();
        let expect = Expect { from: &self.account.identity, to: &p.identity, feed: &p.our_feed };
        for (i, item) in doc.items.iter().enumerate().rev() {
            if let Ok(part) = check_item(&self.keys(), &[&me], &expect, doc.first_seq + i as u64, item.guid.as_str(), &item.payload) {
                return Ok(part.header.seq + 1);
            }
        }
        Ok(1)
    }

    /// Publishes what waits in the outbox, in order, until the provider is
    /// unreachable. Items the provider refuses are set aside and reported.
    pub async fn flush(&self) -> Result<Flushed, ChatError> {
        let _lock = lock(&self.home, "outbox").await?;
        let outbox = Outbox::of(&self.home);
        let pending = outbox.pending()?;
        let mut report = Flushed::default();
        for (i, (path, q)) in pending.iter().enumerate() {
            match self.api.publish(&q.feed, &q.guid, &q.payload).await {
                Ok(()) => {
                    match std::fs::remove_file(path) {
                        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e.into()),
                        _ => {}
                    }
                    report.sent += 1;
                }
                Err(ChatError::Unreachable(_)) => {
                    report.waiting = pending.len() - i;
                    break;
                }
                Err(e) => {
                    outbox.set_aside(path)?;
                    report.refused.push(format!("an item to {} was refused: {e}", q.peer));
                }
            }
        }
        Ok(report)
    }

    /// The conversation with `peer`, both ways, oldest first: the last
    /// `limit` messages, paging back through archive pages as needed.
    /// Marks their messages read.
    pub async fn read(&self, peer: &str, limit: usize) -> Result<History, ChatError> {
        let _ = self.flush().await;
        let p = self.resolve(peer).await?;
        let mut warnings = Vec::new();
        let me = self.key.public();
        let trusted = trusted_keys(&p);
        let trusted_refs: Vec<&PublicKey> = trusted.iter().collect();

        let (ours, _) = self.fetch_items(&p.our_feed, limit).await?;
        let ours_expect = Expect { from: &self.account.identity, to: &p.identity, feed: &p.our_feed };
        let (mut messages, w, _) = self.open_window(&p.identity, true, &ours, &[&me], &ours_expect);
        warnings.extend(w);

        let (theirs, publisher) = match self.fetch_items(&p.their_feed, limit).await {
            Ok(x) => x,
            Err(ChatError::Unreachable(host)) => {
                warnings.push(format!("{host} is unreachable: their messages are not shown"));
                (Vec::new(), None)
            }
            Err(e) => return Err(e),
        };
        let feed_changed = match (&publisher, &p.pinned) {
            (Some(fpr), Some(pinned)) if fpr != pinned => Some(fpr.clone()),
            _ => None,
        };
        let theirs_expect = Expect { from: &p.identity, to: &self.account.identity, feed: &p.their_feed };
        let (their_messages, w, last) = self.open_window(&p.identity, false, &theirs, &trusted_refs, &theirs_expect);
        warnings.extend(w);
        let newest_seen = theirs.last().map(|(seq, _, _)| *seq);
        let newest_sent = their_messages.iter().chain(messages.iter()).map(|m| m.sent_at_ms).max();
        let (p, ()) = PeerState::update(&self.home, &p, |e| {
            if let Some(seq) = newest_seen {
                e.read_upto = Some(e.read_upto.map_or(seq, |r| r.max(seq)));
            }
            e.their_last_seq = e.their_last_seq.max(last);
            e.last_activity_ms = e.last_activity_ms.max(newest_sent.unwrap_or(0));
            if e.warning.is_none()
                && let Some(fpr) = feed_changed
            {
                e.warning = Some(format!("their feed now names key {fpr}"));
                e.changed_to = Some(fpr);
            }
        })
        .await?;
        if let Some(w) = &p.warning {
            warnings.insert(0, format!("KEY CHANGED for {}: {w}; pinned is {}", p.identity, p.pinned.as_deref().unwrap_or("nothing")));
        }
        messages.extend(their_messages);
        messages.sort_by_key(|m| (m.sent_at_ms, m.from_me));
        let skip = messages.len().saturating_sub(limit);
        Ok(History { messages: messages.split_off(skip), warnings })
    }

    /// Opens a window of consecutive feed items. Returns the messages,
    /// the warnings and the highest sender number seen.
    fn open_window(&self, peer: &str, from_me: bool, items: &[(u64, String, String)], trusted: &[&PublicKey], expect: &Expect<'_>) -> (Vec<ChatMessage>, Vec<String>, u64) {
        let mut warnings = Vec::new();
        let mut parts = Vec::new();
        for (seq, guid, payload) in items {
            match check_item(&self.keys(), trusted, expect, *seq, guid, payload) {
                Ok(part) => parts.push(part),
                Err(why) => warnings.push(format!("item {seq} of {} is not shown: {why}", expect.feed)),
            }
        }
        let complete_history = items.first().is_some_and(|(s, _, _)| *s == 0);
        if !complete_history {
            while parts.first().is_some_and(|p| p.header.part != 0) {
                parts.remove(0);
            }
        }
        let last = if complete_history { 0 } else { parts.first().map(|p| p.header.seq.saturating_sub(1)).unwrap_or(0) };
        let (messages, w, last, incomplete) = assemble(peer, from_me, last, parts);
        warnings.extend(w);
        if !incomplete.is_empty() {
            warnings.push(format!("a message of {} parts is still arriving", incomplete[0].header.parts));
        }
        (messages, warnings, last)
    }

    /// The newest items of a feed (at least `want`, when it has them),
    /// oldest first, and the fingerprint its channel names.
    async fn fetch_items(&self, url: &str, want: usize) -> Result<(Vec<(u64, String, String)>, Option<String>), ChatError> {
        let mut pages = Vec::new();
        let mut next = Some(url.to_owned());
        let mut count = 0;
        let mut publisher = None;
        while let Some(u) = next.take() {
            let Got::Body(bytes, _) = self.api.get(&u, None).await? else { break };
            let doc = FeedDocument::parse(&bytes).map_err(|e| ChatError::Api(format!("{u}: {e}")))?;
            if pages.is_empty() {
                publisher = doc.publisher.as_ref().map(|k| k.fingerprint.clone());
            }
            count += doc.items.len();
            if count < want + 64 && pages.len() < 10_000 {
                next = doc.links.prev_archive.clone();
            }
            pages.push(doc);
        }
        let mut items = Vec::with_capacity(count);
        for doc in pages.into_iter().rev() {
            for (i, it) in doc.items.into_iter().enumerate() {
                items.push((doc.first_seq + i as u64, it.guid.as_str().to_owned(), it.payload));
            }
        }
        Ok((items, publisher))
    }

    /// Every conversation with its unread count and last activity, and
    /// the invitations waiting for a decision.
    pub async fn chats(&self) -> Result<(Vec<Chat>, Vec<PendingInvitation>), ChatError> {
        let _ = self.flush().await;
        let peers = self.sync().await?;
        let mut out = Vec::new();
        for p in peers {
            let mut unread = 0;
            let mut last = p.last_activity_ms;
            let trusted = trusted_keys(&p);
            let refs: Vec<&PublicKey> = trusted.iter().collect();
            let expect = Expect { from: &p.identity, to: &self.account.identity, feed: &p.their_feed };
            let mut after = p.read_upto;
            loop {
                let items = self.api.inbox(&p.their_feed, after, 500).await?;
                for it in &items {
                    if let Ok(part) = check_item(&self.keys(), &refs, &expect, it.seq, &it.guid, &it.payload) {
                        if part.header.part == 0 {
                            unread += 1;
                        }
                        last = last.max(part.header.sent_at_ms);
                    }
                }
                match items.last() {
                    Some(it) if items.len() == 500 => after = Some(it.seq),
                    _ => break,
                }
            }
            out.push(Chat { peer: p.identity.clone(), unread, last_activity_ms: last, fingerprint: p.pinned.clone(), warning: p.warning.clone() });
        }
        out.sort_by_key(|c| std::cmp::Reverse(c.last_activity_ms));
        let invitations = self
            .api
            .invitations()
            .await?
            .into_iter()
            .filter(|i| i["direction"] == "incoming" && i["state"] == "pending")
            .map(|i| PendingInvitation {
                id: i["id"].as_str().unwrap_or_default().to_owned(),
                peer: i["peer"].as_str().unwrap_or_default().to_owned(),
                fingerprint: i["fingerprint"].as_str().unwrap_or_default().to_owned(),
            })
            .collect();
        Ok((out, invitations))
    }

    /// One long poll: sends what waits in the outbox, then waits up to
    /// `wait` for new messages in any conversation. Messages returned are
    /// marked read.
    pub async fn watch_once(&self, state: &mut WatchState, wait: Duration) -> Result<(Vec<ChatMessage>, Vec<String>), ChatError> {
        if !Outbox::of(&self.home).is_empty()? {
            self.flush().await?;
        }
        let peers = if state.synced.is_none_or(|t| t.elapsed() >= WATCH_SYNC_EVERY) {
            let peers = self.sync().await?;
            state.synced = Some(std::time::Instant::now());
            peers
        } else {
            self.peers()?
        };
        let mut cursors = BTreeMap::new();
        for p in &peers {
            let c = state.cursors.entry(p.their_feed.clone()).or_insert(p.read_upto);
            cursors.insert(p.their_feed.clone(), *c);
        }
        let items = self.api.watch(&cursors, wait).await?;
        let mut by_feed: HashMap<String, Vec<InboxItem>> = HashMap::new();
        for it in items {
            by_feed.entry(it.feed.clone()).or_default().push(it);
        }
        let mut messages = Vec::new();
        let mut warnings = Vec::new();
        for p in peers {
            let Some(items) = by_feed.remove(&p.their_feed) else { continue };
            let trusted = trusted_keys(&p);
            let refs: Vec<&PublicKey> = trusted.iter().collect();
            let expect = Expect { from: &p.identity, to: &self.account.identity, feed: &p.their_feed };
            let mut parts = state.held.remove(&p.their_feed).unwrap_or_default();
            let mut last_rejected = None;
            for it in &items {
                state.cursors.insert(p.their_feed.clone(), Some(it.seq));
                match check_item(&self.keys(), &refs, &expect, it.seq, &it.guid, &it.payload) {
                    Ok(part) => parts.push(part),
                    Err(why) => {
                        warnings.push(format!("an item from {} is not shown: {why}", p.identity));
                        last_rejected = Some(it.seq);
                    }
                }
            }
            let base = p.their_last_seq;
            let (got, w, last, held) = assemble(&p.identity, false, base, parts);
            warnings.extend(w);
            let done_upto = got.last().map(|m| m.last_feed_seq).into_iter().chain(last_rejected).max();
            let held_from = held.first().map(|h| h.feed_seq);
            let done_upto = done_upto.map(|d| held_from.map_or(d, |h| d.min(h.saturating_sub(1))));
            let last = held.first().map_or(last, |h| h.header.seq - 1);
            let newest_sent = got.iter().map(|m| m.sent_at_ms).max().unwrap_or(0);
            PeerState::update(&self.home, &p, |e| {
                if let Some(d) = done_upto {
                    e.read_upto = Some(e.read_upto.map_or(d, |r| r.max(d)));
                }
                e.their_last_seq = e.their_last_seq.max(last);
                e.last_activity_ms = e.last_activity_ms.max(newest_sent);
            })
            .await?;
            if !held.is_empty() {
                state.held.insert(p.their_feed.clone(), held);
            }
            messages.extend(got);
        }
        Ok((messages, warnings))
    }

    /// Trusts `fingerprint` as `peer`'s key from now on: the key at their
    /// key URL (or in their feed) must have it.
    pub async fn trust(&self, peer: &str, fingerprint: &str) -> Result<String, ChatError> {
        let want = cloudim_protocol::Fingerprint::parse(fingerprint).map_err(|e| ChatError::Local(e.to_string()))?;
        let p = self.resolve(peer).await?;
        let mut found = Vec::new();
        if let Ok(k) = self.fetch_key(&p.their_key_url).await {
            found.push(k);
        }
        if let Ok(Got::Body(bytes, _)) = self.api.get(&p.their_feed, None).await
            && let Some(k) = FeedDocument::parse(&bytes).ok().and_then(|d| d.publisher).and_then(|k| PublicKey::parse(k.armored.as_bytes()).ok())
        {
            found.push(k);
        }
        let Some(key) = found.iter().find(|k| k.fingerprint() == want) else {
            let seen: Vec<String> = found.iter().map(|k| k.fingerprint().as_str().to_owned()).collect();
            return Err(ChatError::Local(format!(
                "{} does not publish key {} (their key URL and feed name: {})",
                p.identity,
                want.as_str(),
                if seen.is_empty() { "nothing reachable".to_owned() } else { seen.join(", ") }
            )));
        };
        let armored = key.armored();
        PeerState::update(&self.home, &p, |e| {
            e.trusted.retain(|t| PublicKey::parse(t.as_bytes()).is_ok_and(|k| k.fingerprint() != want));
            e.trusted.push(armored);
            e.pinned = Some(want.as_str().to_owned());
            e.warning = None;
            e.changed_to = None;
        })
        .await?;
        Ok(p.identity)
    }
}

fn trusted_keys(p: &PeerState) -> Vec<PublicKey> {
    p.trusted.iter().filter_map(|t| PublicKey::parse(t.as_bytes()).ok()).collect()
}

/// Matches a peer by identity URL, `acct:name@host`, or bare name.
fn find_peer(all: Vec<PeerState>, wanted: &str) -> Result<Option<PeerState>, ChatError> {
    let wanted = wanted.trim();
    let name_of = |identity: &str| identity.trim_end_matches('/').rsplit('/').next().unwrap_or("").to_owned();
    let host_of = |identity: &str| url::Url::parse(identity).ok().and_then(|u| u.host_str().map(str::to_owned));
    let normalised = cloudim_protocol::Identity::parse(wanted).ok().map(|i| i.as_str().to_owned());
    let acct = wanted.strip_prefix("acct:").and_then(|a| a.split_once('@'));
    let mut matches: Vec<PeerState> = all
        .into_iter()
        .filter(|p| {
            Some(p.identity.as_str()) == normalised.as_deref()
                || p.identity == wanted
                || acct.is_some_and(|(n, h)| name_of(&p.identity) == n && host_of(&p.identity).is_some_and(|ph| h.split(':').next() == Some(ph.as_str())))
                || (!wanted.contains(['/', ':', '@']) && name_of(&p.identity) == wanted)
        })
        .collect();
    match matches.len() {
        0 => Ok(None),
        1 => Ok(matches.pop()),
        _ => Err(ChatError::Local(format!(
            "'{wanted}' matches several conversations: {}; use the full identity URL",
            matches.iter().map(|p| p.identity.as_str()).collect::<Vec<_>>().join(", ")
        ))),
    }
}
