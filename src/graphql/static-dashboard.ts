import { existsSync } from 'node:fs';
import express, { type RequestHandler } from 'express';

/** How long browsers may keep the dashboard's hashed assets without asking again, milliseconds (1 hour). */
export const DASHBOARD_ASSET_MAX_AGE_MS = 3_600_000;

/**
 * The dashboard's built files (`web/dist`) served at `/` with `index.html` as
 * the index: assets (hashed names) cached for
 * {@link DASHBOARD_ASSET_MAX_AGE_MS} milliseconds, HTML pages `no-cache` so a
 * rebuild shows at once.
 *
 * @returns the middleware, or `null` when `dir` does not exist (nothing built).
 */
export function staticDashboard(dir: string): RequestHandler | null {
  if (!existsSync(dir)) return null;
  return express.static(dir, {
    index: 'index.html',
    maxAge: DASHBOARD_ASSET_MAX_AGE_MS,
    setHeaders: (res, file) => {
      if (file.endsWith('.html')) res.setHeader('cache-control', 'no-cache');
    },
  });
}
