//! The replicated state as canonical text, for comparing replicas.

use super::wire::{COPIES, EVENTS, MEMBER_TYPES, MEMBERS, RESOLUTIONS, TITLES};
use crate::{Store, db_err};
use shelfkeeper_domain::Result;
use shelfkeeper_sync::Entity;
use sqlx::AssertSqlSafe;

impl Store {
    /// The replicated state in a canonical text form, the same on every
    /// replica that has seen the same changes: rows by id, sites by id (not
    /// by local number), no local sequence numbers, no local times. Sync
    /// tests compare replicas with it.
    pub async fn sync_dump(&self) -> Result<String> {
        let mut conn = self.write.acquire().await.map_err(db_err)?;
        let q = |cols: &[&str]| cols.iter().map(|c| format!("quote({c})")).collect::<Vec<_>>().join(" || '|' || ");
        let mut sections: Vec<(String, String)> = Vec::new();
        for s in [&TITLES, &COPIES, &MEMBERS, &MEMBER_TYPES, &EVENTS, &RESOLUTIONS] {
            let mut cols: Vec<String> = s.names().map(|c| format!("t.{c}")).collect();
            cols.extend(["t.hlc".to_string(), "s.id".to_string()]);
            match s.entity {
                Entity::Title => cols.extend(["t.copy_count".into(), "t.available_count".into()]),
                Entity::Copy => cols.extend(["t.status".into(), "t.last_event_id".into()]),
                _ => {}
            }
            let cols: Vec<&str> = cols.iter().map(String::as_str).collect();
            sections
                .push((s.table.into(), format!("SELECT {} FROM {} t JOIN sites s ON s.no = t.site_no ORDER BY t.id", q(&cols), s.table)));
        }
        sections.push((
            "loans".into(),
            format!(
                "SELECT {} FROM loans ORDER BY id",
                q(&["id", "copy_id", "title_id", "member_id", "out_at", "due_on", "renewals", "returned_at", "lost_at", "superseded_by"])
            ),
        ));
        sections.push((
            "holds (queue order)".into(),
            format!(
                "SELECT {} FROM holds ORDER BY title_id, seq",
                q(&["id", "title_id", "member_id", "placed_at", "status", "copy_id", "expires_on", "closed_at"])
            ),
        ));
        sections.push((
            "tombstones".into(),
            format!("SELECT {} FROM tombstones t JOIN sites s ON s.no = t.site_no WHERE t.entity IN ('title', 'copy', 'member', 'member_type', 'conflict_resolution') ORDER BY t.entity_id, t.entity", q(&["t.entity_id", "t.entity", "t.hlc", "s.id"])),
        ));
        sections.push((
            "title_terms".into(),
            format!(
                "SELECT {} FROM title_terms tt JOIN titles t ON t.seq = tt.title_seq ORDER BY t.id, tt.kind, tt.value",
                q(&["t.id", "tt.kind", "tt.value"])
            ),
        ));
        sections.push((
            "sync_conflicts".into(),
            format!(
                "SELECT {} FROM sync_conflicts ORDER BY key",
                q(&["key", "kind", "entity", "entity_id", "event_a", "event_b", "hlc", "site_id", "payload", "detail"])
            ),
        ));
        let mut out = String::new();
        for (name, sql) in sections {
            let rows: Vec<String> = sqlx::query_scalar(AssertSqlSafe(sql)).fetch_all(&mut *conn).await.map_err(db_err)?;
            out.push_str(&format!("## {name} ({} rows)\n", rows.len()));
            for r in rows {
                out.push_str(&r);
                out.push('\n');
            }
        }
        Ok(out)
    }
}
