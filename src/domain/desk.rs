//! What the team may do to a request as it stands, and what it should do next: the request
//! page offers exactly these actions, grouped by stage (verify → gather → answer), with the
//! next step first. Pure: the caller says where the request and its sources stand.

use super::status::Status;

/// The three stages of a request's work, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    Verify,
    Gather,
    Answer,
}

/// Where the data sources stand for the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gathering {
    /// No source is configured: the team gathers by its own means.
    NoSources,
    /// Nothing sent to the sources yet.
    NotSent,
    /// A source is working (queued, running, retrying).
    Running,
    /// A team's task waits for a person.
    Tasks,
    /// A source failed for good: run it again or go on without it.
    Failed,
    /// The package is being built.
    Building,
    /// The package waits for review and release.
    Review,
    /// Every source is done, and any package is released (or empty).
    Ready,
}

/// Where a request stands, as far as the actions offered depend on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Situation {
    pub status: Status,
    pub verified: bool,
    /// Identity documents (or mandates) waiting for a decision.
    pub documents_waiting: usize,
    pub gathering: Gathering,
    /// Whether the profile leaves an extension to take.
    pub can_extend: bool,
    /// Whether the request asks for corrections (rectification), which can be sent again.
    pub corrects: bool,
}

/// An action offered on the request page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Offer {
    Assign,
    /// Record a verification made outside the portal.
    VerifyByHand,
    /// Accept or refuse an identity document.
    DecideDocument,
    /// Put on hold, asking the requester for something (the clock may stop).
    Hold,
    /// The requester answered: the clock runs again.
    Resume,
    Extend,
    SendToSources,
    /// Send the answer: the request is fulfilled.
    Answer,
    Message,
    Note,
    /// Refuse the request on a legal ground (through a confirmation page).
    Reject,
}

impl Offer {
    /// The stage an action belongs to; `None` for what applies at any stage.
    pub fn stage(self) -> Option<Stage> {
        match self {
            Offer::VerifyByHand | Offer::DecideDocument => Some(Stage::Verify),
            Offer::SendToSources => Some(Stage::Gather),
            Offer::Answer | Offer::Extend => Some(Stage::Answer),
            Offer::Assign
            | Offer::Hold
            | Offer::Resume
            | Offer::Message
            | Offer::Note
            | Offer::Reject => None,
        }
    }
}

/// Every action the state allows, in the order of the page.
pub fn offers(s: &Situation) -> Vec<Offer> {
    let open = s.status.is_open();
    let mut out = Vec::new();
    let mut offer = |allowed: bool, o: Offer| {
        if allowed {
            out.push(o);
        }
    };
    offer(open, Offer::Assign);
    offer(open && !s.verified, Offer::VerifyByHand);
    offer(open && s.documents_waiting > 0, Offer::DecideDocument);
    offer(
        open && s.verified
            && (s.gathering == Gathering::NotSent
                || (s.corrects && s.gathering == Gathering::Ready)),
        Offer::SendToSources,
    );
    offer(
        s.status == Status::InProgress
            && matches!(s.gathering, Gathering::NoSources | Gathering::Ready),
        Offer::Answer,
    );
    offer(open && s.can_extend, Offer::Extend);
    offer(
        matches!(s.status, Status::Verifying | Status::InProgress),
        Offer::Hold,
    );
    offer(s.status == Status::OnHold, Offer::Resume);
    offer(open, Offer::Message);
    offer(true, Offer::Note);
    offer(
        matches!(
            s.status,
            Status::Verifying | Status::InProgress | Status::OnHold
        ),
        Offer::Reject,
    );
    out
}

/// What the team should do next, said first on the page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NextStep {
    /// The requester has not confirmed their address yet (the team may verify by hand).
    AwaitConfirmation,
    /// A document waits for a decision.
    ReviewDocument,
    /// Identity to check (by hand, or ask for a proof).
    VerifyIdentity,
    /// Waiting for the requester to answer what was asked.
    AwaitRequester,
    SendToSources,
    /// Sources at work: nothing to do but wait.
    AwaitSources,
    /// A team's task to finish.
    FinishTasks,
    /// A source failed: run it again or go on without it.
    FixSource,
    AwaitPackage,
    ReviewPackage,
    /// Write and send the answer.
    Answer,
    /// Closed: nothing left to do.
    Closed,
}

impl NextStep {
    /// The action the step is done with, whose button is the page's primary one.
    pub fn offer(self) -> Option<Offer> {
        match self {
            NextStep::ReviewDocument => Some(Offer::DecideDocument),
            NextStep::VerifyIdentity => Some(Offer::VerifyByHand),
            NextStep::AwaitRequester => Some(Offer::Resume),
            NextStep::SendToSources => Some(Offer::SendToSources),
            NextStep::Answer => Some(Offer::Answer),
            _ => None,
        }
    }

    /// The stage the request is at.
    pub fn stage(self) -> Option<Stage> {
        match self {
            NextStep::AwaitConfirmation | NextStep::ReviewDocument | NextStep::VerifyIdentity => {
                Some(Stage::Verify)
            }
            NextStep::SendToSources
            | NextStep::AwaitSources
            | NextStep::FinishTasks
            | NextStep::FixSource
            | NextStep::AwaitPackage
            | NextStep::ReviewPackage => Some(Stage::Gather),
            NextStep::Answer => Some(Stage::Answer),
            NextStep::AwaitRequester | NextStep::Closed => None,
        }
    }
}

pub fn next_step(s: &Situation) -> NextStep {
    if !s.status.is_open() {
        return NextStep::Closed;
    }
    if s.documents_waiting > 0 && !s.verified {
        return NextStep::ReviewDocument;
    }
    match s.status {
        Status::New => NextStep::AwaitConfirmation,
        Status::OnHold => NextStep::AwaitRequester,
        _ if s.documents_waiting > 0 => NextStep::ReviewDocument,
        _ if !s.verified => NextStep::VerifyIdentity,
        _ => match s.gathering {
            Gathering::NotSent => NextStep::SendToSources,
            Gathering::Running => NextStep::AwaitSources,
            Gathering::Tasks => NextStep::FinishTasks,
            Gathering::Failed => NextStep::FixSource,
            Gathering::Building => NextStep::AwaitPackage,
            Gathering::Review => NextStep::ReviewPackage,
            Gathering::NoSources | Gathering::Ready => NextStep::Answer,
        },
    }
}

/// What the team may do after or beside the answer: fees, a restriction's lift, a hold's
/// task. Offered on the request page only where these allow it.
pub mod follow {
    use crate::domain::follow::{FeeBasis, FeeState, HoldState, RestrictionState};
    use crate::domain::kind::RequestKind;
    use crate::domain::status::Status;

    /// The grounds on which a fee may be asked now; none: no fee to record. A fee is decided
    /// while the request is being handled, and announced before the work it pays for (the
    /// CNIL: the person must be told beforehand); one at a time, so a fee still unpaid is
    /// settled first. Further copies are copies of the data: access and portability only.
    pub fn fee_bases(
        status: Status,
        kind: RequestKind,
        pending: Option<FeeState>,
    ) -> Vec<FeeBasis> {
        let handling = matches!(
            status,
            Status::Verifying | Status::InProgress | Status::OnHold
        );
        if !handling || pending == Some(FeeState::Asked) {
            return Vec::new();
        }
        let copies = matches!(kind, RequestKind::Access | RequestKind::Portability);
        FeeBasis::ALL
            .into_iter()
            .filter(|b| copies || *b != FeeBasis::FurtherCopies)
            .collect()
    }

    /// A fee asked can be marked paid or waived, whatever the request's status: payment may
    /// come after the answer.
    pub fn can_settle_fee(state: FeeState) -> bool {
        state.can_become(FeeState::Paid)
    }

    /// A restriction in force, with no lift under way, may be lifted (with notice).
    pub fn can_schedule_lift(state: RestrictionState) -> bool {
        state.can_become(RestrictionState::LiftScheduled)
    }

    /// A scheduled lift may be called off before its day.
    pub fn can_cancel_lift(state: RestrictionState) -> bool {
        state == RestrictionState::LiftScheduled
    }

    /// What a source left for the team (lifting, or erasing at the end of a hold) can be
    /// marked done.
    pub fn can_finish_lift(state: RestrictionState) -> bool {
        state == RestrictionState::LiftTask
    }

    pub fn can_finish_hold(state: HoldState) -> bool {
        state == HoldState::Task
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Offer::*;

    fn at(status: Status, verified: bool, gathering: Gathering) -> Situation {
        Situation {
            status,
            verified,
            documents_waiting: 0,
            gathering,
            can_extend: true,
            corrects: false,
        }
    }

    #[test]
    fn each_status_offers_what_the_transition_table_allows() {
        let cases: [(Situation, &[Offer]); 8] = [
            (
                at(Status::New, false, Gathering::NotSent),
                &[Assign, VerifyByHand, Extend, Message, Note],
            ),
            (
                at(Status::Verifying, false, Gathering::NotSent),
                &[Assign, VerifyByHand, Extend, Hold, Message, Note, Reject],
            ),
            (
                at(Status::InProgress, true, Gathering::NotSent),
                &[Assign, SendToSources, Extend, Hold, Message, Note, Reject],
            ),
            (
                at(Status::InProgress, true, Gathering::Ready),
                &[Assign, Answer, Extend, Hold, Message, Note, Reject],
            ),
            (
                at(Status::OnHold, true, Gathering::Running),
                &[Assign, Extend, Resume, Message, Note, Reject],
            ),
            (at(Status::Fulfilled, true, Gathering::Ready), &[Note]),
            (at(Status::Rejected, false, Gathering::NotSent), &[Note]),
            (at(Status::Withdrawn, true, Gathering::NotSent), &[Note]),
        ];
        for (situation, expected) in cases {
            assert_eq!(offers(&situation), expected, "{situation:?}");
        }
    }

    #[test]
    fn a_document_waiting_comes_first_and_is_offered() {
        let s = Situation {
            documents_waiting: 1,
            ..at(Status::Verifying, false, Gathering::NotSent)
        };
        assert_eq!(next_step(&s), NextStep::ReviewDocument);
        assert!(offers(&s).contains(&DecideDocument));
        assert_eq!(NextStep::ReviewDocument.offer(), Some(DecideDocument));
    }

    #[test]
    fn the_answer_waits_for_the_sources() {
        for g in [
            Gathering::Running,
            Gathering::Tasks,
            Gathering::Failed,
            Gathering::Building,
            Gathering::Review,
        ] {
            assert!(!offers(&at(Status::InProgress, true, g)).contains(&Answer));
        }
        assert_eq!(
            next_step(&at(Status::InProgress, true, Gathering::Review)),
            NextStep::ReviewPackage
        );
        assert_eq!(
            next_step(&at(Status::InProgress, true, Gathering::NoSources)),
            NextStep::Answer
        );
    }

    #[test]
    fn corrections_can_be_sent_again_once_applied() {
        let s = Situation {
            corrects: true,
            ..at(Status::InProgress, true, Gathering::Ready)
        };
        assert!(offers(&s).contains(&SendToSources));
    }

    #[test]
    fn next_steps_follow_the_stages() {
        assert_eq!(
            next_step(&at(Status::New, false, Gathering::NotSent)),
            NextStep::AwaitConfirmation
        );
        assert_eq!(
            next_step(&at(Status::Verifying, false, Gathering::NotSent)),
            NextStep::VerifyIdentity
        );
        assert_eq!(
            next_step(&at(Status::InProgress, true, Gathering::NotSent)),
            NextStep::SendToSources
        );
        assert_eq!(
            next_step(&at(Status::OnHold, true, Gathering::NotSent)),
            NextStep::AwaitRequester
        );
        assert_eq!(
            next_step(&at(Status::Expired, false, Gathering::NotSent)),
            NextStep::Closed
        );
    }

    #[test]
    fn fees_are_offered_while_the_request_is_handled_and_one_at_a_time() {
        use crate::domain::follow::{FeeBasis, FeeState};
        use crate::domain::kind::RequestKind as K;
        use follow::fee_bases;
        assert_eq!(
            fee_bases(Status::InProgress, K::Access, None),
            [FeeBasis::FurtherCopies, FeeBasis::Excessive]
        );
        assert_eq!(
            fee_bases(Status::InProgress, K::Erasure, None),
            [FeeBasis::Excessive],
            "further copies are copies of data"
        );
        assert_eq!(
            fee_bases(Status::OnHold, K::Access, Some(FeeState::Waived)).len(),
            2
        );
        assert!(fee_bases(Status::InProgress, K::Access, Some(FeeState::Asked)).is_empty());
        for closed in [
            Status::New,
            Status::Fulfilled,
            Status::Rejected,
            Status::Withdrawn,
        ] {
            assert!(fee_bases(closed, K::Access, None).is_empty(), "{closed:?}");
        }
        assert!(follow::can_settle_fee(FeeState::Asked));
        assert!(!follow::can_settle_fee(FeeState::Paid));
    }

    #[test]
    fn a_restriction_is_lifted_through_notice_and_tasks_are_closed_once() {
        use crate::domain::follow::{HoldState, RestrictionState as R};
        assert!(follow::can_schedule_lift(R::Active));
        assert!(!follow::can_schedule_lift(R::LiftScheduled));
        assert!(!follow::can_schedule_lift(R::Lifted));
        assert!(follow::can_cancel_lift(R::LiftScheduled));
        assert!(!follow::can_cancel_lift(R::LiftTask));
        assert!(follow::can_finish_lift(R::LiftTask));
        assert!(!follow::can_finish_lift(R::Active));
        assert!(follow::can_finish_hold(HoldState::Task));
        assert!(!follow::can_finish_hold(HoldState::Held));
    }
}
