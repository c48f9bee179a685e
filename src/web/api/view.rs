//! How a request looks in JSON: the fields every answer about a request carries.

use chrono::{DateTime, NaiveDate, NaiveDateTime, SecondsFormat, Utc};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use crate::config::Law;
use crate::domain::deadline;
use crate::store::requests::{EventRow, RequestRow};
use crate::workflow;

use super::schema;

/// A request as the API shows it: who asked for what, where it stands, its deadline and how
/// that deadline was reached, and its timeline.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "f1900262-500e-49b9-8364-3d3799e628f8",
    "reference": "DSAR-2026-000001",
    "kind": "access",
    "status": "verifying",
    "profile": "two-months",
    "channel": "email",
    "language": "fr",
    "requester": { "name": "Camille Martin", "email": "camille@example.fr", "customer_ref": "C-1042" },
    "subject": null,
    "details": "All the data you hold about my account.",
    "received_at": "2026-11-30T05:29:55Z",
    "received_on": "2026-11-30",
    "due_on": "2027-02-01",
    "due_at": "2027-02-01T23:59:59+01:00",
    "days_left": 63,
    "clock": "running",
    "deadline": {
        "anchor": "2026-11-30",
        "period": "2 months",
        "extension": null,
        "period_end": "2027-01-30",
        "paused_days": 0,
        "rolled_to_working_day": true
    },
    "closed_at": null,
    "reject_ground": null,
    "timeline": [{
        "type": "received",
        "at": "2026-11-30T05:29:55Z",
        "recorded_at": "2026-11-30T05:29:55Z",
        "actor": "api:crm",
        "from_status": null,
        "to_status": "verifying",
        "note": null,
        "channel": "email",
        "due_on": "2027-02-01",
        "profile": "two-months"
    }]
}))]
pub struct RequestView {
    /// The request's UUID; `{id}` in the paths takes it, or the reference.
    #[schema(format = "uuid")]
    pub id: String,
    /// The reference quoted to the requester, e.g. `DSAR-2026-000123`.
    pub reference: String,
    #[schema(schema_with = schema::kind)]
    pub kind: String,
    #[schema(schema_with = schema::status)]
    pub status: String,
    /// The deadline profile the due date follows.
    pub profile: String,
    #[schema(schema_with = schema::channel)]
    pub channel: String,
    #[schema(schema_with = schema::language)]
    pub language: String,
    /// Who asked, and whom the mails go to (a representative, when `subject` is set).
    pub requester: Requester,
    /// The person a representative acts for, whom the sources are searched for; null when
    /// the requester acts for themselves.
    pub subject: Option<Subject>,
    /// What the requester asks, in their words (may be empty).
    pub details: String,
    /// When the request reached the organisation.
    #[schema(format = DateTime)]
    pub received_at: String,
    /// That moment's date in the organisation's time zone: the day the deadline counts from.
    pub received_on: NaiveDate,
    /// The last day to answer.
    pub due_on: NaiveDate,
    /// The end of `due_on` in the organisation's time zone.
    #[schema(format = DateTime)]
    pub due_at: String,
    /// Days from today to `due_on`; negative when overdue.
    pub days_left: i64,
    #[schema(schema_with = request_view_clock)]
    pub clock: &'static str,
    pub deadline: DeadlineView,
    /// Present once the requester's identity is verified.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verified: Option<Verified>,
    /// When the request reached a final status; null while it is open.
    #[schema(format = DateTime)]
    pub closed_at: Option<String>,
    #[schema(schema_with = request_view_reject_ground)]
    pub reject_ground: Option<String>,
    /// Every step, oldest first.
    pub timeline: Vec<EventView>,
}

schema::described! {
    request_view_clock = schema::clock,
        "`stopped` while the organisation waits for the requester.";
    request_view_reject_ground = schema::ground_or_null,
        "The legal ground of a rejection; null unless rejected.";
}

#[derive(Debug, Serialize, ToSchema)]
/// Who filed the request; the mails go to this address.
pub struct Requester {
    pub name: String,
    /// Null when the person gave only a postal address (the answers go by post), or once
    /// the request is anonymised.
    #[schema(format = Email)]
    pub email: Option<String>,
    /// The organisation's own reference for the person, if one was given.
    pub customer_ref: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
/// The person a representative, or a parent, acts for.
pub struct Subject {
    pub name: String,
    #[schema(format = Email)]
    pub email: Option<String>,
    pub customer_ref: Option<String>,
    /// `representative` (with a mandate) or `parent` (a holder of parental authority for a
    /// minor child).
    #[schema(schema_with = subject_acting)]
    pub acting: &'static str,
    /// The child's date of birth when a parent acts; null otherwise.
    pub birth_date: Option<NaiveDate>,
}

fn subject_acting() -> utoipa::openapi::schema::Object {
    utoipa::openapi::schema::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .enum_values(Some(crate::domain::filing::ACTING_FOR_ANOTHER))
        .build()
}

/// How the due date was reached, so anyone can check it by hand.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeadlineView {
    /// The day the period counts from (`received_on`).
    pub anchor: NaiveDate,
    /// The profile's period, e.g. `2 months`.
    pub period: String,
    /// The extension taken, if any, e.g. `2 months`.
    pub extension: Option<String>,
    /// `anchor` plus the period and the extension.
    pub period_end: NaiveDate,
    /// Days the clock stood still while the organisation waited for the requester.
    pub paused_days: i64,
    /// Whether the due date moved past a weekend or a public holiday.
    pub rolled_to_working_day: bool,
}

#[derive(Debug, Serialize, ToSchema)]
/// When and how the requester's identity was verified.
pub struct Verified {
    #[schema(format = DateTime)]
    pub at: String,
    /// How it was verified, e.g. `email_link`, `id_document`.
    pub method: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
/// One step of the timeline. Some types carry more members (e.g. a hold's `reason`).
pub struct EventView {
    /// What happened: `received`, `verified`, `on_hold`, `message`, …
    #[serde(rename = "type")]
    pub kind: String,
    /// When it happened (it may be backdated).
    #[schema(format = DateTime)]
    pub at: String,
    /// When it was written down.
    #[schema(format = DateTime)]
    pub recorded_at: String,
    /// Who did it: `api:NAME`, a staff member, `requester`, `system`.
    pub actor: String,
    #[schema(schema_with = schema::status_or_null)]
    pub from_status: Option<String>,
    #[schema(schema_with = schema::status_or_null)]
    pub to_status: Option<String>,
    pub note: Option<String>,
    #[serde(flatten)]
    #[schema(ignore)]
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
            email: Some(row.requester_email.clone()).filter(|e| !e.is_empty()),
            customer_ref: row.customer_ref.clone(),
        },
        subject: row.subject_name.as_ref().map(|name| Subject {
            name: name.clone(),
            email: row.subject_email.clone(),
            customer_ref: row.subject_customer_ref.clone(),
            acting: row.acting.as_str(),
            birth_date: row.subject_birth_date,
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
