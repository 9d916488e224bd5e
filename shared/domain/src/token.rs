//! Bearer tokens: 256 random bits shown once, stored only as a SHA-256 hash.

use std::fmt;

use rand::RngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// A bearer token in plaintext. Never logged: `Debug` hides it.
#[derive(Clone, PartialEq, Eq)]
pub struct Token(String);

impl Token {
    /// A fresh token of 32 random bytes, hex-encoded.
    pub fn generate() -> Self {
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        Self(hex::encode(bytes))
    }

    /// Accepts a token presented by a client (shape only; 16 to 128
    /// printable ASCII characters).
    pub fn from_presented(s: &str) -> Option<Self> {
        ((16..=128).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_graphic())).then(|| Self(s.to_owned()))
    }

    /// The plaintext, to hand to its owner exactly once.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The hash under which the token is stored.
    pub fn hash(&self) -> TokenHash {
        TokenHash(hex::encode(Sha256::digest(self.0.as_bytes())))
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(<redacted>)")
    }
}

/// The SHA-256 of a token, hex-encoded: what storage holds.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct TokenHash(String);

impl TokenHash {
    /// Wraps a stored hash.
    pub fn from_stored(s: String) -> Self {
        Self(s)
    }

    /// The hash as hex.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Compares two hashes in constant time.
    pub fn matches(&self, other: &TokenHash) -> bool {
        self.0.as_bytes().ct_eq(other.0.as_bytes()).into()
    }
}

/// Compares a presented secret with the expected one in constant time.
pub fn secret_matches(presented: &str, expected: &str) -> bool {
    let (a, b) = (Sha256::digest(presented.as_bytes()), Sha256::digest(expected.as_bytes()));
    a.ct_eq(&b).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_hidden_and_hashed() {
        let (a, b) = (Token::generate(), Token::generate());
        assert_ne!(a, b);
        assert_eq!(a.expose().len(), 64);
        assert!(!format!("{a:?}").contains(a.expose()));
        assert!(a.hash().matches(&Token::from_presented(a.expose()).unwrap().hash()));
        assert!(!a.hash().matches(&b.hash()));
        assert!(Token::from_presented("short").is_none());
        assert!(secret_matches("x", "x") && !secret_matches("x", "y"));
    }
}
