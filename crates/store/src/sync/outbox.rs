//! The outbox: local changes to push, read from the change log.

use super::bad;
use super::wire::{Sites, current_change};
use crate::{Store, db_err};
use shelfkeeper_domain::Result;
use shelfkeeper_sync::{Change, Entity};
use std::collections::HashSet;
use uuid::Uuid;

/// One page of the outbox.
#[derive(Clone, Debug, PartialEq)]
pub struct OutboxPage {
    /// In local order; a row changed several times in the page is sent once,
    /// at its first place, in its latest state.
    pub changes: Vec<Change>,
    /// The last change-log sequence this page covers: acknowledge up to it
    /// once the server accepted every change of the page.
    pub through_seq: i64,
    /// More entries follow.
    pub more: bool,
}

impl Store {
    /// The next page of local changes to push, after change-log sequence
    /// `after_seq` (0, or the last page's `through_seq` until acknowledged).
    pub async fn outbox_page(&self, after_seq: i64, limit: u32) -> Result<OutboxPage> {
        let limit = limit.max(1);
        // A plain write transaction (no clock tick): it only names changes.
        let mut tx = self.write.begin_with("BEGIN IMMEDIATE").await.map_err(db_err)?;
        type LogRow = (i64, String, Uuid, Option<Uuid>, Option<String>);
        let rows: Vec<LogRow> =
            sqlx::query_as("SELECT seq, entity, entity_id, change_id, payload FROM change_log WHERE seq > ? ORDER BY seq LIMIT ?")
                .bind(after_seq)
                .bind(i64::from(limit) + 1)
                .fetch_all(&mut *tx)
                .await
                .map_err(db_err)?;
        let more = rows.len() > limit as usize;
        let sites = Sites::load(&mut tx).await?;
        let mut changes = Vec::new();
        let mut seen = HashSet::new();
        let mut through_seq = after_seq;
        for (seq, entity, entity_id, change_id, frozen) in rows.into_iter().take(limit as usize) {
            through_seq = seq;
            // Accounts, reviews and reading status stay on this desk (for now).
            let Some(entity) = Entity::parse(&entity) else { continue };
            let change = match (change_id, frozen) {
                (Some(id), Some(text)) => {
                    let mut c = serde_json::from_str::<Change>(&text).map_err(|e| bad(format!("frozen change {seq}: {e}")))?;
                    c.change_id = id;
                    Some(c)
                }
                (Some(_), None) => None,
                (None, frozen) => {
                    // First read: the change gets its id, and its content is
                    // fixed with it — a change id the server may already have
                    // must never stand for other content.
                    let change = match frozen {
                        Some(text) => Some(serde_json::from_str::<Change>(&text).map_err(|e| bad(format!("frozen change {seq}: {e}")))?),
                        None => current_change(&mut tx, &sites, entity, entity_id).await?,
                    };
                    let id = Uuid::now_v7();
                    let text = change.as_ref().map(serde_json::to_string).transpose().map_err(bad)?;
                    sqlx::query("UPDATE change_log SET change_id = ?, payload = ? WHERE seq = ?")
                        .bind(id)
                        .bind(text)
                        .bind(seq)
                        .execute(&mut *tx)
                        .await
                        .map_err(db_err)?;
                    change.map(|c| Change { change_id: id, ..c })
                }
            };
            let Some(change) = change else { continue };
            // Only this site's versions are sent (apply freezes unread
            // entries before overwriting, so this is a safety net). Entries
            // of one row first read together carry the same version: it is
            // sent once.
            if change.site_id != self.site_id.0 || !seen.insert((change.entity_id, change.hlc)) {
                continue;
            }
            changes.push(change);
        }
        tx.commit().await.map_err(db_err)?;
        Ok(OutboxPage { changes, through_seq, more })
    }

    /// The server has every local change up to change-log sequence `seq`:
    /// they leave the outbox.
    pub async fn ack_pushed(&self, seq: i64) -> Result<()> {
        let mut tx = self.write.begin_with("BEGIN IMMEDIATE").await.map_err(db_err)?;
        sqlx::query("DELETE FROM change_log WHERE seq <= ?").bind(seq).execute(&mut *tx).await.map_err(db_err)?;
        tx.commit().await.map_err(db_err)
    }
}
