//! The circulation event log: appending events and projecting them into
//! loans, holds and copy statuses, and reading a copy's events back.

use crate::rows::{RowExt, date};
use crate::{Store, WriteTx, db_err};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use shelfkeeper_domain::access::Actor;
use shelfkeeper_domain::circulation::projection::{self, LoanEnd, Slice, Write};
use shelfkeeper_domain::circulation::{self as rules, EventKind};
use shelfkeeper_domain::ids::{CopyId, EventId, HoldId, MemberId, TitleId};
use shelfkeeper_domain::model::HoldStatus;
use shelfkeeper_domain::{Error, Result};
use sqlx::SqliteConnection;
use sqlx::sqlite::SqliteRow;
use uuid::Uuid;

/// An event about to be appended: the domain's.
pub(crate) type NewEvent = rules::Event;

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

/// Updates the projections for one event: loads the rows it touches, asks
/// the domain's projection what to write (`rules::projection`, the same
/// function the server runs), and writes that. Sync replays a title's
/// events through here in clock order, so every replica derives the same
/// loans, holds and copy statuses from the same events.
pub(crate) async fn project(conn: &mut SqliteConnection, e: &NewEvent) -> Result<()> {
    let slice = load_slice(conn, e).await?;
    for write in projection::project(&slice, e) {
        apply(conn, &write).await?;
    }
    Ok(())
}

/// The rows `e` may touch, in one round trip.
async fn load_slice(conn: &mut SqliteConnection, e: &NewEvent) -> Result<Slice> {
    let r = sqlx::query(
        "SELECT (SELECT id FROM loans WHERE copy_id = ?1 AND returned_at IS NULL AND lost_at IS NULL) AS open_loan,
                (SELECT id FROM holds WHERE copy_id = ?1 AND status = 'ready') AS ready_hold,
                (SELECT status FROM holds WHERE id = ?2) AS named_hold",
    )
    .bind(e.copy_id.map(|c| c.0))
    .bind(e.hold_id.map(|h| h.0))
    .fetch_one(&mut *conn)
    .await
    .map_err(db_err)?;
    let named = r.opt_text("named_hold")?;
    Ok(Slice {
        open_loan: r.opt_uuid("open_loan")?.map(EventId),
        ready_hold: r.opt_uuid("ready_hold")?.map(HoldId),
        named_hold: named.map(|s| HoldStatus::parse(&s).ok_or_else(|| Error::Storage(format!("bad hold status '{s}'")))).transpose()?,
    })
}

/// One projection write, as one statement.
async fn apply(conn: &mut SqliteConnection, write: &Write) -> Result<()> {
    let ts = crate::rows::ts;
    let q = match write {
        Write::CloseLoan { loan, end, at } => match end {
            LoanEnd::Returned => sqlx::query("UPDATE loans SET returned_at = ? WHERE id = ?").bind(ts(*at)).bind(loan.0),
            LoanEnd::Lost => sqlx::query("UPDATE loans SET lost_at = ? WHERE id = ?").bind(ts(*at)).bind(loan.0),
            LoanEnd::SupersededBy(by) => {
                sqlx::query("UPDATE loans SET returned_at = ?, superseded_by = ? WHERE id = ?").bind(ts(*at)).bind(by.0).bind(loan.0)
            }
        },
        Write::OpenLoan { id, copy, title, member, out_at, due_on } => {
            sqlx::query("INSERT INTO loans (id, copy_id, title_id, member_id, out_at, due_on) VALUES (?, ?, ?, ?, ?, ?)")
                .bind(id.0)
                .bind(copy.0)
                .bind(title.0)
                .bind(member.0)
                .bind(ts(*out_at))
                .bind(date(*due_on))
        }
        Write::RenewLoan { loan, due_on } => {
            sqlx::query("UPDATE loans SET due_on = ?, renewals = renewals + 1 WHERE id = ?").bind(date(*due_on)).bind(loan.0)
        }
        Write::InsertHold { id, title, member, placed_at } => sqlx::query(
            "INSERT INTO holds (id, title_id, member_id, placed_at, status) VALUES (?, ?, ?, ?, 'waiting') ON CONFLICT DO NOTHING",
        )
        .bind(id.0)
        .bind(title.0)
        .bind(member.0)
        .bind(ts(*placed_at)),
        Write::ReadyHold { id, copy, expires_on } => {
            sqlx::query("UPDATE holds SET status = 'ready', copy_id = ?, expires_on = ? WHERE id = ?")
                .bind(copy.0)
                .bind(expires_on.map(date))
                .bind(id.0)
        }
        Write::RequeueHold { id } => {
            sqlx::query("UPDATE holds SET status = 'waiting', copy_id = NULL, expires_on = NULL WHERE id = ?").bind(id.0)
        }
        Write::CloseHold { id, status, at } => {
            sqlx::query("UPDATE holds SET status = ?, closed_at = ? WHERE id = ?").bind(status.as_str()).bind(ts(*at)).bind(id.0)
        }
        Write::CopyStatus { copy, status, last_event } => sqlx::query("UPDATE copies SET status = ?, last_event_id = ? WHERE id = ?")
            .bind(status.as_str())
            .bind(last_event.0)
            .bind(copy.0),
    };
    q.execute(conn).await.map_err(db_err)?;
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
