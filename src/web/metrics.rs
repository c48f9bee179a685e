//! `/metrics` in the Prometheus text format: what an operator graphs and alerts on (requests
//! by status, overdue requests, the job queue, the mail outbox). Counts only, no personal data.

use std::fmt::Write;

use actix_web::{HttpResponse, get};

use super::State;
use crate::domain::status::Status;
use crate::store::jobs;

#[get("/metrics")]
pub async fn metrics(state: State) -> HttpResponse {
    let today = state.law.today(state.clock.now());
    let counts = state
        .db(move |conn, _| crate::store::metrics::counts(conn, today))
        .await;
    let Ok(c) = counts else {
        return HttpResponse::ServiceUnavailable()
            .content_type("text/plain; charset=utf-8")
            .body("# the database did not answer\n");
    };
    let mut out = String::new();
    let found = |list: &[(String, i64)], key: &str| {
        list.iter()
            .find(|(k, _)| k == key)
            .map(|(_, n)| *n)
            .unwrap_or(0)
    };
    gauge(&mut out, "dsar_requests", "Requests by status.");
    // Every status is listed, zero or not, so a series never disappears from a graph.
    for status in Status::ALL {
        let _ = writeln!(
            out,
            "dsar_requests{{status=\"{status}\"}} {}",
            found(&c.requests_by_status, status.as_str())
        );
    }
    gauge(
        &mut out,
        "dsar_requests_overdue",
        "Open requests past their due date with the clock running.",
    );
    let _ = writeln!(out, "dsar_requests_overdue {}", c.overdue);
    gauge(&mut out, "dsar_jobs", "Jobs by state.");
    for status in [jobs::QUEUED, jobs::RUNNING, jobs::DONE, jobs::DEAD] {
        let _ = writeln!(
            out,
            "dsar_jobs{{state=\"{status}\"}} {}",
            found(&c.jobs_by_status, status)
        );
    }
    let _ = writeln!(
        out,
        "dsar_jobs{{state=\"failed_retrying\"}} {}",
        c.jobs_retrying
    );
    gauge(&mut out, "dsar_mails", "Mails in the outbox by state.");
    let _ = writeln!(out, "dsar_mails{{state=\"sent\"}} {}", c.mails_sent);
    let _ = writeln!(out, "dsar_mails{{state=\"waiting\"}} {}", c.mails_waiting);
    let _ = writeln!(out, "dsar_mails{{state=\"failing\"}} {}", c.mails_failing);
    let runs = state.task_runs.snapshot();
    gauge(
        &mut out,
        "dsar_task_last_duration_seconds",
        "How long the last run of each periodic task (deadline sweep, requester sweep, purge) took.",
    );
    for (task, seconds, _, _) in &runs {
        let _ = writeln!(
            out,
            "dsar_task_last_duration_seconds{{task=\"{task}\"}} {seconds:.6}"
        );
    }
    gauge(
        &mut out,
        "dsar_task_last_ok",
        "1 when the last run of the task succeeded.",
    );
    for (task, _, ok, _) in &runs {
        let _ = writeln!(
            out,
            "dsar_task_last_ok{{task=\"{task}\"}} {}",
            u8::from(*ok)
        );
    }
    let _ = writeln!(
        out,
        "# HELP dsar_task_runs_total Runs of each periodic task by this process.\n# TYPE dsar_task_runs_total counter"
    );
    for (task, _, _, n) in &runs {
        let _ = writeln!(out, "dsar_task_runs_total{{task=\"{task}\"}} {n}");
    }
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .insert_header(("Cache-Control", "no-store"))
        .body(out)
}

fn gauge(out: &mut String, name: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge");
}
