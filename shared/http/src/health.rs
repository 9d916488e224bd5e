//! The discovery and handshake functions: health routes until their issues.

use axum::Router;
use axum::routing::get;

/// `GET /health/discovery`.
pub fn discovery_router() -> Router {
    Router::new().route("/health/discovery", get(|| async { "ok" }))
}

/// `GET /health/handshake`.
pub fn handshake_router() -> Router {
    Router::new().route("/health/handshake", get(|| async { "ok" }))
}
