//! Where a request stands in the team's work, the way a privacy team names it: identity to
//! check, to send to the data sources, with the sources, ready to answer, waiting for the
//! requester. A [`Stage`] follows from the request's [`Status`] and where its data sources
//! stand ([`Sources`]); the queue's tabs and the request page's header both say it.

use super::kind::text_enum;
use super::status::Status;

text_enum! {
    /// Where the request's data sources stand (the `sources_state` the store keeps beside
    /// each request).
    pub enum Sources (what = "sources state", ignore_case = false) {
        /// Nothing sent to any source yet.
        NotSent => "not_sent",
        /// Sent; at least one source has not finished (queued, running, retrying, failed, or
        /// a team's task still open).
        Pending => "pending",
        /// Every source it was sent to has finished (done, skipped with a reason, or
        /// answered by its team).
        Done => "done",
    }
}

impl Sources {
    /// The stored column: NULL is "nothing sent".
    pub fn from_column(value: Option<&str>) -> Sources {
        match value {
            Some("pending") => Sources::Pending,
            Some("done") => Sources::Done,
            _ => Sources::NotSent,
        }
    }

    /// The stored column's value for this state.
    pub fn column(self) -> Option<&'static str> {
        match self {
            Sources::NotSent => None,
            Sources::Pending => Some("pending"),
            Sources::Done => Some("done"),
        }
    }
}

text_enum! {
    /// The next step a request waits for.
    pub enum Stage (what = "stage", ignore_case = false) {
        /// Filed on the portal, the address not yet confirmed: nothing to do yet.
        Unconfirmed => "unconfirmed",
        /// The requester's identity is to be checked.
        ToVerify => "to_verify",
        /// Being worked on, not yet sent to the data sources that serve its kind.
        ToSend => "to_send",
        /// Sent to the sources; at least one has not finished.
        Gathering => "gathering",
        /// Ready to answer: every source has finished, or none serves its kind.
        ToAnswer => "to_answer",
        /// On hold: the team waits for the requester (the clock is suspended).
        Waiting => "waiting",
        /// Answered, refused, withdrawn or expired.
        Closed => "closed",
    }
}

impl Stage {
    /// The stage of a request in `status` whose sources stand at `sources`; `served` says
    /// whether any configured data source serves its kind (when none does, there is nothing
    /// to gather and the request is ready to answer once in progress).
    pub fn of(status: Status, sources: Sources, served: bool) -> Stage {
        match status {
            Status::New => Stage::Unconfirmed,
            Status::Verifying => Stage::ToVerify,
            Status::OnHold => Stage::Waiting,
            Status::InProgress => match sources {
                Sources::Pending => Stage::Gathering,
                Sources::Done => Stage::ToAnswer,
                Sources::NotSent if served => Stage::ToSend,
                Sources::NotSent => Stage::ToAnswer,
            },
            Status::Fulfilled | Status::Rejected | Status::Withdrawn | Status::Expired => {
                Stage::Closed
            }
        }
    }

    /// The stages of open requests the team acts on, in the order work flows.
    pub const WORK: [Stage; 5] = [
        Stage::ToVerify,
        Stage::ToSend,
        Stage::Gathering,
        Stage::ToAnswer,
        Stage::Waiting,
    ];

    /// The status every request at this stage has.
    pub fn status(self) -> Option<Status> {
        match self {
            Stage::Unconfirmed => Some(Status::New),
            Stage::ToVerify => Some(Status::Verifying),
            Stage::ToSend | Stage::Gathering | Stage::ToAnswer => Some(Status::InProgress),
            Stage::Waiting => Some(Status::OnHold),
            Stage::Closed => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stage_follows_the_status_then_the_sources() {
        use Sources::*;
        let cases = [
            (Status::New, NotSent, true, Stage::Unconfirmed),
            (Status::Verifying, NotSent, true, Stage::ToVerify),
            (Status::InProgress, NotSent, true, Stage::ToSend),
            (Status::InProgress, Pending, true, Stage::Gathering),
            (Status::InProgress, Done, true, Stage::ToAnswer),
            // No source serves the kind: nothing to gather, the answer is next.
            (Status::InProgress, NotSent, false, Stage::ToAnswer),
            (Status::OnHold, Pending, true, Stage::Waiting),
            (Status::Fulfilled, Done, true, Stage::Closed),
            (Status::Withdrawn, NotSent, false, Stage::Closed),
        ];
        for (status, sources, served, stage) in cases {
            assert_eq!(
                Stage::of(status, sources, served),
                stage,
                "{status} {sources}"
            );
        }
    }

    #[test]
    fn the_stored_column_reads_back() {
        for s in Sources::ALL {
            assert_eq!(Sources::from_column(s.column()), s);
        }
        assert_eq!(Sources::from_column(Some("anything")), Sources::NotSent);
    }

    #[test]
    fn every_work_stage_is_open() {
        for stage in Stage::WORK {
            assert!(stage.status().is_some_and(Status::is_open), "{stage}");
        }
    }
}
