//! One request as the team sees it: requester, details, the deadline and how it was
//! computed, the timeline, messages, documents and the audit entries about it.

use actix_web::http::header;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::{AdminError, Staff};
use crate::documents::Refused;
use crate::domain::deadline::Period;
use crate::domain::kind::RejectGround;
use crate::domain::lifecycle::HoldReason;
use crate::domain::verification::Method;
use crate::i18n::Lang;
use crate::store::audit;
use crate::store::files::Sniffed;
use crate::store::portal as portal_rows;
use crate::store::requests as rows;
use crate::store::write_tx;
use crate::web::State;
use crate::web::api::view::{RequestView, request_view};
use crate::web::portal::upload::{self, Early, Rejected, UploadError};
use crate::workflow;
use crate::workflow::staff_actions::{self, Action, Attachment};

#[derive(Template)]
#[template(path = "admin/request.html")]
pub struct RequestPage {
    pub nav: super::Nav,
    pub csrf: String,
    pub v: RequestView,
    pub form: Vec<(String, String)>,
    pub rolled: bool,
    pub messages: Vec<(String, String, String)>,
    pub documents: Vec<(String, String, String)>,
    pub audit: Vec<(String, String, String)>,
    /// The timeline as people read it: when (local), what, by whom, how, the note.
    pub timeline: Vec<TimelineEntry>,
    /// "Verified on …, by …" once verified.
    pub verified: Option<String>,
    /// Whether staff may record a verification here: the request is open and unverified.
    pub can_verify: bool,
    /// (code, words) of each method staff may record by hand.
    pub verify_methods: Vec<(&'static str, String)>,
    /// When the request was received, local.
    pub received: String,
    pub can_read_audit: bool,
    pub can_act: bool,
    pub open: bool,
    pub on_hold: bool,
    pub action_url: String,
    /// Where the reply and the answer post (multipart, with a file).
    pub send_url: String,
    /// Documents waiting for a decision: (id, purpose, uploaded).
    pub pending_documents: Vec<(i64, String, String)>,
    /// (id, name, currently assigned).
    pub team: Vec<(i64, String, bool)>,
    pub grounds: Vec<&'static str>,
    pub letter: String,
    /// (key, label) of each standard reply, and the reply box's content.
    pub replies: Vec<(&'static str, &'static str)>,
    pub reply_text: String,
    pub notes: Vec<(String, String, String)>,
    pub notice: Option<String>,
    pub error: Option<String>,
    pub fulfilment: super::fulfilment::Panel,
}

pub struct TimelineEntry {
    pub at: String,
    pub what: String,
    pub by: String,
    /// How identity was checked, for a verification.
    pub method: Option<String>,
    pub note: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct Flash {
    done: Option<String>,
    error: Option<String>,
    /// A standard reply to put in the message box (`[replies]` in the locale files).
    reply: Option<String>,
}

/// The standard replies, in the order offered.
const REPLIES: [(&str, &str); 3] = [
    ("received", "We are working on it"),
    ("customer_ref", "Ask for the customer number"),
    ("scope", "Ask which data"),
];

pub async fn show(
    state: State,
    staff: Staff,
    id: web::Path<String>,
    flash: web::Query<Flash>,
) -> Result<HttpResponse, AdminError> {
    let now = state.clock.now();
    let (row, events, messages, documents, trail, notes, users, (runs, export, live, build_live)) =
        state
            .db(move |conn, _| {
                let row = workflow::find(conn, &id)?;
                let events = rows::events_for(conn, &[row.id])?;
                let messages = portal_rows::messages_for(conn, row.id)?;
                let documents = portal_rows::documents_for(conn, row.id)?;
                let trail = audit::for_target(conn, "request", &row.uuid)?;
                let notes = crate::store::users::notes_for(conn, row.id)?;
                let users = crate::store::users::list(conn)?;
                let runs = crate::store::fulfilment::runs_for(conn, row.id)?;
                let export = crate::store::fulfilment::export_for(conn, row.id)?;
                let jobs: Vec<i64> = runs.iter().filter_map(|r| r.job_id).collect();
                let live = crate::store::jobs::live_among(conn, &jobs)?;
                let build_live = crate::store::jobs::live_key(conn, &format!("export:{}", row.id))?;
                Ok::<_, workflow::WorkflowError>((
                    row,
                    events,
                    messages,
                    documents,
                    trail,
                    notes,
                    users,
                    (runs, export, live, build_live),
                ))
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
    // The staff side reads English (issue 14 will translate it), times in the organisation's
    // zone, and people by name.
    let en = crate::i18n::Lang::En;
    let zone = state.law.time_zone;
    let stamp = |t: chrono::NaiveDateTime| crate::i18n::local_time(t.and_utc(), zone, en);
    let names = crate::staff::Names::new(&users);
    let method_words = |code: &str| crate::i18n::verification_method(code, en);
    let timeline = events
        .iter()
        .filter(|e| e.request_id == row.id)
        .map(|e| {
            let key = format!("events.{}", e.kind);
            let data: serde_json::Value = serde_json::from_str(&e.data).unwrap_or_default();
            TimelineEntry {
                at: stamp(e.at),
                what: if en.strings().has(&key) {
                    en.strings().t(&key).to_string()
                } else {
                    e.kind.to_string()
                },
                by: names.of(&e.actor),
                method: data["method"].as_str().map(method_words),
                note: e.note.clone(),
            }
        })
        .collect();
    let verified = row.verified_at.map(|at| {
        format!(
            "{}, {}",
            stamp(at),
            method_words(
                row.verified_method
                    .as_deref()
                    .unwrap_or(workflow::UNSTATED_METHOD)
            )
        )
    });
    let status = row.status.as_str();
    let open = status
        .parse::<crate::domain::status::Status>()
        .is_ok_and(|s| s.is_open());
    let lang = row.language;
    let due = crate::i18n::long_date(v.due_on, lang);
    let fill = |key: &str| {
        lang.strings().fill(
            key,
            &[
                ("name", &row.requester_name),
                ("reference", &workflow::reference(&row).to_string()),
                ("due", &due),
            ],
        )
    };
    // Nothing found anywhere: the letter says so, in place of "please find your data".
    let empty = export
        .as_ref()
        .is_some_and(|e| e.status == crate::domain::fulfilment::PackageStatus::Empty);
    // The letter that fits what the sources did, then what they did; the mail greets and
    // signs around it.
    let found = crate::fulfil::Found::of(&runs);
    let mut letter = fill(&crate::fulfil::letter_key(row.kind.as_str(), empty, &found));
    crate::fulfil::say_on_whose_behalf(&mut letter, &row, lang);
    letter.push_str(&crate::fulfil::answer_summary(&state, &runs, lang));
    let fulfilment = super::fulfilment::panel(
        &state,
        &row,
        &runs,
        &live,
        build_live,
        export.as_ref(),
        &names,
    );
    let reply_text = flash
        .reply
        .as_deref()
        .filter(|key| REPLIES.iter().any(|(k, _)| k == key))
        .map(|key| fill(&format!("replies.{key}")))
        .unwrap_or_default();
    // Those who may be given the request: active staff who act on requests.
    let team = users
        .iter()
        .filter(|u| crate::staff::can_be_assigned(u))
        .map(|u| {
            (
                u.id,
                crate::staff::display_name(u),
                row.assignee_id == Some(u.id),
            )
        })
        .collect();
    let pending_documents = documents
        .iter()
        .filter(|d| {
            d.decision.is_none() && d.storage_name.is_some() && staff_actions::is_proof(&d.purpose)
        })
        .map(|d| (d.id, d.purpose.clone(), stamp(d.uploaded_at)))
        .collect();
    Ok(staff.page(&RequestPage {
        can_act: staff.role.can_act(),
        timeline,
        can_verify: open && verified.is_none(),
        verified,
        verify_methods: Method::BY_HAND
            .iter()
            .map(|m| (m.as_str(), method_words(m.as_str())))
            .collect(),
        received: stamp(row.received_at),
        open,
        on_hold: status == "on_hold",
        action_url: format!("/admin/requests/{}/action", workflow::reference(&row)),
        send_url: format!("/admin/requests/{}/send", workflow::reference(&row)),
        pending_documents,
        team,
        grounds: RejectGround::ALL.iter().map(|g| g.as_str()).collect(),
        letter,
        replies: REPLIES.to_vec(),
        reply_text,
        notes: notes
            .into_iter()
            .map(|(who, at, body)| (who, stamp(at), body))
            .collect(),
        notice: flash.done.as_ref().map(|d| format!("Done: {d}.")),
        error: flash.error.clone(),
        fulfilment,
        nav: staff.nav(),
        csrf: staff.session.csrf.clone(),
        v,
        form,
        rolled,
        messages: messages
            .iter()
            .map(|m| (names.of(&m.author), stamp(m.created_at), m.body.clone()))
            .collect(),
        documents: documents
            .iter()
            .map(|d| {
                // Only a proof of identity waits for a decision; a file sent with a message
                // is part of the correspondence.
                let state = match (&d.decision, &d.storage_name) {
                    _ if d.purpose == "team_attachment" => "sent by the team".to_string(),
                    _ if d.purpose == "attachment" => "sent by the requester".to_string(),
                    (Some(decision), _) => format!(
                        "{decision} by {} on {}",
                        names.of(d.decided_by.as_deref().unwrap_or_default()),
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
            .map(|a| (stamp(a.at), names.of(&a.actor), a.action.clone()))
            .collect(),
        can_read_audit: staff.role.can_read_audit(),
    }))
}

#[derive(Debug, Deserialize)]
pub struct ActionForm {
    csrf: String,
    action: String,
    #[serde(default)]
    assignee: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    text: String,
    #[serde(default)]
    months: String,
    #[serde(default)]
    days: String,
    #[serde(default)]
    ground: String,
    #[serde(default)]
    document: String,
    #[serde(default)]
    decision: String,
    #[serde(default)]
    method: String,
}

fn parse_action(form: &ActionForm, staff: &Staff) -> Result<Action, String> {
    let text = form.text.trim().to_string();
    let need_text = |what: &str| {
        if text.is_empty() {
            Err(format!("Write the {what}."))
        } else {
            Ok(text.clone())
        }
    };
    Ok(match form.action.as_str() {
        "assign" => {
            let to = match form.assignee.as_str() {
                "" => None,
                "me" => Some(staff.user.id),
                other => Some(
                    other
                        .parse::<i64>()
                        .map_err(|_| "Choose someone in the list.".to_string())?,
                ),
            };
            if !staff.role.can_assign(staff.user.id, to) {
                return Err(
                    "A handler can take a request or give it back, not assign it to someone else."
                        .into(),
                );
            }
            Action::Assign(to)
        }
        "hold" => Action::Hold {
            reason: if form.reason == "identity" {
                HoldReason::Identity
            } else {
                HoldReason::Clarification
            },
            asked: need_text("what you need from the requester")?,
        },
        "resume" => Action::Resume,
        "verify" => Action::Verify {
            method: Method::by_hand(&form.method)
                .map_err(|_| "Choose how the identity was checked.".to_string())?,
            note: Some(text.clone()).filter(|t| !t.is_empty()),
        },
        "identity" => Action::Identity {
            document: form
                .document
                .parse()
                .map_err(|_| "No such document.".to_string())?,
            accepted: form.decision == "accept",
            reason: Some(text.clone()).filter(|t| !t.is_empty()),
        },
        "extend" => {
            let months = form.months.trim().parse::<u32>().unwrap_or(0);
            let days = form.days.trim().parse::<u32>().unwrap_or(0);
            if months == 0 && days == 0 {
                return Err("Give the extension in months or days.".into());
            }
            Action::Extend {
                by: Period { months, days },
                reason: need_text("reason for the extension (the requester is told)")?,
            }
        }
        "reject" => Action::Reject {
            ground: form
                .ground
                .parse::<RejectGround>()
                .map_err(|e| e.to_string())?,
            explanation: need_text("explanation")?,
        },
        "fulfil" => Action::Fulfil {
            letter: need_text("response letter")?,
            attachment: None,
        },
        "note" => Action::Note(need_text("note")?),
        "reply" => Action::Reply {
            text: need_text("message")?,
            attachment: None,
        },
        other => return Err(format!("Unknown action \"{other}\".")),
    })
}

/// Every action on the request page posts here.
pub async fn act(
    state: State,
    staff: Staff,
    id: web::Path<String>,
    form: web::Form<ActionForm>,
) -> Result<HttpResponse, AdminError> {
    if !staff.csrf_ok(&form.csrf) {
        return Err(AdminError::Forbidden);
    }
    let action = parse_action(&form, &staff);
    run(state, staff, id.into_inner(), action).await
}

/// The reply and the answer post here, as multipart: they may carry a file.
pub async fn send(
    state: State,
    staff: Staff,
    req: actix_web::HttpRequest,
    id: web::Path<String>,
    multipart: actix_multipart::Multipart,
) -> Result<HttpResponse, AdminError> {
    let max = state.settings.portal.max_upload_bytes;
    let too_large = || format!("The file is over the limit of {} MiB.", max / (1024 * 1024));
    // Refused on its headers, the body is never read.
    match upload::refuse_early(&req, state.settings.base_url(), max) {
        Some(Early::CrossSite) => return Err(AdminError::Forbidden),
        Some(Early::TooLarge) => return run(state, staff, id.into_inner(), Err(too_large())).await,
        None => {}
    }
    let submission = match upload::read(req.headers(), multipart, &state.files, max).await {
        Ok(s) => s,
        Err(UploadError::TooLarge) => {
            return run(state, staff, id.into_inner(), Err(too_large())).await;
        }
        Err(UploadError::Malformed(_)) => {
            return run(
                state,
                staff,
                id.into_inner(),
                Err("The form could not be read; send it again.".into()),
            )
            .await;
        }
        Err(UploadError::Io(e)) => {
            tracing::error!(error = %e, "cannot receive a staff upload");
            return Err(AdminError::Internal);
        }
    };
    if !staff.csrf_ok(submission.field("csrf")) {
        return Err(AdminError::Forbidden);
    }
    // The checked copy lives until the action is done with it.
    let mut clean = None;
    let attachment = match submission.file("attachment") {
        None => Ok(None),
        Some(file) => match upload::clean(file, &state.files).await {
            Ok(file) => {
                let attachment = Attachment {
                    path: file.path().to_path_buf(),
                    sniffed: file.kind,
                    name: file.file_name.clone(),
                };
                clean = Some(file);
                Ok(Some(attachment))
            }
            Err(Rejected::Refused(Refused::NotADocument)) => Err(
                "Attach a PDF, JPEG or PNG file (checked by its content, not its name)."
                    .to_string(),
            ),
            Err(Rejected::Refused(refused)) => {
                Err(upload::refusal_message(&refused, Lang::En.strings()))
            }
            Err(Rejected::Io(e)) => {
                tracing::error!(error = %e, "cannot check a staff upload");
                return Err(AdminError::Internal);
            }
        },
    };
    let text = submission.field("text").trim().to_string();
    let action = attachment.and_then(|attachment| {
        if text.is_empty() {
            return Err("Write the text before sending.".to_string());
        }
        match submission.field("action") {
            "fulfil" => Ok(Action::Fulfil {
                letter: text,
                attachment,
            }),
            "reply" => Ok(Action::Reply { text, attachment }),
            other => Err(format!("Unknown action \"{other}\".")),
        }
    });
    let done = run(state, staff, id.into_inner(), action).await;
    drop(clean);
    done
}

async fn run(
    state: State,
    staff: Staff,
    key: String,
    action: Result<Action, String>,
) -> Result<HttpResponse, AdminError> {
    staff.require(staff.role.can_act())?;
    let row = state.db(move |conn, _| workflow::find(conn, &key)).await?;
    if !staff.role.can_see(staff.user.id, row.assignee_id) {
        return Err(AdminError::NotFound);
    }
    let back = format!("/admin/requests/{}", workflow::reference(&row));
    let action = match action {
        Ok(a) => a,
        Err(message) => return Ok(redirect_with(&back, "error", &message)),
    };
    let (actor, now, name) = (staff.actor(), state.clock.now(), action.name());
    let done = state
        .db(move |conn, app| {
            Ok::<_, crate::web::error::Problem>(staff_actions::perform(
                conn, app, row.id, &action, &actor, now,
            ))
        })
        .await?;
    Ok(match done {
        Ok(_) => redirect_with(&back, "done", name),
        Err(e) if e.is_said() => redirect_with(&back, "error", &e.to_string()),
        Err(e) => {
            tracing::error!(error = %e, "staff action failed");
            return Err(AdminError::Internal);
        }
    })
}

/// Back to a page with `?done=` or `?error=`, which it shows as a notice.
pub(super) fn redirect_with(back: &str, key: &str, value: &str) -> HttpResponse {
    let encoded = crate::web::encode_component(value);
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, format!("{back}?{key}={encoded}")))
        .finish()
}

/// Shows an identity document to staff who may see the request; every view is audited. What
/// is sent is typed by its content, never by what was recorded at upload: an image inline (for
/// review beside the decision) in a sandbox where nothing in it can run, a PDF as a download
/// for the staff's own viewer, never rendered in the dashboard's origin.
pub async fn document(
    state: State,
    staff: Staff,
    id: web::Path<i64>,
) -> Result<HttpResponse, AdminError> {
    let id = id.into_inner();
    let (actor, now, me, role) = (staff.actor(), state.clock.now(), staff.user.id, staff.role);
    let found = state
        .db(move |conn, app| {
            let doc = match portal_rows::find_document(conn, id) {
                Err(diesel::result::Error::NotFound) => return Ok(None),
                found => found?,
            };
            let row = rows::get(conn, doc.request_id)?;
            if !role.can_see(me, row.assignee_id) {
                return Ok(None);
            }
            let Some(name) = doc.storage_name.clone() else {
                return Ok(None);
            };
            let mut file = app
                .files
                .open(&name)
                .map_err(|e| crate::web::error::internal(&e))?;
            let mut head = [0u8; 8];
            let got = std::io::Read::read(&mut file, &mut head)
                .map_err(|e| crate::web::error::internal(&e))?;
            std::io::Seek::rewind(&mut file).map_err(|e| crate::web::error::internal(&e))?;
            write_tx(conn, |conn| {
                audit::on_request(
                    conn,
                    &row.uuid,
                    &actor,
                    "document.view",
                    &serde_json::json!({ "document": doc.id }),
                    now.naive_utc(),
                )
            })?;
            Ok::<_, crate::web::error::Problem>(Some((Sniffed::detect(&head[..got]), doc.id, file)))
        })
        .await?;
    let (sniffed, doc_id, file) = found.ok_or(AdminError::NotFound)?;
    let (content_type, disposition) = match sniffed {
        Some(kind) if kind.is_image() => (kind.content_type(), "inline".to_string()),
        Some(kind) => (
            kind.content_type(),
            format!(
                "attachment; filename=\"document-{doc_id}.{}\"",
                kind.extension()
            ),
        ),
        // Stored before uploads were checked, and not a document: bytes to download, no more.
        None => (
            "application/octet-stream",
            format!("attachment; filename=\"document-{doc_id}.bin\""),
        ),
    };
    Ok(HttpResponse::Ok()
        .content_type(content_type)
        .insert_header((header::CONTENT_DISPOSITION, disposition))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::CONTENT_SECURITY_POLICY, DOCUMENT_CSP))
        .streaming(crate::web::stream_reader(file)))
}

/// What a document shown to staff may do: nothing (no script, no form, no plugin, no other
/// origin), but show an image from here.
pub const DOCUMENT_CSP: &str = "sandbox; default-src 'none'; img-src 'self'";
