//! When each open request's next deadline reminder is due (`request_reminders`), and which
//! periodic tasks were already enqueued for which period (`schedule_runs`).
//!
//! `next_on` is a lower bound the sweep refines: the workflow resets it to the day the due
//! date changed, and the sweep, which knows the thresholds, moves it to the real next day.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::DbConn;
use super::requests::RequestRow;
use super::schema::{request_reminders, requests, schedule_runs};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = request_reminders)]
pub struct ReminderRow {
    pub request_id: i64,
    pub next_on: Option<NaiveDate>,
    pub last_threshold: Option<i32>,
    pub last_sent_on: Option<NaiveDate>,
}

/// Asks the next sweep from `on` to look at the request again (filed, due date moved, clock
/// started again). What was already announced is kept.
pub fn look_again(conn: &mut DbConn, request_id: i64, on: NaiveDate) -> QueryResult<()> {
    crate::per_backend!(conn, |c| diesel::insert_into(request_reminders::table)
        .values((
            request_reminders::request_id.eq(request_id),
            request_reminders::next_on.eq(on),
        ))
        .on_conflict(request_reminders::request_id)
        .do_update()
        .set(request_reminders::next_on.eq(on))
        .execute(c)
        .map(drop))
}

/// A closed request needs no more reminders.
pub fn forget(conn: &mut DbConn, request_id: i64) -> QueryResult<()> {
    diesel::delete(request_reminders::table.find(request_id))
        .execute(conn)
        .map(drop)
}

/// Where a batch of [`due`] ended: the next batch starts after it.
pub type Cursor = (NaiveDate, i64);

/// Up to `limit` reminders due on or before `today`, with their requests, in the order of
/// the `request_reminders_next` index after `after` (keyset, so a sweep reads the due rows in
/// batches and never the whole table).
pub fn due(
    conn: &mut DbConn,
    today: NaiveDate,
    after: Option<Cursor>,
    limit: i64,
) -> QueryResult<Vec<(ReminderRow, RequestRow)>> {
    let mut query = request_reminders::table
        .inner_join(requests::table)
        .filter(request_reminders::next_on.le(today))
        .order((
            request_reminders::next_on.asc(),
            request_reminders::request_id.asc(),
        ))
        .limit(limit)
        .select((ReminderRow::as_select(), RequestRow::as_select()))
        .into_boxed();
    if let Some((on, id)) = after {
        query = query.filter(
            request_reminders::next_on
                .gt(on)
                .or(request_reminders::next_on
                    .eq(on)
                    .and(request_reminders::request_id.gt(id))),
        );
    }
    query.load(conn)
}

/// What a sweep decided for one request.
#[derive(Debug, Clone, Copy)]
pub struct Outcome {
    pub request_id: i64,
    pub next_on: Option<NaiveDate>,
    pub last_threshold: Option<i32>,
    pub last_sent_on: Option<NaiveDate>,
}

pub fn record(conn: &mut DbConn, outcome: &Outcome) -> QueryResult<()> {
    diesel::update(request_reminders::table.find(outcome.request_id))
        .set((
            request_reminders::next_on.eq(outcome.next_on),
            request_reminders::last_threshold.eq(outcome.last_threshold),
            request_reminders::last_sent_on.eq(outcome.last_sent_on),
        ))
        .execute(conn)
        .map(drop)
}

/// Claims `period` of `task`: true for the one caller that inserted the row.
pub fn claim_period(
    conn: &mut DbConn,
    task: &str,
    period: &str,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    crate::per_backend!(conn, |c| diesel::insert_into(schedule_runs::table)
        .values((
            schedule_runs::task.eq(task),
            schedule_runs::period.eq(period),
            schedule_runs::enqueued_at.eq(now),
        ))
        .on_conflict_do_nothing()
        .execute(c)
        .map(|n| n == 1))
}
