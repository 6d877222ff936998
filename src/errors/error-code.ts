/**
 * Every stable code an {@link AppError} of this service carries: upper snake
 * case, never reworded, safe to branch on (logs, metrics, callers). These are
 * domain codes; the GraphQL layer maps them to its client-visible
 * `extensions.code` in one table (`src/graphql/errors.ts`).
 */
export type ErrorCode =
  /** The environment does not describe a usable configuration (`ConfigError`). */
  | 'CONFIG_INVALID'
  /** A subscription cursor older than the change log keeps (`CursorExpiredError`). */
  | 'CURSOR_EXPIRED'
  /** The database has no `database_identity` row: the migrations did not run (`MissingDatabaseIdentityError`). */
  | 'DATABASE_IDENTITY_MISSING'
  /** Kafka, MySQL or Redis cannot be reached at start (`ServiceUnavailableError`). */
  | 'SERVICE_UNAVAILABLE'
  /** Another worker claimed the partition since this one did (`FencedError`). */
  | 'PARTITION_FENCED'
  /** A Kafka record does not follow its topic's format (`MalformedRecordError`). */
  | 'MALFORMED_RECORD'
  /** A window specification cannot describe epoch-aligned windows (`InvalidWindowSpecError`). */
  | 'WINDOW_SPEC_INVALID'
  /** The log a partition's stored position was read from is not the log the topic holds now (`TopicRecreatedError`). */
  | 'TOPIC_RECREATED'
  /** A partition's position was stored under another window size, advance or grace (`WindowSpecChangedError`). */
  | 'WINDOW_SPEC_CHANGED'
  /** Input that breaks an invariant of the window engine (`WindowEngineInputError`). */
  | 'WINDOW_ENGINE_INPUT_INVALID'
  /** A time zone the runtime does not know (`InvalidTimeZoneError`). */
  | 'TIME_ZONE_INVALID'
  /** A migration failed or was edited after it was applied (`MigrationError`). */
  | 'MIGRATION_FAILED'
  /** No `unpayment_record` for the uid asked for (`UnpaidUserNotFoundError`). */
  | 'UNPAID_USER_NOT_FOUND'
  /** A callback status update's `expectedStatus` is not the user's status (`CallbackStatusConflictError`). */
  | 'CALLBACK_STATUS_CONFLICT'
  /** A pagination cursor this service did not issue (`InvalidCursorError`). */
  | 'CURSOR_INVALID'
  /** No job or consumer group of that name (`OperationRefusedError`). */
  | 'JOB_NOT_FOUND'
  /** An operator's request names a topic, partition or position that does not fit (`OperationRefusedError`). */
  | 'OPERATION_INPUT_INVALID'
  /** Moving an additive job backwards would count records twice (`OperationRefusedError`). */
  | 'RECOUNT_REFUSED'
  /** A bounded read of partitions (repairWatermark's OPEN_WINDOWS target) timed out or Kafka failed (`PartitionReadError`). */
  | 'PARTITION_READ_FAILED'
  /** An option of a library function (sample generators, topic fill) is out of range. */
  | 'INVALID_OPTION'
  /** Writing sample records to Kafka failed. */
  | 'KAFKA_PRODUCE_FAILED'
  /** A command-line mistake in a script's arguments. */
  | 'USAGE';
