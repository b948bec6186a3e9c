import { Injectable } from '@nestjs/common';
import { Outbox, Queryable, RUN_EVENTS_TOPIC, RunQuality, RunStateEvent } from '@weir/platform';
import type { ExpectationResult } from '../domain/expectations';

/** A recorded run, as its events describe it. */
export interface QualityRunEventInput {
  runId: string;
  suite: string;
  /** `schema.table` of the dataset checked. */
  dataset: string;
  status: 'passed' | 'warned' | 'failed';
  startedAt: Date;
  finishedAt: Date;
  rowCount: number;
  profile: Record<string, number>;
  results: ExpectationResult[];
  /** The run that asked for it (a pipeline run): its OpenLineage parent. */
  parent?: { job: string; runId: string };
}

/** OpenLineage column metrics from the profile of a run (`null_ratio(c)`, `min(c)`, `distinct_count(c)` …). */
export function columnMetrics(profile: Record<string, number>, rows: number): NonNullable<RunQuality['columnMetrics']> {
  const out: NonNullable<RunQuality['columnMetrics']> = {};
  const names: Record<string, 'nullCount' | 'distinctCount' | 'min' | 'max' | 'sum'> = {
    null_ratio: 'nullCount',
    distinct_count: 'distinctCount',
    min: 'min',
    max: 'max',
    sum: 'sum',
  };
  for (const [metric, value] of Object.entries(profile)) {
    const m = /^(\w+)\((.+)\)$/.exec(metric);
    const key = m ? names[m[1]] : undefined;
    if (!m || !key) continue;
    (out[m[2]] ??= {})[key] = key === 'nullCount' ? Math.round(value * rows) : value;
  }
  return out;
}

/**
 * A quality run's START and its end (COMPLETE, or FAIL when an error check failed) on the outbox
 * topic RUN_EVENTS_TOPIC, in the transaction that records the run (lineage turns them into
 * OpenLineage, with the run's data-quality facets).
 */
@Injectable()
export class QualityRunEventsPublisher {
  constructor(private readonly outbox: Outbox) {}

  async publish(tx: Queryable, run: QualityRunEventInput): Promise<void> {
    const table = { name: run.dataset };
    const quality: RunQuality = {
      dataset: table,
      rowCount: run.rowCount,
      columnMetrics: columnMetrics(run.profile, run.rowCount),
      assertions: run.results.map((x) => ({
        assertion: x.expectation.type,
        success: x.success,
        ...(typeof x.expectation.kwargs['column'] === 'string'
          ? { column: x.expectation.kwargs['column'] as string }
          : {}),
        severity: x.severity === 'warn' ? ('warn' as const) : ('error' as const),
      })),
    };
    const base = {
      slice: 'quality' as const,
      job: `quality.${run.suite}`,
      jobType: 'TEST',
      runId: run.runId,
      inputs: [table],
      outputs: [],
      ...(run.parent ? { parent: run.parent } : {}),
    };
    await this.outbox.publish(
      tx,
      RUN_EVENTS_TOPIC,
      { ...base, state: 'START', at: run.startedAt.toISOString() } satisfies RunStateEvent,
      `${run.runId}:START`,
    );
    const failures = run.results.filter((x) => !x.success && x.severity === 'error').length;
    await this.outbox.publish(
      tx,
      RUN_EVENTS_TOPIC,
      {
        ...base,
        state: run.status === 'failed' ? 'FAIL' : 'COMPLETE',
        at: run.finishedAt.toISOString(),
        quality: [quality],
        ...(run.status === 'failed'
          ? {
              error: {
                code: 'QUALITY.RUN_FAILED',
                message: `${failures} error-severity expectation(s) failed on ${table.name}`,
              },
            }
          : {}),
      } satisfies RunStateEvent,
      `${run.runId}:END`,
    );
  }
}
