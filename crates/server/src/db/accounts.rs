//! Accounts, one-time email tokens and API keys.

use super::{Db, now_ms};
use sqlx::Row;
use sqlx::any::AnyRow;

#[derive(Debug, Clone)]
pub struct Account {
    pub id: String,
    pub email: String,
    pub display_name: String,
    pub password_hash: String,
    pub email_verified: bool,
    pub disabled: bool,
    pub created_at: i64,
}

fn account(row: &AnyRow) -> Result<Account, sqlx::Error> {
    Ok(Account {
        id: row.try_get("id")?,
        email: row.try_get("email")?,
        display_name: row.try_get("display_name")?,
        password_hash: row.try_get("password_hash")?,
        email_verified: row.try_get::<Option<i64>, _>("email_verified_at")?.is_some(),
        disabled: row.try_get::<i64, _>("disabled")? != 0,
        created_at: row.try_get("created_at")?,
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    VerifyEmail,
    ResetPassword,
}

impl Purpose {
    fn as_str(self) -> &'static str {
        match self {
            Purpose::VerifyEmail => "verify_email",
            Purpose::ResetPassword => "reset_password",
        }
    }
}

#[derive(Debug, Clone)]
pub struct ApiKeyRow {
    pub id: String,
    pub account_id: String,
    pub name: String,
    pub prefix: String,
    pub key_hash: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    /// Comma-separated scope names (`read,circulation,catalogue`).
    pub scopes: String,
}

impl Db {
    /// Inserts a new, unverified account. `Ok(false)` when the email is taken.
    pub async fn insert_account(&self, id: &str, email: &str, display_name: &str, password_hash: &str) -> Result<bool, sqlx::Error> {
        let now = now_ms();
        let r = sqlx::query(
            "INSERT INTO accounts (id, email, display_name, password_hash, email_verified_at, disabled, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, NULL, 0, $5, $5)",
        )
        .bind(id)
        .bind(email)
        .bind(display_name)
        .bind(password_hash)
        .bind(now)
        .execute(&self.pool)
        .await;
        match r {
            Ok(_) => Ok(true),
            Err(e) if super::is_unique_violation(&e) => Ok(false),
            Err(e) => Err(e),
        }
    }

    pub async fn account_by_email(&self, email: &str) -> Result<Option<Account>, sqlx::Error> {
        let row = sqlx::query(
            "SELECT id, email, display_name, password_hash, email_verified_at, disabled, created_at FROM accounts WHERE email = $1",
        )
        .bind(email)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(account).transpose()
    }

    pub async fn account_by_id(&self, id: &str) -> Result<Option<Account>, sqlx::Error> {
        let row = sqlx::query(
            "SELECT id, email, display_name, password_hash, email_verified_at, disabled, created_at FROM accounts WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(account).transpose()
    }

    /// The account behind a live session (not revoked, not expired, account
    /// enabled): the per-request session check and the account read in one
    /// query, for routes that need the account itself (`/auth/me`).
    pub async fn live_session_account(&self, session_id: &str, account_id: &str) -> Result<Option<Account>, sqlx::Error> {
        let row = sqlx::query(
            "SELECT a.id, a.email, a.display_name, a.password_hash, a.email_verified_at, a.disabled, a.created_at \
             FROM sessions s JOIN accounts a ON a.id = s.account_id \
             WHERE s.id = $1 AND s.account_id = $2 AND s.revoked_at IS NULL AND s.expires_at > $3 AND a.disabled = 0",
        )
        .bind(session_id)
        .bind(account_id)
        .bind(now_ms())
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(account).transpose()
    }

    /// The account a valid (unused, unexpired) email token is for, without
    /// spending it: checks that can fail come before the link is used up.
    pub async fn peek_email_token(&self, token_hash: &str, purpose: Purpose) -> Result<Option<String>, sqlx::Error> {
        sqlx::query_scalar(
            "SELECT account_id FROM email_tokens WHERE token_hash = $1 AND purpose = $2 AND used_at IS NULL AND expires_at > $3",
        )
        .bind(token_hash)
        .bind(purpose.as_str())
        .bind(now_ms())
        .fetch_optional(&self.pool)
        .await
    }

    /// Sets a new password and closes every other way in, in one
    /// transaction: the account's sessions end (but `keep`, the caller's
    /// own when they changed it themselves), every API key is revoked
    /// (a key made before must not outlive the password that guarded it),
    /// and outstanding reset links are voided. With `reset_link` (a reset
    /// token's hash) the link is spent in the same transaction and the
    /// address counts as verified; `false` when it was spent meanwhile
    /// (then nothing changed).
    pub async fn replace_password(
        &self,
        account_id: &str,
        password_hash: &str,
        keep: Option<&str>,
        reason: &str,
        reset_link: Option<&str>,
    ) -> Result<bool, sqlx::Error> {
        let now = now_ms();
        let mut tx = self.begin_write().await?;
        if let Some(token_hash) = reset_link {
            let spent = sqlx::query(
                "UPDATE email_tokens SET used_at = $1 WHERE token_hash = $2 AND account_id = $3 AND purpose = $4 AND used_at IS NULL AND expires_at > $1",
            )
            .bind(now)
            .bind(token_hash)
            .bind(account_id)
            .bind(Purpose::ResetPassword.as_str())
            .execute(&mut *tx)
            .await?;
            if spent.rows_affected() != 1 {
                return Ok(false);
            }
            sqlx::query("UPDATE accounts SET email_verified_at = COALESCE(email_verified_at, $1) WHERE id = $2")
                .bind(now)
                .bind(account_id)
                .execute(&mut *tx)
                .await?;
        }
        sqlx::query("UPDATE accounts SET password_hash = $1, updated_at = $2 WHERE id = $3")
            .bind(password_hash)
            .bind(now)
            .bind(account_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("UPDATE sessions SET revoked_at = $1, revoked_reason = $2 WHERE account_id = $3 AND revoked_at IS NULL AND id <> $4")
            .bind(now)
            .bind(reason)
            .bind(account_id)
            .bind(keep.unwrap_or(""))
            .execute(&mut *tx)
            .await?;
        sqlx::query("UPDATE api_keys SET revoked_at = $1 WHERE account_id = $2 AND revoked_at IS NULL")
            .bind(now)
            .bind(account_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("UPDATE email_tokens SET used_at = $1 WHERE account_id = $2 AND purpose = $3 AND used_at IS NULL")
            .bind(now)
            .bind(account_id)
            .bind(Purpose::ResetPassword.as_str())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(true)
    }

    pub async fn set_disabled(&self, account_id: &str, disabled: bool) -> Result<bool, sqlx::Error> {
        let r = sqlx::query("UPDATE accounts SET disabled = $1, updated_at = $2 WHERE id = $3")
            .bind(i64::from(disabled))
            .bind(now_ms())
            .bind(account_id)
            .execute(&self.pool)
            .await?;
        Ok(r.rows_affected() == 1)
    }

    pub async fn mark_email_verified(&self, account_id: &str) -> Result<(), sqlx::Error> {
        let now = now_ms();
        sqlx::query("UPDATE accounts SET email_verified_at = COALESCE(email_verified_at, $1), updated_at = $1 WHERE id = $2")
            .bind(now)
            .bind(account_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn insert_email_token(&self, token_hash: &str, account_id: &str, purpose: Purpose, ttl_ms: i64) -> Result<(), sqlx::Error> {
        let now = now_ms();
        sqlx::query(
            "INSERT INTO email_tokens (token_hash, account_id, purpose, created_at, expires_at, used_at) VALUES ($1, $2, $3, $4, $5, NULL)",
        )
        .bind(token_hash)
        .bind(account_id)
        .bind(purpose.as_str())
        .bind(now)
        .bind(now + ttl_ms)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Uses a one-time token: marks it used if it exists, has this purpose,
    /// is unused and unexpired, all in one UPDATE so two concurrent uses
    /// cannot both succeed. Returns the account id.
    pub async fn consume_email_token(&self, token_hash: &str, purpose: Purpose) -> Result<Option<String>, sqlx::Error> {
        let now = now_ms();
        let r = sqlx::query(
            "UPDATE email_tokens SET used_at = $1 WHERE token_hash = $2 AND purpose = $3 AND used_at IS NULL AND expires_at > $1",
        )
        .bind(now)
        .bind(token_hash)
        .bind(purpose.as_str())
        .execute(&self.pool)
        .await?;
        if r.rows_affected() != 1 {
            return Ok(None);
        }
        let row = sqlx::query("SELECT account_id FROM email_tokens WHERE token_hash = $1").bind(token_hash).fetch_one(&self.pool).await?;
        Ok(Some(row.try_get("account_id")?))
    }

    /// A new reset link makes the older unused ones void.
    pub async fn void_email_tokens(&self, account_id: &str, purpose: Purpose) -> Result<(), sqlx::Error> {
        sqlx::query("UPDATE email_tokens SET used_at = $1 WHERE account_id = $2 AND purpose = $3 AND used_at IS NULL")
            .bind(now_ms())
            .bind(account_id)
            .bind(purpose.as_str())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn insert_api_key(
        &self,
        id: &str,
        account_id: &str,
        name: &str,
        prefix: &str,
        key_hash: &str,
        scopes: &str,
    ) -> Result<i64, sqlx::Error> {
        let now = now_ms();
        sqlx::query(
            "INSERT INTO api_keys (id, account_id, name, prefix, key_hash, created_at, last_used_at, revoked_at, scopes) \
             VALUES ($1, $2, $3, $4, $5, $6, NULL, NULL, $7)",
        )
        .bind(id)
        .bind(account_id)
        .bind(name)
        .bind(prefix)
        .bind(key_hash)
        .bind(now)
        .bind(scopes)
        .execute(&self.pool)
        .await?;
        Ok(now)
    }

    /// The live key with this prefix whose account is enabled.
    pub async fn api_key_by_prefix(&self, prefix: &str) -> Result<Option<ApiKeyRow>, sqlx::Error> {
        let row = sqlx::query(
            "SELECT k.id, k.account_id, k.name, k.prefix, k.key_hash, k.created_at, k.last_used_at, k.scopes FROM api_keys k \
             JOIN accounts a ON a.id = k.account_id WHERE k.prefix = $1 AND k.revoked_at IS NULL AND a.disabled = 0",
        )
        .bind(prefix)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(api_key).transpose()
    }

    pub async fn touch_api_key(&self, id: &str) -> Result<(), sqlx::Error> {
        // At most one write a minute per key: a busy script must not turn
        // every read into a write.
        sqlx::query("UPDATE api_keys SET last_used_at = $1 WHERE id = $2 AND (last_used_at IS NULL OR last_used_at < $1 - 60000)")
            .bind(now_ms())
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn list_api_keys(&self, account_id: &str) -> Result<Vec<ApiKeyRow>, sqlx::Error> {
        let rows = sqlx::query(
            "SELECT id, account_id, name, prefix, key_hash, created_at, last_used_at, scopes FROM api_keys \
             WHERE account_id = $1 AND revoked_at IS NULL ORDER BY created_at, id",
        )
        .bind(account_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(api_key).collect()
    }

    /// Revokes one of the account's keys; false when it has no such live key.
    pub async fn revoke_api_key(&self, account_id: &str, id: &str) -> Result<bool, sqlx::Error> {
        let r = sqlx::query("UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND account_id = $3 AND revoked_at IS NULL")
            .bind(now_ms())
            .bind(id)
            .bind(account_id)
            .execute(&self.pool)
            .await?;
        Ok(r.rows_affected() == 1)
    }
}

fn api_key(row: &AnyRow) -> Result<ApiKeyRow, sqlx::Error> {
    Ok(ApiKeyRow {
        id: row.try_get("id")?,
        account_id: row.try_get("account_id")?,
        name: row.try_get("name")?,
        prefix: row.try_get("prefix")?,
        key_hash: row.try_get("key_hash")?,
        created_at: row.try_get("created_at")?,
        last_used_at: row.try_get("last_used_at")?,
        scopes: row.try_get("scopes")?,
    })
}
