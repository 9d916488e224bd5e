//! The handshake function: this tenant's PM endpoint (server to server),
//! and the client routes for keys, invitations and conversations.

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use cloudim_domain::keys::MAX_KEY_BYTES;
use cloudim_domain::{Conversation, Invitation};
use cloudim_protocol::identity::pm_endpoint;
use cloudim_protocol::pm::{EndpointInfo, MAX_PM_MESSAGE, PM_PROTOCOL, PmMessage};
use serde::Deserialize;

use crate::extract::{Authenticated, RequestOrigin};
use crate::publish::json_body;
use crate::{ApiError, AppState};

/// The handshake function's routes.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/health/handshake", get(|| async { "ok" }))
        .route("/pm", get(endpoint_info).post(pm).layer(DefaultBodyLimit::max(MAX_PM_MESSAGE)))
        .route("/account", get(whoami))
        .route("/account/key", put(put_key).get(get_key).layer(DefaultBodyLimit::max(MAX_KEY_BYTES * 2)))
        .route("/invitations", post(invite).get(list_invitations).layer(DefaultBodyLimit::max(4096)))
        .route("/invitations/{id}/{action}", post(decide))
        .route("/conversations", get(list_conversations))
        .layer(axum::middleware::map_response(crate::error::json_errors))
        .with_state(state)
}

/// `GET /pm`: what this endpoint is.
async fn endpoint_info(RequestOrigin(origin): RequestOrigin) -> Json<EndpointInfo> {
    Json(EndpointInfo {
        protocol: PM_PROTOCOL.to_owned(),
        endpoint: pm_endpoint(&origin),
        accepts: ["notice", "request", "deliver", "decline"].map(String::from).to_vec(),
    })
}

/// `POST /pm`: one PM message (JSON, `type` says which).
async fn pm(State(state): State<AppState>, RequestOrigin(origin): RequestOrigin, body: Bytes) -> Result<Response, ApiError> {
    let msg: PmMessage = serde_json::from_slice(&body).map_err(|e| ApiError::bad_request(format!("not a PM message: {e}")))?;
    let notice = matches!(msg, PmMessage::Notice(_));
    match state.provider.on_pm(&origin, msg).await {
        Ok(Some(delivered)) => Ok(Json(delivered).into_response()),
        Ok(None) if notice => Ok((StatusCode::ACCEPTED, Json(serde_json::json!({ "status": "accepted" }))).into_response()),
        Ok(None) => Ok(Json(serde_json::json!({ "status": "ok" })).into_response()),
        Err(e) => Err(e.into()),
    }
}

/// `GET /account`: who the token belongs to.
async fn whoami(auth: Authenticated) -> Result<Response, ApiError> {
    let identity = cloudim_protocol::identity::hosted_identity(&auth.origin, &auth.account).map_err(|e| ApiError::bad_request(e.to_string()))?;
    Ok(Json(serde_json::json!({ "name": auth.account.as_str(), "tenant": auth.origin.tenant().as_str(), "identity": identity.as_str() })).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewKey {
    armored: String,
    fingerprint: String,
}

/// `PUT /account/key` `{"armored","fingerprint"}`: publishes the caller's key.
async fn put_key(State(state): State<AppState>, auth: Authenticated, body: Bytes) -> Result<Response, ApiError> {
    let req: NewKey = json_body(&body, r#"{"armored": "-----BEGIN PGP PUBLIC KEY BLOCK-----…", "fingerprint": "…"}"#)?;
    let key = state.provider.put_key(auth.origin.tenant(), &auth.account, &req.armored, &req.fingerprint).await?;
    let url = cloudim_protocol::identity::hosted_key_url(&auth.origin, &auth.account);
    Ok(Json(serde_json::json!({ "fingerprint": key.fingerprint, "url": url })).into_response())
}

/// `GET /account/key`: the caller's published key and fingerprint.
async fn get_key(State(state): State<AppState>, auth: Authenticated) -> Result<Response, ApiError> {
    let key = state.provider.key_of(auth.origin.tenant(), &auth.account).await?.ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "you have not published a key"))?;
    Ok(Json(serde_json::json!({ "fingerprint": key.fingerprint, "armored": key.armored })).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewInvitation {
    to: String,
}

/// An invitation as clients see it (never any token).
fn invitation_json(i: &Invitation) -> serde_json::Value {
    serde_json::json!({
        "id": i.id,
        "direction": i.direction,
        "peer": i.peer,
        "state": i.state,
        "feed": i.feed_url,
        "key": i.key_url,
        "fingerprint": i.fingerprint,
        "in_reply_to": i.in_reply_to,
        "created_at": i.created_at,
        "updated_at": i.updated_at,
    })
}

fn conversation_json(c: &Conversation) -> serde_json::Value {
    serde_json::json!({
        "peer": c.peer,
        "our_feed": c.our_feed_url,
        "their_feed": c.their_feed_url,
        "their_key": c.their_key_url,
        "their_fingerprint": c.their_fingerprint,
        "created_at": c.created_at,
    })
}

/// `POST /invitations` `{"to"}`: invites an identity URL or `acct:`.
async fn invite(State(state): State<AppState>, auth: Authenticated, body: Bytes) -> Result<Response, ApiError> {
    let req: NewInvitation = json_body(&body, r#"{"to": "https://…"}"#)?;
    let inv = state.provider.invite(&auth.origin, &auth.account, &req.to).await?;
    Ok((StatusCode::CREATED, Json(invitation_json(&inv))).into_response())
}

/// `GET /invitations`: every invitation of the caller, newest first.
async fn list_invitations(State(state): State<AppState>, auth: Authenticated) -> Result<Response, ApiError> {
    let all = state.provider.invitations(auth.origin.tenant(), &auth.account).await?;
    Ok(Json(serde_json::json!({ "invitations": all.iter().map(invitation_json).collect::<Vec<_>>() })).into_response())
}

/// `POST /invitations/{id}/accept|decline|block`.
async fn decide(State(state): State<AppState>, auth: Authenticated, Path((id, action)): Path<(String, String)>) -> Result<Response, ApiError> {
    let p = &state.provider;
    match action.as_str() {
        "accept" => {
            let c = p.accept(&auth.origin, &auth.account, &id).await?;
            Ok(Json(conversation_json(&c)).into_response())
        }
        "decline" => Ok(Json(invitation_json(&p.decline(&auth.origin, &auth.account, &id).await?)).into_response()),
        "block" => Ok(Json(invitation_json(&p.block(&auth.origin, &auth.account, &id).await?)).into_response()),
        _ => Err(ApiError::new(StatusCode::NOT_FOUND, "the action must be accept, decline or block")),
    }
}

/// `GET /conversations`: the caller's open conversations.
async fn list_conversations(State(state): State<AppState>, auth: Authenticated) -> Result<Response, ApiError> {
    let all = state.provider.conversations(auth.origin.tenant(), &auth.account).await?;
    Ok(Json(serde_json::json!({ "conversations": all.iter().map(conversation_json).collect::<Vec<_>>() })).into_response())
}
