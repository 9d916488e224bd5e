//! People on test providers: an account with a published key and a hosted
//! identity page, and the client calls of the handshake.

use std::time::Duration;

use serde_json::Value;

use crate::{TestApp, client, create_account};

/// An account on a running provider.
#[derive(Clone)]
pub struct Person {
    /// The provider's base URL.
    pub base: String,
    /// The account's bearer token.
    pub token: String,
    /// The account name.
    pub name: String,
    /// The hosted identity page.
    pub identity: String,
    /// The fingerprint it published.
    pub fingerprint: String,
}

/// A stand-in armored public key: the provider checks only its armor.
pub fn armored_key(name: &str) -> String {
    format!("-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nxjMEZ{name}AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n=abcd\n-----END PGP PUBLIC KEY BLOCK-----\n")
}

impl Person {
    /// Creates the account and publishes a key with a fingerprint derived from the name.
    pub async fn join(app: &TestApp, name: &str) -> Self {
        let token = create_account(app, name).await;
        let fingerprint = format!("{:0>40}", name.bytes().map(|b| format!("{b:02X}")).collect::<String>()).chars().take(40).collect::<String>();
        let p = Self { base: app.base.clone(), token, name: name.to_owned(), identity: format!("{}/u/{name}", app.base), fingerprint };
        let (status, body) = p.call("PUT", "/account/key", Some(serde_json::json!({ "armored": armored_key(name), "fingerprint": p.fingerprint }))).await;
        assert_eq!(status, 200, "publishing the key: {body}");
        p
    }

    /// An authenticated JSON call; returns status and JSON body.
    pub async fn call(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let url = format!("{}{path}", self.base);
        let mut req = match method {
            "GET" => client().get(url),
            "PUT" => client().put(url),
            _ => client().post(url),
        };
        req = req.bearer_auth(&self.token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap_or_default();
        (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
    }

    /// Invites an identity; returns status and the invitation (or error).
    pub async fn invite(&self, to: &str) -> (u16, Value) {
        self.call("POST", "/invitations", Some(serde_json::json!({ "to": to }))).await
    }

    /// Every invitation of this person.
    pub async fn invitations(&self) -> Vec<Value> {
        let (status, body) = self.call("GET", "/invitations", None).await;
        assert_eq!(status, 200, "{body}");
        body["invitations"].as_array().cloned().unwrap_or_default()
    }

    /// Incoming invitations in a state.
    pub async fn incoming(&self, state: &str) -> Vec<Value> {
        self.invitations().await.into_iter().filter(|i| i["direction"] == "incoming" && i["state"] == state).collect()
    }

    /// Every open conversation of this person.
    pub async fn conversations(&self) -> Vec<Value> {
        let (status, body) = self.call("GET", "/conversations", None).await;
        assert_eq!(status, 200, "{body}");
        body["conversations"].as_array().cloned().unwrap_or_default()
    }

    /// Accepts, declines or blocks an invitation.
    pub async fn decide(&self, id: &str, action: &str) -> (u16, Value) {
        self.call("POST", &format!("/invitations/{id}/{action}"), None).await
    }

    /// Publishes to one of this person's feeds (by URL).
    pub async fn publish(&self, feed_url: &str, id: &str, payload: &str) -> u16 {
        let feed = feed_url.rsplit('/').next().unwrap_or_default();
        let (status, _) = self.call("POST", &format!("/feeds/{feed}/items"), Some(serde_json::json!({ "id": id, "payload": payload }))).await;
        status
    }

    /// Waits until this person's inbox from `feed_url` holds `n` items; returns the payloads.
    pub async fn wait_inbox(&self, feed_url: &str, n: usize, timeout: Duration) -> Vec<String> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let path = format!("/inbox?feed={}", url::form_urlencoded::byte_serialize(feed_url.as_bytes()).collect::<String>());
            let (_, body) = self.call("GET", &path, None).await;
            let got: Vec<String> = body["items"].as_array().into_iter().flatten().filter_map(|i| i["payload"].as_str().map(str::to_owned)).collect();
            if got.len() >= n || tokio::time::Instant::now() >= deadline {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}
