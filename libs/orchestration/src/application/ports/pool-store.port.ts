/** Inject with `@Inject(POOL_STORE)`: pools, the named concurrency limits of steps (internal to orchestration). */
export const POOL_STORE = Symbol('POOL_STORE');

/** A pool defined with its slots. */
export interface PoolRecord {
  name: string;
  slots: number;
  description: string | null;
  updatedBy: string | null;
  createdAt: Date;
  updatedAt: Date;
}

/** Step runs of a pool running and queued now. */
export interface PoolUsage {
  running: number;
  queued: number;
}

/**
 * Pools by name (orchestration.pools). A pool not defined here has the default slots
 * (WEIR_DEFAULT_POOL_SLOTS); the run queue's lease reads the slots itself.
 */
export interface PoolStore {
  list(): Promise<PoolRecord[]>;
  find(name: string): Promise<PoolRecord | null>;
  /** Defines the pool or changes it. */
  put(
    name: string,
    pool: { slots: number; description: string | null },
    by: string | null,
  ): Promise<{ pool: PoolRecord; created: boolean }>;
  /** False when it was not defined. */
  remove(name: string): Promise<boolean>;
  /** Per pool that has step runs running or queued. */
  usage(): Promise<Map<string, PoolUsage>>;
}
