-- Which log a partition's position was read from: the offset, Kafka
-- timestamp (epoch milliseconds) and a 64-bit hash of the key and value of
-- the last record committed. Each claim reads the record at that offset
-- again: another record there means the topic was recreated, and the
-- partition stops instead of skipping the new log's records below the
-- stored offset (NULL: nothing committed yet, or moved by an operator since).
-- `topic_recreated_at`: when a worker last found the log not to be the
-- stored one (cleared by a reset or rebuild). `skipped_by_reset`: records
-- never processed that an operator's reset moved past on purpose, beside
-- `lost_to_retention`.
-- AlterTable
ALTER TABLE `consumer_offset` ADD COLUMN `last_offset` BIGINT NULL,
    ADD COLUMN `last_timestamp_ms` BIGINT NULL,
    ADD COLUMN `last_record_hash` BIGINT NULL,
    ADD COLUMN `topic_recreated_at` DATETIME(3) NULL,
    ADD COLUMN `skipped_by_reset` BIGINT NOT NULL DEFAULT 0;
