use super::*;

#[test]
fn a_period_ending_on_a_saturday_ends_on_monday() {
    // 10 April + 1 month = Saturday 10 May 2025.
    assert_eq!(due("gdpr", d(2025, 4, 10)), d(2025, 5, 12));
}

#[test]
fn a_period_ending_on_a_working_day_stays() {
    // 31 March + 1 month = Wednesday 30 April 2025.
    assert_eq!(due("gdpr", d(2025, 3, 31)), d(2025, 4, 30));
    // 30 April + 1 month = Friday 30 May 2025, the day after Ascension.
    assert_eq!(due("uk-gdpr", d(2025, 4, 30)), d(2025, 5, 30));
}

#[test]
fn a_period_ending_on_labour_day_friday_ends_on_monday() {
    // Friday 1 May 2026, then the weekend.
    assert_eq!(due("gdpr", d(2026, 4, 1)), d(2026, 5, 4));
}

#[test]
fn a_period_ending_on_bastille_day_ends_the_next_day() {
    // Tuesday 14 July 2026 → Wednesday 15.
    assert_eq!(due("gdpr", d(2026, 6, 14)), d(2026, 7, 15));
}

#[test]
fn a_period_ending_on_ascension_thursday_ends_on_friday() {
    // Ascension 2026 is Thursday 14 May (Easter 5 April + 39).
    assert_eq!(due("gdpr", d(2026, 4, 14)), d(2026, 5, 15));
}

#[test]
fn a_period_ending_on_easter_monday_ends_on_tuesday() {
    assert_eq!(due("gdpr", d(2026, 3, 6)), d(2026, 4, 7));
}

#[test]
fn a_weekend_then_a_sunday_holiday_rolls_to_the_first_working_day() {
    // 31 August + 2 months = Saturday 31 October 2026; All Saints' is the
    // Sunday; Monday 2 November is a working day.
    assert_eq!(due("two-months", d(2026, 8, 31)), d(2026, 11, 2));
}

#[test]
fn a_period_ending_on_christmas_friday_ends_on_monday() {
    assert_eq!(due("gdpr", d(2026, 11, 25)), d(2026, 12, 28));
}

#[test]
fn english_substitute_days_roll_a_period_further() {
    // Saturday 25 December 2027: substitutes Monday 27 and Tuesday 28.
    let england = HolidayCalendar::new(Country::EnglandAndWales, []);
    let deadline = compute_deadline(
        &profile("uk-gdpr"),
        &england,
        d(2027, 11, 25),
        Period::default(),
        &no_pauses(),
        d(2027, 11, 25),
    );
    assert_eq!(deadline.period_end, d(2027, 12, 25));
    assert_eq!(deadline.due_on, d(2027, 12, 29));
}

#[test]
fn configured_extra_days_roll_a_period_too() {
    // 14 April + 1 month = Ascension Thursday 14 May 2026; the organisation
    // also closes on the bridge day, Friday 15 May.
    let with_bridge = HolidayCalendar::new(Country::France, [d(2026, 5, 15)]);
    let deadline = compute_deadline(
        &profile("gdpr"),
        &with_bridge,
        d(2026, 4, 14),
        Period::default(),
        &no_pauses(),
        d(2026, 4, 14),
    );
    assert_eq!(deadline.due_on, d(2026, 5, 18));
}

#[test]
fn a_profile_in_calendar_days_does_not_roll() {
    // CCPA: 1 January + 45 days = Saturday 15 February 2025, kept.
    assert_eq!(due("ccpa", d(2025, 1, 1)), d(2025, 2, 15));
}

#[test]
fn the_deadline_shows_how_it_was_reached() {
    let deadline = compute_deadline(
        &profile("gdpr"),
        &france(),
        d(2025, 4, 10),
        Period::default(),
        &no_pauses(),
        d(2025, 4, 10),
    );
    assert_eq!(
        deadline,
        Deadline {
            received_on: d(2025, 4, 10),
            period: Period::months(1),
            period_end: d(2025, 5, 10),
            paused_days: 0,
            clock_stopped: false,
            due_on: d(2025, 5, 12),
        }
    );
}

#[test]
fn days_left_is_zero_on_the_due_day_and_negative_after() {
    assert_eq!(days_left(d(2025, 2, 6), d(2025, 2, 1)), 5);
    assert_eq!(days_left(d(2025, 2, 6), d(2025, 2, 6)), 0);
    assert_eq!(days_left(d(2025, 2, 6), d(2025, 3, 10)), -32);
}
