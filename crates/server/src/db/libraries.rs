//! Libraries and memberships (an account's role in a library).

use super::{Db, now_ms};
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

    pub async fn upsert_membership(&self, library_id: &str, account_id: &str, role: Role) -> Result<(), sqlx::Error> {
        sqlx::query(
            "INSERT INTO memberships (library_id, account_id, role, created_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (library_id, account_id) DO UPDATE SET role = excluded.role",
        )
        .bind(library_id)
        .bind(account_id)
        .bind(role.as_str())
        .bind(now_ms())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn remove_membership(&self, library_id: &str, account_id: &str) -> Result<bool, sqlx::Error> {
        let r = sqlx::query("DELETE FROM memberships WHERE library_id = $1 AND account_id = $2")
            .bind(library_id)
            .bind(account_id)
            .execute(&self.pool)
            .await?;
        Ok(r.rows_affected() == 1)
    }

    pub async fn admin_count(&self, library_id: &str) -> Result<i64, sqlx::Error> {
        let r = sqlx::query("SELECT COUNT(*) AS n FROM memberships WHERE library_id = $1 AND role = 'admin'")
            .bind(library_id)
            .fetch_one(&self.pool)
            .await?;
        r.try_get("n")
    }
}
