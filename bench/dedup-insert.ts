// `npm run bench:dedup-insert [-- --ids N --rounds N --connections N]`: the database's own cost of the
// recharge-metrics de-duplication rows, the floor under that job's end-to-end rate (`dedup-floor.ts`).
// It prints, after `--warmup` unrecorded rounds:
//   - wall time per statement and per id, milliseconds and microseconds;
//   - ids per second over all connections: no recharge-metrics run on this database can commit more
//     records per second than this, whatever the service does;
//   - the MariaDB server's CPU per id (utime + stime of its process, when this machine's server is local
//     and its pid file readable), microseconds.
// The database is removed at the end, also on failure and on Ctrl-C.
import { parseArgs } from 'node:util';
import { fmtInt, intFlag, log, machineLine, runBench } from './bench-kit.js';
import { DEDUP_FLOOR_DEFAULTS, dedupFloor, type DedupFloorOptions } from './dedup-floor.js';

const USAGE = `usage: npm run bench:dedup-insert -- [--ids N] [--rounds N] [--warmup N] [--connections N]

  --ids N          order ids per statement (default 3300: a 10,000-record batch over 3 partitions)
  --rounds N       measured statements per connection (default 50)
  --warmup N       unrecorded statements per connection first (default 10)
  --connections N  connections inserting at once, each its own ids (default 3, the job's partitions)`;

function parse(): DedupFloorOptions {
  const { values } = parseArgs({
    options: {
      ids: { type: 'string' },
      rounds: { type: 'string' },
      warmup: { type: 'string' },
      connections: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const int = (name: string, raw: string | undefined, def: number, min: number) => intFlag(name, raw, def, min, USAGE);
  const d = DEDUP_FLOOR_DEFAULTS;
  return {
    ids: int('ids', values.ids, d.ids, 1),
    rounds: int('rounds', values.rounds, d.rounds, 1),
    warmup: int('warmup', values.warmup, d.warmup, 0),
    connections: int('connections', values.connections, d.connections, 1),
  };
}

async function main(): Promise<void> {
  const args = parse();
  log(machineLine());
  log(
    `${args.connections} connection(s) x (${args.warmup} + ${args.rounds}) statements of ${fmtInt(args.ids)} new ids, each committed`,
  );
  const f = await dedupFloor(args);
  log('');
  log(
    `  statement + commit, mean     ${f.meanMs.toFixed(1)} ms (${((1000 * f.meanMs) / args.ids).toFixed(2)} µs per id)`,
  );
  log(`  ids committed per second     ${fmtInt(f.idsPerSecond)} (all connections)`);
  log(
    `  MariaDB CPU per id           ${f.serverCpuPerIdUs === null ? `- (server pid not readable from ${f.pidFile})` : `${f.serverCpuPerIdUs.toFixed(2)} µs`}`,
  );
  log(`  a recharge-metrics run on this database commits at most the ids per second above, in records/s`);
}

void runBench(main);
