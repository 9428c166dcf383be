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
-- on desks. Library deletion still cascades.
ALTER TABLE circulation_events
    DROP CONSTRAINT IF EXISTS circulation_events_copy_id_fkey,
    DROP CONSTRAINT IF EXISTS circulation_events_title_id_fkey,
    DROP CONSTRAINT IF EXISTS circulation_events_member_id_fkey;
ALTER TABLE loans
    DROP CONSTRAINT IF EXISTS loans_id_fkey,
    DROP CONSTRAINT IF EXISTS loans_copy_id_fkey,
    DROP CONSTRAINT IF EXISTS loans_title_id_fkey,
    DROP CONSTRAINT IF EXISTS loans_member_id_fkey;
ALTER TABLE holds
    DROP CONSTRAINT IF EXISTS holds_title_id_fkey,
    DROP CONSTRAINT IF EXISTS holds_member_id_fkey,
    DROP CONSTRAINT IF EXISTS holds_copy_id_fkey;
-- Default member types have the same id in every replica (derived from the
-- code, as on desks), so one id now names a type in each library.
ALTER TABLE member_types DROP CONSTRAINT member_types_pkey, ADD PRIMARY KEY (library_id, id);

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
