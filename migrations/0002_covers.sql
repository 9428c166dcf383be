-- Cover images. A title names its cover with titles.cover_ref =
-- 'cover:<uuid>'; the image itself is an immutable blob here. Changing a
-- cover writes a new blob and edits the title row, which the title's own
-- triggers stamp and log like any edit; replicas fetch a blob they lack by
-- its id (see crates/domain/src/cover.rs). A blob no title names any more is
-- deleted in the same transaction that let go of it (triggers below).

CREATE TABLE covers (
    seq      INTEGER PRIMARY KEY,
    id       TEXT NOT NULL UNIQUE,        -- the uuid in 'cover:<uuid>'
    mime     TEXT NOT NULL CHECK (mime IN ('image/jpeg', 'image/png', 'image/webp', 'image/gif')),
    bytes    BLOB NOT NULL CHECK (length(bytes) BETWEEN 32 AND 2097152),
    source   TEXT NOT NULL,
    added_at TEXT NOT NULL
);

CREATE INDEX titles_cover_ref ON titles(cover_ref) WHERE cover_ref IS NOT NULL;

CREATE TRIGGER covers_guard_insert BEFORE INSERT ON covers
WHEN NOT EXISTS (SELECT 1 FROM clock WHERE in_write = 1)
BEGIN SELECT RAISE(ABORT, 'covers written outside a write transaction'); END;
CREATE TRIGGER covers_guard_delete BEFORE DELETE ON covers
WHEN NOT EXISTS (SELECT 1 FROM clock WHERE in_write = 1)
BEGIN SELECT RAISE(ABORT, 'covers written outside a write transaction'); END;
CREATE TRIGGER covers_immutable BEFORE UPDATE ON covers
BEGIN SELECT RAISE(ABORT, 'a cover blob never changes; write a new one'); END;

CREATE TRIGGER titles_cover_released AFTER UPDATE OF cover_ref ON titles
WHEN OLD.cover_ref LIKE 'cover:%' AND OLD.cover_ref IS NOT NEW.cover_ref
BEGIN
    DELETE FROM covers WHERE id = substr(OLD.cover_ref, 7)
        AND NOT EXISTS (SELECT 1 FROM titles WHERE cover_ref = OLD.cover_ref);
END;
CREATE TRIGGER titles_cover_deleted AFTER DELETE ON titles
WHEN OLD.cover_ref LIKE 'cover:%'
BEGIN
    DELETE FROM covers WHERE id = substr(OLD.cover_ref, 7)
        AND NOT EXISTS (SELECT 1 FROM titles WHERE cover_ref = OLD.cover_ref);
END;
