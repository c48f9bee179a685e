//! The package after the sources: built, reviewed and withheld from by staff, released to
//! the requester for a limited time and number of downloads, and purged after.

use chrono::{DateTime, Duration, Utc};
use serde_json::json;

use crate::domain::fulfilment::PackageStatus;
use crate::mail::MailKind;
use crate::state::AppState;
use crate::store::audit;
use crate::store::fulfilment::{self as rows};
use crate::store::jobs::{self, JobRow};
use crate::store::requests::RequestRow;
use crate::store::{DbConn, write_tx};
use crate::workflow::WorkflowError;
use crate::workflow::requester;
use chrono::TimeZone;

use super::*;

/// The `build_export` job.
pub fn build_job(state: &AppState, job: &JobRow) -> Result<(), String> {
    let payload: BuildPayload = serde_json::from_str(&job.payload).map_err(|e| e.to_string())?;
    crate::fulfil::package::build(state, payload.request).map_err(|e| e.to_string())
}

/// Builds a package again after a failure (a staged file lost, a disk full).
pub fn rebuild(
    conn: &mut DbConn,
    row: &RequestRow,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<(), WorkflowError> {
    let naive = now.naive_utc();
    write_tx(conn, |conn| {
        let export = rows::export_for(conn, row.id)?
            .ok_or(WorkflowError::Refused("There is no package yet."))?;
        // A build whose job is gone (a worker that died on it for good) may start again too.
        let stalled = export.status == PackageStatus::Building
            && !jobs::live_key(conn, &format!("export:{}", row.id))?;
        if export.status != PackageStatus::Failed && !stalled {
            return Err(WorkflowError::Refused(
                "Only a package that failed, or whose build stopped, is built again.",
            ));
        }
        rows::start_export(conn, row.id, export.portability, naive)?;
        enqueue_build(conn, row.id, naive)?;
        audit::on_request(conn, &row.uuid, actor, "export.rebuild", &json!({}), naive)?;
        Ok(())
    })
}

/// Withholds an item of the package (a source, or one of its tables) with the reason, or
/// puts a withheld one back (`reason` None), and rebuilds it.
pub fn withhold(
    conn: &mut DbConn,
    row: &RequestRow,
    item: &str,
    reason: Option<&str>,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<(), WorkflowError> {
    let naive = now.naive_utc();
    write_tx(conn, |conn| {
        let export = rows::export_for(conn, row.id)?
            .filter(|e| e.status == PackageStatus::Review)
            .ok_or(WorkflowError::Refused(
                "Items can be withheld or put back while the package waits for review.",
            ))?;
        let mut removed: Vec<crate::fulfil::package::Removed> =
            serde_json::from_str(&export.removed).unwrap_or_default();
        let listed = removed.iter().any(|r| r.item == item);
        match reason {
            Some(_) if listed => {
                return Err(WorkflowError::Refused("That item is already withheld."));
            }
            None if !listed => return Err(WorkflowError::Refused("That item is not withheld.")),
            Some(reason) => removed.push(crate::fulfil::package::Removed {
                item: item.to_string(),
                reason: reason.to_string(),
                by: actor.to_string(),
                at: naive,
            }),
            None => removed.retain(|r| r.item != item),
        }
        rows::set_removed(
            conn,
            export.id,
            &serde_json::to_string(&removed).unwrap_or_default(),
        )?;
        rows::start_export(conn, row.id, export.portability, naive)?;
        enqueue_build(conn, row.id, naive)?;
        let action = if reason.is_some() {
            "export.remove_item"
        } else {
            "export.restore_item"
        };
        audit::on_request(
            conn,
            &row.uuid,
            actor,
            action,
            &json!({ "item": item }),
            naive,
        )?;
        Ok(())
    })
}

/// Releases the reviewed package: the requester is mailed a link to the status page, where
/// the download works for the configured days and count. An empty result is said in words.
pub fn release(
    conn: &mut DbConn,
    state: &AppState,
    row: &RequestRow,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<(), WorkflowError> {
    let naive = now.naive_utc();
    let settings = &state.settings.fulfilment;
    let expires = naive + Duration::days(i64::from(settings.download_days));
    let lang = row.language;
    let t = lang.strings();
    write_tx(conn, |conn| {
        let export = rows::export_for(conn, row.id)?
            .filter(|e| {
                e.status == PackageStatus::Review
                    || (e.status == PackageStatus::Empty && e.released_at.is_none())
            })
            .ok_or(WorkflowError::Refused(
                "There is no package waiting for review.",
            ))?;
        let max = i32::try_from(settings.max_downloads).unwrap_or(i32::MAX);
        if rows::release(conn, export.id, actor, expires, max, naive)? == 0 {
            return Err(WorkflowError::Refused("The package is already released."));
        }
        let until = state.law.time_zone.from_utc_datetime(&expires).date_naive();
        let until = crate::i18n::long_date(until, lang);
        let count = settings.max_downloads.to_string();
        let mut note = if export.status == PackageStatus::Empty {
            t.t("export.mail_empty").to_string()
        } else {
            t.fill("export.mail_ready", &[("until", &until), ("count", &count)])
        };
        // Art. 20(2): the data go straight to the organisation the person named, by a link
        // of its own with the same expiry and download limits; the person is told to whom.
        if export.status != PackageStatus::Empty
            && let Some(to) = transfer_recipient(row)
        {
            transfer(
                conn,
                state,
                row,
                export.id,
                &to,
                (&until, &count),
                actor,
                now,
            )?;
            note.push_str("\n\n");
            note.push_str(&t.fill(
                "portability.sent_to",
                &[("organisation", &to.organisation), ("email", &to.email)],
            ));
        }
        requester::notify_with(
            conn,
            state,
            row,
            MailKind::ExportReady,
            Some(&note),
            None,
            now,
        )?;
        audit::on_request(
            conn,
            &row.uuid,
            actor,
            "export.release",
            &json!({
                "empty": export.status == PackageStatus::Empty,
                "size": export.size,
                "records": export.records,
                "expires_at": expires.to_string(),
                "max_downloads": settings.max_downloads,
            }),
            naive,
        )?;
        Ok(())
    })
}

/// The other organisation a portability request's data go to (GDPR art. 20(2)), as the
/// person named it on the form; `None` when they go to the person.
pub struct Recipient {
    pub organisation: String,
    pub email: String,
}

pub fn transfer_recipient(row: &RequestRow) -> Option<Recipient> {
    if row.kind != crate::domain::kind::RequestKind::Portability {
        return None;
    }
    let form: serde_json::Value = serde_json::from_str(&row.form).ok()?;
    if form["portability_destination"] != "controller" {
        return None;
    }
    Some(Recipient {
        organisation: form["portability_controller"].as_str()?.to_string(),
        email: form["portability_controller_email"].as_str()?.to_string(),
    })
}

/// Mails the other organisation its own download link, in the transaction of the release,
/// with the timeline and the audit trail saying so.
#[allow(clippy::too_many_arguments)]
fn transfer(
    conn: &mut DbConn,
    state: &AppState,
    row: &RequestRow,
    export_id: i64,
    to: &Recipient,
    (until, count): (&str, &str),
    actor: &str,
    now: DateTime<Utc>,
) -> Result<(), WorkflowError> {
    let token = crate::crypto::random_token();
    rows::set_transfer_token(conn, export_id, &crate::crypto::sha256_hex(&token))?;
    let lang = row.language;
    let t = lang.strings();
    let link = format!(
        "{}/{}/transfer/{token}",
        state.settings.base_url(),
        lang.code()
    );
    let note = t.fill(
        "portability.transfer_note",
        &[
            ("person", row.requester_name.as_str()),
            ("until", until),
            ("count", count),
        ],
    );
    let reference = crate::workflow::reference(row).to_string();
    let kind_label = t.t(&format!("kinds.{}.name", row.kind)).to_string();
    let org = &state.settings.organisation;
    crate::mail::queue(
        conn,
        MailKind::PortabilityTransfer,
        &crate::mail::MailFacts {
            lang: lang.code(),
            to: &to.email,
            organisation: &org.name,
            dpo_email: &org.dpo_email,
            reference: &reference,
            kind_label: &kind_label,
            link: Some(&link),
            due_on: None,
            clock_stopped: false,
            note: Some(&note),
            ground: None,
            amount: None,
            on_behalf: None,
        },
        Some(row.id),
        now.naive_utc(),
    )?;
    let sent = json!({ "organisation": to.organisation, "email": to.email });
    crate::workflow::follow::event(
        conn,
        row,
        "portability_sent",
        actor,
        None,
        sent.clone(),
        now,
    )?;
    audit::on_request(
        conn,
        &row.uuid,
        actor,
        "export.transfer",
        &sent,
        now.naive_utc(),
    )?;
    Ok(())
}

/// Why a download is refused, said to the requester.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DownloadRefused {
    /// No released package (not yet, never, or nothing found).
    None,
    Expired,
    Exhausted,
}

impl DownloadRefused {
    /// What the requester reads (a key of the locale files).
    pub fn message_key(self) -> &'static str {
        match self {
            DownloadRefused::None => "export.page.none",
            DownloadRefused::Expired => "export.page.expired",
            DownloadRefused::Exhausted => "export.page.exhausted",
        }
    }
}

/// Whether the package can be downloaded now, and if not why: the one rule the status page
/// shows and the download applies.
pub fn availability(
    export: &rows::ExportRow,
    now: chrono::NaiveDateTime,
) -> Result<(), DownloadRefused> {
    let spent = export.downloads >= export.max_downloads;
    match export.status {
        PackageStatus::Released if export.expires_at.is_none_or(|e| e <= now) => {
            Err(DownloadRefused::Expired)
        }
        PackageStatus::Released if spent => Err(DownloadRefused::Exhausted),
        PackageStatus::Released => Ok(()),
        PackageStatus::Purged if export.released_at.is_some() && spent => {
            Err(DownloadRefused::Exhausted)
        }
        PackageStatus::Purged if export.released_at.is_some() => Err(DownloadRefused::Expired),
        _ => Err(DownloadRefused::None),
    }
}

/// Counts and audits one download; the caller streams the file it names.
/// `who` is `requester`, or `recipient` for the organisation the data were sent to.
pub fn start_download(
    conn: &mut DbConn,
    row: &RequestRow,
    who: &str,
    now: DateTime<Utc>,
) -> Result<Result<String, DownloadRefused>, WorkflowError> {
    let naive = now.naive_utc();
    write_tx(conn, |conn| {
        let Some(export) = rows::export_for(conn, row.id)? else {
            return Ok(Err(DownloadRefused::None));
        };
        let refused = availability(&export, naive).err();
        if let Some(why) = refused {
            audit::on_request(
                conn,
                &row.uuid,
                who,
                "export.download_refused",
                &json!({ "why": format!("{why:?}").to_lowercase() }),
                naive,
            )?;
            return Ok(Err(why));
        }
        let (Some(name), true) = (
            export.storage_name.clone(),
            rows::spend_download(conn, export.id, naive)?,
        ) else {
            return Ok(Err(DownloadRefused::Exhausted));
        };
        audit::on_request(
            conn,
            &row.uuid,
            who,
            "export.download",
            &json!({ "download": export.downloads + 1, "of": export.max_downloads }),
            naive,
        )?;
        Ok(Ok(name))
    })
}

/// Deletes packages past their date or downloads, and the staged data behind them.
pub fn purge_exports(
    conn: &mut DbConn,
    state: &AppState,
    now: DateTime<Utc>,
) -> Result<usize, WorkflowError> {
    let naive = now.naive_utc();
    let mut purged = 0;
    for export in rows::spent_exports(conn, naive)? {
        let details = json!({ "downloads": export.downloads });
        purge_request(conn, state, export.request_id, details, naive, |conn| {
            let mut files = rows::take_staged(conn, export.request_id)?;
            files.extend(export.storage_name.clone());
            rows::mark_purged(conn, export.id, naive)?;
            Ok(files)
        })?;
        purged += 1;
    }
    // Requests closed without their package going out: what was gathered goes too, once the
    // download period has passed (time to reopen by mistake is not a reason to keep data).
    let cutoff = naive - Duration::days(i64::from(state.settings.fulfilment.download_days));
    for request_id in rows::abandoned(conn, cutoff)? {
        let details = json!({ "unreleased": true });
        purge_request(conn, state, request_id, details, naive, |conn| {
            let mut files = rows::take_staged(conn, request_id)?;
            files.extend(rows::drop_unreleased(conn, request_id, naive)?);
            Ok(files)
        })?;
        purged += 1;
    }
    Ok(purged)
}

/// Forgets a request's files in one transaction with its audit entry (`take` returns them),
/// then deletes them from the store.
pub(super) fn purge_request(
    conn: &mut DbConn,
    state: &AppState,
    request_id: i64,
    mut details: serde_json::Value,
    now: chrono::NaiveDateTime,
    take: impl FnOnce(&mut DbConn) -> diesel::QueryResult<Vec<String>>,
) -> Result<(), WorkflowError> {
    let row = crate::store::requests::get(conn, request_id)?;
    let files = write_tx(conn, |conn| {
        let files = take(conn)?;
        details["files"] = json!(files.len());
        audit::on_request(conn, &row.uuid, "worker", "export.purge", &details, now)?;
        Ok::<_, diesel::result::Error>(files)
    })?;
    for name in files {
        delete_staged(state, &name);
    }
    Ok(())
}
