//! Sync storage: devices, the per-library change feed and its sequence.
//!
//! The feed (`sync_feed`) holds changes in the desktop's shape
//! (`shelfkeeper_sync::Change`): what desktops pushed, and what the
//! server's own REST writes made (appended by `log_change` in the write's
//! transaction, with the server's site id). Sequences come from the
//! library's `sync_counters` row, locked by an UPDATE before any is taken
//! and held until commit: concurrent writers to one library take turns, so
//! sequences become visible in order and a pull never skips one.

use super::replica::{Fault, Replica};
use super::{Db, DbError, DbResult, WriteTx, now_ms};
use serde::Serialize;
use shelfkeeper_sync::{Change, Entity, Op, PullResponse, RejectCode, Rejected, Sequenced};
use sqlx::Row;
use sqlx::any::AnyRow;
use std::time::Duration;
use uuid::Uuid;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DeviceRow {
    pub site_id: String,
    pub name: String,
    /// The account that registered it (last).
    pub account_id: String,
    /// RFC 3339.
    pub registered_at: String,
    pub last_push_at: Option<String>,
    pub last_pull_at: Option<String>,
}

fn device_row(r: &AnyRow) -> Result<DeviceRow, sqlx::Error> {
    let at = |c: &str| -> Result<Option<String>, sqlx::Error> { Ok(r.try_get::<Option<i64>, _>(c)?.map(crate::time::rfc3339)) };
    Ok(DeviceRow {
        site_id: r.try_get("site_id")?,
        name: r.try_get("name")?,
        account_id: r.try_get("account_id")?,
        registered_at: at("registered_at")?.unwrap_or_default(),
        last_push_at: at("last_push_at")?,
        last_pull_at: at("last_pull_at")?,
    })
}

/// Wakes pulls that wait for new changes (long-poll) when a committed write
/// added to a sync feed. It is process-local: with several server processes
/// on one PostgreSQL database, a waiting pull still notices another
/// process's changes by looking again every [`RECHECK`].
pub struct FeedBell {
    rung: tokio::sync::watch::Sender<u64>,
    closing: std::sync::atomic::AtomicBool,
}

/// How often a waiting pull looks at the feed even when no bell rang.
pub const RECHECK: Duration = Duration::from_secs(1);
/// About how much payload text one pulled page carries (4 Mi characters):
/// the page ends at the change that passes it.
pub const PULL_PAGE_BUDGET: i64 = 4 * 1024 * 1024;

impl Default for FeedBell {
    fn default() -> Self {
        FeedBell { rung: tokio::sync::watch::channel(0).0, closing: Default::default() }
    }
}

impl FeedBell {
    pub fn ring(&self) {
        self.rung.send_modify(|n| *n = n.wrapping_add(1));
    }

    /// The server is shutting down: waiting pulls answer at once.
    pub fn close(&self) {
        self.closing.store(true, std::sync::atomic::Ordering::SeqCst);
        self.ring();
    }

    /// How many pulls are waiting on this bell now. Each subscribes before
    /// its first look at the feed, so a change committed once this counts
    /// a pull wakes it: what a test waits for instead of sleeping.
    pub fn parked(&self) -> usize {
        self.rung.receiver_count()
    }

    fn is_closing(&self) -> bool {
        self.closing.load(std::sync::atomic::Ordering::SeqCst)
    }
}

/// What storing one pushed change came to.
pub enum Stored {
    Accepted(u64),
    Rejected(Rejected),
}

fn op_str(op: Op) -> &'static str {
    match op {
        Op::Upsert => "upsert",
        Op::Delete => "delete",
        Op::Event => "event",
    }
}

fn parse_op(s: &str) -> Option<Op> {
    match s {
        "upsert" => Some(Op::Upsert),
        "delete" => Some(Op::Delete),
        "event" => Some(Op::Event),
        _ => None,
    }
}

impl Db {
    /// Registers (true) or renames (false) a device of a library. A device
    /// belongs to the account that registered it; registering another
    /// account's device again moves it only with `may_transfer` (an
    /// administrator), and is `forbidden` otherwise.
    pub async fn register_device(
        &self,
        lib: &str,
        site: &str,
        name: &str,
        account: &str,
        may_transfer: bool,
    ) -> DbResult<(bool, DeviceRow)> {
        let mut tx = self.begin_write().await?;
        let owner: Option<String> = sqlx::query_scalar("SELECT account_id FROM sync_devices WHERE library_id = $1 AND site_id = $2")
            .bind(lib)
            .bind(site)
            .fetch_optional(&mut *tx)
            .await?;
        if owner.as_deref().is_some_and(|o| o != account) && !may_transfer {
            return Err(DbError::NotPermitted("this device is registered to another account; an administrator can transfer it"));
        }
        let known = owner.is_some();
        if known {
            sqlx::query("UPDATE sync_devices SET name = $3, account_id = $4 WHERE library_id = $1 AND site_id = $2")
                .bind(lib)
                .bind(site)
                .bind(name)
                .bind(account)
                .execute(&mut *tx)
                .await?;
        } else {
            sqlx::query("INSERT INTO sync_devices (library_id, site_id, name, account_id, registered_at) VALUES ($1, $2, $3, $4, $5)")
                .bind(lib)
                .bind(site)
                .bind(name)
                .bind(account)
                .bind(now_ms())
                .execute(&mut *tx)
                .await?;
        }
        let row = sqlx::query("SELECT * FROM sync_devices WHERE library_id = $1 AND site_id = $2")
            .bind(lib)
            .bind(site)
            .fetch_one(&mut *tx)
            .await?;
        let row = device_row(&row)?;
        tx.commit().await?;
        Ok((!known, row))
    }

    pub async fn devices(&self, lib: &str) -> Result<Vec<DeviceRow>, sqlx::Error> {
        let rows = sqlx::query("SELECT * FROM sync_devices WHERE library_id = $1 ORDER BY registered_at, site_id")
            .bind(lib)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(device_row).collect()
    }

    /// The account a device of the library belongs to (`None`: unknown).
    pub async fn device_owner(&self, lib: &str, site: &str) -> Result<Option<String>, sqlx::Error> {
        sqlx::query_scalar("SELECT account_id FROM sync_devices WHERE library_id = $1 AND site_id = $2")
            .bind(lib)
            .bind(site)
            .fetch_optional(&self.pool)
            .await
    }

    /// Takes the library's sequence counter (creating it) for the rest of
    /// the transaction and returns its value and how far the feed is
    /// applied to the library's tables.
    async fn lock_counter(tx: &mut WriteTx, lib: &str) -> Result<(i64, i64), sqlx::Error> {
        // One statement: creates the counter or locks it (the no-op update
        // takes the row lock until commit), and reads it.
        let row = sqlx::query(
            "INSERT INTO sync_counters (library_id, last_seq) VALUES ($1, 0) \
             ON CONFLICT (library_id) DO UPDATE SET last_seq = sync_counters.last_seq RETURNING last_seq, applied_seq",
        )
        .bind(lib)
        .fetch_one(&mut **tx)
        .await?;
        Ok((row.try_get("last_seq")?, row.try_get("applied_seq")?))
    }

    /// Records the counter and that the feed is applied up to `applied`.
    async fn set_counter(tx: &mut WriteTx, lib: &str, last: i64, applied: i64) -> Result<(), sqlx::Error> {
        sqlx::query("UPDATE sync_counters SET last_seq = $2, applied_seq = $3 WHERE library_id = $1")
            .bind(lib)
            .bind(last)
            .bind(applied)
            .execute(&mut **tx)
            .await?;
        Ok(())
    }

    /// Inserts one change with sequence `last + 1` unless its id is known.
    /// Returns its sequence and whether it is new, or `None` when the id
    /// belongs to another library.
    async fn insert_change(
        bell: &std::sync::Arc<FeedBell>,
        tx: &mut WriteTx,
        lib: &str,
        last: &mut i64,
        c: &Change,
        account: Option<&str>,
    ) -> Result<Option<(u64, bool)>, sqlx::Error> {
        let id = c.change_id.to_string();
        let existing = |r: AnyRow| -> Result<Option<(u64, bool)>, sqlx::Error> {
            let l: String = r.try_get("library_id")?;
            let seq: i64 = r.try_get("server_seq")?;
            Ok((l == lib).then_some((seq as u64, false)))
        };
        let seq = *last + 1;
        // Inserted first, looked up only when already there (a push
        // repeated after a lost reply): one round trip for a new change.
        let done = sqlx::query(
            "INSERT INTO sync_feed (library_id, server_seq, change_id, entity, entity_id, op, hlc, site_id, payload, received_at, account_id) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT (change_id) DO NOTHING",
        )
        .bind(lib)
        .bind(seq)
        .bind(&id)
        .bind(c.entity.as_str())
        .bind(c.entity_id.to_string())
        .bind(op_str(c.op))
        .bind(c.hlc as i64)
        .bind(c.site_id.to_string())
        .bind(c.payload.to_string())
        .bind(now_ms())
        .bind(account)
        .execute(&mut **tx)
        .await?;
        if done.rows_affected() == 0 {
            let r = sqlx::query("SELECT library_id, server_seq FROM sync_feed WHERE change_id = $1").bind(&id).fetch_one(&mut **tx).await?;
            return existing(r);
        }
        *last = seq;
        tx.fed = Some(bell.clone());
        Ok(Some((seq as u64, true)))
    }

    /// Stores checked changes of one push in one transaction, in order,
    /// each once, and applies each new one to the library's tables
    /// (`replica`); a change already stored is answered with its sequence,
    /// one the tables cannot take is rejected and never enters the feed.
    ///
    /// Pushes from honest desks apply whole: the transaction runs without a
    /// savepoint per change, and only when a change does not fit is it run
    /// again with one, so that change alone is refused.
    pub async fn store_pushed(&self, lib: &str, site: &str, account: &str, changes: &[Change]) -> DbResult<Vec<Stored>> {
        if let Some(out) = self.store_pushed_once(lib, site, account, changes, false).await? {
            return Ok(out);
        }
        let out = self.store_pushed_once(lib, site, account, changes, true).await?;
        out.ok_or_else(|| DbError::Internal("a push refused a change with savepoints on".into()))
    }

    /// One attempt: `None` when a change does not fit and `careful` is
    /// off (nothing was written).
    async fn store_pushed_once(
        &self,
        lib: &str,
        site: &str,
        account: &str,
        changes: &[Change],
        careful: bool,
    ) -> DbResult<Option<Vec<Stored>>> {
        let mut tx = self.begin_write().await?;
        self.plan_for_growing_tables(&mut tx).await?;
        let (mut last, applied) = Self::lock_counter(&mut tx, lib).await?;
        if applied < last {
            self.catch_up(&mut tx, lib, applied, last).await?;
        }
        let mut replica = Replica::new(lib);
        let mut out = Vec::with_capacity(changes.len());
        for c in changes {
            if careful {
                sqlx::query("SAVEPOINT pushed_change").execute(&mut *tx).await?;
            }
            let before = last;
            // Only a careful run undoes a change (and what it marked dirty).
            let dirty = if careful { replica.dirty_titles() } else { Default::default() };
            let stored = match Self::insert_change(&self.feed_bell, &mut tx, lib, &mut last, c, Some(account)).await? {
                None => Stored::Rejected(Rejected {
                    change_id: c.change_id,
                    code: RejectCode::Forbidden,
                    reason: "this change id is already used in another library".into(),
                }),
                Some((seq, false)) => Stored::Accepted(seq),
                Some((seq, true)) => match self.apply_change(&mut tx, &mut replica, c).await {
                    Ok(()) => Stored::Accepted(seq),
                    Err(Fault::Change(_)) if !careful => {
                        tx.rollback().await?;
                        return Ok(None);
                    }
                    Err(Fault::Change(why)) => {
                        sqlx::query("ROLLBACK TO SAVEPOINT pushed_change").execute(&mut *tx).await?;
                        last = before;
                        replica.restore_dirty(dirty);
                        Stored::Rejected(Rejected {
                            change_id: c.change_id,
                            code: RejectCode::Malformed,
                            reason: format!("the library cannot take this change: {why}"),
                        })
                    }
                    Err(Fault::Db(e)) => return Err(e.into()),
                },
            };
            if careful {
                sqlx::query("RELEASE SAVEPOINT pushed_change").execute(&mut *tx).await?;
            }
            out.push(stored);
        }
        self.finish_applying(&mut tx, &mut replica).await?;
        Self::set_counter(&mut tx, lib, last, last).await?;
        sqlx::query("UPDATE sync_devices SET last_push_at = $3 WHERE library_id = $1 AND site_id = $2")
            .bind(lib)
            .bind(site)
            .bind(now_ms())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        if let Some(newest) = changes.iter().map(|c| c.hlc).max() {
            self.receive(newest);
        }
        Ok(Some(out))
    }

    /// On PostgreSQL, plans each statement of this transaction for its
    /// parameters and the tables as they are now. A generic plan cached
    /// while a library's tables were nearly empty looked rows up by the
    /// `library_id` prefix of a composite index instead of the primary key
    /// and kept doing so as the library grew: applying a first push slowed
    /// from 1,191 changes/s at 8,000 changes to 299/s at 80,000.
    pub(super) async fn plan_for_growing_tables(&self, tx: &mut WriteTx) -> Result<(), sqlx::Error> {
        if self.backend == super::Backend::Postgres {
            sqlx::query("SET LOCAL plan_cache_mode = force_custom_plan").execute(&mut **tx).await?;
        }
        Ok(())
    }

    /// Appends one of the server's own changes to the feed, in the write's
    /// transaction. The write is applied already: when the feed was applied
    /// up to the change before it, it now is up to this one.
    pub(super) async fn append_own(&self, tx: &mut WriteTx, lib: &str, c: &Change) -> Result<(), sqlx::Error> {
        let (mut last, applied) = Self::lock_counter(tx, lib).await?;
        let caught_up = applied == last;
        Self::insert_change(&self.feed_bell, tx, lib, &mut last, c, None).await?;
        Self::set_counter(tx, lib, last, if caught_up { last } else { applied }).await
    }

    /// [`Db::pull`], but when nothing is newer than `after` it waits up to
    /// `wait` for a change to arrive (a long poll: desktops hear of a change
    /// as soon as it is committed instead of at their next scheduled sync).
    pub async fn pull_waiting(&self, lib: &str, site: Option<&str>, after: u64, limit: u32, wait: Duration) -> DbResult<PullResponse> {
        let deadline = tokio::time::Instant::now() + wait;
        // Subscribed before looking, so a change committed in between rings.
        let mut rung = self.feed_bell.rung.subscribe();
        loop {
            let page = self.pull(lib, site, after, limit).await?;
            let now = tokio::time::Instant::now();
            if !page.changes.is_empty() || now >= deadline || self.feed_bell.is_closing() {
                return Ok(page);
            }
            tokio::select! {
                _ = rung.changed() => {}
                _ = tokio::time::sleep((deadline - now).min(RECHECK)) => {}
            }
        }
    }

    /// Changes after `after`, at most `limit` and about [`PULL_PAGE_BUDGET`]
    /// characters of payload, in sequence order.
    pub async fn pull(&self, lib: &str, site: Option<&str>, after: u64, limit: u32) -> DbResult<PullResponse> {
        let after = i64::try_from(after).unwrap_or(i64::MAX);
        // A page stops at `limit` changes or, before that, once its payloads
        // pass PULL_PAGE_BUDGET (the first change always goes): a change may
        // be 256 KiB, and a thousand of them per pull, times parallel pulls,
        // would be the server's memory. The sum is taken by the database.
        let rows = sqlx::query(
            "SELECT server_seq, change_id, entity, entity_id, op, hlc, site_id, payload FROM ( \
               SELECT server_seq, change_id, entity, entity_id, op, hlc, site_id, payload, \
                      SUM(LENGTH(COALESCE(payload, ''))) OVER (ORDER BY server_seq) - LENGTH(COALESCE(payload, '')) AS before_it \
               FROM (SELECT * FROM sync_feed WHERE library_id = $1 AND server_seq > $2 ORDER BY server_seq LIMIT $3) page \
             ) sized WHERE before_it < $4 ORDER BY server_seq",
        )
        .bind(lib)
        .bind(after)
        .bind(i64::from(limit))
        .bind(PULL_PAGE_BUDGET)
        .fetch_all(&self.pool)
        .await?;
        let mut changes = Vec::with_capacity(rows.len());
        for r in &rows {
            changes.push(sequenced(r).map_err(DbError::Internal)?);
        }
        let hw: Option<i64> = sqlx::query("SELECT last_seq FROM sync_counters WHERE library_id = $1")
            .bind(lib)
            .fetch_optional(&self.pool)
            .await?
            .map(|r| r.try_get("last_seq"))
            .transpose()?;
        let last = changes.last().map_or(after.max(0) as u64, |c: &Sequenced| c.server_seq);
        let high_water = (hw.unwrap_or(0).max(0) as u64).max(last);
        // The library's sequence has no gaps: anything after the page's
        // last change is more.
        let more = last < high_water;
        // When the device last pulled, at most every 30 s (a write).
        let stale = match site {
            Some(site) => sqlx::query(
                "SELECT 1 AS x FROM sync_devices WHERE library_id = $1 AND site_id = $2 AND (last_pull_at IS NULL OR last_pull_at < $3)",
            )
            .bind(lib)
            .bind(site)
            .bind(now_ms() - 30_000)
            .fetch_optional(&self.pool)
            .await?
            .is_some(),
            None => false,
        };
        if let (Some(site), true) = (site, stale) {
            let mut tx = self.begin_write().await?;
            sqlx::query("UPDATE sync_devices SET last_pull_at = $3 WHERE library_id = $1 AND site_id = $2")
                .bind(lib)
                .bind(site)
                .bind(now_ms())
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
        }
        Ok(PullResponse { changes, high_water, more })
    }
}

pub(super) fn sequenced(r: &AnyRow) -> Result<Sequenced, String> {
    let get = |c: &str| r.try_get::<String, _>(c).map_err(|e| format!("sync_feed.{c}: {e}"));
    let uuid = |c: &str| get(c).and_then(|s| Uuid::parse_str(&s).map_err(|e| format!("sync_feed.{c}: {e}")));
    let seq: i64 = r.try_get("server_seq").map_err(|e| e.to_string())?;
    let hlc: i64 = r.try_get("hlc").map_err(|e| e.to_string())?;
    let entity = Entity::parse(&get("entity")?).ok_or("sync_feed.entity: unknown")?;
    let op = parse_op(&get("op")?).ok_or("sync_feed.op: unknown")?;
    let payload = serde_json::from_str(&get("payload")?).map_err(|e| format!("sync_feed.payload: {e}"))?;
    Ok(Sequenced {
        server_seq: seq as u64,
        change: Change {
            change_id: uuid("change_id")?,
            entity,
            entity_id: uuid("entity_id")?,
            op,
            hlc: hlc as u64,
            site_id: uuid("site_id")?,
            payload,
        },
    })
}

/// How a column of the server's table becomes a column of the desktop's
/// change payload.
#[derive(Clone, Copy)]
enum K {
    /// TEXT (or a UUID as text): a string or null.
    T,
    /// BIGINT: a number or null.
    I,
    /// BIGINT unix ms: the desktop's RFC 3339 text.
    Ts,
}

/// `(desktop column, server expression, kind)` per entity the server
/// feeds (its default member types are the desks' own rows, never sent).
type FeedCols = &'static [(&'static str, &'static str, K)];

fn feed_spec(entity: Entity) -> Option<(&'static str, FeedCols)> {
    use K::{I, T, Ts};
    match entity {
        Entity::Title => Some((
            "titles",
            &[
                ("id", "id", T),
                ("title", "title", T),
                ("subtitle", "subtitle", T),
                ("sort_title", "sort_title", T),
                ("contributors", "contributors", T),
                ("author_sort", "COALESCE(author_sort, '')", T),
                ("subjects", "subjects", T),
                ("tags", "tags", T),
                ("series", "series", T),
                ("series_number", "series_number", T),
                ("language", "language", T),
                ("publisher", "publisher", T),
                ("published", "published", T),
                ("pub_year", "pub_year", I),
                ("pages", "pages", I),
                ("isbn13", "isbn13", T),
                ("lccn", "lccn", T),
                ("call_number", "call_number", T),
                ("notes", "notes", T),
                ("cover_ref", "cover_ref", T),
                ("field_sources", "field_sources", T),
                ("created_at", "created_at", Ts),
                ("updated_at", "updated_at", Ts),
            ],
        )),
        Entity::Copy => Some((
            "copies",
            &[
                ("id", "id", T),
                ("title_id", "title_id", T),
                ("barcode", "barcode", T),
                ("location", "location", T),
                ("shelf", "shelf", T),
                ("condition", "condition", T),
                ("acquired_on", "acquired_on", T),
                ("price_cents", "price_cents", I),
                ("currency", "currency", T),
                ("provenance", "provenance", T),
                ("notes", "notes", T),
                ("created_at", "created_at", Ts),
                ("updated_at", "updated_at", Ts),
            ],
        )),
        Entity::Member => Some((
            "members",
            &[
                ("id", "id", T),
                ("card", "card", T),
                ("name", "name", T),
                ("email", "email", T),
                ("phone", "phone", T),
                ("address", "address", T),
                ("member_type", "member_type", T),
                ("expires_on", "expires_on", T),
                ("blocked", "blocked", I),
                ("block_reason", "block_reason", T),
                ("notes", "notes", T),
                ("created_at", "created_at", Ts),
                ("updated_at", "updated_at", Ts),
            ],
        )),
        Entity::Event => Some((
            "circulation_events",
            &[
                ("id", "id", T),
                // The desktop's stream: the copy for copy events, else the title.
                ("stream_id", "COALESCE(copy_id, title_id)", T),
                ("kind", "kind", T),
                ("title_id", "title_id", T),
                ("copy_id", "copy_id", T),
                ("member_id", "member_id", T),
                ("hold_id", "hold_id", T),
                ("due_on", "due_on", T),
                ("prev_event_id", "prev_event_id", T),
                ("occurred_at", "at", Ts),
                ("actor_id", "NULL", T),
            ],
        )),
        Entity::MemberType => Some((
            "member_types",
            &[
                ("id", "id", T),
                ("code", "code", T),
                ("name", "name", T),
                ("loan_days", "loan_days", I),
                ("max_renewals", "max_renewals", I),
                ("max_loans", "max_loans", I),
                ("hold_pickup_days", "hold_pickup_days", I),
            ],
        )),
        // The server does not resolve desks' conflicts itself.
        Entity::ConflictResolution => None,
    }
}

impl Db {
    /// Appends the server's own write of a row (as it now is) or its delete
    /// to the library's sync feed, in the write's transaction; called by
    /// `log_change`.
    pub(super) async fn feed_own(
        &self,
        tx: &mut WriteTx,
        lib: &str,
        entity: &str,
        id: &str,
        op: &str,
        hlc: i64,
    ) -> Result<(), sqlx::Error> {
        let Some(entity) = Entity::parse(entity) else { return Ok(()) };
        if feed_spec(entity).is_none() {
            return Ok(());
        }
        let entity_id = Uuid::parse_str(id).map_err(|e| sqlx::Error::Protocol(format!("feed: id {id}: {e}")))?;
        let site_id = Uuid::parse_str(&self.site).map_err(|e| sqlx::Error::Protocol(format!("feed: site id: {e}")))?;
        let (op, payload) = if op == "delete" {
            // A delete wins over every older version a desk may still push.
            sqlx::query(
                "INSERT INTO tombstones (library_id, entity_id, entity, hlc, site) VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT (library_id, entity, entity_id) DO UPDATE SET hlc = excluded.hlc, site = excluded.site",
            )
            .bind(lib)
            .bind(id)
            .bind(entity.as_str())
            .bind(hlc)
            .bind(&*self.site)
            .execute(&mut **tx)
            .await?;
            (Op::Delete, serde_json::Value::Null)
        } else {
            let payload = Self::row_payload(tx, lib, entity, id).await?.ok_or(sqlx::Error::RowNotFound)?;
            (if entity == Entity::Event { Op::Event } else { Op::Upsert }, payload)
        };
        let change = Change { change_id: Uuid::now_v7(), entity, entity_id, op, hlc: hlc as u64, site_id, payload };
        self.append_own(tx, lib, &change).await?;
        Ok(())
    }

    /// A row of the library as a desk's change payload (`None`: no such
    /// row, or an entity the server does not feed).
    pub(super) async fn row_payload(
        tx: &mut WriteTx,
        lib: &str,
        entity: Entity,
        id: &str,
    ) -> Result<Option<serde_json::Value>, sqlx::Error> {
        let Some((table, cols)) = feed_spec(entity) else { return Ok(None) };
        let select = cols.iter().map(|(name, expr, _)| format!("{expr} AS {name}")).collect::<Vec<_>>().join(", ");
        let sql = format!("SELECT {select} FROM {table} WHERE library_id = $1 AND id = $2");
        let Some(row) = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(lib).bind(id).fetch_optional(&mut **tx).await? else { return Ok(None) };
        let mut map = serde_json::Map::new();
        for (name, _, kind) in cols {
            let v = match kind {
                K::T => row.try_get::<Option<String>, _>(*name)?.map(serde_json::Value::from),
                K::I => row.try_get::<Option<i64>, _>(*name)?.map(serde_json::Value::from),
                K::Ts => row.try_get::<Option<i64>, _>(*name)?.map(|ms| crate::time::rfc3339(ms).into()),
            };
            map.insert((*name).to_owned(), v.unwrap_or(serde_json::Value::Null));
        }
        if entity == Entity::Member {
            let name = map.get("name").and_then(|v| v.as_str()).unwrap_or_default();
            map.insert("sort_name".into(), shelfkeeper_domain::text::person_sort_key(name).into());
        }
        Ok(Some(serde_json::Value::Object(map)))
    }
}
