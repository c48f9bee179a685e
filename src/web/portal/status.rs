//! The page behind the mailed link: where the request stands, its history, the messages with
//! the team, the identity upload when asked, and withdrawal.

use actix_multipart::Multipart;
use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::upload::{self, Early, Rejected, UploadError};
use super::{Chrome, csrf_ok, csrf_token, human_size, page, with_csrf};
use crate::domain::deadline;
use crate::domain::status::Status;
use crate::domain::text::TextKind;
use crate::i18n::{Lang, long_date};
use crate::state::AppState;
use crate::store::DbConn;
use crate::store::portal as portal_rows;
use crate::store::requests::{self as rows, RequestRow};
use crate::web::State;
use crate::workflow;
use crate::workflow::requester;

pub struct TimelineEntry {
    pub date: String,
    pub label: String,
}

pub struct MessageEntry {
    pub from_team: bool,
    pub author: String,
    pub date: String,
    pub body: String,
    /// Where to download the file sent with the message.
    pub attachment: Option<String>,
}

#[derive(Template)]
#[template(path = "portal/status.html")]
pub struct StatusPage {
    pub c: Chrome,
    pub base: String,
    pub csrf: String,
    pub notice: Option<String>,
    pub reference: String,
    pub kind: String,
    pub status: String,
    pub received: String,
    pub due: String,
    pub deadline_note: String,
    pub clock_stopped: bool,
    pub open: bool,
    /// The status table still allows withdrawal.
    pub can_withdraw: bool,
    pub timeline: Vec<TimelineEntry>,
    pub messages: Vec<MessageEntry>,
    pub awaits_identity: bool,
    pub identity_text: String,
    pub message_error: Option<String>,
    pub identity_error: Option<String>,
    pub message_value: String,
    pub export: Option<ExportBox>,
}

/// The package, as the requester sees it: ready (with the link), or why it is not.
pub struct ExportBox {
    pub ready: bool,
    pub text: String,
    pub detail: String,
    pub url: String,
}

#[derive(Template)]
#[template(path = "portal/withdraw.html")]
pub struct WithdrawPage {
    pub c: Chrome,
    pub base: String,
    pub csrf: String,
    pub text: String,
}

#[derive(Deserialize)]
pub struct Done {
    done: Option<String>,
}

struct Loaded {
    row: RequestRow,
    events: Vec<rows::EventRow>,
    messages: Vec<portal_rows::MessageRow>,
    confirmed_now: bool,
    export: Option<crate::store::fulfilment::ExportRow>,
}

fn link_invalid(state: &State, lang: Lang) -> HttpResponse {
    super::message_page(
        state,
        lang,
        StatusCode::NOT_FOUND,
        "pages.link_invalid_title",
        lang.strings().t("pages.link_invalid_text").to_string(),
    )
}

/// The page's language from its path; a path in no language gets the not-found page in the
/// person's own. (The page is the error: built once, on that path only.)
#[allow(clippy::result_large_err)]
fn path_lang(state: &State, req: &HttpRequest, raw: &str) -> Result<Lang, HttpResponse> {
    super::url_lang(raw).ok_or_else(|| super::not_found(state, super::preferred_lang(req)))
}

/// The language and the request of a status page's path; else the page that says why not.
async fn open_page(
    state: &State,
    req: &HttpRequest,
    (raw_lang, token): (String, String),
    confirm: bool,
) -> Result<(Lang, String, Loaded), HttpResponse> {
    let lang = path_lang(state, req, &raw_lang)?;
    let loaded = opened(state, lang, &token, confirm).await?;
    Ok((lang, token, loaded))
}

/// The request behind a link; else the page that says the link is not (or no longer) valid,
/// or that something failed on our side.
async fn opened(
    state: &State,
    lang: Lang,
    token: &str,
    confirm: bool,
) -> Result<Loaded, HttpResponse> {
    match load(state, token.to_string(), confirm).await {
        Ok(Some(l)) => Ok(l),
        Ok(None) => Err(link_invalid(state, lang)),
        Err(e) => Err(super::internal_error(state, lang, &e)),
    }
}

/// Opens the request behind `token` (confirming the address on the first visit).
async fn load(
    state: &State,
    token: String,
    confirm: bool,
) -> Result<Option<Loaded>, crate::web::error::Problem> {
    let now = state.clock.now();
    state
        .db(move |conn, app| {
            let Some(mut row) = requester::open_link(conn, &token, now)? else {
                return Ok(None);
            };
            let confirmed_now = confirm
                && requester::confirm_email(conn, app, &row, now)
                    .map_err(|e| crate::web::error::internal(&e))?;
            if confirmed_now {
                row = rows::get(conn, row.id)?;
            }
            let events = rows::events_for(conn, &[row.id])?;
            let messages = portal_rows::messages_for(conn, row.id)?;
            let export = crate::store::fulfilment::export_for(conn, row.id)?
                .filter(|e| e.released_at.is_some());
            Ok::<_, crate::web::error::Problem>(Some(Loaded {
                row,
                events,
                messages,
                confirmed_now,
                export,
            }))
        })
        .await
}

/// What the page says back after an action: a confirmation, or what went wrong and where.
struct Feedback {
    notice: Option<String>,
    message: Option<String>,
    identity: Option<String>,
    message_value: String,
}

impl Feedback {
    /// A notice at the top of the page, or none.
    fn notice(notice: Option<String>) -> Self {
        Feedback {
            notice,
            message: None,
            identity: None,
            message_value: String::new(),
        }
    }

    /// What is wrong with the message posted, the text kept in its form.
    fn on_message(error: String, message_value: String) -> Self {
        Feedback {
            notice: None,
            message: Some(error),
            identity: None,
            message_value,
        }
    }

    /// What is wrong with the identity document posted.
    fn on_identity(error: Option<String>) -> Self {
        Feedback {
            notice: None,
            message: None,
            identity: error,
            message_value: String::new(),
        }
    }

    /// What is wrong with a post before its form is known: shown beside both forms, the
    /// message text kept.
    fn on_both(error: String, message_value: String) -> Self {
        Feedback {
            notice: None,
            message: Some(error.clone()),
            identity: Some(error),
            message_value,
        }
    }
}

fn render(
    state: &State,
    lang: Lang,
    token: &str,
    csrf: &str,
    loaded: &Loaded,
    errors: Feedback,
    status: StatusCode,
) -> HttpResponse {
    let t = lang.strings();
    let row = &loaded.row;
    let today = state.law.today(state.clock.now());
    let d = workflow::deadline_of(&state.law, row, today);
    let open = row.status.is_open();
    let left = deadline::days_left(d.due_on, today);
    // Once the requester has answered a hold, the page no longer says we wait for them.
    let answered = requester::hold_answered(row, &loaded.events, &loaded.messages);
    let days_left = if left < 0 {
        t.fill("status.overdue", &[("days", &t.count("units.days", -left))])
    } else {
        t.fill(
            "status.days_left",
            &[("days", &t.count("units.days", left))],
        )
    };
    let deadline_note = if !open {
        t.t("status.closed").to_string()
    } else if answered && d.clock_stopped {
        t.t("status.answered_clock_stopped").to_string()
    } else if answered {
        format!("{} {days_left}", t.t("status.answered_clock_runs"))
    } else if d.clock_stopped {
        t.t("status.clock_stopped").to_string()
    } else {
        days_left
    };
    let stands = if answered {
        t.t("status.answered").to_string()
    } else {
        t.t(&format!("statuses.{}", row.status)).to_string()
    };
    let reference = workflow::reference(row).to_string();
    let tz = state.law.time_zone;
    let local_date =
        |at: chrono::NaiveDateTime| long_date(at.and_utc().with_timezone(&tz).date_naive(), lang);
    let timeline = loaded
        .events
        .iter()
        // Who in the team has the request is the team's business.
        .filter(|e| e.kind != rows::ASSIGN_EVENT)
        .map(|e| TimelineEntry {
            date: local_date(e.at),
            label: if t.has(&format!("events.{}", e.kind)) {
                t.t(&format!("events.{}", e.kind)).to_string()
            } else {
                e.kind.clone()
            },
        })
        .collect();
    let messages = loaded
        .messages
        .iter()
        .map(|m| {
            let from_team = m.author != requester::ACTOR;
            MessageEntry {
                from_team,
                author: t
                    .t(if from_team {
                        "status.from_team"
                    } else {
                        "status.from_you"
                    })
                    .to_string(),
                date: local_date(m.created_at),
                body: m.body.clone(),
                attachment: m
                    .document_id
                    .map(|id| format!("/{}/r/{}/files/{id}", lang.code(), token)),
            }
        })
        .collect();
    let base = format!("/{}/r/{}", lang.code(), token);
    let html = page(
        &StatusPage {
            c: Chrome::new(
                state,
                lang,
                t.fill("status.title", &[("reference", &reference)]),
                &format!("r/{token}"),
            ),
            base,
            csrf: csrf.to_string(),
            notice: errors.notice,
            reference,
            kind: t.t(&format!("kinds.{}.name", row.kind)).to_string(),
            status: stands,
            received: long_date(row.received_on, lang),
            due: long_date(d.due_on, lang),
            deadline_note,
            clock_stopped: d.clock_stopped && !answered,
            open,
            can_withdraw: requester::can_withdraw(row),
            timeline,
            messages,
            awaits_identity: requester::awaits_identity(row),
            identity_text: t.fill(
                "status.identity_text",
                &[(
                    "max",
                    &human_size(state.settings.portal.max_upload_bytes, lang),
                )],
            ),
            message_error: errors.message,
            identity_error: errors.identity,
            message_value: errors.message_value,
            export: loaded
                .export
                .as_ref()
                .map(|e| export_box(state, lang, token, e)),
        },
        status,
        lang,
    );
    with_csrf(html, state, csrf)
}

/// Said when something is posted to a request already closed (a page left open): nobody
/// would read it here, so it is not taken, and the person is told where to write instead.
fn closed(state: &State, lang: Lang, row: &RequestRow) -> Option<String> {
    (!row.status.is_open()).then(|| {
        lang.strings().fill(
            "errors.request_closed",
            &[("dpo", &state.settings.organisation.dpo_email)],
        )
    })
}

fn export_box(
    state: &State,
    lang: Lang,
    token: &str,
    e: &crate::store::fulfilment::ExportRow,
) -> ExportBox {
    let t = lang.strings();
    let (ready, key) = if e.status == crate::domain::fulfilment::PackageStatus::Empty {
        (false, "export.page.empty")
    } else {
        match crate::fulfil::availability(e, state.clock.now_naive()) {
            Ok(()) => (true, "export.page.ready"),
            Err(why) => (false, why.message_key()),
        }
    };
    let until = e
        .expires_at
        .map(|x| {
            long_date(
                x.and_utc().with_timezone(&state.law.time_zone).date_naive(),
                lang,
            )
        })
        .unwrap_or_default();
    ExportBox {
        ready,
        text: t.fill(key, &[("dpo", &state.settings.organisation.dpo_email)]),
        detail: if ready {
            t.fill(
                "export.page.left",
                &[
                    ("left", &(e.max_downloads - e.downloads).to_string()),
                    ("until", &until),
                ],
            )
        } else {
            String::new()
        },
        url: format!("/{}/r/{}/export", lang.code(), token),
    }
}

/// The package, decrypted as it streams; refused (in the requester's language, 410) once
/// expired or downloaded as often as allowed. Every download and refusal is audited.
pub async fn export(state: State, path: web::Path<(String, String)>) -> HttpResponse {
    let (raw_lang, token) = path.into_inner();
    let Some(lang) = super::url_lang(&raw_lang) else {
        return super::not_found(&state, Lang::En);
    };
    let now = state.clock.now();
    package(&state, lang, "requester", move |conn| {
        requester::open_link(conn, &token, now)
    })
    .await
}

/// The package of the request `find` gives, decrypted as it streams, its download counted for
/// `who` (`requester`, or the `recipient` of an Art. 20(2) transfer); refused (410, in `lang`)
/// once expired or downloaded as often as allowed; not found when `find` gives nothing. Every
/// download and refusal is audited.
pub(super) async fn package<E: Into<crate::web::error::Problem> + Send + 'static>(
    state: &State,
    lang: Lang,
    who: &'static str,
    find: impl FnOnce(&mut DbConn) -> Result<Option<RequestRow>, E> + Send + 'static,
) -> HttpResponse {
    let now = state.clock.now();
    let started = state
        .db(move |conn, app| {
            let Some(row) = find(conn).map_err(Into::into)? else {
                return Ok(None);
            };
            // Opened before the download is counted: a file that cannot be read spends none.
            let file = crate::store::fulfilment::export_for(conn, row.id)?
                .filter(|e| e.status == crate::domain::fulfilment::PackageStatus::Released)
                .and_then(|e| e.storage_name)
                .map(|name| crate::fulfil::open_sealed(app, &name))
                .transpose()
                .map_err(|e| crate::web::error::internal(&e))?;
            let started = crate::fulfil::start_download(conn, &row, who, now)
                .map_err(|e| crate::web::error::internal(&e))?;
            let opened = match (started, file) {
                (Ok(_), Some(reader)) => Ok(reader),
                (Ok(_), None) => return Err(crate::web::error::Problem::internal()),
                (Err(why), _) => Err(why),
            };
            Ok::<_, crate::web::error::Problem>(Some((
                workflow::reference(&row).to_string(),
                opened,
            )))
        })
        .await;
    match started {
        Ok(Some((reference, Ok(reader)))) => HttpResponse::Ok()
            .content_type("application/zip")
            .insert_header((
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{reference}.zip\""),
            ))
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .insert_header(("X-Content-Type-Options", "nosniff"))
            .streaming(crate::web::stream_reader(reader)),
        Ok(Some((_, Err(why)))) => {
            let key = why.message_key();
            super::message_page(
                state,
                lang,
                StatusCode::GONE,
                "status.download",
                lang.strings()
                    .fill(key, &[("dpo", &state.settings.organisation.dpo_email)]),
            )
        }
        Ok(None) => super::not_found(state, lang),
        Err(e) => super::internal_error(state, lang, &e),
    }
}

pub async fn show(
    state: State,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    query: web::Query<Done>,
) -> HttpResponse {
    let (lang, token, loaded) = match open_page(&state, &req, path.into_inner(), true).await {
        Ok(page) => page,
        Err(page) => return page,
    };
    let t = lang.strings();
    let notice = if loaded.confirmed_now {
        Some(t.t("status.confirmed").to_string())
    } else {
        match query.done.as_deref() {
            Some("sent") => Some(t.t("status.sent").to_string()),
            Some("identity") => Some(t.t("status.identity_received").to_string()),
            // Only true of a withdrawn request, whatever the address says.
            Some("withdrawn") if loaded.row.status == Status::Withdrawn => {
                Some(t.t("status.withdrawn").to_string())
            }
            _ => None,
        }
    };
    render(
        &state,
        lang,
        &token,
        &csrf_token(&req),
        &loaded,
        Feedback::notice(notice),
        StatusCode::OK,
    )
}

fn see_other(lang: Lang, token: &str, done: &str) -> HttpResponse {
    to_page(lang, token, &format!("?done={done}"))
}

/// Back to the request's page, with `query` ("" or "?…").
fn to_page(lang: Lang, token: &str, query: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((
            header::LOCATION,
            format!("/{}/r/{}{query}", lang.code(), token),
        ))
        .finish()
}

/// The language, the request and the posted form of a status page's path; else the page that
/// says why not.
async fn posted_page(
    state: &State,
    req: &HttpRequest,
    (raw_lang, token): (String, String),
    multipart: Multipart,
) -> Result<(Lang, String, upload::Submission, Loaded), HttpResponse> {
    let lang = path_lang(state, req, &raw_lang)?;
    let (submission, loaded) = posted(state, req, lang, &token, multipart).await?;
    Ok((lang, token, submission, loaded))
}
/// Does the requester's action on the request, then back to its page saying `done`; else the
/// page that says something failed on our side.
async fn act(
    state: &State,
    lang: Lang,
    token: &str,
    row: &RequestRow,
    done: &str,
    action: impl FnOnce(
        &mut DbConn,
        &AppState,
        &RequestRow,
        DateTime<Utc>,
    ) -> Result<(), workflow::WorkflowError>
    + Send
    + 'static,
) -> HttpResponse {
    let now = state.clock.now();
    let row = row.clone();
    let saved = state
        .db(move |conn, app| {
            action(conn, app, &row, now).map_err(|e| crate::web::error::internal(&e))
        })
        .await;
    match saved {
        Ok(()) => see_other(lang, token, done),
        Err(e) => super::internal_error(state, lang, &e),
    }
}

/// Reads the posted form; on a problem, the page again with the error beside the form. What
/// can be refused before the body is read is: a flood from one address, another site's page,
/// a declared length over the cap, a link that opens nothing, a browser without CSRF cookie.
async fn posted(
    state: &State,
    req: &HttpRequest,
    lang: Lang,
    token: &str,
    multipart: Multipart,
) -> Result<(upload::Submission, Loaded), HttpResponse> {
    let t = lang.strings();
    let max = state.settings.portal.max_upload_bytes;
    let ip = super::client_ip(req, state.settings.portal.trust_forwarded_for);
    if !super::within(state, super::Limit::PagePosts, ip).await {
        return Err(super::message_page(
            state,
            lang,
            StatusCode::TOO_MANY_REQUESTS,
            "pages.rate_limited_title",
            t.t("pages.rate_limited_text").to_string(),
        ));
    }
    match upload::refuse_early(req, state.settings.base_url(), max) {
        Some(Early::TooLarge) => {
            return Err(super::message_page(
                state,
                lang,
                StatusCode::PAYLOAD_TOO_LARGE,
                "pages.too_large_title",
                t.fill("pages.too_large_text", &[("max", &human_size(max, lang))]),
            ));
        }
        Some(Early::CrossSite) => {
            return Err(super::message_page(
                state,
                lang,
                StatusCode::FORBIDDEN,
                "pages.bad_form_title",
                t.t("errors.csrf").to_string(),
            ));
        }
        None => {}
    }
    let loaded = opened(state, lang, token, false).await?;
    let csrf = csrf_token(req);
    let again = |errors: Feedback, status: StatusCode| {
        render(state, lang, token, &csrf, &loaded, errors, status)
    };
    if !super::has_csrf_cookie(req) {
        let errors = Feedback::on_both(t.t("errors.csrf").to_string(), String::new());
        return Err(again(errors, StatusCode::FORBIDDEN));
    }
    let submission = match upload::read(req.headers(), multipart, &state.files, max).await {
        Ok(s) => s,
        Err(UploadError::TooLarge) => {
            let msg = t.fill("errors.file_too_large", &[("max", &human_size(max, lang))]);
            return Err(again(
                Feedback::on_both(msg, String::new()),
                StatusCode::PAYLOAD_TOO_LARGE,
            ));
        }
        Err(UploadError::Malformed(why)) => {
            tracing::info!(%why, "unreadable status page form");
            let msg = t.t("errors.form_unreadable").to_string();
            return Err(again(
                Feedback::on_both(msg, String::new()),
                StatusCode::BAD_REQUEST,
            ));
        }
        Err(UploadError::Io(e)) => return Err(super::internal_error(state, lang, &e)),
    };
    if !csrf_ok(req, submission.fields.get("csrf").map(String::as_str)) {
        let msg = t.t("errors.csrf").to_string();
        let errors = Feedback::on_both(msg, submission.field("body").to_string());
        return Err(again(errors, StatusCode::FORBIDDEN));
    }
    Ok((submission, loaded))
}

/// Checks and rewrites an uploaded file; a refusal is said in the person's language.
async fn checked(
    state: &State,
    lang: Lang,
    file: &upload::UploadedFile,
) -> Result<Result<upload::CleanFile, String>, HttpResponse> {
    match upload::clean(file, &state.files).await {
        Ok(clean) => Ok(Ok(clean)),
        Err(Rejected::Refused(refused)) => {
            Ok(Err(upload::refusal_message(&refused, lang.strings())))
        }
        Err(Rejected::Io(e)) => Err(super::internal_error(state, lang, &e)),
    }
}

pub async fn message(
    state: State,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    multipart: Multipart,
) -> HttpResponse {
    let (lang, token, submission, loaded) =
        match posted_page(&state, &req, path.into_inner(), multipart).await {
            Ok(posted) => posted,
            Err(page) => return page,
        };
    let t = lang.strings();
    let body = submission.field("body").trim().to_string();
    let mut error = if let Some(closed) = closed(&state, lang, &loaded.row) {
        Some(closed)
    } else if body.is_empty() {
        Some(t.t("errors.message_empty").to_string())
    } else if body.chars().count() > 20_000 {
        Some(t.t("errors.text_too_long").to_string())
    } else if let Err(fault) = crate::domain::text::check(&body, TextKind::Long) {
        Some(t.t(super::text_fault_key(fault)).to_string())
    } else {
        None
    };
    let mut clean = None;
    if let (None, Some(file)) = (&error, submission.file("attachment")) {
        match checked(&state, lang, file).await {
            Ok(Ok(file)) => clean = Some(file),
            Ok(Err(refused)) => error = Some(refused),
            Err(page) => return page,
        }
    }
    if let Some(error) = error {
        let errors = Feedback::on_message(error, body);
        return render(
            &state,
            lang,
            &token,
            &csrf_token(&req),
            &loaded,
            errors,
            StatusCode::UNPROCESSABLE_ENTITY,
        );
    }
    let file = clean
        .as_ref()
        .map(|f| (f.path().to_path_buf(), f.kind, f.file_name.clone()));
    let done = act(
        &state,
        lang,
        &token,
        &loaded.row,
        "sent",
        move |conn, app, row, now| {
            let file_ref = file
                .as_ref()
                .map(|(path, kind, name)| (path.as_path(), *kind, name.as_str()));
            requester::post_message(conn, app, row, &body, file_ref, now)
        },
    )
    .await;
    // The temporary file lives until the store has its copy.
    drop(clean);
    done
}

pub async fn identity(
    state: State,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    multipart: Multipart,
) -> HttpResponse {
    let (lang, token, submission, loaded) =
        match posted_page(&state, &req, path.into_inner(), multipart).await {
            Ok(posted) => posted,
            Err(page) => return page,
        };
    let t = lang.strings();
    let mut error = closed(&state, lang, &loaded.row);
    let file = submission.file("document");
    if error.is_none() && file.is_none() {
        error = Some(t.t("errors.document_required").to_string());
    }
    let mut clean = None;
    if let (None, Some(file)) = (&error, file) {
        match checked(&state, lang, file).await {
            Ok(Ok(file)) => clean = Some(file),
            Ok(Err(refused)) => error = Some(refused),
            Err(page) => return page,
        }
    }
    let (Some(clean), None) = (clean, &error) else {
        let errors = Feedback::on_identity(error);
        return render(
            &state,
            lang,
            &token,
            &csrf_token(&req),
            &loaded,
            errors,
            StatusCode::UNPROCESSABLE_ENTITY,
        );
    };
    let (path, kind, name) = (
        clean.path().to_path_buf(),
        clean.kind,
        clean.file_name.clone(),
    );
    let done = act(
        &state,
        lang,
        &token,
        &loaded.row,
        "identity",
        move |conn, app, row, now| {
            requester::upload_identity(conn, app, row, &path, kind, &name, now)
        },
    )
    .await;
    // The temporary file lives until the store has its copy.
    drop(clean);
    done
}

pub async fn withdraw_confirm(
    state: State,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> HttpResponse {
    let (lang, token, loaded) = match open_page(&state, &req, path.into_inner(), false).await {
        Ok(page) => page,
        Err(page) => return page,
    };
    // Nothing to confirm once withdrawal is no longer allowed: the page says where it stands.
    if !requester::can_withdraw(&loaded.row) {
        return to_page(lang, &token, "");
    }
    let t = lang.strings();
    let reference = workflow::reference(&loaded.row).to_string();
    let csrf = csrf_token(&req);
    let html = page(
        &WithdrawPage {
            c: Chrome::new(
                &state,
                lang,
                t.fill(
                    "status.withdraw_confirm_title",
                    &[("reference", &reference)],
                ),
                &format!("r/{token}/withdraw"),
            ),
            base: format!("/{}/r/{}", lang.code(), token),
            csrf: csrf.clone(),
            text: t.t("status.withdraw_confirm_text").to_string(),
        },
        StatusCode::OK,
        lang,
    );
    with_csrf(html, &state, &csrf)
}

#[derive(Deserialize)]
pub struct WithdrawForm {
    csrf: Option<String>,
}

pub async fn withdraw(
    state: State,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    form: Result<web::Form<WithdrawForm>, actix_web::Error>,
) -> HttpResponse {
    let (lang, token, loaded) = match open_page(&state, &req, path.into_inner(), false).await {
        Ok(page) => page,
        Err(page) => return page,
    };
    let t = lang.strings();
    // The page again with `key` said beside the form.
    let refused = |key: &str, status| {
        let errors = Feedback::on_message(t.t(key).to_string(), String::new());
        render(
            &state,
            lang,
            &token,
            &csrf_token(&req),
            &loaded,
            errors,
            status,
        )
    };
    // Not the form the page sends (another encoding, too long): said on the page, a 400.
    let Ok(form) = form else {
        return refused("errors.form_unreadable", StatusCode::BAD_REQUEST);
    };
    if !csrf_ok(&req, form.csrf.as_deref()) {
        return refused("errors.csrf", StatusCode::FORBIDDEN);
    }
    if !requester::can_withdraw(&loaded.row) {
        // A second click on a withdrawn request says it is withdrawn; a request closed
        // otherwise shows as it stands, never "withdrawn".
        return if loaded.row.status == Status::Withdrawn {
            see_other(lang, &token, "withdrawn")
        } else {
            to_page(lang, &token, "")
        };
    }
    act(
        &state,
        lang,
        &token,
        &loaded.row,
        "withdrawn",
        |conn, app, row, now| requester::withdraw(conn, app, row, now).map(drop),
    )
    .await
}

/// A file sent with a message, downloaded through the request's link; every download is
/// audited. Identity documents are never offered back.
pub async fn file(state: State, path: web::Path<(String, String, i64)>) -> HttpResponse {
    let (raw_lang, token, id) = path.into_inner();
    let Some(lang) = super::url_lang(&raw_lang) else {
        return super::not_found(&state, Lang::En);
    };
    let now = state.clock.now();
    let found = state
        .db(move |conn, app| {
            let Some(row) = requester::open_link(conn, &token, now)? else {
                return Ok(None);
            };
            let Ok(doc) = portal_rows::find_document(conn, id) else {
                return Ok(None);
            };
            let shareable = matches!(doc.purpose.as_str(), "attachment" | "team_attachment");
            let Some(name) = doc
                .storage_name
                .clone()
                .filter(|_| shareable && doc.request_id == row.id)
            else {
                return Ok(None);
            };
            // Sent in pieces: a download never holds the file in memory.
            let file = app
                .files
                .open(&name)
                .map_err(|e| crate::web::error::internal(&e))?;
            crate::store::write_tx(conn, |conn| {
                crate::store::audit::on_request(
                    conn,
                    &row.uuid,
                    requester::ACTOR,
                    "document.download",
                    &serde_json::json!({ "document": doc.id }),
                    now.naive_utc(),
                )
            })?;
            Ok::<_, crate::web::error::Problem>(Some((doc, file)))
        })
        .await;
    match found {
        Ok(Some((doc, file))) => {
            let name: String = doc
                .original_name
                .unwrap_or_else(|| "document".into())
                .chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || ".-_".contains(c) {
                        c
                    } else {
                        '_'
                    }
                })
                .collect();
            HttpResponse::Ok()
                .content_type(doc.content_type)
                .insert_header((
                    actix_web::http::header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"{name}\""),
                ))
                .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
                .insert_header(("X-Content-Type-Options", "nosniff"))
                .streaming(crate::web::stream_reader(file))
        }
        Ok(None) => super::not_found(&state, lang),
        Err(e) => super::internal_error(&state, lang, &e),
    }
}
