//! Commands for getting books in and out: ISBN look-ups, field locks,
//! imports and exports. Like every command: convert, call (the store or the
//! app crate's use cases), map the error.

use crate::commands::{Cmd, ctx, dialog, fail, progress};
use crate::state::AppState;
use serde::Deserialize;
use shelfkeeper_app::{AddedTitle, ExportFormat, ExportReport, LookupAnswer, StagedFile};
use shelfkeeper_domain::Error;
use shelfkeeper_domain::ids::TitleId;
use shelfkeeper_domain::import::{ImportRow, ImportSummary, RowKind};
use shelfkeeper_domain::model::{Title, TitleDraft};
use shelfkeeper_domain::provenance::TitleField;
use shelfkeeper_interchange::ImportOptions;
use shelfkeeper_metadata::Client;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use tauri::{AppHandle, State};
use tokio::sync::OnceCell;

/// The look-up client (made on first use) and the cancel flag of the long
/// job in hand (one at a time: the UI shows one progress bar).
#[derive(Default)]
pub struct IoState {
    client: OnceCell<Client>,
    cancel: std::sync::Mutex<Arc<AtomicBool>>,
}

impl IoState {
    async fn client(&self) -> shelfkeeper_domain::Result<&Client> {
        self.client.get_or_try_init(|| async { shelfkeeper_app::metadata_client() }).await
    }

    /// A fresh cancel flag for a new job.
    fn start_job(&self) -> Arc<AtomicBool> {
        let flag = Arc::new(AtomicBool::new(false));
        *self.cancel.lock().unwrap_or_else(|e| e.into_inner()) = flag.clone();
        flag
    }
}

/// What the cache or the metadata providers know about an ISBN (`refresh`
/// asks the providers again).
#[tauri::command]
pub async fn lookup_isbn(state: State<'_, AppState>, io: State<'_, IoState>, isbn: String, refresh: bool) -> Cmd<LookupAnswer> {
    let (store, actor) = ctx(&state).await.map_err(fail)?;
    actor.require(shelfkeeper_domain::access::Action::ManageCatalogue).map_err(fail)?;
    let client = io.client().await.map_err(fail)?;
    shelfkeeper_app::lookup_isbn(&store, client, &isbn, refresh).await.map_err(fail)
}

/// Adds a title checked after a look-up: fields still as found keep their
/// source; fetches the cover.
#[tauri::command]
pub async fn add_title_from_lookup(state: State<'_, AppState>, io: State<'_, IoState>, draft: TitleDraft) -> Cmd<AddedTitle> {
    let (store, actor) = ctx(&state).await.map_err(fail)?;
    let client = io.client().await.map_err(fail)?;
    shelfkeeper_app::add_from_lookup(&store, client, &actor, &draft).await.map_err(fail)
}

#[tauri::command]
pub async fn set_field_lock(state: State<'_, AppState>, title_id: TitleId, field: TitleField, locked: bool) -> Cmd<Title> {
    let (store, actor) = ctx(&state).await.map_err(fail)?;
    store.set_field_locks(&actor, title_id, &[field], locked).await.map_err(fail)
}

/// Stops the long job in hand (an import's reading or committing, an
/// export) after the batch it is writing.
#[tauri::command]
pub fn cancel_job(io: State<'_, IoState>) {
    io.cancel.lock().unwrap_or_else(|e| e.into_inner()).store(true, Ordering::Relaxed);
}

/// Asks for a file to import; `None` if the dialog was cancelled.
#[tauri::command]
pub async fn pick_import_file(app: AppHandle) -> Cmd<Option<String>> {
    dialog(app, None, ("Catalogue files (CSV, MARC, MARCXML, JSON)", &["csv", "tsv", "txt", "mrc", "marc", "xml", "json"])).await
}

#[derive(Debug, Deserialize, ts_rs::TS)]
pub struct StageRequest {
    pub path: String,
    #[serde(default)]
    pub options: ImportOptions,
}

#[tauri::command]
pub async fn stage_import(app: AppHandle, state: State<'_, AppState>, io: State<'_, IoState>, request: StageRequest) -> Cmd<StagedFile> {
    let (store, actor) = ctx(&state).await.map_err(fail)?;
    let cancel = io.start_job();
    progress(&app, "import", "reading", 0, 0);
    let staged = shelfkeeper_app::stage_file(
        &store,
        &actor,
        std::path::Path::new(&request.path),
        &request.options,
        |p| progress(&app, "import", p.phase, p.done as u32, p.total as u32),
        &cancel,
    )
    .await;
    progress(&app, "import", "done", 1, 1);
    staged.map_err(fail)
}

#[tauri::command]
pub async fn import_rows(state: State<'_, AppState>, id: String, kind: Option<RowKind>, after: i64, limit: i64) -> Cmd<Vec<ImportRow>> {
    let (store, _) = ctx(&state).await.map_err(fail)?;
    store.import_rows(&id, kind, after, limit).await.map_err(fail)
}

#[tauri::command]
pub async fn list_imports(state: State<'_, AppState>) -> Cmd<Vec<ImportSummary>> {
    let (store, _) = ctx(&state).await.map_err(fail)?;
    store.imports().await.map_err(fail)
}

#[tauri::command]
pub async fn commit_import(app: AppHandle, state: State<'_, AppState>, io: State<'_, IoState>, id: String) -> Cmd<ImportSummary> {
    let (store, actor) = ctx(&state).await.map_err(fail)?;
    let cancel = io.start_job();
    let done = store.commit_import(&actor, &id, |p| progress(&app, "import", p.phase, p.done as u32, p.total as u32), &cancel).await;
    progress(&app, "import", "done", 1, 1);
    done.map_err(fail)
}

#[tauri::command]
pub async fn discard_import(state: State<'_, AppState>, id: String) -> Cmd<()> {
    let (store, actor) = ctx(&state).await.map_err(fail)?;
    store.discard_import(&actor, &id).await.map_err(fail)
}

/// Writes the rows that failed to `path` (chosen with `pick_save_file`);
/// `false` if no row failed.
#[tauri::command]
pub async fn save_failed_rows(state: State<'_, AppState>, id: String, path: String) -> Cmd<bool> {
    let (store, _) = ctx(&state).await.map_err(fail)?;
    let Some(text) = shelfkeeper_app::failed_rows_file(&store, &id).await.map_err(fail)? else { return Ok(false) };
    std::fs::write(&path, text).map_err(|e| fail(Error::Export(format!("{path} cannot be written: {e}"))))?;
    Ok(true)
}

/// Asks where to save a file of `kind` (csv, json, xml) under a suggested
/// name; `None` if the dialog was cancelled.
#[tauri::command]
pub async fn pick_save_file(app: AppHandle, kind: String, suggested_name: String) -> Cmd<Option<String>> {
    let filter: (&str, &[&str]) = match kind.as_str() {
        "json" => ("JSON", &["json"]),
        "xml" => ("MARCXML", &["xml"]),
        _ => ("CSV", &["csv"]),
    };
    dialog(app, Some(suggested_name), filter).await
}

/// Exports the catalogue to `path` (typed, or chosen with `pick_save_file`).
#[tauri::command]
pub async fn export_catalogue(
    app: AppHandle,
    state: State<'_, AppState>,
    io: State<'_, IoState>,
    format: ExportFormat,
    path: String,
) -> Cmd<ExportReport> {
    let (store, _) = ctx(&state).await.map_err(fail)?;
    let cancel = io.start_job();
    let report = shelfkeeper_app::export_catalogue(
        &store,
        std::path::Path::new(&path),
        format,
        |p| progress(&app, "export", p.phase, p.done as u32, p.total as u32),
        &cancel,
    )
    .await;
    progress(&app, "export", "done", 1, 1);
    report.map_err(fail)
}

/// Where an export goes unless the person chooses: the documents folder.
#[tauri::command]
pub fn default_export_dir(app: AppHandle) -> String {
    use tauri::Manager;
    app.path().document_dir().or_else(|_| app.path().home_dir()).map(|p| p.display().to_string()).unwrap_or_default()
}
