//! API keys for the organisation's other systems. A key is `dsar_` + 256 random bits in hex,
//! shown once; the store keeps only its SHA-256.

use chrono::NaiveDateTime;

use crate::crypto::{random_token, sha256_hex};
use crate::store::DbConn;
use crate::store::api_keys::{self, ApiKeyRow};

/// How every key begins, so a key pasted in the wrong place is recognised.
pub const PREFIX: &str = "dsar_";

/// What the store keeps of a key, and finds it by.
pub fn key_hash(key: &str) -> String {
    sha256_hex(key)
}

/// Creates a key; returns the plain key, which is never stored, and its row.
pub fn create_key(
    conn: &mut DbConn,
    name: &str,
    now: NaiveDateTime,
) -> diesel::QueryResult<(String, ApiKeyRow)> {
    let key = format!("{PREFIX}{}", random_token());
    let row = api_keys::insert(conn, name, &key[..PREFIX.len() + 8], &key_hash(&key), now)?;
    Ok((key, row))
}
