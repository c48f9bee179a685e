//! Counts that must hold across web nodes sharing one database: the portal's limits
//! (`rate_limits`) and the staff sign-in throttle (`sign_in_attempts`). Each check is one
//! statement that counts and answers at once, so parallel requests on any node cannot slip
//! between a read and a write. Keys arrive hashed by the services: no address is seen here.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Integer, Text, Timestamp};

use super::schema::{rate_limits, sign_in_attempts};
use super::{Backend, DbConn};

/// The statement for this connection's engine: written with PostgreSQL's `$1`, which SQLite
/// reads as `?1`, the same numbered parameter.
fn numbered(conn: &DbConn, sql: &str) -> String {
    match conn.backend() {
        Backend::Sqlite => sql.replace('$', "?"),
        Backend::Postgres => sql.to_string(),
    }
}

#[derive(QueryableByName)]
struct Counted {
    #[diesel(sql_type = Integer)]
    counted: i32,
}

/// Counts one hit against `key_hash` if it has hits left: `allowance` in a window that opens
/// at the key's first hit and lasts until `window_ends` (computed from `now` by the caller).
/// Returns the hits counted in the window, this one included; `None` when refused: a refused
/// hit is not counted, as a person kept waiting is not made to wait longer.
pub fn hit(
    conn: &mut DbConn,
    key_hash: &str,
    allowance: i32,
    now: NaiveDateTime,
    window_ends: NaiveDateTime,
) -> QueryResult<Option<i32>> {
    // The row is locked by the upsert: two nodes counting the same key queue on it, and the
    // second sees the first's count.
    let sql = numbered(
        conn,
        "INSERT INTO rate_limits (key_hash, hits, expires_at) VALUES ($1, 1, $2) \
         ON CONFLICT (key_hash) DO UPDATE SET \
           hits = CASE WHEN rate_limits.expires_at <= $3 THEN 1 ELSE rate_limits.hits + 1 END, \
           expires_at = CASE WHEN rate_limits.expires_at <= $3 THEN $2 \
                        ELSE rate_limits.expires_at END \
         WHERE rate_limits.expires_at <= $3 OR rate_limits.hits < $4 \
         RETURNING hits AS counted",
    );
    let counted: Option<Counted> = crate::per_backend!(conn, |c| diesel::sql_query(&sql)
        .bind::<Text, _>(key_hash)
        .bind::<Timestamp, _>(window_ends)
        .bind::<Timestamp, _>(now)
        .bind::<Integer, _>(allowance)
        .get_result(c)
        .optional())?;
    Ok(counted.map(|c| c.counted))
}

/// How the wait before an attempt is checked grows with the attempts already counted
/// against a key: none up to `free`, then `first_ms` doubling with each attempt, capped at
/// `max_ms` once `doublings` doublings are reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    pub free: i32,
    pub first_ms: i32,
    pub doublings: i32,
    pub max_ms: i32,
}

/// Counts one attempt against `key_hash` if the wait its earlier attempts impose is over, and
/// returns the attempts counted; `None` (nothing counted) while it is not. Within the free
/// attempts there is no wait at all, whatever the clocks say: another node may have counted
/// one a millisecond "after" this node's `now_ms`.
pub fn count_attempt(
    conn: &mut DbConn,
    key_hash: &str,
    now_ms: i64,
    backoff: Backoff,
) -> QueryResult<Option<i32>> {
    let sql = numbered(
        conn,
        "INSERT INTO sign_in_attempts (key_hash, attempts, last_at_ms) VALUES ($1, 1, $2) \
         ON CONFLICT (key_hash) DO UPDATE SET \
           attempts = sign_in_attempts.attempts + 1, last_at_ms = $2 \
         WHERE sign_in_attempts.attempts <= $3 OR sign_in_attempts.last_at_ms + CASE \
             WHEN sign_in_attempts.attempts - $3 - 1 >= $4 THEN $5 \
             ELSE $6 * (1 << (sign_in_attempts.attempts - $3 - 1)) END <= $2 \
         RETURNING attempts AS counted",
    );
    let counted: Option<Counted> = crate::per_backend!(conn, |c| diesel::sql_query(&sql)
        .bind::<Text, _>(key_hash)
        .bind::<BigInt, _>(now_ms)
        .bind::<Integer, _>(backoff.free)
        .bind::<Integer, _>(backoff.doublings)
        .bind::<Integer, _>(backoff.max_ms)
        .bind::<Integer, _>(backoff.first_ms)
        .get_result(c)
        .optional())?;
    Ok(counted.map(|c| c.counted))
}

/// The attempts counted against these keys, and when the last arrived (unix milliseconds).
pub fn attempts(conn: &mut DbConn, key_hashes: &[&str]) -> QueryResult<Vec<(i32, i64)>> {
    sign_in_attempts::table
        .filter(sign_in_attempts::key_hash.eq_any(key_hashes))
        .select((sign_in_attempts::attempts, sign_in_attempts::last_at_ms))
        .load(conn)
}

/// One attempt less against each of these keys (one key per call is best outside a
/// transaction that locks several: see [`count_attempt`]'s callers).
pub fn uncount(conn: &mut DbConn, key_hashes: &[&str]) -> QueryResult<()> {
    diesel::update(
        sign_in_attempts::table
            .filter(sign_in_attempts::key_hash.eq_any(key_hashes))
            .filter(sign_in_attempts::attempts.gt(0)),
    )
    .set(sign_in_attempts::attempts.eq(sign_in_attempts::attempts - 1))
    .execute(conn)
    .map(drop)
}

/// Every attempt against this key forgotten.
pub fn forget(conn: &mut DbConn, key_hash: &str) -> QueryResult<()> {
    diesel::delete(sign_in_attempts::table.filter(sign_in_attempts::key_hash.eq(key_hash)))
        .execute(conn)
        .map(drop)
}

/// Deletes the limits whose window closed by `now` and the attempts of keys quiet since
/// before `quiet_before_ms`; returns how many rows went.
pub fn purge(conn: &mut DbConn, now: NaiveDateTime, quiet_before_ms: i64) -> QueryResult<usize> {
    let limits =
        diesel::delete(rate_limits::table.filter(rate_limits::expires_at.le(now))).execute(conn)?;
    let attempts = diesel::delete(
        sign_in_attempts::table.filter(sign_in_attempts::last_at_ms.lt(quiet_before_ms)),
    )
    .execute(conn)?;
    Ok(limits + attempts)
}

/// A migrated database for one test: a file, so that several threads can open it.
#[cfg(test)]
pub(crate) fn test_database() -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("limits.sqlite3").display().to_string();
    let mut conn = test_connection(&path);
    super::migrate(&mut conn).expect("migrations");
    (dir, path)
}

#[cfg(test)]
pub(crate) fn test_connection(path: &str) -> DbConn {
    use diesel::connection::SimpleConnection;
    let mut conn = diesel::sqlite::SqliteConnection::establish(path).expect("a SQLite file opens");
    conn.batch_execute("PRAGMA busy_timeout = 5000; PRAGMA journal_mode = WAL;")
        .expect("pragmas");
    DbConn::Sqlite(conn)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: i64) -> NaiveDateTime {
        chrono::DateTime::from_timestamp(1_800_000_000 + seconds, 0)
            .expect("a time")
            .naive_utc()
    }

    #[test]
    fn hits_stop_at_the_allowance_until_the_window_closes() {
        let (_dir, path) = test_database();
        let mut conn = test_connection(&path);
        let hour = 3600;
        for second in 0..3 {
            let counted = hit(&mut conn, "k", 3, at(second), at(second + hour)).expect("hit");
            assert_eq!(counted, Some(i32::try_from(second).expect("small") + 1));
        }
        assert_eq!(
            hit(&mut conn, "k", 3, at(10), at(10 + hour)).expect("hit"),
            None
        );
        assert!(
            hit(&mut conn, "other", 3, at(10), at(10 + hour))
                .expect("hit")
                .is_some()
        );
        // The window opened at the first hit closes an hour later; a new one opens.
        assert_eq!(
            hit(&mut conn, "k", 3, at(hour - 1), at(2 * hour - 1)).expect("hit"),
            None
        );
        assert_eq!(
            hit(&mut conn, "k", 3, at(hour), at(2 * hour)).expect("hit"),
            Some(1)
        );
        // The purge takes the closed window ("other") and the key quiet since before 1 ms.
        let backoff = Backoff {
            free: 2,
            first_ms: 1000,
            doublings: 10,
            max_ms: 900_000,
        };
        assert!(
            count_attempt(&mut conn, "quiet", 0, backoff)
                .expect("count")
                .is_some()
        );
        assert!(
            count_attempt(&mut conn, "recent", 5, backoff)
                .expect("count")
                .is_some()
        );
        assert_eq!(purge(&mut conn, at(hour + 10), 1).expect("purge"), 2);
        assert_eq!(
            attempts(&mut conn, &["quiet", "recent"]).expect("read"),
            [(1, 5)]
        );
    }

    #[test]
    fn an_attempt_waits_as_long_as_the_backoff_says() {
        let (_dir, path) = test_database();
        let mut conn = test_connection(&path);
        let backoff = Backoff {
            free: 2,
            first_ms: 1000,
            doublings: 10,
            max_ms: 900_000,
        };
        let mut now = 0;
        // Two free, then 1 s, 2 s, 4 s … up to 512 s, then 900 s for ever.
        let waits = [
            0, 0, 0, 1000, 2000, 4000, 8000, 16_000, 32_000, 64_000, 128_000,
        ]
        .into_iter()
        .chain([256_000, 512_000, 900_000, 900_000]);
        for wait in waits {
            if wait > 0 {
                let early = count_attempt(&mut conn, "k", now + wait - 1, backoff).expect("count");
                assert_eq!(early, None, "{wait} ms");
            }
            now += wait;
            assert!(
                count_attempt(&mut conn, "k", now, backoff)
                    .expect("count")
                    .is_some()
            );
        }
        assert_eq!(
            attempts(&mut conn, &["k", "none"]).expect("read"),
            [(15, now)]
        );
        uncount(&mut conn, &["k"]).expect("uncount");
        assert_eq!(attempts(&mut conn, &["k"]).expect("read"), [(14, now)]);
        forget(&mut conn, "k").expect("forget");
        assert!(attempts(&mut conn, &["k"]).expect("read").is_empty());
    }
}
