use super::*;

fn with_pauses(
    profile_name: &str,
    received: NaiveDate,
    pauses: Pauses,
    today: NaiveDate,
) -> Deadline {
    compute_deadline(
        &profile(profile_name),
        &france(),
        received,
        Period::default(),
        &pauses,
        today,
    )
}

fn closed(days: i64) -> Pauses {
    Pauses {
        closed_days: days,
        open_since: None,
    }
}

#[test]
fn a_closed_pause_moves_the_due_date_by_its_days_then_rolls() {
    // 3 February + 1 month = Monday 3 March 2025; + 5 days = Saturday 8 March
    // → Monday 10 March.
    let deadline = with_pauses("gdpr", d(2025, 2, 3), closed(5), d(2025, 3, 1));
    assert_eq!(deadline.period_end, d(2025, 3, 3));
    assert_eq!(deadline.paused_days, 5);
    assert!(!deadline.clock_stopped);
    assert_eq!(deadline.due_on, d(2025, 3, 10));
}

#[test]
fn pause_days_are_added_before_rolling_not_after() {
    // Period ends Saturday 10 May 2025; 2 paused days → Monday 12 May.
    // Rolling first (Monday 12) and adding after would give Wednesday 14.
    let deadline = with_pauses("gdpr", d(2025, 4, 10), closed(2), d(2025, 4, 20));
    assert_eq!(deadline.due_on, d(2025, 5, 12));
}

#[test]
fn an_open_pause_stops_the_clock_and_the_due_date_moves_with_today() {
    // Received 31 January 2025, period ends Friday 28 February; on hold
    // since 10 February.
    let on_hold = Pauses {
        closed_days: 0,
        open_since: Some(d(2025, 2, 10)),
    };
    let on_the_20th = with_pauses("gdpr", d(2025, 1, 31), on_hold, d(2025, 2, 20));
    assert!(on_the_20th.clock_stopped);
    assert_eq!(on_the_20th.paused_days, 10);
    assert_eq!(
        on_the_20th.due_on,
        d(2025, 3, 10),
        "28 February + 10 = Monday 10 March"
    );
    let on_the_21st = with_pauses("gdpr", d(2025, 1, 31), on_hold, d(2025, 2, 21));
    assert_eq!(on_the_21st.due_on, d(2025, 3, 11));
}

#[test]
fn an_open_pause_adds_to_the_closed_ones() {
    let pauses = Pauses {
        closed_days: 3,
        open_since: Some(d(2025, 2, 10)),
    };
    let deadline = with_pauses("gdpr", d(2025, 1, 31), pauses, d(2025, 2, 12));
    assert_eq!(deadline.paused_days, 5);
    assert_eq!(
        deadline.due_on,
        d(2025, 3, 5),
        "28 February + 5 = Wednesday 5 March"
    );
}

#[test]
fn a_pause_opened_today_has_not_moved_anything_yet() {
    let pauses = Pauses {
        closed_days: 0,
        open_since: Some(d(2025, 2, 10)),
    };
    let deadline = with_pauses("gdpr", d(2025, 1, 31), pauses, d(2025, 2, 10));
    assert!(deadline.clock_stopped);
    assert_eq!(deadline.paused_days, 0);
    assert_eq!(deadline.due_on, d(2025, 2, 28));
}

#[test]
fn impossible_pause_lengths_count_as_zero() {
    // A pause "opened" after today, or a negative closed total, never
    // brings the due date forward.
    let future = Pauses {
        closed_days: -4,
        open_since: Some(d(2025, 2, 25)),
    };
    let deadline = with_pauses("gdpr", d(2025, 1, 31), future, d(2025, 2, 20));
    assert_eq!(deadline.paused_days, 0);
    assert_eq!(deadline.due_on, d(2025, 2, 28));
}

#[test]
fn pauses_on_a_calendar_day_profile_are_not_rolled() {
    // Pauses are applied as given (the caller only records them where the
    // profile stops its clock); without rolling, 15 February + 1 day is
    // Sunday 16 February.
    let deadline = with_pauses("ccpa", d(2025, 1, 1), closed(1), d(2025, 1, 10));
    assert_eq!(deadline.due_on, d(2025, 2, 16));
}
