//! Validated identifiers: once a value of these types exists, it is valid.

use std::fmt;

/// `as_str` and `Display` for a validated text newtype.
macro_rules! text {
    ($t:ty) => {
        impl $t {
            /// The value as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

/// The conversions serde uses to read a validated text newtype through its
/// `parse` (`#[serde(try_from = "String", into = "String")]`).
macro_rules! serde_text {
    ($t:ty) => {
        text!($t);

        impl TryFrom<String> for $t {
            type Error = IdError;
            fn try_from(s: String) -> Result<Self, IdError> {
                Self::parse(&s)
            }
        }

        impl From<$t> for String {
            fn from(v: $t) -> String {
                v.0
            }
        }
    };
}

text!(FeedId);
text!(ItemId);
serde_text!(AccountName);
serde_text!(InvitationId);
serde_text!(Fingerprint);

/// Why a string is not a valid identifier.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    /// A feed id must be exactly 32 lowercase hexadecimal characters.
    #[error("a feed id is 32 lowercase hexadecimal characters")]
    FeedId,
    /// An item id is 1 to 128 characters of `A-Z a-z 0-9 . _ : -`.
    #[error("an item id is 1 to 128 characters of letters, digits, '.', '_', ':' and '-'")]
    ItemId,
    /// An account name is 1 to 64 characters of `a-z 0-9 _ -`, starting with a letter or digit.
    #[error(
        "an account name is 1 to 64 characters of lowercase letters, digits, '_' and '-', starting with a letter or digit"
    )]
    AccountName,
    /// An invitation id is 32 lowercase hexadecimal characters.
    #[error("an invitation id is 32 lowercase hexadecimal characters")]
    InvitationId,
    /// A fingerprint is 40 or 64 hexadecimal digits.
    #[error("an OpenPGP fingerprint is 40 or 64 hexadecimal digits")]
    Fingerprint,
}

/// The unguessable identifier of a feed: 128 random bits as lowercase hex.
///
/// ```
/// use cloudim_protocol::FeedId;
/// let id = FeedId::from_bytes([0xab; 16]);
/// assert_eq!(id.as_str(), "abababababababababababababababab");
/// assert_eq!(FeedId::parse(id.as_str()), Ok(id));
/// assert!(FeedId::parse("ABAB").is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FeedId(String);

impl FeedId {
    /// Parses a feed id as it appears in a URL.
    pub fn parse(s: &str) -> Result<Self, IdError> {
        let ok = s.len() == 32 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        if ok { Ok(Self(s.to_owned())) } else { Err(IdError::FeedId) }
    }

    /// Builds a feed id from 16 random bytes.
    pub fn from_bytes(bytes: [u8; 16]) -> Self {
        use fmt::Write;
        let mut s = String::with_capacity(32);
        for b in bytes {
            // Writing to a String cannot fail.
            let _ = write!(s, "{b:02x}");
        }
        Self(s)
    }
}

/// A client-chosen item id, used as the item's GUID and for idempotency.
///
/// ```
/// use cloudim_protocol::ItemId;
/// assert!(ItemId::parse("2026-11-21T11:20:00.123Z-7f3a").is_ok());
/// assert!(ItemId::parse("").is_err());
/// assert!(ItemId::parse("has space").is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ItemId(String);

impl ItemId {
    /// Parses a client-chosen item id.
    pub fn parse(s: &str) -> Result<Self, IdError> {
        let ok = (1..=128).contains(&s.len())
            && s.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'-'));
        if ok { Ok(Self(s.to_owned())) } else { Err(IdError::ItemId) }
    }
}

/// The name of an account within a tenant.
///
/// ```
/// use cloudim_protocol::AccountName;
/// assert!(AccountName::parse("alice").is_ok());
/// assert!(AccountName::parse("Alice").is_err());
/// assert!(AccountName::parse("-x").is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct AccountName(String);

impl AccountName {
    /// Parses an account name.
    pub fn parse(s: &str) -> Result<Self, IdError> {
        let bytes = s.as_bytes();
        let ok = (1..=64).contains(&bytes.len())
            && bytes[0].is_ascii_lowercase() | bytes[0].is_ascii_digit()
            && bytes.iter().all(|b| matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'_' | b'-'));
        if ok { Ok(Self(s.to_owned())) } else { Err(IdError::AccountName) }
    }
}

/// The identifier of an invitation: 128 random bits as lowercase hex.
///
/// ```
/// use cloudim_protocol::InvitationId;
/// let id = InvitationId::generate();
/// assert_eq!(InvitationId::parse(id.as_str()), Ok(id));
/// assert!(InvitationId::parse("nope").is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct InvitationId(String);

impl InvitationId {
    /// Parses an invitation id.
    pub fn parse(s: &str) -> Result<Self, IdError> {
        FeedId::parse(s).map(|f| Self(f.0)).map_err(|_| IdError::InvitationId)
    }

    /// A fresh random id.
    pub fn generate() -> Self {
        Self(FeedId::from_bytes(rand::random()).0)
    }
}

/// An OpenPGP fingerprint: 40 (v4) or 64 (v6) hexadecimal digits, kept in
/// uppercase without spaces.
///
/// ```
/// use cloudim_protocol::Fingerprint;
/// let f = Fingerprint::parse("0123 4567 89ab cdef 0123  4567 89AB CDEF 0123 4567").unwrap();
/// assert_eq!(f.as_str(), "0123456789ABCDEF0123456789ABCDEF01234567");
/// assert!(Fingerprint::parse("0123").is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Fingerprint(String);

impl Fingerprint {
    /// Parses a fingerprint, ignoring spaces and case.
    pub fn parse(s: &str) -> Result<Self, IdError> {
        let hex: String = s.chars().filter(|c| *c != ' ').collect::<String>().to_ascii_uppercase();
        let ok = matches!(hex.len(), 40 | 64) && hex.bytes().all(|b| b.is_ascii_hexdigit());
        if ok { Ok(Self(hex)) } else { Err(IdError::Fingerprint) }
    }
}
