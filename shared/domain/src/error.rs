//! Errors of the use cases and of the storage ports.

/// What a storage adapter can report.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A conditional write found the record or document changed or present.
    #[error("the stored value changed or already exists")]
    PreconditionFailed,
    /// The backend failed (I/O, network, service error). The text is for
    /// logs, never for clients.
    #[error("storage backend failed: {0}")]
    Backend(String),
}

/// Why a use case did not complete. Each variant maps to one HTTP status at
/// the edge; messages are safe to show to the caller.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The input is malformed or outside limits.
    #[error("{0}")]
    Invalid(String),
    /// The payload is larger than allowed.
    #[error("{0}")]
    TooLarge(String),
    /// No valid credentials were presented.
    #[error("a valid bearer token is required")]
    Unauthorized,
    /// The credentials do not allow this.
    #[error("{0}")]
    Forbidden(String),
    /// The thing does not exist (or is not visible to this tenant).
    #[error("{0}")]
    NotFound(String),
    /// The thing already exists.
    #[error("{0}")]
    Conflict(String),
    /// The subscriber's callback did not pass verification.
    #[error("{0}")]
    VerificationFailed(String),
    /// A remote server did not answer as needed.
    #[error("{0}")]
    Upstream(String),
    /// A destination is not allowed (private, loopback, … addresses).
    #[error("{0}")]
    Refused(String),
    /// A rate limit was reached; the message names it.
    #[error("{message}")]
    RateLimited {
        /// Which limit, for a person.
        message: String,
        /// Seconds until the window resets.
        retry_after: u64,
    },
    /// The request's host is not a tenant of this deployment.
    #[error("{0}")]
    UnknownTenant(String),
    /// A tenant's limit is reached; the message names the limit.
    #[error("{0}")]
    LimitReached(String),
    /// Too many concurrent writers; the caller may retry.
    #[error("the feed is busy; try again")]
    Busy,
    /// Storage failed.
    #[error("storage is unavailable")]
    Store(#[from] StoreError),
}

impl Error {
    /// Shorthand for [`Error::Invalid`].
    pub fn invalid(msg: impl std::fmt::Display) -> Self {
        Self::Invalid(msg.to_string())
    }
}
