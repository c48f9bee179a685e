//! Requests waiting for their requester: still unconfirmed, or on hold until they answer.
//! After `portal.remind_after_days` they get one reminder with a fresh link; after
//! `portal.expire_after_days` the request expires, with a mail saying how to file again.
//! Each reminder and expiry is on the timeline and in the audit trail.

use chrono::{DateTime, NaiveDateTime, Utc};
use serde_json::json;

use crate::domain::lifecycle::Step;
use crate::domain::status::Status;
use crate::mail::MailKind;
use crate::state::AppState;
use crate::store::audit;
use crate::store::portal;
use crate::store::requests::{self as rows, NewEvent};
use crate::store::{DbConn, write_tx};
use crate::workflow::WorkflowError;
use crate::workflow::requester;
use crate::workflow::{self, Record};

/// The job kind that runs [`sweep`].
pub const REQUESTER_SWEEP: &str = "requester_sweep";
const ACTOR: &str = "worker";
const BATCH: i64 = 500;

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Swept {
    pub reminded: usize,
    pub expired: usize,
    /// Requests skipped because of an error (logged).
    pub failed: usize,
}

/// Reminds and expires what is due at `now`. Only requests that wait for their requester are
/// read (an indexed status), in batches.
pub fn sweep(
    conn: &mut DbConn,
    state: &AppState,
    now: DateTime<Utc>,
) -> Result<Swept, WorkflowError> {
    let portal = &state.settings.portal;
    let mut swept = Swept::default();
    let mut after = 0i64;
    loop {
        let batch = rows::waiting_for_requester(conn, after, BATCH)?;
        let Some(last) = batch.last() else {
            break;
        };
        after = last.id;
        let ids: Vec<i64> = batch.iter().map(|w| w.id).collect();
        let events = rows::events_for(conn, &ids)?;
        // When each requester last wrote or sent a file: an answer the team has not acted on
        // yet means the request waits for the team, not for them.
        let mut heard: Vec<(i64, NaiveDateTime)> =
            portal::message_times_by(conn, &ids, requester::ACTOR)?;
        heard.extend(portal::document_times_not_from_team(conn, &ids)?);
        for rows::WaitingRow {
            id,
            status,
            received_at,
        } in &batch
        {
            let mine = events.iter().filter(|e| e.request_id == *id);
            // Waiting since receipt, or since the latest hold.
            let (since, asked) = if *status == Status::OnHold {
                match mine
                    .clone()
                    .filter(|e| e.kind == "hold")
                    .max_by_key(|e| (e.at, e.id))
                {
                    Some(hold) => (hold.at, hold.note.clone()),
                    None => (*received_at, None),
                }
            } else {
                (*received_at, None)
            };
            let reminded = mine.clone().any(|e| e.kind == "reminder" && e.at >= since);
            // Only a hold can be answered by a message or a file; an unconfirmed request is
            // answered by confirming the address alone (a representative's mandate, sent with
            // the form, is no answer).
            let answered =
                *status == Status::OnHold && heard.iter().any(|(r, at)| r == id && *at >= since);
            if answered {
                continue;
            }
            let days = (now.naive_utc() - since).num_days();
            // One request's trouble (a mail that cannot render, a step refused) is logged and
            // counted; the others are still swept.
            let outcome =
                if portal.expire_after_days > 0 && days >= i64::from(portal.expire_after_days) {
                    expire(conn, state, *id, *status, days, now).map(|done| {
                        swept.expired += usize::from(done);
                    })
                } else if !reminded && days >= i64::from(portal.remind_after_days) {
                    let kind = if *status == Status::OnHold {
                        MailKind::ReminderAnswer
                    } else {
                        MailKind::ReminderConfirm
                    };
                    remind(conn, state, *id, *status, kind, asked.as_deref(), now).map(|done| {
                        swept.reminded += usize::from(done);
                    })
                } else {
                    Ok(())
                };
            if let Err(error) = outcome {
                tracing::error!(request = id, %error, "requester sweep: request skipped");
                swept.failed += 1;
            }
        }
    }
    if swept != Swept::default() {
        write_tx(conn, |conn| {
            audit::on_many(
                conn,
                "requests",
                ACTOR,
                "sweep.requester",
                &json!({ "reminded": swept.reminded, "expired": swept.expired }),
                now.naive_utc(),
            )
        })?;
    }
    Ok(swept)
}

/// The status read before the lock must still hold under it: a request staff resumed in
/// between is no longer waiting for anyone. Returns whether it reminded.
fn remind(
    conn: &mut DbConn,
    state: &AppState,
    id: i64,
    status: Status,
    kind: MailKind,
    asked: Option<&str>,
    now: DateTime<Utc>,
) -> Result<bool, WorkflowError> {
    write_tx(conn, |conn| {
        let row = rows::lock(conn, id)?;
        if row.status != status {
            return Ok(false);
        }
        rows::insert_event(
            conn,
            &NewEvent {
                request_id: id,
                kind: "reminder",
                at: now.naive_utc(),
                recorded_at: now.naive_utc(),
                actor: ACTOR,
                from_status: Some(row.status.as_str()),
                to_status: Some(row.status.as_str()),
                note: None,
                data: &json!({ "mail": kind.as_str() }).to_string(),
            },
        )?;
        audit::on_request(
            conn,
            &row.uuid,
            ACTOR,
            "request.reminder",
            &json!({ "mail": kind.as_str() }),
            now.naive_utc(),
        )?;
        requester::notify_with(conn, state, &row, kind, asked, None, now)?;
        Ok(true)
    })
}

fn expire(
    conn: &mut DbConn,
    state: &AppState,
    id: i64,
    status: Status,
    days: i64,
    now: DateTime<Utc>,
) -> Result<bool, WorkflowError> {
    write_tx(conn, |conn| {
        if rows::lock(conn, id)?.status != status {
            return Ok(false);
        }
        let record = Record {
            step: Step::Expire,
            at: Some(now),
            note: Some(format!("no answer from the requester in {days} days")),
            method: None,
        };
        let row = workflow::record(conn, &state.law, id, &record, ACTOR, now)?;
        requester::notify(conn, state, &row, MailKind::Expired, now)?;
        Ok(true)
    })
}

/// The worker's handler for [`REQUESTER_SWEEP`] jobs.
pub fn sweep_job(state: &AppState, _job: &crate::store::jobs::JobRow) -> Result<(), String> {
    let mut conn = state.pool.get().map_err(|e| e.to_string())?;
    let swept = sweep(&mut conn, state, state.clock.now()).map_err(|e| e.to_string())?;
    tracing::info!(
        reminded = swept.reminded,
        expired = swept.expired,
        "requester sweep done"
    );
    Ok(())
}
