//! Members (patrons) and their member types (loan rules). A library starts
//! with the domain's default types.

use super::{Db, DbError, DbResult, WriteTx, is_unique_violation, now_ms};
use chrono::{DateTime, NaiveDate, Utc};
use shelfkeeper_domain::Error;
use shelfkeeper_domain::ids::{MemberId, MemberTypeId};
use shelfkeeper_domain::model::{Member, MemberDraft, MemberType, SEED_HLC, SEED_SITE};
use sqlx::Row;
use sqlx::any::AnyRow;

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct MemberRow {
    pub id: String,
    pub card: String,
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub address: Option<String>,
    pub member_type: String,
    pub expires_on: Option<String>,
    pub blocked: bool,
    pub block_reason: Option<String>,
    pub notes: Option<String>,
    pub account_id: Option<String>,
}

pub(super) const MEMBER_COLS: &str =
    "id, card, name, email, phone, address, member_type, expires_on, blocked, block_reason, notes, account_id";

/// [`MEMBER_COLS`] of the members table under `alias`, for a join.
pub(super) fn member_cols_of(alias: &str) -> String {
    MEMBER_COLS.split(", ").map(|c| format!("{alias}.{c}")).collect::<Vec<_>>().join(", ")
}

pub(super) fn member_row(r: &AnyRow) -> Result<MemberRow, sqlx::Error> {
    Ok(MemberRow {
        id: r.try_get("id")?,
        card: r.try_get("card")?,
        name: r.try_get("name")?,
        email: r.try_get("email")?,
        phone: r.try_get("phone")?,
        address: r.try_get("address")?,
        member_type: r.try_get("member_type")?,
        expires_on: r.try_get("expires_on")?,
        blocked: r.try_get::<i64, _>("blocked")? != 0,
        block_reason: r.try_get("block_reason")?,
        notes: r.try_get("notes")?,
        account_id: r.try_get("account_id")?,
    })
}

/// A member type from a row: its id, code and name under the given column
/// names (a join renames them), the loan rules under their own.
pub(super) fn member_type_row(r: &AnyRow, [id, code, name]: [&str; 3]) -> Result<MemberType, sqlx::Error> {
    let n = |c: &str| -> Result<u32, sqlx::Error> { Ok(r.try_get::<i64, _>(c)?.clamp(0, u32::MAX as i64) as u32) };
    Ok(MemberType {
        id: MemberTypeId(uuid_of(&r.try_get::<String, _>(id)?)),
        code: r.try_get(code)?,
        name: r.try_get(name)?,
        loan_days: n("loan_days")?,
        max_renewals: n("max_renewals")?,
        max_loans: n("max_loans")?,
        hold_pickup_days: n("hold_pickup_days")?,
    })
}

pub(super) fn date(s: &str) -> Result<NaiveDate, sqlx::Error> {
    s.parse().map_err(|e: chrono::ParseError| sqlx::Error::Decode(Box::new(e)))
}

pub(super) fn uuid_of(s: &str) -> uuid::Uuid {
    uuid::Uuid::parse_str(s).unwrap_or_default()
}

/// The domain's view of a member row, for its rules.
pub(super) fn to_domain(m: &MemberRow) -> Result<Member, sqlx::Error> {
    Ok(Member {
        id: MemberId(uuid_of(&m.id)),
        card: m.card.clone(),
        name: m.name.clone(),
        email: m.email.clone(),
        phone: m.phone.clone(),
        address: m.address.clone(),
        member_type: m.member_type.clone(),
        expires_on: m.expires_on.as_deref().map(date).transpose()?,
        blocked: m.blocked,
        block_reason: m.block_reason.clone(),
        notes: m.notes.clone(),
        created_at: DateTime::<Utc>::UNIX_EPOCH,
        updated_at: DateTime::<Utc>::UNIX_EPOCH,
    })
}

impl Db {
    /// A library starts with the domain's default member types.
    pub(crate) async fn ensure_member_types(&self, tx: &mut WriteTx, lib: &str) -> Result<(), sqlx::Error> {
        let n: i64 = sqlx::query("SELECT COUNT(*) AS n FROM member_types WHERE library_id = $1")
            .bind(lib)
            .fetch_one(&mut **tx)
            .await?
            .try_get("n")?;
        if n > 0 {
            return Ok(());
        }
        // The desks' defaults exactly: ids derived from the code, stamped at
        // the clock's first tick by the shared seed site, and not sent
        // (every replica starts with these rows), so a desk's edit of a
        // default and the server's merge as one row.
        for t in MemberType::defaults() {
            sqlx::query(
                "INSERT INTO member_types (id, library_id, code, name, loan_days, max_renewals, max_loans, hold_pickup_days, hlc, site) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            )
            .bind(t.id.to_string())
            .bind(lib)
            .bind(&t.code)
            .bind(&t.name)
            .bind(i64::from(t.loan_days))
            .bind(i64::from(t.max_renewals))
            .bind(i64::from(t.max_loans))
            .bind(i64::from(t.hold_pickup_days))
            .bind(SEED_HLC as i64)
            .bind(SEED_SITE.to_string())
            .execute(&mut **tx)
            .await?;
        }
        Ok(())
    }

    /// Default member types a server seeded before ids were derived from
    /// the code had random ids: they take the derived one (nothing refers
    /// to a type's id; members name the code). Once per start.
    pub(crate) async fn rederive_member_type_ids(&self) -> Result<(), sqlx::Error> {
        for t in MemberType::defaults() {
            sqlx::query(
                "UPDATE member_types SET id = $1 WHERE code = $2 AND id <> $1 \
                 AND NOT EXISTS (SELECT 1 FROM member_types o WHERE o.library_id = member_types.library_id AND o.id = $1)",
            )
            .bind(t.id.to_string())
            .bind(&t.code)
            .execute(&self.pool)
            .await?;
        }
        Ok(())
    }

    pub(crate) async fn policy(&self, tx: &mut WriteTx, lib: &str, code: &str) -> DbResult<MemberType> {
        self.ensure_member_types(tx, lib).await?;
        let r = sqlx::query("SELECT id, code, name, loan_days, max_renewals, max_loans, hold_pickup_days FROM member_types WHERE library_id = $1 AND code = $2")
            .bind(lib)
            .bind(code)
            .fetch_optional(&mut **tx)
            .await?
            .ok_or_else(|| Error::MemberTypeNotFound(code.to_owned()))?;
        Ok(member_type_row(&r, ["id", "code", "name"])?)
    }

    /// The library's member types (loan rules), by code.
    pub async fn member_types(&self, lib: &str) -> DbResult<Vec<MemberType>> {
        let mut tx = self.begin_write().await?;
        self.ensure_member_types(&mut tx, lib).await?;
        let codes: Vec<String> = sqlx::query("SELECT code FROM member_types WHERE library_id = $1 ORDER BY code")
            .bind(lib)
            .fetch_all(&mut *tx)
            .await?
            .iter()
            .map(|r| r.try_get("code"))
            .collect::<Result<_, _>>()?;
        let mut out = Vec::with_capacity(codes.len());
        for c in codes {
            out.push(self.policy(&mut tx, lib, &c).await?);
        }
        tx.commit().await?;
        Ok(out)
    }

    /// Creates or replaces the member type with `t.code` (already validated).
    pub async fn put_member_type(&self, lib: &str, t: &MemberType) -> DbResult<MemberType> {
        let mut tx = self.begin_write().await?;
        self.ensure_member_types(&mut tx, lib).await?;
        let hlc = self.tick();
        sqlx::query(
            "INSERT INTO member_types (id, library_id, code, name, loan_days, max_renewals, max_loans, hold_pickup_days, hlc, site) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (library_id, code) DO UPDATE SET name = excluded.name, \
             loan_days = excluded.loan_days, max_renewals = excluded.max_renewals, max_loans = excluded.max_loans, \
             hold_pickup_days = excluded.hold_pickup_days, hlc = excluded.hlc, site = excluded.site",
        )
        .bind(t.id.to_string())
        .bind(lib)
        .bind(&t.code)
        .bind(&t.name)
        .bind(i64::from(t.loan_days))
        .bind(i64::from(t.max_renewals))
        .bind(i64::from(t.max_loans))
        .bind(i64::from(t.hold_pickup_days))
        .bind(hlc)
        .bind(&*self.site)
        .execute(&mut *tx)
        .await?;
        let stored = self.policy(&mut tx, lib, &t.code).await?;
        self.log_change(&mut tx, lib, "member_type", &stored.id.to_string(), "upsert", hlc).await?;
        tx.commit().await?;
        Ok(stored)
    }

    /// Inserts or replaces a member (patron) record.
    pub async fn put_member(&self, lib: &str, id: &str, d: &MemberDraft, account_id: Option<&str>, existing: bool) -> DbResult<MemberRow> {
        let mut tx = self.begin_write().await?;
        self.policy(&mut tx, lib, &d.member_type).await?;
        if sqlx::query("SELECT id FROM members WHERE library_id = $1 AND card = $2 AND id <> $3")
            .bind(lib)
            .bind(&d.card)
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?
            .is_some()
        {
            return Err(Error::DuplicateCard(d.card.clone()).into());
        }
        if let Some(a) = account_id
            && sqlx::query("SELECT id FROM members WHERE library_id = $1 AND account_id = $2 AND id <> $3")
                .bind(lib)
                .bind(a)
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?
                .is_some()
        {
            return Err(DbError::Conflict {
                code: "account_already_linked",
                message: "that account already has a member record in this library".into(),
            });
        }
        let hlc = self.tick();
        let now = now_ms();
        let sql = if existing {
            "UPDATE members SET card = $3, name = $4, email = $5, phone = $6, address = $7, member_type = $8, expires_on = $9, notes = $10, \
             account_id = $11, updated_at = $12, hlc = $13, site = $14 WHERE id = $1 AND library_id = $2"
        } else {
            "INSERT INTO members (id, library_id, card, name, email, phone, address, member_type, expires_on, blocked, block_reason, notes, account_id, \
             created_at, updated_at, hlc, site) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 0, NULL, $10, $11, $12, $12, $13, $14)"
        };
        let r = sqlx::query(sql)
            .bind(id)
            .bind(lib)
            .bind(&d.card)
            .bind(&d.name)
            .bind(&d.email)
            .bind(&d.phone)
            .bind(&d.address)
            .bind(&d.member_type)
            .bind(d.expires_on.map(|x| x.to_string()))
            .bind(&d.notes)
            .bind(account_id)
            .bind(now)
            .bind(hlc)
            .bind(&*self.site)
            .execute(&mut *tx)
            .await;
        match r {
            Ok(r) if existing && r.rows_affected() == 0 => return Err(DbError::NotFound("member")),
            Ok(_) => {}
            Err(e) if is_unique_violation(&e) => return Err(Error::DuplicateCard(d.card.clone()).into()),
            Err(e) => return Err(e.into()),
        }
        self.log_change(&mut tx, lib, "member", id, "upsert", hlc).await?;
        tx.commit().await?;
        self.member(lib, id).await?.ok_or_else(|| DbError::vanished("member"))
    }

    pub async fn member(&self, lib: &str, id: &str) -> Result<Option<MemberRow>, sqlx::Error> {
        let sql = sqlx::AssertSqlSafe(format!("SELECT {MEMBER_COLS} FROM members WHERE library_id = $1 AND id = $2"));
        sqlx::query(sql).bind(lib).bind(id).fetch_optional(&self.pool).await?.as_ref().map(member_row).transpose()
    }

    pub async fn member_by_card(&self, lib: &str, card: &str) -> Result<Option<MemberRow>, sqlx::Error> {
        let sql = sqlx::AssertSqlSafe(format!("SELECT {MEMBER_COLS} FROM members WHERE library_id = $1 AND card = $2"));
        sqlx::query(sql).bind(lib).bind(card).fetch_optional(&self.pool).await?.as_ref().map(member_row).transpose()
    }

    /// Blocks a member (`reason` given) or lifts the block (`None`).
    pub async fn set_member_block(&self, lib: &str, id: &str, reason: Option<&str>) -> DbResult<MemberRow> {
        let mut tx = self.begin_write().await?;
        let hlc = self.tick();
        let r = sqlx::query(
            "UPDATE members SET blocked = $1, block_reason = $2, updated_at = $3, hlc = $4, site = $5 WHERE library_id = $6 AND id = $7",
        )
        .bind(i64::from(reason.is_some()))
        .bind(reason)
        .bind(now_ms())
        .bind(hlc)
        .bind(&*self.site)
        .bind(lib)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        if r.rows_affected() == 0 {
            return Err(DbError::NotFound("member"));
        }
        self.log_change(&mut tx, lib, "member", id, "upsert", hlc).await?;
        tx.commit().await?;
        self.member(lib, id).await?.ok_or_else(|| DbError::vanished("member"))
    }

    /// The member record linked to an account in a library.
    pub async fn member_of_account(&self, lib: &str, account_id: &str) -> Result<Option<MemberRow>, sqlx::Error> {
        let sql = sqlx::AssertSqlSafe(format!("SELECT {MEMBER_COLS} FROM members WHERE library_id = $1 AND account_id = $2"));
        sqlx::query(sql).bind(lib).bind(account_id).fetch_optional(&self.pool).await?.as_ref().map(member_row).transpose()
    }

    /// Members by card, after `after` (keyset), at most `limit`.
    pub async fn members(&self, lib: &str, after: &str, limit: i64) -> Result<Vec<MemberRow>, sqlx::Error> {
        let sql =
            sqlx::AssertSqlSafe(format!("SELECT {MEMBER_COLS} FROM members WHERE library_id = $1 AND card > $2 ORDER BY card LIMIT $3"));
        let rows = sqlx::query(sql).bind(lib).bind(after).bind(limit).fetch_all(&self.pool).await?;
        rows.iter().map(member_row).collect()
    }
}
