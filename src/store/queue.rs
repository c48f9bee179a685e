//! The team's queue: open requests ordered by due date (overdue first), filtered, paged by
//! keyset so that page 1,000 costs what page 1 does.

use chrono::NaiveDate;
use diesel::prelude::*;

use super::DbConn;
use super::requests::RequestRow;
use super::schema::requests;

pub const OPEN: [&str; 4] = ["new", "verifying", "in_progress", "on_hold"];
/// [`OPEN`] as the migrations' partial indexes spell it.
const OPEN_SQL: &str = "status IN ('new', 'verifying', 'in_progress', 'on_hold')";

/// The filter "the request is open", written into the SQL, not bound: only then can SQLite
/// see that the partial indexes over open requests (requests_open_due,
/// requests_open_kind_due) apply, instead of walking every request. Every query over open
/// requests uses it.
pub fn is_open() -> diesel::expression::SqlLiteral<diesel::sql_types::Bool> {
    diesel::dsl::sql::<diesel::sql_types::Bool>(OPEN_SQL)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Assignee {
    Anyone,
    Unassigned,
    User(i64),
    /// A handler's view: theirs and unassigned.
    MineOrUnassigned(i64),
}

#[derive(Debug, Clone)]
pub struct QueueFilter {
    pub statuses: Vec<String>,
    pub kind: Option<String>,
    pub profile: Option<String>,
    pub assignee: Assignee,
    /// Due on or before this date (overdue: yesterday; due within N days: today + N).
    pub due_by: Option<NaiveDate>,
    pub email: Option<String>,
    /// Keyset: rows after this (due_on, id).
    pub after: Option<(NaiveDate, i64)>,
    pub limit: i64,
}

pub fn page(conn: &mut DbConn, f: &QueueFilter) -> QueryResult<Vec<RequestRow>> {
    let mut q = requests::table
        .select(RequestRow::as_select())
        .order((requests::due_on.asc(), requests::id.asc()))
        .limit(f.limit)
        .into_boxed();
    // The open statuses go through `is_open` (written into the SQL, for the partial indexes).
    let mut wanted = f.statuses.clone();
    wanted.sort();
    let mut open: Vec<String> = OPEN.iter().map(|s| s.to_string()).collect();
    open.sort();
    q = if wanted == open {
        q.filter(is_open())
    } else {
        q.filter(requests::status.eq_any(f.statuses.clone()))
    };
    if let Some(kind) = &f.kind {
        q = q.filter(requests::kind.eq(kind.clone()));
    }
    if let Some(profile) = &f.profile {
        q = q.filter(requests::profile.eq(profile.clone()));
    }
    q = match f.assignee {
        Assignee::Anyone => q,
        Assignee::Unassigned => q.filter(requests::assignee_id.is_null()),
        Assignee::User(id) => q.filter(requests::assignee_id.eq(id)),
        Assignee::MineOrUnassigned(id) => q.filter(
            requests::assignee_id
                .eq(id)
                .or(requests::assignee_id.is_null()),
        ),
    };
    if let Some(by) = f.due_by {
        q = q.filter(requests::due_on.le(by));
    }
    if let Some(email) = &f.email {
        q = q.filter(requests::requester_email.eq(email.clone()));
    }
    if let Some((due, id)) = f.after {
        q = q.filter(
            requests::due_on
                .gt(due)
                .or(requests::due_on.eq(due).and(requests::id.gt(id))),
        );
    }
    q.load(conn)
}
