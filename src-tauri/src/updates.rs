//! Updates: look for a new version, download it with progress, check its
//! signature, back up the store, install it and restart into it.
//!
//! Rust drives the whole update through `tauri-plugin-updater`; the webview
//! has no updater permission and only calls the four commands in
//! `commands.rs`, which call the functions here. The endpoint and the public
//! key come from `plugins.updater` in `tauri.conf.json`: an `https` endpoint
//! and the release key in production; the end-to-end test builds with an
//! overlay (`tests/update/tauri.update-test.json`) that points at a local
//! server and a throwaway key.
//!
//! What can go wrong, and what is left: a failed check changes nothing; a
//! download that fails or whose signature does not match is dropped before
//! anything is touched (`update_download_failed`,
//! `update_signature_invalid`); a backup that fails stops the update before
//! the installer runs (`update_backup_failed`); an installer that fails
//! (`update_install_failed`) leaves the package manager's previous version
//! in place. In every case the running program goes on working.

use crate::error::{DeskError, DeskResult as Result};
use crate::state::AppState;
use serde::Serialize;
use shelfkeeper_domain::access::Action;
use shelfkeeper_domain::model::StoreMode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;
use tauri::{AppHandle, Emitter, Manager};
use tauri_plugin_updater::{Update, UpdaterExt};

/// A newer version the update server offers.
#[derive(Clone, Debug, PartialEq, Serialize, ts_rs::TS)]
pub struct UpdateInfo {
    pub version: String,
    pub current_version: String,
    /// Release notes, as written in the release (plain text or Markdown).
    pub notes: Option<String>,
    /// When it was published (RFC 3339), if the server says.
    pub date: Option<String>,
}

/// What Settings → Updates shows.
#[derive(Clone, Debug, PartialEq, Serialize, ts_rs::TS)]
pub struct UpdateStatus {
    pub current_version: String,
    pub check_automatically: bool,
    /// The update found by the last check, if any.
    pub available: Option<UpdateInfo>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum UpdatePhase {
    Downloading,
    Verifying,
    BackingUp,
    Installing,
    Restarting,
}

/// Progress of an update, sent as the `update-progress` event. `total` 0
/// means the size is unknown (an indeterminate bar).
#[derive(Clone, Debug, PartialEq, Serialize, ts_rs::TS)]
pub struct UpdateProgress {
    pub phase: UpdatePhase,
    pub done: u64,
    pub total: u64,
}

/// The update found by the last check, and whether one is being installed.
#[derive(Default)]
pub struct Updates {
    pending: tokio::sync::Mutex<Option<Update>>,
    installing: AtomicBool,
}

fn info(u: &Update) -> UpdateInfo {
    UpdateInfo {
        version: u.version.clone(),
        current_version: u.current_version.clone(),
        notes: u.body.clone().filter(|b| !b.trim().is_empty()),
        date: u.date.and_then(|d| chrono::DateTime::from_timestamp(d.unix_timestamp(), 0)).map(|d| d.to_rfc3339()),
    }
}

fn emit(app: &AppHandle, phase: UpdatePhase, done: u64, total: u64) {
    let _ = app.emit("update-progress", UpdateProgress { phase, done, total });
}

/// How an updater error reads to the user, with its code.
fn classify(e: tauri_plugin_updater::Error, stage: UpdatePhase) -> DeskError {
    use tauri_plugin_updater::Error as U;
    match e {
        U::Minisign(_) | U::Base64(_) | U::SignatureUtf8(_) | U::SignedVersionMismatch { .. } | U::MissingSignedVersion => {
            DeskError::UpdateSignature(e.to_string())
        }
        _ if stage == UpdatePhase::Downloading => DeskError::UpdateDownload(e.to_string()),
        U::PackageInstallFailed | U::DebInstallFailed => DeskError::UpdateInstall(
            "the package manager refused the package (it needs administrator rights: pkexec, sudo or a password prompt)".into(),
        ),
        _ => DeskError::UpdateInstall(e.to_string()),
    }
}

pub fn current_version(app: &AppHandle) -> String {
    app.package_info().version.to_string()
}

pub async fn status(app: &AppHandle) -> UpdateStatus {
    let updates = app.state::<Updates>();
    let available = updates.pending.lock().await.as_ref().map(info);
    UpdateStatus {
        current_version: current_version(app),
        check_automatically: app.state::<AppState>().check_updates_automatically(),
        available,
    }
}

/// Asks the update server whether a newer version exists. Remembers what it
/// found for `install`, and tells every window (`update-available`).
pub async fn check(app: &AppHandle) -> Result<Option<UpdateInfo>> {
    let started = Instant::now();
    let updater = app.updater().map_err(|e| DeskError::UpdateCheck(e.to_string()))?;
    let found = updater.check().await.map_err(|e| DeskError::UpdateCheck(e.to_string()))?;
    let found_info = found.as_ref().map(info);
    eprintln!(
        "shelfkeeper: update check: {} in {} ms",
        found_info.as_ref().map(|i| format!("version {} available", i.version)).unwrap_or_else(|| "up to date".into()),
        started.elapsed().as_millis()
    );
    let updates = app.state::<Updates>();
    *updates.pending.lock().await = found;
    if let Some(i) = &found_info {
        let _ = app.emit("update-available", i.clone());
    }
    Ok(found_info)
}

/// The check at start-up, unless the user turned it off. Failing quietly is
/// right here: being offline is normal for a local-first program.
pub async fn check_on_start(app: AppHandle) {
    if !app.state::<AppState>().check_updates_automatically() {
        return;
    }
    if let Err(e) = check(&app).await {
        eprintln!("shelfkeeper: the update check at start failed: {e}");
    }
}

/// Who may update: anyone on a personal collection (or with no store yet);
/// in a library, whoever may change its settings.
async fn may_update(state: &AppState) -> Result<()> {
    match state.store().await {
        Err(DeskError::NoStore) => Ok(()),
        Err(e) => Err(e),
        Ok(store) if store.mode() == StoreMode::Collection => Ok(()),
        Ok(_) => Ok(state.actor().await?.require(Action::ManageSettings)?),
    }
}

/// Downloads the update found by the last check (progress as
/// `update-progress`), which verifies its signature, backs up the store
/// with the verified backup, installs the package and restarts the program
/// into the new version (whose migrations run when it opens the store).
pub async fn install(app: &AppHandle) -> Result<()> {
    let state = app.state::<AppState>();
    may_update(&state).await?;
    let updates = app.state::<Updates>();
    let update = updates.pending.lock().await.clone().ok_or(DeskError::NoUpdate)?;
    if updates.installing.swap(true, Ordering::SeqCst) {
        return Err(DeskError::UpdateInstall("an update is already being installed".into()));
    }
    let result = install_inner(app, &state, &update).await;
    updates.installing.store(false, Ordering::SeqCst);
    if result.is_ok() {
        emit(app, UpdatePhase::Restarting, 1, 1);
        // Close the store cleanly (its WAL checkpointed), then restart: Tauri
        // ends this process and starts the installed binary.
        state.close_store().await;
        app.request_restart();
    }
    result
}

async fn install_inner(app: &AppHandle, state: &AppState, update: &Update) -> Result<()> {
    let started = Instant::now();
    let mut done = 0u64;
    let mut last_sent = 0u64;
    emit(app, UpdatePhase::Downloading, 0, 0);
    let bytes = update
        .download(
            |chunk, total| {
                done += chunk as u64;
                let total = total.unwrap_or(0);
                // One event per 1% (or 256 KiB when the size is unknown).
                let step = if total > 0 { (total / 100).max(1) } else { 256 << 10 };
                if done - last_sent >= step || (total > 0 && done >= total) {
                    last_sent = done;
                    emit(app, UpdatePhase::Downloading, done, total);
                }
            },
            || emit(app, UpdatePhase::Verifying, 0, 0),
        )
        .await
        .map_err(|e| classify(e, UpdatePhase::Downloading))?;
    eprintln!(
        "shelfkeeper: update {}: downloaded and verified {} bytes in {} ms",
        update.version,
        bytes.len(),
        started.elapsed().as_millis()
    );

    emit(app, UpdatePhase::BackingUp, 0, 0);
    let started = Instant::now();
    match state.store().await {
        Err(DeskError::NoStore) => eprintln!("shelfkeeper: no store yet, nothing to back up before the update"),
        Err(e) => return Err(DeskError::UpdateBackup(e.to_string())),
        Ok(store) => {
            let report = store.backup_to_folder().await.map_err(|e| DeskError::UpdateBackup(e.to_string()))?;
            eprintln!(
                "shelfkeeper: backed up the store before the update to {} ({} titles) in {} ms",
                report.path,
                report.titles,
                started.elapsed().as_millis()
            );
        }
    }

    emit(app, UpdatePhase::Installing, 0, 0);
    let started = Instant::now();
    let to_install = update.clone();
    // The installer waits for the package manager: off the async threads.
    tauri::async_runtime::spawn_blocking(move || to_install.install(bytes))
        .await
        .map_err(|e| DeskError::UpdateInstall(e.to_string()))?
        .map_err(|e| classify(e, UpdatePhase::Installing))?;
    eprintln!("shelfkeeper: installed update {} in {} ms", update.version, started.elapsed().as_millis());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{CommandErrorCode, DeskErrorCode};
    use tauri_plugin_updater::Error as U;

    #[test]
    fn each_failure_has_its_own_code_and_says_why() {
        let sig = classify(U::SignatureUtf8("bad".into()), UpdatePhase::Downloading);
        assert_eq!(sig.code(), CommandErrorCode::Desk(DeskErrorCode::UpdateSignatureInvalid));
        assert!(sig.to_string().contains("signature does not match"), "{sig}");
        assert_eq!(
            classify(U::SignedVersionMismatch { signed: "0.2.0".into(), announced: "0.3.0".into() }, UpdatePhase::Installing).code(),
            CommandErrorCode::Desk(DeskErrorCode::UpdateSignatureInvalid)
        );
        let net = classify(U::Network("Download request failed with status: 404".into()), UpdatePhase::Downloading);
        assert_eq!(net.code(), CommandErrorCode::Desk(DeskErrorCode::UpdateDownloadFailed));
        assert!(net.to_string().contains("404"));
        let install = classify(U::PackageInstallFailed, UpdatePhase::Installing);
        assert_eq!(install.code(), CommandErrorCode::Desk(DeskErrorCode::UpdateInstallFailed));
        assert!(install.to_string().contains("administrator rights"), "{install}");
        assert_eq!(
            classify(U::InvalidUpdaterFormat, UpdatePhase::Installing).code(),
            CommandErrorCode::Desk(DeskErrorCode::UpdateInstallFailed)
        );
    }
}
