//! Background work that went wrong, for administrators: dead jobs (attempts spent) and jobs
//! retrying after a failure, with their last error; a dead job can be given another go.

use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;
use serde_json::json;

use super::{AdminError, Nav, Staff};
use crate::store::audit::{self, Entry};
use crate::store::jobs::{self, JobRow};
use crate::store::write_tx;
use crate::web::State;

#[derive(Template)]
#[template(path = "admin/jobs.html")]
pub struct JobsPage {
    pub nav: Nav,
    pub jobs: Vec<JobRow>,
    pub dead: i64,
    pub queued: i64,
    pub notice: Option<String>,
}

async fn render_page(
    state: &State,
    staff: &Staff,
    notice: Option<String>,
) -> Result<HttpResponse, AdminError> {
    let (rows, dead, queued) = state
        .db(|conn, _| {
            Ok::<_, diesel::result::Error>((
                jobs::troubled(conn, 200)?,
                jobs::count_by_status(conn, jobs::DEAD)?,
                jobs::count_by_status(conn, jobs::QUEUED)?,
            ))
        })
        .await?;
    Ok(staff.page(&JobsPage {
        nav: staff.nav(),
        jobs: rows,
        dead,
        queued,
        notice,
    }))
}

pub async fn show(state: State, staff: Staff) -> Result<HttpResponse, AdminError> {
    staff.require(staff.role.can_manage_users())?;
    render_page(&state, &staff, None).await
}

#[derive(Deserialize)]
pub struct ReviveForm {
    csrf: String,
}

pub async fn revive(
    state: State,
    staff: Staff,
    id: web::Path<i64>,
    form: web::Form<ReviveForm>,
) -> Result<HttpResponse, AdminError> {
    staff.require(staff.role.can_manage_users())?;
    if !staff.csrf_ok(&form.csrf) {
        return Err(AdminError::Forbidden);
    }
    let (id, actor, now) = (id.into_inner(), staff.actor(), state.clock.now());
    let revived = state
        .db(move |conn, _| {
            write_tx(conn, |conn| {
                let revived = jobs::revive(conn, id, now.naive_utc())?;
                if revived {
                    audit::append(
                        conn,
                        &Entry {
                            at: now.naive_utc(),
                            actor: &actor,
                            action: "job.revive",
                            target_type: "job",
                            target_id: Some(&id.to_string()),
                            details: &json!({}).to_string(),
                        },
                    )?;
                }
                Ok::<_, diesel::result::Error>(revived)
            })
        })
        .await?;
    let notice = if revived {
        format!("Job {id} is queued again with a fresh set of attempts.")
    } else {
        format!("Job {id} is not dead; nothing changed.")
    };
    render_page(&state, &staff, Some(notice)).await
}
