-- A tombstone belongs to (entity, id), as on desks (issue 17): keyed by id
-- alone, a delete pushed under another entity (a "member" delete carrying
-- a title's id) froze the title against every later edit. SQLite changes a
-- primary key only by rebuilding the table; nothing else refers to it.
CREATE TABLE tombstones_new (
    library_id TEXT NOT NULL REFERENCES libraries (id) ON DELETE CASCADE,
    entity_id TEXT NOT NULL,
    entity TEXT NOT NULL,
    hlc BIGINT NOT NULL,
    site TEXT NOT NULL,
    PRIMARY KEY (library_id, entity, entity_id)
);
INSERT INTO tombstones_new (library_id, entity_id, entity, hlc, site)
    SELECT library_id, entity_id, entity, hlc, site FROM tombstones;
DROP TABLE tombstones;
ALTER TABLE tombstones_new RENAME TO tombstones;

-- A refresh reply lost on the way must not sign a desk out (issue 17): the
-- token it rotated stays good once more for a short grace window, as long
-- as the token issued in its place was never used. `successor` is that
-- token's hash; `grace_used_at` records the one exchange the window allows.
ALTER TABLE refresh_tokens ADD COLUMN successor TEXT;
ALTER TABLE refresh_tokens ADD COLUMN grace_used_at BIGINT;

-- API keys carry scopes (issue 18): what a key may do besides reading.
-- Keys made before could do all their account could; they keep lending and
-- cataloguing, and lose what no key may do any more (accounts, memberships,
-- loan rules: those need a signed-in session).
ALTER TABLE api_keys ADD COLUMN scopes TEXT NOT NULL DEFAULT 'read,circulation,catalogue';
