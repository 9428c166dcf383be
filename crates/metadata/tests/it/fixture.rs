//! A local HTTP server per test (axum on 127.0.0.1, port 0) that replays
//! canned provider answers from `tests/fixtures/` and counts requests.

use axum::Router;
use axum::extract::{Request, State};
use axum::http::header::{CONTENT_TYPE, USER_AGENT};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use shelfkeeper_metadata::Config;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

pub const OL: &str = "/openlibrary/api/books";
pub const GOOGLE: &str = "/google/books/v1/volumes";
pub const LOC: &str = "/loc";

#[derive(Clone, Default)]
pub struct Seen {
    hits: Arc<Mutex<HashMap<String, usize>>>,
    user_agents: Arc<Mutex<Vec<String>>>,
    queries: Arc<Mutex<Vec<String>>>,
}

pub struct Fixture {
    pub addr: SocketAddr,
    seen: Seen,
    server: tokio::task::JoinHandle<()>,
}

async fn record(State(seen): State<Seen>, req: Request, next: Next) -> Response {
    *seen.hits.lock().unwrap().entry(req.uri().path().to_string()).or_insert(0) += 1;
    if let Some(ua) = req.headers().get(USER_AGENT).and_then(|v| v.to_str().ok()) {
        seen.user_agents.lock().unwrap().push(ua.to_string());
    }
    seen.queries.lock().unwrap().push(req.uri().to_string());
    next.run(req).await
}

impl Fixture {
    pub async fn start(router: Router) -> Fixture {
        let seen = Seen::default();
        let app = router.layer(middleware::from_fn_with_state(seen.clone(), record));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Fixture { addr, seen, server }
    }

    pub fn root(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.root())
    }

    /// Every provider on this server, quick back-off, generous timeouts.
    pub fn config(&self) -> Config {
        let mut c = Config::default().with_root(&self.root());
        c.backoff_ms = 20;
        c.deadline_ms = 10_000;
        c
    }

    pub fn hits(&self, path: &str) -> usize {
        self.seen.hits.lock().unwrap().get(path).copied().unwrap_or(0)
    }

    pub fn user_agents(&self) -> Vec<String> {
        self.seen.user_agents.lock().unwrap().clone()
    }

    pub fn requested(&self) -> Vec<String> {
        self.seen.queries.lock().unwrap().clone()
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        self.server.abort();
    }
}

pub fn fixture_bytes(name: &str) -> Vec<u8> {
    std::fs::read(format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

/// A response with a body and a content type.
pub fn body(content_type: &'static str, bytes: Vec<u8>) -> Response {
    ([(CONTENT_TYPE, content_type)], bytes).into_response()
}

pub fn json(name: &str) -> Response {
    body("application/json", fixture_bytes(name))
}

pub fn xml(name: &str) -> Response {
    body("text/xml; charset=utf-8", fixture_bytes(name))
}

/// A router answering every provider with one fixture each.
pub fn providers(ol: &'static str, google: &'static str, loc: &'static str) -> Router {
    use axum::routing::get;
    Router::new()
        .route(OL, get(move || async move { json(ol) }))
        .route(GOOGLE, get(move || async move { json(google) }))
        .route(LOC, get(move || async move { xml(loc) }))
}

/// A port on 127.0.0.1 with nothing listening.
pub async fn closed_port() -> u16 {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = l.local_addr().unwrap().port();
    drop(l);
    port
}
