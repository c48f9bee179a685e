//! Sending a request to its sources: one run per source and operation, each owned by a job
//! (or a team's task), run again or skipped by staff, and the package build queued when every
//! access run is done.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde_json::json;

use crate::config::sources::{Connector, Operation};
use crate::domain::fulfilment::RunStatus;
use crate::state::AppState;
use crate::store::audit;
use crate::store::fulfilment::{self as rows, Finished, RunRow};
use crate::store::jobs::{self};
use crate::store::requests::RequestRow;
use crate::store::{DbConn, write_tx};
use crate::workflow::WorkflowError;

use super::*;

/// Sends the request to every source that serves its kind: a job for each automatic source,
/// a task for each team. Runs under way are left to finish and done ones stay done (except
/// that new corrections go everywhere again); returns how many were started.
pub fn dispatch(
    conn: &mut DbConn,
    state: &AppState,
    row: &RequestRow,
    changes: &BTreeMap<String, String>,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<usize, WorkflowError> {
    let kind = row.kind;
    let Some(op) = super::operation(row) else {
        return Err(WorkflowError::Refused(
            "Nothing goes to the sources for this request: the team carries it out and answers.",
        ));
    };
    if state.sources.list.is_empty() {
        return Err(WorkflowError::Refused(
            "No data source is configured (fulfilment.sources_file).",
        ));
    }
    open_request(row)?;
    if row.verified_at.is_none() {
        return Err(WorkflowError::Refused(
            "Verify the requester's identity before sending the request to the sources.",
        ));
    }
    if op == Operation::Rectify && changes.is_empty() {
        return Err(WorkflowError::Refused(
            "Write the corrections, one per line: field = new value.",
        ));
    }
    let naive = now.naive_utc();
    write_tx(conn, |conn| {
        // Only what the request covers, as staff confirmed it, read with the runs it starts:
        // a scope confirmed at the same moment is either seen whole or waited for.
        crate::store::requests::lock(conn, row.id)?;
        let scope = crate::workflow::scopes::for_dispatch(conn, row)?;
        let existing = rows::runs_for(conn, row.id)?;
        let busy = |r: &&RunRow| r.operation == op && r.status.is_live();
        if op == Operation::Rectify && existing.iter().any(|r| busy(&r)) {
            return Err(WorkflowError::Refused(
                "Corrections are being applied: wait until every source is done, then send the new ones.",
            ));
        }
        let mut started = 0;
        let in_scope = |s: &&crate::config::sources::Source| {
            s.serves(op) && crate::workflow::scopes::reaches(s, &scope)
        };
        for source in state.sources.list.iter().filter(in_scope) {
            let current = existing
                .iter()
                .find(|r| r.source == source.id && r.operation == op);
            let restart = current.is_none_or(|r| match r.status {
                RunStatus::Failed => true,
                RunStatus::Done => op == Operation::Rectify,
                _ => false,
            });
            if !restart {
                continue;
            }
            let manual = matches!(source.connector, Connector::Manual(_));
            let status = if manual {
                RunStatus::Task
            } else {
                RunStatus::Queued
            };
            let id = rows::upsert_run(conn, row.id, &source.id, op, status, actor, naive)?;
            if op == Operation::Rectify {
                // What to correct travels with the run, so a re-run applies the same.
                let asked = serde_json::to_string(changes).unwrap_or_default();
                rows::set_comment(conn, id, &asked)?;
            }
            if manual {
                rows::attach_job(conn, id, None)?;
            } else {
                enqueue_run(conn, id, naive)?;
            }
            started += 1;
        }
        if started == 0 {
            return Err(WorkflowError::Refused(
                "Nothing to send: every source is under way or done.",
            ));
        }
        crate::workflow::suppression::suppress_for(conn, state, row, naive)?;
        audit::on_request(
            conn,
            &row.uuid,
            actor,
            "sources.dispatch",
            &json!({
                "operation": op.as_str(),
                "started": started,
                "fields": changes.keys().collect::<Vec<_>>(),
                "suppressed": crate::workflow::suppression::scope(kind)
                    .filter(|_| !crate::domain::scope::needs_balancing(kind, &row.form)),
                "scope": scope.to_stored(),
            }),
            naive,
        )?;
        Ok::<_, WorkflowError>(started)
    })
}

/// Sources act only for a request still open: one withdrawn or answered changes nothing.
pub(super) fn open_request(row: &RequestRow) -> Result<(), WorkflowError> {
    if row.closed_at.is_some() {
        return Err(WorkflowError::Refused("This request is closed."));
    }
    Ok(())
}

/// A new job for the run, which becomes its owner.
pub(super) fn enqueue_run(
    conn: &mut DbConn,
    run: i64,
    now: chrono::NaiveDateTime,
) -> diesel::QueryResult<()> {
    let payload = serde_json::to_string(&RunPayload { run }).unwrap_or_default();
    let job = jobs::enqueue_owned(conn, SOURCE_RUN, &payload, now)?;
    rows::attach_job(conn, run, Some(job)).map(drop)
}

/// Whether the run's job is gone (finished, dead or cancelled) while the run says otherwise:
/// then staff may take it up again.
pub(super) fn orphaned(conn: &mut DbConn, run: &RunRow) -> diesel::QueryResult<bool> {
    if !run.status.is_live() {
        return Ok(false);
    }
    Ok(match run.job_id {
        None => true,
        Some(job) => jobs::live_among(conn, &[job])?.is_empty(),
    })
}

/// Staff taking up run `run_id` of this open request, in one transaction: refused with
/// `refusal` unless `allowed` (told whether the run's job is gone), else its job, if still
/// waiting out a backoff, cancelled before `then` decides what becomes of the run.
fn take_up_run<T>(
    conn: &mut DbConn,
    row: &RequestRow,
    run_id: i64,
    now: chrono::NaiveDateTime,
    allowed: impl FnOnce(&RunRow, bool) -> bool,
    refusal: &'static str,
    then: impl FnOnce(&mut DbConn, RunRow) -> Result<T, WorkflowError>,
) -> Result<T, WorkflowError> {
    open_request(row)?;
    write_tx(conn, |conn| {
        let run = rows::get_run(conn, run_id)?
            .filter(|r| r.request_id == row.id)
            .ok_or(WorkflowError::Refused("No such source run."))?;
        if !allowed(&run, orphaned(conn, &run)?) {
            return Err(WorkflowError::Refused(refusal));
        }
        if let Some(job) = run.job_id {
            jobs::cancel_id(conn, job, now)?;
        }
        then(conn, run)
    })
}

/// Runs a source again: one that failed, is waiting out a backoff, lost its job, or left a
/// task that a new run may now do (a customer number given since).
pub fn rerun(
    conn: &mut DbConn,
    state: &AppState,
    row: &RequestRow,
    run_id: i64,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<(), WorkflowError> {
    let naive = now.naive_utc();
    let allowed = |run: &RunRow, orphaned: bool| {
        let manual = state
            .sources
            .find(&run.source)
            .is_none_or(|s| matches!(s.connector, Connector::Manual(_)));
        run.status.can_rerun(orphaned, manual) && !manual
    };
    let refusal = "Only a source that failed, waits to try again or left a task can be run again.";
    take_up_run(conn, row, run_id, naive, allowed, refusal, |conn, run| {
        rows::set_run_status(
            conn,
            run.id,
            &[run.status],
            None,
            RunStatus::Queued,
            "",
            naive,
        )?;
        enqueue_run(conn, run.id, naive)?;
        audit::on_request(
            conn,
            &row.uuid,
            actor,
            "sources.rerun",
            &json!({ "source": run.source, "operation": run.operation }),
            naive,
        )?;
        Ok(())
    })
}

/// Goes on without a source that keeps failing (or a team that does not answer), with the
/// reason; the package and the letter say which source was not searched and why. A source
/// running now is waited for: what it does must be recorded.
pub fn skip(
    conn: &mut DbConn,
    row: &RequestRow,
    run_id: i64,
    reason: &str,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<(), WorkflowError> {
    let naive = now.naive_utc();
    let allowed = |run: &RunRow, orphaned: bool| run.status.can_skip(orphaned);
    let refusal = "Only a source that failed, waits to try again or left a task can be skipped; one running now is waited for.";
    take_up_run(conn, row, run_id, naive, allowed, refusal, |conn, run| {
        rows::attach_job(conn, run.id, None)?;
        let mut outcome = run.outcome();
        outcome.skipped = Some(reason.to_string());
        let records = outcome.records() as i64;
        let finished = rows::finish_run(
            conn,
            run.id,
            &[run.status],
            None,
            &Finished {
                status: RunStatus::Done,
                records: Some(records),
                outcome: &serde_json::to_string(&outcome).unwrap_or_default(),
                error: run.error.as_deref(),
                staged: run.staged.as_deref(),
                recipient: None,
                comment: run.comment.as_deref(),
                actor: Some(actor),
            },
            naive,
        )?;
        if !finished {
            return Err(WorkflowError::Refused(
                "The source finished meanwhile; look again.",
            ));
        }
        audit::on_request(
            conn,
            &row.uuid,
            actor,
            "sources.skip",
            &json!({ "source": run.source, "operation": run.operation }),
            naive,
        )?;
        let op = run.operation;
        after_run(conn, row.id, op, naive)?;
        Ok(())
    })
}

/// A team's answer to its task: what it found (a file, for access), or what it did, with a
/// comment kept as proof and quoted in the answer.
#[allow(clippy::too_many_arguments)]
pub fn complete_task(
    conn: &mut DbConn,
    state: &AppState,
    row: &RequestRow,
    run_id: i64,
    found: Option<(&std::path::Path, &str)>,
    comment: &str,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<(), WorkflowError> {
    open_request(row)?;
    let naive = now.naive_utc();
    let run = rows::get_run(conn, run_id)?
        .filter(|r| r.request_id == row.id && r.status == RunStatus::Task)
        .ok_or(WorkflowError::Refused("This task is already done."))?;
    let source = state.sources.find(&run.source);
    let manual = source.is_some_and(|s| matches!(s.connector, Connector::Manual(_)));
    let op = run.operation;
    if found.is_some() && !(manual && op == Operation::Access) {
        return Err(WorkflowError::Refused(
            "A file goes with a team's search for data (access) only.",
        ));
    }
    let staged = match found {
        Some((path, _)) => Some(stage_file(state, path)?),
        None => run.staged.clone(),
    };
    let mut outcome = run.outcome();
    outcome.team_note = Some(comment.to_string());
    if let Some((path, name)) = found {
        // The name's ending follows what the file is, never what it was called.
        let name = safe_file_name(name);
        let mut head = Vec::with_capacity(8);
        std::io::Read::read_to_end(
            &mut std::io::Read::take(std::fs::File::open(path)?, 8),
            &mut head,
        )?;
        let ext = match crate::store::files::Sniffed::detect(&head) {
            Some(kind) => kind.extension(),
            None => name.rsplit_once('.').map_or("txt", |(_, e)| e),
        };
        let stem = name
            .rsplit_once('.')
            .map_or(name.as_str(), |(stem, _)| stem);
        outcome.file_name = Some(format!("{stem}.{}", ext.to_ascii_lowercase()));
        outcome.tables.insert("file".into(), 1);
    }
    // A team that belongs to a recipient has told it by doing the task (Art. 19).
    let recipient = source
        .and_then(|s| s.recipient.clone())
        .filter(|_| op.notifies_recipients());
    let text = serde_json::to_string(&outcome).unwrap_or_default();
    let result = write_tx(conn, |conn| {
        let finished = rows::finish_run(
            conn,
            run.id,
            &[RunStatus::Task],
            None,
            &Finished {
                status: RunStatus::Done,
                records: Some(outcome.records() as i64),
                outcome: &text,
                error: None,
                staged: staged.as_deref(),
                recipient: recipient.as_deref().or(run.recipient.as_deref()),
                comment: run.comment.as_deref(),
                actor: Some(actor),
            },
            naive,
        )?;
        if !finished {
            return Err(WorkflowError::Refused("This task is already done."));
        }
        audit::on_request(
            conn,
            &row.uuid,
            actor,
            "sources.task_done",
            &json!({ "source": run.source, "operation": run.operation, "found": found.is_some() }),
            naive,
        )?;
        after_run(conn, row.id, op, naive)?;
        Ok::<_, WorkflowError>(())
    });
    if result.is_err()
        && found.is_some()
        && let Some(name) = &staged
    {
        delete_staged(state, name);
    }
    result
}

/// When every access run of the request is done, the package is (re)built.
pub(super) fn after_run(
    conn: &mut DbConn,
    request_id: i64,
    op: Operation,
    now: chrono::NaiveDateTime,
) -> diesel::QueryResult<()> {
    if op != Operation::Access {
        return Ok(());
    }
    let runs = rows::runs_for(conn, request_id)?;
    let access: Vec<&RunRow> = runs
        .iter()
        .filter(|r| r.operation == Operation::Access)
        .collect();
    if access.iter().all(|r| r.settled()) {
        enqueue_build(conn, request_id, now)?;
    }
    Ok(())
}

pub(super) fn enqueue_build(
    conn: &mut DbConn,
    request_id: i64,
    now: chrono::NaiveDateTime,
) -> diesel::QueryResult<()> {
    let payload = serde_json::to_string(&BuildPayload {
        request: request_id,
    })
    .unwrap_or_default();
    jobs::enqueue(
        conn,
        BUILD_EXPORT,
        &payload,
        now,
        Some(&format!("export:{request_id}")),
        now,
    )
}
