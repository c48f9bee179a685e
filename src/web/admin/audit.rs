//! The audit trail for DPOs and admins: the chain's state, a check of the whole chain on
//! demand, and the entries, newest first.

use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;
use serde_json::json;

use super::{AdminError, Nav, Staff};
use crate::store::audit::{self, AuditRow, ChainStatus, Entry};
use crate::store::write_tx;
use crate::web::State;

const PAGE: i64 = 100;

#[derive(Template)]
#[template(path = "admin/audit.html")]
pub struct AuditPage {
    pub nav: Nav,
    pub rows: Vec<AuditRow>,
    /// Who each `staff:<id>` is.
    pub names: crate::staff::Names,
    pub action: String,
    pub next: Option<String>,
    /// The outcome of "verify now", when just run.
    pub verdict: Option<(bool, String)>,
}

#[derive(Debug, Default, Deserialize)]
pub struct AuditQuery {
    before: Option<i64>,
    action: Option<String>,
}

async fn render_page(
    state: &State,
    staff: &Staff,
    query: AuditQuery,
    verdict: Option<(bool, String)>,
) -> Result<HttpResponse, AdminError> {
    let action = crate::domain::text::searchable(&query.action.clone().unwrap_or_default());
    let filter = action.clone();
    let (rows, users) = state
        .db(move |conn, _| {
            Ok::<_, diesel::result::Error>((
                audit::page(conn, query.before, Some(&filter), PAGE + 1)?,
                crate::store::users::list(conn)?,
            ))
        })
        .await?;
    let more = rows.len() > PAGE as usize;
    let rows: Vec<AuditRow> = rows.into_iter().take(PAGE as usize).collect();
    let next = match rows.last() {
        Some(last) if more => Some(format!(
            "/admin/audit?before={}&action={}",
            last.id,
            super::url_escape(&action)
        )),
        _ => None,
    };
    Ok(staff.page(&AuditPage {
        nav: staff.nav(),
        rows,
        names: crate::staff::Names::new(&users),
        action,
        next,
        verdict,
    }))
}

pub async fn show(
    state: State,
    staff: Staff,
    query: web::Query<AuditQuery>,
) -> Result<HttpResponse, AdminError> {
    staff.require(staff.role.can_read_audit())?;
    render_page(&state, &staff, query.into_inner(), None).await
}

#[derive(Deserialize)]
pub struct VerifyForm {
    csrf: String,
}

/// Seals what waits, then walks the whole chain and names the first broken entry; the
/// check itself goes in the trail.
pub async fn verify(
    state: State,
    staff: Staff,
    form: web::Form<VerifyForm>,
) -> Result<HttpResponse, AdminError> {
    staff.require(staff.role.can_read_audit())?;
    if !staff.csrf_ok(&form.csrf) {
        return Err(AdminError::Forbidden);
    }
    let (actor, now) = (staff.actor(), state.clock.now());
    let status = state
        .db(move |conn, _| {
            audit::seal_all(conn)?;
            let status = audit::verify(conn)?;
            let outcome = match &status {
                ChainStatus::Intact { entries, .. } => {
                    json!({ "intact": true, "entries": entries })
                }
                ChainStatus::Broken { id, .. } => json!({ "intact": false, "first_broken": id }),
            };
            write_tx(conn, |conn| {
                audit::append(
                    conn,
                    &Entry {
                        at: now.naive_utc(),
                        actor: &actor,
                        action: "audit.verify",
                        target_type: "audit",
                        target_id: None,
                        details: &outcome.to_string(),
                    },
                )
            })?;
            Ok::<_, diesel::result::Error>(status)
        })
        .await?;
    let verdict = match status {
        ChainStatus::Intact { entries, unsealed } => (
            true,
            format!(
                "The chain is intact: {entries} entries checked{}.",
                if unsealed > 0 {
                    format!(", {unsealed} written since wait to be sealed")
                } else {
                    String::new()
                }
            ),
        ),
        ChainStatus::Broken {
            id,
            reason,
            checked,
        } => (
            false,
            format!(
                "The chain is broken at entry {id}: {reason}. {checked} entries before it check out."
            ),
        ),
    };
    render_page(&state, &staff, AuditQuery::default(), Some(verdict)).await
}
