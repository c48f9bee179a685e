//! The only module that speaks SQL. One `diesel::MultiConnection` over SQLite and PostgreSQL,
//! chosen by the URL scheme; an r2d2 pool; migrations for both backends embedded in the binary;
//! one file per table. [`files`] keeps uploads and packages, on disk or in [`blobs`].

pub mod api_keys;
pub mod audit;
pub mod blobs;
pub mod contacts;
pub mod directives;
pub mod files;
pub mod follow;
pub mod fulfilment;
pub mod group;
pub mod jobs;
pub mod limits;
pub mod metrics;
pub mod outbox;
pub mod portal;
pub mod queue;
pub mod references;
pub mod reminders;
pub mod reports;
pub mod requests;
pub mod schema;
pub mod scopes;
pub mod sessions;
pub mod users;

use std::collections::HashSet;
use std::path::Path;
use std::time::Duration;

use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::migration::MigrationSource;
use diesel::pg::PgConnection;
use diesel::prelude::*;
use diesel::r2d2::{self, ManageConnection};
use diesel::sqlite::SqliteConnection;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use crate::config::Database;

pub const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
pub const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// Runs `$body` with `$c` bound to the concrete connection: for what the multi-backend
/// cannot express (RETURNING, row locks), the same code compiled once per backend.
#[macro_export]
macro_rules! per_backend {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn {
            $crate::store::DbConn::Sqlite($c) => $body,
            $crate::store::DbConn::Postgres($c) => $body,
        }
    };
}

#[derive(diesel::MultiConnection)]
pub enum DbConn {
    Sqlite(SqliteConnection),
    Postgres(PgConnection),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl DbConn {
    pub fn backend(&self) -> Backend {
        match self {
            DbConn::Sqlite(_) => Backend::Sqlite,
            DbConn::Postgres(_) => Backend::Postgres,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(transparent)]
    Query(#[from] diesel::result::Error),
    #[error("no database connection available: {0}")]
    Pool(#[from] r2d2::PoolError),
    #[error("database migration failed: {0}")]
    Migration(String),
    /// Applied migrations this binary does not carry: a newer release migrated the database,
    /// and this one may write what that schema no longer means.
    #[error(
        "the database was migrated by a newer release of dsar ({unknown}): run that release or \
         newer; this one (whose latest migration is {latest}) cannot safely write to it"
    )]
    NewerSchema { unknown: String, latest: String },
    #[error(
        "the database lacks {count} migration(s) of this release ({names}) and \
         database.auto_migrate is false: run `dsar migrate` with this release, then start again"
    )]
    PendingMigrations { count: usize, names: String },
    #[error("{0}")]
    Config(String),
    /// A grouped write's transaction could not be opened for want of a connection.
    #[error("no database connection available: {0}")]
    Unavailable(String),
    /// A grouped write's transaction did not commit (see [`group`]).
    #[error("the transaction of a group of writes failed: {0}")]
    GroupFailed(String),
}

pub type Pool = r2d2::Pool<Manager>;

/// Opens connections of the backend the URL names. The derived `MultiConnection::establish`
/// tries every backend and hides their errors; choosing here keeps the real one.
#[derive(Debug, Clone)]
pub struct Manager {
    target: Target,
    busy_timeout_ms: u64,
    mmap_bytes: u64,
}

#[derive(Debug, Clone)]
enum Target {
    Sqlite(String),
    Postgres(String),
}

impl Manager {
    pub fn new(settings: &Database) -> Result<Self, StoreError> {
        let url = settings.url.trim();
        let target = if let Some(path) = url.strip_prefix("sqlite://") {
            Target::Sqlite(path.to_string())
        } else if let Some(path) = url.strip_prefix("sqlite:") {
            Target::Sqlite(path.to_string())
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Target::Postgres(url.to_string())
        } else {
            return Err(StoreError::Config(format!(
                "database.url must start with sqlite:// or postgres:// (got \"{}\")",
                crate::config::redact_url(url)
            )));
        };
        Ok(Manager {
            target,
            busy_timeout_ms: settings.busy_timeout_ms,
            mmap_bytes: u64::from(settings.sqlite_mmap_mib) << 20,
        })
    }

    pub fn backend(&self) -> Backend {
        match self.target {
            Target::Sqlite(_) => Backend::Sqlite,
            Target::Postgres(_) => Backend::Postgres,
        }
    }

    /// Creates the folder of a SQLite file so a fresh machine needs no set-up.
    fn prepare(&self) -> Result<(), StoreError> {
        if let Target::Sqlite(path) = &self.target
            && let Some(parent) = Path::new(path).parent()
            && !parent.as_os_str().is_empty()
        {
            std::fs::create_dir_all(parent).map_err(|e| {
                StoreError::Config(format!("cannot create {}: {e}", parent.display()))
            })?;
        }
        Ok(())
    }
}

impl ManageConnection for Manager {
    type Connection = DbConn;
    type Error = r2d2::Error;

    fn connect(&self) -> Result<DbConn, r2d2::Error> {
        match &self.target {
            Target::Sqlite(path) => {
                let mut conn =
                    SqliteConnection::establish(path).map_err(r2d2::Error::ConnectionError)?;
                // WAL lets readers run beside the writer; NORMAL sync is durable in WAL mode
                // except for the last transactions on power loss, the usual trade for a server.
                conn.batch_execute(&format!(
                    "PRAGMA busy_timeout = {}; PRAGMA journal_mode = WAL; \
                     PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; \
                     PRAGMA mmap_size = {};",
                    self.busy_timeout_ms, self.mmap_bytes
                ))
                .map_err(r2d2::Error::QueryError)?;
                Ok(DbConn::Sqlite(conn))
            }
            Target::Postgres(url) => {
                let mut conn =
                    PgConnection::establish(url).map_err(r2d2::Error::ConnectionError)?;
                conn.batch_execute(&format!(
                    "SET statement_timeout = {}; SET TIME ZONE 'UTC';",
                    self.busy_timeout_ms.max(1000) * 6
                ))
                .map_err(r2d2::Error::QueryError)?;
                Ok(DbConn::Postgres(conn))
            }
        }
    }

    fn is_valid(&self, conn: &mut DbConn) -> Result<(), r2d2::Error> {
        conn.batch_execute("SELECT 1")
            .map_err(r2d2::Error::QueryError)
    }

    fn has_broken(&self, conn: &mut DbConn) -> bool {
        <DbConn as TransactionManager<DbConn>>::is_broken_transaction_manager(conn)
    }
}

/// Opens the pool, failing fast with the database's own error when it cannot be reached.
pub fn connect(settings: &Database) -> Result<Pool, StoreError> {
    connect_keeping(settings, 1)
}

/// A pool that opens no spare connection behind a checkout (r2d2's `min_idle` at 0): for a
/// command that exits once its work is done, so nothing is being opened on r2d2's threads when
/// the process ends (see [`connect_once`]), and for stored files' pool of their own.
pub fn connect_without_spares(settings: &Database) -> Result<Pool, StoreError> {
    connect_keeping(settings, 0)
}

fn connect_keeping(settings: &Database, min_idle: u32) -> Result<Pool, StoreError> {
    let manager = Manager::new(settings)?;
    manager.prepare()?;
    // One connection first, so a wrong URL says why instead of timing out in r2d2.
    manager
        .connect()
        .map_err(|e| StoreError::Config(format!("cannot open the database: {e}")))?;
    let pool = r2d2::Pool::builder()
        .max_size(settings.pool_size)
        .min_idle(Some(min_idle))
        .connection_timeout(Duration::from_secs(10))
        .build(manager)?;
    Ok(pool)
}

/// One connection, opened on the calling thread: for a command that does one thing and
/// exits. A pool would not do there: r2d2 opens connections on threads of its own and refills
/// its idle ones the moment one is taken, so a command that exits right after its query
/// leaves a thread inside libpq and OpenSSL while the process tears them down, and the
/// process dies of SIGSEGV after its work is done.
pub fn connect_once(settings: &Database) -> Result<DbConn, StoreError> {
    let manager = Manager::new(settings)?;
    manager.prepare()?;
    manager
        .connect()
        .map_err(|e| StoreError::Config(format!("cannot open the database: {e}")))
}

/// The database answers a query (what a readiness probe asks).
pub fn ping(conn: &mut DbConn) -> Result<(), StoreError> {
    conn.batch_execute("SELECT 1").map_err(StoreError::from)
}

/// Applies the migrations this binary carries; returns the names applied now. Refuses a
/// database migrated by a newer release; on PostgreSQL, nodes starting together take turns.
pub fn migrate(conn: &mut DbConn) -> Result<Vec<String>, StoreError> {
    with_migration_lock(conn, |conn| {
        refuse_newer_schema(conn)?;
        let applied = match conn {
            DbConn::Sqlite(c) => c.run_pending_migrations(SQLITE_MIGRATIONS),
            DbConn::Postgres(c) => c.run_pending_migrations(POSTGRES_MIGRATIONS),
        }
        .map_err(|e| StoreError::Migration(e.to_string()))?;
        Ok(applied.iter().map(ToString::to_string).collect())
    })
}

/// What a start does about the schema: migrates when `auto_migrate`, else only checks that
/// the database carries every migration this binary knows.
pub fn prepare_schema(conn: &mut DbConn, auto_migrate: bool) -> Result<Vec<String>, StoreError> {
    if auto_migrate {
        return migrate(conn);
    }
    with_migration_lock(conn, |conn| {
        refuse_newer_schema(conn)?;
        let pending: Vec<String> = match conn {
            DbConn::Sqlite(c) => c
                .pending_migrations(SQLITE_MIGRATIONS)
                .map(|p| p.iter().map(|m| m.name().to_string()).collect()),
            DbConn::Postgres(c) => c
                .pending_migrations(POSTGRES_MIGRATIONS)
                .map(|p| p.iter().map(|m| m.name().to_string()).collect()),
        }
        .map_err(|e| StoreError::Migration(e.to_string()))?;
        match pending.is_empty() {
            true => Ok(Vec::new()),
            false => Err(StoreError::PendingMigrations {
                count: pending.len(),
                // A fresh database lacks them all: the first and the last say enough.
                names: match pending.as_slice() {
                    [first, _, _, .., last] => format!("{first} … {last}"),
                    few => few.join(", "),
                },
            }),
        }
    })
}

/// Fails with [`StoreError::NewerSchema`] when the database records a migration this binary
/// does not carry. Expand/contract keeps the previous release working on a newer schema
/// while it runs (migrations/README.md); a start, though, is where a rolled-back binary
/// would meet a contracted schema, so it stops there.
fn refuse_newer_schema(conn: &mut DbConn) -> Result<(), StoreError> {
    fn unknown<DB, C>(
        conn: &mut C,
        source: EmbeddedMigrations,
    ) -> diesel::migration::Result<(Vec<String>, String)>
    where
        DB: diesel::backend::Backend,
        C: MigrationHarness<DB>,
        EmbeddedMigrations: MigrationSource<DB>,
    {
        let known = MigrationSource::<DB>::migrations(&source)?;
        let versions: HashSet<String> = known
            .iter()
            .map(|m| m.name().version().to_string())
            .collect();
        let latest = known
            .iter()
            .map(|m| m.name().to_string())
            .max()
            .unwrap_or_default();
        let mut unknown: Vec<String> = conn
            .applied_migrations()?
            .iter()
            .map(ToString::to_string)
            .filter(|v| !versions.contains(v))
            .collect();
        unknown.sort();
        Ok((unknown, latest))
    }
    let (unknown, latest) = match conn {
        DbConn::Sqlite(c) => unknown(c, SQLITE_MIGRATIONS),
        DbConn::Postgres(c) => unknown(c, POSTGRES_MIGRATIONS),
    }
    .map_err(|e| StoreError::Migration(e.to_string()))?;
    if unknown.is_empty() {
        return Ok(());
    }
    Err(StoreError::NewerSchema {
        unknown: unknown
            .iter()
            .map(|v| migration_day(v))
            .collect::<Vec<_>>()
            .join(", "),
        latest,
    })
}

/// `20261209000030` → `2026-12-09-000030`, the way migration folders are named (the table
/// keeps only the version, without the name).
fn migration_day(version: &str) -> String {
    if version.len() == 14 && version.bytes().all(|b| b.is_ascii_digit()) {
        format!(
            "{}-{}-{}-{}",
            &version[..4],
            &version[4..6],
            &version[6..8],
            &version[8..]
        )
    } else {
        version.to_string()
    }
}

/// Any number; one that no other advisory lock of ours uses (see audit.rs, users.rs).
const MIGRATION_LOCK: i64 = 7_306_285_413;

/// Runs `work` while holding PostgreSQL's session advisory lock on migrations, so that nodes
/// starting together check and migrate one after the other. A session lock, not a
/// transaction's: diesel runs each migration in a transaction of its own. It is taken with
/// `pg_try_advisory_lock` in a loop because a blocking wait would end at the connection's
/// statement timeout while another node runs a long migration. SQLite serves one node.
fn with_migration_lock<T>(
    conn: &mut DbConn,
    work: impl FnOnce(&mut DbConn) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    use diesel::sql_types::Bool;
    let DbConn::Postgres(pg) = conn else {
        return work(conn);
    };
    for attempt in 0u64.. {
        let locked: bool = diesel::select(diesel::dsl::sql::<Bool>(&format!(
            "pg_try_advisory_lock({MIGRATION_LOCK})"
        )))
        .get_result(pg)?;
        if locked {
            break;
        }
        if attempt % 40 == 0 {
            tracing::info!(
                waited_s = attempt / 4,
                "another dsar process is migrating the database; waiting for it"
            );
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    let result = work(conn);
    let unlocked = match conn {
        DbConn::Postgres(pg) => diesel::select(diesel::dsl::sql::<Bool>(&format!(
            "pg_advisory_unlock({MIGRATION_LOCK})"
        )))
        .get_result::<bool>(pg),
        DbConn::Sqlite(_) => Ok(true),
    };
    // A lock left held would stall every other start: a failed release fails this start,
    // which ends the session that holds it. The work's own error, if any, says more.
    match (result, unlocked) {
        (Err(e), _) => Err(e),
        (Ok(_), Err(e)) => Err(e.into()),
        (Ok(_), Ok(false)) => Err(StoreError::Migration(
            "the migration lock was not held when released".into(),
        )),
        (Ok(value), Ok(true)) => Ok(value),
    }
}

/// True when every embedded migration has been applied.
pub fn migrations_applied(conn: &mut DbConn) -> Result<bool, StoreError> {
    let pending = match conn {
        DbConn::Sqlite(c) => c.pending_migrations(SQLITE_MIGRATIONS).map(|p| p.len()),
        DbConn::Postgres(c) => c.pending_migrations(POSTGRES_MIGRATIONS).map(|p| p.len()),
    }
    .map_err(|e| StoreError::Migration(e.to_string()))?;
    Ok(pending == 0)
}

/// Reverts every migration (for the CI check that each `down.sql` undoes its `up.sql`).
pub fn revert_all(conn: &mut DbConn) -> Result<usize, StoreError> {
    let reverted = match conn {
        DbConn::Sqlite(c) => c.revert_all_migrations(SQLITE_MIGRATIONS),
        DbConn::Postgres(c) => c.revert_all_migrations(POSTGRES_MIGRATIONS),
    }
    .map_err(|e| StoreError::Migration(e.to_string()))?;
    Ok(reverted.len())
}

/// SQLite has one writer at a time. Writers of this process queue here rather than in
/// SQLite's busy handler, which sleeps in growing steps and turns contention into long
/// tail latencies.
static SQLITE_WRITER: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// How many threads wait for [`SQLITE_WRITER`]. A `Mutex` is not fair: the group writer
/// ([`group`]), which takes it back a few microseconds after each group while filings keep
/// coming, would keep a member of staff's write or the worker's waiting for as long as they
/// come. It lets whoever waits go first (see [`let_waiting_writers_in`]).
static SQLITE_WRITERS_WAITING: std::sync::atomic::AtomicUsize =
    std::sync::atomic::AtomicUsize::new(0);

/// Gives the writers' lock to the threads waiting for it, for at most a few milliseconds,
/// before a thread that writes without pause takes it again.
pub(crate) fn let_waiting_writers_in() {
    use std::sync::atomic::Ordering;
    let until = std::time::Instant::now() + Duration::from_millis(5);
    while SQLITE_WRITERS_WAITING.load(Ordering::Acquire) > 0 && std::time::Instant::now() < until {
        std::thread::yield_now();
    }
}

/// A write transaction. On SQLite it starts with `BEGIN IMMEDIATE`: a deferred transaction
/// that reads first and writes later fails with SQLITE_BUSY when another writer got in
/// between, whatever the busy timeout; taking the write lock up front makes it wait instead.
/// Inside a transaction already, the work runs in a savepoint.
pub fn write_tx<T, E>(
    conn: &mut DbConn,
    work: impl FnOnce(&mut DbConn) -> Result<T, E>,
) -> Result<T, E>
where
    E: From<diesel::result::Error>,
{
    let depth = <DbConn as Connection>::TransactionManager::transaction_manager_status_mut(conn)
        .transaction_depth()?;
    if depth.is_some() {
        return conn.transaction(work);
    }
    let _writer = match conn {
        DbConn::Sqlite(c) => {
            use std::sync::atomic::Ordering;
            SQLITE_WRITERS_WAITING.fetch_add(1, Ordering::AcqRel);
            let guard = SQLITE_WRITER
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            SQLITE_WRITERS_WAITING.fetch_sub(1, Ordering::AcqRel);
            AnsiTransactionManager::begin_transaction_sql(c, "BEGIN IMMEDIATE")?;
            Some(guard)
        }
        DbConn::Postgres(_) => {
            <DbConn as Connection>::TransactionManager::begin_transaction(conn)?;
            None
        }
    };
    match work(conn) {
        Ok(value) => {
            <DbConn as Connection>::TransactionManager::commit_transaction(conn)?;
            Ok(value)
        }
        Err(err) => {
            // The work's error is the one worth reporting; a failed rollback marks the
            // connection broken and r2d2 drops it.
            let _ = <DbConn as Connection>::TransactionManager::rollback_transaction(conn);
            Err(err)
        }
    }
}
