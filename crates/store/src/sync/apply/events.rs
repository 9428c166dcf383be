//! Circulation events: inserted once, projected in clock order, replayed
//! when an older one arrives; concurrent events and loans of deleted copies
//! are recorded as conflicts.

use super::Apply;
use crate::circulation::{NewEvent, project};
use crate::rows::parse_date;
use crate::sync::bad;
use crate::sync::wire::{EVENTS, Sites, payload_args, payload_uuid};
use crate::{WriteTx, db_err};
use shelfkeeper_domain::Result;
use shelfkeeper_domain::circulation::EventKind;
use shelfkeeper_domain::ids::{CopyId, EventId, HoldId, MemberId, TitleId};
use shelfkeeper_sync::{Change, Stamp, merge};
use sqlx::{Arguments, AssertSqlSafe, Row, SqliteConnection};
use uuid::Uuid;

impl Apply {
    pub(super) async fn event(&mut self, w: &mut WriteTx, c: &Change) -> Result<()> {
        let e = shelfkeeper_sync::schema::event_of(c.entity_id, &c.payload).map_err(bad)?;
        let stream = payload_uuid(&c.payload, "stream_id").ok_or_else(|| bad("event without stream"))?;
        let prev = payload_uuid(&c.payload, "prev_event_id");
        // In one round trip: known already? other events after the same
        // one on this copy? events of its title at or after its clock?
        // (The details are read only when there are any: rarely.)
        let (exists, siblings, newer): (Option<i64>, i64, i64) = sqlx::query_as(
            "SELECT (SELECT 1 FROM circulation_events WHERE id = ?1),
                    (SELECT count(*) FROM circulation_events WHERE stream_id = ?2 AND prev_event_id IS ?3 AND id <> ?1),
                    (SELECT count(*) FROM circulation_events WHERE title_id = ?4 AND hlc >= ?5 AND id <> ?1)",
        )
        .bind(c.entity_id)
        .bind(stream)
        .bind(prev)
        .bind(e.title_id.0)
        .bind(c.hlc as i64)
        .fetch_one(w.conn())
        .await
        .map_err(db_err)?;
        if exists.is_some() {
            self.report.unchanged += 1;
            return Ok(());
        }
        let site_no = self.sites.no(w.conn(), c.site_id).await?;
        let names = EVENTS.names().collect::<Vec<_>>();
        let sql = format!(
            "INSERT INTO circulation_events ({}, hlc, site_no) VALUES ({}, ?, ?)",
            names.join(", "),
            vec!["?"; names.len()].join(", ")
        );
        let mut args = payload_args(&EVENTS, &c.payload)?;
        args.add(c.hlc as i64).map_err(bad)?;
        args.add(site_no).map_err(bad)?;
        sqlx::query_with(AssertSqlSafe(sql), args).execute(w.conn()).await.map_err(db_err)?;
        self.report.applied += 1;

        if e.kind.is_copy_event() && siblings > 0 {
            // Siblings: events on this copy that followed the same event.
            let siblings: Vec<(Uuid, i64, i64)> =
                sqlx::query_as("SELECT id, hlc, site_no FROM circulation_events WHERE stream_id = ? AND prev_event_id IS ? AND id <> ?")
                    .bind(stream)
                    .bind(prev)
                    .bind(c.entity_id)
                    .fetch_all(w.conn())
                    .await
                    .map_err(db_err)?;
            for (other, hlc, no) in siblings {
                let later = std::cmp::max(c.stamp(), Stamp { hlc: hlc as u64, site_id: self.sites.id(no)? });
                self.report.conflicts += record_concurrent(w.conn(), stream, prev, other, c.entity_id, later, &self.now).await?;
            }
        }

        let title = e.title_id.0;
        if self.dirty.contains(&title) {
            return Ok(());
        }
        if newer == 0 {
            return project(w.conn(), &e).await;
        }
        // Projected now only if it is the newest event of its title.
        let newer: Vec<(i64, i64, Uuid)> =
            sqlx::query_as("SELECT hlc, site_no, id FROM circulation_events WHERE title_id = ? AND hlc >= ? AND id <> ?")
                .bind(title)
                .bind(c.hlc as i64)
                .bind(c.entity_id)
                .fetch_all(w.conn())
                .await
                .map_err(db_err)?;
        let mut others = Vec::with_capacity(newer.len());
        for (hlc, no, id) in newer {
            others.push((Stamp { hlc: hlc as u64, site_id: self.sites.id(no)? }, id));
        }
        let in_order = merge::place_event((c.stamp(), c.entity_id), others) == merge::Placement::Project;
        if in_order {
            project(w.conn(), &e).await
        } else {
            self.dirty.insert(title);
            Ok(())
        }
    }
}

/// Records that events `a` and `b` of copy `stream` both follow `prev`
/// (made concurrently); `later` is the newer of their stamps. The key is
/// the same whichever arrives first. Returns 1 when newly recorded.
pub(in crate::sync) async fn record_concurrent(
    conn: &mut SqliteConnection,
    stream: Uuid,
    prev: Option<Uuid>,
    a: Uuid,
    b: Uuid,
    later: Stamp,
    now: &str,
) -> Result<u32> {
    let (a, b, key) = merge::concurrent_events_key(a, b);
    let done = sqlx::query(
        "INSERT INTO sync_conflicts (key, kind, entity, entity_id, event_a, event_b, hlc, site_id, detail, detected_at)
         VALUES (?, 'concurrent_events', 'copy', ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
    )
    .bind(key)
    .bind(stream)
    .bind(a)
    .bind(b)
    .bind(later.hlc as i64)
    .bind(later.site_id)
    .bind(prev.map(|p| format!("both follow event {p}")).unwrap_or_else(|| "both are the copy's first event".into()))
    .bind(now)
    .execute(&mut *conn)
    .await
    .map_err(db_err)?;
    Ok(done.rows_affected() as u32)
}

/// A copy deleted at one desk while another lent it: the loan is open on a
/// copy that is gone. A conflict says so exactly while it is (open loans
/// are few; this runs after every page). Returns how many were new.
pub(super) async fn settle_loans_of_deleted_copies(conn: &mut SqliteConnection, now: &str) -> Result<u32> {
    let added = sqlx::query(
        "INSERT INTO sync_conflicts (key, kind, entity, entity_id, event_a, hlc, site_id, detail, detected_at)
         SELECT 'loan:' || lower(hex(l.id)), 'loan_of_deleted_copy', 'copy', l.copy_id, l.id, e.hlc, s.id,
                'lent while it was deleted elsewhere', ?
         FROM loans l
         JOIN tombstones t ON t.entity = 'copy' AND t.entity_id = l.copy_id
         JOIN circulation_events e ON e.id = l.id
         JOIN sites s ON s.no = e.site_no
         WHERE l.returned_at IS NULL AND l.lost_at IS NULL
         ON CONFLICT DO NOTHING",
    )
    .bind(now)
    .execute(&mut *conn)
    .await
    .map_err(db_err)?;
    sqlx::query(
        "DELETE FROM sync_conflicts WHERE kind = 'loan_of_deleted_copy' AND NOT EXISTS
            (SELECT 1 FROM loans l JOIN tombstones t ON t.entity = 'copy' AND t.entity_id = l.copy_id
             WHERE l.id = sync_conflicts.event_a AND l.returned_at IS NULL AND l.lost_at IS NULL)",
    )
    .execute(&mut *conn)
    .await
    .map_err(db_err)?;
    Ok(added.rows_affected() as u32)
}

/// Rebuilds a title's loans, holds and copy statuses from its events, in
/// `(hlc, site id, event id)` order (events of one transaction share a
/// stamp; their UUIDv7 ids are in the order they were made).
pub(in crate::sync) async fn replay_title(conn: &mut SqliteConnection, _sites: &Sites, title: Uuid) -> Result<()> {
    sqlx::query("DELETE FROM loans WHERE title_id = ?").bind(title).execute(&mut *conn).await.map_err(db_err)?;
    sqlx::query("DELETE FROM holds WHERE title_id = ?").bind(title).execute(&mut *conn).await.map_err(db_err)?;
    sqlx::query(
        "UPDATE copies SET status = 'available', last_event_id = NULL
         WHERE id IN (SELECT copy_id FROM circulation_events WHERE title_id = ? AND copy_id IS NOT NULL)",
    )
    .bind(title)
    .execute(&mut *conn)
    .await
    .map_err(db_err)?;
    let rows = sqlx::query(
        "SELECT e.id, e.kind, e.title_id, e.copy_id, e.member_id, e.hold_id, e.due_on, e.occurred_at
         FROM circulation_events e JOIN sites s ON s.no = e.site_no WHERE e.title_id = ? ORDER BY e.hlc, s.id, e.id",
    )
    .bind(title)
    .fetch_all(&mut *conn)
    .await
    .map_err(db_err)?;
    for r in rows {
        let kind: String = r.try_get("kind").map_err(bad)?;
        let due: Option<String> = r.try_get("due_on").map_err(bad)?;
        let at: String = r.try_get("occurred_at").map_err(bad)?;
        let e = NewEvent {
            id: EventId(r.try_get("id").map_err(bad)?),
            kind: EventKind::parse(&kind).ok_or_else(|| bad(format!("unknown event kind '{kind}'")))?,
            title_id: TitleId(r.try_get("title_id").map_err(bad)?),
            copy_id: r.try_get::<Option<Uuid>, _>("copy_id").map_err(bad)?.map(CopyId),
            member_id: r.try_get::<Option<Uuid>, _>("member_id").map_err(bad)?.map(MemberId),
            hold_id: r.try_get::<Option<Uuid>, _>("hold_id").map_err(bad)?.map(HoldId),
            due_on: due.as_deref().map(parse_date).transpose()?,
            occurred_at: crate::rows::parse_ts(&at)?,
        };
        project(&mut *conn, &e).await?;
    }
    Ok(())
}
