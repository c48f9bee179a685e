//! What every benchmark needs: its knobs from the environment, a fresh database (a temp
//! SQLite file, or a new PostgreSQL database when `DSAR_BENCH_POSTGRES_URL` names a server),
//! and the embedded settings pointed at it.
// Each bench is its own crate and uses a part of this module.
#![allow(dead_code)]

use diesel::connection::SimpleConnection;
use diesel::{Connection, RunQueryDsl};

use dsar::config::Settings;
use dsar::store::DbConn;

pub fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A database made for one run; a PostgreSQL one is dropped by [`BenchDb::drop_database`].
pub struct BenchDb {
    pub url: String,
    postgres: Option<(String, String)>,
}

pub fn database(dir: &tempfile::TempDir, label: &str) -> BenchDb {
    match std::env::var("DSAR_BENCH_POSTGRES_URL") {
        Ok(admin) => {
            let name = format!("dsar_bench_{label}_{}", &dsar::crypto::random_token()[..8]);
            let mut conn =
                diesel::pg::PgConnection::establish(&admin).expect("PostgreSQL reachable");
            diesel::sql_query(format!("CREATE DATABASE {name}"))
                .execute(&mut conn)
                .expect("create database");
            let server = admin
                .rsplit_once('/')
                .map(|(s, _)| s.to_string())
                .unwrap_or_else(|| admin.clone());
            BenchDb {
                url: format!("{server}/{name}"),
                postgres: Some((admin, name)),
            }
        }
        Err(_) => BenchDb {
            url: format!(
                "sqlite://{}",
                dir.path().join(format!("{label}.sqlite3")).display()
            ),
            postgres: None,
        },
    }
}

impl BenchDb {
    /// Drops a PostgreSQL database once the run is over (a SQLite file goes with its dir).
    pub fn drop_database(&self) {
        if let Some((admin, name)) = &self.postgres {
            let mut conn =
                diesel::pg::PgConnection::establish(admin).expect("PostgreSQL reachable");
            diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .execute(&mut conn)
                .expect("drop database");
        }
    }
}

/// The embedded defaults, on `url`; other `DSAR_…` variables of the environment apply too,
/// so a setting can be tried without editing anything.
pub fn settings(url: &str, dir: &std::path::Path) -> Settings {
    let key_file = dir.join("session.key").display().to_string();
    let outbox = dir.join("outbox").display().to_string();
    let files = dir.join("files").display().to_string();
    let mut env: Vec<(String, String)> = std::env::vars().collect();
    env.extend(
        [
            ("DSAR_DATABASE__URL", url),
            ("DSAR_HTTP__BIND", "127.0.0.1:0"),
            ("DSAR_LOG__FILTER", "warn"),
            ("DSAR_SECURITY__SESSION_KEY_FILE", &key_file),
            ("DSAR_MAIL__OUTBOX_DIR", &outbox),
            ("DSAR_STORAGE__DIR", &files),
        ]
        .map(|(k, v)| (k.to_string(), v.to_string())),
    );
    Settings::load_from(None, env).expect("settings")
}

/// One statement that makes `rows` requests, in the dialect of the connection: 80 % closed
/// (0 to 44 days after receipt), 20 % open, due over two years, received over `days` days from 1 January 2026 (1: all on
/// that day).
pub fn load_requests(conn: &mut DbConn, rows: u64, days: u64) {
    // A closed request was closed (i % 45) days after its receipt, at 15:00 UTC, and so
    // in time (the profile gives two months): the columns the closing service writes.
    let (series, due, received, uuid, closed_at, closed_on) = match conn {
        DbConn::Sqlite(_) => (
            format!(
                "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {rows})"
            ),
            "date('2026-01-01', '+' || (i % 730) || ' days')".to_string(),
            format!("date('2026-01-01', '+' || (i % {days}) || ' days')"),
            "lower(hex(randomblob(16)))",
            format!("datetime('2026-01-01 15:00:00', '+' || (i % {days} + i % 45) || ' days')"),
            format!("date('2026-01-01', '+' || (i % {days} + i % 45) || ' days')"),
        ),
        DbConn::Postgres(_) => (
            format!("WITH n(i) AS (SELECT generate_series(1, {rows}))"),
            "DATE '2026-01-01' + (i % 730)".to_string(),
            format!("DATE '2026-01-01' + (i % {days})"),
            "md5(i::text)",
            format!("TIMESTAMP '2026-01-01 15:00:00' + (i % {days} + i % 45) * INTERVAL '1 day'"),
            format!("DATE '2026-01-01' + (i % {days} + i % 45)"),
        ),
    };
    let sql = format!(
        "{series}
         INSERT INTO requests (uuid, ref_year, kind, status, profile, channel, language, requester_name, requester_email,
                               details, received_at, received_on, due_on, created_by, created_at, form,
                               closed_at, closed_on, on_time)
         SELECT {uuid}, 2026,
                CASE i % 7 WHEN 0 THEN 'access' WHEN 1 THEN 'erasure' WHEN 2 THEN 'rectification' WHEN 3 THEN 'objection'
                           WHEN 4 THEN 'portability' WHEN 5 THEN 'restriction' ELSE 'consent_withdrawal' END,
                CASE WHEN i % 5 = 0 THEN (CASE i % 3 WHEN 0 THEN 'in_progress' WHEN 1 THEN 'verifying' ELSE 'on_hold' END)
                     ELSE (CASE i % 2 WHEN 0 THEN 'fulfilled' ELSE 'rejected' END) END,
                'two-months', 'web', 'fr', 'Personne ' || i, 'p' || i || '@example.org', '',
                TIMESTAMP '2026-01-01 10:00:00', {received}, {due}, 'bench', TIMESTAMP '2026-01-01 10:00:00', '{{}}',
                CASE WHEN i % 5 = 0 THEN NULL ELSE {closed_at} END,
                CASE WHEN i % 5 = 0 THEN NULL ELSE {closed_on} END,
                CASE WHEN i % 5 = 0 THEN NULL ELSE 1 = 1 END
         FROM n"
    );
    if let DbConn::Postgres(_) = conn {
        // The server's pool bounds each statement; loading a million rows takes longer.
        // The reports' counts are made once after the load (`dsar reports rebuild`), not by
        // the trigger row by row: a million updates of the same few hundred rows in one
        // transaction leave each a chain of dead versions the next update walks.
        conn.batch_execute(
            "SET statement_timeout = 0; ALTER TABLE requests DISABLE TRIGGER report_counts_follow",
        )
        .expect("no timeout");
    }
    let sql = match conn {
        // SQLite has no typed literals: plain strings in its own formats.
        DbConn::Sqlite(_) => {
            sql.replace("TIMESTAMP '2026-01-01 10:00:00'", "'2026-01-01 10:00:00'")
        }
        DbConn::Postgres(_) => sql,
    };
    conn.batch_execute(&sql).expect("load rows");
    if let DbConn::Postgres(_) = conn {
        conn.batch_execute("ALTER TABLE requests ENABLE TRIGGER report_counts_follow")
            .expect("trigger on");
        dsar::store::reports::rebuild(conn).expect("reports' counts");
    }
    // One statement each: PostgreSQL runs several sent at once in one transaction, where
    // VACUUM is refused.
    let analyze: &[&str] = match conn {
        DbConn::Sqlite(_) => &["ANALYZE"],
        DbConn::Postgres(_) => &["VACUUM ANALYZE requests", "VACUUM ANALYZE report_counts"],
    };
    for statement in analyze {
        conn.batch_execute(statement).expect("analyze");
    }
}

/// With `DSAR_BENCH_WITHOUT_REPORT_COUNTS=1`, takes the reports' triggers off this database,
/// to measure what keeping the counts costs a filing (an A/B in one build).
pub fn report_counts_off_if_asked(conn: &mut DbConn) {
    if std::env::var("DSAR_BENCH_WITHOUT_REPORT_COUNTS").is_err() {
        return;
    }
    let sql = match conn {
        DbConn::Sqlite(_) => {
            "DROP TRIGGER report_counts_insert; DROP TRIGGER report_counts_delete;
             DROP TRIGGER report_counts_received_moved; DROP TRIGGER report_counts_closed_moved;
             DROP TRIGGER report_counts_open_moved;"
        }
        DbConn::Postgres(_) => "ALTER TABLE requests DISABLE TRIGGER report_counts_follow",
    };
    conn.batch_execute(sql).expect("triggers off");
}

/// The DPO every bench signs in as: bench@example.org, "benchmark password".
pub fn add_dpo(conn: &mut DbConn, now: chrono::DateTime<chrono::Utc>) {
    let (user, _) = dsar::staff::add_user(
        conn,
        "bench@example.org",
        "Bench",
        dsar::staff::Role::Dpo,
        "bench",
        now,
    )
    .expect("user");
    dsar::store::users::set_password(
        conn,
        user.id,
        &dsar::staff::hash_password("benchmark password").expect("hash"),
    )
    .expect("password");
}

/// Signs the bench's DPO in like a browser (the CSRF cookie from the form, then the session
/// cookie); returns the `Cookie` header of the session.
pub async fn sign_in(client: &awc::Client, base: &str) -> String {
    let mut login = client
        .get(format!("{base}/admin/login"))
        .send()
        .await
        .expect("login page");
    let csrf_cookie = login
        .headers()
        .get_all("set-cookie")
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("dsar_csrf="))
        .expect("csrf cookie")
        .split(';')
        .next()
        .unwrap_or("")
        .to_string();
    let html = String::from_utf8_lossy(&login.body().await.expect("body")).into_owned();
    let token = html
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .expect("csrf field")
        .to_string();
    let res = client
        .post(format!("{base}/admin/login"))
        .insert_header(("Cookie", csrf_cookie))
        .send_form(&[
            ("csrf", token.as_str()),
            ("email", "bench@example.org"),
            ("password", "benchmark password"),
        ])
        .await
        .expect("login");
    res.headers()
        .get_all("set-cookie")
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("dsar_staff="))
        .expect("session cookie")
        .split(';')
        .next()
        .unwrap_or("")
        .to_string()
}
