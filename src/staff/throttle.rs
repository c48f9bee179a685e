//! Sign-in throttling: attempts per account and per address, and the TOTP steps already
//! used, so a second-factor code works once.
//!
//! An attempt is counted when it arrives ([`Throttle::reserve`]), before its password or code
//! is checked: counted only once checked, a burst of parallel guesses would all pass the wait
//! while the first ones were still hashing.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

/// Attempts per key (an account, a second factor, an address): each one beyond the free ones
/// doubles the wait before the next is even checked (1 s after the 3rd, up to 15 min), so
/// guessing is slow and a person who mistyped twice is not bothered. Kept in memory: with
/// several web nodes each node counts on its own.
#[derive(Default)]
pub struct Throttle {
    attempts: Mutex<HashMap<String, (u32, Instant)>>,
    /// The last TOTP step each account used: a code works once. Kept in memory, so with
    /// several web nodes a code could be replayed on another node within its 90 seconds.
    totp_steps: Mutex<HashMap<i64, i64>>,
}

/// An attempt counted against its keys; the caller says how it ended. Dropped as it is, it
/// stays counted, as a failure.
#[must_use = "an attempt stays counted as a failure unless released or succeeded"]
#[derive(Debug)]
pub struct Attempt {
    account: String,
    ip: Option<String>,
}

const FREE_FAILURES: u32 = 2;
/// Beyond this many keys, those quiet for an hour are forgotten.
const MAX_KEYS: usize = 100_000;

impl Throttle {
    /// The key of a password sign-in for this address, as typed.
    pub fn password_key(email: &str) -> String {
        format!("password:{}", email.trim().to_lowercase())
    }

    /// The key of an account's second factor.
    pub fn totp_key(user: i64) -> String {
        format!("totp:{user}")
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<String, (u32, Instant)>> {
        // A panic while counting leaves counts, not broken invariants.
        self.attempts.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Counts an attempt against `account` (and the client address, when known) before it
    /// is checked; `Err` with the time still to wait when it may not be checked yet (it is
    /// then not counted).
    pub fn reserve(&self, account: &str, ip: Option<IpAddr>) -> Result<Attempt, Duration> {
        let attempt = Attempt {
            account: account.to_string(),
            ip: ip.map(|ip| format!("ip:{ip}")),
        };
        let mut map = self.lock();
        let now = Instant::now();
        let wait = attempt
            .keys()
            .filter_map(|k| map.get(k))
            .map(|(count, last)| delay_after(*count).saturating_sub(now - *last))
            .max()
            .unwrap_or(Duration::ZERO);
        if !wait.is_zero() {
            return Err(wait);
        }
        if map.len() > MAX_KEYS {
            map.retain(|_, (_, last)| last.elapsed() < Duration::from_secs(3600));
        }
        for key in attempt.keys() {
            let entry = map.entry(key.to_string()).or_insert((0, now));
            entry.0 += 1;
            entry.1 = now;
        }
        Ok(attempt)
    }

    /// The attempt was no failure, though no sign-in yet (a right password, the code still to
    /// come): it is no longer counted.
    pub fn release(&self, attempt: Attempt) {
        let mut map = self.lock();
        for key in attempt.keys() {
            uncount(&mut map, key);
        }
    }

    /// Signed in: the account's failures are forgotten; the address keeps the failures it
    /// made, less this attempt.
    pub fn succeeded(&self, attempt: Attempt) {
        let mut map = self.lock();
        map.remove(&attempt.account);
        if let Some(ip) = &attempt.ip {
            uncount(&mut map, ip);
        }
    }

    /// Forgets the failures counted against `account` (after a sign-in through another key).
    pub fn forget(&self, account: &str) {
        self.lock().remove(account);
    }

    pub fn last_totp_step(&self, user: i64) -> Option<i64> {
        self.totp_steps
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&user)
            .copied()
    }

    /// Records `step` as used, if no later or equal step was: two requests carrying the same
    /// code cannot both win.
    pub fn spend_totp_step(&self, user: i64, step: i64) -> bool {
        let mut map = self
            .totp_steps
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        match map.get(&user) {
            Some(last) if *last >= step => false,
            _ => {
                map.insert(user, step);
                true
            }
        }
    }
}

impl Attempt {
    fn keys(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.account.as_str()).chain(self.ip.as_deref())
    }
}

fn uncount(map: &mut HashMap<String, (u32, Instant)>, key: &str) {
    if let Some(entry) = map.get_mut(key) {
        entry.0 = entry.0.saturating_sub(1);
        if entry.0 == 0 {
            map.remove(key);
        }
    }
}

fn delay_after(attempts: u32) -> Duration {
    if attempts <= FREE_FAILURES {
        return Duration::ZERO;
    }
    let exp = (attempts - FREE_FAILURES - 1).min(10);
    Duration::from_secs(1u64 << exp).min(Duration::from_secs(900))
}

#[cfg(test)]
mod tests {
    use super::*;

    const IP: Option<IpAddr> = Some(IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 1)));

    #[test]
    fn delays_grow_after_two_free_failures() {
        assert_eq!(delay_after(2), Duration::ZERO);
        assert_eq!(delay_after(3), Duration::from_secs(1));
        assert_eq!(delay_after(4), Duration::from_secs(2));
        assert_eq!(delay_after(30), Duration::from_secs(900));
    }

    #[test]
    fn parallel_attempts_are_counted_as_they_arrive() {
        let throttle = Throttle::default();
        let key = Throttle::password_key("Dana@example.org");
        // Forty guesses at once, none checked yet: three go through, the rest wait.
        let passed = std::thread::scope(|s| {
            let handles: Vec<_> = (0..40)
                .map(|_| s.spawn(|| throttle.reserve(&key, IP).is_ok()))
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or(false))
                .filter(|ok| *ok)
                .count()
        });
        assert_eq!(passed, 3);
        let wait = throttle.reserve(&key, None).expect_err("the account waits");
        assert!(wait > Duration::ZERO && wait <= Duration::from_secs(1));
    }

    #[test]
    fn a_success_forgets_the_account_but_not_the_addresss_other_failures() {
        let throttle = Throttle::default();
        let dana = Throttle::password_key("dana@example.org");
        let _failed = throttle.reserve(&dana, IP).expect("first");
        let _failed = throttle.reserve(&dana, IP).expect("second");
        let right = throttle.reserve(&dana, IP).expect("third");
        throttle.succeeded(right);
        // The account starts afresh; the address still carries its two failures.
        let other = Throttle::password_key("eve@example.org");
        let _third = throttle
            .reserve(&other, IP)
            .expect("third from the address");
        assert!(throttle.reserve(&other, IP).is_err());
        assert!(throttle.reserve(&dana, None).is_ok());
    }

    #[test]
    fn a_released_attempt_no_longer_counts() {
        let throttle = Throttle::default();
        let key = Throttle::totp_key(7);
        for _ in 0..10 {
            let attempt = throttle.reserve(&key, IP).expect("never waits");
            throttle.release(attempt);
        }
    }
}
