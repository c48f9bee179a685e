//! The worker: a loop over the jobs table. Each job kind has a handler; a failing job is
//! retried with backoff, a panicking one is caught and counted as a failure, and on shutdown
//! the job in hand is finished before the loop stops. Periodic tasks are jobs too: the loop
//! enqueues one when its schedule says a new period began (see [`Worker::enqueue_scheduled`]).

pub mod follow;
pub mod follow_up;
pub mod purge;

pub mod reminders;

use std::collections::HashMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::RecvTimeoutError;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use crate::domain::reminder::Schedule;
use crate::state::AppState;
use crate::store::jobs::{self, JobRow};

/// Runs one job. `Err` is recorded as the job's last error and retried later.
pub type Handler = Box<dyn Fn(&AppState, &JobRow) -> Result<(), String> + Send + Sync>;

/// A job handler that is a plain function.
type JobFn = fn(&AppState, &JobRow) -> Result<(), String>;

/// How long a claimed job is held before another worker may take it over (a crashed
/// worker's jobs come back after this): `worker.lease_seconds`.
pub fn lease(settings: &crate::config::Worker) -> chrono::Duration {
    chrono::Duration::seconds(i64::try_from(settings.lease_seconds).unwrap_or(i64::MAX / 1000))
}

/// How often a running job's lease is renewed: a fifth of it, so that a renewal delayed by a
/// busy database still lands well before the lease runs out.
fn renew_every(settings: &crate::config::Worker) -> Duration {
    Duration::from_secs(settings.lease_seconds.max(5) / 5)
}

pub struct Worker {
    state: Arc<AppState>,
    id: String,
    handlers: HashMap<&'static str, Handler>,
    periodic: Vec<(&'static str, Schedule)>,
    /// The period each periodic task was last enqueued (or found taken) for, so the database
    /// is asked once per period, not at every poll.
    seen_periods: Mutex<HashMap<&'static str, String>>,
}

impl Worker {
    pub fn new(state: Arc<AppState>) -> Self {
        let id = format!(
            "{}-{}",
            std::process::id(),
            &crate::crypto::random_token()[..8]
        );
        Worker {
            state,
            id,
            handlers: HashMap::new(),
            periodic: Vec::new(),
            seen_periods: Mutex::new(HashMap::new()),
        }
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    pub fn register(
        &mut self,
        kind: &'static str,
        handler: impl Fn(&AppState, &JobRow) -> Result<(), String> + Send + Sync + 'static,
    ) {
        self.handlers.insert(kind, Box::new(handler));
    }

    /// A job kind that also runs on a schedule.
    pub fn register_periodic(
        &mut self,
        kind: &'static str,
        schedule: Schedule,
        handler: impl Fn(&AppState, &JobRow) -> Result<(), String> + Send + Sync + 'static,
    ) {
        self.register(kind, handler);
        if schedule != Schedule::Off {
            self.periodic.push((kind, schedule));
        }
    }

    /// Enqueues each periodic task whose schedule began a new period; returns how many this
    /// worker enqueued. The period is claimed in `schedule_runs` in the same transaction, so
    /// with several workers one of them enqueues it. (The job's dedup key alone would not do:
    /// it is cleared when the job finishes.)
    pub fn enqueue_scheduled(&self) -> Result<usize, crate::store::StoreError> {
        let now = self.state.clock.now();
        let mut enqueued = 0;
        for (kind, schedule) in &self.periodic {
            let Some(period) = schedule.period(now, self.state.law.time_zone) else {
                continue;
            };
            let mut seen = self
                .seen_periods
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            if seen.get(kind) == Some(&period) {
                continue;
            }
            let mut conn = self.state.pool.get()?;
            let now = now.naive_utc();
            let claimed = crate::store::write_tx(&mut conn, |conn| {
                if !crate::store::reminders::claim_period(conn, kind, &period, now)? {
                    return Ok::<_, diesel::result::Error>(false);
                }
                let payload = serde_json::json!({ "period": period }).to_string();
                let dedup = format!("{kind}:{period}");
                jobs::enqueue(conn, kind, &payload, now, Some(&dedup), now)?;
                Ok(true)
            })?;
            if claimed {
                tracing::info!(task = kind, %period, "periodic task enqueued");
                enqueued += 1;
            }
            seen.insert(kind, period);
        }
        Ok(enqueued)
    }

    /// Claims and runs one due job; false when there was none.
    pub fn run_once(&self) -> Result<bool, crate::store::StoreError> {
        let mut conn = self.state.pool.get()?;
        let now = self.state.clock.now_naive();
        let lease = lease(&self.state.settings.worker);
        let Some(job) = jobs::claim(&mut conn, &self.id, now, lease)? else {
            return Ok(false);
        };
        drop(conn);
        let started = std::time::Instant::now();
        // A long job (a large package) keeps its lease renewed while it runs, so no other
        // worker takes it over as if this one had died.
        let outcome =
            std::thread::scope(|scope| {
                let (done, ended) = std::sync::mpsc::channel::<()>();
                scope.spawn(move || {
                    while let Err(RecvTimeoutError::Timeout) =
                        ended.recv_timeout(renew_every(&self.state.settings.worker))
                    {
                        let until = self.state.clock.now_naive() + lease;
                        let renewed = self.state.pool.get().map_err(|e| e.to_string()).and_then(
                            |mut conn| {
                                jobs::extend_lease(&mut conn, job.id, &self.id, until)
                                    .map_err(|e| e.to_string())
                            },
                        );
                        match renewed {
                            Ok(true) => {}
                            Ok(false) => {
                                tracing::warn!(job = job.id, "lost the lease of a running job")
                            }
                            Err(error) => {
                                tracing::warn!(job = job.id, %error, "cannot renew a job's lease")
                            }
                        }
                    }
                });
                let outcome = match self.handlers.get(job.kind.as_str()) {
                    None => Err(format!("no handler for job kind \"{}\"", job.kind)),
                    Some(handler) => catch_unwind(AssertUnwindSafe(|| handler(&self.state, &job)))
                        .unwrap_or_else(|panic| {
                            Err(format!("the job panicked: {}", panic_message(&panic)))
                        }),
                };
                drop(done);
                outcome
            });
        let mut conn = self.state.pool.get()?;
        let now = self.state.clock.now_naive();
        if let Some((kind, _)) = self.periodic.iter().find(|(k, _)| *k == job.kind) {
            self.state
                .task_runs
                .record(kind, started.elapsed(), outcome.is_ok());
        }
        match outcome {
            Ok(()) => {
                jobs::finish(&mut conn, &job, &self.id, now)?;
            }
            Err(error) => {
                tracing::warn!(job = job.id, kind = %job.kind, attempt = job.attempts, %error, "job failed");
                let backoff = jobs::Backoff::from_settings(&self.state.settings.worker);
                jobs::fail(&mut conn, &job, &self.id, &error, now, backoff)?;
            }
        }
        Ok(true)
    }

    /// Chains the audit entries written since the last seal.
    pub fn seal_audit(&self) -> Result<usize, crate::store::StoreError> {
        let mut conn = self.state.pool.get()?;
        Ok(crate::store::audit::seal_all(&mut conn)?)
    }

    /// Loops until `stop` is set, sleeping `poll` when there is nothing to do.
    pub fn run(&self, stop: &AtomicBool, poll: Duration) {
        tracing::info!(worker = %self.id, "worker started");
        let mut sealed_at: Option<std::time::Instant> = None;
        while !stop.load(Ordering::Relaxed) {
            // The audit trail is chained here, at most once per poll interval, busy or not.
            if sealed_at.is_none_or(|t| t.elapsed() >= poll) {
                if let Err(error) = self.seal_audit() {
                    tracing::error!(%error, "cannot seal the audit trail");
                }
                sealed_at = Some(std::time::Instant::now());
            }
            if let Err(error) = self.enqueue_scheduled() {
                tracing::error!(%error, "cannot enqueue the periodic tasks");
            }
            match self.run_once() {
                Ok(true) => continue,
                Ok(false) => {}
                Err(error) => tracing::error!(%error, "worker cannot reach the database"),
            }
            sleep_unless_stopped(stop, poll);
        }
        tracing::info!(worker = %self.id, "worker stopped");
    }
}

fn sleep_unless_stopped(stop: &AtomicBool, total: Duration) {
    let step = Duration::from_millis(50);
    let mut slept = Duration::ZERO;
    while slept < total && !stop.load(Ordering::Relaxed) {
        std::thread::sleep(step);
        slept += step;
    }
}

fn panic_message(panic: &Box<dyn std::any::Any + Send>) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into())
}

/// The worker with every job kind this build knows; mails go through the transport `[mail]`
/// names.
pub fn standard(state: Arc<AppState>) -> anyhow::Result<Worker> {
    let mailer = crate::mail::Transport::from_settings(&state.settings.mail)?;
    let mut worker = Worker::new(state);
    worker.register(crate::mail::SEND_MAIL, move |state, job| {
        crate::mail::send_job(state, &mailer, job)
    });
    worker.register(crate::fulfil::SOURCE_RUN, crate::fulfil::run_job);
    worker.register(crate::fulfil::BUILD_EXPORT, crate::fulfil::build_job);
    worker.register(crate::workflow::follow::LIFT_RESTRICTION, follow::lift_job);
    worker.register(crate::workflow::follow::END_HOLD, follow::hold_job);
    let handlers: [(&'static str, JobFn); 3] = [
        (reminders::DEADLINE_SWEEP, reminders::sweep_job),
        (
            crate::worker::follow_up::REQUESTER_SWEEP,
            crate::worker::follow_up::sweep_job,
        ),
        (crate::worker::purge::PURGE, crate::worker::purge::purge_job),
    ];
    let state = Arc::clone(&worker.state);
    let schedules = state.settings.worker.schedule.tasks();
    for ((kind, handler), (task, text)) in handlers.into_iter().zip(schedules) {
        debug_assert_eq!(kind, task);
        // Checked when the settings loaded; a schedule that no longer parses is off, and said so.
        let schedule = text.parse().unwrap_or_else(|error| {
            tracing::error!(%error, task, "bad schedule; the task is off");
            Schedule::Off
        });
        worker.register_periodic(kind, schedule, handler);
    }
    Ok(worker)
}
