//! Shared by the chat tests and the chat benchmark: two strict local
//! providers that allow each other, people with their own client homes,
//! and a conversation opened through the real handshake.

#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use cloudim::chat::{Home, Messenger};
use cloudim_tests::TestApp;

/// Two providers that let anyone register, and their data directories.
pub struct World {
    pub a: TestApp,
    pub b: TestApp,
    pub dirs: [tempfile::TempDir; 2],
    pub homes: tempfile::TempDir,
}

const PROVIDER_FLAGS: &[&str] = &["--open-registration", "--inbox-poll-ms", "100"];

impl World {
    pub async fn start() -> Self {
        let (a, b, dirs) = cloudim_tests::two_local_providers(PROVIDER_FLAGS).await;
        Self { a, b, dirs, homes: tempfile::tempdir().unwrap() }
    }

    /// Both providers on S3 and DynamoDB (the emulator), each with its own
    /// bucket and table.
    pub async fn start_on(a: &cloudim_tests::StoreChoice, b: &cloudim_tests::StoreChoice) -> Self {
        let (a, b) = cloudim_tests::two_providers(a, b, PROVIDER_FLAGS).await;
        Self { a, b, dirs: [tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap()], homes: tempfile::tempdir().unwrap() }
    }

    /// A client home directory for `who` (one per device).
    pub fn home(&self, who: &str) -> PathBuf {
        self.homes.path().join(who)
    }

    /// Registers `name` on `provider` with a fresh key.
    pub async fn person(&self, provider: &TestApp, name: &str) -> Messenger {
        Messenger::init(Home::resolve(Some(&self.home(name))).unwrap(), &provider.base, Some(name), None, None, None).await.unwrap()
    }
}

/// Two providers, Alice on the first and Bob on the second, in an open
/// conversation.
pub async fn pair() -> (World, Messenger, Messenger) {
    let w = World::start().await;
    let alice = w.person(&w.a, "alice").await;
    let bob = w.person(&w.b, "bob").await;
    converse(&alice, &bob).await;
    (w, alice, bob)
}

/// `from` invites `to`; `to` accepts; both clients pin each other.
pub async fn converse(from: &Messenger, to: &Messenger) {
    let inv = from.api().raw(reqwest::Method::POST, "/invitations", Some(serde_json::json!({ "to": to.account.identity }))).await.unwrap();
    let id = inv["id"].as_str().unwrap().to_owned();
    let (_, pending) = to.chats().await.unwrap();
    let invitation = pending.iter().find(|i| i.id == id).expect("the invitation is pending");
    assert_eq!(invitation.fingerprint, from.fingerprint(), "the invitation carries the sender's fingerprint");
    to.api().raw(reqwest::Method::POST, &format!("/invitations/{id}/accept"), None).await.unwrap();
    for m in [from, to] {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let peers = m.sync().await.unwrap();
            if peers.iter().any(|p| p.pinned.is_some()) {
                break;
            }
            assert!(Instant::now() < deadline, "{} never saw the conversation", m.account.name);
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// Every file under `dir`, read whole.
pub fn all_files(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push((p.clone(), std::fs::read(&p).unwrap()));
            }
        }
    }
    out
}

/// Whether `needle` (text) occurs in `hay`.
pub fn contains(hay: &[u8], needle: &[u8]) -> bool {
    let (hay, needle) = (String::from_utf8_lossy(hay), String::from_utf8_lossy(needle));
    !needle.is_empty() && hay.contains(needle.as_ref())
}
