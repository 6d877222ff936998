import { EVENT_TIME_UNIT } from '../../domain/event-time.js';
import { AppError } from '../../errors/app-error.js';
import type { ProductClickMalformedReason } from './product-click-format.js';
import { DEFAULT_SAMPLE_SEED, mulberry32 } from '../../sample/sample-random.js';

/**
 * Deterministic generator of `product-clicks` records (the JSON of
 * `src/ingest/formats/product-click.ts`) for the sample producer, the
 * benchmark and the tests.
 *
 * Model: a catalogue of `products` products, each in one of a few categories
 * (a small share uncategorised); popularity is Zipf-like (the k-th most
 * popular product is picked with weight 1 / k^`zipfExponent`), with the
 * popularity order shuffled over the ids so the hottest product is not simply
 * the first id. Each record is a `click` with probability `clickShare`, else
 * another action (view, cart, favorite, purchase). Users are drawn uniformly
 * from `users`; the Kafka key is the user id (even spread over partitions).
 * A `lateShare` of records is up to `maxLatenessMs` older than the event
 * clock (so some land in earlier minutes), and a `malformedShare` is broken.
 *
 * Everything comes from seeded PRNGs (mulberry32): the same options give the
 * same records, byte for byte, except with `clock` (wall time is not seeded).
 * The catalogue (ids, categories, popularity) depends only on `seed`,
 * `products` and `uncategorizedShare`; see {@link sampleProducts}.
 */

/** Options of {@link generateProductClicks}; every one has a default. */
export interface ProductClickGeneratorOptions {
  /** PRNG seed (any 32-bit integer). @default 61024 (DEFAULT_SAMPLE_SEED, shared with the behaviour sample) */
  seed?: number;
  /** Size of the catalogue. @default 3000 */
  products?: number;
  /** Size of the user pool. @default 20000 */
  users?: number;
  /** Zipf exponent of the popularity: larger is more skewed. @default 1.1 */
  zipfExponent?: number;
  /** Share (0..1) of records that are clicks; the rest are other actions. @default 0.85 */
  clickShare?: number;
  /** Share (0..1) of products without a category (records without the field). @default 0.02 */
  uncategorizedShare?: number;
  /** Share (0..1) of records that are malformed. @default 0.001 */
  malformedShare?: number;
  /** Event clock start, epoch MILLISECONDS. Ignored with `clock`. @default 1554652800000 (2019-04-07T16:00:00Z) */
  startTimeMs?: number;
  /** Event-time density: records per second of event time. Ignored with `clock`. @default 1000 */
  eventsPerSecond?: number;
  /** Reads the event clock (epoch MILLISECONDS) per record instead of the synthetic clock, e.g. `Date.now`. Never goes back. */
  clock?: () => number;
  /** Share (0..1) of records whose event time is earlier than the clock. @default 0.01 */
  lateShare?: number;
  /** Most a late record is behind the clock, MILLISECONDS. @default 120000 (2 minutes) */
  maxLatenessMs?: number;
  /** Records to yield before stopping. @default Infinity (never stops) */
  count?: number;
}

/** The defaults, so callers (CLI help, bench) can print and reuse them. */
export const PRODUCT_CLICK_GENERATOR_DEFAULTS = Object.freeze({
  seed: DEFAULT_SAMPLE_SEED,
  products: 3000,
  users: 20_000,
  zipfExponent: 1.1,
  clickShare: 0.85,
  uncategorizedShare: 0.02,
  malformedShare: 0.001,
  startTimeMs: 1_554_652_800_000,
  eventsPerSecond: 1000,
  lateShare: 0.01,
  maxLatenessMs: 120_000,
  count: Number.POSITIVE_INFINITY,
});

/** Categories of the sample catalogue. */
export const SAMPLE_CATEGORIES = ['phone', 'laptop', 'tv', 'audio', 'camera', 'home', 'sports', 'books'] as const;

/** Other actions and their relative weights (clicks are `clickShare` of all records). */
const OTHER_ACTIONS = ['view', 'view', 'view', 'cart', 'cart', 'favorite', 'purchase'] as const;

/** One generated Kafka record. */
export interface GeneratedClickRecord {
  /** Kafka key: the user id; null for some malformed records. */
  key: string | null;
  /** Kafka value: the JSON text. */
  value: string;
  /** The record's event time in epoch MILLISECONDS (for a malformed record, the time it was meant to carry). */
  eventTimeMs: number;
  /** `null` for a valid record; otherwise the `reason` the parser must report for it. */
  malformed: ProductClickMalformedReason | null;
}

/** One product of the sample catalogue. */
export interface SampleProduct {
  productId: string;
  /** null for an uncategorised product. */
  category: string | null;
  /** 1 = the most popular. */
  popularityRank: number;
}

type Resolved = Required<Omit<ProductClickGeneratorOptions, 'clock'>> & { clock: (() => number) | undefined };

function resolve(options: ProductClickGeneratorOptions): Resolved {
  const o: Resolved = { ...PRODUCT_CLICK_GENERATOR_DEFAULTS, clock: undefined };
  for (const [k, v] of Object.entries(options)) if (v !== undefined) (o as Record<string, unknown>)[k] = v;
  const bad = (name: string, expected: string, got: unknown) =>
    new AppError('INVALID_OPTION', `product-click generator option ${name}: expected ${expected}, got ${String(got)}`);
  if (!Number.isInteger(o.seed)) throw bad('seed', 'an integer', o.seed);
  if (!Number.isInteger(o.products) || o.products < 1) throw bad('products', 'an integer >= 1', o.products);
  if (!Number.isInteger(o.users) || o.users < 1) throw bad('users', 'an integer >= 1', o.users);
  if (!(o.zipfExponent >= 0) || !Number.isFinite(o.zipfExponent))
    throw bad('zipfExponent', 'a number >= 0', o.zipfExponent);
  for (const k of ['clickShare', 'uncategorizedShare', 'malformedShare', 'lateShare'] as const) {
    if (!(o[k] >= 0 && o[k] <= 1)) throw bad(k, 'a share between 0 and 1', o[k]);
  }
  // Event times must stay valid epoch milliseconds for the parser, late ones included.
  if (!Number.isFinite(o.startTimeMs) || o.startTimeMs < 100_000_000_000 + o.maxLatenessMs) {
    throw bad('startTimeMs', `epoch MILLISECONDS after 1973-03-03 + maxLatenessMs`, o.startTimeMs);
  }
  if (!(o.eventsPerSecond > 0) || !Number.isFinite(o.eventsPerSecond))
    throw bad('eventsPerSecond', 'a number > 0', o.eventsPerSecond);
  if (!(o.maxLatenessMs >= 0)) throw bad('maxLatenessMs', 'milliseconds >= 0', o.maxLatenessMs);
  if (!(o.count >= 0)) throw bad('count', 'a number >= 0', o.count);
  return o;
}

// Separate streams so that changing e.g. malformedShare never changes the catalogue.
const CATALOGUE_STREAM = 0x27d4eb2f;

/** Product id of catalogue entry `index`: `p` + 4 or more digits, like the format's sample `p1234`. */
function productIdOf(index: number): string {
  return `p${1000 + index}`;
}

function userIdOf(index: number): string {
  return `u_${index}`;
}

function catalogue(o: Pick<Resolved, 'seed' | 'products' | 'uncategorizedShare'>): SampleProduct[] {
  const rng = mulberry32(o.seed ^ CATALOGUE_STREAM);
  const order = Array.from({ length: o.products }, (_, i) => i);
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  const products: SampleProduct[] = new Array<SampleProduct>(o.products);
  for (let i = 0; i < o.products; i++) {
    const category =
      rng() < o.uncategorizedShare ? null : SAMPLE_CATEGORIES[Math.floor(rng() * SAMPLE_CATEGORIES.length)];
    products[i] = { productId: productIdOf(i), category, popularityRank: 0 };
  }
  // order[k] is the product of popularity rank k + 1.
  order.forEach((index, k) => {
    products[index].popularityRank = k + 1;
  });
  return products;
}

/**
 * The catalogue of the sample described by `options`, sorted by popularity
 * (most popular first). Deterministic: depends only on `seed`, `products` and
 * `uncategorizedShare`.
 * @throws {AppError} code `INVALID_OPTION` on an out-of-range option.
 */
export function sampleProducts(
  options: Pick<ProductClickGeneratorOptions, 'seed' | 'products' | 'uncategorizedShare'> = {},
): SampleProduct[] {
  return catalogue(resolve(options)).sort((a, b) => a.popularityRank - b.popularityRank);
}

function malformedValue(kind: ProductClickMalformedReason, valid: string, eventTimeMs: number, r: number): string {
  switch (kind) {
    case 'bad-json':
      return r < 0.5 ? valid.slice(0, Math.max(1, Math.floor(valid.length / 2))) : valid.replace(/"/g, "'");
    case 'missing-field':
      return valid.replace(/"product_id":"[^"]*",/, '');
    case 'bad-event-time':
      // Epoch seconds by mistake, or the time as a string.
      return r < 0.5
        ? valid.replace(/"event_time":\d+/, `"event_time":${Math.floor(eventTimeMs / 1000)}`)
        : valid.replace(/"event_time":(\d+)/, '"event_time":"$1"');
    case 'not-an-object':
      return `[${valid}]`;
    default:
      return '';
  }
}

const MALFORMED_KINDS: readonly ProductClickMalformedReason[] = [
  'bad-json',
  'bad-json',
  'missing-field',
  'bad-event-time',
  'bad-event-time',
  'not-an-object',
  'empty-value',
];

/**
 * Yields `product-clicks` records (see the module comment for the model).
 * Event times follow the event clock: `startTimeMs + floor(i * 1000 / eventsPerSecond)`
 * (MILLISECONDS), or `clock()` when given; a `lateShare` of records is up to
 * `maxLatenessMs` earlier. Infinite unless `count` is set.
 * @throws {AppError} code `INVALID_OPTION` on an out-of-range option (at the call, not at the first pull).
 */
export function generateProductClicks(
  options: ProductClickGeneratorOptions = {},
): Generator<GeneratedClickRecord, void, undefined> {
  return generate(resolve(options));
}

function* generate(o: Resolved): Generator<GeneratedClickRecord, void, undefined> {
  const rng = mulberry32(o.seed);
  const products = catalogue(o);
  const byRank = [...products].sort((a, b) => a.popularityRank - b.popularityRank);
  // Cumulative Zipf weights by popularity rank; sampled by binary search.
  const cdf = new Float64Array(byRank.length);
  let sum = 0;
  for (let k = 0; k < byRank.length; k++) cdf[k] = sum += 1 / Math.pow(k + 1, o.zipfExponent);
  const pickProduct = (): SampleProduct => {
    const x = rng() * sum;
    let lo = 0;
    let hi = cdf.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cdf[mid] > x) hi = mid;
      else lo = mid + 1;
    }
    return byRank[lo];
  };

  const msPerEvent = 1000 / o.eventsPerSecond;
  const clock = o.clock;
  let lastClockMs = 0;
  for (let i = 0; i < o.count; i++) {
    const clockMs = clock ? (lastClockMs = Math.max(lastClockMs, clock())) : o.startTimeMs + Math.floor(i * msPerEvent);
    let t = clockMs;
    if (rng() < o.lateShare) t = clockMs - 1 - Math.floor(rng() * o.maxLatenessMs);
    const product = pickProduct();
    const userId = userIdOf(Math.floor(rng() * o.users));
    const action = rng() < o.clickShare ? 'click' : OTHER_ACTIONS[Math.floor(rng() * OTHER_ACTIONS.length)];
    // The field order of the format's example, built by hand: every piece is a known-safe
    // string, and formatProductClick's validation would double the cost per record.
    const category = product.category === null ? '' : `,"category":"${product.category}"`;
    const value = `{"event_time":${t},"product_id":"${product.productId}","action":"${action}","user_id":"${userId}"${category}}`;
    if (rng() < o.malformedShare) {
      const kind = MALFORMED_KINDS[Math.floor(rng() * MALFORMED_KINDS.length)];
      const r = rng();
      yield {
        key: kind === 'empty-value' ? null : userId,
        value: malformedValue(kind, value, t, r),
        eventTimeMs: t,
        // Epoch seconds by mistake is a unit of its own for the parser.
        malformed: kind === 'bad-event-time' && r < 0.5 ? EVENT_TIME_UNIT : kind,
      };
      continue;
    }
    yield { key: userId, value, eventTimeMs: t, malformed: null };
  }
}
