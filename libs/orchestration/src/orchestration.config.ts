import { parsePositive } from '@weir/platform';

/** Orchestration settings, from the environment (see README). */
export interface OrchestrationConfig {
  /** A leased step whose worker has not renewed its lease for this long is taken back (WEIR_STEP_LEASE_SECONDS, default 60). */
  leaseMs: number;
  /** How often idle workers look for ready steps (WEIR_STEP_POLL_MS, default 500). */
  pollMs: number;
  /**
   * Steps one worker process runs at once, `wait_for` and `pipeline` steps apart (WEIR_STEP_SLOTS,
   * default 4, at most 64). A `sql` step holds one connection of the warehouse pool (10) while it
   * runs, and every slot's lease and plan use the control-plane pool (10): more slots than that
   * only wait for connections.
   */
  stepSlots: number;
  /** How often schedulers look for due ticks (WEIR_SCHEDULER_TICK_MS, default 1000). */
  tickMs: number;
  /** Slots of a pool not defined with `PUT /api/orchestration/pools/:name` (WEIR_DEFAULT_POOL_SLOTS, default 16). */
  defaultPoolSlots: number;
  /** Attempts to post an alert delivery before it is failed (WEIR_ALERT_MAX_ATTEMPTS, default 5). */
  alertMaxAttempts: number;
  /** First retry of a delivery after about this long, doubling, at most 5 minutes (WEIR_ALERT_RETRY_BASE_MS, default 1000). */
  alertRetryBaseMs: number;
  /** One post to a destination may take this long (WEIR_ALERT_TIMEOUT_MS, default 10000). */
  alertTimeoutMs: number;
}

export const ORCHESTRATION_CONFIG = Symbol('ORCHESTRATION_CONFIG');

/** Reads and checks the orchestration slice's variables; a bad value throws `ConfigError` naming it. */
export function orchestrationConfig(env: Record<string, string | undefined>): OrchestrationConfig {
  return {
    leaseMs: parsePositive(env, 'WEIR_STEP_LEASE_SECONDS', 60, 'seconds') * 1000,
    pollMs: parsePositive(env, 'WEIR_STEP_POLL_MS', 500, 'milliseconds'),
    stepSlots: Math.min(parsePositive(env, 'WEIR_STEP_SLOTS', 4, 'slots'), 64),
    tickMs: parsePositive(env, 'WEIR_SCHEDULER_TICK_MS', 1000, 'milliseconds'),
    defaultPoolSlots: parsePositive(env, 'WEIR_DEFAULT_POOL_SLOTS', 16, 'slots'),
    alertMaxAttempts: Math.min(parsePositive(env, 'WEIR_ALERT_MAX_ATTEMPTS', 5, 'attempts'), 20),
    alertRetryBaseMs: parsePositive(env, 'WEIR_ALERT_RETRY_BASE_MS', 1000, 'milliseconds'),
    alertTimeoutMs: parsePositive(env, 'WEIR_ALERT_TIMEOUT_MS', 10_000, 'milliseconds'),
  };
}
