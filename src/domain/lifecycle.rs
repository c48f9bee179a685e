//! What each recorded step does to a request: its status, and whether the deadline clock
//! runs. Pure: the caller supplies the local date on which the step happened.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::deadline::Profile;
use super::kind::RejectGround;
use super::status::{Status, TransitionError, transition};

/// Why the organisation is waiting for the requester. Whether the clock stops depends on
/// the profile: a clarification stops it where `clock_stops_on_hold`, identity proof where
/// `clock_stops_for_identity` (France: décret 2019-536 art. 77).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum HoldReason {
    #[default]
    Clarification,
    Identity,
}

impl HoldReason {
    pub fn as_str(self) -> &'static str {
        match self {
            HoldReason::Clarification => "clarification",
            HoldReason::Identity => "identity",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// The requester confirmed their email address; `needs_identity` says whether the
    /// policy for this kind asks for more proof.
    ConfirmEmail {
        needs_identity: bool,
    },
    Hold(HoldReason),
    Resume,
    Verify,
    Start,
    Fulfil,
    Reject(RejectGround),
    Withdraw,
    Expire,
}

impl Step {
    pub fn name(self) -> &'static str {
        match self {
            Step::ConfirmEmail { .. } => "confirm_email",
            Step::Hold(_) => "hold",
            Step::Resume => "resume",
            Step::Verify => "verify",
            Step::Start => "start",
            Step::Fulfil => "fulfil",
            Step::Reject(_) => "reject",
            Step::Withdraw => "withdraw",
            Step::Expire => "expire",
        }
    }
}

/// The part of a request that steps change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct State {
    pub status: Status,
    /// The status a request on hold returns to.
    pub held_from: Option<Status>,
    pub paused_days: i64,
    pub paused_since: Option<NaiveDate>,
    /// Whether the requester's identity has been verified (by any method).
    pub verified: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StepError {
    #[error(transparent)]
    Transition(#[from] TransitionError),
    #[error("the request is not on hold, so there is nothing to resume (it is {0})")]
    NotOnHold(Status),
    #[error("the step happened on {on}, before the clock was stopped on {since}")]
    BeforePause { on: NaiveDate, since: NaiveDate },
    #[error("the requester's identity is already verified")]
    AlreadyVerified,
}

pub fn apply(
    profile: &Profile,
    state: State,
    step: Step,
    on: NaiveDate,
) -> Result<State, StepError> {
    let mut next = state;
    let target = match step {
        Step::ConfirmEmail { needs_identity } => {
            if needs_identity {
                Status::Verifying
            } else {
                Status::InProgress
            }
        }
        Step::Hold(_) => Status::OnHold,
        Step::Resume => {
            if state.status != Status::OnHold {
                return Err(StepError::NotOnHold(state.status));
            }
            state.held_from.unwrap_or(Status::InProgress)
        }
        Step::Verify => {
            if state.verified {
                return Err(StepError::AlreadyVerified);
            }
            next.verified = true;
            match (state.status, state.held_from) {
                // Verified while being worked on: recorded, nothing else changes.
                (Status::InProgress, _) => return Ok(next),
                // Held for a clarification (held from in progress): the question still
                // stands, so the request stays on hold and its clock stays as it is.
                (Status::OnHold, from) if from != Some(Status::Verifying) => return Ok(next),
                // New, verifying, or the identity hold (held from verifying): the proof was
                // what the request waited for; it moves on and a stopped clock runs again.
                _ => Status::InProgress,
            }
        }
        Step::Start => Status::InProgress,
        Step::Fulfil => Status::Fulfilled,
        Step::Reject(_) => Status::Rejected,
        Step::Withdraw => Status::Withdrawn,
        Step::Expire => Status::Expired,
    };
    next.status = transition(state.status, target)?;
    if let Step::Hold(reason) = step {
        next.held_from = Some(state.status);
        let stops = match reason {
            HoldReason::Clarification => profile.clock_stops_on_hold,
            HoldReason::Identity => profile.clock_stops_for_identity,
        };
        next.paused_since = stops.then_some(on);
    } else if state.status == Status::OnHold {
        // Leaving hold, whichever way: the clock runs again (or the request is closed) and
        // the days it stood still count.
        if let Some(since) = state.paused_since {
            if on < since {
                return Err(StepError::BeforePause { on, since });
            }
            next.paused_days += (on - since).num_days();
        }
        next.paused_since = None;
        next.held_from = None;
    }
    Ok(next)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::deadline::builtin_profiles;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).expect("valid date")
    }

    fn profile(name: &str) -> Profile {
        builtin_profiles()
            .into_iter()
            .find(|(n, _)| *n == name)
            .map(|(_, p)| p)
            .expect("builtin profile")
    }

    fn state(status: Status) -> State {
        State {
            status,
            held_from: None,
            paused_days: 0,
            paused_since: None,
            verified: false,
        }
    }

    #[test]
    fn a_hold_stops_the_clock_and_a_resume_counts_the_days_it_stood_still() {
        let p = profile("gdpr");
        let held = apply(
            &p,
            state(Status::InProgress),
            Step::Hold(HoldReason::Clarification),
            d(2025, 3, 10),
        )
        .expect("hold");
        assert_eq!(held.status, Status::OnHold);
        assert_eq!(held.paused_since, Some(d(2025, 3, 10)));
        let resumed = apply(&p, held, Step::Resume, d(2025, 3, 17)).expect("resume");
        assert_eq!(resumed.status, Status::InProgress);
        assert_eq!(resumed.paused_days, 7);
        assert_eq!(resumed.paused_since, None);
    }

    #[test]
    fn a_resume_returns_to_the_status_the_request_was_held_from() {
        let p = profile("two-months");
        let held = apply(
            &p,
            state(Status::Verifying),
            Step::Hold(HoldReason::Identity),
            d(2025, 3, 10),
        )
        .expect("hold");
        let resumed = apply(&p, held, Step::Resume, d(2025, 3, 12)).expect("resume");
        assert_eq!(resumed.status, Status::Verifying);
        assert_eq!(resumed.paused_days, 2);
    }

    #[test]
    fn pauses_add_up() {
        let p = profile("gdpr");
        let mut s = state(Status::InProgress);
        s = apply(&p, s, Step::Hold(HoldReason::Clarification), d(2025, 1, 5)).expect("hold");
        s = apply(&p, s, Step::Resume, d(2025, 1, 8)).expect("resume");
        s = apply(&p, s, Step::Hold(HoldReason::Clarification), d(2025, 1, 20)).expect("hold");
        s = apply(&p, s, Step::Resume, d(2025, 1, 22)).expect("resume");
        assert_eq!(s.paused_days, 5);
    }

    #[test]
    fn the_ccpa_clock_runs_on_during_a_hold() {
        let p = profile("ccpa");
        let held = apply(
            &p,
            state(Status::InProgress),
            Step::Hold(HoldReason::Identity),
            d(2025, 3, 10),
        )
        .expect("hold");
        assert_eq!(held.status, Status::OnHold);
        assert_eq!(held.paused_since, None);
        let resumed = apply(&p, held, Step::Resume, d(2025, 3, 20)).expect("resume");
        assert_eq!(resumed.paused_days, 0);
    }

    #[test]
    fn verifying_while_on_hold_ends_the_pause() {
        let p = profile("two-months");
        let held = apply(
            &p,
            state(Status::Verifying),
            Step::Hold(HoldReason::Identity),
            d(2025, 3, 10),
        )
        .expect("hold");
        let verified = apply(&p, held, Step::Verify, d(2025, 3, 11)).expect("verify");
        assert_eq!(verified.status, Status::InProgress);
        assert_eq!(verified.paused_days, 1);
    }

    #[test]
    fn resume_without_hold_is_refused() {
        let p = profile("gdpr");
        let err = apply(&p, state(Status::InProgress), Step::Resume, d(2025, 3, 10)).unwrap_err();
        assert_eq!(err, StepError::NotOnHold(Status::InProgress));
    }

    #[test]
    fn a_closed_request_takes_no_further_step() {
        let p = profile("gdpr");
        for step in [
            Step::Hold(HoldReason::Clarification),
            Step::Start,
            Step::Fulfil,
            Step::Withdraw,
        ] {
            assert!(apply(&p, state(Status::Fulfilled), step, d(2025, 3, 10)).is_err());
        }
    }

    #[test]
    fn email_confirmation_leads_where_the_policy_says() {
        let p = profile("gdpr");
        let s = apply(
            &p,
            state(Status::New),
            Step::ConfirmEmail {
                needs_identity: true,
            },
            d(2025, 3, 1),
        )
        .expect("ok");
        assert_eq!(s.status, Status::Verifying);
        let s = apply(
            &p,
            state(Status::New),
            Step::ConfirmEmail {
                needs_identity: false,
            },
            d(2025, 3, 1),
        )
        .expect("ok");
        assert_eq!(s.status, Status::InProgress);
    }

    #[test]
    fn a_resume_dated_before_the_hold_is_refused() {
        let p = profile("gdpr");
        let held = apply(
            &p,
            state(Status::InProgress),
            Step::Hold(HoldReason::Clarification),
            d(2025, 3, 10),
        )
        .expect("hold");
        assert!(matches!(
            apply(&p, held, Step::Resume, d(2025, 3, 9)),
            Err(StepError::BeforePause { .. })
        ));
    }
}

#[cfg(test)]
mod verify_tests;
