//! Titles: the catalogue records copies belong to.

use super::{json_list, json_text};
use crate::db::{Backend, Db, DbError, DbResult, WriteTx, is_unique_violation, now_ms};
use shelfkeeper_domain::Error;
use shelfkeeper_domain::model::{Contributor, ValidTitle};
use sqlx::Row;
use sqlx::any::AnyRow;

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct TitleRow {
    pub id: String,
    pub title: String,
    pub subtitle: Option<String>,
    #[schema(value_type = Vec<Object>)]
    pub contributors: Vec<Contributor>,
    pub subjects: Vec<String>,
    pub tags: Vec<String>,
    pub series: Option<String>,
    pub series_number: Option<String>,
    pub language: Option<String>,
    pub publisher: Option<String>,
    pub published: Option<String>,
    pub pages: Option<i64>,
    pub isbn13: Option<String>,
    pub lccn: Option<String>,
    pub call_number: Option<String>,
    pub notes: Option<String>,
    pub cover_ref: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

const TITLE_COLS: &str = "id, title, subtitle, contributors, subjects, tags, series, series_number, language, publisher, published, pages, isbn13, lccn, call_number, notes, cover_ref, created_at, updated_at";

fn title_row(r: &AnyRow) -> Result<TitleRow, sqlx::Error> {
    Ok(TitleRow {
        id: r.try_get("id")?,
        title: r.try_get("title")?,
        subtitle: r.try_get("subtitle")?,
        contributors: json_list(r, "contributors")?,
        subjects: json_list(r, "subjects")?,
        tags: json_list(r, "tags")?,
        series: r.try_get("series")?,
        series_number: r.try_get("series_number")?,
        language: r.try_get("language")?,
        publisher: r.try_get("publisher")?,
        published: r.try_get("published")?,
        pages: r.try_get("pages")?,
        isbn13: r.try_get("isbn13")?,
        lccn: r.try_get("lccn")?,
        call_number: r.try_get("call_number")?,
        notes: r.try_get("notes")?,
        cover_ref: r.try_get("cover_ref")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}

/// The fields catalogue search reads, from a validated title (REST) or a
/// desk's change payload (the replica).
pub(in crate::db) struct Searched<'a> {
    pub title: &'a str,
    pub subtitle: Option<&'a str>,
    pub people: Vec<&'a str>,
    pub subjects: &'a [String],
    pub tags: &'a [String],
    pub series: Option<&'a str>,
    pub publisher: Option<&'a str>,
    pub notes: Option<&'a str>,
    pub isbn13: Option<&'a str>,
}

impl<'a> Searched<'a> {
    fn of(t: &'a ValidTitle) -> Self {
        Searched {
            title: &t.title,
            subtitle: t.subtitle.as_deref(),
            people: t.contributors.iter().map(|c| c.name.as_str()).collect(),
            subjects: &t.subjects,
            tags: &t.tags,
            series: t.series.as_deref(),
            publisher: t.publisher.as_deref(),
            notes: t.notes.as_deref(),
            isbn13: t.isbn.as_ref().map(|i| i.isbn13()),
        }
    }

    /// The lower-cased text that search matches words against.
    pub fn search_text(&self) -> String {
        let mut parts: Vec<&str> = vec![self.title];
        parts.extend(self.subtitle);
        parts.extend(self.people.iter().copied());
        parts.extend(self.subjects.iter().map(String::as_str));
        parts.extend(self.tags.iter().map(String::as_str));
        parts.extend(self.series);
        parts.extend(self.publisher);
        parts.extend(self.notes);
        let isbn10 = self.isbn13.and_then(|i| shelfkeeper_domain::isbn::Isbn::parse(i).ok()).and_then(|i| i.isbn10());
        parts.extend(self.isbn13);
        parts.extend(isbn10.as_deref());
        parts.join(" \u{1f} ").to_lowercase()
    }

    /// The relevance tiers' texts: the title, and title + people + series +
    /// subjects (as the desktop's index columns), lower-cased.
    pub fn tier_texts(&self) -> (String, String) {
        let mut core: Vec<&str> = vec![self.title];
        core.extend(self.people.iter().copied());
        core.extend(self.series);
        core.extend(self.subjects.iter().map(String::as_str));
        (self.title.to_lowercase(), core.join(" \u{1f} ").to_lowercase())
    }
}

fn search_text(t: &ValidTitle) -> String {
    Searched::of(t).search_text()
}

fn tier_texts(t: &ValidTitle) -> (String, String) {
    Searched::of(t).tier_texts()
}

impl Db {
    /// A title's name and how many copies it has; 404 when the library has
    /// no such title.
    pub(in crate::db) async fn title_and_copy_count(&self, tx: &mut WriteTx, lib: &str, id: &str) -> DbResult<(String, i64)> {
        let row = sqlx::query(
            "SELECT title, (SELECT COUNT(*) FROM copies c WHERE c.title_id = t.id) AS n FROM titles t WHERE library_id = $1 AND id = $2",
        )
        .bind(lib)
        .bind(id)
        .fetch_optional(&mut **tx)
        .await?
        .ok_or_else(|| DbError::NotFound("title"))?;
        Ok((row.try_get("title")?, row.try_get("n")?))
    }

    async fn isbn_taken(&self, tx: &mut WriteTx, lib: &str, isbn13: &str, except: &str) -> DbResult<()> {
        let row = sqlx::query("SELECT title FROM titles WHERE library_id = $1 AND isbn13 = $2 AND id <> $3")
            .bind(lib)
            .bind(isbn13)
            .bind(except)
            .fetch_optional(&mut **tx)
            .await?;
        match row {
            Some(r) => Err(Error::DuplicateIsbn { isbn: isbn13.to_owned(), title: r.try_get("title")? }.into()),
            None => Ok(()),
        }
    }

    /// Inserts (`existing = false`) or replaces a title.
    pub async fn put_title(&self, lib: &str, id: &str, t: &ValidTitle, existing: bool) -> DbResult<TitleRow> {
        let mut tx = self.begin_write().await?;
        let isbn13 = t.isbn.as_ref().map(|i| i.isbn13().to_owned());
        if let Some(i) = &isbn13 {
            self.isbn_taken(&mut tx, lib, i, id).await?;
        }
        let hlc = self.tick();
        let now = now_ms();
        let sql = if existing {
            "UPDATE titles SET title = $3, subtitle = $4, sort_title = $5, author_sort = $6, contributors = $7, subjects = $8, tags = $9, series = $10, \
             series_number = $11, language = $12, publisher = $13, published = $14, pub_year = $15, pages = $16, isbn13 = $17, lccn = $18, call_number = $19, \
             notes = $20, cover_ref = $21, search_text = $22, updated_at = $23, hlc = $24, site = $25, title_text = $26, core_text = $27 \
             WHERE id = $1 AND library_id = $2"
        } else {
            "INSERT INTO titles (id, library_id, title, subtitle, sort_title, author_sort, contributors, subjects, tags, series, series_number, language, \
             publisher, published, pub_year, pages, isbn13, lccn, call_number, notes, cover_ref, search_text, created_at, updated_at, hlc, site, \
             title_text, core_text) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $23, $24, $25, $26, $27)"
        };
        let (title_text, core_text) = tier_texts(t);
        let r = sqlx::query(sql)
            .bind(id)
            .bind(lib)
            .bind(&t.title)
            .bind(&t.subtitle)
            .bind(&t.sort_title)
            .bind(t.author_sort())
            .bind(json_text(&t.contributors))
            .bind(json_text(&t.subjects))
            .bind(json_text(&t.tags))
            .bind(&t.series)
            .bind(&t.series_number)
            .bind(&t.language)
            .bind(&t.publisher)
            .bind(&t.published)
            .bind(t.pub_year.map(i64::from))
            .bind(t.pages)
            .bind(&isbn13)
            .bind(&t.lccn)
            .bind(&t.call_number)
            .bind(&t.notes)
            .bind(&t.cover_ref)
            .bind(search_text(t))
            .bind(now)
            .bind(hlc)
            .bind(&*self.site)
            .bind(title_text)
            .bind(core_text)
            .execute(&mut *tx)
            .await;
        match r {
            Ok(r) if existing && r.rows_affected() == 0 => return Err(DbError::NotFound("title")),
            Ok(_) => {}
            // Two concurrent writers with the same ISBN: the index decides.
            Err(e) if is_unique_violation(&e) => {
                return Err(Error::DuplicateIsbn { isbn: isbn13.unwrap_or_default(), title: "another title".into() }.into());
            }
            Err(e) => return Err(e.into()),
        }
        if self.backend == Backend::Sqlite {
            // The trigram index table (SQLite only; PostgreSQL indexes the column).
            sqlx::query("DELETE FROM titles_search WHERE title_id = $1").bind(id).execute(&mut *tx).await?;
            sqlx::query("INSERT INTO titles_search (title_id, search_text) VALUES ($1, $2)")
                .bind(id)
                .bind(search_text(t))
                .execute(&mut *tx)
                .await?;
        }
        self.log_change(&mut tx, lib, "title", id, "upsert", hlc).await?;
        tx.commit().await?;
        self.title(lib, id).await?.ok_or_else(|| DbError::vanished("title"))
    }

    pub async fn title(&self, lib: &str, id: &str) -> Result<Option<TitleRow>, sqlx::Error> {
        let sql = sqlx::AssertSqlSafe(format!("SELECT {TITLE_COLS} FROM titles WHERE library_id = $1 AND id = $2"));
        let row = sqlx::query(sql).bind(lib).bind(id).fetch_optional(&self.pool).await?;
        row.as_ref().map(title_row).transpose()
    }

    /// Deletes a title that has no copies left.
    pub async fn delete_title(&self, lib: &str, id: &str) -> DbResult<()> {
        let mut tx = self.begin_write().await?;
        let (title, n) = self.title_and_copy_count(&mut tx, lib, id).await?;
        shelfkeeper_domain::deletion::may_delete_title(&title, n as u32)?;
        // Its reviews go with it (ON DELETE CASCADE), as on desks; its
        // events, and the holds projected from them, stay.
        sqlx::query("DELETE FROM titles WHERE library_id = $1 AND id = $2").bind(lib).bind(id).execute(&mut *tx).await?;
        if self.backend == Backend::Sqlite {
            sqlx::query("DELETE FROM titles_search WHERE title_id = $1").bind(id).execute(&mut *tx).await?;
        }
        let hlc = self.tick();
        self.log_change(&mut tx, lib, "title", id, "delete", hlc).await?;
        tx.commit().await?;
        Ok(())
    }
}
