use super::*;

/// `check_extension` under a built-in profile, in France, with no pause.
fn extend(
    profile_name: &str,
    received: NaiveDate,
    already: Period,
    requested: Period,
    today: NaiveDate,
) -> Result<Period, ExtensionError> {
    check_extension(
        &profile(profile_name),
        profile_name,
        &france(),
        received,
        already,
        requested,
        &no_pauses(),
        today,
    )
}

fn deadline_with(profile_name: &str, received: NaiveDate, extension: Period) -> Deadline {
    compute_deadline(
        &profile(profile_name),
        &france(),
        received,
        extension,
        &no_pauses(),
        received,
    )
}

#[test]
fn an_extension_counts_from_the_anchor_not_from_the_first_due_date() {
    // Received 31 January 2025: one month ends 28 February. Chaining two
    // more months from there would give 28 April; counted from the anchor,
    // 1 + 2 = 3 months end on Wednesday 30 April.
    assert_eq!(
        deadline_with("gdpr", d(2025, 1, 31), Period::default()).due_on,
        d(2025, 2, 28)
    );
    let extended = deadline_with("gdpr", d(2025, 1, 31), Period::months(2));
    assert_eq!(extended.period, Period::months(3));
    assert_eq!(extended.period_end, d(2025, 4, 30));
    assert_eq!(extended.due_on, d(2025, 4, 30));
}

#[test]
fn an_extension_within_the_cap_returns_the_new_total() {
    let total = extend(
        "gdpr",
        d(2025, 1, 31),
        Period::default(),
        Period::months(2),
        d(2025, 2, 20),
    );
    assert_eq!(total, Ok(Period::months(2)));
    let total = extend(
        "gdpr",
        d(2025, 1, 31),
        Period::months(1),
        Period::months(1),
        d(2025, 2, 20),
    );
    assert_eq!(total, Ok(Period::months(2)));
}

#[test]
fn exactly_at_the_cap_is_allowed_and_one_day_more_is_refused() {
    let received = d(2025, 3, 3);
    let today = d(2025, 3, 10);
    assert_eq!(
        extend(
            "gdpr",
            received,
            Period::default(),
            Period::months(2),
            today
        ),
        Ok(Period::months(2))
    );
    let error = extend("gdpr", received, Period::months(2), Period::days(1), today).unwrap_err();
    assert_eq!(
        error,
        ExtensionError::BeyondCap {
            profile: "gdpr".into(),
            requested: Period::days(1),
            remaining: Period::default(),
            max: Period::months(2),
        }
    );
    assert_eq!(
        error.to_string(),
        "an extension of 1 day goes beyond the cap: the gdpr profile allows at most 2 months \
         in total and none remains"
    );
}

#[test]
fn a_longer_extension_than_the_cap_says_what_remains() {
    let error = extend(
        "gdpr",
        d(2025, 3, 3),
        Period::default(),
        Period::months(3),
        d(2025, 3, 10),
    )
    .unwrap_err();
    assert_eq!(
        error.to_string(),
        "an extension of 3 months goes beyond the cap: the gdpr profile allows at most 2 months \
         in total and 2 months remain"
    );
}

#[test]
fn an_extension_in_days_on_a_month_profile_is_compared_by_dates() {
    // Received 3 March 2025: the cap ends 3 months later, Tuesday 3 June.
    // One month (3 April) + 61 days = 3 June: allowed; + 62 days: refused.
    let received = d(2025, 3, 3);
    let today = d(2025, 3, 10);
    assert_eq!(
        extend("gdpr", received, Period::default(), Period::days(61), today),
        Ok(Period::days(61))
    );
    let error = extend("gdpr", received, Period::default(), Period::days(62), today).unwrap_err();
    assert!(matches!(error, ExtensionError::BeyondCap { .. }));
    assert!(error.to_string().contains("cap"));
}

#[test]
fn months_and_days_mix_through_dates() {
    // Received 31 January 2025 with one month already granted: the period
    // ends 31 March; + 30 days = 30 April = the 3-month cap exactly.
    let received = d(2025, 1, 31);
    let today = d(2025, 2, 20);
    assert_eq!(
        extend("gdpr", received, Period::months(1), Period::days(30), today),
        Ok(Period {
            months: 1,
            days: 30
        })
    );
    let error = extend("gdpr", received, Period::months(1), Period::days(31), today).unwrap_err();
    assert_eq!(
        error.to_string(),
        "an extension of 31 days goes beyond the cap: the gdpr profile allows at most 2 months \
         in total and 1 month remains"
    );
}

#[test]
fn what_remains_is_given_in_days_when_months_do_not_subtract() {
    // 10 days granted out of 2 months: from 13 April to the cap on 3 June
    // 2025, 51 days remain.
    let error = extend(
        "gdpr",
        d(2025, 3, 3),
        Period::days(10),
        Period::months(2),
        d(2025, 3, 10),
    )
    .unwrap_err();
    assert!(
        matches!(error, ExtensionError::BeyondCap { remaining, .. } if remaining == Period::days(51))
    );
}

#[test]
fn an_extension_after_the_due_date_is_too_late() {
    // Received 6 January 2025, due Thursday 6 February.
    let error = extend(
        "gdpr",
        d(2025, 1, 6),
        Period::default(),
        Period::months(1),
        d(2025, 3, 10),
    )
    .unwrap_err();
    assert_eq!(
        error,
        ExtensionError::TooLate {
            due_on: d(2025, 2, 6)
        }
    );
    assert!(error.to_string().contains("2025-02-06"), "{error}");
    assert!(
        extend(
            "gdpr",
            d(2025, 1, 6),
            Period::default(),
            Period::months(1),
            d(2025, 2, 7)
        )
        .is_err()
    );
}

#[test]
fn an_extension_on_the_due_day_itself_is_in_time() {
    assert_eq!(
        extend(
            "gdpr",
            d(2025, 1, 6),
            Period::default(),
            Period::months(1),
            d(2025, 2, 6)
        ),
        Ok(Period::months(1))
    );
}

#[test]
fn a_second_extension_must_also_come_within_the_first_period_under_the_gdpr() {
    // GDPR art. 12(3): notice of any extension within one month of receipt.
    // With one month granted the request is due 6 March, but on 10 February
    // the first month (6 February) is over.
    let error = extend(
        "gdpr",
        d(2025, 1, 6),
        Period::months(1),
        Period::months(1),
        d(2025, 2, 10),
    )
    .unwrap_err();
    assert_eq!(
        error,
        ExtensionError::TooLate {
            due_on: d(2025, 2, 6)
        }
    );
}

#[test]
fn without_the_first_period_rule_the_current_due_date_is_the_limit() {
    let mut relaxed = profile("gdpr");
    relaxed.extension_notice_before_first_due = false;
    let total = check_extension(
        &relaxed,
        "relaxed",
        &france(),
        d(2025, 1, 6),
        Period::months(1),
        Period::months(1),
        &no_pauses(),
        d(2025, 2, 10),
    );
    assert_eq!(total, Ok(Period::months(2)));
}

#[test]
fn pauses_push_back_the_limit_for_deciding() {
    // Due 6 February + 5 paused days = Tuesday 11 February.
    let pauses = Pauses {
        closed_days: 5,
        open_since: None,
    };
    let gdpr = profile("gdpr");
    let total = check_extension(
        &gdpr,
        "gdpr",
        &france(),
        d(2025, 1, 6),
        Period::default(),
        Period::months(1),
        &pauses,
        d(2025, 2, 10),
    );
    assert_eq!(total, Ok(Period::months(1)));
}

#[test]
fn profiles_without_an_extension_refuse_any() {
    for name in ["lgpd", "quebec"] {
        let error = extend(
            name,
            d(2025, 1, 6),
            Period::default(),
            Period::days(5),
            d(2025, 1, 7),
        )
        .unwrap_err();
        assert_eq!(
            error,
            ExtensionError::NotAllowed {
                profile: name.into()
            }
        );
        assert_eq!(
            error.to_string(),
            format!("the {name} profile allows no extension")
        );
    }
}

#[test]
fn an_empty_extension_is_refused() {
    let error = extend(
        "gdpr",
        d(2025, 1, 6),
        Period::default(),
        Period::default(),
        d(2025, 1, 7),
    )
    .unwrap_err();
    assert_eq!(error, ExtensionError::Empty);
    assert!(error.to_string().contains("months or days"));
}

#[test]
fn ccpa_allows_45_more_calendar_days_and_no_more() {
    // Received 1 January 2025: 45 + 45 = 90 days → Tuesday 1 April.
    let received = d(2025, 1, 1);
    assert_eq!(
        extend(
            "ccpa",
            received,
            Period::default(),
            Period::days(45),
            d(2025, 2, 1)
        ),
        Ok(Period::days(45))
    );
    assert_eq!(
        deadline_with("ccpa", received, Period::days(45)).due_on,
        d(2025, 4, 1)
    );
    let error = extend(
        "ccpa",
        received,
        Period::default(),
        Period::days(46),
        d(2025, 2, 1),
    )
    .unwrap_err();
    assert!(
        error
            .to_string()
            .ends_with("at most 45 days in total and 45 days remain"),
        "{error}"
    );
}

#[test]
fn pipeda_allows_30_more_days_decided_within_the_first_30() {
    // Received 1 January 2025, first due Friday 31 January (no rolling).
    let received = d(2025, 1, 1);
    assert_eq!(
        extend(
            "pipeda",
            received,
            Period::default(),
            Period::days(30),
            d(2025, 1, 31)
        ),
        Ok(Period::days(30))
    );
    assert_eq!(
        deadline_with("pipeda", received, Period::days(30)).due_on,
        d(2025, 3, 2)
    );
    let late = extend(
        "pipeda",
        received,
        Period::default(),
        Period::days(30),
        d(2025, 2, 1),
    );
    assert_eq!(
        late,
        Err(ExtensionError::TooLate {
            due_on: d(2025, 1, 31)
        })
    );
}
