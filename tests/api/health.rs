use crate::helpers::TestApp;
use crate::on_both_backends;

async fn probes_answer(app: TestApp) {
    let res = app.send("GET", "/healthz", None, None).await;
    assert_eq!(res.status.as_u16(), 200);
    let res = app.send("GET", "/readyz", None, None).await;
    assert_eq!(res.status.as_u16(), 200, "{:?}", res.body);
    assert_eq!(res.body["migrations"], "applied");
}
on_both_backends!(health_and_readiness_probes_answer, probes_answer);

async fn metrics_count_requests_jobs_and_mails(app: TestApp) {
    app.set_now("2025-01-06T09:00:00Z");
    app.file(serde_json::json!({ "kind": "access", "requester": { "name": "A", "email": "a@example.org" } }))
        .await;
    let mut b = crate::web::Browser::new(&app);
    let text = b.get("/metrics").await;
    assert_eq!(text.status.as_u16(), 200);
    for line in [
        "# TYPE dsar_requests gauge",
        "dsar_requests{status=\"verifying\"} 1",
        "dsar_requests{status=\"fulfilled\"} 0",
        "dsar_requests_overdue 0",
        "dsar_jobs{state=\"dead\"} 0",
        "dsar_mails{state=\"failing\"} 0",
    ] {
        assert!(
            text.html.lines().any(|l| l == line),
            "{line} missing:\n{}",
            text.html
        );
    }
    // Three months later the request is overdue.
    app.set_now("2025-04-07T09:00:00Z");
    let text = b.get("/metrics").await;
    assert!(
        text.html.contains("dsar_requests_overdue 1\n"),
        "{}",
        text.html
    );
    assert!(!text.html.contains("a@example.org"));

    // After the night's purge and the morning's sweeps, how each went.
    let state = app.state.clone();
    actix_web::rt::task::spawn_blocking(move || {
        let worker = dsar::worker::standard(state).expect("the worker starts");
        worker.enqueue_scheduled().expect("scheduled");
        while worker.run_once().expect("worker") {}
    })
    .await
    .expect("worker");
    let text = b.get("/metrics").await;
    for task in ["deadline_sweep", "requester_sweep", "purge"] {
        assert!(
            text.html
                .contains(&format!("dsar_task_runs_total{{task=\"{task}\"}} 1\n")),
            "{task}:\n{}",
            text.html
        );
        assert!(
            text.html
                .contains(&format!("dsar_task_last_ok{{task=\"{task}\"}} 1\n")),
            "{task}"
        );
        assert!(
            text.html.contains(&format!(
                "dsar_task_last_duration_seconds{{task=\"{task}\"}} "
            )),
            "{task}"
        );
    }
}
on_both_backends!(metrics, metrics_count_requests_jobs_and_mails);
