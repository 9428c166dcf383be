-- Shelfkeeper store, schema 1.
--
-- Invariants enforced here, not only in Rust:
--  * every insert/update/delete of a replicated row appends to change_log in
--    the same transaction, stamped with the transaction's HLC and site;
--  * no replicated row can be written outside a write transaction that
--    ticked the clock (the triggers abort);
--  * circulation_events is append-only;
--  * a copy has at most one open loan.
-- Derived data (search index, facets, counters, loans/holds projections,
-- copy status) is not logged: it is recomputed from the logged data.

CREATE TABLE store_meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;

-- Sites are interned: rows store a small local number, sync translates.
-- Site 1 is this store.
CREATE TABLE sites (
    no INTEGER PRIMARY KEY,
    id BLOB NOT NULL UNIQUE
);

-- The hybrid logical clock and the current write's context. One row.
--  hlc:      the last HLC issued (advanced by every write transaction)
--  in_write: 1 only inside a write transaction (uncommitted, so only the
--            writing connection ever sees 1)
--  origin:   0 local write: triggers stamp rows and log changes;
--            1 applying changes received by sync: rows carry their own
--              stamps, nothing is logged, derived data is maintained;
--            2 bulk load (generate, import): the writer stamps rows itself
--              and logs and indexes each batch set-wise before commit
--              (per-row triggers cost more than the rows themselves).
CREATE TABLE clock (
    singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
    hlc       INTEGER NOT NULL,
    site_no   INTEGER NOT NULL,
    in_write  INTEGER NOT NULL DEFAULT 0,
    origin    INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE change_log (
    seq       INTEGER PRIMARY KEY,
    entity    TEXT NOT NULL,
    entity_id BLOB NOT NULL,
    op        TEXT NOT NULL CHECK (op IN ('insert', 'update', 'delete')),
    hlc       INTEGER NOT NULL,
    site_no   INTEGER NOT NULL
);

-- Deleted rows: an edit that arrives later with an older clock must not
-- bring them back.
CREATE TABLE tombstones (
    entity_id BLOB PRIMARY KEY,
    entity    TEXT NOT NULL,
    hlc       INTEGER NOT NULL,
    site_no   INTEGER NOT NULL
) WITHOUT ROWID;

---------------------------------------------------------------- catalogue --

CREATE TABLE titles (
    seq           INTEGER PRIMARY KEY,
    id            BLOB NOT NULL UNIQUE,
    title         TEXT NOT NULL CHECK (length(trim(title)) > 0),
    subtitle      TEXT,
    sort_title    TEXT NOT NULL,
    contributors  TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(contributors)),
    author_sort   TEXT NOT NULL DEFAULT '',
    subjects      TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(subjects)),
    tags          TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(tags)),
    series        TEXT,
    series_number TEXT,
    language      TEXT,
    publisher     TEXT,
    published     TEXT,
    pub_year      INTEGER,
    pages         INTEGER,
    isbn13        TEXT,
    lccn          TEXT,
    call_number   TEXT,
    notes         TEXT,
    cover_ref     TEXT,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL,
    hlc           INTEGER NOT NULL DEFAULT 0,
    site_no       INTEGER NOT NULL DEFAULT 0,
    -- derived from copies
    copy_count      INTEGER NOT NULL DEFAULT 0,
    available_count INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX titles_isbn13 ON titles(isbn13) WHERE isbn13 IS NOT NULL;
CREATE INDEX titles_sort_title ON titles(sort_title, seq);
CREATE INDEX titles_author_sort ON titles(author_sort, seq);
CREATE INDEX titles_year ON titles(ifnull(pub_year, 0), seq);
CREATE INDEX titles_language ON titles(language, seq);

-- Full-text index. Contentless: the text lives in `titles`; the index only
-- maps words to keys. The key orders results by relevance within a match
-- tier: (title length bucket << 40) | seq, so "Dune" comes before "Dune
-- Messiah", and a page of the best matches is the first rows of the index
-- in key order, found without scoring every match.
CREATE VIRTUAL TABLE title_fts USING fts5(
    title, people, series, subjects, other,
    content = '',
    contentless_delete = 1,
    tokenize = 'unicode61 remove_diacritics 2',
    prefix = '2 3 4 5 6'
);

-- Subjects and tags, one row each, for filters and facet counts.
CREATE TABLE title_terms (
    kind      TEXT NOT NULL CHECK (kind IN ('subject', 'tag')),
    value     TEXT NOT NULL COLLATE NOCASE,
    title_seq INTEGER NOT NULL,
    PRIMARY KEY (kind, value, title_seq)
) WITHOUT ROWID;
CREATE INDEX title_terms_by_title ON title_terms(title_seq, kind, value);

CREATE TABLE copies (
    seq           INTEGER PRIMARY KEY,
    id            BLOB NOT NULL UNIQUE,
    title_id      BLOB NOT NULL REFERENCES titles(id),
    barcode       TEXT NOT NULL UNIQUE,
    location      TEXT,
    shelf         TEXT,
    condition     TEXT,
    acquired_on   TEXT,
    price_cents   INTEGER,
    currency      TEXT,
    provenance    TEXT,
    notes         TEXT,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL,
    hlc           INTEGER NOT NULL DEFAULT 0,
    site_no       INTEGER NOT NULL DEFAULT 0,
    -- derived from circulation events
    status        TEXT NOT NULL DEFAULT 'available'
                  CHECK (status IN ('available', 'on_loan', 'on_hold_shelf', 'lost')),
    last_event_id BLOB
);
CREATE INDEX copies_title ON copies(title_id, status);
CREATE INDEX copies_location ON copies(location, title_id);

------------------------------------------------------------------ members --

CREATE TABLE member_types (
    seq              INTEGER PRIMARY KEY,
    id               BLOB NOT NULL UNIQUE,
    code             TEXT NOT NULL UNIQUE,
    name             TEXT NOT NULL,
    loan_days        INTEGER NOT NULL CHECK (loan_days BETWEEN 1 AND 365),
    max_renewals     INTEGER NOT NULL CHECK (max_renewals >= 0),
    max_loans        INTEGER NOT NULL CHECK (max_loans >= 1),
    hold_pickup_days INTEGER NOT NULL CHECK (hold_pickup_days >= 1),
    hlc              INTEGER NOT NULL DEFAULT 0,
    site_no          INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE members (
    seq          INTEGER PRIMARY KEY,
    id           BLOB NOT NULL UNIQUE,
    card         TEXT NOT NULL UNIQUE,
    name         TEXT NOT NULL,
    sort_name    TEXT NOT NULL,
    email        TEXT,
    phone        TEXT,
    address      TEXT,
    member_type  TEXT NOT NULL,
    expires_on   TEXT,
    blocked      INTEGER NOT NULL DEFAULT 0,
    block_reason TEXT,
    notes        TEXT,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    hlc          INTEGER NOT NULL DEFAULT 0,
    site_no      INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX members_sort_name ON members(sort_name);

CREATE TABLE accounts (
    seq           INTEGER PRIMARY KEY,
    id            BLOB NOT NULL UNIQUE,
    username      TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('admin', 'librarian', 'member')),
    disabled      INTEGER NOT NULL DEFAULT 0,
    member_id     BLOB REFERENCES members(id),
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL,
    hlc           INTEGER NOT NULL DEFAULT 0,
    site_no       INTEGER NOT NULL DEFAULT 0
);

------------------------------------------------------------ circulation --

-- Facts, never updated or deleted. `stream_id` is the copy for copy events
-- and the title for holds-queue events; `prev_event_id` is the last event
-- on that stream this desk had seen when it wrote this one (two events with
-- the same prev are concurrent: sync keeps both and records a conflict).
CREATE TABLE circulation_events (
    seq           INTEGER PRIMARY KEY,
    id            BLOB NOT NULL UNIQUE,
    stream_id     BLOB NOT NULL,
    kind          TEXT NOT NULL,
    title_id      BLOB NOT NULL,
    copy_id       BLOB,
    member_id     BLOB,
    hold_id       BLOB,
    due_on        TEXT,
    prev_event_id BLOB,
    occurred_at   TEXT NOT NULL,
    actor_id      BLOB,
    hlc           INTEGER NOT NULL DEFAULT 0,
    site_no       INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX circulation_events_stream ON circulation_events(stream_id, seq);

-- Projection of the events: one row per loan (id = the check-out event).
CREATE TABLE loans (
    seq         INTEGER PRIMARY KEY,
    id          BLOB NOT NULL UNIQUE,
    copy_id     BLOB NOT NULL,
    title_id    BLOB NOT NULL,
    member_id   BLOB NOT NULL,
    out_at      TEXT NOT NULL,
    due_on      TEXT NOT NULL,
    renewals    INTEGER NOT NULL DEFAULT 0,
    returned_at TEXT,
    lost_at     TEXT
);
CREATE INDEX loans_member ON loans(member_id, out_at);
CREATE INDEX loans_copy ON loans(copy_id, out_at);
CREATE INDEX loans_title ON loans(title_id);
CREATE INDEX loans_open_by_due ON loans(due_on) WHERE returned_at IS NULL AND lost_at IS NULL;
CREATE UNIQUE INDEX loans_one_open_per_copy ON loans(copy_id) WHERE returned_at IS NULL AND lost_at IS NULL;

-- Projection of the hold events.
CREATE TABLE holds (
    seq        INTEGER PRIMARY KEY,
    id         BLOB NOT NULL UNIQUE,
    title_id   BLOB NOT NULL,
    member_id  BLOB NOT NULL,
    placed_at  TEXT NOT NULL,
    status     TEXT NOT NULL CHECK (status IN ('waiting', 'ready', 'fulfilled', 'cancelled', 'expired')),
    copy_id    BLOB,
    expires_on TEXT,
    closed_at  TEXT
);
CREATE INDEX holds_queue ON holds(title_id, status, seq);
CREATE INDEX holds_member ON holds(member_id, status);
CREATE INDEX holds_ready_expiry ON holds(expires_on) WHERE status = 'ready';
CREATE UNIQUE INDEX holds_ready_copy ON holds(copy_id) WHERE status = 'ready';
CREATE UNIQUE INDEX holds_one_active_per_member ON holds(title_id, member_id) WHERE status IN ('waiting', 'ready');

------------------------------------------------------- reviews, reading --

CREATE TABLE reviews (
    seq        INTEGER PRIMARY KEY,
    id         BLOB NOT NULL UNIQUE,
    title_id   BLOB NOT NULL REFERENCES titles(id) ON DELETE CASCADE,
    member_id  BLOB REFERENCES members(id),
    rating     INTEGER NOT NULL CHECK (rating BETWEEN 1 AND 5),
    body       TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    hlc        INTEGER NOT NULL DEFAULT 0,
    site_no    INTEGER NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX reviews_one_per_member ON reviews(title_id, member_id) WHERE member_id IS NOT NULL;
CREATE UNIQUE INDEX reviews_one_by_owner ON reviews(title_id) WHERE member_id IS NULL;

CREATE TABLE reading_status (
    seq         INTEGER PRIMARY KEY,
    id          BLOB NOT NULL UNIQUE,   -- the title's id: one status per title
    state       TEXT NOT NULL CHECK (state IN ('want_to_read', 'reading', 'read', 'abandoned')),
    started_on  TEXT,
    finished_on TEXT,
    hlc         INTEGER NOT NULL DEFAULT 0,
    site_no     INTEGER NOT NULL DEFAULT 0,
    FOREIGN KEY (id) REFERENCES titles(id) ON DELETE CASCADE
);

---------------------------------------------------------- change log --
-- Generated pattern, one block per replicated table: a guard that refuses
-- writes outside a write transaction, a stamp of the row with the
-- transaction's (hlc, site), and a change_log row.

CREATE TRIGGER titles_guard_insert BEFORE INSERT ON titles
WHEN NOT EXISTS (SELECT 1 FROM clock WHERE in_write = 1)
BEGIN SELECT RAISE(ABORT, 'titles written outside a write transaction'); END;
CREATE TRIGGER titles_guard_update BEFORE UPDATE OF title, subtitle, sort_title, contributors, author_sort, subjects, tags, series, series_number, language, publisher, published, pub_year, pages, isbn13, lccn, call_number, notes, cover_ref ON titles
WHEN NOT EXISTS (SELECT 1 FROM clock WHERE in_write = 1)
BEGIN SELECT RAISE(ABORT, 'titles written outside a write transaction'); END;
CREATE TRIGGER titles_guard_delete BEFORE DELETE ON titles
WHEN NOT EXISTS (SELECT 1 FROM clock WHERE in_write = 1)
BEGIN SELECT RAISE(ABORT, 'titles written outside a write transaction'); END;
CREATE TRIGGER titles_log_insert AFTER INSERT ON titles
WHEN (SELECT origin FROM clock) = 0
BEGIN
    UPDATE titles SET hlc = (SELECT hlc FROM clock), site_no = (SELECT site_no FROM clock) WHERE seq = NEW.seq;
    INSERT INTO change_log(entity, entity_id, op, hlc, site_no) SELECT 'title', NEW.id, 'insert', hlc, site_no FROM clock;
END;
CREATE TRIGGER titles_log_update AFTER UPDATE OF title, subtitle, sort_title, contributors, author_sort, subjects, tags, series, series_number, language, publisher, published, pub_year, pages, isbn13, lccn, call_number, notes, cover_ref ON titles
WHEN (SELECT origin FROM clock) = 0
BEGIN
    UPDATE titles SET hlc = (SELECT hlc FROM clock), site_no = (SELECT site_no FROM clock) WHERE seq = NEW.seq;
    INSERT INTO change_log(entity, entity_id, op, hlc, site_no) SELECT 'title', NEW.id, 'update', hlc, site_no FROM clock;
END;
CREATE TRIGGER titles_log_delete AFTER DELETE ON titles
WHEN (SELECT origin FROM clock) = 0
BEGIN
    INSERT INTO change_log(entity, entity_id, op, hlc, site_no) SELECT 'title', OLD.id, 'delete', hlc, site_no FROM clock;
    INSERT OR REPLACE INTO tombstones(entity_id, entity, hlc, site_no) SELECT OLD.id, 'title', hlc, site_no FROM clock;
END;

CREATE TRIGGER copies_guard_insert BEFORE INSERT ON copies
WHEN NOT EXISTS (SELECT 1 FROM clock WHERE in_write = 1)
BEGIN SELECT RAISE(ABORT, 'copies written outside a write transaction'); END;
CREATE TRIGGER copies_guard_update BEFORE UPDATE OF title_id, barcode, location, shelf, condition, acquired_on, price_cents, currency, provenance, notes ON copies
WHEN NOT EXISTS (SELECT 1 FROM clock WHERE in_write = 1)
BEGIN SELECT RAISE(ABORT, 'copies written outside a write transaction'); END;
CREATE TRIGGER copies_guard_delete BEFORE DELETE ON copies
WHEN NOT EXISTS (SELECT 1 FROM clock WHERE in_write = 1)
BEGIN SELECT RAISE(ABORT, 'copies written outside a write transaction'); END;
CREATE TRIGGER copies_log_insert AFTER INSERT ON copies
WHEN (SELECT origin FROM clock) = 0
BEGIN
    UPDATE copies SET hlc = (SELECT hlc FROM clock), site_no = (SELECT site_no FROM clock) WHERE seq = NEW.seq;
    INSERT INTO change_log(entity, entity_id, op, hlc, site_no) SELECT 'copy', NEW.id, 'insert', hlc, site_no FROM clock;
END;
CREATE TRIGGER copies_log_update AFTER UPDATE OF title_id, barcode, location, shelf, condition, acquired_on, price_cents, currency, provenance, notes ON copies
WHEN (SELECT origin FROM clock) = 0
BEGIN
    UPDATE copies SET hlc = (SELECT hlc FROM clock), site_no = (SELECT site_no FROM clock) WHERE seq = NEW.seq;
    INSERT INTO change_log(entity, entity_id, op, hlc, site_no) SELECT 'copy', NEW.id, 'update', hlc, site_no FROM clock;
END;
CREATE TRIGGER copies_log_delete AFTER DELETE ON copies
WHEN (SELECT origin FROM clock) = 0
BEGIN
    INSERT INTO change_log(entity, entity_id, op, hlc, site_no) SELECT 'copy', OLD.id, 'delete', hlc, site_no FROM clock;
    INSERT OR REPLACE INTO tombstones(entity_id, entity, hlc, site_no) SELECT OLD.id, 'copy', hlc, site_no FROM clock;
END;

CREATE TRIGGER member_types_guard_insert BEFORE INSERT ON member_types
WHEN NOT EXISTS (SELECT 1 FROM clock WHERE in_write = 1)
BEGIN SELECT RAISE(ABORT, 'member_types written outside a write transaction'); END;
CREATE TRIGGER member_types_guard_update BEFORE UPDATE OF code, name, loan_days, max_renewals, max_loans, hold_pickup_days ON member_types
WHEN NOT EXISTS (SELECT 1 FROM clock WHERE in_write = 1)
BEGIN SELECT RAISE(ABORT, 'member_types written outside a write transaction'); END;
CREATE TRIGGER member_types_guard_delete BEFORE DELETE ON member_types
WHEN NOT EXISTS (SELECT 1 FROM clock WHERE in_write = 1)
BEGIN SELECT RAISE(ABORT, 'member_types written outside a write transaction'); END;
CREATE TRIGGER member_types_log_insert AFTER INSERT ON member_types
WHEN (SELECT origin FROM clock) = 0
BEGIN
    UPDATE member_types SET hlc = (SELECT hlc FROM clock), site_no = (SELECT site_no FROM clock) WHERE seq = NEW.seq;
    INSERT INTO change_log(entity, entity_id, op, hlc, site_no) SELECT 'member_type', NEW.id, 'insert', hlc, site_no FROM clock;
END;
CREATE TRIGGER member_types_log_update AFTER UPDATE OF code, name, loan_days, max_renewals, max_loans, hold_pickup_days ON member_types
WHEN (SELECT origin FROM clock) = 0
BEGIN
    UPDATE member_types SET hlc = (SELECT hlc FROM clock), site_no = (SELECT site_no FROM clock) WHERE seq = NEW.seq;
    INSERT INTO change_log(entity, entity_id, op, hlc, site_no) SELECT 'member_type', NEW.id, 'update', hlc, site_no FROM clock;
END;
CREATE TRIGGER member_types_log_delete AFTER DELETE ON member_types
WHEN (SELECT origin FROM clock) = 0
BEGIN
    INSERT INTO change_log(entity, entity_id, op, hlc, site_no) SELECT 'member_type', OLD.id, 'delete', hlc, site_no FROM clock;
    INSERT OR REPLACE INTO tombstones(entity_id, entity, hlc, site_no) SELECT OLD.id, 'member_type', hlc, site_no FROM clock;
END;

CREATE TRIGGER members_guard_insert BEFORE INSERT ON members
WHEN NOT EXISTS (SELECT 1 FROM clock WHERE in_write = 1)
BEGIN SELECT RAISE(ABORT, 'members written outside a write transaction'); END;
CREATE TRIGGER members_guard_update BEFORE UPDATE OF card, name, sort_name, email, phone, address, member_type, expires_on, blocked, block_reason, notes ON members
WHEN NOT EXISTS (SELECT 1 FROM clock WHERE in_write = 1)
BEGIN SELECT RAISE(ABORT, 'members written outside a write transaction'); END;
CREATE TRIGGER members_guard_delete BEFORE DELETE ON members
WHEN NOT EXISTS (SELECT 1 FROM clock WHERE in_write = 1)
BEGIN SELECT RAISE(ABORT, 'members written outside a write transaction'); END;
CREATE TRIGGER members_log_insert AFTER INSERT ON members
WHEN (SELECT origin FROM clock) = 0
BEGIN
    UPDATE members SET hlc = (SELECT hlc FROM clock), site_no = (SELECT site_no FROM clock) WHERE seq = NEW.seq;
    INSERT INTO change_log(entity, entity_id, op, hlc, site_no) SELECT 'member', NEW.id, 'insert', hlc, site_no FROM clock;
END;
CREATE TRIGGER members_log_update AFTER UPDATE OF card, name, sort_name, email, phone, address, member_type, expires_on, blocked, block_reason, notes ON members
WHEN (SELECT origin FROM clock) = 0
BEGIN
    UPDATE members SET hlc = (SELECT hlc FROM clock), site_no = (SELECT site_no FROM clock) WHERE seq = NEW.seq;
    INSERT INTO change_log(entity, entity_id, op, hlc, site_no) SELECT 'member', NEW.id, 'update', hlc, site_no FROM clock;
END;
CREATE TRIGGER members_log_delete AFTER DELETE ON members
WHEN (SELECT origin FROM clock) = 0
BEGIN
    INSERT INTO change_log(entity, entity_id, op, hlc, site_no) SELECT 'member', OLD.id, 'delete', hlc, site_no FROM clock;
    INSERT OR REPLACE INTO tombstones(entity_id, entity, hlc, site_no) SELECT OLD.id, 'member', hlc, site_no FROM clock;
END;

CREATE TRIGGER accounts_guard_insert BEFORE INSERT ON accounts
WHEN NOT EXISTS (SELECT 1 FROM clock WHERE in_write = 1)
BEGIN SELECT RAISE(ABORT, 'accounts written outside a write transaction'); END;
CREATE TRIGGER accounts_guard_update BEFORE UPDATE OF username, password_hash, role, disabled, member_id ON accounts
WHEN NOT EXISTS (SELECT 1 FROM clock WHERE in_write = 1)
BEGIN SELECT RAISE(ABORT, 'accounts written outside a write transaction'); END;
CREATE TRIGGER accounts_guard_delete BEFORE DELETE ON accounts
WHEN NOT EXISTS (SELECT 1 FROM clock WHERE in_write = 1)
BEGIN SELECT RAISE(ABORT, 'accounts written outside a write transaction'); END;
CREATE TRIGGER accounts_log_insert AFTER INSERT ON accounts
WHEN (SELECT origin FROM clock) = 0
BEGIN
    UPDATE accounts SET hlc = (SELECT hlc FROM clock), site_no = (SELECT site_no FROM clock) WHERE seq = NEW.seq;
    INSERT INTO change_log(entity, entity_id, op, hlc, site_no) SELECT 'account', NEW.id, 'insert', hlc, site_no FROM clock;
END;
CREATE TRIGGER accounts_log_update AFTER UPDATE OF username, password_hash, role, disabled, member_id ON accounts
WHEN (SELECT origin FROM clock) = 0
BEGIN
    UPDATE accounts SET hlc = (SELECT hlc FROM clock), site_no = (SELECT site_no FROM clock) WHERE seq = NEW.seq;
    INSERT INTO change_log(entity, entity_id, op, hlc, site_no) SELECT 'account', NEW.id, 'update', hlc, site_no FROM clock;
END;
CREATE TRIGGER accounts_log_delete AFTER DELETE ON accounts
WHEN (SELECT origin FROM clock) = 0
BEGIN
    INSERT INTO change_log(entity, entity_id, op, hlc, site_no) SELECT 'account', OLD.id, 'delete', hlc, site_no FROM clock;
    INSERT OR REPLACE INTO tombstones(entity_id, entity, hlc, site_no) SELECT OLD.id, 'account', hlc, site_no FROM clock;
END;

CREATE TRIGGER circulation_events_guard_insert BEFORE INSERT ON circulation_events
WHEN NOT EXISTS (SELECT 1 FROM clock WHERE in_write = 1)
BEGIN SELECT RAISE(ABORT, 'circulation_events written outside a write transaction'); END;
CREATE TRIGGER circulation_events_append_only_update BEFORE UPDATE OF id, stream_id, kind, title_id, copy_id, member_id, hold_id, due_on, prev_event_id, occurred_at, actor_id ON circulation_events
BEGIN SELECT RAISE(ABORT, 'circulation events are append-only'); END;
CREATE TRIGGER circulation_events_append_only_delete BEFORE DELETE ON circulation_events
BEGIN SELECT RAISE(ABORT, 'circulation events are append-only'); END;
CREATE TRIGGER circulation_events_log_insert AFTER INSERT ON circulation_events
WHEN (SELECT origin FROM clock) = 0
BEGIN
    UPDATE circulation_events SET hlc = (SELECT hlc FROM clock), site_no = (SELECT site_no FROM clock) WHERE seq = NEW.seq;
    INSERT INTO change_log(entity, entity_id, op, hlc, site_no) SELECT 'event', NEW.id, 'insert', hlc, site_no FROM clock;
END;

CREATE TRIGGER reviews_guard_insert BEFORE INSERT ON reviews
WHEN NOT EXISTS (SELECT 1 FROM clock WHERE in_write = 1)
BEGIN SELECT RAISE(ABORT, 'reviews written outside a write transaction'); END;
CREATE TRIGGER reviews_guard_update BEFORE UPDATE OF title_id, member_id, rating, body ON reviews
WHEN NOT EXISTS (SELECT 1 FROM clock WHERE in_write = 1)
BEGIN SELECT RAISE(ABORT, 'reviews written outside a write transaction'); END;
CREATE TRIGGER reviews_guard_delete BEFORE DELETE ON reviews
WHEN NOT EXISTS (SELECT 1 FROM clock WHERE in_write = 1)
BEGIN SELECT RAISE(ABORT, 'reviews written outside a write transaction'); END;
CREATE TRIGGER reviews_log_insert AFTER INSERT ON reviews
WHEN (SELECT origin FROM clock) = 0
BEGIN
    UPDATE reviews SET hlc = (SELECT hlc FROM clock), site_no = (SELECT site_no FROM clock) WHERE seq = NEW.seq;
    INSERT INTO change_log(entity, entity_id, op, hlc, site_no) SELECT 'review', NEW.id, 'insert', hlc, site_no FROM clock;
END;
CREATE TRIGGER reviews_log_update AFTER UPDATE OF title_id, member_id, rating, body ON reviews
WHEN (SELECT origin FROM clock) = 0
BEGIN
    UPDATE reviews SET hlc = (SELECT hlc FROM clock), site_no = (SELECT site_no FROM clock) WHERE seq = NEW.seq;
    INSERT INTO change_log(entity, entity_id, op, hlc, site_no) SELECT 'review', NEW.id, 'update', hlc, site_no FROM clock;
END;
CREATE TRIGGER reviews_log_delete AFTER DELETE ON reviews
WHEN (SELECT origin FROM clock) = 0
BEGIN
    INSERT INTO change_log(entity, entity_id, op, hlc, site_no) SELECT 'review', OLD.id, 'delete', hlc, site_no FROM clock;
    INSERT OR REPLACE INTO tombstones(entity_id, entity, hlc, site_no) SELECT OLD.id, 'review', hlc, site_no FROM clock;
END;

CREATE TRIGGER reading_status_guard_insert BEFORE INSERT ON reading_status
WHEN NOT EXISTS (SELECT 1 FROM clock WHERE in_write = 1)
BEGIN SELECT RAISE(ABORT, 'reading_status written outside a write transaction'); END;
CREATE TRIGGER reading_status_guard_update BEFORE UPDATE OF state, started_on, finished_on ON reading_status
WHEN NOT EXISTS (SELECT 1 FROM clock WHERE in_write = 1)
BEGIN SELECT RAISE(ABORT, 'reading_status written outside a write transaction'); END;
CREATE TRIGGER reading_status_guard_delete BEFORE DELETE ON reading_status
WHEN NOT EXISTS (SELECT 1 FROM clock WHERE in_write = 1)
BEGIN SELECT RAISE(ABORT, 'reading_status written outside a write transaction'); END;
CREATE TRIGGER reading_status_log_insert AFTER INSERT ON reading_status
WHEN (SELECT origin FROM clock) = 0
BEGIN
    UPDATE reading_status SET hlc = (SELECT hlc FROM clock), site_no = (SELECT site_no FROM clock) WHERE seq = NEW.seq;
    INSERT INTO change_log(entity, entity_id, op, hlc, site_no) SELECT 'reading_status', NEW.id, 'insert', hlc, site_no FROM clock;
END;
CREATE TRIGGER reading_status_log_update AFTER UPDATE OF state, started_on, finished_on ON reading_status
WHEN (SELECT origin FROM clock) = 0
BEGIN
    UPDATE reading_status SET hlc = (SELECT hlc FROM clock), site_no = (SELECT site_no FROM clock) WHERE seq = NEW.seq;
    INSERT INTO change_log(entity, entity_id, op, hlc, site_no) SELECT 'reading_status', NEW.id, 'update', hlc, site_no FROM clock;
END;
CREATE TRIGGER reading_status_log_delete AFTER DELETE ON reading_status
WHEN (SELECT origin FROM clock) = 0
BEGIN
    INSERT INTO change_log(entity, entity_id, op, hlc, site_no) SELECT 'reading_status', OLD.id, 'delete', hlc, site_no FROM clock;
    INSERT OR REPLACE INTO tombstones(entity_id, entity, hlc, site_no) SELECT OLD.id, 'reading_status', hlc, site_no FROM clock;
END;

------------------------------------------------------- derived: search --

-- The text each title contributes to the index, defined once for the
-- triggers and for bulk loads.
CREATE VIEW title_search_doc AS
SELECT seq,
       (min(length(title), 255) << 40) | seq AS key,
       title || coalesce(' ' || subtitle, '') AS title,
       (SELECT group_concat(value ->> '$.name', ' ') FROM json_each(contributors)) AS people,
       coalesce(series, '') AS series,
       (SELECT group_concat(value, ' ') FROM (SELECT value FROM json_each(subjects)
                                              UNION ALL SELECT value FROM json_each(tags))) AS subjects,
       concat_ws(' ', publisher, isbn13, lccn, call_number, notes) AS other
FROM titles;

CREATE VIEW title_terms_doc AS
SELECT 'subject' AS kind, j.value AS value, t.seq AS title_seq FROM titles t, json_each(t.subjects) j
UNION ALL
SELECT 'tag', j.value, t.seq FROM titles t, json_each(t.tags) j;

CREATE TRIGGER titles_index_insert AFTER INSERT ON titles
WHEN (SELECT origin FROM clock) <> 2
BEGIN
    INSERT INTO title_fts(rowid, title, people, series, subjects, other)
        SELECT key, title, people, series, subjects, other FROM title_search_doc WHERE seq = NEW.seq;
    INSERT OR IGNORE INTO title_terms(kind, value, title_seq)
        SELECT kind, value, title_seq FROM title_terms_doc WHERE title_seq = NEW.seq;
END;

CREATE TRIGGER titles_index_update
AFTER UPDATE OF title, subtitle, contributors, series, subjects, tags, publisher, isbn13, lccn, call_number, notes ON titles
BEGIN
    DELETE FROM title_fts WHERE rowid = (min(length(OLD.title), 255) << 40) | OLD.seq;
    INSERT INTO title_fts(rowid, title, people, series, subjects, other)
        SELECT key, title, people, series, subjects, other FROM title_search_doc WHERE seq = NEW.seq;
    DELETE FROM title_terms WHERE title_seq = OLD.seq;
    INSERT OR IGNORE INTO title_terms(kind, value, title_seq)
        SELECT kind, value, title_seq FROM title_terms_doc WHERE title_seq = NEW.seq;
END;

CREATE TRIGGER titles_index_delete AFTER DELETE ON titles
BEGIN
    DELETE FROM title_fts WHERE rowid = (min(length(OLD.title), 255) << 40) | OLD.seq;
    DELETE FROM title_terms WHERE title_seq = OLD.seq;
END;

----------------------------------------------------- derived: counters --

CREATE TRIGGER copies_count_insert AFTER INSERT ON copies
WHEN (SELECT origin FROM clock) <> 2
BEGIN
    UPDATE titles SET copy_count = copy_count + 1,
                      available_count = available_count + (NEW.status = 'available')
    WHERE id = NEW.title_id;
END;

CREATE TRIGGER copies_count_delete AFTER DELETE ON copies
WHEN (SELECT origin FROM clock) <> 2
BEGIN
    UPDATE titles SET copy_count = copy_count - 1,
                      available_count = available_count - (OLD.status = 'available')
    WHERE id = OLD.title_id;
END;

CREATE TRIGGER copies_count_update AFTER UPDATE OF status, title_id ON copies
WHEN (SELECT origin FROM clock) <> 2
BEGIN
    UPDATE titles SET copy_count = copy_count - 1,
                      available_count = available_count - (OLD.status = 'available')
    WHERE id = OLD.title_id;
    UPDATE titles SET copy_count = copy_count + 1,
                      available_count = available_count + (NEW.status = 'available')
    WHERE id = NEW.title_id;
END;
