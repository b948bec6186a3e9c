import { ConfigError, parseRetentionDays } from '@weir/platform';
/** Lineage settings, from the environment (see README). */
export interface LineageConfig {
  /** Where Weir forwards the OpenLineage events it emits (WEIR_OPENLINEAGE_URL, e.g. `http://marquez:5000/api/v1/lineage`); unset: kept in Weir only. */
  forwardUrl?: string;
  /** Bearer token for that endpoint (WEIR_OPENLINEAGE_API_KEY). Never logged. */
  forwardApiKey?: string;
  /** Namespace of Weir's own jobs (WEIR_OPENLINEAGE_NAMESPACE, default `weir`). */
  namespace: string;
  /** Largest accepted OpenLineage event, bytes (WEIR_OPENLINEAGE_MAX_BYTES, default 32 MiB). */
  maxEventBytes: number;
  /** Days raw events are kept in lineage.events (WEIR_LINEAGE_EVENTS_RETENTION_DAYS, default 0: forever). The graph keeps what they said. */
  eventRetentionDays: number;
  /**
   * WEIR_OPENLINEAGE_STRICT=true: refuse an event whose formats do not hold or that lacks
   * schemaURL. Default false: such an event is accepted with warnings (as Marquez accepts it).
   */
  strict: boolean;
}

export const LINEAGE_CONFIG = Symbol('LINEAGE_CONFIG');

export const PRODUCER = 'https://github.com/weir-data/weir/tree/0.1.0';

export function lineageConfig(env: Record<string, string | undefined> = process.env): LineageConfig {
  const max = env['WEIR_OPENLINEAGE_MAX_BYTES'];
  if (max !== undefined && max !== '' && !/^\d+$/.test(max))
    throw new ConfigError('WEIR_OPENLINEAGE_MAX_BYTES', `must be a number of bytes (got "${max}")`);
  const url = env['WEIR_OPENLINEAGE_URL']?.trim() || undefined;
  if (url !== undefined) {
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      throw new ConfigError('WEIR_OPENLINEAGE_URL', 'must be an http(s) URL');
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:')
      throw new ConfigError('WEIR_OPENLINEAGE_URL', 'must be an http(s) URL');
  }
  return {
    forwardUrl: url,
    forwardApiKey: env['WEIR_OPENLINEAGE_API_KEY']?.trim() || undefined,
    namespace: env['WEIR_OPENLINEAGE_NAMESPACE']?.trim() || 'weir',
    maxEventBytes: max ? Number(max) : 32 * 1024 * 1024,
    eventRetentionDays: parseRetentionDays(env, 'WEIR_LINEAGE_EVENTS_RETENTION_DAYS', 0),
    strict: parseStrict(env['WEIR_OPENLINEAGE_STRICT']),
  };
}

function parseStrict(v: string | undefined): boolean {
  const t = v?.trim().toLowerCase();
  if (t === undefined || t === '' || t === 'false' || t === '0') return false;
  if (t === 'true' || t === '1') return true;
  throw new ConfigError('WEIR_OPENLINEAGE_STRICT', `must be true or false (got "${v}")`);
}
