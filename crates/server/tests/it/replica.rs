//! The server as a replica: what desks push is applied to the library's
//! tables with the desks' merge rules, so REST sees desk work and the
//! server's rows are the rows every desk has.

use crate::both;
use crate::support::Backend;
use crate::sync::{Desk, Lib, assert_same, draft, library, now_hlc, sync, title_change_of};
use reqwest::Method;
use serde_json::json;
use shelfkeeper_domain::access::Actor;
use shelfkeeper_domain::model::{Contributor, CopyDraft, CopyStatus, MemberDraft, TitleDraft};
use shelfkeeper_sync::{Change, Entity, Op, PROTOCOL_VERSION, PushRequest};
use sqlx::Row;
use uuid::Uuid;

const OWNER: &Actor = &Actor::OWNER;

/// One line per row, in a form both sides can produce: ids without
/// hyphens, stamps as `hlc@site`, the columns the merge decides.
async fn server_lines(l: &Lib) -> Vec<String> {
    let pool = &l.s.state.db.pool;
    let q = |sql: &'static str| async move {
        let rows = sqlx::query(sql).bind(&l.id).fetch_all(pool).await.unwrap();
        rows.iter()
            .map(|r| {
                (0..r.len())
                    .map(|i| match r.try_get::<Option<String>, _>(i) {
                        Ok(Some(v)) => Uuid::parse_str(&v).map(|u| u.simple().to_string()).unwrap_or(v),
                        Ok(None) => "-".into(),
                        Err(_) => r.try_get::<Option<i64>, _>(i).unwrap().map_or("-".into(), |n| n.to_string()),
                    })
                    .collect::<Vec<_>>()
                    .join("|")
            })
            .collect::<Vec<_>>()
    };
    let mut out = Vec::new();
    for (name, sql) in [
        ("title", "SELECT id, title, hlc, site FROM titles WHERE library_id = $1"),
        ("copy", "SELECT id, title_id, barcode, status, hlc, site FROM copies WHERE library_id = $1"),
        ("member", "SELECT id, card, name, hlc, site FROM members WHERE library_id = $1"),
        ("type", "SELECT id, code, loan_days, hlc, site FROM member_types WHERE library_id = $1"),
        ("event", "SELECT id, kind FROM circulation_events WHERE library_id = $1"),
        (
            "loan",
            "SELECT id, copy_id, member_id, due_on, renewals, CAST(CASE WHEN returned_at IS NULL THEN 0 ELSE 1 END AS BIGINT), \
             CAST(CASE WHEN lost_at IS NULL THEN 0 ELSE 1 END AS BIGINT) FROM loans WHERE library_id = $1",
        ),
        ("hold", "SELECT id, member_id, status, copy_id FROM holds WHERE library_id = $1"),
    ] {
        out.extend(q(sql).await.into_iter().map(|line| format!("{name}|{line}")));
    }
    out.sort();
    out
}

async fn desk_lines(d: &Desk) -> Vec<String> {
    let url = format!("sqlite://{}?mode=ro", d.dir.path().join("desk.sqlite3").display());
    let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
    // hex(NULL) is '' in SQLite, not NULL.
    let h = |c: &str| format!("CASE WHEN {c} IS NULL THEN '-' ELSE lower(hex({c})) END");
    let stamp = "t.hlc || '|' || lower(hex(s.id))";
    let sqls = [
        ("title", format!("SELECT {} || '|' || t.title || '|' || {stamp} FROM titles t JOIN sites s ON s.no = t.site_no", h("t.id"))),
        (
            "copy",
            format!(
                "SELECT {} || '|' || {} || '|' || t.barcode || '|' || t.status || '|' || {stamp} FROM copies t JOIN sites s ON s.no = t.site_no",
                h("t.id"),
                h("t.title_id")
            ),
        ),
        (
            "member",
            format!(
                "SELECT {} || '|' || t.card || '|' || t.name || '|' || {stamp} FROM members t JOIN sites s ON s.no = t.site_no",
                h("t.id")
            ),
        ),
        (
            "type",
            format!(
                "SELECT {} || '|' || t.code || '|' || t.loan_days || '|' || {stamp} FROM member_types t JOIN sites s ON s.no = t.site_no",
                h("t.id")
            ),
        ),
        ("event", format!("SELECT {} || '|' || kind FROM circulation_events", h("id"))),
        (
            "loan",
            format!(
                "SELECT {} || '|' || {} || '|' || {} || '|' || due_on || '|' || renewals || '|' || (returned_at IS NOT NULL) || '|' || (lost_at IS NOT NULL) FROM loans",
                h("id"),
                h("copy_id"),
                h("member_id")
            ),
        ),
        ("hold", format!("SELECT {} || '|' || {} || '|' || status || '|' || {} FROM holds", h("id"), h("member_id"), h("copy_id"))),
    ];
    let mut out = Vec::new();
    for (name, sql) in sqls {
        let rows: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).fetch_all(&pool).await.unwrap();
        out.extend(rows.into_iter().map(|line| format!("{name}|{line}")));
    }
    pool.close().await;
    out.sort();
    out
}

/// The server's library equals the desk's: rows, stamps, keys, events,
/// loans and holds.
pub(crate) async fn assert_server_matches(l: &Lib, d: &Desk) {
    let (server, desk) = (server_lines(l).await, desk_lines(d).await);
    if server != desk {
        let only_server: Vec<&String> = server.iter().filter(|x| !desk.contains(x)).take(8).collect();
        let only_desk: Vec<&String> = desk.iter().filter(|x| !server.contains(x)).take(8).collect();
        panic!("the server's library differs from the desk's:\n  only on the server: {only_server:#?}\n  only on the desk: {only_desk:#?}");
    }
}

async fn desk_work_is_seen_through_rest(b: Backend) {
    let l = library(b).await;
    let (d, t) = l.desk().await;
    let (a, auth) = (&l.base, l.librarian.auth());
    // Catalogued, registered and lent at the desk, offline.
    let mut draft_title = draft("The Left Hand of Darkness");
    draft_title.contributors = vec![Contributor { name: "Ursula K. Le Guin".into(), role: "author".into() }];
    draft_title.isbn = Some("9780441478125".into());
    let title = d.store.add_title(OWNER, &draft_title).await.unwrap();
    d.store.add_copy(OWNER, title.id, &CopyDraft { barcode: "R-1".into(), ..Default::default() }).await.unwrap();
    let member = d
        .store
        .add_member(OWNER, &MemberDraft { card: "M-1".into(), name: "Genly Ai".into(), member_type: "adult".into(), ..Default::default() })
        .await
        .unwrap();
    let receipt = d.store.check_out(OWNER, "M-1", "R-1").await.unwrap();
    sync(&d, &t).await;

    // Found through REST: search by title word and by author.
    for q in ["darkness", "le guin", "9780441478125"] {
        let found = l.s.get(&format!("{a}/titles?q={}", q.replace(' ', "%20")), &auth).await;
        found.expect(200, "");
        assert_eq!(found.body["items"][0]["id"], title.id.to_string(), "q={q}: {:?}", found.body);
    }
    let t_rest = l.s.get(&format!("{a}/titles/{}", title.id), &auth).await;
    assert_eq!(t_rest.body["copies"][0]["status"], "on_loan");
    // The member and the loan: the librarian's view, and the member's own
    // once their account is linked.
    let loans = l.s.get(&format!("{a}/members/{}/loans", member.id), &auth).await;
    loans.expect(200, "");
    assert_eq!(loans.body["items"][0]["due_on"], receipt.loan.due_on.to_string(), "{:?}", loans.body);
    l.s.call(
        Method::PUT,
        &format!("{a}/members/{}", member.id),
        &auth,
        Some(json!({ "card": "M-1", "name": "Genly Ai", "member_type": "adult", "account_email": "member@example.org" })),
    )
    .await
    .expect(200, "");
    let mine = l.s.get(&format!("{a}/me/loans"), &l.member.auth()).await;
    assert_eq!(mine.body["items"][0]["title"], "The Left Hand of Darkness", "{:?}", mine.body);
    let report = l.s.get(&format!("{a}/reports/popular-titles"), &auth).await;
    assert!(report.body.to_string().contains("The Left Hand of Darkness"), "{:?}", report.body);

    // Returned through REST: the desk sees it, and both agree.
    l.s.post(&format!("{a}/checkin"), &auth, json!({ "barcode": "R-1" })).await.expect(200, "");
    sync(&d, &t).await;
    assert_eq!(d.store.copy("R-1").await.unwrap().status, CopyStatus::Available);
    assert_server_matches(&l, &d).await;

    // Edited and withdrawn at the desk: REST follows.
    let mut renamed = draft_title.clone();
    renamed.title = "The Left Hand of Darkness (50th anniversary)".into();
    d.store.update_title(OWNER, title.id, &renamed).await.unwrap();
    d.store.delete_copy(OWNER, "R-1").await.unwrap();
    sync(&d, &t).await;
    let t_rest = l.s.get(&format!("{a}/titles/{}", title.id), &auth).await;
    assert_eq!(t_rest.body["title"], "The Left Hand of Darkness (50th anniversary)");
    assert!(t_rest.body["copies"].as_array().unwrap().is_empty());
    assert_server_matches(&l, &d).await;
    // A new desk agrees with both.
    let (d2, t2) = l.desk().await;
    sync(&d2, &t2).await;
    assert_same(&[&d, &d2]).await;
    assert_server_matches(&l, &d2).await;
    l.s.shutdown().await;
}
both!(desk_work_is_seen_through_rest);

async fn an_older_version_or_a_deleted_row_does_not_come_back(b: Backend) {
    let l = library(b).await;
    let (d, t) = l.desk().await;
    let site = d.store.site_id().0;
    let id = Uuid::now_v7();
    let hlc = now_hlc();
    let push = |changes: Vec<Change>| {
        let t = &t;
        async move { t.push_page(&PushRequest { protocol: PROTOCOL_VERSION, site_id: site, changes }).await.unwrap() }
    };
    let r = push(vec![title_change_of(id, "Newer", site, hlc + 10), title_change_of(id, "Older", site, hlc)]).await;
    assert_eq!(r.accepted.len(), 2, "{r:?}");
    let get = || async { l.s.get(&format!("{}/titles/{id}", l.base), &l.librarian.auth()).await };
    assert_eq!(get().await.body["title"], "Newer", "last writer wins, whatever the order of arrival");
    let delete = Change {
        change_id: Uuid::now_v7(),
        entity: Entity::Title,
        entity_id: id,
        op: Op::Delete,
        hlc: hlc + 20,
        site_id: site,
        payload: serde_json::Value::Null,
    };
    push(vec![delete]).await;
    get().await.expect(404, "not_found");
    // An edit older than the delete is dropped; a newer one is kept aside,
    // as desks keep it, and the title stays deleted.
    push(vec![title_change_of(id, "Resurrected?", site, hlc + 15), title_change_of(id, "Edited after", site, hlc + 30)]).await;
    get().await.expect(404, "not_found");
    let kept: i64 = sqlx::query("SELECT COUNT(*) AS n FROM replica_conflicts WHERE kind = 'kept_row' AND entity_id = $1")
        .bind(id.to_string())
        .fetch_one(&l.s.state.db.pool)
        .await
        .unwrap()
        .get("n");
    assert_eq!(kept, 1);
    sync(&d, &t).await;
    assert_server_matches(&l, &d).await;
    l.s.shutdown().await;
}
both!(an_older_version_or_a_deleted_row_does_not_come_back);

/// Issue 17: a delete pushed as a member, carrying a title's id, left a
/// tombstone keyed by the id alone, and the title's later (older-stamped)
/// edits were kept aside instead of applied. Tombstones are per entity.
async fn a_delete_under_another_entity_leaves_the_row_alone(b: Backend) {
    let l = library(b).await;
    let (d, t) = l.desk().await;
    let site = d.store.site_id().0;
    let id = Uuid::now_v7();
    let hlc = now_hlc();
    let push = |changes: Vec<Change>| {
        let t = &t;
        async move { t.push_page(&PushRequest { protocol: PROTOCOL_VERSION, site_id: site, changes }).await.unwrap() }
    };
    push(vec![title_change_of(id, "Dune", site, hlc)]).await;
    let member_delete = Change {
        change_id: Uuid::now_v7(),
        entity: Entity::Member,
        entity_id: id,
        op: Op::Delete,
        hlc: hlc + 20,
        site_id: site,
        payload: serde_json::Value::Null,
    };
    let r = push(vec![member_delete, title_change_of(id, "Dune, edited", site, hlc + 10)]).await;
    assert_eq!(r.accepted.len(), 2, "{r:?}");
    let got = l.s.get(&format!("{}/titles/{id}", l.base), &l.librarian.auth()).await;
    assert_eq!(got.body["title"], "Dune, edited", "the title's edit applied");
    let kept: i64 = sqlx::query("SELECT COUNT(*) AS n FROM replica_conflicts WHERE kind = 'kept_row'")
        .fetch_one(&l.s.state.db.pool)
        .await
        .unwrap()
        .get("n");
    assert_eq!(kept, 0, "nothing kept aside");
    sync(&d, &t).await;
    assert_server_matches(&l, &d).await;
    l.s.shutdown().await;
}
both!(a_delete_under_another_entity_leaves_the_row_alone);

async fn a_row_of_another_library_cannot_be_written_by_push(b: Backend) {
    let l = library(b).await;
    // A second library the librarian also works in.
    let other =
        l.s.post("/api/v1/libraries", &l.admin.auth(), json!({ "name": "Elsewhere" })).await.body["id"].as_str().unwrap().to_owned();
    let victim = l.s.post(&format!("/api/v1/libraries/{other}/titles"), &l.admin.auth(), json!({ "title": "Theirs" })).await;
    let victim_id: Uuid = victim.body["id"].as_str().unwrap().parse().unwrap();
    let (d, t) = l.desk().await;
    let site = d.store.site_id().0;
    let hostile = title_change_of(victim_id, "Overwritten", site, now_hlc());
    let r = t.push_page(&PushRequest { protocol: PROTOCOL_VERSION, site_id: site, changes: vec![hostile.clone()] }).await.unwrap();
    assert!(r.accepted.is_empty(), "{r:?}");
    assert!(r.rejected[0].reason.contains("another library"), "{r:?}");
    let delete = Change { op: Op::Delete, payload: serde_json::Value::Null, change_id: Uuid::now_v7(), ..hostile };
    let r = t.push_page(&PushRequest { protocol: PROTOCOL_VERSION, site_id: site, changes: vec![delete] }).await.unwrap();
    assert!(r.rejected[0].reason.contains("another library"), "{r:?}");
    // Nor can an event reach another library's copy.
    let copy =
        l.s.post(&format!("/api/v1/libraries/{other}/titles/{victim_id}/copies"), &l.admin.auth(), json!({ "barcode": "V-1" })).await;
    let copy_id = copy.body["id"].as_str().unwrap().to_owned();
    let event_id = Uuid::now_v7();
    let lend = Change {
        change_id: Uuid::now_v7(),
        entity: Entity::Event,
        entity_id: event_id,
        op: Op::Event,
        hlc: now_hlc(),
        site_id: site,
        payload: json!({ "id": event_id.to_string(), "stream_id": copy_id, "kind": "checked_out", "title_id": victim_id.to_string(),
                         "copy_id": copy_id, "member_id": Uuid::now_v7().to_string(), "due_on": "2027-01-01",
                         "occurred_at": "2026-12-02T10:00:00Z" }),
    };
    let r = t.push_page(&PushRequest { protocol: PROTOCOL_VERSION, site_id: site, changes: vec![lend] }).await.unwrap();
    assert!(r.rejected[0].reason.contains("another library"), "{r:?}");
    let theirs = l.s.get(&format!("/api/v1/libraries/{other}/titles/{victim_id}"), &l.admin.auth()).await;
    assert_eq!(theirs.body["title"], "Theirs");
    assert_eq!(theirs.body["copies"][0]["status"], "available");
    assert!(l.feed().await.is_empty(), "nothing rejected enters the feed");
    l.s.shutdown().await;
}
both!(a_row_of_another_library_cannot_be_written_by_push);

async fn two_desks_wanting_one_barcode_settle_alike_on_the_server(b: Backend) {
    let l = library(b).await;
    let (d1, t1) = l.desk().await;
    let (d2, t2) = l.desk().await;
    let title = d1.store.add_title(OWNER, &draft("Shared")).await.unwrap();
    sync(&d1, &t1).await;
    sync(&d2, &t2).await;
    // Both label a new copy "X-1" offline.
    for d in [&d1, &d2] {
        d.store.add_copy(OWNER, title.id, &CopyDraft { barcode: "X-1".into(), ..Default::default() }).await.unwrap();
        d.store
            .add_member(OWNER, &MemberDraft { card: "K-1".into(), name: "Twin".into(), member_type: "adult".into(), ..Default::default() })
            .await
            .unwrap();
    }
    for _ in 0..2 {
        sync(&d1, &t1).await;
        sync(&d2, &t2).await;
    }
    assert_same(&[&d1, &d2]).await;
    assert_server_matches(&l, &d1).await;
    let barcodes: Vec<String> = sqlx::query("SELECT barcode FROM copies ORDER BY barcode")
        .fetch_all(&l.s.state.db.pool)
        .await
        .unwrap()
        .iter()
        .map(|r| r.get("barcode"))
        .collect();
    assert_eq!(barcodes.len(), 2);
    assert_eq!(barcodes[0], "X-1");
    assert!(barcodes[1].starts_with("X-1~"), "{barcodes:?}");
    l.s.shutdown().await;
}
both!(two_desks_wanting_one_barcode_settle_alike_on_the_server);

async fn a_feed_stored_before_the_server_applied_pushes_is_applied_at_start(b: Backend) {
    let l = library(b).await;
    let (d, t) = l.desk().await;
    let title = d.store.add_title(OWNER, &TitleDraft { title: "From the old feed".into(), ..Default::default() }).await.unwrap();
    d.store.add_copy(OWNER, title.id, &CopyDraft { barcode: "F-1".into(), ..Default::default() }).await.unwrap();
    d.store
        .add_member(OWNER, &MemberDraft { card: "F-M".into(), name: "Old".into(), member_type: "adult".into(), ..Default::default() })
        .await
        .unwrap();
    d.store.check_out(OWNER, "F-M", "F-1").await.unwrap();
    sync(&d, &t).await;
    // As a server before this version left it: the feed holds the changes,
    // the tables never saw them.
    let pool = &l.s.state.db.pool;
    for sql in [
        "DELETE FROM loans WHERE library_id = $1",
        "DELETE FROM circulation_events WHERE library_id = $1",
        "DELETE FROM copies WHERE library_id = $1",
        "DELETE FROM titles WHERE library_id = $1",
        "DELETE FROM members WHERE library_id = $1",
        "UPDATE sync_counters SET applied_seq = 0 WHERE library_id = $1",
    ] {
        sqlx::query(sql).bind(&l.id).execute(pool).await.unwrap();
    }
    l.s.get(&format!("{}/titles/{}", l.base, title.id), &l.librarian.auth()).await.expect(404, "not_found");
    l.s.state.db.catch_up_all().await.unwrap();
    let t_rest = l.s.get(&format!("{}/titles/{}", l.base, title.id), &l.librarian.auth()).await;
    assert_eq!(t_rest.body["copies"][0]["status"], "on_loan", "{:?}", t_rest.body);
    assert_server_matches(&l, &d).await;
    l.s.shutdown().await;
}
both!(a_feed_stored_before_the_server_applied_pushes_is_applied_at_start);
