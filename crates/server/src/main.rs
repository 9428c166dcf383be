//! `shelfkeeper-server [--config FILE]`: loads the configuration (file, then
//! `SHELFKEEPER_SERVER_*`), applies migrations, serves until SIGINT/SIGTERM.

use shelfkeeper_server::{AppState, Config, config, serve, shutdown_signal, telemetry};
use std::path::PathBuf;
use std::process::ExitCode;

fn usage() -> &'static str {
    "usage: shelfkeeper-server [--config FILE]                     serve\n       shelfkeeper-server [--config FILE] account disable EMAIL  sign an account out everywhere and refuse it\n       shelfkeeper-server [--config FILE] account enable EMAIL\n       shelfkeeper-server [--config FILE] account create EMAIL [--library NAME]\n                          a verified account, its password read from standard input;\n                          with --library, a new library it administers (prints its id)\n\nSettings come from FILE (TOML) or $SHELFKEEPER_SERVER_CONFIG, then from\nSHELFKEEPER_SERVER_* variables (e.g. SHELFKEEPER_SERVER_LISTEN=0.0.0.0:8080,\nSHELFKEEPER_SERVER_DATABASE_URL=postgres://..., SHELFKEEPER_SERVER_SMTP_HOST=...).\nWith none, it serves 127.0.0.1:8080 on a SQLite file in the XDG data directory."
}

#[tokio::main]
async fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let mut file: Option<PathBuf> = None;
    let mut command: Vec<String> = Vec::new();
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
            // Options of a command (`account create … --library NAME`) are the command's.
            other if other.starts_with('-') && command.is_empty() => {
                eprintln!("error: unexpected option '{other}'\n\n{}", usage());
                return ExitCode::from(2);
            }
            other => command.push(other.to_owned()),
        }
    }
    let cfg = match Config::load(file.as_deref(), std::env::vars()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    if !command.is_empty() {
        return run_command(cfg, &command).await;
    }
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

/// Operator commands on the configured database.
async fn run_command(cfg: Config, command: &[String]) -> ExitCode {
    if let [a, op, email, rest @ ..] = command
        && a == "account"
        && op == "create"
    {
        let library = match rest {
            [] => None,
            [flag, name] if flag == "--library" => Some(name.clone()),
            _ => {
                eprintln!("error: unknown command '{}'\n\n{}", command.join(" "), usage());
                return ExitCode::from(2);
            }
        };
        return create_account(cfg, email, library.as_deref()).await;
    }
    let (disable, email) = match command {
        [a, op, email] if a == "account" && (op == "disable" || op == "enable") => (op == "disable", email),
        _ => {
            eprintln!("error: unknown command '{}'\n\n{}", command.join(" "), usage());
            return ExitCode::from(2);
        }
    };
    let db = match cfg.resolved_database_url() {
        Ok(url) => shelfkeeper_server::db::Db::connect(&url).await,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let db = match db {
        Ok(db) => db,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let email = email.trim().to_lowercase();
    let result = async {
        let Some(account) = db.account_by_email(&email).await? else { return Ok(false) };
        db.set_disabled(&account.id, disable).await?;
        if disable {
            // Requests are refused at once anyway; this also ends the sessions for good.
            db.revoke_sessions_of(&account.id, None, "account disabled").await?;
        }
        Ok::<bool, sqlx::Error>(true)
    }
    .await;
    match result {
        Ok(true) => {
            println!("account {email} {}", if disable { "disabled" } else { "enabled" });
            ExitCode::SUCCESS
        }
        Ok(false) => {
            eprintln!("error: no account has the address {email}");
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The first administrator of a new server, without a mail server: the
/// account is created verified (the operator vouches for the address).
async fn create_account(cfg: Config, email: &str, library: Option<&str>) -> ExitCode {
    let mut password = String::new();
    if let Err(e) = std::io::stdin().read_line(&mut password) {
        eprintln!("error: cannot read the password from standard input: {e}");
        return ExitCode::FAILURE;
    }
    let password = password.trim_end_matches(['\r', '\n']).to_owned();
    let Some(email) = shelfkeeper_server::auth::normalise_email(email) else {
        eprintln!("error: '{email}' is not an email address");
        return ExitCode::from(2);
    };
    if let Err(e) = shelfkeeper_domain::password::check_policy(&password, &email) {
        eprintln!("error: {e}");
        return ExitCode::from(2);
    }
    let state = match AppState::new(cfg).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = async {
        let hash = shelfkeeper_domain::password::hash(&password).map_err(|e| e.to_string())?;
        let id = shelfkeeper_domain::ids::AccountId::new().to_string();
        if !state.db.insert_account(&id, &email, "", &hash).await.map_err(|e| e.to_string())? {
            return Err(format!("an account with the address {email} already exists"));
        }
        state.db.mark_email_verified(&id).await.map_err(|e| e.to_string())?;
        println!("account {email} created");
        if let Some(name) = library {
            let lib = uuid::Uuid::now_v7().to_string();
            state.db.create_library(&lib, name, &id).await.map_err(|e| e.to_string())?;
            println!("library {lib} '{name}' created, administered by {email}");
        }
        Ok(())
    }
    .await;
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
