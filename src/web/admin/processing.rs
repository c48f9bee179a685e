//! The record of processing activities, for the DPO and administrators: every activity with
//! what an access answer states about it (Art. 15(1)(a)–(h) and 15(2)), in English.

use actix_web::HttpResponse;
use askama::Template;

use super::{AdminError, Nav, Staff};
use crate::config::processing::{Activity, AutomatedDecisions, LegalBasis, Source};
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
    /// (label, category id, provided by the person)
    pub categories: Vec<(String, String, bool)>,
    /// (who, role)
    pub recipients: Vec<(String, &'static str)>,
    /// (country, recipient, safeguard)
    pub transfers: Vec<(String, String, &'static str)>,
    pub retention: String,
    pub legal_reference: Option<String>,
    pub source: String,
    pub automated_decisions: String,
}

impl ActivityView {
    fn of(a: &Activity) -> Self {
        let legal_basis = match (&a.legal_basis, &a.legitimate_interest) {
            (LegalBasis::LegitimateInterests, Some(interest)) => {
                format!("{}: {}", a.legal_basis.describe_en(), interest.en)
            }
            (basis, _) => basis.describe_en().to_string(),
        };
        let retention = match (&a.retention.duration, &a.retention.criterion) {
            (Some(d), Some(c)) => format!("{d}. {}", c.en),
            (Some(d), None) => d.to_string(),
            (None, Some(c)) => c.en.clone(),
            (None, None) => String::new(),
        };
        ActivityView {
            id: a.id.clone(),
            name: a.name.en.clone(),
            purposes: a.purposes.iter().map(|p| p.en.clone()).collect(),
            legal_basis,
            categories: a
                .categories
                .iter()
                .map(|c| (c.en.clone(), c.id.clone(), c.provided_by_person))
                .collect(),
            recipients: a
                .recipients
                .iter()
                .map(|r| (r.name.en.clone(), r.role.describe_en()))
                .collect(),
            transfers: a
                .transfers
                .iter()
                .map(|t| {
                    (
                        t.country.clone(),
                        t.recipient.en.clone(),
                        t.safeguard.describe_en(),
                    )
                })
                .collect(),
            retention,
            legal_reference: a.retention.legal_reference.clone(),
            source: match &a.source {
                Source::Person => "The person themselves".to_string(),
                Source::ThirdParty(t) => t.en.clone(),
            },
            automated_decisions: match &a.automated_decisions {
                AutomatedDecisions::None => "None".to_string(),
                AutomatedDecisions::Logic(t) => t.en.clone(),
            },
        }
    }
}

pub async fn show(state: State, staff: Staff) -> Result<HttpResponse, AdminError> {
    staff.require(staff.role.can_read_audit())?;
    Ok(staff.page(&ProcessingPage {
        nav: staff.nav(),
        activities: state
            .register
            .as_ref()
            .map(|r| r.activities.iter().map(ActivityView::of).collect()),
    }))
}
