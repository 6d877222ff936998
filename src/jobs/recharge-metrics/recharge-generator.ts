import { AppError } from '../../errors/app-error.js';
import { formatRecharge, RECHARGE_SUCCESS, type RechargeMalformedReason } from './recharge-format.js';
import { GUANGDONG_CITIES, GUANGDONG_PROVINCE_CODE } from './guangdong-cities.js';
import { ZonedCalendar } from '../../domain/zoned-calendar.js';
import { DEFAULT_SAMPLE_SEED, mulberry32 } from '../../sample/sample-random.js';

/**
 * Deterministic generator of `recharge` records (the JSON of
 * `src/ingest/formats/recharge.ts`) for the sample producer, the benchmark
 * and the tests.
 *
 * Model: each record is, by share, a new `reChargeNotifyReq` order (the
 * rest), a duplicate (an earlier notify record sent again, same key and
 * value), a record of another service (`sendRechargeReq`, `payNotifyReq`:
 * valid, skipped by the job), or a malformed record. A new order picks a city
 * of Guangdong weighted by population, succeeds with `successShare`, takes a
 * common amount (10/20/30/50/100/200/300/500 yuan; a few discounted to
 * fen), and lasts 1 to 60 s (request time = notify time - duration).
 *
 * Everything comes from a seeded PRNG (mulberry32): the same options give the
 * same records, byte for byte, except with `clock`.
 */

/** Options of {@link generateRecharges}; every one has a default. */
export interface RechargeGeneratorOptions {
  /** PRNG seed (any 32-bit integer). @default 61024 */
  seed?: number;
  /** Zone of the records' local times. @default "Asia/Shanghai" */
  timeZone?: string;
  /** Event clock start (notify time of the first record), epoch MILLISECONDS. Ignored with `clock`. @default 1767196800000 (2026-01-01T00:00:00+08:00) */
  startTimeMs?: number;
  /** Records per second of event time. Ignored with `clock`. @default 100 */
  eventsPerSecond?: number;
  /** Reads the event clock (epoch MILLISECONDS) per record instead, e.g. `Date.now`; never goes back. */
  clock?: () => number;
  /** Records to yield. @default Infinity */
  count?: number;
  /** Share (0..1) of new orders that succeed (`bussinessRst` "0000"). @default 0.95 */
  successShare?: number;
  /** Share (0..1) of records that repeat an earlier notify record. @default 0.01 */
  duplicateShare?: number;
  /** Share (0..1) of records of other services (skipped by the job). @default 0.05 */
  otherServiceShare?: number;
  /** Share (0..1) of malformed records. @default 0.002 */
  malformedShare?: number;
  /**
   * First order id (18 digits in the real log); ids count up from it. Give a
   * different base per producer run (e.g. from the wall clock) so that a
   * restarted producer does not repeat ids. @default 384000000000000000n + seed * 10^9
   */
  orderIdBase?: bigint;
}

/** What a generated record is, for tests and the benchmark. */
export type GeneratedRechargeKind = 'order' | 'duplicate' | 'other-service' | 'malformed';

/** One generated Kafka record. */
export interface GeneratedRecharge {
  /** Kafka key: the orderId. */
  key: string;
  /** Kafka value: one JSON object. */
  value: string;
  kind: GeneratedRechargeKind;
  /** With `malformed`: the reason the parser must report. */
  malformed: RechargeMalformedReason | null;
  /** Notify time of the record, epoch MILLISECONDS (the event clock for malformed and other-service records). */
  eventTimeMs: number;
}

export const RECHARGE_GENERATOR_DEFAULTS = Object.freeze({
  seed: DEFAULT_SAMPLE_SEED,
  timeZone: 'Asia/Shanghai',
  startTimeMs: Date.UTC(2025, 11, 31, 16),
  eventsPerSecond: 100,
  count: Number.POSITIVE_INFINITY,
  successShare: 0.95,
  duplicateShare: 0.01,
  otherServiceShare: 0.05,
  malformedShare: 0.002,
});

/** Common recharge amounts in yuan and how often each is chosen. */
const AMOUNTS: readonly [yuan: number, weight: number][] = [
  [10, 5],
  [20, 10],
  [30, 15],
  [50, 30],
  [100, 25],
  [200, 8],
  [300, 4],
  [500, 3],
];
const FAILURE_CODES = ['0001', '0010', '0034', '0109'];
const OTHER_SERVICES = ['sendRechargeReq', 'payNotifyReq'];
const MALFORMED: readonly RechargeMalformedReason[] = [
  'bad-json',
  'missing-field',
  'bad-time',
  'bad-amount',
  'unknown-city',
];
/** Duplicates repeat one of the last this many orders. */
const RECENT = 1_000;

function cumulative(weights: readonly number[]): number[] {
  const total = weights.reduce((a, b) => a + b, 0);
  let acc = 0;
  return weights.map((w) => (acc += w / total));
}

function pick<T>(items: readonly T[], cdf: readonly number[], r: number): T {
  const i = cdf.findIndex((c) => r < c);
  return items[i === -1 ? items.length - 1 : i];
}

/**
 * Yields recharge records (see the model above).
 * @throws {AppError} code `INVALID_OPTION` for an option out of range.
 */
export function* generateRecharges(
  options: RechargeGeneratorOptions = {},
): Generator<GeneratedRecharge, void, undefined> {
  const o = {
    ...RECHARGE_GENERATOR_DEFAULTS,
    ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)),
  } as Required<Pick<RechargeGeneratorOptions, keyof typeof RECHARGE_GENERATOR_DEFAULTS>> & RechargeGeneratorOptions;
  const bad = (name: string, expected: string, got: unknown) =>
    new AppError('INVALID_OPTION', `recharge generator option ${name}: expected ${expected}, got ${String(got)}`);
  if (!Number.isInteger(o.seed)) throw bad('seed', 'an integer', o.seed);
  for (const k of ['successShare', 'duplicateShare', 'otherServiceShare', 'malformedShare'] as const) {
    if (!(o[k] >= 0 && o[k] <= 1)) throw bad(k, 'a share between 0 and 1', o[k]);
  }
  if (o.duplicateShare + o.otherServiceShare + o.malformedShare > 1)
    throw bad(
      'duplicateShare + otherServiceShare + malformedShare',
      'at most 1',
      o.duplicateShare + o.otherServiceShare + o.malformedShare,
    );
  if (!(o.eventsPerSecond > 0) || !Number.isFinite(o.eventsPerSecond))
    throw bad('eventsPerSecond', 'a number > 0', o.eventsPerSecond);
  if (!Number.isFinite(o.startTimeMs)) throw bad('startTimeMs', 'epoch milliseconds', o.startTimeMs);
  const calendar = new ZonedCalendar(o.timeZone);
  const rng = mulberry32(o.seed);
  const cityCdf = cumulative(GUANGDONG_CITIES.map((c) => c.populationMillions));
  const amountCdf = cumulative(AMOUNTS.map(([, w]) => w));
  const msPerEvent = 1000 / o.eventsPerSecond;
  let nextOrderId = o.orderIdBase ?? 384_000_000_000_000_000n + BigInt(o.seed >>> 0) * 1_000_000_000n;
  const recent: { key: string; value: string; eventTimeMs: number }[] = [];
  let lastClockMs = Number.NEGATIVE_INFINITY;
  const digits = (n: number) => Array.from({ length: n }, () => Math.floor(rng() * 10)).join('');

  for (let i = 0; i < o.count; i++) {
    const nowMs = o.clock
      ? (lastClockMs = Math.max(lastClockMs, o.clock()))
      : o.startTimeMs + Math.floor(i * msPerEvent);
    const r = rng();
    if (r < o.duplicateShare && recent.length > 0) {
      const d = recent[Math.floor(rng() * recent.length)];
      yield { key: d.key, value: d.value, kind: 'duplicate', malformed: null, eventTimeMs: d.eventTimeMs };
      continue;
    }
    const orderId = String(nextOrderId++);
    const city = pick(GUANGDONG_CITIES, cityCdf, rng()).code;
    const succeeded = rng() < o.successShare;
    const yuan = pick(
      AMOUNTS.map(([y]) => y),
      amountCdf,
      rng(),
    );
    // A few discounted recharges carry fen.
    const chargefee =
      rng() < 0.05
        ? `${yuan - 1}.${String(1 + Math.floor(rng() * 99)).padStart(2, '0')}`
        : rng() < 0.5
          ? String(yuan)
          : `${yuan}.00`;
    const durationMs = 1_000 + Math.floor(rng() * 59_000);
    const record = {
      orderId,
      bussinessRst: succeeded ? RECHARGE_SUCCESS : FAILURE_CODES[Math.floor(rng() * FAILURE_CODES.length)],
      chargefee,
      requestTimeMs: nowMs - durationMs,
      notifyTimeMs: nowMs,
      requestIdSuffix: digits(15),
      provinceCode: GUANGDONG_PROVINCE_CODE,
      cityCode: city,
    };
    if (r < o.duplicateShare + o.otherServiceShare) {
      const serviceName = OTHER_SERVICES[Math.floor(rng() * OTHER_SERVICES.length)];
      yield {
        key: orderId,
        value: formatRecharge({ ...record, serviceName }, calendar),
        kind: 'other-service',
        malformed: null,
        eventTimeMs: nowMs,
      };
      continue;
    }
    if (r < o.duplicateShare + o.otherServiceShare + o.malformedShare) {
      const reason = MALFORMED[Math.floor(rng() * MALFORMED.length)];
      yield {
        key: orderId,
        value: malformedValue(reason, record, calendar),
        kind: 'malformed',
        malformed: reason,
        eventTimeMs: nowMs,
      };
      continue;
    }
    const value = formatRecharge(record, calendar);
    recent.push({ key: orderId, value, eventTimeMs: nowMs });
    if (recent.length > RECENT) recent.shift();
    yield { key: orderId, value, kind: 'order', malformed: null, eventTimeMs: nowMs };
  }
}

function malformedValue(
  reason: RechargeMalformedReason,
  record: Parameters<typeof formatRecharge>[0],
  calendar: ZonedCalendar,
): string {
  const json = JSON.parse(formatRecharge(record, calendar)) as Record<string, string>;
  switch (reason) {
    case 'bad-json':
      return formatRecharge(record, calendar).slice(0, -7);
    case 'missing-field':
      delete json.cityCode;
      return JSON.stringify(json);
    case 'bad-time':
      json.receiveNotifyTime = json.receiveNotifyTime.replace(/^(\d{4})\d\d/, '$113');
      return JSON.stringify(json);
    case 'bad-amount':
      json.chargefee = '-50';
      return JSON.stringify(json);
    case 'unknown-city':
      json.cityCode = '449999';
      return JSON.stringify(json);
    default:
      throw new AppError('INVALID_OPTION', `no malformed sample for reason ${reason}`);
  }
}
