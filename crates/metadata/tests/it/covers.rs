//! Cover downloads: real images, liars, giants, placeholders.

use crate::fixture::*;
use axum::Router;
use axum::body::Body;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use shelfkeeper_domain::cover::MAX_COVER_BYTES;
use shelfkeeper_metadata::{Client, CoverError};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

const PLACEHOLDER_GIF: &[u8] = b"GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;";

fn big_jpeg() -> Vec<u8> {
    let mut v = vec![0xFF, 0xD8, 0xFF, 0xE0];
    v.resize(MAX_COVER_BYTES + 1024 * 1024, 0);
    v
}

async fn covers() -> (Fixture, Client, Arc<AtomicUsize>) {
    let flaky_calls = Arc::new(AtomicUsize::new(0));
    let calls = flaky_calls.clone();
    let router = Router::new()
        .route("/cover.png", get(|| async { body("image/png", fixture_bytes("cover.png")) }))
        .route("/octet.png", get(|| async { body("image/png; charset=binary", fixture_bytes("cover.png")) }))
        .route(
            "/html-as-jpeg.jpg",
            get(|| async { body("image/jpeg", b"<html><body>Sorry, no cover here. Try again later, please.</body></html>".repeat(30)) }),
        )
        .route("/page.html", get(|| async { body("text/html", fixture_bytes("cover.png")) }))
        .route("/big-declared.jpg", get(|| async { body("image/jpeg", big_jpeg()) }))
        .route(
            "/big-streamed.jpg",
            get(|| async {
                let chunks = big_jpeg().chunks(64 * 1024).map(|c| Ok::<_, std::io::Error>(c.to_vec())).collect::<Vec<_>>();
                Response::builder()
                    .header("content-type", "image/jpeg")
                    .body(Body::from_stream(futures_util::stream::iter(chunks)))
                    .unwrap()
            }),
        )
        .route("/placeholder.gif", get(|| async { body("image/gif", PLACEHOLDER_GIF.to_vec()) }))
        .route("/missing.jpg", get(|| async { StatusCode::NOT_FOUND }))
        .route(
            "/flaky.png",
            get(move || {
                let calls = calls.clone();
                async move {
                    if calls.fetch_add(1, Ordering::SeqCst) == 0 {
                        StatusCode::BAD_GATEWAY.into_response()
                    } else {
                        body("image/png", fixture_bytes("cover.png"))
                    }
                }
            }),
        )
        .route("/broken.png", get(|| async { StatusCode::INTERNAL_SERVER_ERROR }));
    let fx = Fixture::start(router).await;
    let mut config = fx.config();
    config.backoff_ms = 10;
    let client = Client::new(config).unwrap();
    (fx, client, flaky_calls)
}

#[tokio::test]
async fn a_real_png_is_downloaded_byte_for_byte() {
    let (fx, client, _) = covers().await;
    let bytes = client.download_cover(&fx.url("/cover.png")).await.unwrap();
    assert_eq!(bytes, fixture_bytes("cover.png"));
    assert_eq!(shelfkeeper_domain::cover::sniff(&bytes).unwrap().mime(), "image/png");
    assert!(client.download_cover(&fx.url("/octet.png")).await.is_ok(), "parameters after the type are fine");
}

#[tokio::test]
async fn the_bytes_decide_not_the_header() {
    let (fx, client, _) = covers().await;
    let e = client.download_cover(&fx.url("/html-as-jpeg.jpg")).await.unwrap_err();
    assert!(matches!(e, CoverError::NotAnImage(_)), "{e:?}");
    assert_eq!(e.code(), "cover_not_an_image");
    // And a non-image type is refused before reading, even with image bytes.
    let e = client.download_cover(&fx.url("/page.html")).await.unwrap_err();
    assert!(matches!(&e, CoverError::NotAnImage(m) if m.contains("text/html")), "{e:?}");
}

#[tokio::test]
async fn oversize_images_are_refused_declared_or_streamed() {
    let (fx, client, _) = covers().await;
    for path in ["/big-declared.jpg", "/big-streamed.jpg"] {
        let e = client.download_cover(&fx.url(path)).await.unwrap_err();
        assert_eq!(e, CoverError::TooLarge { limit_kib: 2048 }, "{path}");
        assert_eq!(e.code(), "cover_too_large");
        assert_eq!(fx.hits(path), 1, "not retried");
    }
}

#[tokio::test]
async fn placeholders_and_404s_are_no_cover() {
    let (fx, client, _) = covers().await;
    assert_eq!(client.download_cover(&fx.url("/placeholder.gif")).await, Err(CoverError::NotFound));
    assert_eq!(client.download_cover(&fx.url("/missing.jpg")).await, Err(CoverError::NotFound));
    assert_eq!(fx.hits("/missing.jpg"), 1);
    assert_eq!(CoverError::NotFound.code(), "cover_not_found");
}

#[tokio::test]
async fn covers_are_retried_like_look_ups() {
    let (fx, client, flaky_calls) = covers().await;
    assert!(client.download_cover(&fx.url("/flaky.png")).await.is_ok());
    assert_eq!(flaky_calls.load(Ordering::SeqCst), 2);
    let e = client.download_cover(&fx.url("/broken.png")).await.unwrap_err();
    assert!(matches!(&e, CoverError::ProviderError(m) if m.contains("HTTP 500")), "{e:?}");
    assert_eq!(fx.hits("/broken.png"), 3);
}

#[tokio::test]
async fn only_http_urls_and_offline_is_offline() {
    let (_fx, client, _) = covers().await;
    for url in ["file:///etc/passwd", "ftp://example.invalid/c.jpg", "data:image/png;base64,AAAA", "cover.png"] {
        let e = client.download_cover(url).await.unwrap_err();
        assert_eq!(e.code(), "cover_invalid_url", "{url}");
    }
    let port = closed_port().await;
    let e = client.download_cover(&format!("http://127.0.0.1:{port}/c.jpg")).await.unwrap_err();
    assert!(matches!(e, CoverError::Offline(_)), "{e:?}");
}
