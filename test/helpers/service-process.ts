import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { KAFKA_BROKERS, REDIS_URL } from './services.js';

/** API keys every test process accepts. */
export const TEST_KEYS = { viewer: 'test-viewer-key', crm: 'test-crm-key', ops: 'test-ops-key' } as const;
export const TEST_API_KEYS = Object.entries(TEST_KEYS)
  .map(([role, key]) => `${role}:${key}`)
  .join(',');

const MAIN = path.resolve(import.meta.dirname, '../../src/main.js');

/** A service started as a child process, the way `npm start` runs it. */
export interface ServiceProcess {
  child: ChildProcess;
  /** GraphQL port (0 when the process has no `api` role). */
  port: number;
  url: string;
  /** Log lines seen so far (parsed JSON). */
  logs: Record<string, unknown>[];
  /** Resolves with the exit code (null when killed by a signal). */
  exited: Promise<number | null>;
  kill(signal?: NodeJS.Signals): Promise<number | null>;
}

/**
 * Starts `node dist/src/main.js` with the given environment (on top of the
 * test services' addresses, PORT=0 and the test keys) and waits for its
 * "service ready" log line.
 */
export async function startServiceProcess(
  env: Record<string, string>,
  readyTimeoutMs = 60_000,
): Promise<ServiceProcess> {
  const child = spawn(process.execPath, [MAIN], {
    env: {
      ...process.env,
      KAFKA_BROKERS: KAFKA_BROKERS.join(','),
      REDIS_URL,
      PORT: '0',
      API_KEYS: TEST_API_KEYS,
      LOG_LEVEL: 'info',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: Record<string, unknown>[] = [];
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const ready = new Promise<Record<string, unknown>>((resolve, reject) => {
    createInterface({ input: child.stdout }).on('line', (line) => {
      let entry: Record<string, unknown>;
      try {
        entry = JSON.parse(line);
      } catch {
        return;
      }
      logs.push(entry);
      if (process.env.TEST_SERVICE_LOGS) process.stderr.write(`[svc ${child.pid}] ${line}\n`);
      if (entry.msg === 'service ready') resolve(entry);
    });
    void exited.then((code) => reject(new Error(`service exited with ${code} before it was ready: ${stderr.trim()}`)));
    setTimeout(
      () => reject(new Error(`service not ready after ${readyTimeoutMs} ms: ${stderr.trim()}`)),
      readyTimeoutMs,
    ).unref();
  });
  const entry = await ready;
  const port = Number(entry.port ?? 0);
  return {
    child,
    port,
    url: `http://127.0.0.1:${port}/graphql`,
    logs,
    exited,
    async kill(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}
