//! Titles, copies, members and member types: last writer wins per row;
//! a delete leaves a tombstone and keeps newer edits for staff.

use super::Apply;
use crate::sync::bad;
use crate::sync::wire::{COPIES, Spec, payload_args, payload_uuid, row_payload, select_sql, spec};
use crate::{WriteTx, db_err};
use shelfkeeper_domain::Result;
use shelfkeeper_sync::{Change, Entity, Stamp, merge};
use sqlx::{Arguments, AssertSqlSafe, Row, SqliteConnection};
use uuid::Uuid;

/// What [`Apply::known`] found about an entity before an upsert.
pub(super) struct Known {
    pub(super) tomb: Option<Stamp>,
    pub(super) current: Option<Stamp>,
    /// The title a copy names exists.
    pub(super) has_title: bool,
    /// Another live row holding the unique key the change wants.
    pub(super) holder: Option<Uuid>,
    /// The row has a `duplicate_key` claim.
    pub(super) claimed: bool,
    /// Circulation events name the entity as their stream (a copy).
    pub(super) has_events: bool,
}

impl Apply {
    async fn tombstone(&self, conn: &mut SqliteConnection, entity: Entity, id: Uuid) -> Result<Option<Stamp>> {
        let r: Option<(i64, i64)> = sqlx::query_as("SELECT hlc, site_no FROM tombstones WHERE entity = ? AND entity_id = ?")
            .bind(entity.as_str())
            .bind(id)
            .fetch_optional(&mut *conn)
            .await
            .map_err(db_err)?;
        r.map(|(hlc, no)| Ok(Stamp { hlc: hlc as u64, site_id: self.sites.id(no)? })).transpose()
    }

    /// Keeps a row version that a delete removed; the newest version wins.
    async fn keep_row(
        &mut self,
        conn: &mut SqliteConnection,
        entity: Entity,
        id: Uuid,
        stamp: Stamp,
        payload: &serde_json::Value,
    ) -> Result<()> {
        let done = sqlx::query(
            "INSERT INTO sync_conflicts (key, kind, entity, entity_id, hlc, site_id, payload, detected_at)
             VALUES (?, 'kept_row', ?, ?, ?, ?, ?, ?)
             ON CONFLICT (key) DO UPDATE SET hlc = excluded.hlc, site_id = excluded.site_id, payload = excluded.payload
             WHERE sync_conflicts.entity = excluded.entity
               AND (excluded.hlc, excluded.site_id) > (sync_conflicts.hlc, sync_conflicts.site_id)",
        )
        .bind(format!("row:{id}"))
        .bind(entity.as_str())
        .bind(id)
        .bind(stamp.hlc as i64)
        .bind(stamp.site_id)
        .bind(payload.to_string())
        .bind(&self.now)
        .execute(&mut *conn)
        .await
        .map_err(db_err)?;
        self.report.conflicts += done.rows_affected() as u32;
        Ok(())
    }

    /// What the rules need to know before an upsert, in one round trip
    /// (each query is a trip to SQLite's worker thread, which is most of the
    /// cost of applying a change).
    async fn known(&self, conn: &mut SqliteConnection, s: &Spec, c: &Change) -> Result<Known> {
        let key = s.unique.and_then(|col| c.payload.get(col)).and_then(|v| v.as_str());
        let holder = match s.unique {
            Some(col) => format!("(SELECT id FROM {} WHERE {col} = ?3 AND id <> ?1)", s.table),
            None => "NULL".into(),
        };
        let sql = format!(
            "SELECT (SELECT hlc FROM tombstones WHERE entity = ?5 AND entity_id = ?1) AS tomb_hlc,
                    (SELECT site_no FROM tombstones WHERE entity = ?5 AND entity_id = ?1) AS tomb_site,
                    (SELECT hlc FROM {table} WHERE id = ?1) AS cur_hlc,
                    (SELECT site_no FROM {table} WHERE id = ?1) AS cur_site,
                    (SELECT 1 FROM titles WHERE id = ?2) AS has_title,
                    {holder} AS holder,
                    (SELECT 1 FROM sync_conflicts WHERE key = ?4) AS claimed,
                    (SELECT 1 FROM circulation_events WHERE stream_id = ?1 LIMIT 1) AS has_events",
            table = s.table
        );
        let r = sqlx::query(AssertSqlSafe(sql))
            .bind(c.entity_id)
            .bind(payload_uuid(&c.payload, "title_id"))
            .bind(key)
            .bind(format!("key:{}", c.entity_id))
            .bind(c.entity.as_str())
            .fetch_one(&mut *conn)
            .await
            .map_err(db_err)?;
        let stamp = |h: &str, n: &str| -> Result<Option<Stamp>> {
            let hlc: Option<i64> = r.try_get(h).map_err(bad)?;
            let no: Option<i64> = r.try_get(n).map_err(bad)?;
            match (hlc, no) {
                (Some(hlc), Some(no)) => Ok(Some(Stamp { hlc: hlc as u64, site_id: self.sites.id(no)? })),
                _ => Ok(None),
            }
        };
        Ok(Known {
            tomb: stamp("tomb_hlc", "tomb_site")?,
            current: stamp("cur_hlc", "cur_site")?,
            has_title: r.try_get::<Option<i64>, _>("has_title").map_err(bad)?.is_some(),
            holder: r.try_get("holder").map_err(bad)?,
            claimed: r.try_get::<Option<i64>, _>("claimed").map_err(bad)?.is_some(),
            has_events: r.try_get::<Option<i64>, _>("has_events").map_err(bad)?.is_some(),
        })
    }

    pub(super) async fn upsert(&mut self, w: &mut WriteTx, c: &Change) -> Result<()> {
        let s = spec(c.entity);
        let stamp = c.stamp();
        let known = self.known(w.conn(), s, c).await?;
        let orphan_copy = c.entity == Entity::Copy && !known.has_title;
        let current = known.current;
        match merge::upsert(known.tomb, current, orphan_copy, stamp) {
            merge::Upsert::Unchanged => {
                self.report.unchanged += 1;
                return Ok(());
            }
            merge::Upsert::Keep => {
                // Deleted here, or its title was deleted while another
                // desk added this copy: kept for staff, not applied.
                self.keep_row(w.conn(), c.entity, c.entity_id, stamp, &c.payload).await?;
                self.report.kept += 1;
                return Ok(());
            }
            merge::Upsert::Apply { replaces } => {
                if replaces {
                    self.freeze(w.conn(), c.entity, c.entity_id).await?;
                }
            }
        }
        let mut payload = c.payload.clone();
        if let Some(col) = s.unique {
            self.settle_duplicate_key(w.conn(), s, col, c.entity_id, stamp, &mut payload, &known).await?;
        }
        let site_no = self.sites.no(w.conn(), c.site_id).await?;
        let names = s.names().collect::<Vec<_>>();
        let marks = vec!["?"; names.len()].join(", ");
        let sets = names.iter().skip(1).map(|c| format!("{c} = excluded.{c}")).collect::<Vec<_>>().join(", ");
        let sql = format!(
            "INSERT INTO {} ({}, hlc, site_no) VALUES ({marks}, ?, ?) ON CONFLICT (id) DO UPDATE SET {sets}, hlc = excluded.hlc, site_no = excluded.site_no",
            s.table,
            names.join(", ")
        );
        let mut args = payload_args(s, &payload)?;
        args.add(stamp.hlc as i64).map_err(bad)?;
        args.add(site_no).map_err(bad)?;
        sqlx::query_with(AssertSqlSafe(sql), args).execute(w.conn()).await.map_err(db_err)?;
        if c.entity == Entity::Copy && current.is_none() && known.has_events {
            // Events that arrived before the copy row (or a copy deleted and
            // kept elsewhere): its status comes from them.
            let titles: Vec<Uuid> = sqlx::query_scalar("SELECT DISTINCT title_id FROM circulation_events WHERE stream_id = ?")
                .bind(c.entity_id)
                .fetch_all(w.conn())
                .await
                .map_err(db_err)?;
            self.dirty.extend(titles);
        }
        self.report.applied += 1;
        Ok(())
    }

    pub(super) async fn delete(&mut self, w: &mut WriteTx, c: &Change) -> Result<()> {
        let s = spec(c.entity);
        let stamp = c.stamp();
        if merge::delete(self.tombstone(w.conn(), c.entity, c.entity_id).await?, None, stamp) == merge::Delete::Unchanged {
            self.report.unchanged += 1;
            return Ok(());
        }
        // The local tombstone or row is about to change.
        self.freeze(w.conn(), c.entity, c.entity_id).await?;
        let site_no = self.sites.no(w.conn(), c.site_id).await?;
        // Keyed by (entity, id): a delete sent under another entity leaves
        // its own tombstone and cannot freeze a row of this one.
        sqlx::query("INSERT OR REPLACE INTO tombstones (entity_id, entity, hlc, site_no) VALUES (?, ?, ?, ?)")
            .bind(c.entity_id)
            .bind(c.entity.as_str())
            .bind(stamp.hlc as i64)
            .bind(site_no)
            .execute(w.conn())
            .await
            .map_err(db_err)?;
        // A kept version older than the newest delete is just deleted.
        sqlx::query("DELETE FROM sync_conflicts WHERE key = ? AND entity = ? AND (hlc, site_id) < (?, ?)")
            .bind(format!("row:{}", c.entity_id))
            .bind(c.entity.as_str())
            .bind(stamp.hlc as i64)
            .bind(stamp.site_id)
            .execute(w.conn())
            .await
            .map_err(db_err)?;
        let row = sqlx::query(AssertSqlSafe(select_sql(s))).bind(c.entity_id).fetch_optional(w.conn()).await.map_err(db_err)?;
        let Some(row) = row else {
            self.report.applied += 1;
            return Ok(());
        };
        let (mut payload, current) = row_payload(s, &row)?;
        if merge::delete(None, Some(current), stamp) == (merge::Delete::Apply { keep_current: true }) {
            self.wanted(w.conn(), s, c.entity_id, &mut payload).await?;
            self.keep_row(w.conn(), c.entity, c.entity_id, current, &payload).await?;
        }
        match c.entity {
            Entity::Title => {
                // Copies another desk added meanwhile: kept, not lost.
                let copies: Vec<Uuid> = sqlx::query_scalar("SELECT id FROM copies WHERE title_id = ?")
                    .bind(c.entity_id)
                    .fetch_all(w.conn())
                    .await
                    .map_err(db_err)?;
                for copy in copies {
                    self.freeze(w.conn(), Entity::Copy, copy).await?;
                    let r = sqlx::query(AssertSqlSafe(select_sql(&COPIES))).bind(copy).fetch_one(w.conn()).await.map_err(db_err)?;
                    let (mut payload, copy_stamp) = row_payload(&COPIES, &r)?;
                    self.wanted(w.conn(), &COPIES, copy, &mut payload).await?;
                    self.keep_row(w.conn(), Entity::Copy, copy, copy_stamp, &payload).await?;
                    sqlx::query("DELETE FROM copies WHERE id = ?").bind(copy).execute(w.conn()).await.map_err(db_err)?;
                }
            }
            Entity::Member => {
                // As a local delete does: accounts and reviews are this desk's.
                sqlx::query("UPDATE accounts SET member_id = NULL WHERE member_id = ?")
                    .bind(c.entity_id)
                    .execute(w.conn())
                    .await
                    .map_err(db_err)?;
                sqlx::query("DELETE FROM reviews WHERE member_id = ?").bind(c.entity_id).execute(w.conn()).await.map_err(db_err)?;
            }
            _ => {}
        }
        let sql = format!("DELETE FROM {} WHERE id = ?", s.table);
        sqlx::query(AssertSqlSafe(sql)).bind(c.entity_id).execute(w.conn()).await.map_err(db_err)?;
        self.report.applied += 1;
        Ok(())
    }
}
