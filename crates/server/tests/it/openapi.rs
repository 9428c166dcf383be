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

/// Checks a response against the document: the operation of `method` and
/// `path` (ids or `{placeholders}`) must document `status` (or its class,
/// `4XX`), and a JSON body must fit that response's schema. Returns what
/// does not fit.
pub fn check_response(method: &str, path: &str, status: u16, body: &Value) -> Result<(), String> {
    static SPEC: std::sync::OnceLock<Value> = std::sync::OnceLock::new();
    let spec = SPEC.get_or_init(|| serde_json::from_str(&shelfkeeper_server::routes::openapi_json()).unwrap());
    let key = route_key(method, path);
    let op = spec["paths"]
        .as_object()
        .unwrap()
        .iter()
        .find(|(p, item)| route_key(method, p) == key && item.get(method.to_lowercase()).is_some())
        .map(|(_, item)| &item[method.to_lowercase()])
        .ok_or_else(|| format!("{key}: not in the document"))?;
    let class = format!("{}XX", status / 100);
    let resp = op["responses"].get(status.to_string()).or_else(|| op["responses"].get(&class)).ok_or_else(|| {
        format!("{key}: answered {status}, documented {:?}", op["responses"].as_object().map(|o| o.keys().collect::<Vec<_>>()))
    })?;
    match resp["content"]["application/json"].get("schema") {
        Some(schema) if !body.is_null() => fits(spec, schema, body, "body").map_err(|e| format!("{key} {status}: {e}")),
        Some(_) if status != 204 => Err(format!("{key} {status}: documented a JSON body, got none")),
        _ => Ok(()),
    }
}

/// A small JSON Schema check for what utoipa emits: `$ref`, `allOf`,
/// `oneOf`/`anyOf`, `type` (one or a list, `null` included), required and
/// typed properties, array items.
fn fits(spec: &Value, schema: &Value, v: &Value, at: &str) -> Result<(), String> {
    if let Some(r) = schema["$ref"].as_str() {
        let name = r.rsplit('/').next().unwrap();
        return fits(spec, &spec["components"]["schemas"][name], v, at);
    }
    if let Some(all) = schema["allOf"].as_array() {
        for s in all {
            fits(spec, s, v, at)?;
        }
    }
    for key in ["oneOf", "anyOf"] {
        if let Some(any) = schema[key].as_array()
            && !any.iter().any(|s| fits(spec, s, v, at).is_ok())
        {
            return Err(format!("{at}: fits none of {key}"));
        }
    }
    let types: Vec<&str> = match &schema["type"] {
        Value::String(t) => vec![t.as_str()],
        Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
        _ => vec![],
    };
    if !types.is_empty() {
        let ok = types.iter().any(|t| match *t {
            "null" => v.is_null(),
            "string" => v.is_string(),
            "integer" => v.is_i64() || v.is_u64(),
            "number" => v.is_number(),
            "boolean" => v.is_boolean(),
            "array" => v.is_array(),
            "object" => v.is_object(),
            _ => true,
        });
        if !ok {
            return Err(format!("{at}: {v} is not {types:?}"));
        }
    }
    if let (Some(obj), Some(props)) = (v.as_object(), schema["properties"].as_object()) {
        for req in schema["required"].as_array().into_iter().flatten().filter_map(Value::as_str) {
            if !obj.contains_key(req) {
                return Err(format!("{at}: required '{req}' missing"));
            }
        }
        for (k, s) in props {
            if let Some(x) = obj.get(k) {
                fits(spec, s, x, &format!("{at}.{k}"))?;
            }
        }
    }
    if let (Some(items), Some(arr)) = (schema.get("items"), v.as_array()) {
        for (i, x) in arr.iter().enumerate() {
            fits(spec, items, x, &format!("{at}[{i}]"))?;
        }
    }
    Ok(())
}
