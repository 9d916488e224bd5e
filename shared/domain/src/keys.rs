//! Account keys: uploaded by the account's client, served on its identity
//! page's `rel="pgpkey"` link, and named in its invitations.

use cloudim_protocol::{AccountName, Fingerprint, Tenant};

use crate::{AccountKey, Error, Provider};

/// The largest armored certificate accepted, in bytes.
pub const MAX_KEY_BYTES: usize = 64 * 1024;

const ARMOR_BEGIN: &str = "-----BEGIN PGP PUBLIC KEY BLOCK-----";
const ARMOR_END: &str = "-----END PGP PUBLIC KEY BLOCK-----";

impl Provider {
    /// Stores an account's armored public key and its fingerprint. The
    /// provider checks only the armor's shape; clients verify the key
    /// against the fingerprint they pinned.
    pub async fn put_key(&self, tenant: &Tenant, account: &AccountName, armored: &str, fingerprint: &str) -> Result<AccountKey, Error> {
        if armored.len() > MAX_KEY_BYTES {
            return Err(Error::TooLarge(format!("a key is at most {MAX_KEY_BYTES} bytes")));
        }
        let armored = armored.trim();
        if !armored.starts_with(ARMOR_BEGIN) || !armored.ends_with(ARMOR_END) || armored.contains('\0') {
            return Err(Error::invalid(format!("the key must be an ASCII-armored public key ({ARMOR_BEGIN} … {ARMOR_END})")));
        }
        let fingerprint = Fingerprint::parse(fingerprint).map_err(Error::invalid)?;
        let key = AccountKey { account: account.clone(), armored: format!("{armored}\n"), fingerprint, updated_at: self.ports.clock.now() };
        self.ports.handshake.put_key(tenant, &key).await?;
        tracing::info!(tenant = %tenant, account = %account, "key stored");
        Ok(key)
    }

    /// An account's key, if it uploaded one.
    pub async fn key_of(&self, tenant: &Tenant, account: &AccountName) -> Result<Option<AccountKey>, Error> {
        Ok(self.ports.handshake.get_key(tenant, account).await?)
    }

    /// Whether an account exists (for identity pages and WebFinger).
    pub async fn account_exists(&self, tenant: &Tenant, account: &AccountName) -> Result<bool, Error> {
        Ok(self.ports.accounts.get_account(tenant, account).await?.is_some())
    }
}
