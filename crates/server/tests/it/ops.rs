//! Operations and the error contract: health, metrics, request ids, the
//! binary's defaults and shutdown, and JSON errors for every bad input.

use crate::both;
use crate::support::{Auth, Backend, Server};
use reqwest::Method;
use serde_json::json;
use std::io::{BufRead, BufReader};
use std::time::Duration;

async fn health_metrics_and_request_ids(b: Backend) {
    let s = Server::start(b).await;
    let r = s.get("/healthz", &Auth::None).await;
    r.expect(200, "");
    assert_eq!(r.body, json!({ "status": "ok" }));
    let id = r.headers.get("x-request-id").expect("a request id is set").to_str().unwrap();
    assert_eq!(id.len(), 36, "a UUID: {id}");
    // A client's id is kept and echoed.
    let r = s.http.get(s.url("/healthz")).header("x-request-id", "client-chosen-42").send().await.unwrap();
    assert_eq!(r.headers()["x-request-id"], "client-chosen-42");
    s.get("/api/v1/nope", &Auth::None).await.expect(404, "not_found");
    // Only for the scraper holding the metrics token.
    s.get("/metrics", &Auth::None).await.expect(401, "unauthorized");
    s.get("/metrics", &Auth::Bearer("metrics-token-for-test".into())).await.expect(401, "unauthorized");
    let m = s.http.get(s.url("/metrics")).bearer_auth(crate::support::METRICS_TOKEN).send().await.unwrap();
    assert_eq!(m.status(), 200);
    assert!(m.headers()["content-type"].to_str().unwrap().starts_with("text/plain"));
    let text = m.text().await.unwrap();
    assert!(text.contains("shelfkeeper_http_requests_total{method=\"GET\",route=\"/healthz\",status=\"200\"}"), "{text}");
    assert!(text.contains("shelfkeeper_http_request_seconds_bucket"), "{text}");
    s.shutdown().await;
}
both!(health_metrics_and_request_ids);

async fn bad_input_gets_json_errors_never_500(b: Backend) {
    let s = Server::start_with(b, |c| c.max_body_bytes = 4096).await;
    let u = s.user("ada@example.org").await;
    s.get("/no/such/route", &Auth::None).await.expect(404, "not_found");
    s.call(Method::DELETE, "/healthz", &Auth::None, None).await.expect(405, "method_not_allowed");
    let raw = |body: &'static str, ctype: &'static str| {
        let req = s.http.post(s.url("/api/v1/libraries")).bearer_auth(&u.access).header("content-type", ctype).body(body);
        async move { crate::support::Resp::from(req.send().await.unwrap()).await }
    };
    raw("{\"name\": ", "application/json").await.expect(400, "bad_json");
    raw("name=x", "application/x-www-form-urlencoded").await.expect(415, "unsupported_media_type");
    raw("{\"name\": 42}", "application/json").await.expect(422, "invalid");
    raw("{\"name\": \"x\", \"extra\": 1}", "application/json").await.expect(422, "invalid");
    raw("[]", "application/json").await.expect(422, "invalid");
    let big = format!("{{\"name\": \"{}\"}}", "x".repeat(10_000));
    let r = s
        .http
        .post(s.url("/api/v1/libraries"))
        .bearer_auth(&u.access)
        .json(&serde_json::from_str::<serde_json::Value>(&big).unwrap())
        .send()
        .await
        .unwrap();
    crate::support::Resp::from(r).await.expect(413, "payload_too_large");
    // Over-long and control-character names are refused; none was stored.
    s.post("/api/v1/libraries", &u.auth(), json!({ "name": "x".repeat(201) })).await.expect(422, "invalid");
    s.post("/api/v1/libraries", &u.auth(), json!({ "name": "a\u{0}b" })).await.expect(422, "invalid");
    // NUL in any string of any body (PostgreSQL cannot store it): refused alike.
    s.post("/api/v1/auth/login", &Auth::None, json!({ "email": "ada@example.org\u{0}", "password": "x" })).await.expect(422, "invalid");
    s.post("/api/v1/auth/refresh", &Auth::None, json!({ "refresh_token": "\u{0}" })).await.expect(422, "invalid");
    s.post("/api/v1/auth/register", &Auth::None, json!({ "email": "<script>alert(1)</script>", "password": "long enough pass" }))
        .await
        .expect(422, "invalid");
    s.post("/api/v1/auth/register", &Auth::None, json!({ "email": "x@example.org", "password": ["array"] })).await.expect(422, "invalid");
    let r = s.get("/api/v1/libraries", &u.auth()).await;
    assert_eq!(r.body["items"], json!([]), "nothing stored: {r:?}");
    // SQL and HTML in a field are data: stored and returned verbatim.
    let evil = "'); DROP TABLE libraries; -- <b>x</b>";
    let r = s.post("/api/v1/libraries", &u.auth(), json!({ "name": evil })).await;
    r.expect(201, "");
    assert_eq!(r.body["name"], evil);
    let r = s.get("/api/v1/libraries", &u.auth()).await;
    assert_eq!(r.body["items"][0]["name"], evil);
    // A malformed path id is a 404 like any unknown id.
    s.get("/api/v1/libraries/%00%27", &u.auth()).await.expect(404, "not_found");
    s.call(Method::GET, "/api/v1/auth/verify-email", &Auth::None, None).await.expect(400, "bad_query");
    s.shutdown().await;
}
both!(bad_input_gets_json_errors_never_500);

/// The real binary with no settings: listens, puts its SQLite file in the XDG
/// data directory, answers, and exits cleanly on SIGTERM.
#[test]
fn binary_starts_on_defaults_and_stops_on_sigterm() {
    let home = tempfile::tempdir().unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_shelfkeeper-server"))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", home.path())
        .env("XDG_DATA_HOME", home.path().join("data"))
        .env("SHELFKEEPER_SERVER_LISTEN", "127.0.0.1:0")
        .env("SHELFKEEPER_SERVER_LOG_FORMAT", "json")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let addr = loop {
        let line = lines.next().expect("the server logs its address").unwrap();
        let v: serde_json::Value = serde_json::from_str(&line).unwrap_or_default();
        if let Some(a) = v["listen"].as_str() {
            break a.to_owned();
        }
    };
    assert!(home.path().join("data/shelfkeeper-server/shelfkeeper-server.sqlite3").exists());
    assert!(home.path().join("data/shelfkeeper-server/token-secret").exists());
    let rt = tokio::runtime::Runtime::new().unwrap();
    let status = rt.block_on(async {
        crate::support::http_client()
            .get(format!("http://{addr}/healthz"))
            .header("x-request-id", "bin-test-req-7")
            .send()
            .await
            .unwrap()
            .status()
    });
    assert_eq!(status, 200);
    // A structured log line for the response, carrying the request id.
    let line = loop {
        let line = lines.next().expect("a log line for the request").unwrap();
        if line.contains("bin-test-req-7") {
            break line;
        }
    };
    let v: serde_json::Value = serde_json::from_str(&line).unwrap();
    assert_eq!(v["level"], "INFO", "{line}");
    assert!(v["status"].to_string().contains("200") && v.to_string().contains("/healthz"), "{line}");
    let kill = std::process::Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(kill.success());
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let exit = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        assert!(std::time::Instant::now() < deadline, "still running 10 s after SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(exit.success(), "{exit:?}");
}

#[test]
fn binary_names_a_bad_setting_and_exits_2() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_shelfkeeper-server"))
        .env_clear()
        .env("HOME", "/nonexistent")
        .env("SHELFKEEPER_SERVER_LISTEN", "not-an-address")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("SHELFKEEPER_SERVER_LISTEN") && err.contains("listen"), "{err}");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_shelfkeeper-server"))
        .env_clear()
        .arg("--config")
        .arg("/nonexistent/server.toml")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/server.toml"));
}

/// The operator command disables an account on the configured database;
/// the running server refuses its tokens at once.
async fn account_disable_command(b: Backend) {
    let s = Server::start(b).await;
    let u = s.user("ada@example.org").await;
    let data = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_shelfkeeper-server"))
            .env_clear()
            .env("HOME", data.path())
            .env("SHELFKEEPER_SERVER_DATA_DIR", data.path())
            .env("SHELFKEEPER_SERVER_DATABASE_URL", &s.db_url)
            .args(args)
            .output()
            .unwrap()
    };
    let out = run(&["account", "disable", "Ada@example.org"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "account ada@example.org disabled");
    s.get("/api/v1/auth/me", &u.auth()).await.expect(401, "unauthorized");
    s.post("/api/v1/auth/login", &Auth::None, json!({ "email": "ada@example.org", "password": crate::support::PASSWORD }))
        .await
        .expect(403, "account_disabled");
    assert!(run(&["account", "enable", "ada@example.org"]).status.success());
    s.login("ada@example.org", crate::support::PASSWORD).await;
    let out = run(&["account", "disable", "nobody@example.org"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("nobody@example.org"));
    assert_eq!(run(&["acount", "disable", "x"]).status.code(), Some(2));
    s.shutdown().await;
}
both!(account_disable_command);

/// Shutdown stops taking connections but finishes a request in flight: here
/// one whose body is still arriving when the signal comes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_finishes_requests_in_flight() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let s = Server::start(Backend::Sqlite).await;
    let addr = s.base.trim_start_matches("http://").to_owned();
    let body = r#"{"email":"x@example.org","password":"wrong password!"}"#;
    let mut sock = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let head = format!(
        "POST /api/v1/auth/login HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    sock.write_all(head.as_bytes()).await.unwrap();
    sock.write_all(&body.as_bytes()[..10]).await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let stopping = tokio::spawn(s.shutdown());
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(!stopping.is_finished(), "the server waits for the request in flight");
    assert!(tokio::net::TcpStream::connect(&addr).await.is_err(), "no new connections once stopping");
    sock.write_all(&body.as_bytes()[10..]).await.unwrap();
    let mut answer = String::new();
    tokio::time::timeout(Duration::from_secs(10), sock.read_to_string(&mut answer)).await.unwrap().unwrap();
    assert!(answer.starts_with("HTTP/1.1 401"), "{answer}");
    assert!(answer.contains("invalid_credentials"), "{answer}");
    tokio::time::timeout(Duration::from_secs(10), stopping).await.expect("stopped after the request").unwrap();
}
