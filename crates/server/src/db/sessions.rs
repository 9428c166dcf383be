//! Sessions (login families) and their rotating refresh tokens.

use super::{Db, now_ms};
use sqlx::Row;

/// How long after its exchange a refresh token may be exchanged once more,
/// when the token issued for it was never used (a lost reply).
pub const REFRESH_GRACE_MS: i64 = 60_000;

/// What exchanging a refresh token found.
#[derive(Debug, PartialEq, Eq)]
pub enum Rotation {
    /// Exchanged: the session and its account.
    Rotated { session_id: String, account_id: String },
    /// The token was already exchanged once: its whole family is now revoked.
    Reused,
    /// Unknown token, or a revoked/expired session, or a disabled account.
    Invalid,
}

impl Db {
    pub async fn create_session(&self, session_id: &str, account_id: &str, refresh_hash: &str, ttl_ms: i64) -> Result<(), sqlx::Error> {
        let now = now_ms();
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO sessions (id, account_id, created_at, expires_at, revoked_at, revoked_reason) VALUES ($1, $2, $3, $4, NULL, NULL)",
        )
        .bind(session_id)
        .bind(account_id)
        .bind(now)
        .bind(now + ttl_ms)
        .execute(&mut *tx)
        .await?;
        sqlx::query("INSERT INTO refresh_tokens (token_hash, session_id, created_at, rotated_at) VALUES ($1, $2, $3, NULL)")
            .bind(refresh_hash)
            .bind(session_id)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        tx.commit().await
    }

    /// Exchanges a refresh token for a new one in the same family. The
    /// conditional UPDATEs are the arbiters: of two concurrent exchanges of
    /// the same token only one rotates it, the other counts as reuse.
    ///
    /// A token already exchanged is taken once more within
    /// [`REFRESH_GRACE_MS`] of its exchange if the token issued for it was
    /// never used: the reply carrying that token was lost, and the client
    /// asks again with the only token it has. The unused successor is
    /// retired (using it later is reuse). Any other second use revokes the
    /// whole family.
    pub async fn rotate_refresh(&self, old_hash: &str, new_hash: &str) -> Result<Rotation, sqlx::Error> {
        let now = now_ms();
        let row = sqlx::query(
            "SELECT t.session_id, t.rotated_at, t.successor, t.grace_used_at, s.account_id, s.revoked_at, s.expires_at, a.disabled \
             FROM refresh_tokens t JOIN sessions s ON s.id = t.session_id JOIN accounts a ON a.id = s.account_id WHERE t.token_hash = $1",
        )
        .bind(old_hash)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(Rotation::Invalid) };
        let session_id: String = row.try_get("session_id")?;
        let account_id: String = row.try_get("account_id")?;
        if row.try_get::<Option<i64>, _>("revoked_at")?.is_some()
            || row.try_get::<i64, _>("expires_at")? <= now
            || row.try_get::<i64, _>("disabled")? != 0
        {
            return Ok(Rotation::Invalid);
        }
        let mut tx = self.begin_write().await?;
        let taken = match row.try_get::<Option<i64>, _>("rotated_at")? {
            None => {
                sqlx::query("UPDATE refresh_tokens SET rotated_at = $1, successor = $2 WHERE token_hash = $3 AND rotated_at IS NULL")
                    .bind(now)
                    .bind(new_hash)
                    .bind(old_hash)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected()
                    == 1
            }
            Some(rotated_at) => {
                let successor: Option<String> = row.try_get("successor")?;
                let in_grace = now - rotated_at <= REFRESH_GRACE_MS && row.try_get::<Option<i64>, _>("grace_used_at")?.is_none();
                match successor {
                    Some(successor) if in_grace => {
                        let once = sqlx::query(
                            "UPDATE refresh_tokens SET grace_used_at = $1, successor = $2 WHERE token_hash = $3 AND grace_used_at IS NULL",
                        )
                        .bind(now)
                        .bind(new_hash)
                        .bind(old_hash)
                        .execute(&mut *tx)
                        .await?
                        .rows_affected();
                        let unused = sqlx::query("UPDATE refresh_tokens SET rotated_at = $1 WHERE token_hash = $2 AND rotated_at IS NULL")
                            .bind(now)
                            .bind(&successor)
                            .execute(&mut *tx)
                            .await?
                            .rows_affected();
                        once == 1 && unused == 1
                    }
                    _ => false,
                }
            }
        };
        if !taken {
            tx.rollback().await?;
            self.revoke_session(&session_id, "refresh token reused").await?;
            return Ok(Rotation::Reused);
        }
        sqlx::query("INSERT INTO refresh_tokens (token_hash, session_id, created_at, rotated_at) VALUES ($1, $2, $3, NULL)")
            .bind(new_hash)
            .bind(&session_id)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(Rotation::Rotated { session_id, account_id })
    }

    pub async fn revoke_session(&self, session_id: &str, reason: &str) -> Result<(), sqlx::Error> {
        sqlx::query("UPDATE sessions SET revoked_at = $1, revoked_reason = $2 WHERE id = $3 AND revoked_at IS NULL")
            .bind(now_ms())
            .bind(reason)
            .bind(session_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Revokes every live session of an account except `keep`.
    pub async fn revoke_sessions_of(&self, account_id: &str, keep: Option<&str>, reason: &str) -> Result<(), sqlx::Error> {
        sqlx::query("UPDATE sessions SET revoked_at = $1, revoked_reason = $2 WHERE account_id = $3 AND revoked_at IS NULL AND id <> $4")
            .bind(now_ms())
            .bind(reason)
            .bind(account_id)
            .bind(keep.unwrap_or(""))
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Whether an access token's session is still good: not revoked, not
    /// expired, its account enabled. Checked on every request so logout and
    /// disabling take effect at once.
    pub async fn session_is_live(&self, session_id: &str, account_id: &str) -> Result<bool, sqlx::Error> {
        let row = sqlx::query(
            "SELECT 1 AS ok FROM sessions s JOIN accounts a ON a.id = s.account_id \
             WHERE s.id = $1 AND s.account_id = $2 AND s.revoked_at IS NULL AND s.expires_at > $3 AND a.disabled = 0",
        )
        .bind(session_id)
        .bind(account_id)
        .bind(now_ms())
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.is_some())
    }

    /// Deletes what can no longer be used, a day after it stopped being
    /// usable: ended sessions (their refresh tokens go with them) and spent or
    /// expired email tokens. Returns how many rows went.
    pub async fn purge_expired(&self) -> Result<u64, sqlx::Error> {
        let cutoff = now_ms() - 24 * 3600 * 1000;
        let mut n = 0;
        for sql in [
            "DELETE FROM refresh_tokens WHERE session_id IN (SELECT id FROM sessions WHERE expires_at < $1 OR revoked_at < $1)",
            "DELETE FROM sessions WHERE expires_at < $1 OR revoked_at < $1",
            "DELETE FROM email_tokens WHERE expires_at < $1 OR used_at < $1",
        ] {
            n += sqlx::query(sql).bind(cutoff).execute(&self.pool).await?.rows_affected();
        }
        Ok(n)
    }
}
