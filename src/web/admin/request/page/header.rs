//! The request page's header: the deadline as the first signal ("dans 5 jours", "en retard
//! de 2 jours", "délai suspendu") and how the due date was reached, line by line.

use crate::domain::status::Status;
use crate::i18n::{Lang, Strings, local_time, long_date};
use crate::store::requests::RequestRow;
use crate::web::admin::request::words::period_words;
use crate::workflow;

pub struct Header {
    pub reference: String,
    pub kind: String,
    pub status: String,
    /// `open`, `hold` or `closed`: the tag's colour (the words say it too).
    pub status_class: &'static str,
    /// "Dans 5 jours", "En retard de 2 jours", "Délai suspendu", "Close".
    pub deadline: String,
    pub deadline_class: &'static str,
    /// "Échéance : 5 mai 2025".
    pub due: String,
    /// How the due date was reached, line by line.
    pub computation: Vec<(String, String)>,
    pub assignee: String,
}

/// The deadline's signal and its computation.
pub fn header(
    state: &crate::state::AppState,
    t: &Strings,
    lang: Lang,
    row: &RequestRow,
    names: &crate::staff::Names,
) -> Header {
    let law = &state.law;
    let now = state.clock.now();
    let today = law.today(now);
    let d = workflow::deadline_of(law, row, today);
    let days_left = crate::domain::deadline::days_left(d.due_on, today);
    let (deadline, deadline_class) = if let Some(closed) = row.closed_at {
        (
            t.fill(
                "request.deadline.closed",
                &[("date", &long_date(law.today(closed.and_utc()), lang))],
            ),
            "closed",
        )
    } else if d.clock_stopped {
        (t.t("request.deadline.stopped").to_string(), "stopped")
    } else if days_left < 0 {
        (t.count("request.deadline.late", -days_left), "overdue")
    } else if days_left == 0 {
        (t.t("request.deadline.today").to_string(), "soon")
    } else {
        (
            t.count("request.deadline.in", days_left),
            if days_left <= 7 { "soon" } else { "ok" },
        )
    };
    let profile = workflow::profile_of(law, row);
    let profile_key = format!("request.profile.{}", row.profile);
    let profile_words = if t.has(&profile_key) {
        t.t(&profile_key).to_string()
    } else {
        row.profile.clone()
    };
    let extension = workflow::deadline_extension(row);
    let line =
        |key: &str, value: String| (t.t(&format!("request.deadline.{key}")).to_string(), value);
    let mut computation = vec![
        line(
            "received",
            local_time(row.received_at.and_utc(), law.time_zone, lang),
        ),
        line("profile", profile_words),
        line(
            "period",
            t.fill(
                "request.deadline.period_from",
                &[
                    ("period", &period_words(t, profile.base)),
                    ("date", &long_date(row.received_on, lang)),
                ],
            ),
        ),
        line("extension", period_words(t, extension)),
        line("period_end", long_date(d.period_end, lang)),
    ];
    let paused = if d.paused_days == 0 {
        t.t("request.deadline.none").to_string()
    } else {
        t.count("units.days", d.paused_days)
    };
    let paused = match row.paused_since {
        Some(since) => t.fill(
            "request.deadline.paused_since",
            &[("days", &paused), ("date", &long_date(since, lang))],
        ),
        None => paused,
    };
    computation.push(line("paused", paused));
    let rolled = d.due_on != d.period_end + chrono::Duration::days(d.paused_days);
    computation.push(line(
        "working_day",
        t.t(if rolled {
            "request.deadline.rolled"
        } else {
            "request.deadline.not_rolled"
        })
        .to_string(),
    ));
    computation.push(line("due_on", long_date(d.due_on, lang)));
    let (status_class, status) = match row.status {
        Status::OnHold => ("hold", row.status),
        s if s.is_terminal() => ("closed", s),
        s => ("open", s),
    };
    Header {
        reference: workflow::reference(row).to_string(),
        kind: t
            .t(&format!("label.kind.{}", row.kind.as_str()))
            .to_string(),
        status: crate::web::admin::request::words::status_label(t, status),
        status_class,
        deadline,
        deadline_class,
        due: t.fill(
            "request.deadline.due",
            &[("date", &long_date(d.due_on, lang))],
        ),
        computation,
        assignee: row
            .assignee_id
            .map(|id| names.of(&format!("staff:{id}")))
            .unwrap_or_else(|| t.t("request.nobody").to_string()),
    }
}

/// Whether the profile leaves an extension to take today.
pub fn can_extend(state: &crate::state::AppState, row: &RequestRow) -> bool {
    let law = &state.law;
    let today = law.today(state.clock.now());
    crate::domain::deadline::check_extension(
        workflow::profile_of(law, row),
        &row.profile,
        &law.calendar,
        row.received_on,
        workflow::deadline_extension(row),
        crate::domain::deadline::Period { months: 0, days: 1 },
        &workflow::pauses_of(row),
        today,
    )
    .is_ok()
}
