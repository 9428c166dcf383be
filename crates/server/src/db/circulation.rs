//! Members, their loan rules, and circulation: check-out, check-in and
//! renewal as events plus the `loans` projection, in one transaction each.
//! The decisions are the domain's (`circulation::check_out/check_in/renew`).

use super::{Backend, Db, WriteTx, is_unique_violation, now_ms};
use crate::error::{ApiError, ApiResult};
use chrono::{DateTime, NaiveDate, Utc};
use shelfkeeper_domain::Error;
use shelfkeeper_domain::circulation::{self, Borrower, CopyState, OpenLoan, TrappedHold};
use shelfkeeper_domain::ids::{EventId, HoldId, MemberId, MemberTypeId};
use shelfkeeper_domain::model::{Member, MemberDraft, MemberType};
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

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct LoanRow {
    pub id: String,
    pub copy_id: String,
    pub barcode: String,
    pub title_id: String,
    pub title: String,
    pub member_id: String,
    pub card: String,
    pub out_at: i64,
    pub due_on: String,
    pub renewals: i64,
    pub returned_at: Option<i64>,
    pub lost_at: Option<i64>,
}

const MEMBER_COLS: &str = "id, card, name, email, phone, address, member_type, expires_on, blocked, block_reason, notes, account_id";

fn member_row(r: &AnyRow) -> Result<MemberRow, sqlx::Error> {
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

const LOAN_SELECT: &str = "SELECT l.id, l.copy_id, c.barcode, l.title_id, t.title, l.member_id, m.card, l.out_at, l.due_on, l.renewals, l.returned_at, l.lost_at \
     FROM loans l JOIN copies c ON c.id = l.copy_id JOIN titles t ON t.id = l.title_id JOIN members m ON m.id = l.member_id";

fn loan_row(r: &AnyRow) -> Result<LoanRow, sqlx::Error> {
    Ok(LoanRow {
        id: r.try_get("id")?,
        copy_id: r.try_get("copy_id")?,
        barcode: r.try_get("barcode")?,
        title_id: r.try_get("title_id")?,
        title: r.try_get("title")?,
        member_id: r.try_get("member_id")?,
        card: r.try_get("card")?,
        out_at: r.try_get("out_at")?,
        due_on: r.try_get("due_on")?,
        renewals: r.try_get("renewals")?,
        returned_at: r.try_get("returned_at")?,
        lost_at: r.try_get("lost_at")?,
    })
}

fn date(s: &str) -> Result<NaiveDate, sqlx::Error> {
    s.parse().map_err(|e: chrono::ParseError| sqlx::Error::Decode(Box::new(e)))
}

fn uuid_of(s: &str) -> uuid::Uuid {
    uuid::Uuid::parse_str(s).unwrap_or_default()
}

/// The domain's view of a member row, for its rules.
fn to_domain(m: &MemberRow) -> Result<Member, sqlx::Error> {
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

/// What a check-in did.
pub struct CheckinOutcome {
    /// The loan it closed; none when a lost copy was found.
    pub loan: Option<LoanRow>,
    pub overdue_days: i64,
    pub found: bool,
    /// The card of the member whose hold the copy now waits for.
    pub hold_shelf_for: Option<String>,
}

/// The copy as the rules see it, with its title and last event.
pub(crate) struct CopyNow {
    pub id: String,
    pub title_id: String,
    pub state: CopyState,
    loan_card: Option<String>,
    trapped_card: Option<String>,
    pub last_event: Option<String>,
}

impl CopyNow {
    /// The card of a member the copy is lent or reserved to, for messages.
    fn card_of(&self, m: MemberId) -> String {
        match (&self.state.loan, &self.state.trapped) {
            (Some(l), _) if l.member_id == m => self.loan_card.clone().unwrap_or_default(),
            (_, Some(t)) if t.member_id == m => self.trapped_card.clone().unwrap_or_default(),
            _ => String::new(),
        }
    }
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
        for t in MemberType::defaults() {
            let hlc = self.tick();
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
            .bind(hlc)
            .bind(&*self.site)
            .execute(&mut **tx)
            .await?;
            self.log_change(tx, lib, "member_type", &t.id.to_string(), "upsert", hlc).await?;
        }
        Ok(())
    }

    pub(crate) async fn policy(&self, tx: &mut WriteTx, lib: &str, code: &str) -> ApiResult<MemberType> {
        self.ensure_member_types(tx, lib).await?;
        let r = sqlx::query("SELECT id, code, name, loan_days, max_renewals, max_loans, hold_pickup_days FROM member_types WHERE library_id = $1 AND code = $2")
            .bind(lib)
            .bind(code)
            .fetch_optional(&mut **tx)
            .await?
            .ok_or_else(|| Error::MemberTypeNotFound(code.to_owned()))?;
        let n = |c: &str| -> Result<u32, sqlx::Error> { Ok(r.try_get::<i64, _>(c)?.clamp(0, u32::MAX as i64) as u32) };
        Ok(MemberType {
            id: MemberTypeId(uuid_of(&r.try_get::<String, _>("id")?)),
            code: r.try_get("code")?,
            name: r.try_get("name")?,
            loan_days: n("loan_days")?,
            max_renewals: n("max_renewals")?,
            max_loans: n("max_loans")?,
            hold_pickup_days: n("hold_pickup_days")?,
        })
    }

    /// The library's member types (loan rules), by code.
    pub async fn member_types(&self, lib: &str) -> ApiResult<Vec<MemberType>> {
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
    pub async fn put_member_type(&self, lib: &str, t: &MemberType) -> ApiResult<MemberType> {
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
    pub async fn put_member(&self, lib: &str, id: &str, d: &MemberDraft, account_id: Option<&str>, existing: bool) -> ApiResult<MemberRow> {
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
            return Err(ApiError::new(
                axum::http::StatusCode::CONFLICT,
                "account_already_linked",
                "that account already has a member record in this library",
            ));
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
            Ok(r) if existing && r.rows_affected() == 0 => return Err(ApiError::not_found("member")),
            Ok(_) => {}
            Err(e) if is_unique_violation(&e) => return Err(Error::DuplicateCard(d.card.clone()).into()),
            Err(e) => return Err(e.into()),
        }
        self.log_change(&mut tx, lib, "member", id, "upsert", hlc).await?;
        tx.commit().await?;
        self.member(lib, id).await?.ok_or_else(|| ApiError::internal("member vanished after write"))
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
    pub async fn set_member_block(&self, lib: &str, id: &str, reason: Option<&str>) -> ApiResult<MemberRow> {
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
            return Err(ApiError::not_found("member"));
        }
        self.log_change(&mut tx, lib, "member", id, "upsert", hlc).await?;
        tx.commit().await?;
        self.member(lib, id).await?.ok_or_else(|| ApiError::internal("member vanished after write"))
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

    pub(crate) async fn copy_now(&self, tx: &mut WriteTx, lib: &str, barcode: &str) -> ApiResult<CopyNow> {
        let r = sqlx::query(
            "SELECT c.id, c.title_id, c.status, l.id AS loan_id, l.member_id, l.due_on, l.renewals, m.card AS loan_card, \
             h.id AS hold_id, h.member_id AS hold_member, h.expires_on AS hold_expires, hm.card AS hold_card, \
             (SELECT e.id FROM circulation_events e WHERE e.copy_id = c.id ORDER BY e.hlc DESC LIMIT 1) AS last_event \
             FROM copies c LEFT JOIN loans l ON l.copy_id = c.id AND l.returned_at IS NULL AND l.lost_at IS NULL LEFT JOIN members m ON m.id = l.member_id \
             LEFT JOIN holds h ON h.copy_id = c.id AND h.status = 'ready' LEFT JOIN members hm ON hm.id = h.member_id \
             WHERE c.library_id = $1 AND c.barcode = $2",
        )
        .bind(lib)
        .bind(barcode)
        .fetch_optional(&mut **tx)
        .await?
        .ok_or_else(|| Error::CopyNotFound(barcode.to_owned()))?;
        let loan = match r.try_get::<Option<String>, _>("loan_id")? {
            Some(loan_id) => Some(OpenLoan {
                loan_id: EventId(uuid_of(&loan_id)),
                member_id: MemberId(uuid_of(&r.try_get::<String, _>("member_id")?)),
                due_on: date(&r.try_get::<String, _>("due_on")?)?,
                renewals: r.try_get::<i64, _>("renewals")?.clamp(0, u32::MAX as i64) as u32,
            }),
            None => None,
        };
        let trapped = match r.try_get::<Option<String>, _>("hold_id")? {
            Some(hold_id) => Some(TrappedHold {
                hold_id: HoldId(uuid_of(&hold_id)),
                member_id: MemberId(uuid_of(&r.try_get::<String, _>("hold_member")?)),
                expires_on: date(&r.try_get::<Option<String>, _>("hold_expires")?.unwrap_or_default()).unwrap_or(NaiveDate::MAX),
            }),
            None => None,
        };
        let lost = r.try_get::<String, _>("status")? == "lost";
        Ok(CopyNow {
            id: r.try_get("id")?,
            title_id: r.try_get("title_id")?,
            state: CopyState { loan, trapped, lost },
            loan_card: r.try_get("loan_card")?,
            trapped_card: r.try_get("hold_card")?,
            last_event: r.try_get("last_event")?,
        })
    }

    pub(crate) async fn event(
        &self,
        tx: &mut WriteTx,
        lib: &str,
        kind: &str,
        copy: &CopyNow,
        member_id: Option<&str>,
        due_on: Option<NaiveDate>,
    ) -> ApiResult<(String, i64)> {
        let id = EventId::new().to_string();
        let hlc = self.tick();
        sqlx::query(
            "INSERT INTO circulation_events (id, library_id, kind, copy_id, title_id, member_id, due_on, prev_event_id, at, hlc, site) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(&id)
        .bind(lib)
        .bind(kind)
        .bind(&copy.id)
        .bind(&copy.title_id)
        .bind(member_id)
        .bind(due_on.map(|d| d.to_string()))
        .bind(&copy.last_event)
        .bind(now_ms())
        .bind(hlc)
        .bind(&*self.site)
        .execute(&mut **tx)
        .await?;
        self.log_change(tx, lib, "event", &id, "upsert", hlc).await?;
        Ok((id, hlc))
    }

    async fn borrower(&self, tx: &mut WriteTx, lib: &str, member: MemberRow) -> ApiResult<(Member, MemberType, u32)> {
        let policy = self.policy(tx, lib, &member.member_type).await?;
        let open: i64 = sqlx::query("SELECT COUNT(*) AS n FROM loans WHERE member_id = $1 AND returned_at IS NULL AND lost_at IS NULL")
            .bind(&member.id)
            .fetch_one(&mut **tx)
            .await?
            .try_get("n")?;
        Ok((to_domain(&member)?, policy, open.clamp(0, u32::MAX as i64) as u32))
    }

    pub async fn check_out(&self, lib: &str, barcode: &str, card: &str, today: NaiveDate) -> ApiResult<LoanRow> {
        // Expiry first, in its own transaction: it stands even when the
        // check-out below is refused.
        let mut tx = self.begin_write().await?;
        let copy = self.copy_now(&mut tx, lib, barcode).await?;
        if self.expire_uncollected(&mut tx, lib, &copy, today).await? {
            tx.commit().await?;
        } else {
            tx.rollback().await?;
        }
        let mut tx = self.begin_write().await?;
        let copy = self.copy_now(&mut tx, lib, barcode).await?;
        let sql = sqlx::AssertSqlSafe(format!("SELECT {MEMBER_COLS} FROM members WHERE library_id = $1 AND card = $2"));
        let member = sqlx::query(sql)
            .bind(lib)
            .bind(card)
            .fetch_optional(&mut *tx)
            .await?
            .as_ref()
            .map(member_row)
            .transpose()?
            .ok_or_else(|| Error::MemberNotFound(card.to_owned()))?;
        let member_id = member.id.clone();
        let (m, policy, open_loans) = self.borrower(&mut tx, lib, member).await?;
        let decision = circulation::check_out(barcode, &copy.state, &Borrower { member: &m, policy: &policy, open_loans }, today, |id| {
            copy.card_of(id)
        })?;
        let (event_id, _) = self.event(&mut tx, lib, "checked_out", &copy, Some(&member_id), Some(decision.due_on)).await?;
        let r = sqlx::query("INSERT INTO loans (id, library_id, copy_id, title_id, member_id, out_at, due_on, renewals, returned_at) VALUES ($1, $2, $3, $4, $5, $6, $7, 0, NULL)")
            .bind(&event_id)
            .bind(lib)
            .bind(&copy.id)
            .bind(&copy.title_id)
            .bind(&member_id)
            .bind(now_ms())
            .bind(decision.due_on.to_string())
            .execute(&mut *tx)
            .await;
        if let Err(e) = r {
            // Another desk lent it between our read and write: the index refuses.
            return Err(if is_unique_violation(&e) {
                ApiError::new(axum::http::StatusCode::CONFLICT, "copy_on_loan", format!("copy {barcode} was just lent at another desk"))
            } else {
                e.into()
            });
        }
        sqlx::query("UPDATE copies SET status = 'on_loan' WHERE id = $1").bind(&copy.id).execute(&mut *tx).await?;
        // The loan meets the borrower's hold on this title, trapped or not.
        sqlx::query("UPDATE holds SET status = 'fulfilled', copy_id = $1, hlc = $2 WHERE title_id = $3 AND member_id = $4 AND status IN ('waiting', 'ready')")
            .bind(&copy.id)
            .bind(self.tick())
            .bind(&copy.title_id)
            .bind(&member_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        self.loan(&event_id).await?.ok_or_else(|| ApiError::internal("loan vanished after write"))
    }

    /// Checks a copy in: closes its loan, or finds a copy marked lost. Then
    /// the copy waits on the hold shelf for the first in line, if anyone.
    pub async fn check_in(&self, lib: &str, barcode: &str, today: NaiveDate) -> ApiResult<CheckinOutcome> {
        let mut tx = self.begin_write().await?;
        let copy = self.copy_now(&mut tx, lib, barcode).await?;
        let decision = circulation::check_in(barcode, &copy.state, today)?;
        let loan_id = decision.closes_loan.as_ref().map(|l| l.loan_id.to_string());
        let member = decision.closes_loan.as_ref().map(|l| l.member_id.to_string());
        self.event(&mut tx, lib, "checked_in", &copy, member.as_deref(), None).await?;
        if let Some(loan_id) = &loan_id {
            sqlx::query("UPDATE loans SET returned_at = $1 WHERE id = $2 AND returned_at IS NULL AND lost_at IS NULL")
                .bind(now_ms())
                .bind(loan_id)
                .execute(&mut *tx)
                .await?;
        }
        let hold_shelf_for = self.trap_for_next_hold(&mut tx, lib, &copy, today).await?;
        if hold_shelf_for.is_none() {
            sqlx::query("UPDATE copies SET status = 'available' WHERE id = $1").bind(&copy.id).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        let loan = match &loan_id {
            Some(id) => Some(self.loan(id).await?.ok_or_else(|| ApiError::internal("loan vanished after write"))?),
            None => None,
        };
        Ok(CheckinOutcome { loan, overdue_days: decision.days_overdue, found: decision.found, hold_shelf_for })
    }

    /// Marks a copy lost: its open loan ends as lost, and a hold it was
    /// waiting for goes back to the queue.
    pub async fn mark_lost(&self, lib: &str, barcode: &str) -> ApiResult<Option<LoanRow>> {
        let mut tx = self.begin_write().await?;
        let copy = self.copy_now(&mut tx, lib, barcode).await?;
        if copy.state.lost {
            return Err(Error::CopyLost(barcode.to_owned()).into());
        }
        let loan = copy.state.loan.as_ref().map(|l| (l.loan_id.to_string(), l.member_id.to_string()));
        self.event(&mut tx, lib, "marked_lost", &copy, loan.as_ref().map(|(_, m)| m.as_str()), None).await?;
        if let Some((loan_id, _)) = &loan {
            sqlx::query("UPDATE loans SET lost_at = $1 WHERE id = $2").bind(now_ms()).bind(loan_id).execute(&mut *tx).await?;
        }
        if let Some(t) = &copy.state.trapped {
            sqlx::query("UPDATE holds SET status = 'waiting', copy_id = NULL, expires_on = NULL, hlc = $1 WHERE id = $2")
                .bind(self.tick())
                .bind(t.hold_id.to_string())
                .execute(&mut *tx)
                .await?;
        }
        sqlx::query("UPDATE copies SET status = 'lost' WHERE id = $1").bind(&copy.id).execute(&mut *tx).await?;
        tx.commit().await?;
        match loan {
            Some((id, _)) => Ok(self.loan(&id).await?),
            None => Ok(None),
        }
    }

    /// A copy left on the hold shelf past its pickup date: the hold expires
    /// and the copy goes to the next in line, or back on the shelf. Done
    /// when the desk next handles the copy. True when something changed.
    async fn expire_uncollected(&self, tx: &mut WriteTx, lib: &str, copy: &CopyNow, today: NaiveDate) -> ApiResult<bool> {
        let Some(t) = copy.state.trapped.as_ref().filter(|t| t.expires_on < today) else { return Ok(false) };
        let hlc = self.tick();
        sqlx::query("UPDATE holds SET status = 'expired', hlc = $1 WHERE id = $2")
            .bind(hlc)
            .bind(t.hold_id.to_string())
            .execute(&mut **tx)
            .await?;
        self.event(tx, lib, "hold_expired", copy, Some(&t.member_id.to_string()), None).await?;
        if self.trap_for_next_hold(tx, lib, copy, today).await?.is_none() {
            sqlx::query("UPDATE copies SET status = 'available' WHERE id = $1").bind(&copy.id).execute(&mut **tx).await?;
        }
        Ok(true)
    }

    /// The hourly sweep of the hold shelf: every copy left there past its
    /// pickup date, in any library, is handled as a desk would handle it
    /// (the hold expires; the copy goes to the next in line or back on the
    /// shelf), each in its own transaction. Returns how many holds expired.
    pub async fn sweep_uncollected_holds(&self, today: NaiveDate) -> ApiResult<u64> {
        let rows = sqlx::query(
            "SELECT c.library_id, c.barcode FROM holds h JOIN copies c ON c.id = h.copy_id \
             WHERE h.status = 'ready' AND h.expires_on < $1 ORDER BY h.expires_on LIMIT 10000",
        )
        .bind(today.to_string())
        .fetch_all(&self.pool)
        .await?;
        let mut n = 0;
        for r in rows {
            let (lib, barcode): (String, String) = (r.try_get("library_id")?, r.try_get("barcode")?);
            // A copy may pass to the next hold, itself uncollected: until settled.
            for _ in 0..100 {
                let mut tx = self.begin_write().await?;
                let copy = self.copy_now(&mut tx, &lib, &barcode).await?;
                if !self.expire_uncollected(&mut tx, &lib, &copy, today).await? {
                    break;
                }
                tx.commit().await?;
                n += 1;
            }
        }
        Ok(n)
    }

    /// The open loan of a copy, if any (for checking who may renew it).
    pub async fn open_loan_of(&self, lib: &str, barcode: &str) -> Result<Option<LoanRow>, sqlx::Error> {
        let sql = sqlx::AssertSqlSafe(format!(
            "{LOAN_SELECT} WHERE l.library_id = $1 AND c.barcode = $2 AND l.returned_at IS NULL AND l.lost_at IS NULL"
        ));
        sqlx::query(sql).bind(lib).bind(barcode).fetch_optional(&self.pool).await?.as_ref().map(loan_row).transpose()
    }

    pub async fn renew(&self, lib: &str, barcode: &str, today: NaiveDate) -> ApiResult<LoanRow> {
        let mut tx = self.begin_write().await?;
        let copy = self.copy_now(&mut tx, lib, barcode).await?;
        let loan = copy.state.loan.clone().ok_or_else(|| Error::CopyNotOnLoan(barcode.to_owned()))?;
        let member = self.member(lib, &loan.member_id.to_string()).await?.ok_or_else(|| ApiError::internal("loan without member"))?;
        let member_id = member.id.clone();
        let (m, policy, open_loans) = self.borrower(&mut tx, lib, member).await?;
        let waiting: i64 = sqlx::query("SELECT COUNT(*) AS n FROM holds WHERE title_id = $1 AND status = 'waiting' AND member_id <> $2")
            .bind(&copy.title_id)
            .bind(&member_id)
            .fetch_one(&mut *tx)
            .await?
            .try_get("n")?;
        let due = circulation::renew(
            barcode,
            &copy.state,
            &Borrower { member: &m, policy: &policy, open_loans },
            waiting.clamp(0, u32::MAX as i64) as u32,
            today,
        )?;
        self.event(&mut tx, lib, "renewed", &copy, Some(&member_id), Some(due)).await?;
        let loan_id = loan.loan_id.to_string();
        sqlx::query("UPDATE loans SET due_on = $1, renewals = renewals + 1 WHERE id = $2")
            .bind(due.to_string())
            .bind(&loan_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        self.loan(&loan_id).await?.ok_or_else(|| ApiError::internal("loan vanished after write"))
    }

    pub async fn loan(&self, id: &str) -> Result<Option<LoanRow>, sqlx::Error> {
        let sql = sqlx::AssertSqlSafe(format!("{LOAN_SELECT} WHERE l.id = $1"));
        sqlx::query(sql).bind(id).fetch_optional(&self.pool).await?.as_ref().map(loan_row).transpose()
    }

    /// A member's loans, newest first; open ones only when asked.
    pub async fn loans_of(&self, lib: &str, member_id: &str, open_only: bool) -> Result<Vec<LoanRow>, sqlx::Error> {
        let open = if open_only { " AND l.returned_at IS NULL AND l.lost_at IS NULL" } else { "" };
        let sql = sqlx::AssertSqlSafe(format!(
            "{LOAN_SELECT} WHERE l.library_id = $1 AND l.member_id = $2{open} ORDER BY l.out_at DESC, l.id DESC LIMIT 500"
        ));
        let rows = sqlx::query(sql).bind(lib).bind(member_id).fetch_all(&self.pool).await?;
        rows.iter().map(loan_row).collect()
    }

    /// Titles by number of loans since `since_ms`.
    pub async fn popular_titles(&self, lib: &str, since_ms: i64, limit: i64) -> Result<Vec<(String, String, i64)>, sqlx::Error> {
        let rows = sqlx::query(
            "SELECT t.id, t.title, COUNT(*) AS loans FROM loans l JOIN titles t ON t.id = l.title_id \
             WHERE l.library_id = $1 AND l.out_at >= $2 GROUP BY t.id, t.title ORDER BY loans DESC, t.title, t.id LIMIT $3",
        )
        .bind(lib)
        .bind(since_ms)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|r| Ok((r.try_get("id")?, r.try_get("title")?, r.try_get("loans")?))).collect()
    }

    /// Loans per calendar month (UTC), oldest first.
    pub async fn loans_per_month(&self, lib: &str) -> Result<Vec<(String, i64)>, sqlx::Error> {
        // Month of a unix-ms instant: each backend has its own function.
        let sql = match self.backend {
            Backend::Postgres => {
                "SELECT to_char(to_timestamp(out_at / 1000) AT TIME ZONE 'UTC', 'YYYY-MM') AS month, COUNT(*) AS loans FROM loans WHERE library_id = $1 GROUP BY 1 ORDER BY 1"
            }
            Backend::Sqlite => {
                "SELECT strftime('%Y-%m', out_at / 1000, 'unixepoch') AS month, COUNT(*) AS loans FROM loans WHERE library_id = $1 GROUP BY 1 ORDER BY 1"
            }
        };
        let rows = sqlx::query(sql).bind(lib).fetch_all(&self.pool).await?;
        rows.iter().map(|r| Ok((r.try_get("month")?, r.try_get("loans")?))).collect()
    }
}
