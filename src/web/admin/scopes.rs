//! The scope of a request, as staff confirm it from what the person asked: the block of the
//! request page (the scope, and why the request cannot go to the sources yet), the page that
//! confirms it (`/admin/requests/{id}/scope`), and for an objection to a processing other
//! than direct marketing, the balancing decision of Art. 21(1) (`…/objection`).

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::see_other;
use super::{AdminError, FormError, Nav, Staff};
use crate::domain::scope::{self, Balancing, Scope};
use crate::i18n::{Lang, Strings, local_time};
use crate::store::requests::RequestRow;
use crate::store::scopes::ScopeRow;
use crate::web::State;
use crate::workflow::scopes::{self as scopes_flow};
use crate::workflow::{self, WorkflowError};

/// The scope block of the request page.
#[derive(Default)]
pub struct Panel {
    /// Sources are configured: there is a scope to speak of.
    pub shown: bool,
    /// "Gestion des commandes et livraisons", or "Toutes les données".
    pub scope: String,
    /// Who confirmed it and when, once confirmed.
    pub confirmed: Option<String>,
    /// Why the request cannot go to the sources yet, in words.
    pub blocks: Option<String>,
    /// The scope a team's task covers, when it is not everything.
    pub task_scope: Option<String>,
    /// The balancing decision, once taken (or the marketing path, said).
    pub balancing: Option<String>,
    /// The page that confirms the scope (and takes the decision), when it can be used.
    pub url: Option<String>,
    pub link: String,
    /// The scope when it is not everything (the answer letter says it).
    pub covers: Option<Scope>,
}

fn stamp(state: &State, at: chrono::NaiveDateTime, lang: Lang) -> String {
    local_time(at.and_utc(), state.law.time_zone, lang)
}

/// The block for the request page; `sent`: some source was asked already.
pub async fn panel(
    state: &State,
    staff: &Staff,
    row: &RequestRow,
    sent: bool,
    names: &crate::staff::Names,
) -> Result<Panel, AdminError> {
    if state.sources.list.is_empty() {
        return Ok(Panel::default());
    }
    let id = row.id;
    let found = state
        .db(move |conn, _| Ok::<_, WorkflowError>(scopes_flow::find(conn, id)?))
        .await?;
    let lang = staff.lang();
    let t = lang.strings();
    let confirmed_scope = found.as_ref().map(ScopeRow::scope);
    let shown_scope = confirmed_scope.clone().unwrap_or(Scope::Everything);
    let part = scope::asked_part(row.kind, &row.form).is_some();
    let balancing_needed = scope::needs_balancing(row.kind, &row.form);
    let decision = found.as_ref().and_then(ScopeRow::balancing);
    let open = row.closed_at.is_none();
    let blocks = if !open || sent {
        None
    } else if found.is_none() && part {
        Some(t.t("scope.blocks_part").to_string())
    } else if balancing_needed && decision.is_none() {
        Some(t.t("scope.blocks_balancing").to_string())
    } else {
        None
    };
    let balancing = match (&found, decision) {
        (Some(f), Some(d)) => Some(
            t.fill(
                &format!("scope.balancing_{}", d.as_str()),
                &[
                    (
                        "who",
                        &names.of(f.decided_by.as_deref().unwrap_or_default()),
                    ),
                    (
                        "date",
                        &f.decided_at
                            .map(|at| stamp(state, at, lang))
                            .unwrap_or_default(),
                    ),
                ],
            ),
        ),
        _ if scope::direct_marketing(row.kind, &row.form) => {
            Some(t.t("scope.marketing").to_string())
        }
        _ => None,
    };
    let can_change = open && !sent && staff.role.can_act();
    let can_decide = open && balancing_needed && decision.is_none() && staff.role.can_act();
    Ok(Panel {
        shown: true,
        covers: (!shown_scope.is_everything()).then(|| shown_scope.clone()),
        // Unconfirmed, a part asked for is not yet any activity: said so, not "everything".
        scope: if found.is_none() && part {
            t.t("scope.to_confirm").to_string()
        } else {
            scopes_flow::scope_words(state, &shown_scope, lang)
        },
        confirmed: found.as_ref().map(|f| {
            t.fill(
                "scope.confirmed",
                &[
                    ("who", &names.of(&f.confirmed_by)),
                    ("date", &stamp(state, f.confirmed_at, lang)),
                ],
            )
        }),
        blocks,
        task_scope: (!shown_scope.is_everything()).then(|| {
            t.fill(
                "scope.task",
                &[(
                    "scope",
                    &scopes_flow::scope_words(state, &shown_scope, lang),
                )],
            )
        }),
        balancing,
        url: (can_change || can_decide)
            .then(|| format!("/admin/requests/{}/scope", workflow::reference(row))),
        link: t
            .t(if found.is_none() {
                "scope.confirm_link"
            } else if can_decide {
                "scope.balancing_open"
            } else {
                "scope.change_link"
            })
            .to_string(),
    })
}

#[derive(Template)]
#[template(path = "admin/scope.html")]
pub struct ScopePage {
    pub nav: Nav,
    pub t: &'static Strings,
    pub error: Option<FormError>,
    pub reference: String,
    pub page_url: String,
    /// What the person asked, in the staff's words (the kind's own answers).
    pub asked: Vec<(String, String)>,
    /// The scope can still change (no source asked yet).
    pub can_confirm: bool,
    pub everything: bool,
    /// (id, name, chosen).
    pub activities: Vec<(String, String, bool)>,
    /// The balancing form, when the objection needs it and the scope is confirmed.
    pub can_decide: bool,
    pub balancing_needed: bool,
    pub decision: String,
    pub grounds: String,
}

impl ScopePage {
    pub fn heading(&self) -> String {
        self.t
            .fill("scope.page_title", &[("reference", &self.reference)])
    }

    pub fn title(&self) -> String {
        if self.error.is_some() {
            format!("{}{}", self.t.t("shell.error_prefix"), self.heading())
        } else {
            self.heading()
        }
    }

    fn has_error(&self, field: &str) -> bool {
        self.error.as_ref().is_some_and(|e| e.field == field)
    }

    pub fn error_at(&self, field: &str) -> &str {
        match &self.error {
            Some(e) if e.field == field => &e.text,
            _ => "",
        }
    }

    pub fn error_class(&self, field: &str) -> &'static str {
        if self.has_error(field) {
            " has-error"
        } else {
            ""
        }
    }
}

/// What was typed, kept for the page that comes back.
#[derive(Default)]
pub struct Typed {
    pub everything: Option<bool>,
    pub activities: Vec<String>,
    pub decision: String,
    pub grounds: String,
}

async fn load(
    state: &State,
    staff: &Staff,
    key: String,
) -> Result<(RequestRow, Option<ScopeRow>, bool), AdminError> {
    let (row, found, sent) = state
        .db(move |conn, _| {
            let row = workflow::find(conn, &key)?;
            let found = scopes_flow::find(conn, row.id)?;
            let sent = !crate::store::fulfilment::runs_for(conn, row.id)?.is_empty();
            Ok::<_, WorkflowError>((row, found, sent))
        })
        .await?;
    if !staff.role.can_see(staff.user.id, row.assignee_id) {
        return Err(AdminError::NotFound);
    }
    Ok((row, found, sent))
}

async fn scope_page(
    state: &State,
    staff: &Staff,
    key: String,
    typed: &Typed,
    error: Option<FormError>,
) -> Result<HttpResponse, AdminError> {
    staff.require(staff.role.can_act())?;
    let (row, found, sent) = load(state, staff, key).await?;
    let reference = workflow::reference(&row).to_string();
    let page_url = format!("/admin/requests/{reference}");
    let open = row.closed_at.is_none();
    let balancing_needed = scope::needs_balancing(row.kind, &row.form);
    let can_confirm = open && !sent;
    let can_decide =
        open && balancing_needed && found.as_ref().is_some_and(|f| f.balancing.is_none());
    if !can_confirm && !can_decide && state.sources.list.is_empty() {
        return Ok(see_other(&page_url));
    }
    let lang = staff.lang();
    let t = lang.strings();
    let current = found.as_ref().map(ScopeRow::scope);
    let everything = typed.everything.unwrap_or(match &current {
        Some(s) => s.is_everything(),
        // The person asked for everything: that is what is proposed.
        None => scope::asked_part(row.kind, &row.form).is_none(),
    });
    let chosen = |id: &str| {
        if typed.everything.is_some() {
            typed.activities.iter().any(|a| a == id)
        } else {
            matches!(&current, Some(Scope::Activities(set)) if set.contains(id))
        }
    };
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let page = ScopePage {
        nav: staff.nav(),
        t,
        error,
        page_url,
        reference,
        asked: super::request::asked_lines(t, &row),
        can_confirm,
        everything,
        activities: scopes_flow::activities(state, lang)
            .into_iter()
            .map(|(id, name)| {
                let on = chosen(&id);
                (id, name, on)
            })
            .collect(),
        can_decide,
        balancing_needed,
        decision: typed.decision.clone(),
        grounds: typed.grounds.clone(),
    };
    Ok(super::render(&page, status))
}

pub async fn form(
    state: State,
    staff: Staff,
    key: web::Path<String>,
) -> Result<HttpResponse, AdminError> {
    scope_page(&state, &staff, key.into_inner(), &Typed::default(), None).await
}

/// The scope form: `extent` (all or part), `activity` once per activity ticked.
pub async fn confirm(
    state: State,
    staff: Staff,
    key: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, AdminError> {
    let mut csrf = String::new();
    let mut typed = Typed::default();
    for (k, v) in url::form_urlencoded::parse(&body) {
        match k.as_ref() {
            "csrf" => csrf = v.into_owned(),
            "extent" => typed.everything = Some(v == "all"),
            "activity" => typed.activities.push(v.into_owned()),
            _ => {}
        }
    }
    if !staff.csrf_ok(&csrf) {
        return Err(AdminError::Forbidden);
    }
    staff.require(staff.role.can_act())?;
    let key = key.into_inner();
    let t = staff.lang().strings();
    let everything = typed.everything.unwrap_or(false);
    typed.everything = Some(everything);
    let chosen = if everything {
        Scope::Everything
    } else {
        Scope::Activities(typed.activities.iter().cloned().collect())
    };
    let (row, _, _) = load(&state, &staff, key.clone()).await?;
    let (actor, now, id) = (staff.actor(), state.clock.now(), row.id);
    let done = state
        .db(move |conn, app| {
            Ok::<_, WorkflowError>(scopes_flow::confirm(conn, app, id, &chosen, &actor, now))
        })
        .await?;
    let page_url = format!("/admin/requests/{}", workflow::reference(&row));
    match done {
        Ok(()) => Ok(see_other(&format!("{page_url}?done=scope"))),
        Err(WorkflowError::Refused(said)) => {
            let (field, words) = match said {
                scopes_flow::NOTHING_CHOSEN => ("activity-0", "scope.error_nothing"),
                scopes_flow::UNKNOWN_ACTIVITY => ("activity-0", "scope.error_unknown"),
                scopes_flow::ALREADY_SENT => ("extent-all", "scope.error_sent"),
                _ => ("extent-all", "scope.error_closed"),
            };
            let error = FormError::new(field, t.t(words));
            scope_page(&state, &staff, key, &typed, Some(error)).await
        }
        Err(e) => {
            tracing::error!(error = %e, "cannot confirm a scope");
            Err(AdminError::Internal)
        }
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct DecisionForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    decision: String,
    #[serde(default)]
    grounds: String,
}

/// The balancing decision on an objection to a processing other than direct marketing.
pub async fn decide(
    state: State,
    staff: Staff,
    key: web::Path<String>,
    form: web::Form<DecisionForm>,
) -> Result<HttpResponse, AdminError> {
    if !staff.csrf_ok(&form.csrf) {
        return Err(AdminError::Forbidden);
    }
    staff.require(staff.role.can_act())?;
    let key = key.into_inner();
    let form = form.into_inner();
    let t = staff.lang().strings();
    let typed = Typed {
        decision: form.decision.clone(),
        grounds: form.grounds.clone(),
        ..Typed::default()
    };
    let back = |field: &'static str, words: &str| {
        scope_page(
            &state,
            &staff,
            key.clone(),
            &typed,
            Some(FormError::new(field, t.t(words))),
        )
    };
    let Ok(decision) = form.decision.parse::<Balancing>() else {
        return back("decision-stop", "scope.error_decision").await;
    };
    if decision == Balancing::Compelling && form.grounds.trim().is_empty() {
        return back("grounds", "scope.error_grounds").await;
    }
    let (row, _, _) = load(&state, &staff, key.clone()).await?;
    let (actor, now, id) = (staff.actor(), state.clock.now(), row.id);
    let grounds = form.grounds.clone();
    let done = state
        .db(move |conn, app| {
            Ok::<_, WorkflowError>(scopes_flow::decide(
                conn, app, id, decision, &grounds, &actor, now,
            ))
        })
        .await?;
    let page_url = format!("/admin/requests/{}", workflow::reference(&row));
    match done {
        Ok(()) => Ok(see_other(&format!(
            "{page_url}?done=balancing_{}",
            decision.as_str()
        ))),
        Err(WorkflowError::Invalid { .. }) => back("grounds", "scope.error_text").await,
        Err(e) if e.is_said() => back("decision-stop", "scope.error_moved").await,
        Err(e) => {
            tracing::error!(error = %e, "cannot record a balancing decision");
            Err(AdminError::Internal)
        }
    }
}

/// A timeline event of this module, as the thread says it.
pub fn event_sentence(
    t: &Strings,
    lang: Lang,
    kind: &str,
    data: &serde_json::Value,
) -> Option<String> {
    let key = format!("scope.event.{kind}");
    Some(match kind {
        "scope_confirmed" => {
            let words = data["words"][lang.code()].as_str().unwrap_or_default();
            t.fill(&key, &[("scope", words)])
        }
        "objection_upheld" | "objection_overridden" => t.t(&key).to_string(),
        _ => return None,
    })
}
