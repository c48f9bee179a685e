//! The audit trail: append-only, each entry chained to the one before by SHA-256, so a
//! changed or removed row breaks the chain at a place `verify` can name.
//!
//! Appending is a plain INSERT inside the caller's transaction; `seal` then chains the new
//! entries in order (`seq`), one sealer at a time. Writers never wait for each other on the
//! chain, and an entry is protected from the moment it is sealed (the worker seals every
//! poll interval; `dsar audit verify` seals before it walks).

use chrono::NaiveDateTime;
use diesel::prelude::*;
use sha2::{Digest, Sha256};

use super::schema::audit_log;
use super::{DbConn, write_tx};

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
    pub seq: Option<i64>,
    pub prev_hash: Option<String>,
    pub hash: Option<String>,
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

impl<'a> Entry<'a> {
    fn of(row: &'a AuditRow) -> Self {
        Entry {
            at: row.at,
            actor: &row.actor,
            action: &row.action,
            target_type: &row.target_type,
            target_id: row.target_id.as_deref(),
            details: &row.details,
        }
    }
}

/// SHA-256 over the previous hash, the entry's place in the chain and its content.
pub fn entry_hash(prev_hash: &str, seq: i64, e: &Entry<'_>) -> String {
    let mut h = Sha256::new();
    for part in [
        prev_hash,
        &seq.to_string(),
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

pub use crate::crypto::hex;

/// Appends within the caller's transaction; `seal` chains it later.
pub fn append(conn: &mut DbConn, entry: &Entry<'_>) -> QueryResult<()> {
    diesel::insert_into(audit_log::table)
        .values((
            audit_log::at.eq(entry.at),
            audit_log::actor.eq(entry.actor),
            audit_log::action.eq(entry.action),
            audit_log::target_type.eq(entry.target_type),
            audit_log::target_id.eq(entry.target_id),
            audit_log::details.eq(entry.details),
        ))
        .execute(conn)
        .map(drop)
}

/// An entry about one target (or, without `target_id`, about many rows of one kind); the
/// details are written as their JSON text.
fn about(
    conn: &mut DbConn,
    target_type: &str,
    target_id: Option<&str>,
    actor: &str,
    action: &str,
    details: &serde_json::Value,
    at: NaiveDateTime,
) -> QueryResult<()> {
    append(
        conn,
        &Entry {
            at,
            actor,
            action,
            target_type,
            target_id,
            details: &details.to_string(),
        },
    )
}

/// An entry about one request (the target every request step and view shares).
pub fn on_request(
    conn: &mut DbConn,
    uuid: &str,
    actor: &str,
    action: &str,
    details: &serde_json::Value,
    at: NaiveDateTime,
) -> QueryResult<()> {
    about(conn, "request", Some(uuid), actor, action, details, at)
}

/// An entry about a staff account (sign-ins, second factor, changes an admin made).
pub fn on_user(
    conn: &mut DbConn,
    user_id: i64,
    actor: &str,
    action: &str,
    details: &serde_json::Value,
    at: NaiveDateTime,
) -> QueryResult<()> {
    let id = user_id.to_string();
    about(conn, "user", Some(&id), actor, action, details, at)
}

/// An entry about an API key (created, revoked).
pub fn on_api_key(
    conn: &mut DbConn,
    key_id: i64,
    actor: &str,
    action: &str,
    details: &serde_json::Value,
    at: NaiveDateTime,
) -> QueryResult<()> {
    let id = key_id.to_string();
    about(conn, "api_key", Some(&id), actor, action, details, at)
}

/// An entry about many rows of one kind at once (a purge, a sweep): `target_type` names the
/// kind, and no single row is the target.
pub fn on_many(
    conn: &mut DbConn,
    target_type: &str,
    actor: &str,
    action: &str,
    details: &serde_json::Value,
    at: NaiveDateTime,
) -> QueryResult<()> {
    about(conn, target_type, None, actor, action, details, at)
}

/// Chains up to `limit` committed, unsealed entries after the last sealed one; returns how
/// many. On PostgreSQL an advisory lock keeps sealers of several processes in single file;
/// SQLite's write lock already does.
pub fn seal(conn: &mut DbConn, limit: i64) -> QueryResult<usize> {
    write_tx(conn, |conn| {
        if let DbConn::Postgres(pg) = conn {
            diesel::sql_query("SELECT pg_advisory_xact_lock(7306285411)").execute(pg)?;
        }
        let pending: Vec<AuditRow> = audit_log::table
            .filter(audit_log::seq.is_null())
            .order(audit_log::id.asc())
            .limit(limit)
            .select(AuditRow::as_select())
            .load(conn)?;
        if pending.is_empty() {
            return Ok(0);
        }
        let last: Option<(Option<i64>, Option<String>)> = audit_log::table
            .filter(audit_log::seq.is_not_null())
            .order(audit_log::seq.desc())
            .select((audit_log::seq, audit_log::hash))
            .first(conn)
            .optional()?;
        let (mut seq, mut prev) = match last {
            Some((Some(seq), Some(hash))) => (seq, hash),
            _ => (0, GENESIS.to_string()),
        };
        for row in &pending {
            seq += 1;
            let hash = entry_hash(&prev, seq, &Entry::of(row));
            diesel::update(audit_log::table.find(row.id))
                .set((
                    audit_log::seq.eq(seq),
                    audit_log::prev_hash.eq(&prev),
                    audit_log::hash.eq(&hash),
                ))
                .execute(conn)?;
            prev = hash;
        }
        Ok(pending.len())
    })
}

/// Seals everything pending.
pub fn seal_all(conn: &mut DbConn) -> QueryResult<usize> {
    let mut total = 0;
    loop {
        let n = seal(conn, 5_000)?;
        total += n;
        if n == 0 {
            return Ok(total);
        }
    }
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
    /// Every sealed entry checks out; `unsealed` wait for the sealer.
    Intact { entries: u64, unsealed: u64 },
    Broken {
        id: i64,
        reason: String,
        checked: u64,
    },
}

/// Walks the whole chain in `seq` order, in pages, so memory stays flat however long it is.
pub fn verify(conn: &mut DbConn) -> QueryResult<ChainStatus> {
    const PAGE: i64 = 5_000;
    let mut prev = GENESIS.to_string();
    let mut expected_seq = 0i64;
    let mut checked = 0u64;
    loop {
        let rows: Vec<AuditRow> = audit_log::table
            .filter(audit_log::seq.gt(expected_seq))
            .order(audit_log::seq.asc())
            .limit(PAGE)
            .select(AuditRow::as_select())
            .load(conn)?;
        if rows.is_empty() {
            let unsealed: i64 = audit_log::table
                .filter(audit_log::seq.is_null())
                .count()
                .get_result(conn)?;
            return Ok(ChainStatus::Intact {
                entries: checked,
                unsealed: u64::try_from(unsealed).unwrap_or(0),
            });
        }
        for row in &rows {
            let seq = row.seq.unwrap_or_default();
            let broken = |reason: &str| ChainStatus::Broken {
                id: row.id,
                reason: reason.to_string(),
                checked,
            };
            if seq != expected_seq + 1 {
                return Ok(broken(
                    "the entry before it in the chain is missing (removed)",
                ));
            }
            if row.prev_hash.as_deref() != Some(prev.as_str()) {
                return Ok(broken(
                    "its link to the previous entry does not match (an entry before it was removed or changed)",
                ));
            }
            if row.hash.as_deref() != Some(entry_hash(&prev, seq, &Entry::of(row)).as_str()) {
                return Ok(broken(
                    "its content does not match its hash (the entry was changed)",
                ));
            }
            prev = row.hash.clone().unwrap_or_default();
            expected_seq = seq;
            checked += 1;
        }
    }
}

/// One page of the trail, newest first: entries with an id below `before`, optionally only
/// those whose action starts with `action`.
pub fn page(
    conn: &mut DbConn,
    before: Option<i64>,
    action: Option<&str>,
    limit: i64,
) -> QueryResult<Vec<AuditRow>> {
    let mut query = audit_log::table
        .select(AuditRow::as_select())
        .order(audit_log::id.desc())
        .limit(limit)
        .into_boxed();
    if let Some(before) = before {
        query = query.filter(audit_log::id.lt(before));
    }
    if let Some(action) = action.filter(|a| !a.is_empty()) {
        let escaped = action
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        query = query.filter(audit_log::action.like(format!("{escaped}%")).escape('\\'));
    }
    query.load(conn)
}
