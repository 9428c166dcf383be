//! Cover blobs desks share through the server: stored once per library
//! and id, never changed, within a per-library budget.

use super::{Db, DbError, DbResult, now_ms};
use sqlx::Row;

/// What one library may keep in cover images (50,000 covers of 40 KiB,
/// with room to spare); beyond it uploads are refused, nothing else is.
pub const MAX_LIBRARY_COVER_BYTES: i64 = 4 * 1024 * 1024 * 1024;

/// A stored cover.
pub struct CoverBlob {
    pub mime: String,
    pub bytes: Vec<u8>,
}

impl Db {
    /// Stores a cover blob under `id` (already checked: a UUID, an image).
    /// `true`: stored now; `false`: the same image was there already. The
    /// same id with other bytes is refused (an id names one image).
    pub async fn put_cover(&self, lib: &str, id: &str, mime: &str, bytes: &[u8], account: &str) -> DbResult<bool> {
        let mut tx = self.begin_write().await?;
        let existing = sqlx::query("SELECT bytes FROM sync_covers WHERE library_id = $1 AND id = $2")
            .bind(lib)
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
        if let Some(r) = existing {
            let stored: Vec<u8> = r.try_get("bytes")?;
            return if stored == bytes {
                Ok(false)
            } else {
                Err(DbError::Conflict {
                    code: "cover_conflict",
                    message: format!("cover {id} is another image already: a cover never changes"),
                })
            };
        }
        let used: i64 = sqlx::query("SELECT CAST(COALESCE(SUM(size), 0) AS BIGINT) AS used FROM sync_covers WHERE library_id = $1")
            .bind(lib)
            .fetch_one(&mut *tx)
            .await?
            .try_get("used")?;
        if used + bytes.len() as i64 > MAX_LIBRARY_COVER_BYTES {
            return Err(DbError::Conflict {
                code: "cover_quota",
                message: format!("the library's covers take {} MiB, its limit: remove unused covers first", used / (1024 * 1024)),
            });
        }
        sqlx::query(
            "INSERT INTO sync_covers (library_id, id, mime, bytes, size, account_id, added_at) VALUES ($1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT (library_id, id) DO NOTHING",
        )
        .bind(lib)
        .bind(id)
        .bind(mime)
        .bind(bytes)
        .bind(bytes.len() as i64)
        .bind(account)
        .bind(now_ms())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    pub async fn cover_blob(&self, lib: &str, id: &str) -> DbResult<Option<CoverBlob>> {
        let r = sqlx::query("SELECT mime, bytes FROM sync_covers WHERE library_id = $1 AND id = $2")
            .bind(lib)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(match r {
            Some(r) => Some(CoverBlob { mime: r.try_get("mime")?, bytes: r.try_get("bytes")? }),
            None => None,
        })
    }
}
