//! Worked examples of the deadline law. Every expected date was checked
//! against a calendar; weekdays are given in comments so they can be
//! checked again by eye.

mod extension;
mod pauses;
mod period;
mod profiles;
mod properties;
mod rolling;
mod time_zone;

use chrono::NaiveDate;

use super::*;
use crate::domain::calendar::{Country, HolidayCalendar};

fn d(year: i32, month: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(year, month, day).expect("valid test date")
}

fn profile(name: &str) -> Profile {
    builtin_profiles().remove(name).expect("built-in profile")
}

fn france() -> HolidayCalendar {
    HolidayCalendar::new(Country::France, [])
}

fn no_pauses() -> Pauses {
    Pauses::default()
}

/// The due date of a request under a built-in profile, in France, with no
/// extension and no pause.
fn due(profile_name: &str, received: NaiveDate) -> NaiveDate {
    compute_deadline(
        &profile(profile_name),
        &france(),
        received,
        Period::default(),
        &no_pauses(),
        received,
    )
    .due_on
}
