//! A first sync in one stream (`GET /libraries/{lib}/sync/snapshot`).
//!
//! Pulling a library's whole feed change by change makes a new desk apply
//! every version of every row. The snapshot is the feed **compacted**: of
//! each row only the versions that still decide something — the live
//! version, the newest delete (the tombstone) and a version kept aside
//! because it is newer than that delete — and every event and conflict
//! resolution, each change verbatim as it was pushed, with its sequence.
//! Applying the compacted feed gives a replica the same state as applying
//! the whole feed: the merge rules (`merge`) decide by stamps, and a
//! version older than a row's winning version or tombstone decides nothing.
//!
//! The body is newline-delimited JSON: a [`SnapshotHead`] line, then one
//! [`crate::Sequenced`] per line, then a [`SnapshotEnd`] line with the
//! number of changes sent (a cut stream has no end line, or another
//! count). Changes come in sections, so that a desk can load the plain
//! rows in bulk as they arrive and leave the rest to the ordinary rules:
//! [`Section::order`] — deletes and conflict resolutions first, then member
//! types, events, titles, copies and members, each in sequence order. The
//! desk then pulls the feed after `as_of` as usual.

use crate::{Entity, Op};
use serde::{Deserialize, Serialize};

/// The media type of a snapshot body.
pub const CONTENT_TYPE: &str = "application/x-ndjson";

/// The first line.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotHead {
    pub protocol: u32,
    /// The feed sequence the snapshot holds everything up to: the desk's
    /// cursor once it is loaded.
    pub as_of: u64,
    /// About how many changes follow (for a progress bar; the end line
    /// has the exact count).
    pub estimate: u64,
}

/// The last line.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotEnd {
    /// How many changes were sent.
    pub end: u64,
}

impl SnapshotEnd {
    /// Whether a line is the end line (changes start with `{"server_seq"`).
    pub fn is_end_line(line: &[u8]) -> bool {
        line.starts_with(b"{\"end\"")
    }
}

/// The sections of a snapshot, in the order they are sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Section {
    /// Tombstones and conflict resolutions: what the desk must know before
    /// it can call a row plain.
    DeletesAndResolutions,
    MemberTypes,
    Events,
    Titles,
    Copies,
    Members,
}

impl Section {
    pub fn of(entity: Entity, op: Op) -> Section {
        match (entity, op) {
            (_, Op::Delete) | (Entity::ConflictResolution, _) => Section::DeletesAndResolutions,
            (Entity::MemberType, _) => Section::MemberTypes,
            (Entity::Event, _) => Section::Events,
            (Entity::Title, _) => Section::Titles,
            (Entity::Copy, _) => Section::Copies,
            (Entity::Member, _) => Section::Members,
        }
    }

    /// The section's rank, for ordering rows in SQL (`entity`, `op` are
    /// column names): the same order as [`Section::of`].
    pub fn order_sql(entity: &str, op: &str) -> String {
        format!(
            "CASE WHEN {op} = 'delete' OR {entity} = 'conflict_resolution' THEN 0 WHEN {entity} = 'member_type' THEN 1 \
             WHEN {entity} = 'event' THEN 2 WHEN {entity} = 'title' THEN 3 WHEN {entity} = 'copy' THEN 4 ELSE 5 END"
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sections_come_in_the_documented_order() {
        let order = [
            Section::of(Entity::Title, Op::Delete),
            Section::of(Entity::ConflictResolution, Op::Upsert),
            Section::of(Entity::MemberType, Op::Upsert),
            Section::of(Entity::Event, Op::Event),
            Section::of(Entity::Title, Op::Upsert),
            Section::of(Entity::Copy, Op::Upsert),
            Section::of(Entity::Member, Op::Upsert),
        ];
        assert!(order.windows(2).all(|w| w[0] <= w[1]), "{order:?}");
        assert!(SnapshotEnd::is_end_line(serde_json::to_string(&SnapshotEnd { end: 3 }).unwrap().as_bytes()));
    }
}
