//! The mail outbox: every mail, rendered, written in the transaction of the change that
//! caused it, then sent by the worker. A row with `sent_at` set is never sent again.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConn;
use super::schema::mail_outbox;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = mail_outbox)]
pub struct OutboxRow {
    pub id: i64,
    pub message_id: String,
    pub request_id: Option<i64>,
    pub template: String,
    pub language: String,
    pub to_addr: String,
    pub subject: String,
    pub body_text: String,
    pub body_html: String,
    pub created_at: NaiveDateTime,
    pub next_attempt_at: NaiveDateTime,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub sent_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = mail_outbox)]
pub struct NewMail<'a> {
    pub message_id: &'a str,
    pub request_id: Option<i64>,
    pub template: &'a str,
    pub language: &'a str,
    pub to_addr: &'a str,
    pub subject: &'a str,
    pub body_text: &'a str,
    pub body_html: &'a str,
    pub created_at: NaiveDateTime,
    pub next_attempt_at: NaiveDateTime,
}

/// Stores a mail; returns its id.
pub fn insert(conn: &mut DbConn, mail: &NewMail<'_>) -> QueryResult<i64> {
    crate::per_backend!(conn, |c| diesel::insert_into(mail_outbox::table)
        .values(mail)
        .returning(mail_outbox::id)
        .get_result(c))
}

pub fn find(conn: &mut DbConn, id: i64) -> QueryResult<Option<OutboxRow>> {
    mail_outbox::table
        .find(id)
        .select(OutboxRow::as_select())
        .first(conn)
        .optional()
}

/// Replaces a provisional Message-ID with the final one, once; false when the row already
/// has another (a concurrent attempt fixed it first, and that one stands).
pub fn fix_message_id(
    conn: &mut DbConn,
    id: i64,
    provisional: &str,
    message_id: &str,
) -> QueryResult<bool> {
    diesel::update(
        mail_outbox::table
            .find(id)
            .filter(mail_outbox::message_id.eq(provisional)),
    )
    .set(mail_outbox::message_id.eq(message_id))
    .execute(conn)
    .map(|n| n == 1)
}

/// Records a delivery; false when the row was already marked sent.
pub fn mark_sent(conn: &mut DbConn, id: i64, now: NaiveDateTime) -> QueryResult<bool> {
    diesel::update(
        mail_outbox::table
            .find(id)
            .filter(mail_outbox::sent_at.is_null()),
    )
    .set((
        mail_outbox::sent_at.eq(now),
        mail_outbox::attempts.eq(mail_outbox::attempts + 1),
        mail_outbox::last_error.eq(None::<String>),
    ))
    .execute(conn)
    .map(|n| n == 1)
}

/// Records a failed attempt and when the next one is due.
pub fn record_failure(
    conn: &mut DbConn,
    id: i64,
    error: &str,
    next_attempt_at: NaiveDateTime,
) -> QueryResult<()> {
    let error: String = error.chars().take(2000).collect();
    diesel::update(
        mail_outbox::table
            .find(id)
            .filter(mail_outbox::sent_at.is_null()),
    )
    .set((
        mail_outbox::attempts.eq(mail_outbox::attempts + 1),
        mail_outbox::last_error.eq(error),
        mail_outbox::next_attempt_at.eq(next_attempt_at),
    ))
    .execute(conn)
    .map(drop)
}

/// Deletes the mails about these requests, sent or not.
pub fn delete_for_requests(conn: &mut DbConn, request_ids: &[i64]) -> QueryResult<usize> {
    diesel::delete(mail_outbox::table.filter(mail_outbox::request_id.eq_any(request_ids)))
        .execute(conn)
}

/// The mails about one request, oldest first: what the request page's thread shows.
pub fn for_request(conn: &mut DbConn, request_id: i64) -> QueryResult<Vec<OutboxRow>> {
    mail_outbox::table
        .filter(mail_outbox::request_id.eq(request_id))
        .order((mail_outbox::created_at.asc(), mail_outbox::id.asc()))
        .select(OutboxRow::as_select())
        .load(conn)
}
