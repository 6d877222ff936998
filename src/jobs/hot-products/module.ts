import { hostname } from 'node:os';
import type { JobModule } from '../../engine/job-module.js';
import { HOT_PRODUCTS_SNAPSHOT } from './testing.js';
import { hotProductsSettings, type HotProductsSettings } from './hot-products-settings.js';
import { jobChangeLog } from '../../engine/job-module.js';
import { topicPartitionCount } from '../../ingest/topic-partition-count.js';
import { createLogger } from '../../observability/logger.js';
import { TOPIC_HOT_PRODUCTS_UPDATED } from './hot-products-events.js';
import { HotProductResolver } from './hot-product-resolver.js';
import { HotProductStore } from './hot-product-store.js';
import { HOT_PRODUCTS_SERVICES } from './hot-products-services.js';
import { HotProductsEmitter } from './hot-products-emitter.js';
import { createHotProductsJob } from './hot-products-job.js';
import { productClicksSample } from './product-click-sample.js';

/** Clicks per product per minute and the hottest products of the last hour. */
export const hotProductsModule: JobModule<HotProductsSettings> = {
  name: 'hot-products',
  settings: hotProductsSettings,
  sourceTopics: (config) => [config.PRODUCT_CLICKS_TOPIC],
  createJob: (config, { db, bus }) => {
    const store = new HotProductStore(db);
    const logger = createLogger(config.LOG_LEVEL).child({ job: 'hot-products' });
    return createHotProductsJob({
      maxEventTimeAheadMs: config.MAX_EVENT_TIME_AHEAD_MS,
      groupId: config.HOT_PRODUCTS_GROUP,
      topic: config.PRODUCT_CLICKS_TOPIC,
      graceMs: config.GRACE_MS,
      idleTimeoutMs: config.IDLE_TIMEOUT_MS ?? 60_000,
      store,
      emitter: new HotProductsEmitter({
        store,
        groupId: config.HOT_PRODUCTS_GROUP,
        topic: config.PRODUCT_CLICKS_TOPIC,
        partitionCount: topicPartitionCount(config.KAFKA_BROKERS, config.PRODUCT_CLICKS_TOPIC, logger),
        changeLog: jobChangeLog(config, db),
        publish: (event) => bus.pubSub.publish(TOPIC_HOT_PRODUCTS_UPDATED, config.HOT_PRODUCTS_GROUP, event),
        logger,
        claimedBy: `${hostname()}:${process.pid}`,
      }),
    });
  },
  api: { register: (registry, _config, { db }) => registry.add(HOT_PRODUCTS_SERVICES, new HotProductStore(db)) },
  snapshotQueries: HOT_PRODUCTS_SNAPSHOT,
  resolvers: [HotProductResolver],
  samples: [productClicksSample],
};
