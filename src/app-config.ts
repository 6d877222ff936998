import { loadConfigWith, type Config } from './config/config.js';
import { JOB_MODULES } from './jobs/index.js';

/**
 * Reads and validates the service's configuration: the engine's variables and
 * every job module's settings (`JOBS` defaults to every module, in list order).
 * @throws {ConfigError} naming every invalid variable and why.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  return loadConfigWith(env, JOB_MODULES);
}
