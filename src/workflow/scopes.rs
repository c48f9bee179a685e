//! What a request covers: staff confirm it from what the person asked (register activities,
//! and so the sources and tables), the sources are asked only for that, and an objection to a
//! processing other than direct marketing gets its balancing decision (GDPR Art. 21(1))
//! instead of the marketing suppression list.

use chrono::{DateTime, Utc};
use serde_json::json;

use crate::config::sources::{Connector, Source, SqlSource};
use crate::domain::kind::RejectGround;
use crate::domain::scope::{self, Balancing, Scope};
use crate::domain::text::TextKind;
use crate::i18n::Lang;
use crate::state::AppState;
use crate::store::fulfilment as runs;
use crate::store::requests::{self as rows, RequestRow};
use crate::store::scopes::{self as scope_rows, ScopeRow};
use crate::store::{DbConn, write_tx};
use crate::workflow::follow::{Step, record};
use crate::workflow::staff_actions::{self, Action};
use crate::workflow::{self, WorkflowError};

pub const UNCONFIRMED: &str = "The person asked for part of their data: confirm the scope of the request before sending it to the sources.";
pub const UNBALANCED: &str = "An objection to this processing needs the balancing decision (GDPR Art. 21(1)) before the sources stop it.";
pub const REFUSED_ON_GROUNDS: &str = "The objection was refused on compelling legitimate grounds.";
pub const UNKNOWN_ACTIVITY: &str = "No data source holds data for one of the activities chosen.";
pub const NOTHING_CHOSEN: &str = "Choose the activities the request covers, or everything.";
pub const ALREADY_SENT: &str =
    "The request was already sent to the sources: its scope can no longer change.";
pub const NOT_BALANCED: &str =
    "Only an objection to a processing other than direct marketing is balanced.";
pub const ALREADY_DECIDED: &str = "The balancing decision is already recorded.";
pub const NO_GROUNDS: &str = "Write the compelling legitimate grounds the person will read.";

/// The activity a table's rows belong to: its own, else its source's (already resolved when
/// the sources file was read).
fn table_activity(t: &crate::config::sources::Table) -> &str {
    &t.activity
}

/// Whether the source holds something in scope: one of its tables, or the source itself.
pub fn reaches(source: &Source, scope: &Scope) -> bool {
    match &source.connector {
        Connector::Sql(sql) if !sql.tables.is_empty() => {
            sql.tables.iter().any(|t| scope.covers(table_activity(t)))
        }
        _ => scope.covers(&source.activity),
    }
}

/// The SQL source with only its tables in scope.
pub fn scoped_tables(sql: &SqlSource, scope: &Scope) -> SqlSource {
    let mut scoped = sql.clone();
    scoped.tables.retain(|t| scope.covers(table_activity(t)));
    scoped
}

/// The activities some source holds data for, in the register's order when there is one,
/// with their names in `lang`: what staff may choose.
pub fn activities(state: &AppState, lang: Lang) -> Vec<(String, String)> {
    let mut held: Vec<String> = Vec::new();
    for s in &state.sources.list {
        let mut push = |a: &str| {
            if !held.iter().any(|h| h == a) {
                held.push(a.to_string());
            }
        };
        push(&s.activity);
        if let Connector::Sql(sql) = &s.connector {
            for t in &sql.tables {
                push(table_activity(t));
            }
        }
    }
    let name = |id: &str| activity_name(state, id, lang);
    match &state.register {
        Some(r) => {
            let mut ordered: Vec<(String, String)> = r
                .activities
                .iter()
                .filter(|a| held.contains(&a.id))
                .map(|a| (a.id.clone(), name(&a.id)))
                .collect();
            for h in &held {
                if !ordered.iter().any(|(id, _)| id == h) {
                    ordered.push((h.clone(), name(h)));
                }
            }
            ordered
        }
        None => held.iter().map(|h| (h.clone(), name(h))).collect(),
    }
}

/// An activity as the register names it in `lang`; its id, made readable, without one.
pub fn activity_name(state: &AppState, id: &str, lang: Lang) -> String {
    state
        .register
        .as_ref()
        .and_then(|r| r.activities.iter().find(|a| a.id == id))
        .map(|a| match lang {
            Lang::Fr => a.name.fr.clone(),
            Lang::En => a.name.en.clone(),
        })
        .unwrap_or_else(|| id.replace('_', " "))
}

/// "Gestion des commandes et livraisons ; Facturation" or "toutes les données".
pub fn scope_words(state: &AppState, scope: &Scope, lang: Lang) -> String {
    match scope {
        Scope::Everything => lang.strings().t("scope.everything").to_string(),
        Scope::Activities(set) => {
            let order = activities(state, lang);
            let mut names: Vec<String> = order
                .iter()
                .filter(|(id, _)| set.contains(id))
                .map(|(_, name)| name.clone())
                .collect();
            // An activity no source holds any more is still said, by the register's name.
            for id in set.iter().filter(|id| !order.iter().any(|(a, _)| a == *id)) {
                names.push(activity_name(state, id, lang));
            }
            names.join(" ; ")
        }
    }
}

fn held(state: &AppState, id: &str) -> bool {
    activities(state, Lang::En).iter().any(|(a, _)| a == id)
}

/// The scope the sources are asked for: the one confirmed, else everything when the person
/// asked for everything; refused while a part asked for is not confirmed, and while an
/// objection to a processing other than marketing has no decision to stop it.
pub fn for_dispatch(conn: &mut DbConn, row: &RequestRow) -> Result<Scope, WorkflowError> {
    let found = scope_rows::find(conn, row.id)?;
    let Some(found) = found else {
        if scope::asked_part(row.kind, &row.form).is_some() {
            return Err(WorkflowError::Refused(UNCONFIRMED));
        }
        return Ok(Scope::Everything);
    };
    if scope::needs_balancing(row.kind, &row.form) {
        match found.balancing() {
            Some(Balancing::Stop) => {}
            Some(Balancing::Compelling) => return Err(WorkflowError::Refused(REFUSED_ON_GROUNDS)),
            None => return Err(WorkflowError::Refused(UNBALANCED)),
        }
    }
    Ok(found.scope())
}

/// The scope a run works on (the request's confirmed one, else everything).
pub fn of_request(conn: &mut DbConn, request_id: i64) -> diesel::QueryResult<Scope> {
    Ok(scope_rows::find(conn, request_id)?
        .map(|s| s.scope())
        .unwrap_or(Scope::Everything))
}

/// Staff confirm what the request covers, before it goes to the sources.
pub fn confirm(
    conn: &mut DbConn,
    state: &AppState,
    request_id: i64,
    chosen: &Scope,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<(), WorkflowError> {
    if let Scope::Activities(set) = chosen {
        if set.is_empty() {
            return Err(WorkflowError::Refused(NOTHING_CHOSEN));
        }
        if set.iter().any(|a| !held(state, a)) {
            return Err(WorkflowError::Refused(UNKNOWN_ACTIVITY));
        }
    }
    let at = now.naive_utc();
    write_tx(conn, |conn| {
        let row = rows::lock(conn, request_id)?;
        if row.closed_at.is_some() {
            return Err(WorkflowError::Refused("This request is closed."));
        }
        if !runs::runs_for(conn, row.id)?.is_empty() {
            return Err(WorkflowError::Refused(ALREADY_SENT));
        }
        scope_rows::confirm(conn, row.id, chosen, actor, at)?;
        let activities: Vec<String> = match chosen {
            Scope::Everything => Vec::new(),
            Scope::Activities(set) => set.iter().cloned().collect(),
        };
        // The words too, in both languages: the thread says them as the register did then.
        let details = json!({
            "everything": chosen.is_everything(),
            "activities": activities,
            "words": {
                "fr": scope_words(state, chosen, Lang::Fr),
                "en": scope_words(state, chosen, Lang::En),
            },
        });
        record(
            conn,
            &row,
            actor,
            Step {
                kind: "scope_confirmed",
                note: None,
                data: details.clone(),
                action: "scope.confirm",
                details: &details,
            },
            now,
        )?;
        Ok(())
    })
}

/// The balancing decision on an objection to a processing other than direct marketing.
/// `Stop`: the processing in scope stops when the request goes to the sources (their
/// `object` operation on the tables in scope; nothing joins the suppression list).
/// `Compelling`: the objection is refused with the grounds, which the person is mailed.
pub fn decide(
    conn: &mut DbConn,
    state: &AppState,
    request_id: i64,
    decision: Balancing,
    grounds: &str,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<(), WorkflowError> {
    let grounds = grounds.trim();
    if decision == Balancing::Compelling && grounds.is_empty() {
        return Err(WorkflowError::invalid("grounds", NO_GROUNDS));
    }
    if !grounds.is_empty() {
        workflow::typed("grounds", grounds, TextKind::Long)?;
    }
    let at = now.naive_utc();
    write_tx(conn, |conn| {
        let row = rows::lock(conn, request_id)?;
        if row.closed_at.is_some() {
            return Err(WorkflowError::Refused("This request is closed."));
        }
        if !scope::needs_balancing(row.kind, &row.form) {
            return Err(WorkflowError::Refused(NOT_BALANCED));
        }
        let Some(found) = scope_rows::find(conn, row.id)? else {
            return Err(WorkflowError::Refused(UNCONFIRMED));
        };
        if found.balancing().is_some() {
            return Err(WorkflowError::Refused(ALREADY_DECIDED));
        }
        let kept = Some(grounds).filter(|g| !g.is_empty());
        scope_rows::decide(conn, row.id, decision, kept, actor, at)?;
        let details = json!({ "decision": decision.as_str() });
        record(
            conn,
            &row,
            actor,
            Step {
                kind: match decision {
                    Balancing::Stop => "objection_upheld",
                    Balancing::Compelling => "objection_overridden",
                },
                note: kept,
                data: details.clone(),
                action: "objection.balancing",
                details: &details,
            },
            now,
        )?;
        if decision == Balancing::Compelling {
            // The refusal itself: closed, mailed with the grounds and the right to complain.
            staff_actions::perform(
                conn,
                state,
                row.id,
                &Action::Reject {
                    ground: RejectGround::CompellingGrounds,
                    explanation: grounds.to_string(),
                },
                actor,
                now,
            )?;
        }
        Ok(())
    })
}

/// The confirmed scope and decision of a request, for the request page.
pub fn find(conn: &mut DbConn, request_id: i64) -> diesel::QueryResult<Option<ScopeRow>> {
    scope_rows::find(conn, request_id)
}
