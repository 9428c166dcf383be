//! The projection: what one circulation event does to the loans, holds and
//! copy statuses derived from the log. Both the desk store and the server
//! load the [`Slice`] an event needs, ask [`project`], and write the result;
//! sync replays a title's events through the same function in clock order,
//! so every replica derives the same rows from the same events.
//!
//! It must accept events that only concurrent desks produce (a second
//! check-out of a lent copy, a trap of a copy another hold holds), so it
//! never refuses: an event is a fact, and the rows follow it.

use super::{Event, EventKind};
use crate::ids::{CopyId, EventId, HoldId, MemberId, TitleId};
use crate::model::{CopyStatus, HoldStatus};
use chrono::{DateTime, NaiveDate, Utc};

/// The rows an event may touch, as they are before it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Slice {
    /// The open loan of the event's copy (its id is its check-out event).
    pub open_loan: Option<EventId>,
    /// The hold ready on the event's copy (at most one).
    pub ready_hold: Option<HoldId>,
    /// The status of the hold the event names, if that hold exists.
    pub named_hold: Option<HoldStatus>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LoanEnd {
    Returned,
    Lost,
    /// Lent again by a desk that had not heard of this loan (sync only):
    /// it ends, marked, and a conflict says so.
    SupersededBy(EventId),
}

/// One row write. Adapters turn each into one statement.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Write {
    CloseLoan {
        loan: EventId,
        end: LoanEnd,
        at: DateTime<Utc>,
    },
    OpenLoan {
        id: EventId,
        copy: CopyId,
        title: TitleId,
        member: MemberId,
        out_at: DateTime<Utc>,
        due_on: NaiveDate,
    },
    /// The due date moves and the renewal count goes up by one.
    RenewLoan {
        loan: EventId,
        due_on: NaiveDate,
    },
    /// A new waiting hold; nothing if the member already has an active
    /// hold on the title (two desks queued them at once: the first counts).
    InsertHold {
        id: HoldId,
        title: TitleId,
        member: MemberId,
        placed_at: DateTime<Utc>,
    },
    ReadyHold {
        id: HoldId,
        copy: CopyId,
        expires_on: Option<NaiveDate>,
    },
    /// Waits again: its copy went elsewhere or was lost.
    RequeueHold {
        id: HoldId,
    },
    CloseHold {
        id: HoldId,
        status: HoldStatus,
        at: DateTime<Utc>,
    },
    CopyStatus {
        copy: CopyId,
        status: CopyStatus,
        last_event: EventId,
    },
}

/// The writes that apply `e` to rows in the state `slice`.
pub fn project(slice: &Slice, e: &Event) -> Vec<Write> {
    let at = e.occurred_at;
    let mut w = Vec::new();
    let loan_open_after = match e.kind {
        EventKind::CheckedOut => {
            let (Some(copy), Some(member), Some(due_on)) = (e.copy_id, e.member_id, e.due_on) else { return w };
            if let Some(loan) = slice.open_loan {
                w.push(Write::CloseLoan { loan, end: LoanEnd::SupersededBy(e.id), at });
            }
            w.push(Write::OpenLoan { id: e.id, copy, title: e.title_id, member, out_at: at, due_on });
            if let Some(h) = e.hold_id {
                w.push(Write::CloseHold { id: h, status: HoldStatus::Fulfilled, at });
            }
            true
        }
        EventKind::Renewed => {
            // No open loan only after concurrent desks (returned elsewhere).
            let (Some(loan), Some(due_on)) = (slice.open_loan, e.due_on) else { return w };
            w.push(Write::RenewLoan { loan, due_on });
            true
        }
        EventKind::CheckedIn | EventKind::MarkedLost => {
            let lost = e.kind == EventKind::MarkedLost;
            if let Some(loan) = slice.open_loan {
                w.push(Write::CloseLoan { loan, end: if lost { LoanEnd::Lost } else { LoanEnd::Returned }, at });
            }
            // A copy lost from the hold shelf: the hold waits again.
            if let (true, Some(h)) = (lost, slice.ready_hold) {
                w.push(Write::RequeueHold { id: h });
            }
            false
        }
        EventKind::TrappedForHold => {
            // Only after concurrent desks: the copy waited for another hold,
            // which waits again; a hold closed meanwhile is not reopened.
            if let Some(h) = slice.ready_hold.filter(|h| Some(*h) != e.hold_id) {
                w.push(Write::RequeueHold { id: h });
            }
            if let (Some(id), Some(copy), Some(status)) = (e.hold_id, e.copy_id, slice.named_hold)
                && status.is_active()
            {
                w.push(Write::ReadyHold { id, copy, expires_on: e.due_on });
            }
            slice.open_loan.is_some()
        }
        EventKind::ReleasedFromHold => slice.open_loan.is_some(),
        EventKind::HoldPlaced => {
            if let (Some(id), Some(member)) = (e.hold_id, e.member_id) {
                w.push(Write::InsertHold { id, title: e.title_id, member, placed_at: at });
            }
            return w;
        }
        EventKind::HoldCancelled | EventKind::HoldExpired => {
            let status = if e.kind == EventKind::HoldCancelled { HoldStatus::Cancelled } else { HoldStatus::Expired };
            if let Some(id) = e.hold_id {
                w.push(Write::CloseHold { id, status, at });
            }
            return w;
        }
    };
    if let Some(copy) = e.copy_id {
        // A copy with an open loan is on loan, whatever else happened to it
        // (a trap or release at a desk that had not seen the loan: sync only).
        let status = match e.kind {
            _ if loan_open_after => CopyStatus::OnLoan,
            EventKind::MarkedLost => CopyStatus::Lost,
            EventKind::TrappedForHold => CopyStatus::OnHoldShelf,
            _ => CopyStatus::Available,
        };
        w.push(Write::CopyStatus { copy, status, last_event: e.id });
    }
    w
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 3, 10, 0, 0).unwrap()
    }

    fn copy_event(kind: EventKind) -> Event {
        Event::new(kind, TitleId::new(), at()).copy(CopyId::new())
    }

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn a_check_out_opens_a_loan_fulfils_its_hold_and_ends_a_loan_it_supersedes() {
        let (m, h, old) = (MemberId::new(), HoldId::new(), EventId::new());
        let e = copy_event(EventKind::CheckedOut).member(m).hold(h).due(day("2026-12-24"));
        let w = project(&Slice { open_loan: Some(old), ..Default::default() }, &e);
        let copy = e.copy_id.unwrap();
        assert_eq!(
            w,
            vec![
                Write::CloseLoan { loan: old, end: LoanEnd::SupersededBy(e.id), at: at() },
                Write::OpenLoan { id: e.id, copy, title: e.title_id, member: m, out_at: at(), due_on: day("2026-12-24") },
                Write::CloseHold { id: h, status: HoldStatus::Fulfilled, at: at() },
                Write::CopyStatus { copy, status: CopyStatus::OnLoan, last_event: e.id },
            ]
        );
    }

    #[test]
    fn a_renewal_without_an_open_loan_changes_nothing() {
        let e = copy_event(EventKind::Renewed).due(day("2026-12-24"));
        assert!(project(&Slice::default(), &e).is_empty());
        let loan = EventId::new();
        let w = project(&Slice { open_loan: Some(loan), ..Default::default() }, &e);
        assert_eq!(w[0], Write::RenewLoan { loan, due_on: day("2026-12-24") });
    }

    #[test]
    fn a_copy_lost_from_the_hold_shelf_sends_its_hold_back_to_the_queue() {
        let h = HoldId::new();
        let e = copy_event(EventKind::MarkedLost);
        let w = project(&Slice { ready_hold: Some(h), ..Default::default() }, &e);
        assert_eq!(w[0], Write::RequeueHold { id: h });
        assert!(matches!(w[1], Write::CopyStatus { status: CopyStatus::Lost, .. }));
    }

    #[test]
    fn a_trap_readies_only_an_active_hold_and_requeues_the_one_it_displaces() {
        let (mine, other) = (HoldId::new(), HoldId::new());
        let e = copy_event(EventKind::TrappedForHold).member(MemberId::new()).hold(mine).due(day("2026-12-10"));
        let copy = e.copy_id.unwrap();
        let active = Slice { ready_hold: Some(other), named_hold: Some(HoldStatus::Waiting), open_loan: None };
        assert_eq!(
            project(&active, &e),
            vec![
                Write::RequeueHold { id: other },
                Write::ReadyHold { id: mine, copy, expires_on: Some(day("2026-12-10")) },
                Write::CopyStatus { copy, status: CopyStatus::OnHoldShelf, last_event: e.id },
            ]
        );
        let closed = Slice { named_hold: Some(HoldStatus::Cancelled), ..Default::default() };
        assert_eq!(project(&closed, &e), vec![Write::CopyStatus { copy, status: CopyStatus::OnHoldShelf, last_event: e.id }]);
        // The desk that trapped it had not seen a loan made elsewhere.
        let lent = Slice { open_loan: Some(EventId::new()), named_hold: Some(HoldStatus::Waiting), ..Default::default() };
        assert!(matches!(project(&lent, &e).last(), Some(Write::CopyStatus { status: CopyStatus::OnLoan, .. })));
    }

    #[test]
    fn queue_events_touch_holds_only() {
        let (h, m) = (HoldId::new(), MemberId::new());
        let placed = Event::new(EventKind::HoldPlaced, TitleId::new(), at()).member(m).hold(h);
        assert_eq!(
            project(&Slice::default(), &placed),
            vec![Write::InsertHold { id: h, title: placed.title_id, member: m, placed_at: at() }]
        );
        let expired = Event::new(EventKind::HoldExpired, placed.title_id, at()).member(m).hold(h);
        assert_eq!(project(&Slice::default(), &expired), vec![Write::CloseHold { id: h, status: HoldStatus::Expired, at: at() }]);
    }
}
