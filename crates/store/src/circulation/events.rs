//! The circulation event log: appending events and projecting them into
//! loans, holds and copy statuses, and reading a copy's events back.

use crate::rows::{RowExt, date};
use crate::{Store, WriteTx, db_err};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use shelfkeeper_domain::access::Actor;
use shelfkeeper_domain::circulation::{self as rules, EventKind};
use shelfkeeper_domain::ids::{CopyId, EventId, HoldId, MemberId, TitleId};
use shelfkeeper_domain::model::CopyStatus;
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
    pub(super) fn copy(mut self, c: CopyId) -> Self {
        self.copy_id = Some(c);
        self
    }
    pub(super) fn member(mut self, m: MemberId) -> Self {
        self.member_id = Some(m);
        self
    }
    pub(super) fn hold(mut self, h: HoldId) -> Self {
        self.hold_id = Some(h);
        self
    }
    pub(super) fn due(mut self, d: NaiveDate) -> Self {
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

impl Store {
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
