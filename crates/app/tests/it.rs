//! The use cases end to end: real store files on disk, real files written and
//! read back, and look-ups against a local HTTP fixture server.

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use shelfkeeper_app::files::{ExportFormat, export_catalogue, failed_rows_file, stage_file};
use shelfkeeper_app::lookup::{add_from_lookup, lookup_isbn};
use shelfkeeper_domain::access::Actor;
use shelfkeeper_domain::import::ImportState;
use shelfkeeper_domain::model::{Contributor, CopyDraft, StoreMode, Title, TitleDraft};
use shelfkeeper_domain::provenance::TitleField;
use shelfkeeper_interchange::ImportOptions;
use shelfkeeper_metadata::{Client, Config};
use shelfkeeper_store::Store;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

const ME: &Actor = &Actor::OWNER;

async fn store(dir: &Path, name: &str) -> Store {
    Store::create(dir.join(name), StoreMode::Library).await.unwrap()
}

/// A varied small catalogue: several contributors with roles, quotes,
/// commas and newlines, multi-byte text, titles with no copies and many.
async fn fill(s: &Store) {
    let titles = [
        TitleDraft {
            title: "The Left Hand of Darkness".into(),
            contributors: vec![Contributor::author("Ursula K. Le Guin")],
            isbn: Some("9780441478125".into()),
            subjects: vec!["Science fiction".into(), "Gender -- Fiction".into()],
            tags: vec!["classic".into()],
            publisher: Some("Ace".into()),
            published: Some("1969".into()),
            pages: Some(304),
            language: Some("en".into()),
            notes: Some("Signed; \"first\" printing,\nwith a note".into()),
            ..Default::default()
        },
        TitleDraft {
            title: "Čudovišta, ljudi i bogovi".into(),
            subtitle: Some("zbirka".into()),
            contributors: vec![
                Contributor::author("Ivana Brlić-Mažuranić"),
                Contributor { name: "Smith (Jr.), Jane".into(), role: "translator".into() },
            ],
            series: Some("Priče; izabrane".into()),
            series_number: Some("2".into()),
            call_number: Some("891.8 BRL".into()),
            ..Default::default()
        },
        TitleDraft { title: "No copies at all".into(), contributors: vec![Contributor::author("Anon")], ..Default::default() },
    ];
    for (i, d) in titles.iter().enumerate() {
        let t = s.add_title(ME, d).await.unwrap();
        for c in 0..i * 2 {
            let copy = CopyDraft {
                barcode: format!("T{i}C{c}"),
                location: Some("Main".into()),
                shelf: Some(format!("A{c}")),
                price_cents: Some(1250),
                currency: Some("EUR".into()),
                notes: (c == 1).then(|| "spine, \"worn\"".into()),
                ..Default::default()
            };
            s.add_copy(ME, t.id, &copy).await.unwrap();
        }
    }
}

/// The catalogue as comparable text: each title's draft and its copies'
/// descriptive fields, sorted.
async fn canonical(s: &Store) -> Vec<String> {
    let mut out = Vec::new();
    let mut after = 0;
    loop {
        let page = s.catalogue_page(after, 100).await.unwrap();
        for (t, copies) in &page.titles {
            let mut d = t.draft();
            d.cover_ref = None;
            let copies: Vec<String> = copies
                .iter()
                .map(|c| format!("{}|{:?}|{:?}|{:?}|{:?}|{:?}", c.barcode, c.location, c.shelf, c.price_cents, c.currency, c.notes))
                .collect();
            out.push(format!("{d:?} {copies:?}"));
        }
        match page.next {
            Some(n) => after = n,
            None => break,
        }
    }
    out.sort();
    out
}

#[tokio::test]
async fn export_then_import_into_an_empty_store_gives_the_same_catalogue() {
    let dir = tempfile::tempdir().unwrap();
    let source = store(dir.path(), "source.sqlite3").await;
    fill(&source).await;
    let expected = canonical(&source).await;
    assert_eq!(expected.len(), 3);
    for (format, name) in [(ExportFormat::Csv, "out.csv"), (ExportFormat::Json, "out.json"), (ExportFormat::MarcXml, "out.xml")] {
        let path = dir.path().join(name);
        let report = export_catalogue(&source, &path, format, |_| {}, &AtomicBool::new(false)).await.unwrap();
        assert_eq!((report.titles, report.copies), (3, 6), "{name}");
        assert!(!dir.path().join(format!("{name}.partial")).exists());

        let target = store(dir.path(), &format!("target-{name}.sqlite3")).await;
        let staged = stage_file(&target, ME, &path, &ImportOptions::default(), |_| {}, &AtomicBool::new(false)).await.unwrap();
        assert_eq!((staged.summary.new, staged.summary.error), (3, 0), "{name}: {:?}", staged.summary);
        target.commit_import(ME, &staged.summary.id, |_| {}, &AtomicBool::new(false)).await.unwrap();
        assert_eq!(canonical(&target).await, expected, "{name} round trip");

        // The same file again finds nothing new.
        let again = stage_file(&target, ME, &path, &ImportOptions::default(), |_| {}, &AtomicBool::new(false)).await.unwrap();
        assert_eq!((again.summary.new, again.summary.update, again.summary.duplicate), (0, 0, 3), "{name} again");
    }
}

#[tokio::test]
async fn a_cancelled_export_leaves_no_file_and_failed_rows_come_back_as_a_fixable_file() {
    let dir = tempfile::tempdir().unwrap();
    let s = store(dir.path(), "s.sqlite3").await;
    fill(&s).await;
    let path = dir.path().join("cancelled.csv");
    let err = export_catalogue(&s, &path, ExportFormat::Csv, |_| {}, &AtomicBool::new(true)).await.unwrap_err();
    assert_eq!(err.code(), shelfkeeper_domain::ErrorCode::Cancelled);
    assert!(!path.exists() && !dir.path().join("cancelled.csv.partial").exists());

    let csv = "Book Id,Title,Author,ISBN13,My Rating,Exclusive Shelf\n\
               1,Kindred,Octavia E. Butler,=\"9780807083697\",5,read\n\
               2,Broken,Someone,=\"9780807083698\",4,read\n\
               3,Unrated,Someone Else,,abc,to-read\n";
    let file = dir.path().join("goodreads_library_export.csv");
    std::fs::write(&file, csv).unwrap();
    let staged = stage_file(&s, ME, &file, &ImportOptions::default(), |_| {}, &AtomicBool::new(false)).await.unwrap();
    assert_eq!(staged.info.preset, Some(shelfkeeper_interchange::Preset::Goodreads));
    assert_eq!((staged.summary.new, staged.summary.error), (1, 2));
    let done = s.commit_import(ME, &staged.summary.id, |_| {}, &AtomicBool::new(false)).await.unwrap();
    assert_eq!(done.state, ImportState::Committed);
    let failed = failed_rows_file(&s, &staged.summary.id).await.unwrap().unwrap();
    let lines: Vec<&str> = failed.lines().collect();
    assert_eq!(lines[0], "Book Id,Title,Author,ISBN13,My Rating,Exclusive Shelf,Import error");
    assert!(lines[1].starts_with("2,Broken,Someone,") && lines[1].contains("line 3:") && lines[1].contains("check digit"), "{failed}");
    assert!(lines[2].starts_with("3,Unrated,") && lines[2].contains("My Rating"), "{failed}");
    // Fixed and imported again: only the fixed rows are new.
    let fixed = failed.replace("9780807083698", "9780807083680").replace(",abc,", ",3,");
    let fixed_path = dir.path().join("fixed.csv");
    std::fs::write(&fixed_path, fixed).unwrap();
    let again = stage_file(&s, ME, &fixed_path, &ImportOptions::default(), |_| {}, &AtomicBool::new(false)).await.unwrap();
    assert_eq!((again.summary.new, again.summary.error), (2, 0), "{:?}", again.summary);
}

// ------------------------------------------------------------ look-ups --

#[derive(Clone)]
struct Fixture {
    base: String,
    ol_hits: Arc<AtomicUsize>,
    offline: Arc<AtomicBool>,
}

const OL_FOUND: &str = include_str!("../../metadata/tests/fixtures/openlibrary_found.json");
const GOOGLE_NOT_FOUND: &str = include_str!("../../metadata/tests/fixtures/google_not_found.json");
const LOC_NOT_FOUND: &str = include_str!("../../metadata/tests/fixtures/loc_not_found.xml");
const COVER: &[u8] = include_bytes!("../../metadata/tests/fixtures/cover.png");

async fn open_library(State(f): State<Fixture>) -> impl IntoResponse {
    f.ol_hits.fetch_add(1, Ordering::SeqCst);
    if f.offline.load(Ordering::SeqCst) {
        return (StatusCode::SERVICE_UNAVAILABLE, String::new()).into_response();
    }
    let body = OL_FOUND.replace("https://covers.openlibrary.org/b/id/11481354-L.jpg", &format!("{}/covers/dune.png", f.base));
    ([(header::CONTENT_TYPE, "application/json")], body).into_response()
}

async fn fixture() -> Fixture {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let f = Fixture { base, ol_hits: Arc::default(), offline: Arc::default() };
    let app = Router::new()
        .route("/openlibrary/api/books", get(open_library))
        .route(
            "/google/books/v1/volumes",
            get(|State(f): State<Fixture>| async move {
                if f.offline.load(Ordering::SeqCst) {
                    return (StatusCode::SERVICE_UNAVAILABLE, String::new()).into_response();
                }
                ([(header::CONTENT_TYPE, "application/json")], GOOGLE_NOT_FOUND).into_response()
            }),
        )
        .route(
            "/loc",
            get(|State(f): State<Fixture>| async move {
                if f.offline.load(Ordering::SeqCst) {
                    return (StatusCode::SERVICE_UNAVAILABLE, String::new()).into_response();
                }
                ([(header::CONTENT_TYPE, "text/xml")], LOC_NOT_FOUND).into_response()
            }),
        )
        .route("/covers/dune.png", get(|| async { ([(header::CONTENT_TYPE, "image/png")], COVER) }))
        .with_state(f.clone());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    f
}

fn client(f: &Fixture) -> Client {
    let mut config = Config::default().with_root(&f.base);
    for p in [&mut config.open_library, &mut config.google_books, &mut config.library_of_congress] {
        p.retries = 0;
        p.timeout_ms = 5_000;
    }
    config.backoff_ms = 10;
    Client::new(config).unwrap()
}

#[tokio::test]
async fn a_lookup_is_cached_credits_each_field_and_stores_the_cover_for_offline_use() {
    let dir = tempfile::tempdir().unwrap();
    let s = store(dir.path(), "s.sqlite3").await;
    let f = fixture().await;
    let c = client(&f);

    let a = lookup_isbn(&s, &c, "0-441-17271-7", false).await.unwrap();
    assert_eq!(a.outcome, "found", "{a:?}");
    assert!(!a.from_cache);
    assert_eq!(a.message, "Found by Open Library");
    let draft = a.draft.clone().unwrap();
    assert_eq!(draft.title, "Dune");
    assert_eq!(a.sources[&TitleField::Title], "open_library");
    assert!(a.cover_url.as_deref().unwrap().ends_with("/covers/dune.png"));

    // Asked again: answered from the store, the provider is not asked.
    let hits = f.ol_hits.load(Ordering::SeqCst);
    let again = lookup_isbn(&s, &c, "9780441172719", false).await.unwrap();
    assert!(again.from_cache);
    assert_eq!(f.ol_hits.load(Ordering::SeqCst), hits);

    // Offline and asked to refresh: the cached answer, and it says so.
    f.offline.store(true, Ordering::SeqCst);
    let offline = lookup_isbn(&s, &c, "9780441172719", true).await.unwrap();
    assert_eq!(offline.outcome, "found");
    assert!(offline.message.contains("could not be asked now"), "{}", offline.message);
    f.offline.store(false, Ordering::SeqCst);

    // The person changes the publisher before adding.
    let mut edited = draft.clone();
    edited.publisher = Some("Chilton".into());
    let added = add_from_lookup(&s, &c, ME, &edited).await.unwrap();
    assert_eq!(added.cover_problem, None);
    let t: Title = added.title;
    assert_eq!(t.field_sources[&TitleField::Title].source, "open_library");
    assert_eq!(t.field_sources[&TitleField::Publisher].source, "manual");
    assert_eq!(t.field_sources[&TitleField::Cover].source, "open_library");
    let cover = s.cover(t.cover_ref.as_deref().unwrap()).await.unwrap().unwrap();
    assert_eq!(cover.bytes, COVER, "the cover is in the store, shown offline");

    let known = lookup_isbn(&s, &c, "9780441172719", false).await.unwrap();
    assert_eq!(known.existing.map(|e| e.id), Some(t.id), "a catalogued ISBN says so");

    let bad = lookup_isbn(&s, &c, "9780441172718", false).await.unwrap_err();
    assert_eq!(bad.code(), shelfkeeper_domain::ErrorCode::IsbnChecksum);
}

#[tokio::test]
async fn an_unknown_isbn_is_not_found_and_nothing_listening_is_offline() {
    let dir = tempfile::tempdir().unwrap();
    let s = store(dir.path(), "s.sqlite3").await;
    let f = fixture().await;
    let a = lookup_isbn(&s, &client(&f), "9780807083697", false).await.unwrap();
    // Open Library's fixture only knows Dune: the others say not found and
    // Open Library answers with another book's key, which is not a match.
    assert!(a.outcome == "not_found" || a.outcome == "provider_error", "{a:?}");
    assert!(a.draft.is_none(), "never a silent fallback to another book");

    let nobody = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        drop(l);
        format!("http://{addr}")
    };
    let mut config = Config::default().with_root(&nobody);
    for p in [&mut config.open_library, &mut config.google_books, &mut config.library_of_congress] {
        p.retries = 0;
    }
    let off = lookup_isbn(&s, &Client::new(config).unwrap(), "9780441478125", false).await.unwrap();
    assert_eq!(off.outcome, "offline");
    assert!(off.message.contains("offline"), "{}", off.message);
}
