//! The notify function: rssCloud `pleaseNotify`, `ping` and XML-RPC for the
//! feeds we host, and the callback side for the feeds our accounts follow.

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Query, State};
use axum::http::header::{ACCEPT, CONTENT_TYPE};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use cloudim_domain::cloud::{PING_MSG, REGISTERED_MSG};
use cloudim_protocol::rsscloud::parse_http_url;
use cloudim_protocol::xmlrpc::{self, MethodCall, Value};
use cloudim_protocol::{NotifyResult, Ping, PleaseNotify};
use serde::Deserialize;

use crate::extract::{Authenticated, RequestOrigin};
use crate::publish::json_body;
use crate::{ApiError, AppState, CallerAddr};

/// The largest rssCloud request accepted.
const MAX_RSSCLOUD_BODY: usize = 64 * 1024;

/// The notify function's routes.
pub fn router(state: AppState) -> Router {
    let callback = state.provider.settings.callback_path.clone();
    Router::new()
        .route("/health/notify", get(|| async { "ok" }))
        .route("/pleaseNotify", post(please_notify))
        .route("/ping", post(ping))
        .route("/RPC2", post(rpc2))
        .route(&callback, get(callback_challenge).post(callback_notification))
        .route("/follows", post(follow))
        .route("/inbox", get(inbox))
        .route("/internal/fanout", post(internal_fanout).layer(DefaultBodyLimit::max(4096)))
        .route("/internal/renew", post(internal_renew))
        .route("/inbox/watch", post(watch_inbox).layer(axum::extract::DefaultBodyLimit::max(256 * 1024)))
        .layer(DefaultBodyLimit::max(MAX_RSSCLOUD_BODY))
        .layer(axum::middleware::map_response(crate::error::json_errors))
        .with_state(state)
}

fn wants_json(headers: &HeaderMap) -> bool {
    headers.get(ACCEPT).and_then(|v| v.to_str().ok()).is_some_and(|v| v.contains("application/json"))
}

/// An rssCloud reply: XML by default, JSON on `Accept: application/json`.
fn result(headers: &HeaderMap, element: &str, status: StatusCode, success: bool, msg: String) -> Response {
    let r = NotifyResult { success, msg };
    if wants_json(headers) {
        (status, [(CONTENT_TYPE, "application/json")], r.to_json()).into_response()
    } else {
        (status, [(CONTENT_TYPE, "text/xml; charset=utf-8")], r.to_xml(element)).into_response()
    }
}

fn failure(headers: &HeaderMap, element: &str, e: ApiError) -> Response {
    result(headers, element, e.status(), false, e.message().to_owned())
}

/// `POST /pleaseNotify`: registers a subscriber after verifying it.
async fn please_notify(State(state): State<AppState>, origin: Result<RequestOrigin, ApiError>, caller: Result<CallerAddr, ApiError>, headers: HeaderMap, body: Bytes) -> Response {
    let run = async {
        let RequestOrigin(origin) = origin?;
        let req = PleaseNotify::from_form(&body).map_err(|e| ApiError::bad_request(e.to_string()))?;
        let caller = match (&req.domain, caller) {
            (_, Ok(CallerAddr(ip))) => ip,
            (Some(_), Err(_)) => std::net::Ipv4Addr::UNSPECIFIED.into(),
            (None, Err(e)) => return Err(e),
        };
        state.provider.please_notify(&origin, caller, &req).await.map_err(ApiError::from)
    };
    match run.await {
        Ok(_) => result(&headers, "notifyResult", StatusCode::OK, true, REGISTERED_MSG.into()),
        Err(e) => failure(&headers, "notifyResult", e),
    }
}

/// `POST /ping`: a feed we host changed; notify its subscribers.
async fn ping(State(state): State<AppState>, origin: Result<RequestOrigin, ApiError>, headers: HeaderMap, body: Bytes) -> Response {
    let run = async {
        let RequestOrigin(origin) = origin?;
        let ping = Ping::from_form(&body).map_err(|e| ApiError::bad_request(e.to_string()))?;
        state.provider.ping(&origin, &ping).await.map_err(ApiError::from)
    };
    match run.await {
        Ok(()) => result(&headers, "result", StatusCode::OK, true, PING_MSG.into()),
        Err(e) => failure(&headers, "result", e),
    }
}

/// `POST /RPC2`: `rssCloud.hello`, `rssCloud.pleaseNotify`, `rssCloud.ping`.
/// Errors are XML-RPC faults with code 4, as the reference server answers.
async fn rpc2(State(state): State<AppState>, origin: Result<RequestOrigin, ApiError>, caller: Result<CallerAddr, ApiError>, body: Bytes) -> Response {
    let run = async {
        let RequestOrigin(origin) = origin?;
        let call = MethodCall::parse(&body).map_err(|e| ApiError::bad_request(e.to_string()))?;
        match call.method.as_str() {
            "rssCloud.hello" => Ok(()),
            "rssCloud.pleaseNotify" => {
                let req = PleaseNotify::from_xmlrpc(&call.params).map_err(|e| ApiError::bad_request(e.to_string()))?;
                let ip = match (&req.domain, caller) {
                    (_, Ok(CallerAddr(ip))) => ip,
                    (Some(_), Err(_)) => std::net::Ipv4Addr::UNSPECIFIED.into(),
                    (None, Err(e)) => return Err(e),
                };
                state.provider.please_notify(&origin, ip, &req).await.map(|_| ()).map_err(ApiError::from)
            }
            "rssCloud.ping" => {
                let ping = Ping::from_xmlrpc(&call.params).map_err(|e| ApiError::bad_request(e.to_string()))?;
                state.provider.ping(&origin, &ping).await.map_err(ApiError::from)
            }
            other => Err(ApiError::bad_request(format!("Can't make the call because \"{}\" is not defined.", other.chars().take(80).collect::<String>()))),
        }
    };
    let xml = |s: String| ([(CONTENT_TYPE, "text/xml; charset=utf-8")], s);
    match run.await {
        Ok(()) => xml(xmlrpc::response(&Value::Bool(true))).into_response(),
        Err(e) => xml(xmlrpc::fault(4, e.message())).into_response(),
    }
}

#[derive(Deserialize)]
struct Challenge {
    url: String,
    challenge: String,
}

/// `GET {callback}?url=…&challenge=…`: echoes the challenge for a feed one
/// of our accounts follows.
async fn callback_challenge(State(state): State<AppState>, RequestOrigin(origin): RequestOrigin, Query(q): Query<Challenge>) -> Result<Response, ApiError> {
    if q.challenge.len() > 512 {
        return Err(ApiError::bad_request("the challenge is too long"));
    }
    let url = parse_http_url(&q.url).map_err(|e| ApiError::bad_request(e.to_string()))?;
    if !state.provider.is_followed(origin.tenant(), url.as_str()).await? {
        return Err(ApiError::new(StatusCode::NOT_FOUND, "no account here follows that feed"));
    }
    Ok(([(CONTENT_TYPE, "text/plain")], q.challenge).into_response())
}

/// `POST {callback}` `url=…`: a followed feed changed; fetch it and record
/// what is new.
async fn callback_notification(State(state): State<AppState>, RequestOrigin(origin): RequestOrigin, body: Bytes) -> Result<Response, ApiError> {
    let ping = Ping::from_form(&body).map_err(|e| ApiError::bad_request(e.to_string()))?;
    let n = state.provider.on_notification(origin.tenant(), ping.url.as_str()).await?;
    Ok(Json(serde_json::json!({ "recorded": n })).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewFollow {
    url: String,
}

/// `POST /follows` `{"url"}`: the caller follows a feed hosted anywhere.
async fn follow(State(state): State<AppState>, auth: Authenticated, body: Bytes) -> Result<Response, ApiError> {
    let req: NewFollow = json_body(&body, r#"{"url": "…"}"#)?;
    let f = state.provider.follow(&auth.origin, &auth.account, &req.url).await?;
    Ok((StatusCode::CREATED, Json(serde_json::json!({ "url": f.feed_url, "next_seq": f.next_seq }))).into_response())
}

#[derive(Deserialize)]
struct InboxQuery {
    feed: String,
    after: Option<u64>,
    limit: Option<usize>,
}

/// `GET /inbox?feed=…&after=…&limit=…`: items recorded for the caller from
/// a followed feed, in order.
async fn inbox(State(state): State<AppState>, auth: Authenticated, Query(q): Query<InboxQuery>) -> Result<Response, ApiError> {
    let url = parse_http_url(&q.feed).map_err(|e| ApiError::bad_request(e.to_string()))?;
    let items = state.provider.inbox_items(auth.origin.tenant(), &auth.account, url.as_str(), q.after, q.limit.unwrap_or(100)).await?;
    let items: Vec<_> = items.iter().map(|i| serde_json::json!({ "seq": i.seq, "guid": i.guid.as_str(), "payload": i.payload })).collect();
    Ok(Json(serde_json::json!({ "items": items })).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Watch {
    /// Feed URL → the last sequence number the client has (null: none).
    cursors: std::collections::BTreeMap<String, Option<u64>>,
    /// Seconds to wait for something new (at most 25).
    #[serde(default)]
    wait_secs: u64,
}

/// `POST /inbox/watch` `{"cursors": {feed: seq|null}, "wait_secs": 25}`: a
/// long poll. Answers with every item recorded for the caller after the
/// cursors as soon as there is one, or with none when the wait runs out.
async fn watch_inbox(State(state): State<AppState>, auth: Authenticated, body: Bytes) -> Result<Response, ApiError> {
    let req: Watch = crate::publish::json_body(&body, r#"{"cursors": {"https://…/feeds/…": 41}, "wait_secs": 25}"#)?;
    let mut cursors = std::collections::BTreeMap::new();
    for (feed, after) in req.cursors {
        let url = parse_http_url(&feed).map_err(|e| ApiError::bad_request(format!("{feed}: {e}")))?;
        cursors.insert(url.as_str().to_owned(), after);
    }
    let wait = std::time::Duration::from_secs(req.wait_secs);
    let items = state.provider.watch_inbox(auth.origin.tenant(), &auth.account, &cursors, wait).await?;
    let items: Vec<_> = items
        .iter()
        .map(|i| serde_json::json!({ "feed": i.feed_url, "seq": i.seq, "guid": i.guid.as_str(), "payload": i.payload, "received_at": i.received_at }))
        .collect();
    Ok(Json(serde_json::json!({ "items": items })).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FanoutEvent {
    tenant: String,
    feed: String,
}

/// `POST /internal/fanout` `{"tenant","feed"}`: the asynchronous fan-out
/// on AWS (publish invokes notify with an `Event` invocation). Answers 404
/// to anything that did not arrive as such an invocation.
async fn internal_fanout(State(state): State<AppState>, _: crate::InternalInvoke, body: Bytes) -> Result<Response, ApiError> {
    let ev: FanoutEvent = json_body(&body, r#"{"tenant": "…", "feed": "…"}"#)?;
    let tenant = cloudim_protocol::Tenant::parse(&ev.tenant).map_err(|e| ApiError::bad_request(e.to_string()))?;
    let feed = cloudim_protocol::FeedId::parse(&ev.feed).map_err(|e| ApiError::bad_request(e.to_string()))?;
    let report = state.provider.fanout(&tenant, &feed).await?;
    tracing::info!(tenant = %tenant, feed = %feed, ?report, "fan-out done");
    Ok(Json(serde_json::json!({ "delivered": report.delivered, "failed": report.failed, "dropped": report.dropped })).into_response())
}

/// `POST /internal/renew`: the scheduled renewal of our follows on AWS (an
/// EventBridge schedule invokes notify). 404 to anything else.
async fn internal_renew(State(state): State<AppState>, _: crate::InternalInvoke) -> Result<Response, ApiError> {
    let renewed = state.provider.renew_due().await?;
    Ok(Json(serde_json::json!({ "renewed": renewed })).into_response())
}
