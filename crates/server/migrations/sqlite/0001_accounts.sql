-- Accounts, sessions, one-time email tokens, API keys, libraries and
-- memberships. Instants are BIGINT unix milliseconds and flags BIGINT 0/1 so
-- the same queries (sqlx Any) read the same types from PostgreSQL and SQLite.

CREATE TABLE accounts (
    id TEXT PRIMARY KEY,                  -- UUIDv7
    email TEXT NOT NULL UNIQUE,           -- lower-cased
    display_name TEXT NOT NULL,
    password_hash TEXT NOT NULL,          -- argon2id PHC string
    email_verified_at BIGINT,
    disabled BIGINT NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- Email verification and password reset links: only the SHA-256 of the
-- token is kept; used_at makes each single-use.
CREATE TABLE email_tokens (
    token_hash TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    purpose TEXT NOT NULL CHECK (purpose IN ('verify_email', 'reset_password')),
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT
);
CREATE INDEX email_tokens_account ON email_tokens (account_id, purpose);

-- A session is one login: the family of its rotating refresh tokens, and
-- the `sid` of every access token issued from it.
CREATE TABLE sessions (
    id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    revoked_at BIGINT,
    revoked_reason TEXT
);
CREATE INDEX sessions_account ON sessions (account_id);

CREATE TABLE refresh_tokens (
    token_hash TEXT PRIMARY KEY,          -- SHA-256, hex
    session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    rotated_at BIGINT                     -- set when exchanged; a second use revokes the session
);
CREATE INDEX refresh_tokens_session ON refresh_tokens (session_id);

CREATE TABLE api_keys (
    id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    prefix TEXT NOT NULL UNIQUE,          -- public part, for lookup
    key_hash TEXT NOT NULL,               -- SHA-256 of the whole key, hex
    created_at BIGINT NOT NULL,
    last_used_at BIGINT,
    revoked_at BIGINT
);
CREATE INDEX api_keys_account ON api_keys (account_id);

CREATE TABLE libraries (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE memberships (
    library_id TEXT NOT NULL REFERENCES libraries (id) ON DELETE CASCADE,
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    role TEXT NOT NULL CHECK (role IN ('admin', 'librarian', 'member')),
    created_at BIGINT NOT NULL,
    PRIMARY KEY (library_id, account_id)
);
CREATE INDEX memberships_account ON memberships (account_id);
