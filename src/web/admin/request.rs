//! One request as the team sees it: requester, details, the deadline and how it was
//! computed, the timeline, messages, documents and the audit entries about it.

use actix_web::{HttpResponse, web};
use askama::Template;

use super::{AdminError, Staff};
use crate::store::audit;
use crate::store::portal as portal_rows;
use crate::store::requests as rows;
use crate::web::State;
use crate::web::api::view::{RequestView, request_view};
use crate::workflow;

#[derive(Template)]
#[template(path = "admin/request.html")]
pub struct RequestPage {
    pub me: String,
    pub csrf: String,
    pub is_admin: bool,
    pub v: RequestView,
    pub form: Vec<(String, String)>,
    pub rolled: bool,
    pub messages: Vec<(String, String, String)>,
    pub documents: Vec<(String, String, String)>,
    pub audit: Vec<(String, String, String)>,
    pub can_read_audit: bool,
}

pub async fn show(
    state: State,
    staff: Staff,
    id: web::Path<String>,
) -> Result<HttpResponse, AdminError> {
    let now = state.clock.now();
    let (row, events, messages, documents, trail) = state
        .db(move |conn, _| {
            let row = workflow::find(conn, &id)?;
            let events = rows::events_for(conn, &[row.id])?;
            let messages = portal_rows::messages_for(conn, row.id)?;
            let documents = portal_rows::documents_for(conn, row.id)?;
            let trail = audit::for_target(conn, "request", &row.uuid)?;
            Ok::<_, workflow::WorkflowError>((row, events, messages, documents, trail))
        })
        .await?;
    // A handler does not learn that another handler's request exists.
    if !staff.role.can_see(staff.user.id, row.assignee_id) {
        return Err(AdminError::NotFound);
    }
    let v = request_view(&state.law, &row, &events, now);
    let rolled = v.deadline.rolled_to_working_day;
    let form = match serde_json::from_str::<serde_json::Value>(&row.form) {
        Ok(serde_json::Value::Object(map)) => map
            .into_iter()
            .map(|(k, v)| {
                (
                    k,
                    v.as_str()
                        .map(str::to_string)
                        .unwrap_or_else(|| v.to_string()),
                )
            })
            .collect(),
        _ => Vec::new(),
    };
    let stamp = |t: chrono::NaiveDateTime| t.format("%Y-%m-%d %H:%M").to_string();
    Ok(staff.page(&RequestPage {
        me: staff.user.name.clone(),
        csrf: staff.session.csrf.clone(),
        is_admin: staff.role.can_manage_users(),
        v,
        form,
        rolled,
        messages: messages
            .iter()
            .map(|m| (m.author.clone(), stamp(m.created_at), m.body.clone()))
            .collect(),
        documents: documents
            .iter()
            .map(|d| {
                let state = match (&d.decision, &d.storage_name) {
                    (Some(decision), _) => format!(
                        "{decision} by {} on {}",
                        d.decided_by.clone().unwrap_or_default(),
                        d.decided_at.map(stamp).unwrap_or_default()
                    ),
                    (None, Some(_)) => "waiting for a decision".to_string(),
                    (None, None) => "file purged".to_string(),
                };
                (d.purpose.clone(), stamp(d.uploaded_at), state)
            })
            .collect(),
        audit: trail
            .iter()
            .map(|a| (stamp(a.at), a.actor.clone(), a.action.clone()))
            .collect(),
        can_read_audit: staff.role.can_read_audit(),
    }))
}
