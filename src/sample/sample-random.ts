/** Default seed of the sample data: the uid of the behaviour format's sample line (61024). Every generator, `npm run seed` and `npm run produce` share it. */
export const DEFAULT_SAMPLE_SEED = 61024;

/** mulberry32: tiny, fast, good enough for sample data, and identical on every platform. Returns [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
