//! Holds: the queue for a title, the hold shelf, and reading holds back.

use super::events::append;
use super::loans::copy_state;
use crate::catalogue::{copy_by_barcode, title_by_id};
use crate::members::{member_by_card, member_by_id, member_type_by_code};
use crate::rows::{RowExt, parse_ts};
use crate::{Store, WriteTx, db_err};
use chrono::NaiveDate;
use serde::Serialize;
use shelfkeeper_domain::access::{Action, Actor};
use shelfkeeper_domain::circulation::holds::{self, HoldEnd, HoldRequest, NextInLine, QueuedHold};
use shelfkeeper_domain::ids::{HoldId, MemberId, TitleId};
use shelfkeeper_domain::model::{Copy, Hold, HoldStatus};
use shelfkeeper_domain::{Error, Result};
use sqlx::SqliteConnection;
use sqlx::sqlite::SqliteRow;

/// Sends a copy freed of a loan or a hold to the oldest waiting hold on
/// its title, or back on the shelf (the domain's `route_freed_copy`).
/// Returns who it waits for.
pub(super) async fn route_freed_copy(w: &mut WriteTx, actor: &Actor, copy: &Copy, was_on_hold_shelf: bool) -> Result<Option<HoldNotice>> {
    let next = sqlx::query("SELECT id, member_id FROM holds WHERE title_id = ? AND status = 'waiting' ORDER BY seq LIMIT 1")
        .bind(copy.title_id.0)
        .fetch_optional(w.conn())
        .await
        .map_err(db_err)?;
    let next = match next {
        Some(r) => {
            let member = member_by_id(w.conn(), MemberId(r.uuid("member_id")?)).await?;
            let policy = member_type_by_code(w.conn(), &member.member_type).await?;
            Some((HoldId(r.uuid("id")?), member, policy))
        }
        None => None,
    };
    let line = next.as_ref().map(|(hold_id, member, policy)| NextInLine { hold_id: *hold_id, member, policy });
    let Some(e) = holds::route_freed_copy(copy.title_id, copy.id, line.as_ref(), was_on_hold_shelf, w.today(), w.now) else {
        return Ok(None);
    };
    let notice = match (&next, e.due_on) {
        (Some((hold_id, member, _)), Some(expires_on)) => {
            Some(HoldNotice { hold_id: *hold_id, card: member.card.clone(), member_name: member.name.clone(), expires_on })
        }
        _ => None,
    };
    append(w, actor, e).await?;
    Ok(notice)
}

/// A copy now waits on the hold shelf for this member.
#[derive(Clone, Debug, PartialEq, Serialize, ts_rs::TS)]
pub struct HoldNotice {
    pub hold_id: HoldId,
    pub card: String,
    pub member_name: String,
    pub expires_on: NaiveDate,
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

/// Closes an active hold inside a transaction (the domain's `close_hold`);
/// a copy waiting for it goes to the next in line or back to the shelf.
async fn close_hold_in(w: &mut WriteTx, actor: &Actor, hold: &Hold, end: HoldEnd) -> Result<Option<HoldNotice>> {
    let copy = match (&hold.copy_barcode, hold.status) {
        (Some(barcode), HoldStatus::Ready) => Some(copy_by_barcode(w.conn(), barcode).await?),
        _ => None,
    };
    let queued =
        QueuedHold { id: hold.id, title_id: hold.title_id, member: hold.member_id, status: hold.status, copy: copy.as_ref().map(|c| c.id) };
    let (e, freed) = holds::close_hold(&queued, end, w.now)?;
    append(w, actor, e).await?;
    match (freed, copy) {
        (Some(_), Some(copy)) => route_freed_copy(w, actor, &copy, true).await,
        _ => Ok(None),
    }
}

pub(crate) async fn cancel_holds_of_member(w: &mut WriteTx, member: MemberId) -> Result<()> {
    let sql = format!("{HOLD_SELECT} WHERE h.member_id = ? AND h.status IN ('waiting', 'ready')");
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(member.0).fetch_all(w.conn()).await.map_err(db_err)?;
    for r in &rows {
        let hold = hold_from_row(r)?;
        close_hold_in(w, &Actor::OWNER, &hold, HoldEnd::Cancelled).await?;
    }
    Ok(())
}

impl Store {
    /// Puts the member with `card` in the queue for a title.
    pub async fn place_hold(&self, actor: &Actor, card: &str, title_id: TitleId) -> Result<Hold> {
        let mut w = self.write_tx().await?;
        let member = member_by_card(w.conn(), card).await?;
        actor.require(Action::ActAsMember(member.id))?;
        let title = title_by_id(w.conn(), title_id).await?;
        let facts = sqlx::query(
            "SELECT EXISTS (SELECT 1 FROM holds WHERE title_id = ?1 AND member_id = ?2 AND status IN ('waiting', 'ready')) AS active,
                    EXISTS (SELECT 1 FROM loans WHERE title_id = ?1 AND member_id = ?2 AND returned_at IS NULL AND lost_at IS NULL) AS borrowed",
        )
        .bind(title_id.0)
        .bind(member.id.0)
        .fetch_one(w.conn())
        .await
        .map_err(db_err)?;
        let request = HoldRequest {
            member: &member,
            title_id,
            title: &title.title,
            copies: u32::try_from(title.copy_count).unwrap_or(u32::MAX),
            has_active_hold: facts.int("active")? != 0,
            has_title_on_loan: facts.int("borrowed")? != 0,
        };
        let e = holds::place_hold(&request, w.today(), w.now)?;
        let hold_id = e.hold_id.ok_or_else(|| Error::Storage("hold_placed without a hold".into()))?;
        append(&mut w, actor, e).await?;
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
        let next = close_hold_in(&mut w, actor, &hold, HoldEnd::Cancelled).await?;
        w.commit().await?;
        Ok(next)
    }

    /// Expires ready holds whose last pickup day is before `today` (run when
    /// the desk opens, and daily); each copy goes to the next in line or
    /// back to the shelf. Returns how many expired.
    pub async fn expire_holds(&self, actor: &Actor, today: NaiveDate) -> Result<u32> {
        actor.require(Action::Circulate)?;
        let mut w = self.write_tx().await?;
        let sql = format!("{HOLD_SELECT} WHERE h.status = 'ready' ORDER BY h.seq");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_all(w.conn()).await.map_err(db_err)?;
        let mut expired = 0;
        for r in &rows {
            let hold = hold_from_row(r)?;
            if hold.expires_on.is_some_and(|d| holds::is_uncollected(d, today)) {
                close_hold_in(&mut w, actor, &hold, HoldEnd::Expired).await?;
                expired += 1;
            }
        }
        w.commit().await?;
        Ok(expired)
    }

    /// The daily sweep of the hold shelf, for a desk that is its library's
    /// only one (never synced): expires what [`Store::expire_holds`] would.
    /// A library that syncs leaves it to its server's hourly sweep: two
    /// sweepers would each write an expiry of the same hold. Returns how
    /// many expired.
    pub async fn sweep_hold_shelf(&self, actor: &Actor, today: NaiveDate) -> Result<u32> {
        if self.sync_setting(crate::SyncSetting::CursorLibrary).await?.is_some() {
            return Ok(0);
        }
        self.expire_holds(actor, today).await
    }

    /// The copy with `barcode`, if it sits on the hold shelf past its
    /// pickup day: the hold expires and the copy goes to the next in line
    /// (whose pickup days start today) or back on the shelf. Committed on
    /// its own, so it stands whatever the caller does next.
    pub(crate) async fn expire_uncollected_trap(&self, actor: &Actor, barcode: &str) -> Result<()> {
        let mut w = self.write_tx().await?;
        let Ok(copy) = copy_by_barcode(w.conn(), barcode).await else { return Ok(()) };
        let state = copy_state(w.conn(), &copy).await?;
        let Some(trap) = state.trapped.filter(|t| holds::is_uncollected(t.expires_on, w.today())) else { return Ok(()) };
        let hold = hold_by_id(w.conn(), trap.hold_id).await?;
        close_hold_in(&mut w, actor, &hold, HoldEnd::Expired).await?;
        w.commit().await
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
}
