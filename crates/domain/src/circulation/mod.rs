//! Circulation rules: pure decisions over a copy's derived state and the
//! borrower. The store loads the state, asks here, and appends the resulting
//! events in one transaction.
//!
//! Circulation is an append-only log of events per copy (and per title for
//! the holds queue); a copy's status is derived from its events
//! ([`fold_copy`]) and only cached in the store.

use crate::error::{Error, Result};
use crate::ids::{CopyId, EventId, HoldId, MemberId, TitleId};
use crate::model::{CopyStatus, Member, MemberType};
use chrono::{DateTime, Days, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

mod event;
pub mod holds;
pub mod projection;

pub use event::Event;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// Copy stream: lent to `member_id` until `due_on` (fulfilling `hold_id` if set).
    CheckedOut,
    /// Copy stream: the open loan's due date moved to `due_on`.
    Renewed,
    /// Copy stream: returned (or found, if it was lost).
    CheckedIn,
    /// Copy stream: declared lost; closes any open loan.
    MarkedLost,
    /// Copy stream: put on the hold shelf for `hold_id`/`member_id` until `due_on`.
    TrappedForHold,
    /// Copy stream: taken off the hold shelf (hold cancelled or expired, no one next).
    ReleasedFromHold,
    /// Title stream: `member_id` joined the queue.
    HoldPlaced,
    /// Title stream: the hold was cancelled.
    HoldCancelled,
    /// Title stream: a ready hold was not picked up in time.
    HoldExpired,
}

impl EventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::CheckedOut => "checked_out",
            EventKind::Renewed => "renewed",
            EventKind::CheckedIn => "checked_in",
            EventKind::MarkedLost => "marked_lost",
            EventKind::TrappedForHold => "trapped_for_hold",
            EventKind::ReleasedFromHold => "released_from_hold",
            EventKind::HoldPlaced => "hold_placed",
            EventKind::HoldCancelled => "hold_cancelled",
            EventKind::HoldExpired => "hold_expired",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "checked_out" => EventKind::CheckedOut,
            "renewed" => EventKind::Renewed,
            "checked_in" => EventKind::CheckedIn,
            "marked_lost" => EventKind::MarkedLost,
            "trapped_for_hold" => EventKind::TrappedForHold,
            "released_from_hold" => EventKind::ReleasedFromHold,
            "hold_placed" => EventKind::HoldPlaced,
            "hold_cancelled" => EventKind::HoldCancelled,
            "hold_expired" => EventKind::HoldExpired,
            _ => return None,
        })
    }

    /// Events about a physical copy (as opposed to a title's holds queue).
    pub fn is_copy_event(self) -> bool {
        !matches!(self, EventKind::HoldPlaced | EventKind::HoldCancelled | EventKind::HoldExpired)
    }
}

/// The fields of a copy event that determine the copy's state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CopyEvent {
    pub id: EventId,
    pub kind: EventKind,
    pub member_id: Option<MemberId>,
    pub hold_id: Option<HoldId>,
    pub due_on: Option<NaiveDate>,
}

/// A copy's circulation state, derived from its events.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct CopyState {
    pub loan: Option<OpenLoan>,
    pub trapped: Option<TrappedHold>,
    pub lost: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpenLoan {
    pub loan_id: EventId,
    pub member_id: MemberId,
    pub due_on: NaiveDate,
    pub renewals: u32,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrappedHold {
    pub hold_id: HoldId,
    pub member_id: MemberId,
    pub expires_on: NaiveDate,
}

impl CopyState {
    pub fn status(&self) -> CopyStatus {
        if self.lost {
            CopyStatus::Lost
        } else if self.loan.is_some() {
            CopyStatus::OnLoan
        } else if self.trapped.is_some() {
            CopyStatus::OnHoldShelf
        } else {
            CopyStatus::Available
        }
    }

    /// Applies one event. Events are facts: an event that does not fit the
    /// state (possible only after concurrent offline desks) still moves the
    /// state to what the event says, so every replica folds to the same result.
    pub fn apply(&mut self, e: &CopyEvent) {
        match e.kind {
            EventKind::CheckedOut => {
                if let (Some(member_id), Some(due_on)) = (e.member_id, e.due_on) {
                    self.loan = Some(OpenLoan { loan_id: e.id, member_id, due_on, renewals: 0 });
                }
                self.trapped = None;
                self.lost = false;
            }
            EventKind::Renewed => {
                if let (Some(loan), Some(due)) = (self.loan.as_mut(), e.due_on) {
                    loan.due_on = due;
                    loan.renewals += 1;
                }
            }
            EventKind::CheckedIn => {
                self.loan = None;
                self.lost = false;
            }
            EventKind::MarkedLost => {
                self.loan = None;
                self.trapped = None;
                self.lost = true;
            }
            EventKind::TrappedForHold => {
                if let (Some(hold_id), Some(member_id), Some(expires_on)) = (e.hold_id, e.member_id, e.due_on) {
                    self.trapped = Some(TrappedHold { hold_id, member_id, expires_on });
                }
            }
            EventKind::ReleasedFromHold => self.trapped = None,
            EventKind::HoldPlaced | EventKind::HoldCancelled | EventKind::HoldExpired => {}
        }
    }
}

/// Folds a copy's events, in log order, into its state.
pub fn fold_copy<'a>(events: impl IntoIterator<Item = &'a CopyEvent>) -> CopyState {
    let mut state = CopyState::default();
    for e in events {
        state.apply(e);
    }
    state
}

/// Everything the rules need to know about the member at the desk.
pub struct Borrower<'a> {
    pub member: &'a Member,
    pub policy: &'a MemberType,
    pub open_loans: u32,
}

/// Refuses blocked and expired members.
pub fn member_in_good_standing(member: &Member, today: NaiveDate) -> Result<()> {
    if member.blocked {
        return Err(Error::MemberBlocked {
            card: member.card.clone(),
            reason: member.block_reason.clone().unwrap_or_else(|| "no reason given".into()),
        });
    }
    if let Some(expired) = member.expires_on.filter(|d| *d < today) {
        return Err(Error::MemberExpired { card: member.card.clone(), expired });
    }
    Ok(())
}

pub fn due_date(today: NaiveDate, policy: &MemberType) -> NaiveDate {
    today + Days::new(u64::from(policy.loan_days))
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckoutDecision {
    pub due_on: NaiveDate,
    /// The hold this loan fulfils (the copy was waiting for this member).
    pub fulfils_hold: Option<HoldId>,
}

/// May `borrower` take the copy in `state` today? `own_hold` is the
/// borrower's waiting hold on the copy's title, if any: the loan fulfils it
/// as it fulfils a hold the copy was trapped for (the member has the book;
/// the queue must not trap another copy for them). `card_of` names another
/// member for messages.
pub fn check_out(
    barcode: &str,
    state: &CopyState,
    borrower: &Borrower<'_>,
    own_hold: Option<HoldId>,
    today: NaiveDate,
    card_of: impl Fn(MemberId) -> String,
) -> Result<CheckoutDecision> {
    member_in_good_standing(borrower.member, today)?;
    if state.lost {
        return Err(Error::CopyLost(barcode.into()));
    }
    if let Some(loan) = &state.loan {
        return Err(Error::CopyOnLoan { barcode: barcode.into(), card: card_of(loan.member_id), due: loan.due_on });
    }
    let fulfils_hold = match &state.trapped {
        Some(t) if t.member_id == borrower.member.id => Some(t.hold_id),
        Some(t) => return Err(Error::CopyReservedForAnother { barcode: barcode.into(), card: card_of(t.member_id) }),
        None => own_hold,
    };
    if borrower.open_loans >= borrower.policy.max_loans {
        return Err(Error::LoanLimitReached { card: borrower.member.card.clone(), limit: borrower.policy.max_loans });
    }
    Ok(CheckoutDecision { due_on: due_date(today, borrower.policy), fulfils_hold })
}

/// May the open loan be renewed? Returns the new due date. Renewal counts
/// from today (a renewal of an overdue item does not backdate), never
/// shortens a loan, and is refused while others wait for the title.
pub fn renew(barcode: &str, state: &CopyState, borrower: &Borrower<'_>, others_waiting: u32, today: NaiveDate) -> Result<NaiveDate> {
    let loan = state.loan.as_ref().ok_or_else(|| Error::CopyNotOnLoan(barcode.into()))?;
    member_in_good_standing(borrower.member, today)?;
    if loan.renewals >= borrower.policy.max_renewals {
        return Err(Error::RenewalLimitReached { barcode: barcode.into(), limit: borrower.policy.max_renewals });
    }
    if others_waiting > 0 {
        return Err(Error::RenewalBlockedByHold(barcode.into()));
    }
    Ok(due_date(today, borrower.policy).max(loan.due_on))
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckinDecision {
    /// The loan that ends, if the copy was on loan.
    pub closes_loan: Option<OpenLoan>,
    /// The copy had been declared lost and is now found.
    pub found: bool,
    pub days_overdue: i64,
}

pub fn check_in(barcode: &str, state: &CopyState, today: NaiveDate) -> Result<CheckinDecision> {
    match (&state.loan, state.lost) {
        (Some(loan), _) => {
            Ok(CheckinDecision { days_overdue: (today - loan.due_on).num_days().max(0), closes_loan: Some(loan.clone()), found: false })
        }
        (None, true) => Ok(CheckinDecision { closes_loan: None, found: true, days_overdue: 0 }),
        (None, false) => Err(Error::CopyNotOnLoan(barcode.into())),
    }
}

/// A copy as the events about it name it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CopyRef {
    pub id: CopyId,
    pub title_id: TitleId,
}

/// The `checked_out` event of a decided check-out.
pub fn checked_out(copy: CopyRef, member: MemberId, d: &CheckoutDecision, now: DateTime<Utc>) -> Event {
    Event::new(EventKind::CheckedOut, copy.title_id, now).copy(copy.id).member(member).due(d.due_on).maybe_hold(d.fulfils_hold)
}

/// The `checked_in` event of a decided check-in (naming the borrower).
pub fn checked_in(copy: CopyRef, d: &CheckinDecision, now: DateTime<Utc>) -> Event {
    let e = Event::new(EventKind::CheckedIn, copy.title_id, now).copy(copy.id);
    match &d.closes_loan {
        Some(l) => e.member(l.member_id),
        None => e,
    }
}

/// The `renewed` event of a decided renewal.
pub fn renewed(copy: CopyRef, member: MemberId, due_on: NaiveDate, now: DateTime<Utc>) -> Event {
    Event::new(EventKind::Renewed, copy.title_id, now).copy(copy.id).member(member).due(due_on)
}

/// Declares a copy lost: refused if it already is; its loan (if any) ends.
pub fn mark_lost(barcode: &str, copy: CopyRef, state: &CopyState, now: DateTime<Utc>) -> Result<Event> {
    if state.lost {
        return Err(Error::CopyLost(barcode.into()));
    }
    let e = Event::new(EventKind::MarkedLost, copy.title_id, now).copy(copy.id);
    Ok(match &state.loan {
        Some(l) => e.member(l.member_id),
        None => e,
    })
}

/// Hold expiry date for a copy trapped today.
pub fn hold_expires_on(today: NaiveDate, policy: &MemberType) -> NaiveDate {
    today + Days::new(u64::from(policy.hold_pickup_days))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::MemberTypeId;
    use chrono::Utc;

    pub(super) fn member(blocked: bool, expires_on: Option<NaiveDate>) -> Member {
        Member {
            id: MemberId::new(),
            card: "M1".into(),
            name: "Ada".into(),
            email: None,
            phone: None,
            address: None,
            member_type: "adult".into(),
            expires_on,
            blocked,
            block_reason: blocked.then(|| "unpaid fines".into()),
            notes: None,
            created_at: Utc::now(),
            updated_at: Utc::now(),
        }
    }

    pub(super) fn policy() -> MemberType {
        MemberType {
            id: MemberTypeId::new(),
            code: "adult".into(),
            name: "Adult".into(),
            loan_days: 21,
            max_renewals: 1,
            max_loans: 2,
            hold_pickup_days: 7,
        }
    }

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn checkout_rules() {
        let m = member(false, None);
        let p = policy();
        let b = Borrower { member: &m, policy: &p, open_loans: 0 };
        let free = CopyState::default();
        let ok = check_out("B1", &free, &b, None, d("2026-11-22"), |_| "?".into()).unwrap();
        assert_eq!(ok.due_on, d("2026-12-13"));

        let lent = CopyState {
            loan: Some(OpenLoan { loan_id: EventId::new(), member_id: MemberId::new(), due_on: d("2026-12-01"), renewals: 0 }),
            ..Default::default()
        };
        let err = check_out("B00123", &lent, &b, None, d("2026-11-22"), |_| "M0042".into()).unwrap_err();
        assert_eq!(err.to_string(), "copy B00123 is already on loan to member M0042 until 2026-12-01");

        let blocked = member(true, None);
        let b2 = Borrower { member: &blocked, policy: &p, open_loans: 0 };
        assert!(matches!(check_out("B1", &free, &b2, None, d("2026-11-22"), |_| "?".into()), Err(Error::MemberBlocked { .. })));
        let expired = member(false, Some(d("2026-11-21")));
        let b3 = Borrower { member: &expired, policy: &p, open_loans: 0 };
        assert!(matches!(check_out("B1", &free, &b3, None, d("2026-11-22"), |_| "?".into()), Err(Error::MemberExpired { .. })));
        let b4 = Borrower { member: &m, policy: &p, open_loans: 2 };
        assert!(matches!(
            check_out("B1", &free, &b4, None, d("2026-11-22"), |_| "?".into()),
            Err(Error::LoanLimitReached { limit: 2, .. })
        ));
    }

    #[test]
    fn a_trapped_copy_goes_only_to_its_member() {
        let m = member(false, None);
        let p = policy();
        let b = Borrower { member: &m, policy: &p, open_loans: 0 };
        let hold = HoldId::new();
        let mine =
            CopyState { trapped: Some(TrappedHold { hold_id: hold, member_id: m.id, expires_on: d("2026-12-01") }), ..Default::default() };
        assert_eq!(check_out("B1", &mine, &b, None, d("2026-11-22"), |_| "?".into()).unwrap().fulfils_hold, Some(hold));
        // Off the open shelf, the loan fulfils the borrower's waiting hold.
        let waiting = HoldId::new();
        let free = CopyState::default();
        assert_eq!(check_out("B1", &free, &b, Some(waiting), d("2026-11-22"), |_| "?".into()).unwrap().fulfils_hold, Some(waiting));
        let theirs = CopyState {
            trapped: Some(TrappedHold { hold_id: hold, member_id: MemberId::new(), expires_on: d("2026-12-01") }),
            ..Default::default()
        };
        assert!(matches!(
            check_out("B1", &theirs, &b, Some(HoldId::new()), d("2026-11-22"), |_| "M9".into()),
            Err(Error::CopyReservedForAnother { .. })
        ));
    }

    #[test]
    fn renewal_rules() {
        let m = member(false, None);
        let p = policy();
        let b = Borrower { member: &m, policy: &p, open_loans: 1 };
        let mut s = CopyState {
            loan: Some(OpenLoan { loan_id: EventId::new(), member_id: m.id, due_on: d("2026-11-30"), renewals: 0 }),
            ..Default::default()
        };
        assert_eq!(renew("B1", &s, &b, 0, d("2026-11-22")).unwrap(), d("2026-12-13"));
        assert!(matches!(renew("B1", &s, &b, 1, d("2026-11-22")), Err(Error::RenewalBlockedByHold(_))));
        s.loan.as_mut().unwrap().renewals = 1;
        assert!(matches!(renew("B1", &s, &b, 0, d("2026-11-22")), Err(Error::RenewalLimitReached { .. })));
        assert!(matches!(renew("B1", &CopyState::default(), &b, 0, d("2026-11-22")), Err(Error::CopyNotOnLoan(_))));
    }

    #[test]
    fn fold_derives_status_from_events() {
        let m = MemberId::new();
        let out = EventId::new();
        let ev = |id, kind, due: Option<&str>| CopyEvent { id, kind, member_id: Some(m), hold_id: Some(HoldId::new()), due_on: due.map(d) };
        let events = vec![ev(out, EventKind::CheckedOut, Some("2026-12-01")), ev(EventId::new(), EventKind::Renewed, Some("2026-12-20"))];
        let s = fold_copy(&events);
        assert_eq!(s.status(), CopyStatus::OnLoan);
        let loan = s.loan.unwrap();
        assert_eq!((loan.loan_id, loan.due_on, loan.renewals), (out, d("2026-12-20"), 1));
        let mut more = events.clone();
        more.push(ev(EventId::new(), EventKind::CheckedIn, None));
        assert_eq!(fold_copy(&more).status(), CopyStatus::Available);
        more.push(ev(EventId::new(), EventKind::TrappedForHold, Some("2026-12-27")));
        assert_eq!(fold_copy(&more).status(), CopyStatus::OnHoldShelf);
        more.push(ev(EventId::new(), EventKind::MarkedLost, None));
        assert_eq!(fold_copy(&more).status(), CopyStatus::Lost);
    }
}
