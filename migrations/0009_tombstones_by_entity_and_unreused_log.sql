-- Two keys that were too loose (issue 17).
--
-- Tombstones were keyed by row id alone, so a delete sent under another
-- entity (a "member" delete carrying a title's id) left a tombstone that
-- froze the title: every later edit of it lost to that stamp, on every
-- desk. A tombstone now belongs to (entity, id).
--
-- change_log.seq was a plain INTEGER PRIMARY KEY, which SQLite reuses once
-- the log is empty: with two processes syncing one store (the CLI while the
-- desktop is open), an acknowledgement of an older page could delete a new
-- change that was never pushed. AUTOINCREMENT never hands out a number
-- twice.
--
-- Both tables are rebuilt through a copy, not through ALTER TABLE RENAME:
-- the replicated tables' triggers write into them by name, and a rename
-- would make SQLite rewrite or reject those triggers. Dropping and creating
-- under the same name leaves the triggers as they are.

CREATE TABLE tombstones_copy AS SELECT entity, entity_id, hlc, site_no FROM tombstones;
DROP TABLE tombstones;
CREATE TABLE tombstones (
    entity    TEXT NOT NULL,
    entity_id BLOB NOT NULL,
    hlc       INTEGER NOT NULL,
    site_no   INTEGER NOT NULL,
    PRIMARY KEY (entity, entity_id)
) WITHOUT ROWID;
INSERT INTO tombstones (entity, entity_id, hlc, site_no) SELECT entity, entity_id, hlc, site_no FROM tombstones_copy;
DROP TABLE tombstones_copy;

CREATE TABLE change_log_copy AS SELECT seq, entity, entity_id, op, hlc, site_no, change_id, payload FROM change_log;
DROP TABLE change_log;
CREATE TABLE change_log (
    seq       INTEGER PRIMARY KEY AUTOINCREMENT,
    entity    TEXT NOT NULL,
    entity_id BLOB NOT NULL,
    op        TEXT NOT NULL CHECK (op IN ('insert', 'update', 'delete')),
    hlc       INTEGER NOT NULL,
    site_no   INTEGER NOT NULL,
    change_id BLOB,
    payload   TEXT CHECK (payload IS NULL OR json_valid(payload))
);
-- Explicit seqs: sqlite_sequence starts after the largest one kept.
INSERT INTO change_log (seq, entity, entity_id, op, hlc, site_no, change_id, payload)
    SELECT seq, entity, entity_id, op, hlc, site_no, change_id, payload FROM change_log_copy ORDER BY seq;
DROP TABLE change_log_copy;
CREATE INDEX change_log_entity ON change_log (entity_id);
