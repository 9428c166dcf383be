//! Staged imports: read → stage and classify → preview → commit in batches.
//!
//! Staging writes every record of the file into `import_rows` with its
//! classification (see `shelfkeeper_domain::import`) and touches nothing in
//! the catalogue. Records of one file that are the same book (same
//! Shelfkeeper id, ISBN, source id, or title and first author without ISBN)
//! are merged into the first of them, so committing never meets the same
//! book twice. Committing takes the rows not yet done in batches; each batch
//! re-classifies its rows against the catalogue as it is now (the desk may
//! have added a copy since the preview), writes them, and marks them done in
//! the same transaction. A crash or a cancel leaves whole batches: commit
//! again and it carries on; re-importing the same file finds everything as
//! a duplicate.

mod classify;
mod commit;
mod pending;
mod preview;
mod stage;

/// Rows written per staging statement and committed per transaction: small
/// enough that the desk waits at most a fraction of a second for the write
/// lock, large enough that per-transaction costs vanish.
const BATCH: usize = 1000;

/// What a file's records are, for people and for provenance
/// (`import:<format>`).
#[derive(Clone, Debug)]
pub struct ImportSpec {
    pub source_name: String,
    pub format: String,
    /// What the reader made of the file (kept as given, for the caller).
    pub source_info: Option<String>,
}
