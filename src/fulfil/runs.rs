//! The `source_run` job: one source, one operation, one request, recorded as the run's
//! outcome (or its error), with what is left for a person turned into a task.

use std::collections::BTreeMap;
use std::io::Write;

use serde_json::json;

use crate::config::sources::{Connector, Operation};
use crate::domain::fulfilment::RunStatus;
use crate::domain::outcome::{ByHand, by_hand};
use crate::state::AppState;
use crate::store::audit;
use crate::store::fulfilment::{self as rows, Finished};
use crate::store::jobs::JobRow;
use crate::store::{DbConn, write_tx};
use connectors::SourceError;

use super::*;

/// The `source_run` job: runs one source for one request. On its last attempt any failure,
/// the source's or ours, leaves the run failed (so staff can run it again or skip it), never
/// waiting for a job that is gone.
pub fn run_job(state: &AppState, job: &JobRow) -> Result<(), String> {
    let payload: RunPayload = serde_json::from_str(&job.payload).map_err(|e| e.to_string())?;
    match run_owned(state, job, payload.run) {
        Err(error) if job.attempts >= job.max_attempts => {
            let mut conn = state.pool.get().map_err(|e| e.to_string())?;
            let running = [RunStatus::Queued, RunStatus::Running, RunStatus::Retrying];
            let now = state.clock.now_naive();
            rows::set_run_status(
                &mut conn,
                payload.run,
                &running,
                Some(job.id),
                RunStatus::Failed,
                &error,
                now,
            )
            .map_err(|e| e.to_string())?;
            Err(error)
        }
        other => other,
    }
}

pub(super) fn run_owned(state: &AppState, job: &JobRow, run_id: i64) -> Result<(), String> {
    // One connection for the whole run, taken first: once a source has changed something,
    // recording it must not wait on (or fail for want of) a connection.
    let mut conn = state.pool.get().map_err(|e| e.to_string())?;
    let Some(run) = rows::get_run(&mut conn, run_id).map_err(|e| e.to_string())? else {
        return Ok(());
    };
    // A run re-run or skipped since belongs to another job, or to nobody.
    if run.job_id != Some(job.id) {
        return Ok(());
    }
    let row = crate::store::requests::get(&mut conn, run.request_id).map_err(|e| e.to_string())?;
    let op = run.operation;
    let now = state.clock.now();
    let naive = now.naive_utc();
    let running = [RunStatus::Queued, RunStatus::Running, RunStatus::Retrying];
    let stop = |conn: &mut DbConn, why: &str| {
        rows::set_run_status(
            conn,
            run.id,
            &running,
            Some(job.id),
            RunStatus::Failed,
            why,
            naive,
        )
        .map(drop)
        .map_err(|e| e.to_string())
    };
    // Withdrawn or answered meanwhile: an erasure must not happen after all.
    if row.closed_at.is_some() {
        return stop(&mut conn, "the request was closed before this source ran");
    }
    let Some(source) = state.sources.find(&run.source) else {
        return stop(&mut conn, "this source is no longer configured");
    };
    if !rows::claim_run(&mut conn, run.id, job.id, naive).map_err(|e| e.to_string())? {
        return Ok(());
    }
    let changes: BTreeMap<String, String> = run
        .comment
        .as_deref()
        .and_then(|c| serde_json::from_str(c).ok())
        .unwrap_or_default();
    let subject = subject(&row);
    // Only the tables in the request's scope (the run was started for something in it).
    let scope =
        crate::workflow::scopes::of_request(&mut conn, row.id).map_err(|e| e.to_string())?;
    // What an access run finds goes straight to an encrypted file, never all in memory.
    let mut staged: Option<(String, SealedFile)> = None;
    if op == Operation::Access {
        staged = Some(create_sealed(state).map_err(|e| e.to_string())?);
    }
    let result = {
        let mut sink = |table: &str, record: serde_json::Value| -> std::io::Result<()> {
            let Some((_, w)) = staged.as_mut() else {
                return Ok(());
            };
            serde_json::to_writer(&mut *w, &json!({ "t": table, "r": record }))?;
            w.write_all(b"\n")
        };
        match &source.connector {
            Connector::Sql(sql) => connectors::sql::run(
                &crate::workflow::scopes::scoped_tables(sql, &scope),
                op,
                &subject,
                &changes,
                state.register.as_ref(),
                state.law.today(now),
                &mut sink,
            ),
            Connector::Http(http) => {
                connectors::http::run(http, op, &subject, &changes, now, &mut sink)
            }
            Connector::Manual(_) => Err(SourceError::Fatal("a manual source has no job".into())),
        }
    };
    let staged_name = match (staged, &result) {
        // Nothing found: no file to keep (or to purge later).
        (Some((name, w)), Ok(outcome)) if outcome.records() == 0 => {
            drop(w);
            delete_staged(state, &name);
            None
        }
        (Some((name, w)), Ok(_)) => {
            if let Err(e) = finish_sealed(w) {
                delete_staged(state, &name);
                return Err(format!("cannot write the staged data: {e}"));
            }
            Some(name)
        }
        (Some((name, w)), Err(_)) => {
            drop(w);
            delete_staged(state, &name);
            None
        }
        (None, _) => None,
    };
    let forget_staged = || {
        if let Some(name) = &staged_name {
            delete_staged(state, name);
        }
    };
    let mine = [RunStatus::Running];
    match result {
        Ok(mut outcome) => {
            // An objection balanced in the person's favour stops what is in scope; a table
            // with no way to stop it written in the sources file is left to the team.
            if op == Operation::Object
                && !scope.is_everything()
                && let Connector::Sql(sql) = &source.connector
            {
                for t in crate::workflow::scopes::scoped_tables(sql, &scope)
                    .tables
                    .iter()
                    .filter(|t| t.object.is_empty())
                {
                    outcome.manual.push(by_hand(ByHand::Object, &t.name));
                }
            }
            // Corrections sent again add to what was corrected before: the letter lists all.
            if op == Operation::Rectify {
                let mut before = run.outcome().changed;
                before.append(&mut outcome.changed);
                outcome.changed = before;
            }
            // Only a service is told by the call itself; a database that belongs to a
            // recipient is not, and its team says so on a task instead.
            let http = matches!(source.connector, Connector::Http(_));
            let recipient = source
                .recipient
                .clone()
                .filter(|_| op.notifies_recipients() && http);
            if let Some(who) = source
                .recipient
                .as_ref()
                .filter(|_| op.notifies_recipients() && !http)
            {
                outcome.manual.push(by_hand(ByHand::TellRecipient, who));
            }
            if op == Operation::Rectify && !outcome.manual.is_empty() {
                let asked: Vec<String> =
                    changes.iter().map(|(f, v)| format!("{f} = {v}")).collect();
                outcome
                    .manual
                    .push(by_hand(ByHand::Corrections, &asked.join(", ")));
            }
            // What the source could not do itself becomes a task for the team.
            let left = !outcome.manual.is_empty();
            let text = serde_json::to_string(&outcome).unwrap_or_default();
            let done = write_tx(&mut conn, |conn| {
                let finished = rows::finish_run(
                    conn,
                    run.id,
                    &mine,
                    Some(job.id),
                    &Finished {
                        status: if left {
                            RunStatus::Task
                        } else {
                            RunStatus::Done
                        },
                        records: Some(outcome.records() as i64),
                        outcome: &text,
                        error: None,
                        staged: staged_name.as_deref(),
                        recipient: recipient.as_deref(),
                        comment: run.comment.as_deref(),
                        actor: None,
                    },
                    naive,
                )?;
                if !finished {
                    return Ok(false);
                }
                audit::on_request(
                    conn,
                    &row.uuid,
                    "worker",
                    &format!("source.{}", op.as_str()),
                    &json!({
                        "source": source.id,
                        "records": outcome.records(),
                        "erased": outcome.erased.iter().map(|c| c.rows).sum::<u64>(),
                        "kept": outcome.kept.iter().map(|c| c.rows).sum::<u64>(),
                        "changed": outcome.changed.iter().map(|c| c.rows).sum::<u64>(),
                        "left_to_do": outcome.manual.len(),
                        "recipient_notified": recipient.is_some(),
                    }),
                    naive,
                )?;
                after_run(conn, row.id, op, naive)?;
                Ok::<_, diesel::result::Error>(true)
            });
            match done {
                Ok(true) => Ok(()),
                Ok(false) => {
                    forget_staged();
                    Ok(())
                }
                Err(e) => {
                    forget_staged();
                    Err(e.to_string())
                }
            }
        }
        Err(SourceError::Retry(error)) if job.attempts < job.max_attempts => {
            rows::set_run_status(
                &mut conn,
                run.id,
                &mine,
                Some(job.id),
                RunStatus::Retrying,
                &error,
                naive,
            )
            .map_err(|e| e.to_string())?;
            Err(error)
        }
        Err(SourceError::Retry(error) | SourceError::Fatal(error)) => {
            write_tx(&mut conn, |conn| {
                if rows::set_run_status(
                    conn,
                    run.id,
                    &mine,
                    Some(job.id),
                    RunStatus::Failed,
                    &error,
                    naive,
                )? {
                    audit::on_request(
                        conn,
                        &row.uuid,
                        "worker",
                        &format!("source.{}.failed", op.as_str()),
                        &json!({ "source": source.id }),
                        naive,
                    )?;
                }
                Ok::<_, diesel::result::Error>(())
            })
            .map_err(|e| e.to_string())?;
            // The error itself may quote a value; it stays on the request page, not in logs.
            tracing::warn!(source = %source.id, run = run.id, "source failed");
            Ok(())
        }
    }
}
