//! The request use cases, shared by the API, the portal, the dashboard and the worker: filing
//! ([`filing`]), steps and extensions ([`steps`]), what the requester does ([`requester`]),
//! what the privacy team does ([`staff_actions`]) and the suppression list ([`suppression`]).
//! Each operation checks the law (domain), then writes the row, its timeline entry, its audit
//! entry and the mail it owes in one transaction. This module reads a stored request as the
//! law sees it (status, pauses, profile, deadline).

pub mod directives;
mod filing;
pub mod follow;
pub mod intake;
pub mod limits;
pub mod reports;
pub mod requester;
pub mod scopes;
pub mod staff_actions;
mod steps;
pub mod suppression;

pub use filing::*;
pub use steps::*;

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};

use crate::config::Law;
use crate::domain::deadline::{self, Deadline, ExtensionError, Pauses, Period, Profile};
use crate::domain::lifecycle::{State, StepError};
use crate::domain::reference::Reference;
use crate::domain::text::{self, TextKind};
use crate::store::DbConn;
use crate::store::requests::{self as rows, RequestRow};

/// Why a use case did not happen: the first five are said to whoever asked (the API's caller,
/// the member of staff, the requester), the last three are ours and only logged.
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
    /// A staff action that does not apply, said to the member of staff as it stands.
    #[error("{0}")]
    Refused(&'static str),
    #[error(transparent)]
    Store(#[from] diesel::result::Error),
    #[error("mail: {0}")]
    Mail(String),
    #[error("file storage: {0}")]
    Files(#[from] std::io::Error),
}

impl From<crate::mail::MailError> for WorkflowError {
    fn from(e: crate::mail::MailError) -> Self {
        WorkflowError::Mail(e.to_string())
    }
}

impl WorkflowError {
    /// Whether the message is for the person who asked (a rule of the law or of the
    /// product), not an internal failure to log and hide.
    pub fn is_said(&self) -> bool {
        !matches!(
            self,
            WorkflowError::Store(_) | WorkflowError::Mail(_) | WorkflowError::Files(_)
        )
    }

    fn invalid(field: &'static str, message: impl Into<String>) -> Self {
        WorkflowError::Invalid {
            field,
            message: message.into(),
        }
    }
}

/// A text someone typed, held to the one rule of [`text`] before anything is kept: a NUL
/// byte or a direction override is refused here, on every backend, for every way in.
pub fn typed(field: &'static str, value: &str, kind: TextKind) -> Result<(), WorkflowError> {
    text::check(value, kind)
        .map_err(|fault| WorkflowError::invalid(field, format!("{field} {fault}")))
}

/// Who did it, as the timeline and the audit trail name them: `api:<key name>`,
/// `requester`, `staff:<id>`, `system`.
pub type Actor<'a> = &'a str;

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

pub fn state_of(row: &RequestRow) -> State {
    State {
        status: row.status,
        held_from: row.held_from.as_deref().and_then(|s| s.parse().ok()),
        paused_days: i64::from(row.paused_days),
        paused_since: row.paused_since,
        verified: row.verified_at.is_some(),
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

fn to_i32(v: i64) -> i32 {
    i32::try_from(v).unwrap_or(i32::MAX)
}

pub fn today(law: &Law, now: DateTime<Utc>) -> NaiveDate {
    law.today(now)
}
