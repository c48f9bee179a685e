//! A `verify` step from each status a request can be in, as a table: what the status becomes,
//! what it is held from, and what the deadline clock does. Verified on Saturday 14 March 2026;
//! the holds began on 10 March; the profile is "two-months" (its clock stops for a
//! clarification and for identity).

use chrono::NaiveDate;

use super::*;
use crate::domain::deadline::builtin_profiles;
use crate::domain::status::Status::*;

fn march(day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 3, day).expect("valid date")
}

fn profile() -> Profile {
    builtin_profiles()
        .into_iter()
        .find(|(n, _)| *n == "two-months")
        .map(|(_, p)| p)
        .expect("builtin profile")
}

fn fresh(status: Status) -> State {
    State {
        status,
        held_from: None,
        paused_days: 0,
        paused_since: None,
        verified: false,
    }
}

/// Put on hold on 10 March, from `from`, for `reason`.
fn held(from: Status, reason: HoldReason) -> State {
    apply(&profile(), fresh(from), Step::Hold(reason), march(10)).expect("hold")
}

/// One row of the table: the request before, and what a verification leaves.
struct Case {
    what: &'static str,
    before: State,
    status: Status,
    held_from: Option<Status>,
    stopped_since: Option<NaiveDate>,
    stood_still: i64,
}

#[test]
fn verifying_each_open_request() {
    let case = |what, before, status, held_from, stopped_since, stood_still| Case {
        what,
        before,
        status,
        held_from,
        stopped_since,
        stood_still,
    };
    let cases = [
        case(
            "new (e.g. seen in person before the link was opened)",
            fresh(New),
            InProgress,
            None,
            None,
            0,
        ),
        case(
            "waiting for proof of identity",
            fresh(Verifying),
            InProgress,
            None,
            None,
            0,
        ),
        case(
            "in progress: recorded, nothing else changes",
            fresh(InProgress),
            InProgress,
            None,
            None,
            0,
        ),
        case(
            "on hold for identity: the work starts and the clock runs again",
            held(Verifying, HoldReason::Identity),
            InProgress,
            None,
            None,
            4,
        ),
        case(
            "on hold for a clarification: the question still stands",
            held(InProgress, HoldReason::Clarification),
            OnHold,
            Some(InProgress),
            Some(march(10)),
            0,
        ),
    ];
    for c in cases {
        let after = apply(&profile(), c.before, Step::Verify, march(14))
            .unwrap_or_else(|e| panic!("{}: {e}", c.what));
        assert_eq!(
            (
                after.status,
                after.held_from,
                after.paused_since,
                after.paused_days
            ),
            (c.status, c.held_from, c.stopped_since, c.stood_still),
            "{}",
            c.what
        );
        assert!(after.verified, "{}: recorded as verified", c.what);
    }
}

#[test]
fn a_clarification_hold_verified_meanwhile_resumes_into_progress_with_its_days_counted() {
    let p = profile();
    let verified = apply(
        &p,
        held(InProgress, HoldReason::Clarification),
        Step::Verify,
        march(14),
    )
    .expect("verify");
    let resumed = apply(&p, verified, Step::Resume, march(17)).expect("resume");
    assert_eq!(resumed.status, InProgress);
    assert_eq!(resumed.paused_days, 7, "10 to 17 March");
    assert!(resumed.verified, "a later step keeps the verification");
}

#[test]
fn a_verified_request_is_not_verified_twice() {
    let p = profile();
    let in_progress = State {
        verified: true,
        ..fresh(InProgress)
    };
    let on_hold = State {
        verified: true,
        ..held(InProgress, HoldReason::Clarification)
    };
    for before in [in_progress, on_hold] {
        assert_eq!(
            apply(&p, before, Step::Verify, march(14)),
            Err(StepError::AlreadyVerified),
            "{:?}",
            before.status
        );
    }
}

#[test]
fn a_closed_request_is_not_verified() {
    for status in [Fulfilled, Rejected, Withdrawn, Expired] {
        assert!(
            matches!(
                apply(&profile(), fresh(status), Step::Verify, march(14)),
                Err(StepError::Transition(_))
            ),
            "{status}"
        );
    }
}
