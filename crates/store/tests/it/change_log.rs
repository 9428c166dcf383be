//! No write path may skip the change log: the schema refuses writes outside
//! a write transaction, and every replicated row written is logged.

use crate::helpers::*;
use shelfkeeper_domain::model::{MemberType, ReadingState, ReadingStatus, Role};
use sqlx::Connection;

/// Runs every kind of mutation the store offers.
async fn exercise_every_command(t: &shelfkeeper_store::Store) {
    let dune = title_with_copies(t, "Dune", &["B1", "B2"]).await;
    let ada = member(t, "M1", "Ada Lovelace").await;
    let grace = member(t, "M2", "Grace Hopper").await;
    t.update_title(OWNER, dune.id, &draft("Dune", "Frank Herbert")).await.unwrap();
    let copy = t.copy("B2").await.unwrap();
    t.update_copy(
        OWNER,
        copy.id,
        &shelfkeeper_domain::model::CopyDraft { barcode: "B2".into(), shelf: Some("X".into()), ..Default::default() },
    )
    .await
    .unwrap();
    t.update_member(
        OWNER,
        ada.id,
        &shelfkeeper_domain::model::MemberDraft {
            card: "M1".into(),
            name: "Ada King".into(),
            member_type: "adult".into(),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    t.save_member_type(OWNER, &MemberType { code: "adult".into(), loan_days: 14, ..MemberType::defaults()[0].clone() }).await.unwrap();
    t.check_out(OWNER, "M1", "B1").await.unwrap();
    t.renew(OWNER, "B1").await.unwrap();
    t.place_hold(OWNER, "M2", dune.id).await.unwrap();
    t.check_in(OWNER, "B1").await.unwrap();
    t.check_out(OWNER, "M2", "B1").await.unwrap();
    t.mark_lost(OWNER, "B1").await.unwrap();
    t.check_in(OWNER, "B1").await.unwrap();
    t.set_member_blocked(OWNER, "M2", Some("lost a book")).await.unwrap();
    t.set_member_blocked(OWNER, "M2", None).await.unwrap();
    t.review(OWNER, dune.id, Some("M1"), 5, Some("Spice!")).await.unwrap();
    t.review(OWNER, dune.id, None, 4, None).await.unwrap();
    t.set_reading_status(
        OWNER,
        Some(&ReadingStatus { title_id: dune.id, state: ReadingState::Read, started_on: None, finished_on: None }),
        dune.id,
    )
    .await
    .unwrap();
    t.create_account(None, "admin", "tea-kettle-harbour", Role::Admin, None).await.unwrap();
    t.create_account(Some(OWNER), "desk", "tea-kettle-harbour-2", Role::Librarian, None).await.unwrap();
    t.update_account(OWNER, "desk", Role::Librarian, true).await.unwrap();
    t.change_password(OWNER, "desk", None, "another-long-phrase").await.unwrap();
    let hold = t.place_hold(OWNER, "M1", dune.id).await.unwrap();
    t.cancel_hold(OWNER, hold.id).await.unwrap();
    t.delete_member(OWNER, &grace.card).await.unwrap();
    t.delete_copy(OWNER, "B2").await.unwrap();
    let owners = t.reviews_of(dune.id).await.unwrap().into_iter().find(|r| r.member_id.is_none()).unwrap();
    t.delete_review(OWNER, owners.id).await.unwrap();
    t.review(OWNER, dune.id, None, 3, Some("On reflection")).await.unwrap();
}

#[tokio::test]
async fn every_write_is_logged_with_the_clock_of_its_transaction() {
    let t = library().await;
    exercise_every_command(&t).await;

    assert_store_invariants(&t).await;
    let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite://{}", t.path().display())).await.unwrap();
    // Deletes are logged and leave tombstones.
    let deletes: i64 = sqlx::query_scalar("SELECT count(*) FROM change_log WHERE op = 'delete'").fetch_one(&mut conn).await.unwrap();
    let tombstones: i64 = sqlx::query_scalar("SELECT count(*) FROM tombstones").fetch_one(&mut conn).await.unwrap();
    assert!(deletes >= 3 && tombstones >= 3, "deletes {deletes}, tombstones {tombstones}");
    for table in ["titles", "copies", "members", "member_types", "accounts", "circulation_events", "reviews", "reading_status"] {
        let rows: i64 =
            sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT count(*) FROM {table}"))).fetch_one(&mut conn).await.unwrap();
        assert!(rows > 0, "{table} was not exercised");
    }
}

#[tokio::test]
async fn the_schema_refuses_writes_that_bypass_the_store() {
    let t = library().await;
    let dune = title_with_copies(&t, "Dune", &["B1"]).await;
    let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite://{}", t.path().display())).await.unwrap();
    for sql in [
        "UPDATE titles SET title = 'Hacked'",
        "DELETE FROM copies",
        "INSERT INTO members (id, card, name, sort_name, member_type, created_at, updated_at) VALUES (x'00', 'X', 'X', 'x', 'adult', '', '')",
    ] {
        let err = sqlx::query(sql).execute(&mut conn).await.unwrap_err();
        assert!(err.to_string().contains("outside a write transaction"), "{sql}: {err}");
    }
    t.check_out(OWNER, &member(&t, "M1", "Ada").await.card, "B1").await.unwrap();
    for sql in ["UPDATE circulation_events SET kind = 'checked_in'", "DELETE FROM circulation_events"] {
        let err = sqlx::query(sql).execute(&mut conn).await.unwrap_err();
        assert!(err.to_string().contains("append-only"), "{sql}: {err}");
    }
    assert_eq!(t.title(dune.id).await.unwrap().title, "Dune");
}
