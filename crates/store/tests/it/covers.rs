//! Covers: checked, stored once, named by the title, released when unused.

use crate::helpers::*;
use shelfkeeper_domain::ErrorCode;
use shelfkeeper_domain::access::Actor;
use shelfkeeper_domain::ids::AccountId;
use shelfkeeper_domain::model::Role;

/// The smallest PNG there is (1x1), padded to look like a real file.
pub fn png() -> Vec<u8> {
    let mut v = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89".to_vec();
    v.extend_from_slice(b"\0\0\0\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\0\0\0\0IEND\xaeB`\x82");
    v
}

async fn blobs(s: &TestStore) -> i64 {
    use sqlx::Connection;
    let mut c = sqlx::SqliteConnection::connect(&format!("sqlite://{}", s.path().display())).await.unwrap();
    sqlx::query_scalar("SELECT count(*) FROM covers").fetch_one(&mut c).await.unwrap()
}

#[tokio::test]
async fn a_cover_is_stored_named_by_its_title_and_logged_as_a_title_edit() {
    let s = library().await;
    let t = title_with_copies(&s, "Dune", &["B1"]).await;
    let with = s.set_cover(OWNER, t.id, &png(), "file").await.unwrap();
    let r = with.cover_ref.clone().expect("the title names its cover");
    assert!(r.starts_with("cover:"));
    let img = s.cover(&r).await.unwrap().unwrap();
    assert_eq!(img.mime, "image/png");
    assert_eq!(img.bytes, png());
    // The search hit carries it too, for the list's thumbnails.
    let page = s.search(&shelfkeeper_domain::search::SearchRequest { text: "dune".into(), ..Default::default() }).await.unwrap();
    assert_eq!(page.hits[0].cover_ref.as_deref(), Some(r.as_str()));
    assert_store_invariants(&s).await;

    // A new cover replaces the old one, whose blob goes.
    let again = s.set_cover(OWNER, t.id, &png(), "file").await.unwrap();
    assert_ne!(again.cover_ref, with.cover_ref);
    assert!(s.cover(&r).await.unwrap().is_none());
    assert_eq!(blobs(&s).await, 1);

    // Cleared: no cover, no blob.
    let cleared = s.clear_cover(OWNER, t.id).await.unwrap();
    assert_eq!(cleared.cover_ref, None);
    assert_eq!(blobs(&s).await, 0);
    assert_store_invariants(&s).await;
}

#[tokio::test]
async fn deleting_a_title_deletes_its_cover() {
    let s = library().await;
    let t = s.add_title(OWNER, &draft("Untitled", "Nobody")).await.unwrap();
    s.set_cover(OWNER, t.id, &png(), "file").await.unwrap();
    s.delete_title(OWNER, t.id).await.unwrap();
    assert_eq!(blobs(&s).await, 0);
}

#[tokio::test]
async fn a_file_that_is_not_an_image_or_too_big_is_refused_and_changes_nothing() {
    let s = library().await;
    let t = title_with_copies(&s, "Dune", &["B1"]).await;
    let before = snapshot(&s).await;
    let html = b"<!doctype html><html><body>404 Not Found</body></html>".to_vec();
    let e = s.set_cover(OWNER, t.id, &html, "file").await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::InvalidCover);
    let mut big = png();
    big.resize(shelfkeeper_domain::cover::MAX_COVER_BYTES + 1, 0);
    assert_eq!(s.set_cover(OWNER, t.id, &big, "file").await.unwrap_err().code(), ErrorCode::InvalidCover);
    // Only staff may change covers.
    let member = Actor::account(AccountId::new(), Role::Member, None);
    assert_eq!(s.set_cover(&member, t.id, &png(), "file").await.unwrap_err().code(), ErrorCode::PermissionDenied);
    assert_eq!(snapshot(&s).await, before);
    // Refs that are not stored covers name nothing.
    assert!(s.cover("https://example.invalid/cover.jpg").await.unwrap().is_none());
}
