//! Deadline reminders to staff, pure: which reminder a request is owed today (a threshold of
//! days left reached, or a working day overdue), and the first day the next one can be owed.
//! Also the syntax of periodic task schedules (`"08:00"`, `"every 1h"`).

use chrono::{DateTime, NaiveDate, NaiveTime, TimeDelta, Utc};
use chrono_tz::Tz;

use super::calendar::HolidayCalendar;

/// A reminder a request is owed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owed {
    /// The request reached this threshold of days left.
    Threshold(i64),
    /// The due date has passed.
    Overdue,
}

/// What to send today and when to look again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    pub send: Option<Owed>,
    /// The smallest threshold announced so far, this one included.
    pub last_threshold: Option<i64>,
    /// When a reminder is next owed at the earliest; `None` while the clock is stopped (the
    /// step that starts it again asks for a new look).
    pub next_on: Option<NaiveDate>,
}

/// What the request was told before and where its deadline stands.
#[derive(Debug, Clone, Copy)]
pub struct Standing {
    pub due_on: NaiveDate,
    pub clock_stopped: bool,
    pub last_threshold: Option<i64>,
    pub last_sent_on: Option<NaiveDate>,
}

/// The reminder owed on `today`. A threshold fires once per request, whatever happens to the
/// due date afterwards; when several were crossed since the last look (the worker was down),
/// only the nearest one is sent. Once overdue, one reminder per working day.
///
/// `thresholds` are days left, largest first (see [`thresholds`]).
pub fn decide(
    thresholds: &[i64],
    calendar: &HolidayCalendar,
    standing: &Standing,
    today: NaiveDate,
) -> Decision {
    if standing.clock_stopped {
        return Decision {
            send: None,
            last_threshold: standing.last_threshold,
            next_on: None,
        };
    }
    let tomorrow = today.succ_opt().unwrap_or(today);
    let left = (standing.due_on - today).num_days();
    if left < 0 {
        let send = (calendar.is_working_day(today) && standing.last_sent_on != Some(today))
            .then_some(Owed::Overdue);
        return Decision {
            send,
            last_threshold: standing.last_threshold,
            next_on: Some(calendar.roll_forward(tomorrow)),
        };
    }
    let announced = standing.last_threshold.unwrap_or(i64::MAX);
    // The nearest threshold reached; owed unless it (or a nearer one) was announced.
    let reached = thresholds.iter().copied().filter(|t| *t >= left).min();
    let send = reached.filter(|t| *t < announced).map(Owed::Threshold);
    let last_threshold = match send {
        Some(Owed::Threshold(t)) => Some(t),
        _ => standing.last_threshold,
    };
    let below = last_threshold.unwrap_or(i64::MAX).min(left);
    let next_threshold = thresholds.iter().copied().filter(|t| *t < below).max();
    let next_on = match next_threshold {
        Some(t) => standing.due_on - TimeDelta::days(t),
        None => calendar.roll_forward(standing.due_on.succ_opt().unwrap_or(standing.due_on)),
    };
    Decision {
        send,
        last_threshold,
        next_on: Some(next_on.max(tomorrow)),
    }
}

/// The configured thresholds as [`decide`] wants them: largest first, each once.
pub fn thresholds(days_left: &[u32]) -> Vec<i64> {
    let mut sorted: Vec<i64> = days_left.iter().map(|d| i64::from(*d)).collect();
    sorted.sort_unstable_by(|a, b| b.cmp(a));
    sorted.dedup();
    sorted
}

/// When a periodic task runs. Written in the configuration as:
/// - `""`: never;
/// - `"HH:MM"`: every day at that local time of the organisation's zone (or at the first
///   look after it, when no worker ran at that minute);
/// - `"every N m"` / `"every N h"` (`"every 15m"`, `"every 1h"`): once per interval, counted
///   from midnight UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Schedule {
    Off,
    Daily(NaiveTime),
    Every(TimeDelta),
}

impl std::str::FromStr for Schedule {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let text = text.trim();
        if text.is_empty() {
            return Ok(Schedule::Off);
        }
        let wrong = || {
            format!(
                "\"{text}\" is not a schedule; write \"HH:MM\" (daily, local time), \"every 30m\", \"every 2h\", or \"\" for never"
            )
        };
        if let Some(rest) = text.strip_prefix("every") {
            let rest = rest.trim();
            let (number, unit) =
                rest.split_at(rest.find(|c: char| !c.is_ascii_digit()).ok_or_else(wrong)?);
            let n: i64 = number.parse().map_err(|_| wrong())?;
            let every = match unit.trim() {
                "m" | "min" => TimeDelta::minutes(n),
                "h" => TimeDelta::hours(n),
                _ => return Err(wrong()),
            };
            if n <= 0 || every > TimeDelta::days(1) {
                return Err(format!(
                    "\"{text}\": the interval must be between 1 minute and 24 hours"
                ));
            }
            return Ok(Schedule::Every(every));
        }
        NaiveTime::parse_from_str(text, "%H:%M")
            .map(Schedule::Daily)
            .map_err(|_| wrong())
    }
}

impl Schedule {
    /// The period `now` falls in, once the task is due in it: a text naming the period,
    /// the same for every worker. `None` when the task is off or not due yet today.
    pub fn period(&self, now: DateTime<Utc>, tz: Tz) -> Option<String> {
        match *self {
            Schedule::Off => None,
            Schedule::Daily(at) => {
                let local = now.with_timezone(&tz);
                (local.time() >= at).then(|| local.date_naive().to_string())
            }
            Schedule::Every(every) => {
                let seconds = every.num_seconds().max(1);
                let start = now.timestamp().div_euclid(seconds) * seconds;
                DateTime::<Utc>::from_timestamp(start, 0)
                    .map(|t| t.format("%Y-%m-%dT%H:%MZ").to_string())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::calendar::Country;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).expect("date")
    }

    fn standing(due_on: NaiveDate, last: Option<i64>, sent: Option<NaiveDate>) -> Standing {
        Standing {
            due_on,
            clock_stopped: false,
            last_threshold: last,
            last_sent_on: sent,
        }
    }

    fn france() -> HolidayCalendar {
        HolidayCalendar::new(Country::France, [])
    }

    const T: [i64; 4] = [14, 7, 3, 1];

    #[test]
    fn a_threshold_fires_once_and_points_at_the_next() {
        // Due Monday 14 December 2026; on 30 November 14 days are left.
        let due = d(2026, 12, 14);
        let first = decide(&T, &france(), &standing(due, None, None), d(2026, 11, 30));
        assert_eq!(first.send, Some(Owed::Threshold(14)));
        assert_eq!(first.next_on, Some(d(2026, 12, 7)));
        let again = decide(
            &T,
            &france(),
            &standing(due, Some(14), Some(d(2026, 11, 30))),
            d(2026, 11, 30),
        );
        assert_eq!(again.send, None);
        assert_eq!(again.next_on, Some(d(2026, 12, 7)));
    }

    #[test]
    fn crossing_several_thresholds_sends_the_nearest_only() {
        let due = d(2026, 12, 14);
        let late_look = decide(
            &T,
            &france(),
            &standing(due, Some(14), None),
            d(2026, 12, 12),
        );
        assert_eq!(late_look.send, Some(Owed::Threshold(3)));
        assert_eq!(late_look.last_threshold, Some(3));
        assert_eq!(late_look.next_on, Some(d(2026, 12, 13)));
    }

    #[test]
    fn far_from_the_due_date_nothing_is_sent_until_the_first_threshold() {
        let due = d(2027, 1, 29);
        let look = decide(&T, &france(), &standing(due, None, None), d(2026, 11, 30));
        assert_eq!(look.send, None);
        assert_eq!(look.next_on, Some(d(2027, 1, 15)));
    }

    #[test]
    fn overdue_reminds_every_working_day() {
        let due = d(2026, 12, 4); // a Friday
        let sat = decide(&T, &france(), &standing(due, Some(1), None), d(2026, 12, 5));
        assert_eq!(sat.send, None);
        assert_eq!(sat.next_on, Some(d(2026, 12, 7)));
        let mon = decide(&T, &france(), &standing(due, Some(1), None), d(2026, 12, 7));
        assert_eq!(mon.send, Some(Owed::Overdue));
        let mon_again = decide(
            &T,
            &france(),
            &standing(due, Some(1), Some(d(2026, 12, 7))),
            d(2026, 12, 7),
        );
        assert_eq!(mon_again.send, None);
        assert_eq!(mon_again.next_on, Some(d(2026, 12, 8)));
    }

    #[test]
    fn after_an_extension_only_thresholds_not_announced_yet_fire() {
        let extended_due = d(2027, 3, 1);
        let look = decide(
            &T,
            &france(),
            &standing(extended_due, Some(7), None),
            d(2026, 12, 10),
        );
        assert_eq!(look.send, None);
        assert_eq!(look.next_on, Some(d(2027, 2, 26)));
    }

    #[test]
    fn a_stopped_clock_owes_nothing_and_waits_for_the_restart() {
        let mut s = standing(d(2026, 12, 4), Some(7), None);
        s.clock_stopped = true;
        let look = decide(&T, &france(), &s, d(2026, 12, 10));
        assert_eq!((look.send, look.next_on), (None, None));
    }

    #[test]
    fn schedules_parse_and_name_their_period() {
        let paris = chrono_tz::Europe::Paris;
        let at = |s: &str| s.parse::<DateTime<Utc>>().expect("instant");
        assert_eq!("".parse::<Schedule>(), Ok(Schedule::Off));
        let daily: Schedule = "08:00".parse().expect("daily");
        assert_eq!(daily.period(at("2026-11-23T06:59:00Z"), paris), None);
        assert_eq!(
            daily.period(at("2026-11-23T07:00:00Z"), paris).as_deref(),
            Some("2026-11-23")
        );
        let hourly: Schedule = "every 1h".parse().expect("hourly");
        assert_eq!(
            hourly.period(at("2026-11-23T07:59:00Z"), paris).as_deref(),
            Some("2026-11-23T07:00Z")
        );
        assert_eq!(
            "every 15m".parse::<Schedule>(),
            Ok(Schedule::Every(TimeDelta::minutes(15)))
        );
        assert!("25:00".parse::<Schedule>().is_err());
        assert!("every 0h".parse::<Schedule>().is_err());
        assert!("every day".parse::<Schedule>().is_err());
        assert!("every 2d".parse::<Schedule>().is_err());
    }
}
