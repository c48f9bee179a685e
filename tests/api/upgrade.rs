//! Rolling upgrades: the previous release keeps running on the schema this one migrates to.
//! Its schema is kept as text (tests/upgrade/previous_schema.rs); on a database migrated by
//! this release, every table it knew still has every column it read, every column it does
//! not know fills itself in (nullable or defaulted) so its INSERTs still work, and a few of
//! its own statements run. The rule and the refresh: migrations/README.md.

use std::collections::BTreeMap;

use diesel::connection::SimpleConnection;
use diesel::sql_types::{Bool, Text};
use diesel::{QueryableByName, RunQueryDsl};

use dsar::store::DbConn;

use crate::helpers::{PgDatabase, test_settings};

/// The release before this one, and the schema it was built with.
const PREVIOUS_RELEASE: &str = "98a6c27";
const PREVIOUS_SCHEMA: &str = include_str!("../upgrade/previous_schema.rs");

#[derive(Debug)]
struct Table {
    name: String,
    columns: Vec<Column>,
}

#[derive(Debug)]
struct Column {
    name: String,
    nullable: bool,
}

/// The tables of a diesel schema file, read as text: `diesel::table! { name (key) { column ->
/// Type, … } }`, with `#[sql_name = "…"]` naming a column that differs from its Rust name.
fn schema_tables(text: &str) -> Vec<Table> {
    let mut tables = Vec::new();
    let mut lines = text.lines().map(str::trim);
    while let Some(line) = lines.next() {
        if !line.starts_with("diesel::table!") {
            continue;
        }
        let header = lines
            .by_ref()
            .find(|l| !l.is_empty() && !l.starts_with("//"));
        let name = header
            .and_then(|h| h.split([' ', '(']).next())
            .expect("a table's name after diesel::table!");
        let mut table = Table {
            name: name.to_string(),
            columns: Vec::new(),
        };
        let mut sql_name = None;
        for line in lines.by_ref() {
            if line == "}" {
                break;
            }
            if let Some(rest) = line.strip_prefix("#[sql_name = \"") {
                sql_name = rest.split('"').next().map(str::to_string);
                continue;
            }
            let Some((column, ty)) = line.split_once("->") else {
                continue;
            };
            table.columns.push(Column {
                name: sql_name.take().unwrap_or_else(|| column.trim().to_string()),
                nullable: ty.trim().starts_with("Nullable<"),
            });
        }
        tables.push(table);
    }
    tables
}

/// One column as the database has it.
#[derive(Debug, QueryableByName)]
struct LiveColumn {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    column_name: String,
    #[diesel(sql_type = Bool)]
    not_null: bool,
    /// A default, an identity or SQLite's rowid: an INSERT that leaves it out still works.
    #[diesel(sql_type = Bool)]
    fills_itself: bool,
}

fn live_columns(conn: &mut DbConn) -> BTreeMap<(String, String), LiveColumn> {
    let rows = match conn {
        DbConn::Sqlite(c) => diesel::sql_query(
            "SELECT m.name AS table_name, p.name AS column_name, p.\"notnull\" <> 0 AS not_null,
                    (p.dflt_value IS NOT NULL OR (p.pk > 0 AND upper(p.type) = 'INTEGER'))
                        AS fills_itself
             FROM sqlite_master m JOIN pragma_table_info(m.name) p
             WHERE m.type = 'table'",
        )
        .load::<LiveColumn>(c),
        DbConn::Postgres(c) => diesel::sql_query(
            "SELECT table_name::text AS table_name, column_name::text AS column_name,
                    is_nullable = 'NO' AS not_null,
                    (column_default IS NOT NULL OR is_identity = 'YES'
                     OR is_generated <> 'NEVER') AS fills_itself
             FROM information_schema.columns WHERE table_schema = current_schema()",
        )
        .load::<LiveColumn>(c),
    }
    .expect("the database lists its columns");
    rows.into_iter()
        .map(|c| ((c.table_name.clone(), c.column_name.clone()), c))
        .collect()
}

/// What would break the previous release on this database, one line per fault; empty when
/// nothing would.
fn faults_for_previous_release(conn: &mut DbConn) -> Vec<String> {
    let previous = schema_tables(PREVIOUS_SCHEMA);
    assert!(
        previous.len() >= 20 && previous.iter().all(|t| !t.columns.is_empty()),
        "the snapshot reads as {} tables",
        previous.len()
    );
    let live = live_columns(conn);
    let mut faults = Vec::new();
    for table in &previous {
        // Everything it reads, by name: a dropped or renamed column or table fails here.
        let names: Vec<&str> = table.columns.iter().map(|c| c.name.as_str()).collect();
        let select = format!("SELECT {} FROM {} LIMIT 1", names.join(", "), table.name);
        if let Err(e) = conn.batch_execute(&select) {
            faults.push(format!("{}: its columns cannot be read: {e}", table.name));
        }
        for column in &table.columns {
            let key = (table.name.clone(), column.name.clone());
            if column.nullable && live.get(&key).is_some_and(|c| c.not_null) {
                faults.push(format!(
                    "{}.{}: was nullable, now NOT NULL (its INSERTs may leave it out)",
                    table.name, column.name
                ));
            }
        }
        for ((t, c), col) in live.range((table.name.clone(), String::new())..) {
            if *t != table.name {
                break;
            }
            let known = table.columns.iter().any(|k| k.name == *c);
            if !known && col.not_null && !col.fills_itself {
                faults.push(format!(
                    "{t}.{c}: new, NOT NULL and without a default: the previous release's \
                     INSERTs do not name it"
                ));
            }
        }
    }
    faults
}

/// Statements as the previous release writes them, naming only the columns it knew.
const PREVIOUS_STATEMENTS: &str = "
    INSERT INTO requests (uuid, ref_year, kind, status, profile, channel, language,
        requester_name, requester_email, customer_ref, details, received_at, received_on, due_on,
        created_by, created_at, country, representative, form, duplicate_of, subject_name,
        subject_email, subject_customer_ref, acting, subject_birth_date)
    VALUES ('previous-release-1', 2026, 'access', 'verifying', 'two-months', 'post', 'fr',
        'Camille Martin', 'camille.martin@example.fr', NULL, 'Une copie de mes données',
        '2026-12-03 10:00:00', '2026-12-03', '2027-02-03', 'api', '2026-12-03 10:00:00', 'FR',
        FALSE, '{}', NULL, NULL, NULL, NULL, 'self', NULL);
    INSERT INTO request_events (request_id, kind, at, recorded_at, actor, from_status,
        to_status, note, data)
    SELECT id, 'filed', '2026-12-03 10:00:00', '2026-12-03 10:00:00', 'api', NULL,
        'verifying', NULL, '{}' FROM requests WHERE uuid = 'previous-release-1';
    UPDATE requests SET status = 'in_progress', verified_at = '2026-12-04 09:00:00',
        verified_method = 'email' WHERE uuid = 'previous-release-1';
    INSERT INTO jobs (kind, payload, status, run_at, dedup_key, created_at)
    VALUES ('send_mail', '{\"outbox_id\":1}', 'queued', '2026-12-03 10:00:00', NULL,
        '2026-12-03 10:00:00');
    INSERT INTO audit_log (at, actor, action, target_type, target_id, details)
    VALUES ('2026-12-03 10:00:00', 'api', 'request.create', 'request', 'previous-release-1',
        '{}');
";

#[derive(QueryableByName)]
struct Filed {
    #[diesel(sql_type = Text)]
    requester_name: String,
    #[diesel(sql_type = Text)]
    status: String,
    #[diesel(sql_type = Text)]
    last_event: String,
}

/// The previous release's statements on a database this release migrated.
fn run_previous_statements(conn: &mut DbConn) {
    conn.batch_execute(PREVIOUS_STATEMENTS)
        .unwrap_or_else(|e| panic!("a statement of {PREVIOUS_RELEASE} fails: {e}"));
    let query = "SELECT r.requester_name, r.status, e.kind AS last_event
                 FROM requests r JOIN request_events e ON e.request_id = r.id
                 WHERE r.uuid = 'previous-release-1'";
    let filed = match conn {
        DbConn::Sqlite(c) => diesel::sql_query(query).get_result::<Filed>(c),
        DbConn::Postgres(c) => diesel::sql_query(query).get_result::<Filed>(c),
    }
    .expect("the previous release reads back what it filed");
    assert_eq!(filed.requester_name, "Camille Martin");
    assert_eq!(filed.status, "in_progress");
    assert_eq!(filed.last_event, "filed");
}

/// A database at `url` with this release's migrations applied.
fn migrated(url: &str, dir: &tempfile::TempDir) -> DbConn {
    let settings = test_settings(url, dir.path(), &[]);
    let mut conn = dsar::store::connect_once(&settings.database).expect("database opens");
    dsar::store::migrate(&mut conn).expect("this release's migrations apply");
    conn
}

fn sqlite_url(dir: &tempfile::TempDir) -> String {
    format!("sqlite://{}", dir.path().join("upgrade.sqlite3").display())
}

fn the_previous_release_runs_on_this_schema(conn: &mut DbConn) {
    let faults = faults_for_previous_release(conn);
    assert!(
        faults.is_empty(),
        "the previous release ({PREVIOUS_RELEASE}) would break on this schema; expand now, \
         contract a release later (migrations/README.md):\n{}",
        faults.join("\n")
    );
    run_previous_statements(conn);
}

#[test]
fn the_previous_release_runs_on_this_schema_sqlite() {
    let dir = tempfile::tempdir().expect("dir");
    let mut conn = migrated(&sqlite_url(&dir), &dir);
    the_previous_release_runs_on_this_schema(&mut conn);
}

#[test]
fn the_previous_release_runs_on_this_schema_postgres() {
    let Some(db) = PgDatabase::create("dsar_upgrade") else {
        return;
    };
    let dir = tempfile::tempdir().expect("dir");
    let mut conn = migrated(&db.url, &dir);
    the_previous_release_runs_on_this_schema(&mut conn);
}

/// The check is no formality: a contracted column and a required new one are both named.
#[test]
fn a_dropped_column_and_a_required_new_one_are_caught_sqlite() {
    let dir = tempfile::tempdir().expect("dir");
    let mut conn = migrated(&sqlite_url(&dir), &dir);
    conn.batch_execute("ALTER TABLE api_keys DROP COLUMN last_used_at")
        .expect("drop");
    // SQLite adds no NOT NULL column without a default: the table is made again with one.
    #[derive(QueryableByName)]
    struct Sql {
        #[diesel(sql_type = Text)]
        sql: String,
    }
    let DbConn::Sqlite(c) = &mut conn else {
        unreachable!("a SQLite URL")
    };
    let create = diesel::sql_query("SELECT sql FROM sqlite_master WHERE name = 'schedule_runs'")
        .get_result::<Sql>(c)
        .expect("the table's definition")
        .sql;
    let (head, columns) = create.split_once('(').expect("CREATE TABLE … (");
    conn.batch_execute(&format!(
        "DROP TABLE schedule_runs; {head}(channel TEXT NOT NULL, {columns};"
    ))
    .expect("rebuild");
    let faults = faults_for_previous_release(&mut conn).join("\n");
    assert!(
        faults.contains("api_keys: its columns cannot be read"),
        "{faults}"
    );
    assert!(
        faults.contains("schedule_runs.channel: new, NOT NULL and without a default"),
        "{faults}"
    );
}

#[test]
fn a_dropped_column_and_a_required_new_one_are_caught_postgres() {
    let Some(db) = PgDatabase::create("dsar_upgrade") else {
        return;
    };
    let dir = tempfile::tempdir().expect("dir");
    let mut conn = migrated(&db.url, &dir);
    conn.batch_execute(
        "ALTER TABLE api_keys DROP COLUMN last_used_at;
         ALTER TABLE jobs ADD COLUMN queue TEXT NOT NULL;
         ALTER TABLE jobs ALTER COLUMN last_error SET NOT NULL;",
    )
    .expect("alter");
    let faults = faults_for_previous_release(&mut conn).join("\n");
    assert!(
        faults.contains("api_keys: its columns cannot be read"),
        "{faults}"
    );
    assert!(
        faults.contains("jobs.queue: new, NOT NULL and without a default"),
        "{faults}"
    );
    assert!(
        faults.contains("jobs.last_error: was nullable, now NOT NULL"),
        "{faults}"
    );
}

/// The settings page says whether starts migrate, in the reader's language.
async fn the_settings_page_shows_auto_migrate(app: crate::helpers::TestApp) {
    let mut admin = crate::admin::staff(&app, "ada@example.org", dsar::staff::Role::Admin).await;
    let page = admin.get("/admin/settings").await;
    page.assert_contains("Database updates at start");
    page.assert_contains("<code>database.auto_migrate</code>");
    page.assert_contains("auto_migrate = true");
    assert!(!page.html.contains("Unknown localization"), "{}", page.html);
    let fr = crate::helpers::try_spawn(
        crate::helpers::Backend::Sqlite,
        &[("DSAR_ORGANISATION__LANGUAGE", "fr")],
    )
    .await
    .expect("app");
    let mut admin = crate::admin::staff(&fr, "ada@example.org", dsar::staff::Role::Admin).await;
    let page = admin.get("/admin/settings").await;
    page.assert_contains("Mise à jour de la base au démarrage");
    assert!(!page.html.contains("Unknown localization"), "{}", page.html);
}
crate::on_both_backends!(settings_page, the_settings_page_shows_auto_migrate);
