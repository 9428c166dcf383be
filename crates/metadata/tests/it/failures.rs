//! Slow, failing, rate-limiting, malformed and oversized answers; nothing
//! listening.

use crate::fixture::*;
use crate::lookup::dune;
use axum::Router;
use axum::body::Body;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use shelfkeeper_metadata::{Client, Config, Overall, Provider, ProviderOutcome};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// Only Open Library, so one route decides the outcome.
fn open_library_only(mut c: Config) -> Config {
    c.google_books.enabled = false;
    c.library_of_congress.enabled = false;
    c
}

fn provider_error(o: &ProviderOutcome) -> &str {
    match o {
        ProviderOutcome::ProviderError(m) => m,
        other => panic!("not a provider error: {other:?}"),
    }
}

fn offline(o: &ProviderOutcome) -> &str {
    match o {
        ProviderOutcome::Offline(m) => m,
        other => panic!("not offline: {other:?}"),
    }
}

#[tokio::test]
async fn a_slow_provider_times_out_as_offline_within_the_deadline() {
    let router = providers("openlibrary_found.json", "google_found.json", "loc_found.xml").route(
        "/slow/books/v1/volumes",
        get(|| async {
            tokio::time::sleep(Duration::from_secs(30)).await;
            json("google_found.json")
        }),
    );
    let fx = Fixture::start(router).await;
    let mut config = fx.config();
    config.google_books.base_url = Some(fx.url("/slow"));
    config.google_books.timeout_ms = 300;
    config.google_books.retries = 1;
    let started = Instant::now();
    let report = Client::new(config).unwrap().lookup(&dune()).await;
    let elapsed = started.elapsed();
    let m = offline(&report.outcomes[1].1);
    assert!(m.contains("300 ms") || m.contains("timed out"), "{m}");
    assert!(m.contains("2 attempts"), "{m}");
    assert_eq!(fx.hits("/slow/books/v1/volumes"), 2);
    assert!(elapsed < Duration::from_secs(3), "{elapsed:?}");
    // The others still answered.
    assert_eq!(report.overall(), Overall::Found);
}

#[tokio::test]
async fn the_deadline_cuts_a_look_up_whatever_the_timeouts() {
    let router = Router::new().route(
        OL,
        get(|| async {
            tokio::time::sleep(Duration::from_secs(30)).await;
            json("openlibrary_found.json")
        }),
    );
    let fx = Fixture::start(router).await;
    let mut config = open_library_only(fx.config());
    config.open_library.timeout_ms = 5_000;
    config.deadline_ms = 700;
    let started = Instant::now();
    let report = Client::new(config).unwrap().lookup(&dune()).await;
    let elapsed = started.elapsed();
    assert!(elapsed >= Duration::from_millis(650) && elapsed < Duration::from_millis(2_000), "{elapsed:?}");
    offline(&report.outcomes[0].1);
    assert_eq!(report.overall(), Overall::Offline);
}

/// Answers `failures` times with `status` (and headers), then the fixture.
fn flaky(status: StatusCode, failures: usize, headers: Vec<(&'static str, &'static str)>) -> (Router, Arc<AtomicUsize>) {
    let calls = Arc::new(AtomicUsize::new(0));
    let c = calls.clone();
    let router = Router::new().route(
        OL,
        get(move || {
            let c = c.clone();
            let headers = headers.clone();
            async move {
                if c.fetch_add(1, Ordering::SeqCst) < failures {
                    let mut r = (status, "try again").into_response();
                    for (k, v) in headers {
                        r.headers_mut().insert(k, v.parse().unwrap());
                    }
                    r
                } else {
                    json("openlibrary_found.json")
                }
            }
        }),
    );
    (router, calls)
}

#[tokio::test]
async fn a_500_then_200_succeeds_on_retry() {
    let (router, calls) = flaky(StatusCode::INTERNAL_SERVER_ERROR, 1, vec![]);
    let fx = Fixture::start(router).await;
    let report = Client::new(open_library_only(fx.config())).unwrap().lookup(&dune()).await;
    assert_eq!(report.overall(), Overall::Found);
    assert_eq!(calls.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn always_500_is_a_provider_error_after_the_bounded_retries() {
    let (router, calls) = flaky(StatusCode::SERVICE_UNAVAILABLE, usize::MAX, vec![]);
    let fx = Fixture::start(router).await;
    let report = Client::new(open_library_only(fx.config())).unwrap().lookup(&dune()).await;
    let m = provider_error(&report.outcomes[0].1);
    assert!(m.contains("HTTP 503") && m.contains("3 attempts"), "{m}");
    assert_eq!(calls.load(Ordering::SeqCst), 3, "1 attempt + the default 2 retries");
    assert_eq!(fx.hits(OL), 3);
    assert_eq!(report.overall(), Overall::ProviderError);

    let mut config = open_library_only(fx.config());
    config.open_library.retries = 0;
    let report = Client::new(config).unwrap().lookup(&dune()).await;
    provider_error(&report.outcomes[0].1);
    assert_eq!(calls.load(Ordering::SeqCst), 4);
}

#[tokio::test]
async fn a_429_waits_for_retry_after() {
    let (router, calls) = flaky(StatusCode::TOO_MANY_REQUESTS, 1, vec![("retry-after", "1")]);
    let fx = Fixture::start(router).await;
    let started = Instant::now();
    let report = Client::new(open_library_only(fx.config())).unwrap().lookup(&dune()).await;
    assert_eq!(report.overall(), Overall::Found);
    assert_eq!(calls.load(Ordering::SeqCst), 2);
    assert!(started.elapsed() >= Duration::from_millis(950), "{:?}", started.elapsed());
}

#[tokio::test]
async fn a_retry_after_beyond_the_cap_is_not_waited_for() {
    let (router, calls) = flaky(StatusCode::TOO_MANY_REQUESTS, usize::MAX, vec![("retry-after", "3600")]);
    let fx = Fixture::start(router).await;
    let started = Instant::now();
    let report = Client::new(open_library_only(fx.config())).unwrap().lookup(&dune()).await;
    let m = provider_error(&report.outcomes[0].1);
    assert!(m.contains("rate limited") && m.contains("3600 s"), "{m}");
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[tokio::test]
async fn malformed_json_and_xml_are_provider_errors_never_retried() {
    let fx = Fixture::start(providers("malformed.json", "malformed.json", "malformed.xml")).await;
    let report = Client::new(fx.config()).unwrap().lookup(&dune()).await;
    for (p, o) in &report.outcomes {
        let m = provider_error(o);
        assert!(m.contains("malformed"), "{p}: {m}");
    }
    assert_eq!(report.overall(), Overall::ProviderError);
    assert_eq!((fx.hits(OL), fx.hits(GOOGLE), fx.hits(LOC)), (1, 1, 1));
}

#[tokio::test]
async fn a_huge_streamed_body_is_cut_at_the_cap() {
    const TOTAL: usize = 50 * 1024 * 1024;
    const CHUNK: usize = 64 * 1024;
    let produced = Arc::new(AtomicUsize::new(0));
    let p = produced.clone();
    let router = Router::new().route(
        OL,
        get(move || {
            let p = p.clone();
            async move {
                // No Content-Length: the client only learns the size by reading.
                let stream = futures_util::stream::unfold(0usize, move |sent| {
                    let p = p.clone();
                    async move {
                        if sent >= TOTAL {
                            return None;
                        }
                        p.fetch_add(CHUNK, Ordering::SeqCst);
                        Some((Ok::<_, std::io::Error>(vec![b' '; CHUNK]), sent + CHUNK))
                    }
                });
                Response::builder().header("content-type", "application/json").body(Body::from_stream(stream)).unwrap()
            }
        }),
    );
    let fx = Fixture::start(router).await;
    let report = Client::new(open_library_only(fx.config())).unwrap().lookup(&dune()).await;
    let m = provider_error(&report.outcomes[0].1);
    assert!(m.contains("larger than 2048 KiB"), "{m}");
    assert_eq!(fx.hits(OL), 1, "too large is not retried");
    tokio::time::sleep(Duration::from_millis(200)).await;
    let sent = produced.load(Ordering::SeqCst);
    assert!(sent < 20 * 1024 * 1024, "the client stopped reading early, yet {} MiB were produced", sent >> 20);
}

#[tokio::test]
async fn a_declared_length_over_the_cap_is_refused_before_reading() {
    let router = Router::new().route(LOC, get(|| async { body("text/xml", vec![b' '; 3 * 1024 * 1024]) }));
    let fx = Fixture::start(router).await;
    let mut config = fx.config();
    config.open_library.enabled = false;
    config.google_books.enabled = false;
    let report = Client::new(config).unwrap().lookup(&dune()).await;
    assert!(provider_error(&report.outcomes[0].1).contains("larger than"));
}

#[tokio::test]
async fn nothing_listening_is_offline() {
    let port = closed_port().await;
    let mut config = Config::default().with_root(&format!("http://127.0.0.1:{port}"));
    config.backoff_ms = 10;
    let started = Instant::now();
    let report = Client::new(config).unwrap().lookup(&dune()).await;
    assert_eq!(report.overall(), Overall::Offline);
    for (p, o) in &report.outcomes {
        let m = offline(o);
        assert!(m.contains("could not connect") && m.contains("3 attempts"), "{p}: {m}");
    }
    assert!(started.elapsed() < Duration::from_secs(3));
    assert_eq!(report.outcomes.iter().map(|(p, _)| *p).collect::<Vec<_>>(), Provider::ALL.to_vec());
}

#[tokio::test]
async fn some_offline_and_some_not_found_is_a_provider_error_overall() {
    let fx = Fixture::start(providers("openlibrary_not_found.json", "google_not_found.json", "loc_not_found.xml")).await;
    let mut config = fx.config();
    let port = closed_port().await;
    config.library_of_congress.base_url = Some(format!("http://127.0.0.1:{port}/loc"));
    config.library_of_congress.retries = 0;
    let report = Client::new(config).unwrap().lookup(&dune()).await;
    assert_eq!(report.overall(), Overall::ProviderError);
    offline(&report.outcomes[2].1);
}

#[tokio::test]
async fn redirects_are_followed_but_limited() {
    use axum::response::Redirect;
    let router = Router::new()
        .route(OL, get(|| async { Redirect::temporary("/moved/api/books?bibkeys=ISBN:9780441172719") }))
        .route("/moved/api/books", get(|| async { json("openlibrary_found.json") }))
        .route("/loop/api/books", get(|| async { Redirect::temporary("/loop/api/books") }));
    let fx = Fixture::start(router).await;
    let report = Client::new(open_library_only(fx.config())).unwrap().lookup(&dune()).await;
    assert_eq!(report.overall(), Overall::Found);

    let mut config = open_library_only(fx.config());
    config.open_library.base_url = Some(fx.url("/loop"));
    let report = Client::new(config).unwrap().lookup(&dune()).await;
    let m = provider_error(&report.outcomes[0].1);
    assert!(m.contains("redirect"), "{m}");
    assert_eq!(fx.hits("/loop/api/books"), 6, "the first request and 5 redirects, not retried");
}
