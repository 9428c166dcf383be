use crate::helpers::*;
use shelfkeeper_domain::Error;
use shelfkeeper_domain::model::{Contributor, CopyDraft, TitleDraft};
use shelfkeeper_domain::search::{Filters, SearchRequest, SortOrder};
use shelfkeeper_store::Store;
use std::collections::HashSet;

fn req(text: &str) -> SearchRequest {
    SearchRequest { text: text.into(), ..Default::default() }
}

async fn add(t: &Store, title: &str, author: &str, extra: TitleDraft) -> shelfkeeper_domain::model::Title {
    t.add_title(OWNER, &TitleDraft { title: title.into(), contributors: vec![Contributor::author(author)], ..extra }).await.unwrap()
}

async fn titles(t: &Store, r: &SearchRequest) -> Vec<String> {
    t.search(r).await.unwrap().hits.into_iter().map(|h| h.title).collect()
}

#[tokio::test]
async fn title_matches_come_first_and_shorter_titles_first() {
    let t = library().await;
    add(&t, "The Road to Dune", "Brian Herbert", Default::default()).await;
    add(&t, "Dune Messiah", "Frank Herbert", Default::default()).await;
    add(&t, "Arrakis Ecology", "Dune Scholar", Default::default()).await;
    add(&t, "Dune", "Frank Herbert", Default::default()).await;
    add(&t, "Sand and Spice", "Someone", TitleDraft { notes: Some("A companion to Dune.".into()), ..Default::default() }).await;
    add(&t, "Unrelated", "Nobody", Default::default()).await;
    assert_eq!(titles(&t, &req("dune")).await, vec!["Dune", "Dune Messiah", "The Road to Dune", "Arrakis Ecology", "Sand and Spice"]);
    // Prefix while typing, across fields: "herbert" + "du" matches author + title.
    assert_eq!(titles(&t, &req("herbert du")).await, vec!["Dune", "Dune Messiah", "The Road to Dune"]);
    // Diacritics and case do not matter.
    assert_eq!(titles(&t, &req("DÛNE MESS")).await, vec!["Dune Messiah"]);
    // FTS syntax in the input is just text.
    assert!(t.search(&req("dune\" OR title:*")).await.is_ok());
    assert!(titles(&t, &req("zzzz")).await.is_empty());
}

#[tokio::test]
async fn pages_follow_one_another_without_gaps_or_repeats() {
    let t = library().await;
    for i in 0..57 {
        let notes = if i % 3 == 0 { Some("common word".to_string()) } else { None };
        let subject = if i % 2 == 0 { vec!["common".to_string()] } else { vec![] };
        add(
            &t,
            &format!("Book {i} {}", if i % 5 == 0 { "common" } else { "rare" }),
            "A. Author",
            TitleDraft { notes, subjects: subject, ..Default::default() },
        )
        .await;
    }
    let all: HashSet<String> = titles(&t, &SearchRequest { limit: Some(200), ..req("common") }).await.into_iter().collect();
    for sort in [SortOrder::Relevance, SortOrder::Title, SortOrder::YearNewest, SortOrder::RecentlyAdded] {
        let mut seen = Vec::new();
        let mut cursor = None;
        loop {
            let page = t.search(&SearchRequest { limit: Some(7), cursor: cursor.clone(), sort, ..req("common") }).await.unwrap();
            seen.extend(page.hits.into_iter().map(|h| h.title));
            cursor = page.next_cursor;
            if cursor.is_none() {
                break;
            }
        }
        let unique: HashSet<String> = seen.iter().cloned().collect();
        assert_eq!(unique.len(), seen.len(), "{sort:?} repeated a title");
        assert_eq!(unique, all, "{sort:?} lost or invented titles");
    }
    let first = t.search(&SearchRequest { limit: Some(5), ..req("common") }).await.unwrap();
    assert_eq!(first.total.value as usize, all.len());
    assert!(first.total.exact);
}

#[tokio::test]
async fn filters_narrow_and_facets_count() {
    let t = library().await;
    let fr = add(
        &t,
        "Voyage au centre",
        "Jules Verne",
        TitleDraft {
            language: Some("fr".into()),
            published: Some("1864".into()),
            subjects: vec!["Adventure".into()],
            ..Default::default()
        },
    )
    .await;
    let en = add(
        &t,
        "Journey to the Centre",
        "Jules Verne",
        TitleDraft {
            language: Some("en".into()),
            published: Some("1872".into()),
            subjects: vec!["Adventure".into(), "Classics".into()],
            tags: vec!["gift".into()],
            ..Default::default()
        },
    )
    .await;
    add(
        &t,
        "Centre of Gravity",
        "Someone",
        TitleDraft { language: Some("en".into()), published: Some("1990".into()), ..Default::default() },
    )
    .await;
    t.add_copy(OWNER, fr.id, &CopyDraft { barcode: "F1".into(), location: Some("Annex".into()), ..Default::default() }).await.unwrap();
    t.add_copy(OWNER, en.id, &CopyDraft { barcode: "E1".into(), location: Some("Main".into()), ..Default::default() }).await.unwrap();
    member(&t, "M1", "Ada").await;
    t.check_out(OWNER, "M1", "E1").await.unwrap();

    let with = |f: Filters| SearchRequest { filters: f, ..req("centre") };
    assert_eq!(titles(&t, &with(Filters { language: Some("FR".into()), ..Default::default() })).await, vec!["Voyage au centre"]);
    assert_eq!(titles(&t, &with(Filters { subject: Some("classics".into()), ..Default::default() })).await, vec!["Journey to the Centre"]);
    assert_eq!(titles(&t, &with(Filters { tag: Some("gift".into()), ..Default::default() })).await, vec!["Journey to the Centre"]);
    assert_eq!(
        titles(&t, &with(Filters { year_from: Some(1860), year_to: Some(1870), ..Default::default() })).await,
        vec!["Voyage au centre"]
    );
    assert_eq!(titles(&t, &with(Filters { available: true, ..Default::default() })).await, vec!["Voyage au centre"]);
    assert_eq!(titles(&t, &with(Filters { location: Some("Main".into()), ..Default::default() })).await, vec!["Journey to the Centre"]);
    // Filters alone browse the catalogue.
    assert_eq!(
        titles(
            &t,
            &SearchRequest {
                filters: Filters { language: Some("en".into()), ..Default::default() },
                sort: SortOrder::Title,
                ..Default::default()
            }
        )
        .await,
        vec!["Centre of Gravity", "Journey to the Centre"]
    );
    let err = t.search(&with(Filters { year_from: Some(1900), year_to: Some(1800), ..Default::default() })).await.unwrap_err();
    assert!(matches!(err, Error::Invalid { field: "year_to", .. }));

    let f = t.facets(&req("centre")).await.unwrap();
    assert!(f.exact);
    assert_eq!(f.sample, 3);
    assert_eq!(f.subjects.iter().find(|v| v.value == "Adventure").map(|v| v.count), Some(2));
    assert_eq!(f.languages.iter().find(|v| v.value == "en").map(|v| v.count), Some(2));
    assert_eq!(f.decades.iter().map(|v| v.value.as_str()).collect::<Vec<_>>(), vec!["1990", "1870", "1860"]);
    assert_eq!(f.locations.len(), 2);
    assert_eq!(f.available, 1);
}

#[tokio::test]
async fn an_isbn_finds_its_edition_in_any_spelling() {
    let t = library().await;
    add(&t, "Dune", "Frank Herbert", TitleDraft { isbn: Some("9780441172719".into()), ..Default::default() }).await;
    add(&t, "Other", "X", TitleDraft { isbn: Some("0-14-303943-1".into()), ..Default::default() }).await;
    for q in ["978-0-441-17271-9", "0441172717", "9780441172719"] {
        assert_eq!(titles(&t, &req(q)).await, vec!["Dune"], "{q}");
    }
}

#[tokio::test]
async fn a_cursor_from_elsewhere_is_refused() {
    let t = library().await;
    let err = t.search(&SearchRequest { cursor: Some("garbage".into()), ..req("x") }).await.unwrap_err();
    assert!(matches!(err, Error::Invalid { field: "cursor", .. }));
}
