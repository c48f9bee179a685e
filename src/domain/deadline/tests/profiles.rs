use serde::Deserialize;
use serde::de::value::{Error, MapDeserializer};
use serde::de::{self, IntoDeserializer, Visitor};

use super::*;

#[test]
fn the_seven_built_in_profiles_are_there() {
    let names: Vec<&str> = builtin_profiles().into_keys().collect();
    assert_eq!(
        names,
        [
            "ccpa",
            "gdpr",
            "lgpd",
            "pipeda",
            "quebec",
            "two-months",
            "uk-gdpr"
        ]
    );
    assert!(builtin_profiles().contains_key(DEFAULT_PROFILE));
}

#[test]
fn each_built_in_profile_has_the_rules_of_its_law() {
    // (name, base, max extension, rolls, stops on hold, stops for identity,
    //  notice in first period, acknowledge within)
    let expected = [
        (
            "two-months",
            Period::months(2),
            Period::months(1),
            true,
            true,
            true,
            true,
            None,
        ),
        (
            "gdpr",
            Period::months(1),
            Period::months(2),
            true,
            true,
            true,
            true,
            None,
        ),
        (
            "uk-gdpr",
            Period::months(1),
            Period::months(2),
            true,
            true,
            true,
            true,
            None,
        ),
        (
            "ccpa",
            Period::days(45),
            Period::days(45),
            false,
            false,
            false,
            true,
            Some(10),
        ),
        (
            "lgpd",
            Period::days(15),
            Period::default(),
            false,
            false,
            false,
            false,
            None,
        ),
        (
            "quebec",
            Period::days(30),
            Period::default(),
            false,
            false,
            false,
            false,
            None,
        ),
        (
            "pipeda",
            Period::days(30),
            Period::days(30),
            false,
            false,
            false,
            true,
            None,
        ),
    ];
    for (name, base, max, rolls, hold, identity, notice, acknowledge) in expected {
        let p = profile(name);
        assert_eq!(p.base, base, "{name}");
        assert_eq!(p.max_extension, max, "{name}");
        assert_eq!(p.roll_to_working_day, rolls, "{name}");
        assert_eq!(p.clock_stops_on_hold, hold, "{name}");
        assert_eq!(p.clock_stops_for_identity, identity, "{name}");
        assert_eq!(p.extension_notice_before_first_due, notice, "{name}");
        assert_eq!(p.acknowledge_within_business_days, acknowledge, "{name}");
        assert!(!p.description.is_empty(), "{name}");
    }
}

#[test]
fn each_built_in_profile_gives_its_own_due_date() {
    // Two months from Friday 31 January 2025 = Monday 31 March.
    assert_eq!(due("two-months", d(2025, 1, 31)), d(2025, 3, 31));
    // One month from 31 January = Friday 28 February.
    assert_eq!(due("gdpr", d(2025, 1, 31)), d(2025, 2, 28));
    // Days from 1 January 2025, never rolled: 15 → Thu 16 January,
    // 30 → Fri 31 January, 45 → Sat 15 February.
    assert_eq!(due("lgpd", d(2025, 1, 1)), d(2025, 1, 16));
    assert_eq!(due("quebec", d(2025, 1, 1)), d(2025, 1, 31));
    assert_eq!(due("pipeda", d(2025, 1, 1)), d(2025, 1, 31));
    assert_eq!(due("ccpa", d(2025, 1, 1)), d(2025, 2, 15));
}

#[test]
fn ccpa_receipt_is_acknowledged_within_ten_business_days() {
    // Wednesday 1 January 2025 + 10 business days = Wednesday 15 January.
    let california = HolidayCalendar::new(Country::WeekendsOnly, []);
    assert_eq!(
        acknowledge_by(&profile("ccpa"), &california, d(2025, 1, 1)),
        Some(d(2025, 1, 15))
    );
    // From Friday 10 January, with Martin Luther King Day (Monday 20)
    // configured as a holiday: Monday 27 January.
    let with_mlk = HolidayCalendar::new(Country::WeekendsOnly, [d(2025, 1, 20)]);
    assert_eq!(
        acknowledge_by(&profile("ccpa"), &with_mlk, d(2025, 1, 10)),
        Some(d(2025, 1, 27))
    );
}

#[test]
fn profiles_without_an_acknowledgement_rule_give_none() {
    assert_eq!(
        acknowledge_by(&profile("gdpr"), &france(), d(2025, 1, 1)),
        None
    );
}

/// Just enough of a configuration format to read a profile as the config
/// file gives it: booleans, text, numbers and `{ months = 1 }` tables.
#[derive(Clone)]
enum Value {
    Bool(bool),
    Number(u32),
    Text(&'static str),
    Table(Vec<(&'static str, u32)>),
}

impl<'de> IntoDeserializer<'de, Error> for Value {
    type Deserializer = Self;

    fn into_deserializer(self) -> Self {
        self
    }
}

impl<'de> de::Deserializer<'de> for Value {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self {
            Value::Bool(value) => visitor.visit_bool(value),
            Value::Number(value) => visitor.visit_u32(value),
            Value::Text(value) => visitor.visit_str(value),
            Value::Table(fields) => visitor.visit_map(MapDeserializer::new(fields.into_iter())),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_some(self)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf unit unit_struct newtype_struct seq tuple
        tuple_struct map struct enum identifier ignored_any
    }
}

fn read_profile(fields: Vec<(&'static str, Value)>) -> Result<Profile, Error> {
    Profile::deserialize(MapDeserializer::new(fields.into_iter()))
}

fn configured_gdpr_strict() -> Vec<(&'static str, Value)> {
    vec![
        ("base", Value::Table(vec![("months", 1)])),
        ("max_extension", Value::Table(vec![("months", 2)])),
        ("roll_to_working_day", Value::Bool(true)),
        ("clock_stops_on_hold", Value::Bool(false)),
        ("clock_stops_for_identity", Value::Bool(true)),
        ("extension_notice_before_first_due", Value::Bool(true)),
        (
            "description",
            Value::Text("GDPR, with the controller's own policy"),
        ),
    ]
}

#[test]
fn a_profile_is_read_from_configuration() {
    let read = read_profile(configured_gdpr_strict()).expect("valid profile");
    let mut expected = profile("gdpr");
    expected.clock_stops_on_hold = false;
    expected.description = "GDPR, with the controller's own policy".into();
    assert_eq!(read, expected);

    let mut with_acknowledgement = configured_gdpr_strict();
    with_acknowledgement.push(("acknowledge_within_business_days", Value::Number(5)));
    assert_eq!(
        read_profile(with_acknowledgement).map(|p| p.acknowledge_within_business_days),
        Ok(Some(5))
    );
}

#[test]
fn a_configured_profile_may_leave_out_only_the_optional_fields() {
    let minimal: Vec<_> = configured_gdpr_strict()
        .into_iter()
        .filter(|(key, _)| !matches!(*key, "max_extension" | "description"))
        .collect();
    let read = read_profile(minimal).expect("valid profile");
    assert!(read.max_extension.is_zero());
    assert!(read.description.is_empty());
    assert_eq!(read.acknowledge_within_business_days, None);

    let without_rolling: Vec<_> = configured_gdpr_strict()
        .into_iter()
        .filter(|(key, _)| *key != "roll_to_working_day")
        .collect();
    let error = read_profile(without_rolling).unwrap_err();
    assert!(
        error
            .to_string()
            .contains("missing field `roll_to_working_day`"),
        "{error}"
    );
}

#[test]
fn unknown_keys_in_a_profile_or_a_period_are_refused() {
    let mut misspelt = configured_gdpr_strict();
    misspelt.push(("roll_to_working_days", Value::Bool(true)));
    let error = read_profile(misspelt).unwrap_err();
    assert!(
        error
            .to_string()
            .contains("unknown field `roll_to_working_days`"),
        "{error}"
    );

    let mut weeks = configured_gdpr_strict();
    weeks[0] = ("base", Value::Table(vec![("weeks", 4)]));
    let error = read_profile(weeks).unwrap_err();
    assert!(
        error.to_string().contains("unknown field `weeks`"),
        "{error}"
    );
}
