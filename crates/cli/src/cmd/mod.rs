//! One function per subcommand, grouped by what it works on. Each runs on
//! the open store (the commands that create or replace the file take its
//! path) and prints its result with [`crate::render::print`].

pub mod accounts;
pub mod backup;
pub mod catalogue;
pub mod circulation;
pub mod import_export;
pub mod store_file;
pub mod sync;

use shelfkeeper_domain::access::Actor;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// Whom the command line acts as: the owner, with full rights on a store it
/// can open.
pub const ME: &Actor = &Actor::OWNER;

/// A password for a command: `SHELFKEEPER_PASSWORD` when set, else one line
/// of standard input. Never an argument: `ps` shows a process's arguments
/// to every user of the machine.
pub fn read_password() -> shelfkeeper_domain::Result<String> {
    if let Ok(p) = std::env::var("SHELFKEEPER_PASSWORD") {
        return Ok(p);
    }
    let mut password = String::new();
    std::io::stdin()
        .read_line(&mut password)
        .map_err(|e| shelfkeeper_domain::Error::invalid("password", format!("cannot read it from standard input: {e}")))?;
    Ok(password.trim_end_matches(['\r', '\n']).to_owned())
}

/// A flag that Ctrl-C sets, for the long-running commands to stop on.
pub fn cancel_on_ctrl_c() -> Arc<AtomicBool> {
    let cancel = Arc::new(AtomicBool::new(false));
    let flag = cancel.clone();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            flag.store(true, Ordering::Relaxed);
        }
    });
    cancel
}
