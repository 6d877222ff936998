import { DEFAULT_SAMPLE_SEED, mulberry32 } from '../../sample/sample-random.js';
import { EVENT_TIME_UNIT } from '../../domain/event-time.js';
import { AppError } from '../../errors/app-error.js';
import {
  formatUserBehavior,
  USER_BEHAVIOR_FIELD_COUNT,
  UserBehaviorField,
  type UserBehaviorMalformedReason,
} from './user-behavior-format.js';

/**
 * Deterministic generator of `user-behavior` lines (the tab-separated app
 * log format, see `src/ingest/formats/user-behavior.ts`) for
 * the sample producer, the benchmark and the tests.
 *
 * Model: a pool of users; each record picks one at random. Normal users walk
 * a small session state machine (startApp -> search/viewProduct -> addCart ->
 * enterOrderPage -> completeOrder -> logout) and never have more than 2
 * `enterOrderPage` events within any `windowMs` of event time. Abnormal users
 * behave the same except that whenever they are picked and not cooling down
 * they fire a burst of 3 to 5 `enterOrderPage` events within 20 s of event
 * time (then cool down for `burstCooldownMs`). A few records are late (up to
 * `maxLatenessMs` before the event clock) and a few are malformed.
 *
 * Everything comes from seeded PRNGs (mulberry32): the same options give the
 * same records, byte for byte, except with `clock` (wall time is not seeded).
 * Which users are abnormal and VIP depends only on `seed`, `users`,
 * `abnormalShare`, `vipShare` and `normalVipShare`; see {@link sampleUsers}.
 */

/** Options of {@link generateUserBehavior}; every one has a default. */
export interface UserBehaviorGeneratorOptions {
  /** PRNG seed (any 32-bit integer). @default 61024 ({@link DEFAULT_SAMPLE_SEED}) */
  seed?: number;
  /** Size of the uid pool. @default 5000 */
  users?: number;
  /** Share of users (0..1) who cross the threshold: they burst `enterOrderPage`. @default 0.05 */
  abnormalShare?: number;
  /** Share (0..1) of the abnormal users that are VIPs. @default 0.3 */
  vipShare?: number;
  /**
   * Share (0..1) of the normal users that are VIPs too, so that "abnormal AND
   * VIP" is a real join and not just "every VIP". @default 0.01
   */
  normalVipShare?: number;
  /** Share (0..1) of records that are malformed. @default 0.002 */
  malformedShare?: number;
  /** Event clock start, epoch MILLISECONDS. Ignored with `clock`. @default 1554652800000 (the sample line's time, 2019-04-07T16:00:00Z) */
  startTimeMs?: number;
  /** Event-time density: records per second of event time. Ignored with `clock`. @default 1000 */
  eventsPerSecond?: number;
  /**
   * Reads the event clock (epoch MILLISECONDS) per record instead of the
   * synthetic clock, e.g. `Date.now` so windows close live. Never goes back:
   * a reading below the previous one counts as the previous one.
   */
  clock?: () => number;
  /** Normal users have at most 2 `enterOrderPage` events within any span of this many MILLISECONDS of event time. @default 60000 */
  windowMs?: number;
  /** Time after a burst's end before the same abnormal user may burst again, MILLISECONDS of event time. @default 300000 (5 min) */
  burstCooldownMs?: number;
  /** Share (0..1) of records whose event time is earlier than the clock. @default 0.02 */
  lateShare?: number;
  /** Most a late record is behind the clock, MILLISECONDS. @default 3000 */
  maxLatenessMs?: number;
  /** Records to yield before stopping. @default Infinity (never stops) */
  count?: number;
  /**
   * Share (0..1) of the other records that become `enterOrderPage` (normal users still
   * never exceed 2 within `windowMs`): many users in the open windows, for the memory
   * benchmark. 0 leaves the session model (and the records) exactly as documented. @default 0
   */
  orderPageShare?: number;
}

/** One generated Kafka record. */
export interface GeneratedRecord {
  /** Kafka key: the uid; `null` when the line has no uid (malformed `empty-uid`). */
  key: string | null;
  /** Kafka value: one line, no trailing newline. */
  value: string;
  /** The line's event time in epoch MILLISECONDS (a whole second: the line carries seconds). For a malformed line, the time it was meant to carry. */
  eventTimeMs: number;
  /** `null` for a valid line; otherwise the `reason` the parser must report for it. */
  malformed: UserBehaviorMalformedReason | null;
}

/** Which users of a sample are which; every list sorted by uid (numerically). */
export interface SampleUsers {
  /** Every uid of the pool. */
  uids: string[];
  /** Users who burst `enterOrderPage` (at least 3 within 20 s). */
  abnormalUids: string[];
  /** Abnormal users that are VIPs. */
  abnormalVipUids: string[];
  /** Every VIP: the abnormal VIPs plus some normal users (`normalVipShare`). What the seed inserts into `vip_user`. */
  vipUids: string[];
}

/** Options that decide the users (a subset of {@link UserBehaviorGeneratorOptions}). */
export type SampleUserOptions = Pick<
  UserBehaviorGeneratorOptions,
  'seed' | 'users' | 'abnormalShare' | 'vipShare' | 'normalVipShare'
>;

/** The defaults, so callers (CLI help, seed) can print and reuse them. */
export const USER_BEHAVIOR_GENERATOR_DEFAULTS = Object.freeze({
  seed: DEFAULT_SAMPLE_SEED,
  users: 5000,
  abnormalShare: 0.05,
  vipShare: 0.3,
  normalVipShare: 0.01,
  malformedShare: 0.002,
  startTimeMs: 1_554_652_800_000,
  eventsPerSecond: 1000,
  windowMs: 60_000,
  burstCooldownMs: 300_000,
  lateShare: 0.02,
  maxLatenessMs: 3_000,
  count: Number.POSITIVE_INFINITY,
  orderPageShare: 0,
});

export { DEFAULT_SAMPLE_SEED, mulberry32 };

/** Longest span of one burst, MILLISECONDS of event time (abnormal users are modelled as 3 to 5 order-page visits within 20 s). */
export const BURST_SPAN_MS = 20_000;

// Separate streams so that changing e.g. malformedShare never changes who is abnormal or VIP.
const ROLE_STREAM = 0x9e3779b9;
const ATTR_STREAM = 0x85ebca6b;
const ORDER_STREAM = 0xc2b2ae35;

type Resolved = Required<Omit<UserBehaviorGeneratorOptions, 'clock'>> & { clock: (() => number) | undefined };

function resolve(options: UserBehaviorGeneratorOptions): Resolved {
  const o: Resolved = { ...USER_BEHAVIOR_GENERATOR_DEFAULTS, clock: undefined };
  for (const [k, v] of Object.entries(options)) if (v !== undefined) (o as Record<string, unknown>)[k] = v;
  const bad = (name: string, expected: string, got: unknown) =>
    new AppError('INVALID_OPTION', `user-behavior generator option ${name}: expected ${expected}, got ${String(got)}`);
  if (!Number.isInteger(o.seed)) throw bad('seed', 'an integer', o.seed);
  if (!Number.isInteger(o.users) || o.users < 1) throw bad('users', 'an integer >= 1', o.users);
  for (const k of [
    'abnormalShare',
    'vipShare',
    'normalVipShare',
    'malformedShare',
    'lateShare',
    'orderPageShare',
  ] as const) {
    if (!(o[k] >= 0 && o[k] <= 1)) throw bad(k, 'a share between 0 and 1', o[k]);
  }
  if (!Number.isFinite(o.startTimeMs) || o.startTimeMs < 0)
    throw bad('startTimeMs', 'epoch milliseconds >= 0', o.startTimeMs);
  if (!(o.eventsPerSecond > 0) || !Number.isFinite(o.eventsPerSecond))
    throw bad('eventsPerSecond', 'a number > 0', o.eventsPerSecond);
  if (!(o.windowMs > 0)) throw bad('windowMs', 'milliseconds > 0', o.windowMs);
  if (!(o.burstCooldownMs >= 0)) throw bad('burstCooldownMs', 'milliseconds >= 0', o.burstCooldownMs);
  if (!(o.maxLatenessMs >= 0)) throw bad('maxLatenessMs', 'milliseconds >= 0', o.maxLatenessMs);
  if (!(o.count >= 0)) throw bad('count', 'a number >= 0', o.count);
  return o;
}

/** uid of the pool's user `index`: 5-digit numbers like the sample's 61024. */
function uidOf(index: number): string {
  return String(10001 + index);
}

const byIndex = (a: number, b: number) => a - b;

interface Roles {
  abnormal: number[];
  abnormalVip: number[];
  normalVip: number[];
}

function roles(o: Resolved): Roles {
  const rng = mulberry32(o.seed ^ ROLE_STREAM);
  const order = Array.from({ length: o.users }, (_, i) => i);
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  const abnormalCount = Math.round(o.users * o.abnormalShare);
  const abnormal = order.slice(0, abnormalCount);
  const abnormalVip = abnormal.slice(0, Math.round(abnormalCount * o.vipShare));
  const normalVip = order.slice(
    abnormalCount,
    abnormalCount + Math.round((o.users - abnormalCount) * o.normalVipShare),
  );
  return {
    abnormal: abnormal.sort(byIndex),
    abnormalVip: abnormalVip.sort(byIndex),
    normalVip: normalVip.sort(byIndex),
  };
}

/**
 * Which uids of the sample described by `options` are abnormal and VIP.
 * Deterministic: depends only on `seed`, `users`, `abnormalShare`, `vipShare`
 * and `normalVipShare` (defaults as in {@link UserBehaviorGeneratorOptions}).
 * @throws {AppError} code `INVALID_OPTION` on an out-of-range option.
 */
export function sampleUsers(options: SampleUserOptions = {}): SampleUsers {
  const o = resolve(options);
  const r = roles(o);
  const vip = [...r.abnormalVip, ...r.normalVip].sort(byIndex);
  return {
    uids: Array.from({ length: o.users }, (_, i) => uidOf(i)),
    abnormalUids: r.abnormal.map(uidOf),
    abnormalVipUids: r.abnormalVip.map(uidOf),
    vipUids: vip.map(uidOf),
  };
}

/**
 * The uids the seed inserts into `vip_user` for the sample described by
 * `options`: the abnormal VIPs AND a few normal VIPs (`normalVipShare`), so
 * the expected "abnormal VIP" result is `sampleUsers(options).abnormalVipUids`,
 * not this whole list. Sorted by uid. Deterministic, same rule as the generator.
 * @throws {AppError} code `INVALID_OPTION` on an out-of-range option.
 */
export function sampleVipUids(options: SampleUserOptions = {}): string[] {
  return sampleUsers(options).vipUids;
}

/** The phone of a uid, as in the sample line: uid 61024 -> 18701461024. */
export function samplePhone(uid: string): string {
  return `187014${uid.padStart(5, '0')}`;
}

// Session state machine. Index = event; row = cumulative probabilities of the next event.
const EVENT_KEYS = [
  'startApp',
  'search',
  'viewProduct',
  'addCart',
  'enterOrderPage',
  'completeOrder',
  'logout',
] as const;
const VIEW_PRODUCT = 2;
const ENTER_ORDER_PAGE = 4;
const LOGOUT = 6;
const TRANSITIONS: readonly (readonly number[])[] = [
  /* startApp       */ cumulative([0, 0.3, 0.6, 0, 0, 0, 0.1]),
  /* search         */ cumulative([0, 0.1, 0.8, 0, 0, 0, 0.1]),
  /* viewProduct    */ cumulative([0, 0.15, 0.4, 0.25, 0.08, 0, 0.12]),
  /* addCart        */ cumulative([0, 0.1, 0.45, 0.1, 0.2, 0, 0.15]),
  /* enterOrderPage */ cumulative([0, 0, 0.3, 0, 0, 0.6, 0.1]),
  /* completeOrder  */ cumulative([0, 0.1, 0.4, 0, 0, 0, 0.5]),
  /* logout         */ cumulative([1, 0, 0, 0, 0, 0, 0]),
];

function cumulative(p: number[]): number[] {
  let sum = 0;
  return p.map((x) => (sum += x));
}

function nextEvent(state: number, r: number): number {
  const row = TRANSITIONS[state];
  for (let i = 0; i < row.length; i++) if (r < row[i]) return i;
  return LOGOUT;
}

const CHANNELS = ['toutiao', 'baidu', 'xiaomi', 'huawei', 'appstore', 'weixin'];
const APP_VERSIONS = ['2.0', '2.0', '2.1', '2.2', '3.0'];
const MALFORMED_KINDS: readonly UserBehaviorMalformedReason[] = [
  'field-count',
  'field-count',
  'bad-event-time',
  'bad-event-time',
  'empty-uid',
  'bad-phone',
  'empty-event-key',
  'empty-value',
];

/**
 * The line without its last two fields (eventKey, eventTime), built once per
 * user through formatUserBehavior so the generator can never drift from the
 * format, while the per-record cost stays one string concatenation.
 */
function userPrefix(index: number, rng: () => number): string {
  const uid = uidOf(index);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rng() * xs.length)];
  const flag = () => (rng() < 0.1 ? '1' : '0');
  const line = formatUserBehavior({
    uid,
    deviceId: uid,
    gender: rng() < 0.52 ? 'M' : 'F',
    attr3: rng() < 0.7 ? '1' : '0',
    attr4: rng() < 0.2 ? '1' : '0',
    os: rng() < 0.45 ? 'ios' : 'android',
    channel: pick(CHANNELS),
    network: pick(['wifi', 'wifi', 'wifi', '4g', '4g', '5g']),
    ip: `${1 + Math.floor(rng() * 222)}.${Math.floor(rng() * 256)}.${Math.floor(rng() * 256)}.0`,
    phone: samplePhone(uid),
    flags: [flag(), flag(), flag(), flag()],
    appVersion: pick(APP_VERSIONS),
    eventKey: 'x',
    eventTimeSec: 0,
  });
  return line.slice(0, line.length - 'x\t0'.length);
}

/** The reason the parser gives a line {@link malformedLine} made of `kind` with `r`: its event time in milliseconds is `event-time-unit`. */
function announcedReason(kind: UserBehaviorMalformedReason, r: number): UserBehaviorMalformedReason {
  return kind === 'bad-event-time' && Math.floor(r * 4) === 1 ? EVENT_TIME_UNIT : kind;
}

function malformedLine(kind: UserBehaviorMalformedReason, validLine: string, r: number): string {
  if (kind === 'empty-value') return '';
  const f = validLine.split('\t');
  const variant = Math.floor(r * 4);
  switch (kind) {
    case 'field-count':
      if (variant === 0) return f.slice(0, USER_BEHAVIOR_FIELD_COUNT - 1).join('\t'); // a field lost
      if (variant === 1) return [...f, 'extra'].join('\t'); // an added column
      if (variant === 2) return f.join(','); // wrong separator
      return f.join('\t').replace('\t', '  '); // a tab turned into spaces
    case 'bad-event-time':
      f[UserBehaviorField.eventTime] = [
        'abc',
        `${f[UserBehaviorField.eventTime]}000`,
        `${f[UserBehaviorField.eventTime]}.5`,
        '-1',
      ][variant];
      break;
    case 'empty-uid':
      f[UserBehaviorField.uid] = '';
      break;
    case 'bad-phone':
      f[UserBehaviorField.phone] = ['', 'unknown', '187-0146-1024', '12345678901234567'][variant];
      break;
    case 'empty-event-key':
      f[UserBehaviorField.eventKey] = '';
      break;
    default:
      break;
  }
  return f.join('\t');
}

/**
 * Yields `user-behavior` records (see the module comment for the model).
 * Event times follow the event clock: `startTimeMs + i * 1000 / eventsPerSecond`
 * (MILLISECONDS), or `clock()` when given; a `lateShare` of records is up to
 * `maxLatenessMs` earlier; burst events carry their scheduled time. Infinite
 * unless `count` is set.
 * @throws {AppError} code `INVALID_OPTION` on an out-of-range option (at the call, not at the first pull).
 */
export function generateUserBehavior(
  options: UserBehaviorGeneratorOptions = {},
): Generator<GeneratedRecord, void, undefined> {
  return generate(resolve(options));
}

function* generate(o: Resolved): Generator<GeneratedRecord, void, undefined> {
  const rng = mulberry32(o.seed);
  const attrRng = mulberry32(o.seed ^ ATTR_STREAM);
  // Its own stream: with orderPageShare 0 it is never drawn, so the records stay as before.
  const orderRng = mulberry32(o.seed ^ ORDER_STREAM);
  const users = o.users;
  const uids = Array.from({ length: users }, (_, i) => uidOf(i));
  const prefixes = Array.from({ length: users }, (_, i) => userPrefix(i, attrRng));
  const r = roles(o);

  const abnormal = new Uint8Array(users);
  for (const i of r.abnormal) abnormal[i] = 1;
  const burstAllowedAtMs = new Float64Array(users);
  const state = new Uint8Array(users).fill(LOGOUT);
  // The last 4 enterOrderPage times (ms) of each user: enough to keep the "at most 2
  // per window" promise even with late records (see allowOrderPage).
  const RING = 4;
  const orderTimes = new Float64Array(users * RING).fill(Number.NEGATIVE_INFINITY);
  const ringPos = new Uint8Array(users);
  const remember = (u: number, tMs: number) => {
    orderTimes[u * RING + ringPos[u]] = tMs;
    ringPos[u] = (ringPos[u] + 1) % RING;
  };
  // A third event at tMs is safe when at most one earlier one is within windowMs of
  // it: then every triple containing it spans more than a window.
  const allowOrderPage = (u: number, tMs: number) => {
    let near = 0;
    for (let k = u * RING; k < u * RING + RING; k++) if (Math.abs(tMs - orderTimes[k]) <= o.windowMs) near++;
    return near < 2;
  };

  // Scheduled burst events, sorted by time; few (at most 4 per abnormal user).
  const pending: { atMs: number; user: number }[] = [];
  const schedule = (atMs: number, user: number) => {
    let i = pending.length;
    while (i > 0 && pending[i - 1].atMs > atMs) i--;
    pending.splice(i, 0, { atMs, user });
  };

  const msPerEvent = 1000 / o.eventsPerSecond;
  const clock = o.clock;
  let lastClockMs = 0;
  const orderKey = EVENT_KEYS[ENTER_ORDER_PAGE];

  for (let i = 0; i < o.count; i++) {
    const clockMs = clock ? (lastClockMs = Math.max(lastClockMs, clock())) : o.startTimeMs + Math.floor(i * msPerEvent);

    if (pending.length > 0 && pending[0].atMs <= clockMs) {
      const { atMs, user } = pending[0];
      pending.shift();
      const sec = Math.floor(atMs / 1000);
      remember(user, sec * 1000);
      yield {
        key: uids[user],
        value: `${prefixes[user]}${orderKey}\t${sec}`,
        eventTimeMs: sec * 1000,
        malformed: null,
      };
      continue;
    }

    const u = Math.floor(rng() * users);
    let tMs = clockMs;
    if (rng() < o.lateShare) tMs = Math.max(0, clockMs - 1 - Math.floor(rng() * o.maxLatenessMs));
    const sec = Math.floor(tMs / 1000);

    if (rng() < o.malformedShare) {
      const kind = MALFORMED_KINDS[Math.floor(rng() * MALFORMED_KINDS.length)];
      const r = rng();
      const value = malformedLine(kind, `${prefixes[u]}${EVENT_KEYS[VIEW_PRODUCT]}\t${sec}`, r);
      yield {
        key: kind === 'empty-uid' ? null : uids[u],
        value,
        eventTimeMs: sec * 1000,
        malformed: announcedReason(kind, r),
      };
      continue;
    }

    let event: number;
    if (abnormal[u] === 1 && burstAllowedAtMs[u] <= clockMs) {
      // Burst: this record plus 2 to 4 more within the next 19 s, so that even after
      // flooring to whole seconds all of them lie within BURST_SPAN_MS.
      const extra = 2 + Math.floor(rng() * 3);
      for (let k = 0; k < extra; k++) schedule(clockMs + 1 + Math.floor(rng() * (BURST_SPAN_MS - 1001)), u);
      burstAllowedAtMs[u] = clockMs + BURST_SPAN_MS + o.burstCooldownMs;
      event = ENTER_ORDER_PAGE;
      tMs = clockMs; // never late: a late first event could stretch the burst past 20 s
      const burstSec = Math.floor(tMs / 1000);
      state[u] = event;
      remember(u, burstSec * 1000);
      yield {
        key: uids[u],
        value: `${prefixes[u]}${orderKey}\t${burstSec}`,
        eventTimeMs: burstSec * 1000,
        malformed: null,
      };
      continue;
    }

    event = nextEvent(state[u], rng());
    if (o.orderPageShare > 0 && event !== ENTER_ORDER_PAGE && orderRng() < o.orderPageShare) event = ENTER_ORDER_PAGE;
    if (event === ENTER_ORDER_PAGE) {
      if (allowOrderPage(u, sec * 1000)) remember(u, sec * 1000);
      else event = VIEW_PRODUCT;
    }
    state[u] = event;
    yield {
      key: uids[u],
      value: `${prefixes[u]}${EVENT_KEYS[event]}\t${sec}`,
      eventTimeMs: sec * 1000,
      malformed: null,
    };
  }
}

/** The event keys the generator uses, in session order. */
export const SAMPLE_EVENT_KEYS: readonly string[] = EVENT_KEYS;
