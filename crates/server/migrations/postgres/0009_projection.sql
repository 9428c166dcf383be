-- Loans, holds and copy statuses are now written only by the domain's
-- projection of circulation events (crates/server/src/db/projection.rs),
-- the same one the desks run, so the server keeps the columns it writes.
ALTER TABLE holds ADD COLUMN closed_at BIGINT;
ALTER TABLE loans ADD COLUMN superseded_by TEXT;

-- At most one ready hold per copy, as on the desks. Before the copy lock,
-- two concurrent check-ins on PostgreSQL could trap two holds for one copy:
-- all but the first wait again.
UPDATE holds SET status = 'waiting', copy_id = NULL, expires_on = NULL
WHERE status = 'ready'
  AND EXISTS (SELECT 1 FROM holds o WHERE o.copy_id = holds.copy_id AND o.status = 'ready' AND o.id < holds.id);
CREATE UNIQUE INDEX holds_ready_copy ON holds (copy_id) WHERE status = 'ready';
