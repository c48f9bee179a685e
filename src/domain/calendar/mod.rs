//! Working days: which days are public holidays in the organisation's
//! country, computed from the rules of each country (Easter-based feasts,
//! "first Monday of May", substitute days) rather than read from a list that
//! would run out, plus the extra closing days an organisation configures.
//!
//! Deadlines need this because a period that ends on a Saturday, a Sunday or
//! a public holiday ends on the next working day (EU Regulation 1182/71
//! art. 3(4)).

mod countries;
#[cfg(test)]
mod tests;

use std::collections::BTreeSet;

use chrono::{Datelike, Days, NaiveDate, Weekday};

use super::kind::text_enum;

text_enum! {
    /// Whose public holidays count, by ISO 3166 code (parsed case-insensitively).
    pub enum Country (what = "country", ignore_case = true) {
        /// Metropolitan France: the eleven holidays of Code du travail art. L3133-1.
        France => "FR",
        /// Alsace and Moselle (local law, Code du travail art. L3134-13):
        /// France plus Good Friday and 26 December.
        AlsaceMoselle => "FR-AM",
        Belgium => "BE",
        Luxembourg => "LU",
        /// Germany: the nine nationwide holidays only (each Land adds its own,
        /// configure those as extra days).
        Germany => "DE",
        /// England and Wales bank holidays (Banking and Financial Dealings
        /// Act 1971), with substitute days.
        EnglandAndWales => "GB",
        Ireland => "IE",
        /// No public holidays: only Saturdays and Sundays are off.
        WeekendsOnly => "NONE",
    }
}

/// Easter Sunday in the Gregorian calendar (the "anonymous Gregorian
/// algorithm", Meeus/Jones/Butcher). Years chrono cannot represent (beyond
/// ±262,000) saturate to `NaiveDate::MIN` / `NaiveDate::MAX`.
pub fn easter_sunday(year: i32) -> NaiveDate {
    let y = i64::from(year);
    let golden = y.rem_euclid(19);
    let century = y.div_euclid(100);
    let year_of_century = y.rem_euclid(100);
    let skipped_leaps = century.div_euclid(4);
    let century_rest = century.rem_euclid(4);
    let moon_correction = (century + 8).div_euclid(25);
    let solar_correction = (century - moon_correction + 1).div_euclid(3);
    let epact = (19 * golden + century - skipped_leaps - solar_correction + 15).rem_euclid(30);
    let leap_quarters = year_of_century.div_euclid(4);
    let leap_rest = year_of_century.rem_euclid(4);
    let weekday_shift =
        (32 + 2 * century_rest + 2 * leap_quarters - epact - leap_rest).rem_euclid(7);
    let correction = (golden + 11 * epact + 22 * weekday_shift).div_euclid(451);
    let days_from_march = epact + weekday_shift - 7 * correction + 114;
    let month = days_from_march.div_euclid(31);
    let day = days_from_march.rem_euclid(31) + 1;
    // month is 3 or 4 and day 1..=31 by construction; only the year can be
    // out of chrono's range.
    let date = u32::try_from(month)
        .ok()
        .zip(u32::try_from(day).ok())
        .and_then(|(month, day)| NaiveDate::from_ymd_opt(year, month, day));
    date.unwrap_or(if year < 0 {
        NaiveDate::MIN
    } else {
        NaiveDate::MAX
    })
}

/// The days off of one organisation: its country's public holidays, plus the
/// extra closing days it configured (company holidays, regional feasts).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HolidayCalendar {
    country: Country,
    extra: BTreeSet<NaiveDate>,
}

/// The name given to configured extra days in [`HolidayCalendar::holidays`].
const EXTRA_DAY_NAME: &str = "Additional closing day";

impl HolidayCalendar {
    pub fn new(country: Country, extra: impl IntoIterator<Item = NaiveDate>) -> Self {
        HolidayCalendar {
            country,
            extra: extra.into_iter().collect(),
        }
    }

    pub fn country(&self) -> Country {
        self.country
    }

    /// The public holidays of `year` with their English names, sorted by date,
    /// extra days included. A day that is both (e.g. configured on top of a
    /// public holiday) is listed once, under its public name.
    pub fn holidays(&self, year: i32) -> Vec<(NaiveDate, &'static str)> {
        let mut days = countries::public_holidays(self.country, year);
        for &extra in &self.extra {
            if extra.year() == year && !days.iter().any(|(date, _)| *date == extra) {
                days.push((extra, EXTRA_DAY_NAME));
            }
        }
        days.sort_by_key(|(date, _)| *date);
        days
    }

    /// A public holiday (including a substitute day) or a configured extra day.
    pub fn is_holiday(&self, day: NaiveDate) -> bool {
        self.extra.contains(&day)
            || countries::public_holidays(self.country, day.year())
                .iter()
                .any(|(date, _)| *date == day)
    }

    /// Neither a Saturday, a Sunday nor a holiday.
    pub fn is_working_day(&self, day: NaiveDate) -> bool {
        !is_weekend(day) && !self.is_holiday(day)
    }

    /// `day` itself when it is a working day, else the next working day
    /// (Reg. 1182/71 art. 3(4)).
    pub fn roll_forward(&self, day: NaiveDate) -> NaiveDate {
        let mut current = day;
        while !self.is_working_day(current) {
            match current.succ_opt() {
                Some(next) => current = next,
                // The end of chrono's calendar: nothing later to roll to.
                None => return current,
            }
        }
        current
    }

    /// The date `count` working days after `day`; `day` itself is not
    /// counted, whether or not it is a working day.
    pub fn add_working_days(&self, day: NaiveDate, count: u32) -> NaiveDate {
        let mut current = day;
        let mut counted = 0;
        while counted < count {
            match current.checked_add_days(Days::new(1)) {
                Some(next) => current = next,
                None => return current,
            }
            if self.is_working_day(current) {
                counted += 1;
            }
        }
        current
    }
}

fn is_weekend(day: NaiveDate) -> bool {
    matches!(day.weekday(), Weekday::Sat | Weekday::Sun)
}
