//! The provider's client API, and plain GETs of feeds and keys anywhere.
//! The bearer token goes to the account's own provider only.

use std::collections::BTreeMap;
use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde::Deserialize;
use serde_json::{Value, json};

use super::ChatError;

/// A conversation as the provider lists it.
#[derive(Debug, Clone, Deserialize)]
pub struct RemoteConversation {
    /// The other person's identity URL.
    pub peer: String,
    /// Our feed to them.
    pub our_feed: String,
    /// Their feed to us.
    pub their_feed: String,
    /// Their key URL.
    pub their_key: String,
    /// Their fingerprint as delivered at the handshake.
    pub their_fingerprint: String,
}

/// An item recorded in our inbox.
#[derive(Debug, Clone, Deserialize)]
pub struct InboxItem {
    /// The feed it came from.
    #[serde(default)]
    pub feed: String,
    /// Its sequence number in that feed.
    pub seq: u64,
    /// Its GUID.
    pub guid: String,
    /// The armored message.
    pub payload: String,
}

/// A fetched document.
pub enum Got {
    /// 304: unchanged.
    NotModified,
    /// 200: the body and its ETag.
    Body(Vec<u8>, Option<String>),
}

/// The HTTP side of the client.
#[derive(Clone)]
pub struct Api {
    base: String,
    token: Option<String>,
    http: reqwest::Client,
}

impl Api {
    /// A client of the provider at `base`, authenticated by `token`.
    pub fn new(base: &str, token: Option<String>) -> Result<Self, ChatError> {
        let http = reqwest::Client::builder()
            .no_proxy()
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(60))
            .build()
            .map_err(|e| ChatError::Local(e.to_string()))?;
        Ok(Self { base: base.trim_end_matches('/').to_owned(), token, http })
    }

    /// The provider's base URL.
    pub fn base(&self) -> &str {
        &self.base
    }

    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> Result<Value, ChatError> {
        let url = format!("{}{path}", self.base);
        let mut req = self.http.request(method, &url);
        if let Some(t) = &self.token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.map_err(|e| unreachable(&self.base, &e))?;
        let status = resp.status();
        let v: Value = resp.json().await.unwrap_or(Value::Null);
        if !status.is_success() {
            let msg = v["error"].as_str().map(str::to_owned).unwrap_or_else(|| format!("the provider answered {status}"));
            return Err(ChatError::Api(format!("{}: {msg}", self.base)));
        }
        Ok(v)
    }

    /// Open registration: creates `name`; returns the token and identity.
    pub async fn register(&self, name: &str) -> Result<(String, String), ChatError> {
        let v = self.call(Method::POST, "/accounts", Some(json!({ "name": name }))).await?;
        Ok((str_of(&v, "token")?, str_of(&v, "identity")?))
    }

    /// Who our token belongs to: account name and identity URL.
    pub async fn whoami(&self) -> Result<(String, String), ChatError> {
        let v = self.call(Method::GET, "/account", None).await?;
        Ok((str_of(&v, "name")?, str_of(&v, "identity")?))
    }

    /// The fingerprint of the key our account has published, if any.
    pub async fn published_fingerprint(&self) -> Result<Option<String>, ChatError> {
        match self.call(Method::GET, "/account/key", None).await {
            Ok(v) => Ok(v["fingerprint"].as_str().map(str::to_owned)),
            Err(ChatError::Api(m)) if m.contains("not published") => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Publishes our public key.
    pub async fn publish_key(&self, armored: &str, fingerprint: &str) -> Result<(), ChatError> {
        self.call(Method::PUT, "/account/key", Some(json!({ "armored": armored, "fingerprint": fingerprint }))).await.map(drop)
    }

    /// Our open conversations.
    pub async fn conversations(&self) -> Result<Vec<RemoteConversation>, ChatError> {
        let v = self.call(Method::GET, "/conversations", None).await?;
        serde_json::from_value(v["conversations"].clone()).map_err(|e| ChatError::Api(format!("unexpected answer from {}: {e}", self.base)))
    }

    /// Our invitations (as the provider shows them).
    pub async fn invitations(&self) -> Result<Vec<Value>, ChatError> {
        let v = self.call(Method::GET, "/invitations", None).await?;
        Ok(v["invitations"].as_array().cloned().unwrap_or_default())
    }

    /// Any other call, for the handshake commands.
    pub async fn raw(&self, method: Method, path: &str, body: Option<Value>) -> Result<Value, ChatError> {
        self.call(method, path, body).await
    }

    /// Appends an item to one of our feeds (idempotent by `guid`).
    pub async fn publish(&self, feed_url: &str, guid: &str, payload: &str) -> Result<(), ChatError> {
        let path = feed_url.strip_prefix(&self.base).ok_or_else(|| ChatError::Local(format!("{feed_url} is not on {}", self.base)))?;
        self.call(Method::POST, &format!("{path}/items"), Some(json!({ "id": guid, "payload": payload }))).await.map(drop)
    }

    /// Items recorded for us after the cursors, waiting up to `wait`.
    pub async fn watch(&self, cursors: &BTreeMap<String, Option<u64>>, wait: Duration) -> Result<Vec<InboxItem>, ChatError> {
        let v = self.call(Method::POST, "/inbox/watch", Some(json!({ "cursors": cursors, "wait_secs": wait.as_secs() }))).await?;
        serde_json::from_value(v["items"].clone()).map_err(|e| ChatError::Api(format!("unexpected answer from {}: {e}", self.base)))
    }

    /// Items recorded for us from one feed after `after`.
    pub async fn inbox(&self, feed: &str, after: Option<u64>, limit: usize) -> Result<Vec<InboxItem>, ChatError> {
        let mut url = url::Url::parse(&format!("{}/inbox", self.base)).map_err(|e| ChatError::Local(e.to_string()))?;
        url.query_pairs_mut().append_pair("feed", feed).append_pair("limit", &limit.to_string());
        if let Some(a) = after {
            url.query_pairs_mut().append_pair("after", &a.to_string());
        }
        let path = &url.as_str()[self.base.len()..];
        let v = self.call(Method::GET, path, None).await?;
        let mut items: Vec<InboxItem> = serde_json::from_value(v["items"].clone()).map_err(|e| ChatError::Api(e.to_string()))?;
        for i in &mut items {
            i.feed = feed.to_owned();
        }
        Ok(items)
    }

    /// GETs a public document (a feed page or a key), conditionally when
    /// an ETag is given. No credentials are sent.
    pub async fn get(&self, url: &str, etag: Option<&str>) -> Result<Got, ChatError> {
        let mut req = self.http.get(url);
        if let Some(e) = etag {
            req = req.header(reqwest::header::IF_NONE_MATCH, e);
        }
        let resp = req.send().await.map_err(|e| unreachable(url, &e))?;
        match resp.status() {
            StatusCode::NOT_MODIFIED => Ok(Got::NotModified),
            s if s.is_success() => {
                let etag = resp.headers().get(reqwest::header::ETAG).and_then(|v| v.to_str().ok()).map(str::to_owned);
                let body = resp.bytes().await.map_err(|e| unreachable(url, &e))?;
                Ok(Got::Body(body.to_vec(), etag))
            }
            s => Err(ChatError::Api(format!("{url} answered {s}"))),
        }
    }
}

fn str_of(v: &Value, key: &str) -> Result<String, ChatError> {
    v[key].as_str().map(str::to_owned).ok_or_else(|| ChatError::Api(format!("the provider's answer has no {key}")))
}

fn unreachable(what: &str, e: &reqwest::Error) -> ChatError {
    if e.is_connect() || e.is_timeout() || e.is_request() {
        ChatError::Unreachable(host_of(what))
    } else {
        ChatError::Api(format!("{}: {e}", host_of(what)))
    }
}

fn host_of(url: &str) -> String {
    url::Url::parse(url).ok().and_then(|u| Some(format!("{}://{}", u.scheme(), u.host_str()?) + &u.port().map(|p| format!(":{p}")).unwrap_or_default())).unwrap_or_else(|| url.to_owned())
}
