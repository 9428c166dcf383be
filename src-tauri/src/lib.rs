//! The Shelfkeeper desktop shell.
//!
//! Only this crate knows about Tauri. Each command converts its arguments,
//! calls the store (which applies the domain's rules) and maps errors to
//! `{code, message}`; no SQL and no business rule lives here. Long work runs
//! off the UI thread and reports progress with `job-progress` events.

mod bindings;
mod catalogue_io;
mod commands;
mod state;
mod sync;
mod updates;

use state::AppState;
use tauri::Manager;

/// When `run` started: the start of the launch, for the `ui_ready` log line.
static LAUNCHED: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();

pub fn run() {
    LAUNCHED.get_or_init(std::time::Instant::now);
    tauri::Builder::default()
        // A second launch focuses the running window instead of opening the
        // same store twice.
        .plugin(tauri_plugin_single_instance::init(|app, _args, _cwd| {
            if let Some(window) = app.get_webview_window("main") {
                let _ = window.unminimize();
                let _ = window.set_focus();
            }
        }))
        .plugin(tauri_plugin_window_state::Builder::default().build())
        .plugin(tauri_plugin_dialog::init())
        // Driven from Rust (updates.rs); the webview gets no updater permission.
        .plugin(tauri_plugin_updater::Builder::new().build())
        .setup(|app| {
            let config_dir = app.path().app_config_dir()?;
            let data_dir = app.path().app_data_dir()?;
            app.manage(AppState::new(config_dir, data_dir));
            app.manage(catalogue_io::IoState::default());
            app.manage(updates::Updates::default());
            app.manage(sync::SyncService::default());
            // Open the remembered store while the webview starts, instead of
            // when the UI first asks for it.
            let handle = app.handle().clone();
            tauri::async_runtime::spawn(async move {
                let _ = handle.state::<AppState>().store().await;
            });
            // Look for a new version (unless turned off in Settings).
            tauri::async_runtime::spawn(updates::check_on_start(app.handle().clone()));
            // Sync the open store with its server, if it has one.
            tauri::async_runtime::spawn(sync::background(app.handle().clone()));
            Ok(())
        })
        // Cover images, served from the store: `cover://localhost/<id>`
        // (`http://cover.localhost/<id>` on Windows), allowed by the CSP's
        // img-src and nothing else.
        .register_asynchronous_uri_scheme_protocol("cover", |ctx, request, responder| {
            let app = ctx.app_handle().clone();
            let id = request.uri().path().trim_start_matches('/').to_string();
            tauri::async_runtime::spawn(async move {
                responder.respond(commands::cover_response(&app.state::<AppState>(), &id).await);
            });
        })
        .invoke_handler(tauri::generate_handler![
            commands::ui_ready,
            commands::app_status,
            commands::create_store,
            commands::open_store,
            commands::login,
            commands::logout,
            commands::search,
            commands::facets,
            commands::title_detail,
            commands::save_title,
            commands::delete_title,
            commands::add_copy,
            commands::update_copy,
            commands::delete_copy,
            commands::set_cover_from_file,
            commands::clear_cover,
            commands::find_members,
            commands::member_detail,
            commands::save_member,
            commands::set_member_blocked,
            commands::member_types,
            commands::save_member_type,
            commands::check_out,
            commands::check_in,
            commands::renew,
            commands::place_hold,
            commands::cancel_hold,
            commands::open_loans,
            commands::active_holds,
            commands::stats,
            commands::accounts,
            commands::create_account,
            commands::update_account,
            commands::backup_now,
            commands::list_backups,
            commands::restore_backup,
            commands::pick_save_path,
            commands::pick_open_path,
            catalogue_io::lookup_isbn,
            catalogue_io::add_title_from_lookup,
            catalogue_io::set_field_lock,
            catalogue_io::cancel_job,
            catalogue_io::pick_import_file,
            catalogue_io::stage_import,
            catalogue_io::import_rows,
            catalogue_io::list_imports,
            catalogue_io::commit_import,
            catalogue_io::discard_import,
            catalogue_io::save_failed_rows,
            catalogue_io::pick_save_file,
            catalogue_io::export_catalogue,
            catalogue_io::default_export_dir,
            commands::update_status,
            commands::set_update_check,
            commands::check_for_update,
            commands::install_update,
            sync::sync_overview,
            sync::sync_connect,
            sync::sync_disconnect,
            sync::sync_now,
            sync::sync_cancel,
            sync::sync_set_interval,
            sync::sync_conflicts,
            sync::sync_resolve_conflict,
        ])
        .run(tauri::generate_context!())
        .expect("error while running Shelfkeeper");
}
