//! Fulfilment: a request dispatched to every data source as its kind needs, each source run
//! by a job (retried through the queue) or handed to a team, the access package built from
//! what they found, reviewed, released for a limited time and number of downloads, and
//! purged after. Objection and consent withdrawal also put the person on the suppression list.

pub mod connectors;
pub mod package;
pub mod sealed;
pub mod zip;

use std::collections::BTreeMap;
use std::io::{BufWriter, Write};
use std::path::PathBuf;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::config::sources::{Connector, Operation};
use crate::domain::kind::RequestKind;
use crate::mail::MailKind;
use crate::state::AppState;
use crate::store::audit;
use crate::store::fulfilment::{self as rows, Finished, RunRow};
use crate::store::jobs::{self, JobRow};
use crate::store::requests::RequestRow;
use crate::store::{DbConn, write_tx};
use crate::workflow;
use crate::workflow::requester::{self, RequesterError};
use connectors::{SourceError, Subject};

pub const SOURCE_RUN: &str = "source_run";
pub const BUILD_EXPORT: &str = "build_export";

#[derive(Serialize, Deserialize)]
struct RunPayload {
    run: i64,
}

#[derive(Serialize, Deserialize)]
struct BuildPayload {
    request: i64,
}

/// The key packages and staged data are encrypted with.
pub fn package_key(state: &AppState) -> [u8; 32] {
    crate::crypto::subkey(&state.fulfilment_key, "dsar package encryption v1")
}

pub fn subject(row: &RequestRow) -> Subject {
    Subject {
        email: row.requester_email.clone(),
        name: row.requester_name.clone(),
        customer_ref: row.customer_ref.clone(),
        reference: workflow::reference(row).to_string(),
    }
}

/// Parses "field = value" lines (what staff type for a rectification).
pub fn parse_changes(text: &str) -> Result<BTreeMap<String, String>, String> {
    let mut changes = BTreeMap::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let Some((field, value)) = line.split_once('=') else {
            return Err(format!(
                "\"{line}\": write one correction per line as field = new value."
            ));
        };
        let field = field.trim();
        if field.is_empty() || !field.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(format!("\"{field}\" is not a field name."));
        }
        changes.insert(field.to_string(), value.trim().to_string());
    }
    Ok(changes)
}

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
) -> Result<usize, RequesterError> {
    let kind: RequestKind = row
        .kind
        .parse()
        .map_err(|_| RequesterError::Refused("This request has an unknown kind."))?;
    let op = Operation::for_kind(kind);
    if state.sources.list.is_empty() {
        return Err(RequesterError::Refused(
            "No data source is configured (fulfilment.sources_file).",
        ));
    }
    open_request(row)?;
    if row.verified_at.is_none() {
        return Err(RequesterError::Refused(
            "Verify the requester's identity before sending the request to the sources.",
        ));
    }
    if op == Operation::Rectify && changes.is_empty() {
        return Err(RequesterError::Refused(
            "Write the corrections, one per line: field = new value.",
        ));
    }
    let naive = now.naive_utc();
    write_tx(conn, |conn| {
        let existing = rows::runs_for(conn, row.id)?;
        let busy = |r: &&RunRow| {
            r.operation == op.as_str()
                && [rows::QUEUED, rows::RUNNING, rows::RETRYING].contains(&r.status.as_str())
        };
        if op == Operation::Rectify && existing.iter().any(|r| busy(&r)) {
            return Err(RequesterError::Refused(
                "Corrections are being applied: wait until every source is done, then send the new ones.",
            ));
        }
        let mut started = 0;
        for source in state.sources.list.iter().filter(|s| s.serves(op)) {
            let current = existing
                .iter()
                .find(|r| r.source == source.id && r.operation == op.as_str());
            let restart = current.is_none_or(|r| match r.status.as_str() {
                rows::FAILED => true,
                rows::DONE => op == Operation::Rectify,
                _ => false,
            });
            if !restart {
                continue;
            }
            let manual = matches!(source.connector, Connector::Manual(_));
            let status = if manual { rows::TASK } else { rows::QUEUED };
            let id = rows::upsert_run(conn, row.id, &source.id, op.as_str(), status, actor, naive)?;
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
            return Err(RequesterError::Refused(
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
                "suppressed": crate::workflow::suppression::scope(kind),
            }),
            naive,
        )?;
        Ok::<_, RequesterError>(started)
    })
}

/// Sources act only for a request still open: one withdrawn or answered changes nothing.
fn open_request(row: &RequestRow) -> Result<(), RequesterError> {
    if row.closed_at.is_some() {
        return Err(RequesterError::Refused("This request is closed."));
    }
    Ok(())
}

/// A new job for the run, which becomes its owner.
fn enqueue_run(conn: &mut DbConn, run: i64, now: chrono::NaiveDateTime) -> diesel::QueryResult<()> {
    let payload = serde_json::to_string(&RunPayload { run }).unwrap_or_default();
    let job = jobs::enqueue_owned(conn, SOURCE_RUN, &payload, now)?;
    rows::attach_job(conn, run, Some(job)).map(drop)
}

/// Whether the run's job is gone (finished, dead or cancelled) while the run says otherwise:
/// then staff may take it up again.
fn orphaned(conn: &mut DbConn, run: &RunRow) -> diesel::QueryResult<bool> {
    if ![rows::QUEUED, rows::RUNNING, rows::RETRYING].contains(&run.status.as_str()) {
        return Ok(false);
    }
    Ok(match run.job_id {
        None => true,
        Some(job) => jobs::live_among(conn, &[job])?.is_empty(),
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
) -> Result<(), RequesterError> {
    open_request(row)?;
    let naive = now.naive_utc();
    write_tx(conn, |conn| {
        let run = rows::get_run(conn, run_id)?
            .filter(|r| r.request_id == row.id)
            .ok_or(RequesterError::Refused("No such source run."))?;
        let manual = state
            .sources
            .find(&run.source)
            .is_none_or(|s| matches!(s.connector, Connector::Manual(_)));
        let allowed = match run.status.as_str() {
            rows::FAILED | rows::RETRYING => true,
            rows::TASK => !manual,
            _ => orphaned(conn, &run)?,
        };
        if !allowed || manual {
            return Err(RequesterError::Refused(
                "Only a source that failed, waits to try again or left a task can be run again.",
            ));
        }
        if let Some(job) = run.job_id {
            jobs::cancel_id(conn, job, naive)?;
        }
        rows::set_run_status(
            conn,
            run.id,
            &[run.status.as_str()],
            None,
            rows::QUEUED,
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
) -> Result<(), RequesterError> {
    open_request(row)?;
    let naive = now.naive_utc();
    write_tx(conn, |conn| {
        let run = rows::get_run(conn, run_id)?
            .filter(|r| r.request_id == row.id)
            .ok_or(RequesterError::Refused("No such source run."))?;
        let allowed = match run.status.as_str() {
            rows::FAILED | rows::RETRYING | rows::TASK => true,
            _ => orphaned(conn, &run)?,
        };
        if !allowed {
            return Err(RequesterError::Refused(
                "Only a source that failed, waits to try again or left a task can be skipped; one running now is waited for.",
            ));
        }
        // Its job, if still waiting out a backoff, has nothing left to do.
        if let Some(job) = run.job_id {
            jobs::cancel_id(conn, job, naive)?;
        }
        rows::attach_job(conn, run.id, None)?;
        let mut outcome = run.outcome();
        outcome.skipped = Some(reason.to_string());
        let records = outcome.records() as i64;
        let finished = rows::finish_run(
            conn,
            run.id,
            &[run.status.as_str()],
            None,
            &Finished {
                status: rows::DONE,
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
            return Err(RequesterError::Refused(
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
        let op: Operation = run.operation.parse().unwrap_or(Operation::Access);
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
    found: Option<(&[u8], &str)>,
    comment: &str,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<(), RequesterError> {
    open_request(row)?;
    let naive = now.naive_utc();
    let run = rows::get_run(conn, run_id)?
        .filter(|r| r.request_id == row.id && r.status == rows::TASK)
        .ok_or(RequesterError::Refused("This task is already done."))?;
    let source = state.sources.find(&run.source);
    let manual = source.is_some_and(|s| matches!(s.connector, Connector::Manual(_)));
    let op: Operation = run.operation.parse().unwrap_or(Operation::Access);
    if found.is_some() && !(manual && op == Operation::Access) {
        return Err(RequesterError::Refused(
            "A file goes with a team's search for data (access) only.",
        ));
    }
    let staged = match found {
        Some((bytes, _)) => Some(stage_bytes(state, bytes)?),
        None => run.staged.clone(),
    };
    let mut outcome = run.outcome();
    outcome.team_note = Some(comment.to_string());
    if let Some((bytes, name)) = found {
        // The name's ending follows what the file is, never what it was called.
        let name = safe_file_name(name);
        let ext = match crate::store::files::Sniffed::detect(bytes) {
            Some(crate::store::files::Sniffed::Pdf) => "pdf",
            Some(crate::store::files::Sniffed::Jpeg) => "jpg",
            Some(crate::store::files::Sniffed::Png) => "png",
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
            &[rows::TASK],
            None,
            &Finished {
                status: rows::DONE,
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
            return Err(RequesterError::Refused("This task is already done."));
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
        Ok::<_, RequesterError>(())
    });
    if result.is_err()
        && found.is_some()
        && let Some(name) = &staged
    {
        let _ = std::fs::remove_file(staged_path(state, name));
    }
    result
}

/// When every access run of the request is done, the package is (re)built.
fn after_run(
    conn: &mut DbConn,
    request_id: i64,
    op: Operation,
    now: chrono::NaiveDateTime,
) -> diesel::QueryResult<()> {
    if op != Operation::Access {
        return Ok(());
    }
    let runs = rows::runs_for(conn, request_id)?;
    let access: Vec<&RunRow> = runs.iter().filter(|r| r.operation == "access").collect();
    if access.iter().all(|r| r.settled()) {
        enqueue_build(conn, request_id, now)?;
    }
    Ok(())
}

fn enqueue_build(
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

pub fn staged_path(state: &AppState, name: &str) -> PathBuf {
    PathBuf::from(&state.settings.fulfilment.dir).join(name)
}

/// Writes bytes encrypted under a new random name in the fulfilment folder.
fn stage_bytes(state: &AppState, bytes: &[u8]) -> std::io::Result<String> {
    let (name, mut writer) = create_sealed(state)?;
    writer.write_all(bytes)?;
    writer.into_inner().map_err(|e| e.into_error())?.finish()?;
    Ok(name)
}

type SealedFile = BufWriter<crate::fulfil::sealed::SealWriter<std::fs::File>>;

/// A new encrypted file in the fulfilment folder, and its name.
pub fn create_sealed(state: &AppState) -> std::io::Result<(String, SealedFile)> {
    let dir = PathBuf::from(&state.settings.fulfilment.dir);
    std::fs::create_dir_all(&dir)?;
    let name = crate::crypto::random_token();
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let file = options.open(dir.join(&name))?;
    let sealed = crate::fulfil::sealed::SealWriter::new(file, &package_key(state))?;
    Ok((name, BufWriter::with_capacity(64 * 1024, sealed)))
}

pub fn open_sealed(
    state: &AppState,
    name: &str,
) -> std::io::Result<crate::fulfil::sealed::OpenReader<std::io::BufReader<std::fs::File>>> {
    let file = std::fs::File::open(staged_path(state, name))?;
    crate::fulfil::sealed::OpenReader::new(
        std::io::BufReader::with_capacity(64 * 1024, file),
        &package_key(state),
    )
}

fn safe_file_name(name: &str) -> String {
    let cleaned: String = name
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or("")
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || "._- ".contains(*c))
        .take(80)
        .collect();
    let cleaned = cleaned.trim_start_matches('.').trim().to_string();
    if cleaned.is_empty() {
        "document".into()
    } else {
        cleaned
    }
}

/// The `source_run` job: runs one source for one request. On its last attempt any failure,
/// the source's or ours, leaves the run failed (so staff can run it again or skip it), never
/// waiting for a job that is gone.
pub fn run_job(state: &AppState, job: &JobRow) -> Result<(), String> {
    let payload: RunPayload = serde_json::from_str(&job.payload).map_err(|e| e.to_string())?;
    match run_owned(state, job, payload.run) {
        Err(error) if job.attempts >= job.max_attempts => {
            let mut conn = state.pool.get().map_err(|e| e.to_string())?;
            let running = [rows::QUEUED, rows::RUNNING, rows::RETRYING];
            let now = state.clock.now_naive();
            rows::set_run_status(
                &mut conn,
                payload.run,
                &running,
                Some(job.id),
                rows::FAILED,
                &error,
                now,
            )
            .map_err(|e| e.to_string())?;
            Err(error)
        }
        other => other,
    }
}

fn run_owned(state: &AppState, job: &JobRow, run_id: i64) -> Result<(), String> {
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
    let op: Operation = run.operation.parse().map_err(|e: String| e)?;
    let now = state.clock.now();
    let naive = now.naive_utc();
    let running = [rows::QUEUED, rows::RUNNING, rows::RETRYING];
    let stop = |conn: &mut DbConn, why: &str| {
        rows::set_run_status(
            conn,
            run.id,
            &running,
            Some(job.id),
            rows::FAILED,
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
                sql,
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
            let _ = std::fs::remove_file(staged_path(state, &name));
            None
        }
        (Some((name, w)), Ok(_)) => {
            let finished = w
                .into_inner()
                .map_err(|e| e.into_error())
                .and_then(|s| s.finish());
            if let Err(e) = finished {
                let _ = std::fs::remove_file(staged_path(state, &name));
                return Err(format!("cannot write the staged data: {e}"));
            }
            Some(name)
        }
        (Some((name, w)), Err(_)) => {
            drop(w);
            let _ = std::fs::remove_file(staged_path(state, &name));
            None
        }
        (None, _) => None,
    };
    let forget_staged = || {
        if let Some(name) = &staged_name {
            let _ = std::fs::remove_file(staged_path(state, name));
        }
    };
    let mine = [rows::RUNNING];
    match result {
        Ok(mut outcome) => {
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
                outcome
                    .manual
                    .push(format!("tell {who} of the change (GDPR Art. 19)"));
            }
            if op == Operation::Rectify && !outcome.manual.is_empty() {
                let asked: Vec<String> =
                    changes.iter().map(|(f, v)| format!("{f} = {v}")).collect();
                outcome
                    .manual
                    .push(format!("corrections asked: {}", asked.join(", ")));
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
                        status: if left { rows::TASK } else { rows::DONE },
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
                rows::RETRYING,
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
                    rows::FAILED,
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

/// The `build_export` job.
pub fn build_job(state: &AppState, job: &JobRow) -> Result<(), String> {
    let payload: BuildPayload = serde_json::from_str(&job.payload).map_err(|e| e.to_string())?;
    crate::fulfil::package::build(state, payload.request).map_err(|e| e.to_string())
}

/// Builds a package again after a failure (a staged file lost, a disk full).
pub fn rebuild(
    conn: &mut DbConn,
    row: &RequestRow,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<(), RequesterError> {
    let naive = now.naive_utc();
    write_tx(conn, |conn| {
        let export = rows::export_for(conn, row.id)?
            .ok_or(RequesterError::Refused("There is no package yet."))?;
        // A build whose job is gone (a worker that died on it for good) may start again too.
        let stalled = export.status == rows::BUILDING
            && !jobs::live_key(conn, &format!("export:{}", row.id))?;
        if export.status != rows::BROKEN && !stalled {
            return Err(RequesterError::Refused(
                "Only a package that failed, or whose build stopped, is built again.",
            ));
        }
        rows::start_export(conn, row.id, export.portability, naive)?;
        enqueue_build(conn, row.id, naive)?;
        audit::on_request(conn, &row.uuid, actor, "export.rebuild", &json!({}), naive)?;
        Ok(())
    })
}

/// Withholds an item of the package (a source, or one of its tables) with the reason, or
/// puts a withheld one back (`reason` None), and rebuilds it.
pub fn withhold(
    conn: &mut DbConn,
    row: &RequestRow,
    item: &str,
    reason: Option<&str>,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<(), RequesterError> {
    let naive = now.naive_utc();
    write_tx(conn, |conn| {
        let export = rows::export_for(conn, row.id)?
            .filter(|e| e.status == rows::REVIEW)
            .ok_or(RequesterError::Refused(
                "Items can be withheld or put back while the package waits for review.",
            ))?;
        let mut removed: Vec<crate::fulfil::package::Removed> =
            serde_json::from_str(&export.removed).unwrap_or_default();
        let listed = removed.iter().any(|r| r.item == item);
        match reason {
            Some(_) if listed => {
                return Err(RequesterError::Refused("That item is already withheld."));
            }
            None if !listed => return Err(RequesterError::Refused("That item is not withheld.")),
            Some(reason) => removed.push(crate::fulfil::package::Removed {
                item: item.to_string(),
                reason: reason.to_string(),
                by: actor.to_string(),
                at: naive,
            }),
            None => removed.retain(|r| r.item != item),
        }
        rows::set_removed(
            conn,
            export.id,
            &serde_json::to_string(&removed).unwrap_or_default(),
        )?;
        rows::start_export(conn, row.id, export.portability, naive)?;
        enqueue_build(conn, row.id, naive)?;
        let action = if reason.is_some() {
            "export.remove_item"
        } else {
            "export.restore_item"
        };
        audit::on_request(
            conn,
            &row.uuid,
            actor,
            action,
            &json!({ "item": item }),
            naive,
        )?;
        Ok(())
    })
}

/// Releases the reviewed package: the requester is mailed a link to the status page, where
/// the download works for the configured days and count. An empty result is said in words.
pub fn release(
    conn: &mut DbConn,
    state: &AppState,
    row: &RequestRow,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<(), RequesterError> {
    let naive = now.naive_utc();
    let settings = &state.settings.fulfilment;
    let expires = naive + Duration::days(i64::from(settings.download_days));
    let lang = requester::lang_of(row);
    let t = lang.strings();
    write_tx(conn, |conn| {
        let export = rows::export_for(conn, row.id)?
            .filter(|e| {
                e.status == rows::REVIEW || (e.status == rows::EMPTY && e.released_at.is_none())
            })
            .ok_or(RequesterError::Refused(
                "There is no package waiting for review.",
            ))?;
        let max = i32::try_from(settings.max_downloads).unwrap_or(i32::MAX);
        if rows::release(conn, export.id, actor, expires, max, naive)? == 0 {
            return Err(RequesterError::Refused("The package is already released."));
        }
        let note = if export.status == rows::EMPTY {
            t.t("export.mail_empty").to_string()
        } else {
            let until = state.law.time_zone.from_utc_datetime(&expires).date_naive();
            t.fill(
                "export.mail_ready",
                &[
                    ("until", &crate::mail::long_date(until, lang.code())),
                    ("count", &settings.max_downloads.to_string()),
                ],
            )
        };
        requester::notify_with(
            conn,
            state,
            row,
            MailKind::ExportReady,
            Some(&note),
            None,
            now,
        )?;
        audit::on_request(
            conn,
            &row.uuid,
            actor,
            "export.release",
            &json!({
                "empty": export.status == rows::EMPTY,
                "size": export.size,
                "records": export.records,
                "expires_at": expires.to_string(),
                "max_downloads": settings.max_downloads,
            }),
            naive,
        )?;
        Ok(())
    })
}

use chrono::TimeZone;

/// Why a download is refused, said to the requester.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DownloadRefused {
    /// No released package (not yet, never, or nothing found).
    None,
    Expired,
    Exhausted,
}

impl DownloadRefused {
    /// What the requester reads (a key of the locale files).
    pub fn message_key(self) -> &'static str {
        match self {
            DownloadRefused::None => "export.page.none",
            DownloadRefused::Expired => "export.page.expired",
            DownloadRefused::Exhausted => "export.page.exhausted",
        }
    }
}

/// Whether the package can be downloaded now, and if not why: the one rule the status page
/// shows and the download applies.
pub fn availability(
    export: &rows::ExportRow,
    now: chrono::NaiveDateTime,
) -> Result<(), DownloadRefused> {
    let spent = export.downloads >= export.max_downloads;
    match export.status.as_str() {
        rows::RELEASED if export.expires_at.is_none_or(|e| e <= now) => {
            Err(DownloadRefused::Expired)
        }
        rows::RELEASED if spent => Err(DownloadRefused::Exhausted),
        rows::RELEASED => Ok(()),
        rows::PURGED if export.released_at.is_some() && spent => Err(DownloadRefused::Exhausted),
        rows::PURGED if export.released_at.is_some() => Err(DownloadRefused::Expired),
        _ => Err(DownloadRefused::None),
    }
}

/// Counts and audits one download; the caller streams the file it names.
pub fn start_download(
    conn: &mut DbConn,
    row: &RequestRow,
    now: DateTime<Utc>,
) -> Result<Result<String, DownloadRefused>, RequesterError> {
    let naive = now.naive_utc();
    write_tx(conn, |conn| {
        let Some(export) = rows::export_for(conn, row.id)? else {
            return Ok(Err(DownloadRefused::None));
        };
        let refused = availability(&export, naive).err();
        if let Some(why) = refused {
            audit::on_request(
                conn,
                &row.uuid,
                "requester",
                "export.download_refused",
                &json!({ "why": format!("{why:?}").to_lowercase() }),
                naive,
            )?;
            return Ok(Err(why));
        }
        let (Some(name), true) = (
            export.storage_name.clone(),
            rows::spend_download(conn, export.id, naive)?,
        ) else {
            return Ok(Err(DownloadRefused::Exhausted));
        };
        audit::on_request(
            conn,
            &row.uuid,
            "requester",
            "export.download",
            &json!({ "download": export.downloads + 1, "of": export.max_downloads }),
            naive,
        )?;
        Ok(Ok(name))
    })
}

/// Deletes packages past their date or downloads, and the staged data behind them.
pub fn purge_exports(
    conn: &mut DbConn,
    state: &AppState,
    now: DateTime<Utc>,
) -> Result<usize, RequesterError> {
    let naive = now.naive_utc();
    let mut purged = 0;
    for export in rows::spent_exports(conn, naive)? {
        let details = json!({ "downloads": export.downloads });
        purge_request(conn, state, export.request_id, details, naive, |conn| {
            let mut files = rows::take_staged(conn, export.request_id)?;
            files.extend(export.storage_name.clone());
            rows::mark_purged(conn, export.id, naive)?;
            Ok(files)
        })?;
        purged += 1;
    }
    // Requests closed without their package going out: what was gathered goes too, once the
    // download period has passed (time to reopen by mistake is not a reason to keep data).
    let cutoff = naive - Duration::days(i64::from(state.settings.fulfilment.download_days));
    for request_id in rows::abandoned(conn, cutoff)? {
        let details = json!({ "unreleased": true });
        purge_request(conn, state, request_id, details, naive, |conn| {
            let mut files = rows::take_staged(conn, request_id)?;
            files.extend(rows::drop_unreleased(conn, request_id, naive)?);
            Ok(files)
        })?;
        purged += 1;
    }
    Ok(purged)
}

/// Forgets a request's files in one transaction with its audit entry (`take` returns them),
/// then deletes them from disk.
fn purge_request(
    conn: &mut DbConn,
    state: &AppState,
    request_id: i64,
    mut details: serde_json::Value,
    now: chrono::NaiveDateTime,
    take: impl FnOnce(&mut DbConn) -> diesel::QueryResult<Vec<String>>,
) -> Result<(), RequesterError> {
    let row = crate::store::requests::get(conn, request_id)?;
    let files = write_tx(conn, |conn| {
        let files = take(conn)?;
        details["files"] = json!(files.len());
        audit::on_request(conn, &row.uuid, "worker", "export.purge", &details, now)?;
        Ok::<_, diesel::result::Error>(files)
    })?;
    for name in files {
        if let Err(e) = std::fs::remove_file(staged_path(state, &name))
            && e.kind() != std::io::ErrorKind::NotFound
        {
            tracing::warn!(error = %e, "cannot delete a purged package file");
        }
    }
    Ok(())
}

/// What the sources did, in the requester's language, for the answer letter: what was
/// erased, what was kept under which rule and until when, what was changed, and which
/// recipients were told (Art. 19). Empty when no source ran anything but access.
pub fn answer_summary(state: &AppState, runs: &[RunRow], lang: crate::i18n::Lang) -> String {
    let t = lang.strings();
    let name = |id: &str| {
        state
            .sources
            .find(id)
            .map(|s| s.name.clone())
            .unwrap_or_else(|| id.to_string())
    };
    let rows_word = |n: u64| t.count("answer.rows", n as i64);
    let how = |h: &str| {
        if h == "deleted" {
            format!(", {}", t.t("answer.deleted"))
        } else if h.starts_with("anonymised") {
            format!(", {}", t.t("answer.anonymised"))
        } else if h.is_empty() {
            String::new()
        } else {
            format!(", {h}")
        }
    };
    // The rule in the requester's language: the law when one applies, else the criterion.
    let rule = |k: &crate::fulfil::connectors::Kept| {
        let activity = state
            .register
            .as_ref()
            .and_then(|r| r.activities.iter().find(|a| a.id == k.activity));
        match activity {
            Some(a) => a.retention.legal_reference.clone().unwrap_or_else(|| {
                a.retention
                    .criterion
                    .as_ref()
                    .map(|c| match lang {
                        crate::i18n::Lang::Fr => c.fr.clone(),
                        crate::i18n::Lang::En => c.en.clone(),
                    })
                    .unwrap_or_default()
            }),
            None => k.rule.clone(),
        }
    };
    let mut sections: [(&str, Vec<String>); 6] = [
        ("answer.erased", Vec::new()),
        ("answer.kept", Vec::new()),
        ("answer.changed", Vec::new()),
        ("answer.notified", Vec::new()),
        ("answer.manual", Vec::new()),
        ("answer.skipped", Vec::new()),
    ];
    for run in runs
        .iter()
        .filter(|r| r.operation != "access" && r.status == rows::DONE)
    {
        let o = run.outcome();
        let source = name(&run.source);
        for c in &o.erased {
            sections[0].1.push(format!(
                "- {source}: {} ({}{})",
                c.what,
                rows_word(c.rows),
                how(&c.how)
            ));
        }
        for k in &o.kept {
            let until = k
                .until
                .map(|u| {
                    format!(
                        ", {}",
                        t.fill(
                            "answer.kept_until",
                            &[("until", &crate::mail::long_date(u, lang.code()))]
                        )
                    )
                })
                .unwrap_or_default();
            sections[1].1.push(format!(
                "- {source}: {} ({}) — {}{until}",
                k.what,
                rows_word(k.rows),
                rule(k)
            ));
        }
        for c in &o.changed {
            sections[2].1.push(format!(
                "- {source}: {} ({}{})",
                c.what,
                rows_word(c.rows),
                how(&c.how)
            ));
        }
        if let Some(r) = &run.recipient {
            sections[3].1.push(format!("- {r}"));
        }
        if let Some(note) = &o.team_note {
            sections[4].1.push(format!("- {source}: {note}"));
        }
        if let Some(why) = &o.skipped {
            sections[5].1.push(format!("- {source}: {why}"));
        }
    }
    let mut out = String::new();
    for (key, lines) in sections {
        if !lines.is_empty() {
            out.push_str(&format!("\n\n{}\n{}", t.t(key), lines.join("\n")));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn corrections_are_field_equals_value_lines() {
        let c = parse_changes("first_name = Jeanne\n\n phone=+33 6 00 00 00 00 \n").unwrap();
        assert_eq!(c["first_name"], "Jeanne");
        assert_eq!(c["phone"], "+33 6 00 00 00 00");
        assert!(parse_changes("just text").is_err());
        assert!(parse_changes("a b = c").is_err());
    }

    #[test]
    fn uploaded_names_are_made_safe() {
        assert_eq!(safe_file_name("../../etc/passwd"), "passwd");
        assert_eq!(safe_file_name("C:\\scans\\lettre 1.pdf"), "lettre 1.pdf");
        assert_eq!(safe_file_name(".."), "document");
    }
}
