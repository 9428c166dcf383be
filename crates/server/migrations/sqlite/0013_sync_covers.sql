-- Cover images desks share (issue 17): a title's cover_ref names a blob
-- 'cover:<uuid>'; the desk that set it uploads the blob once, others fetch
-- it by id. Blobs never change (an id stands for one image).
CREATE TABLE sync_covers (
    library_id TEXT NOT NULL REFERENCES libraries (id) ON DELETE CASCADE,
    id TEXT NOT NULL,
    mime TEXT NOT NULL,
    bytes BLOB NOT NULL,
    size BIGINT NOT NULL,
    account_id TEXT,
    added_at BIGINT NOT NULL,
    PRIMARY KEY (library_id, id)
);
