-- One row per consumer group whose partitions' results write rows in common
-- (a per-day or per-product total, a per-group commit number). Each batch
-- transaction of such a group updates its row first, before any result row,
-- so the transactions of the group's workers take the shared rows one after
-- the other and can never wait for each other in a cycle (a deadlock), however
-- many partitions one transaction carries. `commits` counts those
-- transactions. Kept for as long as the group exists (a few bytes a group).
-- CreateTable
CREATE TABLE `commit_order` (
    `group_id` VARCHAR(255) NOT NULL,
    `commits` BIGINT NOT NULL DEFAULT 0,

    PRIMARY KEY (`group_id`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
