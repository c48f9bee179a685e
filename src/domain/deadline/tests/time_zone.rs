use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use super::*;

fn utc(text: &str) -> DateTime<Utc> {
    text.parse().expect("valid test instant")
}

const PARIS: Tz = chrono_tz::Europe::Paris;

#[test]
fn late_evening_utc_in_winter_is_the_next_day_in_paris() {
    // 23:30 UTC on 31 January is 00:30 on 1 February in Paris (UTC+1).
    assert_eq!(
        received_on(utc("2025-01-31T23:30:00Z"), PARIS),
        d(2025, 2, 1)
    );
    assert_eq!(
        received_on(utc("2025-01-31T22:59:59Z"), PARIS),
        d(2025, 1, 31)
    );
}

#[test]
fn the_local_day_of_receipt_sets_the_deadline() {
    // Received 1 February in Paris: two months → Tuesday 1 April 2025, where
    // the UTC date would have given 31 March.
    let received = received_on(utc("2025-01-31T23:30:00Z"), PARIS);
    assert_eq!(due("two-months", received), d(2025, 4, 1));
}

#[test]
fn summer_time_moves_the_local_midnight_to_22_utc() {
    // UTC+2: 22:30 UTC is 00:30 the next day; 21:59 UTC is still 23:59.
    assert_eq!(
        received_on(utc("2025-07-14T22:30:00Z"), PARIS),
        d(2025, 7, 15)
    );
    assert_eq!(
        received_on(utc("2025-07-14T21:59:00Z"), PARIS),
        d(2025, 7, 14)
    );
}

#[test]
fn end_of_day_in_paris_winter_is_23_59_59_plus_one() {
    assert_eq!(
        end_of_day(d(2025, 1, 15), PARIS),
        utc("2025-01-15T22:59:59Z")
    );
    let local = end_of_day(d(2025, 1, 15), PARIS).with_timezone(&PARIS);
    assert_eq!(local.to_rfc3339(), "2025-01-15T23:59:59+01:00");
}

#[test]
fn end_of_day_in_paris_summer_is_23_59_59_plus_two() {
    assert_eq!(
        end_of_day(d(2025, 7, 15), PARIS),
        utc("2025-07-15T21:59:59Z")
    );
    let local = end_of_day(d(2025, 7, 15), PARIS).with_timezone(&PARIS);
    assert_eq!(local.to_rfc3339(), "2025-07-15T23:59:59+02:00");
}

#[test]
fn end_of_day_on_the_days_the_clocks_change_uses_the_evening_offset() {
    // Spring forward at 02:00 on 30 March 2025, fall back at 03:00 on 26
    // October: by the evening the new offset applies.
    assert_eq!(
        end_of_day(d(2025, 3, 30), PARIS),
        utc("2025-03-30T21:59:59Z")
    );
    assert_eq!(
        end_of_day(d(2025, 10, 26), PARIS),
        utc("2025-10-26T22:59:59Z")
    );
}

#[test]
fn end_of_day_takes_the_earlier_instant_when_23_59_59_happens_twice() {
    // São Paulo left summer time at midnight on 17 February 2019: the hour
    // 23:00-24:00 on the 16th was lived twice, first at UTC-2.
    let sao_paulo = chrono_tz::America::Sao_Paulo;
    assert_eq!(
        end_of_day(d(2019, 2, 16), sao_paulo),
        utc("2019-02-17T01:59:59Z")
    );
    // The evening before summer time began at midnight exists once.
    assert_eq!(
        end_of_day(d(2018, 11, 3), sao_paulo),
        utc("2018-11-04T02:59:59Z")
    );
}

#[test]
fn end_of_day_of_a_day_that_never_existed_does_not_panic() {
    // Samoa skipped 30 December 2011 (UTC-10 to UTC+14 at 10:00 UTC).
    let apia = chrono_tz::Pacific::Apia;
    assert_eq!(
        end_of_day(d(2011, 12, 29), apia),
        utc("2011-12-30T09:59:59Z")
    );
    assert_eq!(
        end_of_day(d(2011, 12, 30), apia),
        utc("2011-12-30T09:59:59Z")
    );
    assert_eq!(
        end_of_day(d(2011, 12, 31), apia),
        utc("2011-12-31T09:59:59Z")
    );
}

#[test]
fn end_of_day_at_the_edges_of_chronos_calendar_does_not_panic() {
    let _ = end_of_day(NaiveDate::MAX, PARIS);
    let _ = end_of_day(NaiveDate::MIN, PARIS);
}
