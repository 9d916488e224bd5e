//! A fake web site for discovery and handshake tests: static pages with
//! chosen headers, redirects, and a PM endpoint that records what it is
//! sent and answers without doing anything. Plus a listener that only
//! counts connections, to prove that refused destinations are never
//! contacted.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use tokio::sync::Mutex;

/// One canned answer.
#[derive(Clone)]
struct Canned {
    status: StatusCode,
    headers: Vec<(String, String)>,
    body: String,
}

#[derive(Default)]
struct SiteInner {
    pages: Mutex<HashMap<String, Canned>>,
    pm_received: Mutex<Vec<serde_json::Value>>,
}

/// A running fake site on 127.0.0.1.
#[derive(Clone)]
pub struct FakeSite {
    /// Where it listens.
    pub addr: SocketAddr,
    /// `http://127.0.0.1:port`.
    pub base: String,
    inner: Arc<SiteInner>,
}

impl FakeSite {
    /// Starts an empty site; `POST /pm` records and answers 200.
    pub async fn spawn() -> Self {
        let inner = Arc::new(SiteInner::default());
        let app = Router::new().fallback(handle).with_state(inner.clone());
        let listener = crate::bind().await;
        let addr = listener.local_addr().unwrap_or_else(|e| panic!("{e}"));
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self { addr, base: format!("http://{addr}"), inner }
    }

    /// Serves `body` at `path` with a content type and extra headers.
    pub async fn page(&self, path: &str, content_type: &str, headers: &[(&str, &str)], body: &str) {
        let mut h: Vec<(String, String)> = headers.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        h.push(("content-type".into(), content_type.into()));
        self.inner.pages.lock().await.insert(path.to_owned(), Canned { status: StatusCode::OK, headers: h, body: body.to_owned() });
    }

    /// An HTML identity page naming `pm` (and optionally a key).
    pub async fn identity(&self, path: &str, pm: &str) {
        self.page(path, "text/html", &[], &format!(r#"<!doctype html><link rel="pm" href="{pm}"><link rel="pgpkey" href="/key.asc">"#)).await;
    }

    /// Redirects `path` to `location` with 302.
    pub async fn redirect(&self, path: &str, location: &str) {
        let c = Canned { status: StatusCode::FOUND, headers: vec![("location".into(), location.into())], body: String::new() };
        self.inner.pages.lock().await.insert(path.to_owned(), c);
    }

    /// Every PM message posted to `/pm`, in order.
    pub async fn pm_received(&self) -> Vec<serde_json::Value> {
        self.inner.pm_received.lock().await.clone()
    }
}

async fn handle(State(s): State<Arc<SiteInner>>, method: Method, uri: Uri, body: Bytes) -> Response {
    if method == Method::POST && uri.path() == "/pm" {
        let v = serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null);
        s.pm_received.lock().await.push(v);
        return (StatusCode::OK, axum::Json(serde_json::json!({ "status": "ok" }))).into_response();
    }
    let key = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/").to_owned();
    let canned = { s.pages.lock().await.get(&key).cloned().or(None) };
    let Some(c) = canned else { return StatusCode::NOT_FOUND.into_response() };
    let mut resp = (c.status, c.body).into_response();
    for (k, v) in c.headers {
        if let (Ok(k), Ok(v)) = (HeaderName::try_from(k), HeaderValue::try_from(v)) {
            if k == axum::http::header::CONTENT_TYPE {
                resp.headers_mut().insert(k, v);
            } else {
                resp.headers_mut().append(k, v);
            }
        }
    }
    resp
}

/// A listener that accepts and counts connections and answers nothing.
pub struct ConnectionCounter {
    /// Where it listens.
    pub addr: SocketAddr,
    count: Arc<AtomicUsize>,
}

impl ConnectionCounter {
    /// Starts counting on 127.0.0.1, port 0.
    pub async fn spawn() -> Self {
        let listener = crate::bind().await;
        let addr = listener.local_addr().unwrap_or_else(|e| panic!("{e}"));
        let count = Arc::new(AtomicUsize::new(0));
        let c = count.clone();
        tokio::spawn(async move {
            while let Ok((sock, _)) = listener.accept().await {
                c.fetch_add(1, Ordering::SeqCst);
                drop(sock);
            }
        });
        Self { addr, count }
    }

    /// Connections accepted so far.
    pub fn connections(&self) -> usize {
        self.count.load(Ordering::SeqCst)
    }
}
