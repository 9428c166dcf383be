-- A change a desk cannot apply is quarantined instead of stopping sync.
--
-- Before, one change that did not fit a desk's tables (a wrong type, an
-- unknown event kind, from an older or newer version or a corrupt feed)
-- failed the whole pulled page; the cursor moved only with a page, so every
-- desk of the library stopped syncing for good. Now the change is kept
-- verbatim as a conflict of kind 'quarantined' (key 'quarantined:<change
-- id>', payload the change as pulled, detail the reason), the rest of the
-- page applies and the cursor moves on. Staff see it with the other
-- conflicts and mark it resolved like them.
--
-- SQLite cannot change a CHECK constraint in place: the table is rebuilt
-- with the same columns, rows and index.
CREATE TABLE sync_conflicts_new (
    key         TEXT PRIMARY KEY,
    kind        TEXT NOT NULL CHECK (kind IN ('concurrent_events', 'kept_row', 'duplicate_key', 'loan_of_deleted_copy', 'quarantined')),
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
INSERT INTO sync_conflicts_new
    SELECT key, kind, entity, entity_id, event_a, event_b, hlc, site_id, payload, detail, detected_at, resolved_at, resolved_by
    FROM sync_conflicts;
DROP TABLE sync_conflicts;
ALTER TABLE sync_conflicts_new RENAME TO sync_conflicts;
CREATE INDEX sync_conflicts_open ON sync_conflicts(resolved_at, kind);
