//! Interoperability with GnuPG 2.2, both ways: an item taken from a
//! cloudim feed decrypts and verifies with `gpg`, and a message signed and
//! encrypted by `gpg` to a cloudim key is read by the client.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by panicking

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use cloudim::chat::{Home, Messenger};
use cloudim_protocol::envelope::{Envelope, InnerHeader};
use cloudim_protocol::FeedDocument;
use support::*;

/// A throw-away GnuPG home; its agent is stopped when dropped.
struct Gpg {
    dir: tempfile::TempDir,
}

impl Gpg {
    fn new() -> Self {
        let dir = tempfile::Builder::new().prefix("g").tempdir_in("/tmp").unwrap();
        Self { dir }
    }

    fn run(&self, args: &[&str], stdin: Option<&Path>) -> Output {
        let mut cmd = Command::new("gpg");
        cmd.arg("--homedir").arg(self.dir.path()).args(["--batch", "--yes", "--no-tty", "--pinentry-mode", "loopback", "--passphrase", ""]).args(args);
        if let Some(f) = stdin {
            cmd.stdin(std::fs::File::open(f).unwrap());
        }
        let out = cmd.output().expect("gpg is installed (.ci/run installs gnupg)");
        assert!(out.status.success(), "gpg {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
        out
    }

    fn file(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let p = self.dir.path().join(name);
        std::fs::write(&p, bytes).unwrap();
        p
    }
}

impl Drop for Gpg {
    fn drop(&mut self) {
        let _ = Command::new("gpgconf").arg("--homedir").arg(self.dir.path()).args(["--kill", "gpg-agent"]).output();
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_item_from_a_feed_decrypts_and_verifies_with_gpg() {
    let (_w, alice, bob) = pair().await;
    alice.send("bob", "hello gpg ✓\nsecond line".as_bytes()).await.unwrap();

    let conv = alice.peers().unwrap().remove(0);
    let client = cloudim_tests::client();
    let feed = client.get(&conv.our_feed).send().await.unwrap().bytes().await.unwrap();
    let doc = FeedDocument::parse(&feed).unwrap();
    let payload = &doc.items.last().unwrap().payload;
    let alice_public = client.get(&bob.peers().unwrap()[0].their_key_url).send().await.unwrap().text().await.unwrap();

    let gpg = Gpg::new();
    let bob_secret = gpg.file("bob.asc", bob.export_key(None).unwrap().as_bytes());
    let alice_key = gpg.file("alice.asc", alice_public.as_bytes());
    gpg.run(&["--import", bob_secret.to_str().unwrap()], None);
    gpg.run(&["--import", alice_key.to_str().unwrap()], None);
    let msg = gpg.file("item.asc", payload.as_bytes());
    let out = gpg.run(&["--status-fd", "2", "--decrypt", msg.to_str().unwrap()], None);
    let status = String::from_utf8_lossy(&out.stderr);
    assert!(status.contains("[GNUPG:] DECRYPTION_OKAY"), "{status}");
    assert!(status.contains("[GNUPG:] GOODSIG"), "{status}");
    let validsig = status.lines().find(|l| l.starts_with("[GNUPG:] VALIDSIG")).unwrap();
    assert!(validsig.ends_with(&alice.fingerprint()), "signed by alice's key: {validsig}");
    let env = Envelope::decode(&out.stdout).unwrap();
    assert_eq!(env.body, "hello gpg ✓\nsecond line".as_bytes());
    assert_eq!((env.header.from.as_str(), env.header.to.as_str()), (alice.account.identity.as_str(), bob.account.identity.as_str()));
    assert_eq!(env.header.feed, conv.our_feed);
    assert_eq!(env.header.guid, doc.items.last().unwrap().guid.as_str());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_message_sealed_by_gpg_is_read_by_the_client() {
    let w = World::start().await;
    let gpg = Gpg::new();
    // Bob's key is made by GnuPG and imported into his cloudim client.
    gpg.run(&["--quick-gen-key", "bob <bob@example.org>", "ed25519", "sign", "never"], None);
    let listing = String::from_utf8(gpg.run(&["--list-secret-keys", "--with-colons"], None).stdout).unwrap();
    let bob_fpr = listing.lines().find(|l| l.starts_with("fpr:")).unwrap().split(':').nth(9).unwrap().to_owned();
    gpg.run(&["--quick-add-key", &bob_fpr, "cv25519", "encr", "never"], None);
    let secret = gpg.run(&["--armor", "--export-secret-keys", &bob_fpr], None).stdout;
    let key_file = gpg.file("bob-secret.asc", &secret);
    let alice = w.person(&w.a, "alice").await;
    let bob = Messenger::init(Home::resolve(Some(&w.home("bob"))).unwrap(), &w.b.base, Some("bob"), None, Some(&key_file), None).await.unwrap();
    assert_eq!(bob.fingerprint(), bob_fpr);
    converse(&alice, &bob).await;

    // GnuPG signs and encrypts an envelope to Alice (and Bob), and Bob's
    // client publishes the armored result as is.
    let conv = bob.peers().unwrap().remove(0);
    let alice_public = cloudim_tests::client().get(&conv.their_key_url).send().await.unwrap().text().await.unwrap();
    gpg.run(&["--import", gpg.file("alice.asc", alice_public.as_bytes()).to_str().unwrap()], None);
    let header = InnerHeader {
        from: bob.account.identity.clone(),
        to: alice.account.identity.clone(),
        feed: conv.our_feed.clone(),
        guid: "gpg-made-1".into(),
        seq: 1,
        msg: "gpg-message".into(),
        part: 0,
        parts: 1,
        sent_at_ms: cloudim::chat::messenger::now_ms(),
    };
    let plain = gpg.file("envelope.bin", &Envelope { header, body: "sealed by GnuPG ✓".as_bytes().to_vec() }.encode());
    let sealed = gpg.dir.path().join("sealed.asc");
    gpg.run(
        &[
            "--trust-model", "always", "--armor", "--sign", "--encrypt", "--local-user", &bob_fpr, "--recipient", &alice.fingerprint(), "--recipient", &bob_fpr,
            "--output", sealed.to_str().unwrap(), plain.to_str().unwrap(),
        ],
        None,
    );
    let payload = std::fs::read_to_string(&sealed).unwrap();
    bob.api().publish(&conv.our_feed, "gpg-made-1", &payload).await.unwrap();

    let h = alice.read("bob", 10).await.unwrap();
    assert!(h.warnings.is_empty(), "{:?}", h.warnings);
    assert_eq!(h.messages.len(), 1);
    assert_eq!(h.messages[0].text, "sealed by GnuPG ✓");
    assert_eq!(h.messages[0].sender, bob.account.identity);
    // Bob's own client reads it back too (it was encrypted to him as well).
    assert_eq!(bob.read("alice", 10).await.unwrap().messages[0].text, "sealed by GnuPG ✓");
}
