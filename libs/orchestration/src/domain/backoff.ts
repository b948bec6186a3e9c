import type { RetryPolicy } from './pipeline';

/**
 * The delay in ms before attempt `attempt + 1`, after attempt `attempt` (1-based) failed:
 * exponential backoff with full jitter, `random() * min(maxDelayMs, baseDelayMs * 2^(attempt-1))`,
 * as a whole number of ms. Full jitter spreads retries of steps that failed together.
 */
export function backoffMs(policy: RetryPolicy, attempt: number, random: () => number = Math.random): number {
  if (!Number.isInteger(attempt) || attempt < 1)
    throw new RangeError(`attempt must be a whole number >= 1, got ${attempt}`);
  // the exponent is capped so that a huge attempt number gives the ceiling, not Infinity (or NaN with a 0 base)
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.min(attempt - 1, 52));
  const r = Math.min(Math.max(random(), 0), 1);
  return Math.min(Math.floor(r * ceiling), Math.max(ceiling - 1, 0));
}
