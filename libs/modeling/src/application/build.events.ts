import { createHash } from 'node:crypto';
import type { RunStateEvent } from '@weir/platform';
import type { CompiledNode, CompiledProject } from '../domain/compile';

/** The run events of builds and their steps (OpenLineage runs: a build is the parent of its steps). */

/** Deterministic run id of a build step (RFC 9562 version 8: derived from the build id and the node id). */
export function stepRunId(buildId: string, nodeId: string): string {
  const h = createHash('sha256').update(`${buildId}/${nodeId}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-8${h.slice(13, 16)}-${((parseInt(h[16], 16) & 0x3) | 0x8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** The build's own run (the parent of its steps' runs). */
export function buildEvent(
  buildId: string,
  project: string,
  state: RunStateEvent['state'],
  extra: Partial<RunStateEvent> = {},
): RunStateEvent {
  return {
    slice: 'modeling',
    job: `build.${project}`,
    jobType: 'JOB',
    runId: buildId,
    state,
    at: new Date().toISOString(),
    inputs: [],
    outputs: [],
    ...extra,
  };
}

/**
 * The event of a step's state change (job `model.<project>.<name>`, like dbt's): its inputs are the relations it reads, its output the relation it builds, and its SQL
 * goes along so lineage can derive the column lineage. Ephemeral models build nothing: no event.
 */
export function stepEvent(
  buildId: string,
  compiled: CompiledProject,
  n: CompiledNode,
  state: RunStateEvent['state'],
  extra: Partial<RunStateEvent> = {},
): RunStateEvent | undefined {
  if (n.materialized === 'ephemeral') return undefined;
  const plain = (node: CompiledNode) => `${node.schema}.${node.table}`;
  const relationOf = (node: CompiledNode): string[] =>
    node.materialized === 'ephemeral'
      ? node.dependsOn.flatMap((d) => relationOf(compiled.nodes.get(d)!))
      : [plain(node)];
  const inputs = [...new Set(n.dependsOn.flatMap((d) => relationOf(compiled.nodes.get(d)!)))].map((name) => ({
    name,
  }));
  const event: RunStateEvent = {
    slice: 'modeling',
    job: `${n.kind}.${compiled.name}.${n.name}`,
    jobType: n.kind === 'model' ? 'MODEL' : n.kind === 'snapshot' ? 'SNAPSHOT' : 'SEED',
    runId: stepRunId(buildId, n.id),
    state,
    at: new Date().toISOString(),
    parent: { job: `build.${compiled.name}`, runId: buildId },
    inputs,
    outputs: [{ name: plain(n) }],
    ...(n.compiledSql && n.kind !== 'seed' ? { sql: n.compiledSql } : {}),
    ...extra,
  };
  return event;
}
