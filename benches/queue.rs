#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The staff queue page with a million requests: loads them (80 % closed, 20 % open, spread
//! over two years of due dates), signs a DPO in, and times `GET /admin` pages — the first
//! page, a later keyset page, stage tabs and filtered views — printing p50/p99 for each.
//! Every page counts the stage tabs too.
//!
//!   cargo bench --bench queue                      # SQLite
//!   DSAR_BENCH_POSTGRES_URL=postgres://postgres@127.0.0.1/test cargo bench --bench queue
//!   options: DSAR_BENCH_ROWS (1000000), DSAR_BENCH_SAMPLES (300)

mod common;

use std::time::{Duration, Instant};

use dsar::app::{Application, Options};

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let rows: u64 = common::env_or("DSAR_BENCH_ROWS", 1_000_000);
    let samples: usize = common::env_or("DSAR_BENCH_SAMPLES", 300);
    let dir = tempfile::tempdir().expect("dir");
    let db = common::database(&dir, "queue");
    let settings = common::settings(&db.url, dir.path());
    actix_web::rt::System::new().block_on(async move {
        let application = Application::build(settings, Options { worker: false }).expect("app");
        let port = application.port();
        let state = application.state();
        let started = Instant::now();
        {
            let mut conn = state.pool.get().expect("conn");
            common::load_requests(&mut conn, rows, 1);
            common::add_dpo(&mut conn, state.clock.now());
        }
        println!(
            "queue benchmark: {:?} backend, {rows} requests loaded in {:.1} s",
            state.backend,
            started.elapsed().as_secs_f64()
        );
        actix_web::rt::spawn(application.run_until_stopped());
        let base = format!("http://127.0.0.1:{port}");
        let client = awc::Client::builder()
            .disable_redirects()
            .timeout(Duration::from_secs(30))
            .finish();
        let session = common::sign_in(&client, &base).await;
        // The link to the second page of a view, as the first page gives it.
        let next_of = |path: &'static str| {
            let (client, base, session) = (client.clone(), base.clone(), session.clone());
            async move {
                let body = client
                    .get(format!("{base}{path}"))
                    .insert_header(("Cookie", session))
                    .send()
                    .await
                    .expect("queue")
                    .body()
                    .await
                    .expect("body");
                String::from_utf8_lossy(&body)
                    .split("rel=\"next\" href=\"")
                    .nth(1)
                    .and_then(|r| r.split('"').next())
                    .map(|q| q.replace("&#38;", "&").replace("&amp;", "&"))
                    .unwrap_or_else(|| path.into())
            }
        };
        let later = next_of("/admin").await;
        let later_received = next_of("/admin?sort=received").await;
        for (label, path) in [
            ("first page", "/admin".to_string()),
            ("next page (keyset)", later),
            ("overdue only", "/admin?overdue=1".to_string()),
            ("stage: to verify", "/admin?stage=to_verify".to_string()),
            ("stage: to answer", "/admin?stage=to_answer".to_string()),
            ("latest received", "/admin?sort=received".to_string()),
            ("received, next page", later_received),
            // Half way down a day of 200,000 open requests received on the same day.
            (
                "received, deep page",
                "/admin?sort=received&after=2026-01-01_500000".to_string(),
            ),
            (
                "received, to verify",
                "/admin?sort=received&stage=to_verify".to_string(),
            ),
            ("kind=erasure", "/admin?kind=erasure".to_string()),
            ("unassigned", "/admin?assignee=unassigned".to_string()),
            (
                "search by email",
                "/admin?q=p123455%40example.org".to_string(),
            ),
        ] {
            let mut times = Vec::with_capacity(samples);
            for _ in 0..samples {
                let t = Instant::now();
                let mut res = client
                    .get(format!("{base}{path}"))
                    .insert_header(("Cookie", session.clone()))
                    .send()
                    .await
                    .expect("queue page");
                let _ = res.body().limit(10 * 1024 * 1024).await.expect("body");
                assert_eq!(res.status().as_u16(), 200, "{path}");
                times.push(t.elapsed());
            }
            times.sort();
            println!(
                "{label:<20} p50 {:>6.2} ms   p99 {:>6.2} ms   ({samples} requests, one at a time)",
                percentile(&times, 0.5),
                percentile(&times, 0.99)
            );
        }
    });
    db.drop_database();
}
