//! The days that follow an answer: a restriction lifted on the day its notice gave, and rows
//! kept under a legal obligation erased on the day their retention ends. Each through the
//! sources that can (an `sql` source, scoped to that person and those rows), else left to the
//! team as a task on the dashboard; each on the request's timeline and in the audit trail.
//! The nightly purge re-enqueues what is due and lost its job.

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::json;

use crate::config::sources::Connector;
use crate::domain::follow::{HoldState, RestrictionState};
use crate::domain::outcome::{ByHand, by_hand};
use crate::fulfil::connectors::{SourceError, sql};
use crate::state::AppState;
use crate::store::jobs::JobRow;
use crate::store::{DbConn, follow as follow_rows, requests};
use crate::workflow::follow as flow;

const ACTOR: &str = "system";

#[derive(Deserialize)]
struct LiftPayload {
    restriction: i64,
}

#[derive(Deserialize)]
struct HoldPayload {
    hold: i64,
}

/// Lifts a restriction whose day has come. A source that is down makes the job try again;
/// one that cannot lift (no `unrestrict`, not an `sql` source) leaves a task.
pub fn lift_job(state: &AppState, job: &JobRow) -> Result<(), String> {
    let payload: LiftPayload = serde_json::from_str(&job.payload).map_err(|e| e.to_string())?;
    let now = state.clock.now();
    let mut conn = state.pool.get().map_err(|e| e.to_string())?;
    let Some(r) =
        follow_rows::restriction(&mut conn, payload.restriction).map_err(|e| e.to_string())?
    else {
        return Ok(());
    };
    // Called off, already lifted, or moved to a later day (whose own job will come).
    let due = r.lift_on.is_some_and(|on| on <= state.law.today(now));
    if r.state != RestrictionState::LiftScheduled || !due {
        return Ok(());
    }
    let row = requests::get(&mut conn, r.request_id).map_err(|e| e.to_string())?;
    drop(conn);
    let subject = crate::fulfil::subject(&row);
    let mut changed = Vec::new();
    let mut manual = Vec::new();
    let ids = r.source_ids();
    if ids.is_empty() {
        manual.push(json!({ "source": "", "why": by_hand(ByHand::TeamRestricted, "") }));
    }
    for id in &ids {
        let Some(source) = state.sources.list.iter().find(|s| &s.id == id) else {
            manual.push(json!({ "source": id, "why": by_hand(ByHand::Gone, id) }));
            continue;
        };
        match &source.connector {
            Connector::Sql(s) => match sql::unrestrict(s, &subject) {
                Ok(outcome) => {
                    for c in outcome.changed {
                        changed.push(json!({ "source": id, "what": c.what, "rows": c.rows }));
                    }
                    for why in outcome.manual {
                        manual.push(json!({ "source": id, "why": why }));
                    }
                }
                Err(SourceError::Retry(e)) => return Err(e),
                Err(SourceError::Fatal(e)) => manual.push(json!({ "source": id, "why": e })),
            },
            Connector::Http(_) | Connector::Manual(_) => {
                manual.push(json!({ "source": id, "why": by_hand(ByHand::CannotLift, "") }))
            }
        }
    }
    let to = if manual.is_empty() {
        RestrictionState::Lifted
    } else {
        RestrictionState::LiftTask
    };
    let outcome = json!({ "changed": changed, "manual": manual });
    let mut conn = state.pool.get().map_err(|e| e.to_string())?;
    flow::finish_lift(
        &mut conn,
        r.id,
        RestrictionState::LiftScheduled,
        to,
        &outcome,
        None,
        ACTOR,
        state.clock.now(),
    )
    .map_err(|e| e.to_string())
}

/// Erases what a hold kept once its retention ended, in the source that kept it.
pub fn hold_job(state: &AppState, job: &JobRow) -> Result<(), String> {
    let payload: HoldPayload = serde_json::from_str(&job.payload).map_err(|e| e.to_string())?;
    let now = state.clock.now();
    let mut conn = state.pool.get().map_err(|e| e.to_string())?;
    let Some(h) = follow_rows::hold(&mut conn, payload.hold).map_err(|e| e.to_string())? else {
        return Ok(());
    };
    if h.state != HoldState::Held || h.until > state.law.today(now) {
        return Ok(());
    }
    drop(conn);
    let source = state.sources.list.iter().find(|s| s.id == h.source);
    let (to, outcome) = match source.map(|s| &s.connector) {
        Some(Connector::Sql(s)) => match sql::erase_kept(s, &h.what, &h.key_values()) {
            Ok(erased) => (HoldState::Ended, json!({ "erased": erased })),
            Err(SourceError::Retry(e)) => return Err(e),
            Err(SourceError::Fatal(e)) => (HoldState::Task, json!({ "why": e })),
        },
        Some(_) => (
            HoldState::Task,
            json!({ "why": by_hand(ByHand::CannotErase, "") }),
        ),
        None => (
            HoldState::Task,
            json!({ "why": by_hand(ByHand::Gone, &h.source) }),
        ),
    };
    let mut conn = state.pool.get().map_err(|e| e.to_string())?;
    flow::finish_hold(
        &mut conn,
        h.id,
        HoldState::Held,
        to,
        &outcome,
        None,
        ACTOR,
        state.clock.now(),
    )
    .map_err(|e| e.to_string())
}

/// Enqueues every lift and hold end that is due and has no job waiting (a job lost, a
/// database restored): nothing is kept or restricted longer than announced. Returns how
/// many were found due.
pub fn sweep(
    conn: &mut DbConn,
    state: &AppState,
    now: DateTime<Utc>,
) -> Result<usize, diesel::result::Error> {
    let today = state.law.today(now);
    let at = now.naive_utc();
    let lifts = follow_rows::lifts_due(conn, today)?;
    let holds = follow_rows::holds_due(conn, today)?;
    crate::store::write_tx(conn, |conn| {
        for r in &lifts {
            if let Some(on) = r.lift_on {
                flow::enqueue_lift(conn, state, r.id, on, at)?;
            }
        }
        for h in &holds {
            flow::enqueue_hold_end(conn, state, h.id, h.until, at)?;
        }
        Ok::<_, diesel::result::Error>(())
    })?;
    Ok(lifts.len() + holds.len())
}
