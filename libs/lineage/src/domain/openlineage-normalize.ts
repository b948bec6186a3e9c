import { createHash } from 'node:crypto';
import type { OpenLineageWarning } from './openlineage-validator';

/** Namespace of the UUIDs Weir derives from run ids that are not UUIDs (RFC 9562 v5; fixed forever). */
export const RUN_ID_NAMESPACE = '6f0c5b3e-4a47-4d0b-9a51-5f3c9d3b2e11';
/** Run facet keeping the ids a lenient event carried before they were mapped to UUIDs. */
export const ORIGINAL_IDS_FACET = 'weir_originalRunIds';

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** An ISO date-time without an offset: read as UTC. */
const NO_OFFSET = /^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?$/;

/** RFC 9562 UUID version 5 (SHA-1) of `name` in `namespace`. */
export function uuidV5(name: string, namespace = RUN_ID_NAMESPACE): string {
  const ns = Buffer.from(namespace.replace(/-/g, ''), 'hex');
  const h = createHash('sha1').update(ns).update(name, 'utf8').digest();
  h[6] = (h[6] & 0x0f) | 0x50;
  h[8] = (h[8] & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20, 32)}`;
}

type Json = Record<string, unknown>;
const isObj = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * Makes a leniently accepted event storable and pairable, recording each change as a warning:
 * a `run.runId` (and a parent's or root's run id) that is not a UUID becomes the UUID v5 of the
 * original — the same for START and COMPLETE, so they still pair — the originals kept in the run
 * facet `weir_originalRunIds`; an `eventTime` without an offset is read as UTC (`Z` appended).
 * Returns the event unchanged (same object) when there is nothing to do.
 */
export function normalizeOpenLineageEvent(
  event: Json,
  warnings: OpenLineageWarning[],
): { event: Json; changed: boolean } {
  const needs = warnings.some((w) => w.kind === 'format:uuid' || w.kind === 'format:date-time');
  if (!needs) return { event, changed: false };
  const e: Json = structuredClone(event);
  let changed = false;
  if (typeof e['eventTime'] === 'string' && NO_OFFSET.test(e['eventTime'])) {
    e['eventTime'] = `${e['eventTime']}Z`;
    warnings.push({
      kind: 'eventTime:utc',
      path: '/eventTime',
      message: `has no offset; read as UTC (${e['eventTime'] as string})`,
    });
    changed = true;
  }
  const originals: Json = {};
  const mapId = (holder: unknown, key: string, path: string, label: string) => {
    if (!isObj(holder) || typeof holder[key] !== 'string' || UUID_RE.test(holder[key] as string)) return;
    const original = holder[key] as string;
    holder[key] = uuidV5(original);
    originals[label] = original;
    warnings.push({
      kind: 'runId:mapped',
      path,
      message: `${JSON.stringify(original)} is not a UUID; mapped to ${holder[key] as string} (UUID v5), the original kept in run.facets.${ORIGINAL_IDS_FACET}`,
    });
    changed = true;
  };
  const run = e['run'];
  if (isObj(run)) {
    mapId(run, 'runId', '/run/runId', 'runId');
    const facets = isObj(run['facets']) ? run['facets'] : undefined;
    const parent = facets && isObj(facets['parent']) ? facets['parent'] : undefined;
    if (parent) {
      mapId(parent['run'], 'runId', '/run/facets/parent/run/runId', 'parentRunId');
      if (isObj(parent['root']))
        mapId(parent['root']['run'], 'runId', '/run/facets/parent/root/run/runId', 'rootRunId');
    }
    if (Object.keys(originals).length) {
      run['facets'] = {
        ...(facets ?? {}),
        [ORIGINAL_IDS_FACET]: {
          _producer: 'urn:weir:lineage',
          _schemaURL: 'urn:weir:facets:OriginalRunIdsRunFacet',
          ...originals,
        },
      };
    }
  }
  return { event: changed ? e : event, changed };
}
