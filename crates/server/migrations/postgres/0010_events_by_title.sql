-- Events by title: appending a hold event looks up the last event of the
-- title's stream (db/projection.rs), which without this index scanned
-- every event of the library on each hold placed, cancelled or expired.
CREATE INDEX circulation_events_title ON circulation_events (title_id, hlc);
