//! A library's compacted feed for a desk's first sync
//! (`shelfkeeper_sync::snapshot`): of each row the versions that still
//! decide something — the one the library's tables hold, its tombstone,
//! a version kept aside — and every event and conflict resolution, read
//! from the feed verbatim in one consistent view and streamed.

use super::sync::sequenced;
use super::{Backend, Db, DbError, DbResult};
use shelfkeeper_sync::PROTOCOL_VERSION;
use shelfkeeper_sync::snapshot::{Section, SnapshotEnd, SnapshotHead};
use sqlx::Row;
use tokio::sync::mpsc;

/// Bytes per chunk sent to the client.
const CHUNK: usize = 256 * 1024;
/// The longest a snapshot may take: its transaction holds a connection
/// (and, on PostgreSQL, an old view that vacuum must keep), so a client
/// that reads slowly is cut off rather than held forever. 400,000 changes
/// are about 200 MB: minutes on a slow line.
const MAX_SNAPSHOT_TIME: std::time::Duration = std::time::Duration::from_secs(20 * 60);

/// A snapshot being read: its head and its body, chunk by chunk. The body
/// ends with the end line; a failure ends it early (the client sees a cut
/// stream and starts over).
pub struct Snapshot {
    pub head: SnapshotHead,
    pub body: mpsc::Receiver<Vec<u8>>,
}

/// A feed row that is a row's version the tables hold now (or hold as
/// tombstone, or keep aside).
fn holds(table: &str, entity: &str) -> String {
    format!(
        "(f.entity = '{entity}' AND EXISTS (SELECT 1 FROM {table} r WHERE r.library_id = $1 AND r.id = f.entity_id \
         AND r.hlc = f.hlc AND r.site = f.site_id))"
    )
}

fn snapshot_sql() -> String {
    format!(
        "SELECT server_seq, change_id, entity, entity_id, op, hlc, site_id, payload FROM sync_feed f \
         WHERE f.library_id = $1 AND f.server_seq <= $2 AND ( \
           f.entity IN ('event', 'conflict_resolution') \
           OR (f.op = 'delete' AND EXISTS (SELECT 1 FROM tombstones t WHERE t.library_id = $1 AND t.entity = f.entity \
               AND t.entity_id = f.entity_id AND t.hlc = f.hlc AND t.site = f.site_id)) \
           OR (f.op = 'upsert' AND ({} OR {} OR {} OR {} \
               OR EXISTS (SELECT 1 FROM replica_conflicts k WHERE k.library_id = $1 AND k.key = 'row:' || f.entity_id \
                  AND k.kind = 'kept_row' AND k.entity = f.entity AND k.hlc = f.hlc AND k.site = f.site_id))) \
         ) ORDER BY {}, f.server_seq",
        holds("titles", "title"),
        holds("copies", "copy"),
        holds("members", "member"),
        holds("member_types", "member_type"),
        Section::order_sql("f.entity", "f.op"),
    )
}

impl Db {
    /// Starts reading the library's snapshot. `None`: the feed is not
    /// applied to the library's tables yet (changes from before the server
    /// applied pushes), so the tables are not the feed's state: pull it.
    pub async fn snapshot(&self, lib: &str) -> DbResult<Option<Snapshot>> {
        let mut tx = self.pool.begin().await?;
        if self.backend == Backend::Postgres {
            // One view of the feed and the tables for the whole stream.
            sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY").execute(&mut *tx).await?;
        }
        // (SQLite: the transaction's first read fixes its view, in WAL mode.)
        let counter =
            sqlx::query("SELECT last_seq, applied_seq FROM sync_counters WHERE library_id = $1").bind(lib).fetch_optional(&mut *tx).await?;
        let (last, applied): (i64, i64) = match counter {
            Some(r) => (r.try_get("last_seq")?, r.try_get("applied_seq")?),
            None => (0, 0),
        };
        if applied < last {
            return Ok(None);
        }
        let estimate: i64 = sqlx::query(
            "SELECT (SELECT COUNT(*) FROM titles WHERE library_id = $1) + (SELECT COUNT(*) FROM copies WHERE library_id = $1) \
                  + (SELECT COUNT(*) FROM members WHERE library_id = $1) + (SELECT COUNT(*) FROM circulation_events WHERE library_id = $1) AS n",
        )
        .bind(lib)
        .fetch_one(&mut *tx)
        .await?
        .try_get("n")?;
        let head = SnapshotHead { protocol: PROTOCOL_VERSION, as_of: last.max(0) as u64, estimate: estimate.max(0) as u64 };
        let (send, body) = mpsc::channel(4);
        let lib = lib.to_owned();
        let first = serde_json::to_vec(&head).map_err(|e| DbError::Internal(e.to_string()))?;
        tokio::spawn(async move {
            let sent = tokio::time::timeout(MAX_SNAPSHOT_TIME, stream(&mut tx, &lib, last, first, &send)).await;
            match sent {
                Ok(Ok(())) => {}
                Ok(Err(e)) => tracing::warn!(library = %lib, error = %e, "snapshot cut short"),
                Err(_) => tracing::warn!(library = %lib, "snapshot cut off: the client read too slowly"),
            }
            let _ = tx.rollback().await;
        });
        Ok(Some(Snapshot { head, body }))
    }
}

async fn stream(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    lib: &str,
    as_of: i64,
    head: Vec<u8>,
    send: &mpsc::Sender<Vec<u8>>,
) -> Result<(), String> {
    use futures_util::TryStreamExt;
    let mut buf = head;
    buf.push(b'\n');
    let mut sent = 0u64;
    let sql = snapshot_sql();
    let mut rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(lib).bind(as_of).fetch(&mut **tx);
    while let Some(r) = rows.try_next().await.map_err(|e| e.to_string())? {
        let change = sequenced(&r)?;
        serde_json::to_writer(&mut buf, &change).map_err(|e| e.to_string())?;
        buf.push(b'\n');
        sent += 1;
        if buf.len() >= CHUNK {
            // The client went away: stop reading.
            send.send(std::mem::replace(&mut buf, Vec::with_capacity(CHUNK + 4096))).await.map_err(|_| "the client left".to_string())?;
        }
    }
    serde_json::to_writer(&mut buf, &SnapshotEnd { end: sent }).map_err(|e| e.to_string())?;
    buf.push(b'\n');
    send.send(buf).await.map_err(|_| "the client left".to_string())
}
