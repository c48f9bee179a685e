//! What follows the answers, for the DPO: the restrictions of processing in force, with the
//! lift announced to the person before it happens (Art. 18(3)), and the rows kept under a
//! legal obligation whose retention ends in the next 90 days ("Conservations légales"),
//! with what the team must finish by hand. One page, `/admin/restrictions` (`/admin/holds`
//! lands on the same), and the lift's own form.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use chrono::{Days, NaiveDate};
use serde::Deserialize;

use super::{AdminError, FormError, Nav, Staff, see_other};
use crate::domain::desk;
use crate::domain::follow::{HoldState, RestrictionState};
use crate::i18n::{Lang, Strings, local_time, long_date};
use crate::store::follow::{HoldRow, RestrictionRow};
use crate::store::requests::RequestRow;
use crate::web::State;
use crate::workflow::{self, WorkflowError};

/// How far ahead the page looks for holds coming to their end.
const HOLDS_AHEAD_DAYS: u64 = 90;

pub struct RestrictionView {
    pub id: i64,
    pub reference: String,
    pub url: String,
    pub person: String,
    pub ground: String,
    pub since: String,
    /// "En vigueur depuis le 12 janvier 2026".
    pub since_line: String,
    pub sources: String,
    pub state: String,
    pub tag: &'static str,
    /// "Levée annoncée pour le 12 mars 2026 (avis envoyé le 2 mars 2026 à 10:42)".
    pub lift: Option<String>,
    pub can_lift: bool,
    pub can_cancel: bool,
    pub can_finish: bool,
    /// What the team has to do by hand, one line per source.
    pub todo: Vec<String>,
}

pub struct HoldView {
    pub id: i64,
    pub reference: String,
    pub url: String,
    pub source: String,
    pub what: String,
    /// "Boutique en ligne : invoices (2 enregistrements)", with each language's colon.
    pub kept: String,
    pub rule: String,
    pub until: String,
    /// "dans 12 jours", "aujourd'hui", "depuis 3 jours".
    pub when: String,
    pub state: String,
    pub tag: &'static str,
    pub can_finish: bool,
    pub why: Option<String>,
}

#[derive(Template)]
#[template(path = "admin/follow.html")]
pub struct FollowPage {
    pub nav: Nav,
    pub t: &'static Strings,
    pub notice: Option<String>,
    pub error: Option<FormError>,
    pub restrictions: Vec<RestrictionView>,
    pub holds: Vec<HoldView>,
    /// "3 autres conservations prennent fin plus tard."
    pub later: Option<String>,
    pub holds_intro: String,
    pub can_act: bool,
}

fn source_name(state: &State, id: &str) -> String {
    state
        .sources
        .list
        .iter()
        .find(|s| s.id == id)
        .map(|s| s.name.clone())
        .unwrap_or_else(|| id.to_string())
}

/// Whom the request is about, as the team knows them; an anonymised request says so.
fn person(t: &Strings, row: &RequestRow) -> String {
    if row.requester_email.is_empty() {
        return t.t("follow.anonymised").to_string();
    }
    row.subject_name
        .clone()
        .unwrap_or_else(|| row.requester_name.clone())
}

pub fn ground_words(t: &Strings, ground: Option<&str>) -> String {
    let key = format!("follow.ground.{}", ground.unwrap_or("none"));
    if t.has(&key) {
        t.t(&key).to_string()
    } else {
        t.t("follow.ground.none").to_string()
    }
}

/// A restriction's state in words, with the tag's colour.
pub fn restriction_state(t: &Strings, s: RestrictionState) -> (String, &'static str) {
    let tag = match s {
        RestrictionState::Active => "warn",
        RestrictionState::LiftScheduled => "",
        RestrictionState::LiftTask => "danger",
        RestrictionState::Lifted => "ok",
    };
    (
        t.t(&format!("follow.restriction_state.{}", s.as_str()))
            .to_string(),
        tag,
    )
}

pub fn hold_state(t: &Strings, s: HoldState) -> (String, &'static str) {
    let tag = match s {
        HoldState::Held => "",
        HoldState::Task => "danger",
        HoldState::Ended => "ok",
    };
    (
        t.t(&format!("follow.hold_state.{}", s.as_str()))
            .to_string(),
        tag,
    )
}

/// What the team must do by hand after a lift, from the worker's outcome.
pub fn todo_lines(state: &State, t: &Strings, lang: Lang, outcome: Option<&str>) -> Vec<String> {
    let value: serde_json::Value = outcome
        .and_then(|o| serde_json::from_str(o).ok())
        .unwrap_or_default();
    value["manual"]
        .as_array()
        .map(|items| {
            items
                .iter()
                .map(|m| {
                    let source = m["source"].as_str().unwrap_or_default();
                    let name = if source.is_empty() {
                        t.t("follow.no_source").to_string()
                    } else {
                        source_name(state, source)
                    };
                    t.fill(
                        "follow.todo_lift",
                        &[
                            ("source", &name),
                            (
                                "detail",
                                &super::fulfilment::by_hand_words(
                                    state,
                                    t,
                                    source,
                                    m["why"].as_str().unwrap_or_default(),
                                    lang,
                                ),
                            ),
                        ],
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

pub fn restriction_view(
    state: &State,
    t: &Strings,
    lang: Lang,
    r: &RestrictionRow,
    row: &RequestRow,
    can_act: bool,
) -> RestrictionView {
    let zone = state.law.time_zone;
    let reference = workflow::reference(row).to_string();
    let (words, tag) = restriction_state(t, r.state);
    let sources: Vec<String> = r
        .source_ids()
        .iter()
        .map(|s| source_name(state, s))
        .collect();
    let lift = match (r.state, r.lift_on) {
        (RestrictionState::Lifted, _) => r.lifted_at.map(|at| {
            t.fill(
                "follow.lifted_on",
                &[("date", &local_time(at.and_utc(), zone, lang))],
            )
        }),
        (_, Some(on)) => Some(
            t.fill(
                "follow.lift_on",
                &[
                    ("date", &long_date(on, lang)),
                    (
                        "notice",
                        &r.notice_sent_at
                            .map(|at| local_time(at.and_utc(), zone, lang))
                            .unwrap_or_default(),
                    ),
                ],
            ),
        ),
        _ => None,
    };
    let since = long_date(r.since.and_utc().with_timezone(&zone).date_naive(), lang);
    RestrictionView {
        id: r.id,
        since_line: t.fill("follow.since_line", &[("date", &since)]),
        url: format!("/admin/requests/{reference}"),
        reference,
        person: person(t, row),
        ground: ground_words(t, r.ground.as_deref()),
        since,
        sources: if sources.is_empty() {
            t.t("follow.no_source").to_string()
        } else {
            sources.join(", ")
        },
        state: words,
        tag,
        lift,
        can_lift: can_act && desk::follow::can_schedule_lift(r.state),
        can_cancel: can_act && desk::follow::can_cancel_lift(r.state),
        can_finish: can_act && desk::follow::can_finish_lift(r.state),
        todo: if r.state == RestrictionState::LiftTask {
            todo_lines(state, t, lang, r.outcome.as_deref())
        } else {
            Vec::new()
        },
    }
}

/// "dans 12 jours", "aujourd'hui", "depuis 3 jours".
fn when(t: &Strings, day: NaiveDate, today: NaiveDate) -> String {
    let n = (day - today).num_days();
    match n {
        0 => t.t("follow.today").to_string(),
        n if n > 0 => t.fill("follow.in_days", &[("days", &t.count("units.days", n))]),
        n => t.fill("follow.since_days", &[("days", &t.count("units.days", -n))]),
    }
}

pub fn hold_view(
    state: &State,
    t: &Strings,
    lang: Lang,
    h: &HoldRow,
    row: &RequestRow,
    today: NaiveDate,
    can_act: bool,
) -> HoldView {
    let reference = workflow::reference(row).to_string();
    let (words, tag) = hold_state(t, h.state);
    let outcome: serde_json::Value = h
        .outcome
        .as_deref()
        .and_then(|o| serde_json::from_str(o).ok())
        .unwrap_or_default();
    let source = source_name(state, &h.source);
    let app: &crate::state::AppState = state;
    let what = t.fill(
        "follow.hold_what",
        &[
            (
                "what",
                &crate::fulfil::table_words(app, &h.source, &h.what, lang),
            ),
            ("rows", &t.count("follow.rows", h.rows_kept)),
        ],
    );
    HoldView {
        id: h.id,
        kept: t.fill("follow.kept_in", &[("source", &source), ("what", &what)]),
        url: format!("/admin/requests/{reference}"),
        reference,
        source,
        what,
        rule: if h.rule.is_empty() && h.activity.is_empty() {
            t.t("follow.no_rule").to_string()
        } else {
            super::fulfilment::rule_words(app, &h.activity, &h.rule, lang)
        },
        until: long_date(h.until, lang),
        when: match h.state {
            HoldState::Ended => h
                .ended_at
                .map(|at| {
                    t.fill(
                        "follow.erased_on",
                        &[("date", &local_time(at.and_utc(), state.law.time_zone, lang))],
                    )
                })
                .unwrap_or_default(),
            // Far off, a count of days says nothing a date does not.
            _ if (h.until - today).num_days() > HOLDS_AHEAD_DAYS as i64 => String::new(),
            _ => when(t, h.until, today),
        },
        state: words,
        tag,
        can_finish: can_act && desk::follow::can_finish_hold(h.state),
        why: outcome["why"]
            .as_str()
            .map(|w| super::fulfilment::by_hand_words(app, t, &h.source, w, lang)),
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct Flash {
    pub done: Option<String>,
}

pub async fn show(
    state: State,
    staff: Staff,
    flash: web::Query<Flash>,
) -> Result<HttpResponse, AdminError> {
    list(&state, &staff, flash.done.as_deref(), None).await
}

async fn list(
    state: &State,
    staff: &Staff,
    done: Option<&str>,
    error: Option<FormError>,
) -> Result<HttpResponse, AdminError> {
    staff.require(staff.role.can_read_reports())?;
    let lang = staff.lang();
    let t = lang.strings();
    let today = state.law.today(state.clock.now());
    let by = today
        .checked_add_days(Days::new(HOLDS_AHEAD_DAYS))
        .unwrap_or(today);
    let (restrictions, holds, later) = state
        .db(move |conn, _| {
            Ok::<_, WorkflowError>((
                crate::store::follow::restrictions_in_force(conn)?,
                crate::store::follow::holds_ending(conn, by)?,
                crate::store::follow::holds_later(conn, by)?,
            ))
        })
        .await?;
    let can_act = staff.role.can_act();
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let page = FollowPage {
        nav: staff.nav(),
        t,
        notice: done.and_then(|d| {
            let key = format!("follow.done.{d}");
            t.has(&key).then(|| t.t(&key).to_string())
        }),
        error,
        restrictions: restrictions
            .iter()
            .map(|(r, row)| restriction_view(state, t, lang, r, row, can_act))
            .collect(),
        holds: holds
            .iter()
            .map(|(h, row)| hold_view(state, t, lang, h, row, today, can_act))
            .collect(),
        later: (later > 0).then(|| t.count("follow.later", later)),
        holds_intro: t.fill("follow.holds_intro", &[("date", &long_date(by, lang))]),
        can_act,
    };
    Ok(super::render(&page, status))
}

/// The lift's form: the date and the reason, with what will happen.
#[derive(Template)]
#[template(path = "admin/follow_lift.html")]
pub struct LiftPage {
    pub nav: Nav,
    pub t: &'static Strings,
    pub error: Option<FormError>,
    pub r: RestrictionView,
    pub action: String,
    pub on: String,
    pub reason: String,
    /// "Au plus tôt le 9 mars 2026 : …".
    pub earliest: String,
    pub earliest_iso: String,
    pub requester: String,
}

impl LiftPage {
    pub fn title(&self) -> String {
        let title = self
            .t
            .fill("follow.lift.title", &[("reference", &self.r.reference)]);
        if self.error.is_some() {
            format!("{}{title}", self.t.t("shell.error_prefix"))
        } else {
            title
        }
    }

    pub fn heading(&self) -> String {
        self.t
            .fill("follow.lift.title", &[("reference", &self.r.reference)])
    }
}

async fn load_restriction(
    state: &State,
    id: i64,
) -> Result<(RestrictionRow, RequestRow), AdminError> {
    let found = state
        .db(move |conn, _| {
            let Some(r) = crate::store::follow::restriction(conn, id)? else {
                return Ok::<_, WorkflowError>(None);
            };
            let row = crate::store::requests::get(conn, r.request_id)?;
            Ok(Some((r, row)))
        })
        .await?;
    found.ok_or(AdminError::NotFound)
}

async fn lift_page(
    state: &State,
    staff: &Staff,
    id: i64,
    on: String,
    reason: String,
    error: Option<FormError>,
) -> Result<HttpResponse, AdminError> {
    staff.require(staff.role.can_read_reports() && staff.role.can_act())?;
    let (r, row) = load_restriction(state, id).await?;
    if !desk::follow::can_schedule_lift(r.state) {
        return Ok(see_other("/admin/restrictions"));
    }
    let lang = staff.lang();
    let t = lang.strings();
    let today = state.law.today(state.clock.now());
    let earliest =
        crate::domain::follow::earliest_lift(today, state.settings.retention.lift_notice_days);
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let page = LiftPage {
        nav: staff.nav(),
        t,
        error,
        action: format!("/admin/restrictions/{id}/lift"),
        on,
        reason,
        earliest: t.fill(
            "follow.lift.earliest",
            &[
                ("date", &long_date(earliest, lang)),
                (
                    "days",
                    &t.count(
                        "units.days",
                        i64::from(state.settings.retention.lift_notice_days),
                    ),
                ),
            ],
        ),
        earliest_iso: earliest.to_string(),
        requester: t.fill(
            "follow.lift.mail",
            &[
                ("name", &row.requester_name),
                (
                    "language",
                    t.t(&format!("request.language.{}", row.language.code())),
                ),
            ],
        ),
        r: restriction_view(state, t, lang, &r, &row, true),
    };
    Ok(super::render(&page, status))
}

pub async fn lift_form(
    state: State,
    staff: Staff,
    id: web::Path<i64>,
) -> Result<HttpResponse, AdminError> {
    lift_page(
        &state,
        &staff,
        id.into_inner(),
        String::new(),
        String::new(),
        None,
    )
    .await
}

#[derive(Debug, Deserialize)]
pub struct LiftForm {
    csrf: String,
    #[serde(default)]
    on: String,
    #[serde(default)]
    reason: String,
}

pub async fn lift(
    state: State,
    staff: Staff,
    id: web::Path<i64>,
    form: web::Form<LiftForm>,
) -> Result<HttpResponse, AdminError> {
    if !staff.csrf_ok(&form.csrf) {
        return Err(AdminError::Forbidden);
    }
    staff.require(staff.role.can_read_reports() && staff.role.can_act())?;
    let id = id.into_inner();
    let form = form.into_inner();
    let t = staff.lang().strings();
    let back = |field: &'static str, text: String| {
        lift_page(
            &state,
            &staff,
            id,
            form.on.clone(),
            form.reason.clone(),
            Some(FormError::new(field, text)),
        )
    };
    let Some(on) = crate::domain::filing::parse_day(&form.on) else {
        return back("lift-on", t.t("follow.lift.error_date").to_string()).await;
    };
    let reason = form.reason.trim().to_string();
    if reason.is_empty() {
        return back("lift-reason", t.t("follow.lift.error_reason").to_string()).await;
    }
    let actor = staff.actor();
    let now = state.clock.now();
    let done = state
        .db(move |conn, app| {
            Ok::<_, WorkflowError>(workflow::follow::schedule_lift(
                conn, app, id, on, &reason, &actor, now,
            ))
        })
        .await?;
    match done {
        Ok(Ok(r)) => Ok(see_done(&state, r.request_id, "lift_scheduled").await?),
        Ok(Err(workflow::follow::TooSoon(earliest))) => {
            let text = t.fill(
                "follow.lift.error_too_soon",
                &[("date", &long_date(earliest, staff.lang()))],
            );
            back("lift-on", text).await
        }
        Err(WorkflowError::Invalid { .. }) => {
            back("lift-reason", t.t("follow.error_text").to_string()).await
        }
        Err(e) if e.is_said() => {
            list(
                &state,
                &staff,
                None,
                Some(FormError::new(
                    "restrictions-h",
                    t.t("follow.moved").to_string(),
                )),
            )
            .await
        }
        Err(e) => {
            tracing::error!(error = %e, "cannot schedule a restriction's lift");
            Err(AdminError::Internal)
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct TaskForm {
    csrf: String,
    #[serde(default)]
    note: String,
}

pub async fn cancel(
    state: State,
    staff: Staff,
    id: web::Path<i64>,
    form: web::Form<TaskForm>,
) -> Result<HttpResponse, AdminError> {
    if !staff.csrf_ok(&form.csrf) {
        return Err(AdminError::Forbidden);
    }
    staff.require(staff.role.can_read_reports() && staff.role.can_act())?;
    let id = id.into_inner();
    let actor = staff.actor();
    let now = state.clock.now();
    let done = state
        .db(move |conn, app| {
            Ok::<_, WorkflowError>(workflow::follow::cancel_lift(conn, app, id, &actor, now))
        })
        .await?;
    match done {
        Ok(r) => see_done(&state, r.request_id, "lift_cancelled").await,
        Err(e) => finished(&state, &staff, Err(e), "lift_cancelled").await,
    }
}

/// Back to the list with a notice; for a person answered by post, who learns of it only from
/// the letter the team prints, back to their request, whose page shows the letter to send.
async fn see_done(state: &State, request: i64, done: &str) -> Result<HttpResponse, AdminError> {
    let by_post = state
        .db(move |conn, _| {
            let row = crate::store::requests::get(conn, request)?;
            let reference = workflow::reference(&row).to_string();
            Ok::<_, WorkflowError>(
                workflow::intake::answers_by_post(conn, &row)?.then_some(reference),
            )
        })
        .await?;
    Ok(match by_post {
        Some(reference) => see_other(&format!("/admin/requests/{reference}?done={done}")),
        None => see_other(&format!("/admin/restrictions?done={done}")),
    })
}

/// Records, in the caller's transaction, that the team did by hand what a source could not:
/// (connection, the row's id, the outcome, the team's note, who, when).
type FinishTask = fn(
    &mut crate::store::DbConn,
    i64,
    &serde_json::Value,
    Option<&str>,
    &str,
    chrono::DateTime<chrono::Utc>,
) -> Result<(), WorkflowError>;

/// A task the team did by hand, as its form says: checked, recorded by `finish` with the
/// team's note, and the list shown again with `notice`.
async fn team_task(
    state: State,
    staff: Staff,
    id: i64,
    form: TaskForm,
    notice: &'static str,
    finish: FinishTask,
) -> Result<HttpResponse, AdminError> {
    if !staff.csrf_ok(&form.csrf) {
        return Err(AdminError::Forbidden);
    }
    staff.require(staff.role.can_read_reports() && staff.role.can_act())?;
    let note = form.note.trim().to_string();
    let actor = staff.actor();
    let now = state.clock.now();
    let done = state
        .db(move |conn, _| {
            let outcome = serde_json::json!({ "team_note": note });
            let note = (!note.is_empty()).then_some(note.as_str());
            Ok::<_, WorkflowError>(finish(conn, id, &outcome, note, &actor, now))
        })
        .await?;
    finished(&state, &staff, done, notice).await
}

pub async fn finish_lift(
    state: State,
    staff: Staff,
    id: web::Path<i64>,
    form: web::Form<TaskForm>,
) -> Result<HttpResponse, AdminError> {
    team_task(
        state,
        staff,
        id.into_inner(),
        form.into_inner(),
        "lift_done",
        |conn, id, outcome, note, actor, now| {
            workflow::follow::finish_lift(
                conn,
                id,
                RestrictionState::LiftTask,
                RestrictionState::Lifted,
                outcome,
                note,
                actor,
                now,
            )
        },
    )
    .await
}

pub async fn finish_hold(
    state: State,
    staff: Staff,
    id: web::Path<i64>,
    form: web::Form<TaskForm>,
) -> Result<HttpResponse, AdminError> {
    team_task(
        state,
        staff,
        id.into_inner(),
        form.into_inner(),
        "hold_done",
        |conn, id, outcome, note, actor, now| {
            workflow::follow::finish_hold(
                conn,
                id,
                HoldState::Task,
                HoldState::Ended,
                outcome,
                note,
                actor,
                now,
            )
        },
    )
    .await
}

async fn finished(
    state: &State,
    staff: &Staff,
    done: Result<(), WorkflowError>,
    notice: &str,
) -> Result<HttpResponse, AdminError> {
    let t = staff.lang().strings();
    match done {
        Ok(()) => Ok(see_other(&format!("/admin/restrictions?done={notice}"))),
        Err(WorkflowError::Invalid { .. }) => {
            list(
                state,
                staff,
                None,
                Some(FormError::new(
                    "holds-h",
                    t.t("follow.error_text").to_string(),
                )),
            )
            .await
        }
        Err(WorkflowError::NotFound) => Err(AdminError::NotFound),
        Err(e) if e.is_said() => {
            list(
                state,
                staff,
                None,
                Some(FormError::new(
                    "restrictions-h",
                    t.t("follow.moved").to_string(),
                )),
            )
            .await
        }
        Err(e) => {
            tracing::error!(error = %e, "cannot record what follows an answer");
            Err(AdminError::Internal)
        }
    }
}

/// A table of a data source in the reader's words: (source, table) to "Commandes, coordonnées".
pub type TableWords<'a> = &'a dyn Fn(&str, &str) -> String;

/// The timeline's sentence for a step of what follows an answer; `None` for other kinds.
pub fn event_sentence(
    t: &Strings,
    lang: Lang,
    kind: &str,
    data: &serde_json::Value,
    tables: TableWords<'_>,
) -> Option<String> {
    let key = format!("follow.event.{kind}");
    let amount = || {
        crate::domain::follow::euros(data["amount_cents"].as_i64().unwrap_or(0), lang == Lang::Fr)
    };
    Some(match kind {
        "restriction_recorded" | "lift_cancelled" | "restriction_lifted" | "lift_task" => {
            t.t(&key).to_string()
        }
        "directives_recorded" => t.t("directives.event.recorded").to_string(),
        "directives_withdrawn" => t.t("directives.event.withdrawn").to_string(),
        "lift_scheduled" => {
            let on = data["on"]
                .as_str()
                .and_then(|d| d.parse::<NaiveDate>().ok())
                .map(|d| long_date(d, lang))
                .unwrap_or_default();
            t.fill(&key, &[("date", &on)])
        }
        "holds_recorded" => t.count(&key, data["holds"].as_i64().unwrap_or(0)),
        "hold_ended" | "hold_task" => {
            // An erasure says how many rows went; a task, how many are left.
            let rows = data["erased"]
                .as_i64()
                .filter(|_| kind == "hold_ended")
                .map(|n| t.count("follow.rows_erased", n))
                .unwrap_or_else(|| t.count("follow.rows", data["rows"].as_i64().unwrap_or(0)));
            t.fill(
                &key,
                &[
                    (
                        "what",
                        &tables(
                            data["source"].as_str().unwrap_or_default(),
                            data["what"].as_str().unwrap_or_default(),
                        ),
                    ),
                    ("rows", &rows),
                ],
            )
        }
        "fee_asked" => {
            let basis = data["basis"]
                .as_str()
                .map(|b| t.t(&format!("follow.fee.basis.{b}")).to_string())
                .unwrap_or_default();
            t.fill(&key, &[("amount", &amount()), ("basis", &basis)])
        }
        "fee_paid" | "fee_waived" => t.fill(&key, &[("amount", &amount())]),
        _ => return None,
    })
}
