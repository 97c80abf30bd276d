//! Password hashing (argon2id, off the async runtime) and a verification cache.
//!
//! Basic auth sends the password with every request, and argon2 is deliberately slow. The cache maps
//! a keyed digest of (login, password) to the stored hash it verified against; a request hits the
//! cache only while the user's stored hash is unchanged, so a password change anywhere invalidates
//! it on every replica at once with no coordination.

use std::time::Duration;

use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier as _, SaltString,
};
use argon2::Argon2;
use rand::RngCore;
use sha2::{Digest, Sha256};

pub const MIN_PASSWORD_LEN: usize = 4;

pub struct PasswordVerifier {
    cache: moka::sync::Cache<[u8; 32], String>,
    key: [u8; 32],
}

impl Default for PasswordVerifier {
    fn default() -> Self {
        Self::new()
    }
}

impl PasswordVerifier {
    pub fn new() -> Self {
        let mut key = [0u8; 32];
        rand::thread_rng().fill_bytes(&mut key);
        PasswordVerifier {
            cache: moka::sync::Cache::builder()
                .max_capacity(10_000)
                .time_to_live(Duration::from_secs(600))
                .build(),
            key,
        }
    }

    /// A digest of (login, password) under this process' random key: fit to key in-memory caches
    /// by, revealing nothing useful about the password if memory is read.
    pub fn cache_key(&self, login: &str, password: &str) -> [u8; 32] {
        let mut h = Sha256::new();
        h.update(self.key);
        h.update((login.len() as u64).to_le_bytes());
        h.update(login.as_bytes());
        h.update(password.as_bytes());
        h.finalize().into()
    }

    /// True when `password` matches `stored_hash` (an argon2 PHC string).
    pub async fn verify(&self, login: &str, password: &str, stored_hash: &str) -> bool {
        let key = self.cache_key(login, password);
        if self.cache.get(&key).as_deref() == Some(stored_hash) {
            return true;
        }
        let (pw, hash) = (password.to_string(), stored_hash.to_string());
        let ok = tokio::task::spawn_blocking(move || verify_blocking(&pw, &hash))
            .await
            .unwrap_or(false);
        if ok {
            self.cache.insert(key, stored_hash.to_string());
        }
        ok
    }
}

fn verify_blocking(password: &str, stored_hash: &str) -> bool {
    match PasswordHash::new(stored_hash) {
        Ok(parsed) => Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

/// Hashes with argon2id and a random salt, on a blocking thread.
pub async fn hash_password(password: &str) -> anyhow::Result<String> {
    let pw = password.to_string();
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(pw.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| anyhow::anyhow!("hashing password: {e}"))
    })
    .await?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_verify_and_cache_follows_the_stored_hash() {
        let hash = hash_password("s3cret").await.unwrap();
        assert!(hash.starts_with("$argon2id$"));
        let v = PasswordVerifier::new();
        assert!(v.verify("bob", "s3cret", &hash).await);
        assert!(!v.verify("bob", "wrong", &hash).await);
        // A changed stored hash (password changed elsewhere) is not satisfied by the cached entry.
        let other = hash_password("new-one").await.unwrap();
        assert!(!v.verify("bob", "s3cret", &other).await);
        assert!(!v.verify("bob", "s3cret", "not-a-hash").await);
    }
}
