//! What must not be kept: identity documents once decided (or too old), and closed requests
//! past the retention period, anonymised so the register row (kind, dates, outcome, ground)
//! stays while the person goes. Each purge is audited with counts, never with content.
//! Staff sessions that can no longer be used go too.

use chrono::{DateTime, Duration, Months, Utc};
use serde_json::json;

use crate::state::AppState;
use crate::store::audit;
use crate::store::{DbConn, fulfilment, outbox, portal, requests, users, write_tx};
use crate::workflow::WorkflowError;
use crate::workflow::requester;

/// The job kind that runs [`run`].
pub const PURGE: &str = "purge";
const BATCH: i64 = 200;

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Purged {
    pub documents: usize,
    pub requests_anonymised: usize,
    pub files: usize,
    /// Export packages deleted after their period or their downloads.
    pub packages: usize,
    /// Staff sessions that ended or expired.
    pub sessions: usize,
    /// Uploads a stopped server left half-received in `storage.dir/incoming`.
    pub incoming: usize,
    /// Files a stopped writer left unfinished in the database (`storage.backend = "database"`).
    pub unfinished: usize,
}

/// How old a file in the incoming folder must be to be taken for a leftover: an upload is
/// received and checked within its request, which never lasts this long.
const INCOMING_LEFTOVER: std::time::Duration = std::time::Duration::from_secs(3600);

/// How old an unfinished stored file must be to be taken for a writer's leftover: packages
/// and source runs finish within minutes, a day is far beyond any of them.
const UNFINISHED_LEFTOVER: std::time::Duration = std::time::Duration::from_secs(24 * 3600);

pub fn run(
    conn: &mut DbConn,
    state: &AppState,
    now: DateTime<Utc>,
) -> Result<Purged, WorkflowError> {
    let retention = &state.settings.retention;
    let documents = requester::purge_documents(
        conn,
        state,
        Duration::days(i64::from(retention.document_max_days)),
        now,
    )?;
    let (requests_anonymised, files) =
        anonymise_closed(conn, state, retention.closed_request_years, now)?;
    let packages = crate::fulfil::purge_exports(conn, state, now)?;
    let sessions = crate::staff::sessions::purge(
        conn,
        now,
        crate::staff::sessions::Lifetime::from_settings(&state.settings.security),
    )?;
    // Portal limits whose hour is over, and sign-in attempts of keys quiet for a day.
    crate::store::limits::purge(
        conn,
        now.naive_utc(),
        (now - crate::staff::ATTEMPTS_KEPT).timestamp_millis(),
    )?;
    let incoming = state
        .files
        .sweep_incoming(INCOMING_LEFTOVER)
        .map_err(WorkflowError::Files)?;
    // With files in the database, uploads and the fulfilment folder are the same tables: one
    // sweep covers both (in folders there is nothing unfinished to find).
    let unfinished = state
        .files
        .sweep_unfinished(UNFINISHED_LEFTOVER)
        .map_err(WorkflowError::Files)?;
    // Lifts and hold ends whose day came and whose job was lost: nothing stays restricted or
    // kept past the day announced.
    let due = crate::worker::follow::sweep(conn, state, now)?;
    if due > 0 {
        tracing::info!(due, "restriction lifts and retention ends re-enqueued");
    }
    // Answers a node of the previous release recorded during a rolling upgrade, and the
    // reports' rows that count nothing any more.
    let stamped = crate::workflow::reports::stamp_closed(conn, &state.law)?;
    if stamped > 0 {
        tracing::info!(stamped, "closed requests stamped for the reports");
    }
    crate::store::reports::drop_empty(conn)?;
    Ok(Purged {
        documents,
        requests_anonymised,
        files,
        packages,
        sessions,
        incoming,
        unfinished,
    })
}

/// Anonymises requests closed more than `years` ago. The address becomes empty, which is
/// also how an anonymised request is told apart.
pub fn anonymise_closed(
    conn: &mut DbConn,
    state: &AppState,
    years: u32,
    now: DateTime<Utc>,
) -> Result<(usize, usize), WorkflowError> {
    let Some(cutoff) = now
        .naive_utc()
        .checked_sub_months(Months::new(years.saturating_mul(12)))
    else {
        return Ok((0, 0));
    };
    let (mut count, mut files) = (0usize, 0usize);
    loop {
        let ids = requests::closed_before_not_anonymised(conn, cutoff, BATCH)?;
        if ids.is_empty() {
            break;
        }
        let stored: Vec<String> = write_tx(conn, |conn| {
            let stored = portal::document_files_for(conn, &ids)?;
            portal::delete_messages_for(conn, &ids)?;
            users::delete_notes_for(conn, &ids)?;
            // What a rectification asked for, and errors that may quote a value, are the
            // person's data; the outcome (tables, counts, rules) stays as the proof.
            fulfilment::clear_run_comments_and_errors(conn, &ids)?;
            // What people wrote (a team's note, a reason to skip, a file name, a service's
            // note) goes; the tables, counts and retention rules stay.
            for (id, text) in fulfilment::run_outcomes_for(conn, &ids)? {
                let mut outcome: crate::fulfil::connectors::Outcome =
                    serde_json::from_str(&text).unwrap_or_default();
                outcome.team_note = None;
                outcome.skipped = outcome.skipped.map(|_| String::new());
                outcome.file_name = None;
                outcome.note = None;
                fulfilment::set_run_outcome(
                    conn,
                    id,
                    &serde_json::to_string(&outcome).unwrap_or_default(),
                )?;
            }
            fulfilment::forget_removed_for(conn, &ids)?;
            // A fee's reason and a lift's reason are what staff wrote; amounts, grounds and
            // dates stay.
            crate::store::follow::forget_texts_for(conn, &ids)?;
            portal::delete_documents_for(conn, &ids)?;
            // The mails sent about the request name the person too.
            outbox::delete_for_requests(conn, &ids)?;
            portal::delete_tokens_for(conn, &ids)?;
            // What staff wrote on the timeline may name the person; an extension's reason is
            // part of the register and stays.
            requests::clear_event_notes_except_extensions(conn, &ids)?;
            crate::store::contacts::forget(conn, &ids)?;
            crate::store::scopes::forget(conn, &ids)?;
            requests::anonymise(conn, &ids)?;
            Ok::<_, diesel::result::Error>(stored.into_iter().flatten().collect())
        })?;
        for name in &stored {
            // Already gone is fine: the row that named it is gone too.
            let _ = state.files.delete(name);
        }
        files += stored.len();
        count += ids.len();
    }
    if count > 0 {
        write_tx(conn, |conn| {
            audit::on_many(
                conn,
                "requests",
                "system",
                "purge.requests",
                &json!({ "anonymised": count, "files": files, "closed_before": cutoff }),
                now.naive_utc(),
            )
        })?;
    }
    Ok((count, files))
}

/// The worker's handler for [`PURGE`] jobs.
pub fn purge_job(state: &AppState, _job: &crate::store::jobs::JobRow) -> Result<(), String> {
    let mut conn = state.pool.get().map_err(|e| e.to_string())?;
    let purged = run(&mut conn, state, state.clock.now()).map_err(|e| e.to_string())?;
    tracing::info!(
        documents = purged.documents,
        requests = purged.requests_anonymised,
        files = purged.files,
        packages = purged.packages,
        sessions = purged.sessions,
        incoming = purged.incoming,
        unfinished = purged.unfinished,
        "purge done"
    );
    Ok(())
}
