//! Who asked and exactly what: the requester (or the representative and the person
//! represented), and the kind's own answers in the form's order, in the staff's words.

use chrono::NaiveDateTime;
use chrono_tz::Tz;

use crate::i18n::{Lang, Strings, local_time};
use crate::store::requests::RequestRow;
use crate::workflow;

type Lines = Vec<(String, String)>;

fn line(t: &Strings, key: &str, value: String) -> (String, String) {
    (t.t(&format!("request.who.{key}")).to_string(), value)
}

/// The requester's facts, and "verified (how) on (when)" once verified.
pub fn who(t: &Strings, lang: Lang, zone: Tz, row: &RequestRow) -> (Lines, Option<String>) {
    let stamp = |at: NaiveDateTime| local_time(at.and_utc(), zone, lang);
    let method_words = |code: &str| crate::i18n::verification_method(code, lang);
    let mut who = vec![
        line(t, "name", row.requester_name.clone()),
        line(
            t,
            "email",
            if row.requester_email.is_empty() {
                t.t("post.no_email").to_string()
            } else {
                row.requester_email.clone()
            },
        ),
    ];
    if let Some(c) = &row.customer_ref {
        who.push(line(t, "customer_ref", c.clone()));
    }
    if let Some(c) = &row.country {
        let key = format!("countries.{c}");
        who.push(line(
            t,
            "country",
            if t.has(&key) {
                t.t(&key).to_string()
            } else {
                c.clone()
            },
        ));
    }
    who.push(line(
        t,
        "language",
        t.t(&format!("request.language.{}", row.language.code()))
            .to_string(),
    ));
    who.push(line(
        t,
        "channel",
        t.t(&format!("label.channel.{}", row.channel.as_str()))
            .to_string(),
    ));
    let verified = row.verified_at.map(|at| {
        t.fill(
            "request.who.verified_on",
            &[
                ("date", &stamp(at)),
                (
                    "method",
                    &method_words(
                        row.verified_method
                            .as_deref()
                            .unwrap_or(workflow::UNSTATED_METHOD),
                    ),
                ),
            ],
        )
    });
    who.push(line(
        t,
        "identity",
        verified
            .clone()
            .unwrap_or_else(|| t.t("request.who.not_verified").to_string()),
    ));
    (who, verified)
}

/// The person a representative or a parent acts for, when someone does; a child's date of
/// birth and age on the day the request was received.
pub fn represented(t: &Strings, lang: Lang, row: &RequestRow) -> Option<Lines> {
    row.subject_name.as_ref().map(|name| {
        let mut lines = vec![line(t, "name", name.clone())];
        if let Some(born) = row.subject_birth_date {
            let age = crate::domain::filing::age_on(born, row.received_on);
            lines.push(line(
                t,
                "birth_date",
                t.fill(
                    "request.who.parent.born_age",
                    &[
                        ("date", &crate::i18n::long_date(born, lang)),
                        ("age", &t.count("units.years", i64::from(age))),
                    ],
                ),
            ));
        }
        if let Some(e) = &row.subject_email {
            lines.push(line(t, "email", e.clone()));
        }
        if let Some(c) = &row.subject_customer_ref {
            lines.push(line(t, "customer_ref", c.clone()));
        }
        lines
    })
}

/// How the requester acts for another, in a sentence for the "who" block: "Parent de Léo
/// Martin, né(e) le 9 mars 2014"; `None` for a person acting for themselves.
pub fn acting_for(t: &Strings, lang: Lang, row: &RequestRow) -> Option<String> {
    let name = row.subject_name.as_deref()?;
    Some(match (row.acting, row.subject_birth_date) {
        (crate::domain::filing::Acting::Parent, Some(born)) => t.fill(
            "request.who.parent.of_born",
            &[
                ("name", name),
                ("date", &crate::i18n::long_date(born, lang)),
            ],
        ),
        (crate::domain::filing::Acting::Parent, None) => {
            t.fill("request.who.parent.of", &[("name", name)])
        }
        _ => t.fill("request.who.representative_of", &[("name", name)]),
    })
}

/// The kind's own answers as the person gave them, in the order the form asks them, each
/// with the question's name in the staff's words; a choice by its words too.
pub fn answers(
    t: &Strings,
    kind: crate::domain::kind::RequestKind,
    form: &str,
) -> Vec<(String, String)> {
    let Ok(serde_json::Value::Object(map)) = serde_json::from_str::<serde_json::Value>(form) else {
        return Vec::new();
    };
    let order = crate::domain::filing::own_fields(kind);
    let mut fields: Vec<(&String, &serde_json::Value)> = map.iter().collect();
    fields.sort_by_key(|(field, _)| {
        order
            .iter()
            .position(|f| f.name == field.as_str())
            .unwrap_or(usize::MAX)
    });
    fields
        .into_iter()
        .filter_map(|(field, value)| {
            let label_key = format!("request.asked.field.{field}");
            let label = if t.has(&label_key) {
                t.t(&label_key).to_string()
            } else {
                t.t("request.asked.field.other").to_string()
            };
            let words = match value {
                serde_json::Value::Bool(true) => t.t("request.yes").to_string(),
                serde_json::Value::Bool(false) => return None,
                serde_json::Value::String(s) => {
                    let choice = format!("request.asked.field.{field}_{s}");
                    let day = s.parse::<chrono::NaiveDate>().ok();
                    if let Some(day) = day.filter(|_| field.ends_with("_date_of_death")) {
                        crate::i18n::long_date(day, t.lang())
                    } else if t.has(&choice) {
                        t.t(&choice).to_string()
                    } else {
                        s.clone()
                    }
                }
                other => other.to_string(),
            };
            (!words.trim().is_empty()).then_some((label, words))
        })
        .collect()
}
