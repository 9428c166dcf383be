//! Integration tests of the store, on real SQLite files on disk. One test
//! binary (see ripgrep): modules share the helpers below.

mod accounts;
mod backup;
mod bad_input;
mod catalogue;
mod change_log;
mod circulation;
mod covers;
mod generate;
mod helpers;
mod import;
mod migrations;
mod properties;
mod search;
mod sync;
