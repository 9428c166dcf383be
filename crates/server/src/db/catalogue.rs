//! Titles and copies of one library. Every write stamps the row with
//! `(hlc, site)` and appends to `server_changes` in the same transaction.

use super::{Backend, Db, WriteTx, is_fk_violation, is_unique_violation, now_ms};
use crate::error::{ApiError, ApiResult};
use shelfkeeper_domain::Error;
use shelfkeeper_domain::model::{Contributor, CopyDraft, ValidTitle};
use shelfkeeper_domain::search::{FacetValue, Facets};
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

/// One search result row.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct HitRow {
    pub id: String,
    pub title: String,
    pub subtitle: Option<String>,
    #[schema(value_type = Vec<Object>)]
    pub contributors: Vec<Contributor>,
    pub pub_year: Option<i64>,
    pub language: Option<String>,
    pub isbn13: Option<String>,
    pub copies: i64,
    pub available: i64,
    #[serde(skip)]
    pub sort_title: String,
    #[serde(skip)]
    pub author_sort: Option<String>,
    #[serde(skip)]
    pub created_at: i64,
    /// Relevance sort only: the tier (0 every word in the title, 1 in
    /// title, people, series or subjects, 2 anywhere) and the title's length.
    #[serde(skip)]
    pub rank: Option<(i64, i64)>,
}

/// The desktop's sort orders (`shelfkeeper_domain::search::SortOrder`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sort {
    Title,
    RecentlyAdded,
    Author,
    YearNewest,
    YearOldest,
    /// Needs words; without them a search is sorted by `RecentlyAdded`.
    Relevance,
}

impl Sort {
    /// The cursor key of a row in this order.
    pub fn key(self, h: &HitRow) -> String {
        match self {
            Sort::Title => h.sort_title.clone(),
            Sort::RecentlyAdded => h.created_at.to_string(),
            Sort::Author => h.author_sort.clone().unwrap_or_default(),
            Sort::YearNewest | Sort::YearOldest => h.pub_year.unwrap_or(0).to_string(),
            Sort::Relevance => h.rank.map(|(t, l)| format!("{t}:{l}")).unwrap_or_default(),
        }
    }
}

/// A search, already checked by the route.
#[derive(Debug, Default, Clone)]
pub struct Search {
    pub words: Vec<String>,
    pub language: Option<String>,
    pub tag: Option<String>,
    pub subject: Option<String>,
    pub year_from: Option<i64>,
    pub year_to: Option<i64>,
    pub available: bool,
    pub location: Option<String>,
    /// (sort key, id) of the last row of the previous page.
    pub after: Option<(String, String)>,
    pub limit: i64,
    /// SQLite plan: `None` chooses by match count; `Some(true)` forces the
    /// scan in sort order, `Some(false)` the trigram index (tests compare).
    pub force_scan: Option<bool>,
}

/// Above this many index matches for its rarest word, a SQLite search walks
/// the titles in sort order instead: matches are dense, so a page fills
/// after a few rows, while the index would hand over every match to sort.
pub const DENSE_MATCHES: i64 = 2_000;

fn json_list<T: serde::de::DeserializeOwned>(row: &AnyRow, col: &str) -> Result<Vec<T>, sqlx::Error> {
    let s: String = row.try_get(col)?;
    serde_json::from_str(&s).map_err(|e| sqlx::Error::Decode(Box::new(e)))
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

/// The lower-cased text that search matches words against.
fn search_text(t: &ValidTitle) -> String {
    let mut parts: Vec<&str> = vec![&t.title];
    parts.extend(t.subtitle.as_deref());
    parts.extend(t.contributors.iter().map(|c| c.name.as_str()));
    parts.extend(t.subjects.iter().map(String::as_str));
    parts.extend(t.tags.iter().map(String::as_str));
    parts.extend(t.series.as_deref());
    parts.extend(t.publisher.as_deref());
    parts.extend(t.notes.as_deref());
    let isbn10 = t.isbn.as_ref().and_then(|i| i.isbn10());
    parts.extend(t.isbn.as_ref().map(|i| i.isbn13()));
    parts.extend(isbn10.as_deref());
    parts.join(" \u{1f} ").to_lowercase()
}

/// The relevance tiers' texts: the title, and title + people + series +
/// subjects (as the desktop's index columns), lower-cased.
fn tier_texts(t: &ValidTitle) -> (String, String) {
    let mut core: Vec<&str> = vec![&t.title];
    core.extend(t.contributors.iter().map(|c| c.name.as_str()));
    core.extend(t.series.as_deref());
    core.extend(t.subjects.iter().map(String::as_str));
    (t.title.to_lowercase(), core.join(" \u{1f} ").to_lowercase())
}

/// `%`, `_` and `\` taken literally in a LIKE pattern (with `ESCAPE '\'`).
pub fn like_escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")
}

enum Arg {
    S(String),
    I(i64),
}

impl Db {
    /// Appends a change to the library's feed (what sync will serve), in
    /// the transaction that made it.
    pub(super) async fn log_change(
        &self,
        tx: &mut WriteTx,
        lib: &str,
        entity: &str,
        id: &str,
        op: &str,
        hlc: i64,
    ) -> Result<(), sqlx::Error> {
        sqlx::query("INSERT INTO server_changes (library_id, entity, entity_id, op, hlc, site, at) VALUES ($1, $2, $3, $4, $5, $6, $7)")
            .bind(lib)
            .bind(entity)
            .bind(id)
            .bind(op)
            .bind(hlc)
            .bind(&*self.site)
            .bind(now_ms())
            .execute(&mut **tx)
            .await?;
        self.feed_own(tx, lib, entity, id, op, hlc).await
    }

    /// A title's name and how many copies it has; 404 when the library has
    /// no such title.
    pub(super) async fn title_and_copy_count(&self, tx: &mut WriteTx, lib: &str, id: &str) -> ApiResult<(String, i64)> {
        let row = sqlx::query(
            "SELECT title, (SELECT COUNT(*) FROM copies c WHERE c.title_id = t.id) AS n FROM titles t WHERE library_id = $1 AND id = $2",
        )
        .bind(lib)
        .bind(id)
        .fetch_optional(&mut **tx)
        .await?
        .ok_or_else(|| ApiError::not_found("title"))?;
        Ok((row.try_get("title")?, row.try_get("n")?))
    }

    async fn isbn_taken(&self, tx: &mut WriteTx, lib: &str, isbn13: &str, except: &str) -> ApiResult<()> {
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
    pub async fn put_title(&self, lib: &str, id: &str, t: &ValidTitle, existing: bool) -> ApiResult<TitleRow> {
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
            Ok(r) if existing && r.rows_affected() == 0 => return Err(ApiError::not_found("title")),
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
        self.title(lib, id).await?.ok_or_else(|| ApiError::internal("title vanished after write"))
    }

    pub async fn title(&self, lib: &str, id: &str) -> Result<Option<TitleRow>, sqlx::Error> {
        let sql = sqlx::AssertSqlSafe(format!("SELECT {TITLE_COLS} FROM titles WHERE library_id = $1 AND id = $2"));
        let row = sqlx::query(sql).bind(lib).bind(id).fetch_optional(&self.pool).await?;
        row.as_ref().map(title_row).transpose()
    }

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

    /// Deletes a title that has no copies left.
    pub async fn delete_title(&self, lib: &str, id: &str) -> ApiResult<()> {
        let mut tx = self.begin_write().await?;
        let (title, n) = self.title_and_copy_count(&mut tx, lib, id).await?;
        if n > 0 {
            return Err(Error::TitleHasCopies { title, copies: n as u32 }.into());
        }
        // Holds on a title without copies can never be met; they go with it.
        sqlx::query("DELETE FROM holds WHERE title_id = $1").bind(id).execute(&mut *tx).await?;
        if let Err(e) = sqlx::query("DELETE FROM titles WHERE library_id = $1 AND id = $2").bind(lib).bind(id).execute(&mut *tx).await {
            return Err(if is_fk_violation(&e) { has_history("title") } else { e.into() });
        }
        if self.backend == Backend::Sqlite {
            sqlx::query("DELETE FROM titles_search WHERE title_id = $1").bind(id).execute(&mut *tx).await?;
        }
        let hlc = self.tick();
        self.log_change(&mut tx, lib, "title", id, "delete", hlc).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Inserts (`title_id` given) or updates (`existing`) a copy.
    pub async fn put_copy(&self, lib: &str, id: &str, title_id: &str, c: &CopyDraft, existing: bool) -> ApiResult<CopyRow> {
        let mut tx = self.begin_write().await?;
        if !existing {
            sqlx::query("SELECT id FROM titles WHERE library_id = $1 AND id = $2")
                .bind(lib)
                .bind(title_id)
                .fetch_optional(&mut *tx)
                .await?
                .ok_or_else(|| ApiError::not_found("title"))?;
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
            Ok(r) if existing && r.rows_affected() == 0 => return Err(ApiError::not_found("copy")),
            Ok(_) => {}
            Err(e) if is_unique_violation(&e) => return Err(Error::DuplicateBarcode(c.barcode.clone()).into()),
            Err(e) => return Err(e.into()),
        }
        self.log_change(&mut tx, lib, "copy", id, "upsert", hlc).await?;
        tx.commit().await?;
        self.copy(lib, id).await?.ok_or_else(|| ApiError::internal("copy vanished after write"))
    }

    /// Deletes a copy that is on the shelf.
    pub async fn delete_copy(&self, lib: &str, id: &str) -> ApiResult<()> {
        let mut tx = self.begin_write().await?;
        let row = sqlx::query("SELECT barcode, status FROM copies WHERE library_id = $1 AND id = $2")
            .bind(lib)
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| ApiError::not_found("copy"))?;
        if row.try_get::<String, _>("status")? != "available" {
            return Err(Error::CopyInCirculation(row.try_get("barcode")?).into());
        }
        if let Err(e) = sqlx::query("DELETE FROM copies WHERE library_id = $1 AND id = $2").bind(lib).bind(id).execute(&mut *tx).await {
            return Err(if is_fk_violation(&e) { has_history("copy") } else { e.into() });
        }
        let hlc = self.tick();
        self.log_change(&mut tx, lib, "copy", id, "delete", hlc).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The rarest plain word of a SQLite search, when it is rare enough for
    /// the trigram index to beat walking the titles in sort order. Counting
    /// stops at `DENSE_MATCHES`, so this costs little even for common words.
    async fn sqlite_index_word(&self, words: &[String], force_scan: Option<bool>) -> Result<Option<usize>, sqlx::Error> {
        if force_scan == Some(true) {
            return Ok(None);
        }
        let mut best: Option<(usize, i64)> = None;
        for (i, w) in words.iter().enumerate() {
            if w.contains(['%', '_', '\\']) || w.chars().count() < 3 {
                continue;
            }
            let n: i64 = sqlx::query("SELECT COUNT(*) AS n FROM (SELECT 1 FROM titles_search WHERE search_text LIKE $1 LIMIT $2) AS m")
                .bind(format!("%{w}%"))
                .bind(DENSE_MATCHES)
                .fetch_one(&self.pool)
                .await?
                .try_get("n")?;
            if best.is_none_or(|(_, b)| n < b) {
                best = Some((i, n));
            }
        }
        Ok(match (best, force_scan) {
            (Some((i, _)), Some(false)) => Some(i),
            (Some((i, n)), _) if n < DENSE_MATCHES => Some(i),
            _ => None,
        })
    }

    /// Catalogue search: every word must occur (substring, case-insensitive)
    /// in the title's searched text; filters; keyset pagination in any of
    /// the desktop's sort orders. Fetches one row more than asked to know
    /// whether a next page exists.
    pub async fn search(&self, lib: &str, q: &Search, sort: Sort) -> Result<Vec<HitRow>, sqlx::Error> {
        let sort = if sort == Sort::Relevance && q.words.is_empty() { Sort::RecentlyAdded } else { sort };
        let mut args = vec![Arg::S(lib.to_owned())];
        let push = |a: Arg, args: &mut Vec<Arg>| {
            args.push(a);
            format!("${}", args.len())
        };
        // Backslash is PostgreSQL's default LIKE escape; SQLite is told.
        let esc = match self.backend {
            Backend::Postgres => "",
            Backend::Sqlite => " ESCAPE '\\'",
        };
        let word_params: Vec<String> = q.words.iter().map(|w| push(Arg::S(format!("%{}%", like_escape(w))), &mut args)).collect();
        let mut sql = String::from(
            "SELECT t.id, t.title, t.subtitle, t.contributors, t.pub_year, t.language, t.isbn13, t.sort_title, t.author_sort, t.created_at, \
             (SELECT COUNT(*) FROM copies c WHERE c.title_id = t.id) AS copies, \
             (SELECT COUNT(*) FROM copies c WHERE c.title_id = t.id AND c.status = 'available') AS available",
        );
        if sort == Sort::Relevance {
            let all_in = |col: &str| word_params.iter().map(|p| format!("t.{col} LIKE {p}{esc}")).collect::<Vec<_>>().join(" AND ");
            sql.push_str(&format!(
                ", CASE WHEN {} THEN 0 WHEN {} THEN 1 ELSE 2 END AS rank_tier, LENGTH(t.title) AS rank_len",
                all_in("title_text"),
                all_in("core_text")
            ));
        }
        sql.push_str(" FROM titles t WHERE t.library_id = $1");
        // SQLite: which word (if any) goes through the trigram index.
        let indexed_word = match self.backend {
            Backend::Sqlite => self.sqlite_index_word(&q.words, q.force_scan).await?,
            Backend::Postgres => None,
        };
        for (i, (w, p)) in q.words.iter().zip(&word_params).enumerate() {
            let plain = !w.contains(['%', '_', '\\']);
            match self.backend {
                // Without an ESCAPE clause the trigram index applies.
                Backend::Postgres => sql.push_str(&format!(" AND t.search_text LIKE {p}")),
                // The FTS5 trigram table answers plain patterns from its index.
                Backend::Sqlite if plain && indexed_word == Some(i) => {
                    sql.push_str(&format!(" AND t.id IN (SELECT title_id FROM titles_search WHERE search_text LIKE {p})"))
                }
                Backend::Sqlite => sql.push_str(&format!(" AND t.search_text LIKE {p}{esc}")),
            }
        }
        if let Some(l) = &q.language {
            let p = push(Arg::S(l.clone()), &mut args);
            sql.push_str(&format!(" AND t.language = {p}"));
        }
        // Tags and subjects are JSON arrays of strings: match the quoted element.
        if let Some(tag) = &q.tag {
            let p = push(Arg::S(format!("%{}%", like_escape(&serde_json::to_string(tag).unwrap_or_default()))), &mut args);
            sql.push_str(&format!(" AND t.tags LIKE {p} ESCAPE '\\'"));
        }
        if let Some(s) = &q.subject {
            let p = push(Arg::S(format!("%{}%", like_escape(&serde_json::to_string(s).unwrap_or_default()))), &mut args);
            sql.push_str(&format!(" AND t.subjects LIKE {p} ESCAPE '\\'"));
        }
        if let Some(y) = q.year_from {
            let p = push(Arg::I(y), &mut args);
            sql.push_str(&format!(" AND t.pub_year >= {p}"));
        }
        if let Some(y) = q.year_to {
            let p = push(Arg::I(y), &mut args);
            sql.push_str(&format!(" AND t.pub_year <= {p}"));
        }
        if q.available {
            sql.push_str(" AND EXISTS (SELECT 1 FROM copies c WHERE c.title_id = t.id AND c.status = 'available')");
        }
        if let Some(loc) = &q.location {
            let p = push(Arg::S(loc.clone()), &mut args);
            sql.push_str(&format!(" AND EXISTS (SELECT 1 FROM copies c WHERE c.title_id = t.id AND c.location = {p})"));
        }
        // The order's key expression; PostgreSQL compares text bytewise as SQLite does.
        let collate = if self.backend == Backend::Postgres { " COLLATE \"C\"" } else { "" };
        let (key_expr, text_key, descending) = match sort {
            Sort::Title => ("t.sort_title".to_owned(), true, false),
            Sort::RecentlyAdded => ("t.created_at".to_owned(), false, true),
            Sort::Author => (format!("COALESCE(t.author_sort, ''){collate}"), true, false),
            Sort::YearNewest => ("COALESCE(t.pub_year, 0)".to_owned(), false, true),
            Sort::YearOldest => ("COALESCE(t.pub_year, 0)".to_owned(), false, false),
            Sort::Relevance => (String::new(), false, false),
        };
        if sort == Sort::Relevance {
            // The rank is computed per row: wrap, then page on (tier, length, id).
            sql = format!("SELECT * FROM ({sql}) h WHERE 1 = 1");
            if let Some((key, id)) = &q.after {
                let (tier, len) = key.split_once(':').and_then(|(t, l)| Some((t.parse().ok()?, l.parse().ok()?))).unwrap_or((i64::MAX, 0));
                let t = push(Arg::I(tier), &mut args);
                let l = push(Arg::I(len), &mut args);
                let i = push(Arg::S(id.clone()), &mut args);
                sql.push_str(&format!(
                    " AND (h.rank_tier > {t} OR (h.rank_tier = {t} AND (h.rank_len > {l} OR (h.rank_len = {l} AND h.id > {i}))))"
                ));
            }
            sql.push_str(" ORDER BY h.rank_tier, h.rank_len, h.id");
        } else {
            if let Some((key, id)) = &q.after {
                let k = if text_key { push(Arg::S(key.clone()), &mut args) } else { push(Arg::I(key.parse().unwrap_or(0)), &mut args) };
                let i = push(Arg::S(id.clone()), &mut args);
                let (cmp, id_cmp) = if descending { ("<", "<") } else { (">", ">") };
                sql.push_str(&format!(" AND ({key_expr} {cmp} {k} OR ({key_expr} = {k} AND t.id {id_cmp} {i}))"));
            }
            let dir = if descending { " DESC" } else { "" };
            sql.push_str(&format!(" ORDER BY {key_expr}{dir}, t.id{dir}"));
        }
        let p = push(Arg::I(q.limit + 1), &mut args);
        sql.push_str(&format!(" LIMIT {p}"));
        // Only fixed fragments and `$N` placeholders are spliced in; every
        // value the caller sent is bound.
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for a in args {
            query = match a {
                Arg::S(s) => query.bind(s),
                Arg::I(i) => query.bind(i),
            };
        }
        let rows = query.fetch_all(&self.pool).await?;
        rows.iter()
            .map(|r| {
                let rank = if sort == Sort::Relevance { Some((r.try_get("rank_tier")?, r.try_get("rank_len")?)) } else { None };
                Ok(HitRow {
                    id: r.try_get("id")?,
                    title: r.try_get("title")?,
                    subtitle: r.try_get("subtitle")?,
                    contributors: json_list(r, "contributors")?,
                    pub_year: r.try_get("pub_year")?,
                    language: r.try_get("language")?,
                    isbn13: r.try_get("isbn13")?,
                    copies: r.try_get("copies")?,
                    available: r.try_get("available")?,
                    sort_title: r.try_get("sort_title")?,
                    author_sort: r.try_get("author_sort")?,
                    created_at: r.try_get("created_at")?,
                    rank,
                })
            })
            .collect()
    }

    /// Counts by subject, tag, language, decade and location over the best
    /// `FACET_SAMPLE` matches of a search (as the desktop's facets): the
    /// matches are read in relevance order (newest first without words).
    pub async fn facets(&self, lib: &str, q: &Search) -> Result<Facets, sqlx::Error> {
        let sample = Search { after: None, limit: FACET_SAMPLE, ..q.clone() };
        let hits = self.search(lib, &sample, Sort::Relevance).await?;
        let exact = hits.len() as i64 <= FACET_SAMPLE;
        let hits = &hits[..hits.len().min(FACET_SAMPLE as usize)];
        let mut f = Facets { sample: hits.len() as u64, exact, ..Facets::default() };
        if hits.is_empty() {
            return Ok(f);
        }
        // Subjects and tags live on the title row; locations on its copies.
        let mut args: Vec<String> = vec![lib.to_owned()];
        let list = hits
            .iter()
            .map(|h| {
                args.push(h.id.clone());
                format!("${}", args.len())
            })
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!("SELECT id, subjects, tags FROM titles WHERE library_id = $1 AND id IN ({list})");
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for a in &args {
            query = query.bind(a.clone());
        }
        let rows = query.fetch_all(&self.pool).await?;
        let (mut subjects, mut tags, mut languages, mut decades, mut locations) =
            (Counter::default(), Counter::default(), Counter::default(), Counter::default(), Counter::default());
        for r in &rows {
            for s in json_list::<String>(r, "subjects")? {
                subjects.add(s);
            }
            for t in json_list::<String>(r, "tags")? {
                tags.add(t);
            }
        }
        for h in hits {
            if let Some(l) = &h.language {
                languages.add(l.clone());
            }
            if let Some(y) = h.pub_year {
                decades.add((y.div_euclid(10) * 10).to_string());
            }
        }
        f.available = hits.iter().filter(|h| h.available > 0).count() as u64;
        let sql = format!(
            "SELECT DISTINCT title_id, location FROM copies WHERE library_id = $1 AND location IS NOT NULL AND title_id IN ({list})"
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for a in &args {
            query = query.bind(a.clone());
        }
        for r in query.fetch_all(&self.pool).await? {
            locations.add(r.try_get("location")?);
        }
        f.subjects = subjects.top(20);
        f.tags = tags.top(20);
        f.languages = languages.top(20);
        f.locations = locations.top(20);
        // Decades newest first, as on the desktop.
        let mut d = decades.0.into_iter().map(|(value, count)| FacetValue { value, count }).collect::<Vec<_>>();
        d.sort_by_key(|v| std::cmp::Reverse(v.value.parse::<i64>().unwrap_or(0)));
        d.truncate(30);
        f.decades = d;
        Ok(f)
    }
}

/// How many of the best matches facets are counted over (as the desktop).
pub const FACET_SAMPLE: i64 = 1_000;

#[derive(Default)]
struct Counter(std::collections::HashMap<String, u64>);

impl Counter {
    fn add(&mut self, v: String) {
        *self.0.entry(v).or_default() += 1;
    }

    /// The `n` most frequent values, ties by value.
    fn top(self, n: usize) -> Vec<FacetValue> {
        let mut v: Vec<FacetValue> = self.0.into_iter().map(|(value, count)| FacetValue { value, count }).collect();
        v.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.value.cmp(&b.value)));
        v.truncate(n);
        v
    }
}

/// Loan history keeps what it refers to: such rows are not deleted.
fn has_history(what: &str) -> ApiError {
    ApiError::new(axum::http::StatusCode::CONFLICT, "has_history", format!("this {what} has circulation history and cannot be deleted"))
}

/// JSON text of a list column.
fn json_text<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "[]".into())
}
