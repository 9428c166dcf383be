//! Staged imports: classification, commit in batches, resuming, re-import.

use crate::helpers::*;
use shelfkeeper_domain::ErrorCode;
use shelfkeeper_domain::import::{FailedRow, ImportItem, ImportState, RowKind, SourceRecord};
use shelfkeeper_domain::model::{Contributor, CopyDraft, ReadingState, StoreMode, TitleDraft};
use shelfkeeper_domain::provenance::TitleField;
use shelfkeeper_domain::search::SearchRequest;
use shelfkeeper_store::{ImportSpec, Store};
use std::sync::atomic::{AtomicBool, Ordering};

fn spec() -> ImportSpec {
    ImportSpec { source_name: "books.csv".into(), format: "goodreads".into(), source_info: None }
}

fn item(title: &str, author: &str, isbn: Option<&str>, barcodes: &[&str]) -> ImportItem {
    ImportItem {
        title: TitleDraft {
            title: title.into(),
            contributors: vec![Contributor::author(author)],
            isbn: isbn.map(Into::into),
            ..Default::default()
        },
        copies: barcodes.iter().map(|b| CopyDraft { barcode: (*b).into(), ..Default::default() }).collect(),
        ..Default::default()
    }
}

fn rec(line: usize, item: ImportItem) -> SourceRecord {
    SourceRecord { position: format!("line {line}"), raw: Some(format!("raw {line}")), item: Ok(item) }
}

fn bad(line: usize, why: &str) -> SourceRecord {
    SourceRecord { position: format!("line {line}"), raw: Some(format!("raw {line}")), item: Err(why.into()) }
}

/// The dump without the import bookkeeping and the clock (which every
/// write transaction ticks).
async fn catalogue(store: &Store) -> String {
    let dump = snapshot(store).await;
    let mut out = String::new();
    let mut keep = true;
    for line in dump.lines() {
        if let Some(table) = line.strip_prefix("## ") {
            keep = !["imports", "import_rows", "import_records", "clock"].iter().any(|t| table.starts_with(&format!("{t} ")));
        }
        if keep {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

async fn stage(store: &Store, records: Vec<SourceRecord>) -> shelfkeeper_domain::import::ImportSummary {
    store.stage_import(OWNER, &spec(), records, |_| {}, &AtomicBool::new(false)).await.unwrap()
}

async fn commit(store: &Store, id: &str) -> shelfkeeper_domain::import::ImportSummary {
    store.commit_import(OWNER, id, |_| {}, &AtomicBool::new(false)).await.unwrap()
}

#[tokio::test]
async fn staging_classifies_each_row_and_writes_nothing_to_the_catalogue() {
    let t = library().await;
    let dune = t.add_title(OWNER, &draft("Dune", "Frank Herbert")).await.unwrap();
    let mut d = dune.draft();
    d.isbn = Some("9780441172719".into());
    t.update_title(OWNER, dune.id, &d).await.unwrap();
    t.add_copy(OWNER, dune.id, &CopyDraft { barcode: "D1".into(), ..Default::default() }).await.unwrap();
    let before = catalogue(&t).await;

    let mut with_pages = item("Dune", "Frank Herbert", Some("0441172717"), &[]);
    with_pages.title.pages = Some(412);
    let records = vec![
        rec(2, item("The Left Hand of Darkness", "Ursula K. Le Guin", Some("9780441478125"), &["L1"])),
        rec(3, item("Dune", "Frank Herbert", Some("9780441172719"), &[])),
        rec(4, with_pages),
        rec(5, item("Kindred", "Octavia E. Butler", Some("9780807083697"), &["D1"])),
        bad(6, "column 'My Rating' = 'abc' is not a number"),
        rec(7, item("Broken ISBN", "X", Some("9780441172718"), &[])),
        rec(8, item("The Left Hand of Darkness", "Ursula K. Le Guin", Some("0441478123"), &["L2"])),
    ];
    let s = stage(&t, records).await;
    assert_eq!(catalogue(&t).await, before, "staging writes nothing to the catalogue");
    assert_eq!((s.total, s.new, s.update, s.duplicate, s.error), (7, 1, 1, 2, 3));
    assert_eq!(s.state, ImportState::Staged);

    let rows = t.import_rows(&s.id, None, 0, 100).await.unwrap();
    let kinds: Vec<_> = rows.iter().map(|r| r.kind).collect();
    use RowKind::*;
    assert_eq!(kinds, vec![New, Update, Duplicate, Error, Error, Error, Duplicate]);
    assert_eq!(rows[1].reason.as_deref(), Some("matches 'Dune' by ISBN; changes pages"));
    assert_eq!(rows[2].reason.as_deref(), Some("same book as line 3; merged into it"));
    assert!(rows[3].reason.as_deref().unwrap().contains("barcode D1 already belongs to 'Dune'"), "{:?}", rows[3].reason);
    assert!(rows[4].reason.as_deref().unwrap().contains("'My Rating'"));
    assert!(rows[5].reason.as_deref().unwrap().to_lowercase().contains("isbn"), "{:?}", rows[5].reason);
    assert_eq!(rows[6].reason.as_deref(), Some("same book as line 2; merged into it"));
    assert_eq!(rows[1].matched_title, Some(dune.id));

    let failed = t.failed_import_rows(&s.id).await.unwrap();
    assert_eq!(failed.len(), 3);
    assert_eq!(
        failed[1],
        FailedRow { position: "line 6".into(), raw: Some("raw 6".into()), reason: "column 'My Rating' = 'abc' is not a number".into() }
    );
}

#[tokio::test]
async fn committing_writes_new_titles_merges_updates_and_a_second_import_finds_only_duplicates() {
    let t = library().await;
    let dune = t.add_title(OWNER, &TitleDraft { isbn: Some("9780441172719".into()), ..draft("Dune", "Frank Herbert") }).await.unwrap();
    let mut with_pages = item("Dune", "Frank Herbert", Some("9780441172719"), &["D2"]);
    with_pages.title.pages = Some(412);
    let records = || {
        vec![
            rec(2, item("The Left Hand of Darkness", "Ursula K. Le Guin", Some("9780441478125"), &["L1"])),
            rec(3, with_pages.clone()),
            rec(4, item("A Book Without ISBN", "Anon Author", None, &[])),
            rec(5, item("The Left Hand of Darkness", "Ursula K. Le Guin", Some("0441478123"), &["L2"])),
        ]
    };
    let s = stage(&t, records()).await;
    let done = commit(&t, &s.id).await;
    assert_eq!(done.state, ImportState::Committed);
    assert_eq!((done.created_titles, done.updated_titles, done.created_copies, done.done), (2, 1, 3, 4));

    let lhod = t.title_by_isbn("9780441478125").await.unwrap().unwrap();
    let barcodes: Vec<_> = t.copies_of(lhod.id).await.unwrap().into_iter().map(|c| c.barcode).collect();
    assert_eq!(barcodes, vec!["L1", "L2"], "the repeated row's copy was merged into the first");
    assert_eq!(lhod.copy_count, 2);
    assert_eq!(lhod.field_sources[&TitleField::Title].source, "import:goodreads");
    let dune = t.title(dune.id).await.unwrap();
    assert_eq!(dune.pages, Some(412));
    assert_eq!(dune.field_sources[&TitleField::Pages].source, "import:goodreads");
    assert_eq!(dune.field_sources[&TitleField::Title].source, "manual");
    assert_eq!(dune.copy_count, 1);
    let hits = t.search(&SearchRequest { text: "left hand darkness".into(), ..Default::default() }).await.unwrap();
    assert_eq!(hits.hits.len(), 1, "imported titles are searchable");
    assert_store_invariants(&t).await;

    // The same file again: nothing new.
    let again = stage(&t, records()).await;
    assert_eq!((again.new, again.update, again.duplicate, again.error), (0, 0, 4, 0), "{again:?}");
    let dump = catalogue(&t).await;
    commit(&t, &again.id).await;
    assert_eq!(catalogue(&t).await, dump, "re-importing the same file changes nothing");
}

#[tokio::test]
async fn locked_fields_are_kept_by_an_import() {
    let t = library().await;
    let dune = t.add_title(OWNER, &TitleDraft { isbn: Some("9780441172719".into()), ..draft("Dune", "Frank Herbert") }).await.unwrap();
    t.set_field_locks(OWNER, dune.id, &[TitleField::Title], true).await.unwrap();
    let mut other = item("DUNE (Deluxe Edition)", "Frank Herbert", Some("9780441172719"), &[]);
    other.title.publisher = Some("Ace".into());
    let s = stage(&t, vec![rec(2, other)]).await;
    let row = &t.import_rows(&s.id, None, 0, 10).await.unwrap()[0];
    assert_eq!(row.kind, RowKind::Update);
    assert!(row.reason.as_deref().unwrap().contains("keeps locked title"), "{:?}", row.reason);
    commit(&t, &s.id).await;
    let dune = t.title(dune.id).await.unwrap();
    assert_eq!(dune.title, "Dune");
    assert_eq!(dune.publisher.as_deref(), Some("Ace"));
}

#[tokio::test]
async fn a_commit_cancelled_part_way_leaves_whole_batches_and_carries_on() {
    let t = library().await;
    let records: Vec<SourceRecord> =
        (0..2500).map(|i| rec(i + 2, item(&format!("Book number {i}"), "Some Author", None, &[&format!("B{i:05}")]))).collect();
    let s = stage(&t, records).await;
    assert_eq!(s.new, 2500);
    let cancel = AtomicBool::new(false);
    let err = t
        .commit_import(
            OWNER,
            &s.id,
            |p| {
                if p.done >= 1000 {
                    cancel.store(true, Ordering::Relaxed);
                }
            },
            &cancel,
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::Cancelled);
    let part = t.import_summary(&s.id).await.unwrap();
    assert_eq!(part.state, ImportState::Committing);
    assert_eq!(part.done, 1000, "one whole batch");
    assert_eq!(t.stats().await.unwrap().titles, 1000);
    assert_store_invariants(&t).await;

    let done = commit(&t, &s.id).await;
    assert_eq!((done.state, done.done, done.created_titles, done.created_copies), (ImportState::Committed, 2500, 2500, 2500));
    assert_eq!(t.stats().await.unwrap().titles, 2500);
    assert_store_invariants(&t).await;
    let err = t.commit_import(OWNER, &s.id, |_| {}, &AtomicBool::new(false)).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::ImportState);
}

#[tokio::test]
async fn a_write_between_two_batches_makes_the_rest_of_the_commit_check_again() {
    // A commit trusts its preview only while nothing else has written
    // since; a desk that catalogues a book between two batches ends that.
    let t = library().await;
    let mut records: Vec<SourceRecord> =
        (0..1200).map(|i| rec(i + 2, item(&format!("Book number {i}"), "Some Author", None, &[&format!("B{i:05}")]))).collect();
    records.push(rec(1202, item("Kindred", "Octavia E. Butler", Some("9780807083697"), &["K1"])));
    let s = stage(&t, records).await;
    assert_eq!(s.new, 1201);
    let cancel = AtomicBool::new(false);
    let stop_after_one_batch = |p: shelfkeeper_store::Progress| {
        if p.done >= 1000 {
            cancel.store(true, Ordering::Relaxed);
        }
    };
    t.commit_import(OWNER, &s.id, stop_after_one_batch, &cancel).await.unwrap_err();
    let k = t.add_title(OWNER, &TitleDraft { isbn: Some("9780807083697".into()), ..draft("Kindred", "Octavia E. Butler") }).await.unwrap();
    t.add_copy(OWNER, k.id, &CopyDraft { barcode: "K1".into(), ..Default::default() }).await.unwrap();
    let done = commit(&t, &s.id).await;
    assert_eq!((done.created_titles, done.done), (1200, 1201));
    let rows = t.import_rows(&s.id, None, 1200, 10).await.unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].outcome.as_deref(), Some("skipped (already catalogued)"), "found again, not created twice");
    assert_eq!(t.stats().await.unwrap().titles, 1201);
    assert_store_invariants(&t).await;
}

#[tokio::test]
async fn the_catalogue_changing_between_preview_and_commit_is_respected() {
    let t = library().await;
    let s = stage(&t, vec![rec(2, item("Kindred", "Octavia E. Butler", Some("9780807083697"), &["K1"]))]).await;
    assert_eq!(s.new, 1);
    // Meanwhile the desk catalogues the same book with that barcode.
    let k = t.add_title(OWNER, &TitleDraft { isbn: Some("9780807083697".into()), ..draft("Kindred", "Octavia E. Butler") }).await.unwrap();
    t.add_copy(OWNER, k.id, &CopyDraft { barcode: "K1".into(), ..Default::default() }).await.unwrap();
    let done = commit(&t, &s.id).await;
    assert_eq!(done.created_titles, 0);
    let rows = t.import_rows(&s.id, None, 0, 10).await.unwrap();
    assert_eq!(rows[0].outcome.as_deref(), Some("skipped (already catalogued)"));
    assert_eq!(t.stats().await.unwrap().titles, 1);
}

#[tokio::test]
async fn a_collection_import_keeps_reading_state_and_rating() {
    let t = new_store(StoreMode::Collection).await;
    let mut i = item("Piranesi", "Susanna Clarke", Some("9781635575637"), &[]);
    i.reading = Some(ReadingState::Read);
    i.rating = Some(5);
    i.review = Some("Beautiful.".into());
    let s = stage(&t, vec![rec(2, i)]).await;
    commit(&t, &s.id).await;
    let p = t.title_by_isbn("9781635575637").await.unwrap().unwrap();
    assert_eq!(t.reading_status(p.id).await.unwrap().unwrap().state, ReadingState::Read);
    let reviews = t.reviews_of(p.id).await.unwrap();
    assert_eq!((reviews[0].rating, reviews[0].body.as_deref()), (5, Some("Beautiful.")));
    assert_store_invariants(&t).await;
}

#[tokio::test]
async fn a_staged_import_can_be_discarded_and_members_cannot_import() {
    let t = library().await;
    let s = stage(&t, vec![rec(2, item("A", "B", None, &[]))]).await;
    t.discard_import(OWNER, &s.id).await.unwrap();
    assert_eq!(t.import_summary(&s.id).await.unwrap().state, ImportState::Discarded);
    let err = t.commit_import(OWNER, &s.id, |_| {}, &AtomicBool::new(false)).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::ImportState);
    let err = t.import_summary("nope").await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::ImportNotFound);
    let m = member(&t, "C1", "Ada").await;
    let reader = shelfkeeper_domain::access::Actor::account(
        shelfkeeper_domain::ids::AccountId::new(),
        shelfkeeper_domain::model::Role::Member,
        Some(m.id),
    );
    let err = t.stage_import(&reader, &spec(), vec![], |_| {}, &AtomicBool::new(false)).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::PermissionDenied);
}

#[tokio::test]
async fn a_refresh_from_a_lookup_changes_unlocked_fields_only_and_cache_keeps_the_best_answer() {
    use shelfkeeper_store::CachedLookup;
    use std::collections::BTreeMap;
    let t = library().await;
    let dune = t
        .add_title(
            OWNER,
            &TitleDraft { isbn: Some("9780441172719".into()), publisher: Some("Chilton".into()), ..draft("Dune", "Frank Herbert") },
        )
        .await
        .unwrap();
    t.set_field_locks(OWNER, dune.id, &[TitleField::Publisher], true).await.unwrap();
    let found = TitleDraft { publisher: Some("Ace".into()), pages: Some(896), ..draft("Dune", "Frank Herbert") };
    let sources: BTreeMap<TitleField, String> =
        [(TitleField::Publisher, "open_library".to_string()), (TitleField::Pages, "open_library".to_string())].into();
    let (changes, kept) = t.preview_refresh(dune.id, &found, &sources).await.unwrap();
    assert_eq!(changes.iter().map(|c| c.field).collect::<Vec<_>>(), vec![TitleField::Pages]);
    assert_eq!(kept, vec![TitleField::Publisher]);
    let (title, _) = t.refresh_title(OWNER, dune.id, &found, &sources).await.unwrap();
    assert_eq!((title.publisher.as_deref(), title.pages), (Some("Chilton"), Some(896)));
    assert_eq!(title.field_sources[&TitleField::Pages].source, "open_library");
    assert!(title.field_sources[&TitleField::Publisher].locked);
    assert_store_invariants(&t).await;

    // The cache: an offline answer never replaces a found one.
    let at = chrono::Utc::now();
    let found =
        CachedLookup { isbn13: "9780441172719".into(), fetched_at: at, outcome: "found".into(), report: serde_json::json!({"a": 1}) };
    t.cache_lookup(&found).await.unwrap();
    let offline = CachedLookup { outcome: "offline".into(), report: serde_json::json!({"b": 2}), ..found.clone() };
    t.cache_lookup(&offline).await.unwrap();
    assert_eq!(t.cached_lookup("0-441-17271-7").await.unwrap().unwrap().outcome, "found");
}
