//! The life cycle of a request: its [`Status`] and the one table of moves
//! between statuses ([`TRANSITIONS`]) that every change must pass through.

use std::fmt;

use super::kind::text_enum;

text_enum! {
    /// Where a request stands. The first four are open (the clock may run);
    /// the last four are terminal (the request is closed for good).
    pub enum Status (what = "status", ignore_case = false) {
        /// Received, not yet looked at.
        New => "new",
        /// Waiting for proof of identity (GDPR art. 12(6)).
        Verifying => "verifying",
        /// Being worked on.
        InProgress => "in_progress",
        /// Waiting for the requester, e.g. to clarify what they ask for.
        OnHold => "on_hold",
        /// Answered: the right was granted.
        Fulfilled => "fulfilled",
        /// Answered: the request was refused on a stated ground.
        Rejected => "rejected",
        /// The requester withdrew it.
        Withdrawn => "withdrawn",
        /// Closed without an answer from the requester (e.g. identity proof
        /// never came).
        Expired => "expired",
    }
}

impl Status {
    /// Closed for good: no status can follow.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            Status::Fulfilled | Status::Rejected | Status::Withdrawn | Status::Expired
        )
    }

    /// Still to be dealt with.
    pub fn is_open(self) -> bool {
        !self.is_terminal()
    }
}

/// Every allowed move, `(from, to)`. Anything not listed is refused.
///
/// A request can be withdrawn at any open stage. Only a request still
/// waiting on the requester (new, or on hold) can expire. Rejection needs
/// someone to have looked at it (verifying or later); fulfilment needs the
/// work to be in progress.
pub const TRANSITIONS: &[(Status, Status)] = &[
    (Status::New, Status::Verifying),
    (Status::New, Status::InProgress),
    (Status::New, Status::Withdrawn),
    (Status::New, Status::Expired),
    (Status::Verifying, Status::InProgress),
    (Status::Verifying, Status::OnHold),
    (Status::Verifying, Status::Rejected),
    (Status::Verifying, Status::Withdrawn),
    (Status::InProgress, Status::OnHold),
    (Status::InProgress, Status::Fulfilled),
    (Status::InProgress, Status::Rejected),
    (Status::InProgress, Status::Withdrawn),
    (Status::OnHold, Status::Verifying),
    (Status::OnHold, Status::InProgress),
    (Status::OnHold, Status::Rejected),
    (Status::OnHold, Status::Withdrawn),
    (Status::OnHold, Status::Expired),
];

/// The statuses a request in `from` may move to, in table order.
pub fn allowed_next(from: Status) -> Vec<Status> {
    TRANSITIONS
        .iter()
        .filter(|(source, _)| *source == from)
        .map(|(_, target)| *target)
        .collect()
}

/// Checks a move against [`TRANSITIONS`]; returns the new status.
pub fn transition(from: Status, to: Status) -> Result<Status, TransitionError> {
    if TRANSITIONS.contains(&(from, to)) {
        Ok(to)
    } else {
        Err(TransitionError { from, to })
    }
}

/// A move the table does not allow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TransitionError {
    pub from: Status,
    pub to: Status,
}

impl fmt::Display for TransitionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let TransitionError { from, to } = *self;
        if from == to {
            return write!(f, "the request is already {from}");
        }
        if from.is_terminal() {
            return write!(
                f,
                "a request that is {from} is closed and cannot become {to}"
            );
        }
        let choices: Vec<&str> = allowed_next(from).into_iter().map(Status::as_str).collect();
        write!(
            f,
            "a request that is {from} cannot become {to}; from {from} it can become: {}",
            choices.join(", ")
        )
    }
}

impl std::error::Error for TransitionError {}

#[cfg(test)]
mod tests {
    use super::*;
    use Status::*;

    /// The table again, written the other way round (per source status) so
    /// that a typo in [`TRANSITIONS`] shows up as a disagreement.
    fn expected_next(from: Status) -> &'static [Status] {
        match from {
            New => &[Verifying, InProgress, Withdrawn, Expired],
            Verifying => &[InProgress, OnHold, Rejected, Withdrawn],
            InProgress => &[OnHold, Fulfilled, Rejected, Withdrawn],
            OnHold => &[Verifying, InProgress, Rejected, Withdrawn, Expired],
            Fulfilled | Rejected | Withdrawn | Expired => &[],
        }
    }

    #[test]
    fn all_64_pairs_follow_the_table() {
        let mut checked = 0;
        for from in Status::ALL {
            for to in Status::ALL {
                let allowed = expected_next(from).contains(&to);
                assert_eq!(
                    transition(from, to).is_ok(),
                    allowed,
                    "{from} -> {to} should be {}",
                    if allowed { "allowed" } else { "refused" }
                );
                if allowed {
                    assert_eq!(transition(from, to), Ok(to));
                } else {
                    assert_eq!(transition(from, to), Err(TransitionError { from, to }));
                }
                checked += 1;
            }
        }
        assert_eq!(checked, 64);
        assert_eq!(TRANSITIONS.len(), 17);
    }

    #[test]
    fn allowed_next_lists_the_table_in_order() {
        for from in Status::ALL {
            assert_eq!(allowed_next(from), expected_next(from));
        }
    }

    #[test]
    fn terminal_statuses_are_the_four_closed_ones() {
        let terminal: Vec<Status> = Status::ALL
            .into_iter()
            .filter(|s| s.is_terminal())
            .collect();
        assert_eq!(terminal, [Fulfilled, Rejected, Withdrawn, Expired]);
        for status in Status::ALL {
            assert_eq!(status.is_open(), !status.is_terminal());
            assert_eq!(status.is_terminal(), allowed_next(status).is_empty());
        }
    }

    #[test]
    fn every_open_request_can_be_withdrawn() {
        for status in Status::ALL.into_iter().filter(|s| s.is_open()) {
            assert!(transition(status, Withdrawn).is_ok(), "{status}");
        }
    }

    #[test]
    fn every_status_is_reachable_from_new() {
        let mut reached = vec![New];
        let mut index = 0;
        while let Some(&status) = reached.get(index) {
            for next in allowed_next(status) {
                if !reached.contains(&next) {
                    reached.push(next);
                }
            }
            index += 1;
        }
        assert_eq!(reached.len(), Status::ALL.len());
    }

    #[test]
    fn a_closed_request_says_it_is_closed() {
        assert_eq!(
            transition(Fulfilled, InProgress).unwrap_err().to_string(),
            "a request that is fulfilled is closed and cannot become in_progress"
        );
    }

    #[test]
    fn a_refused_move_lists_the_allowed_ones() {
        assert_eq!(
            transition(New, Fulfilled).unwrap_err().to_string(),
            "a request that is new cannot become fulfilled; \
             from new it can become: verifying, in_progress, withdrawn, expired"
        );
    }

    #[test]
    fn moving_to_the_same_status_is_refused() {
        assert_eq!(
            transition(InProgress, InProgress).unwrap_err().to_string(),
            "the request is already in_progress"
        );
        assert!(transition(Fulfilled, Fulfilled).is_err());
    }

    #[test]
    fn status_text_is_snake_case() {
        assert_eq!(InProgress.as_str(), "in_progress");
        assert_eq!("on_hold".parse::<Status>(), Ok(OnHold));
        assert_eq!("closed".parse::<Status>().unwrap_err().what, "status");
    }
}
