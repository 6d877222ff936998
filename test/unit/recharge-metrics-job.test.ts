import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatRecharge } from '../../src/jobs/recharge-metrics/recharge-format.js';
import type { SourceRecord } from '../../src/engine/job.js';
import { createRechargeMetricsJob } from '../../src/jobs/recharge-metrics/recharge-metrics-job.js';
import { GUANGDONG_CITIES } from '../../src/jobs/recharge-metrics/guangdong-cities.js';
import type { RechargeMetricsStore } from '../../src/jobs/recharge-metrics/recharge-metrics-store.js';
import type { RechargeServingCache } from '../../src/jobs/recharge-metrics/recharge-serving-cache.js';
import { ZonedCalendar } from '../../src/domain/zoned-calendar.js';
import type { RechargeServingState } from '../../src/jobs/recharge-metrics/recharge-serving-state.js';

const calendar = new ZonedCalendar('Asia/Shanghai');
const T = Date.UTC(2026, 0, 1, 4);

/**
 * The job with a city list in place of the database (only `loadCities` is called before a batch reaches `write`),
 * a wall clock one day after the stream and a de-duplication horizon of `horizonDays`.
 */
function job(horizonDays = 7) {
  const store = {
    loadCities: async () => GUANGDONG_CITIES.map((c) => ({ ...c, provinceCode: '440000' })),
    pruneOrders: async () => ({ deleted: 0, statements: 1 }),
  } as unknown as RechargeMetricsStore;
  const cache = { distrustIfAhead: async () => false } as unknown as RechargeServingCache;
  return createRechargeMetricsJob({
    groupId: 'g',
    topic: 't',
    calendar,
    graceMs: 5_000,
    store,
    cache,
    // eslint-disable-next-line @typescript-eslint/no-unsafe-class-instance-assignment -- these cases never reach the serving state
    state: {} as RechargeServingState,
    publish: () => undefined,
    dedupHorizonMs: horizonDays * 86_400_000,
    pruneIntervalMs: 600_000,
    now: () => T + 86_400_000,
  });
}

const rec = (offset: number, value: string): SourceRecord => ({
  offset: BigInt(offset),
  key: null,
  value: Buffer.from(value),
  timestampMs: 0,
});
const order = (orderId: string, serviceName?: string, cityCode = '440100') =>
  formatRecharge(
    { orderId, cityCode, chargefee: '10', requestTimeMs: T - 1_000, notifyTimeMs: T, serviceName },
    calendar,
  );

describe('recharge-metrics partition processor', () => {
  it('should refuse to build a processor before the city codes are loaded', () => {
    assert.throws(
      () => job().createProcessor({ partition: 0, nextOffset: 0n, replayFrom: 0n, watermarkMs: null, nowMs: 0 }),
      /city codes/,
    );
  });

  it('should skip other services, dead-letter malformed records with their reason, and move the offset past all of them', async () => {
    const j = job();
    await j.prepare!();
    const p = j.createProcessor({ partition: 0, nextOffset: 10n, replayFrom: 10n, watermarkMs: null, nowMs: 0 });
    const result = p.process(
      [
        rec(9, order('old')), // already committed: ignored
        rec(10, order('A')),
        rec(11, order('S', 'sendRechargeReq')),
        rec(12, order('U', undefined, '449999')),
        rec(13, order('B', 'payNotifyReq')),
      ],
      0,
    );
    assert.equal(result.records, 4);
    assert.deepEqual(
      result.deadLetters.map((d) => [d.record.offset, d.reason]),
      [[12n, 'unknown-city']],
    );
    assert.equal(typeof result.write, 'function', 'the notify record is aggregated');
    assert.deepEqual(p.position(), { nextOffset: 14n, replayFrom: 14n, watermarkMs: T - 5_000 });
  });

  it('should write nothing for a batch of skipped records, yet advance the offset', async () => {
    const j = job();
    await j.prepare!();
    const p = j.createProcessor({ partition: 1, nextOffset: 0n, replayFrom: 0n, watermarkMs: null, nowMs: 0 });
    const result = p.process([rec(0, order('S', 'sendRechargeReq'))], 0);
    assert.equal(result.write, undefined);
    assert.deepEqual(p.position(), { nextOffset: 1n, replayFrom: 1n, watermarkMs: null });
  });

  it('should dead-letter a record whose notify time is beyond the de-duplication horizon, with its own reason (counted by the runner)', async () => {
    // The wall clock is one day after T: a half-day horizon puts T beyond it.
    const j = job(0.5);
    await j.prepare!();
    const p = j.createProcessor({ partition: 2, nextOffset: 0n, replayFrom: 0n, watermarkMs: null, nowMs: 0 });
    const result = p.process([rec(0, order('OLD1')), rec(1, order('OLD2')), rec(2, order('S', 'sendRechargeReq'))], 0);
    assert.deepEqual(
      result.deadLetters.map((d) => [d.record.offset, d.reason]),
      [
        [0n, 'beyond-dedup-horizon'],
        [1n, 'beyond-dedup-horizon'],
      ],
    );
    assert.match(result.deadLetters[0].detail, /OLD1/);
    assert.equal(result.write, undefined, 'no order to aggregate');
    assert.deepEqual(p.position(), { nextOffset: 3n, replayFrom: 3n, watermarkMs: null });
  });

  it('should count a record inside the horizon as usual', async () => {
    const j = job(2);
    await j.prepare!();
    const p = j.createProcessor({ partition: 0, nextOffset: 0n, replayFrom: 0n, watermarkMs: null, nowMs: 0 });
    const result = p.process([rec(0, order('NEW'))], 0);
    assert.deepEqual(result.deadLetters, []);
    assert.equal(typeof result.write, 'function');
  });
});
