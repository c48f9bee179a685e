//! API keys: random, shown once, stored only as a SHA-256 hash (a 256-bit random key needs
//! no slow hash: there is nothing to guess).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConn;
use super::schema::api_keys;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = api_keys)]
pub struct ApiKeyRow {
    pub id: i64,
    pub name: String,
    pub key_prefix: String,
    pub key_hash: String,
    pub created_at: NaiveDateTime,
    pub last_used_at: Option<NaiveDateTime>,
    pub revoked_at: Option<NaiveDateTime>,
}

pub fn insert(
    conn: &mut DbConn,
    name: &str,
    key_prefix: &str,
    key_hash: &str,
    now: NaiveDateTime,
) -> QueryResult<ApiKeyRow> {
    crate::per_backend!(conn, |c| diesel::insert_into(api_keys::table)
        .values((
            api_keys::name.eq(name),
            api_keys::key_prefix.eq(key_prefix),
            api_keys::key_hash.eq(key_hash),
            api_keys::created_at.eq(now),
        ))
        .returning(ApiKeyRow::as_returning())
        .get_result(c))
}

pub fn find_active_by_hash(conn: &mut DbConn, key_hash: &str) -> QueryResult<Option<ApiKeyRow>> {
    api_keys::table
        .filter(api_keys::key_hash.eq(key_hash))
        .filter(api_keys::revoked_at.is_null())
        .select(ApiKeyRow::as_select())
        .first(conn)
        .optional()
}

pub fn list(conn: &mut DbConn) -> QueryResult<Vec<ApiKeyRow>> {
    api_keys::table
        .order(api_keys::id.asc())
        .select(ApiKeyRow::as_select())
        .load(conn)
}

pub fn revoke(conn: &mut DbConn, id: i64, now: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(
        api_keys::table
            .find(id)
            .filter(api_keys::revoked_at.is_null()),
    )
    .set(api_keys::revoked_at.eq(now))
    .execute(conn)
}

pub fn touch(conn: &mut DbConn, id: i64, now: NaiveDateTime) -> QueryResult<()> {
    diesel::update(api_keys::table.find(id))
        .set(api_keys::last_used_at.eq(now))
        .execute(conn)
        .map(drop)
}
