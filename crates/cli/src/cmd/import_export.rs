//! Imports (preview, commit, carry on, discard) and exports of the catalogue.

use super::{ME, cancel_on_ctrl_c};
use crate::args::{ExportFormatArg, FormatArg, ImportArgs, PresetArg};
use crate::render::{print, progress_line};
use shelfkeeper_app::{ExportFormat, StagedFile};
use shelfkeeper_domain::import::{ImportState, ImportSummary, RowKind};
use shelfkeeper_domain::{Error, Result};
use shelfkeeper_interchange::{CsvOptions, Format, ImportOptions, Mapping, Preset};
use shelfkeeper_store::Store;
use std::path::Path;

fn preview_counts(s: &ImportSummary) -> String {
    format!("{} rows: {} new, {} updates, {} duplicates, {} errors", s.total, s.new, s.update, s.duplicate, s.error)
}

/// How to read the file, from the flags (and the --mapping file).
fn import_options(a: &ImportArgs) -> Result<ImportOptions> {
    let mapping: Option<Mapping> = match &a.mapping {
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|e| Error::ImportFile(format!("{} cannot be read: {e}", path.display())))?;
            Some(serde_json::from_str(&text).map_err(|e| Error::ImportFile(format!("{}: not a column mapping: {e}", path.display())))?)
        }
        None => None,
    };
    Ok(ImportOptions {
        format: a.format.map(|f| match f {
            FormatArg::Csv => Format::Csv,
            FormatArg::Marc21 => Format::Marc21,
            FormatArg::Marcxml => Format::MarcXml,
            FormatArg::Json => Format::Json,
        }),
        csv: CsvOptions {
            encoding: a.encoding.clone(),
            preset: a.preset.map(|p| match p {
                PresetArg::Shelfkeeper => Preset::Shelfkeeper,
                PresetArg::Goodreads => Preset::Goodreads,
                PresetArg::Librarything => Preset::LibraryThing,
                PresetArg::Libib => Preset::Libib,
                PresetArg::Calibre => Preset::Calibre,
            }),
            mapping,
            ..Default::default()
        },
    })
}

/// What the file was read as and the first rows of each kind (text only).
async fn print_preview(store: &Store, a: &ImportArgs, staged: &StagedFile) -> Result<()> {
    let what = match staged.info.preset {
        Some(p) => p.label().to_string(),
        None => staged.info.format.as_str().to_uppercase(),
    };
    println!("{} read as {what}{}", a.file.display(), staged.info.encoding.as_deref().map(|e| format!(" ({e})")).unwrap_or_default());
    if !staged.info.unmapped.is_empty() {
        println!("Columns not imported: {}", staged.info.unmapped.join(", "));
    }
    println!("{}", preview_counts(&staged.summary));
    for kind in [RowKind::Error, RowKind::Update, RowKind::New, RowKind::Duplicate] {
        for r in store.import_rows(&staged.summary.id, Some(kind), 0, a.show).await? {
            println!(
                "  {:<9} {:<12} {}{}",
                kind.as_str(),
                r.position,
                r.title.unwrap_or_default(),
                r.reason.map(|x| format!(" — {x}")).unwrap_or_default()
            );
        }
    }
    Ok(())
}

async fn finish_import(store: &Store, done: &ImportSummary, failed: Option<&Path>, json: bool) -> Result<()> {
    if !json {
        eprintln!();
    }
    let failed_file = shelfkeeper_app::failed_rows_file(store, &done.id).await?;
    if let (Some(path), Some(text)) = (failed, &failed_file) {
        std::fs::write(path, text).map_err(|e| Error::Export(format!("{} cannot be written: {e}", path.display())))?;
    }
    print(json, done, |d| {
        let mut out = format!(
            "Imported: {} titles created, {} updated, {} copies added; {} rows skipped as duplicates, {} failed",
            d.created_titles, d.updated_titles, d.created_copies, d.duplicate, d.error
        );
        match (failed, &failed_file) {
            (Some(p), Some(_)) => out.push_str(&format!("\nThe rows that failed are in {}", p.display())),
            (None, Some(_)) => out.push_str(&format!("\nTo get the rows that failed: shelfkeeper import-commit {} --failed FILE", d.id)),
            _ => {}
        }
        out
    });
    Ok(())
}

pub async fn import(store: &Store, a: ImportArgs, json: bool) -> Result<()> {
    let options = import_options(&a)?;
    let cancel = cancel_on_ctrl_c();
    let staged = shelfkeeper_app::stage_file(store, ME, &a.file, &options, progress_line(json), &cancel).await?;
    if let (Some(path), Some(m)) = (&a.save_mapping, &staged.info.mapping) {
        let text = serde_json::to_string_pretty(m).map_err(|e| Error::Export(e.to_string()))?;
        std::fs::write(path, text).map_err(|e| Error::Export(format!("{} cannot be written: {e}", path.display())))?;
    }
    if !json {
        eprintln!();
        print_preview(store, &a, &staged).await?;
    }
    if a.commit {
        let done = store.commit_import(ME, &staged.summary.id, progress_line(json), &cancel).await?;
        finish_import(store, &done, a.failed.as_deref(), json).await?;
    } else {
        print(json, &staged, |s| format!("Nothing imported yet. To import: shelfkeeper import-commit {}", s.summary.id));
    }
    Ok(())
}

pub async fn imports(store: &Store, json: bool) -> Result<()> {
    let all = store.imports().await?;
    print(json, &all, |all| {
        all.iter()
            .map(|s| {
                format!(
                    "{}  {}  {:<10} {}  {}",
                    s.id,
                    s.staged_at.format("%Y-%m-%d %H:%M"),
                    s.state.as_str(),
                    s.source_name,
                    preview_counts(s)
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
    });
    Ok(())
}

pub async fn import_commit(store: &Store, id: &str, failed: Option<&Path>, json: bool) -> Result<()> {
    let cancel = cancel_on_ctrl_c();
    // A committed import only reports again (and writes the failed rows).
    let summary = store.import_summary(id).await?;
    let done = match summary.state {
        ImportState::Committed => summary,
        _ => store.commit_import(ME, id, progress_line(json), &cancel).await?,
    };
    finish_import(store, &done, failed, json).await
}

pub async fn import_discard(store: &Store, id: &str, json: bool) -> Result<()> {
    store.discard_import(ME, id).await?;
    print(json, &id, |id| format!("Discarded import {id}"));
    Ok(())
}

pub async fn export(store: &Store, file: &Path, format: Option<ExportFormatArg>, json: bool) -> Result<()> {
    let format = match format {
        Some(ExportFormatArg::Csv) => ExportFormat::Csv,
        Some(ExportFormatArg::Json) => ExportFormat::Json,
        Some(ExportFormatArg::Marcxml) => ExportFormat::MarcXml,
        None => ExportFormat::from_path(file)
            .ok_or_else(|| Error::Export(format!("say --format csv, json or marcxml ({} has no known extension)", file.display())))?,
    };
    let cancel = cancel_on_ctrl_c();
    let r = shelfkeeper_app::export_catalogue(store, file, format, progress_line(json), &cancel).await?;
    if !json {
        eprintln!();
    }
    print(json, &r, |r| {
        format!(
            "Wrote {} titles and {} copies to {} ({:.1} MiB) in {:.1} s",
            r.titles,
            r.copies,
            r.path,
            r.bytes as f64 / 1048576.0,
            r.seconds
        )
    });
    Ok(())
}
