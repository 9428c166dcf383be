//! Sync, the store's side: the outbox (local changes to push) and applying
//! changes received from the server. The protocol is `shelfkeeper_sync`.
//!
//! **Outbox.** The change log is the outbox. [`Store::outbox_page`] turns
//! its rows into [`Change`]s: the row (or its tombstone, or the event) as it
//! is when the change-log row is first read, stamped with the row's own
//! `(hlc, site)`. At that first read the change-log row gets its change id
//! (UUIDv7) and its content is frozen with it, so a push retried after a
//! lost reply sends the same ids with the same content (the server keeps
//! the first it got; an id must never stand for two versions). Later edits
//! are later change-log rows. [`Store::ack_pushed`] trims the log from the
//! front once the server has everything up to a sequence. When a received
//! change is about to overwrite or delete a row whose local changes were
//! not read yet, the local version is frozen into them first, so what is
//! pushed is always what this desk wrote.
//!
//! **Driver.** [`Store::sync_once`] pushes the outbox and pulls until
//! done over a [`SyncTransport`]; any step may be cut short and repeated.
//!
//! **Apply.** [`Store::apply_remote`] applies a page in one write transaction
//! with `clock.origin = 1` (rows carry their own stamps, nothing is logged;
//! the triggers still keep the search index, terms and counters), stores the
//! cursor in the same transaction, and moves the local clock past every
//! received stamp. The rules, the same on every replica:
//! - titles, copies, members, member types: last writer wins per row by
//!   `(hlc, site id)`. A delete leaves a tombstone (the newest delete of a
//!   row wins) and beats every older edit; an edit newer than the delete
//!   does not bring the row back: its newest version is kept in
//!   `sync_conflicts` (`kept_row`). Deleting a title deletes copies that
//!   another desk added to it meanwhile the same way (kept, not lost), and a
//!   copy that arrives for a deleted title is kept likewise.
//! - a barcode, card or member-type code wanted by several live rows: the
//!   smallest id holds it, the others hold `<key>~<last 12 hex digits of
//!   their id>` and a `duplicate_key` conflict (a claim) keeps the key they
//!   want; when the holder goes (deleted, or another key), the smallest
//!   claimant gets the key back; a newer version of a renamed row (a
//!   person edited it) ends its claim. Claims are settled after every page,
//!   so local deletes and edits are taken into account at the next pull.
//! - circulation events: inserted once by id, never changed. Loans, holds
//!   and copy statuses are the events of their title run through
//!   [`crate::circulation::project`] in `(hlc, site id, event id)` order — causal
//!   order, since every clock moves past what it has seen; concurrent
//!   events fall in clock order, so a check-in beats an older concurrent
//!   check-out and otherwise the newest event wins. An event newer than all
//!   its title's events is projected as it comes; an older one (a desk that
//!   was offline) replays the title's projections. Two events on one copy
//!   that name the same previous event are concurrent: a
//!   `concurrent_events` conflict records the pair. A loan left open on a
//!   copy deleted at another desk is a `loan_of_deleted_copy` conflict.

use crate::circulation::{NewEvent, project};
use crate::rows::parse_date;
use crate::{Store, WriteTx, db_err};
use serde::Serialize;
use shelfkeeper_domain::access::{Action, Actor};
use shelfkeeper_domain::circulation::EventKind;
use shelfkeeper_domain::ids::{CopyId, EventId, HoldId, MemberId, TitleId};
use shelfkeeper_domain::{Error, Result};
use shelfkeeper_sync::schema::{self, Kind};
use shelfkeeper_sync::{
    Change, Entity, Op, PROTOCOL_VERSION, PullRequest, PullResponse, PushRequest, PushResponse, Rejected, Sequenced, Stamp, hlc,
};
use sqlx::sqlite::{SqliteArguments, SqliteRow};
use sqlx::{Arguments, AssertSqlSafe, Row, SqliteConnection};
use std::collections::{BTreeSet, HashMap, HashSet};
use uuid::Uuid;

/// A replicated table: its entity, its columns (the protocol's typed
/// schema, [`schema::columns`]) and its unique key.
struct Spec {
    entity: Entity,
    table: &'static str,
    cols: &'static [schema::Column],
    /// A column that must be unique among live rows.
    unique: Option<&'static str>,
}

impl Spec {
    const fn new(entity: Entity, table: &'static str, cols: &'static [schema::Column], unique: Option<&'static str>) -> Spec {
        Spec { entity, table, cols, unique }
    }

    fn names(&self) -> impl Iterator<Item = &'static str> {
        self.cols.iter().map(|c| c.name)
    }
}

const TITLES: Spec = Spec::new(Entity::Title, "titles", schema::columns(Entity::Title), None);
const COPIES: Spec = Spec::new(Entity::Copy, "copies", schema::columns(Entity::Copy), Some("barcode"));
const MEMBERS: Spec = Spec::new(Entity::Member, "members", schema::columns(Entity::Member), Some("card"));
const MEMBER_TYPES: Spec = Spec::new(Entity::MemberType, "member_types", schema::columns(Entity::MemberType), Some("code"));
const EVENTS: Spec = Spec::new(Entity::Event, "circulation_events", schema::columns(Entity::Event), None);
const RESOLUTIONS: Spec = Spec::new(Entity::ConflictResolution, "conflict_resolutions", schema::columns(Entity::ConflictResolution), None);

/// The key a row gives way with: `<key>~<last 12 hex digits of its id>`.
fn renamed_key(key: &str, id: Uuid) -> String {
    let hex = id.simple().to_string();
    format!("{key}~{}", &hex[hex.len() - 12..])
}

fn spec(entity: Entity) -> &'static Spec {
    match entity {
        Entity::Title => &TITLES,
        Entity::Copy => &COPIES,
        Entity::Member => &MEMBERS,
        Entity::MemberType => &MEMBER_TYPES,
        Entity::Event => &EVENTS,
        Entity::ConflictResolution => &RESOLUTIONS,
    }
}

fn bad(what: impl std::fmt::Display) -> Error {
    Error::Storage(format!("sync: {what}"))
}

fn select_sql(s: &Spec) -> String {
    let cols = s.names().map(|c| format!("t.{c}")).collect::<Vec<_>>().join(", ");
    format!("SELECT {cols}, t.hlc AS sync_hlc, s.id AS sync_site FROM {} t JOIN sites s ON s.no = t.site_no WHERE t.id = ?", s.table)
}

/// A row's columns as a change payload, and its stamp.
fn row_payload(s: &Spec, r: &SqliteRow) -> Result<(serde_json::Value, Stamp)> {
    let mut map = serde_json::Map::new();
    for col in s.cols {
        let c = col.name;
        let v = match col.kind {
            Kind::Int => r.try_get::<Option<i64>, _>(c).map(|v| v.map(serde_json::Value::from)),
            Kind::Id => r.try_get::<Option<Uuid>, _>(c).map(|v| v.map(|u| serde_json::Value::from(u.to_string()))),
            _ => r.try_get::<Option<String>, _>(c).map(|v| v.map(serde_json::Value::from)),
        }
        .map_err(|e| bad(format!("{}.{c}: {e}", s.table)))?;
        map.insert(c.to_string(), v.unwrap_or(serde_json::Value::Null));
    }
    let hlc: i64 = r.try_get("sync_hlc").map_err(bad)?;
    let site: Uuid = r.try_get("sync_site").map_err(bad)?;
    Ok((serde_json::Value::Object(map), Stamp { hlc: hlc as u64, site_id: site }))
}

/// Binds a payload's columns, in the spec's order. The payload has passed
/// [`schema::check_payload`]; a value of the wrong kind is still refused.
fn payload_args(s: &Spec, payload: &serde_json::Value) -> Result<SqliteArguments> {
    let mut args = SqliteArguments::default();
    for col in s.cols {
        let c = col.name;
        let v = payload.get(c).unwrap_or(&serde_json::Value::Null);
        let wrong = || bad(format!("{} column {c}: unexpected value {v}", s.entity.as_str()));
        let added = match col.kind {
            Kind::Int => args.add(if v.is_null() { None } else { Some(v.as_i64().ok_or_else(wrong)?) }),
            Kind::Id => {
                args.add(if v.is_null() { None } else { Some(Uuid::parse_str(v.as_str().ok_or_else(wrong)?).map_err(|_| wrong())?) })
            }
            _ => args.add(if v.is_null() { None } else { Some(v.as_str().ok_or_else(wrong)?.to_string()) }),
        };
        added.map_err(bad)?;
    }
    Ok(args)
}

fn payload_uuid(payload: &serde_json::Value, col: &str) -> Option<Uuid> {
    payload.get(col).and_then(|v| v.as_str()).and_then(|s| Uuid::parse_str(s).ok())
}

/// Site numbers (local) and site ids, both ways; new sites are interned.
struct Sites {
    by_no: HashMap<i64, Uuid>,
    by_id: HashMap<Uuid, i64>,
}

impl Sites {
    async fn load(conn: &mut SqliteConnection) -> Result<Sites> {
        let rows: Vec<(i64, Uuid)> = sqlx::query_as("SELECT no, id FROM sites").fetch_all(&mut *conn).await.map_err(db_err)?;
        Ok(Sites { by_no: rows.iter().copied().collect(), by_id: rows.iter().map(|(n, i)| (*i, *n)).collect() })
    }

    async fn no(&mut self, conn: &mut SqliteConnection, id: Uuid) -> Result<i64> {
        if let Some(n) = self.by_id.get(&id) {
            return Ok(*n);
        }
        let n: i64 =
            sqlx::query_scalar("INSERT INTO sites (id) VALUES (?) RETURNING no").bind(id).fetch_one(&mut *conn).await.map_err(db_err)?;
        self.by_id.insert(id, n);
        self.by_no.insert(n, id);
        Ok(n)
    }

    fn id(&self, no: i64) -> Result<Uuid> {
        self.by_no.get(&no).copied().ok_or_else(|| bad(format!("unknown site number {no}")))
    }
}

/// The state of one entity on this replica as a change: the live row, its
/// tombstone, or the event. `None`: this replica knows nothing of it.
async fn current_change(conn: &mut SqliteConnection, sites: &Sites, entity: Entity, id: Uuid) -> Result<Option<Change>> {
    let s = spec(entity);
    let row = sqlx::query(AssertSqlSafe(select_sql(s))).bind(id).fetch_optional(&mut *conn).await.map_err(db_err)?;
    let change = |op, payload, stamp: Stamp| Change {
        change_id: Uuid::nil(),
        entity,
        entity_id: id,
        op,
        hlc: stamp.hlc,
        site_id: stamp.site_id,
        payload,
    };
    if let Some(r) = row {
        let (payload, stamp) = row_payload(s, &r)?;
        let op = if entity == Entity::Event { Op::Event } else { Op::Upsert };
        return Ok(Some(change(op, payload, stamp)));
    }
    if entity == Entity::Event {
        return Ok(None);
    }
    let tomb: Option<(i64, i64)> = sqlx::query_as("SELECT hlc, site_no FROM tombstones WHERE entity_id = ?")
        .bind(id)
        .fetch_optional(&mut *conn)
        .await
        .map_err(db_err)?;
    match tomb {
        Some((hlc, site_no)) => {
            Ok(Some(change(Op::Delete, serde_json::Value::Null, Stamp { hlc: hlc as u64, site_id: sites.id(site_no)? })))
        }
        None => Ok(None),
    }
}

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

/// Sync state for a status bar.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct SyncStatus {
    /// Local changes not yet acknowledged by the server.
    pub pending_changes: i64,
    /// The last server sequence applied.
    #[ts(type = "number")]
    pub cursor: u64,
    /// Conflicts no one resolved yet.
    pub open_conflicts: i64,
}

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
const COVERING_RESOLUTION: &str = "r.conflict_key = c.key AND (c.hlc, c.site_id) <= (r.conflict_hlc, r.conflict_site)";

const CURSOR_KEY: &str = "sync_cursor";

/// Sync settings kept in the store itself, so they travel with the file
/// (a restored backup knows its server) and stay out of the change log.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SyncSetting {
    /// The server connection (JSON, written by the desktop's sync client).
    Connection,
    /// The last sync run's outcome (JSON).
    LastRun,
    /// The library whose server sequence the cursor counts.
    CursorLibrary,
}

impl SyncSetting {
    fn key(self) -> &'static str {
        match self {
            SyncSetting::Connection => "sync.connection",
            SyncSetting::LastRun => "sync.last_run",
            SyncSetting::CursorLibrary => "sync.cursor_library",
        }
    }
}

async fn read_cursor(conn: &mut SqliteConnection) -> Result<u64> {
    let v: Option<String> = sqlx::query_scalar("SELECT value FROM store_meta WHERE key = ?")
        .bind(CURSOR_KEY)
        .fetch_optional(&mut *conn)
        .await
        .map_err(db_err)?;
    v.map(|v| v.parse::<u64>().map_err(|e| bad(format!("bad cursor '{v}': {e}")))).transpose().map(|c| c.unwrap_or(0))
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

    /// The last server sequence applied.
    pub async fn sync_cursor(&self) -> Result<u64> {
        let mut conn = self.read.acquire().await.map_err(db_err)?;
        read_cursor(&mut conn).await
    }

    pub async fn sync_status(&self) -> Result<SyncStatus> {
        let mut conn = self.read.acquire().await.map_err(db_err)?;
        let sql = format!(
            "SELECT (SELECT coalesce(max(seq) - min(seq) + 1, 0) FROM change_log),
                    (SELECT count(*) FROM sync_conflicts c
                     WHERE NOT EXISTS (SELECT 1 FROM conflict_resolutions r WHERE {COVERING_RESOLUTION}))"
        );
        let (pending, open): (i64, i64) = sqlx::query_as(AssertSqlSafe(sql)).fetch_one(&mut *conn).await.map_err(db_err)?;
        Ok(SyncStatus { pending_changes: pending, cursor: read_cursor(&mut conn).await?, open_conflicts: open })
    }

    /// Starts pulling from the beginning again (another library). What
    /// was applied stays; applying it again changes nothing.
    pub async fn reset_sync_cursor(&self) -> Result<()> {
        let mut tx = self.write.begin_with("BEGIN IMMEDIATE").await.map_err(db_err)?;
        sqlx::query("DELETE FROM store_meta WHERE key = ?").bind(CURSOR_KEY).execute(&mut *tx).await.map_err(db_err)?;
        tx.commit().await.map_err(db_err)
    }

    /// A piece of this store's sync settings (`sync.*` in `store_meta`):
    /// local to this replica, never synced.
    pub async fn sync_setting(&self, key: SyncSetting) -> Result<Option<String>> {
        let mut conn = self.read.acquire().await.map_err(db_err)?;
        sqlx::query_scalar("SELECT value FROM store_meta WHERE key = ?").bind(key.key()).fetch_optional(&mut *conn).await.map_err(db_err)
    }

    /// Sets (or, with `None`, removes) a sync setting.
    pub async fn set_sync_setting(&self, key: SyncSetting, value: Option<&str>) -> Result<()> {
        let mut tx = self.write.begin_with("BEGIN IMMEDIATE").await.map_err(db_err)?;
        match value {
            Some(v) => {
                sqlx::query("INSERT INTO store_meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value")
                    .bind(key.key())
                    .bind(v)
            }
            None => sqlx::query("DELETE FROM store_meta WHERE key = ?").bind(key.key()),
        }
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        tx.commit().await.map_err(db_err)
    }

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

    /// Applies a page pulled from the server and moves the cursor to
    /// `new_cursor` (never backwards), in one transaction. Changes at or
    /// below the stored cursor were applied before and are skipped; applying
    /// any change twice changes nothing anyway.
    pub async fn apply_remote(&self, page: &[Sequenced], new_cursor: u64) -> Result<ApplyReport> {
        let mut w = self.write_tx().await?;
        sqlx::query("UPDATE clock SET origin = 1").execute(w.conn()).await.map_err(db_err)?;
        let cursor = read_cursor(w.conn()).await?;
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
                Op::Event => a.event(&mut w, c).await,
                Op::Upsert => a.upsert(&mut w, c).await,
                Op::Delete => a.delete(&mut w, c).await,
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
        let cursor = cursor.max(new_cursor);
        sqlx::query("INSERT INTO store_meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value")
            .bind(CURSOR_KEY)
            .bind(cursor.to_string())
            .execute(w.conn())
            .await
            .map_err(db_err)?;
        a.report.cursor = cursor;
        w.commit().await?;
        Ok(a.report)
    }
}

/// How a desk reaches the server: the HTTP client in the desktop, an
/// in-process relay in tests. An `Err` is a failed exchange (no answer, or
/// an answer that did not arrive); the driver stops and the next run
/// starts over, which is always safe.
pub trait SyncTransport {
    fn push(&self, req: PushRequest) -> impl Future<Output = std::result::Result<PushResponse, String>> + Send;
    fn pull(&self, req: PullRequest) -> impl Future<Output = std::result::Result<PullResponse, String>> + Send;
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
        Ok(run)
    }
}

/// What [`Apply::known`] found about an entity before an upsert.
struct Known {
    tomb: Option<Stamp>,
    current: Option<Stamp>,
    /// The title a copy names exists.
    has_title: bool,
    /// Another live row holding the unique key the change wants.
    holder: Option<Uuid>,
    /// The row has a `duplicate_key` claim.
    claimed: bool,
    /// Circulation events name the entity as their stream (a copy).
    has_events: bool,
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
    async fn row_stamp(&self, conn: &mut SqliteConnection, s: &Spec, id: Uuid) -> Result<Option<Stamp>> {
        let sql = format!("SELECT hlc, site_no FROM {} WHERE id = ?", s.table);
        let r: Option<(i64, i64)> = sqlx::query_as(AssertSqlSafe(sql)).bind(id).fetch_optional(&mut *conn).await.map_err(db_err)?;
        r.map(|(hlc, no)| Ok(Stamp { hlc: hlc as u64, site_id: self.sites.id(no)? })).transpose()
    }

    async fn tombstone(&self, conn: &mut SqliteConnection, id: Uuid) -> Result<Option<Stamp>> {
        let r: Option<(i64, i64)> = sqlx::query_as("SELECT hlc, site_no FROM tombstones WHERE entity_id = ?")
            .bind(id)
            .fetch_optional(&mut *conn)
            .await
            .map_err(db_err)?;
        r.map(|(hlc, no)| Ok(Stamp { hlc: hlc as u64, site_id: self.sites.id(no)? })).transpose()
    }

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
             WHERE (excluded.hlc, excluded.site_id) > (sync_conflicts.hlc, sync_conflicts.site_id)",
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
            "SELECT (SELECT hlc FROM tombstones WHERE entity_id = ?1) AS tomb_hlc,
                    (SELECT site_no FROM tombstones WHERE entity_id = ?1) AS tomb_site,
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

    async fn upsert(&mut self, w: &mut WriteTx, c: &Change) -> Result<()> {
        let s = spec(c.entity);
        let stamp = c.stamp();
        let known = self.known(w.conn(), s, c).await?;
        if let Some(tomb) = known.tomb {
            if stamp > tomb {
                self.keep_row(w.conn(), c.entity, c.entity_id, stamp, &c.payload).await?;
                self.report.kept += 1;
            } else {
                self.report.unchanged += 1;
            }
            return Ok(());
        }
        if c.entity == Entity::Copy && !known.has_title {
            // Its title was deleted while another desk added this copy.
            self.keep_row(w.conn(), c.entity, c.entity_id, stamp, &c.payload).await?;
            self.report.kept += 1;
            return Ok(());
        }
        let current = known.current;
        if current.is_some_and(|cur| cur >= stamp) {
            self.report.unchanged += 1;
            return Ok(());
        }
        if current.is_some() {
            self.freeze(w.conn(), c.entity, c.entity_id).await?;
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

    /// Two live rows may not share a barcode, card or code. Among the live
    /// rows that want one key, the smallest id holds it; the others hold
    /// `<key>~<id tail>` and a `duplicate_key` conflict (the claim) keeps
    /// the key they want and the row version that wants it. A claim ends
    /// when its row gets a newer version (here, or a local edit: the person
    /// took the new key), or gets the key back ([`Apply::settle_claims`]).
    #[allow(clippy::too_many_arguments)]
    async fn settle_duplicate_key(
        &mut self,
        conn: &mut SqliteConnection,
        s: &Spec,
        col: &str,
        id: Uuid,
        stamp: Stamp,
        payload: &mut serde_json::Value,
        known: &Known,
    ) -> Result<()> {
        if known.claimed {
            sqlx::query("DELETE FROM sync_conflicts WHERE key = ?").bind(format!("key:{id}")).execute(&mut *conn).await.map_err(db_err)?;
        }
        let Some(key) = payload.get(col).and_then(|v| v.as_str()).map(str::to_string) else { return Ok(()) };
        let Some(other) = known.holder else { return Ok(()) };
        if id.as_bytes() > other.as_bytes() {
            payload[col] = serde_json::Value::from(renamed_key(&key, id));
            self.claim(conn, s, id, &key, stamp).await
        } else {
            self.give_way(conn, s, col, other, &key).await
        }
    }

    /// Renames a live row that holds `key` for a smaller id that wants it.
    async fn give_way(&mut self, conn: &mut SqliteConnection, s: &Spec, col: &str, holder: Uuid, key: &str) -> Result<()> {
        self.freeze(conn, s.entity, holder).await?;
        let stamp = self.row_stamp(conn, s, holder).await?.ok_or_else(|| bad("renaming a row that is gone"))?;
        let sql = format!("UPDATE {} SET {col} = ? WHERE id = ?", s.table);
        sqlx::query(AssertSqlSafe(sql)).bind(renamed_key(key, holder)).bind(holder).execute(&mut *conn).await.map_err(db_err)?;
        self.claim(conn, s, holder, key, stamp).await
    }

    async fn claim(&mut self, conn: &mut SqliteConnection, s: &Spec, id: Uuid, key: &str, stamp: Stamp) -> Result<()> {
        sqlx::query(
            "INSERT INTO sync_conflicts (key, kind, entity, entity_id, hlc, site_id, detail, detected_at)
             VALUES (?, 'duplicate_key', ?, ?, ?, ?, ?, ?)
             ON CONFLICT (key) DO UPDATE SET hlc = excluded.hlc, site_id = excluded.site_id, detail = excluded.detail",
        )
        .bind(format!("key:{id}"))
        .bind(s.entity.as_str())
        .bind(id)
        .bind(stamp.hlc as i64)
        .bind(stamp.site_id)
        .bind(key)
        .bind(&self.now)
        .execute(&mut *conn)
        .await
        .map_err(db_err)?;
        self.report.conflicts += 1;
        Ok(())
    }

    /// A kept version of a renamed row keeps the key it wanted.
    async fn wanted(&self, conn: &mut SqliteConnection, s: &Spec, id: Uuid, payload: &mut serde_json::Value) -> Result<()> {
        let Some(col) = s.unique else { return Ok(()) };
        let key: Option<String> = sqlx::query_scalar("SELECT detail FROM sync_conflicts WHERE key = ?")
            .bind(format!("key:{id}"))
            .fetch_optional(&mut *conn)
            .await
            .map_err(db_err)?;
        if let Some(key) = key {
            payload[col] = serde_json::Value::from(key);
        }
        Ok(())
    }

    /// Brings every claim in line with the rows as they are now (after the
    /// page, and after local deletes and edits since the last page): a
    /// claim of a row that is gone, or that has a newer version, ends; a
    /// claimed key no live row holds goes back to the smallest claimant; a
    /// larger id holding it gives way.
    async fn settle_claims(&mut self, conn: &mut SqliteConnection) -> Result<()> {
        for s in [&COPIES, &MEMBERS, &MEMBER_TYPES] {
            let col = s.unique.unwrap_or("id");
            let claims: Vec<(Uuid, String, i64, Uuid)> = sqlx::query_as(
                "SELECT entity_id, detail, hlc, site_id FROM sync_conflicts WHERE kind = 'duplicate_key' AND entity = ? ORDER BY entity_id",
            )
            .bind(s.entity.as_str())
            .fetch_all(&mut *conn)
            .await
            .map_err(db_err)?;
            for (id, key, hlc, site) in claims {
                let sql = format!("SELECT {col}, hlc, site_no FROM {} WHERE id = ?", s.table);
                let row: Option<(String, i64, i64)> =
                    sqlx::query_as(AssertSqlSafe(sql)).bind(id).fetch_optional(&mut *conn).await.map_err(db_err)?;
                let current = match row {
                    Some((held, h, no)) => held == renamed_key(&key, id) && h == hlc && self.sites.id(no)? == site,
                    None => false,
                };
                if !current {
                    sqlx::query("DELETE FROM sync_conflicts WHERE key = ?")
                        .bind(format!("key:{id}"))
                        .execute(&mut *conn)
                        .await
                        .map_err(db_err)?;
                    continue;
                }
                let sql = format!("SELECT id FROM {} WHERE {col} = ?", s.table);
                let holder: Option<Uuid> =
                    sqlx::query_scalar(AssertSqlSafe(sql)).bind(&key).fetch_optional(&mut *conn).await.map_err(db_err)?;
                match holder {
                    Some(h) if h.as_bytes() < id.as_bytes() => continue,
                    Some(h) => self.give_way(conn, s, col, h, &key).await?,
                    None => {}
                }
                let sql = format!("UPDATE {} SET {col} = ? WHERE id = ?", s.table);
                sqlx::query(AssertSqlSafe(sql)).bind(&key).bind(id).execute(&mut *conn).await.map_err(db_err)?;
                sqlx::query("DELETE FROM sync_conflicts WHERE key = ?")
                    .bind(format!("key:{id}"))
                    .execute(&mut *conn)
                    .await
                    .map_err(db_err)?;
            }
        }
        Ok(())
    }

    async fn delete(&mut self, w: &mut WriteTx, c: &Change) -> Result<()> {
        let s = spec(c.entity);
        let stamp = c.stamp();
        if self.tombstone(w.conn(), c.entity_id).await?.is_some_and(|t| t >= stamp) {
            self.report.unchanged += 1;
            return Ok(());
        }
        // The local tombstone or row is about to change.
        self.freeze(w.conn(), c.entity, c.entity_id).await?;
        let site_no = self.sites.no(w.conn(), c.site_id).await?;
        sqlx::query("INSERT OR REPLACE INTO tombstones (entity_id, entity, hlc, site_no) VALUES (?, ?, ?, ?)")
            .bind(c.entity_id)
            .bind(c.entity.as_str())
            .bind(stamp.hlc as i64)
            .bind(site_no)
            .execute(w.conn())
            .await
            .map_err(db_err)?;
        // A kept version older than the newest delete is just deleted.
        sqlx::query("DELETE FROM sync_conflicts WHERE key = ? AND (hlc, site_id) < (?, ?)")
            .bind(format!("row:{}", c.entity_id))
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
        if current > stamp {
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

    async fn event(&mut self, w: &mut WriteTx, c: &Change) -> Result<()> {
        let e = event_from_payload(c.entity_id, &c.payload)?;
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
                let (a, b) = if other.as_bytes() < c.entity_id.as_bytes() { (other, c.entity_id) } else { (c.entity_id, other) };
                let done = sqlx::query(
                    "INSERT INTO sync_conflicts (key, kind, entity, entity_id, event_a, event_b, hlc, site_id, detail, detected_at)
                     VALUES (?, 'concurrent_events', 'copy', ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                )
                .bind(format!("events:{a}:{b}"))
                .bind(stream)
                .bind(a)
                .bind(b)
                .bind(later.hlc as i64)
                .bind(later.site_id)
                .bind(prev.map(|p| format!("both follow event {p}")).unwrap_or_else(|| "both are the copy's first event".into()))
                .bind(&self.now)
                .execute(w.conn())
                .await
                .map_err(db_err)?;
                self.report.conflicts += done.rows_affected() as u32;
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
        // Events of one transaction share a stamp: their ids (UUIDv7, made
        // in order) order them.
        let mut in_order = true;
        for (hlc, no, id) in newer {
            let other = (Stamp { hlc: hlc as u64, site_id: self.sites.id(no)? }, *id.as_bytes());
            if other > (c.stamp(), *c.entity_id.as_bytes()) {
                in_order = false;
            }
        }
        if in_order {
            project(w.conn(), &e).await
        } else {
            self.dirty.insert(title);
            Ok(())
        }
    }
}

fn event_from_payload(id: Uuid, p: &serde_json::Value) -> Result<NewEvent> {
    let kind = p.get("kind").and_then(|v| v.as_str()).unwrap_or_default();
    let kind = EventKind::parse(kind).ok_or_else(|| bad(format!("event {id}: unknown kind '{kind}'")))?;
    let title_id = payload_uuid(p, "title_id").ok_or_else(|| bad(format!("event {id} without title")))?;
    let occurred = p.get("occurred_at").and_then(|v| v.as_str()).ok_or_else(|| bad(format!("event {id} without time")))?;
    Ok(NewEvent {
        id: EventId(id),
        kind,
        title_id: TitleId(title_id),
        copy_id: payload_uuid(p, "copy_id").map(CopyId),
        member_id: payload_uuid(p, "member_id").map(MemberId),
        hold_id: payload_uuid(p, "hold_id").map(HoldId),
        due_on: p.get("due_on").and_then(|v| v.as_str()).map(parse_date).transpose()?,
        occurred_at: crate::rows::parse_ts(occurred)?,
    })
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

/// A copy deleted at one desk while another lent it: the loan is open on a
/// copy that is gone. A conflict says so exactly while it is (open loans
/// are few; this runs after every page). Returns how many were new.
async fn settle_loans_of_deleted_copies(conn: &mut SqliteConnection, now: &str) -> Result<u32> {
    let added = sqlx::query(
        "INSERT INTO sync_conflicts (key, kind, entity, entity_id, event_a, hlc, site_id, detail, detected_at)
         SELECT 'loan:' || lower(hex(l.id)), 'loan_of_deleted_copy', 'copy', l.copy_id, l.id, e.hlc, s.id,
                'lent while it was deleted elsewhere', ?
         FROM loans l
         JOIN tombstones t ON t.entity_id = l.copy_id
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
            (SELECT 1 FROM loans l JOIN tombstones t ON t.entity_id = l.copy_id
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
async fn replay_title(conn: &mut SqliteConnection, _sites: &Sites, title: Uuid) -> Result<()> {
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
            format!("SELECT {} FROM tombstones t JOIN sites s ON s.no = t.site_no WHERE t.entity IN ('title', 'copy', 'member', 'member_type', 'conflict_resolution') ORDER BY t.entity_id", q(&["t.entity_id", "t.entity", "t.hlc", "s.id"])),
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
