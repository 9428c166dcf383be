-- Field provenance and locks on titles, ISBN look-up answers, and staged
-- imports.

-- Where each descriptive field of a title came from and whether a person
-- locked it (see crates/domain/src/provenance.rs): a JSON object keyed by
-- field name. It is part of the title row, so it replicates with it; a
-- change of locks alone is a logged edit like any other.
ALTER TABLE titles ADD COLUMN field_sources TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(field_sources));

DROP TRIGGER titles_guard_update;
CREATE TRIGGER titles_guard_update BEFORE UPDATE OF title, subtitle, sort_title, contributors, author_sort, subjects, tags, series, series_number, language, publisher, published, pub_year, pages, isbn13, lccn, call_number, notes, cover_ref, field_sources ON titles
WHEN NOT EXISTS (SELECT 1 FROM clock WHERE in_write = 1)
BEGIN SELECT RAISE(ABORT, 'titles written outside a write transaction'); END;

DROP TRIGGER titles_log_update;
CREATE TRIGGER titles_log_update AFTER UPDATE OF title, subtitle, sort_title, contributors, author_sort, subjects, tags, series, series_number, language, publisher, published, pub_year, pages, isbn13, lccn, call_number, notes, cover_ref, field_sources ON titles
WHEN (SELECT origin FROM clock) = 0
BEGIN
    UPDATE titles SET hlc = (SELECT hlc FROM clock), site_no = (SELECT site_no FROM clock) WHERE seq = NEW.seq;
    INSERT INTO change_log(entity, entity_id, op, hlc, site_no) SELECT 'title', NEW.id, 'update', hlc, site_no FROM clock;
END;

-- What the metadata providers answered for an ISBN, kept so a second
-- look-up (and any look-up offline) is answered from here. Local to this
-- desk: a cache, not catalogue data, so it is not logged or replicated.
CREATE TABLE isbn_lookups (
    isbn13     TEXT PRIMARY KEY,
    fetched_at TEXT NOT NULL,
    outcome    TEXT NOT NULL CHECK (outcome IN ('found', 'not_found', 'offline', 'provider_error')),
    report     TEXT NOT NULL CHECK (json_valid(report))
) WITHOUT ROWID;

-- Staged imports (local to this desk; what they create is catalogue data
-- and replicates like any other write). An import is parsed and classified
-- into import_rows, shown, then committed in batches: each batch writes its
-- titles and copies and marks its rows done in one transaction, so a crash
-- leaves every row either wholly imported or untouched, and committing
-- again carries on where it stopped.
CREATE TABLE imports (
    id            TEXT PRIMARY KEY,      -- uuid
    source_name   TEXT NOT NULL,         -- the file's name, for people
    format        TEXT NOT NULL,         -- preset or format id
    source_info   TEXT,                  -- what the reader made of the file (JSON), for the failed-rows file
    state         TEXT NOT NULL CHECK (state IN ('staged', 'committing', 'committed', 'discarded', 'undone')),
    total_rows    INTEGER NOT NULL DEFAULT 0,
    staged_at     TEXT NOT NULL,
    committed_at  TEXT
) WITHOUT ROWID;

CREATE TABLE import_rows (
    import_id   TEXT NOT NULL REFERENCES imports(id) ON DELETE CASCADE,
    n           INTEGER NOT NULL,        -- order in the file, from 1
    position    TEXT NOT NULL,           -- "line 14", "record 3"
    kind        TEXT NOT NULL CHECK (kind IN ('new', 'update', 'duplicate', 'error')),
    has_record  INTEGER NOT NULL,        -- 1: import_records holds what to write
    title       TEXT,                    -- for the preview list
    reason      TEXT,                    -- why an error, what a duplicate matched, what an update changes
    match_id    BLOB,                    -- the existing title a duplicate/update matched
    source_key  TEXT,                    -- the source program's own id for the row
    done        INTEGER NOT NULL DEFAULT 0,
    outcome     TEXT,                    -- after commit: created / updated / skipped / failed: reason
    title_id    BLOB,                    -- the title the row created or updated
    copies_added INTEGER NOT NULL DEFAULT 0,
    before      TEXT,                    -- an updated title's draft before the import (for undo)
    PRIMARY KEY (import_id, n)
) WITHOUT ROWID;

-- The records themselves, apart from the rows' small, often-updated status
-- (a row's status changes at classification and at commit; rewriting the
-- record with it made every update cost a large row).
CREATE TABLE import_records (
    import_id   TEXT NOT NULL REFERENCES imports(id) ON DELETE CASCADE,
    n           INTEGER NOT NULL,
    record      TEXT CHECK (record IS NULL OR json_valid(record)),
    raw         TEXT,                    -- the row as it was in the file, when known
    PRIMARY KEY (import_id, n)
);

CREATE INDEX import_rows_pending ON import_rows(import_id, done, n);
-- Re-importing a file whose rows carry no ISBN finds the titles an earlier
-- import of the same source made.
CREATE INDEX import_rows_source_key ON import_rows(source_key) WHERE source_key IS NOT NULL AND title_id IS NOT NULL;
