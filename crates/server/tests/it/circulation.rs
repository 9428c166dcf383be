//! Members and the circulation desk: domain rules over the server's
//! storage, members acting for themselves, the event log, reports, and a
//! race for one copy.

use crate::both;
use crate::support::{Backend, Server};
use reqwest::Method;
use serde_json::json;
use sqlx::Row;

async fn desk_loans_renewals_and_history(b: Backend) {
    let s = Server::start(b).await;
    let admin = s.user("admin@example.org").await;
    let patron = s.user("patron@example.org").await;
    let lib = s.post("/api/v1/libraries", &admin.auth(), json!({ "name": "Main" })).await.body["id"].as_str().unwrap().to_owned();
    let base = format!("/api/v1/libraries/{lib}");
    s.call(Method::PUT, &format!("{base}/memberships"), &admin.auth(), Some(json!({ "email": "patron@example.org", "role": "member" })))
        .await
        .expect(200, "");
    let title = s.post(&format!("{base}/titles"), &admin.auth(), json!({ "title": "Dune" })).await.body["id"].as_str().unwrap().to_owned();
    let other = s.post(&format!("{base}/titles"), &admin.auth(), json!({ "title": "Emma" })).await.body["id"].as_str().unwrap().to_owned();
    for (t, bc) in [(&title, "B1"), (&title, "B2"), (&other, "E1")] {
        s.post(&format!("{base}/titles/{t}/copies"), &admin.auth(), json!({ "barcode": bc })).await.expect(201, "");
    }

    let m1 = s
        .post(
            &format!("{base}/members"),
            &admin.auth(),
            json!({ "card": "m1", "name": "Pat", "member_type": "adult", "account_email": "patron@example.org" }),
        )
        .await;
    m1.expect(201, "");
    assert_eq!(m1.body["card"], "M1");
    let m1_id = m1.body["id"].as_str().unwrap().to_owned();
    let m2_id =
        s.post(&format!("{base}/members"), &admin.auth(), json!({ "card": "M2", "name": "Sam", "member_type": "child" })).await.body["id"]
            .as_str()
            .unwrap()
            .to_owned();
    s.post(&format!("{base}/members"), &admin.auth(), json!({ "card": "M2", "name": "Twin", "member_type": "adult" }))
        .await
        .expect(409, "duplicate_card");
    s.post(&format!("{base}/members"), &admin.auth(), json!({ "card": "M9", "name": "X", "member_type": "wizard" }))
        .await
        .expect(404, "member_type_not_found");
    s.post(&format!("{base}/members"), &admin.auth(), json!({ "card": "M9", "name": "", "member_type": "adult" }))
        .await
        .expect(422, "invalid");
    s.post(
        &format!("{base}/members"),
        &admin.auth(),
        json!({ "card": "M3", "name": "Old", "member_type": "adult", "expires_on": "2020-01-01" }),
    )
    .await
    .expect(201, "");

    // Loan rules: the defaults, changed by an admin.
    let types = s.get(&format!("{base}/member-types"), &admin.auth()).await;
    let codes: Vec<&str> = types.body["items"].as_array().unwrap().iter().map(|t| t["code"].as_str().unwrap()).collect();
    assert_eq!(codes, ["adult", "child", "friend", "staff"]);
    let rules = json!({ "name": "Child", "loan_days": 7, "max_renewals": 2, "max_loans": 10, "hold_pickup_days": 5 });
    s.call(Method::PUT, &format!("{base}/member-types/child"), &admin.auth(), Some(rules.clone())).await.expect(200, "");
    s.call(Method::PUT, &format!("{base}/member-types/child"), &patron.auth(), Some(rules)).await.expect(403, "permission_denied");
    let bad = json!({ "name": "Child", "loan_days": 0, "max_renewals": 2, "max_loans": 10, "hold_pickup_days": 5 });
    s.call(Method::PUT, &format!("{base}/member-types/child"), &admin.auth(), Some(bad)).await.expect(422, "invalid");

    let today = chrono::Utc::now().date_naive();
    let r = s.post(&format!("{base}/checkout"), &admin.auth(), json!({ "barcode": " b1\n", "card": "M1" })).await;
    r.expect(201, "");
    assert_eq!(r.body["due_on"], (today + chrono::Days::new(21)).to_string(), "adult: 21 days");
    assert_eq!(r.body["title"], "Dune");
    let again = s.post(&format!("{base}/checkout"), &admin.auth(), json!({ "barcode": "B1", "card": "M2" })).await;
    again.expect(409, "copy_on_loan");
    assert!(again.body["error"]["message"].as_str().unwrap().contains("M1"), "{again:?}");
    s.post(&format!("{base}/checkout"), &admin.auth(), json!({ "barcode": "B404", "card": "M2" })).await.expect(404, "copy_not_found");
    s.post(&format!("{base}/checkout"), &admin.auth(), json!({ "barcode": "B2", "card": "M404" })).await.expect(404, "member_not_found");
    s.post(&format!("{base}/checkout"), &admin.auth(), json!({ "barcode": "B2", "card": "M3" })).await.expect(409, "member_expired");
    let r = s.post(&format!("{base}/checkout"), &admin.auth(), json!({ "barcode": "B2", "card": "M2" })).await;
    r.expect(201, "");
    assert_eq!(r.body["due_on"], (today + chrono::Days::new(7)).to_string(), "child: 7 days, as changed above");
    s.call(Method::DELETE, &format!("{base}/copies/{}", r.body["copy_id"].as_str().unwrap()), &admin.auth(), None)
        .await
        .expect(409, "copy_in_circulation");

    // The member sees and renews their own loan, not someone else's.
    let mine = s.get(&format!("{base}/me/loans"), &patron.auth()).await;
    assert_eq!(mine.body["items"].as_array().unwrap().len(), 1);
    assert_eq!(mine.body["items"][0]["barcode"], "B1");
    s.get(&format!("{base}/members/{m1_id}"), &patron.auth()).await.expect(200, "");
    s.get(&format!("{base}/members/{m2_id}"), &patron.auth()).await.expect(404, "not_found");
    s.get(&format!("{base}/members/{m2_id}/loans"), &patron.auth()).await.expect(404, "not_found");
    s.post(&format!("{base}/renew"), &patron.auth(), json!({ "barcode": "B2" })).await.expect(403, "permission_denied");
    s.post(&format!("{base}/checkout"), &patron.auth(), json!({ "barcode": "E1", "card": "M1" })).await.expect(403, "permission_denied");
    for n in 1..=2 {
        let r = s.post(&format!("{base}/renew"), &patron.auth(), json!({ "barcode": "B1" })).await;
        r.expect(200, "");
        assert_eq!(r.body["renewals"], n);
    }
    s.post(&format!("{base}/renew"), &admin.auth(), json!({ "barcode": "B1" })).await.expect(409, "renewal_limit_reached");

    let r = s.post(&format!("{base}/checkin"), &admin.auth(), json!({ "barcode": "B1" })).await;
    r.expect(200, "");
    assert!(r.body["loan"]["returned"].is_string());
    assert_eq!(r.body["loan"]["overdue_days"], 0);
    assert_eq!(r.body["found"], false);
    assert!(r.body["hold_shelf_for"].is_null());
    s.post(&format!("{base}/checkin"), &admin.auth(), json!({ "barcode": "B1" })).await.expect(409, "copy_not_on_loan");
    s.post(&format!("{base}/checkout"), &admin.auth(), json!({ "barcode": "B1", "card": "M2" })).await.expect(201, "");
    // A blocked member cannot borrow until the block is lifted.
    let b = s.call(Method::PUT, &format!("{base}/members/{m1_id}/block"), &admin.auth(), Some(json!({ "reason": "unpaid fines" }))).await;
    b.expect(200, "");
    assert_eq!((b.body["blocked"].as_bool(), b.body["block_reason"].as_str()), (Some(true), Some("unpaid fines")));
    let r = s.post(&format!("{base}/checkout"), &admin.auth(), json!({ "barcode": "E1", "card": "M1" })).await;
    r.expect(409, "member_blocked");
    assert!(r.body["error"]["message"].as_str().unwrap().contains("unpaid fines"));
    s.call(Method::PUT, &format!("{base}/members/{m1_id}/block"), &patron.auth(), Some(json!({ "reason": "x" })))
        .await
        .expect(403, "permission_denied");
    s.call(Method::PUT, &format!("{base}/members/{m1_id}/block"), &admin.auth(), Some(json!({ "reason": " " })))
        .await
        .expect(422, "invalid");
    s.call(Method::DELETE, &format!("{base}/members/{m1_id}/block"), &admin.auth(), None).await.expect(200, "");
    s.post(&format!("{base}/checkout"), &admin.auth(), json!({ "barcode": "E1", "card": "M1" })).await.expect(201, "");

    // History: newest first, open filter.
    let hist = s.get(&format!("{base}/members/{m1_id}/loans"), &admin.auth()).await;
    let bcs: Vec<&str> = hist.body["items"].as_array().unwrap().iter().map(|l| l["barcode"].as_str().unwrap()).collect();
    assert_eq!(bcs, ["E1", "B1"]);
    let open = s.get(&format!("{base}/me/loans?open=true"), &patron.auth()).await;
    assert_eq!(open.body["items"].as_array().unwrap().len(), 1);

    // Reports.
    let pop = s.get(&format!("{base}/reports/popular-titles"), &admin.auth()).await;
    pop.expect(200, "");
    assert_eq!(pop.body["items"][0], json!({ "title_id": title, "title": "Dune", "loans": 3 }));
    assert_eq!(pop.body["items"][1]["loans"], 1);
    let pm = s.get(&format!("{base}/reports/loans-per-month"), &admin.auth()).await;
    assert_eq!(pm.body["items"], json!([{ "month": chrono::Utc::now().format("%Y-%m").to_string(), "loans": 4 }]));
    s.get(&format!("{base}/reports/popular-titles"), &patron.auth()).await.expect(403, "permission_denied");

    // The event log: every desk action, each pointing at the copy's previous event.
    let rows = sqlx::query("SELECT e.id, e.kind, e.prev_event_id FROM circulation_events e JOIN copies c ON c.id = e.copy_id WHERE c.barcode = 'B1' AND e.library_id = $1 ORDER BY e.hlc")
        .bind(&lib)
        .fetch_all(&s.state.db.pool)
        .await
        .unwrap();
    let kinds: Vec<String> = rows.iter().map(|r| r.get("kind")).collect();
    assert_eq!(kinds, ["checked_out", "renewed", "renewed", "checked_in", "checked_out"]);
    for w in rows.windows(2) {
        assert_eq!(w[1].get::<Option<String>, _>("prev_event_id"), Some(w[0].get::<String, _>("id")));
    }
    s.shutdown().await;
}
both!(desk_loans_renewals_and_history);

/// Twelve desks lend the same copy at once: exactly one loan exists after.
async fn one_copy_is_never_lent_twice(b: Backend) {
    let s = Server::start(b).await;
    let admin = s.user("admin@example.org").await;
    let lib = s.post("/api/v1/libraries", &admin.auth(), json!({ "name": "Main" })).await.body["id"].as_str().unwrap().to_owned();
    let base = format!("/api/v1/libraries/{lib}");
    let t = s.post(&format!("{base}/titles"), &admin.auth(), json!({ "title": "Contested" })).await.body["id"].as_str().unwrap().to_owned();
    s.post(&format!("{base}/titles/{t}/copies"), &admin.auth(), json!({ "barcode": "C1" })).await.expect(201, "");
    for i in 0..12 {
        s.post(&format!("{base}/members"), &admin.auth(), json!({ "card": format!("R{i}"), "name": "R", "member_type": "adult" }))
            .await
            .expect(201, "");
    }
    let tasks: Vec<_> = (0..12)
        .map(|i| {
            let req = s
                .http
                .post(s.url(&format!("{base}/checkout")))
                .bearer_auth(&admin.access)
                .json(&json!({ "barcode": "C1", "card": format!("R{i}") }));
            tokio::spawn(async move { req.send().await.unwrap().status().as_u16() })
        })
        .collect();
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.unwrap());
    }
    assert_eq!(statuses.iter().filter(|&&st| st == 201).count(), 1, "{statuses:?}");
    // The rest are refused as conflicts (or told to retry), never a 500.
    assert!(statuses.iter().all(|st| [201, 409, 503].contains(st)), "{statuses:?}");
    let n: i64 = sqlx::query("SELECT COUNT(*) AS n FROM loans WHERE library_id = $1 AND returned_at IS NULL")
        .bind(&lib)
        .fetch_one(&s.state.db.pool)
        .await
        .unwrap()
        .get("n");
    assert_eq!(n, 1);
    s.shutdown().await;
}
both!(one_copy_is_never_lent_twice);

/// A copy lost on loan ends the loan as lost; checking it in later finds it.
async fn lost_and_found(b: Backend) {
    let s = Server::start(b).await;
    let admin = s.user("admin@example.org").await;
    let lib = s.post("/api/v1/libraries", &admin.auth(), json!({ "name": "Main" })).await.body["id"].as_str().unwrap().to_owned();
    let base = format!("/api/v1/libraries/{lib}");
    let t = s.post(&format!("{base}/titles"), &admin.auth(), json!({ "title": "Gone" })).await.body["id"].as_str().unwrap().to_owned();
    s.post(&format!("{base}/titles/{t}/copies"), &admin.auth(), json!({ "barcode": "L1" })).await.expect(201, "");
    let m =
        s.post(&format!("{base}/members"), &admin.auth(), json!({ "card": "K1", "name": "K", "member_type": "adult" })).await.body["id"]
            .as_str()
            .unwrap()
            .to_owned();
    s.post(&format!("{base}/members"), &admin.auth(), json!({ "card": "K2", "name": "K2", "member_type": "adult" })).await.expect(201, "");
    s.post(&format!("{base}/checkout"), &admin.auth(), json!({ "barcode": "L1", "card": "K1" })).await.expect(201, "");
    s.post(&format!("{base}/titles/{t}/holds"), &admin.auth(), json!({ "card": "K2" })).await.expect(201, "");

    let r = s.post(&format!("{base}/lost"), &admin.auth(), json!({ "barcode": "L1" })).await;
    r.expect(200, "");
    assert!(r.body["loan"]["lost_at"].is_i64() && r.body["loan"]["returned_at"].is_null(), "{r:?}");
    s.post(&format!("{base}/lost"), &admin.auth(), json!({ "barcode": "L1" })).await.expect(409, "copy_lost");
    s.post(&format!("{base}/checkout"), &admin.auth(), json!({ "barcode": "L1", "card": "K2" })).await.expect(409, "copy_lost");
    assert_eq!(s.get(&format!("{base}/members/{m}/loans?open=true"), &admin.auth()).await.body["items"], json!([]));
    assert_eq!(s.get(&format!("{base}/titles/{t}"), &admin.auth()).await.body["copies"][0]["status"], "lost");

    // Found: checked in, no loan to close; the waiting hold gets it.
    let r = s.post(&format!("{base}/checkin"), &admin.auth(), json!({ "barcode": "L1" })).await;
    r.expect(200, "");
    assert_eq!((r.body["found"].as_bool(), r.body["loan"].is_null(), r.body["hold_shelf_for"].as_str()), (Some(true), true, Some("K2")));
    s.post(&format!("{base}/checkout"), &admin.auth(), json!({ "barcode": "L1", "card": "K2" })).await.expect(201, "");
    // Lost straight from the shelf: no loan ends.
    s.post(&format!("{base}/checkin"), &admin.auth(), json!({ "barcode": "L1" })).await.expect(200, "");
    let r = s.post(&format!("{base}/lost"), &admin.auth(), json!({ "barcode": "L1" })).await;
    assert!(r.body["loan"].is_null());
    let hist = s.get(&format!("{base}/members/{m}/loans"), &admin.auth()).await;
    assert!(hist.body["items"][0]["lost_at"].is_i64());
    s.shutdown().await;
}
both!(lost_and_found);

/// Twenty desks at once renew one loan, then return the copy while members
/// queue for it: each real change is one event, `max_renewals` holds, and
/// one hold (the first in line) is ready for the copy.
async fn concurrent_desks_at_one_copy_make_one_change_each(b: Backend) {
    let s = Server::start(b).await;
    let admin = s.user("admin@example.org").await;
    let lib = s.post("/api/v1/libraries", &admin.auth(), json!({ "name": "Main" })).await.body["id"].as_str().unwrap().to_owned();
    let base = format!("/api/v1/libraries/{lib}");
    let rules = json!({ "name": "Adult", "loan_days": 21, "max_renewals": 3, "max_loans": 10, "hold_pickup_days": 7 });
    s.call(Method::PUT, &format!("{base}/member-types/adult"), &admin.auth(), Some(rules)).await.expect(200, "");
    let t = s.post(&format!("{base}/titles"), &admin.auth(), json!({ "title": "Contested" })).await.body["id"].as_str().unwrap().to_owned();
    s.post(&format!("{base}/titles/{t}/copies"), &admin.auth(), json!({ "barcode": "C1" })).await.expect(201, "");
    for i in 0..4 {
        s.post(&format!("{base}/members"), &admin.auth(), json!({ "card": format!("R{i}"), "name": "R", "member_type": "adult" }))
            .await
            .expect(201, "");
    }
    s.post(&format!("{base}/checkout"), &admin.auth(), json!({ "barcode": "C1", "card": "R0" })).await.expect(201, "");
    let at_once = |path: &str, bodies: Vec<serde_json::Value>| {
        let tasks: Vec<_> = bodies
            .into_iter()
            .map(|body| {
                let req = s.http.post(s.url(&format!("{base}/{path}"))).bearer_auth(&admin.access).json(&body);
                tokio::spawn(async move { req.send().await.unwrap().status().as_u16() })
            })
            .collect();
        async move {
            let mut out = Vec::new();
            for t in tasks {
                out.push(t.await.unwrap());
            }
            out
        }
    };
    let count = |sql: &'static str| {
        let (pool, lib) = (s.state.db.pool.clone(), lib.clone());
        async move { sqlx::query(sql).bind(lib).fetch_one(&pool).await.unwrap().get::<i64, _>("n") }
    };

    let renewed = at_once("renew", vec![json!({ "barcode": "C1" }); 20]).await;
    assert_eq!(renewed.iter().filter(|&&st| st == 200).count(), 3, "max_renewals is 3: {renewed:?}");
    assert!(renewed.iter().all(|st| [200, 409, 503].contains(st)), "{renewed:?}");
    assert_eq!(count("SELECT MAX(renewals) AS n FROM loans WHERE library_id = $1").await, 3);
    assert_eq!(count("SELECT COUNT(*) AS n FROM circulation_events WHERE library_id = $1 AND kind = 'renewed'").await, 3);

    // Three members queue for the title (the first asks twenty times at
    // once: one hold), then twenty desks return the copy.
    let placed = at_once(&format!("titles/{t}/holds"), vec![json!({ "card": "R1" }); 20]).await;
    assert_eq!(placed.iter().filter(|&&st| st == 201).count(), 1, "{placed:?}");
    assert!(placed.iter().all(|st| [201, 409, 503].contains(st)), "{placed:?}");
    for i in 2..4 {
        s.post(&format!("{base}/titles/{t}/holds"), &admin.auth(), json!({ "card": format!("R{i}") })).await.expect(201, "");
    }
    let returned = at_once("checkin", vec![json!({ "barcode": "C1" }); 20]).await;
    assert_eq!(returned.iter().filter(|&&st| st == 200).count(), 1, "{returned:?}");
    assert!(returned.iter().all(|st| [200, 409, 503].contains(st)), "{returned:?}");
    assert_eq!(count("SELECT COUNT(*) AS n FROM circulation_events WHERE library_id = $1 AND kind = 'checked_in'").await, 1);
    assert_eq!(count("SELECT COUNT(*) AS n FROM circulation_events WHERE library_id = $1 AND kind = 'trapped_for_hold'").await, 1);
    assert_eq!(count("SELECT COUNT(*) AS n FROM holds WHERE library_id = $1 AND status = 'ready'").await, 1);
    assert_eq!(count("SELECT COUNT(*) AS n FROM holds WHERE library_id = $1").await, 3);
    assert_eq!(count("SELECT COUNT(*) AS n FROM loans WHERE library_id = $1 AND returned_at IS NULL").await, 0);
    s.shutdown().await;
}
both!(concurrent_desks_at_one_copy_make_one_change_each);
