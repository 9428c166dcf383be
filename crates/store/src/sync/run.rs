//! The driver: one sync run over a [`SyncTransport`], pushing the outbox
//! and pulling until done, with progress.

use super::snapshot::SnapshotStream;
use crate::Store;
use serde::Serialize;
use shelfkeeper_domain::Error;
use shelfkeeper_sync::{PROTOCOL_VERSION, PullRequest, PullResponse, PushRequest, PushResponse, Rejected};

/// How a desk reaches the server: the HTTP client in the desktop, an
/// in-process relay in tests. An `Err` is a failed exchange (no answer, or
/// an answer that did not arrive); the driver stops and the next run
/// starts over, which is always safe.
pub trait SyncTransport {
    fn push(&self, req: PushRequest) -> impl Future<Output = std::result::Result<PushResponse, String>> + Send;
    fn pull(&self, req: PullRequest) -> impl Future<Output = std::result::Result<PullResponse, String>> + Send;
    /// The library's snapshot for a first sync (`None`: the server has
    /// none to give; the feed is pulled page by page instead).
    fn snapshot(&self) -> impl Future<Output = std::result::Result<Option<SnapshotStream>, String>> + Send {
        async { Ok(None) }
    }
    /// Whether cover images travel over this transport
    /// ([`SyncTransport::put_cover`], [`SyncTransport::get_cover`]).
    fn shares_covers(&self) -> bool {
        false
    }
    /// Uploads cover blob `id`. `Ok(None)`: the server has it;
    /// `Ok(Some(reason))`: it will not take it (not offered again).
    fn put_cover(&self, _id: uuid::Uuid, _bytes: Vec<u8>) -> impl Future<Output = std::result::Result<Option<String>, String>> + Send {
        async { Ok(Some("covers do not travel over this transport".into())) }
    }
    /// Fetches cover blob `id` (`None`: the server does not have it yet).
    fn get_cover(&self, _id: uuid::Uuid) -> impl Future<Output = std::result::Result<Option<Vec<u8>>, String>> + Send {
        async { Ok(None) }
    }
}

/// What went wrong in a sync run.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error(transparent)]
    Store(#[from] Error),
    #[error("the sync server could not be reached: {0}")]
    Transport(String),
    /// The server refused changes. `ClockSkew` passes with time; the others
    /// need a person (or a newer program).
    #[error("the sync server refused {} change(s): {}", .0.len(), .0.first().map(|r| r.reason.as_str()).unwrap_or(""))]
    Rejected(Vec<Rejected>),
    #[error("the sync server answered out of protocol: {0}")]
    Protocol(String),
}

/// What a sync run did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct SyncRun {
    /// Changes the server accepted.
    pub pushed: u32,
    /// Changes received (applied or already known).
    pub pulled: u32,
    pub applied: u32,
    pub conflicts: u32,
    pub clock_ahead: u32,
    #[ts(type = "number")]
    pub cursor: u64,
}

/// How far a sync run is, for a progress bar: `done` of `total` changes
/// in the current phase (`total` is an estimate: the outbox's size before
/// pushing, the server's newest sequence before pulling).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct SyncProgress {
    pub phase: SyncPhase,
    #[ts(type = "number")]
    pub done: u64,
    #[ts(type = "number")]
    pub total: u64,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum SyncPhase {
    #[default]
    Push,
    Pull,
}

impl Store {
    /// One sync: push the whole outbox, then pull until the server has
    /// nothing newer, in pages of `page` changes. Every step is safe to cut
    /// short: acknowledged pages are gone from the outbox, applied pages
    /// moved the cursor, and anything else is simply done again next time.
    pub async fn sync_once(&self, transport: &impl SyncTransport, page: u32) -> std::result::Result<SyncRun, SyncError> {
        self.sync_with_progress(transport, page, &|_| true).await
    }

    /// [`Store::sync_once`], telling `progress` after each page; when it
    /// answers `false` the run stops there with [`Error::Cancelled`] (what
    /// was done stays done).
    pub async fn sync_with_progress(
        &self,
        transport: &impl SyncTransport,
        page: u32,
        progress: &(dyn Fn(SyncProgress) -> bool + Sync),
    ) -> std::result::Result<SyncRun, SyncError> {
        let mut run = SyncRun::default();
        // Blobs first, so a desk that pulls a title can fetch its cover.
        if transport.shares_covers() {
            self.send_covers(transport).await?;
        }
        let outbox = self.sync_status().await?.pending_changes.max(0) as u64;
        loop {
            let out = self.outbox_page(0, page).await?;
            if out.changes.is_empty() && out.through_seq == 0 {
                break;
            }
            let req = PushRequest { protocol: PROTOCOL_VERSION, site_id: self.site_id.0, changes: out.changes };
            let resp = transport.push(req.clone()).await.map_err(SyncError::Transport)?;
            if !resp.rejected.is_empty() {
                // Nothing of the page is acknowledged: what the server took
                // it has, and takes again as a no-op next time.
                return Err(SyncError::Rejected(resp.rejected));
            }
            if !resp.all_accepted(&req) {
                return Err(SyncError::Protocol("a push was not answered for every change".into()));
            }
            run.pushed += req.changes.len() as u32;
            self.ack_pushed(out.through_seq).await?;
            // Several edits of one row go as one change, so `pushed` can
            // stay below the outbox's count; the bar ends full anyway.
            let done = run.pushed as u64;
            if !progress(SyncProgress { phase: SyncPhase::Push, done, total: outbox.max(done) }) {
                return Err(SyncError::Store(Error::Cancelled));
            }
            if !out.more {
                break;
            }
        }
        // A first sync loads the library's snapshot in bulk, then pulls
        // what came after it.
        if self.sync_cursor().await? == 0
            && self.is_fresh_replica().await?
            && let Some(snap) = transport.snapshot().await.map_err(SyncError::Transport)?
            && let Some(report) = self.load_snapshot(snap, progress).await?
        {
            run.pulled += report.applied + report.unchanged + report.kept + report.quarantined;
            run.applied += report.applied;
            run.conflicts += report.conflicts + report.quarantined;
            run.clock_ahead += report.clock_ahead;
            run.cursor = report.cursor;
        }
        let start = self.sync_cursor().await?;
        loop {
            let req = PullRequest { protocol: PROTOCOL_VERSION, after: self.sync_cursor().await?, limit: page };
            let resp = transport.pull(req.clone()).await.map_err(SyncError::Transport)?;
            if resp.changes.iter().any(|c| c.server_seq <= req.after) || resp.changes.windows(2).any(|w| w[0].server_seq >= w[1].server_seq)
            {
                return Err(SyncError::Protocol("a pulled page is not in ascending order after the cursor".into()));
            }
            let report = self.apply_remote(&resp.changes, resp.cursor_after(&req)).await?;
            run.pulled += resp.changes.len() as u32;
            run.applied += report.applied;
            // A quarantined change is kept as a conflict for staff.
            run.conflicts += report.conflicts + report.quarantined;
            run.clock_ahead += report.clock_ahead;
            run.cursor = report.cursor;
            let total = resp.high_water.saturating_sub(start);
            let done = report.cursor.saturating_sub(start).min(total);
            if !resp.changes.is_empty() && !progress(SyncProgress { phase: SyncPhase::Pull, done, total }) {
                return Err(SyncError::Store(Error::Cancelled));
            }
            if !resp.more || resp.changes.is_empty() {
                break;
            }
        }
        if transport.shares_covers() {
            self.fetch_covers(transport).await?;
        }
        Ok(run)
    }
}
