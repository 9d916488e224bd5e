//! The discovery function: identity pages for hosted accounts (HTML with
//! `<link rel="pm">` / `<link rel="pgpkey">`, the same as `Link` headers),
//! their armored keys, WebFinger, and resolving a remote identity for our
//! own clients.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, LINK};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use cloudim_protocol::discovery::{REL_PGPKEY, REL_PM};
use cloudim_protocol::identity::{hosted_identity, hosted_key_url, pm_endpoint};
use cloudim_protocol::webfinger::{Acct, Jrd, JrdLink, REL_PROFILE};
use cloudim_protocol::{AccountName, Origin};
use serde::Deserialize;

use crate::extract::{Authenticated, RequestOrigin};
use crate::{ApiError, AppState};

/// The discovery function's routes.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/health/discovery", get(|| async { "ok" }))
        .route("/u/{name}", get(identity_page))
        .route("/u/{name}/key.asc", get(key))
        .route("/.well-known/webfinger", get(webfinger))
        .route("/discover", get(discover))
        .layer(axum::middleware::map_response(crate::error::json_errors))
        .with_state(state)
}

/// An account this tenant hosts, or 404.
async fn hosted(state: &AppState, origin: &Origin, name: &str) -> Result<AccountName, ApiError> {
    let missing = || ApiError::new(StatusCode::NOT_FOUND, "there is no such person here");
    let account = AccountName::parse(name).map_err(|_| missing())?;
    if !state.provider.account_exists(origin.tenant(), &account).await? {
        return Err(missing());
    }
    Ok(account)
}

/// Escapes text for HTML attributes and content.
fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// `GET /u/{name}`: the identity page of a hosted account.
async fn identity_page(State(state): State<AppState>, RequestOrigin(origin): RequestOrigin, Path(name): Path<String>) -> Result<Response, ApiError> {
    let account = hosted(&state, &origin, &name).await?;
    let identity = hosted_identity(&origin, &account).map_err(|e| ApiError::bad_request(e.to_string()))?;
    let pm = pm_endpoint(&origin);
    let key = hosted_key_url(&origin, &account);
    let html = format!(
        "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>{n}</title>\n\
         <link rel=\"{REL_PM}\" href=\"{pm}\">\n<link rel=\"{REL_PGPKEY}\" href=\"{key}\">\n</head>\n\
         <body><h1>{n}</h1><p>{id} receives private messages through cloudim.</p></body></html>\n",
        n = escape(account.as_str()),
        pm = escape(&pm),
        key = escape(&key),
        id = escape(identity.as_str()),
    );
    let link = format!("<{pm}>; rel=\"{REL_PM}\", <{key}>; rel=\"{REL_PGPKEY}\"");
    let mut resp = ([(CONTENT_TYPE, "text/html; charset=utf-8")], html).into_response();
    if let Ok(v) = HeaderValue::from_str(&link) {
        resp.headers_mut().insert(LINK, v);
    }
    resp.headers_mut().insert(CACHE_CONTROL, HeaderValue::from_static("public, max-age=300"));
    Ok(resp)
}

/// `GET /u/{name}/key.asc`: the account's armored public key.
async fn key(State(state): State<AppState>, RequestOrigin(origin): RequestOrigin, Path(name): Path<String>) -> Result<Response, ApiError> {
    let account = hosted(&state, &origin, &name).await?;
    let key = state.provider.key_of(origin.tenant(), &account).await?.ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "this person has not published a key"))?;
    Ok(([(CONTENT_TYPE, "application/pgp-keys"), (CACHE_CONTROL, "public, max-age=300")], key.armored).into_response())
}

#[derive(Deserialize)]
struct WebFingerQuery {
    resource: String,
}

/// `GET /.well-known/webfinger?resource=acct:name@host` (RFC 7033).
async fn webfinger(State(state): State<AppState>, RequestOrigin(origin): RequestOrigin, q: Result<Query<WebFingerQuery>, QueryRejection>) -> Result<Response, ApiError> {
    let Query(q) = q.map_err(|_| ApiError::bad_request("the resource parameter is required"))?;
    let acct = Acct::parse(&q.resource).ok_or_else(|| ApiError::bad_request("resource must be acct:name@host"))?;
    let here = origin.base_url();
    let host_here = here.split("://").nth(1).unwrap_or_default();
    if acct.host != host_here && acct.host != origin.tenant().as_str() {
        return Err(ApiError::new(StatusCode::NOT_FOUND, "that account is not hosted here"));
    }
    let account = hosted(&state, &origin, &acct.user).await?;
    let identity = hosted_identity(&origin, &account).map_err(|e| ApiError::bad_request(e.to_string()))?;
    let link = |rel: &str, href: String, media: &str| JrdLink { rel: rel.to_owned(), href: Some(href), media_type: Some(media.to_owned()) };
    let jrd = Jrd {
        subject: acct.to_string(),
        aliases: vec![identity.to_string()],
        links: vec![
            link(REL_PROFILE, identity.to_string(), "text/html"),
            link(REL_PM, pm_endpoint(&origin), "application/json"),
            link(REL_PGPKEY, hosted_key_url(&origin, &account), "application/pgp-keys"),
        ],
    };
    Ok(([(CONTENT_TYPE, "application/jrd+json"), (axum::http::header::ACCESS_CONTROL_ALLOW_ORIGIN, "*")], Json(jrd)).into_response())
}

#[derive(Deserialize)]
struct DiscoverQuery {
    target: String,
    #[serde(default)]
    fresh: bool,
}

/// `GET /discover?target=…[&fresh=true]`: resolves an identity URL or
/// `acct:` for the authenticated caller (never an open fetcher).
async fn discover(State(state): State<AppState>, auth: Authenticated, q: Result<Query<DiscoverQuery>, QueryRejection>) -> Result<Response, ApiError> {
    let Query(q) = q.map_err(|_| ApiError::bad_request("the target parameter is required"))?;
    let d = state.provider.discover(auth.origin.tenant(), &q.target, q.fresh).await?;
    Ok(Json(serde_json::json!({ "identity": d.identity, "final_url": d.final_url, "pm": d.pm, "pgpkey": d.pgpkey, "fetched_at": d.fetched_at })).into_response())
}
