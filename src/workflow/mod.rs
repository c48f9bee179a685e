//! The request workflow: filing, recording steps, extending. Each operation checks the law
//! (domain), then writes the row, its timeline entry and its audit entry in one transaction.
//! Shared by the API, the portal and the dashboard.

pub mod requester;
pub mod staff_actions;
pub mod suppression;

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use serde_json::json;

use crate::config::Law;
use crate::domain::deadline::{self, Deadline, ExtensionError, Pauses, Period, Profile};
use crate::domain::email::EmailAddress;
use crate::domain::kind::{Channel, RequestKind};
use crate::domain::lifecycle::{self, State, Step, StepError};
use crate::domain::reference::Reference;
use crate::domain::status::Status;
use crate::store::audit::{self, Entry};
use crate::store::reminders;
use crate::store::requests::{
    self as rows, EventRow, NewEvent, NewRequest, RequestChanges, RequestRow,
};
use crate::store::{DbConn, write_tx};

#[derive(Debug, thiserror::Error)]
pub enum WorkflowError {
    #[error("no request with this id or reference")]
    NotFound,
    #[error("{message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
    #[error(transparent)]
    Step(#[from] StepError),
    #[error(transparent)]
    Extension(#[from] ExtensionError),
    #[error(transparent)]
    Store(#[from] diesel::result::Error),
}

impl WorkflowError {
    fn invalid(field: &'static str, message: impl Into<String>) -> Self {
        WorkflowError::Invalid {
            field,
            message: message.into(),
        }
    }
}

/// Who did it, as the timeline and the audit trail name them: `api:<key name>`,
/// `requester`, `staff:<id>`, `system`.
pub type Actor<'a> = &'a str;

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

/// A step as recorded: when it happened (`at`, possibly in the past) and what goes with it.
#[derive(Debug, Clone)]
pub struct Record {
    pub step: Step,
    pub at: Option<DateTime<Utc>>,
    pub note: Option<String>,
    /// How identity was checked, for a `verify` step.
    pub method: Option<String>,
}

pub fn record(
    conn: &mut DbConn,
    law: &Law,
    id: i64,
    rec: &Record,
    actor: Actor<'_>,
    now: DateTime<Utc>,
) -> Result<RequestRow, WorkflowError> {
    write_tx(conn, |conn| {
        let row = rows::lock(conn, id)?;
        let at = match rec.at {
            Some(at) => crate::clock::truncate(at).naive_utc(),
            None => now.naive_utc(),
        };
        check_moment(conn, &row, at, now.naive_utc())?;
        let profile = profile_of(law, &row);
        let before = state_of(&row);
        let on = deadline::received_on(at.and_utc(), law.time_zone);
        let after = lifecycle::apply(profile, before, rec.step, on)?;
        let due_on = stored_due_on(
            law,
            profile,
            &row,
            after.paused_days,
            deadline_extension(&row),
        );
        let closes = after.status.is_terminal();
        let mut data = json!({});
        if let Step::Hold(reason) = rec.step {
            data["reason"] = json!(reason.as_str());
            data["clock"] = json!(if after.paused_since.is_some() {
                "stopped"
            } else {
                "running"
            });
        }
        if let Step::Reject(ground) = rec.step {
            data["ground"] = json!(ground.as_str());
        }
        if before.paused_since.is_some() && after.paused_since.is_none() {
            data["paused_days"] = json!(after.paused_days - before.paused_days);
        }
        if let Some(method) = &rec.method {
            data["method"] = json!(method);
        }
        data["due_on"] = json!(due_on);
        let ground = match rec.step {
            Step::Reject(g) => Some(g.as_str()),
            _ => None,
        };
        let held_from = after.held_from.map(Status::as_str);
        let changes = RequestChanges {
            status: Some(after.status.as_str()),
            held_from: Some(held_from),
            due_on: Some(due_on),
            paused_days: Some(to_i32(after.paused_days)),
            paused_since: Some(after.paused_since),
            verified_at: matches!(rec.step, Step::Verify).then_some(Some(at)),
            verified_method: matches!(rec.step, Step::Verify)
                .then_some(Some(rec.method.as_deref().unwrap_or("unspecified"))),
            closed_at: closes.then_some(Some(at)),
            reject_ground: ground.map(Some),
            ..Default::default()
        };
        let updated = rows::update(conn, row.id, &changes)?;
        if closes {
            reminders::forget(conn, row.id)?;
        } else if updated.due_on != row.due_on || updated.paused_since != row.paused_since {
            reminders::look_again(conn, row.id, law.today(now))?;
        }
        let data = data.to_string();
        rows::insert_event(
            conn,
            &NewEvent {
                request_id: row.id,
                kind: rec.step.name(),
                at,
                recorded_at: now.naive_utc(),
                actor,
                from_status: Some(before.status.as_str()),
                to_status: Some(after.status.as_str()),
                note: rec.note.as_deref(),
                data: &data,
            },
        )?;
        audit::append(
            conn,
            &Entry {
                at: now.naive_utc(),
                actor,
                action: &format!("request.{}", rec.step.name()),
                target_type: "request",
                target_id: Some(&row.uuid),
                details: &json!({ "from": before.status.as_str(), "to": after.status.as_str(), "at": at, "ground": ground }).to_string(),
            },
        )?;
        Ok(updated)
    })
}

pub fn extend(
    conn: &mut DbConn,
    law: &Law,
    id: i64,
    requested: Period,
    reason: &str,
    actor: Actor<'_>,
    now: DateTime<Utc>,
) -> Result<RequestRow, WorkflowError> {
    if reason.trim().is_empty() {
        return Err(WorkflowError::invalid(
            "reason",
            "an extension needs a reason: the requester is told why",
        ));
    }
    write_tx(conn, |conn| {
        let row = rows::lock(conn, id)?;
        let status = status_of(&row);
        if !status.is_open() {
            return Err(WorkflowError::invalid(
                "status",
                format!("the request is {status} and closed; it cannot be extended"),
            ));
        }
        let profile = profile_of(law, &row);
        let already = deadline_extension(&row);
        let today = law.today(now);
        let before = deadline_of(law, &row, today);
        let total = deadline::check_extension(
            profile,
            &row.profile,
            &law.calendar,
            row.received_on,
            already,
            requested,
            &pauses_of(&row),
            today,
        )?;
        let due_on = stored_due_on(law, profile, &row, i64::from(row.paused_days), total);
        let changes = RequestChanges {
            due_on: Some(due_on),
            extension_months: Some(to_i32(i64::from(total.months))),
            extension_days: Some(to_i32(i64::from(total.days))),
            ..Default::default()
        };
        let updated = rows::update(conn, row.id, &changes)?;
        reminders::look_again(conn, row.id, today)?;
        let data = json!({ "months": requested.months, "days": requested.days, "previous_due_on": before.due_on, "due_on": due_on }).to_string();
        rows::insert_event(
            conn,
            &NewEvent {
                request_id: row.id,
                kind: "extend",
                at: now.naive_utc(),
                recorded_at: now.naive_utc(),
                actor,
                from_status: None,
                to_status: None,
                note: Some(reason.trim()),
                data: &data,
            },
        )?;
        audit::append(
            conn,
            &Entry {
                at: now.naive_utc(),
                actor,
                action: "request.extend",
                target_type: "request",
                target_id: Some(&row.uuid),
                details: &json!({ "by": requested.to_string(), "due_on": due_on }).to_string(),
            },
        )?;
        Ok(updated)
    })
}

/// Finds a request by its UUID or its reference (`DSAR-2026-000123`).
pub fn find(conn: &mut DbConn, id_or_reference: &str) -> Result<RequestRow, WorkflowError> {
    let key = id_or_reference.trim();
    let found = if let Ok(reference) = key.parse::<Reference>() {
        rows::find_by_reference(conn, reference.year, reference.seq)?
    } else if let Ok(uuid) = uuid::Uuid::parse_str(key) {
        rows::find_by_uuid(conn, &uuid.to_string())?
    } else {
        None
    };
    found.ok_or(WorkflowError::NotFound)
}

pub fn reference(row: &RequestRow) -> Reference {
    Reference {
        year: row.ref_year,
        seq: row.id,
    }
}

pub fn status_of(row: &RequestRow) -> Status {
    // The column is only ever written from `Status::as_str`.
    row.status.parse().unwrap_or(Status::New)
}

pub fn state_of(row: &RequestRow) -> State {
    State {
        status: status_of(row),
        held_from: row.held_from.as_deref().and_then(|s| s.parse().ok()),
        paused_days: i64::from(row.paused_days),
        paused_since: row.paused_since,
    }
}

pub fn pauses_of(row: &RequestRow) -> Pauses {
    Pauses {
        closed_days: i64::from(row.paused_days),
        open_since: row.paused_since,
    }
}

pub fn deadline_extension(row: &RequestRow) -> Period {
    Period {
        months: u32::try_from(row.extension_months).unwrap_or(0),
        days: u32::try_from(row.extension_days).unwrap_or(0),
    }
}

/// The profile a request was filed under. A profile removed from the configuration later
/// falls back to the default one rather than leaving the request without a deadline.
pub fn profile_of<'a>(law: &'a Law, row: &RequestRow) -> &'a Profile {
    law.profile(&row.profile).unwrap_or_else(|| {
        tracing::warn!(profile = %row.profile, request = row.id, "request profile no longer configured; using the default");
        &law.default_rules
    })
}

/// The deadline as it stands today: an open pause keeps moving it.
pub fn deadline_of(law: &Law, row: &RequestRow, today: NaiveDate) -> Deadline {
    deadline::compute_deadline(
        profile_of(law, row),
        &law.calendar,
        row.received_on,
        deadline_extension(row),
        &pauses_of(row),
        today,
    )
}

/// The deadline from the facts a report reads (a few columns, not whole rows), by the same
/// law as [`deadline_of`].
pub fn deadline_for(
    law: &Law,
    profile: &str,
    received_on: NaiveDate,
    extension: Period,
    pauses: &Pauses,
    today: NaiveDate,
) -> Deadline {
    deadline::compute_deadline(
        law.profile(profile).unwrap_or(&law.default_rules),
        &law.calendar,
        received_on,
        extension,
        pauses,
        today,
    )
}

/// The due date kept in the row (for ordering and sweeps): closed pauses only, so it is the
/// earliest the request can be due even while its clock is stopped.
fn stored_due_on(
    law: &Law,
    profile: &Profile,
    row: &RequestRow,
    paused_days: i64,
    extension: Period,
) -> NaiveDate {
    let pauses = Pauses {
        closed_days: paused_days,
        open_since: None,
    };
    deadline::compute_deadline(
        profile,
        &law.calendar,
        row.received_on,
        extension,
        &pauses,
        row.received_on,
    )
    .due_on
}

fn check_moment(
    conn: &mut DbConn,
    row: &RequestRow,
    at: NaiveDateTime,
    now: NaiveDateTime,
) -> Result<(), WorkflowError> {
    if at > now {
        return Err(WorkflowError::invalid(
            "at",
            "`at` is in the future; record a step once it has happened",
        ));
    }
    if at < row.received_at {
        return Err(WorkflowError::invalid(
            "at",
            format!(
                "`at` is before the request was received ({}Z)",
                row.received_at.format("%Y-%m-%dT%H:%M:%S")
            ),
        ));
    }
    if let Some(last) = rows::last_event_at(conn, row.id)?
        && at < last
    {
        return Err(WorkflowError::invalid(
            "at",
            format!(
                "`at` is before the last recorded step ({}Z); steps are recorded in the order they happened",
                last.format("%Y-%m-%dT%H:%M:%S")
            ),
        ));
    }
    Ok(())
}

fn unknown_profile(law: &Law, name: &str) -> String {
    format!(
        "unknown profile \"{name}\"; expected one of: {}",
        law.profile_names().join(", ")
    )
}

pub fn check_profile(law: &Law, name: &str) -> Result<(), WorkflowError> {
    match law.profile(name) {
        Some(_) => Ok(()),
        None => Err(WorkflowError::invalid(
            "profile",
            unknown_profile(law, name),
        )),
    }
}

fn to_i32(v: i64) -> i32 {
    i32::try_from(v).unwrap_or(i32::MAX)
}

pub fn today(law: &Law, now: DateTime<Utc>) -> NaiveDate {
    law.today(now)
}
