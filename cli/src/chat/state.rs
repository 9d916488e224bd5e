//! What the client remembers per conversation, and the outbox. Neither
//! holds plaintext: pins are public keys, the outbox holds sealed items.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::home::{Home, read_json, write_json};
use super::ChatError;

/// One conversation, as this device knows it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PeerState {
    /// The other person's identity URL.
    pub identity: String,
    /// Our feed to them.
    pub our_feed: String,
    /// Their feed to us.
    pub their_feed: String,
    /// Their key URL.
    pub their_key_url: String,
    /// The fingerprint their provider delivered at the handshake.
    pub handshake_fingerprint: String,
    /// Certificates trusted as theirs, oldest first; the last is the one
    /// messages are encrypted to. Earlier ones still verify old messages.
    pub trusted: Vec<String>,
    /// The fingerprint pinned now (of the last trusted certificate).
    pub pinned: Option<String>,
    /// A loud warning to repeat until resolved (a changed key).
    pub warning: Option<String>,
    /// The fingerprint their key URL or feed names now, when it is not
    /// the pinned one.
    #[serde(default)]
    pub changed_to: Option<String>,
    /// The number our next item in our feed gets (from 1).
    pub next_seq: u64,
    /// The highest number seen on their items so far.
    pub their_last_seq: u64,
    /// The feed sequence number of the last of their items shown.
    pub read_upto: Option<u64>,
    /// Last activity we know of (Unix milliseconds).
    pub last_activity_ms: u64,
}

impl PeerState {
    fn path(home: &Home, identity: &str) -> PathBuf {
        home.data.join("peers").join(format!("{}.json", cloudim_domain::FeedUrlKey::of(identity).as_str()))
    }

    /// Every conversation this device knows.
    pub fn all(home: &Home) -> Result<Vec<Self>, ChatError> {
        let dir = home.data.join("peers");
        let mut out = Vec::new();
        let entries = match std::fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
            Err(e) => return Err(e.into()),
        };
        for entry in entries {
            let path = entry?.path();
            if path.extension().is_some_and(|e| e == "json")
                && let Some(p) = read_json::<Self>(&path)?
            {
                out.push(p);
            }
        }
        out.sort_by(|a, b| a.identity.cmp(&b.identity));
        Ok(out)
    }

    /// Saves this conversation's state.
    fn save(&self, home: &Home) -> Result<(), ChatError> {
        write_json(&Self::path(home, &self.identity), self)
    }

    /// Reads one conversation's state.
    pub fn load(home: &Home, identity: &str) -> Result<Option<Self>, ChatError> {
        read_json(&Self::path(home, identity))
    }

    /// Changes one conversation's state under the home's state lock, on
    /// a fresh read, so a `watch` and a `send` (even in two processes) do
    /// not undo each other's changes. `seed` is stored if there is none yet.
    pub async fn update<R>(home: &Home, seed: &PeerState, f: impl FnOnce(&mut PeerState) -> R) -> Result<(PeerState, R), ChatError> {
        let _lock = lock(home, "state").await?;
        let mut p = Self::load(home, &seed.identity)?.unwrap_or_else(|| seed.clone());
        let r = f(&mut p);
        p.save(home)?;
        Ok((p, r))
    }
}

/// An exclusive lock on `name` within a home, across processes; released
/// when dropped.
pub async fn lock(home: &Home, name: &str) -> Result<std::fs::File, ChatError> {
    super::home::create_private_dir(&home.data)?;
    let path = home.data.join(format!(".{name}.lock"));
    tokio::task::spawn_blocking(move || {
        let f = std::fs::OpenOptions::new().create(true).truncate(false).write(true).open(&path)?;
        f.lock()?;
        Ok::<_, std::io::Error>(f)
    })
    .await
    .map_err(|e| ChatError::Local(e.to_string()))?
    .map_err(|e| ChatError::Local(format!("locking the client's state: {e}")))
}

/// A sealed item waiting to be published.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Queued {
    /// The peer it is for.
    pub peer: String,
    /// Our feed it goes to.
    pub feed: String,
    /// Its GUID (publishing twice stores it once).
    pub guid: String,
    /// The armored OpenPGP message.
    pub payload: String,
}

/// The outbox: sealed items in the order they were composed.
pub struct Outbox {
    dir: PathBuf,
}

impl Outbox {
    /// The outbox of a home.
    pub fn of(home: &Home) -> Self {
        Self { dir: home.data.join("outbox") }
    }

    /// Adds items, in order.
    pub fn push(&self, items: &[Queued]) -> Result<(), ChatError> {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
        for (i, item) in items.iter().enumerate() {
            write_json(&self.dir.join(format!("{now:024}-{i:06}-{}.json", item.guid)), item)?;
        }
        Ok(())
    }

    /// Whether nothing waits (without reading the items).
    pub fn is_empty(&self) -> Result<bool, ChatError> {
        match std::fs::read_dir(&self.dir) {
            Ok(mut entries) => Ok(!entries.any(|e| e.is_ok_and(|e| e.path().extension().is_some_and(|x| x == "json")))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(true),
            Err(e) => Err(e.into()),
        }
    }

    /// What is waiting, oldest first, with the file each is in.
    pub fn pending(&self) -> Result<Vec<(PathBuf, Queued)>, ChatError> {
        let mut paths: Vec<PathBuf> = match std::fs::read_dir(&self.dir) {
            Ok(entries) => entries.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.extension().is_some_and(|e| e == "json")).collect(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(e.into()),
        };
        paths.sort();
        let mut out = Vec::new();
        for p in paths {
            if let Some(q) = read_json::<Queued>(&p)? {
                out.push((p, q));
            }
        }
        Ok(out)
    }

    /// Moves an item the provider refused aside, so later ones can go.
    pub fn set_aside(&self, path: &std::path::Path) -> Result<(), ChatError> {
        let failed = self.dir.join("refused");
        super::home::create_private_dir(&failed)?;
        if let Some(name) = path.file_name() {
            std::fs::rename(path, failed.join(name))?;
        }
        Ok(())
    }
}
