//! The store file as a whole: create one, count what is in it, fill one
//! with a synthetic collection.

use super::cancel_on_ctrl_c;
use crate::args::Generate;
use crate::render::print;
use shelfkeeper_domain::Result;
use shelfkeeper_domain::model::StoreMode;
use shelfkeeper_store::{GenerateSpec, Store};
use std::path::Path;

/// Creates the store file at `path`; there is no store to open yet.
pub async fn init(path: &Path, library: bool) -> Result<()> {
    let mode = if library { StoreMode::Library } else { StoreMode::Collection };
    let store = Store::create(path, mode).await?;
    println!("Created {} ({}) at {}", mode.as_str(), store.site_id(), path.display());
    Ok(())
}

pub async fn info(store: &Store, json: bool) -> Result<()> {
    let s = store.stats_in_full().await?;
    print(json, &s, |s| {
        format!(
            "{} ({})\n{} titles, {} copies, {} members, {} accounts\n{} open loans ({} overdue), {} loans ever, {} events, {} active holds\n{} changes not yet synced\n{:.1} MiB on disk",
            store.path().display(),
            store.mode().as_str(),
            s.titles,
            s.copies,
            s.members,
            s.accounts,
            s.open_loans,
            s.overdue_loans,
            s.loans_ever.unwrap_or_default(),
            s.events.unwrap_or_default(),
            s.active_holds,
            s.pending_changes,
            s.file_bytes as f64 / 1048576.0
        )
    });
    Ok(())
}

pub async fn generate(store: &Store, g: Generate, json: bool) -> Result<()> {
    let base = GenerateSpec::scaled(g.titles);
    let spec = GenerateSpec {
        titles: g.titles,
        copies: g.copies.unwrap_or(base.copies),
        members: g.members.unwrap_or(base.members),
        past_loans: g.past_loans.unwrap_or(base.past_loans),
        open_loans: g.open_loans.unwrap_or(base.open_loans),
        seed: g.seed,
    };
    let cancel = cancel_on_ctrl_c();
    let report = store
        .generate(
            &spec,
            |p| {
                if !json {
                    eprint!("\r{}: {}/{}   ", p.phase, p.done, p.total);
                }
            },
            &cancel,
        )
        .await?;
    if !json {
        eprintln!();
    }
    print(json, &report, |r| {
        format!(
            "Generated {} titles, {} copies, {} members, {} loans ({} events) in {:.1} s: {:.0} titles/s, {:.0} rows/s",
            r.titles, r.copies, r.members, r.loans, r.events, r.seconds, r.titles_per_second, r.rows_per_second
        )
    });
    Ok(())
}
