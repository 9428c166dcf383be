use crate::helpers::*;
use chrono::{Days, Utc};
use shelfkeeper_domain::Error;
use shelfkeeper_domain::access::Actor;
use shelfkeeper_domain::circulation::EventKind;
use shelfkeeper_domain::ids::{AccountId, MemberTypeId};
use shelfkeeper_domain::model::{CopyStatus, HoldStatus, MemberDraft, MemberType, Role};
use shelfkeeper_store::SyncSetting;

#[tokio::test]
async fn lend_return_and_history() {
    let t = library().await;
    let dune = title_with_copies(&t, "Dune", &["B00123"]).await;
    let ada = member(&t, "M0042", "Ada Lovelace").await;
    let today = Utc::now().date_naive();

    let out = t.check_out(OWNER, "m0042", "b00123").await.unwrap();
    assert_eq!(out.loan.due_on, today + Days::new(21));
    assert_eq!(out.loan.card, "M0042");
    assert_eq!(t.copy("B00123").await.unwrap().status, CopyStatus::OnLoan);
    assert_eq!(t.title(dune.id).await.unwrap().available_count, 0);

    let grace = member(&t, "M7", "Grace Hopper").await;
    let err = t.check_out(OWNER, &grace.card, "B00123").await.unwrap_err();
    assert_eq!(err.to_string(), format!("copy B00123 is already on loan to member M0042 until {}", out.loan.due_on));

    let back = t.check_in(OWNER, "B00123").await.unwrap();
    assert_eq!(back.loan.as_ref().unwrap().member_id, ada.id);
    assert!(back.hold.is_none());
    assert_eq!(back.days_overdue, 0);
    assert_eq!(t.copy("B00123").await.unwrap().status, CopyStatus::Available);
    assert!(matches!(t.check_in(OWNER, "B00123").await, Err(Error::CopyNotOnLoan(_))));

    let history = t.loans_of_member(ada.id, true).await.unwrap();
    assert_eq!(history.len(), 1);
    assert!(history[0].returned_at.is_some());
    assert!(t.loans_of_member(ada.id, false).await.unwrap().is_empty());
    let copy = t.copy("B00123").await.unwrap();
    let events = t.copy_events(copy.id).await.unwrap();
    let kinds: Vec<_> = events.iter().map(|e| e.kind).collect();
    assert_eq!(kinds, vec![EventKind::CheckedOut, EventKind::CheckedIn]);
    assert_eq!(events[1].prev_event_id, Some(events[0].id));
    assert_eq!(t.loans_of_copy(copy.id).await.unwrap().len(), 1);
}

#[tokio::test]
async fn blocked_expired_and_over_the_limit_members_cannot_borrow() {
    let t = library().await;
    title_with_copies(&t, "Dune", &["B1", "B2", "B3"]).await;
    member(&t, "M1", "Ada").await;
    t.set_member_blocked(OWNER, "M1", Some("unpaid fines")).await.unwrap();
    let err = t.check_out(OWNER, "M1", "B1").await.unwrap_err();
    assert_eq!(err.to_string(), "member M1 is blocked: unpaid fines");

    let yesterday = Utc::now().date_naive() - Days::new(1);
    t.add_member(
        OWNER,
        &MemberDraft {
            card: "M2".into(),
            name: "Old".into(),
            member_type: "adult".into(),
            expires_on: Some(yesterday),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert!(matches!(t.check_out(OWNER, "M2", "B1").await, Err(Error::MemberExpired { .. })));

    let tiny =
        MemberType { id: MemberTypeId::new(), code: "tiny".into(), name: "Tiny".into(), max_loans: 1, ..MemberType::defaults()[0].clone() };
    t.save_member_type(OWNER, &tiny).await.unwrap();
    t.add_member(OWNER, &MemberDraft { card: "M3".into(), name: "Tiny".into(), member_type: "tiny".into(), ..Default::default() })
        .await
        .unwrap();
    t.check_out(OWNER, "M3", "B1").await.unwrap();
    assert!(matches!(t.check_out(OWNER, "M3", "B2").await, Err(Error::LoanLimitReached { limit: 1, .. })));
}

#[tokio::test]
async fn renewals_are_limited_and_blocked_by_holds() {
    let t = library().await;
    let dune = title_with_copies(&t, "Dune", &["B1"]).await;
    member(&t, "M1", "Ada").await;
    member(&t, "M2", "Grace").await;
    t.check_out(OWNER, "M1", "B1").await.unwrap();
    let r = t.renew(OWNER, "B1").await.unwrap();
    assert_eq!(r.loan.renewals, 1);
    t.renew(OWNER, "B1").await.unwrap();
    assert!(matches!(t.renew(OWNER, "B1").await, Err(Error::RenewalLimitReached { limit: 2, .. })));

    let t2 = library().await;
    let dune2 = title_with_copies(&t2, "Dune", &["B1"]).await;
    member(&t2, "M1", "Ada").await;
    member(&t2, "M2", "Grace").await;
    t2.check_out(OWNER, "M1", "B1").await.unwrap();
    t2.place_hold(OWNER, "M2", dune2.id).await.unwrap();
    assert!(matches!(t2.renew(OWNER, "B1").await, Err(Error::RenewalBlockedByHold(_))));
    let _ = dune;
}

#[tokio::test]
async fn holds_queue_traps_returned_copies_in_order() {
    let t = library().await;
    let dune = title_with_copies(&t, "Dune", &["B1"]).await;
    member(&t, "M1", "Ada Lovelace").await;
    member(&t, "M2", "Grace Hopper").await;
    member(&t, "M3", "Alan Turing").await;
    t.check_out(OWNER, "M1", "B1").await.unwrap();
    let h2 = t.place_hold(OWNER, "M2", dune.id).await.unwrap();
    let h3 = t.place_hold(OWNER, "M3", dune.id).await.unwrap();
    assert_eq!((h2.position, h3.position), (Some(1), Some(2)));
    assert!(matches!(t.place_hold(OWNER, "M2", dune.id).await, Err(Error::HoldAlreadyPlaced { .. })));
    assert!(matches!(t.place_hold(OWNER, "M1", dune.id).await, Err(Error::HoldOnTitleAlreadyBorrowed { .. })));

    let back = t.check_in(OWNER, "B1").await.unwrap();
    let notice = back.hold.expect("the copy is trapped for the first in line");
    assert_eq!((notice.card.as_str(), notice.member_name.as_str()), ("M2", "Grace Hopper"));
    assert_eq!(t.copy("B1").await.unwrap().status, CopyStatus::OnHoldShelf);
    // Only Grace may take it.
    assert!(matches!(t.check_out(OWNER, "M3", "B1").await, Err(Error::CopyReservedForAnother { .. })));
    let out = t.check_out(OWNER, "M2", "B1").await.unwrap();
    assert!(out.fulfilled_hold);
    assert_eq!(t.hold(h2.id).await.unwrap().status, HoldStatus::Fulfilled);
    assert_eq!(t.hold(h3.id).await.unwrap().position, Some(1));

    // Alan cancels while waiting; the next return goes back to the shelf.
    t.cancel_hold(OWNER, h3.id).await.unwrap();
    assert!(matches!(t.cancel_hold(OWNER, h3.id).await, Err(Error::HoldNotActive(_))));
    let back = t.check_in(OWNER, "B1").await.unwrap();
    assert!(back.hold.is_none());
    assert_eq!(t.copy("B1").await.unwrap().status, CopyStatus::Available);
}

#[tokio::test]
async fn cancelling_a_ready_hold_passes_the_copy_to_the_next_in_line() {
    let t = library().await;
    let dune = title_with_copies(&t, "Dune", &["B1"]).await;
    for (c, n) in [("M1", "Ada"), ("M2", "Grace"), ("M3", "Alan")] {
        member(&t, c, n).await;
    }
    t.check_out(OWNER, "M1", "B1").await.unwrap();
    let h2 = t.place_hold(OWNER, "M2", dune.id).await.unwrap();
    t.place_hold(OWNER, "M3", dune.id).await.unwrap();
    t.check_in(OWNER, "B1").await.unwrap();
    let next = t.cancel_hold(OWNER, h2.id).await.unwrap().expect("passed on");
    assert_eq!(next.card, "M3");
    assert_eq!(t.copy("B1").await.unwrap().status, CopyStatus::OnHoldShelf);
    let queue = t.holds_of_title(dune.id).await.unwrap();
    assert_eq!(queue[0].status, HoldStatus::Ready);
    assert_eq!(queue[0].copy_barcode.as_deref(), Some("B1"));
}

#[tokio::test]
async fn lost_copies_close_the_loan_and_come_back_when_found() {
    let t = library().await;
    title_with_copies(&t, "Dune", &["B1"]).await;
    let ada = member(&t, "M1", "Ada").await;
    t.check_out(OWNER, "M1", "B1").await.unwrap();
    t.mark_lost(OWNER, "B1").await.unwrap();
    assert_eq!(t.copy("B1").await.unwrap().status, CopyStatus::Lost);
    assert!(matches!(t.check_out(OWNER, "M1", "B1").await, Err(Error::CopyLost(_))));
    let loans = t.loans_of_member(ada.id, true).await.unwrap();
    assert!(loans[0].lost_at.is_some());
    let found = t.check_in(OWNER, "B1").await.unwrap();
    assert!(found.found);
    assert_eq!(t.copy("B1").await.unwrap().status, CopyStatus::Available);
}

#[tokio::test]
async fn members_cannot_work_the_desk_but_can_hold_for_themselves() {
    let t = library().await;
    let dune = title_with_copies(&t, "Dune", &["B1"]).await;
    let ada = member(&t, "M1", "Ada").await;
    member(&t, "M2", "Grace").await;
    let as_ada = Actor::account(AccountId::new(), Role::Member, Some(ada.id));
    assert!(matches!(t.check_out(&as_ada, "M1", "B1").await, Err(Error::PermissionDenied { .. })));
    assert!(matches!(t.place_hold(&as_ada, "M2", dune.id).await, Err(Error::PermissionDenied { .. })));
    let hold = t.place_hold(&as_ada, "M1", dune.id).await.unwrap();
    t.cancel_hold(&as_ada, hold.id).await.unwrap();
    let librarian = Actor::account(AccountId::new(), Role::Librarian, None);
    t.check_out(&librarian, "M2", "B1").await.unwrap();
}

#[tokio::test]
async fn overdue_loans_are_listed_most_overdue_first() {
    let t = library().await;
    title_with_copies(&t, "Dune", &["B1", "B2"]).await;
    member(&t, "M1", "Ada").await;
    t.check_out(OWNER, "M1", "B1").await.unwrap();
    t.check_out(OWNER, "M1", "B2").await.unwrap();
    let today = Utc::now().date_naive();
    assert!(t.open_loans(true, today, 10).await.unwrap().is_empty());
    let later = today + Days::new(30);
    let overdue = t.open_loans(true, later, 10).await.unwrap();
    assert_eq!(overdue.len(), 2);
    assert_eq!(overdue[0].days_overdue(later), 9);
    assert_eq!(t.open_loans(false, today, 10).await.unwrap().len(), 2);
}

#[tokio::test]
async fn uncollected_holds_expire_and_the_copy_moves_on() {
    let t = library().await;
    let dune = title_with_copies(&t, "Dune", &["B1"]).await;
    for (c, n) in [("M1", "Ada"), ("M2", "Grace"), ("M3", "Alan")] {
        member(&t, c, n).await;
    }
    t.check_out(OWNER, "M1", "B1").await.unwrap();
    let h2 = t.place_hold(OWNER, "M2", dune.id).await.unwrap();
    t.place_hold(OWNER, "M3", dune.id).await.unwrap();
    let notice = t.check_in(OWNER, "B1").await.unwrap().hold.unwrap();
    let today = Utc::now().date_naive();
    assert_eq!(notice.expires_on, today + Days::new(7));
    assert_eq!(t.expire_holds(OWNER, notice.expires_on).await.unwrap(), 0, "the last pickup day still counts");
    assert_eq!(t.expire_holds(OWNER, notice.expires_on + Days::new(1)).await.unwrap(), 1);
    assert_eq!(t.hold(h2.id).await.unwrap().status, HoldStatus::Expired);
    let shelf = t.active_holds(10).await.unwrap();
    assert_eq!((shelf[0].card.as_str(), shelf[0].status), ("M3", HoldStatus::Ready));
    assert_eq!(t.copy("B1").await.unwrap().status, CopyStatus::OnHoldShelf);
    // Nobody else waiting: the next expiry puts the copy back on the shelf.
    t.expire_holds(OWNER, today + Days::new(30)).await.unwrap();
    assert_eq!(t.copy("B1").await.unwrap().status, CopyStatus::Available);
    assert!(t.active_holds(10).await.unwrap().is_empty());
}

/// Issue 20: nothing called `expire_holds` on a desk. The desktop's sweep
/// runs it on a desk without a server; a desk that syncs leaves it to the
/// server's sweep (two sweepers would each expire the same hold).
#[tokio::test]
async fn the_hold_shelf_sweep_runs_only_where_no_server_sweeps() {
    let t = library().await;
    let dune = title_with_copies(&t, "Dune", &["B1"]).await;
    member(&t, "M1", "Ada").await;
    member(&t, "M2", "Grace").await;
    t.check_out(OWNER, "M1", "B1").await.unwrap();
    let hold = t.place_hold(OWNER, "M2", dune.id).await.unwrap();
    let notice = t.check_in(OWNER, "B1").await.unwrap().hold.unwrap();
    let later = notice.expires_on + Days::new(1);
    assert_eq!(t.sweep_hold_shelf(OWNER, notice.expires_on).await.unwrap(), 0, "not yet");

    let synced = library().await;
    let d2 = title_with_copies(&synced, "Dune", &["B1"]).await;
    member(&synced, "M1", "Ada").await;
    member(&synced, "M2", "Grace").await;
    synced.check_out(OWNER, "M1", "B1").await.unwrap();
    synced.place_hold(OWNER, "M2", d2.id).await.unwrap();
    synced.check_in(OWNER, "B1").await.unwrap();
    synced.set_sync_setting(SyncSetting::CursorLibrary, Some(&uuid::Uuid::now_v7().to_string())).await.unwrap();
    assert_eq!(synced.sweep_hold_shelf(OWNER, later).await.unwrap(), 0, "its server sweeps");
    assert_eq!(synced.copy("B1").await.unwrap().status, CopyStatus::OnHoldShelf);

    assert_eq!(t.sweep_hold_shelf(OWNER, later).await.unwrap(), 1);
    assert_eq!(t.hold(hold.id).await.unwrap().status, HoldStatus::Expired);
    assert_eq!(t.copy("B1").await.unwrap().status, CopyStatus::Available);
}

/// The desk lets an uncollected copy go when it is next handled, as the
/// server does: a copy left on the hold shelf past its pickup day goes to
/// the member at the desk (before, only `expire_holds` did it, and nothing
/// called that, so the copy stayed reserved for good).
#[tokio::test]
async fn a_copy_left_on_the_hold_shelf_past_its_pickup_day_is_lent_to_whoever_asks() {
    use sqlx::Connection;
    let t = library().await;
    let dune = title_with_copies(&t, "Dune", &["B1"]).await;
    for (c, n) in [("M1", "Ada"), ("M2", "Grace"), ("M3", "Alan")] {
        member(&t, c, n).await;
    }
    t.check_out(OWNER, "M1", "B1").await.unwrap();
    let h2 = t.place_hold(OWNER, "M2", dune.id).await.unwrap();
    assert_eq!(t.check_in(OWNER, "B1").await.unwrap().hold.unwrap().card, "M2");
    assert!(matches!(t.check_out(OWNER, "M3", "B1").await, Err(Error::CopyReservedForAnother { .. })));
    // The pickup days pass.
    let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite://{}", t.path().display())).await.unwrap();
    sqlx::query("UPDATE holds SET expires_on = '2000-01-01' WHERE status = 'ready'").execute(&mut conn).await.unwrap();
    conn.close().await.unwrap();
    let out = t.check_out(OWNER, "M3", "B1").await.unwrap();
    assert!(!out.fulfilled_hold);
    assert_eq!(t.hold(h2.id).await.unwrap().status, HoldStatus::Expired);
    let copy = t.copy("B1").await.unwrap();
    let kinds: Vec<_> = t.copy_events(copy.id).await.unwrap().iter().map(|e| e.kind).collect();
    assert_eq!(
        kinds,
        [EventKind::CheckedOut, EventKind::CheckedIn, EventKind::TrappedForHold, EventKind::ReleasedFromHold, EventKind::CheckedOut]
    );
    assert_store_invariants(&t).await;
}

/// A member who borrows a copy of a title they wait for has what they
/// waited for: the loan fulfils the hold, and no later copy is trapped for
/// them (Koha fills the hold the same way).
#[tokio::test]
async fn a_loan_fulfils_the_borrowers_waiting_hold() {
    let t = library().await;
    let dune = title_with_copies(&t, "Dune", &["B1", "B2"]).await;
    member(&t, "M1", "Ada").await;
    member(&t, "M2", "Grace").await;
    t.check_out(OWNER, "M1", "B1").await.unwrap();
    let hold = t.place_hold(OWNER, "M2", dune.id).await.unwrap();
    assert_eq!(hold.status, HoldStatus::Waiting);
    let out = t.check_out(OWNER, "M2", "B2").await.unwrap();
    assert!(out.fulfilled_hold);
    assert_eq!(t.hold(hold.id).await.unwrap().status, HoldStatus::Fulfilled);
    assert!(t.check_in(OWNER, "B1").await.unwrap().hold.is_none(), "nobody waits any more");
    assert_eq!(t.copy("B1").await.unwrap().status, CopyStatus::Available);
    assert_store_invariants(&t).await;
}
