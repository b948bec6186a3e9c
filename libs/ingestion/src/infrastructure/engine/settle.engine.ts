import type { PoolClient } from 'pg';
import { quoteIdent } from '@weir/platform';
import type { DatasetContract } from '@weir/catalog';
import { formatQueryWatermark, parseQueryWatermark, QueryCheckpoint } from '../../domain/connector';
import { NothingToPublishError, TooManyRejectedError } from '../../ingestion.errors';
import type { LoadJob } from './load.engine';
import { applyWatermark, dedupeKeepLast, greatest, rejectDuplicatesInBatch, rejectExistingKeys } from './settle.sql';

/** What the settle phase works on. */
export interface SettleContext {
  client: PoolClient;
  job: LoadJob;
  contract: DatasetContract;
  staged: string;
  target: string;
  pk: string[];
  rowsRead: number;
  /** Rows COPYed into the stage, and rows dead-lettered while streaming. */
  copied: number;
  rejected: number;
  /** The stage already has its primary key (it was built while streaming, and no key came twice). */
  keyed?: boolean;
  asService: <T>(fn: () => Promise<T>) => Promise<T>;
}

/** What the settle phase leaves: the counts so far and the new watermark. */
export interface Settled {
  staged: number;
  rejected: number;
  deduplicated: number;
  watermarkAfter: string | null;
}

/**
 * Settles duplicates and the watermark in SQL, on the stage. Cheap paths first: the primary key
 * build (replace) and the upsert (merge) detect duplicates themselves, and only then is the
 * costlier window query run. Then the limits: too many rejected, or nothing left to replace with.
 */
export async function settle(ctx: SettleContext): Promise<Settled> {
  const { job, client, staged, pk, rowsRead, asService } = ctx;
  const strategy = job.strategy.kind;
  const keyList = pk.map((c) => quoteIdent(c)).join(', ');
  const s: Settled = { staged: ctx.copied, rejected: ctx.rejected, deduplicated: 0, watermarkAfter: job.watermark };
  if (strategy === 'incremental' && !job.pushdown) {
    const skipped = await applyWatermark(client, job.strategy, job.watermark, ctx.contract, staged);
    s.deduplicated += skipped;
    s.staged -= skipped;
  }
  if (pk.length > 0 && strategy === 'append') {
    const dups = await asService(() => rejectDuplicatesInBatch(client, job.runId, staged, pk, true));
    const existing = await asService(() => rejectExistingKeys(client, job.runId, staged, ctx.target, pk));
    s.rejected += dups + existing;
    s.staged -= dups + existing;
  }
  if (strategy === 'replace' && pk.length > 0 && !ctx.keyed) {
    try {
      await client.query(`ALTER TABLE ${staged} ADD PRIMARY KEY (${keyList})`);
    } catch (e) {
      if ((e as { code?: string }).code !== '23505') throw e;
      const dups = await asService(() => rejectDuplicatesInBatch(client, job.runId, staged, pk, false));
      s.rejected += dups;
      s.staged -= dups;
      await client.query(`ALTER TABLE ${staged} ADD PRIMARY KEY (${keyList})`);
    }
  }
  const counts = { read: rowsRead, rejected: s.rejected, deduplicated: s.deduplicated };
  if (rowsRead > 0 && s.rejected / rowsRead > job.maxRejectedRatio) {
    throw new TooManyRejectedError(
      `${s.rejected} of ${rowsRead} records rejected (${((100 * s.rejected) / rowsRead).toFixed(2)}%), above the source's maxRejectedRatio ${job.maxRejectedRatio}; nothing was published`,
      counts,
    );
  }
  if (strategy === 'replace' && s.staged === 0) {
    throw new NothingToPublishError(
      `No record of ${rowsRead} passed; a replace would empty the table, so nothing was published`,
      counts,
    );
  }
  if (job.checkpoint) s.watermarkAfter = job.checkpoint() ?? job.watermark;
  else if (strategy === 'incremental' && job.strategy.cursor)
    s.watermarkAfter = await watermarkAfter(ctx, job.strategy.cursor);
  await settleKeysBeforeGate(ctx, s, keyList);
  return s;
}

/** The new watermark: the largest cursor value staged, never below the current one. */
async function watermarkAfter(ctx: SettleContext, cursor: string): Promise<string | null> {
  const { job, client } = ctx;
  if (job.pushdown?.tieBreaker) return checkpointAfter(ctx, cursor, job.pushdown.tieBreaker);
  const m = (await client.query(`SELECT max(${quoteIdent(cursor)})::text AS m FROM ${ctx.staged}`)).rows[0].m as
    string | null;
  if (m === null) return job.watermark;
  return job.watermark === null ? m : greatest(client, ctx.contract, cursor, job.watermark, m);
}

/**
 * A query source with a tie-breaker: the last (cursor, tie-breaker) staged, never before the
 * current checkpoint; stored as `{"cursor", "tieBreaker"}`.
 */
async function checkpointAfter(ctx: SettleContext, cursor: string, tie: string): Promise<string | null> {
  const { job, client } = ctx;
  const current = parseQueryWatermark(job.watermark);
  const c = quoteIdent(cursor);
  const t = quoteIdent(tie);
  const last = (
    await client.query(
      `SELECT ${c}::text AS c, ${t}::text AS t FROM ${ctx.staged} WHERE ${c} IS NOT NULL ORDER BY ${c} DESC, ${t} DESC NULLS LAST LIMIT 1`,
    )
  ).rows[0] as { c: string; t: string | null } | undefined;
  if (!last) return job.watermark;
  const next: QueryCheckpoint = last.t === null ? { cursor: last.c } : { cursor: last.c, tieBreaker: last.t };
  if (current) {
    // the later of the two, compared as the columns' types
    const g = await greatest(client, ctx.contract, cursor, current.cursor, next.cursor);
    if (g !== next.cursor) return job.watermark;
    if (current.cursor === next.cursor && current.tieBreaker !== undefined && next.tieBreaker !== undefined) {
      const gt = await greatest(client, ctx.contract, tie, current.tieBreaker, next.tieBreaker);
      if (gt !== next.tieBreaker) return job.watermark;
    }
  }
  return formatQueryWatermark(next);
}

/**
 * merge / incremental settle a key's duplicates at publish time (the fast path finds none);
 * when there are checks to run, settle them first, so the gate sees what would be published.
 */
async function settleKeysBeforeGate(ctx: SettleContext, s: Settled, keyList: string): Promise<void> {
  const { job, client, staged, pk } = ctx;
  const strategy = job.strategy.kind;
  if ((strategy !== 'merge' && strategy !== 'incremental') || pk.length === 0 || s.staged === 0) return;
  if (!(await (job.qualityGate.hasChecks?.(job.dataset.name) ?? true))) return;
  // the window query only when a key repeats (the common input has none)
  const repeats = (await client.query(`SELECT 1 FROM ${staged} GROUP BY ${keyList} HAVING count(*) > 1 LIMIT 1`))
    .rowCount;
  const d = repeats ? await ctx.asService(() => dedupeKeepLast(client, job.strategy.orderBy, staged, pk)) : 0;
  s.deduplicated += d;
  s.staged -= d;
}
