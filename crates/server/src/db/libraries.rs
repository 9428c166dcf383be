//! Libraries and memberships (an account's role in a library).

use super::{Backend, Db, DbError, DbResult, WriteTx, now_ms};
use shelfkeeper_domain::model::Role;
use sqlx::Row;

#[derive(Debug, Clone)]
pub struct LibraryRow {
    pub id: String,
    pub name: String,
    pub created_at: i64,
    pub role: Role,
}

#[derive(Debug, Clone)]
pub struct MembershipRow {
    pub account_id: String,
    pub email: String,
    pub display_name: String,
    pub role: Role,
    pub created_at: i64,
}

pub fn parse_role(s: &str) -> Result<Role, sqlx::Error> {
    match s {
        "admin" => Ok(Role::Admin),
        "librarian" => Ok(Role::Librarian),
        "member" => Ok(Role::Member),
        other => Err(sqlx::Error::Decode(format!("unknown role '{other}'").into())),
    }
}

impl Db {
    /// Creates a library whose first admin is its creator.
    pub async fn create_library(&self, id: &str, name: &str, creator: &str) -> Result<i64, sqlx::Error> {
        let now = now_ms();
        let mut tx = self.begin_write().await?;
        sqlx::query("INSERT INTO libraries (id, name, created_at) VALUES ($1, $2, $3)")
            .bind(id)
            .bind(name)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        sqlx::query("INSERT INTO memberships (library_id, account_id, role, created_at) VALUES ($1, $2, 'admin', $3)")
            .bind(id)
            .bind(creator)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        self.ensure_member_types(&mut tx, id).await?;
        tx.commit().await?;
        Ok(now)
    }

    pub async fn libraries_of(&self, account_id: &str) -> Result<Vec<LibraryRow>, sqlx::Error> {
        let rows = sqlx::query(
            "SELECT l.id, l.name, l.created_at, m.role FROM libraries l JOIN memberships m ON m.library_id = l.id \
             WHERE m.account_id = $1 ORDER BY l.name, l.id",
        )
        .bind(account_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(LibraryRow {
                    id: r.try_get("id")?,
                    name: r.try_get("name")?,
                    created_at: r.try_get("created_at")?,
                    role: parse_role(&r.try_get::<String, _>("role")?)?,
                })
            })
            .collect()
    }

    /// The library and the account's role in it; `None` both when the
    /// library does not exist and when the account is not a member.
    pub async fn library_for(&self, library_id: &str, account_id: &str) -> Result<Option<LibraryRow>, sqlx::Error> {
        let row = sqlx::query(
            "SELECT l.id, l.name, l.created_at, m.role FROM libraries l JOIN memberships m ON m.library_id = l.id \
             WHERE l.id = $1 AND m.account_id = $2",
        )
        .bind(library_id)
        .bind(account_id)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| {
            Ok(LibraryRow {
                id: r.try_get("id")?,
                name: r.try_get("name")?,
                created_at: r.try_get("created_at")?,
                role: parse_role(&r.try_get::<String, _>("role")?)?,
            })
        })
        .transpose()
    }

    pub async fn memberships(&self, library_id: &str) -> Result<Vec<MembershipRow>, sqlx::Error> {
        let rows = sqlx::query(
            "SELECT m.account_id, a.email, a.display_name, m.role, m.created_at FROM memberships m JOIN accounts a ON a.id = m.account_id \
             WHERE m.library_id = $1 ORDER BY a.email",
        )
        .bind(library_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(MembershipRow {
                    account_id: r.try_get("account_id")?,
                    email: r.try_get("email")?,
                    display_name: r.try_get("display_name")?,
                    role: parse_role(&r.try_get::<String, _>("role")?)?,
                    created_at: r.try_get("created_at")?,
                })
            })
            .collect()
    }

    /// Sets an account's role in the library (adding it), refusing with
    /// `last_admin` when that would leave the library without an
    /// administrator. The check and the write are one transaction, with the
    /// library's admin memberships locked on PostgreSQL, so two admins
    /// demoting each other at once cannot both succeed.
    pub async fn upsert_membership(&self, library_id: &str, account_id: &str, role: Role) -> DbResult<()> {
        let mut tx = self.begin_write().await?;
        if role != Role::Admin {
            self.keep_an_admin(&mut tx, library_id, account_id).await?;
        }
        sqlx::query(
            "INSERT INTO memberships (library_id, account_id, role, created_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (library_id, account_id) DO UPDATE SET role = excluded.role",
        )
        .bind(library_id)
        .bind(account_id)
        .bind(role.as_str())
        .bind(now_ms())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Removes an account from the library; `last_admin` as above.
    pub async fn remove_membership(&self, library_id: &str, account_id: &str) -> DbResult<bool> {
        let mut tx = self.begin_write().await?;
        self.keep_an_admin(&mut tx, library_id, account_id).await?;
        let r = sqlx::query("DELETE FROM memberships WHERE library_id = $1 AND account_id = $2")
            .bind(library_id)
            .bind(account_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(r.rows_affected() == 1)
    }

    /// Refuses when `account_id` is the library's only administrator.
    async fn keep_an_admin(&self, tx: &mut WriteTx, library_id: &str, account_id: &str) -> DbResult<()> {
        let lock = if self.backend == Backend::Postgres { " FOR UPDATE" } else { "" };
        let sql = format!("SELECT account_id FROM memberships WHERE library_id = $1 AND role = 'admin'{lock}");
        let admins: Vec<String> = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(library_id)
            .fetch_all(&mut **tx)
            .await?
            .iter()
            .map(|r| r.try_get("account_id"))
            .collect::<Result<_, _>>()?;
        if admins.iter().all(|a| a == account_id) && admins.iter().any(|a| a == account_id) {
            return Err(DbError::Conflict {
                code: "last_admin",
                message: "a library keeps at least one admin; make someone else admin first".into(),
            });
        }
        Ok(())
    }
}
