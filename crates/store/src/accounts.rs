//! Local accounts (library mode): argon2id hashes, roles, the first-admin rule.

use crate::rows::RowExt;
use crate::{Store, db_err};
use shelfkeeper_domain::access::{Action, Actor};
use shelfkeeper_domain::ids::{AccountId, MemberId};
use shelfkeeper_domain::model::{Account, Role, validate_username};
use shelfkeeper_domain::{Error, Result, password};
use sqlx::sqlite::SqliteRow;

fn account_from_row(r: &SqliteRow) -> Result<Account> {
    let role = r.text("role")?;
    Ok(Account {
        id: AccountId(r.uuid("id")?),
        username: r.text("username")?,
        role: Role::parse(&role).ok_or_else(|| Error::Storage(format!("bad role '{role}'")))?,
        disabled: r.int("disabled")? != 0,
        member_id: r.opt_uuid("member_id")?.map(MemberId),
        created_at: r.instant("created_at")?,
    })
}

/// Hashing takes ~20 ms of CPU and 19 MiB: keep it off the async workers.
async fn hash_off_thread(password: String) -> Result<String> {
    tokio::task::spawn_blocking(move || password::hash(&password)).await.map_err(|e| Error::Storage(format!("hashing task failed: {e}")))?
}

async fn verify_off_thread(password: String, phc: Option<String>) -> bool {
    tokio::task::spawn_blocking(move || match phc {
        Some(phc) => password::verify(&password, &phc),
        None => {
            password::verify_dummy(&password);
            false
        }
    })
    .await
    .unwrap_or(false)
}

impl Store {
    pub async fn has_accounts(&self) -> Result<bool> {
        let n: i64 = sqlx::query_scalar("SELECT count(*) FROM accounts").fetch_one(&self.read).await.map_err(db_err)?;
        Ok(n > 0)
    }

    /// Creates an account. On a store with no accounts, anyone may create
    /// the first one and it is always an admin (`actor` is ignored); after
    /// that only an admin may add accounts.
    pub async fn create_account(
        &self,
        actor: Option<&Actor>,
        username: &str,
        password: &str,
        role: Role,
        member_card: Option<&str>,
    ) -> Result<Account> {
        let username = validate_username(username)?;
        password::check_policy(password, &username)?;
        let hash = hash_off_thread(password.to_string()).await?;
        let mut w = self.write_tx().await?;
        let existing: i64 = sqlx::query_scalar("SELECT count(*) FROM accounts").fetch_one(w.conn()).await.map_err(db_err)?;
        let role = if existing == 0 {
            Role::Admin
        } else {
            match actor {
                Some(a) => a.require(Action::ManageAccounts)?,
                None => return Err(Error::AdminAlreadyExists),
            }
            role
        };
        let taken: i64 = sqlx::query_scalar("SELECT count(*) FROM accounts WHERE username = ?")
            .bind(&username)
            .fetch_one(w.conn())
            .await
            .map_err(db_err)?;
        if taken > 0 {
            return Err(Error::DuplicateUsername(username));
        }
        let member_id = match member_card {
            Some(card) => Some(crate::members::member_by_card(w.conn(), card).await?.id),
            None => None,
        };
        let id = AccountId::new();
        let now = w.now_text();
        sqlx::query(
            "INSERT INTO accounts (id, username, password_hash, role, member_id, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(id.0)
        .bind(&username)
        .bind(hash)
        .bind(role.as_str())
        .bind(member_id.map(|m| m.0))
        .bind(&now)
        .bind(&now)
        .execute(w.conn())
        .await
        .map_err(db_err)?;
        let row = sqlx::query("SELECT * FROM accounts WHERE id = ?").bind(id.0).fetch_one(w.conn()).await.map_err(db_err)?;
        let account = account_from_row(&row)?;
        w.commit().await?;
        Ok(account)
    }

    /// Checks a username and password. Unknown users and wrong passwords
    /// get the same error after the same work, so neither reveals which
    /// usernames exist.
    pub async fn authenticate(&self, username: &str, password: &str) -> Result<Account> {
        let username = username.trim().to_lowercase();
        let row =
            sqlx::query("SELECT * FROM accounts WHERE username = ?").bind(&username).fetch_optional(&self.read).await.map_err(db_err)?;
        let (account, phc) = match &row {
            Some(r) => (Some(account_from_row(r)?), Some(r.text("password_hash")?)),
            None => (None, None),
        };
        let ok = verify_off_thread(password.chars().take(password::MAX_LEN * 4).collect(), phc).await;
        match account {
            Some(a) if ok && a.disabled => Err(Error::AccountDisabled(a.username)),
            Some(a) if ok => Ok(a),
            _ => Err(Error::InvalidCredentials),
        }
    }

    /// Changes a password: one's own (knowing the old one) or, for an admin,
    /// anyone's.
    pub async fn change_password(&self, actor: &Actor, username: &str, old: Option<&str>, new: &str) -> Result<()> {
        let username = username.trim().to_lowercase();
        let target = self.account(&username).await?;
        if actor.account_id == Some(target.id) {
            self.authenticate(&username, old.unwrap_or_default()).await?;
        } else {
            actor.require(Action::ManageAccounts)?;
        }
        password::check_policy(new, &username)?;
        let hash = hash_off_thread(new.to_string()).await?;
        let mut w = self.write_tx().await?;
        let now = w.now_text();
        sqlx::query("UPDATE accounts SET password_hash = ?, updated_at = ? WHERE id = ?")
            .bind(hash)
            .bind(now)
            .bind(target.id.0)
            .execute(w.conn())
            .await
            .map_err(db_err)?;
        w.commit().await
    }

    /// Disables or re-enables an account, or changes its role. The last
    /// enabled admin cannot be disabled or demoted.
    pub async fn update_account(&self, actor: &Actor, username: &str, role: Role, disabled: bool) -> Result<Account> {
        actor.require(Action::ManageAccounts)?;
        let username = username.trim().to_lowercase();
        let mut w = self.write_tx().await?;
        let row =
            sqlx::query("SELECT * FROM accounts WHERE username = ?").bind(&username).fetch_optional(w.conn()).await.map_err(db_err)?;
        let current = row.as_ref().map(account_from_row).transpose()?.ok_or_else(|| Error::AccountNotFound(username.clone()))?;
        if current.role == Role::Admin && !current.disabled && (role != Role::Admin || disabled) {
            let admins: i64 = sqlx::query_scalar("SELECT count(*) FROM accounts WHERE role = 'admin' AND disabled = 0")
                .fetch_one(w.conn())
                .await
                .map_err(db_err)?;
            if admins <= 1 {
                return Err(Error::invalid("role", "this is the last administrator; make another admin first"));
            }
        }
        let now = w.now_text();
        sqlx::query("UPDATE accounts SET role = ?, disabled = ?, updated_at = ? WHERE id = ?")
            .bind(role.as_str())
            .bind(disabled)
            .bind(now)
            .bind(current.id.0)
            .execute(w.conn())
            .await
            .map_err(db_err)?;
        let row = sqlx::query("SELECT * FROM accounts WHERE id = ?").bind(current.id.0).fetch_one(w.conn()).await.map_err(db_err)?;
        let account = account_from_row(&row)?;
        w.commit().await?;
        Ok(account)
    }

    pub async fn account(&self, username: &str) -> Result<Account> {
        let username = username.trim().to_lowercase();
        let row =
            sqlx::query("SELECT * FROM accounts WHERE username = ?").bind(&username).fetch_optional(&self.read).await.map_err(db_err)?;
        row.as_ref().map(account_from_row).transpose()?.ok_or(Error::AccountNotFound(username))
    }

    pub async fn accounts(&self, actor: &Actor) -> Result<Vec<Account>> {
        actor.require(Action::ManageAccounts)?;
        let rows = sqlx::query("SELECT * FROM accounts ORDER BY username").fetch_all(&self.read).await.map_err(db_err)?;
        rows.iter().map(account_from_row).collect()
    }
}
