import type { Redis } from 'ioredis';
import type { z } from 'zod';
import type { Config } from '../config/config.js';
import type { EventBus } from '../publish/event-bus.js';
import { ChangeLogStore } from '../store/change-log-store.js';
import type { Db } from '../store/prisma-client.js';
import type { JobDefinition } from './job.js';
import type { ServiceRegistry } from './service-registry.js';

/** What a module's job is built from: one of each per process. */
export interface JobDeps {
  db: Db;
  /** Serving store for hot values (absolute, idempotent writes after commit). */
  redis: Redis;
  bus: EventBus;
}

/** What a module's API services are built from: one of each per API process. */
export interface ApiDeps {
  db: Db;
  redis: Redis;
  /** The change log the API reads (subscriptions, snapshots) and status changes append to. */
  changeLog: ChangeLogStore;
}

/**
 * A change-log stream a module's jobs append to, read by every API process's
 * tailer from its start; `wakeTopic` is the bus topic on which the job's
 * workers wake the tailer after a commit.
 */
export interface ChangeStream {
  stream: string;
  wakeTopic: string;
}

/** The API side of a module: its services for its resolvers and the change-log streams it serves. */
export interface ModuleApi<S extends object = object> {
  /** Builds the module's services and adds them to `registry` under the module's key. */
  register(registry: ServiceRegistry, config: Config & S, deps: ApiDeps): void;
  /** The change-log streams whose tailers start with the API process. */
  changeStreams?(config: Config & S): ChangeStream[];
}

/** Options every sample source receives from `npm run produce`; a source uses what applies to it. */
export interface SampleOptions {
  seed: number | undefined;
  users: number | undefined;
  abnormalShare: number | undefined;
  malformedShare: number | undefined;
  /** Wall clock (epoch ms) in realtime mode, else undefined. */
  clock: (() => number) | undefined;
  /** Synthetic event time start, epoch MILLISECONDS. */
  startTimeMs: number | undefined;
  /** Synthetic event-time density, records per second of event time. */
  eventsPerSecond: number;
}

/** One generated record: its key, its value, and why it is malformed (null or absent: well-formed). */
export interface SampleRecord {
  key: string | null;
  value: string;
  malformed?: string | null;
}

/** A record kind `npm run produce -- --kind <kind>` writes: its default topic and its generator. */
export interface SampleSource<S extends object = object> {
  /** The `--kind` name, e.g. `clicks`. */
  kind: string;
  /** The topic it writes by default (from the configuration). */
  topic(config: Config & S): string;
  records(options: SampleOptions): Iterator<SampleRecord>;
  /** The generator's defaults (`startTimeMs` epoch MILLISECONDS), shown by `npm run produce`. */
  defaults: { seed: number; startTimeMs: number; malformedShare: number; users?: number; abnormalShare?: number };
}

/**
 * Everything one job is, as the engine sees it: its settings, its source
 * topics, how its job is built, its API services, GraphQL resolvers and sample
 * sources. `S` is the type of its settings. The members taking a configuration
 * are methods, so a module of any `S` is a `JobModule` of the list. The engine iterates the module list (src/jobs/index.ts)
 * and names no job itself.
 */
export interface JobModule<S extends object = object> {
  /** The job's name, as listed in `JOBS`. */
  name: string;
  /**
   * The job's own variables: a zod object with their defaults and checks,
   * validated with the engine's and merged into the one configuration object
   * (`Config & S` below).
   */
  settings: z.ZodType<S>;
  /** The topics the job reads (each gets a `<topic>.dlq`), from the configuration. */
  sourceTopics(config: Config & S): string[];
  /** Builds the job's definition for a worker. */
  createJob(config: Config & S, deps: JobDeps): JobDefinition;
  /** Its type-graphql resolver classes; the schema is the engine's resolvers plus every module's. */
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type -- type-graphql takes resolver classes as Function
  resolvers?: readonly Function[];
  /** Its services and change-log streams in API processes. */
  api?: ModuleApi<S>;
  /**
   * Its result tables read whole, in a stable order, each as one query (name ->
   * SQL): what a run with faults must reproduce exactly (tests, benchmarks).
   */
  snapshotQueries?: Readonly<Record<string, string>>;
  /**
   * Fills reference data its job reads (e.g. a copy of another system's table)
   * with the sample generators' values, for `npm run seed`. Idempotent; returns
   * one line saying what it did.
   */
  seedSample?(db: Db, options: { seed?: number; users?: number }): Promise<string>;
  /** The record kinds `npm run produce` can write for it. */
  samples?: readonly SampleSource<S>[];
}

/** The change log a job appends to, unless `CHANGE_LOG=off` (benchmark comparison only). */
export function jobChangeLog(config: Config, db: Db): ChangeLogStore | undefined {
  return config.CHANGE_LOG === 'on' ? new ChangeLogStore(db) : undefined;
}
