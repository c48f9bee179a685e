//! The life cycle of fulfilment: what a request asks a data source to do ([`Operation`]),
//! where each source's run stands ([`RunStatus`]) and where the access package stands
//! ([`PackageStatus`]), each with its table of allowed moves.

use super::filing::Answers;
use super::kind::{RequestKind, text_enum};

text_enum! {
    /// What a request asks a source to do.
    pub enum Operation (what = "operation", ignore_case = false) {
        /// Find and export the person's data (access, portability).
        Access => "access",
        /// Delete or anonymise, keeping what a retention rule requires (Art. 17).
        Erase => "erase",
        /// Correct named fields (Art. 16).
        Rectify => "rectify",
        /// Mark the data as restricted (Art. 18).
        Restrict => "restrict",
        /// Stop direct marketing and processing based on consent (Art. 21, Art. 7(3)).
        Object => "object",
    }
}

impl Operation {
    /// The operation a kind of request dispatches to the sources, when the kind alone says
    /// it: `None` for directives, which the team records, and for an heir's request, which
    /// depends on what is asked ([`Operation::for_request`]).
    pub fn for_kind(kind: RequestKind) -> Option<Operation> {
        Some(match kind {
            RequestKind::Access | RequestKind::Portability => Operation::Access,
            RequestKind::Erasure => Operation::Erase,
            RequestKind::Rectification => Operation::Rectify,
            RequestKind::Restriction => Operation::Restrict,
            RequestKind::Objection | RequestKind::ConsentWithdrawal => Operation::Object,
            RequestKind::Directives | RequestKind::Heir => return None,
        })
    }

    /// The operation one request dispatches, from its kind and its answers: an heir asks for
    /// the data needed to settle the estate (gathered as for access, answered to the heir),
    /// for the accounts to be closed (erasure) or for the death to be recorded (rectification);
    /// carrying out directives is the team's work, with nothing sent (art. 85 loi
    /// Informatique et Libertés). `None`: nothing goes to the sources.
    pub fn for_request(kind: RequestKind, answers: &dyn Answers) -> Option<Operation> {
        match kind {
            RequestKind::Heir => match answers.get("heir_request") {
                "estate" => Some(Operation::Access),
                "close" => Some(Operation::Erase),
                "update" => Some(Operation::Rectify),
                _ => None,
            },
            kind => Operation::for_kind(kind),
        }
    }

    /// Changes to data that recipients must be told about (Art. 19).
    pub fn notifies_recipients(self) -> bool {
        matches!(
            self,
            Operation::Erase | Operation::Rectify | Operation::Restrict
        )
    }
}

text_enum! {
    /// Where one source's run for one request stands.
    pub enum RunStatus (what = "run status", ignore_case = false) {
        /// A job will run it (again).
        Queued => "queued",
        /// Its job is running it now.
        Running => "running",
        /// The last attempt failed; the job tries again later.
        Retrying => "retrying",
        /// Failed for good: staff may run it again or go on without it.
        Failed => "failed",
        /// Waiting for a person: a team's search, or what a source could not do itself.
        Task => "task",
        /// Finished, skipped with a reason, or answered by the team.
        Done => "done",
    }
}

use RunStatus as R;

/// Every allowed move of a run, `(from, to)`. The store's conditional updates check theirs
/// against it (in debug builds and tests).
///
/// A job takes a run up from the queue, from a retry, or again after its worker died; an
/// attempt ends done, with a task left, for a retry or failed; the last attempt, or a request
/// closed meanwhile, fails a run still waiting. Staff run again what failed, waits out a
/// backoff, lost its job, or left a task a new run may do; they go on without a source that
/// does not answer; a team's answer ends its task. Dispatching again restarts what failed,
/// and gives a finished rectification the new corrections.
pub const RUN_TRANSITIONS: &[(RunStatus, RunStatus)] = &[
    (R::Queued, R::Running),
    (R::Retrying, R::Running),
    (R::Running, R::Running),
    (R::Running, R::Done),
    (R::Running, R::Task),
    (R::Running, R::Retrying),
    (R::Running, R::Failed),
    (R::Queued, R::Failed),
    (R::Retrying, R::Failed),
    (R::Failed, R::Queued),
    (R::Retrying, R::Queued),
    (R::Queued, R::Queued),
    (R::Running, R::Queued),
    (R::Task, R::Queued),
    (R::Failed, R::Done),
    (R::Retrying, R::Done),
    (R::Task, R::Done),
    (R::Queued, R::Done),
    (R::Running, R::Done),
    (R::Failed, R::Task),
    (R::Done, R::Queued),
    (R::Done, R::Task),
];

impl RunStatus {
    /// A job is (or should be) working on it.
    pub fn is_live(self) -> bool {
        matches!(self, R::Queued | R::Running | R::Retrying)
    }

    /// Whether the table allows the move.
    pub fn can_become(self, to: RunStatus) -> bool {
        RUN_TRANSITIONS.contains(&(self, to))
    }

    /// Staff may run it again: it failed, waits out a backoff, lost its job (`orphaned`: a
    /// live run whose job is gone),
    /// or left a task that a new run may do (not a team's own search, `manual`).
    pub fn can_rerun(self, orphaned: bool, manual: bool) -> bool {
        matches!(self, R::Failed | R::Retrying)
            || (orphaned && self.is_live())
            || (self == R::Task && !manual)
    }

    /// Staff may go on without it, with a reason.
    pub fn can_skip(self, orphaned: bool) -> bool {
        matches!(self, R::Failed | R::Retrying | R::Task) || (orphaned && self.is_live())
    }
}

text_enum! {
    /// Where a request's access package stands.
    pub enum PackageStatus (what = "package status", ignore_case = false) {
        /// Being built from what the sources found.
        Building => "building",
        /// Built, for staff to review before release.
        Review => "review",
        /// Every source searched in full and nothing found: said in words, no file.
        Empty => "empty",
        /// The requester may download it, within its days and count.
        Released => "released",
        /// Its file is deleted.
        Purged => "purged",
        /// The build failed; staff may build it again.
        Failed => "failed",
    }
}

use PackageStatus as P;

/// Every allowed move of a package, `(from, to)`: the rules the store's updates encode in SQL,
/// written once here and tested.
///
/// A build ends in review, empty or failed; a failed or stalled build, or one under review or
/// found empty (an item withheld or put back, a late source), is built again; staff release
/// what they reviewed (an empty answer stays empty, released in words); every file is purged
/// in the end. A released package is never built again.
pub const PACKAGE_TRANSITIONS: &[(PackageStatus, PackageStatus)] = &[
    (P::Building, P::Review),
    (P::Building, P::Empty),
    (P::Building, P::Failed),
    (P::Building, P::Building),
    (P::Failed, P::Building),
    (P::Review, P::Building),
    (P::Empty, P::Building),
    (P::Review, P::Released),
    (P::Empty, P::Empty),
    (P::Building, P::Purged),
    (P::Review, P::Purged),
    (P::Empty, P::Purged),
    (P::Failed, P::Purged),
    (P::Released, P::Purged),
];

impl PackageStatus {
    /// Whether the table allows the move.
    pub fn can_become(self, to: PackageStatus) -> bool {
        PACKAGE_TRANSITIONS.contains(&(self, to))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_ends_only_from_running_and_a_finished_one_only_restarts() {
        for to in [R::Task, R::Retrying] {
            let from: Vec<_> = RunStatus::ALL
                .into_iter()
                .filter(|s| s.can_become(to))
                .collect();
            assert!(from.contains(&R::Running), "{to}");
        }
        assert!(!R::Done.can_become(R::Failed));
        assert!(!R::Done.can_become(R::Running));
        assert!(!R::Task.can_become(R::Running));
        assert!(R::Done.can_become(R::Queued));
        assert!(!R::Done.can_become(R::Retrying));
    }

    #[test]
    fn staff_act_on_runs_that_need_them() {
        assert!(R::Failed.can_rerun(false, false));
        assert!(R::Retrying.can_rerun(false, true));
        assert!(R::Running.can_rerun(true, false));
        assert!(!R::Running.can_rerun(false, false));
        assert!(R::Task.can_rerun(false, false));
        assert!(!R::Task.can_rerun(false, true));
        assert!(R::Task.can_skip(false));
        assert!(!R::Done.can_skip(false));
        assert!(!R::Queued.can_skip(false));
        assert!(R::Queued.can_skip(true));
        for s in RunStatus::ALL {
            if s.can_rerun(false, false) {
                assert!(s.can_become(R::Queued), "{s} can be run again");
            }
            if s.can_skip(true) {
                assert!(s.can_become(R::Done), "{s} can be skipped");
            }
        }
        assert_eq!(
            RunStatus::ALL
                .into_iter()
                .filter(|s| s.is_live())
                .collect::<Vec<_>>(),
            [R::Queued, R::Running, R::Retrying]
        );
    }

    #[test]
    fn a_released_package_is_never_built_again() {
        assert!(!P::Released.can_become(P::Building));
        assert!(!P::Purged.can_become(P::Building));
        let sources_of = |to: P| {
            PackageStatus::ALL
                .into_iter()
                .filter(|s| s.can_become(to))
                .collect::<Vec<_>>()
        };
        assert_eq!(sources_of(P::Released), [P::Review]);
        assert_eq!(
            sources_of(P::Building),
            [P::Building, P::Review, P::Empty, P::Failed]
        );
        assert!(!P::Purged.can_become(P::Released));
        for s in PackageStatus::ALL {
            if s != P::Purged {
                assert!(s.can_become(P::Purged), "{s} can be purged");
            }
        }
    }

    #[test]
    fn kinds_map_to_operations() {
        assert_eq!(
            Operation::for_kind(RequestKind::Portability),
            Some(Operation::Access)
        );
        assert_eq!(
            Operation::for_kind(RequestKind::ConsentWithdrawal),
            Some(Operation::Object)
        );
        assert_eq!(Operation::for_kind(RequestKind::Directives), None);
        let none: [(&str, &str); 0] = [];
        assert_eq!(
            Operation::for_request(RequestKind::Erasure, &none),
            Some(Operation::Erase)
        );
        // After a death, what the heir asks decides.
        for (asked, op) in [
            ("estate", Some(Operation::Access)),
            ("close", Some(Operation::Erase)),
            ("update", Some(Operation::Rectify)),
            ("directives", None),
        ] {
            let answers = [("heir_request", asked)];
            assert_eq!(
                Operation::for_request(RequestKind::Heir, &answers),
                op,
                "{asked}"
            );
        }
        assert!(Operation::Erase.notifies_recipients());
        assert!(!Operation::Access.notifies_recipients());
    }

    #[test]
    fn stored_words_stay_the_same() {
        assert_eq!(P::Failed.as_str(), "failed");
        assert_eq!(R::Retrying.as_str(), "retrying");
        assert_eq!(Operation::Rectify.as_str(), "rectify");
        assert_eq!(
            "stalled".parse::<RunStatus>().unwrap_err().to_string(),
            "unknown run status \"stalled\"; expected one of: queued, running, retrying, \
             failed, task, done"
        );
    }
}
