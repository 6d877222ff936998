import type { Admin } from 'kafkajs';
import type { Caller } from './auth.js';
import type { OffsetStore } from '../store/offset-store.js';
import type { UnpaidUserStore } from '../store/unpaid-user-store.js';

/** What resolvers need, shared by every request of one API process. */
export interface ApiServices {
  unpaidUsers: UnpaidUserStore;
  offsets: OffsetStore;
  kafkaAdmin: Admin;
  /** Consumer groups and topics of the configured jobs, for `consumerOffsets`. */
  jobs: Array<{ name: string; groupId: string; topic: string }>;
}

/** Per-operation context. */
export interface GraphQLContext {
  caller: Caller | null;
  services: ApiServices;
}
