//! Recording a step of a request (verify, hold, resume, fulfil, reject, withdraw…) and
//! extending its deadline: the law checks the step, then the row, its timeline entry and its
//! audit entry are written in one transaction.

use chrono::{DateTime, Utc};
use serde_json::json;

use crate::config::Law;
use crate::domain::deadline::{self, Period};
use crate::domain::lifecycle::{self, Step};
use crate::domain::status::Status;
use crate::domain::verification::Method;
use crate::store::audit;
use crate::store::reminders;
use crate::store::requests::{self as rows, NewEvent, RequestChanges, RequestRow};
use crate::store::{DbConn, write_tx};

use super::*;

/// A step as recorded: when it happened (`at`, possibly in the past) and what goes with it.
#[derive(Debug, Clone)]
pub struct Record {
    pub step: Step,
    pub at: Option<DateTime<Utc>>,
    pub note: Option<String>,
    /// How identity was checked, for a `verify` step (`None`: not stated, as the API allows).
    pub method: Option<Method>,
}

/// What `verified_method` holds when a verification came through the API without a method.
pub const UNSTATED_METHOD: &str = "unspecified";

pub fn record(
    conn: &mut DbConn,
    law: &Law,
    id: i64,
    rec: &Record,
    actor: Actor<'_>,
    now: DateTime<Utc>,
) -> Result<RequestRow, WorkflowError> {
    if let Some(note) = &rec.note {
        super::typed("note", note, TextKind::Long)?;
    }
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
        // The method goes only with the step it describes.
        let method = match rec.step {
            Step::Verify => Some(rec.method.map_or(UNSTATED_METHOD, Method::as_str)),
            _ => None,
        };
        if let Some(method) = method {
            data["method"] = json!(method);
        }
        data["due_on"] = json!(due_on);
        let ground = match rec.step {
            Step::Reject(g) => Some(g.as_str()),
            _ => None,
        };
        let held_from = after.held_from.map(Status::as_str);
        let stamp = closes
            .then(|| {
                super::reports::closing_stamp(
                    law,
                    &crate::store::reports::ClosedFacts {
                        status: after.status.as_str().to_string(),
                        profile: row.profile.clone(),
                        received_on: row.received_on,
                        closed_at: Some(at),
                        paused_days: to_i32(after.paused_days),
                        extension_months: row.extension_months,
                        extension_days: row.extension_days,
                        closed_on: None,
                        on_time: None,
                    },
                )
            })
            .flatten();
        let changes = RequestChanges {
            status: Some(after.status.as_str()),
            held_from: Some(held_from),
            due_on: Some(due_on),
            paused_days: Some(to_i32(after.paused_days)),
            paused_since: Some(after.paused_since),
            verified_at: matches!(rec.step, Step::Verify).then_some(Some(at)),
            verified_method: method.map(Some),
            closed_at: closes.then_some(Some(at)),
            closed_on: stamp.map(|(on, _)| Some(on)),
            on_time: stamp.map(|(_, in_time)| in_time),
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
        let mut audit_details = json!({ "from": before.status.as_str(), "to": after.status.as_str(), "at": at, "ground": ground });
        if let Some(method) = method {
            audit_details["method"] = json!(method);
        }
        audit::on_request(
            conn,
            &row.uuid,
            actor,
            &format!("request.{}", rec.step.name()),
            &audit_details,
            now.naive_utc(),
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
    super::typed("reason", reason, TextKind::Long)?;
    write_tx(conn, |conn| {
        let row = rows::lock(conn, id)?;
        let status = row.status;
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
        audit::on_request(
            conn,
            &row.uuid,
            actor,
            "request.extend",
            &json!({ "by": requested.to_string(), "due_on": due_on }),
            now.naive_utc(),
        )?;
        Ok(updated)
    })
}
