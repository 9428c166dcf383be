//! Titles and copies.

use crate::rows::{RowExt, date};
use crate::{Store, WriteTx, db_err};
use shelfkeeper_domain::access::{Action, Actor};
use shelfkeeper_domain::ids::{CopyId, TitleId};
use shelfkeeper_domain::isbn::Isbn;
use shelfkeeper_domain::model::{Copy, CopyDraft, CopyStatus, Title, TitleDraft, ValidTitle};
use shelfkeeper_domain::provenance::{self, FieldSources};
use shelfkeeper_domain::{Error, Result};
use sqlx::SqliteConnection;
use sqlx::sqlite::SqliteRow;

pub(crate) const TITLE_COLUMNS: &str = "id, title, subtitle, contributors, subjects, tags, series, series_number, language, publisher, \
     published, pages, isbn13, lccn, call_number, notes, cover_ref, field_sources, copy_count, available_count, created_at, updated_at";

pub(crate) fn title_from_row(r: &SqliteRow) -> Result<Title> {
    let isbn13 = r.opt_text("isbn13")?;
    let isbn10 = isbn13.as_deref().and_then(|i| Isbn::parse(i).ok()).and_then(|i| i.isbn10());
    Ok(Title {
        id: TitleId(r.uuid("id")?),
        title: r.text("title")?,
        subtitle: r.opt_text("subtitle")?,
        contributors: r.json("contributors")?,
        subjects: r.json("subjects")?,
        tags: r.json("tags")?,
        series: r.opt_text("series")?,
        series_number: r.opt_text("series_number")?,
        language: r.opt_text("language")?,
        publisher: r.opt_text("publisher")?,
        published: r.opt_text("published")?,
        pages: r.opt_int("pages")?,
        isbn13,
        isbn10,
        lccn: r.opt_text("lccn")?,
        call_number: r.opt_text("call_number")?,
        notes: r.opt_text("notes")?,
        cover_ref: r.opt_text("cover_ref")?,
        field_sources: r.json("field_sources")?,
        copy_count: r.int("copy_count")?,
        available_count: r.int("available_count")?,
        created_at: r.instant("created_at")?,
        updated_at: r.instant("updated_at")?,
    })
}

pub(crate) const COPY_COLUMNS: &str = "id, title_id, barcode, location, shelf, condition, acquired_on, price_cents, currency, \
     provenance, notes, status, created_at, updated_at";

pub(crate) fn copy_from_row(r: &SqliteRow) -> Result<Copy> {
    let status = r.text("status")?;
    Ok(Copy {
        id: CopyId(r.uuid("id")?),
        title_id: TitleId(r.uuid("title_id")?),
        barcode: r.text("barcode")?,
        location: r.opt_text("location")?,
        shelf: r.opt_text("shelf")?,
        condition: r.opt_text("condition")?,
        acquired_on: r.opt_day("acquired_on")?,
        price_cents: r.opt_int("price_cents")?,
        currency: r.opt_text("currency")?,
        provenance: r.opt_text("provenance")?,
        notes: r.opt_text("notes")?,
        status: CopyStatus::parse(&status).ok_or_else(|| Error::Storage(format!("bad copy status '{status}'")))?,
        created_at: r.instant("created_at")?,
        updated_at: r.instant("updated_at")?,
    })
}

fn json(v: &impl serde::Serialize) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "[]".into())
}

pub(crate) async fn title_by_id(conn: &mut SqliteConnection, id: TitleId) -> Result<Title> {
    let sql = format!("SELECT {TITLE_COLUMNS} FROM titles WHERE id = ?");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id.0).fetch_optional(conn).await.map_err(db_err)?;
    row.as_ref().map(title_from_row).transpose()?.ok_or_else(|| Error::TitleNotFound(id.to_string()))
}

pub(crate) async fn copy_by_barcode(conn: &mut SqliteConnection, barcode: &str) -> Result<Copy> {
    let barcode = shelfkeeper_domain::text::barcode("barcode", barcode)?;
    let sql = format!("SELECT {COPY_COLUMNS} FROM copies WHERE barcode = ?");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(&barcode).fetch_optional(conn).await.map_err(db_err)?;
    row.as_ref().map(copy_from_row).transpose()?.ok_or(Error::CopyNotFound(barcode))
}

async fn refuse_duplicate_isbn(conn: &mut SqliteConnection, v: &ValidTitle, except: Option<TitleId>) -> Result<()> {
    let Some(isbn) = &v.isbn else { return Ok(()) };
    let existing: Option<(uuid::Uuid, String)> = sqlx::query_as("SELECT id, title FROM titles WHERE isbn13 = ? LIMIT 1")
        .bind(isbn.as_str())
        .fetch_optional(conn)
        .await
        .map_err(db_err)?;
    match existing {
        Some((id, title)) if Some(TitleId(id)) != except => Err(Error::DuplicateIsbn { isbn: isbn.to_string(), title }),
        _ => Ok(()),
    }
}

async fn refuse_duplicate_barcode(conn: &mut SqliteConnection, barcode: &str, except: Option<CopyId>) -> Result<()> {
    let existing: Option<uuid::Uuid> =
        sqlx::query_scalar("SELECT id FROM copies WHERE barcode = ?").bind(barcode).fetch_optional(conn).await.map_err(db_err)?;
    match existing {
        Some(id) if Some(CopyId(id)) != except => Err(Error::DuplicateBarcode(barcode.into())),
        _ => Ok(()),
    }
}

impl Store {
    /// Adds a title. An ISBN already in the catalogue is refused: the book
    /// is there, add a copy to it.
    pub async fn add_title(&self, actor: &Actor, draft: &TitleDraft) -> Result<Title> {
        actor.require(Action::ManageCatalogue)?;
        let sources = provenance::sources_for_new(draft, provenance::MANUAL, chrono::Utc::now());
        self.add_title_with_sources(actor, draft, &sources).await
    }

    /// Adds a title whose fields came from somewhere (a look-up the person
    /// then checked, an import): `sources` says where each came from.
    pub async fn add_title_with_sources(&self, actor: &Actor, draft: &TitleDraft, sources: &FieldSources) -> Result<Title> {
        actor.require(Action::ManageCatalogue)?;
        let v = draft.validate()?;
        let mut w = self.write_tx().await?;
        refuse_duplicate_isbn(w.conn(), &v, None).await?;
        let id = TitleId::new();
        save_title(&mut w, id, &v, sources).await?;
        let title = title_by_id(w.conn(), id).await?;
        w.commit().await?;
        Ok(title)
    }

    pub async fn update_title(&self, actor: &Actor, id: TitleId, draft: &TitleDraft) -> Result<Title> {
        actor.require(Action::ManageCatalogue)?;
        let v = draft.validate()?;
        let mut w = self.write_tx().await?;
        let before = title_by_id(w.conn(), id).await?;
        refuse_duplicate_isbn(w.conn(), &v, Some(id)).await?;
        let sources = provenance::record_edit(&before.field_sources, &before.draft(), draft, w.now);
        save_title(&mut w, id, &v, &sources).await?;
        let title = title_by_id(w.conn(), id).await?;
        w.commit().await?;
        Ok(title)
    }

    /// Deletes a title with no copies (its reviews and reading status go
    /// with it). A title with copies is refused: the copies are real books.
    pub async fn delete_title(&self, actor: &Actor, id: TitleId) -> Result<()> {
        actor.require(Action::ManageCatalogue)?;
        let mut w = self.write_tx().await?;
        let title = title_by_id(w.conn(), id).await?;
        shelfkeeper_domain::deletion::may_delete_title(&title.title, title.copy_count as u32)?;
        sqlx::query("DELETE FROM reviews WHERE title_id = ?").bind(id.0).execute(w.conn()).await.map_err(db_err)?;
        sqlx::query("DELETE FROM reading_status WHERE id = ?").bind(id.0).execute(w.conn()).await.map_err(db_err)?;
        sqlx::query("DELETE FROM titles WHERE id = ?").bind(id.0).execute(w.conn()).await.map_err(db_err)?;
        w.commit().await
    }

    pub async fn title(&self, id: TitleId) -> Result<Title> {
        let mut conn = self.read.acquire().await.map_err(db_err)?;
        title_by_id(&mut conn, id).await
    }

    /// The title with this ISBN (10 or 13 digits, any spelling), if catalogued.
    pub async fn title_by_isbn(&self, isbn: &str) -> Result<Option<Title>> {
        let isbn = Isbn::parse(isbn)?;
        let sql = format!("SELECT {TITLE_COLUMNS} FROM titles WHERE isbn13 = ? LIMIT 1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(isbn.as_str()).fetch_optional(&self.read).await.map_err(db_err)?;
        row.as_ref().map(title_from_row).transpose()
    }

    pub async fn add_copy(&self, actor: &Actor, title_id: TitleId, draft: &CopyDraft) -> Result<Copy> {
        actor.require(Action::ManageCatalogue)?;
        let d = draft.validate()?;
        let mut w = self.write_tx().await?;
        title_by_id(w.conn(), title_id).await?;
        refuse_duplicate_barcode(w.conn(), &d.barcode, None).await?;
        let id = CopyId::new();
        save_copy(&mut w, id, Some(title_id), &d).await?;
        let copy = copy_by_barcode(w.conn(), &d.barcode).await?;
        w.commit().await?;
        Ok(copy)
    }

    pub async fn update_copy(&self, actor: &Actor, id: CopyId, draft: &CopyDraft) -> Result<Copy> {
        actor.require(Action::ManageCatalogue)?;
        let d = draft.validate()?;
        let mut w = self.write_tx().await?;
        let exists: Option<i64> =
            sqlx::query_scalar("SELECT seq FROM copies WHERE id = ?").bind(id.0).fetch_optional(w.conn()).await.map_err(db_err)?;
        if exists.is_none() {
            return Err(Error::CopyNotFound(id.to_string()));
        }
        refuse_duplicate_barcode(w.conn(), &d.barcode, Some(id)).await?;
        save_copy(&mut w, id, None, &d).await?;
        let copy = copy_by_barcode(w.conn(), &d.barcode).await?;
        w.commit().await?;
        Ok(copy)
    }

    /// Deletes (withdraws) a copy that is on the shelf. Its circulation
    /// history stays: events are facts and are never deleted.
    pub async fn delete_copy(&self, actor: &Actor, barcode: &str) -> Result<()> {
        actor.require(Action::ManageCatalogue)?;
        let mut w = self.write_tx().await?;
        let copy = copy_by_barcode(w.conn(), barcode).await?;
        shelfkeeper_domain::deletion::may_delete_copy(&copy.barcode, copy.status)?;
        sqlx::query("DELETE FROM copies WHERE id = ?").bind(copy.id.0).execute(w.conn()).await.map_err(db_err)?;
        w.commit().await
    }

    pub async fn copy(&self, barcode: &str) -> Result<Copy> {
        let mut conn = self.read.acquire().await.map_err(db_err)?;
        copy_by_barcode(&mut conn, barcode).await
    }

    pub async fn copies_of(&self, title_id: TitleId) -> Result<Vec<Copy>> {
        let sql = format!("SELECT {COPY_COLUMNS} FROM copies WHERE title_id = ? ORDER BY barcode");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(title_id.0).fetch_all(&self.read).await.map_err(db_err)?;
        rows.iter().map(copy_from_row).collect()
    }
}

/// Inserts a title, or rewrites every descriptive field of an existing one
/// (the update fires the change-log and re-indexing triggers).
pub(crate) async fn save_title(w: &mut WriteTx, id: TitleId, v: &ValidTitle, sources: &FieldSources) -> Result<()> {
    let now = w.now_text();
    sqlx::query(
        "INSERT INTO titles (id, title, subtitle, sort_title, contributors, author_sort, subjects, tags, series, series_number,
            language, publisher, published, pub_year, pages, isbn13, lccn, call_number, notes, cover_ref, field_sources, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET title = excluded.title, subtitle = excluded.subtitle, sort_title = excluded.sort_title,
            contributors = excluded.contributors, author_sort = excluded.author_sort, subjects = excluded.subjects,
            tags = excluded.tags, series = excluded.series, series_number = excluded.series_number, language = excluded.language,
            publisher = excluded.publisher, published = excluded.published, pub_year = excluded.pub_year, pages = excluded.pages,
            isbn13 = excluded.isbn13, lccn = excluded.lccn, call_number = excluded.call_number, notes = excluded.notes,
            cover_ref = excluded.cover_ref, field_sources = excluded.field_sources, updated_at = excluded.updated_at",
    )
    .bind(id.0)
    .bind(&v.title)
    .bind(&v.subtitle)
    .bind(&v.sort_title)
    .bind(json(&v.contributors))
    .bind(v.author_sort().unwrap_or_default())
    .bind(json(&v.subjects))
    .bind(json(&v.tags))
    .bind(&v.series)
    .bind(&v.series_number)
    .bind(&v.language)
    .bind(&v.publisher)
    .bind(&v.published)
    .bind(v.pub_year)
    .bind(v.pages)
    .bind(v.isbn.as_ref().map(|i| i.to_string()))
    .bind(&v.lccn)
    .bind(&v.call_number)
    .bind(&v.notes)
    .bind(&v.cover_ref)
    .bind(json(sources))
    .bind(&now)
    .bind(&now)
    .execute(w.conn())
    .await
    .map_err(db_err)?;
    Ok(())
}

/// Inserts a copy of `title_id`, or (with `None`) rewrites the descriptive
/// fields of an existing copy; a copy never moves to another title here.
async fn save_copy(w: &mut WriteTx, id: CopyId, title_id: Option<TitleId>, d: &CopyDraft) -> Result<()> {
    let now = w.now_text();
    sqlx::query(
        "INSERT INTO copies (id, title_id, barcode, location, shelf, condition, acquired_on, price_cents, currency, provenance,
            notes, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET barcode = excluded.barcode, location = excluded.location, shelf = excluded.shelf,
            condition = excluded.condition, acquired_on = excluded.acquired_on, price_cents = excluded.price_cents,
            currency = excluded.currency, provenance = excluded.provenance, notes = excluded.notes, updated_at = excluded.updated_at",
    )
    .bind(id.0)
    // An update never inserts, so the title is only needed for a new copy;
    // the placeholder keeps the NOT NULL column satisfied in the statement.
    .bind(title_id.map(|t| t.0).unwrap_or_default())
    .bind(&d.barcode)
    .bind(&d.location)
    .bind(&d.shelf)
    .bind(&d.condition)
    .bind(d.acquired_on.map(date))
    .bind(d.price_cents)
    .bind(&d.currency)
    .bind(&d.provenance)
    .bind(&d.notes)
    .bind(&now)
    .bind(&now)
    .execute(w.conn())
    .await
    .map_err(db_err)?;
    Ok(())
}

/// A stored cover image.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CoverImage {
    pub mime: String,
    pub bytes: Vec<u8>,
}

impl Store {
    /// Makes `bytes` the cover of a title: the image is checked (format,
    /// size), stored as a new blob, and the title points at it. The blob it
    /// pointed at before goes once no title names it.
    pub async fn set_cover(&self, actor: &Actor, id: TitleId, bytes: &[u8], source: &str) -> Result<Title> {
        actor.require(Action::ManageCatalogue)?;
        let kind = shelfkeeper_domain::cover::sniff(bytes)?;
        let blob = uuid::Uuid::now_v7();
        let mut w = self.write_tx().await?;
        title_by_id(w.conn(), id).await?;
        let now = w.now_text();
        sqlx::query("INSERT INTO covers(id, mime, bytes, source, added_at) VALUES (?, ?, ?, ?, ?)")
            .bind(blob.to_string())
            .bind(kind.mime())
            .bind(bytes)
            .bind(source)
            .bind(&now)
            .execute(w.conn())
            .await
            .map_err(db_err)?;
        set_cover_ref(&mut w, id, Some(shelfkeeper_domain::cover::cover_ref(blob)), source, &now).await?;
        let title = title_by_id(w.conn(), id).await?;
        w.commit().await?;
        Ok(title)
    }

    /// Takes a title's cover away.
    pub async fn clear_cover(&self, actor: &Actor, id: TitleId) -> Result<Title> {
        actor.require(Action::ManageCatalogue)?;
        let mut w = self.write_tx().await?;
        title_by_id(w.conn(), id).await?;
        let now = w.now_text();
        set_cover_ref(&mut w, id, None, provenance::MANUAL, &now).await?;
        let title = title_by_id(w.conn(), id).await?;
        w.commit().await?;
        Ok(title)
    }

    /// The image a `cover_ref` names, if it is a stored cover.
    pub async fn cover(&self, cover_ref: &str) -> Result<Option<CoverImage>> {
        let Some(id) = shelfkeeper_domain::cover::parse_cover_ref(cover_ref) else { return Ok(None) };
        let row: Option<(String, Vec<u8>)> = sqlx::query_as("SELECT mime, bytes FROM covers WHERE id = ?")
            .bind(id.to_string())
            .fetch_optional(&self.read)
            .await
            .map_err(db_err)?;
        Ok(row.map(|(mime, bytes)| CoverImage { mime, bytes }))
    }
}

/// Points a title at a cover (or none) and records where the cover came
/// from, keeping the field's lock.
async fn set_cover_ref(w: &mut WriteTx, id: TitleId, cover_ref: Option<String>, source: &str, now: &str) -> Result<()> {
    sqlx::query(
        "UPDATE titles SET cover_ref = ?1, updated_at = ?3,
            field_sources = CASE WHEN ?1 IS NULL AND NOT ifnull(json_extract(field_sources, '$.cover.locked'), 0)
                THEN json_remove(field_sources, '$.cover')
                ELSE json_set(field_sources, '$.cover', json_object('source', ?2, 'at', ?3, 'locked',
                    json(CASE WHEN ifnull(json_extract(field_sources, '$.cover.locked'), 0) THEN 'true' ELSE 'false' END)))
            END
         WHERE id = ?4",
    )
    .bind(cover_ref)
    .bind(source)
    .bind(now)
    .bind(id.0)
    .execute(w.conn())
    .await
    .map_err(db_err)?;
    Ok(())
}

/// A page of the catalogue for export: titles in the order they were
/// catalogued, each with its copies.
#[derive(Clone, Debug)]
pub struct CataloguePage {
    pub titles: Vec<(Title, Vec<Copy>)>,
    /// Pass back to get the next page; `None` when this was the last.
    pub next: Option<i64>,
}

impl Store {
    /// Reads the catalogue a page at a time (for exports), each page in one
    /// read transaction.
    pub async fn catalogue_page(&self, after: i64, limit: i64) -> Result<CataloguePage> {
        let limit = limit.clamp(1, 10_000);
        let mut conn = self.read.acquire().await.map_err(db_err)?;
        let sql = format!("SELECT seq AS page_seq, {TITLE_COLUMNS} FROM titles WHERE seq > ? ORDER BY seq LIMIT ?");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(after).bind(limit).fetch_all(&mut *conn).await.map_err(db_err)?;
        let mut last = after;
        let mut titles = Vec::with_capacity(rows.len());
        for r in &rows {
            last = r.int("page_seq")?;
            titles.push((title_from_row(r)?, Vec::new()));
        }
        if let (Some(first), Some(_)) = (rows.first(), rows.last()) {
            let first_seq = first.int("page_seq")?;
            let sql = format!(
                "SELECT t.seq AS title_seq, {} FROM copies c JOIN titles t ON t.id = c.title_id
                 WHERE t.seq BETWEEN ? AND ? ORDER BY t.seq, c.barcode",
                COPY_COLUMNS.split(", ").map(|c| format!("c.{c}")).collect::<Vec<_>>().join(", ")
            );
            let copies = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(first_seq).bind(last).fetch_all(&mut *conn).await.map_err(db_err)?;
            let mut by_title: std::collections::HashMap<uuid::Uuid, Vec<Copy>> = std::collections::HashMap::new();
            for c in &copies {
                let copy = copy_from_row(c)?;
                by_title.entry(copy.title_id.0).or_default().push(copy);
            }
            for (t, cs) in &mut titles {
                if let Some(v) = by_title.remove(&t.id.0) {
                    *cs = v;
                }
            }
        }
        let next = (titles.len() as i64 == limit).then_some(last);
        Ok(CataloguePage { titles, next })
    }
}
