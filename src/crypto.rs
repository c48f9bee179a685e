//! Random secrets, their hashes, and comparison that takes the same time whatever matches.

use actix_web::cookie::{Cookie, CookieJar, Key};
use sha2::{Digest, Sha256};

/// 256 random bits, hex-encoded.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::fill(&mut bytes);
    crate::store::audit::hex(&bytes)
}

pub fn sha256_hex(input: &str) -> String {
    crate::store::audit::hex(&Sha256::digest(input.as_bytes()))
}

/// Encrypts `plain` for storage (AES-256-GCM with a random nonce, by the cookie crate's
/// private jar, keyed by the session key); `purpose` is bound to the result, so a value
/// sealed for one use never opens as another.
pub fn seal(key: &Key, purpose: &str, plain: &str) -> String {
    let mut jar = CookieJar::new();
    jar.private_mut(key)
        .add(Cookie::new(purpose.to_string(), plain.to_string()));
    jar.get(purpose)
        .map(|c| c.value().to_string())
        .unwrap_or_default()
}

/// The plain text of a [`seal`]ed value; `None` when it was sealed under another key or
/// purpose, or changed.
pub fn open(key: &Key, purpose: &str, sealed: &str) -> Option<String> {
    let mut jar = CookieJar::new();
    jar.add_original(Cookie::new(purpose.to_string(), sealed.to_string()));
    jar.private(key).get(purpose).map(|c| c.value().to_string())
}

pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_256_bits_and_differ() {
        let a = random_token();
        let b = random_token();
        assert_eq!(a.len(), 64);
        assert_ne!(a, b);
    }

    #[test]
    fn sealed_values_open_only_with_their_key_and_purpose() {
        let key = Key::generate();
        let sealed = seal(&key, "totp", "GEZDGNBV");
        assert!(!sealed.contains("GEZDGNBV"));
        assert_eq!(open(&key, "totp", &sealed).as_deref(), Some("GEZDGNBV"));
        assert_eq!(open(&key, "other", &sealed), None);
        assert_eq!(open(&Key::generate(), "totp", &sealed), None);
        assert_eq!(open(&key, "totp", "garbage"), None);
    }

    #[test]
    fn comparison_is_exact() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"abcd"));
    }
}
