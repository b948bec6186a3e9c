import { ConfigError } from '../config/weir-config';

/** API-key settings, from the environment (see README, Configuration). */
export interface AuthConfig {
  /**
   * Requests one API key may make per minute, in this process (WEIR_RATE_LIMIT_PER_MINUTE,
   * default 600; 0: no limit). A token bucket per key: up to this many at once, refilled evenly
   * over the minute. Each instance keeps its own buckets.
   */
  rateLimitPerMinute: number;
}

/** Reads and checks the key settings; a bad value throws {@link ConfigError} naming it. */
export function authConfig(env: Record<string, string | undefined> = process.env): AuthConfig {
  const raw = env['WEIR_RATE_LIMIT_PER_MINUTE']?.trim();
  if (raw === undefined || raw === '') return { rateLimitPerMinute: 600 };
  if (!/^\d+$/.test(raw) || Number(raw) > 1_000_000)
    throw new ConfigError(
      'WEIR_RATE_LIMIT_PER_MINUTE',
      `must be a whole number of requests per minute, 0 for no limit (got "${raw}")`,
    );
  return { rateLimitPerMinute: Number(raw) };
}
