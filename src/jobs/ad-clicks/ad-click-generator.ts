import { EVENT_TIME_UNIT } from '../../domain/event-time.js';
import { AppError } from '../../errors/app-error.js';
import { DEFAULT_SAMPLE_SEED, mulberry32 } from '../../sample/sample-random.js';
import type { AdClickMalformedReason } from './ad-click-format.js';

/**
 * Deterministic generator of `ad-clicks` records for the sample producer and
 * the tests. Model: `ads` ads, the k-th picked with weight 1 / k (a few ads
 * get most clicks); `users` people, each with one IP of 10.0.0.0/8; and a
 * `robotShare` of clicks from click robots: the users {@link SAMPLE_ROBOT_USERS}
 * (each on its own IP) or any user behind the IP {@link SAMPLE_ROBOT_IP}, all
 * on the first ads (a competitor burning their budget). `npm run seed` puts
 * these robots on the blacklist. A `malformedShare` of records is broken.
 * The Kafka key is the user id. Seeded PRNG (mulberry32): the same options
 * give the same records, byte for byte, except with `clock`.
 */
export interface AdClickGeneratorOptions {
  /** PRNG seed. @default 61024 (DEFAULT_SAMPLE_SEED) */
  seed?: number;
  /** Number of ads. @default 200 */
  ads?: number;
  /** Size of the user pool. @default 20000 */
  users?: number;
  /** Share (0..1) of clicks from robots. @default 0.1 */
  robotShare?: number;
  /** Share (0..1) of malformed records. @default 0.001 */
  malformedShare?: number;
  /** Event clock start, epoch MILLISECONDS. Ignored with `clock`. @default 1767225600000 (2026-01-01T00:00:00Z) */
  startTimeMs?: number;
  /** Event-time density, records per second of event time. Ignored with `clock`. @default 1000 */
  eventsPerSecond?: number;
  /** Reads the event clock (epoch MILLISECONDS) per record instead of the synthetic clock, e.g. `Date.now`. */
  clock?: () => number;
  /** Records to yield before stopping. @default Infinity */
  count?: number;
}

/** The defaults, so callers (CLI help) can print and reuse them. */
export const AD_CLICK_GENERATOR_DEFAULTS = Object.freeze({
  seed: DEFAULT_SAMPLE_SEED,
  ads: 200,
  users: 20_000,
  robotShare: 0.1,
  malformedShare: 0.001,
  startTimeMs: 1_767_225_600_000,
  eventsPerSecond: 1000,
  count: Number.POSITIVE_INFINITY,
});

/** The sample's robot users (each clicks from its own IP, {@link SAMPLE_ROBOT_USER_IPS}). */
export const SAMPLE_ROBOT_USERS = ['bot_1', 'bot_2', 'bot_3'] as const;
/** The IPs of {@link SAMPLE_ROBOT_USERS}, in order (TEST-NET-3 addresses). */
export const SAMPLE_ROBOT_USER_IPS = ['203.0.113.11', '203.0.113.12', '203.0.113.13'] as const;
/** An IP shared by many users' robot clicks (a click farm behind one address; TEST-NET-2). */
export const SAMPLE_ROBOT_IP = '198.51.100.7';

/** One generated Kafka record. */
export interface GeneratedAdClickRecord {
  key: string | null;
  value: string;
  /** Event time meant, epoch MILLISECONDS. */
  eventTimeMs: number;
  /** null: valid; else the reason the parser must give. */
  malformed: AdClickMalformedReason | null;
  /** True for a robot's click (valid records only). */
  robot: boolean;
}

type Resolved = Required<Omit<AdClickGeneratorOptions, 'clock'>> & { clock: (() => number) | undefined };

function resolve(options: AdClickGeneratorOptions): Resolved {
  const o: Resolved = { ...AD_CLICK_GENERATOR_DEFAULTS, clock: undefined };
  for (const [k, v] of Object.entries(options)) if (v !== undefined) (o as Record<string, unknown>)[k] = v;
  const bad = (name: string, expected: string, got: unknown) =>
    new AppError('INVALID_OPTION', `ad-click generator option ${name}: expected ${expected}, got ${String(got)}`);
  if (!Number.isInteger(o.seed)) throw bad('seed', 'an integer', o.seed);
  if (!Number.isInteger(o.ads) || o.ads < 1) throw bad('ads', 'an integer >= 1', o.ads);
  if (!Number.isInteger(o.users) || o.users < 1) throw bad('users', 'an integer >= 1', o.users);
  for (const k of ['robotShare', 'malformedShare'] as const)
    if (!(o[k] >= 0 && o[k] <= 1)) throw bad(k, 'a share between 0 and 1', o[k]);
  if (!Number.isFinite(o.startTimeMs) || o.startTimeMs < 100_000_000_000)
    throw bad('startTimeMs', 'epoch MILLISECONDS after 1973-03-03', o.startTimeMs);
  if (!(o.eventsPerSecond > 0) || !Number.isFinite(o.eventsPerSecond))
    throw bad('eventsPerSecond', 'a number > 0', o.eventsPerSecond);
  if (!(o.count >= 0)) throw bad('count', 'a number >= 0', o.count);
  return o;
}

/** The ad id of index `i`: `ad` + 3 or more digits. */
const adIdOf = (i: number) => `ad${100 + i}`;
/** A user's IP: fixed per user, in 10.0.0.0/8. */
const ipOf = (user: number) => `10.${(user >> 16) & 255}.${(user >> 8) & 255}.${user & 255}`;

const MALFORMED_KINDS: readonly AdClickMalformedReason[] = [
  'bad-json',
  'missing-field',
  EVENT_TIME_UNIT,
  'bad-ip',
  'not-an-object',
  'empty-value',
];

/**
 * Yields `ad-clicks` records (see {@link AdClickGeneratorOptions} for the
 * model). Event times: `startTimeMs + floor(i * 1000 / eventsPerSecond)`, or `clock()`.
 * @throws {AppError} code `INVALID_OPTION` on an out-of-range option (at the call).
 */
export function generateAdClicks(
  options: AdClickGeneratorOptions = {},
): Generator<GeneratedAdClickRecord, void, undefined> {
  return generate(resolve(options));
}

function* generate(o: Resolved): Generator<GeneratedAdClickRecord, void, undefined> {
  const rng = mulberry32(o.seed);
  const cdf = new Float64Array(o.ads);
  let sum = 0;
  for (let k = 0; k < o.ads; k++) cdf[k] = sum += 1 / (k + 1);
  const pickAd = (): number => {
    const x = rng() * sum;
    let lo = 0;
    let hi = cdf.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cdf[mid] > x) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  };
  const msPerEvent = 1000 / o.eventsPerSecond;
  let lastClockMs = 0;
  for (let i = 0; i < o.count; i++) {
    const t = o.clock ? (lastClockMs = Math.max(lastClockMs, o.clock())) : o.startTimeMs + Math.floor(i * msPerEvent);
    let userId: string;
    let ip: string;
    let ad: number;
    const robot = rng() < o.robotShare;
    if (robot) {
      // Robots hit the first ads: a competitor's budget, not a random one.
      ad = Math.floor(rng() * Math.min(3, o.ads));
      const r = Math.floor(rng() * (SAMPLE_ROBOT_USERS.length + 1));
      if (r < SAMPLE_ROBOT_USERS.length) {
        userId = SAMPLE_ROBOT_USERS[r];
        ip = SAMPLE_ROBOT_USER_IPS[r];
      } else {
        userId = `u_${Math.floor(rng() * o.users)}`;
        ip = SAMPLE_ROBOT_IP;
      }
    } else {
      ad = pickAd();
      const user = Math.floor(rng() * o.users);
      userId = `u_${user}`;
      ip = ipOf(user);
    }
    const value = `{"event_time":${t},"ad_id":"${adIdOf(ad)}","user_id":"${userId}","ip":"${ip}"}`;
    if (rng() < o.malformedShare) {
      const kind = MALFORMED_KINDS[Math.floor(rng() * MALFORMED_KINDS.length)];
      yield {
        key: kind === 'empty-value' ? null : userId,
        value: malformedValue(kind, value, t),
        eventTimeMs: t,
        malformed: kind,
        robot: false,
      };
      continue;
    }
    yield { key: userId, value, eventTimeMs: t, malformed: null, robot };
  }
}

function malformedValue(kind: AdClickMalformedReason, valid: string, eventTimeMs: number): string {
  switch (kind) {
    case 'bad-json':
      return valid.slice(0, Math.max(1, Math.floor(valid.length / 2)));
    case 'missing-field':
      return valid.replace(/"ad_id":"[^"]*",/, '');
    case EVENT_TIME_UNIT:
      // Epoch seconds by mistake.
      return valid.replace(/"event_time":\d+/, `"event_time":${Math.floor(eventTimeMs / 1000)}`);
    case 'bad-ip':
      return valid.replace(/"ip":"[^"]*"/, '"ip":"not-an-ip"');
    case 'not-an-object':
      return `[${valid}]`;
    default:
      return '';
  }
}
