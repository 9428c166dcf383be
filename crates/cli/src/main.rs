//! `shelfkeeper`: the command-line tool for Shelfkeeper stores. A thin
//! adapter like the desktop shell: it parses arguments, calls the store and
//! prints the result or the error's code and message.
//!
//! `args` defines the command line, `cmd` has one function per subcommand
//! (grouped by what it works on) and `render` prints results.

mod args;
mod cmd;
mod render;

use args::{Cli, Command};
use clap::Parser;
use cmd::{accounts, backup, catalogue, circulation, import_export, store_file, sync};
use shelfkeeper_store::Store;
use shelfkeeper_sync_client::SyncClientError;
use std::process::ExitCode;

/// A command's failure: the domain's error or, from `sync`, the sync
/// client's own; either prints as one code and message.
type CliError = SyncClientError;

async fn run(cli: Cli) -> Result<(), CliError> {
    let json = cli.json;
    match cli.command {
        Command::Init { library } => Ok(store_file::init(&cli.store, library).await?),
        // The store must be closed while its file is replaced: never opened here.
        Command::Restore { backup } => Ok(backup::restore(&cli.store, &backup, json).await?),
        command => {
            let store = Store::open(&cli.store).await?;
            let result = execute(&store, command, json).await;
            // Closing checkpoints the WAL into the store file, so a command leaves
            // one self-contained file behind (a bulk load can leave gigabytes).
            store.close().await;
            result
        }
    }
}

/// Runs one command on an open store.
async fn execute(store: &Store, command: Command, json: bool) -> Result<(), CliError> {
    if let Command::Sync(command) = command {
        return sync::run(store, command, json).await;
    }
    Ok(match command {
        Command::Init { .. } | Command::Restore { .. } | Command::Sync(_) => unreachable!("handled above"),
        Command::Info => store_file::info(store, json).await,
        Command::AddTitle(a) => catalogue::add_title(store, a, json).await,
        Command::SetCover { id_or_isbn, file } => catalogue::set_cover(store, &id_or_isbn, &file, json).await,
        Command::Show { id_or_isbn } => catalogue::show(store, &id_or_isbn, json).await,
        Command::Find(f) => catalogue::find(store, f, json).await,
        Command::AddCopy { title_id, barcode, location, shelf } => {
            catalogue::add_copy(store, title_id, barcode, location, shelf, json).await
        }
        Command::AddMember { card, name, member_type, email } => circulation::add_member(store, card, name, member_type, email, json).await,
        Command::Checkout { card, barcode } => circulation::checkout(store, &card, &barcode, json).await,
        Command::Checkin { barcode } => circulation::checkin(store, &barcode, json).await,
        Command::Renew { barcode } => circulation::renew(store, &barcode, json).await,
        Command::Hold { card, title_id } => circulation::hold(store, &card, title_id, json).await,
        Command::Loans { overdue, limit } => circulation::loans(store, overdue, limit, json).await,
        Command::History { card } => circulation::history(store, &card, json).await,
        Command::AddAccount { username, role } => accounts::add_account(store, &username, role, json).await,
        Command::Backup { dest } => backup::backup(store, &dest, json).await,
        Command::Verify { file } => backup::verify(&file, json).await,
        Command::Import(a) => import_export::import(store, a, json).await,
        Command::Imports => import_export::imports(store, json).await,
        Command::ImportCommit { id, failed } => import_export::import_commit(store, &id, failed.as_deref(), json).await,
        Command::ImportDiscard { id } => import_export::import_discard(store, &id, json).await,
        Command::Export { file, format } => import_export::export(store, &file, format, json).await,
        Command::Lookup { isbn, add, refresh, update } => catalogue::lookup(store, &isbn, add, refresh, update, json).await,
        Command::Generate(g) => store_file::generate(store, g, json).await,
    }?)
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let json = cli.json;
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            if json {
                eprintln!("{}", serde_json::json!({ "code": e.code(), "message": e.to_string() }));
            } else {
                eprintln!("error[{}]: {e}", e.code());
            }
            ExitCode::FAILURE
        }
    }
}
