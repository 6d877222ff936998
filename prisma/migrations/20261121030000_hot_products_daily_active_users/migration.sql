-- Issue 4: hot products (product-clicks) and daily active users (user-behavior).
-- Identifier columns (product_id, uid, category) use utf8mb4_bin: ids are
-- case-sensitive, so "P1" and "p1" are two products and "U1" and "u1" two users
-- (the default utf8mb4_unicode_ci would merge them).

-- CreateTable
CREATE TABLE `product_click_minute` (
    `product_id` VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    `window_start` DATETIME(3) NOT NULL,
    `window_end` DATETIME(3) NOT NULL,
    `clicks` INTEGER NOT NULL,

    INDEX `product_click_minute_window_idx`(`window_start`),
    PRIMARY KEY (`product_id`, `window_start`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

-- CreateTable
CREATE TABLE `product_action_minute` (
    `product_id` VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    `window_start` DATETIME(3) NOT NULL,
    `action` VARCHAR(32) COLLATE utf8mb4_bin NOT NULL,
    `window_end` DATETIME(3) NOT NULL,
    `events` INTEGER NOT NULL,

    INDEX `product_action_minute_window_idx`(`window_start`),
    PRIMARY KEY (`product_id`, `window_start`, `action`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

-- CreateTable
CREATE TABLE `product_click_total` (
    `product_id` VARCHAR(64) COLLATE utf8mb4_bin NOT NULL,
    `clicks` BIGINT NOT NULL,
    `category` VARCHAR(64) COLLATE utf8mb4_bin NULL,
    `category_at` DATETIME(3) NULL,
    `last_click_at` DATETIME(3) NOT NULL,

    PRIMARY KEY (`product_id`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

-- CreateTable
CREATE TABLE `hot_products_emission` (
    `group_id` VARCHAR(255) NOT NULL,
    `window_end` DATETIME(3) NOT NULL,
    `products` INTEGER NOT NULL,
    `claimed_by` VARCHAR(255) NOT NULL,
    `claimed_at` DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),

    PRIMARY KEY (`group_id`, `window_end`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

-- CreateTable
CREATE TABLE `user_daily_active` (
    `day` DATE NOT NULL,
    `uid` VARCHAR(128) COLLATE utf8mb4_bin NOT NULL,

    PRIMARY KEY (`day`, `uid`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

-- CreateTable
CREATE TABLE `user_daily_count` (
    `day` DATE NOT NULL,
    `active_users` INTEGER NOT NULL,

    PRIMARY KEY (`day`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

-- CreateTable
CREATE TABLE `user_first_seen` (
    `uid` VARCHAR(128) COLLATE utf8mb4_bin NOT NULL,
    `first_day` DATE NOT NULL,

    INDEX `user_first_seen_first_day_idx`(`first_day`),
    PRIMARY KEY (`uid`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
