//! The desktop's side of sync over HTTP: [`HttpTransport`] implements the
//! store's [`SyncTransport`] against the server's
//! `/api/v1/libraries/{lib}/sync/...` routes.
//!
//! TLS is rustls with the ring provider and the platform verifier (the
//! system's roots), as in the metadata crate; plain `http://` works for a
//! server on the same machine or in tests. Every request has a connect
//! timeout and an overall timeout. The credential (a bearer access token
//! or an API key) is sent in a header and never appears in an error,
//! `Debug` output or log.
//!
//! Errors say what to do: [`ClientError::Offline`] (no answer: try again
//! later), [`ClientError::AuthExpired`] (401: sign in again),
//! [`ClientError::Refused`] (another 4xx/5xx, with the server's code and
//! message), [`ClientError::Protocol`] (an answer that is not the
//! protocol's).

pub mod api;
pub mod desk;
pub mod error;
pub mod keychain;
mod snapshot;

pub use desk::{ConnectRequest, Connection, DeskSync, LastRun, SyncOverview};
pub use error::{SyncClientError, SyncErrorCode, SyncFault};

use shelfkeeper_store::SyncTransport;
use shelfkeeper_sync::{PullRequest, PullResponse, PushRequest, PushResponse};
use std::sync::Arc;
use std::time::Duration;
use uuid::Uuid;

pub const USER_AGENT: &str = concat!("Shelfkeeper/", env!("CARGO_PKG_VERSION"));

/// How the desktop proves who it is.
#[derive(Clone)]
pub enum Credential {
    /// An access token (`Authorization: Bearer`).
    Bearer(String),
    /// An API key (`X-API-Key`).
    ApiKey(String),
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Credential::Bearer(_) => "Bearer(<redacted>)",
            Credential::ApiKey(_) => "ApiKey(<redacted>)",
        })
    }
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ClientError {
    #[error("the sync server cannot be reached (offline?): {0}")]
    Offline(String),
    #[error("the sync server no longer accepts these credentials: sign in again")]
    AuthExpired,
    #[error("the sync server refused the request (HTTP {status}, {code}): {message}")]
    Refused { status: u16, code: String, message: String },
    #[error("the sync server answered out of protocol: {0}")]
    Protocol(String),
    #[error("cannot set up TLS for the sync server: {0}")]
    Tls(String),
    #[error("the sync server address is not a usable URL: {0}")]
    Url(String),
}

impl ClientError {
    /// Worth retrying later without a person doing anything.
    pub fn is_transient(&self) -> bool {
        match self {
            ClientError::Offline(_) => true,
            ClientError::Refused { status, .. } => *status >= 500 || *status == 429 || *status == 408,
            _ => false,
        }
    }
}

#[derive(Clone, Debug)]
pub struct Options {
    pub connect_timeout: Duration,
    /// For the whole request, body included.
    pub timeout: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Options { connect_timeout: Duration::from_secs(10), timeout: Duration::from_secs(60) }
    }
}

/// A library on a sync server, reached with one credential.
#[derive(Clone)]
pub struct HttpTransport {
    client: reqwest::Client,
    /// `<server>/api/v1/libraries/<lib>/sync`
    base: String,
    credential: Arc<Credential>,
    site_id: Option<Uuid>,
    /// The last failed exchange, kept whole: the store's driver only sees
    /// its text, the desk needs to know whether to sign in again.
    last_error: Arc<std::sync::Mutex<Option<ClientError>>>,
}

impl std::fmt::Debug for HttpTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpTransport").field("base", &self.base).field("credential", &self.credential).finish()
    }
}

fn chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(inner) = src {
        s.push_str(": ");
        s.push_str(&inner.to_string());
        src = inner.source();
    }
    s
}

impl HttpTransport {
    /// `server`: the server's base URL (`https://library.example.org`);
    /// `library`: the library's id.
    pub fn new(server: &str, library: Uuid, credential: Credential, options: Options) -> Result<HttpTransport, ClientError> {
        Self::with_client(build_client(&options)?, server, library, credential)
    }

    /// [`HttpTransport::new`] over a client already built (the crate's
    /// rustls set-up): a desk that syncs often keeps one client, its TLS
    /// set-up and its connections, instead of building them per run.
    pub fn with_client(client: reqwest::Client, server: &str, library: Uuid, credential: Credential) -> Result<HttpTransport, ClientError> {
        let server = server_base(server)?;
        Ok(HttpTransport {
            client,
            base: format!("{server}/api/v1/libraries/{library}/sync"),
            credential: Arc::new(credential),
            site_id: None,
            last_error: Arc::default(),
        })
    }

    /// The last failed exchange of this transport, if any.
    pub fn take_last_error(&self) -> Option<ClientError> {
        self.last_error.lock().ok().and_then(|mut e| e.take())
    }

    fn remember<T>(&self, r: Result<T, ClientError>) -> Result<T, String> {
        r.map_err(|e| {
            let text = e.to_string();
            if let Ok(mut slot) = self.last_error.lock() {
                *slot = Some(e);
            }
            text
        })
    }

    /// Names the pulling device, so the server records when it last pulled.
    pub fn with_site(mut self, site_id: Uuid) -> Self {
        self.site_id = Some(site_id);
        self
    }

    fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        let req = self.client.request(method, format!("{}{path}", self.base));
        match &*self.credential {
            Credential::Bearer(t) => req.bearer_auth(t),
            Credential::ApiKey(k) => req.header("X-API-Key", k),
        }
    }

    async fn send<T: serde::de::DeserializeOwned>(&self, req: reqwest::RequestBuilder) -> Result<T, ClientError> {
        send(req).await
    }

    /// Registers this desktop's store with the library (or renames it).
    pub async fn register_device(&self, site_id: Uuid, name: &str) -> Result<(), ClientError> {
        let body = serde_json::json!({ "site_id": site_id, "name": name });
        let _: serde_json::Value = self.send(self.request(reqwest::Method::POST, "/devices").json(&body)).await?;
        Ok(())
    }

    pub async fn push_page(&self, req: &PushRequest) -> Result<PushResponse, ClientError> {
        self.send(self.request(reqwest::Method::POST, "/push").json(req)).await
    }

    pub async fn pull_page(&self, req: &PullRequest) -> Result<PullResponse, ClientError> {
        // Numbers and a UUID: nothing to escape.
        let mut path = format!("/pull?after={}&limit={}&protocol={}", req.after, req.limit, req.protocol);
        if let Some(site) = self.site_id {
            path.push_str(&format!("&site_id={site}"));
        }
        self.send(self.request(reqwest::Method::GET, &path)).await
    }

    /// Waits (a long poll of at most `wait`; this request's timeout is
    /// `wait` plus 15 s, whatever the client's) until the server has a
    /// change after `after`. `true`: it has (pull now); `false`: nothing
    /// came meanwhile.
    pub async fn wait_for_changes(&self, after: u64, wait: Duration) -> Result<bool, ClientError> {
        let path = format!(
            "/pull?after={after}&limit=1&protocol={}&wait_ms={}",
            shelfkeeper_sync::PROTOCOL_VERSION,
            wait.as_millis().min(u128::from(u32::MAX))
        );
        let req = self.request(reqwest::Method::GET, &path).timeout(wait + Duration::from_secs(15));
        let page: PullResponse = self.send(req).await?;
        Ok(!page.changes.is_empty())
    }
}

impl HttpTransport {
    /// Uploads a cover blob. `Ok(None)`: stored (or there already);
    /// `Ok(Some(reason))`: refused for good (not an image the server takes,
    /// another image under that id, the library's budget spent).
    pub async fn upload_cover(&self, id: Uuid, bytes: Vec<u8>) -> Result<Option<String>, ClientError> {
        let req =
            self.request(reqwest::Method::PUT, &format!("/covers/{id}")).header("Content-Type", "application/octet-stream").body(bytes);
        let resp = req.send().await.map_err(|e| ClientError::Offline(chain(&e)))?;
        let status = resp.status();
        let body = resp.bytes().await.map_err(|e| ClientError::Offline(chain(&e)))?;
        if status.is_success() {
            return Ok(None);
        }
        match refused(status, &body) {
            e @ ClientError::Refused { status: 401, .. } => Err(e),
            ClientError::Refused { status: 422 | 409 | 413, message, .. } => Ok(Some(message)),
            e => Err(e),
        }
    }

    /// A cover blob by id (`None`: the server does not have it yet).
    pub async fn download_cover(&self, id: Uuid) -> Result<Option<Vec<u8>>, ClientError> {
        let resp =
            self.request(reqwest::Method::GET, &format!("/covers/{id}")).send().await.map_err(|e| ClientError::Offline(chain(&e)))?;
        let status = resp.status();
        let body = resp.bytes().await.map_err(|e| ClientError::Offline(chain(&e)))?;
        match status {
            s if s.is_success() => Ok(Some(body.to_vec())),
            reqwest::StatusCode::NOT_FOUND => Ok(None),
            reqwest::StatusCode::UNAUTHORIZED => Err(ClientError::AuthExpired),
            s => Err(refused(s, &body)),
        }
    }
}

/// Sends a request and reads a JSON answer, mapping failures to
/// [`ClientError`]s that say what to do.
pub(crate) async fn send<T: serde::de::DeserializeOwned>(req: reqwest::RequestBuilder) -> Result<T, ClientError> {
    {
        // reqwest's errors name the URL, never headers.
        let resp = req.send().await.map_err(|e| ClientError::Offline(chain(&e)))?;
        let status = resp.status();
        let bytes = resp.bytes().await.map_err(|e| ClientError::Offline(chain(&e)))?;
        if status == reqwest::StatusCode::UNAUTHORIZED {
            return Err(ClientError::AuthExpired);
        }
        if !status.is_success() {
            return Err(refused(status, &bytes));
        }
        serde_json::from_slice(&bytes).map_err(|e| ClientError::Protocol(format!("the answer does not parse: {e}")))
    }
}

/// A refusal's `{"error": {code, message}}` as a [`ClientError`].
pub(crate) fn refused(status: reqwest::StatusCode, bytes: &[u8]) -> ClientError {
    let body: serde_json::Value = serde_json::from_slice(bytes).unwrap_or_default();
    let text = |k: &str| body["error"][k].as_str().unwrap_or_default().to_owned();
    ClientError::Refused {
        status: status.as_u16(),
        code: text("code"),
        message: if text("message").is_empty() { status.to_string() } else { text("message") },
    }
}

impl SyncTransport for HttpTransport {
    fn shares_covers(&self) -> bool {
        true
    }

    async fn put_cover(&self, id: Uuid, bytes: Vec<u8>) -> Result<Option<String>, String> {
        let r = self.upload_cover(id, bytes).await;
        self.remember(r)
    }

    async fn get_cover(&self, id: Uuid) -> Result<Option<Vec<u8>>, String> {
        let r = self.download_cover(id).await;
        self.remember(r)
    }

    async fn snapshot(&self) -> Result<Option<shelfkeeper_store::SnapshotStream>, String> {
        let r = self.open_snapshot().await;
        self.remember(r)
    }

    async fn push(&self, req: PushRequest) -> Result<PushResponse, String> {
        let r = self.push_page(&req).await;
        self.remember(r)
    }

    async fn pull(&self, req: PullRequest) -> Result<PullResponse, String> {
        let r = self.pull_page(&req).await;
        self.remember(r)
    }
}

/// The HTTP client for a sync server: rustls with the ring provider and
/// the platform verifier, timeouts, no redirects (a redirect could carry
/// the credential elsewhere).
pub(crate) fn build_client(options: &Options) -> Result<reqwest::Client, ClientError> {
    use rustls_platform_verifier::BuilderVerifierExt;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| ClientError::Tls(e.to_string()))?
        .with_platform_verifier()
        .map_err(|e| ClientError::Tls(e.to_string()))?
        .with_no_client_auth();
    tls.alpn_protocols = vec![b"http/1.1".to_vec()];
    reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .user_agent(USER_AGENT)
        .connect_timeout(options.connect_timeout)
        .timeout(options.timeout)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| ClientError::Tls(chain(&e)))
}

/// A server's base URL, checked: http or https, no trailing slash.
pub(crate) fn server_base(server: &str) -> Result<String, ClientError> {
    let server = server.trim().trim_end_matches('/');
    let url = reqwest::Url::parse(server).map_err(|e| ClientError::Url(format!("'{server}': {e}")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(ClientError::Url(format!("'{}' is neither http nor https", url.scheme())));
    }
    Ok(server.to_owned())
}
