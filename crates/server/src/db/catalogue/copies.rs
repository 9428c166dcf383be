//! Copies: the physical items of a title, each with its barcode.

use crate::db::{Db, DbError, DbResult, is_unique_violation, now_ms};
use shelfkeeper_domain::Error;
use shelfkeeper_domain::model::{CopyDraft, CopyStatus};
use sqlx::Row;
use sqlx::any::AnyRow;

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct CopyRow {
    pub id: String,
    pub title_id: String,
    pub barcode: String,
    pub location: Option<String>,
    pub shelf: Option<String>,
    pub condition: Option<String>,
    pub acquired_on: Option<String>,
    pub price_cents: Option<i64>,
    pub currency: Option<String>,
    pub provenance: Option<String>,
    pub notes: Option<String>,
    pub status: String,
}

const COPY_COLS: &str = "id, title_id, barcode, location, shelf, condition, acquired_on, price_cents, currency, provenance, notes, status";

fn copy_row(r: &AnyRow) -> Result<CopyRow, sqlx::Error> {
    Ok(CopyRow {
        id: r.try_get("id")?,
        title_id: r.try_get("title_id")?,
        barcode: r.try_get("barcode")?,
        location: r.try_get("location")?,
        shelf: r.try_get("shelf")?,
        condition: r.try_get("condition")?,
        acquired_on: r.try_get("acquired_on")?,
        price_cents: r.try_get("price_cents")?,
        currency: r.try_get("currency")?,
        provenance: r.try_get("provenance")?,
        notes: r.try_get("notes")?,
        status: r.try_get("status")?,
    })
}

impl Db {
    pub async fn copies_of(&self, lib: &str, title_id: &str) -> Result<Vec<CopyRow>, sqlx::Error> {
        let sql = sqlx::AssertSqlSafe(format!("SELECT {COPY_COLS} FROM copies WHERE library_id = $1 AND title_id = $2 ORDER BY barcode"));
        let rows = sqlx::query(sql).bind(lib).bind(title_id).fetch_all(&self.pool).await?;
        rows.iter().map(copy_row).collect()
    }

    pub async fn copy(&self, lib: &str, id: &str) -> Result<Option<CopyRow>, sqlx::Error> {
        let sql = sqlx::AssertSqlSafe(format!("SELECT {COPY_COLS} FROM copies WHERE library_id = $1 AND id = $2"));
        let row = sqlx::query(sql).bind(lib).bind(id).fetch_optional(&self.pool).await?;
        row.as_ref().map(copy_row).transpose()
    }

    /// Inserts (`title_id` given) or updates (`existing`) a copy.
    pub async fn put_copy(&self, lib: &str, id: &str, title_id: &str, c: &CopyDraft, existing: bool) -> DbResult<CopyRow> {
        let mut tx = self.begin_write().await?;
        if !existing {
            sqlx::query("SELECT id FROM titles WHERE library_id = $1 AND id = $2")
                .bind(lib)
                .bind(title_id)
                .fetch_optional(&mut *tx)
                .await?
                .ok_or_else(|| DbError::NotFound("title"))?;
        }
        let taken = sqlx::query("SELECT id FROM copies WHERE library_id = $1 AND barcode = $2 AND id <> $3")
            .bind(lib)
            .bind(&c.barcode)
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
        if taken.is_some() {
            return Err(Error::DuplicateBarcode(c.barcode.clone()).into());
        }
        let hlc = self.tick();
        let now = now_ms();
        let sql = if existing {
            "UPDATE copies SET barcode = $4, location = $5, shelf = $6, condition = $7, acquired_on = $8, price_cents = $9, currency = $10, provenance = $11, \
             notes = $12, updated_at = $13, hlc = $14, site = $15 WHERE id = $1 AND library_id = $2 AND title_id = $3"
        } else {
            "INSERT INTO copies (id, library_id, title_id, barcode, location, shelf, condition, acquired_on, price_cents, currency, provenance, notes, status, \
             created_at, updated_at, hlc, site) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 'available', $13, $13, $14, $15)"
        };
        let r = sqlx::query(sql)
            .bind(id)
            .bind(lib)
            .bind(title_id)
            .bind(&c.barcode)
            .bind(&c.location)
            .bind(&c.shelf)
            .bind(&c.condition)
            .bind(c.acquired_on.map(|d| d.to_string()))
            .bind(c.price_cents)
            .bind(&c.currency)
            .bind(&c.provenance)
            .bind(&c.notes)
            .bind(now)
            .bind(hlc)
            .bind(&*self.site)
            .execute(&mut *tx)
            .await;
        match r {
            Ok(r) if existing && r.rows_affected() == 0 => return Err(DbError::NotFound("copy")),
            Ok(_) => {}
            Err(e) if is_unique_violation(&e) => return Err(Error::DuplicateBarcode(c.barcode.clone()).into()),
            Err(e) => return Err(e.into()),
        }
        self.log_change(&mut tx, lib, "copy", id, "upsert", hlc).await?;
        tx.commit().await?;
        self.copy(lib, id).await?.ok_or_else(|| DbError::vanished("copy"))
    }

    /// Deletes a copy that is on the shelf.
    pub async fn delete_copy(&self, lib: &str, id: &str) -> DbResult<()> {
        let mut tx = self.begin_write().await?;
        let row = sqlx::query("SELECT barcode, status FROM copies WHERE library_id = $1 AND id = $2")
            .bind(lib)
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| DbError::NotFound("copy"))?;
        let status: String = row.try_get("status")?;
        let status = CopyStatus::parse(&status).ok_or_else(|| DbError::Internal(format!("copy status '{status}'")))?;
        shelfkeeper_domain::deletion::may_delete_copy(&row.try_get::<String, _>("barcode")?, status)?;
        sqlx::query("DELETE FROM copies WHERE library_id = $1 AND id = $2").bind(lib).bind(id).execute(&mut *tx).await?;
        let hlc = self.tick();
        self.log_change(&mut tx, lib, "copy", id, "delete", hlc).await?;
        tx.commit().await?;
        Ok(())
    }
}
