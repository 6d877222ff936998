import type { Gauge } from 'prom-client';

/** The WebSocket bounds of one process (see {@link WebSocketLimits}). */
export interface WebSocketLimitOptions {
  /** Largest message, bytes (ws `maxPayload`): a larger one closes the socket with 1009. */
  maxPayloadBytes: number;
  /** Open connections in all. */
  maxConnections: number;
  /** Open connections per API key or token subject. */
  maxConnectionsPerKey: number;
  /** Active subscriptions per API key or token subject, over all its connections. */
  maxSubscriptionsPerKey: number;
}

/** WebSocket close code for a connection over the caps or out of rate budget: 4013 mirrors 1013 "try again later" in the application range (graphql-ws gives 4429 another meaning and its clients never retry it). */
export const WS_CLOSE_TOO_MANY_CONNECTIONS = 4013;
/** WebSocket close code for a connection whose credential is refused (graphql-ws's Forbidden). */
export const WS_CLOSE_FORBIDDEN = 4403;

/** One accepted connection: the subject it counts under, and its operations (id -> is a subscription). */
interface Connection {
  subject: string;
  operations: Map<string, boolean>;
}

function bump(counts: Map<string, number>, key: string, delta: number): void {
  const n = (counts.get(key) ?? 0) + delta;
  if (n > 0) counts.set(key, n);
  else counts.delete(key);
}

/**
 * The per-process counts behind the WebSocket caps: open connections (in all
 * and per subject, an API key's id or `jwt:<iss>:<sub>`'s), active
 * subscriptions per subject, and the `rt_graphql_open_subscriptions` gauge
 * (every open operation of every socket). A connection is any object that
 * stays the same for the socket's life (graphql-ws's context).
 */
export class WebSocketLimits {
  private readonly connections = new Map<object, Connection>();
  private readonly connectionsPerSubject = new Map<string, number>();
  private readonly subscriptionsPerSubject = new Map<string, number>();

  /** @param openOperations the gauge of open WebSocket operations (`rt_graphql_open_subscriptions`). */
  constructor(
    private readonly opts: WebSocketLimitOptions,
    private readonly openOperations: Gauge,
  ) {}

  /** Counts a new connection of `subject`; `false` (nothing counted) when the process or the subject is at its cap. */
  connect(connection: object, subject: string): boolean {
    if (
      this.connections.size >= this.opts.maxConnections ||
      (this.connectionsPerSubject.get(subject) ?? 0) >= this.opts.maxConnectionsPerKey
    )
      return false;
    this.connections.set(connection, { subject, operations: new Map() });
    bump(this.connectionsPerSubject, subject, 1);
    return true;
  }

  /** Whether `connection` was accepted by {@link connect} and is not closed. */
  has(connection: object): boolean {
    return this.connections.has(connection);
  }

  /**
   * Counts operation `id` of `connection` (a subscription also against its
   * subject's cap); an id already counted is not counted again.
   * @returns `false` (nothing counted) when it is a subscription and the subject holds `maxSubscriptionsPerKey` already.
   */
  start(connection: object, id: string, isSubscription: boolean): boolean {
    const conn = this.connections.get(connection);
    if (!conn) return false;
    if (isSubscription && (this.subscriptionsPerSubject.get(conn.subject) ?? 0) >= this.opts.maxSubscriptionsPerKey)
      return false;
    if (!conn.operations.has(id)) {
      conn.operations.set(id, isSubscription);
      if (isSubscription) bump(this.subscriptionsPerSubject, conn.subject, 1);
      this.openOperations.inc();
    }
    return true;
  }

  /** Stops counting operation `id` of `connection` (completed, by either side); unknown ids are ignored. */
  complete(connection: object, id: string): void {
    const conn = this.connections.get(connection);
    if (!conn?.operations.has(id)) return;
    if (conn.operations.get(id)) bump(this.subscriptionsPerSubject, conn.subject, -1);
    conn.operations.delete(id);
    this.openOperations.dec();
  }

  /** Stops counting `connection` and every operation still open on it. */
  close(connection: object): void {
    const conn = this.connections.get(connection);
    if (!conn) return;
    this.connections.delete(connection);
    bump(this.connectionsPerSubject, conn.subject, -1);
    const subscriptions = [...conn.operations.values()].filter(Boolean).length;
    if (subscriptions > 0) bump(this.subscriptionsPerSubject, conn.subject, -subscriptions);
    this.openOperations.dec(conn.operations.size);
  }
}
