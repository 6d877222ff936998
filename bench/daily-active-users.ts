// `npm run bench:dau [-- --records N]`: throughput of the daily-active-users job
// against the real Kafka, MariaDB and Redis of `scripts/stack.sh`.
//
//   1. fill      a fresh 3-partition topic with N generated user-behaviour records
//                (the abnormal-orders bench's generator, starting 5 minutes before
//                local midnight in Asia/Shanghai, so the stream covers two local days)
//   2. raw       a plain kafkajs consumer reads the topic (count + resolve only),
//                with the service's fetch settings: the ceiling set by Kafka + kafkajs
//   3. e2e       the real service (`node dist/src/main.js`, ROLES=worker,
//                JOBS=daily-active-users) consumes the same topic into a fresh database;
//                timed until every partition's committed next_offset reaches the end
//   4. check     the stored distinct users per day, new users per day and a checksum
//                of each day's uids against what the bench generated; any difference fails
//
// Everything it creates (topic + .dlq, database, groups) is random and removed at
// the end, also on failure or Ctrl-C. See bench/README.md.
import { crc32 } from 'node:zlib';
import {
  generateUserBehavior,
  type UserBehaviorGeneratorOptions,
} from '../src/jobs/user-behavior/user-behavior-generator.js';
import type { FillRecord } from '../src/sample/fill-topic.js';
import { randomName, sql } from '../test/helpers/services.js';
import {
  createBenchTopicAndDatabase,
  fillBenchTopic,
  fmtInt,
  log,
  logFill,
  machineLine,
  parseBenchArgs,
  PARTITIONS,
  printTable,
  rawStep,
  runBench,
  serviceStep,
  summaryRows,
} from './bench-kit.js';

const USAGE = `usage: npm run bench:dau -- [--records N] [--batch-size N] [--users N] [--skip-raw] [--service-logs] [--cpu-prof DIR]

  --records N      records to produce (default 1000000)
  --batch-size N   records per fillTopic send (default 10000, 4 sends in flight)
  --users N        uid pool of the generator (default 5000)
  --skip-raw       skip the raw kafkajs consumer
  --service-logs   copy the service's log lines (LOG_LEVEL=warn) to stderr
  --cpu-prof DIR   run the service under \`node --cpu-prof --cpu-prof-dir DIR\` (profile written on SIGTERM)`;

/** Asia/Shanghai has been UTC+8 all year since 1991: the expected days are computed without the service's calendar code. */
const SHANGHAI_OFFSET_MS = 8 * 3_600_000;
const shanghaiDate = (epochMs: number) => new Date(epochMs + SHANGHAI_OFFSET_MS).toISOString().slice(0, 10);

/** What one local day must hold: its distinct users, its new users, and the sum of CRC-32s of its uids. */
interface DayAnswer {
  active: number;
  fresh: number;
  uidCrcSum: number;
}

async function main(): Promise<void> {
  const args = parseBenchArgs(USAGE, { users: 5_000 });
  const eventsPerSecond = 1_000;
  const generator: UserBehaviorGeneratorOptions = {
    seed: 61024,
    users: args.users,
    // 23:55 in Asia/Shanghai: at 1,000 records/s of event time, 1M records cross local midnight.
    startTimeMs: Date.UTC(2026, 0, 1, 15, 55),
    eventsPerSecond,
    count: args.records,
  };
  log(
    `daily-active-users bench: ${fmtInt(args.records)} records, ${fmtInt(args.users)} users, ` +
      `${fmtInt(eventsPerSecond)} records/s of event time = ${(args.records / eventsPerSecond / 60).toFixed(1)} min of events from 23:55 Asia/Shanghai, ` +
      `${PARTITIONS} partitions; ${machineLine()}`,
  );

  const { topic, db } = await createBenchTopicAndDatabase('bench-dau');
  log(`0. setup  topic ${topic.topic} (+ .dlq), database ${db.name}`);

  // 1. fill, keeping the known answer: the distinct uids of each local day and each uid's first day.
  log('1. fill   …');
  const byDay = new Map<string, Set<string>>();
  const firstDay = new Map<string, string>();
  let malformed = 0;
  function* counted(): Generator<FillRecord> {
    for (const r of generateUserBehavior(generator)) {
      if (r.malformed) {
        malformed++;
      } else {
        // The generator keys a valid line by its uid (field 0).
        const uid = r.key!;
        const day = shanghaiDate(r.eventTimeMs);
        let users = byDay.get(day);
        if (users === undefined) byDay.set(day, (users = new Set()));
        users.add(uid);
        const seen = firstDay.get(uid);
        if (seen === undefined || day < seen) firstDay.set(uid, day);
      }
      yield r;
    }
  }
  const fill = await fillBenchTopic({
    topic: topic.topic,
    records: counted(),
    count: args.records,
    batchSize: args.batchSize,
  });
  const { latest, total } = fill;
  const expected = new Map<string, DayAnswer>();
  for (const [day, uids] of byDay) {
    let uidCrcSum = 0;
    for (const uid of uids) uidCrcSum += crc32(uid);
    expected.set(day, { active: uids.size, fresh: 0, uidCrcSum });
  }
  for (const day of firstDay.values()) expected.get(day)!.fresh++;
  logFill(fill, `${fmtInt(malformed)} malformed; ${[...expected.keys()].sort().join(', ')} local`);

  // 2. raw consume.
  const raw = await rawStep(topic.topic, total, args.skipRaw);

  // 3. end to end.
  const group = randomName('bench-dau');
  const e = await serviceStep({
    dbUrl: db.url,
    dbName: db.name,
    group,
    latest,
    total,
    env: {
      JOBS: 'daily-active-users',
      USER_BEHAVIOR_TOPIC: topic.topic,
      DAU_GROUP: group,
      TIME_ZONE: 'Asia/Shanghai',
    },
    cpuProfDir: args.cpuProf,
    serviceLogs: args.serviceLogs,
  });

  // 4. the known answer.
  const counts = await sql<{ day: string; n: bigint }>(
    db.url,
    "SELECT DATE_FORMAT(day, '%Y-%m-%d') AS day, SUM(active_users) AS n FROM user_daily_count GROUP BY day",
  );
  const rows = await sql<{ day: string; n: bigint; crc: string }>(
    db.url,
    "SELECT DATE_FORMAT(day, '%Y-%m-%d') AS day, COUNT(*) AS n, CAST(SUM(CRC32(uid)) AS CHAR) AS crc FROM user_daily_active GROUP BY day",
  );
  const fresh = await sql<{ day: string; n: bigint }>(
    db.url,
    "SELECT DATE_FORMAT(first_day, '%Y-%m-%d') AS day, COUNT(*) AS n FROM user_first_seen GROUP BY first_day",
  );
  const [dead] = await sql<{ dead: bigint | null }>(
    db.url,
    'SELECT SUM(dead_lettered) AS dead FROM consumer_offset WHERE group_id = ?',
    [group],
  );
  const stored = new Map<string, { count: number; rows: number; crc: number; fresh: number }>();
  const at = (day: string) => {
    let v = stored.get(day);
    if (!v) stored.set(day, (v = { count: 0, rows: 0, crc: 0, fresh: 0 }));
    return v;
  };
  for (const r of counts) at(r.day).count = Number(r.n);
  for (const r of rows) Object.assign(at(r.day), { rows: Number(r.n), crc: Number(r.crc) });
  for (const r of fresh) at(r.day).fresh = Number(r.n);
  const days = [...new Set([...expected.keys(), ...stored.keys()])].sort();
  const differences: string[] = [];
  for (const day of days) {
    const want = expected.get(day) ?? { active: 0, fresh: 0, uidCrcSum: 0 };
    const got = stored.get(day) ?? { count: 0, rows: 0, crc: 0, fresh: 0 };
    const exact =
      got.count === want.active && got.rows === want.active && got.crc === want.uidCrcSum && got.fresh === want.fresh;
    log(
      `   ${day}: active ${fmtInt(got.count)} (counter) / ${fmtInt(got.rows)} (rows) of ${fmtInt(want.active)}, ` +
        `new ${fmtInt(got.fresh)} of ${fmtInt(want.fresh)}, uid checksum ${got.crc === want.uidCrcSum ? 'equal' : 'DIFFERENT'} ${exact ? '(exact)' : '(MISMATCH)'}`,
    );
    if (!exact) differences.push(day);
  }
  log(`   dead-lettered ${fmtInt(Number(dead.dead ?? 0))} of ${fmtInt(malformed)} malformed`);

  printTable([
    ...summaryRows(total, fill, raw, e),
    [
      'days stored / expected',
      differences.length === 0
        ? `exact (${days.length} days: active users, new users, uid checksums)`
        : `MISMATCH on ${differences.join(', ')}`,
    ],
  ]);
  if (differences.length > 0) throw new Error(`the stored daily active users differ on ${differences.join(', ')}`);
}

await runBench(main);
