use crate::helpers::*;
use shelfkeeper_domain::Error;
use shelfkeeper_domain::model::{CopyDraft, CopyStatus, StoreMode, TitleDraft};
use shelfkeeper_store::Store;

#[tokio::test]
async fn a_title_round_trips_through_the_file() {
    let t = library().await;
    let d = TitleDraft {
        title: "Dune".into(),
        subtitle: Some("Deluxe Edition".into()),
        isbn: Some("0-441-17271-7".into()),
        subjects: vec!["Science fiction".into()],
        tags: vec!["desert".into()],
        language: Some("en".into()),
        published: Some("1965".into()),
        pages: Some(412),
        ..draft("Dune", "Frank Herbert")
    };
    let title = t.add_title(OWNER, &d).await.unwrap();
    assert_eq!(title.isbn13.as_deref(), Some("9780441172719"));
    assert_eq!(title.isbn10.as_deref(), Some("0441172717"));
    let copy = t
        .add_copy(OWNER, title.id, &CopyDraft { barcode: "b0001".into(), shelf: Some("SF HER".into()), ..Default::default() })
        .await
        .unwrap();
    assert_eq!(copy.barcode, "B0001");
    assert_eq!(copy.status, CopyStatus::Available);

    let path = t.path().to_path_buf();
    t.store.clone().close().await;
    let reopened = Store::open(&path).await.unwrap();
    let again = reopened.title(title.id).await.unwrap();
    assert_eq!(again.title, "Dune");
    assert_eq!(again.subjects, vec!["Science fiction"]);
    assert_eq!((again.copy_count, again.available_count), (1, 1));
    assert_eq!(reopened.mode(), StoreMode::Library);
    assert_eq!(reopened.site_id(), t.site_id());
}

#[tokio::test]
async fn duplicate_isbn_and_barcode_are_refused() {
    let t = library().await;
    let d = TitleDraft { isbn: Some("9780441172719".into()), ..draft("Dune", "Frank Herbert") };
    let dune = t.add_title(OWNER, &d).await.unwrap();
    let err = t.add_title(OWNER, &TitleDraft { isbn: Some("0441172717".into()), ..draft("Dune (again)", "F. H.") }).await.unwrap_err();
    assert!(matches!(err, Error::DuplicateIsbn { .. }), "{err}");
    t.add_copy(OWNER, dune.id, &CopyDraft { barcode: "B1".into(), ..Default::default() }).await.unwrap();
    let err = t.add_copy(OWNER, dune.id, &CopyDraft { barcode: " b1 ".into(), ..Default::default() }).await.unwrap_err();
    assert_eq!(err, Error::DuplicateBarcode("B1".into()));
}

#[tokio::test]
async fn titles_with_copies_cannot_be_deleted_and_edits_reindex() {
    let t = library().await;
    let title = title_with_copies(&t, "Dune", &["B1"]).await;
    assert!(matches!(t.delete_title(OWNER, title.id).await, Err(Error::TitleHasCopies { copies: 1, .. })));
    let edited = t.update_title(OWNER, title.id, &draft("Children of Dune", "Frank Herbert")).await.unwrap();
    assert_eq!(edited.title, "Children of Dune");
    let found = t.search(&shelfkeeper_domain::search::SearchRequest { text: "children".into(), ..Default::default() }).await.unwrap();
    assert_eq!(found.hits.len(), 1);
    t.delete_copy(OWNER, "B1").await.unwrap();
    t.delete_title(OWNER, title.id).await.unwrap();
    let found = t.search(&shelfkeeper_domain::search::SearchRequest { text: "children".into(), ..Default::default() }).await.unwrap();
    assert!(found.hits.is_empty());
    assert!(matches!(t.title(title.id).await, Err(Error::TitleNotFound(_))));
}

#[tokio::test]
async fn members_are_found_by_name_card_or_email() {
    let t = library().await;
    member(&t, "M1", "Ada Lovelace").await;
    member(&t, "M2", "Grace Hopper").await;
    t.add_member(
        OWNER,
        &shelfkeeper_domain::model::MemberDraft {
            card: "M3".into(),
            name: "Alan Turing".into(),
            email: Some("alan@bletchley.example".into()),
            member_type: "adult".into(),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let names = |v: Vec<shelfkeeper_domain::model::Member>| v.into_iter().map(|m| m.name).collect::<Vec<_>>();
    assert_eq!(names(t.find_members("hop", 10).await.unwrap()), vec!["Grace Hopper"]);
    assert_eq!(names(t.find_members("bletchley", 10).await.unwrap()), vec!["Alan Turing"]);
    assert_eq!(names(t.find_members("m1", 10).await.unwrap()), vec!["Ada Lovelace"]);
    // Sorted by surname; LIKE wildcards in the input are literal.
    assert_eq!(names(t.find_members("", 10).await.unwrap()), vec!["Grace Hopper", "Ada Lovelace", "Alan Turing"]);
    assert!(t.find_members("%", 10).await.unwrap().is_empty());
}
