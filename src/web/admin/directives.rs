//! Post-mortem directives for the DPO (art. 85 loi Informatique et Libertés): the page that
//! lists those in force (`/admin/directives`), each person's history with the versions a
//! change replaced or a withdrawal ended (`/admin/directives/{id}`), and the panel an heir's
//! request page shows beside the death certificate and the proof of capacity.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;

use super::{AdminError, Nav, Staff};
use crate::i18n::{Lang, Strings, local_time};
use crate::store::directives::{self as rows, DirectiveRow};
use crate::store::requests::RequestRow;
use crate::web::State;
use crate::workflow::{self, WorkflowError};

/// How many directives in force the page lists.
const LISTED: i64 = 500;

/// One version of a person's directives, in words.
pub struct DirectiveView {
    pub id: i64,
    pub person: String,
    /// Their address and customer number, as recorded.
    pub contact: String,
    pub kind: String,
    pub fate: String,
    pub instructions: String,
    pub designee: String,
    /// "Enregistrées le 3 mars 2026 à 10:42 (demande DSAR-2026-000012)".
    pub recorded: String,
    pub request_url: String,
    /// "Remplacées le …", "Retirées le …"; `None` while in force.
    pub ended: Option<String>,
}

fn view(
    t: &Strings,
    lang: Lang,
    zone: chrono_tz::Tz,
    d: &DirectiveRow,
    request: Option<&RequestRow>,
) -> DirectiveView {
    let reference = request
        .map(|r| workflow::reference(r).to_string())
        .unwrap_or_default();
    let at = |when: chrono::NaiveDateTime| local_time(when.and_utc(), zone, lang);
    let designee = match (&d.designee_name, &d.designee_email) {
        (Some(n), Some(e)) => format!("{n} ({e})"),
        (Some(n), None) => n.clone(),
        (None, Some(e)) => e.clone(),
        (None, None) => t.t("directives.summary.no_designee").to_string(),
    };
    let contact = [d.person_email.clone(), d.customer_ref.clone()]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" · ");
    DirectiveView {
        id: d.id,
        person: d.person_name.clone(),
        contact,
        kind: t.t(&format!("directives.kind.{}", d.kind)).to_string(),
        fate: t.t(&format!("directives.fate.{}", d.fate)).to_string(),
        instructions: d.instructions.clone(),
        designee,
        recorded: t.fill(
            "directives.recorded",
            &[("date", &at(d.recorded_at)), ("reference", &reference)],
        ),
        request_url: format!("/admin/requests/{reference}"),
        ended: d.ended_at.map(|when| {
            let key = match d.ended_reason.as_deref() {
                Some("withdrawn") => "directives.withdrawn",
                _ => "directives.superseded",
            };
            t.fill(key, &[("date", &at(when))])
        }),
    }
}

/// Versions of directives, each with the request that recorded it.
pub type OnFile = Vec<(DirectiveRow, Option<RequestRow>)>;

/// The directives with the requests that recorded them.
fn with_requests(
    conn: &mut crate::store::DbConn,
    list: Vec<DirectiveRow>,
) -> Result<OnFile, WorkflowError> {
    let ids: Vec<i64> = list.iter().map(|d| d.request_id).collect();
    let requests: std::collections::HashMap<i64, RequestRow> =
        crate::store::requests::get_many(conn, &ids)?
            .into_iter()
            .map(|r| (r.id, r))
            .collect();
    Ok(list
        .into_iter()
        .map(|d| {
            let request = requests.get(&d.request_id).cloned();
            (d, request)
        })
        .collect())
}

#[derive(Template)]
#[template(path = "admin/directives.html")]
pub struct DirectivesPage {
    pub nav: Nav,
    pub t: &'static Strings,
    /// `None`: the list of those in force; else the person's name, for their history.
    pub history_of: Option<String>,
    pub heading: String,
    pub items: Vec<DirectiveView>,
}

pub async fn list(state: State, staff: Staff) -> Result<HttpResponse, AdminError> {
    staff.require(staff.role.can_read_reports())?;
    let lang = staff.lang();
    let t = lang.strings();
    let zone = state.law.time_zone;
    let found = state
        .db(move |conn, _| {
            let list = rows::in_force(conn, LISTED)?;
            with_requests(conn, list)
        })
        .await?;
    let page = DirectivesPage {
        nav: staff.nav(),
        t,
        history_of: None,
        heading: t.t("directives.title").to_string(),
        items: found
            .iter()
            .map(|(d, r)| view(t, lang, zone, d, r.as_ref()))
            .collect(),
    };
    Ok(super::render(&page, StatusCode::OK))
}

/// One person's directives, every version, newest first.
pub async fn history(
    state: State,
    staff: Staff,
    path: web::Path<i64>,
) -> Result<HttpResponse, AdminError> {
    staff.require(staff.role.can_read_reports())?;
    let lang = staff.lang();
    let t = lang.strings();
    let zone = state.law.time_zone;
    let id = path.into_inner();
    let found = state
        .db(move |conn, _| {
            let Some(one) = rows::get(conn, id)? else {
                return Ok(None);
            };
            let whose = rows::Whose {
                email: one.person_email.as_deref(),
                customer_ref: one.customer_ref.as_deref(),
            };
            let all = rows::for_person(conn, whose)?;
            Ok::<_, WorkflowError>(Some((one.person_name.clone(), with_requests(conn, all)?)))
        })
        .await?;
    let Some((name, all)) = found else {
        return Err(AdminError::NotFound);
    };
    let page = DirectivesPage {
        nav: staff.nav(),
        t,
        heading: t.fill("directives.history_title", &[("name", &name)]),
        history_of: Some(name),
        items: all
            .iter()
            .map(|(d, r)| view(t, lang, zone, d, r.as_ref()))
            .collect(),
    };
    Ok(super::render(&page, StatusCode::OK))
}

/// What an heir's request page says of the deceased's directives: those in force, or plainly
/// that none are recorded.
pub struct AfterDeath {
    pub current: Option<DirectiveView>,
    /// "Versions antérieures : 1." when a change or a withdrawal left some.
    pub earlier: Option<String>,
    pub history_url: Option<String>,
}

/// The panel for an heir's request, from every version found for the deceased.
pub fn after_death(
    t: &Strings,
    lang: Lang,
    zone: chrono_tz::Tz,
    found: &[(DirectiveRow, Option<RequestRow>)],
) -> AfterDeath {
    let current = found.iter().find(|(d, _)| d.ended_at.is_none());
    let earlier = found.iter().filter(|(d, _)| d.ended_at.is_some()).count();
    AfterDeath {
        current: current.map(|(d, r)| view(t, lang, zone, d, r.as_ref())),
        earlier: (earlier > 0).then(|| {
            t.fill(
                "directives.panel.earlier",
                &[("count", &earlier.to_string())],
            )
        }),
        history_url: found
            .first()
            .map(|(d, _)| format!("/admin/directives/{}", d.id)),
    }
}

/// Every version of the directives an heir's request is about, with their requests; none for
/// another kind.
pub fn for_heir(
    conn: &mut crate::store::DbConn,
    row: &RequestRow,
) -> Result<Option<OnFile>, WorkflowError> {
    if row.kind != crate::domain::kind::RequestKind::Heir {
        return Ok(None);
    }
    let found = rows::for_person(conn, workflow::directives::whose(row))?;
    with_requests(conn, found).map(Some)
}
