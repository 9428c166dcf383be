//! A first sync from a snapshot (`shelfkeeper_sync::snapshot`): the
//! library's feed compacted by the server, loaded in one transaction.
//!
//! On a store that holds nothing yet, most changes of a compacted feed
//! meet no rule: a row's only version, no tombstone, no other row wanting
//! its barcode or card, a copy whose title is loaded. Those are written in
//! multi-row inserts with the triggers standing aside (bulk mode, as
//! `generate` does); their loans, holds and copy statuses are projected in
//! memory with the domain's projection ([`project`]); the search index,
//! terms and counters are built set-wise afterwards. Everything else —
//! deletes, conflict resolutions, member types, a second row wanting a key,
//! a copy of a title not loaded, a change this desk cannot read — goes
//! through the ordinary apply path afterwards, in feed order, so every
//! merge rule decides it exactly as it decides a pulled page. The cursor
//! becomes the snapshot's `as_of` in the same transaction: a cut stream or
//! a cancel leaves the store as it was, and the next run starts over.

mod project;

use super::apply::{ApplyReport, record_concurrent, replay_title, store_cursor};
use super::run::{SyncError, SyncPhase, SyncProgress};
use super::wire::{COPIES, EVENTS, MEMBERS, Sites, TITLES, add_payload, payload_uuid};
use crate::bulk::Batch;
use crate::rows::{date, ts};
use crate::{Store, WriteTx, db_err};
use project::{TitleRows, project_title};
use shelfkeeper_domain::circulation::Event;
use shelfkeeper_domain::ids::{CopyId, EventId, TitleId};
use shelfkeeper_domain::model::CopyStatus;
use shelfkeeper_domain::{Error, Result};
use shelfkeeper_sync::snapshot::{Section, SnapshotHead};
use shelfkeeper_sync::{Entity, Op, Sequenced, Stamp, merge, schema};
use sqlx::SqliteConnection;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::LazyLock;
use uuid::Uuid;

/// A piece of a snapshot as the transport hands it over.
#[derive(Debug)]
pub enum SnapshotPart {
    /// Changes, in the order sent.
    Changes(Vec<Sequenced>),
    /// The end line: how many changes the server sent.
    End { changes: u64 },
}

/// A snapshot being received: its head, then its parts. The channel ends
/// after the end part; ending before it is a cut stream.
pub struct SnapshotStream {
    pub head: SnapshotHead,
    pub parts: tokio::sync::mpsc::Receiver<std::result::Result<SnapshotPart, String>>,
}

fn cols(spec: &super::wire::Spec, extra: &[&'static str]) -> Vec<&'static str> {
    spec.names().chain(extra.iter().copied()).collect()
}

static TITLE_COLS: LazyLock<Vec<&'static str>> = LazyLock::new(|| cols(&TITLES, &["hlc", "site_no"]));
static COPY_COLS: LazyLock<Vec<&'static str>> = LazyLock::new(|| cols(&COPIES, &["hlc", "site_no", "status", "last_event_id"]));
static MEMBER_COLS: LazyLock<Vec<&'static str>> = LazyLock::new(|| cols(&MEMBERS, &["hlc", "site_no"]));
static EVENT_COLS: LazyLock<Vec<&'static str>> = LazyLock::new(|| cols(&EVENTS, &["hlc", "site_no"]));
const LOAN_COLS: &[&str] =
    &["id", "copy_id", "title_id", "member_id", "out_at", "due_on", "renewals", "returned_at", "lost_at", "superseded_by"];
const HOLD_COLS: &[&str] = &["id", "title_id", "member_id", "placed_at", "status", "copy_id", "expires_on", "closed_at"];

/// Whether nothing is replicated or written here yet (only the default
/// member types every store starts with): a snapshot can be loaded.
async fn fresh(conn: &mut SqliteConnection) -> Result<bool> {
    let (rows, cursor): (i64, Option<String>) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM (SELECT 1 FROM titles LIMIT 1)) + (SELECT count(*) FROM (SELECT 1 FROM copies LIMIT 1))
              + (SELECT count(*) FROM (SELECT 1 FROM members LIMIT 1)) + (SELECT count(*) FROM (SELECT 1 FROM circulation_events LIMIT 1))
              + (SELECT count(*) FROM (SELECT 1 FROM change_log LIMIT 1)) + (SELECT count(*) FROM (SELECT 1 FROM tombstones LIMIT 1))
              + (SELECT count(*) FROM (SELECT 1 FROM sync_conflicts LIMIT 1)) + (SELECT count(*) FROM (SELECT 1 FROM conflict_resolutions LIMIT 1)),
                (SELECT value FROM store_meta WHERE key = ?)",
    )
    .bind(super::settings::CURSOR_KEY)
    .fetch_one(&mut *conn)
    .await
    .map_err(db_err)?;
    Ok(rows == 0 && cursor.is_none_or(|c| c == "0"))
}

/// An event of the snapshot, for the projection and the concurrency check.
struct Received {
    seq: u64,
    stamp: Stamp,
    event: Event,
    stream: Uuid,
    prev: Option<Uuid>,
}

/// What loading has seen so far.
#[derive(Default)]
struct Load {
    deleted: HashSet<(Entity, Uuid)>,
    /// Rows written in bulk, by entity and id.
    loaded: HashSet<(Entity, Uuid)>,
    keys: HashSet<(Entity, String)>,
    event_ids: HashSet<Uuid>,
    events: Vec<Received>,
    /// The projection, once the events are in: each copy's status, the
    /// rows to write, and titles the SQL adapter replays instead.
    projected: Option<Projected>,
    /// Changes for the ordinary path, in the order received.
    later: Vec<Sequenced>,
    bulk: u32,
    max_hlc: u64,
}

#[derive(Default)]
struct Projected {
    copies: HashMap<CopyId, (CopyStatus, EventId)>,
    rows: Vec<TitleRows>,
    replay: BTreeSet<Uuid>,
}

/// Projects every title's events in event order (in memory).
fn project_all(events: &[Received]) -> Projected {
    let mut by_title: HashMap<TitleId, Vec<&Received>> = HashMap::new();
    for r in events {
        by_title.entry(r.event.title_id).or_default().push(r);
    }
    let mut titles: Vec<_> = by_title.into_iter().collect();
    titles.sort_by_key(|(t, _)| *t.0.as_bytes());
    let mut p = Projected::default();
    let mut owner: HashMap<CopyId, TitleId> = HashMap::new();
    for (title, mut list) in titles {
        list.sort_by(|a, b| merge::event_order((a.stamp, a.event.id.0), (b.stamp, b.event.id.0)));
        let events: Vec<Event> = list.iter().map(|r| r.event.clone()).collect();
        match project_title(&events) {
            Some(rows) => {
                for &(copy, status, last) in &rows.copies {
                    // A copy whose events name two titles: the order the
                    // titles are replayed in matters, as it does for the
                    // SQL adapter; both are left to it.
                    if let Some(other) = owner.insert(copy, title)
                        && other != title
                    {
                        p.replay.insert(other.0);
                        p.replay.insert(title.0);
                    }
                    p.copies.insert(copy, (status, last));
                }
                p.rows.push(rows);
            }
            None => {
                p.replay.insert(title.0);
            }
        }
    }
    p.rows.retain(|r| !r.loans.iter().map(|l| l.title.0).chain(r.holds.iter().map(|h| h.title.0)).any(|t| p.replay.contains(&t)));
    let replay = &p.replay;
    p.copies.retain(|c, _| owner.get(c).is_none_or(|t| !replay.contains(&t.0)));
    p
}

impl Store {
    /// Whether this store holds nothing yet, so that a first sync may load
    /// a snapshot instead of pulling the whole feed.
    pub async fn is_fresh_replica(&self) -> Result<bool> {
        let mut conn = self.read.acquire().await.map_err(db_err)?;
        fresh(&mut conn).await
    }

    /// Loads a snapshot in one transaction (see the module documentation).
    /// `None`: the store is no longer fresh (another process wrote
    /// meanwhile), nothing was done and the feed is pulled instead.
    pub async fn load_snapshot(
        &self,
        mut snap: SnapshotStream,
        progress: &(dyn Fn(SyncProgress) -> bool + Sync),
    ) -> std::result::Result<Option<ApplyReport>, SyncError> {
        let mut w = self.write_tx().await?;
        if !fresh(w.conn()).await? {
            return Ok(None);
        }
        sqlx::query("UPDATE clock SET origin = 2").execute(w.conn()).await.map_err(db_err)?;
        // Batches of different tables flush in any order; references are
        // checked at commit.
        sqlx::query("PRAGMA defer_foreign_keys = ON").execute(w.conn()).await.map_err(db_err)?;
        let mut sites = Sites::load(w.conn()).await?;
        let mut load = Load::default();
        let mut batches = Batches {
            titles: Batch::new("titles", &TITLE_COLS),
            copies: Batch::new("copies", &COPY_COLS),
            members: Batch::new("members", &MEMBER_COLS),
            events: Batch::new("circulation_events", &EVENT_COLS),
        };
        let as_of = snap.head.as_of;
        let mut received = 0u64;
        loop {
            let part = snap.parts.recv().await.ok_or_else(|| SyncError::Transport("the snapshot was cut short".into()))?;
            match part.map_err(SyncError::Transport)? {
                SnapshotPart::Changes(changes) => {
                    for s in changes {
                        if s.server_seq == 0 || s.server_seq > as_of {
                            return Err(SyncError::Protocol(format!(
                                "snapshot change at sequence {} is not within 1..={as_of}",
                                s.server_seq
                            )));
                        }
                        received += 1;
                        load.take(&mut w, &mut sites, &mut batches, s).await?;
                    }
                    let total = snap.head.estimate.max(received);
                    if !progress(SyncProgress { phase: SyncPhase::Pull, done: received, total }) {
                        return Err(SyncError::Store(Error::Cancelled));
                    }
                }
                SnapshotPart::End { changes } if changes == received => break,
                SnapshotPart::End { changes } => {
                    return Err(SyncError::Protocol(format!("the snapshot ended after {received} changes but says it sent {changes}")));
                }
            }
        }
        batches.flush(&mut w).await?;
        let report = load.finish(self, &mut w, as_of).await?;
        w.commit().await?;
        Ok(Some(report))
    }
}

struct Batches {
    titles: Batch,
    copies: Batch,
    members: Batch,
    events: Batch,
}

impl Batches {
    async fn flush(&mut self, w: &mut WriteTx) -> Result<()> {
        self.titles.flush(w).await?;
        self.copies.flush(w).await?;
        self.members.flush(w).await?;
        self.events.flush(w).await
    }
}

/// The unique key a row of `entity` carries (barcode, card).
fn key_of(entity: Entity, payload: &serde_json::Value) -> Option<String> {
    let col = match entity {
        Entity::Copy => "barcode",
        Entity::Member => "card",
        _ => return None,
    };
    payload.get(col).and_then(|v| v.as_str()).map(str::to_owned)
}

impl Load {
    /// Takes one change: written in bulk when no rule applies to it on a
    /// store that holds only what came before it, else kept for later.
    async fn take(&mut self, w: &mut WriteTx, sites: &mut Sites, b: &mut Batches, s: Sequenced) -> Result<()> {
        let c = &s.change;
        if c.check_shape().is_err() {
            // The ordinary path quarantines it, as a pulled page would.
            self.later.push(s);
            return Ok(());
        }
        let section = Section::of(c.entity, c.op);
        let plain = match section {
            Section::DeletesAndResolutions => {
                if c.op == Op::Delete {
                    self.deleted.insert((c.entity, c.entity_id));
                }
                false
            }
            Section::MemberTypes => false,
            Section::Events => self.event_ids.insert(c.entity_id),
            Section::Titles | Section::Copies | Section::Members => {
                let parent_loaded = c.entity != Entity::Copy
                    || payload_uuid(&c.payload, "title_id").is_some_and(|t| self.loaded.contains(&(Entity::Title, t)));
                let fits =
                    parent_loaded && !self.deleted.contains(&(c.entity, c.entity_id)) && !self.loaded.contains(&(c.entity, c.entity_id));
                // The first row with a key holds it; a second one meets
                // the key rule on the ordinary path.
                fits && key_of(c.entity, &c.payload).is_none_or(|k| self.keys.insert((c.entity, k)))
            }
        };
        if !plain {
            self.later.push(s);
            return Ok(());
        }
        let site_no = sites.no(w.conn(), c.site_id).await?;
        self.max_hlc = self.max_hlc.max(c.hlc);
        self.bulk += 1;
        match section {
            Section::Events => {
                let Ok(event) = schema::event_of(c.entity_id, &c.payload) else {
                    self.event_ids.remove(&c.entity_id);
                    self.bulk -= 1;
                    self.later.push(s);
                    return Ok(());
                };
                add_payload(b.events.args_mut(), &EVENTS, &c.payload)?;
                b.events.push(c.hlc as i64);
                b.events.push(site_no);
                b.events.end_row(w).await?;
                let stream = payload_uuid(&c.payload, "stream_id").unwrap_or(event.title_id.0);
                let prev = payload_uuid(&c.payload, "prev_event_id");
                self.events.push(Received { seq: s.server_seq, stamp: c.stamp(), event, stream, prev });
            }
            Section::Titles => {
                add_payload(b.titles.args_mut(), &TITLES, &c.payload)?;
                b.titles.push(c.hlc as i64);
                b.titles.push(site_no);
                b.titles.end_row(w).await?;
            }
            Section::Copies => {
                let projected = self.projected.get_or_insert_with(|| project_all(&self.events));
                let (status, last) =
                    projected.copies.get(&CopyId(c.entity_id)).map_or((CopyStatus::Available, None), |(s, e)| (*s, Some(e.0)));
                add_payload(b.copies.args_mut(), &COPIES, &c.payload)?;
                b.copies.push(c.hlc as i64);
                b.copies.push(site_no);
                b.copies.push(status.as_str());
                b.copies.push(last);
                b.copies.end_row(w).await?;
            }
            Section::Members => {
                add_payload(b.members.args_mut(), &MEMBERS, &c.payload)?;
                b.members.push(c.hlc as i64);
                b.members.push(site_no);
                b.members.end_row(w).await?;
            }
            Section::DeletesAndResolutions | Section::MemberTypes => unreachable!("never plain"),
        }
        self.loaded.insert((c.entity, c.entity_id));
        Ok(())
    }

    /// After the last change: projections written, derived data built,
    /// concurrent events recorded, the rest applied by the ordinary path,
    /// the cursor set to `as_of`.
    async fn finish(mut self, store: &Store, w: &mut WriteTx, as_of: u64) -> Result<ApplyReport> {
        let projected = self.projected.take().unwrap_or_else(|| project_all(&self.events));
        let mut loans = Batch::new("loans", LOAN_COLS);
        let mut holds = Batch::new("holds", HOLD_COLS);
        for rows in &projected.rows {
            for l in &rows.loans {
                loans.push(l.id.0);
                loans.push(l.copy.0);
                loans.push(l.title.0);
                loans.push(l.member.0);
                loans.push(ts(l.out_at));
                loans.push(date(l.due_on));
                loans.push(l.renewals);
                loans.push(l.returned_at.map(ts));
                loans.push(l.lost_at.map(ts));
                loans.push(l.superseded_by.map(|e| e.0));
                loans.end_row(w).await?;
            }
            for h in &rows.holds {
                holds.push(h.id.0);
                holds.push(h.title.0);
                holds.push(h.member.0);
                holds.push(ts(h.placed_at));
                holds.push(h.status.as_str());
                holds.push(h.copy.map(|c| c.0));
                holds.push(h.expires_on.map(date));
                holds.push(h.closed_at.map(ts));
                holds.end_row(w).await?;
            }
        }
        loans.flush(w).await?;
        holds.flush(w).await?;
        // What the triggers would have done, set-wise: the search index,
        // subject and tag terms, copy counters.
        for sql in [
            "INSERT INTO title_fts (rowid, title, people, series, subjects, other) SELECT key, title, people, series, subjects, other FROM title_search_doc",
            "INSERT OR IGNORE INTO title_terms (kind, value, title_seq) SELECT kind, value, title_seq FROM title_terms_doc",
            "UPDATE titles SET copy_count = (SELECT count(*) FROM copies c WHERE c.title_id = titles.id),
                               available_count = (SELECT count(*) FROM copies c WHERE c.title_id = titles.id AND c.status = 'available')",
        ] {
            sqlx::query(sql).execute(w.conn()).await.map_err(db_err)?;
        }
        let now = w.now_text();
        let mut conflicts = 0;
        // Two events on a copy after the same event: recorded when the
        // later one (in feed order) is a copy event, as a pulled page does.
        let mut streams: HashMap<(Uuid, Option<Uuid>), Vec<&Received>> = HashMap::new();
        for r in &self.events {
            streams.entry((r.stream, r.prev)).or_default().push(r);
        }
        for ((stream, prev), mut group) in streams.into_iter().filter(|(_, g)| g.len() > 1) {
            group.sort_by_key(|r| r.seq);
            for (i, x) in group.iter().enumerate().skip(1) {
                if !x.event.kind.is_copy_event() {
                    continue;
                }
                for y in &group[..i] {
                    let later = x.stamp.max(y.stamp);
                    conflicts += record_concurrent(w.conn(), stream, prev, y.event.id.0, x.event.id.0, later, &now).await?;
                }
            }
        }
        // The rest as a pulled page: triggers keep the index and counters.
        sqlx::query("UPDATE clock SET origin = 1").execute(w.conn()).await.map_err(db_err)?;
        let sites = Sites::load(w.conn()).await?;
        for title in &projected.replay {
            replay_title(w.conn(), &sites, *title).await?;
        }
        self.later.sort_by_key(|s| s.server_seq);
        let mut report = store.apply_changes(w, &self.later, 0).await?;
        report.applied += self.bulk;
        report.conflicts += conflicts;
        report.replayed_titles += projected.replay.len() as u32;
        sqlx::query("UPDATE clock SET hlc = max(hlc, ?)").bind(self.max_hlc as i64).execute(w.conn()).await.map_err(db_err)?;
        store_cursor(w.conn(), as_of).await?;
        report.cursor = as_of;
        Ok(report)
    }
}
