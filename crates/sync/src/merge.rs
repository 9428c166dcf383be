//! The merge rules every replica applies to a received change, written
//! once: the desktop store (`crates/store/src/sync/apply`) and the server
//! (`crates/server/src/db/replica`) load the facts a decision needs, call
//! these functions and write what they answer. Pure: no I/O.
//!
//! Because both sides apply the feed in server-sequence order with the same
//! decisions, the server's tables and every desk's converge on the same
//! rows, claims and projections.

use crate::Stamp;
use std::cmp::Ordering;
use uuid::Uuid;

/// What a received upsert does to a row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Upsert {
    /// Older than (or the same as) what the replica has: nothing.
    Unchanged,
    /// The row is deleted here (or, for a copy, its title is): the version
    /// is kept for staff as a `kept_row` conflict, the row stays gone.
    Keep,
    /// Write it; `replaces` is true when it overwrites an existing row.
    Apply { replaces: bool },
}

/// Last writer wins per row; a delete wins over every edit, and an edit
/// newer than the delete is kept, not applied. `parent_missing`: a copy
/// whose title is not here (deleted while another desk added the copy).
pub fn upsert(tomb: Option<Stamp>, current: Option<Stamp>, parent_missing: bool, stamp: Stamp) -> Upsert {
    if let Some(tomb) = tomb {
        return if stamp > tomb { Upsert::Keep } else { Upsert::Unchanged };
    }
    if parent_missing {
        return Upsert::Keep;
    }
    match current {
        Some(cur) if cur >= stamp => Upsert::Unchanged,
        cur => Upsert::Apply { replaces: cur.is_some() },
    }
}

/// What a received delete does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Delete {
    /// A tombstone at least as new is here already.
    Unchanged,
    /// Tombstone the row and remove it; `keep_current`: the row here is
    /// newer than the delete, so its version is kept as a conflict first.
    Apply { keep_current: bool },
}

pub fn delete(tomb: Option<Stamp>, current: Option<Stamp>, stamp: Stamp) -> Delete {
    if tomb.is_some_and(|t| t >= stamp) {
        return Delete::Unchanged;
    }
    Delete::Apply { keep_current: current.is_some_and(|c| c > stamp) }
}

/// Who gets a unique key (barcode, card, member-type code) that two live
/// rows want: the smaller id holds it, the other holds
/// [`renamed_key`] and a `duplicate_key` claim on the key it wanted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Key {
    /// No other live row holds it.
    Take,
    /// The incoming row gives way: it is written with `to` and claims.
    Rename { to: String },
    /// The row holding it gives way: renamed to `to`, it claims.
    OtherGivesWay { holder: Uuid, to: String },
}

pub fn key(key: &str, id: Uuid, holder: Option<Uuid>) -> Key {
    match holder {
        None => Key::Take,
        Some(other) if id.as_bytes() > other.as_bytes() => Key::Rename { to: renamed_key(key, id) },
        Some(other) => Key::OtherGivesWay { holder: other, to: renamed_key(key, other) },
    }
}

/// The key a row gives way with: `<key>~<last 12 hex digits of its id>`.
pub fn renamed_key(key: &str, id: Uuid) -> String {
    let hex = id.simple().to_string();
    format!("{key}~{}", &hex[hex.len() - 12..])
}

/// What to do with a standing claim once a page is applied.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Claim {
    /// The claiming row is gone or has a newer version: the claim ends.
    End,
    /// A smaller id holds the key: the claim stands.
    Stand,
    /// The key is free, or held by a larger id (which gives way first):
    /// the claimant takes its key back and the claim ends.
    TakeBack { holder_gives_way: Option<Uuid> },
}

/// `still_renamed`: the claimant's row is live, still holds the renamed key
/// and is the version the claim was made for.
pub fn settle_claim(claimant: Uuid, still_renamed: bool, holder: Option<Uuid>) -> Claim {
    if !still_renamed {
        return Claim::End;
    }
    match holder {
        Some(h) if h.as_bytes() < claimant.as_bytes() => Claim::Stand,
        Some(h) if h != claimant => Claim::TakeBack { holder_gives_way: Some(h) },
        _ => Claim::TakeBack { holder_gives_way: None },
    }
}

/// The order circulation events are projected in: by stamp, then by id
/// (events of one transaction share a stamp; their UUIDv7 ids are made in
/// order).
pub fn event_order(a: (Stamp, Uuid), b: (Stamp, Uuid)) -> Ordering {
    (a.0, *a.1.as_bytes()).cmp(&(b.0, *b.1.as_bytes()))
}

/// How a newly stored event reaches the projections.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Placement {
    /// It is the newest event of its title: project it on top.
    Project,
    /// An event of its title is newer: the title is replayed from its
    /// events in [`event_order`].
    Replay,
}

/// `others`: the title's other events stamped at or after this one.
pub fn place_event(event: (Stamp, Uuid), others: impl IntoIterator<Item = (Stamp, Uuid)>) -> Placement {
    if others.into_iter().any(|o| event_order(o, event) == Ordering::Greater) { Placement::Replay } else { Placement::Project }
}

/// The key of the conflict two concurrent events on one copy make (the
/// same on every replica, whichever arrives first).
pub fn concurrent_events_key(a: Uuid, b: Uuid) -> (Uuid, Uuid, String) {
    let (a, b) = if a.as_bytes() < b.as_bytes() { (a, b) } else { (b, a) };
    (a, b, format!("events:{a}:{b}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn st(hlc: u64, site: u128) -> Stamp {
        Stamp { hlc, site_id: Uuid::from_u128(site) }
    }

    #[test]
    fn the_newer_stamp_wins_and_ties_break_by_site() {
        assert_eq!(upsert(None, None, false, st(5, 1)), Upsert::Apply { replaces: false });
        assert_eq!(upsert(None, Some(st(5, 1)), false, st(5, 2)), Upsert::Apply { replaces: true });
        assert_eq!(upsert(None, Some(st(5, 2)), false, st(5, 1)), Upsert::Unchanged);
        assert_eq!(upsert(None, Some(st(5, 1)), false, st(5, 1)), Upsert::Unchanged);
    }

    #[test]
    fn a_delete_wins_over_edits_and_keeps_newer_ones() {
        assert_eq!(upsert(Some(st(9, 1)), None, false, st(8, 1)), Upsert::Unchanged);
        assert_eq!(upsert(Some(st(9, 1)), None, false, st(10, 1)), Upsert::Keep);
        assert_eq!(upsert(None, None, true, st(10, 1)), Upsert::Keep);
        assert_eq!(delete(Some(st(9, 1)), None, st(9, 1)), Delete::Unchanged);
        assert_eq!(delete(None, Some(st(10, 1)), st(9, 1)), Delete::Apply { keep_current: true });
        assert_eq!(delete(Some(st(3, 1)), Some(st(4, 1)), st(9, 1)), Delete::Apply { keep_current: false });
    }

    #[test]
    fn the_smaller_id_keeps_a_wanted_key() {
        let (small, large) = (Uuid::from_u128(1), Uuid::from_u128(2));
        assert_eq!(key("B1", small, None), Key::Take);
        assert_eq!(key("B1", large, Some(small)), Key::Rename { to: renamed_key("B1", large) });
        assert_eq!(key("B1", small, Some(large)), Key::OtherGivesWay { holder: large, to: renamed_key("B1", large) });
        assert_eq!(renamed_key("B1", large), "B1~000000000002");
        assert_eq!(settle_claim(large, true, Some(small)), Claim::Stand);
        assert_eq!(settle_claim(small, true, Some(large)), Claim::TakeBack { holder_gives_way: Some(large) });
        assert_eq!(settle_claim(small, true, None), Claim::TakeBack { holder_gives_way: None });
        assert_eq!(settle_claim(small, false, None), Claim::End);
    }

    #[test]
    fn an_event_older_than_one_of_its_title_replays_the_title() {
        let (a, b) = (Uuid::from_u128(1), Uuid::from_u128(2));
        assert_eq!(place_event((st(5, 1), b), []), Placement::Project);
        assert_eq!(place_event((st(5, 1), b), [(st(5, 1), a)]), Placement::Project);
        assert_eq!(place_event((st(5, 1), a), [(st(5, 1), b)]), Placement::Replay);
        assert_eq!(place_event((st(5, 1), b), [(st(6, 0), a)]), Placement::Replay);
        assert_eq!(concurrent_events_key(b, a), (a, b, format!("events:{a}:{b}")));
    }
}
