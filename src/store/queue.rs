//! The team's queue: open requests by stage ([`Slice`]), ordered by due date (overdue first)
//! or by date of receipt, filtered, paged by keyset so that page 1,000 costs what page 1
//! does; and how many requests each stage holds, counted from the index up to a cap so that
//! the tabs cost the same with a hundred open requests or two hundred thousand.

use chrono::NaiveDate;
use diesel::prelude::*;

use super::DbConn;
use super::requests::RequestRow;
use super::schema::requests;
use crate::domain::RequestKind;
use crate::domain::stage::Stage;

pub const OPEN: [&str; 4] = ["new", "verifying", "in_progress", "on_hold"];
/// [`OPEN`] as the migrations' partial indexes spell it.
const OPEN_SQL: &str = "status IN ('new', 'verifying', 'in_progress', 'on_hold')";

/// The filter "the request is open", written into the SQL, not bound: only then can SQLite
/// see that the partial indexes over open requests (requests_open_due,
/// requests_open_kind_due, requests_open_stage) apply, instead of walking every request.
/// Every query over open requests uses it.
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

/// Which open requests a view of the queue holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Slice {
    /// Every open request the team can act on: all but the unconfirmed ones.
    Actionable,
    /// Every open request, unconfirmed ones included (what a search looks through).
    Open,
    /// The requests at one stage.
    Stage(Stage),
    /// Actionable requests whose clock runs and whose due date is before this day.
    OverdueOn(NaiveDate),
}

/// Which kinds of request a configured data source serves: a request of another kind has
/// nothing to gather, and is ready to answer as soon as it is in progress.
#[derive(Debug, Clone, Default)]
pub struct Served(pub Vec<RequestKind>);

impl Served {
    fn all(&self) -> bool {
        RequestKind::ALL.iter().all(|k| self.0.contains(k))
    }

    /// `kind IN (...)` over fixed enum texts, never user input. Written `kind || ''` so that
    /// SQLite reads the kind from requests_open_stage (which covers it) instead of walking
    /// the kind's index through every open request of that kind.
    fn kinds_sql(&self, served: bool) -> String {
        let list: Vec<String> = RequestKind::ALL
            .iter()
            .filter(|k| self.0.contains(k) == served)
            .map(|k| format!("'{}'", k.as_str()))
            .collect();
        format!("(kind || '') IN ({})", list.join(", "))
    }
}

/// The SQL of a slice, over constants only (statuses, stored states, kinds), so that the
/// planner sees which partial index applies; `None`: the slice is empty by definition.
fn slice_sql(slice: Slice, served: &Served) -> Option<String> {
    let stage = match slice {
        Slice::Open => return Some(OPEN_SQL.into()),
        Slice::Actionable => return Some(format!("{OPEN_SQL} AND status <> 'new'")),
        Slice::OverdueOn(_) => {
            return Some(format!(
                "{OPEN_SQL} AND status <> 'new' AND paused_since IS NULL"
            ));
        }
        Slice::Stage(stage) => stage,
    };
    let in_progress = "status = 'in_progress'";
    let cond = match stage {
        Stage::Unconfirmed => "status = 'new'".to_string(),
        Stage::ToVerify => "status = 'verifying'".to_string(),
        Stage::Waiting => "status = 'on_hold'".to_string(),
        Stage::Closed => return None,
        Stage::Gathering => format!("{in_progress} AND sources_state = 'pending'"),
        Stage::ToSend if served.0.is_empty() => return None,
        Stage::ToSend if served.all() => format!("{in_progress} AND sources_state IS NULL"),
        Stage::ToSend => format!(
            "{in_progress} AND sources_state IS NULL AND {}",
            served.kinds_sql(true)
        ),
        Stage::ToAnswer if served.0.is_empty() => {
            format!("{in_progress} AND (sources_state IS NULL OR sources_state = 'done')")
        }
        Stage::ToAnswer if served.all() => format!("{in_progress} AND sources_state = 'done'"),
        Stage::ToAnswer => format!(
            "{in_progress} AND (sources_state = 'done' OR (sources_state IS NULL AND {}))",
            served.kinds_sql(false)
        ),
    };
    Some(format!("{OPEN_SQL} AND {cond}"))
}

/// The order of a page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Sort {
    /// Soonest due first: overdue ones lead.
    #[default]
    Due,
    /// Latest received first.
    Received,
}

#[derive(Debug, Clone)]
pub struct QueueFilter {
    pub slice: Slice,
    pub served: Served,
    pub kind: Option<String>,
    pub profile: Option<String>,
    pub assignee: Assignee,
    /// Due on or before this date (due within N days: today + N).
    pub due_by: Option<NaiveDate>,
    pub email: Option<String>,
    pub sort: Sort,
    /// Keyset: rows after this (due_on, id) or, by receipt, before this (received_on, id).
    pub after: Option<(NaiveDate, i64)>,
    pub limit: i64,
}

type Boxed<'a> = requests::BoxedQuery<'a, <DbConn as diesel::Connection>::Backend>;

fn scoped(mut q: Boxed<'_>, assignee: Assignee) -> Boxed<'_> {
    q = match assignee {
        Assignee::Anyone => q,
        Assignee::Unassigned => q.filter(requests::assignee_id.is_null()),
        Assignee::User(id) => q.filter(requests::assignee_id.eq(id)),
        Assignee::MineOrUnassigned(id) => q.filter(
            requests::assignee_id
                .eq(id)
                .or(requests::assignee_id.is_null()),
        ),
    };
    q
}

fn sliced<'a>(q: Boxed<'a>, slice: Slice, served: &Served) -> Option<Boxed<'a>> {
    let sql = slice_sql(slice, served)?;
    let mut q = q.filter(diesel::dsl::sql::<diesel::sql_types::Bool>(&sql));
    if let Slice::OverdueOn(today) = slice {
        q = q.filter(requests::due_on.lt(today));
    }
    Some(q)
}

/// One page of the queue, each request with its stored `sources_state`.
pub fn page(conn: &mut DbConn, f: &QueueFilter) -> QueryResult<Vec<(RequestRow, Option<String>)>> {
    let q = requests::table.limit(f.limit).into_boxed();
    let Some(mut q) = sliced(q, f.slice, &f.served) else {
        return Ok(Vec::new());
    };
    q = match f.sort {
        Sort::Due => q.order((requests::due_on.asc(), requests::id.asc())),
        Sort::Received => q.order((requests::received_on.desc(), requests::id.desc())),
    };
    if let Some(kind) = &f.kind {
        q = q.filter(requests::kind.eq(kind.clone()));
    }
    if let Some(profile) = &f.profile {
        q = q.filter(requests::profile.eq(profile.clone()));
    }
    q = scoped(q, f.assignee);
    if let Some(by) = f.due_by {
        q = q.filter(requests::due_on.le(by));
    }
    if let Some(email) = &f.email {
        q = q.filter(requests::requester_email.eq(email.clone()));
    }
    if let Some((date, id)) = f.after {
        q = match f.sort {
            Sort::Due => q.filter(
                requests::due_on
                    .gt(date)
                    .or(requests::due_on.eq(date).and(requests::id.gt(id))),
            ),
            Sort::Received => q.filter(
                requests::received_on
                    .lt(date)
                    .or(requests::received_on.eq(date).and(requests::id.lt(id))),
            ),
        };
    }
    q.select((RequestRow::as_select(), requests::sources_state))
        .load(conn)
}

/// The request with this reference, whatever its status (a search by reference), with its
/// stored `sources_state`.
pub fn by_reference(
    conn: &mut DbConn,
    year: i32,
    seq: i64,
) -> QueryResult<Option<(RequestRow, Option<String>)>> {
    requests::table
        .filter(requests::id.eq(seq))
        .filter(requests::ref_year.eq(year))
        .select((RequestRow::as_select(), requests::sources_state))
        .first(conn)
        .optional()
}

/// How many requests a slice holds for `assignee`, counted up to `cap` and no further:
/// `cap + 1` means "more than `cap`". The count walks the stage's index and stops there.
pub fn count(
    conn: &mut DbConn,
    slice: Slice,
    served: &Served,
    assignee: Assignee,
    cap: i64,
) -> QueryResult<i64> {
    let q = requests::table.limit(cap + 1).into_boxed();
    let Some(q) = sliced(q, slice, served) else {
        return Ok(0);
    };
    let ids: Vec<i64> = scoped(q, assignee).select(requests::id).load(conn)?;
    Ok(ids.len() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stage_split_follows_the_served_kinds() {
        let none = Served::default();
        let all = Served(RequestKind::ALL.to_vec());
        let some = Served(vec![RequestKind::Access, RequestKind::Erasure]);
        assert_eq!(slice_sql(Slice::Stage(Stage::ToSend), &none), None);
        assert!(
            slice_sql(Slice::Stage(Stage::ToAnswer), &none)
                .is_some_and(|s| s.contains("sources_state IS NULL OR"))
        );
        assert!(
            slice_sql(Slice::Stage(Stage::ToSend), &all)
                .is_some_and(|s| s.ends_with("sources_state IS NULL"))
        );
        let to_answer = slice_sql(Slice::Stage(Stage::ToAnswer), &some).unwrap_or_default();
        assert!(to_answer.contains("'rectification'") && !to_answer.contains("'access'"));
        // Every slice keeps the open filter the partial indexes need.
        for stage in Stage::WORK {
            assert!(slice_sql(Slice::Stage(stage), &some).is_some_and(|s| s.starts_with(OPEN_SQL)));
        }
    }
}
