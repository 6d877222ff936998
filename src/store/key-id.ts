import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';

/** The ids of the keys seen lately: the rate limiter asks for one per request, and a hash per request is measurable. */
const keyIds = new LRUCache<string, string>({ max: 1_024 });

/** Identifies an API key in logs and audit rows without revealing it: sha256 hex, 12 digits. */
export function keyId(apiKey: string): string {
  let id = keyIds.get(apiKey);
  if (id === undefined) {
    id = createHash('sha256').update(apiKey).digest('hex').slice(0, 12);
    keyIds.set(apiKey, id);
  }
  return id;
}
