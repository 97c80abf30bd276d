//! Secrets handed to clients: session cookies and service-account tokens. Both are random and
//! stored only as SHA-256 hashes.

use base64::Engine;
use rand::distributions::Alphanumeric;
use rand::{Rng, RngCore};
use sha2::{Digest, Sha256};

/// A session cookie value: 32 random bytes, URL-safe base64.
pub fn new_session_token() -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

pub const SERVICE_ACCOUNT_PREFIX: &str = "glsa_";

/// A service-account token in Grafana's shape: `glsa_`, 32 random letters and digits, `_`, and an
/// 8-hex-digit checksum of what precedes it (lets secret scanners recognise a real token).
pub fn new_service_account_token() -> String {
    let random: String = rand::thread_rng()
        .sample_iter(&Alphanumeric)
        .take(32)
        .map(char::from)
        .collect();
    let body = format!("{SERVICE_ACCOUNT_PREFIX}{random}");
    let checksum = &hex::encode(Sha256::digest(body.as_bytes()))[..8];
    format!("{body}_{checksum}")
}

/// True when the token has the shape and a correct checksum.
pub fn is_well_formed_service_account_token(token: &str) -> bool {
    let Some((body, checksum)) = token.rsplit_once('_') else {
        return false;
    };
    body.starts_with(SERVICE_ACCOUNT_PREFIX)
        && body.len() == SERVICE_ACCOUNT_PREFIX.len() + 32
        && checksum.len() == 8
        && hex::encode(Sha256::digest(body.as_bytes()))[..8] == *checksum
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_well_formed() {
        let a = new_service_account_token();
        let b = new_service_account_token();
        assert_ne!(a, b);
        assert!(a.starts_with("glsa_") && a.len() == 5 + 32 + 1 + 8, "{a}");
        assert!(is_well_formed_service_account_token(&a));
        let mut broken = a.clone();
        broken.replace_range(6..7, if &a[6..7] == "x" { "y" } else { "x" });
        assert!(!is_well_formed_service_account_token(&broken));
        assert_ne!(new_session_token(), new_session_token());
        assert_eq!(new_session_token().len(), 43);
    }
}
