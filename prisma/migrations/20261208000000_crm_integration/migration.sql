-- CRM integration: notes and readable history of callback statuses, re-detection
-- after a status, idempotent retries of status mutations, and a sequence for
-- status changes in the change log.

-- Windows that flagged the user since its last status change (since its first
-- detection while none was ever set): reset to 0 by every status change,
-- raised by each detection of a later window. Rows never called back were
-- detected at least once.
-- AlterTable
ALTER TABLE `unpayment_record` ADD COLUMN `detections_since_callback` INTEGER NOT NULL DEFAULT 0;
UPDATE `unpayment_record` SET `detections_since_callback` = 1 WHERE `callback_status` IS NULL;

-- A CRM's note on a status change, at most 500 characters. Audit rows are
-- kept forever (they are the business record of every call).
-- AlterTable
ALTER TABLE `callback_status_audit` ADD COLUMN `note` VARCHAR(500) NULL;
-- CreateIndex
CREATE INDEX `callback_status_audit_uid_id_idx` ON `callback_status_audit`(`uid`, `id`);

-- The first result of each status mutation carrying a clientMutationId, per
-- caller (key_id: sha256 prefix of the key, never the key). A retry within 24
-- hours answers `result` and changes nothing. Rows are kept 24 hours: every
-- API process deletes older ones every 10 minutes.
-- CreateTable
CREATE TABLE `client_mutation` (
    `key_id` VARCHAR(16) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    `client_mutation_id` VARCHAR(128) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    `result` JSON NULL,
    `created_at` DATETIME(3) NOT NULL,

    INDEX `client_mutation_created_at_idx`(`created_at`),
    PRIMARY KEY (`key_id`, `client_mutation_id`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;

-- Per stream and partition of the change log that no Kafka partition orders
-- (the status changes of the abnormal-orders stream, partition -1): the last
-- batch number given out. Its row is locked by each transaction that appends
-- there, so positions follow commit order. One row per stream, kept forever.
-- CreateTable
CREATE TABLE `change_log_counter` (
    `stream` VARCHAR(191) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    `partition` INTEGER NOT NULL,
    `last_batch` BIGINT NOT NULL,

    PRIMARY KEY (`stream`, `partition`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;
