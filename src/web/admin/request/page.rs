//! The request page as the team reads it: the header (reference, right, status, deadline
//! with its computation), who asked and exactly what, one thread in time order, and beside it
//! the next step and only the actions the state allows, by stage. Built in the staff's
//! language; a refused action comes back here with what was typed and the reason.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use askama::Template;
use chrono::NaiveDateTime;

use super::words::{Said, period_words};
use crate::domain::desk::{self, Gathering, NextStep, Offer, Situation};
use crate::domain::fulfilment::{PackageStatus, RunStatus};
use crate::domain::kind::RejectGround;
use crate::domain::status::Status;
use crate::domain::verification::Method;
use crate::i18n::{Lang, Strings, local_time, long_date};
use crate::store::fulfilment::{ExportRow, RunRow};
use crate::store::outbox::OutboxRow;
use crate::store::portal::{DocumentRow, MessageRow};
use crate::store::requests::{EventRow, RequestRow};
use crate::store::users::UserRow;
use crate::web::State;
use crate::web::admin::{AdminError, Nav, Staff, fulfilment};
use crate::workflow;
use crate::workflow::staff_actions;

/// What staff typed in the form that was refused, kept for the page that comes back.
#[derive(Debug, Default, Clone)]
pub struct Kept {
    pub action: String,
    pub text: String,
    pub assignee: String,
    pub reason: String,
    pub months: String,
    pub days: String,
    pub ground: String,
    pub document: String,
    pub method: String,
    pub changes: String,
    pub item: String,
    pub run: String,
    pub comment: String,
}

/// The standard replies, in the order offered (`[replies]` in the portal's files, in the
/// requester's language; their names in the staff's).
pub const REPLIES: [&str; 3] = ["received", "customer_ref", "scope"];

pub struct Header {
    pub reference: String,
    pub kind: String,
    pub status: String,
    /// `open`, `hold` or `closed`: the tag's colour (the words say it too).
    pub status_class: &'static str,
    /// "Dans 5 jours", "En retard de 2 jours", "Délai suspendu", "Close".
    pub deadline: String,
    pub deadline_class: &'static str,
    /// "Échéance : 5 mai 2025".
    pub due: String,
    /// How the due date was reached, line by line.
    pub computation: Vec<(String, String)>,
    pub assignee: String,
}

pub struct ThreadItem {
    sort: (NaiveDateTime, u8, i64),
    /// `event`, `in`, `out`, `mail` or `note`.
    pub class: &'static str,
    /// "Message du demandeur", "Courriel envoyé", "Note interne", "Étape".
    pub label: String,
    pub title: String,
    pub who: String,
    pub at: String,
    pub body: Option<String>,
    /// (url, words) of a file that came with a message.
    pub attachment: Option<(String, String)>,
}

pub struct DocView {
    pub id: i64,
    /// "Pièce d'identité", "Mandat".
    pub label: String,
    pub uploaded: String,
    pub url: String,
    /// An image shown in the page; otherwise a PDF to open.
    pub image: bool,
    /// "Acceptée par Dana le …", once decided.
    pub decided: Option<String>,
}

/// Which actions the state allows (from [`desk::offers`]).
#[derive(Default)]
pub struct Can {
    pub assign: bool,
    pub verify: bool,
    pub decide: bool,
    pub hold: bool,
    pub resume: bool,
    pub extend: bool,
    pub send: bool,
    pub answer: bool,
    pub message: bool,
    pub note: bool,
    pub reject: bool,
}

impl Can {
    fn of(offers: &[Offer], can_act: bool) -> Can {
        let has = |o: Offer| can_act && offers.contains(&o);
        Can {
            assign: has(Offer::Assign),
            verify: has(Offer::VerifyByHand),
            decide: has(Offer::DecideDocument),
            hold: has(Offer::Hold),
            resume: has(Offer::Resume),
            extend: has(Offer::Extend),
            send: has(Offer::SendToSources),
            answer: has(Offer::Answer),
            message: has(Offer::Message),
            note: has(Offer::Note),
            reject: has(Offer::Reject),
        }
    }
}

#[derive(Template)]
#[template(path = "admin/request.html")]
pub struct RequestPage {
    pub nav: Nav,
    pub csrf: String,
    pub h: Header,
    pub notice: Option<String>,
    pub error: Option<Said>,
    pub kept: Kept,
    /// Who asked: the requester, or the representative when someone acts for another.
    pub who: Vec<(String, String)>,
    pub represented: Option<Vec<(String, String)>>,
    /// Exactly what was asked: the kind's own answers, then the details.
    pub asked: Vec<(String, String)>,
    pub details: String,
    pub thread: Vec<ThreadItem>,
    pub next: String,
    /// `verify`, `gather`, `answer` or empty: the stage the request is at.
    pub stage: &'static str,
    /// The action of the next step, whose button is the page's one primary button.
    pub primary: Option<Offer>,
    pub can: Can,
    pub can_act: bool,
    pub open: bool,
    pub verified: Option<String>,
    pub verify_methods: Vec<(&'static str, String)>,
    pub documents: Vec<DocView>,
    pub team: Vec<(i64, String, bool)>,
    pub letter: String,
    pub letter_blocked: Option<String>,
    pub replies: Vec<(&'static str, String)>,
    pub reply_text: String,
    pub extension_note: String,
    pub fulfilment: fulfilment::Panel,
    pub action_url: String,
    pub send_url: String,
    pub reject_url: String,
    pub page_url: String,
}

impl RequestPage {
    /// What was typed in the text of `action`'s form, when it came back refused.
    pub fn typed(&self, action: &str) -> &str {
        if self.kept.action == action {
            &self.kept.text
        } else {
            ""
        }
    }

    /// `primary` for the next step's button, `secondary` for the others.
    pub fn button(&self, offer: &str) -> &'static str {
        let is = match self.primary {
            Some(Offer::DecideDocument) => offer == "decide",
            Some(Offer::VerifyByHand) => offer == "verify",
            Some(Offer::Resume) => offer == "resume",
            Some(Offer::SendToSources) => offer == "send",
            Some(Offer::Answer) => offer == "answer",
            _ => false,
        };
        if is { "primary" } else { "secondary" }
    }

    pub fn t(&self, key: &str) -> &'static str {
        self.nav.t.t(key)
    }

    /// The title of the browser's tab: "Erreur : " first when the form came back.
    pub fn title(&self) -> String {
        if self.error.is_some() {
            format!("{}{}", self.t("request.error_prefix"), self.h.reference)
        } else {
            self.h.reference.clone()
        }
    }
}

/// The confirmation before a refusal: what will happen, the grounds with their article.
#[derive(Template)]
#[template(path = "admin/request/reject.html")]
pub struct RejectPage {
    pub nav: Nav,
    pub csrf: String,
    pub h: Header,
    pub error: Option<Said>,
    /// (code, words, chosen).
    pub grounds: Vec<(&'static str, String, bool)>,
    pub text: String,
    pub action_url: String,
    pub page_url: String,
    pub requester: String,
    /// The requester's language, in words: the explanation goes to them as typed.
    pub requester_lang: String,
}

impl RejectPage {
    pub fn t(&self, key: &str) -> &'static str {
        self.nav.t.t(key)
    }

    pub fn heading(&self) -> String {
        self.nav
            .t
            .fill("request.reject.title", &[("reference", &self.h.reference)])
    }

    pub fn explanation_hint(&self) -> String {
        self.nav.t.fill(
            "request.reject.explanation_hint",
            &[("language", &self.requester_lang)],
        )
    }

    pub fn mail_line(&self) -> String {
        self.nav
            .t
            .fill("request.reject.what_mail", &[("name", &self.requester)])
    }

    pub fn title(&self) -> String {
        let title = self.heading();
        if self.error.is_some() {
            format!("{}{title}", self.t("request.error_prefix"))
        } else {
            title
        }
    }
}

/// Everything the page is built from, read in one go.
struct Loaded {
    row: RequestRow,
    events: Vec<EventRow>,
    messages: Vec<MessageRow>,
    documents: Vec<DocumentRow>,
    notes: Vec<(String, NaiveDateTime, String)>,
    users: Vec<UserRow>,
    runs: Vec<RunRow>,
    export: Option<ExportRow>,
    live: Vec<i64>,
    build_live: bool,
    mails: Vec<OutboxRow>,
}

async fn load(state: &State, staff: &Staff, key: String) -> Result<Loaded, AdminError> {
    let loaded = state
        .db(move |conn, _| {
            let row = workflow::find(conn, &key)?;
            let events = crate::store::requests::events_for(conn, &[row.id])?;
            let messages = crate::store::portal::messages_for(conn, row.id)?;
            let documents = crate::store::portal::documents_for(conn, row.id)?;
            let notes = crate::store::users::notes_for(conn, row.id)?;
            let users = crate::store::users::list(conn)?;
            let runs = crate::store::fulfilment::runs_for(conn, row.id)?;
            let export = crate::store::fulfilment::export_for(conn, row.id)?;
            let jobs: Vec<i64> = runs.iter().filter_map(|r| r.job_id).collect();
            let live = crate::store::jobs::live_among(conn, &jobs)?;
            let build_live = crate::store::jobs::live_key(conn, &format!("export:{}", row.id))?;
            let mails = crate::store::outbox::for_request(conn, row.id)?;
            Ok::<_, workflow::WorkflowError>(Loaded {
                row,
                events,
                messages,
                documents,
                notes,
                users,
                runs,
                export,
                live,
                build_live,
                mails,
            })
        })
        .await?;
    // A handler does not learn that another handler's request exists.
    if !staff.role.can_see(staff.user.id, loaded.row.assignee_id) {
        return Err(AdminError::NotFound);
    }
    Ok(loaded)
}

/// Where the sources stand, for the next step.
fn gathering(
    configured: bool,
    runs: &[RunRow],
    live: &[i64],
    export: Option<&ExportRow>,
) -> Gathering {
    if runs.is_empty() {
        return if configured {
            Gathering::NotSent
        } else {
            Gathering::NoSources
        };
    }
    let orphaned = |r: &RunRow| r.status.is_live() && r.job_id.is_none_or(|j| !live.contains(&j));
    if runs
        .iter()
        .any(|r| r.status == RunStatus::Failed || orphaned(r))
    {
        return Gathering::Failed;
    }
    if runs.iter().any(|r| r.status == RunStatus::Task) {
        return Gathering::Tasks;
    }
    if runs.iter().any(|r| r.status != RunStatus::Done) {
        return Gathering::Running;
    }
    let access = runs
        .iter()
        .any(|r| r.operation == crate::config::sources::Operation::Access);
    match export {
        _ if !access => Gathering::Ready,
        None => Gathering::Building,
        Some(e) => match e.status {
            PackageStatus::Building => Gathering::Building,
            PackageStatus::Failed => Gathering::Failed,
            PackageStatus::Review => Gathering::Review,
            PackageStatus::Empty | PackageStatus::Released | PackageStatus::Purged => {
                Gathering::Ready
            }
        },
    }
}

/// "Camille Martin (demandeur)", "Dana", "Traitement automatique", "Application crm (API)".
pub fn actor_name(
    t: &Strings,
    names: &crate::staff::Names,
    row: &RequestRow,
    actor: &str,
) -> String {
    match actor {
        "requester" => t.fill("request.actor.requester", &[("name", &row.requester_name)]),
        "system" | "" => t.t("request.actor.system").to_string(),
        _ => match actor.strip_prefix("api:") {
            Some(key) => t.fill("request.actor.api", &[("name", key)]),
            None => names.of(actor),
        },
    }
}

/// What a document is for, in words.
fn purpose_words(t: &Strings, purpose: &str) -> String {
    let key = format!("request.document.purpose.{purpose}");
    if t.has(&key) {
        t.t(&key).to_string()
    } else {
        t.t("request.document.purpose.other").to_string()
    }
}

/// An event of the timeline as a sentence.
fn event_sentence(t: &Strings, lang: Lang, e: &EventRow) -> String {
    let data: serde_json::Value = serde_json::from_str(&e.data).unwrap_or_default();
    let s = |key: &str| t.t(&format!("request.event.{key}")).to_string();
    match e.kind.as_str() {
        "received" => {
            let channel = data["channel"]
                .as_str()
                .map(|c| t.t(&format!("label.channel.{c}")).to_string());
            match channel {
                Some(c) => t.fill("request.event.received_by", &[("channel", &c)]),
                None => s("received"),
            }
        }
        "hold" => {
            let mut words = if data["reason"] == "identity" {
                s("hold_identity")
            } else {
                s("hold_clarification")
            };
            if data["clock"] == "stopped" {
                words.push_str(t.t("request.event.clock_stopped"));
            }
            words
        }
        "resume" => match data["paused_days"].as_i64() {
            Some(n) if n > 0 => t.fill(
                "request.event.resume_days",
                &[("days", &t.count("units.days", n))],
            ),
            _ => s("resume"),
        },
        "verify" => {
            let method = data["method"].as_str().unwrap_or(workflow::UNSTATED_METHOD);
            t.fill(
                "request.event.verify",
                &[("method", &crate::i18n::verification_method(method, lang))],
            )
        }
        "extend" => {
            let by = crate::domain::deadline::Period {
                months: data["months"].as_u64().unwrap_or(0) as u32,
                days: data["days"].as_u64().unwrap_or(0) as u32,
            };
            let due = data["due_on"]
                .as_str()
                .and_then(|d| d.parse::<chrono::NaiveDate>().ok())
                .map(|d| long_date(d, lang))
                .unwrap_or_default();
            t.fill(
                "request.event.extend",
                &[("by", &period_words(t, by)), ("due", &due)],
            )
        }
        "reject" => {
            let ground = data["ground"].as_str().unwrap_or("other");
            t.fill(
                "request.event.reject",
                &[("ground", t.t(&format!("label.ground.{ground}")))],
            )
        }
        "document" => {
            let purpose = data["purpose"].as_str().unwrap_or("identity");
            t.fill(
                "request.event.document",
                &[("what", &purpose_words(t, purpose))],
            )
        }
        kind @ ("confirm_email" | "start" | "fulfil" | "withdraw" | "expire" | "reminder"
        | "message") => s(kind),
        _ => s("other"),
    }
}

/// The kind's own answers as the person gave them, in the order the form asks them, each
/// with the question's name in the staff's words; a choice by its words too.
fn answers(
    t: &Strings,
    kind: crate::domain::kind::RequestKind,
    form: &str,
) -> Vec<(String, String)> {
    let Ok(serde_json::Value::Object(map)) = serde_json::from_str::<serde_json::Value>(form) else {
        return Vec::new();
    };
    let order = crate::domain::filing::own_fields(kind);
    let mut fields: Vec<(&String, &serde_json::Value)> = map.iter().collect();
    fields.sort_by_key(|(field, _)| {
        order
            .iter()
            .position(|f| f.name == field.as_str())
            .unwrap_or(usize::MAX)
    });
    fields
        .into_iter()
        .filter_map(|(field, value)| {
            let label_key = format!("request.asked.field.{field}");
            let label = if t.has(&label_key) {
                t.t(&label_key).to_string()
            } else {
                t.t("request.asked.field.other").to_string()
            };
            let words = match value {
                serde_json::Value::Bool(true) => t.t("request.yes").to_string(),
                serde_json::Value::Bool(false) => return None,
                serde_json::Value::String(s) => {
                    let choice = format!("request.asked.field.{field}_{s}");
                    if t.has(&choice) {
                        t.t(&choice).to_string()
                    } else {
                        s.clone()
                    }
                }
                other => other.to_string(),
            };
            (!words.trim().is_empty()).then_some((label, words))
        })
        .collect()
}

/// The deadline's signal and its computation.
fn header(
    state: &crate::state::AppState,
    t: &Strings,
    lang: Lang,
    row: &RequestRow,
    names: &crate::staff::Names,
) -> Header {
    let law = &state.law;
    let now = state.clock.now();
    let today = law.today(now);
    let d = workflow::deadline_of(law, row, today);
    let days_left = crate::domain::deadline::days_left(d.due_on, today);
    let (deadline, deadline_class) = if let Some(closed) = row.closed_at {
        (
            t.fill(
                "request.deadline.closed",
                &[("date", &long_date(closed.date(), lang))],
            ),
            "closed",
        )
    } else if d.clock_stopped {
        (t.t("request.deadline.stopped").to_string(), "stopped")
    } else if days_left < 0 {
        (t.count("request.deadline.late", -days_left), "overdue")
    } else if days_left == 0 {
        (t.t("request.deadline.today").to_string(), "soon")
    } else {
        (
            t.count("request.deadline.in", days_left),
            if days_left <= 7 { "soon" } else { "ok" },
        )
    };
    let profile = workflow::profile_of(law, row);
    let profile_key = format!("request.profile.{}", row.profile);
    let profile_words = if t.has(&profile_key) {
        t.t(&profile_key).to_string()
    } else {
        row.profile.clone()
    };
    let extension = workflow::deadline_extension(row);
    let line =
        |key: &str, value: String| (t.t(&format!("request.deadline.{key}")).to_string(), value);
    let mut computation = vec![
        line(
            "received",
            local_time(row.received_at.and_utc(), law.time_zone, lang),
        ),
        line("profile", profile_words),
        line(
            "period",
            t.fill(
                "request.deadline.period_from",
                &[
                    ("period", &period_words(t, profile.base)),
                    ("date", &long_date(row.received_on, lang)),
                ],
            ),
        ),
        line("extension", period_words(t, extension)),
        line("period_end", long_date(d.period_end, lang)),
    ];
    let paused = if d.paused_days == 0 {
        t.t("request.deadline.none").to_string()
    } else {
        t.count("units.days", d.paused_days)
    };
    let paused = match row.paused_since {
        Some(since) => t.fill(
            "request.deadline.paused_since",
            &[("days", &paused), ("date", &long_date(since, lang))],
        ),
        None => paused,
    };
    computation.push(line("paused", paused));
    let rolled = d.due_on != d.period_end + chrono::Duration::days(d.paused_days);
    computation.push(line(
        "working_day",
        t.t(if rolled {
            "request.deadline.rolled"
        } else {
            "request.deadline.not_rolled"
        })
        .to_string(),
    ));
    computation.push(line("due_on", long_date(d.due_on, lang)));
    let (status_class, status) = match row.status {
        Status::OnHold => ("hold", row.status),
        s if s.is_terminal() => ("closed", s),
        s => ("open", s),
    };
    Header {
        reference: workflow::reference(row).to_string(),
        kind: t
            .t(&format!("label.kind.{}", row.kind.as_str()))
            .to_string(),
        status: super::words::status_label(t, status),
        status_class,
        deadline,
        deadline_class,
        due: t.fill(
            "request.deadline.due",
            &[("date", &long_date(d.due_on, lang))],
        ),
        computation,
        assignee: row
            .assignee_id
            .map(|id| names.of(&format!("staff:{id}")))
            .unwrap_or_else(|| t.t("request.nobody").to_string()),
    }
}

/// Whether the profile leaves an extension to take today.
fn can_extend(state: &crate::state::AppState, row: &RequestRow) -> bool {
    let law = &state.law;
    let today = law.today(state.clock.now());
    crate::domain::deadline::check_extension(
        workflow::profile_of(law, row),
        &row.profile,
        &law.calendar,
        row.received_on,
        workflow::deadline_extension(row),
        crate::domain::deadline::Period { months: 0, days: 1 },
        &workflow::pauses_of(row),
        today,
    )
    .is_ok()
}

/// The query of the page: a notice after an action, a standard reply to start from.
#[derive(Debug, Default, serde::Deserialize)]
pub struct Flash {
    pub done: Option<String>,
    pub reply: Option<String>,
    /// `reject`: the confirmation page of a refusal.
    pub confirm: Option<String>,
}

/// The request page (or, with `?confirm=reject`, the refusal's confirmation), with what was
/// typed and why it was refused when a form comes back.
pub async fn render(
    state: &State,
    staff: &Staff,
    key: String,
    flash: &Flash,
    kept: Kept,
    error: Option<Said>,
) -> Result<HttpResponse, AdminError> {
    let l = load(state, staff, key).await?;
    let lang = staff.lang();
    let t = lang.strings();
    let row = &l.row;
    let zone = state.law.time_zone;
    let stamp = |at: NaiveDateTime| local_time(at.and_utc(), zone, lang);
    let names = crate::staff::Names::new(&l.users);
    let reference = workflow::reference(row).to_string();
    let page_url = format!("/admin/requests/{reference}");
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let h = header(state, t, lang, row, &names);
    let nav = staff.nav();
    let action_url = format!("{page_url}/action");

    let reject_offered = matches!(
        row.status,
        Status::Verifying | Status::InProgress | Status::OnHold
    );
    if flash.confirm.as_deref() == Some("reject") || kept.action == "reject" {
        if !staff.role.can_act() || !reject_offered {
            // Nothing to confirm: back to the page, which says what the state allows.
            if error.is_none() {
                return Ok(super::redirect(&page_url));
            }
        }
        let chosen = kept.ground.clone();
        return Ok(crate::web::admin::render(
            &RejectPage {
                csrf: staff.session.csrf.clone(),
                grounds: RejectGround::ALL
                    .iter()
                    .map(|g| {
                        (
                            g.as_str(),
                            t.t(&format!("label.ground.{}", g.as_str())).to_string(),
                            chosen == g.as_str(),
                        )
                    })
                    .collect(),
                text: kept.text.clone(),
                error,
                action_url,
                page_url,
                requester: row.requester_name.clone(),
                requester_lang: t
                    .t(&format!("request.language.{}", row.language.code()))
                    .to_string(),
                h,
                nav,
            },
            status,
        ));
    }

    let configured = !state.sources.list.is_empty();
    let waiting: Vec<&DocumentRow> = l
        .documents
        .iter()
        .filter(|d| {
            d.decision.is_none() && d.storage_name.is_some() && staff_actions::is_proof(&d.purpose)
        })
        .collect();
    let situation = Situation {
        status: row.status,
        verified: row.verified_at.is_some(),
        documents_waiting: waiting.len(),
        gathering: gathering(configured, &l.runs, &l.live, l.export.as_ref()),
        can_extend: can_extend(state, row),
        corrects: crate::config::sources::Operation::for_kind(row.kind)
            == crate::config::sources::Operation::Rectify,
    };
    let offers = desk::offers(&situation);
    let step = desk::next_step(&situation);
    let can_act = staff.role.can_act();
    let step_key = match step {
        NextStep::AwaitConfirmation => "await_confirmation",
        NextStep::ReviewDocument => "review_document",
        NextStep::VerifyIdentity => "verify_identity",
        NextStep::AwaitRequester => "await_requester",
        NextStep::SendToSources => "send_to_sources",
        NextStep::AwaitSources => "await_sources",
        NextStep::FinishTasks => "finish_tasks",
        NextStep::FixSource => "fix_source",
        NextStep::AwaitPackage => "await_package",
        NextStep::ReviewPackage => "review_package",
        NextStep::Answer => "answer",
        NextStep::Closed => "closed",
    };
    let stage = match step.stage() {
        Some(desk::Stage::Verify) => "verify",
        Some(desk::Stage::Gather) => "gather",
        Some(desk::Stage::Answer) => "answer",
        None => "",
    };

    // Who asked.
    let line = |key: &str, value: String| (t.t(&format!("request.who.{key}")).to_string(), value);
    let mut who = vec![
        line("name", row.requester_name.clone()),
        line("email", row.requester_email.clone()),
    ];
    if let Some(c) = &row.customer_ref {
        who.push(line("customer_ref", c.clone()));
    }
    if let Some(c) = &row.country {
        let key = format!("countries.{c}");
        who.push(line(
            "country",
            if t.has(&key) {
                t.t(&key).to_string()
            } else {
                c.clone()
            },
        ));
    }
    who.push(line(
        "language",
        t.t(&format!("request.language.{}", row.language.code()))
            .to_string(),
    ));
    who.push(line(
        "channel",
        t.t(&format!("label.channel.{}", row.channel.as_str()))
            .to_string(),
    ));
    let method_words = |code: &str| crate::i18n::verification_method(code, lang);
    let verified = row.verified_at.map(|at| {
        t.fill(
            "request.who.verified_on",
            &[
                ("date", &stamp(at)),
                (
                    "method",
                    &method_words(
                        row.verified_method
                            .as_deref()
                            .unwrap_or(workflow::UNSTATED_METHOD),
                    ),
                ),
            ],
        )
    });
    who.push(line(
        "identity",
        verified
            .clone()
            .unwrap_or_else(|| t.t("request.who.not_verified").to_string()),
    ));
    let represented = row.subject_name.as_ref().map(|name| {
        let mut lines = vec![line("name", name.clone())];
        if let Some(e) = &row.subject_email {
            lines.push(line("email", e.clone()));
        }
        if let Some(c) = &row.subject_customer_ref {
            lines.push(line("customer_ref", c.clone()));
        }
        lines
    });

    // One thread, in time order.
    let who_is = |actor: &str| actor_name(t, &names, row, actor);
    let mut thread: Vec<ThreadItem> = Vec::new();
    for e in l.events.iter().filter(|e| e.request_id == row.id) {
        // A message and a hold's question are in the thread as messages already.
        if e.kind == "message" {
            continue;
        }
        let body = match e.kind.as_str() {
            "hold" | "fulfil" => None,
            _ => e.note.clone().filter(|n| !n.trim().is_empty()),
        };
        thread.push(ThreadItem {
            sort: (e.at, 0, e.id),
            class: "event",
            label: t.t("request.thread.event").to_string(),
            title: event_sentence(t, lang, e),
            who: who_is(&e.actor),
            at: stamp(e.at),
            body,
            attachment: None,
        });
    }
    for m in &l.messages {
        let from_requester = m.author == "requester";
        let attachment = m.document_id.and_then(|id| {
            let doc = l.documents.iter().find(|d| d.id == id)?;
            let name = doc
                .original_name
                .clone()
                .unwrap_or_else(|| t.t("request.thread.file").to_string());
            Some(if doc.storage_name.is_some() {
                (format!("/admin/documents/{id}"), name)
            } else {
                (String::new(), name)
            })
        });
        thread.push(ThreadItem {
            sort: (m.created_at, 1, m.id),
            class: if from_requester { "in" } else { "out" },
            label: t
                .t(if from_requester {
                    "request.thread.from_requester"
                } else {
                    "request.thread.from_team"
                })
                .to_string(),
            title: String::new(),
            who: who_is(&m.author),
            at: stamp(m.created_at),
            body: Some(m.body.clone()),
            attachment,
        });
    }
    for (i, (author, at, body)) in l.notes.iter().enumerate() {
        thread.push(ThreadItem {
            sort: (*at, 2, i as i64),
            class: "note",
            label: t.t("request.thread.note").to_string(),
            title: String::new(),
            who: author.clone(),
            at: stamp(*at),
            body: Some(body.clone()),
            attachment: None,
        });
    }
    for mail in &l.mails {
        let key = if mail.sent_at.is_some() {
            "request.thread.mail_sent"
        } else {
            "request.thread.mail_waiting"
        };
        thread.push(ThreadItem {
            sort: (mail.created_at, 3, mail.id),
            class: "mail",
            label: t.t("request.thread.mail").to_string(),
            title: t.fill(key, &[("to", &mail.to_addr), ("subject", &mail.subject)]),
            who: t.t("request.actor.system").to_string(),
            at: stamp(mail.sent_at.unwrap_or(mail.created_at)),
            body: None,
            attachment: None,
        });
    }
    thread.sort_by(|a, b| a.sort.cmp(&b.sort));

    // The identity documents, waiting ones first, each beside its decision.
    let documents: Vec<DocView> = l
        .documents
        .iter()
        .filter(|d| staff_actions::is_proof(&d.purpose))
        .map(|d| DocView {
            id: d.id,
            label: purpose_words(t, &d.purpose),
            uploaded: stamp(d.uploaded_at),
            url: format!("/admin/documents/{}", d.id),
            image: d.content_type.starts_with("image/"),
            decided: match (&d.decision, &d.storage_name) {
                (Some(decision), _) => Some(t.fill(
                    if decision == "accepted" {
                        "request.document.accepted"
                    } else {
                        "request.document.refused"
                    },
                    &[
                        (
                            "who",
                            &names.of(d.decided_by.as_deref().unwrap_or_default()),
                        ),
                        ("date", &d.decided_at.map(stamp).unwrap_or_default()),
                    ],
                )),
                (None, None) => Some(t.t("request.document.purged").to_string()),
                (None, Some(_)) => None,
            },
        })
        .collect();

    // The answer: the letter that fits what the sources did, in the requester's language.
    let rlang = row.language;
    let due = long_date(row.due_on, rlang);
    let fill = |key: &str| {
        rlang.strings().fill(
            key,
            &[
                ("name", &row.requester_name),
                ("reference", &reference),
                ("due", &due),
            ],
        )
    };
    let empty = l
        .export
        .as_ref()
        .is_some_and(|e| e.status == PackageStatus::Empty);
    let found = crate::fulfil::Found::of(&l.runs);
    let mut letter = fill(&crate::fulfil::letter_key(row.kind.as_str(), empty, &found));
    crate::fulfil::say_on_whose_behalf(&mut letter, row, rlang);
    letter.push_str(&crate::fulfil::answer_summary(state, &l.runs, rlang));
    if kept.action == "fulfil" {
        letter = kept.text.clone();
    }
    let letter_blocked = (row.status.is_open() && !offers.contains(&Offer::Answer)).then(|| {
        t.t(match situation.gathering {
            _ if row.status == Status::OnHold => "request.answer.blocked_on_hold",
            _ if row.status != Status::InProgress => "request.answer.blocked_status",
            Gathering::Review => "request.answer.blocked_review",
            Gathering::NotSent => "request.answer.blocked_not_sent",
            _ => "request.answer.blocked_sources",
        })
        .to_string()
    });
    let reply_text = if kept.action == "reply" {
        kept.text.clone()
    } else {
        flash
            .reply
            .as_deref()
            .filter(|key| REPLIES.contains(key))
            .map(|key| fill(&format!("replies.{key}")))
            .unwrap_or_default()
    };
    let team = l
        .users
        .iter()
        .filter(|u| crate::staff::can_be_assigned(u))
        .map(|u| {
            let chosen = if kept.action == "assign" {
                kept.assignee == u.id.to_string()
            } else {
                row.assignee_id == Some(u.id)
            };
            (u.id, crate::staff::display_name(u), chosen)
        })
        .collect();
    let notice = flash.done.as_deref().and_then(|d| {
        let key = format!("request.done.{d}");
        t.has(&key).then(|| t.t(&key).to_string())
    });
    let extension_note = {
        let profile = workflow::profile_of(&state.law, row);
        t.fill(
            "request.extend.hint",
            &[("max", &period_words(t, profile.max_extension))],
        )
    };
    let fulfilment = fulfilment::panel(
        state,
        row,
        &l.runs,
        &l.live,
        l.build_live,
        l.export.as_ref(),
        &names,
        lang,
    );
    let page = RequestPage {
        can: Can::of(&offers, can_act),
        primary: if can_act { step.offer() } else { None },
        next: t.t(&format!("request.next.{step_key}")).to_string(),
        stage,
        can_act,
        open: row.status.is_open(),
        verified,
        verify_methods: Method::BY_HAND
            .iter()
            .map(|m| (m.as_str(), method_words(m.as_str())))
            .collect(),
        documents,
        team,
        letter,
        letter_blocked,
        replies: REPLIES
            .iter()
            .map(|k| (*k, t.t(&format!("request.reply.standard.{k}")).to_string()))
            .collect(),
        reply_text,
        extension_note,
        fulfilment,
        who,
        represented,
        asked: answers(t, row.kind, &row.form),
        details: row.details.clone(),
        thread,
        notice,
        error,
        kept,
        send_url: format!("{page_url}/send"),
        reject_url: format!("{page_url}?confirm=reject"),
        action_url,
        page_url,
        csrf: staff.session.csrf.clone(),
        h,
        nav,
    };
    Ok(crate::web::admin::render(&page, status))
}
