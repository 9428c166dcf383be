//! Shelfkeeper's domain: the plain types, the rules of cataloguing and
//! circulation, and the error codes every other part of the program shares.
//!
//! Nothing in this crate does I/O. The store crate loads state, asks the rules
//! here what should happen, and writes the outcome in one transaction; the
//! desktop shell and the server only convert arguments and map errors.

pub mod access;
pub mod circulation;
pub mod clock;
pub mod cover;
pub mod deletion;
pub mod error;
pub mod ids;
pub mod import;
pub mod isbn;
pub mod model;
pub mod password;
pub mod provenance;
pub mod search;
pub mod text;

pub use error::{Error, ErrorCode, Result};

/// Re-exported so adapters use the same date types as the domain.
pub use chrono;
