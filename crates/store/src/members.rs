//! Members (patrons, or friends a collector lends to) and member types.

use crate::rows::{RowExt, date};
use crate::{Store, WriteTx, begin_write, db_err};
use shelfkeeper_domain::access::{Action, Actor};
use shelfkeeper_domain::ids::{MemberId, MemberTypeId};
use shelfkeeper_domain::model::{Member, MemberDraft, MemberType};
use shelfkeeper_domain::{Error, Result};
use sqlx::sqlite::SqliteRow;
use sqlx::{SqliteConnection, SqlitePool};

pub(crate) const MEMBER_COLUMNS: &str =
    "id, card, name, email, phone, address, member_type, expires_on, blocked, block_reason, notes, created_at, updated_at";

pub(crate) fn member_from_row(r: &SqliteRow) -> Result<Member> {
    Ok(Member {
        id: MemberId(r.uuid("id")?),
        card: r.text("card")?,
        name: r.text("name")?,
        email: r.opt_text("email")?,
        phone: r.opt_text("phone")?,
        address: r.opt_text("address")?,
        member_type: r.text("member_type")?,
        expires_on: r.opt_day("expires_on")?,
        blocked: r.int("blocked")? != 0,
        block_reason: r.opt_text("block_reason")?,
        notes: r.opt_text("notes")?,
        created_at: r.instant("created_at")?,
        updated_at: r.instant("updated_at")?,
    })
}

pub(crate) fn member_type_from_row(r: &SqliteRow) -> Result<MemberType> {
    let n = |c: &str| -> Result<u32> { Ok(r.int(c)?.clamp(0, u32::MAX as i64) as u32) };
    Ok(MemberType {
        id: MemberTypeId(r.uuid("id")?),
        code: r.text("code")?,
        name: r.text("name")?,
        loan_days: n("loan_days")?,
        max_renewals: n("max_renewals")?,
        max_loans: n("max_loans")?,
        hold_pickup_days: n("hold_pickup_days")?,
    })
}

pub(crate) async fn member_by_card(conn: &mut SqliteConnection, card: &str) -> Result<Member> {
    let card = shelfkeeper_domain::text::barcode("card", card)?;
    let sql = format!("SELECT {MEMBER_COLUMNS} FROM members WHERE card = ?");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(&card).fetch_optional(conn).await.map_err(db_err)?;
    row.as_ref().map(member_from_row).transpose()?.ok_or(Error::MemberNotFound(card))
}

pub(crate) async fn member_by_id(conn: &mut SqliteConnection, id: MemberId) -> Result<Member> {
    let sql = format!("SELECT {MEMBER_COLUMNS} FROM members WHERE id = ?");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id.0).fetch_optional(conn).await.map_err(db_err)?;
    row.as_ref().map(member_from_row).transpose()?.ok_or_else(|| Error::MemberNotFound(id.to_string()))
}

pub(crate) async fn member_type_by_code(conn: &mut SqliteConnection, code: &str) -> Result<MemberType> {
    let row = sqlx::query("SELECT * FROM member_types WHERE code = ?").bind(code).fetch_optional(conn).await.map_err(db_err)?;
    row.as_ref().map(member_type_from_row).transpose()?.ok_or_else(|| Error::MemberTypeNotFound(code.into()))
}

async fn insert_member_type(w: &mut WriteTx, t: &MemberType) -> Result<()> {
    sqlx::query(
        "INSERT INTO member_types (id, code, name, loan_days, max_renewals, max_loans, hold_pickup_days) VALUES (?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(t.id.0)
    .bind(&t.code)
    .bind(&t.name)
    .bind(t.loan_days)
    .bind(t.max_renewals)
    .bind(t.max_loans)
    .bind(t.hold_pickup_days)
    .execute(w.conn())
    .await
    .map_err(db_err)?;
    Ok(())
}

/// The stamp and site of default rows (the domain's; migration 0008
/// restamps the defaults older stores sent at the seed stamp).
const SEED_HLC: i64 = shelfkeeper_domain::model::SEED_HLC as i64;
pub(crate) const SEED_SITE: uuid::Uuid = shelfkeeper_domain::model::SEED_SITE;

pub(crate) async fn seed_member_types_if_empty(pool: &SqlitePool) -> Result<()> {
    let mut w = begin_write(pool).await?;
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM member_types").fetch_one(w.conn()).await.map_err(db_err)?;
    if n == 0 {
        // Ids derived from the code: the same in every replica.
        for t in MemberType::defaults() {
            insert_member_type(&mut w, &t).await?;
        }
        // Stamped at the beginning of time (the clock's first tick), so any
        // edit anywhere wins over a default: a desk that joins a library
        // later must not reset the loan rules the library set. Stamped by
        // the shared seed site, not this store's: only the stamp changes
        // (not logged).
        sqlx::query("INSERT OR IGNORE INTO sites (id) VALUES (?)").bind(SEED_SITE).execute(w.conn()).await.map_err(db_err)?;
        sqlx::query("UPDATE member_types SET hlc = ?1, site_no = (SELECT no FROM sites WHERE id = ?2) WHERE site_no = 1")
            .bind(SEED_HLC)
            .bind(SEED_SITE)
            .execute(w.conn())
            .await
            .map_err(db_err)?;
        // Not changes to send: every store starts with these same rows, and
        // loan rules are pushed only by administrators (a librarian's desk
        // would have them refused). Migration 0008 clears them from the
        // outboxes of stores made before.
        sqlx::query("DELETE FROM change_log WHERE entity = 'member_type'").execute(w.conn()).await.map_err(db_err)?;
    }
    w.commit().await
}

/// Inserts a member, or rewrites the descriptive fields of an existing one
/// (blocks are set with `set_member_blocked`).
async fn save_member(w: &mut WriteTx, id: MemberId, d: &MemberDraft) -> Result<()> {
    let now = w.now_text();
    sqlx::query(
        "INSERT INTO members (id, card, name, sort_name, email, phone, address, member_type, expires_on, notes, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET card = excluded.card, name = excluded.name, sort_name = excluded.sort_name,
            email = excluded.email, phone = excluded.phone, address = excluded.address, member_type = excluded.member_type,
            expires_on = excluded.expires_on, notes = excluded.notes, updated_at = excluded.updated_at",
    )
    .bind(id.0)
    .bind(&d.card)
    .bind(&d.name)
    .bind(shelfkeeper_domain::text::person_sort_key(&d.name))
    .bind(&d.email)
    .bind(&d.phone)
    .bind(&d.address)
    .bind(&d.member_type)
    .bind(d.expires_on.map(date))
    .bind(&d.notes)
    .bind(&now)
    .bind(&now)
    .execute(w.conn())
    .await
    .map_err(db_err)?;
    Ok(())
}

async fn refuse_duplicate_card(conn: &mut SqliteConnection, card: &str, except: Option<MemberId>) -> Result<()> {
    let existing: Option<uuid::Uuid> =
        sqlx::query_scalar("SELECT id FROM members WHERE card = ?").bind(card).fetch_optional(conn).await.map_err(db_err)?;
    match existing {
        Some(id) if Some(MemberId(id)) != except => Err(Error::DuplicateCard(card.into())),
        _ => Ok(()),
    }
}

impl Store {
    pub async fn member_types(&self) -> Result<Vec<MemberType>> {
        let rows = sqlx::query("SELECT * FROM member_types ORDER BY code").fetch_all(&self.read).await.map_err(db_err)?;
        rows.iter().map(member_type_from_row).collect()
    }

    /// Adds a member type, or changes the rules of the one with this code.
    pub async fn save_member_type(&self, actor: &Actor, t: &MemberType) -> Result<MemberType> {
        actor.require(Action::ManageSettings)?;
        let mut t = t.clone();
        t.code = t.code.trim().to_lowercase();
        t.name = t.name.trim().to_string();
        t.validate()?;
        let mut w = self.write_tx().await?;
        match member_type_by_code(w.conn(), &t.code).await {
            Ok(existing) => {
                sqlx::query(
                    "UPDATE member_types SET name = ?, loan_days = ?, max_renewals = ?, max_loans = ?, hold_pickup_days = ? WHERE id = ?",
                )
                .bind(&t.name)
                .bind(t.loan_days)
                .bind(t.max_renewals)
                .bind(t.max_loans)
                .bind(t.hold_pickup_days)
                .bind(existing.id.0)
                .execute(w.conn())
                .await
                .map_err(db_err)?;
            }
            Err(Error::MemberTypeNotFound(_)) => insert_member_type(&mut w, &t).await?,
            Err(e) => return Err(e),
        }
        let saved = member_type_by_code(w.conn(), &t.code).await?;
        w.commit().await?;
        Ok(saved)
    }

    pub async fn add_member(&self, actor: &Actor, draft: &MemberDraft) -> Result<Member> {
        actor.require(Action::ManageMembers)?;
        let d = draft.validate()?;
        let mut w = self.write_tx().await?;
        member_type_by_code(w.conn(), &d.member_type).await?;
        refuse_duplicate_card(w.conn(), &d.card, None).await?;
        let id = MemberId::new();
        save_member(&mut w, id, &d).await?;
        let m = member_by_id(w.conn(), id).await?;
        w.commit().await?;
        Ok(m)
    }

    pub async fn update_member(&self, actor: &Actor, id: MemberId, draft: &MemberDraft) -> Result<Member> {
        actor.require(Action::ManageMembers)?;
        let d = draft.validate()?;
        let mut w = self.write_tx().await?;
        member_by_id(w.conn(), id).await?;
        member_type_by_code(w.conn(), &d.member_type).await?;
        refuse_duplicate_card(w.conn(), &d.card, Some(id)).await?;
        save_member(&mut w, id, &d).await?;
        let m = member_by_id(w.conn(), id).await?;
        w.commit().await?;
        Ok(m)
    }

    /// Blocks (with a reason staff will see at the desk) or unblocks.
    pub async fn set_member_blocked(&self, actor: &Actor, card: &str, reason: Option<&str>) -> Result<Member> {
        actor.require(Action::ManageMembers)?;
        let reason = shelfkeeper_domain::text::clean(reason);
        let mut w = self.write_tx().await?;
        let m = member_by_card(w.conn(), card).await?;
        let now = w.now_text();
        sqlx::query("UPDATE members SET blocked = ?, block_reason = ?, updated_at = ? WHERE id = ?")
            .bind(reason.is_some())
            .bind(&reason)
            .bind(now)
            .bind(m.id.0)
            .execute(w.conn())
            .await
            .map_err(db_err)?;
        let m = member_by_id(w.conn(), m.id).await?;
        w.commit().await?;
        Ok(m)
    }

    /// Deletes a member with nothing on loan. Their loan history keeps the
    /// member's id (events are never deleted); holds they had are cancelled.
    pub async fn delete_member(&self, actor: &Actor, card: &str) -> Result<()> {
        actor.require(Action::ManageMembers)?;
        let mut w = self.write_tx().await?;
        let m = member_by_card(w.conn(), card).await?;
        let loans: i64 = sqlx::query_scalar("SELECT count(*) FROM loans WHERE member_id = ? AND returned_at IS NULL AND lost_at IS NULL")
            .bind(m.id.0)
            .fetch_one(w.conn())
            .await
            .map_err(db_err)?;
        shelfkeeper_domain::deletion::may_delete_member(&m.card, loans as u32)?;
        crate::circulation::cancel_holds_of_member(&mut w, m.id).await?;
        sqlx::query("UPDATE accounts SET member_id = NULL WHERE member_id = ?").bind(m.id.0).execute(w.conn()).await.map_err(db_err)?;
        sqlx::query("DELETE FROM reviews WHERE member_id = ?").bind(m.id.0).execute(w.conn()).await.map_err(db_err)?;
        sqlx::query("DELETE FROM members WHERE id = ?").bind(m.id.0).execute(w.conn()).await.map_err(db_err)?;
        w.commit().await
    }

    pub async fn member(&self, card: &str) -> Result<Member> {
        let mut conn = self.read.acquire().await.map_err(db_err)?;
        member_by_card(&mut conn, card).await
    }

    pub async fn member_by_id(&self, id: MemberId) -> Result<Member> {
        let mut conn = self.read.acquire().await.map_err(db_err)?;
        member_by_id(&mut conn, id).await
    }

    /// Members whose name, card or email contains `text`, by name; empty
    /// text lists everyone.
    pub async fn find_members(&self, text: &str, limit: u32) -> Result<Vec<Member>> {
        let pattern = format!("%{}%", text.trim().replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"));
        let sql = format!(
            "SELECT {MEMBER_COLUMNS} FROM members
             WHERE name LIKE ?1 ESCAPE '\\' OR card LIKE ?1 ESCAPE '\\' OR email LIKE ?1 ESCAPE '\\'
             ORDER BY sort_name, seq LIMIT ?2"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(pattern)
            .bind(i64::from(limit.clamp(1, 1000)))
            .fetch_all(&self.read)
            .await
            .map_err(db_err)?;
        rows.iter().map(member_from_row).collect()
    }
}
