//! Holds: the queue for a title, the hold shelf, and reading holds back.

use super::events::{NewEvent, append};
use crate::catalogue::{copy_by_barcode, title_by_id};
use crate::members::{member_by_card, member_by_id, member_type_by_code};
use crate::rows::{RowExt, date, parse_ts};
use crate::{Store, WriteTx, db_err};
use chrono::NaiveDate;
use serde::Serialize;
use shelfkeeper_domain::access::{Action, Actor};
use shelfkeeper_domain::circulation as rules;
use shelfkeeper_domain::circulation::EventKind;
use shelfkeeper_domain::ids::{HoldId, MemberId, TitleId};
use shelfkeeper_domain::model::{Copy, Hold, HoldStatus};
use shelfkeeper_domain::{Error, Result};
use sqlx::SqliteConnection;
use sqlx::sqlite::SqliteRow;

/// Traps `copy` for the oldest waiting hold on its title, or puts it back on
/// the shelf. Returns who it waits for.
pub(super) async fn route_returned_copy(w: &mut WriteTx, actor: &Actor, copy: &Copy, release_event: bool) -> Result<Option<HoldNotice>> {
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
}
