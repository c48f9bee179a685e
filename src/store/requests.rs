//! Requests and their timeline (events).

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::DbConn;
use super::schema::{request_events, requests};
use crate::domain::filing::Acting;
use crate::domain::{Channel, RequestKind, Status};
use crate::i18n::Lang;

#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = requests)]
pub struct RequestRow {
    pub id: i64,
    pub uuid: String,
    pub ref_year: i32,
    #[diesel(deserialize_as = String)]
    pub kind: RequestKind,
    #[diesel(deserialize_as = String)]
    pub status: Status,
    pub held_from: Option<String>,
    pub profile: String,
    #[diesel(deserialize_as = String)]
    pub channel: Channel,
    #[diesel(deserialize_as = String)]
    pub language: Lang,
    pub requester_name: String,
    pub requester_email: String,
    pub customer_ref: Option<String>,
    pub details: String,
    pub received_at: NaiveDateTime,
    pub received_on: NaiveDate,
    pub due_on: NaiveDate,
    pub paused_days: i32,
    pub paused_since: Option<NaiveDate>,
    pub extension_months: i32,
    pub extension_days: i32,
    pub verified_at: Option<NaiveDateTime>,
    pub verified_method: Option<String>,
    pub closed_at: Option<NaiveDateTime>,
    pub reject_ground: Option<String>,
    pub created_by: String,
    pub created_at: NaiveDateTime,
    pub country: Option<String>,
    pub representative: bool,
    pub form: String,
    pub email_confirmed_at: Option<NaiveDateTime>,
    pub duplicate_of: Option<i64>,
    pub assignee_id: Option<i64>,
    /// The person a representative acts for (none when the requester acts for themselves):
    /// whom the sources are searched for. Their address or customer reference, or both.
    pub subject_name: Option<String>,
    pub subject_email: Option<String>,
    pub subject_customer_ref: Option<String>,
    /// How the requester acts: for themselves, as a representative, or as a parent.
    #[diesel(deserialize_as = String)]
    pub acting: Acting,
    /// The child's date of birth, when a parent acts.
    pub subject_birth_date: Option<NaiveDate>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = requests)]
pub struct NewRequest<'a> {
    pub uuid: &'a str,
    pub ref_year: i32,
    pub kind: &'a str,
    pub status: &'a str,
    pub profile: &'a str,
    pub channel: &'a str,
    pub language: &'a str,
    pub requester_name: &'a str,
    pub requester_email: &'a str,
    pub customer_ref: Option<&'a str>,
    pub details: &'a str,
    pub received_at: NaiveDateTime,
    pub received_on: NaiveDate,
    pub due_on: NaiveDate,
    pub created_by: &'a str,
    pub created_at: NaiveDateTime,
    pub country: Option<&'a str>,
    pub representative: bool,
    pub form: &'a str,
    pub duplicate_of: Option<i64>,
    pub subject_name: Option<&'a str>,
    pub subject_email: Option<&'a str>,
    pub subject_customer_ref: Option<&'a str>,
    pub acting: &'a str,
    pub subject_birth_date: Option<NaiveDate>,
}

/// What an event changes on the request row; `None` leaves a column as it is.
#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = requests)]
pub struct RequestChanges<'a> {
    pub status: Option<&'a str>,
    pub held_from: Option<Option<&'a str>>,
    pub due_on: Option<NaiveDate>,
    pub paused_days: Option<i32>,
    pub paused_since: Option<Option<NaiveDate>>,
    pub extension_months: Option<i32>,
    pub extension_days: Option<i32>,
    pub verified_at: Option<Option<NaiveDateTime>>,
    pub verified_method: Option<Option<&'a str>>,
    pub closed_at: Option<Option<NaiveDateTime>>,
    /// With `closed_at`: the day it falls on in the law's time zone, and for an answer,
    /// whether in time (the Reports page's counts are keyed on them).
    pub closed_on: Option<Option<NaiveDate>>,
    pub on_time: Option<Option<bool>>,
    pub reject_ground: Option<Option<&'a str>>,
    pub email_confirmed_at: Option<Option<NaiveDateTime>>,
    pub assignee_id: Option<Option<i64>>,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = request_events)]
pub struct EventRow {
    pub id: i64,
    pub request_id: i64,
    pub kind: String,
    pub at: NaiveDateTime,
    pub recorded_at: NaiveDateTime,
    pub actor: String,
    pub from_status: Option<String>,
    pub to_status: Option<String>,
    pub note: Option<String>,
    pub data: String,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = request_events)]
pub struct NewEvent<'a> {
    pub request_id: i64,
    pub kind: &'a str,
    pub at: NaiveDateTime,
    pub recorded_at: NaiveDateTime,
    pub actor: &'a str,
    pub from_status: Option<&'a str>,
    pub to_status: Option<&'a str>,
    pub note: Option<&'a str>,
    pub data: &'a str,
}

pub fn insert(conn: &mut DbConn, new: &NewRequest<'_>) -> QueryResult<RequestRow> {
    crate::per_backend!(conn, |c| diesel::insert_into(requests::table)
        .values(new)
        .returning(RequestRow::as_returning())
        .get_result(c))
}

pub fn insert_event(conn: &mut DbConn, event: &NewEvent<'_>) -> QueryResult<EventRow> {
    crate::per_backend!(conn, |c| diesel::insert_into(request_events::table)
        .values(event)
        .returning(EventRow::as_returning())
        .get_result(c))
}

pub fn update(conn: &mut DbConn, id: i64, changes: &RequestChanges<'_>) -> QueryResult<RequestRow> {
    crate::per_backend!(conn, |c| diesel::update(requests::table.find(id))
        .set(changes)
        .returning(RequestRow::as_returning())
        .get_result(c))
}

pub fn find_by_uuid(conn: &mut DbConn, uuid: &str) -> QueryResult<Option<RequestRow>> {
    requests::table
        .filter(requests::uuid.eq(uuid))
        .select(RequestRow::as_select())
        .first(conn)
        .optional()
}

pub fn find_by_reference(
    conn: &mut DbConn,
    year: i32,
    seq: i64,
) -> QueryResult<Option<RequestRow>> {
    requests::table
        .filter(requests::id.eq(seq))
        .filter(requests::ref_year.eq(year))
        .select(RequestRow::as_select())
        .first(conn)
        .optional()
}

pub fn get(conn: &mut DbConn, id: i64) -> QueryResult<RequestRow> {
    requests::table
        .find(id)
        .select(RequestRow::as_select())
        .first(conn)
}

/// The requests of `ids` that exist, in one query, in no particular order.
pub fn get_many(conn: &mut DbConn, ids: &[i64]) -> QueryResult<Vec<RequestRow>> {
    requests::table
        .filter(requests::id.eq_any(ids))
        .select(RequestRow::as_select())
        .load(conn)
}

/// The row, locked against concurrent changes until the transaction ends (PostgreSQL; on
/// SQLite the immediate transaction already holds the write lock).
pub fn lock(conn: &mut DbConn, id: i64) -> QueryResult<RequestRow> {
    match conn {
        DbConn::Postgres(pg) => requests::table
            .find(id)
            .select(RequestRow::as_select())
            .for_update()
            .first(pg),
        DbConn::Sqlite(_) => requests::table
            .find(id)
            .select(RequestRow::as_select())
            .first(conn),
    }
}

pub fn events_for(conn: &mut DbConn, request_ids: &[i64]) -> QueryResult<Vec<EventRow>> {
    request_events::table
        .filter(request_events::request_id.eq_any(request_ids))
        .order((request_events::request_id, request_events::id))
        .select(EventRow::as_select())
        .load(conn)
}

/// A request that waits for its requester, as the follow-up sweep reads it.
#[derive(Debug, Clone, Queryable)]
pub struct WaitingRow {
    pub id: i64,
    #[diesel(deserialize_as = String)]
    pub status: Status,
    pub received_at: NaiveDateTime,
}

/// Up to `limit` requests waiting for their requester (unconfirmed, or on hold) with an id
/// above `after_id`, by id: a keyset page over the indexed status.
pub fn waiting_for_requester(
    conn: &mut DbConn,
    after_id: i64,
    limit: i64,
) -> QueryResult<Vec<WaitingRow>> {
    requests::table
        .filter(requests::status.eq_any([Status::New.as_str(), Status::OnHold.as_str()]))
        .filter(requests::id.gt(after_id))
        .order(requests::id.asc())
        .limit(limit)
        .select((requests::id, requests::status, requests::received_at))
        .load(conn)
}

/// Ids of up to `limit` requests closed before `cutoff` that still name their requester (an
/// anonymised request has an empty name and address; one filed from a letter may have had no
/// address from the start), by id.
pub fn closed_before_not_anonymised(
    conn: &mut DbConn,
    cutoff: NaiveDateTime,
    limit: i64,
) -> QueryResult<Vec<i64>> {
    requests::table
        .filter(requests::closed_at.lt(cutoff))
        .filter(
            requests::requester_email
                .ne("")
                .or(requests::requester_name.ne("")),
        )
        .order(requests::id.asc())
        .limit(limit)
        .select(requests::id)
        .load(conn)
}

/// Clears the notes on the timelines of these requests, except those of extensions.
pub fn clear_event_notes_except_extensions(
    conn: &mut DbConn,
    request_ids: &[i64],
) -> QueryResult<usize> {
    diesel::update(
        request_events::table
            .filter(request_events::request_id.eq_any(request_ids))
            .filter(request_events::kind.ne("extend")),
    )
    .set(request_events::note.eq(None::<String>))
    .execute(conn)
}

/// Empties what names the requester, and the person represented, on these requests: names,
/// addresses, customer references, details and form. The rest of the row (kind, dates,
/// outcome, ground) stays.
pub fn anonymise(conn: &mut DbConn, request_ids: &[i64]) -> QueryResult<usize> {
    diesel::update(requests::table.filter(requests::id.eq_any(request_ids)))
        .set((
            requests::requester_name.eq(""),
            requests::requester_email.eq(""),
            requests::customer_ref.eq(None::<String>),
            requests::details.eq(""),
            requests::form.eq("{}"),
            requests::subject_name.eq(None::<String>),
            requests::subject_email.eq(None::<String>),
            requests::subject_customer_ref.eq(None::<String>),
            requests::subject_birth_date.eq(None::<chrono::NaiveDate>),
        ))
        .execute(conn)
}

/// The timeline event of an assignment: the team's own business, shown in the staff thread,
/// never on the requester's page, and no step of the request's life (it does not hold back a
/// step recorded afterwards with an earlier date).
pub const ASSIGN_EVENT: &str = "assign";

/// When the last step of the request's life happened (assignments are not steps).
pub fn last_event_at(conn: &mut DbConn, request_id: i64) -> QueryResult<Option<NaiveDateTime>> {
    request_events::table
        .filter(request_events::request_id.eq(request_id))
        .filter(request_events::kind.ne(ASSIGN_EVENT))
        .select(diesel::dsl::max(request_events::at))
        .first(conn)
}

#[derive(Debug, Default, Clone)]
pub struct ListFilter {
    pub status: Option<String>,
    pub kind: Option<String>,
    /// Keyset cursor: rows with an id above this one.
    pub after_id: Option<i64>,
    pub limit: i64,
}

/// Oldest first by id, so a cursor never skips or repeats a row while new ones arrive.
pub fn list(conn: &mut DbConn, filter: &ListFilter) -> QueryResult<Vec<RequestRow>> {
    let mut query = requests::table
        .select(RequestRow::as_select())
        .order(requests::id.asc())
        .limit(filter.limit)
        .into_boxed();
    if let Some(status) = &filter.status {
        query = query.filter(requests::status.eq(status.clone()));
    }
    if let Some(kind) = &filter.kind {
        query = query.filter(requests::kind.eq(kind.clone()));
    }
    if let Some(after) = filter.after_id {
        query = query.filter(requests::id.gt(after));
    }
    query.load(conn)
}

pub fn count(conn: &mut DbConn) -> QueryResult<i64> {
    requests::table.count().get_result(conn)
}
