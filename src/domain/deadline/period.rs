//! Lengths of time as the law states them ("one month", "45 days") and how
//! they are counted from the day a request was received.

use std::fmt;

use chrono::{Days, Months, NaiveDate};
use serde::{Deserialize, Serialize};

/// A legal period: whole months, then whole calendar days.
///
/// In configuration it is a table, `{ months = 1 }` or `{ days = 45 }`; a
/// missing field is zero and an unknown one is an error.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Period {
    pub months: u32,
    pub days: u32,
}

impl Period {
    pub const fn months(months: u32) -> Self {
        Period { months, days: 0 }
    }

    pub const fn days(days: u32) -> Self {
        Period { months: 0, days }
    }

    /// Both periods one after the other: months add to months, days to days.
    pub const fn plus(self, other: Period) -> Period {
        Period {
            months: self.months.saturating_add(other.months),
            days: self.days.saturating_add(other.days),
        }
    }

    pub const fn is_zero(self) -> bool {
        self.months == 0 && self.days == 0
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let plural = |n: u32| if n == 1 { "" } else { "s" };
        match (self.months, self.days) {
            (0, days) => write!(f, "{days} day{}", plural(days)),
            (months, 0) => write!(f, "{months} month{}", plural(months)),
            (months, days) => write!(
                f,
                "{months} month{} and {days} day{}",
                plural(months),
                plural(days)
            ),
        }
    }
}

/// The last day of `period` counted from `anchor`, the day of receipt.
///
/// EU Regulation 1182/71 (rules applicable to periods, dates and time
/// limits), art. 3:
/// - the day of the event that starts the period is not counted (art. 3(1));
/// - a period in months ends on the day of the last month that has the same
///   number as the anchor, or on that month's last day when it has no such
///   day (art. 3(2)(c)): 31 January + 1 month = 28 (or 29) February;
/// - a period in days ends on its last day (art. 3(2)(b)): anchor + n.
///
/// Months are counted first, then days. Rolling a period that ends on a day
/// off to the next working day (art. 3(4)) is not done here: see
/// [`super::compute_deadline`]. Beyond chrono's last date the result
/// saturates at `NaiveDate::MAX`.
pub fn add_period(anchor: NaiveDate, period: Period) -> NaiveDate {
    // chrono's month arithmetic clamps to the last day of a shorter month,
    // which is exactly art. 3(2)(c).
    anchor
        .checked_add_months(Months::new(period.months))
        .and_then(|end| end.checked_add_days(Days::new(u64::from(period.days))))
        .unwrap_or(NaiveDate::MAX)
}
