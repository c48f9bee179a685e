//! Rows of the fulfilment: each source's run for a request, the export package, and the
//! suppression list.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConn;
use super::schema::{exports, source_runs, suppressions};
use crate::domain::fulfilment::{Operation, PackageStatus, RunStatus};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = source_runs)]
pub struct RunRow {
    pub id: i64,
    pub request_id: i64,
    pub source: String,
    #[diesel(deserialize_as = String)]
    pub operation: Operation,
    #[diesel(deserialize_as = String)]
    pub status: RunStatus,
    pub records: Option<i64>,
    pub outcome: String,
    pub error: Option<String>,
    pub staged: Option<String>,
    pub recipient: Option<String>,
    pub comment: Option<String>,
    pub actor: Option<String>,
    pub job_id: Option<i64>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl RunRow {
    pub fn outcome(&self) -> crate::domain::outcome::Outcome {
        serde_json::from_str(&self.outcome).unwrap_or_default()
    }

    /// Whether nothing more will happen to it without a person (done, or failed for good).
    pub fn settled(&self) -> bool {
        self.status == RunStatus::Done
    }
}

pub fn runs_for(conn: &mut DbConn, request_id: i64) -> QueryResult<Vec<RunRow>> {
    source_runs::table
        .filter(source_runs::request_id.eq(request_id))
        .order(source_runs::id.asc())
        .select(RunRow::as_select())
        .load(conn)
}

pub fn get_run(conn: &mut DbConn, id: i64) -> QueryResult<Option<RunRow>> {
    source_runs::table
        .find(id)
        .select(RunRow::as_select())
        .first(conn)
        .optional()
}

/// Creates the run, or puts an existing one back to `status` (a re-run); returns its id.
pub fn upsert_run(
    conn: &mut DbConn,
    request_id: i64,
    source: &str,
    operation: Operation,
    status: RunStatus,
    actor: &str,
    now: NaiveDateTime,
) -> QueryResult<i64> {
    let existing: Option<i64> = source_runs::table
        .filter(source_runs::request_id.eq(request_id))
        .filter(source_runs::source.eq(source))
        .filter(source_runs::operation.eq(operation.as_str()))
        .select(source_runs::id)
        .first(conn)
        .optional()?;
    match existing {
        Some(id) => {
            diesel::update(source_runs::table.find(id))
                .set((
                    source_runs::status.eq(status.as_str()),
                    source_runs::error.eq(None::<String>),
                    source_runs::actor.eq(actor),
                    source_runs::updated_at.eq(now),
                ))
                .execute(conn)?;
            Ok(id)
        }
        None => crate::per_backend!(conn, |c| diesel::insert_into(source_runs::table)
            .values((
                source_runs::request_id.eq(request_id),
                source_runs::source.eq(source),
                source_runs::operation.eq(operation.as_str()),
                source_runs::status.eq(status.as_str()),
                source_runs::actor.eq(actor),
                source_runs::created_at.eq(now),
                source_runs::updated_at.eq(now),
            ))
            .returning(source_runs::id)
            .get_result(c)),
    }
}

/// What a finished run found or did.
pub struct Finished<'a> {
    pub status: RunStatus,
    pub records: Option<i64>,
    pub outcome: &'a str,
    pub error: Option<&'a str>,
    pub staged: Option<&'a str>,
    pub recipient: Option<&'a str>,
    pub comment: Option<&'a str>,
    pub actor: Option<&'a str>,
}

/// Records how a run ended, if it is still in one of the `expected` states and, when `owner`
/// is given, still owned by that job (a run skipped or re-run meanwhile is left as it is);
/// false when it was not.
pub fn finish_run(
    conn: &mut DbConn,
    id: i64,
    expected: &[RunStatus],
    owner: Option<i64>,
    f: &Finished<'_>,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    debug_assert!(expected.iter().all(|s| s.can_become(f.status)));
    let expected: Vec<&str> = expected.iter().map(|s| s.as_str()).collect();
    let mut query = diesel::update(source_runs::table)
        .filter(source_runs::id.eq(id))
        .filter(source_runs::status.eq_any(expected))
        .into_boxed();
    if let Some(job) = owner {
        query = query.filter(source_runs::job_id.eq(job));
    }
    let n = query
        .set((
            source_runs::status.eq(f.status.as_str()),
            source_runs::records.eq(f.records),
            source_runs::outcome.eq(f.outcome),
            source_runs::error.eq(f.error),
            source_runs::staged.eq(f.staged),
            source_runs::recipient.eq(f.recipient),
            source_runs::comment.eq(f.comment),
            source_runs::updated_at.eq(now),
        ))
        .execute(conn)?;
    if n == 1
        && let Some(actor) = f.actor
    {
        diesel::update(source_runs::table.find(id))
            .set(source_runs::actor.eq(actor))
            .execute(conn)?;
    }
    Ok(n == 1)
}

/// Makes `job` the run's owner: an older job of the run then leaves it alone.
pub fn attach_job(conn: &mut DbConn, id: i64, job: Option<i64>) -> QueryResult<usize> {
    diesel::update(source_runs::table.find(id))
        .set(source_runs::job_id.eq(job))
        .execute(conn)
}

/// The owning job starts on the run (again, after a crash); false when it no longer owns it.
pub fn claim_run(conn: &mut DbConn, id: i64, job: i64, now: NaiveDateTime) -> QueryResult<bool> {
    diesel::update(
        source_runs::table
            .find(id)
            .filter(source_runs::job_id.eq(job))
            .filter(source_runs::status.eq_any(
                [RunStatus::Queued, RunStatus::Retrying, RunStatus::Running].map(RunStatus::as_str),
            )),
    )
    .set((
        source_runs::status.eq(RunStatus::Running.as_str()),
        source_runs::updated_at.eq(now),
    ))
    .execute(conn)
    .map(|n| n == 1)
}

/// What a rectification asked to correct (JSON), kept with the run so a re-run applies it.
pub fn set_comment(conn: &mut DbConn, id: i64, comment: &str) -> QueryResult<usize> {
    diesel::update(source_runs::table.find(id))
        .set(source_runs::comment.eq(comment))
        .execute(conn)
}

/// Moves a run from one of the `expected` states (and, with `owner`, still that job's) to
/// `status`, with the error (empty: none); false when it was not.
pub fn set_run_status(
    conn: &mut DbConn,
    id: i64,
    expected: &[RunStatus],
    owner: Option<i64>,
    status: RunStatus,
    error: &str,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    debug_assert!(expected.iter().all(|s| s.can_become(status)));
    let expected: Vec<&str> = expected.iter().map(|s| s.as_str()).collect();
    let error: String = error.chars().take(2000).collect();
    let mut query = diesel::update(source_runs::table)
        .filter(source_runs::id.eq(id))
        .filter(source_runs::status.eq_any(expected))
        .into_boxed();
    if let Some(job) = owner {
        query = query.filter(source_runs::job_id.eq(job));
    }
    query
        .set((
            source_runs::status.eq(status.as_str()),
            source_runs::error.eq(Some(error).filter(|e| !e.is_empty())),
            source_runs::updated_at.eq(now),
        ))
        .execute(conn)
        .map(|n| n == 1)
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = exports)]
pub struct ExportRow {
    pub id: i64,
    pub request_id: i64,
    #[diesel(deserialize_as = String)]
    pub status: PackageStatus,
    pub portability: bool,
    pub storage_name: Option<String>,
    pub size: Option<i64>,
    pub records: i64,
    pub manifest: String,
    pub removed: String,
    pub error: Option<String>,
    pub built_at: Option<NaiveDateTime>,
    pub released_at: Option<NaiveDateTime>,
    pub released_by: Option<String>,
    pub expires_at: Option<NaiveDateTime>,
    pub downloads: i32,
    pub max_downloads: i32,
    pub purged_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
}

pub fn export_for(conn: &mut DbConn, request_id: i64) -> QueryResult<Option<ExportRow>> {
    exports::table
        .filter(exports::request_id.eq(request_id))
        .select(ExportRow::as_select())
        .first(conn)
        .optional()
}

/// Marks the package as being (re)built, creating its row on the first build; false when it
/// was released (or purged) and must stay as it was given.
pub fn start_export(
    conn: &mut DbConn,
    request_id: i64,
    portability: bool,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let existing: i64 = exports::table
        .filter(exports::request_id.eq(request_id))
        .count()
        .get_result(conn)?;
    if existing > 0 {
        let updated = diesel::update(
            exports::table
                .filter(exports::request_id.eq(request_id))
                .filter(exports::released_at.is_null())
                .filter(exports::status.ne(PackageStatus::Purged.as_str())),
        )
        .set((
            exports::status.eq(PackageStatus::Building.as_str()),
            exports::error.eq(None::<String>),
        ))
        .execute(conn)?;
        return Ok(updated == 1);
    }
    diesel::insert_into(exports::table)
        .values((
            exports::request_id.eq(request_id),
            exports::status.eq(PackageStatus::Building.as_str()),
            exports::portability.eq(portability),
            exports::created_at.eq(now),
        ))
        .execute(conn)?;
    Ok(true)
}

pub fn set_removed(conn: &mut DbConn, id: i64, removed: &str) -> QueryResult<usize> {
    diesel::update(exports::table.find(id))
        .set(exports::removed.eq(removed))
        .execute(conn)
}

/// Records a built package; returns the file it replaces, to delete after the commit.
#[allow(clippy::too_many_arguments)]
pub fn built(
    conn: &mut DbConn,
    request_id: i64,
    status: PackageStatus,
    storage_name: Option<&str>,
    size: Option<i64>,
    records: i64,
    manifest: &str,
    now: NaiveDateTime,
) -> QueryResult<Option<String>> {
    let old: Option<Option<String>> = exports::table
        .filter(exports::request_id.eq(request_id))
        .select(exports::storage_name)
        .first(conn)
        .optional()?;
    diesel::update(exports::table.filter(exports::request_id.eq(request_id)))
        .set((
            exports::status.eq(status.as_str()),
            exports::storage_name.eq(storage_name),
            exports::size.eq(size),
            exports::records.eq(records),
            exports::manifest.eq(manifest),
            exports::built_at.eq(now),
            exports::error.eq(None::<String>),
        ))
        .execute(conn)?;
    Ok(old.flatten().filter(|o| Some(o.as_str()) != storage_name))
}

pub fn export_failed(conn: &mut DbConn, request_id: i64, error: &str) -> QueryResult<usize> {
    diesel::update(exports::table.filter(exports::request_id.eq(request_id)))
        .set((
            exports::status.eq(PackageStatus::Failed.as_str()),
            exports::error.eq(error),
        ))
        .execute(conn)
}

pub fn release(
    conn: &mut DbConn,
    id: i64,
    by: &str,
    expires_at: NaiveDateTime,
    max_downloads: i32,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(
        exports::table
            .find(id)
            .filter(exports::status.eq_any([
                PackageStatus::Review.as_str(),
                PackageStatus::Empty.as_str(),
            ]))
            .filter(exports::released_at.is_null()),
    )
    .set((
        exports::released_at.eq(now),
        exports::released_by.eq(by),
        exports::expires_at.eq(expires_at),
        exports::max_downloads.eq(max_downloads),
        exports::status.eq(diesel::dsl::sql::<diesel::sql_types::Text>(
            "CASE status WHEN 'review' THEN 'released' ELSE status END",
        )),
    ))
    .execute(conn)
}

/// Records the hash of the download link mailed to another organisation (GDPR art. 20(2)).
pub fn set_transfer_token(conn: &mut DbConn, id: i64, token_hash: &str) -> QueryResult<usize> {
    diesel::update(exports::table.find(id))
        .set(exports::transfer_token_hash.eq(token_hash))
        .execute(conn)
}

/// The request whose package the link mailed to another organisation opens.
pub fn request_for_transfer(conn: &mut DbConn, token_hash: &str) -> QueryResult<Option<i64>> {
    exports::table
        .filter(exports::transfer_token_hash.eq(token_hash))
        .select(exports::request_id)
        .first(conn)
        .optional()
}

/// Counts one download if the package may still be downloaded; false when it may not.
pub fn spend_download(conn: &mut DbConn, id: i64, now: NaiveDateTime) -> QueryResult<bool> {
    let n = diesel::update(
        exports::table
            .find(id)
            .filter(exports::status.eq(PackageStatus::Released.as_str()))
            .filter(exports::expires_at.gt(now))
            .filter(exports::downloads.lt(exports::max_downloads)),
    )
    .set(exports::downloads.eq(exports::downloads + 1))
    .execute(conn)?;
    Ok(n == 1)
}

/// Released packages past their date or their downloads.
pub fn spent_exports(conn: &mut DbConn, now: NaiveDateTime) -> QueryResult<Vec<ExportRow>> {
    exports::table
        .filter(exports::status.eq(PackageStatus::Released.as_str()))
        .filter(
            exports::expires_at
                .le(now)
                .or(exports::downloads.ge(exports::max_downloads)),
        )
        .select(ExportRow::as_select())
        .load(conn)
}

/// Requests closed before `cutoff` that still hold staged data or a package never released
/// (withdrawn, rejected or answered otherwise).
pub fn abandoned(conn: &mut DbConn, cutoff: NaiveDateTime) -> QueryResult<Vec<i64>> {
    use super::schema::requests;
    let staged = source_runs::table
        .filter(source_runs::staged.is_not_null())
        .select(source_runs::request_id);
    let unreleased = exports::table
        .filter(exports::storage_name.is_not_null())
        .filter(exports::released_at.is_null())
        .select(exports::request_id);
    requests::table
        .filter(requests::closed_at.lt(cutoff))
        .filter(
            requests::id
                .eq_any(staged)
                .or(requests::id.eq_any(unreleased)),
        )
        .select(requests::id)
        .load(conn)
}

/// Forgets an unreleased package's file; returns it, for the caller to delete.
pub fn drop_unreleased(
    conn: &mut DbConn,
    request_id: i64,
    now: NaiveDateTime,
) -> QueryResult<Option<String>> {
    let name: Option<Option<String>> = exports::table
        .filter(exports::request_id.eq(request_id))
        .filter(exports::released_at.is_null())
        .select(exports::storage_name)
        .first(conn)
        .optional()?;
    diesel::update(
        exports::table
            .filter(exports::request_id.eq(request_id))
            .filter(exports::released_at.is_null()),
    )
    .set((
        exports::status.eq(PackageStatus::Purged.as_str()),
        exports::storage_name.eq(None::<String>),
        exports::purged_at.eq(now),
    ))
    .execute(conn)?;
    Ok(name.flatten())
}

pub fn mark_purged(conn: &mut DbConn, id: i64, now: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(exports::table.find(id))
        .set((
            exports::status.eq(PackageStatus::Purged.as_str()),
            exports::storage_name.eq(None::<String>),
            exports::purged_at.eq(now),
        ))
        .execute(conn)
}

/// Staged files of a request's runs, cleared from the rows; the caller deletes the files.
pub fn take_staged(conn: &mut DbConn, request_id: i64) -> QueryResult<Vec<String>> {
    let names: Vec<Option<String>> = source_runs::table
        .filter(source_runs::request_id.eq(request_id))
        .select(source_runs::staged)
        .load(conn)?;
    diesel::update(source_runs::table.filter(source_runs::request_id.eq(request_id)))
        .set(source_runs::staged.eq(None::<String>))
        .execute(conn)?;
    Ok(names.into_iter().flatten().collect())
}

/// Clears the comment and the error of every run of these requests.
pub fn clear_run_comments_and_errors(conn: &mut DbConn, request_ids: &[i64]) -> QueryResult<usize> {
    diesel::update(source_runs::table.filter(source_runs::request_id.eq_any(request_ids)))
        .set((
            source_runs::comment.eq(None::<String>),
            source_runs::error.eq(None::<String>),
        ))
        .execute(conn)
}

/// (run id, outcome as stored) of every run of these requests.
pub fn run_outcomes_for(conn: &mut DbConn, request_ids: &[i64]) -> QueryResult<Vec<(i64, String)>> {
    source_runs::table
        .filter(source_runs::request_id.eq_any(request_ids))
        .select((source_runs::id, source_runs::outcome))
        .load(conn)
}

pub fn set_run_outcome(conn: &mut DbConn, id: i64, outcome: &str) -> QueryResult<usize> {
    diesel::update(source_runs::table.find(id))
        .set(source_runs::outcome.eq(outcome))
        .execute(conn)
}

/// Empties the list of what staff removed from the packages of these requests.
pub fn forget_removed_for(conn: &mut DbConn, request_ids: &[i64]) -> QueryResult<usize> {
    diesel::update(exports::table.filter(exports::request_id.eq_any(request_ids)))
        .set(exports::removed.eq("[]"))
        .execute(conn)
}

pub fn suppress(
    conn: &mut DbConn,
    hash: &str,
    scope: &str,
    request_id: i64,
    now: NaiveDateTime,
) -> QueryResult<()> {
    let exists: i64 = suppressions::table
        .filter(suppressions::hash.eq(hash))
        .filter(suppressions::scope.eq(scope))
        .count()
        .get_result(conn)?;
    if exists == 0 {
        diesel::insert_into(suppressions::table)
            .values((
                suppressions::hash.eq(hash),
                suppressions::scope.eq(scope),
                suppressions::request_id.eq(request_id),
                suppressions::created_at.eq(now),
            ))
            .execute(conn)?;
    }
    Ok(())
}

pub fn suppressed(conn: &mut DbConn, hash: &str) -> QueryResult<Vec<(String, NaiveDateTime)>> {
    suppressions::table
        .filter(suppressions::hash.eq(hash))
        .order(suppressions::created_at.asc())
        .select((suppressions::scope, suppressions::created_at))
        .load(conn)
}
