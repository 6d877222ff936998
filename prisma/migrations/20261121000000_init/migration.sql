-- CreateTable
CREATE TABLE `unpayment_record` (
    `uid` VARCHAR(128) NOT NULL,
    `phone` VARCHAR(16) NOT NULL,
    `callback_status` TINYINT NULL,
    `enter_order_count` INTEGER NOT NULL,
    `first_detected_at` DATETIME(3) NOT NULL,
    `last_detected_at` DATETIME(3) NOT NULL,
    `window_start` DATETIME(3) NOT NULL,
    `window_end` DATETIME(3) NOT NULL,

    INDEX `unpayment_record_last_detected_idx`(`last_detected_at` DESC, `uid`),
    INDEX `unpayment_record_status_idx`(`callback_status`, `last_detected_at` DESC, `uid`),
    PRIMARY KEY (`uid`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

-- CreateTable
CREATE TABLE `vip_user` (
    `id` INTEGER NOT NULL AUTO_INCREMENT,
    `uid` VARCHAR(16) NULL,

    INDEX `vip_user_uid_idx`(`uid`),
    PRIMARY KEY (`id`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

-- CreateTable
CREATE TABLE `consumer_offset` (
    `group_id` VARCHAR(255) NOT NULL,
    `topic` VARCHAR(255) NOT NULL,
    `partition` INTEGER NOT NULL,
    `next_offset` BIGINT NOT NULL,
    `replay_from` BIGINT NOT NULL,
    `watermark_ms` BIGINT NULL,
    `epoch` INTEGER NOT NULL DEFAULT 0,
    `late_records` BIGINT NOT NULL DEFAULT 0,
    `dead_lettered` BIGINT NOT NULL DEFAULT 0,
    `lost_to_retention` BIGINT NOT NULL DEFAULT 0,
    `updated_at` DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),

    PRIMARY KEY (`group_id`, `topic`, `partition`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

-- CreateTable
CREATE TABLE `callback_status_audit` (
    `id` BIGINT NOT NULL AUTO_INCREMENT,
    `uid` VARCHAR(128) NOT NULL,
    `from_status` TINYINT NULL,
    `to_status` TINYINT NOT NULL,
    `role` VARCHAR(16) NOT NULL,
    `key_id` VARCHAR(16) NOT NULL,
    `changed_at` DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),

    INDEX `callback_status_audit_uid_idx`(`uid`, `changed_at`),
    PRIMARY KEY (`id`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
