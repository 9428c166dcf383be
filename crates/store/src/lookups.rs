//! The ISBN look-up cache, and applying what a look-up found to a title
//! while respecting the fields a person locked.

use crate::catalogue::{save_title, title_by_id};
use crate::rows::{parse_ts, ts};
use crate::{Store, db_err};
use chrono::{DateTime, Utc};
use shelfkeeper_domain::access::{Action, Actor};
use shelfkeeper_domain::ids::TitleId;
use shelfkeeper_domain::isbn::Isbn;
use shelfkeeper_domain::model::{Title, TitleDraft};
use shelfkeeper_domain::provenance::{self, FieldChange, TitleField};
use shelfkeeper_domain::{Error, Result};
use std::collections::BTreeMap;

/// A look-up answer kept in the store: when it was fetched, its overall
/// outcome (`found`, `not_found`, `offline`, `provider_error`) and the
/// providers' report as JSON (the metadata crate's `LookupReport`).
#[derive(Clone, Debug, PartialEq)]
pub struct CachedLookup {
    pub isbn13: String,
    pub fetched_at: DateTime<Utc>,
    pub outcome: String,
    pub report: serde_json::Value,
}

impl Store {
    /// The cached answer for an ISBN, if any.
    pub async fn cached_lookup(&self, isbn: &str) -> Result<Option<CachedLookup>> {
        let isbn = Isbn::parse(isbn)?;
        let row: Option<(String, String, String)> = sqlx::query_as("SELECT fetched_at, outcome, report FROM isbn_lookups WHERE isbn13 = ?")
            .bind(isbn.as_str())
            .fetch_optional(&self.read)
            .await
            .map_err(db_err)?;
        row.map(|(at, outcome, report)| {
            Ok(CachedLookup {
                isbn13: isbn.to_string(),
                fetched_at: parse_ts(&at)?,
                outcome,
                report: serde_json::from_str(&report).map_err(|e| Error::Storage(format!("bad cached look-up: {e}")))?,
            })
        })
        .transpose()
    }

    /// Keeps a look-up answer. Answers that say nothing about the book
    /// (offline, provider error) never replace one that does.
    pub async fn cache_lookup(&self, entry: &CachedLookup) -> Result<()> {
        let isbn = Isbn::parse(&entry.isbn13)?;
        let mut w = self.write_tx().await?;
        sqlx::query(
            "INSERT INTO isbn_lookups (isbn13, fetched_at, outcome, report) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (isbn13) DO UPDATE SET fetched_at = excluded.fetched_at, outcome = excluded.outcome, report = excluded.report
             WHERE excluded.outcome IN ('found', 'not_found') OR isbn_lookups.outcome NOT IN ('found', 'not_found')",
        )
        .bind(isbn.as_str())
        .bind(ts(entry.fetched_at))
        .bind(&entry.outcome)
        .bind(entry.report.to_string())
        .execute(w.conn())
        .await
        .map_err(db_err)?;
        w.commit().await
    }

    /// Locks or unlocks fields of a title against look-ups and imports.
    pub async fn set_field_locks(&self, actor: &Actor, id: TitleId, fields: &[TitleField], locked: bool) -> Result<Title> {
        actor.require(Action::ManageCatalogue)?;
        let mut w = self.write_tx().await?;
        let title = title_by_id(w.conn(), id).await?;
        let mut sources = title.field_sources.clone();
        for f in fields {
            let entry = sources.entry(*f).or_insert_with(|| provenance::FieldSource {
                source: provenance::MANUAL.into(),
                at: w.now,
                locked: false,
            });
            entry.locked = locked;
        }
        let valid = title.draft().validate()?;
        save_title(&mut w, id, &valid, &sources).await?;
        let title = title_by_id(w.conn(), id).await?;
        w.commit().await?;
        Ok(title)
    }

    /// What applying found values to a title would change (nothing is
    /// written): the changes, and the locked fields that would be kept.
    pub async fn preview_refresh(
        &self,
        id: TitleId,
        found: &TitleDraft,
        found_sources: &BTreeMap<TitleField, String>,
    ) -> Result<(Vec<FieldChange>, Vec<TitleField>)> {
        let title = self.title(id).await?;
        let m = provenance::merge(&title.draft(), &title.field_sources, found, found_sources, "lookup", Utc::now());
        Ok((m.changes, m.kept_locked))
    }

    /// Applies found values to a title: every unlocked field the look-up
    /// filled takes its value and source; locked fields stay.
    pub async fn refresh_title(
        &self,
        actor: &Actor,
        id: TitleId,
        found: &TitleDraft,
        found_sources: &BTreeMap<TitleField, String>,
    ) -> Result<(Title, Vec<FieldChange>)> {
        actor.require(Action::ManageCatalogue)?;
        let mut w = self.write_tx().await?;
        let title = title_by_id(w.conn(), id).await?;
        let m = provenance::merge(&title.draft(), &title.field_sources, found, found_sources, "lookup", w.now);
        if m.changes.is_empty() {
            return Ok((title, m.changes));
        }
        let valid = m.draft.validate()?;
        if let Some(isbn) = &valid.isbn {
            let other: Option<(uuid::Uuid, String)> = sqlx::query_as("SELECT id, title FROM titles WHERE isbn13 = ? AND id <> ?")
                .bind(isbn.as_str())
                .bind(id.0)
                .fetch_optional(w.conn())
                .await
                .map_err(db_err)?;
            if let Some((_, other)) = other {
                return Err(Error::DuplicateIsbn { isbn: isbn.to_string(), title: other });
            }
        }
        save_title(&mut w, id, &valid, &m.sources).await?;
        let title = title_by_id(w.conn(), id).await?;
        w.commit().await?;
        Ok((title, m.changes))
    }
}
