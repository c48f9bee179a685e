use super::*;

fn d(year: i32, month: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(year, month, day).expect("valid test date")
}

fn calendar(country: Country) -> HolidayCalendar {
    HolidayCalendar::new(country, [])
}

fn dates(calendar: &HolidayCalendar, year: i32) -> Vec<NaiveDate> {
    calendar
        .holidays(year)
        .into_iter()
        .map(|(date, _)| date)
        .collect()
}

#[test]
fn easter_sunday_matches_published_dates() {
    assert_eq!(easter_sunday(2000), d(2000, 4, 23));
    assert_eq!(easter_sunday(2019), d(2019, 4, 21));
    assert_eq!(easter_sunday(2024), d(2024, 3, 31));
    assert_eq!(easter_sunday(2025), d(2025, 4, 20));
    assert_eq!(easter_sunday(2026), d(2026, 4, 5));
    assert_eq!(easter_sunday(2027), d(2027, 3, 28));
    assert_eq!(easter_sunday(2038), d(2038, 4, 25));
}

#[test]
fn easter_sunday_outside_chronos_range_saturates_instead_of_panicking() {
    assert_eq!(easter_sunday(i32::MAX), NaiveDate::MAX);
    assert_eq!(easter_sunday(i32::MIN), NaiveDate::MIN);
    assert!(calendar(Country::France).holidays(i32::MAX).is_empty());
}

#[test]
fn france_has_its_eleven_holidays_with_easter_feasts_computed() {
    let france = calendar(Country::France);
    assert_eq!(
        dates(&france, 2026),
        [
            d(2026, 1, 1),
            d(2026, 4, 6),
            d(2026, 5, 1),
            d(2026, 5, 8),
            d(2026, 5, 14),
            d(2026, 5, 25),
            d(2026, 7, 14),
            d(2026, 8, 15),
            d(2026, 11, 1),
            d(2026, 11, 11),
            d(2026, 12, 25),
        ]
    );
    let names: Vec<&str> = france.holidays(2026).into_iter().map(|(_, n)| n).collect();
    assert_eq!(names[1], "Easter Monday");
    assert_eq!(names[4], "Ascension Day");
    assert_eq!(names[5], "Whit Monday");
}

#[test]
fn france_2025_easter_monday_ascension_and_whit_monday() {
    let france = calendar(Country::France);
    assert!(france.is_holiday(d(2025, 4, 21)));
    assert!(france.is_holiday(d(2025, 5, 29)));
    assert!(france.is_holiday(d(2025, 6, 9)));
    assert!(
        !france.is_holiday(d(2025, 4, 18)),
        "Good Friday is not a French holiday"
    );
    assert!(!france.is_holiday(d(2025, 12, 26)));
}

#[test]
fn alsace_moselle_adds_good_friday_and_st_stephens_day() {
    let alsace = calendar(Country::AlsaceMoselle);
    assert_eq!(alsace.holidays(2026).len(), 13);
    assert!(alsace.is_holiday(d(2026, 4, 3)));
    assert!(alsace.is_holiday(d(2026, 12, 26)));
    assert!(
        alsace.is_holiday(d(2026, 7, 14)),
        "French holidays still apply"
    );
}

#[test]
fn belgium_luxembourg_and_germany_national_days() {
    assert!(calendar(Country::Belgium).is_holiday(d(2026, 7, 21)));
    assert!(!calendar(Country::Belgium).is_holiday(d(2026, 5, 8)));
    assert_eq!(calendar(Country::Belgium).holidays(2026).len(), 10);

    let luxembourg = calendar(Country::Luxembourg);
    assert!(luxembourg.is_holiday(d(2026, 6, 23)));
    assert!(
        luxembourg.is_holiday(d(2019, 5, 9)),
        "Europe Day since 2019"
    );
    assert!(!luxembourg.is_holiday(d(2018, 5, 9)));

    let germany = calendar(Country::Germany);
    assert_eq!(germany.holidays(2026).len(), 9);
    assert!(germany.is_holiday(d(2026, 4, 3)), "Good Friday");
    assert!(germany.is_holiday(d(2026, 10, 3)), "German Unity Day");
    assert!(germany.is_holiday(d(2017, 10, 31)), "Reformation 500");
    assert!(!germany.is_holiday(d(2026, 10, 31)));
}

#[test]
fn england_and_wales_substitute_christmas_and_boxing_day_on_a_weekend() {
    let england = calendar(Country::EnglandAndWales);
    // 2027: Christmas on Saturday, Boxing Day on Sunday.
    assert!(england.is_holiday(d(2027, 12, 27)));
    assert!(england.is_holiday(d(2027, 12, 28)));
    // 2022: Christmas on Sunday; Boxing Day Monday, substitute Tuesday.
    assert!(england.is_holiday(d(2022, 12, 26)));
    assert!(england.is_holiday(d(2022, 12, 27)));
    // 2026: only Boxing Day (Saturday) needs a substitute.
    assert!(england.is_holiday(d(2026, 12, 28)));
    assert!(!england.is_holiday(d(2026, 12, 29)));
    // 2022: New Year's Day on Saturday, substitute Monday 3 January.
    assert!(england.is_holiday(d(2022, 1, 3)));
}

#[test]
fn england_and_wales_monday_bank_holidays_and_proclaimed_moves() {
    let england = calendar(Country::EnglandAndWales);
    assert_eq!(
        dates(&england, 2026),
        [
            d(2026, 1, 1),
            d(2026, 4, 3),
            d(2026, 4, 6),
            d(2026, 5, 4),
            d(2026, 5, 25),
            d(2026, 8, 31),
            d(2026, 12, 25),
            d(2026, 12, 26),
            d(2026, 12, 28),
        ]
    );
    assert!(england.is_holiday(d(2020, 5, 8)), "VE Day 75 moved May Day");
    assert!(!england.is_holiday(d(2020, 5, 4)));
    assert!(england.is_holiday(d(2022, 6, 2)) && england.is_holiday(d(2022, 6, 3)));
    assert!(!england.is_holiday(d(2022, 5, 30)));
    assert!(england.is_holiday(d(2022, 9, 19)));
    assert!(england.is_holiday(d(2023, 5, 8)));
}

#[test]
fn ireland_st_brigids_day_is_the_first_monday_or_a_friday_first_of_february() {
    let ireland = calendar(Country::Ireland);
    assert!(ireland.is_holiday(d(2026, 2, 2)));
    assert!(
        ireland.is_holiday(d(2030, 2, 1)),
        "1 February 2030 is a Friday"
    );
    assert!(!ireland.is_holiday(d(2030, 2, 4)));
    assert!(!ireland.is_holiday(d(2022, 2, 7)), "only since 2023");
    assert!(ireland.is_holiday(d(2026, 3, 17)));
    assert!(
        ireland.is_holiday(d(2026, 10, 26)),
        "last Monday of October"
    );
    assert!(
        !ireland.is_holiday(d(2026, 4, 3)),
        "Good Friday is not a public holiday"
    );
    // No substitute weekday in Irish law.
    assert!(!ireland.is_holiday(d(2026, 12, 28)));
}

#[test]
fn weekends_only_has_no_holidays() {
    let none = calendar(Country::WeekendsOnly);
    assert!(none.holidays(2026).is_empty());
    assert!(none.is_working_day(d(2026, 12, 25)));
    assert!(!none.is_working_day(d(2026, 12, 26)));
}

#[test]
fn country_codes_parse_case_insensitively() {
    assert_eq!("fr".parse::<Country>(), Ok(Country::France));
    assert_eq!("Fr-Am".parse::<Country>(), Ok(Country::AlsaceMoselle));
    assert_eq!("none".parse::<Country>(), Ok(Country::WeekendsOnly));
    assert_eq!(Country::EnglandAndWales.to_string(), "GB");
    let error = "XX".parse::<Country>().unwrap_err();
    assert_eq!(error.what, "country");
    assert_eq!(
        error.to_string(),
        "unknown country \"XX\"; expected one of: FR, FR-AM, BE, LU, DE, GB, IE, NONE"
    );
}

#[test]
fn extra_days_are_holidays_and_listed_once() {
    let company_day = d(2026, 12, 24);
    let already_public = d(2026, 12, 25);
    let france = HolidayCalendar::new(Country::France, [company_day, already_public]);
    assert!(france.is_holiday(company_day));
    assert!(!france.is_working_day(company_day));
    let listed = france.holidays(2026);
    assert_eq!(listed.len(), 12);
    assert!(listed.contains(&(company_day, "Additional closing day")));
    assert!(listed.contains(&(already_public, "Christmas Day")));
    assert!(
        listed.windows(2).all(|pair| pair[0].0 < pair[1].0),
        "sorted"
    );
    assert!(
        france
            .holidays(2027)
            .iter()
            .all(|(date, _)| date.year() == 2027)
    );
}

#[test]
fn working_days_exclude_weekends_and_holidays() {
    let france = calendar(Country::France);
    assert!(france.is_working_day(d(2026, 5, 13)), "Wednesday");
    assert!(!france.is_working_day(d(2026, 5, 16)), "Saturday");
    assert!(!france.is_working_day(d(2026, 5, 17)), "Sunday");
    assert!(!france.is_working_day(d(2026, 5, 14)), "Ascension");
}

#[test]
fn roll_forward_keeps_a_working_day() {
    assert_eq!(
        calendar(Country::France).roll_forward(d(2026, 5, 13)),
        d(2026, 5, 13)
    );
}

#[test]
fn roll_forward_moves_a_saturday_to_monday() {
    assert_eq!(
        calendar(Country::France).roll_forward(d(2026, 5, 16)),
        d(2026, 5, 18)
    );
}

#[test]
fn roll_forward_chains_a_weekend_and_a_holiday() {
    let france = calendar(Country::France);
    // Friday 1 May 2026, then the weekend.
    assert_eq!(france.roll_forward(d(2026, 5, 1)), d(2026, 5, 4));
    // Saturday 31 October, All Saints' on Sunday, Monday 2 November works.
    assert_eq!(france.roll_forward(d(2026, 10, 31)), d(2026, 11, 2));
    // Christmas Friday 25 December 2026 → Monday 28.
    assert_eq!(france.roll_forward(d(2026, 12, 25)), d(2026, 12, 28));
    // England 2027: Christmas Saturday, substitutes Monday and Tuesday.
    let england = calendar(Country::EnglandAndWales);
    assert_eq!(england.roll_forward(d(2027, 12, 25)), d(2027, 12, 29));
}

#[test]
fn roll_forward_at_the_end_of_time_does_not_loop() {
    let none = calendar(Country::WeekendsOnly);
    let last = NaiveDate::MAX;
    assert!(none.roll_forward(last) >= last);
}

#[test]
fn add_working_days_does_not_count_the_start_day() {
    let france = calendar(Country::France);
    assert_eq!(france.add_working_days(d(2026, 5, 13), 0), d(2026, 5, 13));
    assert_eq!(france.add_working_days(d(2026, 5, 12), 1), d(2026, 5, 13));
    // Friday + 1 → Monday.
    assert_eq!(
        france.add_working_days(d(2026, 5, 22), 1),
        d(2026, 5, 26),
        "Whit Monday 25"
    );
    // From a Saturday, the first working day counts as one.
    assert_eq!(france.add_working_days(d(2026, 5, 16), 1), d(2026, 5, 18));
    // Thursday 30 April + 1 skips Friday 1 May and the weekend.
    assert_eq!(france.add_working_days(d(2026, 4, 30), 1), d(2026, 5, 4));
}

#[test]
fn ten_working_days_span_two_weekends() {
    let none = calendar(Country::WeekendsOnly);
    // Wednesday 1 January 2025 + 10 working days = Wednesday 15 January.
    assert_eq!(none.add_working_days(d(2025, 1, 1), 10), d(2025, 1, 15));
}
