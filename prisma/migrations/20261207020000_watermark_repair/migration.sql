-- An operator's repair of a watermark (repairWatermark, mode WATERMARK) is
-- audited with the partition's watermark before and after, epoch
-- milliseconds (NULL for every other mode, and for a partition that had none).
-- AlterTable
ALTER TABLE `offset_reset_audit` ADD COLUMN `before_watermark_ms` BIGINT NULL,
    ADD COLUMN `after_watermark_ms` BIGINT NULL;
