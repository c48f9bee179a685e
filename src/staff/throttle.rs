//! Sign-in throttling: failed attempts per account and per address, and the TOTP steps
//! already used, so a second-factor code works once.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Failed logins, per account and per address: each failure doubles the wait before the next
/// attempt is even checked (1 s after the 3rd, up to 15 min), so guessing is slow and a
/// person who mistyped twice is not bothered.
#[derive(Default)]
pub struct Throttle {
    failures: Mutex<HashMap<String, (u32, Instant)>>,
    /// The last TOTP step each account used: a code works once. Kept in memory, so with
    /// several web nodes a code could be replayed on another node within its 90 seconds.
    totp_steps: Mutex<HashMap<i64, i64>>,
}

const FREE_FAILURES: u32 = 2;

impl Throttle {
    fn keys(email: &str, ip: Option<IpAddr>) -> Vec<String> {
        let mut keys = vec![format!("account:{}", email.trim().to_lowercase())];
        if let Some(ip) = ip {
            keys.push(format!("ip:{ip}"));
        }
        keys
    }

    /// How long this attempt must still wait; zero when it may go ahead.
    pub fn wait(&self, email: &str, ip: Option<IpAddr>) -> Duration {
        let Ok(map) = self.failures.lock() else {
            return Duration::ZERO;
        };
        Self::keys(email, ip)
            .iter()
            .filter_map(|k| map.get(k))
            .map(|(count, last)| {
                let delay = delay_after(*count);
                delay.saturating_sub(last.elapsed())
            })
            .max()
            .unwrap_or(Duration::ZERO)
    }

    pub fn failed(&self, email: &str, ip: Option<IpAddr>) {
        if let Ok(mut map) = self.failures.lock() {
            if map.len() > 100_000 {
                map.retain(|_, (_, last)| last.elapsed() < Duration::from_secs(3600));
            }
            for key in Self::keys(email, ip) {
                let entry = map.entry(key).or_insert((0, Instant::now()));
                entry.0 += 1;
                entry.1 = Instant::now();
            }
        }
    }

    pub fn last_totp_step(&self, user: i64) -> Option<i64> {
        self.totp_steps.lock().ok()?.get(&user).copied()
    }

    /// Records `step` as used, if no later or equal step was: two requests carrying the same
    /// code cannot both win.
    pub fn spend_totp_step(&self, user: i64, step: i64) -> bool {
        let Ok(mut map) = self.totp_steps.lock() else {
            return false;
        };
        match map.get(&user) {
            Some(last) if *last >= step => false,
            _ => {
                map.insert(user, step);
                true
            }
        }
    }

    /// Counts an attempt against `key` alone before it is checked, so a burst of parallel
    /// guesses is throttled as it arrives; [`Throttle::succeeded`] forgets it.
    pub fn attempt(&self, key: &str) {
        self.failed(key, None);
    }

    /// A failure from `ip`, on top of what [`Throttle::attempt`] counted for the account.
    pub fn failed_from(&self, ip: Option<IpAddr>) {
        let Some(ip) = ip else { return };
        if let Ok(mut map) = self.failures.lock() {
            let entry = map.entry(format!("ip:{ip}")).or_insert((0, Instant::now()));
            entry.0 += 1;
            entry.1 = Instant::now();
        }
    }

    pub fn succeeded(&self, email: &str) {
        if let Ok(mut map) = self.failures.lock() {
            map.remove(&format!("account:{}", email.trim().to_lowercase()));
        }
    }
}

fn delay_after(failures: u32) -> Duration {
    if failures <= FREE_FAILURES {
        return Duration::ZERO;
    }
    let exp = (failures - FREE_FAILURES - 1).min(10);
    Duration::from_secs(1u64 << exp).min(Duration::from_secs(900))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_grow_after_two_free_failures() {
        assert_eq!(delay_after(2), Duration::ZERO);
        assert_eq!(delay_after(3), Duration::from_secs(1));
        assert_eq!(delay_after(4), Duration::from_secs(2));
        assert_eq!(delay_after(30), Duration::from_secs(900));
    }
}
