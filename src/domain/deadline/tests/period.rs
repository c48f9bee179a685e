use super::*;

#[test]
fn one_month_from_the_31st_ends_on_the_last_day_of_february() {
    assert_eq!(
        add_period(d(2025, 1, 31), Period::months(1)),
        d(2025, 2, 28)
    );
    assert_eq!(
        add_period(d(2024, 1, 31), Period::months(1)),
        d(2024, 2, 29),
        "leap year"
    );
}

#[test]
fn one_month_from_the_31st_ends_on_the_30th_of_a_30_day_month() {
    assert_eq!(
        add_period(d(2025, 3, 31), Period::months(1)),
        d(2025, 4, 30)
    );
    assert_eq!(
        add_period(d(2025, 8, 31), Period::months(1)),
        d(2025, 9, 30)
    );
}

#[test]
fn one_month_ends_on_the_same_day_number() {
    assert_eq!(
        add_period(d(2025, 3, 15), Period::months(1)),
        d(2025, 4, 15)
    );
    assert_eq!(
        add_period(d(2025, 12, 15), Period::months(1)),
        d(2026, 1, 15)
    );
}

#[test]
fn the_29th_of_february_plus_a_month_is_the_29th_of_march() {
    assert_eq!(
        add_period(d(2024, 2, 29), Period::months(1)),
        d(2024, 3, 29)
    );
}

#[test]
fn the_29th_of_february_plus_twelve_months_is_the_28th_next_year() {
    assert_eq!(
        add_period(d(2024, 2, 29), Period::months(12)),
        d(2025, 2, 28)
    );
}

#[test]
fn three_months_from_the_30th_of_november_end_in_february() {
    assert_eq!(
        add_period(d(2024, 11, 30), Period::months(3)),
        d(2025, 2, 28)
    );
    assert_eq!(
        add_period(d(2023, 11, 30), Period::months(3)),
        d(2024, 2, 29)
    );
}

#[test]
fn a_period_in_days_does_not_count_the_day_of_receipt() {
    assert_eq!(add_period(d(2025, 1, 1), Period::days(45)), d(2025, 2, 15));
    assert_eq!(add_period(d(2025, 1, 1), Period::days(1)), d(2025, 1, 2));
}

#[test]
fn months_are_counted_before_days() {
    // 30 January + 1 month = 28 February, + 1 day = 1 March; days first
    // would give 31 January + 1 month = 28 February.
    let period = Period { months: 1, days: 1 };
    assert_eq!(add_period(d(2025, 1, 30), period), d(2025, 3, 1));
}

#[test]
fn a_zero_period_ends_on_the_anchor() {
    assert_eq!(
        add_period(d(2025, 1, 30), Period::default()),
        d(2025, 1, 30)
    );
}

#[test]
fn a_period_past_the_end_of_chronos_calendar_saturates() {
    assert_eq!(
        add_period(NaiveDate::MAX, Period::months(1)),
        NaiveDate::MAX
    );
    assert_eq!(add_period(NaiveDate::MAX, Period::days(1)), NaiveDate::MAX);
}

#[test]
fn periods_add_up_field_by_field() {
    let total = Period::months(1)
        .plus(Period::days(10))
        .plus(Period::months(1));
    assert_eq!(
        total,
        Period {
            months: 2,
            days: 10
        }
    );
    assert!(Period::default().is_zero());
    assert!(!Period::days(1).is_zero());
    assert_eq!(
        Period::months(u32::MAX).plus(Period::months(1)).months,
        u32::MAX
    );
}

#[test]
fn periods_read_like_the_law() {
    assert_eq!(Period::months(2).to_string(), "2 months");
    assert_eq!(Period::months(1).to_string(), "1 month");
    assert_eq!(Period::days(45).to_string(), "45 days");
    assert_eq!(Period::days(1).to_string(), "1 day");
    assert_eq!(
        Period {
            months: 1,
            days: 10
        }
        .to_string(),
        "1 month and 10 days"
    );
    assert_eq!(
        Period { months: 2, days: 1 }.to_string(),
        "2 months and 1 day"
    );
    assert_eq!(Period::default().to_string(), "0 days");
}

#[test]
fn a_period_is_read_from_a_table_with_missing_fields_zero() {
    use serde::Deserialize;
    use serde::de::value::{Error, MapDeserializer};

    let read = |fields: Vec<(&'static str, u32)>| {
        Period::deserialize(MapDeserializer::<_, Error>::new(fields.into_iter()))
    };
    assert_eq!(read(vec![("months", 1)]), Ok(Period::months(1)));
    assert_eq!(read(vec![("days", 45)]), Ok(Period::days(45)));
    assert_eq!(read(vec![]), Ok(Period::default()));
    let error = read(vec![("weeks", 2)]).unwrap_err();
    assert!(
        error.to_string().contains("unknown field `weeks`"),
        "{error}"
    );
}
