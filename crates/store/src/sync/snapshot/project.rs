//! A snapshot's loans, holds and copy statuses, projected in memory: each
//! title's events, in event order, through the domain's projection (the
//! function every replica runs), with the tables' constraints kept as the
//! SQL adapter meets them. Rows are then written in bulk instead of one
//! statement per write.

use shelfkeeper_domain::circulation::Event;
use shelfkeeper_domain::circulation::projection::{self, LoanEnd, Slice, Write};
use shelfkeeper_domain::ids::{CopyId, EventId, HoldId, MemberId, TitleId};
use shelfkeeper_domain::model::{CopyStatus, HoldStatus};
use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};

pub(super) struct LoanRow {
    pub id: EventId,
    pub copy: CopyId,
    pub title: TitleId,
    pub member: MemberId,
    pub out_at: DateTime<Utc>,
    pub due_on: NaiveDate,
    pub renewals: i64,
    pub returned_at: Option<DateTime<Utc>>,
    pub lost_at: Option<DateTime<Utc>>,
    pub superseded_by: Option<EventId>,
}

pub(super) struct HoldRow {
    pub id: HoldId,
    pub title: TitleId,
    pub member: MemberId,
    pub placed_at: DateTime<Utc>,
    pub status: HoldStatus,
    pub copy: Option<CopyId>,
    pub expires_on: Option<NaiveDate>,
    pub closed_at: Option<DateTime<Utc>>,
}

/// One title's projected rows: loans and holds in the order the adapter
/// inserts them (a hold's place in its queue), the copies' last status.
#[derive(Default)]
pub(super) struct TitleRows {
    pub loans: Vec<LoanRow>,
    pub holds: Vec<HoldRow>,
    pub copies: Vec<(CopyId, CopyStatus, EventId)>,
}

fn active(s: HoldStatus) -> bool {
    matches!(s, HoldStatus::Waiting | HoldStatus::Ready)
}

/// Projects one title's events, given in event order. `None` when a write
/// would break one of the tables' constraints (a second open loan of a
/// copy, a copy ready for two holds, two active holds of one member): the
/// SQL adapter would fail there, so the title is replayed by it instead.
pub(super) fn project_title(events: &[Event]) -> Option<TitleRows> {
    let mut rows = TitleRows::default();
    let mut loan_at: HashMap<EventId, usize> = HashMap::new();
    let mut open_loan: HashMap<CopyId, EventId> = HashMap::new();
    let mut hold_at: HashMap<HoldId, usize> = HashMap::new();
    let mut ready_on: HashMap<CopyId, HoldId> = HashMap::new();
    let mut copies: Vec<(CopyId, CopyStatus, EventId)> = Vec::new();
    for e in events {
        let slice = Slice {
            open_loan: e.copy_id.and_then(|c| open_loan.get(&c).copied()),
            ready_hold: e.copy_id.and_then(|c| ready_on.get(&c).copied()),
            named_hold: e.hold_id.and_then(|h| hold_at.get(&h)).map(|&i| rows.holds[i].status),
        };
        for write in projection::project(&slice, e) {
            match write {
                Write::CloseLoan { loan, end, at } => {
                    let Some(&i) = loan_at.get(&loan) else { continue };
                    let l = &mut rows.loans[i];
                    match end {
                        LoanEnd::Returned => l.returned_at = Some(at),
                        LoanEnd::Lost => l.lost_at = Some(at),
                        LoanEnd::SupersededBy(by) => {
                            l.returned_at = Some(at);
                            l.superseded_by = Some(by);
                        }
                    }
                    if open_loan.get(&l.copy) == Some(&l.id) {
                        open_loan.remove(&l.copy);
                    }
                }
                Write::OpenLoan { id, copy, title, member, out_at, due_on } => {
                    if loan_at.contains_key(&id) || open_loan.contains_key(&copy) {
                        return None;
                    }
                    loan_at.insert(id, rows.loans.len());
                    open_loan.insert(copy, id);
                    rows.loans.push(LoanRow {
                        id,
                        copy,
                        title,
                        member,
                        out_at,
                        due_on,
                        renewals: 0,
                        returned_at: None,
                        lost_at: None,
                        superseded_by: None,
                    });
                }
                Write::RenewLoan { loan, due_on } => {
                    if let Some(&i) = loan_at.get(&loan) {
                        rows.loans[i].due_on = due_on;
                        rows.loans[i].renewals += 1;
                    }
                }
                Write::InsertHold { id, title, member, placed_at } => {
                    // ON CONFLICT DO NOTHING: the id, or an active hold of
                    // the member on the title.
                    let taken =
                        hold_at.contains_key(&id) || rows.holds.iter().any(|h| h.member == member && h.title == title && active(h.status));
                    if !taken {
                        hold_at.insert(id, rows.holds.len());
                        rows.holds.push(HoldRow {
                            id,
                            title,
                            member,
                            placed_at,
                            status: HoldStatus::Waiting,
                            copy: None,
                            expires_on: None,
                            closed_at: None,
                        });
                    }
                }
                Write::ReadyHold { id, copy, expires_on } => {
                    let Some(&i) = hold_at.get(&id) else { continue };
                    if ready_on.get(&copy).is_some_and(|&h| h != id) || !becomes_active(&rows.holds, i) {
                        return None;
                    }
                    let h = &mut rows.holds[i];
                    if let (HoldStatus::Ready, Some(old)) = (h.status, h.copy) {
                        ready_on.remove(&old);
                    }
                    h.status = HoldStatus::Ready;
                    h.copy = Some(copy);
                    h.expires_on = expires_on;
                    ready_on.insert(copy, id);
                }
                Write::RequeueHold { id } => {
                    let Some(&i) = hold_at.get(&id) else { continue };
                    if !becomes_active(&rows.holds, i) {
                        return None;
                    }
                    let h = &mut rows.holds[i];
                    if let (HoldStatus::Ready, Some(old)) = (h.status, h.copy) {
                        ready_on.remove(&old);
                    }
                    h.status = HoldStatus::Waiting;
                    h.copy = None;
                    h.expires_on = None;
                }
                Write::CloseHold { id, status, at } => {
                    let Some(&i) = hold_at.get(&id) else { continue };
                    if active(status) && !becomes_active(&rows.holds, i) {
                        return None;
                    }
                    let h = &mut rows.holds[i];
                    if let (HoldStatus::Ready, Some(old)) = (h.status, h.copy)
                        && status != HoldStatus::Ready
                    {
                        ready_on.remove(&old);
                    }
                    h.status = status;
                    h.closed_at = Some(at);
                }
                Write::CopyStatus { copy, status, last_event } => match copies.iter_mut().find(|(c, _, _)| *c == copy) {
                    Some(slot) => *slot = (copy, status, last_event),
                    None => copies.push((copy, status, last_event)),
                },
            }
        }
    }
    rows.copies = copies;
    Some(rows)
}

/// Whether hold `i` may become (or stay) active: no other active hold of
/// its member on its title (the tables' unique index).
fn becomes_active(holds: &[HoldRow], i: usize) -> bool {
    let h = &holds[i];
    active(h.status) || !holds.iter().enumerate().any(|(j, o)| j != i && o.member == h.member && o.title == h.title && active(o.status))
}
