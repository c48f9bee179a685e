#![allow(clippy::unwrap_used, clippy::expect_used)]
//! An access package of about 1 GiB: one person with 1,100,000 rows of ~1 KiB in a shop
//! database, gathered by the `source_run` job, packaged by the `build_export` job, then read
//! back as a download streams it; once with the files in a folder, once in the database
//! (`storage.backend`). Prints the time and the peak RSS of each step (the process's
//! high-water mark, reset between steps through /proc/self/clear_refs), in one table.
//!
//!   cargo bench --bench export
//!   DSAR_BENCH_ROWS=100000 cargo bench --bench export     (a quicker look)
//!   DSAR_BENCH_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/test cargo bench --bench export

mod common;

use std::collections::BTreeMap;
use std::io::Read;
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::{Connection, QueryDsl, RunQueryDsl};

use dsar::app::{Application, Options};
use dsar::config::StorageBackend;

fn peak_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

/// Starts a new high-water mark, so each step reports its own peak.
fn reset_peak() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let rows: u64 = common::env_or("DSAR_BENCH_ROWS", 1_100_000);
    let dir = tempfile::tempdir().expect("dir");

    // The shop: one customer, `rows` events of 900 random hex characters plus a few fields.
    let shop = dir.path().join("shop.sqlite3");
    let started = Instant::now();
    let mut conn =
        diesel::sqlite::SqliteConnection::establish(&shop.display().to_string()).expect("shop");
    conn.batch_execute(&format!(
        "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF;
         CREATE TABLE events (id INTEGER PRIMARY KEY, email TEXT NOT NULL, at TEXT, kind TEXT, payload TEXT);
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {rows})
         INSERT INTO events SELECT i, 'bench@example.org', '2025-01-01T00:00:00Z', 'page_view', lower(hex(randomblob(450))) FROM n;
         CREATE INDEX events_email ON events (email);"
    ))
    .expect("shop rows");
    drop(conn);
    println!(
        "shop: {rows} rows, {:.0} MiB on disk, made in {:.1} s",
        mib(std::fs::metadata(&shop).map(|m| m.len()).unwrap_or(0)),
        started.elapsed().as_secs_f64()
    );
    let sources = dir.path().join("sources.toml");
    std::fs::write(
        &sources,
        format!(
            r#"[[source]]
id = "shop"
name = "Shop"
kind = "sql"
url = "sqlite://{}"
activity = "account"
[[source.table]]
name = "events"
match = "email"
columns = ["id", "email", "at", "kind", "payload"]
categories = ["connection_logs"]
erase = "delete"
"#,
            shop.display()
        ),
    )
    .expect("sources");

    // SAFETY: set before anything reads the environment on another thread.
    unsafe {
        std::env::set_var("DSAR_REGISTER__FILE", "config/register.example.toml");
        std::env::set_var(
            "DSAR_FULFILMENT__SOURCES_FILE",
            sources.display().to_string(),
        );
        std::env::set_var(
            "DSAR_FULFILMENT__KEY_FILE",
            dir.path().join("fulfilment.key").display().to_string(),
        );
    }
    let mut table = Vec::new();
    for backend in [StorageBackend::Folder, StorageBackend::Database] {
        table.push((backend, run(&dir, backend)));
    }
    println!();
    println!("| store | gather (source_run) | package (build_export) | download (decrypt) |");
    println!("|---|---|---|---|");
    for (backend, steps) in &table {
        let cells: Vec<String> = steps
            .iter()
            .map(|(took, peak)| format!("{:.1} s, {peak:.1} MiB", took.as_secs_f64()))
            .collect();
        println!("| {} | {} |", store_name(*backend), cells.join(" | "));
    }
}

fn store_name(backend: StorageBackend) -> String {
    let engine = if std::env::var("DSAR_BENCH_POSTGRES_URL").is_ok() {
        "PostgreSQL"
    } else {
        "SQLite"
    };
    match backend {
        StorageBackend::Folder => format!("folder (database {engine})"),
        StorageBackend::Database => format!("database ({engine})"),
    }
}

/// Gathers, packages and downloads with files kept where `backend` says, on a database of
/// its own; returns the time and the peak RSS of each step.
fn run(dir: &tempfile::TempDir, backend: StorageBackend) -> [(Duration, f64); 3] {
    let label = match backend {
        StorageBackend::Folder => "export_folder",
        StorageBackend::Database => "export_db",
    };
    let db = common::database(dir, label);
    let mut settings = common::settings(&db.url, dir.path());
    settings.fulfilment.dir = dir.path().join(label).display().to_string();
    settings.storage.backend = backend;
    actix_web::rt::System::new().block_on(async move {
        let application = Application::build(settings, Options { worker: false }).expect("app");
        let state = application.state();
        let mut conn = state.pool.get().expect("conn");
        let now = state.clock.now();
        let stamp = match &*conn {
            dsar::store::DbConn::Postgres(_) => "TIMESTAMP '2025-03-03 10:00:00'",
            dsar::store::DbConn::Sqlite(_) => "'2025-03-03 10:00:00'",
        };
        conn.batch_execute(&format!(
            "INSERT INTO requests (uuid, ref_year, kind, status, profile, channel, language, requester_name,
                                   requester_email, details, received_at, received_on, due_on, created_by,
                                   created_at, form, verified_at)
             VALUES ('bench-export', 2025, 'access', 'in_progress', 'gdpr', 'web', 'fr', 'Bench Person',
                     'bench@example.org', '', {stamp}, '2025-03-03', '2025-04-03', 'bench', {stamp}, '{{}}', {stamp})"
        ))
        .expect("request");
        let id: i64 = dsar::store::schema::requests::table
            .select(dsar::store::schema::requests::id)
            .first(&mut *conn)
            .expect("id");
        let row = dsar::store::requests::get(&mut conn, id).expect("row");
        dsar::fulfil::dispatch(&mut conn, &state, &row, &BTreeMap::new(), "bench", now)
            .expect("dispatch");
        drop(conn);
        let worker = dsar::worker::standard(state.clone()).expect("the worker starts");

        reset_peak();
        let started = Instant::now();
        assert!(worker.run_once().expect("gather"));
        let gathered = started.elapsed();
        let gather_peak = peak_rss_mib();

        reset_peak();
        let started = Instant::now();
        assert!(worker.run_once().expect("package"));
        let packaged = started.elapsed();
        let package_peak = peak_rss_mib();

        let mut conn = state.pool.get().expect("conn");
        let export = dsar::store::fulfilment::export_for(&mut conn, id)
            .expect("export")
            .expect("built");
        assert_eq!(export.status.as_str(), "review", "{:?}", export.error);
        let files: Vec<dsar::fulfil::package::ManifestFile> =
            serde_json::from_str(&export.manifest).expect("manifest");
        let content: u64 = files.iter().map(|f| f.size).sum();
        let data_json = files
            .iter()
            .find(|f| f.name == "data/shop.json")
            .map_or(0, |f| f.size);

        // A download: the package decrypted as it streams, to nowhere.
        reset_peak();
        let started = Instant::now();
        let mut reader = dsar::fulfil::open_sealed(&state, export.storage_name.as_deref().expect("file"))
            .expect("open");
        let mut buf = vec![0u8; 64 * 1024];
        let mut read = 0u64;
        loop {
            let n = reader.read(&mut buf).expect("read");
            if n == 0 {
                break;
            }
            read += n as u64;
        }
        let downloaded = started.elapsed();
        let download_peak = peak_rss_mib();

        println!(
            "{}: {} records, data/shop.json {:.0} MiB, all files {:.0} MiB uncompressed, \
             zip {:.0} MiB, encrypted as stored {:.0} MiB",
            store_name(backend),
            export.records,
            mib(data_json),
            mib(content),
            mib(read),
            mib(export.size.unwrap_or(0) as u64),
        );
        drop(conn);
        drop(reader);
        if backend == StorageBackend::Database {
            let mut conn = state.pool.get().expect("conn");
            let (files, chunks) = dsar::store::blobs::counts(&mut conn).expect("counts");
            println!("  in the database: {files} files, {chunks} chunks");
        }
        drop(state);
        db.drop_database();
        [
            (gathered, gather_peak),
            (packaged, package_peak),
            (downloaded, download_peak),
        ]
    })
}
