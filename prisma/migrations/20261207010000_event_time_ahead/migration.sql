-- Records whose event time was further ahead of their own Kafka timestamp
-- than MAX_EVENT_TIME_AHEAD_MS allows (a wrong clock): dead-lettered with
-- reason `event-time-ahead` (also counted in `dead_lettered`), never counted
-- in the results, never moving a watermark. Reset to 0 by a rebuild, as the
-- other counters.
-- AlterTable
ALTER TABLE `consumer_offset` ADD COLUMN `event_time_ahead` BIGINT NOT NULL DEFAULT 0;
