//! Sync with a Shelfkeeper server: connect, sync now, status, disconnect and
//! the conflicts merging found.

use super::ME;
use crate::args::SyncCommand;
use crate::render::print;
use shelfkeeper_store::{ConflictAction, Store, SyncConflict};
use shelfkeeper_sync_client::keychain::OsKeychain;
use shelfkeeper_sync_client::{ConnectRequest, DeskSync, Options};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// Sync's commands fail with the domain's errors or the sync client's own.
type Result<T> = std::result::Result<T, shelfkeeper_sync_client::SyncClientError>;

pub async fn run(store: &Store, command: SyncCommand, json: bool) -> Result<()> {
    match command {
        SyncCommand::Connect { server, email, library, device } => connect(store, server, email, library, device, json).await,
        SyncCommand::Now => now(store, json).await,
        SyncCommand::Status => status(store, json).await,
        SyncCommand::Disconnect => disconnect(store, json).await,
        SyncCommand::Conflicts => conflicts(store, json).await,
        SyncCommand::Resolve { key, note, discard } => resolve(store, &key, &note, discard, json).await,
    }
}

/// The sync client, keeping the refresh token in the OS keychain.
fn desk() -> DeskSync {
    DeskSync::new(Arc::new(OsKeychain), Options::default())
}

async fn connect(store: &Store, server: String, email: String, library: Option<String>, device: String, json: bool) -> Result<()> {
    let password = super::read_password()?;
    let req = ConnectRequest { server, email, password, library, device_name: device };
    let c = desk().connect(store, ME, req).await?;
    print(json, &c, |c| {
        format!("Connected to '{}' on {} as {} (this store is the device '{}')", c.library_name, c.server, c.email, c.device_name)
    });
    Ok(())
}

async fn now(store: &Store, json: bool) -> Result<()> {
    let shown = AtomicBool::new(false);
    let run = desk()
        .sync_now(store, |p| {
            if !json {
                shown.store(true, Ordering::Relaxed);
                eprint!("\r{:?}: {}/{}   ", p.phase, p.done, p.total);
            }
        })
        .await;
    if shown.load(Ordering::Relaxed) {
        eprintln!();
    }
    let run = run?;
    print(json, &run, |r| {
        format!(
            "Synced: {} changes sent, {} received ({} applied), {} new conflicts{}",
            r.pushed,
            r.pulled,
            r.applied,
            r.conflicts,
            if r.clock_ahead > 0 { format!("; {} changes came from clocks ahead of this one", r.clock_ahead) } else { String::new() }
        )
    });
    Ok(())
}

async fn status(store: &Store, json: bool) -> Result<()> {
    let o = desk().overview(store).await?;
    print(json, &o, |o| {
        let mut out = match &o.connection {
            Some(c) => format!(
                "Connected to '{}' on {} as {} (device '{}', every {} s)",
                c.library_name, c.server, c.email, c.device_name, c.interval_secs
            ),
            None => "Not connected to a sync server".to_owned(),
        };
        out.push_str(&format!("\n{} changes waiting to be sent, {} open conflicts", o.status.pending_changes, o.status.open_conflicts));
        if let Some(r) = &o.last_run {
            match &r.error {
                Some(e) => out.push_str(&format!("\nLast sync {} failed: {e}", r.finished_at)),
                None => out.push_str(&format!("\nLast sync {}: {} sent, {} received", r.finished_at, r.pushed, r.pulled)),
            }
        }
        out
    });
    Ok(())
}

async fn disconnect(store: &Store, json: bool) -> Result<()> {
    desk().disconnect(store, ME).await?;
    if !json {
        println!("Disconnected; everything local is kept");
    }
    Ok(())
}

async fn conflicts(store: &Store, json: bool) -> Result<()> {
    let list = store.sync_conflicts().await?;
    print(json, &list, |list| {
        if list.is_empty() {
            return "No conflicts".to_owned();
        }
        let line = |c: &SyncConflict| {
            let about = c.subject.clone().unwrap_or_else(|| format!("{} {}", c.entity, c.entity_id));
            let members = c.members.as_ref().map(|m| format!(" (members {m})")).unwrap_or_default();
            let state = match (&c.resolved_at, &c.resolution) {
                (Some(at), Some(how)) => format!(
                    " — {how} by {} at {at}{}",
                    c.resolved_by.as_deref().unwrap_or("?"),
                    c.resolution_note.as_ref().filter(|n| !n.is_empty()).map(|n| format!(": {n}")).unwrap_or_default()
                ),
                _ => " — open".to_owned(),
            };
            format!("{}  {}: {about}{members}{state}", c.key, c.kind)
        };
        list.iter().map(line).collect::<Vec<_>>().join("\n")
    });
    Ok(())
}

async fn resolve(store: &Store, key: &str, note: &str, discard: bool, json: bool) -> Result<()> {
    let action = if discard { ConflictAction::Discarded } else { ConflictAction::Acknowledged };
    let c = store.resolve_conflict(ME, key, action, note).await?;
    print(json, &c, |c| format!("Resolved {} ({}); it syncs to the other desks with the next sync", c.key, c.kind));
    Ok(())
}
