// A MariaDB server and a Kafka broker of a test's (or a bench's) OWN, on free
// ports, for faults that kill the service's database or broker: the shared
// instances on 3306 and 9092 are never touched. The MariaDB server runs from a
// temporary data directory as a child process; the broker is started, killed
// and restarted by `scripts/stack.sh kafka-up|kafka-kill|kafka-down` with its
// own STACK_DIR, reusing the jar cache of `.stack/kafka/libs`.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { createConnection } from 'mariadb';
import { freePort } from './free-port.js';
import { waitFor } from './services.js';

export { freePort };

const run = promisify(execFile);
/** Debian installs the server in /usr/sbin, which is not on every user's PATH. */
const MARIADBD = existsSync('/usr/sbin/mariadbd') ? '/usr/sbin/mariadbd' : 'mariadbd';
const ROOT = path.resolve(import.meta.dirname, '../../..');
const STACK_SH = path.join(ROOT, 'scripts/stack.sh');

/** A MariaDB server of {@link startOwnMariadb}. */
export interface OwnMariadb {
  port: number;
  /** `mysql://root@127.0.0.1:<port>`, without a database: append `/<name>`. */
  serverUrl: string;
  datadir: string;
  /** SIGKILLs the server (a crash: InnoDB recovers on the next start) and waits until it exited. */
  kill(): Promise<void>;
  /** Starts the server again on the same data directory and port; resolves once it answers. */
  start(): Promise<void>;
  /** Kills the server and removes its data directory. */
  cleanup(): Promise<void>;
}

/**
 * Initialises a data directory (`mariadb-install-db --no-defaults`) and runs
 * `mariadbd --no-defaults` on a free port of 127.0.0.1 with
 * `--skip-grant-tables` (root without a password from anywhere), a 64 MiB
 * buffer pool and no binary log; resolves once it answers a query (within
 * 60 seconds).
 * @throws when the server exits or does not answer in time (its error log is in the message)
 */
export async function startOwnMariadb(): Promise<OwnMariadb> {
  const base = await mkdtemp(path.join(os.tmpdir(), 'rt-own-mariadb-'));
  const datadir = path.join(base, 'data');
  const port = await freePort();
  const asRoot = process.getuid?.() === 0 ? ['--user=root'] : [];
  await run(
    'mariadb-install-db',
    ['--no-defaults', `--datadir=${datadir}`, '--auth-root-authentication-method=normal', '--skip-test-db', ...asRoot],
    { maxBuffer: 10 * 1024 * 1024 },
  );
  let child: ChildProcess | null = null;
  let exited: Promise<void> = Promise.resolve();
  const errorLog = path.join(base, 'error.log');

  const start = async () => {
    const c = spawn(
      MARIADBD,
      [
        '--no-defaults',
        `--datadir=${datadir}`,
        `--port=${port}`,
        '--bind-address=127.0.0.1',
        `--socket=${path.join(base, 'sock')}`,
        `--pid-file=${path.join(base, 'mariadbd.pid')}`,
        `--log-error=${errorLog}`,
        '--skip-grant-tables',
        '--skip-log-bin',
        '--innodb-buffer-pool-size=64M',
        '--max-connections=200',
        ...asRoot,
      ],
      { stdio: 'ignore' },
    );
    child = c;
    exited = new Promise((r) => c.once('exit', () => r()));
    await waitFor(
      `own mariadbd on port ${port}`,
      async () => {
        if (c.exitCode !== null || c.signalCode !== null)
          throw new Error(`mariadbd exited (${c.exitCode ?? c.signalCode}); see ${errorLog}`);
        const conn = await createConnection({ host: '127.0.0.1', port, user: 'root', connectTimeout: 1_000 });
        await conn.query('SELECT 1');
        await conn.end();
        return true;
      },
      60_000,
      200,
    );
  };

  const kill = async () => {
    const c = child;
    if (c?.exitCode !== null || c.signalCode !== null) return;
    c.kill('SIGKILL');
    await exited;
  };

  await start();
  return {
    port,
    serverUrl: `mysql://root@127.0.0.1:${port}`,
    datadir,
    kill,
    start,
    async cleanup() {
      await kill();
      await rm(base, { recursive: true, force: true });
    },
  };
}

/** A Kafka broker of {@link startOwnKafka}. */
export interface OwnKafka {
  port: number;
  /** `['127.0.0.1:<port>']`: KAFKA_BROKERS for the service and the helpers. */
  brokers: string[];
  /** The broker's STACK_DIR (data, logs, pid file, config). */
  dir: string;
  /** `stack.sh kafka-kill`: SIGKILL, no clean shutdown. */
  kill(): Promise<void>;
  /** `stack.sh kafka-up`: starts the broker again on the same directory and ports; resolves once it answers. */
  start(): Promise<void>;
  /** `stack.sh kafka-kill` and removes the directory. */
  cleanup(): Promise<void>;
}

/**
 * A single-node KRaft broker of its own: `scripts/stack.sh kafka-up` with a
 * temporary STACK_DIR, free KAFKA_PORT and KAFKA_CONTROLLER_PORT and a small
 * heap (128-384 MiB). Resolves once it answers metadata requests (the script
 * waits up to 90 seconds); topics are not provisioned.
 * @throws with the script's output when the broker does not come up
 */
export async function startOwnKafka(): Promise<OwnKafka> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'rt-own-kafka-'));
  const port = await freePort();
  let controllerPort = await freePort();
  while (controllerPort === port) controllerPort = await freePort();
  const env = {
    ...process.env,
    STACK_DIR: dir,
    KAFKA_PORT: String(port),
    KAFKA_CONTROLLER_PORT: String(controllerPort),
    KAFKA_HEAP_OPTS: '-Xms128m -Xmx384m',
  };
  const stack = async (command: string) => {
    try {
      await run('bash', [STACK_SH, command], { env, cwd: ROOT, maxBuffer: 10 * 1024 * 1024 });
    } catch (err) {
      const e = err as { stdout?: string; stderr?: string; message: string };
      throw new Error(`stack.sh ${command} failed: ${e.message}\n${e.stdout ?? ''}${e.stderr ?? ''}`, { cause: err });
    }
  };
  const start = () => stack('kafka-up');
  const kill = () => stack('kafka-kill');
  try {
    await start();
  } catch (err) {
    // The start failed: the kill is only a precaution, the start's error is the one to report.
    await kill().catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    port,
    brokers: [`127.0.0.1:${port}`],
    dir,
    kill,
    start,
    async cleanup() {
      // The broker may be down already; cleanup goes on to remove its files.
      await kill().catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
    },
  };
}
