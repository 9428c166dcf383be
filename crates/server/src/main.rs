//! `shelfkeeper-server [--config FILE]`: loads the configuration (file, then
//! `SHELFKEEPER_SERVER_*`), applies migrations, serves until SIGINT/SIGTERM.

use shelfkeeper_server::{AppState, Config, config, serve, shutdown_signal, telemetry};
use std::path::PathBuf;
use std::process::ExitCode;

fn usage() -> &'static str {
    "usage: shelfkeeper-server [--config FILE]\n\nSettings come from FILE (TOML) or $SHELFKEEPER_SERVER_CONFIG, then from\nSHELFKEEPER_SERVER_* variables (e.g. SHELFKEEPER_SERVER_LISTEN=0.0.0.0:8080,\nSHELFKEEPER_SERVER_DATABASE_URL=postgres://..., SHELFKEEPER_SERVER_SMTP_HOST=...).\nWith none, it serves 127.0.0.1:8080 on a SQLite file in the XDG data directory."
}

#[tokio::main]
async fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let mut file: Option<PathBuf> = None;
    while let Some(a) = args.next() {
        match a.as_str() {
            "--config" | "-c" => match args.next() {
                Some(f) => file = Some(PathBuf::from(f)),
                None => {
                    eprintln!("error: --config needs a file\n\n{}", usage());
                    return ExitCode::from(2);
                }
            },
            "--help" | "-h" => {
                println!("{}", usage());
                return ExitCode::SUCCESS;
            }
            other => {
                eprintln!("error: unexpected argument '{other}'\n\n{}", usage());
                return ExitCode::from(2);
            }
        }
    }
    let cfg = match Config::load(file.as_deref(), std::env::vars()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    telemetry::init_logs(cfg.log_format);
    let listen = cfg.listen;
    let db_shown = cfg.resolved_database_url().map(|u| config::redact_url(&u)).unwrap_or_default();
    let state = match AppState::new(cfg).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let listener = match tokio::net::TcpListener::bind(listen).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("error: cannot listen on {listen}: {e}");
            return ExitCode::FAILURE;
        }
    };
    // The bound address, not the configured one: port 0 picks a free port.
    let bound = listener.local_addr().map(|a| a.to_string()).unwrap_or_else(|_| listen.to_string());
    tracing::info!(listen = %bound, database = %db_shown, "shelfkeeper-server listening");
    if let Err(e) = serve(listener, state, shutdown_signal()).await {
        eprintln!("error: {e}");
        return ExitCode::FAILURE;
    }
    tracing::info!("stopped");
    ExitCode::SUCCESS
}
