import type { ChangeRow } from '../store/change-log-store.js';

/**
 * Takes up to `limit` changes from per-partition runs in commit order: a
 * k-way merge that always takes the head of a partition's run, the one
 * committed first (ties: the lower partition). Whatever the timestamps say,
 * each partition gives a PREFIX of its run, in position order, so a cursor
 * advanced over the taken changes skips none and repeats none.
 * @param rows changes of several partitions, each partition's in position order (other partitions' may be interleaved).
 * @returns the changes taken, in order, and whether any was left.
 */
export function mergeInCommitOrder(rows: readonly ChangeRow[], limit: number): { taken: ChangeRow[]; more: boolean } {
  const runs = new Map<number, ChangeRow[]>();
  for (const r of rows) {
    const run = runs.get(r.partition);
    if (run) run.push(r);
    else runs.set(r.partition, [r]);
  }
  const heads = new Map([...runs.keys()].map((p) => [p, 0]));
  const taken: ChangeRow[] = [];
  while (taken.length < limit) {
    let best: ChangeRow | null = null;
    for (const [p, i] of heads) {
      const run = runs.get(p) ?? [];
      const head = run[i] as ChangeRow | undefined;
      if (!head) continue;
      if (
        best === null ||
        head.committedAtMs < best.committedAtMs ||
        (head.committedAtMs === best.committedAtMs && head.partition < best.partition)
      )
        best = head;
    }
    if (best === null) break;
    taken.push(best);
    heads.set(best.partition, (heads.get(best.partition) ?? 0) + 1);
  }
  return { taken, more: taken.length < rows.length };
}
