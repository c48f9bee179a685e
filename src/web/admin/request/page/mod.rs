//! The request page as the team reads it: the header (reference, right, status, deadline
//! with its computation), who asked and exactly what, one thread in time order, and beside it
//! the next step and only the actions the state allows, by stage. Built in the staff's
//! language; a refused action comes back here with what was typed and the reason.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use askama::Template;
use chrono::NaiveDateTime;

mod header;
mod post;
mod record;
mod thread;

use super::words::{Said, period_words};
use crate::domain::desk::{self, Gathering, NextStep, Offer, Situation};
use crate::domain::fulfilment::{PackageStatus, RunStatus};
use crate::domain::kind::RejectGround;
use crate::domain::status::Status;
use crate::domain::verification::Method;
use crate::i18n::{local_time, long_date};
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

pub use header::Header;

/// What the person asked, the kind's own answers in the staff's words.
pub fn asked_lines(t: &crate::i18n::Strings, row: &RequestRow) -> Vec<(String, String)> {
    record::answers(t, row.kind, &row.form)
}
pub use thread::{ThreadItem, actor_name};

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
    /// The accept button: "identité vérifiée", or after a death, the one proof accepted
    /// (the request is verified once both are).
    pub accept: String,
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
    /// `self`, `representative` or `parent`: which heading the "who" block has.
    pub acting: &'static str,
    /// "Parent de Léo Martin, né(e) le 9 mars 2014", when someone acts for another.
    pub acting_for: Option<String>,
    /// After a death: the deceased's directives on file, or that there are none.
    pub after_death: Option<crate::web::admin::directives::AfterDeath>,
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
    /// What follows the answer: fees, the restriction in force, the rows kept.
    pub follow: crate::web::admin::fees::Panel,
    /// What the request covers, as staff confirmed it.
    pub scope: crate::web::admin::scopes::Panel,
    /// How to reach the person by post, and the letters to print; `None` when the request
    /// has no postal address and its answers go by email.
    pub post: Option<post::PostPanel>,
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
    contact: Option<crate::store::contacts::ContactRow>,
    directives: Option<crate::web::admin::directives::OnFile>,
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
            let contact = crate::store::contacts::find(conn, row.id)?;
            let directives = crate::web::admin::directives::for_heir(conn, &row)?;
            Ok::<_, workflow::WorkflowError>(Loaded {
                contact,
                directives,
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
    let h = header::header(state, t, lang, row, &names);
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
                    // Refused on compelling grounds only through the balancing decision.
                    .filter(|g| **g != RejectGround::CompellingGrounds)
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

    // A request that sends nothing (directives) goes straight from verified to answered.
    let configured = !state.sources.list.is_empty() && crate::fulfil::operation(row).is_some();
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
        can_extend: header::can_extend(state, row),
        corrects: crate::fulfil::operation(row) == Some(crate::config::sources::Operation::Rectify),
    };
    let offers = desk::offers(&situation);
    let step = desk::next_step(&situation);
    let can_act = staff.role.can_act();
    let step_key = match step {
        NextStep::AwaitConfirmation => "await_confirmation",
        NextStep::ReviewDocument if waiting.len() > 1 => "review_documents",
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

    let method_words = |code: &str| crate::i18n::verification_method(code, lang);
    let (who, verified) = record::who(t, lang, zone, row);
    let represented = record::represented(t, lang, row);
    let acting_for = record::acting_for(t, lang, row);
    let app: &crate::state::AppState = state;
    let table_words =
        |source: &str, table: &str| crate::fulfil::table_words(app, source, table, lang);
    let thread = thread::thread(
        t,
        lang,
        zone,
        &names,
        row,
        &thread::Sources {
            events: &l.events,
            messages: &l.messages,
            documents: &l.documents,
            notes: &l.notes,
            mails: &l.mails,
            table_words: &table_words,
        },
    );

    // The identity documents, waiting ones first, each beside its decision.
    let documents: Vec<DocView> = l
        .documents
        .iter()
        .filter(|d| staff_actions::is_proof(&d.purpose))
        .map(|d| DocView {
            id: d.id,
            label: thread::purpose_words(t, &d.purpose),
            accept: t
                .t(if d.purpose != "identity" {
                    "directives.accept_proof"
                } else {
                    "request.document.accept"
                })
                .to_string(),
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
    let mut letter = fill(&crate::fulfil::letter_key(
        &crate::fulfil::letter_kind(row),
        empty,
        &found,
    ));
    crate::fulfil::say_on_whose_behalf(&mut letter, row, rlang);
    letter.push_str(&crate::fulfil::answer_summary(state, &l.runs, rlang));
    let scope =
        crate::web::admin::scopes::panel(state, staff, row, !l.runs.is_empty(), &names).await?;
    if let Some(covers) = &scope.covers {
        // The answer says what it covers, as the person asked and staff confirmed.
        letter.push_str("\n\n");
        letter.push_str(&rlang.strings().fill(
            "scope.letter",
            &[(
                "scope",
                &workflow::scopes::scope_words(state, covers, rlang),
            )],
        ));
    }
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
    let post = post::panel(t, lang, row, l.contact.as_ref(), &l.events, &page_url);
    // A person answered by post has been told nothing yet: the notice sends the team to the
    // letter to print instead.
    let by_post = post.as_ref().is_some_and(|p| p.by_post);
    let notice = flash.done.as_deref().and_then(|d| {
        [
            by_post.then(|| format!("request.done_by_post.{d}")),
            Some(format!("request.done.{d}")),
        ]
        .into_iter()
        .flatten()
        .find(|key| t.has(key))
        .map(|key| t.t(&key).to_string())
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
    let follow = crate::web::admin::fees::panel(state, staff, row, &l.users).await?;
    let can = Can::of(&offers, can_act);
    // The scope to confirm (or the objection to decide) comes before the sources.
    let next = if scope.blocks.is_some() && can.send {
        t.t(if scope.confirmed.is_none() {
            "scope.next"
        } else {
            "scope.next_balancing"
        })
        .to_string()
    } else {
        t.t(&format!("request.next.{step_key}")).to_string()
    };
    let page = RequestPage {
        scope,
        next,
        post,
        follow,
        can,
        primary: if can_act { step.offer() } else { None },
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
        acting: row.acting.as_str(),
        acting_for,
        after_death: l
            .directives
            .as_deref()
            .map(|found| crate::web::admin::directives::after_death(t, lang, zone, found)),
        asked: record::answers(t, row.kind, &row.form),
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
