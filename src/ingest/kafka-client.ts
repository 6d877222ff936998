import kafkajs, { type Admin, type Kafka, type LogEntry } from 'kafkajs';
import SnappyCodec from 'kafkajs-snappy';
import type { Logger } from 'pino';

// kafkajs is CommonJS: its values come through the default export under ESM.
const { CompressionCodecs, CompressionTypes, ConfigResourceTypes, logLevel } = kafkajs;

// kafkajs only ships gzip; real producers also send snappy. Registering is global.
CompressionCodecs[CompressionTypes.Snappy] = SnappyCodec;

const LEVELS: Partial<Record<number, 'error' | 'warn' | 'info' | 'debug'>> = {
  [logLevel.ERROR]: 'error',
  [logLevel.WARN]: 'warn',
  [logLevel.INFO]: 'info',
  [logLevel.DEBUG]: 'debug',
};

/**
 * A kafkajs client whose log lines go through the service's pino logger.
 * @param brokers `host:port` list.
 * @param clientId shown in broker logs and metrics.
 * @param retries attempts after a failed request or connection (kafkajs backs off from 200 ms). @default 8
 */
export function createKafka(brokers: string[], clientId: string, logger?: Logger, retries = 8): Kafka {
  return new kafkajs.Kafka({
    clientId,
    brokers,
    connectionTimeout: 3_000,
    requestTimeout: 30_000,
    // Connecting uses the client's retries, not the admin's or consumer's own.
    retry: { initialRetryTime: 200, retries },
    logLevel: logger ? logLevel.WARN : logLevel.NOTHING,
    logCreator: () => (entry: LogEntry) => {
      if (!logger) return;
      const { message, ...extra } = entry.log;
      // kafkajs logs every rebalance as an error; they are routine here.
      const level =
        entry.log.error === 'The group is rebalancing, re-joining' ? 'info' : (LEVELS[entry.level] ?? 'info');
      logger[level]({ kafka: entry.namespace, ...extra }, message);
    },
  });
}

/**
 * Creates the missing topics among `topics`; existing ones are left as they are.
 * @returns the names created now.
 */
export async function ensureTopics(
  admin: Admin,
  topics: { topic: string; numPartitions: number }[],
): Promise<string[]> {
  const existing = new Set(await admin.listTopics());
  const missing = topics.filter((t) => !existing.has(t.topic));
  if (missing.length === 0) return [];
  await admin.createTopics({
    waitForLeaders: true,
    topics: missing.map((t) => ({ topic: t.topic, numPartitions: t.numPartitions, replicationFactor: 1 })),
  });
  return missing.map((t) => t.topic);
}

/** Earliest and latest offset of each partition of `topic` (latest = the high watermark). */
export async function partitionBounds(
  admin: Admin,
  topic: string,
): Promise<Map<number, { earliest: bigint; latest: bigint }>> {
  const offsets = await admin.fetchTopicOffsets(topic);
  return new Map(offsets.map((o) => [o.partition, { earliest: BigInt(o.low), latest: BigInt(o.high) }]));
}

/** Kafka's default largest record batch a broker accepts (`message.max.bytes`), bytes: 1 MiB and 12 bytes of log overhead. */
export const KAFKA_DEFAULT_MAX_MESSAGE_BYTES = 1_048_588;

/** A positive integer config value, or null. */
function positiveConfig(
  resources: { configEntries: { configName: string; configValue: string }[] }[],
  name: string,
): number | null {
  const value = resources[0]?.configEntries.find((e) => e.configName === name)?.configValue;
  const n = value === undefined ? NaN : Number(value);
  return Number.isSafeInteger(n) && n > 0 ? n : null;
}

/**
 * The largest record batch the broker accepts on `topic`, bytes: the topic's
 * `max.message.bytes` (which is the broker's `message.max.bytes` unless the
 * topic overrides it); when the topic cannot be described (missing, not
 * authorized), the `message.max.bytes` of a broker of the cluster.
 * @returns null when neither can be read (the caller keeps its default)
 */
export async function maxMessageBytes(admin: Admin, topic: string): Promise<number | null> {
  try {
    const { resources } = await admin.describeConfigs({
      includeSynonyms: false,
      resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configNames: ['max.message.bytes'] }],
    });
    const fromTopic = positiveConfig(resources, 'max.message.bytes');
    if (fromTopic !== null) return fromTopic;
  } catch {
    // The broker's own setting below is the topic's default.
  }
  try {
    const { brokers } = await admin.describeCluster();
    if (brokers.length === 0) return null;
    const { resources } = await admin.describeConfigs({
      includeSynonyms: false,
      resources: [
        { type: ConfigResourceTypes.BROKER, name: String(brokers[0].nodeId), configNames: ['message.max.bytes'] },
      ],
    });
    return positiveConfig(resources, 'message.max.bytes');
  } catch {
    return null;
  }
}
