//! Cover images travel with sync: the desk that set a cover uploads the
//! blob, the others (a new desk loading the snapshot too) fetch it by id;
//! the server takes only images, never changes one, and only from staff.

use crate::both;
use crate::support::Backend;
use crate::sync::{draft, library, sync};
use shelfkeeper_domain::access::Actor;
use shelfkeeper_sync_client::ClientError;
use uuid::Uuid;

const OWNER: &Actor = &Actor::OWNER;

fn png(fill: u8) -> Vec<u8> {
    let mut b = b"\x89PNG\r\n\x1a\n".to_vec();
    b.extend(std::iter::repeat_n(fill, 600));
    b
}

async fn a_cover_set_at_one_desk_shows_at_the_others(b: Backend) {
    let l = library(b).await;
    let (a, ta) = l.desk().await;
    let (bd, tb) = l.desk().await;
    let t = a.store.add_title(OWNER, &draft("With a cover")).await.unwrap();
    let t = a.store.set_cover(OWNER, t.id, &png(7), "manual").await.unwrap();
    let cover_ref = t.cover_ref.clone().expect("a cover");
    sync(&a, &ta).await;
    let id = shelfkeeper_domain::cover::parse_cover_ref(&cover_ref).unwrap();
    assert_eq!(ta.download_cover(id).await.unwrap(), Some(png(7)), "the server has the blob");
    sync(&bd, &tb).await;
    let seen = bd.store.cover(&cover_ref).await.unwrap().expect("fetched at B");
    assert_eq!((seen.mime.as_str(), seen.bytes), ("image/png", png(7)));
    // A new desk loads the snapshot, then fetches the blob.
    let (c, tc) = l.desk().await;
    sync(&c, &tc).await;
    assert_eq!(c.store.cover(&cover_ref).await.unwrap().map(|i| i.bytes), Some(png(7)));
    // A new cover replaces it everywhere; the old blob goes where no title names it.
    let t2 = bd.store.set_cover(OWNER, t.id, &png(9), "manual").await.unwrap();
    sync(&bd, &tb).await;
    sync(&a, &ta).await;
    let new_ref = t2.cover_ref.unwrap();
    assert_eq!(a.store.cover(&new_ref).await.unwrap().map(|i| i.bytes), Some(png(9)));
    assert!(a.store.cover(&cover_ref).await.unwrap().is_none(), "the old blob went with its last title");
    l.s.shutdown().await;
}
both!(a_cover_set_at_one_desk_shows_at_the_others);

async fn the_server_takes_images_only_once_and_only_from_staff(b: Backend) {
    let l = library(b).await;
    let (_d, t) = l.desk().await;
    let id = Uuid::now_v7();
    assert_eq!(t.upload_cover(id, png(1)).await.unwrap(), None);
    assert_eq!(t.upload_cover(id, png(1)).await.unwrap(), None, "the same image again is fine");
    let refused = t.upload_cover(id, png(2)).await.unwrap().expect("another image under a known id is refused");
    assert!(refused.contains("never changes"), "{refused}");
    let refused = t.upload_cover(Uuid::now_v7(), b"<svg onload=alert(1)></svg> padding padding padding".to_vec()).await.unwrap();
    assert!(refused.is_some_and(|r| r.contains("not a JPEG")), "only images");
    assert_eq!(t.download_cover(Uuid::now_v7()).await.unwrap(), None, "an unknown id is not there yet");
    let member = l.transport(&l.member);
    assert!(matches!(member.upload_cover(Uuid::now_v7(), png(3)).await, Err(ClientError::Refused { status: 403, .. })));
    assert!(matches!(member.download_cover(id).await, Err(ClientError::Refused { status: 403, .. })));
    l.s.shutdown().await;
}
both!(the_server_takes_images_only_once_and_only_from_staff);
