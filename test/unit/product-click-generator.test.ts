import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MalformedRecordError } from '../../src/errors/malformed-record-error.js';
import { parseProductClick } from '../../src/jobs/hot-products/product-click-format.js';
import {
  generateProductClicks,
  SAMPLE_CATEGORIES,
  sampleProducts,
} from '../../src/jobs/hot-products/product-click-generator.js';

const OPTIONS = {
  seed: 7,
  products: 500,
  count: 20_000,
  startTimeMs: Date.UTC(2026, 0, 1),
  eventsPerSecond: 100,
  malformedShare: 0.01,
};

describe('generateProductClicks', () => {
  it('should give the same records for the same options', () => {
    assert.deepEqual(
      [...generateProductClicks({ ...OPTIONS, count: 500 })],
      [...generateProductClicks({ ...OPTIONS, count: 500 })],
    );
  });

  it('should produce records the parser accepts, and malformed ones it rejects with the announced reason', () => {
    let malformed = 0;
    for (const r of generateProductClicks(OPTIONS)) {
      if (r.malformed === null) {
        const e = parseProductClick(r.value);
        assert.equal(e.eventTimeMs, r.eventTimeMs);
        continue;
      }
      malformed++;
      assert.throws(
        () => parseProductClick(r.value),
        (err: unknown) => err instanceof MalformedRecordError && err.reason === r.malformed,
        r.value,
      );
    }
    assert.ok(malformed > 100 && malformed < 300, `${malformed} malformed of 20,000 at 1%`);
  });

  it('should skew popularity: the most popular product gets far more clicks than the median one', () => {
    const clicks = new Map<string, number>();
    for (const r of generateProductClicks(OPTIONS)) {
      if (r.malformed) continue;
      const e = parseProductClick(r.value);
      if (e.action === 'click') clicks.set(e.productId, (clicks.get(e.productId) ?? 0) + 1);
    }
    const catalogue = sampleProducts(OPTIONS);
    const top = clicks.get(catalogue[0].productId) ?? 0;
    const median = clicks.get(catalogue[250].productId) ?? 0;
    assert.ok(top > 50 * Math.max(1, median), `top ${top}, median ${median}`);
  });

  it('should make most records clicks and some other actions, in the sample categories', () => {
    const actions = new Map<string, number>();
    const categories = new Set<string | null>();
    for (const r of generateProductClicks({ ...OPTIONS, malformedShare: 0 })) {
      const e = parseProductClick(r.value);
      actions.set(e.action, (actions.get(e.action) ?? 0) + 1);
      categories.add(e.category);
    }
    const clicks = actions.get('click') ?? 0;
    assert.ok(clicks > 0.8 * OPTIONS.count && clicks < 0.9 * OPTIONS.count, `${clicks} clicks`);
    assert.ok(actions.size >= 4, `actions ${[...actions.keys()].join(',')}`);
    for (const c of categories)
      assert.ok(c === null || (SAMPLE_CATEGORIES as readonly string[]).includes(c), String(c));
  });

  it('should follow the synthetic event clock, with a few late records up to maxLatenessMs behind it', () => {
    let late = 0;
    let i = 0;
    for (const r of generateProductClicks({ ...OPTIONS, malformedShare: 0, lateShare: 0.05, maxLatenessMs: 120_000 })) {
      const clock = OPTIONS.startTimeMs + Math.floor((i++ * 1000) / OPTIONS.eventsPerSecond);
      assert.ok(r.eventTimeMs <= clock && r.eventTimeMs >= clock - 120_000);
      if (r.eventTimeMs < clock) late++;
    }
    assert.ok(late > 500 && late < 1500, `${late} late`);
  });

  it('should refuse an out-of-range option naming it', () => {
    assert.throws(() => generateProductClicks({ clickShare: 2 }), /clickShare/);
  });
});
