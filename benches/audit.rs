#![allow(clippy::unwrap_used, clippy::expect_used)]
//! `dsar audit verify` over a long trail: loads N sealed entries whose chain is computed here
//! with the product's own `entry_hash` (as the sealer would have left them), then times
//! `store::audit::verify`, the function the command runs, and reads the peak RSS of the walk
//! alone (the peak is reset after loading, through /proc/self/clear_refs).
//!
//!   cargo bench --bench audit                      # SQLite
//!   DSAR_BENCH_POSTGRES_URL=postgres://postgres@127.0.0.1/test cargo bench --bench audit
//!   options: DSAR_BENCH_SIZES (1000000,10000000)

mod common;

use std::time::Instant;

use chrono::{Duration, NaiveDate};
use diesel::connection::SimpleConnection;

use dsar::store::audit::{ChainStatus, Entry, GENESIS, entry_hash, verify};
use dsar::store::{DbConn, write_tx};

const BATCH: usize = 1_000;
const PER_TRANSACTION: usize = 100_000;

/// Appends `rows` sealed entries after the `done` already there, continuing the chain from
/// `prev`; returns the last hash.
fn load(conn: &mut DbConn, done: u64, rows: u64, mut prev: String) -> String {
    let start = NaiveDate::from_ymd_opt(2026, 1, 1)
        .and_then(|d| d.and_hms_opt(8, 0, 0))
        .expect("a day");
    let actions = [
        "request.filed",
        "request.verified",
        "request.viewed",
        "mail.sent",
        "request.closed",
    ];
    let mut seq = done;
    let end = done + rows;
    while seq < end {
        let upto = (seq + PER_TRANSACTION as u64).min(end);
        let mut sql = String::with_capacity(BATCH * 400);
        let mut statements = Vec::new();
        while seq < upto {
            let batch_end = (seq + BATCH as u64).min(upto);
            sql.clear();
            sql.push_str(
                "INSERT INTO audit_log (at, actor, action, target_type, target_id, details, seq, prev_hash, hash) VALUES ",
            );
            while seq < batch_end {
                seq += 1;
                let at = start + Duration::seconds(i64::try_from(seq).expect("fits"));
                let target = format!("{}", 1 + seq / 7);
                let details = format!("{{\"step\":{},\"by\":\"user:{}\"}}", seq % 13, seq % 20);
                let entry = Entry {
                    at,
                    actor: "user:3",
                    action: actions[(seq % 5) as usize],
                    target_type: "request",
                    target_id: Some(&target),
                    details: &details,
                };
                let n = i64::try_from(seq).expect("fits");
                let hash = entry_hash(&prev, n, &entry);
                if !sql.ends_with("VALUES ") {
                    sql.push(',');
                }
                sql.push_str(&format!(
                    "('{}', 'user:3', '{}', 'request', '{target}', '{details}', {n}, '{prev}', '{hash}')",
                    at.format("%Y-%m-%d %H:%M:%S"),
                    entry.action,
                ));
                prev = hash;
            }
            statements.push(sql.clone());
        }
        write_tx(conn, |conn| {
            for statement in &statements {
                match conn {
                    DbConn::Sqlite(c) => c.batch_execute(statement)?,
                    DbConn::Postgres(c) => c.batch_execute(statement)?,
                }
            }
            Ok::<_, diesel::result::Error>(())
        })
        .expect("entries loaded");
    }
    prev
}

fn status_line(key: &str) -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(key))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

fn main() {
    let sizes: Vec<u64> = std::env::var("DSAR_BENCH_SIZES")
        .unwrap_or_else(|_| "1000000,10000000".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let dir = tempfile::tempdir().expect("temp dir");
    let db = common::database(&dir, "audit");
    let settings = common::settings(&db.url, dir.path());
    let backend = if db.url.starts_with("postgres") {
        "PostgreSQL"
    } else {
        "SQLite"
    };
    let pool = dsar::store::connect(&settings.database).expect("pool");
    let mut conn = pool.get().expect("conn");
    dsar::store::migrate(&mut conn).expect("migrations");

    println!(
        "| backend | entries | verify | entries per second | peak RSS of the walk | of which anonymous (heap) |"
    );
    println!("|---|---|---|---|---|---|");
    let (mut loaded, mut prev) = (0u64, GENESIS.to_string());
    for size in sizes {
        let started = Instant::now();
        prev = load(&mut conn, loaded, size - loaded, prev);
        loaded = size;
        if let DbConn::Postgres(c) = &mut *conn {
            c.batch_execute("VACUUM ANALYZE audit_log").expect("vacuum");
        }
        eprintln!(
            "loaded {size} entries in {:.1} s",
            started.elapsed().as_secs_f64()
        );
        // Peak RSS from here on only (Linux ≥ 4.0); the heap's own peak sampled beside it,
        // since SQLite's mapped database pages count in RSS but are the kernel's to drop.
        let _ = std::fs::write("/proc/self/clear_refs", "5");
        let walking = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
        let sampler = {
            let walking = walking.clone();
            std::thread::spawn(move || {
                let mut peak: f64 = 0.0;
                while walking.load(std::sync::atomic::Ordering::Relaxed) {
                    peak = peak.max(status_line("RssAnon:"));
                    std::thread::sleep(std::time::Duration::from_millis(20));
                }
                peak
            })
        };
        let started = Instant::now();
        let status = verify(&mut conn).expect("verify");
        let took = started.elapsed();
        walking.store(false, std::sync::atomic::Ordering::Relaxed);
        let heap = sampler.join().expect("sampler");
        assert_eq!(
            status,
            ChainStatus::Intact {
                entries: size,
                unsealed: 0
            }
        );
        println!(
            "| {backend} | {size} | {:.1} s | {:.0} | {:.0} MiB | {heap:.0} MiB |",
            took.as_secs_f64(),
            size as f64 / took.as_secs_f64(),
            status_line("VmHWM:")
        );
    }
    drop(conn);
    drop(pool);
    db.drop_database();
}
