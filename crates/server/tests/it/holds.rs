//! Holds through the whole desk cycle, and reviews.

use crate::both;
use crate::support::{Backend, Server, Session};
use reqwest::Method;
use serde_json::json;
use sqlx::Row;

struct Lib {
    base: String,
    title: String,
}

async fn setup(s: &Server, admin: &Session) -> Lib {
    let lib = s.post("/api/v1/libraries", &admin.auth(), json!({ "name": "Main" })).await.body["id"].as_str().unwrap().to_owned();
    let base = format!("/api/v1/libraries/{lib}");
    let title = s.post(&format!("{base}/titles"), &admin.auth(), json!({ "title": "Dune" })).await.body["id"].as_str().unwrap().to_owned();
    Lib { base, title }
}

async fn holds_queue_trap_and_fulfil(b: Backend) {
    let s = Server::start(b).await;
    let admin = s.user("admin@example.org").await;
    let pat = s.user("pat@example.org").await;
    let l = setup(&s, &admin).await;
    let (base, title) = (&l.base, &l.title);
    s.call(Method::PUT, &format!("{base}/memberships"), &admin.auth(), Some(json!({ "email": "pat@example.org", "role": "member" })))
        .await
        .expect(200, "");
    let holds = format!("{base}/titles/{title}/holds");
    s.post(&holds, &pat.auth(), json!({})).await.expect(409, "no_member_record");
    for (card, email) in [("P1", Some("pat@example.org")), ("P2", None), ("P3", None)] {
        s.post(
            &format!("{base}/members"),
            &admin.auth(),
            json!({ "card": card, "name": card, "member_type": "adult", "account_email": email }),
        )
        .await
        .expect(201, "");
    }
    s.post(&holds, &pat.auth(), json!({})).await.expect(409, "hold_on_title_without_copies");
    s.post(&format!("{base}/titles/{title}/copies"), &admin.auth(), json!({ "barcode": "D1" })).await.expect(201, "");
    s.post(&format!("{base}/checkout"), &admin.auth(), json!({ "barcode": "D1", "card": "P3" })).await.expect(201, "");
    s.post(&holds, &admin.auth(), json!({ "card": "P3" })).await.expect(409, "hold_on_title_already_borrowed");

    // Pat (P1) then P2 queue; a member cannot place one for another card.
    let h1 = s.post(&holds, &pat.auth(), json!({})).await;
    h1.expect(201, "");
    assert_eq!((h1.body["status"].as_str(), h1.body["position"].as_i64()), (Some("waiting"), Some(1)));
    s.post(&holds, &pat.auth(), json!({})).await.expect(409, "hold_already_placed");
    s.post(&holds, &pat.auth(), json!({ "card": "P2" })).await.expect(403, "permission_denied");
    let h2 = s.post(&holds, &admin.auth(), json!({ "card": "P2" })).await;
    assert_eq!(h2.body["position"], 2);
    let queue = s.get(&holds, &admin.auth()).await;
    assert_eq!(queue.body["items"].as_array().unwrap().iter().map(|h| h["card"].as_str().unwrap()).collect::<Vec<_>>(), ["P1", "P2"]);
    s.get(&holds, &pat.auth()).await.expect(403, "permission_denied");

    // P3 cannot renew while others wait.
    s.post(&format!("{base}/renew"), &admin.auth(), json!({ "barcode": "D1" })).await.expect(409, "renewal_blocked_by_hold");
    // Check-in puts the copy on the hold shelf for the first in line ...
    let r = s.post(&format!("{base}/checkin"), &admin.auth(), json!({ "barcode": "D1" })).await;
    r.expect(200, "");
    assert_eq!(r.body["hold_shelf_for"], "P1");
    let mine = s.get(&format!("{base}/me/holds"), &pat.auth()).await;
    assert_eq!((mine.body["items"][0]["status"].as_str(), mine.body["items"][0]["copy_barcode"].as_str()), (Some("ready"), Some("D1")));
    assert!(mine.body["items"][0]["expires_on"].is_string());
    // ... where nobody else may take it.
    let r = s.post(&format!("{base}/checkout"), &admin.auth(), json!({ "barcode": "D1", "card": "P2" })).await;
    r.expect(409, "copy_reserved_for_another");
    assert!(r.body["error"]["message"].as_str().unwrap().contains("P1"), "{r:?}");
    s.post(&format!("{base}/checkout"), &admin.auth(), json!({ "barcode": "D1", "card": "P1" })).await.expect(201, "");
    let mine = s.get(&format!("{base}/me/holds"), &pat.auth()).await;
    assert_eq!(mine.body["items"][0]["status"], "fulfilled");
    // P2 is now first; P2's hold is not Pat's to cancel, and looks absent.
    let h2_id = h2.body["id"].as_str().unwrap();
    assert_eq!(s.get(&holds, &admin.auth()).await.body["items"][0]["position"], 1);
    s.call(Method::DELETE, &format!("{base}/holds/{h2_id}"), &pat.auth(), None).await.expect(404, "not_found");
    let c = s.call(Method::DELETE, &format!("{base}/holds/{h2_id}"), &admin.auth(), None).await;
    c.expect(200, "");
    assert_eq!(c.body["status"], "cancelled");
    s.call(Method::DELETE, &format!("{base}/holds/{h2_id}"), &admin.auth(), None).await.expect(409, "hold_not_active");
    // With nobody waiting, the copy goes back on the shelf at check-in.
    let r = s.post(&format!("{base}/checkin"), &admin.auth(), json!({ "barcode": "D1" })).await;
    assert!(r.body["hold_shelf_for"].is_null());
    assert_eq!(s.get(&format!("{base}/titles/{title}"), &admin.auth()).await.body["copies"][0]["status"], "available");
    // A copy with loan history may be withdrawn, as at the desk (one rule,
    // `deletion::may_delete_copy`); its history stays in the member's loans.
    let copy_id = s.get(&format!("{base}/titles/{title}"), &admin.auth()).await.body["copies"][0]["id"].as_str().unwrap().to_owned();
    s.call(Method::DELETE, &format!("{base}/copies/{copy_id}"), &admin.auth(), None).await.expect(204, "");
    assert!(s.get(&format!("{base}/titles/{title}"), &admin.auth()).await.body["copies"].as_array().unwrap().is_empty());
    s.shutdown().await;
}
both!(holds_queue_trap_and_fulfil);

async fn one_review_per_account_and_title(b: Backend) {
    let s = Server::start(b).await;
    let admin = s.user("admin@example.org").await;
    let pat = s.user("pat@example.org").await;
    let l = setup(&s, &admin).await;
    s.call(Method::PUT, &format!("{}/memberships", l.base), &admin.auth(), Some(json!({ "email": "pat@example.org", "role": "member" })))
        .await
        .expect(200, "");
    let review = format!("{}/titles/{}/review", l.base, l.title);
    let reviews = format!("{}/titles/{}/reviews", l.base, l.title);
    s.call(Method::PUT, &review, &pat.auth(), Some(json!({ "rating": 6 }))).await.expect(422, "rating_out_of_range");
    s.call(Method::PUT, &review, &pat.auth(), Some(json!({ "rating": "five" }))).await.expect(422, "invalid");
    s.call(Method::PUT, &review, &pat.auth(), Some(json!({ "rating": 4, "body": "<script>x</script> Spice!" }))).await.expect(200, "");
    s.call(Method::PUT, &review, &pat.auth(), Some(json!({ "rating": 5, "body": "Better on rereading." }))).await.expect(200, "");
    s.call(Method::PUT, &review, &admin.auth(), Some(json!({ "rating": 3 }))).await.expect(200, "");
    let all = s.get(&reviews, &pat.auth()).await;
    let items = all.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "one per account: {items:?}");
    let pats = items.iter().find(|r| r["author"] == "pat@example.org").unwrap();
    assert_eq!((pats["rating"].as_i64(), pats["body"].as_str()), (Some(5), Some("Better on rereading.")));
    assert!(pats.get("account_id").is_none());
    s.call(Method::DELETE, &review, &pat.auth(), None).await.expect(204, "");
    s.call(Method::DELETE, &review, &pat.auth(), None).await.expect(404, "not_found");
    assert_eq!(s.get(&reviews, &pat.auth()).await.body["items"].as_array().unwrap().len(), 1);
    s.call(Method::PUT, &format!("{}/titles/{}/review", l.base, uuid::Uuid::now_v7()), &pat.auth(), Some(json!({ "rating": 3 })))
        .await
        .expect(404, "not_found");
    s.shutdown().await;
}
both!(one_review_per_account_and_title);

/// A copy nobody collects: at the next desk action after the pickup date the
/// hold expires and the copy goes to the next in line, then back to the shelf.
async fn uncollected_holds_expire(b: Backend) {
    let s = Server::start(b).await;
    let admin = s.user("admin@example.org").await;
    let l = setup(&s, &admin).await;
    let base = &l.base;
    for card in ["Q1", "Q2", "Q3"] {
        s.post(&format!("{base}/members"), &admin.auth(), json!({ "card": card, "name": card, "member_type": "adult" }))
            .await
            .expect(201, "");
    }
    s.post(&format!("{base}/titles/{}/copies", l.title), &admin.auth(), json!({ "barcode": "X1" })).await.expect(201, "");
    s.post(&format!("{base}/checkout"), &admin.auth(), json!({ "barcode": "X1", "card": "Q3" })).await.expect(201, "");
    let holds = format!("{base}/titles/{}/holds", l.title);
    let h1 = s.post(&holds, &admin.auth(), json!({ "card": "Q1" })).await.body["id"].as_str().unwrap().to_owned();
    s.post(&holds, &admin.auth(), json!({ "card": "Q2" })).await.expect(201, "");
    assert_eq!(s.post(&format!("{base}/checkin"), &admin.auth(), json!({ "barcode": "X1" })).await.body["hold_shelf_for"], "Q1");
    // Time passes: the pickup date is behind us.
    let past = |id: String| {
        let pool = s.state.db.pool.clone();
        async move { sqlx::query("UPDATE holds SET expires_on = '2000-01-01' WHERE id = $1").bind(id).execute(&pool).await.unwrap() }
    };
    past(h1.clone()).await;
    // Q3 tries to borrow it: Q1's hold expires, and the copy is now Q2's.
    s.post(&format!("{base}/checkout"), &admin.auth(), json!({ "barcode": "X1", "card": "Q3" }))
        .await
        .expect(409, "copy_reserved_for_another");
    let queue = s.get(&holds, &admin.auth()).await;
    assert_eq!(queue.body["items"].as_array().unwrap().len(), 1);
    assert_eq!((queue.body["items"][0]["card"].as_str(), queue.body["items"][0]["status"].as_str()), (Some("Q2"), Some("ready")));
    let h2 = queue.body["items"][0]["id"].as_str().unwrap().to_owned();
    past(h2).await;
    // Nobody else waits: the copy is free again.
    s.post(&format!("{base}/checkout"), &admin.auth(), json!({ "barcode": "X1", "card": "Q3" })).await.expect(201, "");
    let states: Vec<String> = {
        let rows = sqlx::query("SELECT status FROM holds ORDER BY placed_at").fetch_all(&s.state.db.pool).await.unwrap();
        rows.iter().map(|r| sqlx::Row::get::<String, _>(r, "status")).collect()
    };
    assert_eq!(states, ["expired", "expired"]);
    s.shutdown().await;
}
both!(uncollected_holds_expire);

/// The hourly sweep expires uncollected holds without waiting for a desk:
/// the copy passes down the queue (each uncollected hold in turn) and ends
/// on the shelf.
async fn hold_shelf_sweep(b: Backend) {
    let s = Server::start(b).await;
    let admin = s.user("admin@example.org").await;
    let l = setup(&s, &admin).await;
    let base = &l.base;
    for card in ["Q1", "Q2", "Q3"] {
        s.post(&format!("{base}/members"), &admin.auth(), json!({ "card": card, "name": card, "member_type": "adult" }))
            .await
            .expect(201, "");
    }
    s.post(&format!("{base}/titles/{}/copies", l.title), &admin.auth(), json!({ "barcode": "X1" })).await.expect(201, "");
    s.post(&format!("{base}/checkout"), &admin.auth(), json!({ "barcode": "X1", "card": "Q3" })).await.expect(201, "");
    let holds = format!("{base}/titles/{}/holds", l.title);
    s.post(&holds, &admin.auth(), json!({ "card": "Q1" })).await.expect(201, "");
    s.post(&holds, &admin.auth(), json!({ "card": "Q2" })).await.expect(201, "");
    assert_eq!(s.post(&format!("{base}/checkin"), &admin.auth(), json!({ "barcode": "X1" })).await.body["hold_shelf_for"], "Q1");
    let today = chrono::Utc::now().date_naive();
    assert_eq!(s.state.db.sweep_uncollected_holds(today).await.unwrap(), 0, "within the pickup days nothing expires");
    // Ten days on, past the pickup days (7): Q1's hold expires, the copy is
    // trapped for Q2 with a new pickup date, so one sweep day later than
    // that it expires too and the copy is back on the shelf.
    let later = today + chrono::Days::new(10);
    assert_eq!(s.state.db.sweep_uncollected_holds(later).await.unwrap(), 1);
    let queue = s.get(&holds, &admin.auth()).await;
    assert_eq!((queue.body["items"][0]["card"].as_str(), queue.body["items"][0]["status"].as_str()), (Some("Q2"), Some("ready")));
    assert_eq!(s.state.db.sweep_uncollected_holds(later + chrono::Days::new(10)).await.unwrap(), 1);
    assert!(s.get(&holds, &admin.auth()).await.body["items"].as_array().unwrap().is_empty());
    let status: String =
        sqlx::query("SELECT status FROM copies WHERE barcode = 'X1'").fetch_one(&s.state.db.pool).await.unwrap().get("status");
    assert_eq!(status, "available");
    s.shutdown().await;
}
both!(hold_shelf_sweep);

/// The hold rules are the domain's on the server too: a blocked or expired
/// member cannot join a queue through the API (before, only the desk
/// refused them).
async fn a_blocked_or_expired_member_cannot_place_a_hold(b: Backend) {
    let s = Server::start(b).await;
    let admin = s.user("admin@example.org").await;
    let l = setup(&s, &admin).await;
    let base = &l.base;
    s.post(&format!("{base}/titles/{}/copies", l.title), &admin.auth(), json!({ "barcode": "X1" })).await.expect(201, "");
    let blocked = s.post(&format!("{base}/members"), &admin.auth(), json!({ "card": "B1", "name": "Bea", "member_type": "adult" })).await;
    let blocked_id = blocked.body["id"].as_str().unwrap().to_owned();
    s.call(Method::PUT, &format!("{base}/members/{blocked_id}/block"), &admin.auth(), Some(json!({ "reason": "unpaid fines" })))
        .await
        .expect(200, "");
    s.post(
        &format!("{base}/members"),
        &admin.auth(),
        json!({ "card": "E1", "name": "Eli", "member_type": "adult", "expires_on": "2020-01-01" }),
    )
    .await
    .expect(201, "");
    let holds = format!("{base}/titles/{}/holds", l.title);
    let r = s.post(&holds, &admin.auth(), json!({ "card": "B1" })).await;
    r.expect(409, "member_blocked");
    assert!(r.body["error"]["message"].as_str().unwrap().contains("unpaid fines"), "{r:?}");
    s.post(&holds, &admin.auth(), json!({ "card": "E1" })).await.expect(409, "member_expired");
    assert!(s.get(&holds, &admin.auth()).await.body["items"].as_array().unwrap().is_empty());
    s.shutdown().await;
}
both!(a_blocked_or_expired_member_cannot_place_a_hold);

/// Issue 16: the server had no member delete, so a member could only be
/// removed at a desk. It follows the desks' rule: refused while the member
/// has loans; their holds are cancelled, and a copy waiting for them goes to
/// the next in line; their loan history stays.
async fn a_member_is_deleted_as_at_a_desk(b: Backend) {
    let s = Server::start(b).await;
    let admin = s.user("admin@example.org").await;
    let l = setup(&s, &admin).await;
    let (base, title) = (&l.base, &l.title);
    let mut ids = Vec::new();
    for card in ["P1", "P2", "P3"] {
        let r = s.post(&format!("{base}/members"), &admin.auth(), json!({ "card": card, "name": card, "member_type": "adult" })).await;
        r.expect(201, "");
        ids.push(r.body["id"].as_str().unwrap().to_owned());
    }
    s.post(&format!("{base}/titles/{title}/copies"), &admin.auth(), json!({ "barcode": "D1" })).await.expect(201, "");
    s.post(&format!("{base}/checkout"), &admin.auth(), json!({ "barcode": "D1", "card": "P3" })).await.expect(201, "");
    let holds = format!("{base}/titles/{title}/holds");
    s.post(&holds, &admin.auth(), json!({ "card": "P1" })).await.expect(201, "");
    s.post(&holds, &admin.auth(), json!({ "card": "P2" })).await.expect(201, "");
    let member = |i: usize| format!("{base}/members/{}", ids[i]);

    // P3 has the copy: refused, and nothing changed.
    let r = s.call(Method::DELETE, &member(2), &admin.auth(), None).await;
    r.expect(409, "member_has_loans");
    s.post(&format!("{base}/checkin"), &admin.auth(), json!({ "barcode": "D1" })).await.expect(200, "");
    let queue = s.get(&holds, &admin.auth()).await;
    assert_eq!(queue.body["items"][0]["status"], "ready", "D1 waits for P1");

    // P1 goes: their ready hold is cancelled and D1 waits for P2 instead.
    s.call(Method::DELETE, &member(0), &admin.auth(), None).await.expect(204, "");
    s.get(&member(0), &admin.auth()).await.expect(404, "not_found");
    s.call(Method::DELETE, &member(0), &admin.auth(), None).await.expect(404, "not_found");
    let queue = s.get(&holds, &admin.auth()).await;
    let active: Vec<(&str, &str)> =
        queue.body["items"].as_array().unwrap().iter().map(|h| (h["card"].as_str().unwrap(), h["status"].as_str().unwrap())).collect();
    assert_eq!(active, [("P2", "ready")], "{}", queue.text);
    // P3 returned the copy: now P3 may go, and the loan stays in the history.
    s.call(Method::DELETE, &member(2), &admin.auth(), None).await.expect(204, "");
    let loans: i64 = sqlx::query("SELECT COUNT(*) AS n FROM loans WHERE member_id = $1")
        .bind(&ids[2])
        .fetch_one(&s.state.db.pool)
        .await
        .unwrap()
        .get("n");
    assert_eq!(loans, 1);
    s.shutdown().await;
}
both!(a_member_is_deleted_as_at_a_desk);
