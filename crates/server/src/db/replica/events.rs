//! Circulation events pushed by desks: stored once, projected in clock
//! order with the domain's projection (the title is replayed when an older
//! event arrives), concurrent events on one copy recorded as conflicts.

use super::rows::{count, payload_id};
use super::{Applied, Fault, Replica, bad, stamp_of};
use crate::db::{Db, WriteTx};
use chrono::{DateTime, NaiveDate};
use shelfkeeper_domain::circulation::{Event, EventKind};
use shelfkeeper_domain::ids::{CopyId, EventId, HoldId, MemberId, TitleId};
use shelfkeeper_sync::{Change, Stamp, merge};
use sqlx::Row;
use uuid::Uuid;

fn id_of(s: &str) -> Applied<Uuid> {
    Uuid::parse_str(s).map_err(|e| Fault::Db(sqlx::Error::Decode(Box::new(e))))
}

impl Db {
    pub(super) async fn apply_event(&self, tx: &mut WriteTx, r: &mut Replica, c: &Change) -> Applied<()> {
        let e = shelfkeeper_sync::schema::event_of(c.entity_id, &c.payload).map_err(Fault::Change)?;
        let id = c.entity_id.to_string();
        let lib = r.lib.clone();
        let known = sqlx::query("SELECT library_id FROM circulation_events WHERE id = $1").bind(&id).fetch_optional(&mut **tx).await?;
        if let Some(known) = known {
            let owner: String = known.try_get("library_id")?;
            return if owner == lib { Ok(()) } else { bad(format!("event {id} belongs to another library")) };
        }
        // Every row it names is this library's (or unknown here): an event
        // cannot reach into another library's copies, loans or holds.
        let foreign = sqlx::query(
            "SELECT (SELECT COUNT(*) FROM copies WHERE id = $2 AND library_id <> $1) \
                  + (SELECT COUNT(*) FROM titles WHERE id = $3 AND library_id <> $1) \
                  + (SELECT COUNT(*) FROM members WHERE id = $4 AND library_id <> $1) \
                  + (SELECT COUNT(*) FROM holds WHERE id = $5 AND library_id <> $1) AS n",
        )
        .bind(&lib)
        .bind(e.copy_id.map(|c| c.to_string()))
        .bind(e.title_id.to_string())
        .bind(e.member_id.map(|m| m.to_string()))
        .bind(e.hold_id.map(|h| h.to_string()))
        .fetch_one(&mut **tx)
        .await?;
        if count(&foreign, "n")? > 0 {
            return bad(format!("event {id} names a copy, title, member or hold of another library"));
        }
        let prev = payload_id(&c.payload, "prev_event_id").map(|u| u.to_string());
        sqlx::query(
            "INSERT INTO circulation_events (id, library_id, kind, copy_id, title_id, member_id, due_on, prev_event_id, at, hlc, site, hold_id) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .bind(&id)
        .bind(&lib)
        .bind(e.kind.as_str())
        .bind(e.copy_id.map(|c| c.to_string()))
        .bind(e.title_id.to_string())
        .bind(e.member_id.map(|m| m.to_string()))
        .bind(e.due_on.map(|d| d.to_string()))
        .bind(prev.clone())
        .bind(e.occurred_at.timestamp_millis())
        .bind(c.hlc as i64)
        .bind(c.site_id.to_string())
        .bind(e.hold_id.map(|h| h.to_string()))
        .execute(&mut **tx)
        .await?;

        if e.kind.is_copy_event()
            && let Some(copy) = e.copy_id
        {
            self.note_concurrent(tx, r, c, &copy.to_string(), prev.as_deref()).await?;
        }
        let title = e.title_id.0;
        if r.dirty.contains(&title) {
            return Ok(());
        }
        let newer =
            sqlx::query("SELECT id, hlc, site FROM circulation_events WHERE library_id = $1 AND title_id = $2 AND hlc >= $3 AND id <> $4")
                .bind(&lib)
                .bind(title.to_string())
                .bind(c.hlc as i64)
                .bind(&id)
                .fetch_all(&mut **tx)
                .await?;
        let mut others = Vec::with_capacity(newer.len());
        for row in newer {
            let stamp =
                stamp_of(row.try_get("hlc")?, row.try_get("site")?)?.ok_or_else(|| Fault::Change("an event without a stamp".into()))?;
            others.push((stamp, id_of(&row.try_get::<String, _>("id")?)?));
        }
        match merge::place_event((c.stamp(), c.entity_id), others) {
            merge::Placement::Project => Ok(self.project(tx, &lib, &e, c.hlc as i64).await?),
            merge::Placement::Replay => {
                r.dirty.insert(title);
                Ok(())
            }
        }
    }

    /// Events on one copy that follow the same event were made without
    /// seeing each other: recorded as a `concurrent_events` conflict.
    async fn note_concurrent(&self, tx: &mut WriteTx, r: &Replica, c: &Change, copy: &str, prev: Option<&str>) -> Applied<()> {
        let siblings = sqlx::query(
            "SELECT id, hlc, site FROM circulation_events WHERE library_id = $1 AND copy_id = $2 \
             AND (prev_event_id = $3 OR (prev_event_id IS NULL AND $4 = 1)) AND id <> $5",
        )
        .bind(&r.lib)
        .bind(copy)
        .bind(prev)
        .bind(i64::from(prev.is_none()))
        .bind(c.entity_id.to_string())
        .fetch_all(&mut **tx)
        .await?;
        for row in siblings {
            let other = id_of(&row.try_get::<String, _>("id")?)?;
            let other_stamp = stamp_of(row.try_get("hlc")?, row.try_get("site")?)?.unwrap_or(c.stamp());
            let later: Stamp = std::cmp::max(c.stamp(), other_stamp);
            let (a, b, key) = merge::concurrent_events_key(other, c.entity_id);
            let exists = sqlx::query("SELECT COUNT(*) AS n FROM replica_conflicts WHERE library_id = $1 AND key = $2")
                .bind(&r.lib)
                .bind(&key)
                .fetch_one(&mut **tx)
                .await?;
            if count(&exists, "n")? > 0 {
                continue;
            }
            sqlx::query(
                "INSERT INTO replica_conflicts (library_id, key, kind, entity, entity_id, hlc, site, payload, detail, detected_at) \
                 VALUES ($1, $2, 'concurrent_events', 'copy', $3, $4, $5, $6, $7, $8)",
            )
            .bind(&r.lib)
            .bind(key)
            .bind(copy)
            .bind(later.hlc as i64)
            .bind(later.site_id.to_string())
            .bind(serde_json::json!({ "event_a": a, "event_b": b }).to_string())
            .bind(prev.map(|p| format!("both follow event {p}")).unwrap_or_else(|| "both are the copy's first event".into()))
            .bind(r.now)
            .execute(&mut **tx)
            .await?;
        }
        Ok(())
    }

    /// Rebuilds a title's loans, holds and copy statuses from its events in
    /// `merge::event_order`. Holds no event names (placed before events
    /// carried their hold) are left as they are.
    pub(super) async fn replay_title(&self, tx: &mut WriteTx, lib: &str, title: Uuid) -> Applied<()> {
        let title = title.to_string();
        sqlx::query("DELETE FROM loans WHERE library_id = $1 AND title_id = $2").bind(lib).bind(&title).execute(&mut **tx).await?;
        sqlx::query(
            "DELETE FROM holds WHERE library_id = $1 AND title_id = $2 AND id IN \
             (SELECT hold_id FROM circulation_events WHERE library_id = $1 AND title_id = $2 AND hold_id IS NOT NULL)",
        )
        .bind(lib)
        .bind(&title)
        .execute(&mut **tx)
        .await?;
        sqlx::query(
            "UPDATE copies SET status = 'available' WHERE library_id = $1 AND id IN \
             (SELECT copy_id FROM circulation_events WHERE library_id = $1 AND title_id = $2 AND copy_id IS NOT NULL)",
        )
        .bind(lib)
        .bind(&title)
        .execute(&mut **tx)
        .await?;
        let rows = sqlx::query(
            "SELECT id, kind, title_id, copy_id, member_id, hold_id, due_on, at, hlc, site FROM circulation_events \
             WHERE library_id = $1 AND title_id = $2",
        )
        .bind(lib)
        .bind(&title)
        .fetch_all(&mut **tx)
        .await?;
        let mut events = Vec::with_capacity(rows.len());
        for row in rows {
            let id = id_of(&row.try_get::<String, _>("id")?)?;
            let stamp =
                stamp_of(row.try_get("hlc")?, row.try_get("site")?)?.ok_or_else(|| Fault::Change("an event without a stamp".into()))?;
            let opt = |col: &str| -> Applied<Option<Uuid>> { row.try_get::<Option<String>, _>(col)?.as_deref().map(id_of).transpose() };
            let kind: String = row.try_get("kind")?;
            let Some(kind) = EventKind::parse(&kind) else { continue };
            let due: Option<String> = row.try_get("due_on")?;
            let e = Event {
                id: EventId(id),
                kind,
                title_id: TitleId(id_of(&row.try_get::<String, _>("title_id")?)?),
                copy_id: opt("copy_id")?.map(CopyId),
                member_id: opt("member_id")?.map(MemberId),
                hold_id: opt("hold_id")?.map(HoldId),
                due_on: due.and_then(|d| NaiveDate::parse_from_str(&d, "%Y-%m-%d").ok()),
                occurred_at: DateTime::from_timestamp_millis(row.try_get("at")?).unwrap_or_default(),
            };
            events.push(((stamp, id), e));
        }
        events.sort_by(|a, b| merge::event_order(a.0, b.0));
        for ((stamp, _), e) in events {
            self.project(tx, lib, &e, stamp.hlc as i64).await?;
        }
        Ok(())
    }
}
