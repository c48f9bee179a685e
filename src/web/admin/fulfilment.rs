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

use super::request::Kept;
use super::request::words::Said;

pub struct RunView {
    pub id: i64,
    pub source: String,
    /// "base de données", "service interne", "équipe".
    pub kind: String,
    pub operation: String,
    pub status: String,
    /// `done`, `failed`, `task`, `running`: the tag's colour (the words say it too).
    pub status_class: &'static str,
    /// What the source did, one line each.
    pub summary: Vec<String>,
    pub error: Option<String>,
    pub can_rerun: bool,
    pub can_skip: bool,
    /// A team's search for data: it may attach what it found.
    pub manual_search: bool,
    pub task: Option<String>,
}

pub struct PackageView {
    pub status: String,
    pub empty: bool,
    /// "12 enregistrements, 3,4 Kio chiffrés".
    pub contents: String,
    /// (name, size in words, SHA-256).
    pub files: Vec<(String, String, String)>,
    /// (item id, label) that can be removed.
    pub items: Vec<(String, String)>,
    /// (item id, sentence).
    pub removed: Vec<(String, String)>,
    pub reviewing: bool,
    pub can_release: bool,
    pub can_rebuild: bool,
    pub released: Option<String>,
    pub error: Option<String>,
}

pub struct Panel {
    pub configured: bool,
    /// "Rechercher et exporter les données", in words.
    pub operation: String,
    pub asks_changes: bool,
    pub runs: Vec<RunView>,
    pub package: Option<PackageView>,
    pub url: String,
}

/// What staff see of the sources for this request, in their language.
#[allow(clippy::too_many_arguments)]
pub fn panel(
    state: &crate::state::AppState,
    row: &RequestRow,
    runs: &[RunRow],
    live_jobs: &[i64],
    build_live: bool,
    export: Option<&ExportRow>,
    names: &crate::staff::Names,
    lang: Lang,
) -> Panel {
    let t = lang.strings();
    let op = crate::fulfil::operation(row);
    let reference = workflow::reference(row);
    Panel {
        configured: !state.sources.list.is_empty(),
        operation: match op {
            Some(op) => t.t(&format!("request.operation.{}", op.as_str())),
            None => t.t("directives.no_dispatch"),
        }
        .to_string(),
        asks_changes: op == Some(Operation::Rectify),
        runs: runs
            .iter()
            .map(|r| run_view(state, r, live_jobs, lang))
            .collect(),
        package: export.map(|e| package_view(state, runs, e, build_live, names, lang)),
        url: format!("/admin/requests/{reference}"),
    }
}

/// One thing a source left to the team, in the team's words: a table as the register names
/// it; a service's own words as they came.
pub fn by_hand_words(
    state: &crate::state::AppState,
    t: &crate::i18n::Strings,
    source: &str,
    entry: &str,
    lang: Lang,
) -> String {
    use crate::domain::outcome::{ByHand, read_by_hand};
    let Some((why, about)) = read_by_hand(entry) else {
        return entry.to_string();
    };
    let about = match why {
        ByHand::SearchNoEmail
        | ByHand::SearchNoRef
        | ByHand::Restrict
        | ByHand::Object
        | ByHand::Lift
        | ByHand::KeysMissing => crate::fulfil::table_words(state, source, about, lang),
        ByHand::Gone => state
            .sources
            .find(about)
            .map(|s| s.name.clone())
            .unwrap_or_else(|| about.to_string()),
        _ => about.to_string(),
    };
    t.fill(
        &format!("request.by_hand.{}", why.as_str()),
        &[("about", &about)],
    )
}

fn run_view(state: &crate::state::AppState, r: &RunRow, live_jobs: &[i64], lang: Lang) -> RunView {
    let t = lang.strings();
    let source = state.sources.find(&r.source);
    let outcome = r.outcome();
    let rows = |n: u64| t.count("request.source.rows", i64::try_from(n).unwrap_or(i64::MAX));
    let words = |table: &str| crate::fulfil::table_words(state, &r.source, table, lang);
    let mut summary = Vec::new();
    if r.operation == Operation::Access && r.status == RunStatus::Done {
        if outcome.records() == 0 {
            summary.push(t.t("request.source.nothing_found").to_string());
        } else {
            for (table, n) in &outcome.tables {
                summary.push(t.fill(
                    "request.source.found",
                    &[("table", &words(table)), ("rows", &rows(*n))],
                ));
            }
        }
    }
    for c in &outcome.erased {
        // A table anonymised says which columns ("anonymised (email, phone)"): the columns
        // are the database's names, the fact is what staff read.
        let key = match c.how.as_str() {
            "deleted" => "request.source.deleted",
            how if how.starts_with("anonymised") => "request.source.anonymised",
            _ => "request.source.erased",
        };
        summary.push(t.fill(
            key,
            &[
                ("what", &words(&c.what)),
                ("rows", &rows(c.rows)),
                ("how", &c.how),
            ],
        ));
    }
    for k in &outcome.kept {
        let rule = kept_under(state, k, lang);
        let rule = &rule;
        let until = k
            .until
            .map(|u| crate::i18n::long_date(u, lang))
            .unwrap_or_default();
        summary.push(t.fill(
            if k.until.is_some() {
                "request.source.kept_until"
            } else {
                "request.source.kept"
            },
            &[
                ("what", &words(&k.what)),
                ("rows", &rows(k.rows)),
                ("rule", rule),
                ("until", &until),
            ],
        ));
    }
    for c in &outcome.changed {
        summary.push(t.fill(
            "request.source.changed",
            &[
                ("what", &words(&c.what)),
                ("rows", &rows(c.rows)),
                ("fields", &c.how),
            ],
        ));
    }
    for m in &outcome.manual {
        summary.push(t.fill(
            "request.source.by_hand",
            &[("what", &by_hand_words(state, t, &r.source, m, lang))],
        ));
    }
    if let Some(note) = &outcome.team_note {
        summary.push(t.fill("request.source.team_note", &[("note", note)]));
    }
    if let Some(why) = &outcome.skipped {
        summary.push(t.fill("request.source.skipped", &[("why", why)]));
    }
    if let Some(note) = &outcome.note {
        summary.push(t.fill("request.source.service_note", &[("note", note)]));
    }
    if let Some(recipient) = &r.recipient {
        summary.push(t.fill("request.source.recipient", &[("recipient", recipient)]));
    }
    if r.status == RunStatus::Done && summary.is_empty() {
        summary.push(t.t("request.source.nothing_to_do").to_string());
    }
    let manual = source.is_none_or(|s| matches!(s.connector, Connector::Manual(_)));
    // The run says a job has it, but the job is gone: staff take it up again.
    let orphaned = r.status.is_live() && r.job_id.is_none_or(|j| !live_jobs.contains(&j));
    let task = match (source.map(|s| &s.connector), r.status == RunStatus::Task) {
        (_, false) => None,
        (Some(Connector::Manual(m)), true) => Some(if m.instructions.is_empty() {
            t.fill("request.source.task_for", &[("team", &m.team)])
        } else {
            t.fill(
                "request.source.task_for_with",
                &[("team", &m.team), ("instructions", &m.instructions)],
            )
        }),
        (_, true) => Some(
            t.fill(
                "request.source.task_by_hand",
                &[(
                    "what",
                    &outcome
                        .manual
                        .iter()
                        .map(|m| by_hand_words(state, t, &r.source, m, lang))
                        .collect::<Vec<_>>()
                        .join(" ; "),
                )],
            ),
        ),
    };
    let status_class = match r.status {
        RunStatus::Done => "done",
        RunStatus::Failed => "failed",
        RunStatus::Task => "task",
        _ if orphaned => "failed",
        _ => "running",
    };
    RunView {
        id: r.id,
        source: source
            .map(|s| s.name.clone())
            .unwrap_or_else(|| r.source.clone()),
        kind: t
            .t(&format!(
                "request.source.kind.{}",
                source.map(|s| s.kind()).unwrap_or("manual")
            ))
            .to_string(),
        operation: t
            .t(&format!("request.operation.{}", r.operation.as_str()))
            .to_string(),
        status: if orphaned {
            t.t("request.run.orphaned").to_string()
        } else {
            t.t(&format!("request.run.{}", r.status.as_str()))
                .to_string()
        },
        status_class,
        summary,
        error: r
            .error
            .clone()
            .filter(|e| !e.is_empty())
            .map(|e| t.fill("request.source.error", &[("error", &e)])),
        can_rerun: r.status.can_rerun(orphaned, manual),
        can_skip: r.status.can_skip(orphaned),
        manual_search: r.operation == Operation::Access
            && source.is_some_and(|s| matches!(s.connector, Connector::Manual(_))),
        task,
    }
}

/// The rule a source kept data under, in the staff's words, as the answer letter states it:
/// the law the register names for that activity, else its criterion in this language (a
/// source records the English one), else what the source said; never the activity's id.
fn kept_under(
    state: &crate::state::AppState,
    k: &crate::domain::outcome::Kept,
    lang: Lang,
) -> String {
    rule_words(state, &k.activity, &k.rule, lang)
}

/// The rule rows are kept under, as a reader says it: the law the register names for the
/// activity, else its criterion in the reader's language, else what the source said.
pub(crate) fn rule_words(
    state: &crate::state::AppState,
    activity: &str,
    rule: &str,
    lang: Lang,
) -> String {
    let found = state
        .register
        .as_ref()
        .and_then(|r| r.activities.iter().find(|a| a.id == activity));
    match found {
        Some(a) => a.retention.legal_reference.clone().unwrap_or_else(|| {
            let (name, criterion) = match lang {
                Lang::Fr => (&a.name.fr, a.retention.criterion.as_ref().map(|c| &c.fr)),
                Lang::En => (&a.name.en, a.retention.criterion.as_ref().map(|c| &c.en)),
            };
            criterion.unwrap_or(name).clone()
        }),
        None if !rule.trim().is_empty() => rule.to_string(),
        None => activity.replace('_', " "),
    }
}

/// "3,4 Kio" / "3.4 KiB".
fn size_words(bytes: i64, lang: Lang) -> String {
    let kib = bytes as f64 / 1024.0;
    let (number, unit) = if kib >= 1024.0 {
        (format!("{:.1}", kib / 1024.0), "request.package.mib")
    } else {
        (format!("{kib:.1}"), "request.package.kib")
    };
    let number = match lang {
        Lang::Fr => number.replace('.', ","),
        Lang::En => number,
    };
    lang.strings().fill(unit, &[("n", &number)])
}

fn package_view(
    state: &crate::state::AppState,
    runs: &[RunRow],
    e: &ExportRow,
    build_live: bool,
    names: &crate::staff::Names,
    lang: Lang,
) -> PackageView {
    let t = lang.strings();
    let local = |at: chrono::NaiveDateTime| {
        crate::i18n::local_time(at.and_utc(), state.law.time_zone, lang)
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
        let name = state
            .sources
            .find(&r.source)
            .map(|s| s.name.clone())
            .unwrap_or_else(|| r.source.clone());
        items.push((
            r.source.clone(),
            t.fill("request.package.all_of", &[("source", &name)]),
        ));
        if outcome.file_name.is_none() {
            for (table, n) in &outcome.tables {
                let id = format!("{}:{table}", r.source);
                if !removed.iter().any(|x| x.item == id) {
                    items.push((
                        id,
                        t.fill(
                            "request.package.table",
                            &[
                                ("source", &name),
                                (
                                    "table",
                                    &crate::fulfil::table_words(state, &r.source, table, lang),
                                ),
                                ("rows", &t.count("request.source.rows", *n as i64)),
                            ],
                        ),
                    ));
                }
            }
        }
    }
    PackageView {
        status: t
            .t(&format!("request.package.status.{}", e.status.as_str()))
            .to_string(),
        empty: e.status == PackageStatus::Empty,
        contents: e
            .size
            .map(|s| {
                t.fill(
                    "request.package.contents",
                    &[
                        ("records", &t.count("request.source.rows", e.records)),
                        ("size", &size_words(s, lang)),
                    ],
                )
            })
            .unwrap_or_default(),
        files: files
            .into_iter()
            .map(|f| {
                let size = size_words(i64::try_from(f.size).unwrap_or(i64::MAX), lang);
                (f.name, size, f.sha256)
            })
            .collect(),
        items,
        removed: removed
            .into_iter()
            .map(|r| {
                let sentence = t.fill(
                    "request.package.withheld_item",
                    &[
                        ("item", &r.item),
                        ("reason", &r.reason),
                        ("who", &names.of(&r.by)),
                    ],
                );
                (r.item, sentence)
            })
            .collect(),
        reviewing: e.status == PackageStatus::Review,
        can_rebuild: e.status == PackageStatus::Failed
            || (e.status == PackageStatus::Building && !build_live),
        can_release: e.status == PackageStatus::Review
            || (e.status == PackageStatus::Empty && e.released_at.is_none()),
        released: e.released_at.map(|at| {
            t.fill(
                "request.package.released",
                &[
                    ("date", &local(at)),
                    (
                        "who",
                        &names.of(e.released_by.as_deref().unwrap_or_default()),
                    ),
                    ("downloads", &e.downloads.to_string()),
                    ("max", &e.max_downloads.to_string()),
                    ("until", &e.expires_at.map(local).unwrap_or_default()),
                ],
            )
        }),
        error: e
            .error
            .clone()
            .map(|err| t.fill("request.source.error", &[("error", &err)])),
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

fn done(key: &str, what: &str) -> HttpResponse {
    super::request::redirect_with(&format!("/admin/requests/{key}"), "done", what)
}

async fn request_for(state: &State, staff: &Staff, key: String) -> Result<RequestRow, AdminError> {
    staff.require(staff.role.can_act())?;
    let row = state.db(move |conn, _| workflow::find(conn, &key)).await?;
    if !staff.role.can_see(staff.user.id, row.assignee_id) {
        return Err(AdminError::NotFound);
    }
    Ok(row)
}

/// Done (with what, for the notice), refused (said in the staff's words), or an error for the
/// logs and the error page.
fn said(
    result: Result<&'static str, WorkflowError>,
    action: &str,
    lang: Lang,
) -> Result<Result<&'static str, Said>, AdminError> {
    match result {
        Ok(d) => Ok(Ok(d)),
        Err(e) if e.is_said() => Ok(Err(super::request::words::refusal(&e, action, lang))),
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
    let (actor, now, lang) = (staff.actor(), state.clock.now(), staff.lang());
    let t = lang.strings();
    let form = form.into_inner();
    let kept = Kept {
        action: form.action.clone(),
        changes: form.changes.clone(),
        reason: form.reason.clone(),
        item: form.item.clone(),
        run: form.run.clone(),
        ..Kept::default()
    };
    // The field a refusal is about, by the form it came from.
    let field = match form.action.as_str() {
        "dispatch" => "changes".to_string(),
        "skip" => format!("skip-{}", form.run),
        "remove" => "remove-reason".to_string(),
        _ => String::new(),
    };
    let typed = [
        (form.changes.as_str(), TextKind::Long),
        (form.reason.as_str(), TextKind::Long),
        (form.item.as_str(), TextKind::Line),
    ];
    for (value, kind) in typed {
        if let Err(fault) = crate::domain::text::check(value, kind) {
            let key_of = match fault {
                crate::domain::text::TextFault::BidiOverride => "text_direction",
                _ => "text_control",
            };
            let said = Said::new(t, key_of, Some(&field));
            return super::request::refused(&state, &staff, key, kept, said).await;
        }
    }
    let action = form.action.clone();
    let result = state
        .db(move |conn, app| {
            let done = match form.action.as_str() {
                "dispatch" => match crate::fulfil::parse_changes(&form.changes) {
                    Ok(changes) => crate::fulfil::dispatch(conn, app, &row, &changes, &actor, now)
                        .map(|_| "dispatch"),
                    Err(_) => {
                        return Ok(Ok(Err(super::request::words::changes_refusal(
                            t,
                            &form.changes,
                        ))));
                    }
                },
                "rerun" => match form.run.parse() {
                    Ok(run) => {
                        crate::fulfil::rerun(conn, app, &row, run, &actor, now).map(|_| "rerun")
                    }
                    Err(_) => Err(WorkflowError::Refused("No such source run.")),
                },
                "restore" => {
                    crate::fulfil::withhold(conn, &row, form.item.trim(), None, &actor, now)
                        .map(|_| "restore")
                }
                "skip" => match form.run.parse() {
                    Ok(run) if !form.reason.trim().is_empty() => {
                        crate::fulfil::skip(conn, &row, run, form.reason.trim(), &actor, now)
                            .map(|_| "skip")
                    }
                    Ok(_) => {
                        return Ok(Ok(Err(Said::new(t, "write.skip", Some(&field)))));
                    }
                    Err(_) => Err(WorkflowError::Refused("No such source run.")),
                },
                "remove" => {
                    if form.reason.trim().is_empty() {
                        return Ok(Ok(Err(Said::new(t, "write.remove", Some(&field)))));
                    }
                    crate::fulfil::withhold(
                        conn,
                        &row,
                        form.item.trim(),
                        Some(form.reason.trim()),
                        &actor,
                        now,
                    )
                    .map(|_| "remove")
                }
                "rebuild" => crate::fulfil::rebuild(conn, &row, &actor, now).map(|_| "rebuild"),
                "release" => {
                    crate::fulfil::release(conn, app, &row, &actor, now).map(|_| "release")
                }
                _ => Err(WorkflowError::Refused("Unknown action.")),
            };
            Ok::<_, crate::web::error::Problem>(said(done, &form.action, lang))
        })
        .await??;
    match result {
        Ok(what) => Ok(done(&key, what)),
        Err(mut refusal) => {
            if refusal.field.is_none() && action == "dispatch" {
                refusal.field = Some("changes".into());
            }
            super::request::refused(&state, &staff, key, kept, refusal).await
        }
    }
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
    let t = staff.lang().strings();
    let field = format!("task-comment-{run}");
    let file_field = format!("task-file-{run}");
    let max = state.settings.portal.max_upload_bytes;
    let mib = format!("{}", max / (1024 * 1024));
    let too_large = || Said::filled(t, "file_too_large", &[("max", &mib)], Some(&file_field));
    let task_kept = |comment: &str| Kept {
        action: "task".into(),
        run: run.to_string(),
        comment: comment.to_string(),
        ..Kept::default()
    };
    // Refused on its headers, the body is never read.
    match upload::refuse_early(&req, state.settings.base_url(), max) {
        Some(Early::CrossSite) => return Err(AdminError::Forbidden),
        Some(Early::TooLarge) => {
            return super::request::refused(&state, &staff, key, task_kept(""), too_large()).await;
        }
        None => {}
    }
    let submission = match upload::read(req.headers(), multipart, &state.files, max).await {
        Ok(s) => s,
        Err(UploadError::TooLarge) => {
            return super::request::refused(&state, &staff, key, task_kept(""), too_large()).await;
        }
        Err(UploadError::Malformed(_)) => {
            let said = Said::new(t, "unreadable", None);
            return super::request::refused(&state, &staff, key, task_kept(""), said).await;
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
    let kept = task_kept(submission.field("comment"));
    let refuse =
        |said: Said| super::request::refused(&state, &staff, key.clone(), kept.clone(), said);
    if crate::domain::text::check(&comment, TextKind::Long).is_err() {
        return refuse(Said::new(t, "text_control", Some(&field))).await;
    }
    let file = submission.file("file");
    if found && file.is_none() {
        return refuse(Said::new(t, "task_file_missing", Some(&file_field))).await;
    }
    if !found && comment.is_empty() {
        return refuse(Said::new(t, "write.task", Some(&field))).await;
    }
    // A scan (PDF, JPEG, PNG: checked and rewritten as every upload) or a text export (CSV,
    // JSON, TXT: valid UTF-8, no control bytes), which portability needs machine-readable.
    let not_a_file = || Said::new(t, "task_file_kind", Some(&file_field));
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
                return refuse(not_a_file()).await;
            }
            staged = Some((file.path().to_path_buf(), file.file_name.clone()));
        } else {
            match upload::clean(file, &state.files).await {
                Ok(checked) => {
                    staged = Some((checked.path().to_path_buf(), checked.file_name.clone()));
                    clean = Some(checked);
                }
                Err(Rejected::Refused(Refused::NotADocument)) => {
                    return refuse(not_a_file()).await;
                }
                Err(Rejected::Refused(other)) => {
                    let said = Said {
                        message: upload::refusal_message(&other, t),
                        field: Some(file_field.clone()),
                    };
                    return refuse(said).await;
                }
                Err(Rejected::Io(e)) => {
                    tracing::error!(error = %e, "cannot check a task's file");
                    return Err(AdminError::Internal);
                }
            }
        }
    }
    let (actor, now, lang) = (staff.actor(), state.clock.now(), staff.lang());
    let result = state
        .db(move |conn, app| {
            let found = staged
                .as_ref()
                .map(|(path, name)| (path.as_path(), name.as_str()));
            Ok::<_, crate::web::error::Problem>(said(
                crate::fulfil::complete_task(conn, app, &row, run, found, &comment, &actor, now)
                    .map(|_| "task"),
                "task",
                lang,
            ))
        })
        .await??;
    // The checked copy lives until the task has its own.
    drop(clean);
    match result {
        Ok(what) => Ok(done(&key, what)),
        Err(said) => refuse(said).await,
    }
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
