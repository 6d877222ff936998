import { Router } from 'express';
import type { Metrics } from '../observability/metrics.js';

/** A readiness probe: resolves with details, throws when not ready. */
export type ReadinessCheck = () => Promise<Record<string, unknown>>;

/**
 * The probes and the scrape: `GET /healthz` 200 `{"status":"ok"}` while the
 * process lives; `GET /readyz` 200 `{"status":"ready","checks":...}` when
 * `readiness` resolves, 503 `{"status":"not ready","error":...}` when it
 * throws; `GET /metrics` the Prometheus text of `metrics`.
 */
export function healthRoutes(readiness: ReadinessCheck, metrics: Metrics): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/readyz', async (_req, res) => {
    try {
      res.json({ status: 'ready', checks: await readiness() });
    } catch (err) {
      res.status(503).json({ status: 'not ready', error: (err as Error).message });
    }
  });
  router.get('/metrics', async (_req, res) => {
    res.setHeader('content-type', metrics.registry.contentType);
    res.send(await metrics.registry.metrics());
  });
  return router;
}
