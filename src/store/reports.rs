//! What the Reports page reads: requests received and closed per month, answered requests
//! by the days they took, open requests by the time they have left (all from
//! `report_counts`, which triggers keep current: a few hundred rows whatever the number of
//! requests), the overdue ones, and the register of requests, page by page.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Date, Integer, Text, Timestamp};

use super::DbConn;
use super::schema::{request_events, requests};

/// How many requests fall in one month under one key (a kind, or an outcome).
#[derive(Debug, Clone, PartialEq, Eq, QueryableByName)]
pub struct MonthCount {
    /// `YYYY-MM`.
    #[diesel(sql_type = Text)]
    pub month: String,
    #[diesel(sql_type = Text)]
    pub key: String,
    #[diesel(sql_type = BigInt)]
    pub count: i64,
}

/// How many answered requests took `days` days from receipt to closing, in time
/// (`on_time` 1) or not (0).
#[derive(Debug, Clone, PartialEq, Eq, QueryableByName)]
pub struct AnsweredDays {
    #[diesel(sql_type = Integer)]
    pub days: i32,
    #[diesel(sql_type = Integer)]
    pub on_time: i32,
    #[diesel(sql_type = BigInt)]
    pub count: i64,
}

/// `report_counts` summed over its shards, for one series and the months
/// `from <= period < until` (`YYYY-MM`), by month and key. Rows whose count fell to 0 are
/// left out, as a count over the requests would never show them.
fn counts_per_month(
    conn: &mut DbConn,
    series: &str,
    from: &str,
    until: &str,
) -> QueryResult<Vec<MonthCount>> {
    let sql = format!(
        "SELECT period AS month, key, CAST(SUM(count) AS BIGINT) AS count FROM report_counts \
         WHERE series = '{series}' AND period >= {} AND period < {} \
         GROUP BY period, key HAVING SUM(count) > 0 ORDER BY 1, 2",
        placeholder(conn, 1),
        placeholder(conn, 2)
    );
    crate::per_backend!(conn, |c| diesel::sql_query(&sql)
        .bind::<Text, _>(from)
        .bind::<Text, _>(until)
        .load(c))
}

fn placeholder(conn: &DbConn, n: usize) -> String {
    match conn {
        DbConn::Sqlite(_) => "?".into(),
        DbConn::Postgres(_) => format!("${n}"),
    }
}

/// Requests received per month and kind, for the months `from <= month < until`. The month
/// is the one of the local day of receipt, the anchor of the deadline.
pub fn received_per_month(
    conn: &mut DbConn,
    from: &str,
    until: &str,
) -> QueryResult<Vec<MonthCount>> {
    counts_per_month(conn, "received", from, until)
}

/// Requests closed per month and outcome (the terminal status), for the months
/// `from <= month < until` of `closed_at`, which is UTC.
pub fn closed_per_month(
    conn: &mut DbConn,
    from: &str,
    until: &str,
) -> QueryResult<Vec<MonthCount>> {
    counts_per_month(conn, "closed", from, until)
}

/// Answered (fulfilled or rejected) requests closed in the months `from <= month < until`,
/// by days from receipt to closing and whether in time. Withdrawn and expired requests are
/// left out: nobody owed them an answer, and counting them as "in time" would flatter the
/// on-time rate.
pub fn answered_days(conn: &mut DbConn, from: &str, until: &str) -> QueryResult<Vec<AnsweredDays>> {
    let sql = format!(
        "SELECT days, on_time, CAST(SUM(count) AS BIGINT) AS count FROM report_counts \
         WHERE series = 'closed' AND key IN ('fulfilled', 'rejected') AND days >= 0 \
         AND period >= {} AND period < {} \
         GROUP BY days, on_time HAVING SUM(count) > 0 ORDER BY 1, 2",
        placeholder(conn, 1),
        placeholder(conn, 2)
    );
    crate::per_backend!(conn, |c| diesel::sql_query(&sql)
        .bind::<Text, _>(from)
        .bind::<Text, _>(until)
        .load(c))
}

/// The facts of a closed request its deadline and time to close are computed from.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = requests)]
pub struct ClosedFacts {
    pub status: String,
    pub profile: String,
    pub received_on: NaiveDate,
    pub closed_at: Option<NaiveDateTime>,
    pub paused_days: i32,
    pub extension_months: i32,
    pub extension_days: i32,
    /// As stamped at closing (none on a request closed before the stamps existed).
    pub closed_on: Option<NaiveDate>,
    pub on_time: Option<bool>,
}

/// Up to `limit` closed requests not yet stamped with the day they were closed.
/// On PostgreSQL the rows are locked, and those another transaction holds are skipped.
pub fn unstamped_closed(conn: &mut DbConn, limit: i64) -> QueryResult<Vec<(i64, ClosedFacts)>> {
    macro_rules! page {
        () => {
            requests::table
                .filter(requests::closed_at.is_not_null())
                .filter(requests::closed_on.is_null())
                .order(requests::id.asc())
                .limit(limit)
                .select((requests::id, ClosedFacts::as_select()))
        };
    }
    match conn {
        DbConn::Sqlite(c) => page!().load(c),
        DbConn::Postgres(c) => page!().for_update().skip_locked().load(c),
    }
}

pub fn stamp_closed(
    conn: &mut DbConn,
    id: i64,
    closed_on: NaiveDate,
    on_time: Option<bool>,
) -> QueryResult<usize> {
    diesel::update(requests::table.find(id))
        .set((
            requests::closed_on.eq(Some(closed_on)),
            requests::on_time.eq(on_time),
        ))
        .execute(conn)
}

/// Open requests by days left until their due date.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OpenCounts {
    pub overdue: i64,
    pub within_7: i64,
    pub within_14: i64,
    pub within_30: i64,
    pub later: i64,
    /// On hold with the clock stopped: their due date moves every day.
    pub stopped: i64,
}

/// Counts open requests by the stored due date, which is exact while the clock runs (it
/// holds the extension and the pauses that are over): a row per due day.
pub fn open_by_days_left(conn: &mut DbConn, today: NaiveDate) -> QueryResult<OpenCounts> {
    let per_day: Vec<MonthCount> = diesel::sql_query(
        "SELECT period AS month, '' AS key, CAST(SUM(count) AS BIGINT) AS count \
         FROM report_counts WHERE series = 'open' GROUP BY period HAVING SUM(count) > 0",
    )
    .load(conn)?;
    let mut open = OpenCounts::default();
    for day in per_day {
        let Ok(due) = NaiveDate::parse_from_str(&day.month, "%Y-%m-%d") else {
            open.stopped += day.count;
            continue;
        };
        let bucket = match (due - today).num_days() {
            i64::MIN..=-1 => &mut open.overdue,
            0..=7 => &mut open.within_7,
            8..=14 => &mut open.within_14,
            15..=30 => &mut open.within_30,
            _ => &mut open.later,
        };
        *bucket += day.count;
    }
    Ok(open)
}

/// Deletes the rows whose count fell to 0 (the due days of requests long closed, mostly), so
/// that what the page reads stays as small as what is open and recent.
pub fn drop_empty(conn: &mut DbConn) -> QueryResult<usize> {
    super::write_tx(conn, |conn| {
        diesel::sql_query("DELETE FROM report_counts WHERE count = 0").execute(conn)
    })
}

/// The first day of receipt and the last day anything happened (received or closed), over
/// every request: the span a full check covers.
pub fn span(conn: &mut DbConn) -> QueryResult<Option<(NaiveDate, NaiveDate)>> {
    use diesel::dsl::{max, min};
    let (first, last): (Option<NaiveDate>, Option<NaiveDate>) = requests::table
        .select((min(requests::received_on), max(requests::received_on)))
        .first(conn)?;
    let closed: Option<NaiveDateTime> = requests::table
        .select(max(requests::closed_at))
        .first(conn)?;
    Ok(first.zip(last).map(|(first, last)| {
        let last = closed.map_or(last, |c| last.max(c.date()));
        (first, last)
    }))
}

/// Counts every request again into `report_counts`, as the triggers would have: after a
/// bulk load with the triggers off, or when a check finds the counts wrong. Writers wait
/// meanwhile (SQLite's write lock; a SHARE lock on PostgreSQL), so no change slips between
/// the count and the swap.
pub fn rebuild(conn: &mut DbConn) -> QueryResult<()> {
    // The shard as the migrations' triggers write it: one on SQLite, whose writers take
    // turns anyway.
    let (lock, month_of, day_of, days_between, shard) = match conn {
        DbConn::Sqlite(_) => (
            None,
            "substr({}, 1, 7)",
            "{}",
            "CAST(julianday(closed_on) - julianday(received_on) AS INTEGER)",
            "0",
        ),
        DbConn::Postgres(_) => (
            Some("LOCK TABLE requests IN SHARE MODE"),
            "to_char({}, 'YYYY-MM')",
            "to_char({}, 'YYYY-MM-DD')",
            "closed_on - received_on",
            "CAST(id % 16 AS INTEGER)",
        ),
    };
    let answered = "closed_on IS NOT NULL AND status IN ('fulfilled', 'rejected')";
    let insert = "INSERT INTO report_counts (series, period, key, days, on_time, shard, count)";
    let received_month = month_of.replace("{}", "received_on");
    let closed_month = month_of.replace("{}", "closed_at");
    let due_day = day_of.replace("{}", "due_on");
    let statements = [
        "DELETE FROM report_counts".to_string(),
        format!(
            "{insert} SELECT 'received', {received_month}, kind, -1, -1, {shard}, COUNT(*) \
             FROM requests GROUP BY 2, 3, 6"
        ),
        format!(
            "{insert} SELECT 'closed', {closed_month}, status, \
             CASE WHEN {answered} THEN {days_between} ELSE -1 END, \
             CASE WHEN {answered} THEN (CASE WHEN coalesce(on_time, FALSE) THEN 1 ELSE 0 END) ELSE -1 END, \
             {shard}, COUNT(*) FROM requests WHERE closed_at IS NOT NULL \
             GROUP BY 2, 3, 4, 5, 6"
        ),
        format!(
            "{insert} SELECT 'open', CASE WHEN paused_since IS NULL THEN {due_day} ELSE 'stopped' END, '', -1, -1, \
             {shard}, COUNT(*) FROM requests \
             WHERE {open} GROUP BY 2, 6",
            open = super::queue::OPEN_SQL
        ),
    ];
    super::write_tx(conn, |conn| {
        if let Some(lock) = lock {
            diesel::sql_query(lock).execute(conn)?;
        }
        for sql in &statements {
            diesel::sql_query(sql).execute(conn)?;
        }
        Ok(())
    })
}

/// The same figures counted from every request: slow at a million requests, what the kept
/// counts must always equal (tests, and a look when they are in doubt).
pub mod recount {
    use super::*;

    /// Requests received per month and kind, for `from <= received_on < until`.
    pub fn received_per_month(
        conn: &mut DbConn,
        from: NaiveDate,
        until: NaiveDate,
    ) -> QueryResult<Vec<MonthCount>> {
        let sql = per_month_sql(conn, "received_on", "kind");
        crate::per_backend!(conn, |c| diesel::sql_query(&sql)
            .bind::<Date, _>(from)
            .bind::<Date, _>(until)
            .load(c))
    }

    /// Requests closed per month and outcome, for `from <= closed_at < until`.
    pub fn closed_per_month(
        conn: &mut DbConn,
        from: NaiveDateTime,
        until: NaiveDateTime,
    ) -> QueryResult<Vec<MonthCount>> {
        let sql = per_month_sql(conn, "closed_at", "status");
        crate::per_backend!(conn, |c| diesel::sql_query(&sql)
            .bind::<Timestamp, _>(from)
            .bind::<Timestamp, _>(until)
            .load(c))
    }

    /// Counts per month of `column` and `key`, between two bound bounds. SQLite keeps
    /// dates as 'YYYY-MM-DD…' text, PostgreSQL as dates: one month expression each.
    fn per_month_sql(conn: &DbConn, column: &str, key: &str) -> String {
        let (month, from, until) = match conn {
            DbConn::Sqlite(_) => (format!("substr({column}, 1, 7)"), "?", "?"),
            DbConn::Postgres(_) => (format!("to_char({column}, 'YYYY-MM')"), "$1", "$2"),
        };
        format!(
            "SELECT {month} AS month, {key} AS key, COUNT(*) AS count \
             FROM requests WHERE {column} >= {from} AND {column} < {until} \
             GROUP BY 1, 2 ORDER BY 1, 2"
        )
    }

    /// The requests answered (fulfilled or rejected) in `from <= closed_at < until`.
    pub fn answered_between(
        conn: &mut DbConn,
        from: NaiveDateTime,
        until: NaiveDateTime,
    ) -> QueryResult<Vec<ClosedFacts>> {
        use crate::domain::status::Status;
        requests::table
            .filter(requests::closed_at.ge(from))
            .filter(requests::closed_at.lt(until))
            .filter(
                requests::status.eq_any([Status::Fulfilled.as_str(), Status::Rejected.as_str()]),
            )
            .select(ClosedFacts::as_select())
            .load(conn)
    }

    /// Open requests by days left, counted range by range over the open requests.
    pub fn open_by_days_left(conn: &mut DbConn, today: NaiveDate) -> QueryResult<OpenCounts> {
        let days = chrono::Duration::days;
        let running = || {
            requests::table
                .filter(crate::store::queue::is_open())
                .filter(requests::paused_since.is_null())
                .into_boxed()
        };
        let between = |conn: &mut DbConn, from: Option<NaiveDate>, to: Option<NaiveDate>| {
            let mut q = running();
            if let Some(from) = from {
                q = q.filter(requests::due_on.ge(from));
            }
            if let Some(to) = to {
                q = q.filter(requests::due_on.le(to));
            }
            q.count().get_result::<i64>(conn)
        };
        Ok(OpenCounts {
            overdue: between(conn, None, today.pred_opt())?,
            within_7: between(conn, Some(today), Some(today + days(7)))?,
            within_14: between(conn, Some(today + days(8)), Some(today + days(14)))?,
            within_30: between(conn, Some(today + days(15)), Some(today + days(30)))?,
            later: between(conn, Some(today + days(31)), None)?,
            stopped: requests::table
                .filter(crate::store::queue::is_open())
                .filter(requests::paused_since.is_not_null())
                .count()
                .get_result(conn)?,
        })
    }
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = requests)]
pub struct OverdueRow {
    pub id: i64,
    pub ref_year: i32,
    pub kind: String,
    pub due_on: NaiveDate,
    pub assignee_id: Option<i64>,
}

/// Open requests past their due date with the clock running, most overdue first.
pub fn overdue(conn: &mut DbConn, today: NaiveDate, limit: i64) -> QueryResult<Vec<OverdueRow>> {
    requests::table
        .filter(super::queue::is_open())
        .filter(requests::paused_since.is_null())
        .filter(requests::due_on.lt(today))
        .order((requests::due_on.asc(), requests::id.asc()))
        .limit(limit)
        .select(OverdueRow::as_select())
        .load(conn)
}

/// One line of the register: the columns it shows and those its deadline is computed from.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = requests)]
pub struct RegisterRow {
    pub id: i64,
    pub ref_year: i32,
    pub kind: String,
    pub status: String,
    pub channel: String,
    pub profile: String,
    pub received_at: NaiveDateTime,
    pub received_on: NaiveDate,
    pub paused_days: i32,
    pub paused_since: Option<NaiveDate>,
    pub extension_months: i32,
    pub extension_days: i32,
    pub verified_at: Option<NaiveDateTime>,
    pub verified_method: Option<String>,
    pub closed_at: Option<NaiveDateTime>,
    pub reject_ground: Option<String>,
    pub subject_name: Option<String>,
}

/// A page of the register: requests received in `from <= received_on < until`, in order
/// of receipt, after the keyset `after` (received_on, id), so pages neither skip nor repeat
/// a row. A later page is two seeks on the index (received_on, id): the rest of the last
/// day, then the days after. One condition `received_on >= day AND (received_on > day OR
/// id > last)` made both engines read the whole day again on every page, so a million
/// requests took minutes instead of seconds.
pub fn register_page(
    conn: &mut DbConn,
    from: NaiveDate,
    until: NaiveDate,
    after: Option<(NaiveDate, i64)>,
    limit: i64,
) -> QueryResult<Vec<RegisterRow>> {
    let in_order = || {
        requests::table
            .order((requests::received_on.asc(), requests::id.asc()))
            .select(RegisterRow::as_select())
            .into_boxed()
    };
    let Some((day, id)) = after else {
        return in_order()
            .filter(requests::received_on.ge(from))
            .filter(requests::received_on.lt(until))
            .limit(limit)
            .load(conn);
    };
    let mut rows = in_order()
        .filter(requests::received_on.eq(day))
        .filter(requests::id.gt(id))
        .limit(limit)
        .load(conn)?;
    let left = limit - rows.len() as i64;
    if left > 0 {
        rows.extend(
            in_order()
                .filter(requests::received_on.gt(day))
                .filter(requests::received_on.lt(until))
                .limit(left)
                .load(conn)?,
        );
    }
    Ok(rows)
}

/// An extension as the timeline holds it: the reason (the note) and the new due date (in
/// the event's data).
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = request_events)]
pub struct ExtensionEvent {
    pub request_id: i64,
    pub note: Option<String>,
    pub data: String,
}

pub fn extensions_for(conn: &mut DbConn, request_ids: &[i64]) -> QueryResult<Vec<ExtensionEvent>> {
    request_events::table
        .filter(request_events::request_id.eq_any(request_ids))
        .filter(request_events::kind.eq("extend"))
        .order((request_events::request_id, request_events::id))
        .select(ExtensionEvent::as_select())
        .load(conn)
}
