import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PostCommitQueue } from '../../src/runner/post-commit-queue.js';
import { silentLog } from '../helpers/fake-runner-ports.js';

describe('PostCommitQueue', () => {
  it('runs work in order, one at a time, and skips a failure', async () => {
    const ran: number[] = [];
    const q = new PostCommitQueue({ maxPending: 32, onBackpressure: () => undefined, log: silentLog });
    q.enqueue(async () => {
      ran.push(1);
    });
    q.enqueue(async () => {
      throw new Error('publish failed');
    });
    q.enqueue(async () => {
      ran.push(3);
    });
    await q.drain();
    assert.deepEqual(ran, [1, 3]);
    assert.equal(q.size, 0);
  });

  it('holds fetching back beyond maxPending and lets go at half of it', async () => {
    const signals: boolean[] = [];
    const q = new PostCommitQueue({ maxPending: 4, onBackpressure: (p) => signals.push(p), log: silentLog });
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    q.enqueue(() => gate);
    for (let i = 0; i < 5; i++) q.enqueue(() => Promise.resolve());
    assert.deepEqual(signals, [true], 'five waiting behind the running one is more than 4');
    assert.equal(q.isBackpressured, true);
    q.enqueue(() => Promise.resolve());
    assert.deepEqual(signals, [true], 'reported once');
    release();
    await q.drain();
    assert.deepEqual(signals, [true, false]);
    assert.equal(q.isBackpressured, false);
  });
});
