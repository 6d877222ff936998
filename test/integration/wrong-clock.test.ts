// Records with a wrong clock must not stop a job, against the real services:
// on every partition of each job's topic, ahead of a known-answer stream,
// records whose event time is a year ahead of their Kafka timestamp (a device
// clock that is off) and records whose time is in the wrong unit
// (milliseconds where the format has seconds; seconds or microseconds where
// it has milliseconds). All four jobs, one worker: each must give exactly the
// results of the stream without them, dead-letter the bad records with
// reasons `event-time-ahead` and `event-time-unit`, count the ones ahead per
// partition, and do the same when killed with SIGKILL in the middle (a replay
// decides the same).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { deadLetterTopic } from '../../src/config/topics.js';
import { formatRecharge } from '../../src/jobs/recharge-metrics/recharge-format.js';
import { formatUserBehavior } from '../../src/jobs/user-behavior/user-behavior-format.js';
import { ZonedCalendar } from '../../src/domain/zoned-calendar.js';
import { JobSet, type FaultJob, type FeedRecord } from '../helpers/fault-streams.js';
import { hotProductsJob } from '../../src/jobs/hot-products/testing.js';
import { rechargeMetricsJob } from '../../src/jobs/recharge-metrics/testing.js';
import { dailyActiveUsersJob } from '../../src/jobs/daily-active-users/testing.js';
import { abnormalOrdersJob } from '../../src/jobs/abnormal-orders/testing.js';
import { latestOffsets, runToEnd, sumOffsets, TestRuns } from '../helpers/job-runs.js';
import { sumOffsetColumn, withoutOffsets } from '../helpers/job-snapshots.js';
import { produce, readTopic, waitFor } from '../helpers/services.js';

const GOOD = 4_000;
const YEAR_MS = 365 * 86_400_000;
const calendar = new ZonedCalendar('Asia/Shanghai');
/** Event times a year ahead of when the records are produced (their Kafka timestamp). */
const AHEAD_MS = Date.now() + YEAR_MS;

/** A valid behaviour line of `uid` at `eventTimeSec` (epoch SECONDS), or with the time field replaced by `rawTime`. */
const behaviourLine = (uid: string, eventTimeSec: number, rawTime?: string) => {
  const line = formatUserBehavior({ uid, phone: '18701461024', eventKey: 'enterOrderPage', eventTimeSec });
  return rawTime === undefined ? line : line.replace(/\t\d+$/, `\t${rawTime}`);
};

/** The bad records of each job's topic, on every partition: [records, how many are ahead]. */
function badRecords(job: FaultJob['name']): { records: FeedRecord[]; ahead: number; unit: number } {
  const records: FeedRecord[] = [];
  let ahead = 0;
  let unit = 0;
  for (let p = 0; p < 3; p++) {
    if (job === 'abnormal-orders' || job === 'daily-active-users') {
      for (let i = 0; i < 4; i++) {
        records.push({
          key: `clock-${p}-${i}`,
          value: behaviourLine(`clock-${p}-${i}`, Math.floor(AHEAD_MS / 1000)),
          partition: p,
        });
        ahead++;
      }
      records.push({
        key: `unit-${p}`,
        value: behaviourLine(`unit-${p}`, 1_767_225_600, String(Date.now())),
        partition: p,
      });
      unit++;
    } else if (job === 'hot-products') {
      const click = (t: number, i: number) =>
        JSON.stringify({ event_time: t, product_id: `clock-p${i}`, action: 'click', user_id: `u-${p}` });
      for (let i = 0; i < 4; i++) {
        records.push({ key: `u-${p}`, value: click(AHEAD_MS, i), partition: p });
        ahead++;
      }
      records.push({ key: `u-${p}`, value: click(Math.floor(Date.now() / 1000), 9), partition: p });
      records.push({ key: `u-${p}`, value: click(Date.now() * 1000, 9), partition: p });
      unit += 2;
    } else {
      for (let i = 0; i < 4; i++) {
        const orderId = `9${p}${i}000000000000000`;
        records.push({
          key: orderId,
          value: formatRecharge(
            { orderId, cityCode: '440100', chargefee: '500', notifyTimeMs: AHEAD_MS, requestTimeMs: AHEAD_MS - 30_000 },
            calendar,
          ),
          partition: p,
        });
        ahead++;
      }
    }
  }
  return { records, ahead, unit };
}

describe('records with a wrong clock', () => {
  const runs = new TestRuns();
  const abnormal = abnormalOrdersJob(GOOD, 7171);
  const clean: FaultJob[] = [
    abnormal,
    dailyActiveUsersJob(abnormal),
    rechargeMetricsJob(GOOD, 7272),
    hotProductsJob(GOOD, 7373),
  ];
  const bad = Object.fromEntries(clean.map((j) => [j.name, badRecords(j.name)]));
  // The behaviour topic is shared by abnormal-orders and daily-active-users: its bad records once.
  const dirty: FaultJob[] = clean.map((j) => ({
    ...j,
    feed: [...(j.name === 'daily-active-users' ? [] : bad[j.name].records), ...j.feed],
  }));
  dirty[1] = { ...dirty[1], feed: dirty[0].feed };
  let reference: Record<string, unknown>;
  let dirtyRun: Record<string, unknown>;
  let killedRun: Record<string, unknown>;
  let dlq: Awaited<ReturnType<typeof readTopic>>[] = [];

  const start = (s: JobSet, dbUrl: string, extra: Record<string, string> = {}) =>
    runs.start({ DATABASE_URL: dbUrl, ROLES: 'worker', RECHARGE_DEDUP_HORIZON_DAYS: '3650', ...s.env(), ...extra });

  /** Topics for `jobs` (the two behaviour jobs share one), filled with their feeds. */
  async function topicsFor(jobs: FaultJob[]): Promise<string[]> {
    const behaviour = (await runs.createTopic('user-behavior')).topic;
    const recharge = (await runs.createTopic('recharge')).topic;
    const clicks = (await runs.createTopic('product-clicks')).topic;
    await Promise.all([
      produce(behaviour, jobs[0].feed),
      produce(recharge, jobs[2].feed),
      produce(clicks, jobs[3].feed),
    ]);
    return [behaviour, behaviour, recharge, clicks];
  }

  async function runSet(jobs: FaultJob[], topics: string[], kills: number[] = []): Promise<Record<string, unknown>> {
    const set = new JobSet(jobs, topics).setLatest(await Promise.all(topics.map((t) => latestOffsets(t))));
    const db = await runs.freshDb(abnormal.vips);
    for (const share of kills) {
      const p = await start(set, db.url, { TRANSACTION_MAX_RECORDS: '1000' });
      await waitFor(
        `progress past ${share * 100}%`,
        async () => (await set.progress(db.url)).consumed >= share * set.records,
        120_000,
        20,
      );
      await p.kill('SIGKILL');
    }
    await runToEnd(
      'the run to finish',
      () => start(set, db.url),
      () => set.progress(db.url),
      180_000,
    );
    return set.snapshot(db.url);
  }

  before(async () => {
    reference = await runSet(clean, await topicsFor(clean));
    const topics = await topicsFor(dirty);
    dirtyRun = await runSet(dirty, topics);
    dlq = await Promise.all(
      [topics[0], topics[2], topics[3]].map(async (t) => {
        const topic = deadLetterTopic(t);
        return readTopic(topic, sumOffsets(await latestOffsets(topic)), 60_000);
      }),
    );
    killedRun = await runSet(dirty, await topicsFor(dirty), [0.4]);
  });

  after(() => runs.cleanup());

  it('gives every job exactly the results of the stream without the bad records', () => {
    const ref = withoutOffsets(reference) as Record<string, Record<string, unknown[]>>;
    assert.ok(ref['abnormal-orders'].rows.length > 10, `${ref['abnormal-orders'].rows.length} users flagged`);
    assert.ok(ref['recharge-metrics'].daily.length > 10);
    assert.deepEqual(withoutOffsets(dirtyRun), withoutOffsets(reference));
  });

  it('counts the records ahead per partition, and every bad record as dead-lettered', () => {
    const ahead = sumOffsetColumn(dirtyRun, 'event_time_ahead');
    const deadBefore = sumOffsetColumn(reference, 'dead_lettered');
    const deadAfter = sumOffsetColumn(dirtyRun, 'dead_lettered');
    for (const j of clean) {
      const b = j.name === 'daily-active-users' ? bad['abnormal-orders'] : bad[j.name];
      assert.equal(ahead[j.name], b.ahead, `${j.name}: event_time_ahead`);
      assert.equal(deadAfter[j.name], deadBefore[j.name] + b.ahead + b.unit, `${j.name}: dead_lettered`);
    }
  });

  it('puts the bad records in the dead-letter topics with their reasons', () => {
    // The bad records lead each partition: their source offsets are below the number of them per partition.
    const reasons = (records: (typeof dlq)[number], perPartition: number) => {
      const count = new Map<string, number>();
      for (const r of records) {
        if (Number(r.headers['dlq.source.offset']) >= perPartition) continue;
        const reason = r.headers['dlq.reason'] ?? '';
        count.set(reason, (count.get(reason) ?? 0) + 1);
      }
      return count;
    };
    const perPartition = (job: FaultJob['name']) => bad[job].records.length / 3;
    const behaviour = reasons(dlq[0], perPartition('abnormal-orders'));
    const recharge = reasons(dlq[1], perPartition('recharge-metrics'));
    const clicks = reasons(dlq[2], perPartition('hot-products'));
    // Two jobs read the behaviour topic and share its dead-letter topic.
    assert.equal(behaviour.get('event-time-ahead'), 2 * bad['abnormal-orders'].ahead);
    assert.equal(behaviour.get('event-time-unit'), 2 * bad['abnormal-orders'].unit);
    assert.equal(recharge.get('event-time-ahead'), bad['recharge-metrics'].ahead);
    assert.equal(clicks.get('event-time-ahead'), bad['hot-products'].ahead);
    assert.equal(clicks.get('event-time-unit'), bad['hot-products'].unit);
    const detail = dlq[1].find((r) => r.headers['dlq.reason'] === 'event-time-ahead')?.headers['dlq.detail'] ?? '';
    assert.match(
      detail,
      /ahead of the record's Kafka timestamp .* \(at most 60000 ms allowed, MAX_EVENT_TIME_AHEAD_MS\)/,
    );
  });

  it('ends with the same results and counters after a SIGKILL in the middle', () => {
    assert.deepEqual(withoutOffsets(killedRun), withoutOffsets(reference));
    assert.deepEqual(sumOffsetColumn(killedRun, 'event_time_ahead'), sumOffsetColumn(dirtyRun, 'event_time_ahead'));
    assert.deepEqual(sumOffsetColumn(killedRun, 'dead_lettered'), sumOffsetColumn(dirtyRun, 'dead_lettered'));
  });
});
