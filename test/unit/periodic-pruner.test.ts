import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import pino from 'pino';
import { PeriodicPruner } from '../../src/store/periodic-pruner.js';

/** A logger that keeps its lines as objects. */
function memoryLogger(): { logger: pino.Logger; lines: { level: number; msg: string; deleted?: number }[] } {
  const lines: { level: number; msg: string; deleted?: number }[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line)) });
  return { logger, lines };
}

describe('PeriodicPruner', () => {
  it('prunes once at start and then every interval, one run at a time, and stops', async () => {
    const { logger, lines } = memoryLogger();
    let runs = 0;
    const runsSoFar = () => runs;
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const pruner = new PeriodicPruner({
      what: 'test table',
      prune: async () => {
        runs++;
        if (runs === 1) await gate;
        return runs === 1 ? 5 : 0;
      },
      intervalMs: 5,
      logger,
    });
    pruner.start();
    await new Promise((r) => setTimeout(r, 30));
    assert.equal(runsSoFar(), 1, 'ticks while the first run is in progress do not start another');
    release();
    await new Promise((r) => setTimeout(r, 30));
    assert.ok(runsSoFar() >= 2, `the timer runs it again (${runsSoFar()} runs)`);
    await pruner.stop();
    const after = runsSoFar();
    await new Promise((r) => setTimeout(r, 30));
    assert.equal(runsSoFar(), after, 'no run after stop()');
    assert.deepEqual(
      lines.filter((l) => l.msg === 'test table pruned').map((l) => l.deleted),
      [5],
      'a line only when rows were deleted',
    );
  });

  it('logs a failed run in one line and never rejects', async () => {
    const { logger, lines } = memoryLogger();
    const pruner = new PeriodicPruner({
      what: 'test table',
      prune: () => Promise.reject(new Error('database away')),
      intervalMs: 60_000,
      logger,
    });
    await pruner.pruneNow();
    assert.deepEqual(
      lines.map((l) => [l.level, l.msg]),
      [[40, 'pruning the test table failed: retrying at the next interval']],
    );
  });
});
