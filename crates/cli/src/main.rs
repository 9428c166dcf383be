//! `shelfkeeper`: the command-line tool for Shelfkeeper stores. A thin
//! adapter like the desktop shell: it parses arguments, calls the store and
//! prints the result or the error's code and message.

use clap::{Args, Parser, Subcommand, ValueEnum};
use shelfkeeper_domain::access::Actor;
use shelfkeeper_domain::ids::TitleId;
use shelfkeeper_domain::import::{ImportSummary, RowKind};
use shelfkeeper_domain::model::{Contributor, CopyDraft, MemberDraft, Role, StoreMode, TitleDraft};
use shelfkeeper_domain::search::{Filters, SearchRequest, SortOrder};
use shelfkeeper_domain::{Error, Result};
use shelfkeeper_store::{GenerateSpec, Progress, Store};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

#[derive(Parser)]
#[command(name = "shelfkeeper", version, about = "Shelfkeeper library stores from the command line")]
struct Cli {
    /// The store file.
    #[arg(long, short, env = "SHELFKEEPER_STORE", global = true, default_value = "shelfkeeper.sqlite3")]
    store: PathBuf,
    /// Print results as JSON.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum SyncCommand {
    /// Connect this store to a server's library: signs in (the password is
    /// read from standard input, one line), registers the store as a device
    /// and keeps the refresh token in the OS keychain.
    Connect {
        /// The server's address, e.g. https://library.example.org
        server: String,
        /// The account's email (staff of the library).
        email: String,
        /// The library's id or name (when the account works in several).
        #[arg(long)]
        library: Option<String>,
        /// How the server lists this store.
        #[arg(long, default_value = "Command line")]
        device: String,
    },
    /// Push local changes and pull the server's, now.
    Now,
    /// The connection, changes waiting, the last run and open conflicts.
    Status,
    /// Forget the server (local data stays; the keychain entry is removed).
    Disconnect,
    /// Conflicts found while merging: open ones first, then resolved ones.
    Conflicts,
    /// Mark a conflict resolved (the resolution syncs to every desk).
    Resolve {
        /// The conflict's key, as `sync conflicts` shows it.
        key: String,
        /// What was done, for the next person.
        #[arg(long, default_value = "")]
        note: String,
        /// Discard the kept version of a row edited after it was deleted.
        #[arg(long)]
        discard: bool,
    },
}

#[derive(Subcommand)]
enum Command {
    /// Create a new store file.
    Init {
        /// A library (staff, members, circulation) rather than a personal collection.
        #[arg(long)]
        library: bool,
    },
    /// Counts and file size.
    Info,
    /// Add a title (and optionally copies of it).
    AddTitle(AddTitle),
    /// Show a title by id or ISBN, with its copies.
    Show { id_or_isbn: String },
    /// Make an image file (JPEG, PNG, WebP or GIF, at most 2 MiB) the cover of a title.
    SetCover { id_or_isbn: String, file: PathBuf },
    /// Search the catalogue.
    Find(Find),
    /// Add a copy of a title.
    AddCopy {
        title_id: TitleId,
        barcode: String,
        #[arg(long)]
        location: Option<String>,
        #[arg(long)]
        shelf: Option<String>,
    },
    /// Add a member.
    AddMember {
        card: String,
        name: String,
        #[arg(long = "type", default_value = "adult")]
        member_type: String,
        #[arg(long)]
        email: Option<String>,
    },
    /// Lend a copy to a member.
    Checkout { card: String, barcode: String },
    /// Return a copy.
    Checkin { barcode: String },
    /// Renew a loan.
    Renew { barcode: String },
    /// Place a hold on a title for a member.
    Hold { card: String, title_id: TitleId },
    /// Open loans (or only overdue ones).
    Loans {
        #[arg(long)]
        overdue: bool,
        #[arg(long, default_value_t = 100)]
        limit: u32,
    },
    /// A member's loan history.
    History { card: String },
    /// Add an account; the password is read from SHELFKEEPER_PASSWORD.
    AddAccount {
        username: String,
        #[arg(long, value_enum, default_value = "librarian")]
        role: RoleArg,
        #[arg(long, env = "SHELFKEEPER_PASSWORD", hide_env_values = true)]
        password: String,
    },
    /// Write a verified online backup to a new file.
    Backup { dest: PathBuf },
    /// Check that a backup file is a whole, healthy store.
    Verify { file: PathBuf },
    /// Replace the store with a backup. The backup is verified first
    /// (integrity check, counts; a damaged file changes nothing) and the
    /// replaced store is kept beside it as `<name>.before-restore`. Close the
    /// desktop program on this store first.
    Restore { backup: PathBuf },
    /// Fill a new store with a synthetic collection (benchmarks, demos).
    Generate(Generate),
    /// Sync with a Shelfkeeper server: connect, sync now, status, disconnect.
    #[command(subcommand)]
    Sync(SyncCommand),
    /// Read a file (CSV from Shelfkeeper, Goodreads, LibraryThing, Libib or
    /// Calibre; MARC21; MARCXML; JSON) and show what importing it would do;
    /// with --commit, import it.
    Import(ImportArgs),
    /// Imports made or started here, newest first.
    Imports,
    /// Commit a staged import, or carry on with one that stopped part-way.
    ImportCommit {
        id: String,
        /// Write the rows that failed here, to fix and import again.
        #[arg(long)]
        failed: Option<PathBuf>,
    },
    /// Drop a staged import without importing it.
    ImportDiscard { id: String },
    /// Write the catalogue to a file: .csv (Shelfkeeper CSV), .json or .xml (MARCXML).
    Export {
        file: PathBuf,
        #[arg(long, value_enum)]
        format: Option<ExportFormatArg>,
    },
    /// Look an ISBN up (the store's cache first, then Open Library, Google
    /// Books and the Library of Congress); with --add, catalogue it with its cover.
    Lookup {
        isbn: String,
        #[arg(long)]
        add: bool,
        /// Ask the providers even if the cache has a fresh answer.
        #[arg(long)]
        refresh: bool,
        /// Apply what was found to the catalogued title (locked fields stay).
        #[arg(long, conflicts_with = "add")]
        update: bool,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum ExportFormatArg {
    Csv,
    Json,
    Marcxml,
}

#[derive(Clone, Copy, ValueEnum)]
enum PresetArg {
    Shelfkeeper,
    Goodreads,
    Librarything,
    Libib,
    Calibre,
}

#[derive(Clone, Copy, ValueEnum)]
enum FormatArg {
    Csv,
    Marc21,
    Marcxml,
    Json,
}

#[derive(Args)]
struct ImportArgs {
    file: PathBuf,
    /// The file's format; sniffed from its first bytes when not given.
    #[arg(long, value_enum)]
    format: Option<FormatArg>,
    /// CSV: whose export this is; recognised from the header when not given.
    #[arg(long, value_enum)]
    preset: Option<PresetArg>,
    /// CSV: the file's encoding (utf-8, windows-1252, latin1, utf-16le, ...).
    #[arg(long)]
    encoding: Option<String>,
    /// CSV: which column feeds which field, as JSON (see --save-mapping).
    #[arg(long)]
    mapping: Option<PathBuf>,
    /// CSV: write the mapping in use as JSON, to edit and pass to --mapping.
    #[arg(long)]
    save_mapping: Option<PathBuf>,
    /// Import after showing the preview.
    #[arg(long)]
    commit: bool,
    /// Write the rows that failed here, to fix and import again.
    #[arg(long)]
    failed: Option<PathBuf>,
    /// How many rows of each kind the preview lists.
    #[arg(long, default_value_t = 5)]
    show: i64,
}

#[derive(Clone, Copy, ValueEnum)]
enum RoleArg {
    Admin,
    Librarian,
    Member,
}

#[derive(Args)]
struct AddTitle {
    #[arg(long)]
    title: String,
    #[arg(long)]
    subtitle: Option<String>,
    /// Repeat for several authors.
    #[arg(long = "author")]
    authors: Vec<String>,
    #[arg(long)]
    isbn: Option<String>,
    #[arg(long)]
    published: Option<String>,
    #[arg(long)]
    language: Option<String>,
    #[arg(long = "subject")]
    subjects: Vec<String>,
    #[arg(long = "tag")]
    tags: Vec<String>,
    #[arg(long)]
    notes: Option<String>,
    /// Barcode of a copy to add with the title; repeat for several.
    #[arg(long = "copy")]
    copies: Vec<String>,
    #[arg(long)]
    location: Option<String>,
}

#[derive(Args)]
struct Find {
    text: Vec<String>,
    #[arg(long, default_value_t = 20)]
    limit: u32,
    #[arg(long, value_enum, default_value = "relevance")]
    sort: SortArg,
    #[arg(long)]
    subject: Option<String>,
    #[arg(long)]
    tag: Option<String>,
    #[arg(long)]
    language: Option<String>,
    #[arg(long)]
    year_from: Option<i32>,
    #[arg(long)]
    year_to: Option<i32>,
    #[arg(long)]
    available: bool,
    #[arg(long)]
    location: Option<String>,
}

#[derive(Clone, Copy, ValueEnum)]
enum SortArg {
    Relevance,
    Title,
    Author,
    Newest,
    Oldest,
    Added,
}

#[derive(Args)]
struct Generate {
    #[arg(long, default_value_t = 500_000)]
    titles: u64,
    #[arg(long)]
    copies: Option<u64>,
    #[arg(long)]
    members: Option<u64>,
    #[arg(long)]
    past_loans: Option<u64>,
    #[arg(long)]
    open_loans: Option<u64>,
    #[arg(long, default_value_t = 42)]
    seed: u64,
}

fn print<T: serde::Serialize>(json: bool, value: &T, human: impl FnOnce(&T) -> String) {
    if json {
        println!("{}", serde_json::to_string_pretty(value).unwrap_or_default());
    } else {
        println!("{}", human(value));
    }
}

async fn run(cli: Cli) -> Result<()> {
    let json = cli.json;
    if let Command::Init { library } = cli.command {
        let mode = if library { StoreMode::Library } else { StoreMode::Collection };
        let store = Store::create(&cli.store, mode).await?;
        println!("Created {} ({}) at {}", mode.as_str(), store.site_id(), cli.store.display());
        return Ok(());
    }
    if let Command::Restore { backup } = &cli.command {
        // The store must be closed while its file is replaced: never opened here.
        let r = shelfkeeper_store::restore_backup(backup, &cli.store).await?;
        let kept = cli.store.with_extension("before-restore");
        print(json, &r, |r| {
            format!(
                "Restored {} from {} (verified: {} titles, {} copies, {} members, {} events){}",
                cli.store.display(),
                r.path,
                r.titles,
                r.copies,
                r.members,
                r.events,
                if kept.exists() { format!("; the replaced store is kept as {}", kept.display()) } else { String::new() }
            )
        });
        return Ok(());
    }
    let store = Store::open(&cli.store).await?;
    let result = execute(&store, cli.command, json).await;
    // Closing checkpoints the WAL into the store file, so a command leaves
    // one self-contained file behind (a bulk load can leave gigabytes).
    store.close().await;
    result
}

/// Runs one command on an open store.
async fn execute(store: &Store, command: Command, json: bool) -> Result<()> {
    let me = &Actor::OWNER;
    match command {
        Command::Init { .. } | Command::Restore { .. } => unreachable!("handled above"),
        Command::Sync(command) => sync(store, command, json).await?,
        Command::Info => {
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
        }
        Command::AddTitle(a) => {
            let draft = TitleDraft {
                title: a.title,
                subtitle: a.subtitle,
                contributors: a.authors.into_iter().map(Contributor::author).collect(),
                isbn: a.isbn,
                published: a.published,
                language: a.language,
                subjects: a.subjects,
                tags: a.tags,
                notes: a.notes,
                ..Default::default()
            };
            let title = store.add_title(me, &draft).await?;
            for b in &a.copies {
                store.add_copy(me, title.id, &CopyDraft { barcode: b.clone(), location: a.location.clone(), ..Default::default() }).await?;
            }
            let title = store.title(title.id).await?;
            print(json, &title, |t| {
                format!("Added '{}' ({}) with {} {}", t.title, t.id, t.copy_count, if t.copy_count == 1 { "copy" } else { "copies" })
            });
        }
        Command::SetCover { id_or_isbn, file } => {
            let title = find_title(store, &id_or_isbn).await?;
            let bytes = std::fs::read(&file).map_err(|e| Error::InvalidCover(format!("{} cannot be read: {e}", file.display())))?;
            let t = store.set_cover(me, title.id, &bytes, "file").await?;
            print(json, &t, |t| format!("Set the cover of '{}' ({} bytes)", t.title, bytes.len()));
        }
        Command::Show { id_or_isbn } => {
            let title = find_title(store, &id_or_isbn).await?;
            let copies = store.copies_of(title.id).await?;
            print(json, &(&title, &copies), |(t, copies)| {
                let mut s = format!("{}{}\n", t.title, t.subtitle.as_ref().map(|x| format!(": {x}")).unwrap_or_default());
                let names: Vec<&str> = t.contributors.iter().map(|c| c.name.as_str()).collect();
                s += &format!("  by {}\n  id {}  ISBN {}\n", names.join(", "), t.id, t.isbn13.as_deref().unwrap_or("-"));
                for c in copies.iter() {
                    s += &format!("  copy {} [{}] {}\n", c.barcode, c.status.as_str(), c.location.as_deref().unwrap_or(""));
                }
                s
            });
        }
        Command::Find(f) => {
            let req = SearchRequest {
                text: f.text.join(" "),
                filters: Filters {
                    subject: f.subject,
                    tag: f.tag,
                    language: f.language,
                    year_from: f.year_from,
                    year_to: f.year_to,
                    available: f.available,
                    location: f.location,
                },
                sort: match f.sort {
                    SortArg::Relevance => SortOrder::Relevance,
                    SortArg::Title => SortOrder::Title,
                    SortArg::Author => SortOrder::Author,
                    SortArg::Newest => SortOrder::YearNewest,
                    SortArg::Oldest => SortOrder::YearOldest,
                    SortArg::Added => SortOrder::RecentlyAdded,
                },
                cursor: None,
                limit: Some(f.limit),
            };
            let page = store.search(&req).await?;
            print(json, &page, |p| {
                let mut s = format!("{}{} matches\n", p.total.value, if p.total.exact { "" } else { "+" });
                for h in &p.hits {
                    s += &format!(
                        "{}  {} — {} ({})  {}/{} available\n",
                        h.id,
                        h.title,
                        h.authors.join(", "),
                        h.year.map(|y| y.to_string()).unwrap_or_default(),
                        h.available_count,
                        h.copy_count
                    );
                }
                s
            });
        }
        Command::AddCopy { title_id, barcode, location, shelf } => {
            let copy = store.add_copy(me, title_id, &CopyDraft { barcode, location, shelf, ..Default::default() }).await?;
            print(json, &copy, |c| format!("Added copy {}", c.barcode));
        }
        Command::AddMember { card, name, member_type, email } => {
            let m = store.add_member(me, &MemberDraft { card, name, member_type, email, ..Default::default() }).await?;
            print(json, &m, |m| format!("Added member {} {}", m.card, m.name));
        }
        Command::Checkout { card, barcode } => {
            let r = store.check_out(me, &card, &barcode).await?;
            print(json, &r, |r| format!("Lent '{}' to {}, due {}", r.loan.title, r.loan.member_name, r.loan.due_on));
        }
        Command::Checkin { barcode } => {
            let r = store.check_in(me, &barcode).await?;
            print(json, &r, |r| {
                let mut s = format!("Returned '{}'", r.title);
                if r.days_overdue > 0 {
                    s += &format!(" ({} days overdue)", r.days_overdue);
                }
                if r.found {
                    s += " (it had been marked lost)";
                }
                if let Some(h) = &r.hold {
                    s += &format!(" — hold waiting for {} ({}): put it on the hold shelf until {}", h.member_name, h.card, h.expires_on);
                }
                s
            });
        }
        Command::Renew { barcode } => {
            let r = store.renew(me, &barcode).await?;
            print(json, &r, |r| format!("Renewed '{}' for {}, now due {}", r.loan.title, r.loan.member_name, r.loan.due_on));
        }
        Command::Hold { card, title_id } => {
            let h = store.place_hold(me, &card, title_id).await?;
            print(json, &h, |h| format!("{} is number {} in the queue for '{}'", h.member_name, h.position.unwrap_or(0), h.title));
        }
        Command::Loans { overdue, limit } => {
            let today = chrono::Utc::now().date_naive();
            let loans = store.open_loans(overdue, today, limit).await?;
            print(json, &loans, |ls| {
                ls.iter()
                    .map(|l| {
                        let late = l.days_overdue(today);
                        format!(
                            "{}  {}  {} ({})  due {}{}",
                            l.barcode,
                            l.title,
                            l.member_name,
                            l.card,
                            l.due_on,
                            if late > 0 { format!("  {late} days overdue") } else { String::new() }
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
            });
        }
        Command::History { card } => {
            let m = store.member(&card).await?;
            let loans = store.loans_of_member(m.id, true).await?;
            print(json, &loans, |ls| {
                ls.iter()
                    .map(|l| {
                        format!(
                            "{}  {}  out {}  {}",
                            l.barcode,
                            l.title,
                            l.out_at.date_naive(),
                            l.returned_at.map(|r| format!("returned {}", r.date_naive())).unwrap_or_else(|| format!("due {}", l.due_on))
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
            });
        }
        Command::AddAccount { username, role, password } => {
            let role = match role {
                RoleArg::Admin => Role::Admin,
                RoleArg::Librarian => Role::Librarian,
                RoleArg::Member => Role::Member,
            };
            let a = store.create_account(Some(me), &username, &password, role, None).await?;
            print(json, &a, |a| format!("Added account {} ({})", a.username, a.role.as_str()));
        }
        Command::Backup { dest } => {
            let r = store.backup_to(&dest).await?;
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
        }
        Command::Verify { file } => {
            let r = shelfkeeper_store::verify_backup(&file).await?;
            print(json, &r, |r| {
                format!(
                    "{} is a healthy store: {} titles, {} copies, {} members, {} events",
                    r.path, r.titles, r.copies, r.members, r.events
                )
            });
        }
        Command::Import(a) => {
            use shelfkeeper_interchange::{CsvOptions, Format, ImportOptions, Mapping, Preset};
            let mapping: Option<Mapping> = match &a.mapping {
                Some(path) => {
                    let text =
                        std::fs::read_to_string(path).map_err(|e| Error::ImportFile(format!("{} cannot be read: {e}", path.display())))?;
                    Some(
                        serde_json::from_str(&text)
                            .map_err(|e| Error::ImportFile(format!("{}: not a column mapping: {e}", path.display())))?,
                    )
                }
                None => None,
            };
            let options = ImportOptions {
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
            };
            let cancel = cancel_on_ctrl_c();
            let staged = shelfkeeper_app::stage_file(store, me, &a.file, &options, progress_line(json), &cancel).await?;
            if let (Some(path), Some(m)) = (&a.save_mapping, &staged.info.mapping) {
                let text = serde_json::to_string_pretty(m).map_err(|e| Error::Export(e.to_string()))?;
                std::fs::write(path, text).map_err(|e| Error::Export(format!("{} cannot be written: {e}", path.display())))?;
            }
            if !json {
                eprintln!();
                let what = match staged.info.preset {
                    Some(p) => p.label().to_string(),
                    None => staged.info.format.as_str().to_uppercase(),
                };
                println!(
                    "{} read as {what}{}",
                    a.file.display(),
                    staged.info.encoding.as_deref().map(|e| format!(" ({e})")).unwrap_or_default()
                );
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
            }
            if a.commit {
                let done = store.commit_import(me, &staged.summary.id, progress_line(json), &cancel).await?;
                finish_import(store, &done, a.failed.as_deref(), json).await?;
            } else {
                print(json, &staged, |s| format!("Nothing imported yet. To import: shelfkeeper import-commit {}", s.summary.id));
            }
        }
        Command::Imports => {
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
        }
        Command::ImportCommit { id, failed } => {
            let cancel = cancel_on_ctrl_c();
            // A committed import only reports again (and writes the failed rows).
            let summary = store.import_summary(&id).await?;
            let done = match summary.state {
                shelfkeeper_domain::import::ImportState::Committed => summary,
                _ => store.commit_import(me, &id, progress_line(json), &cancel).await?,
            };
            finish_import(store, &done, failed.as_deref(), json).await?;
        }
        Command::ImportDiscard { id } => {
            store.discard_import(me, &id).await?;
            print(json, &id, |id| format!("Discarded import {id}"));
        }
        Command::Export { file, format } => {
            use shelfkeeper_app::ExportFormat;
            let format = match format {
                Some(ExportFormatArg::Csv) => ExportFormat::Csv,
                Some(ExportFormatArg::Json) => ExportFormat::Json,
                Some(ExportFormatArg::Marcxml) => ExportFormat::MarcXml,
                None => ExportFormat::from_path(&file).ok_or_else(|| {
                    Error::Export(format!("say --format csv, json or marcxml ({} has no known extension)", file.display()))
                })?,
            };
            let cancel = cancel_on_ctrl_c();
            let r = shelfkeeper_app::export_catalogue(store, &file, format, progress_line(json), &cancel).await?;
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
        }
        Command::Lookup { isbn, add, refresh, update } => {
            let client = shelfkeeper_app::metadata_client()?;
            let a = shelfkeeper_app::lookup_isbn(store, &client, &isbn, refresh).await?;
            if update {
                let t = a.existing.as_ref().ok_or_else(|| Error::TitleNotFound(a.isbn13.clone()))?;
                let found = a.draft.clone().ok_or_else(|| Error::Lookup(a.message.clone()))?;
                let (title, changes) = store.refresh_title(me, t.id, &found, &a.sources).await?;
                print(json, &changes, |changes| {
                    let mut out = format!("Updated '{}': {} fields changed", title.title, changes.len());
                    for c in changes {
                        out.push_str(&format!(
                            "\n  {:<13} {} → {}  [{}]",
                            c.field.as_str(),
                            c.before.as_deref().unwrap_or("—"),
                            c.after.as_deref().unwrap_or("—"),
                            c.source
                        ));
                    }
                    out
                });
            } else if add {
                if let Some(t) = &a.existing {
                    return Err(Error::DuplicateIsbn { isbn: a.isbn13.clone(), title: t.title.clone() });
                }
                let draft = a.draft.clone().ok_or_else(|| Error::Lookup(a.message.clone()))?;
                let added = shelfkeeper_app::add_from_lookup(store, &client, me, &draft).await?;
                print(json, &added, |x| {
                    format!(
                        "Added '{}' ({}){}",
                        x.title.title,
                        x.title.id,
                        x.cover_problem.as_ref().map(|p| format!("; {p}")).unwrap_or_else(|| if x.title.cover_ref.is_some() {
                            " with its cover".into()
                        } else {
                            String::new()
                        })
                    )
                });
            } else {
                print(json, &a, |a| {
                    let mut out = format!("{}{}", a.message, if a.from_cache { " (from the cache)" } else { "" });
                    if let Some(t) = &a.existing {
                        out.push_str(&format!("\nAlready catalogued: '{}' ({})", t.title, t.id));
                    }
                    if let Some(d) = &a.draft {
                        for f in shelfkeeper_domain::provenance::TitleField::ALL {
                            if let Some(v) = f.value(d) {
                                out.push_str(&format!(
                                    "\n  {:<13} {}  [{}]",
                                    f.as_str(),
                                    v,
                                    a.sources.get(&f).map(String::as_str).unwrap_or("")
                                ));
                            }
                        }
                    }
                    for p in &a.providers {
                        out.push_str(&format!(
                            "\n  {}: {}{}",
                            p.label,
                            p.outcome,
                            p.detail.as_ref().map(|d| format!(" ({d})")).unwrap_or_default()
                        ));
                    }
                    out
                });
            }
        }
        Command::Generate(g) => {
            let base = GenerateSpec::scaled(g.titles);
            let spec = GenerateSpec {
                titles: g.titles,
                copies: g.copies.unwrap_or(base.copies),
                members: g.members.unwrap_or(base.members),
                past_loans: g.past_loans.unwrap_or(base.past_loans),
                open_loans: g.open_loans.unwrap_or(base.open_loans),
                seed: g.seed,
            };
            let cancel = Arc::new(AtomicBool::new(false));
            let flag = cancel.clone();
            tokio::spawn(async move {
                if tokio::signal::ctrl_c().await.is_ok() {
                    flag.store(true, Ordering::Relaxed);
                }
            });
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
        }
    }
    Ok(())
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let json = cli.json;
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            if json {
                eprintln!("{}", serde_json::to_string(&e.to_payload()).unwrap_or_default());
            } else {
                eprintln!("error[{}]: {e}", e.code());
            }
            ExitCode::FAILURE
        }
    }
}

/// A title by its id or its ISBN.
async fn find_title(store: &Store, id_or_isbn: &str) -> Result<shelfkeeper_domain::model::Title> {
    match id_or_isbn.parse::<TitleId>() {
        Ok(id) => store.title(id).await,
        Err(_) => store.title_by_isbn(id_or_isbn).await?.ok_or_else(|| Error::TitleNotFound(id_or_isbn.to_string())),
    }
}

fn cancel_on_ctrl_c() -> Arc<AtomicBool> {
    let cancel = Arc::new(AtomicBool::new(false));
    let flag = cancel.clone();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            flag.store(true, Ordering::Relaxed);
        }
    });
    cancel
}

/// Progress on one line of stderr (nothing with --json).
fn progress_line(json: bool) -> impl FnMut(Progress) {
    move |p: Progress| {
        if !json {
            if p.total > 0 {
                eprint!("\r{}: {}/{}   ", p.phase, p.done, p.total);
            } else {
                eprint!("\r{}: {}   ", p.phase, p.done);
            }
        }
    }
}

fn preview_counts(s: &ImportSummary) -> String {
    format!("{} rows: {} new, {} updates, {} duplicates, {} errors", s.total, s.new, s.update, s.duplicate, s.error)
}

async fn finish_import(store: &Store, done: &ImportSummary, failed: Option<&std::path::Path>, json: bool) -> Result<()> {
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

async fn sync(store: &Store, command: SyncCommand, json: bool) -> Result<()> {
    use shelfkeeper_store::ConflictAction;
    use shelfkeeper_sync_client::keychain::OsKeychain;
    use shelfkeeper_sync_client::{ConnectRequest, DeskSync, Options};
    let desk = DeskSync::new(Arc::new(OsKeychain), Options::default());
    let me = &Actor::OWNER;
    match command {
        SyncCommand::Connect { server, email, library, device } => {
            let mut password = String::new();
            std::io::stdin()
                .read_line(&mut password)
                .map_err(|e| Error::invalid("password", format!("cannot read it from standard input: {e}")))?;
            let password = password.trim_end_matches(['\r', '\n']).to_owned();
            let req = ConnectRequest { server, email, password, library, device_name: device };
            let c = desk.connect(store, me, req).await?;
            print(json, &c, |c| {
                format!("Connected to '{}' on {} as {} (this store is the device '{}')", c.library_name, c.server, c.email, c.device_name)
            });
        }
        SyncCommand::Now => {
            let shown = AtomicBool::new(false);
            let run = desk
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
                    if r.clock_ahead > 0 {
                        format!("; {} changes came from clocks ahead of this one", r.clock_ahead)
                    } else {
                        String::new()
                    }
                )
            });
        }
        SyncCommand::Status => {
            let o = desk.overview(store).await?;
            print(json, &o, |o| {
                let mut out = match &o.connection {
                    Some(c) => format!(
                        "Connected to '{}' on {} as {} (device '{}', every {} s)",
                        c.library_name, c.server, c.email, c.device_name, c.interval_secs
                    ),
                    None => "Not connected to a sync server".to_owned(),
                };
                out.push_str(&format!(
                    "\n{} changes waiting to be sent, {} open conflicts",
                    o.status.pending_changes, o.status.open_conflicts
                ));
                if let Some(r) = &o.last_run {
                    match &r.error {
                        Some(e) => out.push_str(&format!("\nLast sync {} failed: {e}", r.finished_at)),
                        None => out.push_str(&format!("\nLast sync {}: {} sent, {} received", r.finished_at, r.pushed, r.pulled)),
                    }
                }
                out
            });
        }
        SyncCommand::Disconnect => {
            desk.disconnect(store, me).await?;
            if !json {
                println!("Disconnected; everything local is kept");
            }
        }
        SyncCommand::Conflicts => {
            let list = store.sync_conflicts().await?;
            print(json, &list, |list| {
                if list.is_empty() {
                    return "No conflicts".to_owned();
                }
                let line = |c: &shelfkeeper_store::SyncConflict| {
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
        }
        SyncCommand::Resolve { key, note, discard } => {
            let action = if discard { ConflictAction::Discarded } else { ConflictAction::Acknowledged };
            let c = store.resolve_conflict(me, &key, action, &note).await?;
            print(json, &c, |c| format!("Resolved {} ({}); it syncs to the other desks with the next sync", c.key, c.kind));
        }
    }
    Ok(())
}
