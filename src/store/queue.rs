//! The team's queue: open requests by stage ([`Slice`]), ordered by due date (overdue first)
//! or by date of receipt, filtered, paged by keyset so that page 1,000 costs what page 1
//! does; and how many requests each stage holds, counted from the index up to a cap so that
//! the tabs cost the same with a hundred open requests or two hundred thousand.

use chrono::NaiveDate;
use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Date, Text};

use super::DbConn;
use super::requests::RequestRow;
use super::schema::requests;
use crate::domain::RequestKind;
use crate::domain::stage::Stage;

pub const OPEN: [&str; 4] = ["new", "verifying", "in_progress", "on_hold"];
/// [`OPEN`] as the migrations' partial indexes spell it.
pub(crate) const OPEN_SQL: &str = "status IN ('new', 'verifying', 'in_progress', 'on_hold')";

/// The filter "the request is open", written into the SQL, not bound: only then can SQLite
/// see that the partial indexes over open requests (requests_open_due,
/// requests_open_kind_due, requests_open_stage) apply, instead of walking every request.
/// Every query over open requests uses it.
pub fn is_open() -> diesel::expression::SqlLiteral<Bool> {
    sql::<Bool>(OPEN_SQL)
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

/// How a slice's columns are spelt in its SQL. [`Columns::Plain`] lets the planner choose any
/// index over open requests (the due order's, the stage tabs'). [`Columns::Plus`], SQLite only,
/// writes `+status` and `+sources_state`: no index can look them up, so the only index whose
/// condition the query matches is requests_open_received, spelt the same way, and SQLite
/// walks it in receipt order instead of sorting every open request (see that migration).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Columns {
    Plain,
    Plus,
}

impl Columns {
    fn open(self) -> String {
        match self {
            Columns::Plain => OPEN_SQL.into(),
            Columns::Plus => format!("+{OPEN_SQL}"),
        }
    }

    fn col(self, name: &str) -> String {
        match self {
            Columns::Plain => name.into(),
            Columns::Plus => format!("+{name}"),
        }
    }
}

/// The SQL of a slice, over constants only (statuses, stored states, kinds), so that the
/// planner sees which partial index applies; `None`: the slice is empty by definition.
fn slice_sql(slice: Slice, served: &Served, cols: Columns) -> Option<String> {
    let open = cols.open();
    let status = cols.col("status");
    let state = cols.col("sources_state");
    let stage = match slice {
        Slice::Open => return Some(open),
        Slice::Actionable => return Some(format!("{open} AND {status} <> 'new'")),
        Slice::OverdueOn(_) => {
            return Some(format!(
                "{open} AND {status} <> 'new' AND {} IS NULL",
                cols.col("paused_since")
            ));
        }
        Slice::Stage(stage) => stage,
    };
    let in_progress = format!("{status} = 'in_progress'");
    let cond = match stage {
        Stage::Unconfirmed => format!("{status} = 'new'"),
        Stage::ToVerify => format!("{status} = 'verifying'"),
        Stage::Waiting => format!("{status} = 'on_hold'"),
        Stage::Closed => return None,
        Stage::Gathering => format!("{in_progress} AND {state} = 'pending'"),
        Stage::ToSend if served.0.is_empty() => return None,
        Stage::ToSend if served.all() => format!("{in_progress} AND {state} IS NULL"),
        Stage::ToSend => format!(
            "{in_progress} AND {state} IS NULL AND {}",
            served.kinds_sql(true)
        ),
        Stage::ToAnswer if served.0.is_empty() => {
            format!("{in_progress} AND ({state} IS NULL OR {state} = 'done')")
        }
        Stage::ToAnswer if served.all() => format!("{in_progress} AND {state} = 'done'"),
        Stage::ToAnswer => format!(
            "{in_progress} AND ({state} = 'done' OR ({state} IS NULL AND {}))",
            served.kinds_sql(false)
        ),
    };
    Some(format!("{open} AND {cond}"))
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

fn scoped(q: Boxed<'_>, assignee: Assignee, cols: Columns) -> Boxed<'_> {
    if cols == Columns::Plus {
        return match assignee {
            Assignee::Anyone => q,
            Assignee::Unassigned => q.filter(sql::<Bool>("+assignee_id IS NULL")),
            Assignee::User(id) => q.filter(sql::<Bool>("+assignee_id = ").bind::<BigInt, _>(id)),
            Assignee::MineOrUnassigned(id) => q.filter(
                sql::<Bool>("(+assignee_id = ")
                    .bind::<BigInt, _>(id)
                    .sql(" OR +assignee_id IS NULL)"),
            ),
        };
    }
    match assignee {
        Assignee::Anyone => q,
        Assignee::Unassigned => q.filter(requests::assignee_id.is_null()),
        Assignee::User(id) => q.filter(requests::assignee_id.eq(id)),
        Assignee::MineOrUnassigned(id) => q.filter(
            requests::assignee_id
                .eq(id)
                .or(requests::assignee_id.is_null()),
        ),
    }
}

fn sliced<'a>(q: Boxed<'a>, slice: Slice, served: &Served, cols: Columns) -> Option<Boxed<'a>> {
    let cond = slice_sql(slice, served, cols)?;
    let mut q = q.filter(sql::<Bool>(&cond));
    if let Slice::OverdueOn(today) = slice {
        q = match cols {
            Columns::Plain => q.filter(requests::due_on.lt(today)),
            Columns::Plus => q.filter(sql::<Bool>("+due_on < ").bind::<Date, _>(today)),
        };
    }
    Some(q)
}

/// The requests of a page, filtered, in no order yet; `None`: none can match.
fn filtered<'a>(f: &'a QueueFilter, cols: Columns, limit: i64) -> Option<Boxed<'a>> {
    let mut q = sliced(
        requests::table.limit(limit).into_boxed(),
        f.slice,
        &f.served,
        cols,
    )?;
    match cols {
        Columns::Plain => {
            if let Some(kind) = &f.kind {
                q = q.filter(requests::kind.eq(kind));
            }
            if let Some(profile) = &f.profile {
                q = q.filter(requests::profile.eq(profile));
            }
            if let Some(by) = f.due_by {
                q = q.filter(requests::due_on.le(by));
            }
        }
        Columns::Plus => {
            // `kind || ''`: the kind read from requests_open_received, not looked up in
            // the kind's index and then sorted.
            if let Some(kind) = &f.kind {
                q = q.filter(sql::<Bool>("(kind || '') = ").bind::<Text, _>(kind));
            }
            if let Some(profile) = &f.profile {
                q = q.filter(sql::<Bool>("+profile = ").bind::<Text, _>(profile));
            }
            if let Some(by) = f.due_by {
                q = q.filter(sql::<Bool>("+due_on <= ").bind::<Date, _>(by));
            }
        }
    }
    // A search by address stays on the address's index, whatever the order: it finds a
    // handful of requests, which are then sorted.
    if let Some(email) = &f.email {
        q = q.filter(requests::requester_email.eq(email));
    }
    Some(scoped(q, f.assignee, cols))
}

type Page = Vec<(RequestRow, Option<String>)>;

/// One page of the queue, each request with its stored `sources_state`.
pub fn page(conn: &mut DbConn, f: &QueueFilter) -> QueryResult<Page> {
    let select = (RequestRow::as_select(), requests::sources_state);
    match f.sort {
        Sort::Due => {
            let Some(mut q) = filtered(f, Columns::Plain, f.limit) else {
                return Ok(Vec::new());
            };
            if let Some((date, id)) = f.after {
                q = q.filter(
                    requests::due_on
                        .gt(date)
                        .or(requests::due_on.eq(date).and(requests::id.gt(id))),
                );
            }
            q.order((requests::due_on.asc(), requests::id.asc()))
                .select(select)
                .load(conn)
        }
        Sort::Received => {
            let cols = match conn {
                DbConn::Sqlite(_) => Columns::Plus,
                DbConn::Postgres(_) => Columns::Plain,
            };
            let order = (requests::received_on.desc(), requests::id.desc());
            let Some((day, id)) = f.after else {
                let Some(q) = filtered(f, cols, f.limit) else {
                    return Ok(Vec::new());
                };
                return q.order(order).select(select).load(conn);
            };
            // Two seeks rather than `received_on < day OR (received_on = day AND id < id)`:
            // neither engine seeks to (day, id) through that OR, and on a day with many
            // requests every later page read again all the rows of that day before it.
            let Some(same_day) = filtered(f, cols, f.limit) else {
                return Ok(Vec::new());
            };
            let mut rows: Page = same_day
                .filter(requests::received_on.eq(day))
                .filter(requests::id.lt(id))
                .order(order)
                .select(select)
                .load(conn)?;
            let left = f.limit - rows.len() as i64;
            if left > 0
                && let Some(before) = filtered(f, cols, left)
            {
                rows.extend(
                    before
                        .filter(requests::received_on.lt(day))
                        .order(order)
                        .select(select)
                        .load::<(RequestRow, Option<String>)>(conn)?,
                );
            }
            Ok(rows)
        }
    }
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
    let Some(q) = sliced(q, slice, served, Columns::Plain) else {
        return Ok(0);
    };
    let ids: Vec<i64> = scoped(q, assignee, Columns::Plain)
        .select(requests::id)
        .load(conn)?;
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
        assert_eq!(
            slice_sql(Slice::Stage(Stage::ToSend), &none, Columns::Plain),
            None
        );
        assert!(
            slice_sql(Slice::Stage(Stage::ToAnswer), &none, Columns::Plain)
                .is_some_and(|s| s.contains("sources_state IS NULL OR"))
        );
        assert!(
            slice_sql(Slice::Stage(Stage::ToSend), &all, Columns::Plain)
                .is_some_and(|s| s.ends_with("sources_state IS NULL"))
        );
        let to_answer =
            slice_sql(Slice::Stage(Stage::ToAnswer), &some, Columns::Plain).unwrap_or_default();
        assert!(to_answer.contains("'rectification'") && !to_answer.contains("'access'"));
        // Every slice keeps the open filter the partial indexes need.
        for stage in Stage::WORK {
            assert!(
                slice_sql(Slice::Stage(stage), &some, Columns::Plain)
                    .is_some_and(|s| s.starts_with(OPEN_SQL))
            );
        }
    }

    #[test]
    fn sorted_by_receipt_on_sqlite_no_index_but_the_receipt_one_can_apply() {
        let some = Served(vec![RequestKind::Access]);
        let slices = Stage::WORK
            .iter()
            .map(|s| Slice::Stage(*s))
            .chain([Slice::Open, Slice::Actionable]);
        for slice in slices {
            let Some(cond) = slice_sql(slice, &some, Columns::Plus) else {
                continue;
            };
            // Every column a stage reads is spelt unindexable...
            let bare = cond
                .replace("+status", "")
                .replace("+sources_state", "")
                .replace("kind || ''", "");
            assert!(
                !bare.contains("status")
                    && !bare.contains("sources_state")
                    && !bare.contains("kind"),
                "{cond}"
            );
            // ...and the open filter as the index's condition spells it, or SQLite would not
            // see that the index applies.
            assert!(cond.starts_with(&Columns::Plus.open()), "{cond}");
        }
        let migration =
            include_str!("../../migrations/sqlite/2026-12-01-000017_queue_received/up.sql");
        assert!(migration.contains(&format!("WHERE {};", Columns::Plus.open())));
    }
}
