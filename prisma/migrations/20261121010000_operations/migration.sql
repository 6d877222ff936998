-- AlterTable
ALTER TABLE `consumer_offset` ADD COLUMN `owner` VARCHAR(255) NULL,
    ADD COLUMN `reset_epoch` INTEGER NULL;

-- CreateTable
CREATE TABLE `offset_reset_audit` (
    `id` BIGINT NOT NULL AUTO_INCREMENT,
    `group_id` VARCHAR(255) NOT NULL,
    `topic` VARCHAR(255) NOT NULL,
    `partition` INTEGER NOT NULL,
    `mode` VARCHAR(16) NOT NULL,
    `before_offset` BIGINT NOT NULL,
    `after_offset` BIGINT NOT NULL,
    `role` VARCHAR(16) NOT NULL,
    `key_id` VARCHAR(16) NOT NULL,
    `created_at` DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),

    INDEX `offset_reset_audit_group_idx`(`group_id`, `created_at`),
    PRIMARY KEY (`id`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

-- CreateTable
CREATE TABLE `job_control` (
    `job` VARCHAR(64) NOT NULL,
    `paused` BOOLEAN NOT NULL DEFAULT false,
    `role` VARCHAR(16) NULL,
    `key_id` VARCHAR(16) NULL,
    `updated_at` DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),

    PRIMARY KEY (`job`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
