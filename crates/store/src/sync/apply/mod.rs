//! Applying a page pulled from the server (the rules are in the module
//! documentation of `sync`). One change at a time, each in a savepoint:
//! rows ([`rows`]), the unique keys they claim ([`claims`]) and circulation
//! events ([`events`]).

mod claims;
mod events;
mod rows;

use super::bad;
use super::settings::{CURSOR_KEY, read_cursor};
use super::wire::{Sites, current_change};
use crate::{Store, WriteTx, db_err};
use events::settle_loans_of_deleted_copies;
pub(super) use events::{record_concurrent, replay_title};
use serde::Serialize;
use shelfkeeper_domain::{Error, Result};
use shelfkeeper_sync::{Entity, Op, Sequenced, hlc};
use sqlx::SqliteConnection;
use std::collections::BTreeSet;
use uuid::Uuid;

/// What applying a page did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct ApplyReport {
    /// Changes newer than the row they met (or new rows and events).
    pub applied: u32,
    /// Changes already known or older than what this replica has.
    pub unchanged: u32,
    /// Changes not applied and kept for staff (edits of deleted rows).
    pub kept: u32,
    /// Conflicts recorded by this page.
    pub conflicts: u32,
    /// Changes stamped more than the allowed drift ahead of this machine's
    /// clock: applied (the server accepted them), but flagged — this
    /// machine's clock is probably behind.
    pub clock_ahead: u32,
    /// Titles whose loans and holds were replayed from their events.
    pub replayed_titles: u32,
    /// Changes this desk could not apply, kept as `quarantined` conflicts
    /// (the rest of the page applied and the cursor moved on).
    pub quarantined: u32,
    /// The cursor after the page.
    #[ts(type = "number")]
    pub cursor: u64,
}

impl Store {
    /// Applies a page pulled from the server and moves the cursor to
    /// `new_cursor` (never backwards), in one transaction. Changes at or
    /// below the stored cursor were applied before and are skipped; applying
    /// any change twice changes nothing anyway.
    pub async fn apply_remote(&self, page: &[Sequenced], new_cursor: u64) -> Result<ApplyReport> {
        let mut w = self.write_tx().await?;
        sqlx::query("UPDATE clock SET origin = 1").execute(w.conn()).await.map_err(db_err)?;
        let cursor = read_cursor(w.conn()).await?;
        let mut report = self.apply_changes(&mut w, page, cursor).await?;
        let cursor = cursor.max(new_cursor);
        store_cursor(w.conn(), cursor).await?;
        report.cursor = cursor;
        w.commit().await?;
        Ok(report)
    }

    /// Applies the changes after `cursor` of `page` inside `w` (with
    /// `clock.origin = 1`): each in a savepoint, quarantined when it does
    /// not fit; then claims settled, dirty titles replayed, loans of
    /// deleted copies recorded, and the clock moved past every stamp. The
    /// caller stores the cursor and commits.
    pub(super) async fn apply_changes(&self, w: &mut WriteTx, page: &[Sequenced], cursor: u64) -> Result<ApplyReport> {
        let sites = Sites::load(w.conn()).await?;
        let mut a = Apply { local_site: self.site_id.0, sites, dirty: BTreeSet::new(), report: ApplyReport::default(), now: w.now_text() };
        let now_ms = w.now.timestamp_millis().max(0) as u64;
        let mut max_hlc = 0u64;
        for s in page.iter().filter(|s| s.server_seq > cursor) {
            let c = &s.change;
            if let Err(r) = c.check_shape() {
                a.report.quarantined += quarantine(w.conn(), s, &r.reason, &a.now).await?;
                continue;
            }
            // Each change in a savepoint: one that fails on this desk's
            // tables is undone alone and quarantined; the page goes on.
            sqlx::query("SAVEPOINT apply_change").execute(w.conn()).await.map_err(db_err)?;
            let report = a.report.clone();
            let applied = match c.op {
                Op::Event => a.event(w, c).await,
                Op::Upsert => a.upsert(w, c).await,
                Op::Delete => a.delete(w, c).await,
            };
            match applied {
                Ok(()) => {
                    sqlx::query("RELEASE apply_change").execute(w.conn()).await.map_err(db_err)?;
                    if hlc::check_drift(c.hlc, now_ms).is_err() {
                        a.report.clock_ahead += 1;
                    }
                    max_hlc = max_hlc.max(c.hlc);
                }
                Err(e) if is_about_the_change(&e) => {
                    sqlx::query("ROLLBACK TO apply_change").execute(w.conn()).await.map_err(db_err)?;
                    sqlx::query("RELEASE apply_change").execute(w.conn()).await.map_err(db_err)?;
                    // Undone: what the change did to the page's state too.
                    a.report = report;
                    a.sites = Sites::load(w.conn()).await?;
                    a.report.quarantined += quarantine(w.conn(), s, &e.to_string(), &a.now).await?;
                }
                Err(e) => return Err(e),
            }
        }
        a.settle_claims(w.conn()).await?;
        for title in std::mem::take(&mut a.dirty) {
            replay_title(w.conn(), &a.sites, title).await?;
            a.report.replayed_titles += 1;
        }
        a.report.conflicts += settle_loans_of_deleted_copies(w.conn(), &a.now).await?;
        // The receive rule: the next local stamp is above everything seen.
        sqlx::query("UPDATE clock SET hlc = max(hlc, ?)").bind(max_hlc as i64).execute(w.conn()).await.map_err(db_err)?;
        Ok(a.report)
    }
}

/// Stores the cursor (the caller never moves it back).
pub(super) async fn store_cursor(conn: &mut SqliteConnection, cursor: u64) -> Result<()> {
    sqlx::query("INSERT INTO store_meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value")
        .bind(CURSOR_KEY)
        .bind(cursor.to_string())
        .execute(&mut *conn)
        .await
        .map_err(db_err)?;
    Ok(())
}

/// One page being applied.
struct Apply {
    local_site: Uuid,
    sites: Sites,
    /// Titles whose projections must be replayed before commit.
    dirty: BTreeSet<Uuid>,
    report: ApplyReport,
    now: String,
}

impl Apply {
    /// Before a received change overwrites or deletes an entity: local
    /// changes of it not pushed yet keep the local version.
    async fn freeze(&self, conn: &mut SqliteConnection, entity: Entity, id: Uuid) -> Result<()> {
        let pending: Option<i64> = sqlx::query_scalar("SELECT seq FROM change_log WHERE entity_id = ? AND payload IS NULL LIMIT 1")
            .bind(id)
            .fetch_optional(&mut *conn)
            .await
            .map_err(db_err)?;
        if pending.is_none() {
            return Ok(());
        }
        let Some(change) = current_change(conn, &self.sites, entity, id).await? else { return Ok(()) };
        if change.site_id != self.local_site {
            return Ok(());
        }
        let text = serde_json::to_string(&change).map_err(bad)?;
        sqlx::query("UPDATE change_log SET payload = ? WHERE entity_id = ? AND payload IS NULL")
            .bind(text)
            .bind(id)
            .execute(&mut *conn)
            .await
            .map_err(db_err)?;
        Ok(())
    }
}

/// A failure that is about the change itself (it does not fit this desk's
/// tables or rules), not about the machine: those quarantine the change.
/// A busy or failing disk, or running out of memory, fail the page instead
/// (nothing is applied, the cursor stays, the next run tries again).
fn is_about_the_change(e: &Error) -> bool {
    match e {
        Error::StoreBusy => false,
        Error::Storage(msg) => !["disk I/O", "database or disk is full", "out of memory", "interrupted", "readonly", "unable to open"]
            .iter()
            .any(|m| msg.contains(m)),
        _ => true,
    }
}

/// Keeps a change this desk cannot apply, verbatim, as a conflict of kind
/// `quarantined` (the reason as its detail). Every desk that pulls it finds
/// the same one (keyed by the change id), so a resolution covers it
/// everywhere. Returns 1 when it is newly kept.
async fn quarantine(conn: &mut SqliteConnection, s: &Sequenced, reason: &str, now: &str) -> Result<u32> {
    let c = &s.change;
    let change = serde_json::to_string(c).map_err(bad)?;
    let done = sqlx::query(
        "INSERT INTO sync_conflicts (key, kind, entity, entity_id, hlc, site_id, payload, detail, detected_at)
         VALUES (?, 'quarantined', ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (key) DO NOTHING",
    )
    .bind(format!("quarantined:{}", c.change_id))
    .bind(c.entity.as_str())
    .bind(c.entity_id)
    .bind(c.hlc as i64)
    .bind(c.site_id)
    .bind(change)
    .bind(format!("server sequence {}: {reason}", s.server_seq))
    .bind(now)
    .execute(&mut *conn)
    .await
    .map_err(db_err)?;
    Ok(done.rows_affected() as u32)
}
