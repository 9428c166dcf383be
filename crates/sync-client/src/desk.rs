//! A desktop store's connection to a sync server: connect (log in, choose
//! the library, register this store as a device, keep the refresh token in
//! the keychain), sync (on a schedule or on demand, with progress, one run
//! at a time), report status, disconnect (local data stays).
//!
//! What lives where:
//! - the connection (server, library, account email, device name, schedule)
//!   and the last run's outcome: in the store (`store_meta`, never synced),
//!   so they travel with the file;
//! - the refresh token: only in the keychain, under the store's site id;
//! - the access token (15 minutes): only in memory.

use crate::api::{ServerApi, Tokens};
use crate::error::{SyncClientError, SyncFault};
use crate::keychain::{Secrets, blocking};
use crate::{ClientError, Credential, HttpTransport, Options};
use serde::{Deserialize, Serialize};
use shelfkeeper_domain::Error;
use shelfkeeper_domain::access::{Action, Actor};
use shelfkeeper_store::{Store, SyncError, SyncProgress, SyncRun, SyncSetting, SyncStatus};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use uuid::Uuid;

/// Changes per push or pull request.
pub const PAGE: u32 = 500;
/// The schedule's bounds, in seconds.
pub const MIN_INTERVAL_SECS: u32 = 2;
pub const DEFAULT_INTERVAL_SECS: u32 = 60;
pub const MAX_INTERVAL_SECS: u32 = 24 * 3600;

/// How long a long poll asks the server to wait for changes.
pub const LONG_POLL: Duration = Duration::from_secs(25);
/// Local writes come in bursts (a check-out is one transaction, an edit
/// form another): wait this long after the last before sending.
pub const PUSH_DEBOUNCE: Duration = Duration::from_millis(100);

/// Resolves when the open store has local changes to send: after a write
/// commits and the desk has been quiet for [`PUSH_DEBOUNCE`].
pub async fn local_changes(store: &Store) {
    let mut writes = store.watch_writes();
    loop {
        if writes.changed().await.is_err() {
            return std::future::pending().await;
        }
        loop {
            tokio::select! {
                _ = tokio::time::sleep(PUSH_DEBOUNCE) => break,
                r = writes.changed() => if r.is_err() { return std::future::pending().await },
            }
        }
        if store.sync_status().await.is_ok_and(|s| s.pending_changes > 0) {
            return;
        }
    }
}

/// How this store reaches its server. No secret in here.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct Connection {
    pub server: String,
    #[ts(type = "string")]
    pub library_id: Uuid,
    pub library_name: String,
    /// The account that signed in (staff of the library).
    pub email: String,
    /// How this store is named in the server's device list.
    pub device_name: String,
    /// Seconds between background syncs.
    pub interval_secs: u32,
    pub connected_at: String,
}

/// What the user fills in to connect.
#[derive(Clone, Deserialize, ts_rs::TS)]
pub struct ConnectRequest {
    pub server: String,
    pub email: String,
    pub password: String,
    /// The library's id or name; may be left empty when the account is
    /// staff of one library only.
    pub library: Option<String>,
    pub device_name: String,
}

impl std::fmt::Debug for ConnectRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnectRequest")
            .field("server", &self.server)
            .field("email", &self.email)
            .field("password", &"<redacted>")
            .field("library", &self.library)
            .finish()
    }
}

/// The outcome of the last sync run.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct LastRun {
    pub finished_at: String,
    /// The error's stable code, when the run failed.
    pub error_code: Option<String>,
    pub error: Option<String>,
    pub pushed: u32,
    /// Changes received (applied, or already known here).
    pub pulled: u32,
    /// Received changes that changed something here.
    pub applied: u32,
    pub conflicts: u32,
    /// Changes stamped far ahead of this machine's clock (it is probably
    /// behind): applied, but worth a look.
    pub clock_ahead: u32,
    /// When a run last succeeded.
    pub last_success_at: Option<String>,
}

/// Everything a status bar or the Sync settings show.
#[derive(Clone, Debug, PartialEq, Serialize, ts_rs::TS)]
pub struct SyncOverview {
    pub connection: Option<Connection>,
    pub status: SyncStatus,
    pub last_run: Option<LastRun>,
    /// A run is under way; `progress` says how far.
    pub running: bool,
    pub progress: Option<SyncProgress>,
}

/// Access token cached in memory, with when to stop using it.
struct Access {
    token: String,
    renew_after: Instant,
}

/// The desktop's sync engine for the open store. One per program; cheap
/// to share (`Arc`).
pub struct DeskSync {
    secrets: Arc<dyn Secrets>,
    options: Options,
    access: tokio::sync::Mutex<Option<Access>>,
    /// Held for the whole of a run: one run at a time.
    run: tokio::sync::Mutex<()>,
    progress: std::sync::Mutex<Option<SyncProgress>>,
    cancel: AtomicBool,
    /// One HTTP client for every run and long poll (built on first use).
    client: std::sync::OnceLock<reqwest::Client>,
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// The keychain entry holding a store's refresh token.
pub fn secret_name(site_id: Uuid) -> String {
    format!("sync-refresh-token:{site_id}")
}

/// A client failure as the domain's error, with what to do.
pub fn client_error(e: ClientError) -> SyncClientError {
    match e {
        // A server address that is not a URL is the person's input to mend.
        ClientError::Url(why) => Error::invalid("server", why).into(),
        other => fault(other).into(),
    }
}

fn fault(e: ClientError) -> SyncFault {
    match e {
        ClientError::Offline(why) => SyncFault::Offline(why),
        ClientError::AuthExpired => SyncFault::SignIn("the server no longer accepts this sign-in".into()),
        ClientError::Refused { status: 429, message, .. } => SyncFault::Offline(format!("the server asks to wait: {message}")),
        ClientError::Refused { status, message, .. } if status >= 500 => {
            SyncFault::Offline(format!("the server had a problem (HTTP {status}): {message}"))
        }
        ClientError::Refused { code, message, .. } if code == "invalid_credentials" => SyncFault::SignIn(message),
        // Not something a retry mends: say what to do.
        ClientError::Refused { code, message, .. } if code == "unsupported_protocol" => SyncFault::Refused(format!(
            "this desk and the server speak different versions of sync ({message}): update Shelfkeeper here, or the server, \
             to the same version"
        )),
        ClientError::Refused { message, code, .. } => SyncFault::Refused(format!("{message} ({code})")),
        ClientError::Protocol(why) => SyncFault::Refused(format!("the server answered out of protocol: {why}")),
        ClientError::Tls(why) => SyncFault::Offline(format!("TLS: {why}")),
        ClientError::Url(why) => SyncFault::Refused(format!("not a server address: {why}")),
    }
}

impl DeskSync {
    pub fn new(secrets: Arc<dyn Secrets>, options: Options) -> DeskSync {
        DeskSync {
            secrets,
            options,
            access: tokio::sync::Mutex::new(None),
            run: tokio::sync::Mutex::new(()),
            progress: std::sync::Mutex::new(None),
            cancel: AtomicBool::new(false),
            client: std::sync::OnceLock::new(),
        }
    }

    pub async fn connection(store: &Store) -> Result<Option<Connection>, SyncClientError> {
        let Some(text) = store.sync_setting(SyncSetting::Connection).await? else { return Ok(None) };
        Ok(serde_json::from_str(&text).map(Some).map_err(|e| Error::Storage(format!("the saved sync connection does not read: {e}")))?)
    }

    async fn save_connection(store: &Store, c: Option<&Connection>) -> Result<(), SyncClientError> {
        let text = c.map(serde_json::to_string).transpose().map_err(|e| Error::Storage(e.to_string()))?;
        Ok(store.set_sync_setting(SyncSetting::Connection, text.as_deref()).await?)
    }

    async fn last_run(store: &Store) -> Result<Option<LastRun>, SyncClientError> {
        Ok(store.sync_setting(SyncSetting::LastRun).await?.and_then(|t| serde_json::from_str(&t).ok()))
    }

    /// Connects this store: logs in, picks the library, registers the
    /// store as a device and keeps the refresh token in the keychain. The
    /// password is used once and kept nowhere. Nothing is saved unless
    /// every step worked.
    pub async fn connect(&self, store: &Store, actor: &Actor, req: ConnectRequest) -> Result<Connection, SyncClientError> {
        actor.require(Action::ManageSettings)?;
        if let Some(c) = Self::connection(store).await? {
            return Err(Error::invalid("server", format!("this store is already connected to {}; disconnect it first", c.server)).into());
        }
        let email = req.email.trim().to_lowercase();
        if email.is_empty() {
            return Err(Error::invalid("email", "the account's email address").into());
        }
        let device_name = req.device_name.trim().to_owned();
        if device_name.is_empty() || device_name.chars().count() > 100 {
            return Err(Error::invalid("device_name", "1 to 100 characters, e.g. \"Front desk\"").into());
        }
        // Fails early, before the server is asked anything, when there is
        // no keychain to keep the sign-in in.
        let probe = secret_name(store.site_id().0);
        blocking(self.secrets.clone(), move |s| s.get(&probe).map(|_| ())).await?;

        let api = ServerApi::new(&req.server, &self.options).map_err(client_error)?;
        let tokens = api.login(&email, &req.password).await.map_err(|e| match e {
            ClientError::AuthExpired => SyncFault::SignIn("wrong email or password".into()).into(),
            other => client_error(other),
        })?;
        let result = self.finish_connect(store, &api, &req, &email, &device_name, &tokens).await;
        if result.is_err() {
            // Leave no session behind on the server.
            let _ = api.logout(&tokens.access_token).await;
        }
        result
    }

    async fn finish_connect(
        &self,
        store: &Store,
        api: &ServerApi,
        req: &ConnectRequest,
        email: &str,
        device_name: &str,
        tokens: &Tokens,
    ) -> Result<Connection, SyncClientError> {
        let libraries = api.libraries(&tokens.access_token).await.map_err(client_error)?;
        let staff: Vec<_> = libraries.into_iter().filter(|l| l.is_staff()).collect();
        let wanted = req.library.as_deref().map(str::trim).filter(|l| !l.is_empty());
        let library = match wanted {
            Some(w) => staff.iter().find(|l| l.id.to_string() == w || l.name.eq_ignore_ascii_case(w)).cloned().ok_or_else(|| {
                Error::invalid(
                    "library",
                    format!(
                        "{email} is not staff of a library '{w}' on this server{}",
                        if staff.is_empty() { String::new() } else { format!(" (it is of: {})", names(&staff)) }
                    ),
                )
            })?,
            None => match staff.as_slice() {
                [one] => one.clone(),
                [] => return Err(SyncFault::Refused(format!("{email} is not a librarian or admin of any library on this server")).into()),
                _ => {
                    return Err(
                        Error::invalid("library", format!("{email} works in several libraries; name one: {}", names(&staff))).into()
                    );
                }
            },
        };
        // A store belongs to the library it first synced with: connected to
        // another, it would push that library's unsent changes (members'
        // personal data among them) and every later edit of its rows into
        // this one's feed, and mix the two catalogues. Refused before
        // anything is registered or saved.
        let owner = store.sync_setting(SyncSetting::CursorLibrary).await?;
        if let Some(owner) = owner.as_deref()
            && owner != library.id.to_string()
        {
            let pending = store.sync_status().await?.pending_changes;
            let waiting = match pending {
                0 => String::new(),
                1 => " and 1 change not yet sent to it".to_owned(),
                n => format!(" and {n} changes not yet sent to it"),
            };
            return Err(Error::invalid(
                "library",
                format!(
                    "this store holds another library's data{waiting} (library {owner}); connecting it to '{}' would mix the two \
                     libraries. Start a new store for '{}' and connect that one, or reconnect this store to its own library",
                    library.name, library.name
                ),
            )
            .into());
        }
        let site = store.site_id().0;
        let transport = HttpTransport::new(&req.server, library.id, Credential::Bearer(tokens.access_token.clone()), self.options.clone())
            .map_err(client_error)?;
        transport.register_device(site, device_name).await.map_err(client_error)?;
        let (name, refresh) = (secret_name(site), tokens.refresh_token.clone());
        blocking(self.secrets.clone(), move |s| s.set(&name, &refresh)).await?;
        // The cursor counts this library's sequence from now on.
        if owner.is_none() {
            store.reset_sync_cursor().await?;
            store.set_sync_setting(SyncSetting::CursorLibrary, Some(&library.id.to_string())).await?;
        }
        let connection = Connection {
            server: crate::server_base(&req.server).map_err(client_error)?,
            library_id: library.id,
            library_name: library.name,
            email: email.to_owned(),
            device_name: device_name.to_owned(),
            interval_secs: DEFAULT_INTERVAL_SECS,
            connected_at: now(),
        };
        Self::save_connection(store, Some(&connection)).await?;
        store.set_sync_setting(SyncSetting::LastRun, None).await?;
        *self.access.lock().await = Some(Access { token: tokens.access_token.clone(), renew_after: renew_after(tokens) });
        Ok(connection)
    }

    /// Disconnects: ends the session on the server when it answers, forgets
    /// the refresh token and the connection. Everything local stays,
    /// including changes not pushed yet (they go on the next connection).
    pub async fn disconnect(&self, store: &Store, actor: &Actor) -> Result<(), SyncClientError> {
        actor.require(Action::ManageSettings)?;
        let _running = self.run.lock().await;
        let Some(c) = Self::connection(store).await? else { return Err(SyncFault::NotConnected.into()) };
        if let Ok(token) = self.access_token(store, &c, false).await
            && let Ok(api) = ServerApi::new(&c.server, &Options { timeout: Duration::from_secs(5), ..self.options.clone() })
        {
            let _ = api.logout(&token).await;
        }
        *self.access.lock().await = None;
        let name = secret_name(store.site_id().0);
        let forgotten = blocking(self.secrets.clone(), move |s| s.delete(&name)).await;
        Self::save_connection(store, None).await?;
        store.set_sync_setting(SyncSetting::LastRun, None).await?;
        // The connection is gone either way; a keychain that cannot forget
        // is still worth saying.
        Ok(forgotten?)
    }

    /// Changes the schedule (seconds between background syncs).
    pub async fn set_interval(&self, store: &Store, actor: &Actor, secs: u32) -> Result<Connection, SyncClientError> {
        actor.require(Action::ManageSettings)?;
        if !(MIN_INTERVAL_SECS..=MAX_INTERVAL_SECS).contains(&secs) {
            return Err(Error::invalid("interval_secs", format!("from {MIN_INTERVAL_SECS} seconds to a day")).into());
        }
        let mut c = Self::connection(store).await?.ok_or(SyncFault::NotConnected)?;
        c.interval_secs = secs;
        Self::save_connection(store, Some(&c)).await?;
        Ok(c)
    }

    /// A valid access token: the cached one, or a new one from the refresh
    /// token in the keychain (which the server rotates: the new one is
    /// saved before anything else).
    async fn access_token(&self, store: &Store, c: &Connection, force: bool) -> Result<String, SyncClientError> {
        let mut access = self.access.lock().await;
        if !force && let Some(a) = access.as_ref().filter(|a| Instant::now() < a.renew_after) {
            return Ok(a.token.clone());
        }
        let name = secret_name(store.site_id().0);
        let refresh = blocking(self.secrets.clone(), move |s| s.get(&name))
            .await?
            .ok_or_else(|| SyncFault::SignIn("the keychain holds no sign-in for this store".into()))?;
        let api = ServerApi::new(&c.server, &self.options).map_err(client_error)?;
        let tokens = api.refresh(&refresh).await.map_err(|e| match e {
            ClientError::AuthExpired | ClientError::Refused { status: 400..=403, .. } => {
                SyncFault::SignIn("the server ended this sign-in (expired, revoked or password changed)".into()).into()
            }
            other => client_error(other),
        })?;
        let (name, rotated) = (secret_name(store.site_id().0), tokens.refresh_token.clone());
        blocking(self.secrets.clone(), move |s| s.set(&name, &rotated)).await?;
        *access = Some(Access { token: tokens.access_token.clone(), renew_after: renew_after(&tokens) });
        Ok(tokens.access_token)
    }

    /// Asks a running sync to stop after its current page.
    pub fn cancel(&self) {
        self.cancel.store(true, Ordering::SeqCst);
    }

    /// A run is under way.
    pub fn is_running(&self) -> bool {
        self.run.try_lock().is_err()
    }

    /// Syncs now: pushes the outbox, pulls what is new. `on_progress` hears
    /// after each page. One run at a time: a second caller waits for the
    /// first and then runs (what the first did is not done again).
    pub async fn sync_now(&self, store: &Store, on_progress: impl Fn(SyncProgress) + Sync) -> Result<SyncRun, SyncClientError> {
        let _running = self.run.lock().await;
        self.cancel.store(false, Ordering::SeqCst);
        let c = Self::connection(store).await?.ok_or(SyncFault::NotConnected)?;
        let outcome = self.run_once(store, &c, &on_progress).await;
        *self.progress.lock().unwrap_or_else(|p| p.into_inner()) = None;
        let previous = Self::last_run(store).await?.unwrap_or_default();
        let finished_at = now();
        let last = match &outcome {
            Ok(run) => LastRun {
                finished_at: finished_at.clone(),
                error_code: None,
                error: None,
                pushed: run.pushed,
                pulled: run.pulled,
                applied: run.applied,
                conflicts: run.conflicts,
                clock_ahead: run.clock_ahead,
                last_success_at: Some(finished_at),
            },
            Err(e) => LastRun {
                finished_at,
                error_code: Some(e.code()),
                error: Some(e.to_string()),
                last_success_at: previous.last_success_at,
                ..LastRun::default()
            },
        };
        let text = serde_json::to_string(&last).map_err(|e| Error::Storage(e.to_string()))?;
        store.set_sync_setting(SyncSetting::LastRun, Some(&text)).await?;
        outcome
    }

    async fn run_once(
        &self,
        store: &Store,
        c: &Connection,
        on_progress: &(dyn Fn(SyncProgress) + Sync),
    ) -> Result<SyncRun, SyncClientError> {
        let progress = |p: SyncProgress| {
            *self.progress.lock().unwrap_or_else(|p| p.into_inner()) = Some(p);
            on_progress(p);
            !self.cancel.load(Ordering::SeqCst)
        };
        let mut force = false;
        loop {
            let token = self.access_token(store, c, force).await?;
            let transport = self.transport(c, token)?.with_site(store.site_id().0);
            match store.sync_with_progress(&transport, PAGE, &progress).await {
                Ok(run) => return Ok(run),
                Err(SyncError::Transport(text)) => match transport.take_last_error() {
                    // The access token ran out mid-run: once more with a fresh one.
                    Some(ClientError::AuthExpired) if !force => force = true,
                    Some(e) => return Err(client_error(e)),
                    None => return Err(SyncFault::Offline(text).into()),
                },
                Err(SyncError::Store(e)) => return Err(e.into()),
                Err(SyncError::Rejected(r)) => {
                    let first = r.first().map(|r| format!("{} ({:?})", r.reason, r.code)).unwrap_or_default();
                    return Err(SyncFault::Refused(format!("{} change(s) refused: {first}", r.len())).into());
                }
                Err(SyncError::Protocol(why)) => return Err(SyncFault::Refused(format!("out of protocol: {why}")).into()),
            }
        }
    }

    /// The library's sync endpoints with an access token, over the desk's
    /// one HTTP client.
    fn transport(&self, c: &Connection, token: String) -> Result<HttpTransport, SyncClientError> {
        let client = match self.client.get() {
            Some(client) => client.clone(),
            None => {
                let built = crate::build_client(&self.options).map_err(client_error)?;
                self.client.get_or_init(|| built).clone()
            }
        };
        HttpTransport::with_client(client, &c.server, c.library_id, Credential::Bearer(token)).map_err(client_error)
    }

    /// Waits (a long poll of up to `wait`) until the server has changes
    /// this store has not pulled: `Ok(true)` then, `Ok(false)` when none
    /// came. The desktop syncs as soon as it answers `true`, so a change
    /// made at another desk shows here within a moment, not at the next
    /// scheduled run.
    pub async fn wait_for_server(&self, store: &Store, wait: Duration) -> Result<bool, SyncClientError> {
        let c = Self::connection(store).await?.ok_or(SyncFault::NotConnected)?;
        let after = store.sync_cursor().await?;
        let mut force = false;
        loop {
            let token = self.access_token(store, &c, force).await?;
            match self.transport(&c, token)?.wait_for_changes(after, wait).await {
                Ok(more) => return Ok(more),
                Err(ClientError::AuthExpired) if !force => force = true,
                Err(e) => return Err(client_error(e)),
            }
        }
    }

    pub async fn overview(&self, store: &Store) -> Result<SyncOverview, SyncClientError> {
        Ok(SyncOverview {
            connection: Self::connection(store).await?,
            status: store.sync_status().await?,
            last_run: Self::last_run(store).await?,
            running: self.is_running(),
            progress: *self.progress.lock().unwrap_or_else(|p| p.into_inner()),
        })
    }
}

fn names(libraries: &[crate::api::LibraryInfo]) -> String {
    libraries.iter().map(|l| format!("'{}'", l.name)).collect::<Vec<_>>().join(", ")
}

/// Renew a minute before the server's expiry (clocks and requests take time).
fn renew_after(t: &Tokens) -> Instant {
    Instant::now() + Duration::from_secs(t.expires_in.max(0) as u64).saturating_sub(Duration::from_secs(60))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_server_of_another_protocol_version_says_to_update() {
        let e = client_error(ClientError::Refused {
            status: 400,
            code: "unsupported_protocol".into(),
            message: "sync protocol 1 is not spoken here; this server speaks version 2".into(),
        });
        let text = e.to_string();
        assert!(matches!(e, SyncClientError::Sync(SyncFault::Refused(_))), "{e:?}");
        assert!(text.contains("update Shelfkeeper") && text.contains("speaks version 2"), "{text}");
    }
}
