//! The chat client end to end: two providers, two people, the handshake,
//! a hundred messages each way watched in real time, full history on both
//! sides and on a second device, unread counts, a 1 MiB message, and a
//! scan proving the providers stored and logged no plaintext, token or key.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by panicking

mod support;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use cloudim::chat::messenger::WatchState;
use cloudim::chat::{ChatError, ChatMessage, Home, Messenger};
use support::*;

/// Collects everything the providers log, to check it afterwards.
#[derive(Clone, Default)]
struct LogBuffer(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for LogBuffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for LogBuffer {
    type Writer = LogBuffer;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

/// Watches until `n` messages arrived or `timeout` passed.
async fn watch_for(m: &Messenger, state: &mut WatchState, n: usize, timeout: Duration) -> Vec<ChatMessage> {
    let deadline = Instant::now() + timeout;
    let mut got = Vec::new();
    while got.len() < n && Instant::now() < deadline {
        let (msgs, warnings) = m.watch_once(state, Duration::from_secs(2)).await.unwrap();
        assert!(warnings.is_empty(), "{warnings:?}");
        got.extend(msgs);
    }
    got
}

/// Another client of the same home (a `watch` in another window) collecting `n` messages.
fn watch_in_background(m: &Messenger, n: usize) -> tokio::task::JoinHandle<Vec<ChatMessage>> {
    let home = m.home.clone();
    tokio::spawn(async move {
        let m = Messenger::open(home, None).unwrap();
        watch_for(&m, &mut WatchState::default(), n, Duration::from_secs(60)).await
    })
}

fn text(who: &str, i: usize) -> String {
    format!("{who} says hello #{i} — ünïcødé ✓ secret-marker-{who}-{i:03}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_people_chat_privately_across_providers() {
    let logs = LogBuffer::default();
    tracing_subscriber::fmt().with_writer(logs.clone()).with_max_level(tracing::Level::DEBUG).with_ansi(false).init();

    let (w, alice, bob) = pair().await;

    // A hundred messages each way, each watched in real time by the other side.
    let bob_watch = watch_in_background(&bob, 100);
    let alice_watch = watch_in_background(&alice, 100);
    let bob_id = bob.account.identity.clone();
    let alice_id = alice.account.identity.clone();
    let (ra, rb) = tokio::join!(
        async {
            for i in 0..100 {
                let r = alice.send(&bob_id, text("alice", i).as_bytes()).await.unwrap();
                assert!(!r.queued && r.parts == 1);
            }
        },
        async {
            for i in 0..100 {
                bob.send("alice", text("bob", i).as_bytes()).await.unwrap();
            }
        }
    );
    let ((), ()) = (ra, rb);
    let seen_by_bob = bob_watch.await.unwrap();
    let seen_by_alice = alice_watch.await.unwrap();
    assert_eq!(seen_by_bob.iter().map(|m| m.text.clone()).collect::<Vec<_>>(), (0..100).map(|i| text("alice", i)).collect::<Vec<_>>());
    assert_eq!(seen_by_alice.iter().map(|m| m.text.clone()).collect::<Vec<_>>(), (0..100).map(|i| text("bob", i)).collect::<Vec<_>>());
    assert!(seen_by_bob.iter().all(|m| !m.from_me && m.sender == alice_id));

    // Full history on both sides (200 items each side: archive pages are walked).
    for (me, peer, mine, theirs) in [(&alice, &bob_id, "alice", "bob"), (&bob, &alice_id, "bob", "alice")] {
        let h = me.read(peer, 1000).await.unwrap();
        assert!(h.warnings.is_empty(), "{:?}", h.warnings);
        assert_eq!(h.messages.len(), 200);
        let own: Vec<String> = h.messages.iter().filter(|m| m.from_me).map(|m| m.text.clone()).collect();
        let other: Vec<String> = h.messages.iter().filter(|m| !m.from_me).map(|m| m.text.clone()).collect();
        assert_eq!(own, (0..100).map(|i| text(mine, i)).collect::<Vec<_>>());
        assert_eq!(other, (0..100).map(|i| text(theirs, i)).collect::<Vec<_>>());
        let limited = me.read(peer, 10).await.unwrap();
        assert_eq!(limited.messages.len(), 10);
        assert_eq!(limited.messages.last(), h.messages.last());
    }

    // Unread counts: nothing after reading; three after three more arrive.
    let (chats, _) = bob.chats().await.unwrap();
    assert_eq!((chats.len(), chats[0].unread), (1, 0));
    for i in 100..103 {
        alice.send("bob", text("alice", i).as_bytes()).await.unwrap();
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (chats, _) = bob.chats().await.unwrap();
        if chats[0].unread == 3 {
            assert!(chats[0].last_activity_ms > 0);
            break;
        }
        assert!(chats[0].unread < 3 && Instant::now() < deadline, "unread: {}", chats[0].unread);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let (alice_chats, _) = alice.chats().await.unwrap();
    assert_eq!(alice_chats[0].unread, 0, "alice read everything bob sent");
    assert_eq!(bob.read("alice", 3).await.unwrap().messages.len(), 3);
    assert_eq!(bob.chats().await.unwrap().0[0].unread, 0);

    // A 1 MiB message of mixed Unicode round-trips byte-exact (in 16 parts of 64 KiB).
    let unit = "日本語 émoji 🎉 ascii secret-marker-big ";
    let mut big = unit.repeat((1 << 20) / unit.len() + 1);
    while big.len() > 1 << 20 {
        big.pop();
    }
    assert_eq!(big.len(), 1 << 20);
    let r = alice.send("bob", big.as_bytes()).await.unwrap();
    assert_eq!(r.parts, 16);
    let h = bob.read("alice", 1).await.unwrap();
    assert!(h.warnings.is_empty(), "{:?}", h.warnings);
    assert_eq!(h.messages[0].body, big.as_bytes());

    // A second device: the imported key reads the whole history, its own
    // side included, and sends in the same numbering.
    let exported = w.homes.path().join("alice-key.asc");
    std::fs::write(&exported, alice.export_key(None).unwrap()).unwrap();
    let phone = Messenger::init(Home::resolve(Some(&w.home("alice-phone"))).unwrap(), &w.a.base, None, Some(&alice.account.token), Some(&exported), None).await.unwrap();
    assert_eq!(phone.fingerprint(), alice.fingerprint());
    let h = phone.read("bob", 10_000).await.unwrap();
    assert!(h.warnings.is_empty(), "{:?}", h.warnings);
    assert_eq!(h.messages.len(), 204);
    assert_eq!(h.messages.iter().filter(|m| m.from_me).count(), 104);
    phone.send("bob", b"from my phone").await.unwrap();
    alice.send("bob", b"and from my laptop").await.unwrap();
    let h = bob.read("alice", 2).await.unwrap();
    assert!(h.warnings.is_empty(), "numbering continues across devices: {:?}", h.warnings);
    assert_eq!(h.messages.iter().map(|m| m.text.as_str()).collect::<Vec<_>>(), ["from my phone", "and from my laptop"]);

    // A second device without the key is refused rather than given a new one.
    let err = Messenger::init(Home::resolve(Some(&w.home("alice-tablet"))).unwrap(), &w.a.base, None, Some(&alice.account.token), None, None).await;
    assert!(matches!(err, Err(ChatError::Local(ref m)) if m.contains("already has key")), "{:?}", err.err());

    // Nothing the providers stored or logged holds a message, a token or
    // a secret key.
    let mut secrets: Vec<Vec<u8>> = (0..103).flat_map(|i| [text("alice", i), text("bob", i)]).map(String::into_bytes).collect();
    secrets.extend([b"secret-marker-big".to_vec(), b"from my phone".to_vec(), b"and from my laptop".to_vec()]);
    let credentials: Vec<Vec<u8>> = vec![alice.account.token.clone().into_bytes(), bob.account.token.clone().into_bytes(), b"PRIVATE KEY BLOCK".to_vec()];
    let mut scanned = 0;
    for dir in &w.dirs {
        for (path, bytes) in all_files(dir.path()) {
            scanned += 1;
            for s in secrets.iter().chain(&credentials) {
                assert!(!contains(&bytes, s), "{} holds {:?}", path.display(), String::from_utf8_lossy(s));
            }
        }
    }
    assert!(scanned > 100, "scanned {scanned} stored files");
    // The clients' own state holds no plaintext either (the outbox holds sealed items).
    for (path, bytes) in all_files(&w.home("alice").join("data")).into_iter().chain(all_files(&w.home("bob").join("data"))) {
        for s in &secrets {
            assert!(!contains(&bytes, s), "{} holds plaintext", path.display());
        }
    }
    let log = logs.0.lock().unwrap().clone();
    assert!(log.len() > 1000, "the providers logged ({} bytes)", log.len());
    for s in secrets.iter().chain(&credentials) {
        assert!(!contains(&log, s), "the log holds {:?}", String::from_utf8_lossy(s));
    }
    assert!(!contains(&log, b"BEGIN PGP MESSAGE"), "the log holds a message payload");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_changed_key_is_loud_and_sending_needs_trust() {
    let (w, alice, mut bob) = pair().await;
    alice.send("bob", b"before").await.unwrap();
    let old = bob.fingerprint();

    // Bob switches to a new key.
    let new_key = cloudim_crypto::SecretKey::generate("bob again").unwrap();
    let file = w.homes.path().join("bob-new.asc");
    std::fs::write(&file, new_key.export(None).unwrap()).unwrap();
    let refused = bob.import_key(&file, None, false).await;
    assert!(matches!(refused, Err(ChatError::Local(ref m)) if m.contains("--publish")), "switching keys needs --publish");
    let new = bob.import_key(&file, None, true).await.unwrap();
    assert_ne!(new, old);
    bob.send("alice", b"signed by my new key").await.unwrap();

    // Alice cannot send to the changed key without trusting it...
    let err = alice.send("bob", b"to whom?").await.unwrap_err();
    match &err {
        ChatError::KeyChanged { pinned, now, .. } => assert_eq!((pinned.as_str(), now.as_str()), (old.as_str(), new.as_str())),
        other => panic!("{other}"),
    }
    assert_eq!(err.exit_code(), 5);
    // ...and does not see Bob's new item as Bob's; the warning is loud.
    let h = alice.read("bob", 50).await.unwrap();
    assert!(h.messages.iter().all(|m| m.from_me), "an item signed by another key is not shown as bob's");
    assert!(h.warnings.iter().any(|w| w.contains("KEY CHANGED")), "{:?}", h.warnings);
    assert!(h.warnings.iter().any(|w| w.contains("not shown")), "{:?}", h.warnings);
    let (chats, _) = alice.chats().await.unwrap();
    assert!(chats[0].warning.is_some());

    // Trusting a fingerprint Bob does not publish is refused; the right one works.
    assert!(alice.trust("bob", &old).await.is_err(), "bob no longer publishes the old key");
    assert!(alice.trust("bob", "0000000000000000000000000000000000000000").await.is_err());
    alice.trust("bob", &new).await.unwrap();
    alice.send("bob", b"after trust").await.unwrap();
    let h = bob.read("alice", 50).await.unwrap();
    assert!(h.warnings.is_empty(), "{:?}", h.warnings);
    assert_eq!(h.messages.iter().filter(|m| !m.from_me).map(|m| m.text.as_str()).collect::<Vec<_>>(), ["before", "after trust"]);
    let h = alice.read("bob", 50).await.unwrap();
    assert!(h.warnings.is_empty(), "{:?}", h.warnings);
    assert!(h.messages.iter().any(|m| !m.from_me && m.text == "signed by my new key"));
}

#[tokio::test(flavor = "multi_thread")]
async fn composing_offline_queues_sealed_and_sends_when_back() {
    let (w, alice, bob) = pair().await;
    let addr = w.a.addr;
    let dir = w.dirs[0].path().to_path_buf();
    let World { a, b, dirs: _dirs, homes: _homes } = w;
    a.stop();
    tokio::time::sleep(Duration::from_millis(50)).await;

    let r = alice.send("bob", b"written on the train").await.unwrap();
    assert!(r.queued, "the provider is down: the message waits in the outbox");
    let r = alice.send("bob", b"still on the train").await.unwrap();
    assert!(r.queued);
    let outbox = all_files(&alice.home.data.join("outbox"));
    assert_eq!(outbox.len(), 2);
    for (_, bytes) in &outbox {
        assert!(!contains(bytes, b"train") && contains(bytes, b"BEGIN PGP MESSAGE"), "the outbox holds sealed items only");
    }
    let err = alice.read("bob", 5).await.unwrap_err();
    assert!(matches!(err, ChatError::Unreachable(_)), "{err}");
    assert_eq!(err.exit_code(), 7);

    // The provider comes back on the same address with the same data.
    let listener = tokio::net::TcpListener::bind(addr).await.unwrap();
    let config = cloudim_tests::strict_config(&cloudim_tests::StoreChoice::Local(dir), &[b.addr], &["--open-registration", "--inbox-poll-ms", "100"]);
    let _a = cloudim_tests::spawn_on(listener, &config, None).await;
    let f = alice.flush().await.unwrap();
    assert_eq!((f.sent, f.waiting), (2, 0));
    assert!(all_files(&alice.home.data.join("outbox")).is_empty());
    let mut st = WatchState::default();
    let got = watch_for(&bob, &mut st, 2, Duration::from_secs(10)).await;
    assert_eq!(got.iter().map(|m| m.text.as_str()).collect::<Vec<_>>(), ["written on the train", "still on the train"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn nothing_readable_reaches_s3_or_dynamodb() {
    let Some(endpoint) = cloudim_tests::moto_endpoint() else { return };
    let (sa, sb) = (cloudim_tests::StoreChoice::emulator(&endpoint), cloudim_tests::StoreChoice::emulator(&endpoint));
    let w = World::start_on(&sa, &sb).await;
    let alice = w.person(&w.a, "alice").await;
    let bob = w.person(&w.b, "bob").await;
    converse(&alice, &bob).await;
    for i in 0..5 {
        alice.send("bob", text("alice", i).as_bytes()).await.unwrap();
        bob.send("alice", text("bob", i).as_bytes()).await.unwrap();
    }
    let mut st = WatchState::default();
    assert_eq!(watch_for(&bob, &mut st, 5, Duration::from_secs(20)).await.len(), 5);
    assert_eq!(alice.read("bob", 100).await.unwrap().messages.len(), 10);

    let sdk = cloudim_tests::emulator_sdk(&endpoint).await;
    let (s3, ddb) = (aws_sdk_s3::Client::new(&sdk), aws_sdk_dynamodb::Client::new(&sdk));
    let mut stored: Vec<Vec<u8>> = Vec::new();
    for store in [&sa, &sb] {
        let cloudim_tests::StoreChoice::Emulator { bucket, table, .. } = store else { unreachable!() };
        let objects = s3.list_objects_v2().bucket(bucket).send().await.unwrap();
        for o in objects.contents() {
            let body = s3.get_object().bucket(bucket).key(o.key().unwrap()).send().await.unwrap().body.collect().await.unwrap();
            stored.push(body.into_bytes().to_vec());
        }
        let items = ddb.scan().table_name(table).send().await.unwrap();
        for item in items.items() {
            stored.push(format!("{item:?}").into_bytes());
        }
    }
    assert!(stored.len() > 20, "{} stored objects and items", stored.len());
    let secrets: Vec<Vec<u8>> = (0..5).flat_map(|i| [text("alice", i), text("bob", i)]).map(String::into_bytes).chain([alice.account.token.clone().into_bytes(), bob.account.token.clone().into_bytes(), b"PRIVATE KEY BLOCK".to_vec()]).collect();
    for bytes in &stored {
        for s in &secrets {
            assert!(!contains(bytes, s), "S3 or DynamoDB holds {:?}", String::from_utf8_lossy(s));
        }
    }
}
