//! What follows an answer, each change one transaction with its timeline event, its audit
//! entry and its mail: the restriction recorded when a restriction request is fulfilled, its
//! lift announced to the person and then carried out by the worker (Art. 18(3)); the rows an
//! erasure kept under a legal obligation, held until their retention ends; the fees decided
//! on a request (Art. 12(5), 15(3)).
//!
//! A fee does not stop the clock. The GDPR does not say that the deadline waits for payment,
//! and the CNIL asks that the fee be announced before the work; so the deadline keeps
//! running while a fee is unpaid, and the team answers in time or refuses on Art. 12(5)(b).

use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone, Utc};
use serde_json::json;

use crate::domain::desk;
use crate::domain::follow::{FeeBasis, FeeState, HoldState, RestrictionState};
use crate::domain::fulfilment::Operation;
use crate::domain::kind::RequestKind;
use crate::domain::text::TextKind;
use crate::mail::{self, MailFacts, MailKind};
use crate::state::AppState;
use crate::store::follow::{self as follow_rows, Lift, NewFee, NewHold, RestrictionRow};
use crate::store::requests::{self as rows, NewEvent, RequestRow};
use crate::store::{DbConn, audit, jobs, write_tx};
use crate::workflow::{self, WorkflowError, requester};

/// The job that lifts a restriction on its day.
pub const LIFT_RESTRICTION: &str = "restriction_lift";
/// The job that erases what a hold kept, on the day its retention ends.
pub const END_HOLD: &str = "hold_end";

/// The first instant of `day` where the organisation is, as the jobs table counts time.
pub fn start_of(state: &AppState, day: NaiveDate) -> NaiveDateTime {
    let midnight = day.and_time(chrono::NaiveTime::MIN);
    state
        .law
        .time_zone
        .from_local_datetime(&midnight)
        .earliest()
        .map(|t| t.naive_utc())
        .unwrap_or(midnight)
}

/// Enqueues the lift of a restriction for its day (one job per restriction and day).
pub fn enqueue_lift(
    conn: &mut DbConn,
    state: &AppState,
    id: i64,
    on: NaiveDate,
    now: NaiveDateTime,
) -> diesel::QueryResult<()> {
    let payload = json!({ "restriction": id }).to_string();
    let key = format!("restriction:{id}:{on}");
    jobs::enqueue_again(
        conn,
        LIFT_RESTRICTION,
        &payload,
        start_of(state, on),
        &key,
        now,
    )
}

/// Enqueues the end of a hold for its day.
pub fn enqueue_hold_end(
    conn: &mut DbConn,
    state: &AppState,
    id: i64,
    until: NaiveDate,
    now: NaiveDateTime,
) -> diesel::QueryResult<()> {
    let payload = json!({ "hold": id }).to_string();
    let key = format!("hold:{id}");
    jobs::enqueue_again(conn, END_HOLD, &payload, start_of(state, until), &key, now)
}

/// A step of what follows an answer: its line on the request's timeline and its audit entry.
pub struct Step<'a> {
    /// The timeline's kind of event, and the note and facts it shows.
    pub kind: &'a str,
    pub note: Option<&'a str>,
    pub data: serde_json::Value,
    /// The audit trail's action, and what it records.
    pub action: &'a str,
    pub details: &'a serde_json::Value,
}

/// Writes `step` on the request's timeline and in the audit trail, in the caller's
/// transaction: one never goes without the other.
pub fn record(
    conn: &mut DbConn,
    row: &RequestRow,
    actor: &str,
    step: Step<'_>,
    now: DateTime<Utc>,
) -> diesel::QueryResult<()> {
    event(conn, row, step.kind, actor, step.note, step.data, now)?;
    audit::on_request(
        conn,
        &row.uuid,
        actor,
        step.action,
        step.details,
        now.naive_utc(),
    )
}

/// A step on the request's timeline that does not move its status.
pub fn event(
    conn: &mut DbConn,
    row: &RequestRow,
    kind: &str,
    actor: &str,
    note: Option<&str>,
    data: serde_json::Value,
    now: DateTime<Utc>,
) -> diesel::QueryResult<()> {
    rows::insert_event(
        conn,
        &NewEvent {
            request_id: row.id,
            kind,
            at: now.naive_utc(),
            recorded_at: now.naive_utc(),
            actor,
            from_status: Some(row.status.as_str()),
            to_status: Some(row.status.as_str()),
            note,
            data: &data.to_string(),
        },
    )
    .map(drop)
}

/// What the answer leaves in force, recorded in the answer's transaction: a restriction
/// request's restriction, and every row an erasure kept with an end date as a hold.
pub fn on_fulfil(
    conn: &mut DbConn,
    state: &AppState,
    row: &RequestRow,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<(), WorkflowError> {
    let runs = crate::store::fulfilment::runs_for(conn, row.id)?;
    let at = now.naive_utc();
    if row.kind == RequestKind::Restriction {
        let form: serde_json::Value = serde_json::from_str(&row.form).unwrap_or_default();
        let ground = form["restriction_ground"].as_str();
        let sources: Vec<String> = runs
            .iter()
            .filter(|r| r.operation == Operation::Restrict)
            .map(|r| r.source.clone())
            .collect();
        let id = follow_rows::insert_restriction(conn, row.id, ground, &sources, at)?;
        record(
            conn,
            row,
            actor,
            Step {
                kind: "restriction_recorded",
                note: None,
                data: json!({ "restriction": id }),
                action: "restriction.recorded",
                details: &json!({ "restriction": id, "ground": ground, "sources": sources }),
            },
            now,
        )?;
    }
    let mut held = Vec::new();
    for run in runs.iter().filter(|r| r.operation == Operation::Erase) {
        for kept in run.outcome().kept {
            let Some(until) = kept.until else { continue };
            let id = follow_rows::insert_hold(
                conn,
                &NewHold {
                    request_id: row.id,
                    source: &run.source,
                    what: &kept.what,
                    rows: i64::try_from(kept.rows).unwrap_or(i64::MAX),
                    activity: &kept.activity,
                    rule: &kept.rule,
                    until,
                    keys: &kept.keys,
                },
                at,
            )?;
            enqueue_hold_end(conn, state, id, until, at)?;
            held.push(json!({ "hold": id, "source": run.source, "what": kept.what,
                "rows": kept.rows, "rule": kept.rule, "until": until }));
        }
    }
    if !held.is_empty() {
        record(
            conn,
            row,
            actor,
            Step {
                kind: "holds_recorded",
                note: None,
                data: json!({ "holds": held.len() }),
                action: "hold.recorded",
                details: &json!({ "holds": held }),
            },
            now,
        )?;
    }
    Ok(())
}

/// Queues a mail about what follows the answer, in the requester's language, with a fresh
/// link to the request; `due_on` is the day the mail is about (a lift's).
/// What a mail about what follows the answer says besides the request's own facts.
#[derive(Clone, Copy)]
struct About<'a> {
    kind: MailKind,
    day: Option<NaiveDate>,
    note: Option<&'a str>,
    ground: Option<&'a str>,
    amount: Option<&'a str>,
}

fn mail_about(
    conn: &mut DbConn,
    state: &AppState,
    row: &RequestRow,
    about: &About<'_>,
    now: DateTime<Utc>,
) -> Result<(), WorkflowError> {
    let About {
        kind,
        day,
        note,
        ground,
        amount,
    } = *about;
    if !requester::goes_by_mail(conn, row, kind)? {
        return Ok(());
    }
    let lang = row.language;
    let link = requester::issue_link(conn, state, row, now)?;
    let reference = workflow::reference(row).to_string();
    let kind_label = lang
        .strings()
        .t(&format!("kinds.{}.name", row.kind))
        .to_string();
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
            link: Some(&link),
            due_on: day,
            clock_stopped: false,
            note,
            ground,
            amount,
            on_behalf: requester::on_behalf(row).as_deref(),
        },
        Some(row.id),
        now.naive_utc(),
    )?;
    Ok(())
}

fn moved() -> WorkflowError {
    WorkflowError::Refused("This changed meanwhile: reload the page to see where it stands.")
}

/// Why a lift date was refused: the first day it may be.
#[derive(Debug)]
pub struct TooSoon(pub NaiveDate);

/// Announces the lift of a restriction for `on`, with the reason: the notice goes to the
/// person now, the worker lifts it on the day. `Ok(Err(_))` when the day leaves the person
/// too little notice.
pub fn schedule_lift(
    conn: &mut DbConn,
    state: &AppState,
    restriction: i64,
    on: NaiveDate,
    reason: &str,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<Result<RestrictionRow, TooSoon>, WorkflowError> {
    workflow::typed("reason", reason, TextKind::Long)?;
    let today = state.law.today(now);
    if let Err(earliest) =
        crate::domain::follow::check_lift_date(on, today, state.settings.retention.lift_notice_days)
    {
        return Ok(Err(TooSoon(earliest)));
    }
    let at = now.naive_utc();
    write_tx(conn, |conn| {
        let r = follow_rows::restriction(conn, restriction)?.ok_or(WorkflowError::NotFound)?;
        if !desk::follow::can_schedule_lift(r.state) {
            return Err(moved());
        }
        let row = rows::lock(conn, r.request_id)?;
        let lift = Lift {
            on,
            reason,
            by: actor,
            notice_at: at,
        };
        if !follow_rows::move_restriction(
            conn,
            r.id,
            r.state,
            RestrictionState::LiftScheduled,
            Some(&lift),
            None,
            None,
        )? {
            return Err(moved());
        }
        record(
            conn,
            &row,
            actor,
            Step {
                kind: "lift_scheduled",
                note: Some(reason),
                data: json!({ "restriction": r.id, "on": on }),
                action: "restriction.lift_scheduled",
                details: &json!({ "restriction": r.id, "on": on }),
            },
            now,
        )?;
        mail_about(
            conn,
            state,
            &row,
            &About {
                kind: MailKind::RestrictionLift,
                day: Some(on),
                note: Some(reason),
                ground: None,
                amount: None,
            },
            now,
        )?;
        enqueue_lift(conn, state, r.id, on, at)?;
        follow_rows::restriction(conn, r.id)?.ok_or(WorkflowError::NotFound)
    })
    .map(Ok)
}

/// Calls off a lift announced but not yet carried out: the restriction stays in force.
pub fn cancel_lift(
    conn: &mut DbConn,
    state: &AppState,
    restriction: i64,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<RestrictionRow, WorkflowError> {
    write_tx(conn, |conn| {
        let r = follow_rows::restriction(conn, restriction)?.ok_or(WorkflowError::NotFound)?;
        if !desk::follow::can_cancel_lift(r.state)
            || !follow_rows::move_restriction(
                conn,
                r.id,
                r.state,
                RestrictionState::Active,
                None,
                None,
                None,
            )?
        {
            return Err(moved());
        }
        let row = rows::get(conn, r.request_id)?;
        record(
            conn,
            &row,
            actor,
            Step {
                kind: "lift_cancelled",
                note: None,
                data: json!({ "restriction": r.id, "on": r.lift_on }),
                action: "restriction.lift_cancelled",
                details: &json!({ "restriction": r.id }),
            },
            now,
        )?;
        // The person was told of the lift: they are told it will not happen.
        mail_about(
            conn,
            state,
            &row,
            &About {
                kind: MailKind::LiftCancelled,
                day: r.lift_on,
                note: None,
                ground: None,
                amount: None,
            },
            now,
        )?;
        follow_rows::restriction(conn, r.id)?.ok_or(WorkflowError::NotFound)
    })
}

/// Records the end of a lift (by the worker, or by the team that did what a source could
/// not): `outcome` says what was done.
#[allow(clippy::too_many_arguments)]
pub fn finish_lift(
    conn: &mut DbConn,
    restriction: i64,
    from: RestrictionState,
    to: RestrictionState,
    outcome: &serde_json::Value,
    note: Option<&str>,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<(), WorkflowError> {
    if let Some(n) = note {
        workflow::typed("note", n, TextKind::Long)?;
    }
    let at = now.naive_utc();
    write_tx(conn, |conn| {
        let r = follow_rows::restriction(conn, restriction)?.ok_or(WorkflowError::NotFound)?;
        let lifted_at = (to == RestrictionState::Lifted).then_some(at);
        if r.state != from
            || !follow_rows::move_restriction(
                conn,
                r.id,
                from,
                to,
                None,
                lifted_at,
                Some(&outcome.to_string()),
            )?
        {
            return Err(moved());
        }
        let row = rows::get(conn, r.request_id)?;
        let kind = if to == RestrictionState::Lifted {
            "restriction_lifted"
        } else {
            "lift_task"
        };
        record(
            conn,
            &row,
            actor,
            Step {
                kind,
                note,
                data: json!({ "restriction": r.id }),
                action: &format!("restriction.{}", to.as_str()),
                details: &json!({ "restriction": r.id, "outcome": outcome }),
            },
            now,
        )?;
        Ok(())
    })
}

/// Records the end of a hold: erased by the worker, left to the team, or done by the team.
#[allow(clippy::too_many_arguments)]
pub fn finish_hold(
    conn: &mut DbConn,
    hold: i64,
    from: HoldState,
    to: HoldState,
    outcome: &serde_json::Value,
    note: Option<&str>,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<(), WorkflowError> {
    if let Some(n) = note {
        workflow::typed("note", n, TextKind::Long)?;
    }
    let at = now.naive_utc();
    write_tx(conn, |conn| {
        let h = follow_rows::hold(conn, hold)?.ok_or(WorkflowError::NotFound)?;
        if h.state != from
            || !follow_rows::move_hold(conn, h.id, from, to, at, &outcome.to_string())?
        {
            return Err(moved());
        }
        let row = rows::get(conn, h.request_id)?;
        let kind = if to == HoldState::Ended {
            "hold_ended"
        } else {
            "hold_task"
        };
        record(
            conn,
            &row,
            actor,
            Step {
                kind,
                note,
                data: json!({ "hold": h.id, "source": h.source, "what": h.what, "rows": h.rows_kept,
                "until": h.until, "erased": outcome.get("erased") }),
                action: &format!("hold.{}", to.as_str()),
                details: &json!({ "hold": h.id, "source": h.source, "what": h.what, "rule": h.rule,
                "until": h.until, "outcome": outcome }),
            },
            now,
        )?;
        Ok(())
    })
}

/// A fee decided on a request, announced to the person.
#[allow(clippy::too_many_arguments)]
pub fn ask_fee(
    conn: &mut DbConn,
    state: &AppState,
    request_id: i64,
    basis: FeeBasis,
    amount_cents: i64,
    reason: &str,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<(), WorkflowError> {
    workflow::typed("reason", reason, TextKind::Long)?;
    let at = now.naive_utc();
    write_tx(conn, |conn| {
        let row = rows::lock(conn, request_id)?;
        let pending = follow_rows::fees_for(conn, &[row.id])?
            .last()
            .map(|f| f.state);
        if !desk::follow::fee_bases(row.status, row.kind, pending).contains(&basis) {
            return Err(WorkflowError::Refused(
                "No fee can be asked on this request as it stands.",
            ));
        }
        let id = follow_rows::insert_fee(
            conn,
            &NewFee {
                request_id: row.id,
                basis,
                amount_cents,
                reason,
                by: actor,
                at,
            },
        )?;
        let details = json!({ "fee": id, "basis": basis.as_str(), "amount_cents": amount_cents });
        record(
            conn,
            &row,
            actor,
            Step {
                kind: "fee_asked",
                note: Some(reason),
                data: details.clone(),
                action: "fee.asked",
                details: &details,
            },
            now,
        )?;
        let amount =
            crate::domain::follow::euros(amount_cents, row.language == crate::i18n::Lang::Fr);
        mail_about(
            conn,
            state,
            &row,
            &About {
                kind: MailKind::FeeAsked,
                day: None,
                note: Some(reason),
                ground: Some(basis.as_str()),
                amount: Some(&amount),
            },
            now,
        )?;
        Ok(())
    })
}

/// A fee paid, or waived; the person is told.
pub fn settle_fee(
    conn: &mut DbConn,
    state: &AppState,
    request_id: i64,
    fee: i64,
    to: FeeState,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<(), WorkflowError> {
    let at = now.naive_utc();
    write_tx(conn, |conn| {
        let row = rows::lock(conn, request_id)?;
        let Some(f) = follow_rows::fees_for(conn, &[row.id])?
            .into_iter()
            .find(|f| f.id == fee)
        else {
            return Err(WorkflowError::NotFound);
        };
        if to == FeeState::Asked
            || !desk::follow::can_settle_fee(f.state)
            || !follow_rows::settle_fee(conn, f.id, to, actor, at)?
        {
            return Err(moved());
        }
        let details =
            json!({ "fee": f.id, "basis": f.basis.as_str(), "amount_cents": f.amount_cents });
        record(
            conn,
            &row,
            actor,
            Step {
                kind: &format!("fee_{}", to.as_str()),
                note: None,
                data: details.clone(),
                action: &format!("fee.{}", to.as_str()),
                details: &details,
            },
            now,
        )?;
        let amount =
            crate::domain::follow::euros(f.amount_cents, row.language == crate::i18n::Lang::Fr);
        mail_about(
            conn,
            state,
            &row,
            &About {
                kind: MailKind::FeeSettled,
                day: None,
                note: None,
                ground: Some(to.as_str()),
                amount: Some(&amount),
            },
            now,
        )?;
        Ok(())
    })
}
