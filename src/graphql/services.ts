import type { Admin } from 'kafkajs';
import type { JobDefinition } from '../jobs/job.js';
import type { OffsetStore } from '../store/offset-store.js';
import type { UnpaidUserStore } from '../store/unpaid-user-store.js';
import type { ApiServices } from './context.js';

/** The services resolvers use, built once per API process. */
export function createApiServices(stores: { offsets: OffsetStore; unpaidUsers: UnpaidUserStore }, kafkaAdmin: Admin, jobs: JobDefinition[]): ApiServices {
  return {
    ...stores,
    kafkaAdmin,
    jobs: jobs.map((j) => ({ name: j.name, groupId: j.groupId, topic: j.topic })),
  };
}
