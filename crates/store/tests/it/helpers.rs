use shelfkeeper_domain::access::Actor;
use shelfkeeper_domain::model::{Contributor, CopyDraft, Member, MemberDraft, StoreMode, Title, TitleDraft};
use shelfkeeper_store::Store;
use tempfile::TempDir;

pub const OWNER: &Actor = &Actor::OWNER;

/// A fresh store file in its own temporary directory (kept alive with it).
pub struct TestStore {
    pub store: Store,
    pub dir: TempDir,
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
    TestStore { store, dir }
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
        store.add_copy(OWNER, t.id, &CopyDraft { barcode: (*b).into(), location: Some("Main".into()), ..Default::default() }).await.unwrap();
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
