//! Background work, for administrators, in words: the periodic tasks and when each runs next,
//! then what went wrong: dead jobs (attempts spent) and jobs retrying after a failure, what
//! each was doing, when it runs again or stopped, and why it failed. A dead job can be given
//! another go.

use actix_web::{HttpResponse, web};
use askama::Template;
use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;
use serde::Deserialize;
use serde_json::json;

use super::{AdminError, Nav, Staff};
use crate::domain::reminder::Schedule;
use crate::i18n::{Lang, Strings, local_time};
use crate::store::audit::{self, Entry};
use crate::store::jobs::{self, JobRow};
use crate::store::write_tx;
use crate::web::State;

/// A periodic task: what it does, when it runs, and when next.
pub struct Task {
    pub name: String,
    pub does: String,
    pub when: String,
    pub next: String,
}

/// A job that failed, in words.
pub struct Trouble {
    pub id: i64,
    pub what: String,
    pub dead: bool,
    pub state: String,
    pub attempts: String,
    /// "Next attempt: …" or "Stopped: …".
    pub when: String,
    pub error: Option<String>,
}

#[derive(Template)]
#[template(path = "admin/jobs.html")]
pub struct JobsPage {
    pub nav: Nav,
    pub t: &'static Strings,
    pub tasks: Vec<Task>,
    pub troubles: Vec<Trouble>,
    pub summary: String,
    pub notice: Option<String>,
}

/// When a periodic task runs next after `now`: daily at a local time, or at the next
/// multiple of its interval since midnight UTC; `None` when it never runs.
pub fn next_run(schedule: Schedule, now: DateTime<Utc>, zone: Tz) -> Option<DateTime<Utc>> {
    match schedule {
        Schedule::Off => None,
        Schedule::Daily(at) => {
            let today = now.with_timezone(&zone).date_naive();
            [today, today + Duration::days(1), today + Duration::days(2)]
                .into_iter()
                .filter_map(|day| day.and_time(at).and_local_timezone(zone).earliest())
                .map(|local| local.with_timezone(&Utc))
                .find(|at| *at > now)
        }
        Schedule::Every(every) => {
            let seconds = every.num_seconds().max(1);
            let next = (now.timestamp().div_euclid(seconds) + 1) * seconds;
            DateTime::<Utc>::from_timestamp(next, 0)
        }
    }
}

fn what_job(t: &Strings, kind: &str) -> String {
    let key = format!("shell.work.kind.{kind}");
    if t.has(&key) {
        t.t(&key).to_string()
    } else {
        t.fill("shell.work.kind_other", &[("kind", kind)])
    }
}

fn tasks(state: &State, t: &Strings, lang: Lang) -> Vec<Task> {
    let zone = state.law.time_zone;
    let now = state.clock.now();
    state
        .settings
        .worker
        .schedule
        .tasks()
        .into_iter()
        .map(|(task, text)| {
            let schedule = text.parse::<Schedule>().unwrap_or(Schedule::Off);
            let when = match schedule {
                Schedule::Off => t.t("shell.conf.never").to_string(),
                Schedule::Daily(at) => t.fill(
                    "shell.conf.daily",
                    &[("time", &at.format("%H:%M").to_string())],
                ),
                Schedule::Every(every) => t.fill(
                    "shell.work.every",
                    &[(
                        "every",
                        &if every.num_minutes() % 60 == 0 {
                            t.count("shell.conf.hours", every.num_hours())
                        } else {
                            t.count("shell.conf.minutes", every.num_minutes())
                        },
                    )],
                ),
            };
            let next = match next_run(schedule, now, zone) {
                Some(at) => local_time(at, zone, lang),
                None => t.t("shell.work.not_scheduled").to_string(),
            };
            Task {
                name: what_job(t, task),
                does: t.t(&format!("shell.work.does.{task}")).to_string(),
                when,
                next,
            }
        })
        .collect()
}

fn trouble(t: &Strings, lang: Lang, zone: Tz, job: JobRow) -> Trouble {
    let dead = job.status == jobs::DEAD;
    let when = match (dead, job.finished_at) {
        (true, Some(at)) => t.fill(
            "shell.work.stopped_at",
            &[("at", &local_time(at.and_utc(), zone, lang))],
        ),
        (true, None) => t.t("shell.work.stopped").to_string(),
        (false, _) => t.fill(
            "shell.work.next_attempt",
            &[("at", &local_time(job.run_at.and_utc(), zone, lang))],
        ),
    };
    Trouble {
        id: job.id,
        what: what_job(t, &job.kind),
        dead,
        state: t
            .t(if dead {
                "shell.work.state_dead"
            } else {
                "shell.work.state_retrying"
            })
            .to_string(),
        attempts: t.fill(
            if job.attempts == 1 {
                "shell.work.attempts.one"
            } else {
                "shell.work.attempts.other"
            },
            &[
                ("n", &job.attempts.to_string()),
                ("max", &job.max_attempts.to_string()),
            ],
        ),
        when,
        error: job.last_error,
    }
}

async fn render_page(
    state: &State,
    staff: &Staff,
    notice: Option<String>,
) -> Result<HttpResponse, AdminError> {
    let (rows, dead, queued) = state
        .db(|conn, _| {
            Ok::<_, diesel::result::Error>((
                jobs::troubled(conn, 200)?,
                jobs::count_by_status(conn, jobs::DEAD)?,
                jobs::count_by_status(conn, jobs::QUEUED)?,
            ))
        })
        .await?;
    let lang = staff.lang();
    let t = lang.strings();
    let zone = state.law.time_zone;
    Ok(staff.page(&JobsPage {
        nav: staff.nav(),
        t,
        tasks: tasks(state, t, lang),
        troubles: rows
            .into_iter()
            .map(|job| trouble(t, lang, zone, job))
            .collect(),
        summary: format!(
            "{} · {}",
            t.count("shell.work.queued", queued),
            t.count("shell.work.dead", dead)
        ),
        notice,
    }))
}

pub async fn show(state: State, staff: Staff) -> Result<HttpResponse, AdminError> {
    staff.require(staff.role.can_manage_users())?;
    render_page(&state, &staff, None).await
}

#[derive(Deserialize)]
pub struct ReviveForm {
    csrf: String,
}

pub async fn revive(
    state: State,
    staff: Staff,
    id: web::Path<i64>,
    form: web::Form<ReviveForm>,
) -> Result<HttpResponse, AdminError> {
    staff.require(staff.role.can_manage_users())?;
    if !staff.csrf_ok(&form.csrf) {
        return Err(AdminError::Forbidden);
    }
    let (id, actor, now) = (id.into_inner(), staff.actor(), state.clock.now());
    let revived = state
        .db(move |conn, _| {
            write_tx(conn, |conn| {
                let revived = jobs::revive(conn, id, now.naive_utc())?;
                if revived {
                    audit::append(
                        conn,
                        &Entry {
                            at: now.naive_utc(),
                            actor: &actor,
                            action: "job.revive",
                            target_type: "job",
                            target_id: Some(&id.to_string()),
                            details: &json!({}).to_string(),
                        },
                    )?;
                }
                Ok::<_, diesel::result::Error>(revived)
            })
        })
        .await?;
    let t = staff.lang().strings();
    let notice = t.fill(
        if revived {
            "shell.work.revived"
        } else {
            "shell.work.not_dead"
        },
        &[("id", &id.to_string())],
    );
    render_page(&state, &staff, Some(notice)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().expect("instant")
    }

    #[test]
    fn the_next_run_is_the_next_local_time_or_interval() {
        let paris = chrono_tz::Europe::Paris;
        let daily = "08:00".parse::<Schedule>().expect("schedule");
        // 07:30 UTC is 08:30 in Paris in winter: tomorrow at 08:00 Paris, 07:00 UTC.
        assert_eq!(
            next_run(daily, at("2026-11-30T07:30:00Z"), paris),
            Some(at("2026-12-01T07:00:00Z"))
        );
        assert_eq!(
            next_run(daily, at("2026-11-30T06:30:00Z"), paris),
            Some(at("2026-11-30T07:00:00Z"))
        );
        let every = "every 2h".parse::<Schedule>().expect("schedule");
        assert_eq!(
            next_run(every, at("2026-11-30T07:30:00Z"), paris),
            Some(at("2026-11-30T08:00:00Z"))
        );
        assert_eq!(
            next_run(Schedule::Off, at("2026-11-30T07:30:00Z"), paris),
            None
        );
    }
}
