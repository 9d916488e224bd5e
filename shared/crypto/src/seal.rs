//! Sealing (sign, then encrypt to every recipient) and opening (decrypt,
//! then require a good signature by a trusted certificate).

use std::io::{Read, Write};

use sequoia_openpgp as openpgp;

use cloudim_protocol::Fingerprint;
use openpgp::crypto::SessionKey;
use openpgp::packet::{PKESK, SKESK};
use openpgp::parse::Parse;
use openpgp::parse::stream::{
    DecryptionHelper, DecryptorBuilder, MessageLayer, MessageStructure, VerificationHelper,
};
use openpgp::serialize::stream::{Armorer, Encryptor, LiteralWriter, Message, Signer};
use openpgp::types::SymmetricAlgorithm;
use openpgp::{Cert, KeyHandle};

use crate::keys::POLICY;
use crate::{CryptoError, PublicKey, SecretKey};

/// Signs `plaintext` with `signer` and encrypts it to every recipient (add
/// the signer's own public key to read it back later). Returns an
/// ASCII-armored OpenPGP message.
pub fn seal(plaintext: &[u8], signer: &SecretKey, recipients: &[&PublicKey]) -> Result<String, CryptoError> {
    let err = |e: openpgp::anyhow::Error| CryptoError::Seal(e.to_string());
    let mut keys = Vec::new();
    for r in recipients {
        let valid = r.cert.with_policy(&POLICY, None).map_err(err)?;
        let before = keys.len();
        keys.extend(valid.keys().supported().alive().revoked(false).for_transport_encryption());
        if keys.len() == before {
            return Err(CryptoError::Seal(format!("{} has no valid encryption key", r.fingerprint())));
        }
    }
    let mut out = Vec::with_capacity(plaintext.len() * 4 / 3 + 1024);
    {
        let message = Message::new(&mut out);
        let message = Armorer::new(message).kind(openpgp::armor::Kind::Message).build().map_err(err)?;
        let message = Encryptor::for_recipients(message, keys).build().map_err(err)?;
        let message = Signer::new(message, signer.signer.clone()).map_err(err)?.build().map_err(err)?;
        let mut literal = LiteralWriter::new(message).build().map_err(err)?;
        literal.write_all(plaintext).map_err(|e| CryptoError::Seal(e.to_string()))?;
        literal.finalize().map_err(err)?;
    }
    String::from_utf8(out).map_err(|e| CryptoError::Seal(e.to_string()))
}

/// An opened message: its plaintext and who signed it.
#[derive(Debug)]
pub struct Opened {
    /// The signed plaintext.
    pub plaintext: Vec<u8>,
    /// The fingerprint of the trusted certificate whose signature verified.
    pub signer: Fingerprint,
}

/// Decrypts `message` with `me` and verifies that one of `trusted` signed
/// it. Anything else (no signature, a bad one, an unknown signer, a broken
/// integrity check) is an error, never plaintext.
pub fn open(message: &[u8], me: &SecretKey, trusted: &[&PublicKey]) -> Result<Opened, CryptoError> {
    let helper = Helper { me, trusted: trusted.iter().map(|k| k.cert.clone()).collect(), signer: None };
    let mut decryptor = match DecryptorBuilder::from_bytes(message).and_then(|b| b.with_policy(&POLICY, None, helper)) {
        Ok(d) => d,
        Err(e) => return Err(classify(e)),
    };
    let mut plaintext = Vec::new();
    decryptor.read_to_end(&mut plaintext).map_err(|e| CryptoError::Malformed(e.to_string()))?;
    let helper = decryptor.into_helper();
    let signer = helper.signer.ok_or_else(|| CryptoError::BadSignature(String::new()))?;
    Ok(Opened { plaintext, signer })
}

fn classify(e: openpgp::anyhow::Error) -> CryptoError {
    match e.downcast::<CryptoError>() {
        Ok(c) => c,
        Err(e) => CryptoError::Malformed(e.to_string()),
    }
}

struct Helper<'a> {
    me: &'a SecretKey,
    trusted: Vec<Cert>,
    signer: Option<Fingerprint>,
}

impl VerificationHelper for Helper<'_> {
    fn get_certs(&mut self, _ids: &[KeyHandle]) -> openpgp::Result<Vec<Cert>> {
        Ok(self.trusted.clone())
    }

    fn check(&mut self, structure: MessageStructure) -> openpgp::Result<()> {
        let mut encrypted = false;
        for layer in structure {
            match layer {
                MessageLayer::Encryption { .. } => encrypted = true,
                MessageLayer::Compression { .. } => {}
                MessageLayer::SignatureGroup { results } => {
                    let mut why = String::new();
                    for r in results {
                        match r {
                            Ok(good) => {
                                let hex = good.ka.cert().fingerprint().to_hex();
                                self.signer = Fingerprint::parse(&hex).ok();
                            }
                            Err(e) => why = format!(" ({e})"),
                        }
                    }
                    if self.signer.is_none() {
                        return Err(CryptoError::BadSignature(why).into());
                    }
                }
            }
        }
        if !encrypted {
            return Err(CryptoError::Malformed("it is not encrypted".into()).into());
        }
        if self.signer.is_none() {
            return Err(CryptoError::BadSignature(" (it is not signed)".into()).into());
        }
        Ok(())
    }
}

impl DecryptionHelper for Helper<'_> {
    fn decrypt(
        &mut self,
        pkesks: &[PKESK],
        _skesks: &[SKESK],
        sym_algo: Option<SymmetricAlgorithm>,
        decrypt: &mut dyn FnMut(Option<SymmetricAlgorithm>, &SessionKey) -> bool,
    ) -> openpgp::Result<Option<Cert>> {
        for pkesk in pkesks {
            for pair in &self.me.decryptors {
                let mut pair = pair.clone();
                let matches = pkesk.recipient().is_none_or(|r| r.aliases(KeyHandle::from(pair.public().fingerprint())));
                if !matches {
                    continue;
                }
                if let Some((algo, sk)) = pkesk.decrypt(&mut pair, sym_algo)
                    && decrypt(algo, &sk)
                {
                    return Ok(None);
                }
            }
        }
        Err(CryptoError::NotForUs.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(name: &str) -> SecretKey {
        SecretKey::generate(&format!("{name} <{name}@example.org>")).unwrap()
    }

    #[test]
    fn seal_then_open_round_trips_and_names_the_signer() {
        let (alice, bob) = (key("alice"), key("bob"));
        let msg = "héllo 👋\n".repeat(1000);
        let sealed = seal(msg.as_bytes(), &alice, &[&bob.public(), &alice.public()]).unwrap();
        assert!(sealed.starts_with("-----BEGIN PGP MESSAGE-----"));
        for reader in [&bob, &alice] {
            let opened = open(sealed.as_bytes(), reader, &[&alice.public()]).unwrap();
            assert_eq!(opened.plaintext, msg.as_bytes());
            assert_eq!(opened.signer, alice.fingerprint());
        }
    }

    #[test]
    fn a_signature_by_an_untrusted_key_is_refused() {
        let (alice, bob, mallory) = (key("alice"), key("bob"), key("mallory"));
        let sealed = seal(b"hi", &mallory, &[&bob.public()]).unwrap();
        let err = open(sealed.as_bytes(), &bob, &[&alice.public()]).unwrap_err();
        assert!(matches!(err, CryptoError::BadSignature(_)), "{err}");
    }

    #[test]
    fn a_message_for_someone_else_is_not_opened() {
        let (alice, bob, carol) = (key("alice"), key("bob"), key("carol"));
        let sealed = seal(b"hi", &alice, &[&bob.public()]).unwrap();
        assert!(matches!(open(sealed.as_bytes(), &carol, &[&alice.public()]).unwrap_err(), CryptoError::NotForUs));
    }

    #[test]
    fn a_tampered_message_is_refused() {
        let (alice, bob) = (key("alice"), key("bob"));
        let sealed = seal(&[7u8; 3000], &alice, &[&bob.public()]).unwrap();
        let mut lines: Vec<String> = sealed.lines().map(str::to_owned).collect();
        let mid = lines.len() / 2;
        let flipped: String = lines[mid].chars().rev().collect();
        lines[mid] = flipped;
        assert!(open(lines.join("\n").as_bytes(), &bob, &[&alice.public()]).is_err());
    }

    #[test]
    fn export_and_parse_keep_the_key_with_and_without_passphrase() {
        let alice = key("alice");
        let plain = SecretKey::parse(alice.export(None).unwrap().as_bytes(), None).unwrap();
        assert_eq!(plain.fingerprint(), alice.fingerprint());
        let locked = alice.export(Some("correct horse")).unwrap();
        assert!(matches!(SecretKey::parse(locked.as_bytes(), None).unwrap_err(), CryptoError::Locked));
        assert!(matches!(SecretKey::parse(locked.as_bytes(), Some("wrong")).unwrap_err(), CryptoError::Locked));
        let unlocked = SecretKey::parse(locked.as_bytes(), Some("correct horse")).unwrap();
        let sealed = seal(b"x", &unlocked, &[&alice.public()]).unwrap();
        assert_eq!(open(sealed.as_bytes(), &plain, &[&unlocked.public()]).unwrap().plaintext, b"x");
        assert!(PublicKey::parse(alice.public().armored().as_bytes()).is_ok());
        assert!(SecretKey::parse(alice.public().armored().as_bytes(), None).is_err());
    }
}
