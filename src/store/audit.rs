//! The audit trail: append-only, each entry chained to the one before by SHA-256, so a
//! changed or removed row breaks the chain at a place `verify` can name.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use sha2::{Digest, Sha256};

use super::DbConn;
use super::schema::audit_log;

/// The `prev_hash` of the first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = audit_log)]
pub struct AuditRow {
    pub id: i64,
    pub at: NaiveDateTime,
    pub actor: String,
    pub action: String,
    pub target_type: String,
    pub target_id: Option<String>,
    pub details: String,
    pub prev_hash: String,
    pub hash: String,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = audit_log)]
struct NewAuditRow<'a> {
    at: NaiveDateTime,
    actor: &'a str,
    action: &'a str,
    target_type: &'a str,
    target_id: Option<&'a str>,
    details: &'a str,
    prev_hash: &'a str,
    hash: &'a str,
}

/// What happened, by whom, on what. `details` is JSON and never holds personal data
/// beyond identifiers: the trail outlives the requests it describes.
#[derive(Debug, Clone)]
pub struct Entry<'a> {
    pub at: NaiveDateTime,
    pub actor: &'a str,
    pub action: &'a str,
    pub target_type: &'a str,
    pub target_id: Option<&'a str>,
    pub details: &'a str,
}

pub fn entry_hash(prev_hash: &str, e: &Entry<'_>) -> String {
    let mut h = Sha256::new();
    for part in [
        prev_hash,
        &e.at.format("%Y-%m-%dT%H:%M:%S%.6f").to_string(),
        e.actor,
        e.action,
        e.target_type,
        e.target_id.unwrap_or(""),
        e.details,
    ] {
        // Length-prefixed so that moving text from one field to the next changes the hash.
        h.update((part.len() as u64).to_be_bytes());
        h.update(part.as_bytes());
    }
    hex(&h.finalize())
}

pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

/// Appends within the caller's transaction. On PostgreSQL a transaction-scoped advisory lock
/// orders concurrent appenders so that each sees the previous hash; SQLite's write lock
/// (taken by `write_tx`) already does.
pub fn append(conn: &mut DbConn, entry: &Entry<'_>) -> QueryResult<()> {
    if let DbConn::Postgres(pg) = conn {
        diesel::sql_query("SELECT pg_advisory_xact_lock(7306285411)").execute(pg)?;
    }
    let prev: Option<String> = audit_log::table
        .order(audit_log::id.desc())
        .select(audit_log::hash)
        .first(conn)
        .optional()?;
    let prev = prev.as_deref().unwrap_or(GENESIS);
    let hash = entry_hash(prev, entry);
    diesel::insert_into(audit_log::table)
        .values(NewAuditRow {
            at: entry.at,
            actor: entry.actor,
            action: entry.action,
            target_type: entry.target_type,
            target_id: entry.target_id,
            details: entry.details,
            prev_hash: prev,
            hash: &hash,
        })
        .execute(conn)
        .map(drop)
}

pub fn for_target(
    conn: &mut DbConn,
    target_type: &str,
    target_id: &str,
) -> QueryResult<Vec<AuditRow>> {
    audit_log::table
        .filter(audit_log::target_type.eq(target_type))
        .filter(audit_log::target_id.eq(target_id))
        .order(audit_log::id.asc())
        .select(AuditRow::as_select())
        .load(conn)
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChainStatus {
    Intact {
        entries: u64,
    },
    Broken {
        id: i64,
        reason: String,
        checked: u64,
    },
}

/// Walks the whole chain in pages, so memory stays flat however long the trail.
pub fn verify(conn: &mut DbConn) -> QueryResult<ChainStatus> {
    const PAGE: i64 = 5_000;
    let mut prev = GENESIS.to_string();
    let mut after = 0i64;
    let mut checked = 0u64;
    loop {
        let rows: Vec<AuditRow> = audit_log::table
            .filter(audit_log::id.gt(after))
            .order(audit_log::id.asc())
            .limit(PAGE)
            .select(AuditRow::as_select())
            .load(conn)?;
        let Some(last) = rows.last() else {
            return Ok(ChainStatus::Intact { entries: checked });
        };
        after = last.id;
        for row in &rows {
            if row.prev_hash != prev {
                return Ok(ChainStatus::Broken {
                    id: row.id,
                    reason: "its link to the previous entry does not match (an entry before it was removed or changed)".into(),
                    checked,
                });
            }
            let expected = entry_hash(
                &prev,
                &Entry {
                    at: row.at,
                    actor: &row.actor,
                    action: &row.action,
                    target_type: &row.target_type,
                    target_id: row.target_id.as_deref(),
                    details: &row.details,
                },
            );
            if expected != row.hash {
                return Ok(ChainStatus::Broken {
                    id: row.id,
                    reason: "its content does not match its hash (the entry was changed)".into(),
                    checked,
                });
            }
            prev = row.hash.clone();
            checked += 1;
        }
    }
}
