use shelfkeeper_domain::access::Actor;
use shelfkeeper_domain::model::{Contributor, CopyDraft, Member, MemberDraft, StoreMode, Title, TitleDraft};
use shelfkeeper_store::Store;
use tempfile::TempDir;

pub const OWNER: &Actor = &Actor::OWNER;

/// A fresh store file in its own temporary directory (kept alive with it).
pub struct TestStore {
    pub store: Store,
    /// Deleted (with the store file) when the test ends.
    _dir: TempDir,
}

impl std::ops::Deref for TestStore {
    type Target = Store;
    fn deref(&self) -> &Store {
        &self.store
    }
}

pub async fn new_store(mode: StoreMode) -> TestStore {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::create(dir.path().join("test.sqlite3"), mode).await.unwrap();
    TestStore { store, _dir: dir }
}

pub async fn library() -> TestStore {
    new_store(StoreMode::Library).await
}

pub fn draft(title: &str, author: &str) -> TitleDraft {
    TitleDraft { title: title.into(), contributors: vec![Contributor::author(author)], ..Default::default() }
}

pub async fn title_with_copies(store: &Store, title: &str, barcodes: &[&str]) -> Title {
    let t = store.add_title(OWNER, &draft(title, "Frank Herbert")).await.unwrap();
    for b in barcodes {
        store
            .add_copy(OWNER, t.id, &CopyDraft { barcode: (*b).into(), location: Some("Main".into()), ..Default::default() })
            .await
            .unwrap();
    }
    store.title(t.id).await.unwrap()
}

pub async fn member(store: &Store, card: &str, name: &str) -> Member {
    store
        .add_member(OWNER, &MemberDraft { card: card.into(), name: name.into(), member_type: "adult".into(), ..Default::default() })
        .await
        .unwrap()
}

/// A canonical dump of every table, to prove a failed command changed nothing.
pub async fn snapshot(store: &Store) -> String {
    store.debug_dump().await.unwrap()
}

/// Checks what must hold after any sequence of commands:
/// every replicated row carries a stamp matching a change-log row for it,
/// every event is logged exactly once, clocks move forward along the log,
/// every event chains to the previous one on its stream, copy counters
/// match the copies, and each copy's cached status is what its events say.
pub async fn assert_store_invariants(store: &Store) {
    use sqlx::Connection;
    let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite://{}", store.path().display())).await.unwrap();
    let mut scalar =
        async |sql: &str| -> i64 { sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_string())).fetch_one(&mut conn).await.unwrap() };
    for table in ["titles", "copies", "members", "member_types", "accounts", "circulation_events", "reviews", "reading_status"] {
        // The default member types (the seed stamp, hlc 1) are every
        // store's from the start: not changes, never logged.
        let seeded = if table == "member_types" { "AND r.hlc <> 1" } else { "" };
        let unlogged = scalar(&format!(
            "SELECT count(*) FROM {table} r WHERE r.hlc = 0 OR (NOT EXISTS
               (SELECT 1 FROM change_log c WHERE c.entity_id = r.id AND c.hlc = r.hlc AND c.site_no = r.site_no) {seeded})"
        ))
        .await;
        assert_eq!(unlogged, 0, "{table} has rows without a matching change-log entry");
    }
    let events = scalar("SELECT count(*) FROM circulation_events").await;
    let logged = scalar("SELECT count(*) FROM change_log WHERE entity = 'event'").await;
    assert_eq!(events, logged, "every event is logged exactly once");
    let backwards = scalar("SELECT count(*) FROM change_log a JOIN change_log b ON b.seq = a.seq + 1 WHERE b.hlc < a.hlc").await;
    assert_eq!(backwards, 0, "clocks move forward along the log");
    let broken = scalar(
        "SELECT count(*) FROM circulation_events e WHERE e.prev_event_id IS NOT
           (SELECT p.id FROM circulation_events p WHERE p.stream_id = e.stream_id AND p.seq < e.seq ORDER BY p.seq DESC LIMIT 1)",
    )
    .await;
    assert_eq!(broken, 0, "events chain along their streams");
    let bad_counts = scalar(
        "SELECT count(*) FROM titles t WHERE t.copy_count <> (SELECT count(*) FROM copies c WHERE c.title_id = t.id)
            OR t.available_count <> (SELECT count(*) FROM copies c WHERE c.title_id = t.id AND c.status = 'available')",
    )
    .await;
    assert_eq!(bad_counts, 0, "copy counters match the copies");
    let unindexed = scalar(
        "SELECT count(*) FROM titles t WHERE NOT EXISTS (SELECT 1 FROM title_terms tt WHERE tt.title_seq = t.seq) AND t.subjects <> '[]'",
    )
    .await;
    assert_eq!(unindexed, 0, "subjects are indexed");
    let open_loans_vs_status = scalar(
        "SELECT count(*) FROM copies c WHERE (c.status = 'on_loan') <>
            EXISTS (SELECT 1 FROM loans l WHERE l.copy_id = c.id AND l.returned_at IS NULL AND l.lost_at IS NULL)",
    )
    .await;
    assert_eq!(open_loans_vs_status, 0, "a copy is on loan exactly when it has an open loan");
    let sample: Vec<String> =
        sqlx::query_scalar("SELECT barcode FROM copies ORDER BY random() LIMIT 200").fetch_all(&mut conn).await.unwrap();
    for barcode in sample {
        let copy = store.copy(&barcode).await.unwrap();
        let events = store.copy_events(copy.id).await.unwrap();
        let folded = shelfkeeper_domain::circulation::fold_copy(events.iter().map(|e| e.as_copy_event()).collect::<Vec<_>>().iter());
        assert_eq!(copy.status, folded.status(), "copy {barcode}: cached status differs from its events");
    }
}
