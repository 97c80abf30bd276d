//! Secrets at rest: datasource passwords and tokens (`secureJsonData`) are encrypted with
//! AES-256-GCM under a key derived from `[security] secret_key` with HKDF-SHA256.
//!
//! * Each value gets a fresh random 96-bit nonce and is stored as text:
//!   `v1:` + base64(nonce ‖ ciphertext ‖ tag). The field name is the associated data, so a value
//!   moved to another field does not decrypt.
//! * A tampered or foreign value fails to decrypt with an error; nothing here panics.
//! * A *check value*, derived from the same secret with another HKDF info string (so it says
//!   nothing about the encryption key), is stored once per database. Every start compares it: a
//!   replica configured with another key refuses to start instead of writing secrets the others
//!   cannot read.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine as _;
use hkdf::Hkdf;
use pharos_store::Store;
use rand::RngCore;
use sha2::Sha256;

use crate::config::Config;

/// HKDF salt: fixed, so every replica derives the same keys from the same secret.
const SALT: &[u8] = b"pharos secrets v1";
/// HKDF info of the AES-256-GCM key.
const ENCRYPTION_INFO: &[u8] = b"pharos datasource secrets aes-256-gcm";
/// HKDF info of the key-check value.
const CHECK_INFO: &[u8] = b"pharos secret key check";
/// The prefix of every encrypted value (the format's version).
const PREFIX: &str = "v1:";
const NONCE_LEN: usize = 12;

/// The one-line reason a replica with another key refuses to start.
pub const KEY_MISMATCH: &str = "security.secret_key differs from the key this database's secrets \
     were encrypted with; every replica must use the same key";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    #[error("the value is not an encrypted secret of this format")]
    Malformed,
    #[error("the value does not decrypt with this key (changed security.secret_key, or tampered)")]
    Undecryptable,
    #[error("encryption failed")]
    Encrypt,
}

/// Encrypts and decrypts secrets under one configured key. Cheap to build.
pub struct Secrets {
    cipher: Aes256Gcm,
}

fn derive(secret_key: &str, info: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    // 32 bytes is far below HKDF-SHA256's limit of 255 × 32, so expanding cannot fail.
    let _ = Hkdf::<Sha256>::new(Some(SALT), secret_key.as_bytes()).expand(info, &mut out);
    out
}

/// The value stored in `secret_key_check` for this key: hex of 32 derived bytes.
pub fn check_value(secret_key: &str) -> String {
    hex::encode(derive(secret_key, CHECK_INFO))
}

impl Secrets {
    pub fn new(secret_key: &str) -> Secrets {
        let key = derive(secret_key, ENCRYPTION_INFO);
        Secrets {
            cipher: Aes256Gcm::new(&key.into()),
        }
    }

    pub fn from_config(config: &Config) -> Secrets {
        Secrets::new(&config.raw.security.secret_key)
    }

    /// Encrypts the value of the secure field `field`.
    pub fn encrypt(&self, field: &str, plaintext: &str) -> Result<String, SecretError> {
        let mut nonce = [0u8; NONCE_LEN];
        rand::thread_rng().fill_bytes(&mut nonce);
        let sealed = self
            .cipher
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: plaintext.as_bytes(),
                    aad: field.as_bytes(),
                },
            )
            .map_err(|_| SecretError::Encrypt)?;
        let mut blob = Vec::with_capacity(NONCE_LEN + sealed.len());
        blob.extend_from_slice(&nonce);
        blob.extend_from_slice(&sealed);
        Ok(format!(
            "{PREFIX}{}",
            base64::engine::general_purpose::STANDARD.encode(blob)
        ))
    }

    /// Decrypts what [`Secrets::encrypt`] produced for the same field.
    pub fn decrypt(&self, field: &str, stored: &str) -> Result<String, SecretError> {
        let encoded = stored.strip_prefix(PREFIX).ok_or(SecretError::Malformed)?;
        let blob = base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .map_err(|_| SecretError::Malformed)?;
        if blob.len() < NONCE_LEN + 16 {
            return Err(SecretError::Malformed);
        }
        let (nonce, sealed) = blob.split_at(NONCE_LEN);
        let plain = self
            .cipher
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: sealed,
                    aad: field.as_bytes(),
                },
            )
            .map_err(|_| SecretError::Undecryptable)?;
        String::from_utf8(plain).map_err(|_| SecretError::Undecryptable)
    }
}

/// The configured `secret_key` is not the one this database's secrets were encrypted with. `main`
/// exits with status 2 for it, as for an invalid setting.
#[derive(Debug)]
pub struct KeyMismatch;

impl std::fmt::Display for KeyMismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(KEY_MISMATCH)
    }
}

impl std::error::Error for KeyMismatch {}

/// Compares the configured key with the database's key-check record (writing it on first
/// start). A mismatch is [`KeyMismatch`]: serving on would write secrets other replicas cannot
/// read and fail to read theirs.
pub async fn verify_key(store: &Store, config: &Config) -> anyhow::Result<()> {
    let ours = check_value(&config.raw.security.secret_key);
    let stored = store
        .secret_key_check(&ours)
        .await
        .map_err(|e| anyhow::anyhow!("reading the secret key check: {e}"))?;
    if stored != ours {
        return Err(KeyMismatch.into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_with_fresh_nonces() {
        let s = Secrets::new("a key of sixteen+ chars");
        let a = s.encrypt("password", "hunter2").unwrap();
        let b = s.encrypt("password", "hunter2").unwrap();
        assert!(a.starts_with("v1:"));
        assert_ne!(a, b, "each value has its own nonce");
        assert!(!a.contains("hunter2"));
        assert_eq!(s.decrypt("password", &a).unwrap(), "hunter2");
        assert_eq!(s.decrypt("password", &b).unwrap(), "hunter2");
        let empty = s.encrypt("x", "").unwrap();
        assert_eq!(s.decrypt("x", &empty).unwrap(), "");
    }

    #[test]
    fn tampered_foreign_or_moved_values_fail_cleanly() {
        let s = Secrets::new("a key of sixteen+ chars");
        let v = s.encrypt("password", "hunter2").unwrap();
        // Another key.
        assert_eq!(
            Secrets::new("another key entirely").decrypt("password", &v),
            Err(SecretError::Undecryptable)
        );
        // Another field.
        assert_eq!(
            s.decrypt("basicAuthPassword", &v),
            Err(SecretError::Undecryptable)
        );
        // A flipped bit in every position of the blob.
        let blob = base64::engine::general_purpose::STANDARD
            .decode(&v[3..])
            .unwrap();
        for i in 0..blob.len() {
            let mut bad = blob.clone();
            bad[i] ^= 0x01;
            let text = format!(
                "v1:{}",
                base64::engine::general_purpose::STANDARD.encode(&bad)
            );
            assert_eq!(
                s.decrypt("password", &text),
                Err(SecretError::Undecryptable)
            );
        }
        for junk in ["", "v1:", "v1:!!!", "v2:AAAA", "hunter2", "v1:AAAA"] {
            assert_eq!(s.decrypt("password", junk), Err(SecretError::Malformed));
        }
    }

    #[test]
    fn check_values_tell_keys_apart_and_reveal_nothing() {
        let a = check_value("key one is long enough");
        assert_eq!(a, check_value("key one is long enough"));
        assert_ne!(a, check_value("key two is long enough"));
        assert_eq!(a.len(), 64);
        assert_ne!(
            hex::decode(&a).unwrap(),
            derive("key one is long enough", ENCRYPTION_INFO).to_vec()
        );
    }
}
