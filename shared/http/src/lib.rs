//! The HTTP edge of cloudim: one `router()` per function, shared by the
//! Lambda binaries, the local all-in-one server and the tests. Handlers
//! only translate HTTP to use cases and back; the logic is in the domain.

pub mod admin;
pub mod discovery;
pub mod error;
pub mod extract;
pub mod handshake;
pub mod notify;
pub mod publish;
pub mod state;

pub use error::ApiError;
pub use extract::{CallerAddr, InternalInvoke};
pub use state::AppState;

/// Every function's routes on one router: the local all-in-one provider.
pub fn all_in_one(state: AppState) -> axum::Router {
    axum::Router::new()
        .merge(discovery::router(state.clone()))
        .merge(handshake::router(state.clone()))
        .merge(publish::router(state.clone()))
        .merge(notify::router(state))
        .route("/health", axum::routing::get(|| async { "ok" }))
}
