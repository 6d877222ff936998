-- A repairWatermark with target OPEN_WINDOWS may also move a partition's
-- replay_from forward, past records whose event time is after the wall clock
-- (a claim would replay them and move the watermark ahead again): audited
-- with replay_from before and after (NULL for every other mode, and for a
-- WATERMARK repair that left replay_from as it was).
-- AlterTable
ALTER TABLE `offset_reset_audit` ADD COLUMN `before_replay_from` BIGINT NULL,
    ADD COLUMN `after_replay_from` BIGINT NULL;
