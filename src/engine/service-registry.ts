/**
 * The typed name of one job module's API services: the module defines it next
 * to its resolvers, registers its services under it, and its resolvers read
 * them back with the type the key carries.
 */
export interface ServiceKey<T> {
  readonly name: string;
  /** Never set: carries `T` for {@link ServiceRegistry.get}. */
  readonly type?: T;
}

/** A key named `name` (the module's name) for services of type `T`. */
export function serviceKey<T>(name: string): ServiceKey<T> {
  return { name };
}

/** The job modules' API services of one process, by key. */
export class ServiceRegistry {
  readonly #services = new Map<string, unknown>();
  readonly #rebuildHooks: (() => void)[] = [];

  /**
   * Registers a module's services; `afterRebuild` runs after any job's
   * `rebuildJob` started (forget what this process keeps in memory).
   * @throws {Error} when the key is already taken (two modules of one name).
   */
  add<T>(key: ServiceKey<T>, services: T, hooks: { afterRebuild?: () => void } = {}): void {
    if (this.#services.has(key.name)) throw new Error(`services of "${key.name}" registered twice`);
    this.#services.set(key.name, services);
    if (hooks.afterRebuild) this.#rebuildHooks.push(hooks.afterRebuild);
  }

  /**
   * The services registered under `key`.
   * @throws {Error} when none are: the schema and the services come from the same module list, so this is a wiring bug.
   */
  get<T>(key: ServiceKey<T>): T {
    if (!this.#services.has(key.name)) throw new Error(`no services registered for "${key.name}"`);
    return this.#services.get(key.name) as T;
  }

  /** Runs every module's `afterRebuild` hook. */
  afterRebuild(): void {
    for (const hook of this.#rebuildHooks) hook();
  }
}
