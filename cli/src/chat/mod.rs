//! The chat client: keys, conversations, sending, reading and watching.
//!
//! Everything a person's messages become is sealed here, on their device:
//! the provider stores and forwards armored OpenPGP messages only. State
//! (pinned keys, read markers, the outbox) lives in the data directory and
//! holds no plaintext either.

pub mod api;
pub mod home;
pub mod messenger;
pub mod state;
pub mod timeline;

pub use api::Api;
pub use home::Home;
pub use messenger::{ChatMessage, Chat, Messenger, SendReport};

/// What went wrong, in words for the person at the keyboard. Each kind has
/// its own exit code ([`ChatError::exit_code`]).
#[derive(Debug, thiserror::Error)]
pub enum ChatError {
    /// No account in this home yet.
    #[error("no cloudim account here ({0}); run `cloudim init --provider URL --name NAME` first")]
    NotInitialised(String),
    /// The provider (or a peer's provider) could not be reached.
    #[error("{0} is unreachable; try again when it is back")]
    Unreachable(String),
    /// The provider answered with an error.
    #[error("{0}")]
    Api(String),
    /// Nobody by that name among the conversations.
    #[error("unknown peer '{0}': no open conversation matches (see `cloudim chats`; invite with `cloudim invite`)")]
    UnknownPeer(String),
    /// The peer's key is no longer the one pinned.
    #[error(
        "{peer}'s key changed: pinned {pinned}, now {now}. Check the new fingerprint with them another way, then run `cloudim trust {peer} {now}`"
    )]
    KeyChanged {
        /// The peer.
        peer: String,
        /// The pinned fingerprint.
        pinned: String,
        /// The fingerprint now published.
        now: String,
    },
    /// Something about keys or a message.
    #[error(transparent)]
    Crypto(#[from] cloudim_crypto::CryptoError),
    /// Local files.
    #[error("{0}")]
    Local(String),
}

impl ChatError {
    /// The process exit code: 4 for general errors, 5 key changed,
    /// 6 unknown peer, 7 unreachable, 8 not initialised.
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::KeyChanged { .. } => 5,
            Self::UnknownPeer(_) => 6,
            Self::Unreachable(_) => 7,
            Self::NotInitialised(_) => 8,
            _ => 4,
        }
    }
}

impl From<std::io::Error> for ChatError {
    fn from(e: std::io::Error) -> Self {
        Self::Local(e.to_string())
    }
}
