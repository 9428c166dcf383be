-- The server is a replica of each library it serves: it applies every
-- change desks push with the desks' own merge rules (shelfkeeper_sync::merge;
-- crates/server/src/db/replica), so REST sees desk work.
--
-- Titles keep their field sources, as desks do.
ALTER TABLE titles ADD COLUMN field_sources TEXT NOT NULL DEFAULT '{}';
-- Desks do not hold ISBNs unique (two imports of one book, then a merge);
-- REST still refuses a duplicate ISBN itself.
DROP INDEX titles_isbn;
CREATE INDEX titles_isbn ON titles (library_id, isbn13) WHERE isbn13 IS NOT NULL;

-- Events, and the loans and holds projected from them, outlive the copy,
-- title or member they name (a desk may delete a copy with history), as
-- on desks. SQLite drops a foreign key only by rebuilding the table:
-- loans first (it referenced circulation_events), then holds, then the
-- events, each copied whole. Library deletion still cascades.
CREATE TABLE loans_new (
    id TEXT PRIMARY KEY,
    library_id TEXT NOT NULL REFERENCES libraries (id) ON DELETE CASCADE,
    copy_id TEXT NOT NULL,
    title_id TEXT NOT NULL,
    member_id TEXT NOT NULL,
    out_at BIGINT NOT NULL,
    due_on TEXT NOT NULL,
    renewals BIGINT NOT NULL DEFAULT 0,
    returned_at BIGINT,
    lost_at BIGINT,
    superseded_by TEXT
);
INSERT INTO loans_new (id, library_id, copy_id, title_id, member_id, out_at, due_on, renewals, returned_at, lost_at, superseded_by)
    SELECT id, library_id, copy_id, title_id, member_id, out_at, due_on, renewals, returned_at, lost_at, superseded_by FROM loans;
DROP TABLE loans;
ALTER TABLE loans_new RENAME TO loans;
CREATE UNIQUE INDEX loans_one_open_per_copy ON loans (copy_id) WHERE returned_at IS NULL AND lost_at IS NULL;
CREATE INDEX loans_member ON loans (member_id, out_at);
CREATE INDEX loans_library_out ON loans (library_id, out_at);

CREATE TABLE holds_new (
    id TEXT PRIMARY KEY,
    library_id TEXT NOT NULL REFERENCES libraries (id) ON DELETE CASCADE,
    title_id TEXT NOT NULL,
    member_id TEXT NOT NULL,
    placed_at BIGINT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('waiting', 'ready', 'fulfilled', 'cancelled', 'expired')),
    copy_id TEXT,
    expires_on TEXT,
    hlc BIGINT NOT NULL,
    site TEXT NOT NULL,
    closed_at BIGINT
);
INSERT INTO holds_new (id, library_id, title_id, member_id, placed_at, status, copy_id, expires_on, hlc, site, closed_at)
    SELECT id, library_id, title_id, member_id, placed_at, status, copy_id, expires_on, hlc, site, closed_at FROM holds;
DROP TABLE holds;
ALTER TABLE holds_new RENAME TO holds;
CREATE UNIQUE INDEX holds_one_active ON holds (title_id, member_id) WHERE status IN ('waiting', 'ready');
CREATE INDEX holds_queue ON holds (title_id, status, placed_at);
CREATE UNIQUE INDEX holds_ready_copy ON holds (copy_id) WHERE status = 'ready';

CREATE TABLE circulation_events_new (
    id TEXT PRIMARY KEY,
    library_id TEXT NOT NULL REFERENCES libraries (id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    copy_id TEXT,
    title_id TEXT NOT NULL,
    member_id TEXT,
    due_on TEXT,
    prev_event_id TEXT,
    at BIGINT NOT NULL,
    hlc BIGINT NOT NULL,
    site TEXT NOT NULL,
    hold_id TEXT
);
INSERT INTO circulation_events_new (id, library_id, kind, copy_id, title_id, member_id, due_on, prev_event_id, at, hlc, site, hold_id)
    SELECT id, library_id, kind, copy_id, title_id, member_id, due_on, prev_event_id, at, hlc, site, hold_id FROM circulation_events;
DROP TABLE circulation_events;
ALTER TABLE circulation_events_new RENAME TO circulation_events;
CREATE INDEX circulation_events_copy ON circulation_events (copy_id, hlc);
CREATE INDEX circulation_events_title ON circulation_events (title_id, hlc);

-- Default member types have the same id in every replica (derived from the
-- code, as on desks), so one id now names a type in each library.
CREATE TABLE member_types_new (
    id TEXT NOT NULL,
    library_id TEXT NOT NULL REFERENCES libraries (id) ON DELETE CASCADE,
    code TEXT NOT NULL,
    name TEXT NOT NULL,
    loan_days BIGINT NOT NULL,
    max_renewals BIGINT NOT NULL,
    max_loans BIGINT NOT NULL,
    hold_pickup_days BIGINT NOT NULL,
    hlc BIGINT NOT NULL,
    site TEXT NOT NULL,
    PRIMARY KEY (library_id, id),
    UNIQUE (library_id, code)
);
INSERT INTO member_types_new (id, library_id, code, name, loan_days, max_renewals, max_loans, hold_pickup_days, hlc, site)
    SELECT id, library_id, code, name, loan_days, max_renewals, max_loans, hold_pickup_days, hlc, site FROM member_types;
DROP TABLE member_types;
ALTER TABLE member_types_new RENAME TO member_types;

-- A deleted row's stamp: a delete wins over every older edit.
CREATE TABLE tombstones (
    library_id TEXT NOT NULL REFERENCES libraries (id) ON DELETE CASCADE,
    entity_id TEXT NOT NULL,
    entity TEXT NOT NULL,
    hlc BIGINT NOT NULL,
    site TEXT NOT NULL,
    PRIMARY KEY (library_id, entity_id)
);
-- What merging kept aside, as desks keep it in sync_conflicts: row versions
-- newer than a delete (kept_row), keys given way (duplicate_key: detail is
-- the key wanted), concurrent events on one copy.
CREATE TABLE replica_conflicts (
    library_id TEXT NOT NULL REFERENCES libraries (id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    kind TEXT NOT NULL,
    entity TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    hlc BIGINT NOT NULL,
    site TEXT NOT NULL,
    payload TEXT,
    detail TEXT,
    detected_at BIGINT NOT NULL,
    PRIMARY KEY (library_id, key)
);
CREATE INDEX replica_conflicts_kind ON replica_conflicts (library_id, kind, entity);
-- How far the feed has been applied to the library's tables: changes after
-- it (from before this migration) are applied at the next push or start.
ALTER TABLE sync_counters ADD COLUMN applied_seq BIGINT NOT NULL DEFAULT 0;
