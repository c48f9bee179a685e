//! Sign-in throttling: attempts per account and per address, and the TOTP steps already
//! used, so a second-factor code works once. Both live in the database, so that every web
//! node behind a load balancer counts the same attempts and knows the same spent codes.
//!
//! An attempt is counted when it arrives ([`Throttle::reserve`]), before its password or code
//! is checked: counted only once checked, a burst of parallel guesses would all pass the wait
//! while the first ones were still hashing.

use std::net::IpAddr;
use std::time::Duration;

use chrono::{DateTime, Utc};
use diesel::QueryResult;

use crate::store::limits::{self, Backoff};
use crate::store::{DbConn, users, write_tx};

/// Attempts per key (an account, a second factor, an address): each one beyond the free ones
/// doubles the wait before the next is even checked (1 s after the 3rd, up to 15 min), so
/// guessing is slow and a person who mistyped twice is not bothered. Keys are stored as a
/// keyed hash: the table names no address, and its rows cannot be matched to one without the
/// key.
#[derive(Clone)]
pub struct Throttle {
    key: [u8; 32],
}

/// An attempt counted against its keys; the caller says how it ended. Dropped as it is, it
/// stays counted, as a failure.
#[must_use = "an attempt stays counted as a failure unless released or succeeded"]
#[derive(Debug)]
pub struct Attempt {
    account: String,
    ip: Option<String>,
}

const BACKOFF: Backoff = Backoff {
    free: 2,
    first_ms: 1000,
    doublings: 10,
    max_ms: 900_000,
};

/// How long a key's attempts are kept after its last one: far beyond the longest wait, so
/// that only keys nobody has tried for a day start afresh (the nightly purge deletes them).
pub const ATTEMPTS_KEPT: chrono::Duration = chrono::Duration::days(1);

/// Why a reservation was not counted.
enum Refused {
    Wait(Duration),
    Store(diesel::result::Error),
}

impl From<diesel::result::Error> for Refused {
    fn from(e: diesel::result::Error) -> Self {
        Refused::Store(e)
    }
}

impl Throttle {
    /// A throttle whose keys are hashed with a key derived from `master` (the fulfilment
    /// key, which every node shares).
    pub fn new(master: &[u8; 32]) -> Self {
        Throttle {
            key: crate::crypto::subkey(master, "dsar sign-in throttle v1"),
        }
    }

    /// The key of a password sign-in for this address, as typed.
    pub fn password_key(email: &str) -> String {
        format!("password:{}", email.trim().to_lowercase())
    }

    /// The key of an account's second factor.
    pub fn totp_key(user: i64) -> String {
        format!("totp:{user}")
    }

    fn hashed(&self, key: &str) -> String {
        crate::crypto::hex(&crate::crypto::hmac(&self.key, key.as_bytes()))
    }

    /// Counts an attempt against `account` (and the client address, when known) before it
    /// is checked; `Ok(Err)` with the time still to wait when it may not be checked yet (it
    /// is then counted against neither).
    pub fn reserve(
        &self,
        conn: &mut DbConn,
        account: &str,
        ip: Option<IpAddr>,
        now: DateTime<Utc>,
    ) -> QueryResult<Result<Attempt, Duration>> {
        let attempt = Attempt {
            account: self.hashed(account),
            ip: ip.map(|ip| self.hashed(&format!("ip:{ip}"))),
        };
        let now_ms = now.timestamp_millis();
        // Always in the same order, so two nodes counting the same pair cannot deadlock.
        let mut keys: Vec<&str> = attempt.keys().collect();
        keys.sort_unstable();
        let counted = write_tx(conn, |conn| {
            for key in &keys {
                if limits::count_attempt(conn, key, now_ms, BACKOFF)?.is_none() {
                    // Rolled back: an attempt that waits is counted against no key.
                    let wait = limits::attempts(conn, &keys)?
                        .into_iter()
                        .map(|(attempts, last_ms)| {
                            let since = u64::try_from(now_ms - last_ms).unwrap_or(0);
                            delay_after(attempts).saturating_sub(Duration::from_millis(since))
                        })
                        .max()
                        .unwrap_or(Duration::ZERO);
                    return Err(Refused::Wait(wait.max(Duration::from_millis(1))));
                }
            }
            Ok(())
        });
        match counted {
            Ok(()) => Ok(Ok(attempt)),
            Err(Refused::Wait(wait)) => Ok(Err(wait)),
            Err(Refused::Store(e)) => Err(e),
        }
    }

    /// The attempt was no failure, though no sign-in yet (a right password, the code still to
    /// come): it is no longer counted.
    ///
    /// This and [`Throttle::succeeded`] change one key per statement, and are best called
    /// outside a transaction: holding one row at a time, they cannot deadlock with a
    /// [`Throttle::reserve`] of another node, which locks its keys in their sorted order.
    pub fn release(&self, conn: &mut DbConn, attempt: Attempt) -> QueryResult<()> {
        for key in attempt.keys() {
            limits::uncount(conn, &[key])?;
        }
        Ok(())
    }

    /// Signed in: the account's failures are forgotten; the address keeps the failures it
    /// made, less this attempt.
    pub fn succeeded(&self, conn: &mut DbConn, attempt: Attempt) -> QueryResult<()> {
        limits::forget(conn, &attempt.account)?;
        match &attempt.ip {
            Some(ip) => limits::uncount(conn, &[ip.as_str()]),
            None => Ok(()),
        }
    }

    /// Forgets the failures counted against `account` (after a sign-in through another key).
    pub fn forget(&self, conn: &mut DbConn, account: &str) -> QueryResult<()> {
        limits::forget(conn, &self.hashed(account))
    }
}

/// The last TOTP step the account used.
pub fn last_totp_step(conn: &mut DbConn, user: i64) -> QueryResult<Option<i64>> {
    users::totp_last_step(conn, user)
}

/// Records `step` as used, if no later or equal step was: two requests carrying the same
/// code, on one node or two, cannot both win.
pub fn spend_totp_step(conn: &mut DbConn, user: i64, step: i64) -> QueryResult<bool> {
    users::spend_totp_step(conn, user, step)
}

impl Attempt {
    fn keys(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.account.as_str()).chain(self.ip.as_deref())
    }
}

/// The wait before the attempt after `attempts` is checked: what the database applies too.
fn delay_after(attempts: i32) -> Duration {
    if attempts <= BACKOFF.free {
        return Duration::ZERO;
    }
    let doublings = (attempts - BACKOFF.free - 1).min(BACKOFF.doublings);
    let ms = u64::try_from(BACKOFF.first_ms).unwrap_or(0) << doublings;
    Duration::from_millis(ms.min(u64::try_from(BACKOFF.max_ms).unwrap_or(0)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::limits::{test_connection, test_database};

    const IP: Option<IpAddr> = Some(IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 1)));

    fn throttle() -> Throttle {
        Throttle::new(&[7; 32])
    }

    fn now() -> DateTime<Utc> {
        Utc::now()
    }

    #[test]
    fn delays_grow_after_two_free_failures() {
        assert_eq!(delay_after(2), Duration::ZERO);
        assert_eq!(delay_after(3), Duration::from_secs(1));
        assert_eq!(delay_after(4), Duration::from_secs(2));
        assert_eq!(delay_after(12), Duration::from_secs(512));
        assert_eq!(delay_after(13), Duration::from_secs(900));
        assert_eq!(delay_after(30), Duration::from_secs(900));
    }

    #[test]
    fn parallel_attempts_are_counted_as_they_arrive() {
        let (_dir, path) = test_database();
        let throttle = throttle();
        let key = Throttle::password_key("Dana@example.org");
        // Forty guesses at once, each on a connection of its own, none checked yet: three go
        // through, the rest wait.
        let passed = std::thread::scope(|s| {
            let handles: Vec<_> = (0..40)
                .map(|_| {
                    s.spawn(|| {
                        let mut conn = test_connection(&path);
                        throttle
                            .reserve(&mut conn, &key, IP, now())
                            .expect("counted")
                            .is_ok()
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or(false))
                .filter(|ok| *ok)
                .count()
        });
        assert_eq!(passed, 3);
        let mut conn = test_connection(&path);
        let wait = throttle
            .reserve(&mut conn, &key, None, now())
            .expect("counted")
            .expect_err("the account waits");
        assert!(wait > Duration::ZERO && wait <= Duration::from_secs(1));
    }

    #[test]
    fn a_success_forgets_the_account_but_not_the_addresss_other_failures() {
        let (_dir, path) = test_database();
        let conn = &mut test_connection(&path);
        let throttle = throttle();
        let mut reserve = |key: &str, ip| throttle.reserve(conn, key, ip, now()).expect("db");
        let dana = Throttle::password_key("dana@example.org");
        let other = Throttle::password_key("eve@example.org");
        let _failed = reserve(&dana, IP).expect("first");
        let _failed = reserve(&dana, IP).expect("second");
        let right = reserve(&dana, IP).expect("third");
        throttle.succeeded(conn, right).expect("db");
        // The account starts afresh; the address still carries its two failures.
        let mut reserve = |key: &str, ip| throttle.reserve(conn, key, ip, now()).expect("db");
        let _third = reserve(&other, IP).expect("third from the address");
        assert!(reserve(&other, IP).is_err());
        assert!(reserve(&dana, None).is_ok());
    }

    #[test]
    fn a_released_attempt_no_longer_counts() {
        let (_dir, path) = test_database();
        let conn = &mut test_connection(&path);
        let throttle = throttle();
        let key = Throttle::totp_key(7);
        for _ in 0..10 {
            let attempt = throttle
                .reserve(conn, &key, IP, now())
                .expect("db")
                .expect("never waits");
            throttle.release(conn, attempt).expect("db");
        }
    }

    #[test]
    fn keys_are_stored_hashed() {
        let (_dir, path) = test_database();
        let conn = &mut test_connection(&path);
        let _failed = throttle()
            .reserve(conn, &Throttle::password_key("dana@example.org"), IP, now())
            .expect("db");
        use diesel::prelude::*;
        let keys: Vec<String> = crate::store::schema::sign_in_attempts::table
            .select(crate::store::schema::sign_in_attempts::key_hash)
            .load(conn)
            .expect("keys");
        assert_eq!(keys.len(), 2);
        assert!(
            keys.iter()
                .all(|k| k.len() == 64 && !k.contains("dana") && !k.contains("192.0.2.1"))
        );
    }

    #[test]
    fn a_code_works_once() {
        let (_dir, path) = test_database();
        let conn = &mut test_connection(&path);
        let at = now().naive_utc();
        let user = users::insert(conn, "dana@example.org", "Dana", "dpo", at).expect("user");
        assert_eq!(last_totp_step(conn, user.id).expect("db"), None);
        assert!(spend_totp_step(conn, user.id, 100).expect("db"));
        assert!(!spend_totp_step(conn, user.id, 100).expect("db"));
        assert!(!spend_totp_step(conn, user.id, 99).expect("db"));
        assert!(spend_totp_step(conn, user.id, 101).expect("db"));
        assert_eq!(last_totp_step(conn, user.id).expect("db"), Some(101));
    }
}
