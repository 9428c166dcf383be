//! Importing files and exporting the catalogue.

use serde::{Deserialize, Serialize};
use shelfkeeper_domain::access::Actor;
use shelfkeeper_domain::import::ImportSummary;
use shelfkeeper_domain::{Error, Result};
use shelfkeeper_interchange::source::{SourceInfo, failed_rows_csv, read_source};
use shelfkeeper_interchange::{CsvWriter, ImportOptions, JsonWriter, MarcXmlWriter, WriteError};
use shelfkeeper_store::{ImportSpec, Progress, Store};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

/// A staged file: what it turned out to be and the preview's counts.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct StagedFile {
    pub info: SourceInfo,
    pub summary: ImportSummary,
}

fn file_name(path: &Path) -> String {
    path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| path.display().to_string())
}

/// Reads a file and stages it: nothing reaches the catalogue until
/// [`Store::commit_import`].
pub async fn stage_file(
    store: &Store,
    actor: &Actor,
    path: &Path,
    options: &ImportOptions,
    progress: impl FnMut(Progress),
    cancel: &AtomicBool,
) -> Result<StagedFile> {
    let bytes = std::fs::read(path).map_err(|e| Error::ImportFile(format!("{} cannot be read: {e}", path.display())))?;
    let (info, records) = read_source(&bytes, options).map_err(|e| Error::ImportFile(format!("{}: {}", file_name(path), e.message)))?;
    let spec =
        ImportSpec { source_name: file_name(path), format: info.format_id().to_string(), source_info: serde_json::to_string(&info).ok() };
    let summary = store.stage_import(actor, &spec, records, progress, cancel).await?;
    Ok(StagedFile { info, summary })
}

/// The rows of an import that failed, as a file shaped like the original
/// with an "Import error" column (see `failed_rows_csv`); `None` if no row
/// failed.
pub async fn failed_rows_file(store: &Store, import_id: &str) -> Result<Option<String>> {
    let rows = store.failed_import_rows(import_id).await?;
    if rows.is_empty() {
        return Ok(None);
    }
    let info: Option<SourceInfo> = store.import_source_info(import_id).await?.and_then(|s| serde_json::from_str(&s).ok());
    // An import staged without what the reader made of the file: its rows
    // go out as they were, with no header to repeat.
    let info = info.unwrap_or_else(|| SourceInfo::of_format(shelfkeeper_interchange::Format::Marc21));
    Ok(Some(failed_rows_csv(&info, &rows)))
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum ExportFormat {
    Csv,
    Json,
    MarcXml,
}

impl ExportFormat {
    /// The format a file name's extension asks for.
    pub fn from_path(path: &Path) -> Option<ExportFormat> {
        match path.extension()?.to_str()?.to_ascii_lowercase().as_str() {
            "csv" => Some(ExportFormat::Csv),
            "json" => Some(ExportFormat::Json),
            "xml" | "marcxml" => Some(ExportFormat::MarcXml),
            _ => None,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct ExportReport {
    pub path: String,
    #[ts(type = "number")]
    pub titles: u64,
    #[ts(type = "number")]
    pub copies: u64,
    #[ts(type = "number")]
    pub bytes: u64,
    pub seconds: f64,
}

enum Writer {
    Csv(Box<CsvWriter<BufWriter<std::fs::File>>>),
    Json(JsonWriter<BufWriter<std::fs::File>>),
    MarcXml(MarcXmlWriter<BufWriter<std::fs::File>>),
}

fn write_err(e: WriteError) -> Error {
    Error::Export(e.to_string())
}

/// Writes the whole catalogue to `path`. The file appears only once it is
/// complete: it is written beside the target and renamed into place.
pub async fn export_catalogue(
    store: &Store,
    path: &Path,
    format: ExportFormat,
    mut progress: impl FnMut(Progress),
    cancel: &AtomicBool,
) -> Result<ExportReport> {
    let started = Instant::now();
    let partial: PathBuf = {
        let mut name = path.file_name().map(|n| n.to_os_string()).unwrap_or_default();
        name.push(".partial");
        path.with_file_name(name)
    };
    let file = std::fs::File::create(&partial).map_err(|e| Error::Export(format!("{} cannot be written: {e}", partial.display())))?;
    let out = BufWriter::with_capacity(1 << 20, file);
    let mut writer = match format {
        ExportFormat::Csv => Writer::Csv(Box::new(CsvWriter::new(out).map_err(write_err)?)),
        ExportFormat::Json => Writer::Json(JsonWriter::new(out)),
        ExportFormat::MarcXml => Writer::MarcXml(MarcXmlWriter::new(out)),
    };
    let total = store.stats().await?.titles.max(0) as u64;
    let result: Result<(u64, u64)> = async {
        let (mut titles, mut copies, mut after) = (0u64, 0u64, 0i64);
        loop {
            if cancel.load(Ordering::Relaxed) {
                return Err(Error::Cancelled);
            }
            let page = store.catalogue_page(after, 2000).await?;
            for (t, cs) in &page.titles {
                match &mut writer {
                    Writer::Csv(w) => w.write(t, cs),
                    Writer::Json(w) => w.write(t, cs),
                    Writer::MarcXml(w) => w.write(t, cs),
                }
                .map_err(write_err)?;
                titles += 1;
                copies += cs.len() as u64;
            }
            progress(Progress { phase: "exporting", done: titles, total });
            match page.next {
                Some(next) => after = next,
                None => return Ok((titles, copies)),
            }
        }
    }
    .await;
    let finished = result.and_then(|counts| {
        let out = match writer {
            Writer::Csv(w) => (*w).finish(),
            Writer::Json(w) => w.finish(),
            Writer::MarcXml(w) => w.finish(),
        }
        .map_err(write_err)?;
        let file = out.into_inner().map_err(|e| Error::Export(e.to_string()))?;
        file.sync_all().map_err(|e| Error::Export(e.to_string()))?;
        Ok(counts)
    });
    let (titles, copies) = match finished {
        Ok(c) => c,
        Err(e) => {
            let _ = std::fs::remove_file(&partial);
            return Err(e);
        }
    };
    std::fs::rename(&partial, path).map_err(|e| Error::Export(format!("{} cannot be written: {e}", path.display())))?;
    let bytes = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    let _ = std::io::stdout().flush();
    Ok(ExportReport { path: path.display().to_string(), titles, copies, bytes, seconds: started.elapsed().as_secs_f64() })
}
