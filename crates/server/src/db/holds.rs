//! Holds (a member's place in the queue for a title) and reviews.

use super::circulation::CopyNow;
use super::{Db, DbError, DbResult, WriteTx, is_unique_violation, now_ms};
use chrono::NaiveDate;
use shelfkeeper_domain::Error;
use shelfkeeper_domain::circulation;
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

const HOLD_SELECT: &str = "SELECT h.id, h.title_id, t.title, h.member_id, m.card, h.placed_at, h.status, c.barcode AS copy_barcode, h.expires_on, \
     CASE WHEN h.status = 'waiting' THEN (SELECT COUNT(*) FROM holds o WHERE o.title_id = h.title_id AND o.status = 'waiting' \
       AND (o.placed_at < h.placed_at OR (o.placed_at = h.placed_at AND o.id <= h.id))) END AS position \
     FROM holds h JOIN titles t ON t.id = h.title_id JOIN members m ON m.id = h.member_id LEFT JOIN copies c ON c.id = h.copy_id";

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
    /// Places a hold for a member on a title, by the domain's rules: the
    /// title has copies, the member has none of it on loan, and no active
    /// hold on it yet.
    pub async fn place_hold(&self, lib: &str, title_id: &str, member_id: &str) -> DbResult<HoldRow> {
        let mut tx = self.begin_write().await?;
        let (title, copies) = self.title_and_copy_count(&mut tx, lib, title_id).await?;
        if copies == 0 {
            return Err(Error::HoldOnTitleWithoutCopies(title).into());
        }
        let card: String = sqlx::query("SELECT card FROM members WHERE library_id = $1 AND id = $2")
            .bind(lib)
            .bind(member_id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| DbError::NotFound("member"))?
            .try_get("card")?;
        let borrowed =
            sqlx::query("SELECT 1 AS x FROM loans WHERE title_id = $1 AND member_id = $2 AND returned_at IS NULL AND lost_at IS NULL")
                .bind(title_id)
                .bind(member_id)
                .fetch_optional(&mut *tx)
                .await?;
        if borrowed.is_some() {
            return Err(Error::HoldOnTitleAlreadyBorrowed { card, title }.into());
        }
        let id = shelfkeeper_domain::ids::HoldId::new().to_string();
        let hlc = self.tick();
        let r = sqlx::query("INSERT INTO holds (id, library_id, title_id, member_id, placed_at, status, copy_id, expires_on, hlc, site) VALUES ($1, $2, $3, $4, $5, 'waiting', NULL, NULL, $6, $7)")
            .bind(&id)
            .bind(lib)
            .bind(title_id)
            .bind(member_id)
            .bind(now_ms())
            .bind(hlc)
            .bind(&*self.site)
            .execute(&mut *tx)
            .await;
        match r {
            Ok(_) => {}
            Err(e) if is_unique_violation(&e) => return Err(Error::HoldAlreadyPlaced { card, title }.into()),
            Err(e) => return Err(e.into()),
        }
        self.hold_event(&mut tx, lib, "hold_placed", &id, title_id, member_id, hlc).await?;
        tx.commit().await?;
        self.hold(lib, &id).await?.ok_or_else(|| DbError::vanished("hold"))
    }

    #[allow(clippy::too_many_arguments)] // the event's columns, named
    async fn hold_event(
        &self,
        tx: &mut WriteTx,
        lib: &str,
        kind: &str,
        hold_id: &str,
        title_id: &str,
        member_id: &str,
        hlc: i64,
    ) -> Result<(), sqlx::Error> {
        let id = shelfkeeper_domain::ids::EventId::new().to_string();
        sqlx::query(
            "INSERT INTO circulation_events (id, library_id, kind, copy_id, title_id, member_id, due_on, prev_event_id, at, hlc, site, hold_id) \
             VALUES ($1, $2, $3, NULL, $4, $5, NULL, NULL, $6, $7, $8, $9)",
        )
        .bind(&id)
        .bind(lib)
        .bind(kind)
        .bind(title_id)
        .bind(member_id)
        .bind(now_ms())
        .bind(hlc)
        .bind(&*self.site)
        .bind(hold_id)
        .execute(&mut **tx)
        .await?;
        self.log_change(tx, lib, "event", &id, "upsert", hlc).await
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

    /// Cancels an active hold; a copy waiting on the shelf for it goes back.
    pub async fn cancel_hold(&self, lib: &str, id: &str) -> DbResult<HoldRow> {
        let mut tx = self.begin_write().await?;
        let h = sqlx::query("SELECT title_id, member_id, status, copy_id FROM holds WHERE library_id = $1 AND id = $2")
            .bind(lib)
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| Error::HoldNotFound(id.to_owned()))?;
        let status: String = h.try_get("status")?;
        if status != "waiting" && status != "ready" {
            return Err(Error::HoldNotActive(id.to_owned()).into());
        }
        let hlc = self.tick();
        sqlx::query("UPDATE holds SET status = 'cancelled', hlc = $1 WHERE id = $2").bind(hlc).bind(id).execute(&mut *tx).await?;
        if status == "ready"
            && let Some(copy) = h.try_get::<Option<String>, _>("copy_id")?
        {
            sqlx::query("UPDATE copies SET status = 'available' WHERE id = $1 AND status = 'on_hold_shelf'")
                .bind(&copy)
                .execute(&mut *tx)
                .await?;
        }
        self.hold_event(
            &mut tx,
            lib,
            "hold_cancelled",
            id,
            &h.try_get::<String, _>("title_id")?,
            &h.try_get::<String, _>("member_id")?,
            hlc,
        )
        .await?;
        tx.commit().await?;
        self.hold(lib, id).await?.ok_or_else(|| DbError::vanished("hold"))
    }

    /// After a check-in: the first waiting hold on the title gets the copy
    /// on the hold shelf. Returns that member's card.
    pub(crate) async fn trap_for_next_hold(
        &self,
        tx: &mut WriteTx,
        lib: &str,
        copy: &CopyNow,
        today: NaiveDate,
    ) -> DbResult<Option<String>> {
        let next = sqlx::query(
            "SELECT h.id, h.member_id, m.card, m.member_type FROM holds h JOIN members m ON m.id = h.member_id \
             WHERE h.title_id = $1 AND h.status = 'waiting' ORDER BY h.placed_at, h.id LIMIT 1",
        )
        .bind(&copy.title_id)
        .fetch_optional(&mut **tx)
        .await?;
        let Some(next) = next else { return Ok(None) };
        let member_id: String = next.try_get("member_id")?;
        let policy = self.policy(tx, lib, &next.try_get::<String, _>("member_type")?).await?;
        let expires = circulation::hold_expires_on(today, &policy);
        let hlc = self.tick();
        sqlx::query("UPDATE holds SET status = 'ready', copy_id = $1, expires_on = $2, hlc = $3 WHERE id = $4")
            .bind(&copy.id)
            .bind(expires.to_string())
            .bind(hlc)
            .bind(&next.try_get::<String, _>("id")?)
            .execute(&mut **tx)
            .await?;
        sqlx::query("UPDATE copies SET status = 'on_hold_shelf' WHERE id = $1").bind(&copy.id).execute(&mut **tx).await?;
        self.event(tx, lib, "trapped_for_hold", copy, Some(&member_id), Some(expires)).await?;
        Ok(Some(next.try_get("card")?))
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
