//! Staff accounts and the one-time links that let them set a password.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConn;
use super::schema::{notes, password_tokens, users};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = users)]
pub struct UserRow {
    pub id: i64,
    pub email: String,
    pub name: String,
    pub role: String,
    pub password_hash: Option<String>,
    pub totp_secret: Option<String>,
    pub session_epoch: i32,
    pub disabled_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub last_login_at: Option<NaiveDateTime>,
    /// `fr` or `en`, as chosen on the account page; `None`: the organisation's language.
    pub lang: Option<String>,
}

pub fn insert(
    conn: &mut DbConn,
    email: &str,
    name: &str,
    role: &str,
    now: NaiveDateTime,
) -> QueryResult<UserRow> {
    crate::per_backend!(conn, |c| diesel::insert_into(users::table)
        .values((
            users::email.eq(email),
            users::name.eq(name),
            users::role.eq(role),
            users::created_at.eq(now)
        ))
        .returning(UserRow::as_returning())
        .get_result(c))
}

pub fn count(conn: &mut DbConn) -> QueryResult<i64> {
    users::table.count().get_result(conn)
}

pub fn find(conn: &mut DbConn, id: i64) -> QueryResult<Option<UserRow>> {
    users::table
        .find(id)
        .select(UserRow::as_select())
        .first(conn)
        .optional()
}

pub fn find_by_email(conn: &mut DbConn, email: &str) -> QueryResult<Option<UserRow>> {
    users::table
        .filter(users::email.eq(email.trim().to_lowercase()))
        .select(UserRow::as_select())
        .first(conn)
        .optional()
}

pub fn list(conn: &mut DbConn) -> QueryResult<Vec<UserRow>> {
    users::table
        .order(users::id.asc())
        .select(UserRow::as_select())
        .load(conn)
}

/// Sets the password and ends every session opened before.
pub fn set_password(conn: &mut DbConn, id: i64, hash: &str) -> QueryResult<()> {
    diesel::update(users::table.find(id))
        .set((
            users::password_hash.eq(hash),
            users::session_epoch.eq(users::session_epoch + 1),
        ))
        .execute(conn)
        .map(drop)
}

/// Ends every session of the account ("log out everywhere").
pub fn bump_epoch(conn: &mut DbConn, id: i64) -> QueryResult<()> {
    diesel::update(users::table.find(id))
        .set(users::session_epoch.eq(users::session_epoch + 1))
        .execute(conn)
        .map(drop)
}

/// The account's dashboard language: `Some("fr")`, `Some("en")`, or `None` for the
/// organisation's.
pub fn set_lang(conn: &mut DbConn, id: i64, lang: Option<&str>) -> QueryResult<()> {
    diesel::update(users::table.find(id))
        .set(users::lang.eq(lang))
        .execute(conn)
        .map(drop)
}

pub fn touch_login(conn: &mut DbConn, id: i64, now: NaiveDateTime) -> QueryResult<()> {
    diesel::update(users::table.find(id))
        .set(users::last_login_at.eq(now))
        .execute(conn)
        .map(drop)
}

pub fn insert_token(
    conn: &mut DbConn,
    user_id: i64,
    token_hash: &str,
    purpose: &str,
    now: NaiveDateTime,
    expires_at: NaiveDateTime,
) -> QueryResult<()> {
    diesel::insert_into(password_tokens::table)
        .values((
            password_tokens::user_id.eq(user_id),
            password_tokens::token_hash.eq(token_hash),
            password_tokens::purpose.eq(purpose),
            password_tokens::created_at.eq(now),
            password_tokens::expires_at.eq(expires_at),
        ))
        .execute(conn)
        .map(drop)
}

/// The account a still-unused, unexpired link belongs to.
pub fn user_for_token(
    conn: &mut DbConn,
    token_hash: &str,
    now: NaiveDateTime,
) -> QueryResult<Option<(i64, i64)>> {
    password_tokens::table
        .filter(password_tokens::token_hash.eq(token_hash))
        .filter(password_tokens::used_at.is_null())
        .filter(password_tokens::expires_at.gt(now))
        .select((password_tokens::id, password_tokens::user_id))
        .first(conn)
        .optional()
}

/// Spends the link, and with it every other unused link of the account (an older invitation
/// or reset mail must not set the password again). False when the link was spent already,
/// by a request that got there first.
pub fn use_token(
    conn: &mut DbConn,
    token_id: i64,
    user_id: i64,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let spent = diesel::update(
        password_tokens::table
            .find(token_id)
            .filter(password_tokens::used_at.is_null()),
    )
    .set(password_tokens::used_at.eq(now))
    .execute(conn)?;
    diesel::update(
        password_tokens::table
            .filter(password_tokens::user_id.eq(user_id))
            .filter(password_tokens::used_at.is_null()),
    )
    .set(password_tokens::used_at.eq(now))
    .execute(conn)?;
    Ok(spent == 1)
}

/// When the account was last sent a reset link, if ever.
pub fn last_reset_link(conn: &mut DbConn, user_id: i64) -> QueryResult<Option<NaiveDateTime>> {
    password_tokens::table
        .filter(password_tokens::user_id.eq(user_id))
        .filter(password_tokens::purpose.eq("reset"))
        .select(diesel::dsl::max(password_tokens::created_at))
        .first(conn)
}

/// An internal note of the team on a request (never shown to the requester).
pub fn insert_note(
    conn: &mut DbConn,
    request_id: i64,
    author_id: i64,
    body: &str,
    now: NaiveDateTime,
) -> QueryResult<()> {
    diesel::insert_into(notes::table)
        .values((
            notes::request_id.eq(request_id),
            notes::author_id.eq(author_id),
            notes::body.eq(body),
            notes::created_at.eq(now),
        ))
        .execute(conn)
        .map(drop)
}

/// (author name, when, text), oldest first.
pub fn notes_for(
    conn: &mut DbConn,
    request_id: i64,
) -> QueryResult<Vec<(String, NaiveDateTime, String)>> {
    notes::table
        .inner_join(users::table)
        .filter(notes::request_id.eq(request_id))
        .order(notes::id.asc())
        .select((users::name, notes::created_at, notes::body))
        .load(conn)
}

/// Deletes the team's notes on these requests.
pub fn delete_notes_for(conn: &mut DbConn, request_ids: &[i64]) -> QueryResult<usize> {
    diesel::delete(notes::table.filter(notes::request_id.eq_any(request_ids))).execute(conn)
}

/// A new role; the account's sessions end so the new rights apply at once.
pub fn set_role(conn: &mut DbConn, id: i64, role: &str) -> QueryResult<()> {
    diesel::update(users::table.find(id))
        .set((
            users::role.eq(role),
            users::session_epoch.eq(users::session_epoch + 1),
        ))
        .execute(conn)
        .map(drop)
}

/// Disables (`Some(when)`) or re-enables (`None`) an account; disabling ends its sessions.
pub fn set_disabled(conn: &mut DbConn, id: i64, at: Option<NaiveDateTime>) -> QueryResult<()> {
    diesel::update(users::table.find(id))
        .set((
            users::disabled_at.eq(at),
            users::session_epoch.eq(users::session_epoch + 1),
        ))
        .execute(conn)
        .map(drop)
}

/// Stores the sealed TOTP secret, or removes it (`None`: the second factor is off).
pub fn set_totp(conn: &mut DbConn, id: i64, sealed: Option<&str>) -> QueryResult<()> {
    diesel::update(users::table.find(id))
        .set(users::totp_secret.eq(sealed))
        .execute(conn)
        .map(drop)
}

/// The last TOTP step this account used, if any.
pub fn totp_last_step(conn: &mut DbConn, id: i64) -> QueryResult<Option<i64>> {
    users::table
        .find(id)
        .select(users::totp_last_step)
        .first(conn)
        .optional()
        .map(Option::flatten)
}

/// Records `step` as the account's last TOTP step if no equal or later one was: true when
/// this call did (one row changed), so two requests carrying one code, on any node, cannot
/// both win.
pub fn spend_totp_step(conn: &mut DbConn, id: i64, step: i64) -> QueryResult<bool> {
    diesel::update(
        users::table.find(id).filter(
            users::totp_last_step
                .is_null()
                .or(users::totp_last_step.lt(step)),
        ),
    )
    .set(users::totp_last_step.eq(step))
    .execute(conn)
    .map(|changed| changed == 1)
}

/// Makes changes to accounts take turns until the transaction ends: a transaction-scoped
/// advisory lock on PostgreSQL; on SQLite the immediate transaction holds the write lock
/// already.
pub fn lock_account_changes(conn: &mut DbConn) -> QueryResult<()> {
    if let DbConn::Postgres(pg) = conn {
        diesel::sql_query("SELECT pg_advisory_xact_lock(7306285412)").execute(pg)?;
    }
    Ok(())
}

/// Active accounts with this role.
pub fn count_active_with_role(conn: &mut DbConn, role: &str) -> QueryResult<i64> {
    users::table
        .filter(users::role.eq(role))
        .filter(users::disabled_at.is_null())
        .count()
        .get_result(conn)
}
