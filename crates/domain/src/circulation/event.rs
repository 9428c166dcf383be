//! A circulation event as the rules make it and the projection reads it:
//! the one shape both the desk store and the server append.

use super::{CopyEvent, EventKind};
use crate::ids::{CopyId, EventId, HoldId, MemberId, TitleId};
use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    pub id: EventId,
    pub kind: EventKind,
    pub title_id: TitleId,
    pub copy_id: Option<CopyId>,
    pub member_id: Option<MemberId>,
    pub hold_id: Option<HoldId>,
    /// Due date (check-out, renewal) or last pickup day (trapped for a hold).
    pub due_on: Option<NaiveDate>,
    pub occurred_at: DateTime<Utc>,
}

impl Event {
    pub fn new(kind: EventKind, title_id: TitleId, at: DateTime<Utc>) -> Self {
        Event { id: EventId::new(), kind, title_id, copy_id: None, member_id: None, hold_id: None, due_on: None, occurred_at: at }
    }

    pub fn copy(mut self, c: CopyId) -> Self {
        self.copy_id = Some(c);
        self
    }

    pub fn member(mut self, m: MemberId) -> Self {
        self.member_id = Some(m);
        self
    }

    pub fn hold(mut self, h: HoldId) -> Self {
        self.hold_id = Some(h);
        self
    }

    pub fn maybe_hold(mut self, h: Option<HoldId>) -> Self {
        self.hold_id = h;
        self
    }

    pub fn due(mut self, d: NaiveDate) -> Self {
        self.due_on = Some(d);
        self
    }

    /// The stream the event is chained on: its copy for copy events, its
    /// title for the holds queue.
    pub fn stream(&self) -> Uuid {
        match (self.kind.is_copy_event(), self.copy_id) {
            (true, Some(c)) => c.0,
            _ => self.title_id.0,
        }
    }

    pub fn as_copy_event(&self) -> CopyEvent {
        CopyEvent { id: self.id, kind: self.kind, member_id: self.member_id, hold_id: self.hold_id, due_on: self.due_on }
    }
}
