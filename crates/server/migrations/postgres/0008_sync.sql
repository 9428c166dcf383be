-- Sync with desktops (crates/sync has the protocol). Per library: the
-- devices (desktop stores, by site id) that push and pull, a counter that
-- hands out the library's server sequence, and the change feed itself.
--
-- The feed keeps every change once (change_id is unique: a push retried
-- after a lost reply is a no-op answered with the first sequence), in
-- server-sequence order per library. Sequences are taken from
-- sync_counters in the transaction that stores the changes: the counter
-- row is locked until commit, so on PostgreSQL concurrent pushes to one
-- library take turns and a sequence is never visible before a smaller one
-- (a pull that saw N never misses a change below N). The server's own REST
-- writes append their changes here too, in their own transaction.

CREATE TABLE sync_devices (
    library_id TEXT NOT NULL REFERENCES libraries (id) ON DELETE CASCADE,
    site_id TEXT NOT NULL,
    name TEXT NOT NULL,
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    registered_at BIGINT NOT NULL,
    last_push_at BIGINT,
    last_pull_at BIGINT,
    PRIMARY KEY (library_id, site_id)
);

CREATE TABLE sync_counters (
    library_id TEXT PRIMARY KEY REFERENCES libraries (id) ON DELETE CASCADE,
    last_seq BIGINT NOT NULL
);

CREATE TABLE sync_feed (
    library_id TEXT NOT NULL REFERENCES libraries (id) ON DELETE CASCADE,
    server_seq BIGINT NOT NULL,
    change_id TEXT NOT NULL UNIQUE,
    entity TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    op TEXT NOT NULL CHECK (op IN ('upsert', 'delete', 'event')),
    hlc BIGINT NOT NULL,
    site_id TEXT NOT NULL,
    payload TEXT NOT NULL,                -- the change's payload as JSON text ('null' for a delete)
    received_at BIGINT NOT NULL,
    account_id TEXT,                      -- who pushed it (null: the server's own write)
    PRIMARY KEY (library_id, server_seq)
);

-- The hold an event is about (hold_placed, hold_cancelled, ...), as the
-- desktop's events carry it.
ALTER TABLE circulation_events ADD COLUMN hold_id TEXT;
