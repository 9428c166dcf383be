//! Cover images travel beside the feed: a title's `cover_ref` replicates
//! as a column, the blob it names is uploaded once by the desk that has it
//! and fetched by id by the desks that lack it (`migrations/0010`).

use super::run::{SyncError, SyncTransport};
use crate::{Store, db_err};
use shelfkeeper_domain::Result;
use uuid::Uuid;

/// Covers sent, and fetched, per sync run at most: a store imported with
/// thousands of covers shares them over several runs, not in one that
/// keeps the rest of sync waiting.
pub(super) const COVERS_PER_RUN: i64 = 100;

/// How long before a cover the server did not have yet is asked for again.
const ASK_AGAIN_AFTER: &str = "-1 hour";

/// The server has blob `id` (or, with `refused`, will not take it).
async fn record_sent(conn: &mut sqlx::SqliteConnection, id: Uuid, now: &str, refused: Option<&str>) -> Result<()> {
    sqlx::query("INSERT OR REPLACE INTO covers_sent (id, sent_at, refused) VALUES (?, ?, ?)")
        .bind(id.to_string())
        .bind(now)
        .bind(refused)
        .execute(conn)
        .await
        .map_err(db_err)?;
    Ok(())
}

impl Store {
    /// Blobs a title here names that the server has not been offered yet.
    pub async fn covers_to_send(&self, limit: i64) -> Result<Vec<(Uuid, Vec<u8>)>> {
        let rows: Vec<(String, Vec<u8>)> = sqlx::query_as(
            "SELECT c.id, c.bytes FROM covers c
             WHERE NOT EXISTS (SELECT 1 FROM covers_sent s WHERE s.id = c.id)
               AND EXISTS (SELECT 1 FROM titles t WHERE t.cover_ref = 'cover:' || c.id)
             ORDER BY c.seq LIMIT ?",
        )
        .bind(limit)
        .fetch_all(&self.read)
        .await
        .map_err(db_err)?;
        Ok(rows.into_iter().filter_map(|(id, bytes)| Uuid::parse_str(&id).ok().map(|u| (u, bytes))).collect())
    }

    /// Records that the server has blob `id` (or, with `refused`, will not
    /// take it: it is not offered again).
    pub async fn cover_sent(&self, id: Uuid, refused: Option<&str>) -> Result<()> {
        let mut w = self.write_tx().await?;
        let now = w.now_text();
        record_sent(w.conn(), id, &now, refused).await?;
        w.commit().await
    }

    /// Blobs titles here name but this store lacks, not asked for within
    /// the last hour.
    pub async fn covers_missing(&self, limit: i64) -> Result<Vec<Uuid>> {
        let ids: Vec<String> = sqlx::query_scalar(
            "SELECT DISTINCT substr(t.cover_ref, 7) FROM titles t
             WHERE t.cover_ref LIKE 'cover:%'
               AND NOT EXISTS (SELECT 1 FROM covers c WHERE c.id = substr(t.cover_ref, 7))
               AND NOT EXISTS (SELECT 1 FROM covers_wanted w WHERE w.id = substr(t.cover_ref, 7)
                               AND w.tried_at > strftime('%Y-%m-%dT%H:%M:%fZ', 'now', ?))
             LIMIT ?",
        )
        .bind(ASK_AGAIN_AFTER)
        .bind(limit)
        .fetch_all(&self.read)
        .await
        .map_err(db_err)?;
        Ok(ids.iter().filter_map(|id| Uuid::parse_str(id).ok()).collect())
    }

    /// Keeps a fetched blob (`None`: the server did not have it yet; asked
    /// again in an hour). The image is checked as any cover is; a title
    /// must still name it.
    pub async fn cover_fetched(&self, id: Uuid, bytes: Option<&[u8]>) -> Result<()> {
        let mut w = self.write_tx().await?;
        let now = w.now_text();
        let kind = bytes.map(shelfkeeper_domain::cover::sniff).transpose();
        match (bytes, kind) {
            (Some(bytes), Ok(Some(kind))) => {
                sqlx::query(
                    "INSERT INTO covers (id, mime, bytes, source, added_at)
                     SELECT ?1, ?2, ?3, 'sync', ?4 WHERE EXISTS (SELECT 1 FROM titles WHERE cover_ref = 'cover:' || ?1)
                     ON CONFLICT (id) DO NOTHING",
                )
                .bind(id.to_string())
                .bind(kind.mime())
                .bind(bytes)
                .bind(&now)
                .execute(w.conn())
                .await
                .map_err(db_err)?;
                // The server has it: nothing to send back.
                record_sent(w.conn(), id, &now, None).await?;
                sqlx::query("DELETE FROM covers_wanted WHERE id = ?").bind(id.to_string()).execute(w.conn()).await.map_err(db_err)?;
            }
            _ => {
                sqlx::query("INSERT OR REPLACE INTO covers_wanted (id, tried_at) VALUES (?, ?)")
                    .bind(id.to_string())
                    .bind(&now)
                    .execute(w.conn())
                    .await
                    .map_err(db_err)?;
            }
        }
        w.commit().await
    }

    /// Offers the server the blobs it lacks (before pushing the titles
    /// that name them). Returns how many were sent.
    pub(super) async fn send_covers(&self, t: &impl SyncTransport) -> std::result::Result<u32, SyncError> {
        let mut sent = 0;
        for (id, bytes) in self.covers_to_send(COVERS_PER_RUN).await? {
            let refused = t.put_cover(id, bytes).await.map_err(SyncError::Transport)?;
            self.cover_sent(id, refused.as_deref()).await?;
            sent += 1;
        }
        Ok(sent)
    }

    /// Fetches blobs titles here name but this store lacks. Returns how
    /// many arrived.
    pub(super) async fn fetch_covers(&self, t: &impl SyncTransport) -> std::result::Result<u32, SyncError> {
        let mut got = 0;
        for id in self.covers_missing(COVERS_PER_RUN).await? {
            let bytes = t.get_cover(id).await.map_err(SyncError::Transport)?;
            got += u32::from(bytes.is_some());
            self.cover_fetched(id, bytes.as_deref()).await?;
        }
        Ok(got)
    }
}
