-- Holds (the queue for a title) and reviews (one per account per title).

CREATE TABLE holds (
    id TEXT PRIMARY KEY,
    library_id TEXT NOT NULL REFERENCES libraries (id) ON DELETE CASCADE,
    title_id TEXT NOT NULL REFERENCES titles (id),
    member_id TEXT NOT NULL REFERENCES members (id),
    placed_at BIGINT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('waiting', 'ready', 'fulfilled', 'cancelled', 'expired')),
    copy_id TEXT REFERENCES copies (id),  -- the copy on the hold shelf, when ready
    expires_on TEXT,                      -- pickup deadline, when ready
    hlc BIGINT NOT NULL,
    site TEXT NOT NULL
);
-- One active hold per member and title.
CREATE UNIQUE INDEX holds_one_active ON holds (title_id, member_id) WHERE status IN ('waiting', 'ready');
CREATE INDEX holds_queue ON holds (title_id, status, placed_at);

CREATE TABLE reviews (
    id TEXT PRIMARY KEY,
    library_id TEXT NOT NULL REFERENCES libraries (id) ON DELETE CASCADE,
    title_id TEXT NOT NULL REFERENCES titles (id) ON DELETE CASCADE,
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    rating BIGINT NOT NULL CHECK (rating BETWEEN 1 AND 5),
    body TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    hlc BIGINT NOT NULL,
    site TEXT NOT NULL,
    UNIQUE (title_id, account_id)
);
