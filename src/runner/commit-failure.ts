import { AppError } from '../errors/app-error.js';

/**
 * Why one commit (or claim) attempt of a partition failed, reduced to what
 * the failing state needs: a stable code to tell "the same reason again" from
 * a new one, a human message, and whether retrying is expected to help.
 */
export interface CommitFailureCause {
  /**
   * Stable code: `MYSQL_<errno>` for a MySQL/MariaDB server or driver error
   * (e.g. `MYSQL_1146`), the Prisma code when there is no errno (`P2028`), the
   * {@link AppError} code (`WINDOW_SPEC_CHANGED`), `KAFKA_<TYPE>` for a broker's
   * protocol error (`KAFKA_MESSAGE_TOO_LARGE`), `KAFKA_<class>` for another
   * kafkajs error (`KAFKA_ConnectionError`), a Node
   * network code (`ECONNRESET`) or `UNKNOWN`.
   */
  code: string;
  /** The database's (or library's) own message, one line. */
  message: string;
  /**
   * True for an outage retries outlast (connection loss, deadlock, lock wait
   * timeout, pool exhaustion, a broker that is away); false for a fault that stays
   * until someone fixes it (schema, constraint, permission, collation, a
   * record or a topic Kafka refuses) and
   * for causes not known to be transient.
   */
  transient: boolean;
}

/**
 * MySQL/MariaDB server error numbers that describe an outage, not a fault of
 * the schema or the data (MySQL "Server Error Message Reference", MariaDB
 * "Error Codes"): deadlock 1213, lock wait timeout 1205, too many connections
 * 1040/1203, server shutdown 1053, network read/write 1158-1161, query
 * interrupted 1317, connection killed 1927, statement timeouts 1969/3024,
 * read-only during a failover 1290/1836, client connection errors
 * 2002/2003/2006/2013, MySQL 8 idle disconnect 4031.
 */
const TRANSIENT_MYSQL_ERRNOS = new Set([
  1040, 1053, 1158, 1159, 1160, 1161, 1203, 1205, 1213, 1290, 1317, 1836, 1927, 1969, 2002, 2003, 2006, 2013, 3024,
  4031,
]);

/**
 * Prisma codes of outages: P1001/P1002 server unreachable or timed out, P1008
 * operation timeout, P1017 connection closed, P2024 pool timeout, P2028
 * transaction API error (expired or closed transaction), P2034 write conflict
 * or deadlock.
 */
const TRANSIENT_PRISMA_CODES = new Set(['P1001', 'P1002', 'P1008', 'P1017', 'P2024', 'P2028', 'P2034']);

/** Node socket error codes of a lost or refused connection. */
const TRANSIENT_NODE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/**
 * The mariadb connector numbers its own client-side errors from 45000
 * (socket closed, connection or pool timeout): all of them are about the
 * connection, none about the statement.
 */
const MARIADB_CLIENT_ERRNO_FROM = 45_000;

const oneLine = (s: string): string => s.replace(/\s+/g, ' ').trim();

/**
 * Kafka protocol errors that no retry heals: the same request meets the same
 * refusal until someone changes the data, the topic or the cluster (Kafka
 * protocol guide, "Error Codes"). Kafka itself calls
 * `UNKNOWN_TOPIC_OR_PARTITION` retriable, because a topic just created may
 * not be known to every broker yet; the client has retried it by the time it
 * reaches the runner, so it means the topic is not there.
 * - records the broker refuses: `MESSAGE_TOO_LARGE` (10),
 *   `RECORD_LIST_TOO_LARGE` (18), `INVALID_RECORD` (87); `CORRUPT_MESSAGE`
 *   (2) is not here, since Kafka retries a checksum failure;
 * - `UNKNOWN_TOPIC_OR_PARTITION` (3), `UNKNOWN_TOPIC_ID` (100),
 *   `INVALID_TOPIC_EXCEPTION` (17), `TOPIC_DELETION_DISABLED` (73);
 * - authorization and authentication: `TOPIC_AUTHORIZATION_FAILED` (29),
 *   `GROUP_AUTHORIZATION_FAILED` (30), `CLUSTER_AUTHORIZATION_FAILED` (31),
 *   `TRANSACTIONAL_ID_AUTHORIZATION_FAILED` (53),
 *   `SASL_AUTHENTICATION_FAILED` (58), `UNSUPPORTED_SASL_MECHANISM` (33),
 *   `ILLEGAL_SASL_STATE` (34);
 * - a request the broker does not support or refuses by policy:
 *   `INVALID_REQUIRED_ACKS` (21), `UNSUPPORTED_VERSION` (35),
 *   `UNSUPPORTED_FOR_MESSAGE_FORMAT` (43), `UNSUPPORTED_COMPRESSION_TYPE` (76),
 *   `POLICY_VIOLATION` (44), `INVALID_CONFIG` (40).
 */
export const NON_HEALING_KAFKA_ERRORS: ReadonlySet<string> = new Set([
  'MESSAGE_TOO_LARGE',
  'RECORD_LIST_TOO_LARGE',
  'INVALID_RECORD',
  'UNKNOWN_TOPIC_OR_PARTITION',
  'UNKNOWN_TOPIC_ID',
  'INVALID_TOPIC_EXCEPTION',
  'TOPIC_DELETION_DISABLED',
  'TOPIC_AUTHORIZATION_FAILED',
  'GROUP_AUTHORIZATION_FAILED',
  'CLUSTER_AUTHORIZATION_FAILED',
  'TRANSACTIONAL_ID_AUTHORIZATION_FAILED',
  'SASL_AUTHENTICATION_FAILED',
  'UNSUPPORTED_SASL_MECHANISM',
  'ILLEGAL_SASL_STATE',
  'INVALID_REQUIRED_ACKS',
  'UNSUPPORTED_VERSION',
  'UNSUPPORTED_FOR_MESSAGE_FORMAT',
  'UNSUPPORTED_COMPRESSION_TYPE',
  'POLICY_VIOLATION',
  'INVALID_CONFIG',
]);

/**
 * The cause of a kafkajs error. A protocol error (the broker's answer, kafkajs
 * `KafkaJSProtocolError` with its `type`), also one found under the client's
 * own wrappers (`KafkaJSNumberOfRetriesExceeded` and the like, through
 * `cause` / `originalError`), is `KAFKA_<TYPE>`: not transient when it is in
 * {@link NON_HEALING_KAFKA_ERRORS} or Kafka does not call it retriable,
 * transient otherwise. Any other kafkajs error (connection refused or closed,
 * request timeout, no broker, metadata not loaded yet) is `KAFKA_<class>`,
 * transient: the broker is away, and retries outlast that.
 */
function kafkaCause(err: Record<string, unknown>): CommitFailureCause {
  let current: unknown = err;
  for (let depth = 0; depth < 5 && current && typeof current === 'object'; depth++) {
    const e = current as Record<string, unknown>;
    if (typeof e.type === 'string' && /^[A-Z_]+$/.test(e.type)) {
      return {
        code: `KAFKA_${e.type}`,
        message: oneLine(textOf(e.message)),
        transient: !NON_HEALING_KAFKA_ERRORS.has(e.type) && e.retriable !== false,
      };
    }
    current = e.cause ?? e.originalError;
  }
  const name = textOf(err.name);
  return {
    code: `KAFKA_${name.slice('KafkaJS'.length) || 'ERROR'}`,
    message: oneLine(textOf(err.message)),
    transient: true,
  };
}

function mysqlCause(errno: number, message: string): CommitFailureCause {
  return {
    code: `MYSQL_${errno}`,
    message: oneLine(message),
    transient: TRANSIENT_MYSQL_ERRNOS.has(errno) || errno >= MARIADB_CLIENT_ERRNO_FROM,
  };
}

/** An error field as text: nullish is empty, any other value as String() prints it. */
function textOf(value: unknown): string {
  // eslint-disable-next-line @typescript-eslint/no-base-to-string -- error fields are unchecked values; a non-string one is shown as String() prints it
  return String(value ?? '');
}

/** The error number and message a driver adapter error or a raw driver error carries, if any. */
function driverErrno(err: Record<string, unknown>): { errno: number; message: string } | null {
  const adapter = (err.meta as { driverAdapterError?: { cause?: Record<string, unknown> } } | undefined)
    ?.driverAdapterError?.cause;
  if (adapter && typeof adapter.originalCode === 'string' && /^\d+$/.test(adapter.originalCode)) {
    return { errno: Number(adapter.originalCode), message: textOf(adapter.originalMessage ?? err.message) };
  }
  if (typeof err.errno === 'number' && ('sqlMessage' in err || 'sqlState' in err)) {
    return { errno: err.errno, message: textOf(err.sqlMessage ?? err.message) };
  }
  const inMessage = typeof err.message === 'string' ? /Code: `(\d+)`\. Message: `([^`]*)`/.exec(err.message) : null;
  return inMessage ? { errno: Number(inMessage[1]), message: inMessage[2] } : null;
}

/**
 * Classifies why a partition's commit or claim failed, by the MySQL/MariaDB
 * error number (Prisma driver adapter `originalCode`, or the driver's
 * `errno`), else the Prisma error code, else the error's class. Follows the
 * `cause` chain (ES2022) up to a few levels. Never throws.
 */
export function classifyCommitFailure(err: unknown): CommitFailureCause {
  let current: unknown = err;
  for (let depth = 0; depth < 5 && current && typeof current === 'object'; depth++) {
    const e = current as Record<string, unknown>;
    const driver = driverErrno(e);
    if (driver) return mysqlCause(driver.errno, driver.message);
    if (current instanceof AppError) return { code: current.code, message: oneLine(current.message), transient: false };
    if (typeof e.name === 'string' && e.name.startsWith('KafkaJS')) return kafkaCause(e);
    if (typeof e.code === 'string' && /^P\d{4}$/.test(e.code)) {
      return { code: e.code, message: oneLine(textOf(e.message)), transient: TRANSIENT_PRISMA_CODES.has(e.code) };
    }
    if (typeof e.code === 'string' && TRANSIENT_NODE_CODES.has(e.code)) {
      return { code: e.code, message: oneLine(textOf(e.message)), transient: true };
    }
    current = e.cause;
  }
  const message = err instanceof Error ? err.message : String(err);
  return { code: 'UNKNOWN', message: oneLine(message), transient: false };
}
