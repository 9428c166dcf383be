//! Sync in the desktop: the commands Settings → Sync and the status bar
//! call, and the background loop that syncs the open store on its schedule.
//! The work is `shelfkeeper_sync_client::DeskSync`'s; this only wires it to
//! Tauri (state, events) and never blocks the UI: a run happens on the
//! async runtime and reports with `sync-progress` and `sync-status` events.

use crate::commands::{Cmd, fail};
use crate::error::DeskResult;
use crate::state::AppState;
use shelfkeeper_store::{ConflictAction, SyncConflict, SyncProgress, SyncRun};
use shelfkeeper_sync_client::desk::{DEFAULT_INTERVAL_SECS, LONG_POLL, local_changes};
use shelfkeeper_sync_client::keychain::OsKeychain;
use shelfkeeper_sync_client::{ConnectRequest, Connection, DeskSync, Options, SyncOverview};
use std::sync::Arc;
use std::time::Duration;
use tauri::{AppHandle, Emitter, Manager, State};

/// The desktop's sync engine and the bell that wakes the background loop.
pub struct SyncService {
    desk: Arc<DeskSync>,
    wake: Arc<tokio::sync::Notify>,
}

impl Default for SyncService {
    fn default() -> Self {
        SyncService { desk: Arc::new(DeskSync::new(Arc::new(OsKeychain), Options::default())), wake: Arc::default() }
    }
}

/// The first background run after launch: soon, but after the window.
const FIRST_RUN_AFTER: Duration = Duration::from_secs(3);

async fn emit_overview(app: &AppHandle) {
    let Ok(store) = app.state::<AppState>().store().await else { return };
    if let Ok(o) = app.state::<SyncService>().desk.overview(&store).await {
        let _ = app.emit("sync-status", o);
    }
}

/// One run on the open store, reported to the UI.
async fn run(app: &AppHandle) -> DeskResult<SyncRun> {
    let store = app.state::<AppState>().store().await?;
    let desk = app.state::<SyncService>().desk.clone();
    let progress_app = app.clone();
    let result = desk
        .sync_now(&store, move |p: SyncProgress| {
            let _ = progress_app.emit("sync-progress", p);
        })
        .await;
    emit_overview(app).await;
    Ok(result?)
}

/// Resolves when the server has changes this store has not pulled (a long
/// poll, renewed while nothing comes). While the server cannot be reached
/// it never resolves: the schedule retries.
async fn server_changes(desk: &DeskSync, store: &shelfkeeper_store::Store) {
    loop {
        match desk.wait_for_server(store, LONG_POLL).await {
            Ok(true) => return,
            Ok(false) => continue,
            Err(_) => return std::future::pending().await,
        }
    }
}

/// Syncs the open store while the program runs: on its schedule, when
/// woken (connect, schedule changed), as soon as a local write leaves
/// changes to send, and as soon as the server has changes from another
/// desk (long poll). A store that is not connected is left alone; a
/// failed run is recorded in the status and tried again on the next tick.
pub async fn background(app: AppHandle) {
    let wake = app.state::<SyncService>().wake.clone();
    let desk = app.state::<SyncService>().desk.clone();
    tokio::time::sleep(FIRST_RUN_AFTER).await;
    loop {
        let store = app.state::<AppState>().store().await.ok();
        let connection = match &store {
            Some(s) => DeskSync::connection(s).await.ok().flatten(),
            None => None,
        };
        // After a failed run only local writes bring the next one early: a
        // server that keeps answering "there is more" to a desk that cannot
        // apply it must not be asked in a tight loop.
        let healthy = connection.is_some() && run(&app).await.is_ok();
        let every = connection.as_ref().map(|c| c.interval_secs).unwrap_or(DEFAULT_INTERVAL_SECS);
        let live = async {
            match (&store, &connection) {
                (Some(store), Some(_)) => {
                    tokio::select! {
                        _ = local_changes(store) => {}
                        _ = server_changes(&desk, store), if healthy => {}
                    }
                }
                _ => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(u64::from(every))) => {}
            _ = wake.notified() => {}
            _ = live => {}
        }
    }
}

#[tauri::command]
pub async fn sync_overview(state: State<'_, AppState>, sync: State<'_, SyncService>) -> Cmd<SyncOverview> {
    let store = state.store().await.map_err(fail)?;
    sync.desk.overview(&store).await.map_err(fail)
}

#[tauri::command]
pub async fn sync_connect(state: State<'_, AppState>, sync: State<'_, SyncService>, request: ConnectRequest) -> Cmd<Connection> {
    let (store, actor) = (state.store().await.map_err(fail)?, state.actor().await.map_err(fail)?);
    let c = sync.desk.connect(&store, &actor, request).await.map_err(fail)?;
    // The first sync starts at once, in the background.
    sync.wake.notify_one();
    Ok(c)
}

#[tauri::command]
pub async fn sync_disconnect(state: State<'_, AppState>, sync: State<'_, SyncService>) -> Cmd<()> {
    let (store, actor) = (state.store().await.map_err(fail)?, state.actor().await.map_err(fail)?);
    sync.desk.disconnect(&store, &actor).await.map_err(fail)
}

/// Syncs now and answers when the run is over (the UI stays live: progress
/// comes as events meanwhile).
#[tauri::command]
pub async fn sync_now(app: AppHandle) -> Cmd<SyncRun> {
    run(&app).await.map_err(fail)
}

#[tauri::command]
pub async fn sync_cancel(sync: State<'_, SyncService>) -> Cmd<()> {
    sync.desk.cancel();
    Ok(())
}

#[tauri::command]
pub async fn sync_set_interval(state: State<'_, AppState>, sync: State<'_, SyncService>, secs: u32) -> Cmd<Connection> {
    let (store, actor) = (state.store().await.map_err(fail)?, state.actor().await.map_err(fail)?);
    let c = sync.desk.set_interval(&store, &actor, secs).await.map_err(fail)?;
    sync.wake.notify_one();
    Ok(c)
}

#[tauri::command]
pub async fn sync_conflicts(state: State<'_, AppState>) -> Cmd<Vec<SyncConflict>> {
    let store = state.store().await.map_err(fail)?;
    store.sync_conflicts().await.map_err(fail)
}

/// Staff settle a conflict; the resolution syncs to every desk.
#[tauri::command]
pub async fn sync_resolve_conflict(
    app: AppHandle,
    state: State<'_, AppState>,
    key: String,
    action: ConflictAction,
    note: String,
) -> Cmd<SyncConflict> {
    let (store, actor) = (state.store().await.map_err(fail)?, state.actor().await.map_err(fail)?);
    let resolved = store.resolve_conflict(&actor, &key, action, &note).await.map_err(fail)?;
    emit_overview(&app).await;
    Ok(resolved)
}
