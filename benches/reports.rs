#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The Reports page at 10,000, 100,000 and 1,000,000 requests (the queue bench's rows: 80 %
//! closed within 45 days, 20 % open, received over a year): signs a DPO in and times
//! `GET /admin/reports` for the year, one page at a time, printing p50/p99, and beside it
//! the same figures counted from every request (`workflow::reports::recount`, what the page
//! did before the kept counts), checked equal.
//!
//!   cargo bench --bench reports                      # SQLite
//!   DSAR_BENCH_POSTGRES_URL=postgres://postgres@127.0.0.1/test cargo bench --bench reports
//!   options: DSAR_BENCH_SIZES (10000,100000,1000000), DSAR_BENCH_SAMPLES (200)

mod common;

use std::time::{Duration, Instant};

use chrono::NaiveDate;
use dsar::app::{Application, Options};

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let sizes: Vec<u64> = std::env::var("DSAR_BENCH_SIZES")
        .unwrap_or_else(|_| "10000,100000,1000000".into())
        .split(',')
        .filter_map(|v| v.trim().parse().ok())
        .collect();
    let samples: usize = common::env_or("DSAR_BENCH_SAMPLES", 200);
    println!("| requests | load | page p50 | page p99 | recount from every request |");
    println!("|---|---|---|---|---|");
    for rows in sizes {
        run(rows, samples);
    }
}

fn run(rows: u64, samples: usize) {
    let dir = tempfile::tempdir().expect("dir");
    let db = common::database(&dir, "reports");
    let settings = common::settings(&db.url, dir.path());
    actix_web::rt::System::new().block_on(async move {
        let application = Application::build(settings, Options { worker: false }).expect("app");
        let port = application.port();
        let state = application.state();
        let started = Instant::now();
        {
            let mut conn = state.pool.get().expect("conn");
            common::load_requests(&mut conn, rows, 365);
            common::add_dpo(&mut conn, state.clock.now());
        }
        let load = started.elapsed().as_secs_f64();
        // The same range the page is asked for, counted both ways.
        let (first, until) = (
            NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
            NaiveDate::from_ymd_opt(2027, 1, 1).unwrap(),
        );
        let today = state.law.today(state.clock.now());
        let (kept, recount, recount_took) = {
            let mut conn = state.pool.get().expect("conn");
            let kept = dsar::workflow::reports::figures(&mut conn, first, until, today).unwrap();
            let started = Instant::now();
            let recount =
                dsar::workflow::reports::recount(&mut conn, &state.law, first, until, today)
                    .unwrap();
            (kept, recount, started.elapsed())
        };
        assert_eq!(kept, recount, "the kept counts equal a recount");
        let received: i64 = kept.received.iter().map(|c| c.count).sum();
        assert_eq!(received as u64, rows, "every request received in the year");
        actix_web::rt::spawn(application.run_until_stopped());
        let base = format!("http://127.0.0.1:{port}");
        let client = awc::Client::builder()
            .disable_redirects()
            .timeout(Duration::from_secs(120))
            .finish();
        let session = common::sign_in(&client, &base).await;
        let url = format!("{base}/admin/reports?from=2026-01&to=2026-12");
        let mut times = Vec::with_capacity(samples);
        for i in 0..samples + 5 {
            let started = Instant::now();
            let mut res = client
                .get(&url)
                .insert_header(("Cookie", session.clone()))
                .send()
                .await
                .expect("reports");
            let body = res.body().limit(4 << 20).await.expect("body");
            assert_eq!(res.status().as_u16(), 200);
            assert!(!body.is_empty());
            // A few first pages warm the connection and the caches.
            if i >= 5 {
                times.push(started.elapsed());
            }
        }
        times.sort();
        println!(
            "| {rows} | {load:.1} s | {:.2} ms | {:.2} ms | {:.0} ms |",
            percentile(&times, 0.5),
            percentile(&times, 0.99),
            recount_took.as_secs_f64() * 1000.0
        );
    });
    db.drop_database();
}
