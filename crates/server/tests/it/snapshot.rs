//! A desk's first sync from the library's snapshot (the feed compacted):
//! the same library as pulling the whole feed, in one stream; a cut or
//! cancelled load leaves the store as it was; staff only.

use crate::both;
use crate::support::Backend;
use crate::sync::{Lib, assert_same, draft, library, sync};
use reqwest::Method;
use shelfkeeper_domain::access::Actor;
use shelfkeeper_domain::model::{CopyDraft, MemberDraft, TitleDraft};
use shelfkeeper_store::{SnapshotPart, SnapshotStream, SyncError, SyncTransport};
use shelfkeeper_sync::{PullRequest, PullResponse, PushRequest, PushResponse};
use shelfkeeper_sync_client::HttpTransport;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

const OWNER: &Actor = &Actor::OWNER;

/// The HTTP transport, counting what the snapshot and the pulls brought,
/// and cutting the snapshot after its first part when asked.
struct Watched<'a> {
    inner: &'a HttpTransport,
    cut: bool,
    from_snapshot: Arc<AtomicU64>,
    pulled: AtomicU64,
}

impl<'a> Watched<'a> {
    fn new(inner: &'a HttpTransport, cut: bool) -> Self {
        Watched { inner, cut, from_snapshot: Arc::default(), pulled: AtomicU64::new(0) }
    }
}

impl SyncTransport for Watched<'_> {
    async fn push(&self, req: PushRequest) -> Result<PushResponse, String> {
        self.inner.push(req).await
    }

    async fn pull(&self, req: PullRequest) -> Result<PullResponse, String> {
        let page = self.inner.pull(req).await?;
        self.pulled.fetch_add(page.changes.len() as u64, Ordering::Relaxed);
        Ok(page)
    }

    async fn snapshot(&self) -> Result<Option<SnapshotStream>, String> {
        let Some(mut snap) = self.inner.snapshot().await? else { return Ok(None) };
        let (send, parts) = tokio::sync::mpsc::channel(1);
        let (cut, counted) = (self.cut, self.from_snapshot.clone());
        tokio::spawn(async move {
            while let Some(part) = snap.parts.recv().await {
                if let Ok(SnapshotPart::Changes(c)) = &part {
                    counted.fetch_add(c.len() as u64, Ordering::Relaxed);
                }
                if send.send(part).await.is_err() || cut {
                    return;
                }
            }
        });
        Ok(Some(SnapshotStream { head: snap.head, parts }))
    }
}

/// Desk A's library: titles edited several times, copies, members, loans
/// returned and open, holds, a deleted copy and a deleted title, and a
/// barcode two desks both gave a copy (a claim).
async fn busy_library(l: &Lib) -> (crate::sync::Desk, HttpTransport, crate::sync::Desk, HttpTransport) {
    let (a, ta) = l.desk().await;
    let (b, tb) = l.desk().await;
    let s = &a.store;
    let mut titles = Vec::new();
    for i in 0..12 {
        let t = s.add_title(OWNER, &draft(&format!("Title {i}"))).await.unwrap();
        for e in 0..3 {
            s.update_title(OWNER, t.id, &TitleDraft { subtitle: Some(format!("edit {e}")), ..draft(&format!("Title {i}")) }).await.unwrap();
        }
        for c in 0..2 {
            s.add_copy(OWNER, t.id, &CopyDraft { barcode: format!("B{i}-{c}"), ..Default::default() }).await.unwrap();
        }
        titles.push(t.id);
    }
    for m in 0..4 {
        let draft = MemberDraft { card: format!("M{m}"), name: format!("Member {m}"), member_type: "adult".into(), ..Default::default() };
        s.add_member(OWNER, &draft).await.unwrap();
    }
    for i in 0..6 {
        s.check_out(OWNER, &format!("M{}", i % 4), &format!("B{i}-0")).await.unwrap();
    }
    for i in 0..3 {
        s.check_in(OWNER, &format!("B{i}-0")).await.unwrap();
    }
    s.place_hold(OWNER, "M1", titles[3]).await.unwrap();
    s.place_hold(OWNER, "M2", titles[4]).await.unwrap();
    s.check_in(OWNER, "B4-0").await.unwrap(); // trapped for M2's hold
    s.add_copy(OWNER, titles[7], &CopyDraft { barcode: "GONE".into(), ..Default::default() }).await.unwrap();
    s.delete_copy(OWNER, "GONE").await.unwrap();
    let t = s.add_title(OWNER, &draft("Withdrawn")).await.unwrap();
    s.delete_title(OWNER, t.id).await.unwrap();
    sync(&a, &ta).await;
    sync(&b, &tb).await;
    // Edits after a sync are new versions in the feed (a desk sends one
    // version of a row per sync): the older ones decide nothing now.
    for (i, &t) in titles.iter().enumerate() {
        let desk = if i % 2 == 0 { s } else { &b.store };
        desk.update_title(OWNER, t, &TitleDraft { subtitle: Some("second round".into()), ..draft(&format!("Title {i}")) }).await.unwrap();
    }
    // Both desks give a new copy the same barcode before syncing.
    s.add_copy(OWNER, titles[8], &CopyDraft { barcode: "TWICE".into(), ..Default::default() }).await.unwrap();
    b.store.add_copy(OWNER, titles[9], &CopyDraft { barcode: "TWICE".into(), ..Default::default() }).await.unwrap();
    sync(&a, &ta).await;
    sync(&b, &tb).await;
    sync(&a, &ta).await;
    (a, ta, b, tb)
}

async fn a_new_desk_loads_the_snapshot_and_holds_the_same_library(b: Backend) {
    let l = library(b).await;
    let (a, ta, bd, _tb) = busy_library(&l).await;
    let feed = l.feed().await.len() as u64;
    let (c, tc) = l.desk().await;
    let watched = Watched::new(&tc, false);
    let run = c.store.sync_once(&watched, 100).await.unwrap();
    let from_snapshot = watched.from_snapshot.load(Ordering::Relaxed);
    assert!(from_snapshot > 0, "the first sync loaded a snapshot: {run:?}");
    assert!(from_snapshot < feed, "the snapshot is the feed compacted: {from_snapshot} of {feed} changes");
    assert_eq!(watched.pulled.load(Ordering::Relaxed), 0, "nothing came after the snapshot");
    assert_eq!(run.cursor, l.feed().await.last().unwrap().server_seq);
    assert_same(&[&a, &bd, &c]).await;
    // It goes on as any desk: a later change arrives by the feed.
    let t = a.store.add_title(OWNER, &draft("After the snapshot")).await.unwrap();
    sync(&a, &ta).await;
    sync(&c, &tc).await;
    assert_eq!(c.store.title(t.id).await.unwrap().title, "After the snapshot");
    // Searching works on what the snapshot loaded (the index was built).
    let req = shelfkeeper_domain::search::SearchRequest { text: "Title 5".into(), ..Default::default() };
    let found = c.store.search(&req).await.unwrap();
    assert_eq!(found.hits.len(), 1, "{found:?}");
    l.s.shutdown().await;
}
both!(a_new_desk_loads_the_snapshot_and_holds_the_same_library);

async fn a_cut_or_cancelled_snapshot_leaves_the_store_as_it_was(b: Backend) {
    let l = library(b).await;
    let (a, _ta, _bd, _tb) = busy_library(&l).await;
    let (c, tc) = l.desk().await;
    let cut = Watched::new(&tc, true);
    let e = c.store.sync_once(&cut, 100).await.unwrap_err();
    assert!(matches!(&e, SyncError::Transport(m) if m.contains("cut short")), "{e}");
    assert!(c.store.is_fresh_replica().await.unwrap(), "nothing of a cut snapshot stays");
    assert_eq!(c.store.sync_cursor().await.unwrap(), 0);
    let e = c.store.sync_with_progress(&tc, 100, &|_| false).await.unwrap_err();
    assert!(matches!(e, SyncError::Store(shelfkeeper_domain::Error::Cancelled)), "{e}");
    assert!(c.store.is_fresh_replica().await.unwrap(), "nothing of a cancelled snapshot stays");
    sync(&c, &tc).await;
    assert_same(&[&a, &c]).await;
    l.s.shutdown().await;
}
both!(a_cut_or_cancelled_snapshot_leaves_the_store_as_it_was);

async fn only_staff_read_the_snapshot(b: Backend) {
    let l = library(b).await;
    let url = format!("{}/sync/snapshot", l.base);
    l.s.call(Method::GET, &url, &l.member.auth(), None).await.expect(403, "permission_denied");
    l.s.call(Method::GET, &format!("{url}?protocol=99"), &l.librarian.auth(), None).await.expect(400, "unsupported_protocol");
    let r = l.s.call(Method::GET, &url, &l.librarian.auth(), None).await;
    assert_eq!(r.status, 200, "{r:?}");
    l.s.shutdown().await;
}
both!(only_staff_read_the_snapshot);
