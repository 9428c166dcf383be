//! Loans: check-out, check-in, renewal and loss, and reading loans back.

use super::events::append;
use super::holds::{HoldNotice, route_freed_copy};
use crate::catalogue::{copy_by_barcode, title_by_id};
use crate::members::{member_by_card, member_by_id, member_type_from_row};
use crate::rows::{RowExt, date};
use crate::{Store, WriteTx, db_err};
use chrono::NaiveDate;
use serde::Serialize;
use shelfkeeper_domain::access::{Action, Actor};
use shelfkeeper_domain::circulation::{self as rules, Borrower, CopyState, OpenLoan, TrappedHold};
use shelfkeeper_domain::ids::{CopyId, EventId, HoldId, MemberId, TitleId};
use shelfkeeper_domain::model::{Copy, CopyStatus, Loan, Member, MemberType};
use shelfkeeper_domain::{Error, Result};
use sqlx::SqliteConnection;
use sqlx::sqlite::SqliteRow;

/// The copy's circulation state, from the projections.
pub(super) async fn copy_state(conn: &mut SqliteConnection, copy: &Copy) -> Result<CopyState> {
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

pub(super) fn copy_ref(copy: &Copy) -> rules::CopyRef {
    rules::CopyRef { id: copy.id, title_id: copy.title_id }
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

impl Store {
    /// Lends the copy with `barcode` to the member with `card`. A copy left
    /// on the hold shelf past its pickup day is first let go (the hold
    /// expires, the copy goes to the next in line), as the server does:
    /// that stands even when the check-out is then refused.
    pub async fn check_out(&self, actor: &Actor, card: &str, barcode: &str) -> Result<CheckoutReceipt> {
        actor.require(Action::Circulate)?;
        self.expire_uncollected_trap(actor, barcode).await?;
        let mut w = self.write_tx().await?;
        let member = member_by_card(w.conn(), card).await?;
        let copy = copy_by_barcode(w.conn(), barcode).await?;
        let decision = self.decide_checkout(&mut w, &member, &copy).await?;
        let e = rules::checked_out(copy_ref(&copy), member.id, &decision, w.now);
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
        let own_hold: Option<uuid::Uuid> =
            sqlx::query_scalar("SELECT id FROM holds WHERE title_id = ? AND member_id = ? AND status = 'waiting'")
                .bind(copy.title_id.0)
                .bind(member.id.0)
                .fetch_optional(w.conn())
                .await
                .map_err(db_err)?;
        let borrower = Borrower { member, policy: &policy, open_loans };
        rules::check_out(&copy.barcode, &state, &borrower, own_hold.map(HoldId), w.today(), |_| other_card.clone())
    }

    /// Returns a copy. If someone is waiting for the title, the copy is
    /// trapped for them and the receipt says whose hold shelf it goes to.
    pub async fn check_in(&self, actor: &Actor, barcode: &str) -> Result<CheckinReceipt> {
        actor.require(Action::Circulate)?;
        let mut w = self.write_tx().await?;
        let copy = copy_by_barcode(w.conn(), barcode).await?;
        let state = copy_state(w.conn(), &copy).await?;
        let decision = rules::check_in(&copy.barcode, &state, w.today())?;
        let e = rules::checked_in(copy_ref(&copy), &decision, w.now);
        append(&mut w, actor, e).await?;
        let hold = route_freed_copy(&mut w, actor, &copy, false).await?;
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
        let e = rules::renewed(copy_ref(&copy), member.id, due, w.now);
        append(&mut w, actor, e).await?;
        let renewed = loan_by_id(w.conn(), loan.loan_id).await?;
        w.commit().await?;
        Ok(RenewReceipt { loan: renewed, previous_due_on: loan.due_on })
    }

    /// Declares a copy lost (closing its loan, if any).
    pub async fn mark_lost(&self, actor: &Actor, barcode: &str) -> Result<()> {
        actor.require(Action::Circulate)?;
        let mut w = self.write_tx().await?;
        let copy = copy_by_barcode(w.conn(), barcode).await?;
        let state = copy_state(w.conn(), &copy).await?;
        let e = rules::mark_lost(&copy.barcode, copy_ref(&copy), &state, w.now)?;
        append(&mut w, actor, e).await?;
        w.commit().await
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
}
