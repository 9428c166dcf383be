//! The holds queue: who may join it, and where a copy goes when it is free
//! of a loan or a hold. Decisions only; the adapters load the facts and
//! append the events returned.

use super::{Event, EventKind, hold_expires_on, member_in_good_standing};
use crate::error::{Error, Result};
use crate::ids::{CopyId, HoldId, TitleId};
use crate::model::{HoldStatus, Member, MemberType};
use chrono::{DateTime, NaiveDate, Utc};

/// What placing a hold depends on.
pub struct HoldRequest<'a> {
    pub member: &'a Member,
    pub title_id: TitleId,
    /// For messages.
    pub title: &'a str,
    pub copies: u32,
    /// The member already has a waiting or ready hold on the title.
    pub has_active_hold: bool,
    /// The member has a copy of the title on loan.
    pub has_title_on_loan: bool,
}

/// Puts the member in the queue: the `hold_placed` event, or why not.
pub fn place_hold(req: &HoldRequest<'_>, today: NaiveDate, now: DateTime<Utc>) -> Result<Event> {
    member_in_good_standing(req.member, today)?;
    if req.copies == 0 {
        return Err(Error::HoldOnTitleWithoutCopies(req.title.into()));
    }
    if req.has_active_hold {
        return Err(Error::HoldAlreadyPlaced { card: req.member.card.clone(), title: req.title.into() });
    }
    if req.has_title_on_loan {
        return Err(Error::HoldOnTitleAlreadyBorrowed { card: req.member.card.clone(), title: req.title.into() });
    }
    Ok(Event::new(EventKind::HoldPlaced, req.title_id, now).member(req.member.id).hold(HoldId::new()))
}

/// A hold as the queue rules see it.
#[derive(Clone, Debug)]
pub struct QueuedHold {
    pub id: HoldId,
    pub title_id: TitleId,
    pub member: crate::ids::MemberId,
    pub status: HoldStatus,
    /// The copy waiting for it on the hold shelf, when ready.
    pub copy: Option<CopyId>,
}

/// Why a hold leaves the queue.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HoldEnd {
    Cancelled,
    /// Not collected by its last pickup day.
    Expired,
}

/// Closes an active hold: the event, and the copy it frees (a ready hold's
/// copy, which then goes to the next in line by [`route_freed_copy`]).
pub fn close_hold(hold: &QueuedHold, end: HoldEnd, now: DateTime<Utc>) -> Result<(Event, Option<CopyId>)> {
    if !hold.status.is_active() {
        return Err(Error::HoldNotActive(hold.id.to_string()));
    }
    let kind = match end {
        HoldEnd::Cancelled => EventKind::HoldCancelled,
        HoldEnd::Expired => EventKind::HoldExpired,
    };
    let freed = if hold.status == HoldStatus::Ready { hold.copy } else { None };
    Ok((Event::new(kind, hold.title_id, now).member(hold.member).hold(hold.id), freed))
}

/// A ready hold whose last pickup day has passed.
pub fn is_uncollected(expires_on: NaiveDate, today: NaiveDate) -> bool {
    expires_on < today
}

/// The first waiting hold on the copy's title, with the member's pickup rule.
pub struct NextInLine<'a> {
    pub hold_id: HoldId,
    pub member: &'a Member,
    pub policy: &'a MemberType,
}

/// Where a copy goes when a loan or a hold lets it go: onto the hold shelf
/// for the next in line, or back on the open shelf. A copy leaving the
/// hold shelf says so (`released_from_hold`); a returned copy's check-in
/// already did.
pub fn route_freed_copy(
    title_id: TitleId,
    copy: CopyId,
    next: Option<&NextInLine<'_>>,
    was_on_hold_shelf: bool,
    today: NaiveDate,
    now: DateTime<Utc>,
) -> Option<Event> {
    match next {
        Some(n) => Some(
            Event::new(EventKind::TrappedForHold, title_id, now)
                .copy(copy)
                .member(n.member.id)
                .hold(n.hold_id)
                .due(hold_expires_on(today, n.policy)),
        ),
        None if was_on_hold_shelf => Some(Event::new(EventKind::ReleasedFromHold, title_id, now).copy(copy)),
        None => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::MemberId;

    fn member(blocked: bool) -> Member {
        super::super::tests::member(blocked, None)
    }

    fn request(m: &Member) -> HoldRequest<'_> {
        HoldRequest { member: m, title_id: TitleId::new(), title: "Dune", copies: 1, has_active_hold: false, has_title_on_loan: false }
    }

    fn today() -> NaiveDate {
        "2026-12-03".parse().unwrap()
    }

    #[test]
    fn a_member_in_good_standing_joins_a_queue_once() {
        let m = member(false);
        let e = place_hold(&request(&m), today(), Utc::now()).unwrap();
        assert_eq!((e.kind, e.member_id, e.copy_id), (EventKind::HoldPlaced, Some(m.id), None));
        assert!(e.hold_id.is_some());
        let twice = HoldRequest { has_active_hold: true, ..request(&m) };
        assert!(matches!(place_hold(&twice, today(), Utc::now()), Err(Error::HoldAlreadyPlaced { .. })));
        let borrowed = HoldRequest { has_title_on_loan: true, ..request(&m) };
        assert!(matches!(place_hold(&borrowed, today(), Utc::now()), Err(Error::HoldOnTitleAlreadyBorrowed { .. })));
        let none = HoldRequest { copies: 0, ..request(&m) };
        assert!(matches!(place_hold(&none, today(), Utc::now()), Err(Error::HoldOnTitleWithoutCopies(_))));
    }

    #[test]
    fn a_blocked_or_expired_member_cannot_place_a_hold() {
        let blocked = member(true);
        assert!(matches!(place_hold(&request(&blocked), today(), Utc::now()), Err(Error::MemberBlocked { .. })));
        let expired = Member { expires_on: Some("2026-12-02".parse().unwrap()), ..member(false) };
        assert!(matches!(place_hold(&request(&expired), today(), Utc::now()), Err(Error::MemberExpired { .. })));
    }

    #[test]
    fn closing_a_ready_hold_frees_its_copy_and_a_closed_one_is_refused() {
        let copy = CopyId::new();
        let mut h = QueuedHold {
            id: HoldId::new(),
            title_id: TitleId::new(),
            member: MemberId::new(),
            status: HoldStatus::Ready,
            copy: Some(copy),
        };
        let (e, freed) = close_hold(&h, HoldEnd::Expired, Utc::now()).unwrap();
        assert_eq!((e.kind, e.hold_id, e.copy_id, freed), (EventKind::HoldExpired, Some(h.id), None, Some(copy)));
        h.status = HoldStatus::Waiting;
        assert_eq!(close_hold(&h, HoldEnd::Cancelled, Utc::now()).unwrap().1, None);
        h.status = HoldStatus::Fulfilled;
        assert!(matches!(close_hold(&h, HoldEnd::Cancelled, Utc::now()), Err(Error::HoldNotActive(_))));
    }

    #[test]
    fn a_freed_copy_goes_to_the_next_in_line_or_back_to_the_shelf() {
        let m = member(false);
        let policy = super::super::tests::policy();
        let (title, copy, hold) = (TitleId::new(), CopyId::new(), HoldId::new());
        let next = NextInLine { hold_id: hold, member: &m, policy: &policy };
        let trap = route_freed_copy(title, copy, Some(&next), false, today(), Utc::now()).unwrap();
        assert_eq!(
            (trap.kind, trap.hold_id, trap.member_id, trap.due_on),
            (EventKind::TrappedForHold, Some(hold), Some(m.id), Some("2026-12-10".parse().unwrap()))
        );
        let release = route_freed_copy(title, copy, None, true, today(), Utc::now()).unwrap();
        assert_eq!((release.kind, release.copy_id), (EventKind::ReleasedFromHold, Some(copy)));
        assert!(route_freed_copy(title, copy, None, false, today(), Utc::now()).is_none());
    }
}
