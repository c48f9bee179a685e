//! Post-mortem directives (art. 85 loi Informatique et Libertés): when the team carries out a
//! directives request, what the person asked is put on file ([`on_fulfil`]): recorded,
//! replacing the version in force (kept, ended, for proof), or withdrawn. Each is one step in
//! the answer's transaction, with its timeline event, its audit entry and a mail that tells
//! the person what is now on file.

use chrono::{DateTime, Utc};
use serde_json::json;

use crate::domain::filing::Answers;
use crate::domain::kind::RequestKind;
use crate::i18n::Lang;
use crate::mail::MailKind;
use crate::state::AppState;
use crate::store::DbConn;
use crate::store::directives::{self as rows, DirectiveRow, NewDirective, Whose};
use crate::store::requests::RequestRow;
use crate::workflow::follow::{Step, record};
use crate::workflow::{WorkflowError, requester};

/// Whose directives a request speaks of: the requester's for a directives request; the
/// deceased's (the person the request names) for an heir's.
pub fn whose(row: &RequestRow) -> Whose<'_> {
    match row.kind {
        RequestKind::Heir => Whose {
            email: row.subject_email.as_deref(),
            customer_ref: row.subject_customer_ref.as_deref(),
        },
        // The person's own, found by the address they confirmed; by the customer number only
        // when they wrote by post, with the identity copy the team checked: a number typed on
        // the portal proves nothing, and must not reach someone else's directives.
        _ => {
            let email = Some(row.requester_email.as_str()).filter(|e| !e.is_empty());
            Whose {
                email,
                customer_ref: row.customer_ref.as_deref().filter(|_| email.is_none()),
            }
        }
    }
}

fn answers(row: &RequestRow) -> serde_json::Map<String, serde_json::Value> {
    match serde_json::from_str(&row.form) {
        Ok(serde_json::Value::Object(map)) => map,
        _ => serde_json::Map::new(),
    }
}

/// Puts on file what a directives request asks, as part of its answer; nothing for another
/// kind. A request filed without its answers (by the API) leaves the team to record them by
/// hand: nothing is guessed.
pub fn on_fulfil(
    conn: &mut DbConn,
    state: &AppState,
    row: &RequestRow,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<(), WorkflowError> {
    if row.kind != RequestKind::Directives {
        return Ok(());
    }
    let form = answers(row);
    let at = now.naive_utc();
    let current: Vec<i64> = rows::current_for(conn, whose(row))?
        .iter()
        .map(|d| d.id)
        .collect();
    let get = |field: &str| Answers::get(&form, field);
    let action = get("directives_action");
    let (kind, fate, instructions) = (
        get("directives_type"),
        get("directives_fate"),
        get("directives_instructions"),
    );
    match action {
        "withdraw" => {
            let ended = rows::end(conn, &current, "withdrawn", row.id, at)?;
            record(
                conn,
                row,
                actor,
                Step {
                    kind: "directives_withdrawn",
                    note: None,
                    data: json!({ "ended": ended }),
                    action: "directives.withdrawn",
                    details: &json!({ "ended": current }),
                },
                now,
            )?;
        }
        "record" | "change" if !kind.is_empty() && !fate.is_empty() => {
            let superseded = rows::end(conn, &current, "superseded", row.id, at)?;
            let some = |v: &str| Some(v.to_string()).filter(|v| !v.is_empty());
            let designee_name = some(get("directives_designee_name"));
            let designee_email = some(get("directives_designee_email"));
            let id = rows::insert(
                conn,
                &NewDirective {
                    person_name: &row.requester_name,
                    person_email: Some(row.requester_email.as_str()).filter(|e| !e.is_empty()),
                    customer_ref: row.customer_ref.as_deref(),
                    kind,
                    fate,
                    instructions,
                    designee_name: designee_name.as_deref(),
                    designee_email: designee_email.as_deref(),
                    request_id: row.id,
                    recorded_at: at,
                    recorded_by: actor,
                },
            )?;
            record(
                conn,
                row,
                actor,
                Step {
                    kind: "directives_recorded",
                    note: None,
                    data: json!({ "directive": id, "superseded": superseded }),
                    action: "directives.recorded",
                    details: &json!({ "directive": id, "superseded": current, "kind": kind, "fate": fate }),
                },
                now,
            )?;
        }
        _ => return Ok(()),
    }
    let on_file = rows::current_for(conn, whose(row))?;
    let summary = summary(row.language, on_file.first());
    requester::notify_with(
        conn,
        state,
        row,
        MailKind::DirectivesOnFile,
        Some(&summary),
        None,
        now,
    )?;
    Ok(())
}

/// What is on file, in words, for a mail or a letter: each fact on its line, or that
/// nothing is.
pub fn summary(lang: Lang, on_file: Option<&DirectiveRow>) -> String {
    let t = lang.strings();
    let Some(d) = on_file else {
        return t.t("directives.summary.none").to_string();
    };
    let colon = if lang == Lang::Fr { " : " } else { ": " };
    let mut lines = vec![
        format!(
            "{}{colon}{}",
            t.t("directives.summary.kind"),
            t.t(&format!("directives.kind.{}", d.kind))
        ),
        format!(
            "{}{colon}{}",
            t.t("directives.summary.fate"),
            t.t(&format!("directives.fate.{}", d.fate))
        ),
    ];
    if !d.instructions.is_empty() {
        lines.push(format!(
            "{}{colon}{}",
            t.t("directives.summary.instructions"),
            d.instructions
        ));
    }
    let designee = match (&d.designee_name, &d.designee_email) {
        (Some(n), Some(e)) => Some(format!("{n} ({e})")),
        (Some(n), None) => Some(n.clone()),
        (None, Some(e)) => Some(e.clone()),
        (None, None) => None,
    };
    lines.push(format!(
        "{}{colon}{}",
        t.t("directives.summary.designee"),
        designee.unwrap_or_else(|| t.t("directives.summary.no_designee").to_string())
    ));
    lines.join("\n\n")
}
