// THE list of job modules (one folder each under src/jobs/). The modules'
// GraphQL types are decorated classes: the metadata polyfill comes before them.
import 'reflect-metadata';
import type { JobModule } from '../engine/job-module.js';
import { abnormalOrdersModule } from './abnormal-orders/module.js';
import { adClicksModule } from './ad-clicks/module.js';
import { dailyActiveUsersModule } from './daily-active-users/module.js';
import { hotProductsModule } from './hot-products/module.js';
import { rechargeMetricsModule } from './recharge-metrics/module.js';

/**
 * THE list of job modules: the one place that names them. The engine (runner,
 * GraphQL schema and services, scripts, test helpers) iterates it; adding a job
 * is a folder under src/jobs/ and one line here. Order is the default `JOBS`
 * order and the order of `npm run produce`'s kinds.
 */
export const JOB_MODULES: readonly JobModule[] = [
  abnormalOrdersModule,
  rechargeMetricsModule,
  hotProductsModule,
  dailyActiveUsersModule,
  adClicksModule,
];
