//! Holds (a member's place in the queue for a title) and reviews.

use super::members::{MEMBER_COLS, member_cols_of, member_row, to_domain, uuid_of};
use super::{Backend, Db, DbError, DbResult, WriteTx, now, now_ms};
use chrono::NaiveDate;
use shelfkeeper_domain::Error;
use shelfkeeper_domain::circulation::CopyRef;
use shelfkeeper_domain::circulation::holds::{self, HoldEnd, HoldRequest, NextInLine, QueuedHold};
use shelfkeeper_domain::ids::{CopyId, HoldId, MemberId, TitleId};
use shelfkeeper_domain::model::HoldStatus;
use shelfkeeper_domain::model::validate_rating;
use sqlx::Row;
use sqlx::any::AnyRow;

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct HoldRow {
    pub id: String,
    pub title_id: String,
    pub title: String,
    pub member_id: String,
    pub card: String,
    pub placed_at: i64,
    pub status: String,
    pub copy_barcode: Option<String>,
    pub expires_on: Option<String>,
    /// 1 for the next in line; only for waiting holds.
    pub position: Option<i64>,
}

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct ReviewRow {
    pub id: String,
    pub title_id: String,
    pub author: String,
    pub rating: i64,
    pub body: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    #[serde(skip)]
    pub account_id: String,
}

/// Holds outlive a deleted title or member, as their events do: outer joins.
const HOLD_SELECT: &str = "SELECT h.id, h.title_id, COALESCE(t.title, '') AS title, h.member_id, COALESCE(m.card, '') AS card, h.placed_at, h.status, c.barcode AS copy_barcode, h.expires_on, \
     CASE WHEN h.status = 'waiting' THEN (SELECT COUNT(*) FROM holds o WHERE o.title_id = h.title_id AND o.status = 'waiting' \
       AND (o.placed_at < h.placed_at OR (o.placed_at = h.placed_at AND o.id <= h.id))) END AS position \
     FROM holds h LEFT JOIN titles t ON t.id = h.title_id LEFT JOIN members m ON m.id = h.member_id LEFT JOIN copies c ON c.id = h.copy_id";

fn hold_row(r: &AnyRow) -> Result<HoldRow, sqlx::Error> {
    Ok(HoldRow {
        id: r.try_get("id")?,
        title_id: r.try_get("title_id")?,
        title: r.try_get("title")?,
        member_id: r.try_get("member_id")?,
        card: r.try_get("card")?,
        placed_at: r.try_get("placed_at")?,
        status: r.try_get("status")?,
        copy_barcode: r.try_get("copy_barcode")?,
        expires_on: r.try_get("expires_on")?,
        position: r.try_get("position")?,
    })
}

impl Db {
    /// Places a hold for a member on a title, by the domain's rules
    /// (`holds::place_hold`: a member in good standing, a title with copies,
    /// none of it on loan to them, no active hold on it yet).
    pub async fn place_hold(&self, lib: &str, title_id: &str, member_id: &str, today: NaiveDate) -> DbResult<HoldRow> {
        let mut tx = self.begin_write().await?;
        // One member's placements take turns (PostgreSQL; SQLite writes
        // already do), so two at once cannot both pass "no active hold".
        let lock = if self.backend == Backend::Postgres { " FOR UPDATE" } else { "" };
        let sql = sqlx::AssertSqlSafe(format!("SELECT {MEMBER_COLS} FROM members WHERE library_id = $1 AND id = $2{lock}"));
        let member = sqlx::query(sql)
            .bind(lib)
            .bind(member_id)
            .fetch_optional(&mut *tx)
            .await?
            .as_ref()
            .map(member_row)
            .transpose()?
            .ok_or_else(|| DbError::NotFound("member"))?;
        let member = to_domain(&member)?;
        let (title, copies) = self.title_and_copy_count(&mut tx, lib, title_id).await?;
        let facts = sqlx::query(
            "SELECT (SELECT COUNT(*) FROM holds WHERE title_id = $1 AND member_id = $2 AND status IN ('waiting', 'ready')) AS active,                     (SELECT COUNT(*) FROM loans WHERE title_id = $1 AND member_id = $2 AND returned_at IS NULL AND lost_at IS NULL) AS borrowed",
        )
        .bind(title_id)
        .bind(member_id)
        .fetch_one(&mut *tx)
        .await?;
        let request = HoldRequest {
            member: &member,
            title_id: TitleId(uuid_of(title_id)),
            title: &title,
            copies: u32::try_from(copies).unwrap_or(u32::MAX),
            has_active_hold: facts.try_get::<i64, _>("active")? > 0,
            has_title_on_loan: facts.try_get::<i64, _>("borrowed")? > 0,
        };
        let e = holds::place_hold(&request, today, now())?;
        self.append(&mut tx, lib, &e).await?;
        tx.commit().await?;
        let id = e.hold_id.map(|h| h.to_string()).unwrap_or_default();
        self.hold(lib, &id).await?.ok_or_else(|| DbError::vanished("hold"))
    }

    pub async fn hold(&self, lib: &str, id: &str) -> Result<Option<HoldRow>, sqlx::Error> {
        let sql = sqlx::AssertSqlSafe(format!("{HOLD_SELECT} WHERE h.library_id = $1 AND h.id = $2"));
        sqlx::query(sql).bind(lib).bind(id).fetch_optional(&self.pool).await?.as_ref().map(hold_row).transpose()
    }

    /// A member's holds (active first, then newest), or a title's active queue.
    pub async fn holds_of_member(&self, lib: &str, member_id: &str) -> Result<Vec<HoldRow>, sqlx::Error> {
        let sql = sqlx::AssertSqlSafe(format!(
            "{HOLD_SELECT} WHERE h.library_id = $1 AND h.member_id = $2 ORDER BY CASE WHEN h.status IN ('waiting', 'ready') THEN 0 ELSE 1 END, h.placed_at DESC LIMIT 200"
        ));
        let rows = sqlx::query(sql).bind(lib).bind(member_id).fetch_all(&self.pool).await?;
        rows.iter().map(hold_row).collect()
    }

    pub async fn holds_of_title(&self, lib: &str, title_id: &str) -> Result<Vec<HoldRow>, sqlx::Error> {
        let sql = sqlx::AssertSqlSafe(format!(
            "{HOLD_SELECT} WHERE h.library_id = $1 AND h.title_id = $2 AND h.status IN ('waiting', 'ready') ORDER BY h.placed_at, h.id"
        ));
        let rows = sqlx::query(sql).bind(lib).bind(title_id).fetch_all(&self.pool).await?;
        rows.iter().map(hold_row).collect()
    }

    /// Cancels an active hold; a copy waiting for it on the hold shelf goes
    /// to the next in line, or back on the shelf.
    pub async fn cancel_hold(&self, lib: &str, id: &str, today: NaiveDate) -> DbResult<HoldRow> {
        let mut tx = self.begin_write().await?;
        let h = sqlx::query("SELECT title_id, member_id, status, copy_id FROM holds WHERE library_id = $1 AND id = $2")
            .bind(lib)
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| Error::HoldNotFound(id.to_owned()))?;
        self.cancel_hold_in(&mut tx, lib, id, &h, today).await?;
        tx.commit().await?;
        self.hold(lib, id).await?.ok_or_else(|| DbError::vanished("hold"))
    }

    /// Cancels hold `id` (its row `h`: title_id, member_id, status,
    /// copy_id) inside `tx`; a copy waiting for it goes to the next in line.
    async fn cancel_hold_in(&self, tx: &mut WriteTx, lib: &str, id: &str, h: &AnyRow, today: NaiveDate) -> DbResult<()> {
        let copy: Option<String> = h.try_get("copy_id")?;
        let status: String = h.try_get("status")?;
        let hold = QueuedHold {
            id: HoldId(uuid_of(id)),
            title_id: TitleId(uuid_of(&h.try_get::<String, _>("title_id")?)),
            member: MemberId(uuid_of(&h.try_get::<String, _>("member_id")?)),
            status: HoldStatus::parse(&status).ok_or_else(|| DbError::Internal(format!("hold {id}: status {status}")))?,
            copy: copy.as_deref().map(|c| CopyId(uuid_of(c))),
        };
        if let (Some(copy), HoldStatus::Ready) = (&copy, hold.status) {
            self.lock_copy(tx, copy).await?;
        }
        let (e, freed) = holds::close_hold(&hold, HoldEnd::Cancelled, now())?;
        self.append(tx, lib, &e).await?;
        if let Some(copy) = freed {
            self.route_freed_copy(tx, lib, CopyRef { id: copy, title_id: hold.title_id }, true, today).await?;
        }
        Ok(())
    }

    /// Deletes a member with no open loans (`deletion::may_delete_member`,
    /// the desks' rule); their active holds are cancelled first, a ready
    /// hold's copy going to the next in line, as at a desk. Their loan
    /// history stays (loans outlive the rows they name).
    pub async fn delete_member(&self, lib: &str, id: &str, today: NaiveDate) -> DbResult<()> {
        let mut tx = self.begin_write().await?;
        let r = sqlx::query(
            "SELECT card, (SELECT COUNT(*) FROM loans WHERE library_id = $1 AND member_id = $2 AND returned_at IS NULL AND lost_at IS NULL) \
             AS open_loans FROM members WHERE library_id = $1 AND id = $2",
        )
        .bind(lib)
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| DbError::NotFound("member"))?;
        let open: i64 = r.try_get("open_loans")?;
        shelfkeeper_domain::deletion::may_delete_member(&r.try_get::<String, _>("card")?, open.clamp(0, u32::MAX as i64) as u32)?;
        let active = sqlx::query(
            "SELECT id, title_id, member_id, status, copy_id FROM holds \
             WHERE library_id = $1 AND member_id = $2 AND status IN ('waiting', 'ready')",
        )
        .bind(lib)
        .bind(id)
        .fetch_all(&mut *tx)
        .await?;
        for h in &active {
            self.cancel_hold_in(&mut tx, lib, &h.try_get::<String, _>("id")?, h, today).await?;
        }
        sqlx::query("DELETE FROM members WHERE library_id = $1 AND id = $2").bind(lib).bind(id).execute(&mut *tx).await?;
        let hlc = self.tick();
        self.log_change(&mut tx, lib, "member", id, "delete", hlc).await?;
        tx.commit().await?;
        Ok(())
    }

    /// A copy freed of a loan or a hold goes to the first waiting hold on
    /// its title, or back on the shelf (the domain's `route_freed_copy`).
    /// Returns the card of the member it now waits for.
    pub(crate) async fn route_freed_copy(
        &self,
        tx: &mut WriteTx,
        lib: &str,
        copy: CopyRef,
        was_on_hold_shelf: bool,
        today: NaiveDate,
    ) -> DbResult<Option<String>> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT h.id AS hold_id, {} FROM holds h JOIN members m ON m.id = h.member_id \
             WHERE h.title_id = $1 AND h.status = 'waiting' ORDER BY h.placed_at, h.id LIMIT 1",
            member_cols_of("m")
        ));
        let next = sqlx::query(sql).bind(copy.title_id.to_string()).fetch_optional(&mut **tx).await?;
        let next = match next {
            Some(r) => {
                let row = member_row(&r)?;
                let policy = self.policy(tx, lib, &row.member_type).await?;
                Some((HoldId(uuid_of(&r.try_get::<String, _>("hold_id")?)), to_domain(&row)?, policy))
            }
            None => None,
        };
        let line = next.as_ref().map(|(hold_id, member, policy)| NextInLine { hold_id: *hold_id, member, policy });
        let Some(e) = holds::route_freed_copy(copy.title_id, copy.id, line.as_ref(), was_on_hold_shelf, today, now()) else {
            return Ok(None);
        };
        self.append(tx, lib, &e).await?;
        Ok(next.map(|(_, m, _)| m.card))
    }

    /// Writes the account's review of a title (one per account and title).
    pub async fn put_review(&self, lib: &str, title_id: &str, account_id: &str, rating: i64, body: Option<&str>) -> DbResult<ReviewRow> {
        let rating = i64::from(validate_rating(rating)?);
        if self.title(lib, title_id).await?.is_none() {
            return Err(DbError::NotFound("title"));
        }
        let now = now_ms();
        sqlx::query(
            "INSERT INTO reviews (id, library_id, title_id, account_id, rating, body, created_at, updated_at, hlc, site) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $8, $9) \
             ON CONFLICT (title_id, account_id) DO UPDATE SET rating = excluded.rating, body = excluded.body, updated_at = excluded.updated_at, hlc = excluded.hlc",
        )
        .bind(shelfkeeper_domain::ids::ReviewId::new().to_string())
        .bind(lib)
        .bind(title_id)
        .bind(account_id)
        .bind(rating)
        .bind(body)
        .bind(now)
        .bind(self.tick())
        .bind(&*self.site)
        .execute(&self.pool)
        .await?;
        let all = self.reviews(lib, title_id).await?;
        all.into_iter().find(|r| r.account_id == account_id).ok_or_else(|| DbError::vanished("review"))
    }

    pub async fn delete_review(&self, lib: &str, title_id: &str, account_id: &str) -> Result<bool, sqlx::Error> {
        let r = sqlx::query("DELETE FROM reviews WHERE library_id = $1 AND title_id = $2 AND account_id = $3")
            .bind(lib)
            .bind(title_id)
            .bind(account_id)
            .execute(&self.pool)
            .await?;
        Ok(r.rows_affected() == 1)
    }

    pub async fn reviews(&self, lib: &str, title_id: &str) -> Result<Vec<ReviewRow>, sqlx::Error> {
        let rows = sqlx::query(
            "SELECT r.id, r.title_id, a.display_name, r.rating, r.body, r.created_at, r.updated_at, r.account_id FROM reviews r \
             JOIN accounts a ON a.id = r.account_id WHERE r.library_id = $1 AND r.title_id = $2 ORDER BY r.updated_at DESC, r.id",
        )
        .bind(lib)
        .bind(title_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(ReviewRow {
                    id: r.try_get("id")?,
                    title_id: r.try_get("title_id")?,
                    author: r.try_get("display_name")?,
                    rating: r.try_get("rating")?,
                    body: r.try_get("body")?,
                    created_at: r.try_get("created_at")?,
                    updated_at: r.try_get("updated_at")?,
                    account_id: r.try_get("account_id")?,
                })
            })
            .collect()
    }
}
