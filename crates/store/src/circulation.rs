//! Check-out, check-in, renewal, loss and holds, as events.
//!
//! Each command: load the copy's state and the member, ask the domain rules,
//! append the events, and update the projections (`loans`, `holds`,
//! `copies.status`) with [`project`] — the one function that turns an event
//! into projection rows, used for local writes now and for events received
//! by sync later.

use crate::catalogue::{copy_by_barcode, title_by_id};
use crate::members::{member_by_card, member_by_id, member_type_by_code, member_type_from_row};
use crate::rows::{RowExt, date, parse_ts};
use crate::{Store, WriteTx, db_err};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use shelfkeeper_domain::access::{Action, Actor};
use shelfkeeper_domain::circulation::{self as rules, Borrower, CopyState, EventKind, OpenLoan, TrappedHold};
use shelfkeeper_domain::ids::{CopyId, EventId, HoldId, MemberId, TitleId};
use shelfkeeper_domain::model::{Copy, CopyStatus, Hold, HoldStatus, Loan, Member, MemberType};
use shelfkeeper_domain::{Error, Result};
use sqlx::SqliteConnection;
use sqlx::sqlite::SqliteRow;
use uuid::Uuid;

/// An event about to be appended.
#[derive(Clone, Debug)]
pub(crate) struct NewEvent {
    pub id: EventId,
    pub kind: EventKind,
    pub title_id: TitleId,
    pub copy_id: Option<CopyId>,
    pub member_id: Option<MemberId>,
    pub hold_id: Option<HoldId>,
    pub due_on: Option<NaiveDate>,
    pub occurred_at: DateTime<Utc>,
}

impl NewEvent {
    pub fn new(kind: EventKind, title_id: TitleId, at: DateTime<Utc>) -> Self {
        NewEvent { id: EventId::new(), kind, title_id, copy_id: None, member_id: None, hold_id: None, due_on: None, occurred_at: at }
    }
    fn copy(mut self, c: CopyId) -> Self {
        self.copy_id = Some(c);
        self
    }
    fn member(mut self, m: MemberId) -> Self {
        self.member_id = Some(m);
        self
    }
    fn hold(mut self, h: HoldId) -> Self {
        self.hold_id = Some(h);
        self
    }
    fn due(mut self, d: NaiveDate) -> Self {
        self.due_on = Some(d);
        self
    }
    fn stream(&self) -> Uuid {
        match (self.kind.is_copy_event(), self.copy_id) {
            (true, Some(c)) => c.0,
            _ => self.title_id.0,
        }
    }
}

/// Appends an event (chained to the last one on its stream) and projects it.
pub(crate) async fn append(w: &mut WriteTx, actor: &Actor, e: NewEvent) -> Result<()> {
    let stream = e.stream();
    let prev: Option<Uuid> = sqlx::query_scalar("SELECT id FROM circulation_events WHERE stream_id = ? ORDER BY seq DESC LIMIT 1")
        .bind(stream)
        .fetch_optional(w.conn())
        .await
        .map_err(db_err)?;
    sqlx::query(
        "INSERT INTO circulation_events (id, stream_id, kind, title_id, copy_id, member_id, hold_id, due_on, prev_event_id, occurred_at, actor_id)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(e.id.0)
    .bind(stream)
    .bind(e.kind.as_str())
    .bind(e.title_id.0)
    .bind(e.copy_id.map(|c| c.0))
    .bind(e.member_id.map(|m| m.0))
    .bind(e.hold_id.map(|h| h.0))
    .bind(e.due_on.map(date))
    .bind(prev)
    .bind(crate::rows::ts(e.occurred_at))
    .bind(actor.account_id.map(|a| a.0))
    .execute(w.conn())
    .await
    .map_err(db_err)?;
    project(w.conn(), &e).await
}

/// Updates the projections for one event. Sync replays a title's events
/// through this same function, in clock order, so every replica derives the
/// same loans, holds and copy statuses from the same events; it must stay a
/// function of the projections and the event alone, and accept events that
/// only concurrent desks produce (a second check-out, a trap of a taken copy).
pub(crate) async fn project(conn: &mut SqliteConnection, e: &NewEvent) -> Result<()> {
    let at = crate::rows::ts(e.occurred_at);
    let copy = e.copy_id.map(|c| c.0);
    let q = |sql: &'static str| sqlx::query(sql);
    match e.kind {
        EventKind::CheckedOut => {
            // Only after concurrent desks (sync): the copy was lent again
            // elsewhere before this desk heard of the open loan. That loan
            // ends here, marked; both events stay and a conflict says so.
            q("UPDATE loans SET returned_at = ?, superseded_by = ? WHERE copy_id = ? AND returned_at IS NULL AND lost_at IS NULL")
                .bind(&at)
                .bind(e.id.0)
                .bind(copy)
                .execute(&mut *conn)
                .await
                .map_err(db_err)?;
            q("INSERT INTO loans (id, copy_id, title_id, member_id, out_at, due_on) VALUES (?, ?, ?, ?, ?, ?)")
                .bind(e.id.0)
                .bind(copy)
                .bind(e.title_id.0)
                .bind(e.member_id.map(|m| m.0))
                .bind(&at)
                .bind(e.due_on.map(date))
                .execute(&mut *conn)
                .await
                .map_err(db_err)?;
            if let Some(h) = e.hold_id {
                q("UPDATE holds SET status = 'fulfilled', closed_at = ? WHERE id = ?")
                    .bind(&at)
                    .bind(h.0)
                    .execute(&mut *conn)
                    .await
                    .map_err(db_err)?;
            }
            set_copy_status(conn, e, CopyStatus::OnLoan).await
        }
        EventKind::Renewed => {
            let renewed =
                q("UPDATE loans SET due_on = ?, renewals = renewals + 1 WHERE copy_id = ? AND returned_at IS NULL AND lost_at IS NULL")
                    .bind(e.due_on.map(date))
                    .bind(copy)
                    .execute(&mut *conn)
                    .await
                    .map_err(db_err)?;
            // No open loan only after concurrent desks (returned elsewhere).
            if renewed.rows_affected() == 0 {
                return Ok(());
            }
            set_copy_status(conn, e, CopyStatus::OnLoan).await
        }
        EventKind::CheckedIn => {
            q("UPDATE loans SET returned_at = ? WHERE copy_id = ? AND returned_at IS NULL AND lost_at IS NULL")
                .bind(&at)
                .bind(copy)
                .execute(&mut *conn)
                .await
                .map_err(db_err)?;
            set_copy_status(conn, e, CopyStatus::Available).await
        }
        EventKind::MarkedLost => {
            q("UPDATE loans SET lost_at = ? WHERE copy_id = ? AND returned_at IS NULL AND lost_at IS NULL")
                .bind(&at)
                .bind(copy)
                .execute(&mut *conn)
                .await
                .map_err(db_err)?;
            // A copy lost from the hold shelf: the hold waits again.
            q("UPDATE holds SET status = 'waiting', copy_id = NULL, expires_on = NULL WHERE copy_id = ? AND status = 'ready'")
                .bind(copy)
                .execute(&mut *conn)
                .await
                .map_err(db_err)?;
            set_copy_status(conn, e, CopyStatus::Lost).await
        }
        EventKind::TrappedForHold => {
            // Only after concurrent desks: the copy waited for another hold,
            // which waits again; a hold closed meanwhile is not reopened.
            q("UPDATE holds SET status = 'waiting', copy_id = NULL, expires_on = NULL WHERE copy_id = ? AND status = 'ready' AND id IS NOT ?")
                .bind(copy)
                .bind(e.hold_id.map(|h| h.0))
                .execute(&mut *conn)
                .await
                .map_err(db_err)?;
            q("UPDATE holds SET status = 'ready', copy_id = ?, expires_on = ? WHERE id = ? AND status IN ('waiting', 'ready')")
                .bind(copy)
                .bind(e.due_on.map(date))
                .bind(e.hold_id.map(|h| h.0))
                .execute(&mut *conn)
                .await
                .map_err(db_err)?;
            set_copy_status(conn, e, CopyStatus::OnHoldShelf).await
        }
        EventKind::ReleasedFromHold => set_copy_status(conn, e, CopyStatus::Available).await,
        EventKind::HoldPlaced => {
            // DO NOTHING only after concurrent desks: the same member joined
            // the same queue at two desks; the first hold in clock order counts.
            q("INSERT INTO holds (id, title_id, member_id, placed_at, status) VALUES (?, ?, ?, ?, 'waiting') ON CONFLICT DO NOTHING")
                .bind(e.hold_id.map(|h| h.0))
                .bind(e.title_id.0)
                .bind(e.member_id.map(|m| m.0))
                .bind(&at)
                .execute(&mut *conn)
                .await
                .map_err(db_err)?;
            Ok(())
        }
        EventKind::HoldCancelled | EventKind::HoldExpired => {
            let status = if e.kind == EventKind::HoldCancelled { "cancelled" } else { "expired" };
            q("UPDATE holds SET status = ?, closed_at = ? WHERE id = ?")
                .bind(status)
                .bind(&at)
                .bind(e.hold_id.map(|h| h.0))
                .execute(&mut *conn)
                .await
                .map_err(db_err)?;
            Ok(())
        }
    }
}

async fn set_copy_status(conn: &mut SqliteConnection, e: &NewEvent, status: CopyStatus) -> Result<()> {
    // A copy with an open loan is on loan, whatever else happened to it (a
    // trap or release at a desk that had not seen the loan: sync only).
    sqlx::query(
        "UPDATE copies SET status = CASE WHEN ?1 <> 'on_loan' AND EXISTS (SELECT 1 FROM loans l WHERE l.copy_id = ?3
                                          AND l.returned_at IS NULL AND l.lost_at IS NULL) THEN status ELSE ?1 END,
                           last_event_id = ?2
         WHERE id = ?3",
    )
    .bind(status.as_str())
    .bind(e.id.0)
    .bind(e.copy_id.map(|c| c.0))
    .execute(conn)
    .await
    .map_err(db_err)?;
    Ok(())
}

/// The copy's circulation state, from the projections.
async fn copy_state(conn: &mut SqliteConnection, copy: &Copy) -> Result<CopyState> {
    // One round trip: the open loan and the ready hold, either may be absent.
    let r = sqlx::query(
        "SELECT l.id AS loan_id, l.member_id AS loan_member, l.due_on, l.renewals,
                h.id AS hold_id, h.member_id AS hold_member, h.expires_on
         FROM (SELECT 1)
         LEFT JOIN loans l ON l.copy_id = ?1 AND l.returned_at IS NULL AND l.lost_at IS NULL
         LEFT JOIN holds h ON h.copy_id = ?1 AND h.status = 'ready'",
    )
    .bind(copy.id.0)
    .fetch_one(&mut *conn)
    .await
    .map_err(db_err)?;
    let loan = match r.opt_uuid("loan_id")? {
        Some(id) => Some(OpenLoan {
            loan_id: EventId(id),
            member_id: MemberId(r.uuid("loan_member")?),
            due_on: r.day("due_on")?,
            renewals: r.int("renewals")? as u32,
        }),
        None => None,
    };
    let trapped = match r.opt_uuid("hold_id")? {
        Some(id) => {
            Some(TrappedHold { hold_id: HoldId(id), member_id: MemberId(r.uuid("hold_member")?), expires_on: r.day("expires_on")? })
        }
        None => None,
    };
    Ok(CopyState { loan, trapped, lost: copy.status == CopyStatus::Lost })
}

/// The member's loan rules and how many loans they have open, in one round trip.
async fn policy_and_open_loans(conn: &mut SqliteConnection, member: &Member) -> Result<(MemberType, u32)> {
    let row = sqlx::query(
        "SELECT mt.*, (SELECT count(*) FROM loans l WHERE l.member_id = ?1 AND l.returned_at IS NULL AND l.lost_at IS NULL) AS open_loans
         FROM member_types mt WHERE mt.code = ?2",
    )
    .bind(member.id.0)
    .bind(&member.member_type)
    .fetch_optional(conn)
    .await
    .map_err(db_err)?
    .ok_or_else(|| Error::MemberTypeNotFound(member.member_type.clone()))?;
    Ok((member_type_from_row(&row)?, row.int("open_loans")? as u32))
}

async fn card_of(conn: &mut SqliteConnection, member: MemberId) -> String {
    sqlx::query_scalar("SELECT card FROM members WHERE id = ?")
        .bind(member.0)
        .fetch_optional(conn)
        .await
        .ok()
        .flatten()
        .unwrap_or_else(|| format!("(deleted member {member})"))
}

/// Traps `copy` for the oldest waiting hold on its title, or puts it back on
/// the shelf. Returns who it waits for.
async fn route_returned_copy(w: &mut WriteTx, actor: &Actor, copy: &Copy, release_event: bool) -> Result<Option<HoldNotice>> {
    let next = sqlx::query("SELECT id, member_id FROM holds WHERE title_id = ? AND status = 'waiting' ORDER BY seq LIMIT 1")
        .bind(copy.title_id.0)
        .fetch_optional(w.conn())
        .await
        .map_err(db_err)?;
    let at = w.now;
    match next {
        Some(r) => {
            let hold_id = HoldId(r.uuid("id")?);
            let member = member_by_id(w.conn(), MemberId(r.uuid("member_id")?)).await?;
            let policy = member_type_by_code(w.conn(), &member.member_type).await?;
            let expires_on = rules::hold_expires_on(w.today(), &policy);
            let e =
                NewEvent::new(EventKind::TrappedForHold, copy.title_id, at).copy(copy.id).member(member.id).hold(hold_id).due(expires_on);
            append(w, actor, e).await?;
            Ok(Some(HoldNotice { hold_id, card: member.card, member_name: member.name, expires_on }))
        }
        None => {
            if release_event {
                append(w, actor, NewEvent::new(EventKind::ReleasedFromHold, copy.title_id, at).copy(copy.id)).await?;
            }
            Ok(None)
        }
    }
}

/// A copy now waits on the hold shelf for this member.
#[derive(Clone, Debug, PartialEq, Serialize, ts_rs::TS)]
pub struct HoldNotice {
    pub hold_id: HoldId,
    pub card: String,
    pub member_name: String,
    pub expires_on: NaiveDate,
}

#[derive(Clone, Debug, PartialEq, Serialize, ts_rs::TS)]
pub struct CheckoutReceipt {
    pub loan: Loan,
    pub fulfilled_hold: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, ts_rs::TS)]
pub struct CheckinReceipt {
    pub barcode: String,
    pub title: String,
    /// The loan that ended (none if the copy was lost and is now found).
    pub loan: Option<Loan>,
    pub days_overdue: i64,
    pub found: bool,
    /// Put the copy on the hold shelf for this member.
    pub hold: Option<HoldNotice>,
}

#[derive(Clone, Debug, PartialEq, Serialize, ts_rs::TS)]
pub struct RenewReceipt {
    pub loan: Loan,
    pub previous_due_on: NaiveDate,
}

pub(crate) const LOAN_SELECT: &str = "SELECT l.id, l.copy_id, c.barcode, l.title_id, t.title, l.member_id, m.card, m.name AS member_name,
        l.out_at, l.due_on, l.renewals, l.returned_at, l.lost_at
     FROM loans l
     LEFT JOIN copies c ON c.id = l.copy_id
     LEFT JOIN titles t ON t.id = l.title_id
     LEFT JOIN members m ON m.id = l.member_id";

pub(crate) fn loan_from_row(r: &SqliteRow) -> Result<Loan> {
    Ok(Loan {
        id: EventId(r.uuid("id")?),
        copy_id: CopyId(r.uuid("copy_id")?),
        barcode: r.opt_text("barcode")?.unwrap_or_else(|| "(withdrawn)".into()),
        title_id: TitleId(r.uuid("title_id")?),
        title: r.opt_text("title")?.unwrap_or_else(|| "(deleted title)".into()),
        member_id: MemberId(r.uuid("member_id")?),
        card: r.opt_text("card")?.unwrap_or_default(),
        member_name: r.opt_text("member_name")?.unwrap_or_else(|| "(deleted member)".into()),
        out_at: r.instant("out_at")?,
        due_on: r.day("due_on")?,
        renewals: r.int("renewals")? as u32,
        returned_at: r.opt_instant("returned_at")?,
        lost_at: r.opt_instant("lost_at")?,
    })
}

async fn loan_by_id(conn: &mut SqliteConnection, id: EventId) -> Result<Loan> {
    let sql = format!("{LOAN_SELECT} WHERE l.id = ?");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id.0).fetch_one(conn).await.map_err(db_err)?;
    loan_from_row(&row)
}

const HOLD_SELECT: &str = "SELECT h.id, h.title_id, t.title, h.member_id, m.card, m.name AS member_name, h.placed_at, h.status,
        c.barcode AS copy_barcode, h.expires_on,
        CASE WHEN h.status = 'waiting' THEN
            (SELECT count(*) FROM holds q WHERE q.title_id = h.title_id AND q.status = 'waiting' AND q.seq <= h.seq)
        END AS position
     FROM holds h
     LEFT JOIN titles t ON t.id = h.title_id
     LEFT JOIN members m ON m.id = h.member_id
     LEFT JOIN copies c ON c.id = h.copy_id";

fn hold_from_row(r: &SqliteRow) -> Result<Hold> {
    let status = r.text("status")?;
    Ok(Hold {
        id: HoldId(r.uuid("id")?),
        title_id: TitleId(r.uuid("title_id")?),
        title: r.opt_text("title")?.unwrap_or_else(|| "(deleted title)".into()),
        member_id: MemberId(r.uuid("member_id")?),
        card: r.opt_text("card")?.unwrap_or_default(),
        member_name: r.opt_text("member_name")?.unwrap_or_else(|| "(deleted member)".into()),
        placed_at: parse_ts(&r.text("placed_at")?)?,
        status: HoldStatus::parse(&status).ok_or_else(|| Error::Storage(format!("bad hold status '{status}'")))?,
        copy_barcode: r.opt_text("copy_barcode")?,
        expires_on: r.opt_day("expires_on")?,
        position: r.opt_int("position")?.map(|p| p as u32),
    })
}

async fn hold_by_id(conn: &mut SqliteConnection, id: HoldId) -> Result<Hold> {
    let sql = format!("{HOLD_SELECT} WHERE h.id = ?");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id.0).fetch_optional(conn).await.map_err(db_err)?;
    row.as_ref().map(hold_from_row).transpose()?.ok_or_else(|| Error::HoldNotFound(id.to_string()))
}

/// Cancels a hold inside a transaction; a copy waiting for it goes to the
/// next in line or back to the shelf.
async fn cancel_hold_in(w: &mut WriteTx, actor: &Actor, hold: &Hold, kind: EventKind) -> Result<Option<HoldNotice>> {
    let at = w.now;
    append(w, actor, NewEvent::new(kind, hold.title_id, at).member(hold.member_id).hold(hold.id)).await?;
    if let (HoldStatus::Ready, Some(barcode)) = (hold.status, &hold.copy_barcode) {
        let copy = copy_by_barcode(w.conn(), barcode).await?;
        return route_returned_copy(w, actor, &copy, true).await;
    }
    Ok(None)
}

pub(crate) async fn cancel_holds_of_member(w: &mut WriteTx, member: MemberId) -> Result<()> {
    let sql = format!("{HOLD_SELECT} WHERE h.member_id = ? AND h.status IN ('waiting', 'ready')");
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(member.0).fetch_all(w.conn()).await.map_err(db_err)?;
    for r in &rows {
        let hold = hold_from_row(r)?;
        cancel_hold_in(w, &Actor::OWNER, &hold, EventKind::HoldCancelled).await?;
    }
    Ok(())
}

impl Store {
    /// Lends the copy with `barcode` to the member with `card`.
    pub async fn check_out(&self, actor: &Actor, card: &str, barcode: &str) -> Result<CheckoutReceipt> {
        actor.require(Action::Circulate)?;
        let mut w = self.write_tx().await?;
        let member = member_by_card(w.conn(), card).await?;
        let copy = copy_by_barcode(w.conn(), barcode).await?;
        let decision = self.decide_checkout(&mut w, &member, &copy).await?;
        let e = NewEvent::new(EventKind::CheckedOut, copy.title_id, w.now).copy(copy.id).member(member.id).due(decision.due_on);
        let e = match decision.fulfils_hold {
            Some(h) => e.hold(h),
            None => e,
        };
        let loan_id = e.id;
        append(&mut w, actor, e).await?;
        let loan = loan_by_id(w.conn(), loan_id).await?;
        w.commit().await?;
        Ok(CheckoutReceipt { loan, fulfilled_hold: decision.fulfils_hold.is_some() })
    }

    async fn decide_checkout(&self, w: &mut WriteTx, member: &Member, copy: &Copy) -> Result<rules::CheckoutDecision> {
        let state = copy_state(w.conn(), copy).await?;
        let (policy, open_loans) = policy_and_open_loans(w.conn(), member).await?;
        let other = state.loan.as_ref().map(|l| l.member_id).or(state.trapped.as_ref().map(|t| t.member_id));
        let other_card = match other {
            Some(m) => card_of(w.conn(), m).await,
            None => String::new(),
        };
        let borrower = Borrower { member, policy: &policy, open_loans };
        rules::check_out(&copy.barcode, &state, &borrower, w.today(), |_| other_card.clone())
    }

    /// Returns a copy. If someone is waiting for the title, the copy is
    /// trapped for them and the receipt says whose hold shelf it goes to.
    pub async fn check_in(&self, actor: &Actor, barcode: &str) -> Result<CheckinReceipt> {
        actor.require(Action::Circulate)?;
        let mut w = self.write_tx().await?;
        let copy = copy_by_barcode(w.conn(), barcode).await?;
        let state = copy_state(w.conn(), &copy).await?;
        let decision = rules::check_in(&copy.barcode, &state, w.today())?;
        let e = NewEvent::new(EventKind::CheckedIn, copy.title_id, w.now).copy(copy.id);
        let e = match &decision.closes_loan {
            Some(l) => e.member(l.member_id),
            None => e,
        };
        append(&mut w, actor, e).await?;
        let hold = route_returned_copy(&mut w, actor, &copy, false).await?;
        let loan = match &decision.closes_loan {
            Some(l) => Some(loan_by_id(w.conn(), l.loan_id).await?),
            None => None,
        };
        let title = title_by_id(w.conn(), copy.title_id).await?.title;
        w.commit().await?;
        Ok(CheckinReceipt { barcode: copy.barcode, title, loan, days_overdue: decision.days_overdue, found: decision.found, hold })
    }

    /// Renews the open loan of the copy with `barcode`.
    pub async fn renew(&self, actor: &Actor, barcode: &str) -> Result<RenewReceipt> {
        let mut w = self.write_tx().await?;
        let copy = copy_by_barcode(w.conn(), barcode).await?;
        let state = copy_state(w.conn(), &copy).await?;
        let loan = state.loan.clone().ok_or_else(|| Error::CopyNotOnLoan(copy.barcode.clone()))?;
        // Staff renew anything; a member renews their own loans.
        actor.require(Action::ActAsMember(loan.member_id))?;
        let member = member_by_id(w.conn(), loan.member_id).await?;
        let (policy, open_loans) = policy_and_open_loans(w.conn(), &member).await?;
        let others_waiting: i64 =
            sqlx::query_scalar("SELECT count(*) FROM holds WHERE title_id = ? AND status = 'waiting' AND member_id <> ?")
                .bind(copy.title_id.0)
                .bind(member.id.0)
                .fetch_one(w.conn())
                .await
                .map_err(db_err)?;
        let borrower = Borrower { member: &member, policy: &policy, open_loans };
        let due = rules::renew(&copy.barcode, &state, &borrower, others_waiting as u32, w.today())?;
        let at = w.now;
        append(&mut w, actor, NewEvent::new(EventKind::Renewed, copy.title_id, at).copy(copy.id).member(member.id).due(due)).await?;
        let renewed = loan_by_id(w.conn(), loan.loan_id).await?;
        w.commit().await?;
        Ok(RenewReceipt { loan: renewed, previous_due_on: loan.due_on })
    }

    /// Declares a copy lost (closing its loan, if any).
    pub async fn mark_lost(&self, actor: &Actor, barcode: &str) -> Result<()> {
        actor.require(Action::Circulate)?;
        let mut w = self.write_tx().await?;
        let copy = copy_by_barcode(w.conn(), barcode).await?;
        if copy.status == CopyStatus::Lost {
            return Err(Error::CopyLost(copy.barcode));
        }
        let state = copy_state(w.conn(), &copy).await?;
        let e = NewEvent::new(EventKind::MarkedLost, copy.title_id, w.now).copy(copy.id);
        let e = match state.loan {
            Some(l) => e.member(l.member_id),
            None => e,
        };
        append(&mut w, actor, e).await?;
        w.commit().await
    }

    /// Puts the member with `card` in the queue for a title.
    pub async fn place_hold(&self, actor: &Actor, card: &str, title_id: TitleId) -> Result<Hold> {
        let mut w = self.write_tx().await?;
        let member = member_by_card(w.conn(), card).await?;
        actor.require(Action::ActAsMember(member.id))?;
        rules::member_in_good_standing(&member, w.today())?;
        let title = title_by_id(w.conn(), title_id).await?;
        if title.copy_count == 0 {
            return Err(Error::HoldOnTitleWithoutCopies(title.title));
        }
        let active: i64 =
            sqlx::query_scalar("SELECT count(*) FROM holds WHERE title_id = ? AND member_id = ? AND status IN ('waiting', 'ready')")
                .bind(title_id.0)
                .bind(member.id.0)
                .fetch_one(w.conn())
                .await
                .map_err(db_err)?;
        if active > 0 {
            return Err(Error::HoldAlreadyPlaced { card: member.card, title: title.title });
        }
        let borrowed: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM loans WHERE title_id = ? AND member_id = ? AND returned_at IS NULL AND lost_at IS NULL",
        )
        .bind(title_id.0)
        .bind(member.id.0)
        .fetch_one(w.conn())
        .await
        .map_err(db_err)?;
        if borrowed > 0 {
            return Err(Error::HoldOnTitleAlreadyBorrowed { card: member.card, title: title.title });
        }
        let hold_id = HoldId::new();
        let at = w.now;
        append(&mut w, actor, NewEvent::new(EventKind::HoldPlaced, title_id, at).member(member.id).hold(hold_id)).await?;
        let hold = hold_by_id(w.conn(), hold_id).await?;
        w.commit().await?;
        Ok(hold)
    }

    /// Cancels a waiting or ready hold. Returns who the freed copy (if the
    /// hold was ready) now waits for.
    pub async fn cancel_hold(&self, actor: &Actor, hold_id: HoldId) -> Result<Option<HoldNotice>> {
        let mut w = self.write_tx().await?;
        let hold = hold_by_id(w.conn(), hold_id).await?;
        actor.require(Action::ActAsMember(hold.member_id))?;
        if !hold.status.is_active() {
            return Err(Error::HoldNotActive(hold_id.to_string()));
        }
        let next = cancel_hold_in(&mut w, actor, &hold, EventKind::HoldCancelled).await?;
        w.commit().await?;
        Ok(next)
    }

    /// Expires ready holds whose last pickup day is before `today` (run when
    /// the desk opens, and daily); each copy goes to the next in line or
    /// back to the shelf. Returns how many expired.
    pub async fn expire_holds(&self, actor: &Actor, today: NaiveDate) -> Result<u32> {
        actor.require(Action::Circulate)?;
        let mut w = self.write_tx().await?;
        let sql = format!("{HOLD_SELECT} WHERE h.status = 'ready' AND h.expires_on < ?");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(date(today)).fetch_all(w.conn()).await.map_err(db_err)?;
        let holds = rows.iter().map(hold_from_row).collect::<Result<Vec<_>>>()?;
        for hold in &holds {
            cancel_hold_in(&mut w, actor, hold, EventKind::HoldExpired).await?;
        }
        w.commit().await?;
        Ok(holds.len() as u32)
    }

    pub async fn hold(&self, id: HoldId) -> Result<Hold> {
        let mut conn = self.read.acquire().await.map_err(db_err)?;
        hold_by_id(&mut conn, id).await
    }

    /// The queue for a title: active holds in order, then closed ones.
    pub async fn holds_of_title(&self, title_id: TitleId) -> Result<Vec<Hold>> {
        let sql = format!("{HOLD_SELECT} WHERE h.title_id = ? ORDER BY h.status NOT IN ('waiting', 'ready'), h.seq");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(title_id.0).fetch_all(&self.read).await.map_err(db_err)?;
        rows.iter().map(hold_from_row).collect()
    }

    pub async fn holds_of_member(&self, member: MemberId) -> Result<Vec<Hold>> {
        let sql = format!("{HOLD_SELECT} WHERE h.member_id = ? ORDER BY h.seq DESC");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(member.0).fetch_all(&self.read).await.map_err(db_err)?;
        rows.iter().map(hold_from_row).collect()
    }

    /// Active holds across the library: the hold shelf (ready) first, then
    /// the waiting queue, oldest first.
    pub async fn active_holds(&self, limit: u32) -> Result<Vec<Hold>> {
        let sql = format!("{HOLD_SELECT} WHERE h.status IN ('ready', 'waiting') ORDER BY h.status = 'waiting', h.seq LIMIT ?");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(i64::from(limit)).fetch_all(&self.read).await.map_err(db_err)?;
        rows.iter().map(hold_from_row).collect()
    }

    /// A member's loans, newest first; open ones only unless `history`.
    pub async fn loans_of_member(&self, member: MemberId, history: bool) -> Result<Vec<Loan>> {
        let filter = if history { "" } else { " AND l.returned_at IS NULL AND l.lost_at IS NULL" };
        let sql = format!("{LOAN_SELECT} WHERE l.member_id = ?{filter} ORDER BY l.out_at DESC, l.seq DESC");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(member.0).fetch_all(&self.read).await.map_err(db_err)?;
        rows.iter().map(loan_from_row).collect()
    }

    /// Every loan of a copy, newest first.
    pub async fn loans_of_copy(&self, copy: CopyId) -> Result<Vec<Loan>> {
        let sql = format!("{LOAN_SELECT} WHERE l.copy_id = ? ORDER BY l.out_at DESC, l.seq DESC");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(copy.0).fetch_all(&self.read).await.map_err(db_err)?;
        rows.iter().map(loan_from_row).collect()
    }

    /// Every loan of any copy of a title, newest first.
    pub async fn loans_of_title(&self, title: TitleId, limit: u32) -> Result<Vec<Loan>> {
        let sql = format!("{LOAN_SELECT} WHERE l.title_id = ? ORDER BY l.out_at DESC, l.seq DESC LIMIT ?");
        let rows =
            sqlx::query(sqlx::AssertSqlSafe(sql)).bind(title.0).bind(i64::from(limit)).fetch_all(&self.read).await.map_err(db_err)?;
        rows.iter().map(loan_from_row).collect()
    }

    /// Open loans by due date (most overdue first); only overdue ones on
    /// `today` when `overdue_only`.
    pub async fn open_loans(&self, overdue_only: bool, today: NaiveDate, limit: u32) -> Result<Vec<Loan>> {
        let filter = if overdue_only { " AND l.due_on < ?1" } else { " AND ?1 IS NOT NULL" };
        let sql = format!("{LOAN_SELECT} WHERE l.returned_at IS NULL AND l.lost_at IS NULL{filter} ORDER BY l.due_on, l.seq LIMIT ?2");
        let rows =
            sqlx::query(sqlx::AssertSqlSafe(sql)).bind(date(today)).bind(i64::from(limit)).fetch_all(&self.read).await.map_err(db_err)?;
        rows.iter().map(loan_from_row).collect()
    }

    /// The raw event log of a copy, in order (for history views and audits).
    pub async fn copy_events(&self, copy: CopyId) -> Result<Vec<CirculationEvent>> {
        let rows = sqlx::query("SELECT * FROM circulation_events WHERE stream_id = ? ORDER BY seq")
            .bind(copy.0)
            .fetch_all(&self.read)
            .await
            .map_err(db_err)?;
        rows.iter().map(event_from_row).collect()
    }
}

/// A stored circulation event.
#[derive(Clone, Debug, PartialEq, Serialize, ts_rs::TS)]
pub struct CirculationEvent {
    pub id: EventId,
    pub kind: EventKind,
    pub title_id: TitleId,
    pub copy_id: Option<CopyId>,
    pub member_id: Option<MemberId>,
    pub hold_id: Option<HoldId>,
    pub due_on: Option<NaiveDate>,
    pub prev_event_id: Option<EventId>,
    pub occurred_at: DateTime<Utc>,
    pub hlc: i64,
}

pub(crate) fn event_from_row(r: &SqliteRow) -> Result<CirculationEvent> {
    let kind = r.text("kind")?;
    Ok(CirculationEvent {
        id: EventId(r.uuid("id")?),
        kind: EventKind::parse(&kind).ok_or_else(|| Error::Storage(format!("bad event kind '{kind}'")))?,
        title_id: TitleId(r.uuid("title_id")?),
        copy_id: r.opt_uuid("copy_id")?.map(CopyId),
        member_id: r.opt_uuid("member_id")?.map(MemberId),
        hold_id: r.opt_uuid("hold_id")?.map(HoldId),
        due_on: r.opt_day("due_on")?,
        prev_event_id: r.opt_uuid("prev_event_id")?.map(EventId),
        occurred_at: r.instant("occurred_at")?,
        hlc: r.int("hlc")?,
    })
}

impl CirculationEvent {
    pub fn as_copy_event(&self) -> rules::CopyEvent {
        rules::CopyEvent { id: self.id, kind: self.kind, member_id: self.member_id, hold_id: self.hold_id, due_on: self.due_on }
    }
}
