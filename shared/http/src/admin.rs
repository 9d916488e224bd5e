//! The operator's routes (`/admin/*`, served by the publish function):
//! tenants and their limits, and accounts in any tenant. Every route needs
//! the admin token; none depends on the host it is called on, so an
//! operator can reach them through the deployment's own API address
//! before a tenant's domain points at it.

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, FromRequestParts, Path, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use cloudim_domain::{Error, LimitOverrides};
use cloudim_protocol::{Origin, Tenant};
use serde::Deserialize;

use crate::extract::{bearer, origin_of};
use crate::publish::{account_created, json_body};
use crate::{ApiError, AppState};

/// The admin routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/accounts", post(create_account).layer(DefaultBodyLimit::max(4096)))
        .route("/admin/tenants", get(list_tenants).post(put_tenant).layer(DefaultBodyLimit::max(4096)))
        .route("/admin/tenants/{domain}", get(show_tenant))
}

/// A request that presented the admin token.
pub struct Admin;

impl FromRequestParts<AppState> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let Some(admin) = &state.admin_token else {
            return Err(ApiError::new(StatusCode::FORBIDDEN, "the admin routes are disabled: no admin token is configured"));
        };
        let presented = bearer(&parts.headers).ok_or_else(|| ApiError::new(StatusCode::UNAUTHORIZED, "the admin token is required"))?;
        if !cloudim_domain::token::secret_matches(presented, admin.expose()) {
            return Err(ApiError::new(StatusCode::UNAUTHORIZED, "the admin token is wrong"));
        }
        Ok(Admin)
    }
}

fn tenant(raw: &str) -> Result<Tenant, ApiError> {
    Tenant::parse(raw).map_err(|e| ApiError::bad_request(format!("tenant {raw:?}: {e}")))
}

/// A tenant that is not served, for an operator: what to do about it.
fn not_served(e: Error) -> ApiError {
    match e {
        Error::UnknownTenant(m) => ApiError::new(StatusCode::NOT_FOUND, format!("{m}; register it first with `cloudim admin tenant add`")),
        e => e.into(),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewAccount {
    name: String,
    #[serde(default)]
    tenant: Option<String>,
}

/// `POST /admin/accounts` `{"name", "tenant"?}`: creates an account in
/// `tenant` (else the request's host) and returns its first token, once.
async fn create_account(_: Admin, State(state): State<AppState>, parts: axum::http::request::Parts, body: Bytes) -> Result<Response, ApiError> {
    let req: NewAccount = json_body(&body, r#"{"name": "…", "tenant": "…"}"#)?;
    let origin = match &req.tenant {
        Some(t) => Origin::from_host(state.https, tenant(t)?.as_str()).map_err(|e| ApiError::bad_request(e.to_string()))?,
        None => origin_of(&parts, state.https)?,
    };
    let (account, token) = state.provider.create_account(origin.tenant(), &req.name).await.map_err(not_served)?;
    Ok(account_created(&origin, &account.name, &token))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PutTenant {
    domain: String,
    #[serde(flatten)]
    limits: LimitOverrides,
}

/// `POST /admin/tenants` `{"domain", "max_accounts"?, "publishes_per_minute"?,
/// "max_storage_bytes"?}`: registers a tenant or changes its limits.
async fn put_tenant(_: Admin, State(state): State<AppState>, body: Bytes) -> Result<Response, ApiError> {
    let req: PutTenant = json_body(&body, r#"{"domain": "…", "max_accounts": N, "publishes_per_minute": N, "max_storage_bytes": N}"#)?;
    let status = state.provider.put_tenant(&tenant(&req.domain)?, req.limits).await?;
    Ok((StatusCode::OK, Json(status)).into_response())
}

/// `GET /admin/tenants`: every registered and configured tenant, with
/// limits and usage.
async fn list_tenants(_: Admin, State(state): State<AppState>) -> Result<Response, ApiError> {
    Ok(Json(serde_json::json!({ "tenants": state.provider.tenants().await? })).into_response())
}

/// `GET /admin/tenants/{domain}`: one tenant's limits and usage.
async fn show_tenant(_: Admin, State(state): State<AppState>, Path(domain): Path<String>) -> Result<Response, ApiError> {
    Ok(Json(state.provider.tenant_status(&tenant(&domain)?).await?).into_response())
}
