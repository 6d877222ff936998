-- Partition-local rows for the aggregates every partition of a job used to add
-- to: the distinct users per day (daily-active-users) and the clicks per
-- product, minute and action and the running totals per product
-- (hot-products). Each row now belongs to one Kafka partition (`partition`):
-- a batch transaction adds to the rows of one partition it carries, whose
-- `consumer_offset` row it holds locked, so two transactions (two workers)
-- never write the same row at once and never wait for each other; a read
-- sums a key's rows in the same one query (local-global aggregation). A key
-- has at most one row per partition of its topic. Rows written before this
-- migration keep partition -1: they are summed like the others.

ALTER TABLE `user_daily_count`
    ADD COLUMN `partition` INTEGER NOT NULL DEFAULT -1,
    DROP PRIMARY KEY,
    ADD PRIMARY KEY (`day`, `partition`);

ALTER TABLE `product_click_minute`
    ADD COLUMN `partition` INTEGER NOT NULL DEFAULT -1,
    DROP PRIMARY KEY,
    ADD PRIMARY KEY (`product_id`, `window_start`, `partition`);

ALTER TABLE `product_action_minute`
    ADD COLUMN `partition` INTEGER NOT NULL DEFAULT -1,
    DROP PRIMARY KEY,
    ADD PRIMARY KEY (`product_id`, `window_start`, `action`, `partition`);

ALTER TABLE `product_click_total`
    ADD COLUMN `partition` INTEGER NOT NULL DEFAULT -1,
    DROP PRIMARY KEY,
    ADD PRIMARY KEY (`product_id`, `partition`);
