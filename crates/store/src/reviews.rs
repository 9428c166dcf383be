//! Reviews and ratings (one per member per title, or the owner's own), and
//! a collector's reading status.

use crate::rows::{RowExt, date};
use crate::{Store, db_err};
use shelfkeeper_domain::access::{Action, Actor};
use shelfkeeper_domain::ids::{MemberId, ReviewId, TitleId};
use shelfkeeper_domain::model::{ReadingState, ReadingStatus, Review, validate_rating};
use shelfkeeper_domain::{Error, Result};
use sqlx::sqlite::SqliteRow;

fn review_from_row(r: &SqliteRow) -> Result<Review> {
    Ok(Review {
        id: ReviewId(r.uuid("id")?),
        title_id: TitleId(r.uuid("title_id")?),
        member_id: r.opt_uuid("member_id")?.map(MemberId),
        rating: r.int("rating")? as u8,
        body: r.opt_text("body")?,
        created_at: r.instant("created_at")?,
        updated_at: r.instant("updated_at")?,
    })
}

impl Store {
    /// Writes or replaces the review of `title` by the member with `card`
    /// (or by the collection's owner when `card` is `None`).
    pub async fn review(&self, actor: &Actor, title: TitleId, card: Option<&str>, rating: i64, body: Option<&str>) -> Result<Review> {
        let rating = validate_rating(rating)?;
        let body = shelfkeeper_domain::text::bounded("body", shelfkeeper_domain::text::clean(body), 20_000)?;
        let mut w = self.write_tx().await?;
        crate::catalogue::title_by_id(w.conn(), title).await?;
        let member = match card {
            Some(card) => {
                let m = crate::members::member_by_card(w.conn(), card).await?;
                actor.require(Action::ActAsMember(m.id))?;
                Some(m.id)
            }
            None => {
                actor.require(Action::ActAsOwner)?;
                None
            }
        };
        let existing: Option<uuid::Uuid> = sqlx::query_scalar("SELECT id FROM reviews WHERE title_id = ? AND member_id IS ?")
            .bind(title.0)
            .bind(member.map(|m| m.0))
            .fetch_optional(w.conn())
            .await
            .map_err(db_err)?;
        let now = w.now_text();
        let id = match existing {
            Some(id) => {
                sqlx::query("UPDATE reviews SET rating = ?, body = ?, updated_at = ? WHERE id = ?")
                    .bind(i64::from(rating))
                    .bind(&body)
                    .bind(&now)
                    .bind(id)
                    .execute(w.conn())
                    .await
                    .map_err(db_err)?;
                id
            }
            None => {
                let id = ReviewId::new().0;
                sqlx::query(
                    "INSERT INTO reviews (id, title_id, member_id, rating, body, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                )
                .bind(id)
                .bind(title.0)
                .bind(member.map(|m| m.0))
                .bind(i64::from(rating))
                .bind(&body)
                .bind(&now)
                .bind(&now)
                .execute(w.conn())
                .await
                .map_err(db_err)?;
                id
            }
        };
        let row = sqlx::query("SELECT * FROM reviews WHERE id = ?").bind(id).fetch_one(w.conn()).await.map_err(db_err)?;
        let review = review_from_row(&row)?;
        w.commit().await?;
        Ok(review)
    }

    pub async fn delete_review(&self, actor: &Actor, id: ReviewId) -> Result<()> {
        let mut w = self.write_tx().await?;
        let row = sqlx::query("SELECT * FROM reviews WHERE id = ?").bind(id.0).fetch_optional(w.conn()).await.map_err(db_err)?;
        let review = row.as_ref().map(review_from_row).transpose()?.ok_or_else(|| Error::invalid("review", "no such review"))?;
        match review.member_id {
            Some(m) => actor.require(Action::ActAsMember(m))?,
            None => actor.require(Action::ActAsOwner)?,
        }
        sqlx::query("DELETE FROM reviews WHERE id = ?").bind(id.0).execute(w.conn()).await.map_err(db_err)?;
        w.commit().await
    }

    pub async fn reviews_of(&self, title: TitleId) -> Result<Vec<Review>> {
        let rows = sqlx::query("SELECT * FROM reviews WHERE title_id = ? ORDER BY updated_at DESC")
            .bind(title.0)
            .fetch_all(&self.read)
            .await
            .map_err(db_err)?;
        rows.iter().map(review_from_row).collect()
    }

    /// Sets the owner's reading status of a title; `None` clears it.
    pub async fn set_reading_status(&self, actor: &Actor, status: Option<&ReadingStatus>, title: TitleId) -> Result<()> {
        actor.require(Action::ActAsOwner)?;
        if let Some(s) = status
            && let (Some(a), Some(b)) = (s.started_on, s.finished_on)
            && b < a
        {
            return Err(Error::invalid("finished_on", "is before the start date"));
        }
        let mut w = self.write_tx().await?;
        crate::catalogue::title_by_id(w.conn(), title).await?;
        match status {
            Some(s) => {
                sqlx::query(
                    "INSERT INTO reading_status (id, state, started_on, finished_on) VALUES (?, ?, ?, ?)
                     ON CONFLICT(id) DO UPDATE SET state = excluded.state, started_on = excluded.started_on, finished_on = excluded.finished_on",
                )
                .bind(title.0)
                .bind(s.state.as_str())
                .bind(s.started_on.map(date))
                .bind(s.finished_on.map(date))
                .execute(w.conn())
                .await
                .map_err(db_err)?;
            }
            None => {
                sqlx::query("DELETE FROM reading_status WHERE id = ?").bind(title.0).execute(w.conn()).await.map_err(db_err)?;
            }
        }
        w.commit().await
    }

    pub async fn reading_status(&self, title: TitleId) -> Result<Option<ReadingStatus>> {
        let row =
            sqlx::query("SELECT * FROM reading_status WHERE id = ?").bind(title.0).fetch_optional(&self.read).await.map_err(db_err)?;
        match row {
            Some(r) => {
                let state = r.text("state")?;
                Ok(Some(ReadingStatus {
                    title_id: title,
                    state: ReadingState::parse(&state).ok_or_else(|| Error::Storage(format!("bad reading state '{state}'")))?,
                    started_on: r.opt_day("started_on")?,
                    finished_on: r.opt_day("finished_on")?,
                }))
            }
            None => Ok(None),
        }
    }
}
