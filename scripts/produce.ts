// `npm run produce`: writes generated sample records to Kafka at a steady
// rate until stopped (Ctrl-C / SIGTERM: flush, exit 0) or until --count.
// Each record kind is a sample source of a job module (src/jobs/*/):
// its `--kind` name, its default topic and its generator.
import { parseArgs } from 'node:util';
import { Kafka, logLevel, Partitioners, type Message, type Producer } from 'kafkajs';
import { loadConfig } from '../src/app-config.js';
import type { Config } from '../src/config/config.js';
import { AppError } from '../src/errors/app-error.js';
import { createKafka, ensureTopics } from '../src/ingest/kafka-client.js';
import { JOB_MODULES } from '../src/jobs/index.js';

/** Every record kind of the job modules, by its `--kind` name; the first is the default. */
const SAMPLES = new Map(JOB_MODULES.flatMap((m) => m.samples ?? []).map((s) => [s.kind, s]));
const DEFAULT_SAMPLE = [...SAMPLES.values()][0];
const DEFAULTS = DEFAULT_SAMPLE.defaults;

const HELP = `Usage: npm run produce -- [options]

Writes generated sample records to Kafka at a steady rate until stopped
(Ctrl-C or SIGTERM flush and exit 0) or until --count records.

  --kind <kind>            record kind: ${[...SAMPLES.keys()].join(', ')} (default ${DEFAULT_SAMPLE.kind})
  --rate <records/s>       records per second (default 200)
  --count <n>              stop after n records (default: until stopped)
  --topic <name>           topic (default: the kind's topic from the config,
                           e.g. the job's topic setting)
  --seed <int>             PRNG seed (default ${DEFAULTS.seed})
  --users <n>              uid pool size (default ${DEFAULTS.users ?? 'per kind'})
  --abnormal-share <0..1>  share of users who burst enterOrderPage (default ${DEFAULTS.abnormalShare ?? 'per kind'})
  --malformed-share <0..1> share of malformed records (default ${DEFAULTS.malformedShare})
  --realtime               event time = wall-clock now, so windows close live (default)
  --no-realtime            synthetic event time from --start, --rate records per event second
  --start <iso>            synthetic event time start (implies --no-realtime;
                           default 2019-04-07T16:00:00Z, the sample line's time)
  -h, --help               this text

--seed, --users and --abnormal-share decide which users are abnormal and VIP:
keep them equal to what \`npm run seed\` used (both default to the same).
Kafka brokers come from KAFKA_BROKERS (default localhost:9092).`;

/** A command-line mistake: printed as one line, exit code 2. */
class UsageError extends AppError {
  constructor(message: string) {
    super('USAGE', message);
  }
}

function number(flag: string, raw: string, check: (n: number) => boolean, expected: string): number;
function number(
  flag: string,
  raw: string | undefined,
  check: (n: number) => boolean,
  expected: string,
): number | undefined;
function number(
  flag: string,
  raw: string | undefined,
  check: (n: number) => boolean,
  expected: string,
): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (raw.trim() === '' || !check(n)) throw new UsageError(`--${flag}: expected ${expected}, got "${raw}"`);
  return n;
}

function parseCommandLine() {
  const { values } = parseArgs({
    options: {
      kind: { type: 'string', default: DEFAULT_SAMPLE.kind },
      rate: { type: 'string', default: '200' },
      count: { type: 'string' },
      topic: { type: 'string' },
      seed: { type: 'string' },
      users: { type: 'string' },
      'abnormal-share': { type: 'string' },
      'malformed-share': { type: 'string' },
      realtime: { type: 'boolean' },
      'no-realtime': { type: 'boolean' },
      start: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
    allowPositionals: false,
  });
  const kind = SAMPLES.get(values.kind); // --kind is typed by the user
  if (!kind) throw new UsageError(`--kind: expected one of ${[...SAMPLES.keys()].join(', ')}, got "${values.kind}"`);
  const share = (n: number) => n >= 0 && n <= 1;
  let startTimeMs: number | undefined;
  if (values.start !== undefined) {
    startTimeMs = Date.parse(values.start);
    if (Number.isNaN(startTimeMs) || startTimeMs < 0)
      throw new UsageError(`--start: expected an ISO date-time such as 2019-04-07T16:00:00Z, got "${values.start}"`);
  }
  if (values.realtime && (values['no-realtime'] || values.start !== undefined)) {
    throw new UsageError('--realtime cannot be combined with --no-realtime or --start');
  }
  return {
    help: values.help === true,
    kindName: values.kind,
    kind,
    topic: values.topic,
    rate: number('rate', values.rate, (n) => Number.isFinite(n) && n > 0, 'records per second > 0'),
    count:
      number('count', values.count, (n) => Number.isInteger(n) && n >= 0, 'a whole number >= 0') ??
      Number.POSITIVE_INFINITY,
    seed: number('seed', values.seed, Number.isInteger, 'an integer'),
    users: number('users', values.users, (n) => Number.isInteger(n) && n >= 1, 'a whole number >= 1'),
    abnormalShare: number('abnormal-share', values['abnormal-share'], share, 'a share between 0 and 1'),
    malformedShare: number('malformed-share', values['malformed-share'], share, 'a share between 0 and 1'),
    realtime: !values['no-realtime'] && startTimeMs === undefined,
    startTimeMs,
  };
}

/** kafkajs wraps connection failures (retries exceeded, broker not found); look through the chain. */
function isConnectionFailure(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 5; depth++) {
    if (
      /KafkaJS(Connection|BrokerNotFound|ConnectionClosed)Error/.test(e.name) ||
      /ECONNREFUSED|ENOTFOUND|ETIMEDOUT|EHOSTUNREACH/.test(e.message)
    )
      return true;
    const next: unknown = (e as { originalError?: unknown }).originalError ?? e.cause;
    e = next;
  }
  return false;
}

const sleep = (ms: number, wake: Promise<void>) => Promise.race([new Promise<void>((r) => setTimeout(r, ms)), wake]);

async function main(): Promise<number> {
  let args: ReturnType<typeof parseCommandLine>;
  let config: Config;
  try {
    args = parseCommandLine();
    if (args.help) {
      console.log(HELP);
      return 0;
    }
    config = loadConfig();
  } catch (err) {
    console.error(`produce: ${(err as Error).message} (see npm run produce -- --help)`);
    return 2;
  }
  const brokers = config.KAFKA_BROKERS;
  const topic = args.topic ?? args.kind.topic(config);
  const unreachable = `Kafka is not reachable at ${brokers.join(',')}: start it with \`npm run stack:up\``;

  // A missing broker must give one line at once, not a minute of kafkajs backoff.
  // The probe needs its own client: admin({ retry }) does not cover connect(),
  // which follows the client's retry settings (measured: 55 s with createKafka's).
  const probe = new Kafka({
    clientId: 'rt-analytics-sample-producer-probe',
    brokers,
    connectionTimeout: 3_000,
    retry: { retries: 0 },
    logLevel: logLevel.NOTHING,
  }).admin();
  try {
    await probe.connect();
    await probe.listTopics();
  } catch (err) {
    console.error(
      isConnectionFailure(err)
        ? unreachable
        : `produce: Kafka at ${brokers.join(',')} did not answer: ${(err as Error).message}`,
    );
    return 1;
  } finally {
    await probe.disconnect().catch(() => undefined); // best effort: the probe's answer is already known
  }

  const kafka: Kafka = createKafka(brokers, 'rt-analytics-sample-producer');
  const admin = kafka.admin();
  let created: string[];
  try {
    await admin.connect();
    created = await ensureTopics(admin, [{ topic, numPartitions: config.KAFKA_TOPIC_PARTITIONS }]);
  } catch (err) {
    console.error(
      isConnectionFailure(err)
        ? unreachable
        : `produce: could not prepare topic ${topic} on ${brokers.join(',')}: ${(err as Error).message}`,
    );
    return 1;
  } finally {
    await admin.disconnect().catch(() => undefined); // best effort: the topic is prepared or the error reported
  }

  const producer: Producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  try {
    await producer.connect();
  } catch (err) {
    console.error(isConnectionFailure(err) ? unreachable : `produce: ${(err as Error).message}`);
    return 1;
  }

  let stopping = false as boolean; // set by the signal handler, which the type narrowing does not see
  let wake!: () => void;
  const woken = new Promise<void>((r) => (wake = r));
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) process.exit(130); // a second Ctrl-C: give up on flushing
    stopping = true;
    console.log(`produce: ${signal}, flushing`);
    wake();
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);

  const source = args.kind.records({
    seed: args.seed,
    users: args.users,
    abnormalShare: args.abnormalShare,
    malformedShare: args.malformedShare,
    clock: args.realtime ? Date.now : undefined,
    startTimeMs: args.startTimeMs,
    eventsPerSecond: args.rate,
  });

  const timeMode = args.realtime
    ? 'event time = wall clock'
    : `synthetic event time from ${new Date(args.startTimeMs ?? args.kind.defaults.startTimeMs).toISOString()}`;
  console.log(
    `produce: ${args.kindName} records to ${topic}${created.length ? ` (created, ${config.KAFKA_TOPIC_PARTITIONS} partitions)` : ''} at ${brokers.join(',')}, ` +
      `${args.rate}/s, ${timeMode}, seed ${args.seed ?? args.kind.defaults.seed}, ` +
      (Number.isFinite(args.count) ? `${args.count} records` : 'until stopped (Ctrl-C)'),
  );

  const TICK_MS = 100;
  const PROGRESS_MS = 10_000;
  const started = Date.now();
  let paceFrom = started; // moved forward when we fall behind by over 1 s, so a stall does not end in a burst
  let paceSent = 0;
  let sent = 0;
  let malformed = 0;
  let lastReportAt = started;
  let lastReportSent = 0;
  let exhausted = false;

  try {
    while (!stopping && !exhausted && sent < args.count) {
      const now = Date.now();
      let due = Math.floor(((now - paceFrom) * args.rate) / 1000) - paceSent;
      if (due > args.rate) {
        paceFrom = now - 1000;
        paceSent = 0;
        due = Math.floor(args.rate);
      }
      due = Math.min(due, args.count - sent);
      if (due > 0) {
        const messages: Message[] = [];
        for (let i = 0; i < due; i++) {
          const next = source.next();
          if (next.done) {
            exhausted = true;
            break;
          }
          if (next.value.malformed) malformed++;
          messages.push({ key: next.value.key, value: next.value.value });
        }
        // acks: -1 so that "sent" means written to every in-sync replica.
        if (messages.length > 0) await producer.send({ topic, messages, acks: -1 });
        sent += messages.length;
        paceSent += messages.length;
      }
      if (Date.now() - lastReportAt >= PROGRESS_MS) {
        const t = Date.now();
        const rate = ((sent - lastReportSent) * 1000) / (t - lastReportAt);
        console.log(
          `produce: ${sent} records sent (${malformed} malformed), ${rate.toFixed(0)}/s over the last ${((t - lastReportAt) / 1000).toFixed(0)} s`,
        );
        lastReportAt = t;
        lastReportSent = sent;
      }
      // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- the signal handler may have set `stopping` during the awaits above
      if (!stopping && sent < args.count && !exhausted)
        await sleep(TICK_MS - ((Date.now() - started) % TICK_MS), woken);
    }
  } catch (err) {
    console.error(
      isConnectionFailure(err) ? unreachable : `produce: could not write to ${topic}: ${(err as Error).message}`,
    );
    await producer.disconnect().catch(() => undefined); // best effort: the write error is what gets reported
    return 1;
  }
  await producer.disconnect();
  const secs = (Date.now() - started) / 1000;
  console.log(`produce: done, ${sent} records (${malformed} malformed) in ${secs.toFixed(1)} s`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error('produce: unexpected failure:', err);
    process.exit(1);
  },
);
