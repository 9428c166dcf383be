-- Resolving a sync conflict is itself a replicated change.
--
-- Conflicts (sync_conflicts, 0004) are derived by every replica from the
-- replicated data, so each desk finds the same ones. When staff at one desk
-- have looked at a conflict and settled it (checked the shelf, called the
-- member, fixed the barcode), they say so here; the row syncs like any
-- catalogue row (last writer wins by (hlc, site)), so every desk sees the
-- conflict resolved, by whom, when and with what note.
--
--  id:            UUIDv5 of the conflict key (crates/store/src/sync.rs,
--                 resolution_id): two desks resolving the same conflict
--                 while apart write the same row, and the later one wins;
--  conflict_key:  sync_conflicts.key;
--  conflict_hlc,
--  conflict_site: the conflict's own stamp when it was resolved. A conflict
--                 whose stamp is newer (a newer kept version, a new claim)
--                 is open again: the resolution was about what staff saw;
--  action:        'acknowledged' (staff settled it by hand, data as it is)
--                 or 'discarded' (a kept row version is not wanted);
--  note:          what staff did, for the next person;
--  resolved_by:   the name of who resolved it (accounts are per desk);
--  resolved_at:   RFC 3339, when.
CREATE TABLE conflict_resolutions (
    seq           INTEGER PRIMARY KEY,
    id            BLOB NOT NULL UNIQUE,
    conflict_key  TEXT NOT NULL UNIQUE,
    conflict_hlc  INTEGER NOT NULL,
    conflict_site BLOB NOT NULL,
    action        TEXT NOT NULL CHECK (action IN ('acknowledged', 'discarded')),
    note          TEXT NOT NULL DEFAULT '' CHECK (length(note) <= 2000),
    resolved_by   TEXT NOT NULL,
    resolved_at   TEXT NOT NULL,
    hlc           INTEGER NOT NULL DEFAULT 0,
    site_no       INTEGER NOT NULL DEFAULT 0
);

CREATE TRIGGER conflict_resolutions_guard_insert BEFORE INSERT ON conflict_resolutions
WHEN NOT EXISTS (SELECT 1 FROM clock WHERE in_write = 1)
BEGIN SELECT RAISE(ABORT, 'conflict_resolutions written outside a write transaction'); END;
CREATE TRIGGER conflict_resolutions_guard_update BEFORE UPDATE OF conflict_key, conflict_hlc, conflict_site, action, note, resolved_by, resolved_at ON conflict_resolutions
WHEN NOT EXISTS (SELECT 1 FROM clock WHERE in_write = 1)
BEGIN SELECT RAISE(ABORT, 'conflict_resolutions written outside a write transaction'); END;
CREATE TRIGGER conflict_resolutions_guard_delete BEFORE DELETE ON conflict_resolutions
WHEN NOT EXISTS (SELECT 1 FROM clock WHERE in_write = 1)
BEGIN SELECT RAISE(ABORT, 'conflict_resolutions written outside a write transaction'); END;
CREATE TRIGGER conflict_resolutions_log_insert AFTER INSERT ON conflict_resolutions
WHEN (SELECT origin FROM clock) = 0
BEGIN
    UPDATE conflict_resolutions SET hlc = (SELECT hlc FROM clock), site_no = (SELECT site_no FROM clock) WHERE seq = NEW.seq;
    INSERT INTO change_log(entity, entity_id, op, hlc, site_no) SELECT 'conflict_resolution', NEW.id, 'insert', hlc, site_no FROM clock;
END;
CREATE TRIGGER conflict_resolutions_log_update AFTER UPDATE OF conflict_key, conflict_hlc, conflict_site, action, note, resolved_by, resolved_at ON conflict_resolutions
WHEN (SELECT origin FROM clock) = 0
BEGIN
    UPDATE conflict_resolutions SET hlc = (SELECT hlc FROM clock), site_no = (SELECT site_no FROM clock) WHERE seq = NEW.seq;
    INSERT INTO change_log(entity, entity_id, op, hlc, site_no) SELECT 'conflict_resolution', NEW.id, 'update', hlc, site_no FROM clock;
END;
CREATE TRIGGER conflict_resolutions_log_delete AFTER DELETE ON conflict_resolutions
WHEN (SELECT origin FROM clock) = 0
BEGIN
    INSERT INTO change_log(entity, entity_id, op, hlc, site_no) SELECT 'conflict_resolution', OLD.id, 'delete', hlc, site_no FROM clock;
    INSERT OR REPLACE INTO tombstones(entity_id, entity, hlc, site_no) SELECT OLD.id, 'conflict_resolution', hlc, site_no FROM clock;
END;
