-- Order ids are kept for RECHARGE_DEDUP_HORIZON_DAYS of notify time: the
-- pruning deletes by notify_time in small batches, through this index.
-- CreateIndex
CREATE INDEX `recharge_order_notify_time_idx` ON `recharge_order` (`notify_time`);

-- Records of a partition whose notify time was already beyond the
-- de-duplication horizon when they arrived (dead-lettered, counted apart).
-- AlterTable
ALTER TABLE `consumer_offset` ADD COLUMN `beyond_dedup_horizon` BIGINT NOT NULL DEFAULT 0;
