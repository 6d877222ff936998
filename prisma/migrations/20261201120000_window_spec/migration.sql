-- The window specification each partition's position was computed under: its
-- replay_from only covers the windows of that specification, so a claim
-- under a different one is refused until a rebuild (NULL: not recorded yet,
-- or the job has no such setting).
ALTER TABLE `consumer_offset` ADD COLUMN `window_size_ms` BIGINT NULL,
    ADD COLUMN `window_advance_ms` BIGINT NULL,
    ADD COLUMN `grace_ms` BIGINT NULL;
