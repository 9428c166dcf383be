//! The sync wire protocol, shared by the desktop store and the server.
//!
//! Plain serde types (JSON on the wire) and the clock checks both ends make.
//! No I/O here: the store builds and applies [`Change`]s, the server stores
//! and serves them, the HTTP layer carries these types.
//!
//! # The protocol (version [`PROTOCOL_VERSION`])
//!
//! Every replica (a desktop's store, and the server for what it writes
//! itself) has a **site id** (a UUID) and a **hybrid logical clock**: a `u64`
//! with wall-clock milliseconds in the upper 48 bits and a counter in the
//! lower 16 ([`hlc`]). Every write is stamped `(hlc, site_id)`; stamps are
//! totally ordered ([`Stamp`]), and a replica's clock moves past every stamp
//! it receives, so a change made after seeing another always has the larger
//! stamp.
//!
//! A **change** ([`Change`]) is one row's new state or one event:
//! - `upsert`: the full replicated row as `payload` (a JSON object of its
//!   columns: text as strings, numbers as numbers, ids as UUID strings, JSON
//!   columns as their exact text), stamped with the row's own stamp;
//! - `delete`: the row is gone; `payload` is `null`, the stamp is the
//!   tombstone's;
//! - `event`: a circulation event (append-only, entity `event`), the event's
//!   columns as `payload`.
//!
//! Each change has a `change_id`, a UUIDv7 made once by the replica that
//! sends it and kept until the server acknowledged it: re-sending after a
//! lost reply sends the same ids, and the server stores each id once.
//!
//! **Push** ([`PushRequest`] → [`PushResponse`]): the desktop sends pages of
//! its outbox in order. The server stores each change it does not already
//! have (`ON CONFLICT (change_id) DO NOTHING`), assigning the next
//! **server sequence** number, and answers every change: `accepted` with its
//! sequence (also for a change it already had: the same sequence again), or
//! `rejected` with a [`RejectCode`]. A change whose clock is more than
//! [`hlc::MAX_FORWARD_DRIFT_MS`] ahead of the server's wall clock is rejected
//! with [`RejectCode::ClockSkew`] (retried later, it is accepted once real
//! time catches up); a change whose `site_id` is not the pusher's is
//! [`RejectCode::Forbidden`]. The desktop clears outbox entries only when
//! every change up to them was accepted.
//!
//! **Pull** ([`PullRequest`] → [`PullResponse`]): `changes after <seq>` in
//! pages, in server-sequence order, with `high_water` (the newest sequence
//! the server has) and `more`. The server's order is causal: a replica
//! pushes a change only after the changes it had seen, so they have lower
//! sequences. The desktop applies a page and stores its cursor (the last
//! sequence of the page) in one transaction; an interrupted pull resumes
//! from the cursor, and applying a page twice changes nothing. A pull also
//! returns the puller's own changes; applying them is a no-op.
//!
//! **Merging** (the store does it, every replica the same way):
//! - titles, copies, members and member types: last writer wins per row by
//!   [`Stamp`]; a delete leaves a tombstone and wins over every edit older
//!   than it; an edit newer than the delete does not bring the row back but
//!   is kept for staff as a conflict;
//! - circulation events: stored once by id, never changed; a copy's status
//!   and the loans and holds lists are derived from its events in stamp
//!   order; two events on one copy that name the same previous event were
//!   made concurrently and are recorded as a conflict.
//! - conflict resolutions: staff settling a conflict write a row whose id
//!   is derived from the conflict's key (so two desks resolving one
//!   conflict write one row), merged last-writer-wins like a catalogue row.
//!   Pushing one needs the librarian role, as circulation does.
//!
//! The server checks `protocol` in every request and answers a version it
//! does not speak with an error naming the versions it does.

pub mod merge;
pub mod schema;
pub mod snapshot;

use serde::{Deserialize, Serialize};
use std::cmp::Ordering;
use uuid::Uuid;

/// The protocol version this crate speaks. Bumped on any change to the
/// meaning or shape of the types below.
pub const PROTOCOL_VERSION: u32 = 1;

/// Hybrid logical clock values as they travel: helpers over the `u64`.
/// The layout is the domain's `clock::Hlc` (48-bit milliseconds, 16-bit
/// counter); a test keeps the two in step.
pub mod hlc {
    use serde::{Deserialize, Serialize};

    pub const LOGICAL_BITS: u32 = 16;

    /// How far ahead of the receiver's wall clock a stamp may be. Further
    /// ahead is a broken clock: merging it would drag every later write of
    /// every replica into the future.
    pub const MAX_FORWARD_DRIFT_MS: u64 = 5 * 60 * 1000;

    pub fn from_parts(wall_ms: u64, logical: u16) -> u64 {
        (wall_ms << LOGICAL_BITS) | u64::from(logical)
    }

    pub fn wall_ms(hlc: u64) -> u64 {
        hlc >> LOGICAL_BITS
    }

    pub fn logical(hlc: u64) -> u16 {
        (hlc & 0xFFFF) as u16
    }

    /// `"<ms>.<counter>"`, e.g. `1764000000000.00003` (the domain's display form).
    pub fn format(hlc: u64) -> String {
        format!("{}.{:05}", wall_ms(hlc), logical(hlc))
    }

    /// Reads [`format`]'s form back, or a plain integer.
    pub fn parse(s: &str) -> Option<u64> {
        match s.split_once('.') {
            Some((ms, counter)) => {
                let ms: u64 = ms.parse().ok()?;
                let counter: u16 = counter.parse().ok()?;
                (ms < 1 << 48).then(|| from_parts(ms, counter))
            }
            None => s.parse().ok(),
        }
    }

    /// A stamp further ahead of the receiver's clock than allowed.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
    pub struct ClockSkew {
        pub hlc: u64,
        pub now_ms: u64,
    }

    impl ClockSkew {
        pub fn ahead_ms(&self) -> u64 {
            wall_ms(self.hlc).saturating_sub(self.now_ms)
        }
    }

    impl std::fmt::Display for ClockSkew {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(
                f,
                "clock {} is {} s ahead of the receiver's clock (at most {} s allowed)",
                format(self.hlc),
                self.ahead_ms() / 1000,
                MAX_FORWARD_DRIFT_MS / 1000
            )
        }
    }

    /// Refuses a stamp more than [`MAX_FORWARD_DRIFT_MS`] ahead of `now_ms`.
    pub fn check_drift(hlc: u64, now_ms: u64) -> Result<(), ClockSkew> {
        if wall_ms(hlc) > now_ms.saturating_add(MAX_FORWARD_DRIFT_MS) { Err(ClockSkew { hlc, now_ms }) } else { Ok(()) }
    }

    /// The receive rule: the next local clock after seeing `remote`.
    pub fn receive(last: u64, remote: u64, now_ms: u64) -> u64 {
        let candidate = from_parts(now_ms, 0);
        let base = last.max(remote);
        if candidate > base { candidate } else { base + 1 }
    }
}

/// The order of writes: by clock, then by site id (byte order of the UUID).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Stamp {
    pub hlc: u64,
    pub site_id: Uuid,
}

impl Ord for Stamp {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.hlc, self.site_id.as_bytes()).cmp(&(other.hlc, other.site_id.as_bytes()))
    }
}

impl PartialOrd for Stamp {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// What a change is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum Entity {
    Title,
    Copy,
    Member,
    MemberType,
    /// A circulation event.
    Event,
    /// Staff settled a sync conflict (an LWW row keyed by the conflict).
    ConflictResolution,
}

impl Entity {
    pub const ALL: [Entity; 6] =
        [Entity::Title, Entity::Copy, Entity::Member, Entity::MemberType, Entity::Event, Entity::ConflictResolution];

    /// The name used in the wire format and in the store's change log.
    pub fn as_str(self) -> &'static str {
        match self {
            Entity::Title => "title",
            Entity::Copy => "copy",
            Entity::Member => "member",
            Entity::MemberType => "member_type",
            Entity::Event => "event",
            Entity::ConflictResolution => "conflict_resolution",
        }
    }

    pub fn parse(s: &str) -> Option<Entity> {
        Entity::ALL.into_iter().find(|e| e.as_str() == s)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum Op {
    /// The row's full new state.
    Upsert,
    /// The row is deleted (a tombstone).
    Delete,
    /// An append-only circulation event.
    Event,
}

/// The namespace of conflict-resolution ids.
const RESOLUTION_NAMESPACE: Uuid = Uuid::from_u128(0x5f1c_7a2e_0b44_4c1d_9e0a_3c6b_d2f8_71a4);

/// The id of the resolution of the conflict `key` (UUIDv5 of the key):
/// every desk that resolves one conflict writes the same row.
pub fn resolution_id(conflict_key: &str) -> Uuid {
    Uuid::new_v5(&RESOLUTION_NAMESPACE, conflict_key.as_bytes())
}

/// One row's new state, one delete, or one circulation event.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Change {
    /// UUIDv7, made once by the sending replica; the server stores each once.
    pub change_id: Uuid,
    pub entity: Entity,
    pub entity_id: Uuid,
    pub op: Op,
    /// The stamp of the row version, tombstone or event (not of the sending).
    pub hlc: u64,
    pub site_id: Uuid,
    /// The row's columns (upsert), the event's (event), or null (delete).
    pub payload: serde_json::Value,
}

impl Change {
    pub fn stamp(&self) -> Stamp {
        Stamp { hlc: self.hlc, site_id: self.site_id }
    }

    /// The checks both ends make before storing or applying a change: the
    /// entity and op agree, the payload's id is the change's, and the
    /// payload fits the entity's typed schema ([`schema::check_payload`]).
    pub fn check_shape(&self) -> Result<(), Rejected> {
        let bad = |reason: &str| Err(Rejected { change_id: self.change_id, code: RejectCode::Malformed, reason: reason.into() });
        match (self.entity, self.op) {
            (Entity::Event, Op::Event) => {}
            (Entity::Event, _) | (_, Op::Event) => return bad("events, and only events, use op 'event'"),
            _ => {}
        }
        match self.op {
            Op::Delete if !self.payload.is_null() => return bad("a delete carries no payload"),
            Op::Upsert | Op::Event if !self.payload.is_object() => return bad("the payload must be an object of columns"),
            _ => {}
        }
        if self.op != Op::Delete {
            let id = self.payload.get("id").and_then(|v| v.as_str()).and_then(|s| Uuid::parse_str(s).ok());
            if id != Some(self.entity_id) {
                return bad("the payload's id is not the change's entity_id");
            }
        }
        if self.hlc == 0 {
            return bad("a change needs a clock");
        }
        if self.op != Op::Delete {
            schema::check_payload(self.entity, &self.payload).map_err(|reason| Rejected {
                change_id: self.change_id,
                code: RejectCode::Malformed,
                reason,
            })?;
        }
        if self.entity == Entity::ConflictResolution && self.op == Op::Upsert {
            let key = self.payload.get("conflict_key").and_then(|v| v.as_str());
            if key.map(resolution_id) != Some(self.entity_id) {
                return bad("a conflict resolution's id is the one derived from its conflict_key");
            }
        }
        Ok(())
    }
}

/// A change as the server's feed holds it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Sequenced {
    pub server_seq: u64,
    pub change: Change,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PushRequest {
    pub protocol: u32,
    /// The pushing replica; every change's `site_id` must be this.
    pub site_id: Uuid,
    /// In the replica's own order (oldest first).
    pub changes: Vec<Change>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PushResponse {
    pub accepted: Vec<Accepted>,
    pub rejected: Vec<Rejected>,
}

impl PushResponse {
    /// True when every change of `request` was accepted.
    pub fn all_accepted(&self, request: &PushRequest) -> bool {
        self.rejected.is_empty() && request.changes.iter().all(|c| self.accepted.iter().any(|a| a.change_id == c.change_id))
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Accepted {
    pub change_id: Uuid,
    pub server_seq: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rejected {
    pub change_id: Uuid,
    pub code: RejectCode,
    pub reason: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum RejectCode {
    /// The clock is too far ahead of the server's; retry later.
    ClockSkew,
    /// The change is not well formed (see [`Change::check_shape`]).
    Malformed,
    /// The change claims another site, or the pusher may not write it.
    Forbidden,
}

impl RejectCode {
    /// Worth sending again later unchanged.
    pub fn is_transient(self) -> bool {
        matches!(self, RejectCode::ClockSkew)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PullRequest {
    pub protocol: u32,
    /// The last server sequence already applied (0 at first).
    pub after: u64,
    pub limit: u32,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PullResponse {
    /// Ascending server sequence, all greater than the request's `after`.
    pub changes: Vec<Sequenced>,
    /// The newest server sequence at the time of the answer.
    pub high_water: u64,
    /// More changes follow this page.
    pub more: bool,
}

impl PullResponse {
    /// The cursor after applying this page: its last sequence, or the
    /// request's `after` for an empty page.
    pub fn cursor_after(&self, request: &PullRequest) -> u64 {
        self.changes.last().map_or(request.after, |c| c.server_seq).max(request.after)
    }
}

/// The largest change the server takes: its payload as JSON text. Every
/// column has its own bound (`schema`), but a row of twenty long columns
/// could still be megabytes; a real row is a few KiB.
pub const MAX_CHANGE_BYTES: usize = 256 * 1024;

/// The server-side check of a pushed change: shape, size, site and clock.
pub fn check_pushed(change: &Change, pusher: Uuid, now_ms: u64) -> Result<(), Rejected> {
    change.check_shape()?;
    let size = serde_json::to_vec(&change.payload).map_or(usize::MAX, |v| v.len());
    if size > MAX_CHANGE_BYTES {
        return Err(Rejected {
            change_id: change.change_id,
            code: RejectCode::Malformed,
            reason: format!("the change is {size} bytes; at most {MAX_CHANGE_BYTES} are taken"),
        });
    }
    if change.site_id != pusher {
        return Err(Rejected {
            change_id: change.change_id,
            code: RejectCode::Forbidden,
            reason: "a replica pushes only its own changes".into(),
        });
    }
    hlc::check_drift(change.hlc, now_ms).map_err(|skew| Rejected {
        change_id: change.change_id,
        code: RejectCode::ClockSkew,
        reason: skew.to_string(),
    })
}
