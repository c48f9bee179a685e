//! Requests that come by post, email, phone or at the front desk, filed by the privacy team
//! ([`file_received`]), and answers that go by post: which letters a request is owed
//! ([`letters`]) and the record of one sent ([`record_letter`]).

use std::path::Path;

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::json;

use crate::domain::status::Status;
use crate::domain::text::TextKind;
use crate::domain::verification::Method;
use crate::mail::MailKind;
use crate::state::AppState;
use crate::store::contacts;
use crate::store::files::Sniffed;
use crate::store::portal::{self as portal_rows, NewDocument};
use crate::store::requests::{self as rows, EventRow, NewEvent, RequestRow};
use crate::store::{DbConn, write_tx};
use crate::workflow::{self, Filing, Record, WorkflowError, requester};

/// A document that came with the request, checked already (and rewritten, for an image).
pub struct Received<'a> {
    pub path: &'a Path,
    pub sniffed: Sniffed,
    pub name: &'a str,
}

/// What staff decided about the person's identity when filing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdentityAtFiling {
    /// Checked on the copy of an identity document that came with the request: the copy is
    /// not kept (it is deleted once checked).
    Verified(Method),
    /// To check later: the copy, if any, waits on the request page for a decision.
    Later,
}

/// Files a request that reached the organisation by another channel, as `actor` (a member of
/// staff): the request, the letter and the identity copy, the identity decision and the
/// acknowledgement owed, in one transaction. The deadline runs from the day of receipt.
// What came with the request and what was decided about it are each their own argument.
#[allow(clippy::too_many_arguments)]
pub fn file_received(
    conn: &mut DbConn,
    state: &AppState,
    filing: &Filing,
    letter: Option<Received<'_>>,
    id_copy: Option<Received<'_>>,
    identity: IdentityAtFiling,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<RequestRow, WorkflowError> {
    let keep_id_copy = identity == IdentityAtFiling::Later;
    let mut stored = Vec::new();
    let result = (|| {
        let letter_file = match &letter {
            Some(l) => {
                let kept = state.files.put_file(l.path)?;
                stored.push(kept.0.clone());
                Some(kept)
            }
            None => None,
        };
        let id_file = match (&id_copy, keep_id_copy) {
            (Some(d), true) => {
                let kept = state.files.put_file(d.path)?;
                stored.push(kept.0.clone());
                Some(kept)
            }
            _ => None,
        };
        write_tx(conn, |conn| {
            let (row, _) = workflow::file(conn, &state.law, filing, actor, now)?;
            let request_id = row.id;
            let document = |conn: &mut DbConn,
                            purpose: &str,
                            file: &Received<'_>,
                            kept: Option<&(String, u64)>| {
                portal_rows::insert_document(
                    conn,
                    &NewDocument {
                        request_id,
                        purpose,
                        storage_name: kept.map(|k| k.0.as_str()),
                        original_name: Some(file.name),
                        content_type: file.sniffed.content_type(),
                        size_bytes: kept
                            .map(|k| i64::try_from(k.1).unwrap_or(i64::MAX))
                            .unwrap_or(0),
                        uploaded_at: now.naive_utc(),
                    },
                )
            };
            if let Some(l) = &letter {
                document(conn, "letter", l, letter_file.as_ref())?;
            }
            let mut row = row;
            if let IdentityAtFiling::Verified(method) = identity {
                if let Some(d) = &id_copy {
                    let doc = document(conn, "identity", d, None)?;
                    portal_rows::decide_document(
                        conn,
                        doc.id,
                        "accepted",
                        None,
                        actor,
                        now.naive_utc(),
                    )?;
                }
                let verify = Record {
                    step: crate::domain::lifecycle::Step::Verify,
                    at: Some(now),
                    note: None,
                    method: Some(method),
                };
                row = workflow::record(conn, &state.law, row.id, &verify, actor, now)?;
                requester::notify(conn, state, &row, MailKind::Received, now)?;
            } else if let Some(d) = &id_copy {
                document(conn, "identity", d, id_file.as_ref())?;
            }
            Ok::<_, WorkflowError>(row)
        })
    })();
    if result.is_err() {
        for name in &stored {
            let _ = state.files.delete(name);
        }
    }
    result
}

/// Whether what the team writes to the person goes by post: they asked for it, or gave no
/// email address.
pub fn answers_by_post(conn: &mut DbConn, row: &RequestRow) -> diesel::QueryResult<bool> {
    if row.requester_email.is_empty() {
        return Ok(true);
    }
    Ok(contacts::find(conn, row.id)?.is_some_and(|c| c.prefers_post))
}

crate::domain::kind::text_enum! {
    /// A letter the team prints instead of a mail, named as in its address.
    pub enum Letter (what = "letter", ignore_case = false) {
        Acknowledgement => "acknowledgement",
        IdentityNeeded => "identity_needed",
        Extension => "extension",
        Answer => "answer",
        Refusal => "refusal",
        RestrictionLift => "restriction_lift",
        Fee => "fee",
        FeeSettled => "fee_settled",
        LiftCancelled => "lift_cancelled",
    }
}

/// A letter owed, with when it was last recorded as sent.
pub struct Owed {
    pub letter: Letter,
    /// The event that makes it owed (the extension, the answer, the refusal); `None` for the
    /// acknowledgement and the request for proof of identity.
    pub because: Option<EventRow>,
    pub sent: Option<EventRow>,
}

/// The letters this request is owed, in the order they come: an acknowledgement always; a
/// request for proof of identity while the identity is not established; one per step the
/// person must be told of in writing (extension, answer, refusal).
pub fn letters(row: &RequestRow, events: &[EventRow]) -> Vec<Owed> {
    let last = |kinds: &[&str]| {
        events
            .iter()
            .rev()
            .find(|e| kinds.contains(&e.kind.as_str()))
            .cloned()
    };
    // A letter sent before the step that owes it now (a second fee, a new lift date) does not
    // count: the person has not been told of this one.
    let sent = |letter: Letter, because: Option<&EventRow>| {
        events
            .iter()
            .rev()
            .take_while(|e| because.is_none_or(|b| e.id > b.id))
            .find(|e| {
                e.kind == LETTER_SENT
                    && serde_json::from_str::<serde_json::Value>(&e.data)
                        .is_ok_and(|d| d["letter"] == letter.as_str())
            })
            .cloned()
    };
    let mut owed = vec![(Letter::Acknowledgement, None)];
    let waits_for_identity = row.verified_at.is_none()
        && (row.status == Status::Verifying || requester::awaits_identity(row));
    if waits_for_identity || sent(Letter::IdentityNeeded, None).is_some() {
        owed.push((Letter::IdentityNeeded, None));
    }
    // (the letter, the steps that owe it, the step that takes it back: a lift called off
    // before the letter went needs no letter)
    for (letter, kinds, undone) in [
        (Letter::Extension, &["extend"][..], ""),
        (Letter::Answer, &["fulfil"], ""),
        (Letter::Refusal, &["reject"], ""),
        (
            Letter::RestrictionLift,
            &["lift_scheduled"],
            "lift_cancelled",
        ),
        (Letter::Fee, &["fee_asked"], ""),
        (Letter::FeeSettled, &["fee_paid", "fee_waived"], ""),
    ] {
        let Some(event) = last(kinds) else { continue };
        let taken_back = events.iter().any(|e| e.kind == undone && e.id > event.id);
        if !taken_back || sent(letter, Some(&event)).is_some() {
            owed.push((letter, Some(event)));
        }
    }
    // A lift called off after its notice went by post: the person is told it will not happen.
    if let Some(cancelled) = last(&["lift_cancelled"]) {
        let noticed = events.iter().any(|e| {
            e.id < cancelled.id
                && e.kind == LETTER_SENT
                && serde_json::from_str::<serde_json::Value>(&e.data)
                    .is_ok_and(|d| d["letter"] == Letter::RestrictionLift.as_str())
        });
        if noticed {
            owed.push((Letter::LiftCancelled, Some(cancelled)));
        }
    }
    owed.into_iter()
        .map(|(letter, because)| Owed {
            letter,
            sent: sent(letter, because.as_ref()),
            because,
        })
        .collect()
}

/// The fields [`record_letter`] refuses, as its errors name them.
pub const SENT_AFTER_TODAY: &str = "sent_on:future";
pub const SENT_BEFORE_RECEIPT: &str = "sent_on:before_receipt";

/// The timeline entry of a letter sent.
pub const LETTER_SENT: &str = "letter_sent";

/// Records that `letter` was posted on `on`, with its registered-mail number when it went
/// registered: on the timeline and in the audit, in one transaction.
#[allow(clippy::too_many_arguments)]
pub fn record_letter(
    conn: &mut DbConn,
    state: &AppState,
    request_id: i64,
    letter: Letter,
    on: NaiveDate,
    registered: Option<&str>,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<RequestRow, WorkflowError> {
    if let Some(number) = registered {
        workflow::typed("registered_number", number, TextKind::Line)?;
    }
    let today = state.law.today(now);
    if on > today {
        return Err(WorkflowError::invalid(
            SENT_AFTER_TODAY,
            "the letter cannot have been sent after today",
        ));
    }
    write_tx(conn, |conn| {
        let row = rows::lock(conn, request_id)?;
        if on < row.received_on {
            return Err(WorkflowError::invalid(
                SENT_BEFORE_RECEIPT,
                "the letter cannot have been sent before the request was received",
            ));
        }
        let events = rows::events_for(conn, &[row.id])?;
        if !letters(&row, &events).iter().any(|o| o.letter == letter) {
            return Err(WorkflowError::Refused(
                "This request is not owed that letter.",
            ));
        }
        let data =
            json!({ "letter": letter.as_str(), "sent_on": on, "registered_number": registered });
        let at = crate::domain::deadline::end_of_day(on, state.law.time_zone)
            .with_timezone(&Utc)
            .min(now);
        rows::insert_event(
            conn,
            &NewEvent {
                request_id: row.id,
                kind: LETTER_SENT,
                at: crate::clock::truncate(at).naive_utc(),
                recorded_at: now.naive_utc(),
                actor,
                from_status: None,
                to_status: None,
                note: None,
                data: &data.to_string(),
            },
        )?;
        crate::store::audit::on_request(
            conn,
            &row.uuid,
            actor,
            "request.letter_sent",
            &data,
            now.naive_utc(),
        )?;
        Ok(row)
    })
}
