//! Look-ups against the fixture: found, not found, other books, merging.

use crate::fixture::*;
use shelfkeeper_domain::isbn::Isbn;
use shelfkeeper_metadata::{Client, ClientError, Config, Overall, Provider, ProviderOutcome, USER_AGENT};

pub fn dune() -> Isbn {
    Isbn::parse("978-0-441-17271-9").unwrap()
}

#[tokio::test]
async fn every_provider_finds_the_book_and_the_merge_names_each_fields_source() {
    let fx = Fixture::start(providers("openlibrary_found.json", "google_found.json", "loc_found.xml")).await;
    let client = Client::new(fx.config()).unwrap();
    let report = client.lookup(&dune()).await;
    assert_eq!(report.isbn13, "9780441172719");
    assert_eq!(report.overall(), Overall::Found);
    let providers: Vec<Provider> = report.outcomes.iter().map(|(p, _)| *p).collect();
    assert_eq!(providers, vec![Provider::OpenLibrary, Provider::GoogleBooks, Provider::LibraryOfCongress]);
    for (p, o) in &report.outcomes {
        assert_eq!(o.code(), "found", "{p}: {o:?}");
    }

    let merged = report.merged().unwrap();
    let title = merged.title.as_ref().unwrap();
    assert_eq!((title.value.as_str(), title.source.provider), ("Dune", Provider::OpenLibrary));
    // Open Library's data API gives no language: Google's comes next.
    let language = merged.language.as_ref().unwrap();
    assert_eq!((language.value.as_str(), language.source.provider), ("en", Provider::GoogleBooks));
    let series = merged.series.as_ref().unwrap();
    assert_eq!((series.value.as_str(), series.source.provider), ("Dune chronicles", Provider::LibraryOfCongress));
    assert_eq!(merged.series_number.as_ref().unwrap().value, "1");
    assert_eq!(merged.cover_url.as_ref().unwrap().source.provider, Provider::OpenLibrary);
    assert_eq!(merged.pages.as_ref().unwrap().value, 896);
    let found_at = report.found().find(|r| r.provider == Provider::GoogleBooks).unwrap().fetched_at;
    assert_eq!(language.source.fetched_at, found_at);
    assert!(merged.sources().iter().any(|(f, s)| *f == "language" && s.provider == Provider::GoogleBooks));
    merged.to_title_draft().validate().unwrap();

    // Each provider was asked once, in the form it wants, as Shelfkeeper.
    assert_eq!((fx.hits(OL), fx.hits(GOOGLE), fx.hits(LOC)), (1, 1, 1));
    let requested = fx.requested();
    assert!(requested.iter().any(|q| q.contains("bibkeys=ISBN%3A9780441172719&format=json&jscmd=data")), "{requested:?}");
    assert!(requested.iter().any(|q| q.contains("q=isbn%3A9780441172719")), "{requested:?}");
    assert!(requested.iter().any(|q| q.contains("operation=searchRetrieve&query=bath.isbn%3D0441172717")), "{requested:?}");
    assert!(fx.user_agents().iter().all(|ua| ua == USER_AGENT) && USER_AGENT.starts_with("Shelfkeeper/"));
}

#[tokio::test]
async fn priority_order_decides_the_merge() {
    let fx = Fixture::start(providers("openlibrary_found.json", "google_found.json", "loc_found.xml")).await;
    let mut config = fx.config();
    config.library_of_congress.order = Some(0);
    let report = Client::new(config).unwrap().lookup(&dune()).await;
    assert_eq!(report.outcomes[0].0, Provider::LibraryOfCongress);
    let merged = report.merged().unwrap();
    let contributors = merged.contributors.unwrap();
    assert_eq!(contributors.source.provider, Provider::LibraryOfCongress);
    assert_eq!(contributors.value[0].name, "Herbert, Frank", "a list comes whole from one provider");
    assert_eq!(merged.pages.unwrap().value, 884);
}

#[tokio::test]
async fn every_provider_answers_not_found_in_its_own_way() {
    let fx = Fixture::start(providers("openlibrary_not_found.json", "google_not_found.json", "loc_not_found.xml")).await;
    let report = Client::new(fx.config()).unwrap().lookup(&dune()).await;
    assert_eq!(report.overall(), Overall::NotFound);
    for (p, o) in &report.outcomes {
        assert_eq!(o, &ProviderOutcome::NotFound { note: None }, "{p}");
    }
    assert_eq!(report.merged(), None);
    // Not found is never retried.
    assert_eq!((fx.hits(OL), fx.hits(GOOGLE), fx.hits(LOC)), (1, 1, 1));
}

#[tokio::test]
async fn google_answering_with_another_book_is_not_found_never_a_title_match() {
    let fx = Fixture::start(providers("openlibrary_not_found.json", "google_other_book.json", "loc_other_isbn.xml")).await;
    let report = Client::new(fx.config()).unwrap().lookup(&dune()).await;
    assert_eq!(report.overall(), Overall::NotFound);
    match &report.outcomes[1] {
        (Provider::GoogleBooks, ProviderOutcome::NotFound { note: Some(note) }) => {
            assert!(note.contains("Dune"), "the note names what came back: {note}")
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(&report.outcomes[2], (Provider::LibraryOfCongress, ProviderOutcome::NotFound { note: Some(_) })));
}

#[tokio::test]
async fn a_404_is_not_found_and_another_4xx_is_a_provider_error_not_retried() {
    use axum::Router;
    use axum::http::StatusCode;
    use axum::routing::get;
    let router = Router::new()
        .route(OL, get(|| async { StatusCode::NOT_FOUND }))
        .route(GOOGLE, get(|| async { (StatusCode::FORBIDDEN, "daily limit exceeded") }))
        .route(LOC, get(|| async { xml("loc_diagnostic.xml") }));
    let fx = Fixture::start(router).await;
    let report = Client::new(fx.config()).unwrap().lookup(&dune()).await;
    assert_eq!(report.outcomes[0].1, ProviderOutcome::NotFound { note: None });
    match &report.outcomes[1].1 {
        ProviderOutcome::ProviderError(m) => assert!(m.contains("HTTP 403"), "{m}"),
        other => panic!("{other:?}"),
    }
    match &report.outcomes[2].1 {
        ProviderOutcome::ProviderError(m) => assert!(m.contains("Query syntax error"), "{m}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(report.overall(), Overall::ProviderError);
    assert_eq!((fx.hits(OL), fx.hits(GOOGLE), fx.hits(LOC)), (1, 1, 1));
}

#[tokio::test]
async fn disabled_providers_are_not_asked() {
    let fx = Fixture::start(providers("openlibrary_found.json", "google_found.json", "loc_found.xml")).await;
    let mut config = fx.config();
    config.open_library.enabled = false;
    config.library_of_congress.enabled = false;
    let client = Client::new(config).unwrap();
    let report = client.lookup(&dune()).await;
    assert_eq!(report.outcomes.len(), 1);
    assert_eq!(report.outcomes[0].0, Provider::GoogleBooks);
    assert_eq!((fx.hits(OL), fx.hits(GOOGLE), fx.hits(LOC)), (0, 1, 0));
    // One provider can still be asked on purpose.
    let outcome = client.lookup_provider(Provider::LibraryOfCongress, &dune()).await;
    assert_eq!(outcome.code(), "found");
}

#[test]
fn a_client_needs_a_provider_and_http_base_urls() {
    let mut config = Config::default();
    for p in Provider::ALL {
        config.provider_mut(p).enabled = false;
    }
    assert_eq!(Client::new(config).err().map(|e| e.code()), Some("metadata_no_provider"));
    let mut config = Config::default();
    config.google_books.base_url = Some("ftp://example.invalid".into());
    assert!(matches!(Client::new(config), Err(ClientError::BadBaseUrl { provider: "google_books", .. })));
    // The defaults build (TLS with ring and the platform's roots).
    Client::new(Config::default()).unwrap();
}
