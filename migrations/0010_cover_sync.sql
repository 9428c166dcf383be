-- Covers travel with sync (issue 17): a desk uploads each blob a title of
-- it names once (covers_sent; `refused` keeps the server's reason when it
-- would not take one, so it is not offered again), and fetches the blobs
-- its titles name but it lacks, asking again for one the server did not
-- have yet only after an hour (covers_wanted).
CREATE TABLE covers_sent (
    id      TEXT PRIMARY KEY,
    sent_at TEXT NOT NULL,
    refused TEXT
) WITHOUT ROWID;

CREATE TABLE covers_wanted (
    id       TEXT PRIMARY KEY,
    tried_at TEXT NOT NULL
) WITHOUT ROWID;
