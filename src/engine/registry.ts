import type { Config } from '../config/config.js';
import { ConfigError } from '../errors/config-error.js';
import type { JobDefinition } from './job.js';
import type { JobDeps, JobModule } from './job-module.js';

/**
 * The jobs named in `config.JOBS`, each built by its module.
 * @throws {ConfigError} for a name no module has.
 */
export function createJobs(config: Config, deps: JobDeps, modules: readonly JobModule[]): JobDefinition[] {
  return config.JOBS.map((name) => {
    const module = modules.find((m) => m.name === name);
    if (!module) throw new ConfigError(`JOBS: unknown job "${name}" (known: ${modules.map((m) => m.name).join(', ')})`);
    return module.createJob(config, deps);
  });
}

/** Every topic the modules read, each once, in module order. */
export function sourceTopics(config: Config, modules: readonly JobModule[]): string[] {
  return [...new Set(modules.flatMap((m) => m.sourceTopics(config)))];
}
