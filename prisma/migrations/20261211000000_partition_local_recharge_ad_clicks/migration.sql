-- Partition-local rows for the last two jobs whose partitions added to the
-- same rows: recharge-metrics (recharges per city and day, per province
-- minute) and ad-clicks (clicks per ad and minute). As for hot-products and
-- daily-active-users, each row now belongs to one Kafka partition
-- (`partition`): a batch transaction adds to the rows of the lowest partition
-- it carries, whose `consumer_offset` row it holds locked, so two
-- transactions never write the same row; a read sums a key's rows in one
-- query. The totals these jobs publish (change log, Redis copy) are read after
-- the group's ordering row (recharge_serving_state, commit_order), taken last,
-- so they stay the totals after each commit in commit order. A key has at
-- most one row per partition of its topic. Rows written before this
-- migration keep partition -1 and are summed like the others.

ALTER TABLE `recharge_city_daily`
    ADD COLUMN `partition` INTEGER NOT NULL DEFAULT -1,
    DROP PRIMARY KEY,
    ADD PRIMARY KEY (`day`, `city_code`, `partition`);

ALTER TABLE `recharge_minute`
    ADD COLUMN `partition` INTEGER NOT NULL DEFAULT -1,
    DROP PRIMARY KEY,
    ADD PRIMARY KEY (`minute_start`, `partition`);

ALTER TABLE `ad_click_minute`
    ADD COLUMN `partition` INTEGER NOT NULL DEFAULT -1,
    DROP PRIMARY KEY,
    ADD PRIMARY KEY (`ad_id`, `window_start`, `partition`);
