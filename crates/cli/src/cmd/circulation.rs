//! Members and circulation: loans, returns, renewals and holds.

use super::ME;
use crate::render::print;
use shelfkeeper_domain::Result;
use shelfkeeper_domain::ids::TitleId;
use shelfkeeper_domain::model::MemberDraft;
use shelfkeeper_store::Store;

pub async fn add_member(store: &Store, card: String, name: String, member_type: String, email: Option<String>, json: bool) -> Result<()> {
    let m = store.add_member(ME, &MemberDraft { card, name, member_type, email, ..Default::default() }).await?;
    print(json, &m, |m| format!("Added member {} {}", m.card, m.name));
    Ok(())
}

pub async fn checkout(store: &Store, card: &str, barcode: &str, json: bool) -> Result<()> {
    let r = store.check_out(ME, card, barcode).await?;
    print(json, &r, |r| format!("Lent '{}' to {}, due {}", r.loan.title, r.loan.member_name, r.loan.due_on));
    Ok(())
}

pub async fn checkin(store: &Store, barcode: &str, json: bool) -> Result<()> {
    let r = store.check_in(ME, barcode).await?;
    print(json, &r, |r| {
        let mut s = format!("Returned '{}'", r.title);
        if r.days_overdue > 0 {
            s += &format!(" ({} days overdue)", r.days_overdue);
        }
        if r.found {
            s += " (it had been marked lost)";
        }
        if let Some(h) = &r.hold {
            s += &format!(" — hold waiting for {} ({}): put it on the hold shelf until {}", h.member_name, h.card, h.expires_on);
        }
        s
    });
    Ok(())
}

pub async fn renew(store: &Store, barcode: &str, json: bool) -> Result<()> {
    let r = store.renew(ME, barcode).await?;
    print(json, &r, |r| format!("Renewed '{}' for {}, now due {}", r.loan.title, r.loan.member_name, r.loan.due_on));
    Ok(())
}

pub async fn hold(store: &Store, card: &str, title_id: TitleId, json: bool) -> Result<()> {
    let h = store.place_hold(ME, card, title_id).await?;
    print(json, &h, |h| format!("{} is number {} in the queue for '{}'", h.member_name, h.position.unwrap_or(0), h.title));
    Ok(())
}

pub async fn loans(store: &Store, overdue: bool, limit: u32, json: bool) -> Result<()> {
    let today = chrono::Utc::now().date_naive();
    let loans = store.open_loans(overdue, today, limit).await?;
    print(json, &loans, |ls| {
        ls.iter()
            .map(|l| {
                let late = l.days_overdue(today);
                format!(
                    "{}  {}  {} ({})  due {}{}",
                    l.barcode,
                    l.title,
                    l.member_name,
                    l.card,
                    l.due_on,
                    if late > 0 { format!("  {late} days overdue") } else { String::new() }
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
    });
    Ok(())
}

pub async fn history(store: &Store, card: &str, json: bool) -> Result<()> {
    let m = store.member(card).await?;
    let loans = store.loans_of_member(m.id, true).await?;
    print(json, &loans, |ls| {
        ls.iter()
            .map(|l| {
                format!(
                    "{}  {}  out {}  {}",
                    l.barcode,
                    l.title,
                    l.out_at.date_naive(),
                    l.returned_at.map(|r| format!("returned {}", r.date_naive())).unwrap_or_else(|| format!("due {}", l.due_on))
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
    });
    Ok(())
}
