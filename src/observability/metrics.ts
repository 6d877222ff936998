import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * The service's Prometheus metrics (prom-client), served at `/metrics`.
 * Names follow Prometheus conventions: `_total` counters, base units
 * (seconds), `rt_` prefix. One instance per process.
 */
export class Metrics {
  readonly registry = new Registry();

  /** Records read from Kafka (replays of open windows excluded), per job. */
  readonly recordsConsumed = new Counter({
    name: 'rt_records_consumed_total',
    help: 'Records read from Kafka, per job',
    labelNames: ['job'] as const,
    registers: [this.registry],
  });
  /** Records whose results and offsets committed, per job. */
  readonly recordsCommitted = new Counter({
    name: 'rt_records_committed_total',
    help: 'Records committed with their results, per job',
    labelNames: ['job'] as const,
    registers: [this.registry],
  });
  readonly recordsDeadLettered = new Counter({
    name: 'rt_records_dead_lettered_total',
    help: 'Records sent to the dead-letter topic, per job and reason',
    labelNames: ['job', 'reason'] as const,
    registers: [this.registry],
  });
  readonly recordsLate = new Counter({
    name: 'rt_records_late_total',
    help: 'Late records (all their windows final), per job',
    labelNames: ['job'] as const,
    registers: [this.registry],
  });
  /** latest - committed offset, per partition this process owns. */
  readonly lag = new Gauge({
    name: 'rt_consumer_lag',
    help: 'Latest offset minus committed offset, per partition owned by this process',
    labelNames: ['job', 'topic', 'partition'] as const,
    registers: [this.registry],
  });
  /**
   * Keys held in the open windows of a partition this process owns (`kind`:
   * `distinct` keys, `live` = summed over windows), now and at the most
   * since the partition was claimed (`_peak`): the window state's memory follows them.
   */
  readonly windowKeys = new Gauge({
    name: 'rt_window_keys',
    help: 'Keys in the open windows, per job, partition owned by this process and kind (distinct, live = summed over windows)',
    labelNames: ['job', 'partition', 'kind'] as const,
    registers: [this.registry],
  });
  readonly windowKeysPeak = new Gauge({
    name: 'rt_window_keys_peak',
    help: 'Most keys in the open windows at once since the partition was claimed, per job, partition and kind (distinct, live)',
    labelNames: ['job', 'partition', 'kind'] as const,
    registers: [this.registry],
  });
  /**
   * 1 while a partition this process owns keeps failing to commit (or to be
   * claimed) for the same non-transient reason, 0 once it commits again.
   */
  readonly commitRetries = new Counter({
    name: 'rt_commit_retries_total',
    help: 'Transient failures of a batch commit or partition claim, each retried (a deadlock in place, any other after a backoff), per job and code',
    labelNames: ['job', 'code'] as const,
    registers: [this.registry],
  });
  /**
   * 1 while more than EVENT_TIME_WARNING_PERCENT of a job's records on this
   * process were dead-lettered for `reason` (`late`, `event-time-ahead`) over
   * the last minute, else 0.
   */
  readonly eventTimeWarning = new Gauge({
    name: 'rt_event_time_warning',
    help: 'Whether a job dead-lettered more than EVENT_TIME_WARNING_PERCENT of its records on this process as late or event-time-ahead over the last minute (1) or not (0), per job and reason',
    labelNames: ['job', 'reason'] as const,
    registers: [this.registry],
  });
  readonly topicRecreated = new Counter({
    name: 'rt_topic_recreated_total',
    help: 'Claims that found a partition reading a recreated topic (its log not the one the stored position was read from), per job',
    labelNames: ['job'] as const,
    registers: [this.registry],
  });
  readonly partitionFailing = new Gauge({
    name: 'rt_partition_failing',
    help: 'Partitions whose commit keeps failing for the same non-transient reason (1) or works (0), per job and partition owned by this process',
    labelNames: ['job', 'partition'] as const,
    registers: [this.registry],
  });
  readonly batchDuration = new Histogram({
    name: 'rt_batch_duration_seconds',
    help: 'Time to commit what a job held (the dead letters, the batch transaction and its queueing), seconds',
    labelNames: ['job'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });
  readonly transactionDuration = new Histogram({
    name: 'rt_transaction_duration_seconds',
    help: 'Duration of the batch transaction (results + offsets), seconds',
    labelNames: ['job'] as const,
    buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });
  /** Partitions carried by one batch transaction: all the due partitions of a job on one worker. */
  readonly transactionPartitions = new Histogram({
    name: 'rt_transaction_partitions',
    help: 'Partitions committed by one batch transaction (a worker commits its partitions of a job together)',
    labelNames: ['job'] as const,
    buckets: [1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48],
    registers: [this.registry],
  });
  /** Wall-clock time from a window becoming final (closeDue) to its results being published, seconds. */
  readonly windowEmitLatency = new Histogram({
    name: 'rt_window_emit_latency_seconds',
    help: 'From a window closing to the publication of its results, seconds',
    labelNames: ['job'] as const,
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });
  readonly graphqlDuration = new Histogram({
    name: 'rt_graphql_request_duration_seconds',
    help: 'GraphQL operation duration, seconds',
    labelNames: ['operation'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });
  /** Per change an API process's change-log tailer read: its read time minus the commit's `committed_at` (stamped in the batch transaction), seconds. */
  readonly changeLogReadLatency = new Histogram({
    name: 'rt_change_log_read_latency_seconds',
    help: 'From a change being written in its batch transaction to an API process reading it from the change log, seconds',
    labelNames: ['stream'] as const,
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  readonly openSubscriptions = new Gauge({
    name: 'rt_graphql_open_subscriptions',
    help: 'GraphQL subscriptions open on this process',
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'rt_process_' });
  }
}
