//! Extractors: the origin (tenant) from `Host`, the authenticated account
//! from a bearer token, and the caller's address.

use std::net::IpAddr;

use axum::extract::FromRequestParts;
use axum::http::header::{AUTHORIZATION, HOST};
use axum::http::request::Parts;
use cloudim_protocol::{AccountName, Origin};

use crate::{ApiError, AppState};

/// Where the request arrived: scheme, tenant host and port, for a tenant
/// this deployment serves (else 421 with the host named).
pub struct RequestOrigin(pub Origin);

impl FromRequestParts<AppState> for RequestOrigin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let origin = origin_of(parts, state.https)?;
        state.provider.admit(origin.tenant()).await?;
        Ok(RequestOrigin(origin))
    }
}

/// Where a request arrived, whether or not a tenant is served there.
pub(crate) fn origin_of(parts: &Parts, https: bool) -> Result<Origin, ApiError> {
    let host = parts
        .headers
        .get(HOST)
        .and_then(|h| h.to_str().ok())
        .or_else(|| parts.uri.authority().map(|a| a.as_str()))
        .ok_or_else(|| ApiError::bad_request("the Host header is required"))?;
    Origin::from_host(https, host).map_err(|e| ApiError::bad_request(e.to_string()))
}

/// The account a valid `Authorization: Bearer …` token belongs to, within
/// the request's tenant.
pub struct Authenticated {
    /// Where the request arrived.
    pub origin: Origin,
    /// Whose token it was.
    pub account: AccountName,
}

impl FromRequestParts<AppState> for Authenticated {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let RequestOrigin(origin) = RequestOrigin::from_request_parts(parts, state).await?;
        let token = bearer(&parts.headers).ok_or_else(|| ApiError::from(cloudim_domain::Error::Unauthorized))?;
        let account = state.provider.authenticate(origin.tenant(), token).await?;
        Ok(Self { origin, account })
    }
}

/// The bearer token of a request, if any.
pub fn bearer(headers: &axum::http::HeaderMap) -> Option<&str> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// The caller's IP address, put in the request's extensions by whatever
/// runs the router (the local server from the socket, Lambda from the
/// request context).
#[derive(Debug, Clone, Copy)]
pub struct CallerAddr(pub IpAddr);

/// Marks a request that arrived as a direct asynchronous invocation of the
/// function (the fan-out and renewal events), never through a URL. The
/// Lambda runner sets it; nothing else can. As an extractor it answers 404
/// to every other request, so internal routes do not exist from outside.
#[derive(Debug, Clone, Copy)]
pub struct InternalInvoke;

impl<S: Send + Sync> FromRequestParts<S> for InternalInvoke {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        parts.extensions.get::<InternalInvoke>().copied().ok_or_else(|| ApiError::new(axum::http::StatusCode::NOT_FOUND, "no such route"))
    }
}

impl<S: Send + Sync> FromRequestParts<S> for CallerAddr {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        parts.extensions.get::<CallerAddr>().copied().ok_or_else(|| {
            ApiError::bad_request("the caller's address is unknown; give a domain parameter")
        })
    }
}
