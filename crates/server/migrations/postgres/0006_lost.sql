-- Lost copies: a loan ends either returned or lost. An open loan has
-- neither, and the one-open-loan-per-copy rule follows that.
ALTER TABLE loans ADD COLUMN lost_at BIGINT;
DROP INDEX loans_one_open_per_copy;
CREATE UNIQUE INDEX loans_one_open_per_copy ON loans (copy_id) WHERE returned_at IS NULL AND lost_at IS NULL;
