-- The ad-clicks job (src/jobs/ad-clicks/): clicks per ad per 1-minute tumbling
-- window of event time, and the clicks dropped because their user or IP is on
-- the blacklist, judged against `ad_blacklist` as read inside the batch
-- transaction that counts them. Identifiers are utf8mb4_bin (case-sensitive).

-- CreateTable
CREATE TABLE `ad_click_minute` (
    `ad_id` VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    `window_start` DATETIME(3) NOT NULL,
    `window_end` DATETIME(3) NOT NULL,
    `clicks` INTEGER NOT NULL,
    `blocked_user` INTEGER NOT NULL,
    `blocked_ip` INTEGER NOT NULL,

    INDEX `ad_click_minute_window_idx`(`window_start`),
    PRIMARY KEY (`ad_id`, `window_start`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

-- CreateTable: one row per blacklisted user id (kind `user`) or IP (kind `ip`).
CREATE TABLE `ad_blacklist` (
    `kind` VARCHAR(8) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    `value` VARCHAR(128) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    `note` VARCHAR(500) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NULL,
    `role` VARCHAR(16) NOT NULL,
    `key_id` VARCHAR(16) NOT NULL,
    `added_at` DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),

    PRIMARY KEY (`kind`, `value`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

-- CreateTable: every change of the blacklist (who, when, what, note).
CREATE TABLE `ad_blacklist_audit` (
    `id` BIGINT NOT NULL AUTO_INCREMENT,
    `action` VARCHAR(8) NOT NULL,
    `kind` VARCHAR(8) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    `value` VARCHAR(128) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    `note` VARCHAR(500) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NULL,
    `role` VARCHAR(16) NOT NULL,
    `key_id` VARCHAR(16) NOT NULL,
    `changed_at` DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),

    INDEX `ad_blacklist_audit_changed_idx`(`changed_at`),
    PRIMARY KEY (`id`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
