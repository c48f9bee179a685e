//! Filing a request: checked against the law, stored with its first timeline entry and its
//! audit entry in one transaction.

use chrono::{DateTime, Utc};
use serde_json::json;

use crate::config::Law;
use crate::domain::deadline::{self, Pauses, Period};
use crate::domain::email::EmailAddress;
use crate::domain::kind::{Channel, RequestKind};
use crate::domain::status::Status;
use crate::store::audit::{self, Entry};
use crate::store::reminders;
use crate::store::requests::{self as rows, EventRow, NewEvent, NewRequest, RequestRow};
use crate::store::{DbConn, write_tx};

use super::*;

#[derive(Debug, Clone)]
pub struct Filing {
    pub kind: RequestKind,
    pub name: String,
    pub email: EmailAddress,
    pub customer_ref: Option<String>,
    pub details: String,
    pub received_at: DateTime<Utc>,
    pub profile: String,
    pub channel: Channel,
    pub language: String,
    pub initial_status: Status,
    pub country: Option<String>,
    pub representative: bool,
    /// Kind-specific answers (JSON object).
    pub form: serde_json::Value,
}

impl Filing {
    /// A filing with no portal-only facts (country, representative, form answers).
    #[allow(clippy::too_many_arguments)]
    pub fn basic(
        kind: RequestKind,
        name: String,
        email: EmailAddress,
        customer_ref: Option<String>,
        details: String,
        received_at: DateTime<Utc>,
        profile: String,
        channel: Channel,
        language: String,
        initial_status: Status,
    ) -> Self {
        Filing {
            kind,
            name,
            email,
            customer_ref,
            details,
            received_at,
            profile,
            channel,
            language,
            initial_status,
            country: None,
            representative: false,
            form: json!({}),
        }
    }
}

/// Stores a new request with its first timeline entry (returned, so the caller can show the
/// request without reading it back).
pub fn file(
    conn: &mut DbConn,
    law: &Law,
    filing: &Filing,
    actor: Actor<'_>,
    now: DateTime<Utc>,
) -> Result<(RequestRow, EventRow), WorkflowError> {
    let profile = law
        .profile(&filing.profile)
        .ok_or_else(|| WorkflowError::invalid("profile", unknown_profile(law, &filing.profile)))?;
    if filing.received_at > now {
        return Err(WorkflowError::invalid(
            "received_at",
            "received_at is in the future; give the moment the request reached the organisation",
        ));
    }
    let received_on = deadline::received_on(filing.received_at, law.time_zone);
    let due = deadline::compute_deadline(
        profile,
        &law.calendar,
        received_on,
        Period::default(),
        &Pauses::default(),
        received_on,
    );
    let uuid = uuid::Uuid::new_v4().to_string();
    let now_naive = now.naive_utc();
    let received_at = crate::clock::truncate(filing.received_at).naive_utc();
    let form = filing.form.to_string();
    write_tx(conn, |conn| {
        let open: Vec<&str> = Status::ALL
            .iter()
            .filter(|s| s.is_open())
            .map(|s| s.as_str())
            .collect();
        let duplicate_of = crate::store::portal::open_duplicate(
            conn,
            filing.email.as_str(),
            filing.kind.as_str(),
            &open,
        )?;
        let row = rows::insert(
            conn,
            &NewRequest {
                uuid: &uuid,
                ref_year: chrono::Datelike::year(&received_on),
                kind: filing.kind.as_str(),
                status: filing.initial_status.as_str(),
                profile: &filing.profile,
                channel: filing.channel.as_str(),
                language: &filing.language,
                requester_name: &filing.name,
                requester_email: filing.email.as_str(),
                customer_ref: filing.customer_ref.as_deref(),
                details: &filing.details,
                received_at,
                received_on,
                due_on: due.due_on,
                created_by: actor,
                created_at: now_naive,
                country: filing.country.as_deref(),
                representative: filing.representative,
                form: &form,
                duplicate_of,
            },
        )?;
        let data = json!({ "channel": filing.channel.as_str(), "profile": filing.profile, "due_on": due.due_on, "duplicate_of": duplicate_of }).to_string();
        let received = rows::insert_event(
            conn,
            &NewEvent {
                request_id: row.id,
                kind: "received",
                at: received_at,
                recorded_at: now_naive,
                actor,
                from_status: None,
                to_status: Some(filing.initial_status.as_str()),
                note: None,
                data: &data,
            },
        )?;
        audit::append(
            conn,
            &Entry {
                at: now_naive,
                actor,
                action: "request.filed",
                target_type: "request",
                target_id: Some(&row.uuid),
                details: &json!({ "reference": reference(&row).to_string(), "kind": row.kind, "channel": row.channel, "profile": row.profile }).to_string(),
            },
        )?;
        if filing.initial_status.is_open() {
            reminders::look_again(conn, row.id, law.today(now))?;
        }
        Ok((row, received))
    })
}
