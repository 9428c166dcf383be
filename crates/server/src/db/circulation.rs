//! Circulation: check-out, check-in and renewal as events plus the `loans`
//! projection, in one transaction each. The decisions are the domain's
//! (`circulation::check_out/check_in/renew`).

use super::members::{MEMBER_COLS, MemberRow, date, member_cols_of, member_row, member_type_row, to_domain, uuid_of};
use super::{Backend, Db, DbError, DbResult, WriteTx, now};
use chrono::NaiveDate;
use shelfkeeper_domain::Error;
use shelfkeeper_domain::circulation::holds::{self, HoldEnd, QueuedHold};
use shelfkeeper_domain::circulation::{self, Borrower, CopyRef, CopyState, OpenLoan, TrappedHold};
use shelfkeeper_domain::ids::{CopyId, EventId, HoldId, MemberId, TitleId};
use shelfkeeper_domain::model::{HoldStatus, Member, MemberType};
use sqlx::Row;
use sqlx::any::AnyRow;

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

/// Loans outlive the copy, title and member they name (a withdrawn copy's
/// loans stay in its borrower's history), so those are outer joins.
const LOAN_SELECT: &str = "SELECT l.id, l.copy_id, COALESCE(c.barcode, '') AS barcode, l.title_id, COALESCE(t.title, '') AS title, l.member_id, \
     COALESCE(m.card, '') AS card, l.out_at, l.due_on, l.renewals, l.returned_at, l.lost_at \
     FROM loans l LEFT JOIN copies c ON c.id = l.copy_id LEFT JOIN titles t ON t.id = l.title_id LEFT JOIN members m ON m.id = l.member_id";

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
}

impl CopyNow {
    pub(crate) fn refr(&self) -> CopyRef {
        CopyRef { id: CopyId(uuid_of(&self.id)), title_id: TitleId(uuid_of(&self.title_id)) }
    }

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
    /// The copy's circulation state, for a write that decides on it. On
    /// PostgreSQL the copy's row is locked first, until the write commits:
    /// concurrent check-ins, renewals and check-outs of one copy take turns,
    /// and each reads what the one before committed (the state is read by a
    /// later statement, so under READ COMMITTED it sees that commit). SQLite
    /// writes already take turns (`begin_write`).
    /// Locks a copy's row until the transaction ends (PostgreSQL; SQLite
    /// writes take turns already), as `copy_now` does by barcode.
    pub(crate) async fn lock_copy(&self, tx: &mut WriteTx, copy_id: &str) -> DbResult<()> {
        if self.backend == Backend::Postgres {
            sqlx::query("SELECT id FROM copies WHERE id = $1 FOR UPDATE").bind(copy_id).fetch_optional(&mut **tx).await?;
        }
        Ok(())
    }

    pub(crate) async fn copy_now(&self, tx: &mut WriteTx, lib: &str, barcode: &str) -> DbResult<CopyNow> {
        if self.backend == Backend::Postgres {
            sqlx::query("SELECT id FROM copies WHERE library_id = $1 AND barcode = $2 FOR UPDATE")
                .bind(lib)
                .bind(barcode)
                .fetch_optional(&mut **tx)
                .await?;
        }
        let r = sqlx::query(
            "SELECT c.id, c.title_id, c.status, l.id AS loan_id, l.member_id, l.due_on, l.renewals, m.card AS loan_card, \
             h.id AS hold_id, h.member_id AS hold_member, h.expires_on AS hold_expires, hm.card AS hold_card \
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
        })
    }

    async fn borrower(&self, tx: &mut WriteTx, lib: &str, member: MemberRow) -> DbResult<(Member, MemberType, u32)> {
        let policy = self.policy(tx, lib, &member.member_type).await?;
        let open: i64 = sqlx::query("SELECT COUNT(*) AS n FROM loans WHERE member_id = $1 AND returned_at IS NULL AND lost_at IS NULL")
            .bind(&member.id)
            .fetch_one(&mut **tx)
            .await?
            .try_get("n")?;
        Ok((to_domain(&member)?, policy, open.clamp(0, u32::MAX as i64) as u32))
    }

    pub async fn check_out(&self, lib: &str, barcode: &str, card: &str, today: NaiveDate) -> DbResult<LoanRow> {
        let mut tx = self.begin_write().await?;
        let mut copy = self.copy_now(&mut tx, lib, barcode).await?;
        // A copy left on the hold shelf too long expires first, committed on
        // its own: it stands even when the check-out below is refused. Rare,
        // so the common check-out is one transaction.
        if self.expire_uncollected(&mut tx, lib, &copy, today).await? {
            tx.commit().await?;
            tx = self.begin_write().await?;
            copy = self.copy_now(&mut tx, lib, barcode).await?;
        }
        let (m, policy, open_loans, own_hold) = self.borrower_by_card(&mut tx, lib, card, &copy.title_id).await?;
        let borrower = Borrower { member: &m, policy: &policy, open_loans };
        let decision = circulation::check_out(barcode, &copy.state, &borrower, own_hold, today, |id| copy.card_of(id))?;
        let e = circulation::checked_out(copy.refr(), m.id, &decision, now());
        self.append(&mut tx, lib, &e).await?;
        tx.commit().await?;
        self.loan(&e.id.to_string()).await?.ok_or_else(|| DbError::vanished("loan"))
    }

    /// The borrower with card `card`, their loan rules, open loans and
    /// waiting hold on `title_id`, in one query (a check-out's round trips
    /// are most of its cost).
    async fn borrower_by_card(
        &self,
        tx: &mut WriteTx,
        lib: &str,
        card: &str,
        title_id: &str,
    ) -> DbResult<(Member, MemberType, u32, Option<HoldId>)> {
        static SQL: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
            let member = member_cols_of("m");
            format!(
                "SELECT {member}, t.id AS type_id, t.code AS type_code, t.name AS type_name, t.loan_days, t.max_renewals, t.max_loans, \
                 t.hold_pickup_days, \
                 (SELECT COUNT(*) FROM loans WHERE member_id = m.id AND returned_at IS NULL AND lost_at IS NULL) AS open_loans, \
                 (SELECT MIN(id) FROM holds WHERE title_id = $3 AND member_id = m.id AND status = 'waiting') AS own_hold \
                 FROM members m LEFT JOIN member_types t ON t.library_id = m.library_id AND t.code = m.member_type \
                 WHERE m.library_id = $1 AND m.card = $2"
            )
        });
        let r = sqlx::query(sqlx::AssertSqlSafe(SQL.as_str()))
            .bind(lib)
            .bind(card)
            .bind(title_id)
            .fetch_optional(&mut **tx)
            .await?
            .ok_or_else(|| Error::MemberNotFound(card.to_owned()))?;
        let member = member_row(&r)?;
        let n = |c: &str| -> Result<u32, sqlx::Error> { Ok(r.try_get::<i64, _>(c)?.clamp(0, u32::MAX as i64) as u32) };
        let policy = match r.try_get::<Option<String>, _>("type_id")? {
            Some(_) => member_type_row(&r, ["type_id", "type_code", "type_name"])?,
            // A library whose default types were never written yet, or a
            // type that is gone: the slow path says which.
            None => self.policy(tx, lib, &member.member_type).await?,
        };
        let own_hold = r.try_get::<Option<String>, _>("own_hold")?.map(|h| HoldId(uuid_of(&h)));
        Ok((to_domain(&member)?, policy, n("open_loans")?, own_hold))
    }

    /// Checks a copy in: closes its loan, or finds a copy marked lost. Then
    /// the copy waits on the hold shelf for the first in line, if anyone.
    pub async fn check_in(&self, lib: &str, barcode: &str, today: NaiveDate) -> DbResult<CheckinOutcome> {
        let mut tx = self.begin_write().await?;
        let copy = self.copy_now(&mut tx, lib, barcode).await?;
        let decision = circulation::check_in(barcode, &copy.state, today)?;
        let loan_id = decision.closes_loan.as_ref().map(|l| l.loan_id.to_string());
        self.append(&mut tx, lib, &circulation::checked_in(copy.refr(), &decision, now())).await?;
        let hold_shelf_for = self.route_freed_copy(&mut tx, lib, copy.refr(), false, today).await?;
        tx.commit().await?;
        let loan = match &loan_id {
            Some(id) => Some(self.loan(id).await?.ok_or_else(|| DbError::vanished("loan"))?),
            None => None,
        };
        Ok(CheckinOutcome { loan, overdue_days: decision.days_overdue, found: decision.found, hold_shelf_for })
    }

    /// Marks a copy lost: its open loan ends as lost, and a hold it was
    /// waiting for goes back to the queue.
    pub async fn mark_lost(&self, lib: &str, barcode: &str) -> DbResult<Option<LoanRow>> {
        let mut tx = self.begin_write().await?;
        let copy = self.copy_now(&mut tx, lib, barcode).await?;
        let loan = copy.state.loan.as_ref().map(|l| l.loan_id.to_string());
        let e = circulation::mark_lost(barcode, copy.refr(), &copy.state, now())?;
        self.append(&mut tx, lib, &e).await?;
        tx.commit().await?;
        match loan {
            Some(id) => Ok(self.loan(&id).await?),
            None => Ok(None),
        }
    }

    /// A copy left on the hold shelf past its pickup date: the hold expires
    /// and the copy goes to the next in line, or back on the shelf. Done
    /// when the desk next handles the copy. True when something changed.
    async fn expire_uncollected(&self, tx: &mut WriteTx, lib: &str, copy: &CopyNow, today: NaiveDate) -> DbResult<bool> {
        let Some(t) = copy.state.trapped.as_ref().filter(|t| holds::is_uncollected(t.expires_on, today)) else { return Ok(false) };
        let refr = copy.refr();
        let hold =
            QueuedHold { id: t.hold_id, title_id: refr.title_id, member: t.member_id, status: HoldStatus::Ready, copy: Some(refr.id) };
        let (e, freed) = holds::close_hold(&hold, HoldEnd::Expired, now())?;
        self.append(tx, lib, &e).await?;
        if freed.is_some() {
            self.route_freed_copy(tx, lib, refr, true, today).await?;
        }
        Ok(true)
    }

    /// The hourly sweep of the hold shelf: every copy left there past its
    /// pickup date, in any library, is handled as a desk would handle it
    /// (the hold expires; the copy goes to the next in line or back on the
    /// shelf), each in its own transaction. Returns how many holds expired.
    pub async fn sweep_uncollected_holds(&self, today: NaiveDate) -> DbResult<u64> {
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

    pub async fn renew(&self, lib: &str, barcode: &str, today: NaiveDate) -> DbResult<LoanRow> {
        let mut tx = self.begin_write().await?;
        let copy = self.copy_now(&mut tx, lib, barcode).await?;
        let loan = copy.state.loan.clone().ok_or_else(|| Error::CopyNotOnLoan(barcode.to_owned()))?;
        // Read in the transaction: it holds the copy's lock, and a second
        // connection could wait behind the others queued on that lock.
        let sql = sqlx::AssertSqlSafe(format!("SELECT {MEMBER_COLS} FROM members WHERE library_id = $1 AND id = $2"));
        let member = sqlx::query(sql)
            .bind(lib)
            .bind(loan.member_id.to_string())
            .fetch_optional(&mut *tx)
            .await?
            .as_ref()
            .map(member_row)
            .transpose()?
            .ok_or_else(|| DbError::Internal("loan without member".into()))?;
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
        self.append(&mut tx, lib, &circulation::renewed(copy.refr(), m.id, due, now())).await?;
        let loan_id = loan.loan_id.to_string();
        tx.commit().await?;
        self.loan(&loan_id).await?.ok_or_else(|| DbError::vanished("loan"))
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
