import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { adMinuteKeys, groupAdClicks } from '../../src/jobs/ad-clicks/ad-click-aggregation.js';
import { parseAdClick } from '../../src/jobs/ad-clicks/ad-click-format.js';
import { generateAdClicks, SAMPLE_ROBOT_IP, SAMPLE_ROBOT_USERS } from '../../src/jobs/ad-clicks/ad-click-generator.js';
import { MalformedRecordError } from '../../src/errors/malformed-record-error.js';

const M = Date.UTC(2026, 0, 1, 12);
const click = (adId: string, atMs: number, userId = 'u1', ip = '10.0.0.1') => ({ eventTimeMs: atMs, adId, userId, ip });

describe('groupAdClicks', () => {
  it('should count clicks per (ad, minute, user, ip), sorted by ad, minute, user, ip', () => {
    const groups = groupAdClicks([
      click('b', M + 59_999),
      click('a', M + 60_000),
      click('a', M),
      click('b', M),
      click('a', M + 1, 'u0'),
      click('a', M + 2),
    ]);
    assert.deepEqual(
      groups.map((g) => [g.adId, g.minuteMs - M, g.userId, g.clicks]),
      [
        ['a', 0, 'u0', 1],
        ['a', 0, 'u1', 2],
        ['a', 60_000, 'u1', 1],
        ['b', 0, 'u1', 2],
      ],
    );
    assert.deepEqual(adMinuteKeys(groups), [`a|${M}`, `a|${M + 60_000}`, `b|${M}`]);
    assert.deepEqual(groupAdClicks([]), []);
  });
});

describe('generateAdClicks', () => {
  it('should be deterministic, parse as it says, and carry robots', () => {
    const a = [...generateAdClicks({ count: 2_000, seed: 7, malformedShare: 0.02 })];
    const b = [...generateAdClicks({ count: 2_000, seed: 7, malformedShare: 0.02 })];
    assert.deepEqual(a, b);
    let robots = 0;
    for (const r of a) {
      if (r.malformed === null) {
        const e = parseAdClick(r.value);
        if (r.robot) {
          robots++;
          assert.ok(SAMPLE_ROBOT_USERS.includes(e.userId as never) || e.ip === SAMPLE_ROBOT_IP);
        }
      } else {
        assert.throws(
          () => parseAdClick(r.value),
          (err: MalformedRecordError) => err.reason === r.malformed,
        );
      }
    }
    assert.ok(robots > 100 && robots < 300, `${robots} robot clicks of 2,000`);
  });
});
