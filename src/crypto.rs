//! Random secrets, their hashes, and comparison that takes the same time whatever matches.

use actix_web::cookie::{Cookie, CookieJar, Key};
use hmac::digest::KeyInit;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// 256 random bits, hex-encoded.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::fill(&mut bytes);
    hex(&bytes)
}

pub fn sha256_hex(input: &str) -> String {
    hex(&Sha256::digest(input.as_bytes()))
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

/// HMAC-SHA-256 (RFC 2104), by the `hmac` crate actix's cookie crate already brings.
pub fn hmac(key: &[u8], message: &[u8]) -> [u8; 32] {
    // A key of any length is valid for HMAC: this cannot fail.
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(key)
        .unwrap_or_else(|_| unreachable!("HMAC takes a key of any length"));
    mac.update(message);
    mac.finalize().into_bytes().into()
}

/// A key for one use, derived from a master key, so that no two uses share a key. (HMAC with
/// the purpose as message: HKDF would give other keys and orphan every package and
/// suppression entry already written.)
pub fn subkey(master: &[u8; 32], purpose: &str) -> [u8; 32] {
    hmac(master, purpose.as_bytes())
}

/// Whether two secrets are equal, in a time that does not depend on where they differ.
pub fn eq_secret(a: &[u8], b: &[u8]) -> bool {
    a.ct_eq(b).into()
}

/// Lowercase hex, as hashes and keys are written.
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

/// A key of `len` bytes given in hex inline (`setting`), or read from `file`, which is
/// created with a random key (mode 0600) on first start so the key survives restarts.
pub fn load_key_bytes(
    inline: &str,
    file: &str,
    len: usize,
    setting: &str,
) -> anyhow::Result<Vec<u8>> {
    let hex = if inline.trim().is_empty() {
        let path = std::path::Path::new(file);
        match std::fs::read_to_string(path) {
            Ok(text) => text.trim().to_string(),
            Err(_) => {
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    std::fs::create_dir_all(dir)?;
                }
                let mut bytes = vec![0u8; len];
                rand::fill(&mut bytes[..]);
                let hex = hex(&bytes);
                write_private(path, &hex)?;
                hex
            }
        }
    } else {
        inline.trim().to_string()
    };
    let bytes: Vec<u8> = (0..hex.len())
        .step_by(2)
        .filter_map(|i| {
            hex.get(i..i + 2)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        })
        .collect();
    anyhow::ensure!(
        bytes.len() == len && hex.len() == 2 * len,
        "{setting} must be {len} bytes in hex ({} characters)",
        2 * len
    );
    Ok(bytes)
}

fn write_private(path: &std::path::Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)?.write_all(text.as_bytes())
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

    // RFC 4231, test cases 1, 2 and 6 (a key longer than the block, hashed first).
    #[test]
    fn hmac_matches_rfc_4231() {
        let hex = hex;
        assert_eq!(
            hex(&hmac(&[0x0b; 20], b"Hi There")),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"
        );
        assert_eq!(
            hex(&hmac(b"Jefe", b"what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert_eq!(
            hex(&hmac(
                &[0xaa; 131],
                b"Test Using Larger Than Block-Size Key - Hash Key First"
            )),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        );
    }

    #[test]
    fn comparison_is_exact() {
        assert!(eq_secret(b"abc", b"abc"));
        assert!(!eq_secret(b"abc", b"abd"));
        assert!(!eq_secret(b"abc", b"abcd"));
    }
}
