//! The queue: open requests by due date, overdue first, filtered and paged by keyset.

use std::collections::HashMap;

use actix_web::{HttpResponse, web};
use askama::Template;
use chrono::{Duration, NaiveDate};
use serde::Deserialize;

use super::{AdminError, Staff};
use crate::domain::deadline;
use crate::domain::reference::Reference;
use crate::store::queue::{self, Assignee, OPEN, QueueFilter};
use crate::store::users;
use crate::web::State;
use crate::workflow;

const PAGE: i64 = 50;

#[derive(Debug, Default, Deserialize)]
pub struct QueueQuery {
    status: Option<String>,
    kind: Option<String>,
    assignee: Option<String>,
    overdue: Option<String>,
    within: Option<String>,
    profile: Option<String>,
    q: Option<String>,
    after: Option<String>,
}

pub struct QueueRow {
    pub reference: String,
    pub url: String,
    pub kind: String,
    pub requester: String,
    pub status: String,
    pub assignee: String,
    pub received: NaiveDate,
    pub due: NaiveDate,
    pub days_left: i64,
    /// overdue | soon | stopped | ok: the badge's colour.
    pub badge: &'static str,
}

#[derive(Template)]
#[template(path = "admin/queue.html")]
pub struct QueuePage {
    pub nav: super::Nav,
    pub csrf: String,
    pub rows: Vec<QueueRow>,
    pub next: Option<String>,
    pub filters: Vec<(&'static str, String)>,
    pub statuses: Vec<String>,
    pub kinds: Vec<String>,
    pub profiles: Vec<String>,
}

impl QueuePage {
    pub fn value(&self, name: &str) -> &str {
        self.filters
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or("")
    }
}

fn non_empty(v: &Option<String>) -> Option<String> {
    v.as_ref()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

pub async fn show(
    state: State,
    staff: Staff,
    query: web::Query<QueueQuery>,
) -> Result<HttpResponse, AdminError> {
    let q = query.into_inner();
    let today = state.law.today(state.clock.now());
    let statuses: Vec<String> = match non_empty(&q.status) {
        Some(s)
            if OPEN.contains(&s.as_str())
                || crate::domain::status::Status::NAMES.contains(&s.as_str()) =>
        {
            vec![s]
        }
        _ => OPEN.iter().map(|s| s.to_string()).collect(),
    };
    let asked = match non_empty(&q.assignee).as_deref() {
        Some("me") => Assignee::User(staff.user.id),
        Some("unassigned") => Assignee::Unassigned,
        _ => Assignee::Anyone,
    };
    let assignee = staff.role.queue_scope(staff.user.id, asked);
    let mut due_by = None;
    if non_empty(&q.overdue).is_some() {
        due_by = today.pred_opt();
    }
    if let Some(days) = non_empty(&q.within)
        .and_then(|d| d.parse::<i64>().ok())
        .filter(|d| (0..=3650).contains(d))
    {
        let by = today + Duration::days(days);
        due_by = Some(due_by.map_or(by, |d| d.min(by)));
    }
    let mut filter = QueueFilter {
        statuses,
        kind: non_empty(&q.kind)
            .filter(|k| crate::domain::kind::RequestKind::NAMES.contains(&k.as_str())),
        profile: non_empty(&q.profile).filter(|p| state.law.profile(p).is_some()),
        assignee,
        due_by,
        email: None,
        after: non_empty(&q.after).and_then(|a| {
            let (date, id) = a.split_once('_')?;
            Some((date.parse().ok()?, id.parse().ok()?))
        }),
        limit: PAGE,
    };
    // A search for a character no stored text holds finds nothing; it never reaches the
    // database as such (PostgreSQL refuses a NUL byte outright).
    let search = non_empty(&q.q)
        .map(|s| crate::domain::text::searchable(&s))
        .filter(|s| !s.trim().is_empty());
    let by_reference = search.as_deref().and_then(|s| s.parse::<Reference>().ok());
    if let Some(s) = &search
        && by_reference.is_none()
    {
        filter.email = Some(s.to_lowercase());
    }
    let (found, people) = state
        .db(move |conn, _| {
            let found = match by_reference {
                Some(r) => crate::store::requests::find_by_reference(conn, r.year, r.seq)?
                    .into_iter()
                    .collect(),
                None => queue::page(conn, &filter)?,
            };
            let people: HashMap<i64, String> = users::list(conn)?
                .into_iter()
                .map(|u| (u.id, u.name))
                .collect();
            Ok::<_, diesel::result::Error>((found, people))
        })
        .await?;
    let next = (found.len() as i64 == PAGE)
        .then(|| found.last().map(|r| format!("{}_{}", r.due_on, r.id)))
        .flatten();
    let rows = found
        .iter()
        .filter(|r| staff.role.can_see(staff.user.id, r.assignee_id))
        .map(|r| {
            let d = workflow::deadline_of(&state.law, r, today);
            let left = deadline::days_left(d.due_on, today);
            let open = r.status.is_open();
            QueueRow {
                reference: workflow::reference(r).to_string(),
                url: format!("/admin/requests/{}", workflow::reference(r)),
                kind: r.kind.to_string(),
                requester: r.requester_name.clone(),
                status: r.status.to_string(),
                assignee: r
                    .assignee_id
                    .and_then(|id| people.get(&id).cloned())
                    .unwrap_or_else(|| "—".into()),
                received: r.received_on,
                due: d.due_on,
                days_left: left,
                badge: if !open {
                    "closed"
                } else if d.clock_stopped {
                    "stopped"
                } else if left < 0 {
                    "overdue"
                } else if left <= 7 {
                    "soon"
                } else {
                    "ok"
                },
            }
        })
        .collect();
    let filters = vec![
        ("status", non_empty(&q.status).unwrap_or_default()),
        ("kind", non_empty(&q.kind).unwrap_or_default()),
        ("assignee", non_empty(&q.assignee).unwrap_or_default()),
        ("overdue", non_empty(&q.overdue).unwrap_or_default()),
        ("within", non_empty(&q.within).unwrap_or_default()),
        ("profile", non_empty(&q.profile).unwrap_or_default()),
        ("q", search.unwrap_or_default()),
    ];
    let next = next.map(|cursor| {
        let mut link = String::from("/admin?");
        for (k, v) in filters.iter().filter(|(_, v)| !v.is_empty()) {
            link.push_str(&format!("{k}={}&", form_escape(v)));
        }
        link.push_str(&format!("after={cursor}"));
        link
    });
    Ok(staff.page(&QueuePage {
        nav: staff.nav(),
        csrf: staff.session.csrf.clone(),
        rows,
        next,
        filters,
        statuses: crate::domain::status::Status::NAMES
            .iter()
            .map(|s| s.to_string())
            .collect(),
        kinds: crate::domain::kind::RequestKind::NAMES
            .iter()
            .map(|s| s.to_string())
            .collect(),
        profiles: state
            .law
            .profile_names()
            .iter()
            .map(|s| s.to_string())
            .collect(),
    }))
}

fn form_escape(s: &str) -> String {
    crate::web::encode_component(s)
}
