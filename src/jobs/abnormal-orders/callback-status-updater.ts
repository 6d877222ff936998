import { Prisma } from '../../generated/prisma/client.js';
import { CallbackStatusConflictError } from './callback-status-conflict-error.js';
import { UnpaidUserNotFoundError } from './unpaid-user-not-found-error.js';
import { planStatusUpdates, type StatusUpdateRequest } from './callback-status-plan.js';
import { JOB_WIDE_PARTITION, type ChangeLogStore } from '../../store/change-log-store.js';
import { ABNORMAL_ORDERS_CHANGE_KIND } from './abnormal-orders-events.js';
import type { ClientMutationStore } from '../../store/client-mutation-store.js';
import type { Db } from '../../store/prisma-client.js';
import {
  callbackStatusName,
  UNPAID_USER_COLUMNS,
  unpaidUserFromRaw,
  type CallbackStatusName,
  type RawUnpaidUserRow,
  type UnpaidUserRow,
  type UnpaidUserStore,
} from './unpaid-user-store.js';

/** Who changes a status: the role and the stable id of the credential (`keyId`, a sha256 prefix; never the key). */
export interface StatusActor {
  role: string;
  keyId: string;
}

/**
 * A status change as the change log stores it (kind `callback-status-changed`,
 * abnormal-orders stream, partition -1). `at`: ISO-8601 UTC, the audit row's time.
 */
export interface CallbackStatusChangedEvent {
  uid: string;
  /** The status before (PENDING when never set). */
  from: CallbackStatusName;
  to: CallbackStatusName;
  role: string;
  keyId: string;
  note: string | null;
  at: string;
}

/** The outcome of one update: the user after it, or why it was refused. */
export type StatusUpdateOutcome =
  | { uid: string; row: UnpaidUserRow; error?: undefined }
  | { uid: string; row?: undefined; error: UnpaidUserNotFoundError | CallbackStatusConflictError };

/** The outcome of a call: one per update, in order; `replayed` when it is the stored answer of an earlier call with the same clientMutationId. */
export interface StatusUpdateResult {
  replayed: boolean;
  outcomes: StatusUpdateOutcome[];
}

/** How a result is stored in `client_mutation` (JSON; times as ISO strings). */
interface StoredOutcome {
  uid: string;
  row?: Omit<UnpaidUserRow, 'firstDetectedAt' | 'lastDetectedAt' | 'windowStart' | 'windowEnd'> & {
    firstDetectedAt: string;
    lastDetectedAt: string;
    windowStart: string;
    windowEnd: string;
  };
  notFound?: true;
  conflict?: { expected: CallbackStatusName; current: CallbackStatusName };
}

/** Longest a status transaction waits for a pooled connection, then runs, MILLISECONDS. */
const TX_MAX_WAIT_MS = 10_000;
const TX_TIMEOUT_MS = 30_000;

/**
 * Callback status changes (one or many per call) in ONE transaction each:
 * - the clientMutationId, when given, is claimed first (`client_mutation`):
 *   a retry within 24 hours answers the first result and changes nothing,
 *   whichever API process it reaches;
 * - the users' rows are locked in one `SELECT ... FOR UPDATE` (primary-key
 *   order; READ COMMITTED, so a missing uid locks no gap), each update is
 *   decided against the locked status (`expectedStatus`: CONFLICT when it
 *   differs, so of two concurrent conflicting updates exactly one wins), and
 *   the applied ones are written: status, `detections_since_callback` back to
 *   0, an audit row each (role, key id, note), and a change-log entry each,
 *   appended last so the feed sees status changes in commit order.
 * Lock order, the same in every such transaction: client_mutation row, user
 * rows by uid, change-log counter; the abnormal-orders sink locks user rows
 * by uid as well, and never the others, so no two wait for each other in a
 * cycle.
 */
export class CallbackStatusUpdater {
  constructor(
    private readonly db: Db,
    private readonly deps: {
      users: UnpaidUserStore;
      changeLog: ChangeLogStore;
      mutations: ClientMutationStore;
      /** Change-log stream of the status changes: the abnormal-orders consumer group. */
      stream: string;
    },
  ) {}

  /**
   * Applies `requests` in order, each on its own terms (one refused does not
   * stop the others).
   * @param requests at most 500 (checked by the caller), notes at most 500 characters.
   * @param clientMutationId the caller's id of this call, or null (not idempotent).
   * @returns one outcome per request.
   * @throws the driver's error when the database fails (nothing is changed).
   */
  async apply(
    requests: readonly StatusUpdateRequest[],
    actor: StatusActor,
    clientMutationId: string | null,
  ): Promise<StatusUpdateResult> {
    try {
      return await this.db.$transaction(
        async (tx) => {
          if (clientMutationId !== null) {
            const stored = await this.deps.mutations.claim(tx, actor.keyId, clientMutationId);
            if (stored !== null) return { replayed: true, outcomes: fromStored(stored as StoredOutcome[]) };
          }
          const uids = [...new Set(requests.map((r) => r.uid))];
          const locked =
            uids.length === 0
              ? []
              : (
                  await tx.$queryRaw<RawUnpaidUserRow[]>`SELECT ${UNPAID_USER_COLUMNS} FROM unpayment_record
                    WHERE uid IN (${Prisma.join(uids)}) ORDER BY uid FOR UPDATE`
                ).map(unpaidUserFromRaw);
          const rows = new Map(locked.map((r) => [r.uid, r]));
          const plan = planStatusUpdates(requests, new Map(locked.map((r) => [r.uid, r.callbackStatus])));
          const at = new Date();
          const outcomes: StatusUpdateOutcome[] = [];
          const events: CallbackStatusChangedEvent[] = [];
          for (const p of plan) {
            if (p.kind === 'not-found') outcomes.push({ uid: p.uid, error: new UnpaidUserNotFoundError(p.uid) });
            else if (p.kind === 'conflict')
              outcomes.push({ uid: p.uid, error: new CallbackStatusConflictError(p.uid, p.expected, p.current) });
            else {
              const before = rows.get(p.uid);
              if (!before) throw new Error(`planned an update of ${p.uid}, which was not locked`);
              const after = { ...before, callbackStatus: p.to, detectionsSinceCallback: 0 };
              rows.set(p.uid, after);
              outcomes.push({ uid: p.uid, row: after });
              events.push({
                uid: p.uid,
                from: callbackStatusName(p.from),
                to: callbackStatusName(p.to),
                role: actor.role,
                keyId: actor.keyId,
                note: p.note,
                at: at.toISOString(),
              });
            }
          }
          const applied = plan.flatMap((p) => (p.kind === 'applied' ? [p] : []));
          if (applied.length > 0) {
            const last = new Map(applied.map((p) => [p.uid, p.to]));
            const cases = Prisma.join(
              [...last].map(([uid, to]) => Prisma.sql`WHEN ${uid} THEN ${to}`),
              ' ',
            );
            await tx.$executeRaw`UPDATE unpayment_record SET callback_status = CASE uid ${cases} END, detections_since_callback = 0
              WHERE uid IN (${Prisma.join([...last.keys()])})`;
            await tx.$executeRaw`INSERT INTO callback_status_audit (uid, from_status, to_status, role, key_id, changed_at, note)
              VALUES ${Prisma.join(
                applied.map(
                  (p) => Prisma.sql`(${p.uid}, ${p.from}, ${p.to}, ${actor.role}, ${actor.keyId}, ${at}, ${p.note})`,
                ),
              )}`;
            await this.deps.changeLog.appendSequenced(
              tx,
              this.deps.stream,
              JOB_WIDE_PARTITION,
              events.map((payload) => ({ kind: ABNORMAL_ORDERS_CHANGE_KIND.callbackStatusChanged, payload })),
            );
          }
          if (clientMutationId !== null)
            await this.deps.mutations.record(tx, actor.keyId, clientMutationId, toStored(outcomes));
          return { replayed: false, outcomes };
        },
        {
          isolationLevel: Prisma.TransactionIsolationLevel.ReadCommitted,
          maxWait: TX_MAX_WAIT_MS,
          timeout: TX_TIMEOUT_MS,
        },
      );
    } finally {
      this.deps.users.invalidate();
    }
  }
}

function toStored(outcomes: readonly StatusUpdateOutcome[]): StoredOutcome[] {
  return outcomes.map((o): StoredOutcome => {
    if (o.row)
      return {
        uid: o.uid,
        row: {
          ...o.row,
          firstDetectedAt: o.row.firstDetectedAt.toISOString(),
          lastDetectedAt: o.row.lastDetectedAt.toISOString(),
          windowStart: o.row.windowStart.toISOString(),
          windowEnd: o.row.windowEnd.toISOString(),
        },
      };
    if (o.error instanceof CallbackStatusConflictError)
      return {
        uid: o.uid,
        conflict: {
          expected: o.error.expectedStatus as CallbackStatusName,
          current: o.error.currentStatus as CallbackStatusName,
        },
      };
    return { uid: o.uid, notFound: true };
  });
}

function fromStored(stored: readonly StoredOutcome[]): StatusUpdateOutcome[] {
  return stored.map((s): StatusUpdateOutcome => {
    if (s.row)
      return {
        uid: s.uid,
        row: {
          ...s.row,
          firstDetectedAt: new Date(s.row.firstDetectedAt),
          lastDetectedAt: new Date(s.row.lastDetectedAt),
          windowStart: new Date(s.row.windowStart),
          windowEnd: new Date(s.row.windowEnd),
        },
      };
    if (s.conflict)
      return { uid: s.uid, error: new CallbackStatusConflictError(s.uid, s.conflict.expected, s.conflict.current) };
    return { uid: s.uid, error: new UnpaidUserNotFoundError(s.uid) };
  });
}
