-- The change log of the subscriptions: every change a batch transaction
-- commits (abnormal-user detections, recharge city-day stats as absolute
-- values, hot-products ranking boundaries), appended in that same transaction.
-- Rows are ordered per stream and partition by `pos`, a fixed-width hex string
-- of (epoch, batch offset, batch watermark, sequence in the batch): in commit
-- order, since one partition commits one batch at a time under its
-- consumer_offset row lock, and an operator's reset or a new owner bumps the
-- epoch. An auto-increment id would not be in commit order under concurrent
-- transactions. A replayed batch writes the same positions: INSERT IGNORE keeps
-- the log idempotent. Every text column compares byte for byte and the
-- character set is explicit, so a latin1-default server behaves the same.

-- CreateTable
CREATE TABLE `change_log` (
    `stream` VARCHAR(191) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    `partition` INTEGER NOT NULL,
    `pos` CHAR(48) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    `epoch` INTEGER NOT NULL,
    `batch_offset` BIGINT NOT NULL,
    `batch_watermark_ms` BIGINT NOT NULL,
    `seq` INTEGER NOT NULL,
    `kind` VARCHAR(32) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    `payload` JSON NOT NULL,
    `committed_at` DATETIME(3) NOT NULL,

    PRIMARY KEY (`stream`, `partition`, `pos`),
    INDEX `change_log_committed_at_idx` (`committed_at`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;

-- CreateTable
-- Per stream and partition, the last position the age-based pruning deleted
-- through: a cursor older than it is expired (CURSOR_EXPIRED).
CREATE TABLE `change_log_pruned` (
    `stream` VARCHAR(191) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    `partition` INTEGER NOT NULL,
    `pruned_through` CHAR(48) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    `pruned_at` DATETIME(3) NOT NULL,

    PRIMARY KEY (`stream`, `partition`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;
