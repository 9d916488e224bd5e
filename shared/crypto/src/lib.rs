//! cloudim's OpenPGP, on sequoia-openpgp with the OpenSSL backend.
//!
//! Keys are RFC 4880 (v4) Cv25519 certificates advertising SEIPDv1 only, so
//! GnuPG 2.2 reads everything cloudim writes and cloudim reads what GnuPG
//! writes. A message is signed by its sender and encrypted to its
//! recipient and to the sender (for the sender's other devices); opening
//! one decrypts it and requires a good signature by one of the
//! certificates the caller trusts for that sender.

mod keys;
mod seal;

pub use keys::{PublicKey, SecretKey};
pub use seal::{Opened, open, seal};

/// What went wrong with a key or a message. Texts never contain key
/// material or plaintext.
#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    /// The bytes are not an OpenPGP certificate or key of the kind needed.
    #[error("not a usable OpenPGP key: {0}")]
    BadKey(String),
    /// The secret key is protected and the passphrase is missing or wrong.
    #[error("the secret key is protected by a passphrase; it is missing or wrong")]
    Locked,
    /// The message is not for any of our keys.
    #[error("the message is not encrypted to this key")]
    NotForUs,
    /// The message carries no good signature by a trusted certificate.
    #[error("the message is not signed by the expected key{0}")]
    BadSignature(String),
    /// The message is malformed or its integrity check failed.
    #[error("the message is damaged or not an OpenPGP message: {0}")]
    Malformed(String),
    /// Encrypting or signing failed.
    #[error("could not seal the message: {0}")]
    Seal(String),
}
