-- The identity of this database: one row with a random UUID, written once when
-- the schema is created. A re-created database gets a new one, so copies kept
-- outside the database (Redis) under the old identity are never read again.
-- CreateTable
CREATE TABLE `database_identity` (
    `id` TINYINT UNSIGNED NOT NULL DEFAULT 1,
    `uuid` CHAR(36) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    `created_at` DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),

    PRIMARY KEY (`id`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

INSERT INTO `database_identity` (`id`, `uuid`) VALUES (1, UUID());

-- Per consumer group of recharge-metrics: the generation of its Redis keys
-- (bumped by a rebuild and when Redis is found ahead of the database) and the
-- commit sequence number (bumped by every batch transaction that changed the
-- aggregates, so it orders their commits).
-- CreateTable
CREATE TABLE `recharge_serving_state` (
    `group_id` VARCHAR(255) NOT NULL,
    `generation` INTEGER NOT NULL DEFAULT 1,
    `seq` BIGINT NOT NULL DEFAULT 0,
    `updated_at` DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),

    PRIMARY KEY (`group_id`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
