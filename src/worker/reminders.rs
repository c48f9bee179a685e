//! The `deadline_sweep` job: reminds staff of the deadlines of the requests whose next
//! reminder is due (found by `request_reminders.next_on`, never by reading every open
//! request), one digest mail per person, and records what it announced so that a threshold
//! is never announced twice. One audit entry per sweep, with counts only.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::Serialize;
use serde_json::json;

use crate::domain::deadline::Period;
use crate::domain::reminder::{self, Owed, Standing};
use crate::mail::{self, DigestItem, StaffMail};
use crate::staff::Role;
use crate::state::AppState;
use crate::store::audit;
use crate::store::jobs::JobRow;
use crate::store::reminders::{self as rows, Outcome};
use crate::store::requests::RequestRow;
use crate::store::users::{self, UserRow};
use crate::store::write_tx;
use crate::workflow;

/// The job kind [`sweep_job`] handles, and the name of its schedule.
pub const DEADLINE_SWEEP: &str = "deadline_sweep";

/// Requests read per query; bounds memory, not the work of one sweep.
const BATCH: i64 = 1000;

/// Requests listed in one mail; the rest is counted and left to the dashboard.
const LISTED_PER_MAIL: usize = 200;

#[derive(Debug, thiserror::Error)]
pub enum SweepError {
    #[error(transparent)]
    Query(#[from] diesel::result::Error),
    #[error(transparent)]
    Pool(#[from] diesel::r2d2::PoolError),
    #[error(transparent)]
    Mail(#[from] mail::MailError),
}

/// What a sweep did, as the audit entry records it.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct SweepCounts {
    /// Requests whose reminder date had come.
    pub looked_at: usize,
    /// Requests that reached a threshold of days left.
    pub coming_due: usize,
    pub overdue: usize,
    pub mails: usize,
    /// Reminders nobody could receive: unassigned (or overdue) with no active DPO account.
    pub unrouted: usize,
}

/// The worker's handler: sweeps as of the organisation's today.
pub fn sweep_job(state: &AppState, _job: &JobRow) -> Result<(), String> {
    let today = state.law.today(state.clock.now());
    let counts = sweep(state, today).map_err(|e| e.to_string())?;
    tracing::info!(
        looked_at = counts.looked_at,
        coming_due = counts.coming_due,
        overdue = counts.overdue,
        mails = counts.mails,
        "deadline sweep done"
    );
    if counts.unrouted > 0 {
        tracing::warn!(
            unrouted = counts.unrouted,
            "deadline reminders owed to nobody: give the requests an assignee or add an active DPO account"
        );
    }
    Ok(())
}

/// Who receives what: the people who may act, each with the requests for them.
struct Recipients<'u> {
    active: BTreeMap<i64, &'u UserRow>,
    dpos: Vec<&'u UserRow>,
    digests: BTreeMap<i64, Vec<DigestItem>>,
}

impl<'u> Recipients<'u> {
    fn new(staff: &'u [UserRow]) -> Self {
        // Disabled accounts and viewers (who cannot act) get nothing.
        let active: BTreeMap<i64, &UserRow> = staff
            .iter()
            .filter(|u| u.disabled_at.is_none())
            .filter(|u| u.role.parse::<Role>().is_ok_and(Role::can_act))
            .map(|u| (u.id, u))
            .collect();
        let dpos = active
            .values()
            .copied()
            .filter(|u| matches!(u.role.parse::<Role>(), Ok(Role::Dpo)))
            .collect();
        Recipients {
            active,
            dpos,
            digests: BTreeMap::new(),
        }
    }

    /// The assignee gets their own requests; every DPO gets the unassigned ones (or those
    /// whose assignee can no longer act) and, once overdue, everyone's.
    /// False when nobody at all could be told.
    fn route(&mut self, row: &RequestRow, item: DigestItem) -> bool {
        let assignee = row.assignee_id.and_then(|id| self.active.get(&id).copied());
        if let Some(user) = assignee {
            self.digests.entry(user.id).or_default().push(item.clone());
        }
        if assignee.is_none() || item.days_left < 0 {
            for dpo in &self.dpos {
                if Some(dpo.id) == assignee.map(|u| u.id) {
                    continue;
                }
                let mut copy = item.clone();
                copy.as_dpo = true;
                copy.assignee = assignee.map(|u| u.name.clone());
                self.digests.entry(dpo.id).or_default().push(copy);
            }
        }
        assignee.is_some() || !self.dpos.is_empty()
    }
}

/// Sends the reminders owed on `today`, in one transaction with what it records.
pub fn sweep(state: &AppState, today: NaiveDate) -> Result<SweepCounts, SweepError> {
    let mut conn = state.pool.get()?;
    let thresholds = reminder::thresholds(&state.settings.reminders.days_left);
    let now = state.clock.now_naive();
    write_tx(&mut conn, |conn| -> Result<SweepCounts, SweepError> {
        let staff = users::list(conn)?;
        let mut recipients = Recipients::new(&staff);
        let mut counts = SweepCounts::default();
        let mut after = None;
        loop {
            let batch = rows::due(conn, today, after, BATCH)?;
            let Some((last, _)) = batch.last() else { break };
            after = last.next_on.map(|on| (on, last.request_id));
            for (reminder, row) in batch {
                counts.looked_at += 1;
                if !row.status.is_open() {
                    rows::forget(conn, row.id)?;
                    continue;
                }
                let deadline = workflow::deadline_of(&state.law, &row, today);
                let standing = Standing {
                    due_on: deadline.due_on,
                    clock_stopped: deadline.clock_stopped,
                    last_threshold: reminder.last_threshold.map(i64::from),
                    last_sent_on: reminder.last_sent_on,
                };
                let decision = reminder::decide(&thresholds, &state.law.calendar, &standing, today);
                rows::record(
                    conn,
                    &Outcome {
                        request_id: row.id,
                        next_on: decision.next_on,
                        last_threshold: decision.last_threshold.and_then(|t| i32::try_from(t).ok()),
                        last_sent_on: if decision.send.is_some() {
                            Some(today)
                        } else {
                            reminder.last_sent_on
                        },
                    },
                )?;
                let Some(owed) = decision.send else { continue };
                match owed {
                    Owed::Overdue => counts.overdue += 1,
                    Owed::Threshold(_) => counts.coming_due += 1,
                }
                let item = digest_item(state, &row, deadline.due_on, today);
                if !recipients.route(&row, item) {
                    counts.unrouted += 1;
                }
            }
        }
        let dashboard = format!("{}/admin", state.settings.base_url());
        for (user_id, mut items) in std::mem::take(&mut recipients.digests) {
            let Some(user) = recipients.active.get(&user_id) else {
                continue;
            };
            // Most urgent first: overdue (longest overdue first), then fewest days left.
            items.sort_by(|a, b| (a.days_left, &a.reference).cmp(&(b.days_left, &b.reference)));
            let more = items.len().saturating_sub(LISTED_PER_MAIL);
            items.truncate(LISTED_PER_MAIL);
            let name = crate::staff::display_name(user);
            let lang = user
                .lang
                .as_deref()
                .and_then(crate::i18n::Lang::from_code)
                .unwrap_or_else(|| state.settings.language());
            mail::queue_staff(
                conn,
                &StaffMail::DeadlineDigest {
                    name: &name,
                    items: &items,
                    more,
                    dashboard: &dashboard,
                },
                &user.email,
                lang,
                &state.settings.organisation.name,
                now,
            )?;
            counts.mails += 1;
        }
        audit::on_many(
            conn,
            "deadline_sweep",
            "system",
            "reminders.sweep",
            &json!({ "today": today, "counts": counts }),
            now,
        )?;
        Ok(counts)
    })
}

fn digest_item(
    state: &AppState,
    row: &RequestRow,
    due_on: NaiveDate,
    today: NaiveDate,
) -> DigestItem {
    let reference = workflow::reference(row).to_string();
    let profile = workflow::profile_of(&state.law, row);
    let days_left = crate::domain::deadline::days_left(due_on, today);
    let extension_notice_due = profile.extension_notice_before_first_due
        && profile.max_extension != Period::default()
        && workflow::deadline_extension(row) == Period::default()
        && days_left >= 0;
    DigestItem {
        link: format!("{}/admin/requests/{reference}", state.settings.base_url()),
        reference,
        kind: row.kind.to_string(),
        due_on,
        days_left,
        assignee: None,
        as_dpo: false,
        extension_notice_due,
    }
}
