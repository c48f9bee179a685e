#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The register of requests downloaded whole, as CSV and as JSON, at several sizes: loads the
//! requests (as `benches/queue.rs` does), signs a DPO in, and times each download from the
//! first byte asked to the last received, with the rows and bytes received. The server runs
//! in a process of its own (this bench started again as the server), so its resident memory
//! before and at its peak during the download is the server's alone, SQLite's mapped pages
//! included. Receipts all on one day, or spread over a year.
//!
//!   cargo bench --bench register                      # SQLite
//!   DSAR_BENCH_POSTGRES_URL=postgres://postgres@127.0.0.1/test cargo bench --bench register
//!   options: DSAR_BENCH_SIZES (10000,100000,1000000), DSAR_BENCH_SPREADS (1,365: days)

mod common;

use std::io::BufRead;
use std::time::{Duration, Instant};

use futures_util::StreamExt;

use dsar::app::{Application, Options};

/// A process's resident memory now (`VmRSS`) or its peak since the last reset (`VmHWM`),
/// in MiB.
fn memory_mib(pid: u32, which: &str) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with(which))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

/// Starts a process's peak over from the memory it uses now.
fn reset_peak(pid: u32) {
    let _ = std::fs::write(format!("/proc/{pid}/clear_refs"), "5");
}

/// The server's process: this bench started again with `DSAR_BENCH_SERVE_URL`, serving that
/// database until killed, its port on the first line of its output.
fn serve(url: &str, dir: &str) {
    let settings = common::settings(url, std::path::Path::new(dir));
    actix_web::rt::System::new().block_on(async move {
        let application = Application::build(settings, Options { worker: false }).expect("app");
        println!("port {}", application.port());
        application.run_until_stopped().await.expect("serve");
    });
}

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    if let (Ok(url), Ok(dir)) = (
        std::env::var("DSAR_BENCH_SERVE_URL"),
        std::env::var("DSAR_BENCH_SERVE_DIR"),
    ) {
        serve(&url, &dir);
        return;
    }
    let list = |name: &str, default: &str| -> Vec<u64> {
        std::env::var(name)
            .unwrap_or_else(|_| default.to_string())
            .split(',')
            .filter_map(|v| v.trim().parse().ok())
            .collect()
    };
    let sizes = list("DSAR_BENCH_SIZES", "10000,100000,1000000");
    let spreads = list("DSAR_BENCH_SPREADS", "1,365");
    println!(
        "| receipts | rows | format | time | rows/s | MiB received | server RSS before → peak during |"
    );
    println!("|---|---|---|---|---|---|---|");
    for &days in &spreads {
        for &rows in &sizes {
            run(rows, days);
        }
    }
}

fn run(rows: u64, days: u64) {
    let dir = tempfile::tempdir().expect("dir");
    let db = common::database(&dir, "register");
    let settings = common::settings(&db.url, dir.path());
    {
        // Migrated and loaded here; then served by a process of its own.
        let state = dsar::app::prepare(settings, Default::default()).expect("store");
        let mut conn = state.pool.get().expect("conn");
        common::load_requests(&mut conn, rows, days);
        common::add_dpo(&mut conn, state.clock.now());
    }
    let mut server = std::process::Command::new(std::env::current_exe().expect("bench"))
        .arg("--bench")
        .env("DSAR_BENCH_SERVE_URL", &db.url)
        .env("DSAR_BENCH_SERVE_DIR", dir.path())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("server");
    let pid = server.id();
    let mut first = String::new();
    std::io::BufReader::new(server.stdout.take().expect("stdout"))
        .read_line(&mut first)
        .expect("port");
    let port: u16 = first
        .trim()
        .strip_prefix("port ")
        .and_then(|p| p.parse().ok())
        .expect("port line");
    actix_web::rt::System::new().block_on(async move {
        let base = format!("http://127.0.0.1:{port}");
        let client = awc::Client::builder()
            .disable_redirects()
            .timeout(Duration::from_secs(600))
            .finish();
        let session = common::sign_in(&client, &base).await;
        let spread = if days == 1 {
            "one day".to_string()
        } else {
            format!("{days} days")
        };
        for format in ["csv", "json"] {
            reset_peak(pid);
            let before = memory_mib(pid, "VmRSS:");
            let started = Instant::now();
            let mut res = client
                .get(format!(
                    "{base}/admin/reports/register.{format}?from=2026-01&to=2026-12"
                ))
                .insert_header(("Cookie", session.clone()))
                .send()
                .await
                .expect("register");
            assert_eq!(res.status().as_u16(), 200, "register.{format}");
            // Read as it comes, never held whole.
            let (mut lines, mut bytes) = (0u64, 0usize);
            while let Some(chunk) = res.next().await {
                let chunk = chunk.expect("chunk");
                bytes += chunk.len();
                lines += chunk.iter().filter(|b| **b == b'\n').count() as u64;
            }
            let took = started.elapsed().as_secs_f64();
            // A line per request, after the CSV's header; between the JSON's brackets.
            let received = match format {
                "csv" => lines - 1,
                _ => lines - 2,
            };
            assert_eq!(received, rows, "every request in the register");
            println!(
                "| {spread} | {rows} | {format} | {took:.2} s | {:.0} | {:.1} | {before:.0} → {:.0} MiB |",
                rows as f64 / took,
                bytes as f64 / (1024.0 * 1024.0),
                memory_mib(pid, "VmHWM:")
            );
        }
    });
    let _ = server.kill();
    let _ = server.wait();
    db.drop_database();
}
