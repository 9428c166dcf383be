//! Every public command, given invalid input, returns its specific error
//! and leaves the store exactly as it was (clock included).

use crate::helpers::*;
use shelfkeeper_domain::access::Actor;
use shelfkeeper_domain::ids::{AccountId, HoldId, TitleId};
use shelfkeeper_domain::model::{CopyDraft, MemberDraft, MemberType, ReadingState, ReadingStatus, Role, TitleDraft};
use shelfkeeper_domain::{Error, ErrorCode};

macro_rules! refused {
    ($t:expr, $code:expr, $call:expr) => {{
        let before = snapshot(&$t).await;
        let err: Error = $call.await.expect_err(stringify!($call));
        assert_eq!(err.code(), $code, "{}: {err}", stringify!($call));
        assert!(!err.to_string().is_empty());
        assert_eq!(snapshot(&$t).await, before, "{} changed the store", stringify!($call));
    }};
}

#[tokio::test]
async fn invalid_input_changes_nothing() {
    let t = library().await;
    let dune = title_with_copies(&t, "Dune", &["B1", "B2"]).await;
    member(&t, "M1", "Ada").await;
    member(&t, "M2", "Grace").await;
    t.check_out(OWNER, "M1", "B1").await.unwrap();
    t.create_account(None, "ada", "correct horse battery", Role::Admin, None).await.unwrap();
    let member_actor = Actor::account(AccountId::new(), Role::Member, None);
    let missing = TitleId::new();

    // Catalogue
    refused!(t, ErrorCode::Invalid, t.add_title(OWNER, &TitleDraft::default()));
    refused!(t, ErrorCode::IsbnChecksum, t.add_title(OWNER, &TitleDraft { isbn: Some("978-0-441-17271-8".into()), ..draft("X", "Y") }));
    refused!(t, ErrorCode::InvalidIsbn, t.add_title(OWNER, &TitleDraft { isbn: Some("12345".into()), ..draft("X", "Y") }));
    refused!(t, ErrorCode::Invalid, t.add_title(OWNER, &TitleDraft { published: Some("yesterday".into()), ..draft("X", "Y") }));
    refused!(t, ErrorCode::Invalid, t.add_title(OWNER, &TitleDraft { pages: Some(0), ..draft("X", "Y") }));
    refused!(t, ErrorCode::Invalid, t.add_title(OWNER, &TitleDraft { language: Some("english".into()), ..draft("X", "Y") }));
    refused!(t, ErrorCode::PermissionDenied, t.add_title(&member_actor, &draft("X", "Y")));
    refused!(t, ErrorCode::TitleNotFound, t.update_title(OWNER, missing, &draft("X", "Y")));
    refused!(t, ErrorCode::Invalid, t.update_title(OWNER, dune.id, &draft("", "Y")));
    refused!(t, ErrorCode::TitleHasCopies, t.delete_title(OWNER, dune.id));
    refused!(t, ErrorCode::TitleNotFound, t.delete_title(OWNER, missing));
    refused!(t, ErrorCode::TitleNotFound, t.add_copy(OWNER, missing, &CopyDraft { barcode: "N1".into(), ..Default::default() }));
    refused!(t, ErrorCode::Invalid, t.add_copy(OWNER, dune.id, &CopyDraft { barcode: "  ".into(), ..Default::default() }));
    refused!(t, ErrorCode::Invalid, t.add_copy(OWNER, dune.id, &CopyDraft { barcode: "B 9".into(), ..Default::default() }));
    refused!(
        t,
        ErrorCode::Invalid,
        t.add_copy(OWNER, dune.id, &CopyDraft { barcode: "B9".into(), price_cents: Some(-1), ..Default::default() })
    );
    refused!(
        t,
        ErrorCode::Invalid,
        t.add_copy(OWNER, dune.id, &CopyDraft { barcode: "B9".into(), currency: Some("euros".into()), ..Default::default() })
    );
    refused!(t, ErrorCode::DuplicateBarcode, t.add_copy(OWNER, dune.id, &CopyDraft { barcode: "b2".into(), ..Default::default() }));
    refused!(t, ErrorCode::CopyInCirculation, t.delete_copy(OWNER, "B1"));
    refused!(t, ErrorCode::CopyNotFound, t.delete_copy(OWNER, "NOPE"));

    // Members
    refused!(
        t,
        ErrorCode::Invalid,
        t.add_member(OWNER, &MemberDraft { card: "M9".into(), name: "".into(), member_type: "adult".into(), ..Default::default() })
    );
    refused!(
        t,
        ErrorCode::Invalid,
        t.add_member(
            OWNER,
            &MemberDraft {
                card: "M9".into(),
                name: "X".into(),
                member_type: "adult".into(),
                email: Some("x@".into()),
                ..Default::default()
            }
        )
    );
    refused!(
        t,
        ErrorCode::MemberTypeNotFound,
        t.add_member(OWNER, &MemberDraft { card: "M9".into(), name: "X".into(), member_type: "alien".into(), ..Default::default() })
    );
    refused!(
        t,
        ErrorCode::DuplicateCard,
        t.add_member(OWNER, &MemberDraft { card: "m1".into(), name: "X".into(), member_type: "adult".into(), ..Default::default() })
    );
    refused!(t, ErrorCode::MemberNotFound, t.set_member_blocked(OWNER, "NOPE", Some("x")));
    refused!(t, ErrorCode::MemberHasLoans, t.delete_member(OWNER, "M1"));
    refused!(t, ErrorCode::Invalid, t.save_member_type(OWNER, &MemberType { loan_days: 0, ..MemberType::defaults()[0].clone() }));
    refused!(
        t,
        ErrorCode::PermissionDenied,
        t.save_member_type(&Actor::account(AccountId::new(), Role::Librarian, None), &MemberType::defaults()[0])
    );

    // Circulation
    refused!(t, ErrorCode::CopyNotFound, t.check_out(OWNER, "M2", "NOPE"));
    refused!(t, ErrorCode::MemberNotFound, t.check_out(OWNER, "NOPE", "B2"));
    refused!(t, ErrorCode::CopyOnLoan, t.check_out(OWNER, "M2", "B1"));
    refused!(t, ErrorCode::Invalid, t.check_out(OWNER, "", "B2"));
    refused!(t, ErrorCode::PermissionDenied, t.check_out(&member_actor, "M2", "B2"));
    refused!(t, ErrorCode::CopyNotOnLoan, t.check_in(OWNER, "B2"));
    refused!(t, ErrorCode::CopyNotFound, t.check_in(OWNER, "NOPE"));
    refused!(t, ErrorCode::CopyNotOnLoan, t.renew(OWNER, "B2"));
    refused!(t, ErrorCode::HoldOnTitleAlreadyBorrowed, t.place_hold(OWNER, "M1", dune.id));
    refused!(t, ErrorCode::TitleNotFound, t.place_hold(OWNER, "M2", missing));
    refused!(t, ErrorCode::HoldNotFound, t.cancel_hold(OWNER, HoldId::new()));
    refused!(t, ErrorCode::CopyNotFound, t.mark_lost(OWNER, "NOPE"));
    refused!(t, ErrorCode::PermissionDenied, t.expire_holds(&member_actor, chrono::Utc::now().date_naive()));
    let b2 = t.copy("B2").await.unwrap();
    refused!(t, ErrorCode::DuplicateBarcode, t.update_copy(OWNER, b2.id, &CopyDraft { barcode: "B1".into(), ..Default::default() }));
    refused!(
        t,
        ErrorCode::CopyNotFound,
        t.update_copy(OWNER, shelfkeeper_domain::ids::CopyId::new(), &CopyDraft { barcode: "B7".into(), ..Default::default() })
    );
    let grace = t.member("M2").await.unwrap();
    refused!(
        t,
        ErrorCode::DuplicateCard,
        t.update_member(
            OWNER,
            grace.id,
            &MemberDraft { card: "M1".into(), name: "Grace".into(), member_type: "adult".into(), ..Default::default() }
        )
    );
    refused!(
        t,
        ErrorCode::MemberTypeNotFound,
        t.update_member(
            OWNER,
            grace.id,
            &MemberDraft { card: "M2".into(), name: "Grace".into(), member_type: "alien".into(), ..Default::default() }
        )
    );

    // Reviews, reading status
    refused!(t, ErrorCode::RatingOutOfRange, t.review(OWNER, dune.id, Some("M1"), 6, None));
    refused!(t, ErrorCode::RatingOutOfRange, t.review(OWNER, dune.id, None, 0, None));
    refused!(t, ErrorCode::TitleNotFound, t.review(OWNER, missing, None, 3, None));
    refused!(t, ErrorCode::MemberNotFound, t.review(OWNER, dune.id, Some("NOPE"), 3, None));
    let backwards = ReadingStatus {
        title_id: dune.id,
        state: ReadingState::Read,
        started_on: Some("2026-02-01".parse().unwrap()),
        finished_on: Some("2026-01-01".parse().unwrap()),
    };
    refused!(t, ErrorCode::Invalid, t.set_reading_status(OWNER, Some(&backwards), dune.id));

    // Accounts
    refused!(t, ErrorCode::AdminAlreadyExists, t.create_account(None, "eve", "correct horse battery", Role::Admin, None));
    refused!(t, ErrorCode::WeakPassword, t.create_account(Some(OWNER), "bob", "short", Role::Member, None));
    refused!(t, ErrorCode::Invalid, t.create_account(Some(OWNER), "b", "correct horse battery", Role::Member, None));
    refused!(t, ErrorCode::DuplicateUsername, t.create_account(Some(OWNER), "ADA", "correct horse battery", Role::Member, None));
    refused!(t, ErrorCode::MemberNotFound, t.create_account(Some(OWNER), "bob", "correct horse battery", Role::Member, Some("NOPE")));
    refused!(t, ErrorCode::AccountNotFound, t.update_account(OWNER, "nobody", Role::Member, true));
    refused!(t, ErrorCode::InvalidCredentials, t.authenticate("ada", "wrong password!"));
    refused!(t, ErrorCode::WeakPassword, t.change_password(OWNER, "ada", None, "password"));
    refused!(t, ErrorCode::AccountNotFound, t.change_password(OWNER, "nobody", None, "long enough phrase"));
    refused!(t, ErrorCode::PermissionDenied, t.change_password(&member_actor, "ada", None, "long enough phrase"));
    refused!(t, ErrorCode::Invalid, t.delete_review(OWNER, shelfkeeper_domain::ids::ReviewId::new()));
}
