// Open-loop HTTP load at a constant arrival rate, for latency at a FIXED offered rate.
//
// autocannon's rate mode lets each connection send its whole per-second budget back
// to back at the start of every second and then idle: at 1,000 requests/s over 20
// connections that is 1,000 requests within the first few milliseconds of each
// second, and the p99 measures the queue of that burst rather than the server. A
// fixed offered rate means arrivals spaced 1/rate apart (the model of wrk2 and of
// every latency SLO), so this sends request i at start + i/rate whatever happened
// to the requests before it (open loop), and measures each latency from that
// scheduled instant: a request delayed because every connection was busy counts
// its wait, which corrects coordinated omission.
//
// The HTTP client is undici's Pool (keep-alive connections, no pipelining).
import { performance } from 'node:perf_hooks';
import { Pool } from 'undici';

/** What one paced run is asked to do. */
export interface PacedLoadOptions {
  /** Origin of the server, e.g. `http://127.0.0.1:4000`. */
  origin: string;
  /** Request path, e.g. `/graphql`. */
  path: string;
  headers: Record<string, string>;
  /** Request bodies, sent in turn (request i sends `bodies[i % bodies.length]`). */
  bodies: string[];
  /** Arrivals per second, spaced evenly. */
  rate: number;
  /** Length of the load, seconds. */
  durationSec: number;
  /** Keep-alive connections of the pool (a request waits for a free one). */
  connections: number;
  /** A response slower than this counts as an error and its latency as this, milliseconds. */
  timeoutMs: number;
  /**
   * Why a response is not a success, or null when it is. Called with the status
   * and the whole body as text.
   */
  check(status: number, text: string): string | null;
}

/** What a paced run saw. Latencies in milliseconds, from the scheduled send to the last byte. */
export interface PacedLoadResult {
  /** Requests scheduled (rate x duration). */
  sent: number;
  /** Responses received, successful or not. */
  responses: number;
  /** From the first scheduled send to the last response, milliseconds. */
  ms: number;
  /** Every response's latency, sorted ascending, milliseconds. */
  latencies: Float64Array;
  /** Responses that failed `check`, transport errors and timeouts. */
  errors: number;
  firstError: string | null;
  /** Largest lag of the scheduler behind an arrival it sent, milliseconds (the load generator's own delay). */
  maxSendLagMs: number;
}

/** Handle of a run in progress, to stop it from a cleanup hook. */
export interface PacedLoad {
  done: Promise<PacedLoadResult>;
  /** Stops scheduling; requests in flight still finish. */
  stop(): void;
}

/**
 * Starts `rate` x `durationSec` requests at evenly spaced arrivals (open loop).
 * The promise resolves when every scheduled request has answered or failed; it
 * never rejects for a failed request (those are counted in `errors`).
 *
 * @throws RangeError when `rate`, `durationSec` or `connections` is not positive.
 */
export function startPacedLoad(opts: PacedLoadOptions): PacedLoad {
  if (!(opts.rate > 0) || !(opts.durationSec > 0) || !(opts.connections >= 1))
    throw new RangeError(
      `paced load: rate ${opts.rate}/s, duration ${opts.durationSec} s and connections ${opts.connections} must be positive`,
    );
  const pool = new Pool(opts.origin, { connections: opts.connections, pipelining: 1 });
  const total = Math.round(opts.rate * opts.durationSec);
  const intervalMs = 1000 / opts.rate;
  const latencies = new Float64Array(total);
  let responses = 0;
  let errors = 0;
  let firstError: string | null = null;
  let maxSendLagMs = 0;
  let scheduled = 0;
  let stopped = false;
  let finishedAt = 0;
  const started = performance.now();

  let settle!: () => void;
  const allAnswered = new Promise<void>((resolve) => (settle = resolve));
  const fail = (why: string) => {
    errors++;
    firstError ??= why;
  };
  const answered = (latencyMs: number) => {
    latencies[responses++] = latencyMs;
    finishedAt = performance.now();
    if (responses === scheduled && (stopped || scheduled === total)) settle();
  };

  const send = (i: number, due: number) => {
    const body = opts.bodies[i % opts.bodies.length];
    pool
      .request({
        path: opts.path,
        method: 'POST',
        headers: opts.headers,
        body,
        headersTimeout: opts.timeoutMs,
        bodyTimeout: opts.timeoutMs,
      })
      .then(async (res) => {
        const text = await res.body.text();
        const problem = opts.check(res.statusCode, text);
        if (problem) fail(problem);
        answered(performance.now() - due);
      })
      .catch((err: unknown) => {
        fail(`request failed: ${err instanceof Error ? err.message : String(err)}`);
        answered(Math.max(performance.now() - due, opts.timeoutMs));
      });
  };

  // A 1 ms timer is the finest Node offers: each tick sends every arrival now due,
  // stamped with its own scheduled instant, so a late tick delays sending but not
  // the clock the latency is measured from.
  const tick = () => {
    const now = performance.now();
    while (!stopped && scheduled < total) {
      const due = started + scheduled * intervalMs;
      if (due > now) break;
      maxSendLagMs = Math.max(maxSendLagMs, now - due);
      send(scheduled++, due);
    }
    if (stopped || scheduled === total) {
      if (responses === scheduled) settle();
      return;
    }
    setTimeout(tick, Math.max(0, started + scheduled * intervalMs - performance.now()));
  };
  tick();

  const done = allAnswered.then(async () => {
    await pool.close();
    const sorted = latencies.subarray(0, responses).sort();
    return {
      sent: scheduled,
      responses,
      ms: (finishedAt || performance.now()) - started,
      latencies: sorted,
      errors,
      firstError,
      maxSendLagMs,
    };
  });
  return {
    done,
    stop: () => {
      stopped = true;
      if (responses === scheduled) settle();
    },
  };
}

/** The `p` quantile (0 < p <= 1) of ascending `sorted` by the nearest-rank method; 0 when empty. */
export function quantile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))];
}
