-- Sync (crates/sync has the protocol, crates/store/src/sync.rs the rules).
--
-- Nothing here changes how a local write is stamped or logged: the outbox
-- is the change log, and applying received changes runs with
-- clock.origin = 1 (rows carry their own stamps, nothing is logged,
-- derived data is still maintained by the triggers of 0001-0003).

-- The outbox. A change-log row gets its change id (UUIDv7) the first time
-- a push reads it, and keeps it until the server acknowledged it, so a
-- push retried after a lost reply sends the same ids. `payload` (a
-- serialized change) is null until then; the first read freezes the row's
-- version into it with the id (an id never stands for two versions), and
-- so does a received change that is about to overwrite or delete the row
-- before the local change was read.
ALTER TABLE change_log ADD COLUMN change_id BLOB;
ALTER TABLE change_log ADD COLUMN payload TEXT CHECK (payload IS NULL OR json_valid(payload));
CREATE INDEX change_log_entity ON change_log(entity_id);

-- A loan ended by a concurrent check-out of the same copy at another desk
-- (the events are both kept and a conflict says so): the check-out event
-- that took the copy over. returned_at is that event's time.
ALTER TABLE loans ADD COLUMN superseded_by BLOB;

-- A title's events in clock order: received events that arrive out of
-- order replay the title's projections in this order.
CREATE INDEX circulation_events_title_hlc ON circulation_events(title_id, hlc);

-- What staff must look at, found while merging. Rows are derived from the
-- replicated data by the same rules on every replica (detected_at and
-- resolved_at excepted, which are local).
--  concurrent_events: two events on one copy name the same previous event
--      (the copy was handled at two desks that had not seen each other's
--      work, e.g. lent twice); key 'events:<a>:<b>', a < b.
--  kept_row: a row version that a delete removed (an edit newer than the
--      row's delete, or a copy whose title was deleted); payload keeps it,
--      the newest version seen; key 'row:<id>'.
--  duplicate_key: live rows want one barcode/card/code; the smallest id
--      holds it, this row (entity_id) holds '<key>~<id tail>' and claims
--      the key in detail (with the stamp of the row version that wants
--      it); the claim ends when the row gets the key back or a newer
--      version; key 'key:<id>'.
--  loan_of_deleted_copy: a copy deleted at one desk while another lent it:
--      the loan (event_a) stays open on a copy that is gone; key
--      'loan:<hex of the loan id>'. Exists exactly while that is so.
CREATE TABLE sync_conflicts (
    key         TEXT PRIMARY KEY,
    kind        TEXT NOT NULL CHECK (kind IN ('concurrent_events', 'kept_row', 'duplicate_key', 'loan_of_deleted_copy')),
    entity      TEXT NOT NULL,
    entity_id   BLOB NOT NULL,
    event_a     BLOB,
    event_b     BLOB,
    hlc         INTEGER NOT NULL,
    site_id     BLOB NOT NULL,
    payload     TEXT CHECK (payload IS NULL OR json_valid(payload)),
    detail      TEXT,
    detected_at TEXT NOT NULL,
    resolved_at TEXT,
    resolved_by BLOB
) WITHOUT ROWID;
CREATE INDEX sync_conflicts_open ON sync_conflicts(resolved_at, kind);
