//! Backups: write one, check one, restore one.

use crate::render::print;
use shelfkeeper_domain::Result;
use shelfkeeper_store::Store;
use std::path::Path;

pub async fn backup(store: &Store, dest: &Path, json: bool) -> Result<()> {
    let r = store.backup_to(dest).await?;
    print(json, &r, |r| {
        format!(
            "Backed up to {} ({:.1} MiB): {} titles, {} copies, {} members, {} events — verified",
            r.path,
            r.bytes as f64 / 1048576.0,
            r.titles,
            r.copies,
            r.members,
            r.events
        )
    });
    Ok(())
}

pub async fn verify(file: &Path, json: bool) -> Result<()> {
    let r = shelfkeeper_store::verify_backup(file).await?;
    print(json, &r, |r| {
        format!("{} is a healthy store: {} titles, {} copies, {} members, {} events", r.path, r.titles, r.copies, r.members, r.events)
    });
    Ok(())
}

/// Replaces the store file at `store_path` with `backup`; the store is not
/// open (see `run` in main.rs).
pub async fn restore(store_path: &Path, backup: &Path, json: bool) -> Result<()> {
    let r = shelfkeeper_store::restore_backup(backup, store_path).await?;
    let kept = store_path.with_extension("before-restore");
    print(json, &r, |r| {
        format!(
            "Restored {} from {} (verified: {} titles, {} copies, {} members, {} events){}",
            store_path.display(),
            r.path,
            r.titles,
            r.copies,
            r.members,
            r.events,
            if kept.exists() { format!("; the replaced store is kept as {}", kept.display()) } else { String::new() }
        )
    });
    Ok(())
}
