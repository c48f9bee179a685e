//! The jobs table: work the worker does later, enqueued in the same transaction as the
//! change that needs it. Claimed with `FOR UPDATE SKIP LOCKED` on PostgreSQL, so any number
//! of workers share one queue; on SQLite the immediate transaction makes one claimer at a time.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;

use super::schema::jobs;
use super::{DbConn, write_tx};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = jobs)]
pub struct JobRow {
    pub id: i64,
    pub kind: String,
    pub payload: String,
    pub status: String,
    pub run_at: NaiveDateTime,
    pub attempts: i32,
    pub max_attempts: i32,
    pub last_error: Option<String>,
    pub locked_until: Option<NaiveDateTime>,
    pub locked_by: Option<String>,
    pub dedup_key: Option<String>,
    pub created_at: NaiveDateTime,
    pub finished_at: Option<NaiveDateTime>,
}

pub const QUEUED: &str = "queued";
pub const RUNNING: &str = "running";
pub const DONE: &str = "done";
pub const DEAD: &str = "dead";

/// Enqueues a job; with a dedup key, a job already waiting under that key is kept instead.
pub fn enqueue(
    conn: &mut DbConn,
    kind: &str,
    payload: &str,
    run_at: NaiveDateTime,
    dedup_key: Option<&str>,
    now: NaiveDateTime,
) -> QueryResult<()> {
    if let Some(key) = dedup_key {
        let waiting: i64 = jobs::table
            .filter(jobs::dedup_key.eq(key))
            .count()
            .get_result(conn)?;
        if waiting > 0 {
            return Ok(());
        }
    }
    diesel::insert_into(jobs::table)
        .values((
            jobs::kind.eq(kind),
            jobs::payload.eq(payload),
            jobs::status.eq(QUEUED),
            jobs::run_at.eq(run_at),
            jobs::dedup_key.eq(dedup_key),
            jobs::created_at.eq(now),
        ))
        .execute(conn)
        .map(drop)
}

/// Enqueues a job that must run on its day whatever became of an earlier one under the same
/// key: a job still waiting is kept; one done or dead (its retries used up) is queued again
/// for `run_at`, so that a sweep can put back what was lost. The key is unique, so the row
/// is reused rather than doubled.
pub fn enqueue_again(
    conn: &mut DbConn,
    kind: &str,
    payload: &str,
    run_at: NaiveDateTime,
    key: &str,
    now: NaiveDateTime,
) -> QueryResult<()> {
    let requeued = diesel::update(
        jobs::table
            .filter(jobs::dedup_key.eq(key))
            .filter(jobs::status.eq_any([DONE, DEAD])),
    )
    .set((
        jobs::status.eq(QUEUED),
        jobs::payload.eq(payload),
        jobs::attempts.eq(0),
        jobs::run_at.eq(run_at),
        jobs::finished_at.eq(None::<NaiveDateTime>),
        jobs::last_error.eq(None::<String>),
    ))
    .execute(conn)?;
    if requeued > 0 {
        return Ok(());
    }
    enqueue(conn, kind, payload, run_at, Some(key), now)
}

/// Enqueues a job that something else refers to by its id (a run owned by its job); no
/// dedup key: ownership, not the key, says which job may act.
pub fn enqueue_owned(
    conn: &mut DbConn,
    kind: &str,
    payload: &str,
    now: NaiveDateTime,
) -> QueryResult<i64> {
    crate::per_backend!(conn, |c| diesel::insert_into(jobs::table)
        .values((
            jobs::kind.eq(kind),
            jobs::payload.eq(payload),
            jobs::status.eq(QUEUED),
            jobs::run_at.eq(now),
            jobs::created_at.eq(now),
        ))
        .returning(jobs::id)
        .get_result(c))
}

/// Which of these jobs are still waiting or running.
pub fn live_among(conn: &mut DbConn, ids: &[i64]) -> QueryResult<Vec<i64>> {
    jobs::table
        .filter(jobs::id.eq_any(ids))
        .filter(jobs::status.eq_any([QUEUED, RUNNING]))
        .select(jobs::id)
        .load(conn)
}

/// Whether a job under this key is waiting or running.
pub fn live_key(conn: &mut DbConn, dedup_key: &str) -> QueryResult<bool> {
    let n: i64 = jobs::table
        .filter(jobs::dedup_key.eq(dedup_key))
        .filter(jobs::status.eq_any([QUEUED, RUNNING]))
        .count()
        .get_result(conn)?;
    Ok(n > 0)
}

/// Ends a job, by id, if it is still waiting (it is no longer wanted).
pub fn cancel_id(conn: &mut DbConn, id: i64, now: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(jobs::table.find(id).filter(jobs::status.eq(QUEUED)))
        .set((
            jobs::status.eq(DONE),
            jobs::dedup_key.eq(None::<String>),
            jobs::finished_at.eq(now),
        ))
        .execute(conn)
}

/// Takes the next due job (or one whose holder's lease ran out) and leases it to `worker`.
pub fn claim(
    conn: &mut DbConn,
    worker: &str,
    now: NaiveDateTime,
    lease: Duration,
) -> QueryResult<Option<JobRow>> {
    write_tx(conn, |conn| {
        let due = jobs::status
            .eq(QUEUED)
            .and(jobs::run_at.le(now))
            .or(jobs::status.eq(RUNNING).and(jobs::locked_until.lt(now)));
        let id: Option<i64> = match conn {
            DbConn::Postgres(pg) => jobs::table
                .filter(due)
                .order(jobs::run_at.asc())
                .select(jobs::id)
                .for_update()
                .skip_locked()
                .first(pg)
                .optional()?,
            DbConn::Sqlite(_) => jobs::table
                .filter(due)
                .order(jobs::run_at.asc())
                .select(jobs::id)
                .first(conn)
                .optional()?,
        };
        let Some(id) = id else { return Ok(None) };
        crate::per_backend!(conn, |c| diesel::update(jobs::table.find(id))
            .set((
                jobs::status.eq(RUNNING),
                jobs::locked_until.eq(now + lease),
                jobs::locked_by.eq(worker),
                jobs::attempts.eq(jobs::attempts + 1),
            ))
            .returning(JobRow::as_returning())
            .get_result(c)
            .optional())
    })
}

/// Marks a job done, if this worker still holds it.
pub fn finish(
    conn: &mut DbConn,
    job: &JobRow,
    worker: &str,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    diesel::update(jobs::table.find(job.id).filter(jobs::locked_by.eq(worker)))
        .set((
            jobs::status.eq(DONE),
            jobs::finished_at.eq(now),
            jobs::locked_until.eq(None::<NaiveDateTime>),
            jobs::dedup_key.eq(None::<String>),
        ))
        .execute(conn)
        .map(|n| n == 1)
}

/// Keeps a job's lease while it is still being worked on; false when the worker no longer
/// holds it.
pub fn extend_lease(
    conn: &mut DbConn,
    id: i64,
    worker: &str,
    until: NaiveDateTime,
) -> QueryResult<bool> {
    diesel::update(
        jobs::table
            .find(id)
            .filter(jobs::locked_by.eq(worker))
            .filter(jobs::status.eq(RUNNING)),
    )
    .set(jobs::locked_until.eq(until))
    .execute(conn)
    .map(|n| n == 1)
}

/// No job waits longer than this between two tries.
pub const MAX_BACKOFF: Duration = Duration::hours(6);

/// How long a failed job waits before its next try: `first` after its first failure, twice
/// as long after each next one, at most [`MAX_BACKOFF`]. Public so that what a job records
/// about its next try agrees with the queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    pub first: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            first: Duration::minutes(1),
        }
    }
}

impl Backoff {
    /// `worker.retry_backoff_seconds`.
    pub fn from_settings(worker: &crate::config::Worker) -> Self {
        let seconds = i64::try_from(worker.retry_backoff_seconds).unwrap_or(i64::MAX);
        Backoff {
            first: Duration::try_seconds(seconds).unwrap_or(MAX_BACKOFF),
        }
    }

    /// The wait after the `attempts`-th failed attempt.
    pub fn after(self, attempts: i32) -> Duration {
        let doublings = attempts.clamp(1, 10) - 1;
        self.first
            .checked_mul(1 << doublings)
            .unwrap_or(MAX_BACKOFF)
            .min(MAX_BACKOFF)
    }
}

/// Records a failure: retried after its [`Backoff`], or dead once its attempts are spent.
pub fn fail(
    conn: &mut DbConn,
    job: &JobRow,
    worker: &str,
    error: &str,
    now: NaiveDateTime,
    backoff: Backoff,
) -> QueryResult<bool> {
    let error: String = error.chars().take(2000).collect();
    let spent = job.attempts >= job.max_attempts;
    let backoff = backoff.after(job.attempts);
    // A dead job gives up its key, so the same work can be asked for again (staff running a
    // source again, a package rebuilt).
    let dedup_key = if spent { None } else { job.dedup_key.clone() };
    diesel::update(jobs::table.find(job.id).filter(jobs::locked_by.eq(worker)))
        .set((
            jobs::status.eq(if spent { DEAD } else { QUEUED }),
            jobs::run_at.eq(if spent { job.run_at } else { now + backoff }),
            jobs::last_error.eq(error),
            jobs::locked_until.eq(None::<NaiveDateTime>),
            jobs::finished_at.eq(spent.then_some(now)),
            jobs::dedup_key.eq(dedup_key),
        ))
        .execute(conn)
        .map(|n| n == 1)
}

/// Gives a held job back untouched (a worker shutting down).
pub fn release(conn: &mut DbConn, job: &JobRow, worker: &str) -> QueryResult<()> {
    diesel::update(jobs::table.find(job.id).filter(jobs::locked_by.eq(worker)))
        .set((
            jobs::status.eq(QUEUED),
            jobs::attempts.eq(jobs::attempts - 1),
            jobs::locked_until.eq(None::<NaiveDateTime>),
        ))
        .execute(conn)
        .map(drop)
}

pub fn count_by_status(conn: &mut DbConn, status: &str) -> QueryResult<i64> {
    jobs::table
        .filter(jobs::status.eq(status))
        .count()
        .get_result(conn)
}

/// Jobs that need a look: dead ones, and queued ones whose last attempt failed; newest first.
pub fn troubled(conn: &mut DbConn, limit: i64) -> QueryResult<Vec<JobRow>> {
    jobs::table
        .filter(
            jobs::status
                .eq(DEAD)
                .or(jobs::status.eq(QUEUED).and(jobs::last_error.is_not_null())),
        )
        .order(jobs::id.desc())
        .limit(limit)
        .select(JobRow::as_select())
        .load(conn)
}

/// Gives a dead job a fresh set of attempts, due now. False when it was not dead.
pub fn revive(conn: &mut DbConn, id: i64, now: NaiveDateTime) -> QueryResult<bool> {
    diesel::update(jobs::table.find(id).filter(jobs::status.eq(DEAD)))
        .set((
            jobs::status.eq(QUEUED),
            jobs::attempts.eq(0),
            jobs::run_at.eq(now),
            jobs::finished_at.eq(None::<NaiveDateTime>),
        ))
        .execute(conn)
        .map(|n| n == 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_backoff_doubles_from_its_first_step_up_to_six_hours() {
        let standard = Backoff::default();
        assert_eq!(standard.after(1), Duration::minutes(1));
        assert_eq!(standard.after(2), Duration::minutes(2));
        assert_eq!(standard.after(5), Duration::minutes(16));
        assert_eq!(standard.after(30), Duration::minutes(512).min(MAX_BACKOFF));
        let short = Backoff {
            first: Duration::seconds(2),
        };
        assert_eq!(short.after(0), Duration::seconds(2));
        assert_eq!(short.after(3), Duration::seconds(8));
        let huge = Backoff {
            first: Duration::days(365),
        };
        assert_eq!(huge.after(4), MAX_BACKOFF);
    }
}
