//! Sync, the store's side: the outbox (local changes to push) and applying
//! changes received from the server. The protocol is `shelfkeeper_sync`.
//!
//! **Outbox.** The change log is the outbox. [`Store::outbox_page`] turns
//! its rows into [`Change`]s: the row (or its tombstone, or the event) as it
//! is when the change-log row is first read, stamped with the row's own
//! `(hlc, site)`. At that first read the change-log row gets its change id
//! (UUIDv7) and its content is frozen with it, so a push retried after a
//! lost reply sends the same ids with the same content (the server keeps
//! the first it got; an id must never stand for two versions). Later edits
//! are later change-log rows. [`Store::ack_pushed`] trims the log from the
//! front once the server has everything up to a sequence. When a received
//! change is about to overwrite or delete a row whose local changes were
//! not read yet, the local version is frozen into them first, so what is
//! pushed is always what this desk wrote.
//!
//! **Driver.** [`Store::sync_once`] pushes the outbox and pulls until
//! done over a [`SyncTransport`]; any step may be cut short and repeated.
//!
//! **Apply.** [`Store::apply_remote`] applies a page in one write transaction
//! with `clock.origin = 1` (rows carry their own stamps, nothing is logged;
//! the triggers still keep the search index, terms and counters), stores the
//! cursor in the same transaction, and moves the local clock past every
//! received stamp. The rules, the same on every replica:
//! - titles, copies, members, member types: last writer wins per row by
//!   `(hlc, site id)`. A delete leaves a tombstone (the newest delete of a
//!   row wins) and beats every older edit; an edit newer than the delete
//!   does not bring the row back: its newest version is kept in
//!   `sync_conflicts` (`kept_row`). Deleting a title deletes copies that
//!   another desk added to it meanwhile the same way (kept, not lost), and a
//!   copy that arrives for a deleted title is kept likewise.
//! - a barcode, card or member-type code wanted by several live rows: the
//!   smallest id holds it, the others hold `<key>~<last 12 hex digits of
//!   their id>` and a `duplicate_key` conflict (a claim) keeps the key they
//!   want; when the holder goes (deleted, or another key), the smallest
//!   claimant gets the key back; a newer version of a renamed row (a
//!   person edited it) ends its claim. Claims are settled after every page,
//!   so local deletes and edits are taken into account at the next pull.
//! - circulation events: inserted once by id, never changed. Loans, holds
//!   and copy statuses are the events of their title run through
//!   [`crate::circulation::project`] in `(hlc, site id, event id)` order — causal
//!   order, since every clock moves past what it has seen; concurrent
//!   events fall in clock order, so a check-in beats an older concurrent
//!   check-out and otherwise the newest event wins. An event newer than all
//!   its title's events is projected as it comes; an older one (a desk that
//!   was offline) replays the title's projections. Two events on one copy
//!   that name the same previous event are concurrent: a
//!   `concurrent_events` conflict records the pair. A loan left open on a
//!   copy deleted at another desk is a `loan_of_deleted_copy` conflict.

mod apply;
mod conflicts;
mod covers;
mod dump;
mod outbox;
mod run;
mod settings;
mod snapshot;
mod wire;

pub use apply::ApplyReport;
pub use conflicts::{ConflictAction, SyncConflict};
pub use outbox::OutboxPage;
pub use run::{SyncError, SyncPhase, SyncProgress, SyncRun, SyncTransport};
pub use settings::{SyncSetting, SyncStatus};
pub use snapshot::{SnapshotPart, SnapshotStream};

use shelfkeeper_domain::Error;
// For the links in the module documentation above.
#[cfg(doc)]
use {crate::Store, shelfkeeper_sync::Change};

fn bad(what: impl std::fmt::Display) -> Error {
    Error::Storage(format!("sync: {what}"))
}
