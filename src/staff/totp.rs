//! Time-based one-time passwords (RFC 6238) as authenticator apps compute them: HMAC-SHA1,
//! 30-second steps, six digits. A code is accepted one step early or late (clock drift) and
//! never twice: the caller keeps the last step used.

use hmac::{Hmac, Mac};
use sha1::Sha1;

pub const STEP_SECONDS: i64 = 30;
const DIGITS: u32 = 6;
const BASE32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// A new 160-bit secret, base32 as apps want it typed or scanned.
pub fn new_secret() -> String {
    let mut bytes = [0u8; 20];
    rand::fill(&mut bytes);
    base32_encode(&bytes)
}

/// The code for the step that holds unix time `at`.
pub fn code_at(secret: &str, at: i64) -> Option<String> {
    code_for_step(secret, at.div_euclid(STEP_SECONDS))
}

fn code_for_step(secret: &str, step: i64) -> Option<String> {
    let key = base32_decode(secret)?;
    let mut mac = Hmac::<Sha1>::new_from_slice(&key).ok()?;
    mac.update(&step.to_be_bytes());
    let digest = mac.finalize().into_bytes();
    let offset = usize::from(digest[digest.len() - 1] & 0x0f);
    let word = u32::from_be_bytes([
        digest[offset] & 0x7f,
        digest[offset + 1],
        digest[offset + 2],
        digest[offset + 3],
    ]);
    Some(format!(
        "{:0width$}",
        word % 10u32.pow(DIGITS),
        width = DIGITS as usize
    ))
}

/// The step `code` belongs to, if it is right for `at` give or take one step and later than
/// `after` (the last step this account used, so a code seen over a shoulder is spent).
pub fn verify(secret: &str, code: &str, at: i64, after: Option<i64>) -> Option<i64> {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if code.len() != DIGITS as usize || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let now = at.div_euclid(STEP_SECONDS);
    let mut found = None;
    // Every candidate is computed and compared, so the time taken says nothing.
    for step in [now - 1, now, now + 1] {
        let expected = code_for_step(secret, step)?;
        if crate::crypto::eq_secret(expected.as_bytes(), code.as_bytes())
            && after.is_none_or(|last| step > last)
        {
            found = Some(step);
        }
    }
    found
}

/// What an authenticator app scans or is given: `otpauth://totp/…`.
pub fn provisioning_uri(issuer: &str, account: &str, secret: &str) -> String {
    let issuer = escape(issuer);
    format!(
        "otpauth://totp/{issuer}:{}?secret={secret}&issuer={issuer}&algorithm=SHA1&digits={DIGITS}&period={STEP_SECONDS}",
        escape(account)
    )
}

/// A label part as authenticator apps read it: an address keeps its `@`.
const LABEL: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'@');

fn escape(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, LABEL).to_string()
}

fn base32_encode(bytes: &[u8]) -> String {
    let mut out = String::new();
    let (mut buffer, mut bits) = (0u32, 0u32);
    for &b in bytes {
        buffer = (buffer << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(char::from(BASE32[((buffer >> bits) & 31) as usize]));
        }
    }
    if bits > 0 {
        out.push(char::from(BASE32[((buffer << (5 - bits)) & 31) as usize]));
    }
    out
}

fn base32_decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let (mut buffer, mut bits) = (0u32, 0u32);
    for c in text.bytes().filter(|c| *c != b'=' && *c != b' ') {
        let value = BASE32.iter().position(|&x| x == c.to_ascii_uppercase())?;
        buffer = (buffer << 5) | value as u32;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
            buffer &= (1 << bits) - 1;
        }
    }
    (!out.is_empty()).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238, appendix B: the SHA-1 secret "12345678901234567890", last six digits.
    const RFC_SECRET: &str = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";

    #[test]
    fn codes_match_the_rfc_test_vectors() {
        assert_eq!(base32_encode(b"12345678901234567890"), RFC_SECRET);
        for (time, code) in [
            (59, "287082"),
            (1_111_111_109, "081804"),
            (1_111_111_111, "050471"),
            (1_234_567_890, "005924"),
            (2_000_000_000, "279037"),
        ] {
            assert_eq!(code_at(RFC_SECRET, time).as_deref(), Some(code), "{time}");
        }
    }

    #[test]
    fn a_code_works_one_step_either_side_and_only_once() {
        let at = 1_234_567_890;
        let step = at / STEP_SECONDS;
        assert_eq!(verify(RFC_SECRET, "005924", at, None), Some(step));
        assert_eq!(verify(RFC_SECRET, "005 924", at + 30, None), Some(step));
        assert_eq!(verify(RFC_SECRET, "005924", at - 30, None), Some(step));
        assert_eq!(verify(RFC_SECRET, "005924", at + 60, None), None);
        assert_eq!(verify(RFC_SECRET, "005924", at, Some(step)), None);
        assert_eq!(verify(RFC_SECRET, "005925", at, None), None);
        assert_eq!(verify(RFC_SECRET, "abcdef", at, None), None);
    }

    #[test]
    fn secrets_are_160_bits_of_base32() {
        let secret = new_secret();
        assert_eq!(secret.len(), 32);
        assert_eq!(base32_decode(&secret).map(|k| k.len()), Some(20));
        assert_ne!(secret, new_secret());
        assert!(
            provisioning_uri("Exemple SAS", "dana@example.org", &secret)
                .starts_with("otpauth://totp/Exemple%20SAS:dana@example.org?secret=")
        );
    }
}
