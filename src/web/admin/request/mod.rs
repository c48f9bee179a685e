//! One request as the team works on it: the page ([`page`]), every action on it (one
//! transaction each, in the workflow), and what a refusal says ([`words`]). A refused action
//! brings the page back with what was typed and the reason; a done one lands on the page with
//! a notice.

mod page;
pub mod words;

use actix_web::http::header;
use actix_web::{HttpResponse, web};
use serde::Deserialize;

use super::{AdminError, Staff};
use crate::documents::Refused;
use crate::domain::deadline::Period;
use crate::domain::kind::RejectGround;
use crate::domain::lifecycle::HoldReason;
use crate::domain::verification::Method;
use crate::store::audit;
use crate::store::files::Sniffed;
use crate::store::portal as portal_rows;
use crate::store::requests as rows;
use crate::store::write_tx;
use crate::web::State;
use crate::web::portal::upload::{self, Early, Rejected, UploadError};
use crate::workflow;
use crate::workflow::staff_actions::{self, Action, Attachment};

pub use page::{Flash, Kept, actor_name, asked_lines};
use words::Said;

pub async fn show(
    state: State,
    staff: Staff,
    id: web::Path<String>,
    flash: web::Query<Flash>,
) -> Result<HttpResponse, AdminError> {
    page::render(
        &state,
        &staff,
        id.into_inner(),
        &flash,
        Kept::default(),
        None,
    )
    .await
}

/// The page again, with what was typed and why it was refused, in the staff's words.
pub async fn refused(
    state: &State,
    staff: &Staff,
    key: String,
    kept: Kept,
    said: Said,
) -> Result<HttpResponse, AdminError> {
    page::render(state, staff, key, &Flash::default(), kept, Some(said)).await
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

impl ActionForm {
    fn kept(&self) -> Kept {
        Kept {
            action: self.action.clone(),
            text: self.text.clone(),
            assignee: self.assignee.clone(),
            reason: self.reason.clone(),
            months: self.months.clone(),
            days: self.days.clone(),
            ground: self.ground.clone(),
            document: self.document.clone(),
            method: self.method.clone(),
            ..Kept::default()
        }
    }
}

fn parse_action(form: &ActionForm, staff: &Staff) -> Result<Action, Said> {
    let t = staff.lang().strings();
    let said = |key: &str, field: &str| Said::new(t, key, Some(field));
    let text = form.text.trim().to_string();
    let need_text = |key: &str, field: &str| {
        if text.is_empty() {
            Err(Said::new(t, &format!("write.{key}"), Some(field)))
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
                        .map_err(|_| said("assign_inactive", "assignee"))?,
                ),
            };
            if !staff.role.can_assign(staff.user.id, to) {
                return Err(said("assign_handler", "assignee"));
            }
            Action::Assign(to)
        }
        "hold" => Action::Hold {
            reason: if form.reason == "identity" {
                HoldReason::Identity
            } else {
                HoldReason::Clarification
            },
            asked: need_text("hold", "hold-text")?,
        },
        "resume" => Action::Resume,
        "verify" => Action::Verify {
            method: Method::by_hand(&form.method)
                .map_err(|_| said("verify_method", "verify-method"))?,
            note: Some(text.clone()).filter(|t| !t.is_empty()),
        },
        "identity" => {
            let accepted = form.decision == "accept";
            let reason = Some(text.clone()).filter(|t| !t.is_empty());
            if !accepted && reason.is_none() {
                let field = format!("identity-note-{}", form.document);
                return Err(Said::new(t, "write.identity", Some(&field)));
            }
            Action::Identity {
                document: form
                    .document
                    .parse()
                    .map_err(|_| Said::new(t, "document_gone", None))?,
                accepted,
                reason,
            }
        }
        "extend" => {
            let number = |s: &str| s.trim().parse::<u32>();
            let (months, days) = match (number(&form.months), number(&form.days)) {
                (Ok(m), Ok(d)) => (m, d),
                (Ok(m), Err(_)) if form.days.trim().is_empty() => (m, 0),
                (Err(_), Ok(d)) if form.months.trim().is_empty() => (0, d),
                _ => return Err(said("extension_number", "ext-months")),
            };
            if months == 0 && days == 0 {
                return Err(said("extension_empty", "ext-months"));
            }
            Action::Extend {
                by: Period { months, days },
                reason: need_text("extend", "ext-text")?,
            }
        }
        "reject" => Action::Reject {
            ground: form
                .ground
                .parse::<RejectGround>()
                .map_err(|_| said("ground", "ground-0"))?,
            explanation: need_text("reject", "reject-text")?,
        },
        "fulfil" => Action::Fulfil {
            letter: need_text("fulfil", "letter")?,
            attachment: None,
        },
        "note" => Action::Note(need_text("note", "note")?),
        "reply" => Action::Reply {
            text: need_text("reply", "reply")?,
            attachment: None,
        },
        _ => return Err(Said::new(t, "other", None)),
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
    run(state, staff, id.into_inner(), form.kept(), action).await
}

/// The reply and the answer post here, as multipart: they may carry a file.
pub async fn send(
    state: State,
    staff: Staff,
    req: actix_web::HttpRequest,
    id: web::Path<String>,
    multipart: actix_multipart::Multipart,
) -> Result<HttpResponse, AdminError> {
    let t = staff.lang().strings();
    let max = state.settings.portal.max_upload_bytes;
    let too_large = |field: &str| {
        Said::filled(
            t,
            "file_too_large",
            &[("max", &format!("{}", max / (1024 * 1024)))],
            Some(field),
        )
    };
    let key = id.into_inner();
    // Refused on its headers, the body is never read (nor what was typed, which is lost).
    match upload::refuse_early(&req, state.settings.base_url(), max) {
        Some(Early::CrossSite) => return Err(AdminError::Forbidden),
        Some(Early::TooLarge) => {
            return run(state, staff, key, Kept::default(), Err(too_large("letter"))).await;
        }
        None => {}
    }
    let submission = match upload::read(req.headers(), multipart, &state.files, max).await {
        Ok(s) => s,
        Err(UploadError::TooLarge) => {
            return run(state, staff, key, Kept::default(), Err(too_large("letter"))).await;
        }
        Err(UploadError::Malformed(_)) => {
            let said = Said::new(t, "unreadable", None);
            return run(state, staff, key, Kept::default(), Err(said)).await;
        }
        Err(UploadError::Io(e)) => {
            tracing::error!(error = %e, "cannot receive a staff upload");
            return Err(AdminError::Internal);
        }
    };
    if !staff.csrf_ok(submission.field("csrf")) {
        return Err(AdminError::Forbidden);
    }
    let which = submission.field("action").to_string();
    let kept = Kept {
        action: which.clone(),
        text: submission.field("text").to_string(),
        ..Kept::default()
    };
    let file_field = if which == "reply" {
        "reply-file"
    } else {
        "fulfil-file"
    };
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
            Err(Rejected::Refused(Refused::NotADocument)) => {
                Err(Said::new(t, "not_a_document", Some(file_field)))
            }
            Err(Rejected::Refused(refused)) => Err(Said {
                message: upload::refusal_message(&refused, t),
                field: Some(file_field.to_string()),
            }),
            Err(Rejected::Io(e)) => {
                tracing::error!(error = %e, "cannot check a staff upload");
                return Err(AdminError::Internal);
            }
        },
    };
    let text = submission.field("text").trim().to_string();
    let action = attachment.and_then(|attachment| match which.as_str() {
        "fulfil" if text.is_empty() => Err(Said::new(t, "write.fulfil", Some("letter"))),
        "reply" if text.is_empty() => Err(Said::new(t, "write.reply", Some("reply"))),
        "fulfil" => Ok(Action::Fulfil {
            letter: text,
            attachment,
        }),
        "reply" => Ok(Action::Reply { text, attachment }),
        _ => Err(Said::new(t, "other", None)),
    });
    let done = run(state, staff, key, kept, action).await;
    drop(clean);
    done
}

async fn run(
    state: State,
    staff: Staff,
    key: String,
    kept: Kept,
    action: Result<Action, Said>,
) -> Result<HttpResponse, AdminError> {
    staff.require(staff.role.can_act())?;
    let row = state.db(move |conn, _| workflow::find(conn, &key)).await?;
    if !staff.role.can_see(staff.user.id, row.assignee_id) {
        return Err(AdminError::NotFound);
    }
    let reference = workflow::reference(&row).to_string();
    let back = format!("/admin/requests/{reference}");
    let action = match action {
        Ok(a) => a,
        Err(said) => return refused(&state, &staff, reference, kept, said).await,
    };
    let (actor, now, name) = (staff.actor(), state.clock.now(), action.name());
    let done = state
        .db(move |conn, app| {
            Ok::<_, crate::web::error::Problem>(staff_actions::perform(
                conn, app, row.id, &action, &actor, now,
            ))
        })
        .await?;
    match done {
        Ok(_) => Ok(redirect_with(&back, "done", name)),
        Err(e) if e.is_said() => {
            let said = words::refusal(&e, &kept.action, staff.lang());
            refused(&state, &staff, reference, kept, said).await
        }
        Err(e) => {
            tracing::error!(error = %e, "staff action failed");
            Err(AdminError::Internal)
        }
    }
}

/// To a page, after an action that needs no notice.
pub(super) fn redirect(to: &str) -> HttpResponse {
    super::see_other(to)
}

/// Back to a page with `?done=` or `?error=`, which it shows as a notice.
pub(super) fn redirect_with(back: &str, key: &str, value: &str) -> HttpResponse {
    let encoded = crate::web::encode_component(value);
    super::see_other(&format!("{back}?{key}={encoded}"))
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
            let mut head = Vec::with_capacity(8);
            std::io::Read::read_to_end(&mut std::io::Read::take(&mut file, 8), &mut head)
                .map_err(|e| crate::web::error::internal(&e))?;
            // The store's reader goes forward only: what was sniffed is sent first.
            let sniffed = Sniffed::detect(&head);
            let file = std::io::Read::chain(std::io::Cursor::new(head), file);
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
            Ok::<_, crate::web::error::Problem>(Some((sniffed, doc.id, file)))
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
