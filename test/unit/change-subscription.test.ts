import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeCursor, encodeCursor } from '../../src/subscriptions/change-cursor.js';
import type { ChangeLogTailer, TailedChange } from '../../src/subscriptions/change-log-tailer.js';
import { ChangeSubscription, type FeedEvent } from '../../src/subscriptions/change-subscription.js';
import { encodePos } from '../../src/store/change-log-position.js';
import type { ChangeLogStore, ChangeRow } from '../../src/store/change-log-store.js';

const STREAM = 'g';
const pos = (offset: number, seq = 0) => encodePos({ epoch: 1, batchOffset: BigInt(offset), batchWatermarkMs: 0, seq });
const row = (partition: number, offset: number, payload: unknown = { n: offset }): ChangeRow => ({
  partition,
  pos: pos(offset),
  kind: 'city-daily-changed',
  payload,
  committedAtMs: 0,
});

/** The log as a list of rows; readAfter behaves like the SQL (per partition `pos >`, ordered, limited). */
function fakeStore(rows: ChangeRow[]): ChangeLogStore {
  return {
    readAfter: async (_s: string, after: ReadonlyMap<number, string>, limit: number) =>
      rows
        .filter((r) => r.pos > (after.get(r.partition) ?? ''))
        .sort((a, b) => a.partition - b.partition || (a.pos < b.pos ? -1 : 1))
        .slice(0, limit),
  } as unknown as ChangeLogStore;
}

/** A tailer whose head and deliveries the test drives. */
function fakeTailer(head: Map<number, string>) {
  const sinks = new Set<ChangeSubscription>();
  const tailer = {
    stream: STREAM,
    // The fake tailer has nothing to start: its head is fixed.
    start: () => Promise.resolve(),
    currentHead: () => new Map(head),
    attach: (s: ChangeSubscription) => sinks.add(s),
    detach: (s: ChangeSubscription) => sinks.delete(s),
  };
  const deliver = (rows: ChangeRow[]) => {
    const changes: TailedChange[] = rows.map((r) => {
      head.set(r.partition, r.pos);
      return { ...r, cursor: encodeCursor(STREAM, head) };
    });
    for (const s of sinks) s.deliver(changes);
  };
  return { tailer: tailer as unknown as ChangeLogTailer, deliver, sinks };
}

async function take<S>(sub: ChangeSubscription<S>, n: number): Promise<FeedEvent<S>[]> {
  const out: FeedEvent<S>[] = [];
  while (out.length < n) out.push((await sub.next()).value as FeedEvent<S>);
  return out;
}

const label = (e: FeedEvent) =>
  e.kind === 'change' ? `${e.change.partition}:${(e.change.payload as { n: number }).n}` : e.kind;

describe('ChangeSubscription', () => {
  it('should read the log after its start, then join the live fan-out with no gap and no repeat', async () => {
    const log = [row(0, 1), row(1, 2), row(0, 3), row(1, 4), row(0, 5)];
    // The tailer is behind the log: it has read up to offset 3 only.
    const { tailer, deliver, sinks } = fakeTailer(
      new Map([
        [0, pos(3)],
        [1, pos(2)],
      ]),
    );
    const sub = new ChangeSubscription({
      tailer,
      store: fakeStore(log),
      start: new Map([[0, pos(1)]]),
      catchUp: true,
      progressIntervalMs: null,
      pageSize: 2,
    });
    const caught = await take(sub, 4);
    assert.deepEqual(caught.map(label), ['0:3', '0:5', '1:2', '1:4']);
    const next = take(sub, 2);
    // A last, empty read shows the subscriber is up to date: it joins the fan-out.
    await new Promise((r) => setImmediate(r));
    assert.equal(sinks.size, 1, "joined the fan-out once its position covered the tailer's");
    // The tailer now reads what the subscriber already has, and more.
    deliver([row(0, 5), row(0, 6), row(1, 4), row(1, 7)]);
    const live = await next;
    assert.deepEqual(live.map(label), ['0:6', '1:7']);
    // Each cursor is the vector right after its event.
    assert.deepEqual(
      decodeCursor(live[1].cursor, STREAM),
      new Map([
        [0, pos(6)],
        [1, pos(7)],
      ]),
    );
    assert.deepEqual(decodeCursor(caught[0].cursor, STREAM), new Map([[0, pos(3)]]));
    await sub.return();
    assert.equal(sinks.size, 0);
  });

  it("should resume after any event's cursor with exactly the events after it", async () => {
    const log = [row(0, 1), row(1, 2), row(0, 3), row(2, 4), row(1, 5)];
    const all = await take(
      new ChangeSubscription({
        tailer: fakeTailer(new Map()).tailer,
        store: fakeStore(log),
        start: new Map(),
        catchUp: true,
        progressIntervalMs: null,
      }),
      log.length,
    );
    for (let i = 0; i < all.length; i++) {
      const { tailer } = fakeTailer(new Map());
      const resumed = new ChangeSubscription({
        tailer,
        store: fakeStore(log),
        start: decodeCursor(all[i].cursor, STREAM),
        catchUp: true,
        progressIntervalMs: null,
      });
      const rest = await take(resumed, all.length - i - 1);
      assert.deepEqual(rest.map(label), all.slice(i + 1).map(label));
    }
  });

  it('should coalesce per key without letting a cursor pass a change still held back', async () => {
    const { tailer, deliver } = fakeTailer(new Map());
    const sub = new ChangeSubscription({
      tailer,
      store: fakeStore([]),
      start: new Map(),
      catchUp: false,
      progressIntervalMs: null,
      coalesce: {
        key: (c) => (c.payload as { city: string }).city,
        isNewer: (a, b) => (a as { orders: number }).orders > (b as { orders: number }).orders,
        intervalMs: 30,
      },
    });
    const city = (n: number, c: string, orders: number) => ({ n, city: c, orders });
    // The coalescing timer is unref'd (it must not keep a server alive): keep the test alive.
    const keepAlive = setInterval(() => undefined, 1_000);
    // A quiet key goes at once; the next ones wait for the interval, the newest per key wins.
    deliver([
      row(0, 1, city(1, 'A', 1)),
      row(0, 2, city(2, 'B', 1)),
      row(1, 3, city(3, 'A', 2)),
      row(0, 4, city(4, 'B', 2)),
      row(1, 5, city(5, 'B', 0)),
    ]);
    const events = await take(sub, 3);
    assert.deepEqual(events.map(label), ['0:1', '0:4', '1:3']);
    // After A@1: nothing held. After B@4: A@3 (partition 1) still held, so partition 1 stays before it.
    assert.deepEqual(decodeCursor(events[0].cursor, STREAM), new Map([[0, pos(1)]]));
    assert.deepEqual(decodeCursor(events[1].cursor, STREAM), new Map([[0, pos(4)]]));
    assert.deepEqual(
      decodeCursor(events[2].cursor, STREAM),
      new Map([
        [0, pos(4)],
        [1, pos(5)],
      ]),
    );
    clearInterval(keepAlive);
    await sub.return();
  });

  it('should end with an expired event when pruning overtook it while it read the log', async () => {
    const log = [row(0, 5), row(0, 6)];
    const sub = new ChangeSubscription({
      tailer: fakeTailer(new Map()).tailer,
      store: fakeStore(log),
      start: new Map([[0, pos(1)]]),
      catchUp: true,
      progressIntervalMs: null,
      prunedThrough: async () => new Map([[0, pos(3)]]),
    });
    const first = await sub.next();
    assert.equal(first.value?.kind, 'expired');
    assert.deepEqual(
      decodeCursor(first.value!.cursor, STREAM),
      new Map([[0, pos(3)]]),
      'the oldest cursor still complete',
    );
    assert.equal((await sub.next()).done, true);
    // Pruned only up to what it has: nothing missing, it reads on.
    const fine = new ChangeSubscription({
      tailer: fakeTailer(new Map()).tailer,
      store: fakeStore(log),
      start: new Map([[0, pos(3)]]),
      catchUp: true,
      progressIntervalMs: null,
      prunedThrough: async () => new Map([[0, pos(3)]]),
    });
    assert.deepEqual((await take(fine, 2)).map(label), ['0:5', '0:6']);
    await fine.return();
  });

  it('should send a progress event with the current cursor once the interval passed', async () => {
    const { tailer } = fakeTailer(new Map([[0, pos(9)]]));
    const sub = new ChangeSubscription({
      tailer,
      store: fakeStore([]),
      start: new Map([[0, pos(9)]]),
      catchUp: false,
      progressIntervalMs: 1_000,
    });
    sub.polled(Date.now());
    sub.polled(Date.now() + 1_000);
    const [p] = await take(sub, 1);
    assert.equal(p.kind, 'progress');
    assert.deepEqual(decodeCursor(p.cursor, STREAM), new Map([[0, pos(9)]]));
    await sub.return();
  });
});
