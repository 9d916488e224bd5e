//! The publish function: accounts, feeds, appends, feed reads
//! with ETag and conditional GET, and the operator's `/admin` routes.

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, ETAG, IF_NONE_MATCH};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use cloudim_domain::publish::feed_url;
use cloudim_protocol::FeedId;
use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::extract::{Authenticated, RequestOrigin};
use crate::{ApiError, AppState};

/// The publish function's routes.
pub fn router(state: AppState) -> Router {
    let item_limit = state.provider.settings.max_item_bytes * 2 + 4096;
    Router::new()
        .route("/health/publish", get(|| async { "ok" }))
        .merge(crate::admin::router())
        .route("/accounts", post(register).layer(DefaultBodyLimit::max(4096)))
        .route("/feeds", post(create_feed).layer(DefaultBodyLimit::max(4096)))
        .route("/feeds/{id}", get(read_head))
        .route("/feeds/{id}/items", post(append).layer(DefaultBodyLimit::max(item_limit)))
        .route("/feeds/{id}/archive/{page}", get(read_archive))
        .layer(axum::middleware::map_response(crate::error::json_errors))
        .with_state(state)
}

/// Parses a JSON body with a message a person understands.
pub(crate) fn json_body<T: DeserializeOwned>(body: &[u8], shape: &str) -> Result<T, ApiError> {
    serde_json::from_slice(body).map_err(|e| ApiError::bad_request(format!("the body must be JSON {shape}: {e}")))
}

fn feed_id(raw: &str) -> Result<FeedId, ApiError> {
    FeedId::parse(raw).map_err(|_| ApiError::new(StatusCode::NOT_FOUND, "there is no such feed"))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewAccount {
    name: String,
}

/// The answer to a new account: its identity and first token (shown once).
pub(crate) fn account_created(origin: &cloudim_protocol::Origin, name: &cloudim_protocol::AccountName, token: &cloudim_domain::Token) -> Response {
    let body = serde_json::json!({
        "name": name.as_str(),
        "tenant": origin.tenant().as_str(),
        "identity": cloudim_protocol::identity::hosted_identity(origin, name).ok().map(|i| i.as_str().to_owned()),
        "token": token.expose(),
    });
    (StatusCode::CREATED, Json(body)).into_response()
}

/// `POST /accounts` `{"name"}`: open registration, when the operator
/// allows it; returns the account's first token (shown once).
async fn register(State(state): State<AppState>, RequestOrigin(origin): RequestOrigin, body: Bytes) -> Result<Response, ApiError> {
    let req: NewAccount = json_body(&body, r#"{"name": "…"}"#)?;
    let (account, token) = state.provider.register(origin.tenant(), &req.name).await?;
    Ok(account_created(&origin, &account.name, &token))
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct NewFeed {
    title: Option<String>,
}

/// `POST /feeds` `{"title"?}`: creates a feed owned by the caller.
async fn create_feed(State(state): State<AppState>, auth: Authenticated, body: Bytes) -> Result<Response, ApiError> {
    let req: NewFeed = if body.is_empty() { NewFeed::default() } else { json_body(&body, r#"{"title": "…"}"#)? };
    let feed = state.provider.create_feed(&auth.origin, &auth.account, req.title.as_deref()).await?;
    let url = feed_url(&auth.origin, &feed.id);
    Ok((StatusCode::CREATED, Json(serde_json::json!({ "id": feed.id.as_str(), "url": url, "title": feed.title }))).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewItem {
    id: String,
    payload: String,
}

/// `POST /feeds/{id}/items` `{"id","payload"}`: appends an item (201), or
/// finds it already stored (200).
async fn append(State(state): State<AppState>, auth: Authenticated, Path(id): Path<String>, body: Bytes) -> Result<Response, ApiError> {
    let feed = feed_id(&id)?;
    let req: NewItem = json_body(&body, r#"{"id": "…", "payload": "…"}"#)?;
    let r = state.provider.append(&auth.origin, &auth.account, &feed, &req.id, req.payload).await?;
    let status = if r.duplicate { StatusCode::OK } else { StatusCode::CREATED };
    Ok((status, Json(serde_json::json!({ "guid": req.id, "seq": r.seq, "duplicate": r.duplicate }))).into_response())
}

/// `GET /feeds/{id}`: the head document, with `ETag`; 304 on `If-None-Match`.
async fn read_head(State(state): State<AppState>, RequestOrigin(origin): RequestOrigin, Path(id): Path<String>, headers: HeaderMap) -> Result<Response, ApiError> {
    let doc = state.provider.read_feed(origin.tenant(), &feed_id(&id)?, None).await?;
    Ok(feed_response(doc, &headers, "no-cache"))
}

/// `GET /feeds/{id}/archive/{page}`: an immutable archive page.
async fn read_archive(State(state): State<AppState>, RequestOrigin(origin): RequestOrigin, Path((id, page)): Path<(String, String)>, headers: HeaderMap) -> Result<Response, ApiError> {
    let page: u64 = page.parse().map_err(|_| ApiError::new(StatusCode::NOT_FOUND, "there is no such archive page"))?;
    let doc = state.provider.read_feed(origin.tenant(), &feed_id(&id)?, Some(page)).await?;
    Ok(feed_response(doc, &headers, "public, max-age=31536000, immutable"))
}

fn feed_response(doc: cloudim_domain::StoredDoc, headers: &HeaderMap, cache: &'static str) -> Response {
    let matches = headers
        .get(IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| { let t = t.trim(); t == "*" || t.trim_start_matches("W/") == doc.etag }));
    let mut resp = if matches {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        ([(CONTENT_TYPE, "application/rss+xml; charset=utf-8")], doc.body).into_response()
    };
    if let Ok(v) = doc.etag.parse() {
        resp.headers_mut().insert(ETAG, v);
    }
    resp.headers_mut().insert(CACHE_CONTROL, axum::http::HeaderValue::from_static(cache));
    resp
}
