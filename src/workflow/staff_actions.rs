//! What the privacy team does to a request. Each action is one transaction: the change, its
//! timeline entry, its audit entry and the mail the requester is owed.

use chrono::{DateTime, Utc};
use serde_json::json;

use crate::domain::deadline::Period;
use crate::domain::fulfilment::Operation;
use crate::domain::kind::RejectGround;
use crate::domain::lifecycle::{HoldReason, Step};
use crate::domain::text::TextKind;
use crate::domain::verification::Method;
use crate::mail::MailKind;
use crate::state::AppState;
use crate::store::audit;
use crate::store::files::Sniffed;
use crate::store::portal::{self as portal_rows, NewDocument};
use crate::store::requests::{self as rows, RequestChanges, RequestRow};
use crate::store::{DbConn, write_tx};
use crate::workflow::WorkflowError;
use crate::workflow::requester;
use crate::workflow::{self, Record};

pub enum Action {
    Assign(Option<i64>),
    Hold {
        reason: HoldReason,
        asked: String,
    },
    Resume,
    /// Identity checked outside the portal (a document seen, a copy by post, in person, by
    /// account details), with what staff noted about it.
    Verify {
        method: Method,
        note: Option<String>,
    },
    /// Accept or refuse an identity document; accepting verifies the request.
    Identity {
        document: i64,
        accepted: bool,
        reason: Option<String>,
    },
    Extend {
        by: Period,
        reason: String,
    },
    Reject {
        ground: RejectGround,
        explanation: String,
    },
    Fulfil {
        letter: String,
        attachment: Option<Attachment>,
    },
    Note(String),
    Reply {
        text: String,
        attachment: Option<Attachment>,
    },
}

fn with_file<'a>(
    text: (&'static str, &'a str),
    attachment: &'a Option<Attachment>,
) -> Vec<(&'static str, &'a str)> {
    let mut texts = vec![text];
    if let Some(a) = attachment {
        texts.push(("file_name", a.name.as_str()));
    }
    texts
}

/// A file staff send with a message or the answer, already checked (and rewritten, for an
/// image) by `documents`: the path of that checked copy, which the caller keeps until done.
pub struct Attachment {
    pub path: std::path::PathBuf,
    pub sniffed: Sniffed,
    pub name: String,
}

impl Action {
    pub fn name(&self) -> &'static str {
        match self {
            Action::Assign(_) => "assign",
            Action::Hold { .. } => "hold",
            Action::Resume => "resume",
            Action::Verify { .. } => "verify",
            Action::Identity { .. } => "identity",
            Action::Extend { .. } => "extend",
            Action::Reject { .. } => "reject",
            Action::Fulfil { .. } => "fulfil",
            Action::Note(_) => "note",
            Action::Reply { .. } => "reply",
        }
    }

    /// What staff typed, by field: each is held to the text rule before anything happens.
    fn texts(&self) -> Vec<(&'static str, &str)> {
        match self {
            Action::Assign(_) | Action::Resume => vec![],
            Action::Hold { asked, .. } => vec![("asked", asked)],
            Action::Verify { note, .. } => note.iter().map(|n| ("note", n.as_str())).collect(),
            Action::Identity { reason, .. } => {
                reason.iter().map(|r| ("reason", r.as_str())).collect()
            }
            Action::Extend { reason, .. } => vec![("reason", reason)],
            Action::Reject { explanation, .. } => vec![("explanation", explanation)],
            Action::Fulfil { letter, attachment } => with_file(("letter", letter), attachment),
            Action::Reply { text, attachment } => with_file(("text", text), attachment),
            Action::Note(note) => vec![("note", note)],
        }
    }
}

/// Carries out `action` on the request, as `actor`.
pub fn perform(
    conn: &mut DbConn,
    state: &AppState,
    request_id: i64,
    action: &Action,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<RequestRow, WorkflowError> {
    for (field, text) in action.texts() {
        workflow::typed(field, text, TextKind::Long)?;
    }
    let record = |step: Step, note: Option<String>, method: Option<Method>| Record {
        step,
        at: Some(now),
        note,
        method,
    };
    let attachment = match action {
        Action::Fulfil { attachment, .. } | Action::Reply { attachment, .. } => attachment.as_ref(),
        _ => None,
    };
    // The file goes to disk first; the transaction only records it, and a failed
    // transaction takes the file away again.
    let stored = attachment
        .map(|a| state.files.put_file(&a.path))
        .transpose()?;
    let attach = |conn: &mut DbConn, request_id: i64| -> diesel::QueryResult<Option<i64>> {
        let (Some((name, size)), Some(a)) = (&stored, attachment) else {
            return Ok(None);
        };
        let doc = portal_rows::insert_document(
            conn,
            &NewDocument {
                request_id,
                purpose: "team_attachment",
                storage_name: Some(name),
                original_name: Some(&a.name),
                content_type: a.sniffed.content_type(),
                size_bytes: i64::try_from(*size).unwrap_or(i64::MAX),
                uploaded_at: now.naive_utc(),
            },
        )?;
        Ok(Some(doc.id))
    };
    let mut decided_file: Option<String> = None;
    let result = write_tx(conn, |conn| {
        let row = rows::lock(conn, request_id)?;
        let row = match action {
            Action::Assign(user) => {
                // Only to someone who can work on it: an active account whose role acts.
                if let Some(id) = user {
                    let fit = crate::store::users::find(conn, *id)?
                        .is_some_and(|u| crate::staff::can_be_assigned(&u));
                    if !fit {
                        return Err(WorkflowError::Refused(
                            "Assign the request to an active member of staff who handles requests.",
                        ));
                    }
                }
                let updated = rows::update(
                    conn,
                    row.id,
                    &RequestChanges {
                        assignee_id: Some(*user),
                        ..Default::default()
                    },
                )?;
                // In the request's own thread too, so whoever opens it reads who has it and
                // who gave it to them, whether from its page or from the queue's selection.
                rows::insert_event(
                    conn,
                    &rows::NewEvent {
                        request_id: row.id,
                        kind: rows::ASSIGN_EVENT,
                        at: now.naive_utc(),
                        recorded_at: now.naive_utc(),
                        actor,
                        from_status: None,
                        to_status: None,
                        note: None,
                        data: &json!({ "assignee": user }).to_string(),
                    },
                )?;
                audit_entry(
                    conn,
                    &row,
                    actor,
                    "request.assign",
                    json!({ "assignee": user }),
                    now,
                )?;
                updated
            }
            Action::Hold { reason, asked } => {
                let updated = workflow::record(
                    conn,
                    &state.law,
                    row.id,
                    &record(Step::Hold(*reason), Some(asked.clone()), None),
                    actor,
                    now,
                )?;
                portal_rows::insert_message(conn, row.id, actor, asked, None, now.naive_utc())?;
                requester::notify_with(
                    conn,
                    state,
                    &updated,
                    MailKind::OnHold,
                    Some(asked),
                    None,
                    now,
                )?;
                updated
            }
            Action::Resume => workflow::record(
                conn,
                &state.law,
                row.id,
                &record(Step::Resume, None, None),
                actor,
                now,
            )?,
            Action::Verify { method, note } => workflow::record(
                conn,
                &state.law,
                row.id,
                &record(Step::Verify, note.clone(), Some(*method)),
                actor,
                now,
            )?,
            Action::Identity {
                document,
                accepted,
                reason,
            } => {
                // An id that names no document is the same refusal as one that is not
                // waiting: a form tampered with, or a page left open too long.
                let doc = match portal_rows::find_document(conn, *document) {
                    Err(diesel::result::Error::NotFound) => None,
                    found => Some(found?),
                };
                // Only a proof of identity still waiting for a decision: never a file sent
                // with a message, never one decided already.
                let awaiting = doc.filter(|doc| {
                    doc.request_id == row.id
                        && doc.decision.is_none()
                        && doc.storage_name.is_some()
                        && is_proof(&doc.purpose)
                });
                let Some(doc) = awaiting else {
                    return Err(WorkflowError::Refused(
                        "That document is not a proof of identity waiting for a decision.",
                    ));
                };
                let decision = if *accepted { "accepted" } else { "refused" };
                portal_rows::decide_document(
                    conn,
                    doc.id,
                    decision,
                    reason.as_deref(),
                    actor,
                    now.naive_utc(),
                )?;
                audit_entry(
                    conn,
                    &row,
                    actor,
                    &format!("document.{decision}"),
                    json!({ "document": doc.id, "purpose": doc.purpose }),
                    now,
                )?;
                // The file goes once the decision is committed, not before.
                decided_file = doc.storage_name.clone();
                // Verified already (e.g. by hand while the upload waited): the decision is
                // recorded, the first verification stands. After a death, or for a parent, it
                // takes every proof accepted, whichever came last.
                if *accepted && row.verified_at.is_none() && proofs_accepted(conn, state, &row)? {
                    let method = match row.acting {
                        // Verified by the proof and the ID together, whichever came last.
                        crate::domain::filing::Acting::Parent => Method::ParentalAuthorityUpload,
                        _ => Method::for_upload(&doc.purpose),
                    };
                    workflow::record(
                        conn,
                        &state.law,
                        row.id,
                        &record(Step::Verify, reason.clone(), Some(method)),
                        actor,
                        now,
                    )?
                } else {
                    rows::get(conn, row.id)?
                }
            }
            Action::Extend { by, reason } => {
                let updated = workflow::extend(conn, &state.law, row.id, *by, reason, actor, now)?;
                requester::notify_with(
                    conn,
                    state,
                    &updated,
                    MailKind::Extended,
                    Some(reason),
                    None,
                    now,
                )?;
                updated
            }
            Action::Reject {
                ground,
                explanation,
            } => {
                let updated = workflow::record(
                    conn,
                    &state.law,
                    row.id,
                    &record(Step::Reject(*ground), Some(explanation.clone()), None),
                    actor,
                    now,
                )?;
                requester::notify_with(
                    conn,
                    state,
                    &updated,
                    MailKind::Rejected,
                    Some(explanation),
                    Some(ground.as_str()),
                    now,
                )?;
                updated
            }
            Action::Fulfil { letter, .. } => {
                // The answer states what the sources did: it waits for all of them, and for
                // access, for the package it points to.
                let runs = crate::store::fulfilment::runs_for(conn, row.id)?;
                if runs
                    .iter()
                    .any(|r| r.status != crate::domain::fulfilment::RunStatus::Done)
                {
                    return Err(WorkflowError::Refused(
                        "A data source has not finished: wait for it, run it again or skip it, and finish the teams' tasks.",
                    ));
                }
                let access = runs.iter().any(|r| r.operation == Operation::Access);
                let export = crate::store::fulfilment::export_for(conn, row.id)?;
                let empty = export
                    .as_ref()
                    .filter(|e| e.status == crate::domain::fulfilment::PackageStatus::Empty);
                let released = export.as_ref().is_some_and(|e| e.released_at.is_some());
                if access && !released && empty.is_none() {
                    return Err(WorkflowError::Refused(
                        "The data package is not released yet: review and release it first.",
                    ));
                }
                // Nothing found: the letter says so, and is the release (no second mail).
                if let Some(e) = empty.filter(|e| e.released_at.is_none()) {
                    let at = now.naive_utc();
                    crate::store::fulfilment::release(conn, e.id, actor, at, 0, at)?;
                }
                crate::workflow::suppression::suppress_for(conn, state, &row, now.naive_utc())?;
                let updated = workflow::record(
                    conn,
                    &state.law,
                    row.id,
                    &record(Step::Fulfil, None, None),
                    actor,
                    now,
                )?;
                crate::workflow::follow::on_fulfil(conn, state, &updated, actor, now)?;
                crate::workflow::directives::on_fulfil(conn, state, &updated, actor, now)?;
                let document = attach(conn, row.id)?;
                portal_rows::insert_message(
                    conn,
                    row.id,
                    actor,
                    letter,
                    document,
                    now.naive_utc(),
                )?;
                requester::notify_with(
                    conn,
                    state,
                    &updated,
                    MailKind::Fulfilled,
                    Some(letter),
                    None,
                    now,
                )?;
                updated
            }
            Action::Note(text) => {
                crate::store::users::insert_note(
                    conn,
                    row.id,
                    actor_id(actor),
                    text,
                    now.naive_utc(),
                )?;
                audit_entry(conn, &row, actor, "request.note", json!({}), now)?;
                row
            }
            Action::Reply { text, .. } => {
                let document = attach(conn, row.id)?;
                portal_rows::insert_message(conn, row.id, actor, text, document, now.naive_utc())?;
                audit_entry(
                    conn,
                    &row,
                    actor,
                    "request.message",
                    json!({ "author": actor, "attachment": document }),
                    now,
                )?;
                requester::notify(conn, state, &row, MailKind::NewMessage, now)?;
                row
            }
        };
        Ok(row)
    });
    if result.is_err()
        && let Some((name, _)) = &stored
    {
        let _ = state.files.delete(name);
    }
    if result.is_ok()
        && let Some(name) = &decided_file
    {
        state.files.delete(name)?;
    }
    result
}

/// Whether every proof this request needs is accepted: after a death, the death certificate
/// and the filer's capacity (one refused leaves the death unproven); for a parent, the proof of
/// parental authority, and their identity document when the kind's policy asks for one. Any
/// other request: the one document just accepted is enough.
fn proofs_accepted(
    conn: &mut DbConn,
    state: &AppState,
    row: &RequestRow,
) -> diesel::QueryResult<bool> {
    let needed = requester::proofs_needed(state, row);
    if needed == ["identity"] {
        return Ok(true);
    }
    let accepted: Vec<String> = portal_rows::documents_for(conn, row.id)?
        .into_iter()
        .filter(|d| d.decision.as_deref() == Some("accepted"))
        .map(|d| d.purpose)
        .collect();
    Ok(needed.iter().all(|p| accepted.iter().any(|a| a == p)))
}

/// Documents that prove who the requester is (or that their representative may act), as
/// opposed to files sent with messages.
pub fn is_proof(purpose: &str) -> bool {
    !matches!(purpose, "attachment" | "team_attachment" | "letter")
}

fn actor_id(actor: &str) -> i64 {
    actor
        .strip_prefix("staff:")
        .and_then(|id| id.parse().ok())
        .unwrap_or(0)
}

fn audit_entry(
    conn: &mut DbConn,
    row: &RequestRow,
    actor: &str,
    action: &str,
    details: serde_json::Value,
    now: DateTime<Utc>,
) -> diesel::QueryResult<()> {
    audit::on_request(conn, &row.uuid, actor, action, &details, now.naive_utc())
}
