use crate::helpers::*;
use shelfkeeper_domain::Error;
use shelfkeeper_domain::model::StoreMode;
use shelfkeeper_domain::search::SearchRequest;
use shelfkeeper_store::GenerateSpec;
use std::sync::atomic::AtomicBool;

#[tokio::test]
async fn a_generated_collection_keeps_every_invariant_of_the_desk() {
    let t = new_store(StoreMode::Library).await;
    let spec = GenerateSpec { titles: 1_200, copies: 2_500, members: 60, past_loans: 4_000, open_loans: 150, seed: 7 };
    let mut steps = Vec::new();
    let report = t.generate(&spec, |p| steps.push(p), &AtomicBool::new(false)).await.unwrap();
    assert_eq!((report.titles, report.copies, report.members, report.loans), (1_200, 2_500, 60, 4_150));
    assert_eq!(report.events, 4_000 * 2 + 150);
    assert_eq!(steps.last().map(|p| (p.done, p.total)), Some((1_200, 1_200)));
    let stats = t.stats_in_full().await.unwrap();
    assert_eq!((stats.titles, stats.copies, stats.open_loans), (1_200, 2_500, 150));
    assert_eq!((stats.loans_ever, stats.events), (Some(4_150), Some(report.events as i64)));
    // The cheap count of pending changes agrees with counting them.
    let logged: i64 = {
        use sqlx::Connection;
        let mut c = sqlx::SqliteConnection::connect(&format!("sqlite://{}", t.path().display())).await.unwrap();
        sqlx::query_scalar("SELECT count(*) FROM change_log").fetch_one(&mut c).await.unwrap()
    };
    assert_eq!(stats.pending_changes, logged);
    assert_store_invariants(&t).await;

    // The desk works on generated data.
    let page = t.search(&SearchRequest { text: "the".into(), ..Default::default() }).await.unwrap();
    assert!(!page.hits.is_empty());
    let copy = t.copy("C00000001").await.unwrap();
    let member = "M000001";
    match t.check_out(OWNER, member, &copy.barcode).await {
        Ok(_) | Err(Error::CopyOnLoan { .. }) => {}
        Err(e) => panic!("{e}"),
    }
    assert_store_invariants(&t).await;
    // Generating into a store that has titles is refused.
    assert!(t.generate(&spec, |_| {}, &AtomicBool::new(false)).await.is_err());
}

#[tokio::test]
async fn cancelling_generation_stops_between_batches() {
    let t = new_store(StoreMode::Collection).await;
    let err = t.generate(&GenerateSpec::scaled(20_000), |_| {}, &AtomicBool::new(true)).await.unwrap_err();
    assert_eq!(err, Error::Cancelled);
    assert_store_invariants(&t).await;
}
