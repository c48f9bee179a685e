//! The black-box harness: the real server on port 0 with a fresh database per test —
//! a temporary SQLite file, or a new PostgreSQL database when DSAR_TEST_POSTGRES_URL is set.

use std::sync::Arc;

use awc::http::StatusCode;
use chrono::{DateTime, Utc};
use diesel::{Connection, RunQueryDsl};
use serde_json::Value;

use dsar::app::{Application, Options};
use dsar::clock::Clock;
use dsar::config::Settings;
use dsar::state::AppState;

pub const POSTGRES_ENV: &str = "DSAR_TEST_POSTGRES_URL";
/// Set by CI: a PostgreSQL test that cannot run fails instead of skipping.
pub const REQUIRE_POSTGRES_ENV: &str = "DSAR_TEST_REQUIRE_POSTGRES";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub struct TestApp {
    pub address: String,
    pub state: Arc<AppState>,
    pub api_key: String,
    pub client: awc::Client,
    _dir: tempfile::TempDir,
    _pg: Option<PgDatabase>,
}

/// A database of its own for one test, dropped when the test ends.
/// A new PostgreSQL database for one test, dropped with it.
pub struct PgDatabase {
    admin_url: String,
    name: String,
    pub url: String,
}

impl PgDatabase {
    /// `None` (with the reason printed) when PostgreSQL is not configured and CI did not ask
    /// for it; `prefix` names the database after what uses it.
    pub fn create(prefix: &str) -> Option<Self> {
        let Ok(admin_url) = std::env::var(POSTGRES_ENV) else {
            if std::env::var(REQUIRE_POSTGRES_ENV).is_ok_and(|v| v == "1") {
                panic!("{REQUIRE_POSTGRES_ENV}=1 but {POSTGRES_ENV} is not set");
            }
            eprintln!("skipped: PostgreSQL test (set {POSTGRES_ENV}=postgres://… to run it)");
            return None;
        };
        let name = format!("{prefix}_{}", &dsar::crypto::random_token()[..16]);
        let mut conn = diesel::pg::PgConnection::establish(&admin_url).unwrap_or_else(|e| {
            panic!("{POSTGRES_ENV} is set but PostgreSQL cannot be reached: {e}")
        });
        diesel::sql_query(format!("CREATE DATABASE {name}"))
            .execute(&mut conn)
            .expect("create test database");
        let url = with_database(&admin_url, &name);
        Some(PgDatabase {
            admin_url,
            name,
            url,
        })
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        if let Ok(mut conn) = diesel::pg::PgConnection::establish(&self.admin_url) {
            let _ = diesel::sql_query(format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ))
            .execute(&mut conn);
        }
    }
}

pub fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (url, String::new()),
    };
    let server = match base.rsplit_once('/') {
        Some((server, _db)) if server.contains("://") && !server.ends_with('/') => {
            server.to_string()
        }
        _ => base.trim_end_matches('/').to_string(),
    };
    format!("{server}/{name}{query}")
}

/// The settings a test server runs with, plus extra `DSAR_…` overrides.
pub fn test_settings(
    database_url: &str,
    dir: &std::path::Path,
    extra: &[(&str, &str)],
) -> Settings {
    let mut env = vec![
        (
            "DSAR_STORAGE__DIR".to_string(),
            dir.join("files").display().to_string(),
        ),
        // Mails go to the test's own folder, never to data/outbox in the working tree.
        (
            "DSAR_MAIL__OUTBOX_DIR".to_string(),
            dir.join("outbox").display().to_string(),
        ),
        (
            "DSAR_SECURITY__SESSION_KEY_FILE".to_string(),
            dir.join("session.key").display().to_string(),
        ),
        (
            "DSAR_FULFILMENT__DIR".to_string(),
            dir.join("exports").display().to_string(),
        ),
        (
            "DSAR_FULFILMENT__KEY_FILE".to_string(),
            dir.join("fulfilment.key").display().to_string(),
        ),
        ("DSAR_DATABASE__URL".to_string(), database_url.to_string()),
        ("DSAR_HTTP__BIND".to_string(), "127.0.0.1:0".to_string()),
        ("DSAR_HTTP__WORKERS".to_string(), "2".to_string()),
        ("DSAR_DATABASE__POOL_SIZE".to_string(), "4".to_string()),
        (
            "DSAR_WORKER__POLL_INTERVAL_MS".to_string(),
            "100".to_string(),
        ),
    ];
    // The dashboard speaks the organisation's language (French by default); the tests that
    // read staff pages were written in English, and the French ones ask for it.
    if !extra
        .iter()
        .any(|(k, _)| *k == "DSAR_ORGANISATION__LANGUAGE")
    {
        env.push(("DSAR_ORGANISATION__LANGUAGE".to_string(), "en".to_string()));
    }
    env.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    Settings::load_from(None, env).expect("test settings load")
}

/// Starts the server for `backend`; `None` (with the reason printed) when PostgreSQL is not
/// configured and CI did not ask for it.
pub async fn try_spawn(backend: Backend, extra: &[(&str, &str)]) -> Option<TestApp> {
    let dir = tempfile::tempdir().expect("temp dir");
    let (url, pg) = match backend {
        Backend::Sqlite => (
            format!("sqlite://{}", dir.path().join("dsar.sqlite3").display()),
            None,
        ),
        Backend::Postgres => {
            let pg = PgDatabase::create("dsar_test")?;
            (pg.url.clone(), Some(pg))
        }
    };
    let settings = test_settings(&url, dir.path(), extra);
    let clock = Clock::default();
    let application = Application::build_with_clock(settings, Options { worker: false }, clock)
        .expect("application builds");
    let address = format!("http://127.0.0.1:{}", application.port());
    let state = application.state();
    actix_web::rt::spawn(application.run_until_stopped());
    let api_key = {
        let mut conn = state.pool.get().expect("connection");
        dsar::staff::api_keys::create_key(&mut conn, "tests", state.clock.now_naive())
            .expect("api key")
            .0
    };
    Some(TestApp {
        address,
        state,
        api_key,
        client: awc::Client::builder()
            .timeout(std::time::Duration::from_secs(30))
            .disable_redirects()
            .finish(),
        _dir: dir,
        _pg: pg,
    })
}

impl TestApp {
    /// Another web node beside this one, as behind a load balancer: a second server on the
    /// same database and the same key files (sessions, fulfilment), with storage and outbox
    /// of its own and a clock of its own. It runs no worker and leaves the database to this
    /// one, which drops it.
    pub async fn spawn_node(&self, extra: &[(&str, &str)]) -> TestApp {
        let dir = tempfile::tempdir().expect("temp dir");
        let first = &self.state.settings;
        let mut settings = test_settings(&first.database.url, dir.path(), extra);
        settings
            .security
            .session_key_file
            .clone_from(&first.security.session_key_file);
        settings
            .fulfilment
            .key_file
            .clone_from(&first.fulfilment.key_file);
        let application =
            Application::build_with_clock(settings, Options { worker: false }, Clock::default())
                .expect("the second node builds");
        let address = format!("http://127.0.0.1:{}", application.port());
        let state = application.state();
        actix_web::rt::spawn(application.run_until_stopped());
        TestApp {
            address,
            state,
            api_key: self.api_key.clone(),
            client: awc::Client::builder()
                .timeout(std::time::Duration::from_secs(30))
                .disable_redirects()
                .finish(),
            _dir: dir,
            _pg: None,
        }
    }
}

/// Runs a test body once on SQLite and once on PostgreSQL (when configured).
#[macro_export]
macro_rules! on_both_backends {
    ($name:ident, $body:path) => {
        $crate::on_both_backends!($name, $body, []);
    };
    ($name:ident, $body:path, [$(($k:expr, $v:expr)),* $(,)?]) => {
        mod $name {
            use super::*;
            #[actix_web::test]
            async fn sqlite() {
                let app = $crate::helpers::try_spawn($crate::helpers::Backend::Sqlite, &[$(($k, $v)),*])
                    .await
                    .expect("sqlite app");
                $body(app).await;
            }
            #[actix_web::test]
            async fn postgres() {
                if let Some(app) =
                    $crate::helpers::try_spawn($crate::helpers::Backend::Postgres, &[$(($k, $v)),*]).await
                {
                    $body(app).await;
                }
            }
        }
    };
}

pub struct Answer {
    pub status: StatusCode,
    pub content_type: String,
    pub body: Value,
}

/// The password of every staff account the tests make.
pub const STAFF_PASSWORD: &str = "correct horse battery staple";

/// A staff account with a name and [`STAFF_PASSWORD`], as an accepted invitation leaves it,
/// in the database behind `conn`; returns its id and the one-time link `add_user` made.
pub fn staff_account_in(
    conn: &mut dsar::store::DbConn,
    email: &str,
    name: &str,
    role: dsar::staff::Role,
    now: DateTime<Utc>,
) -> (i64, String) {
    let (user, link) = dsar::staff::add_user(conn, email, name, role, "test", now).expect("user");
    let hash = dsar::staff::hash_password(STAFF_PASSWORD).expect("hash");
    dsar::store::users::set_password(conn, user.id, &hash).expect("password");
    (user.id, link)
}

impl TestApp {
    /// A staff account with a name and [`STAFF_PASSWORD`], as an accepted invitation leaves
    /// it; returns its id and the one-time link `add_user` made.
    pub fn staff_account(&self, email: &str, name: &str, role: dsar::staff::Role) -> (i64, String) {
        let mut conn = self.state.pool.get().expect("conn");
        staff_account_in(&mut conn, email, name, role, self.state.clock.now())
    }

    /// Where the file transport writes the mails of this test's server.
    pub fn outbox_dir(&self) -> std::path::PathBuf {
        self._dir.path().join("outbox")
    }

    /// Runs the worker until no job is due, as the embedded worker would.
    pub async fn run_worker(&self) {
        let state = self.state.clone();
        actix_web::rt::task::spawn_blocking(move || {
            let worker = dsar::worker::standard(state).expect("the worker starts");
            while worker.run_once().expect("worker reaches the database") {}
        })
        .await
        .expect("worker thread");
    }

    pub fn set_now(&self, at: &str) {
        let at: DateTime<Utc> = at.parse().expect("RFC 3339 instant");
        self.state.clock.set(at);
    }

    pub async fn send(
        &self,
        method: &str,
        path: &str,
        key: Option<&str>,
        body: Option<&str>,
    ) -> Answer {
        let url = format!("{}{}", self.address, path);
        let mut req = match method {
            "GET" => self.client.get(&url),
            "POST" => self.client.post(&url),
            "PUT" => self.client.put(&url),
            "DELETE" => self.client.delete(&url),
            other => panic!("unsupported method {other}"),
        };
        if let Some(key) = key {
            req = req.insert_header(("Authorization", format!("Bearer {key}")));
        }
        let mut res = match body {
            Some(b) => {
                req.insert_header(("Content-Type", "application/json"))
                    .send_body(b.to_string())
                    .await
            }
            None => req.send().await,
        }
        .expect("server answers");
        let content_type = res
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let bytes = res.body().limit(50 * 1024 * 1024).await.expect("body");
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
        };
        Answer {
            status: res.status(),
            content_type,
            body,
        }
    }

    pub async fn get(&self, path: &str) -> Answer {
        self.send("GET", path, Some(&self.api_key.clone()), None)
            .await
    }

    pub async fn post(&self, path: &str, body: &Value) -> Answer {
        self.send(
            "POST",
            path,
            Some(&self.api_key.clone()),
            Some(&body.to_string()),
        )
        .await
    }

    /// Files a request through the API and returns its JSON.
    pub async fn file(&self, body: Value) -> Value {
        let res = self.post("/api/v1/requests", &body).await;
        assert_eq!(
            res.status,
            StatusCode::CREATED,
            "filing answered {:?}",
            res.body
        );
        res.body
    }

    /// Files `body` through the API and verifies the request there (an identity document
    /// seen); returns its reference.
    pub async fn file_verified(&self, body: Value) -> String {
        let filed = self.file(body).await;
        let id = filed["id"].as_str().expect("id");
        let res = self
            .post(
                &format!("/api/v1/requests/{id}/events"),
                &serde_json::json!({ "type": "verify", "method": "id_document" }),
            )
            .await;
        assert_eq!(res.status.as_u16(), 200, "{:?}", res.body);
        filed["reference"].as_str().expect("reference").to_string()
    }

    /// Row counts that must not move when input is refused.
    pub fn counts(&self) -> (i64, i64, i64) {
        use diesel::QueryDsl;
        use dsar::store::schema::{audit_log, request_events, requests};
        let mut conn = self.state.pool.get().expect("connection");
        (
            requests::table
                .count()
                .get_result(&mut *conn)
                .expect("count"),
            request_events::table
                .count()
                .get_result(&mut *conn)
                .expect("count"),
            audit_log::table
                .count()
                .get_result(&mut *conn)
                .expect("count"),
        )
    }
}

pub fn assert_problem(res: &Answer, status: u16, mentions: &str) {
    assert_eq!(
        res.status.as_u16(),
        status,
        "expected {status}, got {} with {:?}",
        res.status,
        res.body
    );
    assert!(
        res.content_type.starts_with("application/problem+json"),
        "content type {}",
        res.content_type
    );
    assert_eq!(res.body["status"].as_u64(), Some(u64::from(status)));
    let text = res.body.to_string().to_lowercase();
    assert!(
        text.contains(&mentions.to_lowercase()),
        "problem {:?} does not mention {mentions:?}",
        res.body
    );
}

#[test]
fn database_name_replaces_the_one_in_the_url() {
    assert_eq!(
        with_database("postgres://postgres@127.0.0.1:5432/test", "x"),
        "postgres://postgres@127.0.0.1:5432/x"
    );
    assert_eq!(
        with_database("postgres://postgres@127.0.0.1/test?sslmode=disable", "x"),
        "postgres://postgres@127.0.0.1/x?sslmode=disable"
    );
}

/// A sources file in `dir` with one source, a team that searches its paper archives by hand
/// (every kind of request goes to it); returns its path.
pub fn archives_only(dir: &std::path::Path) -> String {
    let path = dir.join("sources.toml");
    std::fs::write(
        &path,
        r#"
[[source]]
id = "archives"
name = "Archives papier"
kind = "manual"
team = "Service client — archives"
instructions = "Chercher les bons de commande au nom de la personne."
activity = "orders"
categories = ["identity", "orders"]
"#,
    )
    .expect("sources file");
    path.display().to_string()
}
