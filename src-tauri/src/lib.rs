//! The Shelfkeeper desktop shell.
//!
//! Only this crate knows about Tauri. Each command converts its arguments,
//! calls the store (which applies the domain's rules) and maps errors to
//! `{code, message}`; no SQL and no business rule lives here. Long work runs
//! off the UI thread and reports progress with `job-progress` events.

mod bindings;
mod catalogue_io;
mod commands;
mod error;
mod hold_shelf;
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
            // Expire uncollected holds on a desk without a server.
            tauri::async_runtime::spawn(hold_shelf::sweep(app.handle().clone()));
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
        // Every #[tauri::command] function (build.rs and wiring.rs make the list).
        .invoke_handler(include!(concat!(env!("OUT_DIR"), "/handler.rs")))
        .run(tauri::generate_context!())
        .expect("error while running Shelfkeeper");
}
