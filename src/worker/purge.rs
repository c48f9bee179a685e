//! What must not be kept: identity documents once decided (or too old), and closed requests
//! past the retention period, anonymised so the register row (kind, dates, outcome, ground)
//! stays while the person goes. Each purge is audited with counts, never with content.

use chrono::{DateTime, Duration, Months, Utc};
use diesel::prelude::*;
use serde_json::json;

use crate::state::AppState;
use crate::store::audit::{self, Entry};
use crate::store::schema::{
    documents, exports, mail_outbox, messages, notes, request_events, request_tokens, requests,
    source_runs,
};
use crate::store::{DbConn, write_tx};
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
}

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
    Ok(Purged {
        documents,
        requests_anonymised,
        files,
        packages,
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
        let ids: Vec<i64> = requests::table
            .filter(requests::closed_at.lt(cutoff))
            .filter(requests::requester_email.ne(""))
            .order(requests::id.asc())
            .limit(BATCH)
            .select(requests::id)
            .load(conn)?;
        if ids.is_empty() {
            break;
        }
        let stored: Vec<String> = write_tx(conn, |conn| {
            let stored: Vec<Option<String>> = documents::table
                .filter(documents::request_id.eq_any(&ids))
                .select(documents::storage_name)
                .load(conn)?;
            diesel::delete(messages::table.filter(messages::request_id.eq_any(&ids)))
                .execute(conn)?;
            diesel::delete(notes::table.filter(notes::request_id.eq_any(&ids))).execute(conn)?;
            // What a rectification asked for, and errors that may quote a value, are the
            // person's data; the outcome (tables, counts, rules) stays as the proof.
            diesel::update(source_runs::table.filter(source_runs::request_id.eq_any(&ids)))
                .set((
                    source_runs::comment.eq(None::<String>),
                    source_runs::error.eq(None::<String>),
                ))
                .execute(conn)?;
            // What people wrote (a team's note, a reason to skip, a file name, a service's
            // note) goes; the tables, counts and retention rules stay.
            let outcomes: Vec<(i64, String)> = source_runs::table
                .filter(source_runs::request_id.eq_any(&ids))
                .select((source_runs::id, source_runs::outcome))
                .load(conn)?;
            for (id, text) in outcomes {
                let mut outcome: crate::fulfil::connectors::Outcome =
                    serde_json::from_str(&text).unwrap_or_default();
                outcome.team_note = None;
                outcome.skipped = outcome.skipped.map(|_| String::new());
                outcome.file_name = None;
                outcome.note = None;
                diesel::update(source_runs::table.find(id))
                    .set(
                        source_runs::outcome
                            .eq(serde_json::to_string(&outcome).unwrap_or_default()),
                    )
                    .execute(conn)?;
            }
            diesel::update(exports::table.filter(exports::request_id.eq_any(&ids)))
                .set(exports::removed.eq("[]"))
                .execute(conn)?;
            diesel::delete(documents::table.filter(documents::request_id.eq_any(&ids)))
                .execute(conn)?;
            // The mails sent about the request name the person too.
            diesel::delete(mail_outbox::table.filter(mail_outbox::request_id.eq_any(&ids)))
                .execute(conn)?;
            diesel::delete(request_tokens::table.filter(request_tokens::request_id.eq_any(&ids)))
                .execute(conn)?;
            // What staff wrote on the timeline may name the person; an extension's reason is
            // part of the register and stays.
            diesel::update(
                request_events::table
                    .filter(request_events::request_id.eq_any(&ids))
                    .filter(request_events::kind.ne("extend")),
            )
            .set(request_events::note.eq(None::<String>))
            .execute(conn)?;
            diesel::update(requests::table.filter(requests::id.eq_any(&ids)))
                .set((
                    requests::requester_name.eq(""),
                    requests::requester_email.eq(""),
                    requests::customer_ref.eq(None::<String>),
                    requests::details.eq(""),
                    requests::form.eq("{}"),
                ))
                .execute(conn)?;
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
            audit::append(
                conn,
                &Entry {
                    at: now.naive_utc(),
                    actor: "system",
                    action: "purge.requests",
                    target_type: "requests",
                    target_id: None,
                    details:
                        &json!({ "anonymised": count, "files": files, "closed_before": cutoff })
                            .to_string(),
                },
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
        "purge done"
    );
    Ok(())
}
