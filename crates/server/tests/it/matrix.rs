//! Every protected route × every kind of caller, with the expected status in
//! a table. Columns: no credentials, admin, librarian, member, member of
//! another library, expired token, revoked token, refresh token used as an
//! access token, token of the wrong type, the librarian's API key.

use crate::both;
use crate::support::{Auth, Backend, PASSWORD, Server, claims_of, forge};
use reqwest::Method;
use serde_json::{Value, json};

/// Routes that need no credentials (tested in `public_routes_need_no_credentials`).
const PUBLIC: [(&str, &str); 9] = [
    ("POST", "/api/v1/auth/register"),
    ("POST", "/api/v1/auth/verify-email/resend"),
    ("POST", "/api/v1/auth/login"),
    ("POST", "/api/v1/auth/refresh"),
    ("GET", "/api/v1/auth/verify-email"),
    ("POST", "/api/v1/auth/password-reset"),
    ("POST", "/api/v1/auth/password-reset/confirm"),
    ("GET", "/healthz"),
    ("GET", "/metrics"),
];

const COLUMNS: [&str; 10] =
    ["none", "admin", "librarian", "member", "other_library", "expired", "revoked", "refresh_as_access", "wrong_type", "api_key"];

struct Row {
    method: Method,
    path: &'static str,
    body: Option<Value>,
    expect: [u16; 10],
}

fn row(method: Method, path: &'static str, body: Option<Value>, expect: [u16; 10]) -> Row {
    Row { method, path, body, expect }
}

async fn every_route_checks_the_caller(b: Backend) {
    let s = Server::start(b).await;
    let admin = s.user("admin@example.org").await;
    let librarian = s.user("librarian@example.org").await;
    let member = s.user("member@example.org").await;
    let outsider = s.user("outsider@example.org").await;
    let lib = s.post("/api/v1/libraries", &admin.auth(), json!({ "name": "Main" })).await.body["id"].as_str().unwrap().to_owned();
    s.post("/api/v1/libraries", &outsider.auth(), json!({ "name": "Elsewhere" })).await.expect(201, "");
    for (email, role) in [("librarian@example.org", "librarian"), ("member@example.org", "member")] {
        s.call(Method::PUT, &format!("/api/v1/libraries/{lib}/memberships"), &admin.auth(), Some(json!({ "email": email, "role": role })))
            .await
            .expect(200, "");
    }
    let outsider_id = s.get("/api/v1/auth/me", &outsider.auth()).await.body["id"].as_str().unwrap().to_owned();
    let title = s.post(&format!("/api/v1/libraries/{lib}/titles"), &admin.auth(), json!({ "title": "Matrix" })).await.body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let copy =
        s.post(&format!("/api/v1/libraries/{lib}/titles/{title}/copies"), &admin.auth(), json!({ "barcode": "MX0" })).await.body["id"]
            .as_str()
            .unwrap()
            .to_owned();
    let nothing = uuid::Uuid::now_v7().to_string();
    let circ = s.post(&format!("/api/v1/libraries/{lib}/titles/{title}/copies"), &admin.auth(), json!({ "barcode": "MXC" })).await;
    circ.expect(201, "");
    let patron = s
        .post(
            &format!("/api/v1/libraries/{lib}/members"),
            &admin.auth(),
            json!({ "card": "MC0", "name": "Patron", "member_type": "adult" }),
        )
        .await
        .body["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let now = chrono::Utc::now().timestamp();
    let mut expired = claims_of(&member.access);
    expired["exp"] = json!(now - 60);
    let mut wrong_type = claims_of(&member.access);
    wrong_type["typ"] = json!("refresh");
    let revoked = s.login("member@example.org", PASSWORD).await;
    s.post("/api/v1/auth/logout", &revoked.auth(), json!({})).await.expect(204, "");
    let key = s
        .post("/api/v1/auth/api-keys", &librarian.auth(), json!({ "name": "matrix", "scopes": ["read", "circulation", "catalogue"] }))
        .await
        .body["key"]
        .as_str()
        .unwrap()
        .to_owned();

    let callers = [
        Auth::None,
        admin.auth(),
        librarian.auth(),
        member.auth(),
        outsider.auth(),
        Auth::Bearer(forge(expired)),
        revoked.auth(),
        Auth::Bearer(member.refresh.clone()),
        Auth::Bearer(forge(wrong_type)),
        Auth::ApiKey(key),
    ];

    use Method as M;
    // Logout comes last: it ends the sessions it is called with.
    let rows = vec![
        row(M::GET, "/api/v1/auth/me", None, [401, 200, 200, 200, 200, 401, 401, 401, 401, 200]),
        row(M::GET, "/api/v1/auth/api-keys", None, [401, 200, 200, 200, 200, 401, 401, 401, 401, 403]),
        row(M::POST, "/api/v1/auth/api-keys", Some(json!({ "name": "k" })), [401, 201, 201, 201, 201, 401, 401, 401, 401, 403]),
        row(
            M::DELETE,
            "/api/v1/auth/api-keys/00000000-0000-7000-8000-000000000000",
            None,
            [401, 404, 404, 404, 404, 401, 401, 401, 401, 403],
        ),
        // A weak new password: refused before anything changes.
        row(
            M::POST,
            "/api/v1/auth/password",
            Some(json!({ "current_password": PASSWORD, "new_password": "short" })),
            [401, 422, 422, 422, 422, 401, 401, 401, 401, 403],
        ),
        row(M::GET, "/api/v1/libraries", None, [401, 200, 200, 200, 200, 401, 401, 401, 401, 200]),
        row(M::POST, "/api/v1/libraries", Some(json!({ "name": "Another" })), [401, 201, 201, 201, 201, 401, 401, 401, 401, 403]),
        row(M::GET, "/api/v1/libraries/{lib}", None, [401, 200, 200, 200, 404, 401, 401, 401, 401, 200]),
        row(M::GET, "/api/v1/libraries/{lib}/memberships", None, [401, 200, 403, 403, 404, 401, 401, 401, 401, 403]),
        row(
            M::PUT,
            "/api/v1/libraries/{lib}/memberships",
            Some(json!({ "email": "member@example.org", "role": "member" })),
            [401, 200, 403, 403, 404, 401, 401, 401, 401, 403],
        ),
        row(M::DELETE, "/api/v1/libraries/{lib}/memberships/{outsider}", None, [401, 404, 403, 403, 404, 401, 401, 401, 401, 403]),
        row(M::GET, "/api/v1/libraries/{lib}/titles?q=matrix", None, [401, 200, 200, 200, 404, 401, 401, 401, 401, 200]),
        row(M::GET, "/api/v1/libraries/{lib}/titles/facets?q=matrix", None, [401, 200, 200, 200, 404, 401, 401, 401, 401, 200]),
        row(
            M::POST,
            "/api/v1/libraries/{lib}/titles",
            Some(json!({ "title": "New {i}" })),
            [401, 201, 201, 403, 404, 401, 401, 401, 401, 201],
        ),
        row(M::GET, "/api/v1/libraries/{lib}/titles/{title}", None, [401, 200, 200, 200, 404, 401, 401, 401, 401, 200]),
        row(
            M::PUT,
            "/api/v1/libraries/{lib}/titles/{title}",
            Some(json!({ "title": "Matrix {i}" })),
            [401, 200, 200, 403, 404, 401, 401, 401, 401, 200],
        ),
        // Deleting a title or copy that does not exist: the role check comes first.
        row(M::DELETE, "/api/v1/libraries/{lib}/titles/{nothing}", None, [401, 404, 404, 403, 404, 401, 401, 401, 401, 404]),
        row(
            M::POST,
            "/api/v1/libraries/{lib}/titles/{title}/copies",
            Some(json!({ "barcode": "MX{i}" })),
            [401, 201, 201, 403, 404, 401, 401, 401, 401, 201],
        ),
        row(
            M::PUT,
            "/api/v1/libraries/{lib}/copies/{copy}",
            Some(json!({ "barcode": "MX0-{i}" })),
            [401, 200, 200, 403, 404, 401, 401, 401, 401, 200],
        ),
        row(M::DELETE, "/api/v1/libraries/{lib}/copies/{nothing}", None, [401, 404, 404, 403, 404, 401, 401, 401, 401, 404]),
        row(M::GET, "/api/v1/libraries/{lib}/members", None, [401, 200, 200, 403, 404, 401, 401, 401, 401, 200]),
        row(
            M::POST,
            "/api/v1/libraries/{lib}/members",
            Some(json!({ "card": "C{i}", "name": "N", "member_type": "adult" })),
            [401, 201, 201, 403, 404, 401, 401, 401, 401, 201],
        ),
        // Someone else's member record: the member role is not told it exists.
        row(M::GET, "/api/v1/libraries/{lib}/members/{patron}", None, [401, 200, 200, 404, 404, 401, 401, 401, 401, 200]),
        row(
            M::PUT,
            "/api/v1/libraries/{lib}/members/{patron}",
            Some(json!({ "card": "MC0", "name": "P {i}", "member_type": "adult" })),
            [401, 200, 200, 403, 404, 401, 401, 401, 401, 200],
        ),
        row(M::DELETE, "/api/v1/libraries/{lib}/members/{nothing}", None, [401, 404, 404, 403, 404, 401, 401, 401, 401, 404]),
        row(M::GET, "/api/v1/libraries/{lib}/members/{patron}/loans", None, [401, 200, 200, 404, 404, 401, 401, 401, 401, 200]),
        row(
            M::PUT,
            "/api/v1/libraries/{lib}/members/{patron}/block",
            Some(json!({ "reason": "r{i}" })),
            [401, 200, 200, 403, 404, 401, 401, 401, 401, 200],
        ),
        row(M::DELETE, "/api/v1/libraries/{lib}/members/{patron}/block", None, [401, 200, 200, 403, 404, 401, 401, 401, 401, 200]),
        row(M::GET, "/api/v1/libraries/{lib}/member-types", None, [401, 200, 200, 403, 404, 401, 401, 401, 401, 200]),
        row(
            M::PUT,
            "/api/v1/libraries/{lib}/member-types/{code}",
            Some(json!({ "name": "Adult", "loan_days": 21, "max_renewals": 2, "max_loans": 20, "hold_pickup_days": 7 })),
            [401, 200, 403, 403, 404, 401, 401, 401, 401, 403],
        ),
        row(M::GET, "/api/v1/libraries/{lib}/me/loans", None, [401, 200, 200, 200, 404, 401, 401, 401, 401, 200]),
        // In order: the admin lends the copy, so later lenders find it out.
        row(
            M::POST,
            "/api/v1/libraries/{lib}/checkout",
            Some(json!({ "barcode": "MXC", "card": "MC0" })),
            [401, 201, 409, 403, 404, 401, 401, 401, 401, 409],
        ),
        // Two renewals allowed (adult), so the key's third is refused by the rules.
        row(
            M::POST,
            "/api/v1/libraries/{lib}/renew",
            Some(json!({ "barcode": "MXC" })),
            [401, 200, 200, 403, 404, 401, 401, 401, 401, 409],
        ),
        row(
            M::POST,
            "/api/v1/libraries/{lib}/checkin",
            Some(json!({ "barcode": "MXC" })),
            [401, 200, 409, 403, 404, 401, 401, 401, 401, 409],
        ),
        // The admin marks it lost; then it is lost for everyone after.
        row(M::POST, "/api/v1/libraries/{lib}/lost", Some(json!({ "barcode": "MXC" })), [401, 200, 409, 403, 404, 401, 401, 401, 401, 409]),
        row(M::GET, "/api/v1/libraries/{lib}/reports/popular-titles", None, [401, 200, 200, 403, 404, 401, 401, 401, 401, 200]),
        row(M::GET, "/api/v1/libraries/{lib}/reports/loans-per-month", None, [401, 200, 200, 403, 404, 401, 401, 401, 401, 200]),
        // Staff place a hold for a card; the key's account (librarian) finds it placed.
        row(
            M::POST,
            "/api/v1/libraries/{lib}/titles/{title}/holds",
            Some(json!({ "card": "MC0" })),
            [401, 201, 409, 403, 404, 401, 401, 401, 401, 409],
        ),
        row(M::GET, "/api/v1/libraries/{lib}/titles/{title}/holds", None, [401, 200, 200, 403, 404, 401, 401, 401, 401, 200]),
        row(M::DELETE, "/api/v1/libraries/{lib}/holds/{nothing}", None, [401, 404, 404, 404, 404, 401, 401, 401, 401, 404]),
        row(M::GET, "/api/v1/libraries/{lib}/me/holds", None, [401, 200, 200, 200, 404, 401, 401, 401, 401, 200]),
        row(M::GET, "/api/v1/libraries/{lib}/titles/{title}/reviews", None, [401, 200, 200, 200, 404, 401, 401, 401, 401, 200]),
        row(
            M::PUT,
            "/api/v1/libraries/{lib}/titles/{title}/review",
            Some(json!({ "rating": 4 })),
            [401, 200, 200, 200, 404, 401, 401, 401, 401, 200],
        ),
        // The librarian's session deletes its review first; its key then finds none.
        row(M::DELETE, "/api/v1/libraries/{lib}/titles/{title}/review", None, [401, 204, 204, 204, 404, 401, 401, 401, 401, 404]),
        // Sync: staff register devices and pull; admins list devices. A
        // push with no changes stores nothing for anyone in the library.
        row(
            M::POST,
            "/api/v1/libraries/{lib}/sync/devices",
            Some(json!({ "site_id": "00000000-0000-7000-8000-00000000000{i}", "name": "Desk {i}" })),
            [401, 201, 201, 403, 404, 401, 401, 401, 401, 201],
        ),
        row(M::GET, "/api/v1/libraries/{lib}/sync/devices", None, [401, 200, 403, 403, 404, 401, 401, 401, 401, 403]),
        row(
            M::POST,
            "/api/v1/libraries/{lib}/sync/push",
            Some(json!({ "protocol": 1, "site_id": "00000000-0000-7000-8000-000000000001", "changes": [] })),
            [401, 200, 200, 200, 404, 401, 401, 401, 401, 200],
        ),
        row(M::GET, "/api/v1/libraries/{lib}/sync/pull?after=0&limit=10", None, [401, 200, 200, 403, 404, 401, 401, 401, 401, 200]),
        row(
            M::POST,
            "/api/v1/libraries/{lib}/sync/pull",
            Some(json!({ "protocol": 1, "after": 0, "limit": 10 })),
            [401, 200, 200, 403, 404, 401, 401, 401, 401, 200],
        ),
        row(M::GET, "/api/v1/libraries/{lib}/sync/snapshot", None, [401, 200, 200, 403, 404, 401, 401, 401, 401, 200]),
        // Covers: staff upload (an empty body is no image: 422) and fetch
        // (an unknown id: 404); members neither.
        row(M::PUT, "/api/v1/libraries/{lib}/sync/covers/{nothing}", None, [401, 422, 422, 403, 404, 401, 401, 401, 401, 422]),
        row(M::GET, "/api/v1/libraries/{lib}/sync/covers/{nothing}", None, [401, 404, 404, 403, 404, 401, 401, 401, 401, 404]),
        row(M::POST, "/api/v1/auth/logout", Some(json!({})), [401, 204, 204, 204, 204, 401, 401, 401, 401, 403]),
    ];

    let mut failures = Vec::new();
    for r in &rows {
        let path = r
            .path
            .replace("{lib}", &lib)
            .replace("{outsider}", &outsider_id)
            .replace("{title}", &title)
            .replace("{copy}", &copy)
            .replace("{nothing}", &nothing)
            .replace("{patron}", &patron)
            .replace("{code}", "adult");
        for (i, caller) in callers.iter().enumerate() {
            // `{i}` in a body makes it unique per caller (barcodes are unique).
            let body = r.body.as_ref().map(|b| serde_json::from_str::<Value>(&b.to_string().replace("{i}", &i.to_string())).unwrap());
            let resp = s.call(r.method.clone(), &path, caller, body).await;
            let code = resp.code().to_owned();
            let want = r.expect[i];
            let code_ok = match want {
                401 => code == "unauthorized",
                403 => code == "forbidden" || code == "permission_denied",
                404 => code == "not_found",
                422 => code == "weak_password" || code == "invalid_cover",
                409 => !code.is_empty(),
                _ => resp.status.is_success(),
            };
            // Every answer has the shape the OpenAPI document gives it.
            if let Err(e) = crate::openapi::check_response(r.method.as_str(), r.path, resp.status.as_u16(), &resp.body) {
                failures.push(format!("{} as {}: {e}", r.path, COLUMNS[i]));
            }
            if resp.status.as_u16() != want || !code_ok {
                failures.push(format!(
                    "{} {} as {}: want {want}, got {} {}",
                    r.method,
                    r.path,
                    COLUMNS[i],
                    resp.status.as_u16(),
                    resp.text
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{} mismatches:\n{}", failures.len(), failures.join("\n"));
    // The table covers every documented route, and the document every route
    // of the table (the document is generated from the registered handlers).
    let mut walked: std::collections::BTreeSet<String> =
        rows.iter().map(|r| crate::openapi::route_key(r.method.as_str(), r.path)).collect();
    walked.extend(PUBLIC.iter().map(|(m, p)| crate::openapi::route_key(m, p)));
    let documented = crate::openapi::documented_routes();
    assert_eq!(walked.difference(&documented).collect::<Vec<_>>(), Vec::<&String>::new(), "walked but not documented");
    assert_eq!(documented.difference(&walked).collect::<Vec<_>>(), Vec::<&String>::new(), "documented but not in the matrix");
    // The member's own library membership was not changed by the PUT rows.
    assert_eq!(
        s.get(&format!("/api/v1/libraries/{lib}"), &Auth::Bearer(s.login("member@example.org", PASSWORD).await.access)).await.body["role"],
        "member"
    );
    s.shutdown().await;
}
both!(every_route_checks_the_caller);

/// The public routes answer without credentials, and ignore bad ones.
async fn public_routes_need_no_credentials(b: Backend) {
    let s = Server::start(b).await;
    let bogus = Auth::Bearer("garbage".into());
    for auth in [Auth::None, bogus] {
        s.post("/api/v1/auth/register", &auth, json!({ "email": "x", "password": PASSWORD })).await.expect(422, "invalid");
        s.post("/api/v1/auth/login", &auth, json!({ "email": "x@example.org", "password": PASSWORD }))
            .await
            .expect(401, "invalid_credentials");
        s.post("/api/v1/auth/refresh", &auth, json!({ "refresh_token": "x" })).await.expect(401, "invalid_refresh_token");
        s.get("/api/v1/auth/verify-email?token=x", &auth).await.expect(400, "invalid_token");
        s.post("/api/v1/auth/password-reset", &auth, json!({ "email": "x@example.org" })).await.expect(202, "");
        s.post("/api/v1/auth/verify-email/resend", &auth, json!({ "email": "x@example.org" })).await.expect(202, "");
        s.post("/api/v1/auth/password-reset/confirm", &auth, json!({ "token": "x", "new_password": "fine passphrase" }))
            .await
            .expect(400, "invalid_token");
        s.get("/healthz", &auth).await.expect(200, "");
        // No account is needed, but the scraper's own token is (ops.rs).
        s.get("/metrics", &auth).await.expect(401, "unauthorized");
        s.get("/api/v1/openapi.json", &auth).await.expect(200, "");
    }
    s.shutdown().await;
}
both!(public_routes_need_no_credentials);
