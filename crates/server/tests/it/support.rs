//! Shared helpers: a real server on port 0 over a fresh database (a SQLite
//! file, or a new PostgreSQL database per test), a real SMTP sink, and an
//! HTTP client.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use shelfkeeper_server::{AppState, Config};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::sync::{Notify, oneshot};

pub const SECRET: &str = "test-secret-test-secret-test-secret-0123";
pub const PASSWORD: &str = "correct horse battery";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Runs a test body once per backend: `both!(name, body_fn)` makes
/// `name::sqlite` and `name::postgres`.
#[macro_export]
macro_rules! both {
    ($name:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$name($crate::support::Backend::Sqlite).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if $crate::support::skip_postgres() {
                    return;
                }
                super::$name($crate::support::Backend::Postgres).await
            }
        }
    };
}

/// A plain HTTP client for talking to the server under test.
///
/// Cargo unifies reqwest's features over the workspace, and the metadata
/// crate turns on `rustls-no-provider`; a client built without a TLS
/// provider then panics. The tests speak plain HTTP, but reqwest still sets
/// TLS up, so the ring provider is installed for the process first (a second
/// install is a harmless error).
pub fn http_client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder().timeout(Duration::from_secs(30)).build().unwrap()
}

// ---------------------------------------------------------------- databases

/// A fresh database; a PostgreSQL one is dropped when this is.
pub struct TestDb {
    pub url: String,
    _dir: tempfile::TempDir,
    pg_name: Option<String>,
}

/// `SHELFKEEPER_SKIP_PG=1` skips the PostgreSQL half of every test (the
/// SQLite half still runs), for a machine without PostgreSQL. Only when
/// asked: a PostgreSQL that does not answer otherwise fails the test.
pub fn skip_postgres() -> bool {
    let skip = std::env::var("SHELFKEEPER_SKIP_PG").is_ok_and(|v| v == "1");
    if skip {
        eprintln!("skipped: the PostgreSQL half (SHELFKEEPER_SKIP_PG=1)");
    }
    skip
}

pub fn pg_admin_url() -> String {
    std::env::var("SHELFKEEPER_TEST_PG").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

fn with_db(admin: &str, name: &str) -> String {
    // Replace the path (database name) of the admin URL, keeping any query.
    let (base, query) = admin.split_once('?').map(|(b, q)| (b, Some(q))).unwrap_or((admin, None));
    let cut = base.rfind('/').filter(|&i| i > base.find("://").map(|s| s + 2).unwrap_or(0)).unwrap_or(base.len());
    let mut url = format!("{}/{name}", &base[..cut]);
    if let Some(q) = query {
        url.push('?');
        url.push_str(q);
    }
    url
}

impl TestDb {
    pub async fn new(backend: Backend) -> TestDb {
        let dir = tempfile::tempdir().unwrap();
        match backend {
            Backend::Sqlite => {
                TestDb { url: format!("sqlite://{}", dir.path().join("server.sqlite3").display()), _dir: dir, pg_name: None }
            }
            Backend::Postgres => {
                sqlx::any::install_default_drivers();
                let admin = pg_admin_url();
                let name = format!("sk_test_{}", uuid::Uuid::now_v7().simple());
                // No skipping: a PostgreSQL that does not answer fails the test.
                let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&admin).await.unwrap_or_else(|e| {
                    panic!("PostgreSQL at {admin} does not answer ({e}); run scripts/test.sh, which starts one, or set SHELFKEEPER_TEST_PG")
                });
                sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}"))).execute(&mut conn).await.unwrap();
                TestDb { url: with_db(&admin, &name), _dir: dir, pg_name: Some(name) }
            }
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Some(name) = self.pg_name.take() else { return };
        let admin = pg_admin_url();
        // Drop runs inside the test's runtime: use a thread with its own.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            rt.block_on(async {
                if let Ok(mut conn) = <sqlx::AnyConnection as sqlx::Connection>::connect(&admin).await {
                    let _ =
                        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))).execute(&mut conn).await;
                }
            })
        })
        .join();
    }
}

// ---------------------------------------------------------------- SMTP sink

#[derive(Debug, Clone)]
pub struct Mail {
    pub to: Vec<String>,
    pub data: String,
}

impl Mail {
    /// The body with quoted-printable soft breaks and escapes undone.
    pub fn text(&self) -> String {
        let body = self.data.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or(&self.data);
        let qp = self.data.to_ascii_lowercase().contains("content-transfer-encoding: quoted-printable");
        if !qp {
            return body.replace("\r\n", "\n");
        }
        let joined = body.replace("=\r\n", "");
        let mut out = Vec::new();
        let b = joined.as_bytes();
        let mut i = 0;
        while i < b.len() {
            if b[i] == b'='
                && i + 2 < b.len()
                && let Ok(v) = u8::from_str_radix(&joined[i + 1..i + 3], 16)
            {
                out.push(v);
                i += 3;
                continue;
            }
            out.push(b[i]);
            i += 1;
        }
        String::from_utf8_lossy(&out).replace("\r\n", "\n")
    }

    pub fn subject(&self) -> String {
        self.data.lines().find_map(|l| l.strip_prefix("Subject: ")).unwrap_or_default().to_owned()
    }

    /// The `token=` value of the first link in the body.
    pub fn token(&self) -> String {
        let text = self.text();
        let start = text.find("token=").unwrap_or_else(|| panic!("no link in mail: {text}")) + "token=".len();
        text[start..].chars().take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')).collect()
    }

    pub fn link(&self) -> String {
        let text = self.text();
        let start = text.find("http").unwrap_or_else(|| panic!("no link in mail: {text}"));
        text[start..].split_whitespace().next().unwrap().to_owned()
    }
}

/// A minimal SMTP server over real TCP that keeps every message.
#[derive(Clone)]
pub struct SmtpSink {
    pub port: u16,
    mails: Arc<Mutex<Vec<Mail>>>,
    arrived: Arc<Notify>,
}

impl SmtpSink {
    pub async fn start() -> SmtpSink {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let sink = SmtpSink { port: listener.local_addr().unwrap().port(), mails: Arc::default(), arrived: Arc::default() };
        let s = sink.clone();
        tokio::spawn(async move {
            while let Ok((sock, _)) = listener.accept().await {
                let s = s.clone();
                tokio::spawn(async move {
                    let _ = s.session(sock).await;
                });
            }
        });
        sink
    }

    async fn session(&self, sock: tokio::net::TcpStream) -> std::io::Result<()> {
        let (r, mut w) = sock.into_split();
        let mut r = BufReader::new(r);
        w.write_all(b"220 sink ESMTP\r\n").await?;
        let mut to = Vec::new();
        let mut line = String::new();
        loop {
            line.clear();
            if r.read_line(&mut line).await? == 0 {
                return Ok(());
            }
            let cmd = line.trim_end().to_ascii_uppercase();
            if cmd.starts_with("EHLO") || cmd.starts_with("HELO") {
                w.write_all(b"250-sink\r\n250 8BITMIME\r\n").await?;
            } else if cmd.starts_with("MAIL FROM") {
                to.clear();
                w.write_all(b"250 ok\r\n").await?;
            } else if cmd.starts_with("RCPT TO") {
                let addr = line.trim_end()[8..].trim().trim_start_matches(':').trim().trim_matches(|c| c == '<' || c == '>').to_owned();
                to.push(addr);
                w.write_all(b"250 ok\r\n").await?;
            } else if cmd == "DATA" {
                w.write_all(b"354 go on\r\n").await?;
                let mut data = String::new();
                loop {
                    line.clear();
                    if r.read_line(&mut line).await? == 0 {
                        return Ok(());
                    }
                    if line == ".\r\n" {
                        break;
                    }
                    let l = line.strip_prefix('.').filter(|_| line.starts_with("..")).unwrap_or(&line);
                    data.push_str(l);
                }
                self.mails.lock().unwrap().push(Mail { to: to.clone(), data });
                self.arrived.notify_waiters();
                w.write_all(b"250 queued\r\n").await?;
            } else if cmd == "QUIT" {
                w.write_all(b"221 bye\r\n").await?;
                return Ok(());
            } else {
                w.write_all(b"250 ok\r\n").await?;
            }
        }
    }

    pub fn all_to(&self, addr: &str) -> Vec<Mail> {
        self.mails.lock().unwrap().iter().filter(|m| m.to.iter().any(|t| t == addr)).cloned().collect()
    }

    /// Waits (up to 10 s) for the `n`-th message (1-based) to `addr`.
    pub async fn nth_to(&self, addr: &str, n: usize) -> Mail {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            let notified = self.arrived.notified();
            if let Some(m) = self.all_to(addr).get(n - 1) {
                return m.clone();
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                panic!("no mail #{n} to {addr} within 10 s; got {:?}", self.all_to(addr).iter().map(Mail::subject).collect::<Vec<_>>());
            }
        }
    }
}

// ---------------------------------------------------------------- server

pub struct Server {
    pub base: String,
    pub db_url: String,
    pub http: reqwest::Client,
    pub sink: SmtpSink,
    pub state: AppState,
    stop: Option<oneshot::Sender<()>>,
    done: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
    _db: TestDb,
    _data: tempfile::TempDir,
}

/// The token tests' servers ask for at `/metrics`.
pub const METRICS_TOKEN: &str = "metrics-token-for-tests";

pub fn test_config(db_url: &str, data_dir: &std::path::Path, smtp_port: u16) -> Config {
    let mut cfg = Config {
        database_url: db_url.to_owned(),
        data_dir: Some(data_dir.to_path_buf()),
        token_secret: SECRET.into(),
        hash_workers: 2,
        metrics_token: METRICS_TOKEN.into(),
        ..Config::default()
    };
    cfg.smtp.host = "127.0.0.1".into();
    cfg.smtp.port = smtp_port;
    cfg
}

impl Server {
    pub async fn start(backend: Backend) -> Server {
        Self::start_with(backend, |_| {}).await
    }

    pub async fn start_with(backend: Backend, tweak: impl FnOnce(&mut Config)) -> Server {
        let db = TestDb::new(backend).await;
        let data = tempfile::tempdir().unwrap();
        let sink = SmtpSink::start().await;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let mut cfg = test_config(&db.url, data.path(), sink.port);
        cfg.listen = addr;
        cfg.public_url = format!("http://{addr}");
        tweak(&mut cfg);
        let state = AppState::new(cfg).await.unwrap();
        let (tx, rx) = oneshot::channel();
        let done = tokio::spawn(shelfkeeper_server::serve(listener, state.clone(), async move {
            let _ = rx.await;
        }));
        Server {
            base: format!("http://{addr}"),
            db_url: db.url.clone(),
            http: http_client(),
            sink,
            state,
            stop: Some(tx),
            done: Some(done),
            _db: db,
            _data: data,
        }
    }

    /// Stops accepting, waits for requests in flight, and returns.
    pub async fn shutdown(mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(done) = self.done.take() {
            tokio::time::timeout(Duration::from_secs(10), done).await.expect("graceful shutdown within 10 s").unwrap().unwrap();
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Sends a request; `body` None sends none.
    pub async fn call(&self, method: Method, path: &str, auth: &Auth, body: Option<Value>) -> Resp {
        let mut req = self.http.request(method, self.url(path));
        req = auth.apply(req);
        if let Some(b) = body {
            req = req.json(&b);
        }
        Resp::from(req.send().await.unwrap()).await
    }

    pub async fn get(&self, path: &str, auth: &Auth) -> Resp {
        self.call(Method::GET, path, auth, None).await
    }

    pub async fn post(&self, path: &str, auth: &Auth, body: Value) -> Resp {
        self.call(Method::POST, path, auth, Some(body)).await
    }

    /// Registers, follows the verification link from the real mail, logs in.
    pub async fn user(&self, email: &str) -> Session {
        let r =
            self.post("/api/v1/auth/register", &Auth::None, json!({ "email": email, "password": PASSWORD, "display_name": email })).await;
        assert_eq!(r.status, StatusCode::ACCEPTED, "{r:?}");
        let mail = self.sink.nth_to(email, 1).await;
        let r = self.http.get(mail.link()).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "verification link {}", mail.link());
        self.login(email, PASSWORD).await
    }

    pub async fn login(&self, email: &str, password: &str) -> Session {
        let r = self.post("/api/v1/auth/login", &Auth::None, json!({ "email": email, "password": password })).await;
        assert_eq!(r.status, StatusCode::OK, "{r:?}");
        Session {
            access: r.body["access_token"].as_str().unwrap().to_owned(),
            refresh: r.body["refresh_token"].as_str().unwrap().to_owned(),
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
    }
}

#[derive(Debug, Clone)]
pub struct Session {
    pub access: String,
    pub refresh: String,
}

impl Session {
    pub fn auth(&self) -> Auth {
        Auth::Bearer(self.access.clone())
    }
}

#[derive(Debug, Clone)]
pub enum Auth {
    None,
    Bearer(String),
    ApiKey(String),
}

impl Auth {
    fn apply(&self, req: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match self {
            Auth::None => req,
            Auth::Bearer(t) => req.bearer_auth(t),
            Auth::ApiKey(k) => req.header("X-API-Key", k),
        }
    }
}

#[derive(Debug)]
pub struct Resp {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
    pub text: String,
}

impl Resp {
    pub async fn from(r: reqwest::Response) -> Resp {
        let status = r.status();
        let headers = r.headers().clone();
        let text = r.text().await.unwrap();
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Resp { status, headers, body, text }
    }

    pub fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }

    /// Asserts the status and, for errors, the JSON error shape and code.
    #[track_caller]
    pub fn expect(&self, status: u16, code: &str) -> &Self {
        assert_eq!(self.status.as_u16(), status, "{self:?}");
        if status >= 400 {
            assert!(self.body["error"]["message"].as_str().is_some_and(|m| !m.is_empty()), "error shape: {self:?}");
            assert_eq!(self.code(), code, "{self:?}");
        }
        self
    }
}

/// A JWT signed with the test secret, for tokens the server would never
/// issue (expired, wrong type).
pub fn forge(claims: Value) -> String {
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(SECRET.as_bytes()),
    )
    .unwrap()
}

pub fn claims_of(token: &str) -> Value {
    use base64::Engine;
    let payload = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}
