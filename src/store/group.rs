//! Group commit on SQLite's one writer. Every write transaction of a SQLite database takes
//! turns behind one lock, and each turn costs more than most filings' own statements: a
//! thread woken to take the lock, `BEGIN IMMEDIATE`, and a commit that appends every page it
//! touched (the table, its indexes, the timeline, the trail) to the WAL. Under load,
//! filings that arrive while one group is being written wait here and are written together
//! by one thread, in one transaction, each in a savepoint of its own: one that fails rolls
//! back alone, and none is answered before its group's commit (as durable as any commit here:
//! WAL with `synchronous = NORMAL`, safe from a crash of the process, not from a power cut
//! in the last instants).
//!
//! PostgreSQL has no such single writer (its connections write side by side), so the web
//! layer only builds a [`GroupWriter`] over SQLite.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc;

use diesel::Connection;
use tokio::sync::oneshot;

use super::{DbConn, Pool, StoreError, write_tx};

/// At most this many writes in one transaction: a group is answered only when all of it is
/// written, so a longer one would hold its first writes back for little more throughput.
const MOST_PER_GROUP: usize = 64;

/// Hands writes to the thread that groups them. Dropping it lets the thread finish the
/// writes already queued, then end.
pub struct GroupWriter {
    jobs: mpsc::Sender<Box<dyn Job>>,
}

impl GroupWriter {
    /// Starts the grouping thread over `pool`.
    pub fn start(pool: Pool) -> std::io::Result<Self> {
        let (jobs, queue) = mpsc::channel();
        std::thread::Builder::new()
            .name("group-writer".into())
            .spawn(move || write_groups(&pool, &queue))?;
        Ok(GroupWriter { jobs })
    }

    /// Runs `work` in the next group's transaction, in a savepoint of its own, and answers
    /// once that transaction has committed. The outer error is the group's (no connection,
    /// a failed commit); the inner one is `work`'s own, whose changes were rolled back.
    pub async fn write<T, E, F>(&self, work: F) -> Result<Result<T, E>, StoreError>
    where
        T: Send + 'static,
        E: From<diesel::result::Error> + Send + 'static,
        F: FnOnce(&mut DbConn) -> Result<T, E> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let job = Pending {
            work: Some(work),
            outcome: None,
            reply,
        };
        self.jobs
            .send(Box::new(job))
            .map_err(|_| StoreError::GroupFailed("the group writer has stopped".into()))?;
        answer.await.map_err(|_| {
            StoreError::GroupFailed("the group writer dropped this write (it panicked)".into())
        })?
    }
}

/// A queued write, erased of its types so that one queue carries them all.
trait Job: Send {
    /// Runs the write in a savepoint of the group's open transaction; false when it failed
    /// (and was rolled back to its savepoint).
    fn run(&mut self, conn: &mut DbConn) -> bool;
    /// Answers the writer, once the group's transaction has ended (`Err`: not committed).
    fn answer(self: Box<Self>, group: Result<(), &GroupEnd>);
}

struct Pending<T, E, F> {
    work: Option<F>,
    outcome: Option<Result<T, E>>,
    reply: oneshot::Sender<Result<Result<T, E>, StoreError>>,
}

impl<T, E, F> Job for Pending<T, E, F>
where
    T: Send,
    E: From<diesel::result::Error> + Send,
    F: FnOnce(&mut DbConn) -> Result<T, E> + Send,
{
    fn run(&mut self, conn: &mut DbConn) -> bool {
        let Some(work) = self.work.take() else {
            return false;
        };
        // Nested in the group's transaction, diesel makes this a savepoint: rolled back
        // alone on error, kept until the group commits otherwise.
        let outcome = conn.transaction(work);
        let ok = outcome.is_ok();
        self.outcome = Some(outcome);
        ok
    }

    fn answer(self: Box<Self>, group: Result<(), &GroupEnd>) {
        let reply = match (self.outcome, group) {
            // Its own failure says more than the group's, and it was rolled back either way.
            (Some(Err(own)), _) => Ok(Err(own)),
            (Some(Ok(value)), Ok(())) => Ok(Ok(value)),
            (_, Err(end)) => Err(end.error()),
            (None, Ok(())) => Err(StoreError::GroupFailed("the write did not run".into())),
        };
        // The writer may have gone (a client that disconnected): nothing to tell.
        let _ = self.reply.send(reply);
    }
}

/// Why a group was not committed, said to each of its writers.
enum GroupEnd {
    NoConnection(String),
    Failed(String),
}

impl GroupEnd {
    fn error(&self) -> StoreError {
        match self {
            GroupEnd::NoConnection(why) => StoreError::Unavailable(why.clone()),
            GroupEnd::Failed(why) => StoreError::GroupFailed(why.clone()),
        }
    }
}

/// Takes what is queued (waiting for the first write), writes it as one group, answers, and
/// again, until every [`GroupWriter`] is dropped.
fn write_groups(pool: &Pool, queue: &mpsc::Receiver<Box<dyn Job>>) {
    let mut group: Vec<Box<dyn Job>> = Vec::with_capacity(MOST_PER_GROUP);
    loop {
        if group.is_empty() {
            match queue.recv() {
                Ok(first) => group.push(first),
                Err(_) => return,
            }
        }
        while group.len() < MOST_PER_GROUP {
            match queue.try_recv() {
                Ok(job) => group.push(job),
                Err(_) => break,
            }
        }
        let (ran, end) = commit(pool, &mut group);
        if let Err(GroupEnd::Failed(why)) = &end {
            tracing::error!(writes = ran, error = %why, "a group of writes was not committed");
        }
        for job in group.drain(..ran) {
            job.answer(end.as_ref().map(|_| ()));
        }
    }
}

/// Writes the group's jobs in order in one transaction and commits; returns how many it
/// took, and how their transaction ended. It stops after the first write that fails: some
/// failures (a full disk, an I/O error) make SQLite roll the whole transaction back, and a
/// write run after that would run outside any transaction. The writes after it wait for
/// the next group.
fn commit(pool: &Pool, group: &mut [Box<dyn Job>]) -> (usize, Result<(), GroupEnd>) {
    let mut conn = match pool.get() {
        Ok(conn) => conn,
        Err(e) => return (group.len(), Err(GroupEnd::NoConnection(e.to_string()))),
    };
    super::let_waiting_writers_in();
    let mut ran = 0;
    // A write that panics leaves its savepoint open: the whole group is abandoned, and the
    // connection, still inside a transaction, is one r2d2 discards instead of reusing.
    let written = catch_unwind(AssertUnwindSafe(|| {
        write_tx(&mut conn, |conn| {
            for job in group.iter_mut() {
                ran += 1;
                let ok = job.run(conn);
                // Back in the group's own transaction, or nothing can be trusted: a savepoint
                // that failed to be released stays open, and the COMMIT below would then
                // only release it.
                if !in_group_transaction(conn) {
                    return Err(diesel::result::Error::BrokenTransactionManager);
                }
                if !ok {
                    break;
                }
            }
            Ok(())
        })
    }));
    match written {
        Ok(Ok(())) => (ran, Ok(())),
        // Not begun (ran 0): the whole group is told; else the writes it took.
        Ok(Err(e)) => (
            if ran == 0 { group.len() } else { ran },
            Err(GroupEnd::Failed(e.to_string())),
        ),
        Err(_) => (
            group.len(),
            Err(GroupEnd::Failed("a write in the group panicked".into())),
        ),
    }
}

/// Whether diesel counts exactly one open transaction on `conn`: the group's.
fn in_group_transaction(conn: &mut DbConn) -> bool {
    use diesel::connection::TransactionManager;
    matches!(
        <DbConn as Connection>::TransactionManager::transaction_manager_status_mut(conn)
            .transaction_depth(),
        Ok(Some(depth)) if depth.get() == 1
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use diesel::RunQueryDsl;
    use diesel::connection::SimpleConnection;

    fn writer() -> (tempfile::TempDir, Pool, GroupWriter) {
        let dir = tempfile::tempdir().expect("temp dir");
        let settings = crate::config::Database {
            url: format!("sqlite://{}", dir.path().join("group.sqlite3").display()),
            pool_size: 4,
            busy_timeout_ms: 5_000,
            sqlite_mmap_mib: 0,
            sqlite_group_commit: false,
            auto_migrate: false,
        };
        let pool = super::super::connect(&settings).expect("pool");
        pool.get()
            .expect("conn")
            .batch_execute("CREATE TABLE t (v INTEGER PRIMARY KEY)")
            .expect("table");
        let writer = GroupWriter::start(pool.clone()).expect("writer");
        (dir, pool, writer)
    }

    fn insert(v: i64) -> impl FnOnce(&mut DbConn) -> Result<usize, diesel::result::Error> {
        move |conn| diesel::sql_query(format!("INSERT INTO t VALUES ({v})")).execute(conn)
    }

    fn count(pool: &Pool) -> i64 {
        #[derive(diesel::QueryableByName)]
        struct N {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        let n: N = diesel::sql_query("SELECT count(*) AS n FROM t")
            .get_result(&mut pool.get().expect("conn"))
            .expect("count");
        n.n
    }

    #[test]
    fn concurrent_writes_are_each_kept_or_refused_alone() {
        let (_dir, pool, writer) = writer();
        let writer = std::sync::Arc::new(writer);
        // 40 distinct rows, and 8 writers of one same row: one of those is kept, and the
        // other 7 hear of their own constraint failure while the groups they fell in commit.
        let outcomes: Vec<Result<Result<usize, diesel::result::Error>, StoreError>> =
            std::thread::scope(|s| {
                let handles: Vec<_> = (0..48)
                    .map(|i| {
                        let writer = std::sync::Arc::clone(&writer);
                        s.spawn(move || {
                            let v = if i < 40 { i } else { 1_000 };
                            actix_web::rt::System::new().block_on(writer.write(insert(v)))
                        })
                    })
                    .collect();
                handles
                    .into_iter()
                    .map(|h| h.join().expect("thread"))
                    .collect()
            });
        let kept = outcomes.iter().filter(|o| matches!(o, Ok(Ok(1)))).count();
        let refused = outcomes
            .iter()
            .filter(|o| matches!(o, Ok(Err(diesel::result::Error::DatabaseError(..)))))
            .count();
        assert_eq!((kept, refused), (41, 7));
        assert_eq!(count(&pool), 41);
    }

    #[test]
    fn a_write_that_leaves_a_savepoint_open_is_refused_and_nothing_of_it_is_kept() {
        use diesel::connection::TransactionManager;
        let (_dir, pool, writer) = writer();
        let leaky = actix_web::rt::System::new().block_on(writer.write(|conn: &mut DbConn| {
            insert(1)(conn)?;
            <DbConn as Connection>::TransactionManager::begin_transaction(conn)?;
            insert(2)(conn)
        }));
        assert!(
            matches!(leaky, Err(StoreError::GroupFailed(_))),
            "{leaky:?}"
        );
        assert_eq!(count(&pool), 0);
        let after = actix_web::rt::System::new().block_on(writer.write(insert(3)));
        assert!(matches!(after, Ok(Ok(1))));
        assert_eq!(count(&pool), 1);
    }

    #[test]
    fn a_write_that_panics_is_refused_and_the_writer_goes_on() {
        let (_dir, pool, writer) = writer();
        let panicked = actix_web::rt::System::new().block_on(writer.write(
            |_: &mut DbConn| -> Result<(), diesel::result::Error> { panic!("a bug in a write") },
        ));
        assert!(matches!(panicked, Err(StoreError::GroupFailed(_))));
        let after = actix_web::rt::System::new().block_on(writer.write(insert(1)));
        assert!(matches!(after, Ok(Ok(1))));
        assert_eq!(count(&pool), 1);
    }
}
