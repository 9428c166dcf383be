//! The OpenAPI document: generated from the handlers, served, and checked
//! in at `crates/server/openapi.json` so API changes show in review.
//! `UPDATE_OPENAPI=1 cargo test -p shelfkeeper-server openapi` rewrites it.

use crate::support::{Auth, Backend, Server};
use serde_json::Value;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openapi_is_served_and_checked_in() {
    let current = shelfkeeper_server::routes::openapi_json();
    let s = Server::start(Backend::Sqlite).await;
    let served = s.get("/api/v1/openapi.json", &Auth::None).await;
    served.expect(200, "");
    assert_eq!(served.body, serde_json::from_str::<Value>(&current).unwrap());
    let spec: Value = serde_json::from_str(&current).unwrap();
    assert!(spec["paths"]["/api/v1/auth/login"]["post"].is_object());
    assert!(spec["paths"]["/api/v1/libraries/{lib}/titles"]["get"]["parameters"].as_array().unwrap().iter().any(|p| p["name"] == "q"));
    assert_eq!(spec["components"]["securitySchemes"]["api_key"]["name"], "X-API-Key");
    assert_eq!(spec["components"]["securitySchemes"]["bearer"]["scheme"], "bearer");

    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi.json");
    if std::env::var_os("UPDATE_OPENAPI").is_some() {
        std::fs::write(path, &current).unwrap();
        return;
    }
    let checked_in = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        checked_in == current,
        "crates/server/openapi.json is stale: run `UPDATE_OPENAPI=1 cargo test -p shelfkeeper-server openapi` and commit it"
    );
    s.shutdown().await;
}

/// `METHOD /path` with every id segment as `{}`, for comparing route lists.
pub fn route_key(method: &str, path: &str) -> String {
    let path = path.split('?').next().unwrap_or_default();
    let segs: Vec<&str> =
        path.split('/').map(|seg| if seg.starts_with('{') || uuid::Uuid::parse_str(seg).is_ok() { "{}" } else { seg }).collect();
    format!("{} {}", method.to_uppercase(), segs.join("/"))
}

/// Every route in the document, as `route_key`s.
pub fn documented_routes() -> std::collections::BTreeSet<String> {
    let spec: Value = serde_json::from_str(&shelfkeeper_server::routes::openapi_json()).unwrap();
    let mut out = std::collections::BTreeSet::new();
    for (path, item) in spec["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            if ["get", "post", "put", "delete", "patch"].contains(&method.as_str()) {
                out.insert(route_key(method, path));
            }
        }
    }
    out
}
