//! The deadline law: when a request was received, when it is due, how
//! pauses and extensions move that date, and when receipt must be
//! acknowledged.
//!
//! Everything is counted in whole local days of the organisation's time
//! zone. The due date is, in order:
//! 1. the day of receipt in local time ([`received_on`]);
//! 2. plus the period, base + extension, counted from that day under EU
//!    Regulation 1182/71 art. 3 ([`add_period`]);
//! 3. plus the days the clock stood still ([`Pauses`]);
//! 4. moved to the next working day if the profile says so (art. 3(4)).
//!
//! The request is answered in time until the end of that day
//! ([`end_of_day`]).

mod extension;
mod period;
mod profiles;
#[cfg(test)]
mod tests;

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Offset, TimeDelta, TimeZone, Utc};
use chrono_tz::Tz;
use serde::Serialize;

use crate::domain::calendar::HolidayCalendar;

pub use extension::{ExtensionError, check_extension};
pub use period::{Period, add_period};
pub use profiles::{DEFAULT_PROFILE, Profile, builtin_profiles};

/// The days a request's clock stood still.
///
/// Only pauses of a kind the profile stops the clock for belong here (see
/// [`Profile::clock_stops_on_hold`] and [`Profile::clock_stops_for_identity`]);
/// the caller decides that when the pause begins.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Pauses {
    /// Whole days of pauses that are over: the sum of (local date resumed −
    /// local date held).
    pub closed_days: i64,
    /// The local date the pause still running began, if any.
    pub open_since: Option<NaiveDate>,
}

/// A request's deadline, with the steps that lead to it so that anyone can
/// check it by hand.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Deadline {
    /// The anchor: the local day of receipt, which itself is not counted.
    pub received_on: NaiveDate,
    /// Base period plus granted extension.
    pub period: Period,
    /// `received_on` + `period`, before pauses and rolling.
    pub period_end: NaiveDate,
    /// Days the clock stood still: closed pauses plus, while a pause is
    /// open, the days it has lasted so far.
    pub paused_days: i64,
    /// A pause is open: `due_on` is the earliest the request can be due, if
    /// the clock started again today, and moves later each day.
    pub clock_stopped: bool,
    /// The last day to answer.
    pub due_on: NaiveDate,
}

/// The deadline of a request received on `received_on` under `profile`, with
/// `extension` granted, as it stands on `today`.
///
/// The extension counts from the anchor like the base period (1 month + 2
/// months = 3 months from receipt), never from an earlier due date. Pauses
/// are added before rolling to a working day, because it is the end of the
/// whole period that the rolling rule moves.
pub fn compute_deadline(
    profile: &Profile,
    calendar: &HolidayCalendar,
    received_on: NaiveDate,
    extension: Period,
    pauses: &Pauses,
    today: NaiveDate,
) -> Deadline {
    let period = profile.base.plus(extension);
    let period_end = add_period(received_on, period);
    let open_days = pauses
        .open_since
        .map_or(0, |since| (today - since).num_days().max(0));
    let paused_days = pauses.closed_days.max(0).saturating_add(open_days);
    let paused_end = period_end
        .checked_add_signed(TimeDelta::days(paused_days))
        .unwrap_or(NaiveDate::MAX);
    let due_on = if profile.roll_to_working_day {
        calendar.roll_forward(paused_end)
    } else {
        paused_end
    };
    Deadline {
        received_on,
        period,
        period_end,
        paused_days,
        clock_stopped: pauses.open_since.is_some(),
        due_on,
    }
}

/// The local day on which a request that arrived at `received_at` was
/// received, in the organisation's zone: 23:30 UTC on 31 January is
/// 1 February in Paris.
pub fn received_on(received_at: DateTime<Utc>, tz: Tz) -> NaiveDate {
    received_at.with_timezone(&tz).date_naive()
}

const LAST_SECOND: NaiveTime = match NaiveTime::from_hms_opt(23, 59, 59) {
    Some(time) => time,
    None => NaiveTime::MIN,
};

/// The last second of `date` in `tz` (23:59:59 local), as an instant.
///
/// Never panics on daylight-saving changes: when 23:59:59 occurs twice the
/// earlier instant is taken; when it does not exist (a clock jumping over
/// midnight) the last local second before the jump is; when the whole day
/// was skipped (Samoa, 30 December 2011) 23:59:59 is read with the offset in
/// force at that moment.
pub fn end_of_day(date: NaiveDate, tz: Tz) -> DateTime<Utc> {
    let last_second = date.and_time(LAST_SECOND);
    // Transitions fall on whole minutes, so stepping back a minute at a time
    // finds the last existing second ending in :59.
    for minutes_back in 0..24 * 60 {
        let Some(local) = last_second.checked_sub_signed(TimeDelta::minutes(minutes_back)) else {
            break;
        };
        if local.date() != date {
            break;
        }
        if let Some(instant) = tz.from_local_datetime(&local).earliest() {
            return instant.with_timezone(&Utc);
        }
    }
    read_with_offset_at(last_second, tz)
}

/// `local` converted with the offset `tz` has at the instant `local` would
/// be in UTC: a fallback for local times that never existed.
fn read_with_offset_at(local: NaiveDateTime, tz: Tz) -> DateTime<Utc> {
    let offset_seconds = tz.offset_from_utc_datetime(&local).fix().local_minus_utc();
    local
        .checked_sub_signed(TimeDelta::seconds(i64::from(offset_seconds)))
        .unwrap_or(local)
        .and_utc()
}

/// Whole days from `today` to `due_on`: 0 on the due day, negative once
/// overdue.
pub fn days_left(due_on: NaiveDate, today: NaiveDate) -> i64 {
    (due_on - today).num_days()
}

/// The day by which receipt must be acknowledged, for profiles that require
/// it: that many working days after the day of receipt.
pub fn acknowledge_by(
    profile: &Profile,
    calendar: &HolidayCalendar,
    received_on: NaiveDate,
) -> Option<NaiveDate> {
    profile
        .acknowledge_within_business_days
        .map(|business_days| calendar.add_working_days(received_on, business_days))
}
