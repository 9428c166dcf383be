//! Random sequences of circulation commands never break the invariants.

use crate::helpers::*;
use proptest::prelude::*;
use shelfkeeper_domain::circulation::fold_copy;
use shelfkeeper_domain::model::CopyStatus;
use sqlx::Connection;

#[derive(Clone, Debug)]
enum Op {
    CheckOut { member: usize, copy: usize },
    CheckIn { copy: usize },
    Renew { copy: usize },
    Hold { member: usize, title: usize },
    CancelHold { member: usize, title: usize },
    Lost { copy: usize },
}

const MEMBERS: usize = 3;
const TITLES: usize = 2;
const COPIES_PER_TITLE: usize = 2;

fn op() -> impl Strategy<Value = Op> {
    let c = 0..TITLES * COPIES_PER_TITLE;
    prop_oneof![
        4 => (0..MEMBERS, c.clone()).prop_map(|(member, copy)| Op::CheckOut { member, copy }),
        4 => c.clone().prop_map(|copy| Op::CheckIn { copy }),
        1 => c.clone().prop_map(|copy| Op::Renew { copy }),
        2 => (0..MEMBERS, 0..TITLES).prop_map(|(member, title)| Op::Hold { member, title }),
        1 => (0..MEMBERS, 0..TITLES).prop_map(|(member, title)| Op::CancelHold { member, title }),
        1 => c.prop_map(|copy| Op::Lost { copy }),
    ]
}

async fn run(ops: Vec<Op>) -> Result<(), TestCaseError> {
    let t = library().await;
    let mut titles = Vec::new();
    for ti in 0..TITLES {
        let barcodes: Vec<String> = (0..COPIES_PER_TITLE).map(|c| format!("C{}", ti * COPIES_PER_TITLE + c)).collect();
        let refs: Vec<&str> = barcodes.iter().map(String::as_str).collect();
        titles.push(title_with_copies(&t, &format!("Title {ti}"), &refs).await);
    }
    let mut members = Vec::new();
    for m in 0..MEMBERS {
        members.push(member(&t, &format!("M{m}"), &format!("Member {m}")).await);
    }
    let card = |m: usize| format!("M{m}");
    let barcode = |c: usize| format!("C{c}");
    for op in ops {
        // Refusals are fine (they are the rules working); what matters is
        // the state afterwards.
        let _ = match op {
            Op::CheckOut { member, copy } => t.check_out(OWNER, &card(member), &barcode(copy)).await.map(|_| ()),
            Op::CheckIn { copy } => t.check_in(OWNER, &barcode(copy)).await.map(|_| ()),
            Op::Renew { copy } => t.renew(OWNER, &barcode(copy)).await.map(|_| ()),
            Op::Hold { member, title } => t.place_hold(OWNER, &card(member), titles[title].id).await.map(|_| ()),
            Op::CancelHold { member, title } => {
                let holds = t.holds_of_member(members[member].id).await.unwrap();
                match holds.iter().find(|h| h.title_id == titles[title].id && h.status.is_active()) {
                    Some(h) => t.cancel_hold(OWNER, h.id).await.map(|_| ()),
                    None => Ok(()),
                }
            }
            Op::Lost { copy } => t.mark_lost(OWNER, &barcode(copy)).await,
        };
    }

    let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite://{}", t.path().display())).await.unwrap();
    for c in 0..TITLES * COPIES_PER_TITLE {
        let copy = t.copy(&barcode(c)).await.unwrap();
        let events = t.copy_events(copy.id).await.unwrap();
        let folded = fold_copy(events.iter().map(|e| e.as_copy_event()).collect::<Vec<_>>().iter());
        // The cached status is exactly what the events say.
        prop_assert_eq!(copy.status, folded.status(), "copy {}", copy.barcode);
        let loans = t.loans_of_copy(copy.id).await.unwrap();
        let open: Vec<_> = loans.iter().filter(|l| l.is_open()).collect();
        // Never lent twice.
        prop_assert!(open.len() <= 1);
        prop_assert_eq!(open.len() == 1, copy.status == CopyStatus::OnLoan);
        if let (Some(l), Some(f)) = (open.first(), folded.loan.as_ref()) {
            prop_assert_eq!((l.id, l.member_id, l.due_on, l.renewals), (f.loan_id, f.member_id, f.due_on, f.renewals));
        }
        // Every loan has its check-out event.
        for l in &loans {
            prop_assert!(events.iter().any(|e| e.id == l.id));
        }
        // A copy on the hold shelf has exactly one ready hold pointing at it.
        let ready: i64 = sqlx::query_scalar("SELECT count(*) FROM holds WHERE copy_id = ? AND status = 'ready'")
            .bind(copy.id.0)
            .fetch_one(&mut conn)
            .await
            .unwrap();
        prop_assert_eq!(ready == 1, copy.status == CopyStatus::OnHoldShelf);
        prop_assert!(ready <= 1);
    }
    // Counters match the copies.
    let bad_counts: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM titles t WHERE t.available_count <> (SELECT count(*) FROM copies c WHERE c.title_id = t.id AND c.status = 'available')",
    )
    .fetch_one(&mut conn)
    .await
    .unwrap();
    prop_assert_eq!(bad_counts, 0);
    // Every event and every replicated row is in the change log.
    let unlogged: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM circulation_events e WHERE NOT EXISTS (SELECT 1 FROM change_log c WHERE c.entity_id = e.id)",
    )
    .fetch_one(&mut conn)
    .await
    .unwrap();
    prop_assert_eq!(unlogged, 0);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]
    #[test]
    fn circulation_invariants_hold(ops in proptest::collection::vec(op(), 1..60)) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(run(ops))?;
    }
}
