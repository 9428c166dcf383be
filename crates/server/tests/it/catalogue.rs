//! The catalogue of a library: titles and copies, domain validation,
//! sync stamps, isolation between libraries, and search with filters and
//! keyset pagination.

use crate::both;
use crate::support::{Backend, Server, Session};
use reqwest::Method;
use serde_json::{Value, json};
use sqlx::Row;

async fn library(s: &Server, admin: &Session, name: &str) -> String {
    s.post("/api/v1/libraries", &admin.auth(), json!({ "name": name })).await.body["id"].as_str().unwrap().to_owned()
}

async fn add_member(s: &Server, admin: &Session, lib: &str, email: &str, role: &str) {
    s.call(Method::PUT, &format!("/api/v1/libraries/{lib}/memberships"), &admin.auth(), Some(json!({ "email": email, "role": role })))
        .await
        .expect(200, "");
}

async fn titles_and_copies(b: Backend) {
    let s = Server::start(b).await;
    let admin = s.user("admin@example.org").await;
    let member = s.user("member@example.org").await;
    let lib = library(&s, &admin, "Main").await;
    add_member(&s, &admin, &lib, "member@example.org", "member").await;
    let titles = format!("/api/v1/libraries/{lib}/titles");

    s.post(&titles, &admin.auth(), json!({ "title": "Dune", "isbn": "0-441-17271-8" })).await.expect(422, "isbn_checksum");
    s.post(&titles, &admin.auth(), json!({ "title": "   " })).await.expect(422, "invalid");
    s.post(&titles, &admin.auth(), json!({ "title": "Dune", "published": "1965-13" })).await.expect(422, "invalid");
    s.post(&titles, &admin.auth(), json!({ "title": 42 })).await.expect(422, "invalid");
    let r = s
        .post(&titles, &admin.auth(), json!({ "title": "Dune", "contributors": [{ "name": "Frank Herbert" }], "isbn": "0-441-17271-7", "published": "1965", "language": "EN", "tags": ["sf", "SF"] }))
        .await;
    r.expect(201, "");
    let id = r.body["id"].as_str().unwrap().to_owned();
    assert_eq!(uuid::Uuid::parse_str(&id).unwrap().get_version_num(), 7);
    assert_eq!((r.body["isbn13"].as_str(), r.body["isbn10"].as_str()), (Some("9780441172719"), Some("0441172717")));
    assert_eq!(r.body["language"], "en");
    assert_eq!(r.body["tags"], json!(["sf"]), "duplicates dropped by the domain");
    assert_eq!(r.body["contributors"][0]["role"], "author");
    s.post(&titles, &admin.auth(), json!({ "title": "Dune again", "isbn": "9780441172719" })).await.expect(409, "duplicate_isbn");

    let copies = format!("{titles}/{id}/copies");
    let c = s
        .post(
            &copies,
            &admin.auth(),
            json!({ "barcode": "B0001", "location": "Main", "price_cents": 1299, "currency": "eur", "provenance": "gift" }),
        )
        .await;
    c.expect(201, "");
    assert_eq!(c.body["currency"], "EUR");
    assert_eq!(c.body["status"], "available");
    let copy_id = c.body["id"].as_str().unwrap().to_owned();
    s.post(&copies, &admin.auth(), json!({ "barcode": "B0001" })).await.expect(409, "duplicate_barcode");
    s.post(&copies, &admin.auth(), json!({ "barcode": "B0002", "price_cents": -1 })).await.expect(422, "invalid");
    s.post(&format!("{titles}/{}/copies", uuid::Uuid::now_v7()), &admin.auth(), json!({ "barcode": "B0003" }))
        .await
        .expect(404, "not_found");

    // A member sees the copy and its status, not what it cost.
    let seen = s.get(&format!("{titles}/{id}"), &member.auth()).await;
    seen.expect(200, "");
    assert_eq!(seen.body["copies"][0]["barcode"], "B0001");
    assert!(seen.body["copies"][0]["price_cents"].is_null() && seen.body["copies"][0]["provenance"].is_null());
    let staff = s.get(&format!("{titles}/{id}"), &admin.auth()).await;
    assert_eq!(staff.body["copies"][0]["price_cents"], 1299);
    s.post(&titles, &member.auth(), json!({ "title": "Mine" })).await.expect(403, "permission_denied");

    let r = s
        .call(
            Method::PUT,
            &format!("{titles}/{id}"),
            &admin.auth(),
            Some(json!({ "title": "Dune", "subtitle": "Deluxe", "isbn": "9780441172719" })),
        )
        .await;
    r.expect(200, "");
    assert_eq!(r.body["subtitle"], "Deluxe");
    s.call(
        Method::PUT,
        &format!("/api/v1/libraries/{lib}/copies/{copy_id}"),
        &admin.auth(),
        Some(json!({ "barcode": "B0009", "location": "Annex" })),
    )
    .await
    .expect(200, "");
    s.call(Method::DELETE, &format!("{titles}/{id}"), &admin.auth(), None).await.expect(409, "title_has_copies");
    s.call(Method::DELETE, &format!("/api/v1/libraries/{lib}/copies/{copy_id}"), &admin.auth(), None).await.expect(204, "");
    s.call(Method::DELETE, &format!("{titles}/{id}"), &admin.auth(), None).await.expect(204, "");
    s.get(&format!("{titles}/{id}"), &admin.auth()).await.expect(404, "not_found");

    // Every write is stamped and logged, in clock order, for sync.
    let rows =
        sqlx::query("SELECT entity, op, hlc, site FROM server_changes WHERE library_id = $1 AND entity IN ('title', 'copy') ORDER BY seq")
            .bind(&lib)
            .fetch_all(&s.state.db.pool)
            .await
            .unwrap();
    let ops: Vec<String> = rows.iter().map(|r| format!("{}:{}", r.get::<String, _>("entity"), r.get::<String, _>("op"))).collect();
    assert_eq!(ops, ["title:upsert", "copy:upsert", "title:upsert", "copy:upsert", "copy:delete", "title:delete"]);
    let hlcs: Vec<i64> = rows.iter().map(|r| r.get("hlc")).collect();
    assert!(hlcs.windows(2).all(|w| w[0] < w[1]), "{hlcs:?}");
    assert!(rows.iter().all(|r| r.get::<String, _>("site") == *s.state.db.site));
    s.shutdown().await;
}
both!(titles_and_copies);

async fn catalogues_are_isolated(b: Backend) {
    let s = Server::start(b).await;
    let ada = s.user("ada@example.org").await;
    let (a, b2) = (library(&s, &ada, "A").await, library(&s, &ada, "B").await);
    let t =
        s.post(&format!("/api/v1/libraries/{a}/titles"), &ada.auth(), json!({ "title": "Only in A", "isbn": "9780441172719" })).await.body
            ["id"]
            .as_str()
            .unwrap()
            .to_owned();
    let c = s.post(&format!("/api/v1/libraries/{a}/titles/{t}/copies"), &ada.auth(), json!({ "barcode": "X1" })).await.body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // Same caller, other library: the ids name nothing there.
    s.get(&format!("/api/v1/libraries/{b2}/titles/{t}"), &ada.auth()).await.expect(404, "not_found");
    s.call(Method::PUT, &format!("/api/v1/libraries/{b2}/titles/{t}"), &ada.auth(), Some(json!({ "title": "Hijack" })))
        .await
        .expect(404, "not_found");
    s.call(Method::PUT, &format!("/api/v1/libraries/{b2}/copies/{c}"), &ada.auth(), Some(json!({ "barcode": "X2" })))
        .await
        .expect(404, "not_found");
    s.call(Method::DELETE, &format!("/api/v1/libraries/{b2}/copies/{c}"), &ada.auth(), None).await.expect(404, "not_found");
    s.post(&format!("/api/v1/libraries/{b2}/titles/{t}/copies"), &ada.auth(), json!({ "barcode": "X3" })).await.expect(404, "not_found");
    assert_eq!(s.get(&format!("/api/v1/libraries/{b2}/titles"), &ada.auth()).await.body["items"], json!([]));
    // ISBNs and barcodes are unique per library, not per server.
    s.post(&format!("/api/v1/libraries/{b2}/titles"), &ada.auth(), json!({ "title": "Also in B", "isbn": "9780441172719" }))
        .await
        .expect(201, "");
    let r = s.get(&format!("/api/v1/libraries/{a}/titles/{t}"), &ada.auth()).await;
    assert_eq!((r.body["title"].as_str(), r.body["copies"][0]["barcode"].as_str()), (Some("Only in A"), Some("X1")));
    s.shutdown().await;
}
both!(catalogues_are_isolated);

async fn search_filters_and_pages(b: Backend) {
    let s = Server::start(b).await;
    let ada = s.user("ada@example.org").await;
    let lib = library(&s, &ada, "Main").await;
    let titles = format!("/api/v1/libraries/{lib}/titles");
    let books = [
        json!({ "title": "Dune", "contributors": [{ "name": "Frank Herbert" }], "isbn": "0441172717", "published": "1965", "language": "en", "tags": ["sf"], "subjects": ["Deserts"] }),
        json!({ "title": "Dune Messiah", "contributors": [{ "name": "Frank Herbert" }], "published": "1969", "language": "en", "tags": ["sf"] }),
        json!({ "title": "The Left Hand of Darkness", "contributors": [{ "name": "Ursula K. Le Guin" }], "published": "1969", "language": "en", "tags": ["sf", "classic"] }),
        json!({ "title": "Le Petit Prince", "contributors": [{ "name": "Antoine de Saint-Exupéry" }], "published": "1943", "language": "fr" }),
        json!({ "title": "100% Sure_Thing", "published": "2001" }),
        json!({ "title": "Emma", "contributors": [{ "name": "Jane Austen" }], "published": "1815", "language": "en", "notes": "first edition facsimile" }),
        json!({ "title": "Persuasion", "contributors": [{ "name": "Jane Austen" }], "published": "1817", "language": "en" }),
    ];
    let mut ids = Vec::new();
    for b in &books {
        let r = s.post(&titles, &ada.auth(), b.clone()).await;
        r.expect(201, "");
        ids.push(r.body["id"].as_str().unwrap().to_owned());
    }
    s.post(&format!("{titles}/{}/copies", ids[0]), &ada.auth(), json!({ "barcode": "D1", "location": "Annex" })).await.expect(201, "");
    s.post(&format!("{titles}/{}/copies", ids[5]), &ada.auth(), json!({ "barcode": "E1", "location": "Main" })).await.expect(201, "");

    let find = |query: &str| {
        let url = format!("{titles}?{query}");
        let auth = ada.auth();
        let s = &s;
        async move {
            let r = s.get(&url, &auth).await;
            r.expect(200, "");
            r.body["items"].as_array().unwrap().iter().map(|h| h["title"].as_str().unwrap().to_owned()).collect::<Vec<_>>()
        }
    };
    assert_eq!(find("q=dune").await, ["Dune", "Dune Messiah"]);
    assert_eq!(find("q=DUNE%20mess").await, ["Dune Messiah"]);
    assert_eq!(find("q=herb").await, ["Dune", "Dune Messiah"], "substring of an author");
    assert_eq!(find("q=austen%20facsimile").await, ["Emma"], "every word, any field");
    assert_eq!(find("q=978-0-441-17271-9").await, ["Dune"], "ISBN typed with hyphens");
    assert_eq!(find("q=0441172717").await, ["Dune"], "ISBN-10");
    assert_eq!(find("q=%25").await, ["100% Sure_Thing"], "% is literal");
    assert_eq!(find("q=e_t").await, ["100% Sure_Thing"]);
    assert_eq!(find("q=dun_").await, Vec::<String>::new(), "_ is literal, not any letter");
    assert_eq!(find("q=exup%C3%A9ry").await, ["Le Petit Prince"]);
    assert_eq!(find("q=%27%3B%20DROP%20TABLE%20titles%3B%20--").await, Vec::<String>::new());
    assert_eq!(find("language=fr").await, ["Le Petit Prince"]);
    assert_eq!(find("year_from=1960&year_to=1969").await, ["Dune", "Dune Messiah", "The Left Hand of Darkness"]);
    assert_eq!(find("tag=classic").await, ["The Left Hand of Darkness"]);
    assert_eq!(find("subject=Deserts").await, ["Dune"]);
    assert_eq!(find("available=true").await, ["Dune", "Emma"]);
    assert_eq!(find("location=Annex").await, ["Dune"]);
    assert_eq!(find("q=dune&available=true&language=en").await, ["Dune"]);

    // Walk every page of two: each title once, in title order.
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let url = match &cursor {
            Some(c) => format!("{titles}?limit=2&cursor={c}"),
            None => format!("{titles}?limit=2"),
        };
        let r = s.get(&url, &ada.auth()).await;
        r.expect(200, "");
        let items = r.body["items"].as_array().unwrap();
        assert!(items.len() <= 2);
        seen.extend(items.iter().map(|h| h["title"].as_str().unwrap().to_owned()));
        pages += 1;
        match r.body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    assert_eq!(pages, 4);
    let all = find("limit=200").await;
    assert_eq!(seen, all);
    assert_eq!(all.len(), 7);
    assert_eq!(all.first().map(String::as_str), Some("100% Sure_Thing"));
    assert_eq!(all.iter().position(|t| t == "The Left Hand of Darkness"), Some(5), "sorted without the article: {all:?}");
    // Newest first.
    let recent = find("sort=recently_added&limit=3").await;
    assert_eq!(recent, ["Persuasion", "Emma", "100% Sure_Thing"]);
    let r = s.get(&format!("{titles}?sort=recently_added&limit=3"), &ada.auth()).await;
    let c = r.body["next_cursor"].as_str().unwrap();
    assert_eq!(
        find(&format!("sort=recently_added&limit=3&cursor={c}")).await,
        ["Le Petit Prince", "The Left Hand of Darkness", "Dune Messiah"]
    );
    // A cursor belongs to its sort; junk cursors and bad parameters are 4xx.
    s.get(&format!("{titles}?sort=title&cursor={c}"), &ada.auth()).await.expect(400, "bad_cursor");
    s.get(&format!("{titles}?cursor=garbage"), &ada.auth()).await.expect(400, "bad_cursor");
    s.get(&format!("{titles}?limit=0"), &ada.auth()).await.expect(422, "invalid");
    s.get(&format!("{titles}?limit=abc"), &ada.auth()).await.expect(400, "bad_query");
    s.get(&format!("{titles}?sort=price"), &ada.auth()).await.expect(422, "invalid");
    s.get(&format!("{titles}?colour=red"), &ada.auth()).await.expect(400, "bad_query");
    let hit: Value = s.get(&format!("{titles}?q=dune&limit=1"), &ada.auth()).await.body["items"][0].clone();
    assert_eq!((hit["copies"].as_i64(), hit["available"].as_i64()), (Some(1), Some(1)));
    s.shutdown().await;
}
both!(search_filters_and_pages);

/// Every page of a search in one order, walked by cursor with pages of `per`.
async fn walk(s: &Server, who: &Session, titles: &str, query: &str, per: usize) -> Vec<String> {
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut url = format!("{titles}?{query}&limit={per}");
        if let Some(c) = &cursor {
            url.push_str(&format!("&cursor={c}"));
        }
        let r = s.get(&url, &who.auth()).await;
        r.expect(200, "");
        seen.extend(r.body["items"].as_array().unwrap().iter().map(|h| h["title"].as_str().unwrap().to_owned()));
        match r.body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => return seen,
        }
        assert!(seen.len() < 1000, "cursor loop");
    }
}

/// The desktop's sort orders (relevance, title, author, year either way,
/// recently added), each paged by keyset cursor, and its facets.
async fn desktop_sorts_and_facets(b: Backend) {
    let s = Server::start(b).await;
    let ada = s.user("ada@example.org").await;
    let lib = library(&s, &ada, "Main").await;
    let titles = format!("/api/v1/libraries/{lib}/titles");
    let books = [
        json!({ "title": "The Road to Dune", "contributors": [{ "name": "Brian Herbert" }], "published": "2005", "language": "en", "subjects": ["Science fiction"], "tags": ["sf"] }),
        json!({ "title": "Dune Messiah", "contributors": [{ "name": "Frank Herbert" }], "published": "1969", "language": "en", "subjects": ["Science fiction"], "tags": ["sf"] }),
        json!({ "title": "Dune", "contributors": [{ "name": "Frank Herbert" }], "published": "1965", "language": "en", "subjects": ["Science fiction", "Deserts"], "tags": ["sf", "classic"] }),
        json!({ "title": "Arrakis Notes", "contributors": [{ "name": "Ann Dune" }], "published": "1990", "language": "fr", "subjects": ["Deserts"] }),
        json!({ "title": "Sand", "contributors": [{ "name": "Zed Writer" }], "notes": "like dune", "language": "fr" }),
        json!({ "title": "Emma", "contributors": [{ "name": "Jane Austen" }], "published": "1815", "language": "en" }),
    ];
    let mut ids = Vec::new();
    for b in &books {
        let r = s.post(&titles, &ada.auth(), b.clone()).await;
        r.expect(201, "");
        ids.push(r.body["id"].as_str().unwrap().to_owned());
    }
    for (i, (barcode, loc)) in [(2, ("D1", "Annex")), (2, ("D2", "Main")), (1, ("M1", "Main")), (4, ("S1", "Annex"))] {
        s.post(&format!("{titles}/{}/copies", ids[i]), &ada.auth(), json!({ "barcode": barcode, "location": loc })).await.expect(201, "");
    }

    // Relevance: every word in the title (shorter titles first), then in
    // title/people/series/subjects, then anywhere. Pages of one walk it whole.
    let rel = walk(&s, &ada, &titles, "q=dune&sort=relevance", 1).await;
    assert_eq!(rel, ["Dune", "Dune Messiah", "The Road to Dune", "Arrakis Notes", "Sand"]);
    assert_eq!(walk(&s, &ada, &titles, "q=dune&sort=relevance", 2).await, rel);
    assert_eq!(walk(&s, &ada, &titles, "q=herbert%20dune&sort=relevance", 1).await, ["Dune", "Dune Messiah", "The Road to Dune"]);
    // Without words, relevance is newest first (as on the desktop).
    assert_eq!(walk(&s, &ada, &titles, "sort=relevance", 4).await, walk(&s, &ada, &titles, "sort=recently_added", 4).await);
    assert_eq!(walk(&s, &ada, &titles, "sort=relevance", 2).await.first().map(String::as_str), Some("Emma"));
    // Author: by the first contributor's sort key (surname first).
    assert_eq!(
        walk(&s, &ada, &titles, "sort=author", 1).await,
        ["Emma", "Arrakis Notes", "The Road to Dune", "Dune Messiah", "Dune", "Sand"],
        "Austen, Dune, Herbert B, Herbert F (ties in the order added), Writer"
    );
    // Years: unknown counts as 0, as on the desktop.
    assert_eq!(
        walk(&s, &ada, &titles, "sort=year_newest", 1).await,
        ["The Road to Dune", "Arrakis Notes", "Dune Messiah", "Dune", "Emma", "Sand"]
    );
    assert_eq!(
        walk(&s, &ada, &titles, "sort=year_oldest", 2).await,
        ["Sand", "Emma", "Dune", "Dune Messiah", "Arrakis Notes", "The Road to Dune"]
    );
    assert_eq!(walk(&s, &ada, &titles, "q=dune&sort=year_oldest&language=en", 1).await, ["Dune", "Dune Messiah", "The Road to Dune"]);
    // A cursor of one order is refused by another.
    let r = s.get(&format!("{titles}?q=dune&sort=relevance&limit=1"), &ada.auth()).await;
    let c = r.body["next_cursor"].as_str().unwrap();
    s.get(&format!("{titles}?q=dune&sort=author&cursor={c}"), &ada.auth()).await.expect(400, "bad_cursor");

    // Facets over the matches of a search.
    let f = s.get(&format!("{titles}/facets?q=dune"), &ada.auth()).await;
    f.expect(200, "");
    let f = f.body;
    assert_eq!(f["sample"], 5);
    assert_eq!(f["exact"], true);
    assert_eq!(f["available"], 3, "Dune, Dune Messiah and Sand have a copy on the shelf");
    assert_eq!(f["subjects"], json!([{ "value": "Science fiction", "count": 3 }, { "value": "Deserts", "count": 2 }]));
    assert_eq!(f["tags"], json!([{ "value": "sf", "count": 3 }, { "value": "classic", "count": 1 }]));
    assert_eq!(f["languages"], json!([{ "value": "en", "count": 3 }, { "value": "fr", "count": 2 }]));
    assert_eq!(f["decades"], json!([{ "value": "2000", "count": 1 }, { "value": "1990", "count": 1 }, { "value": "1960", "count": 2 }]));
    assert_eq!(f["locations"], json!([{ "value": "Annex", "count": 2 }, { "value": "Main", "count": 2 }]));
    let f = s.get(&format!("{titles}/facets?language=fr"), &ada.auth()).await.body;
    assert_eq!((f["sample"].as_i64(), f["languages"].clone()), (Some(2), json!([{ "value": "fr", "count": 2 }])));
    s.get(&format!("{titles}/facets?sort=title"), &ada.auth()).await.expect(422, "invalid");
    s.shutdown().await;
}
both!(desktop_sorts_and_facets);

/// Search follows edits and deletes, and the substring match is answered by
/// an index on both backends (pg_trgm GIN; FTS5 trigram on SQLite).
async fn search_follows_edits_and_uses_the_index(b: Backend) {
    let s = Server::start(b).await;
    let ada = s.user("ada@example.org").await;
    let lib = library(&s, &ada, "Main").await;
    let titles = format!("/api/v1/libraries/{lib}/titles");
    let id = s.post(&titles, &ada.auth(), json!({ "title": "Wuthering Heights" })).await.body["id"].as_str().unwrap().to_owned();
    let count = |q: &'static str| {
        let url = format!("{titles}?q={q}");
        let auth = ada.auth();
        let s = &s;
        async move { s.get(&url, &auth).await.body["items"].as_array().unwrap().len() }
    };
    assert_eq!(count("wuther").await, 1);
    s.call(Method::PUT, &format!("{titles}/{id}"), &ada.auth(), Some(json!({ "title": "Jane Eyre" }))).await.expect(200, "");
    assert_eq!(count("wuther").await, 0, "the old words are gone from the index");
    assert_eq!(count("eyre").await, 1);
    assert_eq!(count("ey").await, 1, "two letters: below a trigram, still found");
    s.call(Method::DELETE, &format!("{titles}/{id}"), &ada.auth(), None).await.expect(204, "");
    assert_eq!(count("eyre").await, 0);

    let mut conn = s.state.db.pool.acquire().await.unwrap();
    let plan: Vec<String> = match b {
        Backend::Postgres => {
            // Tiny tables are scanned anyway; forbid that to see the index is usable.
            sqlx::query("SET enable_seqscan = off").execute(&mut *conn).await.unwrap();
            sqlx::query("EXPLAIN SELECT id FROM titles WHERE search_text LIKE '%eyre%'")
                .fetch_all(&mut *conn)
                .await
                .unwrap()
                .iter()
                .map(|r| r.get::<String, _>(0))
                .collect()
        }
        Backend::Sqlite => sqlx::query("EXPLAIN QUERY PLAN SELECT title_id FROM titles_search WHERE search_text LIKE '%eyre%'")
            .fetch_all(&mut *conn)
            .await
            .unwrap()
            .iter()
            .map(|r| r.get::<String, _>("detail"))
            .collect(),
    };
    let plan = plan.join("\n");
    let uses_index = match b {
        Backend::Postgres => plan.contains("titles_search_trgm"),
        Backend::Sqlite => plan.contains("VIRTUAL TABLE INDEX"),
    };
    assert!(uses_index, "{plan}");
    s.shutdown().await;
}
both!(search_follows_edits_and_uses_the_index);

/// SQLite chooses between the trigram index and a walk in sort order by how
/// common the rarest word is; both plans must give the same pages.
async fn both_search_plans_agree(b: Backend) {
    use shelfkeeper_server::db::catalogue::{Search, Sort};
    let s = Server::start(b).await;
    let ada = s.user("ada@example.org").await;
    let lib = library(&s, &ada, "Main").await;
    let titles = format!("/api/v1/libraries/{lib}/titles");
    let words = ["river", "stone", "night", "garden", "winter"];
    for i in 0..40 {
        let title = format!("The {} {} of {}", words[i % 5], words[(i / 5) % 5], i);
        let notes = if i % 7 == 0 { Some("rare marginalia") } else { None };
        s.post(&titles, &ada.auth(), json!({ "title": title, "notes": notes, "language": if i % 2 == 0 { "en" } else { "fr" } }))
            .await
            .expect(201, "");
    }
    let queries: Vec<Vec<&str>> = vec![
        vec!["river"],
        vec!["river", "stone"],
        vec!["marginalia"],
        vec!["of", "winter"],
        vec!["ston", "rare"],
        vec!["nothing-matches"],
    ];
    for q in queries {
        for language in [None, Some("fr".to_owned())] {
            let mut pages: Vec<Vec<Vec<String>>> = Vec::new();
            for force in [Some(true), Some(false), None] {
                let mut after = None;
                let mut got = Vec::new();
                loop {
                    let search = Search {
                        words: q.iter().map(|w| w.to_string()).collect(),
                        language: language.clone(),
                        after: after.clone(),
                        limit: 3,
                        force_scan: force,
                        ..Search::default()
                    };
                    let mut page = s.state.db.search(&lib, &search, Sort::Title).await.unwrap();
                    let more = page.len() > 3;
                    page.truncate(3);
                    after = page.last().map(|h| (h.sort_title.clone(), h.id.clone()));
                    got.push(page.iter().map(|h| h.title.clone()).collect::<Vec<_>>());
                    if !more {
                        break;
                    }
                }
                pages.push(got);
            }
            assert_eq!(pages[0], pages[1], "{q:?} {language:?}: scan vs index");
            assert_eq!(pages[0], pages[2], "{q:?} {language:?}: scan vs chosen");
        }
    }
    s.shutdown().await;
}
both!(both_search_plans_agree);
