//! What the person behind a request does through the portal: file, confirm their address by
//! the mailed link, send an identity document, write to the team, withdraw. Each step is one
//! transaction with its timeline entry, audit entry and mails.

use std::path::Path;

use chrono::{DateTime, Duration, Utc};
use serde_json::json;

use crate::config::IdentityPolicy;
use crate::crypto::{random_token, sha256_hex};
use crate::domain::email::EmailAddress;
use crate::domain::lifecycle::{HoldReason, Step};
use crate::domain::status::Status;
use crate::domain::text::TextKind;
use crate::domain::verification::Method;
use crate::mail::{self, MailFacts, MailKind};
use crate::state::AppState;
use crate::store::audit;
use crate::store::files::Sniffed;
use crate::store::portal::{self as portal_rows, NewDocument};
use crate::store::requests::{self as rows, NewEvent, RequestChanges, RequestRow};
use crate::store::{DbConn, write_tx};
use crate::workflow::{self, Filing, Record, WorkflowError};

pub const ACTOR: &str = "requester";

/// Whether a mail of `kind` goes to the person: not without an address, and not when they
/// are answered by post, where the team prints the letter instead (`intake::letters`). Only
/// the mails about the address itself still go to an address given.
pub(crate) fn goes_by_mail(
    conn: &mut DbConn,
    row: &RequestRow,
    kind: MailKind,
) -> Result<bool, WorkflowError> {
    let about_the_address = matches!(
        kind,
        MailKind::Confirm | MailKind::ReminderConfirm | MailKind::LinkAgain
    );
    Ok(!row.requester_email.is_empty()
        && (about_the_address || !workflow::intake::answers_by_post(conn, row)?))
}

/// A fresh link to the request's page; only the token's hash is stored.
pub fn issue_link(
    conn: &mut DbConn,
    state: &AppState,
    row: &RequestRow,
    now: DateTime<Utc>,
) -> diesel::QueryResult<String> {
    let token = random_token();
    let expires = now + Duration::days(i64::from(state.settings.portal.link_ttl_days));
    portal_rows::insert_token(
        conn,
        row.id,
        &sha256_hex(&token),
        now.naive_utc(),
        expires.naive_utc(),
    )?;
    Ok(format!(
        "{}/{}/r/{}",
        state.settings.base_url(),
        row.language.code(),
        token
    ))
}

/// The sentence every mail to a parent carries: whose data the request is about, in the
/// request's language; `None` unless a parent acts for their child.
pub fn on_behalf(row: &RequestRow) -> Option<String> {
    let child = row.subject_name.as_deref()?;
    (row.acting == crate::domain::filing::Acting::Parent).then(|| {
        row.language
            .strings()
            .fill("mail.on_behalf_parent", &[("child", child)])
    })
}

/// Queues a mail about `row` in its language, with a fresh link when the mail carries one.
pub fn notify(
    conn: &mut DbConn,
    state: &AppState,
    row: &RequestRow,
    kind: MailKind,
    now: DateTime<Utc>,
) -> Result<(), WorkflowError> {
    notify_with(conn, state, row, kind, None, None, now)
}

/// `notify`, with what staff wrote (`note`) and the legal ground of a refusal.
pub fn notify_with(
    conn: &mut DbConn,
    state: &AppState,
    row: &RequestRow,
    kind: MailKind,
    note: Option<&str>,
    ground: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(), WorkflowError> {
    if !goes_by_mail(conn, row, kind)? {
        return Ok(());
    }
    let lang = row.language;
    let t = lang.strings();
    let link = match kind {
        MailKind::Withdrawn | MailKind::Received => None,
        // A closed request's link leads nowhere useful: the portal's home instead.
        MailKind::Expired => Some(format!("{}/{}/", state.settings.base_url(), lang.code())),
        _ => Some(issue_link(conn, state, row, now)?),
    };
    let deadline = workflow::deadline_of(&state.law, row, state.law.today(now));
    let reference = workflow::reference(row).to_string();
    let kind_label = t.t(&format!("kinds.{}.name", row.kind)).to_string();
    let org = &state.settings.organisation;
    mail::queue(
        conn,
        kind,
        &MailFacts {
            lang: lang.code(),
            to: &row.requester_email,
            organisation: &org.name,
            dpo_email: &org.dpo_email,
            reference: &reference,
            kind_label: &kind_label,
            link: link.as_deref(),
            due_on: Some(deadline.due_on),
            clock_stopped: deadline.clock_stopped,
            note,
            ground,
            amount: None,
            on_behalf: on_behalf(row).as_deref(),
        },
        Some(row.id),
        now.naive_utc(),
    )?;
    Ok(())
}

/// Files a request from the portal and mails the confirmation link.
pub fn file(
    conn: &mut DbConn,
    state: &AppState,
    filing: &Filing,
    mandate: Option<(&Path, Sniffed, &str)>,
    now: DateTime<Utc>,
) -> Result<RequestRow, WorkflowError> {
    // What shows the right to act for another: a mandate, or a proof of parental authority.
    let purpose = match filing.acting {
        crate::domain::filing::Acting::Parent => "parental_authority",
        _ => "mandate",
    };
    let documents: Vec<Proof<'_>> = mandate
        .map(|(path, sniffed, name)| (purpose, path, sniffed, name))
        .into_iter()
        .collect();
    file_with_proofs(conn, state, filing, &documents, now)
}

/// A document filed with a request, for the team to review: its purpose (`mandate`,
/// `heir_death_certificate`, ...), the checked copy on disk, what it is and its name.
pub type Proof<'a> = (&'a str, &'a Path, Sniffed, &'a str);

/// Files a request from the portal with the documents that came with it (a mandate; after
/// a death, the death certificate and the proof of capacity) and mails the confirmation link.
pub fn file_with_proofs(
    conn: &mut DbConn,
    state: &AppState,
    filing: &Filing,
    documents: &[Proof<'_>],
    now: DateTime<Utc>,
) -> Result<RequestRow, WorkflowError> {
    let mut stored = Vec::new();
    for (_, path, _, _) in documents {
        match state.files.put_file(path) {
            Ok(file) => stored.push(file),
            Err(e) => {
                for (name, _) in &stored {
                    let _ = state.files.delete(name);
                }
                return Err(e.into());
            }
        }
    }
    let result = write_tx(conn, |conn| {
        let (row, _) = workflow::file(conn, &state.law, filing, ACTOR, now)?;
        for ((name, size), (purpose, _, sniffed, original)) in stored.iter().zip(documents) {
            portal_rows::insert_document(
                conn,
                &NewDocument {
                    request_id: row.id,
                    purpose,
                    storage_name: Some(name),
                    original_name: Some(original),
                    content_type: sniffed.content_type(),
                    size_bytes: i64::try_from(*size).unwrap_or(i64::MAX),
                    uploaded_at: now.naive_utc(),
                },
            )?;
        }
        notify(conn, state, &row, MailKind::Confirm, now)?;
        Ok::<_, WorkflowError>(row)
    });
    if result.is_err() {
        for (name, _) in &stored {
            let _ = state.files.delete(name);
        }
    }
    result
}

/// The request a link opens, if the link is genuine and not expired.
pub fn open_link(
    conn: &mut DbConn,
    token: &str,
    now: DateTime<Utc>,
) -> diesel::QueryResult<Option<RequestRow>> {
    if token.len() != 64 || !token.chars().all(|c| c.is_ascii_hexdigit()) {
        return Ok(None);
    }
    match portal_rows::request_for_token(conn, &sha256_hex(token), now.naive_utc())? {
        Some(id) => rows::get(conn, id).map(Some),
        None => Ok(None),
    }
}

/// Opening the link proves the address: a new request moves on as the identity policy says,
/// and where the policy asks for nothing more, the request is verified by the link.
/// Returns true when this visit confirmed it.
pub fn confirm_email(
    conn: &mut DbConn,
    state: &AppState,
    row: &RequestRow,
    now: DateTime<Utc>,
) -> Result<bool, WorkflowError> {
    if row.status != Status::New {
        return Ok(false);
    }
    let policy = state.settings.identity.policy(row.kind);
    // A mandate carries the identity of the person represented; a parent's own identity is
    // asked for as anyone's, and their proof of parental authority is checked beside it.
    let wants_document = policy == IdentityPolicy::Document && !row.representative;
    let needs_identity = wants_document || row.acting.for_another();
    write_tx(conn, |conn| {
        let record = Record {
            step: Step::ConfirmEmail { needs_identity },
            at: Some(now),
            note: None,
            method: None,
        };
        let mut row = workflow::record(conn, &state.law, row.id, &record, ACTOR, now)?;
        row = rows::update(
            conn,
            row.id,
            &RequestChanges {
                email_confirmed_at: Some(Some(now.naive_utc())),
                ..Default::default()
            },
        )?;
        if wants_document {
            let hold = Record {
                step: Step::Hold(HoldReason::Identity),
                at: Some(now),
                note: None,
                method: None,
            };
            row = workflow::record(conn, &state.law, row.id, &hold, "system", now)?;
            notify(conn, state, &row, MailKind::IdentityNeeded, now)?;
        } else {
            if !needs_identity {
                // The policy takes a confirmed address as proof enough: that is the
                // verification, recorded as any other (timeline, audit, the register).
                let verify = Record {
                    step: Step::Verify,
                    at: Some(now),
                    note: None,
                    method: Some(Method::EmailLink),
                };
                row = workflow::record(conn, &state.law, row.id, &verify, "system", now)?;
            }
            notify(conn, state, &row, MailKind::Received, now)?;
        }
        Ok::<_, WorkflowError>(true)
    })
}

/// Whether the page should offer the identity upload: the request waits for proof.
pub fn awaits_identity(row: &RequestRow) -> bool {
    row.status == Status::OnHold && row.held_from.as_deref() == Some(Status::Verifying.as_str())
}

/// Whether the requester has written since the team last put the request on hold: their
/// message is the answer, and the team has it. Writing records a message, not a step, so the
/// request stays on hold (its clock stopped where the profile stops it) until the team
/// resumes it.
pub fn hold_answered(
    row: &RequestRow,
    events: &[rows::EventRow],
    messages: &[portal_rows::MessageRow],
) -> bool {
    if row.status != Status::OnHold {
        return false;
    }
    let held = events
        .iter()
        .filter(|e| e.request_id == row.id && e.kind == Step::Hold(HoldReason::default()).name())
        .map(|e| e.recorded_at)
        .max();
    held.is_some_and(|held| {
        messages
            .iter()
            .any(|m| m.request_id == row.id && m.author == ACTOR && m.created_at >= held)
    })
}

/// Whether the requester may still withdraw: the status table allows it (open requests only).
pub fn can_withdraw(row: &RequestRow) -> bool {
    crate::domain::status::transition(row.status, Status::Withdrawn).is_ok()
}

/// The documents that verify a request, by purpose: after a death, the death certificate and
/// the proof of capacity; for a parent, the proof of parental authority, and their identity
/// document when the kind's policy asks for one; for anyone else, their identity.
pub fn proofs_needed(state: &AppState, row: &RequestRow) -> &'static [&'static str] {
    if row.kind == crate::domain::kind::RequestKind::Heir {
        &["heir_death_certificate", "heir_capacity_proof"]
    } else if row.acting == crate::domain::filing::Acting::Parent {
        if state.settings.identity.policy(row.kind) == crate::config::IdentityPolicy::Document {
            &["parental_authority", "identity"]
        } else {
            &["parental_authority"]
        }
    } else {
        &["identity"]
    }
}

/// What a document the person sends from their request's page proves: the first of the
/// [`proofs_needed`] neither accepted nor waiting, else the first not accepted.
fn next_proof(
    state: &AppState,
    row: &RequestRow,
    docs: &[crate::store::portal::DocumentRow],
) -> &'static str {
    let needed = proofs_needed(state, row);
    let settled_or_waiting = |purpose: &str| {
        docs.iter().any(|d| {
            d.purpose == purpose
                && (d.decision.as_deref() == Some("accepted")
                    || d.decision.is_none() && d.storage_name.is_some())
        })
    };
    let accepted = |purpose: &str| {
        docs.iter()
            .any(|d| d.purpose == purpose && d.decision.as_deref() == Some("accepted"))
    };
    needed
        .iter()
        .find(|p| !settled_or_waiting(p))
        .or_else(|| needed.iter().find(|p| !accepted(p)))
        .copied()
        .unwrap_or(needed[0])
}

/// Stores a document the person sends (their identity, or the proof still missing); the clock
/// runs again and the team checks it.
pub fn upload_identity(
    conn: &mut DbConn,
    state: &AppState,
    row: &RequestRow,
    file: &Path,
    sniffed: Sniffed,
    original: &str,
    now: DateTime<Utc>,
) -> Result<(), WorkflowError> {
    let (name, size) = state.files.put_file(file)?;
    let result = write_tx(conn, |conn| {
        let row = rows::lock(conn, row.id)?;
        let purpose = next_proof(state, &row, &portal_rows::documents_for(conn, row.id)?);
        let doc = portal_rows::insert_document(
            conn,
            &NewDocument {
                request_id: row.id,
                purpose,
                storage_name: Some(&name),
                original_name: Some(original),
                content_type: sniffed.content_type(),
                size_bytes: i64::try_from(size).unwrap_or(i64::MAX),
                uploaded_at: now.naive_utc(),
            },
        )?;
        if awaits_identity(&row) {
            let resume = Record {
                step: Step::Resume,
                at: Some(now),
                note: None,
                method: None,
            };
            workflow::record(conn, &state.law, row.id, &resume, ACTOR, now)?;
        }
        event(
            conn,
            row.id,
            "document",
            json!({ "purpose": purpose, "document": doc.id }),
            now,
        )?;
        audit_entry(
            conn,
            &row,
            "request.document_uploaded",
            json!({ "document": doc.id, "purpose": purpose }),
            now,
        )?;
        Ok::<_, WorkflowError>(())
    });
    if result.is_err() {
        let _ = state.files.delete(&name);
    }
    result
}

/// A message from the requester to the team, with an optional attachment.
pub fn post_message(
    conn: &mut DbConn,
    state: &AppState,
    row: &RequestRow,
    body: &str,
    attachment: Option<(&Path, Sniffed, &str)>,
    now: DateTime<Utc>,
) -> Result<(), WorkflowError> {
    super::typed("body", body, TextKind::Long)?;
    let stored = match attachment {
        Some((path, _, _)) => Some(state.files.put_file(path)?),
        None => None,
    };
    let result = write_tx(conn, |conn| {
        let document_id = match (&stored, attachment) {
            (Some((name, size)), Some((_, sniffed, original))) => Some(
                portal_rows::insert_document(
                    conn,
                    &NewDocument {
                        request_id: row.id,
                        purpose: "attachment",
                        storage_name: Some(name),
                        original_name: Some(original),
                        content_type: sniffed.content_type(),
                        size_bytes: i64::try_from(*size).unwrap_or(i64::MAX),
                        uploaded_at: now.naive_utc(),
                    },
                )?
                .id,
            ),
            _ => None,
        };
        portal_rows::insert_message(conn, row.id, ACTOR, body, document_id, now.naive_utc())?;
        audit_entry(
            conn,
            row,
            "request.message",
            json!({ "author": ACTOR, "attachment": document_id }),
            now,
        )?;
        Ok::<_, WorkflowError>(())
    });
    if result.is_err()
        && let Some((name, _)) = &stored
    {
        let _ = state.files.delete(name);
    }
    result
}

/// A message from the team; the requester gets a mail saying so (never its content).
pub fn post_team_message(
    conn: &mut DbConn,
    state: &AppState,
    request_id: i64,
    author: &str,
    body: &str,
    now: DateTime<Utc>,
) -> Result<RequestRow, WorkflowError> {
    super::typed("body", body, TextKind::Long)?;
    write_tx(conn, |conn| {
        let row = rows::lock(conn, request_id)?;
        portal_rows::insert_message(conn, row.id, author, body, None, now.naive_utc())?;
        audit_entry(
            conn,
            &row,
            "request.message",
            json!({ "author": author }),
            now,
        )?;
        notify(conn, state, &row, MailKind::NewMessage, now)?;
        Ok(row)
    })
}

pub fn withdraw(
    conn: &mut DbConn,
    state: &AppState,
    row: &RequestRow,
    now: DateTime<Utc>,
) -> Result<RequestRow, WorkflowError> {
    write_tx(conn, |conn| {
        let record = Record {
            step: Step::Withdraw,
            at: Some(now),
            note: None,
            method: None,
        };
        let row = workflow::record(conn, &state.law, row.id, &record, ACTOR, now)?;
        notify(conn, state, &row, MailKind::Withdrawn, now)?;
        Ok(row)
    })
}

/// Mails a fresh link for each open request filed with `email`, each in its request's
/// language; the links mailed before stay valid until they expire. Returns how many were
/// sent, which the portal never shows: its answer is the same either way.
pub fn send_links_again(
    conn: &mut DbConn,
    state: &AppState,
    email: &EmailAddress,
    now: DateTime<Utc>,
) -> Result<usize, WorkflowError> {
    let open: Vec<&str> = Status::ALL
        .iter()
        .filter(|s| s.is_open())
        .map(|s| s.as_str())
        .collect();
    write_tx(conn, |conn| {
        let requests = portal_rows::open_requests_of(conn, email.as_str(), &open)?;
        for row in &requests {
            notify(conn, state, row, MailKind::LinkAgain, now)?;
            audit_entry(conn, row, "request.link_sent_again", json!({}), now)?;
        }
        Ok::<_, WorkflowError>(requests.len())
    })
}

/// Staff decide on a document: the file is deleted at once and only "verified: how, when,
/// by whom" remains (the decision, its date and author on the document row).
pub fn decide_document(
    conn: &mut DbConn,
    state: &AppState,
    document_id: i64,
    accepted: bool,
    reason: Option<&str>,
    by: &str,
    now: DateTime<Utc>,
) -> Result<(), WorkflowError> {
    if let Some(reason) = reason {
        super::typed("reason", reason, TextKind::Long)?;
    }
    let doc = write_tx(conn, |conn| {
        let doc = portal_rows::find_document(conn, document_id)?;
        let decision = if accepted { "accepted" } else { "refused" };
        portal_rows::decide_document(conn, doc.id, decision, reason, by, now.naive_utc())?;
        let row = rows::lock(conn, doc.request_id)?;
        audit_entry(
            conn,
            &row,
            &format!("document.{decision}"),
            json!({ "document": doc.id, "purpose": doc.purpose }),
            now,
        )?;
        Ok::<_, WorkflowError>(doc)
    })?;
    if let Some(name) = &doc.storage_name {
        state.files.delete(name)?;
    }
    Ok(())
}

/// Deletes the files of decided documents, and of any older than `max_age` whatever
/// happened. Returns how many were purged; the audit trail gets the count, never content.
pub fn purge_documents(
    conn: &mut DbConn,
    state: &AppState,
    max_age: Duration,
    now: DateTime<Utc>,
) -> Result<usize, WorkflowError> {
    let due = portal_rows::documents_to_purge(conn, (now - max_age).naive_utc())?;
    let mut purged = 0;
    for doc in &due {
        if let Some(name) = &doc.storage_name {
            state.files.delete(name)?;
        }
        portal_rows::forget_document_file(conn, doc.id, now.naive_utc())?;
        purged += 1;
    }
    if purged > 0 {
        write_tx(conn, |conn| {
            audit::on_many(
                conn,
                "documents",
                "system",
                "purge.documents",
                &json!({ "count": purged }),
                now.naive_utc(),
            )
        })?;
    }
    Ok(purged)
}

fn event(
    conn: &mut DbConn,
    request_id: i64,
    kind: &str,
    data: serde_json::Value,
    now: DateTime<Utc>,
) -> diesel::QueryResult<()> {
    rows::insert_event(
        conn,
        &NewEvent {
            request_id,
            kind,
            at: now.naive_utc(),
            recorded_at: now.naive_utc(),
            actor: ACTOR,
            from_status: None,
            to_status: None,
            note: None,
            data: &data.to_string(),
        },
    )
    .map(drop)
}

fn audit_entry(
    conn: &mut DbConn,
    row: &RequestRow,
    action: &str,
    details: serde_json::Value,
    now: DateTime<Utc>,
) -> diesel::QueryResult<()> {
    audit::on_request(conn, &row.uuid, ACTOR, action, &details, now.naive_utc())
}
