import type { Redis } from 'ioredis';
import type { Admin } from 'kafkajs';
import type { Config } from '../config/config.js';
import type { JobDefinition } from '../jobs/job.js';
import { OffsetStore } from '../store/offset-store.js';
import type { Db } from '../store/prisma-client.js';
import { UnpaidUserStore } from '../store/unpaid-user-store.js';
import type { ApiServices } from './context.js';

/** The services resolvers use, built once per API process. */
export function createApiServices(config: Config, deps: { db: Db; redis: Redis; kafkaAdmin: Admin; jobs: JobDefinition[] }): ApiServices {
  return {
    unpaidUsers: new UnpaidUserStore(deps.db),
    offsets: new OffsetStore(deps.db),
    kafkaAdmin: deps.kafkaAdmin,
    jobs: deps.jobs.map((j) => ({ name: j.name, groupId: j.groupId, topic: j.topic })),
  };
}
