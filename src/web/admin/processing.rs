//! The record of processing activities, for the DPO and administrators: every activity with
//! what an access answer states about it (Art. 15(1)(a)–(h) and 15(2)), in the staff's
//! language, each legal basis, recipient role and safeguard by its words and article.

use actix_web::HttpResponse;
use askama::Template;

use super::{AdminError, Nav, Staff};
use crate::config::processing::{
    Activity, AutomatedDecisions, PeriodUnit, RecipientRole, Safeguard, Source, Text,
};
use crate::i18n::{Lang, Strings};
use crate::web::State;

#[derive(Template)]
#[template(path = "admin/processing.html")]
pub struct ProcessingPage {
    pub nav: Nav,
    /// `None`: `register.file` names no register yet.
    pub activities: Option<Vec<ActivityView>>,
}

/// One activity as the page shows it: every item already in words.
pub struct ActivityView {
    pub id: String,
    pub name: String,
    pub purposes: Vec<String>,
    pub legal_basis: String,
    /// (label, provided by the person): the register's own words, never its ids.
    pub categories: Vec<(String, bool)>,
    /// (who, role)
    pub recipients: Vec<(String, String)>,
    /// ("US : le prestataire", safeguard)
    pub transfers: Vec<(String, String)>,
    pub retention: String,
    /// "Imposée par …", when a law imposes the period.
    pub legal_reference: Option<String>,
    pub source: String,
    pub automated_decisions: String,
}

/// The text in `lang`, or in the other language when the register left it empty.
fn pick(text: &Text, lang: Lang) -> String {
    let (first, second) = match lang {
        Lang::Fr => (&text.fr, &text.en),
        Lang::En => (&text.en, &text.fr),
    };
    if first.trim().is_empty() {
        second.clone()
    } else {
        first.clone()
    }
}

/// A category as the register names it in `lang`; its id made readable ("billing_address"
/// becomes "Billing address") only if the register gave it no words at all.
fn category_label(c: &crate::config::processing::DataCategory, lang: Lang) -> String {
    let label = pick(&c.label(), lang);
    if !label.trim().is_empty() {
        return label;
    }
    let words = c.id.replace(['_', '-'], " ");
    let mut chars = words.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

fn role_key(role: RecipientRole) -> &'static str {
    match role {
        RecipientRole::Processor => "processor",
        RecipientRole::Controller => "controller",
        RecipientRole::Internal => "internal",
    }
}

fn safeguard_key(safeguard: Safeguard) -> &'static str {
    match safeguard {
        Safeguard::Adequacy => "adequacy",
        Safeguard::Scc => "scc",
        Safeguard::Bcr => "bcr",
        Safeguard::Derogation => "derogation",
    }
}

impl ActivityView {
    fn of(a: &Activity, t: &Strings) -> Self {
        let lang = t.lang();
        let basis = t
            .t(&format!(
                "reports.processing.basis.{}",
                a.legal_basis.as_str()
            ))
            .to_string();
        let legal_basis = match &a.legitimate_interest {
            Some(interest) => t.fill(
                "reports.processing.interest",
                &[("basis", &basis), ("interest", &pick(interest, lang))],
            ),
            None => basis,
        };
        let duration = a.retention.duration.map(|d| {
            let key = match d.unit {
                PeriodUnit::Days => "units.days",
                PeriodUnit::Months => "units.months",
                PeriodUnit::Years => "units.years",
            };
            t.count(key, i64::from(d.amount))
        });
        let criterion = a.retention.criterion.as_ref().map(|c| pick(c, lang));
        let retention = match (duration, criterion) {
            (Some(d), Some(c)) => format!("{d}. {c}"),
            (Some(d), None) => d,
            (None, Some(c)) => c,
            (None, None) => String::new(),
        };
        ActivityView {
            id: a.id.clone(),
            name: pick(&a.name, lang),
            purposes: a.purposes.iter().map(|p| pick(p, lang)).collect(),
            legal_basis,
            categories: a
                .categories
                .iter()
                .map(|c| (category_label(c, lang), c.provided_by_person))
                .collect(),
            recipients: a
                .recipients
                .iter()
                .map(|r| {
                    (
                        pick(&r.name, lang),
                        t.t(&format!("reports.processing.role.{}", role_key(r.role)))
                            .to_string(),
                    )
                })
                .collect(),
            transfers: a
                .transfers
                .iter()
                .map(|x| {
                    (
                        t.fill(
                            "reports.processing.transfer",
                            &[("country", &x.country), ("who", &pick(&x.recipient, lang))],
                        ),
                        t.t(&format!(
                            "reports.processing.safeguard.{}",
                            safeguard_key(x.safeguard)
                        ))
                        .to_string(),
                    )
                })
                .collect(),
            retention,
            legal_reference: a
                .retention
                .legal_reference
                .as_ref()
                .map(|law| t.fill("reports.processing.required_by", &[("law", law)])),
            source: match &a.source {
                Source::Person => t.t("reports.processing.source_person").to_string(),
                Source::ThirdParty(x) => pick(x, lang),
            },
            automated_decisions: match &a.automated_decisions {
                AutomatedDecisions::None => t.t("reports.processing.no_decision").to_string(),
                AutomatedDecisions::Logic(x) => pick(x, lang),
            },
        }
    }
}

pub async fn show(state: State, staff: Staff) -> Result<HttpResponse, AdminError> {
    staff.require(staff.role.can_read_audit())?;
    let t = staff.lang().strings();
    Ok(staff.page(&ProcessingPage {
        nav: staff.nav(),
        activities: state.register.as_ref().map(|r| {
            r.activities
                .iter()
                .map(|a| ActivityView::of(a, t))
                .collect()
        }),
    }))
}
