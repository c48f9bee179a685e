//! What every benchmark needs: its knobs from the environment, a fresh database (a temp
//! SQLite file, or a new PostgreSQL database when `DSAR_BENCH_POSTGRES_URL` names a server),
//! and the embedded settings pointed at it.

use diesel::{Connection, RunQueryDsl};

use dsar::config::Settings;

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
