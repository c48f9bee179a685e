//! How a request looks in JSON: the fields every answer about a request carries.

use chrono::{DateTime, NaiveDate, NaiveDateTime, SecondsFormat, Utc};
use serde::Serialize;
use serde_json::Value;

use crate::config::Law;
use crate::domain::deadline;
use crate::store::requests::{EventRow, RequestRow};
use crate::workflow;

#[derive(Debug, Serialize)]
pub struct RequestView {
    pub id: String,
    pub reference: String,
    pub kind: String,
    pub status: String,
    pub profile: String,
    pub channel: String,
    pub language: String,
    /// Who asked, and whom the mails go to (a representative, when `subject` is set).
    pub requester: Requester,
    /// The person a representative acts for, whom the sources are searched for; null when
    /// the requester acts for themselves.
    pub subject: Option<Subject>,
    pub details: String,
    pub received_at: String,
    pub received_on: NaiveDate,
    pub due_on: NaiveDate,
    pub due_at: String,
    pub days_left: i64,
    pub clock: &'static str,
    pub deadline: DeadlineView,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verified: Option<Verified>,
    pub closed_at: Option<String>,
    pub reject_ground: Option<String>,
    pub timeline: Vec<EventView>,
}

#[derive(Debug, Serialize)]
pub struct Requester {
    pub name: String,
    pub email: String,
    pub customer_ref: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct Subject {
    pub name: String,
    pub email: Option<String>,
    pub customer_ref: Option<String>,
}

/// How the due date was reached, so anyone can check it by hand.
#[derive(Debug, Serialize)]
pub struct DeadlineView {
    pub anchor: NaiveDate,
    pub period: String,
    pub extension: Option<String>,
    pub period_end: NaiveDate,
    pub paused_days: i64,
    pub rolled_to_working_day: bool,
}

#[derive(Debug, Serialize)]
pub struct Verified {
    pub at: String,
    pub method: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct EventView {
    #[serde(rename = "type")]
    pub kind: String,
    pub at: String,
    pub recorded_at: String,
    pub actor: String,
    pub from_status: Option<String>,
    pub to_status: Option<String>,
    pub note: Option<String>,
    #[serde(flatten)]
    pub data: serde_json::Map<String, Value>,
}

pub fn rfc3339(t: NaiveDateTime) -> String {
    t.and_utc().to_rfc3339_opts(SecondsFormat::Secs, true)
}

pub fn request_view(
    law: &Law,
    row: &RequestRow,
    events: &[EventRow],
    now: DateTime<Utc>,
) -> RequestView {
    let today = law.today(now);
    let d = workflow::deadline_of(law, row, today);
    let extension = workflow::deadline_extension(row);
    RequestView {
        id: row.uuid.clone(),
        reference: workflow::reference(row).to_string(),
        kind: row.kind.to_string(),
        status: row.status.to_string(),
        profile: row.profile.clone(),
        channel: row.channel.to_string(),
        language: row.language.to_string(),
        requester: Requester {
            name: row.requester_name.clone(),
            email: row.requester_email.clone(),
            customer_ref: row.customer_ref.clone(),
        },
        subject: row.subject_name.as_ref().map(|name| Subject {
            name: name.clone(),
            email: row.subject_email.clone(),
            customer_ref: row.subject_customer_ref.clone(),
        }),
        details: row.details.clone(),
        received_at: rfc3339(row.received_at),
        received_on: row.received_on,
        due_on: d.due_on,
        due_at: deadline::end_of_day(d.due_on, law.time_zone)
            .with_timezone(&law.time_zone)
            .to_rfc3339_opts(SecondsFormat::Secs, true),
        days_left: deadline::days_left(d.due_on, today),
        clock: if d.clock_stopped {
            "stopped"
        } else {
            "running"
        },
        deadline: DeadlineView {
            anchor: row.received_on,
            period: workflow::profile_of(law, row).base.to_string(),
            extension: (!extension.is_zero()).then(|| extension.to_string()),
            period_end: d.period_end,
            paused_days: d.paused_days,
            rolled_to_working_day: d.due_on != d.period_end + chrono::Duration::days(d.paused_days),
        },
        verified: row.verified_at.map(|at| Verified {
            at: rfc3339(at),
            method: row.verified_method.clone(),
        }),
        closed_at: row.closed_at.map(rfc3339),
        reject_ground: row.reject_ground.clone(),
        timeline: events
            .iter()
            .filter(|e| e.request_id == row.id)
            .map(|e| EventView {
                kind: e.kind.to_string(),
                at: rfc3339(e.at),
                recorded_at: rfc3339(e.recorded_at),
                actor: e.actor.clone(),
                from_status: e.from_status.clone(),
                to_status: e.to_status.clone(),
                note: e.note.clone(),
                data: match serde_json::from_str(&e.data) {
                    Ok(Value::Object(map)) => map,
                    _ => serde_json::Map::new(),
                },
            })
            .collect(),
    }
}
