import { Arg, Authorized, Ctx, Query, Resolver } from 'type-graphql';
import { READ_ROLES } from '../auth.js';
import type { GraphQLContext } from '../context.js';
import { ConsumerOffset } from '../types/consumer-offset.js';

@Resolver(() => ConsumerOffset)
export class ConsumerOffsetResolver {
  @Authorized(READ_ROLES)
  @Query(() => [ConsumerOffset], {
    description:
      "Per partition of each job's topic: committed offset, earliest, latest and lag (at most 1 s old). Without groupId: every job's group.",
  })
  async consumerOffsets(
    @Ctx() ctx: GraphQLContext,
    @Arg('groupId', () => String, { nullable: true }) groupId: string | null,
  ): Promise<ConsumerOffset[]> {
    const { offsetRows, topicBounds, jobs } = ctx.services;
    const { rows } = await offsetRows.get(groupId ?? '*');
    // Every partition of every known group's topic, stored row or not.
    const groups = new Map<string, Set<string>>();
    for (const j of jobs) if (!groupId || j.groupId === groupId) groups.set(j.groupId, new Set([j.topic]));
    for (const r of rows) {
      let topics = groups.get(r.groupId);
      if (!topics) groups.set(r.groupId, (topics = new Set()));
      topics.add(r.topic);
    }
    const topics = new Set([...groups.values()].flatMap((t) => [...t]));
    const bounds = new Map(
      await Promise.all(
        [...topics].map(
          async (t) =>
            [t, await topicBounds.get(t).catch(() => new Map<number, { earliest: bigint; latest: bigint }>())] as const,
        ),
      ),
    );
    const result: ConsumerOffset[] = [];
    for (const [group, groupTopics] of [...groups].sort(([a], [b]) => a.localeCompare(b))) {
      for (const topic of [...groupTopics].sort()) {
        const partitions = new Set<number>([...(bounds.get(topic)?.keys() ?? [])]);
        for (const r of rows) if (r.groupId === group && r.topic === topic) partitions.add(r.partition);
        for (const partition of [...partitions].sort((a, b) => a - b)) {
          const row = rows.find((r) => r.groupId === group && r.topic === topic && r.partition === partition);
          const b = bounds.get(topic)?.get(partition) ?? { earliest: 0n, latest: 0n };
          const offset = row && row.nextOffset >= 0n ? row.nextOffset : b.earliest;
          result.push(
            Object.assign(new ConsumerOffset(), {
              groupId: group,
              topic,
              partition,
              offset: Number(offset),
              earliest: Number(b.earliest),
              latest: Number(b.latest),
              lag: Math.max(0, Number(b.latest - offset)),
              watermarkMs: row?.watermarkMs ?? null,
              lostToRetention: Number(row?.lostToRetention ?? 0n),
              skippedByReset: Number(row?.skippedByReset ?? 0n),
              topicRecreatedAt: row?.topicRecreatedAt ?? null,
              lateRecords: Number(row?.lateRecords ?? 0n),
              deadLettered: Number(row?.deadLettered ?? 0n),
              eventTimeAhead: Number(row?.eventTimeAhead ?? 0n),
            }),
          );
        }
      }
    }
    return result;
  }
}
