import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MalformedRecordError } from '../../src/errors/malformed-record-error.js';
import { parseUserBehavior, UserBehaviorField } from '../../src/jobs/user-behavior/user-behavior-format.js';
import {
  generateUserBehavior,
  sampleUsers,
  sampleVipUids,
  samplePhone,
  type GeneratedRecord,
  type UserBehaviorGeneratorOptions,
} from '../../src/jobs/user-behavior/user-behavior-generator.js';

// Small pool, many records: every user is picked hundreds of times, so every
// abnormal user bursts and every normal user is pushed against the cap.
const OPTIONS: UserBehaviorGeneratorOptions = {
  seed: 7,
  users: 500,
  abnormalShare: 0.1,
  vipShare: 0.4,
  malformedShare: 0.01,
  eventsPerSecond: 1000,
  count: 200_000,
};

const records: GeneratedRecord[] = [...generateUserBehavior(OPTIONS)];
const users = sampleUsers(OPTIONS);

/** enterOrderPage times (ms) per uid, from parsing the valid lines. */
function orderPageTimes(rs: readonly GeneratedRecord[]): Map<string, number[]> {
  const byUid = new Map<string, number[]>();
  for (const r of rs) {
    if (r.malformed) continue;
    const e = parseUserBehavior(r.value);
    if (e.eventKey !== 'enterOrderPage') continue;
    const list = byUid.get(e.uid) ?? [];
    list.push(e.eventTimeMs);
    byUid.set(e.uid, list);
  }
  for (const list of byUid.values()) list.sort((a, b) => a - b);
  return byUid;
}

/** Smallest span (ms) holding 3 of the sorted times, Infinity when there are fewer than 3. */
function tightestTriple(sorted: readonly number[]): number {
  let best = Number.POSITIVE_INFINITY;
  for (let i = 0; i + 2 < sorted.length; i++) best = Math.min(best, sorted[i + 2] - sorted[i]);
  return best;
}

describe('generateUserBehavior', () => {
  it('should yield exactly count records', () => {
    assert.equal(records.length, 200_000);
    assert.equal([...generateUserBehavior({ count: 0 })].length, 0);
  });

  it('should give the same records for the same seed and other records for another seed', () => {
    const again = [...generateUserBehavior({ ...OPTIONS, count: 20_000 })];
    assert.deepEqual(again, records.slice(0, 20_000));
    const other = [...generateUserBehavior({ ...OPTIONS, seed: 8, count: 20_000 })];
    assert.notDeepEqual(other, again);
  });

  it('should produce lines that all parse unless marked malformed, with key = uid and the announced event time', () => {
    let valid = 0;
    for (const r of records) {
      if (r.malformed) continue;
      const e = parseUserBehavior(r.value);
      assert.equal(r.key, e.uid);
      assert.equal(r.eventTimeMs, e.eventTimeMs);
      valid++;
    }
    assert.ok(valid > 190_000);
  });

  it('should produce malformed lines the parser rejects with the announced reason, of several kinds', () => {
    const kinds = new Set<string>();
    for (const r of records) {
      if (!r.malformed) continue;
      assert.throws(
        () => parseUserBehavior(r.value),
        (err: unknown) => err instanceof MalformedRecordError && err.reason === r.malformed,
      );
      if (r.malformed === 'empty-uid') assert.equal(r.key, null);
      kinds.add(r.malformed);
    }
    for (const k of ['field-count', 'bad-event-time', 'empty-uid'])
      assert.ok(kinds.has(k), `no ${k} line among ${[...kinds].join(', ')}`);
    assert.ok(kinds.size >= 5);
  });

  it('should make roughly malformedShare of the records malformed', () => {
    const share = records.filter((r) => r.malformed).length / records.length;
    assert.ok(share > 0.008 && share < 0.012, `malformed share ${share}`);
    const none = [...generateUserBehavior({ ...OPTIONS, malformedShare: 0, count: 20_000 })];
    assert.equal(none.filter((r) => r.malformed).length, 0);
  });

  it('should give every abnormal user a burst of at least 3 enterOrderPage events within 20 s', () => {
    const times = orderPageTimes(records);
    assert.equal(users.abnormalUids.length, 50);
    for (const uid of users.abnormalUids) {
      const span = tightestTriple(times.get(uid) ?? []);
      assert.ok(span <= 20_000, `abnormal user ${uid}: tightest 3 enterOrderPage span ${span} ms`);
    }
  });

  it('should keep every normal user at 2 or fewer enterOrderPage events within any 60 s', () => {
    const times = orderPageTimes(records);
    const abnormal = new Set(users.abnormalUids);
    let normalWithOrders = 0;
    for (const [uid, list] of times) {
      if (abnormal.has(uid)) continue;
      if (list.length >= 3) normalWithOrders++;
      assert.ok(
        tightestTriple(list) > 60_000,
        `normal user ${uid} has 3 enterOrderPage within ${tightestTriple(list)} ms`,
      );
    }
    // Otherwise the check above would prove nothing.
    assert.ok(normalWithOrders > 100, `only ${normalWithOrders} normal users have 3+ enterOrderPage events`);
  });

  it('should advance event time with the clock, a few records up to 3 s late', () => {
    let maxSeen = 0;
    let late = 0;
    for (const r of records) {
      if (r.eventTimeMs < maxSeen) {
        late++;
        // 3 s of lateness plus the cut to whole seconds.
        assert.ok(maxSeen - r.eventTimeMs < 4_000, `record ${maxSeen - r.eventTimeMs} ms behind`);
      }
      maxSeen = Math.max(maxSeen, r.eventTimeMs);
    }
    assert.ok(late > 0 && late < records.length * 0.1, `${late} late records`);
    // The clock starts at the default startTimeMs, the sample line's time.
    assert.ok(records[0].eventTimeMs <= 1_554_652_800_000 && records[0].eventTimeMs > 1_554_652_800_000 - 4_000);
    // 200 000 records at 1000 per second of event time = 200 s.
    assert.ok(Math.abs(maxSeen - (1_554_652_800_000 + 200_000)) <= 1_000, `last event time ${maxSeen}`);
  });

  it('should follow the given clock instead of the synthetic one', () => {
    let now = 1_700_000_000_000;
    const got: number[] = [];
    for (const r of generateUserBehavior({ ...OPTIONS, count: 2_000, clock: () => (now += 10) }))
      got.push(r.eventTimeMs);
    assert.ok(
      got.every((t) => t > 1_700_000_000_000 - 4_000 && t <= now),
      'event time outside the clock',
    );
    // 2 000 readings of a clock that moves 10 ms per reading span 20 s.
    assert.ok(Math.max(...got) >= 1_700_000_000_000 + 15_000, `latest event time ${Math.max(...got)}`);
  });

  it('should fill users with realistic carried fields and the phone derived from the uid', () => {
    const seen = {
      gender: new Set<string>(),
      os: new Set<string>(),
      channel: new Set<string>(),
      network: new Set<string>(),
    };
    for (const r of records.slice(0, 5_000)) {
      if (r.malformed) continue;
      const f = parseUserBehavior(r.value).fields;
      seen.gender.add(f[UserBehaviorField.gender]);
      seen.os.add(f[UserBehaviorField.os]);
      seen.channel.add(f[UserBehaviorField.channel]);
      seen.network.add(f[UserBehaviorField.network]);
      assert.equal(f[UserBehaviorField.phone], samplePhone(f[UserBehaviorField.uid]));
      assert.equal(f[UserBehaviorField.deviceId], f[UserBehaviorField.uid]);
      assert.match(f[UserBehaviorField.ip], /^\d{1,3}\.\d{1,3}\.\d{1,3}\.0$/);
    }
    assert.deepEqual([...seen.gender].sort(), ['F', 'M']);
    assert.deepEqual([...seen.os].sort(), ['android', 'ios']);
    assert.deepEqual([...seen.network].sort(), ['4g', '5g', 'wifi']);
    assert.deepEqual([...seen.channel].sort(), ['appstore', 'baidu', 'huawei', 'toutiao', 'weixin', 'xiaomi']);
    assert.equal(samplePhone('61024'), '18701461024');
  });

  it('should reject an out-of-range option at the call', () => {
    assert.throws(() => generateUserBehavior({ abnormalShare: 1.5 }), { code: 'INVALID_OPTION' });
    assert.throws(() => generateUserBehavior({ users: 0 }), { code: 'INVALID_OPTION' });
    assert.throws(() => generateUserBehavior({ eventsPerSecond: 0 }), { code: 'INVALID_OPTION' });
  });
});

describe('sampleUsers and sampleVipUids', () => {
  it('should pick round(users * abnormalShare) abnormal users and round(abnormal * vipShare) of them as VIPs', () => {
    assert.equal(users.uids.length, 500);
    assert.equal(users.abnormalUids.length, 50);
    assert.equal(users.abnormalVipUids.length, 20);
    const abnormal = new Set(users.abnormalUids);
    assert.ok(users.abnormalVipUids.every((u) => abnormal.has(u)));
    const defaults = sampleUsers();
    assert.equal(defaults.uids.length, 5000);
    assert.equal(defaults.abnormalUids.length, 250);
    assert.equal(defaults.abnormalVipUids.length, 75);
  });

  it('should list as VIPs the abnormal VIPs plus a few normal users, sorted by uid', () => {
    const vips = sampleVipUids(OPTIONS);
    const abnormal = new Set(users.abnormalUids);
    assert.deepEqual(vips, users.vipUids);
    assert.ok(users.abnormalVipUids.every((u) => vips.includes(u)));
    assert.equal(vips.filter((u) => !abnormal.has(u)).length, Math.round(450 * 0.01));
    assert.deepEqual(
      vips,
      [...vips].sort((a, b) => Number(a) - Number(b)),
    );
  });

  it('should be deterministic and depend only on the user options', () => {
    assert.deepEqual(sampleVipUids(OPTIONS), sampleVipUids({ ...OPTIONS }));
    // Options that shape the records, not the users, must not move the VIP set.
    const recordOptions: UserBehaviorGeneratorOptions = {
      ...OPTIONS,
      malformedShare: 0.5,
      eventsPerSecond: 5,
      count: 1,
    };
    assert.deepEqual(sampleVipUids(recordOptions), sampleVipUids(OPTIONS));
    assert.notDeepEqual(sampleVipUids({ ...OPTIONS, seed: 8 }), sampleVipUids(OPTIONS));
  });

  it('should make exactly the abnormal users cross the threshold of 3 enterOrderPage in 60 s', () => {
    const crossing = [...orderPageTimes(records)]
      .filter(([, list]) => tightestTriple(list) < 60_000)
      .map(([uid]) => uid);
    assert.deepEqual(
      crossing.sort((a, b) => Number(a) - Number(b)),
      users.abnormalUids,
    );
  });
});

describe('generateUserBehavior orderPageShare', () => {
  // Many users, few records each: the plain model rarely reaches the cap of 2 per 60 s.
  const few = { ...OPTIONS, users: 20_000, count: 50_000 };
  const dense = { ...few, orderPageShare: 0.8 };
  const denseRecords = [...generateUserBehavior(dense)];

  it('should leave the records unchanged at 0 and make many more enterOrderPage records above it', () => {
    const plain = [...generateUserBehavior(few)];
    assert.deepEqual([...generateUserBehavior({ ...few, orderPageShare: 0 })], plain);
    const orders = (rs: GeneratedRecord[]) => [...orderPageTimes(rs).values()].reduce((n, l) => n + l.length, 0);
    assert.ok(orders(denseRecords) > 3 * orders(plain), `${orders(denseRecords)} vs ${orders(plain)}`);
  });

  it('should still keep every normal user at 2 or fewer enterOrderPage events within any 60 s', () => {
    const abnormal = new Set(sampleUsers(dense).abnormalUids);
    for (const [uid, list] of orderPageTimes(denseRecords)) {
      if (abnormal.has(uid)) continue;
      for (let i = 2; i < list.length; i++) assert.ok(list[i] - list[i - 2] > 60_000, `normal user ${uid}`);
    }
  });
});
