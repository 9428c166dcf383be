//! The server as a replica of each library: every change a desk pushes is
//! applied to the library's own tables, in feed order, with the desks'
//! merge rules (`shelfkeeper_sync::merge`) and the domain's projection of
//! circulation events, so REST sees desk work and the server's rows are
//! the rows every desk converges on. This module only loads what a rule
//! needs and writes what it answers: rows ([`rows`]), the unique keys they
//! claim ([`claims`]) and events ([`events`]).
//!
//! A pushed change is applied in the push's transaction, in a savepoint: a
//! change the library's tables cannot take (an id of another library, a
//! broken invariant) is rejected at the door and never enters the feed.
//! The sync counter's `applied_seq` says how far the feed is applied;
//! changes from before the server applied pushes are applied at start.

mod claims;
mod events;
mod rows;

use super::sync::sequenced;
use super::{Db, DbResult, WriteTx, now_ms};
use shelfkeeper_sync::{Change, Entity, Op, Stamp};
use sqlx::Row;
use std::collections::BTreeSet;
use uuid::Uuid;

/// Why a change could not be applied.
#[derive(Debug)]
pub(crate) enum Fault {
    /// The change does not fit the library (rejected or quarantined).
    Change(String),
    /// The database failed: the whole push fails and is retried.
    Db(sqlx::Error),
}

impl From<sqlx::Error> for Fault {
    fn from(e: sqlx::Error) -> Self {
        // A constraint the change breaks is about the change; anything
        // else (a lost connection, a full disk) is about the machine.
        match &e {
            sqlx::Error::Database(d)
                if d.code().is_some_and(|c| c.starts_with("23") || matches!(&*c, "19" | "275" | "787" | "1555" | "2067")) =>
            {
                Fault::Change(format!("the library's tables refuse it: {}", d.message()))
            }
            _ => Fault::Db(e),
        }
    }
}

impl From<super::DbError> for Fault {
    fn from(e: super::DbError) -> Self {
        match e {
            super::DbError::Sqlx(e) => e.into(),
            other => Fault::Change(other.to_string()),
        }
    }
}

pub(crate) type Applied<T> = Result<T, Fault>;

fn bad<T>(why: impl Into<String>) -> Applied<T> {
    Err(Fault::Change(why.into()))
}

/// Applying changes to one library within one transaction.
pub(crate) struct Replica {
    pub lib: String,
    /// Titles whose loans and holds are replayed from their events before
    /// the transaction ends.
    dirty: BTreeSet<Uuid>,
    now: i64,
}

impl Replica {
    pub fn new(lib: &str) -> Self {
        Replica { lib: lib.to_owned(), dirty: BTreeSet::new(), now: now_ms() }
    }

    /// What a change about to be tried may add to (undone with it).
    pub fn dirty_titles(&self) -> BTreeSet<Uuid> {
        self.dirty.clone()
    }

    pub fn restore_dirty(&mut self, dirty: BTreeSet<Uuid>) {
        self.dirty = dirty;
    }
}

/// A stamp as the server stores it (`hlc`, `site` text).
fn stamp_of(hlc: Option<i64>, site: Option<String>) -> Applied<Option<Stamp>> {
    match (hlc, site) {
        (Some(hlc), Some(site)) => match Uuid::parse_str(&site) {
            Ok(site_id) => Ok(Some(Stamp { hlc: hlc as u64, site_id })),
            Err(_) => Err(Fault::Db(sqlx::Error::Protocol(format!("stored site '{site}' is not a UUID")))),
        },
        _ => Ok(None),
    }
}

impl Db {
    /// Applies one change of the library (already checked at the door).
    pub(crate) async fn apply_change(&self, tx: &mut WriteTx, r: &mut Replica, c: &Change) -> Applied<()> {
        match (c.entity, c.op) {
            (Entity::Event, _) => self.apply_event(tx, r, c).await,
            // Resolving a desk's conflict is desk work; the server keeps its
            // own record of what merging set aside.
            (Entity::ConflictResolution, _) => Ok(()),
            (_, Op::Upsert) => self.apply_upsert(tx, r, c).await,
            (_, Op::Delete) => self.apply_delete(tx, r, c).await,
            (_, Op::Event) => bad("only events use op 'event'"),
        }
    }

    /// After the changes of a push: claims settled, dirty titles replayed.
    /// A title whose events do not replay (a bug, or a damaged database) is
    /// left as it was and recorded as a `replay_failed` conflict: one title
    /// never stops a library's sync.
    pub(crate) async fn finish_applying(&self, tx: &mut WriteTx, r: &mut Replica) -> DbResult<()> {
        match self.settle_claims(tx, r).await {
            Ok(()) => {}
            Err(Fault::Change(why)) => return Err(super::DbError::Internal(format!("settling claimed keys: {why}"))),
            Err(Fault::Db(e)) => return Err(e.into()),
        }
        for title in std::mem::take(&mut r.dirty) {
            sqlx::query("SAVEPOINT replay_title").execute(&mut **tx).await?;
            match self.replay_title(tx, &r.lib, title).await {
                Ok(()) => {}
                Err(Fault::Change(why)) => {
                    sqlx::query("ROLLBACK TO SAVEPOINT replay_title").execute(&mut **tx).await?;
                    sqlx::query(
                        "INSERT INTO replica_conflicts (library_id, key, kind, entity, entity_id, hlc, site, detail, detected_at) \
                         VALUES ($1, $2, 'replay_failed', 'title', $3, 0, $4, $5, $6) ON CONFLICT (library_id, key) DO NOTHING",
                    )
                    .bind(&r.lib)
                    .bind(format!("replay:{title}"))
                    .bind(title.to_string())
                    .bind(&*self.site)
                    .bind(why)
                    .bind(r.now)
                    .execute(&mut **tx)
                    .await?;
                }
                Err(Fault::Db(e)) => return Err(e.into()),
            }
            sqlx::query("RELEASE SAVEPOINT replay_title").execute(&mut **tx).await?;
        }
        Ok(())
    }

    /// Applies the library's feed after `applied` up to `last` (changes
    /// stored before the server applied pushes), in the caller's
    /// transaction. The server's own writes are applied already; a change
    /// the tables cannot take is kept as a `quarantined` conflict, as a
    /// desk keeps one, and the rest goes on.
    pub(crate) async fn catch_up(&self, tx: &mut WriteTx, lib: &str, mut applied: i64, last: i64) -> DbResult<()> {
        let mut r = Replica::new(lib);
        while applied < last {
            let rows = sqlx::query(
                "SELECT server_seq, change_id, entity, entity_id, op, hlc, site_id, payload FROM sync_feed \
                 WHERE library_id = $1 AND server_seq > $2 AND server_seq <= $3 ORDER BY server_seq LIMIT 500",
            )
            .bind(lib)
            .bind(applied)
            .bind(last)
            .fetch_all(&mut **tx)
            .await?;
            let Some(end) = rows.last() else { break };
            applied = end.try_get("server_seq")?;
            for row in &rows {
                let s = sequenced(row).map_err(super::DbError::Internal)?;
                if s.change.site_id.to_string() == *self.site {
                    continue;
                }
                let outcome = match s.change.check_shape() {
                    Err(rej) => Err(Fault::Change(rej.reason)),
                    Ok(()) => self.apply_in_savepoint(tx, &mut r, &s.change).await,
                };
                match outcome {
                    Ok(()) => {}
                    Err(Fault::Change(why)) => self.quarantine(tx, lib, &s.change, s.server_seq, &why).await?,
                    Err(Fault::Db(e)) => return Err(e.into()),
                }
            }
        }
        self.finish_applying(tx, &mut r).await
    }

    /// One change in a savepoint: undone alone when it does not fit.
    pub(crate) async fn apply_in_savepoint(&self, tx: &mut WriteTx, r: &mut Replica, c: &Change) -> Applied<()> {
        sqlx::query("SAVEPOINT apply_change").execute(&mut **tx).await.map_err(Fault::Db)?;
        let dirty = r.dirty.clone();
        match self.apply_change(tx, r, c).await {
            Ok(()) => {
                sqlx::query("RELEASE SAVEPOINT apply_change").execute(&mut **tx).await.map_err(Fault::Db)?;
                Ok(())
            }
            Err(e) => {
                sqlx::query("ROLLBACK TO SAVEPOINT apply_change").execute(&mut **tx).await.map_err(Fault::Db)?;
                sqlx::query("RELEASE SAVEPOINT apply_change").execute(&mut **tx).await.map_err(Fault::Db)?;
                r.dirty = dirty;
                Err(e)
            }
        }
    }

    async fn quarantine(&self, tx: &mut WriteTx, lib: &str, c: &Change, seq: u64, why: &str) -> Result<(), sqlx::Error> {
        let change = serde_json::to_string(c).unwrap_or_default();
        sqlx::query(
            "INSERT INTO replica_conflicts (library_id, key, kind, entity, entity_id, hlc, site, payload, detail, detected_at) \
             VALUES ($1, $2, 'quarantined', $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (library_id, key) DO NOTHING",
        )
        .bind(lib)
        .bind(format!("quarantined:{}", c.change_id))
        .bind(c.entity.as_str())
        .bind(c.entity_id.to_string())
        .bind(c.hlc as i64)
        .bind(c.site_id.to_string())
        .bind(change)
        .bind(format!("server sequence {seq}: {why}"))
        .bind(now_ms())
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    /// At start: every library's feed applied up to its last change.
    pub async fn catch_up_all(&self) -> DbResult<()> {
        let behind: Vec<String> = sqlx::query("SELECT library_id FROM sync_counters WHERE applied_seq < last_seq")
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r| r.try_get("library_id"))
            .collect::<Result<_, _>>()?;
        for lib in behind {
            let mut tx = self.begin_write().await?;
            self.plan_for_growing_tables(&mut tx).await?;
            let row = sqlx::query("UPDATE sync_counters SET last_seq = last_seq WHERE library_id = $1 RETURNING last_seq, applied_seq")
                .bind(&lib)
                .fetch_one(&mut *tx)
                .await?;
            let (last, applied): (i64, i64) = (row.try_get("last_seq")?, row.try_get("applied_seq")?);
            self.catch_up(&mut tx, &lib, applied, last).await?;
            sqlx::query("UPDATE sync_counters SET applied_seq = $2 WHERE library_id = $1").bind(&lib).bind(last).execute(&mut *tx).await?;
            tx.commit().await?;
        }
        Ok(())
    }
}
