-- Catalogue per library: titles and copies, sync-ready. Every row carries
-- the (hlc, site) stamp of its last write, and every write appends to
-- server_changes in the same transaction: the ordered feed sync will serve
-- to desktops (`seq` is the server's change sequence).

CREATE TABLE server_meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE server_changes (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    library_id TEXT NOT NULL REFERENCES libraries (id) ON DELETE CASCADE,
    entity TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    op TEXT NOT NULL CHECK (op IN ('upsert', 'delete')),
    hlc BIGINT NOT NULL,
    site TEXT NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX server_changes_library ON server_changes (library_id, seq);

CREATE TABLE titles (
    id TEXT PRIMARY KEY,
    library_id TEXT NOT NULL REFERENCES libraries (id) ON DELETE CASCADE,
    title TEXT NOT NULL,
    subtitle TEXT,
    sort_title TEXT NOT NULL,
    author_sort TEXT,
    contributors TEXT NOT NULL,           -- JSON array of {name, role}
    subjects TEXT NOT NULL,               -- JSON array of strings
    tags TEXT NOT NULL,                   -- JSON array of strings
    series TEXT,
    series_number TEXT,
    language TEXT,
    publisher TEXT,
    published TEXT,
    pub_year BIGINT,
    pages BIGINT,
    isbn13 TEXT,
    lccn TEXT,
    call_number TEXT,
    notes TEXT,
    cover_ref TEXT,
    search_text TEXT NOT NULL,            -- lower-cased words of every searched field
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    hlc BIGINT NOT NULL,
    site TEXT NOT NULL
);
CREATE UNIQUE INDEX titles_isbn ON titles (library_id, isbn13) WHERE isbn13 IS NOT NULL;
CREATE INDEX titles_sort ON titles (library_id, sort_title, id);
CREATE INDEX titles_added ON titles (library_id, created_at, id);

CREATE TABLE copies (
    id TEXT PRIMARY KEY,
    library_id TEXT NOT NULL REFERENCES libraries (id) ON DELETE CASCADE,
    title_id TEXT NOT NULL REFERENCES titles (id),
    barcode TEXT NOT NULL,
    location TEXT,
    shelf TEXT,
    condition TEXT,
    acquired_on TEXT,
    price_cents BIGINT,
    currency TEXT,
    provenance TEXT,
    notes TEXT,
    status TEXT NOT NULL DEFAULT 'available',
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    hlc BIGINT NOT NULL,
    site TEXT NOT NULL,
    UNIQUE (library_id, barcode)
);
CREATE INDEX copies_title ON copies (title_id);
