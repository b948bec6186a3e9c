import type { PoolClient } from 'pg';
import type { DatasetContract } from '@weir/catalog';
import type { QualityGateResult } from '@weir/quality';
import { assertAccounted } from '../../domain/source';
import { LoadGateFailedError } from '../../ingestion.errors';
import type { LoadJob, LoadResult } from './load.engine';
import type { Settled } from './settle.engine';
import { PUBLISHERS } from './strategy.publishers';

/** What the audit and publish phases of a load work with (from LoadRun). */
export interface PhaseContext {
  job: LoadJob;
  client: PoolClient;
  schema: string;
  /** The stage's bare name, and quoted. */
  stage: string;
  staged: string;
  /** The target, quoted. */
  target: string;
  pk: string[];
  contract: DatasetContract;
  rowsRead: number;
  discarded: Record<string, number>;
  tStart: number;
  asService: <T>(fn: () => Promise<T>) => Promise<T>;
}

/** The quality gate on the stage: an error-severity failure stops the load, nothing published. */
export async function auditStage(ctx: PhaseContext, s: Settled): Promise<QualityGateResult> {
  const { job } = ctx;
  const quality = await job.qualityGate.check({
    dataset: job.dataset.name,
    schema: ctx.schema,
    table: ctx.stage,
    runId: job.runId,
    rows: s.staged,
  });
  if (!quality.passed) {
    const errors = quality.failures.filter((f) => f.severity === 'error');
    const links = (quality.runIds ?? []).map((id) => `/api/quality/runs/${id}`).join(', ');
    throw new LoadGateFailedError(
      `The quality gate failed, nothing was published: ${errors.map((f) => f.message).join('; ')}${links ? ` (see ${links})` : ''}`,
      { read: ctx.rowsRead, rejected: s.rejected, deduplicated: s.deduplicated },
      quality,
    );
  }
  return quality;
}

/** Publish: one transaction merges or swaps into the target (by strategy) and records the run. */
export async function publishStage(
  ctx: PhaseContext,
  owned: boolean,
  s: Settled,
  quality: QualityGateResult,
  tStreamed: number,
): Promise<LoadResult> {
  const { job, client } = ctx;
  const tSettled = Date.now();
  await client.query('BEGIN');
  try {
    await client.query(`SET LOCAL lock_timeout = '30s'`);
    const deduped = await PUBLISHERS[job.strategy.kind]({
      client,
      strategy: job.strategy,
      dataset: job.dataset,
      contract: ctx.contract,
      staged: ctx.staged,
      stage: ctx.stage,
      target: ctx.target,
      pk: ctx.pk,
      owned,
      asService: ctx.asService,
    });
    const result: LoadResult = {
      read: ctx.rowsRead,
      loaded: s.staged - deduped,
      rejected: s.rejected,
      deduplicated: s.deduplicated + deduped,
      phases: { stream: tStreamed - ctx.tStart, settle: tSettled - tStreamed, publish: Date.now() - tSettled },
      columnsDiscarded: ctx.discarded,
      watermarkAfter: s.watermarkAfter,
      quality,
    };
    assertAccounted(result);
    await ctx.asService(() => job.recordPublish(client, result));
    await client.query('COMMIT');
    return result;
  } catch (e) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw e;
  }
}
