//! The request page's fulfilment panel: each source's outcome with re-run, the teams' tasks,
//! and the package under review (its files, removal of an item with a reason, release).

use actix_web::http::header;
use actix_web::{HttpResponse, web};
use serde::Deserialize;

use super::{AdminError, Staff};
use crate::config::sources::{Connector, Operation};
use crate::documents::Refused;
use crate::domain::fulfilment::{PackageStatus, RunStatus};
use crate::domain::text::TextKind;
use crate::i18n::Lang;
use crate::store::fulfilment::{self as rows, ExportRow, RunRow};
use crate::store::requests::RequestRow;
use crate::web::State;
use crate::web::portal::upload::{self, Early, Rejected, UploadError};
use crate::workflow;
use crate::workflow::WorkflowError;

pub struct RunView {
    pub id: i64,
    pub source: String,
    pub kind: &'static str,
    pub operation: String,
    pub status: String,
    pub summary: String,
    pub error: Option<String>,
    pub can_rerun: bool,
    pub can_skip: bool,
    /// A team's search for data: it may attach what it found.
    pub manual_search: bool,
    pub task: Option<String>,
}

pub struct PackageView {
    pub status: String,
    pub records: i64,
    pub size: String,
    pub files: Vec<(String, String, String)>,
    /// (item id, label) that can be removed.
    pub items: Vec<(String, String)>,
    pub removed: Vec<(String, String, String)>,
    pub reviewing: bool,
    pub can_release: bool,
    pub can_rebuild: bool,
    pub released: Option<String>,
    pub error: Option<String>,
}

pub struct Panel {
    pub configured: bool,
    pub operation: &'static str,
    pub asks_changes: bool,
    pub runs: Vec<RunView>,
    pub package: Option<PackageView>,
    pub url: String,
}

/// What staff see of the sources for this request.
pub fn panel(
    state: &crate::state::AppState,
    row: &RequestRow,
    runs: &[RunRow],
    live_jobs: &[i64],
    build_live: bool,
    export: Option<&ExportRow>,
    names: &crate::staff::Names,
) -> Panel {
    let op = Operation::for_kind(row.kind);
    let reference = workflow::reference(row);
    Panel {
        configured: !state.sources.list.is_empty(),
        operation: op.as_str(),
        asks_changes: op == Operation::Rectify,
        runs: runs.iter().map(|r| run_view(state, r, live_jobs)).collect(),
        package: export.map(|e| package_view(state, runs, e, build_live, names)),
        url: format!("/admin/requests/{reference}"),
    }
}

fn run_view(state: &crate::state::AppState, r: &RunRow, live_jobs: &[i64]) -> RunView {
    let source = state.sources.find(&r.source);
    let outcome = r.outcome();
    let mut summary = Vec::new();
    if r.operation == Operation::Access && r.status == RunStatus::Done {
        summary.push(if outcome.records() == 0 {
            "nothing found".to_string()
        } else {
            outcome
                .tables
                .iter()
                .map(|(t, n)| format!("{t}: {n}"))
                .collect::<Vec<_>>()
                .join(", ")
        });
    }
    for c in &outcome.erased {
        summary.push(format!("{} {} row(s) {}", c.what, c.rows, c.how));
    }
    for k in &outcome.kept {
        summary.push(format!(
            "{} {} row(s) kept under {}{}",
            k.what,
            k.rows,
            if k.rule.is_empty() {
                &k.activity
            } else {
                &k.rule
            },
            k.until.map(|u| format!(" until {u}")).unwrap_or_default()
        ));
    }
    for c in &outcome.changed {
        summary.push(format!("{} {} row(s) changed ({})", c.what, c.rows, c.how));
    }
    for m in &outcome.manual {
        summary.push(format!("to do by hand: {m}"));
    }
    if let Some(note) = &outcome.team_note {
        summary.push(format!("team: {note}"));
    }
    if let Some(why) = &outcome.skipped {
        summary.push(format!("skipped: {why}"));
    }
    if let Some(note) = &outcome.note {
        summary.push(format!("service says: {note}"));
    }
    if let Some(recipient) = &r.recipient {
        summary.push(format!("recipient notified: {recipient}"));
    }
    if r.status == RunStatus::Done && summary.is_empty() {
        summary.push("nothing to do".into());
    }
    let manual = source.is_none_or(|s| matches!(s.connector, Connector::Manual(_)));
    // The run says a job has it, but the job is gone: staff take it up again.
    let orphaned = r.status.is_live() && r.job_id.is_none_or(|j| !live_jobs.contains(&j));
    let task = match (source.map(|s| &s.connector), r.status == RunStatus::Task) {
        (_, false) => None,
        (Some(Connector::Manual(m)), true) => Some(format!(
            "{}{}",
            m.team,
            if m.instructions.is_empty() {
                String::new()
            } else {
                format!(": {}", m.instructions)
            }
        )),
        (_, true) => Some(format!("the team: {}", outcome.manual.join("; "))),
    };
    RunView {
        id: r.id,
        source: source
            .map(|s| s.name.clone())
            .unwrap_or_else(|| r.source.clone()),
        kind: source.map(|s| s.kind()).unwrap_or("?"),
        operation: r.operation.to_string(),
        status: r.status.to_string(),
        summary: summary.join("; "),
        error: r.error.clone().filter(|e| !e.is_empty()),
        can_rerun: r.status.can_rerun(orphaned, manual),
        can_skip: r.status.can_skip(orphaned),
        manual_search: r.operation == Operation::Access
            && source.is_some_and(|s| matches!(s.connector, Connector::Manual(_))),
        task,
    }
}

fn package_view(
    state: &crate::state::AppState,
    runs: &[RunRow],
    e: &ExportRow,
    build_live: bool,
    names: &crate::staff::Names,
) -> PackageView {
    let local = |at: chrono::NaiveDateTime| {
        crate::i18n::local_time(at.and_utc(), state.law.time_zone, crate::i18n::Lang::En)
    };
    let files: Vec<crate::fulfil::package::ManifestFile> =
        serde_json::from_str(&e.manifest).unwrap_or_default();
    let removed: Vec<crate::fulfil::package::Removed> =
        serde_json::from_str(&e.removed).unwrap_or_default();
    let mut items = Vec::new();
    for r in runs
        .iter()
        .filter(|r| r.operation == Operation::Access && r.status == RunStatus::Done)
    {
        let outcome = r.outcome();
        if outcome.records() == 0 || removed.iter().any(|x| x.item == r.source) {
            continue;
        }
        items.push((r.source.clone(), format!("all of {}", r.source)));
        if outcome.file_name.is_none() {
            for (t, n) in &outcome.tables {
                let id = format!("{}:{t}", r.source);
                if !removed.iter().any(|x| x.item == id) {
                    items.push((id.clone(), format!("{id} ({n} records)")));
                }
            }
        }
    }
    PackageView {
        status: e.status.to_string(),
        records: e.records,
        size: e
            .size
            .map(|s| format!("{:.1} KiB", s as f64 / 1024.0))
            .unwrap_or_default(),
        files: files
            .into_iter()
            .map(|f| (f.name, f.size.to_string(), f.sha256))
            .collect(),
        items,
        removed: removed
            .into_iter()
            .map(|r| (r.item, r.reason, names.of(&r.by)))
            .collect(),
        reviewing: e.status == PackageStatus::Review,
        can_rebuild: e.status == PackageStatus::Failed
            || (e.status == PackageStatus::Building && !build_live),
        can_release: e.status == PackageStatus::Review
            || (e.status == PackageStatus::Empty && e.released_at.is_none()),
        released: e.released_at.map(|at| {
            format!(
                "released {} by {}; downloaded {} of {} times; until {}",
                local(at),
                names.of(e.released_by.as_deref().unwrap_or_default()),
                e.downloads,
                e.max_downloads,
                e.expires_at.map(local).unwrap_or_default()
            )
        }),
        error: e.error.clone(),
    }
}

#[derive(Debug, Deserialize)]
pub struct SourcesForm {
    csrf: String,
    action: String,
    #[serde(default)]
    run: String,
    #[serde(default)]
    changes: String,
    #[serde(default)]
    item: String,
    #[serde(default)]
    reason: String,
}

fn back(key: &str, done: Result<&str, String>) -> HttpResponse {
    let page = format!("/admin/requests/{key}");
    match done {
        Ok(d) => super::request::redirect_with(&page, "done", d),
        Err(e) => super::request::redirect_with(&page, "error", &e),
    }
}

async fn request_for(state: &State, staff: &Staff, key: String) -> Result<RequestRow, AdminError> {
    staff.require(staff.role.can_act())?;
    let row = state.db(move |conn, _| workflow::find(conn, &key)).await?;
    if !staff.role.can_see(staff.user.id, row.assignee_id) {
        return Err(AdminError::NotFound);
    }
    Ok(row)
}

fn said(
    result: Result<&'static str, WorkflowError>,
) -> Result<Result<&'static str, String>, AdminError> {
    match result {
        Ok(d) => Ok(Ok(d)),
        Err(e) if e.is_said() => Ok(Err(e.to_string())),
        Err(e) => {
            tracing::error!(error = %e, "fulfilment action failed");
            Err(AdminError::Internal)
        }
    }
}

/// Dispatch, re-run, remove an item, release.
pub async fn act(
    state: State,
    staff: Staff,
    id: web::Path<String>,
    form: web::Form<SourcesForm>,
) -> Result<HttpResponse, AdminError> {
    if !staff.csrf_ok(&form.csrf) {
        return Err(AdminError::Forbidden);
    }
    let row = request_for(&state, &staff, id.into_inner()).await?;
    let key = workflow::reference(&row).to_string();
    let (actor, now) = (staff.actor(), state.clock.now());
    let form = form.into_inner();
    let typed = [
        ("changes", form.changes.as_str(), TextKind::Long),
        ("reason", form.reason.as_str(), TextKind::Long),
        ("item", form.item.as_str(), TextKind::Line),
    ];
    for (field, value, kind) in typed {
        if let Err(fault) = crate::domain::text::check(value, kind) {
            return Ok(back(&key, Err(format!("The {field} {fault}."))));
        }
    }
    let result = state
        .db(move |conn, app| {
            let done = match form.action.as_str() {
                "dispatch" => match crate::fulfil::parse_changes(&form.changes) {
                    Ok(changes) => crate::fulfil::dispatch(conn, app, &row, &changes, &actor, now)
                        .map(|_| "sent to the sources"),
                    Err(e) => return Ok(Ok(Err(e))),
                },
                "rerun" => match form.run.parse() {
                    Ok(run) => crate::fulfil::rerun(conn, app, &row, run, &actor, now)
                        .map(|_| "queued again"),
                    Err(_) => Err(WorkflowError::Refused("No such source run.")),
                },
                "restore" => {
                    crate::fulfil::withhold(conn, &row, form.item.trim(), None, &actor, now)
                        .map(|_| "item put back; the package is being rebuilt")
                }
                "skip" => match form.run.parse() {
                    Ok(run) if !form.reason.trim().is_empty() => {
                        crate::fulfil::skip(conn, &row, run, form.reason.trim(), &actor, now)
                            .map(|_| "source skipped")
                    }
                    Ok(_) => {
                        return Ok(Ok(Err(
                            "Say why the answer goes without this source (the requester reads it)."
                                .to_string(),
                        )));
                    }
                    Err(_) => Err(WorkflowError::Refused("No such source run.")),
                },
                "remove" => {
                    if form.reason.trim().is_empty() {
                        return Ok(Ok(Err(
                            "Give the reason for withholding the item (the requester reads it)."
                                .to_string(),
                        )));
                    }
                    crate::fulfil::withhold(
                        conn,
                        &row,
                        form.item.trim(),
                        Some(form.reason.trim()),
                        &actor,
                        now,
                    )
                    .map(|_| "item removed; the package is being rebuilt")
                }
                "rebuild" => crate::fulfil::rebuild(conn, &row, &actor, now)
                    .map(|_| "the package is being built again"),
                "release" => {
                    crate::fulfil::release(conn, app, &row, &actor, now).map(|_| "package released")
                }
                _ => Err(WorkflowError::Refused("Unknown action.")),
            };
            Ok::<_, crate::web::error::Problem>(said(done))
        })
        .await??;
    Ok(back(&key, result))
}

/// A team's answer to its task, with the file it found (multipart).
pub async fn task(
    state: State,
    staff: Staff,
    req: actix_web::HttpRequest,
    path: web::Path<(String, i64)>,
    multipart: actix_multipart::Multipart,
) -> Result<HttpResponse, AdminError> {
    staff.require(staff.role.can_act())?;
    let (key, run) = path.into_inner();
    let max = state.settings.portal.max_upload_bytes;
    let too_large = || format!("The file is over the limit of {} MiB.", max / (1024 * 1024));
    // Refused on its headers, the body is never read.
    match upload::refuse_early(&req, state.settings.base_url(), max) {
        Some(Early::CrossSite) => return Err(AdminError::Forbidden),
        Some(Early::TooLarge) => return Ok(back(&key, Err(too_large()))),
        None => {}
    }
    let submission = match upload::read(req.headers(), multipart, &state.files, max).await {
        Ok(s) => s,
        Err(UploadError::TooLarge) => return Ok(back(&key, Err(too_large()))),
        Err(UploadError::Malformed(_)) => {
            return Ok(back(
                &key,
                Err("The form could not be read; send it again.".into()),
            ));
        }
        Err(UploadError::Io(e)) => {
            tracing::error!(error = %e, "cannot receive a task's file");
            return Err(AdminError::Internal);
        }
    };
    if !staff.csrf_ok(submission.field("csrf")) {
        return Err(AdminError::Forbidden);
    }
    let row = request_for(&state, &staff, key).await?;
    let key = workflow::reference(&row).to_string();
    let found = submission.field("outcome") == "found";
    let comment = submission.field("comment").trim().to_string();
    if let Err(fault) = crate::domain::text::check(&comment, TextKind::Long) {
        return Ok(back(&key, Err(format!("The comment {fault}."))));
    }
    let file = submission.file("file");
    if found && file.is_none() {
        return Ok(back(
            &key,
            Err("Attach what was found, or mark the task as nothing found.".into()),
        ));
    }
    if !found && comment.is_empty() {
        return Ok(back(
            &key,
            Err("Say where the team looked (the comment is kept as proof).".into()),
        ));
    }
    // A scan (PDF, JPEG, PNG: checked and rewritten as every upload) or a text export (CSV,
    // JSON, TXT: valid UTF-8, no control bytes), which portability needs machine-readable.
    let refused = || "Attach a PDF, JPEG or PNG scan, or a CSV, JSON or text export.".to_string();
    let mut clean = None;
    let mut staged: Option<(std::path::PathBuf, String)> = None;
    if let Some(file) = file.filter(|_| found) {
        let text_name = [".csv", ".json", ".txt"]
            .iter()
            .any(|ext| file.file_name.to_ascii_lowercase().ends_with(ext));
        if text_name {
            let path = file.path().to_path_buf();
            let plain = web::block(move || {
                crate::documents::is_plain_text(std::io::BufReader::new(std::fs::File::open(path)?))
            })
            .await
            .map_err(|_| AdminError::Internal)?
            .map_err(|e| {
                tracing::error!(error = %e, "cannot read a task's file");
                AdminError::Internal
            })?;
            if !plain {
                return Ok(back(&key, Err(refused())));
            }
            staged = Some((file.path().to_path_buf(), file.file_name.clone()));
        } else {
            match upload::clean(file, &state.files).await {
                Ok(checked) => {
                    staged = Some((checked.path().to_path_buf(), checked.file_name.clone()));
                    clean = Some(checked);
                }
                Err(Rejected::Refused(Refused::NotADocument)) => {
                    return Ok(back(&key, Err(refused())));
                }
                Err(Rejected::Refused(other)) => {
                    let said = upload::refusal_message(&other, Lang::En.strings());
                    return Ok(back(&key, Err(said)));
                }
                Err(Rejected::Io(e)) => {
                    tracing::error!(error = %e, "cannot check a task's file");
                    return Err(AdminError::Internal);
                }
            }
        }
    }
    let (actor, now) = (staff.actor(), state.clock.now());
    let result = state
        .db(move |conn, app| {
            let found = staged
                .as_ref()
                .map(|(path, name)| (path.as_path(), name.as_str()));
            Ok::<_, crate::web::error::Problem>(said(
                crate::fulfil::complete_task(conn, app, &row, run, found, &comment, &actor, now)
                    .map(|_| "task done"),
            ))
        })
        .await??;
    // The checked copy lives until the task has its own.
    drop(clean);
    Ok(back(&key, result))
}

/// The package as the requester will get it, for review; each look is audited.
pub async fn package(
    state: State,
    staff: Staff,
    id: web::Path<String>,
) -> Result<HttpResponse, AdminError> {
    let row = request_for(&state, &staff, id.into_inner()).await?;
    let (actor, now) = (staff.actor(), state.clock.now_naive());
    let reference = workflow::reference(&row).to_string();
    let reader = state
        .db(move |conn, app| {
            let Some(name) = rows::export_for(conn, row.id)?.and_then(|e| e.storage_name) else {
                return Ok(None);
            };
            crate::store::write_tx(conn, |conn| {
                crate::store::audit::on_request(
                    conn,
                    &row.uuid,
                    &actor,
                    "export.review_download",
                    &serde_json::json!({}),
                    now,
                )
            })?;
            let reader = crate::fulfil::open_sealed(app, &name)
                .map_err(|e| crate::web::error::internal(&e))?;
            Ok::<_, crate::web::error::Problem>(Some(reader))
        })
        .await?
        .ok_or(AdminError::NotFound)?;
    Ok(HttpResponse::Ok()
        .content_type("application/zip")
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{reference}-review.zip\""),
        ))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .streaming(crate::web::stream_reader(reader)))
}
