-- Store throughput: every index on links is written again on each non-HOT update of a link row, and
-- the store updates last_seen (an indexed column) on every batch that sees the link again.
-- links_last_seen (last_seen DESC) is an exact prefix of links_last_seen_id (last_seen DESC, id DESC),
-- which serves every query the single-column index could (range filters and the last-seen sort), so
-- it only costs writes.
DROP INDEX IF EXISTS links_last_seen;
