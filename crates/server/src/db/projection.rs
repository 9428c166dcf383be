//! Appending circulation events and projecting them: the server's SQL for
//! the domain's projection (`shelfkeeper_domain::circulation::projection`),
//! the same function the desks run. Every loan, hold and copy status the
//! server holds is written here, from an event, so the feed's events and
//! the server's rows cannot tell different stories.

use super::{Db, DbResult, WriteTx};
use shelfkeeper_domain::circulation::Event;
use shelfkeeper_domain::circulation::projection::{self, LoanEnd, Slice, Write};
use shelfkeeper_domain::model::HoldStatus;
use sqlx::Row;

fn ms(at: chrono::DateTime<chrono::Utc>) -> i64 {
    at.timestamp_millis()
}

impl Db {
    /// Appends `e` (chained to the last event on its stream), logs it for
    /// the feed, and projects it. Returns its clock stamp.
    pub(crate) async fn append(&self, tx: &mut WriteTx, lib: &str, e: &Event) -> DbResult<i64> {
        let stream_is_copy = e.kind.is_copy_event() && e.copy_id.is_some();
        let prev: Option<String> = if stream_is_copy {
            sqlx::query("SELECT id FROM circulation_events WHERE copy_id = $1 ORDER BY hlc DESC, id DESC LIMIT 1")
                .bind(e.copy_id.map(|c| c.to_string()))
                .fetch_optional(&mut **tx)
                .await?
        } else {
            sqlx::query(
                "SELECT id FROM circulation_events WHERE title_id = $1 AND kind IN ('hold_placed', 'hold_cancelled', 'hold_expired') \
                 ORDER BY hlc DESC, id DESC LIMIT 1",
            )
            .bind(e.title_id.to_string())
            .fetch_optional(&mut **tx)
            .await?
        }
        .map(|r| r.try_get("id"))
        .transpose()?;
        let hlc = self.tick();
        sqlx::query(
            "INSERT INTO circulation_events (id, library_id, kind, copy_id, title_id, member_id, due_on, prev_event_id, at, hlc, site, hold_id) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .bind(e.id.to_string())
        .bind(lib)
        .bind(e.kind.as_str())
        .bind(e.copy_id.map(|c| c.to_string()))
        .bind(e.title_id.to_string())
        .bind(e.member_id.map(|m| m.to_string()))
        .bind(e.due_on.map(|d| d.to_string()))
        .bind(prev)
        .bind(ms(e.occurred_at))
        .bind(hlc)
        .bind(&*self.site)
        .bind(e.hold_id.map(|h| h.to_string()))
        .execute(&mut **tx)
        .await?;
        self.project(tx, lib, e, hlc).await?;
        // Last: logging takes the library's feed counter, which every write
        // of the library waits for until this transaction commits.
        self.log_change(tx, lib, "event", &e.id.to_string(), "upsert", hlc).await?;
        Ok(hlc)
    }

    /// Loads the rows `e` touches, asks the domain, writes the answer.
    pub(crate) async fn project(&self, tx: &mut WriteTx, lib: &str, e: &Event, hlc: i64) -> DbResult<()> {
        let r = sqlx::query(
            "SELECT (SELECT id FROM loans WHERE copy_id = $1 AND returned_at IS NULL AND lost_at IS NULL AND library_id = $3) AS open_loan, \
                    (SELECT id FROM holds WHERE copy_id = $1 AND status = 'ready' AND library_id = $3) AS ready_hold, \
                    (SELECT status FROM holds WHERE id = $2 AND library_id = $3) AS named_hold",
        )
        .bind(e.copy_id.map(|c| c.to_string()))
        .bind(e.hold_id.map(|h| h.to_string()))
        .bind(lib)
        .fetch_one(&mut **tx)
        .await?;
        let id = |col: &str| -> Result<Option<uuid::Uuid>, sqlx::Error> {
            Ok(r.try_get::<Option<String>, _>(col)?.map(|s| super::members::uuid_of(&s)))
        };
        let slice = Slice {
            open_loan: id("open_loan")?.map(shelfkeeper_domain::ids::EventId),
            ready_hold: id("ready_hold")?.map(shelfkeeper_domain::ids::HoldId),
            named_hold: r.try_get::<Option<String>, _>("named_hold")?.as_deref().and_then(HoldStatus::parse),
        };
        for w in projection::project(&slice, e) {
            self.apply(tx, lib, &w, hlc).await?;
        }
        Ok(())
    }

    async fn apply(&self, tx: &mut WriteTx, lib: &str, w: &Write, hlc: i64) -> DbResult<()> {
        let q = match w {
            Write::CloseLoan { loan, end, at } => match end {
                LoanEnd::Returned => sqlx::query("UPDATE loans SET returned_at = $1 WHERE id = $2 AND library_id = $3")
                    .bind(ms(*at))
                    .bind(loan.to_string())
                    .bind(lib),
                LoanEnd::Lost => sqlx::query("UPDATE loans SET lost_at = $1 WHERE id = $2 AND library_id = $3")
                    .bind(ms(*at))
                    .bind(loan.to_string())
                    .bind(lib),
                LoanEnd::SupersededBy(by) => {
                    sqlx::query("UPDATE loans SET returned_at = $1, superseded_by = $2 WHERE id = $3 AND library_id = $4")
                        .bind(ms(*at))
                        .bind(by.to_string())
                        .bind(loan.to_string())
                        .bind(lib)
                }
            },
            Write::OpenLoan { id, copy, title, member, out_at, due_on } => sqlx::query(
                "INSERT INTO loans (id, library_id, copy_id, title_id, member_id, out_at, due_on, renewals, returned_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, 0, NULL)",
            )
            .bind(id.to_string())
            .bind(lib)
            .bind(copy.to_string())
            .bind(title.to_string())
            .bind(member.to_string())
            .bind(ms(*out_at))
            .bind(due_on.to_string()),
            Write::RenewLoan { loan, due_on } => {
                sqlx::query("UPDATE loans SET due_on = $1, renewals = renewals + 1 WHERE id = $2 AND library_id = $3")
                    .bind(due_on.to_string())
                    .bind(loan.to_string())
                    .bind(lib)
            }
            Write::InsertHold { id, title, member, placed_at } => sqlx::query(
                "INSERT INTO holds (id, library_id, title_id, member_id, placed_at, status, copy_id, expires_on, hlc, site) \
                 VALUES ($1, $2, $3, $4, $5, 'waiting', NULL, NULL, $6, $7) ON CONFLICT DO NOTHING",
            )
            .bind(id.to_string())
            .bind(lib)
            .bind(title.to_string())
            .bind(member.to_string())
            .bind(ms(*placed_at))
            .bind(hlc)
            .bind(&*self.site),
            Write::ReadyHold { id, copy, expires_on } => {
                sqlx::query("UPDATE holds SET status = 'ready', copy_id = $1, expires_on = $2, hlc = $3 WHERE id = $4 AND library_id = $5")
                    .bind(copy.to_string())
                    .bind(expires_on.map(|d| d.to_string()))
                    .bind(hlc)
                    .bind(id.to_string())
                    .bind(lib)
            }
            Write::RequeueHold { id } => sqlx::query(
                "UPDATE holds SET status = 'waiting', copy_id = NULL, expires_on = NULL, hlc = $1 WHERE id = $2 AND library_id = $3",
            )
            .bind(hlc)
            .bind(id.to_string())
            .bind(lib),
            Write::CloseHold { id, status, at } => {
                sqlx::query("UPDATE holds SET status = $1, closed_at = $2, hlc = $3 WHERE id = $4 AND library_id = $5")
                    .bind(status.as_str())
                    .bind(ms(*at))
                    .bind(hlc)
                    .bind(id.to_string())
                    .bind(lib)
            }
            Write::CopyStatus { copy, status, .. } => sqlx::query("UPDATE copies SET status = $1 WHERE id = $2 AND library_id = $3")
                .bind(status.as_str())
                .bind(copy.to_string())
                .bind(lib),
        };
        q.execute(&mut **tx).await?;
        Ok(())
    }
}
