//! Keys: our secret key (generated, imported, exported) and the public
//! certificates of the people we talk to.

use sequoia_openpgp as openpgp;

use cloudim_protocol::Fingerprint;
use openpgp::cert::prelude::*;
use openpgp::crypto::{KeyPair, Password};
use openpgp::parse::Parse;
use openpgp::policy::StandardPolicy;
use openpgp::serialize::SerializeInto;
use openpgp::types::Features;
use openpgp::{Cert, Profile};

use crate::CryptoError;

pub(crate) static POLICY: StandardPolicy<'static> = StandardPolicy::new();

/// Someone's public OpenPGP certificate.
#[derive(Clone, Debug, PartialEq)]
pub struct PublicKey {
    pub(crate) cert: Cert,
}

impl PublicKey {
    /// Parses an armored (or binary) certificate; secret parts, if any, are
    /// dropped. The certificate must be valid under the standard policy and
    /// able to encrypt and sign.
    pub fn parse(bytes: &[u8]) -> Result<Self, CryptoError> {
        let cert = Cert::from_bytes(bytes).map_err(|e| CryptoError::BadKey(e.to_string()))?.strip_secret_key_material();
        let valid = cert.with_policy(&POLICY, None).map_err(|e| CryptoError::BadKey(e.to_string()))?;
        if valid.keys().supported().alive().revoked(false).for_transport_encryption().next().is_none() {
            return Err(CryptoError::BadKey("it has no valid encryption key".into()));
        }
        if valid.keys().supported().alive().revoked(false).for_signing().next().is_none() {
            return Err(CryptoError::BadKey("it has no valid signing key".into()));
        }
        Ok(Self { cert })
    }

    /// The certificate's fingerprint (uppercase hex).
    pub fn fingerprint(&self) -> Fingerprint {
        fingerprint_of(&self.cert)
    }

    /// The certificate, ASCII-armored.
    pub fn armored(&self) -> String {
        let bytes = self.cert.armored().to_vec().unwrap_or_default();
        String::from_utf8_lossy(&bytes).into_owned()
    }
}

fn fingerprint_of(cert: &Cert) -> Fingerprint {
    let hex = cert.fingerprint().to_hex();
    // A sequoia fingerprint is always 40 (v4) or 64 (v6) hex digits.
    Fingerprint::parse(&hex).unwrap_or_else(|_| unreachable!("sequoia fingerprints are hex"))
}

/// Our secret key, unlocked in memory: a signing key pair and the
/// decryption key pairs, with the certificate they belong to.
pub struct SecretKey {
    pub(crate) cert: Cert,
    pub(crate) signer: KeyPair,
    pub(crate) decryptors: Vec<KeyPair>,
}

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecretKey").field("fingerprint", &self.fingerprint()).finish_non_exhaustive()
    }
}

impl SecretKey {
    /// Generates a new key: Cv25519, RFC 4880 (v4), SEIPDv1 only, with a
    /// signing and an encryption subkey, no expiry.
    pub fn generate(user_id: &str) -> Result<Self, CryptoError> {
        let (cert, _revocation) = CertBuilder::general_purpose(Some(user_id))
            .set_cipher_suite(CipherSuite::Cv25519)
            .set_profile(Profile::RFC4880)
            .and_then(|b| b.set_features(Features::empty().set_seipdv1()))
            .and_then(|b| b.generate())
            .map_err(|e| CryptoError::BadKey(e.to_string()))?;
        Self::from_cert(cert, None)
    }

    /// Reads an armored (or binary) secret key, such as `gpg
    /// --export-secret-keys --armor` writes, unlocking it with the
    /// passphrase if it is protected.
    pub fn parse(bytes: &[u8], passphrase: Option<&str>) -> Result<Self, CryptoError> {
        let cert = Cert::from_bytes(bytes).map_err(|e| CryptoError::BadKey(e.to_string()))?;
        if !cert.is_tsk() {
            return Err(CryptoError::BadKey("it holds no secret key material (export the secret key)".into()));
        }
        Self::from_cert(cert, passphrase)
    }

    fn from_cert(cert: Cert, passphrase: Option<&str>) -> Result<Self, CryptoError> {
        let password = passphrase.map(Password::from);
        let valid = cert.with_policy(&POLICY, None).map_err(|e| CryptoError::BadKey(e.to_string()))?;
        let unlock = |ka: openpgp::packet::Key<openpgp::packet::key::SecretParts, openpgp::packet::key::UnspecifiedRole>| -> Result<KeyPair, CryptoError> {
            let key = if ka.has_unencrypted_secret() {
                ka
            } else {
                let pw = password.as_ref().ok_or(CryptoError::Locked)?;
                ka.decrypt_secret(pw).map_err(|_| CryptoError::Locked)?
            };
            key.into_keypair().map_err(|e| CryptoError::BadKey(e.to_string()))
        };
        let signing = valid
            .keys()
            .secret()
            .supported()
            .alive()
            .revoked(false)
            .for_signing()
            .next()
            .ok_or_else(|| CryptoError::BadKey("it has no usable secret signing key".into()))?;
        let signer = unlock(signing.key().clone().role_into_unspecified())?;
        let decryptors = valid
            .keys()
            .secret()
            .supported()
            .revoked(false)
            .for_transport_encryption()
            .for_storage_encryption()
            .map(|ka| unlock(ka.key().clone().role_into_unspecified()))
            .collect::<Result<Vec<_>, _>>()?;
        if decryptors.is_empty() {
            return Err(CryptoError::BadKey("it has no usable secret encryption key".into()));
        }
        Ok(Self { cert, signer, decryptors })
    }

    /// The public certificate of this key.
    pub fn public(&self) -> PublicKey {
        PublicKey { cert: self.cert.clone().strip_secret_key_material() }
    }

    /// The key's fingerprint (uppercase hex).
    pub fn fingerprint(&self) -> Fingerprint {
        fingerprint_of(&self.cert)
    }

    /// The whole key, secret parts included, ASCII-armored (what `gpg
    /// --import` reads). Protected with `passphrase` when one is given.
    pub fn export(&self, passphrase: Option<&str>) -> Result<String, CryptoError> {
        let cert = match passphrase {
            None => self.cert.clone(),
            Some(p) => {
                let pw = Password::from(p);
                let mut keys = Vec::new();
                for ka in self.cert.keys().secret() {
                    let key = ka.key().clone();
                    let key = if key.has_unencrypted_secret() {
                        key.encrypt_secret(&pw).map_err(|e| CryptoError::BadKey(e.to_string()))?
                    } else {
                        key
                    };
                    keys.push(key);
                }
                let (primary, subkeys) = keys.split_first().ok_or_else(|| CryptoError::BadKey("no secret keys".into()))?;
                let mut packets: Vec<openpgp::Packet> = vec![primary.clone().role_into_primary().into()];
                packets.extend(subkeys.iter().map(|k| openpgp::Packet::from(k.clone().role_into_subordinate())));
                self.cert.clone().insert_packets(packets).map_err(|e| CryptoError::BadKey(e.to_string()))?.0
            }
        };
        let bytes = cert.as_tsk().armored().to_vec().map_err(|e| CryptoError::BadKey(e.to_string()))?;
        String::from_utf8(bytes).map_err(|e| CryptoError::BadKey(e.to_string()))
    }
}
