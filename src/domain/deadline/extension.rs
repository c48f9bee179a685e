//! Whether a request's deadline may be extended, and by how much.

use chrono::NaiveDate;
use thiserror::Error;

use super::{Pauses, Period, Profile, add_period, compute_deadline};
use crate::domain::calendar::HolidayCalendar;

/// Why an extension is refused; each message says what would be accepted.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ExtensionError {
    #[error("the {profile} profile allows no extension")]
    NotAllowed { profile: String },
    #[error("an extension must be longer than zero: give a number of months or days")]
    Empty,
    #[error(
        "an extension of {requested} goes beyond the cap: the {profile} profile allows at most \
         {max} in total and {}",
        remaining_phrase(*.remaining)
    )]
    BeyondCap {
        profile: String,
        requested: Period,
        remaining: Period,
        max: Period,
    },
    #[error(
        "too late to extend: an extension had to be decided and the requester told by {due_on}, \
         and that day has passed"
    )]
    TooLate { due_on: NaiveDate },
}

fn remaining_phrase(remaining: Period) -> String {
    if remaining.is_zero() {
        "none remains".to_owned()
    } else if remaining.months.saturating_add(remaining.days) == 1 {
        format!("{remaining} remains")
    } else {
        format!("{remaining} remain")
    }
}

/// Checks a request to extend the deadline by `requested` on top of the
/// `already` granted extension; returns the new total extension.
///
/// The cap is checked on dates, not on numbers, because months and days do
/// not convert: the new period end (from the anchor, never chained from an
/// earlier due date) may not pass the end of base + `max_extension`.
///
/// The decision must come before the due date passes (on the due day itself
/// it is still in time). Where the profile requires notice within the first
/// period (GDPR art. 12(3), CCPA, PIPEDA s. 8(4)) that is the due date of the
/// base period, so a second extension after it is refused too; otherwise the
/// current due date.
#[expect(
    clippy::too_many_arguments,
    reason = "the inputs of the law: the rules, whose name the messages quote, and the request's dates"
)]
pub fn check_extension(
    profile: &Profile,
    profile_name: &str,
    calendar: &HolidayCalendar,
    received_on: NaiveDate,
    already: Period,
    requested: Period,
    pauses: &Pauses,
    today: NaiveDate,
) -> Result<Period, ExtensionError> {
    if profile.max_extension.is_zero() {
        return Err(ExtensionError::NotAllowed {
            profile: profile_name.to_owned(),
        });
    }
    if requested.is_zero() {
        return Err(ExtensionError::Empty);
    }
    let decided_by = if profile.extension_notice_before_first_due {
        Period::default()
    } else {
        already
    };
    let limit = compute_deadline(profile, calendar, received_on, decided_by, pauses, today).due_on;
    if today > limit {
        return Err(ExtensionError::TooLate { due_on: limit });
    }
    let total = already.plus(requested);
    let cap_end = add_period(received_on, profile.base.plus(profile.max_extension));
    if add_period(received_on, profile.base.plus(total)) > cap_end {
        return Err(ExtensionError::BeyondCap {
            profile: profile_name.to_owned(),
            requested,
            remaining: remaining_extension(profile, received_on, already, cap_end),
            max: profile.max_extension,
        });
    }
    Ok(total)
}

/// What is left of the cap once `already` is granted: in the cap's own units
/// when they subtract cleanly, else as the calendar days between the two
/// period ends.
fn remaining_extension(
    profile: &Profile,
    received_on: NaiveDate,
    already: Period,
    cap_end: NaiveDate,
) -> Period {
    let max = profile.max_extension;
    if let (Some(months), Some(days)) = (
        max.months.checked_sub(already.months),
        max.days.checked_sub(already.days),
    ) {
        return Period { months, days };
    }
    let current_end = add_period(received_on, profile.base.plus(already));
    let days_left = (cap_end - current_end).num_days().max(0);
    Period::days(u32::try_from(days_left).unwrap_or(u32::MAX))
}
