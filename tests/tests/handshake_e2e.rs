//! Two providers that have never met open a conversation between their
//! users over real HTTP on 127.0.0.1, each allowlisting only the other, on
//! the embedded store and on the emulator (moto).

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by panicking

use std::time::Duration;

use cloudim_tests::*;

const WAIT: Duration = Duration::from_secs(10);

/// The whole handshake, then messages both ways through rssCloud.
async fn handshake_both_ways(a: StoreChoice, b: StoreChoice) {
    let (pa, pb) = two_providers(&a, &b, &[]).await;
    let alice = Person::join(&pa, "alice").await;
    let bob = Person::join(&pb, "bob").await;

    // Bob's identity page names his provider's endpoint and his key.
    let page = client().get(&bob.identity).send().await.unwrap();
    let link = page.headers().get("link").unwrap().to_str().unwrap().to_owned();
    assert!(link.contains(&format!("<{}/pm>; rel=\"pm\"", pb.base)), "{link}");
    let html = page.text().await.unwrap();
    assert!(html.contains(&format!(r#"<link rel="pgpkey" href="{}/u/bob/key.asc">"#, pb.base)), "{html}");

    // Alice invites Bob: P_B verifies by asking P_A, P_A delivers.
    let (status, inv) = alice.invite(&bob.identity).await;
    assert_eq!(status, 201, "{inv}");
    assert_eq!(inv["state"], "delivered", "{inv}");
    assert!(bob.conversations().await.is_empty());
    let pending = bob.incoming("pending").await;
    assert_eq!(pending.len(), 1, "{pending:?}");
    assert_eq!(pending[0]["peer"], alice.identity.as_str());
    assert_eq!(pending[0]["fingerprint"], alice.fingerprint.as_str());
    assert_eq!(pending[0]["key"], format!("{}/u/alice/key.asc", pa.base));
    assert_eq!(pending[0]["feed"], inv["feed"]);
    assert!(!pending[0].to_string().contains("token"), "clients never see tokens: {}", pending[0]);

    // The key URL serves what Alice published.
    let key = client().get(pending[0]["key"].as_str().unwrap()).send().await.unwrap().text().await.unwrap();
    assert_eq!(key, armored_key("alice"));

    // Bob accepts: the reverse invitation runs the same flow the other way.
    let id = pending[0]["id"].as_str().unwrap();
    let (status, conv) = bob.decide(id, "accept").await;
    assert_eq!(status, 200, "{conv}");
    let a_convs = alice.conversations().await;
    let b_convs = bob.conversations().await;
    assert_eq!((a_convs.len(), b_convs.len()), (1, 1));
    let (ac, bc) = (&a_convs[0], &b_convs[0]);
    assert_eq!(ac["peer"], bob.identity.as_str());
    assert_eq!(bc["peer"], alice.identity.as_str());
    assert_eq!(ac["their_fingerprint"], bob.fingerprint.as_str());
    assert_eq!(bc["their_fingerprint"], alice.fingerprint.as_str());
    assert_eq!(ac["our_feed"], bc["their_feed"]);
    assert_eq!(ac["their_feed"], bc["our_feed"]);
    assert_eq!(ac["their_key"], format!("{}/u/bob/key.asc", pb.base));
    assert!(alice.invitations().await.iter().all(|i| i["state"] == "accepted"), "{:?}", alice.invitations().await);
    assert!(bob.invitations().await.iter().all(|i| i["state"] == "accepted"), "{:?}", bob.invitations().await);
    // Accepting twice is refused.
    assert_eq!(bob.decide(id, "accept").await.0, 409);

    // Each side follows the other's feed through rssCloud.
    let (a_feed, b_feed) = (ac["our_feed"].as_str().unwrap(), bc["our_feed"].as_str().unwrap());
    assert_eq!(alice.publish(a_feed, "m1", "-----BEGIN PGP MESSAGE-----\nciphertext one\n-----END PGP MESSAGE-----").await, 201);
    assert_eq!(bob.wait_inbox(a_feed, 1, WAIT).await.len(), 1);
    assert_eq!(bob.publish(b_feed, "m1", "-----BEGIN PGP MESSAGE-----\nciphertext two\n-----END PGP MESSAGE-----").await, 201);
    assert_eq!(alice.wait_inbox(b_feed, 1, WAIT).await.len(), 1);
    // Feed titles name nobody; the channel carries the publisher's key
    // (which is public, and linked from the identity page anyway).
    let doc = client().get(a_feed).send().await.unwrap().text().await.unwrap();
    let parsed = cloudim_protocol::FeedDocument::parse(doc.as_bytes()).unwrap();
    assert!(!parsed.title.contains("bob") && !parsed.title.contains("alice"), "{doc}");
    let key = parsed.publisher.expect("the channel names the publisher's key");
    assert_eq!(key.fingerprint, alice.fingerprint);

    // Inviting again while the conversation is open is a conflict.
    assert_eq!(alice.invite(&bob.identity).await.0, 409);
}

#[tokio::test(flavor = "multi_thread")]
async fn handshake_both_ways_on_the_embedded_store() {
    let (da, db) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    handshake_both_ways(StoreChoice::Local(da.path().into()), StoreChoice::Local(db.path().into())).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn handshake_both_ways_on_the_emulator() {
    let Some(endpoint) = moto_endpoint() else { return };
    handshake_both_ways(StoreChoice::emulator(&endpoint), StoreChoice::emulator(&endpoint)).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn decline_tells_the_sender_and_block_drops_later_invitations() {
    let (pa, pb, _dirs) = two_local_providers(&[]).await;
    let alice = Person::join(&pa, "alice").await;
    let bob = Person::join(&pb, "bob").await;

    // Decline: the sender's provider hears it (authenticated by the conversation token).
    assert_eq!(alice.invite(&bob.identity).await.0, 201);
    let id = bob.incoming("pending").await[0]["id"].as_str().unwrap().to_owned();
    let (status, declined) = bob.decide(&id, "decline").await;
    assert_eq!((status, declined["state"].as_str()), (200, Some("declined")));
    let outgoing = alice.invitations().await;
    assert_eq!(outgoing[0]["state"], "declined", "{outgoing:?}");

    // Block: later invitations from Alice never reach Bob, and Alice cannot tell.
    assert_eq!(alice.invite(&bob.identity).await.0, 201);
    let id = bob.incoming("pending").await[0]["id"].as_str().unwrap().to_owned();
    assert_eq!(bob.decide(&id, "block").await.0, 200);
    let (status, again) = alice.invite(&bob.identity).await;
    assert_eq!(status, 201, "{again}");
    assert_eq!(again["state"], "sent", "never delivered: {again}");
    assert!(bob.incoming("pending").await.is_empty());
    assert_eq!(bob.invitations().await.len(), 2, "the dropped invitation is not stored");
    assert!(bob.conversations().await.is_empty() && alice.conversations().await.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn webfinger_finds_the_identity_and_invites_work_by_acct() {
    let (pa, pb, _dirs) = two_local_providers(&[]).await;
    let alice = Person::join(&pa, "alice").await;
    let bob = Person::join(&pb, "bob").await;
    let acct = format!("acct:bob@{}", pb.addr);

    let jrd: serde_json::Value = client().get(format!("{}/.well-known/webfinger?resource={acct}", pb.base)).send().await.unwrap().json().await.unwrap();
    assert_eq!(jrd["subject"], acct.as_str());
    let links = jrd["links"].as_array().unwrap();
    assert!(links.iter().any(|l| l["rel"] == "pm" && l["href"] == format!("{}/pm", pb.base)), "{jrd}");
    assert!(links.iter().any(|l| l["rel"] == "http://webfinger.net/rel/profile-page" && l["href"] == bob.identity.as_str()), "{jrd}");
    let unknown = client().get(format!("{}/.well-known/webfinger?resource=acct:nobody@{}", pb.base, pb.addr)).send().await.unwrap();
    assert_eq!(unknown.status(), 404);

    // Alice's provider resolves the acct: through WebFinger, then the page.
    let (status, d) = alice.call("GET", &format!("/discover?target={acct}"), None).await;
    assert_eq!(status, 200, "{d}");
    assert_eq!(d["identity"], bob.identity.as_str());
    assert_eq!(d["pm"], format!("{}/pm", pb.base));
    assert_eq!(d["pgpkey"], format!("{}/u/bob/key.asc", pb.base));
    let (status, inv) = alice.invite(&acct).await;
    assert_eq!((status, inv["state"].as_str()), (201, Some("delivered")), "{inv}");
    assert_eq!(bob.incoming("pending").await.len(), 1);
}
