-- Members (patrons) and their loan rules, and circulation: an append-only
-- event log with the loans projection beside it. Rows are sync-stamped like
-- the catalogue; writes are logged in server_changes.

CREATE TABLE member_types (
    id TEXT PRIMARY KEY,
    library_id TEXT NOT NULL REFERENCES libraries (id) ON DELETE CASCADE,
    code TEXT NOT NULL,
    name TEXT NOT NULL,
    loan_days BIGINT NOT NULL,
    max_renewals BIGINT NOT NULL,
    max_loans BIGINT NOT NULL,
    hold_pickup_days BIGINT NOT NULL,
    hlc BIGINT NOT NULL,
    site TEXT NOT NULL,
    UNIQUE (library_id, code)
);

CREATE TABLE members (
    id TEXT PRIMARY KEY,
    library_id TEXT NOT NULL REFERENCES libraries (id) ON DELETE CASCADE,
    card TEXT NOT NULL,
    name TEXT NOT NULL,
    email TEXT,
    phone TEXT,
    address TEXT,
    member_type TEXT NOT NULL,
    expires_on TEXT,                      -- YYYY-MM-DD
    blocked BIGINT NOT NULL DEFAULT 0 CHECK (blocked IN (0, 1)),
    block_reason TEXT,
    notes TEXT,
    account_id TEXT REFERENCES accounts (id) ON DELETE SET NULL, -- the member's own login, if any
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    hlc BIGINT NOT NULL,
    site TEXT NOT NULL,
    UNIQUE (library_id, card)
);
CREATE UNIQUE INDEX members_account ON members (library_id, account_id) WHERE account_id IS NOT NULL;

-- Append-only: the application never updates or deletes these rows.
CREATE TABLE circulation_events (
    id TEXT PRIMARY KEY,
    library_id TEXT NOT NULL REFERENCES libraries (id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    copy_id TEXT REFERENCES copies (id),
    title_id TEXT NOT NULL REFERENCES titles (id),
    member_id TEXT REFERENCES members (id),
    due_on TEXT,
    prev_event_id TEXT,                   -- the last event on this copy this server had seen
    at BIGINT NOT NULL,
    hlc BIGINT NOT NULL,
    site TEXT NOT NULL
);
CREATE INDEX circulation_events_copy ON circulation_events (copy_id, hlc);

-- Projection of the events: one row per loan, id = its checkout event.
CREATE TABLE loans (
    id TEXT PRIMARY KEY REFERENCES circulation_events (id),
    library_id TEXT NOT NULL REFERENCES libraries (id) ON DELETE CASCADE,
    copy_id TEXT NOT NULL REFERENCES copies (id),
    title_id TEXT NOT NULL REFERENCES titles (id),
    member_id TEXT NOT NULL REFERENCES members (id),
    out_at BIGINT NOT NULL,
    due_on TEXT NOT NULL,
    renewals BIGINT NOT NULL DEFAULT 0,
    returned_at BIGINT
);
-- A copy is never lent twice, whatever the application does.
CREATE UNIQUE INDEX loans_one_open_per_copy ON loans (copy_id) WHERE returned_at IS NULL;
CREATE INDEX loans_member ON loans (member_id, out_at);
CREATE INDEX loans_library_out ON loans (library_id, out_at);
