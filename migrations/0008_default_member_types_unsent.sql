-- The default member types every store starts with (the same ids and rows
-- everywhere, stamped at the clock's first tick, hlc 1) are not changes to
-- send. They were in the change log, so a new desk pushed them; pushing
-- loan rules now needs an administrator (as in REST and at the desk), and a
-- librarian's desk would have them refused at every sync. Stores made
-- before drop them from their outbox here; new stores never log them.
DELETE FROM change_log WHERE entity = 'member_type' AND hlc = 1;

-- Unsent, they must be stamped alike everywhere: by the shared seed site
-- (the largest UUID, crates/store/src/members.rs SEED_SITE), which also
-- wins over the defaults that older stores sent with their own site ids.
-- An edited type has a later stamp and keeps it.
INSERT OR IGNORE INTO sites (id)
    SELECT X'FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF' WHERE EXISTS (SELECT 1 FROM member_types WHERE hlc = 1);
UPDATE member_types SET site_no = (SELECT no FROM sites WHERE id = X'FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF') WHERE hlc = 1;
