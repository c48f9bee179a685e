//! Staff sessions: one row per signed-in browser, found by the hash of its cookie's token.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConn;
use super::schema::{staff_sessions, users};
use super::users::UserRow;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = staff_sessions)]
pub struct SessionRow {
    pub id: i64,
    pub user_id: i64,
    pub epoch: i32,
    pub created_at: NaiveDateTime,
    pub last_seen_at: NaiveDateTime,
    pub ended_at: Option<NaiveDateTime>,
}

pub fn insert(
    conn: &mut DbConn,
    token_hash: &str,
    user_id: i64,
    epoch: i32,
    now: NaiveDateTime,
) -> QueryResult<i64> {
    crate::per_backend!(conn, |c| diesel::insert_into(staff_sessions::table)
        .values((
            staff_sessions::token_hash.eq(token_hash),
            staff_sessions::user_id.eq(user_id),
            staff_sessions::epoch.eq(epoch),
            staff_sessions::created_at.eq(now),
            staff_sessions::last_seen_at.eq(now),
        ))
        .returning(staff_sessions::id)
        .get_result(c))
}

/// The session and its account, in one lookup on the token's unique index.
pub fn find_with_user(
    conn: &mut DbConn,
    token_hash: &str,
) -> QueryResult<Option<(SessionRow, UserRow)>> {
    staff_sessions::table
        .inner_join(users::table)
        .filter(staff_sessions::token_hash.eq(token_hash))
        .select((SessionRow::as_select(), UserRow::as_select()))
        .first(conn)
        .optional()
}

pub fn touch(conn: &mut DbConn, id: i64, now: NaiveDateTime) -> QueryResult<()> {
    diesel::update(staff_sessions::table.find(id))
        .set(staff_sessions::last_seen_at.eq(now))
        .execute(conn)
        .map(drop)
}

/// Ends one session (signing out).
pub fn end(conn: &mut DbConn, id: i64, now: NaiveDateTime) -> QueryResult<()> {
    diesel::update(
        staff_sessions::table
            .find(id)
            .filter(staff_sessions::ended_at.is_null()),
    )
    .set(staff_sessions::ended_at.eq(now))
    .execute(conn)
    .map(drop)
}

/// Ends every session of an account; returns how many were open.
pub fn end_all_for(conn: &mut DbConn, user_id: i64, now: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(
        staff_sessions::table
            .filter(staff_sessions::user_id.eq(user_id))
            .filter(staff_sessions::ended_at.is_null()),
    )
    .set(staff_sessions::ended_at.eq(now))
    .execute(conn)
}

/// Deletes the sessions that can no longer be used: ended, idle since before `idle_before`,
/// or opened before `opened_before`.
pub fn delete_spent(
    conn: &mut DbConn,
    idle_before: NaiveDateTime,
    opened_before: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::delete(
        staff_sessions::table.filter(
            staff_sessions::ended_at
                .is_not_null()
                .or(staff_sessions::last_seen_at.lt(idle_before))
                .or(staff_sessions::created_at.lt(opened_before)),
        ),
    )
    .execute(conn)
}
