//! Conflicts recorded while merging: listing them, and staff resolving them.

use super::bad;
use crate::{Store, db_err};
use serde::Serialize;
use shelfkeeper_domain::access::{Action, Actor};
use shelfkeeper_domain::{Error, Result};
use sqlx::{AssertSqlSafe, Row};
use uuid::Uuid;

/// A conflict recorded while merging.
#[derive(Clone, Debug, PartialEq, Serialize, ts_rs::TS)]
pub struct SyncConflict {
    pub key: String,
    /// `concurrent_events`, `kept_row`, `duplicate_key`, `loan_of_deleted_copy`
    /// or `quarantined` (a pulled change this desk could not apply: the
    /// change as `payload`, the reason as `detail`).
    pub kind: String,
    pub entity: String,
    pub entity_id: Uuid,
    pub event_a: Option<Uuid>,
    pub event_b: Option<Uuid>,
    #[ts(type = "number")]
    pub hlc: u64,
    pub site_id: Uuid,
    /// The kept row (kept_row), as JSON text.
    pub payload: Option<String>,
    pub detail: Option<String>,
    /// What it is about, for people: a copy's barcode and title, a title,
    /// a member's card and name (from the kept version if the row is gone).
    pub subject: Option<String>,
    /// For a copy lent at two desks: the two members' cards.
    pub members: Option<String>,
    pub detected_at: String,
    /// When staff resolved it (at this desk or another); `None` while open.
    /// A resolution covers the conflict as it was: a newer kept version or
    /// claim opens it again.
    pub resolved_at: Option<String>,
    pub resolved_by: Option<String>,
    /// `acknowledged` or `discarded`.
    pub resolution: Option<String>,
    pub resolution_note: Option<String>,
}

/// How staff settle a conflict.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Deserialize, Serialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum ConflictAction {
    /// Looked at and settled by hand; the data stays as the rules made it.
    Acknowledged,
    /// A kept row version (`kept_row`) is not wanted.
    Discarded,
}

impl ConflictAction {
    fn as_str(self) -> &'static str {
        match self {
            ConflictAction::Acknowledged => "acknowledged",
            ConflictAction::Discarded => "discarded",
        }
    }
}

/// The resolution (if any) that covers a conflict row `c` as it is now.
pub(super) const COVERING_RESOLUTION: &str = "r.conflict_key = c.key AND (c.hlc, c.site_id) <= (r.conflict_hlc, r.conflict_site)";

impl Store {
    /// Conflicts found while merging, unresolved first.
    pub async fn sync_conflicts(&self) -> Result<Vec<SyncConflict>> {
        let sql = format!(
            "SELECT c.key, c.kind, c.entity, c.entity_id, c.event_a, c.event_b, c.hlc, c.site_id, c.payload, c.detail,
                    c.detected_at, r.resolved_at, r.resolved_by, r.action, r.note,
                    coalesce(CASE c.entity
                        WHEN 'copy' THEN (SELECT cp.barcode || ' — ' || t.title FROM copies cp JOIN titles t ON t.id = cp.title_id
                                          WHERE cp.id = c.entity_id)
                        WHEN 'title' THEN (SELECT title FROM titles WHERE id = c.entity_id)
                        WHEN 'member' THEN (SELECT card || ' — ' || name FROM members WHERE id = c.entity_id)
                        WHEN 'member_type' THEN (SELECT code || ' — ' || name FROM member_types WHERE id = c.entity_id)
                     END,
                     json_extract(c.payload, '$.barcode'), json_extract(c.payload, '$.title'),
                     json_extract(c.payload, '$.card') || ' — ' || json_extract(c.payload, '$.name')) AS subject,
                    (SELECT group_concat(card, ' and ') FROM (SELECT m.card FROM circulation_events e JOIN members m ON m.id = e.member_id
                     WHERE e.id IN (c.event_a, c.event_b) ORDER BY m.card)) AS members
             FROM sync_conflicts c LEFT JOIN conflict_resolutions r ON {COVERING_RESOLUTION}
             ORDER BY r.resolved_at IS NOT NULL, c.kind, c.key"
        );
        let rows = sqlx::query(AssertSqlSafe(sql)).fetch_all(&self.read).await.map_err(db_err)?;
        rows.iter()
            .map(|r| {
                let hlc: i64 = r.try_get("hlc").map_err(bad)?;
                Ok(SyncConflict {
                    key: r.try_get("key").map_err(bad)?,
                    kind: r.try_get("kind").map_err(bad)?,
                    entity: r.try_get("entity").map_err(bad)?,
                    entity_id: r.try_get("entity_id").map_err(bad)?,
                    event_a: r.try_get("event_a").map_err(bad)?,
                    event_b: r.try_get("event_b").map_err(bad)?,
                    hlc: hlc as u64,
                    site_id: r.try_get("site_id").map_err(bad)?,
                    payload: r.try_get("payload").map_err(bad)?,
                    detail: r.try_get("detail").map_err(bad)?,
                    subject: r.try_get("subject").map_err(bad)?,
                    members: r.try_get("members").map_err(bad)?,
                    detected_at: r.try_get("detected_at").map_err(bad)?,
                    resolved_at: r.try_get("resolved_at").map_err(bad)?,
                    resolved_by: r.try_get("resolved_by").map_err(bad)?,
                    resolution: r.try_get("action").map_err(bad)?,
                    resolution_note: r.try_get("note").map_err(bad)?,
                })
            })
            .collect()
    }

    /// Staff settle a conflict: a resolution row that syncs to every desk
    /// (its id derived from the conflict key, so two desks resolving one
    /// conflict write one row and the later wins). It covers the conflict
    /// as it is now; a newer kept version or claim opens it again.
    pub async fn resolve_conflict(&self, actor: &Actor, key: &str, action: ConflictAction, note: &str) -> Result<SyncConflict> {
        actor.require(Action::Circulate)?;
        let note = note.trim();
        if note.chars().count() > 2000 {
            return Err(Error::invalid("note", "at most 2,000 characters"));
        }
        let mut w = self.write_tx().await?;
        let conflict: Option<(String, i64, Uuid)> = sqlx::query_as("SELECT kind, hlc, site_id FROM sync_conflicts WHERE key = ?")
            .bind(key)
            .fetch_optional(w.conn())
            .await
            .map_err(db_err)?;
        let Some((kind, hlc, site)) = conflict else { return Err(Error::ConflictNotFound(key.to_string())) };
        if action == ConflictAction::Discarded && kind != "kept_row" {
            return Err(Error::invalid("action", "only a kept row version can be discarded; acknowledge this conflict instead"));
        }
        let by: String = match actor.account_id {
            Some(id) => sqlx::query_scalar("SELECT username FROM accounts WHERE id = ?")
                .bind(id.0)
                .fetch_optional(w.conn())
                .await
                .map_err(db_err)?
                .unwrap_or_else(|| "unknown account".into()),
            None => "owner".into(),
        };
        sqlx::query(
            "INSERT INTO conflict_resolutions (id, conflict_key, conflict_hlc, conflict_site, action, note, resolved_by, resolved_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?)
             ON CONFLICT (id) DO UPDATE SET conflict_hlc = excluded.conflict_hlc, conflict_site = excluded.conflict_site,
                action = excluded.action, note = excluded.note, resolved_by = excluded.resolved_by, resolved_at = excluded.resolved_at",
        )
        .bind(shelfkeeper_sync::resolution_id(key))
        .bind(key)
        .bind(hlc)
        .bind(site)
        .bind(action.as_str())
        .bind(note)
        .bind(by)
        .bind(w.now_text())
        .execute(w.conn())
        .await
        .map_err(db_err)?;
        w.commit().await?;
        self.sync_conflicts().await?.into_iter().find(|c| c.key == key).ok_or_else(|| Error::ConflictNotFound(key.to_string()))
    }
}
