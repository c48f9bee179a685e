//! The job queue under pressure: two workers share a few thousand jobs and each runs once; a
//! worker that dies mid-job loses it to another once its lease runs out; a job that panics
//! does not stop the loop, ends dead after its attempts, and an admin can give it another go.

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::Duration;
use dsar::state::AppState;
use dsar::store::jobs;
use dsar::store::write_tx;
use dsar::worker::Worker;

use crate::admin::staff;
use crate::helpers::TestApp;
use crate::on_both_backends;

/// How many times each payload ran, across every test of this file.
static RUNS: Mutex<Option<HashMap<String, u32>>> = Mutex::new(None);

fn count(_: &AppState, job: &jobs::JobRow) -> Result<(), String> {
    let mut runs = RUNS.lock().map_err(|e| e.to_string())?;
    *runs
        .get_or_insert_with(HashMap::new)
        .entry(job.payload.clone())
        .or_insert(0) += 1;
    Ok(())
}

fn explode(_: &AppState, _: &jobs::JobRow) -> Result<(), String> {
    panic!("the handler hit a bug");
}

fn runs_of(prefix: &str) -> Vec<u32> {
    let runs = RUNS.lock().expect("lock");
    runs.as_ref()
        .map(|m| {
            m.iter()
                .filter(|(k, _)| k.starts_with(prefix))
                .map(|(_, n)| *n)
                .collect()
        })
        .unwrap_or_default()
}

fn worker(app: &TestApp) -> Worker {
    let mut w = Worker::new(app.state.clone());
    w.register("count", count);
    w.register("explode", explode);
    w
}

fn enqueue(app: &TestApp, kind: &str, payloads: &[String]) {
    let now = app.state.clock.now_naive();
    let mut conn = app.state.pool.get().expect("conn");
    write_tx(&mut conn, |conn| {
        for p in payloads {
            jobs::enqueue(conn, kind, p, now, None, now)?;
        }
        Ok::<_, diesel::result::Error>(())
    })
    .expect("enqueued");
}

async fn two_workers_run_each_job_once(app: TestApp) {
    let run = dsar::crypto::random_token()[..12].to_string();
    let payloads: Vec<String> = (0..3000).map(|n| format!("{run}-{n}")).collect();
    enqueue(&app, "count", &payloads);
    let workers = [worker(&app), worker(&app)];
    let done: Vec<usize> = std::thread::scope(|s| {
        let handles: Vec<_> = workers
            .iter()
            .map(|w| {
                s.spawn(move || {
                    let mut n = 0;
                    while w.run_once().expect("worker") {
                        n += 1;
                    }
                    n
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("thread"))
            .collect()
    });
    let runs = runs_of(&run);
    assert_eq!(runs.len(), 3000, "every job ran");
    assert!(runs.iter().all(|n| *n == 1), "no job ran twice");
    assert_eq!(done.iter().sum::<usize>(), 3000);
    println!("jobs per worker: {done:?}");
    let mut conn = app.state.pool.get().expect("conn");
    assert_eq!(
        jobs::count_by_status(&mut conn, jobs::DONE).expect("count"),
        3000
    );
}
on_both_backends!(two_workers, two_workers_run_each_job_once);

async fn a_crashed_workers_job_is_taken_over(app: TestApp) {
    let run = dsar::crypto::random_token()[..12].to_string();
    enqueue(&app, "count", &[format!("{run}-crash")]);
    // A worker claims the job and dies before finishing it.
    {
        let mut conn = app.state.pool.get().expect("conn");
        let claimed = jobs::claim(
            &mut conn,
            "doomed-worker",
            app.state.clock.now_naive(),
            dsar::worker::lease(&app.state.settings.worker),
        )
        .expect("claim")
        .expect("a job");
        assert_eq!(claimed.payload, format!("{run}-crash"));
    }
    let survivor = worker(&app);
    assert!(!survivor.run_once().expect("run"), "the lease still holds");
    app.state
        .clock
        .advance(dsar::worker::lease(&app.state.settings.worker) + Duration::seconds(1));
    assert!(
        survivor.run_once().expect("run"),
        "taken over once the lease ran out"
    );
    assert_eq!(runs_of(&format!("{run}-crash")), vec![1]);
}
on_both_backends!(crashed_worker, a_crashed_workers_job_is_taken_over);

/// A worker still on a long job renews its lease, and nobody takes the job from it.
async fn a_renewed_lease_keeps_a_long_job(app: TestApp) {
    let run = dsar::crypto::random_token()[..12].to_string();
    enqueue(&app, "count", &[format!("{run}-long")]);
    let claimed = {
        let mut conn = app.state.pool.get().expect("conn");
        jobs::claim(
            &mut conn,
            "busy-worker",
            app.state.clock.now_naive(),
            dsar::worker::lease(&app.state.settings.worker),
        )
        .expect("claim")
        .expect("a job")
    };
    let survivor = worker(&app);
    for _ in 0..3 {
        // Four minutes on, the busy worker renews (as its heartbeat does every minute).
        app.state.clock.advance(Duration::minutes(4));
        let mut conn = app.state.pool.get().expect("conn");
        let until = app.state.clock.now_naive() + dsar::worker::lease(&app.state.settings.worker);
        assert!(jobs::extend_lease(&mut conn, claimed.id, "busy-worker", until).expect("renew"));
        drop(conn);
        assert!(!survivor.run_once().expect("run"), "a renewed lease holds");
    }
    // Another worker cannot renew what it does not hold.
    let mut conn = app.state.pool.get().expect("conn");
    let until = app.state.clock.now_naive() + dsar::worker::lease(&app.state.settings.worker);
    assert!(!jobs::extend_lease(&mut conn, claimed.id, "someone-else", until).expect("renew"));
    assert!(runs_of(&format!("{run}-long")).is_empty());
}
on_both_backends!(renewed_lease, a_renewed_lease_keeps_a_long_job);

async fn a_panicking_job_ends_dead_and_can_be_revived(app: TestApp) {
    let run = dsar::crypto::random_token()[..12].to_string();
    enqueue(&app, "explode", &[format!("{run}-bomb")]);
    enqueue(&app, "count", &[format!("{run}-after")]);
    let w = worker(&app);
    // Each failure pushes the next attempt further out; the clock follows until it is dead.
    for _ in 0..12 {
        while w.run_once().expect("the loop survives the panic") {}
        app.state.clock.advance(Duration::hours(7));
    }
    assert_eq!(
        runs_of(&format!("{run}-after")),
        vec![1],
        "the other job ran"
    );
    let mut ada = staff(&app, "ada@example.fr", dsar::staff::Role::Admin).await;
    let page = ada.get("/admin/jobs").await;
    page.assert_contains("1 stopped");
    page.assert_contains("the job panicked: the handler hit a bug");
    let id = {
        let mut conn = app.state.pool.get().expect("conn");
        jobs::troubled(&mut conn, 10).expect("jobs")[0].id
    };
    let revived = ada
        .post_urlencoded(
            &format!("/admin/jobs/{id}/revive"),
            &[("csrf", &page.csrf())],
        )
        .await;
    revived.assert_contains("queued again");
    let mut conn = app.state.pool.get().expect("conn");
    assert_eq!(
        jobs::count_by_status(&mut conn, jobs::DEAD).expect("count"),
        0
    );
}
on_both_backends!(dead_jobs, a_panicking_job_ends_dead_and_can_be_revived);

/// `worker.retry_backoff_seconds` sets the first wait after a failure; each next one doubles.
async fn a_failed_job_waits_the_configured_backoff(app: TestApp) {
    let run = dsar::crypto::random_token()[..12].to_string();
    enqueue(&app, "no-such-kind", &[format!("{run}-orphan")]);
    let w = worker(&app);
    for wait in [2, 4, 8] {
        let before = app.state.clock.now_naive();
        assert!(w.run_once().expect("runs"), "the job was due");
        let after = app.state.clock.now_naive();
        let mut conn = app.state.pool.get().expect("conn");
        let job = jobs::troubled(&mut conn, 1).expect("jobs").remove(0);
        assert_eq!(job.status, jobs::QUEUED);
        let waits = Duration::seconds(wait);
        assert!(
            job.run_at >= before + waits && job.run_at <= after + waits,
            "after failure {} the job runs at {}, not {wait} s after {before}",
            job.attempts,
            job.run_at
        );
        assert!(
            !w.run_once().expect("runs"),
            "nothing due before the backoff"
        );
        app.state.clock.advance(waits);
    }
}
on_both_backends!(
    retry_backoff_setting,
    a_failed_job_waits_the_configured_backoff,
    [("DSAR_WORKER__RETRY_BACKOFF_SECONDS", "2")]
);
