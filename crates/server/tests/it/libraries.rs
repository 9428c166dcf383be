//! Libraries and memberships; isolation between libraries.

use crate::both;
use crate::support::{Backend, Server};
use reqwest::Method;
use serde_json::json;

async fn libraries_memberships_and_isolation(b: Backend) {
    let s = Server::start(b).await;
    let ada = s.user("ada@example.org").await;
    let bob = s.user("bob@example.org").await;
    let r = s.post("/api/v1/libraries", &ada.auth(), json!({ "name": "  North Branch " })).await;
    r.expect(201, "");
    assert_eq!((r.body["name"].as_str(), r.body["role"].as_str()), (Some("North Branch"), Some("admin")));
    let lib = r.body["id"].as_str().unwrap().to_owned();
    assert_eq!(uuid::Uuid::parse_str(&lib).unwrap().get_version_num(), 7);
    let bobs = s.post("/api/v1/libraries", &bob.auth(), json!({ "name": "Bob's books" })).await.body["id"].as_str().unwrap().to_owned();

    let mine = s.get("/api/v1/libraries", &ada.auth()).await;
    assert_eq!(mine.body["items"].as_array().unwrap().len(), 1);
    assert_eq!(mine.body["items"][0]["id"], lib.as_str());

    // Bob's library and a library that does not exist look the same to Ada.
    let theirs = s.get(&format!("/api/v1/libraries/{bobs}"), &ada.auth()).await;
    let nowhere = s.get(&format!("/api/v1/libraries/{}", uuid::Uuid::now_v7()), &ada.auth()).await;
    theirs.expect(404, "not_found");
    assert_eq!(theirs.text, nowhere.text);
    let theirs = s.get(&format!("/api/v1/libraries/{bobs}/memberships"), &ada.auth()).await;
    let nowhere = s.get(&format!("/api/v1/libraries/{}/memberships", uuid::Uuid::now_v7()), &ada.auth()).await;
    assert_eq!((theirs.status, &theirs.text), (nowhere.status, &nowhere.text));
    s.call(
        Method::PUT,
        &format!("/api/v1/libraries/{bobs}/memberships"),
        &ada.auth(),
        Some(json!({ "email": "ada@example.org", "role": "admin" })),
    )
    .await
    .expect(404, "not_found");

    // Ada adds Bob as a member, then makes him librarian.
    let path = format!("/api/v1/libraries/{lib}/memberships");
    s.call(Method::PUT, &path, &ada.auth(), Some(json!({ "email": "Bob@example.org", "role": "member" }))).await.expect(200, "");
    assert_eq!(s.get(&format!("/api/v1/libraries/{lib}"), &bob.auth()).await.body["role"], "member");
    s.get(&path, &bob.auth()).await.expect(403, "permission_denied");
    s.call(Method::PUT, &path, &bob.auth(), Some(json!({ "email": "bob@example.org", "role": "admin" })))
        .await
        .expect(403, "permission_denied");
    s.call(Method::PUT, &path, &ada.auth(), Some(json!({ "email": "bob@example.org", "role": "librarian" }))).await.expect(200, "");
    let list = s.get(&path, &ada.auth()).await;
    let roles: Vec<(String, String)> = list.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["email"].as_str().unwrap().into(), m["role"].as_str().unwrap().into()))
        .collect();
    assert_eq!(roles, vec![("ada@example.org".into(), "admin".into()), ("bob@example.org".into(), "librarian".into())]);
    s.call(Method::PUT, &path, &ada.auth(), Some(json!({ "email": "nobody@example.org", "role": "member" })))
        .await
        .expect(404, "account_not_found");
    s.call(Method::PUT, &path, &ada.auth(), Some(json!({ "email": "bob@example.org", "role": "owner" }))).await.expect(422, "invalid");

    // The last admin cannot leave or step down.
    let ada_id = s.get("/api/v1/auth/me", &ada.auth()).await.body["id"].as_str().unwrap().to_owned();
    let bob_id = s.get("/api/v1/auth/me", &bob.auth()).await.body["id"].as_str().unwrap().to_owned();
    s.call(Method::DELETE, &format!("{path}/{ada_id}"), &ada.auth(), None).await.expect(409, "last_admin");
    s.call(Method::PUT, &path, &ada.auth(), Some(json!({ "email": "ada@example.org", "role": "member" }))).await.expect(409, "last_admin");
    // Removing Bob takes the library away from him at once.
    s.call(Method::DELETE, &format!("{path}/{bob_id}"), &ada.auth(), None).await.expect(204, "");
    s.get(&format!("/api/v1/libraries/{lib}"), &bob.auth()).await.expect(404, "not_found");
    s.call(Method::DELETE, &format!("{path}/{bob_id}"), &ada.auth(), None).await.expect(404, "not_found");
    s.shutdown().await;
}
both!(libraries_memberships_and_isolation);

/// Two administrators stepping each other down at the same moment: the
/// check and the write are one transaction, so one of them stays admin.
async fn two_admins_demoting_each_other_leave_one(b: Backend) {
    let s = Server::start(b).await;
    let ada = s.user("ada@example.org").await;
    let bob = s.user("bob@example.org").await;
    let (ada_auth, bob_auth) = (ada.auth(), bob.auth());
    for round in 0..10 {
        let lib = s.post("/api/v1/libraries", &ada.auth(), json!({ "name": format!("Race {round}") })).await.body["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let path = format!("/api/v1/libraries/{lib}/memberships");
        s.call(Method::PUT, &path, &ada.auth(), Some(json!({ "email": "bob@example.org", "role": "admin" }))).await.expect(200, "");
        let (a, b) = tokio::join!(
            s.call(Method::PUT, &path, &ada_auth, Some(json!({ "email": "bob@example.org", "role": "member" }))),
            s.call(Method::PUT, &path, &bob_auth, Some(json!({ "email": "ada@example.org", "role": "member" }))),
        );
        let ok = [&a, &b].iter().filter(|r| r.status == 200).count();
        assert!(ok <= 1, "round {round}: both demotions went through: {a:?} {b:?}");
        let admins: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM memberships WHERE library_id = $1 AND role = 'admin'")
            .bind(&lib)
            .fetch_one(&s.state.db.pool)
            .await
            .unwrap();
        assert!(admins >= 1, "round {round}: the library has no administrator left");
    }
    s.shutdown().await;
}
both!(two_admins_demoting_each_other_leave_one);
