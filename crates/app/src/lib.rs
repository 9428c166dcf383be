//! Shelfkeeper's use cases that join the store to files and the network.
//! The CLI and the desktop shell call these, so neither holds business
//! logic of its own:
//!
//! - [`files`] — import a file (read any format, stage it, keep the file's
//!   description for the failed-rows file) and export the catalogue as CSV,
//!   JSON or MARCXML (written beside the target and renamed into place, so a
//!   failed export never leaves half a file);
//! - [`lookup`] — look up an ISBN: the store's cache first, then the
//!   providers; add a title from what was found, crediting each field to its
//!   source, and fetch its cover.

pub mod files;
pub mod lookup;

pub use files::{ExportFormat, ExportReport, StagedFile, export_catalogue, failed_rows_file, stage_file};
pub use lookup::{AddedTitle, LookupAnswer, ProviderAnswer, add_from_lookup, lookup_isbn, metadata_client};
