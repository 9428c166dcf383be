//! What the desktop remembers: which store is open, who is logged in, and
//! (in a small settings file) where the store lives between launches.

use crate::error::{DeskError, DeskResult};
use serde::{Deserialize, Serialize};
use shelfkeeper_domain::access::Actor;
use shelfkeeper_domain::ids::{AccountId, MemberId};
use shelfkeeper_domain::model::{Account, Role, StoreMode};
use shelfkeeper_store::{MemoryBudget, Store};
use std::path::PathBuf;
use tokio::sync::RwLock;

/// How much memory the desktop lets the store use: [`MemoryBudget::DESKTOP`],
/// unless `SHELFKEEPER_MMAP_MIB` says how much of the file to map (a large
/// library on a machine with memory to spare can map more).
pub fn memory_budget() -> MemoryBudget {
    let mmap = std::env::var("SHELFKEEPER_MMAP_MIB").ok().and_then(|v| v.trim().parse::<u64>().ok());
    match mmap {
        Some(mib) => MemoryBudget { mmap_bytes: mib << 20, ..MemoryBudget::DESKTOP },
        None => MemoryBudget::DESKTOP,
    }
}

/// The logged-in account (library mode only).
#[derive(Clone, Debug, PartialEq, Serialize, ts_rs::TS)]
pub struct SessionInfo {
    pub username: String,
    pub role: Role,
    pub member_id: Option<MemberId>,
    /// The member card of a member account, for "my loans".
    pub card: Option<String>,
    #[serde(skip)]
    #[ts(skip)]
    pub account_id: Option<AccountId>,
}

impl SessionInfo {
    pub fn of(account: &Account, card: Option<String>) -> Self {
        SessionInfo {
            username: account.username.clone(),
            role: account.role,
            member_id: account.member_id,
            card,
            account_id: Some(account.id),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, ts_rs::TS)]
pub struct StoreInfo {
    pub path: String,
    pub mode: StoreMode,
    pub site_id: String,
}

/// Everything the UI needs to decide which screen to show.
#[derive(Clone, Debug, PartialEq, Serialize, ts_rs::TS)]
pub struct AppStatus {
    pub store: Option<StoreInfo>,
    pub default_store_path: String,
    pub session: Option<SessionInfo>,
    /// A library store is open and nobody is logged in.
    pub needs_login: bool,
}

/// The desktop settings file (`settings.json` in the app's config folder).
/// Fields added later have defaults, so an older file still reads.
#[derive(Serialize, Deserialize)]
struct Settings {
    store_path: Option<PathBuf>,
    /// Look for a new version when the program starts (Settings → Updates).
    #[serde(default = "yes")]
    check_updates_automatically: bool,
}

fn yes() -> bool {
    true
}

impl Default for Settings {
    fn default() -> Self {
        Settings { store_path: None, check_updates_automatically: true }
    }
}

pub struct AppState {
    store: RwLock<Option<Store>>,
    session: RwLock<Option<SessionInfo>>,
    settings_file: PathBuf,
    default_store: PathBuf,
}

impl AppState {
    pub fn new(config_dir: PathBuf, data_dir: PathBuf) -> Self {
        AppState {
            store: RwLock::new(None),
            session: RwLock::new(None),
            settings_file: config_dir.join("settings.json"),
            default_store: data_dir.join("shelfkeeper.sqlite3"),
        }
    }

    fn settings(&self) -> Settings {
        std::fs::read(&self.settings_file).ok().and_then(|b| serde_json::from_slice(&b).ok()).unwrap_or_default()
    }

    fn save_settings(&self, s: &Settings) -> DeskResult<()> {
        if let Some(dir) = self.settings_file.parent() {
            std::fs::create_dir_all(dir).map_err(|e| DeskError::Desktop(format!("cannot write settings in {}: {e}", dir.display())))?;
        }
        let bytes = serde_json::to_vec_pretty(s).map_err(|e| DeskError::Desktop(e.to_string()))?;
        std::fs::write(&self.settings_file, bytes)
            .map_err(|e| DeskError::Desktop(format!("cannot write {}: {e}", self.settings_file.display())))
    }

    /// The open store, opening the remembered one on first use.
    pub async fn store(&self) -> DeskResult<Store> {
        if let Some(s) = self.store.read().await.as_ref() {
            return Ok(s.clone());
        }
        let mut slot = self.store.write().await;
        if let Some(s) = slot.as_ref() {
            return Ok(s.clone());
        }
        let path = self.settings().store_path.filter(|p| p.exists()).ok_or(DeskError::NoStore)?;
        let store = Store::open_with(&path, memory_budget()).await?;
        *slot = Some(store.clone());
        Ok(store)
    }

    /// Replaces the open store (after create, open or restore) and logs out.
    pub async fn set_store(&self, store: Option<Store>) -> DeskResult<()> {
        let path = store.as_ref().map(|s| s.path().to_path_buf());
        let old = std::mem::replace(&mut *self.store.write().await, store);
        *self.session.write().await = None;
        if let Some(old) = old {
            old.close().await;
        }
        self.save_settings(&Settings { store_path: path, ..self.settings() })
    }

    /// Closes the open store (checkpointing its WAL) but keeps remembering
    /// it: before the program restarts into an update.
    pub async fn close_store(&self) {
        let old = self.store.write().await.take();
        if let Some(old) = old {
            old.close().await;
        }
    }

    pub fn check_updates_automatically(&self) -> bool {
        self.settings().check_updates_automatically
    }

    pub fn set_check_updates_automatically(&self, on: bool) -> DeskResult<()> {
        self.save_settings(&Settings { check_updates_automatically: on, ..self.settings() })
    }

    pub async fn set_session(&self, session: Option<SessionInfo>) {
        *self.session.write().await = session;
    }

    /// Who is acting: the owner of a collection, or the logged-in account of
    /// a library.
    pub async fn actor(&self) -> DeskResult<Actor> {
        let store = self.store().await?;
        match store.mode() {
            StoreMode::Collection => Ok(Actor::OWNER),
            StoreMode::Library => match self.session.read().await.as_ref() {
                Some(SessionInfo { account_id: Some(id), role, member_id, .. }) => Ok(Actor::account(*id, *role, *member_id)),
                _ => Err(DeskError::NotLoggedIn),
            },
        }
    }

    pub async fn status(&self) -> AppStatus {
        let store = self.store().await.ok();
        let session = self.session.read().await.clone();
        let needs_login = matches!(store.as_ref().map(|s| s.mode()), Some(StoreMode::Library)) && session.is_none();
        AppStatus {
            store: store.map(|s| StoreInfo { path: s.path().display().to_string(), mode: s.mode(), site_id: s.site_id().to_string() }),
            default_store_path: self.default_store.display().to_string(),
            session,
            needs_login,
        }
    }

    pub fn default_store(&self) -> PathBuf {
        self.default_store.clone()
    }
}
