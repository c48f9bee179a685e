//! The deadline arithmetic against a second, independent implementation written here from
//! the text of the rules (no chrono month or day arithmetic): 10,000 random receipts per
//! profile, with random pauses, open pauses and extensions.

use chrono::{Datelike, NaiveDate, TimeZone, Utc};
use proptest::prelude::*;

use super::*;

/// Days since 1970-01-01 of a civil date (proleptic Gregorian), by H. Hinnant's algorithm.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

fn leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn month_length(y: i64, m: i64) -> i64 {
    match m {
        2 if leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// EU Regulation 1182/71 art. 3(2): months first (the same day number, or the last day of a
/// shorter month), then days, the anchor day itself not counted.
fn by_hand(anchor: NaiveDate, months: u32, days: u32) -> (i64, i64, i64) {
    let (y, m, d) = (
        i64::from(anchor.year()),
        i64::from(anchor.month()),
        i64::from(anchor.day()),
    );
    let index = y * 12 + (m - 1) + i64::from(months);
    let (ty, tm) = (index.div_euclid(12), index.rem_euclid(12) + 1);
    let td = d.min(month_length(ty, tm));
    civil_from_days(days_from_civil(ty, tm, td) + i64::from(days))
}

fn ymd(date: NaiveDate) -> (i64, i64, i64) {
    (
        i64::from(date.year()),
        i64::from(date.month()),
        i64::from(date.day()),
    )
}

fn plus_days(date: (i64, i64, i64), n: i64) -> (i64, i64, i64) {
    civil_from_days(days_from_civil(date.0, date.1, date.2) + n)
}

fn to_date((y, m, d): (i64, i64, i64)) -> NaiveDate {
    let y = i32::try_from(y).expect("a year chrono holds");
    NaiveDate::from_ymd_opt(y, m as u32, d as u32).expect("a valid date")
}

fn date(days_since_2018: i64) -> NaiveDate {
    to_date(civil_from_days(
        days_from_civil(2018, 1, 1) + days_since_2018,
    ))
}

/// Paris time by the EU's own rule (Directive 2000/84): summer time from 01:00 UTC on the
/// last Sunday of March to 01:00 UTC on the last Sunday of October.
fn paris_day(at_unix: i64) -> (i64, i64, i64) {
    let (y, _, _) = civil_from_days(at_unix.div_euclid(86_400));
    let last_sunday = |m: i64| {
        let last = days_from_civil(y, m, 31);
        // 1970-01-01 was a Thursday: (days + 4) mod 7 is the weekday, Sunday = 0.
        last - (last + 4).rem_euclid(7)
    };
    let summer_from = last_sunday(3) * 86_400 + 3_600;
    let summer_to = last_sunday(10) * 86_400 + 3_600;
    let offset = if (summer_from..summer_to).contains(&at_unix) {
        7_200
    } else {
        3_600
    };
    civil_from_days((at_unix + offset).div_euclid(86_400))
}

const PROFILES: [&str; 7] = [
    "two-months",
    "gdpr",
    "uk-gdpr",
    "ccpa",
    "lgpd",
    "quebec",
    "pipeda",
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(10_000))]

    #[test]
    fn due_dates_match_the_rule_written_out(
        received in 0i64..8_000,
        ext_months in 0u32..4,
        ext_days in 0u32..60,
        closed_days in 0i64..400,
        open_for in proptest::option::of(0i64..200),
    ) {
        for name in PROFILES {
        let p = profile(name);
        let calendar = france();
        let received = date(received);
        let extension = Period { months: ext_months, days: ext_days };
        let today = received + chrono::Days::new(300);
        let pauses = Pauses {
            closed_days,
            open_since: open_for.map(|n| today - chrono::Days::new(n as u64)),
        };
        let got = compute_deadline(&p, &calendar, received, extension, &pauses, today);

        let period = p.base.plus(extension);
        let period_end = by_hand(received, period.months, period.days);
        prop_assert_eq!(ymd(got.period_end), period_end);
        let paused = closed_days + open_for.unwrap_or(0);
        prop_assert_eq!(got.paused_days, paused);
        prop_assert_eq!(got.clock_stopped, open_for.is_some());
        let unrolled = plus_days(period_end, paused);
        if p.roll_to_working_day {
            // The first working day on or after the end: every day before it is off.
            let mut day = unrolled;
            while !calendar.is_working_day(to_date(day)) {
                day = plus_days(day, 1);
            }
            prop_assert_eq!(ymd(got.due_on), day);
        } else {
            prop_assert_eq!(ymd(got.due_on), unrolled);
        }
        prop_assert!(got.due_on > received);
        }
    }

    #[test]
    fn extensions_stay_within_the_cap(
        received in 0i64..8_000,
        already in (0u32..3, 0u32..50),
        asked in (0u32..4, 0u32..70),
        days_after in 0u64..120,
    ) {
        for name in PROFILES {
        let p = profile(name);
        let calendar = france();
        let received = date(received);
        let already = Period { months: already.0, days: already.1 };
        let requested = Period { months: asked.0, days: asked.1 };
        let today = received + chrono::Days::new(days_after);
        let decided = check_extension(&p, name, &calendar, received, already, requested, &no_pauses(), today);
        let cap = p.base.plus(p.max_extension);
        let cap_end = by_hand(received, cap.months, cap.days);
        match decided {
            Ok(total) => {
                prop_assert_eq!(total, already.plus(requested));
                let end = by_hand(received, p.base.months + total.months, p.base.days + total.days);
                prop_assert!(end <= cap_end, "{name}: {end:?} past the cap {cap_end:?}");
                prop_assert!(!requested.is_zero());
            }
            Err(ExtensionError::NotAllowed { .. }) => prop_assert!(p.max_extension.is_zero()),
            Err(ExtensionError::Empty) => prop_assert!(requested.is_zero()),
            Err(ExtensionError::BeyondCap { .. }) => {
                let total = already.plus(requested);
                let end = by_hand(received, p.base.months + total.months, p.base.days + total.days);
                prop_assert!(end > cap_end);
            }
            Err(ExtensionError::TooLate { due_on }) => prop_assert!(today > due_on),
        }
        }
    }

    #[test]
    fn the_day_of_receipt_is_the_day_in_paris(at in 1_514_764_800i64..2_145_916_800) {
        let instant = Utc.timestamp_opt(at, 0).single().expect("an instant");
        let got = received_on(instant, chrono_tz::Europe::Paris);
        prop_assert_eq!(ymd(got), paris_day(at));
    }
}

#[test]
fn the_written_out_rule_agrees_with_worked_examples() {
    assert_eq!(by_hand(d(2025, 1, 31), 1, 0), (2025, 2, 28));
    assert_eq!(by_hand(d(2024, 1, 31), 1, 0), (2024, 2, 29));
    assert_eq!(by_hand(d(2025, 3, 31), 1, 0), (2025, 4, 30));
    assert_eq!(by_hand(d(2025, 12, 15), 2, 0), (2026, 2, 15));
    assert_eq!(by_hand(d(2025, 2, 1), 0, 45), (2025, 3, 18));
    assert_eq!(paris_day(1_743_296_400 - 1), (2025, 3, 30));
    assert_eq!(ymd(date(0)), (2018, 1, 1));
}
