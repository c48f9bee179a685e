//! The Reports page's figures: requests received per month by kind, closed per month by
//! outcome, how often and how fast answered requests were answered, and open requests by
//! the time they have left. They are read from `report_counts`, which the database's
//! triggers keep current in the transaction of every change to a request, so the page
//! costs the same with a thousand requests or a million; [`recount`] computes the same
//! figures from every request, for the tests that hold the two equal.

use chrono::NaiveDate;
use diesel::QueryResult;

use crate::config::Law;
use crate::domain::deadline::{Pauses, Period};
use crate::domain::status::Status;
use crate::store::DbConn;
use crate::store::reports::{self as rows, AnsweredDays, ClosedFacts, MonthCount, OpenCounts};

/// How fast and how often in time answered (fulfilled or rejected) requests were answered.
#[derive(Debug, Clone, PartialEq)]
pub struct Timeliness {
    pub closed: usize,
    pub on_time: usize,
    /// Calendar days from receipt to closing.
    pub median_days: Option<f64>,
    pub p90_days: Option<i64>,
}

impl Timeliness {
    /// From how many answered requests took each number of days, in time or not.
    pub fn from_days(counts: &[AnsweredDays]) -> Timeliness {
        let mut by_days: Vec<(i64, usize)> = counts
            .iter()
            .map(|c| (i64::from(c.days), usize::try_from(c.count).unwrap_or(0)))
            .collect();
        by_days.sort_unstable();
        let closed: usize = by_days.iter().map(|(_, n)| n).sum();
        let on_time = counts
            .iter()
            .filter(|c| c.on_time == 1)
            .map(|c| usize::try_from(c.count).unwrap_or(0))
            .sum();
        // The value at a 1-based rank of the sorted list the counts stand for.
        let at_rank = |rank: usize| {
            let mut seen = 0;
            by_days.iter().find_map(|&(days, n)| {
                seen += n;
                (seen >= rank).then_some(days)
            })
        };
        let median_days = match closed {
            0 => None,
            n if n % 2 == 1 => at_rank(n / 2 + 1).map(|d| d as f64),
            n => match (at_rank(n / 2), at_rank(n / 2 + 1)) {
                (Some(a), Some(b)) => Some((a + b) as f64 / 2.0),
                _ => None,
            },
        };
        let p90_days = (closed > 0)
            .then(|| at_rank((90 * closed).div_ceil(100).max(1)))
            .flatten();
        Timeliness {
            closed,
            on_time,
            median_days,
            p90_days,
        }
    }
}

/// The day a request was closed (in the law's time zone) and, for an answered one, whether
/// on or before its due date: the deadline as it stood on that day, by the law the request
/// page uses. Stored with the closing (`requests.closed_on`, `on_time`), where the
/// triggers read them.
pub fn closing_stamp(law: &Law, facts: &ClosedFacts) -> Option<(NaiveDate, Option<bool>)> {
    let at = facts.closed_at?;
    let closed_on = law.today(at.and_utc());
    let answered = [Status::Fulfilled.as_str(), Status::Rejected.as_str()];
    if !answered.contains(&facts.status.as_str()) {
        return Some((closed_on, None));
    }
    let extension = Period {
        months: u32::try_from(facts.extension_months).unwrap_or(0),
        days: u32::try_from(facts.extension_days).unwrap_or(0),
    };
    let pauses = Pauses {
        closed_days: i64::from(facts.paused_days),
        open_since: None,
    };
    let due = super::deadline_for(
        law,
        &facts.profile,
        facts.received_on,
        extension,
        &pauses,
        closed_on,
    );
    Some((closed_on, Some(closed_on <= due.due_on)))
}

/// What the page shows for a range of whole months, `first..until` (first days of months).
#[derive(Debug, Clone, PartialEq)]
pub struct Figures {
    pub received: Vec<MonthCount>,
    pub closed: Vec<MonthCount>,
    pub timeliness: Timeliness,
    pub open: OpenCounts,
}

/// The figures, from the counts the triggers keep: a few hundred rows read.
pub fn figures(
    conn: &mut DbConn,
    first: NaiveDate,
    until: NaiveDate,
    today: NaiveDate,
) -> QueryResult<Figures> {
    let (from, to) = (month(first), month(until));
    Ok(Figures {
        received: rows::received_per_month(conn, &from, &to)?,
        closed: rows::closed_per_month(conn, &from, &to)?,
        timeliness: Timeliness::from_days(&rows::answered_days(conn, &from, &to)?),
        open: rows::open_by_days_left(conn, today)?,
    })
}

/// The same figures from every request of the range: what the counts must always equal. An
/// answer not stamped yet is judged by the law as configured now (the counts leave it out
/// until [`stamp_closed`] stamps it).
pub fn recount(
    conn: &mut DbConn,
    law: &Law,
    first: NaiveDate,
    until: NaiveDate,
    today: NaiveDate,
) -> QueryResult<Figures> {
    let instant = |d: NaiveDate| d.and_time(chrono::NaiveTime::MIN);
    let (start, end) = (instant(first), instant(until));
    let mut days: Vec<AnsweredDays> = Vec::new();
    for facts in rows::recount::answered_between(conn, start, end)? {
        // Whether an answer came in time was decided the day it was given, by the deadline
        // law of that day; a later change of holidays or profiles does not decide it again.
        let stamp = match (facts.closed_on, facts.on_time) {
            (Some(closed_on), Some(on_time)) => Some((closed_on, Some(on_time))),
            _ => closing_stamp(law, &facts),
        };
        let Some((closed_on, Some(on_time))) = stamp else {
            continue;
        };
        days.push(AnsweredDays {
            days: i32::try_from((closed_on - facts.received_on).num_days()).unwrap_or(i32::MAX),
            on_time: i32::from(on_time),
            count: 1,
        });
    }
    Ok(Figures {
        received: rows::recount::received_per_month(conn, first, until)?,
        closed: rows::recount::closed_per_month(conn, start, end)?,
        timeliness: Timeliness::from_days(&days),
        open: rows::recount::open_by_days_left(conn, today)?,
    })
}

/// Stamps requests closed without `closed_on` (before the counts existed, or by a node of
/// the previous release during a rolling upgrade), so their answers count in the
/// timeliness figures. Run at start and by the nightly purge; a page at a time, each its
/// own transaction. Returns how many were stamped.
pub fn stamp_closed(conn: &mut DbConn, law: &Law) -> QueryResult<usize> {
    let mut stamped = 0;
    loop {
        // The page is taken inside its transaction and, on PostgreSQL, without the rows
        // another transaction holds (a node closing one, another node stamping): waiting
        // for one of them while holding counts it needs would be a deadlock.
        let page = crate::store::write_tx(conn, |conn| {
            let page = rows::unstamped_closed(conn, 500)?;
            for (id, facts) in &page {
                if let Some((closed_on, on_time)) = closing_stamp(law, facts) {
                    rows::stamp_closed(conn, *id, closed_on, on_time)?;
                }
            }
            Ok::<_, diesel::result::Error>(page.len())
        })?;
        if page == 0 {
            return Ok(stamped);
        }
        stamped += page;
    }
}

/// The kept figures beside a recount, over every month any request was received or closed
/// in (`None`: no request at all). Slow at a million requests: for `dsar reports check`.
pub fn check(conn: &mut DbConn, law: &Law, today: NaiveDate) -> QueryResult<Option<Check>> {
    use chrono::{Datelike, Months};
    let Some((first, last)) = rows::span(conn)? else {
        return Ok(None);
    };
    let first = first.with_day(1).unwrap_or(first);
    let until = last.with_day(1).unwrap_or(last) + Months::new(1);
    // Both read from one snapshot, so a filing meanwhile is in both or in neither.
    diesel::Connection::transaction(conn, |conn| {
        if let DbConn::Postgres(_) = conn {
            diesel::RunQueryDsl::execute(
                diesel::sql_query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY"),
                conn,
            )?;
        }
        Ok(Some(Check {
            first,
            until,
            kept: figures(conn, first, until, today)?,
            recount: recount(conn, law, first, until, today)?,
        }))
    })
}

pub struct Check {
    pub first: NaiveDate,
    pub until: NaiveDate,
    pub kept: Figures,
    pub recount: Figures,
}

/// Stamps what is unstamped, then counts every request again into the kept counts.
pub fn rebuild(conn: &mut DbConn, law: &Law) -> QueryResult<usize> {
    let stamped = stamp_closed(conn, law)?;
    rows::rebuild(conn)?;
    Ok(stamped)
}

fn month(d: NaiveDate) -> String {
    d.format("%Y-%m").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn days(list: &[(i32, i32, i64)]) -> Vec<AnsweredDays> {
        list.iter()
            .map(|&(days, on_time, count)| AnsweredDays {
                days,
                on_time,
                count,
            })
            .collect()
    }

    #[test]
    fn median_and_nearest_rank_percentile_from_counts() {
        let none = Timeliness::from_days(&[]);
        assert_eq!(
            (none.closed, none.median_days, none.p90_days),
            (0, None, None)
        );
        // 3, 5, 10
        let t = Timeliness::from_days(&days(&[(10, 0, 1), (3, 1, 1), (5, 1, 1)]));
        assert_eq!((t.closed, t.on_time, t.median_days), (3, 2, Some(5.0)));
        assert_eq!(t.p90_days, Some(10));
        // 3, 5, 10, 20
        let t = Timeliness::from_days(&days(&[(3, 1, 1), (5, 1, 1), (10, 1, 1), (20, 0, 1)]));
        assert_eq!(t.median_days, Some(7.5));
        // 1..=10: the 90th percentile is the 9th value.
        let ten: Vec<(i32, i32, i64)> = (1..=10).map(|d| (d, 1, 1)).collect();
        assert_eq!(Timeliness::from_days(&days(&ten)).p90_days, Some(9));
        assert_eq!(Timeliness::from_days(&days(&[(4, 1, 1)])).p90_days, Some(4));
        // The same day in time for some, late for others (profiles differ): one value each.
        let t = Timeliness::from_days(&days(&[(30, 1, 2), (30, 0, 1), (31, 0, 1)]));
        assert_eq!((t.closed, t.on_time, t.median_days), (4, 2, Some(30.0)));
    }
}
