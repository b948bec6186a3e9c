import { ConfigError } from '@weir/platform';

/** Orchestration settings, from the environment (see README). */
export interface OrchestrationConfig {
  /** A leased step whose worker has not renewed its lease for this long is taken back (WEIR_STEP_LEASE_SECONDS, default 60). */
  leaseMs: number;
  /** How often idle workers look for ready steps (WEIR_STEP_POLL_MS, default 500). */
  pollMs: number;
  /** How often schedulers look for due ticks (WEIR_SCHEDULER_TICK_MS, default 1000). */
  tickMs: number;
}

export const ORCHESTRATION_CONFIG = Symbol('ORCHESTRATION_CONFIG');

/** Reads and checks the orchestration slice's variables; a bad value throws {@link ConfigError} naming it. */
export function orchestrationConfig(env: Record<string, string | undefined>): OrchestrationConfig {
  const positive = (k: string, d: number) => {
    const v = env[k]?.trim();
    if (v === undefined || v === '') return d;
    if (!/^\d+$/.test(v) || Number(v) <= 0) throw new ConfigError(k, `must be a positive whole number (got "${v}")`);
    return Number(v);
  };
  return {
    leaseMs: positive('WEIR_STEP_LEASE_SECONDS', 60) * 1000,
    pollMs: positive('WEIR_STEP_POLL_MS', 500),
    tickMs: positive('WEIR_SCHEDULER_TICK_MS', 1000),
  };
}
