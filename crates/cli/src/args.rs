//! The command line: every subcommand, flag and argument. The doc comments
//! are the `--help` text.

use clap::{Args, Parser, Subcommand, ValueEnum};
use shelfkeeper_domain::ids::TitleId;
use std::path::PathBuf;

#[derive(Parser)]
#[command(name = "shelfkeeper", version, about = "Shelfkeeper library stores from the command line")]
pub struct Cli {
    /// The store file.
    #[arg(long, short, env = "SHELFKEEPER_STORE", global = true, default_value = "shelfkeeper.sqlite3")]
    pub store: PathBuf,
    /// Print results as JSON.
    #[arg(long, global = true)]
    pub json: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum SyncCommand {
    /// Connect this store to a server's library: signs in (the password is
    /// read from SHELFKEEPER_PASSWORD, or else one line of standard input),
    /// registers the store as a device
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
pub enum Command {
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
    /// Add an account; the password is read from SHELFKEEPER_PASSWORD, or
    /// else one line of standard input (never an argument: `ps` shows
    /// arguments to everyone).
    AddAccount {
        username: String,
        #[arg(long, value_enum, default_value = "librarian")]
        role: RoleArg,
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
pub enum ExportFormatArg {
    Csv,
    Json,
    Marcxml,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum PresetArg {
    Shelfkeeper,
    Goodreads,
    Librarything,
    Libib,
    Calibre,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum FormatArg {
    Csv,
    Marc21,
    Marcxml,
    Json,
}

#[derive(Args)]
pub struct ImportArgs {
    pub file: PathBuf,
    /// The file's format; sniffed from its first bytes when not given.
    #[arg(long, value_enum)]
    pub format: Option<FormatArg>,
    /// CSV: whose export this is; recognised from the header when not given.
    #[arg(long, value_enum)]
    pub preset: Option<PresetArg>,
    /// CSV: the file's encoding (utf-8, windows-1252, latin1, utf-16le, ...).
    #[arg(long)]
    pub encoding: Option<String>,
    /// CSV: which column feeds which field, as JSON (see --save-mapping).
    #[arg(long)]
    pub mapping: Option<PathBuf>,
    /// CSV: write the mapping in use as JSON, to edit and pass to --mapping.
    #[arg(long)]
    pub save_mapping: Option<PathBuf>,
    /// Import after showing the preview.
    #[arg(long)]
    pub commit: bool,
    /// Write the rows that failed here, to fix and import again.
    #[arg(long)]
    pub failed: Option<PathBuf>,
    /// How many rows of each kind the preview lists.
    #[arg(long, default_value_t = 5)]
    pub show: i64,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum RoleArg {
    Admin,
    Librarian,
    Member,
}

#[derive(Args)]
pub struct AddTitle {
    #[arg(long)]
    pub title: String,
    #[arg(long)]
    pub subtitle: Option<String>,
    /// Repeat for several authors.
    #[arg(long = "author")]
    pub authors: Vec<String>,
    #[arg(long)]
    pub isbn: Option<String>,
    #[arg(long)]
    pub published: Option<String>,
    #[arg(long)]
    pub language: Option<String>,
    #[arg(long = "subject")]
    pub subjects: Vec<String>,
    #[arg(long = "tag")]
    pub tags: Vec<String>,
    #[arg(long)]
    pub notes: Option<String>,
    /// Barcode of a copy to add with the title; repeat for several.
    #[arg(long = "copy")]
    pub copies: Vec<String>,
    #[arg(long)]
    pub location: Option<String>,
}

#[derive(Args)]
pub struct Find {
    pub text: Vec<String>,
    #[arg(long, default_value_t = 20)]
    pub limit: u32,
    #[arg(long, value_enum, default_value = "relevance")]
    pub sort: SortArg,
    #[arg(long)]
    pub subject: Option<String>,
    #[arg(long)]
    pub tag: Option<String>,
    #[arg(long)]
    pub language: Option<String>,
    #[arg(long)]
    pub year_from: Option<i32>,
    #[arg(long)]
    pub year_to: Option<i32>,
    #[arg(long)]
    pub available: bool,
    #[arg(long)]
    pub location: Option<String>,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum SortArg {
    Relevance,
    Title,
    Author,
    Newest,
    Oldest,
    Added,
}

#[derive(Args)]
pub struct Generate {
    #[arg(long, default_value_t = 500_000)]
    pub titles: u64,
    #[arg(long)]
    pub copies: Option<u64>,
    #[arg(long)]
    pub members: Option<u64>,
    #[arg(long)]
    pub past_loans: Option<u64>,
    #[arg(long)]
    pub open_loans: Option<u64>,
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
}
