//! The counts `/metrics` exposes: a few GROUP BYs over indexed columns, no personal data.

use chrono::NaiveDate;
use diesel::prelude::*;

use super::DbConn;
use super::schema::{jobs, mail_outbox, requests};

pub struct Counts {
    pub requests_by_status: Vec<(String, i64)>,
    /// Open, clock running, due before today.
    pub overdue: i64,
    pub jobs_by_status: Vec<(String, i64)>,
    /// Queued jobs whose last attempt failed and that will be retried.
    pub jobs_retrying: i64,
    pub mails_sent: i64,
    pub mails_waiting: i64,
    /// Unsent mails whose last attempt failed.
    pub mails_failing: i64,
}

pub fn counts(conn: &mut DbConn, today: NaiveDate) -> QueryResult<Counts> {
    let requests_by_status = requests::table
        .group_by(requests::status)
        .select((requests::status, diesel::dsl::count_star()))
        .load(conn)?;
    let overdue = requests::table
        .filter(super::queue::is_open())
        .filter(requests::paused_since.is_null())
        .filter(requests::due_on.lt(today))
        .count()
        .get_result(conn)?;
    let jobs_by_status = jobs::table
        .group_by(jobs::status)
        .select((jobs::status, diesel::dsl::count_star()))
        .load(conn)?;
    let jobs_retrying = jobs::table
        .filter(jobs::status.eq(super::jobs::QUEUED))
        .filter(jobs::last_error.is_not_null())
        .count()
        .get_result(conn)?;
    let mails_sent = mail_outbox::table
        .filter(mail_outbox::sent_at.is_not_null())
        .count()
        .get_result(conn)?;
    let mails_waiting = mail_outbox::table
        .filter(mail_outbox::sent_at.is_null())
        .count()
        .get_result(conn)?;
    let mails_failing = mail_outbox::table
        .filter(mail_outbox::sent_at.is_null())
        .filter(mail_outbox::last_error.is_not_null())
        .count()
        .get_result(conn)?;
    Ok(Counts {
        requests_by_status,
        overdue,
        jobs_by_status,
        jobs_retrying,
        mails_sent,
        mails_waiting,
        mails_failing,
    })
}
